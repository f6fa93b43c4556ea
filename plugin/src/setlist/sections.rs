//! CONTROL THREAD: a song's sections (Intro, Verse, Chorus …): from the
//! setlist (`[[song.section]]` with `start_secs`, or `bar` with the song's
//! tempo), else from a marker file (`markers = "song.mid"` or a REAPER
//! CSV; a folder song's only `.mid`/`.csv`), else from the first stem whose
//! file carries cues (WAV `cue `/`labl`/`ltxt`, FLAC CUESHEET). The first
//! source that has sections wins; [`resolve`] reads the files (the loader
//! calls it while preparing a setlist, never the audio thread).

use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer};
use serde::Deserialize;

use super::{Song, SongTempo};
use crate::markers::{self, FileTempo, MarkerFile};

/// Most sections in one song.
pub const MAX_SECTIONS: usize = 256;
/// Latest section start accepted: 24 hours, seconds.
pub const MAX_SECTION_START_SECS: f64 = 86_400.0;

/// A named part of a song, from its start to the next section's start (or
/// the song's end).
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    /// Display name ("Chorus 2").
    pub name: String,
    /// Where it starts on the song's timeline, seconds.
    pub start_secs: f64,
}

/// Where a song's sections came from (the README states the order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SectionSource {
    /// None found: the song is one section.
    None,
    /// `[[song.section]]` in the setlist.
    Setlist,
    /// The marker file the song names (or its folder's only one).
    MarkerFile(PathBuf),
    /// The cues of one of its stems.
    StemCues(PathBuf),
}

/// What [`resolve`] found for a song.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedSections {
    /// Sections, ascending by start, none at the same start.
    pub sections: Vec<Section>,
    /// Where they came from.
    pub source: SectionSource,
    /// A tempo from the marker file (SMF), used when the setlist gives none.
    pub tempo: Option<FileTempo>,
    /// Marker files that could not be read (each message names the file
    /// and the cause); the song plays without their sections.
    pub errors: Vec<String>,
}

/// One `[[song.section]]` of a setlist file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileSection {
    name: String,
    #[serde(default, deserialize_with = "start_secs")]
    start_secs: Option<f64>,
    #[serde(default, deserialize_with = "bar")]
    bar: Option<f64>,
}

fn start_secs<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = f64::deserialize(d)?;
    if !v.is_finite() || !(0.0..=MAX_SECTION_START_SECS).contains(&v) {
        return Err(de::Error::custom(format!(
            "{v} s is out of range (0 ..= {MAX_SECTION_START_SECS} s)"
        )));
    }
    Ok(Some(v))
}

fn bar<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = f64::deserialize(d)?;
    if !v.is_finite() || !(1.0..=100_000.0).contains(&v) {
        return Err(de::Error::custom(format!(
            "bar {v} is out of range (1 ..= 100000; bar 1 is the song's start)"
        )));
    }
    Ok(Some(v))
}

/// Seconds from the song's start to the first beat of `bar` (1-based, may
/// be fractional: 9.5 is half-way through bar 9) at `tempo`.
pub fn bar_secs(bar: f64, tempo: &SongTempo) -> f64 {
    (bar - 1.0) * f64::from(tempo.beats_per_bar.max(1)) * 60.0 / f64::from(tempo.bpm.max(1.0))
}

/// The setlist's sections of song `index` (`field` names it in errors).
///
/// # Errors
/// A message naming the field: a section with neither or both of
/// `start_secs` and `bar`, a `bar` in a song without `bpm`, an empty or
/// over-long name.
pub(super) fn from_file(
    index: usize,
    file: Vec<FileSection>,
    tempo: Option<&SongTempo>,
) -> Result<Vec<Section>, (String, String)> {
    let mut out = Vec::with_capacity(file.len());
    for (j, s) in file.into_iter().enumerate() {
        let field = format!("song[{index}].section[{j}]");
        let name = s.name.trim();
        if name.is_empty() || name.len() > super::MAX_PATH_BYTES {
            return Err((format!("{field}.name"), "must be 1 to 4096 bytes".into()));
        }
        let start_secs = match (s.start_secs, s.bar, tempo) {
            (Some(secs), None, _) => secs,
            (None, Some(bar), Some(t)) => bar_secs(bar, t),
            (None, Some(_), None) => {
                return Err((
                    format!("{field}.bar"),
                    "a section given in bars needs the song's bpm".into(),
                ))
            }
            _ => return Err((field, "give exactly one of start_secs and bar".into())),
        };
        out.push(Section {
            name: name.to_string(),
            start_secs,
        });
    }
    Ok(normalized(out))
}

