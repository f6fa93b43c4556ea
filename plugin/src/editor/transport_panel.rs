//! GUI THREAD: the transport panel: play/pause, stop, previous/next, the
//! current and next song in large type with elapsed and remaining time,
//! the seek bar (click or drag, seeks on release) with the song's sections
//! drawn on it ([`super::sections_panel`]), the underrun counter (red for a
//! few seconds after it moves), master gain and follow-host.

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{self, Color32, RichText, Sense, Stroke};

use super::format::{gain_db, time_mss, time_mss_t};
use super::setlist_panel::{LOADING_AMBER, PLAYING_GREEN, PROBLEM_RED};
use super::{Snapshot, TraxEditor};
use crate::bridge::TransportState;
use crate::plugin::params::{MASTER_GAIN_MAX_DB, MASTER_GAIN_MIN_DB};

/// How long the underrun counter stays red after it moved.
pub const UNDERRUN_ALERT: Duration = Duration::from_secs(3);

/// Height of the seek bar, logical pixels.
pub const SEEK_BAR_HEIGHT: f32 = 34.0;

/// The panel's own state.
#[derive(Default)]
pub struct TransportPanel {
    /// The underrun count last seen and when it last moved.
    underruns_seen: u64,
    underruns_moved_at: Option<Instant>,
    /// While the seek bar is dragged: the fraction of the song under the
    /// pointer (sought on release).
    drag_fraction: Option<f32>,
}

/// Draws the panel.
pub fn show(editor: &mut TraxEditor, ui: &mut egui::Ui, snap: &Snapshot) {
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        buttons(editor, ui, snap);
        ui.separator();
        times(ui, snap);
        ui.separator();
        master_gain(editor, ui);
    });
    ui.add_space(2.0);
    // The song names take what the counters on the right leave.
    ui.horizontal(|ui| {
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            ui.label(RichText::new("Keys").color(Color32::GRAY))
                .on_hover_text(super::keys::KEYS_HELP.replace(" · ", "\n"));
            ui.separator();
            super::remote_setting::show(editor, ui, snap);
            ui.separator();
            follow(editor, ui);
            ui.separator();
            underruns(editor, ui, snap);
            ui.separator();
            ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                now_and_next(editor, ui, snap);
            });
        });
    });
    seek_bar(editor, ui, snap);
    ui.add_space(6.0);
}

fn big(text: &str) -> RichText {
    RichText::new(text).size(20.0)
}

fn buttons(editor: &mut TraxEditor, ui: &mut egui::Ui, snap: &Snapshot) {
    let size = [96.0, 40.0];
    if ui
        .add_sized(size, egui::Button::new(big("Previous")))
        .clicked()
    {
        editor.step_song(snap, -1);
    }
    let playing = snap.play
        && matches!(
            snap.transport,
            TransportState::Playing | TransportState::Starting
        );
    let label = if playing { "Pause" } else { "Play" };
    let play = egui::Button::new(big(label).strong()).fill(if playing {
        Color32::from_rgb(40, 110, 60)
    } else {
        Color32::from_rgb(50, 60, 75)
    });
    if ui
        .add_sized(size, play)
        .on_hover_text("Play or pause (Space)")
        .clicked()
    {
        editor.play_pause(snap);
    }
    if ui
        .add_sized(size, egui::Button::new(big("Stop")))
        .on_hover_text("Stop (Esc); the next Play starts the cued song")
        .clicked()
    {
        editor.stop();
    }
    if ui.add_sized(size, egui::Button::new(big("Next"))).clicked() {
        editor.step_song(snap, 1);
    }
}

/// Length of the current song in frames, 0 if none.
fn current_length(snap: &Snapshot) -> u64 {
    snap.setlist
        .as_ref()
        .and_then(|s| s.songs.get(snap.current_song()))
        .map_or(0, |s| s.length_frames)
}

/// Frames left in the set from the current position: the rest of the
/// current song and every song after it (each played to its end).
pub fn set_remaining_frames(snap: &Snapshot) -> u64 {
    let Some(setlist) = &snap.setlist else {
        return 0;
    };
    let current = snap.current_song();
    let length = current_length(snap);
    let position = if snap.active_song.is_some() {
        snap.position_frames.min(length)
    } else {
        0
    };
    let after: u64 = setlist
        .songs
        .iter()
        .skip(current + 1)
        .map(|s| s.length_frames)
        .sum();
    length - position + after
}

fn times(ui: &mut egui::Ui, snap: &Snapshot) {
    let length = current_length(snap);
    let position = if snap.active_song.is_some() {
        snap.position_frames.min(length)
    } else {
        0
    };
    ui.vertical(|ui| {
        ui.label(
            RichText::new(format!(
                "{} / {}",
                time_mss_t(position, snap.rate_hz),
                time_mss_t(length, snap.rate_hz)
            ))
            .monospace()
            .size(22.0),
        );
        ui.label(
            RichText::new(format!(
                "song -{}  set -{}",
                time_mss_t(length - position, snap.rate_hz),
                time_mss(set_remaining_frames(snap), snap.rate_hz)
            ))
            .monospace()
            .small(),
        )
        .on_hover_text(
            "Time left in this song, and in the set (this song and every song after it)",
        );
    });
}

