//! ANY THREAD (the fuzzer's, or a test's): the bodies of Trax's fuzz
//! targets, one per parser of bytes that a user, a host or a crash can hand
//! us: setlist files (TOML, JSON) and folders, the plugin state, chunk cache
//! files and their metadata, stored analysis records, marker files, OSC
//! datagrams from the network, and audio files through our own checks on
//! top of symphonia.
//!
//! Each body parses its input and then checks what the parser promises (an
//! error names the file; a setlist within its limits; decoded samples
//! finite and as many as claimed), so a wrong answer is a finding too, not
//! only a panic. `cargo xtask fuzz` runs them under libFuzzer (the
//! `fuzz_*` binaries, with coverage instrumentation) from the seeds in
//! `fuzz/seeds/` and those [`seeds`] generates (a binary writes its own
//! when asked: [`init`]); the test suite runs every seed and every input
//! in `fuzz/regressions/` through them.

pub mod analysis;
pub mod cache;
pub mod markers;
pub mod osc;
mod scratch;
pub mod seeds;
pub mod setlist;
pub mod state;
pub mod stem;

/// A fuzz target.
pub struct Target {
    /// Its name (the binary is `fuzz_<name>`, its seeds in
    /// `fuzz/seeds/<name>/`).
    pub name: &'static str,
    /// What it feeds its input to.
    pub about: &'static str,
    /// The body: panics on a finding.
    pub run: fn(&[u8]),
}

/// Every target.
pub const TARGETS: &[Target] = &[
    Target {
        name: "setlist_toml",
        about: "a setlist file read as TOML (setlist::parse)",
        run: setlist::toml,
    },
    Target {
        name: "setlist_json",
        about: "a setlist file read as the corpus's JSON (setlist::parse)",
        run: setlist::json,
    },
    Target {
        name: "setlist_folder",
        about: "a folder tree of song folders and files with arbitrary names (setlist::load)",
        run: setlist::folder,
    },
    Target {
        name: "plugin_state",
        about: "the plugin's state JSON: nice-plug's PluginState, then our persisted fields",
        run: state::plugin_state,
    },
    Target {
        name: "cache_chunk",
        about: "a chunk cache file (header, CRCs, raw or FLAC payload) through cache::chunk::read",
        run: cache::chunk,
    },
    Target {
        name: "cache_meta",
        about: "a cache entry's meta.json (cache::meta::MetaRecord::parse)",
        run: cache::meta,
    },
    Target {
        name: "cache_folder",
        about: "a cache folder's settings.json, ledger and stats.json (ChunkStore::open, PersistedStats)",
        run: cache::folder,
    },
    Target {
        name: "analysis_record",
        about: "a stored analysis record (analysis::store::decode)",
        run: analysis::record,
    },
    Target {
        name: "markers",
        about: "a marker file (WAV cue points, FLAC CUESHEET, MIDI markers, REAPER CSV) through markers::parse_* and read_markers",
        run: markers::files,
    },
    Target {
        name: "osc",
        about: "a UDP datagram to the OSC remote (remote::decode, then remote::parse per message)",
        run: osc::datagram,
    },
    Target {
        name: "stem_file",
        about: "an audio file opened, checked, read, resampled and sought through SourceReader and StemCursor",
        run: stem::file,
    },
];

/// The variable that makes a fuzz binary write its seeds into the folder
/// it names, and exit (see [`init`]).
pub const WRITE_SEEDS_ENV: &str = "TRAX_FUZZ_WRITE_SEEDS";

/// What every `fuzz_*` binary does before fuzzing: with
/// [`WRITE_SEEDS_ENV`] set, writes target `name`'s seeds (committed and
/// generated) into that folder and exits, so `cargo xtask fuzz` gets each
/// target's starting corpus from the binary itself.
pub fn init(name: &str) {
    tolerate_decoder_panics();
    let Some(dir) = std::env::var_os(WRITE_SEEDS_ENV).map(std::path::PathBuf::from) else {
        return;
    };
    let mut seeds = seeds::committed(name);
    seeds.extend(seeds::generated(name, seeds::corpus().as_deref()));
    let written = std::fs::create_dir_all(&dir).and_then(|()| {
        for (seed, bytes) in &seeds {
            std::fs::write(dir.join(format!("seed_{}", seed.replace('/', "_"))), bytes)?;
        }
        Ok(())
    });
    match written {
        Ok(()) => {
            println!("{name}: {} seeds", seeds.len());
            std::process::exit(0);
        }
        Err(e) => {
            eprintln!("{name}: cannot write its seeds into {}: {e}", dir.display());
            std::process::exit(1);
        }
    }
}

std::thread_local! {
    /// Whether this thread runs code the loader runs under
    /// `catch_unwind` ([`like_the_loader`]).
    static IN_LOADER_CATCH: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` as the loader runs a probe or a decoding job: a panic inside
/// is caught (the stem is reported and skipped, nothing else stops), and
/// `None` is returned.
pub fn like_the_loader<R>(f: impl FnOnce() -> R) -> Option<R> {
    IN_LOADER_CATCH.with(|c| c.set(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    IN_LOADER_CATCH.with(|c| c.set(false));
    r.ok()
}

/// libFuzzer's panic hook aborts at any panic, even one that is caught.
/// This hook lets a panic inside symphonia unwind to
/// [`like_the_loader`]'s catch, as it does in Trax (a decoder's bug is a
/// skipped stem, not a crash); every other panic, ours above all, is
/// still a finding.
fn tolerate_decoder_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let in_decoder = info
            .location()
            .is_some_and(|l| l.file().contains("/symphonia"));
        if in_decoder && IN_LOADER_CATCH.with(std::cell::Cell::get) {
            return;
        }
        previous(info);
    }));
}

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}
