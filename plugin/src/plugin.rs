//! ANY THREAD (process() on the audio thread, the rest on the host's main
//! thread): nice-plug glue: the CLAP/VST3 plugin [`Trax`] and the
//! standalone's entry. Wiring only: parameters and state are in [`params`],
//! the control thread (setlist loading, problems) in [`control`], everything
//! that sounds in [`crate::engine`].
//!
//! Threads: the host's main thread creates and activates the plugin and
//! restores state; [`control`]'s thread reads and probes the setlist;
//! `process()` runs on the audio thread and only calls the engine's
//! realtime-safe methods. Offline (a host's bounce: flagged by the host, or
//! detected from the pace of its calls by [`pace`]) `process()` waits for
//! the loader instead of playing silence, so renders are exact.
#![allow(unsafe_code)] // nice-plug's export macros define the C entry points.

pub mod auto_master;
pub mod control;
pub mod gui_commands;
pub mod io;
pub mod pace;
pub mod params;
mod requests;

use std::sync::Arc;
use std::time::{Duration, Instant};

use nice_plug::prelude::*;

use crate::{Engine, Outputs, Player, PlayerConfig};
use control::{load_state, ControlThread, Shared};
use gui_commands::{gui_queue, GuiCommand};
use io::{apply_master_gain, bus_outputs, render, silence, BUS_LAYOUT, MAIN_ONLY_LAYOUT};
use params::TraxParams;
use requests::{
    control_note, follow_transport, gui_command, new_setlist, note_on, param_changes, play_held,
    remote_gain, restored_state, start_at_zero, FollowState, RtState, CONTROL_CHANNEL,
};

/// Offline, how long `process()` waits for the loader (a setlist being
/// probed, a song start) before it gives up and renders what it has.
pub const OFFLINE_WAIT_LIMIT: Duration = Duration::from_secs(30);

/// The same limit when the host did not say it renders offline and
/// [`pace`] found it does (each wait of a bounce detected from its pace).
pub const PACED_WAIT_LIMIT: Duration = Duration::from_secs(5);

pub use params::{set_initial_osc_port, set_initial_setlist};

/// The plugin: a sampler-style instrument that plays the setlist's songs,
/// streamed from disk, on its stereo main output and eight stereo aux
/// outputs named by role ([`crate::bridge::AUX_BUS_NAMES`]: each stem plays on the bus
/// its `output` names). `MIDI_CCS` chooses the MIDI it takes (see
/// [`Trax`] and [`TraxVst3`]).
///
/// MIDI: note-on `base_note + n` starts song `n + 1` (1-based) from its
/// start at the note's frame; program change `p` cues song `p + 1` (where
/// the format carries program changes); note-offs are ignored (a backing
/// track plays on).
pub struct TraxPlugin<const MIDI_CCS: bool> {
    params: Arc<TraxParams>,
    shared: Arc<Shared>,
    control: Option<ControlThread>,
    engine: Option<Engine>,
    rate_hz: u32,
    /// Whether `process()` waits for the loader: the host said it renders
    /// offline ([`Self::host_offline`]) or [`Self::pace`] found it does.
    offline: bool,
    /// The host's offline flag (VST3 process mode, CLAP render mode).
    host_offline: bool,
    /// The pace of the host's `process()` calls.
    pace: pace::Pace,
    /// Audio-thread state.
    rt: RtState,
    /// The editor's commands (the producer is in [`Shared`]).
    gui_rx: rtrb::Consumer<GuiCommand>,
    /// The cache to use instead of the environment's (see
    /// [`Trax::set_cache_config`]).
    cache_override: Option<Option<crate::loader::CacheConfig>>,
    /// Control threads of earlier activations (another rate), ending on
    /// their own; joined when the plugin is dropped.
    retired: Vec<std::thread::JoinHandle<()>>,
}

/// The CLAP plugin and the standalone: notes and the rest of MIDI 1.0
/// (program changes cue songs). CLAP carries MIDI as events, so this adds
/// no parameters.
pub type Trax = TraxPlugin<true>;

