//! ANY THREAD: every name the chunk cache gives a file or folder, in one
//! place (the store, the budget and the sweeper all read them).
//!
//! ```text
//! CACHE/settings.json            FolderSettings (budget, policy)
//! CACHE/ledger                   bytes in entries; its lock guards writes
//! CACHE/stats.json               hit counts across processes
//! CACHE/tmp/                     temporary files, renamed into place
//! CACHE/ENTRY_ID/meta.json       the entry's full key
//! CACHE/ENTRY_ID/lock            shared while a player uses the entry
//! CACHE/ENTRY_ID/c00000012.tc    chunk 12
//! ```

/// File name of the folder's settings.
pub const SETTINGS_FILE_NAME: &str = "settings.json";

/// File name of the ledger (and its lock).
pub const LEDGER_FILE_NAME: &str = "ledger";

/// File name of an entry's lock.
pub const ENTRY_LOCK_FILE_NAME: &str = "lock";

/// Name of the temporary folder inside the cache folder.
pub const TMP_DIR_NAME: &str = "tmp";

/// File name of the metadata file in an entry folder.
pub const META_FILE_NAME: &str = "meta.json";

/// The chunk file name of `index`: `c` + 8 decimal digits + `.tc`.
pub fn chunk_file_name(index: u32) -> String {
    format!("c{index:08}.tc")
}

/// The index a chunk file name stands for.
pub fn parse_chunk_file_name(name: &str) -> Option<u32> {
    let digits = name.strip_prefix('c')?.strip_suffix(".tc")?;
    if digits.len() < 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_names_round_trip_and_others_are_not_chunks() {
        for i in [0, 7, 12_345_678, u32::MAX] {
            assert_eq!(parse_chunk_file_name(&chunk_file_name(i)), Some(i));
        }
        for name in [
            "c1.tc",
            "c0000001x.tc",
            "meta.json",
            "c00000001.tmp",
            "lock",
        ] {
            assert_eq!(parse_chunk_file_name(name), None, "{name}");
        }
    }
}
