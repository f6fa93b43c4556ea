//! Hostile input to the chain: a finite but huge block (a float stem at
//! +24 dB, summed), infinities and NaN. The chain must stay finite and keep
//! working (tone filters, compressor and limiter), and `Chain::reset` must
//! forget every filter's state.

use super::chain::working_master;
use nice_assert_no_alloc::assert_no_alloc;
use trax::engine::master::Chain;

const RATE: u32 = 48_000;

fn sine(frames: usize, hz: f32, amp: f32) -> Vec<f32> {
    (0..frames)
        .map(|i| amp * (std::f32::consts::TAU * hz * i as f32 / RATE as f32).sin())
        .collect()
}

fn rms_db(x: &[f32]) -> f32 {
    10.0 * (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).log10()
}

#[test]
fn a_huge_or_non_finite_block_leaves_the_chain_finite_and_working() {
    let mut chain = Chain::new(RATE);
    chain.set_song(working_master());
    chain.set_on(true);
    let mut clean = Chain::new(RATE);
    clean.set_song(working_master());
    clean.set_on(true);
    let second = RATE as usize;
    let (mut l, mut r) = (sine(second, 200.0, 0.5), sine(second, 3000.0, 0.3));
    let (mut cl, mut cr) = (l.clone(), r.clone());
    assert_no_alloc(|| chain.process(&mut l, &mut r));
    clean.process(&mut cl, &mut cr);
    let mut bad: Vec<f32> = [3.0e38, -3.0e38, f32::INFINITY, f32::NEG_INFINITY, f32::NAN]
        .into_iter()
        .cycle()
        .take(64)
        .collect();
    let mut bad_r = bad.clone();
    bad_r.reverse();
    assert_no_alloc(|| chain.process(&mut bad, &mut bad_r));
    assert!(
        bad.iter().chain(&bad_r).all(|v| v.is_finite()),
        "non-finite output from the bad block"
    );
    // Then ten seconds of music: finite, mastered, the compressor working.
    let mut tail_db = 0.0;
    let mut clean_db = 0.0;
    for s in 0..10 {
        let (mut l, mut r) = (sine(second, 200.0, 0.5), sine(second, 3000.0, 0.3));
        let (mut cl, mut cr) = (l.clone(), r.clone());
        assert_no_alloc(|| chain.process(&mut l, &mut r));
        clean.process(&mut cl, &mut cr);
        assert!(
            l.iter().chain(&r).all(|v| v.is_finite()),
            "second {s} after the bad block: non-finite output"
        );
        tail_db = rms_db(&l);
        clean_db = rms_db(&cl);
    }
    assert!(
        chain.take_min_gain() < 1.0,
        "the compressor and limiter no longer reduce anything"
    );
    assert!(
        (tail_db - clean_db).abs() < 0.1,
        "ten seconds later the chain plays {tail_db:.2} dB, an untouched one {clean_db:.2} dB"
    );
}

#[test]
fn after_a_reset_silence_in_is_exact_silence_out() {
    let mut chain = Chain::new(RATE);
    chain.set_song(working_master());
    chain.set_on(true);
    let (mut l, mut r) = (
        sine(RATE as usize, 90.0, 0.9),
        sine(RATE as usize, 5000.0, 0.9),
    );
    chain.process(&mut l, &mut r);
    assert_no_alloc(|| chain.reset());
    let (mut l, mut r) = (vec![0.0f32; 4096], vec![0.0f32; 4096]);
    assert_no_alloc(|| chain.process(&mut l, &mut r));
    let ringing = l.iter().chain(&r).filter(|v| **v != 0.0).count();
    assert_eq!(
        ringing, 0,
        "{ringing} samples of the signal before the reset (filters, delay) came out after it"
    );
}
