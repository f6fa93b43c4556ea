//! CONTROL THREAD of a plugin instance: owns the [`Player`], loads the
//! setlist named in the state (probing it off the audio and main threads),
//! applies the persisted mix, and reports problems to the host log (stderr
//! through `tracing`) and to [`Shared`] for the editor.
#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    clippy::disallowed_macros
)] // Not the audio thread.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::Mutex;

use super::params::TraxParams;
use crate::Player;

/// How often the control thread looks for a new setlist path or mix in the
/// state when nothing wakes it.
const POLL: Duration = Duration::from_millis(50);

/// Where the setlist stands. Stored in [`Shared::load_state`].
pub mod load_state {
    /// No setlist path in the state.
    pub const NONE: u8 = 0;
    /// Reading and probing the setlist.
    pub const LOADING: u8 = 1;
    /// Loaded (possibly with problems: see [`super::Shared::problems`]).
    pub const READY: u8 = 2;
    /// The setlist file cannot be used (see [`super::Shared::status`]).
    pub const FAILED: u8 = 3;
}

/// What the control thread reports, for the audio thread (atomics only) and
/// the editor.
pub struct Shared {
    /// One of [`load_state`]'s values.
    pub load_state: AtomicU8,
    /// The version of the state's setlist path last loaded (or found
    /// unusable); `u64::MAX` before the first load.
    pub loaded_version: AtomicU64,
    /// One line for the user: what is loaded or why not.
    pub status: Mutex<String>,
    /// Every stem problem of the loaded setlist, one line each (file and
    /// cause).
    pub problems: Mutex<Vec<crate::loader::prepare::StemProblem>>,
    /// The loaded setlist (songs, stems, lengths at the engine rate), for
    /// the editor; `None` before a load.
    pub setlist: Mutex<Option<Arc<crate::loader::prepare::PreparedSetlist>>>,
    /// The engine's counters (position, transport, underruns), set at
    /// activation: the editor's lock-free view of the audio thread.
    pub engine_stats: Mutex<Option<Arc<crate::bridge::EngineStats>>>,
    /// The loader's figures (the slot pool: what is in RAM), set at
    /// activation.
    pub loader_stats: Mutex<Option<Arc<crate::loader::LoaderStats>>>,
    /// The engine's rate, Hz (0 before activation).
    pub engine_rate_hz: Mutex<u32>,
    /// The editor's end of the queue to the audio thread (only the GUI
    /// thread takes this lock).
    pub gui_commands: Mutex<Option<rtrb::Producer<super::gui_commands::GuiCommand>>>,
    /// The chunk cache the player uses, if any (for the editor's cache
    /// panel).
    pub cache: Mutex<Option<Arc<crate::loader::CacheLink>>>,
    /// Why the cache is off, if it failed to open.
    pub cache_error: Mutex<Option<String>>,
    /// The auto-master: each song's analysis and settings (the control
    /// thread writes it, the editor reads it).
    pub mastering: Mutex<super::auto_master::MasteringView>,
    /// The control thread, to wake it when the editor changes the mix.
    control_thread: Mutex<Option<std::thread::Thread>>,
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            load_state: AtomicU8::new(load_state::NONE),
            loaded_version: AtomicU64::new(u64::MAX),
            status: Mutex::default(),
            problems: Mutex::default(),
            setlist: Mutex::default(),
            engine_stats: Mutex::default(),
            loader_stats: Mutex::default(),
            engine_rate_hz: Mutex::new(0),
            gui_commands: Mutex::default(),
            cache: Mutex::default(),
            cache_error: Mutex::default(),
            mastering: Mutex::default(),
            control_thread: Mutex::default(),
        }
    }
}

impl Shared {
    /// The current [`load_state`] value.
    pub fn load_state(&self) -> u8 {
        self.load_state.load(Ordering::Acquire)
    }

    /// The name of song `song` (0-based) of the loaded setlist.
    pub fn song_name(&self, song: usize) -> Option<String> {
        self.setlist
            .lock()
            .as_ref()
            .and_then(|s| s.songs.get(song).map(|s| s.name.clone()))
    }

