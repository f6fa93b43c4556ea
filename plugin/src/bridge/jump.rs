//! ANY THREAD: jumps and vamps as they cross the boundary: when a queued
//! jump lands ([`JumpTiming`]), what a vamp loops ([`VampLength`]), and the
//! audio thread's published view of what is queued ([`JumpBoard`]: the
//! editor, OSC and tests read it).
//!
//! A jump moves playback to a frame of a song (a section's first frame, a
//! song's start) at a chosen moment; the landing is sample-exact and
//! crossfaded like a seek. A vamp loops a stretch of the current song until
//! released: pass `k` starts at exactly `start + k · length` frames.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};

/// When a queued jump lands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum JumpTiming {
    /// As soon as the target is resident (a seek).
    #[default]
    Now,
    /// On the next bar line of the song's tempo (a song without a tempo
    /// lands now).
    NextBar,
    /// At the end of the current section (the next section's first frame,
    /// or the song's end).
    SectionEnd,
    /// At the end of the current song, instead of what its end would do.
    SongEnd,
}

impl JumpTiming {
    /// Every timing, in the order the editor offers them.
    pub const ALL: [JumpTiming; 4] = [
        JumpTiming::Now,
        JumpTiming::NextBar,
        JumpTiming::SectionEnd,
        JumpTiming::SongEnd,
    ];

    /// The word OSC and the README use: `now`, `bar`, `section`, `song`.
    pub fn word(self) -> &'static str {
        match self {
            JumpTiming::Now => "now",
            JumpTiming::NextBar => "bar",
            JumpTiming::SectionEnd => "section",
            JumpTiming::SongEnd => "song",
        }
    }

    /// The label the editor shows.
    pub fn label(self) -> &'static str {
        match self {
            JumpTiming::Now => "Now",
            JumpTiming::NextBar => "Next bar",
            JumpTiming::SectionEnd => "End of section",
            JumpTiming::SongEnd => "End of song",
        }
    }

    /// Reads [`JumpTiming::word`] (case-insensitive). Allocation-free.
    pub fn parse(word: &str) -> Option<JumpTiming> {
        Self::ALL
            .into_iter()
            .find(|t| t.word().eq_ignore_ascii_case(word.trim()))
    }

    fn code(self) -> u8 {
        match self {
            JumpTiming::Now => 0,
            JumpTiming::NextBar => 1,
            JumpTiming::SectionEnd => 2,
            JumpTiming::SongEnd => 3,
        }
    }

    fn from_code(code: u8) -> JumpTiming {
        match code {
            1 => JumpTiming::NextBar,
            2 => JumpTiming::SectionEnd,
            3 => JumpTiming::SongEnd,
            _ => JumpTiming::Now,
        }
    }
}

/// What a vamp loops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VampLength {
    /// The section that plays (from its first frame to the next section's
    /// first frame, or the song's end).
    Section,
    /// The last `n` bars: from `n` bars before the next bar line to that
    /// bar line (needs the song's tempo).
    Bars(u8),
}

/// A queued jump or a running vamp, as published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Queued {
    /// The song the landing happens in (the song playing when queued).
    pub from_song: u16,
    /// The frame of `from_song` where it lands (exclusive: the last frame
    /// played before the landing is `landing_frames - 1`).
    pub landing_frames: u64,
    /// The target song.
    pub song: u16,
    /// The target frame on the target song's timeline.
    pub frame: u64,
    /// The timing it was queued with.
    pub timing: JumpTiming,
    /// A vamp (the loop's end is `landing_frames`, its start `frame`).
    pub vamp: bool,
}

/// The audio thread's published queued jump or vamp: written by the audio
/// thread only, read by any thread. A version counter (odd while writing)
/// keeps readers from seeing half of an update.
#[derive(Default)]
pub struct JumpBoard {
    version: AtomicU32,
    /// 0: nothing queued; 1: queued (fields valid).
    state: AtomicU8,
    songs: AtomicU32,
    landing_frames: AtomicU64,
    frame: AtomicU64,
    /// Timing code | 0x80 for a vamp.
    flags: AtomicU8,
    /// Jumps landed so far.
    landed: AtomicU64,
    /// Vamp passes started so far (landings of a vamp).
    vamp_passes: AtomicU64,
}

impl JumpBoard {
    /// Publishes `queued` (`None`: nothing queued). Audio thread only.
    /// Realtime-safe.
    pub fn publish(&self, queued: Option<Queued>) {
        self.version.fetch_add(1, Ordering::AcqRel);
        match queued {
            Some(q) => {
                self.songs.store(
                    u32::from(q.from_song) << 16 | u32::from(q.song),
                    Ordering::Relaxed,
                );
                self.landing_frames
                    .store(q.landing_frames, Ordering::Relaxed);
                self.frame.store(q.frame, Ordering::Relaxed);
                self.flags.store(
                    q.timing.code() | if q.vamp { 0x80 } else { 0 },
                    Ordering::Relaxed,
                );
                self.state.store(1, Ordering::Relaxed);
            }
            None => self.state.store(0, Ordering::Relaxed),
        }
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    /// The queued jump or running vamp, if any. For readers off the audio
    /// thread (the editor, the OSC remote): lock-free, but it retries while
    /// the audio thread writes (nanoseconds), so the audio thread keeps its
    /// own copy instead of calling this.
    pub fn queued(&self) -> Option<Queued> {
        loop {
            let v = self.version.load(Ordering::Acquire);
            if v % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let state = self.state.load(Ordering::Relaxed);
            let songs = self.songs.load(Ordering::Relaxed);
            let landing_frames = self.landing_frames.load(Ordering::Relaxed);
            let frame = self.frame.load(Ordering::Relaxed);
            let flags = self.flags.load(Ordering::Relaxed);
            if self.version.load(Ordering::Acquire) != v {
                continue;
            }
            return (state == 1).then_some(Queued {
                from_song: (songs >> 16) as u16,
                landing_frames,
                song: songs as u16,
                frame,
                timing: JumpTiming::from_code(flags & 0x7f),
                vamp: flags & 0x80 != 0,
            });
        }
    }

    /// Counts a landing (`vamp`: a vamp pass). Audio thread only.
    pub fn note_landing(&self, vamp: bool) {
        if vamp {
            self.vamp_passes.fetch_add(1, Ordering::Relaxed);
        } else {
            self.landed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Jumps landed so far (vamp passes not counted).
    pub fn landed(&self) -> u64 {
        self.landed.load(Ordering::Relaxed)
    }

    /// Vamp passes started so far (each loop back to the start).
    pub fn vamp_passes(&self) -> u64 {
        self.vamp_passes.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timings_read_back_their_words_and_the_board_its_jumps() {
        for t in JumpTiming::ALL {
            assert_eq!(JumpTiming::parse(t.word()), Some(t));
            assert_eq!(JumpTiming::from_code(t.code()), t);
        }
        assert_eq!(JumpTiming::parse("SECTION "), Some(JumpTiming::SectionEnd));
        assert_eq!(JumpTiming::parse("later"), None);
        let board = JumpBoard::default();
        assert_eq!(board.queued(), None);
        let q = Queued {
            from_song: 3,
            landing_frames: 1 << 40,
            song: 65_535,
            frame: 96_000,
            timing: JumpTiming::SongEnd,
            vamp: true,
        };
        board.publish(Some(q));
        assert_eq!(board.queued(), Some(q));
        board.publish(None);
        assert_eq!(board.queued(), None);
    }
}
