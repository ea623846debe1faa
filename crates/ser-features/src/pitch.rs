//! Fundamental frequency by probabilistic YIN (pYIN), equal to `librosa.pyin` (librosa 0.11).
//!
//! References: M. Mauch and S. Dixon, "pYIN: A fundamental frequency estimator using
//! probabilistic threshold distributions", ICASSP 2014 (the method); A. de Cheveigné and
//! H. Kawahara, "YIN, a fundamental frequency estimator for speech and music", JASA 111(4),
//! 2002 (the difference function); and `librosa/core/pitch.py` of librosa 0.11.0 (`pyin`,
//! `__pyin_helper`, `_cumulative_mean_normalized_difference`, `_parabolic_interpolation`),
//! whose arithmetic this module follows step by step, including the points where it departs
//! from the paper (it follows the pYIN software). Each step names the librosa expression it
//! reproduces.
//!
//! The pipeline, per frame of `frame_length` samples (centred frames, zero padding:
//! `center=True, pad_mode="constant"`):
//! 1. autocorrelation by FFT (`librosa.autocorrelate`), the difference function
//!    `d(k) = 2 (r(0) - r(k)) - sum_{m<k} y(m)^2` and its cumulative mean normalisation
//!    (YIN eq. 8);
//! 2. parabolic interpolation of every lag (`_parabolic_interpolation`);
//! 3. the troughs of the normalised difference, and for each of `n_thresholds` thresholds
//!    with a Beta(2, 18) prior the troughs below it, weighted by a Boltzmann prior on their
//!    rank (smaller periods first); the global minimum takes `no_trough_prob` of the mass of
//!    the thresholds no trough is below (pYIN paper, section 2.1; librosa `__pyin_helper`);
//! 4. the probabilities binned on a log-frequency grid of `resolution` semitones
//!    (observation probabilities of the voiced states; the unvoiced states share
//!    `1 - voiced_prob`), then a hidden Markov model of `2 * n_pitch_bins` states (voiced and
//!    unvoiced copy of each bin; pYIN paper, section 2.2) decoded by Viterbi
//!    (`librosa.sequence.viterbi`), with a triangular local transition of at most
//!    `max_transition_rate` octaves per second (`transition_local(window="triangle")`) and a
//!    voicing switch of probability `switch_prob` (`transition_loop`), combined by `np.kron`.
//!
//! librosa builds the `2 n x 2 n` transition matrix densely; here it is banded (each source
//! state reaches the `2 * (width / 2) + 1` bins around it, in both voicing halves), and the
//! out-of-band entries, which librosa's `log(transition + tiny)` turns into `log(tiny)` rather
//! than minus infinity, are handled exactly by prefix and suffix maxima, with librosa's
//! tie-breaking (the first state of the highest score), so the decoded path is librosa's.
//!
//! Numerics: the whole computation is in f64, as `librosa.pyin(y.astype(np.float64))`, which
//! the golden fixtures are made with (`tests/pyin.rs`: identical voicing, f0 bins and voiced
//! probabilities on every frame). On f32 input librosa keeps the difference function in
//! float32; on the same fixtures that moves voiced probabilities by at most 3e-8 and no flag
//! or bin, though it could flip a threshold comparison of a trough within ~1e-6 of one.
//!
//! Speed (`examples/pyin_speed.rs`, one thread): about 14 ms per second of 22.05 kHz audio
//! with librosa's defaults, against 138 ms for `librosa.pyin` (numba) on the same machine.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use serde::{Deserialize, Serialize};

use crate::FeatureError;

/// `librosa.note_to_hz("C2")`, the lowest f0 librosa's documentation recommends for pYIN.
pub const C2_HZ: f64 = 65.406_391_325_149_66;
/// `librosa.note_to_hz("C7")`, the highest f0 librosa's documentation recommends for pYIN.
pub const C7_HZ: f64 = 2_093.004_522_404_789;

/// `np.finfo(np.float64).tiny`, librosa's `util.tiny` of a float64 array.
const TINY: f64 = f64::MIN_POSITIVE;

/// Parameters of [`Pyin`]: the arguments of `librosa.pyin`, with its defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PyinConfig {
    /// Sample rate of the input (`sr`).
    pub sample_rate_hz: u32,
    /// Lowest f0 in Hz (`fmin`; librosa has no default, [`PyinConfig::new`] uses C2).
    pub fmin_hz: f64,
    /// Highest f0 in Hz (`fmax`; [`PyinConfig::new`] uses C7), `<= sample_rate_hz / 2`.
    pub fmax_hz: f64,
    /// Frame length in samples (`frame_length=2048`); `sample_rate_hz / fmin_hz` must be
    /// below `frame_length - 1`.
    pub frame_length: usize,
    /// Hop between frames in samples (`hop_length=None`, that is `frame_length // 4`).
    pub hop_length: usize,
    /// Thresholds of the Beta prior (`n_thresholds=100`).
    pub n_thresholds: usize,
    /// Shape parameters of the Beta prior over thresholds (`beta_parameters=(2, 18)`).
    pub beta_parameters: (f64, f64),
    /// Parameter of the Boltzmann prior over troughs (`boltzmann_parameter=2`).
    pub boltzmann_parameter: f64,
    /// Pitch bin width in semitones (`resolution=0.1`).
    pub resolution: f64,
    /// Largest pitch change in octaves per second (`max_transition_rate=35.92`).
    pub max_transition_rate: f64,
    /// Probability of switching between voiced and unvoiced (`switch_prob=0.01`).
    pub switch_prob: f64,
    /// Mass given to the global minimum when no trough is below a threshold
    /// (`no_trough_prob=0.01`).
    pub no_trough_prob: f64,
}

impl PyinConfig {
    /// librosa's defaults at `sample_rate_hz`, with the range C2..C7 its documentation
    /// recommends: `librosa.pyin(y, sr=sr, fmin=note_to_hz("C2"), fmax=note_to_hz("C7"))`.
    pub fn new(sample_rate_hz: u32) -> Self {
        Self {
            sample_rate_hz,
            fmin_hz: C2_HZ,
            fmax_hz: C7_HZ,
            frame_length: 2048,
            hop_length: 512,
            n_thresholds: 100,
            beta_parameters: (2.0, 18.0),
            boltzmann_parameter: 2.0,
            resolution: 0.1,
            max_transition_rate: 35.92,
            switch_prob: 0.01,
            no_trough_prob: 0.01,
        }
    }