    /// Wakes the control thread now (it polls every 50 ms otherwise): the
    /// editor changed the mix or the setlist.
    pub fn wake_control(&self) {
        if let Some(t) = self.control_thread.lock().as_ref() {
            t.unpark();
        }
    }

    /// Whether the setlist named by the state (at `setlist_version`) is
    /// still to be loaded or being loaded. Realtime-safe (atomics).
    pub fn is_loading(&self, setlist_version: u64) -> bool {
        self.loaded_version.load(Ordering::Acquire) != setlist_version
            || self.load_state() == load_state::LOADING
    }
}

/// Handle to the control thread; dropping it stops the thread and with it
/// the player's loader, waiting for both; [`ControlThread::retire`] stops
/// them without waiting.
pub struct ControlThread {
    stop: Arc<AtomicBool>,
    /// The player's [`Player::load_canceller`]: a probe in progress ends.
    cancel_load: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl ControlThread {
    /// Starts the thread with `player`; it loads the state's setlist at
    /// once and whenever the state changes.
    ///
    /// # Errors
    /// The thread cannot be spawned.
    pub fn spawn(
        player: Player,
        params: Arc<TraxParams>,
        shared: Arc<Shared>,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let cancel_load = player.load_canceller();
        let s = Arc::clone(&stop);
        let sh = Arc::clone(&shared);
        let handle = std::thread::Builder::new()
            .name("trax-control".into())
            .spawn(move || {
                let run = std::panic::AssertUnwindSafe(|| run(&player, &params, &shared, &s));
                if let Err(p) = std::panic::catch_unwind(run) {
                    tracing::error!("trax control thread stopped: {}", crate::panic_message(&p));
                }
            })?;
        *sh.control_thread.lock() = Some(handle.thread().clone());
        Ok(Self {
            stop,
            cancel_load,
            handle: Some(handle),
        })
    }

    /// Tells the thread to stop (a probe in progress ends early; nothing
    /// more is published to [`Shared`]) and returns its handle, still
    /// running: the caller does not wait.
    fn signal_stop(&mut self) -> Option<JoinHandle<()>> {
        self.stop.store(true, Ordering::Release);
        self.cancel_load.store(true, Ordering::Release);
        let h = self.handle.take()?;
        h.thread().unpark();
        Some(h)
    }

    /// Stops the thread without waiting for it (its player's loader and
    /// analysis stop with it): a host's main thread that re-activates the
    /// plugin at another rate must not wait for a probe or an analysis.
    /// Returns a handle that finishes once they have (join it before the
    /// plugin's code may be unloaded), or `None` if the thread is already
    /// gone.
    pub fn retire(mut self) -> Option<JoinHandle<()>> {
        let h = self.signal_stop()?;
        let reaper = std::thread::Builder::new()
            .name("trax-retire".into())
            .spawn(move || {
                let _ = h.join();
            });
        match reaper {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::warn!(
                    "trax: no thread to retire the old control thread ({e}); it ends unwatched"
                );
                None
            }
        }
    }
}

impl Drop for ControlThread {
    fn drop(&mut self) {
        if let Some(h) = self.signal_stop() {
            let _ = h.join();
        }
    }
}

