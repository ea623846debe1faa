//! Support-vector machine with a Gaussian (RBF) kernel: one-vs-rest binary machines trained by
//! `linfa-svm`, with temperature-scaled softmax probabilities.
//!
//! # Multi-class
//! `linfa-svm` is binary. Class `k`'s machine separates class `k` from the rest, with the same
//! `C` on both sides (scikit-learn's `SVC` defaults: `C = 1`, `gamma = "scale"`, `tol = 1e-3`;
//! scikit-learn combines one-vs-one machines instead, which changes little on balanced
//! corpora). The predicted class is the machine with the largest decision value
//! `f_k(x) = sum_i a_ki K(sv_i, x) - rho_k`.
//!
//! # Probabilities
//! `p_k(x) = exp(f_k(x) / T) / sum_j exp(f_j(x) / T)`: a softmax over the one-vs-rest decision
//! values with one temperature `T`. The rows sum to 1 and their argmax is the argmax of the
//! decision values, so [`Classifier::predict`] and [`Classifier::predict_proba`] always agree
//! (scikit-learn's Platt-scaled `SVC` does not promise that). `T` is fitted like scikit-learn
//! fits its Platt sigmoids: on *held-out* decision values of an internal stratified k-fold over
//! the training set (`calibration_folds`, default 3), minimising the negative log-likelihood.
//! Training-set decision values would not do: the training samples sit on or outside the
//! margins, so they would make the model look (arbitrarily) sure of itself. The folds cost
//! `calibration_folds` extra fits on `(k-1)/k` of the data; `calibration_folds = 0`, or a
//! class with fewer samples than folds, gives `T = 1`. The internal folds mix speakers, so `T`
//! is still somewhat optimistic for unseen speakers.
//!
//! # Storage
//! The fitted model keeps the support vectors once (a pool shared by the machines, as libsvm
//! does), each machine's indices into the pool, its dual coefficients and its offset.

use linfa::DatasetBase;
use linfa::traits::Fit;
use linfa_svm::Svm;
use ndarray::{Array1, Array2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Classifier;
use crate::error::{ClassicError, Result};
use crate::samples::{Samples, SplitMix64, check_training, class_counts, normalize};

/// Smallest dual coefficient that makes a training sample a support vector (linfa-svm's rule).
const SUPPORT_THRESHOLD: f64 = 100.0 * f64::EPSILON;

/// Search range of the inverse temperature `1 / T`.
const INVERSE_TEMPERATURE_RANGE: (f64, f64) = (1e-3, 1e3);

/// Golden-section iterations for the temperature (the bracket shrinks by 0.618 each time).
const TEMPERATURE_ITERATIONS: usize = 100;

/// The RBF kernel width `gamma` of `K(a, b) = exp(-gamma * |a - b|^2)`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Gamma {
    /// `1 / (n_features * var(X))`, `var` over every value of the training matrix (scikit-learn's
    /// `"scale"`; about `1 / n_features` after standardisation); 1 when `var(X) = 0`.
    #[default]
    Scale,
    /// A fixed value (> 0).
    Value(f64),
}

/// Hyper-parameters of the RBF SVM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SvmConfig {
    /// Soft-margin penalty `C` (> 0).
    pub c: f64,
    /// Kernel width.
    pub gamma: Gamma,
    /// Stopping tolerance of the SMO solver (libsvm's `eps`, > 0).
    pub tol: f64,
    /// Internal folds for fitting the softmax temperature (0 for `T = 1`, else at least 2).
    pub calibration_folds: usize,
}

impl Default for SvmConfig {
    /// scikit-learn's `SVC()` with 3 calibration folds.
    fn default() -> Self {
        SvmConfig {
            c: 1.0,
            gamma: Gamma::Scale,
            tol: 1e-3,
            calibration_folds: 3,
        }
    }
}

