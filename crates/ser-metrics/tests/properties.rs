//! Property tests of metric invariants.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use ser_metrics::{
    ConfusionMatrix, MetricsError, Report, RocPoints, Scores, accuracy, roc_auc, roc_curve,
};

/// `n_classes` in 2..=8 and `(y_true, y_pred)` pairs of length 1..=200.
fn labelled() -> impl Strategy<Value = (usize, Vec<usize>, Vec<usize>)> {
    (2usize..=8).prop_flat_map(|k| {
        prop::collection::vec((0..k, 0..k), 1..200).prop_map(move |pairs| {
            let (t, p): (Vec<usize>, Vec<usize>) = pairs.into_iter().unzip();
            (k, t, p)
        })
    })
}

fn class_names(k: usize) -> Vec<String> {
    (0..k).map(|i| format!("class{i}")).collect()
}

/// Binary labels with at least one positive and one negative, and integer-valued scores (with ties).
fn binary_case() -> impl Strategy<Value = (Vec<bool>, Vec<f64>)> {
    prop::collection::vec((any::<bool>(), 0u32..40), 2..150)
        .prop_filter("both classes present", |v| {
            v.iter().any(|(p, _)| *p) && v.iter().any(|(p, _)| !*p)
        })
        .prop_map(|v| v.into_iter().map(|(p, s)| (p, f64::from(s))).unzip())
}

proptest! {
    #[test]
    fn accuracy_and_uar_are_in_unit_interval((k, t, p) in labelled()) {
        let acc = accuracy(&t, &p).unwrap();
        prop_assert!((0.0..=1.0).contains(&acc));
        let r = Report::from_labels(&t, &p, &class_names(k)).unwrap();
        prop_assert!((0.0..=1.0).contains(&r.uar));
        prop_assert_eq!(r.accuracy, acc);
        for prf in [r.macro_avg, r.weighted_avg] {
            for v in [prf.precision, prf.recall, prf.f1] {
                prop_assert!((0.0..=1.0).contains(&v));
            }
        }
        // Weighted recall is accuracy; UAR >= macro recall (absent classes only lower the latter).
        prop_assert!((r.weighted_avg.recall - acc).abs() < 1e-12);
        prop_assert!(r.uar + 1e-12 >= r.macro_avg.recall);
    }

    #[test]
    fn confusion_matrix_sums_to_n((k, t, p) in labelled()) {
        let cm = ConfusionMatrix::from_labels(&t, &p, k).unwrap();
        prop_assert_eq!(cm.total(), t.len() as u64);
        prop_assert_eq!(cm.support().iter().sum::<u64>(), t.len() as u64);
        prop_assert_eq!(cm.predicted().iter().sum::<u64>(), t.len() as u64);
        for (row, support) in cm.row_normalized().iter().zip(cm.support()) {
            let sum: f64 = row.iter().sum();
            let want = if support == 0 { 0.0 } else { 1.0 };
            prop_assert!((sum - want).abs() < 1e-12);
        }
    }

    #[test]
    fn out_of_range_labels_are_errors_not_panics(
        k in 2usize..6,
        pairs in prop::collection::vec((0usize..8, 0usize..8), 1..50),
    ) {
        let (t, p): (Vec<usize>, Vec<usize>) = pairs.into_iter().unzip();
        let bad = t.iter().chain(&p).any(|&l| l >= k);
        match Report::from_labels(&t, &p, &class_names(k)) {
            Ok(_) => prop_assert!(!bad),
            Err(MetricsError::LabelOutOfRange { n_classes, label, .. }) => {
                prop_assert!(bad);
                prop_assert_eq!(n_classes, k);
                prop_assert!(label >= k);
            }
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }

    #[test]
    fn perfect_scores_have_auc_one(
        labels in prop::collection::vec(any::<bool>(), 2..100),
        noise in prop::collection::vec(0.0f64..0.49, 100),
    ) {
        prop_assume!(labels.iter().any(|&p| p) && labels.iter().any(|&p| !p));
        // Every positive scores above 0.5, every negative below.
        let scores: Vec<f64> = labels
            .iter()
            .zip(&noise)
            .map(|(&p, &n)| if p { 0.51 + n } else { n })
            .collect();
        prop_assert_eq!(roc_auc(&labels, &scores).unwrap(), 1.0);
    }

    #[test]
    fn perfect_multiclass_scores_have_all_aucs_one((k, t, _p) in labelled()) {
        let rows: Vec<Vec<f32>> = t
            .iter()
            .map(|&c| (0..k).map(|j| if j == c { 0.9 } else { 0.1 / k as f32 }).collect())
            .collect();
        let scores = Scores::from_rows(&rows).unwrap();
        let r = Report::with_scores(&t, &t, &scores, &class_names(k)).unwrap();
        let roc = r.roc.unwrap();
        prop_assert_eq!(roc.micro_auc, 1.0);
        for auc in roc.auc.values().flatten() {
            prop_assert_eq!(*auc, 1.0);
        }
        if let Some(m) = roc.macro_auc {
            prop_assert_eq!(m, 1.0);
        }
    }

    #[test]
    fn auc_is_invariant_to_monotone_transforms((labels, scores) in binary_case()) {
        let base = roc_curve(&labels, &scores, RocPoints::All).unwrap();
        let transforms: [fn(f64) -> f64; 3] = [
            |x| 3.0 * x - 7.0,
            |x| (x / 8.0).exp(),
            |x| x * x * x + x,
        ];
        for g in transforms {
            let moved: Vec<f64> = scores.iter().map(|&s| g(s)).collect();
            let c = roc_curve(&labels, &moved, RocPoints::All).unwrap();
            prop_assert_eq!(c.auc, base.auc);
            prop_assert_eq!(&c.fpr, &base.fpr);
            prop_assert_eq!(&c.tpr, &base.tpr);
        }
        // A decreasing transform mirrors the AUC.
        let flipped: Vec<f64> = scores.iter().map(|&s| -s).collect();
        let c = roc_auc(&labels, &flipped).unwrap();
        prop_assert!((c - (1.0 - base.auc)).abs() < 1e-12);
    }

    #[test]
    fn roc_curves_are_monotone_and_bounded((labels, scores) in binary_case()) {
        for points in [RocPoints::All, RocPoints::DropIntermediate] {
            let c = roc_curve(&labels, &scores, points).unwrap();
            prop_assert_eq!((c.fpr[0], c.tpr[0]), (0.0, 0.0));
            prop_assert_eq!((*c.fpr.last().unwrap(), *c.tpr.last().unwrap()), (1.0, 1.0));
            prop_assert!(c.fpr.windows(2).all(|w| w[1] >= w[0]));
            prop_assert!(c.tpr.windows(2).all(|w| w[1] >= w[0]));
            prop_assert!(c.thresholds.windows(2).all(|w| w[1] < w[0]));
            prop_assert!((0.0..=1.0).contains(&c.auc));
        }
        let all = roc_curve(&labels, &scores, RocPoints::All).unwrap();
        let dropped = roc_curve(&labels, &scores, RocPoints::DropIntermediate).unwrap();
        prop_assert!(dropped.fpr.len() <= all.fpr.len());
        prop_assert!((all.auc - dropped.auc).abs() < 1e-12);
    }
}
