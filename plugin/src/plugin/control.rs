//! CONTROL THREAD (one per plugin instance): owns the [`Player`], loads the
//! setlist named in the state (probing it off the audio and main threads),
//! applies the persisted mix, and reports problems to the host log (stderr
//! through `tracing`) and to [`Shared`] for the editor.
#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    clippy::disallowed_macros
)] // Not the audio thread.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::Mutex;

use super::params::TraxParams;
use crate::published::Published;
use crate::thread::TraxThread;
use crate::view::ControlView;
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

/// What a plugin instance's threads share besides the parameters: the
/// load state (atomics the audio thread reads), the editor's view (one
/// versioned value: [`crate::view`]), the editor's end of the command
/// queue and the control thread's handle (to wake it).
pub struct Shared {
    /// One of [`load_state`]'s values.
    pub load_state: AtomicU8,
    /// The version of the state's setlist path last loaded (or found
    /// unusable); `u64::MAX` before the first load.
    pub loaded_version: AtomicU64,
    /// What the editor shows: published by the control thread (setlist,
    /// status, problems, auto-master) and by activation (engine, cache).
    pub view: Published<ControlView>,
    /// The editor's and the OSC remote's end of the queue to the audio
    /// thread (only those threads take this lock, to send a command; never
    /// the audio thread).
    pub gui_commands: Mutex<Option<rtrb::Producer<super::gui_commands::GuiCommand>>>,
    /// The OSC remote: its counters, and its server (started by the
    /// control thread as `osc_port` says; its status is in the view,
    /// [`ControlView::remote`]).
    pub remote: crate::remote::Remote,
    /// The song the audio thread has cued (0-based): Play plays it. Set by
    /// the audio thread every block; the remote pushes it as the current
    /// song while none is heard.
    cued_song: AtomicUsize,
    /// The control thread, to wake it when the editor changes the mix.
    control_thread: Mutex<Option<std::thread::Thread>>,
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            load_state: AtomicU8::new(load_state::NONE),
            loaded_version: AtomicU64::new(u64::MAX),
            view: Published::default(),
            gui_commands: Mutex::default(),
            remote: crate::remote::Remote::default(),
            cued_song: AtomicUsize::new(0),
            control_thread: Mutex::default(),
        }
    }
}

impl Shared {
    /// The current [`load_state`] value.
    pub fn load_state(&self) -> u8 {
        self.load_state.load(Ordering::Acquire)
    }

    /// Wakes the control thread now (it polls every 50 ms otherwise): the
    /// editor changed the mix or the setlist.
    pub fn wake_control(&self) {
        if let Some(t) = self.control_thread.lock().as_ref() {
            t.unpark();
        }
    }

    /// The song the audio thread has cued (0-based; it may lie beyond a
    /// shorter setlist): what Play plays. It follows the `song` parameter,
    /// program changes, notes and the remote's cues. Realtime-safe.
    pub fn cued_song(&self) -> usize {
        self.cued_song.load(Ordering::Relaxed)
    }

