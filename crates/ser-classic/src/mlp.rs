//! A small ensemble of multi-layer perceptrons on utterance statistics: one hidden ReLU layer
//! and a softmax output, trained with Adam on the cross-entropy plus an L2 penalty, as
//! scikit-learn's `MLPClassifier` does it; several members that differ only in their seed, whose
//! probabilities are averaged.
//!
//! Training follows `sklearn.neural_network.MLPClassifier` (solver `adam`) step by step:
//! - initialisation: Glorot-uniform weights *and* biases, bound `sqrt(6 / (fan_in + fan_out))`
//!   (`MLPClassifier._init_coef` for ReLU layers);
//! - loss of a mini-batch of `b` samples: mean cross-entropy plus
//!   `0.5 * alpha * (|W1|^2 + |W2|^2) / b` (biases are not penalised, `_backprop`);
//! - gradients `dW = (A^T delta + alpha * W) / b`, `db = mean(delta)`, with
//!   `delta = softmax - onehot` at the output;
//! - Adam (Kingma & Ba 2015) with sklearn's bias correction folded into the step size:
//!   `lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)`, `beta1 = 0.9`, `beta2 = 0.999`,
//!   `eps = 1e-8`;
//! - mini-batches of `min(batch_size, n)` samples in a fresh random order every epoch; the
//!   epoch loss is the sample-weighted mean of the batch losses; training stops when it has
//!   not fallen below the best epoch loss minus `tol` for more than `n_iter_no_change`
//!   epochs in a row, or after `max_epochs`.
//!
//! # Sample weights
//! With per-sample weights `w_i` ([`crate::ClassicModel::fit_weighted`]) the batch loss is the
//! weighted mean cross-entropy `sum w_i CE_i / W` plus `0.5 * alpha * (|W1|^2 + |W2|^2) / W`,
//! `W = sum w_i` over the batch (its size when every weight is 1, so weights of 1 train the
//! same network bit for bit); the output deltas are `w_i (softmax - onehot)` and every gradient
//! is divided by `W` instead of `b`; the epoch loss is the weight-weighted mean of the batch
//! losses. Batches are drawn as without weights (a fresh random order of every sample each
//! epoch), so a weight changes how much a sample counts, not how often it is seen.
//!
//! Members train in parallel (rayon), each from its own [`SplitMix64`] stream of the seed, so
//! the ensemble is a pure function of the data, the configuration and the seed.
//!
//! # Shapes
//! - input: `n_samples x n_features` standardised statistics, row-major;
//! - `w1`: `n_features x hidden`, `b1`: `hidden`; `w2`: `hidden x n_classes`, `b2`:
//!   `n_classes` (all row-major);
//! - output: `n_samples x n_classes` probabilities, rows summing to 1.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, Zip};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Classifier;
use crate::error::{ClassicError, Result};
use crate::samples::{Samples, SplitMix64, check_training};
use crate::store::{Dim, TensorReader, TensorWriter};

/// Hyper-parameters of the perceptron ensemble.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MlpConfig {
    /// Units of the hidden ReLU layer (>= 1).
    pub hidden: usize,
    /// L2 penalty (scikit-learn's `alpha`, >= 0), divided by the batch size as there.
    pub alpha: f64,
    /// Adam step size (> 0).
    pub learning_rate: f64,
    /// Samples per mini-batch (>= 1; at most the training set).
    pub batch_size: usize,
    /// Most epochs (>= 1).
    pub max_epochs: usize,
    /// Smallest fall of the epoch loss that counts as progress (>= 0).
    pub tol: f64,
    /// Epochs without progress tolerated before stopping (>= 1).
    pub n_iter_no_change: usize,
    /// Networks in the ensemble (>= 1), trained from streams 0, 1, ... of the seed.
    pub members: usize,
    /// Round the weights to half precision after training (the saved model takes half the
    /// space of single precision; the rounded model is the one evaluated and saved).
    pub half_precision: bool,
}

impl Default for MlpConfig {
    /// 256 hidden units and `alpha = 1` (the best of 64-512 units and `alpha` 0.3-3 in a
    /// 6-fold check on RAVDESS statistics), otherwise scikit-learn's `MLPClassifier()`
    /// defaults, and 5 members.
    fn default() -> Self {
        MlpConfig {
            hidden: 256,
            alpha: 1.0,
            learning_rate: 1e-3,
            batch_size: 200,
            max_epochs: 300,
            tol: 1e-4,
            n_iter_no_change: 10,
            members: 5,
            half_precision: true,
        }
    }
}

