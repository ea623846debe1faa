//! Runs of ser: the run folder every training writes and every evaluation and prediction reads
//! (`ser-run.json` beside the weights), the fitted model behind one interface ([`Classifier`],
//! [`Model`]: audio -> probabilities), evaluation and comparison ([`eval`]), ensembles
//! ([`ensemble`]), robustness evaluation ([`robustness`]), unsupervised adaptation
//! ([`adapt`]) and windowed prediction ([`predict`]).
//!
//! The `ser-*` binaries and `ser-serve` stay thin: they parse flags, build these values, call
//! this library and print. Every operation returns [`RunError`], whose [`RunError::kind`] says
//! whether the caller's input or the model is at fault.

use std::path::{Path, PathBuf};

pub use error::{ErrorKind, Result, ResultExt, RunError};

use error::IoResultExt as _;
use error::bail;
use ser_classic::ClassicModel;
use ser_data::{LabelMap, Normalizer, Protocol};
use ser_features::{FeatureConfig, FeatureExtractor, FeatureMatrix, FeatureSet, Vad, VadConfig};
use ser_trainer::Predictor;
use serde::{Deserialize, Serialize};

pub mod adapt;
pub mod csv_text;
pub mod ensemble;
mod error;
pub mod eval;
pub mod predict;
pub mod robustness;
pub mod train;

/// File name of the run description inside a run folder.
pub const RUN_INFO_FILE: &str = "ser-run.json";

/// Version of the `ser-run.json` layout.
pub const RUN_INFO_VERSION: u32 = 1;

/// Everything a run folder needs besides the weights to be used without guessing: where the
/// data came from, how features were made, normalised and selected, the labels, the split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Layout version ([`RUN_INFO_VERSION`]).
    pub format_version: u32,
    /// The model name given to `ser-train --model`.
    pub model: String,
    /// The corpus folder trained on (the first `--data`).
    pub data_dir: PathBuf,
    /// Further corpus folders of a multi-corpus run (the other `--data`), combined with
    /// `data_dir` into one corpus.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_data_dirs: Vec<PathBuf>,
    /// The test corpus of a cross-corpus run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_data_dir: Option<PathBuf>,
    /// Feature extraction.
    pub feature_config: FeatureConfig,
    /// Which rows of the feature matrix the model sees.
    pub feature_set: FeatureSet,
    /// Normalisation fitted on the training side (applied to all rows before selection).
    pub normalizer: Normalizer,
    /// Output index -> emotion.
    pub label_map: LabelMap,
    /// The evaluation protocol.
    pub protocol: Protocol,
    /// The fold of the protocol (0-based).
    pub fold: usize,
    /// Number of folds of the protocol.
    pub n_folds: usize,
    /// Speakers of each side of the split.
    pub train_speakers: Vec<String>,
    /// Validation speakers.
    pub val_speakers: Vec<String>,
    /// Test speakers.
    pub test_speakers: Vec<String>,
    /// The seed of the run.
    pub seed: u64,
    /// Set when the protocol leaks speakers: printed with every result.
    pub leak_warning: Option<String>,
    /// The command line that produced the run.
    pub command: String,
    /// Training-side augmentation of a deep model (waveform copies, SpecAugment), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub augment: Option<ser_data::AugmentConfig>,
    /// Seconds spent fitting, for models that keep no per-epoch history (classical ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_time_s: Option<f64>,
    /// The band each training corpus was measured to occupy
    /// ([`ser_data::bandwidth::measure_corpus_band`]), from which the front end's band in
    /// `feature_config` was chosen; empty for runs without a front end, with `--band-hz`, or
    /// made before the measurement existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub measured_band: Vec<ser_data::bandwidth::CorpusBand>,
}

