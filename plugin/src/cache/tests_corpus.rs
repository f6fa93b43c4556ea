//! LOADER THREADS (tests): the cache's figures on real audio: encode speed
//! and size against raw for both FLAC efforts, on corpus stems decoded with
//! plain symphonia.

use std::path::{Path, PathBuf};
use std::time::Instant;

use std::fs;

use super::tests::{assert_bits_equal, key, material, open, CHUNK, EXACT16};
use super::*;

/// Decodes up to `max_frames` of a corpus file with plain symphonia.
fn decode_corpus(path: &Path, max_frames: usize) -> Option<(u8, Option<u32>, Vec<f32>)> {
    use symphonia::core::formats::TrackType;
    let file = fs::File::open(path).ok()?;
    let mss = symphonia::core::io::MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = symphonia::core::formats::probe::Hint::new();
    hint.with_extension(path.extension()?.to_str()?);
    let mut reader = symphonia::default::get_probe()
        .probe(&hint, mss, Default::default(), Default::default())
        .ok()?;
    let params = reader
        .default_track(TrackType::Audio)?
        .codec_params
        .as_ref()?
        .audio()?
        .clone();
    let channels = params.channels.as_ref()?.count() as u8;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &Default::default())
        .ok()?;
    let mut samples = Vec::new();
    let mut packet_samples = Vec::new();
    while samples.len() < max_frames * usize::from(channels) {
        let Ok(Some(packet)) = reader.next_packet() else {
            break;
        };
        let buf = decoder.decode(&packet).ok()?;
        buf.copy_to_vec_interleaved::<f32>(&mut packet_samples);
        samples.extend_from_slice(&packet_samples);
    }
    samples.truncate(max_frames * usize::from(channels));
    Some((channels, params.bits_per_sample, samples))
}

/// Figures, not assertions on time: encode speed (× real time at 48 kHz,
/// one core) and size against raw for both efforts on corpus stems. Run
/// with `--nocapture` to see them. Skipped without the corpus.
#[test]
fn corpus_figures() {
    let corpus = std::env::var_os("TRAX_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"));
    let stems = [
        "songs/02_bach_bwv190_7/08_violin_1_strings.flac",
        "songs/04_frozen_bubble_30stems/23_mix_reference.flac",
        "songs/01_singularity_awakening/01_sub_mono.flac",
        "songs/05_planetblupi_music003_96k/05_drums_snare.flac",
        "songs/06_planetblupi_music001_lossy/01_melody_1_piano.mp3",
    ];
    let (_dir, store) = open();
    // The cost of fsync (StoreOptions::sync_writes) per chunk file here.
    for sync_writes in [false, true] {
        let options = StoreOptions {
            sync_writes,
            ..StoreOptions::default()
        };
        let store = ChunkStore::open_with(store.dir(), options).expect("open");
        let entry = store.entry(&key("sync", 2, EXACT16)).expect("entry");
        let samples = material(CHUNK, 2, Some(16));
        let start = Instant::now();
        for i in 0..10 {
            entry.write_chunk(i, &samples).expect("write");
        }
        let ms = start.elapsed().as_secs_f64() * 100.0;
        println!("write of a 16384-frame stereo chunk, sync_writes {sync_writes}: {ms:.2} ms");
    }
    let seconds = 10;
    for stem in stems {
        let path = corpus.join(stem);
        let Some((channels, bits, samples)) = decode_corpus(&path, 48_000 * seconds) else {
            println!("corpus figures: {} not found, skipped", path.display());
            continue;
        };
        // Chunked as the loader will (rates do not matter at this layer).
        let origin = SampleOrigin::of_source(bits, false);
        let mut samples = samples;
        if origin == SampleOrigin::Other {
            samples::round_to_grid(&mut samples);
        }
        for effort in [FlacEffort::Fast, FlacEffort::Default] {
            let options = StoreOptions {
                flac_effort: effort,
                ..StoreOptions::default()
            };
            let store = ChunkStore::open_with(store.dir(), options).expect("open");
            let entry = store.entry(&key(stem, channels, origin)).expect("entry");
            let mut bytes = 0;
            let start = Instant::now();
            let chunks: Vec<&[f32]> = samples
                .chunks(CHUNK as usize * usize::from(channels))
                .collect();
            for (i, c) in chunks.iter().enumerate() {
                bytes += entry.write_chunk(i as u32, c).expect("write").bytes_on_disk;
            }
            let write_secs = start.elapsed().as_secs_f64();
            let start = Instant::now();
            let mut out = Vec::new();
            for (i, c) in chunks.iter().enumerate() {
                let frames = (c.len() / usize::from(channels)) as u32;
                entry.read_chunk(i as u32, frames, &mut out).expect("read");
                if bits.is_some_and(|b| b <= 24) {
                    assert_bits_equal(&out, c, stem);
                }
            }
            let read_secs = start.elapsed().as_secs_f64();
            let frames = samples.len() / usize::from(channels);
            let audio_secs = frames as f64 / 48_000.0;
            let stored_bits = if bits.is_some_and(|b| b <= 24) {
                bits.unwrap_or(24)
            } else {
                24
            };
            let raw = samples.len() as f64 * f64::from(stored_bits) / 8.0;
            if stored_bits == 16 {
                assert!(
                    bytes as f64 / raw < 0.9,
                    "{stem}: FLAC barely smaller than raw"
                );
            }
            println!(
                "{stem} ({channels} ch, {stored_bits}-bit, {effort:?}): {:.3} of raw, {:.3} of f32; \
                 write {:.0}× real time, read {:.0}×",
                bytes as f64 / raw,
                bytes as f64 / (samples.len() * 4) as f64,
                audio_secs / write_secs,
                audio_secs / read_secs,
            );
        }
    }
}