    /// The audio thread publishes the cued song. Realtime-safe.
    pub(super) fn set_cued_song(&self, song: usize) {
        self.cued_song.store(song, Ordering::Relaxed);
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
        let handle = crate::thread::spawn(TraxThread::Control, false, move || {
            let run = std::panic::AssertUnwindSafe(|| run(&player, &params, &shared, &s));
            if let Err(p) = std::panic::catch_unwind(run) {
                tracing::error!(
                    "trax control thread stopped: {}",
                    crate::thread::panic_message(&p)
                );
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
        let reaper = crate::thread::spawn(TraxThread::Retire, false, move || {
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

fn run(player: &Player, params: &Arc<TraxParams>, shared: &Arc<Shared>, stop: &AtomicBool) {
    let mut loaded_setlist: Option<u64> = None;
    let mut applied_mix: Option<(u64, u64)> = None;
    // What the engine has of the persisted mix: only changes are sent (a
    // fader drag must not resend every stem of every song).
    let mut applied: Vec<Vec<super::params::StemMixState>> = Vec::new();
    // The same for the song ends the editor set for this show: what the
    // engine has (the setlist's until changed).
    let mut applied_ends_version: Option<(u64, u64)> = None;
    let mut applied_ends: Vec<crate::bridge::SongEnd> = Vec::new();
    let mut reported = 0usize;
    let mut transport_seen = (crate::bridge::TransportState::Stopped, None);
    let mut mastering = super::auto_master::AutoMasterControl::new();
    while !stop.load(Ordering::Acquire) {
        // First: a remote asked for comes up while a setlist loads.
        crate::remote::Remote::follow(shared, params);
        let (path, version) = params.setlist.get();
        if loaded_setlist != Some(version) {
            loaded_setlist = Some(version);
            applied_mix = None;
            applied.clear();
            applied_ends_version = None;
            applied_ends.clear();
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
        let ends_version = (version, params.song_ends.version());
        if shared.load_state() == load_state::READY && applied_ends_version != Some(ends_version) {
            applied_ends_version = Some(ends_version);
            apply_song_ends(player, params, shared, &mut applied_ends);
        }
        log_transport(player, shared, &mut transport_seen);
        // Problems found while playing (damaged frames, a file gone): the
        // player's list holds every problem since the load, the probe's
        // included, each once; the editor's copy is replaced by it.
        let problems = player.problems();
        if problems.len() != reported {
            reported = problems.len();
            shared.view.update(|v| v.problems = problems.into());
        }
        std::thread::park_timeout(POLL);
    }
}

/// Sends the engine each song's end where it changed: the editor's
/// override for this show (`song_ends`), else the setlist's. `applied`
/// holds what the engine has (empty after a load: the setlist's).
fn apply_song_ends(
    player: &Player,
    params: &TraxParams,
    shared: &Shared,
    applied: &mut Vec<crate::bridge::SongEnd>,
) {
    let view = shared.view.get();
    let Some(setlist) = view.setlist.as_ref() else {
        return;
    };
    if applied.len() != setlist.songs.len() {
        *applied = setlist.songs.iter().map(|s| s.end).collect();
    }
    let (ends, _) = params.song_ends.get();
    for (song, s) in setlist.songs.iter().enumerate() {
        let end = ends
            .get(song)
            .and_then(|e| e.as_deref())
            .and_then(crate::bridge::SongEnd::parse)
            .unwrap_or(s.end);
        if applied[song] != end {
            player.set_song_end(song, end);
            applied[song] = end;
        }
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
            let view = shared.view.get();
            let name = view.song_name(song).unwrap_or_default();
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
    if path.is_empty() {
        shared.view.update(|v| {
            v.problems = Arc::default();
            v.setlist = None;
            v.status = "no setlist: choose one in the editor or the state".into();
        });
        shared.load_state.store(load_state::NONE, Ordering::Release);
        return None;
    }
    shared
        .load_state
        .store(load_state::LOADING, Ordering::Release);
    shared.view.update(|v| {
        v.problems = Arc::default();
        v.status = format!("loading {path}");
    });
    match crate::setlist::load(&PathBuf::from(path)) {
        Err(e) => {
            // The error names the file and the cause.
            tracing::error!("trax: {e}");
            shared.view.update(|v| {
                v.setlist = None;
                v.status = e.to_string();
            });
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
            let status = format!(
                "{}: {} songs, {} stems skipped",
                path,
                prepared.songs.len(),
                problems
                    .iter()
                    .filter(|p| p.severity == crate::loader::prepare::Severity::Skipped)
                    .count()
            );
            tracing::info!("trax: loaded {status}");
            shared.view.update(|v| {
                v.setlist = Some(Arc::clone(&prepared));
                v.problems = problems.into();
                v.status = status;
            });
            shared
                .load_state
                .store(load_state::READY, Ordering::Release);
            Some((setlist.songs, prepared.epoch))
        }
    }
}
