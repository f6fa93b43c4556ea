//! The editor driven through its real widgets (egui_kittest, found by their
//! AccessKit labels) against a real plugin instance ([`Trax`]: player,
//! engine, control thread) on the bundled demo setlist, rendered offline
//! so that every frame is exact: the editor's clicks must reach the audio.
//! Every block (the editor's commands taken, rendering) runs under
//! `assert_no_alloc`, with the editor open and in use.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;
use nice_assert_no_alloc::assert_no_alloc;

use crate::common::gui_host::immediate_gui_context;
use trax::bridge::TransportState;
use trax::editor::TraxEditor;
use trax::plugin::control::load_state;
use trax::Trax;

const RATE_HZ: u32 = 48_000;
const BLOCK_FRAMES: usize = 512;

/// A plugin instance, its editor in a harness, and the audio they make.
pub struct Rig {
    pub trax: Trax,
    pub harness: Harness<'static, TraxEditor>,
}

fn demo_setlist() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/demo/setlist.toml")
}

impl Rig {
    /// A plugin started offline at 48 kHz with the demo setlist opened
    /// through the editor's path field.
    pub fn new() -> Self {
        Self::with_cache(None)
    }

    /// Like [`Rig::new`] with `cache` as the chunk cache (`None`: none).
    fn with_cache(cache: Option<trax::loader::CacheConfig>) -> Self {
        Self::open(cache, &demo_setlist(), egui::vec2(1180.0, 760.0))
    }

    /// A plugin started offline at 48 kHz, no cache, its editor at `size`
    /// (logical pixels) with `setlist` opened through the path field.
    pub fn open(
        cache: Option<trax::loader::CacheConfig>,
        setlist: &std::path::Path,
        size: egui::Vec2,
    ) -> Self {
        let mut trax = Trax::default();
        trax.set_cache_config(cache);
        assert!(trax.start(RATE_HZ, true));
        // What a wrapper does at activation: the gain smoother starts at
        // the parameter's value (it is 0 before).
        let gain = &trax.params_arc().gain_db;
        gain.smoothed.reset(gain.value());
        let mut editor = TraxEditor::new(Arc::clone(trax.params_arc()), Arc::clone(trax.shared()));
        editor.set_gui_context(immediate_gui_context());
        let harness = Harness::builder()
            .with_size(size)
            // A frame at 60 Hz: two clicks make a double click (< 0.3 s).
            .with_step_dt(1.0 / 60.0)
            .build_ui_state(|ui, editor: &mut TraxEditor| editor.view(ui), editor);
        // The editor's own look (type sizes, spacing), as its window has:
        // the layout tests measure what a user sees.
        trax::editor::style(&harness.ctx);
        let mut rig = Self { trax, harness };
        rig.harness.run_steps(2);
        let path = setlist;
        rig.harness.get_by_label("Setlist path").focus();
        rig.harness.run_steps(1);
        rig.harness
            .get_by_label("Setlist path")
            .type_text(path.to_str().unwrap());
        rig.harness.run_steps(1);
        rig.harness.get_by_label("Open").click();
        rig.harness.run_steps(1);
        rig.wait_loaded();
        rig
    }

