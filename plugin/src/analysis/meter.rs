//! ANALYSIS THREAD: measures a stereo stream into an
//! [`Analysis`]: loudness, loudness range and short-term loudness through
//! the `ebur128` crate (ITU-R BS.1770-4 / EBU R128, EBU Tech 3342; its
//! histogram mode, so memory does not grow with the song), the true peak
//! through [`TruePeak`] (8×), the spectrum through [`SpectrumMeter`], and
//! the 10-ms loudness profile through our own K-weighting (the same
//! filter).

use ebur128::{EbuR128, Mode};

use biquad::{Biquad, DirectForm2Transposed};

use super::record::{Analysis, Profile, Segment, PROBE_DB, SEGMENTS_PER_HOP};
use super::spectrum::{SpectrumMeter, BANDS, THIRD_OCTAVES};
use super::store::{dequantize_level, quantize_level};
use crate::dsp::kweight::KWeighting;
use crate::dsp::true_peak::{amplitude_to_db, TruePeak, DELAY_FRAMES};
use crate::engine::master::tone::{self, TONE_BANDS};

/// Why a stream cannot be measured.
#[derive(Debug, thiserror::Error)]
pub enum MeterError {
    /// The loudness meter refused the rate.
    #[error("cannot measure loudness at {rate_hz} Hz: {source}")]
    Rate {
        /// The rate asked for.
        rate_hz: u32,
        /// The meter's error.
        source: ebur128::Error,
    },
}

/// Measures one song's mix, block by block (any block length).
pub struct SongMeter {
    rate_hz: u32,
    ebu: EbuR128,
    true_peak: TruePeak,
    k_weighting: [KWeighting; 2],
    spectrum: SpectrumMeter,
    frames: u64,
    max_true_peak: f32,
    sample_peak: f32,
    sum_squares: f64,
    max_short_term_lufs: f64,
    /// Frames per 100-ms hop and the segment edges inside one hop.
    hop_frames: u32,
    segment_edges: [u32; SEGMENTS_PER_HOP + 1],
    /// Frame position inside the current hop, and the segment it is in.
    hop_pos: u32,
    segment: usize,
    acc: SegmentAcc,
    segments: Vec<Segment>,
    /// Each tone filter at +[`PROBE_DB`], per channel, on the K-weighted
    /// signal, and the hop's powers without and through them.
    probes: [[DirectForm2Transposed<f64, f64>; TONE_BANDS]; 2],
    hop_k_sum: f64,
    hop_probe_sum: [f64; TONE_BANDS],
    tone_probe_db: Vec<[f32; TONE_BANDS]>,
}

#[derive(Default)]
struct SegmentAcc {
    k_sum: f64,
    sum: f64,
    peak: f32,
    frames: u32,
}

impl SongMeter {
    /// A meter for a stereo stream at `rate_hz`.
    ///
    /// # Errors
    /// [`MeterError::Rate`] for a rate the loudness meter does not take
    /// (0, or above 2.8 MHz).
    pub fn new(rate_hz: u32) -> Result<Self, MeterError> {
        let ebu = EbuR128::new(2, rate_hz, Mode::I | Mode::LRA | Mode::S | Mode::HISTOGRAM)
            .map_err(|source| MeterError::Rate { rate_hz, source })?;
        // As the meter counts a 100-ms hop (rounded to the frame).
        let hop_frames = (rate_hz + 5) / 10;
        let segment_edges = std::array::from_fn(|i| {
            (u64::from(hop_frames) * i as u64 / SEGMENTS_PER_HOP as u64) as u32
        });
        Ok(Self {
            rate_hz,
            ebu,
            true_peak: TruePeak::new(),
            k_weighting: [KWeighting::new(rate_hz); 2],
            spectrum: SpectrumMeter::new(rate_hz),
            frames: 0,
            max_true_peak: 0.0,
            sample_peak: 0.0,
            sum_squares: 0.0,
            max_short_term_lufs: f64::NEG_INFINITY,
            hop_frames,
            segment_edges,
            hop_pos: 0,
            segment: 0,
            acc: SegmentAcc::default(),
            segments: Vec::new(),
            probes: std::array::from_fn(|_| {
                std::array::from_fn(|band| {
                    DirectForm2Transposed::new(
                        tone::coefficients(band, PROBE_DB, rate_hz).unwrap_or(
                            biquad::Coefficients {
                                a1: 0.0,
                                a2: 0.0,
                                b0: 1.0,
                                b1: 0.0,
                                b2: 0.0,
                            },
                        ),
                    )
                })
            }),
            hop_k_sum: 0.0,
            hop_probe_sum: [0.0; TONE_BANDS],
            tone_probe_db: Vec::new(),
        })
    }

    /// The rate this meter measures at, Hz.
    pub fn rate_hz(&self) -> u32 {
        self.rate_hz
    }

    /// Frames measured so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Takes interleaved stereo frames (`[l, r, l, r, …]`; an odd last
    /// sample is ignored).
    pub fn add(&mut self, interleaved: &[f32]) {
        let mut rest = &interleaved[..interleaved.len() / 2 * 2];
        while !rest.is_empty() {
            // Up to the end of the current 100-ms hop.
            let to_hop_end = (self.hop_frames - self.hop_pos) as usize;
            let n = (rest.len() / 2).min(to_hop_end);
            let (now, later) = rest.split_at(n * 2);
            self.add_within_hop(now);
            rest = later;
        }
    }

