//! `cargo xtask demo|test|bundle|stress|soak|fuzz`: the README's two
//! commands, the plugin bundler, and the long runs.
//!
//! - `demo`: installs missing system packages (Debian/Ubuntu; elsewhere it
//!   says what to install), builds the release `trax` binary and renders the
//!   bundled demo setlist at real time, printing the report.
//! - `test`: installs missing system packages and runs the whole test
//!   suite (what `.ci/run` calls) from one build, clippy included (see
//!   [`test`]).
//! - `soak`: the one-hour soak (`trax soak` on 20 songs × 30 stems of the
//!   long corpus, built once with the corpus script), see [`soak`].
//! - `fuzz`: every fuzz target under libFuzzer, see [`fuzz`].
//! - `stress`: the demo at real time with seeks and both cores loaded.
//! - `bundle`: nice-plug-xtask's bundler (`cargo xtask bundle trax
//!   --release` → `target/bundled/trax.clap` and `trax.vst3`).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

mod ardour;
mod fuzz;
mod long_runs;

use fuzz::fuzz;
use long_runs::{soak, stress};

/// Debian/Ubuntu packages the build needs, with the reason. The engine is
/// pure Rust (symphonia, rubato); the standalone's ALSA backend (cpal)
/// links libasound; its JACK backend loads libjack at run time, but
/// jack-sys's build script insists on finding it with pkg-config.
const BUILD_PACKAGES: &[(&str, &str)] = &[
    (
        "pkg-config",
        "finds libasound and libjack for alsa-sys and jack-sys",
    ),
    (
        "libasound2-dev",
        "ALSA headers for the standalone's cpal backend",
    ),
    (
        "libjack-jackd2-dev",
        "JACK headers for the standalone's JACK backend",
    ),
];

/// Packages the test suite needs on top.
const TEST_PACKAGES: &[(&str, &str)] = &[
    (
        "libclang-rt-22-dev",
        "RealtimeSanitizer runtime (libclang_rt.rtsan-x86_64.a) for tests/rtsan.rs",
    ),
    (
        "jackd2",
        "a real JACK server (dummy driver) for tests/jack.rs",
    ),
    (
        "jack-capture",
        "records the standalone's JACK output in tests/jack.rs",
    ),
    (
        "xvfb",
        "an X server without a screen for the editor's window test (tests/editor_window.rs)",
    ),
    (
        "xdotool",
        "clicks in the editor's window in tests/editor_window.rs",
    ),
    ("x11-apps", "xwd: the editor window's screenshot"),
    (
        "libgl1-mesa-dri",
        "Mesa's software OpenGL for the editor under Xvfb",
    ),
    (
        "libxcursor1",
        "loaded by the editor's window (baseview) at run time",
    ),
    (
        "libx11-xcb1",
        "loaded by the editor's window (baseview) at run time",
    ),
];

/// Python packages the test suite needs (pip, for the `python3` on PATH):
/// pedalboard hosts the VST3 bundle in tests/vst3.rs; JACK-Client sends
/// the JACK MIDI note in tests/jack.rs; pyloudnorm (ITU-R BS.1770-4, its
/// DeMan filter) and scipy (16x resampling for true peak) are the
/// independent loudness and true-peak references of tests/mastering.
const TEST_PIP_PACKAGES: &[&str] = &["pedalboard", "JACK-Client", "pyloudnorm", "scipy"];

