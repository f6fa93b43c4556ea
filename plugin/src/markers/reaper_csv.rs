//! CONTROL THREAD (setlist loading): REAPER's Region/Marker Manager CSV
//! export.
//!
//! The file is RFC 4180 CSV: a header row `#,Name,Start,End,Length`
//! (newer versions add `Color`). The first row is the header if a field
//! of it is `#` or `Start`; its columns are then found by name, in any
//! order, else REAPER's order is assumed, then one row per marker
//! (`M1,Intro,0:00.000,,`) or region (`R2,Verse,1:23.456,1:45.000,0:21.544`).
//! Fields may be quoted, holding commas, line breaks and doubled quotes
//! (`"Chorus, ""big"""`). The fields are split here (a small RFC 4180
//! splitter that knows the line each row starts on, for the messages;
//! the `csv` crate would do the same for one more dependency).
//!
//! Start and End are in the time format the export used, read leniently:
//! - `h:mm:ss.fff` and `m:ss.fff` (minutes and seconds, any digits);
//! - plain seconds, `12.5` or `12` (a number with at most one `.`);
//! - samples, only with a suffix (`441000 smp`, `441000 samples`,
//!   `441000spl`): they need the sample rate, given to
//!   [`parse_reaper_csv_with_rate`] (a plain integer is seconds);
//! - measures and beats, `5.1.00` (measure, beat, hundredths of a beat;
//!   two dots): they need the tempo and the beats per bar, given to
//!   [`parse_reaper_csv`], and count at that one tempo from bar 1;
//! - `h:m:s:f` (frames) needs a frame rate the file does not give, and is
//!   an error, as is a negative time.
//!
//! The Length column is not read (End gives a region's end).

use super::{FileTempo, MarkerFile, MarkerFormat, Markers, ParseError, MAX_CSV_BYTES, MAX_MARKERS};

const CSV: MarkerFormat = MarkerFormat::ReaperCsv;

/// Most fields read from one row (the rest are ignored).
const MAX_FIELDS: usize = 32;

/// Reads the markers of a REAPER Region/Marker Manager CSV export's
/// `bytes` (UTF-8; anything else is read lossily): one per `M` or `R`
/// row (any other `#` is read as a marker), at its Start, seconds; a
/// region's End, seconds, as its end. `tempo` converts Start and End
/// given in measures and beats (`5.1.00`); without it such rows are
/// errors. The file carries no tempo of its own: the result's is `None`.
///
/// # Errors
/// [`ParseError`]: over [`MAX_CSV_BYTES`], more than [`MAX_MARKERS`]
/// rows, a row whose Start or End cannot be read (naming its line).
pub fn parse_reaper_csv(bytes: &[u8], tempo: Option<FileTempo>) -> Result<MarkerFile, ParseError> {
    parse_reaper_csv_with_rate(bytes, tempo, None)
}

