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
//! rest plays exactly; a note before the setlist loaded plays once it is.
//!
//! Debugging: `TRAX_CLAP=/path/to/trax.clap` loads another bundle,
//! `TRAX_CLAP_MATRIX="48000:512,96000:1"` runs only those render cells and
//! `TRAX_CLAP_DIAG=1` prints the random sequences' events and slow realtime
//! process calls.
//!
//! The bundle is built by `cargo xtask bundle trax --features
//! assert_process_allocs` (`cargo xtask test` does it first). Without it
//! the tests fail, unless `TRAX_ALLOW_SKIP=1` (outside CI), when they print
//! "SKIPPED: ..." and pass.

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

/// Runs the plugin offline at `rate` with `block`-frame calls, a note-on
/// for `song` at [`NOTE_FRAME`], for `NOTE_FRAME + frames` frames;
/// returns interleaved stereo from frame 0.
fn plugin_render(
    bundle: &ClapBundle,
    setlist: &Path,
    song: usize,
    rate: u32,
    block: usize,
    frames: usize,
) -> Vec<f32> {
    let mut inst = new_instance(bundle);
    set_setlist(&mut inst, setlist);
    let key = key_for_song(&mut inst, song);
    inst.activate(f64::from(rate), block as u32, true)
        .expect("activate offline");
    inst.start_processing().expect("start_processing");
    let out = render_note(&mut inst, key, block, frames);
    inst.deactivate();
    out
}

/// On an active instance: `block`-frame calls, a note-on for `key` at
/// [`NOTE_FRAME`], for `NOTE_FRAME + frames` frames; returns interleaved
/// stereo from frame 0.
fn render_note(inst: &mut ClapInstance, key: u8, block: usize, frames: usize) -> Vec<f32> {
    let rate = inst.rate_hz();
    let total = NOTE_FRAME + frames;
    let mut out = Vec::with_capacity(total * 2);
    let mut l = vec![0.0f32; block];
    let mut r = vec![0.0f32; block];
    let mut pos = 0usize;
    while pos < total {
        let n = block.min(total - pos);
        let events: &[HostEvent] = if (pos..pos + n).contains(&NOTE_FRAME) {
            &[HostEvent::NoteOn {
                time: (NOTE_FRAME - pos) as u32,
                key,
                velocity: 1.0,
            }]
        } else {
            &[]
        };
        let t = Instant::now();
        inst.process_into(&mut l[..n], &mut r[..n], events, None)
            .expect("process");
        if t.elapsed() > Duration::from_secs(1) {
            eprintln!(
                "{rate} Hz, block {block}: process call at frame {pos} took {:.1} s",
                t.elapsed().as_secs_f64()
            );
        }
        for i in 0..n {
            out.push(l[i]);
            out.push(r[i]);
        }
        pos += n;
    }
    out
}

/// Checks one matrix run; returns a description of the failure.
fn compare_run(out: &[f32], reference: &[f32], label: &str) -> Result<f32, String> {
    let pre = &out[..NOTE_FRAME * 2];
    if let Some(i) = pre.iter().position(|&v| v != 0.0) {
        return Err(format!(
            "{label}: output before the note (frame {NOTE_FRAME}) is not silent: frame {} = {:e}",
            i / 2,
            pre[i]
        ));
    }
    let post = &out[NOTE_FRAME * 2..];
    // A NaN counts as an infinite error (f32::max would drop it).
    let diff = |a: f32, b: f32| {
        let d = (a - b).abs();
        if d.is_nan() {
            f32::INFINITY
        } else {
            d
        }
    };
    let err = post
        .iter()
        .zip(reference)
        .map(|(&a, &b)| diff(a, b))
        .fold(0.0, f32::max);
    if post.len() != reference.len() || err > MINUS_90_DBFS {
        let first = post
            .iter()
            .zip(reference)
            .position(|(&a, &b)| diff(a, b) > MINUS_90_DBFS)
            .map_or(usize::MAX, |i| i / 2);
        // Is it the same audio shifted? Find the best small lag.
        let lag = best_lag(post, reference, 4096);
        let around: Vec<String> = (first.saturating_sub(2)..first.saturating_add(3))
            .filter(|&f| f * 2 + 1 < post.len().min(reference.len()))
            .map(|f| {
                format!(
                    "frame {f}: plugin [{:.6}, {:.6}] reference [{:.6}, {:.6}]",
                    post[f * 2],
                    post[f * 2 + 1],
                    reference[f * 2],
                    reference[f * 2 + 1]
                )
            })
            .collect();
        let bad_frames = post
            .chunks_exact(2)
            .zip(reference.chunks_exact(2))
            .filter(|(a, b)| diff(a[0], b[0]).max(diff(a[1], b[1])) > MINUS_90_DBFS)
            .count();
        let first_sound = |x: &[f32]| x.iter().position(|&v| v != 0.0).map(|i| i / 2);
        return Err(format!(
            "{label}: max |plugin - reference| = {err:e} (> {MINUS_90_DBFS:e}); first bad frame \
             after the note: {first}; {bad_frames} bad frames; first non-zero frame after the \
             note: plugin {:?}, reference {:?}; best-matching lag {lag:?} frames; \
             lengths {} vs {}\n  {}",
            first_sound(post),
            first_sound(reference),
            post.len() / 2,
            reference.len() / 2,
            around.join("\n  ")
        ));
    }
    Ok(err)
}

