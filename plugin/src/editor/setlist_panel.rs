//! GUI THREAD: the setlist panel: opening a setlist (path field, recent
//! setlists, the platform's file dialog) and the songs in order with their
//! length, stem count, state and problems. A click cues a song, a double
//! click plays it.

use egui::{self, Color32, RichText};

use super::dialog::{DialogResult, PendingDialog, Pick};
use super::format::{time_mss, time_mss_t};
use super::{Snapshot, TraxEditor};
use crate::bridge::TransportState;
use crate::loader::prepare::Severity;
use crate::plugin::control::load_state;

/// How many recent setlists the editor remembers.
pub const RECENT_SETLISTS: usize = 8;

/// Colours of song states (readable on the dark theme).
pub const PLAYING_GREEN: Color32 = Color32::from_rgb(80, 220, 120);
/// A song waiting for the loader.
pub const LOADING_AMBER: Color32 = Color32::from_rgb(240, 180, 60);
/// The cued song.
pub const CUED_BLUE: Color32 = Color32::from_rgb(110, 170, 255);
/// Problems.
pub const PROBLEM_RED: Color32 = Color32::from_rgb(255, 95, 95);

/// The panel's own state.
pub struct SetlistPanel {
    /// The path field's text.
    path: String,
    /// Recent setlists, most recent first.
    recent: Vec<String>,
    dialog: Option<PendingDialog>,
    /// Why the last dialog could not open.
    dialog_error: Option<String>,
    /// The current song when the list was last drawn (it scrolls to a new
    /// one).
    shown_current: Option<usize>,
}

impl SetlistPanel {
    /// A panel showing `current` (the loaded setlist's path) and
    /// remembering `recent`.
    pub fn new(current: String, recent: Vec<String>) -> Self {
        Self {
            path: if current.is_empty() {
                recent.first().cloned().unwrap_or_default()
            } else {
                current
            },
            recent,
            dialog: None,
            dialog_error: None,
            shown_current: None,
        }
    }

    /// Puts `path` first among the recent setlists and returns the list.
    pub fn remember(&mut self, path: &str) -> Vec<String> {
        self.recent.retain(|p| p != path);
        self.recent.insert(0, path.to_string());
        self.recent.truncate(RECENT_SETLISTS);
        self.path = path.to_string();
        self.recent.clone()
    }

    /// Whether a dialog is open (the editor keeps polling it).
    pub fn busy(&self) -> bool {
        self.dialog.is_some()
    }

    fn start_dir(&self) -> Option<String> {
        let p = std::path::Path::new(self.path.trim());
        let dir = if self.path.ends_with('/') {
            Some(p)
        } else {
            p.parent()
        };
        dir.map(|d| d.to_string_lossy().into_owned())
            .filter(|d| !d.is_empty())
    }
}

/// The state a song is shown in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SongState {
    /// Heard now.
    Playing,
    /// Starting or seeking: waits for the loader.
    Loading,
    /// Paused at a position.
    Paused,
    /// Cued: Play starts it.
    Cued,
    /// Nothing.
    Ready,
}

impl SongState {
    /// The state of song `song` in `snap`.
    pub fn of(snap: &Snapshot, song: usize) -> Self {
        if snap.active_song == Some(song) {
            match snap.transport {
                TransportState::Playing => SongState::Playing,
                TransportState::Starting => SongState::Loading,
                TransportState::Paused => SongState::Paused,
                TransportState::Stopped => SongState::Ready,
            }
        } else if snap.selected_song == song {
            SongState::Cued
        } else {
            SongState::Ready
        }
    }

    /// Word and colour for the list.
    pub fn label(self) -> (&'static str, Color32) {
        match self {
            SongState::Playing => ("playing", PLAYING_GREEN),
            SongState::Loading => ("loading…", LOADING_AMBER),
            SongState::Paused => ("paused", LOADING_AMBER),
            SongState::Cued => ("cued", CUED_BLUE),
            SongState::Ready => ("ready", Color32::GRAY),
        }
    }
}

/// Height of a song's row in the list, logical pixels.
pub const SONG_ROW_HEIGHT: f32 = 26.0;

/// Draws the panel.
pub fn show(editor: &mut TraxEditor, ui: &mut egui::Ui, snap: &Snapshot) {
    open_rows(editor, ui);
    status_line(ui, snap);
    ui.separator();
    song_list(editor, ui, snap);
}

