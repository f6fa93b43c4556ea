//! The editor's sections row through the real widgets (egui_kittest,
//! AccessKit labels), on a 120-bpm song with sections A, B, C, D every two
//! seconds: a section button queues a jump at the chosen timing and the
//! row shows it (and Cancel takes it back); the timing selector sets the
//! `jump_timing` parameter; Vamp loops the section that plays and a second
//! press releases it; every control lies inside the window at the
//! editor's minimum size. A marker file that cannot be read is named in
//! the row.

use egui_kittest::kittest::{NodeT, Queryable};

use crate::common::live_setlist::{write_setlist, GenStem, RATE_HZ};
use crate::editor::Rig;
use trax::bridge::JumpTiming;
use trax::editor::EDITOR_MIN_SIZE;
use trax::plugin::params::JumpWhen;

const SEC: u64 = RATE_HZ as u64;

fn sections_song(dir: &std::path::Path) -> std::path::PathBuf {
    write_setlist(
        dir,
        "",
        &[(
            "bpm = 120.0\n\
             [[song.section]]\nname = \"A\"\nstart_secs = 0.0\n\
             [[song.section]]\nname = \"B\"\nstart_secs = 2.0\n\
             [[song.section]]\nname = \"Chorus\"\nstart_secs = 4.0\n\
             [[song.section]]\nname = \"D\"\nstart_secs = 6.0\n",
            vec![GenStem {
                file: "a.wav",
                output: None,
                frames: 8 * SEC as usize,
                sample: &|_| 0.25,
            }],
        )],
    )
}

fn click(rig: &mut Rig, label: &str) {
    rig.harness.get_by_label(label).click();
    rig.harness.run_steps(1);
    // The command reaches the audio thread with the next block.
    rig.render(512);
    rig.harness.run_steps(1);
}

#[test]
fn section_buttons_queue_jumps_the_row_shows_them_and_vamp_loops() {
    let dir = tempfile::tempdir().expect("tempdir");
    let size = egui::vec2(EDITOR_MIN_SIZE.0, EDITOR_MIN_SIZE.1);
    let mut rig = Rig::open(None, &sections_song(dir.path()), size);
    let window = egui::Rect::from_min_size(egui::Pos2::ZERO, size);
    for label in ["Jump timing", "Vamp", "Section 1", "Section 4"] {
        let rect = rig.harness.get_by_label(label).rect();
        assert!(
            window.contains_rect(rect),
            "{label} at {rect:?} is off screen"
        );
    }
    rig.harness.get_by_label("Play").click();
    rig.harness.run_steps(1);
    rig.render(SEC as usize / 2);
    let stats = rig.stats();

    // End of section (the default): Chorus lands at B's start (2 s).
    assert_eq!(
        rig.trax.params_arc().jump_timing.value(),
        JumpWhen::SectionEnd
    );
    click(&mut rig, "Section 3");
    let q = stats.jumps().queued().expect("a jump is queued");
    assert_eq!(
        (q.frame, q.landing_frames, q.timing, q.vamp),
        (4 * SEC, 2 * SEC, JumpTiming::SectionEnd, false)
    );
    let shown = rig.harness.get_by_label_contains("Queued jump: ");
    assert!(
        window.contains_rect(shown.rect()),
        "the queued jump is on screen"
    );
    let node = shown.accesskit_node();
    let text = node.label().or_else(|| node.value()).unwrap_or_default();
    assert!(
        text.contains("Jump to Chorus in 0:01"),
        "the row names the target and the time: {text}"
    );
    click(&mut rig, "Cancel jump");
    assert_eq!(stats.jumps().queued(), None, "Cancel takes it back");

    // The timing selector sets the parameter; Next bar lands on the next
    // bar line (a bar of 4/4 at 120 bpm is 2 s).
    rig.harness.get_by_label("Jump timing").click();
    rig.harness.run_steps(2);
    rig.harness.get_by_label("Next bar").click();
    rig.harness.run_steps(2);
    assert_eq!(rig.trax.params_arc().jump_timing.value(), JumpWhen::NextBar);
    click(&mut rig, "Section 4");
    let q = stats.jumps().queued().expect("queued");
    assert_eq!((q.frame, q.landing_frames), (6 * SEC, 2 * SEC));
    // It lands: D plays from 2 s on.
    rig.render(2 * SEC as usize);
    assert_eq!(stats.jumps().landed(), 1);
    assert_eq!(stats.jumps().queued(), None);

    // Vamp the section that plays (D: 6 s to the end), then release it.
    click(&mut rig, "Vamp");
    let q = stats.jumps().queued().expect("vamping");
    assert!(q.vamp && q.frame == 6 * SEC && q.landing_frames == 8 * SEC);
    assert!(
        rig.harness
            .query_by_label_contains("Vamp state: VAMP 0:02")
            .is_some(),
        "shown with the loop's length"
    );
    click(&mut rig, "Vamp");
    assert_eq!(stats.jumps().queued(), None, "released");
}

#[test]
fn an_unreadable_marker_file_is_named_in_the_sections_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    let setlist = write_setlist(
        dir.path(),
        "",
        &[(
            "markers = \"gone.mid\"",
            vec![GenStem {
                file: "a.wav",
                output: None,
                frames: SEC as usize,
                sample: &|_| 0.25,
            }],
        )],
    );
    let mut rig = Rig::open(None, &setlist, egui::vec2(1180.0, 760.0));
    rig.harness.run_steps(1);
    assert!(
        rig.harness
            .query_by_label("Marker file unreadable")
            .is_some(),
        "the row says the marker file failed"
    );
    let view = rig.trax.shared().view.get();
    let song = &view.setlist.as_ref().expect("loaded").songs[0];
    assert!(song.sections.is_empty(), "the song is one section");
    assert!(
        song.marker_errors.len() == 1 && song.marker_errors[0].contains("gone.mid"),
        "the error names the file: {:?}",
        song.marker_errors
    );
}
