//! The complete classical model: feature specification, standardiser and classifier, fitted
//! together and saved to (or loaded from) a run folder: the structure in `classic-model.json`,
//! the arrays in `classic-model.safetensors` beside it (format 2, see [`crate::store`] for
//! why), each with a SHA-256 checked at load. Format 1 (one JSON file, arrays inline as
//! base64 or number lists), written before format 2 existed, still loads, into the same
//! model bit for bit.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ser_features::FeatureMatrix;
use serde::{Deserialize, Serialize};

use crate::Classifier;
use crate::balance::{Balance, check_weights};
use crate::error::{ClassicError, Result};
use crate::forest::ForestStored;
use crate::forest::{ForestConfig, RandomForest};
use crate::knn::KnnStored;
use crate::knn::{Knn, KnnConfig};
use crate::mlp::MlpStored;
use crate::mlp::{Mlp, MlpConfig};
use crate::pooling::FeatureSpec;
use crate::samples::Samples;
use crate::standardize::{Standardizer, StandardizerStored};
use crate::store::{TensorReader, TensorWriter};
use crate::svm::{SvmConfig, SvmModel, SvmStored};

/// File name of a saved model inside its run folder: the structure (format 2) or the whole
/// model (format 1).
pub const MODEL_FILE_NAME: &str = "classic-model.json";

/// File name of the weights of a format-2 model, beside [`MODEL_FILE_NAME`] (safetensors;
/// the JSON names it and each of its tensors).
pub const WEIGHTS_FILE_NAME: &str = "classic-model.safetensors";

/// Suffix of the checksum files written beside a saved model's files
/// (`classic-model.json.sha256`, `classic-model.safetensors.sha256`, in `sha256sum`'s format)
/// and verified when they are loaded.
const CHECKSUM_SUFFIX: &str = ".sha256";

/// Version of the saved-model format this build writes: 2, the structure in JSON and the
/// arrays in safetensors. It reads this and version 1 ([`LEGACY_FORMAT_VERSION`]).
pub const FORMAT_VERSION: u32 = 2;

/// The single-JSON format (arrays inline), read but no longer written.
pub const LEGACY_FORMAT_VERSION: u32 = 1;

/// The model families on utterance statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// One-vs-rest RBF support-vector machine.
    Svm,
    /// Random forest of CART trees.
    RandomForest,
    /// K-nearest neighbours.
    Knn,
    /// An ensemble of one-hidden-layer perceptrons.
    Mlp,
}

impl ModelKind {
    /// Every kind: the original project's three, in its order, then the perceptrons.
    pub const ALL: [ModelKind; 4] = [
        ModelKind::Svm,
        ModelKind::RandomForest,
        ModelKind::Knn,
        ModelKind::Mlp,
    ];

    /// Kebab-case name (`svm`, `random-forest`, `knn`, `mlp`), as used by serde and `FromStr`.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Svm => "svm",
            ModelKind::RandomForest => "random-forest",
            ModelKind::Knn => "knn",
            ModelKind::Mlp => "mlp",
        }
    }

    /// The kind with its default (scikit-learn's) hyper-parameters.
    pub fn default_config(self) -> ModelConfig {
        match self {
            ModelKind::Svm => ModelConfig::Svm(SvmConfig::default()),
            ModelKind::RandomForest => ModelConfig::RandomForest(ForestConfig::default()),
            ModelKind::Knn => ModelConfig::Knn(KnnConfig::default()),
            ModelKind::Mlp => ModelConfig::Mlp(MlpConfig::default()),
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for ModelKind {
    type Err = ClassicError;

    /// Parses `svm`, `random-forest` (or `rf`, `forest`), `knn` and `mlp`; ASCII case is
    /// ignored.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "svm" => Ok(ModelKind::Svm),
            "random-forest" | "rf" | "forest" => Ok(ModelKind::RandomForest),
            "knn" => Ok(ModelKind::Knn),
            "mlp" => Ok(ModelKind::Mlp),
            _ => Err(ClassicError::InvalidConfig {
                field: "model.kind",
                value: s.to_owned(),
                reason: "must be svm, random-forest (rf), knn or mlp",
            }),
        }
    }
}

/// A model kind with its hyper-parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "params", rename_all = "kebab-case")]
pub enum ModelConfig {
    /// One-vs-rest RBF SVM.
    Svm(SvmConfig),
    /// Random forest.
    RandomForest(ForestConfig),
    /// K-nearest neighbours.
    Knn(KnnConfig),
    /// Perceptron ensemble.
    Mlp(MlpConfig),
}

