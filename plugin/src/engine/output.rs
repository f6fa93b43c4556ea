//! AUDIO THREAD: the output stage after the mix: the main bus through the
//! auto-master and the aux buses through their delays into the caller's
//! channels, and the sanitising every host expects from a plugin (no NaN,
//! no infinity, no subnormal: clap-validator feeds subnormal input and
//! rejects any subnormal output, and subnormals cost 10–100× per operation
//! on x86). The master gain is the plugin's (plugin/io.rs).

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
        for (x, want) in [
            (f32::NAN, 0.0),
            (f32::INFINITY, 0.0),
            (f32::NEG_INFINITY, 0.0),
            (sub, 0.0),
            (-sub, 0.0),
            (0.5, 0.5),
            (f32::MAX, f32::MAX),
            (1.0e-30 * 1.0e-9, 0.0),
        ] {
            assert_eq!(sanitize(x), want, "{x}");
        }
    }
}
