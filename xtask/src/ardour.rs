//! `cargo xtask ardour [--bundle PATH] [--seconds N] [--setlist PATH]`:
//! bounces Trax in a headless Ardour 7 and measures the bounce against
//! `trax render`.
//!
//! 1. `ardour7-lua tests/hosts/ardour/make_session.lua` creates a 48 kHz
//!    session on the "None (Dummy)" backend, a MIDI track with the VST3
//!    Trax (found through `VST3_PATH`, read while Ardour's config is
//!    fresh: each run has its own `XDG_CONFIG_HOME`), `Follow host
//!    transport` and `Follow: host time is output` on (Ardour runs each
//!    plugin at the position of its output), and the Lua DSP "Trax Probe"
//!    after it.
//! 2. The xtask writes the setlist into the plugin's state: Ardour keeps a
//!    VST3 plugin's state in the session file as a base64 `.vstpreset`
//!    (`<chunk>`), whose component chunk is nice-plug's JSON.
//! 3. `tests/hosts/ardour/export.lua` exports the master bus, frames
//!    `0..N s`, to a 32-bit float WAV (Ardour's own export: freewheel
//!    after its export pre-roll), twice, each in a fresh Ardour process,
//!    and prints what the probe saw around the export.
//! 4. Each export is compared with `trax render SETLIST --rate 48000`; the
//!    xtask fails unless both are it bit for bit from frame 0.
//!
//! Ardour 7.3 crashes in some runs: a process killed by a signal (also
//! after it said it was done: such an export once held garbage) or hung
//! past a timeout is run again, at most [`RETRIES`] times; a wrong result
//! is never retried. Everything stays in a temporary folder, printed at
//! the end.

use std::io::Read as _;
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use base64::prelude::{Engine as _, BASE64_STANDARD};

use crate::{cargo, ensure_system_packages, root, run};

mod compare;

use compare::{compare, read_wav};

/// Debian/Ubuntu packages this xtask needs, with the reason.
const ARDOUR_PACKAGES: &[(&str, &str)] = &[(
    "ardour",
    "Ardour 7 and ardour7-lua, its headless Lua session interpreter, for cargo xtask ardour",
)];

/// Times a crashed (or hung) Ardour process is run again.
pub const RETRIES: u32 = 3;

/// Where Debian's `ardour` keeps Ardour's libraries and tools.
const ARDOUR_LIB: &str = "/usr/lib/ardour7";
/// The engine rate of the session, the reference and the comparison.
const RATE_HZ: u32 = 48_000;

/// The export preset `tests/hosts/ardour/export/trax_float.preset`: 32-bit
/// float WAV at the session rate, no normalising, no dither.
const EXPORT_PRESET_ID: &str = "0b7e3f9a-2c4d-4e8f-a1b2-c3d4e5f6a7b8";

/// Session name inside the run's folder.
const SESSION: &str = "trax";
/// Command-line options (see the module's doc).
struct Options {
    bundle: PathBuf,
    seconds: u32,
    setlist: PathBuf,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut bundle = None;
    let mut seconds = 12;
    let mut setlist = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--bundle" => bundle = Some(PathBuf::from(value()?)),
            "--seconds" => seconds = value()?.parse().context("--seconds: a whole number")?,
            "--setlist" => setlist = Some(PathBuf::from(value()?)),
            _ => bail!("unknown option {a}: cargo xtask ardour [--bundle PATH] [--seconds N] [--setlist PATH]"),
        }
    }
    ensure!(seconds > 0, "--seconds must be at least 1");
    let bundle = bundle.map_or_else(default_bundle, Ok)?;
    let setlist = setlist.map_or_else(default_setlist, Ok)?;
    Ok(Options {
        bundle,
        seconds,
        setlist,
    })
}

