//! Classification metrics computed during training: accuracy, unweighted average recall (UAR)
//! and the confusion matrix.

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

/// Confusion matrix `confusion[true][predicted]` for `n_classes` classes; pairs with a class
/// index outside `0..n_classes` are ignored.
pub fn confusion_matrix(
    labels: &[usize],
    predictions: &[usize],
    n_classes: usize,
) -> Vec<Vec<usize>> {
    let mut confusion = vec![vec![0; n_classes]; n_classes];
    for (&truth, &predicted) in labels.iter().zip(predictions) {
        if let Some(cell) = confusion
            .get_mut(truth)
            .and_then(|row| row.get_mut(predicted))
        {
            *cell += 1;
        }
    }
    confusion
}

/// Recall of each class from a confusion matrix (`None` where the class has no items).
pub fn per_class_recall(confusion: &[Vec<usize>]) -> Vec<Option<f64>> {
    confusion
        .iter()
        .enumerate()
        .map(|(class, row)| {
            let support: usize = row.iter().sum();
            (support > 0).then(|| row.get(class).copied().unwrap_or(0) as f64 / support as f64)
        })
        .collect()
}

/// Accuracy and UAR from a confusion matrix (0 for an empty matrix).
pub fn accuracy_and_uar(confusion: &[Vec<usize>]) -> (f64, f64) {
    let total: usize = confusion.iter().flatten().sum();
    let correct: usize = confusion
        .iter()
        .enumerate()
        .map(|(class, row)| row.get(class).copied().unwrap_or(0))
        .sum();
    let recalls: Vec<f64> = per_class_recall(confusion).into_iter().flatten().collect();
    let accuracy = if total == 0 {
        0.0
    } else {
        correct as f64 / total as f64
    };
    let uar = if recalls.is_empty() {
        0.0
    } else {
        recalls.iter().sum::<f64>() / recalls.len() as f64
    };
    (accuracy, uar)
}

impl EvalMetrics {
    /// Metrics from labels, predictions and the summed loss.
    pub fn from_predictions(
        labels: &[usize],
        predictions: &[usize],
        n_classes: usize,
        loss_sum: f64,
    ) -> Self {
        let confusion = confusion_matrix(labels, predictions, n_classes);
        let (accuracy, uar) = accuracy_and_uar(&confusion);
        Self {
            loss: if labels.is_empty() {
                0.0
            } else {
                loss_sum / labels.len() as f64
            },
            accuracy,
            uar,
            per_class_recall: per_class_recall(&confusion),
            confusion,
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
        let (accuracy, uar) = accuracy_and_uar(&confusion_matrix(&labels, &predictions, 3));
        assert_eq!(accuracy, 0.75);
        assert!((uar - 1.0 / 3.0).abs() < 1e-12);
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
