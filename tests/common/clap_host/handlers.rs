//! The test host's handlers: the extensions it declares and the callbacks
//! a plugin may make (flags only, answered on the test thread; the log
//! printed and counted).

use super::*;

/// The host's handler types.
pub(super) struct TestHost;

impl HostHandlers for TestHost {
    type Shared<'a> = HostShared;
    type MainThread<'a> = HostMainThread;
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        builder
            .register::<HostLog>()
            .register::<HostParams>()
            .register::<HostState>()
            .register::<HostLatency>()
            .register::<HostNotePorts>()
            .register::<clack_extensions::gui::HostGui>();
    }
}

/// Callbacks any plugin thread may make: flags only.
#[derive(Default)]
pub(super) struct HostShared {
    pub(super) callback_requested: AtomicBool,
    pub(super) restart_requested: AtomicBool,
    pub(super) process_requested: AtomicBool,
    pub(super) flush_requested: AtomicBool,
    pub(super) error_logs: AtomicU32,
    pub(super) log_lines: Mutex<Vec<String>>,
    /// The editor asked to be resized.
    pub(super) gui_resize_requests: AtomicU32,
    /// The editor said it closed.
    pub(super) gui_closed: AtomicU32,
}

impl SharedHandler<'_> for HostShared {
    fn request_restart(&self) {
        self.restart_requested.store(true, Ordering::Release);
    }

    fn request_process(&self) {
        self.process_requested.store(true, Ordering::Release);
    }

    fn request_callback(&self) {
        self.callback_requested.store(true, Ordering::Release);
    }
}

impl HostLogImpl for HostShared {
    fn log(&self, severity: LogSeverity, message: &str) {
        if matches!(
            severity,
            LogSeverity::Error
                | LogSeverity::Fatal
                | LogSeverity::HostMisbehaving
                | LogSeverity::PluginMisbehaving
        ) {
            self.error_logs.fetch_add(1, Ordering::AcqRel);
        }
        if let Ok(mut lines) = self.log_lines.lock() {
            lines.push(format!("{severity:?}: {message}"));
        }
        eprintln!("[trax.clap {severity:?}] {message}");
    }
}

impl HostParamsImplShared for HostShared {
    fn request_flush(&self) {
        self.flush_requested.store(true, Ordering::Release);
    }
}

/// Main-thread callbacks: nothing to do for a headless test host.
pub(super) struct HostMainThread;

impl MainThreadHandler<'_> for HostMainThread {}

impl HostParamsImplMainThread for HostMainThread {
    fn rescan(&self, _flags: ParamRescanFlags) {}

    fn clear(&self, _param_id: ClapId, _flags: ParamClearFlags) {}
}

impl HostStateImpl for HostMainThread {
    fn mark_dirty(&self) {}
}

impl HostLatencyImpl for HostMainThread {
    fn changed(&self) {}
}

impl HostNotePortsImpl for HostMainThread {
    fn supported_dialects(&self) -> NoteDialects {
        NoteDialects::CLAP | NoteDialects::MIDI
    }

    fn rescan(&self, _flags: NotePortRescanFlags) {}
}
