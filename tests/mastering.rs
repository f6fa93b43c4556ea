//! Analysis and auto-master (issue 11): the meter against EBU Tech 3341 /
//! 3342 signals and against an independent reference (pyloudnorm, scipy)
//! on the corpus, mastered renders against their targets, the chain's
//! transparency, toggle, block-size independence and latency, and the
//! analysis store. Every call of the chain and every engine block runs
//! under nice-plug's allocation checker.
//!
//! The reference is `tests/hosts/loudness.py` (python3 with `pyloudnorm`
//! and `scipy`; `cargo xtask test` installs them).

use crate::common;

mod chain;
mod hostile;
mod meter;
mod renders;
mod store;

use std::path::{Path, PathBuf};
use std::process::Command;

use trax::analysis::{analyze_song, Analysis, AnalyzeOptions, AnalyzeProgress};
use trax::bridge::StemMix;
use trax::setlist::{Song, Stem};

/// What the reference measured in one file.
#[derive(Debug, Clone, Copy)]
pub struct Reference {
    /// Integrated loudness, LUFS (`-inf` when gated out).
    pub lufs: f64,
    /// True peak (16× oversampled), dBTP.
    pub true_peak_dbtp: f64,
}

/// Writes interleaved stereo `frames` as a 32-bit float WAV.
pub fn write_wav(path: &Path, rate: u32, interleaved: &[f32]) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create wav");
    for s in interleaved {
        w.write_sample(*s).expect("write wav");
    }
    w.finalize().expect("finish wav");
}

/// Measures `files` with the independent reference, in order.
pub fn reference(files: &[PathBuf]) -> Vec<Reference> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hosts/loudness.py");
    let out = Command::new("python3")
        .arg(&script)
        .args(files)
        .output()
        .expect("run python3 (install python3 with pyloudnorm and scipy)");
    assert!(
        out.status.success(),
        "the loudness reference failed (pip install pyloudnorm scipy): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<Reference> = text
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("json line");
            Reference {
                lufs: v["lufs"].as_f64().unwrap_or(f64::NEG_INFINITY),
                true_peak_dbtp: v["true_peak_dbtp"].as_f64().unwrap_or(f64::NEG_INFINITY),
            }
        })
        .collect();
    assert_eq!(rows.len(), files.len(), "one reference per file: {text}");
    rows
}

/// A song of one stem, the file at `path`, at unity gain and centred.
pub fn one_stem_song(path: &Path) -> Song {
    let name = path
        .file_stem()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    Song::new(
        name,
        vec![Stem {
            name: "stem".into(),
            path: path.to_path_buf(),
            mix: StemMix::default(),
            offset_secs: 0.0,
        }],
    )
}

/// The analysis path (offline player, default mix, meter), no cache.
pub fn analyze(song: &Song, rate: u32) -> Analysis {
    let a = analyze_song(
        song,
        rate,
        &AnalyzeOptions::default(),
        &AnalyzeProgress::default(),
    )
    .expect("analysis");
    (*a.analysis).clone()
}

/// The corpus songs as a setlist (paths resolved).
pub fn corpus_setlist() -> trax::setlist::Setlist {
    trax::setlist::load(&common::corpus().join("setlist.json")).expect("corpus setlist")
}
