//! AUDIO THREAD: the output buses. Stems mix into a sub-block per bus
//! ([`BusBlock`], zeroed only for the buses in use); the engine writes them
//! to the caller's channels ([`Outputs`]): main through the auto-master,
//! every aux bus through a plain delay of the same latency
//! ([`AuxDelay`]), so click and guide stay in time with the music and are
//! never gained or limited by it. Realtime-safe.

use crate::bridge::{BUS_CHANNELS, BUS_COUNT};

use super::SUB_BLOCK_FRAMES;

/// The output channels of one `process()` call: two per bus (left, right),
/// in [`crate::bridge::Bus::ALL`] order. An empty slice is a bus nobody
/// listens to (its stems are mixed and dropped); main is always there.
pub struct Outputs<'a> {
    channels: [&'a mut [f32]; BUS_CHANNELS],
    frames: usize,
}

impl<'a> Outputs<'a> {
    /// Main only (a stereo render, the analysis): the aux buses are
    /// dropped.
    pub fn main(left: &'a mut [f32], right: &'a mut [f32]) -> Self {
        let mut channels: [&'a mut [f32]; BUS_CHANNELS] = Default::default();
        let frames = left.len().min(right.len());
        channels[0] = &mut left[..frames];
        channels[1] = &mut right[..frames];
        Self { channels, frames }
    }

    /// Every bus: `channels[2 * b]` and `channels[2 * b + 1]` are bus `b`'s
    /// left and right. The block is main's length (the shorter channel);
    /// an aux channel of another length is not connected (nothing is
    /// written to it), as is a bus with only one channel connected.
    pub fn new(channels: [&'a mut [f32]; BUS_CHANNELS]) -> Self {
        let mut channels = channels;
        let frames = channels[0].len().min(channels[1].len());
        for pair in channels.chunks_exact_mut(2) {
            if pair[0].len() < frames || pair[1].len() < frames {
                pair[0] = Default::default();
                pair[1] = Default::default();
            } else {
                for c in pair.iter_mut() {
                    let all = std::mem::take(c);
                    *c = &mut all[..frames];
                }
            }
        }
        Self { channels, frames }
    }

    /// Frames in the block.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Whether bus `bus` (an index in [`crate::bridge::Bus::ALL`]) has
    /// channels.
    pub fn is_connected(&self, bus: usize) -> bool {
        self.frames > 0 && self.channels.get(2 * bus).is_some_and(|c| !c.is_empty())
    }

    /// Bus `bus`'s left and right channels (empty when not connected).
    pub fn bus_mut(&mut self, bus: usize) -> (&mut [f32], &mut [f32]) {
        match self.channels.get_mut(2 * bus..2 * bus + 2) {
            Some([l, r]) => (&mut **l, &mut **r),
            _ => (&mut [], &mut []),
        }
    }

    /// Every channel (connected or not), bus after bus.
    pub fn channels_mut(&mut self) -> &mut [&'a mut [f32]; BUS_CHANNELS] {
        &mut self.channels
    }

    /// Frames `from..to` of every connected bus (clamped to the block).
    pub fn range(&mut self, from: usize, to: usize) -> Outputs<'_> {
        let to = to.min(self.frames);
        let from = from.min(to);
        let channels = self.channels.each_mut().map(|c| {
            if c.is_empty() {
                return Default::default();
            }
            c.get_mut(from..to).unwrap_or_default()
        });
        Outputs {
            channels,
            frames: to - from,
        }
    }
}

/// One sub-block of every bus: what a deck (or the whole engine) mixed.
/// Only the buses in use hold data; the others read as silence.
pub(super) struct BusBlock {
    channels: [[f32; SUB_BLOCK_FRAMES]; BUS_CHANNELS],
    /// Bit `b`: bus `b` holds data over `..len`.
    used: u16,
    len: usize,
}

impl BusBlock {
    /// A block on the heap (18 KiB), nothing in use.
    pub(super) fn boxed() -> Box<Self> {
        Box::new(Self {
            channels: [[0.0; SUB_BLOCK_FRAMES]; BUS_CHANNELS],
            used: 0,
            len: 0,
        })
    }

    /// Starts a block of `len` frames with no bus in use.
    pub(super) fn clear(&mut self, len: usize) {
        self.used = 0;
        self.len = len.min(SUB_BLOCK_FRAMES);
    }

    /// Whether bus `bus` holds data.
    pub(super) fn is_used(&self, bus: usize) -> bool {
        self.used & (1 << bus) != 0
    }

    /// Bus `bus`'s channels, to add into: zeroed over the block's length
    /// the first time since [`BusBlock::clear`].
    pub(super) fn bus_mut(
        &mut self,
        bus: usize,
    ) -> (&mut [f32; SUB_BLOCK_FRAMES], &mut [f32; SUB_BLOCK_FRAMES]) {
        let bus = bus.min(BUS_COUNT - 1);
        let (head, tail) = self.channels.split_at_mut(2 * bus + 1);
        let (l, r) = (&mut head[2 * bus], &mut tail[0]);
        if self.used & (1 << bus) == 0 {
            self.used |= 1 << bus;
            l[..self.len].fill(0.0);
            r[..self.len].fill(0.0);
        }
        (l, r)
    }

    /// Bus `bus`'s channels as they are (stale where not in use).
    pub(super) fn bus(&self, bus: usize) -> (&[f32; SUB_BLOCK_FRAMES], &[f32; SUB_BLOCK_FRAMES]) {
        let bus = bus.min(BUS_COUNT - 1);
        (&self.channels[2 * bus], &self.channels[2 * bus + 1])
    }

