//! LOADER THREADS: FLAC payloads of chunk files: encoding with flacenc,
//! decoding from memory with symphonia.
//!
//! A payload is a complete FLAC stream (`fLaC`, STREAMINFO, frames) so that
//! it can be cut out of a chunk file and played by any FLAC tool.
//!
//! Two flacenc 0.5 traps (docs/ARCHITECTURE.md, "Known pitfalls") are handled here:
//! - when the chunk's length is not a multiple of the block size, flacenc
//!   records the last, shorter block as STREAMINFO's minimum block size,
//!   and symphonia refuses minimums under 16 frames. FLAC's minimum does not
//!   count the last block, so the encoder sets both minimum and maximum to
//!   [`BLOCK_FRAMES`] after encoding (what the reference encoder writes);
//!   any length from 1 frame up decodes.
//! - flacenc has no verbatim-frame fallback, so noisy audio can grow; the
//!   caller compares with the RAW size and keeps the smaller
//!   ([`super::chunk`]).

use std::io::Cursor;

use flacenc::component::BitRepr;
use flacenc::error::Verify;
use symphonia::core::audio::{Audio, GenericAudioBufferRef};
use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::codecs::CodecParameters;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;

use super::samples::Depth;

/// FLAC block size: 4096 frames divides the 16384-frame chunk into four
/// blocks (flacenc's default size; larger blocks gain < 1 % here).
pub const BLOCK_FRAMES: usize = 4096;

/// How hard flacenc works.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FlacEffort {
    /// Fixed predictors only (no LPC): about 3× faster to encode, a few per
    /// cent larger.
    #[default]
    Fast,
    /// flacenc's default: fixed and LPC predictors.
    Default,
}

/// The sample rate written to STREAMINFO: the engine rate where FLAC can
/// hold it (informational only: chunk files carry their own key).
fn streaminfo_rate(engine_rate_hz: u32) -> usize {
    if (1..=655_350).contains(&engine_rate_hz) {
        engine_rate_hz as usize
    } else {
        48_000
    }
}

/// Why a chunk could not be encoded as FLAC, or its FLAC payload not
/// decoded. Clone and comparable (it lives in [`super::Corruption`]):
/// symphonia's error is shared, flacenc's kept as text (its errors hold an
/// `Rc` and cannot cross threads).
#[derive(Clone, Debug, thiserror::Error)]
pub enum FlacError {
    /// flacenc refused the configuration or the samples.
    #[error("flacenc: {0}")]
    Encode(String),
    /// symphonia could not read or decode the stream.
    #[error("{0}")]
    Decode(#[source] std::sync::Arc<symphonia::core::errors::Error>),
    /// The stream has no audio track.
    #[error("no audio track")]
    NoTrack,
    /// The stream's layout is not the one the chunk header gives.
    #[error("{found_channels:?} channels of {found_bits:?} bits, expected {channels} of {bits}")]
    Layout {
        /// Channels in the stream.
        found_channels: Option<usize>,
        /// Bits per sample in the stream.
        found_bits: Option<u32>,
        /// Channels expected.
        channels: u8,
        /// Bits expected.
        bits: u8,
    },
    /// symphonia decoded to floating point, not integers.
    #[error("decoded to a non-integer buffer")]
    NotInteger,
    /// More frames than a chunk holds.
    #[error("more than {max_frames} frames")]
    TooManyFrames {
        /// The chunk's length.
        max_frames: u64,
    },
    /// The decoded audio's MD5 differs from STREAMINFO's.
    #[error("MD5 of the decoded audio does not match STREAMINFO")]
    Md5,
    /// The decoder panicked (caught: a damaged payload is only a miss).
    #[error("decoder panicked: {0}")]
    Panicked(String),
}

impl PartialEq for FlacError {
    fn eq(&self, other: &Self) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
            && self.to_string() == other.to_string()
    }
}

impl Eq for FlacError {}

