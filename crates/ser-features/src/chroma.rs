//! Chroma from a power spectrogram with librosa's tuning estimation, as
//! `librosa.feature.chroma_stft(S=power, sr, tuning=None, n_chroma=12, norm=inf)`.
//!
//! 1. Tuning: `librosa.estimate_tuning(S=power, sr, bins_per_octave=12)`: `piptrack` finds
//!    local spectral peaks between 150 Hz and 4 kHz above 10% of each frame's maximum, refines
//!    them by parabolic interpolation, keeps those at least as strong as the median peak, and
//!    `pitch_tuning` takes the mode of their deviations from the equal-tempered grid (a
//!    histogram of 100 bins over [-0.5, 0.5) semitone). The arithmetic follows numpy's float32
//!    evaluation so that peaks on a bin edge fall on the same side.
//! 2. Filter bank: `librosa.filters.chroma(sr, n_fft, tuning, n_chroma=12, ctroct=5, octwidth=2,
//!    norm=2, base_c=True)` (D. Ellis, "Chroma feature analysis and synthesis", 2007).
//! 3. Each frame is divided by its largest chroma value (`librosa.util.normalize(norm=inf)`);
//!    frames below float32's smallest normal number stay as they are.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::config::N_CHROMA;
use crate::mel::fft_frequencies;

/// `piptrack`'s default search band.
const PIPTRACK_FMIN_HZ: f64 = 150.0;
const PIPTRACK_FMAX_HZ: f64 = 4000.0;
/// `piptrack`'s default peak threshold relative to each frame's maximum.
const PIPTRACK_THRESHOLD: f32 = 0.1;
/// Histogram bins of `pitch_tuning(resolution=0.01)`.
const TUNING_BINS: usize = 100;

/// Chroma extraction with a cache of filter banks (one per tuning value met so far: at most
/// 100), shared between clones: the extractors of a parallel corpus build each bank once.
#[derive(Debug, Clone)]
pub struct Chroma {
    sample_rate_hz: u32,
    n_fft: usize,
    fft_freqs: Vec<f64>,
    banks: Arc<Mutex<HashMap<usize, Arc<SparseBank>>>>,
    freqs_buf: Vec<f32>,
    mags_buf: Vec<f32>,
    median_buf: Vec<f32>,
}

impl Chroma {
    /// Plans chroma for spectra of `1 + n_fft / 2` bins.
    pub fn new(sample_rate_hz: u32, n_fft: usize) -> Self {
        Self {
            sample_rate_hz,
            n_fft,
            fft_freqs: fft_frequencies(sample_rate_hz, n_fft),
            banks: Arc::default(),
            freqs_buf: Vec::new(),
            mags_buf: Vec::new(),
            median_buf: Vec::new(),
        }
    }

    /// Chroma of a power spectrogram, with the tuning estimated from all of it.
    ///
    /// # Shapes
    /// `power`: `n_frames x n_bins` frame-major; `out`: `n_out x 12` frame-major, the chroma of
    /// the first `n_out <= n_frames` frames.
    pub fn compute(&mut self, power: &[f32], out: &mut [f32]) {
        let n_bins = self.n_fft / 2 + 1;
        let tuning_bin = self.estimate_tuning_bin(power);
        let (sr, n_fft) = (self.sample_rate_hz, self.n_fft);
        let bank = {
            // A poisoned lock means another thread panicked while inserting; the map is valid.
            let mut banks = self.banks.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(banks.entry(tuning_bin).or_insert_with(|| {
                Arc::new(SparseBank::new(
                    &chroma_filterbank(sr, n_fft, tuning_of(tuning_bin)),
                    n_bins,
                ))
            }))
        };
        crate::simd::dispatch(ApplyBank {
            bank: &bank,
            power,
            n_bins,
            out,
        });
    }

