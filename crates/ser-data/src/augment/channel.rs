//! Channel augmentation: what microphones, rooms, phone lines and other people do to speech.
//!
//! The primitives here are plain functions on mono `f32` samples (nominally in `[-1, 1]`) at
//! a given sample rate; [`crate::WaveAugmenter`] draws their parameters from the settings
//! below, and the fixed test conditions of [`crate::conditions`] use the same functions, so
//! each effect has exactly one implementation:
//!
//! - [`band_limit`]: remove everything above an edge (resampling to `2 * edge` and back with
//!   [`ser_audio::band_limit`], i.e. rubato's anti-aliasing filter);
//! - [`coloured_noise`]: white, pink (1/f, Paul Kellet's filter) or brown (1/f², leaky
//!   integrator) noise, added at a signal-to-noise ratio by [`add_at_snr`];
//! - [`babble`]: the sum of a few other utterances, each at equal power;
//! - [`synthetic_rir`] and [`fft_convolve`]: a room impulse response (direct path, early
//!   reflections, exponentially decaying noise tail of a given RT60, optionally band-dependent)
//!   and its FFT convolution; [`schroeder_rt60`] measures the RT60 of a response;
//! - [`hard_clip`]: clipping at a fraction of the peak.
//!
//! SNRs are always relative to the mean power `mean(x^2)` of the whole clip, and a silent clip
//! is left unchanged by the additive effects (an SNR has no meaning there).

use std::f64::consts::{LN_10, TAU};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use serde::{Deserialize, Serialize};

use crate::error::DataError;
use crate::rng::SplitMix64;

/// The band edges of [`BandLimitConfig::default`]: a narrow-band phone, a wide-band codec at
/// 11 kHz, a 16 kHz recording.
pub const DEFAULT_BAND_EDGES_HZ: [u32; 3] = [4_000, 5_500, 8_000];

/// A random band limit: the upper edge is drawn uniformly from `edges_hz` (see
/// [`band_limit`]; a sample rate already at or below `2 * edge` is left alone), and a lower
/// edge from `high_pass_hz` (a 4th-order Butterworth high-pass, as a telephone line's 300 Hz;
/// 0 is none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BandLimitConfig {
    /// Probability of applying it to a copy.
    pub probability: f64,
    /// Upper band edges in Hz to choose from.
    pub edges_hz: Vec<u32>,
    /// Lower band edges (high-pass corners) in Hz to choose from; 0 or an empty list: none.
    pub high_pass_hz: Vec<f64>,
}

impl Default for BandLimitConfig {
    /// 4, 5.5 and 8 kHz, no high-pass, always applied.
    fn default() -> Self {
        BandLimitConfig {
            probability: 1.0,
            edges_hz: DEFAULT_BAND_EDGES_HZ.to_vec(),
            high_pass_hz: Vec::new(),
        }
    }
}

/// Order of the high-pass of [`BandLimitConfig::high_pass_hz`] (the telephone condition's).
pub const HIGH_PASS_ORDER: usize = 4;

/// The spectral colour of a noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseColour {
    /// Flat power spectral density.
    White,
    /// Power spectral density falling as 1/f (-3 dB per octave).
    Pink,
    /// Power spectral density falling as 1/f² (-6 dB per octave; "red" or Brownian noise).
    Brown,
}

/// Additive coloured noise: colour drawn uniformly from `colours`, SNR uniformly from
/// `min_snr_db..max_snr_db` (relative to the clip's mean power).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColouredNoiseConfig {
    /// Probability of applying it to a copy.
    pub probability: f64,
    /// Colours to choose from.
    pub colours: Vec<NoiseColour>,
    /// Lowest SNR in dB.
    pub min_snr_db: f64,
    /// Highest SNR in dB.
    pub max_snr_db: f64,
}

impl Default for ColouredNoiseConfig {
    /// White, pink or brown at 5 to 30 dB SNR, always applied.
    fn default() -> Self {
        ColouredNoiseConfig {
            probability: 1.0,
            colours: vec![NoiseColour::White, NoiseColour::Pink, NoiseColour::Brown],
            min_snr_db: 5.0,
            max_snr_db: 30.0,
        }
    }
}

/// Babble: `min_talkers..=max_talkers` other training utterances summed (each at equal power)
/// and added at an SNR drawn from `min_snr_db..max_snr_db`. The other utterances are chosen by
/// [`crate::WaveAugmenter::babble_sources`] and supplied by the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BabbleConfig {
    /// Probability of applying it to a copy.
    pub probability: f64,
    /// Fewest other utterances in the mix (at least 1).
    pub min_talkers: usize,
    /// Most other utterances in the mix.
    pub max_talkers: usize,
    /// Lowest SNR in dB.
    pub min_snr_db: f64,
    /// Highest SNR in dB.
    pub max_snr_db: f64,
}

