//! `trax play --outputs` on the dummy backend: the channel map puts each
//! bus on its device channels. A song of a constant music stem (main) and
//! a click stem (Click), captured offline with `main=1-2,click=3,guide=4`:
//! channels 1-2 carry the music and never the click, channel 3 the click
//! (the mono sum of the Click bus) and never the music, channel 4 (Guide,
//! no stem) is exactly silent; the unmapped buses are named in a warning.

use std::process::Command;

use crate::common::child::trax_binary;
use crate::common::live_setlist::{click, write_setlist, GenStem, RATE_HZ};

#[test]
fn the_channel_map_puts_each_bus_on_its_device_channels() {
    let dir = tempfile::tempdir().expect("tempdir");
    let frames = 2 * RATE_HZ as usize;
    let setlist = write_setlist(
        dir.path(),
        "",
        &[(
            "",
            vec![
                GenStem {
                    file: "music.wav",
                    output: None,
                    frames,
                    sample: &|_| 0.25,
                },
                GenStem {
                    file: "click.wav",
                    output: Some("click"),
                    frames,
                    sample: &click,
                },
            ],
        )],
    );
    let capture = dir.path().join("device.wav");
    let run = Command::new(trax_binary())
        .args(["play", "--setlist"])
        .arg(&setlist)
        .args(["--outputs", "main=1-2,click=3,guide=4", "--capture"])
        .arg(&capture)
        .args([
            "--seconds",
            "1.5",
            "--start-song",
            "1",
            "--backend",
            "dummy",
        ])
        .output()
        .expect("run trax play");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "trax play failed:\n{stderr}");
    assert!(
        stderr.contains("no device channel for bus drums, bass, keys, vocals, aux1, aux2"),
        "the unmapped buses are named:\n{stderr}"
    );
    let mut reader = hound::WavReader::open(&capture).expect("the capture");
    assert_eq!(reader.spec().channels, 4);
    let samples: Vec<f32> = reader
        .samples::<f32>()
        .map(|s| s.expect("sample"))
        .collect();
    let ch = |c: usize| {
        samples
            .iter()
            .skip(c)
            .step_by(4)
            .copied()
            .collect::<Vec<f32>>()
    };
    let (l, r, click_ch, guide) = (ch(0), ch(1), ch(2), ch(3));
    assert!(
        guide.iter().all(|&v| v == 0.0),
        "Guide: no stem, exact silence"
    );
    let start = l.iter().position(|&v| v != 0.0).expect("the music plays");
    assert!(
        l[start..]
            .iter()
            .chain(&r[start..])
            .all(|&v| (v - 0.25).abs() < 1e-6),
        "main carries the music only (no click on it)"
    );
    assert!(click_ch[..start].iter().all(|&v| v == 0.0));
    // The click stem from the music's first frame: the same start.
    for i in 0..RATE_HZ as usize {
        let want = click(i);
        assert!(
            (click_ch[start + i] - want).abs() < 1e-6,
            "channel 3 frame {i}: {} vs {want}",
            click_ch[start + i]
        );
    }
}