/// The VST3 plugin: notes only. VST3 has no MIDI program change or CC
/// event: nice-plug would carry them as 16 x 130 hidden "MIDI Ch. N CC M"
/// parameters, which hosts list (Ardour: 2080 read-only controls) and send
/// all at once when a session loads, overflowing the event buffer of the
/// audio thread (an allocation). Songs are chosen by note or by the Song
/// parameter there.
pub type TraxVst3 = TraxPlugin<false>;

impl<const MIDI_CCS: bool> Default for TraxPlugin<MIDI_CCS> {
    fn default() -> Self {
        let params = TraxParams::default();
        let (gui_tx, gui_rx) = gui_queue();
        let shared = Shared::default();
        *shared.gui_commands.lock() = Some(gui_tx);
        Self {
            params: Arc::new(params),
            shared: Arc::new(shared),
            gui_rx,
            cache_override: None,
            retired: Vec::new(),
            control: None,
            engine: None,
            rate_hz: 0,
            offline: false,
            host_offline: false,
            pace: pace::Pace::new(48_000),
            rt: RtState {
                last_song_param: 1,
                ..RtState::default()
            },
        }
    }
}

impl<const MIDI_CCS: bool> TraxPlugin<MIDI_CCS> {
    /// What the control thread reports (load state, status line, problems,
    /// the loaded setlist), for the editor.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The parameters and persisted state.
    pub fn params_arc(&self) -> &Arc<TraxParams> {
        &self.params
    }

    /// Uses `config` as the chunk cache (`None`: no cache) instead of the
    /// environment's ([`crate::loader::CacheConfig::from_environment`]),
    /// from the next [`Self::start`] at a new rate.
    pub fn set_cache_config(&mut self, config: Option<crate::loader::CacheConfig>) {
        self.cache_override = Some(config);
    }

    /// What `activate()` does, without a host: a player and engine at
    /// `rate_hz` and the control thread that loads the setlist. `false` if
    /// they cannot start (logged).
    pub fn start(&mut self, rate_hz: u32, offline: bool) -> bool {
        let mode = if offline {
            crate::ProcessMode::Offline
        } else {
            crate::ProcessMode::Realtime
        };
        self.host_offline = offline;
        self.pace = pace::Pace::new(rate_hz);
        if let (Some(engine), true) = (self.engine.as_mut(), rate_hz == self.rate_hz) {
            engine.set_mode(mode);
            self.offline = offline;
            return true;
        }
        // A new rate: a new player and engine; the control thread probes the
        // setlist again for it. The old control thread (in a probe, or
        // with an analysis running) ends on its own: hosts activate on
        // their main thread, which must not wait for it.
        self.retired.retain(|h| !h.is_finished());
        if let Some(old) = self.control.take() {
            self.retired.extend(old.retire());
        }
        self.engine = None;
        let config = PlayerConfig {
            mode,
            // The auto-master chain is always in the output (its latency is
            // reported whether it is on or off).
            mastering: true,
            ..PlayerConfig::realtime(rate_hz)
        };
        let (player, engine) = match Player::new(config) {
            Ok(pe) => pe,
            Err(e) => {
                tracing::error!("trax: cannot start at {rate_hz} Hz: {e}");
                return false;
            }
        };
        // The chunk cache (shared by every instance in this process): the
        // folder from TRAX_CACHE_DIR or the platform's, its policy.
        let cache = self
            .cache_override
            .clone()
            .unwrap_or_else(crate::loader::CacheConfig::from_environment);
        let (mut cache_link, mut cache_error) = (None, None);
        if let Some(cache) = cache {
            match crate::loader::CacheLink::shared(&cache) {
                Ok(link) => {
                    cache_link = Some(Arc::clone(&link));
                    player.set_cache(Some(link));
                }
                Err(e) => {
                    cache_error = Some(e.to_string());
                    tracing::warn!("trax: chunk cache off: {e}");
                }
            }
        }
        let engine_view = crate::view::EngineView {
            stats: Arc::clone(player.engine_stats()),
            loader: Arc::clone(player.loader_stats()),
            rate_hz,
        };
        self.shared.view.update(|v| {
            if cache_link.is_some() {
                v.cache = cache_link;
            }
            if cache_error.is_some() {
                v.cache_error = cache_error;
            }
            v.engine = Some(engine_view);
        });
        // A new player has loaded nothing yet (before the thread starts: it
        // may finish a load at once).
        self.shared
            .loaded_version
            .store(u64::MAX, std::sync::atomic::Ordering::Release);
        match ControlThread::spawn(player, Arc::clone(&self.params), Arc::clone(&self.shared)) {
            Ok(c) => self.control = Some(c),
            Err(e) => {
                tracing::error!("trax: cannot start the control thread: {e}");
                return false;
            }
        }
        self.engine = Some(engine);
        self.rate_hz = rate_hz;
        self.offline = offline;
        self.rt.seen_setlist = 0;
        self.rt.follow = FollowState::default();
        true
    }

