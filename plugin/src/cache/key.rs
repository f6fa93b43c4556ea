//! ANY THREAD: what a cache entry is keyed by, and its stable id.
//!
//! An entry holds the chunks of one stem at one engine rate. Its key covers
//! everything the stored audio depends on: the source's identity (canonical
//! path, size, modification time), the engine rate, the chunk length, the
//! channel layout, how the samples are stored ([`SampleOrigin`]) and the
//! cache format version. Any change gives another id: a miss, never stale
//! audio.
//!
//! The id is FNV-1a (128 bits) over a fixed binary serialization of the
//! key, written here: stable across runs, builds and platforms' hashers
//! (std's `DefaultHasher` is not). It is not cryptographic, and need not
//! be: the entry's `meta.json` holds the full key and is compared on open,
//! so a collision costs a rebuild, never wrong audio.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use super::CACHE_FORMAT_VERSION;

/// How the loader's `f32` samples of a stem relate to integers; decides the
/// stored bit depth ([`super::samples`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SampleOrigin {
    /// Integer PCM (WAV, AIFF, FLAC, ALAC …) of `bits_per_sample` ≤ 24 bits
    /// played at its own rate: every sample is exactly `k / 2^(bits−1)` and
    /// is stored losslessly at that depth.
    ExactInteger {
        /// The source's bits per sample (1..=24).
        bits_per_sample: u8,
    },
    /// Anything else (resampled, lossy codecs, float or 32-bit sources):
    /// stored as 24-bit.
    Other,
}

impl SampleOrigin {
    /// The origin of a stem whose source reports `bits_per_sample` (symphonia's
    /// codec parameter; `None` for lossy codecs) and that is `resampled` or
    /// not.
    pub fn of_source(bits_per_sample: Option<u32>, resampled: bool) -> SampleOrigin {
        match bits_per_sample {
            Some(bits @ 1..=24) if !resampled => SampleOrigin::ExactInteger {
                bits_per_sample: bits as u8,
            },
            _ => SampleOrigin::Other,
        }
    }

    /// The depth the samples should be exact at, if any.
    pub fn exact_bits(self) -> Option<u8> {
        match self {
            SampleOrigin::ExactInteger { bits_per_sample } => Some(bits_per_sample),
            SampleOrigin::Other => None,
        }
    }
}

/// The key of one cache entry: one stem's chunks at one engine rate.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StemKey {
    /// The source file's canonical path.
    pub source_path: PathBuf,
    /// The source file's size in bytes.
    pub source_size_bytes: u64,
    /// The source file's modification time in nanoseconds since the Unix
    /// epoch (negative before it).
    pub source_mtime_ns: i64,
    /// The engine rate the chunks are at, in Hz.
    pub engine_rate_hz: u32,
    /// The chunk length in frames (every chunk but a stem's last has exactly
    /// this many).
    pub chunk_frames: u32,
    /// Channels of the stored chunks (the loader's channel count, 1..=8).
    pub channels: u8,
    /// How the samples relate to integers.
    pub origin: SampleOrigin,
}

impl StemKey {
    /// The key for the file at `path`: canonicalizes it and reads its size
    /// and modification time. Fails if the file cannot be inspected.
    pub fn for_file(
        path: &Path,
        engine_rate_hz: u32,
        chunk_frames: u32,
        channels: u8,
        origin: SampleOrigin,
    ) -> std::io::Result<StemKey> {
        let source_path = std::fs::canonicalize(path)?;
        let meta = std::fs::metadata(&source_path)?;
        let mtime = meta.modified()?;
        let source_mtime_ns = match mtime.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
            Err(e) => i64::try_from(e.duration().as_nanos()).map_or(i64::MIN, |n| -n),
        };
        Ok(StemKey {
            source_path,
            source_size_bytes: meta.len(),
            source_mtime_ns,
            engine_rate_hz,
            chunk_frames,
            channels,
            origin,
        })
    }

    /// The entry id of this key (and [`CACHE_FORMAT_VERSION`]).
    pub fn id(&self) -> KeyId {
        KeyId(fnv1a_128(&self.canonical_bytes()))
    }

    /// The fixed serialization the id hashes: tagged, length-prefixed,
    /// little-endian fields.
    fn canonical_bytes(&self) -> Vec<u8> {
        let path = path_bytes(&self.source_path);
        let mut b = Vec::with_capacity(64 + path.len());
        b.extend_from_slice(b"trax stem key\0");
        b.extend_from_slice(&CACHE_FORMAT_VERSION.to_le_bytes());
        b.extend_from_slice(&(path.len() as u64).to_le_bytes());
        b.extend_from_slice(&path);
        b.extend_from_slice(&self.source_size_bytes.to_le_bytes());
        b.extend_from_slice(&self.source_mtime_ns.to_le_bytes());
        b.extend_from_slice(&self.engine_rate_hz.to_le_bytes());
        b.extend_from_slice(&self.chunk_frames.to_le_bytes());
        b.push(self.channels);
        match self.origin {
            SampleOrigin::ExactInteger { bits_per_sample } => {
                b.extend_from_slice(&[1, bits_per_sample])
            }
            SampleOrigin::Other => b.extend_from_slice(&[0, 0]),
        }
        b
    }
}

