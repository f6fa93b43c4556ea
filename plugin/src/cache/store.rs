//! LOADER THREADS: the on-disk chunk store: a cache folder of entries (one
//! per stem and engine rate), each a folder of verified chunk files.
//!
//! ```text
//! <cache>/tmp/<pid>-<n>-<ns>.tmp     files being written (swept when old)
//! <cache>/settings.json              the budget (see `budget`)
//! <cache>/ledger                     bytes in entries, the writers' lock
//! <cache>/<id>/meta.json             the entry's full key (plain JSON)
//! <cache>/<id>/lock                  the entry's in-use lock, last-use time
//! <cache>/<id>/c00000000.tc          chunk 0 of the stem (see `chunk`)
//! <cache>/<id>/c00000001.tc          …
//! ```
//!
//! `<id>` is the [`StemKey`]'s 32-hex-digit [`KeyId`]. Reads verify
//! everything and turn any damage into a [`Miss`] (removing the file);
//! writes are atomic ([`super::fsio`]) and kept under the folder's byte
//! budget by least-recently-used eviction ([`super::budget`]). Every method
//! takes `&self`: loader threads share one store, and processes share one
//! folder.

use super::policy::CachePolicy;
use std::fs;
use std::path::{Path, PathBuf};

use super::budget::{self, FolderSettings, Ledger};
use super::chunk::Expect;
use super::entry::{check_file, Entry, StoreOptions};
use super::error::{CacheError, Miss};
use super::fsio::{self, files_in, remove_dir_all, SweepStats, TMP_MAX_AGE};
use super::key::{KeyId, StemKey};
use super::meta::MetaRecord;
use super::naming::{parse_chunk_file_name, META_FILE_NAME, TMP_DIR_NAME};

/// The chunk cache folder. Cheap to clone; share it between loader threads.
#[derive(Clone, Debug)]
pub struct ChunkStore {
    root: PathBuf,
    tmp: PathBuf,
    options: StoreOptions,
}

/// Removes a folder tree; a missing one is fine.
impl ChunkStore {
    /// Opens (creating) the cache folder `dir` with default options and
    /// sweeps abandoned temporary files.
    pub fn open(dir: &Path) -> Result<ChunkStore, CacheError> {
        ChunkStore::open_with(dir, StoreOptions::default())
    }

    /// [`ChunkStore::open`] with `options`. Also rebuilds the folder's
    /// ledger from a scan (best effort: a read-only folder still serves
    /// reads).
    pub fn open_with(dir: &Path, options: StoreOptions) -> Result<ChunkStore, CacheError> {
        let tmp = dir.join(TMP_DIR_NAME);
        fs::create_dir_all(&tmp).map_err(|e| CacheError::io(&tmp, "create folder", e))?;
        let store = ChunkStore {
            root: dir.to_path_buf(),
            tmp,
            options,
        };
        store.sweep()?;
        if let Ok(mut ledger) = Ledger::lock(dir) {
            let _ = ledger.resync(dir);
        }
        Ok(store)
    }

    /// The folder's settings (shared by every process using it).
    pub fn settings(&self) -> FolderSettings {
        FolderSettings::read(&self.root)
    }

    /// Sets the folder's byte budget and evicts at once down to it.
    ///
    /// # Errors
    /// The settings cannot be written, or the ledger cannot be locked.
    pub fn set_budget_bytes(&self, budget_bytes: u64) -> Result<budget::EvictStats, CacheError> {
        let mut ledger = Ledger::lock(&self.root)?;
        FolderSettings {
            budget_bytes,
            ..self.settings()
        }
        .write(&self.root, &self.tmp)?;
        let total = ledger.resync(&self.root)?;
        if total > budget_bytes {
            budget::evict(&self.root, &mut ledger, budget_bytes, None)
        } else {
            Ok(budget::EvictStats {
                total_after_bytes: total,
                ..Default::default()
            })
        }
    }

    /// Sets the policy players of this folder use by default (see
    /// [`FolderSettings::policy`]).
    ///
    /// # Errors
    /// The settings cannot be written.
    pub fn set_policy(&self, policy: Option<CachePolicy>) -> Result<(), CacheError> {
        let _ledger = Ledger::lock(&self.root)?;
        FolderSettings {
            policy,
            ..self.settings()
        }
        .write(&self.root, &self.tmp)
    }