    /// Bins per semitone: `int(np.ceil(1.0 / resolution))`.
    pub fn bins_per_semitone(&self) -> usize {
        (1.0 / self.resolution).ceil() as usize
    }

    /// Voiced pitch bins: `int(np.floor(12 * n_bins_per_semitone * np.log2(fmax / fmin))) + 1`.
    pub fn n_pitch_bins(&self) -> usize {
        let per_octave = (12 * self.bins_per_semitone()) as f64;
        (per_octave * (self.fmax_hz / self.fmin_hz).log2()).floor() as usize + 1
    }

    /// Width of the local transition in bins: `round(max_transition_rate * 12 * hop / sr)`
    /// semitones per frame (Python's `round`: half to even) times the bins per semitone, plus 1.
    pub fn transition_width(&self) -> usize {
        let semitones = (self.max_transition_rate * 12.0 * self.hop_length as f64
            / f64::from(self.sample_rate_hz))
        .round_ties_even() as usize;
        semitones * self.bins_per_semitone() + 1
    }

    /// Frames of a signal of `n_samples`: `1 + (n_samples + 2 * (frame_length // 2) -
    /// frame_length) // hop_length` (centred frames); `None` when the padded signal is
    /// shorter than a frame (librosa raises).
    pub fn frames_for(&self, n_samples: usize) -> Option<usize> {
        let padded = n_samples + 2 * (self.frame_length / 2);
        (padded >= self.frame_length).then(|| 1 + (padded - self.frame_length) / self.hop_length)
    }

    /// The checks of librosa's `__check_yin_params`, `transition_local` and `transition_loop`,
    /// plus the sizes this implementation needs.
    pub fn validate(&self) -> Result<(), FeatureError> {
        let sr = f64::from(self.sample_rate_hz);
        if self.sample_rate_hz == 0 {
            return Err(FeatureError::invalid(
                "sample_rate_hz",
                0,
                "must be positive",
            ));
        }
        if !(self.fmin_hz > 0.0 && self.fmin_hz.is_finite()) {
            return Err(FeatureError::invalid(
                "fmin_hz",
                self.fmin_hz,
                "must be positive",
            ));
        }
        if !(self.fmax_hz > self.fmin_hz && self.fmax_hz <= sr / 2.0) {
            return Err(FeatureError::invalid(
                "fmax_hz",
                self.fmax_hz,
                "must be in (fmin_hz, sample_rate_hz / 2]",
            ));
        }
        if self.frame_length < 4 || self.frame_length > 1 << 16 {
            return Err(FeatureError::invalid(
                "frame_length",
                self.frame_length,
                "must be in 4..=65536",
            ));
        }
        if sr / self.fmin_hz >= (self.frame_length - 1) as f64 {
            return Err(FeatureError::invalid(
                "fmin_hz",
                self.fmin_hz,
                "one period of fmin must fit in frame_length - 1 samples",
            ));
        }
        if self.hop_length == 0 {
            return Err(FeatureError::invalid("hop_length", 0, "must be positive"));
        }
        if self.n_thresholds == 0 {
            return Err(FeatureError::invalid("n_thresholds", 0, "must be positive"));
        }
        let (a, b) = self.beta_parameters;
        if !(a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite()) {
            return Err(FeatureError::invalid(
                "beta_parameters",
                format!("({a}, {b})"),
                "must be positive",
            ));
        }
        if !(self.boltzmann_parameter > 0.0 && self.boltzmann_parameter.is_finite()) {
            return Err(FeatureError::invalid(
                "boltzmann_parameter",
                self.boltzmann_parameter,
                "must be positive",
            ));
        }
        if !(self.resolution > 0.0 && self.resolution < 1.0) {
            return Err(FeatureError::invalid(
                "resolution",
                self.resolution,
                "must be in (0, 1)",
            ));
        }
        if !(self.max_transition_rate > 0.0 && self.max_transition_rate.is_finite()) {
            return Err(FeatureError::invalid(
                "max_transition_rate",
                self.max_transition_rate,
                "must be positive",
            ));
        }
        for (field, p) in [
            ("switch_prob", self.switch_prob),
            ("no_trough_prob", self.no_trough_prob),
        ] {
            if !(p > 0.0 && p < 1.0) {
                return Err(FeatureError::invalid(field, p, "must be in (0, 1)"));
            }
        }
        let (min_period, max_period) = self.periods();
        if max_period < min_period + 2 {
            return Err(FeatureError::invalid(
                "fmin_hz",
                self.fmin_hz,
                "the lag range sample_rate_hz / fmax_hz ..= sample_rate_hz / fmin_hz needs at least 3 lags",
            ));
        }
        let n_pitch = self.n_pitch_bins();
        if n_pitch < 2 || 2 * n_pitch > u32::MAX as usize / 2 {
            return Err(FeatureError::invalid(
                "resolution",
                self.resolution,
                "gives too few or too many pitch bins",
            ));
        }
        if self.transition_width() > n_pitch {
            return Err(FeatureError::invalid(
                "max_transition_rate",
                self.max_transition_rate,
                "the transition is wider than the pitch range (librosa's pad_center refuses it)",
            ));
        }
        Ok(())
    }

    /// `min_period = int(np.floor(sr / fmax))`, `max_period = min(int(np.ceil(sr / fmin)),
    /// frame_length - 1)`.
    fn periods(&self) -> (usize, usize) {
        let sr = f64::from(self.sample_rate_hz);
        let min_period = (sr / self.fmax_hz).floor() as usize;
        let max_period = ((sr / self.fmin_hz).ceil() as usize).min(self.frame_length - 1);
        (min_period, max_period)
    }
}

