//! Feature configuration, presets and the row layout of the feature matrix.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::FeatureError;
use crate::condition::FrontEndConfig;
use crate::formant::N_FORMANT_ROWS;
use crate::pitch::{C2_HZ, C7_HZ, PyinConfig};
use crate::voice::{N_VOICE_ROWS, VoiceRowsConfig};

/// Number of rows of each Savitzky-Golay delta window (librosa's `delta(width=9)`).
pub const DELTA_WIDTH: usize = 9;

/// Everything that determines the feature matrix of a signal.
///
/// Saved beside every trained model so that prediction extracts exactly what the model saw.
/// The librosa call that each field feeds is named in the field's documentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureConfig {
    /// Analysis sample rate; input audio is resampled to it (`librosa.load(sr=...)`).
    pub sample_rate_hz: u32,
    /// FFT size in samples (`n_fft`), even.
    pub n_fft: usize,
    /// Analysis window length in samples (`win_length`), `<= n_fft`; the periodic Hann window
    /// is zero-padded to `n_fft` at the centre, as `librosa.util.pad_center`.
    pub win_len: usize,
    /// Hop between frames in samples (`hop_length`).
    pub hop_len: usize,
    /// MFCC coefficients kept (`mfcc(n_mfcc=...)`); the delta and delta-delta rows have as many.
    pub n_mfcc: usize,
    /// Mel bands of the log-mel spectrogram the MFCCs are computed from (`mfcc(n_mels=...)`,
    /// librosa's default is 128).
    pub mfcc_n_mels: usize,
    /// Mel bands of the mel-dB rows (`melspectrogram(n_mels=...)`).
    pub n_mels: usize,
    /// Lowest mel filter edge in Hz (`fmin`).
    pub fmin_hz: f64,
    /// Highest mel filter edge in Hz (`fmax`); `None` is the Nyquist frequency.
    pub fmax_hz: Option<f64>,
    /// Frames of the fixed-size output: shorter signals are padded with zeros on the right,
    /// longer ones cropped to their first `n_frames` frames.
    pub n_frames: usize,
    /// The conditioned front end (band limit, level, voice activity) every input goes
    /// through before analysis; `None` analyses the samples as given (the original's
    /// features, and every run made before the front end existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub front_end: Option<FrontEndConfig>,
    /// Opt-in pitch rows (pYIN, see [`PitchRowsConfig`]) after the 174 rows; `None` (every
    /// preset, and every configuration saved before they existed) extracts no pitch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pitch: Option<PitchRowsConfig>,
    /// Opt-in eGeMAPS voice rows ([`VoiceRowsConfig`]: loudness, alpha ratio, Hammarberg
    /// index, two spectral slopes, HNR, jitter, shimmer) after the pitch rows; `None` (every
    /// preset, and every configuration saved before they existed) extracts none. Their
    /// voice-quality rows follow the pYIN track of [`FeatureConfig::pitch`] (or of
    /// [`PitchRowsConfig::for_rate`] when the configuration has no pitch rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<VoiceRowsConfig>,
}

/// Number of pitch rows when [`FeatureConfig::pitch`] is set.
pub const N_PITCH_ROWS: usize = 4;

/// The pitch rows: `librosa.pyin` (see [`crate::Pyin`]) on the feature grid (the
/// configuration's sample rate and `hop_len`, centred frames with zero padding, so frame `t`
/// of the pitch is frame `t` of the other rows), with librosa's defaults for everything but
/// the range and the frame length below.
///
/// The rows, in order (see [`FeatureLayout::pitch`]):
/// 0. log-F0: `12 * log2(f0 / 55 Hz)` semitones where the frame is voiced, 0 where it is
///    unvoiced (no interpolation: with the default C2 floor a voiced value is >= 3, so 0 is
///    never a pitch);
/// 1. the voiced flag (1 voiced, 0 unvoiced);
/// 2. the voiced probability (`voiced_prob`, in [0, 1]);
/// 3. ΔF0: the log-F0 row's change from the previous frame, in semitones, where both frames
///    are voiced, 0 elsewhere (and in the first frame).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PitchRowsConfig {
    /// Lowest f0 in Hz (`fmin`), C2 by default.
    pub fmin_hz: f64,
    /// Highest f0 in Hz (`fmax`), C7 by default (librosa's recommended range).
    pub fmax_hz: f64,
    /// pYIN frame length in samples (`frame_length`), even so that the frames fall on the
    /// feature grid.
    pub frame_length: usize,
}

