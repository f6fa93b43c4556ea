//! CONTROL THREAD (setlist loading): section markers read from the files
//! musicians have: cue points and regions of a WAV/BWF file, the CUESHEET
//! of a FLAC file, the markers of a Standard MIDI File, and REAPER's
//! Region/Marker Manager CSV export.
//!
//! [`read_markers`] reads a file by its extension; each format also has a
//! parser of bytes ([`parse_wav`], [`parse_flac`], [`parse_smf`],
//! [`parse_reaper_csv`]) that the tests and the fuzz target call. Every
//! input is untrusted: no length field is allocated before the bytes are
//! there, the audio payload of a WAV or FLAC file is never read (its chunk
//! and block headers are, seeking over the rest), at most [`MAX_MARKERS`]
//! markers come out, names are cut to [`MAX_NAME_BYTES`], and every
//! position is finite and non-negative, sorted by start.
#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    clippy::disallowed_macros
)]

mod flac;
mod reaper_csv;
mod riff;
mod smf;
#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod tests_limits;

use std::io::Read;
use std::path::{Path, PathBuf};

pub use flac::parse_flac;
pub use reaper_csv::{parse_reaper_csv, parse_reaper_csv_with_rate};
pub use riff::parse_wav;
pub use smf::parse_smf;

/// Most markers one file may give; a file with more is refused.
pub const MAX_MARKERS: usize = 10_000;
/// Longest marker name, bytes of UTF-8 (longer names are cut on a char
/// boundary).
pub const MAX_NAME_BYTES: usize = 256;
/// Largest Standard MIDI File read (read whole): 16 MiB.
pub const MAX_SMF_BYTES: u64 = 16 << 20;
/// Largest REAPER CSV file read (read whole): 4 MiB.
pub const MAX_CSV_BYTES: u64 = 4 << 20;
/// Largest WAV `cue ` or `LIST`/`adtl` chunk read into memory: 4 MiB
/// (10 000 cue points take 240 kB). Other chunks, `data` above all, are
/// sought over, never read.
pub const MAX_WAV_CHUNK_BYTES: u64 = 4 << 20;

/// One named position on a song's timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    /// Display name: at most [`MAX_NAME_BYTES`] bytes, trimmed, never
    /// empty (an unnamed marker gets one such as `Marker 3`).
    pub name: String,
    /// Start, seconds from the file's first frame (finite, `>= 0`).
    pub start_secs: f64,
    /// A region's end, seconds from the file's first frame, if the source
    /// gives one (finite, `> start_secs`).
    pub end_secs: Option<f64>,
}

/// The tempo a marker file carries: a Standard MIDI File's first Set
/// Tempo (`FF 51`) and first Time Signature (`FF 58`) meta events.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FileTempo {
    /// Tempo, beats per minute (finite, `> 0`): quarter notes per minute
    /// in a MIDI file (`60 000 000 / FF 51`'s microseconds per quarter).
    pub bpm: f64,
    /// Beats in a bar: the time signature's numerator (`>= 1`).
    pub beats_per_bar: u8,
}

/// What one marker file gave.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MarkerFile {
    /// The markers, sorted by start; of several at the same start, the
    /// first in the file is kept. At most [`MAX_MARKERS`].
    pub markers: Vec<Marker>,
    /// The file's tempo, where the format carries one (only a Standard
    /// MIDI File does).
    pub tempo: Option<FileTempo>,
}

/// The formats markers are read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkerFormat {
    /// RIFF WAVE (and BWF, RF64/BW64): `cue ` points named by a
    /// `LIST`/`adtl` chunk (Microsoft/IBM Multimedia Programming Interface
    /// and Data Specifications 1.0, EBU Tech 3285).
    Wav,
    /// FLAC: the CUESHEET metadata block (RFC 9639, section 8.7).
    Flac,
    /// Standard MIDI File 1.0: Marker and Cue Point meta events.
    Smf,
    /// REAPER's Region/Marker Manager CSV export (RFC 4180 fields).
    ReaperCsv,
}

impl MarkerFormat {
    /// The format of `path` by its extension (case-insensitive): `wav`,
    /// `wave`, `bwf`; `flac`; `mid`, `midi`, `smf`; `csv`.
    pub fn of_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "wav" | "wave" | "bwf" => Some(Self::Wav),
            "flac" => Some(Self::Flac),
            "mid" | "midi" | "smf" => Some(Self::Smf),
            "csv" => Some(Self::ReaperCsv),
            _ => None,
        }
    }

    /// The format's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Wav => "WAV",
            Self::Flac => "FLAC",
            Self::Smf => "MIDI file",
            Self::ReaperCsv => "REAPER CSV",
        }
    }
}

