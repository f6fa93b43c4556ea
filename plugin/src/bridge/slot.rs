//! ANY THREAD: slots, the preallocated buffers that hold one chunk of one stem.
//!
//! A slot moves through explicit states, told by its `key`:
//! `Free` (key = [`ChunkKey::NONE`]) → `Loading` (key = the chunk's key,
//! `ready_frames` growing as the loader decodes) → `Ready` (`ready_frames` =
//! the chunk's length) → `Retired` (the loader sets [`ChunkKey::BUSY`] and
//! reuses it for another chunk).
//!
//! Readers follow the seqlock protocol: load the fill generation, then the
//! key (acquire), load `ready_frames` (acquire), copy samples, fence
//! (acquire), load the key and the generation again; if either changed the
//! copy is discarded. The writer stores [`ChunkKey::BUSY`], bumps the
//! generation and fences (release) before it overwrites samples. The key
//! alone is not enough: a slot refilled K → J → K during one read shows
//! key K at both ends of it while the copy holds some of J's samples (ABA);
//! the generation differs. So the audio thread never plays a sample of
//! another chunk, even if the loader retires a slot while it is being read.
//! All of it is plain atomics: no lock, no `unsafe`.

use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

use super::{ChunkKey, CHUNK_FRAMES, MAX_CHANNELS};

/// One chunk buffer: `CHUNK_FRAMES × MAX_CHANNELS` interleaved `f32` samples
/// stored as bit patterns.
pub struct Slot {
    key: AtomicU64,
    /// Bumped by every [`Slot::begin_fill`] and [`Slot::clear`] before any
    /// sample is overwritten (wraps; a reader would have to sleep through
    /// 2^32 refills to be fooled).
    generation: AtomicU32,
    ready_frames: AtomicU32,
    channels: AtomicU32,
    samples: Box<[AtomicU32]>,
}

/// What a reader got from [`Slot::read_into`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotRead {
    /// All requested frames were copied.
    Complete,
    /// The slot holds the chunk but only this many of the requested frames
    /// were ready; they were copied, the rest of the output is untouched.
    Partial(u32),
    /// The slot does not hold the chunk (or was retired during the read):
    /// nothing usable was copied.
    Miss,
}

impl Slot {
    /// Allocates an empty slot. Not realtime-safe (allocates
    /// `CHUNK_FRAMES × 2 × 4` bytes = 128 KiB).
    pub fn new() -> Self {
        let samples = (0..CHUNK_FRAMES as usize * MAX_CHANNELS)
            .map(|_| AtomicU32::new(0))
            .collect();
        Self {
            key: AtomicU64::new(ChunkKey::NONE),
            generation: AtomicU32::new(0),
            ready_frames: AtomicU32::new(0),
            channels: AtomicU32::new(0),
            samples,
        }
    }

    /// Size of one slot's sample storage in bytes.
    pub const BYTES: usize = CHUNK_FRAMES as usize * MAX_CHANNELS * 4;

    /// The key currently held (or `NONE`/`BUSY`). Realtime-safe.
    #[inline]
    pub fn key_raw(&self) -> u64 {
        self.key.load(Ordering::Acquire)
    }

    /// Frames of `key` that are ready to read, 0 if the slot holds another
    /// chunk. Realtime-safe.
    #[inline]
    pub fn ready_frames_for(&self, key: ChunkKey) -> u32 {
        let generation = self.generation.load(Ordering::Acquire);
        if self.key.load(Ordering::Acquire) != key.raw() {
            return 0;
        }
        let ready = self.ready_frames.load(Ordering::Acquire);
        fence(Ordering::Acquire);
        if self.key.load(Ordering::Relaxed) != key.raw()
            || self.generation.load(Ordering::Relaxed) != generation
        {
            return 0;
        }
        ready
    }

