//! Transport under rapid control changes: a setlist reloaded while playing
//! and a song started at once, seeks piling up, song changes during a
//! crossfade. Every request must end in audible audio (no deck lost).

use crate::common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use trax::bridge::TransportState;
use trax::{Player, PlayerConfig};

/// Processes 128-frame blocks (at ~4× real time) until `done()` or 5 s.
fn run_until(engine: &mut trax::Engine, mut done: impl FnMut() -> bool) -> bool {
    let mut l = [0.0f32; 128];
    let mut r = [0.0f32; 128];
    // Generous: under the full suite on 2 cores the loader works through
    // 40 piled-up requests far slower than alone (5 s failed once).
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        process(engine, &mut l, &mut r);
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_micros(600));
    }
    false
}

#[test]
fn reload_then_play_at_once_always_starts() {
    let a = trax::setlist::load(&corpus().join("songs/04_frozen_bubble_30stems")).unwrap();
    let b = trax::setlist::load(&corpus().join("songs/03_planetblupi_music000")).unwrap();
    let (player, mut engine) = Player::new(PlayerConfig::realtime(48_000)).unwrap();
    let stats = player.engine_stats().clone();
    for round in 0..12 {
        let list = if round % 2 == 0 { &a } else { &b };
        player.load(list);
        player.play_song(0);
        let starts = stats.song_starts();
        assert!(
            run_until(&mut engine, || stats.song_starts() > starts
                && stats.transport() == TransportState::Playing),
            "round {round}: the song never started"
        );
        // Play a little, with a seek, before the next reload.
        player.seek(400_000);
        let until = Instant::now() + Duration::from_millis(50);
        run_until(&mut engine, || Instant::now() >= until);
    }
}

#[test]
fn piled_up_seeks_and_song_changes_end_playing_the_last_request() {
    let list = trax::setlist::load(&corpus().join("setlist.json")).unwrap();
    let (player, mut engine) = Player::new(PlayerConfig::realtime(48_000)).unwrap();
    player.load(&list);
    let stats = player.engine_stats().clone();
    player.play_song(1);
    assert!(run_until(&mut engine, || stats.transport() == TransportState::Playing));
    let mut l = [0.0f32; 128];
    let mut r = [0.0f32; 128];
    for i in 0..40u64 {
        match i % 5 {
            0 => player.play_song((i as usize / 5) % 6),
            _ => player.seek(100_000 + i * 17_000),
        }
        // Only a block or two between requests: seeks land mid-crossfade
        // and while earlier targets are still pending.
        process(&mut engine, &mut l, &mut r);
        std::thread::sleep(Duration::from_micros(300));
    }
    player.play_song(4);
    player.seek(500_000);
    let ok = run_until(&mut engine, || {
        stats.active_song() == Some(4)
            && stats.transport() == TransportState::Playing
            && stats
                .active_deck()
                .is_some_and(|d| (500_000..600_000).contains(&stats.deck_position_frames(d)))
    });
    assert!(
        ok,
        "the last request (song 5 at frame 500000) must be what plays"
    );
}

#[test]
fn offline_song_changes_near_chunk_boundaries_never_stall() {
    // A song change crossfades from the deck that was playing; if that deck
    // sits on a chunk boundary, its next chunk must still be loaded or an
    // offline render waits for ever (found by `trax warm`).
    let setlist = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/setlist.toml");
    let (player, mut engine, _) = offline_player(&setlist, 48_000);
    player.set_auto_advance(false);
    let stats = player.engine_stats().clone();
    let chunk = trax::bridge::CHUNK_FRAMES as u64;
    let mut l = [0.0f32; 256];
    let mut r = [0.0f32; 256];
    for round in 0..24u64 {
        let song = (round % 3) as usize;
        player.play_song(song);
        // Render until the song plays a little before a chunk boundary.
        let target = (2 + round % 5) * chunk - (round * 97) % 700;
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut frames_in_song = 0u64;
        while stats.active_song() != Some(song) || frames_in_song < target {
            let n = process(&mut engine, &mut l, &mut r);
            if stats.active_song() == Some(song) {
                frames_in_song = (0..trax::bridge::DECKS)
                    .filter(|&d| stats.deck_in_use(d))
                    .map(|d| stats.deck_position_frames(d))
                    .max()
                    .unwrap_or(0);
            }
            if n < l.len() {
                player.nudge();
                player.wait_for_progress(Duration::from_millis(2));
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: offline render stalled in song {} (active {:?}, {frames_in_song} of {target} frames, transport {:?}, decks {:?})",
                song + 1,
                stats.active_song(),
                stats.transport(),
                (0..trax::bridge::DECKS)
                    .map(|d| (stats.deck_in_use(d), stats.deck_position_frames(d)))
                    .collect::<Vec<_>>()
            );
        }
    }
}

