//! GUI THREAD: the mixer of the current song: one strip per stem with its
//! gain (dB, double-click for the setlist's value), pan, mute, solo and a
//! post-fader peak meter with a 1.5 s hold (the audio thread keeps each
//! stem's peak in an atomic; the editor takes it every frame).
//! Strips wrap onto rows, so a 30-stem song fits without a scrollbar on a
//! laptop screen (and scrolls on a small one). A change is written to the
//! persisted `mix` field (it is saved with the host's project); the control
//! thread sends what changed to the engine.

use egui::{self, Color32, RichText};

use super::format::gain_db;
use super::setlist_panel::{CUED_BLUE, LOADING_AMBER, PLAYING_GREEN, PROBLEM_RED};
use super::{Snapshot, TraxEditor};
use crate::plugin::params::StemMixState;

/// Width of one strip, logical pixels.
pub const STRIP_WIDTH: f32 = 104.0;

/// The fader's range, dB (the top is the setlist format's limit).
pub const FADER_MIN_DB: f32 = -60.0;
/// The fader's top, dB.
pub const FADER_MAX_DB: f32 = 12.0;

/// The meter's range, dBFS.
pub const METER_MIN_DB: f32 = -60.0;
/// The meter's top, dBFS (room above 0 to show overs).
pub const METER_MAX_DB: f32 = 6.0;
/// How fast the meter falls, dB per second (IEC 60268-18's peak meter
/// return is 20 dB in 1.7 s; this is close).
pub const METER_FALL_DB_PER_SEC: f32 = 12.0;
/// How long the peak hold stays.
pub const METER_HOLD_SECS: f32 = 1.5;

/// One stem's meter, as shown.
#[derive(Clone, Copy, Debug)]
pub struct Meter {
    /// The bar, dBFS.
    pub level_db: f32,
    /// The hold line, dBFS.
    pub hold_db: f32,
    /// When the hold was set, seconds of egui's clock.
    held_at: Option<f64>,
}

impl Default for Meter {
    fn default() -> Self {
        Self {
            level_db: METER_MIN_DB,
            hold_db: METER_MIN_DB,
            held_at: None,
        }
    }
}

impl Meter {
    /// Takes a new peak (linear) seen `dt_secs` after the last one, at
    /// `now_secs` (egui's clock: the wall clock in a window, the simulated
    /// one in tests).
    pub fn update(&mut self, peak: f32, dt_secs: f32, now_secs: f64) {
        let peak_db = if peak > 0.0 {
            (20.0 * peak.log10()).max(METER_MIN_DB)
        } else {
            METER_MIN_DB
        };
        let fallen = self.level_db - METER_FALL_DB_PER_SEC * dt_secs;
        self.level_db = peak_db.max(fallen).max(METER_MIN_DB);
        let expired = self
            .held_at
            .is_none_or(|t| now_secs - t > f64::from(METER_HOLD_SECS));
        if peak_db >= self.hold_db || expired {
            self.hold_db = peak_db.max(self.level_db);
            self.held_at = Some(now_secs);
        }
    }
}

/// The meters of the song on screen.
#[derive(Default)]
pub struct Meters {
    song: Option<usize>,
    meters: Vec<Meter>,
    /// The last update, seconds of egui's clock.
    last_secs: Option<f64>,
}

impl Meters {
    /// Takes every stem's peak from the engine (the heard song's; silence
    /// for a song that is only cued).
    fn update(
        &mut self,
        shared: &crate::plugin::control::Shared,
        snap: &Snapshot,
        stems: usize,
        now: f64,
    ) {
        let dt = self.last_secs.map_or(0.0, |t| (now - t).max(0.0) as f32);
        self.last_secs = Some(now);
        let song = snap.current_song();
        if self.song != Some(song) || self.meters.len() != stems {
            self.song = Some(song);
            self.meters = vec![Meter::default(); stems];
        }
        let stats = shared.engine_stats.lock().clone();
        let heard = snap.active_song == Some(song);
        for (i, m) in self.meters.iter_mut().enumerate() {
            let peak = match (&stats, heard) {
                (Some(s), true) => s.take_stem_peak(i),
                _ => 0.0,
            };
            m.update(peak, dt, now);
        }
    }
}

