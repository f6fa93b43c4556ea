//! CONTROL THREAD (tests): the limits: audio payloads sought over, never
//! read; at most 10 000 markers; names cut; files read by extension with
//! errors that name them; then thousands of damaged copies of every
//! fixture through every parser, which must answer without a panic and
//! within the limits.

use std::io::{Read, Seek, SeekFrom, Write};

use super::tests::*;
use super::*;

/// A file made of byte runs and runs of zeros that are never stored,
/// counting the bytes read from it.
struct Virtual {
    parts: Vec<(u64, Option<Vec<u8>>)>,
    len: u64,
    pos: u64,
    read: u64,
}

impl Virtual {
    fn new(parts: Vec<Result<Vec<u8>, u64>>) -> Self {
        let mut at = 0;
        let parts: Vec<_> = parts
            .into_iter()
            .map(|p| {
                let start = at;
                at += match &p {
                    Ok(b) => b.len() as u64,
                    Err(zeros) => *zeros,
                };
                (start, p.ok())
            })
            .collect();
        Self {
            parts,
            len: at,
            pos: 0,
            read: 0,
        }
    }
}

impl Read for Virtual {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.len.saturating_sub(self.pos)) as usize;
        for (i, b) in buf[..n].iter_mut().enumerate() {
            let at = self.pos + i as u64;
            let part = self.parts.iter().rev().find(|p| p.0 <= at).unwrap();
            *b = part
                .1
                .as_ref()
                .map_or(0, |bytes| bytes[(at - part.0) as usize]);
        }
        self.pos += n as u64;
        self.read += n as u64;
        Ok(n)
    }
}

impl Seek for Virtual {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.pos = match to {
            SeekFrom::Start(p) => p,
            SeekFrom::End(d) => self.len.saturating_add_signed(d),
            SeekFrom::Current(d) => self.pos.saturating_add_signed(d),
        };
        Ok(self.pos)
    }
}

#[test]
fn audio_payload_is_sought_over_never_read() {
    // A 3 GiB data chunk, then the markers.
    let data_bytes: u64 = 3 << 30;
    let wav = hound_wav(WAV_RATE, 0);
    let mut head = wav[..find_chunk(&wav, b"data")].to_vec();
    head.extend_from_slice(b"data");
    head.extend_from_slice(&(data_bytes as u32).to_le_bytes());
    let tail = marker_chunks();
    let riff_size = head.len() as u64 + data_bytes + tail.len() as u64 - 8;
    head[4..8].copy_from_slice(&(riff_size as u32).to_le_bytes());
    let mut file = Virtual::new(vec![Ok(head), Err(data_bytes), Ok(tail)]);
    let got = riff::read_wav(&mut file).unwrap();
    assert_markers(&got, &expected_wav(), 1e-4);
    assert!(file.read < 4096, "{} bytes read", file.read);

    // A FLAC file with a 16 MiB picture before its CUESHEET.
    let picture = 0xff_ffff_u64;
    let flac = flac_with(false, 48_000, None);
    let mut head = flac[..42].to_vec();
    head[4] &= 0x7f;
    head.extend_from_slice(&[6, 0xff, 0xff, 0xff]);
    let mut file = Virtual::new(vec![Ok(head), Err(picture), Ok(flac[42..].to_vec())]);
    let got = flac::read_flac(&mut file).unwrap();
    assert_eq!(got.markers.len(), 3);
    assert!(file.read < 8192, "{} bytes read", file.read);
}

#[test]
fn limits_hold() {
    // Names cut to 256 bytes on a char boundary; the first of one start wins.
    let long = "é".repeat(200);
    let text = format!("#,Name,Start\nM1,{long},1.0\nM2,Second,1.0\nM3,Zero,0\n");
    let got = parse_reaper_csv(text.as_bytes(), None).unwrap();
    assert_eq!(got.markers.len(), 2);
    assert_eq!(got.markers[1].name, "é".repeat(128));
    // 10 000 markers are fine, one more is not.
    let rows = |n: usize| {
        let mut t = String::from("#,Name,Start\n");
        for i in 0..n {
            t.push_str(&format!("M{i},m,{i}\n"));
        }
        t
    };
    assert_eq!(
        parse_reaper_csv(rows(MAX_MARKERS).as_bytes(), None)
            .unwrap()
            .markers
            .len(),
        MAX_MARKERS
    );
    assert!(matches!(
        parse_reaper_csv(rows(MAX_MARKERS + 1).as_bytes(), None),
        Err(ParseError::TooManyMarkers { .. })
    ));
    let mut wav = [hound_wav(8000, 4), cue(&[(1, 0)])].concat();
    let at = find_chunk(&wav, b"cue ") + 8;
    wav[at..at + 4].copy_from_slice(&(MAX_MARKERS as u32 + 1).to_le_bytes());
    fix_riff_size(&mut wav);
    assert!(matches!(
        parse_wav(&wav),
        Err(ParseError::TooManyMarkers { .. })
    ));
}