fn underruns(editor: &mut TraxEditor, ui: &mut egui::Ui, snap: &Snapshot) {
    let panel = &mut editor.transport;
    if snap.underrun_blocks != panel.underruns_seen {
        panel.underruns_seen = snap.underrun_blocks;
        panel.underruns_moved_at = Some(Instant::now());
    }
    let alert = panel
        .underruns_moved_at
        .is_some_and(|t| t.elapsed() < UNDERRUN_ALERT);
    let color = if alert { PROBLEM_RED } else { Color32::GRAY };
    ui.label(RichText::new(format!("Underruns: {}", snap.underrun_blocks)).color(color))
        .on_hover_text(
            "Blocks in which a stem's audio was not loaded in time and played as silence",
        );
    if alert {
        ui.ctx().request_repaint_after(Duration::from_millis(250));
    }
}

fn master_gain(editor: &mut TraxEditor, ui: &mut egui::Ui) {
    let params = std::sync::Arc::clone(&editor.params);
    let mut db = params
        .gain_db
        .value()
        .clamp(MASTER_GAIN_MIN_DB, MASTER_GAIN_MAX_DB);
    let slider = ui.add(
        egui::Slider::new(&mut db, MASTER_GAIN_MIN_DB..=MASTER_GAIN_MAX_DB)
            .text("Master")
            .custom_formatter(|v, _| gain_db(v as f32, MASTER_GAIN_MIN_DB))
            .fixed_decimals(1),
    );
    if slider.changed() {
        editor.set_param(&params.gain_db, db);
    }
    if slider.double_clicked() {
        editor.set_param(&params.gain_db, 0.0);
    }
}

fn follow(editor: &mut TraxEditor, ui: &mut egui::Ui) {
    let params = &editor.params;
    let mut follow = params.follow.value();
    if ui
        .checkbox(&mut follow, "Follow host")
        .on_hover_text("Play, stop and seek with the host's transport")
        .changed()
    {
        editor.set_param(&params.follow, follow);
    }
}

fn now_and_next(editor: &mut TraxEditor, ui: &mut egui::Ui, snap: &Snapshot) {
    let Some(setlist) = &snap.setlist else {
        return;
    };
    let current = snap.current_song();
    let name = |i: usize| {
        setlist
            .songs
            .get(i)
            .map(|s| format!("{}. {}", i + 1, s.name))
    };
    // The next song: the cued one if another is cued while one plays,
    // else the one after.
    let next = if snap.active_song.is_some() && snap.selected_song != current {
        snap.selected_song
    } else {
        current + 1
    };
    let next = name(next);
    if let Some(now) = name(current) {
        let prefix = if snap.active_song.is_some() {
            "Now"
        } else {
            "Cued"
        };
        ui.label(RichText::new(prefix).size(16.0).color(Color32::GRAY));
        // The current song keeps at least 60 % of the row when a next
        // song shows.
        let room = if next.is_some() {
            ui.available_width() * 0.6
        } else {
            ui.available_width()
        };
        ui.scope(|ui| {
            ui.set_max_width(room);
            ui.add(egui::Label::new(RichText::new(&now).size(28.0).strong()).truncate())
                .on_hover_text(&now);
        });
        super::song_end::selector(editor, ui, snap);
    }
    if let Some(next) = next {
        ui.add_space(16.0);
        ui.label(RichText::new("Next").size(16.0).color(Color32::GRAY));
        ui.add(egui::Label::new(RichText::new(&next).size(22.0)).truncate())
            .on_hover_text(&next);
    }
}

/// Per chunk of the current song: the fraction of stems in RAM and the
/// fraction with a cache file.
struct Ranges {
    ram: Vec<f32>,
    disk: Vec<f32>,
}

fn editor_ranges(
    slots_reader: &mut crate::published::Reader<Option<(u16, Arc<crate::bridge::SlotPool>)>>,
    cached: &Option<super::cache_tasks::CachedRanges>,
    snap: &Snapshot,
) -> Ranges {
    let song = snap.current_song();
    let Some(setlist) = &snap.setlist else {
        return Ranges {
            ram: Vec::new(),
            disk: Vec::new(),
        };
    };
    let Some(s) = setlist.songs.get(song) else {
        return Ranges {
            ram: Vec::new(),
            disk: Vec::new(),
        };
    };
    let chunks = super::residency::chunk_count(s.length_frames);
    let slots = snap
        .view
        .engine
        .as_ref()
        .and_then(|e| slots_reader.read(&e.loader.slots).as_ref().clone());
    let ram = match slots {
        Some((epoch, pool)) if epoch == setlist.epoch => super::residency::resident_fractions(
            &pool,
            epoch,
            song,
            s.stems.len(),
            chunks,
            s.length_frames,
        ),
        _ => vec![0.0; chunks],
    };
    let disk = match cached {
        Some(c) if c.epoch == setlist.epoch && c.song == song => c.fractions.clone(),
        _ => Vec::new(),
    };
    Ranges { ram, disk }
}

