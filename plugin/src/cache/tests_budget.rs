//! LOADER THREADS (tests): the byte budget, LRU eviction and in-use pins:
//! examples, then a property test over random sequences of writes, pins,
//! restarts and clears checked against a model.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use proptest::prelude::*;

use super::tests::{assert_bits_equal, key, EXACT16};
use super::*;

/// 16-bit stereo material that differs per `seed` (compresses to roughly
/// half of raw, like music).
fn chunk_samples(frames: u32, seed: u32) -> Vec<f32> {
    let f = 0.001 + f64::from(seed % 97) * 0.0007;
    (0..frames as usize * 2)
        .map(|i| {
            let t = (i / 2) as f64;
            let v = 0.4 * (t * f + (i % 2) as f64).sin()
                + 0.05 * ((t * 7.3 + f64::from(seed)).sin() * 1e4).sin();
            ((v * 32768.0).round() / 32768.0) as f32 + 0.0
        })
        .collect()
}

fn entry_of(store: &ChunkStore, n: usize) -> Entry {
    store
        .entry(&key(&format!("stem{n}.flac"), 2, EXACT16))
        .expect("entry")
}

#[test]
fn writes_evict_the_least_recently_used_stems_first() {
    let (_dir, store) = tests::open();
    let entries: Vec<Entry> = (0..4).map(|n| entry_of(&store, n)).collect();
    // Three chunks into each of stems 0, 1, 2 (in that order of use).
    let mut chunk_bytes = 0;
    for (n, e) in entries.iter().take(3).enumerate() {
        for i in 0..3 {
            let w = e
                .write_chunk(i, &chunk_samples(4000, (n * 10) as u32 + i))
                .expect("write");
            chunk_bytes = chunk_bytes.max(w.bytes_on_disk);
        }
    }
    let used = store.usage().expect("usage").bytes;
    assert_eq!(store.ledger_bytes().expect("ledger"), used);
    // Stem 0 used again: now stem 1 is the least recently used.
    let _pin0 = entries[0].pin().expect("pin");
    assert!(chunk_bytes > 1000);
    store.set_budget_bytes(used + 100).expect("budget");
    let w = entries[3]
        .write_chunk(0, &chunk_samples(4000, 99))
        .expect("fits after eviction");
    assert!(w.evicted.chunks_removed >= 1, "{:?}", w.evicted);
    // Stem 1 lost its last chunks first; stems 0 (pinned) and 2 kept all.
    assert!(!entries[1].contains(2), "LRU stem's tail goes first");
    for i in 0..3 {
        assert!(
            entries[0].contains(i) && entries[2].contains(i),
            "chunk {i}"
        );
    }
    let usage = store.usage().expect("usage");
    assert!(usage.bytes <= used + 100, "{usage:?}");
    assert_eq!(store.ledger_bytes().expect("ledger"), usage.bytes);
}

#[test]
fn a_chunk_that_cannot_fit_is_not_written() {
    let (_dir, store) = tests::open();
    let a = entry_of(&store, 0);
    let b = entry_of(&store, 1);
    a.write_chunk(0, &chunk_samples(4000, 1)).expect("write");
    let pin = a.pin().expect("pin");
    let used = store.usage().expect("usage").bytes;
    store.set_budget_bytes(used + 100).expect("budget");
    let err = b
        .write_chunk(0, &chunk_samples(4000, 2))
        .expect_err("over budget");
    assert!(matches!(err, CacheError::OverBudget { .. }), "{err}");
    assert!(err.to_string().contains("budget"), "{err}");
    assert!(a.contains(0), "the pinned chunk stays");
    assert!(!b.contains(0));
    // Unpinned, it can go.
    drop(pin);
    b.write_chunk(0, &chunk_samples(4000, 2)).expect("fits now");
    assert!(!a.contains(0));
}

#[test]
fn a_lower_budget_evicts_at_once_and_persists() {
    let (dir, store) = tests::open();
    for n in 0..3 {
        let e = entry_of(&store, n);
        for i in 0..4 {
            e.write_chunk(i, &chunk_samples(3000, i + n as u32 * 4))
                .expect("write");
        }
    }
    let before = store.usage().expect("usage").bytes;
    let stats = store.set_budget_bytes(before / 2).expect("budget");
    assert!(stats.chunks_removed > 0);
    assert!(store.usage().expect("usage").bytes <= before / 2);
    drop(store);
    let store = ChunkStore::open(&dir.path().join("chunks")).expect("reopen");
    assert_eq!(store.settings().budget_bytes, before / 2);
    assert_eq!(
        FolderSettings::read(std::path::Path::new("/nonexistent")).budget_bytes,
        DEFAULT_BUDGET_BYTES
    );
}

