//! ANY THREAD: the plugin's parameters (automatable, with stable ids) and the
//! state it persists beside them (`#[persist]`): the setlist path and every
//! stem's mix. See the README's parameter and MIDI map.
#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    clippy::disallowed_macros
)] // Not on the audio thread: `process()` reads only the parameters' atomics.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use nice_plug::params::persist::PersistentField;
use nice_plug::plugin::ParamValue;
use nice_plug::prelude::*;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::analysis::fit::{
    CEILING_RANGE_DBTP, DEFAULT_CEILING_DBTP, DEFAULT_TARGET_LUFS, TARGET_RANGE_LUFS,
};
use crate::analysis::{MasterTargets, TargetMode};
use crate::bridge::{Bus, StemMix};

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

static INITIAL_OSC_PORT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);

/// Sets the OSC remote's port new instances start with (the standalone's
/// `--osc-port`; 0: off). Call before the first instance is created.
pub fn set_initial_osc_port(port: u16) {
    INITIAL_OSC_PORT.store(port, Ordering::Relaxed);
}

/// Master gain range, dB.
pub const MASTER_GAIN_MIN_DB: f32 = -60.0;
/// Master gain range, dB.
pub const MASTER_GAIN_MAX_DB: f32 = 12.0;
/// Master gain step, dB.
pub const MASTER_GAIN_STEP_DB: f32 = 0.1;

/// What a restored state may set (nice-plug's `filter_state`, run on
/// every state before it is applied):
/// - `play` is restored off: a session saved while playing does not start
///   playback when it is reopened (the host's transport, with Follow host
///   on, or a Play press or automation starts it); whether it was on goes
///   to [`TraxParams::restored_play`];
/// - a state saved by an earlier version is brought up to date: the master
///   gain was `gain`, a linear amplitude, and is `gain_db` (rounded to its
///   0.1 dB step, so a unity gain stored as 0.99999994 comes back as
///   exactly 0 dB).
pub fn filter_state(state: &mut PluginState) {
    let mut was_playing = false;
    if let Some(play) = state.params.get_mut("play") {
        was_playing = matches!(play, ParamValue::Bool(true));
        *play = ParamValue::Bool(false);
    }
    state
        .fields
        .insert("restored_play".into(), was_playing.to_string());
    if let Some(ParamValue::F32(gain)) = state.params.remove("gain") {
        let db = if gain > 0.0 && gain.is_finite() {
            (util::gain_to_db(gain) / MASTER_GAIN_STEP_DB).round() * MASTER_GAIN_STEP_DB + 0.0
        } else {
            MASTER_GAIN_MIN_DB
        };
        state
            .params
            .entry("gain_db".into())
            .or_insert(ParamValue::F32(
                db.clamp(MASTER_GAIN_MIN_DB, MASTER_GAIN_MAX_DB),
            ));
    }
}

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
    /// `gain_db`: master gain, dB (−60 ..= +12 in 0.1 dB steps: a host
    /// that hands the value back normalised in single precision still
    /// restores 0 dB as exactly 0, unity), smoothed over 20 ms. Replaces
    /// `gain` (linear amplitude) of earlier states, see [`filter_state`].
    #[id = "gain_db"]
    pub gain_db: FloatParam,
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
    /// `am_mode`: fixed target, match the setlist's median loudness, or
    /// match the quietest song.
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
    /// `follow_out`: with Follow host, the host's position is the time the
    /// plugin's *output* is heard (Ardour runs each plugin at the position
    /// of its output), so the song is rendered ahead by the reported
    /// latency; off (default): the position of the *input*, the host
    /// compensating the latency after the plugin (pedalboard, the CLAP
    /// tests).
    #[id = "follow_out"]
    pub follow_output_time: BoolParam,
    /// `jump_timing`: when a section jump from the editor's section list or
    /// a MIDI section note lands (default: at the end of the section).
    #[id = "jump_timing"]
    pub jump_timing: EnumParam<JumpWhen>,
    /// The setlist file (TOML/JSON) or folder.
    #[persist = "setlist"]
    pub setlist: Versioned<String>,
    /// Per song, per stem: the mix.
    #[persist = "mix"]
    pub mix: Versioned<Vec<Vec<StemMixState>>>,
    /// Per song: what happens at its end as the performer set it for this
    /// show in the editor ([`crate::bridge::SongEnd`]'s text: "stop",
    /// "fade 4", …; `None` or unreadable: the setlist's).
    #[persist = "song_ends"]
    pub song_ends: Versioned<Vec<Option<String>>>,
    /// Setlists opened in the editor, most recent first (at most
    /// [`crate::editor::RECENT_SETLISTS`]).
    #[persist = "recent"]
    pub recent_setlists: Versioned<Vec<String>>,
    /// Whether the state restored last was saved with `play` on (written
    /// by [`filter_state`], which restores `play` off): a host that sends
    /// its own saved value of `play` right after the state (Ardour) is
    /// then not taken as a Play press.
    #[persist = "restored_play"]
    pub restored_play: RestoredFlag,
    /// The OSC remote's UDP port, every IPv4 interface (0: off, the
    /// default); saved with the project, not automatable. Change it with
    /// [`Versioned::replace`], then [`super::control::Shared::wake_control`]:
    /// the control thread starts, rebinds or stops the remote and
    /// publishes how it went ([`crate::view::ControlView::remote`]).
    #[persist = "osc_port"]
    pub osc_port: Versioned<u16>,
}

