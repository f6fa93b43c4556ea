//! LOADER THREADS: how the loader uses the chunk cache ([`crate::cache`]).
//!
//! A decoding job first asks the stem's cache entry for its chunk (a hit
//! fills the slot at once from a verified file); on a miss it decodes from
//! the source as before, keeps a copy of the chunk, and hands it to the
//! cache writer: one background thread that encodes and writes, so cache
//! writes never delay a decode (they cost 124–465× real time per core, off
//! the decoding pool). Any cache failure (an unwritable or vanished folder,
//! a full disk, a damaged file) means playing from the source, with one
//! warning per problem kind, never wrong audio; after a failed write the
//! writer pauses ([`WRITE_RETRY_PAUSE`]) instead of encoding chunks a full
//! or read-only disk cannot take.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_channel::{Sender, TrySendError};

use super::prepare::PreparedStem;
use crate::bridge::CHUNK_FRAMES;
pub use crate::cache::CachePolicy;
use crate::cache::{CacheError, ChunkStore, Entry, KeyId, Miss, StemKey};

pub use super::cache_stats::{CacheStats, PersistedStats, STATS_FILE};

/// Chunk copies waiting for the cache writer at most; more are dropped
/// (counted): 64 × 128 KiB = 8 MiB.
pub const WRITE_QUEUE_CHUNKS: usize = 64;

/// After a failed cache write, chunks handed to the writer are dropped
/// (counted as write errors) for this long before it tries again.
pub const WRITE_RETRY_PAUSE: std::time::Duration = std::time::Duration::from_secs(2);

/// [`CachePolicy::Auto`] caches a stem when the cache reads chunks more
/// than this many times faster than its source decodes them.
pub const AUTO_MARGIN: f64 = 1.25;

/// Cache read speed assumed when [`calibrate_read_sps`] cannot run, in
/// samples per second: 400× real time for stereo at 48 kHz (the low end of
/// what `cargo test -p trax corpus_figures` measures for FLAC chunks).
pub const AUTO_PRIOR_READ_SPS: f64 = 400.0 * 48_000.0 * 2.0;

/// Environment variable that overrides the default cache folder of the
/// plugin and `trax render`; `off` turns the cache off.
pub const CACHE_DIR_ENV: &str = "TRAX_CACHE_DIR";

/// Cache settings of a player.
#[derive(Clone, Debug)]
pub struct CacheConfig {
    /// The cache folder (see [`ChunkStore::default_dir`]).
    pub dir: PathBuf,
    /// What to cache.
    pub policy: CachePolicy,
}

impl CacheConfig {
    /// The default cache of the plugin and `trax render`: the folder from
    /// [`CACHE_DIR_ENV`] or the platform's cache folder, and the policy in
    /// that folder's settings (first 60 s if none). `None` when
    /// [`CACHE_DIR_ENV`] is `off` or no folder is known.
    pub fn from_environment() -> Option<CacheConfig> {
        let dir = match std::env::var_os(CACHE_DIR_ENV) {
            Some(v) if v == "off" => return None,
            Some(v) if !v.is_empty() => PathBuf::from(v),
            _ => ChunkStore::default_dir()?,
        };
        Some(CacheConfig::for_dir(dir))
    }

    /// `dir` with the policy of its settings (first 60 s if none or
    /// unreadable).
    pub fn for_dir(dir: PathBuf) -> CacheConfig {
        let policy = crate::cache::FolderSettings::read(&dir)
            .policy
            .unwrap_or_default();
        CacheConfig { dir, policy }
    }
}

struct WriteJob {
    entry: Arc<Entry>,
    index: u32,
    samples: Vec<f32>,
}

