//! Resampler choice, measured: rubato's fixed-ratio FFT resampler (what
//! Trax uses, ≈ 1000-tap Blackman-Harris windowed sinc) against its
//! high-quality asynchronous sinc resampler (256 taps, 256× oversampled,
//! cubic interpolation), in one run. Prints speed on real corpus stems in
//! multiples of real time per core, and quality as the error of a resampled
//! sine (1 kHz and 15 kHz at -6 dBFS) against the exact sine at the output
//! rate: that error includes any timing error of the delay compensation.
//!
//! Run: `cargo bench --bench resampler`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use rubato::audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{
    Async, Fft, FixedAsync, FixedSync, Resampler, SincInterpolationParameters,
    SincInterpolationType, WindowFunction,
};

const ENGINE_HZ: usize = 48_000;

/// Resamples planar `input` whole, returns planar output with the
/// resampler's delay removed, trimmed to the expected length.
fn run(r: &mut dyn Resampler<f32>, input: &[Vec<f32>], out_len: usize) -> Vec<Vec<f32>> {
    let ch = input.len();
    let frames = input[0].len();
    let delay = r.output_delay();
    let mut out = vec![Vec::with_capacity(out_len + delay); ch];
    let mut at = 0;
    let mut buf_out = vec![vec![0.0f32; r.output_frames_max()]; ch];
    while out[0].len() < out_len + delay {
        let need = r.input_frames_next();
        let block: Vec<Vec<f32>> = (0..ch)
            .map(|c| {
                (at..at + need)
                    .map(|i| input[c].get(i).copied().unwrap_or(0.0))
                    .collect()
            })
            .collect();
        let frames_out = buf_out[0].len();
        let block_in = SequentialSliceOfVecs::new(&block[..], ch, need).expect("input");
        let mut block_out =
            SequentialSliceOfVecs::new_mut(&mut buf_out[..], ch, frames_out).expect("output");
        let (_, written) = r
            .process_into_buffer(&block_in, &mut block_out, None)
            .expect("resample");
        for c in 0..ch {
            out[c].extend_from_slice(&buf_out[c][..written]);
        }
        at += need;
        if at > frames + 10 * need + out_len {
            break;
        }
    }
    out.iter()
        .map(|c| c[delay..delay + out_len].to_vec())
        .collect()
}

fn sinc(ratio: f64, taps: usize, oversampling: usize, ch: usize) -> Async<f32> {
    Async::new_sinc(
        ratio,
        1.0,
        &SincInterpolationParameters {
            sinc_len: taps,
            f_cutoff: Some(0.95),
            interpolation: SincInterpolationType::Cubic,
            oversampling_factor: oversampling,
            window: WindowFunction::BlackmanHarris2,
        },
        1024,
        ch,
        FixedAsync::Input,
    )
    .expect("sinc")
}

/// The FFT resampler as the cursor builds it (both sides fixed, one FFT per
/// block).
fn fft(rate: usize, block: usize, ch: usize) -> Fft<f32> {
    Fft::new_custom(
        rate,
        ENGINE_HZ,
        block,
        1,
        ch,
        WindowFunction::BlackmanHarris2,
        FixedSync::Both,
    )
    .expect("fft")
}

/// RMS error in dB (relative to full scale) of `out` against the exact sine
/// `amp · sin(2π f n / rate)`, over the middle of the signal.
fn sine_error_db(out: &[f32], amp: f64, f_hz: f64, rate: f64) -> f64 {
    let skip = out.len() / 10;
    let mut sum = 0.0f64;
    for (n, y) in out.iter().enumerate().skip(skip).take(out.len() - 2 * skip) {
        let want = amp * (2.0 * std::f64::consts::PI * f_hz * n as f64 / rate).sin();
        sum += (*y as f64 - want).powi(2);
    }
    10.0 * (sum / (out.len() - 2 * skip) as f64).log10()
}

/// Least-squares fit of `a·sin(w n) + b·cos(w n)` to the middle 80 % of
/// `out`; returns `(a, b, w, first, count)`.
fn fit_sine(out: &[f32], f_hz: f64, rate: f64) -> (f64, f64, f64, usize, usize) {
    let w = 2.0 * std::f64::consts::PI * f_hz / rate;
    let skip = out.len() / 10;
    let count = out.len() - 2 * skip;
    let (mut ss, mut sc, mut cc, mut ys, mut yc) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (n, y) in out.iter().enumerate().skip(skip).take(count) {
        let (s, c) = (w * n as f64).sin_cos();
        ss += s * s;
        sc += s * c;
        cc += c * c;
        ys += *y as f64 * s;
        yc += *y as f64 * c;
    }
    let det = ss * cc - sc * sc;
    (
        (ys * cc - yc * sc) / det,
        (yc * ss - ys * sc) / det,
        w,
        skip,
        count,
    )
}