#[test]
fn read_markers_by_extension_and_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("a.WAV", wav_after_data()),
        ("b.flac", flac_with(false, 48_000, None)),
        ("c.mid", smf_fixture()),
        ("d.csv", b"#,Name,Start\nM1,A,1.5\n".to_vec()),
    ];
    for (name, bytes) in &cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let got = read_markers(&path).unwrap();
        assert!(!got.markers.is_empty(), "{name}");
    }
    // A sparse 100 MiB WAV: the data chunk is sought over.
    let path = dir.path().join("big.wav");
    let wav = hound_wav(WAV_RATE, 0);
    let mut head = wav[..find_chunk(&wav, b"data")].to_vec();
    let data_bytes: u64 = 100 << 20;
    head.extend_from_slice(b"data");
    head.extend_from_slice(&(data_bytes as u32).to_le_bytes());
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(&head).unwrap();
    f.seek(SeekFrom::Current(data_bytes as i64)).unwrap();
    f.write_all(&marker_chunks()).unwrap();
    let riff = f.stream_position().unwrap() - 8;
    f.seek(SeekFrom::Start(4)).unwrap();
    f.write_all(&(riff as u32).to_le_bytes()).unwrap();
    drop(f);
    assert_markers(&read_markers(&path).unwrap(), &expected_wav(), 1e-4);

    let shown = |e: MarkerError, p: &Path| {
        let text = e.to_string();
        assert!(text.contains(&*p.to_string_lossy()), "{text}");
        text
    };
    let odd = dir.path().join("x.txt");
    std::fs::write(&odd, b"").unwrap();
    shown(read_markers(&odd).unwrap_err(), &odd);
    let missing = dir.path().join("missing.flac");
    assert!(shown(read_markers(&missing).unwrap_err(), &missing).contains("cannot read"));
    let bad = dir.path().join("bad.mid");
    std::fs::write(&bad, b"not midi").unwrap();
    assert!(shown(read_markers(&bad).unwrap_err(), &bad).contains("MThd"));
}

/// A tiny deterministic generator (xorshift64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// `input` damaged once: bits flipped, cut short, bytes inserted, a
/// length-sized field smashed, or a span repeated.
fn mutate(input: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = input.to_vec();
    match rng.below(5) {
        0 => {
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(b.len());
                if let Some(x) = b.get_mut(at) {
                    *x ^= 1 << rng.below(8);
                }
            }
        }
        1 => b.truncate(rng.below(b.len())),
        2 => {
            let at = rng.below(b.len() + 1);
            let extra: Vec<u8> = (0..1 + rng.below(16)).map(|_| rng.next() as u8).collect();
            b.splice(at..at, extra);
        }
        3 => {
            let values = [
                0u32,
                1,
                0xff,
                0x7fff_ffff,
                0x8000_0000,
                u32::MAX,
                10_001,
                0xff_ffff,
            ];
            let v = values[rng.below(values.len())];
            let bytes = if rng.below(2) == 0 {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            };
            let width = [1, 2, 3, 4][rng.below(4)];
            let at = rng.below(b.len().saturating_sub(width) + 1);
            for (i, x) in bytes[..width].iter().enumerate() {
                if let Some(slot) = b.get_mut(at + i) {
                    *slot = *x;
                }
            }
        }
        _ => {
            let from = rng.below(b.len());
            let to = (from + 1 + rng.below(64)).min(b.len());
            let span = b[from..to].to_vec();
            let at = rng.below(b.len() + 1);
            b.splice(at..at, span);
        }
    }
    b
}

/// What every parsed file must hold.
fn check(file: &MarkerFile) {
    assert!(file.markers.len() <= MAX_MARKERS);
    for pair in file.markers.windows(2) {
        assert!(pair[0].start_secs < pair[1].start_secs, "{pair:?}");
    }
    for m in &file.markers {
        assert!(m.start_secs.is_finite() && m.start_secs >= 0.0, "{m:?}");
        assert!(
            m.end_secs.is_none_or(|e| e.is_finite() && e > m.start_secs),
            "{m:?}"
        );
        assert!(
            !m.name.is_empty() && m.name.len() <= MAX_NAME_BYTES,
            "{m:?}"
        );
    }
    if let Some(t) = file.tempo {
        assert!(
            t.bpm.is_finite() && t.bpm > 0.0 && t.beats_per_bar > 0,
            "{t:?}"
        );
    }
}

#[test]
fn damaged_files_never_panic_and_keep_the_limits() {
    let tempo = Some(FileTempo {
        bpm: 97.0,
        beats_per_bar: 7,
    });
    let csv = b"#,Name,Start,End,Length\nM1,\"A, b\",0:01.000,,\nR2,B,1:02:03.5,1:03:00.0,x\n\
        M3,C,5.2.25,,\nM4,D,480 smp,,\n"
        .to_vec();
    let comment = format!("CUESHEET={CUE_TEXT}");
    // The FLAC file without most of its audio: mutations there are never
    // read.
    let flac = flac_with(false, 48_000, Some(&[comment.as_str()]));
    let flac = flac[..flac.len().min(metadata_end(&flac) + 16)].to_vec();
    let fixtures = [wav_before_data(), flac, smf_fixture(), csv];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (own, fixture) in fixtures.iter().enumerate() {
        let mut accepted = [0usize; 4];
        for _ in 0..10_000 {
            let input = mutate(fixture, &mut rng);
            let results = [
                parse_wav(&input),
                parse_flac(&input),
                parse_smf(&input),
                parse_reaper_csv_with_rate(&input, tempo, Some(48_000)),
            ];
            for (i, r) in results.into_iter().enumerate() {
                match r {
                    Ok(file) => {
                        check(&file);
                        accepted[i] += 1;
                    }
                    Err(e) => assert!(!e.to_string().is_empty()),
                }
            }
        }
        // The mutations reach past the first checks of the fixture's own
        // parser.
        assert!(accepted[own] > 1000, "fixture {own}: {accepted:?} accepted");
    }
}
