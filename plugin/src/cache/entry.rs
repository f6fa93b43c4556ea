//! ANY THREAD (never the audio thread): one stem's entry in the chunk cache
//! (its folder, chunk files and metadata): reading, writing and removing
//! chunks, and the pin that keeps it from eviction. See [`super::store`] for
//! the folder as a whole.

use std::fs;
use std::path::{Path, PathBuf};

use super::budget::{self, FolderSettings, Ledger, Pin};
use super::chunk::{self, Encoding, Expect};
use super::error::{CacheError, Miss};
use super::flac::FlacEffort;
use super::fsio::{self, files_in, remove_dir_all};
use super::key::KeyId;
use super::meta::MetaRecord;
use super::naming::{chunk_file_name, META_FILE_NAME};

/// How a store writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreOptions {
    /// fsync each file before its rename (and the folder after): see
    /// [`super::fsio`] for why this is off by default.
    pub sync_writes: bool,
    /// FLAC encoder effort.
    pub flac_effort: FlacEffort,
}

/// Reads and checks one chunk file into `out`; a damaged file is removed.
pub(super) fn check_file(path: &Path, expect: &Expect, out: &mut Vec<f32>) -> Result<(), Miss> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Miss::Absent),
        Err(source) => {
            out.clear();
            return Err(Miss::Unreadable {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    chunk::read(bytes, expect, out)
        .map(|_| ())
        .map_err(|reason| {
            // Gone already (another reader removed it) is fine.
            let _ = fs::remove_file(path);
            Miss::Corrupt {
                path: path.to_path_buf(),
                reason,
            }
        })
}

/// Facts about one chunk write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteStats {
    /// Size of the chunk file (header and payload), in bytes.
    pub bytes_on_disk: u64,
    /// Payload encoding chosen (FLAC, or RAW when FLAC was not smaller).
    pub encoding: Encoding,
    /// Bits per stored sample.
    pub bits: u8,
    /// What making room for it evicted (zeros when it fitted).
    pub evicted: budget::EvictStats,
}

/// One stem's chunks at one engine rate. Holds paths only: cheap to keep
/// per stem, safe to share between threads.
#[derive(Clone, Debug)]
pub struct Entry {
    pub(super) dir: PathBuf,
    pub(super) root: PathBuf,
    pub(super) meta: MetaRecord,
    pub(super) tmp: PathBuf,
    pub(super) id: KeyId,
    pub(super) channels: u8,
    pub(super) chunk_frames: u32,
    pub(super) exact_bits: Option<u8>,
    pub(super) engine_rate_hz: u32,
    pub(super) options: StoreOptions,
}

impl Entry {
    /// The entry's id (its folder name).
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The entry's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where chunk `index` is stored.
    pub fn chunk_path(&self, index: u32) -> PathBuf {
        self.dir.join(chunk_file_name(index))
    }

    /// Whether a file for chunk `index` exists (unverified: only
    /// [`Entry::read_chunk`] knows if it is good).
    pub fn contains(&self, index: u32) -> bool {
        self.chunk_path(index).is_file()
    }

    /// Reads chunk `index`, which must hold `expected_frames` frames, into
    /// `out` as `expected_frames × channels` interleaved samples (cleared
    /// first, empty on a miss). Every check of the chunk format is made; a
    /// damaged file is removed and reported as [`Miss::Corrupt`].
    pub fn read_chunk(
        &self,
        index: u32,
        expected_frames: u32,
        out: &mut Vec<f32>,
    ) -> Result<(), Miss> {
        let expect = Expect {
            key_hash: self.id.hash64(),
            index,
            channels: self.channels,
            frames: Some(expected_frames),
            max_frames: self.chunk_frames,
        };
        out.clear();
        check_file(&self.chunk_path(index), &expect, out)
    }

    /// Stores chunk `index` from interleaved `samples` (`frames × channels`,
    /// 1 ≤ frames ≤ the key's chunk length), replacing any previous file
    /// atomically. Only what reads back bit for bit is stored: exact
    /// sources at their depth, grid-rounded ones as 24-bit
    /// ([`super::samples`]); the FLAC payload is replaced by RAW when not
    /// smaller. Encodes first, then, under the folder's ledger lock, makes
    /// the entry's folder if needed, evicts least-recently-used chunks of
    /// other entries not in use when the chunk would not fit the budget
    /// ([`super::budget`]), writes, and records the new total.
    ///
    /// # Errors
    /// [`CacheError::Inexact`] when the samples could not be read back bit
    /// for bit (see [`super::samples`]);
    /// [`CacheError::OverBudget`] when the chunk does not fit even after
    /// eviction (everything else is in use); I/O errors naming the file.
    pub fn write_chunk(&self, index: u32, samples: &[f32]) -> Result<WriteStats, CacheError> {
        let path = self.chunk_path(index);
        let channels = usize::from(self.channels);
        let frames = samples.len() / channels.max(1);
        if channels == 0
            || !samples.len().is_multiple_of(channels)
            || frames == 0
            || frames > self.chunk_frames as usize
        {
            return Err(CacheError::InvalidChunk {
                path,
                reason: format!(
                    "{} samples is not 1..={} frames of {channels} channels",
                    samples.len(),
                    self.chunk_frames
                ),
            });
        }
        let built = chunk::build(
            samples,
            self.channels,
            self.exact_bits,
            self.id.hash64(),
            index,
            self.engine_rate_hz,
            self.options.flac_effort,
        )
        .map_err(|source| CacheError::Encode {
            path: path.clone(),
            source,
        })?;
        if !built.header.lossless {
            return Err(CacheError::Inexact { path });
        }
        let new_bytes = built.bytes.len() as u64;
        let mut ledger = Ledger::lock(&self.root)?;
        let budget_bytes = FolderSettings::read(&self.root).budget_bytes;
        let mut total = ledger.bytes(&self.root)?;
        let meta_path = self.dir.join(META_FILE_NAME);
        let meta = (!meta_path.exists()).then(|| self.meta.to_json());
        // Bytes added: the chunk (less the file it replaces) and meta.json.
        let old_bytes = fs::metadata(&path).map_or(0, |m| m.len());
        let adds = new_bytes + meta.as_ref().map_or(0, |m| m.len() as u64);
        let mut evicted = budget::EvictStats::default();
        if total.saturating_sub(old_bytes) + adds > budget_bytes {
            let target = budget::low_water(budget_bytes, adds);
            evicted = budget::evict(&self.root, &mut ledger, target, Some(self.id))?;
            total = evicted.total_after_bytes;
            if total.saturating_sub(old_bytes) + adds > budget_bytes {
                return Err(CacheError::OverBudget {
                    path,
                    budget_bytes,
                    used_bytes: total,
                });
            }
        }
        if let Some(meta) = meta {
            self.make_folder()?;
            fsio::write_atomic(&self.tmp, &meta_path, &meta, self.options.sync_writes)?;
            total += meta.len() as u64;
        } else {
            self.make_folder()?;
        }
        let written = fsio::write_atomic(&self.tmp, &path, &built.bytes, self.options.sync_writes);
        // The old file is replaced only on success.
        let total = match written {
            Ok(()) => total.saturating_sub(old_bytes) + new_bytes,
            Err(_) => total,
        };
        ledger.record(total)?;
        written?;
        Ok(WriteStats {
            bytes_on_disk: new_bytes,
            encoding: built.header.encoding,
            bits: built.header.depth.bits,
            evicted,
        })
    }

    /// Makes the entry's folder when missing (the cache folder itself must
    /// exist: a deleted cache is not brought back behind the user's back)
    /// and marks it used. Called with the ledger held.
    fn make_folder(&self) -> Result<(), CacheError> {
        match fs::create_dir(&self.dir) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                return Err(CacheError::io(&self.dir, "create folder", e));
            }
            _ => {}
        }
        let lock_path = self.dir.join(super::naming::ENTRY_LOCK_FILE_NAME);
        if let Ok(lock) = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
        {
            budget::touch(&lock);
        }
        Ok(())
    }

    /// Marks the entry in use until the returned [`Pin`] is dropped:
    /// eviction in every process skips it (see [`super::budget`]).
    ///
    /// # Errors
    /// The entry's folder or lock file cannot be made or locked (a
    /// read-only or vanished cache folder).
    pub fn pin(&self) -> Result<Pin, CacheError> {
        Pin::new(&self.dir, self.id)
    }

    /// Removes chunk `index` (absent is fine).
    pub fn remove_chunk(&self, index: u32) -> Result<(), CacheError> {
        let path = self.chunk_path(index);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(CacheError::io(&path, "remove", e))
            }
            _ => Ok(()),
        }
    }

    /// Bytes of the entry's files (chunks and metadata) on disk.
    pub fn bytes_on_disk(&self) -> u64 {
        files_in(&self.dir).iter().map(|(_, len)| len).sum()
    }

    /// Removes the whole entry.
    pub fn remove(self) -> Result<(), CacheError> {
        remove_dir_all(&self.dir)
    }
}
