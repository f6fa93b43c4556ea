//! A note-on renders exactly the library's offline render of that song, at
//! 44.1, 48 and 96 kHz with blocks of 1, 17, 512, 2027 and 4096 frames.

use super::*;

/// Runs the plugin offline at `rate` with `block`-frame calls, a note-on
/// for `song` at [`NOTE_FRAME`], for `NOTE_FRAME + frames` frames;
/// returns interleaved stereo from frame 0.
pub(super) fn plugin_render(
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
pub(super) fn render_note(
    inst: &mut ClapInstance,
    key: u8,
    block: usize,
    frames: usize,
) -> Vec<f32> {
    let rate = inst.rate_hz();
    // The plugin reports the auto-master's lookahead as its latency (the
    // same whether the auto-master is on or off); a host with delay
    // compensation reads its output that much later, and so does this one.
    let latency = inst.latency_frames() as usize;
    assert_eq!(
        latency,
        trax::engine::master::limiter::latency_frames(rate as u32),
        "{rate} Hz: the reported latency is the auto-master's lookahead"
    );
    let total = NOTE_FRAME + frames + latency;
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
    out.drain(..latency * 2);
    out
}

/// Checks one matrix run; returns a description of the failure.
pub(super) fn compare_run(out: &[f32], reference: &[f32], label: &str) -> Result<f32, String> {
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
pub(super) fn best_lag(out: &[f32], reference: &[f32], max: i64) -> Option<(i64, f32)> {
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
pub(super) fn note_on_renders_like_trax_render() {
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

/// A host that stores parameters normalised in single precision (VST3
/// hosts; Ardour brought the old linear gain back as 0.99999994) hands
/// `gain_db` back as 60/72 of its range rounded to `f32`: that is exactly
/// 0 dB, unity, so the song comes out bit for bit.
#[test]
pub(super) fn unity_gain_from_a_single_precision_normalised_value_is_exact() {
    let Some(bundle) = load_bundle("unity_gain_from_a_single_precision_normalised_value_is_exact")
    else {
        return;
    };
    let setlist = corpus_setlist();
    let mut inst = new_instance(&bundle);
    set_setlist(&mut inst, &setlist);
    let gain = inst
        .param_by_string_id("gain_db")
        .expect("a gain_db parameter");
    let normalised = f64::from(60.0f32 / 72.0f32);
    assert_ne!(normalised, 60.0 / 72.0, "the f32 rounding is the point");
    inst.param_flush(&[HostEvent::ParamValue {
        time: 0,
        id: gain.id,
        value: gain.min + normalised * (gain.max - gain.min),
    }])
    .expect("param_flush gain_db");
    let key = key_for_song(&mut inst, 0);
    inst.activate(48_000.0, 512, true)
        .expect("activate offline");
    let out = render_note(&mut inst, key, 512, 48_000);
    let reference = reference_render(&setlist, 0, 48_000, 48_000);
    let err =
        compare_run(&out, &reference, "gain_db at 60/72 in f32").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        err, 0.0,
        "gain_db from 60/72 in f32 is not unity: max error {err:e}"
    );
}
