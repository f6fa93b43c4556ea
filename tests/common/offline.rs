//! Offline renders through the real player and engine, block by block,
//! waiting for the loader where the engine asks, with a bound on the wait
//! that names what the engine and the loader were doing when it ran out.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use trax::bridge::TransportState;
use trax::{Engine, Player};

/// How long a render may wait for the loader without a frame before the
/// test calls it a stall (the slowest start here takes well under 1 s).
pub const STALL_LIMIT: Duration = Duration::from_secs(60);

/// Renders `frames` more frames into `out` (interleaved stereo) in blocks
/// of `block`. A short block means the engine waits for the loader; once
/// the song has ended the rest is silence (as the plugin outputs). Panics
/// with [`stall_report`] if no frame comes for `limit`.
pub fn render_frames_within(
    player: &Player,
    engine: &mut Engine,
    block: usize,
    frames: usize,
    out: &mut Vec<f32>,
    limit: Duration,
) {
    let mut l = vec![0.0f32; block];
    let mut r = vec![0.0f32; block];
    let target = out.len() / 2 + frames;
    let mut deadline = Instant::now() + limit;
    while out.len() / 2 < target {
        let want = (target - out.len() / 2).min(block);
        let n = super::process(engine, &mut l[..want], &mut r[..want]);
        for i in 0..n {
            out.push(l[i]);
            out.push(r[i]);
        }
        if n > 0 {
            deadline = Instant::now() + limit;
        }
        if n < want {
            if player.engine_stats().transport() == TransportState::Stopped {
                out.resize(out.len() + (want - n) * 2, 0.0);
                continue;
            }
            if Instant::now() >= deadline {
                panic!(
                    "offline render stalled: no frame for {limit:?}: {}",
                    stall_report(player, engine)
                );
            }
            player.nudge();
            player.wait_for_progress(Duration::from_millis(2));
        }
    }
}

/// [`render_frames_within`] with the [`STALL_LIMIT`].
pub fn render_frames(
    player: &Player,
    engine: &mut Engine,
    block: usize,
    frames: usize,
    out: &mut Vec<f32>,
) {
    render_frames_within(player, engine, block, frames, out, STALL_LIMIT);
}

/// What the engine and the loader were doing, for a stall's message: the
/// transport, the decks, the slot pool and the pending deck's gate per
/// stem.
pub fn stall_report(player: &Player, engine: &Engine) -> String {
    let stats = player.engine_stats();
    let decks: Vec<_> = (0..trax::bridge::DECKS)
        .map(|d| (stats.deck_in_use(d), stats.deck_position_frames(d)))
        .collect();
    let loader = player.loader_stats();
    let mut gate = [trax::engine::GateStem::default(); trax::bridge::MAX_STEMS];
    let n = engine.pending_gate(&mut gate);
    format!(
        "transport {:?}, active song {:?}, active deck {:?}, decks (in use, position) {decks:?}, \
         commands taken {}, cues taken {}, events dropped {}, {} of {} slots in use, \
         {} being filled, problems {:?}\npending gate: {:#?}",
        stats.transport(),
        stats.active_song(),
        stats.active_deck(),
        stats.commands_taken(),
        stats.cues_taken(),
        stats.events_dropped(),
        loader.slots_in_use.load(Ordering::Relaxed),
        loader.slots_total.load(Ordering::Relaxed),
        loader.jobs_in_flight.load(Ordering::Relaxed),
        player.problems(),
        &gate[..n]
    )
}
