//! Checked sample matrices and labels, the seeded generator and small helpers shared by the models.

use crate::error::{ClassicError, Result};

/// A dense, finite `n_samples x n_features` matrix, row-major.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Samples {
    /// Number of samples (rows).
    pub n_samples: usize,
    /// Number of features (columns).
    pub n_features: usize,
    /// The values, `data[sample * n_features + feature]`.
    pub data: Vec<f32>,
}

impl Samples {
    /// Copies and checks `x`: every row must have `expected` features (or as many as the first
    /// row when `expected` is `None`) and every value must be finite. An empty `x` gives an
    /// empty matrix with `expected.unwrap_or(0)` features.
    pub fn from_rows<R: AsRef<[f32]>>(x: &[R], expected: Option<usize>) -> Result<Samples> {
        let n_features = expected
            .or_else(|| x.first().map(|r| r.as_ref().len()))
            .unwrap_or(0);
        let mut data = Vec::with_capacity(x.len() * n_features);
        for (sample, row) in x.iter().enumerate() {
            let row = row.as_ref();
            if row.len() != n_features {
                return Err(ClassicError::DimensionMismatch {
                    sample,
                    expected: n_features,
                    got: row.len(),
                });
            }
            if let Some((feature, &value)) = row.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(ClassicError::NonFinite {
                    sample,
                    feature,
                    value,
                });
            }
            data.extend_from_slice(row);
        }
        Ok(Samples {
            n_samples: x.len(),
            n_features,
            data,
        })
    }

    /// One sample.
    pub fn row(&self, sample: usize) -> &[f32] {
        &self.data[sample * self.n_features..(sample + 1) * self.n_features]
    }

    /// Iterator over the samples.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = &[f32]> + '_ {
        // `max(1)`: `chunks_exact(0)` panics; with 0 features there are 0 values anyway.
        self.data
            .chunks_exact(self.n_features.max(1))
            .take(self.n_samples)
    }

    /// The samples at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Samples {
        let mut data = Vec::with_capacity(indices.len() * self.n_features);
        for &i in indices {
            data.extend_from_slice(self.row(i));
        }
        Samples {
            n_samples: indices.len(),
            n_features: self.n_features,
            data,
        }
    }
}

/// Checks a training set: not empty, at least one feature, one label per sample, labels below
/// `n_classes` (when given), at least two distinct classes and no class without a sample.
///
/// Returns the number of classes: `n_classes`, or the largest label plus one.
pub(crate) fn check_training(x: &Samples, y: &[usize], n_classes: Option<usize>) -> Result<usize> {
    if x.n_samples == 0 {
        return Err(ClassicError::EmptyTrainingSet);
    }
    if x.n_features == 0 {
        return Err(ClassicError::NoFeatures);
    }
    if y.len() != x.n_samples {
        return Err(ClassicError::LabelCountMismatch {
            n_samples: x.n_samples,
            n_labels: y.len(),
        });
    }
    let n_classes = match n_classes {
        Some(n) => {
            if let Some((sample, &label)) = y.iter().enumerate().find(|(_, l)| **l >= n) {
                return Err(ClassicError::LabelOutOfRange {
                    sample,
                    label,
                    n_classes: n,
                });
            }
            n
        }
        None => y.iter().max().map_or(0, |m| m + 1),
    };
    let counts = class_counts(y, n_classes);
    if counts.iter().filter(|&&c| c > 0).count() < 2 {
        return Err(ClassicError::OneClass { class: y[0] });
    }
    if let Some(class) = counts.iter().position(|&c| c == 0) {
        return Err(ClassicError::EmptyClass { class, n_classes });
    }
    Ok(n_classes)
}

/// Samples per class (labels must be below `n_classes`).
pub(crate) fn class_counts(y: &[usize], n_classes: usize) -> Vec<usize> {
    let mut counts = vec![0; n_classes];
    for &label in y {
        counts[label] += 1;
    }
    counts
}

/// Index of the largest value; the lowest index wins ties.
pub(crate) fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// `weights / sum(weights)` as `f32`, or the uniform distribution when the sum is not positive.
pub(crate) fn normalize(weights: &[f64]) -> Vec<f32> {
    let sum: f64 = weights.iter().sum();
    if sum > 0.0 && sum.is_finite() {
        weights.iter().map(|w| (w / sum) as f32).collect()
    } else {
        let uniform = 1.0 / weights.len().max(1) as f32;
        vec![uniform; weights.len()]
    }
}

