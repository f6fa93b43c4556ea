//! LOADER THREADS: one audio file opened with symphonia, decoded to
//! interleaved `f32` at its own rate with at most two channels, readable from
//! any frame (accurate seek).
//!
//! symphonia hides some damage: a truncated file decodes to fewer frames
//! than its header claims, and a corrupt FLAC frame is dropped silently. The
//! reader checks packet timestamps against the frames it has handed out and
//! the header's length, fills any hole with silence so the stem stays in
//! time, and records a [`Damage`] that the loader reports.
//!
//! A hole or an early end seen after a seek is not trusted on its own:
//! symphonia's FLAC demuxer (0.5 and 0.6) resets its frame parser on a seek only if
//! the seek moved the reader, so a seek that lands where the reader already
//! was (every seek in a file under ≈ 16 KB, and a rare bisection step in a
//! larger one) keeps the frame number parsed before it; every later frame
//! header up to that number is then rejected, those frames are glued into
//! one packet with a bad CRC and dropped, and a healthy file shows a hole.
//! So the reader remembers how its demuxer got where it is
//! ([`Provenance`]); damage seen after a seek is read again sequentially
//! from the start of the file (demuxing only, no decoding, up to the
//! target), and only what that read also finds is reported.

mod damage;
mod downmix;
mod probe;
mod stamps;

use std::fs::File;
use std::path::{Path, PathBuf};

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions, CODEC_ID_NULL_AUDIO};
use symphonia::core::codecs::CodecParameters;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::{FormatReader, SeekMode, SeekTo};
use symphonia::core::units::TimeBase;

pub use damage::Damage;
pub use downmix::downmix_into;
pub use probe::SourceInfo;

use damage::ogg_cut_mid_page;
use probe::{codec_name, open_error, probe_format};

use super::error::StemError;

/// Largest sample magnitude a source may play: 65536 (+96 dBFS), far
/// beyond any real float file's headroom. Larger values, NaN and
/// infinities are silence (reported as damage).
pub const MAX_SAMPLE_MAGNITUDE: f32 = 65_536.0;

/// Largest audio file accepted: 4 GiB (a limit on untrusted input; a 30 min
/// 96 kHz 24-bit stereo WAV is ≈ 1 GiB).
pub const MAX_SOURCE_FILE_BYTES: u64 = 4 << 30;

/// Longest stem accepted: 6 hours at its own rate.
pub const MAX_SOURCE_SECS: u64 = 6 * 3600;

/// Frames decoded before a seek target in lossy formats, so the decoder's
/// state (MP3 bit reservoir and overlap, Vorbis overlap) is primed and the
/// target frame decodes exactly as in a continuous decode. 4 MP3 frames.
const LOSSY_PREROLL_FRAMES: u64 = 4 * 1152;

/// An open source file positioned at a frame.
pub struct SourceReader {
    path: PathBuf,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    time_base: Option<TimeBase>,
    info: SourceInfo,
    /// A decoded packet, interleaved with the file's channels.
    sample_buf: Vec<f32>,
    /// Decoded frames (output channels, interleaved) not yet handed out;
    /// `pending[pending_pos..]` starts at frame `position`.
    pending: Vec<f32>,
    pending_pos: usize,
    /// Next frame `read` hands out.
    position: u64,
    /// The audio ended.
    eof: bool,
    /// After a seek by scanning: packets ending before this frame are
    /// skipped without decoding.
    skip_before: Option<i64>,
    /// How the demuxer reached its position: damage is only reported from
    /// a sequential read.
    provenance: Provenance,
    /// Where a sequential read found the audio ending before the header's
    /// length: an end at or past it after a seek needs no second read.
    confirmed_end_frames: Option<u64>,
    /// Packets stamped before `.0` (time-base units) start `.1` frames
    /// later than their timestamps say (see [`Self::find_early_stamp_shift`]).
    early_stamp_shift: Option<(i64, i64)>,
    damage: Vec<Damage>,
}

/// How a reader's demuxer reached its current position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Provenance {
    /// Packets read in order from the start of the file: what it shows is
    /// what the file holds.
    Sequential,
    /// The format's own seek: its parser may carry state from before the
    /// seek, so a hole or an early end must be read again sequentially.
    Sought,
}

