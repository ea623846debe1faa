//! Bidirectional recurrent layers (Elman RNN, LSTM, GRU) behind one small interface.
//!
//! [`BiRecurrent`] is the only recurrent type the architectures use: a stack of bidirectional
//! layers mapping a time-major sequence `[n_frames, batch, d_input]` to
//! `[n_frames, batch, 2 * d_hidden]` (forward direction first, reverse second, as in PyTorch).
//! A faster implementation can replace the internals of [`BiRecurrentLayer`] without touching
//! the models.
//!
//! Design notes (why not `burn::nn::BiLstm`): burn's cells run eight small matmuls per step, and
//! slice their input and write their output one step at a time; under autodiff the gradient of
//! every slice is a zero tensor of the parent's size, so the backward pass touches the whole
//! sequence once per step (quadratic in `n_frames`). Here
//! - the input sequence is cut into frames once, by halving (`~2 log2(n_frames)` parent-sized
//!   tensors in the backward pass instead of `n_frames`),
//! - the two directions advance together: each step is one batched matmul
//!   `[2, batch, d_input + hidden] @ [2, d_input + hidden, gates]` on `[x, h]`,
//! - stacked layers pass per-frame tensors to each other, so nothing large is sliced again,
//! - the last layer's states are stacked once at the end.
//!
//! Parameters follow PyTorch's initialisation (uniform in `±1/sqrt(d_hidden)`), with
//! gate order `i, f, o, g` for the LSTM and `r, z, n` for the GRU.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig, Initializer};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::ModelError;
use crate::fused;

/// The recurrent cell of a [`BiRecurrent`] stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecurrentCell {
    /// Elman RNN: `h' = tanh(W x + U h + b)`.
    Rnn,
    /// Long short-term memory.
    Lstm,
    /// Gated recurrent unit (PyTorch formulation).
    Gru,
}

impl RecurrentCell {
    /// Number of gate blocks of `d_hidden` rows in the cell's weight matrices.
    pub fn n_gates(self) -> usize {
        match self {
            Self::Rnn => 1,
            Self::Lstm => 4,
            Self::Gru => 3,
        }
    }

    /// Lower-case name (`rnn`, `lstm`, `gru`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Rnn => "rnn",
            Self::Lstm => "lstm",
            Self::Gru => "gru",
        }
    }
}

impl std::fmt::Display for RecurrentCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Configuration of a [`BiRecurrent`] stack.
#[derive(Config, Debug, PartialEq)]
pub struct BiRecurrentConfig {
    /// Recurrent cell of every layer.
    pub cell: RecurrentCell,
    /// Size of each input vector.
    pub d_input: usize,
    /// Hidden size of each direction (the output has `2 * d_hidden` channels).
    pub d_hidden: usize,
    /// Number of stacked bidirectional layers.
    #[config(default = 1)]
    pub n_layers: usize,
    /// Dropout probability between layers (training only; unused with one layer).
    #[config(default = 0.0)]
    pub dropout: f64,
}

impl BiRecurrentConfig {
    /// Checks the configuration; `architecture` names the caller in the error.
    pub fn validate(&self, architecture: &'static str) -> Result<(), ModelError> {
        let invalid = |reason: String| ModelError::InvalidConfig {
            architecture,
            reason,
        };
        if self.d_input == 0 {
            return Err(invalid("recurrent d_input must be positive, got 0".into()));
        }
        if self.d_hidden == 0 {
            return Err(invalid("recurrent d_hidden must be positive, got 0".into()));
        }
        if self.n_layers == 0 {
            return Err(invalid("recurrent n_layers must be positive, got 0".into()));
        }
        check_dropout(architecture, "recurrent dropout", self.dropout)
    }

    /// Builds the stack; fails on an invalid configuration.
    pub fn init(&self, device: &Device) -> Result<BiRecurrent, ModelError> {
        self.validate("recurrent")?;
        let layers = (0..self.n_layers)
            .map(|layer| {
                let d_input = if layer == 0 {
                    self.d_input
                } else {
                    2 * self.d_hidden
                };
                BiRecurrentLayer::new(self.cell, d_input, self.d_hidden, device)
            })
            .collect();
        Ok(BiRecurrent {
            layers,
            dropout: DropoutConfig::new(self.dropout).init(),
        })
    }
}

/// Rejects a dropout probability outside `[0, 1)` (burn's `Dropout` panics on it).
pub(crate) fn check_dropout(
    architecture: &'static str,
    what: &str,
    prob: f64,
) -> Result<(), ModelError> {
    if prob.is_finite() && (0.0..1.0).contains(&prob) {
        Ok(())
    } else {
        Err(ModelError::InvalidConfig {
            architecture,
            reason: format!("{what} must be in [0, 1), got {prob}"),
        })
    }
}

