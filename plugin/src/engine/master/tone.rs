//! AUDIO THREAD: the auto-master's tonal correction: a low shelf, a broad
//! low-mid bell and a high shelf (RBJ cookbook biquads from the `biquad`
//! crate, f64 state), each within ±[`MAX_BAND_DB`]. The mids are the
//! anchor and are not filtered. Gains glide toward their targets in steps
//! of at most [`GLIDE_STEP_DB`] per update, so a song change moves the
//! filters without a click; a band at 0 dB is bypassed, so a flat
//! correction is exactly transparent. Realtime-safe.

use biquad::{Biquad, Coefficients, DirectForm2Transposed, ToHertz, Type};

pub use crate::bridge::song_master::TONE_BANDS;

/// Each filter: (kind, centre or corner frequency Hz, Q). They correct the
/// balance bands 0 (lows), 1 (low mids) and 3 (highs) of
/// [`crate::analysis::spectrum::BANDS_HZ`] against band 2 (mids).
pub const TONE_FILTERS: [(ToneKind, f64, f64); TONE_BANDS] = [
    (ToneKind::LowShelf, 150.0, 0.707),
    (ToneKind::Bell, 350.0, 0.8),
    (ToneKind::HighShelf, 4000.0, 0.707),
];

/// The balance band each filter corrects.
pub const TONE_BALANCE_BAND: [usize; TONE_BANDS] = [0, 1, 3];

/// Largest correction of one band, dB.
pub const MAX_BAND_DB: f32 = 3.0;

/// Largest gain change per update, dB (updates come every
/// [`super::chain::UPDATE_FRAMES`] frames: 3 dB take ~8 updates, 11 ms at
/// 48 kHz).
pub const GLIDE_STEP_DB: f32 = 0.4;

/// Filter shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToneKind {
    /// Low shelf.
    LowShelf,
    /// Peaking bell.
    Bell,
    /// High shelf.
    HighShelf,
}

/// The correction filters of both channels.
#[derive(Clone, Debug)]
pub struct Tone {
    rate_hz: u32,
    current_db: [f32; TONE_BANDS],
    target_db: [f32; TONE_BANDS],
    filters: [[DirectForm2Transposed<f64, f64>; TONE_BANDS]; 2],
}

/// The coefficients of filter `band` at `db` (`None` where the rate cannot
/// carry its frequency).
pub fn coefficients(band: usize, db: f32, rate_hz: u32) -> Option<Coefficients<f64>> {
    let (kind, hz, q) = TONE_FILTERS[band];
    let db = f64::from(db);
    let kind = match kind {
        ToneKind::LowShelf => Type::LowShelf(db),
        ToneKind::Bell => Type::PeakingEQ(db),
        ToneKind::HighShelf => Type::HighShelf(db),
    };
    Coefficients::<f64>::from_params(kind, f64::from(rate_hz).hz(), hz.hz(), q).ok()
}

/// Power gain |H(f)|² of the whole correction with gains `tone_db` at
/// `freq_hz` (1 where every gain is 0 dB).
pub fn power_response(tone_db: &[f32; TONE_BANDS], freq_hz: f64, rate_hz: u32) -> f64 {
    let mut gain = 1.0;
    for (band, db) in tone_db.iter().enumerate() {
        if *db == 0.0 {
            continue;
        }
        if let Some(c) = coefficients(band, *db, rate_hz) {
            gain *= crate::dsp::kweight::power_response(&c, freq_hz, f64::from(rate_hz));
        }
    }
    gain
}

impl Tone {
    /// Flat filters at `rate_hz`.
    pub fn new(rate_hz: u32) -> Self {
        let flat = coefficients(0, 0.0, rate_hz.max(1000)).unwrap_or(Coefficients {
            a1: 0.0,
            a2: 0.0,
            b0: 1.0,
            b1: 0.0,
            b2: 0.0,
        });
        Self {
            rate_hz,
            current_db: [0.0; TONE_BANDS],
            target_db: [0.0; TONE_BANDS],
            filters: [[DirectForm2Transposed::new(flat); TONE_BANDS]; 2],
        }
    }

    /// Sets where the gains glide to, dB (clamped to ±[`MAX_BAND_DB`]).
    /// Realtime-safe.
    pub fn set_target_db(&mut self, target_db: [f32; TONE_BANDS]) {
        self.target_db = target_db.map(|db| {
            if db.is_finite() {
                db.clamp(-MAX_BAND_DB, MAX_BAND_DB)
            } else {
                0.0
            }
        });
    }

    /// The gains now, dB.
    pub fn current_db(&self) -> [f32; TONE_BANDS] {
        self.current_db
    }

    /// Moves each gain one glide step toward its target and updates the
    /// filters that moved. Realtime-safe.
    pub fn update(&mut self) {
        for band in 0..TONE_BANDS {
            let (now, to) = (self.current_db[band], self.target_db[band]);
            if now == to {
                continue;
            }
            let next = now + (to - now).clamp(-GLIDE_STEP_DB, GLIDE_STEP_DB);
            self.current_db[band] = next;
            if let Some(c) = coefficients(band, next, self.rate_hz) {
                for channel in &mut self.filters {
                    channel[band].update_coefficients(c);
                }
            }
        }
    }

    /// Forgets the filters' state (their gains stay). Realtime-safe.
    pub fn reset(&mut self) {
        for filter in self.filters.iter_mut().flatten() {
            filter.reset_state();
        }
    }

    /// Filters one stereo frame. Realtime-safe.
    #[inline]
    pub fn process(&mut self, left: f32, right: f32) -> (f32, f32) {
        let mut out = [f64::from(left), f64::from(right)];
        for (x, filters) in out.iter_mut().zip(&mut self.filters) {
            for (band, filter) in filters.iter_mut().enumerate() {
                if self.current_db[band] != 0.0 {
                    *x = filter.run(*x);
                } else {
                    // Bypassed: keep the state at rest so it resumes
                    // without a transient.
                    filter.reset_state();
                }
            }
        }
        (out[0] as f32, out[1] as f32)
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_macros, clippy::disallowed_methods)]
mod tests {
    use super::*;

    fn sine_gain_db(tone: &mut Tone, hz: f32, rate: u32) -> f32 {
        let mut peak = 0.0f32;
        for n in 0..rate {
            let x = (2.0 * std::f32::consts::PI * hz * n as f32 / rate as f32).sin();
            let (y, _) = tone.process(x, x);
            if n > rate / 2 {
                peak = peak.max(y.abs());
            }
        }
        20.0 * peak.log10()
    }

    #[test]
    fn flat_is_exactly_transparent() {
        let mut tone = Tone::new(48_000);
        for n in 0..1000 {
            let x = (n as f32 * 0.3).sin();
            assert_eq!(tone.process(x, -x), (x, -x));
        }
    }

    #[test]
    fn each_band_moves_its_own_region_within_the_limit() {
        let rate = 48_000;
        let mut tone = Tone::new(rate);
        tone.set_target_db([6.0, 0.0, -2.0]); // 6 is clamped to 3
        for _ in 0..20 {
            tone.update();
        }
        assert_eq!(tone.current_db(), [3.0, 0.0, -2.0]);
        assert!((sine_gain_db(&mut tone, 40.0, rate) - 3.0).abs() < 0.3);
        assert!(sine_gain_db(&mut tone, 1000.0, rate).abs() < 0.4);
        assert!((sine_gain_db(&mut tone, 12_000.0, rate) + 2.0).abs() < 0.3);
    }
}