    /// The start of every block, before events and rendering: the engine's
    /// commands, a new setlist, held notes, parameter changes and the
    /// editor's commands. Realtime-safe (offline it may wait for the
    /// loader). Does nothing before [`Self::start`].
    pub fn begin_block(&mut self) {
        let limit = self.wait_limit();
        let Some(engine) = self.engine.as_mut() else {
            return;
        };
        let params = &self.params;
        let rt = &mut self.rt;
        engine.take_commands();
        if self.offline {
            self.pace
                .waited(wait_for_setlist(engine, params, &self.shared, limit));
        }
        new_setlist(engine, rt);
        if let Some(next) = engine.take_cued_after_end() {
            // A song ended with a stop: Play plays the next one.
            rt.selected_song = next;
        }
        play_held(engine, params, &self.shared, rt);
        // The editor's (and the remote's) commands first: a `play`
        // parameter the editor set with a command is then no change (see
        // gui_command).
        while let Ok(command) = self.gui_rx.pop() {
            gui_command(engine, params, rt, command);
        }
        restored_state(params, rt, self.rate_hz);
        param_changes(engine, params, rt);
        remote_gain(params, rt, self.rate_hz);
        self.shared.set_cued_song(rt.selected_song);
    }

    /// Takes the pace of a `process()` call of `frames` frames that starts
    /// now: waits for the loader (offline) when the host says it renders
    /// offline or renders faster than real time, sustained (see [`pace`]).
    /// Realtime-safe.
    pub fn note_pace(&mut self, frames: usize) {
        let fast = self.pace.block(frames, Instant::now());
        let offline = self.host_offline || fast;
        if offline != self.offline {
            self.offline = offline;
            if let Some(engine) = self.engine.as_mut() {
                engine.set_mode(if offline {
                    crate::ProcessMode::Offline
                } else {
                    crate::ProcessMode::Realtime
                });
            }
        }
    }

    /// A MIDI note-on for `key` on `channel` (0-based) before the next
    /// rendered frame, as `process()` takes one (note `base_note + n`
    /// plays song `n + 1`; on channel 16 the live controls), for drivers
    /// without a nice-plug context (the standalone's multi-output mode).
    /// Call after [`Self::begin_block`]. Realtime-safe (offline it may wait
    /// for the setlist).
    pub fn midi_note_on(&mut self, channel: u8, key: u8) {
        let wait = self.offline.then(|| self.wait_limit());
        let Some(engine) = self.engine.as_mut() else {
            return;
        };
        if channel == CONTROL_CHANNEL {
            control_note(
                engine,
                &self.params,
                i32::from(key) - self.params.base_note.value(),
            );
            return;
        }
        let song = i32::from(key) - self.params.base_note.value();
        if let Ok(song) = usize::try_from(song) {
            let waited = note_on(engine, wait, &self.params, &self.shared, &mut self.rt, song);
            self.pace.waited(waited);
        }
    }

    /// A MIDI program change: cues song `program + 1`, as `process()` does.
    /// Realtime-safe.
    pub fn midi_program_change(&mut self, program: u8) {
        if let Some(engine) = self.engine.as_mut() {
            self.rt.selected_song = usize::from(program);
            engine.cue_song(self.rt.selected_song);
        }
    }

