//! Setlist files and folders: parse, then check that what came out keeps
//! the format's limits and that an error names the file.

use std::path::{Path, PathBuf};

use trax::setlist::{
    self, Setlist, SetlistError, GAIN_RANGE_DB, MASTER_TRIM_RANGE_DB, MAX_OFFSET_SECS,
    MAX_PATH_BYTES, MAX_SONGS, MAX_STEMS_PER_SONG,
};

/// What every setlist that parses must hold.
fn check(list: &Setlist) {
    assert!(list.songs.len() <= MAX_SONGS, "{} songs", list.songs.len());
    for song in &list.songs {
        assert!(
            song.stems.len() <= MAX_STEMS_PER_SONG,
            "{} stems",
            song.stems.len()
        );
        assert!(
            (MASTER_TRIM_RANGE_DB.0..=MASTER_TRIM_RANGE_DB.1).contains(&song.master_trim_db),
            "master trim {}",
            song.master_trim_db
        );
        for st in &song.stems {
            let m = st.mix;
            assert!(
                (GAIN_RANGE_DB.0..=GAIN_RANGE_DB.1).contains(&m.gain_db),
                "gain {}",
                m.gain_db
            );
            assert!((-1.0..=1.0).contains(&m.pan), "pan {}", m.pan);
            assert!(
                (0.0..=MAX_OFFSET_SECS).contains(&st.offset_secs),
                "offset {}",
                st.offset_secs
            );
            assert!(
                st.name.len() <= MAX_PATH_BYTES,
                "name of {} bytes",
                st.name.len()
            );
            assert!(!st.path.as_os_str().is_empty(), "empty stem path");
        }
    }
}

/// An error must name the setlist it is about.
fn check_error(e: &SetlistError, path: &Path) {
    let text = e.to_string();
    assert!(
        text.contains(&*path.to_string_lossy()),
        "error does not name the file: {text}"
    );
}

fn parse_as(data: &[u8], name: &str) {
    let path = PathBuf::from("/fuzz").join(name);
    match setlist::parse(&path, data) {
        Ok(list) => check(&list),
        Err(e) => check_error(&e, &path),
    }
}

/// A setlist file read as TOML.
pub fn toml(data: &[u8]) {
    parse_as(data, "set.toml");
}

/// A setlist file read as JSON.
pub fn json(data: &[u8]) {
    parse_as(data, "set.json");
}

/// A file name from arbitrary bytes (any bytes but `/` and NUL on Unix).
#[cfg(unix)]
fn os_name(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

/// A file name from arbitrary bytes (as text elsewhere).
#[cfg(not(unix))]
fn os_name(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

/// A folder setlist: each input line is a path of up to two components
/// (`song/file` or `file`, names arbitrary but for `/` and NUL, which no
/// file name holds) made as an empty file (or a folder with a trailing
/// `/`) in a fresh scratch folder; then the folder is loaded. Every stem
/// must be an existing audio file of its song's folder, songs and stems in
/// name order.
pub fn folder(data: &[u8]) {
    let root = crate::scratch::dir().join("folder");
    let _ = std::fs::remove_dir_all(&root);
    if std::fs::create_dir_all(&root).is_err() {
        return;
    }
    for line in data.split(|b| *b == b'\n').take(48) {
        let dir_only = line.ends_with(b"/");
        let parts: Vec<&[u8]> = line
            .split(|b| *b == b'/')
            .filter(|p| !p.is_empty() && *p != b"." && *p != b"..")
            .take(2)
            .collect();
        let Some((last, dirs)) = parts.split_last() else {
            continue;
        };
        let name = |p: &[u8]| -> PathBuf {
            let clean: Vec<u8> = p.iter().copied().filter(|b| *b != 0).take(200).collect();
            os_name(&clean)
        };
        let mut at = root.clone();
        for d in dirs {
            at.push(name(d));
        }
        let target = at.join(name(last));
        let _ = std::fs::create_dir_all(&at);
        let _ = if dir_only {
            std::fs::create_dir_all(&target)
        } else {
            std::fs::write(&target, b"")
        };
    }
    match setlist::load(&root) {
        Ok(list) => {
            check(&list);
            for song in &list.songs {
                let names: Vec<_> = song.stems.iter().map(|s| s.path.clone()).collect();
                let mut sorted = names.clone();
                sorted.sort();
                assert_eq!(names, sorted, "stems not in name order");
                for st in &song.stems {
                    assert!(st.path.is_file(), "{} is not a file", st.path.display());
                    assert!(
                        setlist::is_audio_file(&st.path),
                        "{} is not audio",
                        st.path.display()
                    );
                    assert!(
                        st.path.starts_with(&root),
                        "{} outside the folder",
                        st.path.display()
                    );
                }
            }
        }
        Err(e) => check_error(&e, &root),
    }
}
