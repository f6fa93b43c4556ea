//! The process-path scenario shared by the allocation test and the
//! RealtimeSanitizer test: play, seeks (unbuffered and inside the window),
//! mute/solo/gain/pan, song changes, pause/resume/stop, underruns (rendering
//! far faster than real time), a setlist reload while playing, and
//! auto-advance, and the requests the plugin glue makes on the audio thread
//! (cue, play, seek, synced play and seek, pause/resume/stop), and the live
//! rig (stems on aux buses, every bus connected, a count-in and a click from
//! the tempo, a song that fades out at its end, jumps and vamps), all with the
//! auto-master chain in the output, mastering songs with settings of their
//! own and toggled on and off (on the audio thread and by command). Every
//! `process()` call, and every such request with the process call after it,
//! runs inside the caller's wrapper.

use std::time::{Duration, Instant};

use trax::bridge::{Bus, JumpTiming, SongEnd, SongTempo, StemMix, VampLength, BUS_CHANNELS};
use trax::setlist::Section;
use trax::{Player, PlayerConfig};

const ENGINE_HZ: u32 = 48_000;
const BLOCK: usize = 128;

/// Runs what the audio thread does for one block (the closure it is given:
/// maybe a request, then one process call) inside a check, e.g. nice-plug's
/// `assert_no_alloc` or between RTSan's realtime enter/exit.
pub type Wrap<'a> = &'a mut dyn FnMut(&mut dyn FnMut());

struct Audio<'a> {
    engine: trax::Engine,
    l: Vec<f32>,
    r: Vec<f32>,
    /// The aux buses' channels (every bus is connected).
    aux: Vec<Vec<f32>>,
    calls: u64,
    wrap: Wrap<'a>,
}

/// One process call with every bus connected: main into `l`/`r`, the aux
/// buses into `aux`.
fn process_all(engine: &mut trax::Engine, l: &mut [f32], r: &mut [f32], aux: &mut [Vec<f32>]) {
    let mut refs: [&mut [f32]; BUS_CHANNELS] = Default::default();
    refs[0] = l;
    refs[1] = r;
    for (slot, c) in refs[2..].iter_mut().zip(aux.iter_mut()) {
        *slot = &mut c[..];
    }
    engine.process_buses(&mut trax::Outputs::new(refs));
}

impl Audio<'_> {
    /// One block whose audio-thread work is `request` on the engine, then
    /// the process call, both inside the wrapper.
    fn request(&mut self, mut request: impl FnMut(&mut trax::Engine)) {
        let (engine, l, r, aux) = (&mut self.engine, &mut self.l, &mut self.r, &mut self.aux);
        (self.wrap)(&mut || {
            request(engine);
            process_all(engine, l, r, aux);
        });
        self.calls += 1;
    }

    /// Renders `blocks` blocks, each through the wrapper, sleeping
    /// `pace` between them (zero: as fast as possible, so the loader falls
    /// behind and underruns happen).
    fn run(&mut self, blocks: usize, pace: Duration) {
        for _ in 0..blocks {
            let (engine, l, r, aux) = (&mut self.engine, &mut self.l, &mut self.r, &mut self.aux);
            (self.wrap)(&mut || {
                process_all(engine, l, r, aux);
            });
            self.calls += 1;
            if !pace.is_zero() {
                std::thread::sleep(pace);
            }
        }
    }

    /// Renders blocks as [`Audio::run`] does until `done()` (then 50
    /// more) or `max_blocks`: a request that needs the loader takes effect
    /// however loaded the machine is.
    fn run_until(&mut self, done: impl Fn() -> bool, max_blocks: usize, pace: Duration) {
        for _ in 0..max_blocks {
            if done() {
                break;
            }
            self.run(1, pace);
        }
        self.run(50, pace);
    }
}

