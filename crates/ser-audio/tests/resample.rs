//! Resampling keeps tones, levels and timing; lengths follow `ceil(n * to / from)`.

mod common;

use common::*;
use proptest::prelude::*;
use ser_audio::{AudioError, StreamResampler, resample, resampled_len};

/// Index of the largest absolute value.
fn argmax_abs(x: &[f32]) -> usize {
    x.iter()
        .enumerate()
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .map(|(i, _)| i)
        .expect("non-empty")
}

#[test]
fn tone_48k_to_16k_stays_a_440_hz_tone_with_its_rms_and_phase() {
    let input = sine(440.0, 48_000, 48_000, 0.5);
    let output = resample(&input, 48_000, 16_000).expect("resamples");
    assert_eq!(output.len(), 16_000);
    let reference = sine(440.0, 16_000, 16_000, 0.5);

    // Correlation with the reference sinusoid, away from the edges.
    let (a, b) = (&output[400..15_600], &reference[400..15_600]);
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum();
    let correlation = dot / (rms(a) * rms(b) * a.len() as f64);
    assert!(correlation > 0.999_999, "correlation {correlation}");

    // RMS preserved within 1 % over the whole signal.
    let ratio = rms(&output) / rms(&input);
    assert!((ratio - 1.0).abs() < 0.01, "RMS ratio {ratio}");

    // Same amplitude and zero phase: the output is time-aligned with the input.
    let (amp, phase) = tone_fit(&output, 16_000, 440.0);
    assert!((amp - 0.5).abs() < 1e-3, "amplitude {amp}");
    assert!(phase.abs() < 1e-3, "phase {phase} rad");

    // And sample by sample in the middle.
    let max_err = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0_f32, f32::max);
    assert!(max_err < 1e-3, "max error {max_err}");
}

#[test]
fn zero_crossings_count_440_per_second() {
    let output = resample(&sine(440.0, 48_000, 48_000, 0.5), 48_000, 16_000).expect("resamples");
    let crossings = output
        .windows(2)
        .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
        .count();
    // 880 sign changes per second of a 440 Hz tone (±1 at the ends).
    assert!((879..=881).contains(&crossings), "{crossings} crossings");
}

#[test]
fn impulse_stays_at_its_time_downsampling() {
    // 48 kHz -> 16 kHz: input sample 4800 (0.1 s) is output sample 1600.
    let mut input = vec![0.0_f32; 9_600];
    input[4_800] = 1.0;
    let output = resample(&input, 48_000, 16_000).expect("resamples");
    assert_eq!(output.len(), 3_200);
    assert_eq!(argmax_abs(&output), 1_600);
    // Symmetric (linear-phase) response around the peak.
    for k in 1..40 {
        let (l, r) = (output[1_600 - k], output[1_600 + k]);
        assert!((l - r).abs() < 1e-6, "asymmetric at ±{k}: {l} vs {r}");
    }
}

#[test]
fn impulse_stays_at_its_time_for_44100_and_upsampling() {
    let mut input = vec![0.0_f32; 8_820];
    input[4_410] = 1.0; // 0.1 s
    let output = resample(&input, 44_100, 16_000).expect("resamples");
    assert_eq!(argmax_abs(&output), 1_600);

    let mut input = vec![0.0_f32; 1_600];
    input[800] = 1.0; // 0.1 s at 8 kHz
    let output = resample(&input, 8_000, 16_000).expect("resamples");
    assert_eq!(output.len(), 3_200);
    assert_eq!(argmax_abs(&output), 1_600);
    // The peak of a band-limited impulse is the filter's cutoff (0.987 of Nyquist here).
    assert!(
        (output[1_600] - 0.987).abs() < 0.005,
        "peak {}",
        output[1_600]
    );
}

#[test]
fn tone_44100_to_16000_keeps_frequency_and_level() {
    let input = sine(1_000.0, 44_100, 44_100, 0.25);
    let output = resample(&input, 44_100, 16_000).expect("resamples");
    assert_eq!(output.len(), 16_000);
    let (amp, phase) = tone_fit(&output, 16_000, 1_000.0);
    assert!(
        (amp - 0.25).abs() < 1e-3 && phase.abs() < 1e-3,
        "{amp} {phase}"
    );
}

#[test]
fn coprime_rates_work_and_stay_aligned() {
    // gcd(44101, 16000) = 1: the block is two whole seconds of input.
    let input = sine(440.0, 44_101, 44_101, 0.5);
    let output = resample(&input, 44_101, 16_000).expect("resamples");
    assert_eq!(output.len(), 16_000);
    let (amp, phase) = tone_fit(&output, 16_000, 440.0);
    assert!(
        (amp - 0.5).abs() < 1e-3 && phase.abs() < 1e-3,
        "{amp} {phase}"
    );
}

