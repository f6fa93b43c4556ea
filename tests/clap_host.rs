//! The real bundled CLAP plugin (`target/bundled/trax.clap`) in a small
//! host built on clack-host: a note-on renders exactly what the library's
//! offline render of that song gives (at 44.1, 48 and 96 kHz, block sizes
//! 1, 17, 512, 2027 and 4096); state save → load → save is byte-identical;
//! empty and random state bytes are refused without a panic; random
//! parameter/note/program sequences give finite, subnormal-free output; a
//! note for a song beyond the setlist is ignored. With `follow` on, the
//! output at host position X is the song's frame X (start, jump, stop, paced
//! in real time); re-activation at another rate or block size, 8 kHz ..
//! 192 kHz and odd rates with blocks 1 and 16384 render exactly;
//! instantiation and state loads are fast and touch no file; a missing
//! setlist or stem is logged (stderr, read from a child process) and the
//! rest plays exactly; a note before the setlist loaded plays once it is;
//! a session saved while playing reopens silent. Follow host from pre-roll
//! positions starts on host frame 0 exactly; a bounce in the realtime
//! process mode at full speed (Ardour's export) is `trax render` bit for
//! bit, and realtime bursts never wait; a preset load that sets every
//! parameter at once does not allocate.
//!
//! Debugging: `TRAX_CLAP=/path/to/trax.clap` loads another bundle,
//! `TRAX_CLAP_MATRIX="48000:512,96000:1"` runs only those render cells and
//! `TRAX_CLAP_DIAG=1` prints the random sequences' events and slow realtime
//! process calls.
//!
//! The bundle is the test build's plugin (debug, with nice-plug's
//! `assert_process_allocs`), laid out in `target/bundled` by `cargo xtask
//! test`. Without it the tests fail, unless `TRAX_ALLOW_SKIP=1` (outside
//! CI), when they print "SKIPPED: ..." and pass.
//!
//! Modules: [`render`] (the render matrix), [`follow`] (host transport at
//! real time), [`preroll`] (follow from negative positions), [`bounce`]
//! (bounces without the offline flag, realtime bursts), [`lifecycle`]
//! (activations, rates, instantiation, moved files), [`early_start`]
//! (starts before the setlist loaded, reopened sessions); [`paced`] and
//! [`drive`] hold the realtime helpers and the host timeline; [`preset`]
//! loads presets that set every parameter at once.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::clap_host::{
    bundle_or_skip, param_hash, ClapBundle, ClapInstance, HostEvent, ParamInfo, Transport,
};
use common::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const PLUGIN_ID: &str = "org.trax.trax";

/// The key that starts song 0 with the default `base_note`.
const DEFAULT_BASE_NOTE: u8 = 36;

/// The corpus song the render matrix plays (0-based):
/// `05_planetblupi_music003_96k`, 6 stems.
const MATRIX_SONG: usize = 4;

/// The note's position in the host timeline: past the first block at every
/// block size and aligned with none of them (except 1).
const NOTE_FRAME: usize = 1000 + 337;

/// The corpus setlist (JSON form; stem paths relative to it).
fn corpus_setlist() -> PathBuf {
    corpus().join("setlist.json")
}

fn load_bundle(test: &str) -> Option<ClapBundle> {
    let path = bundle_or_skip(test)?;
    Some(ClapBundle::load(&path).expect("load trax.clap"))
}

fn new_instance(bundle: &ClapBundle) -> ClapInstance {
    bundle.create(PLUGIN_ID).expect("create org.trax.trax")
}

/// Splits nice-plug's CLAP state (8-byte little-endian length, then that
/// many bytes of JSON) into its JSON value.
fn parse_state(bytes: &[u8]) -> serde_json::Value {
    assert!(
        bytes.len() >= 8,
        "state of {} bytes has no length prefix",
        bytes.len()
    );
    let (len, json) = bytes.split_at(8);
    let len = u64::from_le_bytes(len.try_into().expect("8 bytes"));
    assert_eq!(len as usize, json.len(), "state length prefix");
    serde_json::from_slice(json).expect("state is JSON")
}