impl RunInfo {
    /// Reads `ser-run.json` of a run folder.
    pub fn load(run_dir: &Path) -> Result<RunInfo> {
        let path = run_dir.join(RUN_INFO_FILE);
        if !run_dir.is_dir() {
            return Err(RunError::broken(
                run_dir,
                "not a folder (expected a run folder written by ser-train)",
            ));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| {
            RunError::broken(
                run_dir,
                format!("not a run folder (no readable {RUN_INFO_FILE}: {e})"),
            )
        })?;
        let info: RunInfo = serde_json::from_str(&text)
            .map_err(|e| RunError::broken(&path, format!("corrupted run description: {e}")))?;
        if info.format_version != RUN_INFO_VERSION {
            return Err(RunError::broken(
                &path,
                format!(
                    "format version {} (this build reads {RUN_INFO_VERSION})",
                    info.format_version
                ),
            ));
        }
        info.feature_config
            .check_feature_set(info.feature_set)
            .map_err(|e| {
                RunError::broken(
                    &path,
                    format!("feature set {} without its rows: {e}", info.feature_set),
                )
            })?;
        Ok(info)
    }

    /// Writes `ser-run.json` atomically.
    pub fn save(&self, run_dir: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(|source| RunError::Json {
            what: "the run description",
            source,
        })?;
        write_atomic(&run_dir.join(RUN_INFO_FILE), text.as_bytes())
    }

    /// Row indices of the feature set, in order.
    pub fn rows(&self) -> Vec<usize> {
        self.feature_config.layout().rows(self.feature_set)
    }
}

impl RunInfo {
    /// Every corpus folder of the run: `data_dir`, the extra ones, and the test corpus of a
    /// cross-corpus run.
    pub fn corpus_dirs(&self) -> Vec<&Path> {
        std::iter::once(self.data_dir.as_path())
            .chain(self.extra_data_dirs.iter().map(PathBuf::as_path))
            .chain(self.test_data_dir.as_deref())
            .collect()
    }

    /// Reads the run's corpus again (see [`load_corpus`]), after checking its folders exist.
    pub fn load_corpus(&self) -> Result<ser_data::Corpus> {
        let dirs = self.corpus_dirs();
        if let Some(missing) = dirs.iter().find(|d| !d.is_dir()) {
            return Err(RunError::bad_input(
                missing,
                format!(
                    "the run's corpus folder is missing (paths in {RUN_INFO_FILE} are relative \
                     to where ser-train ran)"
                ),
            ));
        }
        load_corpus(&dirs, None)
    }
}

/// A part of a run description that two runs must share to be used together: resumed one by
/// the other ([`RunField::RESUME`]) or averaged in an ensemble ([`RunField::ENSEMBLE`],
/// [`RunField::ENSEMBLE_MEMBER`]). [`RunInfo::compatibility`] compares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunField {
    /// The model name.
    Model,
    /// The feature extraction ([`RunInfo::feature_config`], front end included).
    FeatureExtraction,
    /// The rows the model sees ([`RunInfo::feature_set`]).
    FeatureSet,
    /// The evaluation protocol.
    Protocol,
    /// The fold and the number of folds.
    Fold,
    /// The test speakers of the split.
    TestSpeakers,
    /// The label map.
    LabelMap,
    /// The corpus folders ([`RunInfo::corpus_dirs`]).
    Corpus,
    /// The training-side augmentation.
    Augmentation,
}

impl RunField {
    /// What `--resume` requires of the run folder it continues: the run it would write.
    pub const RESUME: [RunField; 6] = [
        RunField::Model,
        RunField::FeatureExtraction,
        RunField::FeatureSet,
        RunField::Protocol,
        RunField::Fold,
        RunField::Augmentation,
    ];

    /// What the members of an ensemble share, fold by fold: the split, the labels, the
    /// extraction and the corpus.
    pub const ENSEMBLE: [RunField; 6] = [
        RunField::Protocol,
        RunField::Fold,
        RunField::TestSpeakers,
        RunField::LabelMap,
        RunField::FeatureExtraction,
        RunField::Corpus,
    ];

    /// What loading an ensemble re-checks of every member against the ensemble's own
    /// description (whose feature set and augmentation are its own).
    pub const ENSEMBLE_MEMBER: [RunField; 2] = [RunField::FeatureExtraction, RunField::LabelMap];

