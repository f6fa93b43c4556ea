//! Seek storms: every corpus song at 44.1, 48 and 96 kHz, blocks of 64 and
//! 2027 frames, 40+ seeded seeks each (frame 0, the last chunk, the last
//! frame, random places, and seeks made while the previous one is still
//! loading). After each seek's crossfade the output must be the song's
//! seek-free render at the target, frame for frame (bit-exact where no stem
//! is resampled, within -90 dBFS otherwise), and no healthy stem may be
//! reported damaged. Offline, so the storm is deterministic.

use crate::common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use rand::{Rng, SeedableRng};
use trax::bridge::CHUNK_FRAMES;
use trax::{Player, PlayerConfig};

const RATES_HZ: [u32; 3] = [44_100, 48_000, 96_000];
const BLOCKS_FRAMES: [usize; 2] = [64, 2027];
const SEEKS_PER_STORM: usize = 40;

/// One seek as the engine took it: landed at output frame `landed_at`, to
/// `target`.
struct Seek {
    /// Output frame where the seek (or the one it replaced) was asked for.
    asked_at: usize,
    /// Output frame where it landed: where it was cued, or where the
    /// crossfade of the seek it replaced ended (a seek waits for a running
    /// crossfade, see engine/render.rs).
    landed_at: usize,
    target: u64,
}

/// Runs one storm and checks it; returns the seeks checked.
fn storm(song_dir: &Path, rate: u32, block: usize, reference: &[f32], tolerance: f32) -> usize {
    let what = format!(
        "{} at {rate} Hz, blocks of {block}",
        song_dir.file_name().unwrap_or_default().to_string_lossy()
    );
    // Shown with a failure (the test's captured output).
    println!("storm: {what}");
    let length = (reference.len() / 2) as u64;
    let seed = u64::from(rate) * 7919 + block as u64 * 31 + length;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let crossfade = rate as usize / 100;
    // Frames after a seek that may still be crossfade (of this seek or of
    // the one it replaced while loading).
    let settle = 2 * crossfade + block;
    let last_chunk = (length - 1) / u64::from(CHUNK_FRAMES) * u64::from(CHUNK_FRAMES);

    let (player, mut engine, _) = offline_player(song_dir, rate);
    player.set_auto_advance(false);
    player.play_song(0);
    let mut out = Vec::new();
    let mut seeks = Vec::new();
    render_frames(&player, &mut engine, block, rate as usize / 4, &mut out);
    for i in 0..SEEKS_PER_STORM {
        let target = match i % 8 {
            0 => 0,
            1 => last_chunk + rng.gen_range(0..(length - last_chunk)),
            2 => length - 1,
            _ => rng.gen_range(0..length),
        };
        // Every third seek replaces one still loading: the first target
        // is cued, then (after 0 or 1 block) the real one.
        let asked_at = out.len() / 2;
        // The replaced seek lands at once when a block is rendered after
        // it (offline, the engine waits for its gate); if a song was
        // playing, it crossfades, and the real one waits for that
        // crossfade to end (after a song's end it fades in instead).
        let mut crossfade_until = 0;
        if i % 3 == 2 {
            let playing = engine.position_frames().is_some();
            seek_cued(&player, &mut engine, rng.gen_range(0..length));
            if rng.gen_bool(0.5) {
                render_frames(&player, &mut engine, block, block, &mut out);
                if playing {
                    crossfade_until = asked_at + crossfade;
                }
            }
        }
        println!("  seek {i} to frame {target} of {length}");
        seek_cued(&player, &mut engine, target);
        seeks.push(Seek {
            asked_at,
            landed_at: crossfade_until.max(out.len() / 2),
            target,
        });
        let gap = rng.gen_range(settle + block..rate as usize / 2);
        render_frames(&player, &mut engine, block, gap, &mut out);
    }
    // The last seek plays to the song's end.
    let tail = render_until_stopped(&player, &mut engine, block, u64::MAX);
    out.extend_from_slice(&tail);

    let frames = out.len() / 2;
    let mut compared = 0usize;
    for (n, s) in seeks.iter().enumerate() {
        let until = seeks.get(n + 1).map_or(frames, |next| next.asked_at);
        for k in settle..until - s.landed_at {
            let src = s.target + k as u64;
            for c in 0..2 {
                let got = out[(s.landed_at + k) * 2 + c];
                let want = if src < length {
                    reference[src as usize * 2 + c]
                } else {
                    0.0 // the song has ended
                };
                let ok = if tolerance == 0.0 {
                    got.to_bits() == want.to_bits()
                } else {
                    (got - want).abs() <= tolerance
                };
                assert!(
                    ok,
                    "{what}: seek {n} to frame {} (landed at output frame {}): \
                     output frame {} is {got}, the seek-free render ({length} frames) has {want} (channel {c})",
                    s.target,
                    s.landed_at,
                    s.landed_at + k
                );
            }
            compared += 1;
        }
    }
    assert!(compared > 0, "{what}: nothing compared");
    let problems = player.problems();
    assert!(
        problems.is_empty(),
        "{what}: healthy stems reported: {problems:?}"
    );
    assert_eq!(
        player.engine_stats().underrun_blocks(),
        0,
        "{what}: offline renders never underrun"
    );
    seeks.len()
}

