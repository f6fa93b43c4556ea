//! AUDIO THREAD: the auto-master's lookahead true-peak limiter.
//!
//! Stereo-linked. Each frame's required gain (ceiling over the 8×
//! oversampled true peak of the interval it starts, see
//! [`crate::dsp::true_peak`]) goes through a sliding minimum over the lookahead
//! window `W`, an exponential release, and a moving average over `W`: the
//! average at a peak covers only held values at or under that peak's
//! requirement, so the gain is down in time and no over gets through,
//! while the gain curve has no corners (attack is a `W`-frame ramp). The
//! signal is delayed by `W + DELAY_FRAMES - 1` frames to meet its gain.
//! A signal whose true peak stays under the ceiling passes with a gain of
//! exactly 1.
//!
//! Buffers are allocated at construction for the rate; processing is
//! realtime-safe.

use crate::dsp::true_peak::{TruePeak, DELAY_FRAMES};

/// Lookahead (the attack ramp's length): 2 ms.
pub const LOOKAHEAD_SECS: f64 = 0.002;

/// Release time constant: 60 ms (fast enough not to pump on a drum hit's
/// tail, slow enough not to distort bass).
pub const RELEASE_SECS: f64 = 0.060;

/// The limiter aims this far under its ceiling: the 8× detector reads
/// inter-sample peaks up to 0.17 dB low near Nyquist, and the gain's
/// movement spreads a peak a little; 16× measurements of the stress
/// signals (+6 dB white noise the worst: 0.12 dB under the ceiling) stay
/// under it with this margin.
pub const MARGIN_DB: f64 = 0.25;

/// Frames of lookahead window at `rate_hz` (at least 1).
pub fn window_frames(rate_hz: u32) -> usize {
    ((LOOKAHEAD_SECS * f64::from(rate_hz)).round() as usize).max(1)
}

/// The limiter's delay at `rate_hz`, frames: the auto-master's latency.
pub fn latency_frames(rate_hz: u32) -> usize {
    window_frames(rate_hz) + DELAY_FRAMES - 1
}

/// A stereo lookahead limiter.
pub struct Limiter {
    detector: TruePeak,
    window: usize,
    /// Linear ceiling the gain aims at (margin included).
    target: f32,
    /// The previous frame's requirement (an interval has two ends).
    prev_required: f32,
    /// Sliding minimum: a monotonic queue of (step, value), ring-buffered.
    queue_step: Box<[u64]>,
    queue_value: Box<[f32]>,
    queue_head: usize,
    queue_len: usize,
    step: u64,
    /// After the release.
    held: f32,
    release_keep: f32,
    /// Moving average over `window` held values.
    avg_ring: Box<[f32]>,
    avg_pos: usize,
    avg_sum: f64,
    /// Held values under 1 in the ring (0: the gain is exactly 1).
    avg_under_one: usize,
    /// The signal's delay line.
    delay: Box<[[f32; 2]]>,
    delay_pos: usize,
    /// Lowest gain since the last [`Limiter::take_min_gain`].
    min_gain: f32,
}

impl Limiter {
    /// A limiter at `rate_hz` with its ceiling at `ceiling_dbtp`. Not
    /// realtime-safe (allocates its buffers).
    pub fn new(rate_hz: u32, ceiling_dbtp: f32) -> Self {
        let window = window_frames(rate_hz);
        let latency = latency_frames(rate_hz);
        let mut limiter = Self {
            detector: TruePeak::new(),
            window,
            target: 1.0,
            prev_required: 1.0,
            queue_step: std::iter::repeat_n(0, window + 1).collect(),
            queue_value: std::iter::repeat_n(1.0, window + 1).collect(),
            queue_head: 0,
            queue_len: 0,
            step: 0,
            held: 1.0,
            release_keep: (-1.0 / (RELEASE_SECS * f64::from(rate_hz))).exp() as f32,
            avg_ring: std::iter::repeat_n(1.0, window).collect(),
            avg_pos: 0,
            avg_sum: window as f64,
            avg_under_one: 0,
            delay: std::iter::repeat_n([0.0; 2], latency).collect(),
            delay_pos: 0,
            min_gain: 1.0,
        };
        limiter.set_ceiling(ceiling_dbtp);
        limiter
    }

    /// Sets the ceiling, dBTP. Realtime-safe.
    pub fn set_ceiling(&mut self, ceiling_dbtp: f32) {
        self.target = 10f32.powf((ceiling_dbtp - MARGIN_DB as f32) / 20.0);
    }

    /// The delay this limiter adds, frames.
    pub fn latency_frames(&self) -> usize {
        self.delay.len()
    }

    /// Lowest gain applied since the last call (1.0: no reduction), and
    /// resets it. Realtime-safe.
    pub fn take_min_gain(&mut self) -> f32 {
        std::mem::replace(&mut self.min_gain, 1.0)
    }