/// Runs the scenario, passing every process call through `wrap`.
pub fn run(wrap: Wrap<'_>) {
    let setlist_a = trax::setlist::load(&super::corpus().join("setlist.json")).unwrap();
    let setlist_b =
        trax::setlist::load(&super::corpus().join("songs/03_planetblupi_music000")).unwrap();
    let config = PlayerConfig {
        mastering: true,
        // A loader a little slower than a fast disk (0.5 ms per decoded
        // block of up to 4096 frames): the underrun phase below renders as
        // fast as process() goes, which with the chain in the test profile
        // is no longer always faster than an unhindered loader.
        read_delay: Duration::from_micros(500),
        ..PlayerConfig::realtime(ENGINE_HZ)
    };
    let (player, engine) = Player::new(config).unwrap();
    let prepared = player.load(&setlist_a);
    // Songs with working auto-master settings (gain, tone, glue, limiter).
    for song in 0..prepared.songs.len() {
        let master = trax::bridge::SongMaster {
            gain_db: 3.0 + song as f32,
            tone_db: [-1.5, 0.5, 1.0],
            glue_threshold_db: -18.0,
            ceiling_dbtp: -1.0,
            match_gain_db: 2.0,
        };
        player.set_song_master(prepared.epoch, song, master);
    }
    player.set_auto_master(true, false);
    let mut audio = Audio {
        engine,
        l: vec![0.0; BLOCK],
        r: vec![0.0; BLOCK],
        aux: vec![vec![0.0; BLOCK]; BUS_CHANNELS - 2],
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
            ..StemMix::default()
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
    // The auto-master toggled on the audio thread (as the plugin's
    // parameter does), with and without A/B matching, and by command.
    for (on, ab) in [(false, false), (true, false), (false, true), (true, true)] {
        audio.request(|e| e.set_auto_master(on, ab));
        audio.run(30, quarter_rt);
    }
    player.set_auto_master(false, false);
    audio.run(30, quarter_rt);
    player.set_auto_master(true, false);
    audio.run(30, quarter_rt);
    // Pause, resume, stop, start again.
    player.pause();
    audio.run(50, quarter_rt);
    player.resume();
    audio.run(50, quarter_rt);
    player.stop();
    audio.run(50, quarter_rt);
    player.play_song(5);
    audio.run(200, quarter_rt);
    // The audio thread's own requests (notes, program changes, parameters,
    // host transport in the plugin): a cue, the cued head started locally,
    // then requests that need the loader and wake it.
    let starts = stats.song_starts();
    audio.request(|e| e.cue_song(1));
    audio.run(200, quarter_rt);
    // Each start waits for the loader (at most 4000 blocks): on a loaded
    // machine a fixed wait let the next request replace a start in flight.
    let started = |n: u64| {
        let stats = stats.clone();
        move || stats.song_starts() >= n
    };
    audio.request(|e| e.play_song(1, 0));
    audio.run_until(started(starts + 1), 4000, quarter_rt);
    audio.request(|e| e.play_song(3, 0));
    audio.run_until(started(starts + 2), 4000, quarter_rt);
    audio.request(|e| e.seek(500_000));
    audio.run_until(started(starts + 3), 4000, quarter_rt);
    audio.request(|e| e.play_song_synced(2, 100_000));
    audio.run_until(started(starts + 4), 4000, quarter_rt);
    audio.request(|e| e.seek_synced(300_000));
    audio.run_until(started(starts + 5), 4000, quarter_rt);
    audio.request(|e| e.pause());
    audio.run(20, quarter_rt);
    audio.request(|e| e.resume());
    audio.run(20, quarter_rt);
    audio.request(|e| e.stop());
    audio.run(20, quarter_rt);
    assert!(
        stats.song_starts() >= starts + 3,
        "the audio thread's requests took effect"
    );
    audio.request(|e| e.play_song(5, 0));
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
    // The live rig: stems on every bus but Click (so the click is
    // generated), a one-bar count-in at 240 bpm before a song started from
    // stop, the click through the song, and a song that fades out at its
    // end and stops.
    let mut setlist_c = setlist_a.clone();
    for song in &mut setlist_c.songs {
        song.tempo = Some(SongTempo {
            bpm: 240.0,
            beats_per_bar: 4,
            count_in_bars: 1,
            click: true,
        });
        for (i, stem) in song.stems.iter_mut().enumerate() {
            let bus = Bus::from_index(i % 9).unwrap_or_default();
            stem.mix.bus = if bus == Bus::Click { Bus::Main } else { bus };
        }
    }
    setlist_c.songs[1].end = SongEnd::Fade { secs: 0.5 };
    // Sections every 2 s (two bars at 240 bpm) for the jumps and vamps.
    setlist_c.songs[0].sections = (0..6)
        .map(|i| Section {
            name: format!("S{i}"),
            start_secs: f64::from(i) * 2.0,
        })
        .collect();
    let prepared_c = player.load(&setlist_c);
    audio.run(50, quarter_rt);
    let before = stats.song_starts();
    audio.request(|e| e.play_song(0, 0));
    audio.run_until(started(before + 1), 4000, quarter_rt);
    assert!(
        stats.song_starts() > before,
        "the song started after its count-in"
    );
    audio.run(200, quarter_rt);
    // Jumps (next bar, end of section, cancelled, replaced) and vamps (of
    // a bar and of a section, passes looped, released).
    let landed = stats.jumps().landed();
    audio.request(|e| e.queue_jump(0, 4 * u64::from(ENGINE_HZ), JumpTiming::NextBar));
    audio.run_until(|| stats.jumps().landed() > landed, 1000, quarter_rt);
    assert!(stats.jumps().landed() > landed, "the jump landed");
    audio.request(|e| e.vamp(Some(VampLength::Bars(1))));
    audio.run_until(|| stats.jumps().vamp_passes() >= 2, 3000, quarter_rt);
    assert!(stats.jumps().vamp_passes() >= 2, "the vamp looped");
    audio.request(|e| e.queue_jump(0, 0, JumpTiming::SectionEnd));
    audio.run(20, quarter_rt);
    audio.request(|e| e.cancel_jump());
    audio.request(|e| e.vamp(Some(VampLength::Section)));
    audio.run(400, quarter_rt);
    audio.request(|e| e.vamp(None));
    audio.request(|e| e.jump_by_sections(1, JumpTiming::SongEnd));
    audio.request(|e| e.jump_to_section(2, JumpTiming::Now));
    audio.run(200, quarter_rt);
    let len = prepared_c.songs[1].length_frames;
    player.play_song_at(1, len.saturating_sub(u64::from(ENGINE_HZ)));
    audio.run(800, quarter_rt);

    eprintln!(
        "{} process calls in {:.1} s, {} underruns, {} song starts",
        audio.calls,
        start.elapsed().as_secs_f64(),
        stats.underrun_blocks(),
        stats.song_starts()
    );
    assert!(stats.song_starts() >= 8);
}
