//! The crate's error type.

use std::path::PathBuf;

use thiserror::Error;

use crate::corpus::CorpusKind;

/// Everything that can go wrong in `ser-data`. Variants carry the paths and numbers involved.
#[derive(Debug, Error)]
pub enum DataError {
    /// An emotion name that is not one of the eight lowercase names.
    #[error(
        "unknown emotion `{name}`; expected one of neutral, calm, happy, sad, angry, fearful, disgust, surprised"
    )]
    UnknownEmotion {
        /// The name given.
        name: String,
    },

    /// A label map that is empty or lists an emotion twice.
    #[error("invalid label map: {reason}")]
    InvalidLabelMap {
        /// What is wrong.
        reason: String,
    },

    /// A corpus kind name that is not `ravdess`, `emodb`, `tess` or `mixed`.
    #[error("unknown corpus kind `{name}`; expected ravdess, emodb or tess")]
    UnknownCorpusKind {
        /// The name given.
        name: String,
    },

    /// A file-system operation failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file or folder involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// The corpus path is not a folder.
    #[error("{path} is not a folder")]
    NotADirectory {
        /// The path given.
        path: PathBuf,
    },

    /// A corpus folder without a single usable file.
    #[error(
        "no usable audio file in {dir}: found {n_wav_files} audio file(s), {n_skipped} skipped; expected {expected}"
    )]
    NoUsableFiles {
        /// The corpus folder.
        dir: PathBuf,
        /// `.wav` files found (recursively).
        n_wav_files: usize,
        /// Files skipped (bad names, unmatched labels, not WAV, undecodable).
        n_skipped: usize,
        /// The naming patterns that were expected.
        expected: String,
    },

    /// File names match several corpus patterns equally often.
    #[error("cannot tell the corpus kind of {dir}: {votes}; pass the kind explicitly")]
    AmbiguousCorpus {
        /// The corpus folder.
        dir: PathBuf,
        /// How many file names matched each pattern.
        votes: String,
    },

    /// Corpora that cannot be combined (e.g. the same kind twice).
    #[error("cannot combine corpora: {reason}")]
    Combine {
        /// What is wrong.
        reason: String,
    },

    /// A protocol used on a corpus it is not defined for.
    #[error("protocol {protocol} needs a {expected} corpus, got {found}")]
    ProtocolNeedsCorpus {
        /// The protocol's name.
        protocol: String,
        /// The corpus kind it needs.
        expected: CorpusKind,
        /// The corpus kind given.
        found: CorpusKind,
    },

    /// A protocol name that is not one of the known ones.
    #[error("unknown protocol {name:?} (known: {known})")]
    UnknownProtocol {
        /// The name given.
        name: String,
        /// The names that are known.
        known: &'static str,
    },

    /// Invalid protocol parameters (e.g. k < 2, percentages over 100).
    #[error("invalid protocol {protocol}: {reason}")]
    InvalidProtocol {
        /// The protocol's name.
        protocol: String,
        /// What is wrong.
        reason: String,
    },

    /// A protocol defined on fixed speakers (RAVDESS actors 1..=24) used on a corpus lacking some.
    #[error(
        "protocol {protocol} needs all its speakers; missing {missing:?}; use a speaker k-fold protocol for partial corpora"
    )]
    MissingSpeakers {
        /// The protocol's name.
        protocol: String,
        /// The speakers not found in the corpus.
        missing: Vec<String>,
    },

    /// Not enough speakers for the protocol.
    #[error("protocol {protocol} needs at least {needed} speakers, the corpus has {found}")]
    TooFewSpeakers {
        /// The protocol's name.
        protocol: String,
        /// Speakers needed.
        needed: usize,
        /// Speakers available.
        found: usize,
    },

    /// A split with no training or no test clip (e.g. RAVDESS folds on a corpus lacking actors).
    #[error(
        "protocol {protocol}, fold {fold}: the {side} side has no clip (speakers {speakers:?}); use a speaker k-fold protocol for partial corpora"
    )]
    EmptySide {
        /// The protocol's name.
        protocol: String,
        /// Fold index.
        fold: usize,
        /// `train` or `test`.
        side: &'static str,
        /// The speakers planned for that side.
        speakers: Vec<String>,
    },

    /// A speaker found on two sides of a split (a bug guard: protocols never produce this).
    #[error("fold {fold}: speaker {speaker} is on both the {first} and the {second} side")]
    SpeakerOverlap {
        /// Fold index.
        fold: usize,
        /// The speaker.
        speaker: String,
        /// One side.
        first: &'static str,
        /// The other side.
        second: &'static str,
    },

    /// A cross-corpus protocol on a corpus lacking one of the two corpora.
    #[error(
        "cross-corpus protocol needs {kind} utterances in the (combined) corpus; use Corpus::combine"
    )]
    MissingCorpus {
        /// The corpus kind that is missing.
        kind: CorpusKind,
    },

    /// Two corpora without a common emotion.
    #[error("corpora {train} and {test} share no emotion")]
    NoSharedEmotions {
        /// Training corpus.
        train: CorpusKind,
        /// Test corpus.
        test: CorpusKind,
    },

    /// An utterance index outside the corpus.
    #[error("utterance index {index} out of range (corpus has {len} utterances)")]
    IndexOutOfRange {
        /// Index given.
        index: usize,
        /// Number of utterances.
        len: usize,
    },

    /// Augmentation asked for an utterance that is not on the training side of the split.
    #[error(
        "utterance {index} is not on the training side of fold {fold}; augmentation is for training data only"
    )]
    NotTraining {
        /// The utterance index.
        index: usize,
        /// The fold.
        fold: usize,
    },

    /// An augmentation setting out of range.
    #[error("invalid augmentation setting {setting}: {reason}")]
    InvalidAugment {
        /// The setting.
        setting: &'static str,
        /// What is wrong.
        reason: String,
    },

    /// Audio processing (resampling, band limiting) failed inside an augmentation or a test
    /// condition.
    #[error("{what}: {source}")]
    Audio {
        /// What was being done, with its numbers.
        what: String,
        /// The audio crate's error.
        #[source]
        source: ser_audio::AudioError,
    },

    /// A test-condition name that is not one of [`crate::Condition::all`].
    #[error("unknown condition `{name}`; expected one of {expected}")]
    UnknownCondition {
        /// The name given.
        name: String,
        /// The known names, comma-separated.
        expected: String,
    },

    /// A normalisation name that is not `global`, `utterance` or `none`.
    #[error("unknown normalisation `{name}` (known: global, utterance, none)")]
    UnknownNormalization {
        /// The name given.
        name: String,
    },

    /// A feature buffer whose length does not match its shape.
    #[error(
        "feature shape mismatch: expected {expected_rows} x {expected_frames} ({expected_len} values), got {found_len} values"
    )]
    ShapeMismatch {
        /// Rows expected.
        expected_rows: usize,
        /// Frames expected.
        expected_frames: usize,
        /// Values expected.
        expected_len: usize,
        /// Values found.
        found_len: usize,
    },

    /// The feature extractor rejected its configuration.
    #[error("feature configuration rejected: {source}")]
    FeatureConfig {
        /// The extractor's error.
        #[source]
        source: ser_features::FeatureError,
    },

    /// Serialising a configuration for hashing failed.
    #[error("cannot serialise {what}: {source}")]
    Serialize {
        /// What was being serialised.
        what: &'static str,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
}

impl DataError {
    /// Wraps an I/O error with its path.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> DataError {
        DataError::Io {
            path: path.into(),
            source,
        }
    }
}
