//! CONTROL THREAD (the CLI): `trax analyze`: measures every song of a setlist
//! (or fetches its stored analysis) and prints its loudness, loudness range,
//! true peak and what the auto-master will do to it. Also the auto-master
//! options `trax render` shares.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use trax::analysis::fit::{median_lufs, CEILING_RANGE_DBTP, TARGET_RANGE_LUFS};
use trax::analysis::{
    analyze_song, fit, AnalysisStore, AnalyzeOptions, AnalyzeProgress, Fitted, MasterTargets,
    SongAnalysis, TargetMode,
};
use trax::setlist::Setlist;

/// The auto-master's targets on the command line.
#[derive(Args, Debug, Clone)]
pub struct MasterArgs {
    /// Target loudness, LUFS (-23 … -8).
    #[arg(long, default_value_t = -14.0, value_name = "LUFS", allow_hyphen_values = true)]
    pub target: f32,
    /// Bring every song to the setlist's median loudness instead of
    /// --target.
    #[arg(long)]
    pub match_setlist: bool,
    /// How far each song goes toward the target, percent (0 … 100).
    #[arg(long, default_value_t = 100.0, value_name = "PERCENT")]
    pub strength: f32,
    /// The limiter's ceiling, dBTP (-6 … 0).
    #[arg(long, default_value_t = -1.0, value_name = "DBTP", allow_hyphen_values = true)]
    pub ceiling: f32,
}

impl MasterArgs {
    /// The targets, checked.
    ///
    /// # Errors
    /// A value out of its range.
    pub fn targets(&self) -> Result<MasterTargets> {
        let (lo, hi) = TARGET_RANGE_LUFS;
        if !(lo..=hi).contains(&self.target) {
            bail!("--target {} is outside {lo} … {hi} LUFS", self.target);
        }
        if !(0.0..=100.0).contains(&self.strength) {
            bail!("--strength {} is outside 0 … 100 %", self.strength);
        }
        let (lo, hi) = CEILING_RANGE_DBTP;
        if !(lo..=hi).contains(&self.ceiling) {
            bail!("--ceiling {} is outside {lo} … {hi} dBTP", self.ceiling);
        }
        Ok(MasterTargets {
            mode: if self.match_setlist {
                TargetMode::MatchSetlist
            } else {
                TargetMode::Fixed
            },
            target_lufs: self.target,
            strength: self.strength / 100.0,
            ceiling_dbtp: self.ceiling,
        })
    }
}

/// Arguments of `trax analyze`.
#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// Setlist file (.toml/.json) or folder.
    pub setlist: PathBuf,
    /// Rate the mixes are measured at (the engine rate), Hz.
    #[arg(long, default_value_t = 48_000)]
    pub rate: u32,
    /// Chunk cache folder (default: $TRAX_CACHE_DIR, else the platform's);
    /// analyses are stored beside its chunks.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// No chunk cache and no stored analyses: measure everything again.
    #[arg(long)]
    pub no_cache: bool,
    #[command(flatten)]
    pub master: MasterArgs,
}