/// RAM in the bar's top third (blue; dim where only some stems are), the
/// disk cache in its bottom third (violet).
fn ranges(r: Ranges, painter: &egui::Painter, rect: egui::Rect) {
    let third = rect.height() / 3.0;
    let band = |values: &[f32], top: f32, full: Color32| {
        let n = values.len().max(1) as f32;
        for (i, &f) in values.iter().enumerate() {
            if f <= 0.0 {
                continue;
            }
            let x0 = rect.left() + rect.width() * i as f32 / n;
            let x1 = rect.left() + rect.width() * (i + 1) as f32 / n;
            let color = if f >= 1.0 {
                full
            } else {
                full.gamma_multiply(0.45)
            };
            painter.rect_filled(
                egui::Rect::from_min_max(egui::pos2(x0, top), egui::pos2(x1, top + third - 2.0)),
                0.0,
                color,
            );
        }
    };
    band(&r.ram, rect.top() + 1.0, RAM_BLUE);
    band(&r.disk, rect.bottom() - third + 1.0, CACHE_VIOLET);
}

/// Chunks in RAM on the seek bar.
pub const RAM_BLUE: Color32 = Color32::from_rgb(70, 140, 230);
/// Chunks in the disk cache on the seek bar.
pub const CACHE_VIOLET: Color32 = Color32::from_rgb(160, 110, 220);

/// The seek bar: played part, playhead, the chunks in RAM and in the disk
/// cache, the drag preview and a loading indicator while a start or seek
/// waits for the loader.
fn seek_bar(editor: &mut TraxEditor, ui: &mut egui::Ui, snap: &Snapshot) {
    let length = current_length(snap);
    let (rect, response) = ui.allocate_exact_size(
        egui::vec2(ui.available_width(), SEEK_BAR_HEIGHT),
        Sense::click_and_drag(),
    );
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Slider, true, "Seek"));
    let fraction_at = |x: f32| ((x - rect.left()) / rect.width()).clamp(0.0, 1.0);
    let panel = &mut editor.transport;
    let mut seek_to: Option<f32> = None;
    if response.dragged() {
        if let Some(p) = response.interact_pointer_pos() {
            panel.drag_fraction = Some(fraction_at(p.x));
        }
    }
    if response.drag_stopped() {
        seek_to = panel.drag_fraction.take();
    } else if response.clicked() {
        seek_to = response.interact_pointer_pos().map(|p| fraction_at(p.x));
    }
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 4.0, Color32::from_rgb(30, 33, 40));
    let drag_fraction = panel.drag_fraction;
    ranges(
        editor_ranges(&mut editor.slots, &editor.cached_ranges, snap),
        &painter,
        rect,
    );
    super::sections_panel::paint_on_seek_bar(&painter, rect, snap, length);
    let position = if snap.active_song.is_some() {
        snap.position_frames.min(length)
    } else {
        0
    };
    if length > 0 {
        let played = position as f32 / length as f32;
        // The middle third: what has played.
        let third = rect.height() / 3.0;
        let played_rect = egui::Rect::from_min_max(
            egui::pos2(rect.left(), rect.top() + third),
            egui::pos2(rect.left() + rect.width() * played, rect.bottom() - third),
        );
        painter.rect_filled(played_rect, 4.0, Color32::from_rgb(45, 95, 70));
        let x = played_rect.right();
        painter.line_segment(
            [egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())],
            Stroke::new(2.0, PLAYING_GREEN),
        );
    }
    if let Some(f) = drag_fraction {
        let x = rect.left() + rect.width() * f;
        painter.line_segment(
            [egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())],
            Stroke::new(2.0, Color32::WHITE),
        );
        painter.text(
            egui::pos2(x + 6.0, rect.center().y),
            egui::Align2::LEFT_CENTER,
            time_mss_t((f64::from(f) * length as f64) as u64, snap.rate_hz),
            egui::FontId::proportional(15.0),
            Color32::WHITE,
        );
    }
    if snap.is_loading() {
        painter.text(
            rect.right_center() - egui::vec2(8.0, 0.0),
            egui::Align2::RIGHT_CENTER,
            "loading…",
            egui::FontId::proportional(15.0),
            LOADING_AMBER,
        );
    }
    if let (Some(f), true) = (seek_to, length > 0) {
        let frame = ((f64::from(f) * length as f64) as u64).min(length.saturating_sub(1));
        if snap.active_song.is_some() {
            editor.seek(frame);
        } else {
            // Nothing plays: start the cued song there.
            editor.play_from(snap.selected_song, frame);
        }
    }
}
