//! CONTROL THREAD: from a song's [`Analysis`] and the performer's targets
//! to the chain's fixed settings for that song ([`SongMaster`]).
//!
//! - Loudness: the song goes `strength` of the way from its own loudness
//!   to the target (a fixed LUFS, or the setlist's median in "match the
//!   setlist" mode), plus its `master_trim_db`. The static gain that gets
//!   it there is fitted on the song's loudness profile through a model of
//!   the chain ([`predict_lufs`]), so what the glue compressor and the
//!   limiter take off is given back by the gain.
//! - Tone: each filter moves its band half the way toward a reference
//!   balance, scaled by the strength, within ±3 dB.
//! - Glue: its threshold sits [`GLUE_OVER_RMS_DB`] over the song's
//!   (gained) RMS level, so only its loudest passages are glued.

use super::record::{Analysis, PROBE_DB, SEGMENTS_PER_HOP};
use super::spectrum::{third_octave_hz, BANDS};
use crate::bridge::SongMaster;
use crate::engine::master::glue::{self, gain_db as glue_gain_db};
use crate::engine::master::limiter::{MARGIN_DB, RELEASE_SECS};
use crate::engine::master::tone::{power_response, MAX_BAND_DB, TONE_BALANCE_BAND, TONE_BANDS};

/// Default target loudness, LUFS (streaming services' common target).
pub const DEFAULT_TARGET_LUFS: f32 = -14.0;
/// Target range, LUFS (EBU R128 broadcast … loud club masters).
pub const TARGET_RANGE_LUFS: (f32, f32) = (-23.0, -8.0);
/// Default limiter ceiling, dBTP.
pub const DEFAULT_CEILING_DBTP: f32 = -1.0;
/// Ceiling range, dBTP.
pub const CEILING_RANGE_DBTP: (f32, f32) = (-6.0, 0.0);

/// The reference balance, dB relative to the mids band: close to pink
/// noise with a slightly fuller low end and softer highs (the long-term
/// balance of much finished pop and rock).
pub const REFERENCE_BALANCE_DB: [f64; BANDS] = [1.0, -1.5, 0.0, -5.0];

/// Share of the balance difference the tone filters correct (at full
/// strength).
pub const TONE_CORRECTION_SHARE: f64 = 0.5;

/// The glue threshold over the song's RMS level, dB.
pub const GLUE_OVER_RMS_DB: f64 = 6.0;

/// How the target loudness is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TargetMode {
    /// Every song to [`MasterTargets::target_lufs`].
    #[default]
    Fixed,
    /// Every song to the setlist's median loudness (songs not analysed yet
    /// do not count).
    MatchSetlist,
    /// Every song to the quietest song's loudness (songs not analysed yet
    /// do not count): louder songs are turned down, none is pushed up into
    /// the limiter.
    MatchQuietest,
}

impl TargetMode {
    /// The setlist's reference loudness for this mode from the analysed
    /// songs' integrated loudness (LUFS; non-finite values are ignored):
    /// the median, or the quietest; `None` for [`TargetMode::Fixed`] or
    /// when no song is analysed.
    pub fn setlist_lufs(self, lufs: impl IntoIterator<Item = f64>) -> Option<f64> {
        match self {
            TargetMode::Fixed => None,
            TargetMode::MatchSetlist => median_lufs(lufs),
            TargetMode::MatchQuietest => lufs
                .into_iter()
                .filter(|l| l.is_finite())
                .min_by(f64::total_cmp),
        }
    }
}

/// The performer's auto-master settings (plugin parameters).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MasterTargets {
    /// How the target is chosen.
    pub mode: TargetMode,
    /// The fixed target, LUFS.
    pub target_lufs: f32,
    /// How far each song goes toward the target, 0…1.
    pub strength: f32,
    /// The limiter's ceiling, dBTP.
    pub ceiling_dbtp: f32,
}

impl Default for MasterTargets {
    fn default() -> Self {
        Self {
            mode: TargetMode::Fixed,
            target_lufs: DEFAULT_TARGET_LUFS,
            strength: 1.0,
            ceiling_dbtp: DEFAULT_CEILING_DBTP,
        }
    }
}

