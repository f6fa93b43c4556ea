//! Decoding and resampling through the loader's own reader and cursor
//! (`SourceReader` + `StemCursor`, what a chunk job runs), per format, in
//! multiples of real time on one core: each stem read whole at the 48 kHz
//! engine rate in 4096-frame reads, best of three runs. Same-rate stems
//! measure the decoder alone; 44.1 and 96 kHz stems add the resampler.
//!
//! Then seeks through the reader alone (the file's own rate, no
//! resampling): 60 seeded random targets per stem (frame 0 and the last
//! 4096 frames among them), each a `seek` + one 4096-frame read, timed and
//! compared with the same span of a sequential read: how many are
//! bit-exact, the largest difference (dBFS), and the mean cost of a seek;
//! and the cost of opening the file (probe and header, page cache warm).
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
    println!();
    println!("# Seek + 4096-frame read through the reader vs a sequential read (60 targets)");
    println!(
        "{:<22} {:>9} {:>14} {:>12} {:>12}",
        "stem", "exact", "max diff dBFS", "ms/seek", "µs/open"
    );
    for (what, rel) in stems {
        let path = songs.join(rel);
        if path.exists() {
            seeks(what, &path);
        }
    }
}

/// Seeks `SEEKS` times into `path` and prints exactness and cost.
fn seeks(what: &str, path: &std::path::Path) {
    const SEEKS: usize = 60;
    const READ_FRAMES: usize = 4096;
    const OPENS: u32 = 20;
    let t = Instant::now();
    for _ in 0..OPENS {
        SourceReader::open(path).expect("open");
    }
    let open_us = t.elapsed().as_secs_f64() * 1e6 / f64::from(OPENS);
    let mut reader = SourceReader::open(path).expect("open");
    let ch = usize::from(reader.info().channels);
    let mut sequential = Vec::new();
    while reader.read(&mut sequential, 1 << 16).expect("read") > 0 {}
    let total = (sequential.len() / ch) as u64;
    let mut seed = 0x2545_f491_u64;
    let mut targets: Vec<u64> = (0..SEEKS - 2)
        .map(|_| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % total
        })
        .collect();
    targets.push(0);
    targets.push(total.saturating_sub(READ_FRAMES as u64));
    let (mut exact, mut max_diff, mut secs) = (0usize, 0f32, 0f64);
    let mut out = Vec::with_capacity(READ_FRAMES * ch);
    for &target in &targets {
        out.clear();
        let t = Instant::now();
        reader.seek(target).expect("seek");
        while out.len() < READ_FRAMES * ch {
            let want = READ_FRAMES - out.len() / ch;
            if reader.read(&mut out, want).expect("read") == 0 {
                break;
            }
        }
        secs += t.elapsed().as_secs_f64();
        let from = target as usize * ch;
        let reference = &sequential[from..(from + out.len()).min(sequential.len())];
        let diff = out
            .iter()
            .zip(reference)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        if diff == 0.0 && reference.len() == out.len() {
            exact += 1;
        }
        max_diff = max_diff.max(diff);
    }
    let diff_db = if max_diff > 0.0 {
        format!("{:.1}", 20.0 * max_diff.log10())
    } else {
        "-inf".into()
    };
    println!(
        "{what:<22} {:>9} {diff_db:>14} {:>12.2} {open_us:>12.0}",
        format!("{exact}/{SEEKS}"),
        secs * 1000.0 / SEEKS as f64
    );
}
