//! A minimal, synchronous CLAP host on `clack-host`, for loading the real
//! bundled plugin (`target/bundled/trax.clap`) in integration tests.
//!
//! Everything runs on the calling (test) thread, which plays both the main
//! thread and the audio thread: the plugin is created, activated, fed
//! events and audio blocks, and has its state saved and loaded from there.
//! Host callbacks that other threads may make (`request_callback`,
//! `request_process`, `request_restart`, `request_flush`) only raise flags;
//! after every `process` call and every state load the host answers a
//! pending `request_callback` by calling the plugin's `on_main_thread`, as
//! a host's event loop would (nice-plug defers work to those callbacks).
//! The host log extension prints to stderr. There is no thread-check
//! extension: nice-plug then treats the thread that created the instance
//! as the main thread, which is the test thread here.

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Mutex;

use clack_extensions::audio_ports::PluginAudioPorts;
use clack_extensions::latency::{HostLatency, HostLatencyImpl, PluginLatency};
use clack_extensions::log::{HostLog, HostLogImpl, LogSeverity};
use clack_extensions::note_ports::{
    HostNotePorts, HostNotePortsImpl, NoteDialects, NotePortRescanFlags, PluginNotePorts,
};
use clack_extensions::params::{
    HostParams, HostParamsImplMainThread, HostParamsImplShared, ParamClearFlags, ParamInfoBuffer,
    ParamInfoFlags, ParamRescanFlags, PluginParams,
};
use clack_extensions::render::{PluginRender, RenderMode};
use clack_extensions::state::{HostState, HostStateImpl, PluginState};
use clack_host::events::event_types::{
    MidiEvent, NoteOffEvent, NoteOnEvent, ParamValueEvent, TransportEvent, TransportFlags,
};
use clack_host::events::{EventFlags, Match};
use clack_host::prelude::*;
use clack_host::utils::FixedPoint;

mod events;
mod gui;
mod handlers;
mod ports;

use events::{push_event, transport_event};
pub use events::{HostEvent, Transport};
use handlers::{HostMainThread, HostShared, TestHost};

/// Errors of the test host: what failed, in words.
pub type HostResult<T> = Result<T, String>;

/// nice-plug's CLAP parameter id for a parameter's string id (its
/// `hash_param_id`: `h = h * 31 + byte` over the bytes from 0, wrapping,
/// with the top bit cleared because VST3 reserves it).
pub fn param_hash(id: &str) -> u32 {
    let h = id
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    h & !(1 << 31)
}

/// A loaded CLAP bundle: the library's entry (and through it its plugin
/// factory).
pub struct ClapBundle {
    entry: PluginEntry,
    path: PathBuf,
}

impl ClapBundle {
    /// Loads the CLAP shared object at `path` and initialises its entry.
    pub fn load(path: &Path) -> HostResult<Self> {
        // SAFETY: `PluginEntry::load` is `unsafe` because loading a shared
        // object runs its initialisers and trusts its `clap_entry` symbol;
        // clack-host offers no safe way to load an external library. The
        // file is the project's own bundle, built from this workspace.
        let entry = unsafe { PluginEntry::load(path) }
            .map_err(|e| format!("loading {}: {e}", path.display()))?;
        if entry.get_plugin_factory().is_none() {
            return Err(format!("{}: no plugin factory", path.display()));
        }
        Ok(Self {
            entry,
            path: path.to_path_buf(),
        })
    }

    /// The ids of the plugins the bundle's factory offers.
    pub fn plugin_ids(&self) -> Vec<String> {
        let Some(factory) = self.entry.get_plugin_factory() else {
            return Vec::new();
        };
        factory
            .plugin_descriptors()
            .filter_map(|d| d.id().map(|id| id.to_string_lossy().into_owned()))
            .collect()
    }

