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
    let negative = |v: f32| v.abs() > THRESHOLD && v.is_sign_negative();
    // crossings[k] = 1 where padded sample k differs in sign from padded sample k - 1; the edge
    // padding repeats the first and last samples, so it adds no crossing. Prefix sums turn each
    // frame's count into one subtraction.
    let n_padded = samples.len() + 2 * half;
    let mut prefix = Vec::with_capacity(n_padded + 1);
    prefix.push(0_u32);
    prefix.resize(half + 2, 0);
    let mut count = 0_u32;
    let mut previous = samples.first().is_some_and(|&v| negative(v));
    prefix.extend(samples.iter().skip(1).map(|&v| {
        let now = negative(v);
        count += u32::from(now != previous);
        previous = now;
        count
    }));
    prefix.resize(n_padded + 1, count);
    // prefix[k + 1] = crossings among padded samples 1..=k.
    for (t, o) in out.iter_mut().enumerate() {
        let start = t * hop_len;
        // Crossings at padded positions start+1 ..= start+frame_len-1.
        let crossings = prefix[start + frame_len] - prefix[start + 1];
        *o = (f64::from(crossings) / frame_len as f64) as f32;
    }
}

/// Root-mean-square energy per centred, zero-padded frame, as
/// `librosa.feature.rms(y=y, frame_length, hop_length, center=True, pad_mode="constant")`.
///
/// # Shapes
/// `out` has `1 + samples.len() / hop_len` values.
pub fn rms(samples: &[f32], frame_len: usize, hop_len: usize, out: &mut [f32]) {
    let half = frame_len / 2;
    pulp::Arch::new().dispatch(|| {
        for (t, o) in out.iter_mut().enumerate() {
            // Frame t covers [t*hop - half, t*hop - half + frame_len) of the zero-padded signal.
            let start = (t * hop_len).saturating_sub(half);
            let end = (t * hop_len + frame_len - half).min(samples.len());
            let energy = sum_of_squares(&samples[start.min(end)..end]);
            *o = (energy / frame_len as f64).sqrt() as f32;
        }
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
