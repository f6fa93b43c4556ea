//! AUDIO THREAD: the generated click: two preallocated sounds (accent and
//! beat) made once at the engine rate, the beat grid of a song's tempo, and
//! the count-in that precedes a song started from stop. Mixed into the
//! Click bus sample-accurately; nothing here allocates or decodes after
//! construction. Realtime-safe.

use crate::bridge::SongTempo;

/// Length of one click sound, seconds.
pub const CLICK_SECS: f64 = 0.03;
/// Peak of the accented click (the first beat of a bar), linear (-1 dBFS).
pub const ACCENT_PEAK: f32 = 0.89;
/// Peak of the other beats, linear (-6 dBFS).
pub const BEAT_PEAK: f32 = 0.5;
/// Pitch of the accented click, Hz.
pub const ACCENT_HZ: f64 = 1760.0;
/// Pitch of the other beats, Hz.
pub const BEAT_HZ: f64 = 1320.0;

/// The two click sounds at one rate: a decaying cosine (its first sample
/// is its peak, so a click's onset is exactly its beat's frame).
pub struct ClickSounds {
    accent: Box<[f32]>,
    beat: Box<[f32]>,
}

impl ClickSounds {
    /// Both sounds at `rate_hz`. Allocates (construction only).
    pub fn new(rate_hz: u32) -> Self {
        let rate = f64::from(rate_hz.max(1));
        let frames = (CLICK_SECS * rate).round().max(1.0) as usize;
        let make = |peak: f32, hz: f64| -> Box<[f32]> {
            (0..frames)
                .map(|i| {
                    let t = i as f64 / rate;
                    // Decays to -60 dB over the click.
                    let env = (-6.9 * t / CLICK_SECS).exp();
                    (f64::from(peak) * env * (2.0 * std::f64::consts::PI * hz * t).cos()) as f32
                })
                .collect()
        };
        Self {
            accent: make(ACCENT_PEAK, ACCENT_HZ),
            beat: make(BEAT_PEAK, BEAT_HZ),
        }
    }

    /// Frames of one click.
    pub fn frames(&self) -> usize {
        self.beat.len()
    }

    /// Adds the clicks of `grid` that sound in timeline frames
    /// `from..from + out_l.len()` into `out_l`/`out_r` (frame `from` at
    /// index 0). Realtime-safe.
    pub fn mix(&self, grid: &BeatGrid, from: u64, out_l: &mut [f32], out_r: &mut [f32]) {
        let n = out_l.len().min(out_r.len()) as u64;
        let len = self.frames() as u64;
        let mut beat = grid.beat_at_or_before(from.saturating_sub(len));
        while let Some(onset) = grid.onset(beat) {
            if onset >= from + n {
                break;
            }
            let sound = if grid.is_accent(beat) {
                &self.accent
            } else {
                &self.beat
            };
            // The part of this click inside the block.
            let start = onset.max(from);
            let end = (onset + len).min(from + n);
            for t in start..end {
                let s = sound[(t - onset) as usize];
                let i = (t - from) as usize;
                out_l[i] += s;
                out_r[i] += s;
            }
            beat += 1;
        }
    }
}

/// Beats on a timeline: beat `k` at frame `round(k · beat_frames)`, the
/// first of each bar accented; `beats` of them (`None`: endless).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BeatGrid {
    /// Frames per beat at the engine rate (60 · rate / bpm).
    pub beat_frames: f64,
    /// Beats per bar (≥ 1).
    pub beats_per_bar: u32,
    /// How many beats the grid has.
    pub beats: Option<u64>,
}

impl BeatGrid {
    /// The grid of `tempo` at `rate_hz`, endless (a click through a song).
    pub fn of(tempo: &SongTempo, rate_hz: u32) -> Self {
        Self {
            beat_frames: 60.0 * f64::from(rate_hz) / f64::from(tempo.bpm.max(1.0)),
            beats_per_bar: u32::from(tempo.beats_per_bar.max(1)),
            beats: None,
        }
    }