/// The pitch of each frame, as `librosa.pyin` returns it (`fill_na=np.nan`).
///
/// # Shapes
/// Every vector has `n_frames = 1 + (n_samples + 2 * (frame_length / 2) - frame_length) /
/// hop_length` entries; frame `t` is centred on sample `t * hop_length`.
#[derive(Debug, Clone, PartialEq)]
pub struct PitchTrack {
    /// f0 in Hz of the decoded pitch bin, NaN where the frame is unvoiced.
    pub f0_hz: Vec<f32>,
    /// Whether the decoded state is voiced (`voiced_flag`).
    pub voiced: Vec<bool>,
    /// The probability that the frame is voiced (`voiced_prob`): the sum of its observation
    /// probabilities, clipped to [0, 1].
    pub voiced_prob: Vec<f32>,
}

impl PitchTrack {
    /// Number of frames.
    pub fn len(&self) -> usize {
        self.voiced.len()
    }

    /// Whether there are no frames.
    pub fn is_empty(&self) -> bool {
        self.voiced.is_empty()
    }
}

/// A planned pYIN estimator: FFTs, priors, pitch grid and banded transition built once;
/// buffers reused between calls. Clone it to get one per thread.
///
/// # Shapes
/// Input: mono samples at `config.sample_rate_hz`. Output: a [`PitchTrack`] of
/// `config.frames_for(n_samples)` frames.
#[derive(Clone)]
pub struct Pyin {
    config: PyinConfig,
    min_period: usize,
    max_period: usize,
    /// `np.linspace(0, 1, n_thresholds + 1)`.
    thresholds: Vec<f64>,
    /// `np.diff(scipy.stats.beta.cdf(thresholds, a, b))`.
    beta_probs: Vec<f64>,
    /// `exp(-boltzmann_parameter * k)` for ranks `k` (the Boltzmann pmf's numerator).
    boltzmann_exp: Vec<f64>,
    /// `(1 - exp(-l)) / (1 - exp(-l * n))` for `n` troughs (the pmf's normalisation).
    boltzmann_fact: Vec<f64>,
    n_pitch_bins: usize,
    bins_per_octave: f64,
    /// `w // 2` of the transition width `w`: the band reaches `half` bins either side.
    half: usize,
    /// `log(kron(t_switch, local) + tiny)` within the band, source-major: entry
    /// `[k * (2 half + 1) + (p + half - k)]` for a transition from bin `k` to bin `p` in the
    /// same voicing half (`stay`) or across (`switch`).
    log_stay: Vec<f64>,
    log_switch: Vec<f64>,
    /// `log(1 / (2 n_pitch_bins) + tiny)`, the uniform initial distribution.
    log_init: f64,
    /// `fmin * 2 ** (np.arange(n_pitch_bins) / (12 * n_bins_per_semitone))`.
    freqs: Vec<f64>,
    fft: Arc<dyn RealToComplex<f64>>,
    ifft: Arc<dyn ComplexToReal<f64>>,
    work: Work,
}

impl std::fmt::Debug for Pyin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pyin")
            .field("config", &self.config)
            .field("n_pitch_bins", &self.n_pitch_bins)
            .finish_non_exhaustive()
    }
}

/// Buffers of one call.
#[derive(Clone, Default)]
struct Work {
    frame: Vec<f64>,
    spectrum: Vec<Complex<f64>>,
    scratch_fwd: Vec<Complex<f64>>,
    scratch_inv: Vec<Complex<f64>>,
    acf: Vec<f64>,
    diff: Vec<f64>,
    yin: Vec<f64>,
    shifts: Vec<f64>,
    troughs: Vec<usize>,
    probs: Vec<f64>,
    /// Per frame: `(bin, probability)` of the voiced observations, sorted by bin, and where
    /// each frame's run starts.
    candidates: Vec<(u32, f64)>,
    starts: Vec<usize>,
    frame_candidates: Vec<(u32, f64)>,
    /// Per frame: the voiced probability and the unvoiced states' observation.
    voiced_prob: Vec<f64>,
    unvoiced_obs: Vec<f64>,
    // Viterbi.
    value: Vec<f64>,
    next: Vec<f64>,
    log_obs: Vec<f64>,
    floor: Vec<f64>,
    prefix: Vec<(f64, u32)>,
    suffix: Vec<(f64, u32)>,
    ptr: Vec<u32>,
    states: Vec<u32>,
}

impl Pyin {
    /// Validates the configuration and plans every stage.
    pub fn new(config: &PyinConfig) -> Result<Self, FeatureError> {
        config.validate()?;
        let (min_period, max_period) = config.periods();
        let n_thr = config.n_thresholds;
        // np.linspace(0, 1, n + 1): arange(0, n + 1) * (1 / n), the last point set to 1.
        let step = 1.0 / n_thr as f64;
        let mut thresholds: Vec<f64> = (0..=n_thr).map(|i| i as f64 * step).collect();
        thresholds[n_thr] = 1.0;
        let (a, b) = config.beta_parameters;
        let cdf: Vec<f64> = thresholds
            .iter()
            .map(|&x| regularized_incomplete_beta(a, b, x))
            .collect();
        let beta_probs = cdf.windows(2).map(|w| w[1] - w[0]).collect();
        // scipy.stats.boltzmann._pmf: (1 - exp(-l)) / (1 - exp(-l N)) * exp(-l k).
        let n_lags = max_period - min_period + 1;
        let l = config.boltzmann_parameter;
        let boltzmann_exp = (0..=n_lags).map(|k| (-l * k as f64).exp()).collect();
        let boltzmann_fact = (0..=n_lags)
            .map(|n| (1.0 - (-l).exp()) / (1.0 - (-l * n as f64).exp()))
            .collect();

        let n_pitch_bins = config.n_pitch_bins();
        let bins_per_octave = (12 * config.bins_per_semitone()) as f64;
        let width = config.transition_width();
        let local = transition_local_band(n_pitch_bins, width);
        // transition_loop(2, 1 - switch_prob): diagonal p, off-diagonal (1 - p) / (2 - 1).
        let stay = 1.0 - config.switch_prob;
        let switch = (1.0 - stay) / 1.0;
        let log_stay = local.iter().map(|&t| (stay * t + TINY).ln()).collect();
        let log_switch = local.iter().map(|&t| (switch * t + TINY).ln()).collect();
        let n_states = 2 * n_pitch_bins;
        let log_init = (1.0 / n_states as f64 + TINY).ln();
        let freqs = (0..n_pitch_bins)
            .map(|i| config.fmin_hz * 2f64.powf(i as f64 / bins_per_octave))
            .collect();

        // Any FFT length >= 2 frame_length - 1 gives the same linear autocorrelation
        // (librosa uses scipy.fft.next_fast_len); a power of two is the fastest here.
        let n_fft = (2 * config.frame_length - 1).next_power_of_two();
        let mut planner = RealFftPlanner::<f64>::new();
        let fft = planner.plan_fft_forward(n_fft);
        let ifft = planner.plan_fft_inverse(n_fft);
        let work = Work {
            frame: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            scratch_fwd: fft.make_scratch_vec(),
            scratch_inv: ifft.make_scratch_vec(),
            acf: ifft.make_output_vec(),
            ..Work::default()
        };
        Ok(Self {
            config: config.clone(),
            min_period,
            max_period,
            thresholds,
            beta_probs,
            boltzmann_exp,
            boltzmann_fact,
            n_pitch_bins,
            bins_per_octave,
            half: width / 2,
            log_stay,
            log_switch,
            log_init,
            freqs,
            fft,
            ifft,
            work,
        })
    }