    /// The field's name in messages ("feature extraction", "test speakers", ...).
    pub fn name(self) -> &'static str {
        match self {
            RunField::Model => "model",
            RunField::FeatureExtraction => "feature extraction",
            RunField::FeatureSet => "feature set",
            RunField::Protocol => "protocol",
            RunField::Fold => "fold",
            RunField::TestSpeakers => "test speakers",
            RunField::LabelMap => "label map",
            RunField::Corpus => "corpus",
            RunField::Augmentation => "augmentation",
        }
    }

    /// The field's value in `info`, as text for a message; `None` where it is equal in
    /// `info` and `other`.
    fn difference(self, info: &RunInfo, other: &RunInfo) -> Option<(String, String)> {
        fn json<T: Serialize + std::fmt::Debug>(value: &T) -> String {
            serde_json::to_string(value).unwrap_or_else(|_| format!("{value:?}"))
        }
        fn pair<T: PartialEq>(a: T, b: T, text: impl Fn(&T) -> String) -> Option<(String, String)> {
            (a != b).then(|| (text(&a), text(&b)))
        }
        let dirs = |i: &RunInfo| {
            i.corpus_dirs()
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            RunField::Model => pair(&info.model, &other.model, |m| (*m).clone()),
            RunField::FeatureExtraction => {
                pair(&info.feature_config, &other.feature_config, |c| json(*c))
            }
            RunField::FeatureSet => pair(info.feature_set, other.feature_set, |f| f.to_string()),
            RunField::Protocol => pair(&info.protocol, &other.protocol, |p| p.name()),
            RunField::Fold => pair(
                (info.fold, info.n_folds),
                (other.fold, other.n_folds),
                |(fold, n)| format!("{}/{n}", fold + 1),
            ),
            RunField::TestSpeakers => pair(&info.test_speakers, &other.test_speakers, |s| {
                format!("[{}]", s.join(", "))
            }),
            RunField::LabelMap => pair(&info.label_map, &other.label_map, |m| {
                format!("[{}]", m.names().join(", "))
            }),
            RunField::Corpus => {
                (info.corpus_dirs() != other.corpus_dirs()).then(|| (dirs(info), dirs(other)))
            }
            RunField::Augmentation => pair(&info.augment, &other.augment, |a| match a {
                Some(a) => json(a),
                None => "none".to_owned(),
            }),
        }
    }
}

/// The first field in which two run descriptions differ, with both values (see
/// [`RunInfo::compatibility`]). Displayed as `different <field>: <this> vs <other>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The field.
    pub field: RunField,
    /// Its value in the run compared (`self` of [`RunInfo::compatibility`]).
    pub this: String,
    /// Its value in the run it was compared with.
    pub other: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "different {}: {} vs {}",
            self.field.name(),
            self.this,
            self.other
        )
    }
}

impl RunInfo {
    /// The one comparison of run descriptions: `Ok` when `self` and `other` agree in every
    /// one of `fields`, else the first (in the order given) that differs. Callers put the
    /// runs' folders in front of the [`Mismatch`] (resuming, ensembles).
    pub fn compatibility(
        &self,
        other: &RunInfo,
        fields: &[RunField],
    ) -> std::result::Result<(), Mismatch> {
        match fields
            .iter()
            .find_map(|&field| Some((field, field.difference(self, other)?)))
        {
            Some((field, (this, other))) => Err(Mismatch { field, this, other }),
            None => Ok(()),
        }
    }
}

