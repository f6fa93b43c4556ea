//! A performer's largest setlist, generated: `songs` songs of `stems`
//! stems each, every stem a steady sine (a different pitch per stem, so
//! every meter lights; -30 dBFS each, so that 30 of them mix without
//! clipping), written as 16-bit mono WAV files that all songs
//! share, with a setlist TOML naming them, each song at 120 bpm with seven
//! sections (Intro … Outro) spread over it. Names are long enough to need
//! ellipsizing, as real ones do.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Writes the stems and the setlist into `dir` and returns the setlist's
/// path. Song `k` (0-based) is `secs + k` seconds long: its first stem
/// starts `k` seconds late (the setlist's `offset_secs`), so lengths
/// differ and the set's remaining time is a sum of distinct lengths.
pub fn write(dir: &Path, songs: usize, stems: usize, secs: u32) -> PathBuf {
    const RATE_HZ: u32 = 48_000;
    std::fs::create_dir_all(dir).expect("create the setlist folder");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE_HZ,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    for stem in 0..stems {
        let path = dir.join(format!("stem{stem:02}.wav"));
        if path.exists() {
            continue;
        }
        let mut w = hound::WavWriter::create(&path, spec).expect("create a stem");
        let hz = 110.0 * 2f64.powf(stem as f64 / 12.0);
        for n in 0..RATE_HZ * secs {
            let t = f64::from(n) / f64::from(RATE_HZ);
            let s = 0.03 * (2.0 * std::f64::consts::PI * hz * t).sin();
            w.write_sample((s * 32767.0) as i16).expect("write a stem");
        }
        w.finalize().expect("finish a stem");
    }
    let mut toml = String::from("name = \"Stage test\"\n");
    for song in 0..songs {
        let _ = write!(
            toml,
            "\n[[song]]\nname = \"{}\"\nbpm = 120.0\n",
            song_name(song)
        );
        // A song's usual form, spread over its length.
        const FORM: [&str; 7] = [
            "Intro", "Verse 1", "Chorus 1", "Verse 2", "Chorus 2", "Bridge", "Outro",
        ];
        let length = f64::from(secs) + song as f64;
        for (i, name) in FORM.iter().enumerate() {
            let start = length * i as f64 / FORM.len() as f64;
            let _ = write!(
                toml,
                "[[song.section]]\nname = \"{name}\"\nstart_secs = {start}\n"
            );
        }
        for stem in 0..stems {
            let _ = write!(
                toml,
                "[[song.stem]]\nname = \"{}\"\npath = \"stem{stem:02}.wav\"\n",
                stem_name(stem)
            );
            if stem == 0 && song > 0 {
                let _ = writeln!(toml, "offset_secs = {song}");
            }
        }
    }
    let path = dir.join("setlist.toml");
    std::fs::write(&path, toml).expect("write the setlist");
    path
}

/// Song `song`'s name (0-based).
pub fn song_name(song: usize) -> String {
    const TITLES: [&str; 4] = [
        "Opener",
        "The Long Goodbye (Extended Live Arrangement)",
        "Ballad in D",
        "Encore Medley",
    ];
    format!("{} {}", TITLES[song % TITLES.len()], song + 1)
}

/// Stem `stem`'s name (0-based).
pub fn stem_name(stem: usize) -> String {
    const PARTS: [&str; 6] = [
        "Kick",
        "Snare",
        "Backing vocals harmony high",
        "Keys",
        "Bass DI",
        "Strings",
    ];
    format!("{} {}", PARTS[stem % PARTS.len()], stem + 1)
}
