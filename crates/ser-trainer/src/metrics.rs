//! Classification metrics computed during training: accuracy, unweighted average recall (UAR)
//! and the confusion matrix, by `ser-metrics`'s functions on plain counts (which accept any
//! batch: empty, one class, labels out of range).

use serde::{Deserialize, Serialize};

/// Metrics of a model on one labelled dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalMetrics {
    /// Mean loss per item (the training criterion, label smoothing and class weights included).
    pub loss: f64,
    /// Fraction of items classified correctly.
    pub accuracy: f64,
    /// Unweighted average recall: the mean of the per-class recalls over the classes present
    /// in the labels (scikit-learn's `balanced_accuracy_score`).
    pub uar: f64,
    /// Recall of each class; `None` for a class absent from the labels.
    pub per_class_recall: Vec<Option<f64>>,
    /// `confusion[true][predicted]` counts.
    pub confusion: Vec<Vec<usize>>,
}

impl EvalMetrics {
    /// Metrics from labels, predictions and the summed loss.
    pub fn from_predictions(
        labels: &[usize],
        predictions: &[usize],
        n_classes: usize,
        loss_sum: f64,
    ) -> Self {
        let counts = ser_metrics::confusion_counts(labels, predictions, n_classes);
        Self {
            loss: if labels.is_empty() {
                0.0
            } else {
                loss_sum / labels.len() as f64
            },
            accuracy: ser_metrics::accuracy_of_counts(&counts),
            uar: ser_metrics::uar_of_counts(&counts),
            per_class_recall: ser_metrics::recall_per_class(&counts),
            // Each count is at most `labels.len()`, a `usize`.
            confusion: counts
                .into_iter()
                .map(|row| row.into_iter().map(|c| c as usize).collect())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uar_is_the_mean_of_class_recalls() {
        // Class 0: 3 of 4 right; class 1: 1 of 1 right; class 2 absent.
        let labels = [0, 0, 0, 0, 1];
        let predictions = [0, 0, 0, 1, 1];
        let metrics = EvalMetrics::from_predictions(&labels, &predictions, 3, 2.5);
        assert_eq!(metrics.accuracy, 0.8);
        assert_eq!(metrics.uar, (0.75 + 1.0) / 2.0);
        assert_eq!(metrics.per_class_recall, vec![Some(0.75), Some(1.0), None]);
        assert_eq!(
            metrics.confusion,
            vec![vec![3, 1, 0], vec![0, 1, 0], vec![0, 0, 0]]
        );
        assert_eq!(metrics.loss, 0.5);
    }

    #[test]
    fn majority_guessing_has_uar_one_over_classes() {
        let labels = [0, 0, 0, 0, 0, 0, 1, 2];
        let predictions = [0; 8];
        let metrics = EvalMetrics::from_predictions(&labels, &predictions, 3, 0.0);
        assert_eq!(metrics.accuracy, 0.75);
        assert!((metrics.uar - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn pairs_out_of_range_are_ignored() {
        let metrics = EvalMetrics::from_predictions(&[0, 1, 4], &[0, 9, 1], 2, 0.0);
        assert_eq!(metrics.confusion, vec![vec![1, 0], vec![0, 0]]);
        assert_eq!((metrics.accuracy, metrics.uar), (1.0, 1.0));
    }

    #[test]
    fn empty_input_gives_zeros() {
        let metrics = EvalMetrics::from_predictions(&[], &[], 2, 0.0);
        assert_eq!(
            (metrics.loss, metrics.accuracy, metrics.uar),
            (0.0, 0.0, 0.0)
        );
    }
}
