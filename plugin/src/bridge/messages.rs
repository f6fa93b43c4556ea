//! ANY THREAD: what crosses between the loader (or control) side and the
//! audio thread through `rtrb` queues.
//!
//! Commands flow to the audio thread, events flow back. Both are small; the
//! only heap data, [`EngineSetlist`], travels in a `Box` and is sent back in
//! [`Event::SetlistRetired`] so it is never dropped on the audio thread.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use super::{Bus, DeckLanes, SlotPool};

/// A stem's mix settings as the user sets them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StemMix {
    /// Gain in dB (0 = unity).
    pub gain_db: f32,
    /// Balance, -1 (left) ..= 1 (right); 0 = centre, both channels at unity.
    pub pan: f32,
    /// Silences the stem.
    pub mute: bool,
    /// If any stem of the song is soloed, only soloed stems are heard.
    pub solo: bool,
    /// The output bus the stem plays on (main by default).
    pub bus: Bus,
}

impl Default for StemMix {
    fn default() -> Self {
        Self {
            gain_db: 0.0,
            pan: 0.0,
            mute: false,
            solo: false,
            bus: Bus::Main,
        }
    }
}

/// What happens when a song ends (per song; the setlist gives a default).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum SongEnd {
    /// Gapless into the next song (the last song stops).
    #[default]
    Continue,
    /// The transport stops; the next song is cued at its start and waits
    /// for Play.
    Stop,
    /// The song's last `secs` seconds fade out (monotone, to exactly 0 at
    /// its last frame), then as [`SongEnd::Stop`].
    Fade {
        /// Length of the fade, seconds (> 0).
        secs: f32,
    },
}

impl SongEnd {
    /// Longest fade accepted, seconds.
    pub const MAX_FADE_SECS: f32 = 60.0;
    /// The fade a `fade` end gets when the setlist gives no length, seconds.
    pub const DEFAULT_FADE_SECS: f32 = 4.0;

    /// Parses what [`SongEnd`]'s `Display` writes ("continue", "stop",
    /// "fade 2.5"; "fade" alone is [`SongEnd::DEFAULT_FADE_SECS`]).
    /// Allocation-free.
    pub fn parse(text: &str) -> Option<SongEnd> {
        let mut words = text.split_whitespace();
        let end = match words.next()? {
            "continue" => SongEnd::Continue,
            "stop" => SongEnd::Stop,
            "fade" => {
                let secs = match words.next() {
                    Some(w) => w.parse::<f32>().ok()?,
                    None => Self::DEFAULT_FADE_SECS,
                };
                if !(secs > 0.0 && secs <= Self::MAX_FADE_SECS) {
                    return None;
                }
                SongEnd::Fade { secs }
            }
            _ => return None,
        };
        words.next().is_none().then_some(end)
    }

    /// Whether the transport stops at the end (stop or fade).
    pub fn stops(self) -> bool {
        !matches!(self, SongEnd::Continue)
    }

    /// The fade's length in frames at `rate_hz` (0: no fade).
    pub fn fade_frames(self, rate_hz: u32) -> u64 {
        match self {
            SongEnd::Fade { secs } if secs.is_finite() && secs > 0.0 => {
                (f64::from(secs.min(Self::MAX_FADE_SECS)) * f64::from(rate_hz)).round() as u64
            }
            _ => 0,
        }
    }
}

impl std::fmt::Display for SongEnd {
    /// "continue", "stop" or "fade SECS" (what [`SongEnd::parse`] reads).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SongEnd::Continue => f.write_str("continue"),
            SongEnd::Stop => f.write_str("stop"),
            SongEnd::Fade { secs } => write!(f, "fade {secs}"),
        }
    }
}

/// A song's tempo: its count-in and its generated click.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SongTempo {
    /// Beats per minute (20 ..= 400).
    pub bpm: f32,
    /// Beats per bar (1 ..= 16); the first of each bar is accented.
    pub beats_per_bar: u8,
    /// Bars counted in on the Click bus before the song when it starts
    /// from stop (0, 1, 2 or 4): its stems start at the count-in's end.
    pub count_in_bars: u8,
    /// Whether a generated click runs through the song on the Click bus
    /// (only while no stem of the song plays on Click).
    pub click: bool,
}

