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

pub mod declick;
pub mod mixer;
pub mod output;
pub mod window;

use std::sync::Arc;

use crate::bridge::{
    Command, CueAction, EngineSetlist, EngineStats, Event, Request, TransportState, Waker, DECKS,
    MAX_STEMS,
};
use declick::{equal_power, fade_in, frames_for, CROSSFADE_SECS, GAIN_RAMP_SECS, RECOVER_SECS};
use mixer::{target_gains, GainRamp};
use window::{read_stem, ready_frames, StemRef};

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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DeckRole {
    Idle,
    Cued(CueAction),
    Playing,
    FadingOut,
}

#[derive(Clone, Copy, Debug, Default)]
struct Lane {
    gain: GainRamp,
    /// Frames left of the fade-in after an underrun.
    recover_left: u32,
}

struct Deck {
    role: DeckRole,
    /// The cue this use of the deck came from (echoed when released).
    cue_id: u32,
    song: u16,
    position_frames: u64,
    /// A start that keeps time with an external clock (the host
    /// transport): the engine clock when it was requested and the frame
    /// requested. While cued, the start position moves on with the clock,
    /// so the song starts where the clock is now, not where it was.
    sync: Option<SyncStart>,
    lanes: [Lane; MAX_STEMS],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct SyncStart {
    /// Engine clock (frames rendered since the engine was made) at the
    /// request.
    since_clock_frames: u64,
    /// The frame requested.
    frame: u64,
}

impl Deck {
    fn new() -> Self {
        Self {
            role: DeckRole::Idle,
            cue_id: 0,
            song: 0,
            position_frames: 0,
            sync: None,
            lanes: [Lane::default(); MAX_STEMS],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transport {
    Stopped,
    Playing,
    Paused,
}

/// Output fade for pause, stop and starting in the middle of a song.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OutFade {
    None,
    In { done: u32 },
    Out { done: u32, then: Transport },
}

#[derive(Clone, Copy, Debug)]
struct Crossfade {
    from: usize,
    done: u32,
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
    crossfade_frames: u32,
    recover_frames: u32,
    ramp_frames: u32,
    stem_scratch: [f32; SUB_BLOCK_FRAMES * 2],
    mix_a: [[f32; SUB_BLOCK_FRAMES]; 2],
    mix_b: [[f32; SUB_BLOCK_FRAMES]; 2],
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
            crossfade_frames: frames_for(CROSSFADE_SECS, rate),
            recover_frames: frames_for(RECOVER_SECS, rate),
            ramp_frames: frames_for(GAIN_RAMP_SECS, rate),
            stem_scratch: [0.0; SUB_BLOCK_FRAMES * 2],
            mix_a: [[0.0; SUB_BLOCK_FRAMES]; 2],
            mix_b: [[0.0; SUB_BLOCK_FRAMES]; 2],
        }
    }

