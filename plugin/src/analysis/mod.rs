//! ANALYSIS THREAD: what the auto-master knows of each song (docs/ARCHITECTURE.md:
//! Analysis, Auto-master). [`meter::SongMeter`] measures a song's default
//! mix into an [`Analysis`] ([`record`]: ITU-R BS.1770-4 / EBU R128
//! loudness, EBU Tech 3342 loudness range, true peak, spectral balance
//! from [`spectrum`], crest factor, a 10-ms loudness profile);
//! [`analyze`] renders a song offline through the real player to measure
//! it; [`jobs`] runs that on a thread per plugin instance; [`store`] keeps
//! the results beside the chunk cache; [`fit`] turns an analysis and the
//! performer's targets into the chain's [`crate::bridge::SongMaster`]
//! (called by the control thread). Never the audio thread.
#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    clippy::disallowed_macros
)] // Not the audio thread.

pub mod analyze;
pub mod fit;
pub mod jobs;
pub mod meter;
pub mod record;
pub mod spectrum;
pub mod store;

pub use analyze::{
    analyze_song, song_key, AnalyzeError, AnalyzeOptions, AnalyzeProgress, SongAnalysis,
};
pub use fit::{fit, Fitted, MasterTargets, TargetMode};
pub use jobs::{AnalysisJobs, SongStatus};
pub use store::{AnalysisKey, AnalysisStore, KeyStem};

pub use meter::{measure, MeterError, SongMeter};
pub use record::{Analysis, Profile, Segment, ANALYSIS_VERSION};
