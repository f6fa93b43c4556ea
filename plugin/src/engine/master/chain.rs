//! AUDIO THREAD: the auto-master chain (docs/ARCHITECTURE.md: Auto-master).
//!
//! Every frame runs both paths: the original, delayed by the limiter's
//! lookahead (and gained to the mastered loudness when A/B matching is
//! on), and the mastered one: static gain to the song's target →
//! [`Tone`] (tonal correction) → [`Glue`] (glue compression) →
//! [`Limiter`] (true-peak limiter). The output crossfades linearly
//! between them over [`TOGGLE_FADE_SECS`] when the auto-master is
//! switched, starting at the next frame, so a toggle costs no gap and no
//! click, and the latency is the same either way. A song's settings
//! ([`SongMaster`]) glide in over [`GAIN_GLIDE_SECS`] (gain) and a few
//! updates (tone). Every state change happens on the frame clock, so the
//! output does not depend on how the frames are split into blocks.
//!
//! Buffers are allocated at construction for the rate; everything else is
//! realtime-safe.

use super::glue::Glue;
use super::limiter::{latency_frames, Limiter};
use super::tone::Tone;
use crate::bridge::SongMaster;

/// Frames between tone updates: 64 frames ≈ 1.3 ms at 48 kHz.
pub const UPDATE_FRAMES: u64 = 64;

/// Length of the original/mastered crossfade: 15 ms.
pub const TOGGLE_FADE_SECS: f64 = 0.015;

/// Length of a gain glide when the song (or its settings) change: 10 ms,
/// the engine's crossfade between songs.
pub const GAIN_GLIDE_SECS: f64 = 0.010;

/// Largest input magnitude the chain takes: 1000 (+60 dBFS), beyond any
/// real mix (64 stems at +24 dB each peak near +60 dBFS). Larger values
/// (a float stem with huge samples, a sum that overflowed to infinity)
/// are clamped to it and NaN is taken as silence, so the filters' and
/// detectors' state never becomes infinite or NaN (which would silence
/// the mastered path, or switch the compressor off, for good).
pub const MAX_INPUT: f32 = 1000.0;

/// `x` as the chain takes it: NaN as 0, everything within ±[`MAX_INPUT`].
#[inline]
fn sanitize(x: f32) -> f32 {
    if x.is_nan() {
        0.0
    } else {
        x.clamp(-MAX_INPUT, MAX_INPUT)
    }
}

/// A linear glide of a linear gain, one step per frame.
#[derive(Clone, Copy, Debug)]
struct Glide {
    value: f32,
    target: f32,
    step: f32,
    left: u32,
}

impl Glide {
    fn at(value: f32) -> Self {
        Self {
            value,
            target: value,
            step: 0.0,
            left: 0,
        }
    }

    fn to(&mut self, target: f32, frames: u32) {
        if target == self.target {
            return;
        }
        self.target = target;
        self.left = frames.max(1);
        self.step = (target - self.value) / self.left as f32;
    }

    #[inline]
    fn next(&mut self) -> f32 {
        if self.left > 0 {
            self.left -= 1;
            self.value = if self.left == 0 {
                self.target
            } else {
                self.value + self.step
            };
        }
        self.value
    }
}

fn db_to_gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

/// The auto-master chain of one engine.
pub struct Chain {
    song: SongMaster,
    gain: Glide,
    original_gain: Glide,
    tone: Tone,
    glue: Glue,
    limiter: Limiter,
    /// The original path's delay line (as long as the limiter's).
    dry: Box<[[f32; 2]]>,
    dry_pos: usize,
    /// Share of the mastered path in the output (0 original … 1
    /// mastered), gliding to `on`.
    wet: Glide,
    on: bool,
    ab_match: bool,
    clock_frames: u64,
    glide_frames: u32,
    fade_frames: u32,
}

