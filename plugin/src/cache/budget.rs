//! LOADER THREADS: the byte budget, least-recently-used eviction, and the
//! locks that let several processes share one cache folder.
//!
//! ```text
//! <cache>/settings.json      the folder's budget (shared by every process)
//! <cache>/ledger             bytes in entries; its lock serializes writes
//! <cache>/<id>/lock          the entry's lock: shared while in use (pinned),
//!                            exclusive while evicted; its mtime = last use
//! ```
//!
//! # Budget
//! Every chunk write takes the ledger's exclusive lock (after encoding, so
//! the lock is held for a file write, not an encode), reads the total,
//! evicts if the new chunk would not fit, writes, and records the new
//! total. Eviction removes chunks until the total is [`LOW_WATER_DIVISOR`]
//! below the budget (so scans are rare), and a chunk that still does not fit
//! is not written ([`super::CacheError::OverBudget`]). Every process writes
//! under the same lock, so the bytes in entries never exceed the budget;
//! the ledger can only drift by files removed outside it (damaged chunks
//! removed by readers, a user deleting files: overcounts, which evict
//! early) or by a process killed between a rename and the ledger update
//! (one chunk short). The ledger is rebuilt from a scan of the folder when
//! a store is opened and whenever eviction runs.
//!
//! # Least recently used, never what is in use
//! An entry's last use is the modification time of its `lock` file, set
//! explicitly (nanoseconds) when it is written to, pinned or unpinned.
//! Eviction goes through entries from the least recently used, removing each
//! one's chunks from the last (the head of a stem is worth most) and the
//! entry itself once empty. An entry is in use while some process holds a
//! [`Pin`] on it: a shared lock on its `lock` file. Eviction takes the
//! exclusive lock with `try_lock` and skips the entry when that fails, so
//! the chunks of songs being played, cued or preloaded (in any process,
//! and in the evicting process itself: `flock` locks belong to open files)
//! are never evicted. The entry being written is skipped too.
//!
//! Locks are advisory `flock`-style locks (std's `File::lock` family): a
//! process that dies releases them.

use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::error::CacheError;
use super::fsio;
use super::key::KeyId;
use super::naming::{
    chunk_file_name, parse_chunk_file_name, ENTRY_LOCK_FILE_NAME, LEDGER_FILE_NAME,
    SETTINGS_FILE_NAME,
};
use super::policy::CachePolicy;

/// Default budget: 10 GB (decimal, as disks are sold).
pub const DEFAULT_BUDGET_BYTES: u64 = 10_000_000_000;

/// Smallest budget the settings offer (1 GB). The store accepts any budget
/// (tests use small ones).
pub const MIN_SETTING_BUDGET_BYTES: u64 = 1_000_000_000;

/// Largest budget the settings offer (50 GB).
pub const MAX_SETTING_BUDGET_BYTES: u64 = 50_000_000_000;

/// Eviction frees down to `budget - budget / LOW_WATER_DIVISOR` (and at
/// least room for the chunk being written), so it runs once per ~1/16 of
/// the budget written rather than once per chunk.
pub const LOW_WATER_DIVISOR: u64 = 16;

/// The settings stored in a cache folder, shared by every process using it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FolderSettings {
    /// Most bytes the entries may hold.
    pub budget_bytes: u64,
    /// What players cache by default (stored as `first:SECS`, `whole`,
    /// `auto:SECS`); `None` (or a text that does not parse): the first
    /// 60 s.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::policy::lenient"
    )]
    pub policy: Option<CachePolicy>,
}

impl Default for FolderSettings {
    fn default() -> Self {
        FolderSettings {
            budget_bytes: DEFAULT_BUDGET_BYTES,
            policy: None,
        }
    }
}

impl FolderSettings {
    /// Reads `root`'s settings; defaults when absent or unreadable.
    pub fn read(root: &Path) -> FolderSettings {
        fs::read(root.join(SETTINGS_FILE_NAME))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Writes them to `root` atomically (through `tmp_dir`).
    pub fn write(&self, root: &Path, tmp_dir: &Path) -> Result<(), CacheError> {
        let path = root.join(SETTINGS_FILE_NAME);
        let mut text = serde_json::to_vec_pretty(self)
            .map_err(|e| CacheError::io(&path, "serialize", e.into()))?;
        text.push(b'\n');
        fsio::write_atomic(tmp_dir, &path, &text, false)
    }
}

/// The ledger, locked exclusively: held while a chunk is written, while
/// eviction runs, and while the folder is cleared or verified.
pub struct Ledger {
    file: fs::File,
    path: PathBuf,
}

impl Ledger {
    /// Takes the ledger's exclusive lock, waiting for other writers (they
    /// hold it for one file write or one eviction).
    pub fn lock(root: &Path) -> Result<Ledger, CacheError> {
        let path = root.join(LEDGER_FILE_NAME);
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| CacheError::io(&path, "open", e))?;
        file.lock().map_err(|e| CacheError::io(&path, "lock", e))?;
        Ok(Ledger { file, path })
    }

