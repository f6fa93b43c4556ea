//! The soak's short mode (the one-hour run is `cargo xtask soak`; see the
//! README): 45 s of `trax soak` at real time on 20 hard-linked
//! copies of the corpus's 30-stem song, with everything the long run does:
//! auto-advance, a seek every 7 s, the auto-master switched every 30 s
//! with background analysis, a 128 MB cache that evicts, a second `trax`
//! process on the same cache, one core kept busy. It must end with 0
//! underruns and 0 problems (`trax soak` exits non-zero otherwise).
//!
//! `cargo xtask test` runs it alone, after the rest: a realtime run
//! competing with the other tests for the two cores would measure them.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::child::trax_binary;
use common::corpus;

/// A folder setlist of `songs` songs, each of hard links (or copies) to
/// the audio files of `song`.
fn linked_setlist(song: &Path, songs: usize) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("soak-setlist");
    let _ = std::fs::remove_dir_all(&dir);
    let files: Vec<PathBuf> = std::fs::read_dir(song)
        .expect("song folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "flac"))
        .collect();
    for i in 1..=songs {
        let to = dir.join(format!("song_{i:02}"));
        std::fs::create_dir_all(&to).expect("song folder");
        for f in &files {
            let target = to.join(f.file_name().expect("file name"));
            if std::fs::hard_link(f, &target).is_err() {
                std::fs::copy(f, &target).expect("copy a stem");
            }
        }
    }
    dir
}

#[test]
fn a_short_soak_has_no_underrun_and_no_problem() {
    let setlist = linked_setlist(&corpus().join("songs/04_frozen_bubble_30stems"), 20);
    let out = Command::new(trax_binary())
        .arg("soak")
        .arg(&setlist)
        .args(["--minutes", "0.75", "--report-secs", "10"])
        .output()
        .expect("run trax soak");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}{stderr}");
    assert!(
        out.status.success(),
        "the soak failed: {}",
        stderr.lines().last().unwrap_or("")
    );
    assert!(stdout.contains("soak: PASS"), "{stdout}");
    let reports = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .count();
    assert!(reports >= 3, "{reports} reports in 45 s: {stdout}");
}
