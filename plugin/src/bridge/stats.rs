//! ANY THREAD: counters and positions the audio thread publishes (relaxed or
//! release stores; readers are the loader, the editor and the CLI report).

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};

use super::{DECKS, MAX_STEMS};

/// What the transport is doing, as seen from outside the audio thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(u8)]
pub enum TransportState {
    /// Nothing plays; no song is cued to start.
    #[default]
    Stopped = 0,
    /// A song start was asked for and its stems are not ready yet.
    Starting = 1,
    /// Audio is being produced.
    Playing = 2,
    /// Paused at a position; play resumes there.
    Paused = 3,
}

impl TransportState {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::Starting,
            2 => Self::Playing,
            3 => Self::Paused,
            _ => Self::Stopped,
        }
    }
}

/// Shared counters. Every field is an atomic; the audio thread is the only
/// writer except where a method says otherwise.
pub struct EngineStats {
    transport: AtomicU8,
    /// Deck whose audio is heard, `u32::MAX` if none.
    active_deck: AtomicU32,
    /// Song of the active deck, `u32::MAX` if none.
    active_song: AtomicU32,
    /// Songs that ended with a stop (or a fade) so far, and the song each
    /// one cued (the latest): see [`EngineStats::end_stops`].
    end_stops: AtomicU64,
    end_stop_next: AtomicU32,
    /// Per deck: play position in frames of its song's timeline.
    deck_position_frames: [AtomicU64; DECKS],
    /// Per deck: true while the audio thread reads from it (playing, fading
    /// out, or cued and being gated).
    deck_in_use: [AtomicBool; DECKS],
    /// Per deck: the cue its position belongs to (the loader's cue id).
    deck_cue_id: [AtomicU32; DECKS],
    /// Blocks in which at least one stem lacked frames.
    underrun_blocks: AtomicU64,
    /// Stem-frames output as silence because they were not resident.
    underrun_frames: AtomicU64,
    /// Frames output since the engine was created.
    frames_processed: AtomicU64,
    /// Frames output while a start or seek was gated (silence or old audio).
    gated_frames: AtomicU64,
    /// Song changes taken (starts, auto-advances, switches).
    song_starts: AtomicU64,
    /// Commands dropped on their way to the audio thread: only when its
    /// queue and the loader's backlog behind it are both full (see
    /// `loader::coordinator::MAX_BACKLOG_COMMANDS`).
    commands_dropped: AtomicU64,
    /// `Cue` commands the audio thread has taken.
    cues_taken: AtomicU64,
    /// Commands of any kind the audio thread has taken.
    commands_taken: AtomicU64,
    /// Events dropped because the queue to the loader was full.
    events_dropped: AtomicU64,
    /// Per stem of the heard song: the largest post-fader sample magnitude
    /// since the editor last took it (`f32` bits; non-negative floats order
    /// like their bits, so `fetch_max` keeps the peak).
    stem_peaks: [AtomicU32; MAX_STEMS],
    /// The auto-master's lowest gain (glue × limiter, linear `f32` bits)
    /// since the editor last took it; 1.0 = no reduction.
    master_min_gain: AtomicU32,
    /// Whether the auto-master is on (the audio thread's state).
    auto_master_on: AtomicBool,
    /// The queued jump or running vamp.
    jumps: super::JumpBoard,
}

impl Default for EngineStats {
    fn default() -> Self {
        Self {
            transport: AtomicU8::new(0),
            active_deck: AtomicU32::new(u32::MAX),
            active_song: AtomicU32::new(u32::MAX),
            end_stops: AtomicU64::new(0),
            end_stop_next: AtomicU32::new(u32::MAX),
            deck_position_frames: std::array::from_fn(|_| AtomicU64::new(0)),
            deck_in_use: std::array::from_fn(|_| AtomicBool::new(false)),
            deck_cue_id: std::array::from_fn(|_| AtomicU32::new(0)),
            underrun_blocks: AtomicU64::new(0),
            underrun_frames: AtomicU64::new(0),
            frames_processed: AtomicU64::new(0),
            gated_frames: AtomicU64::new(0),
            song_starts: AtomicU64::new(0),
            commands_dropped: AtomicU64::new(0),
            cues_taken: AtomicU64::new(0),
            commands_taken: AtomicU64::new(0),
            events_dropped: AtomicU64::new(0),
            stem_peaks: std::array::from_fn(|_| AtomicU32::new(0)),
            master_min_gain: AtomicU32::new(1.0f32.to_bits()),
            auto_master_on: AtomicBool::new(false),
            jumps: super::JumpBoard::default(),
        }
    }
}