impl ModelConfig {
    /// The model family.
    pub fn kind(&self) -> ModelKind {
        match self {
            ModelConfig::Svm(_) => ModelKind::Svm,
            ModelConfig::RandomForest(_) => ModelKind::RandomForest,
            ModelConfig::Knn(_) => ModelKind::Knn,
            ModelConfig::Mlp(_) => ModelKind::Mlp,
        }
    }

    /// Checks the hyper-parameters.
    ///
    /// # Errors
    /// [`ClassicError::InvalidConfig`] naming the field.
    pub fn validate(&self) -> Result<()> {
        match self {
            ModelConfig::Svm(c) => c.validate(),
            ModelConfig::RandomForest(c) => c.validate(),
            ModelConfig::Knn(c) => c.validate(),
            ModelConfig::Mlp(c) => c.validate(),
        }
    }
}

impl Default for ModelConfig {
    /// The SVM with default hyper-parameters.
    fn default() -> Self {
        ModelKind::Svm.default_config()
    }
}

/// Everything chosen before fitting: the model and its hyper-parameters, the utterance
/// statistics it reads, and optionally the class names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassicConfig {
    /// Model kind and hyper-parameters.
    pub model: ModelConfig,
    /// How utterance vectors are made from feature matrices.
    pub features: FeatureSpec,
    /// Class names in label order; when not empty it fixes the number of classes (labels must
    /// be below its length). Empty: the number of classes is the largest label plus one.
    #[serde(default)]
    pub class_names: Vec<String>,
    /// Speaker normalisation: every utterance vector was standardised with the statistics of
    /// its own speaker's utterances (see [`crate::speaker`]) before the model's standardiser,
    /// in training and in evaluation, so prediction needs unlabelled reference recordings of
    /// the speaker too. Older files without the field did not normalise.
    #[serde(default)]
    pub speaker_norm: bool,
    /// Standardised values are clipped to `±clip` standard deviations, in training and at
    /// prediction (see [`Standardizer::with_clip`]); `None` (older files, and runs of the
    /// original's `seed` features) leaves them unbounded, as scikit-learn's `StandardScaler`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip_standardized: Option<f64>,
    /// How the training samples were weighted against class and corpus imbalance (see
    /// [`Balance`] and [`ClassicModel::fit_balanced`]). Absent in files without balancing,
    /// which load as [`Balance::None`]; written only when it is not `None`.
    #[serde(default, skip_serializing_if = "is_unweighted")]
    pub balance: Balance,
}

/// Whether `balance` is the default (for `skip_serializing_if`).
fn is_unweighted(balance: &Balance) -> bool {
    *balance == Balance::None
}

impl ClassicConfig {
    /// A configuration with unnamed classes.
    pub fn new(model: ModelConfig, features: FeatureSpec) -> Self {
        ClassicConfig {
            model,
            features,
            class_names: Vec::new(),
            speaker_norm: false,
            clip_standardized: None,
            balance: Balance::None,
        }
    }
}

/// The fitted classifier inside a [`ClassicModel`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FittedModel {
    /// A fitted SVM.
    Svm(SvmModel),
    /// A fitted random forest.
    RandomForest(RandomForest),
    /// A fitted k-NN.
    Knn(Knn),
    /// A fitted perceptron ensemble.
    Mlp(Mlp),
}

impl FittedModel {
    fn n_features(&self) -> usize {
        match self {
            FittedModel::Svm(m) => m.n_features(),
            FittedModel::RandomForest(m) => m.n_features(),
            FittedModel::Knn(m) => m.n_features(),
            FittedModel::Mlp(m) => m.n_features(),
        }
    }

    fn n_classes(&self) -> usize {
        match self {
            FittedModel::Svm(m) => m.n_classes(),
            FittedModel::RandomForest(m) => m.n_classes(),
            FittedModel::Knn(m) => m.n_classes(),
            FittedModel::Mlp(m) => m.n_classes(),
        }
    }

    fn kind(&self) -> ModelKind {
        match self {
            FittedModel::Svm(_) => ModelKind::Svm,
            FittedModel::RandomForest(_) => ModelKind::RandomForest,
            FittedModel::Knn(_) => ModelKind::Knn,
            FittedModel::Mlp(_) => ModelKind::Mlp,
        }
    }