/// The loader's handle on the cache: the store, the policy, the writer
/// thread and the counters. Share it between players with `Arc`.
pub struct CacheLink {
    store: ChunkStore,
    policy: crate::cache::policy::AtomicPolicy,
    stats: Arc<CacheStats>,
    writer: Sender<WriteJob>,
    warned_entry: AtomicBool,
    warned_read: AtomicBool,
    /// What [`CacheLink::persist_stats`] has added to `stats.json` so far.
    persisted: parking_lot::Mutex<PersistedStats>,
    /// [`CachePolicy::Auto`]: per entry, its source's decode speed
    /// (samples per second, all channels; moving average).
    decode_sps: parking_lot::Mutex<std::collections::HashMap<KeyId, f64>>,
    /// Cache read speed, samples per second (moving average; f64 bits).
    read_sps: AtomicU64,
}

impl Drop for CacheLink {
    fn drop(&mut self) {
        self.persist_stats();
    }
}

impl std::fmt::Debug for CacheLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheLink")
            .field("dir", &self.store.dir())
            .field("policy", &self.policy())
            .field("stats", &self.stats)
            .finish()
    }
}

impl CacheLink {
    /// The process's link for `config`: one per folder and policy, shared
    /// by every player (plugin instances) while any holds it; opened on
    /// first use. Errors as [`CacheLink::open`].
    pub fn shared(config: &CacheConfig) -> Result<Arc<CacheLink>, CacheError> {
        type Links = Vec<(PathBuf, String, std::sync::Weak<CacheLink>)>;
        static LINKS: parking_lot::Mutex<Links> = parking_lot::Mutex::new(Vec::new());
        let mut links = LINKS.lock();
        links.retain(|(_, _, w)| w.strong_count() > 0);
        let policy = config.policy.to_string();
        if let Some(link) = links
            .iter()
            .find(|(d, p, _)| *d == config.dir && *p == policy)
            .and_then(|(_, _, w)| w.upgrade())
        {
            return Ok(link);
        }
        let link = CacheLink::open(config)?;
        links.push((config.dir.clone(), policy, Arc::downgrade(&link)));
        Ok(link)
    }

    /// Opens (creating if needed) the cache folder and starts the writer.
    ///
    /// # Errors
    /// The folder cannot be created or used ([`CacheError`] names it and the
    /// cause); play from the source then.
    pub fn open(config: &CacheConfig) -> Result<Arc<CacheLink>, CacheError> {
        let store = ChunkStore::open(&config.dir)?;
        let stats = Arc::new(CacheStats::default());
        let (writer, rx) = crossbeam_channel::bounded::<WriteJob>(WRITE_QUEUE_CHUNKS);
        let writer_stats = Arc::clone(&stats);
        let dir = config.dir.clone();
        crate::thread::spawn(crate::thread::TraxThread::CacheWriter, false, move || {
                let mut warned = false;
                // After a failed write (full disk, read-only folder), chunks
                // are not even encoded for a while: retried after a pause.
                let mut resume_at: Option<std::time::Instant> = None;
                // Ends when the link (the only sender) is dropped.
                for job in rx {
                    if resume_at.is_some_and(|t| std::time::Instant::now() < t) {
                        writer_stats.pending_writes.fetch_sub(1, Ordering::AcqRel);
                        CacheStats::add(&writer_stats.write_errors, 1);
                        continue;
                    }
                    resume_at = None;
                    let written = job.entry.write_chunk(job.index, &job.samples);
                    writer_stats.pending_writes.fetch_sub(1, Ordering::AcqRel);
                    match written {
                        Ok(w) => {
                            CacheStats::add(&writer_stats.writes, 1);
                            CacheStats::add(&writer_stats.written_bytes, w.bytes_on_disk);
                            CacheStats::add(
                                &writer_stats.evicted_chunks,
                                w.evicted.chunks_removed,
                            );
                            CacheStats::add(&writer_stats.evicted_bytes, w.evicted.freed_bytes);
                        }
                        // Full of what is playing: a budget doing its job.
                        Err(CacheError::OverBudget { .. }) => {
                            CacheStats::add(&writer_stats.over_budget, 1);
                        }
                        Err(CacheError::Inexact { .. }) => {
                            CacheStats::add(&writer_stats.inexact, 1);
                        }
                        Err(e) => {
                            CacheStats::add(&writer_stats.write_errors, 1);
                            resume_at = Some(std::time::Instant::now() + WRITE_RETRY_PAUSE);
                            if !warned {
                                warned = true;
                                tracing::warn!(
                                    "chunk cache in {} cannot be written ({e}); playing from the sources",
                                    dir.display()
                                );
                            }
                        }
                    }
                }
            })
            .map_err(|e| CacheError::Io {
                path: config.dir.clone(),
                action: "start the cache writer for",
                source: e,
            })?;
        Ok(Arc::new(CacheLink {
            store,
            policy: crate::cache::policy::AtomicPolicy::new(config.policy),
            stats,
            writer,
            warned_entry: AtomicBool::new(false),
            warned_read: AtomicBool::new(false),
            persisted: parking_lot::Mutex::new(PersistedStats::default()),
            decode_sps: parking_lot::Mutex::new(std::collections::HashMap::new()),
            read_sps: AtomicU64::new(
                match config.policy {
                    CachePolicy::Auto(_) => calibrate_read_sps(),
                    _ => AUTO_PRIOR_READ_SPS,
                }
                .to_bits(),
            ),
        }))
    }

