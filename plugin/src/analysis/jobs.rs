//! ANALYSIS THREAD (one per plugin instance): analyses the loaded setlist's
//! songs one after another in the background (stored analyses are fetched
//! in well under a millisecond each), the songs the performer is about to
//! hear first. The control thread sets the setlist and the priorities and
//! reads the statuses; the thread runs [`analyze_song`] with one decoding
//! thread at the lowest OS priority, so playback's loader always goes first.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use parking_lot::{Condvar, Mutex};

use super::analyze::{analyze_song, AnalyzeOptions, AnalyzeProgress, SongAnalysis};
use crate::setlist::Song;

/// Where one song's analysis stands.
#[derive(Clone, Debug)]
pub enum SongStatus {
    /// Queued.
    Waiting,
    /// Being measured (the progress is in [`AnalysisJobs::progress`]).
    Analysing,
    /// Done (measured or fetched).
    Ready(Arc<SongAnalysis>),
    /// Could not be analysed (the reason, for the user).
    Failed(String),
}

struct Work {
    /// Changes with every [`AnalysisJobs::set_songs`].
    generation: u64,
    songs: Arc<Vec<Song>>,
    rate_hz: u32,
    options: AnalyzeOptions,
    queue: VecDeque<usize>,
    statuses: Vec<SongStatus>,
}

struct Inner {
    work: Mutex<Work>,
    wake: Condvar,
    stop: AtomicBool,
    /// Bumped on every status change.
    serial: AtomicU64,
    /// The running analysis's progress (replaced per song).
    progress: Mutex<Arc<AnalyzeProgress>>,
}

/// The analysis thread and its queue; dropping it stops the thread (a
/// running analysis is cancelled).
pub struct AnalysisJobs {
    inner: Arc<Inner>,
    thread: Option<JoinHandle<()>>,
}

impl AnalysisJobs {
    /// Starts the (idle) thread.
    ///
    /// # Errors
    /// The thread cannot be spawned.
    pub fn spawn() -> std::io::Result<Self> {
        let inner = Arc::new(Inner {
            work: Mutex::new(Work {
                generation: 0,
                songs: Arc::new(Vec::new()),
                rate_hz: 48_000,
                options: AnalyzeOptions::default(),
                queue: VecDeque::new(),
                statuses: Vec::new(),
            }),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
            serial: AtomicU64::new(0),
            progress: Mutex::new(Arc::new(AnalyzeProgress::default())),
        });
        let worker = Arc::clone(&inner);
        let thread = crate::thread::spawn(crate::thread::TraxThread::Analysis, false, move || {
            run(&worker);
        })?;
        Ok(Self {
            inner,
            thread: Some(thread),
        })
    }

    /// Analyses `songs` (a new setlist) at `rate_hz`, in order; forgets the
    /// previous setlist's work and cancels its running analysis.
    pub fn set_songs(&self, songs: Vec<Song>, rate_hz: u32, options: AnalyzeOptions) {
        let mut w = self.inner.work.lock();
        w.generation += 1;
        w.queue = (0..songs.len()).collect();
        w.statuses = vec![SongStatus::Waiting; songs.len()];
        w.songs = Arc::new(songs);
        w.rate_hz = rate_hz;
        w.options = options;
        self.inner
            .progress
            .lock()
            .cancel
            .store(true, Ordering::Relaxed);
        self.inner.serial.fetch_add(1, Ordering::AcqRel);
        self.inner.wake.notify_all();
    }

    /// Moves `songs` (in this order) to the front of the queue, if they are
    /// still waiting.
    pub fn prioritize(&self, songs: &[usize]) {
        let mut w = self.inner.work.lock();
        for &s in songs.iter().rev() {
            if let Some(i) = w.queue.iter().position(|&q| q == s) {
                if i > 0 {
                    w.queue.remove(i);
                    w.queue.push_front(s);
                }
            }
        }
    }

    /// Every song's status, and the serial they were read at (it changes
    /// with every status change).
    pub fn statuses(&self) -> (u64, Vec<SongStatus>) {
        let w = self.inner.work.lock();
        (
            self.inner.serial.load(Ordering::Acquire),
            w.statuses.clone(),
        )
    }

    /// The serial of the statuses (cheap: to see whether anything
    /// changed).
    pub fn serial(&self) -> u64 {
        self.inner.serial.load(Ordering::Acquire)
    }

    /// The running analysis's progress.
    pub fn progress(&self) -> Arc<AnalyzeProgress> {
        Arc::clone(&self.inner.progress.lock())
    }
}

impl Drop for AnalysisJobs {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::Release);
        self.inner
            .progress
            .lock()
            .cancel
            .store(true, Ordering::Relaxed);
        {
            let _w = self.inner.work.lock();
            self.inner.wake.notify_all();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(inner: &Inner) {
    loop {
        let (generation, song_index, songs, rate_hz, options, progress) = {
            let mut w = inner.work.lock();
            loop {
                if inner.stop.load(Ordering::Acquire) {
                    return;
                }
                if !w.queue.is_empty() {
                    break;
                }
                inner.wake.wait(&mut w);
            }
            let Some(s) = w.queue.pop_front() else {
                continue;
            };
            w.statuses[s] = SongStatus::Analysing;
            let progress = Arc::new(AnalyzeProgress::default());
            *inner.progress.lock() = Arc::clone(&progress);
            inner.serial.fetch_add(1, Ordering::AcqRel);
            (
                w.generation,
                s,
                Arc::clone(&w.songs),
                w.rate_hz,
                w.options.clone(),
                progress,
            )
        };
        let song = &songs[song_index];
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            analyze_song(song, rate_hz, &options, &progress)
        }));
        let status = match result {
            Ok(Ok(a)) => SongStatus::Ready(Arc::new(a)),
            // A new setlist (or the end) cancelled it: nothing to report.
            Ok(Err(super::analyze::AnalyzeError::Cancelled)) => continue,
            Ok(Err(e)) => {
                tracing::warn!(
                    "trax: cannot analyse song {} \"{}\": {e}",
                    song_index + 1,
                    song.name
                );
                SongStatus::Failed(e.to_string())
            }
            Err(p) => SongStatus::Failed(format!(
                "analysis panicked: {}",
                crate::thread::panic_message(&p)
            )),
        };
        let mut w = inner.work.lock();
        if w.generation == generation {
            w.statuses[song_index] = status;
            inner.serial.fetch_add(1, Ordering::AcqRel);
        }
    }
}
