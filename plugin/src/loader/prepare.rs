//! LOADER THREADS: probing a setlist's stems (in parallel on the loader's
//! private pool) and turning it into the tables the engine and the
//! scheduler use.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;

use super::cursor::engine_length_frames;
use super::error::StemError;
use super::source::{SourceInfo, SourceReader};
use crate::bridge::StemMix;
use crate::setlist::Setlist;

/// A stem ready to stream: its probe and its length at the engine rate.
#[derive(Clone, Debug)]
pub struct PreparedStem {
    /// Display name.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// Mix settings from the setlist.
    pub mix: StemMix,
    /// Offset on the song's timeline, frames at the engine rate.
    pub offset_frames: u64,
    /// What the probe found; `None` if the stem cannot play.
    pub info: Option<SourceInfo>,
    /// Length at the engine rate, frames (0 if it cannot play).
    pub length_frames: u64,
}

impl PreparedStem {
    /// Channels after down-mix (1 or 2), 0 if the stem cannot play.
    pub fn channels(&self) -> u16 {
        self.info.as_ref().map_or(0, |i| i.channels)
    }
}

/// A song ready to stream.
#[derive(Clone, Debug)]
pub struct PreparedSong {
    /// Display name.
    pub name: String,
    /// Longest stem plus its offset, frames at the engine rate.
    pub length_frames: u64,
    /// Stems in order.
    pub stems: Vec<PreparedStem>,
    /// What happens at its end.
    pub end: crate::bridge::SongEnd,
    /// Its tempo (count-in, click, bar lines): the setlist's, else its
    /// marker file's (no count-in, no click).
    pub tempo: Option<crate::bridge::SongTempo>,
    /// Its sections, ascending, each starting inside the song (empty: the
    /// song is one section).
    pub sections: Vec<PreparedSection>,
    /// Where the sections came from.
    pub section_source: crate::setlist::SectionSource,
    /// Marker files that could not be read (each names the file and the
    /// cause); the song plays without their sections.
    pub marker_errors: Vec<String>,
}

/// A section of a prepared song.
#[derive(Clone, Debug, PartialEq)]
pub struct PreparedSection {
    /// Display name.
    pub name: String,
    /// Its first frame on the song's timeline, at the engine rate.
    pub start_frames: u64,
}

impl PreparedSong {
    /// Section `i`'s frames: its start and the next section's start (or
    /// the song's end), at the engine rate.
    pub fn section_range(&self, i: usize) -> Option<(u64, u64)> {
        let start = self.sections.get(i)?.start_frames;
        let end = self
            .sections
            .get(i + 1)
            .map_or(self.length_frames, |s| s.start_frames);
        Some((start, end))
    }

    /// The section that plays at `frame` (the last one starting at or
    /// before it), if any.
    pub fn section_at(&self, frame: u64) -> Option<usize> {
        self.sections.iter().rposition(|s| s.start_frames <= frame)
    }
}

/// A setlist probed for one engine rate.
#[derive(Clone, Debug)]
pub struct PreparedSetlist {
    /// Load counter, part of every chunk key.
    pub epoch: u16,
    /// Engine rate the lengths are in, Hz.
    pub engine_rate_hz: u32,
    /// Display name.
    pub name: String,
    /// Songs in order.
    pub songs: Vec<PreparedSong>,
    /// The chunk cache, if the player uses one.
    pub cache: Option<Arc<super::CacheLink>>,
    /// Per flat stem index: its cache entry (`None`: not cached).
    pub cache_entries: Vec<Option<Arc<crate::cache::Entry>>>,
    /// Decoding waits for room in the cache writer's queue (offline
    /// renders) instead of dropping the copy (realtime).
    pub cache_wait: bool,
    /// Read the chunk cache, never write it (analysis).
    pub cache_read_only: bool,
}

impl PreparedSetlist {
    /// Stem `stem` of song `song`.
    pub fn stem(&self, song: usize, stem: usize) -> Option<&PreparedStem> {
        self.songs.get(song)?.stems.get(stem)
    }

    /// Most stems in any song.
    pub fn max_stems(&self) -> usize {
        self.songs.iter().map(|s| s.stems.len()).max().unwrap_or(0)
    }