/// Draws the panel.
pub fn show(editor: &mut TraxEditor, ui: &mut egui::Ui, snap: &Snapshot) {
    let Some(setlist) = snap.setlist.clone() else {
        ui.heading("Mixer");
        ui.label("Open a setlist to see its stems.");
        return;
    };
    let song_index = snap.current_song();
    let Some(song) = setlist.songs.get(song_index) else {
        return;
    };
    ui.heading(format!("Mixer: {}. {}", song_index + 1, song.name));
    let (mix, _) = editor.params.mix.get();
    let now = ui.input(|i| i.time);
    editor
        .meters
        .update(&editor.shared, snap, song.stems.len(), now);
    let meters = editor.meters.meters.clone();
    let mut changed: Option<(usize, StemMixState)> = None;
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                for (i, stem) in song.stems.iter().enumerate() {
                    let setlist_value = StemMixState::from(stem.mix);
                    let current = mix
                        .get(song_index)
                        .and_then(|s| s.get(i))
                        .copied()
                        .unwrap_or(setlist_value);
                    let meter = meters.get(i).copied().unwrap_or_default();
                    if let Some(new) = strip(ui, i, &stem.name, current, setlist_value, meter) {
                        changed = Some((i, new));
                    }
                }
            });
        });
    if let Some((stem, value)) = changed {
        set_stem_mix(editor, snap, song_index, stem, value);
    }
}

/// One strip; the new value if the user changed it.
fn strip(
    ui: &mut egui::Ui,
    index: usize,
    name: &str,
    current: StemMixState,
    setlist_value: StemMixState,
    meter: Meter,
) -> Option<StemMixState> {
    let mut value = current;
    let mut reset = false;
    egui::Frame::group(ui.style())
        .inner_margin(6.0)
        .show(ui, |ui| {
            ui.set_width(STRIP_WIDTH);
            ui.vertical_centered(|ui| {
                ui.add(
                    egui::Label::new(RichText::new(name).small().strong())
                        .truncate()
                        .sense(egui::Sense::hover()),
                )
                .on_hover_text(name);
                let mut db = value.gain_db.clamp(FADER_MIN_DB, FADER_MAX_DB);
                let fader = ui
                    .horizontal(|ui| {
                        let fader = ui.add(
                            egui::Slider::new(&mut db, FADER_MIN_DB..=FADER_MAX_DB)
                                .vertical()
                                .show_value(false),
                        );
                        meter_bar(ui, index, meter, fader.rect.height());
                        fader
                    })
                    .inner;
                fader.widget_info(|| {
                    egui::WidgetInfo::labeled(
                        egui::Role::Slider,
                        true,
                        format!("Gain {}", index + 1),
                    )
                });
                if fader.changed() {
                    value.gain_db = if db <= FADER_MIN_DB { -120.0 } else { db };
                }
                if fader.double_clicked() {
                    reset = true;
                }
                ui.label(RichText::new(gain_db(value.gain_db, FADER_MIN_DB)).small());
                let pan = ui.add(
                    egui::Slider::new(&mut value.pan, -1.0..=1.0)
                        .show_value(false)
                        .clamping(egui::SliderClamping::Always),
                );
                pan.widget_info(|| {
                    egui::WidgetInfo::labeled(
                        egui::Role::Slider,
                        true,
                        format!("Pan {}", index + 1),
                    )
                });
                if pan.double_clicked() {
                    value.pan = setlist_value.pan;
                }
                ui.label(RichText::new(pan_text(value.pan)).small());
                ui.horizontal(|ui| {
                    toggle(
                        ui,
                        "M",
                        &format!("Mute {}", index + 1),
                        &mut value.mute,
                        LOADING_AMBER,
                    );
                    toggle(
                        ui,
                        "S",
                        &format!("Solo {}", index + 1),
                        &mut value.solo,
                        CUED_BLUE,
                    );
                });
            });
        });
    if reset {
        value.gain_db = setlist_value.gain_db;
    }
    (value != current).then_some(value)
}

