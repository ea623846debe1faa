//! Building blocks shared by the architectures: convolution stacks over time, pooling over time
//! and the classifier head.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::pool::{MaxPool1d, MaxPool1dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig1d,
};
use burn::tensor::activation::{relu, softmax};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::ModelError;
use crate::recurrent::check_dropout;

/// One `Conv1d -> BatchNorm -> ReLU -> Dropout [-> MaxPool]` block over time.
#[derive(Config, Debug, PartialEq)]
pub struct ConvBlockConfig {
    /// Output channels.
    pub channels: usize,
    /// Kernel length in frames ("same" padding).
    pub kernel_size: usize,
    /// Convolution stride in frames (`> 1` shortens the sequence to `ceil(n / stride)`).
    #[config(default = 1)]
    pub stride: usize,
    /// Max-pool window and stride in frames after the block (`1` = no pooling).
    #[config(default = 1)]
    pub max_pool: usize,
}

impl ConvBlockConfig {
    /// Number of frames this block outputs for `n_frames` input frames.
    pub fn frames_out(&self, n_frames: usize) -> usize {
        n_frames.div_ceil(self.stride.max(1)) / self.max_pool.max(1)
    }

    /// Smallest input length for which the block outputs at least `frames_out` frames.
    fn frames_needed(&self, frames_out: usize) -> usize {
        let before_pool = frames_out * self.max_pool.max(1);
        (before_pool.saturating_sub(1)) * self.stride.max(1) + 1
    }
}

/// Number of output frames of a conv stack (0 when the input is too short).
pub fn conv_frames_out(blocks: &[ConvBlockConfig], n_frames: usize) -> usize {
    blocks
        .iter()
        .fold(n_frames, |frames, block| block.frames_out(frames))
}

/// Smallest number of input frames for which a conv stack outputs at least one frame.
pub fn conv_min_frames(blocks: &[ConvBlockConfig]) -> usize {
    blocks
        .iter()
        .rev()
        .fold(1, |needed, block| block.frames_needed(needed))
}

/// Checks a list of conv blocks.
pub(crate) fn validate_conv_blocks(
    architecture: &'static str,
    blocks: &[ConvBlockConfig],
    dropout: f64,
) -> Result<(), ModelError> {
    for (index, block) in blocks.iter().enumerate() {
        for (name, value) in [
            ("channels", block.channels),
            ("kernel_size", block.kernel_size),
            ("stride", block.stride),
            ("max_pool", block.max_pool),
        ] {
            if value == 0 {
                return Err(ModelError::InvalidConfig {
                    architecture,
                    reason: format!("conv block {index}: {name} must be positive, got 0"),
                });
            }
        }
    }
    check_dropout(architecture, "conv dropout", dropout)
}

/// A stack of conv blocks, built from a list of [`ConvBlockConfig`].
#[derive(Module, Debug)]
pub struct ConvStack {
    /// The blocks, input first.
    pub blocks: Vec<ConvBlock>,
}

/// One conv block; see [`ConvBlockConfig`].
#[derive(Module, Debug)]
pub struct ConvBlock {
    /// The convolution.
    pub conv: Conv1d,
    /// Batch normalisation over channels.
    pub norm: BatchNorm,
    /// Dropout after the activation.
    pub dropout: Dropout,
    /// Optional max pooling over time.
    pub pool: Option<MaxPool1d>,
}

impl ConvStack {
    /// Builds the stack for `channels_in` input channels; the caller validated the configs.
    pub(crate) fn new(
        channels_in: usize,
        blocks: &[ConvBlockConfig],
        dropout: f64,
        device: &Device,
    ) -> Self {
        let mut channels = channels_in;
        let blocks = blocks
            .iter()
            .map(|block| {
                let conv = Conv1dConfig::new(channels, block.channels, block.kernel_size)
                    .with_stride(block.stride)
                    .with_padding(PaddingConfig1d::Same)
                    .init(device);
                channels = block.channels;
                ConvBlock {
                    conv,
                    norm: BatchNormConfig::new(block.channels).init(device),
                    dropout: DropoutConfig::new(dropout).init(),
                    pool: (block.max_pool > 1).then(|| MaxPool1dConfig::new(block.max_pool).init()),
                }
            })
            .collect();
        Self { blocks }
    }