impl std::fmt::Display for MarkerFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a marker file's bytes give no markers (what a byte parser
/// returns; [`MarkerError`] adds the file).
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Reading the file failed (not an early end: that is
    /// [`ParseError::Truncated`]).
    #[error("read failed: {0}")]
    Io(#[from] std::io::Error),
    /// The bytes are not of the format at all.
    #[error("not a {format}: {why}")]
    NotFormat {
        /// The format expected.
        format: MarkerFormat,
        /// What is missing.
        why: &'static str,
    },
    /// The file ends inside a structure the markers need.
    #[error("{format}: the file ends inside {what}")]
    Truncated {
        /// The format.
        format: MarkerFormat,
        /// The structure cut short.
        what: String,
    },
    /// A structure holds a value that cannot be right.
    #[error("{format}: {message}")]
    Invalid {
        /// The format.
        format: MarkerFormat,
        /// What is wrong.
        message: String,
    },
    /// More than [`MAX_MARKERS`] markers.
    #[error("{format}: more than {MAX_MARKERS} markers")]
    TooManyMarkers {
        /// The format.
        format: MarkerFormat,
    },
    /// Larger than the format's limit.
    #[error("{format}: {what} of {bytes} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// The format.
        format: MarkerFormat,
        /// The file or the chunk.
        what: &'static str,
        /// Its size, bytes.
        bytes: u64,
        /// The limit, bytes.
        limit: u64,
    },
    /// A row of a CSV file that cannot be read.
    #[error("{format}: line {line}: {message}")]
    Row {
        /// The format.
        format: MarkerFormat,
        /// The 1-based line the row starts on.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

impl ParseError {
    /// A [`ParseError::Invalid`].
    pub(crate) fn invalid(format: MarkerFormat, message: impl Into<String>) -> Self {
        Self::Invalid {
            format,
            message: message.into(),
        }
    }

    /// A [`ParseError::Truncated`].
    pub(crate) fn truncated(format: MarkerFormat, what: impl Into<String>) -> Self {
        Self::Truncated {
            format,
            what: what.into(),
        }
    }

    /// The error of a failed read: an early end is [`ParseError::Truncated`].
    pub(crate) fn read(format: MarkerFormat, what: &str, e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            Self::truncated(format, what)
        } else {
            Self::Io(e)
        }
    }
}

/// Why a marker file cannot be read. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum MarkerError {
    /// The file cannot be opened or read.
    #[error("{}: cannot read marker file: {source}", path.display())]
    Io {
        /// The marker file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The extension names no format markers are read from.
    #[error(
        "{}: not a marker file: the extension must be wav, wave, bwf, flac, mid, midi, smf or csv",
        path.display()
    )]
    UnknownExtension {
        /// The file.
        path: PathBuf,
    },
    /// The file's contents are not a marker file of its format.
    #[error("{}: {source}", path.display())]
    Parse {
        /// The marker file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: ParseError,
    },
}

/// Reads the markers of `path`, by its extension: `wav`/`wave`/`bwf` as
/// RIFF WAVE, `flac`, `mid`/`midi`/`smf` as a Standard MIDI File, `csv` as
/// REAPER's Region/Marker Manager export (without a tempo: rows in
/// measures and beats are errors; [`read_markers_with_tempo`] gives one).
/// A WAV or FLAC file's audio is never read: its chunk and block headers
/// are, seeking over the rest.
///
/// # Errors
/// [`MarkerError`] naming the file: it cannot be read, its extension is
/// none of the above, or its contents are not of that format or break a
/// limit.
pub fn read_markers(path: &Path) -> Result<MarkerFile, MarkerError> {
    read_markers_with_tempo(path, None)
}

/// [`read_markers`], with the song's tempo for a REAPER CSV exported in
/// measures and beats (see [`parse_reaper_csv`]).
///
/// # Errors
/// As [`read_markers`].
pub fn read_markers_with_tempo(
    path: &Path,
    tempo: Option<FileTempo>,
) -> Result<MarkerFile, MarkerError> {
    let format = MarkerFormat::of_path(path).ok_or_else(|| MarkerError::UnknownExtension {
        path: path.to_path_buf(),
    })?;
    let io = |source| MarkerError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let parsed = match format {
        MarkerFormat::Wav => riff::read_wav(&mut std::io::BufReader::new(file)),
        MarkerFormat::Flac => flac::read_flac(&mut std::io::BufReader::new(file)),
        MarkerFormat::Smf => read_whole(file, format, MAX_SMF_BYTES).and_then(|b| parse_smf(&b)),
        MarkerFormat::ReaperCsv => {
            read_whole(file, format, MAX_CSV_BYTES).and_then(|b| parse_reaper_csv(&b, tempo))
        }
    };
    parsed.map_err(|e| match e {
        ParseError::Io(source) => io(source),
        source => MarkerError::Parse {
            path: path.to_path_buf(),
            source,
        },
    })
}

