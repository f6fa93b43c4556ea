//! CONTROL THREAD (tests): marker files of every format, built here
//! (hound for the WAV audio, the cache's FLAC encoder, midly's writer),
//! read back against positions computed by hand. The builders serve
//! `tests_limits.rs` too.

use super::*;
use crate::cache::flac::{encode, FlacEffort};
use crate::cache::samples::Depth;

// ---- WAV ----

pub(super) fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = id.to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    if body.len() % 2 == 1 {
        out.push(0);
    }
    out
}

/// A `cue ` chunk of (cue id, frame) points.
pub(super) fn cue(points: &[(u32, u32)]) -> Vec<u8> {
    let mut body = (points.len() as u32).to_le_bytes().to_vec();
    for &(id, frame) in points {
        for field in [id, frame] {
            body.extend_from_slice(&field.to_le_bytes());
        }
        body.extend_from_slice(b"data");
        body.extend_from_slice(&[0; 8]);
        body.extend_from_slice(&frame.to_le_bytes());
    }
    chunk(b"cue ", &body)
}

pub(super) fn text_chunk(id: &[u8; 4], cue_id: u32, text: &[u8]) -> Vec<u8> {
    let body = [&cue_id.to_le_bytes()[..], text, &[0]].concat();
    chunk(id, &body)
}

pub(super) fn ltxt(cue_id: u32, frames: u32) -> Vec<u8> {
    let mut body = cue_id.to_le_bytes().to_vec();
    body.extend_from_slice(&frames.to_le_bytes());
    body.extend_from_slice(b"rgn ");
    body.extend_from_slice(&[0; 8]);
    chunk(b"ltxt", &body)
}

pub(super) fn adtl(subs: &[Vec<u8>]) -> Vec<u8> {
    chunk(b"LIST", &[b"adtl".to_vec(), subs.concat()].concat())
}

pub(super) fn hound_wav(rate: u32, frames: usize) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = std::io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut cursor, spec).unwrap();
    for i in 0..frames {
        w.write_sample((i % 100) as i16 * 100).unwrap();
    }
    w.finalize().unwrap();
    cursor.into_inner()
}

pub(super) fn fix_riff_size(wav: &mut [u8]) {
    let size = (wav.len() - 8) as u32;
    wav[4..8].copy_from_slice(&size.to_le_bytes());
}

/// Byte offset of the first chunk called `id`.
pub(super) fn find_chunk(wav: &[u8], id: &[u8; 4]) -> usize {
    let mut pos = 12;
    while &wav[pos..pos + 4] != id {
        let size = u32::from_le_bytes(wav[pos + 4..pos + 8].try_into().unwrap()) as usize;
        pos += 8 + size + size % 2;
    }
    pos
}

pub(super) const WAV_RATE: u32 = 44_100;

/// Cue points in no order: a named one, a region with an odd-length
/// name, one named by its note, one unnamed, one at the same frame as
/// that (dropped), one with a Latin-1 name.
pub(super) fn marker_chunks() -> Vec<u8> {
    let cues = cue(&[
        (3, 132_300),
        (1, 0),
        (2, 88_200),
        (4, 176_400),
        (5, 176_400),
        (6, 220_500),
    ]);
    let list = adtl(&[
        text_chunk(b"labl", 1, b"Intro"),
        text_chunk(b"labl", 2, b"Verse!"),
        ltxt(2, WAV_RATE),
        text_chunk(b"note", 3, b"Bridge note"),
        text_chunk(b"labl", 5, b"Dup"),
        text_chunk(b"labl", 6, b"Caf\xe9"),
    ]);
    [cues, list].concat()
}

pub(crate) fn wav_after_data() -> Vec<u8> {
    let mut wav = [hound_wav(WAV_RATE, 64), marker_chunks()].concat();
    fix_riff_size(&mut wav);
    wav
}

/// The marker chunks and an odd-sized chunk between `fmt ` and `data`.
pub(super) fn wav_before_data() -> Vec<u8> {
    let wav = hound_wav(WAV_RATE, 64);
    let at = find_chunk(&wav, b"data");
    let extra = [chunk(b"JUNK", b"abc"), marker_chunks()].concat();
    let mut out = [&wav[..at], &extra, &wav[at..]].concat();
    fix_riff_size(&mut out);
    out
}