impl EngineStats {
    /// The queued jump or running vamp, and landings so far. Realtime-safe.
    pub fn jumps(&self) -> &super::JumpBoard {
        &self.jumps
    }

    /// Transport state. Realtime-safe.
    pub fn transport(&self) -> TransportState {
        TransportState::from_u8(self.transport.load(Ordering::Relaxed))
    }
    /// Audio side. Realtime-safe.
    pub fn set_transport(&self, t: TransportState) {
        self.transport.store(t as u8, Ordering::Relaxed);
    }
    /// Deck heard now, if any. Realtime-safe.
    pub fn active_deck(&self) -> Option<usize> {
        let d = self.active_deck.load(Ordering::Relaxed);
        (d != u32::MAX).then_some(d as usize)
    }
    /// Song heard now, if any. Realtime-safe.
    pub fn active_song(&self) -> Option<usize> {
        let s = self.active_song.load(Ordering::Relaxed);
        (s != u32::MAX).then_some(s as usize)
    }
    /// How many songs ended with a stop or a fade ([`crate::bridge::SongEnd`])
    /// so far, and the song the last one cued for Play (none after the
    /// setlist's last song): a reader that sees the count change knows
    /// the transport stopped at a song's end. Realtime-safe.
    pub fn end_stops(&self) -> (u64, Option<usize>) {
        let next = self.end_stop_next.load(Ordering::Acquire);
        let count = self.end_stops.load(Ordering::Acquire);
        (count, (next != u32::MAX).then_some(next as usize))
    }
    /// Audio side: a song ended with a stop, cueing `next`. Realtime-safe.
    pub fn note_end_stop(&self, next: Option<usize>) {
        self.end_stop_next
            .store(next.map_or(u32::MAX, |s| s as u32), Ordering::Release);
        self.end_stops.fetch_add(1, Ordering::AcqRel);
    }
    /// Audio side. Realtime-safe.
    pub fn set_active(&self, deck: Option<usize>, song: Option<usize>) {
        self.active_deck
            .store(deck.map_or(u32::MAX, |d| d as u32), Ordering::Relaxed);
        self.active_song
            .store(song.map_or(u32::MAX, |s| s as u32), Ordering::Relaxed);
    }
    /// Play position of `deck` in frames. Realtime-safe.
    pub fn deck_position_frames(&self, deck: usize) -> u64 {
        self.deck_position_frames
            .get(deck)
            .map_or(0, |p| p.load(Ordering::Acquire))
    }
    /// Audio side. Realtime-safe.
    pub fn set_deck_position_frames(&self, deck: usize, frames: u64) {
        if let Some(p) = self.deck_position_frames.get(deck) {
            p.store(frames, Ordering::Release);
        }
    }
    /// The cue (the loader's id) whose position [`Self::deck_position_frames`]
    /// holds for `deck`: a synced start's cued deck moves with the host
    /// clock, and the loader follows it only once the engine has taken
    /// the cue. Realtime-safe.
    pub fn deck_cue_id(&self, deck: usize) -> u32 {
        self.deck_cue_id
            .get(deck)
            .map_or(0, |c| c.load(Ordering::Acquire))
    }
    /// Audio side: `deck` now plays cue `cue_id` from `frames`.
    /// Realtime-safe.
    pub fn set_deck_cue(&self, deck: usize, cue_id: u32, frames: u64) {
        self.set_deck_position_frames(deck, frames);
        if let Some(c) = self.deck_cue_id.get(deck) {
            c.store(cue_id, Ordering::Release);
        }
    }
    /// Whether the audio thread reads from `deck`. Realtime-safe.
    pub fn deck_in_use(&self, deck: usize) -> bool {
        self.deck_in_use
            .get(deck)
            .is_some_and(|d| d.load(Ordering::Acquire))
    }
    /// Audio side. Realtime-safe.
    pub fn set_deck_in_use(&self, deck: usize, in_use: bool) {
        if let Some(d) = self.deck_in_use.get(deck) {
            d.store(in_use, Ordering::Release);
        }
    }
    /// Blocks with at least one underrun. Realtime-safe.
    pub fn underrun_blocks(&self) -> u64 {
        self.underrun_blocks.load(Ordering::Relaxed)
    }
    /// Stem-frames played as silence because they were late. Realtime-safe.
    pub fn underrun_frames(&self) -> u64 {
        self.underrun_frames.load(Ordering::Relaxed)
    }
    /// Audio side: stem `stem` of the heard song peaked at `peak` (linear,
    /// ≥ 0) in a block. Realtime-safe (a lock-free atomic max).
    pub fn note_stem_peak(&self, stem: usize, peak: f32) {
        if let (Some(p), true) = (self.stem_peaks.get(stem), peak.is_finite()) {
            p.fetch_max(peak.max(0.0).to_bits(), Ordering::Relaxed);
        }
    }

