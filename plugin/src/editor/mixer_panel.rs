//! GUI THREAD: the mixer of the current song, laid out as a console: one
//! compact strip per stem (name, fader with its peak meter, gain, pan,
//! mute, solo), in as many rows as the panel needs so that a 30-stem song
//! shows every strip at the editor's default size without scrolling; past
//! what fits (a 60-stem song, a small window) the strips scroll under an
//! always-visible scroll bar and the heading says how many there are.
//! Names are ellipsized; the full name shows on hover. A change is
//! written to the persisted `mix` field (it is saved with the host's
//! project); the control thread sends what changed to the engine.

use egui::{self, Color32, RichText};

use super::format::gain_db;
use super::peak_meter::{meter_bar, Meter};
use super::setlist_panel::{CUED_BLUE, LOADING_AMBER};
use super::{Snapshot, TraxEditor};
use crate::bridge::Bus;
use crate::plugin::params::StemMixState;

/// The narrowest a strip gets, logical pixels (a 4-letter name, the fader
/// and its meter, two buttons side by side).
pub const STRIP_MIN_WIDTH: f32 = 56.0;
/// The widest a strip gets (a few stems do not make giant strips).
pub const STRIP_MAX_WIDTH: f32 = 96.0;
/// The shortest a strip gets: name, a fader of 54 px, gain, pan, M/S.
pub const STRIP_MIN_HEIGHT: f32 = 140.0;
/// The tallest a strip gets.
pub const STRIP_MAX_HEIGHT: f32 = 300.0;
/// Space between strips, logical pixels.
pub const STRIP_GAP: f32 = 4.0;

/// The fader's range, dB (the top is the setlist format's limit).
pub const FADER_MIN_DB: f32 = -60.0;
/// The fader's top, dB.
pub const FADER_MAX_DB: f32 = 12.0;

/// Width of a strip's output tag (the bus it plays on), logical pixels.
const OUTPUT_TAG_WIDTH: f32 = 22.0;

/// Heights inside a strip, logical pixels.
const NAME_HEIGHT: f32 = 16.0;
const GAIN_TEXT_HEIGHT: f32 = 14.0;
const PAN_HEIGHT: f32 = 16.0;
const BUTTON_HEIGHT: f32 = 22.0;
const INNER_GAP: f32 = 3.0;
const MARGIN: f32 = 4.0;

/// How the strips of a song are arranged in the panel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StripGrid {
    /// Strips per row.
    pub columns: usize,
    /// Rows.
    pub rows: usize,
    /// One strip's size, logical pixels.
    pub strip: egui::Vec2,
    /// Whether the rows are taller than the panel (a scroll bar shows).
    pub scrolls: bool,
}

impl StripGrid {
    /// The arrangement of `stems` strips in an `area` (logical pixels;
    /// `scroll_bar_width` is what a scroll bar takes when one is needed):
    /// the fewest rows that fit the width, each strip as large as the
    /// panel allows within [`STRIP_MIN_WIDTH`]..[`STRIP_MAX_WIDTH`] and
    /// [`STRIP_MIN_HEIGHT`]..[`STRIP_MAX_HEIGHT`]; rows of the smallest
    /// height that scroll when even those do not fit.
    pub fn fit(area: egui::Vec2, stems: usize, scroll_bar_width: f32) -> Self {
        let stems = stems.max(1);
        let fit_count =
            |len: f32, min: f32| (((len + STRIP_GAP) / (min + STRIP_GAP)).floor() as usize).max(1);
        let size =
            |len: f32, n: usize, max: f32| ((len - STRIP_GAP * (n - 1) as f32) / n as f32).min(max);
        let max_columns = fit_count(area.x, STRIP_MIN_WIDTH);
        let max_rows = fit_count(area.y, STRIP_MIN_HEIGHT);
        if stems <= max_columns * max_rows {
            let rows = stems.div_ceil(max_columns);
            let columns = stems.div_ceil(rows);
            return Self {
                columns,
                rows,
                strip: egui::vec2(
                    size(area.x, columns, STRIP_MAX_WIDTH),
                    size(area.y, rows, STRIP_MAX_HEIGHT),
                ),
                scrolls: false,
            };
        }
        let width = area.x - scroll_bar_width;
        let columns = fit_count(width, STRIP_MIN_WIDTH);
        Self {
            columns,
            rows: stems.div_ceil(columns),
            strip: egui::vec2(size(width, columns, STRIP_MAX_WIDTH), STRIP_MIN_HEIGHT),
            scrolls: true,
        }
    }

