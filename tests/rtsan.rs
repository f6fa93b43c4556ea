//! The process-path scenario (`common/scenario.rs`) under RealtimeSanitizer:
//! every `process()` call runs in RTSan's realtime context, where any
//! allocation, lock, futex wake or blocking syscall aborts with exit code 43
//! (it sees what `assert_no_alloc` cannot). A second test proves the
//! sanitizer is live by provoking a violation in a child process.
//!
//! Built only with `--features rtsan` and `RTSAN_ENABLE=1`, with
//! `RTSAN_LIB_PATH` at Debian's `libclang_rt.rtsan-x86_64.a`
//! (libclang-rt-22-dev); `cargo xtask test` does this.
#![cfg(feature = "rtsan")]

mod common;

use std::process::Command;

use rtsan_standalone::{realtime_enter, realtime_exit};

fn require_sanitizer() {
    assert!(
        option_env!("RTSAN_ENABLE").is_some(),
        "tests/rtsan.rs must be built with RTSAN_ENABLE=1 and RTSAN_LIB_PATH set (cargo xtask test)"
    );
}

#[test]
fn process_path_has_no_realtime_violation() {
    require_sanitizer();
    rtsan_standalone::ensure_initialized();
    common::scenario::run(&mut |engine, l, r| {
        realtime_enter();
        engine.process(l, r);
        realtime_exit();
    });
}

#[test]
fn the_sanitizer_catches_a_violation() {
    require_sanitizer();
    if std::env::var_os("TRAX_RTSAN_PROVOKE").is_some() {
        rtsan_standalone::ensure_initialized();
        realtime_enter();
        let v: Vec<u64> = std::hint::black_box((0..1000).collect());
        realtime_exit();
        println!("not caught: {}", v.len());
        return;
    }
    let exe = std::env::current_exe().expect("test binary");
    let status = Command::new(exe)
        .args([
            "the_sanitizer_catches_a_violation",
            "--exact",
            "--test-threads=1",
        ])
        .env("TRAX_RTSAN_PROVOKE", "1")
        .output()
        .expect("run child");
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert_eq!(status.status.code(), Some(43), "child: {stderr}");
    assert!(stderr.contains("RealtimeSanitizer"), "{stderr}");
}
