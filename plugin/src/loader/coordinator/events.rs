//! LOADER THREADS (the coordinator's): what the audio thread tells the
//! coordinator: decks started and released, songs ended (continue into
//! the next, or stop with it cued), retired setlists, and the requests
//! notes, parameters and the host transport made on the audio thread.

use super::*;

impl Coordinator {
    /// Handles the audio thread's events; returns whether there were any.
    pub(super) fn drain_events(&mut self) -> bool {
        let mut any = false;
        while let Ok(ev) = self.events.pop() {
            any = true;
            match ev {
                Event::DeckStarted { deck, song } => {
                    let d = deck as usize;
                    for other in 0..DECKS {
                        if other != d && self.decks[other].role == Role::Active {
                            self.decks[other].role = Role::Fading;
                        }
                    }
                    self.decks[d].role = Role::Active;
                    self.decks[d].song = song as usize;
                    self.song = song as usize;
                    self.cue_preload_after(Some(song as usize));
                }
                Event::DeckReleased { deck, cue_id } => {
                    let d = deck as usize;
                    // A release of an earlier use of a deck cued again
                    // since (e.g. after a setlist change) is stale.
                    if d < DECKS && self.decks[d].cue_id == cue_id {
                        self.reset_deck(d);
                        self.decks[d].role = Role::Free;
                    }
                }
                Event::SongEnded { song, advance } => {
                    let next = song as usize + 1;
                    if self.auto_advance && next < self.song_count() {
                        if advance {
                            self.play(next, 0);
                        } else {
                            // Stopped at the song's end: the next song is
                            // the current one, its head cued for Play.
                            self.song = next;
                            self.cue_at(next, 0);
                        }
                    }
                }
                Event::SetlistRetired(old) => drop(old),
                Event::Request(r) => self.request(r),
            }
        }
        any
    }

    /// Carries out a request made on the audio thread.
    fn request(&mut self, r: Request) {
        match r {
            Request::Play { song, frame } => self.play(song as usize, frame),
            Request::Seek { frame } => {
                let song = self.song;
                self.play(song, frame);
            }
            Request::Cue { song, frame } => self.cue_at(song as usize, frame),
        }
    }
}
