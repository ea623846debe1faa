//! Burn models for speech emotion recognition.
//!
//! Every model maps a batch of feature matrices `[batch, n_features, n_frames]` (feature rows as
//! channels, frames as time) to class logits `[batch, n_classes]`. The feature set is a training
//! choice, so every configuration takes `n_features`.
//!
//! - [`ModelConfig`] is a serde-tagged enum over the architecture configurations; it is saved as
//!   JSON beside the weights, so [`load_model`] rebuilds a model without knowing its
//!   architecture in advance.
//! - [`SerModel`] is the matching [`Module`](burn::module::Module) enum; it and every
//!   architecture implement [`EmotionModel`].
//! - [`ModelPreset`] names the ready-made configurations (`cnn-lstm-original`, ...).
//!
//! ```no_run
//! use burn::tensor::{Device, Tensor};
//! use ser_models::{EmotionModel, ModelConfig, ModelPreset};
//!
//! let device = Device::flex();
//! let config = ModelConfig::preset(ModelPreset::CnnLstmOriginal, 174, 8);
//! let model = config.init(&device)?;
//! let logits = model.forward(Tensor::zeros([4, 174, 128], &device));
//! assert_eq!(logits.dims(), [4, 8]);
//! # Ok::<(), ser_models::ModelError>(())
//! ```

pub mod architectures;
mod error;
pub mod fused;
pub mod layers;
mod presets;
pub mod recurrent;
mod store;

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

pub use architectures::{
    Cnn, CnnConfig, CnnRecurrentConfig, CnnRecurrentNet, RecurrentNet, RecurrentNetConfig,
};
pub use error::ModelError;
pub use layers::{ConvBlockConfig, TemporalPooling};
pub use presets::ModelPreset;
pub use recurrent::RecurrentCell;
pub use store::{
    CHECKSUM_SUFFIX, MODEL_CONFIG_FILE, MODEL_WEIGHTS_FILE, check_finite, checksum_path,
    load_model, load_weights, save_model, save_weights, weights_from_bytes, weights_to_bytes,
};

/// What every emotion classifier offers, whatever its architecture.
pub trait EmotionModel {
    /// Class logits for a batch of feature matrices.
    ///
    /// - input: `[batch, n_features, n_frames]` with `n_frames >= min_frames()`
    /// - output: `[batch, n_classes]`
    ///
    /// The shape is a precondition (burn panics on a mismatch); check untrusted input with
    /// [`EmotionModel::check_input`] first.
    fn forward(&self, features: Tensor<3>) -> Tensor<2>;

    /// Number of feature rows the model expects.
    fn n_features(&self) -> usize;

    /// Number of output classes.
    fn n_classes(&self) -> usize;

    /// Smallest number of frames the model accepts (pooling and strides shorten sequences).
    fn min_frames(&self) -> usize;

    /// Checks that an input of `n_features x n_frames` fits the model.
    fn check_input(&self, n_features: usize, n_frames: usize) -> Result<(), ModelError> {
        if n_features == self.n_features() && n_frames >= self.min_frames() {
            Ok(())
        } else {
            Err(ModelError::InputShape {
                expected_features: self.n_features(),
                got_features: n_features,
                min_frames: self.min_frames(),
                got_frames: n_frames,
            })
        }
    }
}

/// The configuration of any architecture, tagged by `"architecture"` in JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "architecture", rename_all = "kebab-case")]
pub enum ModelConfig {
    /// Plain CNN.
    Cnn(CnnConfig),
    /// Bidirectional RNN / LSTM / GRU.
    Recurrent(RecurrentNetConfig),
    /// CNN followed by a bidirectional recurrent stack.
    CnnRecurrent(CnnRecurrentConfig),
}

impl ModelConfig {
    /// The ready-made configuration `preset` for `n_features` inputs and `n_classes` outputs.
    pub fn preset(preset: ModelPreset, n_features: usize, n_classes: usize) -> Self {
        preset.config(n_features, n_classes)
    }

    /// Checks every value.
    pub fn validate(&self) -> Result<(), ModelError> {
        match self {
            Self::Cnn(config) => config.validate(),
            Self::Recurrent(config) => config.validate(),
            Self::CnnRecurrent(config) => config.validate(),
        }
    }

    /// Builds the model with freshly initialised weights.
    pub fn init(&self, device: &Device) -> Result<SerModel, ModelError> {
        Ok(match self {
            Self::Cnn(config) => SerModel::Cnn(config.init(device)?),
            Self::Recurrent(config) => SerModel::Recurrent(config.init(device)?),
            Self::CnnRecurrent(config) => SerModel::CnnRecurrent(config.init(device)?),
        })
    }

    /// Architecture tag as written in JSON (`cnn`, `recurrent`, `cnn-recurrent`).
    pub fn architecture(&self) -> &'static str {
        match self {
            Self::Cnn(_) => "cnn",
            Self::Recurrent(_) => "recurrent",
            Self::CnnRecurrent(_) => "cnn-recurrent",
        }
    }

    /// Number of feature rows the model expects.
    pub fn n_features(&self) -> usize {
        match self {
            Self::Cnn(config) => config.n_features,
            Self::Recurrent(config) => config.n_features,
            Self::CnnRecurrent(config) => config.n_features,
        }
    }

    /// Number of output classes.
    pub fn n_classes(&self) -> usize {
        match self {
            Self::Cnn(config) => config.n_classes,
            Self::Recurrent(config) => config.n_classes,
            Self::CnnRecurrent(config) => config.n_classes,
        }
    }

    /// Smallest number of frames the model accepts.
    pub fn min_frames(&self) -> usize {
        match self {
            Self::Cnn(config) => layers::conv_min_frames(&config.blocks),
            Self::Recurrent(_) => 1,
            Self::CnnRecurrent(config) => layers::conv_min_frames(&config.blocks),
        }
    }

    /// Pretty JSON text of the configuration.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// Parses the JSON written by [`ModelConfig::to_json`].
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// Any of the architectures, as one burn module (what the trainer optimises and saves).
#[derive(Module, Debug)]
pub enum SerModel {
    /// Plain CNN.
    Cnn(Cnn),
    /// Bidirectional RNN / LSTM / GRU.
    Recurrent(RecurrentNet),
    /// CNN followed by a bidirectional recurrent stack.
    CnnRecurrent(CnnRecurrentNet),
}

impl SerModel {
    fn as_dyn(&self) -> &dyn EmotionModel {
        match self {
            Self::Cnn(model) => model,
            Self::Recurrent(model) => model,
            Self::CnnRecurrent(model) => model,
        }
    }
}

impl EmotionModel for SerModel {
    fn forward(&self, features: Tensor<3>) -> Tensor<2> {
        self.as_dyn().forward(features)
    }

    fn n_features(&self) -> usize {
        self.as_dyn().n_features()
    }

    fn n_classes(&self) -> usize {
        self.as_dyn().n_classes()
    }

    fn min_frames(&self) -> usize {
        self.as_dyn().min_frames()
    }
}
