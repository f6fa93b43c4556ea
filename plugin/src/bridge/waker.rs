//! Any thread: wakes the loader's coordinator thread.
//!
//! The coordinator parks between ticks; anything that gives it work (a
//! control request, a finished job, a request from the audio thread) calls
//! [`Waker::wake`]. Waking is `Thread::unpark`: one atomic swap, plus one
//! futex wake system call only when the coordinator is actually parked. It
//! never allocates, locks or blocks, so the audio thread may call it (the
//! same primitive JACK uses to wake its clients).

use std::sync::OnceLock;
use std::thread::Thread;

/// Wakes the coordinator thread. Before the coordinator has registered
/// itself a wake is a no-op (it drains everything when it starts).
#[derive(Debug, Default)]
pub struct Waker {
    thread: OnceLock<Thread>,
}

impl Waker {
    /// Registers the calling thread as the one to wake. Called once by the
    /// coordinator as it starts; later calls are ignored.
    pub fn register_current(&self) {
        let _ = self.thread.set(std::thread::current());
    }

    /// Wakes the registered thread (or makes its next park return at once).
    /// Realtime-safe.
    #[inline]
    pub fn wake(&self) {
        if let Some(t) = self.thread.get() {
            t.unpark();
        }
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_macros, clippy::disallowed_methods)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    #[test]
    fn wake_before_park_is_not_lost() {
        let waker = Arc::new(Waker::default());
        let (tx, rx) = std::sync::mpsc::channel();
        let w = Arc::clone(&waker);
        let t = std::thread::spawn(move || {
            w.register_current();
            tx.send(()).expect("main thread waits");
            // Give the main thread time to wake us before we park.
            std::thread::sleep(Duration::from_millis(50));
            let start = Instant::now();
            std::thread::park_timeout(Duration::from_secs(5));
            start.elapsed()
        });
        rx.recv().expect("thread registered");
        waker.wake();
        let parked = t.join().expect("thread ends");
        assert!(
            parked < Duration::from_secs(1),
            "wake lost: parked {parked:?}"
        );
    }
}