    /// `[batch, channels_in, n_frames]` -> `[batch, channels_out, frames_out]`.
    pub fn forward(&self, input: Tensor<3>) -> Tensor<3> {
        self.blocks.iter().fold(input, |x, block| {
            let x = block.conv.forward(x);
            let x = relu(block.norm.forward(x));
            let x = block.dropout.forward(x);
            match &block.pool {
                Some(pool) => pool.forward(x),
                None => x,
            }
        })
    }
}

/// How a sequence of frame vectors is reduced to one vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TemporalPooling {
    /// The output at the last frame (PyTorch `out[:, -1, :]`): for a bidirectional layer the
    /// reverse half has then seen only that frame. This is what the original model does.
    Last,
    /// Each direction's final state: the forward half at the last frame, the reverse half at
    /// the first frame (bidirectional outputs only).
    FinalStates,
    /// Mean over frames.
    Mean,
    /// Maximum over frames.
    Max,
    /// Attention weights from a small tanh MLP, softmax over frames, weighted sum.
    Attention,
}

impl TemporalPooling {
    /// Whether this pooling reads a bidirectional layout (and only makes sense after one).
    pub fn needs_bidirectional(self) -> bool {
        matches!(self, Self::Last | Self::FinalStates)
    }
}

/// Pooling over time of a time-major sequence `[n_frames, batch, channels]`.
#[derive(Module, Debug)]
pub struct TemporalPool {
    /// The pooling kind.
    #[module(skip)]
    pub kind: TemporalPooling,
    /// Attention scorer `channels -> attention_dim -> 1` (attention pooling only).
    pub attention: Option<AttentionScorer>,
}

/// Scores each frame for attention pooling: `v . tanh(W x + b)`.
#[derive(Module, Debug)]
pub struct AttentionScorer {
    /// First projection.
    pub hidden: Linear,
    /// Projection to one score.
    pub score: Linear,
}

impl TemporalPool {
    /// Builds the pooling for `channels` input channels.
    pub(crate) fn new(
        kind: TemporalPooling,
        channels: usize,
        attention_dim: usize,
        device: &Device,
    ) -> Self {
        let attention = (kind == TemporalPooling::Attention).then(|| AttentionScorer {
            hidden: LinearConfig::new(channels, attention_dim).init(device),
            score: LinearConfig::new(attention_dim, 1).init(device),
        });
        Self { kind, attention }
    }

    /// `[n_frames, batch, channels]` -> `[batch, channels]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let [n_frames, batch, channels] = x.dims();
        match (self.kind, &self.attention) {
            (TemporalPooling::Last, _) => x.narrow(0, n_frames - 1, 1).reshape([batch, channels]),
            (TemporalPooling::FinalStates, _) => {
                let half = channels / 2;
                let forward = x.clone().narrow(0, n_frames - 1, 1).narrow(2, 0, half);
                let reverse = x.narrow(0, 0, 1).narrow(2, half, channels - half);
                Tensor::cat(vec![forward, reverse], 2).reshape([batch, channels])
            }
            (TemporalPooling::Mean, _) => x.mean_dim(0).reshape([batch, channels]),
            (TemporalPooling::Max, _) => x.max_dim(0).reshape([batch, channels]),
            (TemporalPooling::Attention, Some(scorer)) => {
                let scores = scorer
                    .score
                    .forward(scorer.hidden.forward(x.clone()).tanh());
                let weights = softmax(scores, 0);
                x.mul(weights).sum_dim(0).reshape([batch, channels])
            }
            // Unreachable by construction (`new` builds the scorer for attention); mean is the
            // neutral fallback rather than a panic.
            (TemporalPooling::Attention, None) => x.mean_dim(0).reshape([batch, channels]),
        }
    }
}

