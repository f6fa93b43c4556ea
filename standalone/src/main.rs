//! CONTROL THREAD (the CLI's main thread): `trax`, the standalone app and
//! command-line tools.
//!
//! `trax` (no subcommand) or `trax play --setlist FILE [standalone
//! options]` runs the plugin as a standalone app (JACK, ALSA, dummy);
//! `trax render SETLIST -o OUT.wav` drives the same engine and loader the
//! plugin uses, block by block, and prints a report per song.

mod analyze_cmd;
mod cache_cmd;
mod channel_map;
mod multi_out;
mod play;
mod procstat;
mod render;
mod soak;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Trax: multi-stem setlist player.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the standalone app: the plugin on JACK, ALSA or the dummy
    /// backend, playing songs on MIDI note-ons (the default command).
    Play(play::PlayArgs),
    /// Render a setlist (or one song) to a WAV file through the streaming
    /// engine, and report time to first audio, underruns, chunks loaded and
    /// peak resident audio bytes per song.
    Render(render::RenderArgs),
    /// Fill the chunk cache for a setlist (the first 60 s of every stem, or
    /// whole songs), with a progress bar.
    Warm(cache_cmd::WarmArgs),
    /// Analyse every song of a setlist (loudness, loudness range, true
    /// peak) and show what the auto-master will do; analyses are stored
    /// beside the chunk cache and reused.
    Analyze(analyze_cmd::AnalyzeArgs),
    /// A long realtime run under stress (seeks, auto-master switching,
    /// a small cache that evicts, a second process, busy cores), reported
    /// per interval: underruns, memory, file descriptors, threads, slots,
    /// cache. Exits non-zero unless it ends with 0 underruns, 0 problems,
    /// and memory and file descriptors flat.
    Soak(soak::SoakArgs),
    /// The chunk cache: stats, clear, verify.
    #[command(subcommand)]
    Cache(cache_cmd::CacheCommand),
    /// Probe a setlist and list its songs, stems and problems.
    Probe {
        /// Setlist file (.toml/.json) or folder.
        setlist: PathBuf,
        /// Engine rate, Hz.
        #[arg(long, default_value_t = 48_000)]
        rate: u32,
    },
}

/// Log directives that silence symphonia: it logs every probe miss at
/// error level, and our own reports name the file and the cause.
pub const SYMPHONIA_OFF: &str = "symphonia_core=off,symphonia_bundle_flac=off,symphonia_bundle_mp3=off,symphonia_codec_vorbis=off,symphonia_format_ogg=off,symphonia_format_riff=off,symphonia_format_isomp4=off,symphonia_format_mkv=off,symphonia_codec_pcm=off,symphonia_format_caf=off,symphonia_common=off,symphonia_metadata=off,symphonia_codec_aac=off,symphonia_codec_alac=off,symphonia_codec_adpcm=off";

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli
        .command
        .unwrap_or(Command::Play(play::PlayArgs::default()));
    if let Command::Play(args) = command {
        // nice-plug's wrapper sets up its own logger.
        return match play::run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("trax: error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    // symphonia logs every probe miss at error level; our own reports name
    // the file and the cause, so its logs are off unless RUST_LOG asks.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(format!("error,{SYMPHONIA_OFF}"))
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match command {
        Command::Play(_) => Ok(()),
        Command::Render(args) => render::run(&args),
        Command::Probe { setlist, rate } => render::probe(&setlist, rate),
        Command::Warm(args) => cache_cmd::warm(&args),
        Command::Analyze(args) => analyze_cmd::run(&args),
        Command::Cache(cmd) => cache_cmd::cache(&cmd),
        Command::Soak(args) => soak::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trax: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
