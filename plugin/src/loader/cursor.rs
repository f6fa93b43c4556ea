//! LOADER THREADS: a stem read at the engine rate from any frame.
//!
//! A [`StemCursor`] wraps a [`SourceReader`] and, when the file's rate
//! differs from the engine rate, a fixed-ratio FFT resampler (rubato's
//! `Fft` with both sides fixed, one FFT per block: the filter rubato 0.16's
//! `FftFixedInOut` had). Samples go in and out interleaved, as the reader
//! decodes them and the slots hold them: no per-sample reshuffling. The resampler works in blocks of `in_block` source
//! frames → `out_block` engine frames, and its output for one block depends
//! only on that block and the one before. A seek therefore restarts it on a
//! block boundary [`PREROLL_BLOCKS`] blocks before the target and drops the
//! pre-roll output: a chunk decoded on its own is the same audio as that span
//! of a continuous decode (within float rounding), so chunk seams are
//! inaudible.
//!
//! Samples that are not exact integers of the source (resampled, lossy,
//! float) are rounded to multiples of 2^-22 (24 bits with 6 dB of
//! headroom, noise ≈ −138 dBFS): exactly what the chunk cache stores, so a
//! stem sounds bit-identical whether a chunk comes from the cache or the
//! source, and an offline render is the same with a cold or warm cache.
//!
//! Why FFT and not sinc: `benches/resampler.rs` measures both in one run.
//! The FFT resampler's filter is a Blackman-Harris windowed sinc as long as
//! the block (≈ 1000 taps); it runs ≈ 7× faster than rubato's high-quality
//! asynchronous sinc resampler (256 taps, 256× oversampled) on corpus stems,
//! which matters with 30 stems to convert, and its error on a test sine is
//! lower (see the README for the figures).

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler, WindowFunction};

use super::error::{ResampleFailure, StemError};
use super::source::SourceReader;

/// Resampler blocks decoded before a seek target and dropped.
pub const PREROLL_BLOCKS: u64 = 2;

/// Desired source frames per resampler block: ≈ 21 ms at 48 kHz.
const RESAMPLER_BLOCK_FRAMES: usize = 1024;

/// Source frames per resampler block for `src_hz` → `engine_hz`: a multiple
/// of the reduced ratio's input side (as rubato requires) near
/// [`RESAMPLER_BLOCK_FRAMES`], and even. With an odd block the FFT
/// resampler's filter is centred half an input frame early: 44.1 → 48 kHz
/// then leads by 0.544 output frames (measured by `benches/resampler.rs`),
/// which would put 44.1 kHz stems 11 µs ahead of 48 kHz stems of the same
/// song.
pub fn resampler_block_frames(src_hz: u32, engine_hz: u32) -> usize {
    let mut a = src_hz as usize;
    let mut b = engine_hz as usize;
    while b != 0 {
        (a, b) = (b, a % b);
    }
    let m = src_hz as usize / a.max(1);
    let mut k = RESAMPLER_BLOCK_FRAMES.div_ceil(m).max(1);
    if (m * k) % 2 == 1 {
        k += 1;
    }
    m * k
}

/// Engine-rate length of a stem of `src_frames` frames at `src_hz`.
pub fn engine_length_frames(src_frames: u64, src_hz: u32, engine_hz: u32) -> u64 {
    if src_hz == engine_hz {
        src_frames
    } else {
        (src_frames as u128 * engine_hz as u128).div_ceil(src_hz as u128) as u64
    }
}

struct BlockResampler {
    inner: Fft<f32>,
    /// The rate it converts to, Hz (for error messages).
    engine_hz: u32,
    in_block: usize,
    out_block: usize,
    delay: usize,
    channels: usize,
    /// Source frames of the block being gathered, interleaved.
    input: Vec<f32>,
    filled: usize,
    /// One block of output, interleaved.
    output: Vec<f32>,
    /// Resampled frames not yet handed out, interleaved.
    ready: Vec<f32>,
    ready_pos: usize,
    /// Output frames still to drop (pre-roll and filter delay).
    discard: u64,
    source_done: bool,
}

impl BlockResampler {
    fn new(src_hz: u32, engine_hz: u32, channels: usize) -> Result<Self, ResampleFailure> {
        let inner = Fft::<f32>::new_custom(
            src_hz as usize,
            engine_hz as usize,
            resampler_block_frames(src_hz, engine_hz),
            1,
            channels,
            WindowFunction::BlackmanHarris2,
            FixedSync::Both,
        )?;
        let in_block = inner.input_frames_next();
        let out_block = inner.output_frames_next();
        let delay = inner.output_delay();
        Ok(Self {
            inner,
            engine_hz,
            in_block,
            out_block,
            delay,
            channels,
            input: Vec::with_capacity(in_block * channels),
            filled: 0,
            output: vec![0.0; out_block * channels],
            ready: Vec::with_capacity(out_block * channels),
            ready_pos: 0,
            discard: 0,
            source_done: false,
        })
    }

    fn reset(&mut self, discard: u64) {
        self.inner.reset();
        self.input.clear();
        self.filled = 0;
        self.ready.clear();
        self.ready_pos = 0;
        self.discard = discard;
        self.source_done = false;
    }

