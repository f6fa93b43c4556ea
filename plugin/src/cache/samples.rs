//! LOADER THREADS: the integer form of a chunk's samples (the loader's
//! interleaved `f32` ↔ the `i32` integers FLAC and RAW store), raw packing,
//! and the checksum of decoded samples.
//!
//! # Bit depth
//! A stored sample is an integer `q` of `bits` bits (8..=24) and the chunk
//! has a power-of-two gain `2^gain_exp`: the value played is
//! `q · 2^(gain_exp − (bits − 1))`, which is exact in `f32` (|q| < 2^24).
//!
//! - **Exact sources** (PCM/FLAC/ALAC of ≤ 24 bits played at their own
//!   rate): symphonia's `f32` samples are exactly `k / 2^(bits−1)`, so they
//!   are stored at the source depth, losslessly, and read back bit for bit.
//!   This is *verified* per chunk: one sample that is not exactly
//!   representable (a caller passing gain-processed audio, a source that
//!   lies about its depth) makes the chunk fall back to the lossy path.
//!   (−0.0 counts as exact and reads back as 0.0, the same value; symphonia
//!   never produces it from integers.)
//! - **Everything else** (resampled, lossy codecs, float and 32-bit
//!   sources) is rounded by the loader to the [`OTHER_GRID_EXP`] grid
//!   before it is played or cached, so its chunks are stored exactly too;
//!   the store refuses a chunk it could not return bit for bit
//!   ([`super::CacheError::Inexact`]: peaks of +6 dBFS or more, or samples
//!   off the grid), which is then always decoded from the source. The
//!   quantizer below rounds to nearest 24 bits. The
//!   quantization noise is ≈ −144 dBFS (1 LSB of 24 bits is −138 dBFS; the
//!   rounding error's RMS is that / √12), below what these sources carry:
//!   our resampler's own noise floor measures −144 dB, lossy codecs sit far
//!   above, and 24 bits is past any converter's dynamic range. Storing
//!   `f32` instead would cost a third more raw bytes and FLAC cannot hold
//!   it. To never clip, a chunk whose peak reaches 0 dBFS (resampler
//!   overshoot, hot float files) takes the smallest `gain_exp` with
//!   `peak < 2^gain_exp` (6 dB of headroom per step, up to
//!   [`MAX_GAIN_EXP`]); NaN is stored as 0 and ±∞ clamps (the loader turns
//!   those into silence before anyway). Such a chunk is still *lossless*
//!   when every sample happened to be exact (e.g. a silent chunk).

/// Samples of [`crate::cache::SampleOrigin::Other`] stems (resampled,
/// lossy, float) are rounded by the loader to multiples of
/// `2^-OTHER_GRID_EXP`: 24-bit integers with one bit of headroom (values
/// up to ±2, +6 dBFS, for resampler overshoot), quantization noise ≈ −138
/// dBFS RMS. A chunk of such samples whose peak stays below 2 is stored
/// exactly (gain exponent 0 or 1), so a cache hit equals the decode.
pub const OTHER_GRID_EXP: i32 = 22;

/// Rounds every sample to the nearest multiple of `2^-OTHER_GRID_EXP`
/// (ties to even not needed: `f32::round`, half away from zero). Exact for
/// every finite `f32` (scaling by a power of two is exact; values of
/// magnitude ≥ 2 are on the grid already); non-finite values stay as they
/// are.
pub fn round_to_grid(samples: &mut [f32]) {
    let scale = pow2(OTHER_GRID_EXP);
    let inv = pow2(-OTHER_GRID_EXP);
    for s in samples {
        if s.abs() < 2.0 {
            *s = (*s * scale).round() * inv;
        }
    }
}

/// The largest chunk gain exponent: values up to ±2^16 (+96 dBFS) are
/// stored, beyond that they clamp.
pub const MAX_GAIN_EXP: u8 = 16;

/// Bit depth of the lossy (quantized) path.
pub const LOSSY_BITS: u8 = 24;

/// How a chunk's samples are stored as integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Depth {
    /// Bits per stored integer sample, 8..=24.
    pub bits: u8,
    /// The chunk's gain exponent: values are scaled by `2^gain_exp`.
    pub gain_exp: u8,
}

impl Depth {
    /// Whether this depth is one the chunk format can hold.
    pub fn is_valid(self) -> bool {
        (8..=24).contains(&self.bits) && self.gain_exp <= MAX_GAIN_EXP
    }

    /// The `f32` value of one stored integer step: `2^(gain_exp − (bits − 1))`.
    pub fn step(self) -> f32 {
        pow2(i32::from(self.gain_exp) - (i32::from(self.bits) - 1))
    }

    /// Bytes per sample in RAW encoding (little-endian two's complement).
    pub fn raw_bytes_per_sample(self) -> usize {
        usize::from(self.bits).div_ceil(8)
    }
}

