//! GUI THREAD: the current song's sections for the performer: their
//! boundaries and names on the seek bar (with the vamp's loop and a queued
//! jump's landing), and the mixer's heading row: the jump timing selector, one
//! button per section (a click queues a jump there at that timing), the
//! Vamp button, and the queued jump or running vamp in large amber type
//! with its countdown and a Cancel button.

use egui::{self, Color32, RichText, Stroke};

use super::format::time_mss;
use super::setlist_panel::PROBLEM_RED;
use super::{Snapshot, TraxEditor};
use crate::bridge::{JumpTiming, Queued, VampLength};
use crate::loader::prepare::PreparedSong;
use crate::plugin::gui_commands::GuiCommand;
use crate::plugin::params::JumpWhen;
use crate::setlist::SectionSource;

/// The colour of a queued jump and a running vamp: amber, seen from the
/// back of a stage.
pub const QUEUED_AMBER: Color32 = Color32::from_rgb(240, 170, 40);

/// The song the transport is about and its prepared data.
fn current(snap: &Snapshot) -> Option<(usize, &PreparedSong)> {
    let song = snap.current_song();
    Some((song, snap.setlist.as_ref()?.songs.get(song)?))
}

/// The queued jump or running vamp, if the engine runs.
fn queued(snap: &Snapshot) -> Option<Queued> {
    snap.engine.as_ref()?.jumps().queued()
}

/// The name of what a queued jump lands on: its section, else its song.
fn target_name(snap: &Snapshot, q: &Queued) -> String {
    let Some(song) = snap
        .setlist
        .as_ref()
        .and_then(|s| s.songs.get(q.song as usize))
    else {
        return String::new();
    };
    let in_song = q.song as usize == snap.current_song();
    match song.sections.iter().find(|s| s.start_frames == q.frame) {
        Some(s) if in_song => s.name.clone(),
        Some(s) => format!("{} · {}", song.name, s.name),
        None if q.frame == 0 => song.name.clone(),
        None => format!("{} at {}", song.name, time_mss(q.frame, snap.rate_hz)),
    }
}

/// Draws the current song's sections into the seek bar's `rect` (`length`
/// frames wide): a line at each section's start with its name beside it,
/// the vamp's loop as an amber band, a queued jump's landing as an amber
/// line.
pub fn paint_on_seek_bar(painter: &egui::Painter, rect: egui::Rect, snap: &Snapshot, length: u64) {
    let Some((song, prepared)) = current(snap) else {
        return;
    };
    if length == 0 {
        return;
    }
    let x_of = |frame: u64| rect.left() + rect.width() * (frame.min(length) as f32 / length as f32);
    if let Some(q) = queued(snap).filter(|q| q.from_song as usize == song) {
        if q.vamp {
            let band = egui::Rect::from_min_max(
                egui::pos2(x_of(q.frame), rect.top()),
                egui::pos2(x_of(q.landing_frames), rect.bottom()),
            );
            painter.rect_filled(band, 2.0, QUEUED_AMBER.gamma_multiply(0.25));
        }
        let x = x_of(q.landing_frames);
        painter.line_segment(
            [egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())],
            Stroke::new(3.0, QUEUED_AMBER),
        );
    }
    let font = egui::FontId::proportional(13.0);
    for (i, section) in prepared.sections.iter().enumerate() {
        let Some((start, end)) = prepared.section_range(i) else {
            continue;
        };
        let (x0, x1) = (x_of(start), x_of(end));
        painter.line_segment(
            [egui::pos2(x0, rect.top()), egui::pos2(x0, rect.bottom())],
            Stroke::new(1.0, Color32::from_gray(150)),
        );
        // The name in the section's own width, cut where it would overlap
        // the next.
        let room = (x1 - x0 - 6.0).max(0.0);
        if room < 12.0 {
            continue;
        }
        let galley = painter.layout(
            section.name.clone(),
            font.clone(),
            Color32::from_gray(220),
            f32::INFINITY,
        );
        let clip = egui::Rect::from_min_max(
            egui::pos2(x0 + 3.0, rect.top()),
            egui::pos2(x0 + 3.0 + room, rect.bottom()),
        );
        // On a dark plate, readable over the RAM and cache bands.
        let at = egui::pos2(x0 + 3.0, rect.top() + 1.0);
        let plate = egui::Rect::from_min_size(at, galley.size()).expand2(egui::vec2(2.0, 0.0));
        let clipped = painter.with_clip_rect(clip.intersect(rect));
        clipped.rect_filled(plate, 2.0, Color32::from_black_alpha(170));
        clipped.galley(at, galley, Color32::WHITE);
    }
}