    /// The cache folder.
    pub fn dir(&self) -> &Path {
        self.store.dir()
    }

    /// The store (for statistics, verify and clear).
    pub fn store(&self) -> &ChunkStore {
        &self.store
    }

    /// The policy.
    pub fn policy(&self) -> CachePolicy {
        self.policy.load()
    }

    /// Sets the policy: for this link (every player using it, from their
    /// next chunk) and as the folder's default for players opened later.
    ///
    /// # Errors
    /// The folder's settings cannot be written (the link's policy is set
    /// anyway).
    pub fn set_policy(&self, policy: CachePolicy) -> Result<(), CacheError> {
        self.policy.store(policy);
        self.store.set_policy(Some(policy))
    }

    /// Adds the counters gathered since the last call to the folder's
    /// `stats.json` (also done when the link is dropped). Best effort: a
    /// folder gone or read-only keeps no statistics.
    pub fn persist_stats(&self) {
        let s = &self.stats;
        let now = PersistedStats {
            hits: s.hits.load(Ordering::Relaxed),
            misses: s.misses.load(Ordering::Relaxed),
            corrupt: s.corrupt.load(Ordering::Relaxed),
            writes: s.writes.load(Ordering::Relaxed),
            written_bytes: s.written_bytes.load(Ordering::Relaxed),
            evicted_chunks: s.evicted_chunks.load(Ordering::Relaxed),
            evicted_bytes: s.evicted_bytes.load(Ordering::Relaxed),
        };
        let mut done = self.persisted.lock();
        let delta = PersistedStats {
            hits: now.hits - done.hits,
            misses: now.misses - done.misses,
            corrupt: now.corrupt - done.corrupt,
            writes: now.writes - done.writes,
            written_bytes: now.written_bytes - done.written_bytes,
            evicted_chunks: now.evicted_chunks - done.evicted_chunks,
            evicted_bytes: now.evicted_bytes - done.evicted_bytes,
        };
        if delta != PersistedStats::default() && delta.add_to(self.store.dir()).is_ok() {
            *done = now;
        }
    }

    /// The counters.
    pub fn stats(&self) -> &Arc<CacheStats> {
        &self.stats
    }

