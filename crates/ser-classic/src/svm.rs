//! Support-vector machine with a Gaussian (RBF) kernel: one-vs-rest C-SVC machines trained by
//! SMO on one shared kernel matrix, with temperature-scaled softmax probabilities.
//!
//! # Multi-class
//! The machines are binary. Class `k`'s machine separates class `k` from the rest, with the same
//! `C` on both sides (scikit-learn's `SVC` defaults: `C = 1`, `gamma = "scale"`, `tol = 1e-3`;
//! scikit-learn combines one-vs-one machines instead, which changes little on balanced
//! corpora). The predicted class is the machine with the largest decision value
//! `f_k(x) = sum_i a_ki K(sv_i, x) - rho_k`.
//!
//! # Solver
//! libsvm's SMO (Fan, Chen & Lin 2005: second-order working-set selection, no shrinking), on a
//! kernel matrix computed once per fit (`|a - b|^2 = |a|^2 + |b|^2 - 2 a.b`, a matrix product)
//! and shared by every machine and every calibration fold. `linfa-svm` 0.8.1 solves the same
//! problem (a test checks that both give the same decision values) but recomputes the kernel
//! matrix for each binary problem, pair by pair: on RAVDESS (1200 training utterances x 348
//! features) that was 2.2 s of each machine's 2.4 s, 24 s per fold for 32 machines, against
//! 0.6 s for the whole fit here. The matrix is stored as `f32` (as libsvm does): 4 n^2 bytes, 5.8 MB for
//! 1200 training samples, 100 MB for 5000.
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
//! `calibration_folds` extra solves on `(k-1)/k` of the data (no extra kernel evaluations);
//! `calibration_folds = 0`, or a class with fewer samples than folds, gives `T = 1`. The
//! internal folds mix speakers, so `T` is still somewhat optimistic for unseen speakers.
//!
//! # Storage
//! The fitted model keeps the support vectors once (a pool shared by the machines, as libsvm
//! does), each machine's indices into the pool, its dual coefficients and its offset. On
//! RAVDESS every training utterance supports some machine, so a saved model holds the whole
//! standardised training set: 1200 x 348 half-precision values, 0.8 MB of the saved
//! `classic-model.safetensors` (see [`crate::ClassicModel`]).

use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Classifier;
use crate::error::{ClassicError, Result};
use crate::samples::{Samples, SplitMix64, check_training, class_counts, normalize};
use crate::store::{Dim, TensorReader, TensorWriter};

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
    /// Round the support vectors to half precision when fitting: the saved model takes a
    /// quarter of the space (an RBF machine on thousands of utterances keeps nearly all of
    /// them) and standardised inputs move kernel values by well under 1%. The rounded model
    /// is the one evaluated and saved.
    pub half_precision: bool,
}