/// Where libclang-rt-22-dev installs the RTSan runtime.
const RTSAN_LIB: &str = "/usr/lib/llvm-22/lib/clang/22/lib/linux/libclang_rt.rtsan-x86_64.a";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("demo") => demo(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("stress") => stress(&args[1..]),
        Some("soak") => soak(&args[1..]),
        Some("fuzz") => fuzz(&args[1..]),
        Some("ardour") => ardour::ardour(&args[1..]),
        Some("bundle") | Some("bundle-universal") => {
            ensure_system_packages(BUILD_PACKAGES)?;
            nice_plug_xtask::main_with_args("cargo xtask", args)
        }
        _ => {
            eprintln!(
                "usage: cargo xtask demo [render options]   render the demo setlist at real time\n\
                 \x20      cargo xtask test [cargo test options]  run the whole test suite\n\
                 \x20      cargo xtask stress [render options]  demo at real time, seek every 2 s, both cores loaded\n\
                 \x20      cargo xtask soak [soak options]      one hour at real time on 20 songs x 30 stems (trax soak)\n\
                 \x20      cargo xtask fuzz [SECS] [TARGET...]  run every fuzz target (or those named) SECS seconds each (60)\n\
                 \x20      cargo xtask ardour [--bundle PATH] [--seconds N]  bounce trax.vst3 in headless Ardour 7, compare with trax render\n\
                 \x20      cargo xtask bundle trax [--release]  build target/bundled/trax.clap and trax.vst3"
            );
            bail!("unknown or missing xtask command")
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

fn run(mut cmd: Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot run {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program} >/dev/null 2>&1")])
        .status()
        .is_ok_and(|s| s.success())
}

/// Installs the missing packages of `packages` with apt-get (as root, or
/// through sudo), or says exactly what to install where apt-get is absent.
fn ensure_system_packages(packages: &[(&str, &str)]) -> Result<()> {
    if packages.is_empty() {
        return Ok(());
    }
    if !have("dpkg-query") || !have("apt-get") {
        eprintln!("xtask: not a Debian/Ubuntu system; make sure these are installed:");
        for (p, why) in packages {
            eprintln!("  {p}: {why}");
        }
        return Ok(());
    }
    let missing: Vec<&str> = packages
        .iter()
        .map(|(p, _)| *p)
        .filter(|p| {
            !Command::new("dpkg-query")
                .args(["-W", "-f=${Status}", p])
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: installing {}", missing.join(" "));
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let prefix: Vec<&str> = if is_root {
        vec![]
    } else if have("sudo") {
        vec!["sudo"]
    } else {
        bail!("run as root: apt-get install -y {}", missing.join(" "));
    };
    let apt = |args: &[&str]| {
        let mut c = Command::new(prefix.first().copied().unwrap_or("apt-get"));
        if !prefix.is_empty() {
            c.arg("apt-get");
        }
        c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    run(apt(&["update", "-q"]))?;
    let mut install = vec!["install", "-y", "-q", "--no-install-recommends"];
    install.extend(&missing);
    run(apt(&install))
}

/// Installs the missing Python packages with pip (for the interpreter
/// `python3` on PATH).
fn ensure_pip_packages(packages: &[&str]) -> Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| {
            !Command::new("python3")
                .args(["-m", "pip", "show", "-q", p])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: pip installing {}", missing.join(" "));
    let mut pip = Command::new("python3");
    pip.args(["-m", "pip", "install", "-q"]).args(&missing);
    if run(pip).is_err() {
        // Debian's own Python refuses system-wide installs (PEP 668).
        let mut pip = Command::new("python3");
        pip.args(["-m", "pip", "install", "-q", "--break-system-packages"])
            .args(&missing);
        run(pip)?;
    }
    Ok(())
}

/// Builds the release `trax` and returns
/// `trax render assets/demo/setlist.toml -o OUT` to run.
fn build_and_render_demo(out: &Path) -> Result<Command> {
    let mut build = cargo();
    build.args(["build", "--release", "-p", "trax-standalone"]);
    run(build)?;
    let root = root();
    let mut render = Command::new(root.join("target/release/trax"));
    render
        .current_dir(&root)
        .arg("render")
        .arg(root.join("assets/demo/setlist.toml"))
        .arg("-o")
        .arg(out);
    Ok(render)
}

fn demo(extra: &[String]) -> Result<()> {
    ensure_system_packages(BUILD_PACKAGES)?;
    let out = root().join("target/demo.wav");
    let mut render = build_and_render_demo(&out)?;
    render.arg("--realtime").args(extra);
    eprintln!(
        "xtask: rendering the demo setlist at real time (about 90 s) to {}",
        out.display()
    );
    run(render)
}

/// `clippy -D warnings` as `cargo clippy` passes it to clippy-driver.
const CLIPPY_DENY_WARNINGS: &str = "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__";

/// The whole suite from one build:
/// 1. `cargo test --workspace --no-run` builds the library and its unit
///    tests, the `trax` binary (for tests/jack.rs), the plugin as a cdylib
///    with nice-plug's allocation check (the suite asks for
///    `assert_process_allocs`), and tests/main.rs with RealtimeSanitizer
///    linked. Workspace crates compile through clippy-driver with
///    `-D warnings`, so clippy lints them in the same compile (the
///    engine's and bridge's disallowed lists are denied in their modules).
/// 2. The CLAP and VST3 bundles the host tests load are that cdylib, copied
///    into `target/bundled` (no second plugin compile).
/// 3. Every test but the realtime ones, then the editor's window tests
///    one at a time, the soak's short mode (45 s at real time) and
///    the JACK test, each alone (they must not compete for the two
///    cores).
/// 4. Every fuzz target for [`CI_FUZZ_SECS`] seconds (`TRAX_FUZZ_SECS`),
///    see [`fuzz`].
fn test(extra: &[String]) -> Result<()> {
    ensure_system_packages(BUILD_PACKAGES)?;
    ensure_system_packages(TEST_PACKAGES)?;
    ensure_pip_packages(TEST_PIP_PACKAGES)?;
    let lib = std::env::var("RTSAN_LIB_PATH").unwrap_or_else(|_| RTSAN_LIB.into());
    if !Path::new(&lib).exists() {
        bail!("RealtimeSanitizer runtime not found at {lib}: install libclang-rt-22-dev or set RTSAN_LIB_PATH");
    }
    // The plugin and `trax render` cache by default: tests use a cache of
    // their own, never the user's.
    let cache = root().join("target").join("test-chunk-cache");
    let _ = std::fs::remove_dir_all(&cache);
    let suite = |args: &[&str]| {
        let mut c = cargo();
        c.arg("test")
            .args(args)
            .env("RUSTC_WORKSPACE_WRAPPER", "clippy-driver")
            .env("CLIPPY_ARGS", CLIPPY_DENY_WARNINGS)
            .env("RTSAN_ENABLE", "1")
            .env("RTSAN_LIB_PATH", &lib)
            .env("TRAX_REQUIRE_RTSAN", "1")
            .env("TRAX_REQUIRE_GUI", "1")
            .env("TRAX_CACHE_DIR", &cache);
        c
    };
    let mut build = suite(&[
        "--workspace",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ]);
    build.stdout(std::process::Stdio::piped());
    let shown = format!("{build:?}");
    let output = build
        .spawn()
        .and_then(|child| child.wait_with_output())
        .with_context(|| format!("cannot run {shown}"))?;
    if !output.status.success() {
        bail!("{shown} failed ({})", output.status);
    }
    let cdylib = plugin_cdylib(&String::from_utf8_lossy(&output.stdout))?;
    bundle_from(&cdylib)?;
    let mut rest = suite(&["--workspace"]);
    rest.args(extra).args([
        "--",
        "--skip",
        "jack::",
        "--skip",
        "soak::",
        "--skip",
        "editor_window::",
        "--skip",
        "clap_host::gui::",
    ]);
    run(rest)?;
    // The editor's window tests, one at a time on a quiet machine: each
    // runs its own X server and software OpenGL, and under the full
    // suite's load an editor window sometimes could not connect
    // (XOpenDisplay failed) in 1 of 3 runs; alone they passed every time.
    let mut windows = suite(&["--workspace", "--test", "main"]);
    windows.args(extra).args([
        "--",
        "editor_window::",
        "clap_host::gui::",
        "--test-threads=1",
    ]);
    run(windows)?;
    // The soak's short mode: 45 s at real time, alone.
    let mut soak = suite(&["--workspace", "--test", "main"]);
    soak.args(extra).args(["--", "soak::"]);
    run(soak)?;
    // --workspace keeps the features (and so the build) of the step above;
    // --test main runs only the suite.
    let mut jack = suite(&["--workspace", "--test", "main"]);
    jack.args(extra).args(["--", "jack::"]);
    run(jack)?;
    // Last: the fuzz build compiles the workspace's crates again with
    // coverage instrumentation (over the test build's), so nothing may
    // run from the test build after it.
    let secs = std::env::var("TRAX_FUZZ_SECS").unwrap_or_else(|_| CI_FUZZ_SECS.to_string());
    fuzz(&[secs])
}

/// Seconds each fuzz target runs in `cargo xtask test` (CI): 9 targets,
/// two at a time, 30 s in all (CI's 20-minute budget); `cargo xtask fuzz`
/// runs 60 s each, and longer on request.
const CI_FUZZ_SECS: u64 = 6;

/// The plugin's cdylib among the artifacts a `--message-format=json` build
/// printed (fresh or rebuilt).
fn plugin_cdylib(messages: &str) -> Result<PathBuf> {
    for line in messages.lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" || msg["target"]["name"] != "trax" {
            continue;
        }
        let is_cdylib = msg["target"]["kind"]
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k == "cdylib"));
        if !is_cdylib {
            continue;
        }
        let found = msg["filenames"].as_array().and_then(|files| {
            files
                .iter()
                .filter_map(|f| f.as_str())
                .find(|f| f.ends_with(".so") || f.ends_with(".dylib") || f.ends_with(".dll"))
        });
        if let Some(f) = found {
            return Ok(PathBuf::from(f));
        }
    }
    bail!("the test build made no trax cdylib")
}

/// Lays `cdylib` out as `target/bundled/trax.clap` and `trax.vst3` (Linux
/// layout, as nice-plug-xtask's bundler writes it).
fn bundle_from(cdylib: &Path) -> Result<()> {
    let bundled = root().join("target/bundled");
    let vst3 = bundled.join("trax.vst3/Contents/x86_64-linux");
    std::fs::create_dir_all(&vst3).context("cannot create target/bundled")?;
    for to in [bundled.join("trax.clap"), vst3.join("trax.so")] {
        std::fs::copy(cdylib, &to)
            .with_context(|| format!("cannot copy {} to {}", cdylib.display(), to.display()))?;
    }
    eprintln!(
        "xtask: bundles in {} from {}",
        bundled.display(),
        cdylib.display()
    );
    Ok(())
}
