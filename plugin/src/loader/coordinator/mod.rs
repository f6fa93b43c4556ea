//! LOADER THREADS: the coordinator. It owns the decks' bookkeeping and the
//! slot pool's allocation, turns control requests into engine commands,
//! keeps every deck's window filled, and drains the audio thread's events.
//!
//! It parks between wake-ups and is woken (through [`crate::bridge::Waker`])
//! by a control message, a finished job or a request from the audio thread,
//! or every [`TICK_PLAYING`] ([`TICK_IDLE`] when nothing plays) to follow
//! the play positions; it never spins.
//!
//! Slots are shared by key: a chunk already resident (in another deck, or
//! kept from earlier) is pointed to, not decoded again (coalescing). Slots no
//! deck references stay valid and are reused least recently used first, so
//! seeking back to something just played is instant.

mod control;
mod events;
mod outbox;
mod schedule;

pub use control::Control;
pub use outbox::MAX_BACKLOG_COMMANDS;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, TryRecvError};
use parking_lot::Mutex;

use super::prepare::PreparedSetlist;
use super::worker::{Done, Job, Loaded, Priority, Workers};
use crate::bridge::messages::stem_status;
use crate::bridge::{
    ChunkKey, Command, CueAction, DeckLanes, EngineSetlist, EngineSong, EngineStats, EngineStem,
    Event, Request, SlotPool, TransportState, Waker, CHUNK_FRAMES, CUE_CHUNKS, DECKS,
    WINDOW_CHUNKS,
};

/// How often the coordinator looks at play positions while audio plays and
/// nothing else wakes it: 20 ms, far below one chunk (341 ms at 48 kHz) and
/// the ≈ 1.7 s of read-ahead. (A 5 ms tick measured 0.85 % of a core idle on
/// this machine, mostly the wake-ups themselves.)
pub const TICK_PLAYING: Duration = Duration::from_millis(20);

/// The same while nothing plays: seeks, song starts and finished jobs wake
/// the coordinator at once anyway, so the tick only drains stray events.
pub const TICK_IDLE: Duration = Duration::from_millis(100);

/// Slots per stem of the largest song: a playing window, plus cue windows
/// for a pending deck (seek or song change), the next song's preload and a
/// deck fading out.
pub const SLOTS_PER_STEM: usize = WINDOW_CHUNKS + 3 * CUE_CHUNKS;

/// Loader figures for reports and the editor.
#[derive(Default)]
pub struct LoaderStats {
    /// Chunks decoded per song of the current setlist.
    pub chunks_loaded: Mutex<Vec<u64>>,
    /// Slots referenced by a deck or being filled, now, in bytes.
    pub resident_bytes: AtomicU64,
    /// Highest `resident_bytes` since the setlist was loaded.
    pub peak_resident_bytes: AtomicU64,
    /// Bytes of the slot pool allocated for the current setlist.
    pub pool_bytes: AtomicU64,
    /// Slots of the pool (the current setlist's largest song's stems ×
    /// [`SLOTS_PER_STEM`]).
    pub slots_total: AtomicU64,
    /// Slots referenced by a deck or being filled, now.
    pub slots_in_use: AtomicU64,
    /// Slots being filled (a decoding job queued or running), now.
    pub jobs_in_flight: AtomicU64,
    /// The current setlist's epoch and slot pool, for the editor to see
    /// which chunks are in RAM (it reads the slots' atomics; this is
    /// replaced once per setlist load, and read again only then).
    pub slots: crate::published::Published<Option<(u16, Arc<SlotPool>)>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Free,
    Cued(CueAction),
    Active,
    Fading,
}

struct DeckBook {
    role: Role,
    /// Id of the last cue sent for this deck.
    cue_id: u32,
    song: usize,
    start_frame: u64,
    /// Per stem, per ring entry: (chunk, slot) referenced.
    entries: Vec<[Option<(u32, u32)>; WINDOW_CHUNKS]>,
}