impl Chain {
    /// A chain at `rate_hz`, off, with neutral settings. Not realtime-safe
    /// (allocates the delay lines).
    pub fn new(rate_hz: u32) -> Self {
        let frames = |secs: f64| ((secs * f64::from(rate_hz)).round() as u32).max(1);
        Self {
            song: SongMaster::NEUTRAL,
            gain: Glide::at(1.0),
            original_gain: Glide::at(1.0),
            tone: Tone::new(rate_hz),
            glue: Glue::new(rate_hz),
            limiter: Limiter::new(rate_hz, f32::INFINITY),
            dry: std::iter::repeat_n([0.0; 2], latency_frames(rate_hz)).collect(),
            dry_pos: 0,
            wet: Glide::at(0.0),
            on: false,
            ab_match: false,
            clock_frames: 0,
            glide_frames: frames(GAIN_GLIDE_SECS),
            fade_frames: frames(TOGGLE_FADE_SECS),
        }
    }

    /// The chain's delay, frames (the same whether it is on or off): what
    /// the plugin reports to the host as its latency.
    pub fn latency_frames(&self) -> usize {
        self.dry.len()
    }

    /// Frames in the original/mastered crossfade.
    pub fn fade_frames(&self) -> u32 {
        self.fade_frames
    }

    /// Whether the output is (moving to) the mastered path.
    pub fn is_on(&self) -> bool {
        self.on
    }

    /// Switches between the original and the mastered sound; the
    /// crossfade starts at the next frame. Realtime-safe.
    pub fn set_on(&mut self, on: bool) {
        if on != self.on {
            self.on = on;
            self.wet.to(if on { 1.0 } else { 0.0 }, self.fade_frames);
        }
    }

    /// Whether the original is heard at the mastered loudness.
    /// Realtime-safe.
    pub fn set_ab_match(&mut self, on: bool) {
        self.ab_match = on;
        self.retarget_original();
    }

    /// The settings in use.
    pub fn song(&self) -> SongMaster {
        self.song
    }

    /// Takes a song's settings; gains glide over [`GAIN_GLIDE_SECS`].
    /// Realtime-safe.
    pub fn set_song(&mut self, song: SongMaster) {
        if song == self.song {
            return;
        }
        self.song = song;
        self.gain.to(db_to_gain(song.gain_db), self.glide_frames);
        self.tone.set_target_db(song.tone_db);
        self.glue.set_threshold_db(song.glue_threshold_db);
        self.limiter.set_ceiling(song.ceiling_dbtp);
        self.retarget_original();
    }

    fn retarget_original(&mut self) {
        let db = if self.ab_match {
            self.song.match_gain_db
        } else {
            0.0
        };
        self.original_gain.to(db_to_gain(db), self.glide_frames);
    }

    /// Lowest gain the glue compressor and the limiter applied since the
    /// last call (their product; 1.0: no reduction), and resets it.
    /// Realtime-safe.
    pub fn take_min_gain(&mut self) -> f32 {
        self.glue.take_min_gain() * self.limiter.take_min_gain()
    }

    /// Forgets the signal: the delay lines, the tone filters' state, the
    /// compressor's and limiter's detectors (the settings and their glides
    /// stay). Realtime-safe.
    pub fn reset(&mut self) {
        self.limiter.reset();
        self.glue.reset();
        self.tone.reset();
        self.dry.fill([0.0; 2]);
    }

    /// Runs the chain over a block in place (frames = the shorter of the
    /// two). Input beyond ±[`MAX_INPUT`] is clamped and NaN taken as
    /// silence. Realtime-safe.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            if self.clock_frames.is_multiple_of(UPDATE_FRAMES) {
                self.tone.update();
            }
            self.clock_frames += 1;
            let (x, y) = (sanitize(*l), sanitize(*r));

            let [dl, dr] = std::mem::replace(&mut self.dry[self.dry_pos], [x, y]);
            self.dry_pos = if self.dry_pos + 1 == self.dry.len() {
                0
            } else {
                self.dry_pos + 1
            };
            let og = self.original_gain.next();

            let g = self.gain.next();
            let (a, b) = self.tone.process(x * g, y * g);
            let c = self.glue.gain(a, b);
            let (a, b) = self.limiter.process(a * c, b * c);

            let wet = self.wet.next();
            if wet == 0.0 {
                *l = dl * og;
                *r = dr * og;
            } else if wet == 1.0 {
                *l = a;
                *r = b;
            } else {
                *l = dl * og * (1.0 - wet) + a * wet;
                *r = dr * og * (1.0 - wet) + b * wet;
            }
        }
    }
}
