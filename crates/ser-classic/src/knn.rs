//! K-nearest neighbours: a `linfa-nn` index over the (standardised) training samples, Euclidean
//! distance, uniform or inverse-distance votes; probabilities are the weighted vote fractions.
//!
//! The fitted model stores the training samples and labels; the index is rebuilt on each
//! prediction call (milliseconds for a corpus of this size), so the saved model is plain data.
//! With inverse-distance weights, neighbours at distance 0 take all the weight (scikit-learn's
//! rule). Equal vote totals go to the lowest class index.
//!
//! # Sample weights
//! Fitted with per-sample weights ([`crate::ClassicModel::fit_weighted`]), each neighbour's
//! vote (1, or `1 / d`) is multiplied by its weight, which the model stores (as `f32`). The
//! neighbours themselves are the same `k`: a weight changes how much a neighbour counts, not
//! whether it is one (so weight 2 is not quite the sample twice, which could take two of the
//! `k` places). With [`crate::Balance::Class`] weights the vote fractions are the k-NN
//! estimate of the class posterior under equal class priors (`k_c / n_c`, normalised).
//! scikit-learn's `KNeighborsClassifier.fit` takes no `sample_weight`; weighted votes are the
//! usual prior correction for k-NN on unbalanced classes. Weights that are all 1 are not
//! stored, so such a model is the unweighted one.

use linfa_nn::distance::L2Dist;
use linfa_nn::{CommonNearestNeighbour, NearestNeighbour};
use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::store::{Dim, TensorReader, TensorWriter};

use crate::Classifier;
use crate::error::{ClassicError, Result};
use crate::samples::{Samples, check_training, normalize};

/// How neighbours vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Weighting {
    /// Every neighbour counts 1 (scikit-learn's default).
    #[default]
    Uniform,
    /// A neighbour at distance `d` counts `1 / d`.
    Distance,
}

/// The search structure (all give the same neighbours up to ties; they differ in speed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NeighbourIndex {
    /// Exhaustive search.
    Linear,
    /// K-d tree (the fastest of the three on RAVDESS statistics, 40 and 348 dimensions).
    #[default]
    KdTree,
    /// Ball tree.
    BallTree,
}

impl NeighbourIndex {
    fn algorithm(self) -> CommonNearestNeighbour {
        match self {
            NeighbourIndex::Linear => CommonNearestNeighbour::LinearSearch,
            NeighbourIndex::KdTree => CommonNearestNeighbour::KdTree,
            NeighbourIndex::BallTree => CommonNearestNeighbour::BallTree,
        }
    }
}

/// Hyper-parameters of k-nearest neighbours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KnnConfig {
    /// Neighbours per query (>= 1, at most the number of training samples).
    pub k: usize,
    /// Vote weights.
    pub weighting: Weighting,
    /// Search structure.
    pub index: NeighbourIndex,
}

impl Default for KnnConfig {
    /// scikit-learn's `KNeighborsClassifier()`: 5 neighbours, uniform votes.
    fn default() -> Self {
        KnnConfig {
            k: 5,
            weighting: Weighting::Uniform,
            index: NeighbourIndex::KdTree,
        }
    }
}

impl KnnConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`ClassicError::InvalidConfig`] for `k = 0`.
    pub fn validate(&self) -> Result<()> {
        if self.k == 0 {
            return Err(ClassicError::InvalidConfig {
                field: "knn.k",
                value: "0".to_owned(),
                reason: "must be at least 1",
            });
        }
        Ok(())
    }
}

/// A fitted k-nearest-neighbour classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Knn {
    n_features: usize,
    n_classes: usize,
    config: KnnConfig,
    /// Training samples, `n x n_features`, row-major.
    points: Vec<f32>,
    /// Training labels.
    labels: Vec<u32>,
    /// Vote weight of each training sample; absent when every sample counts 1 (and in every
    /// model saved before weights existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    weights: Option<Vec<f32>>,
}

/// Format 2 of a saved [`Knn`] (see [`crate::store`]): the configuration in the JSON; the
/// training samples (`knn.points`, `n x n_features`, `F32`), labels (`knn.labels`, `U32`) and
/// vote weights if any (`knn.weights`, `F32`) as tensors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KnnStored {
    n_features: usize,
    n_classes: usize,
    config: KnnConfig,
    points: String,
    labels: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    weights: Option<String>,
}

impl Knn {
    /// The format-2 description, its arrays pushed to `tensors`.
    pub(crate) fn to_stored(&self, tensors: &mut TensorWriter) -> KnnStored {
        let n = self.n_samples();
        KnnStored {
            n_features: self.n_features,
            n_classes: self.n_classes,
            config: self.config.clone(),
            points: tensors.f32(
                "knn.points".to_owned(),
                vec![n, self.n_features],
                &self.points,
            ),
            labels: tensors.u32("knn.labels".to_owned(), vec![n], &self.labels),
            weights: self
                .weights
                .as_ref()
                .map(|w| tensors.f32("knn.weights".to_owned(), vec![n], w)),
        }
    }