/// A flag set by state restores, readable from the audio thread (atomics
/// only): its value and a serial that changes on every restore.
#[derive(Debug, Default)]
pub struct RestoredFlag {
    on: AtomicBool,
    serial: AtomicU64,
}

impl RestoredFlag {
    /// The value last restored. Realtime-safe.
    pub fn is_on(&self) -> bool {
        self.on.load(Ordering::Acquire)
    }

    /// Changes on every restore (0: none yet). Realtime-safe.
    pub fn serial(&self) -> u64 {
        self.serial.load(Ordering::Acquire)
    }
}

impl<'a> PersistentField<'a, bool> for RestoredFlag {
    fn set(&self, new_value: bool) {
        self.on.store(new_value, Ordering::Release);
        self.serial.fetch_add(1, Ordering::AcqRel);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&bool) -> R,
    {
        f(&self.is_on())
    }
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
            gain_db: FloatParam::new(
                "Master gain",
                0.0,
                FloatRange::Linear {
                    min: MASTER_GAIN_MIN_DB,
                    max: MASTER_GAIN_MAX_DB,
                },
            )
            .with_step_size(MASTER_GAIN_STEP_DB)
            .with_smoother(SmoothingStyle::Linear(20.0))
            .with_unit(" dB")
            // `+ 0.0`: the step snap makes -0.0 of a value a hair under 0.
            .with_value_to_string(Arc::new(|db| format!("{:.1}", db + 0.0)))
            .with_string_to_value(Arc::new(|s| {
                s.trim().trim_end_matches("dB").trim().parse().ok()
            })),
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
            follow_output_time: BoolParam::new("Follow: host time is output", false),
            jump_timing: EnumParam::new("Jump timing", JumpWhen::SectionEnd),
            setlist: Versioned::new(INITIAL_SETLIST.get().cloned().unwrap_or_default()),
            mix: Versioned::new(Vec::new()),
            song_ends: Versioned::new(Vec::new()),
            recent_setlists: Versioned::new(Vec::new()),
            restored_play: RestoredFlag::default(),
            osc_port: Versioned::new(INITIAL_OSC_PORT.load(Ordering::Relaxed)),
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
    /// Every song to the quietest song's loudness (only turned down).
    #[id = "quietest"]
    #[name = "Match quietest song"]
    MatchQuietest,
}

/// When a section jump lands (`jump_timing`), as the host shows it.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum JumpWhen {
    /// As soon as the target is resident.
    #[id = "now"]
    #[name = "Now"]
    Now,
    /// On the next bar line (songs with a tempo; others: now).
    #[id = "bar"]
    #[name = "Next bar"]
    NextBar,
    /// At the end of the section that plays.
    #[id = "section"]
    #[name = "End of section"]
    SectionEnd,
    /// At the end of the song.
    #[id = "song"]
    #[name = "End of song"]
    SongEnd,
}

