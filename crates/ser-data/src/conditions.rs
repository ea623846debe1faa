//! Fixed, seeded recording conditions for a robustness evaluation.
//!
//! A [`Condition`] turns a test clip into what a user's recording of the same speech might
//! be: quieter, louder, over a phone line, in noise, in a room, or at 48 kHz with energy
//! above the training band. [`Condition::standard_set`] is the fixed list a robustness table
//! reports. Every condition is deterministic in (seed, key), where the key names the clip
//! (its corpus index), so every model is evaluated on exactly the same altered audio.
//!
//! The effects are the training-side primitives of [`crate::augment::channel`] (pink noise,
//! synthetic room impulse responses, FFT convolution, band limiting by resampling) with fixed
//! parameters; only the telephone filters are specific to this module.
//!
//! | name | what it does | output rate |
//! |---|---|---|
//! | `clean` | a copy | the input's |
//! | `gain-20db` | x 10^(-20/20) | the input's |
//! | `gain+10db` | x 10^(10/20), no clipping (not in the standard set) | the input's |
//! | `peak-normalised` | scaled so that max \|x\| = 0.99 | the input's |
//! | `telephone` | resampled to 8 kHz, 4th-order Butterworth high-pass at 300 Hz and low-pass at 3400 Hz | 8000 Hz |
//! | `pink-noise-20db`, `pink-noise-10db` | pink noise at 20 / 10 dB SNR (re the clip's mean power) | the input's |
//! | `reverb-0.4s` | convolved with a synthetic RIR, RT60 0.4 s, DRR 0 dB, one decay for all bands | the input's |
//! | `upsampled-48k` | resampled to 48 kHz, plus noise above 8 kHz that follows the clip's loudness (as fricatives and breath do in a full-band recording) at -30 dB re the clip's power | 48000 Hz |

use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::augment::apply_gain_db;
use crate::augment::channel::{
    self, NoiseColour, RirParams, add_at_snr, coloured_noise, fft_convolve, mean_power,
    synthetic_rir,
};
use crate::error::DataError;
use crate::rng::SplitMix64;

/// Purpose tag of the condition streams.
const STREAM_CONDITION: u64 = 0x434F_4E44; // "COND"
/// Sub-tags: which random thing a condition draws. The two pink-noise conditions share
/// theirs, so they add the same noise at two levels (paired conditions).
const DRAW_PINK: u64 = 1;
const DRAW_ROOM: u64 = 2;
const DRAW_HIGH_BAND: u64 = 3;

/// Sample rate of the telephone condition.
pub const TELEPHONE_RATE_HZ: u32 = 8_000;
/// Lower edge of the telephone band (ITU-T G.712's 300-3400 Hz channel).
pub const TELEPHONE_LOW_HZ: f64 = 300.0;
/// Upper edge of the telephone band.
pub const TELEPHONE_HIGH_HZ: f64 = 3_400.0;
/// Order of the telephone band's Butterworth high-pass and low-pass.
pub const TELEPHONE_ORDER: usize = 4;
/// Peak of the peak-normalised condition (-0.09 dBFS).
pub const PEAK_LEVEL: f32 = 0.99;
/// Sample rate of the upsampled condition.
pub const UPSAMPLED_RATE_HZ: u32 = 48_000;
/// The band above which the upsampled condition adds noise (the training copy's Nyquist).
pub const HIGH_BAND_EDGE_HZ: u32 = 8_000;
/// Level of that noise relative to the clip's mean power, in dB.
pub const HIGH_BAND_NOISE_DB: f64 = -30.0;
/// Blocks of the loudness envelope that shapes the high-band noise (10 ms at 48 kHz).
const HIGH_BAND_ENVELOPE_BLOCK: usize = 480;
/// RT60 of the reverberant condition, in seconds.
pub const REVERB_RT60_S: f64 = 0.4;
/// Direct-to-reverberant ratio of the reverberant condition (a talker at the critical
/// distance, where direct and reverberant energy are equal).
pub const REVERB_DRR_DB: f64 = 0.0;

