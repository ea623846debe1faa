//! The planned extractor that produces the whole feature stack.

use crate::chroma::Chroma;
use crate::condition::{Vad, level_gain};
use crate::config::{DELTA_WIDTH, FeatureConfig, N_CHROMA};
use crate::delta::SavGol;
use crate::frame::{rms, zero_crossing_rate};
use crate::mel::{DctII, MelFilterbank, power_to_db_in_place};
use crate::pitch::Pyin;
use crate::stft::StftPlan;
use crate::voice::VoiceAnalyzer;
use crate::{FeatureError, FeatureMatrix};

/// MFCC and mel dB are floored 80 dB below their maximum (`power_to_db(top_db=80)`).
const TOP_DB: f32 = 80.0;

/// Extracts the feature stack of mono signals at the configured rate.
///
/// Plan once (FFT, window, filter banks, DCT and delta weights), then call
/// [`FeatureExtractor::extract`] for each signal; internal buffers are reused between calls.
/// Clone it to get one per thread.
///
/// # Shapes
/// Input: `n_samples` mono samples at `config.sample_rate_hz`, `n_samples >= config.min_samples()`.
/// Output: `n_rows x n_frames` (174 x `config.n_frames` with the presets), rows in the order of
/// [`crate::FeatureLayout`]: 40 MFCC, 40 delta, 40 delta-delta, 40 mel dB, 12 chroma, ZCR, RMS,
/// then, when the configuration has [`FeatureConfig::pitch`], the 4 pitch rows
/// ([`crate::PitchRowsConfig`]), and when it has [`FeatureConfig::voice`], the 8 eGeMAPS voice
/// rows ([`crate::VoiceRowsConfig`]), then the 6 formant rows when they are switched on.
#[derive(Debug, Clone)]
pub struct FeatureExtractor {
    config: FeatureConfig,
    stft: StftPlan,
    mfcc_mel: MelFilterbank,
    mel: MelFilterbank,
    dct: DctII,
    delta1: SavGol,
    delta2: SavGol,
    chroma: Chroma,
    power: Vec<f32>,
    log_mel: Vec<f32>,
    scratch: Vec<f32>,
    delta_buf: Vec<f32>,
    /// The level stage of the conditioned front end: its detector and reference level.
    level: Option<(Vad, f64)>,
    /// The levelled copy of the input.
    levelled: Vec<f32>,
    /// The pYIN estimator of the opt-in pitch rows (and of the voice rows' f0).
    pitch: Option<Pyin>,
    /// The analyser of the opt-in voice rows.
    voice: Option<VoiceAnalyzer>,
}

impl FeatureExtractor {
    /// Validates the configuration and plans every stage.
    pub fn new(config: &FeatureConfig) -> Result<Self, FeatureError> {
        config.validate()?;
        let fmax = config.fmax_or_nyquist_hz();
        let sr = config.sample_rate_hz;
        let level = match &config.front_end {
            Some(front) => front
                .level_dbfs
                .map(|reference| Vad::new(&front.vad, sr).map(|vad| (vad, reference)))
                .transpose()?,
            None => None,
        };
        let pitch = if config.pitch.is_some() || config.voice.is_some() {
            Some(Pyin::new(&config.voice_pitch().pyin_config(config))?)
        } else {
            None
        };
        let voice = match &config.voice {
            Some(v) => Some(VoiceAnalyzer::new(v, sr, config.hop_len)?),
            None => None,
        };
        Ok(Self {
            level,
            levelled: Vec::new(),
            pitch,
            voice,
            stft: StftPlan::new(config.n_fft, config.win_len, config.hop_len),
            mfcc_mel: MelFilterbank::new(
                sr,
                config.n_fft,
                config.mfcc_n_mels,
                config.fmin_hz,
                fmax,
            ),
            mel: MelFilterbank::new(sr, config.n_fft, config.n_mels, config.fmin_hz, fmax),
            dct: DctII::new(config.mfcc_n_mels, config.n_mfcc),
            delta1: SavGol::new(DELTA_WIDTH, 1),
            delta2: SavGol::new(DELTA_WIDTH, 2),
            chroma: Chroma::new(sr, config.n_fft),
            config: config.clone(),
            power: Vec::new(),
            log_mel: Vec::new(),
            scratch: Vec::new(),
            delta_buf: Vec::new(),
        })
    }

    /// The configuration this extractor was planned for.
    pub fn config(&self) -> &FeatureConfig {
        &self.config
    }