impl PitchRowsConfig {
    /// The defaults at `sample_rate_hz`: C2..C7 and the largest power of two not above
    /// librosa's default duration (2048 samples at 22 050 Hz, 92.9 ms): 2048 at 22.05 kHz,
    /// 1024 at 16 kHz.
    pub fn for_rate(sample_rate_hz: u32) -> Self {
        let samples = (2048.0 * f64::from(sample_rate_hz) / 22_050.0).round() as usize;
        let frame_length = if samples.is_power_of_two() {
            samples
        } else {
            samples.next_power_of_two() / 2
        };
        Self {
            fmin_hz: C2_HZ,
            fmax_hz: C7_HZ,
            frame_length: frame_length.max(4),
        }
    }

    /// The pYIN parameters on the grid of `features`.
    pub fn pyin_config(&self, features: &FeatureConfig) -> PyinConfig {
        PyinConfig {
            fmin_hz: self.fmin_hz,
            fmax_hz: self.fmax_hz,
            frame_length: self.frame_length,
            hop_length: features.hop_len,
            ..PyinConfig::new(features.sample_rate_hz)
        }
    }
}

/// Chroma bins (`chroma_stft(n_chroma=12)`).
pub const N_CHROMA: usize = 12;

impl FeatureConfig {
    /// Names accepted by [`FeatureConfig::preset`] (besides `default`).
    pub const PRESETS: [&'static str; 3] = ["robust", "seed", "speech16k"];

    /// The original project's parameters: 22 050 Hz, `n_fft` 2048, hop 512, 128 frames
    /// (2.97 s), librosa's defaults everywhere else (128 mel bands behind the MFCCs).
    pub fn seed() -> Self {
        Self {
            sample_rate_hz: 22_050,
            n_fft: 2048,
            win_len: 2048,
            hop_len: 512,
            n_mfcc: 40,
            mfcc_n_mels: 128,
            n_mels: 40,
            fmin_hz: 0.0,
            fmax_hz: None,
            n_frames: 128,
            front_end: None,
            pitch: None,
            voice: None,
        }
    }

    /// The seed grid behind the conditioned front end ([`FrontEndConfig::default`]): every
    /// input band-limited to 8 kHz and brought to -26 dBFS of active speech level before the
    /// seed's analysis, so that the same speech gives the same features whatever its
    /// recording's sample rate and level.
    pub fn robust() -> Self {
        Self {
            front_end: Some(FrontEndConfig::default()),
            ..Self::seed()
        }
    }

    /// A speech-oriented alternative: 16 kHz, 25 ms Hann windows (400 samples) in a
    /// 512-point FFT, 10 ms hops, 64 mel bands behind the MFCCs, 300 frames (3.0 s).
    ///
    /// Why: speech carries its emotional cues (pitch contour, energy, spectral tilt, formants)
    /// below 8 kHz, so 16 kHz loses nothing that matters and is what most corpora and
    /// microphones deliver; 25 ms / 10 ms frames are the standard speech analysis grid and
    /// give 3.2x the time resolution of the seed's 93 ms windows, which smear syllables;
    /// 64 bands suit a 257-bin spectrum (128 bands would leave empty filters).
    /// 300 frames cover 3 s, the bulk of an utterance in RAVDESS (2.9-5.3 s files, with
    /// leading and trailing silence).
    pub fn speech16k() -> Self {
        Self {
            sample_rate_hz: 16_000,
            n_fft: 512,
            win_len: 400,
            hop_len: 160,
            n_mfcc: 40,
            mfcc_n_mels: 64,
            n_mels: 40,
            fmin_hz: 0.0,
            fmax_hz: None,
            n_frames: 300,
            front_end: None,
            pitch: None,
            voice: None,
        }
    }

    /// The project's default preset: [`FeatureConfig::robust`], the seed's grid behind the
    /// conditioned front end. The grid: measured on the 6-fold leave-4-actors-out protocol of
    /// RAVDESS, the seed beat [`FeatureConfig::speech16k`] for every model tried (SVM on
    /// mean+std statistics: UAR 0.486 vs 0.473; random forest 0.453 vs 0.413; the CNN+LSTM
    /// on fold 1: 0.340 vs 0.203), and its 128 frames make deep models 2.3x cheaper than
    /// speech16k's 300. The front end: without it a model answers differently for the same
    /// speech at another sample rate or level (README, "Robustness").
    pub fn project_default() -> Self {
        Self::robust()
    }

    /// A preset by name (one of [`FeatureConfig::PRESETS`]).
    pub fn preset(name: &str) -> Result<Self, FeatureError> {
        match name {
            "default" => Ok(Self::project_default()),
            "robust" => Ok(Self::robust()),
            "seed" => Ok(Self::seed()),
            "speech16k" => Ok(Self::speech16k()),
            _ => Err(FeatureError::UnknownPreset {
                name: name.to_owned(),
                known: Self::PRESETS.join(", "),
            }),
        }
    }

    /// The name of the preset this configuration is, with or without the opt-in rows a
    /// feature set adds ([`FeatureConfig::for_feature_set`]), `None` for a custom one (the
    /// inverse of [`FeatureConfig::preset`] up to those rows; reports label runs with it).
    pub fn preset_name(&self) -> Option<&'static str> {
        Self::PRESETS.into_iter().find(|name| {
            Self::preset(name).is_ok_and(|p| {
                // A preset with the opt-in rows of a feature set is still that preset.
                FeatureSet::ALL
                    .into_iter()
                    .any(|set| p.clone().for_feature_set(set) == *self)
            })
        })
    }

