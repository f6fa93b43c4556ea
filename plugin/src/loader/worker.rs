//! LOADER THREADS: the job queue and the decoding jobs.
//!
//! Jobs wait in a priority queue (urgent > normal > background, then first
//! come first served). For every queued job one task is spawned on the
//! loader's private rayon pool; a task pops the *best* job at the moment it
//! runs, so priorities hold however tasks are scheduled. A job fills one
//! slot with one chunk, publishing frames packet by packet (progressive
//! slots). An urgent job stops after [`HEAD_FRAMES`] if other urgent jobs
//! wait, and requeues the rest of its chunk at normal priority: all stems of
//! a starting song get their first frames before any of them gets a whole
//! chunk.

use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crossbeam_channel::Sender;
use parking_lot::{Condvar, Mutex};

use super::cursor::StemCursor;
use super::error::StemError;
use super::prepare::{PreparedSetlist, ProblemKind, Severity, StemProblem};
use super::source::{Damage, SourceReader};
use crate::bridge::messages::stem_status;
use crate::bridge::{ChunkKey, SlotPool, CHUNK_FRAMES};

/// Frames an urgent job decodes before it lets other urgent jobs run:
/// 4096 frames ≈ 85 ms at 48 kHz, twice the start gate.
pub const HEAD_FRAMES: u32 = 4096;

/// Frames decoded per read from a cursor before publishing (≈ one packet).
const READ_FRAMES: usize = 4096;

/// Open cursors kept for sequential reads: at most this many.
const MAX_CURSORS: usize = 256;

/// Job priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// Cache warming, next-song preload.
    Background = 0,
    /// Read-ahead inside a playing window.
    Normal = 1,
    /// Seek targets and song starts.
    Urgent = 2,
}

/// What a loaded setlist shares with the workers.
pub struct Loaded {
    /// The probed setlist.
    pub prepared: Arc<PreparedSetlist>,
    /// The slots.
    pub pool: Arc<SlotPool>,
    /// Per flat stem index: a `stem_status` value.
    pub stem_status: Arc<[std::sync::atomic::AtomicU8]>,
}

/// One chunk to decode into one slot.
#[derive(Clone)]
pub struct Job {
    /// Priority.
    pub priority: Priority,
    /// Arrival order.
    pub seq: u64,
    /// The chunk.
    pub key: ChunkKey,
    /// The slot to fill (its key already set by the scheduler).
    pub slot: u32,
    /// Frames of the chunk already written (a requeued job).
    pub resume_frame: u32,
    /// The setlist the key belongs to.
    pub loaded: Arc<Loaded>,
    /// The chunk decoded so far, kept for the cache (interleaved; empty
    /// when the chunk is not to be cached).
    pub cache_copy: Vec<f32>,
}

