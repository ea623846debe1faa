//! Per-feature standardisation with statistics of the training side only.

use serde::{Deserialize, Serialize};

use crate::error::{ClassicError, Result};
use crate::samples::Samples;

/// Scales each feature to zero mean and unit variance with the training set's mean and
/// population standard deviation (scikit-learn's `StandardScaler`).
///
/// Fitted on the training samples only and saved with the model, so that validation, test and
/// deployment samples are scaled with the same numbers. A feature whose standard deviation is
/// (numerically) zero keeps a scale of 1, as in scikit-learn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Standardizer {
    mean: Vec<f64>,
    scale: Vec<f64>,
}

impl Standardizer {
    /// Training means and standard deviations of `x` (one row per sample).
    ///
    /// # Errors
    /// [`ClassicError::EmptyTrainingSet`], [`ClassicError::NoFeatures`],
    /// [`ClassicError::DimensionMismatch`] for ragged rows and [`ClassicError::NonFinite`].
    pub fn fit<R: AsRef<[f32]>>(x: &[R]) -> Result<Standardizer> {
        Standardizer::fit_samples(&Samples::from_rows(x, None)?)
    }

    pub(crate) fn fit_samples(x: &Samples) -> Result<Standardizer> {
        if x.n_samples == 0 {
            return Err(ClassicError::EmptyTrainingSet);
        }
        if x.n_features == 0 {
            return Err(ClassicError::NoFeatures);
        }
        let n = x.n_samples as f64;
        let mut mean = vec![0.0f64; x.n_features];
        for row in x.rows() {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += f64::from(v);
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut var = vec![0.0f64; x.n_features];
        for row in x.rows() {
            for ((s, &v), m) in var.iter_mut().zip(row).zip(&mean) {
                *s += (f64::from(v) - m).powi(2);
            }
        }
        let scale = var
            .iter()
            .zip(&mean)
            .map(|(s, m)| {
                let std = (s / n).sqrt();
                // scikit-learn's `_handle_zeros_in_scale`: a constant feature keeps scale 1.
                if std > 10.0 * f64::EPSILON * m.abs().max(1.0) {
                    std
                } else {
                    1.0
                }
            })
            .collect();
        Ok(Standardizer { mean, scale })
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.mean.len()
    }

    /// The training mean of each feature.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The divisor of each feature (training standard deviation, or 1 for a constant feature).
    pub fn scale(&self) -> &[f64] {
        &self.scale
    }

    /// The standardised copy of one sample.
    ///
    /// # Errors
    /// [`ClassicError::DimensionMismatch`] (reported as sample 0) and
    /// [`ClassicError::NonFinite`].
    pub fn transform_one(&self, sample: &[f32]) -> Result<Vec<f32>> {
        let x = Samples::from_rows(&[sample], Some(self.n_features()))?;
        Ok(self.transform_samples(&x).data)
    }

    /// The standardised copy of every sample.
    ///
    /// # Errors
    /// [`ClassicError::DimensionMismatch`] and [`ClassicError::NonFinite`].
    pub fn transform<R: AsRef<[f32]>>(&self, x: &[R]) -> Result<Vec<Vec<f32>>> {
        let x = Samples::from_rows(x, Some(self.n_features()))?;
        Ok(self
            .transform_samples(&x)
            .rows()
            .map(<[f32]>::to_vec)
            .collect())
    }

    /// Standardises checked samples (their width must be [`Standardizer::n_features`]).
    pub(crate) fn transform_samples(&self, x: &Samples) -> Samples {
        let data = x
            .rows()
            .flat_map(|row| {
                row.iter()
                    .zip(&self.mean)
                    .zip(&self.scale)
                    .map(|((&v, m), s)| ((f64::from(v) - m) / s) as f32)
            })
            .collect();
        Samples {
            n_samples: x.n_samples,
            n_features: x.n_features,
            data,
        }
    }

    /// Checks a deserialised standardiser: equal lengths, finite means, positive finite scales.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.mean.len() != self.scale.len() || self.mean.is_empty() {
            return Err(ClassicError::Corrupt {
                reason: format!(
                    "standardizer has {} means and {} scales",
                    self.mean.len(),
                    self.scale.len()
                ),
            });
        }
        let bad_mean = self.mean.iter().position(|m| !m.is_finite());
        let bad_scale = self.scale.iter().position(|s| !(s.is_finite() && *s > 0.0));
        if let Some(feature) = bad_mean.or(bad_scale) {
            return Err(ClassicError::Corrupt {
                reason: format!(
                    "standardizer feature {feature}: mean {} scale {} (need finite, scale > 0)",
                    self.mean[feature], self.scale[feature]
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_mean_unit_variance_on_training_data() {
        let x = [[1.0f32, 10.0], [3.0, 10.0], [5.0, 10.0]];
        let s = Standardizer::fit(&x).unwrap();
        assert_eq!(s.mean(), &[3.0, 10.0]);
        let std0 = (8.0f64 / 3.0).sqrt();
        assert_eq!(s.scale(), &[std0, 1.0]);
        let t = s.transform(&x).unwrap();
        assert!((t[0][0] as f64 + 2.0 / std0).abs() < 1e-6);
        assert_eq!(t[1], vec![0.0, 0.0]);
        // Constant feature: scale 1, centred.
        assert_eq!(t[2][1], 0.0);
    }

    #[test]
    fn errors() {
        assert!(matches!(
            Standardizer::fit::<[f32; 2]>(&[]),
            Err(ClassicError::EmptyTrainingSet)
        ));
        let s = Standardizer::fit(&[[1.0f32, 2.0], [2.0, 3.0]]).unwrap();
        assert!(matches!(
            s.transform_one(&[1.0]),
            Err(ClassicError::DimensionMismatch {
                expected: 2,
                got: 1,
                ..
            })
        ));
        assert!(matches!(
            s.transform(&[[1.0f32, f32::INFINITY]]),
            Err(ClassicError::NonFinite { feature: 1, .. })
        ));
        assert!(s.validate().is_ok());
        let broken = Standardizer {
            mean: vec![0.0],
            scale: vec![0.0],
        };
        assert!(matches!(
            broken.validate(),
            Err(ClassicError::Corrupt { .. })
        ));
    }
}
