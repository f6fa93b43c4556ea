//! ANY THREAD: wakes the loader's coordinator thread.
//!
//! The coordinator parks between ticks; anything that gives it work (a
//! control request, a finished job, a request from the audio thread) calls
//! [`Waker::wake`]. Waking is `Thread::unpark`: one atomic swap, plus one
//! futex wake system call only when the coordinator is actually parked. It
//! never allocates, locks or blocks, so the audio thread may call it (the
//! same primitive JACK uses to wake its clients).
//!
//! That futex wake is the one system call the audio thread may make, and
//! only for a request that needs the loader (a song whose head is not
//! resident, a program change, a seek). It is an explicit exception to the
//! realtime contract: a harness such as RealtimeSanitizer, which flags every
//! system call, can scope it with [`set_wake_exception`]; nothing else on
//! the audio thread is excepted. Polling instead would add up to the
//! coordinator's tick (20 ms playing, 100 ms idle) to every such request.

use std::sync::OnceLock;
use std::thread::Thread;

/// `(enter, exit)`: called before and after the wake's system call.
type WakeScope = (fn(), fn());

/// The scope around the wake's system call, if a harness installed one.
static WAKE_EXCEPTION: OnceLock<WakeScope> = OnceLock::new();

/// Installs `enter` and `exit` to run around the system call of every
/// [`Waker::wake`] in this process (e.g. RealtimeSanitizer's `disable` and
/// `enable`, so that the one documented exception is not flagged while
/// everything else on the audio thread still is). Returns false if one was
/// installed already (the first stays). Not realtime-safe; call it before
/// audio starts.
pub fn set_wake_exception(enter: fn(), exit: fn()) -> bool {
    WAKE_EXCEPTION.set((enter, exit)).is_ok()
}

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
            match WAKE_EXCEPTION.get() {
                Some((enter, exit)) => {
                    enter();
                    t.unpark();
                    exit();
                }
                None => t.unpark(),
            }
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