/// Analyses every song of `list` (stored analyses first), with a progress
/// bar on stderr; `None` for a song that could not be analysed (its error
/// is printed).
pub fn analyze_setlist(
    list: &Setlist,
    rate: u32,
    options: &AnalyzeOptions,
) -> Vec<Option<SongAnalysis>> {
    let bar = ProgressBar::new(list.songs.len() as u64 * 1000);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {percent:>3}% analysing {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut out = Vec::with_capacity(list.songs.len());
    for (i, song) in list.songs.iter().enumerate() {
        bar.set_message(song.name.clone());
        let progress = Arc::new(AnalyzeProgress::default());
        let job = {
            let (song, options, progress) = (song.clone(), options.clone(), Arc::clone(&progress));
            std::thread::spawn(move || analyze_song(&song, rate, &options, &progress))
        };
        while !job.is_finished() {
            bar.set_position(i as u64 * 1000 + (progress.fraction() * 1000.0) as u64);
            std::thread::sleep(Duration::from_millis(50));
        }
        match job.join() {
            Ok(Ok(a)) => {
                for p in &a.problems {
                    bar.suspend(|| eprintln!("warning: {p}"));
                }
                out.push(Some(a));
            }
            Ok(Err(e)) => {
                bar.suspend(|| eprintln!("error: song {} \"{}\": {e}", i + 1, song.name));
                out.push(None);
            }
            Err(_) => {
                bar.suspend(|| {
                    eprintln!(
                        "error: song {} \"{}\": the analysis panicked",
                        i + 1,
                        song.name
                    )
                });
                out.push(None);
            }
        }
    }
    bar.finish_and_clear();
    out
}

/// Each song's fitted settings (`None` where there is no analysis).
pub fn fit_setlist(
    list: &Setlist,
    analyses: &[Option<SongAnalysis>],
    targets: &MasterTargets,
) -> Vec<Option<Fitted>> {
    let median = median_lufs(
        analyses
            .iter()
            .flatten()
            .map(|a| a.analysis.integrated_lufs),
    );
    analyses
        .iter()
        .zip(&list.songs)
        .map(|(a, song)| {
            a.as_ref()
                .map(|a| fit(&a.analysis, targets, median, song.master_trim_db))
        })
        .collect()
}

/// The analysis options for a cache folder choice (`None`: no cache, no
/// store).
pub fn options_for(cache_dir: Option<PathBuf>, no_cache: bool) -> AnalyzeOptions {
    let config = if no_cache {
        None
    } else {
        cache_dir
            .map(trax::loader::CacheConfig::for_dir)
            .or_else(trax::loader::CacheConfig::from_environment)
    };
    let Some(config) = config else {
        return AnalyzeOptions::default();
    };
    let cache = match trax::loader::CacheLink::open(&config) {
        Ok(link) => Some(link),
        Err(e) => {
            eprintln!("warning: chunk cache off: {e}");
            None
        }
    };
    let store = match AnalysisStore::open(&config.dir) {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("warning: analyses will not be stored: {e}");
            None
        }
    };
    AnalyzeOptions {
        cache,
        store,
        background: false,
    }
}

fn db(v: f64) -> String {
    if v.is_finite() {
        format!("{v:+.1}")
    } else {
        "-inf".into()
    }
}

/// Runs `trax analyze`.
pub fn run(args: &AnalyzeArgs) -> Result<()> {
    let targets = args.master.targets()?;
    let list = trax::setlist::load(&args.setlist)?;
    let options = options_for(args.cache_dir.clone(), args.no_cache);
    let analyses = analyze_setlist(&list, args.rate, &options);
    let fitted = fit_setlist(&list, &analyses, &targets);
    println!(
        "{:>3}  {:<32} {:>7} {:>6} {:>6} {:>7} {:>7} {:>7}  analysis",
        "#", "song", "LUFS", "LRA", "dBTP", "S max", "gain", "→ LUFS"
    );
    let mut failed = 0;
    for (i, ((song, a), f)) in list.songs.iter().zip(&analyses).zip(&fitted).enumerate() {
        let (Some(a), Some(f)) = (a, f) else {
            failed += 1;
            println!("{:>3}. {:<32} (not analysed)", i + 1, song.name);
            continue;
        };
        let m = &a.analysis;
        println!(
            "{:>3}. {:<32} {:>7} {:>6.1} {:>6} {:>7} {:>7} {:>7}  {}",
            i + 1,
            song.name.chars().take(32).collect::<String>(),
            db(m.integrated_lufs),
            m.loudness_range_lu,
            db(m.true_peak_dbtp),
            db(m.max_short_term_lufs),
            format!("{:+.1}", f.master.gain_db),
            db(f.predicted_lufs),
            if a.stored {
                "stored".to_string()
            } else {
                format!("measured in {:.1} s", a.elapsed.as_secs_f64())
            }
        );
    }
    if failed == list.songs.len() && failed > 0 {
        return Err(anyhow!("no song could be analysed"));
    }
    Ok(())
}