/// One fixed recording condition (see the [module docs](self) for what each does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Condition {
    /// The clip as it is.
    #[serde(rename = "clean")]
    Clean,
    /// 20 dB quieter.
    #[serde(rename = "gain-20db")]
    GainMinus20Db,
    /// 10 dB louder (samples may exceed 1; nothing is clipped).
    #[serde(rename = "gain+10db")]
    GainPlus10Db,
    /// Scaled so that its peak is [`PEAK_LEVEL`].
    #[serde(rename = "peak-normalised")]
    PeakNormalised,
    /// The 300-3400 Hz telephone band at 8 kHz.
    #[serde(rename = "telephone")]
    Telephone,
    /// Pink noise at 20 dB SNR.
    #[serde(rename = "pink-noise-20db")]
    PinkNoise20Db,
    /// Pink noise at 10 dB SNR.
    #[serde(rename = "pink-noise-10db")]
    PinkNoise10Db,
    /// A room with an RT60 of 0.4 s.
    #[serde(rename = "reverb-0.4s")]
    Reverb04s,
    /// At 48 kHz with faint noise above 8 kHz.
    #[serde(rename = "upsampled-48k")]
    Upsampled48k,
}

impl Condition {
    /// Every condition, in a fixed order.
    pub fn all() -> &'static [Condition] {
        &[
            Condition::Clean,
            Condition::GainMinus20Db,
            Condition::GainPlus10Db,
            Condition::PeakNormalised,
            Condition::Telephone,
            Condition::PinkNoise20Db,
            Condition::PinkNoise10Db,
            Condition::Reverb04s,
            Condition::Upsampled48k,
        ]
    }

    /// The conditions of a robustness table, in its order: clean first, then level, band,
    /// noise, room and sample-rate conditions (every one but `gain+10db`).
    pub fn standard_set() -> Vec<Condition> {
        Condition::all()
            .iter()
            .copied()
            .filter(|&c| c != Condition::GainPlus10Db)
            .collect()
    }

    /// The name used in files and on the command line (`clean`, `gain-20db`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Condition::Clean => "clean",
            Condition::GainMinus20Db => "gain-20db",
            Condition::GainPlus10Db => "gain+10db",
            Condition::PeakNormalised => "peak-normalised",
            Condition::Telephone => "telephone",
            Condition::PinkNoise20Db => "pink-noise-20db",
            Condition::PinkNoise10Db => "pink-noise-10db",
            Condition::Reverb04s => "reverb-0.4s",
            Condition::Upsampled48k => "upsampled-48k",
        }
    }

    /// The sample rate of the output for an input at `input_hz`.
    pub fn output_rate_hz(self, input_hz: u32) -> u32 {
        match self {
            Condition::Telephone => TELEPHONE_RATE_HZ,
            Condition::Upsampled48k => UPSAMPLED_RATE_HZ,
            _ => input_hz,
        }
    }

    /// `audio` under this condition, possibly at another sample rate (see
    /// [`Condition::output_rate_hz`]); deterministic in (`seed`, `key`), where `key` names
    /// the clip (e.g. its corpus index). `clean` returns a copy. The channel count is kept
    /// (it describes the source). Errors only when resampling fails (a rate outside
    /// `ser_audio`'s accepted range).
    pub fn apply(
        &self,
        audio: &ser_audio::Audio,
        seed: u64,
        key: u64,
    ) -> Result<ser_audio::Audio, DataError> {
        let rng = |draw: u64| SplitMix64::for_key(seed, &[STREAM_CONDITION, draw, key]);
        let sr = audio.sample_rate_hz;
        let out = |samples: Vec<f32>, sample_rate_hz: u32| ser_audio::Audio {
            samples,
            sample_rate_hz,
            channels: audio.channels,
        };
        let mut y = audio.samples.clone();
        Ok(match self {
            Condition::Clean => out(y, sr),
            Condition::GainMinus20Db => {
                apply_gain_db(&mut y, -20.0);
                out(y, sr)
            }
            Condition::GainPlus10Db => {
                apply_gain_db(&mut y, 10.0);
                out(y, sr)
            }
            Condition::PeakNormalised => {
                let peak = y.iter().fold(0.0f32, |m, &x| m.max(x.abs()));
                if peak > 0.0 {
                    let g = f64::from(PEAK_LEVEL) / f64::from(peak);
                    y.iter_mut().for_each(|x| *x = (f64::from(*x) * g) as f32);
                }
                out(y, sr)
            }
            Condition::Telephone => {
                let mut t = resample(&y, sr, TELEPHONE_RATE_HZ)?;
                let rate = f64::from(TELEPHONE_RATE_HZ);
                Butterworth::high_pass(TELEPHONE_ORDER, TELEPHONE_LOW_HZ, rate)?.process(&mut t);
                Butterworth::low_pass(TELEPHONE_ORDER, TELEPHONE_HIGH_HZ, rate)?.process(&mut t);
                out(t, TELEPHONE_RATE_HZ)
            }
            Condition::PinkNoise20Db | Condition::PinkNoise10Db => {
                let snr_db = if *self == Condition::PinkNoise20Db {
                    20.0
                } else {
                    10.0
                };
                let noise = coloured_noise(NoiseColour::Pink, y.len(), &mut rng(DRAW_PINK));
                add_at_snr(&mut y, &noise, snr_db);
                out(y, sr)
            }
            Condition::Reverb04s => {
                let params = RirParams {
                    rt60_s: REVERB_RT60_S,
                    drr_db: REVERB_DRR_DB,
                    band_dependent: false,
                };
                let h = synthetic_rir(&params, sr, &mut rng(DRAW_ROOM))?;
                out(fft_convolve(&y, &h, y.len())?, sr)
            }
            Condition::Upsampled48k => {
                let mut up = resample(&y, sr, UPSAMPLED_RATE_HZ)?;
                let power = mean_power(&up);
                if power > 0.0 {
                    let mut white =
                        coloured_noise(NoiseColour::White, up.len(), &mut rng(DRAW_HIGH_BAND));
                    // Loud where the clip is loud: each 10 ms block scaled by the clip's RMS
                    // there, interpolated linearly between block centres.
                    shape_by_envelope(&mut white, &up, HIGH_BAND_ENVELOPE_BLOCK);
                    // The part of the noise above 8 kHz: the noise minus its band-limited self.
                    let low = channel::band_limit(&white, UPSAMPLED_RATE_HZ, HIGH_BAND_EDGE_HZ)?;
                    let high: Vec<f32> = white.iter().zip(&low).map(|(w, l)| w - l).collect();
                    add_at_snr(&mut up, &high, -HIGH_BAND_NOISE_DB);
                }
                out(up, UPSAMPLED_RATE_HZ)
            }
        })
    }
}

