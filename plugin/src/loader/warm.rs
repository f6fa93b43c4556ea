//! LOADER THREADS (the caller's warming thread; never the audio thread):
//! fills the chunk cache for a setlist before a gig by rendering what the
//! cache's policy covers of every song offline through a player of its own
//! that writes to the cache. `trax warm` and the editor's "Warm setlist" both
//! run this.
#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    clippy::disallowed_macros
)] // Not the audio thread.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::bridge::TransportState;
use crate::cache::CachePolicy;
use crate::loader::prepare::{PreparedSetlist, StemProblem};
use crate::loader::CacheLink;
use crate::offline::{Driver, Stop, Wait};
use crate::setlist::Setlist;
use crate::{Player, PlayerConfig, PlayerError};

/// Progress of a warm (over every song), readable from another thread
/// (the offline driver's).
pub type WarmProgress = crate::offline::Progress;

/// What a warm did.
#[derive(Debug)]
pub struct WarmReport {
    /// The setlist as probed (songs, stems, cache entries).
    pub prepared: Arc<PreparedSetlist>,
    /// Stem problems found while probing (file and cause).
    pub problems: Vec<StemProblem>,
    /// How long it took.
    pub elapsed: Duration,
    /// Whether it was cancelled before the end.
    pub cancelled: bool,
}

/// Why a warm failed.
#[derive(Debug, thiserror::Error)]
pub enum WarmError {
    /// The warming player could not start.
    #[error("cannot start the warming player: {0}")]
    Player(#[from] PlayerError),
    /// No progress for [`crate::offline::STALL_LIMIT`].
    #[error(
        "warming stalled in song {song} at frame {frame} (transport {transport:?}, active song {active:?})"
    )]
    Stalled {
        /// The song (1-based).
        song: usize,
        /// Frames rendered of it.
        frame: u64,
        /// The warming engine's transport.
        transport: TransportState,
        /// Its active song (0-based).
        active: Option<usize>,
    },
}

/// Frames of a song of `length_frames` that `policy` caches at
/// `engine_rate_hz`.
pub fn warm_frames(policy: CachePolicy, length_frames: u64, engine_rate_hz: u32) -> u64 {
    match policy {
        CachePolicy::WholeSong => length_frames,
        CachePolicy::FirstSecs(s) | CachePolicy::Auto(s) => {
            length_frames.min((s.max(0.0) * f64::from(engine_rate_hz)).ceil() as u64)
        }
    }
}

/// Warms `link`'s cache with `setlist` at `engine_rate_hz` under the link's
/// policy, reporting into `progress` (which can cancel it). Blocks until
/// done; writes are flushed before it returns.
///
/// # Errors
/// [`WarmError`]: the player cannot start, or the warm stalls.
pub fn warm_setlist(
    setlist: &Setlist,
    link: &Arc<CacheLink>,
    engine_rate_hz: u32,
    progress: &WarmProgress,
) -> Result<WarmReport, WarmError> {
    let start = Instant::now();
    let policy = link.policy();
    let (player, mut engine) = Player::new(PlayerConfig::offline(engine_rate_hz))?;
    player.set_cache(Some(Arc::clone(link)));
    let prepared = player.load(setlist);
    let problems = player.problems();
    player.set_auto_advance(false);
    let total: u64 = prepared
        .songs
        .iter()
        .map(|s| warm_frames(policy, s.length_frames, engine_rate_hz))
        .sum();
    progress.total_frames.store(total, Ordering::Relaxed);
    progress.done_frames.store(0, Ordering::Relaxed);
    let stats = Arc::clone(player.engine_stats());
    let mut l = vec![0.0f32; 4096];
    let mut r = vec![0.0f32; 4096];
    let mut cancelled = false;
    let mut driver = Driver::new(Wait::Player(&player)).with_progress(progress);
    'songs: for (i, song) in prepared.songs.iter().enumerate() {
        progress.song.store(i as u64, Ordering::Relaxed);
        // The next song takes over from the last (a crossfade, no stop).
        player.play_song(i);
        driver.expect_start();
        let want = warm_frames(policy, song.length_frames, engine_rate_hz);
        let mut done = 0u64;
        while done < want {
            let block = ((want - done) as usize).min(l.len());
            match driver.render(&mut engine, &mut l[..block], &mut r[..block]) {
                Ok(rendered) => {
                    done += rendered.frames as u64;
                    if rendered.idle {
                        break;
                    }
                }
                Err(Stop::Cancelled { .. }) => {
                    cancelled = true;
                    break 'songs;
                }
                Err(Stop::Stalled { frames }) => {
                    return Err(WarmError::Stalled {
                        song: i + 1,
                        frame: done + frames as u64,
                        transport: stats.transport(),
                        active: stats.active_song(),
                    });
                }
            }
        }
    }
    player.stop();
    link.flush(Duration::from_secs(600));
    link.persist_stats();
    Ok(WarmReport {
        prepared,
        problems,
        elapsed: start.elapsed(),
        cancelled,
    })
}