    /// This configuration with pitch rows ([`PitchRowsConfig::for_rate`] at its rate) when it
    /// has none; unchanged otherwise.
    pub fn with_pitch(self) -> Self {
        if self.pitch.is_some() {
            return self;
        }
        let pitch = PitchRowsConfig::for_rate(self.sample_rate_hz);
        Self {
            pitch: Some(pitch),
            ..self
        }
    }

    /// This configuration with voice rows ([`VoiceRowsConfig::for_rate`] at its rate) when it
    /// has none; unchanged otherwise.
    pub fn with_voice(self) -> Self {
        if self.voice.is_some() {
            return self;
        }
        let voice = VoiceRowsConfig::for_rate(self.sample_rate_hz);
        Self {
            voice: Some(voice),
            ..self
        }
    }

    /// This configuration with voice rows that include the formant rows
    /// ([`VoiceRowsConfig::formants`]); the voice rows of [`FeatureConfig::with_voice`] when
    /// it has none.
    pub fn with_formants(self) -> Self {
        let mut cfg = self.with_voice();
        if let Some(voice) = cfg.voice.as_mut() {
            voice.formants = true;
        }
        cfg
    }

    /// The pYIN rows' parameters the voice rows follow: [`FeatureConfig::pitch`], or
    /// [`PitchRowsConfig::for_rate`] without pitch rows.
    pub fn voice_pitch(&self) -> PitchRowsConfig {
        self.pitch
            .clone()
            .unwrap_or_else(|| PitchRowsConfig::for_rate(self.sample_rate_hz))
    }

    /// The configuration a model of `set` needs: [`FeatureConfig::with_pitch`] for the sets
    /// with pitch rows ([`FeatureSet::needs_pitch`]), [`FeatureConfig::with_voice`] for the
    /// sets with voice rows ([`FeatureSet::needs_voice`]), [`FeatureConfig::with_formants`]
    /// for the sets with formant rows, unchanged for the others, so that every run without
    /// them keeps its configuration, caches and features.
    pub fn for_feature_set(self, set: FeatureSet) -> Self {
        let cfg = if set.needs_pitch() {
            self.with_pitch()
        } else {
            self
        };
        if set.needs_formants() {
            cfg.with_formants()
        } else if set.needs_voice() {
            cfg.with_voice()
        } else {
            cfg
        }
    }

    /// Checks that the matrix of this configuration has the rows of `set`.
    pub fn check_feature_set(&self, set: FeatureSet) -> Result<(), FeatureError> {
        if set.needs_pitch() && self.pitch.is_none() {
            return Err(FeatureError::InvalidConfig {
                field: "pitch",
                value: "None".to_owned(),
                reason: "the feature set has pitch rows: use FeatureConfig::for_feature_set",
            });
        }
        if set.needs_voice() && self.voice.is_none() {
            return Err(FeatureError::InvalidConfig {
                field: "voice",
                value: "None".to_owned(),
                reason: "the feature set has voice rows: use FeatureConfig::for_feature_set",
            });
        }
        if set.needs_formants() && !self.voice.as_ref().is_some_and(|v| v.formants) {
            return Err(FeatureError::invalid(
                "voice.formants",
                "false",
                "the feature set has formant rows: use FeatureConfig::for_feature_set",
            ));
        }
        Ok(())
    }

