//! The band a corpus's recordings actually occupy, measured from their audio, so that a run can
//! record the band its training audio had (the conditioned front end then limits every input
//! to it, see `ser_audio::band`).
//!
//! A file's sample rate bounds its band but does not give it: RAVDESS's 16 kHz copy was made
//! from 48 kHz recordings by a resampler whose pass band ends a little below 8 kHz, and a
//! telephone corpus stored at 16 or 44.1 kHz still holds nothing above 3.4 kHz. So the band is
//! read off the spectrum, as the spectral roll-off point with a very small energy share
//! (librosa's `feature.spectral_rolloff` with `roll_percent` near 1; here applied to the
//! long-term average spectrum of the file's louder frames instead of to each frame):
//!
//! - the long-term average power spectrum (Welch's method: Hann frames of `n_fft` samples, hop
//!   `n_fft / 2`, `n_fft` the power of two at or above `rate / 20`, so bins of 10-20 Hz at any
//!   rate) over the louder half of the frames, so that pauses do not put their noise floor
//!   in the average;
//! - the band edge: the upper edge of the lowest bin above which lies at most
//!   [`ENERGY_ABOVE_EDGE`] of the spectrum's energy (-50 dB). Speech recorded full-band falls
//!   off by about 12 dB per octave above 1 kHz and keeps far more than that above 8 kHz, while
//!   an anti-aliasing or telephone filter leaves 70 dB and more less.
//!
//! A corpus's band is the 90th percentile of the edges of a fixed, evenly spread sample of its
//! files ([`measure_corpus_band`]): the band nearly all of its files fit in. Quiet recordings,
//! whose faint top band falls under the threshold, lower a file's edge and are ignored that way;
//! files whose content legitimately differs in extent (a high voice, a scream) widen it, so
//! that the band is narrowed only when nearly every file is narrow.

use std::collections::BTreeMap;
use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};
use serde::{Deserialize, Serialize};

use crate::corpus::{Corpus, CorpusKind};

/// The share of the long-term spectrum's energy allowed above the band edge (-50 dB).
pub const ENERGY_ABOVE_EDGE: f64 = 1e-5;

/// Files measured per corpus by [`measure_corpus_band`] (evenly spread over its sorted list).
pub const FILES_PER_CORPUS: usize = 32;

/// Measures the occupied band of one recording: plan once ([`BandMeter::new`]), then
/// [`BandMeter::edge_hz`] per file; buffers are reused between files of the same rate.
pub struct BandMeter {
    planner: RealFftPlanner<f64>,
    plan: Option<(usize, Arc<dyn RealToComplex<f64>>)>,
    window: Vec<f64>,
    frame: Vec<f64>,
    spectrum: Vec<realfft::num_complex::Complex<f64>>,
}

impl std::fmt::Debug for BandMeter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BandMeter")
            .field("n_fft", &self.plan.as_ref().map(|(n, _)| *n))
            .finish_non_exhaustive()
    }
}

impl Default for BandMeter {
    fn default() -> Self {
        Self::new()
    }
}

impl BandMeter {
    /// A meter with no plan yet (made for the first file's rate).
    pub fn new() -> Self {
        BandMeter {
            planner: RealFftPlanner::new(),
            plan: None,
            window: Vec::new(),
            frame: Vec::new(),
            spectrum: Vec::new(),
        }
    }

    /// The FFT size for a sample rate: the power of two at or above `rate / 20` (at least 256).
    pub fn n_fft(sample_rate_hz: u32) -> usize {
        (sample_rate_hz as usize / 20).next_power_of_two().max(256)
    }

