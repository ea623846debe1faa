//! Augmentation: librosa-equal time stretch, determinism per seed, training side only.

mod common;

use std::f64::consts::TAU;

use ser_data::augment::{
    BabbleConfig, BandLimitConfig, ClippingConfig, ColouredNoiseConfig, GainConfig, NoiseConfig,
    PhaseVocoder, PitchShiftConfig, ReverbConfig, SpecAugmentConfig, TimeShiftConfig,
    TimeStretchConfig, pitch_shift,
};
use ser_data::{AugmentConfig, DataError, Gender, Protocol, SpecAugmenter, WaveAugmenter};

/// The chirp used to make the librosa fixture.
fn chirp(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let t = i as f64 / 16_000.0;
            (0.5 * (TAU * 220.0 * t).sin() + 0.3 * (TAU * (300.0 * t + 800.0 * t * t)).sin()) as f32
        })
        .collect()
}

/// `tests/fixtures/librosa_time_stretch_rate1.1.f32` was made with librosa 0.11:
/// ```python
/// t = np.arange(8000) / 16000.0
/// x = (0.5*np.sin(2*np.pi*220*t) + 0.3*np.sin(2*np.pi*(300*t + 800*t*t))).astype(np.float32)
/// librosa.effects.time_stretch(x, rate=1.1).astype("<f4").tofile(...)
/// ```
#[test]
fn time_stretch_equals_librosa() {
    let bytes = include_bytes!("fixtures/librosa_time_stretch_rate1.1.f32");
    let expected: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let y = PhaseVocoder::new()
        .time_stretch(&chirp(8000), 1.1)
        .expect("stretch");
    assert_eq!(y.len(), expected.len());
    let max_err = y
        .iter()
        .zip(&expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(max_err < 1e-4, "max abs error {max_err}");
}

/// Dominant frequency by zero crossings of a pure tone.
fn tone_freq(x: &[f32], sample_rate_hz: f64) -> f64 {
    let mid = &x[x.len() / 4..3 * x.len() / 4];
    let crossings = mid
        .windows(2)
        .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
        .count();
    crossings as f64 / 2.0 / (mid.len() as f64 / sample_rate_hz)
}

#[test]
fn pitch_shift_moves_pitch_and_keeps_length() {
    let sr = 16_000u32;
    let x: Vec<f32> = (0..16_000)
        .map(|i| (0.5 * (TAU * 440.0 * i as f64 / f64::from(sr)).sin()) as f32)
        .collect();
    let pv = PhaseVocoder::new();
    for semitones in [-2.0, 2.0] {
        let y = pitch_shift(&pv, &x, sr, semitones).expect("shift");
        assert_eq!(y.len(), x.len());
        let expected = 440.0 * (semitones / 12.0f64).exp2();
        let got = tone_freq(&y, f64::from(sr));
        assert!(
            (got - expected).abs() < 4.0,
            "{semitones}: {got} Hz, expected {expected}"
        );
    }
}

fn everything_on() -> AugmentConfig {
    AugmentConfig {
        copies: 3,
        time_stretch: Some(TimeStretchConfig::default()),
        pitch_shift: Some(PitchShiftConfig::default()),
        time_shift: Some(TimeShiftConfig::default()),
        gain: Some(GainConfig::default()),
        noise: Some(NoiseConfig::default()),
        spec_augment: Some(SpecAugmentConfig::default()),
        reverb: Some(ReverbConfig::default()),
        babble: Some(BabbleConfig::default()),
        coloured_noise: Some(ColouredNoiseConfig::default()),
        band_limit: Some(BandLimitConfig::default()),
        clipping: Some(ClippingConfig::default()),
    }
}

#[test]
fn waveform_augmentation_is_a_pure_function_of_seed_utterance_copy() {
    let corpus = common::synthetic(&[
        (1, Gender::Male, 4),
        (2, Gender::Female, 4),
        (3, Gender::Male, 4),
        (4, Gender::Female, 4),
    ]);
    let split = Protocol::SpeakerKFold {
        k: 2,
        val_speakers: 1,
    }
    .splits(&corpus)
    .expect("splits")
    .remove(0);
    let x = common::tone(5, 0.5);
    let a = WaveAugmenter::new(&everything_on(), 42).expect("augmenter");
    let b = WaveAugmenter::new(&everything_on(), 42).expect("augmenter");
    let c = WaveAugmenter::new(&everything_on(), 43).expect("augmenter");
    let u = split.train[0];
    let out = |w: &WaveAugmenter, utt: usize, copy: usize| {
        w.augment(&split, utt, copy, &x, common::SR)
            .expect("augment")
    };
    assert_eq!(out(&a, u, 0), out(&b, u, 0), "same seed, same output");
    assert_eq!(out(&a, u, 1), out(&a, u, 1), "repeatable");
    assert_ne!(out(&a, u, 0), out(&c, u, 0), "other seed, other output");
    assert_ne!(out(&a, u, 0), out(&a, u, 1), "other copy, other output");
    assert_ne!(
        out(&a, u, 0),
        out(&a, split.train[1], 0),
        "other utterance, other output"
    );
    assert_ne!(out(&a, u, 0), x, "it does something");

    // Validation and test utterances are refused, with or without babble.
    let talker = common::tone(9, 0.3);
    for &i in split.val.iter().chain(&split.test) {
        assert!(matches!(
            a.augment(&split, i, 0, &x, common::SR),
            Err(DataError::NotTraining { .. })
        ));
        assert!(matches!(
            a.augment_with_babble(&split, i, 0, &x, common::SR, &[&talker]),
            Err(DataError::NotTraining { .. })
        ));
    }
    // Babble drawn from the training side never names a validation or test utterance.
    for &i in &split.train {
        for copy in 0..3 {
            let picked = a.babble_sources(i, copy, &split.train);
            assert!(picked.iter().all(|p| split.is_train(*p) && *p != i));
        }
    }
    let with = a
        .augment_with_babble(&split, u, 0, &x, common::SR, &[&talker])
        .expect("augment");
    assert_ne!(with, out(&a, u, 0), "babble is mixed in");
}

#[test]
fn spec_augment_is_deterministic_and_training_only() {
    let corpus = common::synthetic(&[
        (1, Gender::Male, 3),
        (2, Gender::Female, 3),
        (3, Gender::Male, 3),
    ]);
    let split = Protocol::SpeakerKFold {
        k: 3,
        val_speakers: 0,
    }
    .splits(&corpus)
    .expect("splits")
    .remove(0);
    let (rows, frames) = (40, 50);
    let base: Vec<f32> = (0..rows * frames).map(|i| 1.0 + i as f32).collect();
    let cfg = SpecAugmentConfig::default();
    let masked = |seed: u64, epoch: usize| {
        let mut d = base.clone();
        SpecAugmenter::new(&cfg, seed)
            .expect("spec")
            .apply(&split, split.train[0], epoch, &mut d, rows, frames)
            .expect("apply");
        d
    };
    assert_eq!(masked(1, 0), masked(1, 0));
    assert_ne!(masked(1, 0), masked(2, 0));
    assert_ne!(masked(1, 0), masked(1, 1));
    assert!(masked(1, 0).contains(&0.0));
    let spec = SpecAugmenter::new(&cfg, 1).expect("spec");
    let mut d = base.clone();
    assert!(matches!(
        spec.apply(&split, split.test[0], 0, &mut d, rows, frames),
        Err(DataError::NotTraining { .. })
    ));
    assert!(matches!(
        spec.apply(&split, split.train[0], 0, &mut d[..10], rows, frames),
        Err(DataError::ShapeMismatch { .. })
    ));
}
