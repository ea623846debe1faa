//! Formants F1-F3 and their bandwidths by linear prediction, per frame.
//!
//! The analysis follows eGeMAPS v02's formant chain (`GeMAPSv01b_core.lld.conf.inc`:
//! `cSpecResample` to 11 kHz, `cLpc` with `p = 11` by the autocorrelation method, then
//! `cFormantLpc` with `minF = 50`, `maxF = 5450`): the 20 ms Hamming frame of the voice rows,
//! band-limited to 5.5 kHz and seen at 11 kHz, an order-11 all-pole model, and formants from
//! the roots of its polynomial (F. Eyben et al., IEEE Trans. Affective Computing 7(2), 2016,
//! sec. 3.1). Textbook steps, each with its reference:
//!
//! - **Pre-emphasis** `1 - 0.97 z^-1` (L. Rabiner & R. Schafer, *Theory and Applications of
//!   Digital Speech Processing*, 2011, sec. 9.5), applied to the power spectrum as the gain
//!   `|1 - 0.97 e^{-jw}|^2 = 1 + 0.97^2 - 2 * 0.97 cos w`. openSMILE's chain has none; without
//!   it the glottal source's spectral tilt takes a pole pair below F1 (tested below).
//! - **Band-limited autocorrelation at the LPC rate**, from the power spectrum `P` of the
//!   zero-padded frame (Wiener-Khinchin): `r[k] = sum_f c_f P(f) cos(2 pi f k / fs_lpc)` over
//!   the bins up to `fs_lpc / 2` (`c_f = 1` at 0 Hz, 2 elsewhere). This is the autocorrelation
//!   of the frame resampled to `fs_lpc` by an ideal low-pass (what `cSpecResample` does with a
//!   slow inverse DFT), without forming the resampled frame. `fs_lpc = min(11 kHz, rate)`.
//! - **Levinson-Durbin** for `A(z) = 1 + sum a_i z^-i` (J. Makhoul, "Linear prediction: a
//!   tutorial review", Proc. IEEE 63(4), 1975, eqs. 38-40).
//! - **Roots of `A`** by the Aberth-Ehrlich iteration (O. Aberth, "Iteration methods for
//!   finding all zeros of a polynomial simultaneously", Math. Comp. 27, 1973), written here
//!   because no maintained pure-Rust crate solves polynomials without a linear-algebra stack
//!   (`nalgebra`'s companion-matrix eigenvalues would add it for an order-11 polynomial); it is
//!   tested on polynomials built from known roots. Roots outside the unit circle are reflected
//!   into it (`smileMath_complexIntoUnitCircle`).
//! - **Formants**: each root `z` with `Im z >= 0` gives `f = arg(z) fs_lpc / (2 pi)` and
//!   `bw = -ln|z| fs_lpc / pi` (`smileDsp_lpcrootsToFormants`; Rabiner & Schafer eq. 9.88);
//!   those in `(50 Hz, fs_lpc / 2 - 50 Hz)` sorted by frequency are F1, F2, F3, 0 where fewer.
//!
//! openSMILE's own values are not reproduced: on a synthetic vowel whose resonances are 700 and
//! 1200 Hz its eGeMAPS LLDs give F1 440, F2 1280 Hz with bandwidths above 1000 Hz (its
//! resampler keeps `min(input, output)` DFT terms, which at 16 kHz is 3.4 kHz of a 5.5 kHz
//! band, and it negates the coefficients before solving), where this module gives 705 and
//! 1200 Hz. The agreement with openSMILE on the fixtures is reported in `tests/egemaps.rs` and
//! the README; the ground truth is tested here.

use realfft::num_complex::Complex;

use crate::FeatureError;

/// Number of formant rows: F1, F2, F3 and their bandwidths.
pub const N_FORMANT_ROWS: usize = 6;

/// Names of the formant rows, openSMILE's eGeMAPS LLD names without the `_sma3nz` suffix.
pub const FORMANT_ROW_NAMES: [&str; N_FORMANT_ROWS] = [
    "F1frequency",
    "F1bandwidth",
    "F2frequency",
    "F2bandwidth",
    "F3frequency",
    "F3bandwidth",
];

/// The highest rate the LPC sees (eGeMAPS' `targetFs = 11000`).
const LPC_RATE_HZ: f64 = 11_000.0;
/// Prediction order (eGeMAPS' `p = 11`).
const LPC_ORDER: usize = 11;
/// Pre-emphasis coefficient.
const PRE_EMPHASIS: f64 = 0.97;
/// Formants closer than this to 0 Hz or to the LPC Nyquist frequency are not formants
/// (eGeMAPS' `minF = 50`, `maxF = 5450` at 11 kHz).
const EDGE_HZ: f64 = 50.0;

