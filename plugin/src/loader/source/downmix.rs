//! ANY THREAD: down-mixing decoded frames to the one or two channels a stem
//! plays with.

/// Appends `input` (interleaved, `in_ch` channels) to `out` with `out_ch`
/// (1 or 2) channels. More than two channels are down-mixed: odd channels
/// (1st, 3rd, …) to the left, even ones to the right, centre-like channels
/// (the 3rd of 3 or more, i.e. FC in the WAV/FLAC order) to both at -3 dB,
/// each side normalised by the number of channels summed into it.
pub fn downmix_into(input: &[f32], in_ch: usize, out_ch: usize, out: &mut Vec<f32>) {
    if in_ch == out_ch {
        out.extend_from_slice(input);
        return;
    }
    if in_ch == 2 && out_ch == 1 {
        out.extend(input.chunks_exact(2).map(|f| 0.5 * (f[0] + f[1])));
        return;
    }
    // in_ch > 2 → stereo.
    let mut wl = 0.0f32;
    let mut wr = 0.0f32;
    let weights: [(f32, f32); 32] = std::array::from_fn(|c| {
        let w = if c >= in_ch {
            (0.0, 0.0)
        } else if c == 2 {
            (
                std::f32::consts::FRAC_1_SQRT_2,
                std::f32::consts::FRAC_1_SQRT_2,
            )
        } else if c == 3 && in_ch >= 6 {
            (0.0, 0.0) // LFE
        } else if c % 2 == 0 {
            (1.0, 0.0)
        } else {
            (0.0, 1.0)
        };
        wl += w.0;
        wr += w.1;
        w
    });
    let (nl, nr) = (1.0 / wl.max(1.0), 1.0 / wr.max(1.0));
    for f in input.chunks_exact(in_ch) {
        let mut l = 0.0;
        let mut r = 0.0;
        for (s, w) in f.iter().zip(&weights) {
            l += s * w.0;
            r += s * w.1;
        }
        out.push(l * nl);
        out.push(r * nr);
    }
}
