//! Speech-emotion corpora and honest evaluation.
//!
//! The Python project this toolkit re-imagines reported 87.5% on RAVDESS from a random split
//! with the same actors in training and test; with actors held out it scored 34-37%. This crate
//! makes the speaker-independent protocol the default and the leaky one impossible to use by
//! accident:
//!
//! - [`Corpus::load`] reads RAVDESS, Berlin EmoDB or TESS folders (auto-detected), maps every
//!   label onto the eight [`Emotion`]s, and lists every file it leaves out with the reason.
//! - [`Protocol`] splits **by speaker** (RAVDESS 6-fold leave-4-actors-out by default); only
//!   [`Protocol::RandomClipsLeaksSpeakers`] mixes speakers, and it carries a warning.
//! - [`augment`] builds seeded, deterministic augmentations, for training utterances only.
//! - [`Dataset::build`] extracts features in parallel and caches them on disk.
//! - [`Normalizer`] computes statistics on the training side of a split only.
//!
//! ```no_run
//! use ser_data::{Corpus, CorpusOptions, Protocol, Summary};
//! let corpus = Corpus::load("data/ravdess".as_ref(), &CorpusOptions::default())?;
//! let protocol = Protocol::default_for(corpus.kind);
//! let splits = protocol.splits(&corpus)?;
//! println!("{}", Summary::new(&corpus, Some(&protocol))?);
//! assert!(splits.iter().all(|s| s.check_disjoint(&corpus).is_ok()));
//! # Ok::<(), ser_data::DataError>(())
//! ```

pub mod augment;
pub mod bandwidth;
pub mod cache;
pub mod conditions;
pub mod corpus;
mod dataset;
pub mod emotion;
mod error;
mod normalize;
mod progress;
pub use progress::Progress;
pub mod protocol;
pub mod rng;
mod summary;

pub use augment::{AugmentConfig, SpecAugmenter, WaveAugmenter};
pub use conditions::Condition;
pub use corpus::{
    Corpus, CorpusKind, CorpusOptions, SkipReason, Skipped, SpeakerId, Utterance, UtteranceMeta,
};
pub use dataset::{AugmentedSet, BuildOptions, BuildReport, Dataset, default_cache_dir};
pub use emotion::{Emotion, Gender, LabelMap};
pub use error::DataError;
pub use normalize::{NormalizationMode, Normalizer};
pub use protocol::{LEAK_WARNING, Protocol, Split};
pub use summary::{CorpusCount, FoldSummary, SpeakerCount, Summary};