    /// The band edge of the front end, `None` without one.
    pub fn band_hz(&self) -> Option<u32> {
        self.front_end.as_ref().map(|f| f.band_hz)
    }

    /// The upper mel edge actually used (`fmax` or Nyquist).
    pub fn fmax_or_nyquist_hz(&self) -> f64 {
        self.fmax_hz.unwrap_or(f64::from(self.sample_rate_hz) / 2.0)
    }

    /// Rows of the feature matrix and where each block sits.
    pub fn layout(&self) -> FeatureLayout {
        FeatureLayout::new(
            self.n_mfcc,
            self.n_mels,
            self.pitch.is_some(),
            self.voice.is_some(),
            self.voice.as_ref().is_some_and(|v| v.formants),
        )
    }

    /// Number of FFT bins (`1 + n_fft / 2`).
    pub fn n_bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// Frames librosa produces for `n_samples` with centred frames (`1 + n_samples // hop`).
    pub fn frames_for(&self, n_samples: usize) -> usize {
        1 + n_samples / self.hop_len
    }

    /// The fewest samples the extractor accepts: enough for the 9 frames of the delta window
    /// (librosa's `delta(mode="interp")` refuses fewer).
    pub fn min_samples(&self) -> usize {
        (DELTA_WIDTH - 1) * self.hop_len
    }

    /// Checks every field; the extractor calls this before planning.
    pub fn validate(&self) -> Result<(), FeatureError> {
        if !(1000..=768_000).contains(&self.sample_rate_hz) {
            return Err(FeatureError::invalid(
                "sample_rate_hz",
                self.sample_rate_hz,
                "must be in 1000..=768000",
            ));
        }
        if self.n_fft < 16 || !self.n_fft.is_multiple_of(2) || self.n_fft > 1 << 16 {
            return Err(FeatureError::invalid(
                "n_fft",
                self.n_fft,
                "must be even and in 16..=65536",
            ));
        }
        if self.win_len == 0 || self.win_len > self.n_fft {
            return Err(FeatureError::invalid(
                "win_len",
                self.win_len,
                "must be in 1..=n_fft",
            ));
        }
        if self.hop_len == 0 {
            return Err(FeatureError::invalid(
                "hop_len",
                self.hop_len,
                "must be positive",
            ));
        }
        if self.mfcc_n_mels == 0 || self.n_mels == 0 {
            return Err(FeatureError::invalid(
                "n_mels",
                self.n_mels.min(self.mfcc_n_mels),
                "must be positive",
            ));
        }
        if self.n_mfcc == 0 || self.n_mfcc > self.mfcc_n_mels {
            return Err(FeatureError::invalid(
                "n_mfcc",
                self.n_mfcc,
                "must be in 1..=mfcc_n_mels",
            ));
        }
        let nyquist = f64::from(self.sample_rate_hz) / 2.0;
        if !(self.fmin_hz >= 0.0 && self.fmin_hz < nyquist) {
            return Err(FeatureError::invalid(
                "fmin_hz",
                self.fmin_hz,
                "must be in [0, sample_rate_hz / 2)",
            ));
        }
        if let Some(fmax) = self.fmax_hz
            && !(fmax > self.fmin_hz && fmax <= nyquist)
        {
            return Err(FeatureError::invalid(
                "fmax_hz",
                fmax,
                "must be in (fmin_hz, sample_rate_hz / 2]",
            ));
        }
        if self.n_frames == 0 {
            return Err(FeatureError::invalid(
                "n_frames",
                self.n_frames,
                "must be positive",
            ));
        }
        if let Some(front) = &self.front_end {
            front.validate()?;
        }
        if let Some(pitch) = &self.pitch {
            if !pitch.frame_length.is_multiple_of(2) {
                return Err(FeatureError::invalid(
                    "pitch.frame_length",
                    pitch.frame_length,
                    "must be even (centred frames on the feature grid)",
                ));
            }
            pitch.pyin_config(self).validate()?;
        }
        if let Some(voice) = &self.voice {
            voice.validate()?;
            let pitch = self.voice_pitch();
            if !pitch.frame_length.is_multiple_of(2) {
                return Err(FeatureError::invalid(
                    "pitch.frame_length",
                    pitch.frame_length,
                    "must be even (centred frames on the feature grid)",
                ));
            }
            pitch.pyin_config(self).validate()?;
        }
        Ok(())
    }
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self::project_default()
    }
}

