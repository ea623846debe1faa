//! The bidirectional recurrent layer as one fused operation with its own backward pass, for
//! burn's flex CPU backend (with and without autodiff).
//!
//! Why: composed of burn tensor operations, a recurrent layer costs about thirty small
//! operations per time step forward and twice as many backward, each going through dispatch,
//! allocation and the autodiff graph; over 128 frames that overhead, not arithmetic, dominated
//! the training step (2.1x PyTorch's for the original CNN+BiLSTM). Here a whole layer is one
//! graph node, as in cuDNN and PyTorch's CPU kernels:
//! - the input projections of all frames are one matrix product per direction
//!   (`[n_frames * batch, d_input] @ [d_input, gates]`);
//! - each step does one `[batch, hidden] @ [hidden, gates]` product (flex's gemm) and the gate
//!   arithmetic in one loop over plain buffers, keeping what the backward pass needs;
//! - the backward pass walks the steps in reverse with one `[batch, gates] @ [gates, hidden]`
//!   product per step, then forms the weight gradients and the input gradient of all frames as
//!   three large products per direction;
//! - the two directions run on two threads.
//!
//! The maths are those of [`crate::recurrent::BiRecurrentLayer`] (PyTorch's cells, gate order
//! `i, f, o, g` for the LSTM and `r, z, n` for the GRU); the tests of `recurrent.rs` compare
//! the two, and burn's own `BiLstm`/`BiGru`, outputs and gradients.
//!
//! Derivatives (per step, `*` elementwise, `dh` the gradient reaching `h_t`):
//! - LSTM, `c_t = f c_{t-1} + i g`, `h_t = o tanh(c_t)`: `dc = dc_next + dh o (1 - tanh^2 c_t)`,
//!   `d(i, f, o, g) = (dc g, dc c_{t-1}, dh tanh c_t, dc i)`, pre-activation gradients
//!   `s (1 - s)` for the sigmoids and `1 - g^2` for `g`; `dc_next = dc f`.
//! - GRU, `n = tanh(a_n + r (W_hn h + b_hn))`, `h_t = (1 - z) n + z h_{t-1}`:
//!   `da_n = dh (1 - z)(1 - n^2)`, `dr = da_n (W_hn h + b_hn)`, `dz = dh (h_{t-1} - n)`; the
//!   recurrent side sees `da_n r` for the candidate block; `dh_{t-1} += dh z`.
//! - RNN, `h_t = tanh(a)`: `da = dh (1 - h_t^2)`.
//!
//! # Shapes
//! `x`: `[n_frames, batch, d_input]` (time-major); input weights `[2, d_input, gates]`,
//! recurrent weights `[2, d_hidden, gates]`, both biases `[2, 1, gates]` (forward direction
//! first); output `[n_frames, batch, 2 * d_hidden]`, forward-direction channels first.

use std::fmt;
use std::sync::Arc;

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::{Flex, FlexTensor};
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, DispatchDevice, TensorMetadata, backend_extension};
use burn::tensor::{Device, Tensor, TensorData};

use crate::recurrent::RecurrentCell;

/// The fused layer as a backend operation (flex and autodiff-over-flex only).
#[backend_extension(Flex, Autodiff)]
pub trait FusedRecurrentBackend: Backend {
    /// One bidirectional recurrent layer over a whole sequence (see the module's `# Shapes`).
    fn bi_recurrent(
        x: FloatTensor<Self>,
        input_weight: FloatTensor<Self>,
        input_bias: FloatTensor<Self>,
        hidden_weight: FloatTensor<Self>,
        hidden_bias: FloatTensor<Self>,
        cell: RecurrentCell,
    ) -> FloatTensor<Self>;
}

/// Whether tensors on `device` can take the fused path (flex, with or without autodiff).
pub(crate) fn supported(device: &Device) -> bool {
    matches!(
        device.clone().inner().as_dispatch(),
        DispatchDevice::Flex(_)
    )
}