    fn proba_samples(&self, x: &Samples) -> Result<Vec<Vec<f32>>> {
        match self {
            FittedModel::Svm(m) => Ok(m.proba_samples(x)),
            FittedModel::RandomForest(m) => Ok(m.proba_samples(x)),
            FittedModel::Knn(m) => m.proba_samples(x),
            FittedModel::Mlp(m) => Ok(m.proba_samples(x)),
        }
    }

    fn validate(&self) -> Result<()> {
        match self {
            FittedModel::Svm(m) => m.validate(),
            FittedModel::RandomForest(m) => m.validate(),
            FittedModel::Knn(m) => m.validate(),
            FittedModel::Mlp(m) => m.validate(),
        }
    }
}

/// A fitted classical model: utterance statistics -> standardiser (training statistics) ->
/// classifier.
///
/// Saved as [`MODEL_FILE_NAME`], a JSON file holding the format version, the
/// [`ClassicConfig`] (model, hyper-parameters, feature extraction, rows, pooling, padding rule,
/// class names), the seed, the shapes and scalars of the [`Standardizer`] and the fitted
/// classifier and the names of their arrays, which are in [`WEIGHTS_FILE_NAME`] beside it, so
/// that a loaded model turns a feature matrix into class probabilities without any other input.
///
/// The weights file is a plain safetensors file (metadata `format: ser-classic/2`) that any
/// safetensors reader opens; its tensors, each named where the JSON used to hold the array:
///
/// | tensor | dtype | shape |
/// |---|---|---|
/// | `standardizer.mean`, `standardizer.scale` | F64 | `n_features` |
/// | `svm.pool` (support vectors) | F16 if every value is half precision, else F32 | `n_pool x n_features` |
/// | `svm.machine.K.support` (pool rows), `svm.machine.K.coef` (dual coefficients) | U32, F64 | `n_support` |
/// | `mlp.member.I.w1`, `.w2` | F16 if every value is half precision, else F32 | `n_features x hidden`, `hidden x n_classes` |
/// | `mlp.member.I.b1`, `.b2` | F32 | `hidden`, `n_classes` |
/// | `knn.points`, `knn.labels`, `knn.weights` (if weighted) | F32, U32, F32 | `n x n_features`, `n`, `n` |
/// | `forest.tree_nodes` (nodes per tree) | U32 | `n_trees` |
/// | `forest.feature` (`u32::MAX`: leaf), `forest.threshold`, `forest.left` (leaf: class), `forest.right` | U32, F32, U32, U32 | all nodes, tree after tree |
///
/// Scalars (the SVM's `gamma`, temperature and offsets, the clip, training epochs and losses)
/// stay in the JSON. Format-1 files (everything in the JSON, arrays as base64) still load.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassicModel {
    config: ClassicConfig,
    seed: u64,
    n_features: usize,
    n_classes: usize,
    standardizer: Standardizer,
    fitted: FittedModel,
}

/// A format-1 model file: the whole model in one JSON document.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LegacyModel {
    #[allow(dead_code)]
    format_version: u32,
    config: ClassicConfig,
    seed: u64,
    n_features: usize,
    n_classes: usize,
    standardizer: Standardizer,
    fitted: FittedModel,
}

/// A format-2 model file: the structure, with the names of the tensors in
/// [`StoredModel::weights_file`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredModel {
    format_version: u32,
    /// The safetensors file, a name in the model file's folder.
    weights_file: String,
    config: ClassicConfig,
    seed: u64,
    n_features: usize,
    n_classes: usize,
    standardizer: StandardizerStored,
    fitted: FittedStored,
}

/// The fitted classifier of a format-2 file (named as [`FittedModel`] names it in format 1).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum FittedStored {
    Svm(SvmStored),
    RandomForest(ForestStored),
    Knn(KnnStored),
    Mlp(MlpStored),
}

