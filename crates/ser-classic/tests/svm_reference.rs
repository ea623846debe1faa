//! The SVM's own SMO solver against `linfa-svm` 0.8.1 on the same binary problems: the
//! one-vs-rest decision values must agree (they do to about 1e-6 at a 1e-6 tolerance).

use linfa::DatasetBase;
use linfa::traits::Fit;
use linfa_svm::Svm;
use ndarray::{Array1, Array2};
use ser_classic::{Classifier, Gamma, SvmConfig, SvmModel};

/// Three overlapping classes in 4-D from a fixed linear-congruential sequence.
fn problem() -> (Vec<Vec<f32>>, Vec<usize>) {
    let mut state = 12_345u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 40) as f32 / (1u64 << 24) as f32
    };
    let mut x = Vec::new();
    let mut y = Vec::new();
    for i in 0..120 {
        let class = i % 3;
        let row: Vec<f32> = (0..4)
            .map(|j| if j == class { 1.0 } else { 0.0 } + 1.5 * next())
            .collect();
        x.push(row);
        y.push(class);
    }
    (x, y)
}

#[test]
fn decision_values_match_linfa_svm() {
    let (x, y) = problem();
    let gamma = 0.7;
    for c in [0.3, 1.0, 10.0] {
        let config = SvmConfig {
            c,
            gamma: Gamma::Value(gamma),
            tol: 1e-6,
            calibration_folds: 0,
            half_precision: false,
        };
        let ours = our_decisions(&x, &y, &config);
        let records = Array2::from_shape_fn((x.len(), 4), |(i, j)| f64::from(x[i][j]));
        for class in 0..3 {
            let targets: Array1<bool> = y.iter().map(|&l| l == class).collect();
            let svm: Svm<f64, bool> = Svm::<f64, bool>::params()
                .pos_neg_weights(c, c)
                .gaussian_kernel(1.0 / gamma)
                .eps(1e-6)
                .fit(&DatasetBase::new(records.view(), targets.view()))
                .expect("linfa-svm fits");
            let mut worst = 0.0f64;
            for (row, decisions) in records.outer_iter().zip(&ours) {
                let theirs = svm.weighted_sum(&row) - svm.rho;
                worst = worst.max((decisions[class] - theirs).abs());
            }
            assert!(
                worst < 1e-4,
                "C = {c}, class {class}: max difference {worst}"
            );
        }
    }
}

/// Our one-vs-rest decision values on the training samples.
fn our_decisions(x: &[Vec<f32>], y: &[usize], config: &SvmConfig) -> Vec<Vec<f64>> {
    let model = SvmModel::fit(x, y, config, 0).expect("fits");
    assert_eq!(model.temperature(), 1.0);
    model.decision_function(x).expect("decides")
}
