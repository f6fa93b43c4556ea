//! GUI THREAD: the auto-master panel (the bottom of the left column),
//! compact so that the setlist keeps its room: one row with the
//! original/mastered switch, A/B loudness matching and the gain-reduction
//! meter of what the listener hears; the current song's analysis (or
//! "analysing" with its progress) and what the chain does to it in two
//! small lines; the targets (mode, loudness, strength, ceiling) in a
//! section that opens on demand. The switch and the targets are plugin parameters (the host
//! records them); the rest is read from what the control thread publishes
//! and from the engine's atomics.

use std::time::Instant;

use egui::{self, Color32, RichText};

use super::setlist_panel::{LOADING_AMBER, PROBLEM_RED};
use super::{Snapshot, TraxEditor};
use crate::analysis::fit::{CEILING_RANGE_DBTP, TARGET_RANGE_LUFS};
use crate::analysis::SongStatus;
use crate::plugin::auto_master::MasteringView;
use crate::plugin::params::MasterMode;

/// The switch's width, logical pixels.
pub const SWITCH_WIDTH: f32 = 130.0;

/// The gain-reduction meter's range, dB.
pub const GR_RANGE_DB: f32 = 12.0;

/// The mastered switch's colour when on.
pub const MASTERED_GREEN: Color32 = Color32::from_rgb(70, 170, 90);

/// Gain-reduction meter ballistics: instant attack, 20 dB/s release, so a
/// limiter's brief catches stay visible.
#[derive(Debug, Default)]
pub struct ReductionMeter {
    shown_db: f32,
    last: Option<Instant>,
}

impl ReductionMeter {
    /// Takes the lowest gain since the last frame (linear) and returns the
    /// reduction to draw, dB (≥ 0).
    pub fn update(&mut self, min_gain: f32, now: Instant) -> f32 {
        let dt = self
            .last
            .map_or(0.0, |t| now.duration_since(t).as_secs_f32());
        self.last = Some(now);
        let db = if min_gain > 0.0 {
            (-20.0 * min_gain.log10()).max(0.0)
        } else {
            GR_RANGE_DB
        };
        self.shown_db = (self.shown_db - 20.0 * dt).max(db).min(GR_RANGE_DB);
        self.shown_db
    }
}

fn db_text(v: f64, unit: &str) -> String {
    if v.is_finite() {
        format!("{v:.1} {unit}")
    } else {
        format!("-inf {unit}")
    }
}

/// Draws the panel: a row a performer touches during a show (the switch,
/// A/B, the gain-reduction meter), the current song's figures in two
/// small lines, and the targets in a section that opens on demand.
pub fn show(editor: &mut TraxEditor, ui: &mut egui::Ui, snap: &Snapshot) {
    let params = std::sync::Arc::clone(&editor.params);
    let on = params.auto_master.value();
    let view = &snap.view.mastering;
    ui.horizontal(|ui| {
        switch_and_ab(editor, ui, on);
        reduction_meter(editor, ui, snap);
    });
    song_figures(ui, snap, view, on);
    egui::CollapsingHeader::new(RichText::new("Auto-master targets").small())
        .id_salt("trax-master-targets")
        .default_open(false)
        .show(ui, |ui| targets(editor, ui, view));
}

/// The original/mastered switch (one large button, green when mastered)
/// and the A/B loudness match.
fn switch_and_ab(editor: &TraxEditor, ui: &mut egui::Ui, on: bool) {
    let params = &editor.params;
    let (text, fill) = if on {
        ("MASTERED", MASTERED_GREEN)
    } else {
        ("ORIGINAL", Color32::from_gray(60))
    };
    let button = egui::Button::new(
        RichText::new(text)
            .size(20.0)
            .strong()
            .color(Color32::WHITE),
    )
    .fill(fill)
    .min_size(egui::vec2(SWITCH_WIDTH, 36.0));
    if ui
        .add(button)
        .on_hover_text(
            "Auto-master: switch between the original and the mastered sound (15 ms crossfade)",
        )
        .clicked()
    {
        editor.set_param(&params.auto_master, !on);
    }
    let mut ab = params.master_ab_match.value();
    if ui
        .checkbox(&mut ab, "A/B")
        .on_hover_text(
            "A/B at equal loudness: the original at the mastered loudness, so louder is \
             not mistaken for better",
        )
        .changed()
    {
        editor.set_param(&params.master_ab_match, ab);
    }
}

