//! GUI THREAD: the cache panel (a strip along the bottom): how full the
//! cache is against its budget, the budget (1–50 GB, less on a small disk),
//! the policy (first N s / whole songs / auto), the hit rate, "Warm
//! setlist" with a progress bar and Cancel, "Clear cache" with a
//! confirmation, and the folder. Everything that touches the disk runs on
//! the editor's cache thread ([`super::cache_tasks`]).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use egui::{self, Color32, RichText};

use super::cache_tasks::{CacheTask, CacheView, CacheWorker};
use super::format::bytes;
use super::setlist_panel::{LOADING_AMBER, PROBLEM_RED};
use super::{Snapshot, TraxEditor};
use crate::cache::CachePolicy;

/// The budget slider's range, GB (decimal).
pub const BUDGET_RANGE_GB: (f64, f64) = (1.0, 50.0);

/// How often the panel asks for fresh figures while it is drawn.
const REFRESH: Duration = Duration::from_secs(2);

/// The panel's own state.
#[derive(Default)]
pub struct CachePanel {
    worker: Option<CacheWorker>,
    /// Why the worker could not start.
    start_error: Option<String>,
    last_refresh: Option<Instant>,
    /// The budget being dragged, GB (sent on release).
    budget_gb: Option<f64>,
    confirm_clear: bool,
}

/// The largest budget offered, GB: 50, or what the disk can hold (what
/// the cache uses plus 90 % of the free space) when that is less, but never
/// under the smallest step.
pub fn max_budget_gb(view: &CacheView) -> f64 {
    let disk = view
        .free_bytes
        .map(|free| (view.used_bytes + free / 10 * 9) as f64 / 1e9);
    disk.map_or(BUDGET_RANGE_GB.1, |d| d.min(BUDGET_RANGE_GB.1))
        .max(BUDGET_RANGE_GB.0)
}

