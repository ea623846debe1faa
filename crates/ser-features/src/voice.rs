//! eGeMAPS v02 low-level descriptors of spectral balance and voice quality, per frame.
//!
//! References: F. Eyben et al., "The Geneva Minimalistic Acoustic Parameter Set (GeMAPS) for
//! Voice Research and Affective Computing", IEEE Trans. Affective Computing 7(2), 2016 (the
//! parameter set), and openSMILE 3 (audeering), whose `eGeMAPSv02` configuration
//! (`config/egemaps/v02/eGeMAPSv02_core.lld.conf.inc`, which includes
//! `config/gemaps/v01b/GeMAPSv01b_core.lld.conf.inc`) defines each descriptor as a chain of
//! components; each function here names the component (`cSpectral`, `cMelspec` + `cPlp`,
//! `cHarmonics`, `cPitchJitter`) and the expressions of its source (`src/lldcore/spectral.cpp`,
//! `src/lld/harmonics.cpp`, `src/lld/pitchJitter.cpp`) it follows.
//!
//! Two analysis frames, as eGeMAPS: a 20 ms Hamming frame (`gemapsv01b_frame25`, whose
//! `frameSize` is 0.020 despite the name) for the spectral rows, and a 60 ms frame
//! (`gemapsv01b_frame60`) for the voice-quality rows, Gaussian-windowed (`sigma = 0.4`) for the
//! HNR, raw for jitter and shimmer. Both FFTs are zero-padded to the next power of two
//! (`cTransformFFT`). Here every frame is *centred* on the feature grid (frame `t` on sample
//! `t * hop`, zeros outside the signal), so that frame `t` is frame `t` of the other rows;
//! openSMILE's frame `i` starts at sample `i * hop` (`frameCenterSpecial = left`), which is
//! this grid's frame `i + (frame length / 2) / hop` (the tests align the two that way).
//!
//! The rows ([`VoiceRowsConfig`], in order):
//! 0. loudness (`Loudness`): 26 mel bands (20-8000 Hz) of the power spectrum, each weighted by
//!    the equal-loudness curve and compressed by the power 0.33 (`cPlp`, `doAud = 1`), summed
//!    (`cVectorOperation`, `ll1`), with openSMILE's scale measured rather than derived
//!    (`LOUDNESS_SCALE`);
//! 1. alpha ratio in dB (`alphaRatio`): `10 log10(E[1-5 kHz] / E[0-1 kHz])`;
//! 2. Hammarberg index in dB (`hammarbergIndex`): `10 log10(max P[0-2 kHz] / max P[2-5 kHz])`;
//! 3. spectral slope 0-500 Hz (`slope0-500`) and
//! 4. 500-1500 Hz (`slope500-1500`): the least-squares slope of the power spectrum in dB
//!    against frequency in Hz (dB/Hz);
//! 5. HNR in dB (`HNRdBACF`): `10 log10(r(T0) / (r(0) - r(T0)))` of the autocorrelation `r`
//!    at the peak nearest the f0 period;
//! 6. jitter (local, `jitterLocal`): mean `|T_i - T_{i-1}|` over mean `T_i` of consecutive
//!    periods found by waveform matching, as a fraction;
//! 7. shimmer (local, in dB, `shimmerLocaldB`): `20 log10(1 + s)` with `s` the mean absolute
//!    difference of consecutive periods' peak-to-peak amplitudes over their mean.
//!
//! Rows 5-7 need a pitch: the pYIN track of [`crate::Pyin`] (librosa's, not openSMILE's
//! subharmonic-summation pitch), and are 0 where the frame is unvoiced, as openSMILE's (whose
//! `_sma3nz` rows are 0 where its pitch is 0). openSMILE's LLD output is smoothed by a 3-frame
//! moving average (`cContourSmoother`, `smaWin = 3`); these rows are the unsmoothed
//! descriptors (the utterance statistics of `ser-classic` pool them).

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use serde::{Deserialize, Serialize};

use crate::FeatureError;
use crate::formant::{FormantEstimator, Formants, N_FORMANT_ROWS};

/// Number of voice rows when [`crate::FeatureConfig::voice`] is set.
pub const N_VOICE_ROWS: usize = 8;

/// Names of the voice rows, openSMILE's eGeMAPS LLD names without the `_sma3` suffix.
pub const VOICE_ROW_NAMES: [&str; N_VOICE_ROWS] = [
    "Loudness",
    "alphaRatio",
    "hammarbergIndex",
    "slope0-500",
    "slope500-1500",
    "HNRdBACF",
    "jitterLocal",
    "shimmerLocaldB",
];

/// The loudness sum is divided by this: openSMILE's loudness of the same frames is this much
/// smaller (a constant factor, 25.99 with a 10-90 % spread of +-0.03 over the 481 speech and
/// noise frames of `tests/golden/egemaps.json` at 16 kHz; a power scale of 1 / 19 373 before
/// the 0.33 compression, whose origin in openSMILE's FFT magnitude scaling is not identified,
/// so at other rates the loudness may differ from openSMILE's by another constant factor).
const LOUDNESS_SCALE: f64 = 25.99;