/// Reads the corpus in each folder (its layout detected, or `kind`) and, for more than one,
/// combines them into one corpus of kind `mixed` whose utterances keep their corpus and
/// namespaced speakers (multi-corpus and cross-corpus runs).
pub fn load_corpus(dirs: &[&Path], kind: Option<ser_data::CorpusKind>) -> Result<ser_data::Corpus> {
    use ser_data::{Corpus, CorpusOptions};
    let read = |dir: &Path| {
        if !dir.is_dir() {
            return Err(RunError::bad_input(dir, "no such corpus folder"));
        }
        let options = CorpusOptions {
            kind,
            include_song: false,
        };
        Corpus::load(dir, &options)
            .with_context(|| format!("cannot read the corpus in {}", dir.display()))
    };
    let mut corpora = dirs.iter().map(|d| read(d)).collect::<Result<Vec<_>>>()?;
    match corpora.len() {
        0 => Err(RunError::invalid("no corpus folder given")),
        1 => Ok(corpora.remove(0)),
        _ => Corpus::combine(corpora).with_context(|| {
            format!(
                "cannot combine the corpora in {}",
                dirs.iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }),
    }
}

/// The run folder of fold `fold` (0-based) of a protocol with `n_folds` splits under `out`:
/// `out` itself for one split, `out/fold-N` (1-based) otherwise.
pub fn fold_dir(out: &Path, fold: usize, n_folds: usize) -> PathBuf {
    if n_folds == 1 {
        out.to_owned()
    } else {
        out.join(fold_dir_name(fold))
    }
}

/// `fold-N`, the sub-folder name of 0-based fold `fold`.
pub fn fold_dir_name(fold: usize) -> String {
    format!("{FOLD_DIR_PREFIX}{}", fold + 1)
}

/// The 1-based fold number of a `fold-N` sub-folder name.
pub fn fold_number(name: &str) -> Option<usize> {
    name.strip_prefix(FOLD_DIR_PREFIX)?.parse().ok()
}

/// Prefix of fold sub-folder names.
const FOLD_DIR_PREFIX: &str = "fold-";

/// The shipped default model: `$SER_DEFAULT_MODEL` if set, else `results/default-model` of the
/// workspace this binary was built in (when it still exists), else of the current folder.
pub fn default_model_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SER_DEFAULT_MODEL") {
        return PathBuf::from(dir);
    }
    let built_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results/default-model");
    if built_in.join(RUN_INFO_FILE).is_file() {
        return built_in.canonicalize().unwrap_or(built_in);
    }
    PathBuf::from("results/default-model")
}

/// Writes `bytes` to `path` atomically (`ser_stdx::fs::write_atomic`: a temporary file in the
/// same folder, synced, renamed over `path`), creating the folder first.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).io_context("create", dir)?;
    ser_stdx::fs::write_atomic(path, bytes).io_context("write", path)
}

/// The input transform of a network: the run's normalisation over all rows of a feature
/// matrix, then the rows of its feature set, flattened row-major (`n_rows x n_frames`).
/// Training ([`train::train_deep_fold`]) and inference ([`Classifier::prepare`]) both call it,
/// so the two cannot drift apart.
#[derive(Debug, Clone)]
pub struct DeepInput<'a> {
    normalizer: &'a Normalizer,
    rows: Vec<usize>,
}

