//! The chain in the engine: transparency, the original/mastered toggle,
//! block-size independence, seeks and chunk seams, latency.

use super::*;
use nice_assert_no_alloc::assert_no_alloc;
use rand::{Rng, SeedableRng};
use trax::analysis::{fit, MasterTargets};
use trax::bridge::SongMaster;
use trax::engine::master::Chain;
use trax::{Player, PlayerConfig};

const RATE: u32 = 48_000;

fn music(frames: usize) -> (Vec<f32>, Vec<f32>) {
    // Two detuned partials and a slow swell: plenty of movement, peaks at
    // about -3 dBFS.
    let tau = std::f32::consts::TAU;
    let l = (0..frames)
        .map(|i| {
            let t = i as f32 / RATE as f32;
            0.45 * (tau * 220.0 * t).sin() + 0.25 * (tau * 3310.0 * t).sin() * (tau * 0.7 * t).sin()
        })
        .collect();
    let r = (0..frames)
        .map(|i| {
            let t = i as f32 / RATE as f32;
            0.4 * (tau * 330.0 * t).sin() + 0.2 * (tau * 1870.0 * t).sin()
        })
        .collect();
    (l, r)
}

#[test]
fn neutral_settings_null_against_the_delayed_input() {
    let (l0, r0) = music(RATE as usize * 2);
    let mut chain = Chain::new(RATE);
    chain.set_on(true);
    let (mut l, mut r) = (l0.clone(), r0.clone());
    assert_no_alloc(|| chain.process(&mut l, &mut r));
    let d = chain.latency_frames();
    let worst = (d..l.len())
        .map(|i| (l[i] - l0[i - d]).abs().max((r[i] - r0[i - d]).abs()))
        .fold(0.0f32, f32::max);
    assert!(worst <= 1e-6, "residual {worst} (-120 dBFS is 1e-6)");
}

#[test]
fn a_signal_a_db_under_the_ceiling_passes_the_limiter_untouched() {
    let (mut l0, mut r0) = music(RATE as usize * 2);
    // Scale to a true peak at -2 dBTP (1 dB under a -1 dBTP ceiling).
    let peak = l0.iter().chain(&r0).fold(0.0f32, |m, x| m.max(x.abs()));
    let scale = 10f32.powf(-2.2 / 20.0) / peak;
    l0.iter_mut().chain(r0.iter_mut()).for_each(|x| *x *= scale);
    let mut chain = Chain::new(RATE);
    chain.set_song(SongMaster {
        ceiling_dbtp: -1.0,
        ..SongMaster::NEUTRAL
    });
    chain.set_on(true);
    // Switched on over silence first (the switch's crossfade of two equal
    // signals is not bit-exact; it is not what is tested here).
    let mut z = vec![0.0f32; 4096];
    let mut z2 = z.clone();
    assert_no_alloc(|| chain.process(&mut z, &mut z2));
    let (mut l, mut r) = (l0.clone(), r0.clone());
    assert_no_alloc(|| chain.process(&mut l, &mut r));
    let d = chain.latency_frames();
    for i in d..l.len() {
        assert_eq!((l[i], r[i]), (l0[i - d], r0[i - d]), "frame {i}");
    }
    assert_eq!(chain.take_min_gain(), 1.0, "no gain reduction");
}

/// A loud song's settings: +6 dB, tone moves, glue and limiter working.
/// Settings that make every stage of the chain work (the hostile-input
/// tests use them too).
pub(super) fn working_master() -> SongMaster {
    SongMaster {
        gain_db: 6.0,
        tone_db: [-2.0, 1.0, 2.5],
        glue_threshold_db: -14.0,
        ceiling_dbtp: -1.0,
        match_gain_db: 4.0,
    }
}

#[test]
fn a_toggle_crossfades_from_the_next_block_and_never_steps() {
    let frames = RATE as usize * 3;
    let (l0, r0) = music(frames);
    let run = |on: bool| {
        let mut c = Chain::new(RATE);
        c.set_song(working_master());
        c.set_on(on);
        // Settle the switch on silence before the signal (the same 4096
        // frames the toggled chains run first).
        let mut z = vec![0.0f32; 4096];
        let mut z2 = z.clone();
        assert_no_alloc(|| c.process(&mut z, &mut z2));
        let (mut l, mut r) = (l0.clone(), r0.clone());
        assert_no_alloc(|| c.process(&mut l, &mut r));
        (l, r)
    };
    let (dry, _) = run(false);
    let (wet, _) = run(true);
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    for _ in 0..6 {
        let mut c = Chain::new(RATE);
        c.set_song(working_master());
        let mut z = vec![0.0f32; 4096];
        let mut z2 = z.clone();
        assert_no_alloc(|| c.process(&mut z, &mut z2));
        let (mut l, mut r) = (l0.clone(), r0.clone());
        let block = rng.gen_range(32..700);
        let toggle_block = rng.gen_range(10..frames / block - 10);
        let mut at = 0;
        let mut b = 0;
        while at < frames {
            let n = block.min(frames - at);
            if b == toggle_block {
                c.set_on(true);
            }
            assert_no_alloc(|| c.process(&mut l[at..at + n], &mut r[at..at + n]));
            at += n;
            b += 1;
        }
        let start = toggle_block * block;
        let fade = c.fade_frames() as usize;
        assert_eq!(
            &l[..start],
            &dry[..start],
            "the original until the toggle's block"
        );
        assert_eq!(
            &l[start + fade..],
            &wet[start + fade..],
            "mastered after the fade"
        );
        assert_ne!(
            l[start + fade / 2],
            dry[start + fade / 2],
            "moving during the fade"
        );
        // No step larger than the larger of the two paths' own steps
        // nearby (±1 ms).
        let near = RATE as usize / 1000;
        for i in start.max(1)..start + fade + 1 {
            let lo = i.saturating_sub(near).max(1);
            let own = (lo..i + near)
                .map(|j| (dry[j] - dry[j - 1]).abs().max((wet[j] - wet[j - 1]).abs()))
                .fold(0.0f32, f32::max);
            assert!((l[i] - l[i - 1]).abs() <= own * 1.01 + 1e-6, "step at {i}");
        }
    }
}