/// The sections row (in the row `ui` lays out left to right): timing
/// selector, section buttons, Vamp, and the queued jump or vamp with its
/// countdown and Cancel.
pub fn show(editor: &mut TraxEditor, ui: &mut egui::Ui, snap: &Snapshot) {
    let timing = editor.params.jump_timing.value();
    let q = queued(snap);
    timing_selector(editor, ui, timing);
    ui.separator();
    // The state and its buttons on the right; the sections take what is
    // left (scrolled sideways when they do not fit).
    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
        vamp_button(editor, ui, snap, q);
        queued_status(editor, ui, snap, q);
        ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
            section_buttons(editor, ui, snap, timing.timing());
        });
    });
}

fn timing_selector(editor: &TraxEditor, ui: &mut egui::Ui, timing: JumpWhen) {
    let mut chosen = None;
    let response = egui::ComboBox::from_id_salt("trax-jump-timing")
        .selected_text(format!("Jump: {}", short_label(timing.timing())))
        .show_ui(ui, |ui| {
            for t in JumpTiming::ALL {
                if ui
                    .selectable_label(timing.timing() == t, t.label())
                    .clicked()
                {
                    chosen = Some(t);
                }
            }
        })
        .response;
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Jump timing"));
    response.on_hover_text(
        "When a click on a section (or a section note on MIDI channel 16) lands: now, on the \
         next bar line (songs with a bpm), at the end of the section that plays, or at the end \
         of the song",
    );
    if let Some(t) = chosen {
        editor.set_param(&editor.params.jump_timing, JumpWhen::of(t));
    }
}

/// The timing's name in the selector's closed state (the row is narrow).
fn short_label(timing: JumpTiming) -> &'static str {
    match timing {
        JumpTiming::Now => "now",
        JumpTiming::NextBar => "next bar",
        JumpTiming::SectionEnd => "section end",
        JumpTiming::SongEnd => "song end",
    }
}

fn section_buttons(
    editor: &mut TraxEditor,
    ui: &mut egui::Ui,
    snap: &Snapshot,
    timing: JumpTiming,
) {
    let Some((song, prepared)) = current(snap) else {
        return;
    };
    if prepared.sections.is_empty() {
        if prepared.marker_errors.is_empty() {
            ui.label(
                RichText::new("No sections (setlist, marker file or stem cues)")
                    .color(Color32::GRAY),
            );
        } else {
            // The song names a marker file that cannot be read: say which
            // and why (the rest of the song plays as one section).
            ui.label(RichText::new("Marker file unreadable").color(PROBLEM_RED))
                .on_hover_text(prepared.marker_errors.join("\n"));
        }
        return;
    }
    let source = source_text(&prepared.section_source);
    let playing_here = snap.active_song == Some(song);
    let now = playing_here
        .then(|| prepared.section_at(snap.position_frames))
        .flatten();
    let target = queued(snap).filter(|q| q.song as usize == song && !q.vamp);
    egui::ScrollArea::horizontal()
        .id_salt("trax-sections")
        // Sideways when they do not fit: the bar shows that there are more
        // (and every name is on the seek bar too).
        .scroll_bar_visibility(egui::scroll_area::ScrollBarVisibility::VisibleWhenNeeded)
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                for (i, section) in prepared.sections.iter().enumerate() {
                    let is_now = now == Some(i);
                    let is_target = target.is_some_and(|q| q.frame == section.start_frames);
                    let mut text = RichText::new(&section.name);
                    if is_now {
                        text = text.strong().color(Color32::WHITE);
                    }
                    let mut button = egui::Button::new(text).selected(is_now);
                    if is_target {
                        button = button.stroke(Stroke::new(2.0, QUEUED_AMBER));
                    }
                    let response = ui.add(button);
                    if is_now && !editor.sections_seen_now(song, i) {
                        // The section that plays comes into view when it
                        // changes.
                        response.scroll_to_me(None);
                    }
                    let label = format!("Section {}", i + 1);
                    response.widget_info(|| {
                        egui::WidgetInfo::selected(egui::Role::Button, true, is_now, &label)
                    });
                    let response = response.on_hover_text(format!(
                        "{} at {}: click to jump here ({})\nSections from {source}",
                        section.name,
                        time_mss(section.start_frames, snap.rate_hz),
                        timing.label().to_lowercase()
                    ));
                    if response.clicked() {
                        if playing_here {
                            editor.send(GuiCommand::Jump {
                                song,
                                frame: section.start_frames,
                                timing,
                            });
                        } else {
                            // Nothing plays: start the song there.
                            editor.play_from(song, section.start_frames);
                        }
                    }
                }
            });
        });
}

