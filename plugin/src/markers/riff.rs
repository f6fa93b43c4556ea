//! CONTROL THREAD (setlist loading): the cue points and regions of a RIFF
//! WAVE file (and of BWF, RF64 and BW64, which are WAVE with more chunks or
//! 64-bit sizes).
//!
//! Followed: the Microsoft/IBM *Multimedia Programming Interface and Data
//! Specifications 1.0* (1991): the `fmt ` chunk's sample rate, the `cue `
//! chunk (cue points of 24 bytes: `dwName` id, `dwPosition`, `fccChunk`,
//! `dwChunkStart`, `dwBlockStart`, `dwSampleOffset`) and the associated
//! data list `LIST`/`adtl` with its `labl` (a cue point's name), `note`
//! (its comment) and `ltxt` (a region: a cue point's length in frames)
//! sub-chunks; EBU Tech 3306 for RF64's `ds64` sizes. Chunks are walked in
//! any order (recorders write `cue ` and `LIST` after `data`), every chunk
//! padded to an even size as RIFF requires.
//!
//! The chunk walk is ours, not the `riff` crate's: riff 2.0 (unchanged
//! since 2020) allocates a chunk's declared length before reading it
//! (`Chunk::read_contents`, up to 4 GiB from one length field), its chunk
//! id's `Display` panics on an id that is not UTF-8, and it knows no RF64.
//! The walk below seeks over every chunk it does not need (the audio
//! first), reads only `fmt `, `ds64`, `cue ` and `LIST`/`adtl` (those at
//! most [`MAX_WAV_CHUNK_BYTES`]), and goes on to the end of the file even
//! where the RIFF size says less (tools that append chunks do not always
//! fix it).

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};

use super::{
    text_of, Bytes, MarkerFile, MarkerFormat, Markers, ParseError, MAX_MARKERS, MAX_WAV_CHUNK_BYTES,
};

const WAV: MarkerFormat = MarkerFormat::Wav;

/// Most chunks walked: a file of more (each chunk a seek) is read only
/// that far.
const MAX_CHUNKS: usize = 65_536;

/// Bytes of one cue point.
const CUE_POINT_BYTES: usize = 24;

/// Reads the markers of a WAV file's `bytes`: one per cue point, at its
/// `dwSampleOffset` (frames) over the `fmt ` chunk's sample rate, seconds;
/// named by its `labl` (else the `ltxt` text, else its `note`, else
/// `Marker N`, N its cue id); a region where an `ltxt` gives it a length
/// (frames). A WAV file without cue points gives no markers.
///
/// # Errors
/// [`ParseError`]: not RIFF WAVE, a `cue ` or `LIST`/`adtl` chunk cut
/// short or over [`MAX_WAV_CHUNK_BYTES`], more cue points than
/// [`MAX_MARKERS`], cue points without a sample rate.
pub fn parse_wav(bytes: &[u8]) -> Result<MarkerFile, ParseError> {
    read_wav(&mut std::io::Cursor::new(bytes))
}

/// One cue point of a `cue ` chunk.
struct CuePoint {
    /// `dwName`: the id the `adtl` sub-chunks refer to.
    id: u32,
    /// `dwSampleOffset`: the frame it marks.
    frame: u32,
}

/// What the `adtl` list says of one cue point.
#[derive(Default)]
struct Label {
    /// From `labl`.
    name: Option<String>,
    /// From `note`.
    note: Option<String>,
    /// From `ltxt`: the text, and the region's length in frames.
    region_text: Option<String>,
    region_frames: Option<u32>,
}

