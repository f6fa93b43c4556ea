//! Analysis and auto-master (DESIGN.md: Analysis, Auto-master).
//!
//! Two sides, as the rest of the crate:
//! - ANALYSIS (loader side, background): [`meter::SongMeter`] measures a
//!   song's default mix into an [`Analysis`] (ITU-R BS.1770-4 / EBU R128
//!   loudness, EBU Tech 3342 loudness range, true peak, spectral balance,
//!   crest factor, a 10-ms loudness profile).
//! - CONTROL THREAD: [`settings`] fits each song's chain settings to the
//!   performer's targets from its analysis.
//! - AUDIO THREAD: [`Chain`] (gain, [`tone`], [`glue`], [`limiter`]), run
//!   by the engine on its output; [`true_peak`] and [`kweight`] serve both
//!   sides. Realtime-safe after construction.

pub mod analysis;
pub mod analyze;
pub mod chain;
pub mod glue;
pub mod jobs;
pub mod kweight;
pub mod limiter;
pub mod meter;
pub mod settings;
pub mod spectrum;
pub mod store;
pub mod tone;
pub mod true_peak;

pub use analyze::{
    analyze_song, song_key, AnalyzeError, AnalyzeOptions, AnalyzeProgress, SongAnalysis,
};
pub use chain::{Chain, SongMaster};
pub use jobs::{AnalysisJobs, SongStatus};
pub use settings::{fit, Fitted, MasterTargets, TargetMode};
pub use store::{AnalysisKey, AnalysisStore, KeyStem};

pub use analysis::{Analysis, Profile, Segment, ANALYSIS_VERSION};
pub use meter::{measure, MeterError, SongMeter};
