//! ANY THREAD (the control and main threads publish, the GUI thread reads):
//! what the editor shows of a plugin instance, as one versioned value
//! ([`crate::published::Published`]). The control thread replaces it when
//! a setlist loads, a problem appears or an analysis finishes; activation
//! (the host's main thread) sets the engine's and the cache's handles.
//! The editor re-reads it only when its version moves, so a frame takes
//! no lock, and reads the audio thread's figures from the atomics of
//! [`crate::bridge::EngineStats`] through the handle it holds.
#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    clippy::disallowed_macros
)] // Never the audio thread.

use std::sync::Arc;

use crate::bridge::EngineStats;
use crate::loader::prepare::{PreparedSetlist, StemProblem};
use crate::loader::{CacheLink, LoaderStats};
use crate::plugin::auto_master::MasteringView;

/// The running engine's handles, set at activation.
#[derive(Clone)]
pub struct EngineView {
    /// The audio thread's counters (position, transport, meters): atomics.
    pub stats: Arc<EngineStats>,
    /// The loader's figures (the slot pool: what is in RAM).
    pub loader: Arc<LoaderStats>,
    /// The engine's rate, Hz.
    pub rate_hz: u32,
}

/// What the editor shows of the control thread's work.
#[derive(Clone, Default)]
pub struct ControlView {
    /// One line for the user: what is loaded or why not.
    pub status: String,
    /// Every stem problem of the loaded setlist (file and cause).
    pub problems: Arc<[StemProblem]>,
    /// The loaded setlist (songs, stems, lengths at the engine rate);
    /// `None` before a load.
    pub setlist: Option<Arc<PreparedSetlist>>,
    /// The auto-master: each song's analysis and settings.
    pub mastering: MasteringView,
    /// The engine, once activated.
    pub engine: Option<EngineView>,
    /// The chunk cache the player uses, if any.
    pub cache: Option<Arc<CacheLink>>,
    /// Why the cache is off, if it failed to open.
    pub cache_error: Option<String>,
    /// The OSC remote: off, listening (its port) or failed (why); its
    /// counters are in [`crate::plugin::control::Shared::remote`].
    pub remote: crate::remote::RemoteStatus,
}

impl ControlView {
    /// The engine's rate, Hz (0 before activation).
    pub fn rate_hz(&self) -> u32 {
        self.engine.as_ref().map_or(0, |e| e.rate_hz)
    }

    /// The name of song `song` (0-based) of the loaded setlist.
    pub fn song_name(&self, song: usize) -> Option<&str> {
        self.setlist
            .as_ref()
            .and_then(|s| s.songs.get(song).map(|s| s.name.as_str()))
    }
}
