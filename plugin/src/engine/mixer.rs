//! AUDIO THREAD: per-stem gain, pan, mute and solo, with linear gain ramps so
//! that a mix change never clicks. Realtime-safe.
//!
//! Pan is a balance control with the same law for mono and stereo stems
//! (mono stems are first copied to both channels): the channel the stem is
//! panned away from is attenuated by `cos(|pan| · π/2)`, the other stays at
//! unity. So at pan 0 every stem plays at unity (a stereo stem unchanged, a
//! mono stem at 0 dB in both channels), at |pan| = 0.5 the far side is at
//! -3 dB, and at |pan| = 1 it is silent.

use std::f32::consts::FRAC_PI_2;

use crate::bridge::StemMix;

/// Linear gains `(left, right)` for a mix, given whether any stem of the
/// song is soloed. Realtime-safe.
pub fn target_gains(mix: &StemMix, any_solo: bool) -> (f32, f32) {
    let audible = !mix.mute && (!any_solo || mix.solo);
    if !audible || !mix.gain_db.is_finite() {
        return (0.0, 0.0);
    }
    let g = db_to_linear(mix.gain_db);
    let pan = mix.pan.clamp(-1.0, 1.0);
    let away = (pan.abs() * FRAC_PI_2).cos();
    if pan > 0.0 {
        (g * away, g)
    } else if pan < 0.0 {
        (g, g * away)
    } else {
        (g, g)
    }
}

/// `10^(db/20)`. Realtime-safe.
#[inline]
pub fn db_to_linear(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

/// The smoothed gains of one stem lane.
#[derive(Clone, Copy, Debug, Default)]
pub struct GainRamp {
    current: [f32; 2],
    target: [f32; 2],
    step: [f32; 2],
    frames_left: u32,
}

impl GainRamp {
    /// Jumps to `target` with no ramp (a deck starting). Realtime-safe.
    pub fn reset(&mut self, target: (f32, f32)) {
        self.current = [target.0, target.1];
        self.target = self.current;
        self.frames_left = 0;
    }

    /// Starts a linear ramp to `target` over `ramp_frames` if it differs
    /// from the current target. Realtime-safe.
    pub fn set_target(&mut self, target: (f32, f32), ramp_frames: u32) {
        let t = [target.0, target.1];
        if t == self.target {
            return;
        }
        self.target = t;
        self.frames_left = ramp_frames.max(1);
        let n = self.frames_left as f32;
        self.step = [(t[0] - self.current[0]) / n, (t[1] - self.current[1]) / n];
    }

    /// Multiplies interleaved stereo `frames` by the gains and adds them
    /// into `out_l`/`out_r`, advancing the ramp per frame. Realtime-safe.
    pub fn mix_into(&mut self, frames: &[f32], out_l: &mut [f32], out_r: &mut [f32]) {
        let mut frames_iter = frames.chunks_exact(2).zip(out_l.iter_mut().zip(out_r));
        if self.frames_left > 0 {
            for (f, (l, r)) in frames_iter.by_ref() {
                self.current[0] += self.step[0];
                self.current[1] += self.step[1];
                self.frames_left -= 1;
                if self.frames_left == 0 {
                    self.current = self.target;
                }
                *l += f[0] * self.current[0];
                *r += f[1] * self.current[1];
                if self.frames_left == 0 {
                    break;
                }
            }
        }
        let [gl, gr] = self.current;
        if gl == 0.0 && gr == 0.0 {
            return;
        }
        for (f, (l, r)) in frames_iter {
            *l += f[0] * gl;
            *r += f[1] * gr;
        }
    }

    /// The gains now `(left, right)`. Realtime-safe.
    pub fn current(&self) -> (f32, f32) {
        (self.current[0], self.current[1])
    }

    /// True when the gains are 0 and not ramping: the stem is inaudible and
    /// need not be read. Realtime-safe.
    pub fn is_silent(&self) -> bool {
        self.frames_left == 0 && self.current == [0.0, 0.0]
    }

    /// Advances the ramp by `frames` without producing output (the stem is
    /// silent for these frames). Realtime-safe.
    pub fn skip(&mut self, frames: u32) {
        // Frame by frame, so the result does not depend on how a run of
        // frames is split into blocks.
        for _ in 0..frames.min(self.frames_left) {
            self.current[0] += self.step[0];
            self.current[1] += self.step[1];
            self.frames_left -= 1;
        }
        if self.frames_left == 0 {
            self.current = self.target;
        }
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_macros, clippy::disallowed_methods)]
mod tests {
    use super::*;

    #[test]
    fn unity_at_centre_and_balance_law() {
        let mut mix = StemMix::default();
        assert_eq!(target_gains(&mix, false), (1.0, 1.0));
        mix.pan = 0.5;
        let (l, r) = target_gains(&mix, false);
        assert!((20.0 * l.log10() + 3.01).abs() < 0.01, "{l}");
        assert_eq!(r, 1.0);
        mix.pan = -1.0;
        let (l, r) = target_gains(&mix, false);
        assert_eq!(l, 1.0);
        assert!(r.abs() < 1e-7);
        mix.gain_db = -6.0;
        mix.pan = 0.0;
        let (l, _) = target_gains(&mix, false);
        assert!((l - 0.501_187).abs() < 1e-5);
    }

    #[test]
    fn mute_and_solo() {
        let mut mix = StemMix::default();
        assert_eq!(target_gains(&mix, true), (0.0, 0.0));
        mix.solo = true;
        assert_eq!(target_gains(&mix, true), (1.0, 1.0));
        mix.mute = true;
        assert_eq!(target_gains(&mix, true), (0.0, 0.0));
    }

    #[test]
    fn ramp_is_independent_of_split() {
        let input: Vec<f32> = (0..2000).map(|i| (i as f32 * 0.01).sin()).collect();
        let run = |split: usize| {
            let mut g = GainRamp::default();
            g.reset((1.0, 1.0));
            g.set_target((0.25, 0.5), 480);
            let mut l = vec![0.0; 1000];
            let mut r = vec![0.0; 1000];
            let mut at = 0;
            while at < 1000 {
                let n = split.min(1000 - at);
                g.mix_into(
                    &input[at * 2..(at + n) * 2],
                    &mut l[at..at + n],
                    &mut r[at..at + n],
                );
                at += n;
            }
            (l, r)
        };
        let a = run(1000);
        for split in [1, 17, 480, 512] {
            assert_eq!(run(split), a);
        }
    }
}