/// `cSpectral`'s power floor below which the log spectrum takes [`LOG_SPEC_FLOOR_DB`].
const SPEC_FLOOR: f64 = 1e-10;
/// The log spectrum's value at and below [`SPEC_FLOOR`] (`10 log10(1e-10)`).
const LOG_SPEC_FLOOR_DB: f64 = -100.0;

/// The voice rows: eGeMAPS v02 spectral-balance and voice-quality descriptors on the feature
/// grid (see the module documentation of `voice.rs` for the definitions and references).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoiceRowsConfig {
    /// Length in samples of the Hamming frame of the spectral rows (eGeMAPS: 20 ms).
    pub spectral_frame_length: usize,
    /// Length in samples of the frame of the HNR, jitter and shimmer rows (eGeMAPS: 60 ms).
    pub period_frame_length: usize,
    /// The formant rows ([`crate::FormantEstimator`]: F1-F3 and their bandwidths, 0 where
    /// unvoiced) after the 8 rows (the `*-egemaps-formants` feature sets). Written only when
    /// set, so configurations saved before formants existed read and write unchanged.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub formants: bool,
}

impl VoiceRowsConfig {
    /// eGeMAPS' frames at `sample_rate_hz`: 20 ms and 60 ms, rounded to samples.
    pub fn for_rate(sample_rate_hz: u32) -> Self {
        let ms = |m: f64| ((m * f64::from(sample_rate_hz) / 1000.0).round() as usize).max(4);
        Self {
            spectral_frame_length: ms(20.0),
            period_frame_length: ms(60.0),
            formants: false,
        }
    }

    /// Checks the frame lengths.
    pub fn validate(&self) -> Result<(), FeatureError> {
        for (field, v) in [
            ("voice.spectral_frame_length", self.spectral_frame_length),
            ("voice.period_frame_length", self.period_frame_length),
        ] {
            if !(8..=1 << 16).contains(&v) {
                return Err(FeatureError::InvalidConfig {
                    field,
                    value: v.to_string(),
                    reason: "must be in 8..=65536 samples",
                });
            }
        }
        Ok(())
    }
}

/// The per-frame descriptors of one frame (see [`VOICE_ROW_NAMES`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct VoiceFrame {
    /// Loudness (openSMILE's auditory-spectrum sum, arbitrary units).
    pub loudness: f64,
    /// Alpha ratio, dB.
    pub alpha_ratio_db: f64,
    /// Hammarberg index, dB.
    pub hammarberg_db: f64,
    /// Spectral slope 0-500 Hz, dB/Hz.
    pub slope_0_500: f64,
    /// Spectral slope 500-1500 Hz, dB/Hz.
    pub slope_500_1500: f64,
    /// Harmonics-to-noise ratio from the autocorrelation, dB (0 unvoiced).
    pub hnr_db: f64,
    /// Local jitter, fraction (0 unvoiced).
    pub jitter_local: f64,
    /// Local shimmer, dB (0 unvoiced).
    pub shimmer_local_db: f64,
    /// F1-F3 `(frequency, bandwidth)` in Hz (0 unvoiced or without formant rows).
    pub formants: Formants,
}

impl VoiceFrame {
    /// The formant rows' values in row order (F1, its bandwidth, F2, ...).
    pub fn formant_array(&self) -> [f64; N_FORMANT_ROWS] {
        let [(f1, b1), (f2, b2), (f3, b3)] = self.formants;
        [f1, b1, f2, b2, f3, b3]
    }

    /// The values of the 8 rows without formants, in row order.
    pub fn to_array(&self) -> [f64; N_VOICE_ROWS] {
        [
            self.loudness,
            self.alpha_ratio_db,
            self.hammarberg_db,
            self.slope_0_500,
            self.slope_500_1500,
            self.hnr_db,
            self.jitter_local,
            self.shimmer_local_db,
        ]
    }
}

/// A planned analyser of the voice rows: FFTs, windows and the loudness filter bank built
/// once, buffers reused. Clone it to get one per thread.
///
/// # Shapes
/// Input: mono samples at `sample_rate_hz` and one f0 per frame (Hz, NaN or `<= 0` where
/// unvoiced), frame `t` centred on sample `t * hop`. Output: [`N_VOICE_ROWS`] rows of
/// `n_frames` (row-major).
#[derive(Clone)]
pub struct VoiceAnalyzer {
    sample_rate_hz: f64,
    hop: usize,
    spec_len: usize,
    spec_nfft: usize,
    per_len: usize,
    per_nfft: usize,
    hamming: Vec<f64>,
    gauss: Vec<f64>,
    fft_spec: Arc<dyn RealToComplex<f64>>,
    fft_per: Arc<dyn RealToComplex<f64>>,
    ifft_per: Arc<dyn ComplexToReal<f64>>,
    /// The formant rows' estimator, on the spectral frame's power spectrum.
    formants: Option<FormantEstimator>,
    /// Loudness bands: (first bin, weights of the bins from it, equal-loudness weight).
    bands: Vec<(usize, Vec<f64>, f64)>,
    frame: Vec<f64>,
    raw: Vec<f64>,
    spectrum: Vec<Complex<f64>>,
    power: Vec<f64>,
    log_power: Vec<f64>,
    acf: Vec<f64>,
    cc: Vec<f64>,
    scratch: Vec<Complex<f64>>,
}