/// Runs one bidirectional layer with the fused operation; the caller checks [`supported`].
pub(crate) fn bi_recurrent(
    x: Tensor<3>,
    input_weight: Tensor<3>,
    input_bias: Tensor<3>,
    hidden_weight: Tensor<3>,
    hidden_bias: Tensor<3>,
    cell: RecurrentCell,
) -> Tensor<3> {
    Tensor::from_dispatch(<Dispatch as FusedRecurrentBackend>::bi_recurrent(
        x.into_dispatch(),
        input_weight.into_dispatch(),
        input_bias.into_dispatch(),
        hidden_weight.into_dispatch(),
        hidden_bias.into_dispatch(),
        cell,
    ))
}

impl FusedRecurrentBackend for Flex {
    fn bi_recurrent(
        x: FlexTensor,
        input_weight: FlexTensor,
        input_bias: FlexTensor,
        hidden_weight: FlexTensor,
        hidden_bias: FlexTensor,
        cell: RecurrentCell,
    ) -> FlexTensor {
        forward(
            x,
            input_weight,
            input_bias,
            hidden_weight,
            hidden_bias,
            cell,
        )
        .0
    }
}

impl<C: CheckpointStrategy> FusedRecurrentBackend for Autodiff<Flex, C> {
    fn bi_recurrent(
        x: FloatTensor<Self>,
        input_weight: FloatTensor<Self>,
        input_bias: FloatTensor<Self>,
        hidden_weight: FloatTensor<Self>,
        hidden_bias: FloatTensor<Self>,
        cell: RecurrentCell,
    ) -> FloatTensor<Self> {
        let guards = [
            x.node(),
            input_weight.node(),
            input_bias.node(),
            hidden_weight.node(),
            hidden_bias.node(),
        ];
        let (out, saved) = forward(
            x.into_primitive(),
            input_weight.into_primitive(),
            input_bias.into_primitive(),
            hidden_weight.into_primitive(),
            hidden_bias.into_primitive(),
            cell,
        );
        match FusedBackward
            .prepare::<C>(guards)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish(Arc::new(saved), out),
            OpsKind::UnTracked(prep) => prep.finish(out),
        }
    }
}

/// The backward step of the fused layer: gradients of `x`, the input weights and biases, and
/// the recurrent weights and biases, in that order.
#[derive(Debug)]
struct FusedBackward;

impl Backward<Flex, 5> for FusedBackward {
    type State = Arc<Saved>;

    fn backward(self, ops: Ops<Self::State, 5>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad_out = host(grads.consume::<Flex>(&ops.node));
        let grads_in = backward(&ops.state, &grad_out);
        for (parent, grad) in ops.parents.into_iter().zip(grads_in) {
            if let Some(node) = parent {
                grads.register::<Flex>(node.id, grad);
            }
        }
    }
}

/// Sizes of one layer call.
#[derive(Debug, Clone, Copy)]
struct Dims {
    n_frames: usize,
    batch: usize,
    d_input: usize,
    hidden: usize,
    cell: RecurrentCell,
}

impl Dims {
    fn gates(self) -> usize {
        self.cell.n_gates() * self.hidden
    }

    /// Rows of the frame-major matrices: `n_frames * batch`.
    fn rows(self) -> usize {
        self.n_frames * self.batch
    }

    /// Time index of step `step` of `direction` (the reverse direction starts at the end).
    fn time(self, direction: usize, step: usize) -> usize {
        if direction == 0 {
            step
        } else {
            self.n_frames - 1 - step
        }
    }
}

/// What one direction's forward pass keeps for its backward pass, indexed by time.
struct Trace {
    /// Gate activations `[n_frames, batch, gates]`: LSTM `i, f, o, g`; GRU `r, z, n`; RNN `h`.
    acts: Vec<f32>,
    /// LSTM: the cell states `c_t`; GRU: `W_hn h_{t-1} + b_hn`; RNN: empty.
    /// `[n_frames, batch, hidden]`.
    aux: Vec<f32>,
    /// Hidden states `h_t`, `[n_frames, batch, hidden]`.
    h: Vec<f32>,
}