/// Gain reduction (glue × limiter) of what the listener hears: the
/// chain's, from the audio thread's atomic, while the engine plays the
/// mastered path; zero and marked "original" while it plays the original
/// (the chain still runs there, so that the switch is instant).
fn reduction_meter(editor: &mut TraxEditor, ui: &mut egui::Ui, snap: &Snapshot) {
    let (min_gain, mastered) = snap
        .engine
        .as_ref()
        .map_or((1.0, false), |s| (s.take_master_gain(), s.auto_master_on()));
    let heard_gain = if mastered { min_gain } else { 1.0 };
    let gr = editor.master_meter.update(heard_gain, Instant::now());
    let text = if mastered {
        format!("GR {gr:.1} dB")
    } else {
        "GR 0.0 dB (original)".to_string()
    };
    ui.add(
        egui::ProgressBar::new(gr / GR_RANGE_DB)
            .desired_height(20.0)
            // Nothing drawn at 0 dB (a bar's rounded end would look like
            // reduction).
            .fill(if gr >= 0.05 {
                LOADING_AMBER
            } else {
                Color32::TRANSPARENT
            })
            .text(RichText::new(text).small()),
    )
    .on_hover_text(
        "Gain reduction the listener hears: what the glue compressor and the limiter take \
         off now (0 on ORIGINAL)",
    );
}

/// The current song's analysis and what the chain does to it.
fn song_figures(ui: &mut egui::Ui, snap: &Snapshot, view: &MasteringView, on: bool) {
    let song = snap.current_song();
    let analysed = view
        .songs
        .iter()
        .filter(|s| matches!(s.status, SongStatus::Ready(_)))
        .count();
    let pending = (!view.songs.is_empty() && analysed < view.songs.len())
        .then(|| format!(" · {analysed} of {} songs analysed", view.songs.len()));
    match view.songs.get(song) {
        None => {
            ui.label(RichText::new("no setlist").small().color(Color32::GRAY));
        }
        Some(s) => match (&s.status, &s.fitted) {
            (SongStatus::Ready(a), Some(f)) => {
                let m = &a.analysis;
                ui.label(
                    RichText::new(format!(
                        "Song {}: {} · LRA {:.1} LU · peak {}",
                        song + 1,
                        db_text(m.integrated_lufs, "LUFS"),
                        m.loudness_range_lu,
                        db_text(m.true_peak_dbtp, "dBTP")
                    ))
                    .small(),
                );
                let tone = f.master.tone_db;
                ui.label(
                    RichText::new(format!(
                        "gain {:+.1} dB, out {}{}",
                        f.master.gain_db,
                        db_text(f.predicted_lufs, "LUFS"),
                        pending.unwrap_or_default()
                    ))
                    .small()
                    .color(if on {
                        MASTERED_GREEN
                    } else {
                        Color32::LIGHT_GRAY
                    }),
                )
                .on_hover_text(format!(
                    "Tone: low {:+.1}, low-mid {:+.1}, high {:+.1} dB",
                    tone[0], tone[1], tone[2]
                ));
            }
            (SongStatus::Failed(why), _) => {
                ui.add(
                    egui::Label::new(
                        RichText::new(format!("song {}: not analysed: {why}", song + 1))
                            .small()
                            .color(PROBLEM_RED),
                    )
                    .truncate(),
                )
                .on_hover_text(format!("{why}: the song plays as it is"));
            }
            (SongStatus::Analysing, _) => {
                let fraction = view.progress.as_ref().map_or(0.0, |p| p.fraction());
                ui.add(
                    egui::ProgressBar::new(fraction).desired_height(16.0).text(
                        RichText::new(format!(
                            "song {}: analysing (plays as it is){}",
                            song + 1,
                            pending.unwrap_or_default()
                        ))
                        .small()
                        .color(LOADING_AMBER),
                    ),
                );
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_millis(200));
            }
            _ => {
                ui.label(
                    RichText::new(format!(
                        "song {}: analysing (queued){}",
                        song + 1,
                        pending.unwrap_or_default()
                    ))
                    .small()
                    .color(LOADING_AMBER),
                );
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_millis(500));
            }
        },
    }
}