/// The inverse of [`parse_state`].
fn encode_state(value: &serde_json::Value) -> Vec<u8> {
    let json = serde_json::to_vec(value).expect("state to JSON");
    let mut out = (json.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&json);
    out
}

/// The plugin's current state with `fields.setlist` pointing at `setlist`
/// (a field value is the field's own JSON, so the path is a JSON string
/// inside a JSON string).
fn state_with_setlist(inst: &mut ClapInstance, setlist: &Path) -> Vec<u8> {
    let mut state = parse_state(&inst.save_state().expect("save_state"));
    let path = setlist.to_str().expect("UTF-8 setlist path");
    let field = serde_json::to_string(path).expect("path to JSON");
    let obj = state.as_object_mut().expect("state is a JSON object");
    let fields = obj
        .entry("fields")
        .or_insert_with(|| serde_json::json!({}))
        .as_object_mut()
        .expect("state.fields is an object");
    fields.insert("setlist".into(), serde_json::Value::String(field));
    encode_state(&state)
}

/// Points the plugin at `setlist` through its state.
fn set_setlist(inst: &mut ClapInstance, setlist: &Path) {
    let bytes = state_with_setlist(inst, setlist);
    assert!(
        inst.load_state(&bytes),
        "the plugin refused its own state with fields.setlist = {}",
        setlist.display()
    );
}

/// The key that starts `song` (0-based), from the plugin's `base_note`.
fn key_for_song(inst: &mut ClapInstance, song: usize) -> u8 {
    let base = inst
        .param_value(param_hash("base_note"))
        .map_or(DEFAULT_BASE_NOTE, |v| v.round() as u8);
    base + song as u8
}

mod bounce;
mod buses;
mod drive;
mod early_start;
mod follow;
mod gui;
mod lifecycle;
mod main_thread;
mod paced;
mod preroll;
mod preset;
mod render;
mod reset;

use drive::*;
use paced::*;
use render::{best_lag, compare_run, plugin_render, render_note};

#[test]
fn ports_params_and_plugin_id() {
    let Some(bundle) = load_bundle("ports_params_and_plugin_id") else {
        return;
    };
    assert!(
        bundle.plugin_ids().iter().any(|id| id == PLUGIN_ID),
        "plugin ids: {:?}",
        bundle.plugin_ids()
    );
    let mut inst = new_instance(&bundle);
    let ports = inst.ports();
    assert!(ports.audio_inputs.is_empty(), "audio inputs: {ports:?}");
    assert_eq!(
        ports.audio_outputs,
        vec![2; 9],
        "main and 8 aux outputs: {ports:?}"
    );
    assert!(
        ports.note_inputs.first().is_some_and(|d| d & 1 != 0),
        "note input port 0 with the CLAP dialect: {ports:?}"
    );
    let params = inst.params();
    for id in ["play", "song", "gain_db", "follow", "base_note"] {
        assert!(
            params.iter().any(|p| p.id == param_hash(id)),
            "no parameter {id:?} (id {}) in {params:?}",
            param_hash(id)
        );
    }
    let base = inst
        .param_value(param_hash("base_note"))
        .expect("base_note value");
    // nice-plug reports stepped values as an f32 normalised value times the
    // step count, so 36 comes back as 36.0000018.
    assert!((base - 36.0).abs() < 1e-3, "base_note default: {base}");
    for p in &params {
        eprintln!(
            "param {:>10} id {:>10} range {} ..= {} default {} flags {:#x}",
            p.name, p.id, p.min, p.max, p.default, p.flags
        );
    }
}

