//! Chunk cache files and their metadata, as a crash, a full disk or
//! another process can leave them. A damaged chunk must be refused
//! (`Corruption`) before a sample is played; one that is accepted must hold
//! exactly the frames its header claims, every sample finite.

use trax::bridge::CHUNK_FRAMES;
use trax::cache::chunk::{self, Expect, HEADER_BYTES};

/// Input flags (first byte): recompute the header's CRC, and the
/// payload's length and CRC, so that mutations reach the payload decoder
/// instead of stopping at a checksum.
const FIX_HEADER_CRC: u8 = 1;
const FIX_PAYLOAD: u8 = 2;

/// Puts `value` at `at` in the header.
fn put(file: &mut [u8], at: usize, value: &[u8]) {
    file[at..at + value.len()].copy_from_slice(value);
}

/// One chunk file: the first byte holds the flags above, the rest is the
/// file. The reader expects the key, index and channels the header names
/// (what a matching entry would), frames unknown, at most a chunk.
pub fn chunk(data: &[u8]) {
    let Some((&flags, file)) = data.split_first() else {
        return;
    };
    let mut file = file.to_vec();
    if file.len() >= HEADER_BYTES {
        if flags & FIX_PAYLOAD != 0 {
            let payload_bytes = (file.len() - HEADER_BYTES) as u64;
            let crc = crc32fast::hash(&file[HEADER_BYTES..]);
            put(&mut file, 32, &payload_bytes.to_le_bytes());
            put(&mut file, 40, &crc.to_le_bytes());
        }
        if flags & (FIX_HEADER_CRC | FIX_PAYLOAD) != 0 {
            let crc = crc32fast::hash(&file[..60]);
            put(&mut file, 60, &crc.to_le_bytes());
        }
    }
    let field = |at: usize, n: usize| file.get(at..at + n).map(<[u8]>::to_vec);
    let expect = Expect {
        key_hash: field(8, 8).map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8]))),
        index: field(16, 4).map_or(0, |b| u32::from_le_bytes(b.try_into().unwrap_or([0; 4]))),
        channels: file.get(24).copied().unwrap_or(2),
        frames: None,
        max_frames: CHUNK_FRAMES,
    };
    let mut out = Vec::new();
    if let Ok(header) = chunk::read(file, &expect, &mut out) {
        assert_eq!(
            out.len(),
            header.frames as usize * usize::from(header.channels),
            "{header:?}"
        );
        assert!(
            out.iter().all(|v| v.is_finite()),
            "non-finite sample accepted"
        );
    } else {
        assert!(out.is_empty(), "samples left after a refused chunk");
    }
}

/// One entry's `meta.json`: parsed, and if valid, written and parsed back
/// to the same record.
pub fn meta(data: &[u8]) {
    if let Some(record) = trax::cache::meta::MetaRecord::parse(data) {
        let again = trax::cache::meta::MetaRecord::parse(&record.to_json());
        assert_eq!(
            again.as_ref(),
            Some(&record),
            "meta.json does not round-trip"
        );
    }
}

/// A cache folder's own files, as a crash, a full disk or another
/// process can leave them: the input is `settings.json`, the ledger and
/// `stats.json`, separated by NUL bytes, written into an otherwise empty
/// folder. Opening it as a store, reading its settings and usage, and
/// adding statistics to it (what every player does when it lets go of the
/// cache) must work or fail naming the folder.
pub fn folder(data: &[u8]) {
    use trax::cache::naming::{LEDGER_FILE_NAME, SETTINGS_FILE_NAME};
    use trax::loader::cache_stats::{PersistedStats, STATS_FILE};
    let dir = crate::scratch::dir().join("cache");
    let _ = std::fs::remove_dir_all(&dir);
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let mut parts = data.splitn(3, |b| *b == 0);
    for name in [SETTINGS_FILE_NAME, LEDGER_FILE_NAME, STATS_FILE] {
        if let Some(bytes) = parts.next() {
            let _ = std::fs::write(dir.join(name), bytes);
        }
    }
    match trax::cache::ChunkStore::open(&dir) {
        Ok(store) => {
            let settings = store.settings();
            let _ = settings.policy.map(|p| p.to_string());
            let _ = store.ledger_bytes();
            let _ = store.usage();
        }
        Err(e) => assert!(
            e.to_string().contains(&*dir.to_string_lossy()),
            "an error that does not name the folder: {e}"
        ),
    }
    let before = PersistedStats::read(&dir);
    let rate = before.hit_rate();
    assert!((0.0..=1.0).contains(&rate), "hit rate {rate}");
    let one = PersistedStats {
        hits: 1,
        misses: 1,
        corrupt: 1,
        writes: 1,
        written_bytes: 1,
        evicted_chunks: 1,
        evicted_bytes: 1,
    };
    if one.add_to(&dir).is_ok() {
        let after = PersistedStats::read(&dir);
        assert!(after.hits >= before.hits, "statistics went backwards");
    }
}
