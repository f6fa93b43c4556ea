//! The analysis store: reused across runs, invalidated when a stem file or
//! the mix changes, a damaged record is a miss and is rebuilt.

use super::*;
use std::time::Instant;
use trax::analysis::{song_key, AnalysisStore, SongAnalysis};

const RATE: u32 = 48_000;

fn run(song: &Song, store: &AnalysisStore) -> SongAnalysis {
    let options = AnalyzeOptions {
        store: Some(store.clone()),
        ..AnalyzeOptions::default()
    };
    analyze_song(song, RATE, &options, &AnalyzeProgress::default()).expect("analysis")
}

/// A two-stem song copied into `dir` (so the test may change its files).
fn song_in(dir: &Path) -> Song {
    let src = common::corpus().join("songs/03_planetblupi_music000");
    let mut stems = Vec::new();
    for name in ["01_acc_1_piano.wav", "05_drums_kick_mono.wav"] {
        let to = dir.join(name);
        std::fs::copy(src.join(name), &to).expect("copy stem");
        stems.push(trax::setlist::Stem {
            name: name.into(),
            path: to,
            mix: trax::bridge::StemMix::default(),
            offset_secs: 0.0,
        });
    }
    Song::new("copy", stems)
}

#[test]
fn a_stored_analysis_is_reused_and_invalidated_by_a_changed_file_or_mix() {
    let cache = tempfile::tempdir().expect("tempdir");
    let files = tempfile::tempdir().expect("tempdir");
    let store = AnalysisStore::open(cache.path()).expect("store");
    let mut song = song_in(files.path());

    let first = run(&song, &store);
    assert!(!first.stored, "measured the first time");
    let again = run(&song, &store);
    assert!(again.stored, "found the second time");
    assert_eq!(*again.analysis, *first.analysis, "the same measurements");
    // A fresh store on the same folder (another run) finds it too, fast.
    let other = AnalysisStore::open(cache.path()).expect("store");
    let key = song_key(&song, RATE);
    let t = Instant::now();
    let found = other.get(&key);
    eprintln!("lookup of a stored analysis: {:?}", t.elapsed());
    assert_eq!(found.as_ref(), Some(&*first.analysis));

    // The mix changes: another key. (The piano: the kick alone can move
    // the integrated loudness either way through the gates.)
    song.stems[0].mix.gain_db = -6.0;
    let remixed = run(&song, &store);
    assert!(!remixed.stored, "a new mix is measured");
    assert!(
        remixed.analysis.integrated_lufs < first.analysis.integrated_lufs,
        "{} vs {}",
        remixed.analysis.integrated_lufs,
        first.analysis.integrated_lufs
    );
    song.stems[0].mix.gain_db = 0.0;
    assert!(run(&song, &store).stored, "the first mix is still stored");

    // A stem file changes (new contents, size and time).
    let path = song.stems[0].path.clone();
    let mut reader = hound::WavReader::open(&path).expect("wav");
    let spec = reader.spec();
    let samples: Vec<i16> = reader
        .samples::<i16>()
        .map(|s| s.expect("sample") / 2)
        .collect();
    drop(reader);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let mut w = hound::WavWriter::create(&path, spec).expect("rewrite");
    for s in samples.iter().take(samples.len() - 2) {
        w.write_sample(*s).expect("sample");
    }
    w.finalize().expect("finish");
    let changed = run(&song, &store);
    assert!(!changed.stored, "a changed file is measured again");
}

#[test]
fn a_damaged_record_is_a_miss_and_is_rebuilt() {
    let cache = tempfile::tempdir().expect("tempdir");
    let files = tempfile::tempdir().expect("tempdir");
    let store = AnalysisStore::open(cache.path()).expect("store");
    let song = song_in(files.path());
    let first = run(&song, &store);
    let record = store.dir().join(song_key(&song, RATE).file_name());
    let mut bytes = std::fs::read(&record).expect("record");
    for damage in 0..3 {
        match damage {
            // A flipped byte in the profile.
            0 => {
                let i = bytes.len() / 2;
                bytes[i] ^= 0x40;
                std::fs::write(&record, &bytes).expect("write");
            }
            // Truncated.
            1 => std::fs::write(&record, &bytes[..bytes.len() / 3]).expect("write"),
            // Empty.
            _ => std::fs::write(&record, b"").expect("write"),
        }
        let rebuilt = run(&song, &store);
        assert!(!rebuilt.stored, "damage {damage}: a miss");
        assert_eq!(
            *rebuilt.analysis, *first.analysis,
            "damage {damage}: measured again"
        );
        assert!(run(&song, &store).stored, "damage {damage}: stored again");
        bytes = std::fs::read(&record).expect("record");
    }
}