    /// Runs one block (zero-padded after the source ended).
    fn run_block(&mut self) -> Result<(), ResampleFailure> {
        let ch = self.channels;
        self.input.resize(self.in_block * ch, 0.0);
        let input = InterleavedSlice::new(&self.input[..], ch, self.in_block)?;
        let mut output = InterleavedSlice::new_mut(&mut self.output[..], ch, self.out_block)?;
        self.inner.process_into_buffer(&input, &mut output, None)?;
        self.input.clear();
        self.filled = 0;
        self.ready.clear();
        self.ready_pos = 0;
        let skip = self.discard.min(self.out_block as u64) as usize;
        self.discard -= skip as u64;
        self.ready
            .extend_from_slice(&self.output[skip * ch..self.out_block * ch]);
        Ok(())
    }
}

/// A stem readable at the engine rate from any frame. Not realtime-safe
/// (file I/O, allocation); used by loader threads only.
pub struct StemCursor {
    source: SourceReader,
    resampler: Option<BlockResampler>,
    channels: usize,
    length_frames: u64,
    position: u64,
    /// Rounds output to the cache's grid (samples that are not exact
    /// integers of the source: see [`crate::cache::samples`]).
    on_grid: bool,
}

impl StemCursor {
    /// Wraps an open source for playback at `engine_hz`, positioned at 0.
    ///
    /// # Errors
    /// [`StemError::Resample`] if no resampler fits the rate pair.
    pub fn new(source: SourceReader, engine_hz: u32) -> Result<Self, StemError> {
        let info = source.info().clone();
        let channels = info.channels as usize;
        let resampler = if info.sample_rate_hz == engine_hz {
            None
        } else {
            let r = BlockResampler::new(info.sample_rate_hz, engine_hz, channels).map_err(|e| {
                StemError::Resample {
                    path: source.path().to_path_buf(),
                    from_hz: info.sample_rate_hz,
                    to_hz: engine_hz,
                    source: e,
                }
            })?;
            Some(r)
        };
        let mut cursor = Self {
            source,
            resampler,
            channels,
            length_frames: engine_length_frames(info.frames, info.sample_rate_hz, engine_hz),
            position: 0,
            on_grid: info.sample_origin(engine_hz) == crate::cache::SampleOrigin::Other,
        };
        if let Some(r) = cursor.resampler.as_mut() {
            let delay = r.delay as u64;
            r.reset(delay);
        }
        Ok(cursor)
    }

    /// Output channels (1 or 2).
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Length at the engine rate, frames.
    pub fn length_frames(&self) -> u64 {
        self.length_frames
    }

    /// The engine frame the next [`Self::read`] returns.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// The source reader (for its damage reports).
    pub fn source_mut(&mut self) -> &mut SourceReader {
        &mut self.source
    }

    /// Positions the cursor at engine frame `frame`.
    ///
    /// # Errors
    /// [`StemError`] if the source cannot seek.
    pub fn seek(&mut self, frame: u64) -> Result<(), StemError> {
        if frame == self.position {
            return Ok(());
        }
        self.position = frame;
        match self.resampler.as_mut() {
            None => self.source.seek(frame),
            Some(r) => {
                let target = frame + r.delay as u64;
                let block = (target / r.out_block as u64).saturating_sub(PREROLL_BLOCKS);
                let discard = target - block * r.out_block as u64;
                r.reset(discard);
                self.source.seek(block * r.in_block as u64)
            }
        }
    }

    /// Appends up to `max_frames` engine-rate frames (interleaved,
    /// [`Self::channels`] channels) to `out`; returns how many. 0 means the
    /// stem has no more audio (its end, or its file ended early: the caller
    /// pads with silence).
    ///
    /// # Errors
    /// [`StemError`] for I/O or resampler failures.
    pub fn read(&mut self, out: &mut Vec<f32>, max_frames: usize) -> Result<usize, StemError> {
        let left = self.length_frames.saturating_sub(self.position);
        let max_frames = (max_frames as u64).min(left) as usize;
        if max_frames == 0 {
            return Ok(0);
        }
        let first = out.len();
        let n = match self.resampler.as_mut() {
            None => self.source.read(out, max_frames)?,
            Some(r) => loop {
                if r.ready_pos < r.ready.len() {
                    let avail = (r.ready.len() - r.ready_pos) / self.channels;
                    let n = avail.min(max_frames);
                    out.extend_from_slice(&r.ready[r.ready_pos..r.ready_pos + n * self.channels]);
                    r.ready_pos += n * self.channels;
                    break n;
                }
                while r.filled < r.in_block && !r.source_done {
                    let got = self.source.read(&mut r.input, r.in_block - r.filled)?;
                    if got == 0 {
                        r.source_done = true;
                        break;
                    }
                    r.filled += got;
                }
                r.run_block().map_err(|e| StemError::Resample {
                    path: self.source.path().to_path_buf(),
                    from_hz: self.source.info().sample_rate_hz,
                    to_hz: r.engine_hz,
                    source: e,
                })?;
            },
        };
        if self.on_grid {
            crate::cache::samples::round_to_grid(&mut out[first..]);
        }
        self.position += n as u64;
        Ok(n)
    }
}
