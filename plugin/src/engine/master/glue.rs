//! AUDIO THREAD: the auto-master's glue compressor: stereo-linked, slow
//! and gentle (1.5:1 over a 6 dB soft knee, 30 ms attack, 300 ms release
//! on the mean-square level, at most 4 dB of reduction), so the loudest
//! passages sit together without audible pumping. Below the knee its gain
//! is exactly 1. Realtime-safe.

/// Compression ratio above the knee.
pub const RATIO: f32 = 1.5;
/// Soft-knee width, dB.
pub const KNEE_DB: f32 = 6.0;
/// Attack time constant of the level detector.
pub const ATTACK_SECS: f64 = 0.030;
/// Release time constant of the level detector.
pub const RELEASE_SECS: f64 = 0.300;
/// Most gain reduction it applies, dB.
pub const MAX_REDUCTION_DB: f32 = 4.0;

/// The static curve: gain change (dB, ≤ 0) for a detector level of
/// `level_db` with the threshold at `threshold_db`.
#[inline]
pub fn gain_db(level_db: f32, threshold_db: f32) -> f32 {
    let over = level_db - threshold_db;
    let slope = 1.0 / RATIO - 1.0;
    let g = if over <= -KNEE_DB / 2.0 {
        0.0
    } else if over < KNEE_DB / 2.0 {
        let x = over + KNEE_DB / 2.0;
        slope * x * x / (2.0 * KNEE_DB)
    } else {
        slope * over
    };
    g.max(-MAX_REDUCTION_DB)
}

/// A stereo-linked compressor with its detector state.
#[derive(Clone, Debug)]
pub struct Glue {
    attack_keep: f32,
    release_keep: f32,
    /// Detector: smoothed mean square of both channels.
    level: f32,
    /// Threshold as a mean square, and in dB (of that mean square).
    threshold_db: f32,
    /// Mean square under which the gain is exactly 1 (the knee's foot).
    quiet_below: f32,
    min_gain: f32,
}

impl Glue {
    /// A compressor at `rate_hz`, off (threshold +inf) until
    /// [`Glue::set_threshold_db`].
    pub fn new(rate_hz: u32) -> Self {
        let keep = |secs: f64| (-1.0 / (secs * f64::from(rate_hz))).exp() as f32;
        Self {
            attack_keep: keep(ATTACK_SECS),
            release_keep: keep(RELEASE_SECS),
            level: 0.0,
            threshold_db: f32::INFINITY,
            quiet_below: f32::INFINITY,
            min_gain: 1.0,
        }
    }

    /// Sets the threshold (dB of the mean square of both channels, ≈ dBFS
    /// RMS); +inf turns the compressor off. Realtime-safe.
    pub fn set_threshold_db(&mut self, threshold_db: f32) {
        self.threshold_db = threshold_db;
        self.quiet_below = 10f32.powf((threshold_db - KNEE_DB / 2.0) / 10.0);
    }

    /// Forgets the detector's state. Realtime-safe.
    pub fn reset(&mut self) {
        self.level = 0.0;
    }

    /// Lowest gain since the last call, and resets it. Realtime-safe.
    pub fn take_min_gain(&mut self) -> f32 {
        std::mem::replace(&mut self.min_gain, 1.0)
    }

    /// The gain for one stereo frame (apply it to that frame).
    /// Realtime-safe.
    #[inline]
    pub fn gain(&mut self, left: f32, right: f32) -> f32 {
        let ms = 0.5 * (left * left + right * right);
        let keep = if ms > self.level {
            self.attack_keep
        } else {
            self.release_keep
        };
        self.level = ms + (self.level - ms) * keep;
        if self.level <= self.quiet_below || !self.level.is_finite() {
            return 1.0;
        }
        let g = 10f32.powf(gain_db(10.0 * self.level.log10(), self.threshold_db) / 20.0);
        self.min_gain = self.min_gain.min(g);
        g
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_macros, clippy::disallowed_methods)]
mod tests {
    use super::*;

    #[test]
    fn the_curve_is_continuous_and_capped() {
        let t = -20.0;
        assert_eq!(gain_db(-40.0, t), 0.0);
        assert_eq!(gain_db(t - KNEE_DB / 2.0, t), 0.0);
        let a = gain_db(t + KNEE_DB / 2.0 - 1e-4, t);
        let b = gain_db(t + KNEE_DB / 2.0 + 1e-4, t);
        assert!((a - b).abs() < 1e-3);
        assert!((gain_db(t + 6.0, t) - (-2.0)).abs() < 1e-5);
        assert_eq!(gain_db(t + 60.0, t), -MAX_REDUCTION_DB);
    }

    #[test]
    fn under_the_knee_the_gain_is_exactly_one() {
        let mut glue = Glue::new(48_000);
        glue.set_threshold_db(-10.0);
        for n in 0..48_000 {
            let x = 0.2 * (n as f32 * 0.05).sin(); // -17 dB mean square, -14 dB peaks
            assert_eq!(glue.gain(x, x), 1.0);
        }
    }

    #[test]
    fn a_loud_passage_is_turned_down_gently() {
        let mut glue = Glue::new(48_000);
        glue.set_threshold_db(-20.0);
        let mut g = 1.0;
        for n in 0..96_000 {
            let x = 0.5 * (n as f32 * 0.05).sin(); // -9 dB mean square
            g = glue.gain(x, x);
        }
        let db = 20.0 * g.log10();
        assert!((-MAX_REDUCTION_DB - 0.01..-3.0).contains(&db), "{db}");
    }
}