    /// The tuning estimate in histogram bins (`tuning = -0.5 + bin * 0.01`).
    pub fn estimate_tuning(&mut self, power: &[f32]) -> f64 {
        tuning_of(self.estimate_tuning_bin(power))
    }

    fn estimate_tuning_bin(&mut self, power: &[f32]) -> usize {
        let n_bins = self.n_fft / 2 + 1;
        let sr = f64::from(self.sample_rate_hz);
        let fmax = PIPTRACK_FMAX_HZ.min(sr / 2.0);
        let lo = self
            .fft_freqs
            .iter()
            .position(|&f| f >= PIPTRACK_FMIN_HZ)
            .unwrap_or(n_bins);
        let hi = self
            .fft_freqs
            .iter()
            .position(|&f| f >= fmax)
            .unwrap_or(n_bins);
        self.freqs_buf.clear();
        self.mags_buf.clear();
        crate::simd::dispatch(Piptrack {
            power,
            n_bins,
            bins: lo.max(1)..hi,
            sample_rate_hz: sr,
            n_fft: self.n_fft as f64,
            freqs: &mut self.freqs_buf,
            mags: &mut self.mags_buf,
        });
        if self.freqs_buf.is_empty() {
            return TUNING_BINS / 2;
        }
        self.median_buf.clone_from(&self.mags_buf);
        let threshold = median_f32(&mut self.median_buf);
        let mut counts = [0_usize; TUNING_BINS];
        let edges: Vec<f64> = crate::mel::linspace(-0.5, 0.5, TUNING_BINS + 1);
        for (&f, &m) in self.freqs_buf.iter().zip(&self.mags_buf) {
            if m < threshold {
                continue;
            }
            // hz_to_octs in float32, as numpy evaluates it on a float32 array.
            let octs = (f / (440.0_f32 / 16.0)).log2();
            let scaled = 12.0_f32 * octs;
            let mut residual = scaled - scaled.floor();
            if residual >= 0.5 {
                residual -= 1.0;
            }
            let r = f64::from(residual);
            // np.histogram: bin i holds edges[i] <= r < edges[i + 1]; the last bin is closed.
            let mut bin = (((r + 0.5) * TUNING_BINS as f64) as usize).min(TUNING_BINS - 1);
            while bin > 0 && r < edges[bin] {
                bin -= 1;
            }
            while bin + 1 < TUNING_BINS && r >= edges[bin + 1] {
                bin += 1;
            }
            counts[bin] += 1;
        }
        let mut best = 0;
        for (i, &c) in counts.iter().enumerate() {
            if c > counts[best] {
                best = i;
            }
        }
        best
    }
}

/// `piptrack`'s peaks: for each frame, the local maxima along frequency within `bins` of the
/// spectrum thresholded at 10% of the frame's maximum, refined by parabolic interpolation.
/// Pushes each peak's frequency and interpolated magnitude.
struct Piptrack<'a> {
    power: &'a [f32],
    n_bins: usize,
    bins: std::ops::Range<usize>,
    sample_rate_hz: f64,
    n_fft: f64,
    freqs: &'a mut Vec<f32>,
    mags: &'a mut Vec<f32>,
}