impl Default for BabbleConfig {
    /// 3 to 6 talkers at 5 to 20 dB SNR, always applied.
    fn default() -> Self {
        BabbleConfig {
            probability: 1.0,
            min_talkers: 3,
            max_talkers: 6,
            min_snr_db: 5.0,
            max_snr_db: 20.0,
        }
    }
}

/// Reverberation by a [`synthetic_rir`] with RT60 drawn from `min_rt60_s..max_rt60_s` and a
/// direct-to-reverberant ratio from `min_drr_db..max_drr_db`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReverbConfig {
    /// Probability of applying it to a copy.
    pub probability: f64,
    /// Shortest RT60 in seconds.
    pub min_rt60_s: f64,
    /// Longest RT60 in seconds.
    pub max_rt60_s: f64,
    /// Lowest direct-to-reverberant energy ratio in dB.
    pub min_drr_db: f64,
    /// Highest direct-to-reverberant energy ratio in dB.
    pub max_drr_db: f64,
    /// Whether the decay depends on frequency (see [`RirParams::band_dependent`]).
    pub band_dependent: bool,
}

impl Default for ReverbConfig {
    /// RT60 0.2 to 1.0 s, DRR -3 to +12 dB, band-dependent decay, always applied.
    fn default() -> Self {
        ReverbConfig {
            probability: 1.0,
            min_rt60_s: 0.2,
            max_rt60_s: 1.0,
            min_drr_db: -3.0,
            max_drr_db: 12.0,
            band_dependent: true,
        }
    }
}

/// Hard clipping at a fraction of the clip's peak drawn from `min_fraction..max_fraction`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClippingConfig {
    /// Probability of applying it to a copy.
    pub probability: f64,
    /// Lowest clipping level, as a fraction of the peak (in `(0, 1]`).
    pub min_fraction: f64,
    /// Highest clipping level, as a fraction of the peak (in `(0, 1]`).
    pub max_fraction: f64,
}

impl Default for ClippingConfig {
    /// 0.3 to 0.9 of the peak, always applied.
    fn default() -> Self {
        ClippingConfig {
            probability: 1.0,
            min_fraction: 0.3,
            max_fraction: 0.9,
        }
    }
}

/// `samples` at `sample_rate_hz` with everything above `edge_hz` removed, same length and
/// rate: resampled to `2 * edge_hz` and back ([`ser_audio::band_limit`]; rubato's filter is
/// flat to about 0.9 of the edge and stops more than 140 dB at the edge). Unchanged when
/// `sample_rate_hz <= 2 * edge_hz`.
pub fn band_limit(
    samples: &[f32],
    sample_rate_hz: u32,
    edge_hz: u32,
) -> Result<Vec<f32>, DataError> {
    ser_audio::band_limit(samples, sample_rate_hz, edge_hz).map_err(|source| DataError::Audio {
        what: format!("band limit to {edge_hz} Hz at {sample_rate_hz} Hz"),
        source,
    })
}

/// Mean power `mean(x^2)` (0 for an empty slice), accumulated in `f64`.
pub fn mean_power(samples: &[f32]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / samples.len() as f64
}

/// Samples the filters below run for before their output is kept, at least (the slowest pole
/// of Kellet's filter, 0.99886, decays to 1% in about 4000 samples).
const NOISE_WARM_UP: usize = 4_096;
/// Corner frequency of the leaky integrator of brown noise, as a fraction of the sample rate
/// (10 Hz at 16 kHz): below it the spectrum is flat instead of growing without bound.
const BROWN_CORNER_FRACTION: f64 = 10.0 / 16_000.0;

