//! The seek stall: a seek made while the previous seek's crossfade runs
//! must always get the slots its start needs, offline too, where the engine
//! waits for them and nothing else moves.
//!
//! The recipe that deadlocked the slot pool (issue 17): song 01 at
//! 44.1 kHz, played and settled; a seek to mid-song; one 64-frame block
//! (the crossfade starts: the old deck fades, the new one is active); the
//! loader settles again; then a seek to 682 frames before a chunk boundary
//! (its 2048-frame gate needs two chunks of every stem). The deck fading
//! out kept every chunk of its old window and the new active deck filled
//! its own, so the pool was full and the pending deck found no slot; the
//! offline engine waited for the gate, so the crossfade never ended and
//! nothing was ever freed.
//!
//! Then every corpus song at every rate, seeking every 5, 20, 100 and 500
//! ms of output in blocks of 64 and 512 frames, 100 seeks each (what
//! `trax render --seek-every` does, the issue's command among them):
//! every render completes, and after each crossfade the output is the
//! seek-free render at the target.

use crate::common;

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::*;
use rand::{Rng, SeedableRng};
use trax::bridge::{TransportState, CHUNK_FRAMES};
use trax::Player;

/// Lets the loader finish every job it has: nothing being filled and the
/// slot pool's use unchanged over a few wake-ups. Returns the slots in use.
fn settle(player: &Player) -> u64 {
    let stats = player.loader_stats();
    let mut last = u64::MAX;
    let mut steady = 0;
    let deadline = Instant::now() + Duration::from_secs(20);
    while steady < 5 {
        assert!(Instant::now() < deadline, "the loader never settled");
        player.nudge();
        std::thread::sleep(Duration::from_millis(10));
        let in_use = stats.slots_in_use.load(Ordering::Relaxed);
        let filling = stats.jobs_in_flight.load(Ordering::Relaxed);
        if filling == 0 && in_use == last {
            steady += 1;
        } else {
            steady = 0;
        }
        last = in_use;
    }
    last
}

#[test]
fn a_seek_during_the_previous_seeks_crossfade_gets_its_slots() {
    let song = corpus().join("songs/01_singularity_awakening");
    let (player, mut engine, _) = offline_player(&song, 44_100);
    player.set_auto_advance(false);
    let stats = player.engine_stats().clone();
    player.play_song(0);
    pump_until(&mut engine, || {
        stats.transport() == TransportState::Starting
    });
    let mut out = Vec::new();
    render_frames(&player, &mut engine, 64, 64, &mut out);
    assert_eq!(stats.transport(), TransportState::Playing);
    let total = player.loader_stats().slots_total.load(Ordering::Relaxed);
    let playing = settle(&player);

    seek_cued(&player, &mut engine, 20 * u64::from(CHUNK_FRAMES));
    render_frames(&player, &mut engine, 64, 64, &mut out);
    assert_eq!(
        player.engine_stats().transport(),
        TransportState::Playing,
        "the first seek is under way"
    );
    let crossfading = settle(&player);
    eprintln!(
        "slots in use, settled: {playing} of {total} playing, {crossfading} of {total} \
         in the first seek's crossfade"
    );

    // 682 frames before a chunk boundary: the gate spans two chunks.
    let target = 70 * u64::from(CHUNK_FRAMES) - 682;
    seek_cued(&player, &mut engine, target);
    // While the first crossfade still runs, the loader gives the pending
    // deck every chunk its gate needs.
    settle(&player);
    let mut gate = [trax::engine::GateStem::default(); trax::bridge::MAX_STEMS];
    let stems = engine.pending_gate(&mut gate);
    let short: Vec<_> = gate[..stems]
        .iter()
        .enumerate()
        .filter(|(_, g)| g.playable && g.gate_ready_frames < trax::engine::START_GATE_FRAMES)
        .map(|(stem, g)| (stem, g.gate_ready_frames))
        .collect();
    assert!(
        stems > 0 && short.is_empty(),
        "the loader settled with the pending deck's gate short (stem, frames ready): {short:?}\n{}",
        offline::stall_report(&player, &engine)
    );
    render_frames_within(
        &player,
        &mut engine,
        4096,
        4096,
        &mut out,
        Duration::from_secs(10),
    );
    // The seek waited for the running crossfade to end (441 frames at
    // 44.1 kHz, 64 of them rendered), then landed.
    let waited = 44_100 / 100 - 64;
    assert_eq!(
        engine.position_frames(),
        Some(target + 4096 - waited),
        "the second seek landed and plays on"
    );
}

/// Seconds of output between seeks, as `trax render --seek-every`.
const SEEK_EVERY_SECS: [f64; 4] = [0.005, 0.02, 0.1, 0.5];
const BLOCKS_FRAMES: [usize; 2] = [64, 512];
const RATES_HZ: [u32; 3] = [44_100, 48_000, 96_000];
const SEEKS: usize = 100;

