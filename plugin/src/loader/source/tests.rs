//! LOADER THREADS (tests): the reader's seeks against its own sequential
//! read: the same frames, and damage reported only where the file has it.

use std::path::{Path, PathBuf};

use super::{Damage, SourceReader};
use crate::cache::flac::{encode, FlacEffort};
use crate::cache::samples::Depth;

/// A short 16-bit stereo FLAC (a few 4096-frame FLAC frames of two
/// detuned sines, ≈ 13 KB): small enough that symphonia's seek never
/// bisects, the case where its parser kept stale state.
fn small_flac(dir: &Path) -> PathBuf {
    let frames = 5 * 4096 + 1000;
    let mut ints = Vec::with_capacity(frames * 2);
    for i in 0..frames {
        let t = i as f64 / 48_000.0;
        ints.push((800.0 * (2.0 * std::f64::consts::PI * 441.0 * t).sin()) as i32);
        ints.push((500.0 * (2.0 * std::f64::consts::PI * 662.0 * t).sin()) as i32);
    }
    let depth = Depth {
        bits: 16,
        gain_exp: 0,
    };
    let bytes = encode(&ints, 2, depth, 48_000, FlacEffort::Fast).expect("encode");
    assert!(
        bytes.len() < 2 * 8096,
        "the test needs a FLAC file under 16 KB, got {} bytes",
        bytes.len()
    );
    let path = dir.join("small.flac");
    std::fs::write(&path, bytes).expect("write");
    path
}

fn read_all(reader: &mut SourceReader) -> Vec<f32> {
    let mut out = Vec::new();
    while reader.read(&mut out, 1000).expect("read") > 0 {}
    out
}

fn read_frames(reader: &mut SourceReader, frames: usize) -> Vec<f32> {
    let mut out = Vec::new();
    while out.len() < frames * 2 {
        let want = frames - out.len() / 2;
        if reader.read(&mut out, want).expect("read") == 0 {
            break;
        }
    }
    out
}

fn corpus() -> PathBuf {
    std::env::var_os("TRAX_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"))
}

#[test]
fn a_reader_sought_back_plays_the_audio_of_a_small_flac_and_reports_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = small_flac(dir.path());
    let mut reader = SourceReader::open(&path).expect("open");
    let whole = read_all(&mut reader);
    assert_eq!(whole.len() / 2, 5 * 4096 + 1000);
    assert!(reader.take_damage().is_empty());
    // Read far, then seek back into earlier FLAC frames: the demuxer's
    // parser has seen frame numbers past the target.
    for target in [0u64, 5, 4096, 4097, 9000, 20_000, 3, 0, 20_479, 12_288] {
        reader.seek(target).expect("seek");
        let got = read_all(&mut reader);
        let from = target as usize * 2;
        assert_eq!(
            got.len(),
            whole.len() - from,
            "length after a seek to {target}"
        );
        assert!(
            got == whole[from..],
            "audio after a seek to {target} differs from the sequential read"
        );
        assert_eq!(
            reader.take_damage(),
            vec![],
            "a healthy file was reported damaged after a seek to {target}"
        );
    }
}

#[test]
fn a_real_hole_is_reported_after_a_seek_as_in_a_sequential_read() {
    let path = corpus().join("broken/corrupt_frames.flac");
    let mut reader = SourceReader::open(&path).expect("open");
    let whole = read_all(&mut reader);
    let sequential = reader.take_damage();
    let Some(&Damage::Hole { at_frame, .. }) = sequential.first() else {
        panic!(
            "{}: sequential read found no hole: {sequential:?}",
            path.display()
        );
    };
    // Read past the hole, seek back before it and read over it again.
    let before = at_frame.saturating_sub(1000);
    reader.seek(before).expect("seek");
    let got = read_frames(&mut reader, 5000);
    let from = before as usize * 2;
    assert!(
        got == whole[from..from + got.len()],
        "same audio as sequential"
    );
    assert_eq!(
        reader.take_damage().first(),
        sequential.first(),
        "the hole after a seek is the sequential read's"
    );
}

#[test]
fn a_truncated_file_is_reported_after_a_seek_and_read_sequentially_once() {
    let path = corpus().join("broken/truncated.flac");
    let mut reader = SourceReader::open(&path).expect("open");
    let header = reader.info().frames;
    let whole = read_all(&mut reader);
    let end = whole.len() as u64 / 2;
    assert!(end < header, "the corpus file is truncated");
    let damage = reader.take_damage();
    assert!(
        damage.iter().any(
            |d| matches!(d, Damage::Truncated { decoded_frames, .. } if *decoded_frames == end)
        ),
        "{damage:?}"
    );
    // Seeks to before and past the end: every report is a truncation at or
    // after the real end, never a hole.
    for target in [end - 10, end + 5000, header - 1, 0] {
        reader.seek(target).expect("seek");
        let got = read_all(&mut reader);
        assert_eq!(got.len() as u64 / 2, end.saturating_sub(target));
        for d in reader.take_damage() {
            assert!(
                matches!(d, Damage::Truncated { decoded_frames, .. } if decoded_frames >= end),
                "after a seek to {target}: {d:?}"
            );
        }
    }
}

#[test]
fn a_folder_is_named_as_a_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = SourceReader::open(dir.path())
        .err()
        .expect("a folder is refused");
    assert_eq!(
        err.to_string(),
        format!("{}: is a folder, not an audio file", dir.path().display())
    );
}

/// symphonia 0.6 stamps the first Ogg page of this file 104 frames early
/// (see `find_early_stamp_shift`): read whole it is the granule length, with
/// no hole at the second page, and a seek into the first page lands on the
/// same frames as the sequential read.
#[test]
fn an_ogg_stamped_early_on_its_first_page_reads_contiguously_and_seeks_exactly() {
    let path = corpus().join("edge/hyperrogue_savino_ocean_negative_granulepos.ogg");
    let mut reader = SourceReader::open(&path).expect("open");
    let ch = usize::from(reader.info().channels);
    let header = reader.info().frames;
    let all = read_all(&mut reader);
    assert_eq!(reader.take_damage(), Vec::new());
    assert_eq!((all.len() / ch) as u64, header);
    for target in [0usize, 50, 104, 3000, 5300, 5400, 100_000] {
        reader.seek(target as u64).expect("seek");
        let got = read_frames(&mut reader, 2048);
        assert_eq!(
            got[..],
            all[target * ch..(target + 2048) * ch],
            "seek to {target}"
        );
        assert_eq!(reader.take_damage(), Vec::new(), "seek to {target}");
    }
}

/// symphonia 0.6 (unlike 0.5) does not clamp lossy decoders' output to
/// ±1: this MP3's first over (frame 894 797, left channel, -1.0266 where
/// 0.5 gave -1.0) survives the reader, as true-peak analysis needs.
#[test]
fn a_lossy_stem_keeps_its_overs() {
    let path = corpus().join("edge/asc_machine_wars_22k05.mp3");
    let mut reader = SourceReader::open(&path).expect("open");
    let ch = usize::from(reader.info().channels);
    reader.seek(894_700).expect("seek");
    let got = read_frames(&mut reader, 200);
    let peak = got.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    assert!(
        peak > 1.02,
        "peak {peak} of {} samples ({ch} channels)",
        got.len()
    );
}
