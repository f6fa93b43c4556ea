//! Realtime helpers: blocks paced at real time with a host transport, and
//! comparisons of what they rendered.

use super::*;

/// Frames of the engine's 10 ms fades (start mid-song, seek crossfade,
/// stop) at `rate`.
pub(super) fn fade_frames(rate: u32) -> usize {
    trax::engine::declick::frames_for(trax::engine::declick::CROSSFADE_SECS, rate) as usize
}

/// Sleeps so that block after block arrives no faster than real time (a
/// host's audio thread).
pub(super) struct Pacer {
    start: Instant,
    rate: f64,
    frames: u64,
}

impl Pacer {
    pub(super) fn new(rate: f64) -> Self {
        Self {
            start: Instant::now(),
            rate,
            frames: 0,
        }
    }

    pub(super) fn advance(&mut self, frames: usize) {
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
pub(super) fn run_paced(
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
pub(super) fn segment_error(
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

pub(super) fn first_sound(x: &[f32]) -> Option<usize> {
    x.iter().position(|&v| v != 0.0).map(|i| i / 2)
}

pub(super) fn last_sound(x: &[f32]) -> Option<usize> {
    x.iter().rposition(|&v| v != 0.0).map(|i| i / 2)
}
