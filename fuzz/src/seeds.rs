//! Seeds made by code for the binary formats (chunk files, analysis
//! records, audio files, marker files): built with Trax's own writers,
//! hound or by hand, so they follow the formats exactly as they are
//! today, and cut from the shared corpus where it is there (the heads of
//! real files of every format, and the broken ones whole). The text seeds
//! are committed in `fuzz/seeds/<target>/`.

use std::f32::consts::TAU;
use std::path::{Path, PathBuf};

use trax::analysis::record::{Analysis, Profile, Segment};
use trax::analysis::store;
use trax::cache::chunk;
use trax::cache::flac::{self, FlacEffort};
use trax::cache::meta::MetaRecord;
use trax::cache::samples::Depth;
use trax::cache::{SampleOrigin, StemKey};

/// A named seed.
pub type Seed = (String, Vec<u8>);

fn sine(frames: usize, channels: usize, hz: f32, amp: f32) -> Vec<f32> {
    (0..frames * channels)
        .map(|i| {
            let (f, c) = (i / channels, i % channels);
            amp * (TAU * hz * (c + 1) as f32 * f as f32 / 48_000.0).sin()
        })
        .collect()
}

/// Chunk files as the cache writes them: exact 16-bit, 24-bit from a
/// lossy source, silence, noise (stored raw), a short last chunk; each
/// with every fix-up flag.
fn chunks() -> Vec<Seed> {
    let mut noise = 0x1234_5678u32;
    let noisy: Vec<f32> = (0..8192)
        .map(|_| {
            noise = noise.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (noise >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0
        })
        .collect();
    let cases: Vec<(&str, Vec<f32>, u8, Option<u8>)> = vec![
        ("mono16", sine(2048, 1, 440.0, 0.5), 1, Some(16)),
        ("stereo24", sine(4096, 2, 220.0, 0.7), 2, None),
        ("silence", vec![0.0; 1024], 2, Some(16)),
        ("noise_raw", noisy, 2, None),
        ("short", sine(100, 2, 1000.0, 0.9), 2, Some(16)),
    ];
    let mut out = Vec::new();
    for (name, samples, channels, exact) in cases {
        let Ok(built) = chunk::build(
            &samples,
            channels,
            exact,
            0xfeed,
            3,
            48_000,
            FlacEffort::Fast,
        ) else {
            continue;
        };
        for flags in 0..4u8 {
            let mut bytes = vec![flags];
            bytes.extend_from_slice(&built.bytes);
            out.push((format!("{name}_{flags}"), bytes));
        }
    }
    out
}

/// Analysis records of a short song, as the store writes them.
fn analyses() -> Vec<Seed> {
    let segments = (0..40)
        .map(|i| Segment {
            k_power: 0.01 * (i % 7) as f32,
            power: 0.02 * (i % 5) as f32,
            true_peak: 0.1 * (i % 9) as f32,
        })
        .collect();
    let analysis = Analysis {
        rate_hz: 48_000,
        length_frames: 19_200,
        integrated_lufs: -14.2,
        loudness_range_lu: 6.5,
        true_peak_dbtp: -0.8,
        sample_peak_dbfs: -1.1,
        max_short_term_lufs: -9.9,
        rms_dbfs: -16.0,
        crest_db: 15.2,
        band_levels_db: [-3.0, -5.0, -6.0, -12.0],
        k_spectrum: [1.0 / 31.0; 31],
        profile: Profile {
            hop_frames: 4800,
            segments,
            tone_probe_db: vec![[0.5, -0.25, 1.0]; 4],
        },
    };
    let bytes = store::encode(&analysis, crate::analysis::KEY);
    (0..2u8)
        .map(|flags| {
            let mut b = vec![flags];
            b.extend_from_slice(&bytes);
            (format!("short_song_{flags}"), b)
        })
        .collect()
}

/// A `meta.json` as the cache writes it (a path that is not Unicode
/// included).
fn metas() -> Vec<Seed> {
    let key = |path: PathBuf, origin| StemKey {
        source_path: path,
        source_size_bytes: 1_234_567,
        source_mtime_ns: 1_700_000_000_123_456_789,
        engine_rate_hz: 48_000,
        chunk_frames: trax::bridge::CHUNK_FRAMES,
        channels: 2,
        origin,
    };
    let mut out = vec![(
        "plain".to_string(),
        MetaRecord::of(&key(
            PathBuf::from("/music/set/drums.flac"),
            SampleOrigin::ExactInteger {
                bits_per_sample: 16,
            },
        ))
        .to_json(),
    )];
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let odd = PathBuf::from(std::ffi::OsStr::from_bytes(b"/music/\xff\xfe/bass.wav"));
        out.push((
            "not_unicode".to_string(),
            MetaRecord::of(&key(odd, SampleOrigin::Other)).to_json(),
        ));
    }
    out
}