/// `n` samples of zero-mean noise of the given colour with unit mean power, from `rng`'s
/// standard normal deviates.
///
/// - White: the deviates themselves.
/// - Pink: Paul Kellet's "refined" filter (music-dsp mailing list, 1999; musicdsp.org archive,
///   "Filter to make pink noise from white"): a parallel bank of six one-pole low-passes and a
///   direct term, `b0 = 0.99886 b0 + 0.0555179 w`, ..., `pink = b0 + ... + b6 + 0.5362 w`,
///   accurate to within +-0.05 dB of 1/f from `0.00021 fs` (9.2 Hz at 44.1 kHz) to Nyquist.
/// - Brown: a leaky integrator `y[n] = a y[n-1] + w[n]` with `a = exp(-2 pi fc / fs)`, whose
///   power response `1 / |1 - a e^{-jw}|^2` falls as 1/f² above `fc` (0.000625 fs; 10 Hz at
///   16 kHz).
///
/// The filters run for a warm-up first (so the output starts in their steady state); the
/// mean is removed and the result scaled to unit power. `n == 0` gives an empty vector.
pub fn coloured_noise(colour: NoiseColour, n: usize, rng: &mut SplitMix64) -> Vec<f32> {
    if n == 0 {
        return Vec::new();
    }
    let mut out: Vec<f64> = Vec::with_capacity(n);
    match colour {
        NoiseColour::White => out.extend((0..n).map(|_| rng.normal())),
        NoiseColour::Pink => {
            let mut b = [0.0f64; 7];
            for i in 0..NOISE_WARM_UP + n {
                let w = rng.normal();
                b[0] = 0.99886 * b[0] + w * 0.0555179;
                b[1] = 0.99332 * b[1] + w * 0.0750759;
                b[2] = 0.96900 * b[2] + w * 0.1538520;
                b[3] = 0.86650 * b[3] + w * 0.3104856;
                b[4] = 0.55000 * b[4] + w * 0.5329522;
                b[5] = -0.7616 * b[5] - w * 0.0168980;
                let pink = b.iter().sum::<f64>() + w * 0.5362;
                b[6] = w * 0.115926;
                if i >= NOISE_WARM_UP {
                    out.push(pink);
                }
            }
        }
        NoiseColour::Brown => {
            let a = (-TAU * BROWN_CORNER_FRACTION).exp();
            // Five time constants of the integrator, and at least the common warm-up.
            let warm_up = NOISE_WARM_UP.max((5.0 / (1.0 - a)).ceil() as usize);
            let mut y = 0.0f64;
            for i in 0..warm_up + n {
                y = a * y + rng.normal();
                if i >= warm_up {
                    out.push(y);
                }
            }
        }
    }
    let mean = out.iter().sum::<f64>() / n as f64;
    let power = out.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
    let scale = if power > 0.0 {
        power.sqrt().recip()
    } else {
        0.0
    };
    out.iter().map(|v| ((v - mean) * scale) as f32).collect()
}

/// Adds `noise` (repeated if shorter than `samples`) scaled so that
/// `mean(samples^2) / mean((g * noise)^2) = 10^(snr_db / 10)`, both powers over the length of
/// `samples`. Returns false and changes nothing when the signal or the noise is silent.
pub fn add_at_snr(samples: &mut [f32], noise: &[f32], snr_db: f64) -> bool {
    if samples.is_empty() || noise.is_empty() {
        return false;
    }
    let signal = mean_power(samples);
    let noise_power = noise
        .iter()
        .cycle()
        .take(samples.len())
        .map(|&x| f64::from(x).powi(2))
        .sum::<f64>()
        / samples.len() as f64;
    if signal <= 0.0 || noise_power <= 0.0 {
        return false;
    }
    let gain = (signal / noise_power / 10f64.powf(snr_db / 10.0)).sqrt();
    for (x, &n) in samples.iter_mut().zip(noise.iter().cycle()) {
        *x = (f64::from(*x) + gain * f64::from(n)) as f32;
    }
    true
}

/// The babble of `talkers` over `len` samples: each talker scaled to unit mean power, started
/// at a random offset (drawn from `rng`, one per talker) and repeated circularly to `len`
/// samples, then all summed. Silent or empty talkers are skipped; with none left the result
/// is all zeros.
pub fn babble(len: usize, talkers: &[&[f32]], rng: &mut SplitMix64) -> Vec<f32> {
    let mut mix = vec![0.0f64; len];
    for talker in talkers {
        let offset = rng.below(talker.len() as u64) as usize;
        let power = mean_power(talker);
        if power <= 0.0 {
            continue;
        }
        let scale = power.sqrt().recip();
        let looped = talker[offset..]
            .iter()
            .chain(talker[..offset].iter())
            .cycle();
        for (m, &x) in mix.iter_mut().zip(looped) {
            *m += scale * f64::from(x);
        }
    }
    mix.into_iter().map(|v| v as f32).collect()
}

/// Clips `samples` to `+-fraction * max|x|` (hard clipping, as an overdriven converter does).
/// `fraction` is taken in `(0, 1]`; a silent clip is unchanged.
pub fn hard_clip(samples: &mut [f32], fraction: f64) {
    let peak = samples.iter().fold(0.0f32, |m, &x| m.max(x.abs()));
    let level = (f64::from(peak) * fraction.clamp(0.0, 1.0)) as f32;
    if level > 0.0 {
        samples.iter_mut().for_each(|x| *x = x.clamp(-level, level));
    }
}