impl std::fmt::Debug for VoiceAnalyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoiceAnalyzer")
            .field("sample_rate_hz", &self.sample_rate_hz)
            .field("hop", &self.hop)
            .field("spec_len", &self.spec_len)
            .field("per_len", &self.per_len)
            .finish()
    }
}

/// `1127 ln(1 + f / 700)`, the mel scale of openSMILE's `cMelspec` (`specScale = mel`).
fn hz_to_mel(f: f64) -> f64 {
    1127.0 * (1.0 + f / 700.0).ln()
}

fn mel_to_hz(m: f64) -> f64 {
    700.0 * ((m / 1127.0).exp() - 1.0)
}

/// The equal-loudness weight of PLP at `f` Hz: openSMILE's `smileDsp_equalLoudnessWeight`
/// (`cPlp` with `doAud = 1`, `htkcompatible = 0`), H. Hermansky, "Perceptual linear
/// predictive (PLP) analysis of speech", JASA 87(4), 1990, eq. 4 with an extra high-frequency
/// term, scaled by openSMILE to a maximum near 1: with `w = 2 pi f`,
/// `1e32 (w² + 56.8e6) w⁴ / ((w² + 6.3e6)² (w² + 0.38e9) (w⁷ + 1.7e31))`.
fn equal_loudness(f: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * f;
    let w2 = w * w;
    let c = w2 + 6.3e6;
    1e32 * ((w2 + 56.8e6) * w2 * w2) / (c * c * (w2 + 0.38e9) * (w2 * w2 * w2 * w + 1.7e31))
}

impl VoiceAnalyzer {
    /// Plans the analyser at `sample_rate_hz` with frames centred every `hop` samples.
    pub fn new(
        config: &VoiceRowsConfig,
        sample_rate_hz: u32,
        hop: usize,
    ) -> Result<Self, FeatureError> {
        config.validate()?;
        if hop == 0 {
            return Err(FeatureError::InvalidConfig {
                field: "hop_len",
                value: "0".to_owned(),
                reason: "must be positive",
            });
        }
        let sr = f64::from(sample_rate_hz);
        let spec_len = config.spectral_frame_length;
        let per_len = config.period_frame_length;
        let spec_nfft = spec_len.next_power_of_two();
        let per_nfft = per_len.next_power_of_two();
        let mut planner = RealFftPlanner::<f64>::new();
        // openSMILE's Hamming (`winFunc = hamming`): 0.54 - 0.46 cos(2 pi i / (N - 1)).
        let hamming = (0..spec_len)
            .map(|i| {
                0.54 - 0.46
                    * (2.0 * std::f64::consts::PI * i as f64 / (spec_len as f64 - 1.0)).cos()
            })
            .collect();
        // openSMILE's Gaussian window (`winFunc = gauss`, `sigma = 0.4`):
        // exp(-0.5 ((i - (N-1)/2) / (sigma (N-1)/2))^2).
        let half = (per_len as f64 - 1.0) / 2.0;
        let gauss = (0..per_len)
            .map(|i| (-0.5 * ((i as f64 - half) / (0.4 * half)).powi(2)).exp())
            .collect();
        // Loudness bands: `cMelspec` with nBands 26, lofreq 20, hifreq 8000 (clipped to
        // Nyquist), triangular filters on the power spectrum, centres equally spaced in mel.
        let n_bins = spec_nfft / 2 + 1;
        let df = sr / spec_nfft as f64;
        let hi = 8000.0_f64.min(sr / 2.0);
        let (m_lo, m_hi) = (hz_to_mel(20.0), hz_to_mel(hi));
        let edges: Vec<f64> = (0..28)
            .map(|k| mel_to_hz(m_lo + (m_hi - m_lo) * k as f64 / 27.0))
            .collect();
        let bands = (0..26)
            .map(|b| {
                let (l, c, r) = (edges[b], edges[b + 1], edges[b + 2]);
                let first = ((l / df).ceil() as usize).min(n_bins - 1);
                let last = ((r / df).floor() as usize).min(n_bins - 1);
                let weights = (first..=last)
                    .map(|k| {
                        let f = k as f64 * df;
                        if f <= c {
                            ((f - l) / (c - l)).max(0.0)
                        } else {
                            ((r - f) / (r - c)).max(0.0)
                        }
                    })
                    .collect();
                (first, weights, equal_loudness(c))
            })
            .collect();
        Ok(Self {
            sample_rate_hz: sr,
            hop,
            spec_len,
            spec_nfft,
            per_len,
            per_nfft,
            hamming,
            gauss,
            fft_spec: planner.plan_fft_forward(spec_nfft),
            fft_per: planner.plan_fft_forward(per_nfft),
            ifft_per: planner.plan_fft_inverse(per_nfft),
            formants: if config.formants {
                Some(FormantEstimator::new(sample_rate_hz, spec_nfft)?)
            } else {
                None
            },
            bands,
            frame: Vec::new(),
            raw: Vec::new(),
            spectrum: Vec::new(),
            power: Vec::new(),
            log_power: Vec::new(),
            acf: Vec::new(),
            cc: Vec::new(),
            scratch: Vec::new(),
        })
    }