/// [`parse_reaper_csv`], with the sample rate (Hz) that positions given in
/// samples (`441000 smp`) are counted at.
///
/// # Errors
/// As [`parse_reaper_csv`]; rows in samples without `sample_rate_hz` too.
pub fn parse_reaper_csv_with_rate(
    bytes: &[u8],
    tempo: Option<FileTempo>,
    sample_rate_hz: Option<u32>,
) -> Result<MarkerFile, ParseError> {
    if bytes.len() as u64 > MAX_CSV_BYTES {
        return Err(ParseError::TooLarge {
            format: CSV,
            what: "file",
            bytes: bytes.len() as u64,
            limit: MAX_CSV_BYTES,
        });
    }
    if let Some(t) = tempo {
        if !(t.bpm.is_finite() && t.bpm > 0.0 && t.beats_per_bar > 0) {
            return Err(ParseError::invalid(
                CSV,
                format!(
                    "a tempo of {} bpm with {} beats per bar cannot convert measures",
                    t.bpm, t.beats_per_bar
                ),
            ));
        }
    }
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let base = Timebase {
        tempo,
        sample_rate_hz: sample_rate_hz.filter(|r| *r > 0),
    };
    let mut columns = Columns::default();
    let mut markers = Markers::new(CSV);
    let mut first = true;
    for (line, fields) in Records::new(text) {
        let field = |at: usize| fields.get(at).map_or("", |f| f.trim());
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if std::mem::take(&mut first) && fields.iter().any(|f| is_header_name(f)) {
            columns = Columns::of_header(&fields);
            continue;
        }
        if markers.len() >= MAX_MARKERS {
            return Err(ParseError::TooManyMarkers { format: CSV });
        }
        let row_error = |message: String| ParseError::Row {
            format: CSV,
            line,
            message,
        };
        let id = field(columns.id);
        let shown_id = shown(id);
        let region = id.starts_with(['R', 'r']);
        let start = field(columns.start);
        if start.is_empty() {
            return Err(row_error(format!("{shown_id}: no Start")));
        }
        let start = base
            .secs(start)
            .map_err(|why| row_error(format!("{shown_id}: Start {:?}: {why}", shown(start))))?;
        let end = match columns.end.map(field).filter(|e| region && !e.is_empty()) {
            Some(end) => Some(
                base.secs(end)
                    .map_err(|why| row_error(format!("{shown_id}: End {:?}: {why}", shown(end))))?,
            ),
            None => None,
        };
        let fallback = || {
            let number = id.trim_start_matches(|c: char| c.is_ascii_alphabetic());
            let kind = if region { "Region" } else { "Marker" };
            format!("{kind} {number}").trim().to_string()
        };
        markers.push(field(columns.name), fallback, start, end)?;
    }
    Ok(markers.finish(None))
}

/// A field as an error message shows it: at most 40 chars.
fn shown(field: &str) -> String {
    match field.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &field[..at]),
        None => field.to_string(),
    }
}

/// Whether a field of the first row makes it the header (`#` or
/// `Start`, which no data row holds).
fn is_header_name(field: &str) -> bool {
    let f = field.trim();
    f == "#" || f.eq_ignore_ascii_case("start")
}

/// Where the fields are.
struct Columns {
    id: usize,
    name: usize,
    start: usize,
    end: Option<usize>,
}

impl Default for Columns {
    /// REAPER's order: `#,Name,Start,End,Length`.
    fn default() -> Self {
        Self {
            id: 0,
            name: 1,
            start: 2,
            end: Some(3),
        }
    }
}

impl Columns {
    /// The columns a header row names (case-insensitive); a name it
    /// lacks keeps REAPER's position (End: none).
    fn of_header(fields: &[String]) -> Self {
        let find = |name: &str| {
            fields
                .iter()
                .position(|f| f.trim().eq_ignore_ascii_case(name))
        };
        let d = Self::default();
        Self {
            id: find("#").unwrap_or(d.id),
            name: find("name").unwrap_or(d.name),
            start: find("start").unwrap_or(d.start),
            end: find("end"),
        }
    }
}

/// What converts times that are not in seconds.
struct Timebase {
    tempo: Option<FileTempo>,
    sample_rate_hz: Option<u32>,
}

