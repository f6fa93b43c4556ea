//! ANY THREAD (GUI and OSC remote → audio): the editor's transport
//! commands that are not parameters (play a given song now, seek, stop),
//! and the OSC remote's ([`crate::remote`]), through a wait-free
//! single-producer queue ([`rtrb`]) that `process()` drains at the start of
//! every block, as it takes MIDI events. The editor's play/pause, selected
//! song, master gain and follow are parameters (the host sees and records
//! them); the remote cannot set parameters, so it sends commands for them,
//! and its auto-master and gain hold until the parameter next changes. The
//! mix goes through the persisted `mix` field and the control thread.

use rtrb::{Consumer, Producer, RingBuffer};

/// Commands the editor and the remote queue; the capacity is far above
/// what a person can click or tap between two blocks.
pub const GUI_QUEUE_CAPACITY: usize = 64;

/// One editor or remote command, applied by `process()` at the start of a
/// block. Songs and sections are 0-based.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GuiCommand {
    /// Start `song` (0-based) at `frame` of its timeline now, whatever
    /// plays.
    PlaySong {
        /// The song, 0-based.
        song: usize,
        /// Where it starts, frames at the engine rate.
        frame: u64,
    },
    /// Seek the song that plays (or is cued) to this frame of its timeline
    /// (engine rate).
    Seek(u64),
    /// Stop (fade out; the next play starts the selected song from 0).
    Stop,
    /// Queue a jump to `frame` of `song` at `timing` (replacing one).
    Jump {
        /// The song, 0-based.
        song: usize,
        /// The target frame, engine rate.
        frame: u64,
        /// When it lands.
        timing: crate::bridge::JumpTiming,
    },
    /// Cancel the queued jump.
    CancelJump,
    /// Start (`Some`) or release (`None`) a vamp.
    Vamp(Option<crate::bridge::VampLength>),
    /// Resume if paused, else play the cued song from its start (the
    /// remote's Play: the `play` parameter is not set with it).
    Play,
    /// Pause (10 ms fade).
    Pause,
    /// Pause what plays, else [`GuiCommand::Play`].
    PlayPause,
    /// [`GuiCommand::Stop`] from a sender that does not set `play` with
    /// it (the remote): no change of `play` is expected after it.
    RemoteStop,
    /// Start `song` from its start now, whatever plays, from a sender that
    /// does not set `play` with it (the remote).
    RemotePlaySong(usize),
    /// Cue `song`: its head is made resident; Play starts it.
    Cue(usize),
    /// The song `delta` songs from the current one (heard, else cued;
    /// clamped to the setlist): played at once while the transport plays,
    /// cued otherwise (the editor's Next/Previous).
    StepSong(i32),
    /// Queue a jump to section `index` of the song that plays.
    JumpSection {
        /// The section, 0-based.
        index: usize,
        /// When it lands.
        timing: crate::bridge::JumpTiming,
    },
    /// Queue a jump `delta` sections from the one that plays (1: the next,
    /// -1: the previous).
    JumpBy {
        /// Sections to move.
        delta: i32,
        /// When it lands.
        timing: crate::bridge::JumpTiming,
    },
    /// The auto-master on or off, until the `am_on` parameter next
    /// changes (the host's control keeps showing its own value).
    AutoMaster(bool),
    /// The master gain, dB (clamped to the `gain_db` range), smoothed like
    /// the parameter, until `gain_db` next changes.
    MasterGainDb(f32),
}

/// The queue's two ends: the producer goes to the editor (behind a lock
/// only the GUI thread takes), the consumer to the audio thread.
pub fn gui_queue() -> (Producer<GuiCommand>, Consumer<GuiCommand>) {
    RingBuffer::new(GUI_QUEUE_CAPACITY)
}
