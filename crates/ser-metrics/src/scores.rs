//! Dense score (probability) matrices.

use crate::error::{MetricsError, Result};

/// A dense row-major `[n_samples x n_classes]` matrix of classifier scores.
///
/// Scores are typically softmax probabilities, but any real-valued scores
/// work: rows need **not** sum to one (only the ranking of scores within a
/// column matters for ROC/AUC). Every value must be finite: NaN and
/// infinities are rejected at construction with
/// [`MetricsError::NonFiniteScore`].
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    values: Vec<f32>,
    n_classes: usize,
}

impl Scores {
    /// Builds a matrix from a flat row-major buffer of `n_samples * n_classes` values.
    ///
    /// # Errors
    /// [`MetricsError::TooFewClasses`] if `n_classes < 2`,
    /// [`MetricsError::Empty`] for an empty buffer,
    /// [`MetricsError::FlatScoresShape`] if the length is not a multiple of `n_classes`,
    /// [`MetricsError::NonFiniteScore`] for NaN or infinite values.
    pub fn from_flat(values: Vec<f32>, n_classes: usize) -> Result<Self> {
        if n_classes < 2 {
            return Err(MetricsError::TooFewClasses { n_classes });
        }
        if values.is_empty() {
            return Err(MetricsError::Empty { input: "scores" });
        }
        if !values.len().is_multiple_of(n_classes) {
            return Err(MetricsError::FlatScoresShape {
                len: values.len(),
                n_classes,
            });
        }
        if let Some(pos) = values.iter().position(|v| !v.is_finite()) {
            return Err(MetricsError::NonFiniteScore {
                sample: pos / n_classes,
                class: pos % n_classes,
                value: f64::from(values[pos]),
            });
        }
        Ok(Self { values, n_classes })
    }

    /// Builds a matrix from one row per sample (e.g. `&[Vec<f32>]`).
    ///
    /// # Errors
    /// [`MetricsError::Empty`] for no rows, [`MetricsError::RowLength`] if
    /// rows differ in length, plus the errors of [`Scores::from_flat`].
    pub fn from_rows<R: AsRef<[f32]>>(rows: &[R]) -> Result<Self> {
        let first = rows
            .first()
            .ok_or(MetricsError::Empty { input: "scores" })?;
        let n_classes = first.as_ref().len();
        let mut values = Vec::with_capacity(rows.len() * n_classes);
        for (row, r) in rows.iter().enumerate() {
            let r = r.as_ref();
            if r.len() != n_classes {
                return Err(MetricsError::RowLength {
                    input: "scores",
                    row,
                    len: r.len(),
                    expected: n_classes,
                });
            }
            values.extend_from_slice(r);
        }
        Self::from_flat(values, n_classes)
    }

    /// Stacks several matrices with the same number of classes (e.g. the
    /// folds of a cross-validation) into one.
    ///
    /// # Errors
    /// [`MetricsError::Empty`] for no parts, [`MetricsError::RowLength`] if a
    /// part has a different number of classes than the first.
    pub fn concat(parts: &[&Scores]) -> Result<Self> {
        let first = parts
            .first()
            .ok_or(MetricsError::Empty { input: "scores" })?;
        let mut values = Vec::with_capacity(parts.iter().map(|p| p.values.len()).sum());
        for (i, part) in parts.iter().enumerate() {
            if part.n_classes != first.n_classes {
                return Err(MetricsError::RowLength {
                    input: "scores",
                    row: i,
                    len: part.n_classes,
                    expected: first.n_classes,
                });
            }
            values.extend_from_slice(&part.values);
        }
        Ok(Self {
            values,
            n_classes: first.n_classes,
        })
    }

    /// Number of samples (rows).
    pub fn n_samples(&self) -> usize {
        self.values.len() / self.n_classes
    }

    /// Number of classes (columns).
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// The flat row-major buffer.
    pub fn as_flat(&self) -> &[f32] {
        &self.values
    }

