//! Mastered renders against their targets, measured by the independent
//! reference: every corpus song at the fixed target, the setlist in "match
//! the setlist" mode, and stress signals through the limiter.

use super::*;
use nice_assert_no_alloc::assert_no_alloc;
use trax::analysis::{fit, Fitted, MasterTargets, TargetMode};
use trax::bridge::SongMaster;
use trax::engine::master::Chain;
use trax::{Player, PlayerConfig};

const RATE: u32 = 48_000;

/// Renders `song` of `list` through the engine with the auto-master on and
/// `fitted`'s settings, aligned with the song (the chain's delay removed,
/// its tail rendered); interleaved stereo.
pub fn render_mastered(list: &trax::setlist::Setlist, song: usize, fitted: &Fitted) -> Vec<f32> {
    let config = PlayerConfig {
        mastering: true,
        ..PlayerConfig::offline(RATE)
    };
    let (player, mut engine) = Player::new(config).expect("player");
    let prepared = player.load(list);
    player.set_song_master(prepared.epoch, song, fitted.master);
    player.set_auto_master(true, false);
    player.set_auto_advance(false);
    player.play_song(song);
    let mut out = common::render_until_stopped(&player, &mut engine, 512, u64::MAX);
    let latency = engine.latency_frames();
    let (mut l, mut r) = (vec![0.0f32; latency], vec![0.0f32; latency]);
    assert_no_alloc(|| engine.render_tail(&mut l, &mut r));
    for (a, b) in l.iter().zip(&r) {
        out.push(*a);
        out.push(*b);
    }
    out.split_off(latency * 2)
}

/// Fits every corpus song to `targets` (the mode's reference over the
/// setlist).
fn fit_corpus(targets: &MasterTargets) -> (trax::setlist::Setlist, Vec<Fitted>) {
    let list = corpus_setlist();
    let analyses: Vec<Analysis> = list.songs.iter().map(|s| analyze(s, RATE)).collect();
    let median = targets
        .mode
        .setlist_lufs(analyses.iter().map(|a| a.integrated_lufs));
    let fitted = analyses
        .iter()
        .zip(&list.songs)
        .map(|(a, s)| fit(a, targets, median, s.master_trim_db))
        .collect();
    (list, fitted)
}

/// Renders every song mastered and measures it.
fn master_corpus(targets: &MasterTargets) -> Vec<(String, Fitted, Reference)> {
    let (list, fitted) = fit_corpus(targets);
    let dir = tempfile::tempdir().expect("tempdir");
    let files: Vec<PathBuf> = fitted
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let path = dir.path().join(format!("mastered{}.wav", i + 1));
            write_wav(&path, RATE, &render_mastered(&list, i, f));
            path
        })
        .collect();
    let refs = reference(&files);
    list.songs
        .iter()
        .zip(fitted)
        .zip(refs)
        .map(|((s, f), r)| (s.name.clone(), f, r))
        .collect()
}

#[test]
fn every_corpus_song_comes_out_at_its_target_under_the_ceiling() {
    let targets = MasterTargets::default();
    for (name, f, r) in master_corpus(&targets) {
        eprintln!(
            "{name}: gain {:+.2} dB, target {:.1}, predicted {:.2}, measured {:.2} LUFS, {:.2} dBTP",
            f.master.gain_db, f.target_lufs, f.predicted_lufs, r.lufs, r.true_peak_dbtp
        );
        assert!(
            (r.lufs - f.target_lufs).abs() <= 0.5,
            "{name}: {:.2} LUFS for a target of {:.1}",
            r.lufs,
            f.target_lufs
        );
        assert!(
            r.true_peak_dbtp <= f64::from(targets.ceiling_dbtp),
            "{name}: {:.3} dBTP over the {} dBTP ceiling",
            r.true_peak_dbtp,
            targets.ceiling_dbtp
        );
    }
}

