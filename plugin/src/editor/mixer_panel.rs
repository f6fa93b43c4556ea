//! GUI THREAD: the mixer of the current song: one strip per stem with its
//! gain (dB, double-click for the setlist's value), pan, mute and solo.
//! Strips wrap onto rows, so a 30-stem song fits without a scrollbar on a
//! laptop screen (and scrolls on a small one). A change is written to the
//! persisted `mix` field (it is saved with the host's project); the control
//! thread sends what changed to the engine.

use egui::{self, Color32, RichText};

use super::format::gain_db;
use super::setlist_panel::{CUED_BLUE, LOADING_AMBER};
use super::{Snapshot, TraxEditor};
use crate::plugin::params::StemMixState;

/// Width of one strip, logical pixels.
pub const STRIP_WIDTH: f32 = 104.0;

/// The fader's range, dB (the top is the setlist format's limit).
pub const FADER_MIN_DB: f32 = -60.0;
/// The fader's top, dB.
pub const FADER_MAX_DB: f32 = 12.0;

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
                    if let Some(new) = strip(ui, i, &stem.name, current, setlist_value) {
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
                let fader = ui.add(
                    egui::Slider::new(&mut db, FADER_MIN_DB..=FADER_MAX_DB)
                        .vertical()
                        .show_value(false),
                );
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
                    let mute = ui.add(
                        egui::Button::new(RichText::new("M").strong())
                            .selected(value.mute)
                            .fill(if value.mute {
                                LOADING_AMBER
                            } else {
                                Color32::from_gray(50)
                            }),
                    );
                    mute.widget_info(|| {
                        egui::WidgetInfo::selected(
                            egui::Role::Button,
                            true,
                            value.mute,
                            format!("Mute {}", index + 1),
                        )
                    });
                    if mute.clicked() {
                        value.mute = !value.mute;
                    }
                    let solo = ui.add(
                        egui::Button::new(RichText::new("S").strong())
                            .selected(value.solo)
                            .fill(if value.solo {
                                CUED_BLUE
                            } else {
                                Color32::from_gray(50)
                            }),
                    );
                    solo.widget_info(|| {
                        egui::WidgetInfo::selected(
                            egui::Role::Button,
                            true,
                            value.solo,
                            format!("Solo {}", index + 1),
                        )
                    });
                    if solo.clicked() {
                        value.solo = !value.solo;
                    }
                });
            });
        });
    if reset {
        value.gain_db = setlist_value.gain_db;
    }
    (value != current).then_some(value)
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
    use super::pan_text;

    #[test]
    fn pan_reads_as_left_centre_right() {
        assert_eq!(pan_text(0.0), "C");
        assert_eq!(pan_text(-0.3), "L 30");
        assert_eq!(pan_text(1.0), "R 100");
        assert_eq!(pan_text(0.004), "C");
    }
}
