//! Seeks land on the exact frame, and seek and song-change seams show no
//! discontinuity beyond the 10 ms equal-power crossfade; auto-advance is
//! gapless (the setlist render is the songs' renders end to end).

use crate::common;

use std::path::{Path, PathBuf};

use common::*;
use trax::engine::declick::{equal_power, fade_in};
use trax::Player;

const ENGINE_HZ: u32 = 48_000;
/// 10 ms at 48 kHz.
const CROSSFADE_FRAMES: u32 = 480;

fn song_dir(name: &str) -> PathBuf {
    corpus().join("songs").join(name)
}

/// Renders exactly `frames` frames (offline) in blocks of at most 512.
fn render_frames(player: &Player, engine: &mut trax::Engine, frames: usize, out: &mut Vec<f32>) {
    let mut l = [0.0f32; 512];
    let mut r = [0.0f32; 512];
    let target = out.len() / 2 + frames;
    while out.len() / 2 < target {
        let want = (target - out.len() / 2).min(512);
        let n = common::process(engine, &mut l[..want], &mut r[..want]);
        for i in 0..n {
            out.push(l[i]);
            out.push(r[i]);
        }
        if n < want {
            player.nudge();
            player.wait_for_progress(std::time::Duration::from_millis(2));
        }
    }
}

/// Checks `out[at..at + XF]` = the equal-power crossfade from `old[from..]`
/// to `new[to..]` (XF = [`CROSSFADE_FRAMES`]).
fn check_crossfade(
    out: &[f32],
    at: usize,
    old: &[f32],
    from: usize,
    new: &[f32],
    to: usize,
    what: &str,
) {
    for n in 0..CROSSFADE_FRAMES as usize {
        let (g_out, g_in) = equal_power(n as u32, CROSSFADE_FRAMES);
        for c in 0..2 {
            let want = old[(from + n) * 2 + c] * g_out + new[(to + n) * 2 + c] * g_in;
            let got = out[(at + n) * 2 + c];
            assert!(
                (got - want).abs() <= 1e-6,
                "{what}: crossfade frame {n}: {got} vs {want}"
            );
        }
    }
}

/// Checks `out[at..]` = crossfade from `old[from..]` to `new[to..]`, then
/// `new[to + XF..]` exactly.
fn check_seam(
    out: &[f32],
    at: usize,
    old: &[f32],
    from: usize,
    new: &[f32],
    to: usize,
    what: &str,
) {
    check_crossfade(out, at, old, from, new, to, what);
    let after = CROSSFADE_FRAMES as usize;
    let tail = &out[(at + after) * 2..];
    let want = &new[(to + after) * 2..(to + after) * 2 + tail.len()];
    let first = tail
        .iter()
        .zip(want)
        .position(|(a, b)| a.to_bits() != b.to_bits());
    assert_eq!(
        first, None,
        "{what}: after the crossfade the output is not the target audio"
    );
}

fn reference(setlist: &Path) -> Vec<f32> {
    let (player, mut engine, _) = offline_player(setlist, ENGINE_HZ);
    player.set_auto_advance(false);
    player.play_song(0);
    render_until_stopped(&player, &mut engine, 512, u64::MAX)
}

fn seek_case(song: &str, before: usize, target: u64) {
    let setlist = song_dir(song);
    let full = reference(&setlist);
    let (player, mut engine, _) = offline_player(&setlist, ENGINE_HZ);
    player.set_auto_advance(false);
    player.play_song(0);
    let mut out = Vec::new();
    render_frames(&player, &mut engine, before, &mut out);
    assert_eq!(&out[..], &full[..before * 2], "{song}: before the seek");
    let stats = player.engine_stats().clone();
    let cues = stats.cues_taken();
    player.seek(target);
    pump_until(&mut engine, || stats.cues_taken() > cues);
    let rest = render_until_stopped(&player, &mut engine, 512, u64::MAX);
    out.extend_from_slice(&rest);
    let target = target as usize;
    assert_eq!(
        out.len() / 2,
        before + full.len() / 2 - target,
        "{song}: length after the seek"
    );
    check_seam(
        &out,
        before,
        &full,
        before,
        &full,
        target,
        &format!("{song} seek to {target}"),
    );
}

#[test]
fn seek_to_unbuffered_position_lands_on_the_exact_frame() {
    // 30 stems; target ≈ 14.6 s, far outside the resident window.
    seek_case("04_frozen_bubble_30stems", 100_000, 700_001);
}

#[test]
fn seek_backwards_with_resampled_and_lossy_stems() {
    // 44.1 kHz MP3 resampled, Ogg, WAV float, mono and stereo.
    seek_case("01_singularity_awakening", 900_000, 123_457);
}

#[test]
fn seek_inside_the_window_is_taken_at_the_next_block() {
    seek_case("02_bach_bwv190_7", 48_000, 60_000);
}

#[test]
fn a_seek_during_a_crossfade_waits_for_it_to_end() {
    // A second seek 200 frames into the first one's crossfade: dropping the
    // deck still fading out (at 0.8 of its level) would step the output, a
    // click. The first crossfade runs to its end; the second then fades
    // from where the first target has got to.
    let song = "03_planetblupi_music000";
    let setlist = song_dir(song);
    let full = reference(&setlist);
    let (player, mut engine, _) = offline_player(&setlist, ENGINE_HZ);
    player.set_auto_advance(false);
    player.play_song(0);
    let (before, first, second) = (100_000usize, 300_000u64, 500_000u64);
    let mut out = Vec::new();
    render_frames(&player, &mut engine, before, &mut out);
    seek_cued(&player, &mut engine, first);
    render_frames(&player, &mut engine, 200, &mut out);
    seek_cued(&player, &mut engine, second);
    out.extend(render_until_stopped(&player, &mut engine, 512, u64::MAX));
    let xf = CROSSFADE_FRAMES as usize;
    let (first, second) = (first as usize, second as usize);
    assert_eq!(
        out.len() / 2,
        before + xf + full.len() / 2 - second,
        "length after the seeks"
    );
    check_crossfade(&out, before, &full, before, &full, first, "first seek");
    check_seam(
        &out,
        before + xf,
        &full,
        first + xf,
        &full,
        second,
        "second seek, after the first crossfade",
    );
}

