//! The loader through the chunk cache, on the demo setlist (FLAC 16-bit
//! 48 kHz with a mono stem; MP3 + Ogg at 44.1 kHz; FLAC 24-bit 96 kHz):
//! - a first render fills the cache and sounds exactly as without it;
//! - a second render is served from the cache, bit-identical to the first
//!   for every source (exact 16/24-bit, resampled, lossy);
//! - damaged cache files (a flipped byte, a truncation, an empty file) are
//!   caught, removed, decoded from the source and written again;
//! - an unusable, vanished, read-only or full cache folder means playing
//!   from the sources, exactly, with the failures counted and one warning
//!   naming the folder and the cause.

use crate::common;

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

/// Every log line of this test binary (a global subscriber: warnings come
/// from the loader's threads).
fn log_lines() -> &'static std::sync::Mutex<Vec<String>> {
    static LINES: std::sync::OnceLock<std::sync::Mutex<Vec<String>>> = std::sync::OnceLock::new();
    LINES.get_or_init(|| {
        struct Capture;
        impl std::io::Write for Capture {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                let text = String::from_utf8_lossy(buf).into_owned();
                eprint!("{text}");
                if let Some(lines) = LINES.get() {
                    lines.lock().unwrap_or_else(|e| e.into_inner()).push(text);
                }
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let _ = tracing_subscriber::fmt()
            .with_writer(|| Capture)
            .with_ansi(false)
            .with_max_level(tracing_subscriber::filter::LevelFilter::WARN)
            .try_init();
        std::sync::Mutex::new(Vec::new())
    })
}

/// The warnings logged so far that mention `dir`.
fn warnings_about(dir: &Path) -> Vec<String> {
    let needle = dir.display().to_string();
    log_lines()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|l| l.contains("WARN") && l.contains(&needle))
        .cloned()
        .collect()
}

/// A tmpfs of `size_bytes` mounted on `dir` (root only), unmounted when
/// dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size_bytes: u64) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_bytes}"), "tmpfs"])
            .arg(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }

    fn remount_read_only(&self) -> bool {
        std::process::Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A missing capability fails the test unless `TRAX_ALLOW_SKIP=1`.
fn cannot_test(what: &str) {
    let msg = format!("cannot test {what}: needs root with mount(8) (tmpfs) or a non-root user");
    if std::env::var_os("TRAX_ALLOW_SKIP").is_some_and(|v| v == "1") {
        eprintln!("SKIPPED: {msg}");
    } else {
        panic!("{msg} (TRAX_ALLOW_SKIP=1 skips)");
    }
}

/// Renders `song` through a new link on `dir` and checks: the audio is the
/// source's exactly, some writes failed, and exactly one warning names the
/// folder. Returns the warning.
fn plays_from_the_sources_with_one_warning(dir: &Path, song: usize, what: &str) -> String {
    let reference = render(song, None);
    let before = warnings_about(dir).len();
    let cache = link(dir);
    let out = render(song, Some(&cache));
    assert_eq!(max_diff(&out, &reference), 0.0, "{what}: audio");
    cache.flush(Duration::from_secs(60));
    let errors = cache.stats().write_errors.load(Ordering::Relaxed);
    assert!(errors > 0, "{what}: no write failed");
    let warnings = warnings_about(dir);
    assert_eq!(
        warnings.len() - before,
        1,
        "{what}: one warning, got {:?}",
        &warnings[before..]
    );
    let warning = warnings[before].trim().to_string();
    eprintln!("{what}: {errors} failed writes, warning: {warning}");
    warning
}

#[test]
fn read_only_cache_serves_hits_and_plays_the_rest_from_the_sources() {
    let dir = scratch("read-only");
    let _tmpfs = if is_root() {
        let Some(t) = Tmpfs::mount(&dir, 64 << 20) else {
            return cannot_test("a read-only cache folder");
        };
        Some(t)
    } else {
        None
    };
    // Song 1 cached; then the folder becomes read-only.
    let cache = link(&dir);
    render(0, Some(&cache));
    assert!(cache.flush(Duration::from_secs(60)));
    drop(cache);
    match &_tmpfs {
        Some(t) => assert!(t.remount_read_only(), "remount read-only"),
        None => {
            use std::os::unix::fs::PermissionsExt;
            for entry in walk(&dir) {
                let mode = if entry.is_dir() { 0o555 } else { 0o444 };
                std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(mode))
                    .expect("chmod");
            }
        }
    }
    // Song 1 still comes from the cache, exactly.
    let cache = link(&dir);
    let out = render(0, Some(&cache));
    assert_eq!(max_diff(&out, &render(0, None)), 0.0);
    assert!(
        cache.stats().hits.load(Ordering::Relaxed) > 0,
        "hits served"
    );
    drop(cache);
    // Song 2 is not cached and cannot be: sources, one warning.
    let warning = plays_from_the_sources_with_one_warning(&dir, 1, "read-only cache");
    assert!(
        warning.contains("Read-only") || warning.contains("ermission"),
        "{warning}"
    );
    if _tmpfs.is_none() {
        use std::os::unix::fs::PermissionsExt;
        for entry in walk(&dir) {
            let _ = std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o755));
        }
    }
}

/// Every folder and file under `dir` (folders first).
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    let mut i = 0;
    while i < out.len() {
        if out[i].is_dir() {
            if let Ok(list) = std::fs::read_dir(&out[i]) {
                out.extend(list.flatten().map(|e| e.path()));
            }
        }
        i += 1;
    }
    out
}

#[test]
fn full_disk_plays_from_the_sources_with_one_warning() {
    let dir = scratch("full");
    if !is_root() {
        return cannot_test("a full disk");
    }
    // 400 kB: the folder's files fit, a few chunks, then ENOSPC.
    let Some(_tmpfs) = Tmpfs::mount(&dir, 400_000) else {
        return cannot_test("a full disk");
    };
    let warning = plays_from_the_sources_with_one_warning(&dir, 0, "full disk");
    assert!(warning.contains("No space left"), "{warning}");
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
    // song 2: MP3 and Ogg, lossy and resampled. Every one bit-exact: the
    // loader rounds non-exact stems to the grid the cache stores exactly.
    for song in [0usize, 2, 1] {
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
        assert_eq!(err, 0.0, "song {}: a hit must equal the decode", song + 1);
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
    log_lines();
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
    let warnings = warnings_about(&dir);
    assert_eq!(warnings.len(), 1, "one warning: {warnings:?}");
}
