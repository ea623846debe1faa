//! Property tests: pooling shapes and padding, probability rows, standardisation, and exact
//! JSON round trips of the stored numbers.

use std::sync::OnceLock;

use proptest::prelude::*;
use ser_classic::{
    Classifier, ForestConfig, Knn, KnnConfig, Padding, Pooling, RandomForest, Standardizer,
    SvmConfig, SvmModel, Weighting, trailing_zero_frames,
};

/// A small 3-class, 2-feature training set on a grid (with label noise, so every model has
/// mixed regions).
fn grid() -> (Vec<[f32; 2]>, Vec<usize>) {
    let mut x = Vec::new();
    let mut y = Vec::new();
    for i in 0..12 {
        for j in 0..12 {
            x.push([i as f32, j as f32 * 0.5]);
            y.push(if (i * 7 + j * 3) % 11 == 0 {
                (i + j) % 3
            } else {
                (i / 4 + j / 6) % 3
            });
        }
    }
    (x, y)
}

struct Models {
    svm: SvmModel,
    forest: RandomForest,
    knn: Knn,
}

fn models() -> &'static Models {
    static MODELS: OnceLock<Models> = OnceLock::new();
    MODELS.get_or_init(|| {
        let (x, y) = grid();
        Models {
            svm: SvmModel::fit(&x, &y, &SvmConfig::default(), 0).expect("svm fits"),
            forest: RandomForest::fit(
                &x,
                &y,
                &ForestConfig {
                    n_trees: 15,
                    ..ForestConfig::default()
                },
                0,
            )
            .expect("forest fits"),
            knn: Knn::fit(
                &x,
                &y,
                &KnnConfig {
                    k: 4,
                    weighting: Weighting::Distance,
                    ..KnnConfig::default()
                },
                0,
            )
            .expect("knn fits"),
        }
    })
}

fn check_rows(p: &[Vec<f32>], predicted: &[usize]) -> Result<(), TestCaseError> {
    for (row, &class) in p.iter().zip(predicted) {
        prop_assert_eq!(row.len(), 3);
        prop_assert!(row.iter().all(|v| (0.0..=1.0).contains(v)));
        let sum: f32 = row.iter().sum();
        prop_assert!((sum - 1.0).abs() < 1e-5, "sum {}", sum);
        prop_assert!(row.iter().all(|&v| v <= row[class]));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn probabilities_are_distributions(points in prop::collection::vec((-50f32..50.0, -50f32..50.0), 1..20)) {
        let x: Vec<[f32; 2]> = points.iter().map(|&(a, b)| [a, b]).collect();
        let m = models();
        check_rows(&m.svm.predict_proba(&x).unwrap(), &m.svm.predict(&x).unwrap())?;
        check_rows(&m.forest.predict_proba(&x).unwrap(), &m.forest.predict(&x).unwrap())?;
        check_rows(&m.knn.predict_proba(&x).unwrap(), &m.knn.predict(&x).unwrap())?;
    }

    #[test]
    fn pooling_ignores_trailing_padding(
        n_rows in 1usize..6,
        valid in 1usize..12,
        pad in 0usize..6,
        seed in any::<u64>(),
        mean_std in any::<bool>(),
    ) {
        let pooling = if mean_std { Pooling::MeanStd } else { Pooling::Mean };
        let n_frames = valid + pad;
        // Row 0 never zero, so no signal frame looks like padding.
        let mut state = seed;
        let mut value = || {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0
        };
        let mut padded = vec![0.0f32; n_rows * n_frames];
        let mut unpadded = vec![0.0f32; n_rows * valid];
        for r in 0..n_rows {
            for f in 0..valid {
                let v = if r == 0 { 3.0 + value().abs() } else { value() };
                padded[r * n_frames + f] = v;
                unpadded[r * valid + f] = v;
            }
        }
        prop_assert_eq!(trailing_zero_frames(&padded, n_rows, n_frames).unwrap(), pad);
        let rows: Vec<usize> = (0..n_rows).rev().collect();
        let a = pooling.pool(&padded, n_rows, n_frames, &rows, n_frames - pad).unwrap();
        let b = pooling.pool(&unpadded, n_rows, valid, &rows, valid).unwrap();
        prop_assert_eq!(a.len(), pooling.n_outputs(n_rows));
        prop_assert_eq!(a, b);
        // The default padding rule is the trimming one.
        prop_assert_eq!(Padding::default(), Padding::TrimTrailingZeros);
    }

    #[test]
    fn standardised_training_columns_have_zero_mean_unit_std(
        rows in prop::collection::vec(prop::collection::vec(-1e3f32..1e3, 3), 2..30),
    ) {
        let s = Standardizer::fit(&rows).unwrap();
        let z = s.transform(&rows).unwrap();
        let n = rows.len() as f64;
        for j in 0..3 {
            let col: Vec<f64> = z.iter().map(|r| f64::from(r[j])).collect();
            let mean = col.iter().sum::<f64>() / n;
            let std = (col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
            prop_assert!(mean.abs() < 1e-4, "mean {}", mean);
            // A constant column keeps scale 1 and becomes all zero.
            prop_assert!((std - 1.0).abs() < 1e-4 || std < 1e-4, "std {}", std);
        }
    }

    #[test]
    fn stored_numbers_round_trip_exactly(v in any::<f32>(), w in any::<f64>()) {
        prop_assume!(v.is_finite() && w.is_finite());
        let json = serde_json::to_string(&(v, w)).unwrap();
        let back: (f32, f64) = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back.0.to_bits(), v.to_bits());
        prop_assert_eq!(back.1.to_bits(), w.to_bits());
    }
}