impl MlpConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`ClassicError::InvalidConfig`] naming the field.
    pub fn validate(&self) -> Result<()> {
        let at_least_one = |field, v: usize| {
            if v >= 1 {
                Ok(())
            } else {
                Err(ClassicError::InvalidConfig {
                    field,
                    value: v.to_string(),
                    reason: "must be at least 1",
                })
            }
        };
        at_least_one("mlp.hidden", self.hidden)?;
        at_least_one("mlp.batch_size", self.batch_size)?;
        at_least_one("mlp.max_epochs", self.max_epochs)?;
        at_least_one("mlp.n_iter_no_change", self.n_iter_no_change)?;
        at_least_one("mlp.members", self.members)?;
        let check = |field, v: f64, ok: bool, reason| {
            if v.is_finite() && ok {
                Ok(())
            } else {
                Err(ClassicError::InvalidConfig {
                    field,
                    value: v.to_string(),
                    reason,
                })
            }
        };
        check(
            "mlp.learning_rate",
            self.learning_rate,
            self.learning_rate > 0.0,
            "must be finite and > 0",
        )?;
        check(
            "mlp.alpha",
            self.alpha,
            self.alpha >= 0.0,
            "must be finite and >= 0",
        )?;
        check(
            "mlp.tol",
            self.tol,
            self.tol >= 0.0,
            "must be finite and >= 0",
        )
    }
}

/// One trained network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// Hidden weights, `n_features x hidden`, row-major.
    #[serde(with = "crate::svm::pool_codec")]
    w1: Vec<f32>,
    /// Hidden biases, `hidden`.
    b1: Vec<f32>,
    /// Output weights, `hidden x n_classes`, row-major.
    #[serde(with = "crate::svm::pool_codec")]
    w2: Vec<f32>,
    /// Output biases, `n_classes`.
    b2: Vec<f32>,
    /// Epochs trained.
    epochs: usize,
    /// Loss of the last epoch (penalty included).
    final_loss: f64,
}

impl Member {
    /// Epochs this member trained.
    pub fn epochs(&self) -> usize {
        self.epochs
    }

    /// Its training loss in the last epoch.
    pub fn final_loss(&self) -> f64 {
        self.final_loss
    }
}

/// A fitted perceptron ensemble.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mlp {
    n_features: usize,
    n_classes: usize,
    hidden: usize,
    members: Vec<Member>,
}

/// The parameters of one network as matrices, for training.
#[derive(Debug, Clone)]
struct Params {
    w1: Array2<f32>,
    b1: Array1<f32>,
    w2: Array2<f32>,
    b2: Array1<f32>,
}

impl Params {
    /// Glorot-uniform weights and biases, as `MLPClassifier._init_coef` for ReLU.
    fn init(n_features: usize, hidden: usize, n_classes: usize, rng: &mut SplitMix64) -> Params {
        let mut uniform = |n: usize, fan_in: usize, fan_out: usize| -> Vec<f32> {
            let bound = (6.0 / (fan_in + fan_out) as f64).sqrt();
            (0..n)
                .map(|_| {
                    // 53 random bits -> [0, 1) -> [-bound, bound).
                    let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                    ((2.0 * u - 1.0) * bound) as f32
                })
                .collect()
        };
        let w1 = uniform(n_features * hidden, n_features, hidden);
        let b1 = uniform(hidden, n_features, hidden);
        let w2 = uniform(hidden * n_classes, hidden, n_classes);
        let b2 = uniform(n_classes, hidden, n_classes);
        Params {
            w1: Array2::from_shape_vec((n_features, hidden), w1).expect("n_features x hidden"),
            b1: Array1::from(b1),
            w2: Array2::from_shape_vec((hidden, n_classes), w2).expect("hidden x n_classes"),
            b2: Array1::from(b2),
        }
    }

    fn zeros_like(&self) -> Params {
        Params {
            w1: Array2::zeros(self.w1.raw_dim()),
            b1: Array1::zeros(self.b1.raw_dim()),
            w2: Array2::zeros(self.w2.raw_dim()),
            b2: Array1::zeros(self.b2.raw_dim()),
        }
    }
}

