//! `cargo xtask ardour`'s comparison: an export against `trax render`,
//! both 32-bit float stereo WAVs at the session rate.

use std::path::Path;

use anyhow::{ensure, Context, Result};

use super::RATE_HZ;

/// A sample at or below this magnitude is silence (−80 dBFS).
const SILENCE: f32 = 1e-4;

/// Blocks of the comparison, in frames.
const COMPARE_BLOCK_FRAMES: usize = 1024;

/// A stereo WAV's frames.
pub(super) struct Wav {
    frames: Vec<[f32; 2]>,
}

/// Reads a stereo 32-bit float WAV at [`RATE_HZ`] (plain or extensible,
/// as `trax render` and the export preset write them) with hound.
pub(super) fn read_wav(path: &Path) -> Result<Wav> {
    let reader =
        hound::WavReader::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let spec = reader.spec();
    ensure!(
        spec.sample_format == hound::SampleFormat::Float && spec.bits_per_sample == 32,
        "{}: not 32-bit float",
        path.display()
    );
    ensure!(
        spec.sample_rate == RATE_HZ,
        "{}: {} Hz, expected {RATE_HZ}",
        path.display(),
        spec.sample_rate
    );
    ensure!(spec.channels == 2, "{}: not stereo", path.display());
    let samples = reader
        .into_samples::<f32>()
        .collect::<Result<Vec<f32>, _>>()
        .with_context(|| format!("{}: damaged samples", path.display()))?;
    Ok(Wav {
        frames: samples.chunks_exact(2).map(|c| [c[0], c[1]]).collect(),
    })
}

impl Wav {
    /// Peak of both channels at `frame` (0 past the end).
    fn peak_at(&self, frame: usize) -> f32 {
        self.frames
            .get(frame)
            .map_or(0.0, |[l, r]| l.abs().max(r.abs()))
    }

    fn first_audible(&self, frames: usize) -> Option<usize> {
        (0..frames.min(self.frames.len())).find(|&f| self.peak_at(f) > SILENCE)
    }

    /// Max |self − other| over `frames`, `other` shifted by `lag` frames
    /// (self's frame f against other's frame f − lag; silence outside it),
    /// and the frame where it is.
    fn max_diff(&self, other: &Wav, frames: usize, lag: i64) -> (f32, usize) {
        let mut worst = (0.0f32, 0);
        for (f, a) in self.frames.iter().enumerate().take(frames) {
            let b = usize::try_from(f as i64 - lag)
                .ok()
                .and_then(|g| other.frames.get(g))
                .unwrap_or(&[0.0; 2]);
            let d = (a[0] - b[0]).abs().max((a[1] - b[1]).abs());
            if d > worst.0 {
                worst = (d, f);
            }
        }
        worst
    }
}

/// Prints how `export` differs from `reference` over `frames`; whether it
/// is the reference bit for bit from frame 0, complete, with no silent
/// block.
pub(super) fn compare(export: &Wav, reference: &Wav, frames: usize) -> bool {
    let n = frames.min(reference.frames.len());
    let blocks = n.div_ceil(COMPARE_BLOCK_FRAMES);
    let block_peak = |w: &Wav, k: usize| {
        (k * COMPARE_BLOCK_FRAMES..((k + 1) * COMPARE_BLOCK_FRAMES).min(n))
            .map(|f| w.peak_at(f))
            .fold(0.0f32, f32::max)
    };
    let silent: Vec<usize> = (0..blocks)
        .filter(|&k| block_peak(reference, k) > SILENCE && block_peak(export, k) <= SILENCE)
        .collect();
    let sounding = (0..blocks)
        .filter(|&k| block_peak(reference, k) > SILENCE)
        .count();
    // Runs of consecutive silent blocks, as (first, last).
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &k in &silent {
        match runs.last_mut() {
            Some(run) if run.1 + 1 == k => run.1 = k,
            _ => runs.push((k, k)),
        }
    }
    let ranges: Vec<String> = runs.iter().map(|(a, b)| format!("{a}-{b}")).collect();
    let (ea, ra) = (export.first_audible(n), reference.first_audible(n));
    let (diff, at) = export.max_diff(reference, n, 0);
    println!(
        "  {} frames (asked {frames}); {} of {sounding} sounding {COMPARE_BLOCK_FRAMES}-frame blocks silent{}{}",
        export.frames.len(),
        silent.len(),
        if ranges.is_empty() { "" } else { ": blocks " },
        ranges.join(", ")
    );
    println!(
        "  first audible frame {} (reference {}); max |diff| aligned on frame 0: {diff:.4} at frame {at}",
        ea.map_or("none".into(), |f| f.to_string()),
        ra.map_or("none".into(), |f| f.to_string())
    );
    if let (Some(e), Some(r)) = (ea, ra) {
        if e != r {
            let lag = e as i64 - r as i64;
            let (d, at) = export.max_diff(reference, n, lag);
            println!("  aligned on the first audible frames (lag {lag}): max |diff| {d:.4} at frame {at}");
        }
    }
    silent.is_empty() && diff == 0.0 && export.frames.len() >= n
}
