//! CONTROL THREAD (the CLI): the process's own figures for long runs (`trax
//! soak`): resident memory, open file descriptors and threads, read from
//! `/proc/self` (Linux; zero elsewhere).

/// One reading.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcStat {
    /// Resident set size (VmRSS), bytes.
    pub rss_bytes: u64,
    /// Open file descriptors.
    pub fds: u64,
    /// Threads of the process.
    pub threads: u64,
}

impl ProcStat {
    /// Reads the figures now (zero where unavailable).
    pub fn read() -> Self {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        Self {
            rss_bytes: field("VmRSS:") * 1024,
            threads: field("Threads:"),
            fds: std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn reads_this_process() {
        let s = ProcStat::read();
        assert!(s.rss_bytes > 1_000_000, "{s:?}");
        assert!(s.threads >= 1, "{s:?}");
        assert!(s.fds >= 3, "{s:?}");
    }
}
