//! AUDIO THREAD: rendering a block: sub-blocks, crossfades and output
//! fades, each deck's stems read from their windows and mixed. Realtime-safe.

use super::*;

impl Engine {
    /// Renders up to `len` frames into `out_block`; returns how many were
    /// rendered.
    pub(super) fn render_sub_block(&mut self, len: usize) -> usize {
        let Some(mut out) = self.out_block.take() else {
            return len;
        };
        out.clear(len);
        let done = match self.setlist.take() {
            Some(sl) => {
                let done = self.render_with(&sl, &mut out, len);
                self.setlist = Some(sl);
                done
            }
            None => len,
        };
        self.out_block = Some(out);
        done
    }

    pub(super) fn render_with(
        &mut self,
        sl: &EngineSetlist,
        out: &mut BusBlock,
        len: usize,
    ) -> usize {
        let offline = self.config.mode == ProcessMode::Offline;
        let mut done = 0usize;
        while done < len {
            if offline && self.awaiting_cue {
                return done;
            }
            if let Some(ci) = self.count_in.as_mut() {
                // The count-in on the Click bus; the cued deck waits for
                // its end (its start is synced to it).
                let left = ci.grid.end_frames().saturating_sub(ci.elapsed_frames);
                if left > 0 {
                    let n = ((len - done) as u64).min(left) as usize;
                    let (l, r) = out.bus_mut(Bus::Click.index());
                    self.click_sounds.mix(
                        &ci.grid,
                        ci.elapsed_frames,
                        &mut l[done..done + n],
                        &mut r[done..done + n],
                    );
                    ci.elapsed_frames += n as u64;
                    done += n;
                    continue;
                }
                self.count_in = None;
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
            // A queued jump or vamp lands at its frame, before the song's
            // end does (a jump at the end of the song replaces the end).
            let to_landing = self.frames_to_landing(a);
            if to_landing == Some(0) {
                match self.land(sl, self.clock_frames + done as u64) {
                    jump::Landing::Went => continue,
                    jump::Landing::Wait => return done,
                }
            }
            let left = Self::song_frames_left(sl, &self.decks[a]);
            if left == 0 {
                self.song_end(sl, a);
                continue;
            }
            let mut seg = ((len - done) as u64).min(left) as u32;
            if let Some(to) = to_landing {
                seg = seg.min(u32::try_from(to).unwrap_or(u32::MAX));
            }
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
            self.render_segment(sl, a, done, n, out);
            done += n;
        }
        len
    }

    /// Renders `n` frames of the active deck `a` (and the deck fading out)
    /// into frames `at..at + n` of `out` and advances positions and fades.
    pub(super) fn render_segment(
        &mut self,
        sl: &EngineSetlist,
        a: usize,
        at: usize,
        n: usize,
        out: &mut BusBlock,
    ) {
        let (Some(mut mix_a), Some(mut mix_b)) = (self.mix_a.take(), self.mix_b.take()) else {
            return;
        };
        let song_pos = self.decks[a].position_frames;
        self.render_deck(sl, a, n, &mut mix_a);
        if let Some(f) = self.crossfade {
            self.render_deck(sl, f.from, n, &mut mix_b);
            let xf = self.crossfade_frames;
            for bus in 0..BUS_COUNT {
                let (in_a, in_b) = (mix_a.is_used(bus), mix_b.is_used(bus));
                if !in_a && !in_b {
                    continue;
                }
                let (al, ar) = mix_a.bus(bus);
                let (bl, br) = mix_b.bus(bus);
                let (ol, or) = out.bus_mut(bus);
                for i in 0..n {
                    let (g_out, g_in) = equal_power(f.done + i as u32, xf);
                    // A bus a deck does not use is silence (its channels
                    // are stale, never read).
                    let (mut l, mut r) = (0.0, 0.0);
                    if in_a {
                        l += al[i] * g_in;
                        r += ar[i] * g_in;
                    }
                    if in_b {
                        l += bl[i] * g_out;
                        r += br[i] * g_out;
                    }
                    ol[at + i] = l;
                    or[at + i] = r;
                }
            }
            let done = f.done + n as u32;
            if done >= self.crossfade_frames {
                self.crossfade = None;
                self.release(f.from);
            } else {
                self.crossfade = Some(Crossfade { from: f.from, done });
            }
        } else {
            for bus in 0..BUS_COUNT {
                if !mix_a.is_used(bus) {
                    continue;
                }
                let (al, ar) = mix_a.bus(bus);
                let (ol, or) = out.bus_mut(bus);
                ol[at..at + n].copy_from_slice(&al[..n]);
                or[at..at + n].copy_from_slice(&ar[..n]);
            }
        }
        self.mix_a = Some(mix_a);
        self.mix_b = Some(mix_b);
        self.song_click(sl, a, song_pos, at, n, out);
        self.song_fade(sl, a, song_pos, at, n, out);
        match self.out_fade {
            OutFade::None => {}
            OutFade::In { done } => {
                let xf = self.crossfade_frames;
                out.scale(at, at + n, |i| fade_in(done + i as u32, xf));
                let done = done + n as u32;
                self.out_fade = if done >= self.crossfade_frames {
                    OutFade::None
                } else {
                    OutFade::In { done }
                };
            }
            OutFade::Out { done, then } => {
                let xf = self.crossfade_frames;
                out.scale(at, at + n, |i| 1.0 - fade_in(done + i as u32, xf));
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

    /// A song whose tempo asks for a click ([`crate::bridge::SongTempo::click`])
    /// and that has no stem on the Click bus: its beats, from song frame 0,
    /// on the Click bus for frames `at..at + n` of `out` (deck `a` rendered
    /// them from `song_pos`).
    fn song_click(
        &self,
        sl: &EngineSetlist,
        a: usize,
        song_pos: u64,
        at: usize,
        n: usize,
        out: &mut BusBlock,
    ) {
        let song = self.decks[a].song;
        let Some(tempo) = sl
            .songs
            .get(song as usize)
            .and_then(|s| s.tempo)
            .filter(|t| t.click)
        else {
            return;
        };
        let has_click_stem = (0..MAX_STEMS)
            .map_while(|stem| Self::stem_ref(sl, a, song, stem))
            .any(|(_, flat)| sl.stems[flat].mix.bus == Bus::Click);
        if has_click_stem {
            return;
        }
        let grid = BeatGrid::of(&tempo, self.config.engine_rate_hz);
        let (l, r) = out.bus_mut(Bus::Click.index());
        self.click_sounds
            .mix(&grid, song_pos, &mut l[at..at + n], &mut r[at..at + n]);
    }

    /// A song that ends with a fade ([`crate::bridge::SongEnd::Fade`]): scales frames
    /// `at..at + n` of `out`, which deck `a` rendered from `song_pos`, by
    /// the fade's gain where they fall in the song's last fade frames:
    /// `cos(π/2 · t)` over `t` from 0 at the fade's first frame to 1 at
    /// the song's end, monotone down to the last frame.
    fn song_fade(
        &self,
        sl: &EngineSetlist,
        a: usize,
        song_pos: u64,
        at: usize,
        n: usize,
        out: &mut BusBlock,
    ) {
        let Some(song) = sl.songs.get(self.decks[a].song as usize) else {
            return;
        };
        let fade = song.end.fade_frames(self.config.engine_rate_hz);
        if fade == 0 {
            return;
        }
        let start = song.length_frames.saturating_sub(fade);
        if song_pos + n as u64 <= start {
            return;
        }
        let fade_len = song.length_frames - start;
        out.scale(at, at + n, |i| {
            let p = song_pos + i as u64;
            if p < start {
                1.0
            } else {
                let t = (p - start) as f64 / fade_len as f64;
                (t.min(1.0) * std::f64::consts::FRAC_PI_2).cos() as f32
            }
        });
    }

    /// Mixes `n` frames of deck `d` into `mix` (each bus its stems go to)
    /// and advances its position. Late stems are silent, counted, and fade
    /// back in.
    pub(super) fn render_deck(
        &mut self,
        sl: &EngineSetlist,
        d: usize,
        n: usize,
        mix: &mut BusBlock,
    ) {
        mix.clear(n);
        let song = self.decks[d].song;
        let pos = self.decks[d].position_frames;
        let any_solo = any_solo(sl, song);
        let metered = self.active == Some(d);
        let mut missing_total = 0u64;
        for stem in 0..MAX_STEMS {
            let Some((sref, flat)) = Self::stem_ref(sl, d, song, stem) else {
                break;
            };
            let stem_mix = &sl.stems[flat].mix;
            let target = target_gains(stem_mix, any_solo);
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
            let (mix_l, mix_r) = mix.bus_mut(stem_mix.bus.index());
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
