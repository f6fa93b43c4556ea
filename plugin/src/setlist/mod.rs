//! CONTROL THREAD: the setlist format, folder scanning and validation.
//!
//! A setlist is read from a TOML file (or the JSON form the corpus uses),
//! from a folder of song folders, or from a folder of audio files (one
//! song). See [`load`] and the README for the format. Everything here is
//! untrusted input: counts, path lengths and file sizes are limited, and
//! every error names the file, and where it can the line and the field.
#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    clippy::disallowed_macros
)]

mod folder;
mod format;
pub mod sections;

use std::path::{Path, PathBuf};

pub use crate::bridge::{Bus, SongEnd, SongTempo, StemMix};
pub use folder::{is_audio_file, AUDIO_EXTENSIONS};
pub use sections::{Section, SectionSource};

/// Most songs in one setlist.
pub const MAX_SONGS: usize = 1000;
/// Most stems in one song (the audio thread's table size).
pub const MAX_STEMS_PER_SONG: usize = crate::bridge::MAX_STEMS;
/// Largest setlist file: 1 MiB.
pub const MAX_SETLIST_FILE_BYTES: u64 = 1 << 20;
/// Longest stem path or name, bytes.
pub const MAX_PATH_BYTES: usize = 4096;
/// Largest stem offset: 1 hour.
pub const MAX_OFFSET_SECS: f64 = 3600.0;
/// `master_trim_db` range accepted, dB.
pub const MASTER_TRIM_RANGE_DB: (f32, f32) = (-12.0, 12.0);
/// Gain range accepted, dB.
pub const GAIN_RANGE_DB: (f32, f32) = (-144.0, 24.0);

/// An ordered list of songs.
#[derive(Clone, Debug, PartialEq)]
pub struct Setlist {
    /// Where it was read from (file or folder).
    pub source: PathBuf,
    /// Display name.
    pub name: String,
    /// Songs in play order.
    pub songs: Vec<Song>,
}

/// Stems that share a timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Song {
    /// Display name.
    pub name: String,
    /// Stems, in mixer order.
    pub stems: Vec<Stem>,
    /// The auto-master's extra gain for this song over its target, dB
    /// (`master_trim_db`; default 0): a ballad a little under, an anthem a
    /// little over.
    pub master_trim_db: f32,
    /// What happens when the song ends (`end`, `fade_secs`; the setlist's
    /// default where the song gives none; continue by default).
    pub end: SongEnd,
    /// Tempo, count-in and generated click (`bpm`, `beats_per_bar`,
    /// `count_in_bars`, `click`), if the song gives a `bpm`.
    pub tempo: Option<SongTempo>,
    /// Sections given in the setlist (`[[song.section]]`), ascending; when
    /// empty, [`sections::resolve`] looks in the marker file and the stems.
    pub sections: Vec<Section>,
    /// A marker file (Standard MIDI File or REAPER region/marker CSV):
    /// `markers` in a setlist file, a folder song's only `.mid`/`.csv`.
    pub markers: Option<PathBuf>,
}

impl Song {
    /// A song named `name` of `stems` with the defaults: no trim, continue
    /// at its end.
    pub fn new(name: impl Into<String>, stems: Vec<Stem>) -> Self {
        Self {
            name: name.into(),
            stems,
            master_trim_db: 0.0,
            end: SongEnd::Continue,
            tempo: None,
            sections: Vec::new(),
            markers: None,
        }
    }
}

/// One audio file of a song with its mix settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Stem {
    /// Display name (defaults to the file stem).
    pub name: String,
    /// Absolute or setlist-relative path, resolved against the setlist's
    /// folder.
    pub path: PathBuf,
    /// Gain, pan, mute, solo and output bus.
    pub mix: StemMix,
    /// Silence before the stem starts on the song's timeline, seconds.
    pub offset_secs: f64,
}

/// Why a setlist cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SetlistError {
    /// The file or folder cannot be read.
    #[error("{}: cannot read setlist: {source}", path.display())]
    Io {
        /// The setlist path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A syntax or field error, with its position.
    #[error("{}:{line}:{column}: {field}: {message}", path.display())]
    Parse {
        /// The setlist file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// Field path, e.g. `song[2].stem[0].pan`.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Over a limit or otherwise unusable as a whole.
    #[error("{}: {field}: {message}", path.display())]
    Invalid {
        /// The setlist file or folder.
        path: PathBuf,
        /// Field or item at fault.
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// Reads a setlist from `path`: a `.toml` or `.json` file, a folder of song
/// folders, or a folder of audio files (one song). Only reads the setlist and
/// lists folders; the audio files are probed later (a missing or broken file
/// is a stem problem, not a setlist error).
///
/// # Errors
/// [`SetlistError`] naming the file, line and field.
pub fn load(path: &Path) -> Result<Setlist, SetlistError> {
    let meta = std::fs::metadata(path).map_err(|e| SetlistError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    if meta.is_dir() {
        return folder::load_folder(path);
    }
    if meta.len() > MAX_SETLIST_FILE_BYTES {
        return Err(too_large(path, meta.len()));
    }
    let bytes = std::fs::read(path).map_err(|e| SetlistError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    parse(path, &bytes)
}

fn too_large(path: &Path, bytes: u64) -> SetlistError {
    SetlistError::Invalid {
        path: path.to_path_buf(),
        field: "file".into(),
        message: format!(
            "setlist file is {bytes} bytes, over the {MAX_SETLIST_FILE_BYTES}-byte limit"
        ),
    }
}

/// Parses a setlist file's `bytes` as read from `path` (JSON if its
/// extension is `.json`, TOML otherwise; stem paths resolve against its
/// folder). What [`load`] does after reading the file; nothing is read.
///
/// # Errors
/// [`SetlistError`]: over [`MAX_SETLIST_FILE_BYTES`], not UTF-8, or a
/// syntax or field error with its line, column and field.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Setlist, SetlistError> {
    if bytes.len() as u64 > MAX_SETLIST_FILE_BYTES {
        return Err(too_large(path, bytes.len() as u64));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| SetlistError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    })?;
    let is_json = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    format::parse(path, text, is_json)
}

impl Setlist {
    /// Total number of stems.
    pub fn stem_count(&self) -> usize {
        self.songs.iter().map(|s| s.stems.len()).sum()
    }
}