fn run(player: &Player, params: &TraxParams, shared: &Shared, stop: &AtomicBool) {
    let mut loaded_setlist: Option<u64> = None;
    let mut applied_mix: Option<(u64, u64)> = None;
    // What the engine has of the persisted mix: only changes are sent (a
    // fader drag must not resend every stem of every song).
    let mut applied: Vec<Vec<super::params::StemMixState>> = Vec::new();
    let mut reported = 0usize;
    let mut transport_seen = (crate::bridge::TransportState::Stopped, None);
    let mut mastering = super::auto_master::AutoMasterControl::new();
    while !stop.load(Ordering::Acquire) {
        let (path, version) = params.setlist.get();
        if loaded_setlist != Some(version) {
            loaded_setlist = Some(version);
            applied_mix = None;
            applied.clear();
            reported = 0;
            let loaded = load(player, &path, shared, stop);
            if stop.load(Ordering::Acquire) {
                // Retired while loading: the Shared belongs to the thread
                // that replaced this one.
                break;
            }
            match loaded {
                Some((songs, epoch)) => mastering.loaded(player, shared, songs, epoch),
                None => mastering.unloaded(shared),
            }
            shared.loaded_version.store(version, Ordering::Release);
        }
        mastering.poll(player, params, shared);
        let mix_version = params.mix.version();
        if shared.load_state() == load_state::READY && applied_mix != Some((version, mix_version)) {
            applied_mix = Some((version, mix_version));
            let (mix, _) = params.mix.get();
            for (song, stems) in mix.iter().enumerate() {
                for (stem, m) in stems.iter().enumerate() {
                    if applied.get(song).and_then(|s| s.get(stem)) != Some(m) {
                        player.set_stem_mix(song, stem, m.to_mix());
                    }
                }
            }
            applied = mix;
        }
        log_transport(player, shared, &mut transport_seen);
        // Problems found while playing (damaged frames, a file gone): the
        // player's list holds every problem since the load, the probe's
        // included, each once; the editor's copy is replaced by it.
        let problems = player.problems();
        if problems.len() != reported {
            reported = problems.len();
            *shared.problems.lock() = problems;
        }
        std::thread::park_timeout(POLL);
    }
}

/// Logs what the transport does when it changes (seen at the control
/// thread's poll): `trax: playing song 2 "Name"`. The host's log then says
/// what played when, and the standalone's window test sees a click's
/// effect.
fn log_transport(
    player: &Player,
    shared: &Shared,
    seen: &mut (crate::bridge::TransportState, Option<usize>),
) {
    use crate::bridge::TransportState;
    let stats = player.engine_stats();
    let now = (stats.transport(), stats.active_song());
    if now == *seen {
        return;
    }
    *seen = now;
    let what = match now.0 {
        TransportState::Stopped => "stopped",
        TransportState::Starting => "starting",
        TransportState::Playing => "playing",
        TransportState::Paused => "paused",
    };
    match now.1 {
        Some(song) => {
            let name = shared.song_name(song).unwrap_or_default();
            tracing::info!("trax: {what} song {} \"{name}\"", song + 1);
        }
        None => tracing::info!("trax: {what}"),
    }
}

/// Reads, probes and hands `path`'s setlist to the player. Returns the
/// setlist's songs and the load's epoch, `None` if nothing could be loaded
/// (or the thread was retired meanwhile: then nothing is published).
fn load(
    player: &Player,
    path: &str,
    shared: &Shared,
    stop: &AtomicBool,
) -> Option<(Vec<crate::setlist::Song>, u16)> {
    shared.problems.lock().clear();
    if path.is_empty() {
        *shared.setlist.lock() = None;
        *shared.status.lock() = "no setlist: choose one in the editor or the state".into();
        shared.load_state.store(load_state::NONE, Ordering::Release);
        return None;
    }
    shared
        .load_state
        .store(load_state::LOADING, Ordering::Release);
    *shared.status.lock() = format!("loading {path}");
    match crate::setlist::load(&PathBuf::from(path)) {
        Err(e) => {
            // The error names the file and the cause.
            tracing::error!("trax: {e}");
            *shared.setlist.lock() = None;
            *shared.status.lock() = e.to_string();
            shared
                .load_state
                .store(load_state::FAILED, Ordering::Release);
            None
        }
        Ok(setlist) => {
            let prepared = player.load(&setlist);
            if stop.load(Ordering::Acquire) {
                return None; // retired: publish nothing
            }
            // Player::load has logged each problem (file and cause).
            let problems = player.problems();
            *shared.setlist.lock() = Some(Arc::clone(&prepared));
            *shared.problems.lock() = problems.clone();
            *shared.status.lock() = format!(
                "{}: {} songs, {} stems skipped",
                path,
                prepared.songs.len(),
                problems
                    .iter()
                    .filter(|p| p.severity == crate::loader::prepare::Severity::Skipped)
                    .count()
            );
            tracing::info!("trax: loaded {}", shared.status.lock());
            shared
                .load_state
                .store(load_state::READY, Ordering::Release);
            Some((setlist.songs, prepared.epoch))
        }
    }
}
