//! The editor's real window: `trax play --backend dummy` under Xvfb (X11,
//! Mesa's software OpenGL, 96 DPI) opens the editor on the largest setlist
//! a show has (20 songs of 30 stems of steady tones, generated); a click
//! on Play (`xdotool`, at the button's place in the layout) starts song 1,
//! seen in what the control thread logs of the engine's transport; a
//! screenshot of its window (`xwd`) is not blank, shows 30 lit meters
//! (counted in the image) and is saved as `target/editor-screenshot.ppm`;
//! Stop stops it.
//!
//! Needs `Xvfb`, `xdotool` and `xwd` (Debian: xvfb, xdotool, x11-apps;
//! `cargo xtask test` installs them). Without them it is skipped with a
//! message, unless `TRAX_REQUIRE_GUI=1` (set by `cargo xtask test`).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::child::{joined, read_lines, trax_binary, wait_line};
use crate::common::stage_setlist;
use crate::common::xvfb::Xvfb;

/// Where the Play and Stop buttons' centres are in the editor, logical
/// pixels from the window's top-left (panel margin 8, buttons 96×40 with 8
/// between them, 4 above; see editor/transport_panel.rs).
const PLAY_AT: (u32, u32) = (160, 34);
const STOP_AT: (u32, u32) = (264, 34);

/// Kills a child process when dropped (also when the test fails).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An XWD dump's pixels as RGB (the 24/32-bit TrueColor layout Xvfb
/// gives): (width, height, rgb).
fn parse_xwd(bytes: &[u8]) -> (usize, usize, Vec<[u8; 3]>) {
    let field = |i: usize| {
        u32::from_be_bytes(bytes[i * 4..i * 4 + 4].try_into().expect("4 bytes")) as usize
    };
    let (header, width, height) = (field(0), field(4), field(5));
    let bits_per_pixel = field(11);
    let bytes_per_line = field(12);
    let colormap_entries = field(19);
    assert_eq!(
        bits_per_pixel, 32,
        "a 24-bit Xvfb screen dumps 32-bit pixels"
    );
    let data = &bytes[header + colormap_entries * 12..];
    let mut rgb = Vec::with_capacity(width * height);
    for y in 0..height {
        for x in 0..width {
            let p = &data[y * bytes_per_line + x * 4..y * bytes_per_line + x * 4 + 4];
            rgb.push([p[2], p[1], p[0]]);
        }
    }
    (width, height, rgb)
}

fn write_ppm(path: &Path, width: usize, height: usize, rgb: &[[u8; 3]]) {
    let mut out = format!("P6\n{width} {height}\n255\n").into_bytes();
    for p in rgb {
        out.extend_from_slice(p);
    }
    std::fs::write(path, out).expect("write screenshot");
}

#[test]
fn the_standalone_opens_the_editor_and_a_click_on_play_plays_song_1() {
    let Some(xvfb) = Xvfb::start() else {
        return;
    };
    let display = xvfb.display.clone();
    let setlist = stage_setlist::write(
        &Path::new(env!("CARGO_TARGET_TMPDIR")).join("stage-window-20x30"),
        20,
        30,
        10,
    );
    let mut trax = Killed(
        Command::new(trax_binary())
            .args(["play", "--setlist"])
            .arg(&setlist)
            .args(["--", "--backend", "dummy"])
            .env("DISPLAY", &display)
            .env("RUST_LOG", "info")
            .env(
                "TRAX_CACHE_DIR",
                Path::new(env!("CARGO_TARGET_TMPDIR")).join("gui-cache"),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("trax play"),
    );
    let (log, rx) = read_lines(trax.0.stderr.take().expect("piped stderr"));
    let log = || joined(&log);
    wait_line(&rx, "trax: loaded", Duration::from_secs(30), &log);
    let window = xvfb.xdotool(&["search", "--sync", "--name", "^Trax$"]);
    let window = window.lines().next().expect("a Trax window").to_string();
    // A few frames to draw the loaded setlist.
    std::thread::sleep(Duration::from_millis(1500));
    let click = |at: (u32, u32)| {
        xvfb.xdotool(&[
            "mousemove",
            "--window",
            &window,
            &at.0.to_string(),
            &at.1.to_string(),
            "click",
            "1",
        ]);
    };
    // Click Play: song 1 plays; its meters light.
    click(PLAY_AT);
    wait_line(&rx, "trax: playing song 1", Duration::from_secs(10), &log);
    std::thread::sleep(Duration::from_millis(1000));
    let dump = Command::new("xwd")
        .args(["-silent", "-id", &window])
        .env("DISPLAY", &display)
        .output()
        .expect("xwd");
    assert!(dump.status.success(), "xwd: {dump:?}");
    let (width, height, rgb) = parse_xwd(&dump.stdout);
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("editor-screenshot.ppm");
    write_ppm(&shot, width, height, &rgb);
    eprintln!("screenshot: {} ({width}×{height})", shot.display());
    assert!(
        width >= 1000 && height >= 700,
        "the default size: {width}×{height}"
    );
    // Not blank: the dark background, and text and widgets on it.
    let mut colours: Vec<[u8; 3]> = rgb.clone();
    colours.sort_unstable();
    colours.dedup();
    let background = rgb[rgb.len() / 2 + width / 2];
    let drawn = rgb.iter().filter(|p| **p != background).count();
    let bright = rgb.iter().filter(|p| p.iter().all(|c| *c > 180)).count();
    assert!(
        colours.len() > 50,
        "{} colours: a blank window",
        colours.len()
    );
    assert!(
        drawn * 20 > rgb.len() && bright > 500,
        "{drawn} pixels off the background, {bright} bright (text): nothing drawn"
    );
    let meters = lit_meters(width, height, &rgb);
    assert_eq!(
        meters.len(),
        30,
        "lit meters (x, y, w, h) in the screenshot: {meters:?}"
    );
    click(STOP_AT);
    wait_line(&rx, "trax: stopped", Duration::from_secs(10), &log);
}

/// The lit meters in a screenshot: connected areas of the meters' green
/// (`PLAYING_GREEN`, exact: the inside of a bar is not anti-aliased) at
/// least 4 px wide and 12 px tall (text and the seek bar's 2-px playhead
/// are thinner). Returns each one's (x, y, width, height).
fn lit_meters(width: usize, height: usize, rgb: &[[u8; 3]]) -> Vec<(usize, usize, usize, usize)> {
    const GREEN: [u8; 3] = [80, 220, 120];
    let mut seen = vec![false; rgb.len()];
    let mut found = Vec::new();
    for start in 0..rgb.len() {
        if seen[start] || rgb[start] != GREEN {
            continue;
        }
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        let mut stack = vec![start];
        seen[start] = true;
        while let Some(i) = stack.pop() {
            let (x, y) = (i % width, i / width);
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            let mut visit = |j: usize| {
                if !seen[j] && rgb[j] == GREEN {
                    seen[j] = true;
                    stack.push(j);
                }
            };
            if x > 0 {
                visit(i - 1);
            }
            if x + 1 < width {
                visit(i + 1);
            }
            if y > 0 {
                visit(i - width);
            }
            if y + 1 < height {
                visit(i + width);
            }
        }
        let (w, h) = (x1 - x0 + 1, y1 - y0 + 1);
        if w >= 4 && h >= 12 {
            found.push((x0, y0, w, h));
        }
    }
    found
}