/// Hidden activations and output probabilities of a batch.
///
/// # Shapes
/// `x`: `b x n_features` -> (`b x hidden` ReLU activations, `b x n_classes` probabilities).
fn forward(
    x: ArrayView2<'_, f32>,
    w1: ArrayView2<'_, f32>,
    b1: ArrayView1<'_, f32>,
    w2: ArrayView2<'_, f32>,
    b2: ArrayView1<'_, f32>,
) -> (Array2<f32>, Array2<f32>) {
    let mut hidden = x.dot(&w1);
    hidden += &b1;
    hidden.mapv_inplace(|v| v.max(0.0));
    let mut out = hidden.dot(&w2);
    out += &b2;
    for mut row in out.rows_mut() {
        // Softmax with the maximum subtracted, as scipy.special.softmax.
        let max = row.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        row.mapv_inplace(|v| (v - max).exp());
        let sum = row.sum();
        row.mapv_inplace(|v| v / sum);
    }
    (hidden, out)
}

/// The batch loss (mean cross-entropy plus the L2 penalty) and its gradients; with
/// `weights`, the weighted mean over the batch, the penalty and gradients divided by the total
/// weight instead of the batch size (see the module documentation).
///
/// # Shapes
/// `x`: `b x n_features`, `y`: `b` labels, `weights`: `b` values; gradients shaped as
/// `params`.
fn loss_and_grads(
    params: &Params,
    x: ArrayView2<'_, f32>,
    y: &[usize],
    weights: Option<&[f32]>,
    alpha: f64,
) -> (f64, Params) {
    // The batch's total weight: its size without weights (exact as `f64` either way for 1s).
    let total_weight = match weights {
        Some(w) => w.iter().map(|&w| f64::from(w)).sum::<f64>(),
        None => x.nrows() as f64,
    };
    let (hidden, probs) = forward(
        x,
        params.w1.view(),
        params.b1.view(),
        params.w2.view(),
        params.b2.view(),
    );
    // Cross-entropy with probabilities clipped at f32's epsilon, as sklearn's `log_loss`.
    let mut loss = 0.0f64;
    for (i, (row, &label)) in probs.rows().into_iter().zip(y).enumerate() {
        let ce = f64::from(row[label].max(f32::EPSILON)).ln();
        match weights {
            Some(w) => loss -= f64::from(w[i]) * ce,
            None => loss -= ce,
        }
    }
    let squares = |w: &Array2<f32>| w.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>();
    loss = loss / total_weight
        + 0.5 * alpha * (squares(&params.w1) + squares(&params.w2)) / total_weight;

    let scale = 1.0 / total_weight as f32;
    let alpha = alpha as f32;
    let mut delta_out = probs;
    for (i, (mut row, &label)) in delta_out.rows_mut().into_iter().zip(y).enumerate() {
        row[label] -= 1.0;
        if let Some(w) = weights {
            row *= w[i];
        }
    }
    let mut w2 = hidden.t().dot(&delta_out);
    w2.scaled_add(alpha, &params.w2);
    w2 *= scale;
    let b2 = delta_out.sum_axis(Axis(0)) * scale;
    let mut delta_hidden = delta_out.dot(&params.w2.t());
    Zip::from(&mut delta_hidden).and(&hidden).for_each(|d, &h| {
        if h <= 0.0 {
            *d = 0.0;
        }
    });
    let mut w1 = x.t().dot(&delta_hidden);
    w1.scaled_add(alpha, &params.w1);
    w1 *= scale;
    let b1 = delta_hidden.sum_axis(Axis(0)) * scale;
    (loss, Params { w1, b1, w2, b2 })
}

/// Adam's moments and step counter.
struct Adam {
    lr: f64,
    t: i32,
    m: Params,
    v: Params,
}

impl Adam {
    const BETA1: f32 = 0.9;
    const BETA2: f32 = 0.999;
    const EPS: f32 = 1e-8;

    fn new(params: &Params, lr: f64) -> Adam {
        Adam {
            lr,
            t: 0,
            m: params.zeros_like(),
            v: params.zeros_like(),
        }
    }