/// WAV files of every sample format hound writes, mono to 6 channels.
fn wavs() -> Vec<Seed> {
    let mut out = Vec::new();
    let specs = [
        (1u16, 8_000u32, 8u16, hound::SampleFormat::Int),
        (2, 44_100, 16, hound::SampleFormat::Int),
        (2, 96_000, 24, hound::SampleFormat::Int),
        (1, 48_000, 32, hound::SampleFormat::Float),
        (6, 48_000, 16, hound::SampleFormat::Int),
    ];
    for (channels, rate, bits, format) in specs {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: bits,
            sample_format: format,
        };
        let mut cursor = std::io::Cursor::new(Vec::new());
        let Ok(mut w) = hound::WavWriter::new(&mut cursor, spec) else {
            continue;
        };
        let samples = sine(600, usize::from(channels), 330.0, 0.6);
        for s in samples {
            let r = match (format, bits) {
                (hound::SampleFormat::Float, _) => w.write_sample(s),
                (_, 8) => w.write_sample((s * 127.0) as i8),
                (_, 16) => w.write_sample((s * 32_767.0) as i16),
                _ => w.write_sample((s * 8_388_607.0) as i32),
            };
            if r.is_err() {
                break;
            }
        }
        if w.finalize().is_ok() {
            out.push((
                format!("wav_{channels}ch_{rate}_{bits}"),
                [vec![0u8, 0u8], cursor.into_inner()].concat(),
            ));
        }
    }
    out
}

/// A FLAC stream from the cache's encoder (stereo, 16-bit, 48 kHz).
fn flac_stream() -> Vec<Seed> {
    let ints: Vec<i32> = sine(4096, 2, 440.0, 0.5)
        .iter()
        .map(|s| (s * 32_767.0) as i32)
        .collect();
    let depth = Depth {
        bits: 16,
        gain_exp: 0,
    };
    flac::encode(&ints, 2, depth, 48_000, FlacEffort::Fast)
        .map(|b| vec![("flac_stereo16".to_string(), [vec![1u8, 0u8], b].concat())])
        .unwrap_or_default()
}

