//! LOADER THREADS: crash-safe writes (temporary file, then rename) and the
//! sweep of temporary files a killed process left behind.
//!
//! # Crash safety
//! Every file of the cache (chunks and `meta.json`) is written whole to a
//! uniquely named file in `<cache>/tmp/` (same file system as the entries),
//! then renamed over its final name. A rename is atomic: readers see the
//! old file, no file, or the complete new one, so a process killed at any
//! moment never leaves a partial file under a served name.
//!
//! # fsync policy
//! By default nothing is fsynced. A process crash cannot lose written data
//! (the kernel has it); only a power cut or kernel crash can, and then a
//! renamed file may come back empty, short or with stale blocks. Every read
//! verifies the header, length and checksums, so such a file is a miss and
//! is rebuilt: it is never played. fsync would only save that rebuild, at
//! the cost of a disk flush per chunk (thousands when a setlist is warmed).
//! [`super::StoreOptions::sync_writes`] turns it on (file before rename,
//! then its folder, on Unix) for users who prefer flushes to rebuilds.
//!
//! # Sweep safety
//! Several processes may share a cache folder, and a sweep must not delete
//! a file another process is still writing. Writing a file takes
//! milliseconds, so the sweep only removes temporary files older than
//! [`TMP_MAX_AGE`] (10 minutes): those are certainly abandoned. A writer
//! stalled for longer loses its file; its rename then fails and it reports
//! an error (a miss later, nothing worse). No lock is needed.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use super::error::CacheError;

/// Temporary files older than this are abandoned and swept.
pub const TMP_MAX_AGE: Duration = Duration::from_secs(10 * 60);

/// Extension of temporary files.
const TMP_EXT: &str = "tmp";

/// What a sweep removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepStats {
    /// Temporary files removed.
    pub removed_files: u64,
    /// Their total size in bytes.
    pub removed_bytes: u64,
    /// Temporary files kept because they are recent (maybe being written).
    pub kept_recent: u64,
}

/// A temporary file name no other process or thread uses: process id,
/// a per-process counter and the time.
fn tmp_path(tmp_dir: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    tmp_dir.join(format!("{}-{n}-{nanos:09}.{TMP_EXT}", std::process::id()))
}

