//! REMOTE THREAD: the OSC remote: a tablet (TouchOSC, Open Stage Control)
//! or a script on the network drives the transport, songs, jumps, vamps,
//! the auto-master and the master gain over UDP, and subscribes to the
//! state, pushed as it changes, with a heartbeat every second. The README's
//! "OSC remote" section is the address list.
//!
//! One thread per plugin instance ([`server`]), started, stopped and
//! rebound by the instance's control thread as the persisted `osc_port`
//! field says ([`link`]; 0, the plugin's default, is off; the standalone's
//! `--osc-port` sets it). Commands reach the audio thread through the
//! editor's wait-free queue ([`crate::plugin::gui_commands`]): the thread
//! never touches the engine. Parsing is pure ([`packet`], [`address`]),
//! and so is the state it pushes ([`state`]). Malformed packets and
//! messages are ignored and counted ([`RemoteCounters`]).
#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    clippy::disallowed_macros
)] // Never the audio thread.

pub mod address;
pub mod link;
pub mod packet;
pub mod server;
pub mod state;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

pub use address::{parse, RemoteCommand, ADDRESSES};
pub use link::Remote;
pub use packet::{decode, Malformed};
/// The OSC library (for senders in tests and tools: its types are in this
/// module's API).
pub use rosc;
pub use server::RemoteServer;
pub use state::{RemoteState, STATE_ADDRESSES};

/// Subscribers at most; a ninth replaces the oldest.
pub const MAX_SUBSCRIBERS: usize = 8;

/// How long the thread waits for a packet before it looks at the state
/// again: the latency of a pushed change, and of a stop.
pub const READ_TIMEOUT: Duration = Duration::from_millis(50);

/// The heartbeat's period (`/trax/heartbeat`).
pub const HEARTBEAT: Duration = Duration::from_secs(1);

/// The shortest interval between two pushes of a running value
/// (position, time left, a queued jump's countdown).
pub const POSITION_INTERVAL: Duration = Duration::from_millis(100);

/// How long after a port could not be bound it is tried again (another
/// program, or an instance that is going, may free it).
pub const RETRY_BIND: Duration = Duration::from_secs(1);

/// Why the remote cannot run. Each names the port and the cause.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The port cannot be bound (in use, or privileged).
    #[error("OSC remote: cannot listen on UDP port {port}: {source}")]
    Bind {
        /// The port asked for.
        port: u16,
        /// The system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The bound socket cannot be set up (its read timeout, its address).
    #[error("OSC remote: cannot set up UDP port {port}: {source}")]
    Socket {
        /// The port asked for.
        port: u16,
        /// The system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The thread cannot be started.
    #[error("OSC remote: cannot start its thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// Where the remote stands, as the control thread last published it
/// ([`crate::view::ControlView::remote`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum RemoteStatus {
    /// Off (`osc_port` 0).
    #[default]
    Off,
    /// Listening on this UDP port, every IPv4 interface.
    Listening {
        /// The bound port.
        port: u16,
    },
    /// The port asked for cannot be used; tried again every
    /// [`RETRY_BIND`].
    Failed {
        /// The port asked for.
        port: u16,
        /// The error, naming the port and the cause.
        error: String,
    },
}

/// What the remote's thread counts, since the instance started (the
/// editor and the tests read them). Atomics; any thread.
#[derive(Debug, Default)]
pub struct RemoteCounters {
    packets: AtomicU64,
    commands: AtomicU64,
    malformed: AtomicU64,
    dropped: AtomicU64,
    subscribers: AtomicUsize,
}

impl RemoteCounters {
    /// Datagrams received.
    pub fn packets(&self) -> u64 {
        self.packets.load(Ordering::Relaxed)
    }

    /// Well-formed commands taken (subscriptions included; a button's
    /// release is not one).
    pub fn commands(&self) -> u64 {
        self.commands.load(Ordering::Relaxed)
    }

    /// Malformed datagrams (not OSC, nested too deep) and messages
    /// (unknown address, wrong argument types or count, out of range),
    /// each ignored.
    pub fn malformed(&self) -> u64 {
        self.malformed.load(Ordering::Relaxed)
    }

    /// Commands lost because the queue to the audio thread was full (64
    /// commands between two audio blocks) or there was no audio thread's
    /// queue.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Subscribers now.
    pub fn subscribers(&self) -> usize {
        self.subscribers.load(Ordering::Relaxed)
    }

    fn note_packet(&self) {
        self.packets.fetch_add(1, Ordering::Relaxed);
    }

    fn note_command(&self) {
        self.commands.fetch_add(1, Ordering::Relaxed);
    }

    fn note_malformed(&self) {
        self.malformed.fetch_add(1, Ordering::Relaxed);
    }

    fn note_dropped(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }

    fn set_subscribers(&self, n: usize) {
        self.subscribers.store(n, Ordering::Relaxed);
    }
}
