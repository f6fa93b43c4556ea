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
                    if self.landing_via_loader {
                        self.landing_via_loader = false;
                        self.landing_deck = Some(d);
                    }
                }
            }
        }
        self.stats.set_deck_in_use(d, true);
        self.stats.set_deck_cue(d, cue_id, start_frame);
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
        if !matches!(self.decks[p].role, DeckRole::Cued(_)) {
            return;
        }
        self.reset_gains(sl, p);
        let mid_song = self.decks[p].position_frames > 0;
        // While a song plays, any start crossfades from it, whether the
        // loader cued a switch or a start (its view of the transport may
        // lag the engine's by a wake-up): cutting the playing deck would
        // click.
        match self.active {
            Some(a) if self.transport == Transport::Playing => {
                // Never runs while render_with holds a pending deck back
                // until the running crossfade ends; kept so that a future
                // caller cannot leave a fading deck behind (a leaked deck
                // is worse than a cut fade).
                if let Some(old) = self.crossfade.take() {
                    self.release(old.from);
                }
                self.decks[a].role = DeckRole::FadingOut;
                self.crossfade = Some(Crossfade { from: a, done: 0 });
            }
            active => {
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
        self.after_start(p);
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

    /// The active deck reached the end of its song: what the song's
    /// [`crate::bridge::SongEnd`] says. `Continue` takes the preloaded next song at this
    /// frame (gapless); `Stop` and `Fade` (whose fade has run) stop the
    /// transport and leave the next song cued at its start for Play
    /// ([`Engine::take_cued_after_end`]).
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
        let stops = sl.songs.get(song as usize).is_some_and(|s| s.end.stops());
        if stops {
            self.transport = Transport::Stopped;
            self.out_fade = OutFade::None;
            let cued = (self.auto_advance && next < sl.songs.len()).then_some(next);
            self.cued_after_end = cued.map(|n| n as u16);
            self.stats.note_end_stop(cued);
            self.emit(Event::SongEnded {
                song,
                advance: false,
            });
            return;
        }
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
                self.emit(Event::SongEnded {
                    song,
                    advance: true,
                });
            }
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_macros,
    clippy::disallowed_types
)]
mod tests {
    //! The deck state machine through the engine's real queues and slots:
    //! one mono stem per song, every frame of song `s` holding `s + 1`, so
    //! the output tells which deck is heard.
    use std::sync::atomic::AtomicU8;

    use super::*;
    use crate::bridge::{
        messages::stem_status, ChunkKey, DeckLanes, EngineSong, EngineStem, SlotPool, StemMix,
        CHUNK_FRAMES,
    };

    const RATE_HZ: u32 = 48_000;
    const EPOCH: u16 = 1;

    struct Rig {
        engine: Engine,
        commands: rtrb::Producer<Command>,
        events: rtrb::Consumer<Event>,
        pool: Arc<SlotPool>,
        lanes: Arc<DeckLanes>,
        stats: Arc<EngineStats>,
        next_slot: u32,
    }

    /// An engine with a setlist of one-stem songs of `lengths` frames.
    fn rig(lengths: &[u64]) -> Rig {
        let (commands, commands_rx) = rtrb::RingBuffer::new(64);
        let (events_tx, events) = rtrb::RingBuffer::new(64);
        let stats = Arc::new(EngineStats::default());
        let config = EngineConfig {
            engine_rate_hz: RATE_HZ,
            mode: ProcessMode::Realtime,
            mastering: false,
        };
        let engine = Engine::new(
            config,
            commands_rx,
            events_tx,
            Arc::clone(&stats),
            Arc::new(Waker::default()),
        );
        let pool = Arc::new(SlotPool::new(32));
        let lanes = Arc::new(DeckLanes::new(1));
        let mut rig = Rig {
            engine,
            commands,
            events,
            pool: Arc::clone(&pool),
            lanes: Arc::clone(&lanes),
            stats,
            next_slot: 0,
        };
        let setlist = EngineSetlist {
            epoch: EPOCH,
            songs: lengths
                .iter()
                .enumerate()
                .map(|(i, &length_frames)| EngineSong::plain(length_frames, i as u32, 1))
                .collect(),
            section_starts: Box::new([]),
            stems: lengths
                .iter()
                .map(|&length_frames| EngineStem {
                    offset_frames: 0,
                    length_frames,
                    mix: StemMix::default(),
                })
                .collect(),
            stem_status: lengths
                .iter()
                .map(|_| AtomicU8::new(stem_status::OK))
                .collect(),
            pool,
            lanes,
        };
        rig.send(Command::SetSetlist(Box::new(setlist)));
        rig.render(0);
        rig
    }

    impl Rig {
        fn send(&mut self, cmd: Command) {
            assert!(self.commands.push(cmd).is_ok(), "command queue full");
        }

        /// Makes chunk `chunk` of song `song` resident for deck `deck`.
        fn fill(&mut self, deck: usize, song: u16, chunk: u32) {
            let slot = self.next_slot;
            self.next_slot += 1;
            let s = self.pool.get(slot).expect("slot");
            s.begin_fill(ChunkKey::new(EPOCH, song, 0, chunk), 1);
            s.write_frames(0, &vec![f32::from(song + 1); CHUNK_FRAMES as usize]);
            self.lanes.set(deck, 0, chunk, slot);
        }

        fn cue(&mut self, deck: u8, song: u16, start_frame: u64, action: CueAction, cue_id: u32) {
            self.send(Command::Cue {
                deck,
                song,
                start_frame,
                action,
                cue_id,
            });
        }