/// F1-F3 of one frame: `(frequency Hz, bandwidth Hz)` each, `(0, 0)` where not found.
pub type Formants = [(f64, f64); 3];

/// A planned formant estimator for power spectra of one size: the cosine table of the
/// band-limited autocorrelation and the pre-emphasis gains built once, buffers reused.
///
/// # Shapes
/// Input: the power spectrum `|X(k)|^2` of a real frame zero-padded to `nfft` samples at
/// `sample_rate_hz`, bins `0..=nfft/2`.
#[derive(Debug, Clone)]
pub struct FormantEstimator {
    lpc_rate: f64,
    /// Bins `0..n_bins` are below the LPC Nyquist frequency.
    n_bins: usize,
    /// `c_f * pre-emphasis gain(f) * cos(2 pi f k / fs_lpc)`, lag-major: `(order + 1) x n_bins`.
    table: Vec<f64>,
    acf: Vec<f64>,
    lpc: Vec<f64>,
    scratch: Vec<f64>,
    roots: Vec<Complex<f64>>,
}

impl FormantEstimator {
    /// Plans the estimator for power spectra of an `nfft`-point DFT at `sample_rate_hz`.
    pub fn new(sample_rate_hz: u32, nfft: usize) -> Result<Self, FeatureError> {
        if nfft < 2 * (LPC_ORDER + 1) {
            return Err(FeatureError::invalid(
                "voice.spectral_frame_length",
                nfft,
                "the formant analysis needs a DFT of at least 24 points",
            ));
        }
        let sr = f64::from(sample_rate_hz);
        let lpc_rate = LPC_RATE_HZ.min(sr);
        let df = sr / nfft as f64;
        let n_bins = (((lpc_rate / 2.0) / df).floor() as usize + 1).min(nfft / 2 + 1);
        let mut table = vec![0.0; (LPC_ORDER + 1) * n_bins];
        for j in 0..n_bins {
            let f = j as f64 * df;
            let w = 2.0 * std::f64::consts::PI * f / sr;
            let gain = 1.0 + PRE_EMPHASIS * PRE_EMPHASIS - 2.0 * PRE_EMPHASIS * w.cos();
            let c = if j == 0 { 1.0 } else { 2.0 };
            for k in 0..=LPC_ORDER {
                let phase = 2.0 * std::f64::consts::PI * f * k as f64 / lpc_rate;
                table[k * n_bins + j] = c * gain * phase.cos();
            }
        }
        Ok(Self {
            lpc_rate,
            n_bins,
            table,
            acf: vec![0.0; LPC_ORDER + 1],
            lpc: vec![0.0; LPC_ORDER + 1],
            scratch: vec![0.0; LPC_ORDER + 1],
            roots: Vec::with_capacity(LPC_ORDER),
        })
    }

    /// F1-F3 of the frame whose power spectrum is `power` (see the shapes above); all
    /// `(0, 0)` for a silent frame.
    pub fn estimate(&mut self, power: &[f64]) -> Formants {
        let mut out = [(0.0, 0.0); 3];
        let n = self.n_bins.min(power.len());
        for (k, r) in self.acf.iter_mut().enumerate() {
            let row = &self.table[k * self.n_bins..k * self.n_bins + n];
            *r = row.iter().zip(&power[..n]).map(|(c, p)| c * p).sum();
        }
        if !(self.acf[0] > 0.0 && self.acf[0].is_finite()) {
            return out;
        }
        if levinson(&self.acf, &mut self.lpc, &mut self.scratch).is_none() {
            return out;
        }
        polynomial_roots(&self.lpc, &mut self.roots);
        let (lo, hi) = (EDGE_HZ, self.lpc_rate / 2.0 - EDGE_HZ);
        let mut found = [(0.0, 0.0); LPC_ORDER];
        let mut n_found = 0;
        for &z in &self.roots {
            let z = if z.norm_sqr() > 1.0 {
                1.0 / z.conj()
            } else {
                z
            };
            if z.im < 0.0 {
                continue;
            }
            let f = z.arg() * self.lpc_rate / (2.0 * std::f64::consts::PI);
            if f > lo && f < hi {
                let bw = -z.norm().ln() * self.lpc_rate / std::f64::consts::PI;
                found[n_found] = (f, bw);
                n_found += 1;
            }
        }
        let found = &mut found[..n_found];
        found.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (o, f) in out.iter_mut().zip(found.iter()) {
            *o = *f;
        }
        out
    }
}