/// `[Linear -> ReLU -> Dropout] -> Linear` producing class logits.
#[derive(Module, Debug)]
pub struct ClassifierHead {
    /// Optional hidden layer.
    pub hidden: Option<Linear>,
    /// Dropout after the hidden layer.
    pub dropout: Dropout,
    /// Output layer producing logits.
    pub output: Linear,
}

impl ClassifierHead {
    /// Builds the head; `hidden == 0` means a single linear layer.
    pub(crate) fn new(
        d_input: usize,
        hidden: usize,
        n_classes: usize,
        dropout: f64,
        device: &Device,
    ) -> Self {
        let (hidden_layer, d_last) = if hidden == 0 {
            (None, d_input)
        } else {
            (
                Some(LinearConfig::new(d_input, hidden).init(device)),
                hidden,
            )
        };
        Self {
            hidden: hidden_layer,
            dropout: DropoutConfig::new(dropout).init(),
            output: LinearConfig::new(d_last, n_classes).init(device),
        }
    }

    /// `[batch, d_input]` -> `[batch, n_classes]` logits.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let x = match &self.hidden {
            Some(hidden) => self.dropout.forward(relu(hidden.forward(x))),
            None => x,
        };
        self.output.forward(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    #[test]
    fn conv_frame_arithmetic_matches_min_frames() {
        let blocks = vec![
            ConvBlockConfig::new(8, 5).with_stride(2),
            ConvBlockConfig::new(8, 3).with_max_pool(3),
            ConvBlockConfig::new(8, 3).with_stride(3).with_max_pool(2),
        ];
        let min = conv_min_frames(&blocks);
        assert!(conv_frames_out(&blocks, min) >= 1);
        assert_eq!(conv_frames_out(&blocks, min - 1), 0);
        assert_eq!(conv_frames_out(&[], 7), 7);
        assert_eq!(conv_min_frames(&[]), 1);
    }

    #[test]
    fn conv_stack_output_length_matches_arithmetic() {
        let device = Device::flex();
        let blocks = vec![
            ConvBlockConfig::new(4, 5).with_stride(2),
            ConvBlockConfig::new(6, 3).with_max_pool(2),
        ];
        let stack = ConvStack::new(3, &blocks, 0.1, &device);
        for n_frames in [4, 5, 9, 16] {
            let out = stack.forward(Tensor::zeros([2, 3, n_frames], &device));
            assert_eq!(out.dims(), [2, 6, conv_frames_out(&blocks, n_frames)]);
        }
    }

    #[test]
    fn pooling_kinds_reduce_as_documented() {
        let device = Device::flex();
        // 3 frames, 1 batch item, 4 channels: value = 10 * frame + channel.
        let values: Vec<f32> = (0..3)
            .flat_map(|t| (0..4).map(move |c| (10 * t + c) as f32))
            .collect();
        let x = Tensor::<3>::from_data(TensorData::new(values, [3, 1, 4]), &device);
        let pool = |kind| {
            TemporalPool::new(kind, 4, 2, &device)
                .forward(x.clone())
                .into_data()
                .try_into_vec::<f32>()
                .unwrap()
        };
        assert_eq!(pool(TemporalPooling::Last), vec![20.0, 21.0, 22.0, 23.0]);
        assert_eq!(
            pool(TemporalPooling::FinalStates),
            vec![20.0, 21.0, 2.0, 3.0]
        );
        assert_eq!(pool(TemporalPooling::Mean), vec![10.0, 11.0, 12.0, 13.0]);
        assert_eq!(pool(TemporalPooling::Max), vec![20.0, 21.0, 22.0, 23.0]);
        let attended = pool(TemporalPooling::Attention);
        // A convex combination of the frames: between the per-channel min and max.
        for (channel, value) in attended.iter().enumerate() {
            assert!((channel as f32..=20.0 + channel as f32).contains(value));
        }
    }
}
