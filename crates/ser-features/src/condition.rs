//! The conditioned front end's level stage and its voice-activity detector.
//!
//! A model trained on one corpus sees that corpus's recording level; a user's recording has
//! another. MFCCs use `power_to_db(ref=1.0)` and RMS is absolute, so a gain moves the
//! features, and with them the prediction. The conditioned front end removes that degree of
//! freedom: each utterance (or analysis window) is scaled so that its **active speech level**
//! (the mean power of the frames that carry speech) equals a reference level,
//! [`DEFAULT_LEVEL_DBFS`] unless configured otherwise. The band limit of the same front end
//! is applied before resampling, in `ser-audio` (this crate never resamples); its edge is
//! stored here, [`FrontEndConfig::band_hz`], so that one configuration describes the whole
//! front end of a run.
//!
//! # Voice activity ([`Vad`])
//!
//! An energy rule, written here rather than taken from a crate, because the level stage needs
//! a detector that is **exactly gain-invariant**: every threshold is relative to the span's
//! own frame energies, so multiplying the input by any gain multiplies every frame power by
//! the same factor, moves every dB value by the same amount and leaves every decision as it
//! was. (A neural detector such as `earshot`'s decides on raw sample values and would move
//! the measured level with the gain.) The rule, on 25 ms frames every 10 ms, frame power
//! `P = mean(x^2)`, `E = 10 log10(P)`:
//!
//! * a frame is **active** when `E >= floor_dbfs` (an absolute floor under any real
//!   recording: digital silence and dither), `E >= max(E) - dynamic_range_db` (within the
//!   span's dynamic range), and `E >= percentile(E, noise_percentile) + noise_margin_db`
//!   (clearly above the span's own noise floor);
//! * a span **holds speech** when at least `min_speech_ms` of its frames are active.
//!
//! The noise-floor test is what makes it a speech detector rather than a level gate: speech
//! rises and falls with its syllables (about 4 Hz) by 20-40 dB, so its loud frames stand far
//! above its quietest tenth, while stationary sounds (a hum, a fan, a pure tone, steady noise)
//! keep every frame within a few dB of their 10th percentile and have no active frame at
//! all. The same measure is known from the "speech voltmeter" of ITU-T P.56 (active speech
//! level, thresholded envelope), simplified here to frames.
//!
//! # Level ([`level_gain`])
//!
//! The active level of a span is `10 log10(mean P)` over its active frames; when no frame is
//! active (a tone, steady noise), over the frames above `floor_dbfs`, so that a stationary
//! input is still brought to the reference level (and still gain-invariant); when none is
//! above the floor, the span is left as it is. The gain is `10^((reference - level) / 20)`.
//! For an input `g * x` every frame power is `g^2` times that of `x`, so the conditioned
//! signal is the same to within float rounding (about 1e-7 relative): a prediction does not
//! depend on the recording's level.

use serde::{Deserialize, Serialize};

use crate::FeatureError;

/// The reference active speech level, in dB relative to full scale: -26 dBov, the nominal
/// active speech level of ITU-T P.56 / P.800 test material, leaving 26 dB of headroom.
pub const DEFAULT_LEVEL_DBFS: f64 = -26.0;

/// The default band edge: 8 kHz, the band of wideband speech at 16 kHz, which nearly every
/// corpus and microphone reaches (RAVDESS's 16 kHz copy has nothing above it, its 48 kHz
/// release has).
pub const DEFAULT_BAND_HZ: u32 = 8_000;

/// Everything the conditioned front end does before feature extraction. Stored in
/// [`crate::FeatureConfig::front_end`], so in every run and in every cache key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontEndConfig {
    /// Upper edge of the band every input is limited to before analysis, in Hz: a recording
    /// whose Nyquist frequency lies above it is first resampled to `2 * band_hz` (by
    /// `ser-audio`), so a 48 kHz recording and its 16 kHz copy reach the analysis with the
    /// same content. The training audio's band is what a run should use.
    pub band_hz: u32,
    /// The active speech level every utterance or window is scaled to, in dBFS; `None` keeps
    /// the recording's level.
    pub level_dbfs: Option<f64>,
    /// The voice-activity detector used by the level measure, the timeline and streams.
    #[serde(default)]
    pub vad: VadConfig,
}

impl Default for FrontEndConfig {
    /// Band 8 kHz, level -26 dBFS, the default detector.
    fn default() -> Self {
        FrontEndConfig {
            band_hz: DEFAULT_BAND_HZ,
            level_dbfs: Some(DEFAULT_LEVEL_DBFS),
            vad: VadConfig::default(),
        }
    }
}

