//! AUDIO THREAD: decks, the engine's state machine. A deck is one song at
//! one position with its own stem lanes; its role moves
//! `Idle → Cued(action) → Playing → FadingOut → Idle` as cues arrive, start
//! gates open, crossfades run and songs end. Realtime-safe throughout.

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum DeckRole {
    Idle,
    Cued(CueAction),
    Playing,
    FadingOut,
}

#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Lane {
    pub(super) gain: GainRamp,
    /// Frames left of the fade-in after an underrun.
    pub(super) recover_left: u32,
}

pub(super) struct Deck {
    pub(super) role: DeckRole,
    /// The cue this use of the deck came from (echoed when released).
    pub(super) cue_id: u32,
    pub(super) song: u16,
    pub(super) position_frames: u64,
    /// A start that keeps time with an external clock (the host
    /// transport): the engine clock when it was requested and the frame
    /// requested. While cued, the start position moves on with the clock,
    /// so the song starts where the clock is now, not where it was.
    pub(super) sync: Option<SyncStart>,
    pub(super) lanes: [Lane; MAX_STEMS],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct SyncStart {
    /// Engine clock (frames rendered since the engine was made) at the
    /// request.
    pub(super) since_clock_frames: u64,
    /// The frame requested.
    pub(super) frame: u64,
}

impl Deck {
    pub(super) fn new() -> Self {
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

#[derive(Clone, Copy, Debug)]
pub(super) struct Crossfade {
    pub(super) from: usize,
    pub(super) done: u32,
}

impl Engine {
    pub(super) fn cue(
        &mut self,
        d: usize,
        song: u16,
        start_frame: u64,
        action: CueAction,
        cue_id: u32,
    ) {
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

    pub(super) fn release(&mut self, d: usize) {
        self.decks[d].role = DeckRole::Idle;
        self.stats.set_deck_in_use(d, false);
        let cue_id = self.decks[d].cue_id;
        self.emit(Event::DeckReleased {
            deck: d as u8,
            cue_id,
        });
    }

    /// Stem descriptor for `stem` of the song on deck `d`.
    pub(super) fn stem_ref(
        sl: &EngineSetlist,
        d: usize,
        song: u16,
        stem: usize,
    ) -> Option<(StemRef, usize)> {
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
    pub(super) fn deck_ready_frames(sl: &EngineSetlist, deck: &Deck, d: usize, len: u32) -> u32 {
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

    pub(super) fn song_frames_left(sl: &EngineSetlist, deck: &Deck) -> u64 {
        sl.songs
            .get(deck.song as usize)
            .map_or(0, |s| s.length_frames.saturating_sub(deck.position_frames))
    }

    pub(super) fn gate_open(&self, sl: &EngineSetlist, d: usize) -> bool {
        let deck = &self.decks[d];
        let need = (START_GATE_FRAMES as u64).min(Self::song_frames_left(sl, deck)) as u32;
        need == 0 || Self::deck_ready_frames(sl, deck, d, need) >= need
    }

    /// Makes the pending deck audible.
    pub(super) fn take_pending(&mut self, sl: &EngineSetlist, p: usize) {
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

    pub(super) fn reset_gains(&mut self, sl: &EngineSetlist, d: usize) {
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
    pub(super) fn song_end(&mut self, sl: &EngineSetlist, a: usize) {
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
}
