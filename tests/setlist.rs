//! Setlists from folders, and stems with more than two channels.

use crate::common;

use common::*;
use trax::loader::{ProblemKind, Severity};

#[test]
fn a_folder_of_song_folders_is_a_setlist() {
    let list = trax::setlist::load(&corpus().join("songs")).unwrap();
    assert_eq!(list.songs.len(), 6);
    let names: Vec<&str> = list.songs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names[0], "01_singularity_awakening");
    assert_eq!(names[5], "06_planetblupi_music001_lossy");
    let stems: Vec<usize> = list.songs.iter().map(|s| s.stems.len()).collect();
    // song.json in each folder is not audio and is ignored.
    assert_eq!(stems, [7, 16, 7, 30, 6, 8]);
    let first = &list.songs[3].stems;
    assert!(
        first.windows(2).all(|w| w[0].path < w[1].path),
        "sorted by name"
    );
}

#[test]
fn a_folder_of_audio_files_is_one_song() {
    let list = trax::setlist::load(&corpus().join("songs/01_singularity_awakening")).unwrap();
    assert_eq!(list.songs.len(), 1);
    assert_eq!(list.songs[0].stems.len(), 7);
    assert_eq!(list.songs[0].stems[0].name, "01_sub_mono");
}

#[test]
fn folders_without_audio_and_oversized_files_are_refused() {
    let dir = std::env::temp_dir().join(format!("trax-setlist-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("empty")).unwrap();
    let e = trax::setlist::load(&dir).unwrap_err().to_string();
    assert!(e.contains("no audio files"), "{e}");
    let big = dir.join("big.toml");
    std::fs::write(&big, vec![b'#'; (1 << 20) + 1]).unwrap();
    let e = trax::setlist::load(&big).unwrap_err().to_string();
    assert!(e.contains("big.toml") && e.contains("limit"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn six_channel_stems_are_down_mixed_with_a_warning() {
    let dir = std::env::temp_dir().join(format!("trax-51-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("surround.wav");
    let spec = hound::WavSpec {
        channels: 6,
        sample_rate: 48_000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    // FL, FR, FC, LFE, BL, BR with distinct constant levels.
    let levels = [0.1f32, 0.2, 0.3, 0.9, 0.05, 0.15];
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    for _ in 0..4800 {
        for l in levels {
            w.write_sample(l).unwrap();
        }
    }
    w.finalize().unwrap();
    let list = trax::setlist::load(&dir).unwrap();
    let (player, mut engine, _) = {
        let (player, engine) = trax::Player::new(trax::PlayerConfig::offline(48_000)).unwrap();
        player.load(&list);
        (player, engine, ())
    };
    player.play_song(0);
    let out = render_until_stopped(&player, &mut engine, 512, u64::MAX);
    let problems = player.problems();
    assert!(
        problems.iter().any(|p| p.kind == ProblemKind::Downmix
            && p.severity == Severity::Warning
            && p.message.contains("surround.wav")),
        "{problems:?}"
    );
    // Left: FL + BL + FC·√½ over 2 + √½; right: FR + BR + FC·√½; LFE dropped.
    let h = std::f32::consts::FRAC_1_SQRT_2;
    let norm = 1.0 / (2.0 + h);
    let want_l = (0.1 + 0.05 + 0.3 * h) * norm;
    let want_r = (0.2 + 0.15 + 0.3 * h) * norm;
    assert_eq!(out.len(), 4800 * 2);
    assert!((out[100] - want_l).abs() < 1e-6, "{} vs {want_l}", out[100]);
    assert!((out[101] - want_r).abs() < 1e-6, "{} vs {want_r}", out[101]);
    let _ = std::fs::remove_dir_all(&dir);
}
