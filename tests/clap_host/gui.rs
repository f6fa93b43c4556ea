//! The CLAP GUI extension as clap-validator and the hosts use it, on a
//! private Xvfb (the plugin runs in a child test process with that
//! `DISPLAY`): the editor embedded in an X11 window is created and
//! destroyed repeatedly, resized (to a larger size and below its minimum,
//! which it adjusts), and opened and closed while the plugin plays, with
//! the audio still finite and sounding.

use super::*;
use crate::common::xvfb::Xvfb;
use clack_extensions::gui::GuiSize;
use trax::editor::EDITOR_MIN_SIZE;

const CHILD_ENV: &str = "TRAX_CLAP_GUI_CHILD";
const PARENT_ENV: &str = "TRAX_CLAP_GUI_PARENT";

#[test]
pub(super) fn the_editor_opens_closes_and_resizes_repeatedly_also_while_playing() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return child();
    }
    if bundle_or_skip("the_editor_opens_closes_and_resizes_repeatedly_also_while_playing").is_none()
    {
        return;
    }
    let Some(xvfb) = Xvfb::start() else {
        return;
    };
    let root = xvfb.root_window();
    let exe = std::env::current_exe().expect("test binary");
    let out = std::process::Command::new(exe)
        .args([
            "clap_host::gui::the_editor_opens_closes_and_resizes_repeatedly_also_while_playing",
            "--exact",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(CHILD_ENV, "1")
        .env(PARENT_ENV, root.to_string())
        .env("DISPLAY", &xvfb.display)
        .output()
        .expect("run the child test");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the child failed ({:?}):\n{}\n{stderr}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
    eprintln!("{stderr}");
}

fn child() {
    let parent: u64 = std::env::var(PARENT_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .expect("parent window id");
    let bundle = load_bundle("clap gui child").expect("bundle");
    let mut inst = new_instance(&bundle);
    set_setlist(&mut inst, &corpus_setlist());
    // 1. Create and destroy, ten times, inactive.
    for i in 0..10 {
        // SAFETY: the root window lives as long as the X server.
        #[allow(unsafe_code)]
        let size = unsafe { inst.gui_open_x11(parent) }.unwrap_or_else(|e| panic!("open {i}: {e}"));
        assert!(
            f64::from(size.width) >= f64::from(EDITOR_MIN_SIZE.0)
                && f64::from(size.height) >= f64::from(EDITOR_MIN_SIZE.1),
            "open {i}: size {}×{}",
            size.width,
            size.height
        );
        inst.pump_main_thread();
        std::thread::sleep(Duration::from_millis(30));
        inst.gui_close().expect("close");
        inst.pump_main_thread();
    }
    eprintln!("10 opens and closes while inactive");
    // 2. Resize: larger, then below the minimum (the plugin adjusts it).
    #[allow(unsafe_code)]
    // SAFETY: as above.
    unsafe { inst.gui_open_x11(parent) }.expect("open");
    let big = inst
        .gui_resize(GuiSize {
            width: 1400,
            height: 900,
        })
        .expect("resize larger");
    assert_eq!((big.width, big.height), (1400, 900), "took the larger size");
    let small = inst
        .gui_resize(GuiSize {
            width: 200,
            height: 100,
        })
        .expect("resize smaller");
    assert!(
        f64::from(small.width) >= f64::from(EDITOR_MIN_SIZE.0)
            && f64::from(small.height) >= f64::from(EDITOR_MIN_SIZE.1),
        "kept its minimum: {}×{}",
        small.width,
        small.height
    );
    inst.gui_close().expect("close");
    eprintln!(
        "resized to 1400×900, and to 200×100 adjusted to {}×{}",
        small.width, small.height
    );
    // 3. Open and close while playing (realtime, 512-frame blocks).
    inst.activate(48_000.0, 512, false).expect("activate");
    inst.start_processing().expect("start processing");
    let key = key_for_song(&mut inst, 0);
    let mut peak = 0.0f32;
    for round in 0..6 {
        let open = round % 2 == 0;
        if open {
            #[allow(unsafe_code)]
            // SAFETY: as above.
            unsafe { inst.gui_open_x11(parent) }.expect("open while playing");
        }
        for b in 0..40 {
            let events = if round == 0 && b == 0 {
                vec![HostEvent::NoteOn {
                    time: 0,
                    key,
                    velocity: 1.0,
                }]
            } else {
                Vec::new()
            };
            let [l, r] = inst.process(512, &events).expect("process");
            for v in l.iter().chain(&r) {
                assert!(v.is_finite(), "round {round}: a non-finite sample");
                peak = peak.max(v.abs());
            }
            inst.pump_main_thread();
            // Real time: the loader keeps up and the editor draws.
            std::thread::sleep(Duration::from_millis(10));
        }
        if open {
            inst.gui_close().expect("close while playing");
        }
    }
    inst.deactivate();
    assert!(
        peak > 0.01,
        "the song played while the editor came and went (peak {peak})"
    );
    eprintln!("3 opens and closes while playing: peak {peak:.3}");
}
