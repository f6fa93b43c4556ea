//! The editor as a performer sees it: what must be on screen is inside
//! the visible area, not only in the accessibility tree (AccessKit finds
//! and clicks widgets that are clipped out of view, so presence proves
//! nothing). With the largest setlist a show has (20 songs of 30 stems,
//! generated), at the default size and at the minimum size: every strip's
//! fader, meter, mute and solo lie inside the mixer's visible area, ten
//! songs' rows inside the song list's; a 60-stem song scrolls and its
//! last strip comes into view; the current song is scrolled into view;
//! the keys do what the help line says.

use std::path::{Path, PathBuf};

use egui_kittest::kittest::Queryable;

use crate::common::stage_setlist;
use crate::editor::Rig;
use trax::bridge::TransportState;
use trax::editor::{EDITOR_MIN_SIZE, EDITOR_SIZE};

const RATE_HZ: u32 = 48_000;
const BLOCK_FRAMES: usize = 512;

fn stage(name: &str, songs: usize, stems: usize) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    stage_setlist::write(&dir, songs, stems, 2)
}

/// A chunk cache in its own folder, as the standalone and the plugin run
/// with one (the cache panel then shows its folder too).
fn cache(name: &str) -> Option<trax::loader::CacheConfig> {
    Some(trax::loader::CacheConfig {
        dir: Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-cache")),
        policy: trax::cache::CachePolicy::FirstSecs(5.0),
    })
}

fn default_size() -> egui::Vec2 {
    egui::vec2(EDITOR_SIZE.0 as f32, EDITOR_SIZE.1 as f32)
}

/// The rect of the widget labelled exactly `label`.
fn rect_of(rig: &Rig, label: &str) -> egui::Rect {
    rig.harness.get_by_label(label).rect()
}

/// Whether the widget labelled `label` is drawn inside the mixer's
/// visible area (strips out of view are not drawn at all).
fn strip_visible(rig: &Rig, label: &str) -> bool {
    rig.harness
        .query_by_label(label)
        .is_some_and(|n| inside(n.rect(), rect_of(rig, "Mixer strips")))
}

/// Whether `inner` lies inside `outer` (half a pixel of rounding).
fn inside(inner: egui::Rect, outer: egui::Rect) -> bool {
    outer.expand(0.5).contains_rect(inner)
}

/// Every strip's controls of the current song, checked against the
/// mixer's visible area; the labels of those outside it.
fn strips_outside(rig: &Rig, stems: usize) -> Vec<String> {
    let area = rect_of(rig, "Mixer strips");
    let mut outside = Vec::new();
    for i in 1..=stems {
        for label in [
            format!("Gain {i}"),
            format!("Mute {i}"),
            format!("Solo {i}"),
        ] {
            if !inside(rect_of(rig, &label), area) {
                outside.push(label);
            }
        }
        let meter = rig
            .harness
            .get_by_label_contains(&format!("Meter {i} "))
            .rect();
        if !inside(meter, area) {
            outside.push(format!("Meter {i}"));
        }
        let name = stage_setlist::stem_name(i - 1);
        if !inside(rect_of(rig, &name), area) {
            outside.push(name);
        }
    }
    outside
}

/// The songs (1-based) whose rows lie outside the list's visible area.
fn songs_outside(rig: &Rig, songs: impl Iterator<Item = usize>) -> Vec<usize> {
    let list = rect_of(rig, "Song list");
    songs
        .filter(|&n| {
            let row = rig
                .harness
                .get_by_role_and_label(
                    egui::Role::Button,
                    &format!("{n}. {}", stage_setlist::song_name(n - 1)),
                )
                .rect();
            !inside(row, list)
        })
        .collect()
}

#[test]
fn thirty_strips_and_ten_songs_are_on_screen_at_the_default_and_the_minimum_size() {
    let setlist = stage("stage-20x30", 20, 30);
    let min = egui::vec2(EDITOR_MIN_SIZE.0, EDITOR_MIN_SIZE.1);
    for size in [default_size(), min] {
        let rig = Rig::open(cache("layout"), &setlist, size);
        let window = egui::Rect::from_min_size(egui::Pos2::ZERO, size);
        assert!(inside(rect_of(&rig, "Mixer strips"), window), "{size:?}");
        assert!(inside(rect_of(&rig, "Song list"), window), "{size:?}");
        let outside = strips_outside(&rig, 30);
        assert!(
            outside.is_empty(),
            "at {size:?} these are clipped out of view: {outside:?}"
        );
        assert!(
            rig.harness
                .query_by_label_contains("scroll for more")
                .is_none(),
            "30 stems need no scroll at {size:?}"
        );
        let hidden = songs_outside(&rig, 1..=10);
        assert!(
            hidden.is_empty(),
            "at {size:?} songs {hidden:?} are out of view of the list at {:?}",
            rect_of(&rig, "Song list")
        );
        // The transport's controls are on screen.
        for label in ["Previous", "Play", "Stop", "Next"] {
            let button = rig.harness.get_by_role_and_label(egui::Role::Button, label);
            assert!(inside(button.rect(), window), "{label} at {size:?}");
        }
        for label in ["Follow host", "Keys"] {
            assert!(inside(rect_of(&rig, label), window), "{label} at {size:?}");
        }
        let underruns = rig.harness.get_by_label_contains("Underruns").rect();
        assert!(inside(underruns, window), "underruns at {size:?}");
        // The switch and the gain-reduction meter stay on screen.
        assert!(inside(rect_of(&rig, "ORIGINAL"), window), "{size:?}");
        assert!(
            inside(rig.harness.get_by_label_contains("GR ").rect(), window),
            "{size:?}"
        );
        // Time left in the song and the set: song k lasts 2 + k seconds,
        // so the set (from song 1's start) lasts 20 * 2 + 190 = 230 s.
        assert!(
            rig.harness
                .query_by_label_contains("song -0:02.0  set -3:50")
                .is_some(),
            "the transport line shows the time left in the song and the set"
        );
    }
}

