//! Mel scale, mel filter banks, decibels and the DCT behind MFCCs.

/// `sum a[i] * b[i]` in f32 with eight independent partial sums, which the compiler turns into
/// SIMD lanes (a single running sum is a dependency chain it may not reorder). The summation
/// order differs from a sequential loop by rounding only, as BLAS's `sdot` (which librosa's
/// `np.dot` of float32 arrays calls) does. Always inlined, so that inside a
/// `crate::simd` kernel the lanes are as wide as the CPU allows; the lanes and their order
/// are fixed, so the result is the same bit for bit on every CPU.
#[inline(always)]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0_f32; 8];
    let (a8, a_rest) = a.as_chunks::<8>();
    let (b8, b_rest) = b[..a.len().min(b.len())].as_chunks::<8>();
    for (x, y) in a8.iter().zip(b8) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f32 = a_rest.iter().zip(b_rest).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

/// The largest value of `x` (negative infinity when empty; `x` holds no NaN), with eight
/// independent running maxima so that the loop compiles to SIMD lanes (a single running
/// maximum is a dependency chain). The maximum is exact, so the result does not depend on
/// the order.
#[inline(always)]
pub(crate) fn max_f32(x: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; 8];
    let (x8, rest) = x.as_chunks::<8>();
    for chunk in x8 {
        for k in 0..8 {
            acc[k] = if chunk[k] > acc[k] { chunk[k] } else { acc[k] };
        }
    }
    rest.iter()
        .chain(&acc)
        .fold(f32::NEG_INFINITY, |m, &v| m.max(v))
}

/// Slaney's mel scale (librosa's default, `htk=False`): linear below 1 kHz, logarithmic above,
/// as `librosa.hz_to_mel`.
pub fn hz_to_mel(hz: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    let min_log_mel = MIN_LOG_HZ / F_SP;
    let logstep = 6.4_f64.ln() / 27.0;
    if hz >= MIN_LOG_HZ {
        min_log_mel + (hz / MIN_LOG_HZ).ln() / logstep
    } else {
        hz / F_SP
    }
}

/// Inverse of [`hz_to_mel`], as `librosa.mel_to_hz`.
pub fn mel_to_hz(mel: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    let min_log_mel = MIN_LOG_HZ / F_SP;
    let logstep = 6.4_f64.ln() / 27.0;
    if mel >= min_log_mel {
        MIN_LOG_HZ * (logstep * (mel - min_log_mel)).exp()
    } else {
        F_SP * mel
    }
}

/// `numpy.linspace(start, stop, n)` with numpy's arithmetic (`i * step + start`, exact end).
pub(crate) fn linspace(start: f64, stop: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![start];
    }
    let step = (stop - start) / (n - 1) as f64;
    let mut v: Vec<f64> = (0..n).map(|i| i as f64 * step + start).collect();
    v[n - 1] = stop;
    v
}

/// Centre frequencies of the FFT bins, as `numpy.fft.rfftfreq(n_fft, 1 / sr)`.
pub(crate) fn fft_frequencies(sample_rate_hz: u32, n_fft: usize) -> Vec<f64> {
    let val = 1.0 / (n_fft as f64 * (1.0 / f64::from(sample_rate_hz)));
    (0..=n_fft / 2).map(|k| k as f64 * val).collect()
}

/// A mel filter bank stored sparsely (each triangle's non-zero span).
///
/// Slaney-style triangles with area normalisation (`norm="slaney"`), exactly as
/// `librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk=False, norm="slaney", dtype=float32)`.
///
/// # Shapes
/// Applies to a power spectrum of `n_bins = 1 + n_fft / 2` values and yields `n_mels` values.
#[derive(Debug, Clone)]
pub struct MelFilterbank {
    filters: Vec<(usize, Vec<f32>)>,
}

