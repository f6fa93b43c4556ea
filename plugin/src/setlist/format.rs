//! CONTROL THREAD: the setlist file format (TOML, or the corpus's JSON) and
//! its validation. Field values are checked while parsing, so every error
//! carries the line, column and field path.

use std::fmt;
use std::marker::PhantomData;
use std::path::Path;

use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;

use super::sections::{self, FileSection, MAX_SECTIONS};
use super::{
    Bus, Setlist, SetlistError, Song, SongEnd, SongTempo, Stem, StemMix, GAIN_RANGE_DB,
    MASTER_TRIM_RANGE_DB, MAX_OFFSET_SECS, MAX_PATH_BYTES, MAX_SONGS, MAX_STEMS_PER_SONG,
};

/// A list with at most `N` items, refused while parsing when longer.
struct Bounded<T, const N: usize>(Vec<T>);

impl<'de, T: Deserialize<'de>, const N: usize> Deserialize<'de> for Bounded<T, N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T, const N: usize>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>, const N: usize> Visitor<'de> for V<T, N> {
            type Value = Bounded<T, N>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a list of at most {N} items")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    if items.len() == N {
                        return Err(de::Error::custom(format!(
                            "more than {N} items (limit {N})"
                        )));
                    }
                    items.push(item);
                }
                Ok(Bounded(items))
            }
        }
        d.deserialize_seq(V::<T, N>(PhantomData))
    }
}

/// A string of at most [`MAX_PATH_BYTES`] bytes, not empty, no NUL.
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() {
            return Err(de::Error::custom("must not be empty"));
        }
        if s.len() > MAX_PATH_BYTES {
            return Err(de::Error::custom(format!(
                "{} bytes long, over the {MAX_PATH_BYTES}-byte limit",
                s.len()
            )));
        }
        if s.contains('\0') {
            return Err(de::Error::custom("contains a NUL character"));
        }
        Ok(Text(s))
    }
}

fn ranged<'de, D: Deserializer<'de>>(d: D, lo: f64, hi: f64, unit: &str) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    if !v.is_finite() || v < lo || v > hi {
        return Err(de::Error::custom(format!(
            "{v} is out of range ({lo} ..= {hi}{unit})"
        )));
    }
    Ok(v)
}

fn gain_db<'de, D: Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
    ranged(d, GAIN_RANGE_DB.0 as f64, GAIN_RANGE_DB.1 as f64, " dB").map(|v| v as f32)
}

fn master_trim_db<'de, D: Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
    ranged(
        d,
        MASTER_TRIM_RANGE_DB.0 as f64,
        MASTER_TRIM_RANGE_DB.1 as f64,
        " dB",
    )
    .map(|v| v as f32)
}

fn pan<'de, D: Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
    ranged(d, -1.0, 1.0, "").map(|v| v as f32)
}

fn offset_secs<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    ranged(d, 0.0, MAX_OFFSET_SECS, " s")
}

fn fade_secs<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f32>, D::Error> {
    ranged(d, 0.01, f64::from(SongEnd::MAX_FADE_SECS), " s").map(|v| Some(v as f32))
}

/// A stem's `output`: a bus name ([`Bus::parse`]).
fn output<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Bus>, D::Error> {
    let name = String::deserialize(d)?;
    Bus::parse(&name).map(Some).ok_or_else(|| {
        let names: Vec<&str> = Bus::ALL.iter().map(|b| b.key()).collect();
        de::Error::custom(format!(
            "unknown output bus \"{name}\" (one of {})",
            names.join(", ")
        ))
    })
}

fn bpm<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f32>, D::Error> {
    ranged(
        d,
        f64::from(SongTempo::MIN_BPM),
        f64::from(SongTempo::MAX_BPM),
        " bpm",
    )
    .map(|v| Some(v as f32))
}

fn beats_per_bar<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u8>, D::Error> {
    let v = u8::deserialize(d)?;
    if !(1..=16).contains(&v) {
        return Err(de::Error::custom(format!("{v} is out of range (1 ..= 16)")));
    }
    Ok(Some(v))
}

fn count_in_bars<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u8>, D::Error> {
    let v = u8::deserialize(d)?;
    if !SongTempo::COUNT_IN_BARS.contains(&v) {
        return Err(de::Error::custom(format!(
            "{v} bars: a count-in is 0, 1, 2 or 4 bars"
        )));
    }
    Ok(Some(v))
}

/// `end`: what happens when a song ends.
#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum EndName {
    Continue,
    Stop,
    Fade,
}