#[test]
fn content_above_the_new_nyquist_is_removed() {
    // A 12 kHz tone cannot exist at 16 kHz; without filtering it would alias to 4 kHz.
    let output = resample(&sine(12_000.0, 48_000, 48_000, 0.5), 48_000, 16_000).expect("resamples");
    let level = rms(&output[400..15_600]);
    assert!(level < 1e-4, "alias RMS {level}");
}

#[test]
fn dc_is_kept() {
    let output = resample(&vec![0.5_f32; 48_000], 48_000, 16_000).expect("resamples");
    for &v in &output[400..15_600] {
        assert!((v - 0.5).abs() < 1e-4, "{v}");
    }
}

#[test]
fn equal_rates_are_the_identity() {
    let input = sine(440.0, 16_000, 1_234, 0.3);
    assert_eq!(resample(&input, 16_000, 16_000).expect("identity"), input);
    let mut stream = StreamResampler::new(16_000, 16_000).expect("identity");
    assert_eq!(
        stream.process(&input[..100]).expect("ok"),
        input[..100].to_vec()
    );
    assert!(stream.finish().expect("ok").is_empty());
}

#[test]
fn empty_and_tiny_inputs() {
    assert!(resample(&[], 48_000, 16_000).expect("ok").is_empty());
    assert_eq!(resample(&[0.1], 48_000, 16_000).expect("ok").len(), 1);
    assert_eq!(resample(&[0.1], 8_000, 16_000).expect("ok").len(), 2);
    assert_eq!(resample(&[0.1; 4], 48_000, 16_000).expect("ok").len(), 2);
}

#[test]
fn bad_rates_are_errors() {
    for (from, to) in [(0, 16_000), (16_000, 0), (48_000, 999), (800_000, 16_000)] {
        let err = resample(&[0.0; 10], from, to).expect_err("bad rate");
        assert!(
            matches!(err, AudioError::BadResampleRate { from_hz, to_hz } if from_hz == from && to_hz == to),
            "{err:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Output length is exactly `ceil(n * to / from)` for any length and rate pair.
    #[test]
    fn length_is_ceil_of_the_ratio(
        n in 0_usize..5_000,
        from in prop::sample::select(vec![8_000_u32, 11_025, 16_000, 22_050, 44_100, 48_000, 96_000]),
        to in prop::sample::select(vec![8_000_u32, 16_000, 22_050, 24_000, 48_000]),
    ) {
        let input = vec![0.25_f32; n];
        let output = resample(&input, from, to).expect("resamples");
        prop_assert_eq!(output.len(), resampled_len(n, from, to));
        prop_assert_eq!(output.len() as u128, (n as u128 * u128::from(to)).div_ceil(u128::from(from)));
    }

    /// Feeding a stream in arbitrary pieces gives bit-identical output to the one-shot call.
    #[test]
    fn streaming_equals_one_shot(
        cuts in prop::collection::vec(0_usize..3_000, 0..8),
        n in 0_usize..9_000,
    ) {
        let input = sine(440.0, 48_000, n, 0.4);
        let whole = resample(&input, 48_000, 16_000).expect("resamples");
        let mut stream = StreamResampler::new(48_000, 16_000).expect("valid");
        let mut pieces = Vec::new();
        let mut rest = &input[..];
        for cut in cuts {
            let (head, tail) = rest.split_at(cut.min(rest.len()));
            pieces.extend(stream.process(head).expect("ok"));
            rest = tail;
        }
        pieces.extend(stream.process(rest).expect("ok"));
        pieces.extend(stream.finish().expect("ok"));
        prop_assert_eq!(pieces, whole);
    }
}

/// Found by the decoding fuzz target: a float WAV file may hold samples near `f32::MAX`,
/// whose FFTs overflowed to NaN inside rubato, which then panicked.
#[test]
fn samples_near_the_float_maximum_are_an_error_not_a_panic() {
    let mut samples = vec![0.1_f32; 48_000];
    samples[1000] = 3.0e38;
    samples[1001] = -3.0e38;
    let err = ser_audio::resample(&samples, 48_000, 16_000).expect_err("refused");
    assert!(err.to_string().contains("not audio"), "{err}");
    // The thread's cached resampler still works afterwards.
    let ok = ser_audio::resample(&[0.1_f32; 48_000], 48_000, 16_000).expect("resamples");
    assert_eq!(ok.len(), 16_000);
}