impl crate::simd::Kernel for Piptrack<'_> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        const BLOCK: usize = 64;
        let n_bins = self.n_bins;
        for s in self.power.chunks_exact(n_bins) {
            let ref_value = PIPTRACK_THRESHOLD * crate::mel::max_f32(s);
            let x = |i: usize| if s[i] > ref_value { s[i] } else { 0.0 };
            let mut push = |i: usize| {
                // Parabolic interpolation (librosa's _pi_stencil) and np.gradient, in float32.
                let shift = if i + 1 < n_bins {
                    let a = s[i + 1] + s[i - 1] - 2.0 * s[i];
                    let b = (s[i + 1] - s[i - 1]) / 2.0;
                    if b.abs() >= a.abs() { 0.0 } else { -b / a }
                } else {
                    0.0
                };
                let avg = if i + 1 < n_bins {
                    (s[i + 1] - s[i - 1]) / 2.0
                } else {
                    s[i] - s[i - 1]
                };
                let dskew = 0.5 * avg * shift;
                let pitch =
                    ((i as f64 + f64::from(shift)) * self.sample_rate_hz / self.n_fft) as f32;
                if pitch > 0.0 {
                    self.freqs.push(pitch);
                    self.mags.push(s[i] + dskew);
                }
            };
            // util.localmax along frequency: bins with a right neighbour in blocks whose
            // comparisons vectorise, then the last bin (compared with its left only).
            let (start, end) = (self.bins.start, self.bins.end.min(n_bins - 1));
            let mut block_start = start;
            while block_start < end {
                let len = (end - block_start).min(BLOCK);
                let mut is_peak = [false; BLOCK];
                for (k, p) in is_peak[..len].iter_mut().enumerate() {
                    let i = block_start + k;
                    let xi = x(i);
                    *p = (xi > x(i - 1)) & (xi >= x(i + 1));
                }
                for (k, _) in is_peak[..len].iter().enumerate().filter(|(_, p)| **p) {
                    push(block_start + k);
                }
                block_start += len;
            }
            if self.bins.end == n_bins && self.bins.start < n_bins && x(n_bins - 1) > x(n_bins - 2)
            {
                push(n_bins - 1);
            }
        }
    }
}

/// Chroma of each frame through a filter bank, divided by the frame's largest value.
struct ApplyBank<'a> {
    bank: &'a SparseBank,
    power: &'a [f32],
    n_bins: usize,
    out: &'a mut [f32],
}

impl crate::simd::Kernel for ApplyBank<'_> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        for (frame, chroma) in self
            .power
            .chunks_exact(self.n_bins)
            .zip(self.out.chunks_exact_mut(N_CHROMA))
        {
            for (c, runs) in chroma.iter_mut().zip(&self.bank.rows) {
                let mut sum = 0.0;
                for (start, w) in runs {
                    sum += crate::mel::dot(w, &frame[*start..*start + w.len()]);
                }
                *c = sum;
            }
            let max = chroma.iter().fold(0.0_f32, |m, &v| m.max(v.abs()));
            let length = if max < f32::MIN_POSITIVE { 1.0 } else { max };
            chroma.iter_mut().for_each(|c| *c /= length);
        }
    }
}

/// The tuning (fraction of a semitone) of a histogram bin, as numpy's `linspace` edges.
fn tuning_of(bin: usize) -> f64 {
    bin as f64 * (1.0 / TUNING_BINS as f64) - 0.5
}

/// `numpy.median` of float32 values (mean of the two middle values for an even count).
///
/// By selection rather than a full sort: the same values as sorting in `f32::total_cmp` order.
fn median_f32(v: &mut [f32]) -> f32 {
    let n = v.len();
    let (below, &mut middle, _) = v.select_nth_unstable_by(n / 2, f32::total_cmp);
    if n % 2 == 1 {
        middle
    } else {
        let below_middle = below
            .iter()
            .copied()
            .max_by(f32::total_cmp)
            .unwrap_or(middle);
        (below_middle + middle) / 2.0
    }
}

/// A chroma filter bank without its negligible weights: per chroma, runs of consecutive bins.
///
/// Each bin's weights are a Gaussian in the distance to each pitch class, so far from its
/// pitch class a bin's weight for a chroma falls below 1e-30. Weights below
/// [`SparseBank::RELATIVE_FLOOR`] times the largest weight of their bin are dropped: the
/// dropped part of any chroma value is then below `12 * RELATIVE_FLOOR` times the largest
/// chroma value of the frame, i.e. below 1.2e-5 after the frame's max-normalisation (the
/// tolerance against librosa is 1e-3). About 45% of the weights remain, in about 8 runs
/// per chroma (one per octave).
#[derive(Debug, Clone)]
struct SparseBank {
    /// Per chroma: `(first bin, weights)` runs.
    rows: Vec<Vec<(usize, Vec<f32>)>>,
}

