//! GUI THREAD (nice-plug's standalone window): `trax play` (and `trax` with
//! no subcommand): the plugin in nice-plug's standalone wrapper, on JACK,
//! ALSA (cpal), CoreAudio/WASAPI where built, or the dummy backend. MIDI
//! note-ons start songs as in the plugin; `--osc-port` turns the OSC
//! remote on.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;

/// Arguments of `trax play`.
#[derive(Args, Debug, Default)]
pub struct PlayArgs {
    /// Setlist file (.toml/.json) or folder to load.
    #[arg(long)]
    pub setlist: Option<PathBuf>,
    /// Every output bus on device channels, e.g. `main=1-2,click=3,guide=4`
    /// (1-based; `a-b` a stereo pair, `a` the bus's mono sum): plays
    /// headless on a multichannel ALSA/CoreAudio device (or `--backend
    /// dummy`), because those backends otherwise only play main. JACK
    /// needs no map: every bus is a pair of ports.
    #[arg(long)]
    pub outputs: Option<String>,
    /// With `--outputs` and `--backend dummy`: render offline into this
    /// WAV file, one channel per device channel of the map.
    #[arg(long, requires = "outputs")]
    pub capture: Option<PathBuf>,
    /// With `--outputs` and `--backend dummy`: stop after this many
    /// seconds of audio.
    #[arg(long, requires = "outputs")]
    pub seconds: Option<f64>,
    /// With `--outputs`: play this song (1-based) once the setlist is
    /// loaded, as its MIDI note would.
    #[arg(long, requires = "outputs")]
    pub start_song: Option<u8>,
    /// Listen for the OSC remote on this UDP port, every IPv4 interface
    /// (the README's "OSC remote" lists the addresses); off without it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub osc_port: Option<u16>,
    /// nice-plug standalone options, passed through: --backend
    /// auto|jack|alsa|dummy, --sample-rate, --period-size, --midi-input,
    /// --output-device, --connect-jack-outputs … (`trax play -- --help`
    /// lists them).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub wrapper_args: Vec<String>,
}

/// Logs trax's INFO lines (what loaded, what plays) and warnings to
/// stderr, symphonia's off (our own reports name the file and the cause).
fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(format!("info,{}", crate::SYMPHONIA_OFF))
            }),
        )
        .with_writer(std::io::stderr)
        .init();
}

/// Runs the standalone until it is interrupted (SIGINT) or its backend
/// fails.
///
/// # Errors
/// The setlist path cannot be resolved, or the backend fails to start.
pub fn run(args: PlayArgs) -> Result<()> {
    if let Some(path) = &args.setlist {
        let abs = std::fs::canonicalize(path)
            .with_context(|| format!("setlist {}: cannot open", path.display()))?;
        trax::plugin::set_initial_setlist(abs.to_string_lossy().into_owned());
    }
    if let Some(port) = args.osc_port {
        trax::plugin::set_initial_osc_port(port);
    }
    if let Some(map) = &args.outputs {
        let map = crate::channel_map::ChannelMap::parse(map)?;
        init_logging();
        return crate::multi_out::run(crate::multi_out::MultiOut {
            map,
            capture: args.capture,
            seconds: args.seconds,
            start_song: args.start_song,
            device_args: args.wrapper_args,
        });
    }
    let jack = args
        .wrapper_args
        .windows(2)
        .any(|w| w[0] == "--backend" && w[1] == "jack");
    if !jack {
        eprintln!(
            "trax: outside JACK only the main bus plays here; for click, guide and the other \
             buses on their own device channels use --outputs (e.g. --outputs main=1-2,click=3)"
        );
    }
    let argv = std::iter::once("trax play".to_string()).chain(args.wrapper_args);
    if !nice_plug::prelude::nice_export_standalone_with_args::<trax::Trax, _>(argv) {
        bail!("the standalone stopped with an error (see above)");
    }
    Ok(())
}
