//! ANY THREAD: errors of one stem, each naming the file and the cause.

use std::path::PathBuf;

/// Why a stem cannot play (or plays damaged).
#[derive(Debug, thiserror::Error)]
pub enum StemError {
    /// The file is missing or unreadable.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The stem's file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The path names a folder, not a file.
    #[error("{}: is a folder, not an audio file", path.display())]
    Folder {
        /// The stem's path.
        path: PathBuf,
    },
    /// Not an audio format or codec symphonia can decode.
    #[error("{}: unsupported: {what}", path.display())]
    Unsupported {
        /// The stem's file.
        path: PathBuf,
        /// What is unsupported.
        what: String,
    },
    /// The header or data is invalid.
    #[error("{}: invalid or corrupt audio: {reason}", path.display())]
    Corrupt {
        /// The stem's file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The audio ends before the header's length.
    #[error(
        "{}: file is truncated: the audio ends before the {header_frames} frames the header promises; the missing part plays as silence",
        path.display()
    )]
    Truncated {
        /// The stem's file.
        path: PathBuf,
        /// Length the header claims.
        header_frames: u64,
    },
    /// Over a limit on untrusted input.
    #[error("{}: too large: {what}", path.display())]
    TooLarge {
        /// The stem's file.
        path: PathBuf,
        /// Which limit.
        what: String,
    },
    /// The decoder panicked; the stem is skipped, nothing else stops.
    #[error("{}: decoder panicked: {message}", path.display())]
    Panicked {
        /// The stem's file.
        path: PathBuf,
        /// The panic message.
        message: String,
    },
    /// The resampler could not be built for this rate pair, or failed.
    #[error("{}: cannot resample {from_hz} Hz to {to_hz} Hz: {source}", path.display())]
    Resample {
        /// The stem's file.
        path: PathBuf,
        /// Source rate.
        from_hz: u32,
        /// Engine rate.
        to_hz: u32,
        /// rubato's error.
        #[source]
        source: ResampleFailure,
    },
}

/// rubato's error, from building the resampler or from running it.
#[derive(Debug, thiserror::Error)]
pub enum ResampleFailure {
    /// No resampler fits the rate pair and block size.
    #[error("{0}")]
    Construction(#[from] rubato::ResamplerConstructionError),
    /// A block could not be resampled.
    #[error("{0}")]
    Process(#[from] rubato::ResampleError),
    /// A block buffer did not fit the resampler's sizes (a bug).
    #[error("{0}")]
    Buffer(#[from] rubato::audioadapter_buffers::SizeError),
}