    /// Multiplies frames `from..to` of every bus in use by `gain(i)`, `i`
    /// counting from 0 at `from`.
    pub(super) fn scale(&mut self, from: usize, to: usize, gain: impl Fn(usize) -> f32) {
        let to = to.min(self.len);
        for bus in 0..BUS_COUNT {
            if !self.is_used(bus) {
                continue;
            }
            for ch in &mut self.channels[2 * bus..2 * bus + 2] {
                for (i, x) in ch[from.min(to)..to].iter_mut().enumerate() {
                    *x *= gain(i);
                }
            }
        }
    }
}

/// A stereo delay of a fixed number of frames (the auto-master's latency)
/// for one aux bus. Skips its work once it has been fed silence for longer
/// than it is long.
pub(super) struct AuxDelay {
    /// Interleaved stereo ring, `2 * delay` samples.
    line: Box<[f32]>,
    pos: usize,
    /// Frames of silence fed since the last sound (saturating).
    quiet_frames: usize,
}

impl AuxDelay {
    /// A delay of `frames` frames (0: none), silent.
    pub(super) fn new(frames: usize) -> Self {
        Self {
            line: std::iter::repeat_n(0.0, 2 * frames).collect(),
            pos: 0,
            quiet_frames: frames,
        }
    }

    fn frames(&self) -> usize {
        self.line.len() / 2
    }

    /// Forgets what it holds (silence comes out next).
    pub(super) fn reset(&mut self) {
        self.line.fill(0.0);
        self.pos = 0;
        self.quiet_frames = self.frames();
    }

    /// Writes the delayed `input` (`None`: silence) to `out_l`/`out_r`
    /// (the same length; `input`'s channels at least as long).
    pub(super) fn run(
        &mut self,
        input: Option<(&[f32], &[f32])>,
        out_l: &mut [f32],
        out_r: &mut [f32],
    ) {
        let n = out_l.len().min(out_r.len());
        let delay = self.frames();
        if input.is_none() && self.quiet_frames >= delay {
            out_l.fill(0.0);
            out_r.fill(0.0);
            self.quiet_frames = self.quiet_frames.saturating_add(n);
            return;
        }
        if delay == 0 {
            if let Some((l, r)) = input {
                out_l[..n].copy_from_slice(&l[..n]);
                out_r[..n].copy_from_slice(&r[..n]);
            }
            return;
        }
        for i in 0..n {
            let (x_l, x_r) = input.map_or((0.0, 0.0), |(l, r)| (l[i], r[i]));
            let j = 2 * self.pos;
            out_l[i] = self.line[j];
            out_r[i] = self.line[j + 1];
            self.line[j] = x_l;
            self.line[j + 1] = x_r;
            self.pos += 1;
            if self.pos == delay {
                self.pos = 0;
            }
        }
        self.quiet_frames = match input {
            None => self.quiet_frames.saturating_add(n),
            Some(_) => 0,
        };
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_macros, clippy::disallowed_methods)]
mod tests {
    use super::*;

    #[test]
    fn a_delay_is_exact_and_quiet_after_its_length() {
        let mut d = AuxDelay::new(3);
        let input: Vec<f32> = (1..=8).map(|i| i as f32).collect();
        let (mut l, mut r) = (vec![9.0; 8], vec![9.0; 8]);
        d.run(Some((&input, &input)), &mut l, &mut r);
        assert_eq!(l, [0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        d.run(None, &mut l[..4], &mut r[..4]);
        assert_eq!(&l[..4], &[6.0, 7.0, 8.0, 0.0]);
        d.run(None, &mut l[..4], &mut r[..4]);
        assert_eq!(&l[..4], &[0.0; 4]);
        let mut none = AuxDelay::new(0);
        none.run(Some((&input, &input)), &mut l, &mut r);
        assert_eq!(l, input);
    }

    #[test]
    fn outputs_drop_short_or_half_connected_buses() {
        let (mut a, mut b, mut c, mut d) = (vec![0.0; 8], vec![0.0; 8], vec![0.0; 8], vec![0.0; 4]);
        let mut channels: [&mut [f32]; BUS_CHANNELS] = Default::default();
        channels[0] = &mut a;
        channels[1] = &mut b;
        channels[2] = &mut c;
        channels[4] = &mut d;
        let mut out = Outputs::new(channels);
        assert_eq!(out.frames(), 8);
        assert!(out.is_connected(0));
        assert!(!out.is_connected(1), "one channel of two");
        assert!(!out.is_connected(2), "shorter than the block");
        let part = out.range(2, 6);
        assert_eq!(part.frames(), 4);
        assert!(part.is_connected(0));
    }

    #[test]
    fn a_block_zeroes_a_bus_on_first_use_only() {
        let mut b = BusBlock::boxed();
        b.clear(4);
        b.bus_mut(2).0[..4].copy_from_slice(&[1.0; 4]);
        b.bus_mut(2).0[0] += 1.0;
        assert_eq!(&b.bus(2).0[..4], &[2.0, 1.0, 1.0, 1.0]);
        assert!(b.is_used(2) && !b.is_used(0));
        b.scale(1, 3, |_| 0.5);
        assert_eq!(&b.bus(2).0[..4], &[2.0, 0.5, 0.5, 1.0]);
        b.clear(4);
        assert_eq!(&b.bus_mut(2).0[..4], &[0.0; 4]);
    }
}