#[test]
fn seek_storms_play_the_right_audio_and_report_no_healthy_stem() {
    let mut storms = 0;
    let mut seeks = 0;
    for song in corpus_songs() {
        for rate in RATES_HZ {
            let reference = seek_free_render(&song, rate);
            let tolerance = reference.tolerance();
            for block in BLOCKS_FRAMES {
                seeks += storm(&song, rate, block, &reference.samples, tolerance);
                storms += 1;
            }
        }
    }
    eprintln!("{storms} storms, {seeks} seeks checked");
    assert_eq!(storms, 36);
}

#[test]
fn a_realtime_storm_on_thirty_stems_counts_underruns_and_reports_no_damage() {
    // 16 seeks, one every 0.75 s, at real time, with a loader slowed to
    // far below real time (20 ms after every decoded block of ≤ 4096
    // frames): late audio must be counted as underruns, never reported as
    // damage.
    let song = corpus().join("songs/04_frozen_bubble_30stems");
    let list = trax::setlist::load(&song).expect("setlist");
    let config = PlayerConfig {
        read_delay: Duration::from_millis(20),
        ..PlayerConfig::realtime(48_000)
    };
    let (player, mut engine) = Player::new(config).expect("player");
    let length = player.load(&list).songs[0].length_frames;
    player.set_auto_advance(false);
    player.play_song(0);
    let mut rng = rand::rngs::StdRng::seed_from_u64(4);
    let block = 512usize;
    let mut l = vec![0.0f32; block];
    let mut r = vec![0.0f32; block];
    let start = Instant::now();
    let mut frames = 0u64;
    let mut seeks = 0;
    while seeks < 16 || frames < 13 * 48_000 {
        process(&mut engine, &mut l, &mut r);
        frames += block as u64;
        if frames % 36_000 < block as u64 && seeks < 16 {
            player.seek(rng.gen_range(0..length));
            seeks += 1;
        }
        let due = start + Duration::from_secs_f64(frames as f64 / 48_000.0);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    let stats = player.engine_stats();
    eprintln!(
        "realtime storm: {seeks} seeks, {} underrun blocks, {} late stem-frames",
        stats.underrun_blocks(),
        stats.underrun_frames()
    );
    let problems = player.problems();
    assert!(
        problems.is_empty(),
        "late audio reported as damage: {problems:?}"
    );
    assert!(
        stats.underrun_blocks() > 0,
        "a loader 20 ms late per block caused no underrun: the test shows nothing"
    );
}