    /// The rect of strip `index` in a grid whose top-left is `origin`.
    pub fn strip_rect(&self, origin: egui::Pos2, index: usize) -> egui::Rect {
        let (row, column) = (index / self.columns, index % self.columns);
        let min = origin
            + egui::vec2(
                column as f32 * (self.strip.x + STRIP_GAP),
                row as f32 * (self.strip.y + STRIP_GAP),
            );
        egui::Rect::from_min_size(min, self.strip)
    }

    /// The whole grid's size.
    pub fn size(&self) -> egui::Vec2 {
        egui::vec2(
            self.columns as f32 * (self.strip.x + STRIP_GAP) - STRIP_GAP,
            self.rows as f32 * (self.strip.y + STRIP_GAP) - STRIP_GAP,
        )
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
    // The heading row's height, so that the grid gets the rest.
    let heading_height = ui
        .text_style_height(&egui::TextStyle::Heading)
        .max(ui.spacing().interact_size.y)
        + ui.spacing().item_spacing.y;
    let area = ui.available_size() - egui::vec2(0.0, heading_height);
    let grid = StripGrid::fit(area, song.stems.len(), ui.spacing().scroll.bar_width + 6.0);
    // The heading row: the song's sections (jumps, vamp) on the left, the
    // stem count on the right (the song's name is the transport's "Now").
    ui.horizontal(|ui| {
        ui.set_height(heading_height - ui.spacing().item_spacing.y);
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            // The stem count only when the strips scroll (the row's room
            // goes to the sections otherwise).
            if grid.scrolls {
                ui.label(
                    RichText::new(format!("{} stems, scroll for more", song.stems.len()))
                        .color(LOADING_AMBER),
                )
                .on_hover_text(format!("Mixer: {}. {}", song_index + 1, song.name));
                ui.separator();
            }
            ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                super::sections_panel::show(editor, ui, snap);
            });
        });
    });
    let (mix, _) = editor.params.mix.get();
    let now = ui.input(|i| i.time);
    editor.meters.update(snap, song.stems.len(), now);
    let meters = &editor.meters.meters;
    let mut changed: Option<(usize, StemMixState)> = None;
    let visibility = if grid.scrolls {
        egui::scroll_area::ScrollBarVisibility::AlwaysVisible
    } else {
        egui::scroll_area::ScrollBarVisibility::AlwaysHidden
    };
    egui::ScrollArea::vertical()
        .id_salt(("trax-mixer", song_index))
        .auto_shrink([false, false])
        .scroll_bar_visibility(visibility)
        .show(ui, |ui| {
            super::visible_area(ui, "Mixer strips");
            // Compact controls: the editor's stage style makes buttons 30
            // px tall, a strip's are smaller.
            ui.spacing_mut().interact_size.y = BUTTON_HEIGHT;
            ui.spacing_mut().button_padding = egui::vec2(2.0, 1.0);
            let (area, _) = ui.allocate_exact_size(grid.size(), egui::Sense::hover());
            for (i, stem) in song.stems.iter().enumerate() {
                let rect = grid.strip_rect(area.min, i);
                if !ui.is_rect_visible(rect) {
                    continue;
                }
                let setlist_value = StemMixState::from(stem.mix);
                let current = mix
                    .get(song_index)
                    .and_then(|s| s.get(i))
                    .copied()
                    .unwrap_or(setlist_value);
                let meter = meters.get(i).copied().unwrap_or_default();
                if let Some(new) = strip(ui, rect, i, &stem.name, current, setlist_value, meter) {
                    changed = Some((i, new));
                }
            }
        });
    if let Some((stem, value)) = changed {
        set_stem_mix(editor, snap, song_index, stem, value);
    }
}