impl MelFilterbank {
    /// Builds the bank.
    pub fn new(
        sample_rate_hz: u32,
        n_fft: usize,
        n_mels: usize,
        fmin_hz: f64,
        fmax_hz: f64,
    ) -> Self {
        let fftfreqs = fft_frequencies(sample_rate_hz, n_fft);
        let mel_f: Vec<f64> = linspace(hz_to_mel(fmin_hz), hz_to_mel(fmax_hz), n_mels + 2)
            .into_iter()
            .map(mel_to_hz)
            .collect();
        let filters = (0..n_mels)
            .map(|i| {
                let fdiff_lo = mel_f[i + 1] - mel_f[i];
                let fdiff_hi = mel_f[i + 2] - mel_f[i + 1];
                let enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
                let dense: Vec<f32> = fftfreqs
                    .iter()
                    .map(|&f| {
                        let lower = -(mel_f[i] - f) / fdiff_lo;
                        let upper = (mel_f[i + 2] - f) / fdiff_hi;
                        // librosa stores the triangle as float32, then scales it in float64.
                        let w = 0.0_f64.max(lower.min(upper)) as f32;
                        (f64::from(w) * enorm) as f32
                    })
                    .collect();
                let start = dense.iter().position(|&w| w != 0.0).unwrap_or(0);
                let end = dense
                    .iter()
                    .rposition(|&w| w != 0.0)
                    .map_or(start, |e| e + 1);
                (start, dense[start..end].to_vec())
            })
            .collect();
        Self { filters }
    }

    /// Number of mel bands.
    pub fn n_mels(&self) -> usize {
        self.filters.len()
    }

    /// Mel energies of one power-spectrum frame into `out` (`n_mels` values).
    #[inline(always)]
    pub fn apply(&self, power: &[f32], out: &mut [f32]) {
        for ((start, weights), o) in self.filters.iter().zip(out.iter_mut()) {
            *o = dot(weights, &power[*start..*start + weights.len()]);
        }
    }

    /// Mel energies of every frame of a power spectrogram, with the widest SIMD the CPU has.
    ///
    /// # Shapes
    /// `power`: `n_frames x n_bins` frame-major; `out`: `n_frames x n_mels` frame-major.
    pub fn apply_frames(&self, power: &[f32], n_bins: usize, out: &mut [f32]) {
        struct Frames<'a> {
            bank: &'a MelFilterbank,
            power: &'a [f32],
            n_bins: usize,
            out: &'a mut [f32],
        }
        impl crate::simd::Kernel for Frames<'_> {
            type Output = ();
            #[inline(always)]
            fn run(self) {
                for (frame, mel) in self
                    .power
                    .chunks_exact(self.n_bins)
                    .zip(self.out.chunks_exact_mut(self.bank.n_mels()))
                {
                    self.bank.apply(frame, mel);
                }
            }
        }
        crate::simd::dispatch(Frames {
            bank: self,
            power,
            n_bins,
            out,
        });
    }
}

/// `10 * log10(max(amin, x)) - 10 * log10(max(amin, reference))`, then floored at
/// `max - top_db`, in place, as `librosa.power_to_db(S, ref, amin=1e-10, top_db=80)` in float32.
pub fn power_to_db_in_place(values: &mut [f32], reference: f32, top_db: f32) {
    const AMIN: f32 = 1e-10;
    // libm's log10f, as before: a vectorised logarithm would be faster but would move the
    // output's last bits, and with them every published figure's exact reproduction.
    let ref_db = 10.0 * AMIN.max(reference.abs()).log10();
    let mut max = f32::NEG_INFINITY;
    for v in values.iter_mut() {
        *v = 10.0 * AMIN.max(*v).log10() - ref_db;
        max = max.max(*v);
    }
    let floor = max - top_db;
    for v in values.iter_mut() {
        *v = v.max(floor);
    }
}

/// Orthonormal DCT-II basis, the first `n_out` rows, as `scipy.fft.dct(x, type=2, norm="ortho")`
/// (which computes in float32 for float32 input, as here; the basis is evaluated in f64, then
/// rounded).
///
/// # Shapes
/// `n_out x n_in`, row-major.
#[derive(Debug, Clone)]
pub struct DctII {
    n_in: usize,
    basis: Vec<f32>,
}

