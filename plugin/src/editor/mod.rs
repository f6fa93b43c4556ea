//! GUI THREAD: the editor, the performer's screen (egui through
//! `nice-plug-egui`, the same in a host's plugin window and in the
//! standalone app): the transport and seek bar on top, the setlist on the
//! left with the auto-master under it, the current song's sections (jumps,
//! vamp) and mixer in the middle, the cache along the bottom.
//!
//! Threads: the editor never touches the audio thread's state. It reads the
//! engine through [`crate::bridge::EngineStats`] (atomics the audio thread
//! writes without allocating) and what the control thread publishes as one
//! versioned value ([`crate::view::ControlView`] in [`Shared`]),
//! re-read only when it changed: a frame takes no lock. It acts
//! through the paths MIDI and automation already use: parameters (play,
//! song, gain, follow) through the host's [`GuiContext`], commands that are
//! not parameters (play a given song now, seek, stop) through a wait-free
//! queue `process()` drains ([`GuiCommand`]), the mix through the
//! persisted `mix` field the control thread applies. No file I/O on the
//! GUI thread: setlists load on the control thread, file dialogs run as
//! child programs on a thread of their own ([`dialog`]).
#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    clippy::disallowed_macros
)] // The GUI thread, never the audio thread.

pub mod cache_panel;
pub mod cache_tasks;
mod dialog;
pub mod format;
pub mod keys;
pub mod master_panel;
pub mod mixer_panel;
pub mod peak_meter;
pub mod remote_setting;
pub mod residency;
pub mod sections_panel;
pub mod setlist_panel;
pub mod song_end;
pub mod transport_panel;

use std::sync::Arc;
use std::time::Duration;

use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::LogicalSize;
use nice_plug::prelude::{Param, ResizeHint};
use nice_plug_egui::{EguiEditorState, EguiNiceSettings, NiceEguiApp, RepaintNotifier};

use crate::bridge::{EngineStats, TransportState};
use crate::loader::prepare::PreparedSetlist;
use crate::plugin::control::{load_state, Shared};
use crate::plugin::gui_commands::GuiCommand;
use crate::plugin::params::TraxParams;
use crate::published::Reader;
use crate::view::ControlView;

/// The editor's default size in logical pixels: a laptop screen's worth,
/// room for the setlist and about ten mixer strips.
pub const EDITOR_SIZE: (f64, f64) = (1180.0, 760.0);

/// The smallest size at which a 30-stem song's strips and ten songs of
/// the setlist still show without scrolling (checked by the editor's
/// tests) and the transport row fits.
pub const EDITOR_MIN_SIZE: (f32, f32) = (1024.0, 740.0);

/// The setlist column's default width, logical pixels (the user can drag
/// it wider).
pub const SETLIST_WIDTH: f32 = 360.0;

pub use setlist_panel::RECENT_SETLISTS;

/// How long a key's seek counts as pending: the next step starts from its
/// target rather than from the position shown (seconds).
const SEEK_STEP_PENDING_SECS: f64 = 0.5;

/// How often the editor redraws while audio plays (position, meters).
const PLAYING_REPAINT: Duration = Duration::from_millis(33);

/// Builds the plugin's editor (called once per plugin instance).
pub fn create(
    params: Arc<TraxParams>,
    shared: Arc<Shared>,
) -> Option<nice_plug_egui::EguiEditor<TraxEditor>> {
    let repaint = RepaintNotifier::new();
    let state = EguiEditorState::from_size(LogicalSize::new(EDITOR_SIZE.0, EDITOR_SIZE.1), 1.0);
    nice_plug_egui::create_egui_editor(
        state,
        repaint,
        EguiNiceSettings::new().with_tile("Trax").with_resize_hint(
            ResizeHint::resizable()
                .with_min_logical_size(LogicalSize::new(EDITOR_MIN_SIZE.0, EDITOR_MIN_SIZE.1)),
        ),
        TraxEditor::new(params, shared),
    )
}

