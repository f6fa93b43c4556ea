//! GUI THREAD (the editor's cache thread, spawned by the cache panel):
//! everything the cache panel does that touches the disk (reading the
//! folder's settings and usage, setting the budget and policy, clearing,
//! warming the setlist) runs here, never on the GUI thread. The panel sends
//! [`CacheTask`]s and reads the [`CacheView`] this thread publishes (a lock
//! only the two of them take) and the warm's atomics.
#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    clippy::disallowed_macros
)] // Not the audio thread.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::published::{Published, Reader};
use crossbeam_channel::{unbounded, Receiver, Sender};

use crate::cache::CachePolicy;
use crate::loader::prepare::PreparedSetlist;
use crate::loader::warm::{warm_setlist, WarmProgress};
use crate::loader::{CacheLink, PersistedStats};

/// What the cache thread is asked to do.
#[derive(Clone, Debug)]
pub enum CacheTask {
    /// Read the folder's settings, usage and statistics again, and which
    /// chunks of this song (of this setlist) have files.
    Refresh(Option<(Arc<PreparedSetlist>, usize)>),
    /// Set the byte budget (evicting down to it at once).
    SetBudget(u64),
    /// Set the policy (this link's and the folder's default).
    SetPolicy(CachePolicy),
    /// Remove every entry not in use.
    Clear,
    /// Fill the cache for the setlist at this path, at this engine rate.
    Warm {
        /// The setlist file or folder.
        setlist: String,
        /// The engine rate to warm for, Hz.
        rate_hz: u32,
    },
}

/// What the panel shows of the cache, as the cache thread last read it.
#[derive(Clone, Debug, Default)]
pub struct CacheView {
    /// Whether a first read has completed.
    pub loaded: bool,
    /// The cache folder.
    pub dir: String,
    /// Bytes in entries (the ledger's count).
    pub used_bytes: u64,
    /// The folder's budget, bytes.
    pub budget_bytes: u64,
    /// Free bytes on the folder's disk, where known.
    pub free_bytes: Option<u64>,
    /// The policy in effect.
    pub policy: Option<CachePolicy>,
    /// Hits / lookups over the folder's lifetime (every process).
    pub lifetime: PersistedStats,
    /// The last thing done, or why it failed (file and cause).
    pub message: String,
    /// Which chunks of a song have cache files.
    pub cached: Option<CachedRanges>,
}

/// Per chunk of one song, the fraction of its stems with a cache file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CachedRanges {
    /// The setlist's epoch.
    pub epoch: u16,
    /// The song (0-based).
    pub song: usize,
    /// Per chunk, 0.0 … 1.0.
    pub fractions: Vec<f32>,
}

/// Which chunks of `song` have a cache file, per chunk the fraction of the
/// song's stems (file system checks: the cache thread only).
fn cached_ranges(setlist: &PreparedSetlist, song: usize) -> Option<CachedRanges> {
    let first: usize = setlist.songs.iter().take(song).map(|s| s.stems.len()).sum();
    let s = setlist.songs.get(song)?;
    let chunks = super::residency::chunk_count(s.length_frames);
    let stems = s.stems.len().max(1);
    let mut counts = vec![0u32; chunks];
    for flat in first..first + s.stems.len() {
        let Some(Some(entry)) = setlist.cache_entries.get(flat) else {
            continue;
        };
        for (chunk, count) in counts.iter_mut().enumerate() {
            if entry.contains(chunk as u32) {
                *count += 1;
            }
        }
    }
    Some(CachedRanges {
        epoch: setlist.epoch,
        song,
        fractions: counts.iter().map(|&c| c as f32 / stems as f32).collect(),
    })
}

/// The panel's end of the cache thread.
pub struct CacheWorker {
    tx: Sender<CacheTask>,
    view: Arc<Published<CacheView>>,
    reader: Reader<CacheView>,
    /// The running warm's progress (and cancel flag).
    pub warm: Arc<WarmProgress>,
    /// Whether a warm runs.
    pub warming: Arc<AtomicBool>,
}

