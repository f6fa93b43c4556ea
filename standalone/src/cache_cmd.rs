//! CONTROL THREAD (the CLI): `trax warm` and `trax cache
//! stats|clear|verify|budget`: the chunk cache from the command line.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use trax::cache::ChunkStore;
use trax::loader::warm::{warm_setlist, WarmProgress};
use trax::loader::{CacheConfig, CacheLink, CachePolicy, PersistedStats};

/// Where the cache is.
#[derive(Args, Debug, Clone)]
pub struct CacheDirArg {
    /// Cache folder (default: the platform's cache folder, e.g.
    /// $XDG_CACHE_HOME/trax/chunks or ~/.cache/trax/chunks).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

impl CacheDirArg {
    /// The folder to use.
    ///
    /// # Errors
    /// No folder given and no platform cache folder known.
    pub fn dir(&self) -> Result<PathBuf> {
        self.cache_dir
            .clone()
            .or_else(ChunkStore::default_dir)
            .ok_or_else(|| anyhow!("no cache folder: pass --cache-dir"))
    }
}

/// Arguments of `trax warm`.
#[derive(Args, Debug)]
pub struct WarmArgs {
    /// Setlist file (.toml/.json) or folder.
    pub setlist: PathBuf,
    /// Engine rate the cache is filled for (the host's sample rate), Hz.
    #[arg(long, default_value_t = 48_000)]
    pub rate: u32,
    /// Seconds cached from the start of every stem.
    #[arg(long, default_value_t = 60.0, value_name = "SECS")]
    pub secs: f64,
    /// Cache whole songs instead of their first `--secs`.
    #[arg(long)]
    pub whole_song: bool,
    /// Cache only the stems measured to play faster from the cache than
    /// from their source (the `auto` policy).
    #[arg(long, conflicts_with = "whole_song")]
    pub auto: bool,
    #[command(flatten)]
    pub cache: CacheDirArg,
}

/// `trax cache …`.
#[derive(Subcommand, Debug)]
pub enum CacheCommand {
    /// Bytes, entries, chunks and hit rate of the cache.
    Stats(CacheDirArg),
    /// Remove every cached chunk.
    Clear(CacheDirArg),
    /// Check every cached chunk (decode and checksums); remove bad ones.
    Verify(CacheDirArg),
    /// Show or set the folder's byte budget (shared by every process using
    /// it); a lower budget evicts least-recently-used stems at once.
    Budget(BudgetArgs),
}

/// Arguments of `trax cache budget`.
#[derive(Args, Debug)]
pub struct BudgetArgs {
    /// New budget: bytes, or with a unit (K, M, G, T, decimal; KiB, MiB,
    /// GiB binary), e.g. `10G`. The editor offers 1–50 GB; smaller values
    /// are for small disks and tests.
    #[arg(value_parser = parse_size_bytes)]
    pub size: Option<u64>,
    #[command(flatten)]
    pub cache: CacheDirArg,
}

/// Parses a byte size: `123`, `1.5G`, `500MB`, `2GiB` (decimal units K, M,
/// G, T with an optional `B`; binary KiB, MiB, GiB, TiB).
///
/// # Errors
/// Not a number with a known unit, or below 1 MB.
pub fn parse_size_bytes(text: &str) -> std::result::Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("{text:?} is not a size (e.g. 10G, 500M)"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "{text:?}: unknown unit {other:?} (K, M, G, T, KiB, MiB, GiB, TiB)"
            ))
        }
    };
    let bytes = (value * scale).round();
    if !(1e6..=1e15).contains(&bytes) {
        return Err(format!("{text:?}: a budget is 1 MB to 1 PB"));
    }
    Ok(bytes as u64)
}

