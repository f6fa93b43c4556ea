//! ANY THREAD: Trax plays setlists of multi-stem songs by streaming every
//! stem from disk in chunks through a background loader into the audio
//! thread.
//!
//! Start with [`Player::new`]: it returns the control handle ([`Player`])
//! and the audio thread's [`engine::Engine`]. `docs/ARCHITECTURE.md` is the
//! architecture and the glossary. Every module, with the thread that runs
//! it (each folder is one thread; its files say so in their first line):
//! - [`engine`]: AUDIO THREAD: transport, decks, mixer, window reads,
//!   declick, counters; [`engine::master`] the auto-master chain (no
//!   allocation, lock, I/O or logging);
//! - [`bridge`]: ANY THREAD, the boundary: slots, lanes, the `Copy`
//!   messages and counters that cross to and from the audio thread;
//! - [`dsp`]: ANY THREAD: pure signal processing both sides call (true
//!   peak, K-weighting);
//! - [`loader`]: LOADER THREADS: scheduling, decoding, resampling, preload,
//!   the cache link, warming;
//! - [`cache`]: LOADER THREADS (and the CLI): the on-disk chunk cache;
//! - [`analysis`]: ANALYSIS THREAD: loudness, true peak, spectrum, stored
//!   analyses, the fit of the auto-master's settings;
//! - [`setlist`]: CONTROL THREAD: the setlist format and folders;
//! - [`markers`]: CONTROL THREAD: section markers from WAV cue points,
//!   FLAC cue sheets, MIDI files and REAPER's CSV export;
//! - [`player`]: CONTROL THREAD: the control handle (engine + loader);
//! - [`offline`]: ANY THREAD (the caller's): the one offline render
//!   driver (`trax render`, warming, analysis, the plugin offline);
//! - [`plugin`]: ANY THREAD: the CLAP/VST3 glue (`process()` on the audio
//!   thread, the control thread per instance, parameters);
//! - [`remote`]: REMOTE THREAD: the OSC remote (UDP): commands to the
//!   audio thread through the editor's queue, the state pushed to
//!   subscribers; started and stopped by the control thread;
//! - [`view`]: ANY THREAD: what the editor reads (one versioned value);
//! - [`published`]: ANY THREAD: the versioned value it is built on;
//! - [`thread`]: ANY THREAD: every thread Trax starts, with its name and
//!   priority, and the helpers they share;
//! - [`editor`]: GUI THREAD: the egui editor.
// No unsafe code of ours: only nice-plug's export macros in `plugin` need
// it (the C entry points), and only that module allows it.
#![deny(unsafe_code)]

pub mod analysis;
pub mod bridge;
pub mod cache;
pub mod dsp;
pub mod editor;
pub mod engine;
pub mod loader;
pub mod markers;
pub mod offline;
pub mod player;
pub mod plugin;
pub mod published;
pub mod remote;
pub mod setlist;
pub mod thread;
pub mod view;

pub use engine::{Engine, EngineConfig, Outputs, ProcessMode};
pub use player::{Player, PlayerConfig, PlayerError};
pub use plugin::{Trax, TraxVst3};

// The setlist and source limits must fit a chunk key's fields, or two
// chunks could share a key (engine rates go up to 768 kHz).
const _: () = assert!(setlist::MAX_SONGS <= bridge::ChunkKey::MAX_SONGS);
const _: () = assert!(setlist::MAX_STEMS_PER_SONG <= bridge::ChunkKey::MAX_STEMS);
const _: () = assert!(
    (loader::source::MAX_SOURCE_SECS * 768_000 / bridge::CHUNK_FRAMES as u64)
        < bridge::ChunkKey::MAX_CHUNKS
);