    /// Frames of a signal of `n_samples` (centred frames: `1 + n_samples / hop`).
    pub fn frames_for(&self, n_samples: usize) -> usize {
        1 + n_samples / self.hop
    }

    /// Number of rows: [`N_VOICE_ROWS`], and [`N_FORMANT_ROWS`] more with formants.
    pub fn n_rows(&self) -> usize {
        N_VOICE_ROWS
            + if self.formants.is_some() {
                N_FORMANT_ROWS
            } else {
                0
            }
    }

    /// The rows of the first `n_frames` frames into `dst` ([`Self::n_rows`] rows of
    /// `n_frames`); `f0_hz[t]` is the pitch of frame `t` (NaN or `<= 0` unvoiced; frames past
    /// its end are unvoiced).
    pub fn write_rows(&mut self, samples: &[f32], f0_hz: &[f32], n_frames: usize, dst: &mut [f32]) {
        assert_eq!(dst.len(), self.n_rows() * n_frames, "voice rows buffer");
        let with_formants = self.formants.is_some();
        for t in 0..n_frames {
            let f0 = f0_hz.get(t).copied().map_or(0.0, f64::from);
            let v = self.frame(samples, t * self.hop, f0);
            let formants = with_formants.then(|| v.formant_array());
            let values = v
                .to_array()
                .into_iter()
                .chain(formants.into_iter().flatten());
            for (r, value) in values.enumerate() {
                dst[r * n_frames + t] = value as f32;
            }
        }
    }

    /// The descriptors of the frames centred on sample `centre`, with pitch `f0_hz` (NaN or
    /// `<= 0`: unvoiced, rows 5-7 and the formants are 0).
    pub fn frame(&mut self, samples: &[f32], centre: usize, f0_hz: f64) -> VoiceFrame {
        let mut v = VoiceFrame::default();
        self.spectral(samples, centre, &mut v);
        if f0_hz.is_finite() && f0_hz > 0.0 {
            // eGeMAPS' formants are `_sma3nz`: kept where the frame is voiced.
            if let Some(est) = &mut self.formants {
                v.formants = est.estimate(&self.power);
            }
            v.hnr_db = self.hnr_db(samples, centre, f0_hz);
            let (jitter, shimmer) = self.jitter_shimmer(samples, centre, f0_hz);
            v.jitter_local = jitter;
            v.shimmer_local_db = shimmer;
        }
        v
    }

    /// `samples[centre - len/2 ..][..len]` with zeros outside the signal, into `dst`.
    fn centred(samples: &[f32], centre: usize, len: usize, dst: &mut Vec<f64>) {
        dst.clear();
        let start = centre as isize - (len / 2) as isize;
        dst.extend((0..len).map(|i| {
            let j = start + i as isize;
            if j >= 0 && (j as usize) < samples.len() {
                f64::from(samples[j as usize])
            } else {
                0.0
            }
        }));
    }

    /// Power spectrum of the windowed frame in `self.frame` (zero-padded to `nfft`) into
    /// `self.power`.
    fn power_spectrum(&mut self, periodic: bool) {
        let (fft, nfft) = if periodic {
            (&self.fft_per, self.per_nfft)
        } else {
            (&self.fft_spec, self.spec_nfft)
        };
        self.frame.resize(nfft, 0.0);
        self.spectrum.resize(nfft / 2 + 1, Complex::default());
        self.scratch
            .resize(fft.get_scratch_len(), Complex::default());
        fft.process_with_scratch(&mut self.frame, &mut self.spectrum, &mut self.scratch)
            .expect("fft sizes are planned");
        self.power.clear();
        self.power
            .extend(self.spectrum.iter().map(|c| c.norm_sqr()));
    }

