//! Loader coordinator: the scheduler that keeps every deck's window of
//! chunks resident, most urgent deck first: which chunks to load, which
//! least-recently-used slot each takes, and at what priority; and which
//! songs' cache entries stay pinned against eviction.

use super::*;

impl Coordinator {
    /// Pins the cache entries of the songs on a deck (playing, fading,
    /// cued, preloaded) so that no eviction, here or in another process,
    /// removes chunks the windows are about to read.
    pub(super) fn pin_cached_songs(&mut self) {
        let Some(cur) = self.current.as_ref() else {
            return;
        };
        let prepared = &cur.loaded.prepared;
        let Some(link) = prepared.cache.as_ref() else {
            return;
        };
        let mut songs: Vec<usize> = self
            .decks
            .iter()
            .filter(|d| d.role != Role::Free)
            .map(|d| d.song)
            .collect();
        songs.sort_unstable();
        songs.dedup();
        if self.pinned.0 == prepared.epoch && self.pinned.1 == songs {
            return;
        }
        let entries = songs.iter().flat_map(|&song| {
            let stems = prepared.songs.get(song).map_or(0, |s| s.stems.len());
            (0..stems).filter_map(move |si| {
                prepared
                    .cache_entries
                    .get(prepared.flat_index(song, si))?
                    .as_deref()
            })
        });
        link.pin_exactly(entries);
        self.pinned = (prepared.epoch, songs);
    }

    /// Keeps every deck's window filled, most urgent deck first.
    pub(super) fn schedule(&mut self) {
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        self.clock += 1;
        let mut order: Vec<(u8, usize)> = (0..DECKS)
            .filter_map(|d| match self.decks[d].role {
                Role::Cued(CueAction::Start | CueAction::Switch) => Some((0, d)),
                Role::Active => Some((1, d)),
                // A deck fading out keeps the chunk it plays and the next:
                // a crossfade that starts at a chunk boundary needs them
                // (offline renders would otherwise wait for ever).
                Role::Fading => Some((2, d)),
                Role::Cued(CueAction::Preload) => Some((3, d)),
                _ => None,
            })
            .collect();
        order.sort();
        'decks: for (rank, d) in order {
            let deck = &mut self.decks[d];
            let (pos, window) = match deck.role {
                Role::Active => (self.stats.deck_position_frames(d), WINDOW_CHUNKS),
                Role::Fading => (self.stats.deck_position_frames(d), CUE_CHUNKS),
                _ => (deck.start_frame, CUE_CHUNKS),
            };
            let prepared = Arc::clone(&cur.loaded.prepared);
            let Some(song) = prepared.songs.get(deck.song) else {
                continue;
            };
            let horizon = window as u64 * CHUNK_FRAMES as u64;
            for (si, stem) in song.stems.iter().enumerate() {
                let flat = prepared.flat_index(deck.song, si);
                let ok = cur
                    .loaded
                    .stem_status
                    .get(flat)
                    .is_some_and(|s| s.load(Ordering::Relaxed) == stem_status::OK);
                if !ok || stem.length_frames == 0 {
                    continue;
                }
                // Chunks of the stem that overlap [pos, pos + horizon).
                let local_start = pos.saturating_sub(stem.offset_frames);
                let local_end = (pos + horizon).saturating_sub(stem.offset_frames);
                if local_end == 0 || local_start >= stem.length_frames {
                    continue;
                }
                let first = (local_start / CHUNK_FRAMES as u64) as u32;
                let last = ((local_end.min(stem.length_frames) - 1) / CHUNK_FRAMES as u64) as u32;
                let last = last.min(first + window as u32 - 1);
                for chunk in first..=last {
                    let ring = chunk as usize % WINDOW_CHUNKS;
                    let entry = deck.entries[si][ring];
                    if entry.is_some_and(|(c, _)| c == chunk) {
                        if let Some((_, slot)) = entry {
                            if let Some(b) = cur.slots.get_mut(slot as usize) {
                                b.last_used = self.clock;
                            }
                        }
                        continue;
                    }
                    let key = ChunkKey::new(prepared.epoch, deck.song as u16, si as u8, chunk);
                    let slot = if let Some(&slot) = cur.resident.get(&key) {
                        slot
                    } else {
                        if cur.in_flight.values().any(|&lane| lane == (d, si)) {
                            break; // one job per stem at a time: reads stay sequential
                        }
                        // The least recently used slot nothing references.
                        let Some(slot) = cur
                            .slots
                            .iter()
                            .enumerate()
                            .filter(|(_, b)| b.refs == 0 && !b.loading)
                            .min_by_key(|(_, b)| (b.key.is_some(), b.last_used))
                            .map(|(i, _)| i as u32)
                        else {
                            break 'decks; // pool exhausted: lower ranks wait
                        };
                        let b = &mut cur.slots[slot as usize];
                        if let Some(old) = b.key.take() {
                            cur.resident.remove(&old);
                        }
                        b.key = Some(key);
                        b.loading = true;
                        if let Some(s) = cur.loaded.pool.get(slot) {
                            s.begin_fill(key, stem.channels() as u32);
                        }
                        cur.resident.insert(key, slot);
                        cur.in_flight.insert(slot, (d, si));
                        let priority = match (rank, chunk == first) {
                            (0, _) | (1, true) | (2, _) => Priority::Urgent,
                            (1, false) => Priority::Normal,
                            _ => Priority::Background,
                        };
                        self.workers.submit(Job {
                            priority,
                            seq: 0,
                            key,
                            slot,
                            resume_frame: 0,
                            cache_copy: Vec::new(),
                            loaded: Arc::clone(&cur.loaded),
                        });
                        slot
                    };
                    if let Some((_, old)) = entry {
                        if let Some(b) = cur.slots.get_mut(old as usize) {
                            b.refs = b.refs.saturating_sub(1);
                        }
                    }
                    let b = &mut cur.slots[slot as usize];
                    b.refs += 1;
                    b.last_used = self.clock;
                    deck.entries[si][ring] = Some((chunk, slot));
                    cur.lanes.set(d, si, chunk, slot);
                }
            }
        }
        let resident = cur.slots.iter().filter(|b| b.refs > 0 || b.loading).count() as u64
            * crate::bridge::Slot::BYTES as u64;
        self.loader_stats
            .resident_bytes
            .store(resident, Ordering::Relaxed);
        self.loader_stats
            .peak_resident_bytes
            .fetch_max(resident, Ordering::Relaxed);
    }
}
