//! Seeded, deterministic data augmentation for the **training side** of a split.
//!
//! - Waveform ([`WaveAugmenter`]): time stretch (phase vocoder, as
//!   `librosa.effects.time_stretch`), pitch shift (stretch by `2^(-n/12)` then resample back, as
//!   `librosa.effects.pitch_shift`), time shift (roll or zero-pad), gain in dB, and additive
//!   white noise at a signal-to-noise ratio in dB, applied in that order; then the channel
//!   augmentations of [`channel`], in the order a recording meets them: room reverberation
//!   (synthetic impulse response), babble of other training utterances, coloured noise, a
//!   band limit (the microphone or line), clipping (the converter).
//! - Feature level ([`SpecAugmenter`]): SpecAugment-style time masks and row (frequency) masks
//!   on a row-major `n_rows x n_frames` buffer; apply them after normalisation (masked values
//!   are set to 0, the normalised mean).
//!
//! Every random draw comes from a [`SplitMix64`] stream keyed by (seed, purpose, utterance
//! index, copy or epoch index), so an augmentation is a pure function of those. The entry points
//! take the [`Split`] and refuse utterances that are not on its training side. Each channel
//! augmentation has a stream of its own, so switching one on or off does not change the draws
//! of the others (nor of the original steps: a configuration without them gives the copies it
//! gave before they existed).
//!
//! Everything is off by default ([`AugmentConfig::default`]); [`AugmentConfig::original`] is
//! the Python original's recipe (stretch 0.9 / 1.1, pitch +-2 semitones, noise, 0.1 s shift);
//! [`AugmentConfig::robust`] is the channel recipe of the shipped model.

pub mod channel;
mod stretch;

use serde::{Deserialize, Serialize};

use crate::error::DataError;
use crate::protocol::Split;
use crate::rng::SplitMix64;
pub use channel::{
    BabbleConfig, BandLimitConfig, ClippingConfig, ColouredNoiseConfig, NoiseColour, ReverbConfig,
    RirParams,
};
pub use stretch::{PhaseVocoder, STRETCH_HOP_LEN, STRETCH_N_FFT};

/// Purpose tag of waveform-augmentation random streams.
const STREAM_WAVE: u64 = 0x5741_5645; // "WAVE"
/// Purpose tag of SpecAugment random streams.
const STREAM_SPEC: u64 = 0x5350_4543; // "SPEC"
/// Purpose tag of the reverberation stream.
const STREAM_REVERB: u64 = 0x5245_5642; // "REVB"
/// Purpose tag of the stream that picks the babble talkers.
const STREAM_BABBLE_PICK: u64 = 0x4241_4250; // "BABP"
/// Purpose tag of the stream that mixes the babble (offsets, SNR).
const STREAM_BABBLE_MIX: u64 = 0x4241_424D; // "BABM"
/// Purpose tag of the coloured-noise stream.
const STREAM_COLOURED: u64 = 0x434F_4C4E; // "COLN"
/// Purpose tag of the band-limit stream.
const STREAM_BAND: u64 = 0x4241_4E44; // "BAND"
/// Purpose tag of the clipping stream.
const STREAM_CLIP: u64 = 0x434C_4950; // "CLIP"
/// The most babble talkers a configuration may ask for.
pub const MAX_BABBLE_TALKERS: usize = 32;
/// Shortest and longest RT60 a configuration may ask for, in seconds.
pub const RT60_LIMITS_S: (f64, f64) = (0.05, 3.0);
/// Largest |DRR| a configuration may ask for, in dB.
pub const MAX_ABS_DRR_DB: f64 = 40.0;
/// Semitones per octave (`bins_per_octave` of `pitch_shift`).
const SEMITONES_PER_OCTAVE: f64 = 12.0;

/// Time stretch by a rate drawn from `rates` (librosa phase vocoder; > 1 is faster).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimeStretchConfig {
    /// Probability of applying it to a copy.
    pub probability: f64,
    /// Rates to choose from uniformly.
    pub rates: Vec<f64>,
}

impl Default for TimeStretchConfig {
    /// The original's rates 0.9 and 1.1, always applied.
    fn default() -> Self {
        TimeStretchConfig {
            probability: 1.0,
            rates: vec![0.9, 1.1],
        }
    }
}

/// Pitch shift by a number of semitones drawn from `semitones`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PitchShiftConfig {
    /// Probability of applying it to a copy.
    pub probability: f64,
    /// Semitone shifts to choose from uniformly.
    pub semitones: Vec<f64>,
}

impl Default for PitchShiftConfig {
    /// The original's -2 and +2 semitones, always applied.
    fn default() -> Self {
        PitchShiftConfig {
            probability: 1.0,
            semitones: vec![-2.0, 2.0],
        }
    }
}

/// How a time shift treats the samples that leave the signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShiftMode {
    /// Circular shift (`np.roll`).
    Roll,
    /// Shift in zeros; the length is kept.
    Pad,
}

/// Time shift by a whole number of samples drawn uniformly from `-max..=max`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimeShiftConfig {
    /// Probability of applying it to a copy.
    pub probability: f64,
    /// Largest shift in seconds, either direction.
    pub max_shift_s: f64,
    /// Roll or pad.
    pub mode: ShiftMode,
}

impl Default for TimeShiftConfig {
    /// The original's 0.1 s roll, always applied.
    fn default() -> Self {
        TimeShiftConfig {
            probability: 1.0,
            max_shift_s: 0.1,
            mode: ShiftMode::Roll,
        }
    }
}

/// Gain by a number of dB drawn uniformly from `min_db..max_db`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GainConfig {
    /// Probability of applying it to a copy.
    pub probability: f64,
    /// Lowest gain in dB.
    pub min_db: f64,
    /// Highest gain in dB.
    pub max_db: f64,
}

impl Default for GainConfig {
    /// -6 to +6 dB, always applied.
    fn default() -> Self {
        GainConfig {
            probability: 1.0,
            min_db: -6.0,
            max_db: 6.0,
        }
    }
}

/// Additive white Gaussian noise at an SNR drawn uniformly from `min_snr_db..max_snr_db`
/// (relative to the signal's mean power).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NoiseConfig {
    /// Probability of applying it to a copy.
    pub probability: f64,
    /// Lowest SNR in dB.
    pub min_snr_db: f64,
    /// Highest SNR in dB.
    pub max_snr_db: f64,
}