/// The checksum file of a model file: its name with [`CHECKSUM_SUFFIX`] appended.
fn checksum_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(CHECKSUM_SUFFIX);
    path.with_file_name(name)
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Reads `path` and checks it against the checksum file beside it, if any (models saved
/// before checksums were written load without).
fn read_verified(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|source| ClassicError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    verify_checksum(path, &bytes)?;
    Ok(bytes)
}

/// Checks `bytes` (the content of `path`) against the checksum file beside it, if any (models
/// saved before checksums were written load without).
fn verify_checksum(path: &Path, bytes: &[u8]) -> Result<()> {
    let checksum_file = checksum_path(path);
    let text = match std::fs::read_to_string(&checksum_file) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(ClassicError::Io {
                path: checksum_file,
                source,
            });
        }
    };
    let expected = text.split_whitespace().next().unwrap_or_default();
    let actual = sha256_hex(bytes);
    if !actual.eq_ignore_ascii_case(expected) {
        return Err(ClassicError::Checksum {
            path: path.to_path_buf(),
            checksum_file,
            expected: expected.to_owned(),
            actual,
        });
    }
    Ok(())
}

/// Only the version, read first so that a newer file gets a clear error.
#[derive(Deserialize)]
struct VersionProbe {
    format_version: u32,
}

impl ClassicModel {
    /// Fits with the per-sample weights of [`ClassicConfig::balance`], made from the labels
    /// `y` and `groups`, the corpus (or any other group) of each sample, by
    /// [`Balance::sample_weights`] (`groups` may be empty for [`Balance::None`] and
    /// [`Balance::Class`]); the configuration, balance included, is stored in the model. With
    /// [`Balance::None`] this is [`Classifier::fit`]. The weights reach every classifier as in
    /// [`ClassicModel::fit_weighted`].
    ///
    /// # Errors
    /// [`ClassicError::PerSampleCount`] when the balance needs groups and `groups` does not
    /// hold one per sample, and the errors of [`Classifier::fit`].
    pub fn fit_balanced<R: AsRef<[f32]>, G: Ord>(
        x: &[R],
        y: &[usize],
        groups: &[G],
        config: &ClassicConfig,
        seed: u64,
    ) -> Result<ClassicModel> {
        if config.balance == Balance::None {
            return ClassicModel::fit_with(x, y, None, config, seed);
        }
        if y.len() != x.len() {
            return Err(ClassicError::LabelCountMismatch {
                n_samples: x.len(),
                n_labels: y.len(),
            });
        }
        let weights = config.balance.sample_weights(y, groups)?;
        ClassicModel::fit_with(x, y, Some(&weights), config, seed)
    }

    /// Fits with explicit per-sample weights (one per sample, finite and > 0), used as given
    /// (not rescaled; [`Balance::sample_weights`] gives mean 1, which keeps the SVM's `C`
    /// meaning what it does unweighted). Weights all 1 give the model [`Classifier::fit`]
    /// gives. The weights themselves are not stored (k-NN excepted, which needs them to vote)
    /// and `config.balance` is stored as given, not applied: set it to the rule that made the
    /// weights.
    ///
    /// How each classifier uses them:
    /// - SVM: sample `i`'s dual coefficient is bounded by `C * w_i` in every one-vs-rest
    ///   machine (libsvm's and scikit-learn's `sample_weight`; weight 2 is the sample twice),
    ///   and its held-out log-likelihood counts `w_i` times when the temperature is fitted;
    /// - perceptrons: weighted cross-entropy ([`crate::mlp`]);
    /// - random forest: weighted bootstrap, or weighted impurity without bootstrap
    ///   ([`crate::forest`]);
    /// - k-NN: weighted votes ([`crate::knn`]).
    ///
    /// The standardiser is fitted unweighted (as `StandardScaler` in a scikit-learn pipeline
    /// whose `sample_weight` goes to the classifier only).
    ///
    /// # Errors
    /// [`ClassicError::PerSampleCount`] when `weights` does not hold one per sample,
    /// [`ClassicError::InvalidWeight`], and the errors of [`Classifier::fit`].
    pub fn fit_weighted<R: AsRef<[f32]>>(
        x: &[R],
        y: &[usize],
        weights: &[f64],
        config: &ClassicConfig,
        seed: u64,
    ) -> Result<ClassicModel> {
        ClassicModel::fit_with(x, y, Some(weights), config, seed)
    }

