//! ANY THREAD: a song's analysis, the measurements the auto-master is set
//! from (docs/ARCHITECTURE.md: Analysis). Made once per song by
//! [`super::meter::SongMeter`], kept by [`super::store::AnalysisStore`].

use super::spectrum::{BANDS, THIRD_OCTAVES};
use crate::engine::master::tone::TONE_BANDS;

/// Version of what an analysis measures and how: part of every stored
/// analysis's key, so a change here re-analyses every song.
pub const ANALYSIS_VERSION: u32 = 1;

/// Loudness profile resolution: segments per 100 ms gating hop (10 ms
/// each).
pub const SEGMENTS_PER_HOP: usize = 10;

/// A song's measurements, on its default mix (the setlist's gains and
/// pans) rendered at `rate_hz`.
#[derive(Clone, Debug, PartialEq)]
pub struct Analysis {
    /// The rate the mix was measured at, Hz.
    pub rate_hz: u32,
    /// Frames measured.
    pub length_frames: u64,
    /// Integrated (gated) loudness, LUFS (ITU-R BS.1770-4, EBU R128);
    /// `-inf` when nothing passes the gates (silence).
    pub integrated_lufs: f64,
    /// Loudness range, LU (EBU Tech 3342).
    pub loudness_range_lu: f64,
    /// True peak, dBTP (8× oversampled; see [`crate::dsp::true_peak`]).
    pub true_peak_dbtp: f64,
    /// Sample peak, dBFS.
    pub sample_peak_dbfs: f64,
    /// The loudest short-term loudness (3 s window, read every 100 ms),
    /// LUFS: the loudness of the loudest part.
    pub max_short_term_lufs: f64,
    /// RMS level of both channels, dBFS (unweighted).
    pub rms_dbfs: f64,
    /// Crest factor: true peak over RMS, dB.
    pub crest_db: f64,
    /// Long-term spectral balance: the power of each band of
    /// [`super::spectrum::BANDS_HZ`] relative to all of them, dB.
    pub band_levels_db: [f64; BANDS],
    /// The K-weighted power per third octave
    /// ([`super::spectrum::third_octave_hz`]) as shares of its total (sums
    /// to 1): what a filter does to the loudness.
    pub k_spectrum: [f64; THIRD_OCTAVES],
    /// The loudness profile the auto-master's gain is fitted on.
    pub profile: Profile,
}

/// A song's level over time in 10-ms segments: enough to predict the
/// loudness of the mastered song for any gain without decoding it again
/// (see [`super::model`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Profile {
    /// Frames per 100 ms hop (the gating blocks' step at this rate).
    pub hop_frames: u32,
    /// The segments, in order; [`SEGMENTS_PER_HOP`] per hop.
    pub segments: Vec<Segment>,
    /// Per 100-ms hop: how much each tone filter at +[`PROBE_DB`] changes
    /// the hop's K-weighted power, dB. The tone's effect on loudness
    /// differs from hop to hop (a bass-heavy chorus loses more to a low
    /// cut than a sparse verse), which moves the relative gate; the model
    /// needs it per hop.
    pub tone_probe_db: Vec<[f32; TONE_BANDS]>,
}

/// The gain of the tone probes, dB.
pub const PROBE_DB: f32 = 3.0;

/// One 10-ms segment of a song.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Segment {
    /// Mean square of the K-weighted signal, summed over both channels
    /// (BS.1770-4's channel sum with unit weights).
    pub k_power: f32,
    /// Mean square of the plain signal, averaged over both channels.
    pub power: f32,
    /// True peak of either channel, linear (1.0 = 0 dBTP).
    pub true_peak: f32,
}

/// Loudness (LUFS) of a mean-square K-weighted channel-sum power
/// (BS.1770-4 eq. 2: -0.691 + 10 log10 Σ G·z).
pub fn power_to_lufs(power: f64) -> f64 {
    -0.691 + 10.0 * power.log10()
}

/// The K-weighted channel-sum power of a loudness in LUFS.
pub fn lufs_to_power(lufs: f64) -> f64 {
    10f64.powf((lufs + 0.691) / 10.0)
}

/// Integrated loudness of gating blocks' powers (BS.1770-4: absolute gate
/// at -70 LUFS, relative gate 10 LU under the ungated mean), LUFS; -inf
/// when no block passes.
pub fn gated_loudness(blocks: impl Iterator<Item = f64> + Clone) -> f64 {
    let abs_gate = lufs_to_power(-70.0);
    let (sum, n) = blocks
        .clone()
        .filter(|p| *p > abs_gate)
        .fold((0.0, 0usize), |(s, n), p| (s + p, n + 1));
    if n == 0 {
        return f64::NEG_INFINITY;
    }
    // 10 LU under the mean: a tenth of its power.
    let rel_gate = sum / n as f64 * 0.1;
    let (sum, n) = blocks
        .filter(|p| *p > abs_gate && *p > rel_gate)
        .fold((0.0, 0usize), |(s, n), p| (s + p, n + 1));
    if n == 0 {
        return f64::NEG_INFINITY;
    }
    power_to_lufs(sum / n as f64)
}

impl Profile {
    /// Integrated loudness of the profile with each segment's K-power
    /// scaled by `gain(segment index)` (power ratio), LUFS: 400-ms gating
    /// blocks every 100 ms, as BS.1770-4. With a unit gain this is the
    /// song's integrated loudness (to the segments' float precision).
    pub fn loudness_with(&self, gain: impl Fn(usize) -> f64) -> f64 {
        let block_segments = 4 * SEGMENTS_PER_HOP;
        if self.segments.len() < block_segments {
            return f64::NEG_INFINITY;
        }
        let scaled: Vec<f64> = self
            .segments
            .iter()
            .enumerate()
            .map(|(i, s)| f64::from(s.k_power) * gain(i))
            .collect();
        // Segment lengths differ by at most a frame; weights by equal
        // share are within 1e-3 LU of frame-exact.
        let starts = (0..=self.segments.len() - block_segments).step_by(SEGMENTS_PER_HOP);
        let blocks = starts
            .map(|s| scaled[s..s + block_segments].iter().sum::<f64>() / block_segments as f64);
        gated_loudness(blocks)
    }
}