/// Sorted by start; of sections at the same start (within a microsecond),
/// the first given wins; at most [`MAX_SECTIONS`].
fn normalized(mut sections: Vec<Section>) -> Vec<Section> {
    sections.retain(|s| s.start_secs.is_finite() && s.start_secs >= 0.0);
    sections.sort_by(|a, b| a.start_secs.total_cmp(&b.start_secs));
    sections.dedup_by(|b, a| (b.start_secs - a.start_secs).abs() < 1e-6);
    sections.truncate(MAX_SECTIONS);
    sections
}

fn from_markers(file: &MarkerFile) -> Vec<Section> {
    normalized(
        file.markers
            .iter()
            .map(|m| Section {
                name: m.name.clone(),
                start_secs: m.start_secs,
            })
            .collect(),
    )
}

/// A folder song's marker file: the only `.mid`/`.midi` file in `dir`,
/// else the only `.csv` file (several of a kind: none, rather than a
/// guess).
pub(super) fn marker_file_in(dir: &Path) -> Option<PathBuf> {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    let with = |exts: &[&str]| -> Option<PathBuf> {
        let mut found = files.iter().filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| exts.iter().any(|x| e.eq_ignore_ascii_case(x)))
        });
        match (found.next(), found.next()) {
            (Some(p), None) => Some(p.clone()),
            _ => None,
        }
    };
    with(&["mid", "midi"]).or_else(|| with(&["csv"]))
}

