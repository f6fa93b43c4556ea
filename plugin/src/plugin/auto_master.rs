//! CONTROL THREAD: the auto-master's control side for one plugin instance.
//! Starts the loaded setlist's analyses ([`AnalysisJobs`]), puts the song
//! being heard (or selected) and the next one first, fits every analysed
//! song's chain settings to the parameters' targets, sends the ones that
//! changed to the engine, and publishes what the editor shows.
#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    clippy::disallowed_macros
)] // Not the audio thread.

use std::sync::Arc;

use super::control::Shared;
use super::params::TraxParams;
use crate::analysis::{
    fit, AnalysisJobs, AnalysisStore, AnalyzeOptions, AnalyzeProgress, Fitted, MasterTargets,
    SongStatus,
};
use crate::bridge::SongMaster;
use crate::setlist::Song;
use crate::Player;

/// One song as the editor shows it.
#[derive(Clone, Debug)]
pub struct SongMasterView {
    /// Where its analysis stands.
    pub status: SongStatus,
    /// Its settings and expected loudness, once analysed.
    pub fitted: Option<Fitted>,
}

/// The auto-master's state for the editor (in the editor's [`crate::view::ControlView`]).
#[derive(Clone, Debug, Default)]
pub struct MasteringView {
    /// Per song of the loaded setlist.
    pub songs: Vec<SongMasterView>,
    /// The running analysis's progress.
    pub progress: Option<Arc<AnalyzeProgress>>,
    /// The setlist's reference loudness the matching modes aim at (the
    /// median, or the quietest song), LUFS; `None` for a fixed target.
    pub setlist_lufs: Option<f64>,
}

/// The control thread's auto-master state.
pub struct AutoMasterControl {
    jobs: Option<AnalysisJobs>,
    epoch: u16,
    songs: Vec<Song>,
    seen_serial: u64,
    seen_targets: Option<MasterTargets>,
    sent: Vec<Option<SongMaster>>,
    logged: Vec<bool>,
    priority: Vec<usize>,
}

impl AutoMasterControl {
    /// Nothing loaded yet; the analysis thread starts with the first
    /// setlist.
    pub fn new() -> Self {
        Self {
            jobs: None,
            epoch: 0,
            songs: Vec::new(),
            seen_serial: u64::MAX,
            seen_targets: None,
            sent: Vec::new(),
            logged: Vec::new(),
            priority: Vec::new(),
        }
    }

    /// A setlist was loaded as `epoch`: analyse its songs (stored analyses
    /// beside the player's chunk cache, if it has one).
    pub fn loaded(&mut self, player: &Player, shared: &Shared, songs: Vec<Song>, epoch: u16) {
        if self.jobs.is_none() {
            match AnalysisJobs::spawn() {
                Ok(j) => self.jobs = Some(j),
                Err(e) => tracing::error!("trax: cannot start the analysis thread: {e}"),
            }
        }
        let cache = shared.view.get().cache.clone();
        let store = cache
            .as_ref()
            .and_then(|c| match AnalysisStore::open(c.dir()) {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::warn!("trax: analyses will not be stored: {e}");
                    None
                }
            });
        let options = AnalyzeOptions {
            cache,
            store,
            background: true,
        };
        if let Some(jobs) = &self.jobs {
            jobs.set_songs(songs.clone(), player.config().engine_rate_hz, options);
        }
        self.epoch = epoch;
        self.sent = vec![None; songs.len()];
        self.logged = vec![false; songs.len()];
        self.songs = songs;
        self.seen_serial = u64::MAX;
        self.priority.clear();
    }

    /// No setlist (or an unusable one): nothing to analyse.
    pub fn unloaded(&mut self, shared: &Shared) {
        self.songs.clear();
        self.sent.clear();
        shared
            .view
            .update(|v| v.mastering = MasteringView::default());
    }

    /// One control-thread poll: priorities, new analyses, changed targets.
    pub fn poll(&mut self, player: &Player, params: &TraxParams, shared: &Shared) {
        let Some(jobs) = &self.jobs else {
            return;
        };
        if self.songs.is_empty() {
            return;
        }
        // The song heard (or else the one selected), then the next one.
        let current = player
            .engine_stats()
            .active_song()
            .unwrap_or_else(|| (params.song.value().max(1) - 1) as usize);
        let priority = vec![current, current + 1];
        if priority != self.priority {
            jobs.prioritize(&priority);
            self.priority = priority;
        }
        let targets = params.master_targets();
        let serial = jobs.serial();
        if serial == self.seen_serial && Some(targets) == self.seen_targets {
            return;
        }
        let (serial, statuses) = jobs.statuses();
        self.seen_serial = serial;
        self.seen_targets = Some(targets);
        let ready = |s: &SongStatus| match s {
            SongStatus::Ready(a) => Some(Arc::clone(a)),
            _ => None,
        };
        let median = targets.mode.setlist_lufs(
            statuses
                .iter()
                .filter_map(ready)
                .map(|a| a.analysis.integrated_lufs),
        );
        let mut view = MasteringView {
            songs: Vec::with_capacity(statuses.len()),
            progress: Some(jobs.progress()),
            setlist_lufs: median,
        };
        for (i, status) in statuses.iter().enumerate() {
            let fitted = ready(status).map(|a| {
                let trim = self.songs.get(i).map_or(0.0, |s| s.master_trim_db);
                fit(&a.analysis, &targets, median, trim)
            });
            if let (Some(f), Some(a)) = (&fitted, ready(status)) {
                if self.sent.get(i).copied().flatten() != Some(f.master) {
                    player.set_song_master(self.epoch, i, f.master);
                    self.sent[i] = Some(f.master);
                }
                if !self.logged[i] {
                    self.logged[i] = true;
                    let m = &a.analysis;
                    tracing::info!(
                        "trax: song {} analysed{}: {:.1} LUFS, LRA {:.1} LU, {:.1} dBTP; auto-master gain {:+.1} dB",
                        i + 1,
                        if a.stored { " (stored)" } else { "" },
                        m.integrated_lufs,
                        m.loudness_range_lu,
                        m.true_peak_dbtp,
                        f.master.gain_db
                    );
                }
            }
            view.songs.push(SongMasterView {
                status: status.clone(),
                fitted,
            });
        }
        shared.view.update(|v| v.mastering = view);
    }
}

impl Default for AutoMasterControl {
    fn default() -> Self {
        Self::new()
    }
}