impl SongTempo {
    /// Fastest tempo accepted, bpm.
    pub const MAX_BPM: f32 = 400.0;
    /// Slowest tempo accepted, bpm.
    pub const MIN_BPM: f32 = 20.0;
    /// Count-ins accepted, bars.
    pub const COUNT_IN_BARS: [u8; 4] = [0, 1, 2, 4];
}

/// Stem status values in [`EngineSetlist::stem_status`].
pub mod stem_status {
    /// Probed and playable (so far).
    pub const OK: u8 = 0;
    /// Could not be opened or decoded: skipped (silent, never gates a start).
    pub const FAILED: u8 = 1;
}

/// A song as the audio thread needs it.
#[derive(Clone, Copy, Debug)]
pub struct EngineSong {
    /// Length in frames at the engine rate: the longest stem plus its offset.
    pub length_frames: u64,
    /// Index of the song's first stem in [`EngineSetlist::stems`].
    pub first_stem: u32,
    /// Number of stems.
    pub stem_count: u32,
    /// What happens at its end (changed at run time by
    /// [`Command::SetSongEnd`]).
    pub end: SongEnd,
    /// Its tempo (count-in, click, bar lines), if the setlist or its
    /// marker file gives one.
    pub tempo: Option<SongTempo>,
    /// Index of its first section in [`EngineSetlist::section_starts`].
    pub first_section: u32,
    /// Number of sections (0: the song is one section).
    pub section_count: u32,
}

impl EngineSong {
    /// A song of `stem_count` stems from `first_stem`, `length_frames`
    /// long, with no tempo, no sections and a gapless end.
    pub fn plain(length_frames: u64, first_stem: u32, stem_count: u32) -> Self {
        Self {
            length_frames,
            first_stem,
            stem_count,
            end: SongEnd::Continue,
            tempo: None,
            first_section: 0,
            section_count: 0,
        }
    }
}

/// A stem as the audio thread needs it.
#[derive(Clone, Copy, Debug)]
pub struct EngineStem {
    /// Frames of silence on the song's timeline before the stem starts.
    pub offset_frames: u64,
    /// Length in frames at the engine rate (0 if the stem failed to probe).
    pub length_frames: u64,
    /// Mix settings.
    pub mix: StemMix,
}

/// The loaded setlist as the audio thread sees it: song and stem tables, the
/// slot pool and lanes shared with the loader, and per-stem status flags.
/// Built by the loader; moved to the audio thread in a `Box`; sent back when
/// replaced.
pub struct EngineSetlist {
    /// Identifies this load; part of every [`super::ChunkKey`].
    pub epoch: u16,
    /// Songs in order.
    pub songs: Box<[EngineSong]>,
    /// All stems, song after song.
    pub stems: Box<[EngineStem]>,
    /// Every song's section starts, song after song, each song's ascending:
    /// frames at the engine rate on its timeline.
    pub section_starts: Box<[u64]>,
    /// Per stem (same index as `stems`): a [`stem_status`] value, written by
    /// the loader when a stem fails.
    pub stem_status: Arc<[AtomicU8]>,
    /// The chunk buffers.
    pub pool: Arc<SlotPool>,
    /// Per deck and stem, the window's slot indices.
    pub lanes: Arc<DeckLanes>,
}

impl EngineSetlist {
    /// The section starts of `song`, ascending (empty for none or an
    /// unknown song). Realtime-safe.
    pub fn sections(&self, song: usize) -> &[u64] {
        self.songs
            .get(song)
            .and_then(|s| {
                let from = s.first_section as usize;
                self.section_starts
                    .get(from..from + s.section_count as usize)
            })
            .unwrap_or(&[])
    }

    /// Whether stem `flat_index` is playable. Realtime-safe.
    #[inline]
    pub fn stem_ok(&self, flat_index: usize) -> bool {
        self.stem_status
            .get(flat_index)
            .is_some_and(|s| s.load(Ordering::Relaxed) == stem_status::OK)
    }
}

/// What the audio thread does with a cued deck once every playable stem has
/// its first frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CueAction {
    /// Hold it (the next song's head); auto-advance takes it at the end of
    /// the current song with no gap.
    Preload,
    /// Start playing it when ready (from stopped).
    Start,
    /// Replace the audible deck when ready, with an equal-power crossfade
    /// (a seek, or a song change while playing). If nothing is audible it
    /// simply becomes the current deck.
    Switch,
}