impl PartialEq for Job {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == CmpOrdering::Equal
    }
}
impl Eq for Job {}
impl PartialOrd for Job {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for Job {
    fn cmp(&self, other: &Self) -> CmpOrdering {
        self.priority
            .cmp(&other.priority)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

/// A job finished (its slot is complete, possibly with silence).
#[derive(Clone, Copy, Debug)]
pub struct Done {
    /// The chunk.
    pub key: ChunkKey,
    /// Its slot.
    pub slot: u32,
}

/// Counts loader progress so offline renders can wait for it.
#[derive(Default)]
pub struct Progress {
    count: Mutex<u64>,
    changed: Condvar,
}

impl Progress {
    /// Records progress and wakes waiters.
    pub fn bump(&self) {
        *self.count.lock() += 1;
        self.changed.notify_all();
    }

    /// Waits until progress is made or `timeout` passes.
    pub fn wait(&self, timeout: std::time::Duration) {
        let mut count = self.count.lock();
        let seen = *count;
        let deadline = std::time::Instant::now() + timeout;
        while *count == seen {
            if self.changed.wait_until(&mut count, deadline).timed_out() {
                break;
            }
        }
    }
}

/// Delays the loader adds on purpose (fault injection for tests and
/// demonstrations; zero in normal use).
#[derive(Clone, Copy, Debug, Default)]
pub struct FaultDelays {
    /// After every decoded block of ≤ 4096 frames: slow storage.
    pub read: std::time::Duration,
    /// Before a source is opened (not when an open one is reused): a cold
    /// disk or a network share's first access.
    pub open: std::time::Duration,
}

/// State shared by all loader tasks.
pub struct Workers {
    pool: Arc<rayon::ThreadPool>,
    queue: Mutex<BinaryHeap<Job>>,
    cursors: Mutex<Vec<(ChunkKey, StemCursor)>>,
    done_tx: Sender<Done>,
    problems_tx: Sender<StemProblem>,
    progress: Arc<Progress>,
    waker: Arc<crate::bridge::Waker>,
    next_seq: std::sync::atomic::AtomicU64,
    delays: FaultDelays,
}

impl Workers {
    /// Shares `pool` for decoding; finished jobs go to `done_tx` (and wake
    /// the coordinator through `waker`), problems to `problems_tx`.
    /// `delays` are added on purpose (fault injection; zero in normal
    /// use).
    pub fn new(
        pool: Arc<rayon::ThreadPool>,
        done_tx: Sender<Done>,
        problems_tx: Sender<StemProblem>,
        progress: Arc<Progress>,
        waker: Arc<crate::bridge::Waker>,
        delays: FaultDelays,
    ) -> Arc<Self> {
        Arc::new(Self {
            pool,
            queue: Mutex::new(BinaryHeap::new()),
            cursors: Mutex::new(Vec::new()),
            done_tx,
            problems_tx,
            progress,
            waker,
            next_seq: std::sync::atomic::AtomicU64::new(0),
            delays,
        })
    }

    /// Queues a job and spawns a task to run the best queued job.
    pub fn submit(self: &Arc<Self>, mut job: Job) {
        job.seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        self.queue.lock().push(job);
        let me = Arc::clone(self);
        self.pool.spawn(move || me.run_best());
    }

    /// Removes queued jobs for which `stale` is true (made stale by a seek
    /// or song change) before they are decoded; returns their slots.
    pub fn cancel(&self, mut stale: impl FnMut(&Job) -> bool) -> Vec<u32> {
        let mut queue = self.queue.lock();
        let mut cancelled = Vec::new();
        let kept: Vec<Job> = std::mem::take(&mut *queue)
            .into_vec()
            .into_iter()
            .filter(|j| {
                if stale(j) {
                    cancelled.push(j.slot);
                    false
                } else {
                    true
                }
            })
            .collect();
        *queue = kept.into();
        cancelled
    }

    /// Drops every open cursor (a new setlist was loaded).
    pub fn clear_cursors(&self) {
        self.cursors.lock().clear();
    }

    fn run_best(self: Arc<Self>) {
        let Some(job) = self.queue.lock().pop() else {
            return;
        };
        let key = job.key;
        let slot = job.slot;
        let loaded = Arc::clone(&job.loaded);
        let outcome = catch_unwind(AssertUnwindSafe(|| self.run(job)));
        let requeued = match outcome {
            Ok(requeued) => requeued,
            Err(panic) => {
                let path = loaded
                    .prepared
                    .stem(key.song() as usize, key.stem() as usize)
                    .map(|s| s.path.clone())
                    .unwrap_or_default();
                let err = StemError::Panicked {
                    path,
                    message: crate::thread::panic_message(&panic),
                };
                self.fail_stem(&loaded, key, &err);
                if let Some(s) = loaded.pool.get(slot) {
                    s.write_silence(0, CHUNK_FRAMES);
                }
                false
            }
        };
        self.progress.bump();
        if !requeued {
            let _ = self.done_tx.send(Done { key, slot });
            self.waker.wake();
        }
    }

    fn fail_stem(&self, loaded: &Loaded, key: ChunkKey, err: &StemError) {
        let (song, stem) = (key.song() as usize, key.stem() as usize);
        let flat = loaded.prepared.flat_index(song, stem);
        if let Some(s) = loaded.stem_status.get(flat) {
            if s.swap(stem_status::FAILED, Ordering::Relaxed) == stem_status::FAILED {
                return;
            }
        }
        let _ = self.problems_tx.send(StemProblem {
            song,
            stem,
            severity: Severity::Skipped,
            kind: ProblemKind::Unplayable,
            message: err.to_string(),
        });
    }

    fn take_cursor(&self, key: ChunkKey, frame: u64) -> Option<StemCursor> {
        let mut cursors = self.cursors.lock();
        let same_stem = |k: &ChunkKey| {
            k.epoch() == key.epoch() && k.song() == key.song() && k.stem() == key.stem()
        };
        let i = cursors
            .iter()
            .position(|(k, c)| same_stem(k) && c.position() == frame)
            .or_else(|| cursors.iter().position(|(k, _)| same_stem(k)))?;
        Some(cursors.remove(i).1)
    }

    fn put_cursor(&self, key: ChunkKey, cursor: StemCursor) {
        let mut cursors = self.cursors.lock();
        if cursors.len() >= MAX_CURSORS {
            cursors.remove(0);
        }
        cursors.push((key, cursor));
    }

    /// Runs one job; returns true if it was requeued to finish later.
    fn run(self: &Arc<Self>, mut job: Job) -> bool {
        let loaded = Arc::clone(&job.loaded);
        let loaded = &loaded;
        let key = job.key;
        let (song, stem_index) = (key.song() as usize, key.stem() as usize);
        let Some(slot) = loaded.pool.get(job.slot) else {
            return false;
        };
        let Some(stem) = loaded.prepared.stem(song, stem_index) else {
            return false;
        };
        let chunk_start = key.chunk() as u64 * CHUNK_FRAMES as u64;
        let chunk_frames = stem
            .length_frames
            .saturating_sub(chunk_start)
            .min(CHUNK_FRAMES as u64) as u32;
        let flat = loaded.prepared.flat_index(song, stem_index);
        let failed = loaded
            .stem_status
            .get(flat)
            .is_none_or(|s| s.load(Ordering::Relaxed) == stem_status::FAILED);
        if failed || stem.info.is_none() {
            slot.write_silence(
                job.resume_frame,
                chunk_frames.saturating_sub(job.resume_frame),
            );
            return false;
        }
        // The cache: a hit fills the slot at once; on a miss the decoded
        // chunk is kept for the cache writer.
        let cache = loaded.prepared.cache.as_ref().and_then(|link| {
            let entry = loaded.prepared.cache_entries.get(flat)?.as_ref()?;
            link.covers(key.chunk(), loaded.prepared.engine_rate_hz)
                .then_some((link, entry))
        });
        if let (Some((link, entry)), 0) = (cache, job.resume_frame) {
            let mut hit = Vec::new();
            if link.read(entry, key.chunk(), chunk_frames, &mut hit) {
                slot.write_frames(0, &hit);
                return false;
            }
        }
        let mut cache_copy = std::mem::take(&mut job.cache_copy);
        let decode_start = std::time::Instant::now();
        let start = chunk_start + job.resume_frame as u64;
        let cursor = match self.take_cursor(key, start) {
            Some(c) => Ok(c),
            None => {
                if !self.delays.open.is_zero() {
                    std::thread::sleep(self.delays.open);
                }
                SourceReader::open(&stem.path)
                    .and_then(|s| StemCursor::new(s, loaded.prepared.engine_rate_hz))
            }
        };
        let mut cursor = match cursor.and_then(|mut c| c.seek(start).map(|_| c)) {
            Ok(c) => c,
            Err(e) => {
                self.fail_stem(loaded, key, &e);
                slot.write_silence(
                    job.resume_frame,
                    chunk_frames.saturating_sub(job.resume_frame),
                );
                return false;
            }
        };
        let mut written = job.resume_frame;
        let mut buf = Vec::with_capacity(READ_FRAMES * 2);
        let mut requeue = false;
        while written < chunk_frames {
            buf.clear();
            let want = ((chunk_frames - written) as usize).min(READ_FRAMES);
            match cursor.read(&mut buf, want) {
                Ok(0) => break,
                Ok(n) => {
                    if !self.delays.read.is_zero() {
                        std::thread::sleep(self.delays.read);
                    }
                    slot.write_frames(written, &buf);
                    if cache.is_some() {
                        cache_copy.extend_from_slice(&buf);
                    }
                    written += n as u32;
                    self.progress.bump();
                }
                Err(e) => {
                    self.report_damage(key, ProblemKind::Corrupt, &e.to_string());
                    break;
                }
            }
            if job.priority == Priority::Urgent
                && written >= HEAD_FRAMES
                && written < chunk_frames
                && self
                    .queue
                    .lock()
                    .peek()
                    .is_some_and(|j| j.priority == Priority::Urgent)
            {
                requeue = true;
                break;
            }
        }
        let damage = cursor.source_mut().take_damage();
        let damaged = !damage.is_empty();
        for d in damage {
            let kind = match d {
                Damage::Hole { .. } | Damage::NonFinite { .. } => ProblemKind::Corrupt,
                Damage::Truncated { .. } => ProblemKind::Truncated,
            };
            self.report_damage(key, kind, &format!("{}: {d}", stem.path.display()));
        }
        if !requeue && written < chunk_frames {
            slot.write_silence(written, chunk_frames - written);
        }
        self.put_cursor(key, cursor);
        if requeue {
            self.submit(Job {
                priority: Priority::Normal,
                resume_frame: written,
                cache_copy,
                ..job
            });
        } else if let Some((link, entry)) = cache {
            // Only a whole, undamaged chunk decoded in one piece of order
            // goes to the cache (damage is the source's, not to be frozen).
            let channels = stem.channels().max(1) as usize;
            if job.resume_frame == 0 && written == chunk_frames {
                link.note_decode(
                    entry.id(),
                    chunk_frames as usize * channels,
                    decode_start.elapsed().as_secs_f64(),
                );
            }
            if !damaged
                && !loaded.prepared.cache_read_only
                && written == chunk_frames
                && cache_copy.len() == chunk_frames as usize * channels
                && link.keeps(entry.id())
            {
                link.write(
                    Arc::clone(entry),
                    key.chunk(),
                    cache_copy,
                    loaded.prepared.cache_wait,
                );
            }
        }
        requeue
    }

    fn report_damage(&self, key: ChunkKey, kind: ProblemKind, message: &str) {
        let _ = self.problems_tx.send(StemProblem {
            song: key.song() as usize,
            stem: key.stem() as usize,
            severity: Severity::Damaged,
            kind,
            message: message.to_string(),
        });
    }
}