    /// Creates (and initialises) an instance of the plugin `plugin_id`.
    pub fn create(&self, plugin_id: &str) -> HostResult<ClapInstance> {
        let host_info = HostInfo::new(
            "trax-test-host",
            "trax",
            "https://example.invalid/trax",
            "0.1.0",
        )
        .map_err(|e| format!("host info: {e}"))?;
        let id = CString::new(plugin_id).map_err(|e| format!("plugin id: {e}"))?;
        let instance = PluginInstance::<TestHost>::new(
            |_| HostShared::default(),
            |_| HostMainThread,
            &self.entry,
            &id,
            &host_info,
        )
        .map_err(|e| format!("creating {plugin_id} from {}: {e}", self.path.display()))?;
        let shared = instance.plugin_shared_handle();
        let params = shared.get_extension::<PluginParams>();
        let state = shared.get_extension::<PluginState>();
        let render = shared.get_extension::<PluginRender>();
        let audio_ports = shared.get_extension::<PluginAudioPorts>();
        let note_ports = shared.get_extension::<PluginNotePorts>();
        let latency = shared.get_extension::<PluginLatency>();
        let mut me = ClapInstance {
            processor: None,
            instance,
            params,
            state,
            render,
            audio_ports,
            note_ports,
            latency,
            rate_hz: 0.0,
            max_block_frames: 0,
            out: Vec::new(),
            out_port_channels: Vec::new(),
            in_events: EventBuffer::with_capacity(64),
            out_events: EventBuffer::with_capacity(64),
            output_ports: AudioPorts::with_capacity(2, 1),
            steady_time: 0,
        };
        me.pump_main_thread();
        Ok(me)
    }
}

/// One parameter as the plugin describes it (CLAP values: nice-plug
/// reports every parameter as `0 ..= step_count`, or `0 ..= 1` when
/// continuous).
#[derive(Clone, Debug)]
pub struct ParamInfo {
    /// The CLAP parameter id.
    pub id: u32,
    /// The display name.
    pub name: String,
    /// The smallest CLAP value.
    pub min: f64,
    /// The largest CLAP value.
    pub max: f64,
    /// The default CLAP value.
    pub default: f64,
    /// The raw `CLAP_PARAM_*` flags.
    pub flags: u32,
}

impl ParamInfo {
    /// Whether the parameter is stepped (integer, bool, enum).
    pub fn is_stepped(&self) -> bool {
        self.flags & ParamInfoFlags::IS_STEPPED.bits() != 0
    }

    /// Whether the host may not change it (read-only or hidden).
    pub fn is_read_only(&self) -> bool {
        self.flags & ParamInfoFlags::IS_READONLY.bits() != 0
    }
}

/// A created plugin instance and the host's buffers for it.
pub struct ClapInstance {
    // Declared first so it drops before the instance (Drop also
    // deactivates explicitly).
    processor: Option<PluginAudioProcessor<TestHost>>,
    instance: PluginInstance<TestHost>,
    params: Option<PluginParams>,
    state: Option<PluginState>,
    render: Option<PluginRender>,
    audio_ports: Option<PluginAudioPorts>,
    note_ports: Option<PluginNotePorts>,
    latency: Option<PluginLatency>,
    rate_hz: f64,
    max_block_frames: u32,
    /// Every output channel, port after port.
    out: Vec<Vec<f32>>,
    /// Channels of each output port (as the plugin declared them).
    out_port_channels: Vec<u32>,
    in_events: EventBuffer,
    out_events: EventBuffer,
    output_ports: AudioPorts,
    steady_time: u64,
}

impl ClapInstance {
    /// The plugin's parameters, in the order it lists them.
    pub fn params(&mut self) -> Vec<ParamInfo> {
        let Some(ext) = self.params else {
            return Vec::new();
        };
        let handle = self.instance.plugin_handle();
        let mut buf = ParamInfoBuffer::new();
        (0..ext.count(&handle))
            .filter_map(|i| {
                ext.get_info(&handle, i, &mut buf).map(|p| ParamInfo {
                    id: p.id.get(),
                    name: String::from_utf8_lossy(p.name).into_owned(),
                    min: p.min_value,
                    max: p.max_value,
                    default: p.default_value,
                    flags: p.flags.bits(),
                })
            })
            .collect()
    }

