//! LOADER THREADS: the chunk cache's errors and misses, each naming the
//! file and the cause.
//!
//! A [`Miss`] is not a failure: the caller decodes the chunk from its
//! source (and may write it back). A [`CacheError`] is a write or setup that
//! could not be done; playback never depends on it either.

use std::path::PathBuf;

/// Why a cache operation (open, entry creation, write) could not be done.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// A file system operation failed.
    #[error("{}: cannot {action}: {source}", path.display())]
    Io {
        /// The file or folder operated on.
        path: PathBuf,
        /// What was being done ("create folder", "write", "rename" …).
        action: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The samples handed to a write do not form a valid chunk of the
    /// entry (a caller's bug: wrong channel count or length).
    #[error("{}: invalid chunk: {reason}", path.display())]
    InvalidChunk {
        /// The chunk file that was to be written.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The chunk does not fit the cache folder's byte budget even after
    /// evicting every entry not in use: it is not written.
    #[error("{}: not written: the cache holds {used_bytes} bytes in use of its {budget_bytes}-byte budget", path.display())]
    OverBudget {
        /// The chunk file that was to be written.
        path: PathBuf,
        /// The folder's budget.
        budget_bytes: u64,
        /// Bytes in entries after eviction.
        used_bytes: u64,
    },
    /// The chunk's samples cannot be stored exactly (off the cache's grid,
    /// or peaks of +6 dBFS and more): not written, so a hit never differs
    /// from a decode.
    #[error("{}: not written: its samples cannot be stored exactly", path.display())]
    Inexact {
        /// The chunk file that was to be written.
        path: PathBuf,
    },
    /// The FLAC encoder refused the samples (should not happen: they are
    /// range-checked first).
    #[error("{}: cannot encode: {source}", path.display())]
    Encode {
        /// The chunk file that was to be written.
        path: PathBuf,
        /// The encoder's error.
        #[source]
        source: super::flac::FlacError,
    },
}

impl CacheError {
    /// An I/O error while doing `action` ("create", "rename into", "list",
    /// …) to `path`.
    pub fn io(path: &std::path::Path, action: &'static str, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    }
}

/// Why a chunk could not be served from the cache. Every miss means: decode
/// the chunk from its source instead; nothing wrong is ever played.
#[derive(Debug, thiserror::Error)]
pub enum Miss {
    /// The chunk is not in the cache.
    #[error("not cached")]
    Absent,
    /// The chunk file was damaged or does not belong where it was found; it
    /// has been removed.
    #[error("{}: damaged cache chunk (removed): {reason}", path.display())]
    Corrupt {
        /// The chunk file.
        path: PathBuf,
        /// What check failed.
        reason: Corruption,
    },
    /// The chunk file exists but could not be read (permissions, I/O
    /// error); it is left in place.
    #[error("{}: cannot read cache chunk: {source}", path.display())]
    Unreadable {
        /// The chunk file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl Miss {
    /// The corruption found, if this miss is [`Miss::Corrupt`].
    pub fn corruption(&self) -> Option<&Corruption> {
        match self {
            Miss::Corrupt { reason, .. } => Some(reason),
            _ => None,
        }
    }
}

/// Which check a damaged chunk file failed, in the order they are made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Corruption {
    /// Shorter than the fixed header.
    #[error("{len_bytes} bytes is shorter than the chunk header")]
    TooShort {
        /// The file's length.
        len_bytes: u64,
    },
    /// Does not start with the chunk magic.
    #[error("not a chunk file (bad magic)")]
    BadMagic,
    /// The header's own checksum does not match.
    #[error("header checksum mismatch")]
    HeaderChecksum,
    /// Written by another chunk format version.
    #[error("chunk format version {found}, expected {expected}")]
    Version {
        /// The file's version.
        found: u16,
        /// This build's version.
        expected: u16,
    },
    /// Belongs to another entry (another source, rate or layout).
    #[error("chunk belongs to another cache entry")]
    WrongKey,
    /// Holds another chunk of the stem.
    #[error("holds chunk {found}, expected chunk {expected}")]
    WrongIndex {
        /// The index in the header.
        found: u32,
        /// The index asked for.
        expected: u32,
    },
    /// Holds another number of frames than the caller expects.
    #[error("holds {found} frames, expected {expected}")]
    WrongFrames {
        /// Frames in the header (or decoded).
        found: u32,
        /// Frames expected.
        expected: u32,
    },
    /// Another channel count than the entry's.
    #[error("holds {found} channels, expected {expected}")]
    WrongChannels {
        /// Channels in the header.
        found: u8,
        /// The entry's channels.
        expected: u8,
    },
    /// A header field out of its valid range.
    #[error("invalid header field: {field}")]
    BadField {
        /// Which field.
        field: &'static str,
    },
    /// The file is shorter or longer than its header says (a truncated or
    /// extended write).
    #[error("file is {found_bytes} bytes, its header says {expected_bytes}")]
    Length {
        /// Length the header implies.
        expected_bytes: u64,
        /// Actual length.
        found_bytes: u64,
    },
    /// The payload's checksum does not match (a flipped byte).
    #[error("payload checksum mismatch")]
    PayloadChecksum,
    /// A RAW payload's length or values are out of range.
    #[error("RAW payload length or value out of range")]
    RawPayload,
    /// The payload does not decode.
    #[error("payload does not decode: {reason}")]
    Decode {
        /// The decoder's error.
        reason: super::flac::FlacError,
    },
    /// The payload decoded to another number of frames than its header says
    /// (symphonia drops damaged FLAC frames silently).
    #[error("payload decoded to {found} frames, header says {expected}")]
    DecodedFrames {
        /// Frames decoded.
        found: u64,
        /// Frames in the header.
        expected: u32,
    },
    /// The decoded samples' checksum does not match.
    #[error("decoded samples checksum mismatch")]
    SampleChecksum,
}
