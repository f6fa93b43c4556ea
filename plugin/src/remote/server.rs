//! REMOTE THREAD: the OSC remote's thread ([`RemoteServer`]): one UDP
//! socket on every IPv4 interface (a tablet on the stage's network must
//! reach it), read with a [`super::READ_TIMEOUT`] so that between packets
//! it pushes state changes to its subscribers, beats the heartbeat and
//! notices when it is told to stop. Commands go to the audio thread
//! through the editor's wait-free queue ([`GuiCommand`]); the thread never
//! touches the engine, and reads it only through its atomics and the
//! control thread's published view.

use std::collections::VecDeque;
use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use rosc::{OscMessage, OscPacket, OscType};

use super::state::{Pusher, RemoteState, HEARTBEAT_ADDRESS};
use super::{address, packet, RemoteCommand, RemoteError, HEARTBEAT, MAX_SUBSCRIBERS};
use crate::bridge::EngineStats;
use crate::plugin::control::Shared;
use crate::plugin::gui_commands::GuiCommand;
use crate::plugin::params::TraxParams;
use crate::published::Reader;
use crate::thread::TraxThread;
use crate::view::ControlView;

/// Malformed messages logged (with their cause and sender) per server;
/// the rest are only counted, so a misconfigured sender cannot flood the
/// log.
const LOGGED_MALFORMED: u64 = 8;

/// The running remote: its thread and socket. Dropping it stops the
/// thread (within [`super::READ_TIMEOUT`]) and waits for it; the port is
/// free again when the drop returns.
pub struct RemoteServer {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
    local: SocketAddr,
}

impl RemoteServer {
    /// Binds UDP `port` on every IPv4 interface (0: a free port the
    /// system picks, see [`Self::local_addr`]) and starts the thread.
    ///
    /// # Errors
    /// [`RemoteError::Bind`] when the port cannot be bound (in use, or
    /// below 1024 without the right), [`RemoteError::Socket`] when the
    /// socket cannot be set up, [`RemoteError::Thread`] when the thread
    /// cannot start.
    pub fn start(
        port: u16,
        params: Arc<TraxParams>,
        shared: Arc<Shared>,
    ) -> Result<Self, RemoteError> {
        let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, port))
            .map_err(|source| RemoteError::Bind { port, source })?;
        let setup = |source| RemoteError::Socket { port, source };
        socket
            .set_read_timeout(Some(super::READ_TIMEOUT))
            .map_err(setup)?;
        let local = socket.local_addr().map_err(setup)?;
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&stop);
        let handle = crate::thread::spawn(TraxThread::Remote, false, move || {
            let mut server = Server::new(socket, params, shared);
            let run = std::panic::AssertUnwindSafe(|| server.run(&s));
            if let Err(p) = std::panic::catch_unwind(run) {
                tracing::error!(
                    "trax: the OSC remote stopped: {}",
                    crate::thread::panic_message(&p)
                );
            }
        })
        .map_err(RemoteError::Thread)?;
        Ok(Self {
            stop,
            handle: Some(handle),
            local,
        })
    }

    /// The address the socket is bound to (its port is the one to send
    /// to).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }
}

impl Drop for RemoteServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// The thread's state.
struct Server {
    socket: UdpSocket,
    params: Arc<TraxParams>,
    shared: Arc<Shared>,
    view: Reader<ControlView>,
    /// Oldest first; at most [`MAX_SUBSCRIBERS`].
    subscribers: VecDeque<SocketAddr>,
    pusher: Pusher,
    beats: i32,
    next_beat: Instant,
    buf: Vec<u8>,
    malformed: u64,
}

impl Server {
    fn new(socket: UdpSocket, params: Arc<TraxParams>, shared: Arc<Shared>) -> Self {
        Self {
            socket,
            params,
            shared,
            view: Reader::default(),
            subscribers: VecDeque::new(),
            pusher: Pusher::default(),
            beats: 0,
            next_beat: Instant::now() + HEARTBEAT,
            buf: vec![0; packet::MAX_DATAGRAM_BYTES],
            malformed: 0,
        }
    }

    fn run(&mut self, stop: &AtomicBool) {
        while !stop.load(Ordering::Acquire) {
            match self.socket.recv_from(&mut self.buf) {
                Ok((n, from)) => self.datagram(n, from),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                // A send's ICMP error reported on this socket (Windows
                // reports an unreachable subscriber this way), or worse:
                // never a busy loop.
                Err(_) => std::thread::sleep(super::READ_TIMEOUT),
            }
            self.push(Instant::now());
        }
    }

    /// One datagram of `n` bytes in `buf`, from `from`.
    fn datagram(&mut self, n: usize, from: SocketAddr) {
        self.shared.remote.counters.note_packet();
        let messages = match packet::decode(&self.buf[..n]) {
            Ok(m) => m,
            Err(e) => return self.malformed(&e, from),
        };
        for m in messages {
            match address::parse(&m) {
                Ok(Some(command)) => self.command(command, from),
                Ok(None) => {}
                Err(e) => self.malformed(&e, from),
            }
        }
    }

    fn malformed(&mut self, e: &packet::Malformed, from: SocketAddr) {
        self.shared.remote.counters.note_malformed();
        self.malformed += 1;
        if self.malformed <= LOGGED_MALFORMED {
            tracing::warn!("trax: OSC from {from} ignored: {e}");
        }
    }