impl SvmConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`ClassicError::InvalidConfig`] naming the field.
    pub fn validate(&self) -> Result<()> {
        let positive = |field, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(ClassicError::InvalidConfig {
                    field,
                    value: v.to_string(),
                    reason: "must be finite and > 0",
                })
            }
        };
        positive("svm.c", self.c)?;
        positive("svm.tol", self.tol)?;
        if let Gamma::Value(g) = self.gamma {
            positive("svm.gamma", g)?;
        }
        if self.calibration_folds == 1 {
            return Err(ClassicError::InvalidConfig {
                field: "svm.calibration_folds",
                value: "1".to_owned(),
                reason: "must be 0 (no calibration) or at least 2",
            });
        }
        Ok(())
    }
}

/// One one-vs-rest machine: `f(x) = sum_i coef[i] * K(pool[support[i]], x) - rho`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Machine {
    /// Indices into the support-vector pool.
    support: Vec<u32>,
    /// Signed dual coefficients `y_i * alpha_i`.
    coef: Vec<f64>,
    /// Offset.
    rho: f64,
}

/// A fitted one-vs-rest RBF SVM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SvmModel {
    n_features: usize,
    gamma: f64,
    temperature: f64,
    /// Support vectors of every machine, `n_pool x n_features`, row-major.
    pool: Vec<f32>,
    /// One machine per class.
    machines: Vec<Machine>,
}

impl SvmModel {
    /// The kernel width used.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// The softmax temperature `T`.
    pub fn temperature(&self) -> f64 {
        self.temperature
    }

    /// Distinct support vectors stored.
    pub fn n_support_vectors(&self) -> usize {
        self.pool.len() / self.n_features.max(1)
    }

    /// The one-vs-rest decision values `f_k(x)`, one row per sample.
    ///
    /// # Errors
    /// [`ClassicError::DimensionMismatch`] and [`ClassicError::NonFinite`].
    pub fn decision_function<R: AsRef<[f32]>>(&self, x: &[R]) -> Result<Vec<Vec<f64>>> {
        let x = Samples::from_rows(x, Some(self.n_features))?;
        Ok(self.decisions(&x))
    }

    pub(crate) fn fit_samples(
        x: &Samples,
        y: &[usize],
        n_classes: Option<usize>,
        config: &SvmConfig,
        seed: u64,
    ) -> Result<SvmModel> {
        config.validate()?;
        let n_classes = check_training(x, y, n_classes)?;
        let gamma = match config.gamma {
            Gamma::Value(g) => g,
            Gamma::Scale => scale_gamma(x),
        };
        let temperature = fit_temperature(x, y, n_classes, config, gamma, seed)?;
        let mut model = fit_one_vs_rest(x, y, n_classes, config, gamma)?;
        model.temperature = temperature;
        Ok(model)
    }

    /// Decision values of checked samples.
    fn decisions(&self, x: &Samples) -> Vec<Vec<f64>> {
        let n_pool = self.n_support_vectors();
        x.rows()
            .collect::<Vec<_>>()
            .par_iter()
            .map(|sample| {
                let kernel: Vec<f64> = (0..n_pool)
                    .map(|j| {
                        let sv = &self.pool[j * self.n_features..(j + 1) * self.n_features];
                        let d2: f64 = sv
                            .iter()
                            .zip(sample.iter())
                            .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
                            .sum();
                        (-self.gamma * d2).exp()
                    })
                    .collect();
                self.machines
                    .iter()
                    .map(|m| {
                        m.support
                            .iter()
                            .zip(&m.coef)
                            .map(|(&j, c)| c * kernel[j as usize])
                            .sum::<f64>()
                            - m.rho
                    })
                    .collect()
            })
            .collect()
    }

    pub(crate) fn proba_samples(&self, x: &Samples) -> Vec<Vec<f32>> {
        self.decisions(x)
            .iter()
            .map(|f| softmax(f, 1.0 / self.temperature))
            .collect()
    }