impl<'a> DeepInput<'a> {
    /// The transform of the run `info` describes.
    pub fn of(info: &'a RunInfo) -> DeepInput<'a> {
        DeepInput {
            normalizer: &info.normalizer,
            rows: info.rows(),
        }
    }

    /// Rows the network sees.
    pub fn n_rows(&self) -> usize {
        self.rows.len()
    }

    /// The network input for one feature matrix as extracted (all rows).
    pub fn apply(&self, mut matrix: FeatureMatrix) -> Result<Vec<f32>> {
        self.normalizer.apply(&mut matrix.data, matrix.n_frames)?;
        Ok(matrix.select_rows(&self.rows).data)
    }
}

/// The fitted classifier of a run folder: a burn network (`model.json` + weights), a
/// classical model (`classic-model.json`) or an ensemble of other run folders
/// (`ensemble.json`, see [`ensemble`]).
#[derive(Debug)]
pub enum Classifier {
    /// A deep network trained by `ser-trainer`.
    Deep(Box<Predictor>),
    /// An SVM, random forest, k-NN or perceptron ensemble from `ser-classic`.
    Classic(Box<ClassicModel>),
    /// The weighted mean of several run folders' probabilities.
    Ensemble(Box<ensemble::Ensemble>),
}

impl Classifier {
    /// Loads the classifier of `run_dir` and checks it against the run description: the
    /// number of inputs against the feature set, the number of outputs against the label map.
    pub fn load(run_dir: &Path, info: &RunInfo) -> Result<Classifier> {
        let classifier = if run_dir.join(ensemble::ENSEMBLE_FILE).is_file() {
            Classifier::Ensemble(Box::new(ensemble::Ensemble::load(run_dir, info)?))
        } else if run_dir.join(ser_classic::MODEL_FILE_NAME).is_file() {
            let model = ClassicModel::load(run_dir).with_context(|| {
                format!("{}: cannot load the classical model", run_dir.display())
            })?;
            let spec = &model.config().features;
            if spec.extraction != info.feature_config || spec.feature_set != info.feature_set {
                bail!(
                    "{}: {} and {RUN_INFO_FILE} describe different features",
                    run_dir.display(),
                    ser_classic::MODEL_FILE_NAME
                );
            }
            Classifier::Classic(Box::new(model))
        } else {
            let predictor = Predictor::load(run_dir)
                .with_context(|| format!("{}: cannot load the model weights", run_dir.display()))?;
            let n_rows = info.rows().len();
            if predictor.n_features() != n_rows {
                bail!(
                    "{}: the model takes {} feature rows but its feature set {} has {n_rows}",
                    run_dir.display(),
                    predictor.n_features(),
                    info.feature_set
                );
            }
            Classifier::Deep(Box::new(predictor))
        };
        if classifier.n_classes() != info.label_map.len() {
            bail!(
                "{}: the model has {} outputs but the label map {} classes",
                run_dir.display(),
                classifier.n_classes(),
                info.label_map.len()
            );
        }
        Ok(classifier)
    }

    /// Whether inputs must be normalised with their speaker's statistics (a classical model
    /// trained with `--speaker-norm`).
    pub fn speaker_norm(&self) -> bool {
        matches!(self, Classifier::Classic(m) if m.config().speaker_norm)
    }

    /// Number of output classes.
    pub fn n_classes(&self) -> usize {
        match self {
            Classifier::Deep(p) => p.n_classes(),
            Classifier::Classic(m) => ser_classic::Classifier::n_classes(m.as_ref()),
            Classifier::Ensemble(e) => e.n_classes(),
        }
    }

    /// The model input for one full feature matrix as extracted (all rows, `n_frames`
    /// frames): for a network the normalised rows of the feature set; for a classical model
    /// the utterance statistics (it standardises them itself); for an ensemble every member's
    /// input, concatenated.
    pub fn prepare(&self, info: &RunInfo, matrix: FeatureMatrix) -> Result<Vec<f32>> {
        match self {
            Classifier::Deep(_) => DeepInput::of(info).apply(matrix),
            Classifier::Classic(m) => Ok(m.utterance_vector(&matrix, None)?),
            Classifier::Ensemble(e) => e.prepare(&matrix),
        }
    }

    /// Adapts inputs made by [`Classifier::prepare`] (one per file) to their batch, without
    /// labels: each group's inputs (`groups[i]` is the group of input `i`, a speaker say)
    /// standardised with that group's statistics, small groups with the whole batch's (see
    /// [`adapt`]). A speaker-normalised classical model needs no other speaker reference.
    ///
    /// # Errors
    /// Fewer than [`adapt::MIN_ADAPTATION_FILES`] inputs; inputs that do not fit the model; a
    /// network trained without global normalisation.
    pub fn adapt<S: AsRef<str>>(
        &self,
        info: &RunInfo,
        inputs: &mut [Vec<f32>],
        groups: &[S],
    ) -> Result<adapt::Adaptation> {
        let plan = adapt::AdaptationPlan::new(groups)?;
        self.adapt_with(info, inputs, &plan)?;
        Ok(plan.summary().clone())
    }