/// `target/bundled/trax.vst3` (under `$CARGO_TARGET_DIR` if set), if it
/// holds a release build (a debug build is far too slow to bounce).
fn default_bundle() -> Result<PathBuf> {
    let bundle = target_dir().join("bundled/trax.vst3");
    let so = bundle.join("Contents/x86_64-linux/trax.so");
    let len = std::fs::metadata(&so)
        .with_context(|| {
            format!(
                "no {}: run `cargo xtask bundle trax --release` or pass --bundle",
                so.display()
            )
        })?
        .len();
    // Release builds carry debug info too, so size says little; a copy of
    // the debug cdylib has its exact length.
    let same = |p: &str| std::fs::metadata(target_dir().join(p)).is_ok_and(|m| m.len() == len);
    if ["debug/libtrax.so", "debug/deps/libtrax.so"]
        .iter()
        .any(|p| same(p))
        && !same("release/libtrax.so")
    {
        bail!(
            "{} is a debug build: run `cargo xtask bundle trax --release` or pass --bundle",
            so.display()
        );
    }
    Ok(bundle)
}

/// The corpus's first song folder (`$TRAX_CORPUS`, else /work/shared/corpus),
/// else the bundled demo setlist.
fn default_setlist() -> Result<PathBuf> {
    let corpus = std::env::var("TRAX_CORPUS").unwrap_or_else(|_| "/work/shared/corpus".into());
    if let Ok(dir) = std::fs::read_dir(Path::new(&corpus).join("songs")) {
        let mut songs: Vec<PathBuf> = dir.filter_map(|e| e.ok().map(|e| e.path())).collect();
        songs.sort();
        if let Some(first) = songs.into_iter().find(|p| p.join("song.json").exists()) {
            return Ok(first);
        }
    }
    Ok(root().join("assets/demo/setlist.toml"))
}

