//! GUI THREAD: the mixer's per-stem peak meters: ballistics (instant
//! rise, a steady fall, a 1.5 s hold) and drawing. The audio thread keeps
//! each stem's post-fader peak in an atomic; the editor takes it every
//! frame.

use egui::{self, Color32};

use super::setlist_panel::{LOADING_AMBER, PLAYING_GREEN, PROBLEM_RED};
use super::Snapshot;

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
    /// One per stem of that song.
    pub meters: Vec<Meter>,
    /// The last update, seconds of egui's clock.
    last_secs: Option<f64>,
}

impl Meters {
    /// Takes every stem's peak from the engine (the heard song's; silence
    /// for a song that is only cued) at `now` (seconds of egui's clock).
    pub fn update(&mut self, snap: &Snapshot, stems: usize, now: f64) {
        let dt = self.last_secs.map_or(0.0, |t| (now - t).max(0.0) as f32);
        self.last_secs = Some(now);
        let song = snap.current_song();
        if self.song != Some(song) || self.meters.len() != stems {
            self.song = Some(song);
            self.meters = vec![Meter::default(); stems];
        }
        let heard = snap.active_song == Some(song);
        for (i, m) in self.meters.iter_mut().enumerate() {
            let peak = match (&snap.engine, heard) {
                (Some(s), true) => s.take_stem_peak(i),
                _ => 0.0,
            };
            m.update(peak, dt, now);
        }
    }
}

/// Draws a vertical peak meter in `rect`: green, amber from -6 dBFS, red
/// above 0 dBFS, with the hold as a line; named `Meter {index+1}` with its
/// level for accessibility.
pub fn meter_bar(ui: &mut egui::Ui, rect: egui::Rect, index: usize, meter: Meter) {
    let response = ui.interact(
        rect,
        ui.make_persistent_id(("trax-meter", index)),
        egui::Sense::hover(),
    );
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
}
