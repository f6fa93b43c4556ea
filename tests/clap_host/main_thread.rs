//! The host's main thread is never kept waiting by work of ours: hosts
//! activate, re-activate (at another rate) and destroy the plugin on their
//! main thread, often their GUI thread, while our control thread may be
//! probing a large setlist or analysing a song.

use super::lifecycle::scratch_dir;
use super::*;

/// A setlist of 1000 songs × 16 stems, all the same small Ogg file (its
/// probe costs ≈ 1 ms): probing it takes the control thread seconds.
fn slow_setlist() -> PathBuf {
    let dir = scratch_dir("slow_setlist");
    let ogg = dir.join("kick.ogg");
    std::fs::copy(
        corpus().join("songs/06_planetblupi_music001_lossy/06_drums_kick_mono.ogg"),
        &ogg,
    )
    .expect("copy the Ogg stem");
    let mut toml = String::new();
    for _ in 0..1000 {
        toml.push_str("[[song]]\n");
        for _ in 0..16 {
            toml.push_str("[[song.stem]]\npath = \"kick.ogg\"\n");
        }
    }
    let path = dir.join("slow.toml");
    std::fs::write(&path, toml).expect("write the setlist");
    path
}

#[test]
pub(super) fn reactivation_and_destruction_never_wait_for_a_probe() {
    let Some(bundle) = load_bundle("reactivation_and_destruction_never_wait_for_a_probe") else {
        return;
    };
    let setlist = slow_setlist();
    let mut inst = new_instance(&bundle);
    set_setlist(&mut inst, &setlist);
    inst.activate(48_000.0, 512, false).expect("activate");
    // The control thread is probing 16000 stems now.
    std::thread::sleep(Duration::from_millis(300));
    inst.deactivate();
    let start = Instant::now();
    inst.activate(44_100.0, 512, false).expect("re-activate");
    let reactivate = start.elapsed();
    let start = Instant::now();
    drop(inst);
    let destroy = start.elapsed();
    eprintln!(
        "re-activation at another rate during a probe: {:.1} ms; destruction: {:.1} ms",
        reactivate.as_secs_f64() * 1e3,
        destroy.as_secs_f64() * 1e3
    );
    assert!(
        reactivate < Duration::from_millis(500),
        "activate waited {reactivate:?} on the host's main thread"
    );
    assert!(
        destroy < Duration::from_millis(1500),
        "destroying the plugin waited {destroy:?} for a probe"
    );
}
