//! LOADER THREADS: the chunk file format (pure: bytes in, bytes out; the
//! file system is [`super::store`]'s).
//!
//! A chunk file is a fixed 64-byte header followed by the payload.
//! All integers are little-endian:
//!
//! | offset | bytes | field |
//! | ---: | ---: | --- |
//! | 0 | 4 | magic `TRXC` |
//! | 4 | 2 | format version ([`super::CACHE_FORMAT_VERSION`]) |
//! | 6 | 2 | header length (64) |
//! | 8 | 8 | key hash: the first 64 bits of the entry id ([`super::KeyId`]) |
//! | 16 | 4 | chunk index |
//! | 20 | 4 | frames |
//! | 24 | 1 | channels |
//! | 25 | 1 | bits per stored sample (8..=24) |
//! | 26 | 1 | gain exponent (values scaled by 2^e, see [`super::samples`]) |
//! | 27 | 1 | encoding: 0 RAW, 1 FLAC |
//! | 28 | 1 | flags: bit 0 = lossless (the stored values are the samples written) |
//! | 29 | 3 | zero |
//! | 32 | 8 | payload length in bytes |
//! | 40 | 4 | CRC-32 of the payload |
//! | 44 | 4 | CRC-32 of the decoded samples (`f32` bit patterns, interleaved) |
//! | 48 | 12 | zero |
//! | 60 | 4 | CRC-32 of bytes 0..60 |
//!
//! RAW payloads hold the integers in `ceil(bits / 8)` bytes each,
//! interleaved; FLAC payloads are a complete FLAC stream ([`super::flac`]).
//!
//! Reading checks, in order: length ≥ header, magic, header CRC, version,
//! key, index, channels, frames, field ranges, file length = header +
//! payload length, payload CRC, decode, decoded frame count, samples CRC.
//! Symphonia does not report a flipped byte in FLAC (it drops the frame),
//! so the payload CRC catches damage before decoding and the samples CRC
//! catches anything the decoder gets wrong after it.

use super::error::Corruption;
use super::flac::{self, FlacEffort, FlacError};
use super::samples::{self, Depth};
use super::CACHE_FORMAT_VERSION;

/// Length of the fixed header.
pub const HEADER_BYTES: usize = 64;

/// Most channels a chunk file holds (the header's range is 1..=8; the
/// loader stores at most stereo).
pub const MAX_FILE_CHANNELS: u8 = 8;

const MAGIC: [u8; 4] = *b"TRXC";

/// How a chunk's payload is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Packed little-endian integers (used when FLAC would not be smaller).
    Raw,
    /// A FLAC stream.
    Flac,
}

/// A chunk file's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkHeader {
    /// First 64 bits of the entry id.
    pub key_hash: u64,
    /// Index of the chunk in its stem.
    pub index: u32,
    /// Frames held.
    pub frames: u32,
    /// Channels (1..=8).
    pub channels: u8,
    /// How the samples are stored as integers.
    pub depth: Depth,
    /// Payload encoding.
    pub encoding: Encoding,
    /// Whether the stored values equal the samples that were written.
    pub lossless: bool,
    /// Payload length in bytes.
    pub payload_bytes: u64,
    /// CRC-32 of the payload.
    pub payload_crc: u32,
    /// CRC-32 of the decoded samples ([`samples::samples_crc`]).
    pub samples_crc: u32,
}