/// The parameters of one [`synthetic_rir`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RirParams {
    /// Reverberation time: the time for the energy of the tail to fall by 60 dB, in seconds
    /// (with `band_dependent`, that of the mid band, as ISO 3382 reports `T_mid`).
    pub rt60_s: f64,
    /// Direct-to-reverberant ratio: the energy of the direct path over the energy of
    /// everything after it, in dB.
    pub drr_db: f64,
    /// When true, the tail decays faster at high frequencies and slower at low ones (see
    /// [`RIR_BANDS`]), as in real rooms; otherwise one decay for all frequencies.
    pub band_dependent: bool,
}

/// The bands of a band-dependent tail: upper edge in Hz (the last runs to Nyquist) and the
/// factor on the RT60. Real rooms reverberate longer at low frequencies (less absorption by
/// furnishings and people) and shorter at high ones (air absorption, which grows with
/// frequency; Kuttruff, *Room Acoustics*, 5th ed. 2009, sections 6.6-6.7); these factors are
/// typical of furnished rooms, not of one room in particular.
pub const RIR_BANDS: [(f64, f64); 3] = [(500.0, 1.25), (4_000.0, 1.0), (f64::INFINITY, 0.6)];

/// Earliest and latest arrival of the early reflections after the direct path, in seconds.
const EARLY_REFLECTIONS_S: (f64, f64) = (0.002, 0.05);
/// Range of the number of early reflections.
const N_EARLY_REFLECTIONS: (i64, i64) = (4, 8);
/// Range of an early reflection's amplitude relative to the tail's RMS at its arrival.
const EARLY_REFLECTION_GAIN: (f64, f64) = (2.0, 6.0);
/// The RIR lasts until its longest band has decayed by this many dB.
const RIR_DECAY_DB: f64 = 70.0;

/// Amplitude decay rate of an exponential decay with reverberation time `rt60_s`: the energy
/// `exp(-2 delta t)` falls by 60 dB at `t = rt60`, so `delta = 3 ln(10) / rt60` (Sabine's
/// definition of the reverberation time; Kuttruff, *Room Acoustics*, eq. 5.11).
fn decay_rate(rt60_s: f64) -> f64 {
    3.0 * LN_10 / rt60_s
}

/// A synthetic room impulse response at `sample_rate_hz`.
///
/// - `h[0] = 1`: the direct path, so convolving keeps the dry signal at its level and time;
/// - 4 to 8 early reflections at random delays of 2 to 50 ms after it, with random signs and
///   amplitudes of 2 to 6 times the tail's RMS at their arrival (a sparse early part, as an
///   image-source model would give; Allen & Berkley, "Image method for efficiently simulating
///   small-room acoustics", JASA 65, 1979);
/// - a diffuse tail from the first reflection on: Gaussian noise times `exp(-delta t)` with
///   `delta = 3 ln(10) / RT60` (Polack's stochastic model of the late reverberation, 1988),
///   with `band_dependent`, split into the [`RIR_BANDS`] by zeroing FFT bins and each band
///   decayed with its own RT60;
/// - everything after the direct path scaled so that its energy is `10^(-drr_db / 10)`.
///
/// The response lasts until the slowest band has decayed by 70 dB. Returns an error for a
/// non-positive or non-finite RT60 or DRR.
pub fn synthetic_rir(
    params: &RirParams,
    sample_rate_hz: u32,
    rng: &mut SplitMix64,
) -> Result<Vec<f32>, DataError> {
    let RirParams {
        rt60_s,
        drr_db,
        band_dependent,
    } = *params;
    if !(rt60_s.is_finite() && rt60_s > 0.0 && drr_db.is_finite()) || sample_rate_hz == 0 {
        return Err(DataError::InvalidAugment {
            setting: "reverb",
            reason: format!(
                "RT60 {rt60_s} s, DRR {drr_db} dB at {sample_rate_hz} Hz: need a positive RT60, a finite DRR and a positive rate"
            ),
        });
    }
    let sr = f64::from(sample_rate_hz);
    let nyquist = sr / 2.0;
    // The bands that exist at this rate (all of them reach Nyquist by the last edge).
    let bands: Vec<(f64, f64, f64)> = if band_dependent {
        let mut lo = 0.0;
        let mut out = Vec::new();
        for &(hi, factor) in &RIR_BANDS {
            if lo >= nyquist {
                break;
            }
            out.push((lo, hi.min(nyquist), factor));
            lo = hi;
        }
        out
    } else {
        vec![(0.0, nyquist, 1.0)]
    };
    let longest = bands.iter().map(|b| b.2).fold(0.0, f64::max) * rt60_s;
    let len = ((RIR_DECAY_DB / 60.0 * longest * sr).ceil() as usize).max(2);

    // Early reflections (positions and signs/gains drawn first, so the tail's draws follow).
    let n_early = rng.range_inclusive(N_EARLY_REFLECTIONS.0, N_EARLY_REFLECTIONS.1) as usize;
    let mut early: Vec<(usize, f64)> = (0..n_early)
        .map(|_| {
            let t = rng.uniform(EARLY_REFLECTIONS_S.0, EARLY_REFLECTIONS_S.1);
            let k = ((t * sr).round() as usize).clamp(1, len - 1);
            let sign = if rng.chance(0.5) { 1.0 } else { -1.0 };
            (
                k,
                sign * rng.uniform(EARLY_REFLECTION_GAIN.0, EARLY_REFLECTION_GAIN.1),
            )
        })
        .collect();
    early.sort_by_key(|&(k, _)| k);
    let onset = early.first().map_or(1, |&(k, _)| k);

    // The tail: noise, band-split in the frequency domain when the decay depends on frequency.
    let noise: Vec<f32> = (0..len).map(|_| rng.normal() as f32).collect();
    let mut rest = vec![0.0f64; len];
    let split = bands.len() > 1;
    let band_noise = if split {
        split_bands(&noise, sr, &bands)?
    } else {
        vec![noise]
    };
    let mid_delta = decay_rate(rt60_s);
    for ((_, _, factor), band) in bands.iter().zip(&band_noise) {
        let delta = decay_rate(rt60_s * factor);
        for (k, (r, &x)) in rest.iter_mut().zip(band).enumerate().skip(onset) {
            *r += f64::from(x) * (-delta * k as f64 / sr).exp();
        }
    }
    // Reflections relative to the tail's RMS at their arrival (unit-variance noise times the
    // mid-band envelope; a band-split tail has the same total variance).
    for &(k, gain) in &early {
        rest[k] += gain * (-mid_delta * k as f64 / sr).exp();
    }
    let energy: f64 = rest.iter().map(|v| v * v).sum();
    let scale = if energy > 0.0 {
        (10f64.powf(-drr_db / 10.0) / energy).sqrt()
    } else {
        0.0
    };
    let mut h: Vec<f32> = rest.iter().map(|v| (v * scale) as f32).collect();
    h[0] = 1.0;
    Ok(h)
}

