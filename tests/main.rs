//! The integration test suite, as one binary: each file of `tests/` is a
//! module of it, sharing one build of `common/` (one binary per file made
//! every file rebuild and link it).
//!
//! - [`broken`]: broken and missing files reported by name and cause;
//! - [`cache`], [`cache_sharing`]: the loader through the chunk cache, and
//!   the cache across processes, kills and full or read-only disks;
//! - [`chunks`]: a chunk decoded alone equals that span of a full decode;
//! - [`render`], [`seek`], [`seek_storm`], [`transport`], [`underrun`]: the
//!   engine offline and at real time against independent references;
//! - [`setlist`]: setlist folders and down-mixing;
//! - [`fuzz_regressions`]: every fuzz seed and finding through its target;
//! - [`no_alloc`], [`rtsan`]: the process path under nice-plug's allocation
//!   checker and under RealtimeSanitizer;
//! - [`osc`]: the OSC remote end to end, from a UDP socket to the engine
//!   and back;
//! - [`clap_host`], [`vst3`], [`jack`]: the real bundles in a CLAP host and
//!   pedalboard, the standalone on a JACK server.
//!
//! - [`soak`]: the soak's short mode (a minute at real time under stress).
//!
//! `cargo xtask test` runs [`soak`] and [`jack`] alone after the rest: a
//! realtime run must not compete with the other tests for the two cores.

mod common;

mod broken;
mod cache;
mod cache_pins;
mod cache_sharing;
mod chunks;
mod clap_host;
mod count_in;
mod editor;
mod editor_jumps;
mod editor_layout;
mod editor_live;
mod editor_window;
mod fuzz_regressions;
mod jack;
mod jumps;
mod layout;
mod mastering;
mod no_alloc;
mod osc;
mod outputs_map;
mod render;
mod rtsan;
mod seek;
mod seek_stall;
mod seek_storm;
mod setlist;
mod soak;
mod song_end;
mod transport;
mod underrun;
mod vst3;
