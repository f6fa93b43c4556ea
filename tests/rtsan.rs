//! The process-path scenario (`common/scenario.rs`) under RealtimeSanitizer:
//! every `process()` call runs in RTSan's realtime context, where any
//! allocation, lock, futex wake or blocking syscall aborts with exit code 43
//! (it sees what `assert_no_alloc` cannot). The scenario includes the
//! requests the plugin makes on the audio thread; the one futex wake such a
//! request may make (`bridge::waker`) is the single exception, scoped with
//! RTSan's disable/enable through `set_wake_exception`. Two tests in child
//! processes prove the sanitizer is live: a plain allocation, and the same
//! request without the exception, are both flagged.
//!
//! The sanitizer is linked when the suite is built with `RTSAN_ENABLE=1`
//! and `RTSAN_LIB_PATH` at Debian's `libclang_rt.rtsan-x86_64.a`
//! (libclang-rt-22-dev); `cargo xtask test` does this and sets
//! `TRAX_REQUIRE_RTSAN=1`, so there a build without it fails. In a plain
//! `cargo test` both tests say they were skipped.

use crate::common;

use rtsan_standalone::{realtime_enter, realtime_exit};

/// Whether the sanitizer is linked; fails where it is required.
fn sanitizer_linked() -> bool {
    let linked = option_env!("RTSAN_ENABLE").is_some();
    if !linked {
        assert!(
            std::env::var_os("TRAX_REQUIRE_RTSAN").is_none(),
            "the suite must be built with RTSAN_ENABLE=1 and RTSAN_LIB_PATH set (cargo xtask test)"
        );
        eprintln!("SKIPPED: RealtimeSanitizer not linked (build with RTSAN_ENABLE=1; cargo xtask test does)");
    }
    linked
}

#[test]
fn process_path_has_no_realtime_violation() {
    if !sanitizer_linked() {
        return;
    }
    rtsan_standalone::ensure_initialized();
    trax::bridge::waker::set_wake_exception(rtsan_standalone::disable, rtsan_standalone::enable);
    common::scenario::run(&mut |block| {
        realtime_enter();
        block();
        realtime_exit();
    });
}

#[test]
fn the_sanitizer_catches_a_violation() {
    if !sanitizer_linked() {
        return;
    }
    if std::env::var_os("TRAX_RTSAN_PROVOKE").is_some() {
        rtsan_standalone::ensure_initialized();
        realtime_enter();
        let v: Vec<u64> = std::hint::black_box((0..1000).collect());
        realtime_exit();
        println!("not caught: {}", v.len());
        return;
    }
    let (code, stderr) = common::run_child_test(
        "rtsan::the_sanitizer_catches_a_violation",
        "TRAX_RTSAN_PROVOKE",
    );
    assert_eq!(code, Some(43), "child: {stderr}");
    assert!(stderr.contains("RealtimeSanitizer"), "{stderr}");
}

#[test]
fn a_request_that_wakes_the_loader_is_flagged_without_the_exception() {
    if !sanitizer_linked() {
        return;
    }
    if std::env::var_os("TRAX_RTSAN_WAKE").is_some() {
        rtsan_standalone::ensure_initialized();
        let setlist = trax::setlist::load(&common::corpus().join("setlist.json")).expect("setlist");
        let (player, mut engine) =
            trax::Player::new(trax::PlayerConfig::realtime(48_000)).expect("player");
        player.load(&setlist);
        let (mut l, mut r) = (vec![0.0f32; 128], vec![0.0f32; 128]);
        engine.process(&mut l, &mut r);
        // Let the coordinator go idle and park: the request must wake it.
        std::thread::sleep(std::time::Duration::from_millis(300));
        realtime_enter();
        engine.play_song(3, 0);
        realtime_exit();
        println!("not caught");
        return;
    }
    let (code, stderr) = common::run_child_test(
        "rtsan::a_request_that_wakes_the_loader_is_flagged_without_the_exception",
        "TRAX_RTSAN_WAKE",
    );
    assert_eq!(code, Some(43), "child: {stderr}");
    assert!(
        stderr.contains("RealtimeSanitizer") && stderr.contains("syscall"),
        "the child was flagged for something else than the wake's system call: {stderr}"
    );
}