pub(super) fn expected_wav() -> Vec<(String, f64, Option<f64>)> {
    vec![
        ("Intro".into(), 0.0, None),
        ("Verse!".into(), 2.0, Some(3.0)),
        ("Bridge note".into(), 3.0, None),
        ("Marker 4".into(), 4.0, None),
        ("Café".into(), 5.0, None),
    ]
}

pub(super) fn assert_markers(
    got: &MarkerFile,
    want: &[(String, f64, Option<f64>)],
    tolerance: f64,
) {
    let names: Vec<&str> = got.markers.iter().map(|m| m.name.as_str()).collect();
    let want_names: Vec<&str> = want.iter().map(|w| w.0.as_str()).collect();
    assert_eq!(names, want_names);
    for (m, (name, start, end)) in got.markers.iter().zip(want) {
        assert!((m.start_secs - start).abs() <= tolerance, "{name}: {m:?}");
        match (m.end_secs, end) {
            (Some(a), Some(b)) => assert!((a - b).abs() <= tolerance, "{name}: {m:?}"),
            (a, b) => assert_eq!(a.is_some(), b.is_some(), "{name}: {m:?}"),
        }
    }
}

#[test]
fn wav_cue_points_after_and_before_data() {
    let frame = 1.0 / f64::from(WAV_RATE);
    for wav in [wav_after_data(), wav_before_data()] {
        let got = parse_wav(&wav).unwrap();
        assert_markers(&got, &expected_wav(), frame);
        assert_eq!(got.tempo, None);
    }
    let plain = parse_wav(&hound_wav(WAV_RATE, 64)).unwrap();
    assert!(plain.markers.is_empty());
}

