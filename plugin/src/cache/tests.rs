//! LOADER THREADS (tests): the store end to end on temporary folders: round
//! trips of every layout, damage of every kind, entry resets, sweeps, failing
//! writes, concurrent use, and figures on the corpus.

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::chunk::HEADER_BYTES;
use super::*;

pub(super) const CHUNK: u32 = 16_384;

pub(super) fn open() -> (tempfile::TempDir, ChunkStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = ChunkStore::open(&dir.path().join("chunks")).expect("open");
    (dir, store)
}

pub(super) fn key(name: &str, channels: u8, origin: SampleOrigin) -> StemKey {
    StemKey {
        source_path: PathBuf::from("/corpus").join(name),
        source_size_bytes: 1000,
        source_mtime_ns: 1_700_000_000_000_000_000,
        engine_rate_hz: 48_000,
        chunk_frames: CHUNK,
        channels,
        origin,
    }
}

pub(super) const EXACT16: SampleOrigin = SampleOrigin::ExactInteger {
    bits_per_sample: 16,
};
const EXACT24: SampleOrigin = SampleOrigin::ExactInteger {
    bits_per_sample: 24,
};

/// Deterministic noise in -1..1.
struct Lcg(u32);
impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (self.0 >> 8) as f32 / (1u32 << 23) as f32 - 1.0
    }
}

/// Music-like material: two sines and a little noise, at `bits` exactly
/// (or plain `f32` for `None`).
pub(super) fn material(frames: u32, channels: u8, bits: Option<u8>) -> Vec<f32> {
    let mut noise = Lcg(7);
    (0..frames as usize * usize::from(channels))
        .map(|i| {
            let t = (i / usize::from(channels)) as f32;
            let c = (i % usize::from(channels)) as f32;
            let v = 0.3 * (t * 0.021 + c).sin() + 0.1 * (t * 0.0037).sin() + 0.001 * noise.next();
            match bits {
                Some(b) => {
                    // `+ 0.0`: symphonia never yields -0.0 from integers.
                    let max = (1i32 << (b - 1)) as f32;
                    (v * max).round() / max + 0.0
                }
                None => v,
            }
        })
        .collect()
}

fn white_noise_24(frames: u32, channels: u8) -> Vec<f32> {
    let mut noise = Lcg(99);
    (0..frames as usize * usize::from(channels))
        .map(|_| (noise.next() * 8_388_607.0).round() / 8_388_608.0 + 0.0)
        .collect()
}

pub(super) fn assert_bits_equal(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: length");
    let first = a
        .iter()
        .zip(b)
        .position(|(x, y)| x.to_bits() != y.to_bits());
    if let Some(i) = first {
        let around = i.saturating_sub(4)..(i + 4).min(a.len());
        println!("{what}: [{i}] {:?} vs {:?}", &a[around.clone()], &b[around]);
    }
    assert_eq!(first, None, "{what}: first differing sample");
}

#[test]
fn every_layout_round_trips() {
    let (_dir, store) = open();
    let mut out = Vec::new();
    for (origin, bits) in [
        (EXACT16, Some(16)),
        (EXACT24, Some(24)),
        (SampleOrigin::Other, None),
    ] {
        for channels in [1u8, 2] {
            let entry = store
                .entry(&key("a.flac", channels, origin))
                .expect("entry");
            for (index, frames) in [CHUNK, 1000, 4097].into_iter().enumerate() {
                let what = format!("{origin:?} {channels} ch {frames} frames");
                let mut samples = material(frames, channels, bits);
                if bits.is_none() {
                    // As the loader hands them over: on the grid.
                    samples::round_to_grid(&mut samples);
                }
                let stats = entry.write_chunk(index as u32, &samples).expect("write");
                assert_eq!(stats.encoding, Encoding::Flac, "{what}");
                entry
                    .read_chunk(index as u32, frames, &mut out)
                    .expect(&what);
                assert_eq!(stats.bits, bits.unwrap_or(24), "{what}");
                assert_bits_equal(&out, &samples, &what);
                let raw_bytes = u64::from(frames) * u64::from(channels) * u64::from(stats.bits / 8);
                assert!(stats.bytes_on_disk < raw_bytes, "{what}: FLAC not smaller");
            }
        }
    }
}

