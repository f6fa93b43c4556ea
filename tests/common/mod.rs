//! Helpers shared by the integration tests: the corpus, independent full
//! decodes, offline renders through the real player and engine.
#![allow(dead_code)]

pub mod child;
pub mod clap_host;
pub mod gui_host;
pub mod live_setlist;
pub mod offline;
pub mod scenario;
pub mod stage_setlist;
pub mod xvfb;

// The suite links trax with `assert_process_allocs`, as the plugin bundles
// are: nice-plug then installs its checking allocator
// (nice_assert_no_alloc's) as the global allocator of every binary that
// links it, this one included. Every `process()` call of every test goes
// through [`process`], so each functional test (renders at every block size,
// seeks, broken files, underruns) is also an allocation test: an allocation
// inside aborts the test binary with a backtrace of the allocating call
// (`no_alloc::the_checker_catches_an_allocation` proves it is live). It
// checks only in builds with debug assertions (the test profile); optimised
// builds such as the benchmarks keep the system allocator.

/// One `Engine::process` call under nice-plug's allocation checker: any
/// allocation inside aborts the process.
#[cfg(debug_assertions)]
pub fn process(engine: &mut Engine, l: &mut [f32], r: &mut [f32]) -> usize {
    nice_assert_no_alloc::assert_no_alloc(|| engine.process(l, r))
}

/// Without debug assertions assert_no_alloc checks nothing: a plain call.
#[cfg(not(debug_assertions))]
pub fn process(engine: &mut Engine, l: &mut [f32], r: &mut [f32]) -> usize {
    engine.process(l, r)
}

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

// The benches include this module too and use neither.
#[allow(unused_imports)]
pub use offline::{render_frames, render_frames_within};
use trax::engine::Engine;
use trax::loader::cursor::StemCursor;
use trax::loader::SourceReader;
use trax::{Player, PlayerConfig};

/// -90 dBFS as a linear amplitude.
pub const MINUS_90_DBFS: f32 = 3.162_277_7e-5;

/// The shared corpus (`../shared/corpus` beside the repository, or
/// `$TRAX_CORPUS`).
pub fn corpus() -> PathBuf {
    if let Ok(p) = std::env::var("TRAX_CORPUS") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

/// The song folders of the corpus, sorted.
pub fn corpus_songs() -> Vec<PathBuf> {
    let mut songs: Vec<PathBuf> = std::fs::read_dir(corpus().join("songs"))
        .expect("corpus songs folder")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_dir())
        .collect();
    songs.sort();
    songs
}

/// Decodes `path` whole with plain symphonia (gapless, no seeking), as
/// interleaved f32 with the file's channels. Independent of Trax's reader.
pub fn symphonia_full_decode(path: &Path) -> (usize, u32, Vec<f32>) {
    use symphonia::core::codecs::audio::AudioDecoderOptions;
    use symphonia::core::formats::probe::Hint;
    use symphonia::core::formats::{FormatOptions, TrackType};
    use symphonia::core::io::MediaSourceStream;
    use symphonia::core::meta::MetadataOptions;
    let file = std::fs::File::open(path).expect("open");
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(e) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(e);
    }
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .expect("probe");
    let track = format
        .default_track(TrackType::Audio)
        .expect("track")
        .clone();
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .expect("audio track")
        .clone();
    let mut dec = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .expect("decoder");
    let channels = params.channels.as_ref().expect("channels").count();
    let rate = params.sample_rate.expect("rate");
    let mut out = Vec::new();
    let mut samples = Vec::new();
    while let Ok(Some(packet)) = format.next_packet() {
        if packet.track_id != track.id {
            continue;
        }
        let Ok(buf) = dec.decode(&packet) else {
            continue;
        };
        // The decoder trims the encoder delay and padding (gapless): its
        // output, concatenated, is the stream from frame 0. (Timestamps are
        // not used: symphonia 0.6 stamps the first page of an Ogg stream
        // with a negative granule position early; see SourceReader.)
        buf.copy_to_vec_interleaved::<f32>(&mut samples);
        out.extend_from_slice(&samples);
    }
    (channels, rate, out)
}

/// A stem decoded whole through Trax's cursor from frame 0 (sequential, at
/// `engine_hz`), as interleaved samples with the cursor's channels.
pub fn cursor_full_decode(path: &Path, engine_hz: u32) -> (usize, Vec<f32>) {
    let mut c =
        StemCursor::new(SourceReader::open(path).expect("open"), engine_hz).expect("cursor");
    let mut out = Vec::new();
    while c.read(&mut out, 8192).expect("read") > 0 {}
    (c.channels(), out)
}

/// Expands interleaved `channels`-channel samples to stereo frames.
pub fn to_stereo(samples: &[f32], channels: usize) -> Vec<[f32; 2]> {
    match channels {
        1 => samples.iter().map(|&s| [s, s]).collect(),
        _ => samples
            .chunks_exact(channels)
            .map(|f| [f[0], f[1]])
            .collect(),
    }
}

