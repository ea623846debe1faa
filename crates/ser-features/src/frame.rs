//! Time-domain frame features: zero-crossing rate and RMS.

/// Zero-crossing rate per centred frame, as
/// `librosa.feature.zero_crossing_rate(y, frame_length, hop_length, center=True)`:
/// the signal is padded by repeating its edge samples (`mode="edge"`), samples with
/// `|x| <= 1e-10` count as zero (positive), and the rate is the number of sign changes inside
/// the frame divided by `frame_len`.
///
/// # Shapes
/// `out` has `1 + samples.len() / hop_len` values.
pub fn zero_crossing_rate(samples: &[f32], frame_len: usize, hop_len: usize, out: &mut [f32]) {
    const THRESHOLD: f32 = 1e-10;
    let half = frame_len / 2;
    // Bit k of `crossings` is set when sample k differs in sign from sample k - 1 (bit 0 never
    // is); the edge padding repeats the first and last samples, so it adds no crossing.
    let n_words = samples.len().div_ceil(64);
    let mut crossings = vec![0_u64; n_words];
    struct SignChanges<'a> {
        samples: &'a [f32],
        crossings: &'a mut [u64],
    }
    impl crate::simd::Kernel for SignChanges<'_> {
        type Output = ();
        #[inline(always)]
        fn run(self) {
            let negative = |v: f32| v < -THRESHOLD;
            let mut carry = self.samples.first().is_some_and(|&v| negative(v));
            for (word, chunk) in self.crossings.iter_mut().zip(self.samples.chunks(64)) {
                let mut bits = 0_u64;
                for (k, &v) in chunk.iter().enumerate() {
                    bits |= u64::from(negative(v)) << k;
                }
                *word = bits ^ ((bits << 1) | u64::from(carry));
                carry = (bits >> (chunk.len() - 1)) & 1 == 1;
            }
        }
    }
    crate::simd::dispatch(SignChanges {
        samples,
        crossings: &mut crossings,
    });
    // Crossings at samples a..=b (clamped to the signal).
    let count = |a: usize, b: usize| -> u32 {
        let b = b.min(samples.len().saturating_sub(1));
        if a > b {
            return 0;
        }
        let (wa, wb) = (a / 64, b / 64);
        let low = u64::MAX << (a % 64);
        let high = u64::MAX >> (63 - b % 64);
        if wa == wb {
            return (crossings[wa] & low & high).count_ones();
        }
        (crossings[wa] & low).count_ones()
            + crossings[wa + 1..wb]
                .iter()
                .map(|w| w.count_ones())
                .sum::<u32>()
            + (crossings[wb] & high).count_ones()
    };
    for (t, o) in out.iter_mut().enumerate() {
        // Frame t holds padded samples t*hop .. t*hop + frame_len, i.e. signal samples from
        // t*hop - half; its crossings are at its samples 1 ..= frame_len - 1.
        let first = (t * hop_len + 1).saturating_sub(half);
        let last = (t * hop_len + frame_len - 1).checked_sub(half);
        let crossings = last.map_or(0, |last| count(first.max(1), last));
        *o = (f64::from(crossings) / frame_len as f64) as f32;
    }
}

/// Root-mean-square energy per centred, zero-padded frame, as
/// `librosa.feature.rms(y=y, frame_length, hop_length, center=True, pad_mode="constant")`.
///
/// # Shapes
/// `out` has `1 + samples.len() / hop_len` values.
pub fn rms(samples: &[f32], frame_len: usize, hop_len: usize, out: &mut [f32]) {
    struct Frames<'a> {
        samples: &'a [f32],
        frame_len: usize,
        hop_len: usize,
        out: &'a mut [f32],
    }
    impl crate::simd::Kernel for Frames<'_> {
        type Output = ();
        #[inline(always)]
        fn run(self) {
            let (frame_len, hop_len) = (self.frame_len, self.hop_len);
            let half = frame_len / 2;
            for (t, o) in self.out.iter_mut().enumerate() {
                // Frame t covers [t*hop - half, t*hop - half + frame_len) of the padded signal.
                let start = (t * hop_len).saturating_sub(half);
                let end = (t * hop_len + frame_len - half).min(self.samples.len());
                let energy = sum_of_squares(&self.samples[start.min(end)..end]);
                *o = (energy / frame_len as f64).sqrt() as f32;
            }
        }
    }
    crate::simd::dispatch(Frames {
        samples,
        frame_len,
        hop_len,
        out,
    });
}