    /// The peak of stem `stem` (linear) since the last call, which resets
    /// it: for the one reader that meters (the editor). Realtime-safe.
    pub fn take_stem_peak(&self, stem: usize) -> f32 {
        self.stem_peaks
            .get(stem)
            .map_or(0.0, |p| f32::from_bits(p.swap(0, Ordering::Relaxed)))
    }

    /// Audio side: the auto-master applied a gain as low as `gain` (linear,
    /// 0…1) in a block. Realtime-safe (a lock-free atomic min).
    pub fn note_master_gain(&self, gain: f32) {
        if gain.is_finite() {
            self.master_min_gain
                .fetch_min(gain.clamp(0.0, 1.0).to_bits(), Ordering::Relaxed);
        }
    }

    /// The auto-master's lowest gain (linear) since the last call, which
    /// resets it: the editor's gain-reduction meter. Realtime-safe.
    pub fn take_master_gain(&self) -> f32 {
        f32::from_bits(
            self.master_min_gain
                .swap(1.0f32.to_bits(), Ordering::Relaxed),
        )
    }

    /// Audio side: whether the auto-master is on. Realtime-safe.
    pub fn set_auto_master_on(&self, on: bool) {
        self.auto_master_on.store(on, Ordering::Relaxed);
    }

    /// Whether the auto-master is on (as the audio thread has it).
    /// Realtime-safe.
    pub fn auto_master_on(&self) -> bool {
        self.auto_master_on.load(Ordering::Relaxed)
    }

    /// Audio side. Realtime-safe.
    pub fn add_underrun(&self, stem_frames: u64) {
        self.underrun_blocks.fetch_add(1, Ordering::Relaxed);
        self.underrun_frames
            .fetch_add(stem_frames, Ordering::Relaxed);
    }
    /// Frames output so far. Realtime-safe.
    pub fn frames_processed(&self) -> u64 {
        self.frames_processed.load(Ordering::Relaxed)
    }
    /// Audio side. Realtime-safe.
    pub fn add_frames_processed(&self, frames: u64) {
        self.frames_processed.fetch_add(frames, Ordering::Relaxed);
    }
    /// Frames spent waiting for a start or seek gate. Realtime-safe.
    pub fn gated_frames(&self) -> u64 {
        self.gated_frames.load(Ordering::Relaxed)
    }
    /// Audio side. Realtime-safe.
    pub fn add_gated_frames(&self, frames: u64) {
        self.gated_frames.fetch_add(frames, Ordering::Relaxed);
    }
    /// Number of song starts so far. Realtime-safe.
    pub fn song_starts(&self) -> u64 {
        self.song_starts.load(Ordering::Relaxed)
    }
    /// Audio side. Realtime-safe.
    pub fn add_song_start(&self) {
        self.song_starts.fetch_add(1, Ordering::Relaxed);
    }
    /// Commands the audio thread could not take. Realtime-safe.
    pub fn commands_dropped(&self) -> u64 {
        self.commands_dropped.load(Ordering::Relaxed)
    }
    /// Sender side (any thread). Realtime-safe.
    pub fn add_command_dropped(&self) {
        self.commands_dropped.fetch_add(1, Ordering::Relaxed);
    }
    /// `Cue` commands taken so far. Realtime-safe.
    pub fn cues_taken(&self) -> u64 {
        self.cues_taken.load(Ordering::Relaxed)
    }
    /// Audio side. Realtime-safe.
    pub fn add_cue_taken(&self) {
        self.cues_taken.fetch_add(1, Ordering::Relaxed);
    }
    /// Commands taken so far. Realtime-safe.
    pub fn commands_taken(&self) -> u64 {
        self.commands_taken.load(Ordering::Relaxed)
    }
    /// Audio side. Realtime-safe.
    pub fn add_command_taken(&self) {
        self.commands_taken.fetch_add(1, Ordering::Relaxed);
    }
    /// Events the loader never saw because its queue was full. Realtime-safe.
    pub fn events_dropped(&self) -> u64 {
        self.events_dropped.load(Ordering::Relaxed)
    }
    /// Audio side. Realtime-safe.
    pub fn add_event_dropped(&self) {
        self.events_dropped.fetch_add(1, Ordering::Relaxed);
    }
}
