//! The process-path scenario shared by the allocation test and the
//! RealtimeSanitizer test: play, seeks (unbuffered and inside the window),
//! mute/solo/gain/pan, song changes, pause/resume/stop, underruns (rendering
//! far faster than real time), a setlist reload while playing, and
//! auto-advance. Every `process()` call goes through the caller's wrapper.

use std::time::{Duration, Instant};

use trax::bridge::StemMix;
use trax::{Player, PlayerConfig};

const ENGINE_HZ: u32 = 48_000;
const BLOCK: usize = 128;

/// Wraps one process call (e.g. in `assert_no_alloc`, or between RTSan's
/// realtime enter/exit).
pub type Wrap<'a> = &'a mut dyn FnMut(&mut trax::Engine, &mut [f32], &mut [f32]);

struct Audio<'a> {
    engine: trax::Engine,
    l: Vec<f32>,
    r: Vec<f32>,
    calls: u64,
    wrap: Wrap<'a>,
}

impl Audio<'_> {
    /// Renders `blocks` blocks, each through the wrapper, sleeping
    /// `pace` between them (zero: as fast as possible, so the loader falls
    /// behind and underruns happen).
    fn run(&mut self, blocks: usize, pace: Duration) {
        for _ in 0..blocks {
            (self.wrap)(&mut self.engine, &mut self.l, &mut self.r);
            self.calls += 1;
            if !pace.is_zero() {
                std::thread::sleep(pace);
            }
        }
    }
}

/// Runs the scenario, passing every process call through `wrap`.
pub fn run(wrap: Wrap<'_>) {
    let setlist_a = trax::setlist::load(&super::corpus().join("setlist.json")).unwrap();
    let setlist_b =
        trax::setlist::load(&super::corpus().join("songs/03_planetblupi_music000")).unwrap();
    let (player, engine) = Player::new(PlayerConfig::realtime(ENGINE_HZ)).unwrap();
    player.load(&setlist_a);
    let mut audio = Audio {
        engine,
        l: vec![0.0; BLOCK],
        r: vec![0.0; BLOCK],
        calls: 0,
        wrap,
    };
    let stats = player.engine_stats().clone();
    let quarter_rt = Duration::from_micros(600);
    let start = Instant::now();

    // Play song 4 (30 stems).
    player.play_song(3);
    audio.run(400, quarter_rt);
    assert!(stats.active_song() == Some(3), "song 4 plays");
    // Seeks, unbuffered and inside the window.
    for target in [700_000u64, 100_000, 110_000, 1_300_000] {
        player.seek(target);
        audio.run(100, quarter_rt);
    }
    // Mute, solo, gain and pan changes.
    for stem in 0..4 {
        let mix = StemMix {
            gain_db: -6.0,
            pan: 0.5,
            mute: stem == 1,
            solo: stem == 2,
        };
        player.set_stem_mix(3, stem, mix);
        audio.run(20, quarter_rt);
    }
    // Song changes: next, previous, a song with resampled and lossy stems.
    player.next();
    audio.run(200, quarter_rt);
    player.previous();
    audio.run(200, quarter_rt);
    player.play_song(0);
    audio.run(200, quarter_rt);
    // Pause, resume, stop, start again.
    player.pause();
    audio.run(50, quarter_rt);
    player.resume();
    audio.run(50, quarter_rt);
    player.stop();
    audio.run(50, quarter_rt);
    player.play_song(5);
    audio.run(200, quarter_rt);
    // Underruns: seek and render far faster than real time.
    let underruns_before = stats.underrun_blocks();
    for target in [200_000u64, 900_000, 400_000] {
        player.seek(target);
        audio.run(50, quarter_rt);
        audio.run(3000, Duration::ZERO);
    }
    assert!(
        stats.underrun_blocks() > underruns_before,
        "the scenario must include underruns"
    );
    // A new setlist while playing (the old one goes back to the loader).
    player.load(&setlist_b);
    audio.run(50, quarter_rt);
    player.play_song(0);
    audio.run(300, quarter_rt);
    // Auto-advance at a song end.
    player.load(&setlist_a);
    player.play_song_at(2, 1_500_000);
    audio.run(900, quarter_rt);

    eprintln!(
        "{} process calls in {:.1} s, {} underruns, {} song starts",
        audio.calls,
        start.elapsed().as_secs_f64(),
        stats.underrun_blocks(),
        stats.song_starts()
    );
    assert!(stats.song_starts() >= 8);
}
