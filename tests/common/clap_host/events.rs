//! The test host's input events (notes, MIDI, parameter changes) and the
//! host transport, as CLAP events.

use super::*;

/// One input event for a [`ClapInstance::process`] call; `time` is the
/// frame inside that block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HostEvent {
    /// A CLAP note-on on note port 0, channel 0 (velocity 0 ..= 1).
    NoteOn {
        /// Frame in the block.
        time: u32,
        /// MIDI key 0 ..= 127.
        key: u8,
        /// Velocity 0 ..= 1.
        velocity: f64,
    },
    /// A CLAP note-off on note port 0, channel 0.
    NoteOff {
        /// Frame in the block.
        time: u32,
        /// MIDI key 0 ..= 127.
        key: u8,
        /// Release velocity 0 ..= 1.
        velocity: f64,
    },
    /// A parameter change to a CLAP value.
    ParamValue {
        /// Frame in the block.
        time: u32,
        /// CLAP parameter id.
        id: u32,
        /// CLAP value (`min ..= max` of its [`ParamInfo`]).
        value: f64,
    },
    /// A raw MIDI 1.0 message on note port 0 (e.g. `[0xC0, program, 0]`).
    Midi {
        /// Frame in the block.
        time: u32,
        /// Status and two data bytes.
        bytes: [u8; 3],
    },
}

impl HostEvent {
    /// The event's frame inside its block.
    pub fn time(&self) -> u32 {
        match *self {
            HostEvent::NoteOn { time, .. }
            | HostEvent::NoteOff { time, .. }
            | HostEvent::ParamValue { time, .. }
            | HostEvent::Midi { time, .. } => time,
        }
    }
}

/// The host transport for one block, as of its first frame (tempo 120,
/// 4/4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transport {
    /// Whether the host transport plays.
    pub playing: bool,
    /// The song position of the block's first frame, in frames at the
    /// activation rate.
    pub pos_frames: i64,
}

pub(super) fn push_event(buf: &mut EventBuffer, e: &HostEvent) {
    let pckn = |key: u8| Pckn::new(0u16, 0u16, u16::from(key), Match::<u32>::All);
    match *e {
        HostEvent::NoteOn {
            time,
            key,
            velocity,
        } => buf.push(&NoteOnEvent::new(time, pckn(key), velocity)),
        HostEvent::NoteOff {
            time,
            key,
            velocity,
        } => buf.push(&NoteOffEvent::new(time, pckn(key), velocity)),
        HostEvent::ParamValue { time, id, value } => buf.push(&ParamValueEvent::new(
            time,
            ClapId::new(id),
            Pckn::match_all(),
            value,
        )),
        HostEvent::Midi { time, bytes } => buf.push(&MidiEvent::new(time, 0, bytes)),
    }
}

/// Tempo of the test transport.
const TEMPO_BPM: f64 = 120.0;

pub(super) fn transport_event(t: Transport, rate_hz: f64) -> TransportEvent {
    let secs = t.pos_frames as f64 / rate_hz;
    let beats = secs * TEMPO_BPM / 60.0;
    let mut flags = TransportFlags::HAS_TEMPO
        | TransportFlags::HAS_BEATS_TIMELINE
        | TransportFlags::HAS_SECONDS_TIMELINE
        | TransportFlags::HAS_TIME_SIGNATURE;
    if t.playing {
        flags |= TransportFlags::IS_PLAYING;
    }
    let bar = (beats / 4.0).floor();
    TransportEvent {
        header: EventHeader::new_core(0, EventFlags::empty()),
        flags,
        song_pos_beats: FixedPoint::from_float(beats),
        song_pos_seconds: FixedPoint::from_float(secs),
        tempo: TEMPO_BPM,
        tempo_inc: 0.0,
        loop_start_beats: FixedPoint::from_int(0),
        loop_end_beats: FixedPoint::from_int(0),
        loop_start_seconds: FixedPoint::from_int(0),
        loop_end_seconds: FixedPoint::from_int(0),
        bar_start: FixedPoint::from_float(bar * 4.0),
        bar_number: bar as i32,
        time_signature_numerator: 4,
        time_signature_denominator: 4,
    }
}