    /// Rows 0-4 from the 20 ms Hamming frame.
    fn spectral(&mut self, samples: &[f32], centre: usize, v: &mut VoiceFrame) {
        Self::centred(samples, centre, self.spec_len, &mut self.frame);
        for (x, w) in self.frame.iter_mut().zip(&self.hamming) {
            *x *= w;
        }
        self.power_spectrum(false);
        let df = self.sample_rate_hz / self.spec_nfft as f64;
        let p = &self.power;

        // Loudness: cMelspec (usePower = 1) -> cPlp (doAud = 1: equal-loudness weight,
        // intensity-loudness power law with compression = 0.33) -> cVectorOperation ll1 (sum).
        v.loudness = self
            .bands
            .iter()
            .map(|(first, weights, eql)| {
                let e: f64 = weights.iter().zip(&p[*first..]).map(|(w, x)| w * x).sum();
                (eql * e).powf(0.33)
            })
            .sum::<f64>()
            / LOUDNESS_SCALE;

        // cSpectral alphaRatio: sum01 over bins below 1000 Hz (from 0 Hz), sum15 over bins
        // from 1000 Hz up to 5000 Hz; 10 log10(sum15 / sum01) (useLogSpectrum = 1).
        let (mut sum01, mut sum15) = (0.0, 0.0);
        let (mut max02, mut max25) = (0.0_f64, 0.0_f64);
        for (k, &x) in p.iter().enumerate() {
            let f = k as f64 * df;
            if f > 5000.0 {
                break;
            }
            if f < 1000.0 {
                sum01 += x;
            } else {
                sum15 += x;
            }
            // cSpectral hammarbergIndex: maxima below 2000 Hz and from 2000 to 5000 Hz.
            if f < 2000.0 {
                max02 = max02.max(x);
            } else {
                max25 = max25.max(x);
            }
        }
        v.alpha_ratio_db = if sum01 > 0.0 {
            10.0 * sum15.max(SPEC_FLOOR).log10() - 10.0 * sum01.log10()
        } else {
            0.0
        };
        v.hammarberg_db = if max25 > 0.0 {
            10.0 * max02.max(SPEC_FLOOR).log10() - 10.0 * max25.log10()
        } else {
            0.0
        };

        // cSpectral slopes on the log (dB) power spectrum.
        self.log_power.clear();
        self.log_power.extend(p.iter().map(|&x| {
            if x <= SPEC_FLOOR {
                LOG_SPEC_FLOOR_DB
            } else {
                10.0 * x.log10()
            }
        }));
        v.slope_0_500 = band_slope(&self.log_power, df, 0.0, 500.0);
        v.slope_500_1500 = band_slope(&self.log_power, df, 500.0, 1500.0);
    }

    /// Row 5: cHarmonics `computeAcfHnrLogdB` on the Gaussian-windowed 60 ms frame.
    fn hnr_db(&mut self, samples: &[f32], centre: usize, f0_hz: f64) -> f64 {
        Self::centred(samples, centre, self.per_len, &mut self.frame);
        for (x, w) in self.frame.iter_mut().zip(&self.gauss) {
            *x *= w;
        }
        self.power_spectrum(true);
        // computeAcf: inverse FFT of the power spectrum, |.|, the first nBins lags.
        let n_bins = self.per_nfft / 2 + 1;
        for (c, &p) in self.spectrum.iter_mut().zip(&self.power) {
            *c = Complex::new(p, 0.0);
        }
        self.acf.resize(self.per_nfft, 0.0);
        self.scratch
            .resize(self.ifft_per.get_scratch_len(), Complex::default());
        self.ifft_per
            .process_with_scratch(&mut self.spectrum, &mut self.acf, &mut self.scratch)
            .expect("fft sizes are planned");
        self.acf.truncate(n_bins);
        for a in &mut self.acf {
            *a = a.abs();
        }
        // freqToAcfBinLin: floor(fs / F0); getClosestPeak from there.
        let lag = (self.sample_rate_hz / f0_hz).floor() as usize;
        if lag == 0 || lag >= n_bins {
            return 0.0;
        }
        let t0 = closest_peak(&self.acf, lag);
        if t0 == 0 {
            return 0.0;
        }
        // computeAcfHnr_dB: 10 log10(a[T0] / (a[0] - a[T0])), clipped as openSMILE.
        let (a0, at) = (self.acf[0], self.acf[t0]);
        let d = a0 - at;
        let hnr = if d == 0.0 { 10e10 } else { at / d };
        if hnr > 10e10 {
            10.0 * 10e10_f64.log10()
        } else if hnr < 10e-10 {
            10.0 * 10e-10_f64.log10()
        } else {
            10.0 * hnr.log10()
        }
    }