    /// The common fit: standardiser, then the classifier with the weights (`None`: every
    /// sample weighs 1, the code path of the unweighted fit).
    fn fit_with<R: AsRef<[f32]>>(
        x: &[R],
        y: &[usize],
        weights: Option<&[f64]>,
        config: &ClassicConfig,
        seed: u64,
    ) -> Result<ClassicModel> {
        config.model.validate()?;
        let n_features = config.features.n_features();
        let x = Samples::from_rows(x, Some(n_features))?;
        let n_classes = (!config.class_names.is_empty()).then_some(config.class_names.len());
        // Label checks come before the standardiser so that an empty set reports as such.
        let n_classes = crate::samples::check_training(&x, y, n_classes)?;
        if let Some(w) = weights {
            check_weights(w, x.n_samples)?;
        }
        let standardizer = Standardizer::fit_samples(&x)?.with_clip(config.clip_standardized)?;
        let z = standardizer.transform_samples(&x);
        let n = Some(n_classes);
        let w = weights;
        let fitted = match &config.model {
            ModelConfig::Svm(c) => {
                FittedModel::Svm(SvmModel::fit_samples_weighted(&z, y, w, n, c, seed)?)
            }
            ModelConfig::RandomForest(c) => {
                FittedModel::RandomForest(RandomForest::fit_samples_weighted(&z, y, w, n, c, seed)?)
            }
            ModelConfig::Knn(c) => FittedModel::Knn(Knn::fit_samples_weighted(&z, y, w, n, c)?),
            ModelConfig::Mlp(c) => {
                FittedModel::Mlp(Mlp::fit_samples_weighted(&z, y, w, n, c, seed)?)
            }
        };
        Ok(ClassicModel {
            config: config.clone(),
            seed,
            n_features,
            n_classes,
            standardizer,
            fitted,
        })
    }

    /// The configuration it was fitted with.
    pub fn config(&self) -> &ClassicConfig {
        &self.config
    }

    /// The seed it was fitted with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The standardiser (training statistics).
    pub fn standardizer(&self) -> &Standardizer {
        &self.standardizer
    }

    /// The fitted classifier.
    pub fn fitted(&self) -> &FittedModel {
        &self.fitted
    }

    /// The utterance vector of a full feature matrix, per [`ClassicConfig::features`].
    ///
    /// # Errors
    /// As [`FeatureSpec::pool_matrix`].
    pub fn utterance_vector(
        &self,
        matrix: &FeatureMatrix,
        valid_frames: Option<usize>,
    ) -> Result<Vec<f32>> {
        self.config.features.pool_matrix(matrix, valid_frames)
    }

    /// Class probabilities of one utterance from its full feature matrix.
    ///
    /// # Errors
    /// As [`FeatureSpec::pool_matrix`].
    pub fn predict_proba_matrix(
        &self,
        matrix: &FeatureMatrix,
        valid_frames: Option<usize>,
    ) -> Result<Vec<f32>> {
        let v = self.utterance_vector(matrix, valid_frames)?;
        let mut rows = self.predict_proba(&[v])?;
        rows.pop().ok_or(ClassicError::Corrupt {
            reason: "no probability row for one sample".to_owned(),
        })
    }

    /// Writes the model into `dir` (created if needed): its arrays to
    /// `dir/`[`WEIGHTS_FILE_NAME`], then the structure naming them to
    /// `dir/`[`MODEL_FILE_NAME`], each atomically (a temporary file in `dir`, then a rename)
    /// and each followed by its SHA-256 beside it (`classic-model.safetensors.sha256`,
    /// `classic-model.json.sha256`). The JSON is written last, so a folder holding a new
    /// `classic-model.json` holds its weights. Returns the model file's path.
    ///
    /// # Errors
    /// [`ClassicError::Io`], [`ClassicError::Json`] and [`ClassicError::Weights`] with the
    /// path involved.
    pub fn save(&self, dir: &Path) -> Result<PathBuf> {
        let path = dir.join(MODEL_FILE_NAME);
        let weights_path = dir.join(WEIGHTS_FILE_NAME);
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ClassicError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let mut tensors = TensorWriter::default();
        let stored = StoredModel {
            format_version: FORMAT_VERSION,
            weights_file: WEIGHTS_FILE_NAME.to_owned(),
            config: self.config.clone(),
            seed: self.seed,
            n_features: self.n_features,
            n_classes: self.n_classes,
            standardizer: self.standardizer.to_stored(&mut tensors),
            fitted: match &self.fitted {
                FittedModel::Svm(m) => FittedStored::Svm(m.to_stored(&mut tensors)),
                FittedModel::RandomForest(m) => {
                    FittedStored::RandomForest(m.to_stored(&mut tensors))
                }
                FittedModel::Knn(m) => FittedStored::Knn(m.to_stored(&mut tensors)),
                FittedModel::Mlp(m) => FittedStored::Mlp(m.to_stored(&mut tensors)),
            },
        };
        let format = format!("ser-classic/{FORMAT_VERSION}");
        let weights = tensors.to_bytes(&weights_path, "format", &format)?;
        let json = serde_json::to_vec(&stored).map_err(|source| ClassicError::Json {
            path: path.clone(),
            source,
        })?;
        for (file, name, bytes) in [
            (&weights_path, WEIGHTS_FILE_NAME, &weights),
            (&path, MODEL_FILE_NAME, &json),
        ] {
            ser_stdx::fs::write_atomic(file, bytes).map_err(io(file))?;
            let line = format!("{}  {name}\n", sha256_hex(bytes));
            let checksum = checksum_path(file);
            ser_stdx::fs::write_atomic(&checksum, line.as_bytes()).map_err(io(&checksum))?;
        }
        Ok(path)
    }