/// A song's settings and what they are expected to give.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fitted {
    /// The chain's settings.
    pub master: SongMaster,
    /// The loudness this song aims at, LUFS.
    pub target_lufs: f64,
    /// The loudness the model predicts for the mastered song, LUFS.
    pub predicted_lufs: f64,
}

/// The median of the finite loudnesses (`None` if there are none).
pub fn median_lufs(lufs: impl IntoIterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = lufs.into_iter().filter(|l| l.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        0.5 * (v[mid - 1] + v[mid])
    })
}

/// The tone correction for a measured balance, dB per filter.
pub fn tone_correction_db(band_levels_db: &[f64; BANDS], strength: f64) -> [f32; TONE_BANDS] {
    let mids = band_levels_db[2];
    std::array::from_fn(|f| {
        let b = TONE_BALANCE_BAND[f];
        let measured = band_levels_db[b] - mids;
        if !measured.is_finite() {
            return 0.0;
        }
        let want = REFERENCE_BALANCE_DB[b] - REFERENCE_BALANCE_DB[2];
        let db = TONE_CORRECTION_SHARE * strength * (want - measured);
        // A tenth of a dB is not worth a filter.
        let db = (db * 10.0).round() / 10.0;
        (db as f32).clamp(-MAX_BAND_DB, MAX_BAND_DB)
    })
}

/// Loudness change of a tone correction, dB: the song's K-weighted
/// spectrum (third octaves) through the filters' actual responses.
pub fn tone_loudness_db(analysis: &Analysis, tone_db: &[f32; TONE_BANDS]) -> f64 {
    let total: f64 = analysis.k_spectrum.iter().sum();
    if total <= 0.0 || tone_db.iter().all(|db| *db == 0.0) {
        return 0.0;
    }
    let scaled: f64 = analysis
        .k_spectrum
        .iter()
        .enumerate()
        .map(|(k, share)| share * power_response(tone_db, third_octave_hz(k), analysis.rate_hz))
        .sum();
    10.0 * (scaled / total).log10()
}

/// The tone's loudness change per 100-ms hop, dB: the song's long-term
/// change ([`tone_loudness_db`], exact for the song as a whole) spread over
/// the hops as the per-hop probes say (first order in each filter's gain),
/// so the gates see which hops lose more.
pub fn hop_tone_db(analysis: &Analysis, tone_db: &[f32; TONE_BANDS]) -> Vec<f64> {
    let profile = &analysis.profile;
    if tone_db.iter().all(|db| *db == 0.0) {
        return vec![0.0; profile.tone_probe_db.len()];
    }
    let estimate: Vec<f64> = profile
        .tone_probe_db
        .iter()
        .map(|probe| {
            probe
                .iter()
                .zip(tone_db)
                .map(|(p, g)| f64::from(*p) * f64::from(*g) / f64::from(PROBE_DB))
                .sum()
        })
        .collect();
    // The estimate's own song-wide mean (power-weighted over the hops).
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for (h, est) in estimate.iter().enumerate() {
        let segments = profile
            .segments
            .iter()
            .skip(h * SEGMENTS_PER_HOP)
            .take(SEGMENTS_PER_HOP);
        let power: f64 = segments.map(|s| f64::from(s.k_power)).sum();
        num += power * 10f64.powf(est / 10.0);
        den += power;
    }
    let mean = if den > 0.0 {
        10.0 * (num / den).log10()
    } else {
        0.0
    };
    let global = tone_loudness_db(analysis, tone_db);
    estimate.iter().map(|e| global + e - mean).collect()
}

