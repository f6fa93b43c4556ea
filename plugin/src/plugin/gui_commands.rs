//! ANY THREAD (GUI → audio): the editor's transport commands that are not
//! parameters (play a given song now, seek, stop), through a wait-free
//! single-producer queue ([`rtrb`]) that `process()` drains at the start of
//! every block, as it takes MIDI events. Play/pause, the selected song,
//! master gain and follow are parameters (the host sees and records them);
//! the mix goes through the persisted `mix` field and the control thread.

use rtrb::{Consumer, Producer, RingBuffer};

/// Commands the editor queues; the capacity is far above what a person can
/// click between two blocks.
pub const GUI_QUEUE_CAPACITY: usize = 64;

/// One editor command, applied by `process()` at the start of a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
}

/// The queue's two ends: the producer goes to the editor (behind a lock
/// only the GUI thread takes), the consumer to the audio thread.
pub fn gui_queue() -> (Producer<GuiCommand>, Consumer<GuiCommand>) {
    RingBuffer::new(GUI_QUEUE_CAPACITY)
}