/// Everything the backward pass reads.
pub(crate) struct Saved {
    dims: Dims,
    /// `x` as `[n_frames * batch, d_input]`.
    x: FlexTensor,
    /// Per direction: input weights `[d_input, gates]` and recurrent weights `[hidden, gates]`.
    input_weights: [FlexTensor; 2],
    hidden_weights: [FlexTensor; 2],
    traces: [Trace; 2],
}

impl fmt::Debug for Saved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Saved")
            .field("dims", &self.dims)
            .finish_non_exhaustive()
    }
}

fn flex(values: Vec<f32>, shape: [usize; 2]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

fn host(tensor: FlexTensor) -> Vec<f32> {
    tensor
        .into_data()
        .try_into_vec::<f32>()
        .expect("the fused recurrent layer runs in f32")
}

fn matmul(lhs: FlexTensor, rhs: FlexTensor) -> Vec<f32> {
    host(Flex::float_matmul(lhs, rhs))
}

fn transposed(tensor: FlexTensor) -> FlexTensor {
    Flex::float_transpose(tensor)
}

/// `e^x` for `x` in about `[-87, 88]` (clamped there), within 2 ulp: Cephes' `expf`
/// (range reduction `x = n ln 2 + r`, degree-6 polynomial for `e^r`, `2^n` built in the
/// exponent bits). Branch-free so that loops over gate buffers vectorise; libm's `expf` is a
/// call per element.
#[inline]
fn exp(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split in a part exact in few bits and the remainder (Cody-Waite).
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5 * 2^23 rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * LOG2_E + ROUND) - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.987_569_2e-4_f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let e_r = p * r * r + r + 1.0;
    let two_n = f32::from_bits(((n as i32 + 127) as u32) << 23);
    e_r * two_n
}

/// Logistic sigmoid `1 / (1 + e^-x)`.
#[inline]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `tanh x = 2 sigmoid(2x) - 1` (absolute error below 1e-6).
#[inline]
fn tanh(x: f32) -> f32 {
    2.0 / (1.0 + exp(-2.0 * x)) - 1.0
}

/// Runs both directions on two threads; `f(direction)`.
fn both_directions<T: Send>(f: impl Fn(usize) -> T + Sync) -> [T; 2] {
    std::thread::scope(|scope| {
        let reverse = scope.spawn(|| f(1));
        let forward = f(0);
        let reverse = reverse
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        [forward, reverse]
    })
}

/// Per-direction `[rows, cols]` blocks of a `[2, rows, cols]` parameter.
fn split_directions(tensor: FlexTensor) -> ([FlexTensor; 2], [Vec<f32>; 2]) {
    let shape = tensor.shape();
    let (rows, cols) = (shape[1], shape[2]);
    let values = host(tensor);
    let block = rows * cols;
    let parts = [values[..block].to_vec(), values[block..2 * block].to_vec()];
    let tensors = [
        flex(parts[0].clone(), [rows, cols]),
        flex(parts[1].clone(), [rows, cols]),
    ];
    (tensors, parts)
}

