//! GUI THREAD (nice-plug's standalone window): `trax play` (and `trax` with
//! no subcommand): the plugin in nice-plug's standalone wrapper, on JACK,
//! ALSA (cpal), CoreAudio/WASAPI where built, or the dummy backend. MIDI
//! note-ons start songs as in the plugin.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;

/// Arguments of `trax play`.
#[derive(Args, Debug, Default)]
pub struct PlayArgs {
    /// Setlist file (.toml/.json) or folder to load.
    #[arg(long)]
    pub setlist: Option<PathBuf>,
    /// nice-plug standalone options, passed through: --backend
    /// auto|jack|alsa|dummy, --sample-rate, --period-size, --midi-input,
    /// --output-device, --connect-jack-outputs … (`trax play -- --help`
    /// lists them).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub wrapper_args: Vec<String>,
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
    let argv = std::iter::once("trax play".to_string()).chain(args.wrapper_args);
    if !nice_plug::prelude::nice_export_standalone_with_args::<trax::Trax, _>(argv) {
        bail!("the standalone stopped with an error (see above)");
    }
    Ok(())
}