    /// How long one wait for the loader may last now.
    fn wait_limit(&self) -> Duration {
        if self.host_offline {
            OFFLINE_WAIT_LIMIT
        } else {
            PACED_WAIT_LIMIT
        }
    }

    /// Renders one block of the main bus (no events) after
    /// [`Self::begin_block`], with the master gain: what `process()` does
    /// for a block without MIDI. Silence before [`Self::start`].
    pub fn render_block(&mut self, left: &mut [f32], right: &mut [f32]) {
        self.render_block_buses(&mut Outputs::main(left, right));
    }

    /// [`Self::render_block`] for every bus `out` connects.
    pub fn render_block_buses(&mut self, out: &mut Outputs) {
        let wait = self.offline.then(|| self.wait_limit());
        match self.engine.as_mut() {
            Some(engine) => {
                let waited = render(engine, wait, out);
                self.pace.waited(waited);
            }
            None => silence(out),
        }
        apply_master_gain(&self.params, out);
    }
}

impl<const MIDI_CCS: bool> Drop for TraxPlugin<MIDI_CCS> {
    fn drop(&mut self) {
        // Every thread of this plugin ends before its code may be unloaded
        // (the current control thread is stopped and joined by its own
        // drop; its probe ends early).
        self.control = None;
        for h in self.retired.drain(..) {
            let _ = h.join();
        }
        self.shared.remote.shut_down();
    }
}

impl<const MIDI_CCS: bool> Plugin for TraxPlugin<MIDI_CCS> {
    const NAME: &'static str = "Trax";
    const VENDOR: &'static str = "Trax";
    const URL: &'static str = "https://example.invalid/trax";
    const EMAIL: &'static str = "trax@example.invalid";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    // CLAP (and the standalone): every bus by default; a host may choose
    // main only through audio-ports-config. VST3: main only by default,
    // because nice-plug 0.4.2's VST3 wrapper skips `process()` (silence)
    // when a host gives an aux bus no channels, as JUCE hosts do for
    // buses they do not use (pedalboard rendered silence with the aux
    // buses first), and a VST3 plugin cannot make its buses optional; a
    // host that asks for nine stereo buses (setBusArrangements) gets them.
    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = if MIDI_CCS {
        &[BUS_LAYOUT, MAIN_ONLY_LAYOUT]
    } else {
        &[MAIN_ONLY_LAYOUT, BUS_LAYOUT]
    };

    // Program changes need the full MIDI level; VST3 carries it only as
    // thousands of hidden parameters (see [`TraxVst3`]).
    const MIDI_INPUT: MidiConfig = if MIDI_CCS {
        MidiConfig::MidiCCs
    } else {
        MidiConfig::Basic
    };
    const SAMPLE_ACCURATE_AUTOMATION: bool = false;

    type SysExMessage = ();
    type Editor = nice_plug_egui::EguiEditor<crate::editor::TraxEditor>;
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn filter_state(state: &mut PluginState) {
        params::filter_state(state);
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        crate::editor::create(Arc::clone(&self.params), Arc::clone(&self.shared))
    }

    fn activate(
        &mut self,
        _audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let rate_hz = buffer_config.sample_rate.round() as u32;
        let offline = buffer_config.process_mode == nice_plug::prelude::ProcessMode::Offline;
        let started = self.start(rate_hz, offline);
        if let Some(engine) = &self.engine {
            // The auto-master's lookahead: constant, mastered or not.
            context.set_latency_samples(engine.latency_frames() as u32);
        }
        started
    }

