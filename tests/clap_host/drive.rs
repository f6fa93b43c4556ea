//! A host's timeline for the follow-host tests: blocks with the transport
//! stopped, then rolling from a start position (negative: pre-roll), at
//! real time, in bursts, or as fast as the machine allows; and the checks
//! of what came out against `trax render`, frame by frame on the host's
//! timeline.

use super::*;

/// How a [`drive`] paces its calls.
#[derive(Clone, Copy, Debug)]
pub(super) enum Pacing {
    /// Back to back, as fast as the plugin returns (a bounce in freewheel).
    Fast,
    /// `burst` blocks back to back, then the host waits until real time
    /// has caught up (1: an audio callback per block).
    RealTime { burst: usize },
}

/// What a [`drive`] rendered.
pub(super) struct Drive {
    /// Interleaved stereo of the rolling part, from the first rolling
    /// block (host position `start`).
    pub(super) rolling: Vec<f32>,
    /// Interleaved stereo of the stopped part.
    pub(super) stopped: Vec<f32>,
    /// The longest `process()` call.
    pub(super) max_call: Duration,
    /// Wall time of the whole drive.
    pub(super) wall: Duration,
}

/// Drives `inst` (active) in `block`-frame calls: `stopped_frames` with
/// the host transport stopped at `start`, then `rolling_frames` with it
/// playing from `start`.
pub(super) fn drive(
    inst: &mut ClapInstance,
    block: usize,
    start: i64,
    stopped_frames: usize,
    rolling_frames: usize,
    pacing: Pacing,
) -> Drive {
    let rate = inst.rate_hz();
    let t0 = Instant::now();
    let mut pacer = Pacer::new(rate);
    let mut max_call = Duration::ZERO;
    let mut l = vec![0.0f32; block];
    let mut r = vec![0.0f32; block];
    let mut parts = [Vec::new(), Vec::new()];
    let mut blocks = 0usize;
    for (part, (frames, playing)) in [(stopped_frames, false), (rolling_frames, true)]
        .into_iter()
        .enumerate()
    {
        let out = &mut parts[part];
        out.reserve(frames * 2);
        let mut pos = start;
        let mut done = 0usize;
        while done < frames {
            let n = block.min(frames - done);
            let transport = Transport {
                playing,
                pos_frames: pos,
            };
            let t = Instant::now();
            inst.process_into(&mut l[..n], &mut r[..n], &[], Some(transport))
                .expect("process");
            max_call = max_call.max(t.elapsed());
            for i in 0..n {
                out.push(l[i]);
                out.push(r[i]);
            }
            if playing {
                pos += n as i64;
            }
            done += n;
            blocks += 1;
            match pacing {
                Pacing::Fast => {}
                Pacing::RealTime { burst } => {
                    if blocks.is_multiple_of(burst.max(1)) {
                        pacer.advance(n * burst.max(1));
                    }
                }
            }
        }
    }
    let [stopped, rolling] = parts;
    Drive {
        rolling,
        stopped,
        max_call,
        wall: t0.elapsed(),
    }
}

/// The rolling output of a [`drive`] from `start` against `reference`
/// (song frame 0 onwards) on the host's timeline: host frame X is output
/// frame `X - start + latency` (the host compensates the reported
/// latency).
#[derive(Debug)]
pub(super) struct Timeline {
    /// The first host frame with sound.
    pub(super) first_sound: Option<i64>,
    /// Host frames from `max(start, 0)` (plus the start's fade-in for a
    /// start inside the song) that differ from the reference.
    pub(super) wrong_frames: usize,
    /// The first of them.
    pub(super) first_wrong: Option<i64>,
    /// 1024-frame blocks of the host timeline where the reference has
    /// sound and the output is silent.
    pub(super) silent_blocks: usize,
    /// Blocks compared.
    pub(super) blocks: usize,
}

/// Compares a [`drive`]'s rolling output with `reference`, see
/// [`Timeline`]. A start at a positive frame fades in over `fade` frames
/// (checked to be no louder than the reference there).
pub(super) fn timeline(
    rolling: &[f32],
    start: i64,
    latency: usize,
    reference: &[f32],
    fade: usize,
) -> Timeline {
    let frames = rolling.len() / 2;
    let host = |x: i64| -> Option<[f32; 2]> {
        let i = usize::try_from(x - start + latency as i64).ok()?;
        (i < frames).then(|| [rolling[i * 2], rolling[i * 2 + 1]])
    };
    let refer = |x: i64| -> [f32; 2] {
        usize::try_from(x).map_or([0.0; 2], |x| {
            [
                reference.get(x * 2).copied().unwrap_or(0.0),
                reference.get(x * 2 + 1).copied().unwrap_or(0.0),
            ]
        })
    };
    let end = start + frames as i64 - latency as i64;
    let first_sound = (start..end).find(|&x| host(x).is_some_and(|s| s != [0.0; 2]));
    let from = start.max(0);
    let exact_from = if start > 0 {
        from + fade as i64 + 2
    } else {
        from
    };
    let mut wrong_frames = 0;
    let mut first_wrong = None;
    for x in start..end {
        let Some(out) = host(x) else { break };
        let want = refer(x);
        let ok = if x < from {
            out == [0.0; 2]
        } else if x < exact_from {
            out[0].abs() <= want[0].abs() && out[1].abs() <= want[1].abs()
        } else {
            out == want
        };
        if !ok {
            wrong_frames += 1;
            first_wrong.get_or_insert(x);
        }
    }
    let mut silent_blocks = 0;
    let mut blocks = 0;
    let mut x = from;
    while x + 1024 <= end {
        let has = |f: &dyn Fn(i64) -> [f32; 2]| (x..x + 1024).any(|y| f(y) != [0.0; 2]);
        if has(&refer) {
            blocks += 1;
            if !has(&|y| host(y).unwrap_or([0.0; 2])) {
                silent_blocks += 1;
            }
        }
        x += 1024;
    }
    Timeline {
        first_sound,
        wrong_frames,
        first_wrong,
        silent_blocks,
        blocks,
    }
}

/// A new instance on the corpus setlist with `follow` on and `song`
/// (0-based) selected, activated at 48 kHz for `block`-frame calls
/// (`offline`: the host's render flag), after `settle` of wall time for
/// the setlist to load (as a session opens before its user plays).
pub(super) fn follow_instance(
    bundle: &ClapBundle,
    song: usize,
    block: usize,
    offline: bool,
    settle: Duration,
) -> ClapInstance {
    let mut inst = new_instance(bundle);
    set_setlist(&mut inst, &corpus_setlist());
    inst.param_flush(&[
        HostEvent::ParamValue {
            time: 0,
            id: param_hash("follow"),
            value: 1.0,
        },
        HostEvent::ParamValue {
            time: 0,
            id: param_hash("song"),
            // CLAP values of an integer parameter count from its minimum.
            value: song as f64,
        },
    ])
    .expect("param_flush follow, song");
    inst.activate(48_000.0, block as u32, offline)
        .expect("activate");
    std::thread::sleep(settle);
    inst
}