    /// Copies frames `[start_frame, start_frame + out.len()/2)` of chunk `key`
    /// into `out` as interleaved stereo (a mono chunk is copied to both
    /// channels). Realtime-safe: no allocation, no lock, bounded work.
    ///
    /// Returns [`SlotRead::Miss`] if the slot does not hold `key` or was
    /// retired while being read (then `out` may hold garbage and must not be
    /// used), [`SlotRead::Partial`] if fewer frames are ready.
    pub fn read_into(&self, key: ChunkKey, start_frame: u32, out: &mut [f32]) -> SlotRead {
        // The generation first: a key seen after it belongs to that fill or
        // a later one, never to an earlier fill whose `ready_frames` the
        // current fill has not reset yet.
        let generation = self.generation.load(Ordering::Acquire);
        let first = self.key.load(Ordering::Acquire);
        if first != key.raw() {
            return SlotRead::Miss;
        }
        let ready = self.ready_frames.load(Ordering::Acquire);
        let channels = self.channels.load(Ordering::Acquire) as usize;
        let wanted = (out.len() / 2) as u32;
        let available = ready.saturating_sub(start_frame).min(wanted);
        let start = start_frame as usize;
        if channels == 1 {
            let src = self.samples.get(start..start + available as usize);
            if let Some(src) = src {
                for (frame, s) in out.chunks_exact_mut(2).zip(src) {
                    let v = f32::from_bits(s.load(Ordering::Relaxed));
                    frame[0] = v;
                    frame[1] = v;
                }
            }
        } else {
            let src = self
                .samples
                .get(start * 2..(start + available as usize) * 2);
            if let Some(src) = src {
                for (o, s) in out.iter_mut().zip(src) {
                    *o = f32::from_bits(s.load(Ordering::Relaxed));
                }
            }
        }
        fence(Ordering::Acquire);
        if self.key.load(Ordering::Relaxed) != first
            || self.generation.load(Ordering::Relaxed) != generation
        {
            return SlotRead::Miss;
        }
        if available == wanted {
            SlotRead::Complete
        } else {
            SlotRead::Partial(available)
        }
    }

    /// Loader side: retires the slot's content and starts filling it with
    /// chunk `key` of a stem with `channels` (1 or 2) channels. Afterwards
    /// `ready_frames` is 0 until [`Self::write_frames`] publishes frames.
    /// Lock-free; only one loader thread may fill a slot at a time.
    pub fn begin_fill(&self, key: ChunkKey, channels: u32) {
        self.key.store(ChunkKey::BUSY, Ordering::Relaxed);
        // Release: a reader that sees the new generation sees BUSY too.
        self.generation.fetch_add(1, Ordering::Release);
        fence(Ordering::Release);
        self.ready_frames.store(0, Ordering::Relaxed);
        self.channels.store(channels.clamp(1, 2), Ordering::Relaxed);
        self.key.store(key.raw(), Ordering::Release);
    }

    /// Loader side: marks the slot empty (no key), e.g. when its stem failed.
    pub fn clear(&self) {
        self.key.store(ChunkKey::BUSY, Ordering::Relaxed);
        // Release: a reader that sees the new generation sees BUSY too.
        self.generation.fetch_add(1, Ordering::Release);
        fence(Ordering::Release);
        self.ready_frames.store(0, Ordering::Relaxed);
        self.key.store(ChunkKey::NONE, Ordering::Release);
    }

    /// Loader side: writes interleaved frames (`channels` samples each, as
    /// given to [`Self::begin_fill`]) starting at frame `start_frame`, then
    /// publishes `start_frame + frames` as ready. Frames past the chunk are
    /// ignored. Returns the new ready count.
    pub fn write_frames(&self, start_frame: u32, interleaved: &[f32]) -> u32 {
        let channels = self.channels.load(Ordering::Relaxed).max(1) as usize;
        let start = start_frame as usize * channels;
        let end = (start + interleaved.len()).min(self.samples.len());
        let end = start + (end.saturating_sub(start) / channels) * channels;
        if let Some(dst) = self.samples.get(start..end) {
            for (d, s) in dst.iter().zip(interleaved) {
                d.store(s.to_bits(), Ordering::Relaxed);
            }
        }
        let ready = (end / channels) as u32;
        self.ready_frames.store(ready, Ordering::Release);
        ready
    }

