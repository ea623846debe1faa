//! Confusion matrices.

use serde::{Deserialize, Serialize};

use crate::error::{MetricsError, Result};
use crate::validate::check_labels;

/// A square confusion matrix: `counts[t][p]` is the number of samples of
/// true class `t` predicted as class `p` (rows = truth, columns =
/// prediction, as `sklearn.metrics.confusion_matrix`).
///
/// Serialises as the bare array of rows; deserialising checks squareness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Vec<u64>>", into = "Vec<Vec<u64>>")]
pub struct ConfusionMatrix {
    counts: Vec<Vec<u64>>,
}

impl TryFrom<Vec<Vec<u64>>> for ConfusionMatrix {
    type Error = MetricsError;

    fn try_from(counts: Vec<Vec<u64>>) -> Result<Self> {
        Self::from_counts(counts)
    }
}

impl From<ConfusionMatrix> for Vec<Vec<u64>> {
    fn from(cm: ConfusionMatrix) -> Self {
        cm.counts
    }
}

impl ConfusionMatrix {
    /// Counts `(y_true[i], y_pred[i])` pairs over `n_classes` classes.
    ///
    /// # Errors
    /// [`MetricsError::TooFewClasses`], [`MetricsError::LengthMismatch`],
    /// [`MetricsError::Empty`] or [`MetricsError::LabelOutOfRange`].
    pub fn from_labels(y_true: &[usize], y_pred: &[usize], n_classes: usize) -> Result<Self> {
        check_labels(y_true, y_pred, n_classes)?;
        let mut counts = vec![vec![0u64; n_classes]; n_classes];
        for (&t, &p) in y_true.iter().zip(y_pred) {
            counts[t][p] += 1;
        }
        Ok(Self { counts })
    }

    /// Wraps existing counts (rows = truth, columns = prediction).
    ///
    /// # Errors
    /// [`MetricsError::TooFewClasses`] for fewer than two rows,
    /// [`MetricsError::RowLength`] if the matrix is not square.
    pub fn from_counts(counts: Vec<Vec<u64>>) -> Result<Self> {
        let n = counts.len();
        if n < 2 {
            return Err(MetricsError::TooFewClasses { n_classes: n });
        }
        if let Some((row, r)) = counts.iter().enumerate().find(|(_, r)| r.len() != n) {
            return Err(MetricsError::RowLength {
                input: "confusion counts",
                row,
                len: r.len(),
                expected: n,
            });
        }
        Ok(Self { counts })
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.counts.len()
    }

    /// The rows of counts (`counts()[true][predicted]`).
    pub fn counts(&self) -> &[Vec<u64>] {
        &self.counts
    }

    /// Count of true class `truth` predicted as `predicted`.
    pub fn get(&self, truth: usize, predicted: usize) -> Option<u64> {
        self.counts.get(truth)?.get(predicted).copied()
    }

    /// Total number of samples.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// Number of correctly classified samples (the trace).
    pub fn correct(&self) -> u64 {
        (0..self.n_classes()).map(|c| self.counts[c][c]).sum()
    }

    /// Support of every class: number of samples whose true class it is (row sums).
    pub fn support(&self) -> Vec<u64> {
        self.counts.iter().map(|r| r.iter().sum()).collect()
    }

    /// Number of samples predicted as every class (column sums).
    pub fn predicted(&self) -> Vec<u64> {
        (0..self.n_classes())
            .map(|p| self.counts.iter().map(|r| r[p]).sum())
            .collect()
    }

    /// Rows divided by their sums (each row of a present class sums to 1;
    /// its diagonal entry is that class's recall). Rows of classes absent
    /// from `y_true` are all zeros, like
    /// `confusion_matrix(..., normalize="true")`.
    pub fn row_normalized(&self) -> Vec<Vec<f64>> {
        self.counts
            .iter()
            .map(|row| {
                let sum: u64 = row.iter().sum();
                row.iter()
                    .map(|&c| if sum == 0 { 0.0 } else { c as f64 / sum as f64 })
                    .collect()
            })
            .collect()
    }

    /// Element-wise sum of two matrices of the same size (pooling folds).
    ///
    /// # Errors
    /// [`MetricsError::RowLength`] if the sizes differ.
    pub fn try_add(&self, other: &ConfusionMatrix) -> Result<ConfusionMatrix> {
        if other.n_classes() != self.n_classes() {
            return Err(MetricsError::RowLength {
                input: "confusion counts",
                row: 0,
                len: other.n_classes(),
                expected: self.n_classes(),
            });
        }
        let counts = self
            .counts
            .iter()
            .zip(&other.counts)
            .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x + y).collect())
            .collect();
        Ok(Self { counts })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_counts() {
        // truth: 0 0 1 1 1 2 ; pred: 0 1 1 1 0 0
        let cm = ConfusionMatrix::from_labels(&[0, 0, 1, 1, 1, 2], &[0, 1, 1, 1, 0, 0], 3).unwrap();
        assert_eq!(cm.counts(), &[vec![1, 1, 0], vec![1, 2, 0], vec![1, 0, 0]]);
        assert_eq!(cm.total(), 6);
        assert_eq!(cm.correct(), 3);
        assert_eq!(cm.support(), vec![2, 3, 1]);
        assert_eq!(cm.predicted(), vec![3, 3, 0]);
        assert_eq!(cm.get(1, 0), Some(1));
        assert_eq!(cm.get(3, 0), None);
        let n = cm.row_normalized();
        assert_eq!(n[0], vec![0.5, 0.5, 0.0]);
        assert!((n[1][1] - 2.0 / 3.0).abs() < 1e-15);
        assert_eq!(n[2], vec![1.0, 0.0, 0.0]);
    }

    #[test]
    fn absent_class_row_normalises_to_zeros() {
        let cm = ConfusionMatrix::from_labels(&[0, 0], &[0, 1], 3).unwrap();
        assert_eq!(cm.row_normalized()[2], vec![0.0; 3]);
    }

    #[test]
    fn from_counts_validates_shape_and_adds() {
        assert!(matches!(
            ConfusionMatrix::from_counts(vec![vec![1, 2], vec![3]]),
            Err(MetricsError::RowLength {
                row: 1,
                len: 1,
                expected: 2,
                ..
            })
        ));
        assert_eq!(
            ConfusionMatrix::from_counts(vec![vec![1]]),
            Err(MetricsError::TooFewClasses { n_classes: 1 })
        );
        let a = ConfusionMatrix::from_counts(vec![vec![1, 2], vec![3, 4]]).unwrap();
        let b = ConfusionMatrix::from_counts(vec![vec![1, 0], vec![0, 1]]).unwrap();
        assert_eq!(a.try_add(&b).unwrap().counts(), &[vec![2, 2], vec![3, 5]]);
        let c = ConfusionMatrix::from_counts(vec![vec![0; 3]; 3]).unwrap();
        assert!(a.try_add(&c).is_err());
    }

    #[test]
    fn serialises_as_plain_rows() {
        let cm = ConfusionMatrix::from_counts(vec![vec![1, 2], vec![3, 4]]).unwrap();
        assert_eq!(serde_json::to_string(&cm).unwrap(), "[[1,2],[3,4]]");
        let back: ConfusionMatrix = serde_json::from_str("[[1,2],[3,4]]").unwrap();
        assert_eq!(back, cm);
        assert!(serde_json::from_str::<ConfusionMatrix>("[[1,2],[3]]").is_err());
    }
}