    /// One step of sklearn's `AdamOptimizer._get_updates`.
    fn step(&mut self, params: &mut Params, grads: &Params) {
        self.t += 1;
        let lr_t = (self.lr * (1.0 - f64::from(Self::BETA2).powi(self.t)).sqrt()
            / (1.0 - f64::from(Self::BETA1).powi(self.t))) as f32;
        let update = |p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]| {
            for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                *m = Self::BETA1 * *m + (1.0 - Self::BETA1) * g;
                *v = Self::BETA2 * *v + (1.0 - Self::BETA2) * g * g;
                *p -= lr_t * *m / (v.sqrt() + Self::EPS);
            }
        };
        update(
            params.w1.as_slice_mut().expect("standard layout"),
            grads.w1.as_slice().expect("standard layout"),
            self.m.w1.as_slice_mut().expect("standard layout"),
            self.v.w1.as_slice_mut().expect("standard layout"),
        );
        update(
            params.b1.as_slice_mut().expect("standard layout"),
            grads.b1.as_slice().expect("standard layout"),
            self.m.b1.as_slice_mut().expect("standard layout"),
            self.v.b1.as_slice_mut().expect("standard layout"),
        );
        update(
            params.w2.as_slice_mut().expect("standard layout"),
            grads.w2.as_slice().expect("standard layout"),
            self.m.w2.as_slice_mut().expect("standard layout"),
            self.v.w2.as_slice_mut().expect("standard layout"),
        );
        update(
            params.b2.as_slice_mut().expect("standard layout"),
            grads.b2.as_slice().expect("standard layout"),
            self.m.b2.as_slice_mut().expect("standard layout"),
            self.v.b2.as_slice_mut().expect("standard layout"),
        );
    }
}

/// Trains one member on stream `member` of `seed`, with per-sample weights if given.
fn fit_member(
    x: &Samples,
    y: &[usize],
    weights: Option<&[f32]>,
    n_classes: usize,
    config: &MlpConfig,
    seed: u64,
    member: usize,
) -> Member {
    let mut rng = SplitMix64::for_stream(seed, member as u64);
    let mut params = Params::init(x.n_features, config.hidden, n_classes, &mut rng);
    let mut adam = Adam::new(&params, config.learning_rate);
    let batch_size = config.batch_size.min(x.n_samples);
    let mut order: Vec<usize> = (0..x.n_samples).collect();
    let mut batch_x = Vec::with_capacity(batch_size * x.n_features);
    let mut batch_y = Vec::with_capacity(batch_size);
    let mut batch_w = Vec::with_capacity(batch_size);
    // The epoch's total weight: the number of samples without weights.
    let epoch_weight = match weights {
        Some(w) => w.iter().map(|&w| f64::from(w)).sum::<f64>(),
        None => x.n_samples as f64,
    };
    let mut best_loss = f64::INFINITY;
    let mut no_progress = 0;
    let mut epochs = 0;
    let mut epoch_loss = f64::NAN;
    while epochs < config.max_epochs {
        epochs += 1;
        rng.shuffle(&mut order);
        let mut total = 0.0;
        for batch in order.chunks(batch_size) {
            batch_x.clear();
            batch_y.clear();
            batch_w.clear();
            for &i in batch {
                batch_x.extend_from_slice(x.row(i));
                batch_y.push(y[i]);
                if let Some(w) = weights {
                    batch_w.push(w[i]);
                }
            }
            let view = ArrayView2::from_shape((batch.len(), x.n_features), &batch_x)
                .expect("batch x n_features values");
            let batch_weights = weights.map(|_| batch_w.as_slice());
            let (loss, grads) =
                loss_and_grads(&params, view, &batch_y, batch_weights, config.alpha);
            adam.step(&mut params, &grads);
            let batch_weight = match batch_weights {
                Some(w) => w.iter().map(|&w| f64::from(w)).sum::<f64>(),
                None => batch.len() as f64,
            };
            total += loss * batch_weight;
        }
        epoch_loss = total / epoch_weight;
        // sklearn's `_update_no_improvement_count` (without early stopping on held-out data).
        if epoch_loss > best_loss - config.tol {
            no_progress += 1;
        } else {
            no_progress = 0;
        }
        best_loss = best_loss.min(epoch_loss);
        if no_progress > config.n_iter_no_change {
            break;
        }
    }
    let round = |a: Vec<f32>| -> Vec<f32> {
        if config.half_precision {
            a.into_iter()
                .map(|v| half::f16::from_f32(v).to_f32())
                .collect()
        } else {
            a
        }
    };
    let Params { w1, b1, w2, b2 } = params;
    Member {
        w1: round(w1.into_raw_vec_and_offset().0),
        b1: b1.to_vec(),
        w2: round(w2.into_raw_vec_and_offset().0),
        b2: b2.to_vec(),
        epochs,
        final_loss: epoch_loss,
    }
}