    /// The cache entry of `stem` at `engine_rate_hz`, or `None` if the stem
    /// did not probe or the entry cannot be made (warned once).
    pub fn entry_for(&self, stem: &PreparedStem, engine_rate_hz: u32) -> Option<Arc<Entry>> {
        let info = stem.info.as_ref()?;
        let origin = info.sample_origin(engine_rate_hz);
        let channels = u8::try_from(stem.channels()).ok()?;
        let made = StemKey::for_file(&stem.path, engine_rate_hz, CHUNK_FRAMES, channels, origin)
            .map_err(|e| e.to_string())
            .and_then(|key| self.store.entry(&key).map_err(|e| e.to_string()));
        match made {
            Ok(entry) => Some(Arc::new(entry)),
            Err(e) => {
                if !self.warned_entry.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        "chunk cache in {}: cannot use it for {} ({e}); playing from the source",
                        self.store.dir().display(),
                        stem.path.display()
                    );
                }
                None
            }
        }
    }

    /// Whether chunk `index` is in the span the policy caches.
    pub fn covers(&self, index: u32, engine_rate_hz: u32) -> bool {
        self.policy().covers(index, engine_rate_hz)
    }

    /// Records that `samples` (frames × channels) of `entry`'s source took
    /// `secs` to seek and decode (a whole chunk, from the source).
    pub fn note_decode(&self, entry: KeyId, samples: usize, secs: f64) {
        if secs > 0.0 && samples > 0 {
            let sps = samples as f64 / secs;
            let mut speeds = self.decode_sps.lock();
            let v = speeds.entry(entry).or_insert(sps);
            *v = 0.7 * *v + 0.3 * sps;
        }
    }

    fn note_read(&self, samples: usize, secs: f64) {
        if secs > 0.0 && samples > 0 {
            let sps = samples as f64 / secs;
            let old = f64::from_bits(self.read_sps.load(Ordering::Relaxed));
            let new = 0.9 * old + 0.1 * sps;
            self.read_sps.store(new.to_bits(), Ordering::Relaxed);
        }
    }

    /// The cache's read speed, samples per second (measured on hits; before
    /// any, [`calibrate_read_sps`] under `auto`, else
    /// [`AUTO_PRIOR_READ_SPS`]).
    pub fn read_sps(&self) -> f64 {
        f64::from_bits(self.read_sps.load(Ordering::Relaxed))
    }

    /// Whether a decoded chunk of `entry` (in the span [`Self::covers`])
    /// goes to the cache: always, except under [`CachePolicy::Auto`] for a
    /// stem whose source decodes within [`AUTO_MARGIN`] of the cache's
    /// speed (per sample).
    pub fn keeps(&self, entry: KeyId) -> bool {
        match self.policy() {
            CachePolicy::Auto(_) => self
                .decode_sps
                .lock()
                .get(&entry)
                .is_none_or(|&sps| sps * AUTO_MARGIN < self.read_sps()),
            _ => true,
        }
    }

    /// [`CachePolicy::Auto`]'s figures: per entry measured, its source's
    /// decode speed (samples per second) and whether it is cached.
    pub fn auto_decisions(&self) -> Vec<(KeyId, f64, bool)> {
        let read = self.read_sps();
        self.decode_sps
            .lock()
            .iter()
            .map(|(&id, &sps)| (id, sps, sps * AUTO_MARGIN < read))
            .collect()
    }

    /// Looks chunk `index` up: `true` and `out` filled (interleaved,
    /// `frames × channels`) on a hit. Misses and damage are counted; a
    /// damaged file has been removed and the caller decodes the source.
    pub fn read(&self, entry: &Entry, index: u32, frames: u32, out: &mut Vec<f32>) -> bool {
        let start = std::time::Instant::now();
        match entry.read_chunk(index, frames, out) {
            Ok(()) => {
                self.note_read(out.len(), start.elapsed().as_secs_f64());
                CacheStats::add(&self.stats.hits, 1);
                true
            }
            Err(Miss::Absent) => {
                CacheStats::add(&self.stats.misses, 1);
                false
            }
            Err(e) => {
                CacheStats::add(&self.stats.misses, 1);
                if matches!(e, Miss::Corrupt { .. }) {
                    CacheStats::add(&self.stats.corrupt, 1);
                    tracing::warn!("{e}; decoding the source instead");
                } else if !self.warned_read.swap(true, Ordering::Relaxed) {
                    tracing::warn!("{e}; playing from the sources");
                }
                false
            }
        }
    }

    /// Hands a decoded chunk to the writer. With `wait` (offline renders,
    /// `trax warm`) it waits for room in the queue; otherwise (realtime
    /// playback, where a decoding thread must never wait for the cache) a
    /// chunk the writer has no room for is dropped and counted: it is
    /// written the next time it is decoded.
    pub fn write(&self, entry: Arc<Entry>, index: u32, samples: Vec<f32>, wait: bool) {
        self.stats.pending_writes.fetch_add(1, Ordering::AcqRel);
        let job = WriteJob {
            entry,
            index,
            samples,
        };
        let sent = if wait {
            self.writer.send(job).is_ok()
        } else {
            match self.writer.try_send(job) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => false,
            }
        };
        if !sent {
            self.stats.pending_writes.fetch_sub(1, Ordering::AcqRel);
            CacheStats::add(&self.stats.dropped_writes, 1);
        }
    }

    /// Waits until every queued chunk is written (tests, `trax warm`).
    /// Polls every millisecond, up to `timeout`; returns whether it is.
    pub fn flush(&self, timeout: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        while self.stats.pending_writes.load(Ordering::Acquire) > 0 {
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        true
    }
}