/// Where a song's sections came from, for the section buttons' hover.
fn source_text(source: &SectionSource) -> String {
    let name = |p: &std::path::Path| {
        p.file_name().map_or_else(
            || p.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    match source {
        SectionSource::None => "nowhere".into(),
        SectionSource::Setlist => "the setlist".into(),
        SectionSource::MarkerFile(p) => name(p),
        SectionSource::StemCues(p) => format!("the cues in {}", name(p)),
    }
}

fn vamp_button(editor: &TraxEditor, ui: &mut egui::Ui, snap: &Snapshot, q: Option<Queued>) {
    let vamping = q.is_some_and(|q| q.vamp);
    let playing = snap.active_song.is_some();
    let text = RichText::new(if vamping { "Release vamp" } else { "Vamp" }).strong();
    let button = egui::Button::new(if vamping {
        text.color(Color32::BLACK)
    } else {
        text
    })
    .fill(if vamping {
        QUEUED_AMBER
    } else {
        Color32::from_rgb(50, 60, 75)
    });
    let response = ui.add_enabled(playing, button);
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, playing, "Vamp"));
    let tempo = current(snap).and_then(|(_, s)| s.tempo).is_some();
    let response = response.on_hover_text(if vamping {
        "Release: the current pass plays to its end, then the song goes on"
    } else {
        "Loop the section that plays until released (right-click: the last bars)"
    });
    if response.clicked() {
        editor.send(GuiCommand::Vamp((!vamping).then_some(VampLength::Section)));
    }
    response.context_menu(|ui| {
        for bars in [1u8, 2, 4] {
            if ui
                .add_enabled(
                    tempo,
                    egui::Button::new(format!("Vamp the last {bars} bar(s)")),
                )
                .clicked()
            {
                editor.send(GuiCommand::Vamp(Some(VampLength::Bars(bars))));
                ui.close();
            }
        }
    });
}

fn queued_status(editor: &TraxEditor, ui: &mut egui::Ui, snap: &Snapshot, q: Option<Queued>) {
    let Some(q) = q else {
        return;
    };
    if !q.vamp {
        let cancel = ui.add(egui::Button::new("Cancel"));
        cancel.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, "Cancel jump"));
        if cancel
            .on_hover_text("Cancel the queued jump: the song plays on")
            .clicked()
        {
            editor.send(GuiCommand::CancelJump);
        }
    }
    let playing_from = snap.active_song == Some(q.from_song as usize);
    let left = if playing_from {
        q.landing_frames.saturating_sub(snap.position_frames)
    } else {
        0
    };
    let text = if q.vamp {
        let len = q.landing_frames.saturating_sub(q.frame);
        format!(
            "VAMP {} · {} left",
            time_mss(len, snap.rate_hz),
            time_mss(left, snap.rate_hz)
        )
    } else {
        format!(
            "Jump to {} {}",
            target_name(snap, &q),
            if q.timing == JumpTiming::Now {
                "now".to_string()
            } else {
                format!("in {}", time_mss(left, snap.rate_hz))
            }
        )
    };
    let response = ui.add(
        egui::Label::new(RichText::new(&text).size(20.0).strong().color(QUEUED_AMBER)).truncate(),
    );
    let label = format!(
        "{}: {text}",
        if q.vamp { "Vamp state" } else { "Queued jump" }
    );
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &label));
    response.on_hover_text(if q.vamp {
        "Looping: loop length · time to the end of this pass"
    } else {
        "The queued jump: where it lands · time until it lands"
    });
}
