//! CONTROL THREAD (setlist loading): the tracks of a FLAC file's CUESHEET
//! metadata block, named from the text cue sheet a `CUESHEET=` Vorbis
//! comment may hold.
//!
//! Followed: RFC 9639 (FLAC), section 8: the `fLaC` marker, then metadata
//! blocks, each with a 4-byte header (last-block flag, 7-bit type, 24-bit
//! big-endian length): STREAMINFO (type 0) gives the sample rate,
//! VORBIS_COMMENT (type 4, little-endian lengths) the names, CUESHEET
//! (type 5) the tracks. Reading stops after the block flagged last, or at
//! a block of type 127 (an audio frame's sync code where a block header
//! was expected): no audio frame is read. symphonia exposes cues too, but
//! without the names and only after probing the stream; these blocks are
//! small enough to read ourselves.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};

use super::{Bytes, MarkerFile, MarkerFormat, Markers, ParseError};

const FLAC: MarkerFormat = MarkerFormat::Flac;

/// Most metadata blocks read before giving up.
const MAX_BLOCKS: usize = 4096;

/// Bytes of the CUESHEET block before its tracks: the media catalog
/// number (128), lead-in (8), CD flag and reserved bits (1 + 258), track
/// count (1).
const CUESHEET_HEAD_BYTES: usize = 128 + 8 + 259 + 1;

/// Bytes of a track before its index points: offset (8), number (1),
/// ISRC (12), flags and reserved bits (1 + 13), index point count (1).
const TRACK_HEAD_BYTES: usize = 8 + 1 + 12 + 14 + 1;

/// Bytes of an index point: offset (8), number (1), reserved (3).
const INDEX_BYTES: usize = 8 + 1 + 3;

/// Reads the markers of a FLAC file's `bytes`: one per CUESHEET track
/// (the lead-out, number 170 on a CD and 255 otherwise, left out) at the
/// track's offset plus that of its index point 1 (else index 0, else the
/// track's offset alone), samples over STREAMINFO's sample rate, seconds.
/// Named by the `TITLE` of its `TRACK` in the text cue sheet of a
/// `CUESHEET=` Vorbis comment, else `Track NN` (its number, 2 digits). A
/// FLAC file without a CUESHEET block gives no markers.
///
/// # Errors
/// [`ParseError`]: no `fLaC` marker, a metadata block cut short or
/// malformed, a CUESHEET without a sample rate.
pub fn parse_flac(bytes: &[u8]) -> Result<MarkerFile, ParseError> {
    read_flac(&mut std::io::Cursor::new(bytes))
}

/// Reads the markers of the FLAC file `r` (see [`parse_flac`]): its
/// metadata blocks only, seeking over those it does not need.
pub(crate) fn read_flac<R: Read + Seek>(r: &mut R) -> Result<MarkerFile, ParseError> {
    let mut magic = [0u8; 4];
    r.read_exact(&mut magic)
        .map_err(|e| ParseError::read(FLAC, "the fLaC marker", e))?;
    if &magic == b"ID3\x03" || &magic == b"ID3\x04" || &magic == b"ID3\x02" {
        // An ID3v2 tag before the stream (not FLAC, but common): its size
        // is 4 syncsafe bytes after 2 bytes of version and flags.
        let mut rest = [0u8; 6];
        r.read_exact(&mut rest)
            .map_err(|e| ParseError::read(FLAC, "an ID3v2 tag", e))?;
        let size = rest[2..6]
            .iter()
            .fold(0i64, |acc, b| (acc << 7) | i64::from(b & 0x7f));
        r.seek(SeekFrom::Current(size))?;
        r.read_exact(&mut magic)
            .map_err(|e| ParseError::read(FLAC, "the fLaC marker", e))?;
    }
    if &magic != b"fLaC" {
        return Err(ParseError::NotFormat {
            format: FLAC,
            why: "no fLaC marker",
        });
    }
    let mut rate: Option<u32> = None;
    let mut cuesheet: Option<Vec<u8>> = None;
    let mut titles: BTreeMap<u8, String> = BTreeMap::new();
    let mut ended = false;
    for _ in 0..MAX_BLOCKS {
        let mut header = [0u8; 4];
        r.read_exact(&mut header)
            .map_err(|e| ParseError::read(FLAC, "the metadata blocks", e))?;
        let last = header[0] & 0x80 != 0;
        let kind = header[0] & 0x7f;
        let len = u64::from(u32::from_be_bytes([0, header[1], header[2], header[3]]));
        match kind {
            0 => {
                let info = read_block(r, len, "the STREAMINFO block")?;
                // Block sizes (2 + 2), frame sizes (3 + 3), then the
                // sample rate in 20 bits.
                let rate_bytes = info
                    .get(10..13)
                    .ok_or_else(|| ParseError::truncated(FLAC, "the STREAMINFO block"))?;
                rate = Some(
                    (u32::from(rate_bytes[0]) << 12)
                        | (u32::from(rate_bytes[1]) << 4)
                        | (u32::from(rate_bytes[2]) >> 4),
                );
            }
            4 => {
                let comments = read_block(r, len, "the VORBIS_COMMENT block")?;
                if let Some(sheet) = cuesheet_comment(&comments)? {
                    titles = track_titles(&sheet);
                }
            }
            5 if cuesheet.is_none() => cuesheet = Some(read_block(r, len, "the CUESHEET block")?),
            127 => {
                return Err(ParseError::invalid(
                    FLAC,
                    "metadata block of type 127 (an audio frame where a block was expected)",
                ))
            }
            _ => {
                r.seek(SeekFrom::Current(i64::try_from(len).unwrap_or(i64::MAX)))?;
            }
        }
        if last {
            ended = true;
            break;
        }
    }
    if !ended {
        return Err(ParseError::invalid(
            FLAC,
            format!("more than {MAX_BLOCKS} metadata blocks"),
        ));
    }
    let mut markers = Markers::new(FLAC);
    let Some(sheet) = cuesheet else {
        return Ok(markers.finish(None));
    };
    let rate = match rate {
        Some(0) => {
            return Err(ParseError::invalid(
                FLAC,
                "STREAMINFO gives a sample rate of 0",
            ))
        }
        Some(r) => f64::from(r),
        None => {
            return Err(ParseError::invalid(
                FLAC,
                "a CUESHEET but no STREAMINFO to give the sample rate",
            ))
        }
    };
    read_tracks(&sheet, rate, &titles, &mut markers)?;
    Ok(markers.finish(None))
}

