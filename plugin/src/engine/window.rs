//! AUDIO THREAD: reading a stem's frames from its window of resident slots.
//! Realtime-safe: slot reads are atomic loads, no lock, no allocation.
//!
//! A stem's frames on the song timeline fall into three kinds of segment:
//! before its offset and after its end (silence by definition, never
//! missing), and inside its audio, which is read chunk by chunk from the
//! slots the deck's lane points at.

use crate::bridge::{ChunkKey, EngineSetlist, SlotRead, CHUNK_FRAMES};

/// Where to find a stem in a deck.
#[derive(Clone, Copy, Debug)]
pub struct StemRef {
    /// Deck index.
    pub deck: usize,
    /// Song index.
    pub song: u16,
    /// Stem index within the song.
    pub stem: usize,
    /// Offset of the stem on the song timeline, frames.
    pub offset_frames: u64,
    /// Stem length, frames at the engine rate.
    pub length_frames: u64,
}

/// One piece of a stem's span: `frames` of silence, or `frames` of chunk
/// `chunk` starting at `in_chunk`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment {
    /// Outside the stem's audio.
    Silence {
        /// Length, frames.
        frames: u32,
    },
    /// Inside chunk `chunk`.
    Data {
        /// Chunk index in the stem.
        chunk: u32,
        /// First frame within the chunk.
        in_chunk: u32,
        /// Length, frames.
        frames: u32,
    },
}

/// The first segment of `stem`'s span starting at song frame `pos` and at
/// most `len` frames long. Realtime-safe.
#[inline]
pub fn first_segment(stem: &StemRef, pos: u64, len: u32) -> Segment {
    if pos < stem.offset_frames {
        let gap = (stem.offset_frames - pos).min(len as u64) as u32;
        return Segment::Silence { frames: gap };
    }
    let local = pos - stem.offset_frames;
    if local >= stem.length_frames {
        return Segment::Silence { frames: len };
    }
    let chunk = (local / CHUNK_FRAMES as u64) as u32;
    let in_chunk = (local % CHUNK_FRAMES as u64) as u32;
    let frames = (len as u64)
        .min((CHUNK_FRAMES - in_chunk) as u64)
        .min(stem.length_frames - local) as u32;
    Segment::Data {
        chunk,
        in_chunk,
        frames,
    }
}

/// Number of frames from `pos` (up to `len`) that can be played without a
/// miss: silence segments count, data segments count their ready frames.
/// Realtime-safe.
pub fn ready_frames(setlist: &EngineSetlist, stem: &StemRef, pos: u64, len: u32) -> u32 {
    let mut done = 0u32;
    while done < len {
        match first_segment(stem, pos + done as u64, len - done) {
            Segment::Silence { frames } => done += frames,
            Segment::Data {
                chunk,
                in_chunk,
                frames,
            } => {
                let key = ChunkKey::new(setlist.epoch, stem.song, stem.stem as u8, chunk);
                let slot = setlist.lanes.slot_for(stem.deck, stem.stem, chunk);
                let ready = setlist
                    .pool
                    .get(slot)
                    .map_or(0, |s| s.ready_frames_for(key));
                let avail = ready.saturating_sub(in_chunk).min(frames);
                done += avail;
                if avail < frames {
                    break;
                }
            }
        }
    }
    done
}

/// Reads `out.len() / 2` frames of `stem` from song frame `pos` into `out`
/// (interleaved stereo), writing silence where the stem has no audio or the
/// frames are not resident. Returns how many frames were missing (not
/// resident). Realtime-safe.
pub fn read_stem(setlist: &EngineSetlist, stem: &StemRef, pos: u64, out: &mut [f32]) -> u32 {
    let len = (out.len() / 2) as u32;
    let mut done = 0u32;
    let mut missing = 0u32;
    while done < len {
        let seg = first_segment(stem, pos + done as u64, len - done);
        let at = done as usize * 2;
        match seg {
            Segment::Silence { frames } => {
                out[at..at + frames as usize * 2].fill(0.0);
                done += frames;
            }
            Segment::Data {
                chunk,
                in_chunk,
                frames,
            } => {
                let key = ChunkKey::new(setlist.epoch, stem.song, stem.stem as u8, chunk);
                let slot = setlist.lanes.slot_for(stem.deck, stem.stem, chunk);
                let dst = &mut out[at..at + frames as usize * 2];
                let got = match setlist.pool.get(slot) {
                    Some(s) => match s.read_into(key, in_chunk, dst) {
                        SlotRead::Complete => frames,
                        SlotRead::Partial(n) => n,
                        SlotRead::Miss => 0,
                    },
                    None => 0,
                };
                dst[got as usize * 2..].fill(0.0);
                missing += frames - got;
                done += frames;
            }
        }
    }
    missing
}

#[cfg(test)]
#[allow(clippy::disallowed_macros, clippy::disallowed_methods)]
mod tests {
    use super::*;

    #[test]
    fn segments_cover_offset_chunks_and_end() {
        let stem = StemRef {
            deck: 0,
            song: 0,
            stem: 0,
            offset_frames: 100,
            length_frames: CHUNK_FRAMES as u64 + 50,
        };
        assert_eq!(
            first_segment(&stem, 0, 512),
            Segment::Silence { frames: 100 }
        );
        assert_eq!(
            first_segment(&stem, 100, 512),
            Segment::Data {
                chunk: 0,
                in_chunk: 0,
                frames: 512
            }
        );
        assert_eq!(
            first_segment(&stem, 100 + CHUNK_FRAMES as u64 - 10, 512),
            Segment::Data {
                chunk: 0,
                in_chunk: CHUNK_FRAMES - 10,
                frames: 10
            }
        );
        assert_eq!(
            first_segment(&stem, 100 + CHUNK_FRAMES as u64, 512),
            Segment::Data {
                chunk: 1,
                in_chunk: 0,
                frames: 50
            }
        );
        assert_eq!(
            first_segment(&stem, 150 + CHUNK_FRAMES as u64, 512),
            Segment::Silence { frames: 512 }
        );
    }
}