/// Writes `bytes` to `dest` atomically through a temporary file in
/// `tmp_dir` (see the module docs); fsyncs first when `sync`.
pub fn write_atomic(
    tmp_dir: &Path,
    dest: &Path,
    bytes: &[u8],
    sync: bool,
) -> Result<(), CacheError> {
    let tmp = tmp_path(tmp_dir);
    let result = write_then_rename(&tmp, dest, bytes, sync);
    if result.is_err() {
        // Best effort: the sweep removes it later otherwise.
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn write_then_rename(tmp: &Path, dest: &Path, bytes: &[u8], sync: bool) -> Result<(), CacheError> {
    let mut file = fs::File::create_new(tmp).map_err(|e| CacheError::io(tmp, "create", e))?;
    file.write_all(bytes)
        .map_err(|e| CacheError::io(tmp, "write", e))?;
    if sync {
        file.sync_all()
            .map_err(|e| CacheError::io(tmp, "fsync", e))?;
    }
    drop(file);
    fs::rename(tmp, dest).map_err(|e| CacheError::io(dest, "rename into", e))?;
    if sync {
        sync_dir(dest.parent().unwrap_or(Path::new(".")))?;
    }
    Ok(())
}

/// fsyncs a folder so a rename in it is durable (Unix; a no-op elsewhere).
fn sync_dir(dir: &Path) -> Result<(), CacheError> {
    #[cfg(unix)]
    {
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| CacheError::io(dir, "fsync folder", e))?;
    }
    let _ = dir;
    Ok(())
}

/// Removes the temporary files in `tmp_dir` last modified more than
/// `older_than` ago (use [`TMP_MAX_AGE`]; `Duration::ZERO` removes all, safe
/// only when no other process writes). A missing folder sweeps nothing.
pub fn sweep_tmp(tmp_dir: &Path, older_than: Duration) -> Result<SweepStats, CacheError> {
    let mut stats = SweepStats::default();
    let entries = match fs::read_dir(tmp_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(stats),
        Err(e) => return Err(CacheError::io(tmp_dir, "list", e)),
    };
    let now = SystemTime::now();
    for entry in entries {
        let entry = entry.map_err(|e| CacheError::io(tmp_dir, "list", e))?;
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some(TMP_EXT) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        // A modification time in the future (clock changes) counts as recent.
        let age = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .unwrap_or(Duration::ZERO);
        if age < older_than {
            stats.kept_recent += 1;
            continue;
        }
        match fs::remove_file(&path) {
            Ok(()) => {
                stats.removed_files += 1;
                stats.removed_bytes += meta.len();
            }
            // Another process swept it first.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(CacheError::io(&path, "remove", e)),
        }
    }
    Ok(stats)
}

/// Regular files in `dir` with their sizes (empty if it cannot be listed).
pub(super) fn files_in(dir: &Path) -> Vec<(PathBuf, u64)> {
    let Ok(list) = fs::read_dir(dir) else {
        return Vec::new();
    };
    list.flatten()
        .filter_map(|item| {
            let meta = item.metadata().ok()?;
            meta.is_file().then(|| (item.path(), meta.len()))
        })
        .collect()
}

pub(super) fn remove_dir_all(dir: &Path) -> Result<(), CacheError> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(CacheError::io(dir, "remove", e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::naming::TMP_DIR_NAME;

    #[test]
    fn write_atomic_replaces_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tmp = dir.path().join(TMP_DIR_NAME);
        fs::create_dir(&tmp).expect("mkdir");
        let dest = dir.path().join("f");
        for (i, sync) in [false, true].into_iter().enumerate() {
            let bytes = vec![i as u8; 1000 + i];
            write_atomic(&tmp, &dest, &bytes, sync).expect("write");
            assert_eq!(fs::read(&dest).expect("read"), bytes);
        }
        assert_eq!(fs::read_dir(&tmp).expect("ls").count(), 0);
    }

    #[test]
    fn failing_writes_are_errors_and_clean_up() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tmp = dir.path().join(TMP_DIR_NAME);
        fs::create_dir(&tmp).expect("mkdir");
        // The destination's folder is a regular file: ENOTDIR even as root.
        let file = dir.path().join("file");
        fs::write(&file, b"x").expect("write");
        let err = write_atomic(&tmp, &file.join("dest"), b"abc", false).expect_err("must fail");
        assert!(err.to_string().contains("rename into"), "{err}");
        assert_eq!(fs::read_dir(&tmp).expect("ls").count(), 0);
        // The temporary folder itself is missing.
        let err = write_atomic(&file, &dir.path().join("d"), b"abc", false).expect_err("must fail");
        assert!(err.to_string().contains("cannot create"), "{err}");
    }

    #[test]
    fn sweep_removes_only_old_temporary_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tmp = dir.path().join(TMP_DIR_NAME);
        fs::create_dir(&tmp).expect("mkdir");
        let old = tmp.join("1-1-1.tmp");
        let recent = tmp.join("2-2-2.tmp");
        let other = tmp.join("notes.txt");
        for p in [&old, &recent, &other] {
            fs::write(p, b"leftover").expect("write");
        }
        let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
        fs::File::options()
            .write(true)
            .open(&old)
            .and_then(|f| f.set_modified(an_hour_ago))
            .expect("set mtime");
        let stats = sweep_tmp(&tmp, TMP_MAX_AGE).expect("sweep");
        assert_eq!(
            stats,
            SweepStats {
                removed_files: 1,
                removed_bytes: 8,
                kept_recent: 1
            }
        );
        assert!(!old.exists() && recent.exists() && other.exists());
        let stats = sweep_tmp(&tmp, Duration::ZERO).expect("sweep");
        assert_eq!(stats.removed_files, 1);
        assert!(!recent.exists());
        assert_eq!(
            sweep_tmp(&dir.path().join("missing"), Duration::ZERO).expect("sweep"),
            SweepStats::default()
        );
    }
}
