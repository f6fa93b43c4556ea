//! AUDIO THREAD: fade curves for seeks, song changes, pause and underrun
//! recovery. Realtime-safe: pure arithmetic.

use std::f32::consts::FRAC_PI_2;

/// Length of the seek / song-change crossfade and of the pause fade: 10 ms.
pub const CROSSFADE_SECS: f32 = 0.010;

/// Length of the fade-in after an underrun: 5 ms.
pub const RECOVER_SECS: f32 = 0.005;

/// Length of a gain ramp after a mix change: 10 ms.
pub const GAIN_RAMP_SECS: f32 = 0.010;

/// Frames for `secs` at `rate_hz`, at least 1.
pub fn frames_for(secs: f32, rate_hz: u32) -> u32 {
    ((secs * rate_hz as f32).round() as u32).max(1)
}

/// Equal-power crossfade gains at frame `i` of an `len`-frame fade:
/// `(fade_out, fade_in)` with `fade_out² + fade_in² = 1`. Realtime-safe.
#[inline]
pub fn equal_power(i: u32, len: u32) -> (f32, f32) {
    let t = (i as f32 + 0.5) / len as f32;
    let theta = t.clamp(0.0, 1.0) * FRAC_PI_2;
    (theta.cos(), theta.sin())
}

/// Raised-cosine fade-in gain at frame `i` of `len` (0 → 1). Realtime-safe.
#[inline]
pub fn fade_in(i: u32, len: u32) -> f32 {
    let t = ((i as f32 + 0.5) / len as f32).clamp(0.0, 1.0);
    0.5 - 0.5 * (t * std::f32::consts::PI).cos()
}

#[cfg(test)]
#[allow(clippy::disallowed_macros, clippy::disallowed_methods)]
mod tests {
    use super::*;

    #[test]
    fn equal_power_keeps_power() {
        for i in 0..480 {
            let (a, b) = equal_power(i, 480);
            assert!((a * a + b * b - 1.0).abs() < 1e-5);
        }
        assert!(equal_power(0, 480).0 > 0.999);
        assert!(equal_power(479, 480).1 > 0.999);
    }

    #[test]
    fn fade_in_is_monotonic() {
        let mut last = 0.0;
        for i in 0..240 {
            let g = fade_in(i, 240);
            assert!(g >= last && (0.0..=1.0).contains(&g));
            last = g;
        }
    }
}
