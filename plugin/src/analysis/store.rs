//! ANALYSIS THREAD (and the CLI): stored analyses, beside the chunk
//! cache (`<cache>/analysis/<id>.analysis`).
//!
//! A record is keyed by everything the measurement depends on
//! ([`AnalysisKey`]): each stem's identity (canonical path, size,
//! modification time), its offset and default mix, the rate, and
//! [`ANALYSIS_VERSION`]; a changed stem file or mix is another key, so a
//! miss. Records are small binary files (a 4-minute song: about 150 KB,
//! mostly its 10-ms profile) ending in a CRC-32 of the rest, written
//! atomically (temporary file + rename, as the chunk cache), and carry their
//! full key, so a hash collision is a miss too. A record that is damaged
//! (bad checksum, truncated, wrong key) is removed and reported as a miss:
//! the song is analysed again. The folder is kept under
//! [`MAX_STORE_BYTES`] by removing the least recently used records.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::record::{Analysis, Profile, Segment, ANALYSIS_VERSION};
use super::spectrum::{BANDS, THIRD_OCTAVES};
use crate::cache::fsio::write_atomic;
use crate::cache::key::{fnv1a_128, path_bytes};
use crate::cache::CacheError;
use crate::engine::master::tone::TONE_BANDS;

/// Name of the store's folder inside the cache folder.
pub const STORE_DIR_NAME: &str = "analysis";

/// File extension of a record.
pub const RECORD_EXT: &str = "analysis";

/// The store's size limit: 64 MiB ≈ 400 four-minute songs.
pub const MAX_STORE_BYTES: u64 = 64 << 20;

const MAGIC: &[u8; 8] = b"TRAXANL\0";

/// One stem as far as the analysis depends on it.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyStem {
    /// Canonical path (as given if it cannot be canonicalized).
    pub path: PathBuf,
    /// Size in bytes (0 if unreadable).
    pub size_bytes: u64,
    /// Modification time, ns since the Unix epoch (0 if unreadable).
    pub mtime_ns: i64,
    /// Offset on the song's timeline, frames at the key's rate.
    pub offset_frames: u64,
    /// The setlist's gain, dB.
    pub gain_db: f32,
    /// The setlist's pan, -1…1.
    pub pan: f32,
    /// Muted in the setlist.
    pub mute: bool,
    /// Soloed in the setlist.
    pub solo: bool,
    /// The output bus (only main is analysed and mastered).
    pub bus: crate::bridge::Bus,
}

impl KeyStem {
    /// Reads the file's identity (path, size, time) from the file system.
    pub fn for_file(path: &Path, offset_frames: u64, mix: crate::bridge::StemMix) -> KeyStem {
        let path = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let meta = fs::metadata(&path).ok();
        let mtime_ns = meta
            .as_ref()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        KeyStem {
            path,
            size_bytes: meta.map_or(0, |m| m.len()),
            mtime_ns,
            offset_frames,
            gain_db: mix.gain_db,
            pan: mix.pan,
            mute: mix.mute,
            solo: mix.solo,
            bus: mix.bus,
        }
    }
}

/// What a song's analysis depends on.
#[derive(Clone, Debug, PartialEq)]
pub struct AnalysisKey {
    /// The rate the mix is measured at, Hz.
    pub rate_hz: u32,
    /// The song's stems in order.
    pub stems: Vec<KeyStem>,
}

impl AnalysisKey {
    /// The fixed serialization the id hashes and the record carries.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(64 + self.stems.len() * 96);
        b.extend_from_slice(b"trax analysis key\0");
        b.extend_from_slice(&ANALYSIS_VERSION.to_le_bytes());
        b.extend_from_slice(&self.rate_hz.to_le_bytes());
        b.extend_from_slice(&(self.stems.len() as u32).to_le_bytes());
        for s in &self.stems {
            let path = path_bytes(&s.path);
            b.extend_from_slice(&(path.len() as u64).to_le_bytes());
            b.extend_from_slice(&path);
            b.extend_from_slice(&s.size_bytes.to_le_bytes());
            b.extend_from_slice(&s.mtime_ns.to_le_bytes());
            b.extend_from_slice(&s.offset_frames.to_le_bytes());
            b.extend_from_slice(&s.gain_db.to_bits().to_le_bytes());
            b.extend_from_slice(&s.pan.to_bits().to_le_bytes());
            b.extend_from_slice(&[u8::from(s.mute), u8::from(s.solo)]);
        }
        // Buses, only when a stem is off main (keys of setlists without
        // buses, and their stored analyses, stay as they were).
        if self.stems.iter().any(|s| s.bus != crate::bridge::Bus::Main) {
            b.extend_from_slice(b"buses\0");
            b.extend(self.stems.iter().map(|s| s.bus.index() as u8));
        }
        b
    }

    /// The record's file name: 32 hex digits of FNV-1a 128 of the key.
    pub fn file_name(&self) -> String {
        format!("{:032x}.{RECORD_EXT}", fnv1a_128(&self.canonical_bytes()))
    }
}