/// Where each block of rows sits in the feature matrix, in the original's order:
/// MFCC, delta, delta-delta, mel dB, chroma, zero-crossing rate, RMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureLayout {
    /// MFCC rows.
    pub mfcc: Range<usize>,
    /// First-order delta rows.
    pub delta: Range<usize>,
    /// Second-order delta rows.
    pub delta2: Range<usize>,
    /// Mel-band dB rows.
    pub mel_db: Range<usize>,
    /// Chroma rows.
    pub chroma: Range<usize>,
    /// The zero-crossing-rate row.
    pub zcr: usize,
    /// The RMS row.
    pub rms: usize,
    /// The pitch rows ([`PitchRowsConfig`]: log-F0, voiced flag, voiced probability, ΔF0)
    /// after the RMS row; empty (at `n_rows`) without pitch.
    pub pitch: Range<usize>,
    /// The 8 voice rows ([`VoiceRowsConfig`], eGeMAPS descriptors) after the pitch rows;
    /// empty (at `n_rows`) without them.
    pub voice: Range<usize>,
    /// The 6 formant rows ([`crate::FORMANT_ROW_NAMES`]) after the voice rows; empty (at
    /// `n_rows`) without them.
    pub formants: Range<usize>,
    /// Total rows (174 for 40 MFCC and 40 mel bands, 178 with pitch, 186 with pitch and
    /// voice, 192 with formants too).
    pub n_rows: usize,
}

impl FeatureLayout {
    fn new(n_mfcc: usize, n_mels: usize, pitch: bool, voice: bool, formants: bool) -> Self {
        let mfcc = 0..n_mfcc;
        let delta = mfcc.end..mfcc.end + n_mfcc;
        let delta2 = delta.end..delta.end + n_mfcc;
        let mel_db = delta2.end..delta2.end + n_mels;
        let chroma = mel_db.end..mel_db.end + N_CHROMA;
        let zcr = chroma.end;
        let rms = zcr + 1;
        let pitch = rms + 1..rms + 1 + if pitch { N_PITCH_ROWS } else { 0 };
        let voice = pitch.end..pitch.end + if voice { N_VOICE_ROWS } else { 0 };
        let formants = voice.end
            ..voice.end
                + if voice.is_empty() || !formants {
                    0
                } else {
                    N_FORMANT_ROWS
                };
        Self {
            mfcc,
            delta,
            delta2,
            mel_db,
            chroma,
            zcr,
            rms,
            n_rows: formants.end,
            pitch,
            voice,
            formants,
        }
    }

    /// The row indices of a [`FeatureSet`]. A set with pitch or voice rows on a layout without
    /// them ([`FeatureConfig::check_feature_set`] refuses that) gets only its other rows.
    pub fn rows(&self, set: FeatureSet) -> Vec<usize> {
        let base = 0..self.rms + 1;
        match set {
            FeatureSet::Full => base.collect(),
            FeatureSet::Mfcc => self.mfcc.clone().collect(),
            FeatureSet::MfccDeltas => (self.mfcc.start..self.delta2.end).collect(),
            FeatureSet::MelDb => self.mel_db.clone().collect(),
            FeatureSet::FullPitch => base.chain(self.pitch.clone()).collect(),
            FeatureSet::MfccPitch => self.mfcc.clone().chain(self.pitch.clone()).collect(),
            FeatureSet::Pitch => self.pitch.clone().collect(),
            FeatureSet::FullEgemaps => base
                .chain(self.pitch.clone())
                .chain(self.voice.clone())
                .collect(),
            FeatureSet::Egemaps => self.pitch.clone().chain(self.voice.clone()).collect(),
            FeatureSet::FullEgemapsFormants => base
                .chain(self.pitch.clone())
                .chain(self.voice.clone())
                .chain(self.formants.clone())
                .collect(),
            FeatureSet::EgemapsFormants => self
                .pitch
                .clone()
                .chain(self.voice.clone())
                .chain(self.formants.clone())
                .collect(),
        }
    }
}