impl JumpWhen {
    /// The engine's timing.
    pub fn timing(self) -> crate::bridge::JumpTiming {
        use crate::bridge::JumpTiming;
        match self {
            JumpWhen::Now => JumpTiming::Now,
            JumpWhen::NextBar => JumpTiming::NextBar,
            JumpWhen::SectionEnd => JumpTiming::SectionEnd,
            JumpWhen::SongEnd => JumpTiming::SongEnd,
        }
    }

    /// The parameter value of an engine timing.
    pub fn of(timing: crate::bridge::JumpTiming) -> Self {
        use crate::bridge::JumpTiming;
        match timing {
            JumpTiming::Now => JumpWhen::Now,
            JumpTiming::NextBar => JumpWhen::NextBar,
            JumpTiming::SectionEnd => JumpWhen::SectionEnd,
            JumpTiming::SongEnd => JumpWhen::SongEnd,
        }
    }
}

impl TraxParams {
    /// The auto-master targets the parameters set.
    pub fn master_targets(&self) -> MasterTargets {
        MasterTargets {
            mode: match self.master_mode.value() {
                MasterMode::Fixed => TargetMode::Fixed,
                MasterMode::MatchSetlist => TargetMode::MatchSetlist,
                MasterMode::MatchQuietest => TargetMode::MatchQuietest,
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
    /// The output bus (the setlist's `output`).
    #[serde(rename = "output")]
    pub bus: Bus,
}

/// A stem's mix exactly as the state's JSON holds it (untrusted).
#[derive(Clone, Debug, Deserialize)]
pub struct StoredStemMix {
    /// Gain in dB.
    pub gain_db: f32,
    /// Balance.
    pub pan: f32,
    /// Silenced.
    pub mute: bool,
    /// Soloed.
    pub solo: bool,
    /// The output bus: a bus name; absent (states saved before buses
    /// existed), unknown or not a string: main.
    #[serde(default, rename = "output")]
    pub bus: StoredBus,
}

/// A stored bus name, read leniently (see [`StoredStemMix::bus`]).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(untagged)]
pub enum StoredBus {
    /// A name, parsed with [`Bus::parse`].
    Name(String),
    /// Anything else, or nothing.
    #[default]
    #[serde(skip)]
    Missing,
    /// A value of another type.
    Other(serde::de::IgnoredAny),
}

impl StoredBus {
    /// The bus it names, main if none.
    pub fn bus(&self) -> Bus {
        match self {
            StoredBus::Name(n) => Bus::parse(n).unwrap_or_default(),
            _ => Bus::Main,
        }
    }
}

impl From<StoredStemMix> for StemMixState {
    fn from(m: StoredStemMix) -> Self {
        StemMixState {
            gain_db: m.gain_db,
            pan: m.pan,
            mute: m.mute,
            solo: m.solo,
            bus: m.bus.bus(),
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
            bus: self.bus,
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
            bus: m.bus,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(params: &[(&str, ParamValue)]) -> PluginState {
        PluginState {
            version: String::new(),
            params: params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
            fields: Default::default(),
        }
    }

    #[test]
    fn a_restored_state_plays_nothing_and_its_linear_gain_becomes_exact_db() {
        let mut s = state(&[
            ("play", ParamValue::Bool(true)),
            ("gain", ParamValue::F32(0.999_999_94)),
        ]);
        filter_state(&mut s);
        assert!(matches!(
            s.params.get("play"),
            Some(ParamValue::Bool(false))
        ));
        assert_eq!(
            s.fields.get("restored_play").map(String::as_str),
            Some("true")
        );
        assert!(!s.params.contains_key("gain"));
        match s.params.get("gain_db") {
            Some(ParamValue::F32(db)) => assert!(*db == 0.0 && db.is_sign_positive(), "{db}"),
            other => panic!("gain_db: {other:?}"),
        }
        // -6.02 dB, silence and a value out of range.
        for (gain, db) in [(0.5f32, -6.0f32), (0.0, -60.0), (100.0, 12.0)] {
            let mut s = state(&[("gain", ParamValue::F32(gain))]);
            filter_state(&mut s);
            assert!(
                matches!(s.params.get("gain_db"), Some(ParamValue::F32(d)) if (d - db).abs() < 1e-4),
                "{gain}: {:?}",
                s.params.get("gain_db")
            );
            assert_eq!(
                s.fields.get("restored_play").map(String::as_str),
                Some("false")
            );
        }
    }
}
