//! The editor's cost, with the corpus's 30-stem song playing in real time
//! on a thread paced like an audio callback (128-frame blocks at 48 kHz):
//!
//! 1. GUI frame time: building the whole editor with egui and tessellating
//!    it (what a frame costs before the GPU; no window needed), mean and
//!    p99 over 600 frames, with the mixer's 30 strips on screen.
//! 2. The audio side, before and after, in one run: the cost of a block
//!    (`Trax::begin_block` + `render_block`: the editor's queue taken, the
//!    engine rendering 30 stems) while no editor runs, then while the
//!    editor draws at 60 frames per second on another thread.
//!
//! Run: `cargo bench --bench editor` (needs ../shared/corpus).

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use trax::editor::TraxEditor;
use trax::plugin::control::load_state;
use trax::Trax;

const RATE_HZ: u32 = 48_000;
const BLOCK_FRAMES: usize = 128;
const FRAMES: usize = 600;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let song = common::corpus().join("songs/04_frozen_bubble_30stems");
    if !song.exists() {
        println!(
            "missing {}: run ../shared/corpus/make_corpus.sh",
            song.display()
        );
        return;
    }
    let mut trax = Trax::default();
    assert!(trax.start(RATE_HZ, false));
    let params = Arc::clone(trax.params_arc());
    let shared = Arc::clone(trax.shared());
    params.gain_db.smoothed.reset(params.gain_db.value());
    params.setlist.replace(song.to_string_lossy().into_owned());
    shared.wake_control();
    let start = Instant::now();
    while shared.is_loading(params.setlist.version()) || shared.load_state() != load_state::READY {
        assert!(start.elapsed() < Duration::from_secs(60), "setlist load");
        std::thread::sleep(Duration::from_millis(10));
    }
    let view = shared.view.get();
    let stems = view.setlist.as_ref().map_or(0, |s| s.songs[0].stems.len());
    let engine = view.engine.clone().expect("activated");
    // The locks an editor frame can take: the control thread's view and the
    // loader's slot pool (both re-read only when they change).
    let locks = || shared.view.locks_taken() + engine.loader.slots.locks_taken();
    let mut editor = TraxEditor::new(Arc::clone(&params), Arc::clone(&shared));
    editor.set_gui_context(common::gui_host::immediate_gui_context());

    // The audio thread: real-time pacing, block costs recorded.
    let trax = Arc::new(Mutex::new(trax));
    let stop = Arc::new(AtomicBool::new(false));
    let costs: Arc<Mutex<Vec<f64>>> = Arc::default();
    let audio = {
        let (trax, stop, costs) = (Arc::clone(&trax), Arc::clone(&stop), Arc::clone(&costs));
        std::thread::spawn(move || {
            let mut trax = trax.lock();
            let (mut l, mut r) = (vec![0.0f32; BLOCK_FRAMES], vec![0.0f32; BLOCK_FRAMES]);
            let period = Duration::from_secs_f64(BLOCK_FRAMES as f64 / f64::from(RATE_HZ));
            let mut next = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                trax.begin_block();
                trax.render_block(&mut l, &mut r);
                costs.lock().push(t.elapsed().as_secs_f64());
                next += period;
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
        })
    };
    let gui = common::gui_host::immediate_gui_context();
    gui.param_setter().set_parameter(&params.play, true);
    std::thread::sleep(Duration::from_secs(2));
    let before: Vec<f64> = {
        costs.lock().clear();
        std::thread::sleep(Duration::from_secs(3));
        costs.lock().drain(..).collect()
    };

    let ctx = egui::Context::default();
    trax::editor::style(&ctx);
    let input = || egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1180.0, 760.0),
        )),
        ..Default::default()
    };
    // Warm-up (fonts, layout caches).
    for _ in 0..30 {
        let mut out = ctx.run_ui(input(), |ui| editor.view(ui));
        ctx.tessellate(out.shapes, out.pixels_per_point);
        // No GPU: the font atlas uploads go nowhere.
        out.textures_delta.clear();
    }
    let mut frame_secs = Vec::with_capacity(FRAMES);
    let mut primitives = 0;
    let locks_before = locks();
    let mut next = Instant::now();
    for _ in 0..FRAMES {
        let t = Instant::now();
        let mut out = ctx.run_ui(input(), |ui| editor.view(ui));
        let meshes = ctx.tessellate(out.shapes, out.pixels_per_point);
        frame_secs.push(t.elapsed().as_secs_f64());
        out.textures_delta.clear();
        primitives = meshes.len();
        next += Duration::from_secs_f64(1.0 / 60.0);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let locks_per_frame = (locks() - locks_before) as f64 / FRAMES as f64;
    let after: Vec<f64> = costs.lock().drain(..).collect();
    stop.store(true, Ordering::Relaxed);
    let _ = audio.join();
    let underruns = engine.stats.underrun_blocks();

    frame_secs.sort_by(f64::total_cmp);
    let mean = frame_secs.iter().sum::<f64>() / frame_secs.len() as f64;
    println!("# Editor frame (egui build + tessellate), {stems} stems playing, 1180×760");
    println!(
        "frames {FRAMES}: mean {:.3} ms, p99 {:.3} ms, max {:.3} ms ({primitives} clipped primitives) — target ≤ 2 ms",
        mean * 1e3,
        percentile(&frame_secs, 0.99) * 1e3,
        frame_secs.last().copied().unwrap_or(0.0) * 1e3
    );
    println!(
        "locks per frame on the view and the slot pool: {locks_per_frame:.3} (each taken only \
         when the control thread or the loader published a change)"
    );
    println!();
    println!("# Audio block ({BLOCK_FRAMES} frames, {stems} stems, real-time pacing): editor closed vs drawing at 60 fps");
    let block_secs = BLOCK_FRAMES as f64 / f64::from(RATE_HZ);
    for (what, mut v) in [("editor closed", before), ("editor drawing", after)] {
        v.sort_by(f64::total_cmp);
        let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
        println!(
            "{what:<15} blocks {:>6}: mean {:>6.1} µs ({:.2} % of {:.2} ms), p99 {:>6.1} µs",
            v.len(),
            mean * 1e6,
            mean / block_secs * 100.0,
            block_secs * 1e3,
            percentile(&v, 0.99) * 1e6
        );
    }
    println!("underrun blocks over the run: {underruns}");
}