/// A command to the audio thread.
pub enum Command {
    /// Replace the setlist (and with it every deck). The old one comes back
    /// in [`Event::SetlistRetired`].
    SetSetlist(Box<EngineSetlist>),
    /// Cue `deck` to play `song` from `start_frame`.
    Cue {
        /// Deck index (< [`super::DECKS`]).
        deck: u8,
        /// Song index.
        song: u16,
        /// Start position on the song's timeline, in frames.
        start_frame: u64,
        /// What to do when it is ready.
        action: CueAction,
        /// Chosen by the sender, echoed in [`Event::DeckReleased`] so a
        /// release of an earlier use of the deck is told apart from the
        /// release of this cue.
        cue_id: u32,
    },
    /// Resume after [`Command::Pause`] (fades in).
    Resume,
    /// Pause (fades out, then holds the position).
    Pause,
    /// Stop: fade out and release the audible, fading and pending decks;
    /// preloads stay cued.
    Stop,
    /// Change what happens at the end of `song`.
    SetSongEnd {
        /// Song index.
        song: u16,
        /// The new end.
        end: SongEnd,
    },
    /// Change one stem's mix; applied with a short gain ramp.
    SetStemMix {
        /// Song index.
        song: u16,
        /// Stem index within the song.
        stem: u8,
        /// New settings.
        mix: StemMix,
    },
    /// Whether the end of a song moves on to the next one.
    SetAutoAdvance(bool),
    /// A song's auto-master settings (from its analysis); ignored unless
    /// `epoch` is the current setlist's.
    SetSongMaster {
        /// The setlist load this is for ([`EngineSetlist::epoch`]).
        epoch: u16,
        /// Song index.
        song: u16,
        /// The settings.
        master: crate::bridge::SongMaster,
    },
    /// Queue a jump to `frame` of `song`, landing at `timing` (replaces a
    /// queued jump or a vamp); the target is preloaded at once.
    QueueJump {
        /// Target song.
        song: u16,
        /// Target frame on its timeline.
        frame: u64,
        /// When it lands.
        timing: super::JumpTiming,
    },
    /// Cancel the queued jump (a vamp is released with [`Command::Vamp`]).
    CancelJump,
    /// Start a vamp of `Some(length)` of the current song, or release it
    /// (`None`: playback goes on past the end of the current pass).
    Vamp(Option<super::VampLength>),
    /// Switches the auto-master (crossfade at the next frame) and A/B
    /// loudness matching of the original.
    SetAutoMaster {
        /// Mastered (true) or original (false).
        on: bool,
        /// The original at the mastered loudness.
        ab_match: bool,
    },
}

/// An event from the audio thread.
pub enum Event {
    /// `deck` became audible.
    DeckStarted {
        /// Deck index.
        deck: u8,
        /// Song index.
        song: u16,
    },
    /// The audio thread no longer reads `deck`; it may be cued again.
    DeckReleased {
        /// Deck index.
        deck: u8,
        /// The `cue_id` of the cue this use of the deck came from.
        cue_id: u32,
    },
    /// A song reached its end and nothing follows at once: end of
    /// setlist, auto-advance off, the next song not cued yet, or a song
    /// that ends with a stop or fade ([`SongEnd`]).
    SongEnded {
        /// Song index.
        song: u16,
        /// Whether the next song should play (it was not cued in time);
        /// false when the song's end stops the transport.
        advance: bool,
    },
    /// The previous setlist, handed back to be dropped off the audio thread.
    SetlistRetired(Box<EngineSetlist>),
    /// A transport request made on the audio thread (plugin MIDI, parameter
    /// or host transport) that needs the loader.
    Request(Request),
}

/// A transport request made on the audio thread for the loader: the engine
/// forwards it through the event queue and wakes the coordinator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// Play `song` from `frame` (crossfading if something plays).
    Play {
        /// Song index.
        song: u16,
        /// Start position on the song's timeline, in frames.
        frame: u64,
    },
    /// Make `song` resident from `frame` without starting it (its head: a
    /// later [`Request::Play`] of it from frame 0 starts at once; a jump's
    /// or a vamp's target: the landing finds it resident).
    Cue {
        /// Song index.
        song: u16,
        /// Frame on its timeline.
        frame: u64,
    },
    /// Seek the current song to `frame`.
    Seek {
        /// Target position on the song's timeline, in frames.
        frame: u64,
    },
}