    /// Loader side: writes `frames` frames of silence from `start_frame` and
    /// publishes them. Used to complete a chunk whose source ended early or
    /// failed, so a chunk is always eventually fully ready.
    pub fn write_silence(&self, start_frame: u32, frames: u32) -> u32 {
        let channels = self.channels.load(Ordering::Relaxed).max(1) as usize;
        let start = start_frame as usize * channels;
        let end = ((start_frame + frames) as usize * channels).min(self.samples.len());
        if let Some(dst) = self.samples.get(start..end) {
            for d in dst {
                d.store(0, Ordering::Relaxed);
            }
        }
        let ready = (end / channels) as u32;
        self.ready_frames.store(ready, Ordering::Release);
        ready
    }
}

impl Default for Slot {
    fn default() -> Self {
        Self::new()
    }
}

/// A fixed set of slots, allocated once per loaded setlist and shared by the
/// loader and the audio thread. Indexing is by `u32` slot index.
pub struct SlotPool {
    slots: Box<[Slot]>,
}

impl SlotPool {
    /// Allocates `count` empty slots. Not realtime-safe.
    pub fn new(count: usize) -> Self {
        Self {
            slots: (0..count).map(|_| Slot::new()).collect(),
        }
    }

    /// The slot at `index`, if any. Realtime-safe.
    #[inline]
    pub fn get(&self, index: u32) -> Option<&Slot> {
        self.slots.get(index as usize)
    }

    /// Number of slots.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True if the pool has no slot.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Bytes of sample storage the pool holds (`len × Slot::BYTES`).
    pub fn bytes(&self) -> usize {
        self.slots.len() * Slot::BYTES
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_macros, clippy::disallowed_methods)]
mod tests {
    use super::*;

    #[test]
    fn progressive_fill_and_retire() {
        let slot = Slot::new();
        let key = ChunkKey::new(1, 2, 3, 4);
        let mut out = [9.0f32; 8];
        assert_eq!(slot.read_into(key, 0, &mut out), SlotRead::Miss);
        slot.begin_fill(key, 2);
        assert_eq!(slot.read_into(key, 0, &mut out), SlotRead::Partial(0));
        slot.write_frames(0, &[1.0, -1.0, 2.0, -2.0]);
        assert_eq!(slot.ready_frames_for(key), 2);
        assert_eq!(slot.read_into(key, 0, &mut out), SlotRead::Partial(2));
        assert_eq!(&out[..4], &[1.0, -1.0, 2.0, -2.0]);
        slot.write_frames(2, &[3.0, -3.0, 4.0, -4.0]);
        assert_eq!(slot.read_into(key, 1, &mut out[..6]), SlotRead::Complete);
        assert_eq!(&out[..6], &[2.0, -2.0, 3.0, -3.0, 4.0, -4.0]);
        let other = ChunkKey::new(1, 2, 3, 5);
        slot.begin_fill(other, 1);
        assert_eq!(slot.read_into(key, 0, &mut out), SlotRead::Miss);
        slot.write_frames(0, &[0.5, 0.25]);
        assert_eq!(slot.read_into(other, 0, &mut out[..4]), SlotRead::Complete);
        assert_eq!(&out[..4], &[0.5, 0.5, 0.25, 0.25]);
        slot.write_silence(2, 3);
        assert_eq!(slot.ready_frames_for(other), 5);
    }

