//! AUDIO THREAD: the transport. Requests from the plugin glue (play, cue,
//! seek, synced starts, pause/resume/stop), commands from the loader, events
//! back to it, and the counters the control side reads. Realtime-safe
//! throughout; a request that needs the loader costs one futex wake
//! (`crate::bridge::waker`).

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Transport {
    Stopped,
    Playing,
    Paused,
}

/// Output fade for pause, stop and starting in the middle of a song.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum OutFade {
    None,
    In { done: u32 },
    Out { done: u32, then: Transport },
}

impl Engine {
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
        self.start_count_in(song16, frame);
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

    /// Whether `song`'s head is resident on a preload deck, so that
    /// [`Engine::play_song`]`(song, 0)` starts it at the next frame.
    /// Realtime-safe.
    pub fn is_cued(&self, song: usize) -> bool {
        let Some(sl) = self.setlist.as_deref() else {
            return false;
        };
        (0..DECKS).any(|d| {
            self.decks[d].role == DeckRole::Cued(CueAction::Preload)
                && self.decks[d].song as usize == song
                && self.decks[d].position_frames == 0
                && self.gate_open(sl, d)
        })
    }

    /// A song started from stop at its frame 0 with a count-in
    /// ([`crate::bridge::SongTempo::count_in_bars`]): the count-in starts
    /// at the next frame on the Click bus and the song's start is synced to
    /// its end (whenever its stems are ready, they come in on the beat).
    /// Not for starts in step with the host (they carry their own sync) or
    /// while a song plays.
    fn start_count_in(&mut self, song: u16, frame: u64) {
        if self.count_in.take().is_some() {
            // Another start during a count-in: it counts in afresh.
            self.sync_request = None;
        }
        if frame != 0 || self.sync_request.is_some() || self.is_playing() {
            return;
        }
        let rate = self.config.engine_rate_hz;
        let grid = self
            .setlist
            .as_deref()
            .and_then(|sl| sl.songs.get(song as usize))
            .and_then(|s| s.tempo)
            .and_then(|t| BeatGrid::count_in(&t, rate));
        let Some(grid) = grid else {
            return;
        };
        self.count_in = Some(CountIn {
            grid,
            elapsed_frames: 0,
        });
        self.sync_request = Some((
            Some(song),
            SyncStart {
                since_clock_frames: self.clock_frames + grid.end_frames(),
                frame: 0,
            },
        ));
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
        // In step with the host: no count-in of ours.
        self.count_in = None;
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
        self.count_in = None;
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
            self.emit(Event::Request(Request::Cue { song, frame: 0 }));
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

    /// Stops at once, without a fade, and empties the auto-master's delay
    /// and detectors (the host deactivated the plugin: nothing is heard in
    /// between). Realtime-safe.
    pub fn halt(&mut self) {
        self.awaiting_cue = false;
        self.drop_queued();
        self.count_in = None;
        self.sync_request = None;
        self.stop_now();
        // Nothing of this activation comes out of the auto-master's delay
        // in the next one.
        self.reset_master();
        if let Some(p) = self.pending.take() {
            self.release(p);
        }
    }

    /// Sends a request to the loader and wakes it; offline, rendering waits
    /// for the resulting cue.
    pub(super) fn forward(&mut self, r: Request) {
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

    pub(super) fn drain_commands(&mut self) {
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

    pub(super) fn apply(&mut self, cmd: Command) {
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
                self.count_in = None;
                self.set_queued(None);
                self.landing_deck = None;
                self.landing_via_loader = false;
                self.setlist_serial = self.setlist_serial.wrapping_add(1);
                self.song_masters.fill(SongMaster::NEUTRAL);
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
            Command::Pause if self.count_in.is_some() => {
                // Pause during a count-in: nothing plays yet, so it stops
                // (the next Play counts in again).
                self.apply(Command::Stop);
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
                self.drop_queued();
                if self.count_in.take().is_some() {
                    // The count-in's start sync goes with it.
                    self.sync_request = None;
                }
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
            Command::SetSongEnd { song, end } => {
                if let Some(s) = self
                    .setlist
                    .as_deref_mut()
                    .and_then(|sl| sl.songs.get_mut(song as usize))
                {
                    s.end = end;
                }
            }
            Command::SetSongMaster {
                epoch,
                song,
                master,
            } => {
                let current = self.setlist.as_deref().map(|sl| sl.epoch);
                if current == Some(epoch) {
                    if let Some(m) = self.song_masters.get_mut(song as usize) {
                        *m = master;
                    }
                }
            }
            Command::SetAutoMaster { on, ab_match } => self.set_auto_master(on, ab_match),
            Command::QueueJump {
                song,
                frame,
                timing,
            } => self.queue_jump(song as usize, frame, timing),
            Command::CancelJump => self.cancel_jump(),
            Command::Vamp(length) => self.vamp(length),
        }
    }

    pub(super) fn stop_now(&mut self) {
        if let Some(a) = self.active.take() {
            self.release(a);
        }
        if let Some(f) = self.crossfade.take() {
            self.release(f.from);
        }
        self.transport = Transport::Stopped;
        self.out_fade = OutFade::None;
    }

    pub(super) fn emit(&mut self, event: Event) {
        if self.events.push(event).is_err() {
            self.stats.add_event_dropped();
        }
    }

    pub(super) fn hand_back_retired(&mut self) {
        if let Some(old) = self.retired.take() {
            if let Err(rtrb::PushError::Full(Event::SetlistRetired(old))) =
                self.events.push(Event::SetlistRetired(old))
            {
                self.retired = Some(old);
            }
        }
    }

    pub(super) fn publish(&mut self, frames: u64) {
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
}