    /// Bytes in entries, as the ledger records them (exact after a scan:
    /// see [`super::budget`]).
    pub fn ledger_bytes(&self) -> Result<u64, CacheError> {
        Ledger::lock(&self.root)?.bytes(&self.root)
    }

    /// The platform's default cache folder (see [`super::location`]).
    pub fn default_dir() -> Option<PathBuf> {
        super::location::default_dir()
    }

    /// The cache folder.
    pub fn dir(&self) -> &Path {
        &self.root
    }

    /// Removes temporary files older than [`TMP_MAX_AGE`] (done by `open`;
    /// safe while other processes write).
    pub fn sweep(&self) -> Result<SweepStats, CacheError> {
        fsio::sweep_tmp(&self.tmp, TMP_MAX_AGE)
    }

    /// The entry of `key`. Its folder is made by the first write (or
    /// pin); an existing one whose `meta.json` is unreadable or holds
    /// another key is removed (and made anew by the next write).
    pub fn entry(&self, key: &StemKey) -> Result<Entry, CacheError> {
        let id = key.id();
        let dir = self.root.join(id.to_string());
        let meta_path = dir.join(META_FILE_NAME);
        let expected = MetaRecord::of(key);
        // A folder without meta.json may be a pinned entry not written yet:
        // keep it (its chunks carry the id's hash anyway).
        if meta_path.exists() && MetaRecord::read(&meta_path).as_ref() != Some(&expected) {
            remove_dir_all(&dir)?;
        }
        Ok(Entry {
            dir,
            root: self.root.clone(),
            meta: expected,
            tmp: self.tmp.clone(),
            id,
            channels: key.channels,
            chunk_frames: key.chunk_frames,
            exact_bits: key.origin.exact_bits(),
            engine_rate_hz: key.engine_rate_hz,
            options: self.options,
        })
    }

    /// The entry folders: (id, path), in no particular order.
    fn entry_dirs(&self) -> Result<Vec<(KeyId, PathBuf)>, CacheError> {
        let list = fs::read_dir(&self.root).map_err(|e| CacheError::io(&self.root, "list", e))?;
        let mut dirs = Vec::new();
        for item in list {
            let item = item.map_err(|e| CacheError::io(&self.root, "list", e))?;
            let name = item.file_name();
            let Some(id) = name.to_str().and_then(KeyId::parse) else {
                continue;
            };
            if item.file_type().is_ok_and(|t| t.is_dir()) {
                dirs.push((id, item.path()));
            }
        }
        Ok(dirs)
    }

    /// Sizes of everything in the cache (entries, chunk files, bytes of
    /// chunks and metadata). Files that vanish meanwhile are skipped.
    pub fn usage(&self) -> Result<Usage, CacheError> {
        let mut usage = Usage::default();
        for (_, dir) in self.entry_dirs()? {
            usage.entries += 1;
            for (path, len) in files_in(&dir) {
                usage.bytes += len;
                if path_chunk_index(&path).is_some() {
                    usage.chunks += 1;
                }
            }
        }
        Ok(usage)
    }