impl FrontEndConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), FeatureError> {
        let bad = |field: &'static str, value: String, reason: &'static str| {
            Err(FeatureError::InvalidConfig {
                field,
                value,
                reason,
            })
        };
        if !(500..=192_000).contains(&self.band_hz) {
            return bad(
                "front_end.band_hz",
                self.band_hz.to_string(),
                "must be in 500..=192000",
            );
        }
        if let Some(level) = self.level_dbfs
            && !(level.is_finite() && (-80.0..=0.0).contains(&level))
        {
            return bad(
                "front_end.level_dbfs",
                level.to_string(),
                "must be in -80..=0",
            );
        }
        self.vad.validate()
    }
}

/// Settings of the voice-activity detector (see the module documentation for the rule).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VadConfig {
    /// Frame length in milliseconds.
    pub frame_ms: f64,
    /// Hop between frames in milliseconds.
    pub hop_ms: f64,
    /// Frames below this level (dBFS) are never active.
    pub floor_dbfs: f64,
    /// Frames more than this many dB below the span's loudest frame are not active.
    pub dynamic_range_db: f64,
    /// Which quantile of the frame levels estimates the noise floor (0..1).
    pub noise_percentile: f64,
    /// Active frames stand at least this many dB above the noise floor.
    pub noise_margin_db: f64,
    /// A span holds speech when at least this many milliseconds of its frames are active.
    pub min_speech_ms: f64,
}

impl Default for VadConfig {
    /// 25 ms frames every 10 ms; floor -100 dBFS; 50 dB dynamic range; active frames 9 dB
    /// above the 10th percentile; 100 ms of activity makes speech.
    fn default() -> Self {
        VadConfig {
            frame_ms: 25.0,
            hop_ms: 10.0,
            floor_dbfs: -100.0,
            dynamic_range_db: 50.0,
            noise_percentile: 0.1,
            noise_margin_db: 9.0,
            min_speech_ms: 100.0,
        }
    }
}

impl VadConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), FeatureError> {
        let check = |field: &'static str, value: f64, ok: bool, reason: &'static str| {
            if ok && value.is_finite() {
                Ok(())
            } else {
                Err(FeatureError::InvalidConfig {
                    field,
                    value: value.to_string(),
                    reason,
                })
            }
        };
        check(
            "vad.frame_ms",
            self.frame_ms,
            (1.0..=200.0).contains(&self.frame_ms),
            "must be in 1..=200",
        )?;
        check(
            "vad.hop_ms",
            self.hop_ms,
            self.hop_ms >= 1.0 && self.hop_ms <= self.frame_ms,
            "must be in 1..=frame_ms",
        )?;
        check(
            "vad.floor_dbfs",
            self.floor_dbfs,
            self.floor_dbfs <= 0.0,
            "must be at most 0",
        )?;
        check(
            "vad.dynamic_range_db",
            self.dynamic_range_db,
            self.dynamic_range_db > 0.0,
            "must be positive",
        )?;
        check(
            "vad.noise_percentile",
            self.noise_percentile,
            (0.0..1.0).contains(&self.noise_percentile),
            "must be in [0, 1)",
        )?;
        check(
            "vad.noise_margin_db",
            self.noise_margin_db,
            self.noise_margin_db >= 0.0,
            "must be at least 0",
        )?;
        check(
            "vad.min_speech_ms",
            self.min_speech_ms,
            self.min_speech_ms >= 0.0,
            "must be at least 0",
        )
    }
}

/// The frame-level decisions of the detector over one span.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    /// Level of each frame in dBFS (`10 log10(mean(x^2))`, at least -200).
    pub frame_dbfs: Vec<f64>,
    /// Whether each frame is active.
    pub active: Vec<bool>,
    /// Frames needed for the span to hold speech.
    min_active: usize,
    /// The absolute floor of the configuration.
    floor_dbfs: f64,
}

impl Activity {
    /// Number of active frames.
    pub fn n_active(&self) -> usize {
        self.active.iter().filter(|&&a| a).count()
    }

    /// Whether the span holds speech (at least `min_speech_ms` of active frames).
    pub fn has_speech(&self) -> bool {
        let n = self.n_active();
        n > 0 && n >= self.min_active
    }