impl Default for NoiseConfig {
    /// 15 to 30 dB SNR, always applied.
    fn default() -> Self {
        NoiseConfig {
            probability: 1.0,
            min_snr_db: 15.0,
            max_snr_db: 30.0,
        }
    }
}

/// SpecAugment-style masks (Park et al. 2019, without time warping).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpecAugmentConfig {
    /// Probability of masking an utterance in an epoch.
    pub probability: f64,
    /// Number of time masks.
    pub n_time_masks: usize,
    /// Widest time mask in frames (widths drawn from `0..=max`).
    pub max_time_mask_frames: usize,
    /// Number of row (frequency) masks.
    pub n_row_masks: usize,
    /// Widest row mask in rows (widths drawn from `0..=max`).
    pub max_row_mask_rows: usize,
}

impl Default for SpecAugmentConfig {
    /// Two time masks of up to 12 frames and two row masks of up to 8 rows, always applied.
    fn default() -> Self {
        SpecAugmentConfig {
            probability: 1.0,
            n_time_masks: 2,
            max_time_mask_frames: 12,
            n_row_masks: 2,
            max_row_mask_rows: 8,
        }
    }
}

/// Which augmentations to use and how; everything is off by default. Saved with every run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AugmentConfig {
    /// Augmented waveform copies per training utterance, besides the original (0: none).
    pub copies: usize,
    /// Time stretch, off when `None`.
    pub time_stretch: Option<TimeStretchConfig>,
    /// Pitch shift, off when `None`.
    pub pitch_shift: Option<PitchShiftConfig>,
    /// Time shift, off when `None`.
    pub time_shift: Option<TimeShiftConfig>,
    /// Gain, off when `None`.
    pub gain: Option<GainConfig>,
    /// Additive noise, off when `None`.
    pub noise: Option<NoiseConfig>,
    /// Feature-level masks (applied per epoch by the trainer), off when `None`.
    pub spec_augment: Option<SpecAugmentConfig>,
    // The channel augmentations. Not written when off, so configurations (and the cache keys
    // hashed from them) that do not use them serialise as they did before they existed.
    /// Room reverberation by a synthetic impulse response, off when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reverb: Option<ReverbConfig>,
    /// Babble of other training utterances, off when `None` (and skipped when the caller
    /// supplies no other utterances).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub babble: Option<BabbleConfig>,
    /// Additive white, pink or brown noise, off when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coloured_noise: Option<ColouredNoiseConfig>,
    /// Random band limit, off when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub band_limit: Option<BandLimitConfig>,
    /// Hard clipping, off when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clipping: Option<ClippingConfig>,
}

impl AugmentConfig {
    /// The Python original's recipe: 2 copies per training clip, each with a 50% chance of
    /// stretch 0.9/1.1, pitch +-2 semitones, a roll of up to 0.1 s and noise at 15-30 dB SNR.
    pub fn original() -> AugmentConfig {
        const HALF: f64 = 0.5;
        AugmentConfig {
            copies: 2,
            time_stretch: Some(TimeStretchConfig {
                probability: HALF,
                ..TimeStretchConfig::default()
            }),
            pitch_shift: Some(PitchShiftConfig {
                probability: HALF,
                ..PitchShiftConfig::default()
            }),
            time_shift: Some(TimeShiftConfig {
                probability: HALF,
                ..TimeShiftConfig::default()
            }),
            gain: None,
            noise: Some(NoiseConfig {
                probability: HALF,
                ..NoiseConfig::default()
            }),
            ..AugmentConfig::default()
        }
    }

    /// The channel recipe of the shipped model: 2 copies per training clip, each effect drawn
    /// independently, so a copy gets about two of them and 9% of copies get none:
    ///
    /// | effect | probability | range | why |
    /// |---|---|---|---|
    /// | gain | 0.5 | -20..+20 dB | recordings arrive at any level; the front end's level normalisation is not exact on noisy or reverberant speech |
    /// | reverb | 0.3 | RT60 0.2..1.0 s, DRR -3..+12 dB, band-dependent | living rooms to lecture halls, talker near or far |
    /// | babble | 0.2 | 3..6 talkers, 5..20 dB | cafés and offices; rarer, and never below 5 dB, because other speech carries other emotions |
    /// | coloured noise | 0.5 | white/pink/brown, 5..30 dB | fans, traffic, hiss: the commonest complaint, covering 10-20 dB test noise with margin |
    /// | band limit | 0.4 | upper edge 3.4, 4, 5.5, 8 kHz; high-pass none, 100, 200, 300 Hz | phone lines (300-3400 Hz), wide-band codecs, 16 kHz recordings, small loudspeakers and microphones without bass |
    /// | clipping | 0.1 | 0.3..0.9 of the peak | overdriven phone and laptop microphones; rare, as it is a severe distortion |
    ///
    /// No time stretch or pitch shift: they change the prosody that carries emotion (the
    /// original's recipe is still [`AugmentConfig::original`]). Effects are applied in the
    /// order of the table (gain first, as in [`WaveAugmenter`]).
    pub fn robust() -> AugmentConfig {
        AugmentConfig {
            copies: 2,
            gain: Some(GainConfig {
                probability: 0.5,
                min_db: -20.0,
                max_db: 20.0,
            }),
            reverb: Some(ReverbConfig {
                probability: 0.3,
                ..ReverbConfig::default()
            }),
            babble: Some(BabbleConfig {
                probability: 0.2,
                ..BabbleConfig::default()
            }),
            coloured_noise: Some(ColouredNoiseConfig {
                probability: 0.5,
                ..ColouredNoiseConfig::default()
            }),
            band_limit: Some(BandLimitConfig {
                probability: 0.4,
                edges_hz: vec![3_400, 4_000, 5_500, 8_000],
                high_pass_hz: vec![0.0, 100.0, 200.0, 300.0],
            }),
            clipping: Some(ClippingConfig {
                probability: 0.1,
                ..ClippingConfig::default()
            }),
            ..AugmentConfig::default()
        }
    }

    /// True when some waveform augmentation is on and copies are asked for.
    pub fn has_waveform(&self) -> bool {
        self.copies > 0
            && (self.time_stretch.is_some()
                || self.pitch_shift.is_some()
                || self.time_shift.is_some()
                || self.gain.is_some()
                || self.noise.is_some()
                || self.reverb.is_some()
                || self.babble.is_some()
                || self.coloured_noise.is_some()
                || self.band_limit.is_some()
                || self.clipping.is_some())
    }

