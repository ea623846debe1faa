//! Property tests: invariants that hold for any signal.

use proptest::prelude::*;
use ser_features::{FeatureConfig, FeatureError, FeatureExtractor, SavGol};

fn small_config() -> FeatureConfig {
    // A small, fast configuration with the same structure as the presets.
    FeatureConfig {
        sample_rate_hz: 8000,
        n_fft: 256,
        win_len: 200,
        hop_len: 80,
        mfcc_n_mels: 40,
        n_frames: 20,
        ..FeatureConfig::speech16k()
    }
}

fn signal() -> impl Strategy<Value = Vec<f32>> {
    (640_usize..3000).prop_flat_map(|n| prop::collection::vec(-1.0_f32..1.0, n))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn every_output_is_finite_and_in_range(samples in signal(), gain in 1e-6_f32..1.0) {
        let cfg = small_config();
        let mut ex = FeatureExtractor::new(&cfg).unwrap();
        let scaled: Vec<f32> = samples.iter().map(|x| x * gain).collect();
        let m = ex.extract_all_frames(&scaled).unwrap();
        let l = cfg.layout();
        prop_assert_eq!(m.n_frames, 1 + scaled.len() / cfg.hop_len);
        prop_assert!(m.data.iter().all(|v| v.is_finite()));
        prop_assert!(m.row(l.zcr).iter().all(|&z| (0.0..=1.0).contains(&z)));
        prop_assert!(m.row(l.rms).iter().all(|&r| r >= 0.0));
        for r in l.chroma.clone() {
            prop_assert!(m.row(r).iter().all(|&c| (0.0..=1.0 + 1e-6).contains(&c)));
        }
        // mel dB is relative to the loudest bin: at most 0 dB, at least -80 dB.
        for r in l.mel_db.clone() {
            prop_assert!(m.row(r).iter().all(|&d| (-80.0 - 1e-3..=1e-4).contains(&d)));
        }
    }

    #[test]
    fn fixed_size_output_has_the_configured_shape(samples in signal()) {
        let cfg = small_config();
        let m = FeatureExtractor::new(&cfg).unwrap().extract(&samples).unwrap();
        prop_assert_eq!((m.n_rows, m.n_frames, m.data.len()), (174, 20, 174 * 20));
    }

    #[test]
    fn cropped_extraction_is_the_crop_of_the_full_one(
        samples in signal(),
        n_frames in prop::sample::select(vec![1_usize, 2, 5, 8, 9, 12, 20, 30, 36, 37, 40]),
    ) {
        // `extract` skips the per-frame work past the crop; the result must not change by a bit
        // (n_frames from a single frame, through the deltas' window, to more than the signal has).
        let cfg = FeatureConfig { n_frames, ..small_config() };
        let mut ex = FeatureExtractor::new(&cfg).unwrap();
        let all = ex.extract_all_frames(&samples).unwrap();
        let n_all = all.n_frames;
        let full = all.fit_frames(n_frames);
        let cropped = ex.extract(&samples).unwrap();
        prop_assert_eq!(cropped.n_frames, n_frames);
        let bits = |m: &ser_features::FeatureMatrix| m.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        prop_assert!(bits(&full) == bits(&cropped), "differs with {} of {} frames", n_frames, n_all);
    }

    #[test]
    fn deltas_of_a_constant_are_zero(value in -100.0_f32..100.0, n in 9_usize..64) {
        let x = vec![value; n];
        let mut out = vec![f32::NAN; n];
        for order in [1, 2] {
            SavGol::new(9, order).apply(&x, &mut out);
            prop_assert!(out.iter().all(|v| v.abs() < 1e-3), "order {}: {:?}", order, out);
        }
    }
}

#[test]
fn a_constant_signal_has_zero_mfcc_deltas() {
    let cfg = small_config();
    let m = FeatureExtractor::new(&cfg)
        .unwrap()
        .extract_all_frames(&vec![0.25; 4000])
        .unwrap();
    let l = cfg.layout();
    // Away from the padded edges every frame is identical, so the deltas vanish there.
    for r in l.delta.clone().chain(l.delta2.clone()) {
        let row = m.row(r);
        assert!(
            row[8..row.len() - 8].iter().all(|v| v.abs() < 1e-3),
            "row {r}: {row:?}"
        );
    }
}

#[test]
fn bad_signals_are_refused_with_their_numbers() {
    let cfg = FeatureConfig::seed();
    let mut ex = FeatureExtractor::new(&cfg).unwrap();
    assert_eq!(ex.extract(&[]), Err(FeatureError::Empty));
    let mut x = vec![0.1; 5000];
    x[1234] = f32::NAN;
    assert!(matches!(
        ex.extract(&x),
        Err(FeatureError::NonFinite { index: 1234, .. })
    ));
    x[1234] = f32::INFINITY;
    assert!(matches!(
        ex.extract(&x),
        Err(FeatureError::NonFinite { index: 1234, .. })
    ));
    match ex.extract(&vec![0.1; 4095]) {
        Err(FeatureError::TooShort {
            n_samples: 4095,
            min_samples: 4096,
            ..
        }) => {}
        other => panic!("expected TooShort, got {other:?}"),
    }
    // Exactly the minimum works and gives 9 frames.
    assert_eq!(ex.extract_all_frames(&vec![0.1; 4096]).unwrap().n_frames, 9);
}
