//! LOADER THREADS (the coordinator): the scheduler that keeps every deck's
//! window of chunks resident, most urgent first: which chunks to load, which
//! least-recently-used slot each takes, and at what priority; and which
//! songs' cache entries stay pinned against eviction.
//!
//! The slot budget ([`SLOTS_PER_STEM`]) holds an active window, a fading
//! deck's last chunks, a pending deck's cue and a preload. It holds only
//! if no deck keeps more than it still plays, and a pool that is full for
//! other reasons (jobs of a released deck still running, two seeks in
//! flight) must never keep the listener waiting; so each pass
//! 1. releases every ring entry outside its deck's window (a deck that
//!    starts fading keeps the chunk it plays and the next, not its whole
//!    read-ahead);
//! 2. fills the *needed* chunks, which may take a slot from a chunk that
//!    is only wanted: the chunks that a start, a seek target or the audible
//!    position is about to play (a pending deck's cue window, the first
//!    [`CUE_CHUNKS`] of the active deck's window, a fading deck's window)
//!    may take the slot of the active deck's furthest read-ahead, then of
//!    a preload;
//! 3. fills the wanted chunks (the rest of the read-ahead, preloads) from
//!    slots nothing references.
//!
//! Needed chunks are at most 2 + 2 + 2 + 2 per stem (two pending decks
//! while one seek replaces another, the active deck, a fading deck): less
//! than the pool, so every start and seek gets its slots, offline (where
//! the engine waits for them and nothing else moves) as in real time.

use std::cmp::Reverse;
use std::ops::RangeInclusive;

use super::*;
use crate::loader::prepare::PreparedStem;

/// How badly a chunk is wanted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Need {
    /// About to be played: may take the slot of a wanted chunk.
    Needed,
    /// Read-ahead or preload: only free slots.
    Wanted,
}

/// The chunks of `stem` that overlap `window` chunks' worth of its song's
/// timeline from `pos` (frames); `None` if none does.
fn stem_chunks(stem: &PreparedStem, pos: u64, window: usize) -> Option<RangeInclusive<u32>> {
    if stem.length_frames == 0 {
        return None;
    }
    let horizon = window as u64 * CHUNK_FRAMES as u64;
    let local_start = pos.saturating_sub(stem.offset_frames);
    let local_end = (pos + horizon).saturating_sub(stem.offset_frames);
    if local_end == 0 || local_start >= stem.length_frames {
        return None;
    }
    let first = (local_start / CHUNK_FRAMES as u64) as u32;
    let last = ((local_end.min(stem.length_frames) - 1) / CHUNK_FRAMES as u64) as u32;
    Some(first..=last.min(first + window as u32 - 1))
}

impl Coordinator {
    /// Pins the cache entries of the songs on a deck (playing, fading,
    /// cued, preloaded) so that no eviction, here or in another process,
    /// removes chunks the windows are about to read.
    pub(super) fn pin_cached_songs(&mut self) {
        let Some(cur) = self.current.as_ref() else {
            return;
        };
        let prepared = &cur.loaded.prepared;
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
        // This coordinator's own pins: players sharing the cache (other
        // instances, the background analysis) pin theirs beside them.
        self.pins.pin_exactly(entries);
        self.pinned = (prepared.epoch, songs);
    }

    /// Deck `d`'s window: the frame it starts at on the song's timeline
    /// and its length in chunks; `None` for a free deck.
    fn window(&self, d: usize) -> Option<(u64, usize)> {
        let deck = &self.decks[d];
        match deck.role {
            Role::Free => None,
            Role::Active => Some((self.stats.deck_position_frames(d), WINDOW_CHUNKS)),
            // A deck fading out keeps the chunk it plays and the next: a
            // crossfade that starts at a chunk boundary needs them.
            Role::Fading => Some((self.stats.deck_position_frames(d), CUE_CHUNKS)),
            // A synced start moves with the host clock while it waits for
            // its first frames: if they come late (a cold disk), the
            // window follows it, or the start would never open.
            Role::Cued(CueAction::Start | CueAction::Switch)
                if self.stats.deck_cue_id(d) == deck.cue_id =>
            {
                let pos = self.stats.deck_position_frames(d);
                Some((pos.max(deck.start_frame), CUE_CHUNKS))
            }
            Role::Cued(_) => Some((deck.start_frame, CUE_CHUNKS)),
        }
    }

    /// Scheduling order: pending decks (the newest cue first), the active
    /// deck, a fading deck, preloads.
    fn deck_order(&self) -> Vec<(u8, usize)> {
        let mut order: Vec<(u8, usize)> = (0..DECKS)
            .filter_map(|d| match self.decks[d].role {
                Role::Cued(CueAction::Start | CueAction::Switch) => Some((0, d)),
                Role::Active => Some((1, d)),
                Role::Fading => Some((2, d)),
                Role::Cued(CueAction::Preload) => Some((3, d)),
                Role::Free => None,
            })
            .collect();
        order.sort_by_key(|&(rank, d)| (rank, Reverse(self.decks[d].cue_id)));
        order
    }