    /// Checks every setting (probabilities in `[0, 1]`, positive rates, ordered ranges, ...).
    pub fn validate(&self) -> Result<(), DataError> {
        fn probability(setting: &'static str, p: f64) -> Result<(), DataError> {
            if (0.0..=1.0).contains(&p) {
                Ok(())
            } else {
                Err(DataError::InvalidAugment {
                    setting,
                    reason: format!("probability {p} outside [0, 1]"),
                })
            }
        }
        fn range(setting: &'static str, lo: f64, hi: f64) -> Result<(), DataError> {
            if lo.is_finite() && hi.is_finite() && lo <= hi {
                Ok(())
            } else {
                Err(DataError::InvalidAugment {
                    setting,
                    reason: format!("range {lo}..{hi} is not finite and ordered"),
                })
            }
        }
        if let Some(c) = &self.time_stretch {
            probability("time_stretch.probability", c.probability)?;
            if c.rates.is_empty() || c.rates.iter().any(|r| !(r.is_finite() && *r > 0.0)) {
                return Err(DataError::InvalidAugment {
                    setting: "time_stretch.rates",
                    reason: format!("{:?}: need at least one positive finite rate", c.rates),
                });
            }
        }
        if let Some(c) = &self.pitch_shift {
            probability("pitch_shift.probability", c.probability)?;
            const MAX_SEMITONES: f64 = 24.0;
            if c.semitones.is_empty()
                || c.semitones
                    .iter()
                    .any(|s| !s.is_finite() || s.abs() > MAX_SEMITONES)
            {
                return Err(DataError::InvalidAugment {
                    setting: "pitch_shift.semitones",
                    reason: format!("{:?}: need at least one shift within +-24", c.semitones),
                });
            }
        }
        if let Some(c) = &self.time_shift {
            probability("time_shift.probability", c.probability)?;
            range("time_shift.max_shift_s", 0.0, c.max_shift_s)?;
        }
        if let Some(c) = &self.gain {
            probability("gain.probability", c.probability)?;
            range("gain.min_db..max_db", c.min_db, c.max_db)?;
        }
        if let Some(c) = &self.noise {
            probability("noise.probability", c.probability)?;
            range("noise.min_snr_db..max_snr_db", c.min_snr_db, c.max_snr_db)?;
        }
        if let Some(c) = &self.spec_augment {
            probability("spec_augment.probability", c.probability)?;
        }
        if let Some(c) = &self.reverb {
            probability("reverb.probability", c.probability)?;
            range("reverb.min_rt60_s..max_rt60_s", c.min_rt60_s, c.max_rt60_s)?;
            let (lo, hi) = RT60_LIMITS_S;
            if c.min_rt60_s < lo || c.max_rt60_s > hi {
                return Err(DataError::InvalidAugment {
                    setting: "reverb.min_rt60_s..max_rt60_s",
                    reason: format!(
                        "RT60 {}..{} s outside the supported {lo}..{hi} s",
                        c.min_rt60_s, c.max_rt60_s
                    ),
                });
            }
            range("reverb.min_drr_db..max_drr_db", c.min_drr_db, c.max_drr_db)?;
            if c.min_drr_db.abs().max(c.max_drr_db.abs()) > MAX_ABS_DRR_DB {
                return Err(DataError::InvalidAugment {
                    setting: "reverb.min_drr_db..max_drr_db",
                    reason: format!(
                        "DRR {}..{} dB outside -{MAX_ABS_DRR_DB}..{MAX_ABS_DRR_DB} dB",
                        c.min_drr_db, c.max_drr_db
                    ),
                });
            }
        }
        if let Some(c) = &self.babble {
            probability("babble.probability", c.probability)?;
            if c.min_talkers == 0
                || c.min_talkers > c.max_talkers
                || c.max_talkers > MAX_BABBLE_TALKERS
            {
                return Err(DataError::InvalidAugment {
                    setting: "babble.min_talkers..max_talkers",
                    reason: format!(
                        "{}..{} talkers: need 1 <= min <= max <= {MAX_BABBLE_TALKERS}",
                        c.min_talkers, c.max_talkers
                    ),
                });
            }
            range("babble.min_snr_db..max_snr_db", c.min_snr_db, c.max_snr_db)?;
        }
        if let Some(c) = &self.coloured_noise {
            probability("coloured_noise.probability", c.probability)?;
            if c.colours.is_empty() {
                return Err(DataError::InvalidAugment {
                    setting: "coloured_noise.colours",
                    reason: "need at least one of white, pink, brown".to_owned(),
                });
            }
            range(
                "coloured_noise.min_snr_db..max_snr_db",
                c.min_snr_db,
                c.max_snr_db,
            )?;
        }
        if let Some(c) = &self.band_limit {
            probability("band_limit.probability", c.probability)?;
            // Resampling to 2 * edge must be a rate the resampler accepts.
            let (lo, hi) = (
                ser_audio::MIN_SAMPLE_RATE_HZ / 2,
                ser_audio::MAX_SAMPLE_RATE_HZ / 2,
            );
            if c.edges_hz.is_empty() || c.edges_hz.iter().any(|e| !(lo..=hi).contains(e)) {
                return Err(DataError::InvalidAugment {
                    setting: "band_limit.edges_hz",
                    reason: format!(
                        "{:?}: need at least one edge, each in {lo}..={hi} Hz",
                        c.edges_hz
                    ),
                });
            }
            // The high-pass corner must lie well below the lowest upper edge.
            let lowest = c.edges_hz.iter().copied().min().unwrap_or(0);
            if c.high_pass_hz
                .iter()
                .any(|f| !(f.is_finite() && *f >= 0.0 && *f < f64::from(lowest) / 2.0))
            {
                return Err(DataError::InvalidAugment {
                    setting: "band_limit.high_pass_hz",
                    reason: format!(
                        "{:?}: each corner in 0..{} Hz (half the lowest upper edge)",
                        c.high_pass_hz,
                        lowest / 2
                    ),
                });
            }
        }
        if let Some(c) = &self.clipping {
            probability("clipping.probability", c.probability)?;
            range(
                "clipping.min_fraction..max_fraction",
                c.min_fraction,
                c.max_fraction,
            )?;
            if !(c.min_fraction > 0.0 && c.max_fraction <= 1.0) {
                return Err(DataError::InvalidAugment {
                    setting: "clipping.min_fraction..max_fraction",
                    reason: format!(
                        "{}..{} of the peak: need fractions in (0, 1]",
                        c.min_fraction, c.max_fraction
                    ),
                });
            }
        }
        Ok(())
    }
}