/// The editor's state on the GUI thread.
pub struct TraxEditor {
    params: Arc<TraxParams>,
    shared: Arc<Shared>,
    /// The host's side (parameter changes); `None` until the window opens.
    gui: Option<GuiContext>,
    setlist: setlist_panel::SetlistPanel,
    transport: transport_panel::TransportPanel,
    meters: peak_meter::Meters,
    cache: cache_panel::CachePanel,
    master_meter: master_panel::ReductionMeter,
    /// The engine's count of songs that ended with a stop, as last seen
    /// ([`song_end::follow_end_stops`]).
    seen_end_stops: Option<u64>,
    /// The control thread's published view, as last read.
    view: Reader<ControlView>,
    /// The loader's slot pool, as last read (for the seek bar's RAM row).
    pub(crate) slots: Reader<Option<(u16, Arc<crate::bridge::SlotPool>)>>,
    /// The last seek a key asked for: (target frame, egui time, seconds).
    pending_seek: Option<(u64, f64)>,
    /// Which chunks of the current song have cache files (from the cache
    /// thread), for the seek bar.
    cached_ranges: Option<cache_tasks::CachedRanges>,
    /// The (song, section) that played at the last frame: the sections row
    /// scrolls a new one into view.
    section_now: Option<(usize, usize)>,
    /// The OSC port being typed in the remote's popup, not applied yet.
    remote_port_draft: Option<u16>,
}

/// What the editor shows in one frame, read once at its start: the
/// engine's atomics and the control thread's published view (re-read only
/// when it changed: no lock on most frames).
#[derive(Clone, Default)]
pub struct Snapshot {
    /// Engine rate, Hz; 0 before activation.
    pub rate_hz: u32,
    /// The engine's transport.
    pub transport: TransportState,
    /// The song heard now, if any.
    pub active_song: Option<usize>,
    /// Position of the heard song, frames at the engine rate.
    pub position_frames: u64,
    /// Blocks in which a stem's data was late (silence instead).
    pub underrun_blocks: u64,
    /// The engine's counters (atomics the audio thread writes), once
    /// activated.
    pub engine: Option<Arc<EngineStats>>,
    /// The `song` parameter as an index (0-based): the cued song.
    pub selected_song: usize,
    /// The `play` parameter.
    pub play: bool,
    /// The loaded setlist, if any.
    pub setlist: Option<Arc<PreparedSetlist>>,
    /// [`load_state`] of the setlist.
    pub load_state: u8,
    /// The control thread's view: status, problems, auto-master, cache.
    pub view: Arc<ControlView>,
}

impl Snapshot {
    /// Reads the engine's counters and what the control thread published
    /// (through `reader`, which re-reads it only when it changed).
    pub fn take(params: &TraxParams, shared: &Shared, reader: &mut Reader<ControlView>) -> Self {
        let view = Arc::clone(reader.read(&shared.view));
        let stats = view.engine.as_ref().map(|e| Arc::clone(&e.stats));
        let (transport, active_song, position_frames, underrun_blocks) = match &stats {
            Some(s) => (
                s.transport(),
                s.active_song(),
                s.active_deck().map_or(0, |d| s.deck_position_frames(d)),
                s.underrun_blocks(),
            ),
            None => (TransportState::Stopped, None, 0, 0),
        };
        Self {
            rate_hz: view.rate_hz(),
            transport,
            active_song,
            position_frames,
            underrun_blocks,
            engine: stats,
            selected_song: usize::try_from(params.song.value().max(1) - 1).unwrap_or(0),
            play: params.play.value(),
            setlist: view.setlist.clone(),
            load_state: shared.load_state(),
            view,
        }
    }

    /// The song the transport and mixer are about: the one heard, else the
    /// cued one.
    pub fn current_song(&self) -> usize {
        self.active_song.unwrap_or(self.selected_song)
    }

    /// Number of songs loaded.
    pub fn song_count(&self) -> usize {
        self.setlist.as_ref().map_or(0, |s| s.songs.len())
    }

    /// Whether a start or seek waits for the loader.
    pub fn is_loading(&self) -> bool {
        self.transport == TransportState::Starting || self.load_state == load_state::LOADING
    }
}

impl TraxEditor {
    /// An editor for these parameters and this instance's shared state.
    pub fn new(params: Arc<TraxParams>, shared: Arc<Shared>) -> Self {
        let recent = params.recent_setlists.get().0;
        let current = params.setlist.get().0;
        Self {
            params,
            shared,
            gui: None,
            setlist: setlist_panel::SetlistPanel::new(current, recent),
            transport: transport_panel::TransportPanel::default(),
            meters: peak_meter::Meters::default(),
            cache: cache_panel::CachePanel::default(),
            master_meter: master_panel::ReductionMeter::default(),
            seen_end_stops: None,
            cached_ranges: None,
            section_now: None,
            remote_port_draft: None,
            pending_seek: None,
            view: Reader::default(),
            slots: Reader::default(),
        }
    }

