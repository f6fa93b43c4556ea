//! CONTROL THREAD (setlist loading): the markers of a Standard MIDI File
//! (a DAW's "export markers/tempo map as MIDI"), read through `midly`.
//!
//! Followed: the MIDI Association's *Standard MIDI Files 1.0* (RP-001):
//! Marker (`FF 06`) and Cue Point (`FF 07`) meta events name positions,
//! Set Tempo (`FF 51`, microseconds per quarter note) and Time Signature
//! (`FF 58`) give the tempo. Ticks become seconds through the tempo map:
//! in format 0 and 1 files every track's tempo events, merged by tick, make
//! one map; in format 2 (independent patterns) each track has its own, as
//! the standard asks each pattern to carry its own tempo. SMPTE-timed files
//! (negative division) count ticks in frames and subframes, whatever the
//! tempo. midly parses lazily here (`midly::parse`): events are walked,
//! never collected, so the memory used is the markers and tempo changes.

use midly::{Format, MetaMessage, Timing, TrackEventKind};

use super::{FileTempo, MarkerFile, MarkerFormat, Markers, ParseError, MAX_MARKERS, MAX_SMF_BYTES};

const SMF: MarkerFormat = MarkerFormat::Smf;

/// The tempo before the first Set Tempo event: 120 quarter notes per
/// minute, microseconds per quarter note (SMF 1.0).
const DEFAULT_US_PER_BEAT: u32 = 500_000;

/// One tempo change: from `tick` on (at `secs`), `us_per_beat`.
#[derive(Clone, Copy)]
struct TempoPoint {
    tick: u64,
    secs: f64,
    us_per_beat: u32,
}

/// How ticks become seconds.
enum Clock {
    /// Metrical timing: `ticks_per_beat` and a tempo map (its first point
    /// at tick 0).
    Metrical {
        ticks_per_beat: f64,
        map: Vec<TempoPoint>,
    },
    /// SMPTE timing: ticks per second.
    Timecode { ticks_per_sec: f64 },
}

impl Clock {
    /// The clock of `timing` with the tempo changes `changes` (tick,
    /// microseconds per quarter note; in file order).
    fn new(timing: Timing, mut changes: Vec<(u64, u32)>) -> Result<Self, ParseError> {
        match timing {
            Timing::Metrical(tpb) => {
                let ticks_per_beat = f64::from(tpb.as_int());
                if ticks_per_beat == 0.0 {
                    return Err(ParseError::invalid(
                        SMF,
                        "the header gives 0 ticks per beat",
                    ));
                }
                // Stable: of several changes at one tick, the last in file
                // order holds.
                changes.sort_by_key(|c| c.0);
                let mut map = vec![TempoPoint {
                    tick: 0,
                    secs: 0.0,
                    us_per_beat: DEFAULT_US_PER_BEAT,
                }];
                for (tick, us_per_beat) in changes {
                    let Some(last) = map.last_mut() else {
                        break;
                    };
                    if tick == last.tick {
                        last.us_per_beat = us_per_beat;
                        continue;
                    }
                    let secs = last.secs
                        + (tick - last.tick) as f64 * f64::from(last.us_per_beat)
                            / (ticks_per_beat * 1e6);
                    map.push(TempoPoint {
                        tick,
                        secs,
                        us_per_beat,
                    });
                }
                Ok(Self::Metrical {
                    ticks_per_beat,
                    map,
                })
            }
            Timing::Timecode(fps, subframes) => {
                if subframes == 0 {
                    return Err(ParseError::invalid(
                        SMF,
                        "the header gives 0 ticks per SMPTE frame",
                    ));
                }
                Ok(Self::Timecode {
                    ticks_per_sec: f64::from(fps.as_f32()) * f64::from(subframes),
                })
            }
        }
    }

    /// Seconds at `tick`.
    fn secs(&self, tick: u64) -> f64 {
        match self {
            Self::Timecode { ticks_per_sec } => tick as f64 / ticks_per_sec,
            Self::Metrical {
                ticks_per_beat,
                map,
            } => {
                let at = map.partition_point(|p| p.tick <= tick).saturating_sub(1);
                let Some(p) = map.get(at) else {
                    return 0.0;
                };
                p.secs
                    + (tick.saturating_sub(p.tick)) as f64 * f64::from(p.us_per_beat)
                        / (ticks_per_beat * 1e6)
            }
        }
    }
}

/// A named event: its track, tick and text.
struct Named<'a> {
    track: usize,
    tick: u64,
    text: &'a [u8],
}

/// What the events of a file gave.
#[derive(Default)]
struct Scan<'a> {
    markers: Vec<Named<'a>>,
    cues: Vec<Named<'a>>,
    /// Tempo changes per track: (tick, microseconds per quarter note).
    tempos: Vec<Vec<(u64, u32)>>,
    /// The earliest tempo and time signature numerator: (tick, value).
    first_tempo: Option<(u64, u32)>,
    first_numerator: Option<(u64, u8)>,
}