    /// Forgets all state (silence before the next frame). Realtime-safe.
    pub fn reset(&mut self) {
        self.detector.reset();
        self.prev_required = 1.0;
        self.queue_len = 0;
        self.held = 1.0;
        self.avg_ring.fill(1.0);
        self.avg_sum = self.window as f64;
        self.avg_under_one = 0;
        self.delay.fill([0.0; 2]);
    }

    /// Limits one stereo frame: takes the input, returns the output of
    /// [`Limiter::latency_frames`] frames before. Realtime-safe.
    #[inline]
    pub fn process(&mut self, left: f32, right: f32) -> (f32, f32) {
        let peak = self.detector.push(left, right);
        let required_now = if peak > self.target {
            self.target / peak
        } else {
            1.0
        };
        let required = required_now.min(self.prev_required);
        self.prev_required = required_now;

        // Sliding minimum over the last `window` requirements.
        let cap = self.queue_value.len();
        while self.queue_len > 0 {
            let back = (self.queue_head + self.queue_len - 1) % cap;
            if self.queue_value[back] >= required {
                self.queue_len -= 1;
            } else {
                break;
            }
        }
        let slot = (self.queue_head + self.queue_len) % cap;
        self.queue_step[slot] = self.step;
        self.queue_value[slot] = required;
        self.queue_len += 1;
        while self.queue_step[self.queue_head] + (self.window as u64) <= self.step {
            self.queue_head = (self.queue_head + 1) % cap;
            self.queue_len -= 1;
        }
        let minimum = self.queue_value[self.queue_head];
        self.step += 1;

        // Release toward 1 (exactly 1 once within float noise of it).
        let released = 1.0 - (1.0 - self.held) * self.release_keep;
        self.held = if released > 0.999_999_9 {
            1.0
        } else {
            released
        }
        .min(minimum);

        // Moving average.
        let old = std::mem::replace(&mut self.avg_ring[self.avg_pos], self.held);
        self.avg_pos = if self.avg_pos + 1 == self.window {
            0
        } else {
            self.avg_pos + 1
        };
        self.avg_sum += f64::from(self.held) - f64::from(old);
        self.avg_under_one =
            self.avg_under_one + usize::from(self.held < 1.0) - usize::from(old < 1.0);
        let gain = if self.avg_under_one == 0 {
            1.0
        } else {
            (self.avg_sum / self.window as f64).min(1.0) as f32
        };
        self.min_gain = self.min_gain.min(gain);

        // The delayed frame meets its gain.
        let [l, r] = std::mem::replace(&mut self.delay[self.delay_pos], [left, right]);
        self.delay_pos = if self.delay_pos + 1 == self.delay.len() {
            0
        } else {
            self.delay_pos + 1
        };
        (l * gain, r * gain)
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_macros, clippy::disallowed_methods)]
mod tests {
    use super::*;

    fn run(limiter: &mut Limiter, input: &[[f32; 2]]) -> Vec<[f32; 2]> {
        input
            .iter()
            .map(|[l, r]| {
                let (a, b) = limiter.process(*l, *r);
                [a, b]
            })
            .collect()
    }

    #[test]
    fn a_quiet_signal_passes_untouched_after_the_delay() {
        let rate = 48_000;
        let mut limiter = Limiter::new(rate, -1.0);
        let d = limiter.latency_frames();
        // -2.5 dBFS peak noise-like signal: more than 1 dB under -1 dBTP.
        let input: Vec<[f32; 2]> = (0..20_000)
            .map(|n| {
                let x = 0.75 * ((n as f32 * 0.37).sin() * (n as f32 * 0.011).cos());
                [x, -x * 0.5]
            })
            .collect();
        let out = run(&mut limiter, &input);
        for n in d..input.len() {
            assert_eq!(out[n], input[n - d], "frame {n}");
        }
    }

    #[test]
    fn a_hot_signal_comes_out_under_the_ceiling() {
        let rate = 48_000;
        let mut limiter = Limiter::new(rate, -1.0);
        let input: Vec<[f32; 2]> = (0..48_000)
            .map(|n| {
                let t = n as f32 / rate as f32;
                let x = 3.0 * (2.0 * std::f32::consts::PI * 997.0 * t).sin();
                [x, x * 0.3]
            })
            .collect();
        let out = run(&mut limiter, &input);
        let ceiling = 10f32.powf(-1.0 / 20.0);
        let peak = out.iter().flatten().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!(peak <= ceiling, "{peak}");
        assert!(peak > ceiling * 0.9, "{peak}");
    }

    #[test]
    fn an_impulse_is_caught_at_the_first_frame() {
        let rate = 44_100;
        let mut limiter = Limiter::new(rate, -1.0);
        let mut input = vec![[0.0f32; 2]; 2000];
        input[500] = [4.0, -4.0];
        let out = run(&mut limiter, &input);
        let ceiling = 10f32.powf(-1.0 / 20.0);
        let peak = out.iter().flatten().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!(peak <= ceiling, "{peak}");
        let d = limiter.latency_frames();
        assert!(out[500 + d][0] > 0.5, "{:?}", out[500 + d]);
    }
}