impl Mlp {
    /// Units of the hidden layer.
    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// The trained networks.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    pub(crate) fn n_features(&self) -> usize {
        self.n_features
    }

    pub(crate) fn n_classes(&self) -> usize {
        self.n_classes
    }

    pub(crate) fn fit_samples(
        x: &Samples,
        y: &[usize],
        n_classes: Option<usize>,
        config: &MlpConfig,
        seed: u64,
    ) -> Result<Mlp> {
        Mlp::fit_samples_weighted(x, y, None, n_classes, config, seed)
    }

    /// Fits with per-sample weights (checked by the caller: one per sample, finite, > 0;
    /// used as `f32`), the weighted cross-entropy of the module documentation. `None` is the
    /// unweighted fit.
    pub(crate) fn fit_samples_weighted(
        x: &Samples,
        y: &[usize],
        weights: Option<&[f64]>,
        n_classes: Option<usize>,
        config: &MlpConfig,
        seed: u64,
    ) -> Result<Mlp> {
        config.validate()?;
        let n_classes = check_training(x, y, n_classes)?;
        let weights: Option<Vec<f32>> = weights.map(|w| w.iter().map(|&w| w as f32).collect());
        let members = (0..config.members)
            .into_par_iter()
            .map(|m| fit_member(x, y, weights.as_deref(), n_classes, config, seed, m))
            .collect();
        Ok(Mlp {
            n_features: x.n_features,
            n_classes,
            hidden: config.hidden,
            members,
        })
    }

    /// The mean of the members' probabilities.
    pub(crate) fn proba_samples(&self, x: &Samples) -> Vec<Vec<f32>> {
        let input = ArrayView2::from_shape((x.n_samples, x.n_features), &x.data)
            .expect("samples x features values");
        let mut mean = Array2::<f32>::zeros((x.n_samples, self.n_classes));
        for member in &self.members {
            let w1 = ArrayView2::from_shape((self.n_features, self.hidden), &member.w1)
                .expect("validated shape");
            let w2 = ArrayView2::from_shape((self.hidden, self.n_classes), &member.w2)
                .expect("validated shape");
            let (_, probs) = forward(
                input,
                w1,
                ArrayView1::from(&member.b1),
                w2,
                ArrayView1::from(&member.b2),
            );
            mean += &probs;
        }
        mean /= self.members.len() as f32;
        mean.rows().into_iter().map(|r| r.to_vec()).collect()
    }

    /// Checks a deserialised ensemble: at least one member, every parameter the size its
    /// shape needs and finite.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.members.is_empty() || self.n_features == 0 || self.hidden == 0 || self.n_classes < 2
        {
            return Err(ClassicError::Corrupt {
                reason: format!(
                    "perceptron ensemble of {} members, {} features, {} hidden units, {} classes",
                    self.members.len(),
                    self.n_features,
                    self.hidden,
                    self.n_classes
                ),
            });
        }
        for (i, m) in self.members.iter().enumerate() {
            for (what, values, expected) in [
                ("w1", &m.w1, self.n_features * self.hidden),
                ("b1", &m.b1, self.hidden),
                ("w2", &m.w2, self.hidden * self.n_classes),
                ("b2", &m.b2, self.n_classes),
            ] {
                if values.len() != expected {
                    return Err(ClassicError::Corrupt {
                        reason: format!(
                            "perceptron member {i}: {what} has {} values, expected {expected}",
                            values.len()
                        ),
                    });
                }
                if values.iter().any(|v| !v.is_finite()) {
                    return Err(ClassicError::Corrupt {
                        reason: format!("perceptron member {i}: {what} holds a non-finite value"),
                    });
                }
            }
        }
        Ok(())
    }
}