/// Splits `noise` into the frequency bands `(lo_hz, hi_hz, _)` by zeroing the FFT bins outside
/// each band (a circular brick-wall filter: exact for noise, whose start and end are
/// unrelated anyway). The bands' sum is the noise up to rounding.
fn split_bands(
    noise: &[f32],
    sample_rate_hz: f64,
    bands: &[(f64, f64, f64)],
) -> Result<Vec<Vec<f32>>, DataError> {
    let n = noise.len();
    let (forward, inverse) = fft_plans(n);
    let mut input = noise.to_vec();
    let mut spectrum = forward.make_output_vec();
    forward
        .process(&mut input, &mut spectrum)
        .map_err(|e| fft_error(&e))?;
    let bin_hz = sample_rate_hz / n as f64;
    let scale = 1.0 / n as f32;
    let mut out = Vec::with_capacity(bands.len());
    let last = bands.len() - 1;
    for (b, &(lo, hi, _)) in bands.iter().enumerate() {
        let mut part: Vec<Complex<f32>> = spectrum
            .iter()
            .enumerate()
            .map(|(k, &c)| {
                let f = k as f64 * bin_hz;
                // Each bin in exactly one band: [lo, hi), the last band closed at Nyquist.
                let inside = f >= lo && (f < hi || b == last);
                if inside {
                    c * scale
                } else {
                    Complex::new(0.0, 0.0)
                }
            })
            .collect();
        // realfft wants real DC and Nyquist bins.
        part[0].im = 0.0;
        if n.is_multiple_of(2)
            && let Some(nyq) = part.last_mut()
        {
            nyq.im = 0.0;
        }
        let mut band = inverse.make_output_vec();
        inverse
            .process(&mut part, &mut band)
            .map_err(|e| fft_error(&e))?;
        out.push(band);
    }
    Ok(out)
}

