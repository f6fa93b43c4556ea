//! ANY THREAD (never the audio thread): the threads Trax starts, in one
//! place: [`THREADS`] lists every one with its name, the thread tag of
//! the code it runs and its priority; [`spawn`] starts one by its
//! [`TraxThread`] (named, at its priority); [`lower_priority`] and
//! [`panic_message`] are the helpers they share. The audio thread is the
//! host's (or the standalone backend's); Trax never starts one.
#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    clippy::disallowed_macros
)] // Never the audio thread.

use std::io;
use std::thread::JoinHandle;

/// A thread Trax starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraxThread {
    /// A plugin instance's control thread ([`crate::plugin::control`]).
    Control,
    /// Joins a retired control thread without blocking the host.
    Retire,
    /// A player's loader coordinator ([`crate::loader::coordinator`]).
    Coordinator,
    /// A player's decoding pool (rayon), `trax-loader-N`.
    Loader,
    /// The chunk cache's writer ([`crate::loader::cache_link`]).
    CacheWriter,
    /// A plugin instance's analysis jobs ([`crate::analysis::jobs`]).
    Analysis,
    /// The editor's cache panel's disk work ([`crate::editor::cache_tasks`]).
    EditorCache,
    /// The editor's platform file dialog ([`crate::editor`]'s dialog).
    FileDialog,
    /// `trax soak`'s stand-in for a host's audio thread (the CLI only).
    SoakAudio,
    /// A plugin instance's OSC remote ([`crate::remote`]).
    Remote,
}

/// When a thread runs at the lowest priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priority {
    /// The default.
    Normal,
    /// Always at the lowest priority ([`lower_priority`]).
    Background,
    /// At the lowest priority when its player is a background one
    /// ([`crate::PlayerConfig::background`]: analysis, warming).
    BackgroundWhenAsked,
}

/// One entry of [`THREADS`].
#[derive(Clone, Copy, Debug)]
pub struct ThreadSpec {
    /// Which thread.
    pub thread: TraxThread,
    /// Its name (what `top -H`, a debugger and a panic message show).
    pub name: &'static str,
    /// The thread tag of the code it runs (docs/ARCHITECTURE.md: Layout).
    pub runs: &'static str,
    /// Its priority.
    pub priority: Priority,
}

/// Every thread Trax starts.
pub const THREADS: [ThreadSpec; 10] = [
    spec(
        TraxThread::Control,
        "trax-control",
        "CONTROL THREAD",
        Priority::Normal,
    ),
    spec(
        TraxThread::Retire,
        "trax-retire",
        "CONTROL THREAD",
        Priority::Normal,
    ),
    spec(
        TraxThread::Coordinator,
        "trax-coordinator",
        "LOADER THREADS",
        Priority::BackgroundWhenAsked,
    ),
    spec(
        TraxThread::Loader,
        "trax-loader-N",
        "LOADER THREADS",
        Priority::BackgroundWhenAsked,
    ),
    spec(
        TraxThread::CacheWriter,
        "trax-cache-writer",
        "LOADER THREADS",
        Priority::Background,
    ),
    spec(
        TraxThread::Analysis,
        "trax-analysis",
        "ANALYSIS THREAD",
        Priority::Background,
    ),
    spec(
        TraxThread::EditorCache,
        "trax-editor-cache",
        "GUI THREAD",
        Priority::Normal,
    ),
    spec(
        TraxThread::FileDialog,
        "trax-file-dialog",
        "GUI THREAD",
        Priority::Normal,
    ),
    spec(
        TraxThread::SoakAudio,
        "trax-soak-audio",
        "AUDIO THREAD",
        Priority::Normal,
    ),
    spec(
        TraxThread::Remote,
        "trax-remote",
        "REMOTE THREAD",
        Priority::Normal,
    ),
];

const fn spec(
    thread: TraxThread,
    name: &'static str,
    runs: &'static str,
    priority: Priority,
) -> ThreadSpec {
    ThreadSpec {
        thread,
        name,
        runs,
        priority,
    }
}

impl TraxThread {
    /// Its entry in [`THREADS`].
    pub fn spec(self) -> &'static ThreadSpec {
        THREADS
            .iter()
            .find(|s| s.thread == self)
            .unwrap_or(&THREADS[0])
    }

    /// The name of its `index`-th instance (the loader pool's threads are
    /// numbered; the others have one name).
    pub fn name(self, index: usize) -> String {
        self.spec().name.replace('N', &index.to_string())
    }
}

/// Starts `thread` running `run`, named as [`THREADS`] says, at its
/// priority (`background`: the player asked for the lowest, for
/// [`Priority::BackgroundWhenAsked`]).
///
/// # Errors
/// The operating system cannot start a thread.
pub fn spawn<T: Send + 'static>(
    thread: TraxThread,
    background: bool,
    run: impl FnOnce() -> T + Send + 'static,
) -> io::Result<JoinHandle<T>> {
    let lower = lowered(thread, background);
    std::thread::Builder::new()
        .name(thread.name(0))
        .spawn(move || {
            if lower {
                lower_priority();
            }
            run()
        })
}

/// Whether `thread` runs at the lowest priority (`background`: its player
/// is a background one).
pub fn lowered(thread: TraxThread, background: bool) -> bool {
    match thread.spec().priority {
        Priority::Normal => false,
        Priority::Background => true,
        Priority::BackgroundWhenAsked => background,
    }
}

/// Puts the calling thread at the lowest CPU priority (nice 19) and the
/// idle I/O class, so its work only uses time and disk bandwidth nothing
/// else wants (Linux; elsewhere a no-op). Best effort.
#[allow(unsafe_code)]
pub fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid, setpriority and ioprio_set take plain integers and
    // only affect the calling thread.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 19);
        // ioprio_set(IOPRIO_WHO_PROCESS, tid, IOPRIO_CLASS_IDLE << 13).
        libc::syscall(libc::SYS_ioprio_set, 1, tid, 3 << 13);
    }
}

/// The text of a caught panic (loader jobs, decoders, the control
/// thread). Any thread; not realtime-safe.
pub fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_thread_is_listed_once_with_a_trax_name() {
        for (i, s) in THREADS.iter().enumerate() {
            assert!(s.name.starts_with("trax-"), "{s:?}");
            assert_eq!(s.thread.spec().name, s.name);
            assert!(THREADS[i + 1..].iter().all(|o| o.thread != s.thread));
        }
        assert_eq!(TraxThread::Loader.name(3), "trax-loader-3");
        assert!(lowered(TraxThread::Analysis, false));
        assert!(!lowered(TraxThread::Coordinator, false));
        assert!(lowered(TraxThread::Coordinator, true));
    }

    #[test]
    fn a_spawned_thread_has_its_name() {
        let name = spawn(TraxThread::Retire, false, || {
            std::thread::current().name().map(str::to_string)
        })
        .unwrap()
        .join()
        .unwrap();
        assert_eq!(name.as_deref(), Some("trax-retire"));
    }
}
