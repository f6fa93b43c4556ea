//! Preset and session loads in a CLAP host: a state whose every parameter
//! differs, loaded while playing, then every parameter set in one block,
//! under nice-plug's allocation checker (the VST3 side, where nice-plug's
//! MIDI CC emulation once added 2080 hidden parameters, is in
//! `tests/vst3.rs`).

use super::*;

/// A preset load while playing (a state whose every parameter differs,
/// loaded on the main thread) and then every parameter set at once in one
/// block, as hosts do when a session or preset loads: under nice-plug's
/// allocation checker (the test bundle aborts on an allocation in
/// `process()`), ten times over; the output stays finite.
#[test]
pub(super) fn preset_load_setting_every_parameter_at_once_does_not_allocate() {
    let Some(bundle) = load_bundle("preset_load_setting_every_parameter_at_once_does_not_allocate")
    else {
        return;
    };
    let setlist = corpus_setlist();
    let mut inst = new_instance(&bundle);
    set_setlist(&mut inst, &setlist);
    let params: Vec<ParamInfo> = inst
        .params()
        .into_iter()
        .filter(|p| !p.is_read_only())
        .collect();
    let key = key_for_song(&mut inst, 0);
    inst.activate(48_000.0, 512, false).expect("activate");
    let mut rng = StdRng::seed_from_u64(0x7e5e7);
    inst.process(
        512,
        &[HostEvent::NoteOn {
            time: 0,
            key,
            velocity: 1.0,
        }],
    )
    .expect("process");
    for round in 0..10 {
        // A preset: the plugin's state with every parameter changed.
        for p in &params {
            inst.param_flush(&[HostEvent::ParamValue {
                time: 0,
                id: p.id,
                value: random_value(&mut rng, p),
            }])
            .expect("param_flush");
        }
        let preset = inst.save_state().expect("save_state");
        for _ in 0..4 {
            let out = inst.process(512, &[]).expect("process");
            check_clean(&out[0], "after the preset's parameters");
        }
        assert!(inst.load_state(&preset), "round {round}: preset refused");
        // Then every parameter at once, in one block, as a host sends its
        // session's values.
        let all: Vec<HostEvent> = params
            .iter()
            .map(|p| HostEvent::ParamValue {
                time: 0,
                id: p.id,
                value: random_value(&mut rng, p),
            })
            .collect();
        let out = inst.process(512, &all).expect("process");
        check_clean(&out[0], "the block setting every parameter");
        for _ in 0..8 {
            let out = inst.process(512, &[]).expect("process");
            check_clean(&out[0], "after the preset load");
        }
    }
    eprintln!(
        "preset loads: {} parameters set at once 10 times while playing, no allocation",
        params.len()
    );
}
