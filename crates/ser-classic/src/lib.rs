//! Classical speech-emotion baselines: an RBF support-vector machine, a random forest and
//! k-nearest neighbours on utterance-level statistics of frame features, the models the
//! original project compared its deep networks with, and a small perceptron ensemble on the
//! same statistics.
//!
//! The pipeline of a [`ClassicModel`]:
//! 1. [`FeatureSpec`]: a feature matrix (from `ser-features`) becomes one vector per utterance:
//!    the mean ([`Pooling::Mean`], the original's mean of the 40 MFCCs) or mean and standard
//!    deviation ([`Pooling::MeanStd`]) of the chosen rows over the *valid* frames (zero padding
//!    excluded, see [`pooling`]);
//! 2. [`Standardizer`]: zero mean, unit variance with the training set's statistics only;
//! 3. a classifier: [`SvmModel`] (one-vs-rest RBF machines solved by SMO on a shared kernel
//!    matrix, checked against `linfa-svm`; temperature-scaled softmax probabilities),
//!    [`RandomForest`] (CART trees, vote fractions), [`Knn`] (`linfa-nn` index, weighted
//!    vote fractions) or [`Mlp`] (an ensemble of one-hidden-layer perceptrons trained as
//!    scikit-learn's `MLPClassifier`, mean probabilities).
//!
//! Every classifier implements [`Classifier`]: `fit(x, y, config, seed)`, `predict_proba`
//! (rows sum to 1) and `predict` (the argmax of `predict_proba`, lowest class on ties). The
//! same seed gives the same model and the same predictions. Hyper-parameters default to
//! scikit-learn's (`SVC()`, `RandomForestClassifier()`, `KNeighborsClassifier()`;
//! `MLPClassifier(alpha=1.0)` with 5 members).
//! [`ClassicModel::save`] writes everything needed to use the model again into a run folder:
//! the structure in `classic-model.json`, the arrays in `classic-model.safetensors`.
//!
//! Unbalanced training sets (several corpora of different sizes, classes recorded unequally)
//! are weighted by [`ClassicConfig::balance`] ([`Balance`]: per class, per corpus or per
//! (corpus, class) cell) through [`ClassicModel::fit_balanced`], which takes the corpus of
//! each sample; [`ClassicModel::fit_weighted`] takes weights of any origin.
//!
//! ```
//! use ser_classic::{ClassicConfig, ClassicModel, Classifier, FeatureSpec, ModelKind};
//! use ser_features::{FeatureConfig, FeatureSet};
//! use ser_classic::Pooling;
//!
//! // Two classes of 40-value "MFCC means".
//! let x: Vec<Vec<f32>> = (0..40)
//!     .map(|i| (0..40).map(|j| (i % 2) as f32 * 3.0 + ((i * 7 + j) % 5) as f32 * 0.1).collect())
//!     .collect();
//! let y: Vec<usize> = (0..40).map(|i| i % 2).collect();
//! let features = FeatureSpec::new(FeatureConfig::seed(), FeatureSet::Mfcc, Pooling::Mean);
//! let config = ClassicConfig::new(ModelKind::Knn.default_config(), features);
//! let model = ClassicModel::fit(&x, &y, &config, 42)?;
//! assert_eq!(model.predict(&x)?, y);
//! # Ok::<(), ser_classic::ClassicError>(())
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod balance;
mod error;
pub mod forest;
pub mod knn;
pub mod mlp;
mod model;
pub mod pooling;
mod samples;
pub mod speaker;
mod standardize;
mod store;
pub mod svm;
pub mod tuning;

pub use balance::Balance;
pub use error::{ClassicError, Result};
pub use forest::{ForestConfig, MaxFeatures, RandomForest};
pub use knn::{Knn, KnnConfig, NeighbourIndex, Weighting};
pub use mlp::{Mlp, MlpConfig};
pub use model::{
    ClassicConfig, ClassicModel, FORMAT_VERSION, FittedModel, LEGACY_FORMAT_VERSION,
    MODEL_FILE_NAME, ModelConfig, ModelKind, WEIGHTS_FILE_NAME,
};
pub use pooling::{FeatureSpec, Padding, Pooling, trailing_zero_frames};
pub use speaker::{MIN_SPEAKER_UTTERANCES, SpeakerNormalizer};
pub use standardize::{STANDARDIZED_CLIP, Standardizer};
pub use svm::{Gamma, SvmConfig, SvmModel};
pub use tuning::{
    CSelection, DEFAULT_INNER_FOLDS, SVM_C_GRID, select_svm_c, select_svm_c_balanced,
};

/// A fitted multi-class classifier over fixed-length `f32` vectors with labels `0..n_classes`.
pub trait Classifier: Sized {
    /// Hyper-parameters.
    type Config;

    /// Fits on `x` (one row per sample, all of equal length, finite) and labels `y`.
    ///
    /// The number of classes is the largest label plus one (every class below it must have a
    /// sample; [`ClassicConfig::class_names`] can fix it instead). The same inputs and `seed`
    /// give the same model.
    ///
    /// # Errors
    /// [`ClassicError::EmptyTrainingSet`], [`ClassicError::LabelCountMismatch`],
    /// [`ClassicError::DimensionMismatch`], [`ClassicError::NonFinite`],
    /// [`ClassicError::OneClass`], [`ClassicError::EmptyClass`],
    /// [`ClassicError::InvalidConfig`] and model-specific errors.
    fn fit<R: AsRef<[f32]>>(x: &[R], y: &[usize], config: &Self::Config, seed: u64)
    -> Result<Self>;

    /// Length of the input vectors.
    fn n_features(&self) -> usize;

    /// Number of classes.
    fn n_classes(&self) -> usize;

    /// Class probabilities, one row of [`Classifier::n_classes`] values summing to 1 per
    /// sample.
    ///
    /// # Errors
    /// [`ClassicError::DimensionMismatch`], [`ClassicError::NonFinite`] and model-specific
    /// errors.
    fn predict_proba<R: AsRef<[f32]>>(&self, x: &[R]) -> Result<Vec<Vec<f32>>>;

    /// The most probable class of each sample (the lowest class index on ties).
    ///
    /// # Errors
    /// As [`Classifier::predict_proba`].
    fn predict<R: AsRef<[f32]>>(&self, x: &[R]) -> Result<Vec<usize>> {
        Ok(self
            .predict_proba(x)?
            .iter()
            .map(|p| samples::argmax(p))
            .collect())
    }
}
