//! ANY THREAD: pure signal processing that the audio thread (the
//! limiter) and the analysis (the meter) both call: the true-peak
//! detector of ITU-R BS.1770-4 Annex 2 ([`true_peak`]) and its
//! K-weighting filter ([`kweight`]). No allocation after construction,
//! no locks, no I/O.
// The realtime contract, enforced: clippy.toml's disallowed types, methods
// and macros are errors here, and no unsafe code at all.
#![forbid(unsafe_code)]
#![deny(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    clippy::disallowed_macros
)]

pub mod kweight;
pub mod true_peak;
