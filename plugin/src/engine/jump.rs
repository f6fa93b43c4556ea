//! AUDIO THREAD: queued jumps and vamps. A jump waits for its landing
//! frame on the audible deck's timeline (the next bar line, the current
//! section's end, the song's end) while the loader makes its target
//! resident on a preload deck; at the landing the engine switches to that
//! deck at exactly that frame, crossfaded like a seek. A vamp is a jump
//! from a loop's end back to its start that re-arms itself after every
//! landing, so pass `k` starts at exactly `start + k · length`.
//! Realtime-safe throughout.

use super::*;
use crate::bridge::{JumpTiming, Queued, VampLength};

/// What the render loop does after a landing frame is reached.
pub(super) enum Landing {
    /// Switched, or a switch is pending: render on.
    Went,
    /// Offline, the target is not resident yet: stop here and wait.
    Wait,
}

impl Engine {
    /// Queues a jump to `frame` of `song`, landing at `timing` on the
    /// audible deck's timeline; it replaces a queued jump or a vamp. The
    /// target is made resident at once (a preload), so a jump queued a
    /// moment before its landing lands on time. With nothing playing, or
    /// with [`JumpTiming::Now`], it plays the target as soon as it is
    /// resident (a seek). Out-of-range songs are ignored; frames past the
    /// song's end are clamped. Realtime-safe.
    pub fn queue_jump(&mut self, song: usize, frame: u64, timing: JumpTiming) {
        let Some(sl) = self.setlist.as_deref() else {
            return;
        };
        let (Some(target), Ok(song16)) = (sl.songs.get(song), u16::try_from(song)) else {
            return;
        };
        let frame = frame.min(target.length_frames.saturating_sub(1));
        let landing = self.active.map(|a| {
            let deck = &self.decks[a];
            let pos = deck.position_frames;
            let rate = self.config.engine_rate_hz;
            let at = match timing {
                JumpTiming::Now => pos,
                JumpTiming::NextBar => next_bar(sl, deck.song, pos, rate).unwrap_or(pos),
                JumpTiming::SectionEnd => section_around(sl, deck.song, pos).1,
                JumpTiming::SongEnd => sl
                    .songs
                    .get(deck.song as usize)
                    .map_or(pos, |s| s.length_frames),
            };
            (deck.song, at, at > pos)
        });
        self.drop_queued();
        match landing {
            Some((from_song, landing_frames, true)) => {
                self.set_queued(Some(Queued {
                    from_song,
                    landing_frames,
                    song: song16,
                    frame,
                    timing,
                    vamp: false,
                }));
                self.emit(Event::Request(Request::Cue {
                    song: song16,
                    frame,
                }));
                self.waker.wake();
            }
            _ => {
                self.stats.jumps().note_landing(false);
                self.play_song(song, frame);
            }
        }
    }

    /// Queues a jump to section `index` (0-based) of the audible song, at
    /// `timing`; an index past its sections (or a song without sections)
    /// is ignored. Realtime-safe.
    pub fn jump_to_section(&mut self, index: usize, timing: JumpTiming) {
        let Some(song) = self.active_song() else {
            return;
        };
        let frame = self
            .setlist
            .as_deref()
            .and_then(|sl| sl.sections(song).get(index).copied());
        if let Some(frame) = frame {
            self.queue_jump(song, frame, timing);
        }
    }

    /// Queues a jump to the section `delta` sections from the one that
    /// plays (1: the next, -1: the previous; the song's start counts as a
    /// section when the first starts later), at `timing`. Nothing past the
    /// first or last. Realtime-safe.
    pub fn jump_by_sections(&mut self, delta: i32, timing: JumpTiming) {
        let (Some(a), Some(sl)) = (self.active, self.setlist.as_deref()) else {
            return;
        };
        let (song, pos) = (self.decks[a].song, self.decks[a].position_frames);
        let starts = sl.sections(song as usize);
        if starts.is_empty() {
            return;
        }
        // Index into [0, starts...] when the first section starts later.
        let lead = usize::from(starts[0] > 0);
        let current = starts.partition_point(|&s| s <= pos) + lead;
        let current = current.saturating_sub(1);
        let Some(target) = current.checked_add_signed(delta as isize) else {
            return;
        };
        let frame = match target.checked_sub(lead) {
            None => Some(0),
            Some(i) => starts.get(i).copied(),
        };
        if let Some(frame) = frame {
            self.queue_jump(song as usize, frame, timing);
        }
    }