/// Which rows of the matrix a model sees: a training option, not part of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum FeatureSet {
    /// The 174 rows of the stack (without the opt-in pitch rows): what the original's
    /// CNN+LSTM used.
    #[default]
    Full,
    /// The MFCC rows only (40): what the original's RNN, LSTM, GRU, CNN and classical models used.
    Mfcc,
    /// MFCC, delta and delta-delta rows (120).
    MfccDeltas,
    /// The mel-dB rows only (40).
    MelDb,
    /// The 174 rows and the 4 pitch rows (178); needs [`FeatureConfig::pitch`].
    FullPitch,
    /// The MFCC rows and the 4 pitch rows (44); needs [`FeatureConfig::pitch`].
    MfccPitch,
    /// The 4 pitch rows only; needs [`FeatureConfig::pitch`].
    Pitch,
    /// The 174 rows, the 4 pitch rows and the 8 eGeMAPS voice rows (186); needs
    /// [`FeatureConfig::pitch`] and [`FeatureConfig::voice`].
    FullEgemaps,
    /// The 4 pitch rows and the 8 eGeMAPS voice rows (12); needs [`FeatureConfig::pitch`]
    /// and [`FeatureConfig::voice`].
    Egemaps,
    /// [`FeatureSet::FullEgemaps`] and the 6 formant rows (192); needs voice rows with
    /// [`VoiceRowsConfig::formants`].
    FullEgemapsFormants,
    /// [`FeatureSet::Egemaps`] and the 6 formant rows (18); needs voice rows with
    /// [`VoiceRowsConfig::formants`].
    EgemapsFormants,
}

impl FeatureSet {
    /// All sets, for help texts.
    pub const ALL: [FeatureSet; 11] = [
        FeatureSet::Full,
        FeatureSet::Mfcc,
        FeatureSet::MfccDeltas,
        FeatureSet::MelDb,
        FeatureSet::FullPitch,
        FeatureSet::MfccPitch,
        FeatureSet::Pitch,
        FeatureSet::FullEgemaps,
        FeatureSet::Egemaps,
        FeatureSet::FullEgemapsFormants,
        FeatureSet::EgemapsFormants,
    ];

    /// The name used on the command line and in saved configs.
    pub fn name(self) -> &'static str {
        match self {
            FeatureSet::Full => "full",
            FeatureSet::Mfcc => "mfcc",
            FeatureSet::MfccDeltas => "mfcc-deltas",
            FeatureSet::MelDb => "mel-db",
            FeatureSet::FullPitch => "full-pitch",
            FeatureSet::MfccPitch => "mfcc-pitch",
            FeatureSet::Pitch => "pitch",
            FeatureSet::FullEgemaps => "full-egemaps",
            FeatureSet::Egemaps => "egemaps",
            FeatureSet::FullEgemapsFormants => "full-egemaps-formants",
            FeatureSet::EgemapsFormants => "egemaps-formants",
        }
    }

    /// Whether the set has pitch rows, which only a configuration with
    /// [`FeatureConfig::pitch`] extracts (see [`FeatureConfig::for_feature_set`]).
    pub fn needs_pitch(self) -> bool {
        matches!(
            self,
            FeatureSet::FullPitch
                | FeatureSet::MfccPitch
                | FeatureSet::Pitch
                | FeatureSet::FullEgemaps
                | FeatureSet::Egemaps
                | FeatureSet::FullEgemapsFormants
                | FeatureSet::EgemapsFormants
        )
    }

    /// Whether the set has voice rows, which only a configuration with
    /// [`FeatureConfig::voice`] extracts (see [`FeatureConfig::for_feature_set`]).
    pub fn needs_voice(self) -> bool {
        matches!(
            self,
            FeatureSet::FullEgemaps
                | FeatureSet::Egemaps
                | FeatureSet::FullEgemapsFormants
                | FeatureSet::EgemapsFormants
        )
    }

    /// Whether the set has formant rows, which only voice rows with
    /// [`VoiceRowsConfig::formants`] extract.
    pub fn needs_formants(self) -> bool {
        matches!(
            self,
            FeatureSet::FullEgemapsFormants | FeatureSet::EgemapsFormants
        )
    }
}