/// Reads the markers of a Standard MIDI File's `bytes` (format 0, 1 or 2;
/// a RIFF RMID file's `data` chunk): its Marker events, or its Cue Point
/// events if it has no Marker, at their tick's time in seconds; names are
/// the events' text as UTF-8 (lossy), trimmed (`Marker N` if empty). The
/// tempo is the earliest Set Tempo (120 bpm if there is only a time
/// signature) with the earliest time signature's numerator (4 if there is
/// only a tempo); none if the file has neither. A Set Tempo of 0 is left
/// out (no tempo is that fast).
///
/// # Errors
/// [`ParseError`]: over [`MAX_SMF_BYTES`], no `MThd` header, a header
/// midly refuses or with a division of 0, more than [`MAX_MARKERS`]
/// markers.
pub fn parse_smf(bytes: &[u8]) -> Result<MarkerFile, ParseError> {
    if bytes.len() as u64 > MAX_SMF_BYTES {
        return Err(ParseError::TooLarge {
            format: SMF,
            what: "file",
            bytes: bytes.len() as u64,
            limit: MAX_SMF_BYTES,
        });
    }
    let bytes = unwrap_rmid(bytes)?;
    if !bytes.starts_with(b"MThd") {
        return Err(ParseError::NotFormat {
            format: SMF,
            why: "no MThd header",
        });
    }
    check_divisions(bytes)?;
    let (header, tracks) =
        midly::parse(bytes).map_err(|e| ParseError::invalid(SMF, e.to_string()))?;
    let mut scan = Scan::default();
    for (track, events) in tracks.enumerate() {
        let events = events.map_err(|e| ParseError::invalid(SMF, e.to_string()))?;
        let mut tempos = Vec::new();
        let mut tick: u64 = 0;
        for event in events {
            // midly stops at a broken event without an error (its lenient
            // mode); the events before it count.
            let Ok(event) = event else {
                break;
            };
            tick += u64::from(event.delta.as_int());
            let TrackEventKind::Meta(meta) = event.kind else {
                continue;
            };
            match meta {
                MetaMessage::Marker(text) if scan.markers.len() <= MAX_MARKERS => {
                    scan.markers.push(Named { track, tick, text });
                }
                MetaMessage::CuePoint(text) if scan.cues.len() <= MAX_MARKERS => {
                    scan.cues.push(Named { track, tick, text });
                }
                MetaMessage::Tempo(us) if us.as_int() > 0 => {
                    let us = us.as_int();
                    tempos.push((tick, us));
                    if scan.first_tempo.is_none_or(|(t, _)| tick < t) {
                        scan.first_tempo = Some((tick, us));
                    }
                }
                MetaMessage::TimeSignature(numerator, ..)
                    if numerator > 0 && scan.first_numerator.is_none_or(|(t, _)| tick < t) =>
                {
                    scan.first_numerator = Some((tick, numerator));
                }
                _ => {}
            }
        }
        scan.tempos.push(tempos);
    }
    let clocks = if header.format == Format::Sequential {
        scan.tempos
            .iter()
            .map(|t| Clock::new(header.timing, t.clone()))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        vec![Clock::new(header.timing, scan.tempos.concat())?]
    };
    let named = if scan.markers.is_empty() {
        &scan.cues
    } else {
        &scan.markers
    };
    let mut markers = Markers::new(SMF);
    for (i, m) in named.iter().enumerate() {
        let clock = clocks.get(m.track).or(clocks.first());
        let secs = clock.map_or(0.0, |c| c.secs(m.tick));
        let name = String::from_utf8_lossy(m.text);
        markers.push(&name, || format!("Marker {}", i + 1), secs, None)?;
    }
    let tempo = match (scan.first_tempo, scan.first_numerator) {
        (None, None) => None,
        (us, numerator) => Some(FileTempo {
            bpm: 60e6 / f64::from(us.map_or(DEFAULT_US_PER_BEAT, |(_, us)| us)),
            beats_per_bar: numerator.map_or(4, |(_, n)| n),
        }),
    };
    Ok(markers.finish(tempo))
}

/// The SMF inside a RIFF RMID file (its `data` chunk; the first such, as
/// midly takes it), or `bytes` as they are. Unwrapped here so that midly
/// is handed a file that starts with `MThd` (it would unwrap a RIFF file
/// again, past [`check_divisions`]).
fn unwrap_rmid(bytes: &[u8]) -> Result<&[u8], ParseError> {
    if !bytes.starts_with(b"RIFF") {
        return Ok(bytes);
    }
    let riff_body = riff_chunks(bytes).next().map(|(_, body)| body);
    let Some(form) = riff_body.filter(|b| b.starts_with(b"RMID")) else {
        return Err(ParseError::NotFormat {
            format: SMF,
            why: "a RIFF file, but not RMID",
        });
    };
    riff_chunks(&form[4..])
        .find(|(id, _)| id == b"data")
        .map(|(_, body)| body)
        .ok_or(ParseError::NotFormat {
            format: SMF,
            why: "an RMID file without a data chunk",
        })
}

/// The chunks of RIFF `bytes`: id and body (cut at the end of the
/// bytes), each padded to an even size.
fn riff_chunks(mut bytes: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    std::iter::from_fn(move || {
        let (head, rest) = bytes.split_at_checked(8)?;
        let id = [head[0], head[1], head[2], head[3]];
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let (body, after) = rest.split_at_checked(len).unwrap_or((rest, &[]));
        bytes = after.get(len % 2..).unwrap_or_default();
        Some((id, body))
    })
}

/// Refuses an `MThd` chunk whose SMPTE division gives -128 frames per
/// second: midly 0.5 negates that byte as an `i8`, which overflows (a
/// panic where overflow is checked). Walks the chunks as midly does
/// (4-byte id, big-endian length, no padding, a short last chunk cut),
/// so that every header midly reads, the first and any repeated one, is
/// seen.
fn check_divisions(mut bytes: &[u8]) -> Result<(), ParseError> {
    while let Some((head, rest)) = bytes.split_at_checked(8) {
        let len = u32::from_be_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let (body, after) = rest.split_at_checked(len).unwrap_or((rest, &[]));
        // Format (2), track count (2), division (2).
        if &head[..4] == b"MThd" && body.len() >= 6 && body[4] == 0x80 {
            return Err(ParseError::invalid(
                SMF,
                "the header's SMPTE division gives -128 frames per second",
            ));
        }
        bytes = after;
    }
    Ok(())
}