#[test]
fn a_damaged_or_missing_ledger_is_rebuilt_from_the_folder() {
    let (dir, store) = tests::open();
    let e = entry_of(&store, 0);
    e.write_chunk(0, &chunk_samples(2000, 5)).expect("write");
    let ledger = dir.path().join("chunks").join(naming::LEDGER_FILE_NAME);
    let exact = store.usage().expect("usage").bytes;
    for bad in ["", "x", "-1", "99999999999999999999999"] {
        fs::write(&ledger, bad).expect("damage");
        assert_eq!(store.ledger_bytes().expect("ledger"), exact, "{bad:?}");
    }
    fs::remove_file(&ledger).expect("rm");
    assert_eq!(store.ledger_bytes().expect("ledger"), exact);
    // A drifted ledger (files deleted behind its back) is exact again after
    // a reopen.
    fs::write(&ledger, "12345678").expect("drift");
    drop(store);
    let store = ChunkStore::open(&dir.path().join("chunks")).expect("reopen");
    assert_eq!(store.ledger_bytes().expect("ledger"), exact);
}

#[test]
fn clear_keeps_the_lock_of_entries_in_use() {
    let (_dir, store) = tests::open();
    let a = entry_of(&store, 0);
    let b = entry_of(&store, 1);
    a.write_chunk(0, &chunk_samples(2000, 1)).expect("write");
    b.write_chunk(0, &chunk_samples(2000, 2)).expect("write");
    let pin = a.pin().expect("pin");
    store.clear().expect("clear");
    assert!(!a.contains(0) && !b.contains(0));
    assert!(a.dir().join(naming::ENTRY_LOCK_FILE_NAME).exists());
    assert!(!b.dir().exists());
    // The pin still holds: eviction skips `a`.
    a.write_chunk(0, &chunk_samples(2000, 1)).expect("write");
    store.set_budget_bytes(1).expect("budget");
    assert!(a.contains(0), "pinned");
    drop(pin);
    store.set_budget_bytes(1).expect("budget");
    assert!(!a.contains(0));
    assert_eq!(store.usage().expect("usage").bytes, 0);
}

/// One step of the property test.
#[derive(Clone, Debug)]
enum Op {
    /// Write chunk `index` (of `frames`) into stem `stem`.
    Write {
        stem: usize,
        index: u32,
        frames: u32,
    },
    /// Pin stem `stem` (no-op if pinned).
    Pin { stem: usize },
    /// Unpin stem `stem` (no-op if not pinned).
    Unpin { stem: usize },
    /// Drop every pin (in order) and the store, and reopen it.
    Restart,
    /// Clear the cache.
    Clear,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0..STEMS, 0..6u32, 500..4000u32)
            .prop_map(|(stem, index, frames)| Op::Write { stem, index, frames }),
        2 => (0..STEMS).prop_map(|stem| Op::Pin { stem }),
        2 => (0..STEMS).prop_map(|stem| Op::Unpin { stem }),
        1 => Just(Op::Restart),
        1 => prop_oneof![9 => Just(Op::Write { stem: 0, index: 0, frames: 700 }), 1 => Just(Op::Clear)],
    ]
}

const STEMS: usize = 5;

/// What the cache should hold.
#[derive(Default)]
struct Model {
    /// Per stem: chunk index → (seed, frames) of the samples written.
    chunks: Vec<BTreeMap<u32, (u32, u32)>>,
    /// Per stem: logical time of last use (write, pin, unpin).
    last_use: Vec<u64>,
    pinned: Vec<usize>,
    clock: u64,
}

impl Model {
    fn used(&mut self, stem: usize) {
        self.clock += 1;
        self.last_use[stem] = self.clock;
    }
}