/// A vertical peak meter beside the fader: green, amber from -6 dBFS, red
/// above 0 dBFS, with the hold as a line.
fn meter_bar(ui: &mut egui::Ui, index: usize, meter: Meter, height: f32) {
    let (rect, response) = ui.allocate_exact_size(egui::vec2(10.0, height), egui::Sense::hover());
    response.widget_info(|| {
        egui::WidgetInfo::labeled(
            egui::Role::Meter,
            true,
            format!("Meter {} {:.1} dBFS", index + 1, meter.level_db),
        )
    });
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_gray(25));
    let y_of = |db: f32| {
        let f = ((db - METER_MIN_DB) / (METER_MAX_DB - METER_MIN_DB)).clamp(0.0, 1.0);
        rect.bottom() - f * rect.height()
    };
    if meter.level_db > METER_MIN_DB {
        let color = if meter.level_db > 0.0 {
            PROBLEM_RED
        } else if meter.level_db > -6.0 {
            LOADING_AMBER
        } else {
            PLAYING_GREEN
        };
        let bar = egui::Rect::from_min_max(egui::pos2(rect.left(), y_of(meter.level_db)), rect.max);
        painter.rect_filled(bar, 1.0, color);
    }
    if meter.hold_db > METER_MIN_DB {
        let y = y_of(meter.hold_db);
        let color = if meter.hold_db > 0.0 {
            PROBLEM_RED
        } else {
            Color32::WHITE
        };
        painter.line_segment(
            [egui::pos2(rect.left(), y), egui::pos2(rect.right(), y)],
            egui::Stroke::new(2.0, color),
        );
    }
    // 0 dBFS tick.
    let y0 = y_of(0.0);
    painter.line_segment(
        [
            egui::pos2(rect.left(), y0),
            egui::pos2(rect.left() + 3.0, y0),
        ],
        egui::Stroke::new(1.0, Color32::GRAY),
    );
}

/// A strip's Mute or Solo button: `letter` on it, `name` for
/// accessibility, lit in `lit` while `on`; a click flips `on`.
fn toggle(ui: &mut egui::Ui, letter: &str, name: &str, on: &mut bool, lit: Color32) {
    let fill = if *on { lit } else { Color32::from_gray(50) };
    let button = ui.add(
        egui::Button::new(RichText::new(letter).strong())
            .selected(*on)
            .fill(fill),
    );
    let state = *on;
    button.widget_info(|| egui::WidgetInfo::selected(egui::Role::Button, true, state, name));
    if button.clicked() {
        *on = !*on;
    }
}

/// Pan as a musician reads it: `C`, `L 30`, `R 100`.
pub fn pan_text(pan: f32) -> String {
    let percent = (pan * 100.0).round() as i32;
    match percent {
        0 => "C".into(),
        p if p < 0 => format!("L {}", -p),
        p => format!("R {p}"),
    }
}

/// Writes one stem's mix into the persisted `mix` field, filling the
/// entries before it with the setlist's values.
fn set_stem_mix(
    editor: &TraxEditor,
    snap: &Snapshot,
    song: usize,
    stem: usize,
    value: StemMixState,
) {
    let Some(setlist) = &snap.setlist else {
        return;
    };
    let (mut mix, _) = editor.params.mix.get();
    if mix.len() <= song {
        mix.resize(song + 1, Vec::new());
    }
    if let Some(prepared) = setlist.songs.get(song) {
        let stems = &mut mix[song];
        while stems.len() <= stem {
            let default = prepared
                .stems
                .get(stems.len())
                .map(|s| StemMixState::from(s.mix))
                .unwrap_or(value);
            stems.push(default);
        }
        stems[stem] = value;
    }
    editor.params.mix.replace(mix);
    editor.shared.wake_control();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_meter_jumps_up_falls_slowly_and_holds_its_peak() {
        let mut m = Meter::default();
        m.update(1.0, 0.0, 10.0);
        assert_eq!((m.level_db, m.hold_db), (0.0, 0.0));
        m.update(0.0, 0.5, 10.5);
        assert!((m.level_db + 6.0).abs() < 1e-4, "{}", m.level_db);
        assert_eq!(m.hold_db, 0.0, "held");
        let t2 = 11.6;
        m.update(0.0, 1.1, t2);
        assert!(m.hold_db < -18.0, "the hold expired: {}", m.hold_db);
        m.update(0.0, 10.0, t2);
        assert_eq!(m.level_db, METER_MIN_DB);
    }

    #[test]
    fn pan_reads_as_left_centre_right() {
        assert_eq!(pan_text(0.0), "C");
        assert_eq!(pan_text(-0.3), "L 30");
        assert_eq!(pan_text(1.0), "R 100");
        assert_eq!(pan_text(0.004), "C");
    }
}