/// A stack of bidirectional recurrent layers with dropout between them.
#[derive(Module, Debug)]
pub struct BiRecurrent {
    /// The layers, input first.
    pub layers: Vec<BiRecurrentLayer>,
    /// Dropout applied to the output of every layer but the last.
    pub dropout: Dropout,
}

impl BiRecurrent {
    /// Runs the stack over a time-major sequence.
    ///
    /// - input: `[n_frames, batch, d_input]`
    /// - output: `[n_frames, batch, 2 * d_hidden]`, forward-direction channels first.
    pub fn forward(&self, input: Tensor<3>) -> Tensor<3> {
        if !fused::supported(&input.device()) {
            return self.forward_composed(input);
        }
        let mut x = input;
        for (index, layer) in self.layers.iter().enumerate() {
            if index > 0 {
                x = self.dropout.forward(x);
            }
            x = layer.forward_fused(x);
        }
        x
    }

    /// [`BiRecurrent::forward`] composed of burn tensor operations, step by step: the path of
    /// backends without the fused operation (and the reference the fused one is tested against).
    pub fn forward_composed(&self, input: Tensor<3>) -> Tensor<3> {
        let mut sequence = Vec::with_capacity(input.dims()[0]);
        split_time(input, &mut sequence);
        let n_layers = self.layers.len();
        let mut states = Vec::new();
        for (index, layer) in self.layers.iter().enumerate() {
            if index > 0 {
                sequence = align_directions(&states)
                    .into_iter()
                    .map(|frame| self.dropout.forward(frame))
                    .collect();
            }
            states = layer.run(&sequence);
            if index + 1 == n_layers {
                break;
            }
        }
        assemble_output(states)
    }

    /// Hidden size of one direction.
    pub fn d_hidden(&self) -> usize {
        self.layers.first().map_or(0, |layer| layer.d_hidden)
    }
}

/// Per-frame inputs of the next layer from one layer's step states: frame `t` is
/// `[forward state at t, reverse state at t]`, `[1, batch, 2 * hidden]`.
fn align_directions(states: &[Tensor<3>]) -> Vec<Tensor<3>> {
    let n = states.len();
    (0..n)
        .map(|t| {
            let forward = states[t].clone().narrow(0, 0, 1);
            let reverse = states[n - 1 - t].clone().narrow(0, 1, 1);
            Tensor::cat(vec![forward, reverse], 2)
        })
        .collect()
}

/// `[n_frames, batch, 2 * hidden]` from the step states of the last layer.
fn assemble_output(states: Vec<Tensor<3>>) -> Tensor<3> {
    // [n_frames, 2, batch, hidden]; undo the reverse direction's time flip.
    let stacked = Tensor::stack::<4>(states, 0);
    let forward = stacked.clone().narrow(1, 0, 1).squeeze_dim::<3>(1);
    let reverse = stacked.narrow(1, 1, 1).squeeze_dim::<3>(1).flip([0]);
    Tensor::cat(vec![forward, reverse], 2)
}

/// One bidirectional recurrent layer; the two directions' weights are stacked on a leading
/// axis of size 2 (forward, reverse) so both directions advance in one batched matmul.
#[derive(Module, Debug)]
pub struct BiRecurrentLayer {
    /// Input weights per direction: `[2, d_input, n_gates * d_hidden]`.
    pub input_weight: Param<Tensor<3>>,
    /// Input biases per direction: `[2, 1, n_gates * d_hidden]`.
    pub input_bias: Param<Tensor<3>>,
    /// Recurrent weights per direction: `[2, d_hidden, n_gates * d_hidden]`.
    pub hidden_weight: Param<Tensor<3>>,
    /// Recurrent biases per direction: `[2, 1, n_gates * d_hidden]`.
    pub hidden_bias: Param<Tensor<3>>,
    /// The cell.
    #[module(skip)]
    pub cell: RecurrentCell,
    /// Hidden size of one direction.
    pub d_hidden: usize,
}

impl BiRecurrentLayer {
    fn new(cell: RecurrentCell, d_input: usize, d_hidden: usize, device: &Device) -> Self {
        let gates = cell.n_gates() * d_hidden;
        // Same distribution as PyTorch's RNN/LSTM/GRU: U(-1/sqrt(h), 1/sqrt(h)).
        let bound = 1.0 / (d_hidden as f64).sqrt();
        let init = Initializer::Uniform {
            min: -bound,
            max: bound,
        };
        Self {
            input_weight: init.init([2, d_input, gates], device),
            input_bias: init.init([2, 1, gates], device),
            hidden_weight: init.init([2, d_hidden, gates], device),
            hidden_bias: init.init([2, 1, gates], device),
            cell,
            d_hidden,
        }
    }