/// Levinson-Durbin recursion (Makhoul 1975, eqs. 38-40): the coefficients of
/// `A(z) = 1 + sum_{i=1..p} a_i z^-i` minimising the prediction error of a process with
/// autocorrelation `r[0..=p]`, into `a` (`a[0] = 1`), using `tmp` (length `p + 1`). Returns
/// the final prediction error, or `None` when the recursion breaks down (a zero error or a
/// reflection coefficient of magnitude 1 or more: `r` is not positive definite).
pub fn levinson(r: &[f64], a: &mut [f64], tmp: &mut [f64]) -> Option<f64> {
    let p = r.len() - 1;
    assert!(a.len() == p + 1 && tmp.len() == p + 1, "levinson buffers");
    a.fill(0.0);
    a[0] = 1.0;
    let mut err = r[0];
    for i in 1..=p {
        if err.is_nan() || err <= 0.0 {
            return None;
        }
        let acc: f64 = (0..i).map(|j| a[j] * r[i - j]).sum();
        let k = -acc / err;
        if k.is_nan() || k.abs() >= 1.0 {
            return None;
        }
        tmp[..=i].copy_from_slice(&a[..=i]);
        for j in 1..=i {
            a[j] = tmp[j] + k * tmp[i - j];
        }
        err *= 1.0 - k * k;
    }
    Some(err)
}