    /// Cancels the queued jump (not a vamp: see [`Engine::vamp`]).
    /// Playback goes on as if it had never been queued. Realtime-safe.
    pub fn cancel_jump(&mut self) {
        if self.queued.is_some_and(|q| !q.vamp) {
            self.drop_queued();
        }
    }

    /// Starts a vamp of `Some(length)` of the audible song at its position
    /// (replacing a queued jump), or releases it (`None`): playback then
    /// goes on past the end of the current pass. A vamp of bars needs the
    /// song's tempo; without one, or with nothing playing, nothing
    /// happens. Realtime-safe.
    pub fn vamp(&mut self, length: Option<VampLength>) {
        let Some(length) = length else {
            if self.queued.is_some_and(|q| q.vamp) {
                self.drop_queued();
            }
            return;
        };
        let (Some(sl), Some(a)) = (self.setlist.as_deref(), self.active) else {
            return;
        };
        let (song, pos) = (self.decks[a].song, self.decks[a].position_frames);
        let rate = self.config.engine_rate_hz;
        let range = match length {
            VampLength::Section => Some(section_around(sl, song, pos)),
            VampLength::Bars(n) => last_bars(sl, song, pos, u64::from(n.max(1)), rate),
        };
        let Some((start, end)) = range.filter(|(s, e)| e > s && *e > pos) else {
            return;
        };
        self.drop_queued();
        self.set_queued(Some(Queued {
            from_song: song,
            landing_frames: end,
            song,
            frame: start,
            timing: JumpTiming::SectionEnd,
            vamp: true,
        }));
        self.emit(Event::Request(Request::Cue { song, frame: start }));
        self.waker.wake();
    }

    /// The queued jump or running vamp. Realtime-safe.
    pub fn queued_jump(&self) -> Option<Queued> {
        self.queued
    }

    pub(super) fn set_queued(&mut self, q: Option<Queued>) {
        self.queued = q;
        self.stats.jumps().publish(q);
    }

    /// Forgets the queued jump or vamp and lets its target's preload go
    /// (unless it is the next song's head, which stays cued).
    pub(super) fn drop_queued(&mut self) {
        let Some(q) = self.queued else {
            return;
        };
        self.set_queued(None);
        self.landing_via_loader = false;
        let next_head = q.song == q.from_song.wrapping_add(1) && q.frame == 0;
        if next_head {
            return;
        }
        let target = (0..DECKS).find(|&d| {
            self.decks[d].role == DeckRole::Cued(CueAction::Preload)
                && self.decks[d].song == q.song
                && self.decks[d].position_frames == q.frame
        });
        if let Some(d) = target {
            self.release(d);
        }
    }

    /// Frames the audible deck `a` may render before the queued jump's
    /// landing (`None`: no landing ahead on this deck).
    pub(super) fn frames_to_landing(&self, a: usize) -> Option<u64> {
        let q = self.queued?;
        let deck = &self.decks[a];
        (self.pending.is_none() && !self.landing_via_loader && deck.song == q.from_song)
            .then(|| q.landing_frames.saturating_sub(deck.position_frames))
    }

