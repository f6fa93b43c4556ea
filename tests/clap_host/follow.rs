//! Follow host transport, paced at real time: start, jump and stop.

use super::*;

/// One `follow` run at 48 kHz: `preroll` frames with the host stopped at
/// `start_pos`, then 1.2 s playing from there, a jump to `jump_pos` and
/// 1 s more, then the host stops (0.3 s). Returns a summary, or the
/// failures.
pub(super) fn follow_run(
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
    // The plugin's output is late by its reported latency (the
    // auto-master's lookahead); a host with delay compensation reads it
    // that much later, and so does this test: output frame X + latency is
    // host frame X.
    let latency = inst.latency_frames() as usize;
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
    let (out1, len1) = (out1[latency * 2..].to_vec(), len1 - latency);
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
    let (out2, len2) = (out2[latency * 2..].to_vec(), len2 - latency);
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
    let (out3, len3) = (out3[latency * 2..].to_vec(), len3 - latency);
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
pub(super) fn follow_host_transport() {
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