    /// The configuration this estimator was planned for.
    pub fn config(&self) -> &PyinConfig {
        &self.config
    }

    /// Voiced pitch bins of the grid (the model has twice as many states).
    pub fn n_pitch_bins(&self) -> usize {
        self.n_pitch_bins
    }

    /// The pitch track of `samples` (`librosa.pyin(y, ...)`, `center=True`,
    /// `pad_mode="constant"`, `fill_na=np.nan`).
    ///
    /// # Errors
    /// [`FeatureError::Empty`] for no samples (or fewer than a frame after padding),
    /// [`FeatureError::NonFinite`] for a NaN or infinite sample.
    pub fn track(&mut self, samples: &[f32]) -> Result<PitchTrack, FeatureError> {
        if let Some(index) = samples.iter().position(|v| !v.is_finite()) {
            return Err(FeatureError::NonFinite {
                index,
                value: samples[index],
            });
        }
        let n_frames = match self.config.frames_for(samples.len()) {
            Some(n) if !samples.is_empty() => n,
            _ => return Err(FeatureError::Empty),
        };
        let mut work = std::mem::take(&mut self.work);
        work.candidates.clear();
        work.starts.clear();
        work.voiced_prob.clear();
        work.unvoiced_obs.clear();
        for t in 0..n_frames {
            self.observe_frame(samples, t, &mut work);
        }
        work.starts.push(work.candidates.len());
        self.viterbi(n_frames, &mut work);
        let n = self.n_pitch_bins;
        let track = PitchTrack {
            f0_hz: work
                .states
                .iter()
                .map(|&s| {
                    let s = s as usize;
                    if s < n {
                        self.freqs[s] as f32
                    } else {
                        f32::NAN
                    }
                })
                .collect(),
            voiced: work.states.iter().map(|&s| (s as usize) < n).collect(),
            voiced_prob: work.voiced_prob.iter().map(|&p| p as f32).collect(),
        };
        self.work = work;
        Ok(track)
    }

    /// Steps 1-3 for frame `t`: appends its voiced observations to `work.candidates` and its
    /// voiced probability and unvoiced observation.
    fn observe_frame(&self, samples: &[f32], t: usize, work: &mut Work) {
        let fl = self.config.frame_length;
        let (min_period, max_period) = (self.min_period, self.max_period);
        let n_lags = max_period - min_period + 1;

        // The frame of the zero-padded signal: y[t * hop - fl // 2 ..][..fl].
        let start = (t * self.config.hop_length) as isize - (fl / 2) as isize;
        work.frame.fill(0.0);
        for (m, x) in work.frame[..fl].iter_mut().enumerate() {
            let i = start + m as isize;
            if i >= 0 && (i as usize) < samples.len() {
                *x = f64::from(samples[i as usize]);
            }
        }
        // Energy terms before the FFT clobbers the frame: cumsum(y ** 2) up to max_period - 1.
        work.diff.clear();
        work.diff.resize(max_period + 1, 0.0);
        let mut energy = 0.0;
        let mut cum_energy = std::mem::take(&mut work.yin);
        cum_energy.clear();
        for &x in &work.frame[..max_period] {
            energy += x * x;
            cum_energy.push(energy);
        }
        // librosa.autocorrelate: irfft(|rfft(y, n)|^2, n)[:max_period + 1].
        self.fft
            .process_with_scratch(&mut work.frame, &mut work.spectrum, &mut work.scratch_fwd)
            .expect("planned lengths");
        for c in work.spectrum.iter_mut() {
            *c = Complex::new(c.re * c.re + c.im * c.im, 0.0);
        }
        self.ifft
            .process_with_scratch(&mut work.spectrum, &mut work.acf, &mut work.scratch_inv)
            .expect("planned lengths");
        let scale = 1.0 / work.acf.len() as f64;
        let acf0 = work.acf[0] * scale;
        // d(k) = 2 * (ACF(0) - ACF(k)) - sum_{m=0}^{k-1} y(m)^2, d(0) = 0.
        for k in 1..=max_period {
            work.diff[k] = 2.0 * (acf0 - work.acf[k] * scale) - cum_energy[k - 1];
        }
        // Cumulative mean normalised difference (YIN eq. 8): d(L) / (mean(d[1..=L]) + tiny).
        let mut yin = cum_energy;
        yin.clear();
        let mut cumsum = 0.0;
        for k in 1..=max_period {
            cumsum += work.diff[k];
            if k >= min_period {
                let mean = cumsum / k as f64;
                yin.push(work.diff[k] / (mean + TINY));
            }
        }
        debug_assert_eq!(yin.len(), n_lags);

        // _parabolic_interpolation: -b / a where |b| < |a|, else 0; 0 at both ends.
        work.shifts.clear();
        work.shifts.resize(n_lags, 0.0);
        for i in 1..n_lags - 1 {
            let a = yin[i + 1] + yin[i - 1] - 2.0 * yin[i];
            let b = (yin[i + 1] - yin[i - 1]) / 2.0;
            work.shifts[i] = if b.abs() >= a.abs() { 0.0 } else { -b / a };
        }

        // Troughs (util.localmin: x[i] < x[i-1] and x[i] <= x[i+1]; last: x[-1] < x[-2];
        // pyin sets the first: x[0] < x[1]).
        work.troughs.clear();
        if yin[0] < yin[1] {
            work.troughs.push(0);
        }
        for i in 1..n_lags - 1 {
            if yin[i] < yin[i - 1] && yin[i] <= yin[i + 1] {
                work.troughs.push(i);
            }
        }
        if yin[n_lags - 1] < yin[n_lags - 2] {
            work.troughs.push(n_lags - 1);
        }

        work.frame_candidates.clear();
        let n = self.n_pitch_bins;
        if !work.troughs.is_empty() {
            self.trough_probabilities(&yin, work);
            // Candidates: period = min_period + lag index + shift, f0 = sr / period, bin =
            // round(12 * bins_per_semitone * log2(f0 / fmin)) clipped to [0, n_pitch_bins];
            // np.nonzero(yin_probs) keeps only troughs of nonzero probability, and the
            // assignment observation_probs[bin, frame] = p lets the last (longest period)
            // of several in one bin win.
            let sr = f64::from(self.config.sample_rate_hz);
            for (&i, &p) in work.troughs.iter().zip(&work.probs) {
                if p == 0.0 {
                    continue;
                }
                let period = (min_period + i) as f64 + work.shifts[i];
                let f0 = sr / period;
                let bin = (self.bins_per_octave * (f0 / self.config.fmin_hz).log2())
                    .round_ties_even()
                    .clamp(0.0, n as f64) as u32;
                match work.frame_candidates.iter_mut().find(|(b, _)| *b == bin) {
                    Some(slot) => slot.1 = p,
                    None => work.frame_candidates.push((bin, p)),
                }
            }
            work.frame_candidates.sort_unstable_by_key(|&(b, _)| b);
        }
        // voiced_prob = clip(sum(observation_probs[:n_pitch_bins]), 0, 1), summed in bin
        // order; a candidate clipped to bin n_pitch_bins lands on the first unvoiced state
        // and is overwritten by (1 - voiced_prob) / n_pitch_bins.
        work.frame_candidates.retain(|&(b, _)| (b as usize) < n);
        let voiced_prob = work
            .frame_candidates
            .iter()
            .fold(0.0, |s, &(_, p)| s + p)
            .clamp(0.0, 1.0);
        work.starts.push(work.candidates.len());
        work.candidates.extend_from_slice(&work.frame_candidates);
        work.voiced_prob.push(voiced_prob);
        work.unvoiced_obs.push((1.0 - voiced_prob) / n as f64);
        work.yin = yin;
    }

