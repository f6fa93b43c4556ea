//! Stored analysis records (`<cache>/analysis/`), as a crash or another
//! version can leave them: a record is refused unless its checksum,
//! version and key hold; one that is accepted round-trips.

use trax::analysis::store;

/// The key the target's records are stored under (the seeds use it).
pub const KEY: &[u8] = b"trax-fuzz analysis key";

/// Input flag (first byte): recompute the record's CRC-32 (its last four
/// bytes), so that mutations reach the fields.
const FIX_CRC: u8 = 1;

/// One record: the first byte holds the flag above, the rest is the file.
pub fn record(data: &[u8]) {
    let Some((&flags, file)) = data.split_first() else {
        return;
    };
    let mut file = file.to_vec();
    if flags & FIX_CRC != 0 && file.len() >= 4 {
        let body = file.len() - 4;
        let crc = crc32fast::hash(&file[..body]);
        file[body..].copy_from_slice(&crc.to_le_bytes());
    }
    if let Some(a) = store::decode(&file, KEY) {
        let again = store::decode(&store::encode(&a, KEY), KEY);
        assert!(again.is_some(), "an accepted record does not round-trip");
    }
}
