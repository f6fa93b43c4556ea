//! Cache pins are per player: every player on a shared chunk cache (two
//! plugin instances in one host, the background analysis beside the
//! playing song) keeps its own songs pinned against eviction, whatever the
//! others pin or release.

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use trax::loader::{CacheConfig, CacheLink, CachePolicy, PreparedSetlist};
use trax::{Engine, Player, PlayerConfig};

const RATE: u32 = 48_000;

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/setlist.toml")
}

/// Whether eviction (here or in another process) would skip `entry`: an
/// exclusive lock on its lock file, what eviction takes, is refused.
fn pinned(entry: &trax::cache::Entry) -> bool {
    let lock = entry.dir().join(trax::cache::naming::ENTRY_LOCK_FILE_NAME);
    let Ok(file) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&lock)
    else {
        return false;
    };
    match file.try_lock() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(_) => true,
    }
}

/// The cache entries of `song`'s stems.
fn entries(
    link: &CacheLink,
    prepared: &PreparedSetlist,
    song: usize,
) -> Vec<Arc<trax::cache::Entry>> {
    prepared.songs[song]
        .stems
        .iter()
        .filter_map(|st| link.entry_for(st, RATE))
        .collect()
}

/// A player on `link` playing `song` of the demo, rendered until its
/// song's entries are pinned.
fn play(link: &Arc<CacheLink>, song: usize) -> (Player, Engine, Vec<Arc<trax::cache::Entry>>) {
    let list = trax::setlist::load(&demo()).expect("demo setlist");
    let (player, mut engine) = Player::new(PlayerConfig::offline(RATE)).expect("player");
    player.set_cache(Some(Arc::clone(link)));
    let prepared = player.load(&list);
    player.set_auto_advance(false);
    player.play_song(song);
    let mine = entries(link, &prepared, song);
    let mut l = [0.0f32; 512];
    let mut r = [0.0f32; 512];
    let deadline = Instant::now() + Duration::from_secs(20);
    while !mine.iter().all(|e| pinned(e)) {
        assert!(
            Instant::now() < deadline,
            "song {song}'s entries never pinned"
        );
        common::process(&mut engine, &mut l, &mut r);
        player.nudge();
        std::thread::sleep(Duration::from_millis(5));
    }
    (player, engine, mine)
}

#[test]
fn players_on_one_cache_keep_each_others_pins() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cache-pins");
    let _ = std::fs::remove_dir_all(&dir);
    let link = CacheLink::open(&CacheConfig {
        dir,
        policy: CachePolicy::WholeSong,
    })
    .expect("cache");
    let (a, _a_engine, a_entries) = play(&link, 0);
    let (b, _b_engine, b_entries) = play(&link, 2);
    assert!(
        a_entries.iter().all(|e| pinned(e)),
        "the first player's song lost its pins when the second pinned its own"
    );
    drop(b);
    // The second player's loader has stopped: its pins are gone, the
    // first player's stay.
    assert!(
        b_entries.iter().all(|e| !pinned(e)),
        "a player that is gone still pins its song"
    );
    assert!(a_entries.iter().all(|e| pinned(e)));
    drop(a);
}