impl Timebase {
    /// Seconds of a Start or End field, or why not.
    fn secs(&self, field: &str) -> Result<f64, String> {
        let s = field.trim();
        if s.starts_with('-') {
            return Err("a negative time (before the project start)".into());
        }
        let lower = s.to_ascii_lowercase();
        let samples = ["samples", "sample", "smp", "spl"]
            .iter()
            .find_map(|suffix| lower.strip_suffix(suffix));
        let secs = if let Some(count) = samples {
            let count = digits(count.trim()).ok_or("not a whole number of samples")?;
            let rate = self
                .sample_rate_hz
                .ok_or("a time in samples needs the sample rate")?;
            count / f64::from(rate)
        } else if s.contains(':') {
            let parts: Vec<&str> = s.split(':').collect();
            match parts.as_slice() {
                [m, sec] => digits(m).ok_or("bad minutes")? * 60.0 + decimal(sec)?,
                [h, m, sec] => {
                    digits(h).ok_or("bad hours")? * 3600.0
                        + digits(m).ok_or("bad minutes")? * 60.0
                        + decimal(sec)?
                }
                [_, _, _, _] => {
                    return Err("hours:minutes:seconds:frames needs a frame rate: \
                                export in minutes:seconds or seconds"
                        .into())
                }
                _ => return Err("not a time".into()),
            }
        } else if s.matches('.').count() == 2 {
            let tempo = self
                .tempo
                .ok_or("measures.beats needs the song's tempo and beats per bar")?;
            let mut parts = s.split('.');
            let (Some(bar), Some(beat), Some(hundredths)) =
                (parts.next(), parts.next(), parts.next())
            else {
                return Err("not measures.beats".into());
            };
            let bar = digits(bar).ok_or("bad measure")?;
            let beat = digits(beat).ok_or("bad beat")?;
            if bar < 1.0 || beat < 1.0 {
                return Err("measures and beats count from 1".into());
            }
            let fraction = if hundredths.is_empty() {
                0.0
            } else {
                decimal(&format!("0.{hundredths}"))?
            };
            let beats = (bar - 1.0) * f64::from(tempo.beats_per_bar) + (beat - 1.0) + fraction;
            beats * 60.0 / tempo.bpm
        } else {
            decimal(s)?
        };
        if secs.is_finite() {
            Ok(secs)
        } else {
            Err("out of range".into())
        }
    }
}

/// A whole number written in ASCII digits only.
fn digits(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A number of seconds: ASCII digits with at most one `.` (no sign,
/// exponent, `inf` or `NaN`).
fn decimal(s: &str) -> Result<f64, String> {
    let s = s.trim();
    let ok = !s.is_empty()
        && s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && s.matches('.').count() <= 1;
    if !ok {
        return Err("not a number of seconds".into());
    }
    s.parse().map_err(|_| "not a number of seconds".into())
}

/// The records of RFC 4180 text, each with the 1-based line it starts
/// on. Lenient where the RFC is strict: a quote inside an unquoted field
/// is kept, text after a closing quote is appended, an unclosed quote
/// runs to the end, CR LF, LF and CR all end a record.
struct Records<'a> {
    rest: std::iter::Peekable<std::str::Chars<'a>>,
    line: usize,
}

impl<'a> Records<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            rest: text.chars().peekable(),
            line: 1,
        }
    }
}

impl Iterator for Records<'_> {
    type Item = (usize, Vec<String>);

    fn next(&mut self) -> Option<Self::Item> {
        self.rest.peek()?;
        let start_line = self.line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        while let Some(c) = self.rest.next() {
            match c {
                '"' if quoted => {
                    if self.rest.peek() == Some(&'"') {
                        self.rest.next();
                        field.push('"');
                    } else {
                        quoted = false;
                    }
                }
                '"' if field.trim().is_empty() => {
                    field.clear();
                    quoted = true;
                }
                '\r' | '\n' if !quoted => {
                    if c == '\r' && self.rest.peek() == Some(&'\n') {
                        self.rest.next();
                    }
                    self.line += 1;
                    break;
                }
                ',' if !quoted => {
                    if fields.len() < MAX_FIELDS {
                        fields.push(std::mem::take(&mut field));
                    }
                    field.clear();
                }
                c => {
                    if c == '\n' || (c == '\r' && self.rest.peek() != Some(&'\n')) {
                        self.line += 1;
                    }
                    field.push(c);
                }
            }
        }
        if fields.len() < MAX_FIELDS {
            fields.push(field);
        }
        Some((start_line, fields))
    }
}
