//! AUDIO THREAD (routing) and MAIN THREAD (parsing): the channel map of
//! `trax play --outputs`: which device channels each output bus plays on,
//! for audio devices reached through cpal (ALSA, CoreAudio), whose
//! nice-plug backend only has the main output.
//!
//! Syntax: comma-separated `bus=channels`, channels 1-based: `a-b` (a
//! stereo pair, left on `a`, right on `b`: `b = a + 1`) or `a` (one
//! channel: the bus's mono sum, `(L + R) / 2`). Example: `main=1-2,
//! click=3,guide=4`. A bus may appear once; two buses may not share a
//! channel. Buses not in the map are not heard (the caller warns).

use anyhow::{bail, Context, Result};
use trax::bridge::{Bus, BUS_CHANNELS, BUS_COUNT};

/// Where one bus goes: a stereo pair or one (mono-summed) channel,
/// 0-based device channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Left on the first channel, right on the second.
    Stereo(usize, usize),
    /// `(L + R) / 2` on one channel.
    Mono(usize),
}

/// The channel map: for each bus (by [`Bus::index`]), its device channels.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChannelMap {
    targets: [Option<Target>; BUS_COUNT],
}

impl ChannelMap {
    /// Parses `text` (see the module).
    ///
    /// # Errors
    /// An unknown bus, a bus twice, a malformed or 0 channel, a pair that
    /// is not two adjacent channels, a channel used twice, or no bus at
    /// all; each names the part at fault.
    pub fn parse(text: &str) -> Result<Self> {
        let mut map = ChannelMap::default();
        let mut used: Vec<usize> = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, channels) = part.split_once('=').with_context(|| {
                format!("--outputs {part:?}: expected BUS=CHANNELS, e.g. click=3")
            })?;
            let bus = Bus::parse(name.trim()).with_context(|| {
                let names: Vec<&str> = Bus::ALL.iter().map(|b| b.key()).collect();
                format!(
                    "--outputs {part:?}: unknown bus {:?} (one of {})",
                    name.trim(),
                    names.join(", ")
                )
            })?;
            if map.targets[bus.index()].is_some() {
                bail!("--outputs {part:?}: bus {} is mapped twice", bus.key());
            }
            let channel = |s: &str| -> Result<usize> {
                let n: usize = s.trim().parse().with_context(|| {
                    format!("--outputs {part:?}: {s:?} is not a channel number")
                })?;
                if n == 0 {
                    bail!("--outputs {part:?}: channels count from 1");
                }
                Ok(n - 1)
            };
            let target = match channels.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (channel(a)?, channel(b)?);
                    if b != a + 1 {
                        bail!(
                            "--outputs {part:?}: a stereo pair is two adjacent channels, e.g. {}-{}",
                            a + 1,
                            a + 2
                        );
                    }
                    Target::Stereo(a, b)
                }
                None => Target::Mono(channel(channels)?),
            };
            let chans: &[usize] = match &target {
                Target::Stereo(a, b) => &[*a, *b],
                Target::Mono(a) => &[*a],
            };
            for &c in chans {
                if used.contains(&c) {
                    bail!("--outputs {part:?}: channel {} is already in use", c + 1);
                }
                used.push(c);
            }
            map.targets[bus.index()] = Some(target);
        }
        if map.targets.iter().all(Option::is_none) {
            bail!("--outputs {text:?}: no bus mapped (e.g. main=1-2,click=3)");
        }
        Ok(map)
    }

    /// The target of `bus`, if mapped.
    pub fn target(&self, bus: Bus) -> Option<Target> {
        self.targets[bus.index()]
    }

    /// Device channels the map needs (its highest channel + 1).
    pub fn channels_needed(&self) -> usize {
        self.targets
            .iter()
            .flatten()
            .map(|t| match *t {
                Target::Stereo(_, b) => b + 1,
                Target::Mono(a) => a + 1,
            })
            .max()
            .unwrap_or(0)
    }

    /// The buses the map leaves out (not heard).
    pub fn unmapped(&self) -> Vec<Bus> {
        Bus::ALL
            .into_iter()
            .filter(|b| self.targets[b.index()].is_none())
            .collect()
    }

    /// Writes `frames` frames of the buses (`buses[2 b]`, `buses[2 b + 1]`:
    /// bus `b`'s left and right, each at least `frames` long) into the
    /// interleaved `device` buffer of `device_channels` channels: channels
    /// no bus maps to are silence; a target beyond the device is skipped.
    /// Realtime-safe (no allocation).
    pub fn route(
        &self,
        buses: &[&[f32]; BUS_CHANNELS],
        frames: usize,
        device: &mut [f32],
        device_channels: usize,
    ) {
        let frames = frames.min(device.len() / device_channels.max(1));
        device[..frames * device_channels].fill(0.0);
        for (b, target) in self.targets.iter().enumerate() {
            let Some(target) = *target else {
                continue;
            };
            let (l, r) = (buses[2 * b], buses[2 * b + 1]);
            match target {
                Target::Stereo(a, c) if c < device_channels => {
                    for i in 0..frames {
                        device[i * device_channels + a] = l[i];
                        device[i * device_channels + c] = r[i];
                    }
                }
                Target::Mono(a) if a < device_channels => {
                    for i in 0..frames {
                        device[i * device_channels + a] = 0.5 * (l[i] + r[i]);
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pairs_single_channels_and_bus_names() {
        let m = ChannelMap::parse("main=1-2, click=3,Guide=4 ,aux 1=7-8").expect("a map");
        assert_eq!(m.target(Bus::Main), Some(Target::Stereo(0, 1)));
        assert_eq!(m.target(Bus::Click), Some(Target::Mono(2)));
        assert_eq!(m.target(Bus::Guide), Some(Target::Mono(3)));
        assert_eq!(m.target(Bus::Aux1), Some(Target::Stereo(6, 7)));
        assert_eq!(m.target(Bus::Drums), None);
        assert_eq!(m.channels_needed(), 8);
        assert_eq!(
            m.unmapped(),
            [Bus::Drums, Bus::Bass, Bus::Keys, Bus::Vocals, Bus::Aux2]
        );
    }

    #[test]
    fn refuses_what_cannot_be_meant() {
        for (text, why) in [
            ("monitor=3", "unknown bus"),
            ("main=1-2,main=3-4", "twice"),
            ("main=0-1", "count from 1"),
            ("main=1-3", "adjacent"),
            ("main=1-2,click=2", "already in use"),
            ("click=x", "not a channel"),
            ("click", "BUS=CHANNELS"),
            ("", "no bus"),
        ] {
            let e = ChannelMap::parse(text).expect_err(text).to_string();
            assert!(e.contains(why), "{text:?}: {e}");
        }
    }

    #[test]
    fn routes_each_bus_to_its_channels_and_nothing_else() {
        let m = ChannelMap::parse("main=1-2,click=3,guide=5").expect("a map");
        let frames = 4;
        let data: Vec<Vec<f32>> = (0..BUS_CHANNELS)
            .map(|c| (0..frames).map(|i| (c * 10 + i) as f32).collect())
            .collect();
        let buses: [&[f32]; BUS_CHANNELS] = std::array::from_fn(|c| &data[c][..]);
        let mut device = vec![9.0f32; frames * 6];
        m.route(&buses, frames, &mut device, 6);
        for i in 0..frames {
            let f = &device[i * 6..i * 6 + 6];
            let (main_l, main_r) = (i as f32, (10 + i) as f32);
            let click = 0.5 * ((20 + i) as f32 + (30 + i) as f32);
            let guide = 0.5 * ((40 + i) as f32 + (50 + i) as f32);
            assert_eq!(f, [main_l, main_r, click, 0.0, guide, 0.0], "frame {i}");
        }
        // A device with fewer channels than the map: what fits plays.
        let mut small = vec![9.0f32; frames * 2];
        m.route(&buses, frames, &mut small, 2);
        assert_eq!(&small[..2], &[0.0, 10.0]);
    }
}