/// `2^exp` exactly, for `exp` in −126..=127 (normal `f32` range).
fn pow2(exp: i32) -> f32 {
    debug_assert!((-126..=127).contains(&exp));
    f32::from_bits(((127 + exp) as u32) << 23)
}

/// The integer form of `samples` (interleaved `f32`), written to `out`
/// (cleared first; same length). `exact_bits` is the source depth when the
/// samples should be exact integers of it. Returns the depth chosen and
/// whether the integers represent `samples` exactly (lossless).
pub fn quantize(samples: &[f32], exact_bits: Option<u8>, out: &mut Vec<i32>) -> (Depth, bool) {
    out.clear();
    out.reserve(samples.len());
    if let Some(bits) = exact_bits.filter(|b| *b <= 24) {
        // Exact at a lower depth means exact at any higher one: 1..7-bit
        // sources are stored as 8 bits (FLAC's minimum here).
        let depth = Depth {
            bits: bits.max(8),
            gain_exp: 0,
        };
        if quantize_exact(samples, depth, out) {
            return (depth, true);
        }
        out.clear();
    }
    let peak = samples
        .iter()
        .filter(|s| s.is_finite())
        .fold(0.0f32, |m, s| m.max(s.abs()));
    let mut gain_exp = 0u8;
    while gain_exp < MAX_GAIN_EXP && peak >= pow2(i32::from(gain_exp)) {
        gain_exp += 1;
    }
    let depth = Depth {
        bits: LOSSY_BITS,
        gain_exp,
    };
    let lossless = quantize_rounding(samples, depth, out);
    (depth, lossless)
}

/// Pushes `samples` as integers of `depth` if every one is exactly
/// representable; `false` at the first that is not.
fn quantize_exact(samples: &[f32], depth: Depth, out: &mut Vec<i32>) -> bool {
    let scale = 1.0 / f64::from(depth.step());
    let max = f64::from(1u32 << (depth.bits - 1));
    for &s in samples {
        // Scaling by a power of two is exact in f64; NaN fails the tests.
        let x = f64::from(s) * scale;
        if !(x >= -max && x < max && x == x.trunc()) {
            return false;
        }
        out.push(x as i32);
    }
    true
}

/// Pushes `samples` rounded to the nearest integer of `depth`, clamped;
/// returns whether no sample changed.
fn quantize_rounding(samples: &[f32], depth: Depth, out: &mut Vec<i32>) -> bool {
    let scale = 1.0 / f64::from(depth.step());
    let max = f64::from(1u32 << (depth.bits - 1));
    let mut lossless = true;
    for &s in samples {
        let x = f64::from(s) * scale;
        let q = if x.is_nan() {
            0.0
        } else {
            x.round().clamp(-max, max - 1.0)
        };
        lossless &= q == x;
        out.push(q as i32);
    }
    lossless
}

/// Converts stored integers back to `f32`, appending to `out`.
pub fn dequantize(ints: &[i32], depth: Depth, out: &mut Vec<f32>) {
    let step = depth.step();
    out.extend(ints.iter().map(|&q| q as f32 * step));
}

/// CRC-32 of `samples` as little-endian `f32` bit patterns: the checksum of
/// exactly what a read hands out.
pub fn samples_crc(samples: &[f32]) -> u32 {
    samples_crc_iter(samples.iter().copied())
}

/// [`samples_crc`] of the samples an iterator yields.
pub fn samples_crc_iter(samples: impl Iterator<Item = f32>) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    let mut buf = [0u8; 4096];
    let mut len = 0;
    for s in samples {
        buf[len..len + 4].copy_from_slice(&s.to_bits().to_le_bytes());
        len += 4;
        if len == buf.len() {
            hasher.update(&buf);
            len = 0;
        }
    }
    hasher.update(&buf[..len]);
    hasher.finalize()
}

/// Appends `ints` as RAW payload: `depth.raw_bytes_per_sample()` bytes
/// each, little-endian two's complement.
pub fn pack_raw(ints: &[i32], depth: Depth, out: &mut Vec<u8>) {
    let n = depth.raw_bytes_per_sample();
    out.reserve(ints.len() * n);
    for &q in ints {
        out.extend_from_slice(&q.to_le_bytes()[..n]);
    }
}

