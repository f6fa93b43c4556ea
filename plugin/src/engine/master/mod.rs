//! AUDIO THREAD: the auto-master chain the engine runs on its output
//! (docs/ARCHITECTURE.md: Auto-master): [`Chain`] (gain, [`tone`], [`glue`],
//! [`limiter`]). Its buffers are allocated at construction for the rate;
//! everything after is realtime-safe. The settings per song arrive as
//! [`crate::bridge::SongMaster`]; they are fitted by [`crate::analysis`].

pub mod chain;
pub mod glue;
pub mod limiter;
pub mod tone;

pub use chain::Chain;