    /// Checks a deserialised model.
    pub(crate) fn validate(&self) -> Result<()> {
        let corrupt = |reason: String| Err(ClassicError::Corrupt { reason });
        if self.n_features == 0 || !self.pool.len().is_multiple_of(self.n_features) {
            return corrupt(format!(
                "SVM pool of {} values for {} features",
                self.pool.len(),
                self.n_features
            ));
        }
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !positive(self.gamma) || !positive(self.temperature) {
            return corrupt(format!(
                "SVM gamma {} / temperature {} must be finite and > 0",
                self.gamma, self.temperature
            ));
        }
        let n_pool = self.n_support_vectors();
        for (class, m) in self.machines.iter().enumerate() {
            if m.support.len() != m.coef.len() {
                return corrupt(format!(
                    "SVM machine {class}: {} support indices, {} coefficients",
                    m.support.len(),
                    m.coef.len()
                ));
            }
            if let Some(&j) = m.support.iter().find(|&&j| j as usize >= n_pool) {
                return corrupt(format!(
                    "SVM machine {class}: support index {j} >= pool size {n_pool}"
                ));
            }
        }
        Ok(())
    }
}

impl Classifier for SvmModel {
    type Config = SvmConfig;

    fn fit<R: AsRef<[f32]>>(x: &[R], y: &[usize], config: &SvmConfig, seed: u64) -> Result<Self> {
        SvmModel::fit_samples(&Samples::from_rows(x, None)?, y, None, config, seed)
    }

    fn n_features(&self) -> usize {
        self.n_features
    }

    fn n_classes(&self) -> usize {
        self.machines.len()
    }

    fn predict_proba<R: AsRef<[f32]>>(&self, x: &[R]) -> Result<Vec<Vec<f32>>> {
        Ok(self.proba_samples(&Samples::from_rows(x, Some(self.n_features))?))
    }
}

/// scikit-learn's `gamma = "scale"`.
fn scale_gamma(x: &Samples) -> f64 {
    let n = x.data.len() as f64;
    let mean = x.data.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = x
        .data
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    if var > 0.0 {
        1.0 / (x.n_features as f64 * var)
    } else {
        1.0
    }
}

/// `softmax(s * f)` as `f32` (computed in `f64`, shifted by the maximum).
fn softmax(f: &[f64], inverse_temperature: f64) -> Vec<f32> {
    let max = f.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = f
        .iter()
        .map(|v| ((v - max) * inverse_temperature).exp())
        .collect();
    normalize(&e)
}

/// Fits one machine per class on all of `x`.
fn fit_one_vs_rest(
    x: &Samples,
    y: &[usize],
    n_classes: usize,
    config: &SvmConfig,
    gamma: f64,
) -> Result<SvmModel> {
    let records = Array2::from_shape_fn((x.n_samples, x.n_features), |(i, j)| {
        f64::from(x.data[i * x.n_features + j])
    });
    let duals: Vec<(Vec<usize>, Vec<f64>, f64)> = (0..n_classes)
        .into_par_iter()
        .map(|class| fit_binary(&records, y, class, config, gamma))
        .collect::<Result<_>>()?;
    // The pool: every sample that supports at least one machine, in sample order.
    let mut pool_index = vec![u32::MAX; x.n_samples];
    let mut pool = Vec::new();
    let mut n_pool: u32 = 0;
    for (support, _, _) in &duals {
        for &i in support {
            if pool_index[i] == u32::MAX {
                pool_index[i] = n_pool;
                n_pool += 1;
            }
        }
    }
    let mut order: Vec<usize> = (0..x.n_samples)
        .filter(|&i| pool_index[i] != u32::MAX)
        .collect();
    order.sort_by_key(|&i| pool_index[i]);
    for &i in &order {
        pool.extend_from_slice(x.row(i));
    }
    let machines = duals
        .into_iter()
        .map(|(support, coef, rho)| Machine {
            support: support.iter().map(|&i| pool_index[i]).collect(),
            coef,
            rho,
        })
        .collect();
    Ok(SvmModel {
        n_features: x.n_features,
        gamma,
        temperature: 1.0,
        pool,
        machines,
    })
}