/// Largest absolute difference, over the common length.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Starts an offline player and loads `setlist` (engine picks up the
/// setlist on its first process call).
pub fn offline_player(setlist: &Path, rate: u32) -> (Player, Engine, trax::setlist::Setlist) {
    let list = trax::setlist::load(setlist).expect("setlist");
    let (player, engine) = Player::new(PlayerConfig::offline(rate)).expect("player");
    player.load(&list);
    (player, engine, list)
}

/// Runs the engine until it has taken every queued command (a zero-length
/// process call renders nothing) and `done()` is true.
pub fn pump_until(engine: &mut Engine, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        process(engine, &mut [], &mut []);
        if done() {
            return;
        }
        assert!(Instant::now() < deadline, "engine never took the command");
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Asks for a seek and runs the engine (zero-length calls) until it has
/// taken the cue: the target is then loading on a deck.
pub fn seek_cued(player: &Player, engine: &mut Engine, target: u64) {
    let stats = player.engine_stats().clone();
    let cues = stats.cues_taken();
    player.seek(target);
    pump_until(engine, || stats.cues_taken() > cues);
}

/// Renders offline with `block` frames per call until the transport stops
/// (or `max_frames`), waiting for the loader where the engine asks.
/// Returns interleaved stereo.
pub fn render_until_stopped(
    player: &Player,
    engine: &mut Engine,
    block: usize,
    max_frames: u64,
) -> Vec<f32> {
    let stats = player.engine_stats().clone();
    let mut l = vec![0.0f32; block];
    let mut r = vec![0.0f32; block];
    let mut out = Vec::new();
    let mut started = false;
    let deadline = Instant::now() + Duration::from_secs(300);
    while (out.len() / 2) < max_frames as usize {
        let n = process(engine, &mut l, &mut r);
        for i in 0..n {
            out.push(l[i]);
            out.push(r[i]);
        }
        let state = stats.transport();
        if state != trax::bridge::TransportState::Stopped {
            started = true;
        }
        if n < block {
            if started && state == trax::bridge::TransportState::Stopped {
                break;
            }
            assert!(Instant::now() < deadline, "offline render stalled");
            player.nudge();
            player.wait_for_progress(Duration::from_millis(2));
        }
    }
    out
}

/// The library's offline render of `song` (0-based) alone from frame 0 —
/// what `trax render --song N` writes — cut or padded with silence to
/// `frames` frames; interleaved stereo. The reference the host tests
/// compare plugins against.
pub fn reference_render(setlist: &Path, song: usize, rate: u32, frames: usize) -> Vec<f32> {
    let (player, mut engine, _) = offline_player(setlist, rate);
    player.set_auto_advance(false);
    player.play_song(song);
    let mut out = render_until_stopped(&player, &mut engine, 512, frames as u64);
    out.resize(frames * 2, 0.0);
    out
}

/// The seek-free render of a song, shared by the tests that compare seeks
/// against it.
pub struct SeekFree {
    /// Interleaved stereo, the whole song from frame 0.
    pub samples: Vec<f32>,
    /// Whether any stem is resampled to the engine rate.
    pub resampled: bool,
}

impl SeekFree {
    /// How far a frame after a seek may be from this render: bit-exact
    /// without resampling, within -90 dBFS with it (docs/ARCHITECTURE.md: Source
    /// decoding).
    pub fn tolerance(&self) -> f32 {
        if self.resampled {
            MINUS_90_DBFS
        } else {
            0.0
        }
    }
}

/// The seek-free offline render of the first song of `song_dir` at `rate`
/// (made once per song and rate for the whole test binary).
pub fn seek_free_render(song_dir: &Path, rate: u32) -> std::sync::Arc<SeekFree> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    type Renders = Mutex<HashMap<(PathBuf, u32), Arc<OnceLock<Arc<SeekFree>>>>>;
    static RENDERS: OnceLock<Renders> = OnceLock::new();
    let cell = {
        let mut renders = RENDERS
            .get_or_init(Renders::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        Arc::clone(renders.entry((song_dir.to_path_buf(), rate)).or_default())
    };
    let made = cell.get_or_init(|| {
        let list = trax::setlist::load(song_dir).expect("setlist");
        let (player, mut engine) = Player::new(PlayerConfig::offline(rate)).expect("player");
        let prepared = player.load(&list);
        let resampled = prepared.songs[0]
            .stems
            .iter()
            .filter_map(|s| s.info.as_ref())
            .any(|i| i.sample_rate_hz != rate);
        player.set_auto_advance(false);
        player.play_song(0);
        let samples = render_until_stopped(&player, &mut engine, 512, u64::MAX);
        Arc::new(SeekFree { samples, resampled })
    });
    Arc::clone(made)
}

/// Runs test `test` (its full path in this binary, e.g.
/// `"rtsan::the_sanitizer_catches_a_violation"`) alone in a child process
/// with `var` set, for tests whose expected outcome is an abort. Returns
/// the child's exit code (`None` if a signal ended it) and its stderr.
pub fn run_child_test(test: &str, var: &str) -> (Option<i32>, String) {
    let exe = std::env::current_exe().expect("test binary");
    let child = std::process::Command::new(exe)
        .args([test, "--exact", "--test-threads=1"])
        .env(var, "1")
        .output()
        .expect("run the child test");
    (
        child.status.code(),
        String::from_utf8_lossy(&child.stderr).into_owned(),
    )
}