/// From the shared corpus: the first 16 KB of a real file of every
/// format, and the broken files (those under 64 KB whole).
fn corpus_files(corpus: &Path) -> Vec<Seed> {
    let ext_byte = |p: &Path| match p.extension().and_then(|e| e.to_str()) {
        Some("wav") => 0u8,
        Some("flac") => 1,
        Some("mp3") => 2,
        Some("ogg" | "oga") => 3,
        _ => 0,
    };
    let mut out = Vec::new();
    let mut heads = std::collections::BTreeMap::new();
    let songs = std::fs::read_dir(corpus.join("songs"))
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|song| {
            std::fs::read_dir(song.path())
                .into_iter()
                .flatten()
                .flatten()
        });
    for f in songs {
        let p = f.path();
        if let Some(ext) = p.extension().and_then(|e| e.to_str()) {
            heads.entry(ext.to_string()).or_insert(p);
        }
    }
    for (ext, p) in heads {
        if let Ok(bytes) = std::fs::read(&p) {
            let head = &bytes[..bytes.len().min(16 * 1024)];
            out.push((
                format!("head_{ext}"),
                [vec![ext_byte(&p), 0u8], head.to_vec()].concat(),
            ));
        }
    }
    for dir in ["broken", "edge"] {
        for f in std::fs::read_dir(corpus.join(dir))
            .into_iter()
            .flatten()
            .flatten()
        {
            let p = f.path();
            let small = f.metadata().is_ok_and(|m| m.len() <= 64 * 1024);
            if let (true, Ok(bytes)) = (small, std::fs::read(&p)) {
                let name = p
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
                out.push((
                    format!("{dir}_{name}"),
                    [vec![ext_byte(&p), 1u8], bytes].concat(),
                ));
            }
        }
    }
    out
}

/// A RIFF chunk: id, little-endian size, body, pad byte if odd.
fn riff_chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = id.to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    if body.len() % 2 == 1 {
        out.push(0);
    }
    out
}

/// A WAV file from hound (mono, 16-bit, 48 kHz) with two cue points, one
/// a region, named by a `LIST`/`adtl` chunk: after the audio, or before.
fn marker_wavs() -> Vec<Seed> {
    let mut base = wavs()
        .into_iter()
        .find(|(name, _)| name == "wav_2ch_44100_16")
        .map(|(_, bytes)| bytes[2..].to_vec())
        .unwrap_or_default();
    if base.len() < 12 {
        return Vec::new();
    }
    let mut cue = 2u32.to_le_bytes().to_vec();
    for (id, frame) in [(1u32, 0u32), (2, 44_100)] {
        for v in [id, frame] {
            cue.extend_from_slice(&v.to_le_bytes());
        }
        cue.extend_from_slice(b"data\0\0\0\0\0\0\0\0");
        cue.extend_from_slice(&frame.to_le_bytes());
    }
    let mut adtl = b"adtl".to_vec();
    adtl.extend(riff_chunk(b"labl", b"\x01\0\0\0Intro\0"));
    adtl.extend(riff_chunk(b"labl", b"\x02\0\0\0Verse\0"));
    let mut ltxt = 2u32.to_le_bytes().to_vec();
    ltxt.extend_from_slice(&22_050u32.to_le_bytes());
    ltxt.extend_from_slice(b"rgn \0\0\0\0\0\0\0\0");
    adtl.extend(riff_chunk(b"ltxt", &ltxt));
    let chunks = [riff_chunk(b"cue ", &cue), riff_chunk(b"LIST", &adtl)].concat();
    let fix = |mut wav: Vec<u8>| {
        let size = (wav.len() - 8) as u32;
        wav[4..8].copy_from_slice(&size.to_le_bytes());
        wav
    };
    let after = fix([base.clone(), chunks.clone()].concat());
    let mut data_at = 12;
    while let Some(header) = base.get(data_at..data_at + 8) {
        if &header[..4] == b"data" {
            break;
        }
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        data_at += 8 + size + size % 2;
    }
    let tail = base.split_off(data_at.min(base.len()));
    let before = fix([base, chunks, tail].concat());
    vec![
        ("wav_after_data".to_string(), after),
        ("wav_before_data".to_string(), before),
    ]
}

