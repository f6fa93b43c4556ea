//! The OSC remote end to end: a real plugin instance ([`Trax`]: player,
//! engine, control thread) rendering offline at about twice real time,
//! its remote turned on through the persisted `osc_port` field as the
//! editor or the standalone's `--osc-port` does, driven from a UDP socket
//! as a tablet would (floats where TouchOSC sends floats). Every command
//! must reach the engine (its atomics say so), every change must be
//! pushed to the subscriber, malformed packets must be counted and
//! ignored, and a port that cannot be bound must be an error that names
//! it, retried until it is free.

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nice_assert_no_alloc::assert_no_alloc;

use crate::common::gui_host::immediate_gui_context;
use crate::common::live_setlist::{write_setlist, GenStem, RATE_HZ};
use trax::bridge::JumpTiming;
use trax::plugin::control::load_state;
use trax::remote::rosc::{self, OscMessage, OscPacket, OscType};
use trax::remote::{RemoteStatus, ADDRESSES, STATE_ADDRESSES};
use trax::Trax;

const BLOCK: usize = 512;
/// The stems' constant level.
const LEVEL: f32 = 0.25;
/// How long any step may take before the test fails.
const STEP_LIMIT: Duration = Duration::from_secs(5);

/// A plugin rendering offline, its remote on, and a tablet's socket.
struct Rig {
    trax: Trax,
    tablet: UdpSocket,
    remote: SocketAddr,
    /// Every message pushed to the tablet, with when it arrived.
    received: Vec<(Instant, OscMessage)>,
    /// The main output's last block, left channel.
    left: Vec<f32>,
    _dir: tempfile::TempDir,
}

/// Song 1: 30 s with sections A (0 s), B (10 s) and C (20 s); song 2: 5 s.
fn setlist(dir: &std::path::Path) -> PathBuf {
    let level: &'static dyn Fn(usize) -> f32 = &|_| LEVEL;
    let stem = |file, secs: usize| GenStem {
        file,
        output: None,
        frames: secs * RATE_HZ as usize,
        sample: level,
    };
    let sections = "[[song.section]]\nname = \"A\"\nstart_secs = 0.0\n\
                    [[song.section]]\nname = \"B\"\nstart_secs = 10.0\n\
                    [[song.section]]\nname = \"C\"\nstart_secs = 20.0";
    write_setlist(
        dir,
        "",
        &[
            (sections, vec![stem("one.wav", 30)]),
            ("", vec![stem("two.wav", 5)]),
        ],
    )
}

/// A UDP port free now (bound, read, released).
fn free_port() -> u16 {
    let s = UdpSocket::bind("0.0.0.0:0").expect("bind a free port");
    s.local_addr().expect("its address").port()
}

