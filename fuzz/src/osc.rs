//! One UDP datagram to the OSC remote, as anyone on the network can send
//! it: decoded (`remote::decode`: bundles flattened, nesting and arrays
//! refused before rosc recurses) and every message parsed
//! (`remote::parse`). A command that comes out must be one the audio
//! thread can take as it is: indices that fit, a finite gain within the
//! parameter's range, a port above 0, trimmed names; an error must name
//! what was wrong.

use trax::bridge::VampLength;
use trax::plugin::params::{MASTER_GAIN_MAX_DB, MASTER_GAIN_MIN_DB};
use trax::remote::rosc::{self, OscBundle, OscMessage, OscPacket, OscTime, OscType};
use trax::remote::{Malformed, RemoteCommand, ADDRESSES};

/// One datagram.
pub fn datagram(data: &[u8]) {
    let Ok(messages) = trax::remote::decode(data) else {
        return;
    };
    for m in &messages {
        match trax::remote::parse(m) {
            Ok(Some(command)) => check(&command),
            Ok(None) => {}
            Err(e) => {
                assert!(!e.to_string().is_empty());
                if let Malformed::UnknownAddress(a) = &e {
                    assert!(ADDRESSES.iter().all(|(known, _)| known != a), "{a}");
                }
            }
        }
    }
}

fn check(command: &RemoteCommand) {
    const MAX_INDEX: usize = u16::MAX as usize;
    match command {
        RemoteCommand::Cue(i)
        | RemoteCommand::PlaySong(i)
        | RemoteCommand::JumpSection { index: i, .. }
        | RemoteCommand::JumpSong { song: i, .. } => assert!(*i < MAX_INDEX, "{command:?}"),
        RemoteCommand::GainDb(db) => assert!(
            db.is_finite() && (MASTER_GAIN_MIN_DB..=MASTER_GAIN_MAX_DB).contains(db),
            "{command:?}"
        ),
        RemoteCommand::Vamp(Some(VampLength::Bars(n))) => assert!(*n >= 1, "{command:?}"),
        RemoteCommand::JumpSectionNamed { name, .. } => {
            assert_eq!(name.trim(), name, "{command:?}");
        }
        RemoteCommand::JumpBy { delta, .. } => assert!(delta.abs() == 1, "{command:?}"),
        RemoteCommand::Subscribe { port, .. } | RemoteCommand::Unsubscribe { port, .. } => {
            assert!(*port >= 1, "{command:?}");
        }
        _ => {}
    }
}

fn packet(addr: &str, args: Vec<OscType>) -> OscPacket {
    OscPacket::Message(OscMessage {
        addr: addr.into(),
        args,
    })
}

/// Seeds: every address with ints, floats and its string arguments, a
/// button's release, a bundle of several and a nested one, garbage.
pub fn seeds() -> Vec<crate::seeds::Seed> {
    let s = |t: &str| OscType::String(t.into());
    let mut packets: Vec<(String, OscPacket)> = Vec::new();
    for (addr, args) in ADDRESSES {
        let name = addr.trim_start_matches('/').replace('/', "_");
        let (ints, floats) = match *args {
            "" | "[timing]" => (vec![], vec![OscType::Float(1.0)]),
            "i [timing]" => (
                vec![OscType::Int(2), s("now")],
                vec![OscType::Float(2.0), s("bar")],
            ),
            "s [timing]" => (vec![s("Chorus"), s("section")], vec![s("verse")]),
            "[host] port" => (
                vec![s("127.0.0.1"), OscType::Int(9001)],
                vec![OscType::Float(9001.0)],
            ),
            "f" => (vec![OscType::Int(-6)], vec![OscType::Float(-6.5)]),
            _ => (vec![OscType::Int(1)], vec![OscType::Float(4.0)]),
        };
        packets.push((format!("{name}_ints"), packet(addr, ints)));
        packets.push((format!("{name}_floats"), packet(addr, floats)));
    }
    packets.push((
        "release".into(),
        packet("/trax/next", vec![OscType::Float(0.0)]),
    ));
    let bundle = |content| {
        OscPacket::Bundle(OscBundle {
            timetag: OscTime::from((1, 1)),
            content,
        })
    };
    packets.push((
        "bundle".into(),
        bundle(vec![
            packet("/trax/song/play", vec![OscType::Int(1)]),
            packet("/trax/jump/section", vec![OscType::Int(2), s("now")]),
            bundle(vec![packet("/trax/vamp", vec![OscType::Int(1)])]),
        ]),
    ));
    let mut out: Vec<crate::seeds::Seed> = packets
        .into_iter()
        .filter_map(|(name, p)| Some((name, rosc::encoder::encode(&p).ok()?)))
        .collect();
    out.push(("garbage".into(), b"not OSC at all".to_vec()));
    out
}
