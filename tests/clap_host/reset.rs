//! The host's `reset`: whatever the plugin held of the signal before it
//! (the auto-master's lookahead delay, its limiter and compressor, its
//! filters) is gone after it: nothing of the old signal comes out, and
//! playback goes on.

use super::*;

#[test]
pub(super) fn reset_empties_the_auto_masters_delay() {
    let Some(bundle) = load_bundle("reset_empties_the_auto_masters_delay") else {
        return;
    };
    let mut inst = new_instance(&bundle);
    set_setlist(&mut inst, &corpus_setlist());
    let key = key_for_song(&mut inst, MATRIX_SONG);
    inst.activate(48_000.0, 512, true)
        .expect("activate offline");
    let latency = inst.latency_frames() as usize;
    assert!(latency > 0, "the auto-master reports its lookahead");
    let note = [HostEvent::NoteOn {
        time: 0,
        key,
        velocity: 1.0,
    }];
    let mut loud = 0.0f32;
    for b in 0..100 {
        let events: &[HostEvent] = if b == 0 { &note } else { &[] };
        let [l, _] = inst.process(512, events).expect("process");
        loud = l.iter().fold(0.0, |m, v| m.max(v.abs()));
    }
    assert!(loud > 0.01, "the song plays (peak {loud})");
    // Reset while the song plays: the block after it starts with the
    // lookahead's length of silence (the emptied delay), then the song
    // goes on.
    inst.reset().expect("reset");
    let [l, r] = inst.process(512, &[]).expect("process");
    let leaked = l[..latency]
        .iter()
        .chain(&r[..latency])
        .filter(|v| **v != 0.0)
        .count();
    assert_eq!(
        leaked, 0,
        "{leaked} samples of the signal before the reset came out after it"
    );
    assert!(
        l[latency..].iter().any(|v| *v != 0.0),
        "the song goes on after the reset"
    );
    inst.deactivate();
}
