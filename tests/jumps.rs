//! Jumps and vamps through the real player and engine, offline at 8 kHz
//! (a 4-bar section at 120 bpm is 64 000 frames, so 100 passes render in
//! seconds): a song of 10 bars with sections A (bar 1), B (bar 3) and C
//! (bar 7). Main carries a ramp whose every sample tells its song frame
//! (mod 16384, exact through any 16-bit cache), the Guide bus a 230.7-Hz
//! sine (its phase differs at B's start and end, so a cut seam would step).
//! Every `process_buses` call and every jump or vamp request runs under
//! nice-plug's allocation checker.

use crate::common;

use std::path::{Path, PathBuf};

use trax::bridge::{JumpTiming, VampLength, BUS_CHANNELS};
use trax::{Outputs, Player};

mod realtime;

const RATE: u32 = 8_000;
const BAR: usize = 16_000;
const SONG: usize = 10 * BAR;
const B_START: usize = 2 * BAR;
const C_START: usize = 6 * BAR;
/// The engine's crossfade at 8 kHz (10 ms).
const XFADE: usize = 80;
const SINE_PEAK: f32 = 0.5;
const SINE_HZ: f64 = 230.7;

/// Main's sample at song frame `p`: `(p mod 16384 + 1) / 32768`.
fn ramp(p: usize) -> f32 {
    ((p % 16_384) as f32 + 1.0) / 32_768.0
}

fn sine(p: usize) -> f32 {
    (f64::from(SINE_PEAK)
        * (2.0 * std::f64::consts::PI * SINE_HZ * p as f64 / f64::from(RATE)).sin()) as f32
}

fn wav(path: &Path, f: impl Fn(usize) -> f32) {
    common::live_setlist::write_wav_at(path, RATE, SONG, f);
}

fn setlist(dir: &Path) -> PathBuf {
    wav(&dir.join("ramp.wav"), ramp);
    wav(&dir.join("sine.wav"), sine);
    let path = dir.join("set.toml");
    std::fs::write(
        &path,
        "[[song]]\nname = \"Vamp\"\nbpm = 120.0\n\
         [[song.section]]\nname = \"A\"\nbar = 1\n\
         [[song.section]]\nname = \"B\"\nbar = 3\n\
         [[song.section]]\nname = \"C\"\nstart_secs = 12.0\n\
         [[song.stem]]\npath = \"ramp.wav\"\n\
         [[song.stem]]\npath = \"sine.wav\"\noutput = \"guide\"\n",
    )
    .expect("setlist");
    path
}

/// An offline player of the song, started at frame 0 on the audio thread;
/// renders main and Guide in `block`-frame pieces.
struct Rig {
    player: Player,
    engine: trax::Engine,
    main: Vec<f32>,
    guide: Vec<f32>,
    _dir: tempfile::TempDir,
}

impl Rig {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let (player, mut engine, _) = common::offline_player(&setlist(dir.path()), RATE);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while engine.song_count() == 0 {
            assert!(std::time::Instant::now() < deadline, "no setlist");
            player.nudge();
            player.wait_for_progress(std::time::Duration::from_millis(2));
            engine.take_commands();
        }
        engine.play_song(0, 0);
        Self {
            player,
            engine,
            main: Vec::new(),
            guide: Vec::new(),
            _dir: dir,
        }
    }

    /// Runs `request` on the audio thread's side (the engine) under the
    /// allocation checker, as a note or an editor command would.
    fn audio(&mut self, request: impl FnOnce(&mut trax::Engine)) {
        let engine = &mut self.engine;
        nice_assert_no_alloc::assert_no_alloc(|| request(engine));
    }

    /// Renders `frames` more frames (fewer if the song stops first), every
    /// `process_buses` call under the allocation checker, waiting for the
    /// loader between calls where the engine asks (as `offline::Driver`
    /// does); `each` runs on the audio thread's side between blocks of 256.
    fn render(&mut self, frames: usize, mut each: impl FnMut(&mut trax::Engine, usize)) {
        let mut channels = vec![vec![0.0f32; 256]; BUS_CHANNELS];
        let g = trax::bridge::Bus::Guide.index() * 2;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        let mut left = frames;
        while left > 0 {
            let at = self.main.len();
            let engine = &mut self.engine;
            nice_assert_no_alloc::assert_no_alloc(|| each(engine, at));
            let n = left.min(256);
            let mut done = 0;
            while done < n {
                let mut refs: [&mut [f32]; BUS_CHANNELS] = Default::default();
                for (r, c) in refs.iter_mut().zip(channels.iter_mut()) {
                    *r = &mut c[done..n];
                }
                let mut out = Outputs::new(refs);
                let engine = &mut self.engine;
                let got = nice_assert_no_alloc::assert_no_alloc(|| engine.process_buses(&mut out));
                self.main.extend_from_slice(&channels[0][done..done + got]);
                self.guide.extend_from_slice(&channels[g][done..done + got]);
                done += got;
                if done < n {
                    if !self.engine.is_waiting() {
                        // Nothing to wait for: the song has ended.
                        return;
                    }
                    assert!(std::time::Instant::now() < deadline, "the render stalled");
                    self.player.nudge();
                    self.player
                        .wait_for_progress(std::time::Duration::from_millis(2));
                }
            }
            left -= n;
        }
    }
}

/// Checks that output frames `from..to` play song frames from `song_from`
/// on, exactly (main's ramp).
fn assert_plays(main: &[f32], from: usize, to: usize, song_from: usize, what: &str) {
    assert!(
        to <= main.len(),
        "{what}: only {} frames rendered, not {to}",
        main.len()
    );
    for (i, &v) in main[from..to].iter().enumerate() {
        let want = ramp(song_from + i);
        assert!(
            v == want,
            "{what}: output frame {} is {v} (song frame {} mod 16384), not song frame {}",
            from + i,
            (v * 32_768.0).round() - 1.0,
            song_from + i
        );
    }
}

