//! The band limit of the conditioned front end: every input reaches the analysis with no
//! content above the band its model was trained on.
//!
//! A model trained on RAVDESS's 16 kHz copy has never seen energy above 8 kHz; the 48 kHz
//! release of the same clips has plenty, and an analysis at 22 050 Hz would hand it to the
//! model in its top mel bands. Limiting every input to the training band removes that
//! difference at the source. It is done by resampling: a recording whose Nyquist frequency
//! lies above the band edge is first resampled to `2 * band_hz` (rubato's anti-aliasing
//! filter, see [`mod@crate::resample`], is the low-pass), then to the analysis rate. So a 48 kHz
//! recording takes the path `48 kHz -> 16 kHz -> analysis rate`, its 16 kHz copy the path
//! `16 kHz -> analysis rate`, and both reach the analysis with the same samples to resampler
//! precision. A recording whose band is already within the edge is resampled once, exactly as
//! without a band limit (so the 16 kHz training copy gives the same features with and without
//! it). Reusing the resampler keeps one anti-aliasing filter in the project instead of adding
//! a second, separately designed low-pass.

use crate::error::AudioError;
use crate::resample::{StreamResampler, resample, resampled_len};

/// The intermediate rate of the band limit: `2 * band_hz` when `from_hz` lies above it,
/// `None` when the input is already within the band (or no band is set).
pub fn band_rate(from_hz: u32, band_hz: Option<u32>) -> Option<u32> {
    let band_rate = band_hz?.checked_mul(2)?;
    (from_hz > band_rate).then_some(band_rate)
}

/// `samples` at `from_hz`, band-limited to `band_hz` (when given) and resampled to `to_hz`.
pub fn resample_band_limited(
    samples: &[f32],
    from_hz: u32,
    to_hz: u32,
    band_hz: Option<u32>,
) -> Result<Vec<f32>, AudioError> {
    match band_rate(from_hz, band_hz) {
        Some(mid) => {
            let limited = resample(samples, from_hz, mid)?;
            resample(&limited, mid, to_hz)
        }
        None => resample(samples, from_hz, to_hz),
    }
}

/// The number of samples [`resample_band_limited`] gives for `len` input samples, and so what
/// a [`BandLimitedStream`] over them gives in all (its chunks and its [`finish`](BandLimitedStream::finish)
/// together): known before any resampling, e.g. to place analysis windows.
pub fn band_limited_len(len: usize, from_hz: u32, to_hz: u32, band_hz: Option<u32>) -> usize {
    match band_rate(from_hz, band_hz) {
        Some(mid) => resampled_len(resampled_len(len, from_hz, mid), mid, to_hz),
        None => resampled_len(len, from_hz, to_hz),
    }
}

/// `samples` at `sample_rate_hz` with everything above `band_hz` removed, at the same rate
/// (down to `2 * band_hz` and back up; unchanged when the rate is within the band). Used on
/// the training side after augmentations that add broadband sound.
pub fn band_limit(
    samples: &[f32],
    sample_rate_hz: u32,
    band_hz: u32,
) -> Result<Vec<f32>, AudioError> {
    match band_rate(sample_rate_hz, Some(band_hz)) {
        Some(mid) => {
            let mut y = resample(
                &resample(samples, sample_rate_hz, mid)?,
                mid,
                sample_rate_hz,
            )?;
            y.truncate(samples.len());
            y.resize(samples.len(), 0.0);
            Ok(y)
        }
        None => Ok(samples.to_vec()),
    }
}

/// [`resample_band_limited`] for a stream: chunks in at `from_hz`, band-limited chunks out
/// at `to_hz`. The concatenated output is that of [`resample_band_limited`] over the
/// concatenated input, however the input was cut: each stage is a [`StreamResampler`], and
/// the second is given exactly the first one's output.
#[derive(Debug)]
pub struct BandLimitedStream {
    first: StreamResampler,
    second: Option<StreamResampler>,
    mid: Vec<f32>,
}

impl BandLimitedStream {
    /// A stream from `from_hz` to `to_hz` through the band `band_hz`.
    pub fn new(from_hz: u32, to_hz: u32, band_hz: Option<u32>) -> Result<Self, AudioError> {
        Ok(match band_rate(from_hz, band_hz) {
            Some(mid) => BandLimitedStream {
                first: StreamResampler::new(from_hz, mid)?,
                second: Some(StreamResampler::new(mid, to_hz)?),
                mid: Vec::new(),
            },
            None => BandLimitedStream {
                first: StreamResampler::new(from_hz, to_hz)?,
                second: None,
                mid: Vec::new(),
            },
        })
    }