    /// Index of stem `stem` of song `song` in a flat, song-after-song list.
    pub fn flat_index(&self, song: usize, stem: usize) -> usize {
        self.songs[..song.min(self.songs.len())]
            .iter()
            .map(|s| s.stems.len())
            .sum::<usize>()
            + stem
    }
}

/// How bad a stem problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The stem cannot play and is skipped; the rest of the song plays.
    Skipped,
    /// The stem plays, with silence where its data is missing or damaged.
    Damaged,
    /// The stem plays as expected, but something deserves attention (a
    /// down-mix, a file whose content does not match its extension).
    Warning,
}

/// What kind of problem; a stem reports each kind once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    /// Cannot be opened or decoded at all.
    Unplayable,
    /// Ends before its header's length.
    Truncated,
    /// Holes of corrupt or missing data.
    Corrupt,
    /// More than two channels, down-mixed.
    Downmix,
    /// The content does not match the file extension.
    Extension,
}

/// A problem with one stem, for the log, the report and the editor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StemProblem {
    /// Song index.
    pub song: usize,
    /// Stem index in the song.
    pub stem: usize,
    /// How bad.
    pub severity: Severity,
    /// What kind.
    pub kind: ProblemKind,
    /// Message naming the file and the cause.
    pub message: String,
}

impl std::fmt::Display for StemProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.severity {
            Severity::Skipped => "skipped",
            Severity::Damaged => "damaged",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "song {} stem {} {what}: {}",
            self.song + 1,
            self.stem + 1,
            self.message
        )
    }
}

fn extension_matches(path: &std::path::Path, codec: &str) -> bool {
    let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
        return true;
    };
    let ext = ext.to_ascii_lowercase();
    match ext.as_str() {
        "mp3" => codec == "mp3",
        "flac" => codec == "flac",
        "ogg" | "oga" => matches!(codec, "vorbis" | "opus" | "flac"),
        "wav" | "wave" => matches!(codec, "pcm" | "adpcm"),
        _ => true,
    }
}

/// What a probe found wrong with a stem: how bad, what kind, and the
/// message naming the file.
pub type ProbeProblem = (Severity, ProblemKind, String);

/// Probes one stem as a setlist load does: opens it and checks that its
/// audio reaches the header's length. Returns the info (if it can play)
/// and its problems. A panic in the decoder is caught and is a problem
/// (the stem is skipped). Not realtime-safe (file I/O).
pub fn probe(path: &std::path::Path) -> (Option<SourceInfo>, Vec<ProbeProblem>) {
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut reader = SourceReader::open(path)?;
        let mut problems = Vec::new();
        if let Err(e) = reader.check_tail() {
            problems.push((Severity::Damaged, ProblemKind::Truncated, e.to_string()));
        }
        let info = reader.info().clone();
        if info.file_channels > 2 {
            problems.push((
                Severity::Warning,
                ProblemKind::Downmix,
                format!(
                    "{}: {} channels down-mixed to stereo",
                    path.display(),
                    info.file_channels
                ),
            ));
        }
        if !extension_matches(path, info.codec) {
            problems.push((
                Severity::Warning,
                ProblemKind::Extension,
                format!(
                    "{}: the content is {} audio, not what the file extension says; playing it as {}",
                    path.display(),
                    info.codec,
                    info.codec
                ),
            ));
        }
        Ok::<_, StemError>((info, problems))
    }));
    match result {
        Ok(Ok((info, problems))) => (Some(info), problems),
        Ok(Err(e)) => (
            None,
            vec![(Severity::Skipped, ProblemKind::Unplayable, e.to_string())],
        ),
        Err(panic) => {
            let message = crate::thread::panic_message(&panic);
            let e = StemError::Panicked {
                path: path.to_path_buf(),
                message,
            };
            (
                None,
                vec![(Severity::Skipped, ProblemKind::Unplayable, e.to_string())],
            )
        }
    }
}