/// The store folder.
#[derive(Clone, Debug)]
pub struct AnalysisStore {
    dir: PathBuf,
    tmp: PathBuf,
}

/// Encodes a level (power or amplitude, ≥ 0) as 1000·log10 in an `i16`
/// (0.01 dB steps of power); 0 is `i16::MIN`.
pub fn quantize_level(v: f32) -> i16 {
    if v <= 0.0 || !v.is_finite() {
        return i16::MIN;
    }
    (1000.0 * v.log10()).round().clamp(-32767.0, 32767.0) as i16
}

/// Decodes [`quantize_level`].
pub fn dequantize_level(q: i16) -> f32 {
    if q == i16::MIN {
        0.0
    } else {
        10f32.powf(f32::from(q) / 1000.0)
    }
}

impl AnalysisStore {
    /// Opens (creating) the store inside the cache folder `cache_dir`.
    ///
    /// # Errors
    /// [`CacheError::Io`] if the folders cannot be made.
    pub fn open(cache_dir: &Path) -> Result<AnalysisStore, CacheError> {
        let dir = cache_dir.join(STORE_DIR_NAME);
        let tmp = cache_dir.join(crate::cache::naming::TMP_DIR_NAME);
        for d in [&dir, &tmp] {
            fs::create_dir_all(d).map_err(|source| CacheError::Io {
                path: d.clone(),
                action: "create folder",
                source,
            })?;
        }
        Ok(AnalysisStore { dir, tmp })
    }

