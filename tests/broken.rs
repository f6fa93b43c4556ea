//! Broken and missing files: each is reported by file name and cause, the
//! other stems play, nothing panics, and nothing plays as garbage.

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use trax::loader::{ProblemKind, Severity};

const ENGINE_HZ: u32 = 48_000;

#[test]
fn every_broken_stem_is_reported_by_name_and_cause() {
    let setlist = corpus().join("setlist_broken.json");
    let (player, mut engine, list) = offline_player(&setlist, ENGINE_HZ);
    player.play_song(0);
    let out = render_until_stopped(&player, &mut engine, 512, u64::MAX);
    assert!(out.iter().all(|v| v.is_finite()), "non-finite output");
    let problems = player.problems();
    for p in &problems {
        eprintln!("{p}");
    }
    let expect: &[(&str, Severity, ProblemKind, &str)] = &[
        (
            "bad_fmt_chunk.wav",
            Severity::Skipped,
            ProblemKind::Unplayable,
            "channel",
        ),
        (
            "bad_header.wav",
            Severity::Skipped,
            ProblemKind::Unplayable,
            "not a recognised audio format",
        ),
        (
            "corrupt_frames.flac",
            Severity::Damaged,
            ProblemKind::Corrupt,
            "replaced by silence",
        ),
        (
            "ogg_named_as.mp3",
            Severity::Warning,
            ProblemKind::Extension,
            "vorbis",
        ),
        (
            "text_renamed.flac",
            Severity::Skipped,
            ProblemKind::Unplayable,
            "not a recognised audio format",
        ),
        (
            "truncated.flac",
            Severity::Damaged,
            ProblemKind::Truncated,
            "truncated",
        ),
        (
            "truncated.mp3",
            Severity::Damaged,
            ProblemKind::Truncated,
            "truncated",
        ),
        (
            "truncated.ogg",
            Severity::Damaged,
            ProblemKind::Truncated,
            "truncated",
        ),
        (
            "truncated_data.wav",
            Severity::Damaged,
            ProblemKind::Truncated,
            "truncated",
        ),
        (
            "truncated_header.wav",
            Severity::Skipped,
            ProblemKind::Unplayable,
            "header",
        ),
        (
            "zero_length.flac",
            Severity::Skipped,
            ProblemKind::Unplayable,
            "empty",
        ),
        (
            "this_file_does_not_exist.flac",
            Severity::Skipped,
            ProblemKind::Unplayable,
            "No such file",
        ),
    ];
    assert_eq!(list.songs[0].stems.len(), expect.len());
    for (stem, (file, severity, kind, cause)) in expect.iter().enumerate() {
        let p = problems
            .iter()
            .find(|p| p.stem == stem && p.kind == *kind)
            .unwrap_or_else(|| panic!("{file}: no {kind:?} problem reported"));
        assert_eq!(p.severity, *severity, "{file}");
        assert!(
            p.message.contains(file),
            "{file}: message does not name the file: {}",
            p.message
        );
        assert!(
            p.message.contains(cause),
            "{file}: message does not give the cause: {}",
            p.message
        );
    }
}

