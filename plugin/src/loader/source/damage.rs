//! LOADER THREADS: damage that symphonia hides, as the reader reports it.
//!
//! symphonia decodes a truncated file to fewer frames than its header claims
//! and drops a corrupt FLAC frame silently; the reader finds both from packet
//! timestamps and lengths ([`super::SourceReader`]) and records a [`Damage`].

use std::fs::File;
use std::path::Path;

/// Damage found while decoding: the audio is kept in time with silence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Damage {
    /// Packets were missing or undecodable: `frames` frames from `at_frame`
    /// (source rate) were replaced by silence.
    Hole {
        /// First missing frame (source rate).
        at_frame: u64,
        /// Missing frames.
        frames: u64,
    },
    /// Samples that were NaN, infinite or beyond
    /// [`super::MAX_SAMPLE_MAGNITUDE`] were replaced by silence.
    NonFinite {
        /// Frame (source rate) where the decoded block starts.
        at_frame: u64,
        /// Samples replaced.
        samples: u64,
    },
    /// Audio ended at `decoded_frames` though the header says
    /// `header_frames`.
    Truncated {
        /// Where the audio ended (or a bound on it).
        decoded_frames: u64,
        /// The header's length.
        header_frames: u64,
    },
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Damage::Hole { at_frame, frames } => write!(
                f,
                "corrupt or missing audio data: {frames} frames from frame {at_frame} replaced by silence"
            ),
            Damage::NonFinite { at_frame, samples } => write!(
                f,
                "{samples} samples that are not finite numbers (NaN or infinity) or beyond ±65536 (+96 dBFS) near frame {at_frame} replaced by silence"
            ),
            Damage::Truncated {
                decoded_frames,
                header_frames,
            } => write!(
                f,
                "file is truncated: the header says {header_frames} frames but the audio ends at or before frame {decoded_frames}; the rest plays as silence"
            ),
        }
    }
}

/// Whether `path` is an Ogg file whose last page is cut short (a truncated
/// download or copy): symphonia derives the length from the last complete
/// page and plays such a file without complaint.
pub(super) fn ogg_cut_mid_page(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = File::open(path) else {
        return false;
    };
    let Ok(len) = f.metadata().map(|m| m.len()) else {
        return false;
    };
    let mut magic = [0u8; 4];
    if f.read_exact(&mut magic).is_err() || &magic != b"OggS" {
        return false;
    }
    // Pages are at most 65 307 bytes: the last page starts in the last 64 KiB.
    let start = len.saturating_sub(65_536 + 27);
    let mut buf = Vec::new();
    if f.seek(SeekFrom::Start(start)).is_err() || f.read_to_end(&mut buf).is_err() {
        return false;
    }
    let Some(at) = buf.windows(4).rposition(|w| w == b"OggS") else {
        return true;
    };
    let page = &buf[at..];
    if page.len() < 27 {
        return true;
    }
    let segments = page[26] as usize;
    if page.len() < 27 + segments {
        return true;
    }
    let body: usize = page[27..27 + segments].iter().map(|&b| b as usize).sum();
    let complete = page.len() >= 27 + segments + body;
    let end_of_stream = page[5] & 0x04 != 0;
    !(complete && end_of_stream)
}
