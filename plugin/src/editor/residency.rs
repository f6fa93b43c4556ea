//! GUI THREAD: which chunks of a song are in RAM, for the seek bar, read
//! from the slot pool's atomics (the same keys and ready counts the audio
//! thread reads; nothing is locked or copied).

use crate::bridge::{ChunkKey, SlotPool, CHUNK_FRAMES};

/// Per chunk of song `song` (setlist `epoch`) of `chunks` chunks and
/// `stems` stems, the fraction of its stems whose chunk is in a slot
/// (fully, or up to the song's end for the last chunk): 0.0 … 1.0.
pub fn resident_fractions(
    pool: &SlotPool,
    epoch: u16,
    song: usize,
    stems: usize,
    chunks: usize,
    length_frames: u64,
) -> Vec<f32> {
    let mut counts = vec![0u32; chunks];
    if stems == 0 {
        return vec![0.0; chunks];
    }
    for i in 0..pool.len() {
        let Some(slot) = u32::try_from(i).ok().and_then(|i| pool.get(i)) else {
            continue;
        };
        let raw = slot.key_raw();
        if raw == ChunkKey::NONE || raw == ChunkKey::BUSY {
            continue;
        }
        let key = ChunkKey::from_raw(raw);
        if key.epoch() != epoch || usize::from(key.song()) != song {
            continue;
        }
        let chunk = key.chunk() as usize;
        if chunk >= chunks {
            continue;
        }
        let chunk_start = chunk as u64 * u64::from(CHUNK_FRAMES);
        let full = length_frames
            .saturating_sub(chunk_start)
            .min(u64::from(CHUNK_FRAMES));
        if u64::from(slot.ready_frames_for(key)) >= full {
            counts[chunk] += 1;
        }
    }
    counts
        .iter()
        .map(|&c| (c as f32 / stems as f32).min(1.0))
        .collect()
}

/// Chunks in a song of `length_frames` (engine rate).
pub fn chunk_count(length_frames: u64) -> usize {
    length_frames.div_ceil(u64::from(CHUNK_FRAMES)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_chunk_of_every_stem_counts_and_others_do_not() {
        let pool = SlotPool::new(8);
        let length = u64::from(CHUNK_FRAMES) * 2 + 100;
        let fill = |slot: u32, stem: u8, chunk: u32, frames: u32| {
            let s = pool.get(slot).expect("slot");
            s.begin_fill(ChunkKey::new(3, 1, stem, chunk), 2);
            s.write_silence(0, frames);
        };
        fill(0, 0, 0, CHUNK_FRAMES);
        fill(1, 1, 0, CHUNK_FRAMES);
        fill(2, 0, 1, CHUNK_FRAMES / 2); // partial: not resident
        fill(3, 0, 2, 100); // the last chunk: 100 frames is all of it
        fill(4, 0, 0, CHUNK_FRAMES); // duplicate of stem 0 chunk 0 is fine
        let s = pool.get(5).expect("slot");
        s.begin_fill(ChunkKey::new(2, 1, 0, 1), 2); // another setlist
        s.write_silence(0, CHUNK_FRAMES);
        let f = resident_fractions(&pool, 3, 1, 2, chunk_count(length), length);
        assert_eq!(f, vec![1.0, 0.0, 0.5]);
    }
}
