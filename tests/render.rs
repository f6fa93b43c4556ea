//! An offline render of each corpus song equals the gain/pan-applied sum of
//! its stems decoded whole, and is identical for block sizes 1, 17, 512,
//! 2027 and 4096.

use crate::common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use common::*;
use rand::{Rng, SeedableRng};

const ENGINE_HZ: u32 = 48_000;

struct StemPlan {
    path: PathBuf,
    gain_db: f32,
    pan: f32,
    mute: bool,
    solo: bool,
    offset_secs: f64,
}

/// A setlist of one corpus song with seeded random gains, pans, a muted
/// stem, a solo in some songs and offsets on two stems.
fn plan_song(dir: &Path, seed: u64) -> Vec<StemPlan> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| trax::setlist::is_audio_file(p))
        .collect();
    files.sort();
    let n = files.len();
    let solo_song = seed.is_multiple_of(3);
    files
        .into_iter()
        .enumerate()
        .map(|(i, path)| StemPlan {
            path,
            gain_db: rng.gen_range(-12.0..3.0f32).round(),
            pan: [0.0, -1.0, 1.0, -0.5, 0.5, 0.25][i % 6],
            mute: i == 1,
            solo: solo_song && (i == 0 || i == n - 1),
            offset_secs: if i == 2 {
                0.75
            } else if i == 3 {
                2.5
            } else {
                0.0
            },
        })
        .collect()
}

fn write_setlist(dir: &Path, plan: &[StemPlan]) -> PathBuf {
    let mut text = String::from("[[song]]\nname = \"test\"\n");
    for s in plan {
        writeln!(
            text,
            "[[song.stem]]\npath = {:?}\ngain_db = {:?}\npan = {:?}\nmute = {}\nsolo = {}\noffset_secs = {:?}",
            s.path.display().to_string(),
            s.gain_db,
            s.pan,
            s.mute,
            s.solo,
            s.offset_secs
        )
        .unwrap();
    }
    let path = dir.join("setlist.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The reference: every stem decoded whole, gain and pan applied (the
/// balance law of the README: the far side × cos(|pan|·π/2)), summed in
/// stem order.
fn reference_mix(plan: &[StemPlan]) -> Vec<f32> {
    let any_solo = plan.iter().any(|s| s.solo);
    let mut stems = Vec::new();
    let mut len = 0usize;
    for s in plan {
        let (ch, samples) = cursor_full_decode(&s.path, ENGINE_HZ);
        let frames = to_stereo(&samples, ch);
        let offset = (s.offset_secs * ENGINE_HZ as f64).round() as usize;
        len = len.max(offset + frames.len());
        stems.push((offset, frames));
    }
    let mut out = vec![0.0f32; len * 2];
    for (s, (offset, frames)) in plan.iter().zip(&stems) {
        let audible = !s.mute && (!any_solo || s.solo);
        if !audible {
            continue;
        }
        let g = 10f32.powf(s.gain_db / 20.0);
        let away = (s.pan.abs() * std::f32::consts::FRAC_PI_2).cos();
        let (gl, gr) = if s.pan > 0.0 {
            (g * away, g)
        } else if s.pan < 0.0 {
            (g, g * away)
        } else {
            (g, g)
        };
        for (i, f) in frames.iter().enumerate() {
            out[(offset + i) * 2] += f[0] * gl;
            out[(offset + i) * 2 + 1] += f[1] * gr;
        }
    }
    out
}

fn render_song(setlist: &Path, block: usize) -> Vec<f32> {
    let (player, mut engine, _) = offline_player(setlist, ENGINE_HZ);
    player.set_auto_advance(false);
    player.play_song(0);
    render_until_stopped(&player, &mut engine, block, u64::MAX)
}

fn check_song(name: &str, seed: u64) {
    let dir = corpus().join("songs").join(name);
    let tmp = tempdir(name);
    let plan = plan_song(&dir, seed);
    let setlist = write_setlist(&tmp, &plan);
    let reference = reference_mix(&plan);
    let base = render_song(&setlist, 512);
    assert_eq!(base.len(), reference.len(), "{name}: render length");
    let err = max_abs_diff(&base, &reference);
    assert!(
        err <= MINUS_90_DBFS,
        "{name}: render differs from the stem sum by {err:e}"
    );
    assert!(base.iter().any(|&v| v != 0.0), "{name}: render is silent");
    for block in [1usize, 17, 2027, 4096] {
        let other = render_song(&setlist, block);
        assert_eq!(other.len(), base.len(), "{name}: length at block {block}");
        let first = other
            .iter()
            .zip(&base)
            .position(|(a, b)| a.to_bits() != b.to_bits());
        assert_eq!(first, None, "{name}: block {block} differs from block 512");
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trax-render-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn song_01_mixed_formats() {
    check_song("01_singularity_awakening", 1);
}

#[test]
fn song_02_bach_16_stems() {
    check_song("02_bach_bwv190_7", 2);
}

#[test]
fn song_03_wav_44k1() {
    check_song("03_planetblupi_music000", 3);
}

#[test]
fn song_04_thirty_stems() {
    check_song("04_frozen_bubble_30stems", 4);
}

#[test]
fn song_05_flac_96k() {
    check_song("05_planetblupi_music003_96k", 5);
}

#[test]
fn song_06_lossy() {
    check_song("06_planetblupi_music001_lossy", 6);
}