    /// Runs both directions over a time-major sequence.
    ///
    /// - input: `[n_frames, batch, d_input]`
    /// - output: `[n_frames, batch, 2 * d_hidden]`
    pub fn forward(&self, input: Tensor<3>) -> Tensor<3> {
        if fused::supported(&input.device()) {
            self.forward_fused(input)
        } else {
            self.forward_composed(input)
        }
    }

    /// [`BiRecurrentLayer::forward`] as one fused operation (flex only, see [`crate::fused`]).
    fn forward_fused(&self, input: Tensor<3>) -> Tensor<3> {
        fused::bi_recurrent(
            input,
            self.input_weight.val(),
            self.input_bias.val(),
            self.hidden_weight.val(),
            self.hidden_bias.val(),
            self.cell,
        )
    }

    /// [`BiRecurrentLayer::forward`] composed of burn tensor operations, step by step.
    pub fn forward_composed(&self, input: Tensor<3>) -> Tensor<3> {
        let mut sequence = Vec::with_capacity(input.dims()[0]);
        split_time(input, &mut sequence);
        assemble_output(self.run(&sequence))
    }

    /// Runs both directions over `frames` (`[1, batch, d_input]` each, in time order).
    ///
    /// Returns one `[2, batch, d_hidden]` state per step `s`: the forward direction's state
    /// after frame `s` and the reverse direction's state after frame `n - 1 - s`.
    ///
    /// Each step reads its two frames and the previous state with one batched matmul
    /// (`[x, h] @ [W_in; W_hidden]`) instead of slicing a precomputed projection of the whole
    /// sequence: under autodiff every slice costs a zero tensor of its parent's size in the
    /// backward pass, which for the projection would be megabytes per step.
    pub(crate) fn run(&self, frames: &[Tensor<3>]) -> Vec<Tensor<3>> {
        let n = frames.len();
        let Some(first) = frames.first() else {
            return Vec::new();
        };
        let [_, batch, _] = first.dims();
        let hidden = self.d_hidden;
        let device = self.hidden_weight.val().device();
        let mut h = Tensor::<3>::zeros([2, batch, hidden], &device);
        let mut c = Tensor::<3>::zeros([2, batch, hidden], &device);
        let mut states = Vec::with_capacity(n);

        // RNN and LSTM: one matmul per step on [x, h]; the biases add up to one constant.
        let joint_weight = Tensor::cat(vec![self.input_weight.val(), self.hidden_weight.val()], 1);
        let joint_bias = self.input_bias.val().add(self.hidden_bias.val());
        // GRU: the candidate gate needs the input and recurrent parts separately.
        let input_weight = self.input_weight.val();
        let input_bias = self.input_bias.val();
        let hidden_weight = self.hidden_weight.val();
        let hidden_bias = self.hidden_bias.val();

        for s in 0..n {
            let x = Tensor::cat(vec![frames[s].clone(), frames[n - 1 - s].clone()], 0);
            match self.cell {
                RecurrentCell::Rnn => {
                    let pre = Tensor::cat(vec![x, h], 2)
                        .matmul(joint_weight.clone())
                        .add(joint_bias.clone());
                    h = fast_tanh(pre);
                }
                RecurrentCell::Lstm => {
                    let pre = Tensor::cat(vec![x, h], 2)
                        .matmul(joint_weight.clone())
                        .add(joint_bias.clone());
                    let ifo = fast_sigmoid(pre.clone().narrow(2, 0, 3 * hidden));
                    let g = fast_tanh(pre.narrow(2, 3 * hidden, hidden));
                    let i = ifo.clone().narrow(2, 0, hidden);
                    let f = ifo.clone().narrow(2, hidden, hidden);
                    let o = ifo.narrow(2, 2 * hidden, hidden);
                    c = f.mul(c).add(i.mul(g));
                    h = o.mul(fast_tanh(c.clone()));
                }
                RecurrentCell::Gru => {
                    let from_input = x.matmul(input_weight.clone()).add(input_bias.clone());
                    let from_hidden = h
                        .clone()
                        .matmul(hidden_weight.clone())
                        .add(hidden_bias.clone());
                    let rz = fast_sigmoid(
                        from_input
                            .clone()
                            .narrow(2, 0, 2 * hidden)
                            .add(from_hidden.clone().narrow(2, 0, 2 * hidden)),
                    );
                    let r = rz.clone().narrow(2, 0, hidden);
                    let z = rz.narrow(2, hidden, hidden);
                    let n_gate = fast_tanh(
                        from_input
                            .narrow(2, 2 * hidden, hidden)
                            .add(r.mul(from_hidden.narrow(2, 2 * hidden, hidden))),
                    );
                    // (1 - z) * n + z * h
                    h = n_gate.clone().add(z.mul(h.sub(n_gate)));
                }
            }
            states.push(h.clone());
        }
        states
    }
}

