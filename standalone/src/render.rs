//! CONTROL THREAD (the CLI): `trax render` and `trax probe`.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use trax::offline::{Driver, Stop, Wait};

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use rand::{Rng, SeedableRng};
use trax::bridge::TransportState;
use trax::{Player, PlayerConfig};

/// Arguments of `trax render`.
#[derive(Args)]
pub struct RenderArgs {
    /// Setlist file (.toml or .json) or folder.
    pub setlist: PathBuf,
    /// Output WAV file (32-bit float, stereo, at --rate).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Render only this song (1-based); default: the whole setlist with
    /// auto-advance.
    #[arg(long)]
    pub song: Option<usize>,
    /// Frames per process() call.
    #[arg(long, default_value_t = 512)]
    pub block_frames: usize,
    /// Engine rate, Hz.
    #[arg(long, default_value_t = 48_000)]
    pub rate: u32,
    /// Pace blocks at real time: the engine never waits for the loader, so
    /// underruns are honest.
    #[arg(long)]
    pub realtime: bool,
    /// Seek to a random position every SECS seconds of output.
    #[arg(long, value_name = "SECS")]
    pub seek_every: Option<f64>,
    /// With --seek-every: seeks per song, after which the song plays to its
    /// end (random seeks alone would never reach it).
    #[arg(long, default_value_t = 4)]
    pub seeks_per_song: u64,
    /// Seed for --seek-every.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Loader threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub loader_threads: usize,
    /// Delay the loader adds after each decoded block, in ms: simulates slow
    /// storage to show underrun handling.
    #[arg(long, default_value_t = 0.0, value_name = "MS")]
    pub read_delay_ms: f64,
    /// Chunk cache folder (default: $TRAX_CACHE_DIR, else the platform's
    /// cache folder, e.g. ~/.cache/trax/chunks); its settings give the
    /// policy.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Decode every chunk from its source (no chunk cache).
    #[arg(long)]
    pub no_cache: bool,
    /// Master every song: analyse it first (or use its stored analysis),
    /// then play it through the auto-master chain to the target. The file
    /// is aligned with the song (the chain's lookahead is compensated).
    #[arg(long)]
    pub auto_master: bool,
    #[command(flatten)]
    pub master: crate::analyze_cmd::MasterArgs,
}

#[derive(Default, Clone)]
struct SongReport {
    name: String,
    played: bool,
    /// Wall time from the play request to the first block of the song.
    first_audio_ms: Option<f64>,
    /// Output frames of silence between the previous song's end and this
    /// one's start (auto-advance; 0 = gapless).
    gap_frames: Option<u64>,
    underruns: u64,
    underrun_frames: u64,
    peak_resident_bytes: u64,
    seeks: u64,
}

/// Analyses the setlist's songs (stored analyses first), fits each one's
/// auto-master settings to `targets` and hands them to the player, then
/// switches the auto-master on.
fn master_setlist(
    args: &RenderArgs,
    list: &trax::setlist::Setlist,
    player: &Player,
    prepared: &trax::loader::prepare::PreparedSetlist,
    cache: Option<std::sync::Arc<trax::loader::CacheLink>>,
    targets: &trax::analysis::MasterTargets,
) {
    let store = cache
        .as_ref()
        .and_then(|c| trax::analysis::AnalysisStore::open(c.dir()).ok());
    let options = trax::analysis::AnalyzeOptions {
        cache,
        store,
        background: false,
    };
    let analyses = crate::analyze_cmd::analyze_setlist(list, args.rate, &options);
    let fitted = crate::analyze_cmd::fit_setlist(list, &analyses, targets);
    for (i, f) in fitted.iter().enumerate() {
        match f {
            Some(f) => {
                eprintln!(
                    "  auto-master song {}: {:+.1} dB gain, tone {:?} dB, target {:.1} LUFS",
                    i + 1,
                    f.master.gain_db,
                    f.master.tone_db,
                    f.target_lufs
                );
                player.set_song_master(prepared.epoch, i, f.master);
            }
            None => eprintln!("  auto-master song {}: not analysed, played as is", i + 1),
        }
    }
    player.set_auto_master(true, false);
}

