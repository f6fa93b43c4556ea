//! AUDIO THREAD: transport, mixer, window reads, declick and counters.
//!
//! [`Engine::process`] is the whole realtime path. It takes commands from a
//! bounded `rtrb` queue, reads stem frames from slots (atomics only), mixes
//! them with smoothed gains and writes the outputs. It never allocates,
//! locks, blocks, logs or does I/O; late data is played as silence and
//! counted as an underrun. Everything heavy (decoding, scheduling, dropping
//! heap data) happens on the loader side of [`crate::bridge`].
//!
//! Songs play on *decks*: a deck is one song at one position with its own
//! windows. A seek or song change cues another deck; the audible one keeps
//! playing until every playable stem of the cued deck has its first frames,
//! then an equal-power crossfade of 10 ms moves over. The next song waits on
//! a preloaded deck, so auto-advance continues at the exact next frame.
// The realtime contract, enforced: clippy.toml's disallowed types, methods
// and macros (locks, files, Vec::push, format!, sleep …) are errors here, and
// no unsafe code at all.
#![forbid(unsafe_code)]
#![deny(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    clippy::disallowed_macros
)]

pub mod buses;
pub mod click;
mod deck;
pub mod declick;
mod jump;
pub mod master;
pub mod mixer;
pub mod output;
mod render;
mod transport;
pub mod window;

use std::sync::Arc;

use crate::bridge::{Bus, SongMaster, AUX_BUS_COUNT, BUS_COUNT};
use crate::bridge::{
    Command, CueAction, EngineSetlist, EngineStats, Event, Request, TransportState, Waker, DECKS,
    MAX_STEMS,
};
use declick::{equal_power, fade_in, frames_for, CROSSFADE_SECS, GAIN_RAMP_SECS, RECOVER_SECS};
use master::Chain;
use mixer::{target_gains, GainRamp};
use window::{read_stem, ready_frames, StemRef};

pub use buses::Outputs;
use buses::{AuxDelay, BusBlock};
use click::{BeatGrid, ClickSounds};
use deck::{Crossfade, Deck, DeckRole, SyncStart};
use render::any_solo;
use transport::{OutFade, Transport};

/// Frames the engine renders at a time inside one `process()` call; host
/// blocks of any size are split into sub-blocks of at most this length, so
/// scratch buffers are fixed and every state change is per frame (the output
/// does not depend on the host's block size). 256 frames ≈ 5.3 ms at 48 kHz.
pub const SUB_BLOCK_FRAMES: usize = 256;

/// Frames every playable stem must have ready at the start position before a
/// cued deck starts: 2048 frames ≈ 43 ms at 48 kHz, about one FLAC packet,
/// so a start waits for the first decoded packets of each stem, not for
/// whole chunks.
pub const START_GATE_FRAMES: u32 = 2048;

/// Capacity of the command queue to the audio thread: far more than a user
/// or host can send between two blocks.
pub const COMMAND_QUEUE_CAPACITY: usize = 1024;

/// Capacity of the event queue from the audio thread: at most a few events
/// per block, drained at every loader wake-up (at least every 20 ms while
/// playing).
pub const EVENT_QUEUE_CAPACITY: usize = 1024;

/// One stem of a pending deck, as [`Engine::pending_gate`] sees it.
#[derive(Clone, Copy, Debug, Default)]
pub struct GateStem {
    /// The pending deck.
    pub deck: u8,
    /// Its position on the song's timeline, frames.
    pub position_frames: u64,
    /// Whether the stem counts for the gate (not failed).
    pub playable: bool,
    /// The chunk at the position.
    pub chunk: u32,
    /// The slot the lane points at for it.
    pub slot: u32,
    /// Whether that slot holds this chunk.
    pub holds_key: bool,
    /// Frames of the chunk ready in it.
    pub ready_frames: u32,
    /// Frames the gate counts as ready from the position (up to
    /// [`START_GATE_FRAMES`]).
    pub gate_ready_frames: u32,
}

/// A count-in on the Click bus: its beats and the frames of it played.
#[derive(Clone, Copy, Debug)]
struct CountIn {
    grid: BeatGrid,
    elapsed_frames: u64,
}

/// Whether `process()` may wait for data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessMode {
    /// Never wait: late frames are silence and counted as underruns.
    Realtime,
    /// Render offline: `process()` stops early (returns fewer frames) when
    /// data is not resident yet, so the caller can wait for the loader and
    /// call again. The output is then exact and independent of timing.
    Offline,
}