    /// As [`Classifier::adapt`] with a prepared plan (several inputs per file, for windows).
    pub fn adapt_with(
        &self,
        info: &RunInfo,
        inputs: &mut [Vec<f32>],
        plan: &adapt::AdaptationPlan,
    ) -> Result<()> {
        adapt::apply(&adapt::rules(self, info)?, inputs, plan)
    }

    /// Class probabilities (rows sum to 1) of inputs made by [`Classifier::prepare`].
    pub fn predict_proba(&self, inputs: &[Vec<f32>]) -> Result<Vec<Vec<f32>>> {
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        Ok(match self {
            Classifier::Deep(p) => p.predict_proba(inputs)?,
            Classifier::Classic(m) => ser_classic::Classifier::predict_proba(m.as_ref(), inputs)?,
            Classifier::Ensemble(e) => e.predict_proba(inputs)?,
        })
    }
}

/// A trained model ready to classify audio: its run description, a planned feature extractor
/// and the classifier.
#[derive(Debug)]
pub struct Model {
    /// The run folder it came from.
    pub run_dir: PathBuf,
    /// Its description.
    pub info: RunInfo,
    extractor: FeatureExtractor,
    classifier: Classifier,
    /// The speaker's statistics for a speaker-normalised classical model.
    speaker: Option<ser_classic::Standardizer>,
    /// The voice-activity detector of the front end (the default one for a run without a
    /// front end): windows without speech are silence.
    vad: Vad,
}

impl Model {
    /// Loads a run folder written by `ser-train` (deep or classical).
    pub fn load(run_dir: &Path) -> Result<Model> {
        let info = RunInfo::load(run_dir)?;
        let classifier = Classifier::load(run_dir, &info)?;
        let extractor = FeatureExtractor::new(&info.feature_config)
            .with_context(|| format!("{}: bad feature configuration", run_dir.display()))?;
        let vad_config = info
            .feature_config
            .front_end
            .as_ref()
            .map_or_else(VadConfig::default, |f| f.vad.clone());
        let vad = Vad::new(&vad_config, info.feature_config.sample_rate_hz)
            .with_context(|| format!("{}: bad voice-activity settings", run_dir.display()))?;
        Ok(Model {
            run_dir: run_dir.to_owned(),
            info,
            extractor,
            classifier,
            speaker: None,
            vad,
        })
    }

    /// Whether the model normalises its inputs per speaker and so needs
    /// [`Model::set_speaker_reference`] before predicting.
    pub fn needs_speaker_reference(&self) -> bool {
        self.classifier.speaker_norm()
    }

    /// Sets the speaker whose recordings will be predicted, for a model trained with speaker
    /// normalisation: the statistics of the first analysis window of each reference file
    /// (unlabelled recordings of the same speaker, ideally over their whole emotional range;
    /// the files predicted may be among them). Returns the number of files used.
    ///
    /// # Errors
    /// A model without speaker normalisation; an unreadable file (named); fewer than
    /// [`ser_classic::MIN_SPEAKER_UTTERANCES`] files.
    pub fn set_speaker_reference(&mut self, files: &[PathBuf]) -> Result<usize> {
        if !self.needs_speaker_reference() {
            bail!(
                "{}: this model does not normalise per speaker; a speaker reference does not apply",
                self.id()
            );
        }
        let mut vectors = Vec::with_capacity(files.len());
        for file in files {
            let audio = ser_audio::load_band_limited(file, self.sample_rate_hz(), self.band_hz())?;
            let window = self.window_samples().min(audio.samples.len());
            let m = self
                .extractor
                .extract(&audio.samples[..window])
                .with_context(|| file.display().to_string())?;
            vectors.push(
                self.classifier
                    .prepare(&self.info, m)
                    .with_context(|| file.display().to_string())?,
            );
        }
        let speakers = vec!["reference"; vectors.len()];
        let normalizer = ser_classic::SpeakerNormalizer::fit(&vectors, &speakers)
            .context("speaker reference")?;
        self.speaker = normalizer.get("reference").cloned();
        Ok(vectors.len())
    }