/// Probes every stem of `setlist` on `pool` and builds the prepared setlist
/// for `engine_rate_hz`. Not realtime-safe (file I/O); blocks the caller
/// until all stems are probed (≈ 1 ms per stem, in parallel). Once
/// `cancel` is set, the stems not probed yet are left unprobed (they
/// cannot play; no problem is reported): the setlist is not going to be
/// played (its player is being shut down).
pub fn prepare(
    setlist: &Setlist,
    engine_rate_hz: u32,
    epoch: u16,
    pool: &rayon::ThreadPool,
    cancel: &std::sync::atomic::AtomicBool,
) -> (PreparedSetlist, Vec<StemProblem>) {
    let flat: Vec<(usize, usize, PathBuf)> = setlist
        .songs
        .iter()
        .enumerate()
        .flat_map(|(si, s)| {
            s.stems
                .iter()
                .enumerate()
                .map(move |(ti, st)| (si, ti, st.path.clone()))
        })
        .collect();
    let probes: Vec<_> = pool.install(|| {
        flat.par_iter()
            .map(|(_, _, p)| {
                if cancel.load(std::sync::atomic::Ordering::Relaxed) {
                    (None, Vec::new())
                } else {
                    probe(p)
                }
            })
            .collect()
    });
    let resolved: Vec<crate::setlist::sections::ResolvedSections> = pool.install(|| {
        setlist
            .songs
            .par_iter()
            .map(crate::setlist::sections::resolve)
            .collect()
    });
    let mut problems = Vec::new();
    let mut probes = probes.into_iter();
    let mut resolved = resolved.into_iter();
    let songs = setlist
        .songs
        .iter()
        .enumerate()
        .map(|(si, song)| {
            let stems: Vec<PreparedStem> = song
                .stems
                .iter()
                .enumerate()
                .map(|(ti, st)| {
                    let (info, probs) = probes.next().unwrap_or((None, Vec::new()));
                    for (severity, kind, message) in probs {
                        problems.push(StemProblem {
                            song: si,
                            stem: ti,
                            severity,
                            kind,
                            message,
                        });
                    }
                    let length_frames = info.as_ref().map_or(0, |i| {
                        engine_length_frames(i.frames, i.sample_rate_hz, engine_rate_hz)
                    });
                    PreparedStem {
                        name: st.name.clone(),
                        path: st.path.clone(),
                        mix: st.mix,
                        offset_frames: (st.offset_secs * engine_rate_hz as f64).round() as u64,
                        info,
                        length_frames,
                    }
                })
                .collect();
            let length_frames = stems
                .iter()
                .filter(|s| s.info.is_some())
                .map(|s| s.offset_frames + s.length_frames)
                .max()
                .unwrap_or(0);
            let found =
                resolved
                    .next()
                    .unwrap_or_else(|| crate::setlist::sections::ResolvedSections {
                        sections: Vec::new(),
                        source: crate::setlist::SectionSource::None,
                        tempo: None,
                        errors: Vec::new(),
                    });
            for e in &found.errors {
                tracing::warn!("song {}: {e}", si + 1);
            }
            let sections: Vec<PreparedSection> = found
                .sections
                .iter()
                .map(|s| PreparedSection {
                    name: s.name.clone(),
                    start_frames: (s.start_secs * f64::from(engine_rate_hz)).round() as u64,
                })
                .filter(|s| s.start_frames < length_frames)
                .collect();
            let tempo = song.tempo.or_else(|| {
                found.tempo.map(|t| crate::bridge::SongTempo {
                    bpm: (t.bpm as f32).clamp(
                        crate::bridge::SongTempo::MIN_BPM,
                        crate::bridge::SongTempo::MAX_BPM,
                    ),
                    beats_per_bar: t.beats_per_bar.clamp(1, 16),
                    count_in_bars: 0,
                    click: false,
                })
            });
            PreparedSong {
                name: song.name.clone(),
                length_frames,
                stems,
                end: song.end,
                tempo,
                section_source: if sections.is_empty() {
                    crate::setlist::SectionSource::None
                } else {
                    found.source
                },
                sections,
                marker_errors: found.errors,
            }
        })
        .collect();
    (
        PreparedSetlist {
            epoch,
            engine_rate_hz,
            name: setlist.name.clone(),
            songs,
            cache: None,
            cache_entries: Vec::new(),
            cache_wait: false,
            cache_read_only: false,
        },
        problems,
    )
}
