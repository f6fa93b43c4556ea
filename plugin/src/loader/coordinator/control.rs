//! LOADER THREADS (the coordinator's inbox): what the control side asks of the
//! coordinator thread ([`crate::Player`] sends these).

use std::sync::Arc;

use crossbeam_channel::Sender;

use crate::bridge::StemMix;
use crate::loader::prepare::PreparedSetlist;

/// Requests from the control side.
pub enum Control {
    /// Use a new setlist.
    Load {
        /// The probed setlist.
        prepared: Arc<PreparedSetlist>,
        /// Receives `()` once the engine command is queued.
        reply: Sender<()>,
    },
    /// Play `song` from `frame` (switching with a crossfade if playing).
    Play {
        /// Song index.
        song: usize,
        /// Start frame on the song's timeline.
        frame: u64,
    },
    /// Seek within the current song.
    Seek(u64),
    /// Pause.
    Pause,
    /// Resume after a pause.
    Resume,
    /// Stop.
    Stop,
    /// Change a stem's mix.
    Mix {
        /// Song index.
        song: usize,
        /// Stem index.
        stem: usize,
        /// Settings.
        mix: StemMix,
    },
    /// What happens at the end of a song.
    SongEnd {
        /// Song index.
        song: usize,
        /// The new end.
        end: crate::bridge::SongEnd,
    },
    /// Auto-advance on/off.
    AutoAdvance(bool),
    /// A song's auto-master settings, for the setlist load `epoch`.
    SongMaster {
        /// The load ([`PreparedSetlist::epoch`]).
        epoch: u16,
        /// Song index.
        song: usize,
        /// Settings.
        master: crate::bridge::SongMaster,
    },
    /// The auto-master on/off and A/B loudness matching.
    AutoMaster {
        /// Mastered sound.
        on: bool,
        /// The original at the mastered loudness.
        ab_match: bool,
    },
    /// Queue a jump.
    Jump {
        /// Target song.
        song: usize,
        /// Target frame.
        frame: u64,
        /// When it lands.
        timing: crate::bridge::JumpTiming,
    },
    /// Cancel the queued jump.
    CancelJump,
    /// Start (`Some`) or release (`None`) a vamp.
    Vamp(Option<crate::bridge::VampLength>),
    /// Look at positions now (offline renders call this when they wait).
    Nudge,
    /// End the coordinator thread.
    Shutdown,
}
