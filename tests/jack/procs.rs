//! The JACK test's processes: the server and clients it starts (stopped by
//! PID, in the order that keeps JACK's shared-memory registry clean),
//! commands that talk to its private server, and polling.

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The processes this test started, stopped by PID on drop: the JACK
/// clients first (newest first), then, once the server has seen them go,
/// the server. jackd unblocks SIGPIPE when it starts shutting down, so
/// shutting it down while it still holds a dead client's socket can kill
/// it by SIGPIPE, and a server killed by a signal leaks its entry in JACK's
/// shared-memory registry (8 entries: then no server starts on the machine).
pub(super) struct Procs {
    pub(super) server: String,
    pub(super) jackd: Option<Child>,
    pub(super) clients: Vec<(&'static str, Child)>,
}

impl Procs {
    pub(super) fn add(&mut self, name: &'static str, child: Child) {
        self.clients.push((name, child));
    }

    pub(super) fn get(&mut self, name: &str) -> &mut Child {
        if name == "jackd" {
            return self.jackd.as_mut().expect("jackd started");
        }
        &mut self
            .clients
            .iter_mut()
            .find(|(n, _)| *n == name)
            .expect("a started process")
            .1
    }

    /// Panics if `name` has exited (with `log` for context).
    pub(super) fn assert_running(&mut self, name: &str, log: &dyn Fn() -> String) {
        if let Ok(Some(status)) = self.get(name).try_wait() {
            panic!("{name} exited early ({status}):\n{}", log());
        }
    }

    /// Waits up to `timeout` for `name` to exit by itself.
    pub(super) fn wait_exit(&mut self, name: &str, timeout: Duration) -> Option<ExitStatus> {
        let child = self.get(name);
        let end = Instant::now() + timeout;
        loop {
            match child.try_wait() {
                Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(10)),
                Ok(status) => return status,
                Err(_) => return None,
            }
        }
    }

    /// Stops everything; returns jackd's exit status.
    pub(super) fn stop(&mut self) -> Option<ExitStatus> {
        while let Some((_, mut child)) = self.clients.pop() {
            stop(&mut child);
        }
        let mut jackd = self.jackd.take()?;
        // Until the server has dropped every client (only system ports).
        let end = Instant::now() + Duration::from_secs(3);
        while matches!(jackd.try_wait(), Ok(None))
            && Instant::now() < end
            && jack_ports(&self.server)
                .is_some_and(|ports| ports.iter().any(|p| !p.starts_with("system:")))
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        Some(stop(&mut jackd))
    }
}

/// SIGTERM, up to 3 s, then SIGKILL; reaps the child.
fn stop(child: &mut Child) -> ExitStatus {
    if let Ok(None) = child.try_wait() {
        if let Ok(pid) = libc::pid_t::try_from(child.id()) {
            // SAFETY: kill(2) on the PID of our own child, not yet reaped.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let end = Instant::now() + Duration::from_secs(3);
        while matches!(child.try_wait(), Ok(None)) && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
    }
    child.wait().expect("reap a child process")
}

impl Drop for Procs {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A command that talks to the private server `server` and never starts one.
pub(super) fn jack_command(program: impl AsRef<std::ffi::OsStr>, server: &str) -> Command {
    let mut c = Command::new(program);
    c.env("JACK_DEFAULT_SERVER", server)
        .env("JACK_NO_START_SERVER", "1")
        .stdin(Stdio::null());
    c
}

/// Polls `cond` every 10 ms for up to `timeout`; panics naming `what`.
pub(super) fn wait_for(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while !cond() {
        assert!(
            Instant::now() < end,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The JACK ports of the server, one per line (None if it does not answer).
pub(super) fn jack_ports(server: &str) -> Option<Vec<String>> {
    let out = jack_command("jack_lsp", server).output().ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    })
}

/// Polls `cond` every 50 ms for up to `timeout`; whether it came true.
pub(super) fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}
