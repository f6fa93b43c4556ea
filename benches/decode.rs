//! Decoding and resampling through the loader's own reader and cursor
//! (`SourceReader` + `StemCursor`, what a chunk job runs), per format, in
//! multiples of real time on one core: each stem read whole at the 48 kHz
//! engine rate in 4096-frame reads, best of three runs. Same-rate stems
//! measure the decoder alone; 44.1 and 96 kHz stems add the resampler.
//!
//! Run: `cargo bench --bench decode`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use trax::loader::cursor::StemCursor;
use trax::loader::SourceReader;

const ENGINE_HZ: u32 = 48_000;

fn main() {
    let songs = common::corpus().join("songs");
    let stems = [
        (
            "FLAC 16-bit 48 kHz",
            "02_bach_bwv190_7/01_trumpet_1_brass.flac",
        ),
        (
            "FLAC 24-bit 96 kHz",
            "05_planetblupi_music003_96k/05_drums_snare.flac",
        ),
        (
            "WAV 16-bit 44.1 kHz",
            "03_planetblupi_music000/01_acc_1_piano.wav",
        ),
        (
            "MP3 44.1 kHz",
            "01_singularity_awakening/03_lowmid_44k1.mp3",
        ),
        (
            "Ogg Vorbis 44.1 kHz",
            "06_planetblupi_music001_lossy/07_drums_snare.ogg",
        ),
    ];
    println!(
        "# Decode + resample to {ENGINE_HZ} Hz through the loader's cursor (one core, best of 3)"
    );
    println!("{:<22} {:>10} {:>12}", "stem", "seconds", "×realtime");
    for (what, rel) in stems {
        let path = songs.join(rel);
        if !path.exists() {
            println!("{what:<22} (missing: {})", path.display());
            continue;
        }
        let mut best = f64::INFINITY;
        let mut secs = 0.0;
        for _ in 0..3 {
            let t = Instant::now();
            let source = SourceReader::open(&path).expect("open");
            let mut cursor = StemCursor::new(source, ENGINE_HZ).expect("cursor");
            let mut out = Vec::with_capacity(4096 * 2);
            let mut frames = 0u64;
            loop {
                out.clear();
                let n = cursor.read(&mut out, 4096).expect("read");
                if n == 0 {
                    break;
                }
                frames += n as u64;
            }
            best = best.min(t.elapsed().as_secs_f64());
            secs = frames as f64 / f64::from(ENGINE_HZ);
        }
        println!("{what:<22} {secs:>10.1} {:>11.0}x", secs / best);
    }
}
