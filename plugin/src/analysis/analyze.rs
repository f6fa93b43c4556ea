//! ANALYSIS THREAD (the caller's; never the audio thread): analyses a
//! song's default mix, or fetches its stored analysis.
//!
//! The mix is rendered offline by a player of its own, so it is exactly
//! what the engine plays with the setlist's gains and pans (pan law,
//! resampling, offsets included), and its loader reads the chunk cache
//! first: chunks already decoded for playback or by a warm are reused, and
//! nothing is written to it (measuring is not warming).
//! In the background it runs one decoding thread at the lowest OS priority
//! (CPU and I/O), so a playing engine's loader always goes first.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::meter::{MeterError, SongMeter};
use super::record::Analysis;
use super::store::{AnalysisKey, AnalysisStore, KeyStem};
use crate::loader::prepare::StemProblem;
use crate::loader::CacheLink;
use crate::offline::{Driver, Stop, Wait};
use crate::setlist::{Setlist, Song};
use crate::{Player, PlayerConfig, PlayerError};

/// Frames rendered per step: 4096 frames ≈ 85 ms at 48 kHz.
const BLOCK_FRAMES: usize = 4096;

/// Progress of one analysis, readable from another thread (the offline
/// driver's).
pub type AnalyzeProgress = crate::offline::Progress;

/// Why a song could not be analysed.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    /// The analysing player could not start.
    #[error("cannot start the analysis player: {0}")]
    Player(#[from] PlayerError),
    /// The meter refused the rate.
    #[error(transparent)]
    Meter(#[from] MeterError),
    /// No stem of the song can be played.
    #[error("song \"{song}\" has no playable stem")]
    NothingToPlay {
        /// The song's name.
        song: String,
    },
    /// No progress for [`crate::offline::STALL_LIMIT`].
    #[error("analysis of \"{song}\" stalled at frame {frame}")]
    Stalled {
        /// The song's name.
        song: String,
        /// Frames measured.
        frame: u64,
    },
    /// Cancelled through [`AnalyzeProgress::cancel`].
    #[error("analysis cancelled")]
    Cancelled,
}

/// A song's analysis and where it came from.
#[derive(Debug)]
pub struct SongAnalysis {
    /// The measurements.
    pub analysis: Arc<Analysis>,
    /// Found in the store (no rendering).
    pub stored: bool,
    /// Stems that could not be played (reported, skipped).
    pub problems: Vec<StemProblem>,
    /// Time taken.
    pub elapsed: Duration,
}

/// The store key of `song`'s default mix at `rate_hz` (reads each stem
/// file's size and time).
pub fn song_key(song: &Song, rate_hz: u32) -> AnalysisKey {
    AnalysisKey {
        rate_hz,
        stems: song
            .stems
            .iter()
            .map(|st| {
                let offset_frames = (st.offset_secs * f64::from(rate_hz)).round() as u64;
                KeyStem::for_file(&st.path, offset_frames, st.mix)
            })
            .collect(),
    }
}

/// Where and how to analyse.
#[derive(Clone, Debug, Default)]
pub struct AnalyzeOptions {
    /// The chunk cache to read (and fill).
    pub cache: Option<Arc<CacheLink>>,
    /// The analysis store to look in first and write to.
    pub store: Option<AnalysisStore>,
    /// One decoding thread at the lowest priority (beside playback).
    pub background: bool,
}

/// The analysis of `song` at `rate_hz`: from the store if it holds a sound
/// record for the song's current files and mix, otherwise measured (and
/// stored).
///
/// # Errors
/// [`AnalyzeError`]; a store that cannot be written is logged, not an
/// error.
pub fn analyze_song(
    song: &Song,
    rate_hz: u32,
    options: &AnalyzeOptions,
    progress: &AnalyzeProgress,
) -> Result<SongAnalysis, AnalyzeError> {
    let start = Instant::now();
    let key = options.store.as_ref().map(|_| song_key(song, rate_hz));
    if let (Some(store), Some(key)) = (&options.store, &key) {
        if let Some(analysis) = store.get(key) {
            progress
                .total_frames
                .store(analysis.length_frames, Ordering::Relaxed);
            progress
                .done_frames
                .store(analysis.length_frames, Ordering::Relaxed);
            return Ok(SongAnalysis {
                analysis: Arc::new(analysis),
                stored: true,
                problems: Vec::new(),
                elapsed: start.elapsed(),
            });
        }
    }
    let (analysis, problems) = measure_song(song, rate_hz, options, progress)?;
    if let (Some(store), Some(key)) = (&options.store, &key) {
        if let Err(e) = store.put(key, &analysis) {
            tracing::warn!("cannot store the analysis of \"{}\": {e}", song.name);
        }
    }
    Ok(SongAnalysis {
        analysis: Arc::new(analysis),
        stored: false,
        problems,
        elapsed: start.elapsed(),
    })
}

/// Renders `song`'s default mix offline and measures it.
fn measure_song(
    song: &Song,
    rate_hz: u32,
    options: &AnalyzeOptions,
    progress: &AnalyzeProgress,
) -> Result<(Analysis, Vec<StemProblem>), AnalyzeError> {
    let mut meter = SongMeter::new(rate_hz)?;
    let config = PlayerConfig {
        loader_threads: if options.background { 1 } else { 0 },
        background: options.background,
        // Measuring is not warming: chunks the cache holds are read, none
        // is written (no FLAC encoding, no change to the cache's contents).
        cache_writes_wait: false,
        cache_read_only: true,
        ..PlayerConfig::offline(rate_hz)
    };
    if options.background {
        crate::thread::lower_priority();
    }
    let (player, mut engine) = Player::new(config)?;
    player.set_cache(options.cache.clone());
    let one = Setlist {
        source: PathBuf::new(),
        name: song.name.clone(),
        songs: vec![song.clone()],
    };
    let prepared = player.load(&one);
    let problems = player.problems();
    let length = prepared.songs.first().map_or(0, |s| s.length_frames);
    if length == 0 {
        return Err(AnalyzeError::NothingToPlay {
            song: song.name.clone(),
        });
    }
    progress.total_frames.store(length, Ordering::Relaxed);
    progress.done_frames.store(0, Ordering::Relaxed);
    player.set_auto_advance(false);
    player.play_song(0);
    let mut l = vec![0.0f32; BLOCK_FRAMES];
    let mut r = vec![0.0f32; BLOCK_FRAMES];
    let mut interleaved = vec![0.0f32; BLOCK_FRAMES * 2];
    let mut done = 0u64;
    let mut driver = Driver::new(Wait::Player(&player)).with_progress(progress);
    while done < length {
        let block = ((length - done) as usize).min(BLOCK_FRAMES);
        let (n, idle) = match driver.render(&mut engine, &mut l[..block], &mut r[..block]) {
            Ok(rendered) => (rendered.frames, rendered.idle),
            Err(Stop::Cancelled { .. }) => return Err(AnalyzeError::Cancelled),
            Err(Stop::Stalled { frames }) => {
                return Err(AnalyzeError::Stalled {
                    song: song.name.clone(),
                    frame: done + frames as u64,
                });
            }
        };
        if n > 0 {
            for (i, frame) in interleaved[..n * 2].chunks_exact_mut(2).enumerate() {
                frame[0] = l[i];
                frame[1] = r[i];
            }
            meter.add(&interleaved[..n * 2]);
            done += n as u64;
        }
        if idle {
            break;
        }
    }
    player.stop();
    Ok((meter.finish(), problems))
}
