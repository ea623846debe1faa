//! The three architecture families: plain CNN, recurrent network (RNN/LSTM/GRU) and
//! CNN + recurrent network.
//!
//! All take `[batch, n_features, n_frames]` (features as channels) and return
//! `[batch, n_classes]` logits.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Device, Tensor};

use crate::layers::{
    ClassifierHead, ConvBlockConfig, ConvStack, TemporalPool, TemporalPooling, conv_frames_out,
    conv_min_frames, validate_conv_blocks,
};
use crate::recurrent::{BiRecurrent, BiRecurrentConfig, RecurrentCell, check_dropout};
use crate::{EmotionModel, ModelError};

/// The conv blocks of the original CNN+LSTM: 256 (k5), 128 (k5), 64 (k3), no pooling.
pub fn original_conv_blocks() -> Vec<ConvBlockConfig> {
    vec![
        ConvBlockConfig::new(256, 5),
        ConvBlockConfig::new(128, 5),
        ConvBlockConfig::new(64, 3),
    ]
}

/// The conv blocks of the default plain CNN: 64 (k5), 128 (k5), 256 (k3), each max-pooled by 2.
pub fn default_cnn_blocks() -> Vec<ConvBlockConfig> {
    vec![
        ConvBlockConfig::new(64, 5).with_max_pool(2),
        ConvBlockConfig::new(128, 5).with_max_pool(2),
        ConvBlockConfig::new(256, 3).with_max_pool(2),
    ]
}

fn check_common(
    architecture: &'static str,
    n_features: usize,
    n_classes: usize,
    pooling: TemporalPooling,
    attention_dim: usize,
    fc_dropout: f64,
) -> Result<(), ModelError> {
    let invalid = |reason: String| ModelError::InvalidConfig {
        architecture,
        reason,
    };
    if n_features == 0 {
        return Err(invalid("n_features must be positive, got 0".into()));
    }
    if n_classes < 2 {
        return Err(invalid(format!(
            "n_classes must be at least 2, got {n_classes}"
        )));
    }
    if pooling == TemporalPooling::Attention && attention_dim == 0 {
        return Err(invalid("attention_dim must be positive, got 0".into()));
    }
    check_dropout(architecture, "fc dropout", fc_dropout)
}

/// Time-major view of a channels-first sequence: `[batch, channels, frames]` ->
/// `[frames, batch, channels]`.
fn time_major(x: Tensor<3>) -> Tensor<3> {
    x.permute([2, 0, 1])
}

// ---------------------------------------------------------------------------------------------
// CNN
// ---------------------------------------------------------------------------------------------

/// Plain CNN: conv blocks over time -> global pooling over time -> classifier head.
#[derive(Config, Debug, PartialEq)]
pub struct CnnConfig {
    /// Input feature rows (channels of the first convolution).
    pub n_features: usize,
    /// Output classes.
    pub n_classes: usize,
    /// Conv blocks, input first.
    #[config(default = "default_cnn_blocks()")]
    pub blocks: Vec<ConvBlockConfig>,
    /// Dropout after every conv block.
    #[config(default = 0.3)]
    pub conv_dropout: f64,
    /// Global pooling over time (`mean`, `max` or `attention`).
    #[config(default = "TemporalPooling::Mean")]
    pub pooling: TemporalPooling,
    /// Hidden size of the attention scorer (attention pooling only).
    #[config(default = 64)]
    pub attention_dim: usize,
    /// Hidden units of the classifier head (0 = a single linear layer).
    #[config(default = 64)]
    pub fc_hidden: usize,
    /// Dropout after the head's hidden layer.
    #[config(default = 0.3)]
    pub fc_dropout: f64,
}

impl CnnConfig {
    /// Checks every value.
    pub fn validate(&self) -> Result<(), ModelError> {
        const ARCH: &str = "cnn";
        check_common(
            ARCH,
            self.n_features,
            self.n_classes,
            self.pooling,
            self.attention_dim,
            self.fc_dropout,
        )?;
        if self.blocks.is_empty() {
            return Err(ModelError::InvalidConfig {
                architecture: ARCH,
                reason: "needs at least one conv block".into(),
            });
        }
        if self.pooling.needs_bidirectional() {
            return Err(ModelError::InvalidConfig {
                architecture: ARCH,
                reason: format!(
                    "pooling {:?} reads a bidirectional recurrent output; use mean, max or attention",
                    self.pooling
                ),
            });
        }
        validate_conv_blocks(ARCH, &self.blocks, self.conv_dropout)
    }