    fn reset(&mut self) {
        self.rt.follow = FollowState::default();
        // Nothing of the signal before the reset comes out after it
        // (playback itself goes on).
        if let Some(engine) = self.engine.as_mut() {
            engine.reset_master();
        }
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let frames = buffer.samples();
        if buffer.channels() != 2 {
            return ProcessStatus::Normal;
        }
        let mut out = bus_outputs(buffer, aux);
        let out = &mut out;
        self.note_pace(frames);
        self.begin_block();
        self.rt.play_echo_frames = self.rt.play_echo_frames.saturating_sub(frames as u64);
        let wait = self.offline.then(|| self.wait_limit());
        let Some(engine) = self.engine.as_mut() else {
            silence(out);
            return ProcessStatus::Normal;
        };
        let params = &self.params;
        let rt = &mut self.rt;
        // The frame where the host crosses position 0 with a song armed.
        let mut zero_at = follow_transport(engine, params, rt, context.transport(), frames);

        let base_note = params.base_note.value();
        let mut at = 0usize;
        let mut waited = Duration::ZERO;
        while let Some(event) = context.next_event() {
            let t = (event.timing() as usize).min(frames);
            if let Some(z) = zero_at.filter(|&z| z <= t) {
                waited += render(engine, wait, &mut out.range(at, z));
                at = z;
                start_at_zero(engine, rt);
                zero_at = None;
            }
            if t > at {
                waited += render(engine, wait, &mut out.range(at, t));
                at = t;
            }
            match event {
                NoteEvent::NoteOn {
                    key,
                    velocity,
                    channel,
                    ..
                } if velocity > 0.0 && channel.number() == Some(CONTROL_CHANNEL) => {
                    if let Some(k) = key.number() {
                        control_note(engine, params, i32::from(k) - base_note);
                    }
                }
                NoteEvent::NoteOn { key, velocity, .. } if velocity > 0.0 => {
                    let song = key.number().map_or(-1, |k| i32::from(k) - base_note);
                    if let Ok(song) = usize::try_from(song) {
                        waited += note_on(engine, wait, params, &self.shared, rt, song);
                    }
                }
                NoteEvent::MidiProgramChange { program, .. } => {
                    rt.selected_song = program as usize;
                    engine.cue_song(rt.selected_song);
                }
                _ => {}
            }
        }
        if let Some(z) = zero_at.filter(|&z| z >= at) {
            waited += render(engine, wait, &mut out.range(at, z));
            at = z;
            start_at_zero(engine, rt);
        }
        if at < frames {
            waited += render(engine, wait, &mut out.range(at, frames));
        }
        apply_master_gain(params, out);
        self.shared.set_cued_song(rt.selected_song);
        self.pace.waited(waited);
        ProcessStatus::Normal
    }

    fn deactivate(&mut self) {
        // Playback ends with the activation; the player (and its memory)
        // stays for a re-activation at the same rate and goes with the
        // plugin.
        if let Some(engine) = self.engine.as_mut() {
            engine.halt();
        }
        self.rt.follow = FollowState::default();
    }
}

/// Offline: while the control thread is loading the setlist, wait for it,
/// up to `limit` (a bounce must not start before its songs exist).
/// Returns the time spent waiting.
#[allow(clippy::disallowed_methods)] // Offline only.
pub(super) fn wait_for_setlist(
    engine: &mut Engine,
    params: &TraxParams,
    shared: &Shared,
    limit: Duration,
) -> Duration {
    let loading = |engine: &Engine| {
        shared.is_loading(params.setlist.version())
            || (shared.load_state() == load_state::READY && engine.song_count() == 0)
    };
    if !loading(engine) {
        return Duration::ZERO;
    }
    let start = Instant::now();
    while loading(engine) && start.elapsed() <= limit {
        std::thread::sleep(Duration::from_micros(250));
        engine.take_commands();
    }
    start.elapsed()
}

impl<const MIDI_CCS: bool> ClapPlugin for TraxPlugin<MIDI_CCS> {
    const CLAP_ID: &'static str = "org.trax.trax";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Plays multi-stem setlists streamed from disk (backing tracks)");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::Instrument,
        ClapFeature::Sampler,
        ClapFeature::Stereo,
    ];
}

impl<const MIDI_CCS: bool> Vst3Plugin for TraxPlugin<MIDI_CCS> {
    const VST3_CLASS_ID: [u8; 16] = *b"TraxSetlistPlayr";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Instrument, Vst3SubCategory::Sampler];
}

nice_export_clap!(Trax);
nice_export_vst3!(TraxVst3);
