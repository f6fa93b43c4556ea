//! Every fuzz target's seeds (committed and generated) and every input a
//! fuzzer found (`fuzz/regressions/`) through the target bodies, in the
//! normal test build: a fixed finding stays fixed, and the seeds the
//! fuzzers start from pass. The fuzzing itself is `cargo xtask fuzz`.

use std::time::Instant;

#[test]
fn every_seed_and_regression_passes_its_target() {
    let corpus = trax_fuzz::seeds::corpus();
    assert!(
        corpus.is_some(),
        "the shared corpus is needed for the audio seeds"
    );
    let mut total = 0;
    for t in trax_fuzz::TARGETS {
        let start = Instant::now();
        let mut inputs = trax_fuzz::seeds::committed(t.name);
        inputs.extend(trax_fuzz::seeds::generated(t.name, corpus.as_deref()));
        assert!(!inputs.is_empty(), "{}: no seeds", t.name);
        for (name, bytes) in &inputs {
            let outcome = std::panic::catch_unwind(|| (t.run)(bytes));
            assert!(outcome.is_ok(), "{}: input {name} fails its target", t.name);
        }
        eprintln!(
            "{}: {} inputs in {:.0} ms",
            t.name,
            inputs.len(),
            start.elapsed().as_secs_f64() * 1e3
        );
        total += inputs.len();
    }
    assert!(total >= 40, "{total} inputs");
}
