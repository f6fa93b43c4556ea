//! The output buses through the CLAP ABI: one stereo main port and eight
//! stereo aux ports named by role; a stem routed to Click sounds on Click
//! only (main and the other buses exactly 0.0), delayed by the reported
//! latency like main, and the auto-master never touches it.

use super::*;
use crate::common::live_setlist::{click, write_setlist, GenStem, RATE_HZ};

const BUS_NAMES: [&str; 9] = [
    "Main", "Click", "Guide", "Drums", "Bass", "Keys", "Vocals", "Aux 1", "Aux 2",
];

#[test]
pub(super) fn ports_are_main_and_eight_named_aux_buses() {
    let Some(bundle) = load_bundle("ports_are_main_and_eight_named_aux_buses") else {
        return;
    };
    let mut inst = new_instance(&bundle);
    assert_eq!(inst.ports().audio_outputs, vec![2; 9], "9 stereo outputs");
    assert_eq!(inst.output_port_names(), BUS_NAMES);
}

/// Renders the click-only song on every bus, auto-master `on`; returns
/// the 18 channels and the latency.
fn render_click_song(bundle: &ClapBundle, setlist: &Path, on: bool) -> (Vec<Vec<f32>>, usize) {
    let mut inst = new_instance(bundle);
    set_setlist(&mut inst, setlist);
    let key = key_for_song(&mut inst, 0);
    inst.activate(f64::from(RATE_HZ), 512, true)
        .expect("activate offline");
    inst.start_processing().expect("start_processing");
    let latency = inst.latency_frames() as usize;
    let mut all = vec![Vec::new(); 18];
    for b in 0..200 {
        let mut events = Vec::new();
        if b == 0 {
            events.push(HostEvent::ParamValue {
                time: 0,
                id: param_hash("auto_master"),
                value: if on { 1.0 } else { 0.0 },
            });
            events.push(HostEvent::NoteOn {
                time: 0,
                key,
                velocity: 1.0,
            });
        }
        let out = inst.process_all(512, &events).expect("process");
        for (acc, ch) in all.iter_mut().zip(out) {
            acc.extend_from_slice(&ch);
        }
    }
    inst.deactivate();
    (all, latency)
}

#[test]
pub(super) fn a_click_stem_plays_on_click_only_untouched_by_the_auto_master() {
    let Some(bundle) = load_bundle("a_click_stem_plays_on_click_only_untouched_by_the_auto_master")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let frames = RATE_HZ as usize; // 1 s: two clicks
    let setlist = write_setlist(
        dir.path(),
        "",
        &[(
            "",
            vec![GenStem {
                file: "click.wav",
                output: Some("click"),
                frames,
                sample: &click,
            }],
        )],
    );
    let (off, latency) = render_click_song(&bundle, &setlist, false);
    let (on, _) = render_click_song(&bundle, &setlist, true);
    assert!(latency > 0, "the auto-master's lookahead is reported");
    for (ch, samples) in off.iter().enumerate() {
        let bus = BUS_NAMES[ch / 2];
        let peak = samples.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        if bus == "Click" {
            assert!(peak > 0.5012, "{bus} peaks at {peak} (> -6 dBFS)");
        } else {
            assert!(
                samples.iter().all(|&v| v == 0.0),
                "{bus} channel {} is not exactly silent (peak {peak})",
                ch % 2
            );
        }
    }
    // The song's frame i on Click at output frame latency + i: the delay
    // main has, so click stays in time with the music.
    for ch in [2, 3] {
        let first = off[ch].iter().position(|&v| v != 0.0).expect("a click");
        let want = (0..frames).position(|i| click(i) != 0.0).unwrap() + latency;
        assert_eq!(first, want, "click onset at the reported latency");
        for i in 0..frames {
            let got = off[ch][latency + i];
            assert!(
                (got - click(i)).abs() <= 1e-6,
                "frame {i}: {got} vs {}",
                click(i)
            );
        }
    }
    for ch in 0..18 {
        assert!(
            on[ch] == off[ch],
            "{} channel {}: auto-master on changed it",
            BUS_NAMES[ch / 2],
            ch % 2
        );
    }
}