/// Reads a RAW payload back into integers (appended to `out`); `None` if
/// its length is not a whole number of samples or a value is out of the
/// depth's range.
pub fn unpack_raw(payload: &[u8], depth: Depth, out: &mut Vec<i32>) -> Option<()> {
    let n = depth.raw_bytes_per_sample();
    if !payload.len().is_multiple_of(n) {
        return None;
    }
    let shift = 32 - 8 * n as u32;
    let max = 1i32 << (depth.bits - 1);
    out.reserve(payload.len() / n);
    for b in payload.chunks_exact(n) {
        let mut word = [0u8; 4];
        word[..n].copy_from_slice(b);
        // Sign-extend from n bytes.
        let q = (i32::from_le_bytes(word) << shift) >> shift;
        if q < -max || q >= max {
            return None;
        }
        out.push(q);
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(samples: &[f32], exact_bits: Option<u8>) -> (Depth, bool, Vec<f32>) {
        let mut ints = Vec::new();
        let (depth, lossless) = quantize(samples, exact_bits, &mut ints);
        let mut raw = Vec::new();
        pack_raw(&ints, depth, &mut raw);
        assert_eq!(raw.len(), ints.len() * depth.raw_bytes_per_sample());
        let mut back = Vec::new();
        unpack_raw(&raw, depth, &mut back).expect("unpack");
        assert_eq!(back, ints);
        let mut out = Vec::new();
        dequantize(&back, depth, &mut out);
        (depth, lossless, out)
    }

    #[test]
    fn exact_16_and_24_bit_round_trip_bit_for_bit() {
        for bits in [8u8, 16, 20, 24] {
            let max = 1i32 << (bits - 1);
            let ints = [-max, -max + 1, -1, 0, 1, max - 2, max - 1, 12345 % max];
            let samples: Vec<f32> = ints.iter().map(|&k| k as f32 / max as f32).collect();
            let (depth, lossless, out) = round_trip(&samples, Some(bits));
            assert_eq!(depth, Depth { bits, gain_exp: 0 });
            assert!(lossless);
            let bits_in: Vec<u32> = samples.iter().map(|s| s.to_bits()).collect();
            let bits_out: Vec<u32> = out.iter().map(|s| s.to_bits()).collect();
            assert_eq!(bits_in, bits_out, "{bits}-bit");
        }
    }

    #[test]
    fn inexact_sample_in_exact_source_falls_back_to_24_bit() {
        let samples = [0.5, 0.25, 1.0 / 3.0];
        let (depth, lossless, out) = round_trip(&samples, Some(16));
        assert_eq!(
            depth,
            Depth {
                bits: 24,
                gain_exp: 0
            }
        );
        assert!(!lossless);
        assert_eq!(&out[..2], &samples[..2]);
        assert!((out[2] - samples[2]).abs() <= 0.5 / 8_388_608.0);
    }

    #[test]
    fn lossy_quantizes_to_nearest_24_bit_step_with_headroom() {
        let samples = [0.1f32, -0.7, 0.999_999_9, -1.0];
        let (depth, lossless, out) = round_trip(&samples, None);
        assert_eq!(depth.gain_exp, 1, "-1.0 needs one step of headroom");
        assert!(!lossless);
        for (a, b) in samples.iter().zip(&out) {
            assert!((a - b).abs() <= depth.step() / 2.0, "{a} → {b}");
        }
        // Quantizing what was read back changes nothing: stable.
        let (depth2, lossless2, out2) = round_trip(&out, None);
        assert_eq!(depth2, depth);
        assert!(lossless2);
        assert_eq!(out2, out);
    }

    #[test]
    fn overs_keep_their_value_and_non_finite_values_are_tamed() {
        let samples = [
            3.5f32,
            -2.25,
            0.0,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ];
        let (depth, lossless, out) = round_trip(&samples, None);
        assert_eq!(depth.gain_exp, 2);
        assert!(!lossless);
        assert_eq!(&out[..3], &[3.5, -2.25, 0.0]);
        assert_eq!(out[3], 0.0);
        assert!(out[4] > 3.99 && out[5] == -4.0);
        let (depth, _, _) = round_trip(&[1.0e9], None);
        assert_eq!(depth.gain_exp, MAX_GAIN_EXP);
    }

    #[test]
    fn silence_from_a_lossy_source_is_lossless() {
        let (_, lossless, out) = round_trip(&[0.0; 64], None);
        assert!(lossless);
        assert_eq!(out, vec![0.0; 64]);
    }

    #[test]
    fn raw_rejects_ragged_or_out_of_range_payloads() {
        let d16 = Depth {
            bits: 16,
            gain_exp: 0,
        };
        let mut out = Vec::new();
        assert!(unpack_raw(&[1, 2, 3], d16, &mut out).is_none());
        let d20 = Depth {
            bits: 20,
            gain_exp: 0,
        };
        // 0x7FFFFF is valid 24-bit but out of range for 20 bits.
        assert!(unpack_raw(&[0xFF, 0xFF, 0x7F], d20, &mut out).is_none());
    }

    #[test]
    fn sample_crc_sees_sign_of_zero_and_order() {
        assert_ne!(samples_crc(&[0.0]), samples_crc(&[-0.0]));
        assert_ne!(samples_crc(&[0.5, 0.25]), samples_crc(&[0.25, 0.5]));
        let long: Vec<f32> = (0..5000).map(|i| i as f32).collect();
        let mut bytes = Vec::new();
        for s in &long {
            bytes.extend_from_slice(&s.to_le_bytes());
        }
        assert_eq!(samples_crc(&long), crc32fast::hash(&bytes));
    }
}