#[test]
fn state_save_load_save_is_byte_identical() {
    let Some(bundle) = load_bundle("state_save_load_save_is_byte_identical") else {
        return;
    };
    let setlist = corpus_setlist();
    let mut inst = new_instance(&bundle);
    set_setlist(&mut inst, &setlist);
    let first = inst.save_state().expect("save 1");
    let state = parse_state(&first);
    let field = state["fields"]["setlist"].as_str().map(str::to_owned);
    let expected = serde_json::to_string(setlist.to_str().expect("UTF-8")).expect("JSON");
    assert_eq!(
        field.as_deref(),
        Some(expected.as_str()),
        "fields.setlist after loading it: {state}"
    );
    assert!(inst.load_state(&first), "load of the plugin's own state");
    let second = inst.save_state().expect("save 2");
    assert!(
        first == second,
        "save → load → save differs:\n{}\n{}",
        String::from_utf8_lossy(&first[8..]),
        String::from_utf8_lossy(&second[8..])
    );
    // Also across instances, and while active.
    let mut other = new_instance(&bundle);
    assert!(
        other.load_state(&first),
        "a second instance loads the state"
    );
    other.activate(48_000.0, 512, false).expect("activate");
    other.process(512, &[]).expect("process");
    assert!(other.load_state(&first), "load while active");
    other.process(512, &[]).expect("process");
    assert_eq!(
        other.save_state().expect("save 3"),
        first,
        "second instance's state"
    );
}

/// Every sample finite and either 0 or normal.
pub(super) fn check_clean(out: &[f32], what: &str) {
    if let Some(i) = out
        .iter()
        .position(|v| !v.is_finite() || (*v != 0.0 && v.abs() < f32::MIN_POSITIVE))
    {
        panic!(
            "{what}: sample {i} is {:e} ({:?})",
            out[i],
            out[i].classify()
        );
    }
}

#[test]
fn empty_and_random_state_is_refused() {
    let Some(bundle) = load_bundle("empty_and_random_state_is_refused") else {
        return;
    };
    let mut rng = StdRng::seed_from_u64(0x57a7e);
    let mut inst = new_instance(&bundle);
    set_setlist(&mut inst, &corpus_setlist());
    let before = inst.save_state().expect("save");
    let mut blobs: Vec<Vec<u8>> = vec![Vec::new()];
    for i in 0..20 {
        let len = rng.gen_range(1..4096usize);
        let mut blob: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        // Some blobs carry a correct length prefix, some JSON-ish text, so
        // the JSON parser (not only the length check) sees garbage.
        if i % 3 == 1 && len > 8 {
            blob[..8].copy_from_slice(&((len - 8) as u64).to_le_bytes());
        }
        if i % 3 == 2 && len > 16 {
            blob[..8].copy_from_slice(&((len - 8) as u64).to_le_bytes());
            blob[8..16].copy_from_slice(b"{\"params");
        }
        blobs.push(blob);
    }
    // A truncated copy of a valid state, too.
    blobs.push(before[..before.len() / 2].to_vec());
    for (i, blob) in blobs.iter().enumerate() {
        assert!(
            !inst.load_state(blob),
            "state blob {i} ({} bytes) was accepted",
            blob.len()
        );
    }
    assert_eq!(
        inst.save_state().expect("save"),
        before,
        "refused states changed the plugin's state"
    );
    inst.activate(48_000.0, 512, false).expect("activate");
    let key = key_for_song(&mut inst, 0);
    for b in 0..20 {
        let events: &[HostEvent] = if b == 1 {
            &[HostEvent::NoteOn {
                time: 5,
                key,
                velocity: 1.0,
            }]
        } else {
            &[]
        };
        let [l, r] = inst.process(512, events).expect("process");
        check_clean(&l, "after refused states, left");
        check_clean(&r, "after refused states, right");
        if b == 2 {
            // Garbage while active, too.
            assert!(!inst.load_state(&blobs[3]), "blob 3 accepted while active");
        }
    }
}