    /// Renders one block into `out_l` and `out_r` (frames = the shorter
    /// length). Realtime-safe: no allocation, lock, I/O or logging.
    ///
    /// Returns the frames rendered: always the whole block in
    /// [`ProcessMode::Realtime`]; in [`ProcessMode::Offline`] it may stop
    /// early where data is not resident yet (the rest of the buffers is left
    /// as it was), and the caller renders the remainder later.
    pub fn process(&mut self, out_l: &mut [f32], out_r: &mut [f32]) -> usize {
        self.drain_commands();
        let n = out_l.len().min(out_r.len());
        let mut done = 0;
        while done < n {
            let len = (n - done).min(SUB_BLOCK_FRAMES);
            let got =
                self.render_sub_block(&mut out_l[done..done + len], &mut out_r[done..done + len]);
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

    /// Plays `song` from `frame`, from the audio thread (a MIDI note, a
    /// parameter, the host transport). Realtime-safe.
    ///
    /// If `song`'s head is already resident on a preload deck (the next
    /// song, or one cued with [`Engine::cue_song`]) and `frame` is 0, it
    /// starts at the next frame rendered: a caller that splits its block at
    /// an event's time gets a sample-accurate start. Otherwise the request
    /// goes to the loader and the song starts as soon as its first frames
    /// are resident ([`START_GATE_FRAMES`]); offline, rendering waits for
    /// it, so the start is sample-accurate there too. Out-of-range songs
    /// are ignored.
    pub fn play_song(&mut self, song: usize, frame: u64) {
        if song >= self.song_count() {
            return;
        }
        let Ok(song16) = u16::try_from(song) else {
            return;
        };
        let preloaded = (0..DECKS).find(|&d| {
            self.decks[d].role == DeckRole::Cued(CueAction::Preload)
                && self.decks[d].song == song16
                && self.decks[d].position_frames == frame
        });
        let ready = match (preloaded, self.setlist.as_deref()) {
            (Some(q), Some(sl)) => self.gate_open(sl, q),
            _ => false,
        };
        if let (Some(q), true) = (preloaded, ready) {
            if let Some(p) = self.pending.take() {
                self.release(p);
            }
            let action = if self.active.is_some() && self.transport == Transport::Playing {
                CueAction::Switch
            } else {
                CueAction::Start
            };
            if self.transport == Transport::Paused {
                // A note is an explicit start: it does not stay paused.
                self.transport = Transport::Stopped;
            }
            self.decks[q].role = DeckRole::Cued(action);
            self.decks[q].sync = self.sync_request.take().map(|(_, s)| s);
            self.pending = Some(q);
            self.awaiting_cue = false;
            // Taken at the next rendered frame (its gate is open); the
            // loader learns of it from `Event::DeckStarted`.
            return;
        }
        if self.transport == Transport::Paused {
            self.transport = Transport::Stopped;
        }
        self.forward(Request::Play {
            song: song16,
            frame,
        });
    }

    /// Like [`Engine::play_song`], but keeping time with an external clock
    /// (the host transport): the song starts at `frame` plus the frames
    /// rendered since this call, so however long the loader takes, it
    /// plays in step with the clock. Realtime-safe.
    pub fn play_song_synced(&mut self, song: usize, frame: u64) {
        if song >= self.song_count() {
            return;
        }
        let Ok(song16) = u16::try_from(song) else {
            return;
        };
        self.sync_request = Some((
            Some(song16),
            SyncStart {
                since_clock_frames: self.clock_frames,
                frame,
            },
        ));
        self.play_song(song, frame);
    }

    /// Like [`Engine::seek`], keeping time with an external clock (see
    /// [`Engine::play_song_synced`]). Realtime-safe.
    pub fn seek_synced(&mut self, frame: u64) {
        if self.song_count() == 0 {
            return;
        }
        self.sync_request = Some((
            None,
            SyncStart {
                since_clock_frames: self.clock_frames,
                frame,
            },
        ));
        self.seek(frame);
    }

    /// Makes `song`'s head resident without starting it (MIDI program
    /// change, the song parameter), so that a later
    /// [`Engine::play_song`]`(song, 0)` starts at once. Realtime-safe.
    pub fn cue_song(&mut self, song: usize) {
        if song >= self.song_count() {
            return;
        }
        if let Ok(song) = u16::try_from(song) {
            self.emit(Event::Request(Request::Cue { song }));
            self.waker.wake();
        }
    }

    /// Seeks the current song to `frame` (the host transport jumped).
    /// Realtime-safe; see [`crate::Player::seek`] for what a seek does.
    pub fn seek(&mut self, frame: u64) {
        if self.song_count() == 0 {
            return;
        }
        self.forward(Request::Seek { frame });
    }

    /// Pauses with a 10 ms fade. Realtime-safe.
    pub fn pause(&mut self) {
        self.apply(Command::Pause);
    }

    /// Resumes after a pause with a 10 ms fade. Realtime-safe.
    pub fn resume(&mut self) {
        self.apply(Command::Resume);
    }

    /// Stops with a 10 ms fade. Realtime-safe.
    pub fn stop(&mut self) {
        self.apply(Command::Stop);
    }

    /// Stops at once, without a fade (the host deactivated the plugin:
    /// nothing is heard in between). Realtime-safe.
    pub fn halt(&mut self) {
        self.awaiting_cue = false;
        self.sync_request = None;
        self.stop_now();
        if let Some(p) = self.pending.take() {
            self.release(p);
        }
    }

    /// Sends a request to the loader and wakes it; offline, rendering waits
    /// for the resulting cue.
    fn forward(&mut self, r: Request) {
        if self.events.push(Event::Request(r)).is_err() {
            self.stats.add_event_dropped();
            return;
        }
        if self.config.mode == ProcessMode::Offline {
            self.awaiting_cue = true;
        }
        self.waker.wake();
    }

    /// Takes the commands queued for the engine without rendering (so a
    /// caller that waits can see a setlist arrive). Realtime-safe.
    pub fn take_commands(&mut self) {
        self.drain_commands();
        self.hand_back_retired();
    }

    fn drain_commands(&mut self) {
        while let Ok(cmd) = self.commands.peek() {
            if matches!(cmd, Command::SetSetlist(_)) && self.retired.is_some() {
                // The previous setlist has not gone back yet; take the new
                // one on a later block rather than drop anything here.
                break;
            }
            let Ok(cmd) = self.commands.pop() else { break };
            self.stats.add_command_taken();
            self.apply(cmd);
        }
    }

    fn apply(&mut self, cmd: Command) {
        match cmd {
            Command::SetSetlist(new) => {
                for d in 0..DECKS {
                    if self.decks[d].role != DeckRole::Idle {
                        self.release(d);
                    }
                }
                self.active = None;
                self.pending = None;
                self.crossfade = None;
                self.transport = Transport::Stopped;
                self.out_fade = OutFade::None;
                self.awaiting_cue = false;
                self.sync_request = None;
                self.setlist_serial = self.setlist_serial.wrapping_add(1);
                self.retired = self.setlist.replace(new);
            }
            Command::Cue {
                deck,
                song,
                start_frame,
                action,
                cue_id,
            } => {
                if action != CueAction::Preload {
                    self.awaiting_cue = false;
                }
                self.cue(deck as usize, song, start_frame, action, cue_id);
            }
            Command::Resume => {
                if self.transport == Transport::Paused
                    || matches!(
                        self.out_fade,
                        OutFade::Out {
                            then: Transport::Paused,
                            ..
                        }
                    )
                {
                    self.transport = Transport::Playing;
                    self.out_fade = OutFade::In { done: 0 };
                }
            }
            Command::Pause => {
                if self.transport == Transport::Playing {
                    self.out_fade = OutFade::Out {
                        done: 0,
                        then: Transport::Paused,
                    };
                }
            }
            Command::Stop => {
                self.awaiting_cue = false;
                if self.transport == Transport::Playing && self.active.is_some() {
                    self.out_fade = OutFade::Out {
                        done: 0,
                        then: Transport::Stopped,
                    };
                } else {
                    self.stop_now();
                }
                if let Some(p) = self.pending.take() {
                    self.release(p);
                }
            }
            Command::SetStemMix { song, stem, mix } => {
                if let Some(sl) = self.setlist.as_deref_mut() {
                    if let Some(s) = sl.songs.get(song as usize) {
                        if (stem as u32) < s.stem_count {
                            let i = (s.first_stem + stem as u32) as usize;
                            if let Some(st) = sl.stems.get_mut(i) {
                                st.mix = mix;
                            }
                        }
                    }
                }
            }
            Command::SetAutoAdvance(on) => self.auto_advance = on,
        }
    }

    fn cue(&mut self, d: usize, song: u16, start_frame: u64, action: CueAction, cue_id: u32) {
        let Some(sl) = self.setlist.as_deref() else {
            return;
        };
        if d >= DECKS || song as usize >= sl.songs.len() {
            return;
        }
        if matches!(self.decks[d].role, DeckRole::Playing | DeckRole::FadingOut) {
            return;
        }
        self.stats.add_cue_taken();
        let deck = &mut self.decks[d];
        deck.role = DeckRole::Cued(action);
        deck.cue_id = cue_id;
        deck.song = song;
        deck.position_frames = start_frame;
        deck.sync = None;
        if action != CueAction::Preload {
            if let Some((want_song, sync)) = self.sync_request {
                if sync.frame == start_frame && want_song.is_none_or(|s| s == song) {
                    deck.sync = Some(sync);
                    self.sync_request = None;
                }
            }
        }
        self.stats.set_deck_in_use(d, true);
        self.stats.set_deck_position_frames(d, start_frame);
        match action {
            CueAction::Preload => {
                if self.pending == Some(d) {
                    self.pending = None;
                }
            }
            CueAction::Start | CueAction::Switch => {
                if let Some(p) = self.pending {
                    if p != d {
                        self.release(p);
                    }
                }
                self.pending = Some(d);
            }
        }
    }

    fn release(&mut self, d: usize) {
        self.decks[d].role = DeckRole::Idle;
        self.stats.set_deck_in_use(d, false);
        let cue_id = self.decks[d].cue_id;
        self.emit(Event::DeckReleased {
            deck: d as u8,
            cue_id,
        });
    }

    fn stop_now(&mut self) {
        if let Some(a) = self.active.take() {
            self.release(a);
        }
        if let Some(f) = self.crossfade.take() {
            self.release(f.from);
        }
        self.transport = Transport::Stopped;
        self.out_fade = OutFade::None;
    }

    fn emit(&mut self, event: Event) {
        if self.events.push(event).is_err() {
            self.stats.add_event_dropped();
        }
    }

    fn hand_back_retired(&mut self) {
        if let Some(old) = self.retired.take() {
            if let Err(rtrb::PushError::Full(Event::SetlistRetired(old))) =
                self.events.push(Event::SetlistRetired(old))
            {
                self.retired = Some(old);
            }
        }
    }

    fn publish(&mut self, frames: u64) {
        self.stats.add_frames_processed(frames);
        for (d, deck) in self.decks.iter().enumerate() {
            if deck.role != DeckRole::Idle {
                self.stats.set_deck_position_frames(d, deck.position_frames);
            }
        }
        let song = self.active.map(|a| self.decks[a].song as usize);
        self.stats.set_active(self.active, song);
        let t = match (self.transport, self.active, self.pending) {
            (Transport::Playing, Some(_), _) => TransportState::Playing,
            (Transport::Paused, _, _) => TransportState::Paused,
            (_, _, Some(_)) => TransportState::Starting,
            _ => TransportState::Stopped,
        };
        self.stats.set_transport(t);
    }

    /// Stem descriptor for `stem` of the song on deck `d`.
    fn stem_ref(sl: &EngineSetlist, d: usize, song: u16, stem: usize) -> Option<(StemRef, usize)> {
        let s = sl.songs.get(song as usize)?;
        if stem >= s.stem_count as usize {
            return None;
        }
        let flat = s.first_stem as usize + stem;
        let st = sl.stems.get(flat)?;
        Some((
            StemRef {
                deck: d,
                song,
                stem,
                offset_frames: st.offset_frames,
                length_frames: st.length_frames,
            },
            flat,
        ))
    }

    /// Frames (up to `len`) every playable stem of deck `d` can play from its
    /// position without a miss.
    fn deck_ready_frames(sl: &EngineSetlist, deck: &Deck, d: usize, len: u32) -> u32 {
        let Some(song) = sl.songs.get(deck.song as usize) else {
            return 0;
        };
        let mut ready = len;
        for stem in 0..(song.stem_count as usize).min(MAX_STEMS) {
            let Some((sref, flat)) = Self::stem_ref(sl, d, deck.song, stem) else {
                continue;
            };
            if !sl.stem_ok(flat) {
                continue;
            }
            ready = ready.min(ready_frames(sl, &sref, deck.position_frames, ready));
            if ready == 0 {
                break;
            }
        }
        ready
    }

    fn song_frames_left(sl: &EngineSetlist, deck: &Deck) -> u64 {
        sl.songs
            .get(deck.song as usize)
            .map_or(0, |s| s.length_frames.saturating_sub(deck.position_frames))
    }

    fn gate_open(&self, sl: &EngineSetlist, d: usize) -> bool {
        let deck = &self.decks[d];
        let need = (START_GATE_FRAMES as u64).min(Self::song_frames_left(sl, deck)) as u32;
        need == 0 || Self::deck_ready_frames(sl, deck, d, need) >= need
    }

    /// Makes the pending deck audible.
    fn take_pending(&mut self, sl: &EngineSetlist, p: usize) {
        self.pending = None;
        let DeckRole::Cued(action) = self.decks[p].role else {
            return;
        };
        self.reset_gains(sl, p);
        let mid_song = self.decks[p].position_frames > 0;
        match (action, self.active) {
            (CueAction::Switch, Some(a)) if self.transport == Transport::Playing => {
                if let Some(old) = self.crossfade.take() {
                    self.release(old.from);
                }
                self.decks[a].role = DeckRole::FadingOut;
                self.crossfade = Some(Crossfade { from: a, done: 0 });
            }
            (_, active) => {
                if let Some(a) = active {
                    self.release(a);
                }
                if self.transport != Transport::Paused {
                    self.transport = Transport::Playing;
                    self.out_fade = if mid_song {
                        OutFade::In { done: 0 }
                    } else {
                        OutFade::None
                    };
                }
            }
        }
        self.decks[p].role = DeckRole::Playing;
        self.active = Some(p);
        self.stats.add_song_start();
        let song = self.decks[p].song;
        self.emit(Event::DeckStarted {
            deck: p as u8,
            song,
        });
    }

    fn reset_gains(&mut self, sl: &EngineSetlist, d: usize) {
        let song = self.decks[d].song;
        let any_solo = any_solo(sl, song);
        for stem in 0..MAX_STEMS {
            let Some((_, flat)) = Self::stem_ref(sl, d, song, stem) else {
                break;
            };
            let target = target_gains(&sl.stems[flat].mix, any_solo);
            let lane = &mut self.decks[d].lanes[stem];
            lane.gain.reset(target);
            lane.recover_left = 0;
        }
    }

    /// The active deck reached the end of its song.
    fn song_end(&mut self, sl: &EngineSetlist, a: usize) {
        let song = self.decks[a].song;
        self.release(a);
        self.active = None;
        if let Some(f) = self.crossfade.take() {
            self.release(f.from);
        }
        if self.pending.is_some() {
            return;
        }
        let next = song as usize + 1;
        let preloaded = (0..DECKS).find(|&d| {
            self.decks[d].role == DeckRole::Cued(CueAction::Preload)
                && self.decks[d].song as usize == next
                && self.decks[d].position_frames == 0
        });
        match preloaded {
            Some(q) if self.auto_advance && next < sl.songs.len() => {
                self.decks[q].role = DeckRole::Cued(CueAction::Start);
                self.pending = Some(q);
                if self.gate_open(sl, q) {
                    self.take_pending(sl, q);
                }
            }
            _ => {
                self.transport = Transport::Stopped;
                self.out_fade = OutFade::None;
                self.emit(Event::SongEnded { song });
            }
        }
    }

    /// Renders up to `out_l.len()` frames; returns how many were rendered.
    fn render_sub_block(&mut self, out_l: &mut [f32], out_r: &mut [f32]) -> usize {
        let len = out_l.len();
        out_l.fill(0.0);
        out_r.fill(0.0);
        let Some(sl) = self.setlist.take() else {
            return len;
        };
        let done = self.render_with(&sl, out_l, out_r);
        self.setlist = Some(sl);
        done
    }

    fn render_with(&mut self, sl: &EngineSetlist, out_l: &mut [f32], out_r: &mut [f32]) -> usize {
        let len = out_l.len();
        let offline = self.config.mode == ProcessMode::Offline;
        let mut done = 0usize;
        while done < len {
            if offline && self.awaiting_cue {
                return done;
            }
            if let Some(p) = self.pending {
                if let Some(sync) = self.decks[p].sync {
                    let now = self.clock_frames + done as u64;
                    self.decks[p].position_frames =
                        sync.frame + now.saturating_sub(sync.since_clock_frames);
                }
                if self.gate_open(sl, p) {
                    self.take_pending(sl, p);
                } else if offline {
                    return done;
                }
            }
            let Some(a) = self.active else {
                if self.pending.is_some() {
                    self.stats.add_gated_frames((len - done) as u64);
                } else if offline {
                    // Nothing cued: an offline render has nothing to wait
                    // for and nothing to output.
                    return done;
                }
                return len;
            };
            if self.transport != Transport::Playing {
                return len;
            }
            let left = Self::song_frames_left(sl, &self.decks[a]);
            if left == 0 {
                self.song_end(sl, a);
                continue;
            }
            let mut seg = ((len - done) as u64).min(left) as u32;
            if let Some(f) = self.crossfade {
                seg = seg.min(self.crossfade_frames - f.done);
                let from_left = Self::song_frames_left(sl, &self.decks[f.from]);
                if from_left == 0 {
                    self.crossfade = None;
                    self.release(f.from);
                    continue;
                }
                // Saturate: a deck with exactly k * 2^32 frames left must
                // not truncate to 0 (the loop would make no progress).
                seg = seg.min(u32::try_from(from_left).unwrap_or(u32::MAX));
            }
            match self.out_fade {
                OutFade::In { done } => seg = seg.min(self.crossfade_frames - done),
                OutFade::Out { done, .. } => seg = seg.min(self.crossfade_frames - done),
                OutFade::None => {}
            }
            if offline {
                seg = Self::deck_ready_frames(sl, &self.decks[a], a, seg);
                if let Some(f) = self.crossfade {
                    seg = Self::deck_ready_frames(sl, &self.decks[f.from], f.from, seg);
                }
                if seg == 0 {
                    return done;
                }
            }
            let n = seg as usize;
            self.render_segment(
                sl,
                a,
                n,
                &mut out_l[done..done + n],
                &mut out_r[done..done + n],
            );
            done += n;
        }
        len
    }

    /// Renders `n` frames of the active deck `a` (and the deck fading out)
    /// into the outputs and advances positions and fades.
    fn render_segment(
        &mut self,
        sl: &EngineSetlist,
        a: usize,
        n: usize,
        out_l: &mut [f32],
        out_r: &mut [f32],
    ) {
        let mut mix_a = std::mem::replace(&mut self.mix_a, [[0.0; SUB_BLOCK_FRAMES]; 2]);
        self.render_deck(sl, a, n, &mut mix_a);
        if let Some(f) = self.crossfade {
            let mut mix_b = std::mem::replace(&mut self.mix_b, [[0.0; SUB_BLOCK_FRAMES]; 2]);
            self.render_deck(sl, f.from, n, &mut mix_b);
            for i in 0..n {
                let (g_out, g_in) = equal_power(f.done + i as u32, self.crossfade_frames);
                out_l[i] = mix_a[0][i] * g_in + mix_b[0][i] * g_out;
                out_r[i] = mix_a[1][i] * g_in + mix_b[1][i] * g_out;
            }
            self.mix_b = mix_b;
            let done = f.done + n as u32;
            if done >= self.crossfade_frames {
                self.crossfade = None;
                self.release(f.from);
            } else {
                self.crossfade = Some(Crossfade { from: f.from, done });
            }
        } else {
            out_l.copy_from_slice(&mix_a[0][..n]);
            out_r.copy_from_slice(&mix_a[1][..n]);
        }
        self.mix_a = mix_a;
        match self.out_fade {
            OutFade::None => {}
            OutFade::In { done } => {
                for i in 0..n {
                    let g = fade_in(done + i as u32, self.crossfade_frames);
                    out_l[i] *= g;
                    out_r[i] *= g;
                }
                let done = done + n as u32;
                self.out_fade = if done >= self.crossfade_frames {
                    OutFade::None
                } else {
                    OutFade::In { done }
                };
            }
            OutFade::Out { done, then } => {
                for i in 0..n {
                    let g = 1.0 - fade_in(done + i as u32, self.crossfade_frames);
                    out_l[i] *= g;
                    out_r[i] *= g;
                }
                let done = done + n as u32;
                if done >= self.crossfade_frames {
                    self.out_fade = OutFade::None;
                    if then == Transport::Stopped {
                        self.stop_now();
                    } else {
                        self.transport = then;
                    }
                } else {
                    self.out_fade = OutFade::Out { done, then };
                }
            }
        }
    }

    /// Mixes `n` frames of deck `d` into `mix` (zeroed first) and advances its
    /// position. Late stems are silent, counted, and fade back in.
    fn render_deck(
        &mut self,
        sl: &EngineSetlist,
        d: usize,
        n: usize,
        mix: &mut [[f32; SUB_BLOCK_FRAMES]; 2],
    ) {
        let [mix_l, mix_r] = mix;
        mix_l[..n].fill(0.0);
        mix_r[..n].fill(0.0);
        let song = self.decks[d].song;
        let pos = self.decks[d].position_frames;
        let any_solo = any_solo(sl, song);
        let mut missing_total = 0u64;
        for stem in 0..MAX_STEMS {
            let Some((sref, flat)) = Self::stem_ref(sl, d, song, stem) else {
                break;
            };
            let target = target_gains(&sl.stems[flat].mix, any_solo);
            let lane = &mut self.decks[d].lanes[stem];
            lane.gain.set_target(target, self.ramp_frames);
            if !sl.stem_ok(flat) || lane.gain.is_silent() {
                lane.gain.skip(n as u32);
                continue;
            }
            let scratch = &mut self.stem_scratch[..n * 2];
            let missing = read_stem(sl, &sref, pos, scratch);
            if missing > 0 {
                missing_total += missing as u64;
                lane.recover_left = self.recover_frames;
            } else if lane.recover_left > 0 {
                for frame in scratch.chunks_exact_mut(2) {
                    if lane.recover_left == 0 {
                        break;
                    }
                    let g = fade_in(self.recover_frames - lane.recover_left, self.recover_frames);
                    frame[0] *= g;
                    frame[1] *= g;
                    lane.recover_left -= 1;
                }
            }
            lane.gain
                .mix_into(scratch, &mut mix_l[..n], &mut mix_r[..n]);
        }
        if missing_total > 0 {
            self.stats.add_underrun(missing_total);
        }
        self.decks[d].position_frames = pos + n as u64;
    }
}

/// Whether any stem of `song` is soloed. Realtime-safe.
fn any_solo(sl: &EngineSetlist, song: u16) -> bool {
    let Some(s) = sl.songs.get(song as usize) else {
        return false;
    };
    let start = s.first_stem as usize;
    let end = start + s.stem_count as usize;
    sl.stems
        .get(start..end)
        .is_some_and(|stems| stems.iter().any(|st| st.mix.solo))
}