/// A whole metadata block of `len` bytes (at most 16 MiB: 24 bits), read
/// as the bytes come (a length past the end allocates nothing more).
fn read_block<R: Read>(r: &mut R, len: u64, what: &str) -> Result<Vec<u8>, ParseError> {
    let mut out = Vec::new();
    r.take(len).read_to_end(&mut out)?;
    if (out.len() as u64) < len {
        return Err(ParseError::truncated(FLAC, what));
    }
    Ok(out)
}

/// The tracks of a CUESHEET block's body, into `markers`.
fn read_tracks(
    sheet: &[u8],
    rate: f64,
    titles: &BTreeMap<u8, String>,
    markers: &mut Markers,
) -> Result<(), ParseError> {
    let cut = || ParseError::truncated(FLAC, "the CUESHEET block");
    let mut b = Bytes::new(sheet);
    let head = b.take(CUESHEET_HEAD_BYTES).ok_or_else(cut)?;
    let is_cd = head[128 + 8] & 0x80 != 0;
    let track_count = head[CUESHEET_HEAD_BYTES - 1];
    let lead_out = if is_cd { 170 } else { 255 };
    for _ in 0..track_count {
        let offset = b.u64_be().ok_or_else(cut)?;
        let number = b.u8().ok_or_else(cut)?;
        let _isrc_flags_reserved = b.take(TRACK_HEAD_BYTES - 10).ok_or_else(cut)?;
        let index_count = b.u8().ok_or_else(cut)?;
        let mut index_0 = None;
        let mut index_1 = None;
        for _ in 0..index_count {
            let index = b.take(INDEX_BYTES).ok_or_else(cut)?;
            let mut ib = Bytes::new(index);
            let (Some(at), Some(n)) = (ib.u64_be(), ib.u8()) else {
                return Err(cut());
            };
            match n {
                0 => index_0 = index_0.or(Some(at)),
                1 => index_1 = index_1.or(Some(at)),
                _ => {}
            }
        }
        if number == lead_out {
            continue;
        }
        let samples = offset
            .checked_add(index_1.or(index_0).unwrap_or(0))
            .ok_or_else(|| {
                ParseError::invalid(FLAC, format!("track {number}'s offset overflows"))
            })?;
        let title = titles.get(&number).map_or("", String::as_str);
        markers.push(
            title,
            || format!("Track {number:02}"),
            samples as f64 / rate,
            None,
        )?;
    }
    Ok(())
}

/// The value of the first `CUESHEET=` comment (field names are
/// case-insensitive) of a VORBIS_COMMENT block's body, if any.
fn cuesheet_comment(block: &[u8]) -> Result<Option<String>, ParseError> {
    let cut = || ParseError::truncated(FLAC, "the VORBIS_COMMENT block");
    let mut b = Bytes::new(block);
    let vendor_len = b.u32_le().ok_or_else(cut)?;
    b.take(usize::try_from(vendor_len).unwrap_or(usize::MAX))
        .ok_or_else(cut)?;
    let count = b.u32_le().ok_or_else(cut)?;
    for _ in 0..count {
        let len = b.u32_le().ok_or_else(cut)?;
        let comment = b
            .take(usize::try_from(len).unwrap_or(usize::MAX))
            .ok_or_else(cut)?;
        let Some(eq) = comment.iter().position(|c| *c == b'=') else {
            continue;
        };
        if comment[..eq].eq_ignore_ascii_case(b"CUESHEET") {
            return Ok(Some(
                String::from_utf8_lossy(&comment[eq + 1..]).into_owned(),
            ));
        }
    }
    Ok(None)
}

/// The `TITLE` of each `TRACK` of a text cue sheet, by track number (the
/// first for each; a `TITLE` before any `TRACK` names the album and is
/// left out).
fn track_titles(sheet: &str) -> BTreeMap<u8, String> {
    let mut titles = BTreeMap::new();
    let mut track: Option<u8> = None;
    for line in sheet.lines() {
        let line = line.trim();
        let (command, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        if command.eq_ignore_ascii_case("TRACK") {
            track = rest
                .split_whitespace()
                .next()
                .and_then(|n| n.parse::<u8>().ok());
        } else if command.eq_ignore_ascii_case("TITLE") {
            if let Some(n) = track {
                titles.entry(n).or_insert_with(|| unquote(rest));
            }
        }
    }
    titles
}

/// A cue sheet string: the text between its quotes (to the end if the
/// closing one is missing), or the word as it is.
fn unquote(s: &str) -> String {
    let s = s.trim();
    match s.strip_prefix('"') {
        Some(inner) => inner.split('"').next().unwrap_or_default().to_string(),
        None => s.to_string(),
    }
}