    /// The fixed-size feature matrix (`n_rows x config.n_frames`): all frames, then padded with
    /// zeros on the right or cropped to the first `n_frames`.
    ///
    /// Equal bit for bit to `extract_all_frames(samples)?.fit_frames(config.n_frames)`, but a
    /// long signal is cheaper: the stages that need every frame (the STFT, the mel spectra
    /// and their decibels, whose maxima set the `top_db` floors and the dB reference, and
    /// the tuning estimate) see the whole signal; the per-frame rest (DCT, deltas, chroma
    /// filters, ZCR, RMS) runs only on the frames kept, plus the deltas' context.
    pub fn extract(&mut self, samples: &[f32]) -> Result<FeatureMatrix, FeatureError> {
        let n_frames = self.config.n_frames;
        Ok(self
            .extract_frames(samples, Some(n_frames))?
            .fit_frames(n_frames))
    }

    /// The feature matrix with every frame of the signal (`n_rows x (1 + n_samples / hop_len)`),
    /// before padding or cropping: what librosa returns.
    pub fn extract_all_frames(&mut self, samples: &[f32]) -> Result<FeatureMatrix, FeatureError> {
        self.extract_frames(samples, None)
    }

    /// The first `keep` frames of the feature matrix (all frames when `None`, or when the
    /// signal has fewer), after the level stage of the front end when the configuration has
    /// one: the signal is scaled so that the part the kept frames analyse (`keep * hop_len`
    /// samples, or all) has the reference active speech level (see [`crate::level_gain`]).
    fn extract_frames(
        &mut self,
        samples: &[f32],
        keep: Option<usize>,
    ) -> Result<FeatureMatrix, FeatureError> {
        // Checked once, before measuring: a non-finite sample is reported where it is (a
        // levelled copy has the same length and stays finite).
        self.check_input(samples)?;
        let hop = self.config.hop_len;
        let Some((vad, reference)) = self.level.as_mut() else {
            return self.extract_frames_raw(samples, keep);
        };
        let span = keep.map_or(samples.len(), |k| k.saturating_mul(hop).min(samples.len()));
        let gain = level_gain(vad, &samples[..span], *reference);
        let mut levelled = std::mem::take(&mut self.levelled);
        levelled.clear();
        levelled.extend(samples.iter().map(|&x| x * gain));
        let out = self.extract_frames_raw(&levelled, keep);
        self.levelled = levelled;
        out
    }

    /// [`FeatureExtractor::extract_frames`] without the level stage, for samples that passed
    /// [`FeatureExtractor::check_input`].
    fn extract_frames_raw(
        &mut self,
        samples: &[f32],
        keep: Option<usize>,
    ) -> Result<FeatureMatrix, FeatureError> {
        let cfg = &self.config;
        let layout = cfg.layout();
        let n_all = cfg.frames_for(samples.len());
        let n_frames = keep.map_or(n_all, |k| k.min(n_all));
        // Frames of MFCC the deltas of the kept frames read: each delta of an interior frame
        // reads DELTA_WIDTH / 2 frames on either side, and the edge fits read the first (and
        // last) DELTA_WIDTH frames; the deltas of frames past n_frames are computed and dropped.
        let n_mfcc_frames = if n_frames == n_all {
            n_all
        } else {
            (n_frames + DELTA_WIDTH / 2).max(DELTA_WIDTH).min(n_all)
        };
        let n_bins = cfg.n_bins();
        let mut m = FeatureMatrix::zeros(layout.n_rows, n_frames);

        self.stft.power(samples, &mut self.power);

        // MFCC: DCT-II of the log-mel spectrogram (ref 1.0, floored 80 dB below its maximum).
        let n_mm = cfg.mfcc_n_mels;
        self.log_mel.resize(n_all * n_mm, 0.0);
        self.mfcc_mel
            .apply_frames(&self.power, n_bins, &mut self.log_mel);
        power_to_db_in_place(&mut self.log_mel, 1.0, TOP_DB);
        self.scratch.resize(cfg.n_mfcc * n_mfcc_frames, 0.0);
        self.dct
            .apply_frames_transposed(&self.log_mel[..n_mfcc_frames * n_mm], &mut self.scratch);

        // MFCC rows, and the deltas of each along time.
        self.delta_buf.resize(n_mfcc_frames, 0.0);
        for (k, mfcc_row) in self.scratch.chunks_exact(n_mfcc_frames).enumerate() {
            m.data[(layout.mfcc.start + k) * n_frames..][..n_frames]
                .copy_from_slice(&mfcc_row[..n_frames]);
            for (delta, row) in [
                (&self.delta1, layout.delta.start + k),
                (&self.delta2, layout.delta2.start + k),
            ] {
                delta.apply(mfcc_row, &mut self.delta_buf);
                m.data[row * n_frames..][..n_frames].copy_from_slice(&self.delta_buf[..n_frames]);
            }
        }

        // Mel bands in dB relative to the loudest bin of the whole signal (ref=np.max), floored
        // 80 dB below the loudest value of the whole signal.
        let n_mels = cfg.n_mels;
        self.log_mel.resize(n_all * n_mels, 0.0);
        self.mel
            .apply_frames(&self.power, n_bins, &mut self.log_mel);
        let max = crate::mel::max_f32(&self.log_mel);
        power_to_db_in_place(&mut self.log_mel, max, TOP_DB);
        transpose_into(
            &self.log_mel[..n_frames * n_mels],
            n_mels,
            &mut m.data[layout.mel_db.start * n_frames..],
        );

        // Chroma with the tuning estimated from the whole signal.
        self.scratch.resize(n_frames * N_CHROMA, 0.0);
        self.chroma.compute(&self.power, &mut self.scratch);
        transpose_into(
            &self.scratch,
            N_CHROMA,
            &mut m.data[layout.chroma.start * n_frames..],
        );

        zero_crossing_rate(
            samples,
            cfg.n_fft,
            cfg.hop_len,
            &mut m.data[layout.zcr * n_frames..][..n_frames],
        );
        rms(
            samples,
            cfg.n_fft,
            cfg.hop_len,
            &mut m.data[layout.rms * n_frames..][..n_frames],
        );

        if let Some(pyin) = self.pitch.as_mut() {
            // The Viterbi path of a frame depends on every later frame, so pYIN always sees
            // the whole signal; the kept frames are then its first n_frames.
            let track = pyin.track(samples)?;
            debug_assert_eq!(track.len(), n_all);
            if !layout.pitch.is_empty() {
                write_pitch_rows(
                    &track,
                    &mut m.data[layout.pitch.start * n_frames..][..layout.pitch.len() * n_frames],
                    n_frames,
                );
            }
            if let Some(voice) = self.voice.as_mut() {
                // Unvoiced frames carry NaN, which the voice rows read as unvoiced.
                voice.write_rows(
                    samples,
                    &track.f0_hz,
                    n_frames,
                    &mut m.data[layout.voice.start * n_frames..]
                        [..(layout.voice.len() + layout.formants.len()) * n_frames],
                );
            }
        }
        Ok(m)
    }

