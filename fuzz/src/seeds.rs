//! Seeds made by code for the binary formats (chunk files, analysis
//! records, audio files): built with Trax's own writers and hound, so
//! they follow the formats exactly as they are today, and cut from the
//! shared corpus where it is there (the heads of real files of every
//! format, and the broken ones whole). The text seeds are committed in
//! `fuzz/seeds/<target>/`.

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
