//! Short-time Fourier transform: periodic Hann window, centred frames, zero padding, as
//! `librosa.stft(center=True, pad_mode="constant", window="hann")`.

use std::f64::consts::PI;
use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

/// The periodic ("DFT-even") Hann window of `win_len` samples, zero-padded at the centre to
/// `n_fft`, as `librosa.util.pad_center(scipy.signal.get_window("hann", win_len, fftbins=True), size=n_fft)`.
///
/// scipy evaluates it as `general_cosine` on `linspace(-pi, pi, win_len + 1)` and drops the
/// last point; this follows the same arithmetic.
pub fn hann_periodic_padded(win_len: usize, n_fft: usize) -> Vec<f64> {
    let m = win_len + 1;
    let step = 2.0 * PI / (m - 1) as f64;
    let mut window = vec![0.0; n_fft];
    let lpad = (n_fft - win_len) / 2;
    for (n, w) in window[lpad..lpad + win_len].iter_mut().enumerate() {
        let fac = n as f64 * step - PI;
        *w = 0.5 + 0.5 * fac.cos();
    }
    window
}

/// `|re + i im|` as numpy's vectorised `absolute` for complex64 evaluates it:
/// `larger * sqrt(fma(ratio, ratio, 1))` with `ratio = smaller / larger`, in float32.
///
/// The correctly rounded `hypotf` differs from it in the last bit for about a third of inputs,
/// and those bits decide near-ties in librosa's tuning estimate. With `FMA` the fused
/// multiply-add is the CPU's; without, it is evaluated in f64 (`ratio * ratio` is exact there)
/// and rounded to f32. The two agree for every f32 `ratio` in [0, 1] (checked exhaustively by
/// `fused_and_f64_forms_agree_for_every_ratio`), so the output does not depend on the CPU.
#[inline(always)]
fn complex64_abs<const FMA: bool>(re: f32, im: f32) -> f32 {
    let (re, im) = (re.abs(), im.abs());
    let (larger, smaller) = (re.max(im), re.min(im));
    // Branch-free so that the loop over bins vectorises; 0/0 is masked to 0 as numpy does.
    let ratio = smaller / larger;
    let ratio = if larger > 0.0 { ratio } else { 0.0 };
    larger * one_plus_square::<FMA>(ratio).sqrt()
}

/// `1 + ratio^2` rounded once to f32 (see [`complex64_abs`]).
#[inline(always)]
fn one_plus_square<const FMA: bool>(ratio: f32) -> f32 {
    if FMA {
        ratio.mul_add(ratio, 1.0)
    } else {
        let ratio = f64::from(ratio);
        (ratio * ratio + 1.0) as f32
    }
}

/// `|X|^2` of each bin as numpy computes `np.abs(S.astype(complex64)) ** 2` (see
/// [`complex64_abs`]). A plain loop: inside a SIMD kernel the compiler vectorises it with
/// in-register shuffles for the interleaved re/im pairs (an earlier version staged blocks of
/// eight through arrays on the stack, which cost store-to-load stalls).
#[inline(always)]
fn power_of_spectrum<const FMA: bool>(spectrum: &[Complex<f64>], out: &mut [f32]) {
    for (p, c) in out.iter_mut().zip(spectrum) {
        let magnitude = complex64_abs::<FMA>(c.re as f32, c.im as f32);
        *p = magnitude * magnitude;
    }
}

/// A planned STFT that produces power spectrograms.
///
/// # Shapes
/// Input: `n_samples` mono samples. Output: `n_frames x n_bins` (frame-major), with
/// `n_frames = 1 + n_samples / hop_len` and `n_bins = 1 + n_fft / 2`.
///
/// Numerics follow librosa: the frame is windowed and transformed in f64 (librosa's window is
/// float64, which promotes the product), the spectrum is rounded to complex64, and the power is
/// `|X|^2` computed in f32 as numpy does (`np.abs(S) ** 2` on complex64, see `complex64_abs`).
#[derive(Clone)]
pub struct StftPlan {
    n_fft: usize,
    hop_len: usize,
    window: Vec<f64>,
    fft: Arc<dyn RealToComplex<f64>>,
    frame: Vec<f64>,
    spectrum: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
    /// Whether the CPU has a fused multiply-add instruction.
    fma: bool,
}

impl std::fmt::Debug for StftPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StftPlan")
            .field("n_fft", &self.n_fft)
            .field("hop_len", &self.hop_len)
            .finish()
    }
}

