//! Helpers shared by the benchmarks (not a bench target itself: Cargo only
//! discovers `benches/*.rs`).

use std::time::{Duration, Instant};

use trax::bridge::TransportState;
use trax::Player;

/// Frames per `process()` call in the benchmarks: 128, a common host block.
pub const BLOCK: usize = 128;

/// The median of `v` (upper median for even lengths).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Calls `process` like an audio callback (every 100 µs, faster than real
/// time so the moment of readiness is seen precisely) until the transport
/// plays; returns the elapsed time since `t0`.
pub fn until_playing(player: &Player, engine: &mut trax::Engine, t0: Instant) -> Duration {
    let stats = player.engine_stats().clone();
    let mut l = [0.0f32; BLOCK];
    let mut r = [0.0f32; BLOCK];
    loop {
        engine.process(&mut l, &mut r);
        if stats.transport() == TransportState::Playing {
            return t0.elapsed();
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "never started");
        std::thread::sleep(Duration::from_micros(100));
    }
}

/// Seeks to `target` and calls `process` every 100 µs until the seek
/// target plays with every stem resident; returns the time taken.
pub fn seek_until_ready(player: &Player, engine: &mut trax::Engine, target: u64) -> Duration {
    let stats = player.engine_stats().clone();
    let mut l = [0.0f32; BLOCK];
    let mut r = [0.0f32; BLOCK];
    let starts = stats.song_starts();
    let t = Instant::now();
    player.seek(target);
    loop {
        engine.process(&mut l, &mut r);
        if stats.song_starts() > starts {
            return t.elapsed();
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "seek never completed"
        );
        std::thread::sleep(Duration::from_micros(100));
    }
}

/// CPU seconds (user + system) of this process so far.
pub fn process_cpu_secs() -> f64 {
    // SAFETY: rusage is plain old data (all-zero is valid) and getrusage
    // writes only into it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe {
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    tv(usage.ru_utime) + tv(usage.ru_stime)
}
