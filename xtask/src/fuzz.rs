//! `cargo xtask fuzz`: the fuzz targets of `fuzz/` under libFuzzer, on
//! stable Rust.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use super::{cargo, root, run};

/// The fuzz targets (`fuzz/src/lib.rs`'s `TARGETS`; the binaries are
/// `fuzz_<name>`).
const FUZZ_TARGETS: &[&str] = &[
    "setlist_toml",
    "setlist_json",
    "setlist_folder",
    "plugin_state",
    "cache_chunk",
    "cache_meta",
    "cache_folder",
    "analysis_record",
    "markers",
    "osc",
    "stem_file",
];

/// Fuzz targets run at once (one per core here).
const FUZZ_PARALLEL: usize = 2;

/// rustc flags for libFuzzer's coverage (as cargo-fuzz passes them; all
/// stable): SanitizerCoverage's 8-bit counters, PC table and comparison
/// tracing, and `cfg(fuzzing)`.
const SANCOV_FLAGS: &[&str] = &[
    "-Cpasses=sancov-module",
    "-Cllvm-args=-sanitizer-coverage-level=4",
    "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
    "-Cllvm-args=-sanitizer-coverage-pc-table",
    "-Cllvm-args=-sanitizer-coverage-trace-compares",
    "--cfg",
    "fuzzing",
];

/// What one target's run printed at its end.
#[derive(Default)]
struct FuzzRun {
    execs: u64,
    secs: f64,
    coverage: String,
    failed: Option<String>,
}

/// Runs libFuzzer binary `bin` on `corpus` for `secs` seconds, in the
/// background; its output goes to `log` (a file: a pipe nobody reads
/// while another target runs would fill and stall it), crashes to
/// `artifacts`.
fn spawn_fuzzer(
    bin: &Path,
    corpus: &Path,
    artifacts: &Path,
    log: &Path,
    secs: u64,
) -> Result<std::process::Child> {
    std::fs::create_dir_all(artifacts)?;
    let mut prefix = std::ffi::OsString::from("-artifact_prefix=");
    prefix.push(artifacts.as_os_str());
    prefix.push("/");
    let log_file =
        std::fs::File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
    Command::new(bin)
        .arg(corpus)
        .arg(format!("-max_total_time={secs}"))
        .arg("-print_final_stats=1")
        .arg("-timeout=20")
        .arg("-rss_limit_mb=4096")
        .arg(prefix)
        .stdout(std::process::Stdio::null())
        .stderr(log_file)
        .spawn()
        .with_context(|| format!("cannot run {}", bin.display()))
}

/// Reads what a finished libFuzzer run wrote to `log`.
fn fuzz_outcome(mut child: std::process::Child, log: &Path) -> Result<FuzzRun> {
    let status = child.wait()?;
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let stat = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let mut run = FuzzRun {
        execs: stat("stat::number_of_executed_units:").unwrap_or(0),
        secs: 0.0,
        coverage: text
            .lines()
            .rev()
            .find(|l| l.contains(" cov: "))
            .and_then(|l| l.split_once(" cov: "))
            .map(|(_, rest)| format!("cov: {}", rest.trim()))
            .unwrap_or_default(),
        failed: None,
    };
    if !status.success() {
        let written = text
            .lines()
            .find(|l| l.contains("Test unit written to"))
            .unwrap_or("no input written");
        let why = text
            .lines()
            .find(|l| {
                l.contains("panicked at") || l.contains("==ERROR") || l.contains("deadly signal")
            })
            .unwrap_or("see the log");
        run.failed = Some(format!("{why}; {written}; log {}", log.display()));
    }
    Ok(run)
}