    /// The count-in of `tempo` at `rate_hz`: its bars of beats, or `None`
    /// when it counts in no bar.
    pub fn count_in(tempo: &SongTempo, rate_hz: u32) -> Option<Self> {
        let grid = Self::of(tempo, rate_hz);
        let beats = u64::from(tempo.count_in_bars) * u64::from(grid.beats_per_bar);
        (beats > 0).then_some(Self {
            beats: Some(beats),
            ..grid
        })
    }

    /// Beat `k`'s frame, or `None` past the grid's end.
    pub fn onset(&self, k: u64) -> Option<u64> {
        if self.beats.is_some_and(|b| k >= b) {
            return None;
        }
        Some((k as f64 * self.beat_frames).round() as u64)
    }

    /// The frame where the grid ends (its last beat's next beat): the
    /// count-in's length. 0 for an endless grid.
    pub fn end_frames(&self) -> u64 {
        self.beats
            .map_or(0, |b| (b as f64 * self.beat_frames).round() as u64)
    }

    /// Whether beat `k` is a bar's first.
    pub fn is_accent(&self, k: u64) -> bool {
        k.is_multiple_of(u64::from(self.beats_per_bar.max(1)))
    }

    /// The last beat whose onset is at or before `frame` (0 before the
    /// first).
    pub fn beat_at_or_before(&self, frame: u64) -> u64 {
        let mut k = (frame as f64 / self.beat_frames).floor().max(0.0) as u64;
        // Rounding of the onsets: step to the exact beat.
        while k > 0 && self.onset(k).is_none_or(|o| o > frame) {
            k -= 1;
        }
        k
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_macros, clippy::disallowed_methods)]
mod tests {
    use super::*;

    fn tempo(bpm: f32, count_in_bars: u8) -> SongTempo {
        SongTempo {
            bpm,
            beats_per_bar: 4,
            count_in_bars,
            click: false,
        }
    }

    #[test]
    fn a_bar_at_120_bpm_is_four_beats_of_half_a_second() {
        let grid = BeatGrid::count_in(&tempo(120.0, 1), 48_000).unwrap();
        let onsets: Vec<u64> = (0..5).filter_map(|k| grid.onset(k)).collect();
        assert_eq!(onsets, [0, 24_000, 48_000, 72_000]);
        assert_eq!(grid.end_frames(), 96_000);
        assert!(grid.is_accent(0) && !grid.is_accent(1) && grid.is_accent(4));
        assert!(BeatGrid::count_in(&tempo(120.0, 0), 48_000).is_none());
    }

    #[test]
    fn clicks_land_on_their_frames_in_any_split() {
        let sounds = ClickSounds::new(48_000);
        let grid = BeatGrid::count_in(&tempo(97.0, 2), 48_000).unwrap();
        let total = grid.end_frames() as usize + 5_000;
        let whole = {
            let (mut l, mut r) = (vec![0.0; total], vec![0.0; total]);
            sounds.mix(&grid, 0, &mut l, &mut r);
            l
        };
        for split in [1usize, 37, 256, 4096] {
            let (mut l, mut r) = (vec![0.0; total], vec![0.0; total]);
            let mut at = 0;
            while at < total {
                let n = split.min(total - at);
                sounds.mix(&grid, at as u64, &mut l[at..at + n], &mut r[at..at + n]);
                at += n;
            }
            assert_eq!(l, whole, "split {split}");
        }
        for k in 0..8 {
            let o = grid.onset(k).unwrap() as usize;
            let peak = if k % 4 == 0 { ACCENT_PEAK } else { BEAT_PEAK };
            assert_eq!(whole[o], peak, "beat {k} starts at its frame");
            assert!(o == 0 || whole[o - 1] == 0.0, "silence before beat {k}");
        }
        assert!(whole[grid.end_frames() as usize..]
            .iter()
            .all(|&v| v == 0.0));
    }
}
