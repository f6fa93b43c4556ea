//! REMOTE THREAD: the OSC addresses Trax answers: one message in, one
//! [`RemoteCommand`] out ([`parse`]). Pure (no I/O, no clock, no engine):
//! what the tests and the `osc` fuzz target drive. [`ADDRESSES`] lists
//! them as the README's table does.
//!
//! Numbers may come as OSC int, float, long, double or bool (TouchOSC
//! sends floats; a float index is rounded); strings only where a string
//! is expected. A trigger address (play, next, …) takes no argument or a
//! button's value first: 0 is the button's release and does nothing, so a
//! push button that sends 1 on press and 0 on release acts once.

use std::net::{IpAddr, Ipv4Addr};

use rosc::{OscMessage, OscType};

use super::Malformed;
use crate::bridge::{JumpTiming, VampLength};
use crate::plugin::params::{MASTER_GAIN_MAX_DB, MASTER_GAIN_MIN_DB};

/// What an OSC message asks for. Songs and sections are 0-based here
/// (1-based on the wire). A jump's `timing` is `None` when the message
/// gave none: the `jump_timing` parameter's then.
#[derive(Clone, Debug, PartialEq)]
pub enum RemoteCommand {
    /// Resume if paused, else play the cued song from its start.
    Play,
    /// Pause (10 ms fade).
    Pause,
    /// Pause what plays, else [`RemoteCommand::Play`].
    PlayPause,
    /// Stop (fade out; the next play starts the cued song from 0).
    Stop,
    /// Cue a song: its head is made resident, Play starts it.
    Cue(usize),
    /// Play a song from its start now, whatever plays.
    PlaySong(usize),
    /// The next song: played at once while the transport plays, cued
    /// otherwise.
    Next,
    /// The previous song, likewise.
    Previous,
    /// Queue a jump to a section of the song that plays.
    JumpSection {
        /// The section, 0-based.
        index: usize,
        /// When it lands.
        timing: Option<JumpTiming>,
    },
    /// Queue a jump to the section of the song that plays with this name
    /// (case-insensitive).
    JumpSectionNamed {
        /// The section's name.
        name: String,
        /// When it lands.
        timing: Option<JumpTiming>,
    },
    /// Queue a jump `delta` sections from the one that plays (1: next,
    /// -1: previous).
    JumpBy {
        /// Sections to move.
        delta: i32,
        /// When it lands.
        timing: Option<JumpTiming>,
    },
    /// Queue a jump to a song's start.
    JumpSong {
        /// The song, 0-based.
        song: usize,
        /// When it lands.
        timing: Option<JumpTiming>,
    },
    /// Cancel the queued jump.
    CancelJump,
    /// Start (`Some`) or release (`None`) a vamp.
    Vamp(Option<VampLength>),
    /// The auto-master on or off.
    AutoMaster(bool),
    /// The master gain, dB, within the parameter's range.
    GainDb(f32),
    /// Send the state to `host` (`None`: the sender's address) at `port`
    /// from now on.
    Subscribe {
        /// The subscriber's address, if given.
        host: Option<IpAddr>,
        /// Its UDP port.
        port: u16,
    },
    /// Stop sending the state there.
    Unsubscribe {
        /// The subscriber's address, if given.
        host: Option<IpAddr>,
        /// Its UDP port.
        port: u16,
    },
}

/// Every address [`parse`] takes, with its arguments as the README's
/// table writes them (`[…]` optional).
pub const ADDRESSES: &[(&str, &str)] = &[
    ("/trax/play", ""),
    ("/trax/pause", ""),
    ("/trax/playpause", ""),
    ("/trax/stop", ""),
    ("/trax/song", "i"),
    ("/trax/song/play", "i"),
    ("/trax/next", ""),
    ("/trax/previous", ""),
    ("/trax/jump/section", "i [timing]"),
    ("/trax/jump/section/name", "s [timing]"),
    ("/trax/jump/next", "[timing]"),
    ("/trax/jump/previous", "[timing]"),
    ("/trax/jump/song", "i [timing]"),
    ("/trax/jump/cancel", ""),
    ("/trax/vamp", "i"),
    ("/trax/vamp/bars", "n"),
    ("/trax/automaster", "i"),
    ("/trax/gain", "f"),
    ("/trax/subscribe", "[host] port"),
    ("/trax/unsubscribe", "[host] port"),
];