fn forward(
    x: FlexTensor,
    input_weight: FlexTensor,
    input_bias: FlexTensor,
    hidden_weight: FlexTensor,
    hidden_bias: FlexTensor,
    cell: RecurrentCell,
) -> (FlexTensor, Saved) {
    let shape = x.shape();
    let dims = Dims {
        n_frames: shape[0],
        batch: shape[1],
        d_input: shape[2],
        hidden: hidden_weight.shape()[1],
        cell,
    };
    let x = flex(host(x), [dims.rows(), dims.d_input]);
    let (input_weights, _) = split_directions(input_weight);
    let (hidden_weights, _) = split_directions(hidden_weight);
    let (_, input_biases) = split_directions(input_bias);
    let (_, hidden_biases) = split_directions(hidden_bias);
    let traces = both_directions(|direction| {
        forward_direction(
            dims,
            direction,
            &x,
            &input_weights[direction],
            &input_biases[direction],
            &hidden_weights[direction],
            &hidden_biases[direction],
        )
    });
    let hidden = dims.hidden;
    let mut out = vec![0.0_f32; dims.rows() * 2 * hidden];
    for (row, chunk) in out.chunks_exact_mut(2 * hidden).enumerate() {
        for (direction, trace) in traces.iter().enumerate() {
            chunk[direction * hidden..(direction + 1) * hidden]
                .copy_from_slice(&trace.h[row * hidden..(row + 1) * hidden]);
        }
    }
    let out = FlexTensor::from_data(TensorData::new(
        out,
        [dims.n_frames, dims.batch, 2 * hidden],
    ));
    let saved = Saved {
        dims,
        x,
        input_weights,
        hidden_weights,
        traces,
    };
    (out, saved)
}

fn forward_direction(
    dims: Dims,
    direction: usize,
    x: &FlexTensor,
    input_weight: &FlexTensor,
    input_bias: &[f32],
    hidden_weight: &FlexTensor,
    hidden_bias: &[f32],
) -> Trace {
    let (batch, hidden, gates) = (dims.batch, dims.hidden, dims.gates());
    // Input projections of every frame, with the biases that add up front: both biases for
    // the RNN and LSTM, the input bias only for the GRU (its candidate gate scales the
    // recurrent part, bias included, by r).
    let mut projection = matmul(x.clone(), input_weight.clone());
    let gru = dims.cell == RecurrentCell::Gru;
    for row in projection.chunks_exact_mut(gates) {
        for (g, value) in row.iter_mut().enumerate() {
            *value += input_bias[g] + if gru { 0.0 } else { hidden_bias[g] };
        }
    }
    let mut acts = vec![0.0_f32; dims.rows() * gates];
    let mut aux = match dims.cell {
        RecurrentCell::Rnn => Vec::new(),
        RecurrentCell::Lstm | RecurrentCell::Gru => vec![0.0_f32; dims.rows() * hidden],
    };
    let mut h = vec![0.0_f32; dims.rows() * hidden];
    let mut h_prev = vec![0.0_f32; batch * hidden];
    let mut c_prev = vec![0.0_f32; batch * hidden];
    for step in 0..dims.n_frames {
        let t = dims.time(direction, step);
        // h_{t-1} @ W_h (zero at the first step); the GRU adds its recurrent bias here.
        let mut recurrent = if step == 0 {
            vec![0.0_f32; batch * gates]
        } else {
            matmul(flex(h_prev.clone(), [batch, hidden]), hidden_weight.clone())
        };
        if gru {
            for row in recurrent.chunks_exact_mut(gates) {
                for (value, bias) in row.iter_mut().zip(hidden_bias) {
                    *value += bias;
                }
            }
        }
        // Pre-activations of this step into the trace, then the activations in place: each
        // loop runs over contiguous slices so that it vectorises.
        let first = t * batch;
        let block = &mut acts[first * gates..(first + batch) * gates];
        let pre = &projection[first * gates..(first + batch) * gates];
        for ((a, p), r) in block.iter_mut().zip(pre).zip(&recurrent) {
            *a = p + r;
        }
        let h_block = &mut h[first * hidden..(first + batch) * hidden];
        match dims.cell {
            RecurrentCell::Rnn => {
                for (a, h_out) in block.iter_mut().zip(h_block.iter_mut()) {
                    *a = tanh(*a);
                    *h_out = *a;
                }
            }
            RecurrentCell::Lstm => {
                let c_block = &mut aux[first * hidden..(first + batch) * hidden];
                for (b, act) in block.chunks_exact_mut(gates).enumerate() {
                    let (ifo, g) = act.split_at_mut(3 * hidden);
                    ifo.iter_mut().for_each(|v| *v = sigmoid(*v));
                    g.iter_mut().for_each(|v| *v = tanh(*v));
                    let (i, rest) = ifo.split_at(hidden);
                    let (f, o) = rest.split_at(hidden);
                    let span = b * hidden..(b + 1) * hidden;
                    let c_in = &c_prev[span.clone()];
                    let c_out = &mut c_block[span.clone()];
                    let h_out = &mut h_block[span];
                    for j in 0..hidden {
                        let c = f[j] * c_in[j] + i[j] * g[j];
                        c_out[j] = c;
                        h_out[j] = o[j] * tanh(c);
                    }
                }
            }
            RecurrentCell::Gru => {
                let n_block = &mut aux[first * hidden..(first + batch) * hidden];
                for (b, act) in block.chunks_exact_mut(gates).enumerate() {
                    let rec = &recurrent[b * gates..(b + 1) * gates];
                    let pre = &pre[b * gates..(b + 1) * gates];
                    let (rz, n) = act.split_at_mut(2 * hidden);
                    rz.iter_mut().for_each(|v| *v = sigmoid(*v));
                    let (r, z) = rz.split_at(hidden);
                    let span = b * hidden..(b + 1) * hidden;
                    let h_in = &h_prev[span.clone()];
                    let n_rec = &mut n_block[span.clone()];
                    let h_out = &mut h_block[span];
                    for j in 0..hidden {
                        let recurrent_n = rec[2 * hidden + j];
                        let value = tanh(pre[2 * hidden + j] + r[j] * recurrent_n);
                        n[j] = value;
                        n_rec[j] = recurrent_n;
                        h_out[j] = (1.0 - z[j]) * value + z[j] * h_in[j];
                    }
                }
            }
        }
        let row = t * batch;
        h_prev.copy_from_slice(&h[row * hidden..(row + batch) * hidden]);
        if dims.cell == RecurrentCell::Lstm {
            c_prev.copy_from_slice(&aux[row * hidden..(row + batch) * hidden]);
        }
    }
    Trace { acts, aux, h }
}