    /// The parameter whose CLAP id is nice-plug's hash of `string_id`.
    pub fn param_by_string_id(&mut self, string_id: &str) -> Option<ParamInfo> {
        let id = param_hash(string_id);
        self.params().into_iter().find(|p| p.id == id)
    }

    /// A parameter's current CLAP value.
    pub fn param_value(&mut self, id: u32) -> Option<f64> {
        let ext = self.params?;
        let handle = self.instance.plugin_handle();
        ext.get_value(&handle, ClapId::new(id))
    }

    /// The latency the plugin reports, in frames (0 without the extension).
    pub fn latency_frames(&mut self) -> u32 {
        let Some(ext) = self.latency else {
            return 0;
        };
        let handle = self.instance.plugin_handle();
        ext.get(&handle)
    }

    /// Activates the plugin for `rate_hz` and blocks of 1 ..=
    /// `max_block_frames`. With `offline`, first switches the plugin to
    /// the render extension's offline mode (as hosts do for bounces).
    pub fn activate(
        &mut self,
        rate_hz: f64,
        max_block_frames: u32,
        offline: bool,
    ) -> HostResult<()> {
        if self.processor.is_some() {
            return Err("activate: already active".into());
        }
        if offline {
            let ext = self
                .render
                .ok_or("activate: the plugin has no render extension")?;
            let handle = self.instance.plugin_handle();
            ext.set(&handle, RenderMode::Offline)
                .map_err(|e| format!("render set(Offline): {e}"))?;
        }
        let stopped = self
            .instance
            .activate(
                |_, _| (),
                PluginAudioConfiguration {
                    sample_rate: rate_hz,
                    min_frames_count: 1,
                    max_frames_count: max_block_frames,
                },
            )
            .map_err(|e| format!("activate({rate_hz} Hz, {max_block_frames}): {e}"))?;
        self.processor = Some(stopped.into());
        self.rate_hz = rate_hz;
        self.max_block_frames = max_block_frames;
        let frames = max_block_frames as usize;
        // Buffers for every output port, as hosts give them.
        let ports = self.ports().audio_outputs;
        let channels: u32 = ports.iter().sum();
        self.out = (0..channels).map(|_| vec![0.0; frames]).collect();
        self.output_ports = AudioPorts::with_capacity(channels as usize, ports.len());
        self.out_port_channels = ports;
        self.steady_time = 0;
        self.pump_main_thread();
        Ok(())
    }

    /// Stops processing (if started) and deactivates.
    pub fn deactivate(&mut self) {
        if let Some(processor) = self.processor.take() {
            self.instance.deactivate(processor.into_stopped());
        }
        self.pump_main_thread();
    }

    /// Calls the plugin's `start_processing`.
    pub fn start_processing(&mut self) -> HostResult<()> {
        let processor = self
            .processor
            .as_mut()
            .ok_or("start_processing: not active")?;
        processor
            .start_processing()
            .map(|_| ())
            .map_err(|e| format!("start_processing: {e}"))
    }

    /// Calls the plugin's `reset` (a host clearing the plugin's state, as
    /// on a transport jump; the audio thread's call, between blocks).
    pub fn reset(&mut self) -> HostResult<()> {
        let processor = self.processor.as_mut().ok_or("reset: not active")?;
        processor.reset();
        Ok(())
    }

    /// Whether the plugin is active.
    pub fn is_active(&self) -> bool {
        self.processor.is_some()
    }

    /// One process call of `frames` frames without host transport;
    /// returns the left and right output.
    pub fn process(&mut self, frames: u32, events: &[HostEvent]) -> HostResult<[Vec<f32>; 2]> {
        self.process_with_transport(frames, events, None)
    }