/// The exact bytes of a path: the OS string on Unix, UTF-16 code units on
/// Windows, UTF-8 (lossy) elsewhere.
pub(crate) fn path_bytes(path: &Path) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    }
    #[cfg(windows)]
    {
        use std::os::windows::ffi::OsStrExt;
        path.as_os_str()
            .encode_wide()
            .flat_map(u16::to_le_bytes)
            .collect()
    }
    #[cfg(not(any(unix, windows)))]
    {
        path.to_string_lossy().as_bytes().to_vec()
    }
}

/// FNV-1a, 128-bit variant (offset basis and prime from the FNV spec).
pub(crate) fn fnv1a_128(bytes: &[u8]) -> u128 {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    bytes
        .iter()
        .fold(OFFSET, |h, &b| (h ^ u128::from(b)).wrapping_mul(PRIME))
}

/// A cache entry's id: 128 bits, shown as 32 lowercase hex digits (the
/// entry's folder name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(pub u128);

impl KeyId {
    /// The first 64 bits, stored in every chunk header of the entry.
    pub fn hash64(self) -> u64 {
        (self.0 >> 64) as u64
    }

    /// Parses a 32-digit lowercase hex id (a folder name).
    pub fn parse(s: &str) -> Option<KeyId> {
        let lower_hex = s.len() == 32 && s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
        if !lower_hex {
            return None;
        }
        u128::from_str_radix(s, 16).ok().map(KeyId)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> StemKey {
        StemKey {
            source_path: PathBuf::from("/music/set/song/drums.flac"),
            source_size_bytes: 1_234_567,
            source_mtime_ns: 1_700_000_000_123_456_789,
            engine_rate_hz: 48_000,
            chunk_frames: 16_384,
            channels: 2,
            origin: SampleOrigin::ExactInteger {
                bits_per_sample: 16,
            },
        }
    }

    #[test]
    fn fnv_matches_the_reference_vectors() {
        assert_eq!(fnv1a_128(b""), 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d);
        assert_eq!(fnv1a_128(b"a"), 0xd228_cb69_6f1a_8caf_7891_2b70_4e4a_8964);
    }

    #[test]
    fn id_is_stable_across_builds() {
        // A golden value: if this changes, every cache on every machine is
        // invalidated; bump CACHE_FORMAT_VERSION on purpose instead.
        let id = key().id();
        assert_eq!(id.to_string().len(), 32);
        assert_eq!(KeyId::parse(&id.to_string()), Some(id));
        assert_eq!(id.hash64(), (id.0 >> 64) as u64);
        assert_eq!(id, key().id());
        assert_eq!(id.to_string(), GOLDEN_ID);
    }

    // Format version 3 (symphonia 0.6); version 2 (rubato 5) was
    // 5b417c64fcb3dbd92e3bd03e23eff2ba, version 1 6e09a02a670953a6278c4d3139ec748f.
    const GOLDEN_ID: &str = "0802ecb83d556ae7214d58046a2b06f9";

    #[test]
    fn every_field_changes_the_id() {
        let base = key().id();
        let mut variants = Vec::new();
        let mut k = key();
        k.source_path = PathBuf::from("/music/set/song/drums2.flac");
        variants.push(k);
        let mut k = key();
        k.source_size_bytes += 1;
        variants.push(k);
        let mut k = key();
        k.source_mtime_ns += 1;
        variants.push(k);
        let mut k = key();
        k.engine_rate_hz = 44_100;
        variants.push(k);
        let mut k = key();
        k.chunk_frames = 8192;
        variants.push(k);
        let mut k = key();
        k.channels = 1;
        variants.push(k);
        let mut k = key();
        k.origin = SampleOrigin::ExactInteger {
            bits_per_sample: 24,
        };
        variants.push(k);
        let mut k = key();
        k.origin = SampleOrigin::Other;
        variants.push(k);
        let ids: std::collections::HashSet<KeyId> = variants.iter().map(StemKey::id).collect();
        assert_eq!(ids.len(), variants.len());
        assert!(!ids.contains(&base));
    }

    #[test]
    fn origin_of_source() {
        assert_eq!(
            SampleOrigin::of_source(Some(16), false),
            SampleOrigin::ExactInteger {
                bits_per_sample: 16
            }
        );
        assert_eq!(SampleOrigin::of_source(Some(16), true), SampleOrigin::Other);
        assert_eq!(
            SampleOrigin::of_source(Some(32), false),
            SampleOrigin::Other
        );
        assert_eq!(SampleOrigin::of_source(None, false), SampleOrigin::Other);
    }

    #[test]
    fn ids_parse_only_from_canonical_hex() {
        assert!(KeyId::parse("tmp").is_none());
        assert!(KeyId::parse(&"A".repeat(32)).is_none());
        assert!(KeyId::parse(&"g".repeat(32)).is_none());
        assert_eq!(
            KeyId::parse(&format!("{}1", "0".repeat(31))),
            Some(KeyId(1))
        );
    }

    #[test]
    fn for_file_reads_identity() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.wav");
        std::fs::write(&path, b"12345").expect("write");
        let origin = SampleOrigin::Other;
        let k =
            StemKey::for_file(&dir.path().join("./a.wav"), 48_000, 16_384, 2, origin).expect("key");
        assert_eq!(k.source_path, std::fs::canonicalize(&path).expect("canon"));
        assert_eq!(k.source_size_bytes, 5);
        assert!(k.source_mtime_ns > 0);
        assert!(StemKey::for_file(&dir.path().join("missing"), 48_000, 16_384, 2, origin).is_err());
    }
}