/// One class against the rest: the support vectors (sample indices), their signed dual
/// coefficients and the offset.
fn fit_binary(
    records: &Array2<f64>,
    y: &[usize],
    class: usize,
    config: &SvmConfig,
    gamma: f64,
) -> Result<(Vec<usize>, Vec<f64>, f64)> {
    let targets: Array1<bool> = y.iter().map(|&l| l == class).collect();
    let dataset = DatasetBase::new(records.view(), targets.view());
    let svm: Svm<f64, bool> = Svm::<f64, bool>::params()
        .pos_neg_weights(config.c, config.c)
        .gaussian_kernel(1.0 / gamma)
        .eps(config.tol)
        .fit(&dataset)
        .map_err(|e| ClassicError::Svm {
            class,
            message: e.to_string(),
        })?;
    let (support, coef) = svm
        .alpha
        .iter()
        .enumerate()
        .filter(|(_, a)| a.abs() > SUPPORT_THRESHOLD)
        .map(|(i, &a)| (i, a))
        .unzip();
    Ok((support, coef, svm.rho))
}

/// The softmax temperature from held-out decision values of stratified internal folds, or 1.
fn fit_temperature(
    x: &Samples,
    y: &[usize],
    n_classes: usize,
    config: &SvmConfig,
    gamma: f64,
    seed: u64,
) -> Result<f64> {
    let k = config.calibration_folds;
    if k < 2 || class_counts(y, n_classes).iter().any(|&c| c < k) {
        return Ok(1.0);
    }
    let fold_of = stratified_folds(y, n_classes, k, seed);
    let held_out: Vec<Vec<(usize, Vec<f64>)>> = (0..k)
        .into_par_iter()
        .map(|fold| {
            let train: Vec<usize> = (0..x.n_samples).filter(|&i| fold_of[i] != fold).collect();
            let test: Vec<usize> = (0..x.n_samples).filter(|&i| fold_of[i] == fold).collect();
            let train_y: Vec<usize> = train.iter().map(|&i| y[i]).collect();
            let model = fit_one_vs_rest(&x.select(&train), &train_y, n_classes, config, gamma)?;
            let decisions = model.decisions(&x.select(&test));
            Ok(test.iter().map(|&i| y[i]).zip(decisions).collect())
        })
        .collect::<Result<_>>()?;
    let pairs: Vec<(usize, Vec<f64>)> = held_out.into_iter().flatten().collect();
    Ok(1.0 / best_inverse_temperature(&pairs))
}

/// Fold of each sample: each class's samples are shuffled, then dealt round-robin.
fn stratified_folds(y: &[usize], n_classes: usize, k: usize, seed: u64) -> Vec<usize> {
    let mut fold_of = vec![0; y.len()];
    for class in 0..n_classes {
        let mut members: Vec<usize> = (0..y.len()).filter(|&i| y[i] == class).collect();
        SplitMix64::for_stream(seed, class as u64).shuffle(&mut members);
        for (pos, &i) in members.iter().enumerate() {
            fold_of[i] = pos % k;
        }
    }
    fold_of
}

/// Mean negative log-likelihood of the labels under `softmax(s * f)`.
fn softmax_nll(pairs: &[(usize, Vec<f64>)], s: f64) -> f64 {
    let total: f64 = pairs
        .iter()
        .map(|(label, f)| {
            let max = f.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let lse = f.iter().map(|v| (s * (v - max)).exp()).sum::<f64>().ln();
            lse - s * (f[*label] - max)
        })
        .sum();
    total / pairs.len().max(1) as f64
}