/// Bound on the argument of `exp` in the fast activations: `exp(80)` is finite in f32 (an
/// infinite `exp` would turn the backward pass's `0 * inf` into NaN), and both activations are
/// saturated to f32 precision long before it.
const EXP_ARG_BOUND: f64 = 80.0;

/// Logistic sigmoid as `1 / (1 + exp(-x))`.
///
/// On the flex CPU backend this is about twice as fast as `activation::sigmoid`, whose scalar
/// kernel branches per element.
pub(crate) fn fast_sigmoid<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    x.neg()
        .clamp(-EXP_ARG_BOUND, EXP_ARG_BOUND)
        .exp()
        .add_scalar(1.0)
        .recip()
}

/// Hyperbolic tangent as `2 sigmoid(2x) - 1`, several times as fast as `tanh` on the flex CPU
/// backend. Absolute error stays below 1e-6.
pub(crate) fn fast_tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    x.mul_scalar(-2.0)
        .clamp(-EXP_ARG_BOUND, EXP_ARG_BOUND)
        .exp()
        .add_scalar(1.0)
        .recip()
        .mul_scalar(2.0)
        .sub_scalar(1.0)
}

/// Cuts `x` along dimension 0 into pieces of length 1, in order, by recursive halving.
///
/// Under autodiff the gradient of a slice is a zero tensor of the parent's size, so cutting
/// `n` steps directly off one tensor costs `n` full-size tensors in the backward pass; halving
/// costs about `2 log2(n)`.
pub(crate) fn split_time<const D: usize>(x: Tensor<D>, out: &mut Vec<Tensor<D>>) {
    const LEAF_LEN: usize = 2;
    let len = x.dims()[0];
    if len <= LEAF_LEN {
        for index in 0..len {
            out.push(x.clone().narrow(0, index, 1));
        }
        return;
    }
    let half = len / 2;
    split_time(x.clone().narrow(0, 0, half), out);
    split_time(x.narrow(0, half, len - half), out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, TensorData, Tolerance};

    fn device() -> Device {
        Device::flex()
    }

    #[test]
    fn fast_activations_match_the_exact_ones() {
        let device = device();
        let values: Vec<f32> = (-400..=400).map(|v| v as f32 * 0.05).collect();
        let n = values.len();
        let x = Tensor::<1>::from_data(TensorData::new(values.clone(), [n]), &device);
        let sig = fast_sigmoid(x.clone())
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let tanh = fast_tanh(x).into_data().try_into_vec::<f32>().unwrap();
        for ((v, s), t) in values.iter().zip(&sig).zip(&tanh) {
            let exact_sig = 1.0 / (1.0 + (-f64::from(*v)).exp());
            assert!(
                (f64::from(*s) - exact_sig).abs() < 1e-6,
                "sigmoid({v}) = {s}"
            );
            assert!(
                (f64::from(*t) - f64::from(*v).tanh()).abs() < 1e-6,
                "tanh({v}) = {t}"
            );
        }
        // Saturation far outside the range above: no NaN.
        let extreme = Tensor::<1>::from_data(TensorData::new(vec![-1e4_f32, 1e4], [2]), &device);
        let sig = fast_sigmoid(extreme.clone())
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        assert!(sig[0] < 1e-30 && sig[1] == 1.0, "{sig:?}");
        assert_eq!(
            fast_tanh(extreme.clone())
                .into_data()
                .try_into_vec::<f32>()
                .unwrap(),
            vec![-1.0, 1.0]
        );
        // ... and finite gradients there.
        let tracked = extreme.autodiff().require_grad();
        let grads = fast_sigmoid(tracked.clone())
            .add(fast_tanh(tracked.clone()))
            .sum()
            .backward();
        let grad = tracked.grad(&grads).unwrap().into_data();
        assert!(
            grad.try_to_vec::<f32>()
                .unwrap()
                .iter()
                .all(|g| g.is_finite())
        );
    }

    #[test]
    fn split_time_keeps_order_and_length() {
        let device = device();
        for len in [1_usize, 2, 3, 5, 8, 13] {
            let values: Vec<f32> = (0..len).map(|v| v as f32).collect();
            let x = Tensor::<2>::from_data(TensorData::new(values.clone(), [len, 1]), &device);
            let mut pieces = Vec::new();
            split_time(x, &mut pieces);
            let got: Vec<f32> = pieces
                .into_iter()
                .map(|piece| {
                    assert_eq!(piece.dims(), [1, 1]);
                    piece.into_scalar::<f32>()
                })
                .collect();
            assert_eq!(got, values);
        }
    }

    /// Step-by-step reference for one direction of one layer, written independently of the
    /// batched implementation (plain loops over host vectors).
    fn reference_direction(
        layer: &BiRecurrentLayer,
        direction: usize,
        input: &[Vec<f32>],
    ) -> Vec<Vec<f32>> {
        let hidden = layer.d_hidden;
        let n_gates = layer.cell.n_gates();
        let gates = n_gates * hidden;
        let w_in = layer
            .input_weight
            .val()
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let b_in = layer
            .input_bias
            .val()
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let w_h = layer
            .hidden_weight
            .val()
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let b_h = layer
            .hidden_bias
            .val()
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let d_input = input[0].len();
        let sig = |v: f32| 1.0 / (1.0 + (-v).exp());
        let mut h = vec![0.0_f32; hidden];
        let mut c = vec![0.0_f32; hidden];
        let mut out = vec![Vec::new(); input.len()];
        let order: Vec<usize> = if direction == 0 {
            (0..input.len()).collect()
        } else {
            (0..input.len()).rev().collect()
        };
        for t in order {
            let xin: Vec<f32> = (0..gates)
                .map(|g| {
                    b_in[direction * gates + g]
                        + (0..d_input)
                            .map(|k| {
                                input[t][k] * w_in[direction * d_input * gates + k * gates + g]
                            })
                            .sum::<f32>()
                })
                .collect();
            let hh: Vec<f32> = (0..gates)
                .map(|g| {
                    b_h[direction * gates + g]
                        + (0..hidden)
                            .map(|k| h[k] * w_h[direction * hidden * gates + k * gates + g])
                            .sum::<f32>()
                })
                .collect();
            match layer.cell {
                RecurrentCell::Rnn => {
                    h = (0..hidden).map(|j| (xin[j] + hh[j]).tanh()).collect();
                }
                RecurrentCell::Lstm => {
                    for j in 0..hidden {
                        let i = sig(xin[j] + hh[j]);
                        let f = sig(xin[hidden + j] + hh[hidden + j]);
                        let o = sig(xin[2 * hidden + j] + hh[2 * hidden + j]);
                        let g = (xin[3 * hidden + j] + hh[3 * hidden + j]).tanh();
                        c[j] = f * c[j] + i * g;
                        h[j] = o * c[j].tanh();
                    }
                }
                RecurrentCell::Gru => {
                    let prev = h.clone();
                    for j in 0..hidden {
                        let r = sig(xin[j] + hh[j]);
                        let z = sig(xin[hidden + j] + hh[hidden + j]);
                        let n = (xin[2 * hidden + j] + r * hh[2 * hidden + j]).tanh();
                        h[j] = (1.0 - z) * n + z * prev[j];
                    }
                }
            }
            out[t] = h.clone();
        }
        out
    }

    #[test]
    fn every_cell_matches_a_step_by_step_reference() {
        let device = device();
        let (n_frames, d_input, hidden) = (7, 3, 4);
        for cell in [RecurrentCell::Rnn, RecurrentCell::Lstm, RecurrentCell::Gru] {
            let layer = BiRecurrentLayer::new(cell, d_input, hidden, &device);
            let x = Tensor::<3>::random(
                [n_frames, 1, d_input],
                Distribution::Uniform(-1.0, 1.0),
                &device,
            );
            let values = x.to_data().try_to_vec::<f32>().unwrap();
            let input: Vec<Vec<f32>> = values.chunks(d_input).map(<[f32]>::to_vec).collect();
            let forward = reference_direction(&layer, 0, &input);
            let reverse = reference_direction(&layer, 1, &input);
            let expected: Vec<f32> = (0..n_frames)
                .flat_map(|t| forward[t].iter().chain(&reverse[t]).copied())
                .collect();
            let got = layer.forward(x);
            assert_eq!(got.dims(), [n_frames, 1, 2 * hidden]);
            got.into_data().assert_approx_eq::<f32>(
                &TensorData::new(expected, [n_frames, 1, 2 * hidden]),
                Tolerance::absolute(1e-5),
            );
        }
    }

    /// Finite-difference check of the gradients through the whole layer (both directions, the
    /// time split, the flips and the per-step recurrence), w.r.t. the input and a recurrent
    /// weight.
    #[test]
    fn gradients_match_finite_differences() {
        let device = device().autodiff();
        let (n_frames, batch, d_input, hidden) = (6, 2, 3, 4);
        for cell in [RecurrentCell::Rnn, RecurrentCell::Lstm, RecurrentCell::Gru] {
            let layer = BiRecurrentLayer::new(cell, d_input, hidden, &device);
            let x = Tensor::<3>::random(
                [n_frames, batch, d_input],
                Distribution::Uniform(-1.0, 1.0),
                &device,
            );
            let probe = Tensor::<3>::random(
                [n_frames, batch, 2 * hidden],
                Distribution::Uniform(-1.0, 1.0),
                &device,
            );
            let objective = |layer: &BiRecurrentLayer, x: Tensor<3>| -> f64 {
                let value: f32 = layer.forward(x).mul(probe.clone()).sum().into_scalar();
                f64::from(value)
            };
            let x_tracked = x.clone().require_grad();
            let grads = layer
                .forward(x_tracked.clone())
                .mul(probe.clone())
                .sum()
                .backward();
            let x_grad = x_tracked.grad(&grads).unwrap().into_data();
            let x_grad = x_grad.try_to_vec::<f32>().unwrap();
            let w_grad = layer.hidden_weight.val().grad(&grads).unwrap().into_data();
            let w_grad = w_grad.try_to_vec::<f32>().unwrap();

            let eps = 1e-2_f32;
            let x_values = x.to_data().try_to_vec::<f32>().unwrap();
            let shape = [n_frames, batch, d_input];
            for index in [0, 5, 17, x_values.len() - 1] {
                let shifted = |delta: f32| {
                    let mut values = x_values.clone();
                    values[index] += delta;
                    Tensor::<3>::from_data(TensorData::new(values, shape), &device)
                };
                let numeric = (objective(&layer, shifted(eps)) - objective(&layer, shifted(-eps)))
                    / (2.0 * f64::from(eps));
                let analytic = f64::from(x_grad[index]);
                assert!(
                    (numeric - analytic).abs() <= 2e-3 + 2e-2 * analytic.abs(),
                    "{cell} d/dx[{index}]: numeric {numeric}, analytic {analytic}"
                );
            }
            let w_values = layer
                .hidden_weight
                .val()
                .to_data()
                .try_to_vec::<f32>()
                .unwrap();
            let w_shape = [2, hidden, cell.n_gates() * hidden];
            for index in [0, 7, w_values.len() / 2 + 3, w_values.len() - 1] {
                let shifted = |delta: f32| {
                    let mut values = w_values.clone();
                    values[index] += delta;
                    let mut copy = layer.clone();
                    copy.hidden_weight = Param::from_tensor(Tensor::from_data(
                        TensorData::new(values, w_shape),
                        &device,
                    ));
                    copy
                };
                let numeric = (objective(&shifted(eps), x.clone())
                    - objective(&shifted(-eps), x.clone()))
                    / (2.0 * f64::from(eps));
                let analytic = f64::from(w_grad[index]);
                assert!(
                    (numeric - analytic).abs() <= 2e-3 + 2e-2 * analytic.abs(),
                    "{cell} d/dW_hh[{index}]: numeric {numeric}, analytic {analytic}"
                );
            }
        }
    }

    /// Host copy of a tensor.
    fn host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_into_vec::<f32>().unwrap()
    }

    /// `[2, rows, gates]` (or `[2, 1, gates]` for biases) from per-direction, per-gate blocks:
    /// the layout of [`BiRecurrentLayer`]'s parameters.
    fn stacked(
        per_direction: [Vec<Tensor<2>>; 2],
        rows: usize,
        gates: usize,
        device: &Device,
    ) -> Tensor<3> {
        let values: Vec<f32> = per_direction
            .into_iter()
            .flat_map(|blocks| host(Tensor::cat(blocks, 1)))
            .collect();
        Tensor::from_data(TensorData::new(values, [2, rows, gates]), device)
    }

    /// The weights of burn's gate controllers in our layout: `(input, input bias, hidden,
    /// hidden bias)`, each `[2, ., gates]`.
    fn burn_weights(
        directions: [Vec<&burn::nn::GateController>; 2],
        d_input: usize,
        hidden: usize,
        device: &Device,
        grads: Option<&burn::tensor::Gradients>,
    ) -> [Tensor<3>; 4] {
        let n_gates = directions[0].len();
        let take = |t: Tensor<2>| match grads {
            Some(g) => t.grad(g).unwrap(),
            None => t,
        };
        let take1 = |t: Tensor<1>| -> Tensor<2> {
            let t = match grads {
                Some(g) => t.grad(g).unwrap(),
                None => t,
            };
            t.unsqueeze_dim(0)
        };
        let gates = n_gates * hidden;
        let part = |f: &dyn Fn(&burn::nn::GateController) -> Tensor<2>| -> [Vec<Tensor<2>>; 2] {
            [
                directions[0].iter().map(|g| f(g)).collect(),
                directions[1].iter().map(|g| f(g)).collect(),
            ]
        };
        [
            stacked(
                part(&|g| take(g.input_transform.weight.val())),
                d_input,
                gates,
                device,
            ),
            stacked(
                part(&|g| take1(g.input_transform.bias.as_ref().unwrap().val())),
                1,
                gates,
                device,
            ),
            stacked(
                part(&|g| take(g.hidden_transform.weight.val())),
                hidden,
                gates,
                device,
            ),
            stacked(
                part(&|g| take1(g.hidden_transform.bias.as_ref().unwrap().val())),
                1,
                gates,
                device,
            ),
        ]
    }

    /// Our layer, as a fresh leaf module holding the given parameter values.
    fn layer_with(cell: RecurrentCell, hidden: usize, weights: [Tensor<3>; 4]) -> BiRecurrentLayer {
        let [input_weight, input_bias, hidden_weight, hidden_bias] = weights;
        let fresh = |t: Tensor<3>| {
            let device = t.device();
            Param::from_tensor(Tensor::from_data(t.into_data(), &device))
        };
        BiRecurrentLayer {
            input_weight: fresh(input_weight),
            input_bias: fresh(input_bias),
            hidden_weight: fresh(hidden_weight),
            hidden_bias: fresh(hidden_bias),
            cell,
            d_hidden: hidden,
        }
    }

    fn assert_close(what: &str, got: Vec<f32>, want: Vec<f32>, tolerance: f32) {
        assert_eq!(got.len(), want.len(), "{what}: lengths");
        let worst = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0_f32, f32::max);
        assert!(worst <= tolerance, "{what}: max abs difference {worst:e}");
    }

    /// Our LSTM and GRU layers compute what burn's `BiLstm` and `BiGru` (PyTorch's gate
    /// formulation, `reset_after`) compute, with the same weights: outputs, and the gradients
    /// of a random projection of the outputs with respect to the input and every parameter,
    /// to 1e-5.
    #[test]
    fn lstm_and_gru_match_burns_own_layers_with_their_gradients() {
        let device = device().autodiff();
        let (n_frames, batch, d_input, hidden) = (9, 3, 5, 6);
        for cell in [RecurrentCell::Lstm, RecurrentCell::Gru] {
            // burn's layer: batch-first input [batch, n_frames, d_input].
            let x = Tensor::<3>::random(
                [batch, n_frames, d_input],
                Distribution::Uniform(-1.5, 1.5),
                &device,
            );
            let probe = Tensor::<3>::random(
                [batch, n_frames, 2 * hidden],
                Distribution::Uniform(-1.0, 1.0),
                &device,
            );
            let x_burn = Tensor::<3>::from_data(x.to_data(), &device).require_grad();
            let (out_burn, weights, grads_burn, x_grad_burn) = match cell {
                RecurrentCell::Lstm => {
                    let bi = burn::nn::BiLstmConfig::new(d_input, hidden, true).init(&device);
                    let (out, _) = bi.forward(x_burn.clone(), None);
                    let grads = out.clone().mul(probe.clone()).sum().backward();
                    let gates = |l: &burn::nn::Lstm| {
                        vec![
                            l.input_gate.clone(),
                            l.forget_gate.clone().unwrap(),
                            l.output_gate.clone(),
                            l.cell_gate.clone(),
                        ]
                    };
                    let (f, r) = (gates(&bi.forward), gates(&bi.reverse));
                    let dirs = || [f.iter().collect(), r.iter().collect()];
                    let w = burn_weights(dirs(), d_input, hidden, &device, None);
                    let g = burn_weights(dirs(), d_input, hidden, &device, Some(&grads));
                    (out, w, g, host(x_burn.grad(&grads).unwrap()))
                }
                _ => {
                    let bi = burn::nn::BiGruConfig::new(d_input, hidden, true).init(&device);
                    let (out, _) = bi.forward(x_burn.clone(), None);
                    let grads = out.clone().mul(probe.clone()).sum().backward();
                    let gates = |g: &burn::nn::Gru| {
                        vec![
                            g.reset_gate.clone(),
                            g.update_gate.clone(),
                            g.new_gate.clone(),
                        ]
                    };
                    let (f, r) = (gates(&bi.forward), gates(&bi.reverse));
                    let dirs = || [f.iter().collect(), r.iter().collect()];
                    let w = burn_weights(dirs(), d_input, hidden, &device, None);
                    let g = burn_weights(dirs(), d_input, hidden, &device, Some(&grads));
                    (out, w, g, host(x_burn.grad(&grads).unwrap()))
                }
            };
            let layer = layer_with(cell, hidden, weights);
            let x_ours = Tensor::<3>::from_data(x.to_data(), &device)
                .swap_dims(0, 1)
                .require_grad();
            let out_ours = layer.forward(x_ours.clone());
            let grads = out_ours
                .clone()
                .mul(probe.clone().swap_dims(0, 1))
                .sum()
                .backward();
            assert_close(
                &format!("{cell} output"),
                host(out_ours.swap_dims(0, 1)),
                host(out_burn),
                1e-5,
            );
            let ours = [
                &layer.input_weight,
                &layer.input_bias,
                &layer.hidden_weight,
                &layer.hidden_bias,
            ];
            let names = ["input weight", "input bias", "hidden weight", "hidden bias"];
            for ((param, want), name) in ours.into_iter().zip(grads_burn).zip(names) {
                assert_close(
                    &format!("{cell} gradient of the {name}"),
                    host(param.val().grad(&grads).unwrap()),
                    host(want),
                    1e-5,
                );
            }
            assert_close(
                &format!("{cell} gradient of the input"),
                host(x_ours.grad(&grads).unwrap().swap_dims(0, 1)),
                x_grad_burn,
                1e-5,
            );
        }
    }

    /// The fused operation (flex's path) and the composition of burn operations (every other
    /// backend's) agree on a two-layer stack, swapped-axis (non-contiguous) input included:
    /// outputs and the gradients of the input and of every parameter, to 1e-5.
    #[test]
    fn fused_and_composed_paths_agree_with_their_gradients() {
        let device = device().autodiff();
        assert!(fused::supported(&device) && fused::supported(&device.clone().inner()));
        // One frame of one item, and a longer sequence of a small batch.
        let shapes = [(1, 1, 2, 3), (11, 3, 5, 4)];
        for (cell, (n_frames, batch, d_input, hidden)) in
            [RecurrentCell::Rnn, RecurrentCell::Lstm, RecurrentCell::Gru]
                .into_iter()
                .flat_map(|cell| shapes.map(|shape| (cell, shape)))
        {
            let stack = BiRecurrentConfig::new(cell, d_input, hidden)
                .with_n_layers(2)
                .init(&device)
                .unwrap();
            let x = Tensor::<3>::random(
                [batch, n_frames, d_input],
                Distribution::Uniform(-1.5, 1.5),
                &device,
            );
            let probe = Tensor::<3>::random(
                [n_frames, batch, 2 * hidden],
                Distribution::Uniform(-1.0, 1.0),
                &device,
            );
            let run = |fused_path: bool| {
                let x = Tensor::<3>::from_data(x.to_data(), &device).require_grad();
                let input = x.clone().swap_dims(0, 1);
                let out = if fused_path {
                    stack.forward(input)
                } else {
                    stack.forward_composed(input)
                };
                let grads = out.clone().mul(probe.clone()).sum().backward();
                let mut values = vec![host(out), host(x.grad(&grads).unwrap())];
                for layer in &stack.layers {
                    for param in [
                        &layer.input_weight,
                        &layer.input_bias,
                        &layer.hidden_weight,
                        &layer.hidden_bias,
                    ] {
                        values.push(host(param.val().grad(&grads).unwrap()));
                    }
                }
                values
            };
            let (fused_values, composed_values) = (run(true), run(false));
            for (k, (got, want)) in fused_values.into_iter().zip(composed_values).enumerate() {
                assert_close(&format!("{cell} value {k}"), got, want, 1e-5);
            }
        }
    }

    #[test]
    fn batch_items_are_independent() {
        let device = device();
        let stack = BiRecurrentConfig::new(RecurrentCell::Lstm, 3, 5)
            .with_n_layers(2)
            .init(&device)
            .unwrap();
        let x = Tensor::<3>::random([6, 3, 3], Distribution::Default, &device);
        let all = stack.forward(x.clone());
        let second = stack.forward(x.narrow(1, 1, 1));
        all.narrow(1, 1, 1)
            .into_data()
            .assert_approx_eq::<f32>(&second.into_data(), Tolerance::absolute(1e-5));
    }

    #[test]
    fn stack_equals_its_layers_applied_in_turn() {
        let device = device();
        for cell in [RecurrentCell::Rnn, RecurrentCell::Lstm, RecurrentCell::Gru] {
            let stack = BiRecurrentConfig::new(cell, 3, 4)
                .with_n_layers(3)
                .with_dropout(0.5)
                .init(&device)
                .unwrap();
            // Plain device: dropout is inactive.
            let x = Tensor::<3>::random([5, 2, 3], Distribution::Default, &device);
            let by_layer = stack
                .layers
                .iter()
                .fold(x.clone(), |x, layer| layer.forward(x));
            stack
                .forward(x)
                .into_data()
                .assert_approx_eq::<f32>(&by_layer.into_data(), Tolerance::absolute(1e-6));
        }
    }

    #[test]
    fn invalid_configs_are_errors() {
        let device = device();
        assert!(
            BiRecurrentConfig::new(RecurrentCell::Gru, 0, 4)
                .init(&device)
                .is_err()
        );
        assert!(
            BiRecurrentConfig::new(RecurrentCell::Gru, 3, 4)
                .with_dropout(1.0)
                .init(&device)
                .is_err()
        );
        assert!(
            BiRecurrentConfig::new(RecurrentCell::Gru, 3, 4)
                .with_n_layers(0)
                .init(&device)
                .is_err()
        );
    }

    #[test]
    fn cell_names_round_trip_through_json() {
        for cell in [RecurrentCell::Rnn, RecurrentCell::Lstm, RecurrentCell::Gru] {
            let json = serde_json::to_string(&cell).unwrap();
            assert_eq!(json, format!("\"{cell}\""));
            assert_eq!(serde_json::from_str::<RecurrentCell>(&json).unwrap(), cell);
        }
    }
}