fn open_rows(editor: &mut TraxEditor, ui: &mut egui::Ui) {
    let mut open: Option<String> = None;
    ui.horizontal(|ui| {
        ui.heading("Setlist");
        let idle = editor.setlist.dialog.is_none();
        if ui
            .add_enabled(idle, egui::Button::new("File…"))
            .on_hover_text("Choose a setlist file")
            .clicked()
        {
            editor.setlist.dialog = Some(PendingDialog::open(
                Pick::SetlistFile,
                editor.setlist.start_dir(),
            ));
        }
        if ui
            .add_enabled(idle, egui::Button::new("Folder…"))
            .on_hover_text("Choose a folder of songs")
            .clicked()
        {
            editor.setlist.dialog = Some(PendingDialog::open(
                Pick::Folder,
                editor.setlist.start_dir(),
            ));
        }
        let recent = egui::ComboBox::from_id_salt("trax-recent")
            .selected_text("Recent")
            .width((ui.available_width() - 8.0).clamp(70.0, 110.0))
            .show_ui(ui, |ui| {
                if editor.setlist.recent.is_empty() {
                    ui.label("(none yet)");
                }
                for path in editor.setlist.recent.clone() {
                    if ui.selectable_label(false, &path).clicked() {
                        open = Some(path);
                    }
                }
            });
        recent.response.widget_info(|| {
            egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Recent setlists")
        });
    });
    // Open on the right, the path field in the rest of the row.
    ui.horizontal(|ui| {
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let open_clicked = ui.button("Open").clicked();
            let field = ui.add(
                egui::TextEdit::singleline(&mut editor.setlist.path)
                    .hint_text("setlist .toml / .json, or a folder")
                    .desired_width(ui.available_width()),
            );
            field.widget_info(|| {
                egui::WidgetInfo::labeled(egui::Role::TextInput, true, "Setlist path")
            });
            let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if open_clicked || enter {
                open = Some(editor.setlist.path.clone());
            }
        });
    });
    if let Some(dialog) = &editor.setlist.dialog {
        match dialog.poll() {
            DialogResult::Open => {
                ui.label(RichText::new("a file dialog is open…").small());
            }
            DialogResult::Chosen(path) => {
                editor.setlist.dialog = None;
                editor.setlist.dialog_error = None;
                open = Some(path);
            }
            DialogResult::Cancelled => editor.setlist.dialog = None,
            DialogResult::Unavailable(why) => {
                editor.setlist.dialog = None;
                editor.setlist.dialog_error = Some(why);
            }
        }
    }
    if let Some(why) = &editor.setlist.dialog_error {
        ui.label(RichText::new(why).small().color(PROBLEM_RED));
    }
    if let Some(path) = open {
        editor.open_setlist(&path);
    }
}

/// One line: what is loaded or why not (the whole text on hover).
fn status_line(ui: &mut egui::Ui, snap: &Snapshot) {
    let color = match snap.load_state {
        load_state::FAILED => PROBLEM_RED,
        load_state::LOADING => LOADING_AMBER,
        _ => Color32::GRAY,
    };
    if !snap.view.status.is_empty() {
        ui.add(
            egui::Label::new(
                RichText::new(snap.view.status.as_str())
                    .small()
                    .color(color),
            )
            .truncate(),
        )
        .on_hover_text(snap.view.status.as_str());
    }
}

/// The songs, one row each: number, name, length, state and a problem
/// count (the problems on hover). The current song is scrolled into view
/// whenever it changes.
fn song_list(editor: &mut TraxEditor, ui: &mut egui::Ui, snap: &Snapshot) {
    let Some(setlist) = snap.setlist.clone() else {
        ui.label("No setlist loaded.");
        return;
    };
    let current = snap.current_song();
    let scroll_to_current = editor.setlist.shown_current != Some(current);
    editor.setlist.shown_current = Some(current);
    egui::ScrollArea::vertical()
        .id_salt("trax-songs")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            super::visible_area(ui, "Song list");
            ui.spacing_mut().item_spacing.y = 2.0;
            for (i, song) in setlist.songs.iter().enumerate() {
                let problems: Vec<_> = snap.view.problems.iter().filter(|p| p.song == i).collect();
                let row = song_row(ui, snap, i, song, &setlist, &problems);
                if scroll_to_current && i == current {
                    row.scroll_to_me(None);
                }
                // A triple click (a hurried double) plays too.
                if row.double_clicked() || row.triple_clicked() {
                    editor.play_now(i);
                } else if row.clicked() {
                    editor.cue(i);
                }
            }
        });
}