/// Multiplies `noise` by the RMS envelope of `signal` (blocks of `block` samples, linear
/// between block centres).
fn shape_by_envelope(noise: &mut [f32], signal: &[f32], block: usize) {
    let rms: Vec<f64> = signal
        .chunks(block)
        .map(|c| (c.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / c.len() as f64).sqrt())
        .collect();
    let half = block as f64 / 2.0;
    for (i, x) in noise.iter_mut().enumerate() {
        let pos = ((i as f64 - half) / block as f64).max(0.0);
        let k = (pos.floor() as usize).min(rms.len().saturating_sub(1));
        let next = (k + 1).min(rms.len().saturating_sub(1));
        let frac = pos - k as f64;
        let e = rms.get(k).copied().unwrap_or(0.0) * (1.0 - frac)
            + rms.get(next).copied().unwrap_or(0.0) * frac;
        *x = (f64::from(*x) * e) as f32;
    }
}

fn resample(samples: &[f32], from_hz: u32, to_hz: u32) -> Result<Vec<f32>, DataError> {
    ser_audio::resample(samples, from_hz, to_hz).map_err(|source| DataError::Audio {
        what: format!("resampling {from_hz} Hz -> {to_hz} Hz"),
        source,
    })
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Condition {
    type Err = DataError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Condition::all()
            .iter()
            .copied()
            .find(|c| c.name() == s)
            .ok_or_else(|| DataError::UnknownCondition {
                name: s.to_owned(),
                expected: Condition::all()
                    .iter()
                    .map(|c| c.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// Which side of the cutoff a filter passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassBand {
    /// Frequencies below the cutoff.
    Low,
    /// Frequencies above the cutoff.
    High,
}

/// One second-order section `H(z) = (b0 + b1 z^-1 + b2 z^-2) / (1 + a1 z^-1 + a2 z^-2)`
/// (normalised by `a0`), run in transposed direct form II in `f64`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Biquad {
    /// Numerator `b0, b1, b2`.
    pub b: [f64; 3],
    /// Denominator `a1, a2` (`a0 = 1`).
    pub a: [f64; 2],
}

impl Biquad {
    /// The low-pass or high-pass of R. Bristow-Johnson's *Cookbook formulae for audio EQ
    /// biquad filter coefficients* (the W3C Audio EQ Cookbook): `w0 = 2 pi f0 / fs`,
    /// `alpha = sin(w0) / (2 Q)`;
    /// LPF `b = ((1 - cos w0) / 2, 1 - cos w0, (1 - cos w0) / 2)`,
    /// HPF `b = ((1 + cos w0) / 2, -(1 + cos w0), (1 + cos w0) / 2)`,
    /// both `a = (1 + alpha, -2 cos w0, 1 - alpha)`, all divided by `a0 = 1 + alpha`. It is
    /// the bilinear transform of `1 / (s^2 + s / Q + 1)` (or `s^2 / ...`) with the frequency
    /// pre-warped to `f0`.
    pub fn rbj(pass: PassBand, f0_hz: f64, q: f64, sample_rate_hz: f64) -> Biquad {
        let w0 = 2.0 * PI * f0_hz / sample_rate_hz;
        let (sin, cos) = w0.sin_cos();
        let alpha = sin / (2.0 * q);
        let a0 = 1.0 + alpha;
        let b = match pass {
            PassBand::Low => [(1.0 - cos) / 2.0, 1.0 - cos, (1.0 - cos) / 2.0],
            PassBand::High => [(1.0 + cos) / 2.0, -(1.0 + cos), (1.0 + cos) / 2.0],
        };
        Biquad {
            b: b.map(|v| v / a0),
            a: [-2.0 * cos / a0, (1.0 - alpha) / a0],
        }
    }

    /// `|H(e^{j 2 pi f / fs})|`, evaluated from the coefficients.
    pub fn magnitude(&self, f_hz: f64, sample_rate_hz: f64) -> f64 {
        let w = 2.0 * PI * f_hz / sample_rate_hz;
        // z^-1 = e^{-jw}; |num| / |den| with num = b0 + b1 z^-1 + b2 z^-2.
        let eval = |c: [f64; 3]| {
            let re = c[0] + c[1] * w.cos() + c[2] * (2.0 * w).cos();
            let im = -c[1] * w.sin() - c[2] * (2.0 * w).sin();
            re.hypot(im)
        };
        eval(self.b) / eval([1.0, self.a[0], self.a[1]])
    }
}

/// A digital Butterworth filter of even order as a cascade of RBJ biquads ([`Biquad::rbj`]).
///
/// An analog Butterworth filter of order `N` factors into second-order sections with
/// `Q_k = 1 / (2 cos(theta_k))`, `theta_k = (2k - 1) pi / (2N)`, `k = 1..N/2` (its poles lie
/// on the unit circle at those angles from the negative real axis; e.g. Zölzer, *Digital
/// Audio Signal Processing*, 2nd ed., section 5.1). Each RBJ section is the bilinear
/// transform of one of them pre-warped at the same `f0`, so the cascade is the bilinear
/// transform of the whole analog filter: the filter of `scipy.signal.butter(N, f0, btype,
/// fs=fs)`, with `|H(f)|^2 = 1 / (1 + (tan(pi f / fs) / tan(pi f0 / fs))^(2N))` for the
/// low-pass (and the ratio inverted for the high-pass).
#[derive(Debug, Clone, PartialEq)]
pub struct Butterworth {
    sections: Vec<Biquad>,
}

impl Butterworth {
    /// A low-pass of order `order` (even, 2..=16) at `cutoff_hz` (0 < cutoff < fs / 2).
    pub fn low_pass(order: usize, cutoff_hz: f64, sample_rate_hz: f64) -> Result<Self, DataError> {
        Self::new(PassBand::Low, order, cutoff_hz, sample_rate_hz)
    }

    /// A high-pass of order `order` (even, 2..=16) at `cutoff_hz` (0 < cutoff < fs / 2).
    pub fn high_pass(order: usize, cutoff_hz: f64, sample_rate_hz: f64) -> Result<Self, DataError> {
        Self::new(PassBand::High, order, cutoff_hz, sample_rate_hz)
    }

    fn new(
        pass: PassBand,
        order: usize,
        cutoff_hz: f64,
        sample_rate_hz: f64,
    ) -> Result<Self, DataError> {
        const MAX_ORDER: usize = 16;
        let nyquist = sample_rate_hz / 2.0;
        if order == 0 || !order.is_multiple_of(2) || order > MAX_ORDER {
            return Err(DataError::InvalidAugment {
                setting: "butterworth.order",
                reason: format!("order {order}: need an even order in 2..={MAX_ORDER}"),
            });
        }
        if !(cutoff_hz > 0.0 && cutoff_hz < nyquist && nyquist.is_finite()) {
            return Err(DataError::InvalidAugment {
                setting: "butterworth.cutoff_hz",
                reason: format!(
                    "cutoff {cutoff_hz} Hz at {sample_rate_hz} Hz: need 0 < cutoff < {nyquist} Hz"
                ),
            });
        }
        let n = order as f64;
        let sections = (1..=order / 2)
            .map(|k| {
                let theta = (2.0 * k as f64 - 1.0) * PI / (2.0 * n);
                Biquad::rbj(pass, cutoff_hz, 1.0 / (2.0 * theta.cos()), sample_rate_hz)
            })
            .collect();
        Ok(Butterworth { sections })
    }

    /// The second-order sections.
    pub fn sections(&self) -> &[Biquad] {
        &self.sections
    }

    /// `|H|` at `f_hz`, from the coefficients.
    pub fn magnitude(&self, f_hz: f64, sample_rate_hz: f64) -> f64 {
        self.sections
            .iter()
            .map(|s| s.magnitude(f_hz, sample_rate_hz))
            .product()
    }

    /// Filters `samples` in place (from a zero state).
    pub fn process(&self, samples: &mut [f32]) {
        for s in &self.sections {
            let [b0, b1, b2] = s.b;
            let [a1, a2] = s.a;
            let (mut z1, mut z2) = (0.0f64, 0.0f64);
            for x in samples.iter_mut() {
                let input = f64::from(*x);
                let y = b0 * input + z1;
                z1 = b1 * input - a1 * y + z2;
                z2 = b2 * input - a2 * y;
                *x = y as f32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::augment::channel::schroeder_rt60;

    fn sine(freq_hz: f64, sample_rate_hz: u32, n: usize, amp: f64) -> Vec<f32> {
        (0..n)
            .map(|i| {
                (amp * (2.0 * PI * freq_hz * i as f64 / f64::from(sample_rate_hz)).sin()) as f32
            })
            .collect()
    }

    fn rms_db(x: &[f32]) -> f64 {
        10.0 * mean_power(x).log10()
    }

    fn audio(samples: Vec<f32>, sample_rate_hz: u32) -> ser_audio::Audio {
        ser_audio::Audio {
            samples,
            sample_rate_hz,
            channels: 1,
        }
    }

    /// The analytic digital Butterworth magnitude (bilinear transform, pre-warped cutoff).
    fn butterworth_db(pass: PassBand, order: usize, f0: f64, f: f64, fs: f64) -> f64 {
        let r = (PI * f / fs).tan() / (PI * f0 / fs).tan();
        let r = if pass == PassBand::Low { r } else { 1.0 / r };
        -10.0 * (1.0 + r.powi(2 * order as i32)).log10()
    }

    #[test]
    fn names_round_trip_through_display_fromstr_and_serde() {
        for &c in Condition::all() {
            let name = c.to_string();
            assert_eq!(name.parse::<Condition>().expect("parse"), c);
            let json = serde_json::to_string(&c).expect("json");
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(serde_json::from_str::<Condition>(&json).expect("back"), c);
        }
        let err = "telefone".parse::<Condition>().expect_err("unknown");
        assert!(err.to_string().contains("telephone"), "{err}");
        let set = Condition::standard_set();
        assert_eq!(set[0], Condition::Clean);
        assert_eq!(set.len(), 8);
        assert!(!set.contains(&Condition::GainPlus10Db));
    }

    #[test]
    fn butterworth_response_matches_the_analytic_one() {
        let fs = 8_000.0;
        let hp = Butterworth::high_pass(4, 300.0, fs).expect("hp");
        let lp = Butterworth::low_pass(4, 3_400.0, fs).expect("lp");
        for f in [
            50.0, 150.0, 300.0, 600.0, 1_000.0, 2_000.0, 3_000.0, 3_400.0, 3_700.0, 3_950.0,
        ] {
            for (filter, pass, f0) in [(&hp, PassBand::High, 300.0), (&lp, PassBand::Low, 3_400.0)]
            {
                let got = 20.0 * filter.magnitude(f, fs).log10();
                let want = butterworth_db(pass, 4, f0, f, fs);
                assert!(
                    (got - want).abs() < 1e-6 * want.abs().max(1.0),
                    "{pass:?} {f} Hz: {got} dB, analytic {want} dB"
                );
            }
        }
        // Values computed by hand from |H|^2 = 1 / (1 + r^8), r = tan(pi f/fs) / tan(pi f0/fs)
        // (what scipy.signal.butter(4, f0, fs=8000) gives): -3.0103 dB at the cutoffs,
        // low-pass 3000 Hz: r = 2.414214 / 4.165300 = 0.579601, -0.054963 dB; high-pass
        // 150 Hz: r = 0.118358 / 0.058973 = 2.006980 (inverted ratio), -24.219909 dB;
        // high-pass 100 Hz: -38.313734 dB.
        let db = |f: &Butterworth, hz: f64| 20.0 * f.magnitude(hz, fs).log10();
        assert!((db(&lp, 3_400.0) + 3.010_300).abs() < 1e-5);
        assert!((db(&hp, 300.0) + 3.010_300).abs() < 1e-5);
        assert!(
            (db(&lp, 3_000.0) + 0.054_963).abs() < 1e-5,
            "{}",
            db(&lp, 3_000.0)
        );
        assert!(
            (db(&hp, 150.0) + 24.219_909).abs() < 1e-5,
            "{}",
            db(&hp, 150.0)
        );
        assert!(
            (db(&hp, 100.0) + 38.313_734).abs() < 1e-5,
            "{}",
            db(&hp, 100.0)
        );
        assert!(Butterworth::low_pass(3, 1_000.0, fs).is_err());
        assert!(Butterworth::low_pass(4, 4_000.0, fs).is_err());
        assert!(Butterworth::high_pass(4, 0.0, fs).is_err());
    }

    #[test]
    fn telephone_passes_the_band_and_removes_the_rest() {
        let sr = 16_000;
        for (f, want_db) in [(1_000.0, 0.0), (100.0, -38.31), (3_000.0, -0.055)] {
            let x = audio(sine(f, sr, 16_000, 0.5), sr);
            let y = Condition::Telephone.apply(&x, 0, 0).expect("telephone");
            assert_eq!(y.sample_rate_hz, 8_000);
            assert_eq!(y.samples.len(), 8_000);
            // Steady state only (the filters start from rest).
            let gain_db = rms_db(&y.samples[2_000..7_000]) - rms_db(&x.samples);
            let analytic = butterworth_db(PassBand::High, 4, 300.0, f, 8_000.0)
                + butterworth_db(PassBand::Low, 4, 3_400.0, f, 8_000.0);
            assert!(
                (gain_db - analytic).abs() < 0.1,
                "{f} Hz: {gain_db} vs {analytic}"
            );
            assert!(
                (analytic - want_db).abs() < 0.5,
                "{f} Hz analytic {analytic}"
            );
        }
        // 6 kHz does not survive resampling to 8 kHz.
        let x = audio(sine(6_000.0, sr, 16_000, 0.5), sr);
        let y = Condition::Telephone.apply(&x, 0, 0).expect("telephone");
        assert!(rms_db(&y.samples[2_000..7_000]) - rms_db(&x.samples) < -80.0);
    }

    #[test]
    fn level_conditions() {
        let x = audio(sine(440.0, 16_000, 4_000, 0.25), 16_000);
        let quiet = Condition::GainMinus20Db.apply(&x, 0, 0).expect("gain");
        assert!((rms_db(&quiet.samples) - rms_db(&x.samples) + 20.0).abs() < 1e-4);
        let loud = Condition::GainPlus10Db.apply(&x, 0, 0).expect("gain");
        assert!((rms_db(&loud.samples) - rms_db(&x.samples) - 10.0).abs() < 1e-4);
        let peak = Condition::PeakNormalised.apply(&x, 0, 0).expect("peak");
        let max = peak.samples.iter().fold(0.0f32, |m, &v| m.max(v.abs()));
        assert!((max - PEAK_LEVEL).abs() < 1e-6, "{max}");
        let silent = audio(vec![0.0; 100], 16_000);
        assert_eq!(
            Condition::PeakNormalised
                .apply(&silent, 0, 0)
                .expect("peak"),
            silent
        );
        assert_eq!(Condition::Clean.apply(&x, 9, 9).expect("clean"), x);
    }

    #[test]
    fn pink_noise_conditions_hit_their_snr_and_are_paired() {
        let x = audio(sine(300.0, 16_000, 32_000, 0.3), 16_000);
        let mut added = Vec::new();
        for (c, snr) in [
            (Condition::PinkNoise20Db, 20.0),
            (Condition::PinkNoise10Db, 10.0),
        ] {
            let y = c.apply(&x, 1, 7).expect("noise");
            let n: Vec<f32> = y
                .samples
                .iter()
                .zip(&x.samples)
                .map(|(a, b)| a - b)
                .collect();
            let measured = rms_db(&x.samples) - rms_db(&n);
            assert!((measured - snr).abs() < 0.01, "{c}: {measured}");
            added.push(n);
        }
        // The same noise at two levels (10 dB apart, i.e. x sqrt(10)).
        let ratio = f64::from(added[1][1234]) / f64::from(added[0][1234]);
        assert!((ratio - 10f64.sqrt()).abs() < 1e-3, "{ratio}");
        // Deterministic in (seed, key); another key is other noise.
        let a = Condition::PinkNoise20Db.apply(&x, 1, 7).expect("a");
        assert_eq!(a, Condition::PinkNoise20Db.apply(&x, 1, 7).expect("again"));
        assert_ne!(
            a,
            Condition::PinkNoise20Db.apply(&x, 1, 8).expect("other key")
        );
        assert_ne!(
            a,
            Condition::PinkNoise20Db
                .apply(&x, 2, 7)
                .expect("other seed")
        );
    }

    #[test]
    fn reverb_condition_uses_an_rt60_of_0_4_s() {
        // The impulse response itself: an impulse through the condition.
        let mut impulse = vec![0.0f32; 16_000];
        impulse[0] = 1.0;
        let y = Condition::Reverb04s
            .apply(&audio(impulse, 16_000), 3, 4)
            .expect("reverb");
        assert_eq!(y.samples[0], 1.0, "direct path kept");
        let rt60 = schroeder_rt60(&y.samples, 16_000, 20.0).expect("decays");
        assert!((rt60 / REVERB_RT60_S - 1.0).abs() < 0.10, "{rt60}");
        let rest: f64 = y.samples[1..].iter().map(|&v| f64::from(v).powi(2)).sum();
        assert!(
            (10.0 * rest.log10()).abs() < 0.1,
            "DRR 0 dB: rest energy {rest}"
        );
    }

    #[test]
    fn upsampled_adds_only_high_band_noise_at_minus_30_db() {
        let x = audio(sine(1_000.0, 16_000, 16_000, 0.3), 16_000);
        let y = Condition::Upsampled48k.apply(&x, 0, 5).expect("up");
        assert_eq!((y.sample_rate_hz, y.samples.len()), (48_000, 48_000));
        let clean_up = ser_audio::resample(&x.samples, 16_000, 48_000).expect("resample");
        let noise: Vec<f32> = y
            .samples
            .iter()
            .zip(&clean_up)
            .map(|(a, b)| a - b)
            .collect();
        let level = rms_db(&noise) - rms_db(&clean_up);
        assert!((level - HIGH_BAND_NOISE_DB).abs() < 0.01, "{level}");
        // Almost nothing of it below 8 kHz: back at 16 kHz the condition equals the clean
        // clip but for what the resampler's transition band (7.2-8 kHz) lets through of the
        // noise.
        let back = ser_audio::resample(&y.samples, 48_000, 16_000).expect("down");
        let back_clean = ser_audio::resample(&clean_up, 48_000, 16_000).expect("down");
        let residual: Vec<f32> = back.iter().zip(&back_clean).map(|(a, b)| a - b).collect();
        let leak = rms_db(&residual) - rms_db(&back_clean);
        assert!(leak < HIGH_BAND_NOISE_DB - 30.0, "{leak} dB");
    }

    #[test]
    fn every_condition_handles_short_and_silent_clips() {
        for samples in [vec![], vec![0.0; 10], vec![0.1; 3]] {
            let x = audio(samples, 22_050);
            for &c in Condition::all() {
                let y = c.apply(&x, 0, 0).expect("no error");
                assert_eq!(y.sample_rate_hz, c.output_rate_hz(22_050), "{c}");
                assert!(y.samples.iter().all(|v| v.is_finite()), "{c}");
            }
        }
        let bad = audio(vec![0.1; 100], 10);
        assert!(matches!(
            Condition::Telephone.apply(&bad, 0, 0),
            Err(DataError::Audio { .. })
        ));
    }
}