/// Engine settings fixed at construction (the mode may change later with
/// [`Engine::set_mode`]).
#[derive(Clone, Copy, Debug)]
pub struct EngineConfig {
    /// The engine rate (the host's sample rate), Hz.
    pub engine_rate_hz: u32,
    /// Realtime or offline.
    pub mode: ProcessMode,
    /// Whether the output runs through the auto-master chain
    /// ([`master::Chain`]; the plugin's setting). It delays the
    /// output by [`Engine::latency_frames`], on or off; without it there is
    /// no chain and no delay (offline analysis, warming, plain renders).
    pub mastering: bool,
}

/// The audio thread's engine. Create it with [`crate::Player::new`], which
/// returns it with the control handle; move it to the audio thread and call
/// [`Engine::process`] for every block.
pub struct Engine {
    config: EngineConfig,
    commands: rtrb::Consumer<Command>,
    events: rtrb::Producer<Event>,
    stats: Arc<EngineStats>,
    waker: Arc<Waker>,
    /// Offline only: a play or seek request is on its way to the loader;
    /// rendering waits for its cue so the start lands on the request's
    /// frame.
    awaiting_cue: bool,
    /// Counts setlists taken (so the plugin glue sees a new one arrive).
    setlist_serial: u32,
    /// Frames rendered since the engine was made.
    clock_frames: u64,
    /// A synced play or seek on its way to the loader: (song, or any for a
    /// seek; the start it asked for).
    sync_request: Option<(Option<u16>, SyncStart)>,
    setlist: Option<Box<EngineSetlist>>,
    /// A replaced setlist waiting for room in the event queue.
    retired: Option<Box<EngineSetlist>>,
    decks: [Deck; DECKS],
    active: Option<usize>,
    pending: Option<usize>,
    crossfade: Option<Crossfade>,
    transport: Transport,
    out_fade: OutFade,
    auto_advance: bool,
    /// The song cued at its start after a song that ends with a stop: what
    /// Play plays next (taken by [`Engine::take_cued_after_end`]).
    cued_after_end: Option<u16>,
    crossfade_frames: u32,
    recover_frames: u32,
    ramp_frames: u32,
    stem_scratch: [f32; SUB_BLOCK_FRAMES * 2],
    /// The sub-block being rendered, every bus (taken while rendering).
    out_block: Option<Box<BusBlock>>,
    /// The audible deck's mix and the mix of the deck fading out.
    mix_a: Option<Box<BusBlock>>,
    mix_b: Option<Box<BusBlock>>,
    /// The auto-master chain on the main bus (always running when present).
    chain: Option<Box<Chain>>,
    /// Each aux bus's delay: the chain's latency, so that aux buses stay in
    /// time with main.
    aux_delays: [AuxDelay; AUX_BUS_COUNT],
    /// The generated click's sounds at the engine rate.
    click_sounds: ClickSounds,
    /// A count-in running before a song started from stop.
    count_in: Option<CountIn>,
    /// Each song's chain settings, by song index (neutral until its
    /// analysis is fitted).
    song_masters: Box<[SongMaster]>,
    /// The queued jump or running vamp ([`Engine::queue_jump`],
    /// [`Engine::vamp`]).
    queued: Option<crate::bridge::Queued>,
    /// The deck a landing switched to (its start re-arms a vamp; any other
    /// start ends the queued jump or vamp).
    landing_deck: Option<usize>,
    /// A landing whose target had no preload deck went to the loader: the
    /// deck it cues is the landing's.
    landing_via_loader: bool,
}