impl From<symphonia::core::errors::Error> for FlacError {
    fn from(e: symphonia::core::errors::Error) -> Self {
        FlacError::Decode(std::sync::Arc::new(e))
    }
}

/// Encodes interleaved integers of `depth.bits` bits as a FLAC stream.
pub fn encode(
    ints: &[i32],
    channels: u8,
    depth: Depth,
    engine_rate_hz: u32,
    effort: FlacEffort,
) -> Result<Vec<u8>, FlacError> {
    let mut config = flacenc::config::Encoder::default();
    config.block_size = BLOCK_FRAMES;
    // The loader already decodes stems in parallel: one thread per chunk.
    config.multithread = false;
    if effort == FlacEffort::Fast {
        config.subframe_coding.use_lpc = false;
    }
    let config = config
        .into_verified()
        .map_err(|(_, e)| FlacError::Encode(format!("encoder config: {e}")))?;
    let source = flacenc::source::MemSource::from_samples(
        ints,
        usize::from(channels),
        usize::from(depth.bits),
        streaminfo_rate(engine_rate_hz),
    );
    let mut stream = flacenc::encode_with_fixed_block_size(&config, source, BLOCK_FRAMES)
        .map_err(|e| FlacError::Encode(e.to_string()))?;
    stream
        .stream_info_mut()
        .set_block_sizes(BLOCK_FRAMES, BLOCK_FRAMES)
        .map_err(|e| FlacError::Encode(format!("block sizes: {e}")))?;
    let mut sink = flacenc::bitsink::ByteSink::with_capacity(ints.len() * 16);
    stream
        .write(&mut sink)
        .map_err(|e| FlacError::Encode(format!("write: {e:?}")))?;
    Ok(sink.into_inner())
}

/// Decodes the FLAC stream in `bytes[start..]`, appending interleaved
/// integers to `out`. Fails on anything but exactly `channels` channels of
/// `depth.bits` bits, more than `max_frames` frames, or a failed MD5 check.
/// Returns the number of frames decoded (symphonia may drop damaged frames
/// silently: the caller checks the count and the samples' checksum).
pub fn decode(
    bytes: Vec<u8>,
    start: u64,
    channels: u8,
    depth: Depth,
    max_frames: u32,
    out: &mut Vec<i32>,
) -> Result<u64, FlacError> {
    // A damaged payload could make a decoder panic; it is only a miss.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        decode_inner(bytes, start, channels, depth, max_frames, out)
    }))
    .unwrap_or_else(|panic| Err(FlacError::Panicked(crate::thread::panic_message(&panic))))
}