impl SparseBank {
    const RELATIVE_FLOOR: f32 = 1e-6;
    /// Gaps this short are kept inside a run (fewer, longer dot products).
    const MIN_GAP: usize = 16;

    /// # Shapes
    /// `dense`: `12 x n_bins` row-major.
    fn new(dense: &[f32], n_bins: usize) -> Self {
        let floor: Vec<f32> = (0..n_bins)
            .map(|i| {
                (0..N_CHROMA).fold(0.0_f32, |m, c| m.max(dense[c * n_bins + i]))
                    * Self::RELATIVE_FLOOR
            })
            .collect();
        let rows = dense
            .chunks_exact(n_bins)
            .map(|row| {
                let kept: Vec<usize> = (0..n_bins)
                    .filter(|&i| row[i] > floor[i] && row[i] > 0.0)
                    .collect();
                let mut runs: Vec<(usize, usize)> = Vec::new();
                for i in kept {
                    match runs.last_mut() {
                        Some((_, end)) if i <= *end + Self::MIN_GAP => *end = i + 1,
                        _ => runs.push((i, i + 1)),
                    }
                }
                runs.into_iter()
                    .map(|(start, end)| (start, row[start..end].to_vec()))
                    .collect()
            })
            .collect();
        Self { rows }
    }
}