impl Engine {
    /// Builds an engine around its queues. Not realtime-safe (allocates the
    /// engine once). Use [`crate::Player::new`] rather than calling this.
    pub fn new(
        config: EngineConfig,
        commands: rtrb::Consumer<Command>,
        events: rtrb::Producer<Event>,
        stats: Arc<EngineStats>,
        waker: Arc<Waker>,
    ) -> Self {
        let rate = config.engine_rate_hz.max(1);
        let chain = config.mastering.then(|| Box::new(Chain::new(rate)));
        let latency_frames = chain.as_deref().map_or(0, Chain::latency_frames);
        Self {
            config,
            commands,
            events,
            stats,
            waker,
            awaiting_cue: false,
            setlist_serial: 0,
            clock_frames: 0,
            sync_request: None,
            setlist: None,
            retired: None,
            decks: std::array::from_fn(|_| Deck::new()),
            active: None,
            pending: None,
            crossfade: None,
            transport: Transport::Stopped,
            out_fade: OutFade::None,
            auto_advance: true,
            cued_after_end: None,
            crossfade_frames: frames_for(CROSSFADE_SECS, rate),
            recover_frames: frames_for(RECOVER_SECS, rate),
            ramp_frames: frames_for(GAIN_RAMP_SECS, rate),
            stem_scratch: [0.0; SUB_BLOCK_FRAMES * 2],
            out_block: Some(BusBlock::boxed()),
            mix_a: Some(BusBlock::boxed()),
            mix_b: Some(BusBlock::boxed()),
            aux_delays: std::array::from_fn(|_| AuxDelay::new(latency_frames)),
            click_sounds: ClickSounds::new(rate),
            count_in: None,
            chain,
            song_masters: std::iter::repeat_n(SongMaster::NEUTRAL, crate::setlist::MAX_SONGS)
                .collect(),
            queued: None,
            landing_deck: None,
            landing_via_loader: false,
        }
    }

    /// Renders one block of the main bus into `out_l` and `out_r` (frames
    /// = the shorter length); stems on other buses are dropped. See
    /// [`Engine::process_buses`].
    pub fn process(&mut self, out_l: &mut [f32], out_r: &mut [f32]) -> usize {
        self.process_buses(&mut Outputs::main(out_l, out_r))
    }

    /// Renders one block of every bus into `out` (main through the
    /// auto-master, aux buses delayed by its latency; buses not connected
    /// are dropped). Realtime-safe: no allocation, lock, I/O or logging.
    ///
    /// Returns the frames rendered: always the whole block in
    /// [`ProcessMode::Realtime`]; in [`ProcessMode::Offline`] it may stop
    /// early where data is not resident yet (the rest of the buffers is left
    /// as it was), and the caller renders the remainder later.
    pub fn process_buses(&mut self, out: &mut Outputs) -> usize {
        self.drain_commands();
        let n = out.frames();
        let mut done = 0;
        while done < n {
            let len = (n - done).min(SUB_BLOCK_FRAMES);
            let got = self.render_sub_block(len);
            self.write_outputs(&mut out.range(done, done + got));
            done += got;
            self.clock_frames += got as u64;
            if got < len {
                break;
            }
        }
        self.hand_back_retired();
        self.publish(done as u64);
        done
    }

    /// Runs the auto-master chain over rendered frames of the main bus,
    /// with the settings of the song on the audible deck.
    fn master(&mut self, l: &mut [f32], r: &mut [f32]) {
        let Some(chain) = self.chain.as_deref_mut() else {
            return;
        };
        if let Some(a) = self.active {
            let song = self.decks[a].song as usize;
            let master = self
                .song_masters
                .get(song)
                .copied()
                .unwrap_or(SongMaster::NEUTRAL);
            chain.set_song(master);
        }
        chain.process(l, r);
        self.stats.note_master_gain(chain.take_min_gain());
    }

    /// Switches the auto-master: `on` crossfades to the mastered sound
    /// (off: the original) starting at the next frame; `ab_match` plays the
    /// original at the mastered loudness. Realtime-safe.
    pub fn set_auto_master(&mut self, on: bool, ab_match: bool) {
        if let Some(chain) = self.chain.as_deref_mut() {
            chain.set_on(on);
            chain.set_ab_match(ab_match);
            self.stats.set_auto_master_on(on);
        }
    }

    /// Renders the auto-master's delayed tail: silence in, the last
    /// [`Engine::latency_frames`] frames of what was played out (offline
    /// renders call this after the end, as a host keeps calling `process`).
    /// Does not touch the transport. Realtime-safe.
    pub fn render_tail(&mut self, out_l: &mut [f32], out_r: &mut [f32]) {
        self.render_tail_buses(&mut Outputs::main(out_l, out_r));
    }

    /// Forgets what the auto-master and the aux buses' delays hold of the
    /// signal (delay lines, filters and detectors) without touching the
    /// transport: the host's `reset`. Realtime-safe.
    pub fn reset_master(&mut self) {
        if let Some(chain) = self.chain.as_deref_mut() {
            chain.reset();
        }
        for d in &mut self.aux_delays {
            d.reset();
        }
    }