    fn check_input(&self, samples: &[f32]) -> Result<(), FeatureError> {
        if samples.is_empty() {
            return Err(FeatureError::Empty);
        }
        // Blocks without an early exit inside, so that the scan compiles to SIMD compares.
        const BLOCK: usize = 256;
        let first_bad = samples.chunks(BLOCK).enumerate().find_map(|(b, block)| {
            if block.iter().fold(false, |bad, v| bad | !v.is_finite()) {
                block
                    .iter()
                    .position(|v| !v.is_finite())
                    .map(|i| b * BLOCK + i)
            } else {
                None
            }
        });
        if let Some(index) = first_bad {
            return Err(FeatureError::NonFinite {
                index,
                value: samples[index],
            });
        }
        let min_samples = self.config.min_samples();
        if samples.len() < min_samples {
            let sr = self.config.sample_rate_hz;
            return Err(FeatureError::TooShort {
                n_samples: samples.len(),
                min_samples,
                min_frames: DELTA_WIDTH,
                sample_rate_hz: sr,
                duration_ms: samples.len() as f64 * 1000.0 / f64::from(sr),
            });
        }
        Ok(())
    }
}

/// The pitch rows of [`crate::PitchRowsConfig`] (log-F0 in semitones re 55 Hz or 0, voiced
/// flag, voiced probability, ΔF0 between voiced frames) of the first `n_frames` frames of
/// `track` into `dst` (4 rows of `n_frames`).
fn write_pitch_rows(track: &crate::PitchTrack, dst: &mut [f32], n_frames: usize) {
    let (semitones, rest) = dst.split_at_mut(n_frames);
    let (voiced, rest) = rest.split_at_mut(n_frames);
    let (prob, delta) = rest.split_at_mut(n_frames);
    for t in 0..n_frames {
        let is_voiced = track.voiced[t];
        semitones[t] = if is_voiced {
            (12.0 * (f64::from(track.f0_hz[t]) / 55.0).log2()) as f32
        } else {
            0.0
        };
        voiced[t] = if is_voiced { 1.0 } else { 0.0 };
        prob[t] = track.voiced_prob[t];
        delta[t] = if t > 0 && is_voiced && track.voiced[t - 1] {
            semitones[t] - semitones[t - 1]
        } else {
            0.0
        };
    }
}

/// Writes a frame-major `n_frames x n_rows` block into row-major rows of `dst`
/// (`dst` starts at the first destination row; its rows are `n_frames` long).
fn transpose_into(src: &[f32], n_rows: usize, dst: &mut [f32]) {
    let n_frames = src.len() / n_rows;
    for (t, frame) in src.chunks_exact(n_rows).enumerate() {
        for (r, &v) in frame.iter().enumerate() {
            dst[r * n_frames + t] = v;
        }
    }
}
