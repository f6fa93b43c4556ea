//! LOADER THREADS: an entry's `meta.json`, the full key in plain text.
//!
//! It lets a person (or a later cache policy) see what an entry holds, and
//! it is compared with the key whenever an entry is opened: an unreadable
//! or different file (an id collision, a hand edit, a damaged write) resets
//! the entry. It is written atomically like every cache file.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::CacheError;
use super::fsio;
use super::key::{path_bytes, SampleOrigin, StemKey};
use super::CACHE_FORMAT_VERSION;

/// The contents of `meta.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetaRecord {
    /// [`CACHE_FORMAT_VERSION`] of the writer.
    pub format_version: u16,
    /// The entry id (its folder name).
    pub id: String,
    /// The source's canonical path (lossy where not Unicode).
    pub source_path: String,
    /// The path's exact bytes in hex, only when `source_path` is lossy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_path_hex: Option<String>,
    /// Source size in bytes.
    pub source_size_bytes: u64,
    /// Source modification time, ns since the Unix epoch.
    pub source_mtime_ns: i64,
    /// Engine rate in Hz.
    pub engine_rate_hz: u32,
    /// Chunk length in frames.
    pub chunk_frames: u32,
    /// Channels.
    pub channels: u8,
    /// Source bits per sample when its samples are exact integers; `null`
    /// when they are stored as 24-bit.
    pub exact_bits_per_sample: Option<u8>,
}

impl MetaRecord {
    /// The record of `key`.
    pub fn of(key: &StemKey) -> MetaRecord {
        let lossy = key.source_path.to_string_lossy();
        let exact = lossy.as_bytes() == path_bytes(&key.source_path).as_slice();
        MetaRecord {
            format_version: CACHE_FORMAT_VERSION,
            id: key.id().to_string(),
            source_path: lossy.into_owned(),
            source_path_hex: (!exact).then(|| {
                path_bytes(&key.source_path)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect()
            }),
            source_size_bytes: key.source_size_bytes,
            source_mtime_ns: key.source_mtime_ns,
            engine_rate_hz: key.engine_rate_hz,
            chunk_frames: key.chunk_frames,
            channels: key.channels,
            exact_bits_per_sample: key.origin.exact_bits(),
        }
    }

    /// The origin the record describes.
    pub fn origin(&self) -> SampleOrigin {
        match self.exact_bits_per_sample {
            Some(bits_per_sample) => SampleOrigin::ExactInteger { bits_per_sample },
            None => SampleOrigin::Other,
        }
    }

    /// Reads `path`; `None` when it is missing, unreadable or not a valid
    /// record.
    pub fn read(path: &Path) -> Option<MetaRecord> {
        Self::parse(&std::fs::read(path).ok()?)
    }

    /// The record in a file's `bytes`; `None` when they are not a valid
    /// record.
    pub fn parse(bytes: &[u8]) -> Option<MetaRecord> {
        serde_json::from_slice(bytes).ok()
    }

    /// The file's bytes (pretty JSON and a newline).
    pub fn to_json(&self) -> Vec<u8> {
        // Plain strings and numbers: serialization cannot fail.
        let mut text = serde_json::to_vec_pretty(self).unwrap_or_default();
        text.push(b'\n');
        text
    }

    /// Writes the record to `path` atomically.
    pub fn write(&self, tmp_dir: &Path, path: &Path, sync: bool) -> Result<(), CacheError> {
        fsio::write_atomic(tmp_dir, path, &self.to_json(), sync)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::naming::META_FILE_NAME;
    use std::path::PathBuf;

    fn key() -> StemKey {
        StemKey {
            source_path: PathBuf::from("/music/a b/ü.flac"),
            source_size_bytes: 10,
            source_mtime_ns: -5,
            engine_rate_hz: 96_000,
            chunk_frames: 16_384,
            channels: 1,
            origin: SampleOrigin::ExactInteger {
                bits_per_sample: 24,
            },
        }
    }

    #[test]
    fn round_trips_through_json() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(META_FILE_NAME);
        let record = MetaRecord::of(&key());
        assert!(record.source_path_hex.is_none());
        assert_eq!(record.origin(), key().origin);
        record.write(dir.path(), &path, false).expect("write");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(
            text.contains("\"source_path\": \"/music/a b/ü.flac\""),
            "{text}"
        );
        assert_eq!(MetaRecord::read(&path), Some(record));
    }

    #[test]
    fn bad_files_read_as_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(META_FILE_NAME);
        assert_eq!(MetaRecord::read(&path), None);
        for bad in [&b""[..], b"{", b"{\"format_version\": 1}", b"\x00\x00"] {
            std::fs::write(&path, bad).expect("write");
            assert_eq!(MetaRecord::read(&path), None);
        }
        let mut text = serde_json::to_string(&MetaRecord::of(&key())).expect("json");
        text.insert_str(1, "\"extra\": 1, ");
        std::fs::write(&path, text).expect("write");
        assert_eq!(MetaRecord::read(&path), None, "unknown fields are refused");
    }

    #[cfg(unix)]
    #[test]
    fn non_unicode_paths_keep_their_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let mut k = key();
        k.source_path = PathBuf::from(std::ffi::OsStr::from_bytes(b"/m/\xff.wav"));
        let record = MetaRecord::of(&k);
        assert_eq!(record.source_path_hex.as_deref(), Some("2f6d2fff2e776176"));
        let mut other = k.clone();
        other.source_path = PathBuf::from(std::ffi::OsStr::from_bytes(b"/m/\xfe.wav"));
        assert_ne!(MetaRecord::of(&other), record);
    }
}
