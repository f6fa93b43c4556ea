//! AUDIO THREAD: rendering a block: sub-blocks, crossfades and output
//! fades, each deck's stems read from their windows and mixed. Realtime-safe.

use super::*;

impl Engine {
    /// Renders up to `out_l.len()` frames; returns how many were rendered.
    pub(super) fn render_sub_block(&mut self, out_l: &mut [f32], out_r: &mut [f32]) -> usize {
        let len = out_l.len();
        out_l.fill(0.0);
        out_r.fill(0.0);
        let Some(sl) = self.setlist.take() else {
            return len;
        };
        let done = self.render_with(&sl, out_l, out_r);
        self.setlist = Some(sl);
        done
    }

    pub(super) fn render_with(
        &mut self,
        sl: &EngineSetlist,
        out_l: &mut [f32],
        out_r: &mut [f32],
    ) -> usize {
        let len = out_l.len();
        let offline = self.config.mode == ProcessMode::Offline;
        let mut done = 0usize;
        while done < len {
            if offline && self.awaiting_cue {
                return done;
            }
            if let Some(p) = self.pending {
                if let Some(sync) = self.decks[p].sync {
                    let now = self.clock_frames + done as u64;
                    self.decks[p].position_frames =
                        sync.frame + now.saturating_sub(sync.since_clock_frames);
                }
                // A start or seek made during a crossfade waits for it to
                // end (at most `crossfade_frames`): taking it now would drop
                // the deck still fading out at part of its level, a click.
                let waits_for_crossfade =
                    self.crossfade.is_some() && self.transport == Transport::Playing;
                if waits_for_crossfade {
                    // The segment below ends where the crossfade does.
                } else if self.gate_open(sl, p) {
                    self.take_pending(sl, p);
                } else if offline {
                    return done;
                }
            }
            let Some(a) = self.active else {
                if self.pending.is_some() {
                    self.stats.add_gated_frames((len - done) as u64);
                } else if offline {
                    // Nothing cued: an offline render has nothing to wait
                    // for and nothing to output.
                    return done;
                }
                return len;
            };
            if self.transport != Transport::Playing {
                return len;
            }
            let left = Self::song_frames_left(sl, &self.decks[a]);
            if left == 0 {
                self.song_end(sl, a);
                continue;
            }
            let mut seg = ((len - done) as u64).min(left) as u32;
            if let Some(f) = self.crossfade {
                seg = seg.min(self.crossfade_frames - f.done);
                let from_left = Self::song_frames_left(sl, &self.decks[f.from]);
                if from_left == 0 {
                    self.crossfade = None;
                    self.release(f.from);
                    continue;
                }
                // Saturate: a deck with exactly k * 2^32 frames left must
                // not truncate to 0 (the loop would make no progress).
                seg = seg.min(u32::try_from(from_left).unwrap_or(u32::MAX));
            }
            match self.out_fade {
                OutFade::In { done } => seg = seg.min(self.crossfade_frames - done),
                OutFade::Out { done, .. } => seg = seg.min(self.crossfade_frames - done),
                OutFade::None => {}
            }
            if offline {
                seg = Self::deck_ready_frames(sl, &self.decks[a], a, seg);
                if let Some(f) = self.crossfade {
                    seg = Self::deck_ready_frames(sl, &self.decks[f.from], f.from, seg);
                }
                if seg == 0 {
                    return done;
                }
            }
            let n = seg as usize;
            self.render_segment(
                sl,
                a,
                n,
                &mut out_l[done..done + n],
                &mut out_r[done..done + n],
            );
            done += n;
        }
        len
    }

