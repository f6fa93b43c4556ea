//! Chunk cache benchmarks: the same 30-stem song played from its sources
//! and from the chunk cache, in one run, on the same files, for FLAC 48 kHz,
//! WAV 44.1 kHz, MP3 44.1 kHz, Ogg Vorbis and FLAC 96 kHz stems (corpus
//! stems, hard-linked under 30 names so each is its own cache entry),
//! printing ratios:
//! - time from play to first audio (all 30 stems resident), median;
//! - seek to an unbuffered position until all 30 stems are ready, median;
//! - CPU time per second of realtime-paced playback (loader and mixing);
//! - encode throughput of cache writes, and bytes on disk vs 24-bit PCM;
//! - which stems the `auto` policy caches, with the speeds it compared;
//! - underruns while the cache is being filled during a realtime-paced
//!   render (warming must never cause one).
//!
//! Page cache warm throughout (the sources and the cache alike).
//! Run: `cargo bench --bench cache` (add `-- --quick` for fewer runs).

#[path = "../tests/common/mod.rs"]
mod common;
mod shared;

use shared::{median, process_cpu_secs, until_playing, BLOCK};

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use trax::loader::{CacheConfig, CacheLink, CachePolicy};
use trax::{Player, PlayerConfig};

const ENGINE_HZ: u32 = 48_000;
const STEMS: usize = 30;

struct Set {
    name: &'static str,
    song: &'static str,
    ext: &'static [&'static str],
}

const SETS: &[Set] = &[
    Set {
        name: "FLAC 48k",
        song: "04_frozen_bubble_30stems",
        ext: &["flac"],
    },
    Set {
        name: "WAV 44.1k",
        song: "03_planetblupi_music000",
        ext: &["wav"],
    },
    Set {
        name: "MP3 44.1k",
        song: "06_planetblupi_music001_lossy",
        ext: &["mp3"],
    },
    Set {
        name: "Ogg 44.1k",
        song: "06_planetblupi_music001_lossy",
        ext: &["ogg"],
    },
    Set {
        name: "FLAC 96k",
        song: "05_planetblupi_music003_96k",
        ext: &["flac"],
    },
];

fn bench_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-cache")
}