fn two_song_setlist(dir: &Path) -> PathBuf {
    let text = format!(
        "[[song]]\nname = \"a\"\n[[song.stem]]\npath = {:?}\n[[song.stem]]\npath = {:?}\n\
         [[song]]\nname = \"b\"\n[[song.stem]]\npath = {:?}\n[[song.stem]]\npath = {:?}\n",
        song_dir("03_planetblupi_music000")
            .join("01_acc_1_piano.wav")
            .display()
            .to_string(),
        song_dir("03_planetblupi_music000")
            .join("05_drums_kick_mono.wav")
            .display()
            .to_string(),
        song_dir("05_planetblupi_music003_96k")
            .join("01_acc_1_ensemble.flac")
            .display()
            .to_string(),
        song_dir("05_planetblupi_music003_96k")
            .join("03_drums_hihat.flac")
            .display()
            .to_string(),
    );
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("two.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn render_one(setlist: &Path, song: usize) -> Vec<f32> {
    let (player, mut engine, _) = offline_player(setlist, ENGINE_HZ);
    player.set_auto_advance(false);
    player.play_song(song);
    render_until_stopped(&player, &mut engine, 512, u64::MAX)
}

#[test]
fn auto_advance_is_gapless_and_sample_exact() {
    let dir = std::env::temp_dir().join(format!("trax-seek-{}", std::process::id()));
    let setlist = two_song_setlist(&dir);
    let a = render_one(&setlist, 0);
    let b = render_one(&setlist, 1);
    for block in [512usize, 2027] {
        let (player, mut engine, _) = offline_player(&setlist, ENGINE_HZ);
        player.play_song(0);
        let all = render_until_stopped(&player, &mut engine, block, u64::MAX);
        assert_eq!(
            all.len(),
            a.len() + b.len(),
            "block {block}: setlist length"
        );
        assert!(all[..a.len()] == a[..], "block {block}: first song");
        assert!(
            all[a.len()..] == b[..],
            "block {block}: second song starts at the next frame"
        );
    }
}

#[test]
fn song_change_while_playing_crossfades() {
    let dir = std::env::temp_dir().join(format!("trax-change-{}", std::process::id()));
    let setlist = two_song_setlist(&dir);
    let a = render_one(&setlist, 0);
    let b = render_one(&setlist, 1);
    let (player, mut engine, _) = offline_player(&setlist, ENGINE_HZ);
    player.set_auto_advance(false);
    player.play_song(0);
    let mut out = Vec::new();
    let before = 200_000;
    render_frames(&player, &mut engine, before, &mut out);
    let stats = player.engine_stats().clone();
    let cues = stats.cues_taken();
    player.play_song(1);
    pump_until(&mut engine, || stats.cues_taken() > cues);
    out.extend(render_until_stopped(&player, &mut engine, 512, u64::MAX));
    assert_eq!(out.len() / 2, before + b.len() / 2);
    check_seam(&out, before, &a, before, &b, 0, "song change");
}

#[test]
fn pause_fades_out_holds_the_position_and_resume_fades_in() {
    let setlist = song_dir("03_planetblupi_music000");
    let full = reference(&setlist);
    let (player, mut engine, _) = offline_player(&setlist, ENGINE_HZ);
    player.set_auto_advance(false);
    player.play_song(0);
    let stats = player.engine_stats().clone();
    let mut out = Vec::new();
    let before = 100_000;
    render_frames(&player, &mut engine, before, &mut out);
    let xf = CROSSFADE_FRAMES as usize;

    let taken = stats.commands_taken();
    player.pause();
    pump_until(&mut engine, || stats.commands_taken() > taken);
    render_frames(&player, &mut engine, xf + 2000, &mut out);
    for i in 0..xf {
        let g = 1.0 - fade_in(i as u32, CROSSFADE_FRAMES);
        for c in 0..2 {
            let want = full[(before + i) * 2 + c] * g;
            assert!(
                (out[(before + i) * 2 + c] - want).abs() <= 1e-6,
                "pause fade frame {i}"
            );
        }
    }
    assert!(
        out[(before + xf) * 2..].iter().all(|&v| v == 0.0),
        "silence while paused"
    );
    assert_eq!(stats.transport(), trax::bridge::TransportState::Paused);

    let resumed_at = out.len() / 2;
    let taken = stats.commands_taken();
    player.resume();
    pump_until(&mut engine, || stats.commands_taken() > taken);
    render_frames(&player, &mut engine, 20_000, &mut out);
    // The position was held where the fade ended: before + xf.
    let from = before + xf;
    for i in 0..20_000usize {
        let g = if i < xf {
            fade_in(i as u32, CROSSFADE_FRAMES)
        } else {
            1.0
        };
        for c in 0..2 {
            let want = full[(from + i) * 2 + c] * g;
            let got = out[(resumed_at + i) * 2 + c];
            assert!(
                (got - want).abs() <= 1e-6,
                "resume frame {i}: {got} vs {want}"
            );
        }
    }
}