impl std::fmt::Display for FeatureSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for FeatureSet {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FeatureSet::ALL
            .into_iter()
            .find(|set| set.name() == s)
            .ok_or_else(|| {
                let known: Vec<_> = FeatureSet::ALL.iter().map(|s| s.name()).collect();
                format!("unknown feature set {s:?} (known: {})", known.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_have_174_rows() {
        for name in FeatureConfig::PRESETS {
            let cfg = FeatureConfig::preset(name).unwrap();
            cfg.validate().unwrap();
            assert_eq!(cfg.layout().n_rows, 174, "{name}");
        }
    }

    #[test]
    fn layout_blocks_are_contiguous() {
        let l = FeatureConfig::seed().layout();
        assert_eq!(l.mfcc, 0..40);
        assert_eq!(l.delta, 40..80);
        assert_eq!(l.delta2, 80..120);
        assert_eq!(l.mel_db, 120..160);
        assert_eq!(l.chroma, 160..172);
        assert_eq!((l.zcr, l.rms), (172, 173));
        assert_eq!(l.rows(FeatureSet::Mfcc).len(), 40);
        assert_eq!(l.rows(FeatureSet::MfccDeltas).len(), 120);
    }

    #[test]
    fn bad_configs_are_refused() {
        let mut cfg = FeatureConfig::seed();
        cfg.n_fft = 1023;
        assert!(matches!(
            cfg.validate(),
            Err(FeatureError::InvalidConfig { field: "n_fft", .. })
        ));
        let mut cfg = FeatureConfig::seed();
        cfg.win_len = 4096;
        assert!(matches!(
            cfg.validate(),
            Err(FeatureError::InvalidConfig {
                field: "win_len",
                ..
            })
        ));
        let mut cfg = FeatureConfig::seed();
        cfg.fmax_hz = Some(20_000.0);
        assert!(matches!(
            cfg.validate(),
            Err(FeatureError::InvalidConfig {
                field: "fmax_hz",
                ..
            })
        ));
        assert!(matches!(
            FeatureConfig::preset("nope"),
            Err(FeatureError::UnknownPreset { .. })
        ));
    }

    #[test]
    fn preset_names_are_the_inverse_of_presets() {
        for name in FeatureConfig::PRESETS {
            let cfg = FeatureConfig::preset(name).unwrap();
            assert_eq!(cfg.preset_name(), Some(name));
        }
        let custom = FeatureConfig {
            n_frames: 3,
            ..FeatureConfig::seed()
        };
        assert_eq!(custom.preset_name(), None);
        assert_eq!(
            FeatureConfig::project_default().preset_name(),
            Some("robust")
        );
    }

    #[test]
    fn configs_without_a_front_end_keep_their_json() {
        // Runs and caches written before the front end existed read back unchanged.
        let json = serde_json::to_string(&FeatureConfig::seed()).unwrap();
        assert!(!json.contains("front_end"), "{json}");
        let back: FeatureConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, FeatureConfig::seed());
        let robust = serde_json::to_string(&FeatureConfig::robust()).unwrap();
        assert_eq!(
            serde_json::from_str::<FeatureConfig>(&robust).unwrap(),
            FeatureConfig::robust()
        );
    }

    #[test]
    fn pitch_rows_are_opt_in() {
        for name in FeatureConfig::PRESETS {
            let cfg = FeatureConfig::preset(name).unwrap();
            assert_eq!(cfg.pitch, None);
            assert!(!serde_json::to_string(&cfg).unwrap().contains("pitch"));
            for set in [
                FeatureSet::Full,
                FeatureSet::Mfcc,
                FeatureSet::MfccDeltas,
                FeatureSet::MelDb,
            ] {
                assert_eq!(cfg.clone().for_feature_set(set), cfg);
                cfg.check_feature_set(set).unwrap();
            }
            assert!(cfg.check_feature_set(FeatureSet::Pitch).is_err());
            let with = cfg.clone().for_feature_set(FeatureSet::FullPitch);
            with.validate().unwrap();
            with.check_feature_set(FeatureSet::Pitch).unwrap();
            let l = with.layout();
            assert_eq!((l.n_rows, l.pitch.clone()), (178, 174..178));
            assert_eq!(
                l.rows(FeatureSet::Full),
                cfg.layout().rows(FeatureSet::Full)
            );
            assert_eq!(l.rows(FeatureSet::FullPitch).len(), 178);
            assert_eq!(l.rows(FeatureSet::MfccPitch).len(), 44);
            assert_eq!(l.rows(FeatureSet::Pitch), vec![174, 175, 176, 177]);
            // Still the preset, with its opt-in rows.
            assert_eq!(with.preset_name(), Some(name));
            let json = serde_json::to_string(&with).unwrap();
            assert_eq!(serde_json::from_str::<FeatureConfig>(&json).unwrap(), with);
        }
        assert_eq!(PitchRowsConfig::for_rate(22_050).frame_length, 2048);
        assert_eq!(PitchRowsConfig::for_rate(16_000).frame_length, 1024);
        assert_eq!(PitchRowsConfig::for_rate(44_100).frame_length, 4096);
        let mut odd = FeatureConfig::seed().with_pitch();
        odd.pitch.as_mut().unwrap().frame_length = 2047;
        assert!(odd.validate().is_err());
    }

    #[test]
    fn voice_rows_are_opt_in() {
        for name in FeatureConfig::PRESETS {
            let cfg = FeatureConfig::preset(name).unwrap();
            assert_eq!(cfg.voice, None);
            assert!(!serde_json::to_string(&cfg).unwrap().contains("voice"));
            for set in FeatureSet::ALL.into_iter().filter(|s| !s.needs_voice()) {
                assert_eq!(cfg.clone().for_feature_set(set).voice, None, "{set}");
            }
            for set in [FeatureSet::FullEgemaps, FeatureSet::Egemaps] {
                assert!(cfg.check_feature_set(set).is_err());
                let with = cfg.clone().for_feature_set(set);
                with.validate().unwrap();
                with.check_feature_set(set).unwrap();
                assert!(with.pitch.is_some() && with.voice.is_some());
                let l = with.layout();
                assert_eq!(
                    (l.n_rows, l.pitch.clone(), l.voice.clone()),
                    (186, 174..178, 178..186)
                );
                assert_eq!(
                    l.rows(FeatureSet::FullEgemaps),
                    (0..186).collect::<Vec<_>>()
                );
                assert_eq!(l.rows(FeatureSet::Egemaps), (174..186).collect::<Vec<_>>());
                assert_eq!(
                    l.rows(FeatureSet::Full),
                    cfg.layout().rows(FeatureSet::Full)
                );
                assert_eq!(l.rows(FeatureSet::FullPitch).len(), 178);
                let json = serde_json::to_string(&with).unwrap();
                assert_eq!(serde_json::from_str::<FeatureConfig>(&json).unwrap(), with);
            }
            // Voice rows alone (no pitch rows) sit right after the 174.
            let alone = cfg.clone().with_voice();
            alone.validate().unwrap();
            assert_eq!(alone.layout().voice, 174..182);
            // The formant sets add 6 rows after the voice rows; the other sets keep theirs.
            for set in [FeatureSet::FullEgemapsFormants, FeatureSet::EgemapsFormants] {
                assert!(cfg.clone().with_voice().check_feature_set(set).is_err());
                let with = cfg.clone().for_feature_set(set);
                with.check_feature_set(set).unwrap();
                with.check_feature_set(FeatureSet::FullEgemaps).unwrap();
                let l = with.layout();
                assert_eq!(
                    (l.n_rows, l.voice.clone(), l.formants.clone()),
                    (192, 178..186, 186..192)
                );
                assert_eq!(
                    l.rows(FeatureSet::FullEgemapsFormants),
                    (0..192).collect::<Vec<_>>()
                );
                assert_eq!(
                    l.rows(FeatureSet::EgemapsFormants),
                    (174..192).collect::<Vec<_>>()
                );
                assert_eq!(
                    l.rows(FeatureSet::FullEgemaps),
                    (0..186).collect::<Vec<_>>()
                );
            }
        }
        let v = VoiceRowsConfig::for_rate(16_000);
        assert_eq!((v.spectral_frame_length, v.period_frame_length), (320, 960));
        assert!(!v.formants);
        // A configuration saved before formants existed reads as one without them, and the
        // field is written only when set, so saved egemaps runs keep their bytes.
        let json = serde_json::to_string(&FeatureConfig::speech16k().with_voice()).unwrap();
        assert!(!json.contains("formants"), "{json}");
        let old: FeatureConfig = serde_json::from_str(&json).unwrap();
        assert!(!old.voice.as_ref().unwrap().formants);
        let with = FeatureConfig::speech16k().with_formants();
        let back: FeatureConfig =
            serde_json::from_str(&serde_json::to_string(&with).unwrap()).unwrap();
        assert_eq!(back, with);
    }

    #[test]
    fn feature_set_names_round_trip() {
        for set in FeatureSet::ALL {
            assert_eq!(set.name().parse::<FeatureSet>().unwrap(), set);
        }
        assert!("x".parse::<FeatureSet>().is_err());
        for (name, set) in [
            ("full-pitch", FeatureSet::FullPitch),
            ("mfcc-pitch", FeatureSet::MfccPitch),
            ("pitch", FeatureSet::Pitch),
            ("full-egemaps", FeatureSet::FullEgemaps),
            ("egemaps", FeatureSet::Egemaps),
            ("full-egemaps-formants", FeatureSet::FullEgemapsFormants),
            ("egemaps-formants", FeatureSet::EgemapsFormants),
        ] {
            assert_eq!(name.parse::<FeatureSet>().unwrap(), set);
            assert_eq!(serde_json::to_string(&set).unwrap(), format!("\"{name}\""));
        }
    }
}