        /// Renders `frames` frames; returns the left channel.
        fn render(&mut self, frames: usize) -> Vec<f32> {
            let mut l = vec![0.0f32; frames];
            let mut r = vec![0.0f32; frames];
            self.engine.process(&mut l, &mut r);
            l
        }

        fn events(&mut self) -> Vec<Event> {
            let mut out = Vec::new();
            while let Ok(e) = self.events.pop() {
                out.push(e);
            }
            out
        }
    }

    fn started(events: &[Event]) -> Vec<(u8, u16)> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::DeckStarted { deck, song } => Some((*deck, *song)),
                _ => None,
            })
            .collect()
    }

    fn released(events: &[Event]) -> Vec<(u8, u32)> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::DeckReleased { deck, cue_id } => Some((*deck, *cue_id)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_cued_deck_waits_for_its_gate_then_starts_on_its_frame() {
        let mut rig = rig(&[100_000]);
        rig.cue(0, 0, 0, CueAction::Start, 1);
        let out = rig.render(512);
        assert!(
            out.iter().all(|&v| v == 0.0),
            "silent while nothing is resident"
        );
        assert_eq!(rig.engine.decks[0].role, DeckRole::Cued(CueAction::Start));
        assert!(started(&rig.events()).is_empty());
        rig.fill(0, 0, 0);
        let out = rig.render(512);
        assert!(out.iter().all(|&v| v == 1.0), "song 1 from its first frame");
        assert_eq!(rig.engine.decks[0].role, DeckRole::Playing);
        assert_eq!(rig.engine.active, Some(0));
        assert_eq!(started(&rig.events()), vec![(0, 0)]);
        assert_eq!(rig.engine.decks[0].position_frames, 512);
    }

    #[test]
    fn a_switch_crossfades_then_releases_the_old_deck_with_its_cue_id() {
        let mut rig = rig(&[100_000, 100_000]);
        rig.fill(0, 0, 0);
        rig.cue(0, 0, 0, CueAction::Start, 11);
        rig.render(512);
        rig.fill(1, 1, 0);
        rig.cue(1, 1, 0, CueAction::Switch, 12);
        let xf = rig.engine.crossfade_frames as usize;
        let out = rig.render(xf + 256);
        assert!(out[0] > 0.99 && out[0] < 1.01, "starts from the old deck");
        assert!(
            out[xf..].iter().all(|&v| v == 2.0),
            "then only the new deck"
        );
        assert_eq!(rig.engine.active, Some(1));
        assert_eq!(rig.engine.decks[0].role, DeckRole::Idle);
        let events = rig.events();
        assert_eq!(started(&events), vec![(0, 0), (1, 1)]);
        assert_eq!(released(&events), vec![(0, 11)]);
    }

    #[test]
    fn a_cue_for_a_playing_deck_is_refused_and_changes_nothing() {
        let mut rig = rig(&[100_000, 100_000]);
        rig.fill(0, 0, 0);
        rig.cue(0, 0, 0, CueAction::Start, 1);
        rig.render(512);
        let taken = rig.stats.cues_taken();
        rig.cue(0, 1, 5_000, CueAction::Switch, 2);
        let out = rig.render(512);
        assert_eq!(rig.stats.cues_taken(), taken, "refused");
        assert!(out.iter().all(|&v| v == 1.0), "the deck plays on");
        assert_eq!(rig.engine.decks[0].song, 0);
        assert_eq!(rig.engine.decks[0].position_frames, 1024);
        assert_eq!(rig.engine.pending, None);
    }

    #[test]
    fn a_preloaded_next_song_follows_gaplessly_and_a_last_song_ends_stopped() {
        let mut rig = rig(&[1_000, 3_000]);
        rig.fill(0, 0, 0);
        rig.cue(0, 0, 0, CueAction::Start, 1);
        rig.fill(1, 1, 0);
        rig.cue(1, 1, 0, CueAction::Preload, 2);
        let out = rig.render(4_096);
        assert!(out[..1_000].iter().all(|&v| v == 1.0), "song 1 whole");
        assert!(
            out[1_000..4_000].iter().all(|&v| v == 2.0),
            "song 2 at the next frame"
        );
        assert!(
            out[4_000..].iter().all(|&v| v == 0.0),
            "silence after the last song"
        );
        assert_eq!(rig.engine.transport, Transport::Stopped);
        assert_eq!(rig.engine.active, None);
        let events = rig.events();
        let ended: Vec<u16> = events
            .iter()
            .filter_map(|e| match e {
                Event::SongEnded { song, .. } => Some(*song),
                _ => None,
            })
            .collect();
        assert_eq!(ended, vec![1], "only the last song ends the transport");
        assert!(rig.engine.decks.iter().all(|d| d.role == DeckRole::Idle));
    }

    #[test]
    fn stop_fades_out_and_frees_every_deck() {
        let mut rig = rig(&[100_000]);
        rig.fill(0, 0, 0);
        rig.cue(0, 0, 0, CueAction::Start, 1);
        rig.render(512);
        rig.send(Command::Stop);
        let xf = rig.engine.crossfade_frames as usize;
        let out = rig.render(xf + 512);
        assert!(out[0] > 0.99, "the fade starts at full level");
        assert!(out[1..xf].windows(2).all(|w| w[1] <= w[0]), "falling");
        assert!(out[xf..].iter().all(|&v| v == 0.0), "silent after the fade");
        assert_eq!(rig.engine.transport, Transport::Stopped);
        assert!(rig.engine.decks.iter().all(|d| d.role == DeckRole::Idle));
        assert_eq!(released(&rig.events()), vec![(0, 1)]);
    }
}