    /// Rows 6 and 7: cPitchJitter (`searchRangeRel = 0.1`, `minCC = 0.5`, peak-to-peak
    /// amplitudes) within the raw 60 ms frame.
    ///
    /// Consecutive periods are found by waveform matching: from the start of the frame, the
    /// lag `L` in `[0.9 T0, 1.1 T0]` at the highest interior peak of the normalised cross-
    /// correlation of `x[s..s+L]` and `x[s+L..s+2L]` is the next period (refined by a parabola
    /// through the correlation), `s += L`; a period is kept when its correlation exceeds 0.5.
    /// Jitter: mean `|T_i - T_{i-1}|` over kept consecutive periods divided by their mean
    /// period; shimmer: `20 log10(1 + mean |A_a - A_b| / mean (A_a + A_b) / 2)` of the
    /// peak-to-peak amplitudes of each matched pair. openSMILE carries the last period from
    /// frame to frame and reads past the frame; here each frame stands alone.
    fn jitter_shimmer(&mut self, samples: &[f32], centre: usize, f0_hz: f64) -> (f64, f64) {
        Self::centred(samples, centre, self.per_len, &mut self.raw);
        let x = &self.raw;
        let tf = self.sample_rate_hz / f0_hz;
        let t0f = tf.round() as usize;
        let tmin = (0.9 * tf).floor() as usize;
        let tmax = (1.1 * tf).ceil() as usize;
        if tmin < 2 || tmax - tmin < 3 {
            return (0.0, 0.0);
        }
        self.cc.resize(tmax - tmin + 1, 0.0);
        let (mut start, mut last_t) = (0usize, 0.0);
        let (mut jit, mut n_local, mut sum_t, mut n_t) = (0.0, 0.0, 0.0, 0.0);
        let (mut amp, mut amp_diff) = (0.0, 0.0);
        while start + 2 * tmax + 1 < x.len() {
            for (i, lag) in (tmin..=tmax).enumerate() {
                self.cc[i] = cross_corr(&x[start..start + lag], &x[start + lag..start + 2 * lag]);
            }
            let cc = &self.cc;
            let mut best: Option<usize> = None;
            for i in 1..cc.len() - 2 {
                if cc[i - 1] < cc[i] && cc[i] > cc[i + 1] && best.is_none_or(|b| cc[i] > cc[b]) {
                    best = Some(i);
                }
            }
            let Some(i) = best else {
                start += t0f;
                continue;
            };
            let pp = tmin + i;
            let (offset, cc_peak) = parabola(cc[i - 1], cc[i], cc[i + 1]);
            let a0 = peak_to_peak(&x[start..start + pp]);
            let a1 = peak_to_peak(&x[start + pp..start + 2 * pp]);
            start += pp;
            if cc_peak > 0.5 {
                let period = (pp as f64 + offset) / self.sample_rate_hz;
                sum_t += period;
                n_t += 1.0;
                if last_t > 0.0 {
                    jit += (last_t - period).abs();
                    n_local += 1.0;
                }
                last_t = period;
                amp += (a0 + a1) / 2.0;
                amp_diff += (a0 - a1).abs();
            }
        }
        let jitter = if n_t > 0.0 && n_local > 0.0 {
            (jit / n_local / (sum_t / n_t)).min(1.0)
        } else {
            0.0
        };
        let shimmer = if n_t > 0.0 && amp > 0.0 {
            20.0 * (1.0 + (amp_diff / amp).min(1.0)).log10()
        } else {
            0.0
        };
        (jitter, shimmer)
    }
}

/// cSpectral's slope of `y` (dB) against frequency over `[lo, hi]` Hz, with its fractional
/// edge weights (the branch with a frequency axis, `frq[i] = i * df`): the first bin
/// `iL = (first bin above lo) - 1` weighted by how far it lies into the band, the last bin
/// `iR` likewise, the bins between with weight 1, and `Nind = iR - iL` as the count
/// (`(Nind Σ f y - Σ f Σ y) / (Nind Σ f² - (Σ f)²)`, dB/Hz).
fn band_slope(y: &[f64], df: f64, lo: f64, hi: f64) -> f64 {
    let n = y.len();
    let f = |i: usize| i as f64 * df;
    // Left edge.
    let ii = (0..n).find(|&i| f(i) > lo).unwrap_or(n);
    let mut wl = if ii < n && ii > 0 {
        (f(ii) - lo) / df
    } else {
        1.0
    };
    let il = ii.saturating_sub(1).min(n - 1);
    // Right edge.
    let ii = (0..n).find(|&i| f(i) >= hi).unwrap_or(n);
    let mut wr = if ii < n && ii > 0 {
        (hi - f(ii - 1)) / df
    } else {
        1.0
    };
    let ir = if ii < n && f(ii) == hi {
        ii
    } else {
        ii.saturating_sub(1)
    }
    .min(n - 1);
    if wl == 0.0 {
        wl = 1.0;
    }
    if wr == 0.0 {
        wr = 1.0;
    }
    let mut sf = f(il) * wl;
    let mut s2f = sf * sf;
    let mut sum_a = f(il) * wl * y[il];
    let mut sum_b = wl * y[il];
    for (i, &yi) in y.iter().enumerate().take(ir).skip(il + 1) {
        s2f += f(i) * f(i);
        sf += f(i);
        sum_a += f(i) * yi;
        sum_b += yi;
    }
    let fr = f(ir) * wr;
    s2f += fr * fr;
    sf += fr;
    sum_a += fr * y[ir];
    sum_b += wr * y[ir];
    let nind = ir as f64 - il as f64;
    let deno = nind * s2f - sf * sf;
    if deno != 0.0 {
        (nind * sum_a - sf * sum_b) / deno
    } else {
        0.0
    }
}

