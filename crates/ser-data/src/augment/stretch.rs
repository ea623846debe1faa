//! Phase-vocoder time stretching, following `librosa.effects.time_stretch` (librosa 0.11):
//! centred STFT (zero padding, periodic Hann window, `n_fft` 2048, hop 512), `phase_vocoder`
//! (magnitude interpolation between neighbouring frames, phase advance with principal-value
//! unwrapping), then ISTFT (window-sum-square normalisation) to `round(len / rate)` samples.

use std::f64::consts::{PI, TAU};
use std::fmt;
use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use crate::error::DataError;

/// librosa's default `n_fft` for `time_stretch`.
pub const STRETCH_N_FFT: usize = 2048;
/// librosa's default hop (`n_fft / 4`).
pub const STRETCH_HOP_LEN: usize = 512;

/// A planned phase vocoder (FFT plans, window and buffers); clone one per thread.
#[derive(Clone)]
pub struct PhaseVocoder {
    n_fft: usize,
    hop_len: usize,
    window: Vec<f64>,
    forward: Arc<dyn RealToComplex<f64>>,
    inverse: Arc<dyn ComplexToReal<f64>>,
}

impl fmt::Debug for PhaseVocoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PhaseVocoder")
            .field("n_fft", &self.n_fft)
            .field("hop_len", &self.hop_len)
            .finish_non_exhaustive()
    }
}

impl Default for PhaseVocoder {
    fn default() -> Self {
        PhaseVocoder::new()
    }
}

impl PhaseVocoder {
    /// librosa's defaults: `n_fft` 2048, hop 512, periodic Hann window.
    pub fn new() -> PhaseVocoder {
        let n_fft = STRETCH_N_FFT;
        let mut planner = RealFftPlanner::<f64>::new();
        // Periodic Hann (scipy `get_window("hann", n_fft, fftbins=True)`).
        let window = (0..n_fft)
            .map(|n| 0.5 - 0.5 * (TAU * n as f64 / n_fft as f64).cos())
            .collect();
        PhaseVocoder {
            n_fft,
            hop_len: STRETCH_HOP_LEN,
            window,
            forward: planner.plan_fft_forward(n_fft),
            inverse: planner.plan_fft_inverse(n_fft),
        }
    }

    /// Number of frequency bins (`1 + n_fft / 2`).
    fn n_bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// Centred STFT with zero padding: frame `t` covers padded samples `t*hop .. t*hop+n_fft`.
    /// Returns frames as `[frame][bin]`.
    ///
    /// The FFT runs in f64 and the result is rounded to complex f32, as librosa's complex64
    /// STFT of float32 audio is (numpy's FFT is accurate to f64). An f32 FFT is not enough:
    /// the phase vocoder carries the phase of near-silent bins forward, so their rounding
    /// noise would reappear in the output once a component sweeps through those bins.
    fn stft(&self, samples: &[f32]) -> Result<Vec<Vec<Complex<f32>>>, DataError> {
        let pad = self.n_fft / 2;
        let n_frames = 1 + samples.len() / self.hop_len;
        let mut input = self.forward.make_input_vec();
        let mut scratch = self.forward.make_scratch_vec();
        let mut spectrum = self.forward.make_output_vec();
        let mut frames = Vec::with_capacity(n_frames);
        for t in 0..n_frames {
            let start = (t * self.hop_len) as isize - pad as isize;
            for (n, slot) in input.iter_mut().enumerate() {
                let i = start + n as isize;
                let x = usize::try_from(i)
                    .ok()
                    .and_then(|i| samples.get(i))
                    .copied()
                    .unwrap_or(0.0);
                *slot = f64::from(x) * self.window[n];
            }
            self.forward
                .process_with_scratch(&mut input, &mut spectrum, &mut scratch)
                .map_err(|e| fft_error(&e))?;
            frames.push(
                spectrum
                    .iter()
                    .map(|c| Complex::new(c.re as f32, c.im as f32))
                    .collect(),
            );
        }
        Ok(frames)
    }

    /// `librosa.phase_vocoder(D, rate=rate, hop_length=512, n_fft=2048)`.
    fn phase_vocoder(&self, frames: &[Vec<Complex<f32>>], rate: f64) -> Vec<Vec<Complex<f32>>> {
        let n_bins = self.n_bins();
        let n_cols = frames.len();
        // np.arange(0, n_cols, rate): ceil(n_cols / rate) steps.
        let n_steps = (n_cols as f64 / rate).ceil() as usize;
        let phi_advance: Vec<f64> = (0..n_bins)
            .map(|k| PI * self.hop_len as f64 * k as f64 / (n_bins - 1) as f64)
            .collect();
        // Magnitude and phase of every input frame, computed once (each frame is used about
        // 2 / rate times); frames past the end are zero (librosa pads two zero columns).
        let polar: Vec<(Vec<f32>, Vec<f32>)> = frames
            .iter()
            .map(|f| {
                (
                    f.iter().map(|c| c.norm()).collect(),
                    f.iter().map(|c| c.arg()).collect(),
                )
            })
            .collect();
        let zero = (vec![0.0f32; n_bins], vec![0.0f32; n_bins]);
        let column = |i: usize| polar.get(i).unwrap_or(&zero);
        // librosa keeps the accumulator in float32 (the dtype of `np.angle` of a complex64
        // STFT); the phase advance and its unwrapping are float64. Kept as is, so that the
        // output matches librosa's (including its float32 phase rounding in high bins).
        let mut phase_acc: Vec<f32> = column(0).1.clone();
        let mut out = Vec::with_capacity(n_steps);
        for t in 0..n_steps {
            let step = t as f64 * rate;
            let left = step.floor() as usize;
            let alpha = step - step.floor();
            let ((mag0, phase0), (mag1, phase1)) = (column(left), column(left + 1));
            let mut frame = Vec::with_capacity(n_bins);
            for k in 0..n_bins {
                let mag = (1.0 - alpha) * f64::from(mag0[k]) + alpha * f64::from(mag1[k]);
                let (sin, cos) = phase_acc[k].sin_cos();
                frame.push(Complex::new(
                    (f64::from(cos) * mag) as f32,
                    (f64::from(sin) * mag) as f32,
                ));
                let mut dphase = f64::from(phase1[k]) - f64::from(phase0[k]) - phi_advance[k];
                // Principal value (np.round rounds half to even).
                dphase -= TAU * (dphase / TAU).round_ties_even();
                phase_acc[k] = (f64::from(phase_acc[k]) + phi_advance[k] + dphase) as f32;
            }
            out.push(frame);
        }
        out
    }