#[derive(Clone, Copy, Default)]
struct SlotBook {
    key: Option<ChunkKey>,
    refs: u32,
    loading: bool,
    last_used: u64,
}

struct Current {
    loaded: Arc<Loaded>,
    lanes: Arc<DeckLanes>,
    slots: Vec<SlotBook>,
    resident: HashMap<ChunkKey, u32>,
    /// Per job queued or running, by slot: the (deck, stem) lane that asked
    /// for it. Each lane has at most one, so its reads stay sequential,
    /// while another deck (a seek target) never waits behind it.
    in_flight: HashMap<u32, (usize, usize)>,
}

pub(crate) struct Coordinator {
    control_rx: Receiver<Control>,
    done_rx: Receiver<Done>,
    outbox: outbox::Outbox,
    events: rtrb::Consumer<Event>,
    stats: Arc<EngineStats>,
    loader_stats: Arc<LoaderStats>,
    workers: Arc<Workers>,
    waker: Arc<Waker>,
    current: Option<Current>,
    decks: [DeckBook; DECKS],
    /// Song the transport is on (for seeks and auto-advance).
    song: usize,
    auto_advance: bool,
    clock: u64,
    next_cue_id: u32,
    /// (epoch, songs) whose cache entries are pinned.
    pinned: (u16, Vec<usize>),
    /// The pins themselves (this player's; released when it stops).
    pins: crate::cache::PinSet,
}

