//! Errors of training, checkpointing and prediction.

use std::path::PathBuf;

use ser_models::ModelError;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// Building, loading or saving the model failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A dataset item has the wrong number of values.
    #[error(
        "{split} item {index}: {got_values} feature values, expected {n_features} x {n_frames} = {}",
        n_features * n_frames
    )]
    ItemShape {
        /// Which dataset (`train`, `val`, `test`, `input`).
        split: String,
        /// Index of the item.
        index: usize,
        /// Values found.
        got_values: usize,
        /// Expected feature rows.
        n_features: usize,
        /// Expected frames.
        n_frames: usize,
    },
    /// A feature value is NaN or infinite.
    #[error("{split} item {index}: non-finite feature value {value} at position {position}")]
    NonFiniteFeature {
        /// Which dataset.
        split: String,
        /// Index of the item.
        index: usize,
        /// Position of the value inside the item (row-major).
        position: usize,
        /// The value.
        value: f32,
    },
    /// A label is not a valid class index.
    #[error("{split} item {index}: label {label} is not below the number of classes {n_classes}")]
    LabelOutOfRange {
        /// Which dataset.
        split: String,
        /// Index of the item.
        index: usize,
        /// The label.
        label: usize,
        /// Number of classes of the model.
        n_classes: usize,
    },
    /// A dataset that must not be empty is empty.
    #[error("the {split} dataset is empty")]
    EmptyDataset {
        /// Which dataset.
        split: String,
    },
    /// A dataset does not fit the model.
    #[error(
        "{split} dataset has {n_features} features x {n_frames} frames; the model needs \
         {model_features} features and at least {model_min_frames} frames"
    )]
    DatasetModelMismatch {
        /// Which dataset.
        split: String,
        /// Feature rows of the dataset.
        n_features: usize,
        /// Frames of the dataset.
        n_frames: usize,
        /// Feature rows the model expects.
        model_features: usize,
        /// Minimum frames of the model.
        model_min_frames: usize,
    },
    /// A training option is out of range.
    #[error("invalid training configuration: {reason}")]
    InvalidConfig {
        /// What is wrong, with the offending value.
        reason: String,
    },
    /// The run folder already holds a training run and resuming was not requested.
    #[error("{path} already holds a training run; resume it or choose another folder")]
    RunExists {
        /// The train-state file found.
        path: PathBuf,
    },
    /// Another training holds the run folder's lock.
    #[error(
        "{dir}: another training is writing this run folder: {holder}; wait for it to end or \
         choose another --out (lock file {lock_file})"
    )]
    RunLocked {
        /// The run folder.
        dir: PathBuf,
        /// Its lock file.
        lock_file: PathBuf,
        /// Who holds the lock (pid, host, start, command).
        holder: String,
    },
    /// The run to resume was started with a different model, configuration or data.
    #[error("cannot resume {path}: {reason}")]
    ResumeMismatch {
        /// The train-state file.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
    /// The training loss became NaN or infinite.
    #[error("training diverged in epoch {epoch}: train loss {train_loss}, val loss {val_loss}")]
    Diverged {
        /// The epoch (1-based).
        epoch: usize,
        /// Mean training loss of the epoch.
        train_loss: f64,
        /// Validation loss of the epoch.
        val_loss: f64,
    },
    /// A file could not be read or written.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON file could not be written or parsed.
    #[error("JSON error on {path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// Optimizer state could not be encoded or decoded.
    #[error("optimizer state {path}: {message}")]
    OptimizerRecord {
        /// The file.
        path: PathBuf,
        /// Burn's description of the failure.
        message: String,
    },
    /// Reading a tensor back from the device failed.
    #[error("reading {what} from the device failed: {message}")]
    Readback {
        /// What was read.
        what: &'static str,
        /// Burn's description of the failure.
        message: String,
    },
}

impl TrainError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn json(path: impl Into<PathBuf>, source: serde_json::Error) -> Self {
        Self::Json {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn config(reason: impl Into<String>) -> Self {
        Self::InvalidConfig {
            reason: reason.into(),
        }
    }
}