#[test]
fn only_what_reads_back_exactly_is_stored() {
    let (_dir, store) = open();
    let entry = store
        .entry(&key("other", 2, SampleOrigin::Other))
        .expect("entry");
    let mut out = Vec::new();
    // Off the grid (plain f32): refused.
    let off = material(2000, 2, None);
    let err = entry.write_chunk(0, &off).expect_err("off the grid");
    assert!(matches!(err, CacheError::Inexact { .. }), "{err}");
    assert!(!entry.contains(0));
    // On the grid with peaks up to +6 dBFS (resampler overshoot): exact.
    let mut hot: Vec<f32> = off.iter().map(|s| s * 4.0).collect();
    samples::round_to_grid(&mut hot);
    assert!(hot.iter().any(|s| s.abs() >= 1.0) && hot.iter().all(|s| s.abs() < 2.0));
    entry.write_chunk(0, &hot).expect("hot chunk");
    entry.read_chunk(0, 2000, &mut out).expect("read");
    assert_bits_equal(&out, &hot, "hot");
    // +6 dBFS and beyond cannot be: refused, decoded every time.
    let mut hotter = hot.clone();
    hotter[10] = 2.5;
    let err = entry.write_chunk(1, &hotter).expect_err("too hot");
    assert!(matches!(err, CacheError::Inexact { .. }), "{err}");
    // The grid: multiples of 2^-22 below 2, every other value unchanged.
    let mut v = vec![0.3f32, -0.7, 1.999_999_9, 2.0, -3.75, 1e30, f32::NAN];
    samples::round_to_grid(&mut v);
    for x in &v[..3] {
        assert_eq!((x * 4_194_304.0).fract(), 0.0, "{x}");
    }
    assert_eq!(&v[3..6], &[2.0, -3.75, 1e30]);
    assert!(v[6].is_nan());
}

#[test]
fn white_noise_is_stored_raw() {
    let (_dir, store) = open();
    let entry = store.entry(&key("noise.wav", 2, EXACT24)).expect("entry");
    let samples = white_noise_24(CHUNK, 2);
    let stats = entry.write_chunk(0, &samples).expect("write");
    assert_eq!(stats.encoding, Encoding::Raw);
    assert_eq!(
        stats.bytes_on_disk,
        HEADER_BYTES as u64 + u64::from(CHUNK) * 2 * 3
    );
    let mut out = Vec::new();
    entry.read_chunk(0, CHUNK, &mut out).expect("read");
    assert_bits_equal(&out, &samples, "raw");
}

/// Writes `bytes` as chunk 0 of `entry` and expects a removed corrupt miss.
fn expect_corrupt(entry: &Entry, bytes: &[u8], frames: u32, what: &str) -> Corruption {
    let path = entry.chunk_path(0);
    fs::create_dir_all(entry.dir()).expect("entry folder");
    fs::write(&path, bytes).expect("write damaged file");
    let mut out = vec![1.0];
    let miss = entry.read_chunk(0, frames, &mut out).expect_err(what);
    assert!(out.is_empty(), "{what}: output left behind");
    assert!(!path.exists(), "{what}: damaged file not removed");
    match miss {
        Miss::Corrupt { reason, path: p } => {
            assert_eq!(p, path);
            reason
        }
        other => panic!("{what}: {other:?}"),
    }
}

#[test]
fn every_flipped_byte_is_caught_and_removed() {
    let (_dir, store) = open();
    for (origin, samples) in [
        (EXACT16, material(CHUNK, 2, Some(16))),
        (EXACT24, white_noise_24(4097, 1)),
    ] {
        let channels = if origin == EXACT16 { 2 } else { 1 };
        let frames = (samples.len() / channels) as u32;
        let entry = store
            .entry(&key("flip", channels as u8, origin))
            .expect("entry");
        entry.write_chunk(0, &samples).expect("write");
        let good = fs::read(entry.chunk_path(0)).expect("read");
        let mut positions: Vec<usize> = (0..HEADER_BYTES)
            .chain((HEADER_BYTES..good.len()).step_by(997))
            .collect();
        let mut rng = Lcg(1);
        positions.extend(
            (0..50).map(|_| ((rng.next() + 1.0) / 2.0 * good.len() as f32) as usize % good.len()),
        );
        positions.push(good.len() - 1);
        for pos in positions {
            let mut bad = good.clone();
            bad[pos] ^= 1 << (pos % 8);
            expect_corrupt(&entry, &bad, frames, &format!("{origin:?} byte {pos}"));
        }
        // The good file still reads.
        fs::write(entry.chunk_path(0), &good).expect("restore");
        let mut out = Vec::new();
        entry.read_chunk(0, frames, &mut out).expect("good file");
    }
}

