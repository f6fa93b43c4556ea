//! LOADER THREADS: opening a file with symphonia and what its header says.

use std::fs::File;
use std::path::Path;

use symphonia::core::codecs::audio::AudioCodecId;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;

use crate::loader::error::StemError;

/// What a probe learns about a source file.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceInfo {
    /// Sample rate of the file, Hz.
    pub sample_rate_hz: u32,
    /// Channels in the file.
    pub file_channels: u16,
    /// Channels after down-mixing (1 or 2).
    pub channels: u16,
    /// Length in frames at the file's rate, as the header (or a scan) says.
    pub frames: u64,
    /// Codec short name (e.g. "flac", "mp3").
    pub codec: &'static str,
    /// Bits per sample for PCM-like codecs, if known.
    pub bits_per_sample: Option<u32>,
    /// Whether the codec is lossy (needs decoder pre-roll on seek).
    pub lossy: bool,
    /// File size in bytes.
    pub file_bytes: u64,
}

impl SourceInfo {
    /// What the stem's samples are at `engine_rate_hz`: exact integers of
    /// the source depth (PCM/FLAC/ALAC of ≤ 24 bits at its own rate) or
    /// anything else (resampled, lossy, float), which the cursor rounds to
    /// the [`crate::cache::samples::OTHER_GRID_EXP`] grid.
    pub fn sample_origin(&self, engine_rate_hz: u32) -> crate::cache::SampleOrigin {
        let bits = if self.lossy {
            None
        } else {
            self.bits_per_sample
        };
        crate::cache::SampleOrigin::of_source(bits, self.sample_rate_hz != engine_rate_hz)
    }
}

pub(super) fn codec_name(codec: AudioCodecId) -> (&'static str, bool) {
    use symphonia::core::codecs::audio::well_known as c;
    match codec {
        c::CODEC_ID_FLAC => ("flac", false),
        c::CODEC_ID_MP3 => ("mp3", true),
        c::CODEC_ID_MP2 => ("mp2", true),
        c::CODEC_ID_MP1 => ("mp1", true),
        c::CODEC_ID_VORBIS => ("vorbis", true),
        c::CODEC_ID_AAC => ("aac", true),
        c::CODEC_ID_ALAC => ("alac", false),
        c::CODEC_ID_OPUS => ("opus", true),
        c::CODEC_ID_ADPCM_IMA_WAV | c::CODEC_ID_ADPCM_MS => ("adpcm", true),
        _ => ("pcm", false),
    }
}

pub(super) fn open_error(path: &Path, err: SymphoniaError) -> StemError {
    match err {
        SymphoniaError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            StemError::Corrupt {
                path: path.to_path_buf(),
                reason: "the file ends inside its header".into(),
            }
        }
        SymphoniaError::IoError(e) => StemError::Io {
            path: path.to_path_buf(),
            source: e,
        },
        SymphoniaError::Unsupported(what) => StemError::Unsupported {
            path: path.to_path_buf(),
            what: what.to_string(),
        },
        other => StemError::Corrupt {
            path: path.to_path_buf(),
            reason: other.to_string(),
        },
    }
}

/// Opens the container of `file` (at `path`, for the extension hint and
/// errors). Gapless trimming (encoder delay and padding) is the decoder's
/// ([`symphonia::core::codecs::audio::AudioDecoderOptions::gapless`], on by
/// default).
pub(super) fn probe_format(
    path: &Path,
    file: File,
) -> Result<Box<dyn FormatReader + 'static>, StemError> {
    let mss = MediaSourceStream::new(Box::new(file), MediaSourceStreamOptions::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| match e {
            SymphoniaError::Unsupported(_) => StemError::Unsupported {
                path: path.to_path_buf(),
                what: "not a recognised audio format".into(),
            },
            other => open_error(path, other),
        })
}