impl ChunkHeader {
    /// The header's 64 bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_BYTES] {
        let mut b = [0u8; HEADER_BYTES];
        b[0..4].copy_from_slice(&MAGIC);
        b[4..6].copy_from_slice(&CACHE_FORMAT_VERSION.to_le_bytes());
        b[6..8].copy_from_slice(&(HEADER_BYTES as u16).to_le_bytes());
        b[8..16].copy_from_slice(&self.key_hash.to_le_bytes());
        b[16..20].copy_from_slice(&self.index.to_le_bytes());
        b[20..24].copy_from_slice(&self.frames.to_le_bytes());
        b[24] = self.channels;
        b[25] = self.depth.bits;
        b[26] = self.depth.gain_exp;
        b[27] = match self.encoding {
            Encoding::Raw => 0,
            Encoding::Flac => 1,
        };
        b[28] = u8::from(self.lossless);
        b[32..40].copy_from_slice(&self.payload_bytes.to_le_bytes());
        b[40..44].copy_from_slice(&self.payload_crc.to_le_bytes());
        b[44..48].copy_from_slice(&self.samples_crc.to_le_bytes());
        let crc = crc32fast::hash(&b[..60]);
        b[60..64].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Parses and checks a header against what the reader expects.
    pub fn parse(file: &[u8], expect: &Expect) -> Result<ChunkHeader, Corruption> {
        let len_bytes = file.len() as u64;
        let Some(b) = file.get(..HEADER_BYTES) else {
            return Err(Corruption::TooShort { len_bytes });
        };
        let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
        let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        let u64_at = |o: usize| u64::from(u32_at(o)) | (u64::from(u32_at(o + 4)) << 32);
        if b[0..4] != MAGIC {
            return Err(Corruption::BadMagic);
        }
        if crc32fast::hash(&b[..60]) != u32_at(60) {
            return Err(Corruption::HeaderChecksum);
        }
        let version = u16_at(4);
        if version != CACHE_FORMAT_VERSION {
            return Err(Corruption::Version {
                found: version,
                expected: CACHE_FORMAT_VERSION,
            });
        }
        if usize::from(u16_at(6)) != HEADER_BYTES {
            return Err(Corruption::BadField {
                field: "header length",
            });
        }
        let header = ChunkHeader {
            key_hash: u64_at(8),
            index: u32_at(16),
            frames: u32_at(20),
            channels: b[24],
            depth: Depth {
                bits: b[25],
                gain_exp: b[26],
            },
            encoding: match b[27] {
                0 => Encoding::Raw,
                1 => Encoding::Flac,
                _ => return Err(Corruption::BadField { field: "encoding" }),
            },
            lossless: match b[28] {
                0 => false,
                1 => true,
                _ => return Err(Corruption::BadField { field: "flags" }),
            },
            payload_bytes: u64_at(32),
            payload_crc: u32_at(40),
            samples_crc: u32_at(44),
        };
        if header.key_hash != expect.key_hash {
            return Err(Corruption::WrongKey);
        }
        if header.index != expect.index {
            return Err(Corruption::WrongIndex {
                found: header.index,
                expected: expect.index,
            });
        }
        if header.channels != expect.channels {
            return Err(Corruption::WrongChannels {
                found: header.channels,
                expected: expect.channels,
            });
        }
        match expect.frames {
            Some(f) if f != header.frames => {
                return Err(Corruption::WrongFrames {
                    found: header.frames,
                    expected: f,
                })
            }
            _ if header.frames == 0 || header.frames > expect.max_frames => {
                return Err(Corruption::BadField { field: "frames" })
            }
            _ => {}
        }
        if !header.depth.is_valid() {
            return Err(Corruption::BadField { field: "bit depth" });
        }
        // Checked here too, not only against the entry's: every later step
        // divides by it (found by the cache_chunk fuzz target).
        if !(1..=MAX_FILE_CHANNELS).contains(&header.channels) {
            return Err(Corruption::BadField { field: "channels" });
        }
        // Saturating: a payload length near u64::MAX must not overflow
        // (found by the cache_chunk fuzz target).
        let expected_bytes = (HEADER_BYTES as u64).saturating_add(header.payload_bytes);
        if expected_bytes != len_bytes {
            return Err(Corruption::Length {
                expected_bytes,
                found_bytes: len_bytes,
            });
        }
        Ok(header)
    }
}

/// What a reader knows a chunk file must hold.
#[derive(Clone, Copy, Debug)]
pub struct Expect {
    /// The entry's key hash.
    pub key_hash: u64,
    /// The chunk index asked for.
    pub index: u32,
    /// The entry's channels.
    pub channels: u8,
    /// The exact frame count, when the caller knows it.
    pub frames: Option<u32>,
    /// The entry's chunk length in frames (upper bound).
    pub max_frames: u32,
}

/// A chunk file ready to write.
#[derive(Debug)]
pub struct Built {
    /// Header and payload.
    pub bytes: Vec<u8>,
    /// Its header.
    pub header: ChunkHeader,
}

