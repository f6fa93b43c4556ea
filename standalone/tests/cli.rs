//! The `trax` binary: `render` on the bundled demo (one song, offline),
//! its report, and the exit status and message for unreadable setlists.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn trax() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trax"))
}

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/demo/setlist.toml")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trax-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn render_one_demo_song_offline_and_report() {
    let out = tmp("song3.wav");
    let o = trax()
        .args(["render"])
        .arg(demo())
        .arg("-o")
        .arg(&out)
        .args(["--song", "3", "--block-frames", "333"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.contains("first audio"), "{stdout}");
    assert!(stdout.contains("Planet Blupi music003"), "{stdout}");
    assert!(stdout.contains("0 underruns"), "{stdout}");
    // 22 s at 48 kHz, stereo float.
    let r = hound::WavReader::open(&out).unwrap();
    assert_eq!(r.spec().channels, 2);
    assert_eq!(r.spec().sample_rate, 48_000);
    assert_eq!(r.duration(), 22 * 48_000);
    let _ = std::fs::remove_file(&out);
}

/// The shared corpus (`../shared/corpus` beside the repository, or
/// `$TRAX_CORPUS`).
fn corpus() -> PathBuf {
    std::env::var_os("TRAX_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
        PathBuf::from,
    )
}

#[test]
fn an_offline_render_that_seeks_every_tenth_of_a_second_completes_and_is_repeatable() {
    // The command of issue 17, which stalled ("the loader made no
    // progress for 30 s") when a seek came during the previous one's
    // crossfade.
    let song = corpus().join("songs/01_singularity_awakening");
    let render = |name: &str| {
        let out = tmp(name);
        let o = trax()
            .arg("render")
            .arg(&song)
            .args([
                "--rate",
                "44100",
                "--block-frames",
                "512",
                "--seek-every",
                "0.1",
            ])
            .args(["--seeks-per-song", "100", "--seed", "1", "--no-cache", "-o"])
            .arg(&out)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            o.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(stdout.contains("100 seeks"), "{stdout}");
        assert!(stdout.contains("total: 0 underruns"), "{stdout}");
        assert!(!stdout.contains("problems:"), "{stdout}");
        let bytes = std::fs::read(&out).unwrap();
        let _ = std::fs::remove_file(&out);
        bytes
    };
    let first = render("seeks1.wav");
    let second = render("seeks2.wav");
    assert!(first.len() > 44 + 8 * 44_100, "more than a second rendered");
    assert!(
        first == second,
        "an offline render with seeks depends on timing"
    );
}

#[test]
fn unreadable_setlists_exit_non_zero_naming_the_file() {
    let missing = tmp("nope.toml");
    let o = trax()
        .arg("render")
        .arg(&missing)
        .args(["-o", "/dev/null"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("nope.toml"), "{err}");

    let bad = tmp("bad.toml");
    std::fs::write(
        &bad,
        "[[song]]\n[[song.stem]]\npath = \"a.flac\"\ngain_db = \"loud\"\n",
    )
    .unwrap();
    let o = trax()
        .arg("render")
        .arg(&bad)
        .args(["-o", "/dev/null"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.toml:4:") && err.contains("gain_db"),
        "{err}"
    );

    let o = trax()
        .arg("render")
        .arg(demo())
        .args(["-o", "/dev/null", "--song", "9"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("3 songs"));
}

fn run_ok(args: &[&str], dir: &Path) -> String {
    let o = trax()
        .args(args)
        .arg("--cache-dir")
        .arg(dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "trax {args:?}: {stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    stdout
}

#[test]
fn warm_then_cache_stats_verify_clear() {
    let dir = tmp("cache");
    let _ = std::fs::remove_dir_all(&dir);
    let demo = demo();
    let demo = demo.to_str().unwrap();
    let first = run_ok(&["warm", demo, "--secs", "5"], &dir);
    assert!(first.contains("0 already cached"), "{first}");
    assert!(first.contains("0 write errors"), "{first}");
    // Warming again finds everything the first wrote. It may write the
    // odd chunk a read-ahead of the first was still decoding when that
    // warm moved on and stopped (seen under load: 1 of 270), never more
    // than one per stem (18 in the demo); the other way round, a read-ahead
    // of the first may have written a chunk past the warmed span that the
    // second, stopping earlier, never asks for (CI: 269 found of 270).
    let second = run_ok(&["warm", demo, "--secs", "5"], &dir);
    let figure = |text: &str, after: &str| -> u64 {
        let at = text
            .find(after)
            .unwrap_or_else(|| panic!("{after:?} in {text}"));
        text[at + after.len()..]
            .split_whitespace()
            .next()
            .and_then(|w| w.parse().ok())
            .unwrap_or_else(|| panic!("a number after {after:?} in {text}"))
    };
    let written_first = figure(&first, "s: ");
    let (written_again, found) = (figure(&second, "s: "), figure(&second, "MB), "));
    assert!(found + 18 >= written_first, "{first}\n{second}");
    assert!(written_again <= 18, "{second}");
    let stats = run_ok(&["cache", "stats"], &dir);
    // The second warm read what the first wrote (the first may decode a
    // chunk twice when a window moves back: hits ≤ misses, not equal).
    let count = |word: &str| -> u64 {
        let at = stats
            .find(&format!(" {word}"))
            .unwrap_or_else(|| panic!("{stats}"));
        let head = &stats[..at];
        head[head.rfind(['(', ' ']).map_or(0, |i| i + 1)..]
            .parse()
            .unwrap_or_else(|_| panic!("{word} in {stats}"))
    };
    let (hits, misses) = (count("hits"), count("misses"));
    assert!(hits > 0 && hits <= misses, "{stats}");
    // Damage one chunk file: verify finds it, removes it, keeps the rest.
    let entry = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .find(|e| e.path().join("meta.json").exists())
        .unwrap()
        .path();
    let chunk = entry.join("c00000000.tc");
    let mut bytes = std::fs::read(&chunk).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&chunk, bytes).unwrap();
    let verify = run_ok(&["cache", "verify"], &dir);
    assert!(verify.contains("1 damaged chunks removed"), "{verify}");
    assert!(!chunk.exists());
    let clear = run_ok(&["cache", "clear"], &dir);
    assert!(clear.contains("cleared"), "{clear}");
    let stats = run_ok(&["cache", "stats"], &dir);
    assert!(stats.contains("0 chunks, 0 entries"), "{stats}");
}
