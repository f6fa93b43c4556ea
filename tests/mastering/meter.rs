//! The analysis path against EBU Tech 3341 (loudness, true peak) and 3342
//! (loudness range) signals that can be made exactly, and against the
//! independent reference on every corpus song.

use super::*;

const RATE: u32 = 48_000;

/// A test signal: its name, its (level dBFS, seconds) parts, the reading
/// expected.
type Case = (&'static str, &'static [(f64, f64)], f64);

/// Stereo 1 kHz sine segments: (level dBFS, seconds) in order.
fn sine_sequence(parts: &[(f64, f64)]) -> Vec<f32> {
    let mut out = Vec::new();
    let mut n = 0u64;
    for &(db, secs) in parts {
        let amp = 10f64.powf(db / 20.0);
        for _ in 0..(secs * f64::from(RATE)).round() as u64 {
            let x = (amp * (2.0 * std::f64::consts::PI * 1000.0 * n as f64 / f64::from(RATE)).sin())
                as f32;
            out.push(x);
            out.push(x);
            n += 1;
        }
    }
    out
}

/// Analyses `signal` through a one-stem song.
fn analyse_signal(dir: &Path, name: &str, signal: &[f32]) -> Analysis {
    let path = dir.join(format!("{name}.wav"));
    write_wav(&path, RATE, signal);
    analyze(&one_stem_song(&path), RATE)
}

#[test]
fn integrated_loudness_reads_the_tech_3341_cases_within_a_tenth() {
    let dir = tempfile::tempdir().expect("tempdir");
    // EBU Tech 3341 cases 1–5 (stereo 1 kHz sines).
    let cases: [Case; 5] = [
        ("case1", &[(-23.0, 20.0)], -23.0),
        ("case2", &[(-33.0, 20.0)], -33.0),
        (
            "case3",
            &[(-36.0, 10.0), (-23.0, 60.0), (-36.0, 10.0)],
            -23.0,
        ),
        (
            "case4",
            &[
                (-72.0, 10.0),
                (-36.0, 10.0),
                (-23.0, 60.0),
                (-36.0, 10.0),
                (-72.0, 10.0),
            ],
            -23.0,
        ),
        (
            "case5",
            &[(-26.0, 20.1), (-20.0, 20.2), (-26.0, 20.1)],
            -23.0,
        ),
    ];
    for (name, parts, want) in cases {
        let a = analyse_signal(dir.path(), name, &sine_sequence(parts));
        assert!(
            (a.integrated_lufs - want).abs() <= 0.1,
            "{name}: {:.3} LUFS, expected {want}",
            a.integrated_lufs
        );
    }
}

#[test]
fn loudness_range_reads_the_tech_3342_cases_within_one_lu() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: [Case; 4] = [
        ("lra1", &[(-20.0, 20.0), (-30.0, 20.0)], 10.0),
        ("lra2", &[(-20.0, 20.0), (-15.0, 20.0)], 5.0),
        ("lra3", &[(-40.0, 20.0), (-20.0, 20.0)], 20.0),
        (
            "lra4",
            &[
                (-50.0, 20.0),
                (-35.0, 20.0),
                (-20.0, 20.0),
                (-35.0, 20.0),
                (-50.0, 20.0),
            ],
            15.0,
        ),
    ];
    for (name, parts, want) in cases {
        let a = analyse_signal(dir.path(), name, &sine_sequence(parts));
        assert!(
            (a.loudness_range_lu - want).abs() <= 1.0,
            "{name}: {:.2} LU, expected {want}",
            a.loudness_range_lu
        );
    }
}

#[test]
fn true_peak_reads_quarter_rate_sines_at_any_phase() {
    // Tech 3341's true-peak idea: a sine at fs/4 of amplitude 0.5
    // (-6.02 dBTP) whose samples miss its peaks by up to 3 dB.
    let dir = tempfile::tempdir().expect("tempdir");
    for phase_deg in [0.0f64, 45.0, 60.0, 67.5] {
        let phase = phase_deg.to_radians();
        let signal: Vec<f32> = (0..RATE as usize * 5)
            .flat_map(|n| {
                let x = (0.5 * (std::f64::consts::FRAC_PI_2 * n as f64 + phase).sin()) as f32;
                [x, x]
            })
            .collect();
        let a = analyse_signal(dir.path(), &format!("tp{phase_deg}"), &signal);
        let err = a.true_peak_dbtp - (-6.02);
        assert!(
            (-0.4..=0.2).contains(&err),
            "phase {phase_deg}°: {:.3} dBTP (sample peak {:.2} dBFS)",
            a.true_peak_dbtp,
            a.sample_peak_dbfs
        );
    }
}

#[test]
fn every_corpus_song_measures_as_the_independent_reference() {
    let list = corpus_setlist();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    let mut ours = Vec::new();
    for (i, song) in list.songs.iter().enumerate() {
        ours.push(analyze(song, RATE));
        // The same default mix, rendered whole by the engine, measured by
        // pyloudnorm (DeMan filter) and scipy's 16× resampler.
        let frames = ours[i].length_frames as usize;
        let mix = common::reference_render(&common::corpus().join("setlist.json"), i, RATE, frames);
        let path = dir.path().join(format!("song{}.wav", i + 1));
        write_wav(&path, RATE, &mix);
        files.push(path);
    }
    for ((song, a), r) in list.songs.iter().zip(&ours).zip(reference(&files)) {
        eprintln!(
            "{}: ours {:.2} LUFS {:.2} dBTP, reference {:.2} LUFS {:.2} dBTP",
            song.name, a.integrated_lufs, a.true_peak_dbtp, r.lufs, r.true_peak_dbtp
        );
        assert!(
            (a.integrated_lufs - r.lufs).abs() <= 0.1,
            "{}: {:.3} vs {:.3} LUFS",
            song.name,
            a.integrated_lufs,
            r.lufs
        );
        assert!(
            (a.true_peak_dbtp - r.true_peak_dbtp).abs() <= 0.2,
            "{}: {:.3} vs {:.3} dBTP",
            song.name,
            a.true_peak_dbtp,
            r.true_peak_dbtp
        );
    }
}