    /// The classifier a format-2 description and its tensors describe (checked by
    /// [`Knn::validate`] afterwards).
    ///
    /// # Errors
    /// [`ClassicError::Tensor`] for a missing or ill-shaped tensor.
    pub(crate) fn from_stored(stored: KnnStored, tensors: &TensorReader<'_>) -> Result<Knn> {
        let (labels, _) = tensors.u32(&stored.labels, &[Dim::Any])?;
        let n = Dim::Is(labels.len());
        let (points, _) = tensors.f32(&stored.points, &[n, Dim::Is(stored.n_features)])?;
        let weights = match &stored.weights {
            Some(name) => Some(tensors.f32(name, &[n])?.0),
            None => None,
        };
        Ok(Knn {
            n_features: stored.n_features,
            n_classes: stored.n_classes,
            config: stored.config,
            points,
            labels,
            weights,
        })
    }

    /// Training samples stored.
    pub fn n_samples(&self) -> usize {
        self.labels.len()
    }

    pub(crate) fn fit_samples(
        x: &Samples,
        y: &[usize],
        n_classes: Option<usize>,
        config: &KnnConfig,
    ) -> Result<Knn> {
        Knn::fit_samples_weighted(x, y, None, n_classes, config)
    }

    /// Stores the training set with per-sample vote weights (checked by the caller: one per
    /// sample, finite, > 0); weights that are all 1 (or `None`) are not stored.
    pub(crate) fn fit_samples_weighted(
        x: &Samples,
        y: &[usize],
        weights: Option<&[f64]>,
        n_classes: Option<usize>,
        config: &KnnConfig,
    ) -> Result<Knn> {
        config.validate()?;
        let n_classes = check_training(x, y, n_classes)?;
        if config.k > x.n_samples {
            return Err(ClassicError::TooFewSamples {
                k: config.k,
                n_samples: x.n_samples,
            });
        }
        Ok(Knn {
            n_features: x.n_features,
            n_classes,
            config: config.clone(),
            points: x.data.clone(),
            labels: y.iter().map(|&l| l as u32).collect(),
            weights: weights
                .filter(|w| w.iter().any(|&v| v != 1.0))
                .map(|w| w.iter().map(|&v| v as f32).collect()),
        })
    }

    pub(crate) fn proba_samples(&self, x: &Samples) -> Result<Vec<Vec<f32>>> {
        let index_error = |e: &dyn std::fmt::Display| ClassicError::NeighbourIndex {
            message: e.to_string(),
        };
        let points = ArrayView2::from_shape((self.n_samples(), self.n_features), &self.points)
            .map_err(|e| index_error(&e))?;
        let index = self
            .config
            .index
            .algorithm()
            .from_batch(&points, L2Dist)
            .map_err(|e| index_error(&e))?;
        x.rows()
            .collect::<Vec<_>>()
            .par_iter()
            .map(|sample| {
                let found = index
                    .k_nearest(ArrayView1::from(*sample), self.config.k)
                    .map_err(|e| index_error(&e))?;
                let distances: Vec<(usize, f64)> = found
                    .iter()
                    .map(|(point, i)| {
                        let d2: f64 = point
                            .iter()
                            .zip(sample.iter())
                            .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
                            .sum();
                        (*i, d2.sqrt())
                    })
                    .collect();
                let exact = distances.iter().any(|&(_, d)| d == 0.0);
                let mut votes = vec![0.0f64; self.n_classes];
                for &(i, d) in &distances {
                    let vote = match (self.config.weighting, exact) {
                        (Weighting::Uniform, _) => 1.0,
                        (Weighting::Distance, true) => f64::from(u8::from(d == 0.0)),
                        (Weighting::Distance, false) => 1.0 / d,
                    };
                    let weight = self.weights.as_ref().map_or(1.0, |w| f64::from(w[i]));
                    votes[self.labels[i] as usize] += weight * vote;
                }
                Ok(normalize(&votes))
            })
            .collect()
    }

    /// Checks a deserialised model.
    pub(crate) fn validate(&self) -> Result<()> {
        self.config.validate()?;
        let n = self.labels.len();
        let problem = if self.n_features == 0 || self.points.len() != n * self.n_features {
            Some(format!(
                "{} values for {n} samples of {} features",
                self.points.len(),
                self.n_features
            ))
        } else if self.config.k > n {
            Some(format!("k = {} > {n} samples", self.config.k))
        } else if let Some(l) = self.labels.iter().find(|&&l| l as usize >= self.n_classes) {
            Some(format!("label {l} >= {} classes", self.n_classes))
        } else if let Some(w) = &self.weights
            && (w.len() != n || w.iter().any(|v| !(v.is_finite() && *v > 0.0)))
        {
            Some(format!(
                "{} vote weights for {n} samples, or one not finite and > 0",
                w.len()
            ))
        } else {
            self.points
                .iter()
                .position(|v| !v.is_finite())
                .map(|p| format!("value {p} is not finite"))
        };
        match problem {
            Some(p) => Err(ClassicError::Corrupt {
                reason: format!("k-NN: {p}"),
            }),
            None => Ok(()),
        }
    }
}