    /// Whether section `section` of `song` already played at the last
    /// frame (records it as the one playing now).
    fn sections_seen_now(&mut self, song: usize, section: usize) -> bool {
        self.section_now.replace((song, section)) == Some((song, section))
    }

    /// The host's context (what `build` receives; tests give their own).
    pub fn set_gui_context(&mut self, gui: GuiContext) {
        self.gui = Some(gui);
    }

    /// Draws the whole editor into `ui` (the window's root).
    pub fn view(&mut self, ui: &mut egui::Ui) {
        let snap = Snapshot::take(&self.params, &self.shared, &mut self.view);
        song_end::follow_end_stops(self, &snap);
        let now_secs = ui.input(|i| i.time);
        for action in keys::take_actions(ui.ctx()) {
            self.key_action(action, &snap, now_secs);
        }
        egui::Panel::top("trax-transport").show(ui, |ui| {
            transport_panel::show(self, ui, &snap);
        });
        egui::Panel::bottom("trax-cache").show(ui, |ui| {
            ui.add_space(2.0);
            cache_panel::show(self, ui, &snap);
            ui.add_space(2.0);
        });
        egui::Panel::left("trax-setlist")
            .resizable(true)
            .default_size(SETLIST_WIDTH)
            .min_size(300.0)
            .show(ui, |ui| {
                egui::Panel::bottom("trax-master").show(ui, |ui| {
                    ui.add_space(4.0);
                    master_panel::show(self, ui, &snap);
                    ui.add_space(2.0);
                });
                setlist_panel::show(self, ui, &snap);
            });
        egui::CentralPanel::default().show(ui, |ui| {
            mixer_panel::show(self, ui, &snap);
        });
        if snap.transport != TransportState::Stopped || snap.is_loading() || self.setlist.busy() {
            ui.ctx().request_repaint_after(PLAYING_REPAINT);
        }
    }

    /// Sets a parameter as a user gesture (begin, set, end), so the host
    /// records it; nothing without a host context.
    fn set_param<P: Param>(&self, param: &P, value: P::Plain) {
        if let Some(gui) = &self.gui {
            let setter = gui.param_setter();
            setter.begin_set_parameter(param);
            setter.set_parameter(param, value);
            setter.end_set_parameter(param);
        }
    }

    /// Queues a command for the audio thread (dropped if 64 are pending,
    /// which a person cannot click).
    fn send(&self, command: GuiCommand) {
        if let Some(tx) = self.shared.gui_commands.lock().as_mut() {
            let _ = tx.push(command);
        }
    }

    /// Play, or pause what plays (the `play` parameter). With `play` on
    /// and nothing playing (the last song ended, before the editor turned
    /// `play` off), it plays the cued song: one press, never a press that
    /// only turns `play` off.
    fn play_pause(&self, snap: &Snapshot) {
        if snap.play && snap.transport == TransportState::Stopped {
            self.play_now(snap.selected_song);
            return;
        }
        self.set_param(&self.params.play, !snap.play);
    }

    /// Stop: fade out; the next play starts the cued song from its start.
    fn stop(&self) {
        self.send(GuiCommand::Stop);
        self.set_param(&self.params.play, false);
    }

    /// Cue `song` (0-based): the `song` parameter.
    fn cue(&self, song: usize) {
        let value = i32::try_from(song + 1).unwrap_or(i32::MAX);
        self.set_param(&self.params.song, value);
    }

    /// Play `song` from its start now, whatever plays.
    fn play_now(&self, song: usize) {
        self.play_from(song, 0);
    }

    /// Play `song` from `frame` (engine rate) now, whatever plays.
    fn play_from(&self, song: usize, frame: u64) {
        self.send(GuiCommand::PlaySong { song, frame });
        self.cue(song);
        self.set_param(&self.params.play, true);
    }

    /// The next (or previous, `step` -1) song: played at once if the
    /// transport runs, cued otherwise.
    fn step_song(&self, snap: &Snapshot, step: isize) {
        let count = snap.song_count();
        if count == 0 {
            return;
        }
        let target = snap
            .current_song()
            .saturating_add_signed(step)
            .min(count - 1);
        if snap.transport == TransportState::Playing || snap.transport == TransportState::Starting {
            self.play_now(target);
        } else {
            self.cue(target);
        }
    }

