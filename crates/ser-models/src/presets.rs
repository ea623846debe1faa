//! Named, ready-made model configurations.

use std::fmt;
use std::str::FromStr;

use crate::architectures::{CnnConfig, CnnRecurrentConfig, RecurrentNetConfig};
use crate::layers::{ConvBlockConfig, TemporalPooling};
use crate::recurrent::RecurrentCell;
use crate::{ModelConfig, ModelError};

/// A named model configuration; its [`fmt::Display`] / [`FromStr`] form is the kebab-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelPreset {
    /// `cnn`: 3 conv blocks (64/128/256 channels, max-pool 2 each), mean pooling, FC 64.
    Cnn,
    /// `rnn`: 2-layer bidirectional Elman RNN (hidden 128), last step, FC 64.
    Rnn,
    /// `rnn-mean`: as `rnn`, mean over time.
    RnnMean,
    /// `lstm`: 2-layer BiLSTM (hidden 128), last step, FC 64.
    Lstm,
    /// `lstm-mean`: as `lstm`, mean over time.
    LstmMean,
    /// `gru`: 2-layer BiGRU (hidden 128), last step, FC 64.
    Gru,
    /// `gru-mean`: as `gru`, mean over time.
    GruMean,
    /// `cnn-lstm-original`: the original's best model. Conv1d(n->256,k5) -> Conv1d(256->128,k5)
    /// -> Conv1d(128->64,k3), each with BN, ReLU, dropout 0.3 and "same" padding -> 2-layer
    /// BiLSTM (hidden 128, dropout 0.3 between layers) -> last time step (256) ->
    /// Linear(256->64) + ReLU + dropout 0.3 -> Linear(64->n_classes).
    CnnLstmOriginal,
    /// `cnn-lstm-mean`: the original with mean pooling over time instead of the last step.
    CnnLstmMean,
    /// `cnn-lstm-attention`: the original with attention pooling over time.
    CnnLstmAttention,
    /// `cnn-lstm-strided`: the original with stride 2 in the first two convolutions, so the
    /// LSTM sees a quarter of the frames.
    CnnLstmStrided,
}

impl ModelPreset {
    /// Every preset, in documentation order.
    pub const ALL: [Self; 11] = [
        Self::Cnn,
        Self::Rnn,
        Self::RnnMean,
        Self::Lstm,
        Self::LstmMean,
        Self::Gru,
        Self::GruMean,
        Self::CnnLstmOriginal,
        Self::CnnLstmMean,
        Self::CnnLstmAttention,
        Self::CnnLstmStrided,
    ];

    /// Other names [`FromStr`] accepts, with the preset each stands for. `cnn-lstm` is the
    /// project's default deep model, the CNN+BiLSTM variant with the best fold-1 UAR
    /// (`cnn-lstm-strided`; README: deep models); the original's own architecture keeps its
    /// name `cnn-lstm-original`.
    pub const ALIASES: [(&'static str, Self); 1] = [("cnn-lstm", Self::CnnLstmStrided)];

    /// Kebab-case name (`cnn-lstm-original`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Cnn => "cnn",
            Self::Rnn => "rnn",
            Self::RnnMean => "rnn-mean",
            Self::Lstm => "lstm",
            Self::LstmMean => "lstm-mean",
            Self::Gru => "gru",
            Self::GruMean => "gru-mean",
            Self::CnnLstmOriginal => "cnn-lstm-original",
            Self::CnnLstmMean => "cnn-lstm-mean",
            Self::CnnLstmAttention => "cnn-lstm-attention",
            Self::CnnLstmStrided => "cnn-lstm-strided",
        }
    }

    /// The configuration for `n_features` inputs and `n_classes` outputs.
    pub fn config(self, n_features: usize, n_classes: usize) -> ModelConfig {
        let recurrent = |cell, pooling| {
            ModelConfig::Recurrent(
                RecurrentNetConfig::new(n_features, n_classes, cell).with_pooling(pooling),
            )
        };
        let cnn_lstm =
            |pooling| CnnRecurrentConfig::new(n_features, n_classes).with_pooling(pooling);
        match self {
            Self::Cnn => ModelConfig::Cnn(CnnConfig::new(n_features, n_classes)),
            Self::Rnn => recurrent(RecurrentCell::Rnn, TemporalPooling::Last),
            Self::RnnMean => recurrent(RecurrentCell::Rnn, TemporalPooling::Mean),
            Self::Lstm => recurrent(RecurrentCell::Lstm, TemporalPooling::Last),
            Self::LstmMean => recurrent(RecurrentCell::Lstm, TemporalPooling::Mean),
            Self::Gru => recurrent(RecurrentCell::Gru, TemporalPooling::Last),
            Self::GruMean => recurrent(RecurrentCell::Gru, TemporalPooling::Mean),
            Self::CnnLstmOriginal => ModelConfig::CnnRecurrent(cnn_lstm(TemporalPooling::Last)),
            Self::CnnLstmMean => ModelConfig::CnnRecurrent(cnn_lstm(TemporalPooling::Mean)),
            Self::CnnLstmAttention => {
                ModelConfig::CnnRecurrent(cnn_lstm(TemporalPooling::Attention))
            }
            Self::CnnLstmStrided => {
                ModelConfig::CnnRecurrent(cnn_lstm(TemporalPooling::Last).with_blocks(vec![
                    ConvBlockConfig::new(256, 5).with_stride(2),
                    ConvBlockConfig::new(128, 5).with_stride(2),
                    ConvBlockConfig::new(64, 3),
                ]))
            }
        }
    }
}

impl fmt::Display for ModelPreset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ModelPreset {
    type Err = ModelError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|preset| preset.name() == name)
            .or_else(|| {
                Self::ALIASES
                    .into_iter()
                    .find_map(|(alias, preset)| (alias == name).then_some(preset))
            })
            .ok_or_else(|| ModelError::InvalidConfig {
                architecture: "preset",
                reason: format!(
                    "unknown model preset {name:?}; known: {}, {}",
                    Self::ALL.map(Self::name).join(", "),
                    Self::ALIASES.map(|(alias, _)| alias).join(", ")
                ),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_cnn_lstm_is_the_strided_variant() {
        for preset in ModelPreset::ALL {
            assert_eq!(preset.name().parse::<ModelPreset>().ok(), Some(preset));
        }
        assert_eq!(
            "cnn-lstm".parse::<ModelPreset>().ok(),
            Some(ModelPreset::CnnLstmStrided)
        );
        assert_eq!(
            "cnn-lstm-original".parse::<ModelPreset>().ok(),
            Some(ModelPreset::CnnLstmOriginal)
        );
        for (alias, _) in ModelPreset::ALIASES {
            assert!(ModelPreset::ALL.iter().all(|p| p.name() != alias));
        }
        let err = "cnn-gru".parse::<ModelPreset>().unwrap_err().to_string();
        assert!(
            err.contains("cnn-lstm-strided") && err.contains("cnn-lstm"),
            "{err}"
        );
    }
}
