//! Marker files (WAV cue points, FLAC cue sheets, MIDI markers, REAPER's
//! CSV export) as a musician's folder can hold them: whatever the bytes, a
//! parser answers with markers that keep the module's promises (at most
//! `MAX_MARKERS`, sorted, finite, non-negative, named within the limit)
//! or an error naming the format, and `read_markers` an error naming the
//! file.

use trax::markers::{
    self, FileTempo, MarkerFile, MarkerFormat, ParseError, MAX_MARKERS, MAX_NAME_BYTES,
};

/// The tempo and sample rate the CSV parser gets when the input asks for
/// them (measures.beats and sample rows then convert).
const TEMPO: FileTempo = FileTempo {
    bpm: 123.0,
    beats_per_bar: 7,
};
const RATE_HZ: u32 = 44_100;

/// Extensions the second byte picks from when the input is read as a file.
const EXTENSIONS: [&str; 4] = ["wav", "flac", "mid", "csv"];

/// What every parsed marker file must hold.
fn check(file: &MarkerFile) {
    assert!(
        file.markers.len() <= MAX_MARKERS,
        "{} markers",
        file.markers.len()
    );
    for pair in file.markers.windows(2) {
        assert!(
            pair[0].start_secs < pair[1].start_secs,
            "not sorted, or two at one start: {pair:?}"
        );
    }
    for m in &file.markers {
        assert!(
            m.start_secs.is_finite() && m.start_secs >= 0.0,
            "start {}",
            m.start_secs
        );
        assert!(
            m.end_secs.is_none_or(|e| e.is_finite() && e > m.start_secs),
            "{m:?}"
        );
        assert!(!m.name.is_empty(), "an empty name");
        assert!(
            m.name.len() <= MAX_NAME_BYTES,
            "name of {} bytes",
            m.name.len()
        );
    }
    if let Some(t) = file.tempo {
        assert!(t.bpm.is_finite() && t.bpm > 0.0, "tempo {} bpm", t.bpm);
        assert!(t.beats_per_bar > 0, "0 beats per bar");
    }
}

/// One parser's answer: markers that hold, or an error naming the format.
fn answer(result: Result<MarkerFile, ParseError>, format: MarkerFormat) {
    match result {
        Ok(file) => check(&file),
        Err(ParseError::Io(e)) => panic!("an I/O error from bytes in memory: {e}"),
        Err(e) => {
            let text = e.to_string();
            assert!(
                text.contains(format.name()),
                "error does not name the format: {text}"
            );
        }
    }
}

fn wav(bytes: &[u8]) {
    answer(markers::parse_wav(bytes), MarkerFormat::Wav);
}

fn flac(bytes: &[u8]) {
    answer(markers::parse_flac(bytes), MarkerFormat::Flac);
}

fn smf(bytes: &[u8]) {
    answer(markers::parse_smf(bytes), MarkerFormat::Smf);
}

fn csv(bytes: &[u8], with_tempo: bool) {
    let result = if with_tempo {
        markers::parse_reaper_csv_with_rate(bytes, Some(TEMPO), Some(RATE_HZ))
    } else {
        markers::parse_reaper_csv(bytes, None)
    };
    answer(result, MarkerFormat::ReaperCsv);
}

/// The input as a file in a scratch folder, through `read_markers`: an
/// error names the file.
fn file(ext: u8, bytes: &[u8]) {
    let ext = EXTENSIONS[usize::from(ext) % EXTENSIONS.len()];
    let path = crate::scratch::dir().join(format!("markers.{ext}"));
    if std::fs::write(&path, bytes).is_err() {
        return;
    }
    match markers::read_markers(&path) {
        Ok(file) => check(&file),
        Err(e) => {
            let text = e.to_string();
            assert!(
                text.contains(&*path.to_string_lossy()),
                "error does not name the file: {text}"
            );
        }
    }
}

/// One marker file: byte 0 picks the parser (0 WAV, 1 FLAC, 2 MIDI, 3
/// REAPER CSV, 4 REAPER CSV with a tempo and a sample rate, 6 the file
/// through `read_markers` with byte 1 picking its extension, anything
/// else every byte parser); the rest is the file.
pub fn files(data: &[u8]) {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    match pick % 8 {
        0 => wav(bytes),
        1 => flac(bytes),
        2 => smf(bytes),
        3 => csv(bytes, false),
        4 => csv(bytes, true),
        6 => {
            if let Some((&ext, rest)) = bytes.split_first() {
                file(ext, rest);
            }
        }
        _ => {
            wav(bytes);
            flac(bytes);
            smf(bytes);
            csv(bytes, false);
            csv(bytes, true);
        }
    }
}