    /// The store's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The stored analysis for `key`, if there is a sound one. A damaged
    /// record is removed (a miss). A hit refreshes the record's time (for
    /// the least-recently-used eviction).
    pub fn get(&self, key: &AnalysisKey) -> Option<Analysis> {
        let path = self.dir.join(key.file_name());
        let bytes = fs::read(&path).ok()?;
        match decode(&bytes, &key.canonical_bytes()) {
            Some(a) => {
                let _ = fs::File::options()
                    .append(true)
                    .open(&path)
                    .and_then(|f| f.set_modified(SystemTime::now()));
                Some(a)
            }
            None => {
                tracing::warn!("removing a damaged analysis record {}", path.display());
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    /// Stores `analysis` under `key` (atomically), then trims the store to
    /// [`MAX_STORE_BYTES`].
    ///
    /// # Errors
    /// [`CacheError::Io`] if the record cannot be written.
    pub fn put(&self, key: &AnalysisKey, analysis: &Analysis) -> Result<(), CacheError> {
        let bytes = encode(analysis, &key.canonical_bytes());
        write_atomic(&self.tmp, &self.dir.join(key.file_name()), &bytes, false)?;
        self.trim(MAX_STORE_BYTES);
        Ok(())
    }

    /// Removes the least recently used records until the folder holds at
    /// most `max_bytes`.
    pub fn trim(&self, max_bytes: u64) {
        let Ok(list) = fs::read_dir(&self.dir) else {
            return;
        };
        let mut records: Vec<(SystemTime, u64, PathBuf)> = list
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == RECORD_EXT))
            .filter_map(|e| {
                let m = e.metadata().ok()?;
                Some((m.modified().unwrap_or(UNIX_EPOCH), m.len(), e.path()))
            })
            .collect();
        let mut total: u64 = records.iter().map(|r| r.1).sum();
        records.sort();
        for (_, len, path) in records {
            if total <= max_bytes {
                break;
            }
            if fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
    }
}

fn put_f64(b: &mut Vec<u8>, v: f64) {
    b.extend_from_slice(&v.to_le_bytes());
}

/// The record's bytes.
pub fn encode(a: &Analysis, key: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(200 + key.len() + a.profile.segments.len() * 6);
    b.extend_from_slice(MAGIC);
    b.extend_from_slice(&ANALYSIS_VERSION.to_le_bytes());
    b.extend_from_slice(&(key.len() as u32).to_le_bytes());
    b.extend_from_slice(key);
    b.extend_from_slice(&a.rate_hz.to_le_bytes());
    b.extend_from_slice(&a.length_frames.to_le_bytes());
    for v in [
        a.integrated_lufs,
        a.loudness_range_lu,
        a.true_peak_dbtp,
        a.sample_peak_dbfs,
        a.max_short_term_lufs,
        a.rms_dbfs,
        a.crest_db,
    ] {
        put_f64(&mut b, v);
    }
    for v in a.band_levels_db.iter().chain(&a.k_spectrum) {
        put_f64(&mut b, *v);
    }
    b.extend_from_slice(&a.profile.hop_frames.to_le_bytes());
    b.extend_from_slice(&(a.profile.segments.len() as u32).to_le_bytes());
    for s in &a.profile.segments {
        for v in [s.k_power, s.power, s.true_peak] {
            b.extend_from_slice(&quantize_level(v).to_le_bytes());
        }
    }
    b.extend_from_slice(&(a.profile.tone_probe_db.len() as u32).to_le_bytes());
    for hop in &a.profile.tone_probe_db {
        for db in hop {
            // Centi-dB (the meter rounds to this grid).
            b.extend_from_slice(&((db * 100.0).round() as i16).to_le_bytes());
        }
    }
    let crc = crc32fast::hash(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    b
}

/// Reads fixed-size little-endian fields off the front of a slice.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_le_bytes)
    }
    fn f64(&mut self) -> Option<f64> {
        self.take().map(f64::from_le_bytes)
    }
}

/// The analysis in a record, if its checksum, version and key hold.
pub fn decode(bytes: &[u8], key: &[u8]) -> Option<Analysis> {
    let (body, crc) = bytes.split_last_chunk::<4>()?;
    if crc32fast::hash(body) != u32::from_le_bytes(*crc) {
        return None;
    }
    let mut r = Reader(body);
    if &r.take::<8>()? != MAGIC || r.u32()? != ANALYSIS_VERSION {
        return None;
    }
    let key_len = r.u32()? as usize;
    if r.0.get(..key_len)? != key {
        return None;
    }
    r.0 = &r.0[key_len..];
    let rate_hz = r.u32()?;
    let length_frames = u64::from_le_bytes(r.take()?);
    let mut f = [0.0f64; 7];
    for v in &mut f {
        *v = r.f64()?;
    }
    let mut band_levels_db = [0.0f64; BANDS];
    let mut k_spectrum = [0.0f64; THIRD_OCTAVES];
    for v in band_levels_db.iter_mut().chain(k_spectrum.iter_mut()) {
        *v = r.f64()?;
    }
    let hop_frames = r.u32()?;
    let count = r.u32()? as usize;
    let (segment_bytes, rest) = r.0.split_at_checked(count * 6)?;
    r.0 = rest;
    let hops = r.u32()? as usize;
    if r.0.len() != hops * 2 * TONE_BANDS {
        return None;
    }
    let tone_probe_db = r
        .0
        .chunks_exact(2 * TONE_BANDS)
        .map(|c| {
            std::array::from_fn(|b| f32::from(i16::from_le_bytes([c[2 * b], c[2 * b + 1]])) / 100.0)
        })
        .collect();
    let segments = segment_bytes
        .chunks_exact(6)
        .map(|c| {
            let q = |i: usize| dequantize_level(i16::from_le_bytes([c[i], c[i + 1]]));
            Segment {
                k_power: q(0),
                power: q(2),
                true_peak: q(4),
            }
        })
        .collect();
    Some(Analysis {
        rate_hz,
        length_frames,
        integrated_lufs: f[0],
        loudness_range_lu: f[1],
        true_peak_dbtp: f[2],
        sample_peak_dbfs: f[3],
        max_short_term_lufs: f[4],
        rms_dbfs: f[5],
        crest_db: f[6],
        band_levels_db,
        k_spectrum,
        profile: Profile {
            hop_frames,
            segments,
            tone_probe_db,
        },
    })
}