    /// Step 3 (`__pyin_helper`, steps 3-5): the probability of each trough of `yin`.
    fn trough_probabilities(&self, yin: &[f64], work: &mut Work) {
        let troughs = &work.troughs;
        work.probs.clear();
        work.probs.resize(troughs.len(), 0.0);
        // trough_prior[i, c] = boltzmann.pmf(rank of trough i among those below threshold c,
        // l, number below c), 0 where trough i is not below; probs = trough_prior @ beta_probs.
        for (&threshold, &beta) in self.thresholds[1..].iter().zip(&self.beta_probs) {
            let n_below = troughs.iter().filter(|&&i| yin[i] < threshold).count();
            if n_below == 0 {
                continue;
            }
            let fact = self.boltzmann_fact[n_below];
            let mut rank = 0;
            for (p, &i) in work.probs.iter_mut().zip(troughs) {
                if yin[i] < threshold {
                    *p += fact * self.boltzmann_exp[rank] * beta;
                    rank += 1;
                }
            }
        }
        // The global minimum (first of equal heights) gets no_trough_prob times the mass of
        // the thresholds it is not below.
        let (global_min, &min_height) = troughs.iter().map(|&i| &yin[i]).enumerate().fold(
            (0, &f64::INFINITY),
            |best, (j, h)| {
                if *h < *best.1 { (j, h) } else { best }
            },
        );
        let n_not_below = self.thresholds[1..]
            .iter()
            .filter(|&&threshold| threshold <= min_height) // !(min < threshold); heights are finite
            .count();
        work.probs[global_min] +=
            self.config.no_trough_prob * numpy_sum(&self.beta_probs[..n_not_below]);
    }

