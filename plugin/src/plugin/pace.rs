//! AUDIO THREAD: tells a host that renders faster than real time without
//! saying so (Ardour's export runs `process()` in freewheel about 25x real
//! time and keeps the realtime process mode) from a realtime host, from
//! the pace of its `process()` calls. Realtime-safe: one clock read per
//! call (`Instant::now`, the vDSO's `clock_gettime`), no allocation.
//!
//! The measure is the host's *lead*: how far its calls run ahead of real
//! time, in seconds. Each call adds its block's duration and takes away
//! the wall time since the previous call (minus the time the plugin itself
//! spent waiting for its loader, which is not the host's pace); the lead
//! never goes below 0, so a stall followed by a catch-up burst does not
//! build one. A realtime host's lead stays within its device buffer (a
//! few ms to ~100 ms; REAPER's anticipative processing renders ahead by
//! 200 ms by default); a freewheeling bounce's lead grows by nearly a
//! second per second of audio. The host is taken as rendering offline
//! when the lead passes [`ENTER_LEAD_SECS`] (at 2x real time: 1 s of audio
//! in 0.5 s of wall time; at 25x: 0.52 s of audio in 21 ms, before the
//! 0.68 s a cued song holds resident at 48 kHz runs out) and as realtime
//! again as soon as [`EXIT_WINDOW_SECS`] of audio took at least
//! [`EXIT_PACE`] of their duration in wall time.

use std::time::{Duration, Instant};

/// Lead over real time past which the host is rendering offline, seconds:
/// over twice the largest device buffer (8192 frames at 44.1 kHz, 186 ms)
/// and REAPER's default anticipative render-ahead (200 ms).
pub const ENTER_LEAD_SECS: f64 = 0.5;

/// Largest lead kept, seconds: a bounce that turns realtime is recognised
/// within [`EXIT_WINDOW_SECS`] however long it ran.
pub const MAX_LEAD_SECS: f64 = 4.0;

/// Audio measured for the return to realtime, seconds.
pub const EXIT_WINDOW_SECS: f64 = 0.1;

/// Share of the audio's duration that its wall time must reach over
/// [`EXIT_WINDOW_SECS`] to be real time again.
pub const EXIT_PACE: f64 = 0.75;

/// The pace detector: feed it every `process()` call with
/// [`Pace::block`], and the time spent waiting for the loader with
/// [`Pace::waited`].
#[derive(Debug)]
pub struct Pace {
    rate_hz: f64,
    last_call: Option<Instant>,
    /// Time the plugin waited for its loader since the last call.
    waited: Duration,
    lead_secs: f64,
    offline: bool,
    /// Audio and the host's wall time since the exit window began, s.
    window_audio_secs: f64,
    window_wall_secs: f64,
}

impl Pace {
    /// A detector for blocks at `rate_hz` frames per second; realtime.
    pub fn new(rate_hz: u32) -> Self {
        Self {
            rate_hz: f64::from(rate_hz.max(1)),
            last_call: None,
            waited: Duration::ZERO,
            lead_secs: 0.0,
            offline: false,
            window_audio_secs: 0.0,
            window_wall_secs: 0.0,
        }
    }

    /// A `process()` call of `frames` frames starts at `now`; returns
    /// whether the host renders offline (faster than real time, sustained).
    pub fn block(&mut self, frames: usize, now: Instant) -> bool {
        let audio_secs = frames as f64 / self.rate_hz;
        let wall_secs = match self.last_call.replace(now) {
            // The first call: nothing to compare with yet.
            None => audio_secs,
            Some(last) => now
                .saturating_duration_since(last)
                .saturating_sub(std::mem::take(&mut self.waited))
                .as_secs_f64(),
        };
        self.lead_secs = (self.lead_secs + audio_secs - wall_secs).clamp(0.0, MAX_LEAD_SECS);
        if !self.offline {
            self.offline = self.lead_secs > ENTER_LEAD_SECS;
            self.window_audio_secs = 0.0;
            self.window_wall_secs = 0.0;
            return self.offline;
        }
        // The previous call's audio took `wall_secs` of the host's time.
        self.window_audio_secs += audio_secs;
        self.window_wall_secs += wall_secs;
        if self.window_audio_secs >= EXIT_WINDOW_SECS {
            if self.window_wall_secs >= EXIT_PACE * self.window_audio_secs {
                self.offline = false;
                self.lead_secs = 0.0;
            }
            self.window_audio_secs = 0.0;
            self.window_wall_secs = 0.0;
        }
        self.offline
    }

