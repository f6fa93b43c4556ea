//! Streaming benchmarks on corpus song 04 (30 stems, FLAC 48 kHz), printing
//! figures and ratios against peers measured in the same run on the same
//! files:
//! - time from play to first audio, cold (page cache dropped with
//!   `posix_fadvise(DONTNEED)`) and warm, vs creek (30 `ReadDiskStream`s until
//!   all are ready) and vs a naive full decode of every stem;
//! - seek to an unbuffered position until all 30 stems are ready;
//! - resident audio bytes while playing with seeks;
//! - loader CPU while idle with a song armed, vs creek's 30 idle streams;
//! - `process()` cost per 128-frame block with 30 stems;
//! - the same with the 30 stems spread over the 9 output buses vs all on
//!   main (every bus connected), and the RAM the bus buffers take;
//! - next-song gap when auto-advancing to the preloaded song.
//!
//! Run: `cargo bench --bench streaming` (add `-- --quick` for fewer runs).

#[path = "../tests/common/mod.rs"]
mod common;
mod shared;

use shared::{median, process_cpu_secs, until_playing, BLOCK};

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use creek::{ReadDiskStream, ReadStreamOptions, SeekMode, SymphoniaDecoder};
use rayon::prelude::*;
use trax::{Player, PlayerConfig};

const ENGINE_HZ: u32 = 48_000;

fn song04() -> PathBuf {
    common::corpus().join("songs/04_frozen_bubble_30stems")
}

