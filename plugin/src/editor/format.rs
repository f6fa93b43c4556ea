//! GUI THREAD: how the editor writes times and levels.

/// `frames` at `rate_hz` as `m:ss.t` (tenths, truncated so that the
/// display never runs ahead of the audio); `h:mm:ss.t` from an hour on.
/// `--:--.-` for a rate of 0 (not activated).
pub fn time_mss_t(frames: u64, rate_hz: u32) -> String {
    if rate_hz == 0 {
        return "--:--.-".into();
    }
    let tenths = frames * 10 / u64::from(rate_hz);
    let (secs, tenth) = (tenths / 10, tenths % 10);
    let (mins, sec) = (secs / 60, secs % 60);
    if mins >= 60 {
        format!("{}:{:02}:{sec:02}.{tenth}", mins / 60, mins % 60)
    } else {
        format!("{mins}:{sec:02}.{tenth}")
    }
}

/// `frames` at `rate_hz` as `m:ss` (whole seconds, truncated);
/// `h:mm:ss` from an hour on; `--:--` for a rate of 0.
pub fn time_mss(frames: u64, rate_hz: u32) -> String {
    if rate_hz == 0 {
        return "--:--".into();
    }
    let secs = frames / u64::from(rate_hz);
    let (mins, sec) = (secs / 60, secs % 60);
    if mins >= 60 {
        format!("{}:{:02}:{sec:02}", mins / 60, mins % 60)
    } else {
        format!("{mins}:{sec:02}")
    }
}

/// A gain in dB with one decimal and its sign, `-inf` at or below
/// `floor_db`.
pub fn gain_db(db: f32, floor_db: f32) -> String {
    if db <= floor_db {
        "-inf dB".into()
    } else {
        format!("{db:+.1} dB")
    }
}

/// A byte count in the largest unit that keeps it ≥ 1 (decimal: kB, MB,
/// GB, as disks are sold).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_truncate_to_tenths_and_grow_hours() {
        assert_eq!(time_mss_t(0, 48_000), "0:00.0");
        assert_eq!(time_mss_t(4_799, 48_000), "0:00.0");
        assert_eq!(time_mss_t(4_800, 48_000), "0:00.1");
        assert_eq!(time_mss_t(48_000 * 125 + 24_000, 48_000), "2:05.5");
        assert_eq!(time_mss_t(44_100 * 3_725, 44_100), "1:02:05.0");
        assert_eq!(time_mss_t(1, 0), "--:--.-");
        assert_eq!(time_mss(48_000 * 125 + 47_999, 48_000), "2:05");
        assert_eq!(time_mss(44_100 * 3_725, 44_100), "1:02:05");
        assert_eq!(time_mss(1, 0), "--:--");
    }

    #[test]
    fn gains_and_bytes_read_as_a_person_writes_them() {
        assert_eq!(gain_db(0.0, -60.0), "+0.0 dB");
        assert_eq!(gain_db(-6.02, -60.0), "-6.0 dB");
        assert_eq!(gain_db(-60.0, -60.0), "-inf dB");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_500), "1.5 kB");
        assert_eq!(bytes(20_000_000_000), "20.0 GB");
    }
}
