//! Seeded, deterministic data augmentation for the **training side** of a split.
//!
//! - Waveform ([`WaveAugmenter`]): time stretch (phase vocoder, as
//!   `librosa.effects.time_stretch`), pitch shift (stretch by `2^(-n/12)` then resample back, as
//!   `librosa.effects.pitch_shift`), time shift (roll or zero-pad), gain in dB, and additive
//!   white noise at a signal-to-noise ratio in dB, applied in that order.
//! - Feature level ([`SpecAugmenter`]): SpecAugment-style time masks and row (frequency) masks
//!   on a row-major `n_rows x n_frames` buffer; apply them after normalisation (masked values
//!   are set to 0, the normalised mean).
//!
//! Every random draw comes from a [`SplitMix64`] stream keyed by (seed, purpose, utterance
//! index, copy or epoch index), so an augmentation is a pure function of those. The entry points
//! take the [`Split`] and refuse utterances that are not on its training side.
//!
//! Everything is off by default ([`AugmentConfig::default`]); [`AugmentConfig::original`] is
//! the Python original's recipe (stretch 0.9 / 1.1, pitch +-2 semitones, noise, 0.1 s shift).

mod stretch;

use serde::{Deserialize, Serialize};

use crate::error::DataError;
use crate::protocol::Split;
use crate::rng::SplitMix64;
pub use stretch::{PhaseVocoder, STRETCH_HOP_LEN, STRETCH_N_FFT};

/// Purpose tag of waveform-augmentation random streams.
const STREAM_WAVE: u64 = 0x5741_5645; // "WAVE"
/// Purpose tag of SpecAugment random streams.
const STREAM_SPEC: u64 = 0x5350_4543; // "SPEC"
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
            spec_augment: None,
        }
    }

    /// True when some waveform augmentation is on and copies are asked for.
    pub fn has_waveform(&self) -> bool {
        self.copies > 0
            && (self.time_stretch.is_some()
                || self.pitch_shift.is_some()
                || self.time_shift.is_some()
                || self.gain.is_some()
                || self.noise.is_some())
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
    /// function of (seed, utterance, copy). Refuses utterances outside `split.train`.
    pub fn augment(
        &self,
        split: &Split,
        utterance: usize,
        copy: usize,
        samples: &[f32],
        sample_rate_hz: u32,
    ) -> Result<Vec<f32>, DataError> {
        if !split.is_train(utterance) {
            return Err(DataError::NotTraining {
                index: utterance,
                fold: split.fold,
            });
        }
        self.augment_training(utterance, copy, samples, sample_rate_hz)
    }

    /// [`WaveAugmenter::augment`] for a caller that has already checked the training side.
    pub(crate) fn augment_training(
        &self,
        utterance: usize,
        copy: usize,
        samples: &[f32],
        sample_rate_hz: u32,
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
        Ok(y)
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
}