/// Prints a setlist's songs, stems and problems.
pub fn probe(setlist: &Path, rate: u32) -> Result<()> {
    let list = trax::setlist::load(setlist)?;
    let (player, _engine) = Player::new(PlayerConfig::offline(rate))?;
    let prepared = player.load(&list);
    println!(
        "setlist {:?}: {} songs",
        prepared.name,
        prepared.songs.len()
    );
    for (i, song) in prepared.songs.iter().enumerate() {
        println!(
            "{:>3}. {} ({:.2} s, {} stems)",
            i + 1,
            song.name,
            song.length_frames as f64 / rate as f64,
            song.stems.len()
        );
        for st in &song.stems {
            match &st.info {
                Some(info) => println!(
                    "       {:<28} {:>6} {:>6} Hz {} ch {:>9} frames",
                    st.name, info.codec, info.sample_rate_hz, info.file_channels, info.frames
                ),
                None => println!("       {:<28} (cannot play)", st.name),
            }
        }
    }
    for p in player.problems() {
        println!("problem: {p}");
    }
    Ok(())
}

/// Runs `trax render`.
pub fn run(args: &RenderArgs) -> Result<()> {
    if args.block_frames == 0 || args.block_frames > 65_536 {
        bail!("--block-frames must be 1 ..= 65536");
    }
    let list = trax::setlist::load(&args.setlist)?;
    let config = if args.realtime {
        PlayerConfig::realtime(args.rate)
    } else {
        PlayerConfig::offline(args.rate)
    };
    let targets = args.master.targets()?;
    let config = PlayerConfig {
        mastering: args.auto_master,
        loader_threads: args.loader_threads,
        read_delay: Duration::from_secs_f64(args.read_delay_ms.max(0.0) / 1e3),
        ..config
    };
    let (player, mut engine) = Player::new(config)?;
    let cache = if args.no_cache {
        None
    } else {
        args.cache_dir
            .clone()
            .map(trax::loader::CacheConfig::for_dir)
            .or_else(trax::loader::CacheConfig::from_environment)
    };
    let cache = cache.and_then(|c| match trax::loader::CacheLink::open(&c) {
        Ok(link) => Some(link),
        Err(e) => {
            eprintln!("warning: chunk cache off: {e}");
            None
        }
    });
    player.set_cache(cache.clone());
    let load_start = Instant::now();
    let prepared = player.load(&list);
    let load_ms = load_start.elapsed().as_secs_f64() * 1e3;
    let songs: Vec<usize> = match args.song {
        Some(n) if n >= 1 && n <= prepared.songs.len() => vec![n - 1],
        Some(n) => bail!(
            "--song {n}: the setlist has {} songs (1 ..= {})",
            prepared.songs.len(),
            prepared.songs.len()
        ),
        None => (0..prepared.songs.len()).collect(),
    };
    let total_frames: u64 = songs.iter().map(|&s| prepared.songs[s].length_frames).sum();
    eprintln!(
        "{}: {} songs, {} stems, probed in {load_ms:.1} ms",
        args.setlist.display(),
        prepared.songs.len(),
        list.stem_count()
    );
    for p in player.problems() {
        eprintln!("  {p}");
    }
    if args.auto_master {
        master_setlist(args, &list, &player, &prepared, cache.clone(), &targets);
    }
    // The chain's lookahead delays the output: the first `latency` frames
    // are dropped and as many are rendered after the end.
    let latency = engine.latency_frames();
    let mut to_skip = latency;

    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: args.rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut wav = hound::WavWriter::create(&args.output, spec)
        .with_context(|| format!("cannot create {}", args.output.display()))?;

    let bar = if args.realtime {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::new(total_frames);
        b.set_style(
            ProgressStyle::with_template("{bar:40} {percent:>3}% {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    };

    let mut reports: Vec<SongReport> = prepared
        .songs
        .iter()
        .map(|s| SongReport {
            name: s.name.clone(),
            ..SongReport::default()
        })
        .collect();
    let stats = player.engine_stats().clone();
    let loader_stats = player.loader_stats().clone();
    player.set_auto_advance(args.song.is_none());
    let first = songs[0];
    let requested_at = Instant::now();
    let mut gated_at_change = 0u64;
    player.play_song(first);

    let block = args.block_frames;
    let mut left = vec![0.0f32; block];
    let mut right = vec![0.0f32; block];
    let rate = args.rate as f64;
    let start = Instant::now();
    let mut output_frames = 0u64;
    let mut current: Option<usize> = None;
    let mut started_any = false;
    let mut underruns_at_start = 0u64;
    let mut underrun_frames_at_start = 0u64;
    let mut rng = rand::rngs::StdRng::seed_from_u64(args.seed);
    let seek_every_frames = args.seek_every.map(|s| (s * rate).max(1.0) as u64);
    let mut next_seek = seek_every_frames;
    let mut driver = Driver::new(Wait::Player(&player));

    loop {
        // One block: offline renders wait here for the loader.
        let done = if args.realtime {
            engine.process(&mut left, &mut right)
        } else {
            match driver.render(&mut engine, &mut left, &mut right) {
                Ok(rendered) => rendered.frames,
                Err(Stop::Stalled { .. } | Stop::Cancelled { .. }) => bail!(
                    "the loader made no progress for {} s",
                    trax::offline::STALL_LIMIT.as_secs()
                ),
            }
        };
        let skip = to_skip.min(done);
        to_skip -= skip;
        for i in skip..done {
            wav.write_sample(left[i])?;
            wav.write_sample(right[i])?;
        }
        output_frames += done as u64;
        bar.set_position(output_frames.min(total_frames));

        // Song changes and per-song figures.
        let active = stats.active_song();
        if active != current {
            if let Some(prev) = current {
                let r = &mut reports[prev];
                r.underruns += stats.underrun_blocks() - underruns_at_start;
                r.underrun_frames += stats.underrun_frames() - underrun_frames_at_start;
            }
            underruns_at_start = stats.underrun_blocks();
            underrun_frames_at_start = stats.underrun_frames();
            if let Some(song) = active {
                let gated = stats.gated_frames();
                let r = &mut reports[song];
                r.played = true;
                if !started_any {
                    r.first_audio_ms = Some(requested_at.elapsed().as_secs_f64() * 1e3);
                } else if r.gap_frames.is_none() {
                    r.gap_frames = Some(gated - gated_at_change);
                }
                started_any = true;
                bar.set_message(prepared.songs[song].name.clone());
            }
            current = active;
            gated_at_change = stats.gated_frames();
        }
        if let Some(song) = current {
            let r = &mut reports[song];
            r.peak_resident_bytes = r
                .peak_resident_bytes
                .max(loader_stats.resident_bytes.load(Ordering::Relaxed));
            if let (Some(every), Some(at)) = (seek_every_frames, next_seek) {
                if output_frames >= at {
                    let len = prepared.songs[song].length_frames;
                    if len > 0 && r.seeks < args.seeks_per_song {
                        // Keep clear of the last 2 s so the song still ends.
                        let hi = len.saturating_sub(2 * args.rate as u64).max(1);
                        let cues = stats.cues_taken();
                        player.seek(rng.gen_range(0..hi));
                        r.seeks += 1;
                        if !args.realtime {
                            // Offline the seek lands on the next frame
                            // rendered (the file does not depend on how
                            // fast the loader's thread answers).
                            let since = Instant::now();
                            while stats.cues_taken() == cues {
                                if since.elapsed() > Duration::from_secs(30) {
                                    bail!("the loader did not take a seek for 30 s");
                                }
                                engine.take_commands();
                                std::thread::sleep(Duration::from_micros(100));
                            }
                        }
                    }
                    next_seek = Some(at + every);
                }
            }
        }
        if started_any && current.is_none() && stats.transport() == TransportState::Stopped {
            break;
        }
        if args.realtime {
            let due = start + Duration::from_secs_f64(output_frames as f64 / rate);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        } else if output_frames % (trax::bridge::CHUNK_FRAMES as u64 / 4) < block as u64 {
            player.nudge();
        }
        if output_frames > total_frames + 60 * args.rate as u64 && !args.realtime {
            bail!("render ran past the setlist's length: the transport did not stop");
        }
        if args.realtime && output_frames > total_frames * 4 + 600 * args.rate as u64 {
            bail!("realtime render ran far past the setlist's length");
        }
    }
    if let Some(prev) = current {
        let r = &mut reports[prev];
        r.underruns += stats.underrun_blocks() - underruns_at_start;
        r.underrun_frames += stats.underrun_frames() - underrun_frames_at_start;
    }
    bar.finish_and_clear();
    let tail = latency - to_skip;
    if tail > 0 {
        let (mut l, mut r) = (vec![0.0f32; tail], vec![0.0f32; tail]);
        engine.render_tail(&mut l, &mut r);
        for (a, b) in l.iter().zip(&r) {
            wav.write_sample(*a)?;
            wav.write_sample(*b)?;
        }
    }
    wav.finalize()?;

    let chunks = loader_stats.chunks_loaded.lock().clone();
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "rendered {} frames ({:.2} s of audio) in {:.2} s to {} ({})",
        output_frames,
        output_frames as f64 / rate,
        elapsed,
        args.output.display(),
        if args.realtime {
            "realtime-paced"
        } else {
            "offline"
        }
    );
    println!(
        "{:<4} {:<40} {:>14} {:>10} {:>14} {:>8} {:>18}",
        "song", "name", "first audio", "underruns", "late frames", "chunks", "peak resident"
    );
    for &s in &songs {
        let r = &reports[s];
        let first = match (r.played, r.first_audio_ms, r.gap_frames) {
            (true, Some(ms), _) => format!("{ms:.1} ms"),
            (true, None, Some(0)) => "gapless".into(),
            (true, None, Some(gap)) => format!("gap {:.1} ms", gap as f64 * 1e3 / rate),
            _ => "not played".into(),
        };
        println!(
            "{:<4} {:<40} {:>14} {:>10} {:>14} {:>8} {:>15.1} MB",
            s + 1,
            truncate(&r.name, 40),
            first,
            r.underruns,
            r.underrun_frames,
            chunks.get(s).copied().unwrap_or(0),
            r.peak_resident_bytes as f64 / 1e6
        );
    }
    let seeks: u64 = reports.iter().map(|r| r.seeks).sum();
    println!(
        "total: {} underruns ({} late stem-frames), {} seeks, peak resident audio {:.1} MB (pool {:.1} MB), {} commands dropped",
        stats.underrun_blocks(),
        stats.underrun_frames(),
        seeks,
        player.peak_resident_bytes() as f64 / 1e6,
        loader_stats.pool_bytes.load(Ordering::Relaxed) as f64 / 1e6,
        stats.commands_dropped()
    );
    if let Some(link) = &cache {
        link.flush(Duration::from_secs(60));
        let c = link.stats();
        println!(
            "cache {} ({}): {} chunks from the cache, {} decoded, {} written, {} dropped (writer behind), {} write errors",
            link.dir().display(),
            link.policy(),
            c.hits.load(Ordering::Relaxed),
            c.misses.load(Ordering::Relaxed),
            c.writes.load(Ordering::Relaxed),
            c.dropped_writes.load(Ordering::Relaxed),
            c.write_errors.load(Ordering::Relaxed)
        );
    } else {
        println!("cache: off");
    }
    let problems = player.problems();
    if !problems.is_empty() {
        println!("{} problems:", problems.len());
        for p in problems {
            println!("  {p}");
        }
    }
    Ok(())
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}