/// `cargo xtask ardour`: see the module's doc.
pub fn ardour(args: &[String]) -> Result<()> {
    let started = Instant::now();
    let opts = parse(args)?;
    ensure_system_packages(ARDOUR_PACKAGES)?;
    let setlist = std::fs::canonicalize(&opts.setlist)
        .with_context(|| format!("no setlist {}", opts.setlist.display()))?;
    let work = std::env::temp_dir().join(format!("trax-ardour-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let host = Host::prepare(&work, &opts.bundle)?;
    eprintln!(
        "xtask: ardour: {} s of {} through {} in {}",
        opts.seconds,
        setlist.display(),
        opts.bundle.display(),
        work.display()
    );

    // The reference first, with no chunk cache: the plugin's cache
    // (TRAX_CACHE_DIR) starts cold for export 1 and is warm for export 2.
    let reference = work.join("ref.wav");
    let mut render = Command::new(trax_binary()?);
    render.arg("render").arg(&setlist).arg("-o").arg(&reference);
    render.args(["--rate", &RATE_HZ.to_string(), "--no-cache"]);
    run(render)?;
    let reference = read_wav(&reference)?;

    let session = work.join("session");
    let (out, crashes) = host.run(
        "make_session.lua",
        &[
            session.display().to_string(),
            SESSION.into(),
            RATE_HZ.to_string(),
        ],
        "trax-ardour: saved",
        || {
            let _ = std::fs::remove_dir_all(&session);
        },
    )?;
    let mut total_crashes = crashes;
    for line in out.lines().filter(|l| l.starts_with("trax-ardour:")) {
        eprintln!("  {line}");
    }
    set_plugin_state(&session.join(format!("{SESSION}.ardour")), &setlist)?;

    let frames = u64::from(opts.seconds) * u64::from(RATE_HZ);
    let exports = work.join("exports");
    let mut wrong = Vec::new();
    for n in 1..=2 {
        let name = format!("export{n}");
        let wav = exports.join(format!("{name}.wav"));
        let t0 = Instant::now();
        let (out, crashes) = host.run(
            "export.lua",
            &[
                session.display().to_string(),
                SESSION.into(),
                exports.display().to_string(),
                name.clone(),
                "0".into(),
                frames.to_string(),
                EXPORT_PRESET_ID.into(),
            ],
            "trax-ardour: exported",
            || {
                let _ = std::fs::remove_file(&wav);
            },
        )?;
        total_crashes += crashes;
        println!(
            "export {n}: {:.1} s, {crashes} crash(es) retried",
            t0.elapsed().as_secs_f64()
        );
        // The probe's runs of blocks and its export pre-roll summary.
        for line in out.lines().filter_map(|l| l.strip_prefix("trax-ardour: ")) {
            println!("    {line}");
        }
        if !compare(&read_wav(&wav)?, &reference, frames as usize) {
            wrong.push(name);
        }
    }
    println!(
        "ardour: {total_crashes} Ardour crash(es) retried in all; {:.0} s; files in {}",
        started.elapsed().as_secs_f64(),
        work.display()
    );
    ensure!(
        wrong.is_empty(),
        "{} differ from trax render (bit for bit from frame 0, no silent block)",
        wrong.join(" and ")
    );
    Ok(())
}

/// `$CARGO_TARGET_DIR`, else the workspace's `target`.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

/// The release `trax` binary, built if missing.
fn trax_binary() -> Result<PathBuf> {
    let trax = target_dir().join("release/trax");
    if !trax.exists() {
        let mut build = cargo();
        build.args(["build", "--release", "-p", "trax-standalone"]);
        run(build)?;
    }
    Ok(trax)
}

/// A private Ardour environment: its own config (scripts, export presets,
/// VST3 path), cache, and Trax chunk cache.
struct Host {
    dir: PathBuf,
    work: PathBuf,
    env: Vec<(&'static str, PathBuf)>,
}

impl Host {
    fn prepare(work: &Path, bundle: &Path) -> Result<Host> {
        let ours = root().join("tests/hosts/ardour");
        let config = work.join("config");
        let user = config.join("ardour7");
        copy_dir(&ours.join("scripts"), &user.join("scripts"))?;
        copy_dir(&ours.join("export"), &user.join("export"))?;
        let vst3 = work.join("vst3");
        copy_dir(bundle, &vst3.join("trax.vst3"))?;
        let host = Host {
            dir: ours,
            work: work.to_path_buf(),
            env: vec![
                ("XDG_CONFIG_HOME", config),
                ("XDG_CACHE_HOME", work.join("cache")),
                ("VST3_PATH", vst3.clone()),
                ("TRAX_CACHE_DIR", work.join("trax-cache")),
            ],
        };
        // ardour7-lua reads plugins from Ardour's cache only (it never
        // scans): index the bundle into this run's cache.
        let mut scan = Command::new(format!("{ARDOUR_LIB}/ardour-vst3-scanner"));
        scan.args(["-f", "-q"]).arg(vst3.join("trax.vst3"));
        scan.env("LD_LIBRARY_PATH", ARDOUR_LIB)
            .envs(host.env.iter().map(|(k, v)| (k, v)));
        run(scan)?;
        Ok(host)
    }

    /// Runs `ardour7-lua SCRIPT ARGS` until it exits without a crash
    /// (calling `clean` before each retry), at most [`RETRIES`] retries.
    /// Returns its stdout and the number of crashes. An exit that is not
    /// a crash but lacks the `done` line is an error, never retried.
    fn run(
        &self,
        script: &str,
        args: &[String],
        done: &str,
        clean: impl Fn(),
    ) -> Result<(String, u32)> {
        let mut crashes = 0;
        loop {
            let log = self.work.join(format!("{script}.{crashes}.log"));
            let mut cmd = Command::new("ardour7-lua");
            cmd.arg(self.dir.join(script)).args(args);
            for (k, v) in &self.env {
                cmd.env(k, v);
            }
            let (status, out) = run_with_timeout(cmd, &log, Duration::from_secs(600))?;
            let finished = out.lines().any(|l| l.starts_with(done));
            // A crash after the `done` line is a crash too: an export
            // Ardour aborted while closing held garbage (7e34 at a frame).
            match status {
                Some(s) if s.success() && finished => return Ok((out, crashes)),
                Some(s) if s.signal().is_none() => {
                    bail!("{script} failed ({s}); see {}:\n{out}", log.display())
                }
                _ => {}
            }
            crashes += 1;
            eprintln!(
                "xtask: ardour: {script} crashed ({}), see {}",
                status.map_or("timed out".into(), |s| s.to_string()),
                log.display()
            );
            if crashes > RETRIES {
                bail!("{script} crashed {crashes} times");
            }
            clean();
        }
    }
}

/// Runs `cmd` with stdout to `log` (stderr too), killing it after
/// `timeout`. Returns its status (`None` if killed) and its stdout.
fn run_with_timeout(
    mut cmd: Command,
    log: &Path,
    timeout: Duration,
) -> Result<(Option<std::process::ExitStatus>, String)> {
    let file =
        std::fs::File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
    cmd.stdout(file.try_clone()?)
        .stderr(file)
        .stdin(Stdio::null());
    let mut child = cmd.spawn().context("cannot run ardour7-lua")?;
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break Some(s);
        }
        if t0.elapsed() > timeout {
            child.kill()?;
            child.wait()?;
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut out = String::new();
    std::fs::File::open(log)?.read_to_string(&mut out)?;
    Ok((status, out))
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?
    {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), &dest)
                .with_context(|| format!("cannot copy {}", entry.path().display()))?;
            // Ardour's plugin cache must be newer (whole seconds): keep the time.
            let copy = std::fs::File::options().write(true).open(&dest)?;
            copy.set_modified(entry.metadata()?.modified()?)?;
        }
    }
    Ok(())
}