    /// One process call of `frames` frames with `transport` (None: the
    /// host is free-running); returns the left and right output.
    pub fn process_with_transport(
        &mut self,
        frames: u32,
        events: &[HostEvent],
        transport: Option<Transport>,
    ) -> HostResult<[Vec<f32>; 2]> {
        let mut l = vec![0.0; frames as usize];
        let mut r = vec![0.0; frames as usize];
        self.process_into(&mut l, &mut r, events, transport)?;
        Ok([l, r])
    }

    /// One process call of `left.len()` frames (== `right.len()`), writing
    /// the output into `left` and `right`. The plugin's buffers are filled
    /// with NaN first, so frames it does not write show up as NaN.
    pub fn process_into(
        &mut self,
        left: &mut [f32],
        right: &mut [f32],
        events: &[HostEvent],
        transport: Option<Transport>,
    ) -> HostResult<()> {
        let frames = left.len();
        if right.len() != frames {
            return Err("process: left and right lengths differ".into());
        }
        if frames == 0 || frames > self.max_block_frames as usize {
            return Err(format!(
                "process: {frames} frames, outside 1 ..= {}",
                self.max_block_frames
            ));
        }
        if events.windows(2).any(|w| w[0].time() > w[1].time()) {
            return Err("process: events not sorted by time".into());
        }
        if let Some(e) = events.iter().find(|e| e.time() as usize >= frames) {
            return Err(format!(
                "process: event {e:?} beyond the {frames}-frame block"
            ));
        }
        self.in_events.clear();
        self.out_events.clear();
        for e in events {
            push_event(&mut self.in_events, e);
        }
        let transport_event = transport.map(|t| transport_event(t, self.rate_hz));
        let processor = self.processor.as_mut().ok_or("process: not active")?;
        let started = processor
            .ensure_processing_started()
            .map_err(|e| format!("process: start_processing failed: {e}"))?;
        for c in &mut self.out {
            c[..frames].fill(f32::NAN);
        }
        let input_audio = InputAudioBuffers::empty();
        let mut rest: &mut [Vec<f32>] = &mut self.out;
        let mut ports = Vec::with_capacity(self.out_port_channels.len());
        for &c in &self.out_port_channels {
            let (port, tail) = std::mem::take(&mut rest).split_at_mut(c as usize);
            rest = tail;
            ports.push(AudioPortBuffer {
                latency: 0,
                channels: AudioPortBufferType::f32_output_only(
                    port.iter_mut().map(move |b| &mut b[..frames]),
                ),
            });
        }
        let mut output_audio = self.output_ports.with_output_buffers(ports);
        let status = started.process(
            &input_audio,
            &mut output_audio,
            &self.in_events.as_input(),
            &mut self.out_events.as_output(),
            Some(self.steady_time),
            transport_event.as_ref(),
        );
        self.steady_time += frames as u64;
        status.map_err(|e| format!("process: {e}"))?;
        left.copy_from_slice(&self.out[0][..frames]);
        right.copy_from_slice(&self.out[1][..frames]);
        self.pump_main_thread();
        Ok(())
    }

    /// One process call of `frames` frames; returns every output channel,
    /// port after port (main left, main right, then each aux port's).
    pub fn process_all(&mut self, frames: u32, events: &[HostEvent]) -> HostResult<Vec<Vec<f32>>> {
        let mut l = vec![0.0; frames as usize];
        let mut r = vec![0.0; frames as usize];
        self.process_into(&mut l, &mut r, events, None)?;
        Ok(self
            .out
            .iter()
            .map(|c| c[..frames as usize].to_vec())
            .collect())
    }