/// cHarmonics `getClosestPeak`: the local maximum of `x` nearest `idx` (searching left
/// first at each distance), or an end of `x`.
fn closest_peak(x: &[f64], idx: usize) -> usize {
    let n = x.len();
    let is_peak = |i: usize| -> bool {
        if i + 1 < n {
            if i > 0 {
                x[i] > x[i - 1] && x[i] > x[i + 1]
            } else {
                x[0] > x[1]
            }
        } else {
            i > 0 && x[i] > x[i - 1]
        }
    };
    if is_peak(idx) {
        return idx;
    }
    let mut o = 1;
    while idx > o || idx + o < n - 1 {
        if idx > o && is_peak(idx - o) {
            return idx - o;
        }
        if idx + o < n - 1 && is_peak(idx + o) {
            return idx + o;
        }
        o += 1;
    }
    idx
}

/// cPitchJitter `crossCorr`: the Pearson correlation of `a` and `b` (equal lengths).
fn cross_corr(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len()) as f64;
    let ma = a.iter().sum::<f64>() / n;
    let mb = b.iter().sum::<f64>() / n;
    let (mut c, mut na, mut nb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        c += dx * dy;
        na += dx * dx;
        nb += dy * dy;
    }
    let d = na.sqrt() * nb.sqrt();
    if d > 0.0 { c / d } else { 0.0 }
}

/// The vertex of the parabola through `(-1, a), (0, b), (1, c)`: (offset, value)
/// (openSMILE `smileMath_quadFrom3pts`).
fn parabola(a: f64, b: f64, c: f64) -> (f64, f64) {
    let den = a - 2.0 * b + c;
    if den == 0.0 {
        return (0.0, b);
    }
    let off = 0.5 * (a - c) / den;
    (off, b - 0.25 * (a - c) * off)
}

