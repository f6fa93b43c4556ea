//! The auto-master's costs:
//!
//! 1. The chain per 128-frame stereo block at 48 kHz, both paths computed
//!    (original delayed, mastered: gain, tone, glue, true-peak limiter),
//!    on music-like input with the limiter working, against the budget of
//!    1 % of the block's 2.67 ms.
//! 2. Looking up a stored analysis (a 4-minute song's record).
//! 3. Analysing a song in the background (one decoding thread at nice 19,
//!    as the plugin does) while another song of the setlist plays at real
//!    time through a realtime engine: how long, and the player's underruns.
//!    The song analysed is the corpus's 30-stem song, or the longest song
//!    of `TRAX_LONG_SONG` (a song folder, e.g. from
//!    `MAX_SECONDS=240 OUT=/tmp/long bash ../shared/corpus/make_corpus.sh`).
//!
//! Run: `cargo bench --bench mastering` (needs ../shared/corpus).

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use trax::analysis::{
    analyze_song, fit, AnalysisStore, AnalyzeOptions, AnalyzeProgress, MasterTargets,
};
use trax::bridge::SongMaster;
use trax::engine::master::Chain;
use trax::{Player, PlayerConfig};

const RATE_HZ: u32 = 48_000;
const BLOCK_FRAMES: usize = 128;

fn chain_cost() {
    let mut chain = Chain::new(RATE_HZ);
    chain.set_song(SongMaster {
        gain_db: 8.0,
        tone_db: [-2.0, 1.0, 2.0],
        glue_threshold_db: -16.0,
        ceiling_dbtp: -1.0,
        match_gain_db: 5.0,
    });
    chain.set_on(true);
    let tau = std::f32::consts::TAU;
    let frames = RATE_HZ as usize * 20;
    let input: Vec<[f32; 2]> = (0..frames)
        .map(|i| {
            let t = i as f32 / RATE_HZ as f32;
            let kick = if (t * 2.0).fract() < 0.05 { 0.8 } else { 0.0 };
            let x = 0.3 * (tau * 110.0 * t).sin() + 0.15 * (tau * 2750.0 * t).sin() + kick;
            [x, 0.9 * x]
        })
        .collect();
    let mut l = [0.0f32; BLOCK_FRAMES];
    let mut r = [0.0f32; BLOCK_FRAMES];
    let mut times = Vec::with_capacity(frames / BLOCK_FRAMES);
    let mut min_gain = 1.0f32;
    for block in input.chunks_exact(BLOCK_FRAMES) {
        for (i, f) in block.iter().enumerate() {
            l[i] = f[0];
            r[i] = f[1];
        }
        let t = Instant::now();
        chain.process(&mut l, &mut r);
        times.push(t.elapsed().as_secs_f64());
        min_gain = min_gain.min(chain.take_min_gain());
    }
    times.sort_by(f64::total_cmp);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    let p99 = times[times.len() * 99 / 100];
    let block_secs = BLOCK_FRAMES as f64 / f64::from(RATE_HZ);
    println!(
        "chain, {BLOCK_FRAMES}-frame stereo block at {RATE_HZ} Hz (both paths, {:.1} dB of reduction at most): \
         mean {:.2} µs ({:.2} % of the block's {:.2} ms), p99 {:.2} µs",
        -20.0 * min_gain.log10(),
        mean * 1e6,
        mean / block_secs * 100.0,
        block_secs * 1e3,
        p99 * 1e6
    );
}

