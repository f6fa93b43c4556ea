//! ANALYSIS THREAD: the long-term spectrum of a song's mix,
//! folded into a few bands: the tonal balance the auto-master's gentle
//! correction compares with its reference.
//!
//! Welch's method: 4096-frame Hann windows of each channel with 50 %
//! overlap, power summed per FFT bin over both channels (`realfft`) and the
//! whole song: the channel sum BS.1770-4 measures loudness on (a mid
//! signal would weigh correlated bass and wide highs differently).

use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};

use crate::dsp::kweight::k_power_response;

/// FFT length in frames: 4096 frames ≈ 85 ms at 48 kHz, 11.7 Hz bins.
pub const FFT_FRAMES: usize = 4096;

/// The balance bands, Hz (lower edge inclusive): lows, low mids, mids,
/// highs. Each maps to one filter of the tonal correction.
pub const BANDS_HZ: [(f64, f64); BANDS] = [
    (20.0, 150.0),
    (150.0, 600.0),
    (600.0, 4000.0),
    (4000.0, 16000.0),
];

/// Number of balance bands.
pub const BANDS: usize = 4;

/// Third-octave bands of the K-weighted spectrum: centres 20 Hz · 2^(k/3),
/// 20 Hz … 20 kHz.
pub const THIRD_OCTAVES: usize = 31;

/// Centre of third-octave band `k`, Hz.
pub fn third_octave_hz(k: usize) -> f64 {
    20.0 * 2f64.powf(k as f64 / 3.0)
}

/// Accumulates the power spectrum of a stereo stream.
pub struct SpectrumMeter {
    rate_hz: u32,
    fft: Arc<dyn RealToComplex<f64>>,
    window: Vec<f64>,
    /// Each channel's samples not yet analysed (at most one FFT's worth).
    pending: [Vec<f64>; 2],
    input: Vec<f64>,
    output: Vec<realfft::num_complex::Complex<f64>>,
    scratch: Vec<realfft::num_complex::Complex<f64>>,
    /// Power per bin, summed over windows.
    power: Vec<f64>,
    windows: u64,
}

impl SpectrumMeter {
    /// A meter for a stream at `rate_hz`.
    pub fn new(rate_hz: u32) -> Self {
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(FFT_FRAMES);
        let window = (0..FFT_FRAMES)
            .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / FFT_FRAMES as f64).cos())
            .collect();
        Self {
            rate_hz,
            input: fft.make_input_vec(),
            output: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            power: vec![0.0; FFT_FRAMES / 2 + 1],
            fft,
            window,
            pending: [
                Vec::with_capacity(FFT_FRAMES),
                Vec::with_capacity(FFT_FRAMES),
            ],
            windows: 0,
        }
    }

    /// Takes interleaved stereo frames.
    pub fn add(&mut self, interleaved: &[f32]) {
        for frame in interleaved.chunks_exact(2) {
            self.pending[0].push(f64::from(frame[0]));
            self.pending[1].push(f64::from(frame[1]));
            if self.pending[0].len() == FFT_FRAMES {
                for ch in 0..2 {
                    self.analyse_pending(ch);
                    // 50 % overlap: keep the second half.
                    self.pending[ch].drain(..FFT_FRAMES / 2);
                }
                self.windows += 1;
            }
        }
    }

    fn analyse_pending(&mut self, ch: usize) {
        for ((x, w), out) in self.pending[ch]
            .iter()
            .zip(&self.window)
            .zip(&mut self.input)
        {
            *out = x * w;
        }
        if self
            .fft
            .process_with_scratch(&mut self.input, &mut self.output, &mut self.scratch)
            .is_ok()
        {
            for (p, c) in self.power.iter_mut().zip(&self.output) {
                *p += c.norm_sqr();
            }
        }
    }

    /// The balance: each band's power in dB relative to the total power of
    /// all bands (0 dB: all of it), and the K-weighted power per third
    /// octave as shares of its total (what a filter does to the loudness).
    /// `None` for a silent stream.
    pub fn balance(&self) -> Option<([f64; BANDS], [f64; THIRD_OCTAVES])> {
        let bin_hz = f64::from(self.rate_hz) / FFT_FRAMES as f64;
        let mut plain = [0.0f64; BANDS];
        let mut weighted = [0.0f64; THIRD_OCTAVES];
        for (bin, p) in self.power.iter().enumerate().skip(1) {
            let f = bin as f64 * bin_hz;
            if let Some(b) = BANDS_HZ.iter().position(|(lo, hi)| f >= *lo && f < *hi) {
                plain[b] += p;
            }
            // The nearest third octave (edges at the geometric midpoints).
            let k = (3.0 * (f / 20.0).log2()).round();
            if (0.0..THIRD_OCTAVES as f64).contains(&k) {
                weighted[k as usize] += p * k_power_response(f, self.rate_hz);
            }
        }
        let total: f64 = plain.iter().sum();
        let total_k: f64 = weighted.iter().sum();
        if self.windows == 0 || total <= 0.0 || total_k <= 0.0 {
            return None;
        }
        let levels = plain.map(|p| 10.0 * (p.max(total * 1e-12) / total).log10());
        let shares = weighted.map(|p| p / total_k);
        Some((levels, shares))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sine_lands_in_its_band() {
        let mut m = SpectrumMeter::new(48_000);
        let frames: Vec<f32> = (0..48_000)
            .flat_map(|n| {
                let x = (2.0 * std::f32::consts::PI * 1000.0 * n as f32 / 48_000.0).sin();
                [x, x]
            })
            .collect();
        m.add(&frames);
        let (levels, shares) = m.balance().expect("not silent");
        assert!(levels[2] > -0.01, "{levels:?}");
        assert!(levels[0] < -60.0 && levels[3] < -60.0, "{levels:?}");
        // 1 kHz is third octave 50·… : 20·2^(17/3) ≈ 1008 Hz.
        assert!(shares[17] > 0.99, "{shares:?}");
    }

    #[test]
    fn silence_has_no_balance() {
        let mut m = SpectrumMeter::new(44_100);
        m.add(&[0.0; 20_000]);
        assert!(m.balance().is_none());
    }
}