impl Default for SvmConfig {
    /// scikit-learn's `SVC()` with 3 calibration folds.
    fn default() -> Self {
        SvmConfig {
            c: 1.0,
            gamma: Gamma::Scale,
            tol: 1e-3,
            calibration_folds: 3,
            half_precision: true,
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
    /// Support vectors of every machine, `n_pool x n_features`, row-major (half-precision
    /// values unless [`SvmConfig::half_precision`] was off; see `pool_codec`).
    #[serde(with = "pool_codec")]
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
        SvmModel::fit_samples_weighted(x, y, None, n_classes, config, seed)
    }

    /// Fits with per-sample weights (checked by the caller: one per sample, finite, > 0):
    /// sample `i`'s dual coefficient is bounded by `C * w_i` in every machine and its held-out
    /// negative log-likelihood counts `w_i` times in the temperature fit. `None` is weight 1
    /// everywhere.
    pub(crate) fn fit_samples_weighted(
        x: &Samples,
        y: &[usize],
        weights: Option<&[f64]>,
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
        // libsvm's per-sample penalty (scikit-learn's `sample_weight`): C_i = C * w_i.
        let bounds: Vec<f64> = match weights {
            Some(w) => w.iter().map(|w| config.c * w).collect(),
            None => vec![config.c; x.n_samples],
        };
        let kernel = Kernel::rbf(x, gamma);
        let temperature = fit_temperature(
            x, &kernel, y, &bounds, weights, n_classes, config, gamma, seed,
        );
        let mut model = fit_one_vs_rest(x, &kernel, y, &bounds, n_classes, config, gamma);
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
        if self.machines.len() < 2 {
            return corrupt(format!("SVM with {} machines", self.machines.len()));
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

/// Format 2 of a saved [`SvmModel`] (see [`crate::store`]): the scalars in the JSON, the
/// support-vector pool (`svm.pool`, `n_pool x n_features`, `F16` when every value is half
/// precision, else `F32`) and each machine's pool indices (`svm.machine.K.support`, `U32`) and
/// dual coefficients (`svm.machine.K.coef`, `F64`) as tensors named here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SvmStored {
    n_features: usize,
    gamma: f64,
    temperature: f64,
    pool: String,
    machines: Vec<MachineStored>,
}

/// Format 2 of one machine: tensor names and the offset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MachineStored {
    support: String,
    coef: String,
    rho: f64,
}

impl SvmModel {
    /// The format-2 description, its arrays pushed to `tensors`.
    pub(crate) fn to_stored(&self, tensors: &mut TensorWriter) -> SvmStored {
        let pool = tensors.f32_compact(
            "svm.pool".to_owned(),
            vec![self.n_support_vectors(), self.n_features],
            &self.pool,
        );
        let machines = self
            .machines
            .iter()
            .enumerate()
            .map(|(k, m)| MachineStored {
                support: tensors.u32(
                    format!("svm.machine.{k}.support"),
                    vec![m.support.len()],
                    &m.support,
                ),
                coef: tensors.f64(format!("svm.machine.{k}.coef"), vec![m.coef.len()], &m.coef),
                rho: m.rho,
            })
            .collect();
        SvmStored {
            n_features: self.n_features,
            gamma: self.gamma,
            temperature: self.temperature,
            pool,
            machines,
        }
    }

    /// The model a format-2 description and its tensors describe (checked by
    /// [`SvmModel::validate`] afterwards).
    ///
    /// # Errors
    /// [`ClassicError::Tensor`] for a missing or ill-shaped tensor.
    pub(crate) fn from_stored(stored: SvmStored, tensors: &TensorReader<'_>) -> Result<SvmModel> {
        let (pool, _) = tensors.f32(&stored.pool, &[Dim::Any, Dim::Is(stored.n_features)])?;
        let machines = stored
            .machines
            .into_iter()
            .map(|m| {
                let (support, _) = tensors.u32(&m.support, &[Dim::Any])?;
                let coef = tensors.f64(&m.coef, &[Dim::Is(support.len())])?;
                Ok(Machine {
                    support,
                    coef,
                    rho: m.rho,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(SvmModel {
            n_features: stored.n_features,
            gamma: stored.gamma,
            temperature: stored.temperature,
            pool,
            machines,
        })
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

/// An RBF kernel matrix over training samples, `n x n`, row-major, `f32`.
#[derive(Debug, Clone, PartialEq)]
struct Kernel {
    n: usize,
    values: Vec<f32>,
}

impl Kernel {
    /// `K[i][j] = exp(-gamma * |x_i - x_j|^2)`, the squared distances from one matrix product.
    fn rbf(x: &Samples, gamma: f64) -> Kernel {
        let n = x.n_samples;
        let m = Array2::from_shape_fn((n, x.n_features), |(i, j)| {
            f64::from(x.data[i * x.n_features + j])
        });
        let gram = m.dot(&m.t());
        let mut values = Vec::with_capacity(n * n);
        for i in 0..n {
            for j in 0..n {
                let d2 = if i == j {
                    0.0
                } else {
                    (gram[(i, i)] + gram[(j, j)] - 2.0 * gram[(i, j)]).max(0.0)
                };
                values.push((-gamma * d2).exp() as f32);
            }
        }
        Kernel { n, values }
    }

    /// The kernel matrix of the samples at `indices` (in that order).
    fn restrict(&self, indices: &[usize]) -> Kernel {
        let mut values = Vec::with_capacity(indices.len() * indices.len());
        for &i in indices {
            let row = &self.values[i * self.n..(i + 1) * self.n];
            values.extend(indices.iter().map(|&j| row[j]));
        }
        Kernel {
            n: indices.len(),
            values,
        }
    }

    fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.n..(i + 1) * self.n]
    }
}

/// Fits one machine per class on `x` (whose kernel matrix is `kernel`), sample `i`'s dual
/// coefficient bounded by `bounds[i]` (`C * w_i`) in each.
fn fit_one_vs_rest(
    x: &Samples,
    kernel: &Kernel,
    y: &[usize],
    bounds: &[f64],
    n_classes: usize,
    config: &SvmConfig,
    gamma: f64,
) -> SvmModel {
    let duals: Vec<(Vec<usize>, Vec<f64>, f64)> = (0..n_classes)
        .into_par_iter()
        .map(|class| {
            let positive: Vec<bool> = y.iter().map(|&l| l == class).collect();
            let (coef, rho) = solve_c_svc(kernel, &positive, bounds, config.tol);
            let (support, coef) = coef
                .into_iter()
                .enumerate()
                .filter(|&(_, a)| a != 0.0)
                .unzip();
            (support, coef, rho)
        })
        .collect();
    // The pool: every sample that supports at least one machine, in sample order.
    let mut pool_index = vec![u32::MAX; x.n_samples];
    for (support, _, _) in &duals {
        for &i in support {
            pool_index[i] = 0;
        }
    }
    let mut pool = Vec::new();
    let mut n_pool: u32 = 0;
    for (i, slot) in pool_index.iter_mut().enumerate() {
        if *slot == 0 {
            *slot = n_pool;
            n_pool += 1;
            if config.half_precision {
                pool.extend(x.row(i).iter().map(|&v| half::f16::from_f32(v).to_f32()));
            } else {
                pool.extend_from_slice(x.row(i));
            }
        }
    }
    let machines = duals
        .into_iter()
        .map(|(support, coef, rho)| Machine {
            support: support.iter().map(|&i| pool_index[i]).collect(),
            coef,
            rho,
        })
        .collect();
    SvmModel {
        n_features: x.n_features,
        gamma,
        temperature: 1.0,
        pool,
        machines,
    }
}

/// A list of `f32` values in a format-1 model file (the support-vector pool, the weights of
/// [`crate::mlp`]; format 2 keeps them in safetensors, see [`crate::store`]): little-endian
/// IEEE binary16 in base64 when every value is a half-precision number (a quarter of the size
/// of a JSON number list), else binary32 in base64; both are exact. A plain list of numbers is
/// read too.
pub(crate) mod pool_codec {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use half::f16;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Half { f16_le_base64: String },
        Single { f32_le_base64: String },
        List(Vec<f32>),
    }

    pub(crate) fn serialize<S: Serializer>(pool: &[f32], s: S) -> Result<S::Ok, S::Error> {
        let is_half = pool
            .iter()
            .all(|&v| f16::from_f32(v).to_f32().to_bits() == v.to_bits());
        let stored = if is_half {
            let bytes: Vec<u8> = pool
                .iter()
                .flat_map(|&v| f16::from_f32(v).to_le_bytes())
                .collect();
            Stored::Half {
                f16_le_base64: STANDARD.encode(bytes),
            }
        } else {
            let bytes: Vec<u8> = pool.iter().flat_map(|&v| v.to_le_bytes()).collect();
            Stored::Single {
                f32_le_base64: STANDARD.encode(bytes),
            }
        };
        stored.serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
        let decode = |text: String, width: usize| {
            let bytes = STANDARD.decode(text).map_err(serde::de::Error::custom)?;
            if bytes.len() % width != 0 {
                return Err(serde::de::Error::custom(format!(
                    "stored values: {} bytes is not a whole number of {width}-byte values",
                    bytes.len()
                )));
            }
            Ok(bytes)
        };
        let values: Vec<f32> = match Stored::deserialize(d)? {
            Stored::List(values) => values,
            Stored::Half { f16_le_base64 } => decode(f16_le_base64, 2)?
                .chunks_exact(2)
                .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            Stored::Single { f32_le_base64 } => decode(f32_le_base64, 4)?
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        };
        // Binary values can hold NaN and infinities (JSON numbers cannot); a model with one
        // would answer NaN probabilities.
        if let Some((index, value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(serde::de::Error::custom(format!(
                "stored value {index} of {} is {value}, not a finite number",
                values.len()
            )));
        }
        Ok(values)
    }
}

/// libsvm's `TAU`: the curvature used when a pair's is not positive.
const TAU: f64 = 1e-12;

/// C-SVC dual by SMO (libsvm's `Solver` without shrinking): minimises
/// `1/2 a'Qa - sum(a)` subject to `y'a = 0`, `0 <= a_i <= C_i`, with `Q_ij = y_i y_j K_ij`
/// and the per-sample bounds `C_i = bounds[i]` (libsvm's `get_C(i)`: `C` times the sample's
/// weight; a sample of bound `2C` is the same problem as two copies of it at `C`).
///
/// Returns the signed coefficients `y_i a_i` (zero for non-support vectors) and `rho`, so that
/// `f(x) = sum_i y_i a_i K(x_i, x) - rho`. Stops when the maximal KKT violation is below `tol`
/// or after libsvm's iteration cap (`max(10^7, 100 n)`), returning the current iterate.
fn solve_c_svc(kernel: &Kernel, positive: &[bool], bounds: &[f64], tol: f64) -> (Vec<f64>, f64) {
    let n = kernel.n;
    let y: Vec<f64> = positive
        .iter()
        .map(|&p| if p { 1.0 } else { -1.0 })
        .collect();
    let mut alpha = vec![0.0f64; n];
    // Gradient of the objective: Q a - 1.
    let mut grad = vec![-1.0f64; n];
    let diag: Vec<f64> = (0..n).map(|i| f64::from(kernel.row(i)[i])).collect();
    let upper = |t: usize, a: f64| a >= bounds[t];
    let lower = |a: f64| a <= 0.0;
    let max_iterations = (100 * n).max(10_000_000);
    for _ in 0..max_iterations {
        // Working set (Fan, Chen & Lin 2005, WSS 2): i maximises -y_t G_t over I_up ...
        let mut g_max = f64::NEG_INFINITY;
        let mut i_sel = None;
        for t in 0..n {
            let can_go_up = if y[t] > 0.0 {
                !upper(t, alpha[t])
            } else {
                !lower(alpha[t])
            };
            if can_go_up && -y[t] * grad[t] >= g_max {
                g_max = -y[t] * grad[t];
                i_sel = Some(t);
            }
        }
        let Some(i) = i_sel else { break };
        let k_i = kernel.row(i);
        // ... and j, in I_low, gives the largest second-order decrease of the objective.
        let mut g_max2 = f64::NEG_INFINITY;
        let mut j_sel = None;
        let mut best_decrease = f64::INFINITY;
        for t in 0..n {
            let can_go_down = if y[t] > 0.0 {
                !lower(alpha[t])
            } else {
                !upper(t, alpha[t])
            };
            if !can_go_down {
                continue;
            }
            let v = y[t] * grad[t];
            g_max2 = g_max2.max(v);
            let grad_diff = g_max + v;
            if grad_diff > 0.0 {
                let quad = diag[i] + diag[t] - 2.0 * f64::from(k_i[t]);
                let decrease = -(grad_diff * grad_diff) / if quad > 0.0 { quad } else { TAU };
                if decrease <= best_decrease {
                    best_decrease = decrease;
                    j_sel = Some(t);
                }
            }
        }
        let Some(j) = j_sel else { break };
        if g_max + g_max2 < tol {
            break;
        }
        // Analytic update of (a_i, a_j) along the constraint, clipped to the box (libsvm's
        // `Solver::Solve`, with its per-sample bounds).
        let (c_i, c_j) = (bounds[i], bounds[j]);
        let k_ij = f64::from(k_i[j]);
        let q_ij = y[i] * y[j] * k_ij;
        let (old_i, old_j) = (alpha[i], alpha[j]);
        if y[i] != y[j] {
            let quad = diag[i] + diag[j] + 2.0 * q_ij;
            let delta = (-grad[i] - grad[j]) / if quad > 0.0 { quad } else { TAU };
            let diff = alpha[i] - alpha[j];
            alpha[i] += delta;
            alpha[j] += delta;
            if diff > 0.0 {
                if alpha[j] < 0.0 {
                    alpha[j] = 0.0;
                    alpha[i] = diff;
                }
            } else if alpha[i] < 0.0 {
                alpha[i] = 0.0;
                alpha[j] = -diff;
            }
            if diff > c_i - c_j {
                if alpha[i] > c_i {
                    alpha[i] = c_i;
                    alpha[j] = c_i - diff;
                }
            } else if alpha[j] > c_j {
                alpha[j] = c_j;
                alpha[i] = c_j + diff;
            }
        } else {
            let quad = diag[i] + diag[j] - 2.0 * q_ij;
            let delta = (grad[i] - grad[j]) / if quad > 0.0 { quad } else { TAU };
            let sum = alpha[i] + alpha[j];
            alpha[i] -= delta;
            alpha[j] += delta;
            if sum > c_i {
                if alpha[i] > c_i {
                    alpha[i] = c_i;
                    alpha[j] = sum - c_i;
                }
            } else if alpha[j] < 0.0 {
                alpha[j] = 0.0;
                alpha[i] = sum;
            }
            if sum > c_j {
                if alpha[j] > c_j {
                    alpha[j] = c_j;
                    alpha[i] = sum - c_j;
                }
            } else if alpha[i] < 0.0 {
                alpha[i] = 0.0;
                alpha[j] = sum;
            }
        }
        let (d_i, d_j) = (alpha[i] - old_i, alpha[j] - old_j);
        let k_j = kernel.row(j);
        for t in 0..n {
            grad[t] += y[t] * (y[i] * f64::from(k_i[t]) * d_i + y[j] * f64::from(k_j[t]) * d_j);
        }
    }
    // rho: the mean of y_t G_t over free vectors, else the middle of the feasible interval.
    let (mut upper_bound, mut lower_bound) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut n_free, mut sum_free) = (0usize, 0.0f64);
    for t in 0..n {
        let yg = y[t] * grad[t];
        let at_upper = upper(t, alpha[t]);
        if at_upper || lower(alpha[t]) {
            // At C with y = -1 or at 0 with y = +1, y G bounds rho from above.
            if (at_upper && y[t] < 0.0) || (!at_upper && y[t] > 0.0) {
                upper_bound = upper_bound.min(yg);
            } else {
                lower_bound = lower_bound.max(yg);
            }
        } else {
            n_free += 1;
            sum_free += yg;
        }
    }
    let rho = if n_free > 0 {
        sum_free / n_free as f64
    } else {
        (upper_bound + lower_bound) / 2.0
    };
    let coef = alpha.iter().zip(&y).map(|(a, yi)| a * yi).collect();
    (coef, rho)
}

/// The softmax temperature from held-out decision values of stratified internal folds, or 1.
/// Each fold's machines keep their samples' bounds; each held-out sample's log-likelihood
/// counts its weight (1 without weights).
#[allow(clippy::too_many_arguments)]
fn fit_temperature(
    x: &Samples,
    kernel: &Kernel,
    y: &[usize],
    bounds: &[f64],
    weights: Option<&[f64]>,
    n_classes: usize,
    config: &SvmConfig,
    gamma: f64,
    seed: u64,
) -> f64 {
    let k = config.calibration_folds;
    if k < 2 || class_counts(y, n_classes).iter().any(|&c| c < k) {
        return 1.0;
    }
    let fold_of = stratified_folds(y, n_classes, k, seed);
    let held_out: Vec<Vec<(usize, Vec<f64>)>> = (0..k)
        .into_par_iter()
        .map(|fold| {
            let train: Vec<usize> = (0..x.n_samples).filter(|&i| fold_of[i] != fold).collect();
            let test: Vec<usize> = (0..x.n_samples).filter(|&i| fold_of[i] == fold).collect();
            let train_y: Vec<usize> = train.iter().map(|&i| y[i]).collect();
            let train_bounds: Vec<f64> = train.iter().map(|&i| bounds[i]).collect();
            let model = fit_one_vs_rest(
                &x.select(&train),
                &kernel.restrict(&train),
                &train_y,
                &train_bounds,
                n_classes,
                config,
                gamma,
            );
            let decisions = model.decisions(&x.select(&test));
            test.iter().map(|&i| y[i]).zip(decisions).collect()
        })
        .collect();
    // The weights in the order of `pairs` (fold by fold, samples ascending within a fold).
    let fold_of = &fold_of;
    let pair_weights: Option<Vec<f64>> = weights.map(|w| {
        (0..k)
            .flat_map(|fold| (0..x.n_samples).filter(move |&i| fold_of[i] == fold))
            .map(|i| w[i])
            .collect()
    });
    let pairs: Vec<(usize, Vec<f64>)> = held_out.into_iter().flatten().collect();
    1.0 / best_inverse_temperature(&pairs, pair_weights.as_deref())
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

/// Mean negative log-likelihood of the labels under `softmax(s * f)`, each pair weighted by
/// `weights` (the weighted mean) when given.
fn softmax_nll(pairs: &[(usize, Vec<f64>)], weights: Option<&[f64]>, s: f64) -> f64 {
    let nll = |(label, f): &(usize, Vec<f64>)| {
        let max = f.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lse = f.iter().map(|v| (s * (v - max)).exp()).sum::<f64>().ln();
        lse - s * (f[*label] - max)
    };
    match weights {
        None => pairs.iter().map(nll).sum::<f64>() / pairs.len().max(1) as f64,
        Some(w) => {
            let total: f64 = pairs.iter().zip(w).map(|(p, w)| w * nll(p)).sum();
            let weight: f64 = w.iter().sum();
            if weight > 0.0 { total / weight } else { 0.0 }
        }
    }
}

/// The inverse temperature minimising [`softmax_nll`], by golden-section search on `ln s`
/// (the NLL is convex in `s`, hence unimodal in `ln s`) within [`INVERSE_TEMPERATURE_RANGE`].
fn best_inverse_temperature(pairs: &[(usize, Vec<f64>)], weights: Option<&[f64]>) -> f64 {
    let inv_phi = (5f64.sqrt() - 1.0) / 2.0;
    let (mut lo, mut hi) = (
        INVERSE_TEMPERATURE_RANGE.0.ln(),
        INVERSE_TEMPERATURE_RANGE.1.ln(),
    );
    let nll = |t: f64| softmax_nll(pairs, weights, t.exp());
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
        let s = best_inverse_temperature(&pairs, None);
        assert!((s - 3f64.ln()).abs() < 1e-6, "{s}");
        // Weights 1 change nothing; the last pair at weight 3 is the margins +1 (3x) and
        // -1 (3x): the optimum is the smallest inverse temperature searched.
        assert_eq!(best_inverse_temperature(&pairs, Some(&[1.0; 4])), s);
        let flat = best_inverse_temperature(&pairs, Some(&[1.0, 1.0, 1.0, 3.0]));
        assert!((flat - INVERSE_TEMPERATURE_RANGE.0).abs() < 1e-6, "{flat}");
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
    fn two_points_give_the_hard_margin_solution() {
        // x = 0 (+1) and x = 1 (-1): a = 1 / (1 - K12) on both, rho = 0, f = +-1 on them.
        let x = Samples::from_rows(&[[0.0f32], [1.0]], None).unwrap();
        let gamma = 0.5;
        let kernel = Kernel::rbf(&x, gamma);
        let k12 = (-gamma).exp();
        assert!((f64::from(kernel.row(0)[1]) - k12).abs() < 1e-7);
        let (coef, rho) = solve_c_svc(&kernel, &[true, false], &[1e3; 2], 1e-9);
        let a = 1.0 / (1.0 - k12);
        assert!(
            (coef[0] - a).abs() < 1e-5 && (coef[1] + a).abs() < 1e-5,
            "{coef:?}"
        );
        assert!(rho.abs() < 1e-6);
        // With C below that, both sit at the bound.
        let (coef, _) = solve_c_svc(&kernel, &[true, false], &[0.5; 2], 1e-9);
        assert_eq!(coef, vec![0.5, -0.5]);
        // Per-sample bounds: the sum constraint holds both at the smaller bound.
        let (coef, _) = solve_c_svc(&kernel, &[true, false], &[0.5, 2.0], 1e-9);
        assert_eq!(coef, vec![0.5, -0.5]);
    }

    /// Two overlapping 2-d classes and a third beside them, `n` samples.
    fn overlapping(n: usize, seed: u64) -> (Vec<Vec<f32>>, Vec<usize>) {
        let mut rng = SplitMix64::for_stream(seed, 0);
        let mut uniform = || (rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
        let mut rows = Vec::new();
        let mut y = Vec::new();
        for i in 0..n {
            let class = i % 3;
            rows.push(vec![
                class as f32 * 0.6 + 1.5 * uniform(),
                (class == 2) as u8 as f32 + 1.5 * uniform(),
            ]);
            y.push(class);
        }
        (rows, y)
    }

    #[test]
    fn weight_two_is_the_sample_twice() {
        let (rows, y) = overlapping(45, 11);
        // A fixed gamma: "scale" would see the duplicates.
        let config = SvmConfig {
            gamma: Gamma::Value(0.7),
            calibration_folds: 0,
            half_precision: false,
            tol: 1e-9,
            ..SvmConfig::default()
        };
        let twice = [3, 10, 17, 30, 44];
        let mut weights = vec![1.0; rows.len()];
        let (mut dup_rows, mut dup_y) = (rows.clone(), y.clone());
        for &i in &twice {
            weights[i] = 2.0;
            dup_rows.push(rows[i].clone());
            dup_y.push(y[i]);
        }
        let x = Samples::from_rows(&rows, None).unwrap();
        let weighted =
            SvmModel::fit_samples_weighted(&x, &y, Some(&weights), None, &config, 0).unwrap();
        let dup = Samples::from_rows(&dup_rows, None).unwrap();
        let duplicated = SvmModel::fit_samples(&dup, &dup_y, None, &config, 0).unwrap();
        let plain = SvmModel::fit_samples(&x, &y, None, &config, 0).unwrap();
        let (grid, _) = overlapping(200, 12);
        let a = weighted.decision_function(&grid).unwrap();
        let b = duplicated.decision_function(&grid).unwrap();
        let c = plain.decision_function(&grid).unwrap();
        let max_diff = |p: &[Vec<f64>], q: &[Vec<f64>]| {
            p.iter()
                .flatten()
                .zip(q.iter().flatten())
                .map(|(u, v)| (u - v).abs())
                .fold(0.0f64, f64::max)
        };
        assert!(
            max_diff(&a, &b) < 1e-6,
            "weighted vs duplicated: {}",
            max_diff(&a, &b)
        );
        // ... and the weights matter.
        assert!(
            max_diff(&a, &c) > 1e-2,
            "weighted vs plain: {}",
            max_diff(&a, &c)
        );
        // The dual coefficients respect their own bounds C * w_i.
        for m in &weighted.machines {
            assert!(m.coef.iter().sum::<f64>().abs() < 1e-9);
        }
        let gamma = 0.7;
        let kernel = Kernel::rbf(&x, gamma);
        let bounds: Vec<f64> = weights.iter().map(|w| config.c * w).collect();
        let positive: Vec<bool> = y.iter().map(|&l| l == 0).collect();
        let (coef, _) = solve_c_svc(&kernel, &positive, &bounds, 1e-9);
        assert!(coef.iter().zip(&bounds).all(|(a, b)| a.abs() <= b + 1e-12));
        assert!(
            twice.iter().any(|&i| coef[i].abs() > config.c + 1e-6),
            "no doubled sample above C: {coef:?}"
        );
    }

    #[test]
    fn weights_of_one_are_the_unweighted_fit() {
        let (rows, y) = overlapping(60, 13);
        let x = Samples::from_rows(&rows, None).unwrap();
        let config = SvmConfig::default();
        let plain = SvmModel::fit_samples(&x, &y, None, &config, 5).unwrap();
        let ones = vec![1.0; rows.len()];
        let weighted =
            SvmModel::fit_samples_weighted(&x, &y, Some(&ones), None, &config, 5).unwrap();
        assert_eq!(plain, weighted);
        assert_ne!(plain.temperature, 1.0);
    }

    #[test]
    fn pools_are_stored_exactly_in_half_or_single_precision() {
        let rows: Vec<Vec<f32>> = (0..24)
            .map(|i| vec![(i % 3) as f32 + 0.123_456_7 * i as f32, 0.3])
            .collect();
        let y: Vec<usize> = (0..24).map(|i| i % 3).collect();
        for (half_precision, tag) in [(true, "f16_le_base64"), (false, "f32_le_base64")] {
            let config = SvmConfig {
                half_precision,
                calibration_folds: 0,
                ..SvmConfig::default()
            };
            let model = SvmModel::fit(&rows, &y, &config, 0).unwrap();
            let json = serde_json::to_string(&model).unwrap();
            assert!(json.contains(tag), "{json}");
            let back: SvmModel = serde_json::from_str(&json).unwrap();
            assert_eq!(back, model);
            assert_eq!(
                back.decision_function(&rows).unwrap(),
                model.decision_function(&rows).unwrap()
            );
        }
        // Files written before the packed form (a list of numbers) still load.
        let legacy = r#"{"n_features":1,"gamma":1.0,"temperature":1.0,"pool":[0.5,-1.0],
            "machines":[{"support":[0,1],"coef":[1.0,-1.0],"rho":0.0},
                        {"support":[0,1],"coef":[-1.0,1.0],"rho":0.0}]}"#;
        let model: SvmModel = serde_json::from_str(legacy).unwrap();
        assert_eq!(model.n_support_vectors(), 2);
        let bad = legacy.replace("[0.5,-1.0]", r#"{"f16_le_base64":"AAAA"}"#);
        assert!(serde_json::from_str::<SvmModel>(&bad).is_err());
        // Binary values can spell NaN (JSON numbers cannot): refused.
        let single = legacy.replace("[0.5,-1.0]", r#"{"f32_le_base64":"AAAAPwAAgL8="}"#);
        assert!(serde_json::from_str::<SvmModel>(&single).is_ok());
        let nan = legacy.replace("[0.5,-1.0]", r#"{"f32_le_base64":"AADAfwAAgL8="}"#);
        let err = serde_json::from_str::<SvmModel>(&nan).unwrap_err();
        assert!(err.to_string().contains("not a finite number"), "{err}");
    }

    #[test]
    fn one_vs_rest_pools_support_vectors_once() {
        let mut rng = SplitMix64::for_stream(3, 0);
        let mut rows = Vec::new();
        let mut y = Vec::new();
        for i in 0..60 {
            let class = i % 3;
            let u = (rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
            let v = (rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
            rows.push(vec![class as f32 + u, v * 2.0]);
            y.push(class);
        }
        let x = Samples::from_rows(&rows, None).unwrap();
        let config = SvmConfig::default();
        let gamma = scale_gamma(&x);
        let kernel = Kernel::rbf(&x, gamma);
        let model = fit_one_vs_rest(&x, &kernel, &y, &[config.c; 60], 3, &config, gamma);
        assert!(model.validate().is_ok());
        let n_support: usize = model.machines.iter().map(|m| m.support.len()).sum();
        assert!(model.n_support_vectors() <= n_support.min(60));
        // Each machine's dual coefficients balance (sum y_i a_i = 0) and respect the box.
        for m in &model.machines {
            assert!(m.coef.iter().sum::<f64>().abs() < 1e-9);
            assert!(m.coef.iter().all(|c| c.abs() <= config.c + 1e-12));
        }
        // Restricting the kernel picks the right entries.
        let sub = kernel.restrict(&[5, 2]);
        assert_eq!(
            sub.values,
            vec![1.0, kernel.row(5)[2], kernel.row(2)[5], 1.0]
        );
        // The training points are mostly on the right side of their machine.
        let decisions = model.decisions(&x);
        let correct = decisions
            .iter()
            .zip(&y)
            .filter(|(d, l)| d.iter().enumerate().all(|(k, v)| (k == **l) == (*v > 0.0)))
            .count();
        assert!(correct >= 50, "{correct} of 60");
    }
}