/// One strip in `rect` (in the compact spacing); the new value if the
/// user changed it.
fn strip(
    ui: &mut egui::Ui,
    rect: egui::Rect,
    index: usize,
    name: &str,
    current: StemMixState,
    setlist_value: StemMixState,
    meter: Meter,
) -> Option<StemMixState> {
    let mut value = current;
    let lit = current.mute || current.solo;
    ui.painter().rect_filled(
        rect,
        4.0,
        if lit {
            Color32::from_gray(38)
        } else {
            Color32::from_gray(30)
        },
    );
    let inner = rect.shrink(MARGIN);
    let mut top = inner.top();
    let mut row = |height: f32| {
        let r = egui::Rect::from_min_size(
            egui::pos2(inner.left(), top),
            egui::vec2(inner.width(), height),
        );
        top += height + INNER_GAP;
        r
    };
    let name_rect = row(NAME_HEIGHT);
    let fader_height = inner.height()
        - NAME_HEIGHT
        - GAIN_TEXT_HEIGHT
        - PAN_HEIGHT
        - BUTTON_HEIGHT
        - 4.0 * INNER_GAP;
    let fader_rect = row(fader_height);
    let gain_rect = row(GAIN_TEXT_HEIGHT);
    let pan_rect = row(PAN_HEIGHT);
    let buttons_rect = row(BUTTON_HEIGHT);

    // The name, and at its right the stem's output bus as a tag that
    // opens the bus menu.
    let tag_width = OUTPUT_TAG_WIDTH.min(name_rect.width() / 2.0);
    let (name_rect, tag_rect) = name_rect.split_left_right_at_x(name_rect.right() - tag_width);
    ui.put(
        name_rect,
        egui::Label::new(RichText::new(name).small().strong())
            .truncate()
            .sense(egui::Sense::hover()),
    )
    .on_hover_text(name);
    output_tag(ui, tag_rect, index, name, &mut value.bus);

    // The fader, with the meter beside it.
    let meter_width = 8.0;
    let fader_width = 18.0;
    let pair = fader_width + 4.0 + meter_width;
    let left = fader_rect.center().x - pair / 2.0;
    let slider_rect = egui::Rect::from_min_size(
        egui::pos2(left, fader_rect.top()),
        egui::vec2(fader_width, fader_rect.height()),
    );
    let meter_rect = egui::Rect::from_min_size(
        egui::pos2(left + fader_width + 4.0, fader_rect.top()),
        egui::vec2(meter_width, fader_rect.height()),
    );
    let mut db = value.gain_db.clamp(FADER_MIN_DB, FADER_MAX_DB);
    let fader = ui
        .scope_builder(egui::UiBuilder::new().max_rect(slider_rect), |ui| {
            ui.spacing_mut().slider_width = slider_rect.height();
            ui.spacing_mut().interact_size.y = fader_width;
            ui.add(
                egui::Slider::new(&mut db, FADER_MIN_DB..=FADER_MAX_DB)
                    .vertical()
                    .show_value(false),
            )
        })
        .inner;
    fader.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Slider, true, format!("Gain {}", index + 1))
    });
    if fader.changed() {
        value.gain_db = if db <= FADER_MIN_DB { -120.0 } else { db };
    }
    if fader.double_clicked() {
        value.gain_db = setlist_value.gain_db;
    }
    fader.on_hover_text(format!("{name}: double-click for the setlist's gain"));
    meter_bar(ui, meter_rect, index, meter);

    ui.put(
        gain_rect,
        egui::Label::new(RichText::new(gain_db(value.gain_db, FADER_MIN_DB)).small()),
    );

    let pan = ui
        .scope_builder(egui::UiBuilder::new().max_rect(pan_rect), |ui| {
            ui.spacing_mut().slider_width = pan_rect.width();
            ui.spacing_mut().interact_size.y = PAN_HEIGHT;
            ui.add(
                egui::Slider::new(&mut value.pan, -1.0..=1.0)
                    .show_value(false)
                    .clamping(egui::SliderClamping::Always),
            )
        })
        .inner;
    pan.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Slider, true, format!("Pan {}", index + 1))
    });
    if pan.double_clicked() {
        value.pan = setlist_value.pan;
    }
    pan.on_hover_text(format!(
        "Pan {} (double-click: the setlist's pan)",
        pan_text(value.pan)
    ));

    let half = (buttons_rect.width() - INNER_GAP) / 2.0;
    let mute_rect = egui::Rect::from_min_size(buttons_rect.min, egui::vec2(half, BUTTON_HEIGHT));
    let solo_rect = mute_rect.translate(egui::vec2(half + INNER_GAP, 0.0));
    toggle(
        ui,
        mute_rect,
        "M",
        &format!("Mute {}", index + 1),
        &mut value.mute,
        LOADING_AMBER,
    );
    toggle(
        ui,
        solo_rect,
        "S",
        &format!("Solo {}", index + 1),
        &mut value.solo,
        CUED_BLUE,
    );
    (value != current).then_some(value)
}

