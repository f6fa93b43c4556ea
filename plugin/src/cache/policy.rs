//! ANY THREAD: what the chunk cache keeps of each stem, as settings files,
//! the CLI and the editor name it (`first:SECS`, `whole`, `auto:SECS`).

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::bridge::CHUNK_FRAMES;

/// What to cache of each stem.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CachePolicy {
    /// The first `secs` seconds of every stem (default 60 s): starts and
    /// early seeks come from the cache, the rest streams from the source.
    FirstSecs(f64),
    /// Every chunk of every stem played.
    WholeSong,
    /// The first `secs` seconds of the stems measured to play faster from
    /// the cache than from their source: a stem is cached when its source
    /// decodes (seek, decode, resample) more than `crate::loader::cache_link::AUTO_MARGIN` times
    /// slower than chunks read from the cache. In practice: resampled and
    /// lossy sources and slow storage are cached; same-rate FLAC and WAV on
    /// a fast disk are not (`cargo bench --bench cache` prints the figures).
    Auto(f64),
}

/// A policy text that is none of `first:SECS`, `whole`, `auto:SECS`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{text:?}: a cache policy is first:SECS, whole or auto:SECS (SECS a number ≥ 0)")]
pub struct PolicyError {
    /// The text given.
    pub text: String,
}

impl Default for CachePolicy {
    fn default() -> Self {
        CachePolicy::FirstSecs(60.0)
    }
}

impl std::fmt::Display for CachePolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CachePolicy::FirstSecs(s) => write!(f, "first:{s}"),
            CachePolicy::WholeSong => write!(f, "whole"),
            CachePolicy::Auto(s) => write!(f, "auto:{s}"),
        }
    }
}

impl std::str::FromStr for CachePolicy {
    type Err = PolicyError;

    /// Parses `first:SECS`, `whole` or `auto:SECS` (`first` and `auto`
    /// alone mean 60 s).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (name, secs) = match text.trim().split_once(':') {
            Some((n, s)) => (n, Some(s)),
            None => (text.trim(), None),
        };
        let secs = match secs {
            None => 60.0,
            Some(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| PolicyError {
                    text: text.to_string(),
                })?,
        };
        match name {
            "first" => Ok(CachePolicy::FirstSecs(secs)),
            "auto" => Ok(CachePolicy::Auto(secs)),
            "whole" if secs == 60.0 => Ok(CachePolicy::WholeSong),
            _ => Err(PolicyError {
                text: text.to_string(),
            }),
        }
    }
}

impl CachePolicy {
    /// Whether chunk `index` (of `CHUNK_FRAMES` at `engine_rate_hz`) is
    /// in the span this policy caches.
    pub fn covers(self, index: u32, engine_rate_hz: u32) -> bool {
        match self {
            CachePolicy::WholeSong => true,
            CachePolicy::FirstSecs(secs) | CachePolicy::Auto(secs) => {
                let start_frames = index as f64 * CHUNK_FRAMES as f64;
                start_frames < secs.max(0.0) * engine_rate_hz as f64
            }
        }
    }
}

impl Serialize for CachePolicy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CachePolicy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// For settings files: a policy that does not parse reads as none (the
/// default applies) instead of making the whole file unreadable.
pub fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<CachePolicy>, D::Error> {
    let text = Option::<String>::deserialize(d)?;
    Ok(text.and_then(|t| t.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_round_trip_and_bad_ones_are_refused() {
        for p in [
            CachePolicy::FirstSecs(60.0),
            CachePolicy::FirstSecs(12.5),
            CachePolicy::WholeSong,
            CachePolicy::Auto(30.0),
        ] {
            assert_eq!(p.to_string().parse::<CachePolicy>(), Ok(p));
        }
        assert_eq!("first".parse(), Ok(CachePolicy::FirstSecs(60.0)));
        for bad in ["", "all", "first:-1", "auto:x", "whole:5"] {
            assert!(bad.parse::<CachePolicy>().is_err(), "{bad:?}");
        }
    }
}

/// A [`CachePolicy`] that any thread reads and sets without a lock (two
/// atomics: a reader racing a change may see the new kind with the old
/// seconds once, which only moves one chunk's caching decision).
#[derive(Debug)]
pub struct AtomicPolicy {
    kind: AtomicU8,
    secs_bits: AtomicU64,
}

impl AtomicPolicy {
    /// Holding `policy`.
    pub fn new(policy: CachePolicy) -> Self {
        let cell = Self {
            kind: AtomicU8::new(0),
            secs_bits: AtomicU64::new(0),
        };
        cell.store(policy);
        cell
    }

    /// The policy now.
    pub fn load(&self) -> CachePolicy {
        let secs = f64::from_bits(self.secs_bits.load(Ordering::Acquire));
        match self.kind.load(Ordering::Acquire) {
            1 => CachePolicy::WholeSong,
            2 => CachePolicy::Auto(secs),
            _ => CachePolicy::FirstSecs(secs),
        }
    }

    /// Sets the policy.
    pub fn store(&self, policy: CachePolicy) {
        let (kind, secs) = match policy {
            CachePolicy::FirstSecs(s) => (0, s),
            CachePolicy::WholeSong => (1, 0.0),
            CachePolicy::Auto(s) => (2, s),
        };
        self.secs_bits.store(secs.to_bits(), Ordering::Release);
        self.kind.store(kind, Ordering::Release);
    }
}

#[cfg(test)]
mod atomic_tests {
    use super::*;

    #[test]
    fn an_atomic_policy_holds_every_kind() {
        let cell = AtomicPolicy::new(CachePolicy::FirstSecs(60.0));
        assert_eq!(cell.load(), CachePolicy::FirstSecs(60.0));
        for p in [
            CachePolicy::WholeSong,
            CachePolicy::Auto(12.5),
            CachePolicy::FirstSecs(0.0),
        ] {
            cell.store(p);
            assert_eq!(cell.load(), p);
        }
    }
}
