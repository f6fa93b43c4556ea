//! The plugin's parameters (automatable, with stable ids) and the state it
//! persists beside them (`#[persist]`): the setlist path and every stem's
//! mix. See the README's parameter and MIDI map.
#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    clippy::disallowed_macros
)] // Not on the audio thread: `process()` reads only the parameters' atomics.

use std::sync::atomic::{AtomicU64, Ordering};

use nice_plug::params::persist::PersistentField;
use nice_plug::prelude::*;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::bridge::StemMix;
use crate::mastering::settings::{
    CEILING_RANGE_DBTP, DEFAULT_CEILING_DBTP, DEFAULT_TARGET_LUFS, TARGET_RANGE_LUFS,
};
use crate::mastering::{MasterTargets, TargetMode};

/// Highest song number the `song` parameter and MIDI program changes reach
/// (1-based; the MIDI program range).
pub const MAX_PARAM_SONGS: i32 = 128;

/// Default MIDI base note: note 36 (C1 in the C3 = 60 convention of most
/// DAWs, e.g. Bitwig and Reaper's default) starts song 1.
pub const DEFAULT_BASE_NOTE: i32 = 36;

static INITIAL_SETLIST: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Sets the setlist new instances start with (the standalone's
/// `--setlist`). Call before the first instance is created; later calls are
/// ignored.
pub fn set_initial_setlist(path: String) {
    let _ = INITIAL_SETLIST.set(path);
}

/// Master gain range, dB.
pub const MASTER_GAIN_MIN_DB: f32 = -60.0;
/// Master gain range, dB.
pub const MASTER_GAIN_MAX_DB: f32 = 12.0;

/// The parameters and persisted fields. Parameter ids are stable: hosts
/// store automation under them.
#[derive(Params)]
pub struct TraxParams {
    /// `play`: play/pause. Acts on changes: on → resume if paused, else
    /// play the selected song from its start; off → pause.
    #[id = "play"]
    pub play: BoolParam,
    /// `song`: the selected song, 1-based (1 ..= 128). Changing it cues the
    /// song (its head is made resident) without starting it.
    #[id = "song"]
    pub song: IntParam,
    /// `gain`: master gain as linear amplitude, shown in dB
    /// (−60 ..= +12 dB), smoothed over 20 ms.
    #[id = "gain"]
    pub gain: FloatParam,
    /// `follow`: follow the host transport (play while it plays, stop when
    /// it stops, a jump of its position is a seek).
    #[id = "follow"]
    pub follow: BoolParam,
    /// `base_note`: the MIDI note that starts song 1 (default 36).
    #[id = "base_note"]
    pub base_note: IntParam,
    /// `am_on`: the auto-master (mastered sound) on, or the original; a
    /// change crossfades over 15 ms from the next block.
    #[id = "am_on"]
    pub auto_master: BoolParam,
    /// `am_target`: target loudness, LUFS (-23 ..= -8, default -14).
    #[id = "am_target"]
    pub master_target: FloatParam,
    /// `am_mode`: fixed target, or match the setlist's median loudness.
    #[id = "am_mode"]
    pub master_mode: EnumParam<MasterMode>,
    /// `am_strength`: how far each song goes toward the target, %
    /// (0 ..= 100, default 100).
    #[id = "am_strength"]
    pub master_strength: FloatParam,
    /// `am_ceiling`: the limiter's ceiling, dBTP (-6 ..= 0, default -1).
    #[id = "am_ceiling"]
    pub master_ceiling: FloatParam,
    /// `am_ab_match`: the original at the mastered loudness (A/B without
    /// "louder sounds better").
    #[id = "am_ab_match"]
    pub master_ab_match: BoolParam,
    /// The setlist file (TOML/JSON) or folder.
    #[persist = "setlist"]
    pub setlist: Versioned<String>,
    /// Per song, per stem: the mix.
    #[persist = "mix"]
    pub mix: Versioned<Vec<Vec<StemMixState>>>,
    /// Setlists opened in the editor, most recent first (at most
    /// [`crate::editor::RECENT_SETLISTS`]).
    #[persist = "recent"]
    pub recent_setlists: Versioned<Vec<String>>,
}

impl Default for TraxParams {
    fn default() -> Self {
        Self {
            play: BoolParam::new("Play", false),
            song: IntParam::new(
                "Song",
                1,
                IntRange::Linear {
                    min: 1,
                    max: MAX_PARAM_SONGS,
                },
            ),
            gain: FloatParam::new(
                "Master gain",
                util::db_to_gain(0.0),
                FloatRange::Skewed {
                    min: util::db_to_gain(MASTER_GAIN_MIN_DB),
                    max: util::db_to_gain(MASTER_GAIN_MAX_DB),
                    factor: FloatRange::gain_skew_factor(MASTER_GAIN_MIN_DB, MASTER_GAIN_MAX_DB),
                },
            )
            .with_smoother(SmoothingStyle::Logarithmic(20.0))
            .with_unit(" dB")
            .with_value_to_string(formatters::v2s_f32_gain_to_db(2))
            .with_string_to_value(formatters::s2v_f32_gain_to_db()),
            follow: BoolParam::new("Follow host transport", false),
            base_note: IntParam::new(
                "Base note",
                DEFAULT_BASE_NOTE,
                IntRange::Linear { min: 0, max: 127 },
            ),
            auto_master: BoolParam::new("Auto-master", false),
            master_target: FloatParam::new(
                "Target loudness",
                DEFAULT_TARGET_LUFS,
                FloatRange::Linear {
                    min: TARGET_RANGE_LUFS.0,
                    max: TARGET_RANGE_LUFS.1,
                },
            )
            .with_step_size(0.5)
            .with_unit(" LUFS"),
            master_mode: EnumParam::new("Target mode", MasterMode::Fixed),
            master_strength: FloatParam::new(
                "Strength",
                100.0,
                FloatRange::Linear {
                    min: 0.0,
                    max: 100.0,
                },
            )
            .with_step_size(1.0)
            .with_unit(" %"),
            master_ceiling: FloatParam::new(
                "Ceiling",
                DEFAULT_CEILING_DBTP,
                FloatRange::Linear {
                    min: CEILING_RANGE_DBTP.0,
                    max: CEILING_RANGE_DBTP.1,
                },
            )
            .with_step_size(0.1)
            .with_unit(" dBTP"),
            master_ab_match: BoolParam::new("A/B loudness match", false),
            setlist: Versioned::new(INITIAL_SETLIST.get().cloned().unwrap_or_default()),
            mix: Versioned::new(Vec::new()),
            recent_setlists: Versioned::new(Vec::new()),
        }
    }
}

/// The auto-master's target modes (`am_mode`).
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MasterMode {
    /// Every song to the target loudness.
    #[id = "fixed"]
    #[name = "Fixed target"]
    Fixed,
    /// Every song to the setlist's median loudness.
    #[id = "match"]
    #[name = "Match setlist"]
    MatchSetlist,
}

impl TraxParams {
    /// The auto-master targets the parameters set.
    pub fn master_targets(&self) -> MasterTargets {
        MasterTargets {
            mode: match self.master_mode.value() {
                MasterMode::Fixed => TargetMode::Fixed,
                MasterMode::MatchSetlist => TargetMode::MatchSetlist,
            },
            target_lufs: self.master_target.value(),
            strength: self.master_strength.value() / 100.0,
            ceiling_dbtp: self.master_ceiling.value(),
        }
    }
}

/// A persisted value with a version counter, so the control thread sees
/// when a host restores state (nice-plug sets persisted fields on the
/// host's main thread and does not re-activate the plugin).
#[derive(Debug, Default)]
pub struct Versioned<T> {
    value: Mutex<T>,
    version: AtomicU64,
}

impl<T: Clone> Versioned<T> {
    /// Wraps `value` (version 0).
    pub fn new(value: T) -> Self {
        Self {
            value: Mutex::new(value),
            version: AtomicU64::new(0),
        }
    }

    /// A copy of the value and its version.
    pub fn get(&self) -> (T, u64) {
        let v = self.value.lock();
        (v.clone(), self.version.load(Ordering::Acquire))
    }

    /// Replaces the value and bumps the version.
    pub fn replace(&self, value: T) {
        let mut v = self.value.lock();
        *v = value;
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    /// The version: it changes on every [`Versioned::replace`].
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }
}

impl<'a, T> PersistentField<'a, T> for Versioned<T>
where
    T: Serialize + Deserialize<'a> + Clone + Send + Sync,
{
    fn set(&self, new_value: T) {
        self.replace(new_value);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&T) -> R,
    {
        f(&self.value.lock())
    }
}

/// A stem's mix as stored in the plugin state. Read through
/// [`StoredStemMix`]: values out of range (a gain of 1e39 is infinite as
/// an `f32`, which JSON cannot hold) are clamped as they are read, so a
/// state saved after loading a hostile one loads again (found by the
/// plugin_state fuzz target).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "StoredStemMix")]
pub struct StemMixState {
    /// Gain in dB (0 = unity).
    pub gain_db: f32,
    /// Balance, −1 (left) ..= 1 (right).
    pub pan: f32,
    /// Silenced.
    pub mute: bool,
    /// Soloed.
    pub solo: bool,
}

/// A stem's mix exactly as the state's JSON holds it (untrusted).
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct StoredStemMix {
    /// Gain in dB.
    pub gain_db: f32,
    /// Balance.
    pub pan: f32,
    /// Silenced.
    pub mute: bool,
    /// Soloed.
    pub solo: bool,
}

impl From<StoredStemMix> for StemMixState {
    fn from(m: StoredStemMix) -> Self {
        StemMixState {
            gain_db: m.gain_db,
            pan: m.pan,
            mute: m.mute,
            solo: m.solo,
        }
        .to_mix()
        .into()
    }
}

impl StemMixState {
    /// The engine's mix, with values clamped to their ranges (state bytes
    /// are untrusted: NaN becomes the default).
    pub fn to_mix(self) -> StemMix {
        let finite = |x: f32, lo: f32, hi: f32, default: f32| {
            if x.is_finite() {
                x.clamp(lo, hi)
            } else {
                default
            }
        };
        StemMix {
            gain_db: finite(self.gain_db, -120.0, 24.0, 0.0),
            pan: finite(self.pan, -1.0, 1.0, 0.0),
            mute: self.mute,
            solo: self.solo,
        }
    }
}

impl From<StemMix> for StemMixState {
    fn from(m: StemMix) -> Self {
        Self {
            gain_db: m.gain_db,
            pan: m.pan,
            mute: m.mute,
            solo: m.solo,
        }
    }
}