/// The whole of `file`, if it is at most `limit` bytes.
fn read_whole(
    file: std::fs::File,
    format: MarkerFormat,
    limit: u64,
) -> Result<Vec<u8>, ParseError> {
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ParseError::TooLarge {
            format,
            what: "file",
            bytes: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

/// Gathers a file's markers, at most [`MAX_MARKERS`], then sorts them and
/// checks the promises of [`MarkerFile`] ([`Markers::finish`]).
pub(crate) struct Markers {
    format: MarkerFormat,
    list: Vec<Marker>,
}

impl Markers {
    /// An empty list for a file of `format`.
    pub(crate) fn new(format: MarkerFormat) -> Self {
        Self {
            format,
            list: Vec::new(),
        }
    }

    /// How many markers so far.
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    /// Adds a marker named `name` (cleaned by [`clean_name`]; `fallback`
    /// gives the name where that leaves nothing) at `start_secs`, a region
    /// if `end_secs` is given.
    ///
    /// # Errors
    /// [`ParseError::TooManyMarkers`] past [`MAX_MARKERS`];
    /// [`ParseError::Invalid`] for a start that is not finite or negative.
    pub(crate) fn push(
        &mut self,
        name: &str,
        fallback: impl FnOnce() -> String,
        start_secs: f64,
        end_secs: Option<f64>,
    ) -> Result<(), ParseError> {
        if self.list.len() >= MAX_MARKERS {
            return Err(ParseError::TooManyMarkers {
                format: self.format,
            });
        }
        if !start_secs.is_finite() || start_secs < 0.0 {
            return Err(ParseError::invalid(
                self.format,
                format!("marker position {start_secs} s is not a time on the song's timeline"),
            ));
        }
        let mut name = clean_name(name);
        if name.is_empty() {
            name = clean_name(&fallback());
        }
        // An end that is not after the start is no region.
        let end_secs = end_secs.filter(|e| e.is_finite() && *e > start_secs);
        self.list.push(Marker {
            name,
            start_secs,
            end_secs,
        });
        Ok(())
    }

    /// The markers sorted by start (stably: of several at one start, the
    /// first added is kept), with `tempo`.
    pub(crate) fn finish(self, tempo: Option<FileTempo>) -> MarkerFile {
        let mut markers = self.list;
        markers.sort_by(|a, b| a.start_secs.total_cmp(&b.start_secs));
        markers.dedup_by(|later, first| later.start_secs == first.start_secs);
        MarkerFile { markers, tempo }
    }
}

/// A name as shown: control characters as spaces, trimmed, cut to
/// [`MAX_NAME_BYTES`] on a char boundary.
pub(crate) fn clean_name(raw: &str) -> String {
    let mut out = String::new();
    for c in raw.trim().chars() {
        let c = if c.is_control() { ' ' } else { c };
        if out.len() + c.len_utf8() > MAX_NAME_BYTES {
            break;
        }
        out.push(c);
    }
    out.trim_end().to_string()
}

/// Text of a format that does not say its encoding (RIFF `ZSTR`s): UTF-8
/// where it is valid, else ISO-8859-1 (each byte a char), up to the first
/// NUL.
pub(crate) fn text_of(bytes: &[u8]) -> String {
    let bytes = bytes.split(|b| *b == 0).next().unwrap_or_default();
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// A bounds-checked reader over a byte slice: every read is `None` past
/// the end, nothing is allocated.
pub(crate) struct Bytes<'a> {
    rest: &'a [u8],
}

impl<'a> Bytes<'a> {
    /// A reader at the start of `bytes`.
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// Bytes left.
    pub(crate) fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.rest.len() {
            return None;
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Some(head)
    }

    /// The next `N` bytes as an array.
    pub(crate) fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N).and_then(|b| b.try_into().ok())
    }

    /// One byte.
    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.array::<1>().map(|[b]| b)
    }

    /// A little-endian `u32` (RIFF, Vorbis comments).
    pub(crate) fn u32_le(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }

    /// A big-endian `u64` (FLAC).
    pub(crate) fn u64_be(&mut self) -> Option<u64> {
        self.array().map(u64::from_be_bytes)
    }
}