/// The inverse temperature minimising [`softmax_nll`], by golden-section search on `ln s`
/// (the NLL is convex in `s`, hence unimodal in `ln s`) within [`INVERSE_TEMPERATURE_RANGE`].
fn best_inverse_temperature(pairs: &[(usize, Vec<f64>)]) -> f64 {
    let inv_phi = (5f64.sqrt() - 1.0) / 2.0;
    let (mut lo, mut hi) = (
        INVERSE_TEMPERATURE_RANGE.0.ln(),
        INVERSE_TEMPERATURE_RANGE.1.ln(),
    );
    let nll = |t: f64| softmax_nll(pairs, t.exp());
    let mut a = hi - inv_phi * (hi - lo);
    let mut b = lo + inv_phi * (hi - lo);
    let (mut fa, mut fb) = (nll(a), nll(b));
    for _ in 0..TEMPERATURE_ITERATIONS {
        if fa <= fb {
            hi = b;
            b = a;
            fb = fa;
            a = hi - inv_phi * (hi - lo);
            fa = nll(a);
        } else {
            lo = a;
            a = b;
            fa = fb;
            b = lo + inv_phi * (hi - lo);
            fb = nll(b);
        }
    }
    ((lo + hi) / 2.0).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_validation() {
        assert!(SvmConfig::default().validate().is_ok());
        for bad in [
            SvmConfig {
                c: 0.0,
                ..SvmConfig::default()
            },
            SvmConfig {
                gamma: Gamma::Value(-1.0),
                ..SvmConfig::default()
            },
            SvmConfig {
                tol: f64::NAN,
                ..SvmConfig::default()
            },
            SvmConfig {
                calibration_folds: 1,
                ..SvmConfig::default()
            },
        ] {
            assert!(matches!(
                bad.validate(),
                Err(ClassicError::InvalidConfig { .. })
            ));
        }
    }

    #[test]
    fn temperature_search_finds_the_minimum() {
        // Decision values whose best inverse temperature is known in closed form for 2
        // classes: NLL(s) = mean(log(1 + exp(-s * m))) over margins m; with margins +1 (3x)
        // and -1 (1x) the optimum is s = ln 3.
        let pairs = vec![
            (0, vec![0.5, -0.5]),
            (0, vec![0.5, -0.5]),
            (0, vec![0.5, -0.5]),
            (1, vec![0.5, -0.5]),
        ];
        let s = best_inverse_temperature(&pairs);
        assert!((s - 3f64.ln()).abs() < 1e-6, "{s}");
    }

    #[test]
    fn softmax_rows_sum_to_one() {
        let p = softmax(&[1.0, 2.0, -3.0], 1.0);
        let sum: f32 = p.iter().sum();
        assert!((sum - 1.0).abs() < 1e-6);
        assert!(p[1] > p[0] && p[0] > p[2]);
        let sharp = softmax(&[1.0, 2.0, -3.0], 1e3);
        assert_eq!(sharp, vec![0.0, 1.0, 0.0]);
    }

    #[test]
    fn pool_matches_linfa_decision_values() {
        // Two interleaved 2-D classes; the pooled decision values must equal linfa's.
        let mut rng = SplitMix64::for_stream(3, 0);
        let mut rows = Vec::new();
        let mut y = Vec::new();
        for i in 0..60 {
            let class = i % 3;
            let u = (rng.next_u64() >> 11) as f32 / (1u64 << 53) as f32;
            let v = (rng.next_u64() >> 11) as f32 / (1u64 << 53) as f32;
            rows.push(vec![class as f32 + u, v * 2.0]);
            y.push(class);
        }
        let x = Samples::from_rows(&rows, None).unwrap();
        let config = SvmConfig {
            calibration_folds: 0,
            ..SvmConfig::default()
        };
        let gamma = scale_gamma(&x);
        let model = fit_one_vs_rest(&x, &y, 3, &config, gamma).unwrap();
        let records = Array2::from_shape_fn((60, 2), |(i, j)| f64::from(rows[i][j]));
        let ours = model.decisions(&x);
        for class in 0..3 {
            let targets: Array1<bool> = y.iter().map(|&l| l == class).collect();
            let svm: Svm<f64, bool> = Svm::<f64, bool>::params()
                .pos_neg_weights(1.0, 1.0)
                .gaussian_kernel(1.0 / gamma)
                .eps(1e-3)
                .fit(&DatasetBase::new(records.view(), targets.view()))
                .unwrap();
            for (row, decisions) in records.outer_iter().zip(&ours) {
                let theirs = svm.weighted_sum(&row) - svm.rho;
                assert!((decisions[class] - theirs).abs() < 1e-9);
            }
        }
        assert!(model.n_support_vectors() <= 60);
        assert!(model.validate().is_ok());
    }
}