/// The song end `end` and `fade_secs` give, over `default`.
fn song_end(end: Option<EndName>, fade_secs: Option<f32>, default: SongEnd) -> SongEnd {
    let default_fade = match default {
        SongEnd::Fade { secs } => secs,
        _ => SongEnd::DEFAULT_FADE_SECS,
    };
    match end {
        None => match (default, fade_secs) {
            (SongEnd::Fade { .. }, Some(secs)) => SongEnd::Fade { secs },
            _ => default,
        },
        Some(EndName::Continue) => SongEnd::Continue,
        Some(EndName::Stop) => SongEnd::Stop,
        Some(EndName::Fade) => SongEnd::Fade {
            secs: fade_secs.unwrap_or(default_fade),
        },
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSetlist {
    name: Option<Text>,
    /// The default song end.
    end: Option<EndName>,
    #[serde(default, deserialize_with = "fade_secs")]
    fade_secs: Option<f32>,
    /// The default count-in of songs with a `bpm`.
    #[serde(default, deserialize_with = "count_in_bars")]
    count_in_bars: Option<u8>,
    /// The default generated click of songs with a `bpm`.
    click: Option<bool>,
    #[serde(alias = "songs")]
    song: Bounded<FileSong, MAX_SONGS>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSong {
    #[serde(alias = "title")]
    name: Option<Text>,
    #[serde(alias = "stems")]
    stem: Bounded<FileStem, MAX_STEMS_PER_SONG>,
    #[serde(default, deserialize_with = "master_trim_db")]
    master_trim_db: f32,
    end: Option<EndName>,
    #[serde(default, deserialize_with = "fade_secs")]
    fade_secs: Option<f32>,
    #[serde(default, deserialize_with = "bpm")]
    bpm: Option<f32>,
    #[serde(default, deserialize_with = "beats_per_bar")]
    beats_per_bar: Option<u8>,
    #[serde(default, deserialize_with = "count_in_bars")]
    count_in_bars: Option<u8>,
    click: Option<bool>,
    #[serde(default, alias = "sections")]
    section: Option<Bounded<FileSection, MAX_SECTIONS>>,
    /// A marker file (SMF or REAPER CSV), relative to the setlist.
    markers: Option<Text>,
    // Informational fields of the corpus JSON, accepted and ignored.
    #[serde(default, rename = "dir")]
    _dir: Option<IgnoredAny>,
    #[serde(default, rename = "frames")]
    _frames: Option<IgnoredAny>,
    #[serde(default, rename = "sample_rate")]
    _sample_rate: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileStem {
    #[serde(alias = "file")]
    path: Text,
    name: Option<Text>,
    #[serde(default, deserialize_with = "gain_db")]
    gain_db: f32,
    #[serde(default, deserialize_with = "pan")]
    pan: f32,
    #[serde(default)]
    mute: bool,
    #[serde(default)]
    solo: bool,
    #[serde(default, deserialize_with = "offset_secs")]
    offset_secs: f64,
    #[serde(default, deserialize_with = "output")]
    output: Option<Bus>,
}

fn line_col(text: &str, byte: usize) -> (usize, usize) {
    let byte = byte.min(text.len());
    let before = &text[..byte];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(byte, |nl| byte - nl - 1) + 1;
    (line, column)
}

/// Parses setlist `text` read from `path`.
pub(super) fn parse(path: &Path, text: &str, is_json: bool) -> Result<Setlist, SetlistError> {
    let parsed: FileSetlist = if is_json {
        let mut de = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            SetlistError::Parse {
                path: path.to_path_buf(),
                line: inner.line(),
                column: inner.column(),
                field,
                message: inner.to_string(),
            }
        })?
    } else {
        let de = toml::Deserializer::new(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            let (line, column) = inner.span().map_or((1, 1), |s| line_col(text, s.start));
            SetlistError::Parse {
                path: path.to_path_buf(),
                line,
                column,
                field,
                message: inner.message().to_string(),
            }
        })?
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let default_end = song_end(parsed.end, parsed.fade_secs, SongEnd::Continue);
    if let Some(i) = parsed.song.0.iter().position(|s| {
        s.bpm.is_none() && (s.count_in_bars.is_some_and(|b| b > 0) || s.click == Some(true))
    }) {
        return Err(SetlistError::Invalid {
            path: path.to_path_buf(),
            field: format!("song[{i}].bpm"),
            message: "a count-in or a click needs the song's bpm".into(),
        });
    }
    let (default_count_in, default_click) = (parsed.count_in_bars, parsed.click);
    let mut songs: Vec<Song> = Vec::with_capacity(parsed.song.0.len());
    for (i, s) in parsed.song.0.into_iter().enumerate() {
        let tempo = s.bpm.map(|bpm| SongTempo {
            bpm,
            beats_per_bar: s.beats_per_bar.unwrap_or(4),
            count_in_bars: s.count_in_bars.or(default_count_in).unwrap_or(0),
            click: s.click.or(default_click).unwrap_or(false),
        });
        let section_list = s.section.map(|b| b.0).unwrap_or_default();
        let song_sections =
            sections::from_file(i, section_list, tempo.as_ref()).map_err(|(field, message)| {
                SetlistError::Invalid {
                    path: path.to_path_buf(),
                    field,
                    message,
                }
            })?;
        songs.push(Song {
            name: s.name.map_or_else(|| format!("Song {}", i + 1), |t| t.0),
            master_trim_db: s.master_trim_db,
            end: song_end(s.end, s.fade_secs, default_end),
            tempo,
            sections: song_sections,
            markers: s.markers.map(|t| base.join(t.0)),
            stems: s
                .stem
                .0
                .into_iter()
                .map(|st| {
                    let rel = Path::new(&st.path.0);
                    let name = st.name.map(|t| t.0).unwrap_or_else(|| {
                        rel.file_stem()
                            .map_or_else(|| st.path.0.clone(), |n| n.to_string_lossy().into_owned())
                    });
                    Stem {
                        name,
                        path: base.join(rel),
                        mix: StemMix {
                            gain_db: st.gain_db,
                            pan: st.pan,
                            mute: st.mute,
                            solo: st.solo,
                            // Set explicitly, or main: a setlist file says
                            // what it means (file-name defaults are for
                            // folders).
                            bus: st.output.unwrap_or_default(),
                        },
                        offset_secs: st.offset_secs,
                    }
                })
                .collect(),
        });
    }
    if songs.is_empty() {
        return Err(SetlistError::Invalid {
            path: path.to_path_buf(),
            field: "song".into(),
            message: "the setlist has no songs".into(),
        });
    }
    if let Some(i) = songs.iter().position(|s| s.stems.is_empty()) {
        return Err(SetlistError::Invalid {
            path: path.to_path_buf(),
            field: format!("song[{i}].stem"),
            message: "the song has no stems".into(),
        });
    }
    let name = parsed.name.map(|t| t.0).unwrap_or_else(|| {
        path.file_stem()
            .map_or_else(|| "setlist".into(), |n| n.to_string_lossy().into_owned())
    });
    Ok(Setlist {
        source: path.to_path_buf(),
        name,
        songs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(Path::new("/x/set.toml"), text, false)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn parses_toml_with_defaults_and_relative_paths() {
        let text = r#"
name = "Gig"
[[song]]
name = "One"
[[song.stem]]
path = "one/drums.flac"
gain_db = -3.0
pan = -0.25
mute = true
[[song.stem]]
path = "one/bass.wav"
offset_secs = 1.5
solo = true
"#;
        let s = parse(Path::new("/x/set.toml"), text, false).unwrap();
        assert_eq!(s.name, "Gig");
        assert_eq!(s.songs[0].stems[0].path, Path::new("/x/one/drums.flac"));
        assert_eq!(s.songs[0].stems[0].name, "drums");
        assert_eq!(s.songs[0].stems[0].mix.gain_db, -3.0);
        assert!(s.songs[0].stems[0].mix.mute);
        assert_eq!(s.songs[0].stems[1].offset_secs, 1.5);
        assert!(s.songs[0].stems[1].mix.solo);
        assert_eq!(s.songs[0].stems[1].mix.pan, 0.0);
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let e = err("[[song]]\n[[song.stem]]\npath = \"a.flac\"\npan = 2.0\n");
        assert!(e.starts_with("/x/set.toml:4:"), "{e}");
        assert!(e.contains("song[0].stem[0].pan"), "{e}");
        assert!(e.contains("out of range"), "{e}");
        let e = err("[[song]]\n[[song.stem]]\npath = \"a.flac\"\ngian_db = 1.0\n");
        assert!(e.contains(":4:") && e.contains("gian_db"), "{e}");
        let e = err("[[song]]\n[[song.stem]]\n");
        assert!(e.contains("path"), "{e}");
        let e = err("[[song]]\n[[song.stem]]\npath = \"\"\n");
        assert!(e.contains("must not be empty"), "{e}");
        let e = err("");
        assert!(e.contains("song"), "{e}");
        let mut many = String::new();
        many.push_str("[[song]]\n");
        for _ in 0..=MAX_STEMS_PER_SONG {
            many.push_str("[[song.stem]]\npath = \"a.flac\"\n");
        }
        let e = err(&many);
        assert!(e.contains("limit"), "{e}");
    }

    #[test]
    fn parses_outputs_and_song_ends() {
        let text = r#"
end = "fade"
fade_secs = 3.0
[[song]]
[[song.stem]]
path = "a/click.wav"
output = "Click"
[[song.stem]]
path = "a/keys.wav"
[[song]]
end = "stop"
[[song.stem]]
path = "b/guide.wav"
output = "aux 2"
[[song]]
fade_secs = 1.5
[[song.stem]]
path = "c/x.wav"
[[song]]
end = "continue"
[[song.stem]]
path = "d/x.wav"
"#;
        let s = parse(Path::new("/x/set.toml"), text, false).unwrap();
        assert_eq!(s.songs[0].stems[0].mix.bus, Bus::Click);
        assert_eq!(s.songs[0].stems[1].mix.bus, Bus::Main, "no file-name guess");
        assert_eq!(s.songs[1].stems[0].mix.bus, Bus::Aux2);
        assert_eq!(s.songs[0].end, SongEnd::Fade { secs: 3.0 });
        assert_eq!(s.songs[1].end, SongEnd::Stop);
        assert_eq!(s.songs[2].end, SongEnd::Fade { secs: 1.5 });
        assert_eq!(s.songs[3].end, SongEnd::Continue);
        let e = err("[[song]]\n[[song.stem]]\npath = \"a.flac\"\noutput = \"monitor\"\n");
        assert!(
            e.contains("song[0].stem[0].output") && e.contains("unknown output bus"),
            "{e}"
        );
        let e = err("[[song]]\nend = \"loop\"\n[[song.stem]]\npath = \"a.flac\"\n");
        assert!(e.contains("song[0].end"), "{e}");
        let e = err("fade_secs = 0.0\n[[song]]\n[[song.stem]]\npath = \"a.flac\"\n");
        assert!(e.contains("fade_secs") && e.contains("out of range"), "{e}");
        let plain = parse(
            Path::new("/x/s.toml"),
            "[[song]]\n[[song.stem]]\npath = \"a\"\n",
            false,
        );
        assert_eq!(
            plain.unwrap().songs[0].end,
            SongEnd::Continue,
            "today's default"
        );
    }

    #[test]
    fn parses_tempo_count_in_and_click() {
        let text = r#"
count_in_bars = 2
[[song]]
bpm = 120.0
[[song.stem]]
path = "a.wav"
[[song]]
bpm = 90.5
beats_per_bar = 3
count_in_bars = 0
click = true
[[song.stem]]
path = "b.wav"
[[song]]
[[song.stem]]
path = "c.wav"
"#;
        let s = parse(Path::new("/x/set.toml"), text, false).unwrap();
        let t = s.songs[0].tempo.unwrap();
        assert_eq!(
            (t.bpm, t.beats_per_bar, t.count_in_bars, t.click),
            (120.0, 4, 2, false)
        );
        let t = s.songs[1].tempo.unwrap();
        assert_eq!(
            (t.bpm, t.beats_per_bar, t.count_in_bars, t.click),
            (90.5, 3, 0, true)
        );
        assert_eq!(s.songs[2].tempo, None, "no bpm, no count-in");
        let e = err("[[song]]\ncount_in_bars = 3\nbpm = 100.0\n[[song.stem]]\npath = \"a\"\n");
        assert!(
            e.contains("song[0].count_in_bars") && e.contains("0, 1, 2 or 4"),
            "{e}"
        );
        let e = err("[[song]]\ncount_in_bars = 1\n[[song.stem]]\npath = \"a\"\n");
        assert!(e.contains("song[0].bpm") && e.contains("needs"), "{e}");
        let e = err("[[song]]\nbpm = 1000.0\n[[song.stem]]\npath = \"a\"\n");
        assert!(
            e.contains("song[0].bpm") && e.contains("out of range"),
            "{e}"
        );
    }

    #[test]
    fn parses_corpus_json() {
        let text = r#"{"name": "c", "songs": [{"title": "T", "dir": "d", "frames": 5,
            "sample_rate": 48000, "stems": [{"name": "s", "file": "d/s.flac", "gain_db": 0.0, "pan": 0.0}]}]}"#;
        let s = parse(Path::new("/c/setlist.json"), text, true).unwrap();
        assert_eq!(s.songs[0].name, "T");
        assert_eq!(s.songs[0].stems[0].path, Path::new("/c/d/s.flac"));
        let e = parse(
            Path::new("/c/s.json"),
            "{\"songs\": [{\"stems\": [{\"file\": 3}]}]}",
            true,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("/c/s.json:1:") && e.contains("songs[0].stems[0].file"),
            "{e}"
        );
    }
}