    /// Step 4: Viterbi decoding (`librosa.sequence._viterbi`) over the banded transition;
    /// writes the decoded states to `work.states`.
    fn viterbi(&self, n_frames: usize, work: &mut Work) {
        let n = self.n_pitch_bins;
        let n_states = 2 * n;
        let h = self.half;
        let band = 2 * h + 1;
        let log_floor = TINY.ln();
        work.value.clear();
        work.value.resize(n_states, 0.0);
        work.next.clear();
        work.next.resize(n_states, 0.0);
        work.log_obs.clear();
        work.log_obs.resize(n_states, 0.0);
        work.floor.clear();
        work.floor.resize(n_states, 0.0);
        work.prefix.clear();
        work.prefix.resize(n_states + 2, (f64::NEG_INFINITY, 0));
        work.suffix.clear();
        work.suffix.resize(n_states + 2, (f64::NEG_INFINITY, 0));
        work.ptr.clear();
        work.ptr.resize(n_frames * n_states, 0);

        // log_prob = log(prob + tiny): voiced bins without a candidate get log(tiny).
        let fill_log_obs = |work: &mut Work, t: usize| {
            let unvoiced = (work.unvoiced_obs[t] + TINY).ln();
            work.log_obs[..n].fill(log_floor);
            work.log_obs[n..].fill(unvoiced);
            for &(b, p) in &work.candidates[work.starts[t]..work.starts[t + 1]] {
                work.log_obs[b as usize] = (p + TINY).ln();
            }
        };

        fill_log_obs(work, 0);
        for s in 0..n_states {
            work.value[s] = work.log_obs[s] + self.log_init;
        }
        for t in 1..n_frames {
            fill_log_obs(work, t);
            // Out-of-band transitions all weigh log(tiny): the best of those is the best of
            // value + log(tiny) outside the band, from prefix maxima (states below the band)
            // and suffix maxima (above it), per voicing half; ties go to the first state.
            for s in 0..n_states {
                work.floor[s] = work.value[s] + log_floor;
            }
            for half in 0..2 {
                let base = half * n;
                // prefix[base + i]: best over [base, base + i); suffix[base + i]: over
                // [base + i, base + n).
                let mut best = (f64::NEG_INFINITY, 0u32);
                for i in 0..n {
                    work.prefix[base + i] = best;
                    let v = work.floor[base + i];
                    if v > best.0 {
                        best = (v, (base + i) as u32);
                    }
                }
                let mut best = (f64::NEG_INFINITY, 0u32);
                work.suffix[base + n] = best;
                for i in (0..n).rev() {
                    let v = work.floor[base + i];
                    if v >= best.0 {
                        best = (v, (base + i) as u32);
                    }
                    work.suffix[base + i] = best;
                }
            }
            let ptr = &mut work.ptr[t * n_states..(t + 1) * n_states];
            for target_half in 0..2 {
                for p in 0..n {
                    let lo = p.saturating_sub(h);
                    let hi = (p + h).min(n - 1);
                    let mut best = (f64::NEG_INFINITY, 0u32);
                    // Source states in the order of their index: voiced half, then unvoiced;
                    // within each, below the band, the band, above the band.
                    for source_half in 0..2 {
                        let base = source_half * n;
                        let below = work.prefix[base + lo];
                        if below.0 > best.0 {
                            best = below;
                        }
                        let log_trans = if source_half == target_half {
                            &self.log_stay
                        } else {
                            &self.log_switch
                        };
                        for k in lo..=hi {
                            let v = work.value[base + k] + log_trans[k * band + p + h - k];
                            if v > best.0 {
                                best = (v, (base + k) as u32);
                            }
                        }
                        let above = work.suffix[base + hi + 1];
                        if above.0 > best.0 {
                            best = above;
                        }
                    }
                    let s = target_half * n + p;
                    ptr[s] = best.1;
                    work.next[s] = work.log_obs[s] + best.0;
                }
            }
            std::mem::swap(&mut work.value, &mut work.next);
        }
        // state[-1] = argmax(value[-1]) (the first maximum), then back-pointers.
        let mut last = 0;
        for s in 1..n_states {
            if work.value[s] > work.value[last] {
                last = s;
            }
        }
        work.states.clear();
        work.states.resize(n_frames, 0);
        work.states[n_frames - 1] = last as u32;
        for t in (0..n_frames - 1).rev() {
            let next = work.states[t + 1] as usize;
            work.states[t] = work.ptr[(t + 1) * n_states + next];
        }
    }
}

/// The band of `librosa.sequence.transition_local(n_states, width, window="triangle",
/// wrap=False)`, row-major with `2 * (width // 2) + 1` entries per row: entry
/// `[i * band + (j + width // 2 - i)]` is `transition[i, j]` (0 for `j` outside the matrix).
///
/// Each row is built as librosa does: `scipy.signal.get_window("triangle", width,
/// fftbins=False)` padded to `n_states` (`pad_center`), rolled by `n_states // 2 + i + 1`,
/// zeroed outside `[i - width // 2, i + width // 2]`, then divided by its sum, which is
/// numpy's pairwise sum over the whole row.
fn transition_local_band(n_states: usize, width: usize) -> Vec<f64> {
    // scipy.signal.windows.triang(width, sym=True).
    let m = width;
    let half_len = m.div_ceil(2);
    let first: Vec<f64> = (1..=half_len)
        .map(|k| {
            if m.is_multiple_of(2) {
                (2.0 * k as f64 - 1.0) / m as f64
            } else {
                2.0 * k as f64 / (m as f64 + 1.0)
            }
        })
        .collect();
    let mut window = first.clone();
    if m.is_multiple_of(2) {
        window.extend(first.iter().rev());
    } else {
        window.extend(first.iter().rev().skip(1));
    }
    let lpad = (n_states - m) / 2;
    let mut padded = vec![0.0; n_states];
    padded[lpad..lpad + m].copy_from_slice(&window);

    let h = width / 2;
    let band = 2 * h + 1;
    let mut out = vec![0.0; n_states * band];
    let mut row = vec![0.0; n_states];
    for i in 0..n_states {
        let shift = (n_states / 2 + i + 1) % n_states;
        let lo = i.saturating_sub(h);
        let hi = (i + h + 1).min(n_states);
        row.fill(0.0);
        for (j, r) in row.iter_mut().enumerate().take(hi).skip(lo) {
            *r = padded[(j + n_states - shift) % n_states];
        }
        let sum = numpy_sum(&row);
        for j in lo..hi {
            out[i * band + j + h - i] = row[j] / sum;
        }
    }
    out
}

/// `np.sum` of a contiguous float64 array: numpy's pairwise summation (blocks of up to 128
/// values summed in eight interleaved partial sums, larger arrays split in halves at a
/// multiple of eight).
fn numpy_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        a.iter().fold(0.0, |s, &x| s + x)
    } else if n <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&a[..8]);
        let whole = n - n % 8;
        for chunk in a[8..whole].chunks_exact(8) {
            for (acc, &x) in r.iter_mut().zip(chunk) {
                *acc += x;
            }
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &a[whole..] {
            res += x;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        numpy_sum(&a[..n2]) + numpy_sum(&a[n2..])
    }
}

/// The regularised incomplete beta function `I_x(a, b)`, `scipy.stats.beta.cdf(x, a, b)`.
///
/// For integer `a` and `b` (librosa's default prior is Beta(2, 18)) the exact binomial sum
/// `I_x(a, b) = sum_{j=a}^{a+b-1} C(a+b-1, j) x^j (1-x)^(a+b-1-j)`; otherwise the continued
/// fraction of Numerical Recipes (`betacf`, modified Lentz), with the symmetry
/// `I_x(a, b) = 1 - I_{1-x}(b, a)` where it converges faster.
fn regularized_incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let integer = |v: f64| v.fract() == 0.0 && v <= 170.0;
    if integer(a) && integer(b) {
        // Above the mean the lower tail 1 - I_x = sum_{j<a} ... is the small, accurate
        // part (scipy's cdf reaches exactly 1.0 where the tail is below half an ulp).
        let (a, n) = (a as u32, (a + b) as u32 - 1);
        let upper = x > f64::from(a) / f64::from(n + 1);
        let mut sum = 0.0;
        let mut binom = 1.0; // C(n, j), built from C(n, 0)
        for j in 0..=n {
            if j > 0 {
                binom = binom * f64::from(n - j + 1) / f64::from(j);
            }
            if (j >= a) != upper {
                sum += binom * x.powi(j as i32) * (1.0 - x).powi((n - j) as i32);
            }
        }
        return if upper { 1.0 - sum } else { sum.min(1.0) };
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b
    }
}