impl CacheWorker {
    /// Starts the thread for `link`; it ends when this is dropped.
    pub fn start(link: Arc<CacheLink>) -> std::io::Result<Self> {
        let (tx, rx) = unbounded();
        let view = Arc::new(Published::<CacheView>::default());
        let warm = Arc::new(WarmProgress::default());
        let warming = Arc::new(AtomicBool::new(false));
        {
            let (view, warm, warming) =
                (Arc::clone(&view), Arc::clone(&warm), Arc::clone(&warming));
            crate::thread::spawn(crate::thread::TraxThread::EditorCache, false, move || {
                run(&link, &rx, &view, &warm, &warming)
            })?;
        }
        let worker = Self {
            tx,
            view,
            reader: Reader::default(),
            warm,
            warming,
        };
        worker.send(CacheTask::Refresh(None));
        Ok(worker)
    }

    /// Queues a task (never blocks).
    pub fn send(&self, task: CacheTask) {
        let _ = self.tx.send(task);
    }

    /// What the thread last read (no lock unless it changed).
    pub fn view(&mut self) -> Arc<CacheView> {
        Arc::clone(self.reader.read(&self.view))
    }
}

impl Drop for CacheWorker {
    fn drop(&mut self) {
        // A warm in progress stops at its next block; the thread ends when
        // the channel closes.
        self.warm.cancel.store(true, Ordering::Relaxed);
    }
}

fn run(
    link: &Arc<CacheLink>,
    rx: &Receiver<CacheTask>,
    view: &Published<CacheView>,
    warm: &WarmProgress,
    warming: &AtomicBool,
) {
    while let Ok(task) = rx.recv() {
        let mut cached = None;
        let message = match task {
            CacheTask::Refresh(song) => {
                cached = song.and_then(|(setlist, song)| cached_ranges(&setlist, song));
                None
            }
            CacheTask::SetBudget(bytes) => Some(match link.store().set_budget_bytes(bytes) {
                Ok(e) if e.chunks_removed > 0 => format!(
                    "budget set; {} chunks evicted ({})",
                    e.chunks_removed,
                    super::format::bytes(e.freed_bytes)
                ),
                Ok(_) => "budget set".to_string(),
                Err(e) => e.to_string(),
            }),
            CacheTask::SetPolicy(policy) => Some(match link.set_policy(policy) {
                Ok(()) => format!("policy: {policy}"),
                Err(e) => e.to_string(),
            }),
            CacheTask::Clear => Some(match link.store().clear() {
                Ok(()) => "cache cleared (entries in use stay)".to_string(),
                Err(e) => e.to_string(),
            }),
            CacheTask::Warm { setlist, rate_hz } => {
                warming.store(true, Ordering::Release);
                warm.cancel.store(false, Ordering::Relaxed);
                let message = match crate::setlist::load(Path::new(&setlist)) {
                    Err(e) => e.to_string(),
                    Ok(list) => match warm_setlist(&list, link, rate_hz, warm) {
                        Ok(r) if r.cancelled => "warming cancelled".to_string(),
                        Ok(r) => format!(
                            "warmed {} songs in {:.0} s",
                            r.prepared.songs.len(),
                            r.elapsed.as_secs_f64()
                        ),
                        Err(e) => e.to_string(),
                    },
                };
                warming.store(false, Ordering::Release);
                Some(message)
            }
        };
        let settings = link.store().settings();
        let fresh = CacheView {
            loaded: true,
            dir: link.dir().display().to_string(),
            used_bytes: link.store().ledger_bytes().unwrap_or(0),
            budget_bytes: settings.budget_bytes,
            free_bytes: free_bytes(link.dir()),
            policy: Some(link.policy()),
            lifetime: PersistedStats::read(link.dir()),
            message: String::new(),
            cached: None,
        };
        view.update(|v| {
            let message = message.unwrap_or_else(|| std::mem::take(&mut v.message));
            let cached = cached.or_else(|| v.cached.take());
            *v = CacheView {
                message,
                cached,
                ..fresh
            };
        });
    }
}

/// Free bytes on the disk holding `dir` (available to unprivileged users).
#[cfg(unix)]
#[allow(unsafe_code)]
// The fields are u64 on Linux, u32 on macOS: the conversions are for the
// latter.
#[allow(clippy::useless_conversion)]
fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: an all-zero `statvfs` is a valid value of this plain C
    // struct, which statvfs(3) fills in.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is NUL-terminated and outlives the call; `st` is a
    // valid, writable `statvfs`.
    let rc = unsafe { libc::statvfs(path.as_ptr(), &mut st) };
    (rc == 0).then(|| u64::from(st.f_bavail) * u64::from(st.f_frsize))
}

/// Free bytes on the disk holding `dir`: unknown here.
#[cfg(not(unix))]
fn free_bytes(_dir: &Path) -> Option<u64> {
    None
}