/// The command `message` asks for; `Ok(None)` for a button's release (a
/// trigger address with the value 0), which does nothing.
///
/// # Errors
/// [`Malformed::UnknownAddress`] for an address not in [`ADDRESSES`],
/// [`Malformed::Arguments`] (naming the address and what was expected)
/// for arguments of the wrong type or count, or out of range.
pub fn parse(message: &OscMessage) -> Result<Option<RemoteCommand>, Malformed> {
    match read(&message.addr, &message.args) {
        None => Err(Malformed::UnknownAddress(message.addr.clone())),
        Some(parsed) => parsed.map_err(|why| Malformed::Arguments {
            address: message.addr.clone(),
            why,
        }),
    }
}

/// [`parse`]'s table: `None` for an unknown address, else the command
/// or what is wrong with the arguments.
fn read(addr: &str, args: &[OscType]) -> Option<Result<Option<RemoteCommand>, &'static str>> {
    use RemoteCommand as C;
    Some(match addr {
        "/trax/play" => trigger(args, |r| only(r, C::Play)),
        "/trax/pause" => trigger(args, |r| only(r, C::Pause)),
        "/trax/playpause" => trigger(args, |r| only(r, C::PlayPause)),
        "/trax/stop" => trigger(args, |r| only(r, C::Stop)),
        "/trax/next" => trigger(args, |r| only(r, C::Next)),
        "/trax/previous" => trigger(args, |r| only(r, C::Previous)),
        "/trax/jump/cancel" => trigger(args, |r| only(r, C::CancelJump)),
        "/trax/jump/next" => trigger(args, |r| {
            Ok(C::JumpBy {
                delta: 1,
                timing: timing(r)?,
            })
        }),
        "/trax/jump/previous" => trigger(args, |r| {
            Ok(C::JumpBy {
                delta: -1,
                timing: timing(r)?,
            })
        }),
        "/trax/song" => one(args).and_then(index).map(|s| Some(C::Cue(s))),
        "/trax/song/play" => one(args).and_then(index).map(|s| Some(C::PlaySong(s))),
        "/trax/jump/section" => {
            index_timing(args).map(|(index, timing)| Some(C::JumpSection { index, timing }))
        }
        "/trax/jump/section/name" => match args {
            [OscType::String(name), rest @ ..] => timing(rest).map(|timing| {
                Some(C::JumpSectionNamed {
                    name: name.trim().to_string(),
                    timing,
                })
            }),
            _ => Err("expected a section name (string), then an optional timing"),
        },
        "/trax/jump/song" => {
            index_timing(args).map(|(song, timing)| Some(C::JumpSong { song, timing }))
        }
        "/trax/vamp" => one(args)
            .and_then(switch)
            .map(|on| Some(C::Vamp(on.then_some(VampLength::Section)))),
        "/trax/vamp/bars" => one(args).and_then(bars).map(|b| Some(C::Vamp(b))),
        "/trax/automaster" => one(args).and_then(switch).map(|on| Some(C::AutoMaster(on))),
        "/trax/gain" => one(args).and_then(gain_db).map(|db| Some(C::GainDb(db))),
        "/trax/subscribe" => subscriber(args).map(|(host, port)| Some(C::Subscribe { host, port })),
        "/trax/unsubscribe" => {
            subscriber(args).map(|(host, port)| Some(C::Unsubscribe { host, port }))
        }
        _ => return None,
    })
}

const EXPECTED_NUMBER: &str = "expected a number (int or float)";
const EXPECTED_INDEX: &str = "expected a number from 1 (int or float)";

/// A number argument, finite.
fn number(arg: &OscType) -> Option<f64> {
    let x = match *arg {
        OscType::Int(i) => f64::from(i),
        OscType::Float(f) => f64::from(f),
        OscType::Long(l) => l as f64,
        OscType::Double(d) => d,
        OscType::Bool(b) => f64::from(u8::from(b)),
        _ => return None,
    };
    x.is_finite().then_some(x)
}