fn write(dir: &Path, name: &str, good: &[PathBuf], broken: &[&str]) -> PathBuf {
    let mut text = String::from("[[song]]\nname = \"mixed\"\n");
    for p in good {
        text.push_str(&format!(
            "[[song.stem]]\npath = {:?}\n",
            p.display().to_string()
        ));
    }
    for b in broken {
        let p = corpus().join("broken").join(b);
        text.push_str(&format!(
            "[[song.stem]]\npath = {:?}\n",
            p.display().to_string()
        ));
    }
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn render(setlist: &Path) -> (Vec<f32>, Vec<trax::loader::StemProblem>) {
    let (player, mut engine, _) = offline_player(setlist, ENGINE_HZ);
    player.play_song(0);
    let out = render_until_stopped(&player, &mut engine, 512, u64::MAX);
    (out, player.problems())
}

#[test]
fn unplayable_stems_are_skipped_and_the_rest_plays_exactly() {
    let dir = std::env::temp_dir().join(format!("trax-broken-{}", std::process::id()));
    let song = corpus().join("songs/03_planetblupi_music000");
    let good = vec![
        song.join("01_acc_1_piano.wav"),
        song.join("06_drums_snare.wav"),
    ];
    let clean = write(&dir, "clean.toml", &good, &[]);
    let mixed = write(
        &dir,
        "mixed.toml",
        &good,
        &[
            "bad_fmt_chunk.wav",
            "bad_header.wav",
            "text_renamed.flac",
            "truncated_header.wav",
            "zero_length.flac",
            "this_file_does_not_exist.flac",
        ],
    );
    let (want, none) = render(&clean);
    assert!(none.is_empty(), "{none:?}");
    let (got, problems) = render(&mixed);
    assert_eq!(problems.len(), 6, "{problems:?}");
    assert!(problems.iter().all(|p| p.severity == Severity::Skipped));
    assert!(
        got == want,
        "the playable stems must play exactly as without the broken ones"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn damaged_stems_play_their_intact_audio_and_silence_elsewhere() {
    let dir = std::env::temp_dir().join(format!("trax-damaged-{}", std::process::id()));
    let truncated = corpus().join("broken/truncated_data.wav");
    let setlist = write(&dir, "damaged.toml", &[], &["truncated_data.wav"]);
    // At the file's own rate, so the render is the decoded samples.
    let (player, mut engine, _) = offline_player(&setlist, 44_100);
    player.play_song(0);
    let got = render_until_stopped(&player, &mut engine, 512, u64::MAX);
    let problems = player.problems();
    assert!(
        problems.iter().any(|p| p.kind == ProblemKind::Truncated),
        "{problems:?}"
    );
    // The intact part equals a plain decode of what is in the file; the rest
    // (to the header's length) is exact silence.
    let (ch, _rate, intact) = symphonia_full_decode(&truncated);
    assert_eq!(ch, 2);
    assert_eq!(got.len(), 352_800 * 2, "the song keeps the header's length");
    assert!(got[..intact.len()] == intact[..], "intact audio");
    assert!(
        got[intact.len()..].iter().all(|&v| v == 0.0),
        "silence after the end of the data"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn nan_and_infinite_samples_become_silence_and_are_reported() {
    let dir = std::env::temp_dir().join(format!("trax-nan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("poisoned.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    for i in 0..48_000u32 {
        let v = match i {
            1000 => f32::NAN,
            2000 => f32::INFINITY,
            3000 => f32::NEG_INFINITY,
            _ => 0.25,
        };
        w.write_sample(v).unwrap();
    }
    w.finalize().unwrap();
    let (player, mut engine, _) = offline_player(&dir, ENGINE_HZ);
    player.play_song(0);
    let out = render_until_stopped(&player, &mut engine, 512, u64::MAX);
    assert_eq!(out.len(), 48_000 * 2);
    assert!(out.iter().all(|v| v.is_finite()), "non-finite output");
    for (i, f) in out.chunks_exact(2).enumerate() {
        let want = if [1000, 2000, 3000].contains(&i) {
            0.0
        } else {
            0.25
        };
        assert_eq!(f, [want, want], "frame {i}");
    }
    let problems = player.problems();
    assert!(
        problems.iter().any(|p| p.kind == ProblemKind::Corrupt
            && p.message.contains("poisoned.wav")
            && p.message.contains("NaN")),
        "{problems:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_plugin_lists_each_problem_once() {
    // What the editor shows: the control thread's list of the loaded
    // setlist's problems, the probe's and those found while playing.
    let mut plugin = trax::Trax::default();
    plugin.set_cache_config(None);
    plugin
        .params_arc()
        .setlist
        .replace(corpus().join("setlist_broken.json").display().to_string());
    assert!(plugin.start(ENGINE_HZ, false));
    let shared = Arc::clone(plugin.shared());
    let deadline = Instant::now() + Duration::from_secs(30);
    let version = plugin.params_arc().setlist.version();
    while shared.is_loading(version) {
        assert!(Instant::now() < deadline, "the setlist never loaded");
        std::thread::sleep(Duration::from_millis(10));
    }
    // A few of the control thread's polls (50 ms each).
    std::thread::sleep(Duration::from_millis(300));
    let problems = shared.view.get().problems.to_vec();
    assert!(problems.len() >= 5, "{problems:?}");
    let mut seen = std::collections::HashSet::new();
    for p in &problems {
        assert!(
            seen.insert((p.song, p.stem, p.kind)),
            "listed twice: {p}\nall: {problems:#?}"
        );
    }
}