    /// A short identifier: the run folder's path.
    pub fn id(&self) -> String {
        self.run_dir.display().to_string()
    }

    /// The analysis sample rate.
    pub fn sample_rate_hz(&self) -> u32 {
        self.info.feature_config.sample_rate_hz
    }

    /// The band edge of the model's front end (inputs are limited to it), `None` without one.
    pub fn band_hz(&self) -> Option<u32> {
        self.info.feature_config.band_hz()
    }

    /// The fewest samples (at [`Model::sample_rate_hz`]) the model can analyse.
    pub fn min_samples(&self) -> usize {
        self.info.feature_config.min_samples()
    }

    /// Whether mono samples at [`Model::sample_rate_hz`] hold speech, by the front end's
    /// voice-activity detector: the silence rule of files, timelines and streams.
    pub fn has_speech(&mut self, samples: &[f32]) -> bool {
        self.vad.has_speech(samples)
    }

    /// Samples of one analysis window (the model's fixed frame count).
    pub fn window_samples(&self) -> usize {
        self.info.feature_config.n_frames.saturating_sub(1) * self.info.feature_config.hop_len
    }

    /// Class names in output order.
    pub fn class_names(&self) -> Vec<&'static str> {
        self.info.label_map.names()
    }

    /// The model input for mono samples at [`Model::sample_rate_hz`] (see
    /// [`Classifier::prepare`]).
    pub fn features(&mut self, samples: &[f32]) -> Result<Vec<f32>> {
        let x = self.unadapted_features(samples)?;
        if !self.needs_speaker_reference() {
            return Ok(x);
        }
        let Some(speaker) = &self.speaker else {
            bail!(
                "{}: this model normalises its inputs per speaker: give at least {} recordings of \
                 the speaker as a reference (ser-predict --speaker-ref DIR)",
                self.id(),
                ser_classic::MIN_SPEAKER_UTTERANCES
            );
        };
        Ok(speaker.transform_one(&x)?)
    }

    /// The model input for mono samples before any speaker normalisation: what
    /// [`Model::adapt`] takes (equal to [`Model::features`] for a model without it).
    pub fn unadapted_features(&mut self, samples: &[f32]) -> Result<Vec<f32>> {
        let m = self.extractor.extract(samples)?;
        self.classifier.prepare(&self.info, m)
    }

    /// Adapts inputs made by [`Model::unadapted_features`] to their batch by `plan` (see
    /// [`Classifier::adapt`]); they are then ready for [`Model::predict_features`].
    pub fn adapt(&self, inputs: &mut [Vec<f32>], plan: &adapt::AdaptationPlan) -> Result<()> {
        self.classifier.adapt_with(&self.info, inputs, plan)
    }

    /// Emotion probabilities for mono samples at [`Model::sample_rate_hz`].
    pub fn predict_samples(&mut self, samples: &[f32]) -> Result<Vec<f32>> {
        let x = self.features(samples)?;
        Ok(self
            .classifier
            .predict_proba(&[x])?
            .into_iter()
            .next()
            .unwrap_or_default())
    }