    /// The recorded total, `None` when the ledger is empty or unreadable.
    pub fn recorded_bytes(&mut self) -> Option<u64> {
        let mut text = String::new();
        self.file.seek(SeekFrom::Start(0)).ok()?;
        self.file.read_to_string(&mut text).ok()?;
        text.trim().parse().ok()
    }

    /// The recorded total, or a fresh scan of `root` (recorded) when the
    /// ledger has none.
    pub fn bytes(&mut self, root: &Path) -> Result<u64, CacheError> {
        match self.recorded_bytes() {
            Some(b) => Ok(b),
            None => self.resync(root),
        }
    }

    /// Records `total_bytes` (rewritten in place: only lock holders read it;
    /// a torn write reads as unreadable and is rebuilt by a scan).
    pub fn record(&mut self, total_bytes: u64) -> Result<(), CacheError> {
        let text = format!("{total_bytes}\n");
        self.file
            .set_len(0)
            .and_then(|()| self.file.seek(SeekFrom::Start(0)))
            .and_then(|_| self.file.write_all(text.as_bytes()))
            .map_err(|e| CacheError::io(&self.path, "write", e))
    }

    /// Rebuilds the total from a scan of `root` and records it.
    pub fn resync(&mut self, root: &Path) -> Result<u64, CacheError> {
        let total = scan(root)?.iter().map(EntryUsage::bytes).sum();
        self.record(total)?;
        Ok(total)
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

/// One entry's files, as eviction sees them.
#[derive(Clone, Debug)]
pub struct EntryUsage {
    /// The entry id.
    pub id: KeyId,
    /// Its folder.
    pub dir: PathBuf,
    /// Last use (its lock file's mtime; else `meta.json`'s; else the
    /// folder's).
    pub last_used: SystemTime,
    /// Chunk files: (index, bytes), by index.
    pub chunks: Vec<(u32, u64)>,
    /// Bytes of its other files (`meta.json`).
    pub other_bytes: u64,
}

impl EntryUsage {
    /// All its bytes.
    pub fn bytes(&self) -> u64 {
        self.other_bytes + self.chunks.iter().map(|&(_, b)| b).sum::<u64>()
    }
}

/// Every entry folder of `root` with its files (entries or files that
/// vanish meanwhile are skipped).
pub fn scan(root: &Path) -> Result<Vec<EntryUsage>, CacheError> {
    let list = fs::read_dir(root).map_err(|e| CacheError::io(root, "list", e))?;
    let mut entries = Vec::new();
    for item in list.flatten() {
        let Some(id) = item.file_name().to_str().and_then(KeyId::parse) else {
            continue;
        };
        let Ok(dir_meta) = item.metadata() else {
            continue;
        };
        if !dir_meta.is_dir() {
            continue;
        }
        let dir = item.path();
        let mut usage = EntryUsage {
            id,
            last_used: dir_meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            dir: dir.clone(),
            chunks: Vec::new(),
            other_bytes: 0,
        };
        let mut lock_time = None;
        let mut meta_time = None;
        for file in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let Ok(meta) = file.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            let name = file.file_name();
            let name = name.to_string_lossy();
            if let Some(index) = parse_chunk_file_name(&name) {
                usage.chunks.push((index, meta.len()));
            } else {
                usage.other_bytes += meta.len();
                if name == ENTRY_LOCK_FILE_NAME {
                    lock_time = meta.modified().ok();
                } else if name == super::naming::META_FILE_NAME {
                    meta_time = meta.modified().ok();
                }
            }
        }
        if let Some(t) = lock_time.or(meta_time) {
            usage.last_used = t;
        }
        usage.chunks.sort_unstable();
        entries.push(usage);
    }
    Ok(entries)
}

/// What one eviction did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvictStats {
    /// Chunk files removed.
    pub chunks_removed: u64,
    /// Entries removed whole.
    pub entries_removed: u64,
    /// Bytes freed.
    pub freed_bytes: u64,
    /// Entries skipped because they are in use (pinned somewhere).
    pub busy_skipped: u64,
    /// Bytes in entries afterwards.
    pub total_after_bytes: u64,
}