    /// The auto-master's delay, frames (constant, on or off; 0 without the
    /// chain): the latency the plugin reports. Realtime-safe.
    pub fn latency_frames(&self) -> usize {
        self.chain.as_deref().map_or(0, Chain::latency_frames)
    }

    /// Diagnosis of a start or seek that does not open: for each stem of
    /// the pending deck (the deck waiting for its gate), what its window
    /// holds at the deck's position. Fills `out` and returns how many
    /// stems it filled (0 when nothing is pending). Realtime-safe.
    pub fn pending_gate(&self, out: &mut [GateStem]) -> usize {
        let (Some(p), Some(sl)) = (self.pending, self.setlist.as_deref()) else {
            return 0;
        };
        let deck = &self.decks[p];
        let mut n = 0;
        for (stem, slot_out) in out.iter_mut().enumerate() {
            let Some((sref, flat)) = Self::stem_ref(sl, p, deck.song, stem) else {
                break;
            };
            let local = deck.position_frames.saturating_sub(sref.offset_frames);
            let chunk = (local / crate::bridge::CHUNK_FRAMES as u64) as u32;
            let slot = sl.lanes.slot_for(p, stem, chunk);
            let key = crate::bridge::ChunkKey::new(sl.epoch, deck.song, stem as u8, chunk);
            let held = sl.pool.get(slot);
            *slot_out = GateStem {
                deck: p as u8,
                position_frames: deck.position_frames,
                playable: sl.stem_ok(flat),
                chunk,
                slot,
                holds_key: held.is_some_and(|s| s.key_raw() == key.raw()),
                ready_frames: held.map_or(0, |s| s.ready_frames_for(key)),
                gate_ready_frames: ready_frames(sl, &sref, deck.position_frames, START_GATE_FRAMES),
            };
            n += 1;
        }
        n
    }

    /// Songs in the current setlist (0 before one is loaded).
    /// Realtime-safe.
    pub fn song_count(&self) -> usize {
        self.setlist.as_deref().map_or(0, |sl| sl.songs.len())
    }

    /// Changes every time a setlist is taken (starts at 0: none yet).
    /// Realtime-safe.
    pub fn setlist_serial(&self) -> u32 {
        self.setlist_serial
    }

    /// The song on the audible deck, if any. Realtime-safe.
    pub fn active_song(&self) -> Option<usize> {
        self.active.map(|a| self.decks[a].song as usize)
    }

    /// Position of the audible deck on its song's timeline, in frames.
    /// Realtime-safe.
    pub fn position_frames(&self) -> Option<u64> {
        self.active.map(|a| self.decks[a].position_frames)
    }

    /// Whether the transport plays (or is about to: a start is cued).
    /// Realtime-safe.
    pub fn is_playing(&self) -> bool {
        (self.transport == Transport::Playing
            && !matches!(
                self.out_fade,
                OutFade::Out {
                    then: Transport::Paused | Transport::Stopped,
                    ..
                }
            ))
            || (self.transport != Transport::Paused && self.pending.is_some())
    }

    /// Whether the transport is paused (a resume continues in place).
    /// Realtime-safe.
    pub fn is_paused(&self) -> bool {
        self.transport == Transport::Paused
            || matches!(
                self.out_fade,
                OutFade::Out {
                    then: Transport::Paused,
                    ..
                }
            )
    }

    /// Offline: whether a short `process()` is waiting for something (a
    /// requested start, a cued deck, data of the audible song) rather than
    /// idle with nothing to play. Realtime-safe.
    pub fn is_waiting(&self) -> bool {
        self.awaiting_cue
            || self.pending.is_some()
            || (self.active.is_some() && self.transport == Transport::Playing)
    }

    /// The song a stop at a song's end (`SongEnd::Stop` or `Fade`)
    /// cued at its start, once: the song Play plays next. Realtime-safe.
    pub fn take_cued_after_end(&mut self) -> Option<usize> {
        self.cued_after_end.take().map(usize::from)
    }

    /// Switches between realtime and offline rendering (a host may bounce
    /// offline between realtime sessions). Realtime-safe.
    pub fn set_mode(&mut self, mode: ProcessMode) {
        self.config.mode = mode;
        if mode == ProcessMode::Realtime {
            self.awaiting_cue = false;
        }
    }

    /// Offline only: stop waiting for a requested start that has not been
    /// cued (the caller's wait timed out); rendering goes on without it.
    /// Realtime-safe.
    pub fn stop_waiting(&mut self) {
        self.awaiting_cue = false;
    }
}