/// The continued fraction of `I_x(a, b)` (Numerical Recipes, 3rd ed., `Beta::betacf`).
fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const FPMIN: f64 = f64::MIN_POSITIVE / f64::EPSILON;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < FPMIN {
        d = FPMIN;
    }
    d = 1.0 / d;
    let mut h = d;
    // One step of the modified Lentz method: `d` and `c` updated by the coefficient `aa`,
    // the factor that `h` takes returned.
    let step = |aa: f64, c: &mut f64, d: &mut f64| -> f64 {
        *d = 1.0 + aa * *d;
        if d.abs() < FPMIN {
            *d = FPMIN;
        }
        *c = 1.0 + aa / *c;
        if c.abs() < FPMIN {
            *c = FPMIN;
        }
        *d = 1.0 / *d;
        *d * *c
    };
    for m in 1..10_000 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        // The even and the odd coefficient of the fraction.
        h *= step(m * (b - m) * x / ((qam + m2) * (a + m2)), &mut c, &mut d);
        let delta = step(
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
            &mut c,
            &mut d,
        );
        h *= delta;
        if (delta - 1.0).abs() <= f64::EPSILON {
            break;
        }
    }
    h
}

/// `ln Γ(x)` for `x > 0` by the Lanczos approximation (g = 7, 9 terms; relative error
/// about 1e-15).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEF: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 - x) = π / sin(π x).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEF[0];
    for (i, &c) in COEF.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(sr: u32, f0: f64, seconds: f64) -> Vec<f32> {
        let n = (f64::from(sr) * seconds) as usize;
        (0..n)
            .map(|i| {
                (0.5 * (2.0 * std::f64::consts::PI * f0 * i as f64 / f64::from(sr)).sin()) as f32
            })
            .collect()
    }

    #[test]
    fn librosa_grid_sizes() {
        let cfg = PyinConfig::new(22_050);
        assert_eq!(cfg.n_pitch_bins(), 601);
        assert_eq!(cfg.transition_width(), 101);
        assert_eq!(cfg.periods(), (10, 338));
        let cfg16 = PyinConfig {
            hop_length: 160,
            frame_length: 1024,
            ..PyinConfig::new(16_000)
        };
        assert_eq!(cfg16.transition_width(), 41);
        assert_eq!(cfg.frames_for(22_050), Some(44));
    }

    #[test]
    fn local_transition_matches_librosa_small_case() {
        // librosa.sequence.transition_local(5, 3, window="triangle", wrap=False)
        let band = transition_local_band(5, 3);
        let expected = [
            [0.0, 2.0 / 3.0, 1.0 / 3.0],
            [0.25, 0.5, 0.25],
            [0.25, 0.5, 0.25],
            [0.25, 0.5, 0.25],
            [1.0 / 3.0, 2.0 / 3.0, 0.0],
        ];
        for (i, row) in expected.iter().enumerate() {
            for (d, &e) in row.iter().enumerate() {
                assert!((band[i * 3 + d] - e).abs() < 1e-15, "{i} {d}");
            }
        }
    }

    #[test]
    fn beta_cdf_matches_scipy() {
        // scipy.stats.beta.cdf(x, 2, 18) and beta.cdf(x, 2.5, 7.5).
        let cases = [
            (2.0, 18.0, 0.05, 0.245_292_794_929_384_52),
            (2.0, 18.0, 0.3, 0.989_578_152_973_373_1),
            (2.5, 7.5, 0.2, 0.401_238_698_247_191_94),
        ];
        for (a, b, x, want) in cases {
            let got = regularized_incomplete_beta(a, b, x);
            assert!((got - want).abs() < 1e-13, "{a} {b} {x}: {got} vs {want}");
        }
        let int = regularized_incomplete_beta(2.0, 18.0, 0.1);
        let cf = {
            let front = (ln_gamma(20.0) - ln_gamma(2.0) - ln_gamma(18.0)
                + 2.0 * 0.1f64.ln()
                + 18.0 * 0.9f64.ln())
            .exp();
            front * beta_continued_fraction(2.0, 18.0, 0.1) / 2.0
        };
        assert!((int - cf).abs() < 1e-12, "{int} vs {cf}");
    }

    #[test]
    fn numpy_sum_is_pairwise() {
        let a: Vec<f64> = (0..601).map(|i| 1.0 / (i as f64 + 1.0)).collect();
        let seq: f64 = a.iter().sum();
        assert!((numpy_sum(&a) - seq).abs() < 1e-12);
    }

    #[test]
    fn a_pure_sine_is_found_within_one_percent() {
        for (sr, f0) in [(22_050, 220.0), (22_050, 110.0), (16_000, 440.0)] {
            let mut pyin = Pyin::new(&PyinConfig::new(sr)).unwrap();
            let track = pyin.track(&sine(sr, f0, 1.0)).unwrap();
            // Frames away from the zero-padded edges.
            let inner = &track.f0_hz[3..track.len() - 3];
            assert!(
                track.voiced[3..track.len() - 3].iter().all(|&v| v),
                "{sr} {f0}"
            );
            for &f in inner {
                assert!((f64::from(f) / f0 - 1.0).abs() < 0.01, "{sr} {f0}: {f}");
            }
            assert!(
                track.voiced_prob[3..track.len() - 3]
                    .iter()
                    .all(|&p| p > 0.5)
            );
        }
    }

    #[test]
    fn white_noise_is_mostly_unvoiced() {
        let mut rng = ser_stdx_free_rng(7);
        let noise: Vec<f32> = (0..16_000).map(|_| 0.1 * rng()).collect();
        let cfg = PyinConfig {
            hop_length: 160,
            frame_length: 1024,
            ..PyinConfig::new(16_000)
        };
        let track = Pyin::new(&cfg).unwrap().track(&noise).unwrap();
        let voiced = track.voiced.iter().filter(|&&v| v).count();
        assert!(
            voiced * 4 < track.len(),
            "{voiced} of {} voiced",
            track.len()
        );
        let silence = Pyin::new(&cfg).unwrap().track(&vec![0.0; 4000]).unwrap();
        assert!(silence.voiced.iter().all(|&v| !v));
        assert!(silence.f0_hz.iter().all(|f| f.is_nan()));
        assert!(silence.voiced_prob.iter().all(|&p| p == 0.0));
    }

    /// A small uniform generator in [-1, 1) (xorshift), so that the test needs no dependency.
    fn ser_stdx_free_rng(seed: u64) -> impl FnMut() -> f32 {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        }
    }

    #[test]
    fn deterministic_and_reusable() {
        let mut pyin = Pyin::new(&PyinConfig::new(22_050)).unwrap();
        let a = sine(22_050, 180.0, 0.7);
        let b = sine(22_050, 300.0, 0.3);
        let first = pyin.track(&a).unwrap();
        let _ = pyin.track(&b).unwrap();
        let again = pyin.track(&a).unwrap();
        let fresh = Pyin::new(&PyinConfig::new(22_050))
            .unwrap()
            .track(&a)
            .unwrap();
        for other in [&again, &fresh] {
            assert_eq!(first.voiced, other.voiced);
            assert_eq!(first.voiced_prob, other.voiced_prob);
            assert!(
                first
                    .f0_hz
                    .iter()
                    .zip(&other.f0_hz)
                    .all(|(x, y)| x.to_bits() == y.to_bits())
            );
        }
    }

    /// librosa's dense Viterbi (`sequence._viterbi` on `np.kron(t_switch, transition_local)`),
    /// for checking the banded one.
    fn dense_viterbi(pyin: &Pyin, work: &Work, n_frames: usize) -> Vec<u32> {
        let n = pyin.n_pitch_bins;
        let (h, band) = (pyin.half, 2 * pyin.half + 1);
        let ns = 2 * n;
        let mut log_trans = vec![TINY.ln(); ns * ns];
        for k in 0..n {
            for p in k.saturating_sub(h)..(k + h + 1).min(n) {
                let e = k * band + p + h - k;
                for (a, b) in [(0, 0), (1, 1), (0, 1), (1, 0)] {
                    let table = if a == b {
                        &pyin.log_stay
                    } else {
                        &pyin.log_switch
                    };
                    log_trans[(a * n + k) * ns + b * n + p] = table[e];
                }
            }
        }
        let log_obs = |t: usize| {
            let mut v = vec![TINY.ln(); ns];
            v[n..].fill((work.unvoiced_obs[t] + TINY).ln());
            for &(b, p) in &work.candidates[work.starts[t]..work.starts[t + 1]] {
                v[b as usize] = (p + TINY).ln();
            }
            v
        };
        let mut value: Vec<f64> = log_obs(0).iter().map(|o| o + pyin.log_init).collect();
        let mut ptr = vec![0u32; n_frames * ns];
        for t in 1..n_frames {
            let obs = log_obs(t);
            let mut next = vec![0.0; ns];
            for j in 0..ns {
                let mut best = 0;
                for k in 1..ns {
                    if value[k] + log_trans[k * ns + j] > value[best] + log_trans[best * ns + j] {
                        best = k;
                    }
                }
                ptr[t * ns + j] = best as u32;
                next[j] = obs[j] + value[best] + log_trans[best * ns + j];
            }
            value = next;
        }
        let mut state = (0..ns).fold(0, |b, s| if value[s] > value[b] { s } else { b }) as u32;
        let mut states = vec![state; n_frames];
        for t in (0..n_frames - 1).rev() {
            state = ptr[(t + 1) * ns + state as usize];
            states[t] = state;
        }
        states
    }

    #[test]
    fn banded_viterbi_is_the_dense_one() {
        // A small grid, random sparse observations with long gaps of nothing (where the
        // out-of-band floor log(tiny) competes) and ties of equal probabilities.
        let cfg = PyinConfig {
            fmin_hz: 200.0,
            fmax_hz: 800.0,
            frame_length: 256,
            hop_length: 64,
            resolution: 0.5,
            ..PyinConfig::new(8000)
        };
        let pyin = Pyin::new(&cfg).unwrap();
        let n = pyin.n_pitch_bins as u32;
        let mut rng = ser_stdx_free_rng(3);
        for trial in 0..20 {
            let n_frames = 60;
            let mut work = Work::default();
            for t in 0..n_frames {
                work.starts.push(work.candidates.len());
                let mut vp = 0.0;
                if (t / 7 + trial) % 3 != 0 {
                    let mut bins: Vec<u32> = (0..1 + (t % 3))
                        .map(|_| ((rng() * 0.5 + 0.5) * n as f32) as u32 % n)
                        .collect();
                    bins.sort_unstable();
                    bins.dedup();
                    for b in bins {
                        let p = if trial % 2 == 0 {
                            0.25
                        } else {
                            f64::from(rng().abs()) * 0.3
                        };
                        work.candidates.push((b, p));
                        vp += p;
                    }
                }
                let vp: f64 = f64::min(vp, 1.0);
                work.voiced_prob.push(vp);
                work.unvoiced_obs.push((1.0 - vp) / f64::from(n));
            }
            work.starts.push(work.candidates.len());
            pyin.viterbi(n_frames, &mut work);
            assert_eq!(
                work.states,
                dense_viterbi(&pyin, &work, n_frames),
                "trial {trial}"
            );
        }
    }

    #[test]
    fn bad_input_and_configs_are_refused() {
        let mut pyin = Pyin::new(&PyinConfig::new(22_050)).unwrap();
        assert_eq!(pyin.track(&[]), Err(FeatureError::Empty));
        assert!(matches!(
            pyin.track(&[0.0, f32::NAN]),
            Err(FeatureError::NonFinite { index: 1, .. })
        ));
        let too_low = PyinConfig {
            fmin_hz: 10.0,
            ..PyinConfig::new(22_050)
        };
        assert!(Pyin::new(&too_low).is_err());
        let above_nyquist = PyinConfig {
            fmax_hz: 12_000.0,
            ..PyinConfig::new(22_050)
        };
        assert!(Pyin::new(&above_nyquist).is_err());
    }
}
