//! CONTROL THREAD (the CLI): `trax soak`: a long realtime run under stress,
//! reported per interval: the setlist on auto-advance (looping), a seek at
//! random every few seconds, the auto-master switched every half minute with
//! the songs analysed in the background (as the plugin does), the chunk cache
//! at a small budget so that it evicts all the time, a second `trax` process
//! playing from the same cache folder, and busy-looping processes taking
//! cores. The audio thread is paced at real time; late data is counted as
//! underruns by the engine, as in a host.
//!
//! Per interval it prints underruns, the process's RSS, open file
//! descriptors and threads, the slot pool's use, the cache folder's bytes
//! and evictions, and problems; at the end the slopes of RSS and file
//! descriptors after the first pass through the setlist and a verdict:
//! 0 underruns, 0 problems, RSS and descriptors flat. Exits non-zero if
//! the verdict fails.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use rand::{Rng, SeedableRng};
use trax::analysis::{fit, AnalysisJobs, AnalysisStore, AnalyzeOptions, MasterTargets, SongStatus};
use trax::bridge::SongMaster;
use trax::bridge::TransportState;
use trax::loader::{CacheConfig, CacheLink, CachePolicy};
use trax::{Player, PlayerConfig};

use crate::cache_cmd::parse_size_bytes;
use crate::procstat::ProcStat;

/// Arguments of `trax soak`.
#[derive(Args)]
pub struct SoakArgs {
    /// Setlist file (.toml or .json) or folder.
    pub setlist: PathBuf,
    /// How long to run, minutes.
    #[arg(long, default_value_t = 60.0)]
    pub minutes: f64,
    /// Seconds between reports.
    #[arg(long, default_value_t = 300.0)]
    pub report_secs: f64,
    /// Seek to a random place in the song every SECS seconds.
    #[arg(long, default_value_t = 7.0, value_name = "SECS")]
    pub seek_every: f64,
    /// Switch the auto-master on or off every SECS seconds.
    #[arg(long, default_value_t = 30.0, value_name = "SECS")]
    pub toggle_every: f64,
    /// Chunk cache folder (default: a new folder under the system's
    /// temporary folder, removed at the end); its budget is set to
    /// --cache-budget and its policy to whole songs.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// The cache's byte budget: small, so that it evicts all the time.
    #[arg(long, default_value = "128MB", value_parser = parse_size_bytes)]
    pub cache_budget: u64,
    /// Engine rate, Hz.
    #[arg(long, default_value_t = 48_000)]
    pub rate: u32,
    /// Frames per process() call (256 ≈ 5.3 ms at 48 kHz).
    #[arg(long, default_value_t = 256)]
    pub block_frames: usize,
    /// Busy-looping processes to start (each takes a core).
    #[arg(long, default_value_t = 1)]
    pub busy: usize,
    /// Do not start the second `trax` process on the same cache.
    #[arg(long)]
    pub no_second_process: bool,
    /// Seed for the seeks.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// One report line's figures.
#[derive(Clone, Copy, Debug, Default)]
struct Sample {
    secs: f64,
    underrun_blocks: u64,
    underrun_frames: u64,
    late_callbacks: u64,
    rss_bytes: u64,
    fds: u64,
    threads: u64,
    slots_peak: u64,
    cache_bytes: u64,
    evicted_chunks: u64,
    problems: usize,
    cycles: u64,
}

/// Children the soak starts; killed when it ends, however it ends.
#[derive(Default)]
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The audio thread's end: paces `engine` at real time until `stop`.
fn spawn_audio(
    mut engine: trax::Engine,
    rate: u32,
    block: usize,
    stop: Arc<AtomicBool>,
    late: Arc<AtomicU64>,
) -> Result<std::thread::JoinHandle<()>> {
    trax::thread::spawn(trax::thread::TraxThread::SoakAudio, false, move || {
        let mut l = vec![0.0f32; block];
        let mut r = vec![0.0f32; block];
        let period = Duration::from_secs_f64(block as f64 / f64::from(rate));
        let start = Instant::now();
        let mut blocks = 0u64;
        while !stop.load(Ordering::Relaxed) {
            engine.process(&mut l, &mut r);
            blocks += 1;
            let due = start + period.mul_f64(blocks as f64);
            let now = Instant::now();
            if now > due + period {
                // A device with two periods of buffer would have
                // glitched here (the thread is not realtime-scheduled:
                // this counts the OS's lateness, not the loader's).
                late.fetch_add(1, Ordering::Relaxed);
            } else if due > now {
                std::thread::sleep(due - now);
            }
        }
    })
    .context("cannot start the audio thread")
}

/// The cache for the soak: `dir` (or a new temporary one) at `budget`,
/// whole songs cached.
fn open_cache(args: &SoakArgs) -> Result<(Arc<CacheLink>, PathBuf, bool)> {
    let (dir, temporary) = match &args.cache_dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("trax-soak-{}", std::process::id())),
            true,
        ),
    };
    let link = CacheLink::open(&CacheConfig {
        dir: dir.clone(),
        policy: CachePolicy::WholeSong,
    })?;
    link.store().set_budget_bytes(args.cache_budget)?;
    Ok((link, dir, temporary))
}