    fn add_within_hop(&mut self, frames: &[f32]) {
        // The meter accepts any finite input; it fails only on a bad
        // channel count, which cannot happen here.
        let _ = self.ebu.add_frames_f32(frames);
        self.spectrum.add(frames);
        for frame in frames.chunks_exact(2) {
            let (l, r) = (frame[0], frame[1]);
            let tp = self.true_peak.push(l, r);
            self.max_true_peak = self.max_true_peak.max(tp);
            self.sample_peak = self.sample_peak.max(l.abs()).max(r.abs());
            let (l64, r64) = (f64::from(l), f64::from(r));
            self.sum_squares += l64 * l64 + r64 * r64;
            let kl = self.k_weighting[0].run(l64);
            let kr = self.k_weighting[1].run(r64);
            self.acc.k_sum += kl * kl + kr * kr;
            self.hop_k_sum += kl * kl + kr * kr;
            for (band, sum) in self.hop_probe_sum.iter_mut().enumerate() {
                let pl = self.probes[0][band].run(kl);
                let pr = self.probes[1][band].run(kr);
                *sum += pl * pl + pr * pr;
            }
            self.acc.sum += l64 * l64 + r64 * r64;
            self.acc.peak = self.acc.peak.max(tp);
            self.acc.frames += 1;
            self.hop_pos += 1;
            if self.hop_pos == self.segment_edges[self.segment + 1] {
                self.close_segment();
            }
        }
        self.frames += (frames.len() / 2) as u64;
        if self.hop_pos == self.hop_frames {
            self.hop_pos = 0;
            self.segment = 0;
            self.close_hop();
            // The meter has just made a new 100-ms block: read the
            // short-term loudness once a full 3-s window exists.
            if self.frames >= 30 * u64::from(self.hop_frames) {
                if let Ok(st) = self.ebu.loudness_shortterm() {
                    self.max_short_term_lufs = self.max_short_term_lufs.max(st);
                }
            }
        }
    }

    fn close_hop(&mut self) {
        let k = std::mem::take(&mut self.hop_k_sum);
        let probes = std::mem::take(&mut self.hop_probe_sum);
        self.tone_probe_db.push(probes.map(|p| {
            if k > 0.0 && p > 0.0 {
                // On the stored grid (centi-dB), computed as the store
                // decodes it.
                let centi = (1000.0 * (p / k).log10()).round().clamp(-32767.0, 32767.0) as i16;
                f32::from(centi) / 100.0
            } else {
                0.0
            }
        }));
    }

    fn close_segment(&mut self) {
        let acc = std::mem::take(&mut self.acc);
        let frames = f64::from(acc.frames.max(1));
        // On the stored grid from the start, so a fresh analysis and a
        // stored one fit the same settings.
        let q = |v: f32| dequantize_level(quantize_level(v));
        self.segments.push(Segment {
            k_power: q((acc.k_sum / frames) as f32),
            power: q((acc.sum / frames / 2.0) as f32),
            true_peak: q(acc.peak),
        });
        self.segment += 1;
    }

    /// The measurements of everything added. Silence measures as -inf
    /// LUFS and dB.
    pub fn finish(mut self) -> Analysis {
        // The detector lags by a few frames: flush it.
        let mut tail = 0.0f32;
        for _ in 0..DELAY_FRAMES {
            tail = tail.max(self.true_peak.push(0.0, 0.0));
        }
        self.max_true_peak = self.max_true_peak.max(tail);
        if self.acc.frames > 0 {
            self.close_segment();
        }
        if self.hop_pos > 0 {
            self.close_hop();
        }
        if let Some(last) = self.segments.last_mut() {
            last.true_peak = last.true_peak.max(tail);
        }
        let integrated_lufs = self.ebu.loudness_global().unwrap_or(f64::NEG_INFINITY);
        let loudness_range_lu = self.ebu.loudness_range().unwrap_or(0.0);
        let rms = if self.frames == 0 {
            0.0
        } else {
            (self.sum_squares / (2 * self.frames) as f64).sqrt()
        };
        let true_peak_dbtp = amplitude_to_db(f64::from(self.max_true_peak));
        let rms_dbfs = amplitude_to_db(rms);
        let (band_levels_db, k_spectrum) = self
            .spectrum
            .balance()
            .unwrap_or(([f64::NEG_INFINITY; BANDS], [0.0; THIRD_OCTAVES]));
        Analysis {
            rate_hz: self.rate_hz,
            length_frames: self.frames,
            integrated_lufs,
            loudness_range_lu,
            true_peak_dbtp,
            sample_peak_dbfs: amplitude_to_db(f64::from(self.sample_peak)),
            max_short_term_lufs: self.max_short_term_lufs,
            rms_dbfs,
            crest_db: if rms > 0.0 {
                true_peak_dbtp - rms_dbfs
            } else {
                0.0
            },
            band_levels_db,
            k_spectrum,
            profile: Profile {
                hop_frames: self.hop_frames,
                segments: self.segments,
                tone_probe_db: self.tone_probe_db,
            },
        }
    }
}

/// Measures a whole interleaved stereo signal at once (tests, the CLI's
/// reference checks).
///
/// # Errors
/// As [`SongMeter::new`].
pub fn measure(interleaved: &[f32], rate_hz: u32) -> Result<Analysis, MeterError> {
    let mut meter = SongMeter::new(rate_hz)?;
    meter.add(interleaved);
    Ok(meter.finish())
}