/// Applies the waveform augmentations of an [`AugmentConfig`] to training utterances.
/// Holds a planned phase vocoder; clone one per thread.
#[derive(Debug, Clone)]
pub struct WaveAugmenter {
    config: AugmentConfig,
    seed: u64,
    vocoder: PhaseVocoder,
}

impl WaveAugmenter {
    /// Validates `config` and plans the phase vocoder.
    pub fn new(config: &AugmentConfig, seed: u64) -> Result<WaveAugmenter, DataError> {
        config.validate()?;
        Ok(WaveAugmenter {
            config: config.clone(),
            seed,
            vocoder: PhaseVocoder::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &AugmentConfig {
        &self.config
    }

    /// Copy `copy` of training utterance `utterance` (its samples at `sample_rate_hz`): a pure
    /// function of (seed, utterance, copy). Refuses utterances outside `split.train`. Without
    /// babble (see [`WaveAugmenter::augment_with_babble`]).
    pub fn augment(
        &self,
        split: &Split,
        utterance: usize,
        copy: usize,
        samples: &[f32],
        sample_rate_hz: u32,
    ) -> Result<Vec<f32>, DataError> {
        self.augment_with_babble(split, utterance, copy, samples, sample_rate_hz, &[])
    }

    /// [`WaveAugmenter::augment`] with the babble talkers: `babble` holds the samples (at
    /// `sample_rate_hz`, un-augmented) of the utterances [`WaveAugmenter::babble_sources`]
    /// chose for this (utterance, copy), in that order. A pure function of (seed, utterance,
    /// copy, babble). Refuses utterances outside `split.train`.
    pub fn augment_with_babble(
        &self,
        split: &Split,
        utterance: usize,
        copy: usize,
        samples: &[f32],
        sample_rate_hz: u32,
        babble: &[&[f32]],
    ) -> Result<Vec<f32>, DataError> {
        if !split.is_train(utterance) {
            return Err(DataError::NotTraining {
                index: utterance,
                fold: split.fold,
            });
        }
        self.augment_training(utterance, copy, samples, sample_rate_hz, babble)
    }

    /// The other utterances to mix into copy `copy` of `utterance` as babble: a pure function
    /// of (seed, utterance, copy, candidates). Empty when babble is off, when its probability
    /// draw says no for this copy, or when `candidates` holds nothing but `utterance`;
    /// otherwise `min_talkers..=max_talkers` distinct indices from `candidates` (fewer when
    /// there are not that many), never `utterance` itself.
    ///
    /// `candidates` are corpus indices the caller allows, normally the training side of the
    /// split (`split.train`); never validation or test utterances, which would leak them into
    /// training. The caller filters them further if it wants (e.g. other speakers only).
    pub fn babble_sources(
        &self,
        utterance: usize,
        copy: usize,
        candidates: &[usize],
    ) -> Vec<usize> {
        let Some(b) = &self.config.babble else {
            return Vec::new();
        };
        let mut rng = SplitMix64::for_key(
            self.seed,
            &[STREAM_BABBLE_PICK, utterance as u64, copy as u64],
        );
        if !rng.chance(b.probability) {
            return Vec::new();
        }
        let want = rng.range_inclusive(b.min_talkers as i64, b.max_talkers as i64) as usize;
        let mut pool: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&i| i != utterance)
            .collect();
        pool.sort_unstable();
        pool.dedup();
        // A partial Fisher-Yates shuffle: the first `take` entries are a uniform sample.
        let take = want.min(pool.len());
        for i in 0..take {
            let j = i + rng.below((pool.len() - i) as u64) as usize;
            pool.swap(i, j);
        }
        pool.truncate(take);
        pool
    }

    /// [`WaveAugmenter::augment_with_babble`] for a caller that has already checked the
    /// training side.
    pub(crate) fn augment_training(
        &self,
        utterance: usize,
        copy: usize,
        samples: &[f32],
        sample_rate_hz: u32,
        babble: &[&[f32]],
    ) -> Result<Vec<f32>, DataError> {
        let mut rng = SplitMix64::for_key(self.seed, &[STREAM_WAVE, utterance as u64, copy as u64]);
        let c = &self.config;
        let mut y = samples.to_vec();
        if let Some(s) = &c.time_stretch
            && rng.chance(s.probability)
            && let Some(&rate) = rng.choose(&s.rates)
        {
            y = self.vocoder.time_stretch(&y, rate)?;
        }
        if let Some(p) = &c.pitch_shift
            && rng.chance(p.probability)
            && let Some(&steps) = rng.choose(&p.semitones)
        {
            y = pitch_shift(&self.vocoder, &y, sample_rate_hz, steps)?;
        }
        if let Some(t) = &c.time_shift
            && rng.chance(t.probability)
        {
            let max = (t.max_shift_s * f64::from(sample_rate_hz)).round() as i64;
            let shift = rng.range_inclusive(-max, max);
            time_shift(&mut y, shift, t.mode);
        }
        if let Some(g) = &c.gain
            && rng.chance(g.probability)
        {
            apply_gain_db(&mut y, rng.uniform(g.min_db, g.max_db));
        }
        if let Some(n) = &c.noise
            && rng.chance(n.probability)
        {
            let snr_db = rng.uniform(n.min_snr_db, n.max_snr_db);
            add_noise_snr(&mut y, snr_db, &mut rng);
        }
        self.channel(utterance, copy, &mut y, sample_rate_hz, babble)?;
        Ok(y)
    }

    /// The channel augmentations, each from its own stream keyed by (seed, purpose,
    /// utterance, copy).
    fn channel(
        &self,
        utterance: usize,
        copy: usize,
        y: &mut Vec<f32>,
        sample_rate_hz: u32,
        babble: &[&[f32]],
    ) -> Result<(), DataError> {
        let c = &self.config;
        let stream = |purpose: u64| {
            SplitMix64::for_key(self.seed, &[purpose, utterance as u64, copy as u64])
        };
        if y.is_empty() {
            return Ok(());
        }
        if let Some(r) = &c.reverb {
            let mut rng = stream(STREAM_REVERB);
            if rng.chance(r.probability) {
                let params = RirParams {
                    rt60_s: rng.uniform(r.min_rt60_s, r.max_rt60_s),
                    drr_db: rng.uniform(r.min_drr_db, r.max_drr_db),
                    band_dependent: r.band_dependent,
                };
                let h = channel::synthetic_rir(&params, sample_rate_hz, &mut rng)?;
                *y = channel::fft_convolve(y, &h, y.len())?;
            }
        }
        if let Some(b) = &c.babble
            && !babble.is_empty()
        {
            // Whether to babble was drawn by `babble_sources`; here only how.
            let mut rng = stream(STREAM_BABBLE_MIX);
            let snr_db = rng.uniform(b.min_snr_db, b.max_snr_db);
            let mix = channel::babble(y.len(), babble, &mut rng);
            channel::add_at_snr(y, &mix, snr_db);
        }
        if let Some(n) = &c.coloured_noise {
            let mut rng = stream(STREAM_COLOURED);
            if rng.chance(n.probability)
                && let Some(&colour) = rng.choose(&n.colours)
            {
                let snr_db = rng.uniform(n.min_snr_db, n.max_snr_db);
                let noise = channel::coloured_noise(colour, y.len(), &mut rng);
                channel::add_at_snr(y, &noise, snr_db);
            }
        }
        if let Some(b) = &c.band_limit {
            let mut rng = stream(STREAM_BAND);
            if rng.chance(b.probability)
                && let Some(&edge) = rng.choose(&b.edges_hz)
            {
                *y = channel::band_limit(y, sample_rate_hz, edge)?;
                if let Some(&corner) = rng.choose(&b.high_pass_hz)
                    && corner > 0.0
                {
                    crate::conditions::Butterworth::high_pass(
                        channel::HIGH_PASS_ORDER,
                        corner,
                        f64::from(sample_rate_hz),
                    )?
                    .process(y);
                }
            }
        }
        if let Some(k) = &c.clipping {
            let mut rng = stream(STREAM_CLIP);
            if rng.chance(k.probability) {
                channel::hard_clip(y, rng.uniform(k.min_fraction, k.max_fraction));
            }
        }
        Ok(())
    }
}

/// Applies SpecAugment masks to training utterances, per epoch.
#[derive(Debug, Clone)]
pub struct SpecAugmenter {
    config: SpecAugmentConfig,
    seed: u64,
}

impl SpecAugmenter {
    /// A masker for `config` (see [`AugmentConfig::spec_augment`]).
    pub fn new(config: &SpecAugmentConfig, seed: u64) -> Result<SpecAugmenter, DataError> {
        AugmentConfig {
            spec_augment: Some(config.clone()),
            ..AugmentConfig::default()
        }
        .validate()?;
        Ok(SpecAugmenter {
            config: config.clone(),
            seed,
        })
    }

    /// Masks the `n_rows x n_frames` row-major features of training utterance `utterance` for
    /// `epoch`: a pure function of (seed, utterance, epoch). Refuses utterances outside
    /// `split.train` and buffers whose length is not `n_rows * n_frames`.
    pub fn apply(
        &self,
        split: &Split,
        utterance: usize,
        epoch: usize,
        data: &mut [f32],
        n_rows: usize,
        n_frames: usize,
    ) -> Result<(), DataError> {
        if !split.is_train(utterance) {
            return Err(DataError::NotTraining {
                index: utterance,
                fold: split.fold,
            });
        }
        if data.len() != n_rows * n_frames {
            return Err(DataError::ShapeMismatch {
                expected_rows: n_rows,
                expected_frames: n_frames,
                expected_len: n_rows * n_frames,
                found_len: data.len(),
            });
        }
        let mut rng =
            SplitMix64::for_key(self.seed, &[STREAM_SPEC, utterance as u64, epoch as u64]);
        let c = &self.config;
        if !rng.chance(c.probability) {
            return Ok(());
        }
        for _ in 0..c.n_time_masks {
            let (start, width) = draw_mask(&mut rng, n_frames, c.max_time_mask_frames);
            mask_frames(data, n_rows, n_frames, start, width);
        }
        for _ in 0..c.n_row_masks {
            let (start, width) = draw_mask(&mut rng, n_rows, c.max_row_mask_rows);
            mask_rows(data, n_frames, start, width);
        }
        Ok(())
    }
}

/// A mask of width `0..=max` (at most `len`) at a uniform start.
fn draw_mask(rng: &mut SplitMix64, len: usize, max: usize) -> (usize, usize) {
    let width = rng.below(max.min(len) as u64 + 1) as usize;
    let start = rng.below((len - width) as u64 + 1) as usize;
    (start, width)
}

/// Sets frames `start..start + width` of every row to 0.
pub fn mask_frames(data: &mut [f32], n_rows: usize, n_frames: usize, start: usize, width: usize) {
    let end = (start + width).min(n_frames);
    for r in 0..n_rows {
        if let Some(row) = data.get_mut(r * n_frames..(r + 1) * n_frames) {
            row[start.min(end)..end].fill(0.0);
        }
    }
}

/// Sets rows `start..start + width` to 0.
pub fn mask_rows(data: &mut [f32], n_frames: usize, start: usize, width: usize) {
    let lo = (start * n_frames).min(data.len());
    let hi = ((start + width) * n_frames).min(data.len());
    data[lo..hi].fill(0.0);
}

/// `librosa.effects.pitch_shift(y, sr=sr, n_steps=semitones)`: time-stretch by
/// `2^(-semitones/12)`, resample from `sr / rate` to `sr`, then fit to the input length.
///
/// The resampler takes integer rates, so `sr / rate` is rounded to the nearest Hz (at 16 kHz
/// and +-2 semitones an error below 0.001 semitone).
pub fn pitch_shift(
    vocoder: &PhaseVocoder,
    samples: &[f32],
    sample_rate_hz: u32,
    semitones: f64,
) -> Result<Vec<f32>, DataError> {
    if semitones == 0.0 || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let rate = (-semitones / SEMITONES_PER_OCTAVE).exp2();
    let stretched = vocoder.time_stretch(samples, rate)?;
    let from_hz = (f64::from(sample_rate_hz) / rate).round() as u32;
    let mut y = ser_audio::resample(&stretched, from_hz, sample_rate_hz).map_err(|e| {
        DataError::InvalidAugment {
            setting: "pitch_shift",
            reason: format!("resampling {from_hz} Hz -> {sample_rate_hz} Hz failed: {e}"),
        }
    })?;
    y.resize(samples.len(), 0.0);
    Ok(y)
}

/// Shifts by `shift` samples (positive: later). `Roll` is `np.roll`; `Pad` shifts in zeros.
pub fn time_shift(samples: &mut [f32], shift: i64, mode: ShiftMode) {
    let n = samples.len();
    if n == 0 || shift == 0 {
        return;
    }
    let k = usize::try_from(shift.unsigned_abs()).unwrap_or(usize::MAX);
    match mode {
        ShiftMode::Roll => {
            let k = k % n;
            if shift > 0 {
                samples.rotate_right(k);
            } else {
                samples.rotate_left(k);
            }
        }
        ShiftMode::Pad => {
            let k = k.min(n);
            if shift > 0 {
                samples.copy_within(..n - k, k);
                samples[..k].fill(0.0);
            } else {
                samples.copy_within(k.., 0);
                samples[n - k..].fill(0.0);
            }
        }
    }
}

/// Multiplies by `10^(gain_db / 20)`.
pub fn apply_gain_db(samples: &mut [f32], gain_db: f64) {
    let g = 10f64.powf(gain_db / 20.0) as f32;
    samples.iter_mut().for_each(|x| *x *= g);
}

/// Adds white Gaussian noise with power `mean(x^2) / 10^(snr_db / 10)`; a silent signal is
/// left unchanged.
pub fn add_noise_snr(samples: &mut [f32], snr_db: f64, rng: &mut SplitMix64) {
    if samples.is_empty() {
        return;
    }
    let power = samples.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / samples.len() as f64;
    if power <= 0.0 {
        return;
    }
    let std = (power / 10f64.powf(snr_db / 10.0)).sqrt();
    for x in samples.iter_mut() {
        *x += (rng.normal() * std) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_roll_and_pad() {
        let mut v = vec![1.0, 2.0, 3.0, 4.0];
        time_shift(&mut v, 1, ShiftMode::Roll);
        assert_eq!(v, [4.0, 1.0, 2.0, 3.0]);
        time_shift(&mut v, -2, ShiftMode::Roll);
        assert_eq!(v, [2.0, 3.0, 4.0, 1.0]);
        let mut v = vec![1.0, 2.0, 3.0, 4.0];
        time_shift(&mut v, 2, ShiftMode::Pad);
        assert_eq!(v, [0.0, 0.0, 1.0, 2.0]);
        let mut v = vec![1.0, 2.0, 3.0, 4.0];
        time_shift(&mut v, -1, ShiftMode::Pad);
        assert_eq!(v, [2.0, 3.0, 4.0, 0.0]);
        let mut v = vec![1.0, 2.0];
        time_shift(&mut v, 9, ShiftMode::Pad);
        assert_eq!(v, [0.0, 0.0]);
    }

    #[test]
    fn noise_hits_the_requested_snr() {
        let mut rng = SplitMix64::new(1);
        let clean: Vec<f32> = (0..48_000).map(|i| (i as f32 * 0.05).sin()).collect();
        for snr_db in [0.0, 10.0, 20.0] {
            let mut noisy = clean.clone();
            add_noise_snr(&mut noisy, snr_db, &mut rng);
            let signal: f64 = clean.iter().map(|&x| f64::from(x).powi(2)).sum();
            let noise: f64 = clean
                .iter()
                .zip(&noisy)
                .map(|(&a, &b)| f64::from(b - a).powi(2))
                .sum();
            let measured = 10.0 * (signal / noise).log10();
            assert!(
                (measured - snr_db).abs() < 0.2,
                "{snr_db} dB -> {measured} dB"
            );
        }
        let mut silent = vec![0.0f32; 10];
        add_noise_snr(&mut silent, 10.0, &mut rng);
        assert!(silent.iter().all(|&x| x == 0.0));
    }

    #[test]
    fn gain_in_db() {
        let mut v = vec![1.0f32, -0.5];
        apply_gain_db(&mut v, -20.0);
        assert!((v[0] - 0.1).abs() < 1e-6 && (v[1] + 0.05).abs() < 1e-6);
    }

    #[test]
    fn masks_stay_in_bounds() {
        let (rows, frames) = (5, 7);
        let mut data = vec![1.0f32; rows * frames];
        mask_frames(&mut data, rows, frames, 5, 10);
        mask_rows(&mut data, frames, 4, 3);
        for r in 0..rows {
            for f in 0..frames {
                let v = data[r * frames + f];
                let masked = f >= 5 || r >= 4;
                assert_eq!(v == 0.0, masked, "row {r} frame {f}");
            }
        }
        let mut rng = SplitMix64::new(9);
        for _ in 0..1000 {
            let (s, w) = draw_mask(&mut rng, 7, 12);
            assert!(s + w <= 7);
        }
    }

    #[test]
    fn config_validation_and_serde() {
        assert!(AugmentConfig::default().validate().is_ok());
        assert!(!AugmentConfig::default().has_waveform());
        let orig = AugmentConfig::original();
        assert!(orig.validate().is_ok());
        assert!(orig.has_waveform());
        let json = serde_json::to_string(&orig).expect("json");
        let back: AugmentConfig = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, orig);
        let off: AugmentConfig = serde_json::from_str("{}").expect("defaults");
        assert_eq!(off, AugmentConfig::default());
        assert!(serde_json::from_str::<AugmentConfig>(r#"{"copis": 1}"#).is_err());
        let bad = AugmentConfig {
            noise: Some(NoiseConfig {
                probability: 1.5,
                ..NoiseConfig::default()
            }),
            ..AugmentConfig::default()
        };
        assert!(bad.validate().is_err());
        let bad = AugmentConfig {
            time_stretch: Some(TimeStretchConfig {
                probability: 1.0,
                rates: vec![0.0],
            }),
            ..AugmentConfig::default()
        };
        assert!(bad.validate().is_err());
    }

    fn sine(freq_hz: f64, sample_rate_hz: u32, n: usize, amp: f64) -> Vec<f32> {
        (0..n)
            .map(|i| {
                let t = i as f64 / f64::from(sample_rate_hz);
                (amp * (std::f64::consts::TAU * freq_hz * t).sin()) as f32
            })
            .collect()
    }

    fn power_db(x: &[f32]) -> f64 {
        10.0 * channel::mean_power(x).log10()
    }

    /// Only the channel effects, each always on.
    fn channel_only() -> AugmentConfig {
        AugmentConfig {
            copies: 2,
            reverb: Some(ReverbConfig::default()),
            babble: Some(BabbleConfig::default()),
            coloured_noise: Some(ColouredNoiseConfig::default()),
            band_limit: Some(BandLimitConfig::default()),
            clipping: Some(ClippingConfig::default()),
            ..AugmentConfig::default()
        }
    }

    #[test]
    fn robust_recipe_validates_and_round_trips() {
        let robust = AugmentConfig::robust();
        robust.validate().expect("valid");
        assert!(robust.has_waveform());
        assert_eq!(robust.copies, 2);
        let json = serde_json::to_string_pretty(&robust).expect("json");
        let back: AugmentConfig = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, robust);
        assert!(
            json.contains("\"pink\"") && json.contains("\"edges_hz\""),
            "{json}"
        );
        // Unknown fields are refused inside the new sections too.
        let typo = r#"{"copies": 1, "reverb": {"rt60": 0.5}}"#;
        assert!(serde_json::from_str::<AugmentConfig>(typo).is_err());
        // Missing fields take their defaults.
        let partial: AugmentConfig =
            serde_json::from_str(r#"{"copies": 1, "clipping": {"probability": 0.2}}"#)
                .expect("partial");
        assert_eq!(
            partial.clipping,
            Some(ClippingConfig {
                probability: 0.2,
                ..ClippingConfig::default()
            })
        );
        // A configuration without channel effects is written as before they existed (its
        // cache keys do not change).
        let json = serde_json::to_string(&AugmentConfig::original()).expect("json");
        for key in [
            "reverb",
            "babble",
            "coloured_noise",
            "band_limit",
            "clipping",
        ] {
            assert!(!json.contains(key), "{json}");
        }
    }

    #[test]
    fn channel_settings_are_validated() {
        let bad = |c: AugmentConfig, setting: &str| {
            let err = c.validate().expect_err(setting);
            assert!(
                matches!(&err, DataError::InvalidAugment { setting: s, .. } if s.starts_with(setting)),
                "{setting}: {err}"
            );
        };
        let base = AugmentConfig::default;
        bad(
            AugmentConfig {
                reverb: Some(ReverbConfig {
                    min_rt60_s: 0.5,
                    max_rt60_s: 0.2,
                    ..ReverbConfig::default()
                }),
                ..base()
            },
            "reverb.min_rt60_s",
        );
        bad(
            AugmentConfig {
                reverb: Some(ReverbConfig {
                    max_rt60_s: 10.0,
                    ..ReverbConfig::default()
                }),
                ..base()
            },
            "reverb.min_rt60_s",
        );
        bad(
            AugmentConfig {
                reverb: Some(ReverbConfig {
                    min_drr_db: f64::NAN,
                    ..ReverbConfig::default()
                }),
                ..base()
            },
            "reverb.min_drr_db",
        );
        bad(
            AugmentConfig {
                babble: Some(BabbleConfig {
                    min_talkers: 0,
                    ..BabbleConfig::default()
                }),
                ..base()
            },
            "babble.min_talkers",
        );
        bad(
            AugmentConfig {
                babble: Some(BabbleConfig {
                    probability: -0.1,
                    ..BabbleConfig::default()
                }),
                ..base()
            },
            "babble.probability",
        );
        bad(
            AugmentConfig {
                coloured_noise: Some(ColouredNoiseConfig {
                    colours: Vec::new(),
                    ..ColouredNoiseConfig::default()
                }),
                ..base()
            },
            "coloured_noise.colours",
        );
        bad(
            AugmentConfig {
                coloured_noise: Some(ColouredNoiseConfig {
                    min_snr_db: 30.0,
                    max_snr_db: 5.0,
                    ..ColouredNoiseConfig::default()
                }),
                ..base()
            },
            "coloured_noise.min_snr_db",
        );
        bad(
            AugmentConfig {
                band_limit: Some(BandLimitConfig {
                    edges_hz: vec![4_000, 100],
                    ..BandLimitConfig::default()
                }),
                ..base()
            },
            "band_limit.edges_hz",
        );
        bad(
            AugmentConfig {
                band_limit: Some(BandLimitConfig {
                    edges_hz: Vec::new(),
                    ..BandLimitConfig::default()
                }),
                ..base()
            },
            "band_limit.edges_hz",
        );
        bad(
            AugmentConfig {
                clipping: Some(ClippingConfig {
                    min_fraction: 0.0,
                    ..ClippingConfig::default()
                }),
                ..base()
            },
            "clipping.min_fraction",
        );
        bad(
            AugmentConfig {
                clipping: Some(ClippingConfig {
                    max_fraction: 1.5,
                    ..ClippingConfig::default()
                }),
                ..base()
            },
            "clipping.min_fraction",
        );
        let err = AugmentConfig {
            babble: Some(BabbleConfig {
                min_talkers: 7,
                max_talkers: 3,
                ..BabbleConfig::default()
            }),
            ..base()
        }
        .validate()
        .expect_err("min > max");
        assert!(err.to_string().contains("7..3 talkers"), "{err}");
    }

    #[test]
    fn channel_copies_are_pure_functions_of_seed_utterance_copy() {
        let x = sine(220.0, 16_000, 16_000, 0.3);
        let other = sine(310.0, 16_000, 9_000, 0.2);
        let talkers: Vec<&[f32]> = vec![&other, &x[..5_000]];
        let a = WaveAugmenter::new(&channel_only(), 7).expect("augmenter");
        let b = WaveAugmenter::new(&channel_only(), 7).expect("augmenter");
        let run = |w: &WaveAugmenter, utt: usize, copy: usize| {
            w.augment_training(utt, copy, &x, 16_000, &talkers)
                .expect("augment")
        };
        let first = run(&a, 3, 0);
        assert_eq!(first.len(), x.len());
        assert!(first.iter().all(|v| v.is_finite()));
        // Bit-identical for the same key, from another augmenter too.
        let same = run(&b, 3, 0);
        assert!(
            first
                .iter()
                .zip(&same)
                .all(|(p, q)| p.to_bits() == q.to_bits())
        );
        assert_ne!(first, run(&a, 3, 1), "another copy");
        assert_ne!(first, run(&a, 4, 0), "another utterance");
        let c = WaveAugmenter::new(&channel_only(), 8).expect("augmenter");
        assert_ne!(first, run(&c, 3, 0), "another seed");
        assert_ne!(first, x, "it does something");
        // Babble changes the output; without talkers it is skipped.
        let no_babble = a.augment_training(3, 0, &x, 16_000, &[]).expect("augment");
        assert_ne!(first, no_babble);
    }

    #[test]
    fn channel_steps_do_not_disturb_the_original_draws() {
        // Adding channel effects that never fire leaves the original recipe's copies as they
        // were: each effect draws from its own stream.
        let x = sine(200.0, 16_000, 8_000, 0.3);
        let plain = WaveAugmenter::new(&AugmentConfig::original(), 5).expect("plain");
        let never = |p: f64| AugmentConfig {
            clipping: Some(ClippingConfig {
                probability: p,
                ..ClippingConfig::default()
            }),
            band_limit: Some(BandLimitConfig {
                probability: p,
                ..BandLimitConfig::default()
            }),
            ..AugmentConfig::original()
        };
        let with = WaveAugmenter::new(&never(0.0), 5).expect("with");
        for copy in 0..3 {
            assert_eq!(
                plain.augment_training(1, copy, &x, 16_000, &[]).expect("a"),
                with.augment_training(1, copy, &x, 16_000, &[]).expect("b")
            );
        }
    }

    #[test]
    fn the_high_pass_of_the_band_limit_removes_the_bass() {
        let sr = 16_000;
        let config = AugmentConfig {
            copies: 1,
            band_limit: Some(BandLimitConfig {
                probability: 1.0,
                edges_hz: vec![8_000],
                high_pass_hz: vec![300.0],
            }),
            ..AugmentConfig::default()
        };
        let w = WaveAugmenter::new(&config, 0).expect("augmenter");
        let rms = |x: &[f32]| {
            let x = &x[4_000..12_000];
            (x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
        };
        let bass = sine(80.0, sr, 16_000, 0.5);
        let y = w.augment_training(0, 0, &bass, sr, &[]).expect("augment");
        // 4th-order Butterworth at 300 Hz: about -46 dB at 80 Hz.
        assert!(20.0 * (rms(&y) / rms(&bass)).log10() < -40.0);
        let voice = sine(1_000.0, sr, 16_000, 0.5);
        let y = w.augment_training(0, 0, &voice, sr, &[]).expect("augment");
        assert!((20.0 * (rms(&y) / rms(&voice)).log10()).abs() < 0.1);
        let bad = AugmentConfig {
            band_limit: Some(BandLimitConfig {
                high_pass_hz: vec![5_000.0],
                ..BandLimitConfig::default()
            }),
            ..config
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn band_limit_removes_10_khz_and_keeps_1_khz_at_48_khz() {
        let sr = 48_000;
        let config = AugmentConfig {
            copies: 1,
            band_limit: Some(BandLimitConfig {
                probability: 1.0,
                edges_hz: vec![4_000],
                high_pass_hz: Vec::new(),
            }),
            ..AugmentConfig::default()
        };
        let w = WaveAugmenter::new(&config, 0).expect("augmenter");
        let mid = 4_800..43_200; // away from the edges of the clip
        let low = sine(1_000.0, sr, 48_000, 0.5);
        let y = w.augment_training(0, 0, &low, sr, &[]).expect("augment");
        assert_eq!(y.len(), low.len());
        let kept = power_db(&y[mid.clone()]) - power_db(&low[mid.clone()]);
        assert!(kept.abs() < 0.5, "1 kHz changed by {kept} dB");
        let high = sine(10_000.0, sr, 48_000, 0.5);
        let y = w.augment_training(0, 0, &high, sr, &[]).expect("augment");
        let gone = power_db(&y[mid.clone()]) - power_db(&high[mid]);
        assert!(gone < -100.0, "10 kHz only {gone} dB down");
        // A rate already within the band is left alone.
        let narrow = sine(1_000.0, 8_000, 8_000, 0.5);
        let y = w
            .augment_training(0, 0, &narrow, 8_000, &[])
            .expect("augment");
        assert_eq!(y, narrow);
    }

    #[test]
    fn clipping_and_noise_through_the_augmenter() {
        let x = sine(440.0, 16_000, 16_000, 0.5);
        let config = AugmentConfig {
            copies: 1,
            clipping: Some(ClippingConfig {
                probability: 1.0,
                min_fraction: 0.5,
                max_fraction: 0.5,
            }),
            ..AugmentConfig::default()
        };
        let y = WaveAugmenter::new(&config, 1)
            .expect("augmenter")
            .augment_training(0, 0, &x, 16_000, &[])
            .expect("augment");
        let peak = y.iter().fold(0.0f32, |m, &v| m.max(v.abs()));
        assert!((peak - 0.25).abs() < 1e-6, "{peak}");
        let config = AugmentConfig {
            copies: 1,
            coloured_noise: Some(ColouredNoiseConfig {
                probability: 1.0,
                colours: vec![NoiseColour::Brown],
                min_snr_db: 12.0,
                max_snr_db: 12.0,
            }),
            ..AugmentConfig::default()
        };
        let y = WaveAugmenter::new(&config, 1)
            .expect("augmenter")
            .augment_training(0, 0, &x, 16_000, &[])
            .expect("augment");
        let noise: Vec<f32> = y.iter().zip(&x).map(|(a, b)| a - b).collect();
        let snr = power_db(&x) - power_db(&noise);
        assert!((snr - 12.0).abs() < 0.01, "{snr}");
    }

    #[test]
    fn babble_sources_are_other_training_utterances() {
        let config = AugmentConfig {
            copies: 3,
            babble: Some(BabbleConfig::default()),
            ..AugmentConfig::default()
        };
        let w = WaveAugmenter::new(&config, 9).expect("augmenter");
        let train: Vec<usize> = (10..40).collect();
        for utterance in [10, 25, 39] {
            for copy in 0..3 {
                let picked = w.babble_sources(utterance, copy, &train);
                assert!((3..=6).contains(&picked.len()), "{picked:?}");
                assert!(!picked.contains(&utterance));
                assert!(picked.iter().all(|i| train.contains(i)));
                let mut unique = picked.clone();
                unique.sort_unstable();
                unique.dedup();
                assert_eq!(unique.len(), picked.len(), "distinct");
                assert_eq!(picked, w.babble_sources(utterance, copy, &train), "pure");
            }
        }
        assert_ne!(
            w.babble_sources(10, 0, &train),
            w.babble_sources(10, 1, &train)
        );
        // Not enough candidates: as many as there are; none but itself: none.
        assert_eq!(w.babble_sources(1, 0, &[1, 2]), vec![2]);
        assert!(w.babble_sources(1, 0, &[1]).is_empty());
        // Off, or probability 0: none.
        let off = WaveAugmenter::new(&AugmentConfig::default(), 9).expect("off");
        assert!(off.babble_sources(10, 0, &train).is_empty());
        let never = AugmentConfig {
            babble: Some(BabbleConfig {
                probability: 0.0,
                ..BabbleConfig::default()
            }),
            ..AugmentConfig::default()
        };
        let never = WaveAugmenter::new(&never, 9).expect("never");
        assert!(never.babble_sources(10, 0, &train).is_empty());
    }
}