    /// Reads `dir/`[`MODEL_FILE_NAME`] (see [`ClassicModel::load_file`]).
    ///
    /// # Errors
    /// As [`ClassicModel::load_file`].
    pub fn load(dir: &Path) -> Result<ClassicModel> {
        ClassicModel::load_file(&dir.join(MODEL_FILE_NAME))
    }

    /// Reads a saved model and checks it: each file against its checksum file (when there is
    /// one), the format version, every tensor's dtype and shape, the shapes of every fitted
    /// parameter against each other and against the feature specification. A format-2 file
    /// reads its weights from the file it names in its own folder; a format-1 file holds
    /// them.
    ///
    /// # Errors
    /// [`ClassicError::Io`], [`ClassicError::Checksum`], [`ClassicError::Json`],
    /// [`ClassicError::FormatVersion`], [`ClassicError::WeightsFileName`],
    /// [`ClassicError::Weights`], [`ClassicError::Tensor`] and [`ClassicError::Corrupt`].
    pub fn load_file(path: &Path) -> Result<ClassicModel> {
        let bytes = read_verified(path)?;
        let json = |source| ClassicError::Json {
            path: path.to_path_buf(),
            source,
        };
        let probe: VersionProbe = serde_json::from_slice(&bytes).map_err(json)?;
        let model = match probe.format_version {
            FORMAT_VERSION => {
                let stored: StoredModel = serde_json::from_slice(&bytes).map_err(json)?;
                ClassicModel::from_stored(path, stored)?
            }
            LEGACY_FORMAT_VERSION => {
                let legacy: LegacyModel = serde_json::from_slice(&bytes).map_err(json)?;
                ClassicModel {
                    config: legacy.config,
                    seed: legacy.seed,
                    n_features: legacy.n_features,
                    n_classes: legacy.n_classes,
                    standardizer: legacy.standardizer,
                    fitted: legacy.fitted,
                }
            }
            found => {
                return Err(ClassicError::FormatVersion {
                    path: path.to_path_buf(),
                    found,
                    expected: FORMAT_VERSION,
                });
            }
        };
        model.validate()?;
        Ok(model)
    }

    /// The model of a format-2 file at `path`, its weights read (and checked against their
    /// checksum) from the file it names beside it.
    fn from_stored(path: &Path, stored: StoredModel) -> Result<ClassicModel> {
        let name = stored.weights_file.as_str();
        // A bare file name only: a model file must not make the loader read elsewhere.
        if name.is_empty() || Path::new(name).file_name() != Some(std::ffi::OsStr::new(name)) {
            return Err(ClassicError::WeightsFileName {
                path: path.to_path_buf(),
                name: name.to_owned(),
            });
        }
        let weights_path = path.with_file_name(name);
        let bytes = read_verified(&weights_path)?;
        let tensors = TensorReader::new(&bytes, &weights_path)?;
        let standardizer =
            Standardizer::from_stored(stored.standardizer, stored.n_features, &tensors)?;
        let fitted = match stored.fitted {
            FittedStored::Svm(m) => FittedModel::Svm(SvmModel::from_stored(m, &tensors)?),
            FittedStored::RandomForest(m) => {
                FittedModel::RandomForest(RandomForest::from_stored(m, &tensors)?)
            }
            FittedStored::Knn(m) => FittedModel::Knn(Knn::from_stored(m, &tensors)?),
            FittedStored::Mlp(m) => FittedModel::Mlp(Mlp::from_stored(m, &tensors)?),
        };
        Ok(ClassicModel {
            config: stored.config,
            seed: stored.seed,
            n_features: stored.n_features,
            n_classes: stored.n_classes,
            standardizer,
            fitted,
        })
    }