    /// Sends parameter events through `params.flush` (inactive: on the
    /// main thread; active: as the audio thread would between blocks).
    pub fn param_flush(&mut self, events: &[HostEvent]) -> HostResult<()> {
        let ext = self.params.ok_or("param_flush: no params extension")?;
        self.in_events.clear();
        self.out_events.clear();
        for e in events {
            push_event(&mut self.in_events, e);
        }
        match self.processor.as_mut() {
            Some(processor) => {
                let mut handle = processor.plugin_handle();
                ext.flush_active(
                    &mut handle,
                    &self.in_events.as_input(),
                    &mut self.out_events.as_output(),
                );
            }
            None => {
                let mut handle = self
                    .instance
                    .inactive_plugin_handle()
                    .ok_or("param_flush: the plugin is still active")?;
                ext.flush(
                    &mut handle,
                    &self.in_events.as_input(),
                    &mut self.out_events.as_output(),
                );
            }
        }
        self.pump_main_thread();
        Ok(())
    }

    /// The plugin's state through the state extension.
    pub fn save_state(&mut self) -> HostResult<Vec<u8>> {
        let ext = self.state.ok_or("save_state: no state extension")?;
        let mut bytes = Vec::new();
        let handle = self.instance.plugin_handle();
        ext.save(&handle, &mut bytes)
            .map_err(|e| format!("save_state: {e}"))?;
        Ok(bytes)
    }

    /// Loads `bytes` as the plugin's state; whether the plugin accepted it.
    pub fn load_state(&mut self, bytes: &[u8]) -> bool {
        let Some(ext) = self.state else {
            return false;
        };
        let mut reader = bytes;
        let ok = {
            let handle = self.instance.plugin_handle();
            ext.load(&handle, &mut reader).is_ok()
        };
        self.pump_main_thread();
        ok
    }

    /// Answers a pending `request_callback` with `on_main_thread` (and
    /// clears the restart/process/flush flags, which this host ignores).
    pub fn pump_main_thread(&mut self) {
        for _ in 0..16 {
            let wanted = self
                .instance
                .access_shared_handler(|s| s.callback_requested.swap(false, Ordering::AcqRel));
            if !wanted {
                break;
            }
            self.instance.call_on_main_thread_callback();
        }
    }

    /// Log lines the plugin sent at error or fatal severity so far.
    pub fn error_logs(&self) -> u32 {
        self.instance
            .access_shared_handler(|s| s.error_logs.load(Ordering::Acquire))
    }

    /// Every line the plugin sent through the host log extension so far,
    /// as `"<severity>: <message>"` (nice-plug logs through `tracing` to
    /// stderr, not here; this shows what does reach a host's log).
    pub fn log_messages(&self) -> Vec<String> {
        self.instance
            .access_shared_handler(|s| s.log_lines.lock().map(|l| l.clone()).unwrap_or_default())
    }

    /// The activation rate (0 before the first activation).
    pub fn rate_hz(&self) -> f64 {
        self.rate_hz
    }
}

impl Drop for ClapInstance {
    fn drop(&mut self) {
        self.deactivate();
    }
}

/// The bundle the host tests load: `target/bundled/trax.clap` (or
/// `$TRAX_CLAP`).
pub fn bundle_path() -> PathBuf {
    if let Ok(p) = std::env::var("TRAX_CLAP") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bundled/trax.clap")
}

/// The bundle, or `None` when it is missing and `TRAX_ALLOW_SKIP=1` (then
/// prints "SKIPPED: ..."); panics when it is missing otherwise, as CI must
/// run these tests.
pub fn bundle_or_skip(test: &str) -> Option<PathBuf> {
    let path = bundle_path();
    if path.exists() {
        return Some(path);
    }
    let why = format!(
        "{} does not exist; build it with `cargo xtask bundle trax --features assert_process_allocs` \
         (`cargo xtask test` does this)",
        path.display()
    );
    if std::env::var("TRAX_ALLOW_SKIP").as_deref() == Ok("1") {
        // Straight to the stderr handle: libtest captures `eprintln!` of
        // passing tests, and a skip must be visible.
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "SKIPPED: {test}: {why}");
        return None;
    }
    panic!("{test}: {why}; set TRAX_ALLOW_SKIP=1 to skip outside CI");
}