    /// The active speech level in dBFS: the mean power of the active frames, else of the
    /// frames above the floor; `None` when every frame is below the floor.
    pub fn active_level_dbfs(&self) -> Option<f64> {
        let mean_db = |keep: &dyn Fn(usize) -> bool| {
            let (sum, n) = self
                .frame_dbfs
                .iter()
                .enumerate()
                .filter(|&(i, _)| keep(i))
                .fold((0.0_f64, 0_usize), |(s, n), (_, &db)| {
                    (s + 10f64.powf(db / 10.0), n + 1)
                });
            (n > 0).then(|| 10.0 * (sum / n as f64).log10())
        };
        mean_db(&|i| self.active[i]).or_else(|| mean_db(&|i| self.frame_dbfs[i] >= self.floor_dbfs))
    }
}

/// The planned detector for one sample rate.
#[derive(Debug, Clone)]
pub struct Vad {
    config: VadConfig,
    frame_len: usize,
    hop: usize,
    /// Scratch copy of the frame levels for the percentile.
    scratch: Vec<f64>,
}

impl Vad {
    /// Plans the detector for audio at `sample_rate_hz`.
    pub fn new(config: &VadConfig, sample_rate_hz: u32) -> Result<Vad, FeatureError> {
        config.validate()?;
        let samples = |ms: f64| ((ms / 1000.0 * f64::from(sample_rate_hz)).round() as usize).max(1);
        Ok(Vad {
            config: config.clone(),
            frame_len: samples(config.frame_ms),
            hop: samples(config.hop_ms),
            scratch: Vec::new(),
        })
    }

    /// Frame length in samples.
    pub fn frame_len(&self) -> usize {
        self.frame_len
    }

    /// Hop in samples.
    pub fn hop(&self) -> usize {
        self.hop
    }

    /// The frame decisions for `samples`: frames start every `hop` samples and are
    /// `frame_len` long, the last one ending at or before the end (a span shorter than a
    /// frame is one frame).
    pub fn analyse(&mut self, samples: &[f32]) -> Activity {
        let n = samples.len();
        let n_frames = if n <= self.frame_len {
            usize::from(n > 0)
        } else {
            1 + (n - self.frame_len) / self.hop
        };
        let frame_dbfs: Vec<f64> = (0..n_frames)
            .map(|k| {
                let start = k * self.hop;
                let frame = &samples[start..(start + self.frame_len).min(n)];
                let power = frame
                    .iter()
                    .map(|&x| f64::from(x) * f64::from(x))
                    .sum::<f64>()
                    / frame.len() as f64;
                10.0 * power.max(1e-20).log10()
            })
            .collect();
        let loudest = frame_dbfs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let noise = self.quantile(&frame_dbfs, self.config.noise_percentile);
        let c = &self.config;
        let active = frame_dbfs
            .iter()
            .map(|&db| {
                db >= c.floor_dbfs
                    && db >= loudest - c.dynamic_range_db
                    && db >= noise + c.noise_margin_db
            })
            .collect();
        let min_active = (c.min_speech_ms / c.hop_ms).ceil() as usize;
        Activity {
            frame_dbfs,
            active,
            min_active,
            floor_dbfs: c.floor_dbfs,
        }
    }

    /// Whether `samples` hold speech.
    pub fn has_speech(&mut self, samples: &[f32]) -> bool {
        self.analyse(samples).has_speech()
    }

    /// The `q` quantile of `values` (the lower of the two neighbours, by selection).
    fn quantile(&mut self, values: &[f64], q: f64) -> f64 {
        if values.is_empty() {
            return f64::NEG_INFINITY;
        }
        self.scratch.clear();
        self.scratch.extend_from_slice(values);
        let k = ((values.len() - 1) as f64 * q).floor() as usize;
        let (_, v, _) = self.scratch.select_nth_unstable_by(k, f64::total_cmp);
        *v
    }
}

