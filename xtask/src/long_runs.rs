//! `cargo xtask stress` and `cargo xtask soak`: the long realtime runs
//! on the release binary.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use super::{build_and_render_demo, cargo, ensure_system_packages, root, run, BUILD_PACKAGES};

/// The demo setlist rendered at real time with a seek every 2 s while one
/// busy-looping process per core competes for the CPU; the report's
/// underrun count is the figure.
pub(crate) fn stress(extra: &[String]) -> Result<()> {
    let mut render = build_and_render_demo(&root().join("target/stress.wav"))?;
    render.args(["--realtime", "--seek-every", "2"]).args(extra);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut hogs = Vec::new();
    for _ in 0..cores {
        hogs.push(
            Command::new("sh")
                .args(["-c", "while :; do :; done"])
                .spawn()
                .context("cannot start a CPU load process")?,
        );
    }
    eprintln!(
        "xtask: {cores} busy-loop processes running (pids {:?})",
        hogs.iter().map(|h| h.id()).collect::<Vec<_>>()
    );
    let result = run(render);
    for mut h in hogs {
        let _ = h.kill();
        let _ = h.wait();
    }
    result
}

/// Songs of the soak's setlist (hard links of one 30-stem song).
const SOAK_SONGS: usize = 20;

/// Makes `dir` a folder setlist of `songs` songs, each a folder of hard
/// links to the audio files of `song` (copies where the file system has no
/// hard links across the two folders). Hard links are other paths, so each
/// song has cache entries of its own, as distinct songs would.
fn linked_setlist(song: &Path, dir: &Path, songs: usize) -> Result<()> {
    let _ = std::fs::remove_dir_all(dir);
    let files: Vec<PathBuf> = std::fs::read_dir(song)
        .with_context(|| format!("cannot read {}", song.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e != "json"))
        .collect();
    for i in 1..=songs {
        let to = dir.join(format!("song_{i:02}"));
        std::fs::create_dir_all(&to).with_context(|| format!("cannot create {}", to.display()))?;
        for f in &files {
            let Some(name) = f.file_name() else { continue };
            let target = to.join(name);
            if std::fs::hard_link(f, &target).is_err() {
                std::fs::copy(f, &target).with_context(|| {
                    format!("cannot copy {} to {}", f.display(), target.display())
                })?;
            }
        }
    }
    Ok(())
}

/// `cargo xtask soak`: the one-hour soak of issue 17. Builds the long
/// corpus once (the corpus script with 90-s songs, in
/// `target/soak-corpus`; it installs its Debian packages), makes a setlist
/// of 20 hard-linked copies of its 30-stem song, and runs the release
/// `trax soak` on it (60 minutes, a report every 5; options after `soak`
/// go to `trax soak`, e.g. `--minutes 10`).
pub(crate) fn soak(extra: &[String]) -> Result<()> {
    ensure_system_packages(BUILD_PACKAGES)?;
    let root = root();
    let corpus = root.join("target/soak-corpus");
    let song = corpus.join("songs/04_frozen_bubble_30stems");
    if !song.is_dir() {
        let script = std::env::var_os("TRAX_CORPUS")
            .map_or_else(|| root.join("../shared/corpus"), PathBuf::from)
            .join("make_corpus.sh");
        eprintln!(
            "xtask: building the long corpus (90-s songs) in {}",
            corpus.display()
        );
        let mut make = Command::new("bash");
        make.arg(&script)
            .env("MAX_SECONDS", "90")
            .env("OUT", &corpus)
            .env("WORK", root.join("target/soak-corpus-work"));
        run(make)?;
    }
    let setlist = root.join("target/soak-setlist");
    linked_setlist(&song, &setlist, SOAK_SONGS)?;
    let mut build = cargo();
    build.args(["build", "--release", "-p", "trax-standalone"]);
    run(build)?;
    let mut soak = Command::new(root.join("target/release/trax"));
    soak.arg("soak").arg(&setlist).args(extra);
    run(soak)
}