/// Reads the markers of the WAV file `r` (see [`parse_wav`]), seeking
/// over the chunks it does not need.
pub(crate) fn read_wav<R: Read + Seek>(r: &mut R) -> Result<MarkerFile, ParseError> {
    let file_len = r.seek(SeekFrom::End(0))?;
    r.seek(SeekFrom::Start(0))?;
    let mut head = [0u8; 12];
    r.read_exact(&mut head).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => ParseError::NotFormat {
            format: WAV,
            why: "shorter than a RIFF header",
        },
        _ => ParseError::Io(e),
    })?;
    let wide = match &head[0..4] {
        b"RIFF" => false,
        b"RF64" | b"BW64" => true,
        _ => {
            return Err(ParseError::NotFormat {
                format: WAV,
                why: "no RIFF header",
            })
        }
    };
    if &head[8..12] != b"WAVE" {
        return Err(ParseError::NotFormat {
            format: WAV,
            why: "a RIFF file, but not WAVE",
        });
    }
    let mut rate: Option<u32> = None;
    let mut cues: Vec<CuePoint> = Vec::new();
    let mut labels: BTreeMap<u32, Label> = BTreeMap::new();
    let mut data_size_64: Option<u64> = None;
    let mut pos: u64 = 12;
    for _ in 0..MAX_CHUNKS {
        if file_len.saturating_sub(pos) < 8 {
            break;
        }
        r.seek(SeekFrom::Start(pos))?;
        let mut header = [0u8; 8];
        r.read_exact(&mut header)
            .map_err(|e| ParseError::read(WAV, "a chunk header", e))?;
        let id = [header[0], header[1], header[2], header[3]];
        let size32 = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let size = match (wide, &id, data_size_64) {
            // RF64: the data chunk's size is in ds64.
            (true, b"data", Some(s)) if size32 == u32::MAX => s,
            _ => u64::from(size32),
        };
        let body = pos + 8;
        let available = file_len - body;
        match &id {
            b"fmt " => {
                let fmt = read_body(r, size.min(16), available, "the fmt chunk")?;
                // wFormatTag, nChannels, then nSamplesPerSec.
                let rate_bytes = fmt.get(4..8).ok_or_else(|| {
                    ParseError::invalid(
                        WAV,
                        format!("the fmt chunk is {size} bytes, too short to give a sample rate"),
                    )
                })?;
                rate = Some(u32::from_le_bytes([
                    rate_bytes[0],
                    rate_bytes[1],
                    rate_bytes[2],
                    rate_bytes[3],
                ]));
            }
            b"ds64" if wide => {
                let ds64 = read_body(r, size.min(28), available, "the ds64 chunk")?;
                let mut b = Bytes::new(&ds64);
                let _riff_size = b.take(8);
                data_size_64 = b.array().map(u64::from_le_bytes);
            }
            b"cue " => {
                let body = read_limited(r, size, available, "the cue chunk")?;
                read_cue_points(&body, &mut cues)?;
            }
            b"LIST" if size >= 4 => {
                let mut kind = [0u8; 4];
                r.read_exact(&mut kind)
                    .map_err(|e| ParseError::read(WAV, "a LIST chunk", e))?;
                if &kind == b"adtl" {
                    let body = read_limited(
                        r,
                        size - 4,
                        available.saturating_sub(4),
                        "the LIST/adtl chunk",
                    )?;
                    read_adtl(&body, &mut labels)?;
                }
            }
            _ => {}
        }
        // Every chunk is padded to an even size.
        pos = body.saturating_add(size).saturating_add(size & 1);
    }
    let mut markers = Markers::new(WAV);
    if cues.is_empty() {
        return Ok(markers.finish(None));
    }
    let rate = match rate {
        Some(0) => {
            return Err(ParseError::invalid(
                WAV,
                "the fmt chunk gives a sample rate of 0",
            ))
        }
        Some(r) => f64::from(r),
        None => {
            return Err(ParseError::invalid(
                WAV,
                "cue points but no fmt chunk to give the sample rate",
            ))
        }
    };
    for cue in &cues {
        let label = labels.get(&cue.id);
        let name = label
            .and_then(|l| {
                [&l.name, &l.region_text, &l.note]
                    .into_iter()
                    .flatten()
                    .find(|n| !n.trim().is_empty())
            })
            .map_or("", String::as_str);
        let start = f64::from(cue.frame) / rate;
        let end = label
            .and_then(|l| l.region_frames)
            .filter(|f| *f > 0)
            .map(|f| (f64::from(cue.frame) + f64::from(f)) / rate);
        markers.push(name, || format!("Marker {}", cue.id), start, end)?;
    }
    Ok(markers.finish(None))
}