#[test]
fn a_sixty_stem_song_scrolls_and_its_last_strip_comes_into_view() {
    let setlist = stage("stage-1x60", 1, 60);
    let mut rig = Rig::open(cache("layout60"), &setlist, default_size());
    assert!(
        rig.harness
            .query_by_label_contains("60 stems, scroll for more")
            .is_some(),
        "the heading says there is more"
    );
    assert!(strip_visible(&rig, "Mute 1"));
    assert!(
        !strip_visible(&rig, "Mute 60"),
        "the last strip starts out of view"
    );
    // Scroll as a wheel does, 100 px at a time.
    for _ in 0..40 {
        if strip_visible(&rig, "Mute 60") {
            break;
        }
        rig.harness.get_by_label("Mixer strips").scroll_down();
        rig.harness.run_steps(2);
    }
    assert!(
        strip_visible(&rig, "Mute 60"),
        "after scrolling, the 60th strip is visible"
    );
    assert!(strip_visible(&rig, "Gain 60") && strip_visible(&rig, "Solo 60"));
}

/// Presses `key` in the editor and lets a frame take it.
fn press(rig: &mut Rig, key: egui::Key) {
    rig.harness.key_press(key);
    rig.harness.run_steps(1);
}

#[test]
fn the_cued_song_scrolls_into_view_and_the_arrows_cue() {
    let setlist = stage("stage-20x30", 20, 30);
    let mut rig = Rig::open(None, &setlist, default_size());
    for _ in 0..17 {
        press(&mut rig, egui::Key::ArrowDown);
    }
    rig.harness.run_steps(8);
    assert_eq!(rig.trax.params_arc().song.value(), 18, "Down cues the next");
    assert_eq!(songs_outside(&rig, [18].into_iter()), Vec::<usize>::new());
    assert!(
        !songs_outside(&rig, [1].into_iter()).is_empty(),
        "it scrolled"
    );
    for _ in 0..30 {
        press(&mut rig, egui::Key::ArrowDown);
    }
    assert_eq!(rig.trax.params_arc().song.value(), 20, "the last stays");
    for _ in 0..19 {
        press(&mut rig, egui::Key::ArrowUp);
    }
    rig.harness.run_steps(8);
    assert_eq!(
        rig.trax.params_arc().song.value(),
        1,
        "Up cues the previous"
    );
    assert_eq!(songs_outside(&rig, [1].into_iter()), Vec::<usize>::new());
}

#[test]
fn space_enter_escape_and_the_arrows_play_stop_and_seek() {
    let mut rig = Rig::new();
    let stats = rig.stats();
    press(&mut rig, egui::Key::Space);
    assert!(rig.trax.params_arc().play.value(), "Space plays");
    rig.render(RATE_HZ as usize);
    assert_eq!(stats.transport(), TransportState::Playing);
    assert_eq!(stats.active_song(), Some(0));
    press(&mut rig, egui::Key::Space);
    assert!(!rig.trax.params_arc().play.value(), "Space pauses");
    rig.render(RATE_HZ as usize / 10);
    assert_eq!(stats.transport(), TransportState::Paused);

    // Right seeks 5 s forward, Left 5 s back.
    let at = |rig: &Rig| {
        let s = rig.stats();
        s.active_deck().map_or(0, |d| s.deck_position_frames(d))
    };
    // Paused, a seek lands when its first chunks are loaded (nothing
    // sounds meanwhile, so an offline render does not wait for it).
    let settle = |rig: &mut Rig, want: u64| {
        let start = std::time::Instant::now();
        while at(rig) != want && start.elapsed() < std::time::Duration::from_secs(10) {
            rig.render(BLOCK_FRAMES);
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        at(rig)
    };
    let before = at(&rig);
    let target = before + 5 * u64::from(RATE_HZ);
    press(&mut rig, egui::Key::ArrowRight);
    assert_eq!(settle(&mut rig, target), target, "Right: +5 s (paused)");
    // Two presses before the first seek lands: the second steps from the
    // first's target.
    press(&mut rig, egui::Key::ArrowLeft);
    press(&mut rig, egui::Key::ArrowLeft);
    assert_eq!(
        settle(&mut rig, 0),
        0,
        "Left twice: -10 s, not before the start"
    );

    // Down cues song 2; Enter plays it; Esc stops.
    press(&mut rig, egui::Key::ArrowDown);
    assert_eq!(rig.trax.params_arc().song.value(), 2);
    press(&mut rig, egui::Key::Enter);
    rig.render(RATE_HZ as usize / 2);
    assert_eq!(stats.active_song(), Some(1), "Enter plays the cued song");
    assert_eq!(stats.transport(), TransportState::Playing);
    press(&mut rig, egui::Key::Escape);
    rig.render(RATE_HZ as usize / 2);
    assert_eq!(stats.transport(), TransportState::Stopped, "Esc stops");
    assert!(!rig.trax.params_arc().play.value());

    // Keys typed into the path field stay there.
    rig.harness.get_by_label("Setlist path").focus();
    rig.harness.run_steps(1);
    press(&mut rig, egui::Key::Space);
    assert!(
        !rig.trax.params_arc().play.value(),
        "typing a space does not play"
    );
}