impl SourceReader {
    /// Opens and probes `path`. Not realtime-safe (file I/O).
    ///
    /// # Errors
    /// [`StemError`] naming the file: missing or unreadable, a folder, too large,
    /// unsupported format or codec, invalid header (no audio track, rate or
    /// channel count of 0, unknown length).
    pub fn open(path: &Path) -> Result<Self, StemError> {
        let file = File::open(path).map_err(|e| StemError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let metadata = file.metadata().map_err(|e| StemError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        if metadata.is_dir() {
            return Err(StemError::Folder {
                path: path.to_path_buf(),
            });
        }
        let file_bytes = metadata.len();
        if file_bytes == 0 {
            return Err(StemError::Corrupt {
                path: path.to_path_buf(),
                reason: "the file is empty (0 bytes)".into(),
            });
        }
        if file_bytes > MAX_SOURCE_FILE_BYTES {
            return Err(StemError::TooLarge {
                path: path.to_path_buf(),
                what: format!("{file_bytes} bytes (limit {MAX_SOURCE_FILE_BYTES})"),
            });
        }
        let format = probe_format(path, file)?;
        let track = format
            .tracks()
            .iter()
            .find(|t| match &t.codec_params {
                Some(CodecParameters::Audio(p)) => {
                    p.codec != CODEC_ID_NULL_AUDIO && p.sample_rate.is_some()
                }
                _ => false,
            })
            .ok_or_else(|| StemError::Corrupt {
                path: path.to_path_buf(),
                reason: "no audio track".into(),
            })?;
        let Some(CodecParameters::Audio(params)) = track.codec_params.clone() else {
            unreachable!("the track was chosen for its audio parameters");
        };
        let track_id = track.id;
        let time_base = track.time_base;
        let header_frames = track.num_frames;
        let stamped_start_ts = track.start_ts.get() + i64::from(track.delay.unwrap_or(0));
        let sample_rate_hz = params.sample_rate.unwrap_or(0);
        let file_channels = params.channels.as_ref().map_or(0, |c| c.count()) as u16;
        if sample_rate_hz == 0 || sample_rate_hz > 768_000 {
            return Err(StemError::Corrupt {
                path: path.to_path_buf(),
                reason: format!("invalid sample rate {sample_rate_hz} Hz in the header"),
            });
        }
        if file_channels == 0 || file_channels > 32 {
            return Err(StemError::Corrupt {
                path: path.to_path_buf(),
                reason: format!("invalid channel count {file_channels} in the header"),
            });
        }
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(|e| open_error(path, e))?;
        let (codec, lossy) = codec_name(params.codec);
        let mut reader = Self {
            path: path.to_path_buf(),
            format,
            decoder,
            track_id,
            time_base,
            info: SourceInfo {
                sample_rate_hz,
                file_channels,
                channels: file_channels.min(2),
                frames: 0,
                codec,
                bits_per_sample: params.bits_per_sample,
                lossy,
                file_bytes,
            },
            sample_buf: Vec::new(),
            pending: Vec::new(),
            pending_pos: 0,
            position: 0,
            eof: false,
            skip_before: None,
            provenance: Provenance::Sequential,
            confirmed_end_frames: None,
            early_stamp_shift: None,
            damage: Vec::new(),
        };
        if stamped_start_ts < 0 {
            reader.find_early_stamp_shift(stamped_start_ts)?;
        }
        // A header length of 0 or beyond the limit is taken as unknown
        // (e.g. an Ogg whose first granule position is negative yields a
        // wrapped-around length): count the packets instead.
        let max_frames = MAX_SOURCE_SECS * sample_rate_hz as u64;
        reader.info.frames = match header_frames {
            Some(n) if n > 0 && n <= max_frames => n,
            _ => reader.count_frames()?,
        };
        if reader.info.frames / sample_rate_hz as u64 > MAX_SOURCE_SECS {
            return Err(StemError::TooLarge {
                path: path.to_path_buf(),
                what: format!("{} frames (limit {MAX_SOURCE_SECS} s)", reader.info.frames),
            });
        }
        Ok(reader)
    }

    /// Counts frames by demuxing every packet (for formats whose header has
    /// no length), then rewinds.
    fn count_frames(&mut self) -> Result<u64, StemError> {
        let mut end = 0u64;
        loop {
            match self.format.next_packet() {
                Ok(Some(p)) if p.track_id == self.track_id => {
                    let packet_end = self.first_frame(&p) + self.ts_to_frames(p.dur.get()) as i64;
                    end = end.max(packet_end.max(0) as u64);
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        if end == 0 {
            return Err(StemError::Corrupt {
                path: self.path.clone(),
                reason: "no audio packets".into(),
            });
        }
        // Start again from a fresh reader rather than seeking to 0 (a seek
        // cannot always reach the very start, e.g. before a negative
        // timestamp).
        self.rewind()?;
        self.position = 0;
        self.eof = false;
        Ok(end)
    }

    /// Reopens the file: the next packet is the first one.
    fn rewind(&mut self) -> Result<(), StemError> {
        let file = File::open(&self.path).map_err(|e| StemError::Io {
            path: self.path.clone(),
            source: e,
        })?;
        self.format = probe_format(&self.path, file)?;
        self.decoder.reset();
        self.provenance = Provenance::Sequential;
        Ok(())
    }

    /// Reads again from the start of the file up to the current position
    /// (packets before it are demuxed, not decoded; lossy codecs get their
    /// pre-roll), so that what comes next is what a sequential read gives.
    fn reread_sequentially(&mut self) -> Result<(), StemError> {
        self.rewind()?;
        self.eof = false;
        self.pending.clear();
        self.pending_pos = 0;
        self.skip_before = Some(self.position.saturating_sub(self.preroll_frames()) as i64);
        Ok(())
    }

    fn preroll_frames(&self) -> u64 {
        if self.info.lossy {
            LOSSY_PREROLL_FRAMES
        } else {
            0
        }
    }

    /// What the probe found.
    pub fn info(&self) -> &SourceInfo {
        &self.info
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Damage found since the last call.
    pub fn take_damage(&mut self) -> Vec<Damage> {
        std::mem::take(&mut self.damage)
    }

    /// Positions the reader so the next [`Self::read`] returns frame `frame`
    /// exactly (accurate seek; lossy codecs are primed with a few frames of
    /// pre-roll that are decoded and dropped).
    ///
    /// # Errors
    /// [`StemError::Corrupt`] if the format cannot seek there.
    pub fn seek(&mut self, frame: u64) -> Result<(), StemError> {
        self.pending.clear();
        self.pending_pos = 0;
        self.eof = false;
        self.skip_before = None;
        self.position = frame;
        let seek_to = frame.saturating_sub(self.preroll_frames());
        let ts = self.frames_to_ts(seek_to);
        let res = self.format.seek(
            SeekMode::Accurate,
            SeekTo::Timestamp {
                ts,
                track_id: self.track_id,
            },
        );
        self.decoder.reset();
        match res {
            Ok(_) => {
                self.provenance = Provenance::Sought;
                Ok(())
            }
            // The format could not seek there (a truncated file, or an index
            // symphonia cannot use, e.g. an Ogg stream with a negative start
            // granule). Inside the known length: start over and skip packets
            // up to the target without decoding them. Past the data: the
            // reader is at its end and the length check reports it.
            Err(SymphoniaError::SeekError(_)) if frame < self.info.frames => {
                self.rewind()?;
                self.skip_before = Some(seek_to as i64);
                Ok(())
            }
            Err(SymphoniaError::SeekError(_)) => self.finish(),
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                // The demuxer may have moved before failing.
                self.provenance = Provenance::Sought;
                self.finish()
            }
            Err(e) => Err(StemError::Corrupt {
                path: self.path.clone(),
                reason: format!("cannot seek to frame {frame}: {e}"),
            }),
        }
    }

    /// Appends up to `max_frames` frames (interleaved, [`SourceInfo::channels`]
    /// channels) to `out` and returns how many. 0 means the audio ended.
    /// Holes in the data are filled with silence and recorded as damage.
    ///
    /// # Errors
    /// [`StemError`] for an I/O error other than the end of the file.
    pub fn read(&mut self, out: &mut Vec<f32>, max_frames: usize) -> Result<usize, StemError> {
        let ch = self.info.channels as usize;
        while self.pending_pos >= self.pending.len() {
            if self.eof {
                return Ok(0);
            }
            self.decode_next()?;
        }
        let avail = (self.pending.len() - self.pending_pos) / ch;
        let n = avail.min(max_frames);
        out.extend_from_slice(&self.pending[self.pending_pos..self.pending_pos + n * ch]);
        self.pending_pos += n * ch;
        self.position += n as u64;
        Ok(n)
    }

    /// Decodes the next packet into `pending` (frames from `position` on).
    fn decode_next(&mut self) -> Result<(), StemError> {
        self.pending.clear();
        self.pending_pos = 0;
        let packet = loop {
            match self.format.next_packet() {
                Ok(Some(p)) if p.track_id == self.track_id => break p,
                Ok(Some(_)) => continue,
                Ok(None) => return self.finish(),
                Err(SymphoniaError::IoError(e))
                    if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    return self.finish();
                }
                Err(SymphoniaError::ResetRequired) => return self.finish(),
                Err(SymphoniaError::IoError(e)) => {
                    return Err(StemError::Io {
                        path: self.path.clone(),
                        source: e,
                    })
                }
                Err(_) => {
                    // Unreadable container data: treat like the end; the
                    // length check reports it.
                    return self.finish();
                }
            }
        };
        let start = self.first_frame(&packet);
        if let Some(skip) = self.skip_before {
            if start + (self.ts_to_frames(packet.dur.get()) as i64) <= skip {
                return Ok(()); // before the pre-roll of a scanning seek
            }
            self.skip_before = None;
        }
        let decoded = match self.decoder.decode(&packet) {
            Ok(d) => d,
            Err(SymphoniaError::DecodeError(_)) => {
                // A damaged packet: its frames become silence if later
                // packets show a hole (see below).
                return Ok(());
            }
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return self.finish();
            }
            Err(e) => {
                return Err(StemError::Corrupt {
                    path: self.path.clone(),
                    reason: e.to_string(),
                })
            }
        };
        let frames = decoded.frames();
        if frames == 0 {
            return Ok(());
        }
        let file_ch = decoded.spec().channels().count().max(1);
        decoded.copy_to_vec_interleaved(&mut self.sample_buf);
        let samples = &self.sample_buf;
        let position = self.position as i64;
        let end = start + frames as i64;
        if end <= position {
            return Ok(()); // pre-roll before the target, or before frame 0
        }
        if start > position && self.provenance == Provenance::Sought {
            // Maybe the demuxer's, not the file's: read again in order.
            return self.reread_sequentially();
        }
        if start > position {
            // Frames between position and start never came: silence.
            let hole = (start - position) as u64;
            self.damage.push(Damage::Hole {
                at_frame: self.position,
                frames: hole,
            });
            self.pending
                .resize(hole as usize * self.info.channels as usize, 0.0);
        }
        let skip = (position - start).max(0) as usize;
        let from = self.pending.len();
        downmix_into(
            &samples[skip * file_ch..frames * file_ch],
            file_ch,
            self.info.channels as usize,
            &mut self.pending,
        );
        // A float file can hold NaN, infinities or absurd magnitudes; they
        // would poison the whole mix (a resampler's sum of huge values
        // overflows to infinity: found by the stem_file fuzz target), so
        // they become silence here, before any slot.
        let mut bad = 0u64;
        for s in &mut self.pending[from..] {
            if s.is_nan() || s.abs() > MAX_SAMPLE_MAGNITUDE {
                *s = 0.0;
                bad += 1;
            }
        }
        if bad > 0 {
            self.damage.push(Damage::NonFinite {
                at_frame: self.position,
                samples: bad,
            });
        }
        Ok(())
    }

    /// The demuxer has no more packets. Before the header's length that is
    /// damage, reported when a sequential read confirms it (and remembered,
    /// so later seeks past it are not read again).
    fn finish(&mut self) -> Result<(), StemError> {
        let early = self.position < self.info.frames;
        let confirmed = self
            .confirmed_end_frames
            .is_some_and(|end| self.position >= end);
        if early && self.provenance == Provenance::Sought && !confirmed {
            return self.reread_sequentially();
        }
        self.eof = true;
        if early {
            if self.provenance == Provenance::Sequential {
                let end = self.confirmed_end_frames.unwrap_or(u64::MAX);
                self.confirmed_end_frames = Some(end.min(self.position));
            }
            self.damage.push(Damage::Truncated {
                decoded_frames: self.position,
                header_frames: self.info.frames,
            });
        }
        Ok(())
    }

    /// Checks that the audio really reaches the header's length by decoding
    /// the last ≈ 0.1 s, and that an Ogg file ends with a complete page.
    /// Leaves the reader at an undefined position (seek before reading).
    ///
    /// # Errors
    /// [`StemError::Truncated`] naming the file if the audio ends early.
    pub fn check_tail(&mut self) -> Result<(), StemError> {
        let tail = (self.info.sample_rate_hz as u64 / 10).max(1);
        let from = self.info.frames.saturating_sub(tail);
        let mut reached = from;
        if self.seek(from).is_ok() {
            let mut scratch = Vec::new();
            loop {
                scratch.clear();
                match self.read(&mut scratch, 4096) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => reached += n as u64,
                }
            }
        }
        let short = self
            .take_damage()
            .iter()
            .any(|d| matches!(d, Damage::Truncated { .. }));
        if (short && reached < self.info.frames) || ogg_cut_mid_page(&self.path) {
            return Err(StemError::Truncated {
                path: self.path.clone(),
                header_frames: self.info.frames,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
