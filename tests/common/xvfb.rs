//! A private X server (Xvfb, 96 DPI, Mesa's software OpenGL) for the
//! editor's window tests, stopped when dropped.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::child::on_path;

/// The X tools the window tests use, with their Debian packages.
pub const X_TOOLS: [(&str, &str); 3] = [
    ("Xvfb", "xvfb"),
    ("xdotool", "xdotool"),
    ("xwd", "x11-apps"),
];

/// A running Xvfb.
pub struct Xvfb {
    child: Child,
    /// Its display, e.g. `:91`.
    pub display: String,
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Xvfb {
    /// Starts one on a display it picks (1400×900, 24-bit, 96 DPI). `None`
    /// (with a message) when the X tools are missing, unless
    /// `TRAX_REQUIRE_GUI` is set (`cargo xtask test`): then it panics.
    pub fn start() -> Option<Self> {
        let missing: Vec<_> = X_TOOLS.iter().filter(|(t, _)| !on_path(t)).collect();
        if !missing.is_empty() {
            assert!(
                std::env::var_os("TRAX_REQUIRE_GUI").is_none(),
                "missing X tools (tool, apt package): {missing:?}"
            );
            eprintln!("skipped: missing X tools (tool, apt package): {missing:?}");
            return None;
        }
        // Xvfb picks a free display itself and writes its number on fd 1
        // (choosing one here races with other tests starting theirs).
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1400x900x24",
                "-dpi",
                "96",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line);
            let _ = tx.send(line);
        });
        let mut xvfb = Self {
            child,
            display: String::new(),
        };
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("Xvfb did not say its display");
        let n: u32 = line.trim().parse().expect("Xvfb's display number");
        xvfb.display = format!(":{n}");
        let start = Instant::now();
        while !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "Xvfb did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(xvfb)
    }

    /// Runs `xdotool args` on this display; its output.
    pub fn xdotool(&self, args: &[&str]) -> String {
        let out = Command::new("xdotool")
            .args(args)
            .env("DISPLAY", &self.display)
            .output()
            .expect("xdotool");
        assert!(out.status.success(), "xdotool {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// The root window's id (a parent for embedded editors).
    pub fn root_window(&self) -> u64 {
        self.xdotool(&["search", "--maxdepth", "0", "--name", ""])
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .expect("the root window id")
    }
}