/// `sum x^2` in f64 with eight independent partial sums (SIMD lanes; f64 keeps the rounding
/// far below float32's, which librosa's mean of float32 squares has).
#[inline(always)]
fn sum_of_squares(x: &[f32]) -> f64 {
    let mut acc = [0.0_f64; 8];
    let (x8, rest) = x.as_chunks::<8>();
    for chunk in x8 {
        for k in 0..8 {
            let v = f64::from(chunk[k]);
            acc[k] += v * v;
        }
    }
    let tail: f64 = rest.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
    acc.iter().sum::<f64>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternating_signal_crosses_every_sample() {
        let x: Vec<f32> = (0..64)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let mut out = vec![0.0; 1 + 64 / 8];
        zero_crossing_rate(&x, 16, 8, &mut out);
        // Interior frames: 15 crossings among 16 samples.
        assert!((out[4] - 15.0 / 16.0).abs() < 1e-7);
    }

    #[test]
    fn equals_counting_over_the_edge_padded_frames() {
        // The definition, frame by frame on the padded signal, on random signals of lengths
        // around the 64-sample words, with zeros and tiny values mixed in.
        let mut state = 11_u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407_u64);
            (state >> 33) as u32
        };
        for n in [1_usize, 2, 63, 64, 65, 127, 128, 129, 300, 1000] {
            let x: Vec<f32> = (0..n)
                .map(|_| match next() % 5 {
                    0 => 0.0,
                    1 => -1e-11,
                    2 => 0.5,
                    _ => -0.25,
                })
                .collect();
            for (frame_len, hop_len) in [(16, 4), (64, 16), (128, 32), (2, 1)] {
                let half = frame_len / 2;
                let padded: Vec<f32> = (0..n + 2 * half)
                    .map(|k| x[k.saturating_sub(half).min(n - 1)])
                    .collect();
                let negative = |v: f32| v.abs() > 1e-10 && v.is_sign_negative();
                let n_frames = 1 + n / hop_len;
                let mut out = vec![f32::NAN; n_frames];
                zero_crossing_rate(&x, frame_len, hop_len, &mut out);
                for (t, &got) in out.iter().enumerate() {
                    let frame = &padded[t * hop_len..t * hop_len + frame_len];
                    let count = frame
                        .windows(2)
                        .filter(|w| negative(w[0]) != negative(w[1]))
                        .count();
                    let expected = (count as f64 / frame_len as f64) as f32;
                    assert_eq!(got, expected, "n {n} frame {frame_len} hop {hop_len} t {t}");
                }
            }
        }
    }

    #[test]
    fn tiny_values_count_as_zero() {
        let x = vec![1e-12_f32, -1e-12, 1e-12, -1e-12];
        let mut out = vec![0.0; 1];
        zero_crossing_rate(&x, 4, 4, &mut out);
        assert_eq!(out[0], 0.0);
    }

    #[test]
    fn rms_of_a_constant_in_the_middle_is_the_constant() {
        let x = vec![0.5_f32; 100];
        let mut out = vec![0.0; 1 + 100 / 10];
        rms(&x, 20, 10, &mut out);
        assert!((out[5] - 0.5).abs() < 1e-7);
        // The first frame is half zero padding.
        assert!((out[0] - (0.125_f32).sqrt()).abs() < 1e-6);
    }
}