impl StftPlan {
    /// Plans an STFT; `win_len <= n_fft`, `n_fft` even (checked by `FeatureConfig::validate`).
    pub fn new(n_fft: usize, win_len: usize, hop_len: usize) -> Self {
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n_fft);
        let frame = fft.make_input_vec();
        let spectrum = fft.make_output_vec();
        let scratch = fft.make_scratch_vec();
        Self {
            n_fft,
            hop_len,
            window: hann_periodic_padded(win_len, n_fft),
            fft,
            frame,
            spectrum,
            scratch,
            fma: crate::simd::has_fma(),
        }
    }

    /// Number of frequency bins (`1 + n_fft / 2`).
    pub fn n_bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// Number of centred frames for a signal of `n_samples`.
    pub fn n_frames(&self, n_samples: usize) -> usize {
        1 + n_samples / self.hop_len
    }

    /// Computes the power spectrogram of `samples` into `out` (resized to `n_frames * n_bins`).
    pub fn power(&mut self, samples: &[f32], out: &mut Vec<f32>) {
        // The windowing and magnitude loops with the widest SIMD the CPU has; the arithmetic
        // is element-wise, so the result is the same bit for bit on every CPU.
        crate::simd::dispatch(PowerFrames {
            plan: self,
            samples,
            out,
        });
    }

    #[inline(always)]
    fn power_frames(&mut self, samples: &[f32], out: &mut Vec<f32>) {
        let n_frames = self.n_frames(samples.len());
        let n_bins = self.n_bins();
        out.clear();
        out.resize(n_frames * n_bins, 0.0);
        let half = (self.n_fft / 2) as isize;
        for (t, row) in out.chunks_exact_mut(n_bins).enumerate() {
            // Frame t covers samples [t*hop - n_fft/2, t*hop + n_fft/2) of the zero-padded signal.
            let start = (t * self.hop_len) as isize - half;
            let end = start + self.n_fft as isize;
            if start >= 0 && end <= samples.len() as isize {
                let src = &samples[start as usize..end as usize];
                for ((x, w), &s) in self.frame.iter_mut().zip(&self.window).zip(src) {
                    *x = f64::from(s) * w;
                }
            } else {
                for (j, (x, w)) in self.frame.iter_mut().zip(&self.window).enumerate() {
                    let i = start + j as isize;
                    let inside = i >= 0 && (i as usize) < samples.len();
                    *x = if inside {
                        f64::from(samples[i as usize]) * w
                    } else {
                        0.0
                    };
                }
            }
            // The lengths come from the plan itself, so the transform cannot fail.
            let done = self.fft.process_with_scratch(
                &mut self.frame,
                &mut self.spectrum,
                &mut self.scratch,
            );
            debug_assert!(done.is_ok());
            if self.fma {
                power_of_spectrum::<true>(&self.spectrum, row);
            } else {
                power_of_spectrum::<false>(&self.spectrum, row);
            }
        }
    }
}

struct PowerFrames<'a> {
    plan: &'a mut StftPlan,
    samples: &'a [f32],
    out: &'a mut Vec<f32>,
}

impl crate::simd::Kernel for PowerFrames<'_> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        self.plan.power_frames(self.samples, self.out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hann_is_periodic_and_centred() {
        let w = hann_periodic_padded(4, 4);
        let expect = [0.0, 0.5, 1.0, 0.5];
        for (a, b) in w.iter().zip(expect) {
            assert!((a - b).abs() < 1e-15, "{w:?}");
        }
        let w = hann_periodic_padded(4, 8);
        assert_eq!(&w[..2], &[0.0, 0.0]);
        assert!((w[4] - 1.0).abs() < 1e-15);
        assert_eq!(&w[6..], &[0.0, 0.0]);
    }

    #[test]
    fn fused_and_f64_forms_agree_for_every_ratio() {
        // Every f32 in [0, 1]: the CPU's fused multiply-add and the f64 evaluation round
        // 1 + ratio^2 to the same f32 (no double-rounding case exists), so `complex64_abs`
        // gives the same bits with or without FMA.
        struct Check;
        impl crate::simd::Kernel for Check {
            type Output = Option<u32>;
            #[inline(always)]
            fn run(self) -> Option<u32> {
                let mut first_bad = None;
                for block in (0..=0x3f80_0000_u32).step_by(1 << 16) {
                    let end = (block + (1 << 16)).min(0x3f80_0001);
                    let bad = (block..end).fold(0_u32, |n, bits| {
                        let r = f32::from_bits(bits);
                        let (a, b) = (one_plus_square::<true>(r), one_plus_square::<false>(r));
                        n + u32::from(a.to_bits() != b.to_bits())
                    });
                    if bad > 0 && first_bad.is_none() {
                        first_bad = Some(block);
                    }
                }
                first_bad
            }
        }
        assert_eq!(crate::simd::dispatch(Check), None);
    }

    #[test]
    fn parseval_for_a_centred_frame() {
        // A constant signal: the middle frame sees the whole window, its DC bin is (sum w)^2.
        let mut plan = StftPlan::new(64, 64, 16);
        let samples = vec![1.0_f32; 256];
        let mut power = Vec::new();
        plan.power(&samples, &mut power);
        assert_eq!(power.len(), plan.n_frames(256) * plan.n_bins());
        let sum_w: f64 = hann_periodic_padded(64, 64).iter().sum();
        let dc = f64::from(power[8 * plan.n_bins()]);
        assert!((dc - sum_w * sum_w).abs() / (sum_w * sum_w) < 1e-6);
    }
}