    /// Seek the current song to `frame` (engine rate).
    fn seek(&self, frame: u64) {
        self.send(GuiCommand::Seek(frame));
    }

    /// Seek the heard song by `secs` (negative: back), within the song;
    /// nothing while no song is heard.
    /// Steps repeat from the last step's target while the engine has not
    /// shown it yet (a held arrow repeats faster than a seek lands).
    fn seek_by(&mut self, snap: &Snapshot, secs: i64, now_secs: f64) {
        let (Some(song), Some(setlist)) = (snap.active_song, &snap.setlist) else {
            return;
        };
        let Some(length) = setlist.songs.get(song).map(|s| s.length_frames) else {
            return;
        };
        let from = match self.pending_seek {
            Some((target, at)) if now_secs - at < SEEK_STEP_PENDING_SECS => target,
            _ => snap.position_frames,
        };
        let delta = secs.unsigned_abs() * u64::from(snap.rate_hz);
        let frame = if secs < 0 {
            from.saturating_sub(delta)
        } else {
            from.saturating_add(delta)
        }
        .min(length.saturating_sub(1));
        self.pending_seek = Some((frame, now_secs));
        self.seek(frame);
    }

    /// Does what a key of the performer's keyboard asks.
    fn key_action(&mut self, action: keys::KeyAction, snap: &Snapshot, now_secs: f64) {
        use keys::KeyAction;
        let count = snap.song_count();
        match action {
            KeyAction::PlayPause => self.play_pause(snap),
            KeyAction::PlayCued if count > 0 => self.play_now(snap.selected_song.min(count - 1)),
            KeyAction::Stop => self.stop(),
            KeyAction::CuePrevious if count > 0 => self.cue(snap.selected_song.saturating_sub(1)),
            KeyAction::CueNext if count > 0 => self.cue((snap.selected_song + 1).min(count - 1)),
            KeyAction::SeekBack => self.seek_by(snap, -keys::SEEK_STEP_SECS, now_secs),
            KeyAction::SeekForward => self.seek_by(snap, keys::SEEK_STEP_SECS, now_secs),
            _ => {}
        }
    }

    /// Load the setlist at `path` (a `.toml`/`.json` file or a folder) on
    /// the control thread, and remember it among the recent ones.
    fn open_setlist(&mut self, path: &str) {
        let path = path.trim();
        if path.is_empty() {
            return;
        }
        self.params.setlist.replace(path.to_string());
        let recent = self.setlist.remember(path);
        self.params.recent_setlists.replace(recent);
        self.shared.wake_control();
    }
}

impl NiceEguiApp for TraxEditor {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        nice_gui_ctx: GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        style(&egui_ctx);
        self.gui = Some(nice_gui_ctx);
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut nice_plug_egui::Frame) {
        self.view(ui);
    }
}

/// Names what `ui` shows of a scrolled panel (its clip rect) for
/// accessibility as `label`, so that tests can check that a widget lies
/// inside the visible part, not only in the tree (AccessKit finds widgets
/// clipped out of view).
fn visible_area(ui: &mut egui::Ui, label: &'static str) {
    let visible = ui.clip_rect();
    ui.interact(visible, ui.make_persistent_id(label), egui::Sense::hover())
        .widget_info(|| egui::WidgetInfo::labeled(egui::Role::Group, true, label));
}

/// The stage look: dark, large type (readable from a metre away).
pub fn style(ctx: &egui::Context) {
    ctx.set_visuals(egui::Visuals::dark());
    ctx.global_style_mut(|style| {
        use egui::{FontFamily, FontId, TextStyle};
        style.text_styles = [
            (
                TextStyle::Heading,
                FontId::new(26.0, FontFamily::Proportional),
            ),
            (TextStyle::Body, FontId::new(17.0, FontFamily::Proportional)),
            (
                TextStyle::Monospace,
                FontId::new(17.0, FontFamily::Monospace),
            ),
            (
                TextStyle::Button,
                FontId::new(17.0, FontFamily::Proportional),
            ),
            (
                TextStyle::Small,
                FontId::new(13.0, FontFamily::Proportional),
            ),
        ]
        .into();
        style.spacing.item_spacing = egui::vec2(8.0, 6.0);
        style.spacing.button_padding = egui::vec2(10.0, 5.0);
        style.spacing.interact_size.y = 30.0;
    });
}