/// Gradients of one direction.
struct DirectionGrads {
    x: Vec<f32>,
    input_weight: Vec<f32>,
    input_bias: Vec<f32>,
    hidden_weight: Vec<f32>,
    hidden_bias: Vec<f32>,
}

/// Gradients of `[x, input weights, input biases, hidden weights, hidden biases]` from the
/// gradient of the output.
fn backward(saved: &Saved, grad_out: &[f32]) -> [FlexTensor; 5] {
    let dims = saved.dims;
    let parts = both_directions(|direction| backward_direction(saved, direction, grad_out));
    let [forward, reverse] = parts;
    let d_x: Vec<f32> = forward
        .x
        .iter()
        .zip(&reverse.x)
        .map(|(a, b)| a + b)
        .collect();
    let stack = |a: Vec<f32>, b: Vec<f32>, shape: [usize; 3]| {
        let mut values = a;
        values.extend(b);
        FlexTensor::from_data(TensorData::new(values, shape))
    };
    let (d_input, hidden, gates) = (dims.d_input, dims.hidden, dims.gates());
    [
        FlexTensor::from_data(TensorData::new(d_x, [dims.n_frames, dims.batch, d_input])),
        stack(
            forward.input_weight,
            reverse.input_weight,
            [2, d_input, gates],
        ),
        stack(forward.input_bias, reverse.input_bias, [2, 1, gates]),
        stack(
            forward.hidden_weight,
            reverse.hidden_weight,
            [2, hidden, gates],
        ),
        stack(forward.hidden_bias, reverse.hidden_bias, [2, 1, gates]),
    ]
}