/// Format 2 of a saved [`Mlp`] (see [`crate::store`]): shapes and training counts in the
/// JSON; member `i`'s weights as tensors `mlp.member.i.w1` (`n_features x hidden`), `.b1`
/// (`hidden`), `.w2` (`hidden x n_classes`) and `.b2` (`n_classes`), the weight matrices `F16`
/// when every value is half precision ([`MlpConfig::half_precision`]), else `F32`, the biases
/// `F32`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MlpStored {
    n_features: usize,
    n_classes: usize,
    hidden: usize,
    members: Vec<MemberStored>,
}

/// Format 2 of one member: tensor names and its training record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberStored {
    w1: String,
    b1: String,
    w2: String,
    b2: String,
    epochs: usize,
    final_loss: f64,
}

impl Mlp {
    /// The format-2 description, its arrays pushed to `tensors`.
    pub(crate) fn to_stored(&self, tensors: &mut TensorWriter) -> MlpStored {
        let (f, h, c) = (self.n_features, self.hidden, self.n_classes);
        let members = self
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| MemberStored {
                w1: tensors.f32_compact(format!("mlp.member.{i}.w1"), vec![f, h], &m.w1),
                b1: tensors.f32(format!("mlp.member.{i}.b1"), vec![h], &m.b1),
                w2: tensors.f32_compact(format!("mlp.member.{i}.w2"), vec![h, c], &m.w2),
                b2: tensors.f32(format!("mlp.member.{i}.b2"), vec![c], &m.b2),
                epochs: m.epochs,
                final_loss: m.final_loss,
            })
            .collect();
        MlpStored {
            n_features: f,
            n_classes: c,
            hidden: h,
            members,
        }
    }

    /// The ensemble a format-2 description and its tensors describe (checked by
    /// [`Mlp::validate`] afterwards).
    ///
    /// # Errors
    /// [`ClassicError::Tensor`] for a missing or ill-shaped tensor.
    pub(crate) fn from_stored(stored: MlpStored, tensors: &TensorReader<'_>) -> Result<Mlp> {
        let (f, h, c) = (stored.n_features, stored.hidden, stored.n_classes);
        let members = stored
            .members
            .into_iter()
            .map(|m| {
                Ok(Member {
                    w1: tensors.f32(&m.w1, &[Dim::Is(f), Dim::Is(h)])?.0,
                    b1: tensors.f32(&m.b1, &[Dim::Is(h)])?.0,
                    w2: tensors.f32(&m.w2, &[Dim::Is(h), Dim::Is(c)])?.0,
                    b2: tensors.f32(&m.b2, &[Dim::Is(c)])?.0,
                    epochs: m.epochs,
                    final_loss: m.final_loss,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Mlp {
            n_features: f,
            n_classes: c,
            hidden: h,
            members,
        })
    }
}

impl Classifier for Mlp {
    type Config = MlpConfig;

    fn fit<R: AsRef<[f32]>>(x: &[R], y: &[usize], config: &MlpConfig, seed: u64) -> Result<Self> {
        Mlp::fit_samples(&Samples::from_rows(x, None)?, y, None, config, seed)
    }

    fn n_features(&self) -> usize {
        self.n_features
    }

    fn n_classes(&self) -> usize {
        self.n_classes
    }

    fn predict_proba<R: AsRef<[f32]>>(&self, x: &[R]) -> Result<Vec<Vec<f32>>> {
        let x = Samples::from_rows(x, Some(self.n_features))?;
        Ok(self.proba_samples(&x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three Gaussian-ish blobs in 6 dimensions, `per_class` samples each.
    fn blobs(per_class: usize, seed: u64) -> (Vec<Vec<f32>>, Vec<usize>) {
        let mut rng = SplitMix64::for_stream(seed, 99);
        let mut noise = || (rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
        let mut x = Vec::new();
        let mut y = Vec::new();
        for class in 0..3 {
            for _ in 0..per_class {
                x.push(
                    (0..6)
                        .map(|j| if j == class * 2 { 2.0 } else { 0.0 } + noise())
                        .collect(),
                );
                y.push(class);
            }
        }
        (x, y)
    }

    fn small() -> MlpConfig {
        MlpConfig {
            hidden: 16,
            members: 2,
            max_epochs: 200,
            batch_size: 16,
            learning_rate: 1e-2,
            ..MlpConfig::default()
        }
    }

    #[test]
    fn separates_blobs_and_probabilities_sum_to_one() {
        let (x, y) = blobs(30, 1);
        let model = Mlp::fit(&x, &y, &small(), 7).unwrap();
        let (test_x, test_y) = blobs(20, 2);
        assert_eq!(model.predict(&test_x).unwrap(), test_y);
        for row in model.predict_proba(&test_x).unwrap() {
            assert_eq!(row.len(), 3);
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{row:?}");
            assert!(row.iter().all(|&p| (0.0..=1.0).contains(&p)));
        }
        assert!(
            model
                .members()
                .iter()
                .all(|m| m.epochs() >= 1 && m.final_loss().is_finite())
        );
    }

    #[test]
    fn same_seed_same_model_other_seed_other_model() {
        let (x, y) = blobs(10, 3);
        let config = MlpConfig {
            max_epochs: 5,
            ..small()
        };
        let a = Mlp::fit(&x, &y, &config, 1).unwrap();
        assert_eq!(a, Mlp::fit(&x, &y, &config, 1).unwrap());
        assert_ne!(a, Mlp::fit(&x, &y, &config, 2).unwrap());
        // Members come from different streams.
        assert_ne!(a.members()[0].w1, a.members()[1].w1);
    }

    #[test]
    fn gradients_match_finite_differences() {
        let mut rng = SplitMix64::for_stream(5, 0);
        let params = Params::init(4, 5, 3, &mut rng);
        let x = Array2::from_shape_fn((6, 4), |(i, j)| ((i * 4 + j) as f32 * 0.37).sin());
        let y = [0, 1, 2, 1, 0, 2];
        let alpha = 0.5;
        let (_, grads) = loss_and_grads(&params, x.view(), &y, None, alpha);
        let h = 1e-3f32;
        let mut checked = 0;
        let mut check =
            |get: &dyn Fn(&Params) -> f32, set: &dyn Fn(&mut Params, f32), analytic: f32| {
                let mut plus = params.clone();
                set(&mut plus, get(&params) + h);
                let mut minus = params.clone();
                set(&mut minus, get(&params) - h);
                let numeric = (loss_and_grads(&plus, x.view(), &y, None, alpha).0
                    - loss_and_grads(&minus, x.view(), &y, None, alpha).0)
                    / (2.0 * f64::from(h));
                assert!(
                    (numeric - f64::from(analytic)).abs() < 2e-3,
                    "numeric {numeric} vs analytic {analytic}"
                );
                checked += 1;
            };
        for (i, j) in [(0, 0), (3, 4), (2, 1)] {
            check(
                &|p| p.w1[[i, j]],
                &|p, v| p.w1[[i, j]] = v,
                grads.w1[[i, j]],
            );
        }
        for k in [0, 4] {
            check(&|p| p.b1[k], &|p, v| p.b1[k] = v, grads.b1[k]);
        }
        for (i, j) in [(0, 0), (4, 2), (1, 1)] {
            check(
                &|p| p.w2[[i, j]],
                &|p, v| p.w2[[i, j]] = v,
                grads.w2[[i, j]],
            );
        }
        for k in 0..3 {
            check(&|p| p.b2[k], &|p, v| p.b2[k] = v, grads.b2[k]);
        }
        assert_eq!(checked, 11);
    }

    #[test]
    fn weighted_loss_and_gradients() {
        let mut rng = SplitMix64::for_stream(6, 0);
        let params = Params::init(4, 5, 3, &mut rng);
        let x = Array2::from_shape_fn((6, 4), |(i, j)| ((i * 4 + j) as f32 * 0.37).cos());
        let y = [0, 1, 2, 1, 0, 2];
        let alpha = 0.5;
        // Weights of 1: the unweighted loss and gradients, bit for bit.
        let (loss, grads) = loss_and_grads(&params, x.view(), &y, None, alpha);
        let (loss1, grads1) = loss_and_grads(&params, x.view(), &y, Some(&[1.0; 6]), alpha);
        assert_eq!(loss.to_bits(), loss1.to_bits());
        for (a, b) in [(&grads.w1, &grads1.w1), (&grads.w2, &grads1.w2)] {
            assert_eq!(a, b);
        }
        assert_eq!((&grads.b1, &grads.b2), (&grads1.b1, &grads1.b2));
        // Weight 2 on sample 5 is sample 5 twice (a batch of 7 samples).
        let weights = [1.0, 1.0, 1.0, 1.0, 1.0, 2.0];
        let (loss_w, grads_w) = loss_and_grads(&params, x.view(), &y, Some(&weights), alpha);
        let x7 = Array2::from_shape_fn((7, 4), |(i, j)| x[[i.min(5), j]]);
        let y7 = [0, 1, 2, 1, 0, 2, 2];
        let (loss_d, grads_d) = loss_and_grads(&params, x7.view(), &y7, None, alpha);
        assert!((loss_w - loss_d).abs() < 1e-6, "{loss_w} vs {loss_d}");
        let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(a, b)| (a - b).abs() < 1e-5);
        assert!(close(
            grads_w.w1.as_slice().unwrap(),
            grads_d.w1.as_slice().unwrap()
        ));
        assert!(close(
            grads_w.w2.as_slice().unwrap(),
            grads_d.w2.as_slice().unwrap()
        ));
        assert!(close(
            grads_w.b1.as_slice().unwrap(),
            grads_d.b1.as_slice().unwrap()
        ));
        assert!(close(
            grads_w.b2.as_slice().unwrap(),
            grads_d.b2.as_slice().unwrap()
        ));
    }

    #[test]
    fn weights_of_one_train_the_same_ensemble() {
        let (x, y) = blobs(10, 8);
        let samples = Samples::from_rows(&x, None).unwrap();
        let config = MlpConfig {
            max_epochs: 20,
            ..small()
        };
        let plain = Mlp::fit_samples(&samples, &y, None, &config, 3).unwrap();
        let ones = vec![1.0; x.len()];
        let weighted =
            Mlp::fit_samples_weighted(&samples, &y, Some(&ones), None, &config, 3).unwrap();
        assert_eq!(plain, weighted);
        let other = vec![0.5; x.len()];
        let halves =
            Mlp::fit_samples_weighted(&samples, &y, Some(&other), None, &config, 3).unwrap();
        // A common factor changes only the penalty's share of the loss.
        assert_ne!(plain, halves);
    }

    #[test]
    fn stops_when_the_loss_stalls() {
        let (x, y) = blobs(10, 4);
        let config = MlpConfig {
            max_epochs: 5000,
            n_iter_no_change: 3,
            tol: 1e-2,
            ..small()
        };
        let model = Mlp::fit(&x, &y, &config, 1).unwrap();
        assert!(model.members().iter().all(|m| m.epochs() < 5000));
    }

    #[test]
    fn half_precision_weights_round_trip_through_json() {
        let (x, y) = blobs(10, 5);
        let config = MlpConfig {
            max_epochs: 3,
            ..small()
        };
        let model = Mlp::fit(&x, &y, &config, 1).unwrap();
        let json = serde_json::to_string(&model).unwrap();
        assert!(json.contains("f16_le_base64"), "{}", &json[..200]);
        let back: Mlp = serde_json::from_str(&json).unwrap();
        assert_eq!(back, model);
        back.validate().unwrap();
        let mut broken = model.clone();
        broken.members[1].b2.pop();
        let err = broken.validate().unwrap_err().to_string();
        assert!(
            err.contains("member 1: b2 has 2 values, expected 3"),
            "{err}"
        );
    }

    #[test]
    fn bad_configurations_are_refused() {
        let (x, y) = blobs(3, 6);
        for (config, field) in [
            (
                MlpConfig {
                    hidden: 0,
                    ..small()
                },
                "mlp.hidden",
            ),
            (
                MlpConfig {
                    members: 0,
                    ..small()
                },
                "mlp.members",
            ),
            (
                MlpConfig {
                    learning_rate: 0.0,
                    ..small()
                },
                "mlp.learning_rate",
            ),
            (
                MlpConfig {
                    alpha: f64::NAN,
                    ..small()
                },
                "mlp.alpha",
            ),
            (
                MlpConfig {
                    tol: -1.0,
                    ..small()
                },
                "mlp.tol",
            ),
        ] {
            let err = Mlp::fit(&x, &y, &config, 0).unwrap_err().to_string();
            assert!(err.contains(field), "{err}");
        }
    }
}
