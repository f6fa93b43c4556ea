//! ANY THREAD: the settings of the auto-master chain for one song, the
//! value that crosses from the control thread to the audio thread's
//! [`crate::engine::master::Chain`] in a queue message.

/// Filters of the chain's tonal correction (its low shelf, broad bell and
/// high shelf: [`crate::engine::master::tone`]).
pub const TONE_BANDS: usize = 3;

/// What the chain does to one song: fixed once the song's analysis
/// exists (see [`crate::analysis::fit`]). `Copy`, so it crosses to the audio
/// thread in a queue message.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SongMaster {
    /// Static gain of the mastered path, dB.
    pub gain_db: f32,
    /// Tonal correction per filter, dB (each within ±3).
    pub tone_db: [f32; TONE_BANDS],
    /// Glue compressor threshold, dB mean square (+inf: off).
    pub glue_threshold_db: f32,
    /// Limiter ceiling, dBTP (+inf: off).
    pub ceiling_dbtp: f32,
    /// Gain that brings the original to the mastered loudness, dB (used
    /// when A/B matching is on).
    pub match_gain_db: f32,
}

impl SongMaster {
    /// Transparent: the mastered path equals the delayed original (a song
    /// whose analysis is not ready yet).
    pub const NEUTRAL: SongMaster = SongMaster {
        gain_db: 0.0,
        tone_db: [0.0; TONE_BANDS],
        glue_threshold_db: f32::INFINITY,
        ceiling_dbtp: f32::INFINITY,
        match_gain_db: 0.0,
    };
}

impl Default for SongMaster {
    fn default() -> Self {
        Self::NEUTRAL
    }
}
