//! A scratch folder per process and thread for the targets that need files
//! (a folder setlist, an audio file): in `/dev/shm` where it exists (no
//! disk I/O per input), else the system's temporary folder.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// This thread's scratch folder (created on first use; a test binary runs
/// targets on several threads at once).
pub fn dir() -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    thread_local! {
        static DIR: PathBuf = {
            let base = PathBuf::from("/dev/shm");
            let base = if base.is_dir() { base } else { std::env::temp_dir() };
            let dir = base.join(format!(
                "trax-fuzz-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::create_dir_all(&dir);
            dir
        };
    }
    DIR.with(Clone::clone)
}