/// Builds the chunk file for interleaved `samples` (`frames × channels`):
/// quantizes ([`samples::quantize`]), encodes FLAC and keeps it if smaller
/// than RAW, and fills the header.
pub fn build(
    samples: &[f32],
    channels: u8,
    exact_bits: Option<u8>,
    key_hash: u64,
    index: u32,
    engine_rate_hz: u32,
    effort: FlacEffort,
) -> Result<Built, FlacError> {
    let mut ints = Vec::new();
    let (depth, lossless) = samples::quantize(samples, exact_bits, &mut ints);
    let frames = samples.len() / usize::from(channels);
    let raw_bytes = ints.len() * depth.raw_bytes_per_sample();
    let flac = flac::encode(&ints, channels, depth, engine_rate_hz, effort)?;
    let (encoding, payload) = if flac.len() < raw_bytes {
        (Encoding::Flac, flac)
    } else {
        let mut raw = Vec::with_capacity(raw_bytes);
        samples::pack_raw(&ints, depth, &mut raw);
        (Encoding::Raw, raw)
    };
    let step = depth.step();
    let header = ChunkHeader {
        key_hash,
        index,
        frames: u32::try_from(frames).map_err(|_| FlacError::TooManyFrames {
            max_frames: u64::from(u32::MAX),
        })?,
        channels,
        depth,
        encoding,
        lossless,
        payload_bytes: payload.len() as u64,
        payload_crc: crc32fast::hash(&payload),
        samples_crc: samples::samples_crc_iter(ints.iter().map(|&q| q as f32 * step)),
    };
    let mut bytes = Vec::with_capacity(HEADER_BYTES + payload.len());
    bytes.extend_from_slice(&header.to_bytes());
    bytes.extend_from_slice(&payload);
    Ok(Built { bytes, header })
}