fn decode_inner(
    bytes: Vec<u8>,
    start: u64,
    channels: u8,
    depth: Depth,
    max_frames: u32,
    out: &mut Vec<i32>,
) -> Result<u64, FlacError> {
    let mut cursor = Cursor::new(bytes);
    cursor.set_position(start);
    let mss = MediaSourceStream::new(Box::new(cursor), Default::default());
    let mut reader =
        symphonia::default::formats::FlacReader::try_new(mss, FormatOptions::default())?;
    let track = reader
        .default_track(TrackType::Audio)
        .ok_or(FlacError::NoTrack)?;
    let Some(CodecParameters::Audio(params)) = track.codec_params.clone() else {
        return Err(FlacError::NoTrack);
    };
    let found_channels = params.channels.as_ref().map(|c| c.count());
    if found_channels != Some(usize::from(channels))
        || params.bits_per_sample != Some(u32::from(depth.bits))
    {
        return Err(FlacError::Layout {
            found_channels,
            found_bits: params.bits_per_sample,
            channels,
            bits: depth.bits,
        });
    }
    let mut decoder = symphonia::default::codecs::FlacDecoder::try_new(
        &params,
        &AudioDecoderOptions::default().verify(true),
    )?;
    let shift = 32 - u32::from(depth.bits);
    let mut frames = 0u64;
    loop {
        let packet = match reader.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(symphonia::core::errors::Error::IoError(e))
                if e.kind() == std::io::ErrorKind::UnexpectedEof =>
            {
                break
            }
            Err(e) => return Err(e.into()),
        };
        let GenericAudioBufferRef::S32(buf) = decoder.decode(&packet)? else {
            return Err(FlacError::NotInteger);
        };
        let n = buf.frames();
        frames += n as u64;
        if frames > u64::from(max_frames) {
            return Err(FlacError::TooManyFrames {
                max_frames: u64::from(max_frames),
            });
        }
        let planes: Vec<&[i32]> = buf.iter_planes().collect();
        out.reserve(n * planes.len());
        for i in 0..n {
            for plane in &planes {
                // symphonia left-aligns samples in i32: undo it.
                out.push(plane[i] >> shift);
            }
        }
    }
    if decoder.finalize().verify_ok == Some(false) {
        return Err(FlacError::Md5);
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic test signal: a sine plus a little LCG noise.
    fn signal(frames: usize, channels: u8, bits: u8) -> Vec<i32> {
        let amp = f64::from((1u32 << (bits - 1)) - 1) * 0.5;
        let mut seed = 0x1234_5678u32;
        (0..frames * usize::from(channels))
            .map(|i| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (f64::from(seed >> 24) - 128.0) / 128.0 * amp * 0.1;
                ((i as f64 * 0.01).sin() * amp + noise) as i32
            })
            .collect()
    }

    #[test]
    fn any_length_round_trips_through_symphonia() {
        for channels in [1u8, 2] {
            for bits in [8u8, 12, 16, 20, 24] {
                let depth = Depth { bits, gain_exp: 0 };
                for frames in [
                    1usize, 2, 15, 16, 17, 1000, 4095, 4096, 4097, 12_289, 16_384,
                ] {
                    let ints = signal(frames, channels, bits);
                    let bytes =
                        encode(&ints, channels, depth, 48_000, FlacEffort::Fast).expect("encode");
                    let mut out = Vec::new();
                    let n =
                        decode(bytes, 0, channels, depth, 16_384, &mut out).unwrap_or_else(|e| {
                            panic!("{frames} frames {channels} ch {bits} bits: {e}")
                        });
                    assert_eq!(n, frames as u64);
                    assert_eq!(out, ints, "{frames} frames {channels} ch {bits} bits");
                }
            }
        }
    }

    #[test]
    fn default_effort_and_odd_rates_round_trip() {
        let depth = Depth {
            bits: 24,
            gain_exp: 0,
        };
        let ints = signal(5000, 2, 24);
        for rate in [44_100, 768_000, 0] {
            let bytes = encode(&ints, 2, depth, rate, FlacEffort::Default).expect("encode");
            let mut out = Vec::new();
            decode(bytes, 0, 2, depth, 16_384, &mut out).expect("decode");
            assert_eq!(out, ints);
        }
    }

    #[test]
    fn wrong_layout_or_too_many_frames_is_an_error() {
        let depth = Depth {
            bits: 16,
            gain_exp: 0,
        };
        let ints = signal(2000, 2, 16);
        let bytes = encode(&ints, 2, depth, 48_000, FlacEffort::Fast).expect("encode");
        let mut out = Vec::new();
        assert!(decode(bytes.clone(), 0, 1, depth, 16_384, &mut out).is_err());
        let d24 = Depth {
            bits: 24,
            gain_exp: 0,
        };
        assert!(decode(bytes.clone(), 0, 2, d24, 16_384, &mut out).is_err());
        assert!(decode(bytes.clone(), 0, 2, depth, 1999, &mut out).is_err());
        // Decoding from an offset inside a larger buffer.
        let mut prefixed = vec![0xAAu8; 7];
        prefixed.extend_from_slice(&bytes);
        out.clear();
        assert_eq!(decode(prefixed, 7, 2, depth, 16_384, &mut out), Ok(2000));
        assert_eq!(out, ints);
    }
}