    /// `librosa.istft(D, hop_length=512, length=length)` (centred, periodic Hann).
    fn istft(&self, frames: &[Vec<Complex<f32>>], length: usize) -> Result<Vec<f32>, DataError> {
        let pad = self.n_fft / 2;
        let padded_length = length + 2 * pad;
        let n_frames = frames.len().min(padded_length.div_ceil(self.hop_len));
        let full_len = self.n_fft + self.hop_len * n_frames.saturating_sub(1);
        let mut y = vec![0.0f64; full_len];
        let mut win_sum = vec![0.0f64; full_len];
        let mut spectrum = self.inverse.make_input_vec();
        let mut frame_out = self.inverse.make_output_vec();
        let mut scratch = self.inverse.make_scratch_vec();
        let scale = 1.0 / self.n_fft as f64;
        for (t, frame) in frames.iter().take(n_frames).enumerate() {
            for (dst, src) in spectrum.iter_mut().zip(frame) {
                *dst = Complex::new(f64::from(src.re), f64::from(src.im));
            }
            // irfft ignores the imaginary parts of the DC and Nyquist bins; realfft rejects them.
            let last = spectrum.len() - 1;
            spectrum[0].im = 0.0;
            spectrum[last].im = 0.0;
            self.inverse
                .process_with_scratch(&mut spectrum, &mut frame_out, &mut scratch)
                .map_err(|e| fft_error(&e))?;
            let offset = t * self.hop_len;
            for n in 0..self.n_fft {
                let w = self.window[n];
                y[offset + n] += frame_out[n] * scale * w;
                win_sum[offset + n] += w * w;
            }
        }
        // librosa divides where the window sum exceeds the smallest normal float32.
        let tiny = f64::from(f32::MIN_POSITIVE);
        let out = (0..length)
            .map(|i| {
                let j = i + pad;
                let v = match (y.get(j), win_sum.get(j)) {
                    (Some(&v), Some(&w)) if w > tiny => v / w,
                    (Some(&v), _) => v,
                    _ => 0.0,
                };
                v as f32
            })
            .collect();
        Ok(out)
    }

    /// Stretches `samples` in time by `rate` (> 1 faster / shorter, < 1 slower / longer)
    /// without changing pitch: `librosa.effects.time_stretch(y, rate=rate)`. The output has
    /// `round(len / rate)` samples.
    pub fn time_stretch(&self, samples: &[f32], rate: f64) -> Result<Vec<f32>, DataError> {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(DataError::InvalidAugment {
                setting: "time_stretch.rate",
                reason: format!("{rate} is not a positive finite number"),
            });
        }
        if samples.is_empty() {
            return Ok(Vec::new());
        }
        let frames = self.stft(samples)?;
        let stretched = self.phase_vocoder(&frames, rate);
        let length = (samples.len() as f64 / rate).round_ties_even() as usize;
        self.istft(&stretched, length)
    }
}

fn fft_error(e: &realfft::FftError) -> DataError {
    DataError::InvalidAugment {
        setting: "fft",
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq_hz: f64, sample_rate_hz: f64, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (0.5 * (TAU * freq_hz * i as f64 / sample_rate_hz).sin()) as f32)
            .collect()
    }

    #[test]
    fn rate_one_reconstructs_the_signal() {
        let x = tone(440.0, 16_000.0, 8000);
        let y = PhaseVocoder::new().time_stretch(&x, 1.0).expect("stretch");
        assert_eq!(y.len(), x.len());
        let err = x
            .iter()
            .zip(&y)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(err < 1e-4, "max error {err}");
    }

    #[test]
    fn stretch_changes_length_not_pitch() {
        let sr = 16_000.0;
        let x = tone(500.0, sr, 16_000);
        let pv = PhaseVocoder::new();
        for rate in [0.9, 1.1] {
            let y = pv.time_stretch(&x, rate).expect("stretch");
            assert_eq!(y.len(), (16_000.0 / rate).round() as usize);
            // Zero crossings per second stay near 2 x 500 over the steady middle part.
            let mid = &y[2048..y.len() - 2048];
            let crossings = mid
                .windows(2)
                .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
                .count();
            let freq = crossings as f64 / 2.0 / (mid.len() as f64 / sr);
            assert!((freq - 500.0).abs() < 5.0, "rate {rate}: {freq} Hz");
        }
    }

    #[test]
    fn rejects_bad_rates() {
        let pv = PhaseVocoder::new();
        assert!(pv.time_stretch(&[0.0; 100], 0.0).is_err());
        assert!(pv.time_stretch(&[0.0; 100], f64::NAN).is_err());
        assert!(pv.time_stretch(&[], 1.1).expect("empty").is_empty());
    }
}