/// Fills the cache for `args.setlist`: renders what the policy covers of
/// every song offline through a player that writes to the cache.
///
/// # Errors
/// The setlist or the cache folder cannot be used.
pub fn warm(args: &WarmArgs) -> Result<()> {
    let dir = args.cache.dir()?;
    let policy = if args.whole_song {
        CachePolicy::WholeSong
    } else if args.auto {
        CachePolicy::Auto(args.secs)
    } else {
        CachePolicy::FirstSecs(args.secs)
    };
    let link = CacheLink::open(&CacheConfig {
        dir: dir.clone(),
        policy,
    })
    .with_context(|| format!("cache {}", dir.display()))?;
    let list = trax::setlist::load(&args.setlist)?;
    let names: Vec<String> = list.songs.iter().map(|s| s.name.clone()).collect();
    let progress = Arc::new(WarmProgress::default());
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {percent:>3}% {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let warming = {
        let (link, progress, rate) = (Arc::clone(&link), Arc::clone(&progress), args.rate);
        std::thread::spawn(move || warm_setlist(&list, &link, rate, &progress))
    };
    while !warming.is_finished() {
        bar.set_length(progress.total_frames.load(Ordering::Relaxed));
        bar.set_position(progress.done_frames.load(Ordering::Relaxed));
        let song = progress.song.load(Ordering::Relaxed) as usize;
        bar.set_message(names.get(song).cloned().unwrap_or_default());
        std::thread::sleep(Duration::from_millis(50));
    }
    let report = warming
        .join()
        .map_err(|_| anyhow!("the warming thread panicked"))??;
    for p in &report.problems {
        eprintln!("warning: {p}");
    }
    let prepared = report.prepared;
    bar.finish_and_clear();
    let s = link.stats();
    let usage = link.store().usage()?;
    let budget = link.store().settings().budget_bytes;
    println!(
        "warmed {} songs in {:.1} s: {} chunks written ({:.1} MB), {} already cached, {} write errors; cache {}: {} entries, {} chunks, {:.1} MB of {:.1} MB budget",
        prepared.songs.len(),
        report.elapsed.as_secs_f64(),
        s.writes.load(Ordering::Relaxed),
        s.written_bytes.load(Ordering::Relaxed) as f64 / 1e6,
        s.hits.load(Ordering::Relaxed),
        s.write_errors.load(Ordering::Relaxed),
        dir.display(),
        usage.entries,
        usage.chunks,
        usage.bytes as f64 / 1e6,
        budget as f64 / 1e6
    );
    if let CachePolicy::Auto(_) = policy {
        // Speeds in samples per second, shown as × real time of a stereo
        // stem at the engine rate.
        let stereo = 2.0 * f64::from(args.rate);
        println!(
            "auto: the cache reads {:.0}× real time (stereo); a stem is cached when its source decodes {}× slower or worse",
            link.read_sps() / stereo,
            trax::loader::cache_link::AUTO_MARGIN
        );
        let decisions = link.auto_decisions();
        for (flat, stem) in prepared
            .songs
            .iter()
            .flat_map(|s| s.stems.iter())
            .enumerate()
        {
            let id = prepared
                .cache_entries
                .get(flat)
                .and_then(|e| e.as_ref())
                .map(|e| e.id());
            if let Some((_, sps, cached)) = decisions.iter().find(|(d, _, _)| Some(*d) == id) {
                println!(
                    "  {:<8} source {:>6.0}× real time  {}",
                    if *cached { "cached" } else { "skipped" },
                    sps / stereo,
                    stem.path.display()
                );
            }
        }
    }
    let evicted = s.evicted_chunks.load(Ordering::Relaxed);
    let over = s.over_budget.load(Ordering::Relaxed);
    if evicted > 0 || over > 0 {
        println!(
            "budget: {evicted} least-recently-used chunks evicted ({:.1} MB); {over} chunks not cached (the budget is full of stems in use)",
            s.evicted_bytes.load(Ordering::Relaxed) as f64 / 1e6
        );
    }
    Ok(())
}

/// Runs a `trax cache` subcommand.
///
/// # Errors
/// The cache folder cannot be opened or read.
pub fn cache(cmd: &CacheCommand) -> Result<()> {
    let arg = match cmd {
        CacheCommand::Stats(a) | CacheCommand::Clear(a) | CacheCommand::Verify(a) => a,
        CacheCommand::Budget(b) => &b.cache,
    };
    let dir = arg.dir()?;
    let store = ChunkStore::open(&dir).with_context(|| format!("cache {}", dir.display()))?;
    match cmd {
        CacheCommand::Stats(_) => print_stats(&store, &dir)?,
        CacheCommand::Budget(BudgetArgs {
            size: Some(bytes), ..
        }) => {
            let evicted = store.set_budget_bytes(*bytes)?;
            println!(
                "budget of {}: {:.1} MB; {} chunks evicted ({:.1} MB), {:.1} MB in use",
                dir.display(),
                *bytes as f64 / 1e6,
                evicted.chunks_removed,
                evicted.freed_bytes as f64 / 1e6,
                evicted.total_after_bytes as f64 / 1e6
            );
        }
        CacheCommand::Budget(BudgetArgs { size: None, .. }) => println!(
            "budget of {}: {:.1} MB",
            dir.display(),
            store.settings().budget_bytes as f64 / 1e6
        ),
        CacheCommand::Clear(_) => {
            let before = store.usage()?;
            store.clear()?;
            println!(
                "cleared {}: {} entries, {} chunks, {:.1} MB removed",
                dir.display(),
                before.entries,
                before.chunks,
                before.bytes as f64 / 1e6
            );
        }
        CacheCommand::Verify(_) => {
            let report = store.verify(|problem| eprintln!("bad: {problem}"))?;
            println!(
                "verified {}: {} chunks ok ({:.1} MB) in {} entries; {} damaged chunks removed, {} unreadable, {} bad entries removed",
                dir.display(),
                report.chunks_ok,
                report.bytes_ok as f64 / 1e6,
                report.entries_ok,
                report.chunks_removed,
                report.chunks_unreadable,
                report.entries_removed
            );
        }
    }
    Ok(())
}

fn print_stats(store: &ChunkStore, dir: &Path) -> Result<()> {
    let usage = store.usage()?;
    let s = PersistedStats::read(dir);
    let budget = store.settings().budget_bytes;
    println!("cache folder: {}", dir.display());
    println!(
        "size:         {:.1} MB in {} chunks, {} entries (stems × engine rates)",
        usage.bytes as f64 / 1e6,
        usage.chunks,
        usage.entries
    );
    println!(
        "budget:       {:.1} MB ({:.1} % used; least-recently-used stems are evicted first)",
        budget as f64 / 1e6,
        usage.bytes as f64 * 100.0 / budget.max(1) as f64
    );
    println!(
        "hit rate:     {:.1} % ({} hits, {} misses, {} damaged files rebuilt)",
        s.hit_rate() * 100.0,
        s.hits,
        s.misses,
        s.corrupt
    );
    println!(
        "written:      {} chunks, {:.1} MB; evicted {} chunks, {:.1} MB",
        s.writes,
        s.written_bytes as f64 / 1e6,
        s.evicted_chunks,
        s.evicted_bytes as f64 / 1e6
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_size_bytes;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size_bytes("10G"), Ok(10_000_000_000));
        assert_eq!(parse_size_bytes("1.5 GB"), Ok(1_500_000_000));
        assert_eq!(parse_size_bytes("500mb"), Ok(500_000_000));
        assert_eq!(parse_size_bytes("2GiB"), Ok(2 * 1024 * 1024 * 1024));
        assert_eq!(parse_size_bytes("3000000"), Ok(3_000_000));
        for bad in ["", "G", "10X", "1.2.3G", "-1G", "10", "2PB"] {
            assert!(parse_size_bytes(bad).is_err(), "{bad:?}");
        }
    }
}
