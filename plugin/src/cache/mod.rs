//! LOADER THREADS: the on-disk chunk cache: decoded chunks of every stem at
//! the engine rate, stored as verified FLAC (or raw PCM) files, so a stem
//! that played once starts from the cache instead of its source.
//!
//! - [`store`]: [`ChunkStore`] (the cache folder) and [`Entry`] (one stem at
//!   one engine rate): open, read, write, verify, sizes;
//! - [`key`]: [`StemKey`], what an entry depends on, and its stable id;
//! - [`meta`]: the entry's `meta.json`;
//! - [`chunk`]: the chunk file format (header, checks);
//! - [`samples`]: `f32` ↔ stored integers, bit depth policy, checksums;
//! - [`flac`]: FLAC payloads (flacenc encodes, symphonia decodes);
//! - [`budget`]: the byte budget, LRU eviction, in-use pins, the locks
//!   shared by processes;
//! - [`fsio`]: atomic writes, fsync policy, the temporary-file sweep;
//! - [`location`]: the platform's default cache folder.
//!
//! Promises (docs/ARCHITECTURE.md, "Chunk cache"): any change of the source, rate,
//! chunk length, layout or format is a miss, never stale audio; a damaged
//! chunk (flipped byte, truncation, decode error, wrong key or length) is
//! a [`Miss::Corrupt`], is removed, and the caller rebuilds it from the
//! source; a process killed at any moment never leaves a file that is
//! served. What is read is exactly what was stored: the samples written
//! for exact integer sources, their 24-bit quantization otherwise.
//!
//! The bytes in entries never exceed the folder's budget: writes evict
//! least-recently-used stems not in use (in any process) first. The
//! loader's side (the auto policy's measurements, the writer thread) is
//! `crate::loader::cache_link`.
//! Nothing here runs on the audio thread.
#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    clippy::disallowed_macros
)]

pub mod budget;
pub mod chunk;
pub mod entry;
pub mod error;
pub mod flac;
pub mod fsio;
pub mod key;
pub mod location;
pub mod meta;
pub mod naming;
pub mod policy;
pub mod samples;
pub mod store;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_budget;
#[cfg(test)]
mod tests_corpus;

pub use budget::{EvictStats, FolderSettings, Pin, PinSet, DEFAULT_BUDGET_BYTES};
pub use chunk::Encoding;
pub use entry::{Entry, StoreOptions, WriteStats};
pub use error::{CacheError, Corruption, Miss};
pub use flac::FlacEffort;
pub use fsio::SweepStats;
pub use key::{KeyId, SampleOrigin, StemKey};
pub use policy::{CachePolicy, PolicyError};
pub use store::{ChunkStore, Usage, VerifyProblem, VerifyReport};

/// Version of the cache's formats (key serialization, `meta.json`, chunk
/// files). It is part of every key and every chunk header: bump it when
/// any of them, or the stored values, change, and old entries become
/// misses.
///
/// 2: rubato 5's FFT resampler rounds differently from 0.16's (by up to
/// ≈ 1e-6, -120 dBFS): resampled stems decode to other values than
/// version-1 chunks hold, and a hit must equal a fresh decode bit for bit.
///
/// 3: symphonia 0.6 no longer clamps lossy decoders' output to ±1 (an MP3's
/// overs now decode above 0 dBFS), and an Ogg stream whose first page is
/// stamped early is no longer cut by the stamp's error (see
/// `loader::source`): those stems decode to other values than version-2
/// chunks hold.
pub const CACHE_FORMAT_VERSION: u16 = 3;
