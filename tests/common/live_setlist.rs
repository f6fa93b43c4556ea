//! Generated audio and setlists for the live-rig tests (buses, song ends,
//! count-in): mono float WAVs whose every sample is known, so a test can
//! tell exactly which stem plays where.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The rate every generated stem is written at, Hz.
pub const RATE_HZ: u32 = 48_000;

/// Writes a mono 32-bit float WAV of `frames` frames at [`RATE_HZ`],
/// sample `i` = `sample(i)`.
pub fn write_wav(path: &Path, frames: usize, sample: impl Fn(usize) -> f32) {
    write_wav_at(path, RATE_HZ, frames, sample);
}

/// [`write_wav`] at `rate_hz`.
pub fn write_wav_at(path: &Path, rate_hz: u32, frames: usize, sample: impl Fn(usize) -> f32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate_hz,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create a stem");
    for i in 0..frames {
        w.write_sample(sample(i)).expect("write a stem");
    }
    w.finalize().expect("finish a stem");
}

/// A click track: a 20-ms 1-kHz burst at 0.9 (-0.9 dBFS) every half
/// second.
pub fn click(i: usize) -> f32 {
    let in_beat = i % (RATE_HZ as usize / 2);
    if in_beat < RATE_HZ as usize / 50 {
        let t = in_beat as f64 / f64::from(RATE_HZ);
        (0.9 * (2.0 * std::f64::consts::PI * 1000.0 * t).sin()) as f32
    } else {
        0.0
    }
}

/// One stem of a generated song: file name, `output` (None: not given),
/// frames and samples.
pub struct GenStem<'a> {
    /// File name in the setlist's folder.
    pub file: &'a str,
    /// The stem's `output` in the setlist.
    pub output: Option<&'a str>,
    /// Length, frames at [`RATE_HZ`].
    pub frames: usize,
    /// Sample `i`.
    pub sample: &'a dyn Fn(usize) -> f32,
}

/// Writes every stem of `songs` (each a list of [`GenStem`], plus extra
/// TOML lines for the song) into `dir` and a `setlist.toml` naming them;
/// `head` goes at the top of the setlist. Returns the setlist's path.
pub fn write_setlist(dir: &Path, head: &str, songs: &[(&str, Vec<GenStem>)]) -> PathBuf {
    let mut toml = format!("{head}\n");
    for (i, (extra, stems)) in songs.iter().enumerate() {
        let _ = write!(toml, "\n[[song]]\nname = \"Song {}\"\n{extra}\n", i + 1);
        for st in stems {
            write_wav(&dir.join(st.file), st.frames, st.sample);
            let _ = write!(toml, "[[song.stem]]\npath = \"{}\"\n", st.file);
            if let Some(o) = st.output {
                let _ = writeln!(toml, "output = \"{o}\"");
            }
        }
    }
    let path = dir.join("setlist.toml");
    std::fs::write(&path, toml).expect("write the setlist");
    path
}
