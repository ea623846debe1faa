//! Errors of the classical models.

use std::path::PathBuf;

/// Why a model could not be fitted, used, saved or loaded.
#[derive(Debug, thiserror::Error)]
pub enum ClassicError {
    /// `fit` was given no sample.
    #[error("the training set is empty (0 samples)")]
    EmptyTrainingSet,
    /// The samples have no feature.
    #[error("the samples have 0 features")]
    NoFeatures,
    /// The number of labels differs from the number of samples.
    #[error("{n_labels} labels for {n_samples} samples")]
    LabelCountMismatch {
        /// Samples given.
        n_samples: usize,
        /// Labels given.
        n_labels: usize,
    },
    /// A sample has the wrong number of features.
    #[error("sample {sample} has {got} features, expected {expected}")]
    DimensionMismatch {
        /// Index of the offending sample.
        sample: usize,
        /// Features the model (or the first sample) has.
        expected: usize,
        /// Features the sample has.
        got: usize,
    },
    /// A feature value is NaN or infinite.
    #[error("sample {sample}, feature {feature} is not finite ({value})")]
    NonFinite {
        /// Index of the offending sample.
        sample: usize,
        /// Index of the offending feature.
        feature: usize,
        /// The value.
        value: f32,
    },
    /// Every training label is the same class: nothing to discriminate.
    #[error("every training sample has class {class}: at least 2 classes are needed")]
    OneClass {
        /// The only class present.
        class: usize,
    },
    /// A class below the number of classes has no training sample.
    #[error("class {class} of {n_classes} has no training sample")]
    EmptyClass {
        /// The class without samples.
        class: usize,
        /// Number of classes of the model.
        n_classes: usize,
    },
    /// A label is not below the number of classes named in the configuration.
    #[error("label {label} of sample {sample} is not below the number of classes ({n_classes})")]
    LabelOutOfRange {
        /// Index of the offending sample.
        sample: usize,
        /// The label.
        label: usize,
        /// Number of classes.
        n_classes: usize,
    },
    /// Per-sample values (training weights, corpus ids) do not number one per sample.
    #[error("{got} {what} for {n_samples} samples: one per sample is needed")]
    PerSampleCount {
        /// What was counted (`"weights"`, `"corpus ids"`).
        what: &'static str,
        /// Samples given.
        n_samples: usize,
        /// Values given.
        got: usize,
    },
    /// A training weight is not finite and > 0.
    #[error("weight {weight} of sample {sample} must be finite and > 0")]
    InvalidWeight {
        /// Index of the offending sample.
        sample: usize,
        /// The weight.
        weight: f64,
    },
    /// A hyper-parameter is out of its valid range.
    #[error("invalid configuration: {field} = {value}: {reason}")]
    InvalidConfig {
        /// The field, as named in the configuration.
        field: &'static str,
        /// Its value, formatted.
        value: String,
        /// The valid range.
        reason: &'static str,
    },
    /// Speaker normalisation was given too few utterances of one speaker to estimate the
    /// speaker's statistics.
    #[error(
        "speaker {speaker}: {n_utterances} utterances, speaker normalisation needs at least {min}"
    )]
    TooFewSpeakerUtterances {
        /// The speaker.
        speaker: String,
        /// Utterances given.
        n_utterances: usize,
        /// The minimum ([`crate::MIN_SPEAKER_UTTERANCES`]).
        min: usize,
    },
    /// K-nearest neighbours needs at least `k` training samples.
    #[error("k = {k} neighbours but only {n_samples} training samples")]
    TooFewSamples {
        /// Neighbours asked for.
        k: usize,
        /// Training samples.
        n_samples: usize,
    },
    /// A feature matrix's data does not have `n_rows * n_frames` values.
    #[error("feature matrix of {n_rows} x {n_frames} has {len} values, expected {expected}")]
    MatrixShape {
        /// Rows claimed.
        n_rows: usize,
        /// Frames claimed.
        n_frames: usize,
        /// Values present.
        len: usize,
        /// `n_rows * n_frames`.
        expected: usize,
    },
    /// A feature row needed by the feature set is not in the matrix.
    #[error("feature row {row} is needed but the matrix has {n_rows} rows")]
    RowOutOfRange {
        /// The row index.
        row: usize,
        /// Rows of the matrix.
        n_rows: usize,
    },
    /// A valid-frame count is zero or larger than the matrix.
    #[error("{valid_frames} valid frames for a matrix of {n_frames} frames (need 1..={n_frames})")]
    ValidFrames {
        /// The count given (or detected).
        valid_frames: usize,
        /// Frames of the matrix.
        n_frames: usize,
    },
    /// The nearest-neighbour index could not be built or queried.
    #[error("nearest-neighbour index failed: {message}")]
    NeighbourIndex {
        /// linfa-nn's message.
        message: String,
    },
    /// The fitted parameters of a loaded model are inconsistent.
    #[error("corrupt model: {reason}")]
    Corrupt {
        /// What is inconsistent, with the numbers involved.
        reason: String,
    },
    /// A saved model has a format this build does not read.
    #[error("{path}: model format version {found}, this build reads version {expected}")]
    FormatVersion {
        /// The model file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The version this build writes and reads.
        expected: u32,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A model file whose SHA-256 differs from the one recorded beside it when it was saved.
    #[error(
        "{path}: SHA-256 {actual} does not match {checksum_file} ({expected}): the model file is \
         corrupt or was changed after saving; refit it (or delete the checksum file to load it \
         anyway)"
    )]
    Checksum {
        /// The model file.
        path: PathBuf,
        /// The checksum file.
        checksum_file: PathBuf,
        /// The recorded digest (hex), as found.
        expected: String,
        /// The digest of the file as read (hex).
        actual: String,
    },
    /// A weights file (`classic-model.safetensors`) is not a valid safetensors file, or could
    /// not be serialised.
    #[error("{path}: not a valid safetensors weights file: {source}")]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// safetensors' error.
        #[source]
        source: safetensors::SafeTensorError,
    },
    /// A tensor named by a model file is missing from its weights file, or has another dtype,
    /// shape or a non-finite value.
    #[error("{path}: tensor `{name}`: {reason}")]
    Tensor {
        /// The weights file.
        path: PathBuf,
        /// The tensor's name.
        name: String,
        /// What is wrong, with the numbers involved.
        reason: String,
    },
    /// A model file names a weights file that is not a plain file name beside it.
    #[error("{path}: weights file {name:?} must be a file name in the model's folder")]
    WeightsFileName {
        /// The model file.
        path: PathBuf,
        /// The name it gives.
        name: String,
    },
    /// A model file is not valid JSON for this format, or could not be serialised.
    #[error("{path}: {source}")]
    Json {
        /// The model file.
        path: PathBuf,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
}

/// Result alias of this crate.
pub type Result<T, E = ClassicError> = std::result::Result<T, E>;