/// Writes `setlist` into the Trax state of the saved session `file`: the
/// `<chunk>` of its `<vst3>` node is a base64 `.vstpreset` whose
/// component chunk ("Comp") is nice-plug's JSON, each persisted field a JSON
/// text of its own. The new chunk holds the component state only.
fn set_plugin_state(file: &Path, setlist: &Path) -> Result<()> {
    let xml =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let plugin = xml
        .find("<vst3 ")
        .context("no <vst3> plugin state in the session")?;
    let start = plugin + xml[plugin..].find("<chunk>").context("no VST3 <chunk>")? + 7;
    let end = start
        + xml[start..]
            .find("</chunk>")
            .context("unterminated <chunk>")?;
    let b = BASE64_STANDARD
        .decode(xml[start..end].trim())
        .context("the plugin state is not base64")?;
    let u64_at = |at: usize| -> Result<usize> {
        let bytes = b.get(at..at + 8).context("truncated .vstpreset")?;
        Ok(u64::from_le_bytes(bytes.try_into()?) as usize)
    };
    ensure!(
        b.len() >= 48 && &b[..4] == b"VST3",
        "the VST3 chunk is not a .vstpreset"
    );
    let list = u64_at(40)?;
    ensure!(
        b.get(list..list + 4) == Some(b"List"),
        "no chunk list in the .vstpreset"
    );
    let count = u32::from_le_bytes(b[list + 4..list + 8].try_into()?) as usize;
    let comp = (0..count)
        .map(|k| list + 8 + k * 20)
        .find(|&e| b.get(e..e + 4) == Some(b"Comp"))
        .context("no component state in the VST3 chunk")?;
    let (at, len) = (u64_at(comp + 4)?, u64_at(comp + 12)?);
    let json = b
        .get(at..at + len)
        .context("component state past the end")?;
    let mut state: serde_json::Value =
        serde_json::from_slice(json).context("the component state is not JSON")?;
    let path = serde_json::to_string(&setlist.display().to_string())?;
    state["fields"]["setlist"] = serde_json::Value::String(path);
    eprintln!(
        "  plugin state: follow was {} (Ardour may save before the plugin sees the control), now on, with follow_out; setlist set",
        state["params"]["follow"]
    );
    // Ardour gives each plugin the position of its output: `follow_out`.
    for id in ["follow", "follow_out"] {
        state["params"][id] = serde_json::json!({ "bool": true });
    }
    let comp = serde_json::to_vec(&state)?;
    // Header ("VST3", version, class id, list offset), chunk, chunk list.
    let mut preset = b[..40].to_vec();
    preset.extend(((48 + comp.len()) as u64).to_le_bytes());
    preset.extend(&comp);
    preset.extend(b"List");
    preset.extend(1u32.to_le_bytes());
    preset.extend(b"Comp");
    preset.extend(48u64.to_le_bytes());
    preset.extend((comp.len() as u64).to_le_bytes());
    let patched = format!(
        "{}{}{}",
        &xml[..start],
        BASE64_STANDARD.encode(&preset),
        &xml[end..]
    );
    std::fs::write(file, patched).with_context(|| format!("cannot write {}", file.display()))
}