    /// Keeps every deck's window filled: releases what lies outside the
    /// windows, then the needed chunks of every deck, then the wanted ones.
    pub(super) fn schedule(&mut self) {
        if self.current.is_none() {
            return;
        }
        self.clock += 1;
        let windows: [Option<(u64, usize)>; DECKS] = std::array::from_fn(|d| self.window(d));
        self.release_outside(&windows);
        let order = self.deck_order();
        for need in [Need::Needed, Need::Wanted] {
            for &(rank, d) in &order {
                if let Some((pos, window)) = windows[d] {
                    self.fill_deck(rank, d, pos, window, need, &windows);
                }
            }
        }
        self.publish_pool_use();
    }

    /// Frees every ring entry that lies outside its deck's window (or
    /// whose stem cannot play).
    fn release_outside(&mut self, windows: &[Option<(u64, usize)>; DECKS]) {
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        let prepared = Arc::clone(&cur.loaded.prepared);
        for (d, deck) in self.decks.iter_mut().enumerate() {
            let song = prepared.songs.get(deck.song);
            for (si, ring) in deck.entries.iter_mut().enumerate() {
                let keep = windows[d].zip(song.and_then(|s| s.stems.get(si))).and_then(
                    |((pos, window), stem)| {
                        let ok = cur
                            .loaded
                            .stem_status
                            .get(prepared.flat_index(deck.song, si))
                            .is_some_and(|s| s.load(Ordering::Relaxed) == stem_status::OK);
                        ok.then(|| stem_chunks(stem, pos, window)).flatten()
                    },
                );
                for e in ring.iter_mut() {
                    let Some((chunk, slot)) = *e else { continue };
                    if keep.as_ref().is_some_and(|k| k.contains(&chunk)) {
                        continue;
                    }
                    *e = None;
                    cur.lanes.set(d, si, chunk, crate::bridge::lanes::NO_SLOT);
                    if let Some(b) = cur.slots.get_mut(slot as usize) {
                        b.refs = b.refs.saturating_sub(1);
                    }
                }
            }
        }
    }

    /// Fills deck `d`'s `need` chunks (window of `window` chunks from
    /// `pos`), stem by stem, each stem's chunks in order with at most one
    /// job per (deck, stem) lane so its reads stay sequential.
    fn fill_deck(
        &mut self,
        rank: u8,
        d: usize,
        pos: u64,
        window: usize,
        need: Need,
        windows: &[Option<(u64, usize)>; DECKS],
    ) {
        let Some(loaded) = self.current.as_ref().map(|c| Arc::clone(&c.loaded)) else {
            return;
        };
        let prepared = &loaded.prepared;
        let song_index = self.decks[d].song;
        let Some(song) = prepared.songs.get(song_index) else {
            return;
        };
        // The active deck needs the chunks it is about to play; its
        // further read-ahead is only wanted. Every other deck's window is
        // all needed, but for a preload, which is all wanted.
        let needed_chunks = match (self.decks[d].role, need) {
            (Role::Cued(CueAction::Preload), Need::Needed) => return,
            (Role::Cued(CueAction::Preload), Need::Wanted) => 0,
            (Role::Active, _) => CUE_CHUNKS as u32,
            (_, Need::Needed) => u32::MAX,
            (_, Need::Wanted) => return,
        };
        for (si, stem) in song.stems.iter().enumerate() {
            let flat = prepared.flat_index(song_index, si);
            let ok = loaded
                .stem_status
                .get(flat)
                .is_some_and(|s| s.load(Ordering::Relaxed) == stem_status::OK);
            if !ok {
                continue;
            }
            let Some(chunks) = stem_chunks(stem, pos, window) else {
                continue;
            };
            let first = *chunks.start();
            for chunk in chunks {
                let needed = chunk - first < needed_chunks;
                if needed != (need == Need::Needed) {
                    continue;
                }
                let ring = chunk as usize % WINDOW_CHUNKS;
                let entry = self.decks[d].entries[si][ring];
                let Some(cur) = self.current.as_mut() else {
                    return;
                };
                if let Some((c, slot)) = entry {
                    if c == chunk {
                        if let Some(b) = cur.slots.get_mut(slot as usize) {
                            b.last_used = self.clock;
                        }
                        continue;
                    }
                }
                let key = ChunkKey::new(prepared.epoch, song_index as u16, si as u8, chunk);
                let slot = if let Some(&slot) = cur.resident.get(&key) {
                    slot
                } else {
                    if cur.in_flight.values().any(|&lane| lane == (d, si)) {
                        break; // one job per lane: reads stay sequential
                    }
                    let slot = match (free_slot(&cur.slots), need) {
                        (Some(slot), _) => slot,
                        (None, Need::Needed) => match self.take_wanted_slot(windows) {
                            Some(slot) => slot,
                            None => break, // every slot busy: after the next job
                        },
                        (None, Need::Wanted) => break, // pool full: wanted chunks wait
                    };
                    let priority = match (rank, chunk == first) {
                        (3, _) => Priority::Background,
                        (1, false) => Priority::Normal,
                        _ => Priority::Urgent,
                    };
                    self.start_job(d, si, key, slot, priority, stem.channels());
                    slot
                };
                // (Read again: taking a wanted slot may have emptied it.)
                let entry = self.decks[d].entries[si][ring];
                let Some(cur) = self.current.as_mut() else {
                    return;
                };
                if let Some((_, old)) = entry {
                    if let Some(b) = cur.slots.get_mut(old as usize) {
                        b.refs = b.refs.saturating_sub(1);
                    }
                }
                let b = &mut cur.slots[slot as usize];
                b.refs += 1;
                b.last_used = self.clock;
                self.decks[d].entries[si][ring] = Some((chunk, slot));
                cur.lanes.set(d, si, chunk, slot);
            }
        }
    }