/// The classical models' view of [`ser_stdx::rng::SplitMix64`]: `(seed, stream)` streams and
/// multiply-shift draws (`below`, `shuffle`), the numbers every fitted model and published
/// figure was made with. A thin wrapper so the models' call sites (`mlp.rs`, `svm.rs`,
/// `forest.rs`) keep their names; see `ser_stdx::rng` for why two ways of drawing exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SplitMix64(ser_stdx::rng::SplitMix64);

impl SplitMix64 {
    /// An independent-looking stream for `(seed, stream)` (a tree, a fold, ...).
    pub fn for_stream(seed: u64, stream: u64) -> SplitMix64 {
        SplitMix64(ser_stdx::rng::SplitMix64::for_stream(seed, stream))
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; `n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        self.0.below_multiply_shift(n)
    }

    /// Shuffles in place (Fisher-Yates, multiply-shift draws).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        self.0.shuffle_multiply_shift(items);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_checked() {
        let ok = Samples::from_rows(&[vec![1.0, 2.0], vec![3.0, 4.0]], None).unwrap();
        assert_eq!((ok.n_samples, ok.n_features), (2, 2));
        assert_eq!(ok.row(1), &[3.0, 4.0]);
        assert_eq!(ok.rows().count(), 2);
        let short = Samples::from_rows(&[vec![1.0, 2.0], vec![3.0]], None);
        assert!(matches!(
            short,
            Err(ClassicError::DimensionMismatch {
                sample: 1,
                expected: 2,
                got: 1
            })
        ));
        let nan = Samples::from_rows(&[vec![1.0, f32::NAN]], None);
        assert!(matches!(
            nan,
            Err(ClassicError::NonFinite {
                sample: 0,
                feature: 1,
                ..
            })
        ));
    }

    #[test]
    fn training_checks() {
        let x = Samples::from_rows(&[[0.0f32], [1.0], [2.0]], None).unwrap();
        assert_eq!(check_training(&x, &[0, 1, 1], None).unwrap(), 2);
        assert!(matches!(
            check_training(&x, &[1, 1, 1], None),
            Err(ClassicError::OneClass { class: 1 })
        ));
        assert!(matches!(
            check_training(&x, &[0, 2, 2], None),
            Err(ClassicError::EmptyClass {
                class: 1,
                n_classes: 3
            })
        ));
        assert!(matches!(
            check_training(&x, &[0, 1], None),
            Err(ClassicError::LabelCountMismatch {
                n_samples: 3,
                n_labels: 2
            })
        ));
        assert!(matches!(
            check_training(&x, &[0, 1, 5], Some(3)),
            Err(ClassicError::LabelOutOfRange {
                sample: 2,
                label: 5,
                n_classes: 3
            })
        ));
        let empty = Samples::from_rows::<Vec<f32>>(&[], None).unwrap();
        assert!(matches!(
            check_training(&empty, &[], None),
            Err(ClassicError::EmptyTrainingSet)
        ));
    }

    #[test]
    fn helpers() {
        assert_eq!(argmax(&[0.2, 0.5, 0.5, 0.1]), 1);
        assert_eq!(normalize(&[1.0, 3.0]), vec![0.25, 0.75]);
        assert_eq!(normalize(&[0.0, 0.0]), vec![0.5, 0.5]);
        let mut a = SplitMix64::for_stream(7, 1);
        let mut b = SplitMix64::for_stream(7, 1);
        let mut c = SplitMix64::for_stream(7, 2);
        let (va, vb, vc) = (a.next_u64(), b.next_u64(), c.next_u64());
        assert_eq!(va, vb);
        assert_ne!(va, vc);
        let mut rng = SplitMix64::for_stream(1, 0);
        assert!((0..1000).all(|_| rng.below(7) < 7));
        let mut items: Vec<usize> = (0..50).collect();
        rng.shuffle(&mut items);
        let mut sorted = items.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_ne!(items, sorted);
    }
}
