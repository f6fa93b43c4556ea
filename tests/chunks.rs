//! A chunk decoded on its own equals that span of a full decode: bit-exact
//! without resampling, within -90 dBFS with it (44.1 kHz and 96 kHz stems in
//! a 48 kHz engine). Real corpus files of every codec in it.

use crate::common;

use common::*;
use trax::bridge::CHUNK_FRAMES;
use trax::loader::cursor::StemCursor;
use trax::loader::SourceReader;

const ENGINE_HZ: u32 = 48_000;

/// Chunks to check in a stem of `chunks` chunks: first, second, a middle
/// one, the last (partial) one.
fn chunk_picks(chunks: u64) -> Vec<u64> {
    let mut v = vec![0, 1, chunks / 2, chunks.saturating_sub(1)];
    v.sort();
    v.dedup();
    v.retain(|&c| c < chunks);
    v
}

fn decode_chunk(path: &std::path::Path, chunk: u64) -> Vec<f32> {
    // A fresh cursor per chunk: "decoded alone".
    let mut c = StemCursor::new(SourceReader::open(path).unwrap(), ENGINE_HZ).unwrap();
    c.seek(chunk * CHUNK_FRAMES as u64).unwrap();
    let mut out = Vec::new();
    while out.len() < CHUNK_FRAMES as usize * c.channels() {
        let want = CHUNK_FRAMES as usize - out.len() / c.channels();
        if c.read(&mut out, want).unwrap() == 0 {
            break;
        }
    }
    out
}

fn check_stem(path: &std::path::Path) -> (bool, f32) {
    let reader = SourceReader::open(path).unwrap();
    let info = reader.info().clone();
    let resampled = info.sample_rate_hz != ENGINE_HZ;
    // The reference: a continuous decode. Without resampling it is plain
    // symphonia, independent of Trax; with resampling it is Trax's own
    // pipeline run from frame 0 without a seek.
    let (channels, full) = if resampled {
        cursor_full_decode(path, ENGINE_HZ)
    } else {
        let (ch, _, mut s) = symphonia_full_decode(path);
        assert!(
            ch <= 2,
            "{}: corpus stems are mono or stereo",
            path.display()
        );
        // Lossy and float stems play rounded to the cache's grid (2^-22).
        if info.sample_origin(ENGINE_HZ) == trax::cache::SampleOrigin::Other {
            trax::cache::samples::round_to_grid(&mut s);
        }
        (ch, s)
    };
    if resampled {
        // The continuous pipeline itself must equal an independent
        // resampling of plain symphonia's decode (rubato run over the whole
        // stem from frame 0, filter delay removed).
        let independent = rubato_whole(path, ENGINE_HZ);
        assert_eq!(
            independent.len(),
            full.len(),
            "{}: resampled length",
            path.display()
        );
        let err = max_abs_diff(&independent, &full);
        assert!(
            err <= MINUS_90_DBFS,
            "{}: continuous decode differs by {err:e}",
            path.display()
        );
    }
    let frames = (full.len() / channels) as u64;
    let expected_len =
        trax::loader::cursor::engine_length_frames(info.frames, info.sample_rate_hz, ENGINE_HZ);
    assert_eq!(frames, expected_len, "{}: decoded length", path.display());
    let chunks = frames.div_ceil(CHUNK_FRAMES as u64);
    let mut worst = 0.0f32;
    for chunk in chunk_picks(chunks) {
        let got = decode_chunk(path, chunk);
        let start = (chunk * CHUNK_FRAMES as u64) as usize * channels;
        let end = (start + CHUNK_FRAMES as usize * channels).min(full.len());
        let want = &full[start..end];
        assert_eq!(
            got.len(),
            want.len(),
            "{} chunk {chunk}: length",
            path.display()
        );
        if resampled {
            let err = max_abs_diff(&got, want);
            worst = worst.max(err);
            assert!(
                err <= MINUS_90_DBFS,
                "{} chunk {chunk}: error {err:e} above -90 dBFS",
                path.display()
            );
        } else {
            let first_diff = got
                .iter()
                .zip(want)
                .position(|(a, b)| a.to_bits() != b.to_bits());
            assert_eq!(
                first_diff,
                None,
                "{} chunk {chunk}: not bit-exact",
                path.display()
            );
        }
    }
    (resampled, worst)
}

