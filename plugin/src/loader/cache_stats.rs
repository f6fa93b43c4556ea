//! LOADER THREADS: the chunk cache's counters: per link since it opened
//! ([`CacheStats`]), and summed over every process that used a folder
//! ([`PersistedStats`], in its `stats.json`).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Cache counters, since the link was opened.
#[derive(Debug, Default)]
pub struct CacheStats {
    /// Chunks served from the cache.
    pub hits: AtomicU64,
    /// Chunks the cache did not have (decoded from the source).
    pub misses: AtomicU64,
    /// Damaged cache files found (removed; decoded from the source).
    pub corrupt: AtomicU64,
    /// Chunks written.
    pub writes: AtomicU64,
    /// Bytes written.
    pub written_bytes: AtomicU64,
    /// Writes that failed (folder gone, disk full, read-only).
    pub write_errors: AtomicU64,
    /// Chunks not written because the budget was full of entries in use.
    pub over_budget: AtomicU64,
    /// Chunks not written because they cannot be stored exactly (peaks of
    /// +6 dBFS and more): always decoded.
    pub inexact: AtomicU64,
    /// Chunks evicted to make room.
    pub evicted_chunks: AtomicU64,
    /// Bytes evicted to make room.
    pub evicted_bytes: AtomicU64,
    /// Chunk copies dropped because the writer was behind.
    pub dropped_writes: AtomicU64,
    /// Chunks queued or being written now.
    pub pending_writes: AtomicU64,
}

impl CacheStats {
    pub(super) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Hits / (hits + misses), 0 before any lookup.
    pub fn hit_rate(&self) -> f64 {
        let hits = self.hits.load(Ordering::Relaxed) as f64;
        let misses = self.misses.load(Ordering::Relaxed) as f64;
        if hits + misses == 0.0 {
            0.0
        } else {
            hits / (hits + misses)
        }
    }
}

/// Counters summed over every process that used a cache folder, kept in
/// its `stats.json` (added to when a [`CacheLink`] is dropped).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PersistedStats {
    /// Chunks served from the cache.
    pub hits: u64,
    /// Chunks looked up and not found (or damaged).
    pub misses: u64,
    /// Damaged files found and removed.
    pub corrupt: u64,
    /// Chunks written.
    pub writes: u64,
    /// Bytes written.
    pub written_bytes: u64,
    /// Chunks evicted to keep the budget.
    #[serde(default)]
    pub evicted_chunks: u64,
    /// Bytes evicted to keep the budget.
    #[serde(default)]
    pub evicted_bytes: u64,
}

impl PersistedStats {
    /// Hits / (hits + misses), 0 before any lookup.
    pub fn hit_rate(&self) -> f64 {
        let looked = self.hits.saturating_add(self.misses);
        if looked == 0 {
            0.0
        } else {
            self.hits as f64 / looked as f64
        }
    }

    /// Reads `dir`'s `stats.json` (zeros if absent or unreadable).
    pub fn read(dir: &Path) -> PersistedStats {
        std::fs::read(dir.join(STATS_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Adds `self` to `dir`'s `stats.json`, under an exclusive lock on
    /// `stats.lock` (several processes may share the folder); written as a
    /// temporary file + rename.
    pub fn add_to(&self, dir: &Path) -> std::io::Result<()> {
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("stats.lock"))?;
        lock.lock()?;
        let old = PersistedStats::read(dir);
        // Saturating: the file is anyone's to edit (a count near u64::MAX
        // overflowed here: found by the cache_folder fuzz target).
        let sum = PersistedStats {
            hits: old.hits.saturating_add(self.hits),
            misses: old.misses.saturating_add(self.misses),
            corrupt: old.corrupt.saturating_add(self.corrupt),
            writes: old.writes.saturating_add(self.writes),
            written_bytes: old.written_bytes.saturating_add(self.written_bytes),
            evicted_chunks: old.evicted_chunks.saturating_add(self.evicted_chunks),
            evicted_bytes: old.evicted_bytes.saturating_add(self.evicted_bytes),
        };
        let tmp = dir.join(format!("stats.json.{}.tmp", std::process::id()));
        let json = serde_json::to_vec_pretty(&sum).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, json)?;
        std::fs::rename(&tmp, dir.join(STATS_FILE))?;
        lock.unlock()
    }
}

/// The statistics file in a cache folder.
pub const STATS_FILE: &str = "stats.json";