/// Starts `trax render` at real time on the same setlist and cache (a
/// second instance, as another host would be), one random song at a time.
fn second_process(args: &SoakArgs, dir: &Path, song: usize) -> Result<Child> {
    let exe = std::env::current_exe().context("cannot find the trax binary")?;
    Command::new(exe)
        .arg("render")
        .arg(&args.setlist)
        .args(["--realtime", "--seek-every", "11", "--seeks-per-song", "8"])
        .args([
            "--song",
            &song.to_string(),
            "--rate",
            &args.rate.to_string(),
        ])
        .arg("--cache-dir")
        .arg(dir)
        .args(["-o", "/dev/null"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start the second trax process")
}

/// Starts `n` busy-looping processes.
fn busy(n: usize, children: &mut Children) -> Result<()> {
    for _ in 0..n {
        children.0.push(
            Command::new("sh")
                .args(["-c", "while :; do :; done"])
                .spawn()
                .context("cannot start a busy-loop process")?,
        );
    }
    Ok(())
}

/// Slope of `y` against `x` (least squares), per unit of `x`; 0 with
/// fewer than two points.
fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if points.len() < 2 {
        return 0.0;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx == 0.0 {
        0.0
    } else {
        sxy / sxx
    }
}

fn print_header() {
    println!(
        "{:>7} {:>6} {:>9} {:>11} {:>6} {:>8} {:>5} {:>7} {:>11} {:>10} {:>9} {:>8} {:>6}",
        "min",
        "cycles",
        "underruns",
        "late frames",
        "late",
        "RSS MB",
        "fds",
        "threads",
        "slots",
        "cache MB",
        "evicted",
        "problems",
        ""
    );
}

fn print_sample(s: &Sample, total_slots: u64) {
    println!(
        "{:>7.1} {:>6} {:>9} {:>11} {:>6} {:>8.1} {:>5} {:>7} {:>5}/{:<5} {:>10.1} {:>9} {:>8}",
        s.secs / 60.0,
        s.cycles,
        s.underrun_blocks,
        s.underrun_frames,
        s.late_callbacks,
        s.rss_bytes as f64 / 1e6,
        s.fds,
        s.threads,
        s.slots_peak,
        total_slots,
        s.cache_bytes as f64 / 1e6,
        s.evicted_chunks,
        s.problems
    );
}

/// Runs `trax soak`.
pub fn run(args: &SoakArgs) -> Result<()> {
    if args.block_frames == 0 || args.block_frames > 8192 {
        bail!("--block-frames must be 1 ..= 8192");
    }
    let list = trax::setlist::load(&args.setlist)?;
    let (link, cache_dir, temporary_cache) = open_cache(args)?;
    let config = PlayerConfig {
        mastering: true,
        ..PlayerConfig::realtime(args.rate)
    };
    let (player, engine) = Player::new(config)?;
    player.set_cache(Some(Arc::clone(&link)));
    let prepared = player.load(&list);
    let songs = prepared.songs.len();
    if songs == 0 {
        bail!("{}: no songs", args.setlist.display());
    }
    let stems: usize = prepared.songs.iter().map(|s| s.stems.len()).sum();
    println!(
        "soak: {} ({songs} songs, {stems} stems) for {:.1} min at {} Hz, blocks of {}, a seek every {} s, \
         the auto-master switched every {} s, cache {} at {:.0} MB (whole songs), {} busy process(es), {}",
        args.setlist.display(),
        args.minutes,
        args.rate,
        args.block_frames,
        args.seek_every,
        args.toggle_every,
        cache_dir.display(),
        args.cache_budget as f64 / 1e6,
        args.busy,
        if args.no_second_process {
            "no second process"
        } else {
            "a second trax process on the same cache"
        }
    );
    let initial_problems = player.problems();
    for p in &initial_problems {
        println!("  problem at load: {p}");
    }

    let mut children = Children::default();
    busy(args.busy, &mut children)?;
    let jobs = AnalysisJobs::spawn().context("cannot start the analysis thread")?;
    jobs.set_songs(
        list.songs.clone(),
        args.rate,
        AnalyzeOptions {
            cache: Some(Arc::clone(&link)),
            store: AnalysisStore::open(&cache_dir).ok(),
            background: true,
        },
    );
    let stop = Arc::new(AtomicBool::new(false));
    let late = Arc::new(AtomicU64::new(0));
    let audio = spawn_audio(
        engine,
        args.rate,
        args.block_frames,
        Arc::clone(&stop),
        Arc::clone(&late),
    )?;
    let stats = player.engine_stats().clone();
    let loader = player.loader_stats().clone();
    let mut rng = rand::rngs::StdRng::seed_from_u64(args.seed);
    let mut second: Option<Child> = None;
    let mut sent: Vec<Option<SongMaster>> = vec![None; songs];
    let mut auto_master = false;
    let mut samples: Vec<Sample> = Vec::new();
    let mut heard = vec![false; songs];
    let mut first_cycle_secs: Option<f64> = None;
    let mut cycles = 0u64;
    let mut slots_peak = 0u64;
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(args.minutes * 60.0);
    let mut next_seek = start + Duration::from_secs_f64(args.seek_every);
    let mut next_toggle = start + Duration::from_secs_f64(args.toggle_every);
    let mut next_report = start + Duration::from_secs_f64(args.report_secs);
    player.play_song(0);
    let mut starting = true;
    while Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
        let now = Instant::now();
        slots_peak = slots_peak.max(loader.slots_in_use.load(Ordering::Relaxed));
        // The setlist loops: after the last song, the first again.
        let active = stats.active_song();
        if let Some(s) = active {
            heard[s] = true;
            if first_cycle_secs.is_none() && heard.iter().all(|h| *h) {
                first_cycle_secs = Some(start.elapsed().as_secs_f64());
            }
        }
        if active.is_some() {
            starting = false;
        } else if !starting && stats.transport() == TransportState::Stopped {
            cycles += 1;
            starting = true;
            player.play_song(0);
        }
        if now >= next_seek {
            next_seek += Duration::from_secs_f64(args.seek_every);
            if let Some(s) = active {
                let len = prepared.songs[s].length_frames;
                // Clear of the last 2 s, so that songs still end.
                let hi = len.saturating_sub(2 * u64::from(args.rate)).max(1);
                player.seek(rng.gen_range(0..hi));
            }
        }
        if now >= next_toggle {
            next_toggle += Duration::from_secs_f64(args.toggle_every);
            auto_master = !auto_master;
            player.set_auto_master(auto_master, false);
        }
        // Analyses as they come, fitted to the default targets.
        let (_, statuses) = jobs.statuses();
        for (i, status) in statuses.iter().enumerate() {
            if let (SongStatus::Ready(a), None) = (status, sent[i]) {
                let f = fit(&a.analysis, &MasterTargets::default(), None, 0.0);
                player.set_song_master(prepared.epoch, i, f.master);
                sent[i] = Some(f.master);
            }
        }
        if !args.no_second_process {
            let finished = second
                .as_mut()
                .is_none_or(|c| c.try_wait().ok().flatten().is_some());
            if finished {
                second = Some(second_process(args, &cache_dir, rng.gen_range(1..=songs))?);
            }
        }
        if now >= next_report {
            next_report += Duration::from_secs_f64(args.report_secs);
            let proc = ProcStat::read();
            let c = link.stats();
            let sample = Sample {
                secs: start.elapsed().as_secs_f64(),
                underrun_blocks: stats.underrun_blocks(),
                underrun_frames: stats.underrun_frames(),
                late_callbacks: late.load(Ordering::Relaxed),
                rss_bytes: proc.rss_bytes,
                fds: proc.fds,
                threads: proc.threads,
                slots_peak: std::mem::take(&mut slots_peak),
                cache_bytes: link.store().usage().map_or(0, |u| u.bytes),
                evicted_chunks: c.evicted_chunks.load(Ordering::Relaxed),
                problems: player.problems().len(),
                cycles,
            };
            if samples.is_empty() {
                print_header();
            }
            print_sample(&sample, loader.slots_total.load(Ordering::Relaxed));
            samples.push(sample);
        }
    }
    stop.store(true, Ordering::Relaxed);
    let _ = audio.join();
    if let Some(mut c) = second.take() {
        let _ = c.kill();
        let _ = c.wait();
    }
    drop(children);
    let problems = player.problems();
    drop(jobs);
    drop(player);
    if temporary_cache {
        let _ = std::fs::remove_dir_all(&cache_dir);
    }
    verdict(&samples, first_cycle_secs, &problems)
}

/// Prints the slopes after the first pass through the setlist and the
/// verdict.
fn verdict(
    samples: &[Sample],
    first_cycle_secs: Option<f64>,
    problems: &[trax::loader::StemProblem],
) -> Result<()> {
    let Some(last) = samples.last() else {
        bail!("the soak ended before its first report");
    };
    for p in problems {
        println!("problem: {p}");
    }
    // After the first cycle, or the second half when no cycle completed.
    let from = first_cycle_secs.unwrap_or(last.secs / 2.0);
    let after: Vec<&Sample> = samples.iter().filter(|s| s.secs >= from).collect();
    let per_10_min = |f: &dyn Fn(&Sample) -> f64| {
        slope(&after.iter().map(|s| (s.secs, f(s))).collect::<Vec<_>>()) * 600.0
    };
    let rss_slope = per_10_min(&|s| s.rss_bytes as f64 / 1e6);
    let fd_slope = per_10_min(&|s| s.fds as f64);
    let before_max = |f: &dyn Fn(&Sample) -> u64| {
        samples
            .iter()
            .filter(|s| s.secs < from)
            .map(f)
            .max()
            .unwrap_or(0)
    };
    let after_max = |f: &dyn Fn(&Sample) -> u64| after.iter().map(|s| f(s)).max().unwrap_or(0);
    let rss_grew = after_max(&|s| s.rss_bytes) as f64 / before_max(&|s| s.rss_bytes).max(1) as f64;
    let fds_grew = after_max(&|s| s.fds) as i64 - before_max(&|s| s.fds) as i64;
    println!(
        "first pass through the setlist: {}; after it ({} reports): RSS {rss_slope:+.2} MB per 10 min \
         (peak {:.0} % of the first pass's), fds {fd_slope:+.2} per 10 min (peak {fds_grew:+} on the first pass's)",
        first_cycle_secs.map_or_else(
            || "not completed (slopes over the second half)".to_string(),
            |s| format!("{:.1} min", s / 60.0)
        ),
        after.len(),
        rss_grew * 100.0
    );
    let mut failures = Vec::new();
    if last.underrun_blocks > 0 {
        failures.push(format!(
            "{} underruns ({} late stem-frames)",
            last.underrun_blocks, last.underrun_frames
        ));
    }
    if !problems.is_empty() {
        failures.push(format!("{} problems reported", problems.len()));
    }
    // Flat: after the first pass, no peak above the first pass's by more
    // than 5 % (RSS) or 16 descriptors (the open sources and cache pins
    // follow the songs on the decks).
    if first_cycle_secs.is_some() && rss_grew > 1.05 {
        failures.push(format!("RSS grew to {:.0} %", rss_grew * 100.0));
    }
    if first_cycle_secs.is_some() && fds_grew > 16 {
        failures.push(format!("{fds_grew} more file descriptors"));
    }
    if failures.is_empty() {
        println!("soak: PASS");
        Ok(())
    } else {
        bail!("soak failed: {}", failures.join("; "))
    }
}
