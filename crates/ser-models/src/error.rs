//! Errors of model construction, input checks and persistence.

use std::path::PathBuf;

/// Everything that can go wrong while building, feeding, saving or loading a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A configuration value is out of its valid range.
    #[error("invalid {architecture} configuration: {reason}")]
    InvalidConfig {
        /// Architecture whose configuration was rejected (e.g. `"cnn-recurrent"`).
        architecture: &'static str,
        /// What is wrong, with the offending value.
        reason: String,
    },
    /// An input batch does not have the shape the model expects.
    #[error(
        "input of {got_features} features x {got_frames} frames does not fit a model of \
         {expected_features} features needing at least {min_frames} frames"
    )]
    InputShape {
        /// Number of feature rows the model was built for.
        expected_features: usize,
        /// Number of feature rows in the input.
        got_features: usize,
        /// Minimum number of frames the model accepts.
        min_frames: usize,
        /// Number of frames in the input.
        got_frames: usize,
    },
    /// A file could not be read or written.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// File involved.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A model configuration file is not valid JSON for [`crate::ModelConfig`].
    #[error("invalid model configuration JSON in {path}: {source}")]
    ConfigJson {
        /// File involved.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// A weight file could not be encoded, decoded or applied to the model.
    #[error("weight record {path}: {message}")]
    Record {
        /// File involved.
        path: PathBuf,
        /// Burn's description of the failure (shape mismatch, missing tensor, bad format).
        message: String,
    },
    /// A weight file whose SHA-256 differs from the one recorded beside it when it was saved.
    #[error(
        "{path}: SHA-256 {actual} does not match {checksum_file} ({expected}): the weights file \
         is corrupt or was changed after saving; retrain it (or delete the checksum file to \
         load it anyway)"
    )]
    Checksum {
        /// The weight file.
        path: PathBuf,
        /// The checksum file.
        checksum_file: PathBuf,
        /// The recorded digest (hex).
        expected: String,
        /// The digest of the file as read (hex).
        actual: String,
    },
    /// A weight (or batch-norm statistic) that is NaN or infinite: the model would answer
    /// NaN probabilities.
    #[error("{path}: weight {index} of tensor {tensor} is {value}, not a finite number")]
    NonFiniteWeight {
        /// The weight file.
        path: PathBuf,
        /// The tensor's module path (e.g. `conv.0.weight`).
        tensor: String,
        /// Position of the value in the tensor (row-major).
        index: usize,
        /// The value.
        value: f32,
    },
}

impl ModelError {
    /// Shorthand for an [`ModelError::Io`] error.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