    /// Iterates over the rows (one slice of `n_classes` scores per sample).
    pub fn rows(&self) -> impl ExactSizeIterator<Item = &[f32]> + '_ {
        self.values.chunks_exact(self.n_classes)
    }

    /// Row `sample`, or `None` if out of range.
    pub fn row(&self, sample: usize) -> Option<&[f32]> {
        let start = sample.checked_mul(self.n_classes)?;
        self.values.get(start..start + self.n_classes)
    }

    /// Column `class` widened to `f64`, or `None` if out of range.
    pub fn column(&self, class: usize) -> Option<Vec<f64>> {
        (class < self.n_classes).then(|| self.rows().map(|r| f64::from(r[class])).collect())
    }

    /// Index of the highest score of each row (the first one on ties, like `np.argmax`).
    pub fn argmax(&self) -> Vec<usize> {
        self.rows()
            .map(|row| {
                row.iter()
                    .enumerate()
                    .fold((0, f32::NEG_INFINITY), |(best, best_v), (i, &v)| {
                        if v > best_v { (i, v) } else { (best, best_v) }
                    })
                    .0
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_rows_and_accessors() {
        let s = Scores::from_rows(&[vec![0.1, 0.9, 0.0], vec![0.5, 0.2, 0.3]]).unwrap();
        assert_eq!(s.n_samples(), 2);
        assert_eq!(s.n_classes(), 3);
        assert_eq!(s.row(1), Some(&[0.5, 0.2, 0.3][..]));
        assert_eq!(s.row(2), None);
        assert_eq!(
            s.column(1),
            Some(vec![f64::from(0.9f32), f64::from(0.2f32)])
        );
        assert_eq!(s.column(3), None);
        assert_eq!(s.argmax(), vec![1, 0]);
    }

    #[test]
    fn argmax_takes_first_on_ties() {
        let s = Scores::from_flat(vec![0.5, 0.5, 0.2, 0.2, 0.7, 0.7], 3).unwrap();
        assert_eq!(s.argmax(), vec![0, 1]);
    }

    #[test]
    fn rejects_bad_shapes_and_values() {
        assert_eq!(
            Scores::from_rows(&[vec![0.1f32, 0.9], vec![0.5]]),
            Err(MetricsError::RowLength {
                input: "scores",
                row: 1,
                len: 1,
                expected: 2
            })
        );
        assert_eq!(
            Scores::from_flat(vec![0.0; 5], 2),
            Err(MetricsError::FlatScoresShape {
                len: 5,
                n_classes: 2
            })
        );
        assert_eq!(
            Scores::from_flat(vec![], 2),
            Err(MetricsError::Empty { input: "scores" })
        );
        assert_eq!(
            Scores::from_flat(vec![0.0; 4], 1),
            Err(MetricsError::TooFewClasses { n_classes: 1 })
        );
        let err = Scores::from_flat(vec![0.0, 1.0, f32::NAN, 0.0], 2).unwrap_err();
        assert!(matches!(
            err,
            MetricsError::NonFiniteScore { sample: 1, class: 0, value } if value.is_nan()
        ));
        assert!(matches!(
            Scores::from_flat(vec![0.0, f32::INFINITY], 2),
            Err(MetricsError::NonFiniteScore {
                sample: 0,
                class: 1,
                ..
            })
        ));
    }

    #[test]
    fn concat_stacks_rows() {
        let a = Scores::from_flat(vec![1.0, 0.0], 2).unwrap();
        let b = Scores::from_flat(vec![0.0, 1.0, 0.5, 0.5], 2).unwrap();
        let c = Scores::concat(&[&a, &b]).unwrap();
        assert_eq!(c.as_flat(), &[1.0, 0.0, 0.0, 1.0, 0.5, 0.5]);
        let d = Scores::from_flat(vec![0.0, 1.0, 0.0], 3).unwrap();
        assert!(matches!(
            Scores::concat(&[&a, &d]),
            Err(MetricsError::RowLength {
                row: 1,
                len: 3,
                expected: 2,
                ..
            })
        ));
    }
}
