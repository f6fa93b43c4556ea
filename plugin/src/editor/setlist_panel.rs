//! GUI THREAD: the setlist panel: opening a setlist (path field, recent
//! setlists, the platform's file dialog) and the songs in order with their
//! length, stem count, state and problems. A click cues a song, a double
//! click plays it.

use egui::{self, Color32, RichText};

use super::dialog::{DialogResult, PendingDialog, Pick};
use super::format::time_mss_t;
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

/// Draws the panel.
pub fn show(editor: &mut TraxEditor, ui: &mut egui::Ui, snap: &Snapshot) {
    ui.heading("Setlist");
    open_row(editor, ui);
    status_line(ui, snap);
    ui.separator();
    song_list(editor, ui, snap);
}

fn open_row(editor: &mut TraxEditor, ui: &mut egui::Ui) {
    let mut open: Option<String> = None;
    ui.horizontal(|ui| {
        let field = ui.add(
            egui::TextEdit::singleline(&mut editor.setlist.path)
                .hint_text("setlist .toml / .json, or a folder")
                .desired_width(ui.available_width() - 80.0),
        );
        field
            .widget_info(|| egui::WidgetInfo::labeled(egui::Role::TextInput, true, "Setlist path"));
        let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.button("Open").clicked() || enter {
            open = Some(editor.setlist.path.clone());
        }
    });
    ui.horizontal(|ui| {
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
            .width(ui.available_width().min(160.0))
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

fn status_line(ui: &mut egui::Ui, snap: &Snapshot) {
    let color = match snap.load_state {
        load_state::FAILED => PROBLEM_RED,
        load_state::LOADING => LOADING_AMBER,
        _ => Color32::GRAY,
    };
    if !snap.status.is_empty() {
        ui.add(egui::Label::new(RichText::new(&snap.status).small().color(color)).wrap());
    }
}

fn song_list(editor: &mut TraxEditor, ui: &mut egui::Ui, snap: &Snapshot) {
    let Some(setlist) = snap.setlist.clone() else {
        ui.label("No setlist loaded.");
        return;
    };
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            for (i, song) in setlist.songs.iter().enumerate() {
                let state = SongState::of(snap, i);
                let (word, color) = state.label();
                let problems: Vec<_> = snap.problems.iter().filter(|p| p.song == i).collect();
                let title = RichText::new(format!("{}. {}", i + 1, song.name)).size(19.0);
                let title = if matches!(state, SongState::Playing | SongState::Loading) {
                    title.strong().color(color)
                } else {
                    title
                };
                let selected = matches!(
                    state,
                    SongState::Playing | SongState::Loading | SongState::Paused | SongState::Cued
                );
                let row = ui.add_sized(
                    [ui.available_width(), 30.0],
                    egui::Button::selectable(selected, title),
                );
                // A triple click (a hurried double) plays too.
                if row.double_clicked() || row.triple_clicked() {
                    editor.play_now(i);
                } else if row.clicked() {
                    editor.cue(i);
                }
                ui.horizontal(|ui| {
                    ui.add_space(24.0);
                    ui.label(
                        RichText::new(format!(
                            "{}   {} stems",
                            time_mss_t(song.length_frames, setlist.engine_rate_hz),
                            song.stems.len()
                        ))
                        .small(),
                    );
                    ui.label(RichText::new(word).small().color(color));
                    if !problems.is_empty() {
                        let worst = if problems.iter().any(|p| p.severity != Severity::Warning) {
                            PROBLEM_RED
                        } else {
                            LOADING_AMBER
                        };
                        ui.label(
                            RichText::new(format!("{} problem(s)", problems.len()))
                                .small()
                                .color(worst),
                        );
                    }
                });
                for p in problems {
                    let file = song
                        .stems
                        .get(p.stem)
                        .and_then(|s| s.path.file_name())
                        .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
                    let color = if p.severity == Severity::Warning {
                        LOADING_AMBER
                    } else {
                        PROBLEM_RED
                    };
                    ui.horizontal(|ui| {
                        ui.add_space(24.0);
                        ui.add(
                            egui::Label::new(
                                RichText::new(format!("{file}: {}", problem_cause(&p.message)))
                                    .small()
                                    .color(color),
                            )
                            .wrap(),
                        );
                    });
                }
                ui.add_space(4.0);
            }
        });
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
