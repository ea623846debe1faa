//! Per-feature standardisation with statistics of the training side only.

use serde::{Deserialize, Serialize};

use crate::error::{ClassicError, Result};
use crate::samples::Samples;
use crate::store::{Dim, TensorReader, TensorWriter};

/// The bound [`Standardizer::with_clip`] is given for runs behind the robust front end: 5
/// standard deviations, beyond which a value says only "far out".
pub const STANDARDIZED_CLIP: f64 = 5.0;

/// Scales each feature to zero mean and unit variance with the training set's mean and
/// population standard deviation (scikit-learn's `StandardScaler`).
///
/// Fitted on the training samples only and saved with the model, so that validation, test and
/// deployment samples are scaled with the same numbers. A feature whose standard deviation is
/// (numerically) zero keeps a scale of 1, as in scikit-learn.
///
/// Optionally ([`Standardizer::with_clip`]) standardised values are clipped to `±clip`
/// (winsorising in units of the training spread). Why: a statistic that is nearly constant in
/// training (the minimum RMS of utterances that all start in silence, mel bands above the
/// front end's band edge, the maximum of max-normalised chroma) has a tiny scale, so a small
/// change of recording conditions on another corpus turns into hundreds of standard
/// deviations, and an RBF kernel then sees every test utterance as far from every support
/// vector (measured: a RAVDESS-trained SVM called every TESS clip by one class). Clipping
/// bounds what one statistic can do to a distance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Standardizer {
    mean: Vec<f64>,
    scale: Vec<f64>,
    /// Bound of the standardised values, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clip: Option<f64>,
}

/// Format 2 of a saved [`Standardizer`] (see [`crate::store`]): the bound in the JSON, the
/// means and scales as `F64` tensors `standardizer.mean` and `standardizer.scale`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StandardizerStored {
    mean: String,
    scale: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clip: Option<f64>,
}

impl Standardizer {
    /// The format-2 description, its arrays pushed to `tensors`.
    pub(crate) fn to_stored(&self, tensors: &mut TensorWriter) -> StandardizerStored {
        let n = vec![self.mean.len()];
        StandardizerStored {
            mean: tensors.f64("standardizer.mean".to_owned(), n.clone(), &self.mean),
            scale: tensors.f64("standardizer.scale".to_owned(), n, &self.scale),
            clip: self.clip,
        }
    }

    /// The standardiser of `n_features` features a format-2 description and its tensors
    /// describe (checked by [`Standardizer::validate`] afterwards).
    ///
    /// # Errors
    /// [`ClassicError::Tensor`] for a missing or ill-shaped tensor.
    pub(crate) fn from_stored(
        stored: StandardizerStored,
        n_features: usize,
        tensors: &TensorReader<'_>,
    ) -> Result<Standardizer> {
        Ok(Standardizer {
            mean: tensors.f64(&stored.mean, &[Dim::Is(n_features)])?,
            scale: tensors.f64(&stored.scale, &[Dim::Is(n_features)])?,
            clip: stored.clip,
        })
    }

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
        Ok(Standardizer {
            mean,
            scale,
            clip: None,
        })
    }

    /// The same standardiser with its outputs clipped to `±clip` (`None`: unbounded).
    ///
    /// # Errors
    /// [`ClassicError::Corrupt`] for a bound that is not finite and positive.
    pub fn with_clip(self, clip: Option<f64>) -> Result<Standardizer> {
        if let Some(c) = clip
            && !(c.is_finite() && c > 0.0)
        {
            return Err(ClassicError::Corrupt {
                reason: format!("standardizer clip {c}: need a finite bound > 0"),
            });
        }
        Ok(Standardizer { clip, ..self })
    }

    /// The bound of the standardised values, if any.
    pub fn clip(&self) -> Option<f64> {
        self.clip
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
                    .map(|((&v, m), s)| {
                        let z = (f64::from(v) - m) / s;
                        match self.clip {
                            Some(c) => z.clamp(-c, c) as f32,
                            None => z as f32,
                        }
                    })
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
        if let Some(c) = self.clip
            && !(c.is_finite() && c > 0.0)
        {
            return Err(ClassicError::Corrupt {
                reason: format!("standardizer clip {c}: need a finite bound > 0"),
            });
        }
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
            clip: None,
        };
        assert!(matches!(
            broken.validate(),
            Err(ClassicError::Corrupt { .. })
        ));
    }

    #[test]
    fn clipping_bounds_standardised_values_and_round_trips() {
        // A nearly constant feature (scale 0.001) and an ordinary one.
        let s = Standardizer::fit(&[[0.0f32, 1.0], [0.002, 3.0]])
            .unwrap()
            .with_clip(Some(5.0))
            .unwrap();
        let z = s.transform_one(&[1.0, 2.0]).unwrap();
        assert_eq!(z[0], 5.0, "1000 standard deviations are clipped to 5");
        assert!((z[1] - 0.0).abs() < 1e-6);
        assert_eq!(s.transform_one(&[-1.0, 2.0]).unwrap()[0], -5.0);
        let unclipped = Standardizer::fit(&[[0.0f32, 1.0], [0.002, 3.0]]).unwrap();
        assert!(unclipped.transform_one(&[1.0, 2.0]).unwrap()[0] > 900.0);
        // Saved and read back; files without the field are unclipped.
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Standardizer>(&json).unwrap(), s);
        let old = serde_json::to_string(&unclipped).unwrap();
        assert!(!old.contains("clip"));
        assert!(s.clone().with_clip(Some(f64::NAN)).is_err());
        assert!(s.with_clip(Some(0.0)).is_err());
    }
}
