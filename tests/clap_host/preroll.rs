//! Follow host from every kind of start position: pre-roll (negative
//! positions, as Ardour starts at -1024 or -107), exactly 0, and inside
//! the song, in blocks that straddle host frame 0. The first audible frame
//! on the host's timeline is host frame 0 (or the start position), and
//! from there the output is `trax render` bit for bit.

use super::*;

/// Start positions: Ardour's pre-roll and latency compensation, one frame
/// before 0, 0, and 0.1 s into the song.
const STARTS: [i64; 5] = [-1024, -107, -1, 0, 4800];

/// One run: `song` 0 followed from `start` in `block`-frame calls; the
/// failures, or a summary.
fn preroll_run(
    bundle: &ClapBundle,
    reference: &[f32],
    block: usize,
    start: i64,
    offline: bool,
) -> Result<String, String> {
    let settle = if offline {
        Duration::ZERO
    } else {
        Duration::from_millis(300)
    };
    let mut inst = follow_instance(bundle, 0, block, offline, settle);
    let latency = inst.latency_frames() as usize;
    let rolling = (-start).max(0) as usize + 12_000 + latency;
    let pacing = if offline {
        Pacing::Fast
    } else {
        Pacing::RealTime { burst: 1 }
    };
    let d = drive(&mut inst, block, start, 9600, rolling, pacing);
    let label = format!(
        "follow from host frame {start}, blocks of {block}, {}",
        if offline { "offline" } else { "real time" }
    );
    let fade = fade_frames(48_000);
    let t = timeline(&d.rolling, start, latency, reference, fade);
    // The song's first sound at or after the start position.
    let expected = reference
        .chunks_exact(2)
        .enumerate()
        .skip(start.max(0) as usize)
        .find(|(_, s)| s[0] != 0.0 || s[1] != 0.0)
        .map(|(x, _)| x as i64);
    let stopped_sound = first_sound(&d.stopped);
    let summary = format!(
        "{label}: first audible host frame {:?}, {} wrong frames (first {:?}), longest call {:.2} ms",
        t.first_sound,
        t.wrong_frames,
        t.first_wrong,
        d.max_call.as_secs_f64() * 1e3
    );
    if t.first_sound != expected || t.wrong_frames > 0 || stopped_sound.is_some() {
        return Err(format!(
            "{summary}; expected the first sound at host frame {expected:?} and the reference \
             from there; sound while stopped at {stopped_sound:?}"
        ));
    }
    Ok(summary)
}

#[test]
pub(super) fn follow_host_starts_at_host_frame_zero_from_any_position() {
    let Some(bundle) = load_bundle("follow_host_starts_at_host_frame_zero_from_any_position")
    else {
        return;
    };
    let reference = reference_render(&corpus_setlist(), 0, 48_000, 48_000);
    let mut failures = Vec::new();
    let mut runs = Vec::new();
    for block in [64usize, 512, 1024] {
        for start in STARTS {
            runs.push((block, start, true));
        }
    }
    // At real time the song's head is resident (cued while the host was
    // stopped), so a start from the pre-roll or from 0 is exact too; a
    // start inside the song comes in when the loader has it (in step,
    // faded in: follow_host_transport).
    for start in [-1024, -107, -1, 0] {
        runs.push((512, start, false));
    }
    for (block, start, offline) in runs {
        match preroll_run(&bundle, &reference, block, start, offline) {
            Ok(s) => eprintln!("{s}"),
            Err(f) => {
                eprintln!("{f}");
                failures.push(f);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `follow_out` on (a host that gives each plugin the position of its
/// output, as Ardour does): from a pre-roll at least the latency long, the
/// output block at host position X is the song at frame X, without a
/// latency shift.
#[test]
pub(super) fn follow_with_host_time_as_output_time_needs_no_latency_shift() {
    let Some(bundle) = load_bundle("follow_with_host_time_as_output_time_needs_no_latency_shift")
    else {
        return;
    };
    let reference = reference_render(&corpus_setlist(), 0, 48_000, 48_000);
    let mut failures = Vec::new();
    for (block, start) in [(512usize, -1024i64), (64, -107), (1024, -107)] {
        let mut inst = follow_instance(&bundle, 0, block, true, Duration::ZERO);
        inst.param_flush(&[HostEvent::ParamValue {
            time: 0,
            id: param_hash("follow_out"),
            value: 1.0,
        }])
        .expect("param_flush follow_out");
        let rolling = (-start) as usize + 12_000;
        let d = drive(&mut inst, block, start, 9600, rolling, Pacing::Fast);
        // Output frame i is host frame start + i: no latency shift.
        let t = timeline(&d.rolling, start, 0, &reference, 0);
        let summary = format!(
            "follow_out from host frame {start}, blocks of {block}: first audible host frame {:?}, \
             {} wrong frames (first {:?})",
            t.first_sound, t.wrong_frames, t.first_wrong
        );
        eprintln!("{summary}");
        if t.first_sound != Some(0) || t.wrong_frames > 0 {
            failures.push(summary);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
