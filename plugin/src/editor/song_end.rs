//! GUI THREAD: what happens at the end of the current song: the selector
//! on the now/next line (continue, stop, fade), written to the persisted
//! per-show `song_ends` field (the control thread sends it to the engine),
//! and the editor's side of a song that ended with a stop: the next song
//! is cued and `play` goes off, so the next Play (button, Space) starts
//! it.

use egui::{Color32, RichText};

use super::{Snapshot, TraxEditor};
use crate::bridge::SongEnd;

/// What `song` does at its end now: the editor's override for this show,
/// else the setlist's. `None` without a setlist or past its end.
pub fn effective(editor: &TraxEditor, snap: &Snapshot, song: usize) -> Option<SongEnd> {
    let setlist_end = snap.setlist.as_ref()?.songs.get(song)?.end;
    let (ends, _) = editor.params.song_ends.get();
    Some(
        ends.get(song)
            .and_then(|e| e.as_deref())
            .and_then(SongEnd::parse)
            .unwrap_or(setlist_end),
    )
}

/// Short text for the now/next line: "then next", "then stop", "then fade
/// 4 s".
pub fn short_text(end: SongEnd) -> String {
    match end {
        SongEnd::Continue => "then next".into(),
        SongEnd::Stop => "then stop".into(),
        SongEnd::Fade { secs } => format!("then fade {secs} s"),
    }
}

/// The selector for the current song's end, on the now/next line.
pub fn selector(editor: &mut TraxEditor, ui: &mut egui::Ui, snap: &Snapshot) {
    let song = snap.current_song();
    let Some(end) = effective(editor, snap, song) else {
        return;
    };
    // A fade keeps the setlist's length if it has one.
    let fade_secs = match snap.setlist.as_ref().and_then(|s| s.songs.get(song)) {
        Some(s) => match s.end {
            SongEnd::Fade { secs } => secs,
            _ => SongEnd::DEFAULT_FADE_SECS,
        },
        None => SongEnd::DEFAULT_FADE_SECS,
    };
    let color = if end.stops() {
        Color32::from_rgb(230, 170, 60)
    } else {
        Color32::GRAY
    };
    let mut chosen = None;
    let response = egui::ComboBox::from_id_salt("trax-song-end")
        .selected_text(RichText::new(short_text(end)).size(16.0).color(color))
        .show_ui(ui, |ui| {
            for (label, value) in [
                ("Continue into the next song", SongEnd::Continue),
                ("Stop, next song cued", SongEnd::Stop),
                ("Fade out, then stop", SongEnd::Fade { secs: fade_secs }),
            ] {
                if ui.selectable_label(end == value, label).clicked() {
                    chosen = Some(value);
                }
            }
        })
        .response;
    response
        .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "At the song's end"));
    response.on_hover_text(
        "What happens at the end of this song, for this show (saved with the project; \
         the setlist's `end` otherwise)",
    );
    if let Some(value) = chosen {
        set(editor, snap, song, value);
    }
}

/// Writes `song`'s end for this show into the persisted `song_ends` field.
pub fn set(editor: &TraxEditor, snap: &Snapshot, song: usize, end: SongEnd) {
    let Some(setlist) = &snap.setlist else {
        return;
    };
    if song >= setlist.songs.len() {
        return;
    }
    let (mut ends, _) = editor.params.song_ends.get();
    if ends.len() <= song {
        ends.resize(song + 1, None);
    }
    ends[song] = Some(end.to_string());
    editor.params.song_ends.replace(ends);
    editor.shared.wake_control();
}

/// A song ended with a stop since the last frame (the engine's count of
/// such ends moved): cue the song it left cued and turn `play` off, so
/// the transport, the `song` and `play` parameters and the Play button all
/// say the same: stopped, the next song cued.
pub fn follow_end_stops(editor: &mut TraxEditor, snap: &Snapshot) {
    let Some(stats) = &snap.engine else {
        return;
    };
    let (count, next) = stats.end_stops();
    let seen = editor.seen_end_stops.replace(count);
    if seen.is_none_or(|s| s == count) {
        // First look, or nothing new.
        return;
    }
    if let Some(next) = next {
        editor.cue(next);
    }
    editor.set_param(&editor.params.play, false);
}