/// One render of `song_dir` at `rate` in blocks of `block`, seeking to a
/// random target (clear of the last 2 s, so the song still ends, as the
/// CLI does) every `every_secs` of output, `SEEKS` times, then playing to
/// the end. Each seek is cued before rendering goes on, so the render is
/// deterministic. Returns the frames compared.
fn seek_every(song_dir: &Path, rate: u32, block: usize, every_secs: f64, seed: u64) -> usize {
    let what = format!(
        "{} at {rate} Hz, blocks of {block}, a seek every {every_secs} s",
        song_dir.file_name().unwrap_or_default().to_string_lossy()
    );
    let reference = seek_free_render(song_dir, rate);
    let length = (reference.samples.len() / 2) as u64;
    let tolerance = reference.tolerance();
    let crossfade = rate as usize / 100;
    let every = ((every_secs * f64::from(rate)) as usize).max(1);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);

    let (player, mut engine, _) = offline_player(song_dir, rate);
    player.set_auto_advance(false);
    player.play_song(0);
    let mut out = Vec::new();
    // (output frame where the seek was cued, its target, whether a song
    // was playing then)
    let mut seeks: Vec<(usize, u64, bool)> = Vec::with_capacity(SEEKS);
    let hi = length.saturating_sub(2 * u64::from(rate)).max(1);
    for _ in 0..SEEKS {
        render_frames(&player, &mut engine, block, every, &mut out);
        let target = rng.gen_range(0..hi);
        let playing = engine.position_frames().is_some();
        seek_cued(&player, &mut engine, target);
        seeks.push((out.len() / 2, target, playing));
    }
    let tail = render_until_stopped(&player, &mut engine, block, u64::MAX);
    out.extend_from_slice(&tail);

    let frames = out.len() / 2;
    let mut compared = 0;
    let landed = landings(&seeks, crossfade);
    for (n, &(at, target)) in landed.iter().enumerate() {
        let until = landed.get(n + 1).map_or(frames, |next| next.0);
        for k in crossfade..until.saturating_sub(at) {
            let src = target + k as u64;
            for c in 0..2 {
                let got = out[(at + k) * 2 + c];
                let want = if src < length {
                    reference.samples[src as usize * 2 + c]
                } else {
                    0.0
                };
                assert!(
                    (got - want).abs() <= tolerance,
                    "{what}: landed seek {n} to frame {target} (at output frame {at}): output \
                     frame {} is {got}, the seek-free render has {want} (channel {c})",
                    at + k
                );
            }
            compared += 1;
        }
    }
    let problems = player.problems();
    assert!(
        problems.is_empty(),
        "{what}: healthy stems reported: {problems:?}"
    );
    assert_eq!(player.engine_stats().underrun_blocks(), 0, "{what}");
    compared
}

/// Where each seek landed, from where it was cued: a seek cued while the
/// previous one's crossfade runs waits for that crossfade to end (dropping
/// the deck still fading out would click), and a seek replaced by another
/// before it landed never lands. A seek made before the song played starts
/// it (a fade-in, no crossfade to wait for). `seeks` = (output frame where
/// the seek was cued, target, whether a song was playing), in order;
/// returns (output frame where it landed, target).
fn landings(seeks: &[(usize, u64, bool)], crossfade: usize) -> Vec<(usize, u64)> {
    let mut landed: Vec<(usize, u64)> = Vec::with_capacity(seeks.len());
    // Output frame where the last landing's crossfade ends.
    let mut crossfade_until = 0;
    for (n, &(at, target, playing)) in seeks.iter().enumerate() {
        let land = at.max(crossfade_until);
        let replaced = seeks.get(n + 1).is_some_and(|&(next, _, _)| next <= land);
        if !replaced {
            landed.push((land, target));
            if playing {
                crossfade_until = land + crossfade;
            }
        }
    }
    landed
}

/// Whether the whole matrix runs (`TRAX_FULL_MATRIX=1`: 144 renders, about
/// 6 minutes on 2 cores); otherwise every song at every rate runs one of
/// the eight (block, interval) pairs, in rotation so that each pair runs
/// on two or three songs and rates, plus the issue's own case.
fn full_matrix() -> bool {
    std::env::var_os("TRAX_FULL_MATRIX").is_some_and(|v| v == "1")
}

#[test]
fn offline_renders_that_seek_every_few_ms_complete_and_play_the_right_audio() {
    let start = Instant::now();
    let pairs: Vec<(usize, f64)> = BLOCKS_FRAMES
        .iter()
        .flat_map(|&b| SEEK_EVERY_SECS.iter().map(move |&e| (b, e)))
        .collect();
    let mut renders = 0;
    let mut compared = 0;
    for (s, song) in corpus_songs().iter().enumerate() {
        for (r, rate) in RATES_HZ.into_iter().enumerate() {
            let k = s * RATES_HZ.len() + r;
            for (p, &(block, every)) in pairs.iter().enumerate() {
                // The issue's command: song 01, 44.1 kHz, blocks of 512, a
                // seek every 0.1 s, seed 1.
                let issue_case = s == 0 && rate == 44_100 && block == 512 && every == 0.1;
                let in_turn = p == k % pairs.len();
                if full_matrix() || issue_case || in_turn {
                    compared += seek_every(song, rate, block, every, 1);
                    renders += 1;
                }
            }
        }
    }
    eprintln!(
        "{renders} renders of {SEEKS} seeks, {compared} frames after crossfades compared, in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    assert!(renders >= if full_matrix() { 144 } else { 19 });
}