fn lookup_cost() {
    let dir = tempfile_dir("trax-bench-analysis");
    let store = AnalysisStore::open(&dir).expect("store");
    // A 4-minute song's profile: a real analysis, repeated.
    let song = common::corpus().join("songs/02_bach_bwv190_7");
    let list = trax::setlist::load(&song).expect("song");
    let a = analyze_song(
        &list.songs[0],
        RATE_HZ,
        &AnalyzeOptions::default(),
        &AnalyzeProgress::default(),
    )
    .expect("analysis");
    let mut long = (*a.analysis).clone();
    while (long.profile.segments.len() as u64) < 240 * 100 {
        let (s, t) = (
            long.profile.segments.clone(),
            long.profile.tone_probe_db.clone(),
        );
        long.profile.segments.extend(s);
        long.profile.tone_probe_db.extend(t);
    }
    let key = trax::analysis::song_key(&list.songs[0], RATE_HZ);
    store.put(&key, &long).expect("put");
    let bytes = std::fs::metadata(store.dir().join(key.file_name())).map_or(0, |m| m.len());
    let mut times = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        let found = store.get(&key);
        times.push(t.elapsed().as_secs_f64());
        assert!(found.is_some());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "stored analysis lookup (a 4-minute song's record, {} KB, key from the files' metadata not included): median {:.0} µs, max {:.0} µs",
        bytes / 1000,
        times[times.len() / 2] * 1e6,
        times[times.len() - 1] * 1e6
    );
    let t = Instant::now();
    let _ = trax::analysis::song_key(&list.songs[0], RATE_HZ);
    println!(
        "  the key ({} stems' canonical paths, sizes and times): {:.0} µs",
        list.songs[0].stems.len(),
        t.elapsed().as_secs_f64() * 1e6
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn background_analysis() {
    let corpus = common::corpus();
    let analysed = std::env::var_os("TRAX_LONG_SONG")
        .map(PathBuf::from)
        .unwrap_or_else(|| corpus.join("songs/04_frozen_bubble_30stems"));
    let analysed = trax::setlist::load(&analysed).expect("song to analyse");
    let song = analysed.songs[0].clone();
    // Playing meanwhile: another corpus song at real time.
    let playing = trax::setlist::load(&corpus.join("songs/02_bach_bwv190_7")).expect("song");
    let (player, mut engine) = Player::new(PlayerConfig::realtime(RATE_HZ)).expect("player");
    player.load(&playing);
    player.play_song(0);
    let stats = Arc::clone(player.engine_stats());
    let stop = Arc::new(AtomicBool::new(false));
    let callback = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut l = [0.0f32; BLOCK_FRAMES];
            let mut r = [0.0f32; BLOCK_FRAMES];
            let period = Duration::from_secs_f64(BLOCK_FRAMES as f64 / f64::from(RATE_HZ));
            let mut due = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                engine.process(&mut l, &mut r);
                due += period;
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
        })
    };
    // Let the playing song start and settle.
    std::thread::sleep(Duration::from_millis(500));
    let underruns_before = stats.underrun_blocks();
    let options = AnalyzeOptions {
        background: true,
        ..AnalyzeOptions::default()
    };
    let t = Instant::now();
    let result =
        analyze_song(&song, RATE_HZ, &options, &AnalyzeProgress::default()).expect("analysis");
    let secs = t.elapsed().as_secs_f64();
    let underruns = stats.underrun_blocks() - underruns_before;
    stop.store(true, Ordering::Relaxed);
    let _ = callback.join();
    let length_secs = result.analysis.length_frames as f64 / f64::from(RATE_HZ);
    let fitted = fit(&result.analysis, &MasterTargets::default(), None, 0.0);
    println!(
        "background analysis of \"{}\" ({} stems, {:.0} s) while another song plays at real time: \
         {:.2} s ({:.0}× real time), {} underruns; {:.1} LUFS → gain {:+.1} dB",
        song.name,
        song.stems.len(),
        length_secs,
        secs,
        length_secs / secs,
        underruns,
        result.analysis.integrated_lufs,
        fitted.master.gain_db
    );
}

fn main() {
    if !common::corpus().join("songs").exists() {
        println!("missing ../shared/corpus: run ../shared/corpus/make_corpus.sh");
        return;
    }
    chain_cost();
    lookup_cost();
    background_analysis();
}
