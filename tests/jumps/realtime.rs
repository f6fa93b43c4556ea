//! A jump queued 200 ms before its landing, in real time, on corpus song
//! 04 (30 stems, FLAC 48 kHz): the loader preloads the target as soon as
//! the jump is queued, so it lands on time with no underrun.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use trax::bridge::{JumpTiming, TransportState};
use trax::{Player, PlayerConfig};

use crate::common;

const RATE: u32 = 48_000;
const BLOCK: usize = 256;

#[test]
fn a_jump_queued_200_ms_ahead_lands_on_time_with_no_underrun() {
    let dir = tempfile::tempdir().expect("tempdir");
    let song = common::corpus().join("songs/04_frozen_bubble_30stems");
    let mut stems: Vec<_> = std::fs::read_dir(&song)
        .expect("corpus song 04")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| trax::setlist::is_audio_file(p))
        .collect();
    stems.sort();
    assert_eq!(stems.len(), 30, "song 04 has 30 stems");
    let mut toml = String::from(
        "[[song]]\nname = \"04\"\nbpm = 120.0\n\
         [[song.section]]\nname = \"A\"\nstart_secs = 0.0\n\
         [[song.section]]\nname = \"B\"\nstart_secs = 10.0\n\
         [[song.section]]\nname = \"C\"\nstart_secs = 20.0\n",
    );
    for s in &stems {
        let _ = write!(
            toml,
            "[[song.stem]]\npath = {:?}\n",
            s.display().to_string()
        );
    }
    let path = dir.path().join("set.toml");
    std::fs::write(&path, toml).expect("setlist");
    let list = trax::setlist::load(&path).expect("load");
    let (player, mut engine) = Player::new(PlayerConfig::realtime(RATE)).expect("player");
    player.load(&list);
    let stats = player.engine_stats().clone();
    player.play_song_at(0, 9 * u64::from(RATE));
    let (mut l, mut r) = (vec![0.0f32; BLOCK], vec![0.0f32; BLOCK]);
    let block_dur = Duration::from_secs_f64(BLOCK as f64 / f64::from(RATE));
    let start = Instant::now();
    let mut due = start;
    let mut queued_at_underruns = None;
    let mut landed_pos = None;
    let landing = 10 * u64::from(RATE);
    let target = 20 * u64::from(RATE);
    loop {
        common::process(&mut engine, &mut l, &mut r);
        let pos = engine.position_frames().unwrap_or(0);
        let playing = stats.transport() == TransportState::Playing;
        if playing && queued_at_underruns.is_none() && pos >= landing - u64::from(RATE) / 5 {
            // 200 ms (9600 frames) before the landing, at most a block late.
            assert!(
                pos < landing - u64::from(RATE) / 5 + BLOCK as u64,
                "queued late"
            );
            queued_at_underruns = Some(stats.underrun_frames());
            nice_assert_no_alloc::assert_no_alloc(|| {
                engine.queue_jump(0, target, JumpTiming::SectionEnd)
            });
            let q = stats.jumps().queued().expect("queued");
            assert_eq!(q.landing_frames, landing, "lands at B's end");
        }
        if queued_at_underruns.is_some() && landed_pos.is_none() && stats.jumps().landed() == 1 {
            landed_pos = Some(pos);
        }
        if let Some(p) = landed_pos {
            if pos >= p + u64::from(RATE) {
                break;
            }
        }
        assert!(start.elapsed() < Duration::from_secs(20), "never landed");
        due += block_dur;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    let before = queued_at_underruns.expect("queued");
    assert_eq!(
        stats.underrun_frames() - before,
        0,
        "no underrun from the queueing to 1 s after the landing"
    );
    // It landed at the landing frame: the target deck started there, in
    // the block that reached it (so within a block of the target).
    let p = landed_pos.expect("landed");
    assert!(
        (target..target + BLOCK as u64).contains(&p),
        "the audible deck is at {p} right after landing, not at {target}"
    );
}