/// Plain symphonia decode of `path`, resampled whole by rubato's `Fft`
/// (both sides fixed, one FFT per block, as the cursor builds it) from
/// frame 0, through planar buffers: the reference for resampled stems.
fn rubato_whole(path: &std::path::Path, engine_hz: u32) -> Vec<f32> {
    use rubato::audioadapter_buffers::direct::SequentialSliceOfVecs;
    use rubato::{Fft, FixedSync, Resampler, WindowFunction};
    let (ch, rate, samples) = symphonia_full_decode(path);
    let info = SourceReader::open(path).unwrap().info().clone();
    let out_len = trax::loader::cursor::engine_length_frames(info.frames, rate, engine_hz) as usize;
    let block = trax::loader::cursor::resampler_block_frames(rate, engine_hz);
    let mut r = Fft::<f32>::new_custom(
        rate as usize,
        engine_hz as usize,
        block,
        1,
        ch,
        WindowFunction::BlackmanHarris2,
        FixedSync::Both,
    )
    .unwrap();
    let (bi, bo, delay) = (
        r.input_frames_next(),
        r.output_frames_next(),
        r.output_delay(),
    );
    let frames = samples.len() / ch;
    let mut out = vec![Vec::new(); ch];
    let mut at = 0;
    let mut block_out = vec![vec![0.0f32; bo]; ch];
    while out[0].len() < out_len + delay {
        let block_in: Vec<Vec<f32>> = (0..ch)
            .map(|c| {
                (at..at + bi)
                    .map(|f| if f < frames { samples[f * ch + c] } else { 0.0 })
                    .collect()
            })
            .collect();
        let input = SequentialSliceOfVecs::new(&block_in[..], ch, bi).unwrap();
        let mut output = SequentialSliceOfVecs::new_mut(&mut block_out[..], ch, bo).unwrap();
        r.process_into_buffer(&input, &mut output, None).unwrap();
        for c in 0..ch {
            out[c].extend_from_slice(&block_out[c]);
        }
        at += bi;
    }
    let mut interleaved = Vec::with_capacity(out_len * ch);
    for f in delay..delay + out_len {
        for c in out.iter() {
            interleaved.push(c[f]);
        }
    }
    interleaved
}

fn check_song(dir: &str) {
    let song = corpus().join("songs").join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&song)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| trax::setlist::is_audio_file(p))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for f in files {
        let (resampled, worst) = check_stem(&f);
        if resampled {
            eprintln!(
                "{}: worst chunk error {:.1} dBFS",
                f.display(),
                20.0 * worst.max(1e-12).log10()
            );
        }
    }
}

#[test]
fn mixed_formats_48k_with_a_44k1_mp3() {
    // FLAC 16/24-bit, WAV 16 and float, Ogg Vorbis, mono and stereo, and a
    // 44.1 kHz MP3 resampled to 48 kHz.
    check_song("01_singularity_awakening");
}

#[test]
fn wav_44k1_resampled() {
    check_song("03_planetblupi_music000");
}

#[test]
fn flac_96k_resampled() {
    check_song("05_planetblupi_music003_96k");
}

#[test]
fn lossy_44k1_resampled() {
    check_song("06_planetblupi_music001_lossy");
}

#[test]
fn edge_files_decode_in_chunks() {
    // Awkward real files: 22.05 kHz MP3, 96 kHz .oga, 8-bit 4143 Hz WAV, an
    // MP3 without a gapless tag, an Ogg with a negative granule position.
    let edge = corpus().join("edge");
    let mut files: Vec<_> = std::fs::read_dir(&edge)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| trax::setlist::is_audio_file(p))
        .collect();
    files.sort();
    for f in files {
        check_stem(&f);
    }
}

/// Writes a 44.1 kHz (or `rate`) mono WAV of a sine and returns its path.
fn sine_wav(rate: u32, f_hz: f64, secs: f64) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "trax-sine-{}-{rate}-{f_hz}.wav",
        std::process::id()
    ));
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    for i in 0..(rate as f64 * secs) as usize {
        let t = i as f64 / rate as f64;
        w.write_sample((0.5 * (2.0 * std::f64::consts::PI * f_hz * t).sin()) as f32)
            .unwrap();
    }
    w.finalize().unwrap();
    path
}

#[test]
fn resampling_keeps_time_and_level() {
    // A sine through the resampler must come out as the same sine at the
    // engine rate: no fractional lag (stems of different rates stay
    // aligned), no level change, error far below audibility.
    for rate in [44_100u32, 22_050, 96_000, 32_000] {
        for f_hz in [1_000.0f64, 10_000.0] {
            let path = sine_wav(rate, f_hz, 2.0);
            let (_, out) = cursor_full_decode(&path, ENGINE_HZ);
            let skip = out.len() / 10;
            let mut err = 0.0f64;
            for (n, y) in out.iter().enumerate().skip(skip).take(out.len() - 2 * skip) {
                let t = n as f64 / ENGINE_HZ as f64;
                let want = 0.5 * (2.0 * std::f64::consts::PI * f_hz * t).sin();
                err = err.max((*y as f64 - want).abs());
            }
            let db = 20.0 * err.log10();
            eprintln!("{rate} Hz, {f_hz} Hz sine: peak error {db:.1} dBFS");
            assert!(
                db < -90.0,
                "{rate} Hz → {ENGINE_HZ} Hz, {f_hz} Hz sine: peak error {db:.1} dBFS"
            );
            let _ = std::fs::remove_file(&path);
        }
    }
}
