//! The process path never allocates: every `Engine::process` call runs under
//! nice-plug's allocation checker (the suite's global allocator, see
//! `common/mod.rs`; an allocation aborts the test binary) across play,
//! seeks, song changes, mute/solo, pause/stop, setlist reload and
//! underruns (see `common/scenario.rs`).

// assert_no_alloc checks only where debug assertions are on (`cargo test`).
#![cfg(debug_assertions)]

use crate::common;

use nice_assert_no_alloc::assert_no_alloc;

#[test]
fn process_never_allocates() {
    common::scenario::run(&mut |block| assert_no_alloc(block));
}

#[test]
fn offline_process_never_allocates() {
    // Offline mode stops early where data is late; the driver waits outside
    // process(). Every call, including the partial ones, is checked.
    let setlist = common::corpus().join("songs/01_singularity_awakening");
    let (player, mut engine, _) = common::offline_player(&setlist, 48_000);
    player.set_auto_advance(false);
    player.play_song(0);
    let stats = player.engine_stats().clone();
    let mut l = vec![0.0f32; 512];
    let mut r = vec![0.0f32; 512];
    let mut frames = 0u64;
    let mut seeked = false;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let n = common::process(&mut engine, &mut l, &mut r);
        frames += n as u64;
        if !seeked && frames > 200_000 {
            player.seek(1_000_000);
            seeked = true;
        }
        if n < 512 {
            if frames > 0 && stats.transport() == trax::bridge::TransportState::Stopped {
                break;
            }
            player.nudge();
            player.wait_for_progress(std::time::Duration::from_millis(2));
        }
        assert!(
            std::time::Instant::now() < deadline,
            "offline render stalled"
        );
    }
    assert!(frames > 600_000, "rendered {frames} frames");
}

#[test]
fn audio_thread_requests_never_allocate() {
    // What the plugin glue calls on the audio thread (notes, program
    // changes, parameters, host transport), each inside assert_no_alloc
    // together with the process call after it.
    let setlist = trax::setlist::load(&common::corpus().join("setlist.json")).unwrap();
    let (player, mut engine) = trax::Player::new(trax::PlayerConfig::realtime(48_000)).unwrap();
    player.load(&setlist);
    let stats = player.engine_stats().clone();
    let mut l = vec![0.0f32; 256];
    let mut r = vec![0.0f32; 256];
    let pace = std::time::Duration::from_millis(2);
    let mut step =
        |engine: &mut trax::Engine, blocks: usize, f: &mut dyn FnMut(&mut trax::Engine)| {
            assert_no_alloc(|| {
                f(engine);
                engine.process(&mut l, &mut r);
            });
            for _ in 1..blocks {
                common::process(engine, &mut l, &mut r);
                std::thread::sleep(pace);
            }
        };
    step(&mut engine, 1, &mut |e| e.take_commands());
    assert!(engine.song_count() >= 6, "setlist taken");
    step(&mut engine, 100, &mut |e| e.cue_song(2));
    // The cued head starts locally (no request), then requests that go to
    // the loader and wake it.
    step(&mut engine, 100, &mut |e| e.play_song(2, 0));
    assert_eq!(engine.active_song(), Some(2), "cued song starts");
    step(&mut engine, 100, &mut |e| e.play_song(4, 0));
    step(&mut engine, 100, &mut |e| e.seek(500_000));
    step(&mut engine, 100, &mut |e| e.play_song_synced(1, 200_000));
    step(&mut engine, 100, &mut |e| e.seek_synced(300_000));
    step(&mut engine, 50, &mut |e| e.pause());
    assert!(engine.is_paused());
    step(&mut engine, 50, &mut |e| e.resume());
    step(&mut engine, 50, &mut |e| e.stop());
    step(&mut engine, 10, &mut |e| e.play_song(99, 0)); // beyond the setlist: ignored
    assert!(
        stats.song_starts() >= 4,
        "requests took effect: {}",
        stats.song_starts()
    );
}

#[test]
fn the_checker_catches_an_allocation() {
    // The checker aborts the process: provoke it in a child.
    if std::env::var_os("TRAX_ALLOC_PROVOKE").is_some() {
        let v = assert_no_alloc(|| std::hint::black_box(vec![1u8; 1000]));
        println!("not caught: {}", v.len());
        return;
    }
    let (code, stderr) = common::run_child_test(
        "no_alloc::the_checker_catches_an_allocation",
        "TRAX_ALLOC_PROVOKE",
    );
    assert!(
        code != Some(0),
        "an allocation inside the checker did not abort: {stderr}"
    );
    assert!(
        stderr.contains("memory allocation of 1000 bytes failed"),
        "the child failed for another reason: {stderr}"
    );
}