#[test]
fn matching_the_setlist_brings_every_song_within_one_lu() {
    let targets = MasterTargets {
        mode: TargetMode::MatchSetlist,
        ..MasterTargets::default()
    };
    let measured: Vec<f64> = master_corpus(&targets)
        .into_iter()
        .map(|(name, f, r)| {
            eprintln!(
                "{name}: target {:.2}, measured {:.2} LUFS",
                f.target_lufs, r.lufs
            );
            assert!(
                r.true_peak_dbtp <= f64::from(targets.ceiling_dbtp),
                "{name}: {:.3} dBTP",
                r.true_peak_dbtp
            );
            r.lufs
        })
        .collect();
    let lo = measured.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = measured.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert!(hi - lo <= 1.0, "spread {:.2} LU: {measured:?}", hi - lo);
}

/// `signal` through a chain that only limits at -1 dBTP, aligned.
fn limited(signal: &[[f32; 2]]) -> Vec<f32> {
    let mut chain = Chain::new(RATE);
    chain.set_song(SongMaster {
        ceiling_dbtp: -1.0,
        ..SongMaster::NEUTRAL
    });
    chain.set_on(true);
    // Start mastered (the switch's crossfade is not what is tested).
    let mut warm = vec![0.0f32; chain.fade_frames() as usize + 1];
    let mut warm_r = warm.clone();
    assert_no_alloc(|| chain.process(&mut warm, &mut warm_r));
    let d = chain.latency_frames();
    let mut l: Vec<f32> = signal
        .iter()
        .map(|f| f[0])
        .chain(std::iter::repeat_n(0.0, d))
        .collect();
    let mut r: Vec<f32> = signal
        .iter()
        .map(|f| f[1])
        .chain(std::iter::repeat_n(0.0, d))
        .collect();
    assert_no_alloc(|| chain.process(&mut l, &mut r));
    l.iter()
        .zip(&r)
        .skip(d)
        .flat_map(|(a, b)| [*a, *b])
        .collect()
}

#[test]
fn stress_signals_come_out_without_overs() {
    let secs = 3usize;
    let n = RATE as usize * secs;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    };
    let tau = std::f32::consts::TAU;
    let signals: Vec<(&str, Vec<[f32; 2]>)> = vec![
        (
            "noise +6 dB",
            (0..n).map(|_| [2.0 * noise(), 2.0 * noise()]).collect(),
        ),
        (
            "sawtooth",
            (0..n)
                .map(|i| {
                    let x = 3.0 * ((i as f32 * 110.0 / RATE as f32).fract() * 2.0 - 1.0);
                    [x, x]
                })
                .collect(),
        ),
        (
            "impulses",
            (0..n)
                .map(|i| {
                    if i % 4801 == 100 {
                        [4.0, -4.0]
                    } else {
                        [0.0, 0.0]
                    }
                })
                .collect(),
        ),
        (
            "fs/4 sine at 45°, +6 dB",
            (0..n)
                .map(|i| {
                    let x = 2.0 * (tau / 4.0 * i as f32 + tau / 8.0).sin();
                    [x, x]
                })
                .collect(),
        ),
        (
            "30 Hz sine +10 dB",
            (0..n)
                .map(|i| {
                    let x = 3.162 * (tau * 30.0 * i as f32 / RATE as f32).sin();
                    [x, -x]
                })
                .collect(),
        ),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    let files: Vec<PathBuf> = signals
        .iter()
        .enumerate()
        .map(|(i, (_, s))| {
            let path = dir.path().join(format!("stress{i}.wav"));
            write_wav(&path, RATE, &limited(s));
            path
        })
        .collect();
    for ((name, _), r) in signals.iter().zip(reference(&files)) {
        eprintln!("{name}: {:.3} dBTP", r.true_peak_dbtp);
        assert!(
            r.true_peak_dbtp <= -1.0,
            "{name}: {:.3} dBTP over -1 dBTP",
            r.true_peak_dbtp
        );
    }
}