    /// Cross-checks a deserialised model.
    fn validate(&self) -> Result<()> {
        self.config.model.validate()?;
        self.standardizer.validate()?;
        self.fitted.validate()?;
        let mismatch = |what: &str, a: usize, b: usize| {
            Err(ClassicError::Corrupt {
                reason: format!("{what}: {a} vs {b}"),
            })
        };
        if self.config.model.kind() != self.fitted.kind() {
            return Err(ClassicError::Corrupt {
                reason: format!(
                    "configured model {} but fitted {}",
                    self.config.model.kind(),
                    self.fitted.kind()
                ),
            });
        }
        let spec_features = self.config.features.n_features();
        for (what, n) in [
            ("feature specification / model features", spec_features),
            (
                "standardizer / model features",
                self.standardizer.n_features(),
            ),
            ("classifier / model features", self.fitted.n_features()),
        ] {
            if n != self.n_features {
                return mismatch(what, n, self.n_features);
            }
        }
        if self.fitted.n_classes() != self.n_classes {
            return mismatch(
                "classifier / model classes",
                self.fitted.n_classes(),
                self.n_classes,
            );
        }
        let names = self.config.class_names.len();
        if names != 0 && names != self.n_classes {
            return mismatch("class names / model classes", names, self.n_classes);
        }
        Ok(())
    }
}

impl Classifier for ClassicModel {
    type Config = ClassicConfig;

    /// Checks that every sample has [`FeatureSpec::n_features`] values, fits the standardiser
    /// on `x`, then the classifier on the standardised `x`. A [`ClassicConfig::balance`] other
    /// than [`Balance::None`] is applied as by [`ClassicModel::fit_balanced`] without groups,
    /// so [`Balance::Corpus`] and [`Balance::CorpusClass`] are refused
    /// ([`ClassicError::PerSampleCount`]): they need [`ClassicModel::fit_balanced`].
    fn fit<R: AsRef<[f32]>>(
        x: &[R],
        y: &[usize],
        config: &ClassicConfig,
        seed: u64,
    ) -> Result<Self> {
        ClassicModel::fit_balanced::<R, u32>(x, y, &[], config, seed)
    }

    fn n_features(&self) -> usize {
        self.n_features
    }

    fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// Standardises `x` with the training statistics, then asks the classifier.
    fn predict_proba<R: AsRef<[f32]>>(&self, x: &[R]) -> Result<Vec<Vec<f32>>> {
        let x = Samples::from_rows(x, Some(self.n_features))?;
        self.fitted
            .proba_samples(&self.standardizer.transform_samples(&x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_and_print() {
        for kind in ModelKind::ALL {
            assert_eq!(kind.name().parse::<ModelKind>().unwrap(), kind);
            assert_eq!(kind.default_config().kind(), kind);
        }
        assert_eq!("RF".parse::<ModelKind>().unwrap(), ModelKind::RandomForest);
        assert!("tree".parse::<ModelKind>().is_err());
    }

    #[test]
    fn config_json_is_readable_and_strict() {
        let config = ClassicConfig::default();
        let json = serde_json::to_string(&config).unwrap();
        assert!(json.contains(r#""kind":"svm""#), "{json}");
        let back: ClassicConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, config);
        // Partial hyper-parameters take defaults; unknown fields are refused.
        let partial = r#"{"kind":"knn","params":{"k":7}}"#;
        let m: ModelConfig = serde_json::from_str(partial).unwrap();
        assert_eq!(
            m,
            ModelConfig::Knn(KnnConfig {
                k: 7,
                ..KnnConfig::default()
            })
        );
        let typo = r#"{"kind":"knn","params":{"kk":7}}"#;
        assert!(serde_json::from_str::<ModelConfig>(typo).is_err());
        let gamma = r#"{"kind":"svm","params":{"gamma":{"value":0.5}}}"#;
        let m: ModelConfig = serde_json::from_str(gamma).unwrap();
        assert!(
            matches!(m, ModelConfig::Svm(SvmConfig { gamma: crate::Gamma::Value(g), .. }) if g == 0.5)
        );
    }
}