    fn plan_for(&mut self, n: usize) -> Arc<dyn RealToComplex<f64>> {
        if let Some((m, plan)) = &self.plan
            && *m == n
        {
            return Arc::clone(plan);
        }
        let plan = self.planner.plan_fft_forward(n);
        // Periodic Hann window, as scipy.signal.get_window("hann", n).
        self.window = (0..n)
            .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n as f64).cos())
            .collect();
        self.frame = plan.make_input_vec();
        self.spectrum = plan.make_output_vec();
        self.plan = Some((n, Arc::clone(&plan)));
        plan
    }

    /// The band edge in Hz of mono `samples` at `sample_rate_hz` (see the module docs), or
    /// `None` when the recording is shorter than one frame or silent.
    pub fn edge_hz(&mut self, samples: &[f32], sample_rate_hz: u32) -> Option<f64> {
        let n = Self::n_fft(sample_rate_hz);
        if samples.len() < n || sample_rate_hz == 0 {
            return None;
        }
        let plan = self.plan_for(n);
        let n_bins = n / 2 + 1;
        let hop = n / 2;
        let mut frames: Vec<(f64, Vec<f64>)> = Vec::new();
        let mut start = 0;
        while start + n <= samples.len() {
            for (i, (x, w)) in samples[start..start + n]
                .iter()
                .zip(&self.window)
                .enumerate()
            {
                self.frame[i] = f64::from(*x) * w;
            }
            plan.process(&mut self.frame, &mut self.spectrum).ok()?;
            let power: Vec<f64> = self.spectrum.iter().map(|c| c.norm_sqr()).collect();
            let energy = power.iter().sum::<f64>();
            frames.push((energy, power));
            start += hop;
        }
        // The louder half of the frames (at least one).
        frames.sort_by(|a, b| b.0.total_cmp(&a.0));
        frames.truncate(frames.len().div_ceil(2));
        let mut ltas = vec![0.0f64; n_bins];
        for (_, power) in &frames {
            for (acc, p) in ltas.iter_mut().zip(power) {
                *acc += p;
            }
        }
        // DC carries offsets, not band.
        ltas[0] = 0.0;
        let total: f64 = ltas.iter().sum();
        if total <= 0.0 || !total.is_finite() {
            return None;
        }
        let mut above = total;
        for (k, p) in ltas.iter().enumerate() {
            above -= p;
            if above <= ENERGY_ABOVE_EDGE * total {
                let bin_hz = f64::from(sample_rate_hz) / n as f64;
                return Some(((k as f64 + 0.5) * bin_hz).min(f64::from(sample_rate_hz) / 2.0));
            }
        }
        Some(f64::from(sample_rate_hz) / 2.0)
    }
}

/// The measured band of one corpus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorpusBand {
    /// The corpus.
    pub corpus: CorpusKind,
    /// Band edge of the measured files (90th percentile, nearest rank), Hz.
    pub edge_hz: f64,
    /// Files measured (decoded, not silent).
    pub files: usize,
}

/// The band of each corpus of `corpus` (one entry per [`CorpusKind`] it holds, in that
/// order): the 90th percentile (nearest rank) of the edges of up to [`FILES_PER_CORPUS`] files evenly spread over its
/// utterances. Files that cannot be read or decoded, or are silent, are passed over (the
/// feature extraction reports them); a corpus none of whose sampled files could be measured
/// has no entry.
pub fn measure_corpus_band(corpus: &Corpus) -> Vec<CorpusBand> {
    let mut by_kind: BTreeMap<CorpusKind, Vec<usize>> = BTreeMap::new();
    for (i, u) in corpus.items.iter().enumerate() {
        by_kind.entry(u.corpus).or_default().push(i);
    }
    let mut meter = BandMeter::new();
    let mut out = Vec::new();
    for (kind, items) in by_kind {
        let take = items.len().min(FILES_PER_CORPUS);
        let mut edges: Vec<f64> = (0..take)
            .map(|j| items[j * items.len() / take])
            .filter_map(|i| {
                let path = &corpus.items[i].path;
                let bytes = std::fs::read(path).ok()?;
                let audio = ser_audio::decode(&bytes, &path.display().to_string()).ok()?;
                meter.edge_hz(&audio.samples, audio.sample_rate_hz)
            })
            .collect();
        if edges.is_empty() {
            continue;
        }
        edges.sort_by(f64::total_cmp);
        // Nearest rank: the smallest edge at least 90% of the files lie within.
        let rank = (edges.len() * 9).div_ceil(10).max(1);
        let edge_hz = edges[rank - 1];
        out.push(CorpusBand {
            corpus: kind,
            edge_hz,
            files: edges.len(),
        });
    }
    out
}