/// The gain that brings `samples` to `reference_dbfs` of active speech level (1 when no
/// frame is above the detector's floor).
pub fn level_gain(vad: &mut Vad, samples: &[f32], reference_dbfs: f64) -> f32 {
    match vad.analyse(samples).active_level_dbfs() {
        Some(level) => 10f64.powf((reference_dbfs - level) / 20.0) as f32,
        None => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: u32 = 16_000;

    /// A speech-like signal: a 150 Hz pulse-rich tone whose amplitude rises and falls at
    /// 4 Hz (syllables), with short pauses.
    fn speech_like(seconds: f64, amplitude: f32) -> Vec<f32> {
        let n = (seconds * f64::from(RATE)) as usize;
        (0..n)
            .map(|i| {
                let t = i as f32 / RATE as f32;
                let syllable = (std::f32::consts::PI * 4.0 * t).sin().abs().powi(3);
                let voice = (2.0 * std::f32::consts::PI * 150.0 * t).sin()
                    + 0.5 * (2.0 * std::f32::consts::PI * 300.0 * t).sin();
                amplitude * syllable * voice
            })
            .collect()
    }

    fn noise(n: usize, amplitude: f32, mut state: u64) -> Vec<f32> {
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 2.0 * amplitude
            })
            .collect()
    }

    fn vad() -> Vad {
        Vad::new(&VadConfig::default(), RATE).expect("vad")
    }

    #[test]
    fn speech_is_found_and_steady_sounds_are_not() {
        let mut v = vad();
        assert!(v.has_speech(&speech_like(2.0, 0.3)));
        assert!(
            v.has_speech(&speech_like(2.0, 0.001)),
            "quiet speech is speech"
        );
        // Steady noise at any level, a pure tone and digital silence are not speech.
        for amplitude in [1e-4, 0.01, 0.5] {
            assert!(
                !v.has_speech(&noise(32_000, amplitude, 7)),
                "noise {amplitude}"
            );
        }
        let tone: Vec<f32> = (0..32_000).map(|i| 0.3 * (i as f32 * 0.2).sin()).collect();
        assert!(!v.has_speech(&tone));
        assert!(!v.has_speech(&vec![0.0; 32_000]));
        assert!(!v.has_speech(&[]));
        // Speech in noise at about 10 dB SNR is still found.
        let s = speech_like(2.0, 0.3);
        let n = noise(s.len(), 0.05, 3);
        let mixed: Vec<f32> = s.iter().zip(&n).map(|(a, b)| a + b).collect();
        assert!(v.has_speech(&mixed));
        // A click in silence is too short to be speech.
        let mut click = vec![0.0f32; 32_000];
        click[16_000..16_100].fill(0.5);
        assert!(!v.has_speech(&click));
    }

    #[test]
    fn decisions_and_gain_do_not_depend_on_level() {
        let mut v = vad();
        let s = speech_like(3.0, 0.1);
        let n = noise(s.len(), 0.002, 11);
        let x: Vec<f32> = s.iter().zip(&n).map(|(a, b)| a + b).collect();
        let reference = v.analyse(&x);
        let g0 = level_gain(&mut v, &x, DEFAULT_LEVEL_DBFS);
        for gain_db in [-30.0_f32, -12.0, 6.0, 20.0] {
            let g = 10f32.powf(gain_db / 20.0);
            let y: Vec<f32> = x.iter().map(|v| v * g).collect();
            assert_eq!(v.analyse(&y).active, reference.active, "{gain_db} dB");
            let gy = level_gain(&mut v, &y, DEFAULT_LEVEL_DBFS);
            // Conditioned signals agree to float rounding.
            let rel = ((gy * g) / g0 - 1.0).abs();
            assert!(rel < 1e-5, "{gain_db} dB: {rel}");
        }
    }

    #[test]
    fn level_is_brought_to_the_reference() {
        let mut v = vad();
        let x = speech_like(2.0, 0.02);
        let g = level_gain(&mut v, &x, -20.0);
        let y: Vec<f32> = x.iter().map(|s| s * g).collect();
        let level = v.analyse(&y).active_level_dbfs().expect("level");
        assert!((level + 20.0).abs() < 1e-6, "{level}");
        // A steady tone is levelled too; silence is left alone.
        let tone: Vec<f32> = (0..16_000).map(|i| 0.5 * (i as f32 * 0.2).sin()).collect();
        let g = level_gain(&mut v, &tone, -26.0);
        let expected = 10f32.powf((-26.0 - 10.0 * 0.125f32.log10()) / 20.0);
        assert!((g / expected - 1.0).abs() < 1e-3, "{g} vs {expected}");
        assert_eq!(level_gain(&mut v, &vec![0.0; 1000], -26.0), 1.0);
    }

    #[test]
    fn configs_validate_and_round_trip() {
        let c = FrontEndConfig::default();
        c.validate().expect("default is valid");
        let json = serde_json::to_string(&c).expect("json");
        assert_eq!(
            serde_json::from_str::<FrontEndConfig>(&json).expect("back"),
            c
        );
        let bad = FrontEndConfig {
            band_hz: 100,
            ..FrontEndConfig::default()
        };
        assert!(bad.validate().is_err());
        let bad = FrontEndConfig {
            level_dbfs: Some(3.0),
            ..FrontEndConfig::default()
        };
        assert!(bad.validate().is_err());
        let bad = VadConfig {
            hop_ms: 50.0,
            ..VadConfig::default()
        };
        assert!(bad.validate().is_err());
        assert!(
            serde_json::from_str::<FrontEndConfig>(r#"{"band_hz": 8000, "level": 1}"#).is_err()
        );
    }
}