/// Measures this machine's cache read speed (samples per second) before
/// any hit: builds one 16-bit stereo chunk of music-like material in
/// memory and times the best of three full reads (checks, FLAC decode,
/// checksums), as [`CacheLink::read`] does minus the file read. Takes a
/// few milliseconds; [`CachePolicy::Auto`] starts from it, then follows
/// the hits. [`AUTO_PRIOR_READ_SPS`] if the chunk cannot be built.
pub fn calibrate_read_sps() -> f64 {
    use crate::cache::chunk;
    let frames = CHUNK_FRAMES as usize;
    let samples: Vec<f32> = (0..frames * 2)
        .map(|i| {
            let t = (i / 2) as f32 / 48_000.0;
            let env = 0.5 + 0.5 * (t * 3.0).sin();
            let v = env
                * (0.3 * (t * 220.0 * std::f32::consts::TAU).sin()
                    + 0.1 * (t * 1370.0 * std::f32::consts::TAU).sin())
                + 0.02 * ((i as f32 * 12.9898).sin() * 43_758.547).fract();
            (v * 32_768.0).round() / 32_768.0
        })
        .collect();
    let Ok(built) = chunk::build(&samples, 2, Some(16), 1, 0, 48_000, Default::default()) else {
        return AUTO_PRIOR_READ_SPS;
    };
    let expect = chunk::Expect {
        key_hash: 1,
        index: 0,
        channels: 2,
        frames: Some(CHUNK_FRAMES),
        max_frames: CHUNK_FRAMES,
    };
    let mut out = Vec::new();
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let start = std::time::Instant::now();
        if chunk::read(built.bytes.clone(), &expect, &mut out).is_err() {
            return AUTO_PRIOR_READ_SPS;
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    if best > 0.0 {
        (frames * 2) as f64 / best
    } else {
        AUTO_PRIOR_READ_SPS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_and_print() {
        for (text, policy) in [
            ("first:30", CachePolicy::FirstSecs(30.0)),
            ("first", CachePolicy::FirstSecs(60.0)),
            ("whole", CachePolicy::WholeSong),
            ("auto:90.5", CachePolicy::Auto(90.5)),
            (" auto ", CachePolicy::Auto(60.0)),
        ] {
            assert_eq!(text.parse::<CachePolicy>(), Ok(policy), "{text:?}");
            assert_eq!(policy.to_string().parse::<CachePolicy>(), Ok(policy));
        }
        for bad in ["", "all", "first:-1", "first:x", "whole:3", "auto:nan"] {
            assert!(bad.parse::<CachePolicy>().is_err(), "{bad:?}");
        }
        let first = CachePolicy::FirstSecs(1.0);
        assert!(first.covers(0, 48_000) && first.covers(2, 48_000));
        assert!(!first.covers(3, 48_000), "chunk 3 starts at 1.02 s");
        assert!(CachePolicy::WholeSong.covers(u32::MAX, 48_000));
    }
}