    fn command(&mut self, command: RemoteCommand, from: SocketAddr) {
        self.shared.remote.counters.note_command();
        let gui = match command {
            RemoteCommand::Subscribe { host, port } => {
                let to = SocketAddr::new(host.unwrap_or(from.ip()), port);
                self.subscribers.retain(|&s| s != to);
                if self.subscribers.len() >= MAX_SUBSCRIBERS {
                    self.subscribers.pop_front();
                }
                self.subscribers.push_back(to);
                self.shared
                    .remote
                    .counters
                    .set_subscribers(self.subscribers.len());
                // The whole state at once, to it alone.
                for m in self.state().messages() {
                    self.send(&m, &[to]);
                }
                return;
            }
            RemoteCommand::Unsubscribe { host, port } => {
                let to = SocketAddr::new(host.unwrap_or(from.ip()), port);
                self.subscribers.retain(|&s| s != to);
                self.shared
                    .remote
                    .counters
                    .set_subscribers(self.subscribers.len());
                return;
            }
            other => self.gui_command(other),
        };
        let Some(gui) = gui else {
            return;
        };
        let sent = match self.shared.gui_commands.lock().as_mut() {
            Some(tx) => tx.push(gui).is_ok(),
            None => false,
        };
        if !sent {
            self.shared.remote.counters.note_dropped();
        }
    }

    /// The audio thread's command for `command` (`None`: nothing to do,
    /// such as a section name the song that plays does not have).
    fn gui_command(&mut self, command: RemoteCommand) -> Option<GuiCommand> {
        let default_timing = self.params.jump_timing.value().timing();
        Some(match command {
            RemoteCommand::Play => GuiCommand::Play,
            RemoteCommand::Pause => GuiCommand::Pause,
            RemoteCommand::PlayPause => GuiCommand::PlayPause,
            RemoteCommand::Stop => GuiCommand::RemoteStop,
            RemoteCommand::Cue(song) => GuiCommand::Cue(song),
            RemoteCommand::PlaySong(song) => GuiCommand::RemotePlaySong(song),
            RemoteCommand::Next => GuiCommand::StepSong(1),
            RemoteCommand::Previous => GuiCommand::StepSong(-1),
            RemoteCommand::JumpSection { index, timing } => GuiCommand::JumpSection {
                index,
                timing: timing.unwrap_or(default_timing),
            },
            RemoteCommand::JumpSectionNamed { name, timing } => GuiCommand::JumpSection {
                index: self.section_named(&name)?,
                timing: timing.unwrap_or(default_timing),
            },
            RemoteCommand::JumpBy { delta, timing } => GuiCommand::JumpBy {
                delta,
                timing: timing.unwrap_or(default_timing),
            },
            RemoteCommand::JumpSong { song, timing } => GuiCommand::Jump {
                song,
                frame: 0,
                timing: timing.unwrap_or(default_timing),
            },
            RemoteCommand::CancelJump => GuiCommand::CancelJump,
            RemoteCommand::Vamp(length) => GuiCommand::Vamp(length),
            RemoteCommand::AutoMaster(on) => GuiCommand::AutoMaster(on),
            RemoteCommand::GainDb(db) => GuiCommand::MasterGainDb(db),
            RemoteCommand::Subscribe { .. } | RemoteCommand::Unsubscribe { .. } => return None,
        })
    }

    /// The index of the section called `name` (case-insensitive) in the
    /// song that plays.
    fn section_named(&mut self, name: &str) -> Option<usize> {
        let view = Arc::clone(self.view.read(&self.shared.view));
        let song = view.engine.as_ref()?.stats.active_song()?;
        let song = view.setlist.as_ref()?.songs.get(song)?;
        song.sections
            .iter()
            .position(|s| s.name.trim().eq_ignore_ascii_case(name))
    }

    fn state(&mut self) -> RemoteState {
        let view = self.view.read(&self.shared.view);
        let stats: Option<&EngineStats> = view.engine.as_ref().map(|e| &*e.stats);
        RemoteState::read(stats, view, self.shared.cued_song())
    }

    /// What changed goes to every subscriber; the heartbeat when due.
    fn push(&mut self, now: Instant) {
        let state = self.state();
        let changes = self.pusher.changes(&state, now);
        let to: Vec<SocketAddr> = self.subscribers.iter().copied().collect();
        for m in &changes {
            self.send(m, &to);
        }
        if now >= self.next_beat {
            self.beats = self.beats.wrapping_add(1);
            self.next_beat += HEARTBEAT;
            if self.next_beat <= now {
                // Late (a suspended machine): one beat, then on the second.
                self.next_beat = now + HEARTBEAT;
            }
            let beat = OscMessage {
                addr: HEARTBEAT_ADDRESS.into(),
                args: vec![OscType::Int(self.beats)],
            };
            self.send(&beat, &to);
        }
    }

    /// Sends `m` to each of `to`; a subscriber that cannot be reached
    /// (gone from the network) is not an error: it misses this message.
    fn send(&self, m: &OscMessage, to: &[SocketAddr]) {
        if to.is_empty() {
            return;
        }
        let Ok(bytes) = rosc::encoder::encode(&OscPacket::Message(m.clone())) else {
            return;
        };
        for addr in to {
            let _ = self.socket.send_to(&bytes, addr);
        }
    }
}