    /// Emotion probabilities for several prepared inputs (see [`Model::features`]) at once.
    pub fn predict_features(&self, inputs: &[Vec<f32>]) -> Result<Vec<Vec<f32>>> {
        self.classifier.predict_proba(inputs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run description for tests (nothing on disk).
    pub(crate) fn info() -> RunInfo {
        let config = FeatureConfig::robust();
        let n_rows = config.layout().n_rows;
        RunInfo {
            format_version: RUN_INFO_VERSION,
            model: "svm".to_owned(),
            data_dir: PathBuf::from("/data/ravdess"),
            extra_data_dirs: Vec::new(),
            test_data_dir: None,
            feature_config: config,
            feature_set: FeatureSet::Full,
            normalizer: Normalizer::identity(n_rows),
            label_map: LabelMap::all(),
            protocol: Protocol::RavdessLeaveFourActorsOut,
            fold: 0,
            n_folds: 1,
            train_speakers: vec!["1".to_owned()],
            val_speakers: vec!["2".to_owned()],
            test_speakers: vec!["3".to_owned(), "4".to_owned()],
            seed: 42,
            leak_warning: None,
            command: "ser-train".to_owned(),
            augment: None,
            training_time_s: None,
            measured_band: Vec::new(),
        }
    }

    /// The mismatch of `info()` against a copy changed by `change`, over every field.
    fn mismatch(change: impl Fn(&mut RunInfo)) -> Mismatch {
        let mut other = info();
        change(&mut other);
        let all = [
            RunField::Model,
            RunField::FeatureExtraction,
            RunField::FeatureSet,
            RunField::Protocol,
            RunField::Fold,
            RunField::TestSpeakers,
            RunField::LabelMap,
            RunField::Corpus,
            RunField::Augmentation,
        ];
        info().compatibility(&other, &all).unwrap_err()
    }

    #[test]
    fn equal_runs_are_compatible_whatever_else_differs() {
        let mut other = info();
        other.seed = 7;
        other.command = "another command".to_owned();
        other.train_speakers.clear();
        other.training_time_s = Some(3.0);
        for fields in [
            &RunField::RESUME[..],
            &RunField::ENSEMBLE[..],
            &RunField::ENSEMBLE_MEMBER[..],
        ] {
            assert_eq!(info().compatibility(&other, fields), Ok(()));
        }
    }

    #[test]
    fn every_kind_of_mismatch_names_its_field_and_values() {
        let cases: Vec<(Mismatch, RunField, &str)> = vec![
            (
                mismatch(|i| i.model = "knn".to_owned()),
                RunField::Model,
                "different model: svm vs knn",
            ),
            (
                mismatch(|i| i.feature_config = FeatureConfig::seed()),
                RunField::FeatureExtraction,
                "different feature extraction: {",
            ),
            (
                mismatch(|i| i.feature_set = FeatureSet::Mfcc),
                RunField::FeatureSet,
                "different feature set: full vs mfcc",
            ),
            (
                mismatch(|i| i.protocol = Protocol::RavdessOriginalSplit),
                RunField::Protocol,
                "different protocol: ravdess-leave-4-actors-out vs ravdess-original-split",
            ),
            (
                mismatch(|i| (i.fold, i.n_folds) = (1, 2)),
                RunField::Fold,
                "different fold: 1/1 vs 2/2",
            ),
            (
                mismatch(|i| i.test_speakers = vec!["5".to_owned()]),
                RunField::TestSpeakers,
                "different test speakers: [3, 4] vs [5]",
            ),
            (
                mismatch(|i| {
                    i.label_map =
                        LabelMap::new(vec![ser_data::Emotion::Neutral, ser_data::Emotion::Happy])
                            .unwrap()
                }),
                RunField::LabelMap,
                "different label map: [neutral, calm, happy, sad, angry, fearful, disgust, \
                 surprised] vs [neutral, happy]",
            ),
            (
                mismatch(|i| i.test_data_dir = Some(PathBuf::from("/data/emodb"))),
                RunField::Corpus,
                "different corpus: /data/ravdess vs /data/ravdess, /data/emodb",
            ),
            (
                mismatch(|i| i.augment = Some(ser_data::AugmentConfig::default())),
                RunField::Augmentation,
                "different augmentation: none vs {",
            ),
        ];
        for (found, field, text) in cases {
            assert_eq!(found.field, field);
            let message = found.to_string();
            assert!(message.starts_with(text), "{message}");
        }
    }

    #[test]
    fn the_first_differing_field_in_the_order_given_is_reported() {
        let mut other = info();
        other.model = "knn".to_owned();
        other.fold = 3;
        let found = info()
            .compatibility(&other, &[RunField::Fold, RunField::Model])
            .unwrap_err();
        assert_eq!(found.field, RunField::Fold);
        // A field not asked about is not compared.
        assert_eq!(
            info().compatibility(&other, &RunField::ENSEMBLE_MEMBER),
            Ok(())
        );
    }
}
