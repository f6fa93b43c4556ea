//! The editor's live-rig controls through the real widgets (egui_kittest,
//! AccessKit labels): a stem's output tag moves it to another bus (off
//! main, persisted with the mix); the song-end selector sets this show's
//! end of the current song; after a song that ends with a stop, the next
//! song is cued, `play` is off, and one Play press starts it; the OSC
//! button turns the remote on at its port and off.

use std::time::Duration;

use egui_kittest::kittest::Queryable;

use crate::common::live_setlist::{write_setlist, GenStem, RATE_HZ};
use crate::editor::Rig;
use trax::bridge::{Bus, TransportState};

fn peak(samples: &[f32]) -> f32 {
    samples.iter().fold(0.0f32, |m, s| m.max(s.abs()))
}

/// Two short songs of constant level: A (0.25, ends with a stop), B (0.5).
fn two_songs(dir: &std::path::Path) -> std::path::PathBuf {
    write_setlist(
        dir,
        "",
        &[
            (
                "end = \"stop\"",
                vec![GenStem {
                    file: "a.wav",
                    output: None,
                    frames: RATE_HZ as usize / 2,
                    sample: &|_| 0.25,
                }],
            ),
            (
                "",
                vec![GenStem {
                    file: "b.wav",
                    output: None,
                    frames: RATE_HZ as usize * 4,
                    sample: &|_| 0.5,
                }],
            ),
        ],
    )
}

#[test]
fn an_output_tag_moves_a_stem_off_main_and_the_choice_is_saved() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rig = Rig::open(None, &two_songs(dir.path()), egui::vec2(1180.0, 760.0));
    rig.harness.get_by_label("Play").click();
    rig.harness.run_steps(1);
    rig.render(RATE_HZ as usize / 20);
    assert_eq!(peak(&rig.render(RATE_HZ as usize / 20)), 0.25, "on main");
    rig.harness.get_by_label("Output 1").click();
    rig.harness.run_steps(2);
    rig.harness.get_by_label("Click").click();
    rig.harness.run_steps(2);
    let mix = rig.trax.params_arc().mix.get().0;
    assert_eq!(mix[0][0].bus, Bus::Click, "persisted with the mix");
    std::thread::sleep(Duration::from_millis(200));
    rig.render(RATE_HZ as usize / 20);
    assert_eq!(
        peak(&rig.render(RATE_HZ as usize / 20)),
        0.0,
        "main is silent once the stem plays on Click"
    );
}

#[test]
fn after_a_song_that_stops_one_play_press_starts_the_next() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rig = Rig::open(None, &two_songs(dir.path()), egui::vec2(1180.0, 760.0));
    rig.harness.get_by_label("Play").click();
    rig.harness.run_steps(1);
    // A is half a second; then the transport stops.
    let a = rig.render(RATE_HZ as usize);
    assert!(a.contains(&0.25) && !a.contains(&0.5), "A, and not B");
    assert_eq!(rig.stats().transport(), TransportState::Stopped);
    rig.harness.run_steps(2);
    let params = rig.trax.params_arc();
    assert_eq!(params.song.value(), 2, "B is cued");
    assert!(!params.play.value(), "play is off: the transport stopped");
    rig.render(512);
    rig.harness.get_by_label("Play").click();
    rig.harness.run_steps(1);
    let b = rig.render(RATE_HZ as usize / 4);
    assert!(b.contains(&0.5), "one press plays B");
}

#[test]
fn the_song_end_selector_sets_this_shows_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rig = Rig::open(None, &two_songs(dir.path()), egui::vec2(1180.0, 760.0));
    // Song 1 stops (the setlist says so); make it fade for this show.
    let selector = rig.harness.get_by_label("At the song's end");
    assert!(
        selector.rect().max.x <= 1180.0,
        "the selector is in the window"
    );
    selector.click();
    rig.harness.run_steps(2);
    rig.harness.get_by_label("Fade out, then stop").click();
    rig.harness.run_steps(2);
    let ends = rig.trax.params_arc().song_ends.get().0;
    assert_eq!(ends.first().cloned().flatten().as_deref(), Some("fade 4"));
}

#[test]
fn the_osc_button_turns_the_remote_on_at_its_port_and_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rig = Rig::open(None, &two_songs(dir.path()), egui::vec2(1024.0, 740.0));
    let window = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1024.0, 740.0));
    let button = rig.harness.get_by_label("OSC remote");
    assert!(
        window.contains_rect(button.rect()),
        "on screen at the minimum size"
    );
    assert_eq!(rig.trax.params_arc().osc_port.get().0, 0, "off by default");
    button.click();
    rig.harness.run_steps(2);
    rig.harness.get_by_label("Listen").click();
    rig.harness.run_steps(2);
    assert_eq!(
        rig.trax.params_arc().osc_port.get().0,
        trax::editor::remote_setting::SUGGESTED_OSC_PORT,
        "saved with the project"
    );
    // The control thread opens it (or says why not: another program may
    // hold the port); the button then names the port.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match rig.trax.shared().view.get().remote.clone() {
            trax::remote::RemoteStatus::Listening { port } => {
                assert_eq!(port, 9000);
                break;
            }
            trax::remote::RemoteStatus::Failed { port, error } => {
                assert!(port == 9000 && error.contains("9000"), "{error}");
                break;
            }
            trax::remote::RemoteStatus::Off => {}
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the remote never answered"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    rig.harness.run_steps(1);
    assert!(
        rig.harness.query_by_label("Turn off").is_some(),
        "the popup stays open"
    );
    rig.harness.get_by_label("Turn off").click();
    rig.harness.run_steps(2);
    assert_eq!(rig.trax.params_arc().osc_port.get().0, 0);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !matches!(
        rig.trax.shared().view.get().remote,
        trax::remote::RemoteStatus::Off
    ) {
        assert!(
            std::time::Instant::now() < deadline,
            "the remote never closed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