/// A setlist of one song: 30 stems hard-linked from the set's files.
fn make_setlist(set: &Set) -> PathBuf {
    let src = common::corpus().join("songs").join(set.song);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&src)
        .expect("corpus song")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| set.ext.contains(&e))
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{}: no stems", set.name);
    let dir = bench_dir().join(set.name.replace([' ', '.'], "_"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("bench dir");
    let mut toml = format!(
        "name = \"{}\"\n[[song]]\nname = \"{}\"\n",
        set.name, set.name
    );
    for i in 0..STEMS {
        let from = &files[i % files.len()];
        let ext = from.extension().and_then(|e| e.to_str()).unwrap_or("wav");
        let name = format!("{i:02}.{ext}");
        if std::fs::hard_link(from, dir.join(&name)).is_err() {
            std::fs::copy(from, dir.join(&name)).expect("copy stem");
        }
        toml.push_str(&format!(
            "[[song.stem]]\npath = \"{name}\"\ngain_db = -12.0\n"
        ));
    }
    let path = dir.join("setlist.toml");
    std::fs::write(&path, toml).expect("setlist");
    path
}

type Prepared = Arc<trax::loader::PreparedSetlist>;

fn player(setlist: &Path, cache: Option<&Arc<CacheLink>>) -> (Player, trax::Engine, Prepared) {
    let list = trax::setlist::load(setlist).expect("setlist");
    let (player, mut engine) = Player::new(PlayerConfig::realtime(ENGINE_HZ)).expect("player");
    player.set_cache(cache.cloned());
    let prepared = player.load(&list);
    player.set_auto_advance(false);
    engine.process(&mut [], &mut []);
    (player, engine, prepared)
}

/// Plays at real time for `secs`: returns (CPU seconds used, underruns).
fn paced(player: &Player, engine: &mut trax::Engine, secs: f64) -> (f64, u64) {
    let stats = player.engine_stats().clone();
    let under = stats.underrun_blocks();
    let mut l = [0.0f32; BLOCK];
    let mut r = [0.0f32; BLOCK];
    let cpu = process_cpu_secs();
    let start = Instant::now();
    let mut frames = 0u64;
    while frames < (secs * ENGINE_HZ as f64) as u64 {
        engine.process(&mut l, &mut r);
        frames += BLOCK as u64;
        let due = start + Duration::from_secs_f64(frames as f64 / ENGINE_HZ as f64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    (process_cpu_secs() - cpu, stats.underrun_blocks() - under)
}

struct Figures {
    first_ms: f64,
    seek_ms: f64,
    cpu_pct: f64,
    underruns: u64,
}

fn measure(setlist: &Path, cache: Option<&Arc<CacheLink>>, runs: usize) -> Figures {
    let mut first = Vec::new();
    for _ in 0..runs {
        let (player, mut engine, _) = player(setlist, cache);
        let t0 = Instant::now();
        player.play_song(0);
        first.push(until_playing(&player, &mut engine, t0).as_secs_f64() * 1e3);
    }
    let (player, mut engine, prepared) = player(setlist, cache);
    player.play_song(0);
    until_playing(&player, &mut engine, Instant::now());
    let (cpu, mut underruns) = paced(&player, &mut engine, 3.0);
    let stats = player.engine_stats().clone();
    let len = prepared.songs[0].length_frames;
    let mut seeks = Vec::new();
    for i in 0..runs {
        let now = stats.deck_position_frames(stats.active_deck().unwrap_or(0));
        let target =
            (now + 200_000 + (i as u64 * 337_000) % 600_000) % len.saturating_sub(100_000).max(1);
        let took = shared::seek_until_ready(&player, &mut engine, target);
        seeks.push(took.as_secs_f64() * 1e3);
        let (_, u) = paced(&player, &mut engine, 0.3);
        underruns += u;
    }
    Figures {
        first_ms: median(first),
        seek_ms: median(seeks),
        cpu_pct: cpu / 3.0 * 100.0,
        underruns,
    }
}

/// Fills `dir` with the whole song, rendering at real time (the cache is
/// written while playing): returns (underruns, chunks written, seconds).
fn warm_realtime(setlist: &Path, link: &Arc<CacheLink>) -> (u64, u64, f64) {
    let (player, mut engine, prepared) = player(setlist, Some(link));
    let len = prepared.songs[0].length_frames;
    player.play_song(0);
    until_playing(&player, &mut engine, Instant::now());
    let (_, underruns) = paced(&player, &mut engine, len as f64 / ENGINE_HZ as f64 - 0.1);
    link.flush(Duration::from_secs(60));
    let writes = link.stats().writes.load(Ordering::Relaxed);
    (underruns, writes, len as f64 / ENGINE_HZ as f64)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runs = if quick { 3 } else { 7 };
    println!("# Chunk cache vs sources: 30 stems per song, engine 48 kHz, block {BLOCK}, median of {runs}");
    println!(
        "{:<10} {:>9} {:>9} {:>7} {:>9} {:>9} {:>7} {:>8} {:>8} {:>7} {:>10} {:>9} {:>8}",
        "set",
        "first src",
        "first $",
        "ratio",
        "seek src",
        "seek $",
        "ratio",
        "cpu src",
        "cpu $",
        "ratio",
        "encode ×rt",
        "vs 24-bit",
        "underrun"
    );
    let mut auto_lines = Vec::new();
    for set in SETS {
        let setlist = make_setlist(set);
        let dir = setlist.with_file_name("cache");
        let _ = std::fs::remove_dir_all(&dir);
        // Filled while playing at real time (measures warming underruns).
        let link = CacheLink::open(&CacheConfig {
            dir: dir.clone(),
            policy: CachePolicy::WholeSong,
        })
        .expect("cache");
        let (warm_underruns, writes, _) = warm_realtime(&setlist, &link);
        assert!(writes > 0, "{}: nothing cached", set.name);
        // Encode throughput: every cached chunk decoded, encoded again.
        let (encode_rt, ratio_24) = encode_figures(&setlist, &link);
        let uncached = measure(&setlist, None, runs);
        let cached = measure(&setlist, Some(&link), runs);
        let hits = link.stats().hits.load(Ordering::Relaxed);
        assert!(hits > 0, "{}: no hits", set.name);
        println!(
            "{:<10} {:>7.1}ms {:>7.1}ms {:>6.1}x {:>7.1}ms {:>7.1}ms {:>6.1}x {:>7.1}% {:>7.1}% {:>6.1}x {:>9.0}x {:>8.2}x {:>8}",
            set.name,
            uncached.first_ms,
            cached.first_ms,
            uncached.first_ms / cached.first_ms,
            uncached.seek_ms,
            cached.seek_ms,
            uncached.seek_ms / cached.seek_ms,
            uncached.cpu_pct,
            cached.cpu_pct,
            uncached.cpu_pct / cached.cpu_pct.max(1e-9),
            encode_rt,
            ratio_24,
            warm_underruns + uncached.underruns + cached.underruns
        );
        // The auto policy on the same stems (a fresh folder).
        let auto_dir = setlist.with_file_name("cache-auto");
        let _ = std::fs::remove_dir_all(&auto_dir);
        let auto = CacheLink::open(&CacheConfig {
            dir: auto_dir,
            policy: CachePolicy::Auto(60.0),
        })
        .expect("cache");
        // Prime the read speed with this set's own cache, then decode.
        let (p, mut e, _) = player(&setlist, Some(&auto));
        p.play_song(0);
        until_playing(&p, &mut e, Instant::now());
        paced(&p, &mut e, 1.0);
        // The speed the auto link compared with: its own hits (the prior
        // until it has some).
        let read = link_read_speed(&auto);
        let decisions = auto.auto_decisions();
        let cached_n = decisions.iter().filter(|d| d.2).count();
        let speeds: Vec<f64> = decisions
            .iter()
            .map(|d| d.1 / (2.0 * ENGINE_HZ as f64))
            .collect();
        auto_lines.push(format!(
            "{:<10} cache reads {:>5.0}x real time (as the auto link measured), sources decode {:>5.0}x (median): auto caches {cached_n} of {} stems",
            set.name,
            read,
            if speeds.is_empty() { 0.0 } else { median(speeds) },
            decisions.len()
        ));
    }
    println!("(src: decoded from the sources; $: from the chunk cache; ratio = src / $; cpu: process CPU per second of playback; underrun: blocks while warming at real time and in both measurements)");
    println!(
        "\n# The auto policy (caches a stem when its source decodes {}x slower than the cache reads; read speed calibrated at open: {:.0}x, then from its hits)",
        trax::loader::cache_link::AUTO_MARGIN,
        trax::loader::cache_link::calibrate_read_sps() / (2.0 * ENGINE_HZ as f64)
    );
    for l in auto_lines {
        println!("{l}");
    }
}

fn link_read_speed(link: &CacheLink) -> f64 {
    link.read_sps() / (2.0 * ENGINE_HZ as f64)
}

/// Reads every cached chunk of the song and writes it again (encode,
/// atomic replace): (× real time per core of the writes, bytes on disk /
/// 24-bit PCM bytes).
fn encode_figures(setlist: &Path, link: &Arc<CacheLink>) -> (f64, f64) {
    let (_player, _engine, prepared) = player(setlist, Some(link));
    let chunk = u64::from(trax::bridge::CHUNK_FRAMES);
    let (mut frames_total, mut pcm24_bytes, mut disk_bytes, mut secs) = (0u64, 0u64, 0u64, 0.0);
    let mut samples = Vec::new();
    for (flat, stem) in prepared.songs[0].stems.iter().enumerate() {
        let Some(entry) = prepared.cache_entries.get(flat).and_then(|e| e.as_ref()) else {
            continue;
        };
        for index in 0..stem.length_frames.div_ceil(chunk) {
            let frames = (stem.length_frames - index * chunk).min(chunk) as u32;
            if entry
                .read_chunk(index as u32, frames, &mut samples)
                .is_err()
            {
                continue;
            }
            let t = Instant::now();
            let w = entry.write_chunk(index as u32, &samples).expect("encode");
            secs += t.elapsed().as_secs_f64();
            disk_bytes += w.bytes_on_disk;
            frames_total += u64::from(frames);
            pcm24_bytes += u64::from(frames) * stem.channels() as u64 * 3;
        }
    }
    assert!(frames_total > 0, "nothing cached");
    (
        frames_total as f64 / ENGINE_HZ as f64 / secs.max(1e-9),
        disk_bytes as f64 / pcm24_bytes as f64,
    )
}