    /// Builds the model.
    pub fn init(&self, device: &Device) -> Result<Cnn, ModelError> {
        self.validate()?;
        let channels = self.blocks.last().map_or(self.n_features, |b| b.channels);
        Ok(Cnn {
            convs: ConvStack::new(self.n_features, &self.blocks, self.conv_dropout, device),
            pool: TemporalPool::new(self.pooling, channels, self.attention_dim, device),
            head: ClassifierHead::new(
                channels,
                self.fc_hidden,
                self.n_classes,
                self.fc_dropout,
                device,
            ),
            n_features: self.n_features,
            n_classes: self.n_classes,
            min_frames: conv_min_frames(&self.blocks),
        })
    }
}

/// Plain CNN; see [`CnnConfig`].
#[derive(Module, Debug)]
pub struct Cnn {
    /// Conv blocks.
    pub convs: ConvStack,
    /// Global pooling over time.
    pub pool: TemporalPool,
    /// Classifier head.
    pub head: ClassifierHead,
    /// Input feature rows.
    pub n_features: usize,
    /// Output classes.
    pub n_classes: usize,
    /// Minimum input frames.
    pub min_frames: usize,
}

impl EmotionModel for Cnn {
    fn forward(&self, features: Tensor<3>) -> Tensor<2> {
        let x = self.convs.forward(features);
        self.head.forward(self.pool.forward(time_major(x)))
    }

    fn n_features(&self) -> usize {
        self.n_features
    }

    fn n_classes(&self) -> usize {
        self.n_classes
    }

    fn min_frames(&self) -> usize {
        self.min_frames
    }
}

// ---------------------------------------------------------------------------------------------
// Recurrent network
// ---------------------------------------------------------------------------------------------

/// Recurrent network: bidirectional RNN/LSTM/GRU layers over the feature frames -> pooling over
/// time (last step in the original) -> classifier head.
#[derive(Config, Debug, PartialEq)]
pub struct RecurrentNetConfig {
    /// Input feature rows (size of each frame vector).
    pub n_features: usize,
    /// Output classes.
    pub n_classes: usize,
    /// Recurrent cell.
    pub cell: RecurrentCell,
    /// Hidden size per direction.
    #[config(default = 128)]
    pub hidden: usize,
    /// Stacked bidirectional layers.
    #[config(default = 2)]
    pub layers: usize,
    /// Dropout between recurrent layers.
    #[config(default = 0.3)]
    pub recurrent_dropout: f64,
    /// Pooling over time.
    #[config(default = "TemporalPooling::Last")]
    pub pooling: TemporalPooling,
    /// Hidden size of the attention scorer (attention pooling only).
    #[config(default = 64)]
    pub attention_dim: usize,
    /// Hidden units of the classifier head (0 = a single linear layer).
    #[config(default = 64)]
    pub fc_hidden: usize,
    /// Dropout after the head's hidden layer.
    #[config(default = 0.3)]
    pub fc_dropout: f64,
}

impl RecurrentNetConfig {
    fn recurrent_config(&self) -> BiRecurrentConfig {
        BiRecurrentConfig::new(self.cell, self.n_features, self.hidden)
            .with_n_layers(self.layers)
            .with_dropout(self.recurrent_dropout)
    }

    /// Checks every value.
    pub fn validate(&self) -> Result<(), ModelError> {
        const ARCH: &str = "recurrent";
        check_common(
            ARCH,
            self.n_features,
            self.n_classes,
            self.pooling,
            self.attention_dim,
            self.fc_dropout,
        )?;
        self.recurrent_config().validate(ARCH)
    }

    /// Builds the model.
    pub fn init(&self, device: &Device) -> Result<RecurrentNet, ModelError> {
        self.validate()?;
        let channels = 2 * self.hidden;
        Ok(RecurrentNet {
            recurrent: self.recurrent_config().init(device)?,
            pool: TemporalPool::new(self.pooling, channels, self.attention_dim, device),
            head: ClassifierHead::new(
                channels,
                self.fc_hidden,
                self.n_classes,
                self.fc_dropout,
                device,
            ),
            n_features: self.n_features,
            n_classes: self.n_classes,
        })
    }
}

/// Recurrent network; see [`RecurrentNetConfig`].
#[derive(Module, Debug)]
pub struct RecurrentNet {
    /// Bidirectional recurrent stack.
    pub recurrent: BiRecurrent,
    /// Pooling over time.
    pub pool: TemporalPool,
    /// Classifier head.
    pub head: ClassifierHead,
    /// Input feature rows.
    pub n_features: usize,
    /// Output classes.
    pub n_classes: usize,
}

impl EmotionModel for RecurrentNet {
    fn forward(&self, features: Tensor<3>) -> Tensor<2> {
        let x = self.recurrent.forward(time_major(features));
        self.head.forward(self.pool.forward(x))
    }

    fn n_features(&self) -> usize {
        self.n_features
    }