/// The linear convolution `x * h` by FFT (zero-padded to a power of two at least
/// `x.len() + h.len() - 1`), truncated to its first `out_len` samples (`x.len()` keeps the
/// clip's length; the reverberant tail past the end is dropped). Computed in `f32`, with
/// FFT plans shared process-wide. Empty inputs give zeros.
pub fn fft_convolve(x: &[f32], h: &[f32], out_len: usize) -> Result<Vec<f32>, DataError> {
    if x.is_empty() || h.is_empty() {
        return Ok(vec![0.0; out_len]);
    }
    let full = x.len() + h.len() - 1;
    let n = full.next_power_of_two();
    let (forward, inverse) = fft_plans(n);
    let mut scratch = forward.make_scratch_vec();
    let mut buf = vec![0.0f32; n];
    buf[..x.len()].copy_from_slice(x);
    let mut xs = forward.make_output_vec();
    forward
        .process_with_scratch(&mut buf, &mut xs, &mut scratch)
        .map_err(|e| fft_error(&e))?;
    buf.fill(0.0);
    buf[..h.len()].copy_from_slice(h);
    let mut hs = forward.make_output_vec();
    forward
        .process_with_scratch(&mut buf, &mut hs, &mut scratch)
        .map_err(|e| fft_error(&e))?;
    let scale = 1.0 / n as f32;
    for (a, b) in xs.iter_mut().zip(&hs) {
        *a = *a * *b * scale;
    }
    xs[0].im = 0.0;
    if let Some(nyq) = xs.last_mut() {
        nyq.im = 0.0;
    }
    let mut scratch = inverse.make_scratch_vec();
    inverse
        .process_with_scratch(&mut xs, &mut buf, &mut scratch)
        .map_err(|e| fft_error(&e))?;
    buf.truncate(out_len.min(full));
    buf.resize(out_len, 0.0);
    Ok(buf)
}

/// Forward and inverse real FFT plans of size `n`, from a planner shared by the whole process
/// (so each size is planned once, whichever thread asks first).
fn fft_plans(n: usize) -> (Arc<dyn RealToComplex<f32>>, Arc<dyn ComplexToReal<f32>>) {
    static PLANNER: OnceLock<Mutex<RealFftPlanner<f32>>> = OnceLock::new();
    let mut planner = PLANNER
        .get_or_init(|| Mutex::new(RealFftPlanner::new()))
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    (planner.plan_fft_forward(n), planner.plan_fft_inverse(n))
}

fn fft_error(e: &realfft::FftError) -> DataError {
    DataError::InvalidAugment {
        setting: "fft",
        reason: e.to_string(),
    }
}

/// The Schroeder decay curve of an impulse response, in dB re its total energy: `L(t) = 10
/// log10(E(t) / E(0))` with `E(t) = sum_{k >= t} h[k]^2`, the backward integration of
/// M. R. Schroeder, "New method of measuring reverberation time", JASA 37 (1965), 409-412.
/// Silent responses give an empty curve.
pub fn schroeder_decay_db(h: &[f32]) -> Vec<f64> {
    let mut energy: Vec<f64> = h.iter().map(|&x| f64::from(x).powi(2)).collect();
    for k in (0..energy.len().saturating_sub(1)).rev() {
        energy[k] += energy[k + 1];
    }
    let total = energy.first().copied().unwrap_or(0.0);
    if total <= 0.0 {
        return Vec::new();
    }
    energy
        .iter()
        .map(|&e| 10.0 * (e / total).max(1e-300).log10())
        .collect()
}

