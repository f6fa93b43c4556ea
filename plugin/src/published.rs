//! ANY THREAD (never the audio thread): a value one thread publishes and
//! others read often, such as the editor's view of the control thread. The
//! writer replaces the whole value (an [`Arc`]) and bumps a version; a
//! [`Reader`] re-reads it only when the version has changed, so a reader
//! that polls every GUI frame takes no lock on frames where nothing
//! changed, and never waits on a writer doing I/O (writers build the new
//! value first and hold the lock only to swap the `Arc`).
//!
//! The pattern of a producer/consumer pair (Diopser's editor reads its
//! plugin the same way), with the consumer's end owned by the reader.
#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    clippy::disallowed_macros
)] // Never the audio thread.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

/// Source of [`Published::id`]: unique per value in the process.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A published value of type `T`, versioned.
pub struct Published<T> {
    /// Which published value this is (a [`Reader`] moved to another one,
    /// such as a new activation's, re-reads even at an equal version).
    id: u64,
    /// Bumped after every replacement (Release), read first by readers
    /// (Acquire).
    version: AtomicU64,
    value: Mutex<Arc<T>>,
    /// Times the lock was taken (the editor's benchmark counts a frame's).
    locks: AtomicU64,
}

impl<T: Default> Default for Published<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> Published<T> {
    /// A value at version 0.
    pub fn new(value: T) -> Self {
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            version: AtomicU64::new(0),
            value: Mutex::new(Arc::new(value)),
            locks: AtomicU64::new(0),
        }
    }

    /// Replaces the value with `value`.
    pub fn set(&self, value: T) {
        let value = Arc::new(value);
        *self.lock() = value;
        self.version.fetch_add(1, Ordering::Release);
    }

    /// The current value (takes the lock briefly: for writers and for
    /// readers that do not poll; pollers use a [`Reader`]).
    pub fn get(&self) -> Arc<T> {
        Arc::clone(&self.lock())
    }

    /// How many times the lock has been taken, by writers and readers.
    pub fn locks_taken(&self) -> u64 {
        self.locks.load(Ordering::Relaxed)
    }

    fn lock(&self) -> parking_lot::MutexGuard<'_, Arc<T>> {
        self.locks.fetch_add(1, Ordering::Relaxed);
        self.value.lock()
    }

    /// The number of replacements so far.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }
}

impl<T: Clone> Published<T> {
    /// Replaces the value with a copy changed by `change` (the copy is made
    /// under the lock, so concurrent updates do not lose each other's
    /// changes; `change` must not do I/O or wait).
    pub fn update(&self, change: impl FnOnce(&mut T)) {
        let mut guard = self.lock();
        let mut value = T::clone(&guard);
        change(&mut value);
        *guard = Arc::new(value);
        drop(guard);
        self.version.fetch_add(1, Ordering::Release);
    }
}

/// A reader's end: the last value read and its version.
pub struct Reader<T> {
    /// The id and version last read.
    seen: Option<(u64, u64)>,
    current: Arc<T>,
}

impl<T: Default> Default for Reader<T> {
    fn default() -> Self {
        Self {
            seen: None,
            current: Arc::new(T::default()),
        }
    }
}

impl<T> Reader<T> {
    /// The published value, re-read (one short lock) only if its version
    /// moved since the last call; otherwise no lock at all.
    pub fn read(&mut self, published: &Published<T>) -> &Arc<T> {
        let seen = Some((published.id, published.version()));
        if self.seen != seen {
            self.current = published.get();
            self.seen = seen;
        }
        &self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_sees_every_replacement_and_rereads_only_after_one() {
        let p = Published::new(1u32);
        let mut r = Reader::default();
        assert_eq!(**r.read(&p), 1);
        let first = Arc::clone(r.read(&p));
        assert!(Arc::ptr_eq(&first, r.read(&p)), "no change: the same Arc");
        p.set(2);
        assert_eq!(**r.read(&p), 2);
        p.update(|v| *v += 5);
        assert_eq!(**r.read(&p), 7);
        assert_eq!(p.version(), 2);
        // Another value at the same version is read too.
        let q = Published::new(40u32);
        q.set(41);
        q.set(42);
        assert_eq!(**r.read(&q), 42);
    }

    #[test]
    fn concurrent_updates_are_not_lost() {
        let p = Arc::new(Published::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let p = Arc::clone(&p);
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        p.update(|v| *v += 1);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*p.get(), 4000);
        assert_eq!(p.version(), 4000);
    }
}