/// The chroma filter bank, `12 x n_bins` row-major, as `librosa.filters.chroma`.
pub fn chroma_filterbank(sample_rate_hz: u32, n_fft: usize, tuning: f64) -> Vec<f32> {
    let n_chroma = N_CHROMA as f64;
    let sr = f64::from(sample_rate_hz);
    let a440 = 440.0 * 2.0_f64.powf(tuning / n_chroma);
    let step = sr / n_fft as f64;
    // Bin 0 gets a made-up value 1.5 octaves below bin 1.
    let mut frqbins: Vec<f64> = (1..n_fft)
        .map(|k| n_chroma * ((k as f64 * step) / (a440 / 16.0)).log2())
        .collect();
    frqbins.insert(0, frqbins[0] - 1.5 * n_chroma);
    let mut binwidth: Vec<f64> = frqbins.windows(2).map(|w| (w[1] - w[0]).max(1.0)).collect();
    binwidth.push(1.0);
    let half = (n_chroma / 2.0).round();
    let mut wts = vec![0.0_f64; N_CHROMA * n_fft];
    for c in 0..N_CHROMA {
        for i in 0..n_fft {
            let d = (frqbins[i] - c as f64 + half + 10.0 * n_chroma).rem_euclid(n_chroma) - half;
            wts[c * n_fft + i] = (-0.5 * (2.0 * d / binwidth[i]).powi(2)).exp();
        }
    }
    for i in 0..n_fft {
        let norm = (0..N_CHROMA)
            .map(|c| wts[c * n_fft + i].powi(2))
            .sum::<f64>()
            .sqrt();
        let norm = if norm < f64::MIN_POSITIVE { 1.0 } else { norm };
        let octave_weight = (-0.5 * ((frqbins[i] / n_chroma - 5.0) / 2.0).powi(2)).exp();
        for c in 0..N_CHROMA {
            wts[c * n_fft + i] = wts[c * n_fft + i] / norm * octave_weight;
        }
    }
    // base_c: roll by -3 so that row 0 is C; keep the non-aliased bins.
    let n_bins = n_fft / 2 + 1;
    let mut bank = Vec::with_capacity(N_CHROMA * n_bins);
    for c in 0..N_CHROMA {
        let src = (c + 3) % N_CHROMA;
        bank.extend(
            wts[src * n_fft..src * n_fft + n_bins]
                .iter()
                .map(|&w| w as f32),
        );
    }
    bank
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_bank_stays_within_its_bound_of_the_dense_one() {
        let (sr, n_fft) = (22_050, 2048);
        let n_bins = n_fft / 2 + 1;
        let dense = chroma_filterbank(sr, n_fft, 0.13);
        let sparse = SparseBank::new(&dense, n_bins);
        let kept: usize = sparse.rows.iter().flatten().map(|(_, w)| w.len()).sum();
        assert!(kept < dense.len() * 3 / 4, "kept {kept} of {}", dense.len());
        // Spectra spanning many decades, where dropped weights could meet large powers.
        let mut state = 7_u64;
        for _ in 0..20 {
            let frame: Vec<f32> = (0..n_bins)
                .map(|_| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1);
                    10.0_f32.powf((state >> 40) as f32 / (1u64 << 24) as f32 * 12.0 - 8.0)
                })
                .collect();
            let exact: Vec<f64> = dense
                .chunks_exact(n_bins)
                .map(|w| {
                    w.iter()
                        .zip(&frame)
                        .map(|(&a, &b)| f64::from(a) * f64::from(b))
                        .sum()
                })
                .collect();
            let max = exact.iter().fold(0.0_f64, |m, &v| m.max(v));
            for (runs, e) in sparse.rows.iter().zip(&exact) {
                let got: f64 = runs
                    .iter()
                    .flat_map(|(start, w)| w.iter().zip(&frame[*start..]))
                    .map(|(&a, &b)| f64::from(a) * f64::from(b))
                    .sum();
                let bound = 12.0 * f64::from(SparseBank::RELATIVE_FLOOR) * max;
                assert!((got - e).abs() <= bound, "{got} vs {e} (bound {bound})");
            }
        }
    }

    #[test]
    fn median_by_selection_is_the_median_of_the_sorted_values() {
        for n in 1..40_usize {
            let v: Vec<f32> = (0..n)
                .map(|i| match i % 5 {
                    0 => 0.0,
                    1 => -0.0,
                    _ => ((i * 7919 % 101) as f32 - 50.0) * 0.25,
                })
                .collect();
            let mut sorted = v.clone();
            sorted.sort_by(f32::total_cmp);
            let expect = if n % 2 == 1 {
                sorted[n / 2]
            } else {
                (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
            };
            assert_eq!(
                median_f32(&mut v.clone()).to_bits(),
                expect.to_bits(),
                "n {n}"
            );
        }
    }

    #[test]
    fn a440_lights_up_a_in_tune() {
        // A pure A4 in the spectrum: the tuning estimate is ~0 and chroma peaks at A (index 9).
        let (sr, n_fft) = (22_050, 2048);
        let n_bins = n_fft / 2 + 1;
        let mut spectrum = vec![1e-6_f32; n_bins * 4];
        let k = 440.0 * n_fft as f64 / f64::from(sr);
        for frame in spectrum.chunks_exact_mut(n_bins) {
            let k0 = k.floor() as usize;
            frame[k0] = 1.0 - (k - k0 as f64) as f32;
            frame[k0 + 1] = (k - k0 as f64) as f32 * 1.2;
            frame[k0 - 1] = 0.1;
        }
        let mut chroma = Chroma::new(sr, n_fft);
        let tuning = chroma.estimate_tuning(&spectrum);
        assert!(tuning.abs() < 0.3, "tuning {tuning}");
        let mut out = vec![0.0; 4 * N_CHROMA];
        chroma.compute(&spectrum, &mut out);
        let argmax = out[..12]
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i);
        assert_eq!(argmax, Some(9));
        assert_eq!(out[9], 1.0);
    }

    #[test]
    fn silent_frames_stay_zero() {
        let mut chroma = Chroma::new(16_000, 512);
        let power = vec![0.0_f32; 257 * 3];
        let mut out = vec![f32::NAN; 36];
        chroma.compute(&power, &mut out);
        assert!(out.iter().all(|&v| v == 0.0));
    }
}