    fn n_classes(&self) -> usize {
        self.n_classes
    }

    fn min_frames(&self) -> usize {
        1
    }
}

// ---------------------------------------------------------------------------------------------
// CNN + recurrent network
// ---------------------------------------------------------------------------------------------

/// CNN + recurrent network: conv blocks over time -> bidirectional recurrent layers -> pooling
/// over time -> classifier head. The defaults are the original model
/// (see [`crate::ModelPreset::CnnLstmOriginal`]).
#[derive(Config, Debug, PartialEq)]
pub struct CnnRecurrentConfig {
    /// Input feature rows (channels of the first convolution).
    pub n_features: usize,
    /// Output classes.
    pub n_classes: usize,
    /// Conv blocks, input first.
    #[config(default = "original_conv_blocks()")]
    pub blocks: Vec<ConvBlockConfig>,
    /// Dropout after every conv block.
    #[config(default = 0.3)]
    pub conv_dropout: f64,
    /// Recurrent cell.
    #[config(default = "RecurrentCell::Lstm")]
    pub cell: RecurrentCell,
    /// Hidden size per direction.
    #[config(default = 128)]
    pub hidden: usize,
    /// Stacked bidirectional layers.
    #[config(default = 2)]
    pub layers: usize,
    /// Dropout between recurrent layers.
    #[config(default = 0.3)]
    pub recurrent_dropout: f64,
    /// Pooling over time.
    #[config(default = "TemporalPooling::Last")]
    pub pooling: TemporalPooling,
    /// Hidden size of the attention scorer (attention pooling only).
    #[config(default = 64)]
    pub attention_dim: usize,
    /// Hidden units of the classifier head (0 = a single linear layer).
    #[config(default = 64)]
    pub fc_hidden: usize,
    /// Dropout after the head's hidden layer.
    #[config(default = 0.3)]
    pub fc_dropout: f64,
}

impl CnnRecurrentConfig {
    fn conv_channels(&self) -> usize {
        self.blocks.last().map_or(self.n_features, |b| b.channels)
    }

    fn recurrent_config(&self) -> BiRecurrentConfig {
        BiRecurrentConfig::new(self.cell, self.conv_channels(), self.hidden)
            .with_n_layers(self.layers)
            .with_dropout(self.recurrent_dropout)
    }

    /// Checks every value.
    pub fn validate(&self) -> Result<(), ModelError> {
        const ARCH: &str = "cnn-recurrent";
        check_common(
            ARCH,
            self.n_features,
            self.n_classes,
            self.pooling,
            self.attention_dim,
            self.fc_dropout,
        )?;
        validate_conv_blocks(ARCH, &self.blocks, self.conv_dropout)?;
        self.recurrent_config().validate(ARCH)
    }

    /// Number of frames the recurrent layers see for `n_frames` input frames.
    pub fn recurrent_frames(&self, n_frames: usize) -> usize {
        conv_frames_out(&self.blocks, n_frames)
    }

    /// Builds the model.
    pub fn init(&self, device: &Device) -> Result<CnnRecurrentNet, ModelError> {
        self.validate()?;
        let channels = 2 * self.hidden;
        Ok(CnnRecurrentNet {
            convs: ConvStack::new(self.n_features, &self.blocks, self.conv_dropout, device),
            recurrent: self.recurrent_config().init(device)?,
            pool: TemporalPool::new(self.pooling, channels, self.attention_dim, device),
            head: ClassifierHead::new(
                channels,
                self.fc_hidden,
                self.n_classes,
                self.fc_dropout,
                device,
            ),
            n_features: self.n_features,
            n_classes: self.n_classes,
            min_frames: conv_min_frames(&self.blocks),
        })
    }
}

/// CNN + recurrent network; see [`CnnRecurrentConfig`].
#[derive(Module, Debug)]
pub struct CnnRecurrentNet {
    /// Conv blocks.
    pub convs: ConvStack,
    /// Bidirectional recurrent stack.
    pub recurrent: BiRecurrent,
    /// Pooling over time.
    pub pool: TemporalPool,
    /// Classifier head.
    pub head: ClassifierHead,
    /// Input feature rows.
    pub n_features: usize,
    /// Output classes.
    pub n_classes: usize,
    /// Minimum input frames.
    pub min_frames: usize,
}

impl EmotionModel for CnnRecurrentNet {
    fn forward(&self, features: Tensor<3>) -> Tensor<2> {
        let x = time_major(self.convs.forward(features));
        let x = self.recurrent.forward(x);
        self.head.forward(self.pool.forward(x))
    }

    fn n_features(&self) -> usize {
        self.n_features
    }

    fn n_classes(&self) -> usize {
        self.n_classes
    }

    fn min_frames(&self) -> usize {
        self.min_frames
    }
}
