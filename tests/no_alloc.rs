//! The process path never allocates: every `Engine::process` call runs under
//! `assert_no_alloc` (this test binary's global allocator) across play,
//! seeks, song changes, mute/solo, pause/stop, setlist reload and
//! underruns (see `common/scenario.rs`). Zero violations allowed.

mod common;

use assert_no_alloc::{assert_no_alloc, AllocDisabler};

#[global_allocator]
static ALLOCATOR: AllocDisabler = AllocDisabler;

#[test]
fn process_never_allocates() {
    common::scenario::run(&mut |engine, l, r| {
        assert_no_alloc(|| {
            engine.process(l, r);
        });
    });
    assert_eq!(
        assert_no_alloc::violation_count(),
        0,
        "allocations in process()"
    );
}