    /// Renders `n` frames of the active deck `a` (and the deck fading out)
    /// into the outputs and advances positions and fades.
    pub(super) fn render_segment(
        &mut self,
        sl: &EngineSetlist,
        a: usize,
        n: usize,
        out_l: &mut [f32],
        out_r: &mut [f32],
    ) {
        let mut mix_a = std::mem::replace(&mut self.mix_a, [[0.0; SUB_BLOCK_FRAMES]; 2]);
        self.render_deck(sl, a, n, &mut mix_a);
        if let Some(f) = self.crossfade {
            let mut mix_b = std::mem::replace(&mut self.mix_b, [[0.0; SUB_BLOCK_FRAMES]; 2]);
            self.render_deck(sl, f.from, n, &mut mix_b);
            for i in 0..n {
                let (g_out, g_in) = equal_power(f.done + i as u32, self.crossfade_frames);
                out_l[i] = mix_a[0][i] * g_in + mix_b[0][i] * g_out;
                out_r[i] = mix_a[1][i] * g_in + mix_b[1][i] * g_out;
            }
            self.mix_b = mix_b;
            let done = f.done + n as u32;
            if done >= self.crossfade_frames {
                self.crossfade = None;
                self.release(f.from);
            } else {
                self.crossfade = Some(Crossfade { from: f.from, done });
            }
        } else {
            out_l.copy_from_slice(&mix_a[0][..n]);
            out_r.copy_from_slice(&mix_a[1][..n]);
        }
        self.mix_a = mix_a;
        match self.out_fade {
            OutFade::None => {}
            OutFade::In { done } => {
                for i in 0..n {
                    let g = fade_in(done + i as u32, self.crossfade_frames);
                    out_l[i] *= g;
                    out_r[i] *= g;
                }
                let done = done + n as u32;
                self.out_fade = if done >= self.crossfade_frames {
                    OutFade::None
                } else {
                    OutFade::In { done }
                };
            }
            OutFade::Out { done, then } => {
                for i in 0..n {
                    let g = 1.0 - fade_in(done + i as u32, self.crossfade_frames);
                    out_l[i] *= g;
                    out_r[i] *= g;
                }
                let done = done + n as u32;
                if done >= self.crossfade_frames {
                    self.out_fade = OutFade::None;
                    if then == Transport::Stopped {
                        self.stop_now();
                    } else {
                        self.transport = then;
                    }
                } else {
                    self.out_fade = OutFade::Out { done, then };
                }
            }
        }
    }

    /// Mixes `n` frames of deck `d` into `mix` (zeroed first) and advances its
    /// position. Late stems are silent, counted, and fade back in.
    pub(super) fn render_deck(
        &mut self,
        sl: &EngineSetlist,
        d: usize,
        n: usize,
        mix: &mut [[f32; SUB_BLOCK_FRAMES]; 2],
    ) {
        let [mix_l, mix_r] = mix;
        mix_l[..n].fill(0.0);
        mix_r[..n].fill(0.0);
        let song = self.decks[d].song;
        let pos = self.decks[d].position_frames;
        let any_solo = any_solo(sl, song);
        let metered = self.active == Some(d);
        let mut missing_total = 0u64;
        for stem in 0..MAX_STEMS {
            let Some((sref, flat)) = Self::stem_ref(sl, d, song, stem) else {
                break;
            };
            let target = target_gains(&sl.stems[flat].mix, any_solo);
            let lane = &mut self.decks[d].lanes[stem];
            lane.gain.set_target(target, self.ramp_frames);
            if !sl.stem_ok(flat) || lane.gain.is_silent() {
                lane.gain.skip(n as u32);
                continue;
            }
            let scratch = &mut self.stem_scratch[..n * 2];
            let missing = read_stem(sl, &sref, pos, scratch);
            if missing > 0 {
                missing_total += missing as u64;
                lane.recover_left = self.recover_frames;
            } else if lane.recover_left > 0 {
                for frame in scratch.chunks_exact_mut(2) {
                    if lane.recover_left == 0 {
                        break;
                    }
                    let g = fade_in(self.recover_frames - lane.recover_left, self.recover_frames);
                    frame[0] *= g;
                    frame[1] *= g;
                    lane.recover_left -= 1;
                }
            }
            lane.gain
                .mix_into(scratch, &mut mix_l[..n], &mut mix_r[..n]);
            if metered {
                // Post-fader: the pre-fader peak at the gains reached.
                let pre = scratch.iter().fold(0.0f32, |m, s| m.max(s.abs()));
                let (gl, gr) = lane.gain.current();
                self.stats.note_stem_peak(stem, pre * gl.max(gr));
            }
        }
        if missing_total > 0 {
            self.stats.add_underrun(missing_total);
        }
        self.decks[d].position_frames = pos + n as u64;
    }
}

/// Whether any stem of `song` is soloed. Realtime-safe.
pub(super) fn any_solo(sl: &EngineSetlist, song: u16) -> bool {
    let Some(s) = sl.songs.get(song as usize) else {
        return false;
    };
    let start = s.first_stem as usize;
    let end = start + s.stem_count as usize;
    sl.stems
        .get(start..end)
        .is_some_and(|stems| stems.iter().any(|st| st.mix.solo))
}