/// A FLAC file's metadata by hand (STREAMINFO at `rate_hz`, a Vorbis
/// comment holding a text cue sheet, a CUESHEET of two tracks and a
/// lead-out), then the start of an audio frame.
fn marker_flac(rate_hz: u32, is_cd: bool, comment: bool) -> Vec<u8> {
    let mut info = vec![0x10, 0x00, 0x10, 0x00, 0, 0, 0, 0, 0, 0];
    info.extend_from_slice(&[
        (rate_hz >> 12) as u8,
        (rate_hz >> 4) as u8,
        (((rate_hz & 0xf) << 4) | (1 << 1)) as u8,
        0xf0,
        0,
        0,
        0,
        0,
    ]);
    info.extend_from_slice(&[0; 16]);
    let sheet_text =
        "TITLE \"Album\"\nTRACK 01 AUDIO\n  TITLE \"Intro\"\nTRACK 02 AUDIO\n  TITLE \"Verse\"\n";
    let entry = format!("CUESHEET={sheet_text}");
    let mut vorbis = 4u32.to_le_bytes().to_vec();
    vorbis.extend_from_slice(b"trax");
    vorbis.extend_from_slice(&1u32.to_le_bytes());
    vorbis.extend_from_slice(&(entry.len() as u32).to_le_bytes());
    vorbis.extend_from_slice(entry.as_bytes());
    let mut sheet = vec![0u8; 128 + 8];
    sheet.push(if is_cd { 0x80 } else { 0 });
    sheet.extend_from_slice(&[0; 258]);
    let lead_out = if is_cd { 170 } else { 255 };
    let tracks = [
        (0, 1, vec![(1u8, 0u64)]),
        (u64::from(rate_hz) * 2, 2, vec![(0, 0), (1, 588)]),
        (u64::from(rate_hz) * 4, lead_out, Vec::new()),
    ];
    sheet.push(tracks.len() as u8);
    for (offset, number, indices) in tracks {
        sheet.extend_from_slice(&offset.to_be_bytes());
        sheet.push(number);
        sheet.extend_from_slice(&[0; 26]);
        sheet.push(indices.len() as u8);
        for (n, at) in indices {
            sheet.extend_from_slice(&at.to_be_bytes());
            sheet.extend_from_slice(&[n, 0, 0, 0]);
        }
    }
    let mut blocks = vec![(0u8, info), (5, sheet)];
    if comment {
        blocks.insert(1, (4, vorbis));
    }
    let mut out = b"fLaC".to_vec();
    let count = blocks.len();
    for (i, (kind, body)) in blocks.into_iter().enumerate() {
        out.push(kind | if i + 1 == count { 0x80 } else { 0 });
        out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        out.extend_from_slice(&body);
    }
    out.extend_from_slice(&[0xff, 0xf8, 0x69, 0x08, 0x00, 0x0f]);
    out
}

/// A format 1 MIDI file by hand: 480 ticks per beat, 120 bpm in 3/4, 90
/// bpm from tick 1920; markers at ticks 0 and 1920, a cue point at 2880.
fn marker_smf() -> Vec<u8> {
    let track = |events: &[u8]| {
        let mut t = b"MTrk".to_vec();
        t.extend_from_slice(&(events.len() as u32 + 4).to_be_bytes());
        t.extend_from_slice(events);
        t.extend_from_slice(&[0x00, 0xff, 0x2f, 0x00]);
        t
    };
    let tempo = [
        0x00, 0xff, 0x51, 0x03, 0x07, 0xa1, 0x20, // 500 000 µs
        0x00, 0xff, 0x58, 0x04, 0x03, 0x02, 0x18, 0x08, // 3/4
        0x8f, 0x00, 0xff, 0x51, 0x03, 0x0a, 0x2c, 0x2b, // +1920: 666 667 µs
    ];
    let mut names = vec![0x00, 0xff, 0x06, 0x05];
    names.extend_from_slice(b"Intro");
    names.extend_from_slice(&[0x8f, 0x00, 0xff, 0x06, 0x05]);
    names.extend_from_slice(b"Verse");
    names.extend_from_slice(&[0x87, 0x40, 0xff, 0x07, 0x03]);
    names.extend_from_slice(b"Cue");
    let mut out = b"MThd\0\0\0\x06\0\x01\0\x02\x01\xe0".to_vec();
    out.extend(track(&tempo));
    out.extend(track(&names));
    out
}

