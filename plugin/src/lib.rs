//! Trax: plays setlists of multi-stem songs by streaming every stem from
//! disk in chunks through a background loader into the audio thread.
//!
//! Start with [`Player::new`]: it returns the control handle ([`Player`])
//! and the audio thread's [`engine::Engine`]. See `DESIGN.md` for the
//! architecture and the glossary; the module tree shows the realtime
//! boundary:
//! - [`engine`]: AUDIO THREAD (no allocation, lock, I/O or logging);
//! - [`bridge`]: the only module both sides share (slots, lanes, queues);
//! - [`loader`]: LOADER THREADS (decoding, resampling, scheduling);
//! - [`cache`]: the on-disk chunk cache (loader threads);
//! - [`setlist`]: the setlist format (control thread);
//! - [`player`]: the control handle;
//! - [`plugin`]: the CLAP/VST3 plugin and standalone glue (nice-plug).
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
pub mod player;
pub mod plugin;
pub mod published;
pub mod setlist;

pub use engine::{Engine, EngineConfig, ProcessMode};
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

/// The text of a caught panic (loader jobs, decoders, the control
/// thread). Any thread; not realtime-safe.
#[allow(clippy::disallowed_types)] // Never on the audio thread.
pub(crate) fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}