impl DctII {
    /// Plans the first `n_out` coefficients of an `n_in`-point DCT-II.
    pub fn new(n_in: usize, n_out: usize) -> Self {
        let n = n_in as f64;
        let mut basis = Vec::with_capacity(n_in * n_out);
        for k in 0..n_out {
            let scale = if k == 0 {
                (1.0 / n).sqrt()
            } else {
                (2.0 / n).sqrt()
            };
            for m in 0..n_in {
                basis.push(
                    (scale
                        * (std::f64::consts::PI * k as f64 * (2 * m + 1) as f64 / (2.0 * n)).cos())
                        as f32,
                );
            }
        }
        Self { n_in, basis }
    }

    /// Transforms `input` (`n_in` values) into `out` (`n_out` values).
    #[inline(always)]
    pub fn apply(&self, input: &[f32], out: &mut [f32]) {
        for (row, o) in self.basis.chunks_exact(self.n_in).zip(out.iter_mut()) {
            *o = dot(row, input);
        }
    }

    /// Transforms every frame, with the widest SIMD the CPU has, writing coefficient `k` of
    /// frame `t` to `out[k * n_frames + t]`.
    ///
    /// # Shapes
    /// `frames`: `n_frames x n_in` frame-major; `out`: at least `n_out x n_frames`.
    pub fn apply_frames_transposed(&self, frames: &[f32], out: &mut [f32]) {
        struct Frames<'a> {
            dct: &'a DctII,
            frames: &'a [f32],
            out: &'a mut [f32],
        }
        impl crate::simd::Kernel for Frames<'_> {
            type Output = ();
            #[inline(always)]
            fn run(self) {
                let n_in = self.dct.n_in;
                let n_frames = self.frames.len() / n_in;
                for (t, input) in self.frames.chunks_exact(n_in).enumerate() {
                    for (k, row) in self.dct.basis.chunks_exact(n_in).enumerate() {
                        self.out[k * n_frames + t] = dot(row, input);
                    }
                }
            }
        }
        crate::simd::dispatch(Frames {
            dct: self,
            frames,
            out,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mel_scale_round_trips_and_matches_librosa() {
        for hz in [0.0, 100.0, 999.0, 1000.0, 4000.0, 11025.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9);
        }
        // librosa.hz_to_mel(1000.0) == 15.0, librosa.hz_to_mel(4000.0) == 35.16376...
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(4000.0) - 35.163_760_314_616_646).abs() < 1e-12);
    }

    #[test]
    fn slaney_filters_have_unit_area_in_hz() {
        // With norm="slaney" each triangle integrates to ~1 over frequency (in Hz).
        let bank = MelFilterbank::new(22_050, 8192, 40, 0.0, 11_025.0);
        let df = 22_050.0 / 8192.0;
        for (_, w) in &bank.filters {
            let area: f64 = w.iter().map(|&x| f64::from(x) * df).sum();
            assert!((area - 1.0).abs() < 0.02, "area {area}");
        }
    }

    #[test]
    fn dct_ortho_preserves_energy() {
        let x: Vec<f32> = (0..16).map(|i| ((i * 7) % 5) as f32 - 2.0).collect();
        let dct = DctII::new(16, 16);
        let mut y = vec![0.0; 16];
        dct.apply(&x, &mut y);
        let ex: f32 = x.iter().map(|v| v * v).sum();
        let ey: f32 = y.iter().map(|v| v * v).sum();
        assert!((ex - ey).abs() < 1e-4);
    }

    #[test]
    fn power_to_db_floors_at_top_db() {
        let mut v = vec![1.0, 1e-3, 1e-12, 0.0];
        power_to_db_in_place(&mut v, 1.0, 80.0);
        assert_eq!(v[0], 0.0);
        assert!((v[1] + 30.0).abs() < 1e-4);
        assert_eq!(v[2], -80.0);
        assert_eq!(v[3], -80.0);
    }
}