fn run(ops: &[Op], budget_bytes: u64) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("chunks");
    let mut store = ChunkStore::open(&root).expect("open");
    store.set_budget_bytes(budget_bytes).expect("budget");
    let mut entries: Vec<Entry> = (0..STEMS).map(|n| entry_of(&store, n)).collect();
    let mut pins: Vec<Pin> = Vec::new();
    let mut model = Model {
        chunks: vec![BTreeMap::new(); STEMS],
        last_use: vec![0; STEMS],
        ..Default::default()
    };
    let mut out = Vec::new();
    for (step, op) in ops.iter().enumerate() {
        let seed = step as u32;
        match *op {
            Op::Write {
                stem,
                index,
                frames,
            } => {
                let samples = chunk_samples(frames, seed);
                let result = entries[stem].write_chunk(index, &samples);
                model.used(stem);
                // What is on disk now, per stem.
                let present: Vec<BTreeSet<u32>> = entries
                    .iter()
                    .map(|e| (0..6).filter(|&i| e.contains(i)).collect())
                    .collect();
                match result {
                    Ok(_) => {
                        model.chunks[stem].insert(index, (seed, frames));
                    }
                    Err(CacheError::OverBudget { .. }) => {
                        // Only when everything else evictable is gone.
                        for (s, p) in present.iter().enumerate() {
                            if s != stem && !model.pinned.contains(&s) {
                                prop_assert!(p.is_empty(), "step {step}: stem {s} kept {p:?}");
                            }
                        }
                    }
                    Err(e) => return Err(TestCaseError::fail(format!("step {step}: {e}"))),
                }
                // Evicted chunks: in the model, not on disk.
                let mut lost = Vec::new();
                for (s, p) in present.iter().enumerate() {
                    let before: BTreeSet<u32> = model.chunks[s].keys().copied().collect();
                    let gone: Vec<u32> = before.difference(p).copied().collect();
                    if !gone.is_empty() {
                        prop_assert!(
                            !model.pinned.contains(&s),
                            "step {step}: pinned stem {s} lost {gone:?}"
                        );
                        prop_assert!(s != stem, "step {step}: the written stem lost {gone:?}");
                        lost.push(s);
                    }
                    // A stem loses its last chunks first.
                    if let (Some(&max_kept), Some(&min_gone)) = (p.iter().max(), gone.first()) {
                        prop_assert!(
                            max_kept < min_gone,
                            "step {step}: stem {s} kept {max_kept}, lost {min_gone}"
                        );
                    }
                    model.chunks[s].retain(|i, _| p.contains(i));
                }
                // Least recently used first: every unpinned stem used
                // before one that lost chunks has none left.
                for &a in &lost {
                    for b in 0..STEMS {
                        if b != stem
                            && !model.pinned.contains(&b)
                            && model.last_use[b] < model.last_use[a]
                        {
                            prop_assert!(
                                model.chunks[b].is_empty(),
                                "step {step}: stem {b} (used {}) kept chunks while stem {a} (used {}) lost some",
                                model.last_use[b],
                                model.last_use[a]
                            );
                        }
                    }
                }
            }
            Op::Pin { stem } => {
                if !model.pinned.contains(&stem) {
                    pins.push(entries[stem].pin().expect("pin"));
                    model.pinned.push(stem);
                    model.used(stem);
                }
            }
            Op::Unpin { stem } => {
                if let Some(at) = model.pinned.iter().position(|&s| s == stem) {
                    model.pinned.remove(at);
                    drop(pins.remove(at));
                    model.used(stem);
                }
            }
            Op::Restart => {
                let pinned = std::mem::take(&mut model.pinned);
                for (pin, stem) in pins.drain(..).zip(pinned) {
                    drop(pin);
                    model.used(stem);
                }
                drop(entries);
                drop(store);
                store = ChunkStore::open(&root).expect("reopen");
                entries = (0..STEMS).map(|n| entry_of(&store, n)).collect();
            }
            Op::Clear => {
                store.clear().expect("clear");
                for c in &mut model.chunks {
                    c.clear();
                }
            }
        }
        // The budget holds, the ledger is exact, and every chunk the model
        // has reads back exactly.
        let usage = store.usage().expect("usage");
        prop_assert!(
            usage.bytes <= budget_bytes,
            "step {step}: {} > {budget_bytes}",
            usage.bytes
        );
        prop_assert_eq!(store.ledger_bytes().expect("ledger"), usage.bytes);
        for (s, chunks) in model.chunks.iter().enumerate() {
            for (&index, &(seed, frames)) in chunks {
                let read = entries[s].read_chunk(index, frames, &mut out);
                prop_assert!(
                    read.is_ok(),
                    "step {step}: stem {s} chunk {index}: {read:?}"
                );
                assert_bits_equal(&out, &chunk_samples(frames, seed), "read back");
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Budget, ledger, LRU order, pins and restarts over random operations.
    #[test]
    fn budget_and_lru_hold_over_random_operations(
        ops in proptest::collection::vec(op(), 1..60),
        budget_kb in 12u64..60,
    ) {
        run(&ops, budget_kb * 1000)?;
    }
}