/// Draws the panel.
pub fn show(editor: &mut TraxEditor, ui: &mut egui::Ui, snap: &Snapshot) {
    let link = snap.view.cache.clone();
    let panel = &mut editor.cache;
    let Some(link) = link else {
        let why = snap
            .view
            .cache_error
            .clone()
            .unwrap_or_else(|| "no cache folder (TRAX_CACHE_DIR or the platform's)".into());
        ui.label(
            RichText::new(format!("Cache off: {why}"))
                .small()
                .color(Color32::GRAY),
        );
        return;
    };
    let session_hit_rate = link.stats().hit_rate();
    if panel.worker.is_none() && panel.start_error.is_none() {
        match CacheWorker::start(link) {
            Ok(w) => panel.worker = Some(w),
            Err(e) => panel.start_error = Some(format!("cannot start the cache thread: {e}")),
        }
    }
    let Some(worker) = &mut panel.worker else {
        let why = panel.start_error.clone().unwrap_or_default();
        ui.label(RichText::new(why).small().color(PROBLEM_RED));
        return;
    };
    if panel.last_refresh.is_none_or(|t| t.elapsed() > REFRESH) {
        panel.last_refresh = Some(Instant::now());
        let song = snap
            .setlist
            .as_ref()
            .map(|s| (std::sync::Arc::clone(s), snap.current_song()));
        worker.send(CacheTask::Refresh(song));
        ui.ctx().request_repaint_after(REFRESH);
    }
    let view = worker.view();
    let cached = view.cached.clone();
    let warming = worker.warming.load(Ordering::Acquire);
    let setlist_path = editor.params.setlist.get().0;
    let mut tasks = Vec::new();
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Cache").strong())
            .on_hover_text(format!(
                "The chunk cache in {} (TRAX_CACHE_DIR sets the folder)",
                view.dir
            ));
        if !view.loaded {
            ui.label("reading…");
            return;
        }
        // Usage against the budget.
        let fill = if view.budget_bytes > 0 {
            (view.used_bytes as f64 / view.budget_bytes as f64).min(1.0) as f32
        } else {
            0.0
        };
        ui.add(
            egui::ProgressBar::new(fill)
                .desired_width(150.0)
                .text(format!(
                    "{} of {}",
                    bytes(view.used_bytes),
                    bytes(view.budget_bytes)
                )),
        )
        .on_hover_text("Bytes in the cache, of its budget");
        // Budget.
        let max_gb = max_budget_gb(&view);
        let mut gb = panel
            .budget_gb
            .unwrap_or(view.budget_bytes as f64 / 1e9)
            .clamp(BUDGET_RANGE_GB.0, max_gb);
        let slider = ui
            .scope(|ui| {
                ui.spacing_mut().slider_width = 70.0;
                ui.add(
                    egui::Slider::new(&mut gb, BUDGET_RANGE_GB.0..=max_gb)
                        .text("GB")
                        .fixed_decimals(0)
                        .step_by(1.0),
                )
            })
            .inner
            .on_hover_text("The cache's budget, GB: the oldest chunks go past it");
        if slider.changed() {
            panel.budget_gb = Some(gb);
        }
        if slider.drag_stopped() || (slider.changed() && !slider.dragged()) {
            tasks.push(CacheTask::SetBudget((gb * 1e9) as u64));
            panel.budget_gb = None;
        }
        // Policy.
        let policy = view.policy.unwrap_or(CachePolicy::FirstSecs(60.0));
        let secs = match policy {
            CachePolicy::FirstSecs(s) | CachePolicy::Auto(s) => s,
            CachePolicy::WholeSong => 60.0,
        };
        let mut chosen = policy;
        egui::ComboBox::from_id_salt("trax-cache-policy")
            .selected_text(match policy {
                CachePolicy::FirstSecs(_) => "First seconds",
                CachePolicy::WholeSong => "Whole songs",
                CachePolicy::Auto(_) => "Auto",
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut chosen, CachePolicy::FirstSecs(secs), "First seconds");
                ui.selectable_value(&mut chosen, CachePolicy::WholeSong, "Whole songs");
                ui.selectable_value(&mut chosen, CachePolicy::Auto(secs), "Auto");
            })
            .response
            .on_hover_text(
                "What is cached of each stem: its first seconds, whole songs, or (auto) \
                 the first seconds of stems that play faster from the cache than from their file",
            )
            .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Cache policy"));
        if let CachePolicy::FirstSecs(s) | CachePolicy::Auto(s) = chosen {
            let mut s = s;
            let drag = ui.add(egui::DragValue::new(&mut s).range(5.0..=600.0).suffix(" s"));
            if drag.changed() {
                chosen = match chosen {
                    CachePolicy::Auto(_) => CachePolicy::Auto(s),
                    _ => CachePolicy::FirstSecs(s),
                };
            }
        }
        if chosen != policy {
            tasks.push(CacheTask::SetPolicy(chosen));
        }
        // Hit rate.
        let session = session_hit_rate;
        let lifetime = view.lifetime;
        ui.label(
            RichText::new(format!(
                "hits {:.0} % (all {:.0} %)",
                session * 100.0,
                lifetime.hit_rate() * 100.0
            ))
            .small(),
        )
        .on_hover_text("Chunks found in the cache, of those looked for");
        // Warm.
        if warming {
            ui.add(
                egui::ProgressBar::new(worker.warm.fraction())
                    .desired_width(140.0)
                    .show_percentage()
                    .text(format!(
                        "warming song {}",
                        worker.warm.song.load(Ordering::Relaxed) + 1
                    )),
            );
            if ui.button("Cancel").clicked() {
                worker.warm.cancel.store(true, Ordering::Relaxed);
            }
            ui.ctx().request_repaint_after(Duration::from_millis(100));
        } else if ui
            .add_enabled(
                !setlist_path.is_empty() && snap.rate_hz > 0,
                egui::Button::new("Warm setlist"),
            )
            .on_hover_text("Fill the cache for every song now (before the gig)")
            .clicked()
        {
            tasks.push(CacheTask::Warm {
                setlist: setlist_path.clone(),
                rate_hz: snap.rate_hz,
            });
        }
        // Clear, confirmed.
        if panel.confirm_clear {
            ui.label(
                RichText::new(format!("Clear {} from the cache?", bytes(view.used_bytes)))
                    .color(LOADING_AMBER),
            );
            if ui.button("Clear").clicked() {
                tasks.push(CacheTask::Clear);
                panel.confirm_clear = false;
            }
            if ui.button("Keep").clicked() {
                panel.confirm_clear = false;
            }
        } else if ui
            .add_enabled(!warming, egui::Button::new("Clear cache…"))
            .clicked()
        {
            panel.confirm_clear = true;
        }
        if !view.message.is_empty() {
            ui.label(RichText::new(&view.message).small());
        }
    });
    for task in tasks {
        if let CacheTask::Warm { .. } = task {
            // The worker sets this too; set it now so the bar shows at once.
            worker.warming.store(true, Ordering::Release);
        }
        worker.send(task);
    }
    editor.cached_ranges = cached;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_range_shrinks_to_what_the_disk_holds() {
        let mut view = CacheView {
            used_bytes: 2_000_000_000,
            free_bytes: Some(10_000_000_000),
            ..CacheView::default()
        };
        assert!((max_budget_gb(&view) - 11.0).abs() < 1e-9);
        view.free_bytes = Some(1_000_000_000_000);
        assert_eq!(max_budget_gb(&view), 50.0);
        view.free_bytes = None;
        assert_eq!(max_budget_gb(&view), 50.0);
        view.used_bytes = 0;
        view.free_bytes = Some(100_000_000);
        assert_eq!(max_budget_gb(&view), 1.0);
    }
}