/// One random parameter value in the parameter's CLAP range.
pub(super) fn random_value(rng: &mut StdRng, p: &ParamInfo) -> f64 {
    if p.is_stepped() {
        rng.gen_range(p.min.round() as i64..=p.max.round() as i64) as f64
    } else {
        match rng.gen_range(0..6) {
            0 => p.min,
            1 => p.max,
            _ => rng.gen_range(p.min..=p.max),
        }
    }
}

#[test]
fn random_parameter_sequences_are_finite_and_normal() {
    let Some(bundle) = load_bundle("random_parameter_sequences_are_finite_and_normal") else {
        return;
    };
    let setlist = corpus_setlist();
    let started = Instant::now();
    let mut sequences_with_sound = 0u32;
    for seq in 0..50u64 {
        let mut rng = StdRng::seed_from_u64(0x9a2a_0000 + seq);
        let mut inst = new_instance(&bundle);
        if seq % 5 != 4 {
            set_setlist(&mut inst, &setlist);
        }
        let params: Vec<ParamInfo> = inst
            .params()
            .into_iter()
            .filter(|p| !p.is_read_only())
            .collect();
        assert!(!params.is_empty(), "no writable parameters");
        let rate = [44_100.0, 48_000.0, 96_000.0][rng.gen_range(0..3)];
        let max_block = [64u32, 512, 1024, 4096][rng.gen_range(0..4)];
        // Half offline (waits for the loader, so notes sound at once), half
        // realtime (with a short pause per block so the loader gets going).
        let offline = seq % 2 == 0;
        inst.activate(rate, max_block, offline).expect("activate");
        let mut transport = Transport {
            playing: false,
            pos_frames: 0,
        };
        let with_transport = rng.gen_bool(0.5);
        let mut sounded = false;
        let mut base_note = i32::from(DEFAULT_BASE_NOTE);
        for b in 0..16 {
            let frames = rng.gen_range(1..=max_block);
            let mut events = Vec::new();
            for _ in 0..rng.gen_range(0..8) {
                let time = rng.gen_range(0..frames);
                let e = match rng.gen_range(0..10) {
                    0..=5 => {
                        let p = &params[rng.gen_range(0..params.len())];
                        HostEvent::ParamValue {
                            time,
                            id: p.id,
                            value: random_value(&mut rng, p),
                        }
                    }
                    6 | 7 => HostEvent::NoteOn {
                        time,
                        // Half of them near the song keys (36 + 0..6 and
                        // a little beyond), half anywhere.
                        key: if rng.gen_bool(0.5) {
                            (base_note + rng.gen_range(-2..10)).clamp(0, 127) as u8
                        } else {
                            rng.gen_range(0..128)
                        },
                        velocity: rng.gen_range(0.0..=1.0),
                    },
                    8 => HostEvent::NoteOff {
                        time,
                        key: rng.gen_range(0..128),
                        velocity: 0.0,
                    },
                    _ => HostEvent::Midi {
                        time,
                        bytes: [0xC0 | rng.gen_range(0..16u8), rng.gen_range(0..128), 0],
                    },
                };
                events.push(e);
            }
            events.sort_by_key(HostEvent::time);
            // Later notes aim at songs from the base note as of this block.
            for e in &events {
                if let HostEvent::ParamValue { id, value, .. } = *e {
                    if id == param_hash("base_note") {
                        base_note = value.round() as i32;
                    }
                }
            }
            if rng.gen_bool(0.2) {
                transport.playing = !transport.playing;
            }
            if rng.gen_bool(0.1) {
                transport.pos_frames = rng.gen_range(0..(rate as i64 * 60));
            }
            let t = with_transport.then_some(transport);
            if std::env::var("TRAX_CLAP_DIAG").is_ok() {
                eprintln!("  seq {seq} block {b}: {events:?} {t:?}");
            }
            let call = Instant::now();
            let [l, r] = inst
                .process_with_transport(frames, &events, t)
                .unwrap_or_else(|e| panic!("sequence {seq}, block {b}: {e}"));
            // Realtime calls never wait; offline ones wait for the loader,
            // which needs well under a second for the corpus setlist.
            let limit = Duration::from_secs(if offline { 10 } else { 1 });
            assert!(
                call.elapsed() <= limit,
                "sequence {seq} (offline {offline}, {rate} Hz), block {b}: one process call \
                 took {:.1} s; events {events:?}",
                call.elapsed().as_secs_f64()
            );
            let what = format!(
                "sequence {seq} ({rate} Hz, {frames}-frame block {b}, offline {offline}, events {events:?})"
            );
            check_clean(&l, &format!("{what}, left"));
            check_clean(&r, &format!("{what}, right"));
            sounded |= l.iter().chain(&r).any(|&v| v != 0.0);
            if transport.playing {
                transport.pos_frames += i64::from(frames);
            }
            if !offline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        sequences_with_sound += u32::from(sounded);
        if std::env::var("TRAX_CLAP_DIAG").is_ok() {
            let vals: Vec<String> = params
                .iter()
                .map(|p| {
                    format!(
                        "{}={:.2}",
                        p.name,
                        inst.param_value(p.id).unwrap_or(f64::NAN)
                    )
                })
                .collect();
            eprintln!("seq {seq}: offline {offline} transport {with_transport} sounded {sounded} {vals:?}");
        }
        inst.deactivate();
    }
    eprintln!(
        "50 random sequences: {sequences_with_sound} made sound, {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // Silence is trivially clean: most sequences must have played audio.
    assert!(
        sequences_with_sound >= 20,
        "only {sequences_with_sound} of 50 random sequences made any sound"
    );
}

#[test]
fn note_beyond_the_setlist_is_ignored() {
    let Some(bundle) = load_bundle("note_beyond_the_setlist_is_ignored") else {
        return;
    };
    let setlist = corpus_setlist();
    for offline in [false, true] {
        let mut inst = new_instance(&bundle);
        set_setlist(&mut inst, &setlist);
        // The corpus setlist has 6 songs: song 7 and song 100 do not exist.
        let beyond = [key_for_song(&mut inst, 6), key_for_song(&mut inst, 99)];
        inst.activate(48_000.0, 512, offline).expect("activate");
        let deadline = Instant::now() + Duration::from_secs(60);
        for b in 0..200 {
            let events: Vec<HostEvent> = match b {
                0 => vec![HostEvent::NoteOn {
                    time: 100,
                    key: beyond[0],
                    velocity: 1.0,
                }],
                50 => vec![HostEvent::NoteOn {
                    time: 7,
                    key: beyond[1],
                    velocity: 1.0,
                }],
                _ => Vec::new(),
            };
            let [l, r] = inst.process(512, &events).expect("process");
            if let Some(i) = l.iter().chain(&r).position(|&v| v != 0.0) {
                panic!(
                    "offline {offline}: a note for a song beyond the setlist made sound: block {b}, \
                     sample {i}"
                );
            }
            assert!(
                Instant::now() < deadline,
                "offline {offline}: processing stalled after a note beyond the setlist"
            );
        }
        // The plugin still plays a real song afterwards.
        let key = key_for_song(&mut inst, MATRIX_SONG);
        let mut heard = false;
        for b in 0..200 {
            let events: &[HostEvent] = if b == 0 {
                &[HostEvent::NoteOn {
                    time: 0,
                    key,
                    velocity: 1.0,
                }]
            } else {
                &[]
            };
            let [l, r] = inst.process(512, events).expect("process");
            check_clean(&l, "after the ignored notes");
            heard |= l.iter().chain(&r).any(|&v| v != 0.0);
            if heard {
                break;
            }
            if !offline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        assert!(
            heard,
            "offline {offline}: a valid song was silent after the ignored notes"
        );
    }
}
