//! CONTROL THREAD: a folder as a setlist. Subfolders holding audio files are
//! songs; a folder that holds audio files itself is a one-song setlist.
//! Songs and stems are sorted by name; files without an audio extension are
//! ignored.

use std::path::{Path, PathBuf};

use super::{Bus, Setlist, SetlistError, Song, Stem, StemMix, MAX_SONGS, MAX_STEMS_PER_SONG};

/// File extensions taken as audio (case-insensitive): the containers
/// symphonia reads.
pub const AUDIO_EXTENSIONS: &[&str] = &[
    "aif", "aifc", "aiff", "caf", "flac", "m4a", "mka", "mkv", "mp1", "mp2", "mp3", "mp4", "oga",
    "ogg", "wav", "wave", "webm",
];

/// Whether `path` has an audio extension.
pub fn is_audio_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.iter().any(|a| a.eq_ignore_ascii_case(e)))
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, SetlistError> {
    let rd = std::fs::read_dir(dir).map_err(|e| SetlistError::Io {
        path: dir.to_path_buf(),
        source: e,
    })?;
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| SetlistError::Io {
            path: dir.to_path_buf(),
            source: e,
        })?;
        out.push(entry.path());
        if out.len() > 100_000 {
            return Err(SetlistError::Invalid {
                path: dir.to_path_buf(),
                field: "folder".into(),
                message: "more than 100000 entries".into(),
            });
        }
    }
    out.sort();
    Ok(out)
}

fn song_from(dir: &Path, files: Vec<PathBuf>) -> Result<Song, SetlistError> {
    if files.len() > MAX_STEMS_PER_SONG {
        return Err(SetlistError::Invalid {
            path: dir.to_path_buf(),
            field: "stems".into(),
            message: format!(
                "{} audio files, over the limit of {MAX_STEMS_PER_SONG} stems per song",
                files.len()
            ),
        });
    }
    let name = dir
        .file_name()
        .map_or_else(|| "Song".into(), |n| n.to_string_lossy().into_owned());
    let stems = files
        .into_iter()
        .map(|p| {
            let name = p
                .file_stem()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            Stem {
                // Click and guide files go to their buses (Bus::from_file_name).
                mix: StemMix {
                    bus: Bus::from_file_name(&name),
                    ..StemMix::default()
                },
                name,
                path: p,
                offset_secs: 0.0,
            }
        })
        .collect();
    let mut song = Song::new(name, stems);
    song.markers = super::sections::marker_file_in(dir);
    Ok(song)
}

pub(super) fn load_folder(dir: &Path) -> Result<Setlist, SetlistError> {
    let entries = sorted_entries(dir)?;
    let audio: Vec<PathBuf> = entries
        .iter()
        .filter(|p| p.is_file() && is_audio_file(p))
        .cloned()
        .collect();
    let name = dir
        .file_name()
        .map_or_else(|| "setlist".into(), |n| n.to_string_lossy().into_owned());
    let songs = if !audio.is_empty() {
        vec![song_from(dir, audio)?]
    } else {
        let mut songs = Vec::new();
        for sub in entries.iter().filter(|p| p.is_dir()) {
            let files: Vec<PathBuf> = sorted_entries(sub)?
                .into_iter()
                .filter(|p| p.is_file() && is_audio_file(p))
                .collect();
            if files.is_empty() {
                continue;
            }
            if songs.len() == MAX_SONGS {
                return Err(SetlistError::Invalid {
                    path: dir.to_path_buf(),
                    field: "songs".into(),
                    message: format!("more than {MAX_SONGS} song folders"),
                });
            }
            songs.push(song_from(sub, files)?);
        }
        songs
    };
    if songs.is_empty() {
        return Err(SetlistError::Invalid {
            path: dir.to_path_buf(),
            field: "folder".into(),
            message: format!(
                "no audio files ({}) in the folder or its subfolders",
                AUDIO_EXTENSIONS.join(", ")
            ),
        });
    }
    Ok(Setlist {
        source: dir.to_path_buf(),
        name,
        songs,
    })
}