    pub fn wait_loaded(&mut self) {
        let start = Instant::now();
        loop {
            let shared = self.trax.shared();
            let version = self.trax.params_arc().setlist.version();
            if !shared.is_loading(version) && shared.load_state() == load_state::READY {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "setlist load: path {:?}, state {}, status {}",
                self.trax.params_arc().setlist.get().0,
                shared.load_state(),
                shared.view.get().status
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        // A block takes the new setlist; a frame shows it.
        self.render(BLOCK_FRAMES);
        self.harness.run_steps(2);
    }

    /// Renders `frames` (whole blocks) and returns the left+right samples.
    pub fn render(&mut self, frames: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(frames * 2);
        let mut left = vec![0.0f32; BLOCK_FRAMES];
        let mut right = vec![0.0f32; BLOCK_FRAMES];
        for _ in 0..frames.div_ceil(BLOCK_FRAMES) {
            assert_no_alloc(|| {
                self.trax.begin_block();
                self.trax.render_block(&mut left, &mut right);
            });
            for (l, r) in left.iter().zip(&right) {
                out.push(*l);
                out.push(*r);
            }
        }
        out
    }

    pub fn stats(&self) -> Arc<trax::bridge::EngineStats> {
        Arc::clone(&self.trax.shared().view.get().engine.as_ref().unwrap().stats)
    }

    pub fn song_names(&self) -> Vec<String> {
        let setlist = self.trax.shared().view.get().setlist.clone();
        setlist.map_or_else(Vec::new, |s| {
            s.songs.iter().map(|s| s.name.clone()).collect()
        })
    }
}

fn peak(samples: &[f32]) -> f32 {
    samples.iter().fold(0.0f32, |m, s| m.max(s.abs()))
}

#[test]
fn the_path_field_loads_the_setlist_and_the_list_shows_its_songs() {
    let rig = Rig::new();
    let names = rig.song_names();
    assert_eq!(names.len(), 3, "the demo setlist has three songs");
    for (i, name) in names.iter().enumerate() {
        rig.harness
            .get_by_role_and_label(egui::Role::Button, &format!("{}. {name}", i + 1));
    }
    assert_eq!(
        rig.trax.params_arc().recent_setlists.get().0,
        [demo_setlist().to_str().unwrap()]
    );
}

#[test]
fn play_plays_the_cued_song_and_pause_pauses_it() {
    let mut rig = Rig::new();
    rig.harness.get_by_label("Play").click();
    rig.harness.run_steps(1);
    assert!(rig.trax.params_arc().play.value());
    let audio = rig.render(RATE_HZ as usize / 2);
    assert_eq!(rig.stats().transport(), TransportState::Playing);
    assert_eq!(rig.stats().active_song(), Some(0));
    assert!(peak(&audio) > 0.01, "song 1 sounds");
    rig.harness.run_steps(1);
    rig.harness.get_by_label("Pause").click();
    rig.harness.run_steps(1);
    rig.render(RATE_HZ as usize / 10);
    assert_eq!(rig.stats().transport(), TransportState::Paused);
}

#[test]
fn a_click_cues_a_song_and_a_double_click_plays_it() {
    let mut rig = Rig::new();
    let second = format!("2. {}", rig.song_names()[1]);
    rig.harness
        .get_by_role_and_label(egui::Role::Button, &second)
        .click();
    rig.harness.run_steps(1);
    assert_eq!(rig.trax.params_arc().song.value(), 2, "cued");
    rig.render(BLOCK_FRAMES);
    assert_eq!(rig.stats().active_song(), None, "a click does not play");
    // Half a second later (not part of the first click's double click).
    rig.harness.run_steps(30);
    let third = format!("3. {}", rig.song_names()[2]);
    for _ in 0..2 {
        rig.harness
            .get_by_role_and_label(egui::Role::Button, &third)
            .click();
        rig.harness.step();
    }
    rig.harness.run_steps(1);
    rig.render(RATE_HZ as usize / 10);
    assert!(
        rig.trax.params_arc().play.value(),
        "a double click sets play"
    );
    assert_eq!(rig.stats().active_song(), Some(2), "a double click plays");
    assert_eq!(rig.stats().transport(), TransportState::Playing);
    assert_eq!(rig.trax.params_arc().song.value(), 3);
}

#[test]
fn dragging_the_seek_bar_seeks_to_the_frame_under_the_pointer() {
    let mut rig = Rig::new();
    rig.harness.get_by_label("Play").click();
    rig.harness.run_steps(1);
    rig.render(BLOCK_FRAMES * 4);
    let length = rig.trax.shared().view.get().setlist.as_ref().unwrap().songs[0].length_frames;
    let bar = rig.harness.get_by_label("Seek").rect();
    let y = bar.center().y;
    rig.harness.hover_at(egui::pos2(bar.left() + 5.0, y));
    rig.harness.run_steps(1);
    rig.harness.drag_at(egui::pos2(bar.left() + 5.0, y));
    rig.harness.run_steps(1);
    for x in [0.2f32, 0.4, 0.5] {
        rig.harness
            .hover_at(egui::pos2(bar.left() + bar.width() * x, y));
        rig.harness.run_steps(1);
    }
    // Nothing is sought while dragging, only on release.
    rig.render(BLOCK_FRAMES);
    let before = rig
        .stats()
        .deck_position_frames(rig.stats().active_deck().unwrap());
    assert!(before < length / 10, "still near the start: {before}");
    rig.harness
        .drop_at(egui::pos2(bar.left() + bar.width() * 0.5, y));
    rig.harness.run_steps(1);
    rig.render(BLOCK_FRAMES * 8);
    let deck = rig.stats().active_deck().unwrap();
    let position = rig.stats().deck_position_frames(deck);
    let target = length / 2;
    // The seek's target, plus what played since (8 blocks at most), within
    // a pixel of the bar.
    let pixel = length / bar.width() as u64 + 1;
    assert!(
        position >= target.saturating_sub(pixel)
            && position <= target + pixel + 8 * BLOCK_FRAMES as u64,
        "position {position}, target {target} (±{pixel})"
    );
}

#[test]
fn muting_every_strip_silences_the_song_and_unmuting_one_brings_it_back() {
    let mut rig = Rig::new();
    rig.harness.get_by_label("Play").click();
    rig.harness.run_steps(1);
    assert!(peak(&rig.render(RATE_HZ as usize / 4)) > 0.01);
    let stems = rig.trax.shared().view.get().setlist.as_ref().unwrap().songs[0]
        .stems
        .len();
    for i in 1..=stems {
        // Strips wrap and the mixer scrolls: bring each into view first.
        rig.harness
            .get_by_label(&format!("Mute {i}"))
            .scroll_to_me();
        rig.harness.run_steps(2);
        rig.harness.get_by_label(&format!("Mute {i}")).click();
        rig.harness.run_steps(1);
    }
    let mix = rig.trax.params_arc().mix.get().0;
    assert!(mix[0].iter().all(|m| m.mute), "persisted: {mix:?}");
    assert_eq!(mix[0].len(), stems, "every strip was clicked");
    // The control thread applies it; the engine declicks the mute.
    std::thread::sleep(Duration::from_millis(200));
    rig.render(RATE_HZ as usize / 10);
    assert_eq!(peak(&rig.render(RATE_HZ as usize / 4)), 0.0, "all muted");
    rig.harness.get_by_label("Mute 1").click();
    rig.harness.run_steps(1);
    std::thread::sleep(Duration::from_millis(200));
    rig.render(RATE_HZ as usize / 10);
    assert!(
        peak(&rig.render(RATE_HZ as usize / 2)) > 0.001,
        "stem 1 back"
    );
}

/// The meter levels the editor shows, dBFS, from the meters' labels.
fn meter_levels(rig: &Rig) -> Vec<f32> {
    rig.harness
        .get_all_by_role(egui::Role::Meter)
        .map(|n| {
            let label = n.accesskit_node().label().unwrap_or_default();
            label
                .split_whitespace()
                .nth(2)
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("meter label {label:?}"))
        })
        .collect()
}

#[test]
fn the_meters_show_the_playing_stems_and_fall_to_the_floor_when_muted() {
    let mut rig = Rig::new();
    assert!(
        meter_levels(&rig).iter().all(|l| *l <= -60.0),
        "nothing plays"
    );
    rig.harness.get_by_label("Play").click();
    rig.harness.run_steps(1);
    rig.render(RATE_HZ as usize);
    rig.harness.run_steps(1);
    let playing = meter_levels(&rig);
    assert_eq!(playing.len(), 6, "song 1 has six stems");
    assert!(playing[0] > -40.0, "stem 1 meters its level: {playing:?}");
    rig.harness.get_by_label("Mute 1").click();
    rig.harness.run_steps(1);
    std::thread::sleep(Duration::from_millis(200));
    // Six seconds of frames at 60 Hz with audio rendered between them.
    for _ in 0..360 {
        rig.render(RATE_HZ as usize / 60);
        rig.harness.step();
    }
    let muted = meter_levels(&rig);
    assert!(
        muted[0] <= -60.0,
        "muted stem 1 falls to the floor: {muted:?}"
    );
    // (Tracker channels pause now and then: some other stem plays.)
    assert!(
        muted[1..].iter().any(|l| *l > -60.0),
        "the others still play: {muted:?}"
    );
}

/// Steps the editor (with real time passing for its cache thread) until
/// `done`, at most `secs`.
fn step_until(rig: &mut Rig, secs: u64, what: &str, mut done: impl FnMut(&mut Rig) -> bool) {
    let start = Instant::now();
    while !done(rig) {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "timed out: {what}"
        );
        rig.harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_cache_panel_warms_the_setlist_sets_the_policy_and_clears_after_a_confirmation() {
    use trax::loader::{CacheConfig, CachePolicy};
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("editor-cache-panel");
    let _ = std::fs::remove_dir_all(&dir);
    let mut rig = Rig::with_cache(Some(CacheConfig {
        dir: dir.clone(),
        policy: CachePolicy::FirstSecs(5.0),
    }));
    let link = rig.trax.shared().view.get().cache.clone().expect("a cache");
    step_until(&mut rig, 10, "the panel reads the folder", |rig| {
        rig.harness.query_by_label("Warm setlist").is_some()
    });
    let before = link.store().ledger_bytes().unwrap();
    rig.harness.get_by_label("Warm setlist").click();
    step_until(&mut rig, 120, "the warm ends", |rig| {
        rig.harness
            .query_by_label_contains("warmed 3 songs")
            .is_some()
    });
    let warmed = link.store().ledger_bytes().unwrap();
    assert!(
        warmed > before,
        "the warm wrote chunks: {before} → {warmed} bytes"
    );
    // The policy, through its menu.
    rig.harness.get_by_label("Cache policy").click();
    rig.harness.run_steps(2);
    rig.harness.get_by_label("Whole songs").click();
    step_until(&mut rig, 10, "the policy is set", |_| {
        link.policy() == CachePolicy::WholeSong
    });
    assert_eq!(
        trax::cache::FolderSettings::read(&dir).policy,
        Some(CachePolicy::WholeSong),
        "the folder's default too"
    );
    // Clear asks first.
    rig.harness.run_steps(2);
    rig.harness.get_by_label("Clear cache…").click();
    rig.harness.run_steps(2);
    assert_eq!(
        link.store().ledger_bytes().unwrap(),
        warmed,
        "not before the confirmation"
    );
    rig.harness.get_by_label("Clear").click();
    step_until(&mut rig, 10, "the cache is cleared", |_| {
        link.store().ledger_bytes().unwrap() < warmed
    });
}

fn rms(samples: &[f32]) -> f32 {
    (samples.iter().map(|s| s * s).sum::<f32>() / samples.len().max(1) as f32).sqrt()
}

#[test]
fn the_auto_master_panel_shows_the_analysis_and_its_switch_masters_the_song() {
    let mut rig = Rig::new();
    // The control thread analyses the setlist in the background; the panel
    // says so until song 1 is done.
    let start = Instant::now();
    let fitted = loop {
        let view = rig.trax.shared().view.get().mastering.clone();
        if let Some(f) = view.songs.first().and_then(|s| s.fitted) {
            break f;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "song 1 never analysed"
        );
        rig.render(BLOCK_FRAMES);
        rig.harness.run_steps(1);
        std::thread::sleep(Duration::from_millis(5));
    };
    rig.harness.run_steps(2);
    let gain = format!("gain {:+.1} dB, out", fitted.master.gain_db);
    assert!(
        rig.harness.query_by_label_contains(&gain).is_some(),
        "the panel shows the song's gain ({gain})"
    );
    assert!(
        rig.harness.query_by_label_contains("LRA").is_some(),
        "and its measurements"
    );

    // Play song 1 as it is, then switch to mastered.
    rig.harness
        .get_by_role_and_label(egui::Role::Button, "Play")
        .click();
    rig.harness.run_steps(1);
    rig.render(RATE_HZ as usize / 2);
    let original = rig.render(RATE_HZ as usize / 2);
    assert!(!rig.stats().auto_master_on());
    rig.harness.run_steps(1);
    assert!(
        rig.harness
            .query_by_label_contains("GR 0.0 dB (original)")
            .is_some(),
        "on ORIGINAL the gain-reduction meter shows what is heard: none"
    );
    rig.harness.get_by_label("ORIGINAL").click();
    rig.harness.run_steps(1);
    assert!(
        rig.trax.params_arc().auto_master.value(),
        "the switch sets am_on"
    );
    rig.render(BLOCK_FRAMES);
    assert!(
        rig.stats().auto_master_on(),
        "the engine took it at the next block"
    );
    let mastered = rig.render(RATE_HZ as usize / 2);
    rig.harness.run_steps(1);
    rig.harness.get_by_label("MASTERED");
    assert!(
        rig.harness.query_by_label_contains("(original)").is_none(),
        "on MASTERED the meter shows the chain's reduction"
    );
    let change_db = 20.0 * (rms(&mastered) / rms(&original)).log10();
    eprintln!(
        "song 1: gain {:+.1} dB, tone {:?}; level change after the switch {change_db:+.1} dB",
        fitted.master.gain_db, fitted.master.tone_db
    );
    if fitted.master.gain_db.abs() > 3.0 {
        assert!(
            change_db.signum() == fitted.master.gain_db.signum() && change_db.abs() > 1.0,
            "the mastered sound moves toward the target: {change_db:+.1} dB for a gain of {:+.1} dB",
            fitted.master.gain_db
        );
    }
}
