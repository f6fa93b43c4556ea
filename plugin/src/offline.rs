//! ANY THREAD (the caller's: a CLI, analysis or warming thread, or a host's
//! audio thread while the host renders offline): the one offline render
//! driver. An offline render must never skip audio the loader has not
//! delivered yet: [`Driver::render`] runs the engine, and whenever it
//! returns fewer frames than asked because it waits for data (a start, a
//! seek, a late chunk), nudges the loader and waits for its progress,
//! until the block is full, the engine has nothing left to play (idle),
//! the caller cancels, or the loader has made no progress for the stall
//! limit. Used by `trax render`, the cache warm, the analysis and the
//! plugin's offline path (docs/ARCHITECTURE.md: One driver per concept).
#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    clippy::disallowed_macros
)] // Offline only: waiting is its job.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::engine::Outputs;
use crate::{Engine, Player};

/// How long the loader may make no progress before an offline render
/// gives up: far beyond any real disk or decoder stall (a chunk takes
/// under a millisecond to decode), so reaching it means a bug or a dead
/// disk, reported rather than waited on for ever.
pub const STALL_LIMIT: Duration = Duration::from_secs(30);

/// Progress of an offline render (a warm, an analysis), readable from
/// another thread, and its cancel flag.
#[derive(Debug, Default)]
pub struct Progress {
    /// Frames rendered so far (engine rate); the [`Driver`] adds to it.
    pub done_frames: AtomicU64,
    /// Frames the render will make in all (0 until known).
    pub total_frames: AtomicU64,
    /// The song being rendered (0-based).
    pub song: AtomicU64,
    /// Set by anyone to stop the render at its next wait or block.
    pub cancel: AtomicBool,
}

impl Progress {
    /// Done, 0.0…1.0 (0 before the total is known).
    pub fn fraction(&self) -> f32 {
        let total = self.total_frames.load(Ordering::Relaxed);
        if total == 0 {
            return 0.0;
        }
        (self.done_frames.load(Ordering::Relaxed) as f64 / total as f64).min(1.0) as f32
    }
}

/// How a render waits for the loader.
#[derive(Clone, Copy)]
pub enum Wait<'a> {
    /// Through the player: a nudge, then its progress signal (a condition
    /// variable the loader notifies), 2 ms at most per wait.
    Player(&'a Player),
    /// Sleeps of 250 µs: for the plugin's audio thread, which has the
    /// engine but not the player (and must not take its lock).
    Sleep,
}

/// Why a render ended before its block was full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// No frame for the stall limit.
    Stalled {
        /// Frames rendered into the block before the stall.
        frames: usize,
    },
    /// The cancel flag was set.
    Cancelled {
        /// Frames rendered into the block before the cancel.
        frames: usize,
    },
}

/// What a render made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rendered {
    /// Frames rendered (the block's length unless `idle`).
    pub frames: usize,
    /// The engine had nothing left to play (stopped, or the song ended
    /// without auto-advance): the rest of the block is not rendered.
    pub idle: bool,
    /// Time spent waiting for the loader.
    pub waited: Duration,
}

/// The offline render driver.
pub struct Driver<'a> {
    wait: Wait<'a>,
    stall_limit: Duration,
    progress: Option<&'a Progress>,
    /// Whether the engine has taken the last start asked for (it waited
    /// or played since): before that, an idle engine is one whose request
    /// is still on its way through the loader, not one with nothing to
    /// play.
    started: bool,
}

impl<'a> Driver<'a> {
    /// A driver that waits through `wait`, with the [`STALL_LIMIT`]. With
    /// [`Wait::Player`] it expects a start (see [`Driver::expect_start`]);
    /// with [`Wait::Sleep`] (the plugin, whose requests reach the engine
    /// directly) an idle engine is idle.
    pub fn new(wait: Wait<'a>) -> Self {
        Self {
            wait,
            stall_limit: STALL_LIMIT,
            progress: None,
            started: matches!(wait, Wait::Sleep),
        }
    }

    /// The caller has asked the player for a start (`play_song`): until the
    /// engine has taken it, an idle engine is waiting for it, not done.
    pub fn expect_start(&mut self) {
        self.started = false;
    }

    /// The same with another stall limit (the plugin's: a host must not be
    /// blocked longer than it tolerates).
    pub fn with_stall_limit(mut self, limit: Duration) -> Self {
        self.stall_limit = limit;
        self
    }

    /// The same, counting the frames it renders in `progress` and ending
    /// with [`Stop::Cancelled`] once its cancel flag is set.
    pub fn with_progress(mut self, progress: &'a Progress) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Renders `left.len().min(right.len())` frames of `engine`'s main bus,
    /// waiting for the loader as the module says. Not realtime-safe (it
    /// waits); it does not allocate.
    ///
    /// # Errors
    /// [`Stop`]: stalled or cancelled, with the frames rendered so far.
    pub fn render(
        &mut self,
        engine: &mut Engine,
        left: &mut [f32],
        right: &mut [f32],
    ) -> Result<Rendered, Stop> {
        self.render_buses(engine, &mut Outputs::main(left, right))
    }

    /// [`Driver::render`] for every bus `out` connects.
    ///
    /// # Errors
    /// [`Stop`]: stalled or cancelled, with the frames rendered so far.
    pub fn render_buses(
        &mut self,
        engine: &mut Engine,
        out: &mut Outputs,
    ) -> Result<Rendered, Stop> {
        if self.cancelled() {
            return Err(Stop::Cancelled { frames: 0 });
        }
        let result = self.render_waiting(engine, out);
        if let Some(p) = self.progress {
            let frames = match result {
                Ok(r) => r.frames,
                Err(Stop::Stalled { frames } | Stop::Cancelled { frames }) => frames,
            };
            p.done_frames.fetch_add(frames as u64, Ordering::Relaxed);
        }
        result
    }

    fn cancelled(&self) -> bool {
        self.progress
            .is_some_and(|p| p.cancel.load(Ordering::Relaxed))
    }

    fn render_waiting(&mut self, engine: &mut Engine, out: &mut Outputs) -> Result<Rendered, Stop> {
        let n = out.frames();
        let mut done = engine.process_buses(out);
        self.started |= done > 0 || engine.is_waiting();
        if done == n {
            return Ok(Rendered {
                frames: n,
                idle: false,
                waited: Duration::ZERO,
            });
        }
        let start = Instant::now();
        let mut last_progress = start;
        while done < n {
            if self.started && !engine.is_waiting() {
                return Ok(Rendered {
                    frames: done,
                    idle: true,
                    waited: start.elapsed(),
                });
            }
            if self.cancelled() {
                return Err(Stop::Cancelled { frames: done });
            }
            if last_progress.elapsed() > self.stall_limit {
                return Err(Stop::Stalled { frames: done });
            }
            let got = engine.process_buses(&mut out.range(done, n));
            self.started |= got > 0 || engine.is_waiting();
            if got > 0 {
                last_progress = Instant::now();
                done += got;
                continue;
            }
            match self.wait {
                Wait::Player(player) => {
                    player.nudge();
                    player.wait_for_progress(Duration::from_millis(2));
                }
                Wait::Sleep => std::thread::sleep(Duration::from_micros(250)),
            }
        }
        Ok(Rendered {
            frames: n,
            idle: false,
            waited: start.elapsed(),
        })
    }
}