fn stems(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("song folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| trax::setlist::is_audio_file(p))
        .collect();
    v.sort();
    v
}

/// Drops `files` from the page cache (clean pages only; best effort).
fn drop_page_cache(files: &[PathBuf]) {
    use std::os::fd::AsRawFd;
    for f in files {
        if let Ok(file) = std::fs::File::open(f) {
            // Advisory: the result is ignored.
            let _ = fadvise_dontneed(file.as_raw_fd());
        }
    }
}

fn fadvise_dontneed(fd: i32) -> i32 {
    // SAFETY: posix_fadvise only reads its integer arguments; `fd` is open.
    unsafe { libc::posix_fadvise(fd, 0, 0, libc::POSIX_FADV_DONTNEED) }
}

fn trax_first_audio(files: &[PathBuf], cold: bool) -> f64 {
    let list = trax::setlist::load(&song04()).expect("setlist");
    let (player, mut engine) = Player::new(PlayerConfig::realtime(ENGINE_HZ)).expect("player");
    player.load(&list);
    engine.process(&mut [], &mut []);
    if cold {
        drop_page_cache(files);
    }
    let t0 = Instant::now();
    player.play_song(0);
    until_playing(&player, &mut engine, t0).as_secs_f64() * 1e3
}

/// One creek stream per file, as creek's README sets them up: cache the
/// start, seek there.
fn open_creek_streams(files: &[PathBuf]) -> Vec<ReadDiskStream<SymphoniaDecoder>> {
    files
        .iter()
        .map(|f| {
            let mut s =
                ReadDiskStream::new(f, 0, ReadStreamOptions::default()).expect("creek open");
            let _ = s.cache(0, 0);
            s.seek(0, SeekMode::Auto).expect("creek seek");
            s
        })
        .collect()
}

fn creek_first_audio(files: &[PathBuf], cold: bool) -> f64 {
    if cold {
        drop_page_cache(files);
    }
    let t0 = Instant::now();
    let mut streams = open_creek_streams(files);
    loop {
        let mut ready = true;
        for s in &mut streams {
            ready &= s.is_ready().expect("creek");
        }
        if ready {
            return t0.elapsed().as_secs_f64() * 1e3;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "creek streams never became ready"
        );
        std::thread::sleep(Duration::from_micros(100));
    }
}

fn naive_first_audio(files: &[PathBuf], cold: bool, pool: &rayon::ThreadPool) -> f64 {
    if cold {
        drop_page_cache(files);
    }
    let t0 = Instant::now();
    let total: usize = pool.install(|| {
        files
            .par_iter()
            .map(|f| common::symphonia_full_decode(f).2.len())
            .sum()
    });
    assert!(total > 0);
    t0.elapsed().as_secs_f64() * 1e3
}

fn first_audio(runs: usize) {
    let files = stems(&song04());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool");
    println!(
        "\n## Time from play to first audio, song 04 ({} stems), median of {runs}",
        files.len()
    );
    println!(
        "{:<6} {:>10} {:>10} {:>12} {:>14} {:>14}",
        "cache", "trax ms", "creek ms", "naive ms", "creek/trax", "naive/trax"
    );
    for cold in [true, false] {
        let mut t = Vec::new();
        let mut c = Vec::new();
        let mut n = Vec::new();
        for _ in 0..runs {
            t.push(trax_first_audio(&files, cold));
            c.push(creek_first_audio(&files, cold));
            n.push(naive_first_audio(&files, cold, &pool));
        }
        let (t, c, n) = (median(t), median(c), median(n));
        println!(
            "{:<6} {:>10.1} {:>10.1} {:>12.1} {:>13.1}x {:>13.1}x",
            if cold { "cold" } else { "warm" },
            t,
            c,
            n,
            c / t,
            n / t
        );
    }
}

/// A realtime player with song 04 loaded and playing.
fn play_song04() -> (Player, trax::Engine) {
    let list = trax::setlist::load(&song04()).expect("setlist");
    let (player, mut engine) = Player::new(PlayerConfig::realtime(ENGINE_HZ)).expect("player");
    player.load(&list);
    let t0 = Instant::now();
    player.play_song(0);
    until_playing(&player, &mut engine, t0);
    (player, engine)
}

/// Plays song 04 and seeks to positions outside the resident window;
/// returns (median seek-to-ready ms, peak resident bytes, pool bytes).
fn seeks(runs: usize, cold: bool) -> (f64, u64, u64) {
    let files = stems(&song04());
    let (player, mut engine) = play_song04();
    let stats = player.engine_stats().clone();
    let mut l = [0.0f32; BLOCK];
    let mut r = [0.0f32; BLOCK];
    let mut times = Vec::new();
    let len = 1_440_000u64;
    for i in 0..runs {
        // Play a little at real time, then seek ≥ 4 s away.
        let until = Instant::now() + Duration::from_millis(300);
        while Instant::now() < until {
            engine.process(&mut l, &mut r);
            std::thread::sleep(Duration::from_micros(2_600));
        }
        let now = stats.deck_position_frames(stats.active_deck().unwrap_or(0));
        let target = (now + 200_000 + (i as u64 * 337_000) % 900_000) % (len - 100_000);
        if cold {
            drop_page_cache(&files);
        }
        let took = shared::seek_until_ready(&player, &mut engine, target);
        times.push(took.as_secs_f64() * 1e3);
    }
    let peak = player.peak_resident_bytes();
    let pool = player
        .loader_stats()
        .pool_bytes
        .load(std::sync::atomic::Ordering::Relaxed);
    (median(times), peak, pool)
}

fn idle_cpu(secs: f64) {
    let files = stems(&song04());
    // Trax: the song is armed (cued to start, first chunks resident), paused.
    let (player, mut engine) = play_song04();
    player.pause();
    let mut l = [0.0f32; BLOCK];
    let mut r = [0.0f32; BLOCK];
    for _ in 0..50 {
        engine.process(&mut l, &mut r);
    }
    std::thread::sleep(Duration::from_millis(500));
    let c0 = process_cpu_secs();
    std::thread::sleep(Duration::from_secs_f64(secs));
    let trax = (process_cpu_secs() - c0) / secs * 100.0;
    drop(player);
    drop(engine);
    // creek: 30 streams opened and ready, nobody reading.
    let mut streams = open_creek_streams(&files);
    for s in &mut streams {
        s.block_until_ready().expect("creek");
    }
    let c0 = process_cpu_secs();
    std::thread::sleep(Duration::from_secs_f64(secs));
    let creek = (process_cpu_secs() - c0) / secs * 100.0;
    drop(streams);
    println!("\n## CPU while idle with a song armed ({secs:.0} s, whole process)");
    println!("trax loader: {trax:.2} % of a core; creek, 30 streams: {creek:.2} % of a core; creek/trax {:.0}x", creek / trax.max(0.01));
}

fn process_cost(blocks: usize) {
    let (player, mut engine) = play_song04();
    let stats = player.engine_stats().clone();
    let mut l = [0.0f32; BLOCK];
    let mut r = [0.0f32; BLOCK];
    let block_secs = BLOCK as f64 / ENGINE_HZ as f64;
    let mut times = Vec::with_capacity(blocks);
    let underruns = stats.underrun_blocks();
    let start = Instant::now();
    for i in 0..blocks {
        let t = Instant::now();
        engine.process(&mut l, &mut r);
        times.push(t.elapsed().as_secs_f64());
        let due = start + Duration::from_secs_f64((i + 1) as f64 * block_secs);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    let p99 = {
        let mut t = times.clone();
        t.sort_by(|a, b| a.total_cmp(b));
        t[t.len() * 99 / 100]
    };
    println!("\n## process() per {BLOCK}-frame block, 30 stems, {blocks} blocks at real time");
    println!(
        "mean {:.1} µs = {:.2} % of the block's {:.2} ms; p99 {:.1} µs = {:.2} %; underruns during the run: {}",
        mean * 1e6,
        mean / block_secs * 100.0,
        block_secs * 1e3,
        p99 * 1e6,
        p99 / block_secs * 100.0,
        stats.underrun_blocks() - underruns
    );
}

/// `process_buses()` per block with every bus connected: song 04's 30 stems
/// all on main, then spread over the 9 buses (stem `i` on bus `i % 9`),
/// alternating in rounds in one process, at real time.
fn bus_cost(blocks: usize) {
    use trax::bridge::{Bus, StemMix, BUS_CHANNELS, BUS_COUNT};
    let (player, mut engine) = play_song04();
    let mut channels = vec![[0.0f32; BLOCK]; BUS_CHANNELS];
    let block_secs = BLOCK as f64 / ENGINE_HZ as f64;
    let route = |spread: bool| {
        for stem in 0..30 {
            let bus = if spread {
                Bus::from_index(stem % BUS_COUNT).unwrap_or_default()
            } else {
                Bus::Main
            };
            player.set_stem_mix(
                0,
                stem,
                StemMix {
                    bus,
                    ..StemMix::default()
                },
            );
        }
    };
    let mut times = [Vec::new(), Vec::new()];
    for round in 0..8 {
        let spread = round % 2 == 1;
        route(spread);
        let start = Instant::now();
        for i in 0..blocks / 8 {
            let mut refs: [&mut [f32]; BUS_CHANNELS] = Default::default();
            for (r, c) in refs.iter_mut().zip(channels.iter_mut()) {
                *r = &mut c[..];
            }
            let mut out = trax::Outputs::new(refs);
            let t = Instant::now();
            engine.process_buses(&mut out);
            // The first blocks after a re-route take the mix change.
            if i >= 8 {
                times[usize::from(spread)].push(t.elapsed().as_secs_f64());
            }
            let due = start + Duration::from_secs_f64((i + 1) as f64 * block_secs);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
    }
    let mean = |t: &[f64]| t.iter().sum::<f64>() / t.len().max(1) as f64;
    let (main, spread) = (mean(&times[0]), mean(&times[1]));
    println!("\n## process_buses() per {BLOCK}-frame block, 30 stems, every bus connected");
    println!(
        "all on main {:.1} µs, spread over 9 buses {:.1} µs: ratio {:.2}x (target <= 1.2x)",
        main * 1e6,
        spread * 1e6,
        spread / main
    );
    // The aux delays are as long as the auto-master's latency (this engine
    // runs without the chain, as `trax render` does; the plugin has it).
    let latency = trax::engine::master::Chain::new(ENGINE_HZ).latency_frames();
    let blocks_bytes = 3 * BUS_CHANNELS * trax::engine::SUB_BLOCK_FRAMES * 4;
    let delays_bytes = (BUS_COUNT - 1) * 2 * latency * 4;
    println!(
        "bus buffers: 3 sub-blocks of every bus {} KiB + the plugin's aux delays ({latency} frames each) {:.1} KiB",
        blocks_bytes / 1024,
        delays_bytes as f64 / 1024.0
    );
}

fn next_song_gap() {
    // Two corpus songs; start 1 s before the end of the first.
    let dir = std::env::temp_dir().join(format!("trax-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let setlist = dir.join("two.json");
    let corpus = common::corpus();
    let mut text = String::from("{\"songs\": [");
    for (i, song) in ["04_frozen_bubble_30stems", "02_bach_bwv190_7"]
        .iter()
        .enumerate()
    {
        if i > 0 {
            text.push(',');
        }
        let files: Vec<String> = stems(&corpus.join("songs").join(song))
            .iter()
            .map(|p| format!("{{\"file\": {:?}}}", p.display().to_string()))
            .collect();
        text.push_str(&format!("{{\"stems\": [{}]}}", files.join(",")));
    }
    text.push_str("]}");
    std::fs::write(&setlist, text).expect("write");
    let list = trax::setlist::load(&setlist).expect("setlist");
    let (player, mut engine) = Player::new(PlayerConfig::realtime(ENGINE_HZ)).expect("player");
    player.load(&list);
    let stats = player.engine_stats().clone();
    let t0 = Instant::now();
    player.play_song_at(0, 1_440_000 - 48_000);
    until_playing(&player, &mut engine, t0);
    let mut l = [0.0f32; BLOCK];
    let mut r = [0.0f32; BLOCK];
    let gated = stats.gated_frames();
    let start = Instant::now();
    let mut blocks = 0u64;
    while stats.active_song() != Some(1) && blocks < 2000 {
        engine.process(&mut l, &mut r);
        blocks += 1;
        let due = start + Duration::from_secs_f64(blocks as f64 * BLOCK as f64 / ENGINE_HZ as f64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    println!("\n## Auto-advance to the preloaded next song (30 stems → 16 stems)");
    println!(
        "next song audible after {blocks} blocks of the 1 s tail; gap: {} frames (0 = the next song starts in the block the last one ends)",
        stats.gated_frames() - gated
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    // `--only NAME` runs one part: first-audio, seek, idle, process, buses, next.
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let run = |name: &str| only.as_deref().is_none_or(|o| o == name);
    let runs = if quick { 3 } else { 7 };
    println!("# Trax streaming benchmarks (engine {ENGINE_HZ} Hz, corpus song 04: 30 stems FLAC 16-bit 48 kHz)");
    if run("first-audio") {
        first_audio(runs);
    }
    if run("seek") {
        println!(
            "\n## Seek to an unbuffered position until all 30 stems are ready, median of {}",
            runs * 2
        );
        for cold in [false, true] {
            let (ms, peak, pool) = seeks(runs * 2, cold);
            println!(
                "{}: {ms:.1} ms; peak resident audio {:.1} MB (slot pool {:.1} MB)",
                if cold {
                    "cold page cache"
                } else {
                    "warm page cache"
                },
                peak as f64 / 1e6,
                pool as f64 / 1e6
            );
        }
    }
    if run("idle") {
        idle_cpu(if quick { 3.0 } else { 10.0 });
    }
    if run("process") {
        process_cost(if quick { 1000 } else { 4000 });
    }
    if run("buses") {
        bus_cost(if quick { 2000 } else { 8000 });
    }
    if run("next") {
        next_song_gap();
    }
}