#[test]
fn rf64_sizes_come_from_ds64() {
    let wav = wav_before_data();
    let at = find_chunk(&wav, b"data");
    let data_size = u32::from_le_bytes(wav[at + 4..at + 8].try_into().unwrap());
    let mut ds64 = vec![0u8; 28];
    ds64[8..16].copy_from_slice(&u64::from(data_size).to_le_bytes());
    let mut rf = [&wav[..12], &chunk(b"ds64", &ds64), &wav[12..]].concat();
    rf[0..4].copy_from_slice(b"RF64");
    rf[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    let at = find_chunk(&rf, b"data");
    rf[at + 4..at + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_markers(&parse_wav(&rf).unwrap(), &expected_wav(), 1e-4);
}

// ---- FLAC ----

/// A CUESHEET track: offset, number, [(index number, index offset)].
type Track<'a> = (u64, u8, &'a [(u8, u64)]);

/// A CUESHEET block body.
pub(super) fn cuesheet(is_cd: bool, tracks: &[Track]) -> Vec<u8> {
    let mut b = vec![0u8; 128];
    b.extend_from_slice(&0u64.to_be_bytes());
    b.push(if is_cd { 0x80 } else { 0 });
    b.extend_from_slice(&[0; 258]);
    b.push(tracks.len() as u8);
    for &(offset, number, indices) in tracks {
        b.extend_from_slice(&offset.to_be_bytes());
        b.push(number);
        b.extend_from_slice(&[0; 12 + 14]);
        b.push(indices.len() as u8);
        for &(n, at) in indices {
            b.extend_from_slice(&at.to_be_bytes());
            b.push(n);
            b.extend_from_slice(&[0; 3]);
        }
    }
    b
}

pub(super) fn vorbis_comments(comments: &[&str]) -> Vec<u8> {
    let mut b = 4u32.to_le_bytes().to_vec();
    b.extend_from_slice(b"trax");
    b.extend_from_slice(&(comments.len() as u32).to_le_bytes());
    for c in comments {
        b.extend_from_slice(&(c.len() as u32).to_le_bytes());
        b.extend_from_slice(c.as_bytes());
    }
    b
}

/// `stream`'s metadata blocks with `extra` after them, the last-block
/// flag moved to the new last one; then its audio frames.
pub(super) fn splice_blocks(stream: &[u8], extra: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut blocks = Vec::new();
    let mut pos = 4;
    loop {
        let last = stream[pos] & 0x80 != 0;
        let len = u32::from_be_bytes([0, stream[pos + 1], stream[pos + 2], stream[pos + 3]]);
        blocks.push((
            stream[pos] & 0x7f,
            stream[pos + 4..pos + 4 + len as usize].to_vec(),
        ));
        pos += 4 + len as usize;
        if last {
            break;
        }
    }
    blocks.extend(extra.iter().cloned());
    let mut out = b"fLaC".to_vec();
    for (i, (kind, body)) in blocks.iter().enumerate() {
        let flag = if i + 1 == blocks.len() { 0x80 } else { 0 };
        out.push(kind | flag);
        out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        out.extend_from_slice(body);
    }
    out.extend_from_slice(&stream[pos..]);
    out
}

/// Where a FLAC stream's audio frames start.
pub(super) fn metadata_end(flac: &[u8]) -> usize {
    let mut pos = 4;
    loop {
        let len = u32::from_be_bytes([0, flac[pos + 1], flac[pos + 2], flac[pos + 3]]);
        let last = flac[pos] & 0x80 != 0;
        pos += 4 + len as usize;
        if last {
            return pos;
        }
    }
}

/// A real stream (the cache's encoder) with a CUESHEET of three tracks
/// and a lead-out, and the Vorbis comments given.
pub(super) fn flac_with(is_cd: bool, rate: u32, comments: Option<&[&str]>) -> Vec<u8> {
    let ints: Vec<i32> = (0..2048).map(|i| (i % 64) * 100).collect();
    let depth = Depth {
        bits: 16,
        gain_exp: 0,
    };
    let stream = encode(&ints, 1, depth, rate, FlacEffort::Fast).unwrap();
    let lead_out = if is_cd { 170 } else { 255 };
    let sheet = cuesheet(
        is_cd,
        &[
            (0, 1, &[(1, 0)]),
            (96_000, 2, &[(0, 0), (1, 4_800)]),
            (240_000, 3, &[(0, 480)]),
            (480_000, lead_out, &[]),
        ],
    );
    let mut extra = vec![(5, sheet)];
    if let Some(c) = comments {
        extra.insert(0, (4, vorbis_comments(c)));
    }
    splice_blocks(&stream, &extra)
}

pub(super) const CUE_TEXT: &str =
    "PERFORMER \"Band\"\nTITLE \"The Album\"\nFILE \"x.wav\" WAVE\n  \
    TRACK 01 AUDIO\n    TITLE \"Opening, part 1\"\n    INDEX 01 00:00:00\n  \
    TRACK 02 AUDIO\n    TITLE Ballad\n    INDEX 01 00:02:00\n  TRACK 03 AUDIO\n";

#[test]
fn flac_cuesheet_tracks_with_and_without_titles() {
    let rate = 48_000.0;
    let starts = [0.0, 100_800.0 / rate, 240_480.0 / rate];
    let numbered = |names: [&str; 3]| -> Vec<(String, f64, Option<f64>)> {
        names
            .iter()
            .zip(starts)
            .map(|(n, s)| (n.to_string(), s, None))
            .collect()
    };
    let plain = parse_flac(&flac_with(false, 48_000, None)).unwrap();
    assert_markers(
        &plain,
        &numbered(["Track 01", "Track 02", "Track 03"]),
        1e-9,
    );
    let other = ["ARTIST=Band"];
    let no_sheet = parse_flac(&flac_with(false, 48_000, Some(&other))).unwrap();
    assert_eq!(no_sheet, plain);
    let comment = format!("cuesheet={CUE_TEXT}");
    let comments = ["ARTIST=Band", comment.as_str()];
    let titled = parse_flac(&flac_with(false, 48_000, Some(&comments))).unwrap();
    assert_markers(
        &titled,
        &numbered(["Opening, part 1", "Ballad", "Track 03"]),
        1e-9,
    );
    // A CD sheet's lead-out is 170; 255 is then an ordinary track.
    let cd = parse_flac(&flac_with(true, 44_100, None)).unwrap();
    let want: Vec<f64> = [0.0, 100_800.0, 240_480.0]
        .iter()
        .map(|s| s / 44_100.0)
        .collect();
    let got: Vec<f64> = cd.markers.iter().map(|m| m.start_secs).collect();
    assert_eq!(got, want);
    // No CUESHEET: no markers.
    let bare = encode(
        &[0; 512],
        1,
        Depth {
            bits: 16,
            gain_exp: 0,
        },
        48_000,
        FlacEffort::Fast,
    );
    assert!(parse_flac(&bare.unwrap()).unwrap().markers.is_empty());
}

// ---- SMF ----

pub(super) fn smf_bytes(
    format: midly::Format,
    timing: midly::Timing,
    tracks: Vec<Vec<(u32, midly::MetaMessage<'static>)>>,
) -> Vec<u8> {
    let tracks = tracks
        .into_iter()
        .map(|events| {
            let mut track: Vec<midly::TrackEvent> = events
                .into_iter()
                .map(|(delta, meta)| midly::TrackEvent {
                    delta: delta.into(),
                    kind: midly::TrackEventKind::Meta(meta),
                })
                .collect();
            track.push(midly::TrackEvent {
                delta: 0.into(),
                kind: midly::TrackEventKind::Meta(midly::MetaMessage::EndOfTrack),
            });
            track
        })
        .collect();
    let smf = midly::Smf {
        header: midly::Header::new(format, timing),
        tracks,
    };
    let mut out = Vec::new();
    smf.write_std(&mut out).unwrap();
    out
}

/// Format 1 at 480 ticks per beat: 120 bpm in 3/4, 90 bpm (666 667 µs)
/// from tick 1920; markers in the second track at ticks 0, 1920, 2880.
pub(super) fn smf_fixture() -> Vec<u8> {
    use midly::MetaMessage::{Marker, Tempo, TimeSignature, TrackName};
    smf_bytes(
        midly::Format::Parallel,
        midly::Timing::Metrical(480.into()),
        vec![
            vec![
                (0, TrackName(b"tempo")),
                (0, Tempo(500_000.into())),
                (0, TimeSignature(3, 2, 24, 8)),
                (1920, Tempo(666_667.into())),
            ],
            vec![
                (0, Marker(b" Intro ")),
                (1920, Marker(b"Verse")),
                (960, Marker(b"Chorus \xff")),
            ],
        ],
    )
}

#[test]
fn smf_markers_through_the_tempo_map() {
    let got = parse_smf(&smf_fixture()).unwrap();
    let verse = 1920.0 / 480.0 * 0.5;
    let chorus = verse + 960.0 / 480.0 * 0.666_667;
    let want = vec![
        ("Intro".to_string(), 0.0, None),
        ("Verse".to_string(), verse, None),
        ("Chorus \u{fffd}".to_string(), chorus, None),
    ];
    assert_markers(&got, &want, 1e-12);
    assert_eq!(
        got.tempo,
        Some(FileTempo {
            bpm: 120.0,
            beats_per_bar: 3
        })
    );
}

#[test]
fn smf_cue_points_timecode_and_defaults() {
    use midly::MetaMessage::{CuePoint, TimeSignature};
    // SMPTE: 25 fps × 40 subframes = 1000 ticks a second; cue points
    // stand in for missing markers; only a time signature: 120 bpm.
    let bytes = smf_bytes(
        midly::Format::SingleTrack,
        midly::Timing::Timecode(midly::Fps::Fps25, 40),
        vec![vec![
            (0, TimeSignature(6, 3, 24, 8)),
            (2500, CuePoint(b"Hit")),
            (500, CuePoint(b"")),
        ]],
    );
    let got = parse_smf(&bytes).unwrap();
    let want = vec![
        ("Hit".to_string(), 2.5, None),
        ("Marker 2".to_string(), 3.0, None),
    ];
    assert_markers(&got, &want, 1e-12);
    assert_eq!(
        got.tempo.map(|t| (t.bpm, t.beats_per_bar)),
        Some((120.0, 6))
    );
    let none = smf_bytes(
        midly::Format::SingleTrack,
        midly::Timing::Metrical(96.into()),
        vec![vec![]],
    );
    assert_eq!(parse_smf(&none).unwrap(), MarkerFile::default());
}

#[test]
fn smf_wrapped_in_rmid_and_odd_divisions() {
    let smf = smf_fixture();
    let rmid = chunk(b"RIFF", &[b"RMID".to_vec(), chunk(b"data", &smf)].concat());
    assert_eq!(parse_smf(&rmid).unwrap(), parse_smf(&smf).unwrap());
    // A division of -128 frames per second (midly would overflow), in
    // the header or in a second one.
    let mut bad = smf.clone();
    bad[12] = 0x80;
    assert!(parse_smf(&bad).unwrap_err().to_string().contains("-128"));
    let second = [smf.clone(), smf[..8].to_vec(), vec![0, 1, 0, 1, 0x80, 4]].concat();
    assert!(parse_smf(&second).is_err());
    let mut zero = smf;
    zero[12..14].copy_from_slice(&[0, 0]);
    assert!(parse_smf(&zero)
        .unwrap_err()
        .to_string()
        .contains("0 ticks"));
}

#[test]
fn smf_format_2_tracks_keep_their_own_tempo() {
    use midly::MetaMessage::{Marker, Tempo};
    // At 480 ticks per beat: tick 480 is 1 s at 60 bpm, 0.5 s at the
    // default 120; format 1 merges the maps, format 2 does not.
    let tracks = || {
        vec![
            vec![(0, Tempo(1_000_000.into())), (480, Marker(b"A"))],
            vec![(240, Marker(b"B"))],
        ]
    };
    let timing = midly::Timing::Metrical(480.into());
    let sequential = parse_smf(&smf_bytes(midly::Format::Sequential, timing, tracks())).unwrap();
    let want = [("B".to_string(), 0.25, None), ("A".to_string(), 1.0, None)];
    assert_markers(&sequential, &want, 1e-12);
    let parallel = parse_smf(&smf_bytes(midly::Format::Parallel, timing, tracks())).unwrap();
    let want = [("B".to_string(), 0.5, None), ("A".to_string(), 1.0, None)];
    assert_markers(&parallel, &want, 1e-12);
}

// ---- REAPER CSV ----

pub(super) fn csv_starts(text: &str, tempo: Option<FileTempo>) -> Vec<(String, f64, Option<f64>)> {
    parse_reaper_csv(text.as_bytes(), tempo)
        .unwrap()
        .markers
        .into_iter()
        .map(|m| (m.name, m.start_secs, m.end_secs))
        .collect()
}

#[test]
fn reaper_csv_in_each_time_format() {
    let text = "#,Name,Start,End,Length\r\nM1,Intro,0:00.000,,\r\n\
        R2,Verse,1:23.456,1:45.000,0:21.544\r\nM3,\"Chorus, \"\"big\"\"\",1:02:03.250,,\r\n\
        M4,,12.5,,\r\n";
    let want = vec![
        ("Intro".to_string(), 0.0, None),
        ("Marker 4".to_string(), 12.5, None),
        ("Verse".to_string(), 83.456, Some(105.0)),
        ("Chorus, \"big\"".to_string(), 3723.25, None),
    ];
    assert_markers(
        &parse_reaper_csv(text.as_bytes(), None).unwrap(),
        &want,
        1e-9,
    );

    // Measures.beats at 120 bpm in 4/4: bar 5 is 16 beats, 8 s.
    let tempo = FileTempo {
        bpm: 120.0,
        beats_per_bar: 4,
    };
    let bars = "#,Name,Start,End,Length,Color\nR1,A,5.1.00,9.1.00,4.0.00,FF0000\nM2,B,3.2.50,,,\n";
    assert_eq!(
        csv_starts(bars, Some(tempo)),
        vec![
            ("B".to_string(), 4.75, None),
            ("A".to_string(), 8.0, Some(16.0))
        ]
    );
    let e = parse_reaper_csv(bars.as_bytes(), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 2") && e.contains("tempo"), "{e}");

    // Samples with a suffix need the rate; a quoted field may span lines.
    let samples = "#,Name,Start,End,Length\nM1,\"Two\nlines\",441000 smp,,\n";
    let got = parse_reaper_csv_with_rate(samples.as_bytes(), None, Some(44_100)).unwrap();
    assert_eq!(got.markers[0].name, "Two lines");
    assert_eq!(got.markers[0].start_secs, 10.0);
    let e = parse_reaper_csv(samples.as_bytes(), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 2") && e.contains("sample rate"), "{e}");

    // Columns by name, in another order; no header: REAPER's order.
    let moved = "Name,#,Start\nLate,M1,2.0\nEarly,M2,1.0\n";
    let got = csv_starts(moved, None);
    assert_eq!(got[0], ("Early".to_string(), 1.0, None));
    assert_eq!(got[1], ("Late".to_string(), 2.0, None));
    assert_eq!(
        csv_starts("M1,A,1.5\n", None),
        vec![("A".to_string(), 1.5, None)]
    );
}

#[test]
fn reaper_csv_errors_name_the_row() {
    for (text, needle) in [
        ("#,Name,Start\nM1,A,-1.0\n", "negative"),
        ("#,Name,Start\nM1,A,00:00:01:12\n", "frames"),
        ("#,Name,Start\nM1,A,1e3\n", "seconds"),
        ("#,Name,Start\nM1,A,NaN\n", "seconds"),
        ("#,Name,Start\nM1,A,\n", "no Start"),
    ] {
        let e = parse_reaper_csv(text.as_bytes(), None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("REAPER CSV: line 2") && e.contains(needle),
            "{e}"
        );
    }
}