/// The only argument.
fn one(args: &[OscType]) -> Result<&OscType, &'static str> {
    match args {
        [a] => Ok(a),
        _ => Err("expected one argument"),
    }
}

/// A 1-based index (a song, a section) as 0-based.
fn index(arg: &OscType) -> Result<usize, &'static str> {
    let n = number(arg).ok_or(EXPECTED_INDEX)?.round();
    if (1.0..=f64::from(u16::MAX)).contains(&n) {
        Ok(n as usize - 1)
    } else {
        Err(EXPECTED_INDEX)
    }
}

/// On (≥ 0.5) or off.
fn switch(arg: &OscType) -> Result<bool, &'static str> {
    number(arg)
        .map(|x| x >= 0.5)
        .ok_or("expected 1 (on) or 0 (off), int or float")
}

/// A vamp of the last `n` bars; 0 releases the vamp.
fn bars(arg: &OscType) -> Result<Option<VampLength>, &'static str> {
    const WHY: &str = "expected a number of bars, 1 to 255 (0 releases the vamp)";
    let n = number(arg).ok_or(WHY)?.round();
    match n {
        0.0 => Ok(None),
        1.0..=255.0 => Ok(Some(VampLength::Bars(n as u8))),
        _ => Err(WHY),
    }
}

/// A master gain, dB, clamped to the parameter's range.
fn gain_db(arg: &OscType) -> Result<f32, &'static str> {
    number(arg)
        .map(|db| (db as f32).clamp(MASTER_GAIN_MIN_DB, MASTER_GAIN_MAX_DB))
        .ok_or(EXPECTED_NUMBER)
}

/// A 1-based index, then an optional timing word.
fn index_timing(args: &[OscType]) -> Result<(usize, Option<JumpTiming>), &'static str> {
    let (i, rest) = args.split_first().ok_or(EXPECTED_INDEX)?;
    Ok((index(i)?, timing(rest)?))
}

/// An optional timing word (the rest of a jump's arguments).
fn timing(rest: &[OscType]) -> Result<Option<JumpTiming>, &'static str> {
    const WHY: &str = "the timing is one string: now, bar, section or song";
    match rest {
        [] => Ok(None),
        [OscType::String(word)] => JumpTiming::parse(word).map(Some).ok_or(WHY),
        _ => Err(WHY),
    }
}

/// A trigger address: an optional button value first (0: released, so
/// nothing; the rest is still checked), then what `then` reads.
fn trigger(
    args: &[OscType],
    then: impl FnOnce(&[OscType]) -> Result<RemoteCommand, &'static str>,
) -> Result<Option<RemoteCommand>, &'static str> {
    match args.split_first().map(|(a, rest)| (number(a), rest)) {
        Some((Some(value), rest)) => {
            let command = then(rest)?;
            Ok((value != 0.0).then_some(command))
        }
        _ => then(args).map(Some),
    }
}

/// No arguments besides a button's value.
fn only(rest: &[OscType], command: RemoteCommand) -> Result<RemoteCommand, &'static str> {
    if rest.is_empty() {
        Ok(command)
    } else {
        Err("takes no argument (or one number: a button's value)")
    }
}

/// `[host] port`: an IP address (or `localhost`; empty: the sender's),
/// and a port 1–65535.
fn subscriber(args: &[OscType]) -> Result<(Option<IpAddr>, u16), &'static str> {
    const WHY: &str = "expected an optional host (an IP address, string) and a port (1-65535)";
    let (host, port) = match args {
        [port] => (None, port),
        [OscType::String(host), port] => (Some(host.trim()), port),
        _ => return Err(WHY),
    };
    let host = match host {
        None | Some("") => None,
        Some(h) if h.eq_ignore_ascii_case("localhost") => Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        Some(h) => Some(h.parse::<IpAddr>().map_err(|_| WHY)?),
    };
    let port = number(port).ok_or(WHY)?.round();
    if !(1.0..=65_535.0).contains(&port) {
        return Err(WHY);
    }
    Ok((host, port as u16))
}
