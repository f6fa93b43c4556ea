//! What happens when a song ends, per song (`end` in the setlist): a
//! setlist A (stop) -> B (continue) -> C (fade 2 s) -> D, rendered offline
//! through the real player and engine. After A the transport stops with B
//! cued at its start (Play starts it at the next frame); B runs into C
//! sample-contiguously; C's last 2 s fall monotonically to silence and
//! the transport stops with D cued. Each song is a constant level, so
//! every frame tells which song and which gain it has.

use crate::common;

use common::live_setlist::{write_setlist, GenStem, RATE_HZ};
use common::*;
use trax::bridge::TransportState;

const SEC: usize = RATE_HZ as usize;

#[test]
fn stop_continue_and_fade_end_songs_as_the_setlist_says() {
    let dir = tempfile::tempdir().expect("tempdir");
    let level = |v: f32| move |_: usize| v;
    let (a, b, c, d) = (level(0.125), level(0.25), level(0.375), level(0.5));
    let stem = |file, frames, sample: &'static dyn Fn(usize) -> f32| GenStem {
        file,
        output: None,
        frames,
        sample,
    };
    let a: &'static dyn Fn(usize) -> f32 = Box::leak(Box::new(a));
    let b: &'static dyn Fn(usize) -> f32 = Box::leak(Box::new(b));
    let c: &'static dyn Fn(usize) -> f32 = Box::leak(Box::new(c));
    let d: &'static dyn Fn(usize) -> f32 = Box::leak(Box::new(d));
    let setlist = write_setlist(
        dir.path(),
        "end = \"continue\"",
        &[
            ("end = \"stop\"", vec![stem("a.wav", SEC, a)]),
            ("", vec![stem("b.wav", SEC, b)]),
            (
                "end = \"fade\"\nfade_secs = 2.0",
                vec![stem("c.wav", 3 * SEC, c)],
            ),
            ("", vec![stem("d.wav", SEC, d)]),
        ],
    );
    let (player, mut engine, _) = offline_player(&setlist, RATE_HZ);
    let stats = player.engine_stats().clone();
    player.play_song(0);

    // A, then a stop: exactly A's frames, and B cued at its start.
    let out = render_until_stopped(&player, &mut engine, 512, 10 * SEC as u64);
    assert_eq!(
        out.len() / 2,
        SEC,
        "A plays whole, then the transport stops"
    );
    assert!(out.iter().all(|&v| v == 0.125), "A at its level throughout");
    assert_eq!(stats.transport(), TransportState::Stopped);
    assert_eq!(engine.take_cued_after_end(), Some(1), "B is next");
    // Play (the plugin plays the cued song from 0): B's head is resident,
    // so the first block is B from its first frame with no wait.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !engine.is_cued(1) {
        assert!(
            std::time::Instant::now() < deadline,
            "B's head never resident"
        );
        player.nudge();
        player.wait_for_progress(std::time::Duration::from_millis(2));
        engine.take_commands();
    }
    engine.play_song(1, 0);
    let (mut l, mut r) = (vec![0.0f32; 512], vec![0.0f32; 512]);
    assert_eq!(
        process(&mut engine, &mut l, &mut r),
        512,
        "B starts at once"
    );
    assert!(l.iter().chain(&r).all(|&v| v == 0.25), "B from its frame 0");

    // B into C with no gap, C's fade, then a stop with D cued.
    let rest = render_until_stopped(&player, &mut engine, 512, 10 * SEC as u64);
    let rest: Vec<f32> = rest.chunks_exact(2).map(|f| f[0]).collect();
    let b_left = SEC - 512;
    assert_eq!(rest.len(), b_left + 3 * SEC, "the rest of B, then C whole");
    assert!(
        rest[..b_left].iter().all(|&v| v == 0.25),
        "B to its last frame"
    );
    let c_out = &rest[b_left..];
    assert!(
        c_out[..SEC].iter().all(|&v| v == 0.375),
        "C at full level from B's next frame until its fade"
    );
    let fade = &c_out[SEC..];
    assert!(
        fade.windows(2).all(|w| w[1] <= w[0]),
        "the fade never rises"
    );
    assert!(
        fade[0] > 0.374 && *fade.last().unwrap() < 1e-3,
        "0.375 down to ~0"
    );
    assert_eq!(stats.transport(), TransportState::Stopped);
    assert_eq!(engine.take_cued_after_end(), Some(3), "D is next");
    // After the fade: exactly silence (nothing is cued to play).
    let n = process(&mut engine, &mut l, &mut r);
    assert!(l[..n].iter().chain(&r[..n]).all(|&v| v == 0.0));
}