/// The lag (plugin output later by +lag frames) within ±`max` where the
/// outputs agree best over the first 48000 frames, and its error.
fn best_lag(out: &[f32], reference: &[f32], max: i64) -> Option<(i64, f32)> {
    let frames = (out.len().min(reference.len()) / 2).min(48_000) as i64;
    let mut best: Option<(i64, f32)> = None;
    for lag in -max..=max {
        let mut err = 0.0f32;
        for i in (0..frames).step_by(7) {
            let j = i + lag;
            if j < 0 || j >= frames {
                continue;
            }
            let (a, b) = (out[j as usize * 2], reference[i as usize * 2]);
            err = err.max((a - b).abs());
        }
        if best.is_none_or(|(_, e)| err < e) {
            best = Some((lag, err));
        }
    }
    best
}

#[test]
fn note_on_renders_like_trax_render() {
    let Some(bundle) = load_bundle("note_on_renders_like_trax_render") else {
        return;
    };
    let setlist = corpus_setlist();
    let started = Instant::now();
    let mut failures = Vec::new();
    // TRAX_CLAP_MATRIX="48000:512,96000:1" runs only those cells (debugging).
    let only = std::env::var("TRAX_CLAP_MATRIX").ok();
    let selected = |rate: u32, block: usize| {
        only.as_deref().is_none_or(|o| {
            o.split(',')
                .any(|cell| cell.trim() == format!("{rate}:{block}"))
        })
    };
    for rate in [44_100u32, 48_000, 96_000] {
        if !(1..=4096).any(|b| selected(rate, b)) {
            continue;
        }
        let secs = 3usize;
        let reference = reference_render(&setlist, MATRIX_SONG, rate, secs * rate as usize);
        assert!(
            reference.iter().any(|&v| v != 0.0),
            "reference render of song {} at {rate} Hz is silent",
            MATRIX_SONG + 1
        );
        for block in [1usize, 17, 512, 2027, 4096] {
            if !selected(rate, block) {
                continue;
            }
            // Block size 1 is a process call per frame; at ~2 µs a call the
            // full stretch is cheap enough.
            let frames = secs * rate as usize;
            let t = Instant::now();
            let out = plugin_render(&bundle, &setlist, MATRIX_SONG, rate, block, frames);
            let label = format!("{rate} Hz, block {block}");
            match compare_run(&out, &reference[..frames * 2], &label) {
                Ok(err) => eprintln!(
                    "{label}: ok, max error {err:e}, {:.2} s",
                    t.elapsed().as_secs_f64()
                ),
                Err(msg) => {
                    eprintln!("{msg}");
                    failures.push(msg);
                }
            }
        }
    }
    eprintln!("render matrix: {:.1} s", started.elapsed().as_secs_f64());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

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
    assert_eq!(ports.audio_outputs, vec![2], "audio outputs: {ports:?}");
    assert!(
        ports.note_inputs.first().is_some_and(|d| d & 1 != 0),
        "note input port 0 with the CLAP dialect: {ports:?}"
    );
    let params = inst.params();
    for id in ["play", "song", "gain", "follow", "base_note"] {
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
fn check_clean(out: &[f32], what: &str) {
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
fn random_value(rng: &mut StdRng, p: &ParamInfo) -> f64 {
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

// ---------------------------------------------------------------------------
// Host transport, activations, rates, instantiation, missing files, early
// notes.
// ---------------------------------------------------------------------------

/// Frames of the engine's 10 ms fades (start mid-song, seek crossfade,
/// stop) at `rate`.
fn fade_frames(rate: u32) -> usize {
    trax::engine::declick::frames_for(trax::engine::declick::CROSSFADE_SECS, rate) as usize
}

/// Sleeps so that block after block arrives no faster than real time (a
/// host's audio thread).
struct Pacer {
    start: Instant,
    rate: f64,
    frames: u64,
}

impl Pacer {
    fn new(rate: f64) -> Self {
        Self {
            start: Instant::now(),
            rate,
            frames: 0,
        }
    }

    fn advance(&mut self, frames: usize) {
        self.frames += frames as u64;
        let due = self.start + Duration::from_secs_f64(self.frames as f64 / self.rate);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
}

/// Paced realtime processing of `frames` frames in `block`-frame calls
/// with the host transport at `*pos` (advanced while `playing`) and
/// `first_events` in the first call; returns interleaved stereo. Keeps the
/// longest call in `max_call`.
#[allow(clippy::too_many_arguments)]
fn run_paced(
    inst: &mut ClapInstance,
    pacer: &mut Pacer,
    block: usize,
    frames: usize,
    pos: &mut i64,
    playing: Option<bool>,
    first_events: &[HostEvent],
    max_call: &mut Duration,
) -> Vec<f32> {
    let mut out = Vec::with_capacity(frames * 2);
    let mut l = vec![0.0f32; block];
    let mut r = vec![0.0f32; block];
    let mut done = 0usize;
    while done < frames {
        let n = block.min(frames - done);
        let transport = playing.map(|playing| Transport {
            playing,
            pos_frames: *pos,
        });
        let events = if done == 0 { first_events } else { &[] };
        let t = Instant::now();
        inst.process_into(&mut l[..n], &mut r[..n], events, transport)
            .expect("process");
        *max_call = (*max_call).max(t.elapsed());
        if std::env::var("TRAX_CLAP_DIAG").is_ok() && t.elapsed() > Duration::from_millis(2) {
            eprintln!(
                "DIAG slow call {:.2} ms at block frame {done} pos {pos} playing {playing:?}",
                t.elapsed().as_secs_f64() * 1e3
            );
        }
        for i in 0..n {
            out.push(l[i]);
            out.push(r[i]);
        }
        if playing == Some(true) {
            *pos += n as i64;
        }
        done += n;
        pacer.advance(n);
    }
    out
}

/// Compares frames `from..to` of `out` with `reference` from frame
/// `ref_start` on: (max error, first bad frame, bad frames). Frames beyond
/// the reference compare against silence.
fn segment_error(
    out: &[f32],
    from: usize,
    to: usize,
    reference: &[f32],
    ref_start: usize,
) -> (f32, Option<usize>, usize) {
    let mut max = 0.0f32;
    let mut first = None;
    let mut bad = 0usize;
    for f in from..to.min(out.len() / 2) {
        for c in 0..2 {
            let a = out[f * 2 + c];
            let b = reference
                .get((ref_start + f) * 2 + c)
                .copied()
                .unwrap_or(0.0);
            let d = if (a - b).is_nan() {
                f32::INFINITY
            } else {
                (a - b).abs()
            };
            max = max.max(d);
            if d > MINUS_90_DBFS {
                first.get_or_insert(f);
                bad += usize::from(c == 0);
            }
        }
    }
    (max, first, bad)
}

fn first_sound(x: &[f32]) -> Option<usize> {
    x.iter().position(|&v| v != 0.0).map(|i| i / 2)
}

fn last_sound(x: &[f32]) -> Option<usize> {
    x.iter().rposition(|&v| v != 0.0).map(|i| i / 2)
}

/// One `follow` run at 48 kHz: `preroll` frames with the host stopped at
/// `start_pos`, then 1.2 s playing from there, a jump to `jump_pos` and
/// 1 s more, then the host stops (0.3 s). Returns a summary, or the
/// failures.
fn follow_run(
    bundle: &ClapBundle,
    setlist: &Path,
    reference: &[f32],
    preroll: usize,
    onset_limit_ms: f64,
) -> Result<String, Vec<String>> {
    const RATE: u32 = 48_000;
    const BLOCK: usize = 512;
    let start_pos = 2 * RATE as i64;
    let jump_pos = 10 * RATE as i64;
    let ms = |frames: usize| frames as f64 * 1000.0 / f64::from(RATE);
    let fade = fade_frames(RATE);
    let label = format!("follow (preroll {:.0} ms)", ms(preroll));
    let mut failures = Vec::new();
    let mut inst = new_instance(bundle);
    set_setlist(&mut inst, setlist);
    inst.param_flush(&[HostEvent::ParamValue {
        time: 0,
        id: param_hash("follow"),
        value: 1.0,
    }])
    .expect("param_flush follow");
    inst.activate(f64::from(RATE), BLOCK as u32, false)
        .expect("activate");
    let mut pacer = Pacer::new(f64::from(RATE));
    let mut max_call = Duration::ZERO;
    let mut pos = start_pos;

    // Host stopped.
    if preroll > 0 {
        let out0 = run_paced(
            &mut inst,
            &mut pacer,
            BLOCK,
            preroll,
            &mut pos,
            Some(false),
            &[],
            &mut max_call,
        );
        if let Some(f) = first_sound(&out0) {
            failures.push(format!(
                "{label}: sound at frame {f} while the host transport is stopped"
            ));
        }
    }

    // Host plays from 2 s.
    let len1 = (1.2 * f64::from(RATE)) as usize;
    let out1 = run_paced(
        &mut inst,
        &mut pacer,
        BLOCK,
        len1,
        &mut pos,
        Some(true),
        &[],
        &mut max_call,
    );
    let onset = first_sound(&out1);
    let mut summary = format!("{label}:");
    match onset {
        None => failures.push(format!(
            "{label}: silent for all {:.0} ms after the host started playing at frame {start_pos}",
            ms(len1)
        )),
        Some(onset) => {
            summary += &format!(" onset {:.1} ms", ms(onset));
            if ms(onset) > onset_limit_ms {
                failures.push(format!(
                    "{label}: first sound {:.1} ms after the host started playing (limit {onset_limit_ms} ms)",
                    ms(onset)
                ));
            }
            // During the fade-in the output is the reference scaled by 0..1.
            let louder = (onset..(onset + fade + 2).min(len1))
                .flat_map(|f| [f * 2, f * 2 + 1])
                .filter(|&i| {
                    let b = reference
                        .get(start_pos as usize * 2 + i)
                        .copied()
                        .unwrap_or(0.0);
                    out1[i].abs() > b.abs() + MINUS_90_DBFS
                })
                .count();
            if louder > 0 {
                failures.push(format!(
                    "{label}: {louder} samples of the start fade are louder than the reference at the host position"
                ));
            }
            let from = onset + fade + 4;
            let (err, first, bad) = segment_error(&out1, from, len1, reference, start_pos as usize);
            summary += &format!(", in step max error {err:.2e}");
            if let Some(first) = first {
                let lag = best_lag(
                    &out1[from * 2..],
                    &reference[(start_pos as usize + from) * 2..],
                    2048,
                );
                failures.push(format!(
                    "{label}: after the start, output at host frame X != reference[X]: max error {err:e}, \
                     {bad} bad frames, first at {:.1} ms after the host started (onset {:.1} ms); best lag {lag:?}",
                    ms(first),
                    ms(onset)
                ));
            }
        }
    }

    // Host jumps to 10 s.
    let old_pos = pos;
    pos = jump_pos;
    let len2 = RATE as usize;
    let out2 = run_paced(
        &mut inst,
        &mut pacer,
        BLOCK,
        len2,
        &mut pos,
        Some(true),
        &[],
        &mut max_call,
    );
    let (_, first_bad, _) = segment_error(&out2, 0, len2, reference, jump_pos as usize);
    // Settled: the last frame that differs from the reference at the new
    // host position, plus one.
    let settle = (0..len2)
        .rev()
        .find(|&f| {
            segment_error(&out2, f, f + 1, reference, jump_pos as usize)
                .1
                .is_some()
        })
        .map_or(0, |f| f + 1);
    summary += &format!(", jump settled {:.1} ms", ms(settle));
    if first_bad.is_some() && ms(settle) > 200.0 {
        failures.push(format!(
            "{label}: after the host jumped {old_pos} -> {jump_pos}, the output matched the reference at the \
             new host position only from {:.1} ms (limit 200 ms); last sound in the jump window {:?} ms",
            ms(settle),
            last_sound(&out2).map(ms)
        ));
    } else if first_bad.is_some() && onset.is_some() {
        // Before the crossfade the old position plays on, in step with
        // itself.
        let xfade_start = settle.saturating_sub(fade + 2);
        let (err, first, bad) = segment_error(&out2, 0, xfade_start, reference, old_pos as usize);
        if let Some(first) = first {
            failures.push(format!(
                "{label}: before the seek crossfade (0 .. {:.1} ms after the jump) the output is not the old \
                 position playing on: max error {err:e}, {bad} bad frames from {:.1} ms",
                ms(xfade_start),
                ms(first)
            ));
        }
    }
    if ms(settle) >= ms(len2) - 300.0 {
        failures.push(format!(
            "{label}: under 300 ms of in-step output after the jump (settled at {:.1} ms)",
            ms(settle)
        ));
    }

    // Host stops.
    let len3 = (0.3 * f64::from(RATE)) as usize;
    let stop_pos = pos;
    let out3 = run_paced(
        &mut inst,
        &mut pacer,
        BLOCK,
        len3,
        &mut pos,
        Some(false),
        &[],
        &mut max_call,
    );
    let last = last_sound(&out3);
    summary += &format!(
        ", silent {:.1} ms after stop",
        last.map_or(0.0, |f| ms(f + 1))
    );
    if let Some(last) = last {
        if last > fade + 2 {
            failures.push(format!(
                "{label}: after the host stopped (at frame {stop_pos}) sound goes on to {:.1} ms (fade {:.1} ms)",
                ms(last),
                ms(fade)
            ));
        }
    }
    let louder = (0..(fade + 2).min(len3))
        .flat_map(|f| [f * 2, f * 2 + 1])
        .filter(|&i| {
            let b = reference
                .get(stop_pos as usize * 2 + i)
                .copied()
                .unwrap_or(0.0);
            out3[i].abs() > b.abs() + MINUS_90_DBFS
        })
        .count();
    if louder > 0 {
        failures.push(format!(
            "{label}: {louder} samples of the stop fade are louder than the reference"
        ));
    }
    summary += &format!(
        ", longest process call {:.2} ms",
        max_call.as_secs_f64() * 1e3
    );
    if max_call > Duration::from_millis(50) {
        failures.push(format!(
            "{label}: a realtime process call took {:.1} ms",
            max_call.as_secs_f64() * 1e3
        ));
    }
    if failures.is_empty() {
        Ok(summary)
    } else {
        failures.push(summary);
        Err(failures)
    }
}

#[test]
fn follow_host_transport() {
    let Some(bundle) = load_bundle("follow_host_transport") else {
        return;
    };
    let setlist = corpus_setlist();
    let t = Instant::now();
    // Song 1 (the default selection) up to 11.5 s: the jump goes to 10 s.
    let reference = reference_render(&setlist, 0, 48_000, 48_000 * 23 / 2);
    eprintln!(
        "follow: reference render {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let mut failures = Vec::new();
    // The host starts playing 0.5 s after activation (setlist loaded), and
    // with the first process call (the setlist is still being probed).
    for (preroll, onset_limit_ms) in [(24_000usize, 100.0), (0, 1000.0)] {
        match follow_run(&bundle, &setlist, &reference, preroll, onset_limit_ms) {
            Ok(summary) => eprintln!("{summary}"),
            Err(f) => {
                eprintln!("{}", f.join("\n"));
                failures.extend(f);
            }
        }
    }
    eprintln!("follow: {:.1} s", t.elapsed().as_secs_f64());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Activates `inst` offline at `rate` for `block`-frame calls, plays
/// `song` at [`NOTE_FRAME`] for `frames` and deactivates; returns the
/// output.
fn activation_render(
    inst: &mut ClapInstance,
    song: usize,
    rate: u32,
    block: usize,
    frames: usize,
) -> Vec<f32> {
    let key = key_for_song(inst, song);
    inst.activate(f64::from(rate), block as u32, true)
        .expect("activate offline");
    let out = render_note(inst, key, block, frames);
    inst.deactivate();
    out
}

#[test]
fn sample_rate_change_between_activations() {
    let Some(bundle) = load_bundle("sample_rate_change_between_activations") else {
        return;
    };
    let setlist = corpus_setlist();
    let started = Instant::now();
    let song = MATRIX_SONG;
    let mut inst = new_instance(&bundle);
    set_setlist(&mut inst, &setlist);
    let mut failures = Vec::new();
    let mut references: Vec<(u32, Vec<f32>)> = Vec::new();
    let mut reference = |rate: u32, frames: usize| -> Vec<f32> {
        if let Some((_, r)) = references
            .iter()
            .find(|(r, v)| *r == rate && v.len() >= frames * 2)
        {
            return r[..frames * 2].to_vec();
        }
        let r = reference_render(&setlist, song, rate, frames);
        references.push((rate, r.clone()));
        r
    };
    // Rate changes (each a new player that probes the setlist again), then
    // a rate and block change.
    for (rate, block) in [(48_000u32, 512usize), (44_100, 512), (96_000, 512)] {
        let frames = rate as usize;
        let t = Instant::now();
        let out = activation_render(&mut inst, song, rate, block, frames);
        let label = format!("re-activation at {rate} Hz, block {block}");
        match compare_run(&out, &reference(rate, frames), &label) {
            Ok(err) => eprintln!(
                "{label}: ok, max error {err:e}, {:.2} s",
                t.elapsed().as_secs_f64()
            ),
            Err(msg) => failures.push(msg),
        }
    }
    // The same rate with 16384-frame blocks: the engine is kept, so the
    // song of the previous activation may still play; the note then
    // crossfades (10 ms) to the new start.
    {
        let rate = 96_000u32;
        let block = 16_384usize;
        let prev = rate as usize; // the previous run's frames after its note
        let frames = rate as usize;
        let reference = reference(rate, prev + NOTE_FRAME + frames);
        let out = activation_render(&mut inst, song, rate, block, frames);
        let label = format!("re-activation at {rate} Hz, block {block} (same rate)");
        let pre = &out[..NOTE_FRAME * 2];
        let pre_state = if first_sound(pre).is_none() {
            "silent (playback was reset)".to_string()
        } else {
            let (err, first, _) = segment_error(pre, 0, NOTE_FRAME, &reference, prev);
            match first {
                None => format!("the previous song playing on in place (max error {err:.1e})"),
                Some(f) => {
                    failures.push(format!(
                        "{label}: before the note the output is neither silent nor the previous song \
                         continuing: max error {err:e} from frame {f}"
                    ));
                    "other".into()
                }
            }
        };
        let skip = fade_frames(rate) + 2;
        let post = &out[NOTE_FRAME * 2..];
        let (err, first, bad) = segment_error(post, skip, frames, &reference, 0);
        if let Some(f) = first {
            failures.push(format!(
                "{label}: after the note (+{skip} frames) != reference: max error {err:e}, {bad} bad frames \
                 from frame {f} after the note; first sound after the note {:?}",
                first_sound(post)
            ));
        } else {
            eprintln!("{label}: ok, max error {err:e}; before the note: {pre_state}");
        }
    }
    // A rate and block change together.
    {
        let (rate, block) = (48_000u32, 16_384usize);
        let frames = rate as usize;
        let out = activation_render(&mut inst, song, rate, block, frames);
        let label = format!("re-activation at {rate} Hz, block {block}");
        match compare_run(&out, &reference(rate, frames), &label) {
            Ok(err) => eprintln!("{label}: ok, max error {err:e}"),
            Err(msg) => failures.push(msg),
        }
    }
    eprintln!(
        "sample rate changes: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn extreme_rates_and_blocks() {
    let Some(bundle) = load_bundle("extreme_rates_and_blocks") else {
        return;
    };
    let setlist = corpus_setlist();
    let started = Instant::now();
    // Song 1: FLAC, WAV, MP3 (44.1 kHz), Ogg, mono and stereo stems.
    let song = 0;
    let mut failures = Vec::new();
    for rate in [8_000u32, 22_050, 37_337, 192_000] {
        let frames = rate as usize / 2;
        let t = Instant::now();
        let reference = reference_render(&setlist, song, rate, frames);
        let ref_secs = t.elapsed().as_secs_f64();
        if first_sound(&reference).is_none() {
            failures.push(format!("{rate} Hz: the reference render is silent"));
            continue;
        }
        for block in [1usize, 16_384] {
            let t = Instant::now();
            let out = plugin_render(&bundle, &setlist, song, rate, block, frames);
            let label = format!("{rate} Hz, block {block}");
            match compare_run(&out, &reference, &label) {
                Ok(err) => eprintln!(
                    "{label}: ok, max error {err:e}; plugin {:.2} s, reference {ref_secs:.2} s",
                    t.elapsed().as_secs_f64()
                ),
                Err(msg) => failures.push(msg),
            }
        }
    }
    eprintln!("extreme rates: {:.1} s", started.elapsed().as_secs_f64());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A scratch directory for one test (removed first if left over).
fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trax-clap-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

#[test]
fn instantiation_is_fast_and_does_no_io() {
    let Some(bundle) = load_bundle("instantiation_is_fast_and_does_no_io") else {
        return;
    };
    let mut creates = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let inst = new_instance(&bundle);
        creates.push(t.elapsed());
        drop(inst);
    }
    let slowest = creates.iter().max().copied().unwrap_or_default();
    eprintln!(
        "create + init: {:?} ms",
        creates
            .iter()
            .map(|d| format!("{:.2}", d.as_secs_f64() * 1e3))
            .collect::<Vec<_>>()
    );
    assert!(
        slowest < Duration::from_millis(100),
        "create + init took {:.1} ms (limit 100 ms)",
        slowest.as_secs_f64() * 1e3
    );

    // load_state with the corpus setlist: it only stores the path.
    let mut inst = new_instance(&bundle);
    let bytes = state_with_setlist(&mut inst, &corpus_setlist());
    let t = Instant::now();
    assert!(inst.load_state(&bytes), "state refused");
    let load = t.elapsed();
    eprintln!(
        "load_state (corpus setlist): {:.2} ms",
        load.as_secs_f64() * 1e3
    );
    assert!(
        load < Duration::from_millis(50),
        "load_state took {:.1} ms (limit 50 ms)",
        load.as_secs_f64() * 1e3
    );
    drop(inst);

    // A setlist path that is a FIFO: opening it for reading blocks until a
    // writer comes, so a load_state (or create) that touched the file would
    // hang here. A watchdog opens the FIFO after 3 s to free such a reader.
    let dir = scratch_dir("noio");
    let fifo = dir.join("setlist.toml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(made.success(), "mkfifo {}", fifo.display());
    let unblock = {
        let fifo = fifo.clone();
        move || {
            // Read + write never blocks on Linux and wakes a blocked reader,
            // which then sees end of file when this closes.
            let _ = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&fifo);
        }
    };
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = {
        let unblock = unblock.clone();
        std::thread::spawn(move || {
            if done_rx.recv_timeout(Duration::from_secs(3)).is_err() {
                unblock();
                true
            } else {
                false
            }
        })
    };
    let mut inst = new_instance(&bundle);
    let bytes = state_with_setlist(&mut inst, &fifo);
    let t = Instant::now();
    let ok = inst.load_state(&bytes);
    let load = t.elapsed();
    let _ = done_tx.send(());
    let fired = watchdog.join().expect("watchdog");
    unblock();
    drop(inst);
    unblock();
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "load_state (setlist = FIFO): {:.2} ms, watchdog fired: {fired}",
        load.as_secs_f64() * 1e3
    );
    assert!(ok, "state with a FIFO setlist path refused");
    assert!(
        !fired && load < Duration::from_millis(50),
        "load_state with the setlist path on a FIFO took {:.1} ms (watchdog fired: {fired}): \
         it opened the setlist on the main thread",
        load.as_secs_f64() * 1e3
    );
}

/// The stem of the corpus the moved-files setlist keeps.
fn kept_stem() -> PathBuf {
    corpus().join("songs/01_singularity_awakening/02_bass.wav")
}

/// Writes a one-song setlist in `dir`: [`kept_stem`] and a missing file.
fn write_half_missing_setlist(dir: &Path) -> (PathBuf, PathBuf) {
    let missing = dir.join("gone/missing_stem.flac");
    let toml = format!(
        "name = \"moved\"\n\n[[song]]\nname = \"half there\"\n[[song.stem]]\npath = '{}'\n\
         [[song.stem]]\npath = '{}'\n",
        kept_stem().display(),
        missing.display()
    );
    let path = dir.join("moved.toml");
    std::fs::write(&path, toml).expect("write setlist");
    (path, missing)
}

/// Realtime and offline runs with a setlist path that does not exist, then
/// the half-missing setlist of `TRAX_CLAP_CHILD_DIR` played offline. Run
/// in a child process by [`setlist_files_moved`], which reads its stderr.
#[test]
#[ignore = "run by setlist_files_moved in a child process (it captures the plugin's stderr)"]
fn setlist_files_moved_child() {
    let Ok(dir) = std::env::var("TRAX_CLAP_CHILD_DIR") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let Some(bundle) = load_bundle("setlist_files_moved_child") else {
        return;
    };
    let gone = dir.join("nowhere/setlist.toml");
    for offline in [false, true] {
        let mut inst = new_instance(&bundle);
        set_setlist(&mut inst, &gone);
        let key = key_for_song(&mut inst, 0);
        inst.activate(48_000.0, 512, offline).expect("activate");
        let mut pacer = Pacer::new(48_000.0);
        let mut max_call = Duration::ZERO;
        let mut pos = 0;
        let note = [HostEvent::NoteOn {
            time: 3,
            key,
            velocity: 1.0,
        }];
        let mut out = Vec::new();
        for b in 0..30 {
            let events: &[HostEvent] = if b % 10 == 0 { &note } else { &[] };
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
        }
        check_clean(&out, &format!("missing setlist, offline {offline}"));
        assert!(
            first_sound(&out).is_none(),
            "missing setlist, offline {offline}: notes made sound"
        );
        assert!(
            max_call < Duration::from_millis(100),
            "missing setlist, offline {offline}: a process call took {:.1} ms",
            max_call.as_secs_f64() * 1e3
        );
        eprintln!(
            "CHILD missing setlist, offline {offline}: silent, longest call {:.2} ms, \
             CLAP log error lines {}, CLAP log {:?}",
            max_call.as_secs_f64() * 1e3,
            inst.error_logs(),
            inst.log_messages()
        );
    }
    let (moved, _) = write_half_missing_setlist(&dir);
    let mut inst = new_instance(&bundle);
    set_setlist(&mut inst, &moved);
    let key = key_for_song(&mut inst, 0);
    inst.activate(48_000.0, 512, true).expect("activate");
    let out = render_note(&mut inst, key, 512, 4800);
    check_clean(&out, "half-missing setlist");
    eprintln!(
        "CHILD half-missing setlist: sound {}, CLAP log {:?}",
        first_sound(&out).is_some(),
        inst.log_messages()
    );
}

#[test]
fn setlist_files_moved() {
    let Some(bundle) = load_bundle("setlist_files_moved") else {
        return;
    };
    let dir = scratch_dir("moved");
    // (a) and the logs: a child process, so the plugin's stderr (nice-plug
    // logs through tracing to stderr) can be read.
    let exe = std::env::current_exe().expect("current exe");
    let child = std::process::Command::new(exe)
        .args([
            "clap_host::setlist_files_moved_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("TRAX_CLAP_CHILD_DIR", &dir)
        .output()
        .expect("run the child test");
    let stderr = String::from_utf8_lossy(&child.stderr);
    let stdout = String::from_utf8_lossy(&child.stdout);
    assert!(
        child.status.success(),
        "child run failed ({}):\n{stdout}\n{stderr}",
        child.status
    );
    for line in stderr.lines().filter(|l| l.contains("CHILD")) {
        eprintln!("{line}");
    }
    let gone = dir.join("nowhere/setlist.toml");
    let missing = dir.join("gone/missing_stem.flac");
    let mut failures = Vec::new();
    for (what, file) in [("missing setlist", &gone), ("missing stem", &missing)] {
        let name = file.to_string_lossy();
        let lines: Vec<&str> = stderr.lines().filter(|l| l.contains(&*name)).collect();
        let via_clap_log = lines.iter().any(|l| l.starts_with("[trax.clap"));
        let via_stderr = lines
            .iter()
            .any(|l| !l.starts_with("[trax.clap") && !l.contains("CHILD"));
        eprintln!(
            "{what}: named in the CLAP host log: {via_clap_log}; in the plugin's stderr (tracing): \
             {via_stderr}; {:?}",
            lines.first()
        );
        if !via_clap_log && !via_stderr {
            failures.push(format!(
                "{what}: no log line names {name}; child stderr:\n{stderr}"
            ));
        }
    }

    // (b) the half-missing setlist plays the remaining stem exactly.
    let (moved, _) = write_half_missing_setlist(&dir);
    let frames = 48_000usize;
    let reference = reference_render(&moved, 0, 48_000, frames);
    if first_sound(&reference).is_none() {
        failures.push("the reference render of the half-missing setlist is silent".into());
    }
    let out = plugin_render(&bundle, &moved, 0, 48_000, 512, frames);
    match compare_run(&out, &reference, "half-missing setlist, offline") {
        Ok(err) => eprintln!("half-missing setlist, offline: ok, max error {err:e}"),
        Err(msg) => failures.push(msg),
    }
    // Realtime too: it plays (once loaded) and stays clean.
    let mut inst = new_instance(&bundle);
    set_setlist(&mut inst, &moved);
    let key = key_for_song(&mut inst, 0);
    inst.activate(48_000.0, 512, false).expect("activate");
    let mut pacer = Pacer::new(48_000.0);
    let mut max_call = Duration::ZERO;
    let mut pos = 0;
    let mut heard = false;
    for b in 0..60 {
        let note = [HostEvent::NoteOn {
            time: 0,
            key,
            velocity: 1.0,
        }];
        let events: &[HostEvent] = if b == 20 { &note } else { &[] };
        let out = run_paced(
            &mut inst,
            &mut pacer,
            512,
            512,
            &mut pos,
            None,
            events,
            &mut max_call,
        );
        check_clean(&out, "half-missing setlist, realtime");
        heard |= first_sound(&out).is_some();
    }
    if !heard {
        failures.push(
            "half-missing setlist, realtime: a note 0.2 s after activation stayed silent".into(),
        );
    }
    drop(inst);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// How a test asks for song 1 before the setlist has loaded.
#[derive(Clone, Copy, Debug)]
enum EarlyStart {
    /// A note-on in the first process call.
    Note,
    /// `play` automated on at frame 0 of the first process call.
    PlayAutomated,
    /// `play` restored on with the state (as a host reopening a project
    /// saved while playing).
    PlayRestored,
}

/// Sends an [`EarlyStart`] with the first realtime process call, while the
/// control thread is still loading the setlist: song 1 must start from its
/// beginning once the setlist is there.
fn start_before_setlist_loaded(test: &str, how: EarlyStart) {
    let Some(bundle) = load_bundle(test) else {
        return;
    };
    let setlist = corpus_setlist();
    let reference = reference_render(&setlist, 0, 48_000, 48_000);
    let mut inst = new_instance(&bundle);
    let mut state = parse_state(&state_with_setlist(&mut inst, &setlist));
    if matches!(how, EarlyStart::PlayRestored) {
        let params = state
            .get_mut("params")
            .and_then(|p| p.as_object_mut())
            .expect("state.params is an object");
        assert!(
            params.contains_key("play"),
            "state.params has no `play`: {params:?}"
        );
        params.insert("play".into(), serde_json::json!({ "bool": true }));
    }
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
        EarlyStart::PlayRestored => vec![],
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
fn notes_before_setlist_loaded_realtime() {
    start_before_setlist_loaded("notes_before_setlist_loaded_realtime", EarlyStart::Note);
}

#[test]
fn play_automated_before_setlist_loaded_realtime() {
    start_before_setlist_loaded(
        "play_automated_before_setlist_loaded_realtime",
        EarlyStart::PlayAutomated,
    );
}

#[test]
fn play_restored_on_before_setlist_loaded_realtime() {
    start_before_setlist_loaded(
        "play_restored_on_before_setlist_loaded_realtime",
        EarlyStart::PlayRestored,
    );
}