/// The training band for a front end whose preset band is `preset_hz`, given the measured
/// bands of the training corpora: the preset's band unless a corpus occupies clearly less
/// (its edge below 90% of the preset's band, which a resampler's transition band never
/// causes), then the narrowest corpus's edge rounded up to 100 Hz (and at least 500 Hz, the
/// front end's lowest band).
pub fn training_band_hz(preset_hz: u32, measured: &[CorpusBand]) -> u32 {
    const MARGIN: f64 = 0.9;
    const STEP_HZ: f64 = 100.0;
    const MIN_HZ: u32 = 500;
    let narrowest = measured
        .iter()
        .map(|b| b.edge_hz)
        .fold(f64::INFINITY, f64::min);
    if !narrowest.is_finite() || narrowest >= MARGIN * f64::from(preset_hz) {
        return preset_hz;
    }
    let rounded = ((narrowest / STEP_HZ).ceil() * STEP_HZ) as u32;
    rounded.clamp(MIN_HZ, preset_hz)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    fn white(n: usize, seed: u64) -> Vec<f32> {
        let mut rng = SplitMix64::new(seed);
        (0..n)
            .map(|_| (rng.next_f64() * 2.0 - 1.0) as f32 * 0.3)
            .collect()
    }

    /// White noise shaped to fall by 12 dB per octave above 1 kHz (a speech-like spectrum):
    /// two one-pole low-passes at 1 kHz.
    fn speech_like(n: usize, rate: u32, seed: u64) -> Vec<f32> {
        let a = (-std::f64::consts::TAU * 1000.0 / f64::from(rate)).exp();
        let (mut y1, mut y2) = (0.0f64, 0.0f64);
        white(n, seed)
            .into_iter()
            .map(|x| {
                y1 = (1.0 - a) * f64::from(x) + a * y1;
                y2 = (1.0 - a) * y1 + a * y2;
                (4.0 * y2) as f32
            })
            .collect()
    }

    #[test]
    fn a_full_band_recording_reaches_near_nyquist() {
        let mut meter = BandMeter::new();
        let edge = meter.edge_hz(&white(48_000, 1), 48_000).expect("edge");
        assert!(edge > 23_000.0, "{edge}");
        let edge = meter
            .edge_hz(&speech_like(96_000, 48_000, 2), 48_000)
            .expect("edge");
        assert!(edge > 12_000.0, "speech-like at 48 kHz: {edge}");
    }

    #[test]
    fn an_upsampled_16k_copy_shows_its_8k_band() {
        let x16 = speech_like(32_000, 16_000, 3);
        let up = ser_audio::resample(&x16, 16_000, 48_000).expect("resample");
        let mut meter = BandMeter::new();
        let edge = meter.edge_hz(&up, 48_000).expect("edge");
        assert!((7_000.0..=8_100.0).contains(&edge), "{edge}");
        let edge16 = meter.edge_hz(&x16, 16_000).expect("edge");
        assert!(
            edge16 > 7_500.0,
            "the 16 kHz copy itself fills its band: {edge16}"
        );
    }

    #[test]
    fn a_telephone_band_recording_shows_its_band() {
        let x8 = speech_like(16_000, 8_000, 4);
        let limited = ser_audio::band_limit(&x8, 8_000, 3_400).expect("band");
        let up = ser_audio::resample(&limited, 8_000, 44_100).expect("resample");
        let edge = BandMeter::new().edge_hz(&up, 44_100).expect("edge");
        assert!((3_000.0..=3_700.0).contains(&edge), "{edge}");
    }

    #[test]
    fn level_does_not_move_the_edge_and_silence_has_none() {
        let x = speech_like(48_000, 48_000, 5);
        let quiet: Vec<f32> = x.iter().map(|s| s * 0.01).collect();
        let mut meter = BandMeter::new();
        let (a, b) = (
            meter.edge_hz(&x, 48_000).expect("edge"),
            meter.edge_hz(&quiet, 48_000).expect("edge"),
        );
        assert!((a - b).abs() < 1e-6 * a, "{a} vs {b}");
        assert_eq!(meter.edge_hz(&vec![0.0; 48_000], 48_000), None);
        assert_eq!(meter.edge_hz(&[0.1; 100], 48_000), None);
    }

    #[test]
    fn the_training_band_follows_only_a_clearly_narrower_corpus() {
        let band = |edge_hz| CorpusBand {
            corpus: CorpusKind::Ravdess,
            edge_hz,
            files: 32,
        };
        assert_eq!(training_band_hz(8_000, &[]), 8_000);
        // A resampler's transition band: the preset's band stays.
        assert_eq!(training_band_hz(8_000, &[band(7_650.0)]), 8_000);
        assert_eq!(training_band_hz(8_000, &[band(15_000.0)]), 8_000);
        // A telephone corpus beside a wide one: the narrowest wins, rounded up.
        assert_eq!(
            training_band_hz(8_000, &[band(15_000.0), band(3_412.0)]),
            3_500
        );
        assert_eq!(training_band_hz(8_000, &[band(120.0)]), 500);
    }
}