fn backward_direction(saved: &Saved, direction: usize, grad_out: &[f32]) -> DirectionGrads {
    let dims = saved.dims;
    let (batch, hidden, gates) = (dims.batch, dims.hidden, dims.gates());
    let trace = &saved.traces[direction];
    let hidden_weight_t = transposed(saved.hidden_weights[direction].clone());
    let gru = dims.cell == RecurrentCell::Gru;
    // Pre-activation gradients of the input side and, for the GRU, of the recurrent side
    // (they differ in the candidate block); `[n_frames * batch, gates]`.
    let mut d_input_side = vec![0.0_f32; dims.rows() * gates];
    let mut d_hidden_side = if gru {
        vec![0.0_f32; dims.rows() * gates]
    } else {
        Vec::new()
    };
    let mut dh_next = vec![0.0_f32; batch * hidden];
    let mut dc_next = vec![0.0_f32; batch * hidden];
    let zeros = vec![0.0_f32; batch * hidden];
    for step in (0..dims.n_frames).rev() {
        let t = dims.time(direction, step);
        let previous = (step > 0).then(|| dims.time(direction, step - 1));
        let prev_range = previous.map(|p| p * batch * hidden..(p + 1) * batch * hidden);
        let h_prev: &[f32] = match &prev_range {
            Some(range) => &trace.h[range.clone()],
            None => &zeros,
        };
        let c_prev: &[f32] = match &prev_range {
            Some(range) if dims.cell == RecurrentCell::Lstm => &trace.aux[range.clone()],
            _ => &zeros,
        };
        // Direct contributions to dh_{t-1} (GRU's z path), added after the product below.
        let mut dh_direct = vec![0.0_f32; if gru { batch * hidden } else { 0 }];
        for b in 0..batch {
            let row = t * batch + b;
            let span = b * hidden..(b + 1) * hidden;
            let act = &trace.acts[row * gates..(row + 1) * gates];
            let d_pre = &mut d_input_side[row * gates..(row + 1) * gates];
            let grad = &grad_out[row * 2 * hidden + direction * hidden..][..hidden];
            // dh = gradient from the output + gradient from the next step, in dh_next.
            let dh = &mut dh_next[span.clone()];
            for (d, g) in dh.iter_mut().zip(grad) {
                *d += g;
            }
            let dh = &dh_next[span.clone()];
            match dims.cell {
                RecurrentCell::Rnn => {
                    for ((d, &h), &dh) in d_pre.iter_mut().zip(act).zip(dh) {
                        *d = dh * (1.0 - h * h);
                    }
                }
                RecurrentCell::Lstm => {
                    let (i, rest) = act.split_at(hidden);
                    let (f, rest) = rest.split_at(hidden);
                    let (o, g) = rest.split_at(hidden);
                    let (d_i, rest) = d_pre.split_at_mut(hidden);
                    let (d_f, rest) = rest.split_at_mut(hidden);
                    let (d_o, d_g) = rest.split_at_mut(hidden);
                    let c = &trace.aux[row * hidden..(row + 1) * hidden];
                    let c_prev = &c_prev[span.clone()];
                    let dc_next = &mut dc_next[span.clone()];
                    for j in 0..hidden {
                        let tanh_c = tanh(c[j]);
                        let dc = dc_next[j] + dh[j] * o[j] * (1.0 - tanh_c * tanh_c);
                        d_i[j] = dc * g[j] * i[j] * (1.0 - i[j]);
                        d_f[j] = dc * c_prev[j] * f[j] * (1.0 - f[j]);
                        d_o[j] = dh[j] * tanh_c * o[j] * (1.0 - o[j]);
                        d_g[j] = dc * i[j] * (1.0 - g[j] * g[j]);
                        dc_next[j] = dc * f[j];
                    }
                }
                RecurrentCell::Gru => {
                    let (r, rest) = act.split_at(hidden);
                    let (z, n) = rest.split_at(hidden);
                    let (d_r, rest) = d_pre.split_at_mut(hidden);
                    let (d_z, d_n) = rest.split_at_mut(hidden);
                    let d_rec = &mut d_hidden_side[row * gates..(row + 1) * gates];
                    let (d_rec_rz, d_rec_n) = d_rec.split_at_mut(2 * hidden);
                    let recurrent_n = &trace.aux[row * hidden..(row + 1) * hidden];
                    let h_prev = &h_prev[span.clone()];
                    let direct = &mut dh_direct[span];
                    for j in 0..hidden {
                        let da_n = dh[j] * (1.0 - z[j]) * (1.0 - n[j] * n[j]);
                        d_r[j] = da_n * recurrent_n[j] * r[j] * (1.0 - r[j]);
                        d_z[j] = dh[j] * (h_prev[j] - n[j]) * z[j] * (1.0 - z[j]);
                        d_n[j] = da_n;
                        d_rec_n[j] = da_n * r[j];
                        direct[j] = dh[j] * z[j];
                    }
                    d_rec_rz.copy_from_slice(&d_pre[..2 * hidden]);
                }
            }
        }
        if previous.is_some() {
            let side = if gru { &d_hidden_side } else { &d_input_side };
            let block = side[t * batch * gates..(t + 1) * batch * gates].to_vec();
            dh_next = matmul(flex(block, [batch, gates]), hidden_weight_t.clone());
            for (d, direct) in dh_next.iter_mut().zip(&dh_direct) {
                *d += direct;
            }
        }
    }
    // h_{t-1} of every frame (zero where the direction starts), frame-major.
    let mut h_prev_all = vec![0.0_f32; dims.rows() * hidden];
    for step in 1..dims.n_frames {
        let t = dims.time(direction, step);
        let p = dims.time(direction, step - 1);
        h_prev_all[t * batch * hidden..(t + 1) * batch * hidden]
            .copy_from_slice(&trace.h[p * batch * hidden..(p + 1) * batch * hidden]);
    }
    let column_sums = |values: &[f32]| {
        let mut sums = vec![0.0_f32; gates];
        for row in values.chunks_exact(gates) {
            for (s, v) in sums.iter_mut().zip(row) {
                *s += v;
            }
        }
        sums
    };
    let hidden_side = if gru { &d_hidden_side } else { &d_input_side };
    let input_bias = column_sums(&d_input_side);
    let hidden_bias = column_sums(hidden_side);
    let hidden_side = flex(hidden_side.clone(), [dims.rows(), gates]);
    let input_side = flex(d_input_side, [dims.rows(), gates]);
    let hidden_weight = matmul(
        transposed(flex(h_prev_all, [dims.rows(), hidden])),
        hidden_side,
    );
    let input_weight = matmul(transposed(saved.x.clone()), input_side.clone());
    let x = matmul(
        input_side,
        transposed(saved.input_weights[direction].clone()),
    );
    DirectionGrads {
        x,
        input_weight,
        input_bias,
        hidden_weight,
        hidden_bias,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_sigmoid_and_tanh_match_libm() {
        let mut worst_exp = 0.0_f64;
        for k in -870_000..=880_000 {
            let x = k as f32 * 1e-4;
            let want = f64::from(x).exp();
            let rel = ((f64::from(exp(x)) - want) / want).abs();
            worst_exp = worst_exp.max(rel);
            let sig = 1.0 / (1.0 + (-f64::from(x)).exp());
            assert!((f64::from(sigmoid(x)) - sig).abs() < 1e-6, "sigmoid({x})");
            assert!(
                (f64::from(tanh(x)) - f64::from(x).tanh()).abs() < 1e-6,
                "tanh({x})"
            );
        }
        // A few ulp (f32 epsilon is 1.2e-7).
        assert!(worst_exp < 3e-7, "exp: worst relative error {worst_exp:e}");
        // Clamped outside the range: finite, saturated activations, no NaN.
        for x in [-1e30_f32, -200.0, 200.0, 1e30] {
            assert!(exp(x).is_finite());
            assert!((0.0..=1.0).contains(&sigmoid(x)));
            assert!((-1.0..=1.0).contains(&tanh(x)));
        }
    }
}