/// Finds `song`'s sections in the order the README states: the setlist's,
/// then its marker file's, then the first stem (in mixer order) whose file
/// carries cues. Reads only marker files and the stems' headers (never
/// audio data); an unreadable marker file is reported in
/// [`ResolvedSections::errors`] and the next source is tried.
pub fn resolve(song: &Song) -> ResolvedSections {
    let mut out = ResolvedSections {
        sections: Vec::new(),
        source: SectionSource::None,
        tempo: None,
        errors: Vec::new(),
    };
    if !song.sections.is_empty() {
        out.sections = normalized(song.sections.clone());
        out.source = SectionSource::Setlist;
        return out;
    }
    if let Some(path) = &song.markers {
        let tempo = song.tempo.map(|t| FileTempo {
            bpm: f64::from(t.bpm),
            beats_per_bar: t.beats_per_bar,
        });
        match markers::read_markers_with_tempo(path, tempo) {
            Ok(file) => {
                out.tempo = file.tempo;
                let sections = from_markers(&file);
                if !sections.is_empty() {
                    out.sections = sections;
                    out.source = SectionSource::MarkerFile(path.clone());
                    return out;
                }
            }
            Err(e) => out.errors.push(e.to_string()),
        }
    }
    for stem in &song.stems {
        let cues = stem
            .path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| {
                ["wav", "wave", "bwf", "flac"]
                    .iter()
                    .any(|x| e.eq_ignore_ascii_case(x))
            });
        if !cues {
            continue;
        }
        // A stem that cannot be read is the prober's to report.
        let Ok(file) = markers::read_markers(&stem.path) else {
            continue;
        };
        let offset = stem.offset_secs;
        let sections: Vec<Section> = from_markers(&file)
            .into_iter()
            .map(|s| Section {
                start_secs: s.start_secs + offset,
                ..s
            })
            .collect();
        if !sections.is_empty() {
            out.sections = sections;
            out.source = SectionSource::StemCues(stem.path.clone());
            return out;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setlist::{parse, Stem, StemMix};

    fn toml(text: &str) -> Result<crate::setlist::Setlist, String> {
        parse(Path::new("/x/set.toml"), text.as_bytes()).map_err(|e| e.to_string())
    }

    #[test]
    fn sections_from_the_setlist_in_seconds_or_bars_sorted() {
        let list = toml(
            "[[song]]\nbpm = 120.0\nbeats_per_bar = 3\nmarkers = \"m.csv\"\n\
             [[song.section]]\nname = \"Chorus\"\nbar = 9\n\
             [[song.section]]\nname = \" Intro \"\nstart_secs = 0.0\n\
             [[song.section]]\nname = \"Same start\"\nstart_secs = 0.0\n\
             [[song.section]]\nname = \"Half\"\nbar = 2.5\n\
             [[song.stem]]\npath = \"a.wav\"\n",
        )
        .expect("parses");
        let song = &list.songs[0];
        let got: Vec<(&str, f64)> = song
            .sections
            .iter()
            .map(|s| (s.name.as_str(), s.start_secs))
            .collect();
        // 3/4 at 120 bpm: a bar is 1.5 s; bar 9 starts at 12 s.
        assert_eq!(got, [("Intro", 0.0), ("Half", 2.25), ("Chorus", 12.0)]);
        assert_eq!(song.markers.as_deref(), Some(Path::new("/x/m.csv")));
        assert_eq!(resolve(song).source, SectionSource::Setlist);
        for (text, field, why) in [
            (
                "[[song]]\n[[song.section]]\nname = \"A\"\nbar = 3\n",
                "song[0].section[0].bar",
                "needs the song's bpm",
            ),
            (
                "[[song]]\n[[song.section]]\nname = \"A\"\n",
                "song[0].section[0]",
                "exactly one of start_secs and bar",
            ),
            (
                "[[song]]\n[[song.section]]\nname = \"A\"\nstart_secs = -1.0\n",
                "start_secs",
                "out of range",
            ),
        ] {
            let e = toml(&format!("{text}[[song.stem]]\npath = \"a.wav\"\n")).unwrap_err();
            assert!(e.contains(field) && e.contains(why), "{e}");
        }
    }

    fn song_with(stems: &[&Path], markers: Option<PathBuf>, tempo: Option<SongTempo>) -> Song {
        let mut song = Song::new(
            "S",
            stems
                .iter()
                .map(|p| Stem {
                    name: "x".into(),
                    path: p.to_path_buf(),
                    mix: StemMix::default(),
                    offset_secs: 1.0,
                })
                .collect(),
        );
        song.markers = markers;
        song.tempo = tempo;
        song
    }

    #[test]
    fn a_marker_file_then_the_first_stem_with_cues() {
        let dir = tempfile::tempdir().expect("tempdir");
        let plain = dir.path().join("plain.wav");
        std::fs::write(&plain, &crate::markers::tests::wav_after_data()[..44]).unwrap();
        let cued = dir.path().join("cued.wav");
        std::fs::write(&cued, crate::markers::tests::wav_after_data()).unwrap();
        // The first stem has no cues; the second's are the song's, moved
        // by the stem's offset (1 s).
        let r = resolve(&song_with(&[&plain, &cued], None, None));
        assert_eq!(r.source, SectionSource::StemCues(cued.clone()));
        let starts: Vec<f64> = r.sections.iter().map(|s| s.start_secs).collect();
        assert_eq!(starts, [1.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(r.sections[0].name, "Intro");
        // A REAPER CSV in measures and beats with the song's tempo comes
        // first; an unreadable one is reported, naming it, and the stems
        // are tried next.
        let csv = dir.path().join("m.csv");
        std::fs::write(&csv, "#,Name,Start,End,Length\nM1,Verse,3.1.00,,\n").unwrap();
        let tempo = SongTempo {
            bpm: 120.0,
            beats_per_bar: 4,
            count_in_bars: 0,
            click: false,
        };
        let r = resolve(&song_with(&[&cued], Some(csv.clone()), Some(tempo)));
        assert_eq!(r.source, SectionSource::MarkerFile(csv.clone()));
        assert_eq!(
            r.sections,
            [Section {
                name: "Verse".into(),
                start_secs: 4.0
            }]
        );
        let missing = dir.path().join("gone.mid");
        let r = resolve(&song_with(&[&cued], Some(missing.clone()), None));
        assert_eq!(r.source, SectionSource::StemCues(cued));
        assert!(
            r.errors.len() == 1 && r.errors[0].contains("gone.mid"),
            "{:?}",
            r.errors
        );
    }
}