/// Marker files of every format, each read three ways: by its own parser
/// (first byte 0 to 4), by every parser (5), and as a file (6, then the
/// extension's index).
fn marker_files() -> Vec<Seed> {
    let csv = |s: &str| s.as_bytes().to_vec();
    let mut files: Vec<(String, u8, u8, Vec<u8>)> = marker_wavs()
        .into_iter()
        .map(|(name, bytes)| (name, 0, 0, bytes))
        .collect();
    files.push(("flac_titles".into(), 1, 1, marker_flac(48_000, false, true)));
    files.push(("flac_cd".into(), 1, 1, marker_flac(44_100, true, false)));
    files.push(("smf_tempo_map".into(), 2, 2, marker_smf()));
    files.push((
        "csv_minutes".into(),
        3,
        3,
        csv("#,Name,Start,End,Length\r\nM1,Intro,0:00.000,,\r\nR2,\"Chorus, \"\"big\"\"\",1:23.456,1:45.000,0:21.544\r\nM3,,1:02:03.5,,\r\n"),
    ));
    files.push((
        "csv_measures".into(),
        4,
        3,
        csv("#,Name,Start,End,Length,Color\nR1,Verse,5.1.00,9.1.00,4.0.00,FF0000\nM2,Hit,3.2.50,,,\nM3,Tail,441000 smp,,,\n"),
    ));
    files.push((
        "csv_seconds".into(),
        3,
        3,
        csv("Name,#,Start\nLate,M1,12.5\nEarly,M2,1\n"),
    ));
    let mut out = Vec::new();
    for (name, own, ext, bytes) in files {
        out.push((format!("{name}_own"), [vec![own], bytes.clone()].concat()));
        out.push((format!("{name}_all"), [vec![5], bytes.clone()].concat()));
        out.push((format!("{name}_file"), [vec![6, ext], bytes].concat()));
    }
    out
}

/// Setlist files of the repository and the corpus.
fn setlist_files(corpus: Option<&Path>, json: bool) -> Vec<Seed> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let files: Vec<PathBuf> = if json {
        corpus
            .map(|c| vec![c.join("setlist.json"), c.join("setlist_broken.json")])
            .unwrap_or_default()
    } else {
        vec![root.join("assets/demo/setlist.toml")]
    };
    files
        .into_iter()
        .filter_map(|p| {
            let bytes = std::fs::read(&p).ok()?;
            let name = p.file_name()?.to_string_lossy().into_owned();
            Some((name, bytes))
        })
        .collect()
}

/// The generated seeds of `target`; `corpus` is the shared corpus folder
/// if there is one.
pub fn generated(target: &str, corpus: Option<&Path>) -> Vec<Seed> {
    match target {
        "cache_chunk" => chunks(),
        "cache_meta" => metas(),
        "analysis_record" => analyses(),
        "stem_file" => {
            let mut s = wavs();
            s.extend(flac_stream());
            if let Some(c) = corpus {
                s.extend(corpus_files(c));
            }
            s
        }
        "markers" => marker_files(),
        "osc" => crate::osc::seeds(),
        "setlist_toml" => setlist_files(corpus, false),
        "setlist_json" => setlist_files(corpus, true),
        _ => Vec::new(),
    }
}

/// The committed seeds and regression inputs of `target`: every file in
/// `fuzz/seeds/<target>/` and `fuzz/regressions/<target>/`.
pub fn committed(target: &str) -> Vec<Seed> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in ["seeds", "regressions"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(dir).join(target))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for p in files {
            if let Ok(bytes) = std::fs::read(&p) {
                let name = p
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
                out.push((format!("{dir}/{name}"), bytes));
            }
        }
    }
    out
}

/// The shared corpus, if it is there (`$TRAX_CORPUS`, else
/// `../shared/corpus` beside the repository).
pub fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("TRAX_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
        PathBuf::from,
    );
    dir.is_dir().then_some(dir)
}