/// Reads a whole chunk file: checks everything (see the module docs) and
/// writes the `frames × channels` interleaved samples to `out` (cleared
/// first; left empty on error).
pub fn read(file: Vec<u8>, expect: &Expect, out: &mut Vec<f32>) -> Result<ChunkHeader, Corruption> {
    out.clear();
    let header = ChunkHeader::parse(&file, expect)?;
    if crc32fast::hash(&file[HEADER_BYTES..]) != header.payload_crc {
        return Err(Corruption::PayloadChecksum);
    }
    let mut ints = Vec::new();
    let decoded_frames = match header.encoding {
        Encoding::Raw => {
            samples::unpack_raw(&file[HEADER_BYTES..], header.depth, &mut ints)
                .ok_or(Corruption::RawPayload)?;
            (ints.len() / usize::from(header.channels)) as u64
        }
        Encoding::Flac => flac::decode(
            file,
            HEADER_BYTES as u64,
            header.channels,
            header.depth,
            header.frames,
            &mut ints,
        )
        .map_err(|reason| Corruption::Decode { reason })?,
    };
    if decoded_frames != u64::from(header.frames)
        || ints.len() != header.frames as usize * usize::from(header.channels)
    {
        return Err(Corruption::DecodedFrames {
            found: decoded_frames,
            expected: header.frames,
        });
    }
    samples::dequantize(&ints, header.depth, out);
    if samples::samples_crc(out) != header.samples_crc {
        out.clear();
        return Err(Corruption::SampleChecksum);
    }
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: u64 = 0x0123_4567_89AB_CDEF;

    fn expect(index: u32, frames: u32, channels: u8) -> Expect {
        Expect {
            key_hash: KEY,
            index,
            channels,
            frames: Some(frames),
            max_frames: 16_384,
        }
    }

    fn tone(frames: usize, channels: u8, bits: u8) -> Vec<f32> {
        let max = (1i32 << (bits - 1)) as f32;
        (0..frames * usize::from(channels))
            .map(|i| ((i as f32 * 0.013).sin() * 0.4 * max).round() / max)
            .collect()
    }

    #[test]
    fn header_round_trips_and_any_bit_flip_is_caught() {
        let built = build(
            &tone(1000, 2, 16),
            2,
            Some(16),
            KEY,
            7,
            48_000,
            FlacEffort::Fast,
        )
        .expect("build");
        let e = expect(7, 1000, 2);
        let parsed = ChunkHeader::parse(&built.bytes, &e).expect("parse");
        assert_eq!(parsed, built.header);
        assert_eq!(parsed.encoding, Encoding::Flac);
        for byte in 0..HEADER_BYTES {
            for bit in 0..8 {
                let mut bytes = built.bytes.clone();
                bytes[byte] ^= 1 << bit;
                let mut out = Vec::new();
                assert!(read(bytes, &e, &mut out).is_err(), "byte {byte} bit {bit}");
                assert!(out.is_empty());
            }
        }
    }

    #[test]
    fn a_rewritten_version_is_reported_as_such() {
        let built = build(
            &tone(100, 1, 16),
            1,
            Some(16),
            KEY,
            0,
            48_000,
            FlacEffort::Fast,
        )
        .expect("build");
        let mut bytes = built.bytes;
        bytes[4..6].copy_from_slice(&(CACHE_FORMAT_VERSION + 1).to_le_bytes());
        let crc = crc32fast::hash(&bytes[..60]);
        bytes[60..64].copy_from_slice(&crc.to_le_bytes());
        let mut out = Vec::new();
        assert_eq!(
            read(bytes, &expect(0, 100, 1), &mut out),
            Err(Corruption::Version {
                found: CACHE_FORMAT_VERSION + 1,
                expected: CACHE_FORMAT_VERSION
            })
        );
    }

    #[test]
    fn a_decoder_dropping_frames_is_caught_by_the_counts() {
        // A valid header over a valid FLAC stream of fewer frames: what a
        // silently dropped FLAC frame looks like after the payload CRC.
        let short = build(
            &tone(4096, 1, 16),
            1,
            Some(16),
            KEY,
            0,
            48_000,
            FlacEffort::Fast,
        )
        .expect("build");
        let mut header = short.header;
        header.frames = 8192;
        let mut bytes = header.to_bytes().to_vec();
        bytes.extend_from_slice(&short.bytes[HEADER_BYTES..]);
        let mut out = Vec::new();
        let got = read(bytes, &expect(0, 8192, 1), &mut out);
        assert!(
            matches!(
                got,
                Err(Corruption::Decode { .. } | Corruption::DecodedFrames { .. })
            ),
            "{got:?}"
        );
        // A wrong samples checksum with everything else right.
        let mut header = short.header;
        header.samples_crc ^= 1;
        let mut bytes = header.to_bytes().to_vec();
        bytes.extend_from_slice(&short.bytes[HEADER_BYTES..]);
        assert_eq!(
            read(bytes, &expect(0, 4096, 1), &mut out),
            Err(Corruption::SampleChecksum)
        );
    }

    #[test]
    fn expectations_are_checked() {
        let built = build(
            &tone(500, 2, 24),
            2,
            Some(24),
            KEY,
            3,
            48_000,
            FlacEffort::Fast,
        )
        .expect("build");
        let mut out = Vec::new();
        let mut e = expect(3, 500, 2);
        e.key_hash ^= 1;
        assert_eq!(
            read(built.bytes.clone(), &e, &mut out),
            Err(Corruption::WrongKey)
        );
        let e = expect(4, 500, 2);
        assert!(matches!(
            read(built.bytes.clone(), &e, &mut out),
            Err(Corruption::WrongIndex {
                found: 3,
                expected: 4
            })
        ));
        let e = expect(3, 501, 2);
        assert!(matches!(
            read(built.bytes.clone(), &e, &mut out),
            Err(Corruption::WrongFrames {
                found: 500,
                expected: 501
            })
        ));
        let e = expect(3, 500, 1);
        assert!(matches!(
            read(built.bytes.clone(), &e, &mut out),
            Err(Corruption::WrongChannels { .. })
        ));
        let mut e = expect(3, 500, 2);
        e.frames = None;
        e.max_frames = 499;
        assert!(matches!(
            read(built.bytes.clone(), &e, &mut out),
            Err(Corruption::BadField { field: "frames" })
        ));
        e.max_frames = 500;
        read(built.bytes, &e, &mut out).expect("unknown frame count within bounds");
        assert_eq!(out.len(), 1000);
    }
}
