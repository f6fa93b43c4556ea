//! The loader through the chunk cache, on the demo setlist (FLAC 16-bit
//! 48 kHz with a mono stem; MP3 + Ogg at 44.1 kHz; FLAC 24-bit 96 kHz):
//! - a first render fills the cache and sounds exactly as without it;
//! - a second render is served from the cache: bit-identical for exact
//!   16/24-bit same-rate sources, within 24-bit quantization for resampled
//!   and lossy ones;
//! - damaged cache files (a flipped byte, a truncation, an empty file) are
//!   caught, removed, decoded from the source and written again;
//! - an unusable or vanished cache folder means playing from the sources,
//!   exactly, with the failures counted.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use trax::loader::{CacheConfig, CacheLink, CachePolicy};
use trax::{Player, PlayerConfig};

const RATE: u32 = 48_000;
/// Songs are rendered whole (the demo's are ≈ 30 s: many chunks).
const FRAMES: u64 = u64::MAX;

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/setlist.toml")
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cache-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Offline render of `song` of the demo setlist, with `cache` if any.
fn render(song: usize, cache: Option<&Arc<CacheLink>>) -> Vec<f32> {
    let list = trax::setlist::load(&demo()).expect("demo setlist");
    let (player, mut engine) = Player::new(PlayerConfig::offline(RATE)).expect("player");
    player.set_cache(cache.cloned());
    player.load(&list);
    player.set_auto_advance(false);
    player.play_song(song);
    common::render_until_stopped(&player, &mut engine, 512, FRAMES)
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "render lengths");
    common::max_abs_diff(a, b)
}

fn chunk_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("cache dir").flatten() {
        if entry.path().is_dir() {
            for f in std::fs::read_dir(entry.path())
                .expect("entry dir")
                .flatten()
            {
                if f.path().extension().is_some_and(|e| e == "tc") {
                    files.push(f.path());
                }
            }
        }
    }
    files.sort();
    files
}

fn link(dir: &Path) -> Arc<CacheLink> {
    CacheLink::open(&CacheConfig {
        dir: dir.to_path_buf(),
        policy: CachePolicy::WholeSong,
    })
    .expect("cache opens")
}

#[test]
fn second_render_comes_from_the_cache_and_sounds_the_same() {
    let dir = scratch("roundtrip");
    let cache = link(&dir);
    // Song 1: exact 16-bit 48 kHz FLAC; song 3: 24-bit 96 kHz, resampled;
    // song 2: MP3 and Ogg, lossy and resampled.
    for (song, exact) in [(0usize, true), (2, false), (1, false)] {
        let reference = render(song, None);
        let before = cache.stats().hits.load(Ordering::Relaxed);
        let first = render(song, Some(&cache));
        assert_eq!(
            max_diff(&first, &reference),
            0.0,
            "song {}: a cache miss must play the source exactly",
            song + 1
        );
        assert!(cache.flush(Duration::from_secs(60)), "cache writer stuck");
        let second = render(song, Some(&cache));
        let hits = cache.stats().hits.load(Ordering::Relaxed) - before;
        let err = max_diff(&second, &reference);
        eprintln!(
            "song {}: {hits} chunks from the cache, max |cached - source| = {err:e}",
            song + 1
        );
        assert!(hits > 0, "song {}: nothing came from the cache", song + 1);
        if exact {
            assert_eq!(
                err,
                0.0,
                "song {}: exact source must be bit-exact",
                song + 1
            );
        } else {
            // Each stem within half a 24-bit step (2^-24), summed over stems
            // with their gains: far below -100 dBFS.
            assert!(err < 1.0e-5, "song {}: {err:e} off", song + 1);
        }
    }
    let s = cache.stats();
    assert_eq!(s.write_errors.load(Ordering::Relaxed), 0);
    assert_eq!(s.corrupt.load(Ordering::Relaxed), 0);
}

#[test]
fn damaged_cache_files_are_caught_and_rebuilt() {
    let dir = scratch("damage");
    let cache = link(&dir);
    let reference = render(0, None);
    render(0, Some(&cache));
    assert!(cache.flush(Duration::from_secs(60)));
    let files = chunk_files(&dir);
    assert!(files.len() >= 6, "{} chunk files", files.len());
    // Damage every file, three ways in turn.
    for (i, f) in files.iter().enumerate() {
        let mut bytes = std::fs::read(f).expect("chunk file");
        match i % 3 {
            0 => {
                let at = (bytes.len() / 2 + i) % bytes.len();
                bytes[at] ^= 0x10;
            }
            1 => bytes.truncate(bytes.len() * 2 / 3),
            _ => bytes.clear(),
        }
        std::fs::write(f, &bytes).expect("damage");
    }
    let corrupt_before = cache.stats().corrupt.load(Ordering::Relaxed);
    let dropped_before = cache.stats().dropped_writes.load(Ordering::Relaxed);
    let out = render(0, Some(&cache));
    assert_eq!(
        max_diff(&out, &reference),
        0.0,
        "damage must never be heard"
    );
    let caught = cache.stats().corrupt.load(Ordering::Relaxed) - corrupt_before;
    eprintln!("{} files damaged, {caught} caught", files.len());
    assert_eq!(caught as usize, files.len(), "every damaged file is caught");
    // Rebuilt: the files are back and serve the source's audio again.
    // (Offline, decoding waits for the writer: nothing is dropped.)
    assert!(cache.flush(Duration::from_secs(60)));
    let dropped = cache.stats().dropped_writes.load(Ordering::Relaxed) - dropped_before;
    assert_eq!(dropped, 0);
    assert_eq!(chunk_files(&dir), files, "rebuilt");
    let again = render(0, Some(&cache));
    assert_eq!(max_diff(&again, &reference), 0.0);
}

#[test]
fn unusable_or_vanished_cache_plays_from_the_sources() {
    let reference = render(0, None);
    // A folder that cannot exist (under a regular file).
    let base = scratch("unusable");
    std::fs::create_dir_all(&base).expect("scratch");
    let file = base.join("a-file");
    std::fs::write(&file, b"not a folder").expect("file");
    let err = CacheLink::open(&CacheConfig {
        dir: file.join("chunks"),
        policy: CachePolicy::default(),
    })
    .expect_err("a cache under a file cannot open");
    eprintln!("unusable cache: {err}");
    assert!(err.to_string().contains("a-file"), "names the path: {err}");

    // The folder vanishes after the setlist was loaded: reads miss, writes
    // fail (counted), audio is the source's.
    let dir = scratch("vanished");
    let cache = link(&dir);
    let list = trax::setlist::load(&demo()).expect("demo setlist");
    let (player, mut engine) = Player::new(PlayerConfig::offline(RATE)).expect("player");
    player.set_cache(Some(Arc::clone(&cache)));
    player.load(&list);
    std::fs::remove_dir_all(&dir).expect("remove cache dir");
    player.set_auto_advance(false);
    player.play_song(0);
    let out = common::render_until_stopped(&player, &mut engine, 512, FRAMES);
    assert_eq!(max_diff(&out, &reference), 0.0);
    cache.flush(Duration::from_secs(60));
    let s = cache.stats();
    eprintln!(
        "vanished cache: {} write errors, {} hits",
        s.write_errors.load(Ordering::Relaxed),
        s.hits.load(Ordering::Relaxed)
    );
    assert!(s.write_errors.load(Ordering::Relaxed) > 0);
    assert_eq!(s.hits.load(Ordering::Relaxed), 0);
}
