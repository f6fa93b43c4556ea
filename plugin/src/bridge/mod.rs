//! ANY THREAD: THE BOUNDARY between the audio thread and the loader.
//!
//! This is the only module that both sides import. It holds:
//! - [`slot`]: preallocated chunk buffers with a seqlock-style key and a
//!   progressive `ready_frames` counter (loader writes, audio thread reads);
//! - [`lanes`]: per deck and stem, the ring of slot indices that forms a
//!   stem's window;
//! - [`messages`]: the small `Copy` commands and events that cross through
//!   `rtrb` queues, and the audio thread's counters ([`stats`]);
//! - [`waker`]: how any thread (the audio thread too) wakes the loader;
//! - [`song_master`]: a song's auto-master settings, sent to the audio
//!   thread's chain.
//!
//! Nothing here allocates, locks or blocks after construction, and there is no
//! `unsafe`: samples are stored as `AtomicU32` bit patterns so that a slot may
//! be written by a loader thread while the audio thread reads its ready part.
// The realtime contract, enforced: clippy.toml's disallowed types, methods
// and macros (locks, files, Vec::push, format!, sleep …) are errors here, and
// no unsafe code at all.
#![forbid(unsafe_code)]
#![deny(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    clippy::disallowed_macros
)]

pub mod bus;
pub mod jump;
pub mod key;
pub mod lanes;
pub mod messages;
pub mod slot;
pub mod song_master;
pub mod stats;
pub mod waker;

pub use bus::{Bus, AUX_BUS_COUNT, AUX_BUS_NAMES, BUS_CHANNELS, BUS_COUNT};
pub use jump::{JumpBoard, JumpTiming, Queued, VampLength};
pub use key::ChunkKey;
pub use lanes::DeckLanes;
pub use messages::{
    Command, CueAction, EngineSetlist, EngineSong, EngineStem, Event, Request, SongEnd, SongTempo,
    StemMix,
};
pub use slot::{Slot, SlotPool, SlotRead};
pub use song_master::SongMaster;
pub use stats::{EngineStats, TransportState};
pub use waker::Waker;

/// Length of a chunk in frames at the engine rate.
///
/// 16384 frames ≈ 341 ms at 48 kHz. Chunks are the unit of decoding and
/// read-ahead: a stem's window is [`WINDOW_CHUNKS`] of them, so the resident
/// RAM for a playing stem is `WINDOW_CHUNKS × CHUNK_FRAMES × 2 channels × 4
/// bytes` = 768 KiB, i.e. 22.5 MiB for 30 stems (the plan we came from used
/// 5 s chunks × 4: 231 MB). Decoding one chunk of FLAC costs ≈ 0.35 ms on this
/// machine, small enough that a chunk job never delays a seek noticeably.
pub const CHUNK_FRAMES: u32 = 16_384;

/// Chunks per stem window: the chunk being played plus read-ahead.
///
/// 6 × 341 ms ≈ 1.7–2.0 s of audio ahead of the play position at 48 kHz,
/// which covers a disk stall or a busy CPU far longer than one block.
pub const WINDOW_CHUNKS: usize = 6;

/// Chunks made resident for a deck that is cued but not yet playing (a seek
/// target, a song start, the next song's preload): ≈ 0.68 s at 48 kHz, enough
/// for the loader to catch up once the deck starts.
pub const CUE_CHUNKS: usize = 2;

/// Number of decks: one audible, one fading out, one pending (seek or song
/// change target), one holding the next song's preload.
pub const DECKS: usize = 4;

/// Maximum stems in one song (a limit on untrusted setlists, and the size of
/// the audio thread's per-deck stem tables).
pub const MAX_STEMS: usize = 64;

/// Interleaved samples per slot: stereo at most (more channels are
/// down-mixed by the loader).
pub const MAX_CHANNELS: usize = 2;