impl Coordinator {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        control_rx: Receiver<Control>,
        done_rx: Receiver<Done>,
        commands: rtrb::Producer<Command>,
        events: rtrb::Consumer<Event>,
        stats: Arc<EngineStats>,
        loader_stats: Arc<LoaderStats>,
        workers: Arc<Workers>,
        waker: Arc<Waker>,
    ) -> Self {
        Self {
            control_rx,
            done_rx,
            outbox: outbox::Outbox::new(commands),
            events,
            stats,
            loader_stats,
            workers,
            waker,
            current: None,
            decks: std::array::from_fn(|_| DeckBook {
                role: Role::Free,
                cue_id: 0,
                song: 0,
                start_frame: 0,
                entries: Vec::new(),
            }),
            song: 0,
            auto_advance: true,
            clock: 0,
            next_cue_id: 0,
            pinned: (u16::MAX, Vec::new()),
            pins: crate::cache::PinSet::new(),
        }
    }

    /// Runs until [`Control::Shutdown`] or the control side is dropped.
    pub(crate) fn run(mut self) {
        self.waker.register_current();
        let mut last_chunks = [u64::MAX; DECKS];
        loop {
            let mut dirty = false;
            loop {
                match self.control_rx.try_recv() {
                    Ok(Control::Shutdown) | Err(TryRecvError::Disconnected) => return,
                    Ok(c) => {
                        self.control(c);
                        dirty = true;
                    }
                    Err(TryRecvError::Empty) => break,
                }
            }
            while let Ok(done) = self.done_rx.try_recv() {
                self.done(done);
                dirty = true;
            }
            dirty |= self.drain_events();
            // Windows only move when a playing deck (or a synced start
            // that waits, see `window`) enters another chunk: while idle a
            // tick costs a few atomic loads, not a schedule.
            for (d, last) in last_chunks.iter_mut().enumerate() {
                let moves = matches!(
                    self.decks[d].role,
                    Role::Active | Role::Cued(CueAction::Start | CueAction::Switch)
                );
                let chunk = if moves {
                    self.stats.deck_position_frames(d) / CHUNK_FRAMES as u64
                } else {
                    u64::MAX
                };
                dirty |= chunk != *last;
                *last = chunk;
            }
            if dirty {
                self.schedule();
                self.pin_cached_songs();
            }
            self.outbox.flush();
            if !dirty {
                let busy = self.outbox.waiting() > 0
                    || matches!(
                        self.stats.transport(),
                        TransportState::Playing | TransportState::Starting
                    );
                let tick = if busy { TICK_PLAYING } else { TICK_IDLE };
                // Every sender wakes us (a wake that comes before we park
                // makes the park return at once, so none is lost).
                std::thread::park_timeout(tick);
            }
        }
    }

    /// Sends a command to the audio thread (it waits in the outbox while
    /// the engine's queue is full; never lost).
    fn send(&mut self, cmd: Command) {
        for _ in 0..self.outbox.send(cmd) {
            self.stats.add_command_dropped();
        }
    }

    fn control(&mut self, c: Control) {
        match c {
            Control::Load { prepared, reply } => {
                self.load(prepared);
                let _ = reply.send(());
            }
            Control::Play { song, frame } => self.play(song, frame),
            Control::Seek(frame) => {
                let song = self.song;
                self.play(song, frame);
            }
            Control::Pause => self.send(Command::Pause),
            Control::Resume => self.send(Command::Resume),
            Control::Stop => self.send(Command::Stop),
            Control::Mix { song, stem, mix } => {
                if let (Ok(song), Ok(stem)) = (u16::try_from(song), u8::try_from(stem)) {
                    self.send(Command::SetStemMix { song, stem, mix });
                }
            }
            Control::SongEnd { song, end } => {
                if let Ok(song) = u16::try_from(song) {
                    self.send(Command::SetSongEnd { song, end });
                }
            }
            Control::AutoAdvance(on) => {
                self.auto_advance = on;
                self.send(Command::SetAutoAdvance(on));
            }
            Control::SongMaster {
                epoch,
                song,
                master,
            } => {
                if let Ok(song) = u16::try_from(song) {
                    self.send(Command::SetSongMaster {
                        epoch,
                        song,
                        master,
                    });
                }
            }
            Control::AutoMaster { on, ab_match } => {
                self.send(Command::SetAutoMaster { on, ab_match });
            }
            Control::Jump {
                song,
                frame,
                timing,
            } => {
                if let Ok(song) = u16::try_from(song) {
                    self.send(Command::QueueJump {
                        song,
                        frame,
                        timing,
                    });
                }
            }
            Control::CancelJump => self.send(Command::CancelJump),
            Control::Vamp(length) => self.send(Command::Vamp(length)),
            Control::Nudge | Control::Shutdown => {}
        }
    }

    fn load(&mut self, prepared: Arc<PreparedSetlist>) {
        let stems = prepared.max_stems().max(1);
        let pool = Arc::new(SlotPool::new(stems * SLOTS_PER_STEM));
        self.loader_stats
            .slots
            .set(Some((prepared.epoch, Arc::clone(&pool))));
        let lanes = Arc::new(DeckLanes::new(stems));
        let stem_status: Arc<[std::sync::atomic::AtomicU8]> = prepared
            .songs
            .iter()
            .flat_map(|s| s.stems.iter())
            .map(|st| {
                std::sync::atomic::AtomicU8::new(if st.info.is_some() {
                    stem_status::OK
                } else {
                    stem_status::FAILED
                })
            })
            .collect();
        let mut songs = Vec::with_capacity(prepared.songs.len());
        let mut engine_stems = Vec::new();
        let mut section_starts = Vec::new();
        for song in &prepared.songs {
            songs.push(EngineSong {
                length_frames: song.length_frames,
                first_stem: engine_stems.len() as u32,
                stem_count: song.stems.len() as u32,
                end: song.end,
                tempo: song.tempo,
                first_section: section_starts.len() as u32,
                section_count: song.sections.len() as u32,
            });
            section_starts.extend(song.sections.iter().map(|s| s.start_frames));
            engine_stems.extend(song.stems.iter().map(|st| EngineStem {
                offset_frames: st.offset_frames,
                length_frames: st.length_frames,
                mix: st.mix,
            }));
        }
        let engine_setlist = Box::new(EngineSetlist {
            epoch: prepared.epoch,
            songs: songs.into(),
            stems: engine_stems.into(),
            section_starts: section_starts.into(),
            stem_status: Arc::clone(&stem_status),
            pool: Arc::clone(&pool),
            lanes: Arc::clone(&lanes),
        });
        // Jobs of the old setlist are stale: drop them before decoding.
        self.workers.cancel(|_| true);
        self.workers.clear_cursors();
        self.loader_stats
            .pool_bytes
            .store(pool.bytes() as u64, Ordering::Relaxed);
        self.loader_stats.resident_bytes.store(0, Ordering::Relaxed);
        self.loader_stats
            .slots_total
            .store(pool.len() as u64, Ordering::Relaxed);
        self.loader_stats
            .peak_resident_bytes
            .store(0, Ordering::Relaxed);
        *self.loader_stats.chunks_loaded.lock() = vec![0; prepared.songs.len()];
        let slot_count = pool.len();
        self.current = Some(Current {
            loaded: Arc::new(Loaded {
                prepared,
                pool,
                stem_status,
            }),
            lanes,
            slots: vec![SlotBook::default(); slot_count],
            resident: HashMap::new(),
            in_flight: HashMap::new(),
        });
        for d in 0..DECKS {
            self.decks[d].role = Role::Free;
            self.decks[d].entries = vec![[None; WINDOW_CHUNKS]; stems];
        }
        self.song = 0;
        self.send(Command::SetSetlist(engine_setlist));
        self.cue_preload_after(None);
    }

    fn song_count(&self) -> usize {
        self.current
            .as_ref()
            .map_or(0, |c| c.loaded.prepared.songs.len())
    }

    /// Frees the chunk references of deck `d` and cancels its queued jobs
    /// that nothing else needs.
    fn reset_deck(&mut self, d: usize) {
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        for (stem, ring) in self.decks[d].entries.iter_mut().enumerate() {
            for (i, e) in ring.iter_mut().enumerate() {
                if let Some((_, slot)) = e.take() {
                    if let Some(b) = cur.slots.get_mut(slot as usize) {
                        b.refs = b.refs.saturating_sub(1);
                    }
                }
                cur.lanes
                    .set(d, stem, i as u32, crate::bridge::lanes::NO_SLOT);
            }
        }
        // The deck's lanes start afresh: a job still running for it finishes
        // (its slot stays valid) but no longer holds the lane.
        cur.in_flight.retain(|_, lane| lane.0 != d);
        let slots = &cur.slots;
        let cancelled = self
            .workers
            .cancel(|j| slots.get(j.slot as usize).is_some_and(|b| b.refs == 0));
        for slot in cancelled {
            if let Some(b) = cur.slots.get_mut(slot as usize) {
                if let Some(key) = b.key.take() {
                    cur.resident.remove(&key);
                    cur.in_flight.remove(&slot);
                }
                b.loading = false;
                if let Some(s) = cur.loaded.pool.get(slot) {
                    s.clear();
                }
            }
        }
    }

    fn cue(&mut self, d: usize, song: usize, frame: u64, action: CueAction) {
        let same = self.decks[d].song == song
            && self.decks[d].start_frame == frame
            && matches!(self.decks[d].role, Role::Cued(_));
        if !same {
            self.reset_deck(d);
        }
        self.next_cue_id = self.next_cue_id.wrapping_add(1);
        let cue_id = self.next_cue_id;
        self.decks[d].role = Role::Cued(action);
        self.decks[d].cue_id = cue_id;
        self.decks[d].song = song;
        self.decks[d].start_frame = frame;
        self.send(Command::Cue {
            deck: d as u8,
            song: song as u16,
            start_frame: frame,
            action,
            cue_id,
        });
    }

    fn play(&mut self, song: usize, frame: u64) {
        if song >= self.song_count() {
            return;
        }
        let frame = frame.min(self.current.as_ref().map_or(0, |c| {
            c.loaded.prepared.songs[song]
                .length_frames
                .saturating_sub(1)
        }));
        self.song = song;
        let playing = matches!(
            self.stats.transport(),
            TransportState::Playing | TransportState::Paused
        ) && self.decks.iter().any(|d| d.role == Role::Active);
        let action = if playing {
            CueAction::Switch
        } else {
            CueAction::Start
        };
        // The preload of this song and frame is upgraded; otherwise a free
        // deck, the preload, or the pending one. A pending deck with the
        // same song and frame is not reused either: the engine may have
        // started it already (a seek to frame 0 just after the song's
        // start), and the cue would be refused and the request lost.
        let exact = (0..DECKS).find(|&d| {
            self.decks[d].role == Role::Cued(CueAction::Preload)
                && self.decks[d].song == song
                && self.decks[d].start_frame == frame
        });
        let pending = (0..DECKS).find(|&d| {
            matches!(
                self.decks[d].role,
                Role::Cued(CueAction::Start | CueAction::Switch)
            )
        });
        // Never re-cue the pending deck while another will do: the engine
        // may have started it already (its DeckStarted not drained yet),
        // and a cue for a playing deck is refused, so the request would be
        // lost. The old pending deck stays booked until the engine says
        // what became of it: released when it takes this cue (then freed
        // here on DeckReleased), or started (DeckStarted: then this cue
        // switches from it).
        let deck = exact
            .or_else(|| (0..DECKS).find(|&d| self.decks[d].role == Role::Free))
            .or_else(|| (0..DECKS).find(|&d| self.decks[d].role == Role::Cued(CueAction::Preload)))
            .or(pending);
        if let Some(d) = deck {
            self.cue(d, song, frame, action);
        }
    }

    /// Cues the next song's head on a free deck (preload), unless it is
    /// cued already.
    fn cue_preload_after(&mut self, song: Option<usize>) {
        let next = song.map_or(0, |s| s + 1);
        if !self.auto_advance || next >= self.song_count() || song.is_none() {
            return;
        }
        let cued = self
            .decks
            .iter()
            .any(|d| matches!(d.role, Role::Cued(_)) && d.song == next && d.start_frame == 0);
        if cued {
            return;
        }
        if let Some(d) = (0..DECKS).find(|&d| self.decks[d].role == Role::Free) {
            self.cue(d, next, 0, CueAction::Preload);
        }
    }

    /// Makes `song` resident from `frame` on a preload deck (a song's
    /// head, a jump's or a vamp's target), unless it is cued there already.
    /// A free deck if there is one, else another preload, the next song's
    /// head last (auto-advance needs it).
    fn cue_at(&mut self, song: usize, frame: u64) {
        let Some(length) = self
            .current
            .as_ref()
            .and_then(|c| c.loaded.prepared.songs.get(song))
            .map(|s| s.length_frames)
        else {
            return;
        };
        let frame = frame.min(length.saturating_sub(1));
        let cued = self
            .decks
            .iter()
            .any(|d| matches!(d.role, Role::Cued(_)) && d.song == song && d.start_frame == frame);
        if cued {
            return;
        }
        let next_head = |d: &DeckBook| d.song == self.song + 1 && d.start_frame == 0;
        let preload = |d: &DeckBook| d.role == Role::Cued(CueAction::Preload);
        let deck = (0..DECKS)
            .find(|&d| self.decks[d].role == Role::Free)
            .or_else(|| (0..DECKS).find(|&d| preload(&self.decks[d]) && !next_head(&self.decks[d])))
            .or_else(|| (0..DECKS).find(|&d| preload(&self.decks[d])));
        if let Some(d) = deck {
            self.cue(d, song, frame, CueAction::Preload);
        }
    }

    fn done(&mut self, done: Done) {
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        if done.key.epoch() != cur.loaded.prepared.epoch {
            return;
        }
        cur.in_flight.remove(&done.slot);
        if let Some(b) = cur.slots.get_mut(done.slot as usize) {
            if b.key == Some(done.key) {
                b.loading = false;
            }
        }
        let loading = cur.slots.iter().filter(|b| b.loading).count();
        self.loader_stats
            .jobs_in_flight
            .store(loading as u64, Ordering::Relaxed);
        if let Some(c) = self
            .loader_stats
            .chunks_loaded
            .lock()
            .get_mut(done.key.song() as usize)
        {
            *c += 1;
        }
    }
}