    #[test]
    fn concurrent_reader_never_sees_another_chunk() {
        use std::sync::atomic::AtomicBool;
        use std::sync::Arc;
        // The writer refills the slot with chunk after chunk until the
        // reader has verified enough reads; every frame of chunk `c` holds
        // the value `c`, so a torn read would show another value.
        let slot = Arc::new(Slot::new());
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (slot, stop) = (slot.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut chunk = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    let key = ChunkKey::new(0, 0, 0, chunk % 1000);
                    slot.begin_fill(key, 2);
                    let frame = [(chunk % 1000) as f32; 64];
                    for f in 0..8 {
                        slot.write_frames(f * 32, &frame);
                    }
                    chunk += 1;
                }
                chunk
            })
        };
        let mut out = [0.0f32; 256];
        let (mut complete, mut partial) = (0u32, 0u32);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while (complete < 1000 || partial < 1000) && std::time::Instant::now() < deadline {
            let raw = slot.key_raw();
            if raw >= ChunkKey::BUSY {
                continue;
            }
            let chunk = (raw & 0x0fff_ffff) as u32;
            let key = ChunkKey::new(0, 0, 0, chunk);
            match slot.read_into(key, 0, &mut out) {
                SlotRead::Complete => {
                    assert!(out.iter().all(|&v| v == chunk as f32), "torn complete read");
                    complete += 1;
                }
                SlotRead::Partial(n) if n > 0 => {
                    assert!(
                        out[..n as usize * 2].iter().all(|&v| v == chunk as f32),
                        "torn partial read"
                    );
                    partial += 1;
                }
                SlotRead::Partial(_) | SlotRead::Miss => {}
            }
        }
        stop.store(true, Ordering::Relaxed);
        let fills = writer.join().unwrap();
        assert!(fills > 1, "the slot was refilled while being read");
        assert!(
            complete > 0 && partial > 0,
            "{complete} complete, {partial} partial reads verified"
        );
    }

    #[test]
    fn a_slot_refilled_k_j_k_during_a_read_is_a_miss_not_js_samples() {
        use std::sync::atomic::AtomicBool;
        use std::sync::Arc;
        // The writer cycles the slot between chunks K (all 1.0) and J (all
        // 2.0) as fast as it can; the reader keeps reading K. A read that
        // saw K's key at both ends while J's fill overwrote it in between
        // (ABA) would return 2.0s as K's audio.
        const FRAMES: usize = 512;
        let slot = Arc::new(Slot::new());
        let stop = Arc::new(AtomicBool::new(false));
        let k = ChunkKey::new(0, 0, 0, 1);
        let j = ChunkKey::new(0, 0, 0, 2);
        let writer = {
            let (slot, stop) = (slot.clone(), stop.clone());
            std::thread::spawn(move || {
                let ones = [1.0f32; FRAMES * 2];
                let twos = [2.0f32; FRAMES * 2];
                let mut fills = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    slot.begin_fill(k, 2);
                    slot.write_frames(0, &ones);
                    if fills.is_multiple_of(64) {
                        // Now and then K stays a while, so complete reads
                        // of it happen too.
                        let until =
                            std::time::Instant::now() + std::time::Duration::from_micros(50);
                        while std::time::Instant::now() < until {
                            std::hint::spin_loop();
                        }
                    }
                    slot.begin_fill(j, 2);
                    slot.write_frames(0, &twos);
                    fills += 2;
                }
                fills
            })
        };
        let mut out = [0.0f32; FRAMES * 2];
        let mut verified = 0u64;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
        while std::time::Instant::now() < deadline {
            if slot.read_into(k, 0, &mut out) == SlotRead::Complete {
                let foreign = out.iter().filter(|&&v| v != 1.0).count();
                if foreign > 0 {
                    stop.store(true, Ordering::Relaxed);
                    panic!("a complete read of K held {foreign} samples of another fill");
                }
                verified += 1;
            }
        }
        stop.store(true, Ordering::Relaxed);
        let fills = writer.join().unwrap();
        assert!(fills > 1000, "the writer refilled the slot {fills} times");
        assert!(verified > 0, "no complete read of K was verified");
    }
}