/// Draws song `i`'s row and returns its response (named `N. Name`, a
/// button, selected while playing, paused, loading or cued).
fn song_row(
    ui: &mut egui::Ui,
    snap: &Snapshot,
    i: usize,
    song: &crate::loader::prepare::PreparedSong,
    setlist: &crate::loader::prepare::PreparedSetlist,
    problems: &[&crate::loader::prepare::StemProblem],
) -> egui::Response {
    let state = SongState::of(snap, i);
    let (word, color) = state.label();
    let selected = state != SongState::Ready;
    let (rect, row) = ui.allocate_exact_size(
        egui::vec2(ui.available_width(), SONG_ROW_HEIGHT),
        egui::Sense::click(),
    );
    let label = format!("{}. {}", i + 1, song.name);
    row.widget_info(|| {
        egui::WidgetInfo::selected(egui::Role::Button, true, selected, label.as_str())
    });
    let visuals = ui.style().interact_selectable(&row, selected);
    let painter = ui.painter_at(rect);
    if selected || row.hovered() {
        painter.rect_filled(rect, 3.0, visuals.weak_bg_fill);
    }
    let y = rect.center().y;
    let number_font = egui::FontId::proportional(15.0);
    let name_font = egui::FontId::proportional(18.0);
    let small = egui::FontId::proportional(14.0);
    painter.text(
        egui::pos2(rect.left() + 30.0, y),
        egui::Align2::RIGHT_CENTER,
        format!("{}.", i + 1),
        number_font,
        Color32::GRAY,
    );
    // Right to left: state, length, problems; the name takes the rest.
    let mut right = rect.right() - 6.0;
    painter.text(
        egui::pos2(right, y),
        egui::Align2::RIGHT_CENTER,
        word,
        small.clone(),
        color,
    );
    right -= 72.0;
    painter.text(
        egui::pos2(right, y),
        egui::Align2::RIGHT_CENTER,
        time_mss(song.length_frames, setlist.engine_rate_hz),
        small.clone(),
        Color32::LIGHT_GRAY,
    );
    right -= 52.0;
    if !problems.is_empty() {
        let worst = if problems.iter().any(|p| p.severity != Severity::Warning) {
            PROBLEM_RED
        } else {
            LOADING_AMBER
        };
        painter.text(
            egui::pos2(right, y),
            egui::Align2::RIGHT_CENTER,
            format!("⚠{}", problems.len()),
            small,
            worst,
        );
        right -= 34.0;
    }
    let name_color = match state {
        SongState::Playing | SongState::Loading => color,
        _ => ui.visuals().text_color(),
    };
    let left = rect.left() + 38.0;
    // The name, ellipsized to the room left of the figures.
    let mut job =
        egui::text::LayoutJob::simple_singleline(song.name.clone(), name_font, name_color);
    job.wrap = egui::text::TextWrapping::truncate_at_width((right - 6.0 - left).max(0.0));
    let galley = ui.painter().layout_job(job);
    painter.galley(
        egui::pos2(left, y - galley.size().y / 2.0),
        galley,
        name_color,
    );
    let mut hover = format!(
        "{}. {}\n{} · {} stems · {word}\nClick: cue · double-click: play now",
        i + 1,
        song.name,
        time_mss_t(song.length_frames, setlist.engine_rate_hz),
        song.stems.len()
    );
    for p in problems {
        let file = song
            .stems
            .get(p.stem)
            .and_then(|s| s.path.file_name())
            .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
        hover.push_str(&format!("\n⚠ {file}: {}", problem_cause(&p.message)));
    }
    row.on_hover_text(hover)
}

/// A problem's message without the leading file path (the list names the
/// file already): the text after the path's `": "`.
fn problem_cause(message: &str) -> &str {
    message.split_once(": ").map_or(message, |(_, cause)| cause)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_setlists_move_to_the_front_without_duplicates_and_stay_bounded() {
        let mut panel = SetlistPanel::new(String::new(), vec!["/a.toml".into(), "/b.toml".into()]);
        assert_eq!(panel.remember("/b.toml"), ["/b.toml", "/a.toml"]);
        for i in 0..20 {
            panel.remember(&format!("/{i}.toml"));
        }
        assert_eq!(panel.recent.len(), RECENT_SETLISTS);
        assert_eq!(panel.recent[0], "/19.toml");
    }

    #[test]
    fn a_problem_is_shown_by_its_cause() {
        assert_eq!(
            problem_cause("/music/x/drums.flac: file is truncated: the audio ends"),
            "file is truncated: the audio ends"
        );
        assert_eq!(problem_cause("no colon"), "no colon");
    }
}