impl Classifier for Knn {
    type Config = KnnConfig;

    /// Stores the training set (`seed` is unused: k-NN has no randomness).
    fn fit<R: AsRef<[f32]>>(x: &[R], y: &[usize], config: &KnnConfig, _seed: u64) -> Result<Self> {
        Knn::fit_samples(&Samples::from_rows(x, None)?, y, None, config)
    }

    fn n_features(&self) -> usize {
        self.n_features
    }

    fn n_classes(&self) -> usize {
        self.n_classes
    }

    fn predict_proba<R: AsRef<[f32]>>(&self, x: &[R]) -> Result<Vec<Vec<f32>>> {
        self.proba_samples(&Samples::from_rows(x, Some(self.n_features))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line() -> (Vec<[f32; 1]>, Vec<usize>) {
        (
            vec![[0.0], [1.0], [2.0], [10.0], [11.0]],
            vec![0, 0, 0, 1, 1],
        )
    }

    #[test]
    fn uniform_and_distance_votes() {
        let (x, y) = line();
        for index in [
            NeighbourIndex::Linear,
            NeighbourIndex::KdTree,
            NeighbourIndex::BallTree,
        ] {
            let uniform = KnnConfig {
                k: 3,
                weighting: Weighting::Uniform,
                index,
            };
            let knn = Knn::fit(&x, &y, &uniform, 0).unwrap();
            // Neighbours of 9: 10, 11 (class 1) and 2 (class 0).
            let p = knn.predict_proba(&[[9.0f32]]).unwrap();
            assert!((p[0][0] - 1.0 / 3.0).abs() < 1e-6 && (p[0][1] - 2.0 / 3.0).abs() < 1e-6);
            let weighted = KnnConfig {
                weighting: Weighting::Distance,
                ..uniform
            };
            let knn = Knn::fit(&x, &y, &weighted, 0).unwrap();
            let p = knn.predict_proba(&[[9.0f32]]).unwrap();
            let (w0, w1) = (1.0 / 7.0, 1.0 + 0.5);
            assert!((p[0][0] as f64 - w0 / (w0 + w1)).abs() < 1e-6);
            // An exact match takes all the weight.
            let p = knn.predict_proba(&[[10.0f32]]).unwrap();
            assert_eq!(p[0], vec![0.0, 1.0]);
        }
    }

    #[test]
    fn weighted_votes() {
        let (x, y) = line();
        let samples = Samples::from_rows(&x, None).unwrap();
        let config = KnnConfig {
            k: 3,
            index: NeighbourIndex::Linear,
            ..KnnConfig::default()
        };
        // Neighbours of 9: 10, 11 (class 1) and 2 (class 0); sample 2 weighs 4.
        let weights = [1.0, 1.0, 4.0, 1.0, 1.0];
        let knn = Knn::fit_samples_weighted(&samples, &y, Some(&weights), None, &config).unwrap();
        let p = knn
            .proba_samples(&Samples::from_rows(&[[9.0f32]], None).unwrap())
            .unwrap();
        assert!((p[0][0] - 4.0 / 6.0).abs() < 1e-6, "{p:?}");
        knn.validate().unwrap();
        let json = serde_json::to_string(&knn).unwrap();
        assert_eq!(serde_json::from_str::<Knn>(&json).unwrap(), knn);
        // Weights of 1 are not stored: the unweighted model.
        let ones = Knn::fit_samples_weighted(&samples, &y, Some(&[1.0; 5]), None, &config).unwrap();
        assert_eq!(ones, Knn::fit(&x, &y, &config, 0).unwrap());
        assert!(!serde_json::to_string(&ones).unwrap().contains("weights"));
        let mut broken = knn.clone();
        broken.weights = Some(vec![1.0; 4]);
        assert!(matches!(
            broken.validate(),
            Err(ClassicError::Corrupt { .. })
        ));
    }

    #[test]
    fn k_must_fit_the_training_set() {
        let (x, y) = line();
        let config = KnnConfig {
            k: 6,
            ..KnnConfig::default()
        };
        assert!(matches!(
            Knn::fit(&x, &y, &config, 0),
            Err(ClassicError::TooFewSamples { k: 6, n_samples: 5 })
        ));
        let config = KnnConfig {
            k: 0,
            ..KnnConfig::default()
        };
        assert!(matches!(
            Knn::fit(&x, &y, &config, 0),
            Err(ClassicError::InvalidConfig { field: "knn.k", .. })
        ));
    }
}
