//! Bounces in a host that does not say it renders offline (Ardour's export
//! runs `process()` in freewheel, about 25x real time, in the realtime
//! process mode): the plugin finds it from the pace of the calls and waits
//! for its loader, so the bounce is `trax render` bit for bit, while a
//! realtime host that calls in bursts is never made to wait.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::*;

/// Seconds of song each bounce renders.
const BOUNCE_SECS: usize = 30;

/// Ardour's export pre-roll: freewheel with the transport stopped before
/// it rolls (its `export-preroll` setting, 1 s by default), then the roll
/// from -1024 (pre-roll and latency compensation).
const EXPORT_PREROLL_FRAMES: usize = 48_000;
const ROLL_START: i64 = -1024;

/// Keeps one core busy until dropped (the machine's load during a bounce).
struct BusyCore(Arc<AtomicBool>, Option<std::thread::JoinHandle<()>>);

impl BusyCore {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::spawn(move || {
            let mut x = 0u64;
            while !flag.load(Ordering::Relaxed) {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        });
        Self(stop, Some(handle))
    }
}

impl Drop for BusyCore {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
        if let Some(h) = self.1.take() {
            let _ = h.join();
        }
    }
}

/// Bounces `song` (0-based) in the realtime process mode, as fast as the
/// plugin returns, with one core busy; a summary or the failure.
fn bounce(bundle: &ClapBundle, song: usize, block: usize) -> Result<String, String> {
    let frames = BOUNCE_SECS * 48_000;
    let t = Instant::now();
    let reference = reference_render(&corpus_setlist(), song, 48_000, frames);
    let reference_secs = t.elapsed().as_secs_f64();
    let mut inst = follow_instance(bundle, song, block, false, Duration::from_millis(500));
    let latency = inst.latency_frames() as usize;
    let busy = BusyCore::start();
    let rolling = (-ROLL_START) as usize + frames + latency;
    let d = drive(
        &mut inst,
        block,
        ROLL_START,
        EXPORT_PREROLL_FRAMES,
        rolling,
        Pacing::Fast,
    );
    drop(busy);
    let audio_secs = (EXPORT_PREROLL_FRAMES + rolling) as f64 / 48_000.0;
    let tl = timeline(&d.rolling, ROLL_START, latency, &reference, 0);
    let summary = format!(
        "bounce of song {} ({BOUNCE_SECS} s, blocks of {block}): {:.1}x real time, {} of {} blocks \
         of 1024 silent, {} frames differ from trax render (first at {:?}), first sound at host \
         frame {:?} (reference render {reference_secs:.1} s)",
        song + 1,
        audio_secs / d.wall.as_secs_f64(),
        tl.silent_blocks,
        tl.blocks,
        tl.wrong_frames,
        tl.first_wrong,
        tl.first_sound
    );
    if tl.silent_blocks > 0 || tl.wrong_frames > 0 || tl.blocks < frames / 1024 - 2 {
        return Err(summary);
    }
    Ok(summary)
}

#[test]
pub(super) fn bounce_in_realtime_mode_at_full_speed_is_complete() {
    let Some(bundle) = load_bundle("bounce_in_realtime_mode_at_full_speed_is_complete") else {
        return;
    };
    let mut failures = Vec::new();
    // Song 1 (7 stems) and song 4 (30 stems).
    for (song, block) in [(0usize, 1024usize), (3, 512)] {
        match bounce(&bundle, song, block) {
            Ok(s) => eprintln!("{s}"),
            Err(f) => {
                eprintln!("{f}");
                failures.push(f);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
pub(super) fn realtime_bursts_never_wait() {
    let Some(bundle) = load_bundle("realtime_bursts_never_wait") else {
        return;
    };
    const BLOCK: usize = 1024;
    let frames = 8 * 48_000;
    let reference = reference_render(&corpus_setlist(), 0, 48_000, frames);
    let mut inst = follow_instance(&bundle, 0, BLOCK, false, Duration::from_millis(300));
    let latency = inst.latency_frames() as usize;
    // Bursts of 8 blocks back to back, then the host waits for real time
    // to catch up (what a host does after a late callback, or with a large
    // device buffer split into plugin blocks).
    let d = drive(
        &mut inst,
        BLOCK,
        0,
        24_000,
        frames + latency,
        Pacing::RealTime { burst: 8 },
    );
    let block_secs = BLOCK as f64 / 48_000.0;
    let tl = timeline(&d.rolling, 0, latency, &reference, 0);
    eprintln!(
        "bursts of 8 x {BLOCK} at real time: longest process() {:.2} ms (a block is {:.2} ms), \
         {} frames differ from trax render (first at {:?}), {} of {} blocks silent",
        d.max_call.as_secs_f64() * 1e3,
        block_secs * 1e3,
        tl.wrong_frames,
        tl.first_wrong,
        tl.silent_blocks,
        tl.blocks
    );
    assert!(
        d.max_call.as_secs_f64() < block_secs,
        "a process() call took {:.2} ms, longer than its block ({:.2} ms): the plugin waited in \
         a realtime context",
        d.max_call.as_secs_f64() * 1e3,
        block_secs * 1e3
    );
    assert_eq!(
        (tl.wrong_frames, tl.silent_blocks),
        (0, 0),
        "at real time with the song's head resident, the output is trax render from host frame 0"
    );
}