#[test]
fn truncated_zero_length_and_extended_files_are_caught() {
    let (_dir, store) = open();
    let entry = store.entry(&key("trunc", 2, EXACT16)).expect("entry");
    entry
        .write_chunk(0, &material(CHUNK, 2, Some(16)))
        .expect("write");
    let good = fs::read(entry.chunk_path(0)).expect("read");
    let n = good.len();
    let lengths = [
        0,
        1,
        4,
        63,
        64,
        65,
        100,
        n / 3,
        n / 2,
        n - 997,
        n - 2,
        n - 1,
    ];
    for len in lengths {
        let reason = expect_corrupt(&entry, &good[..len], CHUNK, &format!("length {len}"));
        if len < HEADER_BYTES {
            assert_eq!(
                reason,
                Corruption::TooShort {
                    len_bytes: len as u64
                }
            );
        } else {
            assert!(
                matches!(reason, Corruption::Length { .. }),
                "{len}: {reason}"
            );
        }
    }
    let mut longer = good.clone();
    longer.push(0);
    expect_corrupt(&entry, &longer, CHUNK, "extended");
}

#[test]
fn chunks_in_the_wrong_place_or_of_the_wrong_length_are_caught() {
    let (_dir, store) = open();
    let a = store.entry(&key("a", 2, EXACT16)).expect("entry");
    let b = store.entry(&key("b", 2, EXACT16)).expect("entry");
    a.write_chunk(0, &material(1000, 2, Some(16)))
        .expect("write");
    a.write_chunk(1, &material(1000, 2, Some(16)))
        .expect("write");
    let chunk0 = fs::read(a.chunk_path(0)).expect("read");
    assert_eq!(
        expect_corrupt(&b, &chunk0, 1000, "other entry"),
        Corruption::WrongKey
    );
    // Chunk 1's file under chunk 0's name.
    let chunk1 = fs::read(a.chunk_path(1)).expect("read");
    let reason = expect_corrupt(&a, &chunk1, 1000, "other index");
    assert_eq!(
        reason,
        Corruption::WrongIndex {
            found: 1,
            expected: 0
        }
    );
    // Asking for another length.
    a.write_chunk(0, &material(1000, 2, Some(16)))
        .expect("write");
    let mut out = Vec::new();
    let miss = a.read_chunk(0, 1001, &mut out).expect_err("wrong length");
    assert_eq!(
        miss.corruption(),
        Some(&Corruption::WrongFrames {
            found: 1000,
            expected: 1001
        })
    );
    assert!(!a.contains(0));
    assert!(matches!(a.read_chunk(0, 1000, &mut out), Err(Miss::Absent)));
}

#[test]
fn a_different_or_damaged_meta_resets_the_entry() {
    let (_dir, store) = open();
    let k = key("m", 1, EXACT16);
    let entry = store.entry(&k).expect("entry");
    let meta_path = entry.dir().join(naming::META_FILE_NAME);
    assert!(!entry.dir().exists(), "made by the first write, not before");
    let samples = material(500, 1, Some(16));
    let mut out = Vec::new();
    entry.write_chunk(0, &samples).expect("write");
    let good_meta = fs::read_to_string(&meta_path).expect("meta");

    // Missing meta.json (a pinned entry not written yet): chunks stay, and
    // the next write makes it again.
    fs::remove_file(&meta_path).expect("rm");
    let entry = store.entry(&k).expect("entry");
    entry.read_chunk(0, 500, &mut out).expect("chunk kept");
    entry.write_chunk(1, &samples).expect("write");
    assert_eq!(fs::read_to_string(&meta_path).expect("meta"), good_meta);

    // Another key under the same id (a collision) or damaged JSON: reset.
    let other = good_meta.replace("\"engine_rate_hz\": 48000", "\"engine_rate_hz\": 44100");
    assert_ne!(other, good_meta);
    for bad in [other.as_str(), "", "{ not json", "{}"] {
        entry.write_chunk(0, &samples).expect("write");
        fs::write(&meta_path, bad).expect("damage meta");
        let entry = store.entry(&k).expect("entry");
        assert!(
            matches!(entry.read_chunk(0, 500, &mut out), Err(Miss::Absent)),
            "{bad:?}"
        );
        assert!(!entry.dir().exists(), "{bad:?}: entry removed");
        entry.write_chunk(0, &samples).expect("write");
        assert_eq!(fs::read_to_string(&meta_path).expect("meta"), good_meta);
    }
}

#[test]
fn open_sweeps_abandoned_temporary_files_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("chunks");
    drop(ChunkStore::open(&root).expect("open"));
    let tmp = root.join(naming::TMP_DIR_NAME);
    let old = tmp.join("123-0-000000001.tmp");
    let fresh = tmp.join("124-0-000000001.tmp");
    fs::write(&old, b"half a chunk").expect("write");
    fs::write(&fresh, b"being written").expect("write");
    fs::File::options()
        .write(true)
        .open(&old)
        .and_then(|f| f.set_modified(SystemTime::now() - Duration::from_secs(3600)))
        .expect("age");
    let store = ChunkStore::open(&root).expect("open");
    assert!(!old.exists(), "abandoned file swept");
    assert!(
        fresh.exists(),
        "a file another process may be writing is kept"
    );
    assert_eq!(store.sweep().expect("sweep").kept_recent, 1);
}