/// The loudness (LUFS) the chain is predicted to give `analysis`'s song
/// with `master`, from its 10-ms profile: each segment's level through the
/// gain, the tone's broadband effect, the glue compressor's static curve
/// with its attack and release, and the limiter's gain (ceiling over the
/// segment's true peak, with its release).
pub fn predict_lufs(analysis: &Analysis, master: &SongMaster) -> f64 {
    let profile = &analysis.profile;
    let segment_secs = f64::from(profile.hop_frames)
        / SEGMENTS_PER_HOP as f64
        / f64::from(analysis.rate_hz.max(1));
    let keep = |secs: f64| (-segment_secs / secs).exp();
    let (attack, release) = (keep(glue::ATTACK_SECS), keep(glue::RELEASE_SECS));
    let limiter_release = keep(RELEASE_SECS);
    let hop_tone_db = hop_tone_db(analysis, &master.tone_db);
    let ceiling = 10f64.powf((f64::from(master.ceiling_dbtp) - MARGIN_DB) / 20.0);
    let mut level = 0.0f64;
    let mut held = 1.0f64;
    let gains: Vec<f64> = profile
        .segments
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let tone_db = hop_tone_db
                .get(i / SEGMENTS_PER_HOP)
                .copied()
                .unwrap_or(0.0);
            let gain = 10f64.powf((f64::from(master.gain_db) + tone_db) / 20.0);
            let ms = f64::from(s.power) * gain * gain;
            level = ms + (level - ms) * if ms > level { attack } else { release };
            let glue = if level > 0.0 {
                10f64.powf(
                    f64::from(glue_gain_db(
                        (10.0 * level.log10()) as f32,
                        master.glue_threshold_db,
                    )) / 20.0,
                )
            } else {
                1.0
            };
            let peak = f64::from(s.true_peak) * gain * glue;
            let required = if peak > ceiling { ceiling / peak } else { 1.0 };
            held = (1.0 - (1.0 - held) * limiter_release).min(required);
            let g = gain * glue * held;
            g * g
        })
        .collect();
    profile.loudness_with(|i| gains[i])
}

/// Fits a song's settings to `targets` (`setlist_lufs`: the setlist's
/// reference loudness for the matching modes, see
/// [`TargetMode::setlist_lufs`]; `trim_db`: the song's
/// `master_trim_db`). A silent song (no loudness) gets
/// [`SongMaster::NEUTRAL`].
pub fn fit(
    analysis: &Analysis,
    targets: &MasterTargets,
    setlist_lufs: Option<f64>,
    trim_db: f32,
) -> Fitted {
    let own = analysis.integrated_lufs;
    if !own.is_finite() {
        return Fitted {
            master: SongMaster::NEUTRAL,
            target_lufs: own,
            predicted_lufs: own,
        };
    }
    let strength = f64::from(targets.strength.clamp(0.0, 1.0));
    let base = match targets.mode {
        TargetMode::Fixed => f64::from(targets.target_lufs),
        TargetMode::MatchSetlist | TargetMode::MatchQuietest => {
            setlist_lufs.unwrap_or(f64::from(targets.target_lufs))
        }
    };
    let target = own + strength * (base - own) + f64::from(trim_db);
    let tone_db = tone_correction_db(&analysis.band_levels_db, strength);
    let tone_loudness = tone_loudness_db(analysis, &tone_db);
    let glue_threshold_db = if strength > 0.0 {
        // Over the RMS the song will have after its gain (first guess:
        // the gain to the target).
        (analysis.rms_dbfs + (target - own) + GLUE_OVER_RMS_DB) as f32
    } else {
        f32::INFINITY
    };
    let mut master = SongMaster {
        gain_db: 0.0,
        tone_db,
        glue_threshold_db,
        ceiling_dbtp: targets.ceiling_dbtp,
        match_gain_db: 0.0,
    };
    // The predicted loudness rises with the gain: bisect.
    let first = (target - own - tone_loudness) as f32;
    let (mut lo, mut hi) = (first - 24.0, first + 24.0);
    for _ in 0..40 {
        let mid = 0.5 * (lo + hi);
        master.gain_db = mid;
        if predict_lufs(analysis, &master) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    master.gain_db = (0.5 * (lo + hi) * 100.0).round() / 100.0;
    if strength == 0.0 && trim_db == 0.0 {
        master.gain_db = 0.0;
    }
    let predicted = predict_lufs(analysis, &master);
    master.match_gain_db = (predicted - own) as f32;
    Fitted {
        master,
        target_lufs: target,
        predicted_lufs: predicted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mode_has_its_reference_loudness() {
        let lufs = [-9.0, f64::NAN, -16.5, -12.0, f64::NEG_INFINITY, -14.0];
        assert_eq!(TargetMode::Fixed.setlist_lufs(lufs), None);
        assert_eq!(TargetMode::MatchSetlist.setlist_lufs(lufs), Some(-13.0));
        assert_eq!(TargetMode::MatchQuietest.setlist_lufs(lufs), Some(-16.5));
        assert_eq!(TargetMode::MatchQuietest.setlist_lufs([f64::NAN]), None);
    }
}
