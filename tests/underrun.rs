//! Underruns: with a deliberately slowed source the engine outputs exact
//! silence for the missing frames, counts them, and never waits.

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use trax::{Player, PlayerConfig};

#[test]
fn late_frames_are_exact_silence_counted_and_never_block() {
    let setlist =
        trax::setlist::load(&corpus().join("songs/04_frozen_bubble_30stems/01_channel01.flac"))
            .or_else(|_| trax::setlist::load(&corpus().join("songs/04_frozen_bubble_30stems")))
            .unwrap();
    // One stem, so a block's missing frames are the stem's missing frames.
    let mut one = setlist.clone();
    one.songs[0].stems.truncate(1);
    // 150 ms per decoded block of 4096 frames (85 ms of audio): the loader
    // runs at about half real time.
    let config = PlayerConfig {
        read_delay: Duration::from_millis(150),
        ..PlayerConfig::realtime(48_000)
    };
    let (player, mut engine) = Player::new(config).unwrap();
    player.load(&one);
    let stats = player.engine_stats().clone();
    player.play_song(0);
    const BLOCK: usize = 256;
    let mut l = vec![0.0f32; BLOCK];
    let mut r = vec![0.0f32; BLOCK];
    let mut worst = Duration::ZERO;
    let mut silent_blocks = 0;
    let mut audible_blocks = 0;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(4) {
        let missing_before = stats.underrun_frames();
        let t = Instant::now();
        common::process(&mut engine, &mut l, &mut r);
        worst = worst.max(t.elapsed());
        let missing = stats.underrun_frames() - missing_before;
        if missing == BLOCK as u64 {
            assert!(
                l.iter().chain(&r).all(|&v| v == 0.0),
                "a block with every frame late must be exact silence"
            );
            silent_blocks += 1;
        } else if l.iter().any(|&v| v != 0.0) {
            audible_blocks += 1;
        }
        // Twice real time: 256 frames = 5.3 ms.
        std::thread::sleep(Duration::from_micros(2_600));
    }
    eprintln!(
        "{} underruns, {} late frames, {silent_blocks} silent and {audible_blocks} audible blocks, slowest process() {:?}",
        stats.underrun_blocks(),
        stats.underrun_frames(),
        worst
    );
    assert!(
        stats.underrun_blocks() > 0,
        "the slowed source must cause underruns"
    );
    assert!(silent_blocks > 0);
    assert!(audible_blocks > 0, "frames that arrive are played");
    // Blocking on the loader would take at least one read delay (150 ms).
    assert!(
        worst < Duration::from_millis(50),
        "process() waited: {worst:?}"
    );
}