/// The reverberation time of an impulse response: the least-squares slope of its
/// [`schroeder_decay_db`] curve between `-5` and `-(5 + range_db)` dB, extrapolated to 60 dB
/// (ISO 3382-1:2009: `range_db` 20 gives T20, 30 gives T30). `None` when the curve does not
/// reach the end of the range.
pub fn schroeder_rt60(h: &[f32], sample_rate_hz: u32, range_db: f64) -> Option<f64> {
    let curve = schroeder_decay_db(h);
    let (hi, lo) = (-5.0, -5.0 - range_db);
    let start = curve.iter().position(|&l| l <= hi)?;
    let end = curve.iter().position(|&l| l <= lo)?;
    if end <= start + 1 {
        return None;
    }
    let sr = f64::from(sample_rate_hz);
    let n = (end - start) as f64;
    let (mut st, mut sl, mut stt, mut stl) = (0.0, 0.0, 0.0, 0.0);
    for (k, &l) in curve.iter().enumerate().take(end).skip(start) {
        let t = k as f64 / sr;
        st += t;
        sl += l;
        stt += t * t;
        stl += t * l;
    }
    let slope = (n * stl - st * sl) / (n * stt - st * st);
    (slope < 0.0).then(|| -60.0 / slope)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Power spectral density (per Hz, arbitrary scale) in octave bands `[f, 2f)`, from one
    /// periodogram of the whole signal.
    fn octave_psd_db(x: &[f32], sample_rate_hz: f64, octaves: &[f64]) -> Vec<f64> {
        let n = x.len();
        let (forward, _) = fft_plans(n);
        let mut input = x.to_vec();
        let mut spectrum = forward.make_output_vec();
        forward.process(&mut input, &mut spectrum).expect("fft");
        let bin_hz = sample_rate_hz / n as f64;
        octaves
            .iter()
            .map(|&f| {
                let (lo, hi) = ((f / bin_hz).ceil() as usize, (2.0 * f / bin_hz) as usize);
                let power: f64 = spectrum[lo..hi]
                    .iter()
                    .map(|c| f64::from(c.norm_sqr()))
                    .sum();
                10.0 * (power / (hi - lo) as f64).log10()
            })
            .collect()
    }

    /// Least-squares slope of `y` against `log2(x)`: dB per octave.
    fn slope_per_octave(x: &[f64], y: &[f64]) -> f64 {
        let lx: Vec<f64> = x.iter().map(|v| v.log2()).collect();
        let n = lx.len() as f64;
        let (mx, my) = (lx.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
        let cov: f64 = lx.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
        let var: f64 = lx.iter().map(|a| (a - mx).powi(2)).sum();
        cov / var
    }

    #[test]
    fn noise_colours_have_their_spectral_slopes() {
        let sr = 16_000.0;
        // Octaves 31.25 Hz .. 4 kHz (the top octave, 4-8 kHz, is left out: the leaky
        // integrator's response bends away from 1/f^2 close to Nyquist).
        let octaves: Vec<f64> = (0..7).map(|i| 31.25 * f64::from(1 << i)).collect();
        for (colour, want) in [
            (NoiseColour::White, 0.0),
            (NoiseColour::Pink, -3.01),
            (NoiseColour::Brown, -6.02),
        ] {
            let mut rng = SplitMix64::new(11);
            let x = coloured_noise(colour, 1 << 18, &mut rng);
            assert!((mean_power(&x) - 1.0).abs() < 1e-4, "{colour:?} power");
            let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / x.len() as f64;
            assert!(mean.abs() < 1e-6, "{colour:?} mean {mean}");
            let psd = octave_psd_db(&x, sr, &octaves);
            let slope = slope_per_octave(&octaves, &psd);
            assert!(
                (slope - want).abs() < 0.3,
                "{colour:?}: {slope:.2} dB/octave, expected {want}"
            );
            // And octave by octave, not only on average.
            for w in psd.windows(2) {
                let step = w[1] - w[0];
                assert!(
                    (step - want).abs() < 1.0,
                    "{colour:?}: octave step {step:.2} dB"
                );
            }
        }
    }

    #[test]
    fn snr_is_met_and_silence_is_left_alone() {
        let clean: Vec<f32> = (0..20_000).map(|i| (i as f32 * 0.03).sin() * 0.3).collect();
        let noise = coloured_noise(NoiseColour::Pink, 7_000, &mut SplitMix64::new(2));
        for snr_db in [-5.0, 10.0, 20.0] {
            let mut y = clean.clone();
            assert!(add_at_snr(&mut y, &noise, snr_db));
            let added: Vec<f32> = y.iter().zip(&clean).map(|(a, b)| a - b).collect();
            let measured = 10.0 * (mean_power(&clean) / mean_power(&added)).log10();
            assert!((measured - snr_db).abs() < 0.01, "{snr_db} -> {measured}");
        }
        let mut silent = vec![0.0f32; 100];
        assert!(!add_at_snr(&mut silent, &noise, 10.0));
        assert!(silent.iter().all(|&v| v == 0.0));
        assert!(!add_at_snr(&mut [0.5f32; 4], &[], 10.0));
    }

    #[test]
    fn babble_talkers_have_equal_weight() {
        let a: Vec<f32> = (0..1000)
            .map(|i| if i % 2 == 0 { 0.01 } else { -0.01 })
            .collect();
        let b = vec![2.0f32; 300];
        let silent = vec![0.0f32; 50];
        let mut rng = SplitMix64::new(5);
        let mix = babble(2_000, &[&a, &b, &silent, &[]], &mut rng);
        assert_eq!(mix.len(), 2_000);
        // a is +-1 after scaling, b is 1: the mix is 0 or 2.
        assert!(
            mix.iter()
                .all(|&v| v.abs() < 1e-5 || (v - 2.0).abs() < 1e-5),
            "{:?}",
            &mix[..8]
        );
        assert!(babble(10, &[], &mut rng).iter().all(|&v| v == 0.0));
    }

    #[test]
    fn clipping_is_at_a_fraction_of_the_peak() {
        let mut x = vec![0.1f32, -0.8, 0.5, 0.2];
        hard_clip(&mut x, 0.5);
        assert_eq!(x, [0.1, -0.4, 0.4, 0.2]);
        let mut z = vec![0.0f32; 3];
        hard_clip(&mut z, 0.5);
        assert_eq!(z, [0.0; 3]);
    }

    #[test]
    fn convolution_equals_the_direct_sum() {
        let x: Vec<f32> = (0..300)
            .map(|i| ((i * 7 % 13) as f32 - 6.0) / 6.0)
            .collect();
        let h = [1.0f32, 0.0, -0.5, 0.25, 0.0, 0.125];
        let y = fft_convolve(&x, &h, x.len()).expect("convolve");
        for (n, &v) in y.iter().enumerate() {
            let direct: f32 = (0..h.len())
                .filter(|&k| k <= n)
                .map(|k| h[k] * x[n - k])
                .sum();
            assert!((v - direct).abs() < 1e-5, "{n}: {v} vs {direct}");
        }
        let longer = fft_convolve(&x, &h, 400).expect("convolve");
        assert_eq!(longer.len(), 400);
        assert!(longer[305..].iter().all(|&v| v == 0.0));
        assert_eq!(fft_convolve(&[], &h, 3).expect("empty"), [0.0; 3]);
    }

    #[test]
    fn rir_has_its_rt60_and_drr() {
        for sr in [16_000u32, 48_000] {
            for (i, rt60) in [0.2, 0.4, 0.7, 1.0].into_iter().enumerate() {
                let params = RirParams {
                    rt60_s: rt60,
                    drr_db: 0.0,
                    band_dependent: false,
                };
                let h = synthetic_rir(&params, sr, &mut SplitMix64::new(i as u64)).expect("rir");
                assert_eq!(h[0], 1.0, "direct path keeps its gain");
                let measured = schroeder_rt60(&h, sr, 20.0).expect("decays");
                assert!(
                    (measured / rt60 - 1.0).abs() < 0.10,
                    "{sr} Hz: RT60 {rt60} s measured {measured:.3} s"
                );
                let t30 = schroeder_rt60(&h, sr, 30.0).expect("decays");
                assert!((t30 / rt60 - 1.0).abs() < 0.10, "T30 {t30:.3} for {rt60}");
                let rest: f64 = h[1..].iter().map(|&v| f64::from(v).powi(2)).sum();
                assert!((10.0 * (1.0 / rest).log10()).abs() < 1e-3, "DRR");
            }
        }
    }

    /// `x` band-passed to `lo..hi` Hz by 4th-order Butterworth filters (causal and short, so
    /// the decay is not smeared in time, as circular FFT masking would smear it).
    fn band_part(x: &[f32], sr: f64, lo: f64, hi: f64) -> Vec<f32> {
        use crate::conditions::Butterworth;
        let mut y = x.to_vec();
        Butterworth::high_pass(4, lo, sr)
            .expect("hp")
            .process(&mut y);
        Butterworth::low_pass(4, hi, sr)
            .expect("lp")
            .process(&mut y);
        y
    }

    #[test]
    fn band_dependent_rir_decays_faster_at_high_frequencies() {
        let sr = 16_000u32;
        let params = RirParams {
            rt60_s: 0.5,
            drr_db: -6.0,
            band_dependent: true,
        };
        let h = synthetic_rir(&params, sr, &mut SplitMix64::new(3)).expect("rir");
        let f = f64::from(sr);
        for ((lo, hi), factor) in [
            ((100.0, 450.0), 1.25),
            ((700.0, 3_500.0), 1.0),
            ((4_500.0, 7_500.0), 0.6),
        ] {
            let part = band_part(&h[1..], f, lo, hi);
            let measured = schroeder_rt60(&part, sr, 20.0).expect("decays");
            let want = 0.5 * factor;
            assert!(
                (measured / want - 1.0).abs() < 0.15,
                "{lo}-{hi} Hz: {measured:.3} s, expected {want}"
            );
        }
    }

    #[test]
    fn bad_rir_parameters_are_errors() {
        let mut rng = SplitMix64::new(1);
        for (rt60_s, drr_db) in [(0.0, 0.0), (f64::NAN, 0.0), (0.3, f64::INFINITY)] {
            let p = RirParams {
                rt60_s,
                drr_db,
                band_dependent: false,
            };
            assert!(synthetic_rir(&p, 16_000, &mut rng).is_err());
        }
    }

    #[test]
    fn schroeder_of_an_exact_exponential() {
        let sr = 8_000u32;
        let delta = decay_rate(0.6);
        let h: Vec<f32> = (0..8_000)
            .map(|k| (-delta * f64::from(k) / f64::from(sr)).exp() as f32)
            .collect();
        let t = schroeder_rt60(&h, sr, 30.0).expect("decays");
        assert!((t - 0.6).abs() < 0.005, "{t}");
        assert!(schroeder_rt60(&[0.0; 10], sr, 20.0).is_none());
    }
}