/// RMS residual in dB after removing the best-fitting sine of frequency
/// `f_hz` (any amplitude and phase): noise and distortion, independent of
/// timing.
fn sine_residual_db(out: &[f32], f_hz: f64, rate: f64) -> f64 {
    let (a, b, w, skip, count) = fit_sine(out, f_hz, rate);
    let sum: f64 = out
        .iter()
        .enumerate()
        .skip(skip)
        .take(count)
        .map(|(n, y)| {
            let (s, c) = (w * n as f64).sin_cos();
            (*y as f64 - a * s - b * c).powi(2)
        })
        .sum();
    10.0 * (sum / count as f64).log10()
}

/// Time offset (output frames; positive = late) of `out` against the exact
/// sine: `y ≈ A sin(w n + φ)` with `φ = atan2(b, a)` is a lag of `-φ/w`.
fn sine_lag_frames(out: &[f32], f_hz: f64, rate: f64) -> f64 {
    let (a, b, w, _, _) = fit_sine(out, f_hz, rate);
    -b.atan2(a) / w
}

fn main() {
    let corpus = common::corpus();
    let files = [
        corpus.join("songs/03_planetblupi_music000/01_acc_1_piano.wav"),
        corpus.join("songs/01_singularity_awakening/03_lowmid_44k1.mp3"),
        corpus.join("songs/05_planetblupi_music003_96k/05_drums_snare.flac"),
    ];
    println!("# Resampler choice (engine {ENGINE_HZ} Hz)");
    println!("\n## Speed on corpus stems (one core)");
    println!(
        "{:<28} {:>8} {:>14} {:>15} {:>10}",
        "stem", "rate", "fft ×realtime", "sinc ×realtime", "fft/sinc"
    );
    for f in &files {
        let (ch, rate, samples) = common::symphonia_full_decode(f);
        let planar: Vec<Vec<f32>> = (0..ch)
            .map(|c| samples.iter().skip(c).step_by(ch).copied().collect())
            .collect();
        let frames = planar[0].len();
        let out_len = (frames as u64 * ENGINE_HZ as u64).div_ceil(rate as u64) as usize;
        let secs = frames as f64 / rate as f64;
        let block = trax::loader::cursor::resampler_block_frames(rate, ENGINE_HZ as u32);
        let mut fft = fft(rate as usize, block, ch);
        let t = Instant::now();
        run(&mut fft, &planar, out_len);
        let fft_speed = secs / t.elapsed().as_secs_f64();
        let mut s = sinc(ENGINE_HZ as f64 / rate as f64, 256, 256, ch);
        let t = Instant::now();
        run(&mut s, &planar, out_len);
        let sinc_speed = secs / t.elapsed().as_secs_f64();
        println!(
            "{:<28} {:>8} {:>13.0}x {:>14.0}x {:>9.1}x",
            f.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            rate,
            fft_speed,
            sinc_speed,
            fft_speed / sinc_speed
        );
    }
    println!("\n## A resampled -6 dBFS sine: RMS error against the exact sine, noise + distortion after a best fit (dBFS), and lag (output frames)");
    println!(
        "{:<8} {:>8} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "rate", "sine Hz", "fft err", "sinc err", "fft N+D", "sinc N+D", "fft lag", "sinc lag"
    );
    for rate in [44_100usize, 96_000] {
        for f_hz in [1_000.0f64, 15_000.0] {
            let frames = rate * 3;
            let input = vec![(0..frames)
                .map(|i| {
                    (0.5 * (2.0 * std::f64::consts::PI * f_hz * i as f64 / rate as f64).sin())
                        as f32
                })
                .collect::<Vec<f32>>()];
            let out_len = frames * ENGINE_HZ / rate;
            let block = trax::loader::cursor::resampler_block_frames(rate as u32, ENGINE_HZ as u32);
            let mut fft = fft(rate, block, 1);
            let a = run(&mut fft, &input, out_len);
            let mut s = sinc(ENGINE_HZ as f64 / rate as f64, 256, 256, 1);
            let b = run(&mut s, &input, out_len);
            let e = ENGINE_HZ as f64;
            println!(
                "{:<8} {:>8.0} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>10.3} {:>10.3}",
                rate,
                f_hz,
                sine_error_db(&a[0], 0.5, f_hz, e),
                sine_error_db(&b[0], 0.5, f_hz, e),
                sine_residual_db(&a[0], f_hz, e),
                sine_residual_db(&b[0], f_hz, e),
                sine_lag_frames(&a[0], f_hz, e),
                sine_lag_frames(&b[0], f_hz, e)
            );
        }
    }
}
