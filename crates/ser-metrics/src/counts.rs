//! Metrics of plain count rows, without validation.
//!
//! [`ConfusionMatrix`](crate::ConfusionMatrix) and [`Report`](crate::Report) refuse what
//! scikit-learn refuses (empty input, fewer than two classes, labels out of range). Training
//! and model selection need figures for whatever a batch holds, so these functions accept any
//! input and never fail:
//!
//! * [`confusion_counts`] skips pairs whose label or prediction is outside `0..n_classes`,
//!   ignores the extra elements of the longer input, and gives a matrix of zeros for empty
//!   input (any `n_classes`, 0 and 1 included);
//! * [`recall_per_class`] is `None` for a class absent from the truth (no row sum);
//! * [`uar_of_counts`] is the mean recall over the classes present in the truth (sklearn's
//!   `balanced_accuracy_score`; classes absent from the truth are skipped, not counted as 0)
//!   and 0 when no class is present; [`unweighted_average_recall`](crate::unweighted_average_recall)
//!   is this function on a validated matrix, so both give the same value bit for bit;
//! * [`accuracy_of_counts`] is the trace over the total, 0 for no samples.

/// Confusion counts `counts[true][predicted]` of `n_classes` classes; see the
/// [module documentation](self) for what is skipped.
pub fn confusion_counts(y_true: &[usize], y_pred: &[usize], n_classes: usize) -> Vec<Vec<u64>> {
    let mut counts = vec![vec![0u64; n_classes]; n_classes];
    for (&truth, &predicted) in y_true.iter().zip(y_pred) {
        if let Some(cell) = counts.get_mut(truth).and_then(|row| row.get_mut(predicted)) {
            *cell += 1;
        }
    }
    counts
}

/// Recall of each class (row `c`: `counts[c][c]` over the row sum); `None` for a class with no
/// samples in the truth.
pub fn recall_per_class<R: AsRef<[u64]>>(counts: &[R]) -> Vec<Option<f64>> {
    counts
        .iter()
        .enumerate()
        .map(|(class, row)| {
            let row = row.as_ref();
            let support: u64 = row.iter().sum();
            (support > 0).then(|| row.get(class).copied().unwrap_or(0) as f64 / support as f64)
        })
        .collect()
}

/// Unweighted average recall: the mean of [`recall_per_class`] over the classes present in the
/// truth, 0 when none is.
pub fn uar_of_counts<R: AsRef<[u64]>>(counts: &[R]) -> f64 {
    let recalls: Vec<f64> = recall_per_class(counts).into_iter().flatten().collect();
    if recalls.is_empty() {
        0.0
    } else {
        recalls.iter().sum::<f64>() / recalls.len() as f64
    }
}

/// Fraction of the counted samples on the diagonal, 0 when there are none.
pub fn accuracy_of_counts<R: AsRef<[u64]>>(counts: &[R]) -> f64 {
    let total: u64 = counts
        .iter()
        .map(|row| row.as_ref().iter().sum::<u64>())
        .sum();
    let correct: u64 = counts
        .iter()
        .enumerate()
        .map(|(class, row)| row.as_ref().get(class).copied().unwrap_or(0))
        .sum();
    if total == 0 {
        0.0
    } else {
        correct as f64 / total as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConfusionMatrix, unweighted_average_recall};

    #[test]
    fn counts_skip_out_of_range_pairs_and_accept_any_size() {
        assert_eq!(
            confusion_counts(&[0, 1, 2, 5, 1], &[1, 1, 7, 0, 0], 3),
            [vec![0, 1, 0], vec![1, 1, 0], vec![0, 0, 0]]
        );
        assert_eq!(confusion_counts(&[], &[], 2), [vec![0, 0], vec![0, 0]]);
        assert_eq!(confusion_counts(&[0, 0], &[0], 1), [vec![1]]);
        assert!(confusion_counts(&[0], &[0], 0).is_empty());
    }

    #[test]
    fn uar_skips_classes_absent_from_the_truth() {
        // Class 0: 3 of 4; class 1: 1 of 1; class 2 absent (skipped, not a 0).
        let counts = confusion_counts(&[0, 0, 0, 0, 1], &[0, 0, 0, 1, 1], 3);
        assert_eq!(recall_per_class(&counts), [Some(0.75), Some(1.0), None]);
        assert_eq!(uar_of_counts(&counts), (0.75 + 1.0) / 2.0);
        assert_eq!(accuracy_of_counts(&counts), 0.8);
        assert_eq!(
            uar_of_counts(&confusion_counts(&[0, 0, 1, 1], &[0, 0, 1, 0], 3)),
            0.75
        );
        assert_eq!(uar_of_counts(&confusion_counts(&[2, 2], &[2, 0], 3)), 0.5);
    }

    #[test]
    fn empty_counts_give_zeros() {
        let counts = confusion_counts(&[], &[], 3);
        assert_eq!(uar_of_counts(&counts), 0.0);
        assert_eq!(accuracy_of_counts(&counts), 0.0);
        assert_eq!(uar_of_counts::<Vec<u64>>(&[]), 0.0);
    }

    #[test]
    fn validated_and_plain_uar_agree_bit_for_bit() {
        let truth = [0, 1, 2, 2, 1, 0, 0, 3, 3, 3, 1, 2];
        let pred = [0, 2, 2, 1, 1, 0, 3, 3, 0, 3, 1, 1];
        let cm = ConfusionMatrix::from_labels(&truth, &pred, 5).unwrap();
        let plain = confusion_counts(&truth, &pred, 5);
        assert_eq!(cm.counts(), plain.as_slice());
        assert_eq!(
            unweighted_average_recall(&cm).to_bits(),
            uar_of_counts(&plain).to_bits()
        );
    }
}
