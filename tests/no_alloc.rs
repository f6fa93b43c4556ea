//! The process path never allocates: every `Engine::process` call runs under
//! `assert_no_alloc` (every test binary's global allocator) across play,
//! seeks, song changes, mute/solo, pause/stop, setlist reload and
//! underruns (see `common/scenario.rs`). Zero violations allowed.

// assert_no_alloc checks only where debug assertions are on (`cargo test`).
#![cfg(debug_assertions)]

mod common;

use assert_no_alloc::assert_no_alloc;

// The global allocator is assert_no_alloc's, declared in common/mod.rs for
// every test binary.

#[test]
fn process_never_allocates() {
    common::scenario::run(&mut |engine, l, r| {
        assert_no_alloc(|| {
            engine.process(l, r);
        });
    });
    assert_eq!(
        assert_no_alloc::violation_count(),
        0,
        "allocations in process()"
    );
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
    assert_eq!(
        assert_no_alloc::violation_count(),
        0,
        "allocations in offline process()"
    );
}