/// A strip's Mute or Solo button in `rect`: `letter` on it, `name` for
/// accessibility, lit in `lit` while `on`; a click flips `on`.
fn toggle(
    ui: &mut egui::Ui,
    rect: egui::Rect,
    letter: &str,
    name: &str,
    on: &mut bool,
    lit: Color32,
) {
    let fill = if *on { lit } else { Color32::from_gray(50) };
    let text_color = if *on {
        Color32::BLACK
    } else {
        Color32::LIGHT_GRAY
    };
    let button = ui.put(
        rect,
        egui::Button::new(RichText::new(letter).strong().color(text_color))
            .selected(*on)
            .fill(fill)
            .min_size(rect.size()),
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

/// A stem's output bus as a short coloured tag in `rect` ("•" main, "C"
/// click, "G" guide, …, "1"/"2" aux) that opens a menu of the buses; named
/// "Output N" for accessibility.
fn output_tag(ui: &mut egui::Ui, rect: egui::Rect, index: usize, name: &str, bus: &mut Bus) {
    let (code, color) = bus_tag(*bus);
    let response = ui
        .scope_builder(egui::UiBuilder::new().max_rect(rect), |ui| {
            ui.spacing_mut().button_padding = egui::vec2(1.0, 0.0);
            ui.spacing_mut().interact_size = egui::vec2(rect.width(), rect.height());
            ui.menu_button(RichText::new(code).small().strong().color(color), |ui| {
                for b in Bus::ALL {
                    if ui.selectable_label(*bus == b, b.name()).clicked() {
                        *bus = b;
                        ui.close();
                    }
                }
            })
            .response
        })
        .inner;
    response.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Button, true, format!("Output {}", index + 1))
    });
    response.on_hover_text(format!("{name} plays on {}: click to change", bus.name()));
}

/// The tag and colour of `bus`.
pub fn bus_tag(bus: Bus) -> (&'static str, Color32) {
    match bus {
        // Not "M": that is Mute's button, just below.
        Bus::Main => ("•", Color32::GRAY),
        Bus::Click => ("C", Color32::from_rgb(240, 180, 60)),
        Bus::Guide => ("G", Color32::from_rgb(90, 200, 230)),
        Bus::Drums => ("D", Color32::from_rgb(200, 140, 230)),
        Bus::Bass => ("B", Color32::from_rgb(200, 140, 230)),
        Bus::Keys => ("K", Color32::from_rgb(200, 140, 230)),
        Bus::Vocals => ("V", Color32::from_rgb(200, 140, 230)),
        Bus::Aux1 => ("1", Color32::from_rgb(200, 140, 230)),
        Bus::Aux2 => ("2", Color32::from_rgb(200, 140, 230)),
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
    fn thirty_strips_fit_the_default_mixer_area_in_rows_and_sixty_scroll() {
        // The mixer's area at the editor's default size (measured).
        let area = egui::vec2(740.0, 520.0);
        let g = StripGrid::fit(area, 30, 14.0);
        assert!(!g.scrolls, "{g:?}");
        assert!(g.columns * g.rows >= 30 && g.rows <= 3, "{g:?}");
        assert!(g.size().x <= area.x && g.size().y <= area.y, "{g:?}");
        assert!(g.strip.x >= STRIP_MIN_WIDTH && g.strip.y >= STRIP_MIN_HEIGHT);
        let g = StripGrid::fit(area, 60, 14.0);
        assert!(g.scrolls && g.size().x <= area.x - 14.0, "{g:?}");
        assert_eq!(g.strip.y, STRIP_MIN_HEIGHT);
        let g = StripGrid::fit(area, 4, 14.0);
        assert_eq!((g.columns, g.rows, g.strip.x), (4, 1, STRIP_MAX_WIDTH));
        // Strips do not overlap and keep their order row by row.
        let g = StripGrid::fit(area, 30, 14.0);
        let a = g.strip_rect(egui::Pos2::ZERO, g.columns - 1);
        let b = g.strip_rect(egui::Pos2::ZERO, g.columns);
        assert!(b.top() > a.bottom() && b.left() == 0.0);
    }

    #[test]
    fn pan_reads_as_left_centre_right() {
        assert_eq!(pan_text(0.0), "C");
        assert_eq!(pan_text(-0.3), "L 30");
        assert_eq!(pan_text(1.0), "R 100");
        assert_eq!(pan_text(0.004), "C");
    }
}