    /// The plugin waited `d` for its loader during the current call (not
    /// the host's time).
    pub fn waited(&mut self, d: Duration) {
        self.waited += d;
    }

    /// The host's current lead over real time, seconds.
    pub fn lead_secs(&self) -> f64 {
        self.lead_secs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `blocks` calls of `frames` frames, each `gap` after the
    /// previous, from `*t`; returns the last answer.
    fn feed(p: &mut Pace, t: &mut Instant, blocks: usize, frames: usize, gap: Duration) -> bool {
        let mut last = false;
        for _ in 0..blocks {
            *t += gap;
            last = p.block(frames, *t);
        }
        last
    }

    const RATE: u32 = 48_000;

    fn block_time(frames: usize) -> Duration {
        Duration::from_secs_f64(frames as f64 / f64::from(RATE))
    }

    #[test]
    fn realtime_pace_with_jitter_and_bursts_stays_realtime() {
        let mut p = Pace::new(RATE);
        let mut t = Instant::now();
        let b = block_time(512);
        for round in 0..2000 {
            // A burst of 8 blocks back to back, then the host waits for
            // the device: on average real time.
            assert!(!feed(&mut p, &mut t, 8, 512, Duration::ZERO));
            t += b * 8;
            // Jitter: ±30 % per block.
            let j = if round % 2 == 0 {
                b * 13 / 10
            } else {
                b * 7 / 10
            };
            assert!(!feed(&mut p, &mut t, 4, 512, j), "round {round}");
        }
        assert!(p.lead_secs() < 0.2, "lead {}", p.lead_secs());
    }

    #[test]
    fn anticipative_render_ahead_does_not_count() {
        // REAPER-style: 200 ms rendered at once, then real time.
        let mut p = Pace::new(RATE);
        let mut t = Instant::now();
        assert!(!feed(&mut p, &mut t, 19, 512, Duration::ZERO));
        assert!(!feed(&mut p, &mut t, 10_000, 512, block_time(512)));
    }

    #[test]
    fn stall_builds_no_lead() {
        // A host that stalls 3 s and goes on at real time (a realtime host
        // drops the blocks it missed) is never ahead.
        let mut p = Pace::new(RATE);
        let mut t = Instant::now();
        assert!(!feed(&mut p, &mut t, 100, 512, block_time(512)));
        t += Duration::from_secs(3);
        assert!(!feed(&mut p, &mut t, 1000, 512, block_time(512)));
        assert!(p.lead_secs() < 0.02, "lead {}", p.lead_secs());
    }

    #[test]
    fn freewheel_is_offline_within_a_second_of_audio_and_leaves_at_real_time() {
        let mut p = Pace::new(RATE);
        let mut t = Instant::now();
        let b = block_time(1024);
        // 25x real time.
        let mut blocks = 0;
        while !feed(&mut p, &mut t, 1, 1024, b / 25) {
            blocks += 1;
            assert!(blocks < 100, "not offline after {blocks} blocks at 25x");
        }
        let audio = blocks as f64 * 1024.0 / f64::from(RATE);
        assert!(
            (0.5..0.6).contains(&audio),
            "offline after {audio} s of audio"
        );
        // Waiting for the loader (slower than real time overall) does not
        // make it realtime: the host still calls at once.
        for _ in 0..500 {
            t += b * 3;
            p.waited(b * 3);
            assert!(p.block(1024, t));
        }
        // The host is realtime again: within 0.1 s of audio (+ one block).
        assert!(!feed(&mut p, &mut t, 6, 1024, b));
    }

    #[test]
    fn twice_real_time_is_offline_after_about_a_second() {
        let mut p = Pace::new(RATE);
        let mut t = Instant::now();
        let b = block_time(512);
        let mut blocks = 0;
        while !feed(&mut p, &mut t, 1, 512, b / 2) {
            blocks += 1;
        }
        let audio = blocks as f64 * 512.0 / f64::from(RATE);
        assert!((0.95..1.1).contains(&audio), "offline after {audio} s");
    }
}