/// Renders `song` 0 of the demo-sized corpus song with seeks at fixed
/// output frames, `block` frames per call; interleaved stereo.
fn render_with_seeks(mastering: Option<SongMaster>, block: usize) -> (Vec<f32>, usize) {
    let dir = common::corpus().join("songs/03_planetblupi_music000");
    let list = trax::setlist::load(&dir).expect("song");
    let config = PlayerConfig {
        mastering: mastering.is_some(),
        ..PlayerConfig::offline(RATE)
    };
    let (player, mut engine) = Player::new(config).expect("player");
    let prepared = player.load(&list);
    if let Some(m) = mastering {
        player.set_song_master(prepared.epoch, 0, m);
        player.set_auto_master(true, false);
    }
    player.set_auto_advance(false);
    player.play_song(0);
    let seeks = [
        (RATE as u64, 400_000u64),
        (2 * RATE as u64, 90_000),
        (3 * RATE as u64, 700_003),
    ];
    let total = 5 * RATE as usize;
    let mut out = Vec::with_capacity(total * 2);
    let (mut l, mut r) = (vec![0.0f32; block], vec![0.0f32; block]);
    let mut next = 0;
    while out.len() / 2 < total {
        if next < seeks.len() && (out.len() / 2) as u64 >= seeks[next].0 {
            common::seek_cued(&player, &mut engine, seeks[next].1);
            next += 1;
        }
        let until = seeks.get(next).map_or(total, |s| s.0 as usize);
        let want = block.min(until.min(total) - out.len() / 2).max(1);
        let n = common::process(&mut engine, &mut l[..want], &mut r[..want]);
        for i in 0..n {
            out.push(l[i]);
            out.push(r[i]);
        }
        if n < want {
            player.nudge();
            player.wait_for_progress(std::time::Duration::from_millis(2));
        }
    }
    (out, engine.latency_frames())
}

#[test]
fn seeks_and_chunk_seams_with_mastering_equal_one_pass_of_the_chain_at_any_block_size() {
    let list =
        trax::setlist::load(&common::corpus().join("songs/03_planetblupi_music000")).expect("song");
    let master = fit(
        &analyze(&list.songs[0], RATE),
        &MasterTargets::default(),
        None,
        0.0,
    )
    .master;
    // The engine's own mix, no chain: the chain's input.
    let (raw, _) = render_with_seeks(None, 64);
    let (mut l, mut r): (Vec<f32>, Vec<f32>) = (
        raw.iter().step_by(2).copied().collect(),
        raw.iter().skip(1).step_by(2).copied().collect(),
    );
    let mut chain = Chain::new(RATE);
    chain.set_song(master);
    chain.set_on(true);
    assert_no_alloc(|| chain.process(&mut l, &mut r));
    let offline: Vec<f32> = l.iter().zip(&r).flat_map(|(a, b)| [*a, *b]).collect();
    for block in [1usize, 17, 512, 2027, 4096] {
        let (mastered, latency) = render_with_seeks(Some(master), block);
        assert!(latency > 0);
        assert_eq!(mastered.len(), offline.len());
        let first = mastered.iter().zip(&offline).position(|(a, b)| a != b);
        assert_eq!(first, None, "block {block}: differs at sample {first:?}");
    }
}

#[test]
fn an_impulse_arrives_exactly_the_reported_latency_later_mastered_or_not() {
    // A one-stem song: silence with one impulse at frame 1000.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("impulse.wav");
    let mut signal = vec![0.0f32; RATE as usize * 2];
    signal[2000] = 0.5;
    signal[2001] = 0.5;
    write_wav(&path, RATE, &signal);
    let song = one_stem_song(&path);
    let list = trax::setlist::Setlist {
        source: path.clone(),
        name: "impulse".into(),
        songs: vec![song.clone()],
    };
    let master = fit(&analyze(&song, RATE), &MasterTargets::default(), None, 0.0).master;
    for on in [false, true] {
        let config = PlayerConfig {
            mastering: true,
            ..PlayerConfig::offline(RATE)
        };
        let (player, mut engine) = Player::new(config).expect("player");
        let prepared = player.load(&list);
        player.set_song_master(prepared.epoch, 0, master);
        player.set_auto_master(on, false);
        player.set_auto_advance(false);
        player.play_song(0);
        let out = common::render_until_stopped(&player, &mut engine, 256, u64::MAX);
        let latency = engine.latency_frames();
        assert_eq!(latency, trax::engine::master::limiter::latency_frames(RATE));
        let loudest = out
            .iter()
            .step_by(2)
            .enumerate()
            .fold(
                (0, 0.0f32),
                |m, (i, x)| if x.abs() > m.1 { (i, x.abs()) } else { m },
            );
        assert_eq!(
            loudest.0,
            1000 + latency,
            "mastered {on}: the impulse's frame"
        );
        eprintln!(
            "mastered {on}: impulse at {} (latency {latency} frames), peak {:.3}",
            loudest.0, loudest.1
        );
    }
}
