//! ANY THREAD: the K-weighting filter of ITU-R BS.1770-4 (a high shelf of
//! about +4 dB above 1.5 kHz, then a high-pass at 38 Hz: the "RLB"
//! curve), at any rate, and its magnitude response.
//!
//! The standard gives the two biquads' coefficients for 48 kHz only; for
//! other rates they are re-derived from the analogue prototypes' centre
//! frequency, gain and Q, as libebur128 (and the `ebur128` crate) do, so
//! both meters agree at every rate. Realtime-safe after construction.

use biquad::{Biquad, Coefficients, DirectForm2Transposed};

/// The two stages' coefficients at `rate_hz`: (pre-filter shelf, RLB
/// high-pass).
pub fn coefficients(rate_hz: u32) -> [Coefficients<f64>; 2] {
    let rate = f64::from(rate_hz);
    // Stage 1: the head's acoustic effect, a high shelf.
    let f0 = 1_681.974_450_955_533;
    let gain_db = 3.999_843_853_973_347;
    let q = 0.707_175_236_955_419_6;
    let k = (std::f64::consts::PI * f0 / rate).tan();
    let vh = 10f64.powf(gain_db / 20.0);
    let vb = vh.powf(0.499_666_774_154_541_6);
    let a0 = 1.0 + k / q + k * k;
    let shelf = Coefficients {
        b0: (vh + vb * k / q + k * k) / a0,
        b1: 2.0 * (k * k - vh) / a0,
        b2: (vh - vb * k / q + k * k) / a0,
        a1: 2.0 * (k * k - 1.0) / a0,
        a2: (1.0 - k / q + k * k) / a0,
    };
    // Stage 2: the RLB high-pass.
    let f0 = 38.135_470_876_024_44;
    let q = 0.500_327_037_323_877_3;
    let k = (std::f64::consts::PI * f0 / rate).tan();
    let a0 = 1.0 + k / q + k * k;
    let high_pass = Coefficients {
        b0: 1.0,
        b1: -2.0,
        b2: 1.0,
        a1: 2.0 * (k * k - 1.0) / a0,
        a2: (1.0 - k / q + k * k) / a0,
    };
    [shelf, high_pass]
}

/// Power gain |H(f)|² of one biquad at `freq_hz`.
pub fn power_response(c: &Coefficients<f64>, freq_hz: f64, rate_hz: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq_hz / rate_hz;
    // H(e^jw) = (b0 + b1 z^-1 + b2 z^-2) / (1 + a1 z^-1 + a2 z^-2).
    let (c1, s1) = (w.cos(), -w.sin());
    let (c2, s2) = ((2.0 * w).cos(), -(2.0 * w).sin());
    let num_re = c.b0 + c.b1 * c1 + c.b2 * c2;
    let num_im = c.b1 * s1 + c.b2 * s2;
    let den_re = 1.0 + c.a1 * c1 + c.a2 * c2;
    let den_im = c.a1 * s1 + c.a2 * s2;
    (num_re * num_re + num_im * num_im) / (den_re * den_re + den_im * den_im)
}

/// The K-weighting power gain at `freq_hz` (both stages).
pub fn k_power_response(freq_hz: f64, rate_hz: u32) -> f64 {
    coefficients(rate_hz)
        .iter()
        .map(|c| power_response(c, freq_hz, f64::from(rate_hz)))
        .product()
}

/// One channel's K-weighting filter (state carries across calls).
#[derive(Clone, Copy, Debug)]
pub struct KWeighting {
    stages: [DirectForm2Transposed<f64, f64>; 2],
}

impl KWeighting {
    /// A filter at `rate_hz` with silent state.
    pub fn new(rate_hz: u32) -> Self {
        let [a, b] = coefficients(rate_hz);
        Self {
            stages: [DirectForm2Transposed::new(a), DirectForm2Transposed::new(b)],
        }
    }

    /// Filters one sample. Realtime-safe.
    #[inline]
    pub fn run(&mut self, x: f64) -> f64 {
        let y = self.stages[0].run(x);
        self.stages[1].run(y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_48k_coefficients_are_the_standards() {
        // BS.1770-4 Table 1 and Table 2 (48 kHz).
        let [shelf, hp] = coefficients(48_000);
        for (got, want) in [
            (shelf.b0, 1.535_124_859_586_97),
            (shelf.b1, -2.691_696_189_406_38),
            (shelf.b2, 1.198_392_810_852_85),
            (shelf.a1, -1.690_659_293_182_41),
            (shelf.a2, 0.732_480_774_215_85),
            (hp.a1, -1.990_047_454_833_98),
            (hp.a2, 0.990_072_250_366_21),
        ] {
            assert!((got - want).abs() < 1e-8, "{got} vs {want}");
        }
    }

    #[test]
    fn k_weighting_is_flat_at_1k_up_4_db_at_10k_and_cuts_the_bass() {
        let db = |f: f64| 10.0 * k_power_response(f, 48_000).log10();
        assert!(db(1000.0).abs() < 0.7, "{}", db(1000.0));
        assert!((db(10_000.0) - 4.0).abs() < 0.3, "{}", db(10_000.0));
        assert!(db(20.0) < -10.0, "{}", db(20.0));
    }
}