/// Waits (polling) until `done`, at most [`STEP_LIMIT`].
fn wait(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < STEP_LIMIT,
            "{what}: not within {STEP_LIMIT:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Sets the remote's port as the editor does, and waits for its status.
fn set_port(trax: &Trax, port: u16, until: impl Fn(&RemoteStatus) -> bool) {
    trax.params_arc().osc_port.replace(port);
    trax.shared().wake_control();
    wait(&format!("the remote's status for port {port}"), || {
        until(&trax.shared().view.get().remote)
    });
}

impl Rig {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = setlist(dir.path());
        let mut trax = Trax::default();
        trax.set_cache_config(None);
        assert!(trax.start(RATE_HZ, true));
        let gain = &trax.params_arc().gain_db;
        gain.smoothed.reset(gain.value());
        trax.params_arc()
            .setlist
            .replace(path.to_string_lossy().into_owned());
        trax.shared().wake_control();
        wait("the setlist's load", || {
            let shared = trax.shared();
            !shared.is_loading(trax.params_arc().setlist.version())
                && shared.load_state() == load_state::READY
        });
        // A port free a moment ago may be taken by another test before
        // the remote binds it: then another one.
        let port = (0..3)
            .map(|_| free_port())
            .find(|&port| {
                set_port(&trax, port, |s| match s {
                    RemoteStatus::Listening { port: p } | RemoteStatus::Failed { port: p, .. } => {
                        *p == port
                    }
                    RemoteStatus::Off => false,
                });
                trax.shared().view.get().remote == RemoteStatus::Listening { port }
            })
            .expect("a free port for the remote");
        let tablet = UdpSocket::bind("127.0.0.1:0").expect("the tablet's socket");
        tablet.set_nonblocking(true).expect("non-blocking");
        let mut rig = Self {
            trax,
            tablet,
            remote: SocketAddr::from(([127, 0, 0, 1], port)),
            received: Vec::new(),
            left: vec![0.0; BLOCK],
            _dir: dir,
        };
        rig.block();
        rig
    }

    fn stats(&self) -> Arc<trax::bridge::EngineStats> {
        let view = self.trax.shared().view.get();
        Arc::clone(&view.engine.as_ref().expect("activated").stats)
    }

    fn send_bytes(&self, bytes: &[u8]) {
        self.tablet.send_to(bytes, self.remote).expect("send");
    }

    fn send(&self, addr: &str, args: Vec<OscType>) {
        let packet = OscPacket::Message(OscMessage {
            addr: addr.into(),
            args,
        });
        self.send_bytes(&rosc::encoder::encode(&packet).expect("encode"));
    }

    /// One block (the queue drained, rendered) under the allocation
    /// checker, then what arrived at the tablet.
    fn block(&mut self) {
        let mut right = [0.0f32; BLOCK];
        let (trax, left) = (&mut self.trax, &mut self.left);
        assert_no_alloc(|| {
            trax.begin_block();
            trax.render_block(left, &mut right);
        });
        let mut buf = [0u8; 1536];
        while let Ok(n) = self.tablet.recv(&mut buf) {
            let packet = trax::remote::decode(&buf[..n]).expect("Trax sends OSC");
            let now = Instant::now();
            self.received.extend(packet.into_iter().map(|m| (now, m)));
        }
    }

    /// Renders (a block per 5 ms: about twice real time) until `done`.
    fn pump(&mut self, what: &str, done: impl Fn(&Self) -> bool) {
        let start = Instant::now();
        while !done(self) {
            assert!(
                start.elapsed() < STEP_LIMIT,
                "{what}: not within {STEP_LIMIT:?}; last pushed: {:?}",
                self.received.iter().rev().take(8).collect::<Vec<_>>()
            );
            self.block();
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The last message pushed to `addr`, its arguments.
    fn last(&self, addr: &str) -> Option<&[OscType]> {
        self.received
            .iter()
            .rev()
            .find(|(_, m)| m.addr == addr)
            .map(|(_, m)| m.args.as_slice())
    }

    fn pushed(&self, addr: &str, args: &[OscType]) -> bool {
        self.last(addr) == Some(args)
    }

    fn level(&self) -> f32 {
        self.left.iter().fold(0.0f32, |m, x| m.max(x.abs()))
    }
}

fn s(text: &str) -> OscType {
    OscType::String(text.into())
}

#[test]
fn a_tablet_drives_the_engine_and_sees_every_change_pushed() {
    let mut rig = Rig::new();
    let stats = rig.stats();
    let tablet_port = rig.tablet.local_addr().unwrap().port();
    let subscribed = Instant::now();
    rig.send(
        "/trax/subscribe",
        vec![OscType::Float(f32::from(tablet_port))],
    );
    rig.pump("the full state on subscribing", |r| {
        STATE_ADDRESSES.iter().all(|(a, _)| r.last(a).is_some())
    });
    assert!(rig.pushed("/trax/state/transport", &[s("stopped")]));
    assert!(rig.pushed("/trax/state/song", &[OscType::Int(1), s("Song 1")]));
    assert!(rig.pushed("/trax/state/section", &[OscType::Int(0), s("")]));
    assert_eq!(rig.trax.shared().remote.counters.subscribers(), 1);

    // Play song 1 now: the engine plays it, the tablet hears of it.
    rig.send("/trax/song/play", vec![OscType::Float(1.0)]);
    rig.pump("song 1 playing, pushed", |r| {
        r.pushed("/trax/state/transport", &[s("playing")])
            && r.pushed("/trax/state/section", &[OscType::Int(1), s("A")])
    });
    assert_eq!(stats.active_song(), Some(0));
    assert!(!rig.trax.params_arc().play.value(), "no parameter is set");
    rig.pump("the fade-in's end", |r| {
        r.level() > 0.0 && r.left[0] == r.left[BLOCK - 1]
    });
    let unity = rig.level();

    // The master gain: -6 dB, and it holds (the parameter is still 0 dB).
    rig.send("/trax/gain", vec![OscType::Float(-6.0)]);
    let expected = unity * 10f32.powf(-6.0 / 20.0);
    rig.pump("-6 dB", |r| (r.level() - expected).abs() < 1e-4);
    for _ in 0..20 {
        rig.block();
    }
    assert!((rig.level() - expected).abs() < 1e-4, "the override holds");

    // The auto-master on; it holds until `am_on` itself changes.
    rig.send("/trax/automaster", vec![OscType::Int(1)]);
    rig.pump("the auto-master on", |_| stats.auto_master_on());
    for _ in 0..20 {
        rig.block();
    }
    assert!(stats.auto_master_on(), "not undone by the next blocks");
    let gui = immediate_gui_context();
    let setter = gui.param_setter();
    setter.set_parameter(&rig.trax.params_arc().auto_master, true);
    rig.block();
    setter.set_parameter(&rig.trax.params_arc().auto_master, false);
    rig.pump("the parameter takes over", |_| !stats.auto_master_on());

    // A jump to section 2 now; one to section 3 at the parameter's timing
    // (end of section), queued and pushed with its countdown; a vamp
    // replaces it.
    let landed = stats.jumps().landed();
    rig.send("/trax/jump/section", vec![OscType::Int(2), s("now")]);
    rig.pump("section B", |r| {
        r.pushed("/trax/state/section", &[OscType::Int(2), s("B")])
    });
    assert_eq!(stats.jumps().landed(), landed + 1);
    rig.send("/trax/jump/section", vec![OscType::Float(3.0)]);
    rig.pump("the queued jump, pushed", |r| {
        matches!(r.last("/trax/state/jump"), Some([t, w, OscType::Float(secs)])
            if *t == s("C") && *w == s("section") && *secs > 9.0)
    });
    let queued = stats.jumps().queued().expect("queued");
    assert_eq!(queued.timing, JumpTiming::SectionEnd);
    assert_eq!(queued.frame, 20 * u64::from(RATE_HZ));
    rig.send("/trax/vamp", vec![OscType::Float(1.0)]);
    rig.pump("the vamp, pushed", |r| {
        r.pushed("/trax/state/vamp", &[OscType::Int(1)])
            && r.pushed("/trax/state/jump", &[s(""), s(""), OscType::Float(0.0)])
    });
    assert!(stats.jumps().queued().is_some_and(|q| q.vamp));

    // Garbage and a wrong type: counted, ignored; a button's release is
    // neither a command nor malformed.
    let commands = rig.trax.shared().remote.counters.commands();
    rig.send_bytes(b"\x00\x01 not OSC");
    rig.send("/trax/vamp", vec![s("yes")]);
    rig.send("/trax/stop", vec![OscType::Float(0.0)]);
    rig.pump("three packets", |r| {
        r.trax.shared().remote.counters.packets() >= 10
    });
    assert_eq!(rig.trax.shared().remote.counters.malformed(), 2);
    assert_eq!(rig.trax.shared().remote.counters.commands(), commands);
    assert!(
        stats.jumps().queued().is_some_and(|q| q.vamp),
        "still vamping"
    );

    // The heartbeat: within 1.5 s of subscribing.
    rig.pump("a heartbeat", |r| r.last("/trax/heartbeat").is_some());
    let beat = rig
        .received
        .iter()
        .find(|(_, m)| m.addr == "/trax/heartbeat");
    let beat_after = beat.unwrap().0 - subscribed;
    assert!(beat_after < Duration::from_millis(1500), "{beat_after:?}");

    // Next (playing: song 2 at once), pause, play, stop.
    rig.send("/trax/next", vec![OscType::Float(1.0)]);
    rig.pump("song 2", |r| {
        r.pushed("/trax/state/song", &[OscType::Int(2), s("Song 2")])
    });
    assert_eq!(stats.active_song(), Some(1));
    for (addr, word) in [
        ("/trax/pause", "paused"),
        ("/trax/play", "playing"),
        ("/trax/stop", "stopped"),
    ] {
        rig.send(addr, vec![]);
        rig.pump(word, |r| r.pushed("/trax/state/transport", &[s(word)]));
    }
    rig.send(
        "/trax/unsubscribe",
        vec![OscType::Int(i32::from(tablet_port))],
    );
    rig.pump("unsubscribed", |r| {
        r.trax.shared().remote.counters.subscribers() == 0
    });
    assert_eq!(rig.trax.shared().remote.counters.dropped(), 0);
}

#[test]
fn a_port_in_use_is_an_error_naming_it_retried_until_free_and_freed_when_off() {
    let mut trax = Trax::default();
    trax.set_cache_config(None);
    assert!(trax.start(RATE_HZ, true));
    assert_eq!(
        trax.shared().view.get().remote,
        RemoteStatus::Off,
        "off by default"
    );
    let blocker = UdpSocket::bind("0.0.0.0:0").expect("a port in use");
    let port = blocker.local_addr().unwrap().port();
    set_port(&trax, port, |s| matches!(s, RemoteStatus::Failed { .. }));
    let RemoteStatus::Failed { error, .. } = trax.shared().view.get().remote.clone() else {
        unreachable!()
    };
    assert!(
        error.contains(&format!("UDP port {port}")) && error.to_lowercase().contains("in use"),
        "{error}"
    );
    drop(blocker);
    set_port(&trax, port, |s| *s == RemoteStatus::Listening { port });
    set_port(&trax, 0, |s| *s == RemoteStatus::Off);
    UdpSocket::bind(("0.0.0.0", port)).expect("off frees the port");
    // Back on, then the instance goes: the port is free again.
    set_port(&trax, port, |s| *s == RemoteStatus::Listening { port });
    drop(trax);
    UdpSocket::bind(("0.0.0.0", port)).expect("a dropped instance frees its port");
}

#[test]
fn the_readme_lists_every_address() {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .expect("README.md");
    for (addr, args) in ADDRESSES.iter().chain(&STATE_ADDRESSES) {
        let row = if args.is_empty() {
            format!("| `{addr}` |")
        } else {
            format!("| `{addr} {args}` |")
        };
        assert!(readme.contains(&row), "the README has no row {row}");
    }
    assert!(readme.contains("`/trax/heartbeat i`"));
}
