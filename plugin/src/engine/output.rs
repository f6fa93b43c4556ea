//! AUDIO THREAD: the output stage after the mix: the main bus through the
//! auto-master and the aux buses through their delays into the caller's
//! channels, then master gain and the sanitising every host expects from a
//! plugin (no NaN, no infinity, no subnormal: clap-validator feeds
//! subnormal input and rejects any subnormal output, and subnormals cost
//! 10–100× per operation on x86).

use super::buses::Outputs;
use super::Engine;
use crate::bridge::BUS_COUNT;

impl Engine {
    /// Writes the sub-block just rendered (`out.frames()` frames of
    /// `out_block`) to `out`: main through the auto-master, each connected
    /// aux bus through its delay (silence where no stem plays on it).
    pub(super) fn write_outputs(&mut self, out: &mut Outputs) {
        let n = out.frames();
        let Some(block) = self.out_block.take() else {
            return;
        };
        {
            let (l, r) = out.bus_mut(0);
            let (bl, br) = block.bus(0);
            if block.is_used(0) {
                l.copy_from_slice(&bl[..n]);
                r.copy_from_slice(&br[..n]);
            } else {
                l.fill(0.0);
                r.fill(0.0);
            }
            self.master(l, r);
        }
        for bus in 1..BUS_COUNT {
            if !out.is_connected(bus) {
                continue;
            }
            let (l, r) = out.bus_mut(bus);
            let (bl, br) = block.bus(bus);
            let input = block.is_used(bus).then(|| (&bl[..n], &br[..n]));
            self.aux_delays[bus - 1].run(input, l, r);
        }
        self.out_block = Some(block);
    }

    /// What comes out of the auto-master's and the aux buses' delays when
    /// nothing more goes in: silence in, the last
    /// [`Engine::latency_frames`] frames of what was played out (offline
    /// renders call this after the end, as a host keeps calling `process`).
    /// Does not touch the transport. Realtime-safe.
    pub fn render_tail_buses(&mut self, out: &mut Outputs) {
        {
            let (l, r) = out.bus_mut(0);
            l.fill(0.0);
            r.fill(0.0);
            if let Some(chain) = self.chain.as_deref_mut() {
                chain.process(l, r);
            }
        }
        for bus in 1..BUS_COUNT {
            if out.is_connected(bus) {
                let (l, r) = out.bus_mut(bus);
                self.aux_delays[bus - 1].run(None, l, r);
            }
        }
    }
}

/// Multiplies `out` by the per-frame gains `next_gain()` yields (linear
/// amplitude, one call per frame, shared by both channels) and flushes
/// every NaN, infinity and subnormal to 0. `left` and `right` are one
/// channel each, the same length (frames). Realtime-safe.
#[inline]
pub fn apply_gain_and_sanitize(
    left: &mut [f32],
    right: &mut [f32],
    mut next_gain: impl FnMut() -> f32,
) {
    for (l, r) in left.iter_mut().zip(right.iter_mut()) {
        let g = next_gain();
        *l = sanitize(*l * g);
        *r = sanitize(*r * g);
    }
}

/// `x`, or 0 if `x` is NaN, infinite or subnormal. Realtime-safe.
#[inline]
pub fn sanitize(x: f32) -> f32 {
    if x.is_finite() && x.abs() >= f32::MIN_POSITIVE {
        x
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flushes_nan_infinities_and_subnormals() {
        let sub = f32::MIN_POSITIVE / 4.0;
        assert!(sub.is_subnormal());
        let mut l = [f32::NAN, f32::INFINITY, sub, 0.5, -sub, f32::NEG_INFINITY];
        let mut r = [0.25, -0.0, 1.0, f32::NAN, f32::MAX, 0.0];
        apply_gain_and_sanitize(&mut l, &mut r, || 1.0);
        assert_eq!(l, [0.0, 0.0, 0.0, 0.5, 0.0, 0.0]);
        assert_eq!(r, [0.25, 0.0, 1.0, 0.0, f32::MAX, 0.0]);
        for x in l.iter().chain(r.iter()) {
            assert!(x.is_finite() && !x.is_subnormal());
        }
    }

    #[test]
    fn gain_that_makes_subnormals_is_flushed() {
        let mut l = [1.0e-30_f32; 4];
        let mut r = [0.5_f32; 4];
        let mut gains = [1.0, 1.0e-9, 2.0, f32::INFINITY].into_iter();
        apply_gain_and_sanitize(&mut l, &mut r, || gains.next().unwrap_or(1.0));
        assert_eq!(l[0], 1.0e-30);
        assert_eq!(l[1], 0.0, "1e-39 is subnormal");
        assert_eq!(l[2], 2.0e-30);
        assert_eq!(r, [0.5, 0.5e-9, 1.0, 0.0]);
    }
}