#[test]
fn failing_writes_are_errors_never_panics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("file");
    fs::write(&file, b"x").expect("write");
    // A cache folder under a regular file: ENOTDIR (even as root).
    let err = ChunkStore::open(&file.join("chunks")).expect_err("open under a file");
    assert!(err.to_string().contains("cannot create folder"), "{err}");

    let store = ChunkStore::open(&dir.path().join("chunks")).expect("open");
    let entry = store.entry(&key("w", 2, EXACT16)).expect("entry");
    // The entry folder replaced by a regular file.
    fs::write(entry.dir(), b"x").expect("write");
    let err = entry
        .write_chunk(0, &material(100, 2, Some(16)))
        .expect_err("write into a file");
    assert!(matches!(err, CacheError::Io { .. }), "{err}");
    let entry = store.entry(&key("w", 2, EXACT16)).expect("entry");
    let err = entry
        .write_chunk(0, &material(100, 2, Some(16)))
        .expect_err("write into a file");
    assert!(matches!(err, CacheError::Io { .. }), "{err}");
    assert_eq!(
        fs::read_dir(dir.path().join("chunks/tmp"))
            .expect("ls")
            .count(),
        0
    );

    // Samples that are not a chunk of the entry.
    let entry = store.entry(&key("v", 2, EXACT16)).expect("entry");
    for len in [0, 3, (CHUNK as usize + 1) * 2] {
        let err = entry.write_chunk(0, &vec![0.0; len]).expect_err("invalid");
        assert!(
            matches!(err, CacheError::InvalidChunk { .. }),
            "{len}: {err}"
        );
    }
}

#[test]
fn verify_removes_damage_and_counts_the_rest() {
    let (_dir, store) = open();
    let a = store.entry(&key("a", 2, EXACT16)).expect("entry");
    let b = store
        .entry(&key("b", 1, SampleOrigin::Other))
        .expect("entry");
    for i in 0..3 {
        a.write_chunk(i, &material(CHUNK, 2, Some(16)))
            .expect("write");
        let mut m = material(777, 1, None);
        samples::round_to_grid(&mut m);
        b.write_chunk(i, &m).expect("write");
    }
    let mut damaged = fs::read(a.chunk_path(1)).expect("read");
    damaged[500] ^= 4;
    fs::write(a.chunk_path(1), damaged).expect("write");
    fs::write(a.dir().join("notes.txt"), b"not ours").expect("write");
    let usage = store.usage().expect("usage");
    assert_eq!((usage.entries, usage.chunks), (2, 6));
    assert_eq!(usage.bytes, a.bytes_on_disk() + b.bytes_on_disk());

    let mut problems = Vec::new();
    let report = store
        .verify(|p| problems.push(p.to_string()))
        .expect("verify");
    assert_eq!(
        (report.entries_ok, report.chunks_ok, report.chunks_removed),
        (2, 5, 1),
        "{problems:?}"
    );
    assert!(
        problems[0].contains("c00000001.tc") && problems[0].contains("payload checksum"),
        "{problems:?}"
    );
    assert!(!a.contains(1) && a.contains(0) && a.dir().join("notes.txt").exists());

    fs::write(b.dir().join(naming::META_FILE_NAME), b"garbage").expect("write");
    problems.clear();
    let report = store
        .verify(|p| problems.push(p.to_string()))
        .expect("verify");
    assert_eq!(
        (report.entries_ok, report.entries_removed, report.chunks_ok),
        (1, 1, 2)
    );
    assert!(!b.dir().exists());
    store.clear().expect("clear");
    assert_eq!(store.usage().expect("usage"), Usage::default());
}

#[test]
fn concurrent_writers_and_readers_never_see_damage() {
    let (_dir, store) = open();
    let entry = store.entry(&key("c", 2, EXACT16)).expect("entry");
    let samples = material(4096, 2, Some(16));
    std::thread::scope(|s| {
        for t in 0..4 {
            let (entry, samples) = (&entry, &samples);
            s.spawn(move || {
                let mut out = Vec::new();
                for _ in 0..25 {
                    if t % 2 == 0 {
                        entry.write_chunk(0, samples).expect("write");
                    }
                    match entry.read_chunk(0, 4096, &mut out) {
                        Ok(()) => assert_bits_equal(&out, samples, "concurrent"),
                        Err(Miss::Absent) => {}
                        Err(other) => panic!("{other}"),
                    }
                }
            });
        }
    });
    assert_eq!(
        fs::read_dir(store.dir().join("tmp")).expect("ls").count(),
        0
    );
}
