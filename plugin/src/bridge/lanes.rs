//! ANY THREAD: per deck and stem, the ring of slot indices that forms the
//! stem's window. Written by the loader, read by the audio thread.
//!
//! Chunk `k` of a stem in deck `d` lives in the slot whose index is stored at
//! ring position `k % WINDOW_CHUNKS`. The audio thread does not trust the
//! index: it checks the slot's key, so an entry that is being replaced is a
//! miss, never wrong audio.

use std::sync::atomic::{AtomicU32, Ordering};

use super::{DECKS, WINDOW_CHUNKS};

/// Sentinel for "no slot".
pub const NO_SLOT: u32 = u32::MAX;

/// `DECKS × stems × WINDOW_CHUNKS` slot indices.
pub struct DeckLanes {
    stems: usize,
    entries: Box<[AtomicU32]>,
}

impl DeckLanes {
    /// Allocates lanes for songs of up to `stems` stems. Not realtime-safe.
    pub fn new(stems: usize) -> Self {
        Self {
            stems,
            entries: (0..DECKS * stems * WINDOW_CHUNKS)
                .map(|_| AtomicU32::new(NO_SLOT))
                .collect(),
        }
    }

    #[inline]
    fn index(&self, deck: usize, stem: usize, chunk: u32) -> usize {
        (deck * self.stems + stem) * WINDOW_CHUNKS + chunk as usize % WINDOW_CHUNKS
    }

    /// The slot index that should hold `chunk` of `stem` in `deck`, or
    /// [`NO_SLOT`]. Realtime-safe.
    #[inline]
    pub fn slot_for(&self, deck: usize, stem: usize, chunk: u32) -> u32 {
        if deck >= DECKS || stem >= self.stems {
            return NO_SLOT;
        }
        self.entries
            .get(self.index(deck, stem, chunk))
            .map_or(NO_SLOT, |e| e.load(Ordering::Acquire))
    }

    /// Loader side: points the ring entry for `chunk` at `slot`.
    pub fn set(&self, deck: usize, stem: usize, chunk: u32, slot: u32) {
        if deck >= DECKS || stem >= self.stems {
            return;
        }
        if let Some(e) = self.entries.get(self.index(deck, stem, chunk)) {
            e.store(slot, Ordering::Release);
        }
    }
}