    /// The audible deck reached the queued jump's landing frame (`now`:
    /// the engine clock there): switch to the target. Its preload deck is
    /// taken at once when resident; otherwise it starts as soon as it is,
    /// in time with where it would have been (realtime), or rendering
    /// waits for it (offline). With no preload deck (the loader had no
    /// room), the loader cues it, in time likewise.
    pub(super) fn land(&mut self, sl: &EngineSetlist, now: u64) -> Landing {
        let Some(q) = self.queued else {
            return Landing::Went;
        };
        let offline = self.config.mode == ProcessMode::Offline;
        let target = (0..DECKS).find(|&d| {
            self.decks[d].role == DeckRole::Cued(CueAction::Preload)
                && self.decks[d].song == q.song
                && self.decks[d].position_frames == q.frame
        });
        let ready = target.is_some_and(|t| self.gate_open(sl, t));
        if offline && target.is_some() && !ready {
            return Landing::Wait;
        }
        if !q.vamp {
            self.set_queued(None);
        }
        self.stats.jumps().note_landing(q.vamp);
        let sync = SyncStart {
            since_clock_frames: now,
            frame: q.frame,
        };
        match target {
            Some(t) => {
                if let Some(p) = self.pending.take() {
                    self.release(p);
                }
                self.decks[t].role = DeckRole::Cued(CueAction::Switch);
                self.landing_deck = Some(t);
                if ready {
                    self.take_pending(sl, t);
                } else {
                    self.decks[t].sync = Some(sync);
                    self.pending = Some(t);
                }
            }
            None => {
                self.landing_via_loader = true;
                self.sync_request = Some((Some(q.song), sync));
                self.forward(Request::Play {
                    song: q.song,
                    frame: q.frame,
                });
            }
        }
        Landing::Went
    }

    /// A deck became audible: a landing's deck re-arms a vamp (its loop
    /// start is made resident again for the next pass); any other start
    /// (a seek, a song change, an auto-advance) ends the queued jump or
    /// vamp.
    pub(super) fn after_start(&mut self, d: usize) {
        if self.landing_deck.take() != Some(d) {
            self.drop_queued();
            return;
        }
        if let Some(q) = self.queued.filter(|q| q.vamp) {
            self.emit(Event::Request(Request::Cue {
                song: q.song,
                frame: q.frame,
            }));
            self.waker.wake();
        }
    }
}

/// The section of `song` that plays at `pos`: its first frame (0 before
/// the first section) and the next section's first frame (or the song's
/// end).
pub(super) fn section_around(sl: &EngineSetlist, song: u16, pos: u64) -> (u64, u64) {
    let starts = sl.sections(song as usize);
    let length = sl.songs.get(song as usize).map_or(0, |s| s.length_frames);
    let next = starts.partition_point(|&s| s <= pos);
    let start = if next == 0 { 0 } else { starts[next - 1] };
    let end = starts.get(next).copied().unwrap_or(length);
    (start, end)
}

/// The bar lines of `song`'s tempo at `rate`: bar `b` at beat `b · beats
/// per bar` of its [`BeatGrid`] (from song frame 0). `None` without a
/// tempo.
fn bar_grid(sl: &EngineSetlist, song: u16, rate: u32) -> Option<(BeatGrid, u64)> {
    let tempo = sl.songs.get(song as usize)?.tempo?;
    let grid = BeatGrid::of(&tempo, rate);
    Some((grid, u64::from(grid.beats_per_bar.max(1))))
}

/// The first bar line after `pos` (strictly), frames.
pub(super) fn next_bar(sl: &EngineSetlist, song: u16, pos: u64, rate: u32) -> Option<u64> {
    let (grid, per_bar) = bar_grid(sl, song, rate)?;
    let bar = grid.beat_at_or_before(pos) / per_bar;
    grid.onset((bar + 1) * per_bar)
}

/// The last `bars` bars before the next bar line after `pos`: (start, end)
/// frames (the start no earlier than the song's frame 0).
fn last_bars(sl: &EngineSetlist, song: u16, pos: u64, bars: u64, rate: u32) -> Option<(u64, u64)> {
    let (grid, per_bar) = bar_grid(sl, song, rate)?;
    let end_bar = grid.beat_at_or_before(pos) / per_bar + 1;
    let start = grid.onset(end_bar.saturating_sub(bars) * per_bar)?;
    let end = grid.onset(end_bar * per_bar)?;
    Some((start, end))
}
