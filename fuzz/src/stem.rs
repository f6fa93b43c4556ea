//! Audio files through our own checks on top of symphonia (probe, the
//! header's length against the audio, holes, timestamps, non-finite
//! samples, down-mixing, resampling, seeks), as the loader runs them:
//! whatever the bytes, the probe answers with a stem or problems naming
//! the file; what a stem plays is finite, in its channels, and never more
//! than its length. A panic inside symphonia is caught where the loader
//! catches it ([`crate::like_the_loader`]): a skipped stem, not a finding.

use trax::loader::cursor::StemCursor;
use trax::loader::SourceReader;

/// Extensions the first input byte picks from (symphonia also sniffs the
/// content: a wrong one is a case too).
const EXTENSIONS: [&str; 8] = ["wav", "flac", "mp3", "ogg", "m4a", "caf", "mkv", "aiff"];

/// Engine rates the second byte picks from (with and without resampling
/// for common sources).
const RATES_HZ: [u32; 3] = [48_000, 44_100, 96_000];

/// Most frames read from one input (≈ 0.7 s at 48 kHz: bounds the time
/// per input; the seek below reaches the middle of longer files).
const MAX_FRAMES: usize = 1 << 15;

/// One audio file: byte 0 picks the extension, byte 1 the engine rate,
/// the rest is the file.
pub fn file(data: &[u8]) {
    let [ext, rate, bytes @ ..] = data else {
        return;
    };
    let path = crate::scratch::dir().join(format!(
        "stem.{}",
        EXTENSIONS[usize::from(*ext) % EXTENSIONS.len()]
    ));
    if std::fs::write(&path, bytes).is_err() {
        return;
    }
    let rate_hz = RATES_HZ[usize::from(*rate) % RATES_HZ.len()];
    // As a setlist load probes it (a decoder's panic is a problem there:
    // the probe catches it itself).
    let Some((info, problems)) = crate::like_the_loader(|| trax::loader::prepare::probe(&path))
    else {
        panic!("the probe let a panic through");
    };
    if info.is_none() {
        assert!(
            !problems.is_empty(),
            "a stem that cannot play, with no problem reported"
        );
        for (_, _, message) in &problems {
            assert!(
                message.contains("stem."),
                "a problem that does not name the file: {message}"
            );
        }
        return;
    }
    // As a decoding job reads it (a panic there skips the stem).
    let _ = crate::like_the_loader(|| play(&path, rate_hz));
}

/// Reads the stem at `path` as the loader does, from the start and from
/// its middle, and checks what comes out.
fn play(path: &std::path::Path, rate_hz: u32) {
    let Ok(reader) = SourceReader::open(path) else {
        return;
    };
    let Ok(mut cursor) = StemCursor::new(reader, rate_hz) else {
        return;
    };
    let channels = cursor.channels();
    assert!((1..=2).contains(&channels), "{channels} channels out");
    let length = cursor.length_frames();
    let mut out = Vec::new();
    let mut frames = 0usize;
    while frames < MAX_FRAMES {
        out.clear();
        match cursor.read(&mut out, 4096) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                assert_eq!(out.len(), n * channels, "samples for {n} frames");
                assert!(
                    out.iter().all(|v| v.is_finite()),
                    "a non-finite sample played"
                );
                frames += n;
            }
        }
    }
    if frames < MAX_FRAMES {
        assert!(
            frames as u64 <= length,
            "{frames} frames read from a stem of {length}"
        );
    }
    // A seek into the middle and a read there.
    if length > 0 && cursor.seek(length / 2).is_ok() {
        out.clear();
        if let Ok(n) = cursor.read(&mut out, 4096) {
            assert!(
                out.iter().all(|v| v.is_finite()),
                "a non-finite sample after a seek"
            );
            assert_eq!(out.len(), n * channels);
        }
    }
}
