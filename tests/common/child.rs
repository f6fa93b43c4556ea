//! Helpers for tests that run programs: where the `trax` binary is, whether
//! a tool is installed, and a child's output read line by line.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `target/debug/trax`, beside this test's target directory (built by the
/// same `cargo test --workspace` as the suite).
pub fn trax_binary() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR has a parent")
        .join("debug/trax")
}

/// Whether `tool` is an executable file on `PATH`.
pub fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
}

/// Reads `stream` line by line in a thread: every line is kept in the
/// returned log and also sent on the channel.
pub fn read_lines(
    stream: impl Read + Send + 'static,
) -> (Arc<Mutex<Vec<String>>>, Receiver<String>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel();
    let keep = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            keep.lock().expect("log lock").push(line.clone());
            let _ = tx.send(line);
        }
    });
    (log, rx)
}

/// Waits up to `timeout` for a line containing `needle`; returns it. On a
/// timeout, panics with `log()` (what the child said).
pub fn wait_line(
    rx: &Receiver<String>,
    needle: &str,
    timeout: Duration,
    log: &dyn Fn() -> String,
) -> String {
    let end = Instant::now() + timeout;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(_) => {}
            Err(_) => panic!(
                "no line containing {needle:?} within {timeout:?}:\n{}",
                log()
            ),
        }
    }
}

/// A log from [`read_lines`] as one text.
pub fn joined(log: &Arc<Mutex<Vec<String>>>) -> String {
    log.lock().expect("log lock").join("\n")
}