/// All roots of the polynomial `c[0] z^n + c[1] z^(n-1) + ... + c[n]` (`c[0] != 0`) into
/// `roots`, by the Aberth-Ehrlich iteration from starting points spread on a circle of the
/// Cauchy bound's radius; each root is then polished by Newton steps. Converges for simple
/// roots to about 1e-12 relative; multiple roots come back to about the square root of that.
pub fn polynomial_roots(c: &[f64], roots: &mut Vec<Complex<f64>>) {
    roots.clear();
    let n = c.len().saturating_sub(1);
    if n == 0 || c[0] == 0.0 {
        return;
    }
    // The monic polynomial's coefficients `c_i / c_0`, computed where used (no allocation:
    // this runs once per frame).
    let lead = c[0];
    // Cauchy bound: every root has |z| <= 1 + max |c_i / c_0|.
    let bound = 1.0 + c[1..].iter().fold(0.0_f64, |m, x| m.max((x / lead).abs()));
    let radius = if bound.is_finite() {
        bound.clamp(0.5, 2.0)
    } else {
        1.0
    };
    for i in 0..n {
        // Off-axis angles, so that no start is real and none is a conjugate of another.
        let theta = 2.0 * std::f64::consts::PI * (i as f64 + 0.25) / n as f64 + 0.4;
        roots.push(Complex::from_polar(radius, theta));
    }
    let eval = |z: Complex<f64>| -> (Complex<f64>, Complex<f64>) {
        // Horner for p and p'.
        let mut p = Complex::new(1.0, 0.0);
        let mut dp = Complex::new(0.0, 0.0);
        for &m in &c[1..] {
            dp = dp * z + p;
            p = p * z + m / lead;
        }
        (p, dp)
    };
    for _ in 0..200 {
        let mut max_step = 0.0_f64;
        for i in 0..n {
            let z = roots[i];
            let (p, dp) = eval(z);
            if p.norm() == 0.0 {
                continue;
            }
            let ratio = p / dp;
            let repulsion: Complex<f64> = (0..n)
                .filter(|&j| j != i)
                .map(|j| {
                    let d = z - roots[j];
                    if d.norm_sqr() == 0.0 {
                        Complex::new(0.0, 0.0)
                    } else {
                        1.0 / d
                    }
                })
                .sum();
            let step = ratio / (Complex::new(1.0, 0.0) - ratio * repulsion);
            if step.is_finite() {
                roots[i] = z - step;
                max_step = max_step.max(step.norm() / z.norm().max(1e-3));
            }
        }
        if max_step < 1e-14 {
            break;
        }
    }
    for z in roots.iter_mut() {
        for _ in 0..3 {
            let (p, dp) = eval(*z);
            let step = p / dp;
            if !step.is_finite() || step.norm() == 0.0 {
                break;
            }
            *z -= step;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An impulse train at `f0` (1 % period jitter) through a glottal tilt (two real poles at
    /// 0.95) and two-pole resonators at `formants` (Hz, bandwidth Hz), at 16 kHz.
    pub(crate) fn vowel(formants: &[(f64, f64)], f0: f64, n: usize) -> Vec<f32> {
        let sr = 16_000.0;
        let mut y = vec![0.0f64; n];
        let mut t = 0.0;
        let mut s = 7_u64;
        while (t as usize) < n {
            y[t as usize] = 1.0;
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            t += sr / f0 * (1.0 + 0.02 * u);
        }
        for _ in 0..2 {
            for i in 1..n {
                y[i] += 0.95 * y[i - 1];
            }
        }
        for &(fc, bw) in formants {
            let r = (-std::f64::consts::PI * bw / sr).exp();
            let (a1, a2) = (
                -2.0 * r * (2.0 * std::f64::consts::PI * fc / sr).cos(),
                r * r,
            );
            let (mut y1, mut y2) = (0.0, 0.0);
            for v in y.iter_mut() {
                let o = *v - a1 * y1 - a2 * y2;
                y2 = y1;
                y1 = o;
                *v = o;
            }
        }
        let peak = y.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        y.iter().map(|v| (0.5 * v / peak) as f32).collect()
    }

    #[test]
    fn roots_of_polynomials_built_from_known_roots() {
        let cases: [&[Complex<f64>]; 3] = [
            &[Complex::new(0.5, 0.0), Complex::new(-0.25, 0.0)],
            &[
                Complex::from_polar(0.97, 0.3),
                Complex::from_polar(0.97, -0.3),
                Complex::from_polar(0.9, 1.2),
                Complex::from_polar(0.9, -1.2),
                Complex::new(0.8, 0.0),
            ],
            &[
                Complex::from_polar(0.99, 0.2),
                Complex::from_polar(0.99, -0.2),
                Complex::from_polar(0.95, 0.5),
                Complex::from_polar(0.95, -0.5),
                Complex::from_polar(0.9, 1.4),
                Complex::from_polar(0.9, -1.4),
                Complex::from_polar(0.85, 2.2),
                Complex::from_polar(0.85, -2.2),
                Complex::from_polar(0.7, 2.9),
                Complex::from_polar(0.7, -2.9),
                Complex::new(-0.6, 0.0),
            ],
        ];
        for known in cases {
            // prod (z - r_i), real coefficients.
            let mut poly = vec![Complex::new(1.0, 0.0)];
            for &r in known {
                let mut next = vec![Complex::new(0.0, 0.0); poly.len() + 1];
                for (i, &c) in poly.iter().enumerate() {
                    next[i] += c;
                    next[i + 1] -= c * r;
                }
                poly = next;
            }
            let c: Vec<f64> = poly.iter().map(|z| z.re).collect();
            let mut roots = Vec::new();
            polynomial_roots(&c, &mut roots);
            assert_eq!(roots.len(), known.len());
            for r in known {
                let nearest = roots
                    .iter()
                    .map(|z| (z - r).norm())
                    .fold(f64::INFINITY, f64::min);
                assert!(nearest < 1e-9, "root {r} missed by {nearest}");
            }
        }
    }

    #[test]
    fn levinson_recovers_an_ar2_process() {
        // x[n] = 1.2 x[n-1] - 0.5 x[n-2] + e[n]: A(z) = 1 - 1.2 z^-1 + 0.5 z^-2. Its
        // autocorrelation by the Yule-Walker equations: r1 = 1.2 / 1.5 r0, r2 = 1.2 r1 - 0.5 r0.
        let r0 = 1.0;
        let r1 = 0.8;
        let r2 = 1.2 * r1 - 0.5 * r0;
        let (mut a, mut tmp) = (vec![0.0; 3], vec![0.0; 3]);
        let err = levinson(&[r0, r1, r2], &mut a, &mut tmp).unwrap();
        assert!(
            (a[1] + 1.2).abs() < 1e-12 && (a[2] - 0.5).abs() < 1e-12,
            "{a:?}"
        );
        assert!(err > 0.0 && err < r0);
        // Not positive definite: refused.
        assert!(levinson(&[1.0, 1.0, 1.0], &mut a, &mut tmp).is_none());
    }

    /// Each frame's `[F1, B1, F2, B2, F3, B3]` over the middle of `y`.
    fn frame_formants(y: &[f32], pre_emphasis_off: bool) -> Vec<[f64; 6]> {
        let nfft = 512;
        let mut est = FormantEstimator::new(16_000, nfft).unwrap();
        if pre_emphasis_off {
            // Divide the planned pre-emphasis back out.
            let df = 16_000.0 / nfft as f64;
            for k in 0..=LPC_ORDER {
                for j in 0..est.n_bins {
                    let w = 2.0 * std::f64::consts::PI * j as f64 * df / 16_000.0;
                    est.table[k * est.n_bins + j] /=
                        1.0 + PRE_EMPHASIS * PRE_EMPHASIS - 2.0 * PRE_EMPHASIS * w.cos();
                }
            }
        }
        let mut planner = realfft::RealFftPlanner::<f64>::new();
        let fft = planner.plan_fft_forward(nfft);
        let mut frames = Vec::new();
        for start in (4000..y.len() - 4000).step_by(160) {
            let mut frame: Vec<f64> = (0..nfft)
                .map(|i| {
                    if i < 320 {
                        let w = 0.54 - 0.46 * (2.0 * std::f64::consts::PI * i as f64 / 319.0).cos();
                        f64::from(y[start + i]) * w
                    } else {
                        0.0
                    }
                })
                .collect();
            let mut spec = fft.make_output_vec();
            fft.process(&mut frame, &mut spec).unwrap();
            let power: Vec<f64> = spec.iter().map(|c| c.norm_sqr()).collect();
            let [(f1, b1), (f2, b2), (f3, b3)] = est.estimate(&power);
            frames.push([f1, b1, f2, b2, f3, b3]);
        }
        frames
    }

    fn median_formants(y: &[f32]) -> [f64; 6] {
        let frames = frame_formants(y, false);
        std::array::from_fn(|i| {
            let mut c: Vec<f64> = frames.iter().map(|f| f[i]).collect();
            c.sort_by(f64::total_cmp);
            c[c.len() / 2]
        })
    }

    #[test]
    fn formants_of_synthetic_vowels_come_back() {
        // Vowels with five resonances (F4 3500, F5 4500 Hz as in adult speech).
        for (f1, f2, f3) in [
            (700.0, 1220.0, 2600.0),
            (300.0, 2300.0, 3000.0),
            (500.0, 1500.0, 2500.0),
        ] {
            let y = vowel(
                &[
                    (f1, 80.0),
                    (f2, 90.0),
                    (f3, 120.0),
                    (3500.0, 150.0),
                    (4500.0, 200.0),
                ],
                120.0,
                16_000,
            );
            let m = median_formants(&y);
            for (got, want, tol) in [(m[0], f1, 0.06), (m[2], f2, 0.06), (m[4], f3, 0.08)] {
                assert!(
                    (got - want).abs() <= tol * want,
                    "({f1}, {f2}, {f3}): got {m:?}"
                );
            }
            // Bandwidths of the order of the resonators' (tens to a few hundred Hz).
            for bw in [m[1], m[3], m[5]] {
                assert!(
                    bw > 0.0 && bw < 400.0,
                    "({f1}, {f2}, {f3}): bandwidths {m:?}"
                );
            }
        }
    }

    #[test]
    fn pre_emphasis_keeps_the_source_tilt_out_of_f1() {
        let y = vowel(
            &[(700.0, 80.0), (1220.0, 90.0), (2600.0, 120.0)],
            120.0,
            16_000,
        );
        // The share of frames whose F1 is within 10 % of 700 Hz.
        let hits = |frames: Vec<[f64; 6]>| {
            let n = frames.len() as f64;
            frames
                .iter()
                .filter(|f| (f[0] - 700.0).abs() < 70.0)
                .count() as f64
                / n
        };
        let (with, without) = (
            hits(frame_formants(&y, false)),
            hits(frame_formants(&y, true)),
        );
        assert!(with > 0.95, "with pre-emphasis: {with}");
        // Without it, the tilt's pole pair is taken for F1 on some frames.
        assert!(
            without < with,
            "without pre-emphasis: {without}, with: {with}"
        );
    }

    #[test]
    fn silence_and_short_dfts() {
        let mut est = FormantEstimator::new(16_000, 512).unwrap();
        assert_eq!(est.estimate(&vec![0.0; 257]), [(0.0, 0.0); 3]);
        assert!(
            est.estimate(&[f64::NAN; 257])
                .iter()
                .all(|(f, _)| *f == 0.0)
        );
        assert!(FormantEstimator::new(16_000, 16).is_err());
        // At 8 kHz the LPC sees the whole 4 kHz band.
        let est = FormantEstimator::new(8_000, 256).unwrap();
        assert_eq!((est.lpc_rate, est.n_bins), (8_000.0, 129));
    }
}