/// The first `size` bytes of the chunk body at the reader's position
/// (`available` bytes are left in the file).
fn read_body<R: Read>(
    r: &mut R,
    size: u64,
    available: u64,
    what: &str,
) -> Result<Vec<u8>, ParseError> {
    if size > available {
        return Err(ParseError::truncated(WAV, what));
    }
    let mut out = Vec::new();
    r.take(size).read_to_end(&mut out)?;
    if (out.len() as u64) < size {
        return Err(ParseError::truncated(WAV, what));
    }
    Ok(out)
}

/// A whole chunk body of `size` bytes, if it is at most
/// [`MAX_WAV_CHUNK_BYTES`].
fn read_limited<R: Read>(
    r: &mut R,
    size: u64,
    available: u64,
    what: &'static str,
) -> Result<Vec<u8>, ParseError> {
    if size > MAX_WAV_CHUNK_BYTES {
        return Err(ParseError::TooLarge {
            format: WAV,
            what,
            bytes: size,
            limit: MAX_WAV_CHUNK_BYTES,
        });
    }
    read_body(r, size, available, what)
}

/// The cue points of a `cue ` chunk's body, added to `cues`.
fn read_cue_points(body: &[u8], cues: &mut Vec<CuePoint>) -> Result<(), ParseError> {
    let mut b = Bytes::new(body);
    let count = b
        .u32_le()
        .ok_or_else(|| ParseError::truncated(WAV, "the cue chunk"))?;
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    if count.saturating_add(cues.len()) > MAX_MARKERS {
        return Err(ParseError::TooManyMarkers { format: WAV });
    }
    if count.saturating_mul(CUE_POINT_BYTES) > b.remaining() {
        return Err(ParseError::invalid(
            WAV,
            format!(
                "the cue chunk claims {count} cue points but holds {} bytes of them",
                b.remaining()
            ),
        ));
    }
    for _ in 0..count {
        let (Some(id), Some(_position), Some(_chunk), Some(_chunk_start), Some(_block_start)) =
            (b.u32_le(), b.u32_le(), b.take(4), b.u32_le(), b.u32_le())
        else {
            return Err(ParseError::truncated(WAV, "the cue chunk"));
        };
        let frame = b
            .u32_le()
            .ok_or_else(|| ParseError::truncated(WAV, "the cue chunk"))?;
        cues.push(CuePoint { id, frame });
    }
    Ok(())
}

/// The `labl`, `note` and `ltxt` sub-chunks of a `LIST`/`adtl` body (after
/// its type), into `labels` by cue id (the first of each kind wins).
fn read_adtl(body: &[u8], labels: &mut BTreeMap<u32, Label>) -> Result<(), ParseError> {
    let mut b = Bytes::new(body);
    while b.remaining() >= 8 {
        let (Some(id), Some(size)) = (b.array::<4>(), b.u32_le()) else {
            break;
        };
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        let Some(sub) = b.take(size) else {
            return Err(ParseError::truncated(
                WAV,
                format!(
                    "the {} sub-chunk of the LIST/adtl chunk",
                    String::from_utf8_lossy(&id)
                ),
            ));
        };
        // The pad byte of an odd size (absent at the very end is fine).
        if size % 2 == 1 {
            let _ = b.take(1);
        }
        let mut s = Bytes::new(sub);
        let Some(cue_id) = s.u32_le() else {
            continue;
        };
        if !labels.contains_key(&cue_id) && labels.len() >= MAX_MARKERS {
            return Err(ParseError::TooManyMarkers { format: WAV });
        }
        let label = labels.entry(cue_id).or_default();
        match &id {
            b"labl" => {
                let text = text_of(s.take(s.remaining()).unwrap_or_default());
                label.name.get_or_insert(text);
            }
            b"note" => {
                let text = text_of(s.take(s.remaining()).unwrap_or_default());
                label.note.get_or_insert(text);
            }
            b"ltxt" => {
                // dwSampleLength, dwPurposeID, wCountry, wLanguage,
                // wDialect, wCodePage, then the text.
                let Some(frames) = s.u32_le() else {
                    continue;
                };
                let _purpose_and_language = s.take(12);
                label.region_frames.get_or_insert(frames);
                let text = text_of(s.take(s.remaining()).unwrap_or_default());
                label.region_text.get_or_insert(text);
            }
            _ => {}
        }
    }
    Ok(())
}