    /// Points `slot` at `key` and queues the job that fills it for lane
    /// (`d`, `stem`).
    fn start_job(
        &mut self,
        d: usize,
        stem: usize,
        key: ChunkKey,
        slot: u32,
        priority: Priority,
        channels: u16,
    ) {
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        let b = &mut cur.slots[slot as usize];
        if let Some(old) = b.key.take() {
            cur.resident.remove(&old);
        }
        b.key = Some(key);
        b.loading = true;
        if let Some(s) = cur.loaded.pool.get(slot) {
            s.begin_fill(key, u32::from(channels));
        }
        cur.resident.insert(key, slot);
        cur.in_flight.insert(slot, (d, stem));
        self.workers.submit(Job {
            priority,
            seq: 0,
            key,
            slot,
            resume_frame: 0,
            cache_copy: Vec::new(),
            loaded: Arc::clone(&cur.loaded),
        });
    }

    /// Frees a slot for a needed chunk by dropping a wanted one: the
    /// active deck's furthest read-ahead (beyond its first [`CUE_CHUNKS`]),
    /// else a preload's furthest chunk. Only a complete slot that one entry
    /// references qualifies (a slot being filled stays with its job).
    /// The chunk is loaded again when there is room.
    fn take_wanted_slot(&mut self, windows: &[Option<(u64, usize)>; DECKS]) -> Option<u32> {
        let cur = self.current.as_mut()?;
        let prepared = Arc::clone(&cur.loaded.prepared);
        // (preload?, distance reversed), deck, stem, ring entry: the
        // smallest goes.
        type Victim = ((bool, Reverse<u32>), usize, usize, usize);
        let mut best: Option<Victim> = None;
        for (d, deck) in self.decks.iter().enumerate() {
            let preload = match deck.role {
                Role::Active => false,
                Role::Cued(CueAction::Preload) => true,
                _ => continue,
            };
            let Some((pos, _)) = windows[d] else { continue };
            let song = prepared.songs.get(deck.song);
            for (si, ring) in deck.entries.iter().enumerate() {
                let offset = song
                    .and_then(|s| s.stems.get(si))
                    .map_or(0, |st| st.offset_frames);
                let at = (pos.saturating_sub(offset) / CHUNK_FRAMES as u64) as u32;
                for (i, e) in ring.iter().enumerate() {
                    let Some((chunk, slot)) = *e else { continue };
                    let distance = chunk.saturating_sub(at);
                    if !preload && distance < CUE_CHUNKS as u32 {
                        continue;
                    }
                    let b = &cur.slots[slot as usize];
                    if b.refs != 1 || b.loading {
                        continue;
                    }
                    let rank = (preload, Reverse(distance));
                    if best.is_none_or(|(r, ..)| rank < r) {
                        best = Some((rank, d, si, i));
                    }
                }
            }
        }
        let (_, d, si, i) = best?;
        let (chunk, slot) = self.decks[d].entries[si][i].take()?;
        cur.lanes.set(d, si, chunk, crate::bridge::lanes::NO_SLOT);
        cur.slots[slot as usize].refs = 0;
        Some(slot)
    }

    /// Publishes the pool's use for reports and the editor.
    fn publish_pool_use(&self) {
        let Some(cur) = self.current.as_ref() else {
            return;
        };
        let in_use = cur.slots.iter().filter(|b| b.refs > 0 || b.loading).count() as u64;
        let loading = cur.slots.iter().filter(|b| b.loading).count() as u64;
        let resident = in_use * crate::bridge::Slot::BYTES as u64;
        let stats = &self.loader_stats;
        stats.slots_in_use.store(in_use, Ordering::Relaxed);
        stats.jobs_in_flight.store(loading, Ordering::Relaxed);
        stats.resident_bytes.store(resident, Ordering::Relaxed);
        stats
            .peak_resident_bytes
            .fetch_max(resident, Ordering::Relaxed);
    }
}

/// The least recently used slot nothing references or fills (never-used
/// slots first).
fn free_slot(slots: &[SlotBook]) -> Option<u32> {
    slots
        .iter()
        .enumerate()
        .filter(|(_, b)| b.refs == 0 && !b.loading)
        .min_by_key(|(_, b)| (b.key.is_some(), b.last_used))
        .map(|(i, _)| i as u32)
}