    /// Resamples one chunk, appending the output available so far to `out`.
    pub fn process_into(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<(), AudioError> {
        match &mut self.second {
            None => self.first.process_into(input, out),
            Some(second) => {
                self.mid.clear();
                self.first.process_into(input, &mut self.mid)?;
                second.process_into(&self.mid, out)
            }
        }
    }

    /// Flushes the filters' tails.
    pub fn finish(self) -> Result<Vec<f32>, AudioError> {
        let tail = self.first.finish()?;
        match self.second {
            None => Ok(tail),
            Some(mut second) => {
                let mut out = Vec::new();
                second.process_into(&tail, &mut out)?;
                out.extend(second.finish()?);
                Ok(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f64, rate: u32, seconds: f64) -> Vec<f32> {
        let n = (seconds * f64::from(rate)) as usize;
        (0..n)
            .map(|i| {
                (0.5 * (std::f64::consts::TAU * freq * i as f64 / f64::from(rate)).sin()) as f32
            })
            .collect()
    }

    fn rms(x: &[f32]) -> f64 {
        // Skip the edges, where the filters ring in and out.
        let x = &x[x.len() / 10..x.len() * 9 / 10];
        (x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
    }

    #[test]
    fn the_band_rate_is_used_only_above_the_band() {
        assert_eq!(band_rate(48_000, Some(8_000)), Some(16_000));
        assert_eq!(band_rate(16_000, Some(8_000)), None);
        assert_eq!(band_rate(8_000, Some(8_000)), None);
        assert_eq!(band_rate(48_000, None), None);
        assert_eq!(band_rate(48_000, Some(u32::MAX)), None);
    }

    #[test]
    fn content_above_the_band_is_removed_and_below_is_kept() {
        let high = resample_band_limited(&tone(10_000.0, 48_000, 1.0), 48_000, 22_050, Some(8_000))
            .expect("resample");
        assert!(rms(&high) < 1e-5, "10 kHz survives: {}", rms(&high));
        let low = resample_band_limited(&tone(1_000.0, 48_000, 1.0), 48_000, 22_050, Some(8_000))
            .expect("resample");
        let kept_db = 20.0 * (rms(&low) / (0.5 / 2f64.sqrt())).log10();
        assert!(kept_db.abs() < 0.05, "1 kHz moved by {kept_db} dB");
        let same_rate = band_limit(&tone(6_000.0, 22_050, 1.0), 22_050, 4_000).expect("limit");
        assert!(rms(&same_rate) < 1e-5);
        assert_eq!(same_rate.len(), 22_050);
    }

    #[test]
    fn a_recording_within_the_band_is_resampled_as_without_one() {
        let x = tone(440.0, 16_000, 0.5);
        assert_eq!(
            resample_band_limited(&x, 16_000, 22_050, Some(8_000)).expect("a"),
            resample(&x, 16_000, 22_050).expect("b")
        );
    }

    #[test]
    fn the_stream_gives_the_whole_signal_to_the_bit_and_its_length_is_known() {
        for (from, to, band) in [
            (48_000, 22_050, Some(8_000)),
            (1_000, 22_050, Some(8_000)),
            (16_000, 22_050, None),
            (22_050, 22_050, Some(8_000)),
        ] {
            let x = tone(300.0, from, 1.3);
            let whole = resample_band_limited(&x, from, to, band).expect("whole");
            assert_eq!(whole.len(), band_limited_len(x.len(), from, to, band));
            for chunk in [1, 777, 16_384] {
                let mut stream = BandLimitedStream::new(from, to, band).expect("stream");
                let mut out = Vec::new();
                for piece in x.chunks(chunk) {
                    stream.process_into(piece, &mut out).expect("chunk");
                }
                out.extend(stream.finish().expect("finish"));
                assert_eq!(
                    out.len(),
                    whole.len(),
                    "{from} -> {to} Hz in chunks of {chunk}"
                );
                assert!(
                    out.iter()
                        .zip(&whole)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{from} -> {to} Hz in chunks of {chunk}"
                );
            }
        }
    }

    #[test]
    fn the_stream_matches_the_whole_signal() {
        let x = tone(700.0, 48_000, 1.0);
        let whole = resample_band_limited(&x, 48_000, 22_050, Some(8_000)).expect("whole");
        let mut stream = BandLimitedStream::new(48_000, 22_050, Some(8_000)).expect("stream");
        let mut out = Vec::new();
        for chunk in x.chunks(4_801) {
            stream.process_into(chunk, &mut out).expect("chunk");
        }
        out.extend(stream.finish().expect("finish"));
        let n = whole.len().min(out.len());
        assert!(n + 2 >= whole.len(), "{} vs {}", out.len(), whole.len());
        let max_diff = whole[..n]
            .iter()
            .zip(&out[..n])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(max_diff < 1e-4, "{max_diff}");
    }
}