/// The targets: mode, loudness, strength, ceiling (plugin parameters).
fn targets(editor: &TraxEditor, ui: &mut egui::Ui, view: &MasteringView) {
    let params = &editor.params;
    let mut mode = params.master_mode.value();
    ui.horizontal(|ui| {
        egui::ComboBox::from_id_salt("trax-master-mode")
            .selected_text(match mode {
                MasterMode::Fixed => "Fixed target",
                MasterMode::MatchSetlist => "Match setlist",
                MasterMode::MatchQuietest => "Match quietest",
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut mode, MasterMode::Fixed, "Fixed target");
                ui.selectable_value(&mut mode, MasterMode::MatchSetlist, "Match setlist");
                ui.selectable_value(&mut mode, MasterMode::MatchQuietest, "Match quietest");
            })
            .response
            .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Target mode"));
        if mode != MasterMode::Fixed {
            let what = if mode == MasterMode::MatchSetlist {
                "median"
            } else {
                "quietest"
            };
            ui.label(match view.setlist_lufs {
                Some(l) => format!("{what} {}", db_text(l, "LUFS")),
                None => format!("{what}: analysing"),
            });
        } else {
            let mut target = params.master_target.value();
            let drag = ui.add(
                egui::DragValue::new(&mut target)
                    .range(TARGET_RANGE_LUFS.0..=TARGET_RANGE_LUFS.1)
                    .speed(0.1)
                    .fixed_decimals(1)
                    .suffix(" LUFS"),
            );
            drag.widget_info(|| {
                egui::WidgetInfo::labeled(egui::Role::SpinButton, true, "Target loudness")
            });
            if drag.changed() {
                editor.set_param(&params.master_target, (target * 2.0).round() / 2.0);
            }
        }
    });
    if mode != params.master_mode.value() {
        editor.set_param(&params.master_mode, mode);
    }
    ui.horizontal(|ui| {
        let mut strength = params.master_strength.value();
        let drag = ui
            .add(
                egui::DragValue::new(&mut strength)
                    .range(0.0..=100.0)
                    .speed(0.5)
                    .fixed_decimals(0)
                    .suffix(" % strength"),
            )
            .on_hover_text(
                "How far each song goes toward the target: lower keeps quiet songs quieter",
            );
        drag.widget_info(|| egui::WidgetInfo::labeled(egui::Role::SpinButton, true, "Strength"));
        if drag.changed() {
            editor.set_param(&params.master_strength, strength.round());
        }
        let mut ceiling = params.master_ceiling.value();
        let drag = ui.add(
            egui::DragValue::new(&mut ceiling)
                .range(CEILING_RANGE_DBTP.0..=CEILING_RANGE_DBTP.1)
                .speed(0.05)
                .fixed_decimals(1)
                .suffix(" dBTP ceiling"),
        );
        drag.widget_info(|| egui::WidgetInfo::labeled(egui::Role::SpinButton, true, "Ceiling"));
        if drag.changed() {
            editor.set_param(&params.master_ceiling, (ceiling * 10.0).round() / 10.0);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_reduction_meter_holds_then_falls_at_20_db_per_second() {
        let mut m = ReductionMeter::default();
        let t0 = Instant::now();
        assert_eq!(m.update(1.0, t0), 0.0);
        let half = 10f32.powf(-6.0 / 20.0);
        assert!((m.update(half, t0 + Duration::from_millis(10)) - 6.0).abs() < 1e-3);
        let shown = m.update(1.0, t0 + Duration::from_millis(110));
        assert!((shown - 4.0).abs() < 1e-3, "{shown}");
        assert_eq!(m.update(0.0, t0 + Duration::from_millis(120)), GR_RANGE_DB);
    }
}