#[test]
fn a_section_vamped_100_times_stays_on_its_grid_and_exits_at_the_pass_end() {
    let mut rig = Rig::new();
    let len = C_START - B_START;
    // Into B (bar 3), then vamp it.
    rig.render(B_START + 3 * BAR / 2, |_, _| {});
    assert!(rig.main.len() == B_START + 3 * BAR / 2, "played into B");
    let stats = rig.player.engine_stats().clone();
    rig.audio(|e| e.vamp(Some(VampLength::Section)));
    let q = stats.jumps().queued().expect("the vamp is published");
    assert!(q.vamp && q.frame == B_START as u64 && q.landing_frames == C_START as u64);
    // 100 passes after the first, then a release in bar 2 of the 101st.
    let pass_start = |k: usize| B_START + k * len;
    let release_at = pass_start(100) + BAR + BAR / 3;
    let mut released = false;
    rig.render(release_at - rig.main.len() + 2 * len, |engine, at| {
        if !released && at >= release_at {
            released = true;
            engine.vamp(None);
        }
    });
    assert_eq!(stats.jumps().vamp_passes(), 100, "100 passes looped back");
    assert_eq!(stats.jumps().queued(), None, "released");
    // Every pass starts at exactly start + k * len; after the 101st, C.
    assert_plays(&rig.main, 0, pass_start(1), 0, "the song up to B's end");
    for k in 1..=100 {
        assert_plays(
            &rig.main,
            pass_start(k) + XFADE,
            pass_start(k + 1),
            B_START + XFADE,
            &format!("pass {k}"),
        );
    }
    let c_at = pass_start(101);
    assert_plays(
        &rig.main,
        c_at,
        rig.main.len(),
        C_START,
        "C after the release",
    );
    assert_eq!(
        rig.main.len(),
        c_at + (SONG - C_START),
        "then to the song's end"
    );
    // The seams are crossfaded: no step on the sine larger than its own
    // largest step (x sqrt 2, the equal-power sum) plus the crossfade's
    // slope over the peaks of both sides.
    let own = (1..SONG)
        .map(|p| (sine(p) - sine(p - 1)).abs())
        .fold(0.0, f32::max);
    let bound = own * std::f32::consts::SQRT_2 + std::f32::consts::PI * SINE_PEAK / XFADE as f32;
    let worst = rig
        .guide
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max);
    assert!(worst <= bound, "a seam steps by {worst} (bound {bound})");
    // A cut seam would have stepped past it: the test can fail.
    let cut = (sine(B_START) - sine(C_START - 1)).abs();
    assert!(cut > bound, "the sine's phase jumps at the seam ({cut})");
}

#[test]
fn jumps_land_on_section_ends_and_bar_lines_exactly() {
    // End of section: queued in A, lands at B's start on C's first frame.
    let mut rig = Rig::new();
    rig.render(BAR / 2, |_, _| {});
    rig.audio(|e| e.queue_jump(0, C_START as u64, JumpTiming::SectionEnd));
    let q = rig.player.engine_stats().jumps().queued().expect("queued");
    assert_eq!(
        (q.landing_frames, q.frame),
        (B_START as u64, C_START as u64)
    );
    rig.render(SONG, |_, _| {});
    assert_plays(&rig.main, 0, B_START, 0, "A until the landing");
    assert_plays(
        &rig.main,
        B_START + XFADE,
        rig.main.len(),
        C_START + XFADE,
        "C",
    );
    assert_eq!(rig.main.len(), B_START + SONG - C_START);
    assert_eq!(rig.player.engine_stats().jumps().landed(), 1);

    // Next bar: queued in bar 3 lands on bar 4's line, back at A.
    let mut rig = Rig::new();
    rig.render(2 * BAR + 5_000, |_, _| {});
    rig.audio(|e| e.queue_jump(0, 0, JumpTiming::NextBar));
    rig.render(BAR + XFADE * 2, |_, _| {});
    assert_plays(&rig.main, 0, 3 * BAR, 0, "up to bar 4");
    assert_plays(&rig.main, 3 * BAR + XFADE, rig.main.len(), XFADE, "A again");
}

#[test]
fn a_cancelled_jump_leaves_playback_bit_identical() {
    let mut plain = Rig::new();
    plain.render(SONG, |_, _| {});
    let mut rig = Rig::new();
    rig.render(BAR, |_, _| {});
    rig.audio(|e| e.queue_jump(0, C_START as u64, JumpTiming::SectionEnd));
    rig.render(BAR / 2, |_, _| {});
    rig.audio(|e| e.cancel_jump());
    assert_eq!(rig.player.engine_stats().jumps().queued(), None);
    rig.render(SONG, |_, _| {});
    assert_eq!(rig.main.len(), SONG);
    assert!(
        rig.main == plain.main,
        "main differs from a render without the jump"
    );
    assert!(rig.guide == plain.guide, "guide differs");
    // A second request replaces the first.
    let mut rig = Rig::new();
    rig.render(BAR, |_, _| {});
    rig.audio(|e| e.queue_jump(0, C_START as u64, JumpTiming::SectionEnd));
    rig.audio(|e| e.queue_jump(0, 0, JumpTiming::NextBar));
    rig.render(BAR + XFADE * 2, |_, _| {});
    assert_plays(
        &rig.main,
        2 * BAR + XFADE,
        rig.main.len(),
        XFADE,
        "the second jump",
    );
}
