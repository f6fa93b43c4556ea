//! LOADER THREADS: scheduling, source decoding, resampling, preload.
//!
//! - [`coordinator`]: one thread that owns deck bookkeeping and slot
//!   allocation, follows play positions, and queues jobs;
//! - [`worker`]: the priority job queue and the decoding jobs, run on a
//!   private rayon pool whose panics are caught per job;
//! - [`source`], [`cursor`]: symphonia decoding and rubato resampling, with
//!   accurate seeks;
//! - [`prepare`]: probing a setlist;
//! - [`cache_link`]: reading and writing chunks through the chunk cache;
//!   [`cache_stats`]: its counters.
//!
//! Nothing here runs on the audio thread; [`crate::bridge`] is the only
//! way across.
#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    clippy::disallowed_macros
)]

pub mod cache_link;
pub mod cache_stats;
pub mod coordinator;
pub mod cursor;
pub mod error;
pub mod prepare;
pub mod source;
pub mod warm;
pub mod worker;

pub use cache_link::{CacheConfig, CacheLink, CachePolicy, CacheStats, PersistedStats};
pub use coordinator::LoaderStats;
pub use error::{ResampleFailure, StemError};
pub use prepare::{
    PreparedSection, PreparedSetlist, PreparedSong, PreparedStem, ProblemKind, Severity,
    StemProblem,
};
pub use source::{Damage, SourceInfo, SourceReader};