/// cPitchJitter `amplitudeDiff`'s amplitude: max - min of `x[1..len-1]`.
fn peak_to_peak(x: &[f64]) -> f64 {
    let inner = &x[1.min(x.len())..x.len().saturating_sub(1).max(1)];
    let (lo, hi) = inner
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if hi >= lo { hi - lo } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SR: u32 = 16_000;

    fn analyzer() -> VoiceAnalyzer {
        VoiceAnalyzer::new(&VoiceRowsConfig::for_rate(SR), SR, 160).unwrap()
    }

    /// A pulse-like glottal source: `n_harm` harmonics of each period, periods of lengths
    /// `periods` (samples, fractional) and amplitudes `amps`.
    fn pulse_train(periods: &[f64], amps: &[f64], n_harm: usize) -> Vec<f32> {
        let total: f64 = periods.iter().sum();
        let mut out = vec![0.0f32; total.ceil() as usize + 1];
        let mut t0 = 0.0_f64;
        for (&p, &a) in periods.iter().zip(amps) {
            let (s, e) = (
                t0.ceil() as usize,
                ((t0 + p).ceil() as usize).min(out.len()),
            );
            for (i, o) in out.iter_mut().enumerate().take(e).skip(s) {
                let phase = (i as f64 - t0) / p;
                let v: f64 = (1..=n_harm)
                    .map(|h| (2.0 * std::f64::consts::PI * h as f64 * phase).sin() / h as f64)
                    .sum();
                *o = (a * v * 0.2) as f32;
            }
            t0 += p;
        }
        out
    }

    fn noise(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5) as f32
            })
            .collect()
    }

    #[test]
    fn jitter_and_shimmer_come_back() {
        // Periods stepping by 2 samples along a triangle 96..104 (f0 about 160 Hz):
        // |dT| = 2, mean T = 100 -> jitter 2 %. Amplitudes stepping by 0.05 along a
        // triangle 0.9..1.1: |dA| / mean A = 0.05 -> 20 log10(1.05) = 0.42 dB.
        let n = 200;
        let tri = |i: usize| [0.0, 1.0, 2.0, 3.0, 4.0, 3.0, 2.0, 1.0][i % 8];
        let periods: Vec<f64> = (0..n).map(|i| 96.0 + 2.0 * tri(i)).collect();
        let amps: Vec<f64> = (0..n).map(|i| 0.9 + 0.05 * tri(i)).collect();
        let y = pulse_train(&periods, &amps, 8);
        let mut a = analyzer();
        let mut jit = Vec::new();
        let mut shim = Vec::new();
        for t in 40..80 {
            let v = a.frame(&y, t * 160, 160.0);
            jit.push(v.jitter_local);
            shim.push(v.shimmer_local_db);
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let (j, s) = (mean(&jit), mean(&shim));
        assert!((j - 0.02).abs() < 0.004, "jitter {j}");
        let expect = 20.0 * 1.05f64.log10();
        assert!((s - expect).abs() < 0.12, "shimmer {s} vs {expect}");
        // A perfectly periodic train: no jitter, no shimmer, high HNR.
        let steady = pulse_train(&vec![100.0; n], &vec![1.0; n], 8);
        let v = a.frame(&steady, 8000, 160.0);
        assert!(v.jitter_local < 1e-3, "jitter {}", v.jitter_local);
        assert!(v.shimmer_local_db < 0.05, "shimmer {}", v.shimmer_local_db);
        // Unvoiced: the voice-quality rows are 0.
        let v = a.frame(&steady, 8000, f64::NAN);
        assert_eq!(
            (v.hnr_db, v.jitter_local, v.shimmer_local_db),
            (0.0, 0.0, 0.0)
        );
    }

    #[test]
    fn hnr_separates_harmonic_from_noise() {
        let n = 200;
        let harmonic = pulse_train(&vec![100.0; n], &vec![1.0; n], 8);
        let mut a = analyzer();
        let h = a.frame(&harmonic, 8000, 160.0).hnr_db;
        let w = noise(20_000, 7);
        let nz = a.frame(&w, 8000, 160.0).hnr_db;
        // A Gaussian-windowed frame's ACF drops with the lag, so openSMILE's HNR of a
        // perfectly periodic frame is finite (about 10 dB at 160 Hz over 60 ms).
        assert!(h > 8.0, "harmonic HNR {h}");
        assert!(nz < 0.0, "noise HNR {nz}");
        // More noise, lower HNR.
        let mixed: Vec<f32> = harmonic.iter().zip(&w).map(|(h, n)| h + 0.3 * n).collect();
        let m = a.frame(&mixed, 8000, 160.0).hnr_db;
        assert!(m < h && m > nz, "{nz} < {m} < {h}");
    }

    #[test]
    fn spectral_balance_of_set_band_energies() {
        // Two tones: 500 Hz at amplitude a, 3000 Hz at amplitude b (bins of 31.25 Hz, so
        // both fall on bins). Alpha ratio = 10 log10(E_hi / E_lo) = 20 log10(b / a);
        // Hammarberg = 20 log10(a / b) (peak powers).
        let mut a = analyzer();
        let tone = |f: f64, amp: f64, i: usize| {
            amp * (2.0 * std::f64::consts::PI * f * i as f64 / f64::from(SR)).sin()
        };
        for (lo, hi) in [(0.5, 0.05), (0.1, 0.1), (0.02, 0.2)] {
            let y: Vec<f32> = (0..8000)
                .map(|i| (tone(500.0, lo, i) + tone(3000.0, hi, i)) as f32)
                .collect();
            let v = a.frame(&y, 4000, f64::NAN);
            let expect = 20.0 * f64::log10(hi / lo);
            assert!(
                (v.alpha_ratio_db - expect).abs() < 0.3,
                "alpha {} vs {expect}",
                v.alpha_ratio_db
            );
            assert!(
                (v.hammarberg_db + expect).abs() < 0.3,
                "hammarberg {} vs {}",
                v.hammarberg_db,
                -expect
            );
        }
        // Noise through a one-pole low-pass (falling about 14 dB from 500 to 1500 Hz) has a
        // steeper negative slope than white noise of the same level.
        let w = noise(16_000, 3);
        let mut lp = vec![0.0f32; w.len()];
        for i in 1..w.len() {
            lp[i] = 0.95 * lp[i - 1] + w[i];
        }
        let gain =
            (w.iter().map(|x| x * x).sum::<f32>() / lp.iter().map(|x| x * x).sum::<f32>()).sqrt();
        lp.iter_mut().for_each(|x| *x *= gain);
        let mean_slope = |a: &mut VoiceAnalyzer, y: &[f32]| {
            (0..90)
                .map(|t| a.frame(y, 800 + t * 160, f64::NAN).slope_500_1500)
                .sum::<f64>()
                / 90.0
        };
        let (white, low) = (mean_slope(&mut a, &w), mean_slope(&mut a, &lp));
        assert!(low < white - 5e-3, "low-passed {low} vs white {white}");
    }

    #[test]
    fn band_slope_of_a_line() {
        // Through the origin, cSpectral's regression gives the line's slope back exactly;
        // with an offset it does not (its count `Nind` is not the sum of the weights), so
        // openSMILE's slopes, and these, move with the level, as the reference does.
        let df = 31.25;
        for (lo, hi) in [(0.0, 500.0), (500.0, 1500.0)] {
            let line: Vec<f64> = (0..257).map(|k| 0.01 * k as f64 * df).collect();
            let s = band_slope(&line, df, lo, hi);
            assert!((s - 0.01).abs() < 1e-12, "{lo}-{hi}: {s}");
            let raised: Vec<f64> = line.iter().map(|v| v + 20.0).collect();
            assert!(band_slope(&raised, df, lo, hi) != s);
        }
    }

    #[test]
    fn loudness_grows_with_level() {
        let mut a = analyzer();
        let w = noise(8000, 11);
        let l1 = a.frame(&w, 4000, f64::NAN).loudness;
        let w2: Vec<f32> = w.iter().map(|x| x * 10.0).collect();
        let l2 = a.frame(&w2, 4000, f64::NAN).loudness;
        // Power x100 -> loudness x100^0.33.
        assert!((l2 / l1 - 100f64.powf(0.33)).abs() < 1e-6, "{l1} {l2}");
    }
}