/// `cargo xtask fuzz [SECS] [TARGET...]`: builds the fuzz targets with
/// libFuzzer's coverage instrumentation (on stable Rust: the flags go to
/// the workspace's crates through a RUSTC_WORKSPACE_WRAPPER, so the
/// dependencies are the test build's, not rebuilt), writes their seeds,
/// and runs each target for SECS seconds (default 60), two at a time,
/// from its seeds. Prints executions, speed and coverage per target;
/// fails if any target found an input that breaks it (saved in
/// `target/fuzz/artifacts/<target>/`: fix it, then copy it into
/// `fuzz/regressions/<target>/`).
pub(crate) fn fuzz(extra: &[String]) -> Result<()> {
    let (secs, names): (u64, Vec<&str>) = match extra.first().map(|a| a.parse::<u64>()) {
        Some(Ok(s)) => (s, extra[1..].iter().map(String::as_str).collect()),
        _ => (60, extra.iter().map(String::as_str).collect()),
    };
    let targets: Vec<&str> = if names.is_empty() {
        FUZZ_TARGETS.to_vec()
    } else {
        for n in &names {
            if !FUZZ_TARGETS.contains(n) {
                bail!(
                    "unknown fuzz target {n:?} (targets: {})",
                    FUZZ_TARGETS.join(", ")
                );
            }
        }
        names
    };
    let root = root();
    let work = root.join("target/fuzz");
    std::fs::create_dir_all(&work).context("cannot create target/fuzz")?;
    let wrapper = work.join("sancov-rustc.sh");
    // Only compilations get the flags (cargo also asks rustc for its
    // version through the wrapper).
    let script = format!(
        "#!/bin/sh\ncase \" $* \" in\n  *\" --crate-name \"*) exec \"$@\" {} ;;\n  *) exec \"$@\" ;;\nesac\n",
        SANCOV_FLAGS.join(" ")
    );
    std::fs::write(&wrapper, script).context("cannot write the rustc wrapper")?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))?;
    }
    // With the test build's features (the suite's dev-dependency asks for
    // assert_process_allocs, the standalone for standalone): every
    // dependency is then the test build's, compiled once, provided that
    // trax-fuzz's own dependencies unify to the same features as
    // `cargo test --workspace` does (fuzz/Cargo.toml lists the ones added
    // for that). To check after a dependency change, compare
    // `cargo tree --workspace -e normal,build,dev -f '{p}|{f}' --prefix none`
    // with `cargo tree -p trax-fuzz --features <these> -e normal,build
    // -f '{p}|{f}' --prefix none`: only trax-fuzz may differ.
    let mut build = cargo();
    build
        .args(["build", "-p", "trax-fuzz", "--bins", "--features"])
        .arg("libfuzzer,trax/assert_process_allocs,trax/standalone")
        .env("RUSTC_WORKSPACE_WRAPPER", &wrapper)
        .env_remove("CLIPPY_ARGS");
    run(build)?;
    let bin_dir = root.join("target/debug");
    let corpus = work.join("corpus");
    let _ = std::fs::remove_dir_all(&corpus);
    for t in &targets {
        // The binary writes its own seeds (trax_fuzz::init).
        let mut seeds = Command::new(bin_dir.join(format!("fuzz_{t}")));
        seeds
            .arg("-runs=0")
            .env("TRAX_FUZZ_WRITE_SEEDS", corpus.join(t));
        run(seeds)?;
    }
    eprintln!(
        "xtask: fuzzing {} targets for {secs} s each, {FUZZ_PARALLEL} at a time",
        targets.len()
    );
    let logs = work.join("logs");
    std::fs::create_dir_all(&logs).context("cannot create target/fuzz/logs")?;
    let mut results = Vec::new();
    for group in targets.chunks(FUZZ_PARALLEL) {
        let mut running = Vec::new();
        for t in group {
            let log = logs.join(format!("{t}.log"));
            let child = spawn_fuzzer(
                &bin_dir.join(format!("fuzz_{t}")),
                &corpus.join(t),
                &work.join("artifacts").join(t),
                &log,
                secs,
            )?;
            running.push((*t, child, log, std::time::Instant::now()));
        }
        for (t, child, log, started) in running {
            let mut outcome = fuzz_outcome(child, &log)?;
            outcome.secs = started.elapsed().as_secs_f64();
            results.push((t, outcome));
        }
    }
    println!(
        "{:<16} {:>12} {:>10}  final coverage",
        "target", "executions", "per second"
    );
    let mut failures = Vec::new();
    for (t, r) in &results {
        println!(
            "{:<16} {:>12} {:>10.0}  {}",
            t,
            r.execs,
            r.execs as f64 / r.secs.max(1e-9),
            if r.failed.is_some() {
                "FAILED"
            } else {
                &r.coverage
            }
        );
        if let Some(why) = &r.failed {
            failures.push(format!("{t}: {why}"));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        bail!(
            "fuzzing found inputs that break targets:\n{}",
            failures.join("\n")
        )
    }
}