    /// Checks every chunk of every entry (fully: decode and checksums),
    /// removes what is damaged and reports each problem to `on_problem`.
    /// Entries whose `meta.json` is unreadable, of another format version
    /// or of another id are removed whole; an entry folder with neither
    /// `meta.json` nor chunks (pinned before its first write) is no
    /// problem. Files it does not know are left.
    pub fn verify(
        &self,
        mut on_problem: impl FnMut(&VerifyProblem),
    ) -> Result<VerifyReport, CacheError> {
        let mut report = VerifyReport::default();
        let mut samples = Vec::new();
        let mut ledger = Ledger::lock(&self.root)?;
        for (id, dir) in self.entry_dirs()? {
            let meta = MetaRecord::read(&dir.join(META_FILE_NAME)).filter(|m| {
                m.format_version == super::CACHE_FORMAT_VERSION && m.id == id.to_string()
            });
            let Some(meta) = meta else {
                let files = files_in(&dir);
                if !dir.join(META_FILE_NAME).exists()
                    && !files.iter().any(|(p, _)| path_chunk_index(p).is_some())
                {
                    // Pinned before its first write, or a write killed
                    // before its meta.json: nothing to check. Tidied when
                    // no one uses it.
                    remove_if_unused(&dir);
                    continue;
                }
                remove_dir_all(&dir)?;
                report.entries_removed += 1;
                on_problem(&VerifyProblem::BadEntry { path: dir });
                continue;
            };
            report.entries_ok += 1;
            for (path, len) in files_in(&dir) {
                let Some(index) = path_chunk_index(&path) else {
                    continue;
                };
                let expect = Expect {
                    key_hash: id.hash64(),
                    index,
                    channels: meta.channels,
                    frames: None,
                    max_frames: meta.chunk_frames,
                };
                match check_file(&path, &expect, &mut samples) {
                    Ok(()) => {
                        report.chunks_ok += 1;
                        report.bytes_ok += len;
                    }
                    Err(Miss::Absent) => {}
                    Err(problem) => {
                        if problem.corruption().is_some() {
                            report.chunks_removed += 1;
                        } else {
                            report.chunks_unreadable += 1;
                        }
                        on_problem(&VerifyProblem::BadChunk(problem));
                    }
                }
            }
        }
        ledger.resync(&self.root)?;
        Ok(report)
    }

    /// Removes every chunk and entry (not the folder itself, its settings,
    /// nor files it does not know). Entries in use elsewhere lose their
    /// chunks but keep their folder and lock; their players miss and
    /// rebuild.
    pub fn clear(&self) -> Result<(), CacheError> {
        let mut ledger = Ledger::lock(&self.root)?;
        for (_, dir) in self.entry_dirs()? {
            let lock = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(dir.join(super::naming::ENTRY_LOCK_FILE_NAME));
            let busy = lock.as_ref().is_ok_and(|l| l.try_lock().is_err());
            if busy {
                for (path, _) in files_in(&dir) {
                    if path_chunk_index(&path).is_some() {
                        let _ = fs::remove_file(path);
                    }
                }
            } else {
                remove_dir_all(&dir)?;
            }
        }
        ledger.resync(&self.root)?;
        Ok(())
    }
}

/// Removes the empty entry folder `dir` unless it is pinned somewhere.
fn remove_if_unused(dir: &Path) {
    let lock_path = dir.join(super::naming::ENTRY_LOCK_FILE_NAME);
    let lock = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&lock_path);
    match lock {
        Ok(lock) => {
            if lock.try_lock().is_ok() {
                let _ = fs::remove_file(&lock_path);
                let _ = fs::remove_dir(dir);
            }
        }
        Err(_) => {
            let _ = fs::remove_dir(dir);
        }
    }
}

fn path_chunk_index(path: &Path) -> Option<u32> {
    path.file_name()?.to_str().and_then(parse_chunk_file_name)
}

/// Sizes of the cache's contents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Entry folders.
    pub entries: u64,
    /// Chunk files.
    pub chunks: u64,
    /// Bytes of all files in entries (chunks and metadata).
    pub bytes: u64,
}

/// What [`ChunkStore::verify`] found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries with a valid `meta.json`.
    pub entries_ok: u64,
    /// Entries removed for a bad `meta.json`.
    pub entries_removed: u64,
    /// Chunks that passed every check.
    pub chunks_ok: u64,
    /// Their bytes on disk.
    pub bytes_ok: u64,
    /// Damaged chunks, removed.
    pub chunks_removed: u64,
    /// Chunks that could not be read (left in place).
    pub chunks_unreadable: u64,
}

/// One problem [`ChunkStore::verify`] found (and acted on).
#[derive(Debug, thiserror::Error)]
pub enum VerifyProblem {
    /// An entry's `meta.json` was missing, unreadable, of another version
    /// or of another id: the entry folder was removed.
    #[error("{}: bad or outdated meta.json: entry removed", path.display())]
    BadEntry {
        /// The entry folder.
        path: PathBuf,
    },
    /// A chunk was damaged (removed) or unreadable.
    #[error(transparent)]
    BadChunk(Miss),
}
