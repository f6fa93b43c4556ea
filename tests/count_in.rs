//! Count-in and generated click from a song's tempo, rendered offline
//! through the real player and engine on every bus. One bar at 120 bpm in
//! 4/4 at 48 kHz: clicks start at exactly frames 0, 24000, 48000 and 72000
//! on the Click bus (the first, accented, louder), main is digitally
//! silent until frame 96000 and then plays the song from its frame 0
//! bit-exact; with `click = true` the click goes on through the song, on
//! the beat grid that continues the count-in's.

use crate::common;

use common::live_setlist::{write_setlist, GenStem, RATE_HZ};
use trax::bridge::{BUS_CHANNELS, BUS_COUNT};
use trax::offline::{Driver, Wait};
use trax::{Outputs, Player};

/// The song's samples: a ramp of exact multiples of 2^-12 (exact through
/// any 16- or 24-bit cache), never 0.
fn song_sample(i: usize) -> f32 {
    ((i % 2048) as f32 + 1.0) / 4096.0
}

/// Renders `frames` frames of every bus after song 1 is played on the
/// audio thread (`Engine::play_song`, as a note or Play does),
/// waiting for the loader; returns the 18 channels.
fn render_all(player: &Player, engine: &mut trax::Engine, frames: usize) -> Vec<Vec<f32>> {
    let mut channels = vec![vec![0.0f32; frames]; BUS_CHANNELS];
    let mut refs: [&mut [f32]; BUS_CHANNELS] = Default::default();
    for (r, c) in refs.iter_mut().zip(channels.iter_mut()) {
        *r = &mut c[..];
    }
    let mut out = Outputs::new(refs);
    // Play as the plugin does (a note, the Play button): on the audio
    // thread, once the setlist is there.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while engine.song_count() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the setlist never arrived"
        );
        player.nudge();
        player.wait_for_progress(std::time::Duration::from_millis(2));
        engine.take_commands();
    }
    engine.play_song(0, 0);
    let mut driver = Driver::new(Wait::Player(player));
    driver.expect_start();
    let mut at = 0;
    while at < frames {
        let n = 512.min(frames - at);
        let r = driver
            .render_buses(engine, &mut out.range(at, at + n))
            .expect("render");
        assert!(!r.idle || at + r.frames >= frames, "stopped early at {at}");
        at += n;
    }
    channels
}

/// The frames where a click starts: a non-zero sample after silence.
fn onsets(x: &[f32]) -> Vec<usize> {
    (0..x.len())
        .filter(|&i| x[i] != 0.0 && (i == 0 || x[i - 1] == 0.0))
        .collect()
}

fn setlist(dir: &std::path::Path, click: bool) -> std::path::PathBuf {
    let song = |i: usize| song_sample(i);
    let song: &'static dyn Fn(usize) -> f32 = Box::leak(Box::new(song));
    let extra = format!("bpm = 120.0\nbeats_per_bar = 4\ncount_in_bars = 1\nclick = {click}");
    write_setlist(
        dir,
        "",
        &[(
            Box::leak(extra.into_boxed_str()),
            vec![GenStem {
                file: "music.wav",
                output: None,
                frames: 3 * RATE_HZ as usize,
                sample: song,
            }],
        )],
    )
}

#[test]
fn one_bar_at_120_bpm_counts_in_then_the_song_starts_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let list = trax::setlist::load(&setlist(dir.path(), false)).expect("setlist");
    let (player, mut engine) = Player::new(trax::PlayerConfig::offline(RATE_HZ)).expect("player");
    player.load(&list);
    let total = 96_000 + 2 * RATE_HZ as usize;
    let out = render_all(&player, &mut engine, total);
    let (click_l, click_r) = (&out[2], &out[3]);
    assert_eq!(click_l, click_r);
    assert_eq!(onsets(click_l), [0, 24_000, 48_000, 72_000]);
    let peak = |from: usize| {
        click_l[from..from + 2000]
            .iter()
            .fold(0.0f32, |m, v| m.max(v.abs()))
    };
    assert!(
        peak(0) > peak(24_000) * 1.5,
        "the first beat is accented: {} vs {}",
        peak(0),
        peak(24_000)
    );
    assert!(
        click_l[96_000..].iter().all(|&v| v == 0.0),
        "no click after the count-in"
    );
    for ch in [0, 1] {
        let main = &out[ch];
        let first = main.iter().position(|&v| v != 0.0);
        assert_eq!(
            first,
            Some(96_000),
            "main is silent until the count-in's end"
        );
        for i in 0..total - 96_000 {
            assert_eq!(main[96_000 + i], song_sample(i), "song frame {i}");
        }
    }
    for (ch, samples) in out.iter().enumerate().skip(4) {
        assert!(samples.iter().all(|&v| v == 0.0), "bus {} silent", ch / 2);
    }
    assert_eq!(BUS_COUNT * 2, BUS_CHANNELS);
}

#[test]
fn a_generated_click_runs_on_through_the_song_on_the_beat() {
    let dir = tempfile::tempdir().expect("tempdir");
    let list = trax::setlist::load(&setlist(dir.path(), true)).expect("setlist");
    let (player, mut engine) = Player::new(trax::PlayerConfig::offline(RATE_HZ)).expect("player");
    player.load(&list);
    let out = render_all(&player, &mut engine, 96_000 + 2 * RATE_HZ as usize);
    let beats: Vec<usize> = (0..8).map(|k| k * 24_000).collect();
    assert_eq!(onsets(&out[2]), beats, "count-in beats, then the song's");
    assert_eq!(
        out[2][96_000], out[2][0],
        "the song's first beat is accented too"
    );
}