/// Removes least-recently-used chunks of `root` until its entries hold at
/// most `target_bytes`, skipping `keep` and every entry in use. Call with
/// the [`Ledger`] held; records the new total in it.
pub fn evict(
    root: &Path,
    ledger: &mut Ledger,
    target_bytes: u64,
    keep: Option<KeyId>,
) -> Result<EvictStats, CacheError> {
    let mut entries = scan(root)?;
    let mut total: u64 = entries.iter().map(EntryUsage::bytes).sum();
    let mut stats = EvictStats::default();
    entries.sort_by(|a, b| a.last_used.cmp(&b.last_used).then(a.id.cmp(&b.id)));
    for entry in entries {
        if total <= target_bytes {
            break;
        }
        if Some(entry.id) == keep {
            continue;
        }
        let lock_path = entry.dir.join(ENTRY_LOCK_FILE_NAME);
        let Ok(lock) = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
        else {
            continue; // vanished, or not ours to change
        };
        if lock.try_lock().is_err() {
            stats.busy_skipped += 1;
            continue;
        }
        let mut left = entry.chunks.len();
        for &(index, bytes) in entry.chunks.iter().rev() {
            if total <= target_bytes {
                break;
            }
            let path = entry.dir.join(chunk_file_name(index));
            match fs::remove_file(&path) {
                Ok(()) => {
                    total = total.saturating_sub(bytes);
                    stats.freed_bytes += bytes;
                    stats.chunks_removed += 1;
                    left -= 1;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    total = total.saturating_sub(bytes);
                    left -= 1;
                }
                Err(_) => {} // left for the next eviction
            }
        }
        if left == 0 {
            // Empty: the entry goes (its lock file last, while held).
            let meta = entry.dir.join(super::naming::META_FILE_NAME);
            if fs::remove_file(&meta).is_ok() || !meta.exists() {
                total = total.saturating_sub(entry.other_bytes);
                stats.freed_bytes += entry.other_bytes;
                let _ = fs::remove_file(&lock_path);
                let _ = fs::remove_dir(&entry.dir);
                stats.entries_removed += 1;
            }
        }
        let _ = lock.unlock();
    }
    ledger.record(total)?;
    stats.total_after_bytes = total;
    Ok(stats)
}

/// The eviction target when a chunk of `new_bytes` must fit in `budget`.
pub fn low_water(budget_bytes: u64, new_bytes: u64) -> u64 {
    (budget_bytes - budget_bytes / LOW_WATER_DIVISOR).min(budget_bytes.saturating_sub(new_bytes))
}

/// Sets `file`'s modification time to now (the entry's last use).
pub fn touch(file: &fs::File) {
    let _ = file.set_modified(SystemTime::now());
}

/// An entry in use: while it lives, eviction (in any process) skips the
/// entry. Dropping it marks the entry used now and releases it.
#[derive(Debug)]
pub struct Pin {
    file: fs::File,
    id: KeyId,
}

impl Pin {
    /// Pins the entry folder `dir` (created if missing; the cache folder
    /// must exist). Retries when eviction removes the lock file meanwhile.
    pub fn new(dir: &Path, id: KeyId) -> Result<Pin, CacheError> {
        let lock_path = dir.join(ENTRY_LOCK_FILE_NAME);
        let mut last_error = None;
        for _ in 0..8 {
            match fs::create_dir(dir) {
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                    return Err(CacheError::io(dir, "create folder", e));
                }
                _ => {}
            }
            let file = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&lock_path)
                .map_err(|e| CacheError::io(&lock_path, "open", e))?;
            // Waits only while an eviction holds it (one entry's removal).
            file.lock_shared()
                .map_err(|e| CacheError::io(&lock_path, "lock", e))?;
            if same_file(&file, &lock_path) {
                touch(&file);
                return Ok(Pin { file, id });
            }
            // Evicted between open and lock: that file is gone; again.
            last_error = Some(std::io::Error::other("lock file replaced while locking"));
        }
        Err(CacheError::io(
            &lock_path,
            "lock",
            last_error.unwrap_or_else(|| std::io::Error::other("gave up")),
        ))
    }

    /// The pinned entry.
    pub fn id(&self) -> KeyId {
        self.id
    }
}

impl Drop for Pin {
    fn drop(&mut self) {
        touch(&self.file);
        let _ = self.file.unlock();
    }
}

/// The entries one user of the cache holds pinned (a player's songs on a
/// deck). Each user has its own set: pins of several sets on one entry
/// coexist (each is its own shared lock), so one player releasing a song
/// never unpins what another still plays. Dropping the set releases its
/// pins.
#[derive(Debug, Default)]
pub struct PinSet {
    pins: std::collections::HashMap<KeyId, Pin>,
}

impl PinSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Pins exactly `entries`, releasing this set's other pins: eviction,
    /// in this process and every other one sharing the folder, never
    /// removes chunks of a pinned entry. An entry that cannot be pinned
    /// (read-only folder) is simply not pinned.
    pub fn pin_exactly<'a>(&mut self, entries: impl IntoIterator<Item = &'a super::Entry>) {
        let wanted: std::collections::HashMap<KeyId, &super::Entry> =
            entries.into_iter().map(|e| (e.id(), e)).collect();
        self.pins.retain(|id, _| wanted.contains_key(id));
        for (id, entry) in wanted {
            if let std::collections::hash_map::Entry::Vacant(v) = self.pins.entry(id) {
                if let Ok(pin) = entry.pin() {
                    v.insert(pin);
                }
            }
        }
    }

    /// Entries pinned now.
    pub fn len(&self) -> usize {
        self.pins.len()
    }

    /// Whether nothing is pinned.
    pub fn is_empty(&self) -> bool {
        self.pins.is_empty()
    }
}

/// Whether `file` is (still) the file at `path`.
fn same_file(file: &fs::File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        path.exists()
    }
}
