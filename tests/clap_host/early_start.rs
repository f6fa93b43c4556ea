//! Starts asked for before the setlist has loaded (a note or `play`
//! automated in the first block plays once it is there), and sessions
//! reopened with `play` saved on (silence until Play).

use super::*;

/// How a test asks for song 1 before the setlist has loaded.
#[derive(Clone, Copy, Debug)]
pub(super) enum EarlyStart {
    /// A note-on in the first process call.
    Note,
    /// `play` automated on at frame 0 of the first process call.
    PlayAutomated,
}

/// Sends an [`EarlyStart`] with the first realtime process call, while the
/// control thread is still loading the setlist: song 1 must start from its
/// beginning once the setlist is there.
pub(super) fn start_before_setlist_loaded(test: &str, how: EarlyStart) {
    let Some(bundle) = load_bundle(test) else {
        return;
    };
    let setlist = corpus_setlist();
    let reference = reference_render(&setlist, 0, 48_000, 48_000);
    let mut inst = new_instance(&bundle);
    let state = parse_state(&state_with_setlist(&mut inst, &setlist));
    assert!(inst.load_state(&encode_state(&state)), "state refused");
    let key = key_for_song(&mut inst, 0);
    inst.activate(48_000.0, 512, false).expect("activate");
    let mut pacer = Pacer::new(48_000.0);
    let mut max_call = Duration::ZERO;
    let mut pos = 0;
    let first: Vec<HostEvent> = match how {
        EarlyStart::Note => vec![HostEvent::NoteOn {
            time: 0,
            key,
            velocity: 1.0,
        }],
        EarlyStart::PlayAutomated => vec![HostEvent::ParamValue {
            time: 0,
            id: param_hash("play"),
            value: 1.0,
        }],
    };
    let mut out = Vec::new();
    let limit = 2 * 48_000;
    // Up to 2 s until the first sound, then 0.5 s more to compare.
    let mut end = limit;
    while out.len() / 2 < end {
        let events: &[HostEvent] = if out.is_empty() { &first } else { &[] };
        out.extend(run_paced(
            &mut inst,
            &mut pacer,
            512,
            512,
            &mut pos,
            None,
            events,
            &mut max_call,
        ));
        if end == limit {
            if let Some(onset) = first_sound(&out) {
                end = onset + 24_000;
            }
        }
    }
    check_clean(&out, &format!("{how:?} before the setlist loaded"));
    let Some(onset) = first_sound(&out) else {
        panic!("{how:?} in the first realtime process call (before the setlist loaded): silent for 2 s");
    };
    // The song starts from its beginning: the output from the start is the
    // reference from frame 0 (aligned on the first sound of each).
    let ref_onset = first_sound(&reference).expect("reference has sound");
    let Some(start) = onset.checked_sub(ref_onset) else {
        panic!("first sound at frame {onset}, before the song could have started (its first sound is at {ref_onset})");
    };
    let (err, first, bad) = segment_error(&out[start * 2..], 0, 24_000, &reference, 0);
    eprintln!(
        "{how:?} before the setlist loaded: song started at {:.1} ms, max error vs reference {err:.2e}, \
         longest call {:.2} ms",
        start as f64 / 48.0,
        max_call.as_secs_f64() * 1e3
    );
    assert!(
        first.is_none(),
        "after the held {how:?} started ({:.1} ms) the output != song 1 from its start: \
         max error {err:e}, {bad} bad frames from frame {first:?}",
        start as f64 / 48.0
    );
}

#[test]
pub(super) fn notes_before_setlist_loaded_realtime() {
    start_before_setlist_loaded("notes_before_setlist_loaded_realtime", EarlyStart::Note);
}

#[test]
pub(super) fn play_automated_before_setlist_loaded_realtime() {
    start_before_setlist_loaded(
        "play_automated_before_setlist_loaded_realtime",
        EarlyStart::PlayAutomated,
    );
}

/// A session saved while playing (`play` on in its state) reopened in a
/// host whose transport is stopped: `play` is restored off and the output
/// is silent for 2 s (at real time), also when the host then sends its own
/// saved `play` value back (`echo`: Ardour applies its saved controls after
/// the state); then `play` automated on starts song 1 from its start.
fn reopen_session_saved_while_playing(test: &str, echo: bool) {
    let Some(bundle) = load_bundle(test) else {
        return;
    };
    let setlist = corpus_setlist();
    let reference = reference_render(&setlist, 0, 48_000, 24_000);
    let mut inst = new_instance(&bundle);
    let mut state = parse_state(&state_with_setlist(&mut inst, &setlist));
    let params = state
        .get_mut("params")
        .and_then(|p| p.as_object_mut())
        .expect("state.params is an object");
    assert!(
        params.contains_key("play"),
        "state.params has no `play`: {params:?}"
    );
    params.insert("play".into(), serde_json::json!({ "bool": true }));
    assert!(inst.load_state(&encode_state(&state)), "state refused");
    assert_eq!(
        inst.param_value(param_hash("play")),
        Some(0.0),
        "{test}: `play` after restoring a state saved with it on"
    );
    let play = |value: f64| HostEvent::ParamValue {
        time: 0,
        id: param_hash("play"),
        value,
    };
    if echo {
        inst.param_flush(&[play(1.0)]).expect("param_flush play");
    }
    inst.activate(48_000.0, 512, false).expect("activate");
    let mut pacer = Pacer::new(48_000.0);
    let mut max_call = Duration::ZERO;
    // The host transport is stopped (at 0) for 2 s; an echoing host sends
    // its saved value again with the first block.
    let mut pos = 0;
    let first: Vec<HostEvent> = if echo { vec![play(1.0)] } else { vec![] };
    let quiet = run_paced(
        &mut inst,
        &mut pacer,
        512,
        2 * 48_000,
        &mut pos,
        Some(false),
        &first,
        &mut max_call,
    );
    assert_eq!(
        first_sound(&quiet),
        None,
        "{test}: sound after reopening a session saved while playing, host stopped"
    );
    if echo {
        // The control shows on: the performer turns it off, then on.
        run_paced(
            &mut inst,
            &mut pacer,
            512,
            512,
            &mut pos,
            Some(false),
            &[play(0.0)],
            &mut max_call,
        );
    }
    // Then `play` is automated on (at a block's start: the plugin takes
    // parameter changes per block).
    let latency = inst.latency_frames() as usize;
    let out = run_paced(
        &mut inst,
        &mut pacer,
        512,
        24_000,
        &mut pos,
        Some(false),
        &[play(1.0)],
        &mut max_call,
    );
    let (err, first, bad) = segment_error(&out[latency * 2..], 0, 12_000, &reference, 0);
    eprintln!("{test}: silent 2 s; play automated: max error vs song 1 from its start {err:.2e}");
    assert!(
        first.is_none(),
        "{test}: play automated after reopening: the output is not song 1 from the event's \
         frame: max error {err:e}, {bad} bad frames from {first:?}"
    );
}

#[test]
pub(super) fn reopening_a_session_saved_while_playing_stays_silent() {
    reopen_session_saved_while_playing(
        "reopening_a_session_saved_while_playing_stays_silent",
        false,
    );
}

#[test]
pub(super) fn reopening_a_session_whose_host_sends_play_back_stays_silent() {
    reopen_session_saved_while_playing(
        "reopening_a_session_whose_host_sends_play_back_stays_silent",
        true,
    );
}