#[test]
fn a_synced_start_whose_first_frames_come_late_opens_in_step_with_the_clock() {
    // Follow host: the cued deck moves with the host clock while its stems
    // load. A cold disk (every source takes 400 ms to open; 7 stems on 2
    // loader threads) makes the first frames come ≈ 1.6 s late, past the
    // cue window (2 chunks, 0.68 s at 48 kHz): the loader must follow the
    // clock, or the song stays silent until the host jumps.
    let song = corpus().join("songs/01_singularity_awakening");
    let list = trax::setlist::load(&song).unwrap();
    let config = PlayerConfig {
        open_delay: Duration::from_millis(400),
        loader_threads: 2,
        ..PlayerConfig::realtime(48_000)
    };
    let (player, mut engine) = Player::new(config).unwrap();
    player.load(&list);
    let stats = player.engine_stats().clone();
    let deadline = Instant::now() + Duration::from_secs(10);
    while engine.song_count() == 0 {
        assert!(
            Instant::now() < deadline,
            "the engine never took the setlist"
        );
        process(&mut engine, &mut [], &mut []);
        std::thread::sleep(Duration::from_millis(1));
    }
    let block = 512usize;
    let mut l = vec![0.0f32; block];
    let mut r = vec![0.0f32; block];
    engine.play_song_synced(0, 0);
    let start = Instant::now();
    let mut clock_frames = 0u64;
    while stats.transport() != TransportState::Playing {
        assert!(
            start.elapsed() < Duration::from_secs(8),
            "the synced start never opened: transport {:?}, decks {:?}",
            stats.transport(),
            (0..trax::bridge::DECKS)
                .map(|d| (stats.deck_in_use(d), stats.deck_position_frames(d)))
                .collect::<Vec<_>>()
        );
        process(&mut engine, &mut l, &mut r);
        clock_frames += block as u64;
        let due = start + Duration::from_secs_f64(clock_frames as f64 / 48_000.0);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    let position = engine.position_frames().unwrap_or(0);
    eprintln!(
        "synced start opened after {:.2} s at song frame {position} (clock {clock_frames})",
        start.elapsed().as_secs_f64()
    );
    assert!(
        position > 2 * u64::from(trax::bridge::CHUNK_FRAMES),
        "the first frames came within the cue window: the test shows nothing"
    );
    assert!(
        position.abs_diff(clock_frames) <= block as u64,
        "in step with the clock: song frame {position}, clock {clock_frames}"
    );
}

/// 1.5 s of `song_dir` at 48 kHz through the auto-master (on) with a
/// static gain of `gain_db`; before playing, `spam` commands that change
/// nothing (pause/resume while stopped) are sent while the engine is not
/// called, as a host that stops calling `process()` while the user works.
fn mastered_render(song_dir: &Path, gain_db: f32, spam: usize) -> (Vec<f32>, u64) {
    let list = trax::setlist::load(song_dir).unwrap();
    let config = PlayerConfig {
        mastering: true,
        ..PlayerConfig::offline(48_000)
    };
    let (player, mut engine) = Player::new(config).unwrap();
    let prepared = player.load(&list);
    player.set_auto_advance(false);
    for i in 0..spam {
        if i % 2 == 0 {
            player.pause();
        } else {
            player.resume();
        }
    }
    let master = trax::bridge::SongMaster {
        gain_db,
        ..trax::bridge::SongMaster::NEUTRAL
    };
    player.set_song_master(prepared.epoch, 0, master);
    player.set_auto_master(true, false);
    player.play_song(0);
    // Let the loader get through its inbox before the engine runs.
    std::thread::sleep(Duration::from_millis(300));
    let stats = player.engine_stats().clone();
    pump_until(&mut engine, || stats.transport() != TransportState::Stopped);
    let mut out = Vec::new();
    render_frames_within(
        &player,
        &mut engine,
        512,
        72_000,
        &mut out,
        Duration::from_secs(10),
    );
    (out, stats.commands_dropped())
}

#[test]
fn commands_sent_while_the_engine_is_not_called_all_arrive() {
    // 2000 commands fill the engine's queue (1024) before the song's
    // auto-master settings, the switch and the start are sent: they must
    // all arrive, in order, once the engine runs again.
    let song = corpus().join("songs/03_planetblupi_music000");
    let (reference, _) = mastered_render(&song, 0.0, 0);
    let (louder, dropped) = mastered_render(&song, 20.0 * 2f32.log10(), 2_000);
    assert_eq!(dropped, 0, "commands dropped");
    // After the 10 ms gain glide, every frame is twice the reference.
    let from = 2 * 4_800;
    let rms = |s: &[f32]| (s.iter().map(|x| x * x).sum::<f32>() / s.len() as f32).sqrt();
    let ratio = rms(&louder[from..]) / rms(&reference[from..]);
    assert!(
        (ratio - 2.0).abs() < 1e-3,
        "the song's auto-master gain (+6 dB) did not arrive: level ratio {ratio}"
    );
}
