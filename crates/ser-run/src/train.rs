//! Training runs: a typed, serialisable [`TrainSpec`] (what `ser-train`'s flags say, or a JSON
//! file says) and [`train`], which reads the corpus, computes features once, trains every
//! selected fold of the protocol (deep networks through `ser-trainer`, classical models through
//! `ser-classic`), writes each fold's run folder and evaluates the test sides on the dataset it
//! already holds.
//!
//! A fold can be trained from Rust code without the command line:
//!
//! ```no_run
//! # fn main() -> ser_run::Result<()> {
//! let mut spec = ser_run::train::TrainSpec::new(vec!["data/ravdess".into()], "svm");
//! spec.pooling = Some(ser_classic::Pooling::Stats);
//! spec.out = Some("results/runs/svm-fold1".into());
//! let outcome = ser_run::train::train(&spec, &ser_run::train::TrainOptions::default())?;
//! println!("{}", outcome.evaluation.map(|e| e.summary_text()).unwrap_or_default());
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use ser_classic::{
    Balance, ClassicConfig, ClassicModel, Classifier as _, FeatureSpec, ModelKind, Pooling,
    SpeakerNormalizer,
};
use ser_data::augment::SpecAugmentConfig;
use ser_data::{
    AugmentConfig, AugmentedSet, BuildOptions, Corpus, CorpusKind, Dataset, LabelMap,
    NormalizationMode, Normalizer, Protocol, SpecAugmenter, Split, Summary,
};
use ser_features::{FeatureConfig, FeatureSet};
use ser_models::{ModelConfig, ModelPreset};
use ser_trainer::{InputMasker, Splits, TrainConfig, Trainer};
use serde::{Deserialize, Serialize};

use crate::error::{IoResultExt as _, ResultExt as _, bail};
use crate::eval::{EvalOptions, Evaluation};
use crate::{RUN_INFO_FILE, RUN_INFO_VERSION, Result, RunError, RunField, RunInfo, fold_dir};

/// Everything a training run needs, as `ser-train`'s flags give it (their names and defaults;
/// see `ser-train --help`). Serialisable, so a run can be described by a JSON file
/// (`ser-train --config FILE`) and printed (`--print-config`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainSpec {
    /// Corpus folders (several are combined into one corpus with namespaced speakers).
    pub data: Vec<PathBuf>,
    /// Test corpus of a cross-corpus run.
    pub test_data: Option<PathBuf>,
    /// Layout of a single `data` folder (`None`: detected).
    pub corpus: Option<CorpusKind>,
    /// Model name: a deep preset (`cnn-lstm`, `gru`, ...) or svm, rf, knn, mlp.
    pub model: String,
    /// Protocol name, or `default` (the corpus's own).
    pub protocol: String,
    /// Fold to train (0-based), or `None` for every fold.
    pub fold: Option<usize>,
    /// Feature preset (robust, seed, speech16k).
    pub preset: String,
    /// Band edge of the front end replacing the preset's.
    pub band_hz: Option<u32>,
    /// Frames per feature matrix replacing the preset's.
    pub frames: Option<usize>,
    /// Rows the model sees.
    pub features: FeatureSet,
    /// Utterance statistics of a classical model (`None`: mean-std).
    pub pooling: Option<Pooling>,
    /// Per-speaker standardisation of a classical model's statistics.
    pub speaker_norm: bool,
    /// Sample weights against class/corpus imbalance.
    pub balance: Balance,
    /// The SVM's C: `None` for 1 (scikit-learn's), [`SvmC::Auto`] for inner cross-validation.
    pub svm_c: Option<SvmC>,
    /// Input normalisation of a deep model (`None`: global).
    pub normalize: Option<NormalizationMode>,
    /// Training-side augmentation (`None`: none).
    pub augment: Option<AugmentConfig>,
    /// Maximum epochs of a deep model.
    pub epochs: usize,
    /// Batch size of a deep model.
    pub batch_size: usize,
    /// Initial learning rate (Adam).
    pub lr: f64,
    /// Label smoothing in [0, 1).
    pub label_smoothing: f32,
    /// Early-stopping patience in epochs (0: none).
    pub patience: usize,
    /// Where a deep model trains (cpu, cuda:N, wgpu:N).
    pub device: String,
    /// Seed of everything random.
    pub seed: u64,
    /// Output folder (`None`: `results/runs/<name made from the spec>`).
    pub out: Option<PathBuf>,
    /// Continue an interrupted run in `out`.
    pub resume: bool,
    /// Feature cache folder (`None`: no cache).
    pub cache_dir: Option<PathBuf>,
}

/// The SVM's soft-margin penalty.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SvmC {
    /// A fixed positive value.
    Fixed(f64),
    /// Chosen from [`ser_classic::SVM_C_GRID`] by cross-validation over the training speakers.
    Auto,
}

impl std::str::FromStr for SvmC {
    type Err = RunError;

    fn from_str(text: &str) -> Result<SvmC> {
        match text {
            "auto" => Ok(SvmC::Auto),
            _ => match text.parse::<f64>() {
                Ok(c) if c.is_finite() && c > 0.0 => Ok(SvmC::Fixed(c)),
                _ => bail!("--svm-c {text}: must be a positive number or auto"),
            },
        }
    }
}

impl Default for TrainSpec {
    fn default() -> Self {
        TrainSpec {
            data: Vec::new(),
            test_data: None,
            corpus: None,
            model: "cnn-lstm".to_owned(),
            protocol: "default".to_owned(),
            fold: Some(0),
            preset: "robust".to_owned(),
            band_hz: None,
            frames: None,
            features: FeatureSet::Full,
            pooling: None,
            speaker_norm: false,
            balance: Balance::None,
            svm_c: None,
            normalize: None,
            augment: None,
            epochs: 100,
            batch_size: 32,
            lr: 1e-3,
            label_smoothing: 0.0,
            patience: 10,
            device: "cpu".to_owned(),
            seed: 42,
            out: None,
            resume: false,
            cache_dir: None,
        }
    }
}

/// A model name resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelChoice {
    /// A burn network.
    Deep(ModelPreset),
    /// A classical baseline.
    Classic(ModelKind),
}

impl std::str::FromStr for ModelChoice {
    type Err = RunError;

    fn from_str(name: &str) -> Result<ModelChoice> {
        if let Ok(kind) = name.parse::<ModelKind>() {
            return Ok(ModelChoice::Classic(kind));
        }
        // `cnn-lstm` is an alias of the strided variant (ModelPreset::ALIASES).
        name.parse::<ModelPreset>()
            .map(ModelChoice::Deep)
            .map_err(|e| {
                RunError::invalid(format!("unknown model {name:?}: {e}, svm, rf, knn, mlp"))
            })
    }
}

/// Augmentation by name, as `ser-train --augment` takes it: none, original (the Python
/// project's waveform recipe), robust (channel augmentation), original+robust, or a JSON file of
/// [`AugmentConfig`]; `copies` for the named recipes, SpecAugment added when `spec_augment`.
pub fn augment_config(
    name: &str,
    copies: usize,
    spec_augment: bool,
) -> Result<Option<AugmentConfig>> {
    let mut augment = match name {
        "none" => AugmentConfig::default(),
        "original" => {
            if copies == 0 {
                bail!("--augment-copies must be at least 1 with --augment original");
            }
            AugmentConfig {
                copies,
                ..AugmentConfig::original()
            }
        }
        "robust" | "original+robust" => {
            if copies == 0 {
                bail!("--augment-copies must be at least 1 with --augment {name}");
            }
            let channel = AugmentConfig::robust();
            let base = if name == "robust" {
                AugmentConfig::default()
            } else {
                AugmentConfig::original()
            };
            AugmentConfig {
                copies,
                gain: channel.gain,
                reverb: channel.reverb,
                babble: channel.babble,
                coloured_noise: channel.coloured_noise,
                band_limit: channel.band_limit,
                clipping: channel.clipping,
                ..base
            }
        }
        file => {
            let text = std::fs::read_to_string(file).map_err(|e| {
                RunError::bad_input(
                    file,
                    format!(
                        "--augment: not none, original, robust, original+robust or a readable \
                         JSON file ({e})"
                    ),
                )
            })?;
            serde_json::from_str(&text).map_err(|e| {
                RunError::bad_input(file, format!("not an augmentation configuration: {e}"))
            })?
        }
    };
    if spec_augment && augment.spec_augment.is_none() {
        augment.spec_augment = Some(SpecAugmentConfig::default());
    }
    augment
        .validate()
        .with_context(|| format!("--augment {name}"))?;
    Ok((augment != AugmentConfig::default()).then_some(augment))
}

impl TrainSpec {
    /// A spec with `ser-train`'s defaults for `model` on the corpora `data`.
    pub fn new(data: Vec<PathBuf>, model: &str) -> TrainSpec {
        TrainSpec {
            data,
            model: model.to_owned(),
            ..TrainSpec::default()
        }
    }

    /// Reads a spec from a JSON file (fields left out take `ser-train`'s defaults).
    pub fn load(path: &Path) -> Result<TrainSpec> {
        let text = std::fs::read_to_string(path).io_context("read", path)?;
        serde_json::from_str(&text)
            .map_err(|e| RunError::bad_input(path, format!("not a training spec: {e}")))
    }

    /// The model, resolved.
    pub fn model_choice(&self) -> Result<ModelChoice> {
        self.model.parse()
    }

    /// The feature extraction: the preset with the band and frame overrides.
    pub fn feature_config(&self) -> Result<FeatureConfig> {
        let mut config = FeatureConfig::preset(&self.preset)?;
        if let Some(band_hz) = self.band_hz {
            let Some(front) = config.front_end.as_mut() else {
                bail!(
                    "--band-hz needs a preset with a front end (robust); {} analyses samples as \
                     given",
                    self.preset
                );
            };
            front.band_hz = band_hz;
            config
                .validate()
                .with_context(|| format!("--band-hz {band_hz}"))?;
        }
        if let Some(frames) = self.frames {
            config.n_frames = frames;
            config
                .validate()
                .with_context(|| format!("--frames {frames}"))?;
        }
        // Pitch rows (full-pitch, mfcc-pitch, pitch) and voice rows (full-egemaps, egemaps)
        // are extracted only when asked for.
        Ok(config.for_feature_set(self.features))
    }

    /// The band of the training audio: without `--band-hz`, a front end's band is narrowed to
    /// that of the narrowest training corpus when one clearly occupies less than the preset's
    /// band (a telephone corpus, say; see [`ser_data::bandwidth::training_band_hz`]), so that
    /// inputs reach the model as its training audio did. Returns the measurements (empty when
    /// nothing was measured: no front end, or `--band-hz` given). The test corpus of a
    /// cross-corpus protocol is not training audio and is not measured.
    pub fn measure_band(
        &self,
        corpus: &Corpus,
        protocol: &Protocol,
        config: &mut FeatureConfig,
    ) -> Vec<ser_data::bandwidth::CorpusBand> {
        if self.band_hz.is_some() {
            return Vec::new();
        }
        let Some(front) = config.front_end.as_mut() else {
            return Vec::new();
        };
        let mut measured = ser_data::bandwidth::measure_corpus_band(corpus);
        if let Protocol::CrossCorpus { test, .. } = protocol {
            measured.retain(|b| b.corpus != *test);
        }
        front.band_hz = ser_data::bandwidth::training_band_hz(front.band_hz, &measured);
        measured
    }

    /// Checks every combination that cannot work, before any expensive step. Returns the
    /// model, the deep input normalisation and the classical pooling.
    pub fn validate(&self) -> Result<(ModelChoice, NormalizationMode, Option<Pooling>)> {
        if self.corpus.is_some() && self.data.len() > 1 {
            bail!(
                "--corpus {} names the layout of a single --data folder; with several, each is \
                 detected",
                self.corpus.map_or("", |k| k.name())
            );
        }
        if self.data.is_empty() {
            bail!("no corpus folder given (--data DIR)");
        }
        match &self.test_data {
            None if self.protocol == "cross-corpus" => {
                bail!("--protocol cross-corpus needs --test-data DIR (the test corpus)")
            }
            Some(_) if !matches!(self.protocol.as_str(), "default" | "cross-corpus") => bail!(
                "--test-data makes a cross-corpus run; it does not go with --protocol {}",
                self.protocol
            ),
            Some(_) if self.data.len() > 1 => bail!(
                "--test-data goes with a single --data; to test one corpus with a model \
                 trained on all the others, give them all as --data with --protocol \
                 leave-one-corpus-out (and --fold N)"
            ),
            _ => {}
        }
        let choice = self.model_choice()?;
        let (mode, pooling) = match choice {
            ModelChoice::Deep(_) => {
                if self.pooling.is_some() {
                    bail!("--pooling applies to the classical models (svm, rf, knn, mlp) only");
                }
                if self.svm_c.is_some() {
                    bail!("--svm-c applies to --model svm only");
                }
                if self.speaker_norm {
                    bail!(
                        "--speaker-norm applies to the classical models (svm, rf, knn, mlp) \
                         only; deep models normalise with --normalize global|utterance|none"
                    );
                }
                if self.epochs == 0 {
                    bail!("--epochs 0: a deep model trains for at least 1 epoch");
                }
                if !matches!(self.balance, Balance::None | Balance::Class) {
                    bail!(
                        "--balance {}: deep models weight their loss by class only (--balance \
                         class)",
                        self.balance
                    );
                }
                if self.batch_size == 0 {
                    bail!("--batch-size 0: a batch holds at least 1 clip");
                }
                (self.normalize.unwrap_or(NormalizationMode::Global), None)
            }
            ModelChoice::Classic(kind) => {
                if self.svm_c.is_some() && kind != ModelKind::Svm {
                    bail!("--svm-c applies to --model svm only");
                }
                if self.normalize.is_some() {
                    bail!(
                        "--normalize applies to deep models only: classical models standardise \
                         their utterance statistics with training-side statistics themselves"
                    );
                }
                if self
                    .augment
                    .as_ref()
                    .is_some_and(|a| a.spec_augment.is_some())
                {
                    bail!(
                        "--spec-augment applies to deep models only (classical models read \
                         utterance statistics)"
                    );
                }
                (
                    NormalizationMode::None,
                    Some(self.pooling.unwrap_or(Pooling::MeanStd)),
                )
            }
        };
        ser_trainer::parse_device(&self.device).context("--device")?;
        self.feature_config()?;
        Ok((choice, mode, pooling))
    }

    /// Reads the corpus (and the test corpus of a cross-corpus run) and resolves the protocol.
    pub fn load_corpus(&self) -> Result<(Corpus, Protocol)> {
        let data: Vec<&Path> = self.data.iter().map(PathBuf::as_path).collect();
        let corpus = crate::load_corpus(&data, self.corpus)?;
        match &self.test_data {
            None => {
                let protocol = if self.protocol == "default" {
                    Protocol::default_for(corpus.kind)
                } else {
                    self.protocol
                        .parse::<Protocol>()
                        .map_err(|e| RunError::invalid(format!("--protocol: {e} (or default)")))?
                };
                Ok((corpus, protocol))
            }
            Some(test_dir) => {
                let train = corpus.kind;
                let combined = crate::load_corpus(&[data[0], test_dir.as_path()], self.corpus)?;
                let Some(test) = combined
                    .items
                    .iter()
                    .map(|u| u.corpus)
                    .find(|&k| k != train)
                else {
                    return Err(RunError::bad_input(test_dir, "no test utterances"));
                };
                let protocol = Protocol::CrossCorpus {
                    train,
                    test,
                    val_speakers: 2,
                };
                Ok((combined, protocol))
            }
        }
    }

    /// The corpus summary of `--summary`.
    pub fn summary(&self) -> Result<Summary> {
        let (corpus, protocol) = self.load_corpus()?;
        Ok(Summary::new(&corpus, Some(&protocol))?)
    }

    /// The default output folder, named after the model, features, preset, corpora, protocol
    /// and levers.
    fn default_out(
        &self,
        corpus: &Corpus,
        protocol: &Protocol,
        pooling: Option<Pooling>,
    ) -> PathBuf {
        let features = match pooling {
            Some(p) => format!("{}-{p}", self.features),
            None => self.features.to_string(),
        };
        let augmented = if self.augment.is_some() {
            "-augmented"
        } else {
            ""
        };
        let speaker = if self.speaker_norm { "-spknorm" } else { "" };
        let frames = self.frames.map(|f| format!("-f{f}")).unwrap_or_default();
        let corpora = if self.data.len() > 1 {
            let kinds: Vec<&str> = corpus.corpus_kinds().iter().map(|k| k.name()).collect();
            format!("-{}", kinds.join("+"))
        } else {
            String::new()
        };
        let balance = if self.balance == Balance::None {
            String::new()
        } else {
            format!("-balance-{}", self.balance)
        };
        PathBuf::from("results/runs").join(format!(
            "{}-{features}-{}{frames}{corpora}-{}{speaker}{balance}{augmented}",
            self.model,
            self.preset,
            protocol.name()
        ))
    }
}

/// How [`train`] runs: what it reports and when it stops.
#[derive(Debug, Clone, Default)]
pub struct TrainOptions {
    /// Progress bars and notes on standard error.
    pub progress: bool,
    /// Set to stop at the next safe point (a deep model saves a resumable checkpoint).
    pub interrupt: Option<Arc<AtomicBool>>,
    /// The command line stored in every run description and lock.
    pub command: String,
}

/// What a fold's training gave.
#[derive(Debug, Clone, PartialEq)]
pub struct FoldOutcome {
    /// 0-based fold.
    pub fold: usize,
    /// Its run folder.
    pub dir: PathBuf,
    /// Whether it was already trained (classical `--resume`).
    pub already_trained: bool,
    /// The trainer's own test score of a deep model (accuracy, UAR, best epoch, epochs).
    pub deep_test: Option<DeepTestScore>,
}

/// The test score the deep trainer reports at the end of training.
#[derive(Debug, Clone, PartialEq)]
pub struct DeepTestScore {
    /// Accuracy on the test side.
    pub accuracy: f64,
    /// UAR on the test side.
    pub uar: f64,
    /// The epoch whose weights were kept.
    pub best_epoch: usize,
    /// Epochs trained.
    pub epochs: usize,
    /// Why training stopped.
    pub stop: String,
}

/// What [`train`] produced.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOutcome {
    /// The output folder (the run itself for one split, the parent of `fold-N/` otherwise).
    pub out: PathBuf,
    /// The protocol trained.
    pub protocol: Protocol,
    /// Every trained fold.
    pub folds: Vec<FoldOutcome>,
    /// The evaluation of the test sides (`None` when the protocol has none, e.g. all-speakers).
    pub evaluation: Option<Evaluation>,
    /// Whether the model was classical.
    pub classic: bool,
}

/// Trains what `spec` describes: every selected fold, each written to its run folder, then the
/// evaluation of their test sides (per-fold files, and the aggregate when every fold of a
/// k-fold protocol was trained).
///
/// # Errors
/// An invalid spec (before any expensive work), an unreadable corpus, a run folder that holds
/// another run, a failed fit, an interruption ([`RunError::Interrupted`]; continue with
/// `resume`).
pub fn train(spec: &TrainSpec, options: &TrainOptions) -> Result<TrainOutcome> {
    let (choice, mode, pooling) = spec.validate()?;
    let (corpus, protocol) = spec.load_corpus()?;
    if let Some(warning) = protocol.leak_warning() {
        eprintln!("WARNING: {warning}");
    }
    let device = ser_trainer::parse_device(&spec.device).context("--device")?;
    let mut feature_config = spec.feature_config()?;
    let splits = protocol.splits(&corpus)?;
    let folds: Vec<usize> = match spec.fold {
        None => (0..splits.len()).collect(),
        Some(f) if f < splits.len() => vec![f],
        Some(f) => bail!(
            "--fold {}: the protocol {} has folds 1..={} (or \"all\")",
            f + 1,
            protocol.name(),
            splits.len()
        ),
    };
    let out = spec
        .out
        .clone()
        .unwrap_or_else(|| spec.default_out(&corpus, &protocol, pooling));
    let fold_dirs: Vec<PathBuf> = folds
        .iter()
        .map(|&f| fold_dir(&out, f, splits.len()))
        .collect();
    // One training at a time per run folder: two started into one at the same moment would
    // mix their files. Held until the end.
    let mut _locks = Vec::with_capacity(fold_dirs.len());
    for dir in &fold_dirs {
        let lock = ser_trainer::RunLock::acquire(dir, &options.command)?;
        if let Some(stale) = lock.stale() {
            eprintln!(
                "note: {}: took over the lock of a training that ended without releasing it \
                 ({})",
                dir.display(),
                stale.describe()
            );
        }
        _locks.push(lock);
    }
    for dir in &fold_dirs {
        if dir.join(RUN_INFO_FILE).exists() && !spec.resume {
            return Err(RunError::invalid(format!(
                "{}: already holds a run (use --resume to continue it, or another --out)",
                dir.display()
            )));
        }
    }

    // Measured once every cheap check has passed.
    let measured_band = spec.measure_band(&corpus, &protocol, &mut feature_config);
    if options.progress && !measured_band.is_empty() {
        let each: Vec<String> = measured_band
            .iter()
            .map(|b| format!("{} {:.0} Hz ({} files)", b.corpus, b.edge_hz, b.files))
            .collect();
        eprintln!(
            "band: measured {}; front end limits every input to {} Hz",
            each.join(", "),
            feature_config.band_hz().unwrap_or_default()
        );
    }
    let build = BuildOptions {
        cache_dir: spec.cache_dir.clone(),
        progress: options.progress,
    };
    let dataset = Dataset::build(corpus, &feature_config, &build)?;
    if options.progress {
        eprintln!("features: {}", dataset.report());
    }
    // Splits are recomputed on the dataset: files that failed to decode are now skipped.
    let splits = dataset.splits(&protocol)?;
    let interrupt = options
        .interrupt
        .clone()
        .unwrap_or_else(|| Arc::new(AtomicBool::new(false)));
    let mut outcomes = Vec::with_capacity(folds.len());
    for (&fold, dir) in folds.iter().zip(&fold_dirs) {
        let Some(split) = splits.get(fold) else {
            bail!("fold {} vanished after decoding", fold + 1);
        };
        if options.progress {
            eprintln!(
                "fold {}/{}: train {} ({} speakers), val {} ({}), test {} ({})",
                fold + 1,
                splits.len(),
                split.train.len(),
                split.train_speakers.len(),
                split.val.len(),
                split.val_speakers.len(),
                split.test.len(),
                split.test_speakers.len()
            );
        }
        let label_map = split.label_map()?;
        let normalizer = Normalizer::fit(mode, &dataset, split)?;
        let mut info = run_info(
            spec,
            &dataset,
            split,
            splits.len(),
            &protocol,
            normalizer,
            label_map,
            &options.command,
        );
        info.augment = spec.augment.clone();
        info.measured_band = measured_band.clone();
        if spec.resume && dir.join(RUN_INFO_FILE).exists() {
            RunInfo::load(dir)?.check_resumable(&info, dir)?;
        }
        let fold_spec = FoldSpec {
            spec,
            dataset: &dataset,
            split,
            augment: spec.augment.as_ref(),
            build: &build,
            progress: options.progress,
        };
        let outcome = match (choice, pooling) {
            (ModelChoice::Classic(kind), Some(pooling)) => {
                train_classic_fold(&fold_spec, kind, pooling, info, dir)?
            }
            (ModelChoice::Deep(preset), _) => {
                let outcome = train_deep_fold(&fold_spec, &device, preset, info, dir, &interrupt)?;
                if interrupt.load(Ordering::Relaxed) {
                    return Err(RunError::Interrupted {
                        dir: dir.to_owned(),
                    });
                }
                outcome
            }
            (ModelChoice::Classic(_), None) => bail!("a classical model needs a pooling"),
        };
        outcomes.push(outcome);
    }

    let evaluation = if splits.iter().all(|s| s.test.is_empty()) {
        None
    } else {
        // The test side of what was trained: per-fold files, and the aggregate for every fold.
        let target = match fold_dirs.as_slice() {
            [one] => one.clone(),
            _ => out.clone(),
        };
        let eval_options = EvalOptions {
            cache_dir: spec.cache_dir.clone(),
            progress: false,
            adapt: false,
        };
        Some(
            crate::eval::evaluate_on(&target, &eval_options, &dataset)
                .with_context(|| format!("cannot evaluate {}", target.display()))?,
        )
    };
    Ok(TrainOutcome {
        out,
        protocol,
        folds: outcomes,
        evaluation,
        classic: matches!(choice, ModelChoice::Classic(_)),
    })
}

impl RunInfo {
    /// Checks that `previous` (this, read from `dir`) is the run `next` would write, so that
    /// `--resume` continues it rather than mixing two runs.
    pub fn check_resumable(&self, next: &RunInfo, dir: &Path) -> Result<()> {
        self.compatibility(next, &RunField::RESUME)
            .map_err(|mismatch| {
                RunError::invalid(format!(
                    "{}: holds a different run ({mismatch}, the folder's first); cannot resume",
                    dir.display()
                ))
            })
    }
}

/// The run description of one fold.
#[allow(clippy::too_many_arguments)]
fn run_info(
    spec: &TrainSpec,
    dataset: &Dataset,
    split: &Split,
    n_folds: usize,
    protocol: &Protocol,
    normalizer: Normalizer,
    label_map: LabelMap,
    command: &str,
) -> RunInfo {
    let names = |speakers: &[ser_data::SpeakerId]| {
        speakers
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    RunInfo {
        format_version: RUN_INFO_VERSION,
        model: spec.model.clone(),
        // Absolute, so that ser-eval finds the corpus from any working folder.
        data_dir: absolute(&spec.data[0]),
        extra_data_dirs: spec.data[1..].iter().map(|d| absolute(d)).collect(),
        test_data_dir: spec.test_data.as_ref().map(|d| absolute(d)),
        feature_config: dataset.config().clone(),
        feature_set: spec.features,
        normalizer,
        label_map,
        protocol: protocol.clone(),
        fold: split.fold,
        n_folds,
        train_speakers: names(&split.train_speakers),
        val_speakers: names(&split.val_speakers),
        test_speakers: names(&split.test_speakers),
        seed: spec.seed,
        leak_warning: protocol.leak_warning().map(str::to_owned),
        command: command.to_owned(),
        augment: None,
        training_time_s: None,
        measured_band: Vec::new(),
    }
}

/// `dir` made absolute where it can be, so that ser-eval finds it from any working folder.
fn absolute(dir: &Path) -> PathBuf {
    dir.canonicalize().unwrap_or_else(|_| dir.to_owned())
}

/// The loss weight of each class for `--balance class` (every class present the same total
/// weight, as [`Balance::Class`] weights samples; `None` otherwise).
pub fn class_weights(
    balance: Balance,
    labels: &[usize],
    n_classes: usize,
) -> Result<Option<Vec<f32>>> {
    if balance != Balance::Class {
        return Ok(None);
    }
    let weights = balance.sample_weights::<u8>(labels, &[])?;
    let mut per_class = vec![1.0_f32; n_classes];
    for (&label, &w) in labels.iter().zip(&weights) {
        if let Some(slot) = per_class.get_mut(label) {
            *slot = w as f32;
        }
    }
    Ok(Some(per_class))
}

/// One fold of a training: the spec, the dataset and split it trains on.
#[derive(Debug, Clone, Copy)]
pub struct FoldSpec<'a> {
    /// The training spec.
    pub spec: &'a TrainSpec,
    /// The features of the whole corpus.
    pub dataset: &'a Dataset,
    /// The fold's split.
    pub split: &'a Split,
    /// Training-side augmentation.
    pub augment: Option<&'a AugmentConfig>,
    /// Where augmented copies are cached.
    pub build: &'a BuildOptions,
    /// Notes on standard error.
    pub progress: bool,
}

impl FoldSpec<'_> {
    /// Waveform-augmented copies of the training side, when asked for.
    fn augmented(&self) -> Result<Option<AugmentedSet>> {
        let Some(config) = self.augment.filter(|c| c.has_waveform()) else {
            return Ok(None);
        };
        let set = self
            .dataset
            .augment_training(self.split, config, self.spec.seed, self.build)?;
        if self.progress {
            eprintln!(
                "augmentation: {} copies of {} training clips ({})",
                set.len(),
                self.split.train.len(),
                set.report
            );
        }
        Ok(Some(set))
    }

    fn label(&self, label_map: &LabelMap, i: usize) -> Result<usize> {
        let emotion = self.dataset.emotion(i)?;
        label_map
            .index_of(emotion)
            .ok_or_else(|| RunError::invalid(format!("{emotion} is not in the label map")))
    }

    fn utterance(&self, i: usize) -> Result<&ser_data::Utterance> {
        self.dataset
            .corpus()
            .items
            .get(i)
            .ok_or_else(|| RunError::invalid(format!("utterance {i} is not in the corpus")))
    }
}

/// Fits a classical model on the training and validation speakers of the fold (its
/// hyper-parameters are scikit-learn's defaults, so no speakers are needed for tuning) and
/// saves it with its run description.
pub fn train_classic_fold(
    fold: &FoldSpec<'_>,
    kind: ModelKind,
    pooling: Pooling,
    mut info: RunInfo,
    dir: &Path,
) -> Result<FoldOutcome> {
    let (spec, dataset, split) = (fold.spec, fold.dataset, fold.split);
    let outcome = FoldOutcome {
        fold: split.fold,
        dir: dir.to_owned(),
        already_trained: false,
        deep_test: None,
    };
    if spec.resume && dir.join(ser_classic::MODEL_FILE_NAME).is_file() {
        return Ok(FoldOutcome {
            already_trained: true,
            ..outcome
        });
    }
    let augmented = fold.augmented()?;
    let start = Instant::now();
    let features = FeatureSpec::new(dataset.config().clone(), spec.features, pooling);
    let mut config = ClassicConfig::new(kind.default_config(), features.clone());
    config.speaker_norm = spec.speaker_norm;
    config.balance = spec.balance;
    // Behind the robust front end, bounded standardised statistics (see
    // ser_classic::Standardizer); the original's features keep scikit-learn's scaling.
    if dataset.config().front_end.is_some() {
        config.clip_standardized = Some(ser_classic::STANDARDIZED_CLIP);
    }
    config.class_names = info
        .label_map
        .names()
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let indices: Vec<usize> = split.train.iter().chain(&split.val).copied().collect();
    let mut x = Vec::with_capacity(indices.len());
    let mut y = Vec::with_capacity(indices.len());
    for &i in &indices {
        x.push(features.pool_slice(dataset.features(i)?, None)?);
        y.push(fold.label(&info.label_map, i)?);
    }
    // The speaker of each original utterance, for speaker normalisation and the choice of C:
    // each speaker's statistics come from their original utterances; augmented copies are
    // normalised with the statistics of their source's speaker.
    let speakers = indices
        .iter()
        .map(|&i| Ok(fold.utterance(i)?.speaker.as_str()))
        .collect::<Result<Vec<_>>>()?;
    // The corpus of each sample, for --balance corpus / corpus-class.
    let mut corpora = indices
        .iter()
        .map(|&i| Ok(fold.utterance(i)?.corpus))
        .collect::<Result<Vec<_>>>()?;
    let normalizer = if spec.speaker_norm {
        let normalizer = SpeakerNormalizer::normalize_in_place(&mut x, &speakers)
            .with_context(|| format!("fold {}: speaker normalisation", split.fold + 1))?;
        Some(normalizer)
    } else {
        None
    };
    if matches!(config.model, ser_classic::ModelConfig::Svm(_)) {
        let c = match spec.svm_c.unwrap_or(SvmC::Fixed(1.0)) {
            SvmC::Fixed(c) => c,
            SvmC::Auto => {
                let selection = ser_classic::select_svm_c_balanced(
                    &x,
                    &y,
                    &speakers,
                    &corpora,
                    &config,
                    &ser_classic::SVM_C_GRID,
                    // Fewer folds when there are fewer speakers (tiny corpora).
                    ser_classic::DEFAULT_INNER_FOLDS.min(
                        speakers
                            .iter()
                            .collect::<std::collections::BTreeSet<_>>()
                            .len(),
                    ),
                    spec.seed,
                )
                .with_context(|| format!("fold {}: choosing the SVM's C", split.fold + 1))?;
                if fold.progress {
                    let scores: Vec<String> = selection
                        .scores
                        .iter()
                        .map(|(c, uar)| format!("C {c}: {uar:.3}"))
                        .collect();
                    eprintln!(
                        "fold {}: C = {} by {}-fold cross-validation over the training \
                         speakers (UAR {})",
                        split.fold + 1,
                        selection.best_c,
                        selection.n_folds,
                        scores.join(", ")
                    );
                }
                selection.best_c
            }
        };
        if let ser_classic::ModelConfig::Svm(svm) = &mut config.model {
            svm.c = c;
        }
    }
    // Augmented copies of training utterances join the training set.
    if let Some(set) = &augmented {
        for (k, &source) in set.source.iter().enumerate() {
            let Some(copy) = set.features(k) else {
                bail!("augmented copy {k} is missing");
            };
            let pooled = features.pool_slice(copy, None)?;
            x.push(match &normalizer {
                Some(normalizer) => {
                    normalizer.apply(fold.utterance(source)?.speaker.as_str(), &pooled)?
                }
                None => pooled,
            });
            y.push(fold.label(&info.label_map, source)?);
            corpora.push(fold.utterance(source)?.corpus);
        }
    }
    let model = ClassicModel::fit_balanced(&x, &y, &corpora, &config, spec.seed)
        .with_context(|| format!("cannot fit {kind} on fold {}", split.fold + 1))?;
    let seconds = start.elapsed().as_secs_f64();
    if fold.progress {
        eprintln!(
            "fold {}: {kind} fitted on {} utterances x {} values in {seconds:.1} s",
            split.fold + 1,
            x.len(),
            model.n_features()
        );
    }
    model.save(dir)?;
    info.training_time_s = Some(seconds);
    // The description comes last: a folder with one always holds a complete model.
    info.save(dir)?;
    Ok(outcome)
}

/// Builds the network's datasets (through [`crate::DeepInput`], the transform inference
/// applies too) and trains it.
pub fn train_deep_fold(
    fold: &FoldSpec<'_>,
    device: &ser_trainer::Device,
    preset: ModelPreset,
    info: RunInfo,
    dir: &Path,
    interrupt: &Arc<AtomicBool>,
) -> Result<FoldOutcome> {
    let (spec, dataset, split) = (fold.spec, fold.dataset, fold.split);
    let augmented = fold.augmented()?;
    let masker = match fold.augment.and_then(|a| a.spec_augment.as_ref()) {
        None => None,
        Some(config) => Some(Arc::new(SpecMasker::new(
            config,
            spec.seed,
            split,
            augmented.as_ref(),
        )?) as Arc<dyn InputMasker>),
    };
    let label_map = &info.label_map;
    let input = crate::DeepInput::of(&info);
    let n_frames = dataset.n_frames();
    let make = |name: &str, indices: &[usize]| -> Result<ser_trainer::Dataset> {
        let mut values = Vec::with_capacity(indices.len() * input.n_rows() * n_frames);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            values.extend_from_slice(&input.apply(dataset.matrix(i)?)?);
            labels.push(fold.label(label_map, i)?);
        }
        if let Some(set) = augmented.as_ref().filter(|_| name == "train") {
            for (k, &source) in set.source.iter().enumerate() {
                let Some(data) = set.features(k) else {
                    bail!("augmented copy {k} is missing");
                };
                let m = ser_features::FeatureMatrix {
                    n_rows: set.n_rows,
                    n_frames,
                    data: data.to_vec(),
                };
                values.extend_from_slice(&input.apply(m)?);
                labels.push(fold.label(label_map, source)?);
            }
        }
        Ok(ser_trainer::Dataset::from_parts(
            name,
            input.n_rows(),
            n_frames,
            values,
            labels,
        )?)
    };
    let train = make("train", &split.train)?;
    let val = make("val", &split.val)?;
    let test = make("test", &split.test)?;
    info.save(dir)?;

    let model_config = ModelConfig::preset(preset, input.n_rows(), label_map.len());
    let config = TrainConfig {
        max_epochs: spec.epochs,
        batch_size: spec.batch_size,
        learning_rate: spec.lr,
        label_smoothing: spec.label_smoothing,
        early_stopping: if spec.patience == 0 {
            None
        } else {
            TrainConfig::default().early_stopping.map(|mut e| {
                e.patience = spec.patience;
                e
            })
        },
        seed: spec.seed,
        class_weights: class_weights(spec.balance, train.labels(), label_map.len())?,
        ..TrainConfig::default()
    };
    let extra = serde_json::to_value(&info).map_err(|source| RunError::Json {
        what: "the run description",
        source,
    })?;
    let mut trainer = Trainer::new(model_config, config)
        .with_device(device.clone())
        .with_extra_meta(extra)
        .with_interrupt(interrupt.clone());
    if let Some(masker) = masker {
        trainer = trainer.with_input_masker(masker);
    }
    if val.is_empty() && test.is_empty() {
        bail!(
            "fold {}: no validation and no test speakers to select the best epoch on",
            split.fold + 1
        );
    }
    let val_opt = if val.is_empty() { &test } else { &val };
    let outcome = trainer.fit(
        dir,
        &Splits {
            train: &train,
            val: val_opt,
            test: (!test.is_empty()).then_some(&test),
        },
        spec.resume,
    )?;
    let deep_test = outcome.test.as_ref().map(|test| DeepTestScore {
        accuracy: test.accuracy,
        uar: test.uar,
        best_epoch: outcome.best.as_ref().map_or(0, |b| b.epoch),
        epochs: outcome.history.len(),
        stop: format!("{:?}", outcome.stop),
    });
    Ok(FoldOutcome {
        fold: split.fold,
        dir: dir.to_owned(),
        already_trained: false,
        deep_test,
    })
}

/// SpecAugment masks for the training items of a fold: its training utterances, then their
/// augmented copies (the order [`train_deep_fold`] builds them in).
#[derive(Debug)]
struct SpecMasker {
    augmenter: SpecAugmenter,
    split: Split,
    /// Training item -> (utterance, 0 for the original or copy + 1).
    items: Vec<(usize, usize)>,
}

impl SpecMasker {
    fn new(
        config: &SpecAugmentConfig,
        seed: u64,
        split: &Split,
        augmented: Option<&AugmentedSet>,
    ) -> Result<SpecMasker> {
        let mut items: Vec<(usize, usize)> = split.train.iter().map(|&u| (u, 0)).collect();
        if let Some(set) = augmented {
            items.extend(set.source.iter().zip(&set.copy).map(|(&u, &c)| (u, c + 1)));
        }
        Ok(SpecMasker {
            augmenter: SpecAugmenter::new(config, seed)?,
            split: split.clone(),
            items,
        })
    }
}

impl InputMasker for SpecMasker {
    fn mask(
        &self,
        item: usize,
        epoch: usize,
        n_features: usize,
        n_frames: usize,
        mask: &mut [f32],
    ) {
        if let Some(&(utterance, copy)) = self.items.get(item) {
            // Each copy of an utterance draws masks of its own: its epoch key is offset.
            let key = epoch + copy * 1_000_000;
            // Cannot fail: every item is a training utterance and the trainer sizes `mask`.
            let _ = self
                .augmenter
                .apply(&self.split, utterance, key, mask, n_features, n_frames);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resuming_a_different_run_names_the_folder_and_the_field() {
        let previous = crate::tests::info();
        let mut next = crate::tests::info();
        assert!(previous.check_resumable(&next, Path::new("runs/x")).is_ok());
        next.feature_set = FeatureSet::MelDb;
        let err = previous
            .check_resumable(&next, Path::new("runs/x"))
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::BadInput);
        assert_eq!(
            err.to_string(),
            "runs/x: holds a different run (different feature set: full vs mel-db, the \
             folder's first); cannot resume"
        );
    }

    #[test]
    fn a_spec_round_trips_through_json_and_missing_fields_take_the_defaults() {
        let mut spec = TrainSpec::new(vec!["a".into(), "b".into()], "svm");
        spec.svm_c = Some(SvmC::Auto);
        spec.pooling = Some(Pooling::Stats);
        spec.fold = None;
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(serde_json::from_str::<TrainSpec>(&json).unwrap(), spec);
        let partial: TrainSpec =
            serde_json::from_str(r#"{"data": ["x"], "model": "mlp"}"#).unwrap();
        assert_eq!(partial, TrainSpec::new(vec!["x".into()], "mlp"));
        assert!(serde_json::from_str::<TrainSpec>(r#"{"modle": "mlp"}"#).is_err());
    }

    #[test]
    fn impossible_combinations_are_refused_before_any_work() {
        let deep_with_pooling = TrainSpec {
            pooling: Some(Pooling::Stats),
            ..TrainSpec::new(vec!["x".into()], "gru")
        };
        let e = deep_with_pooling.validate().unwrap_err().to_string();
        assert!(e.contains("--pooling"), "{e}");
        let svm_c_on_mlp = TrainSpec {
            svm_c: Some(SvmC::Fixed(2.0)),
            ..TrainSpec::new(vec!["x".into()], "mlp")
        };
        assert!(svm_c_on_mlp.validate().is_err());
        let no_data = TrainSpec::new(Vec::new(), "svm");
        assert!(no_data.validate().is_err());
        let ok = TrainSpec::new(vec!["x".into()], "svm").validate().unwrap();
        assert_eq!(ok.0, ModelChoice::Classic(ModelKind::Svm));
        assert_eq!(ok.2, Some(Pooling::MeanStd));
        assert_eq!("auto".parse::<SvmC>().unwrap(), SvmC::Auto);
        assert!("-1".parse::<SvmC>().is_err());
        assert!("nan".parse::<SvmC>().is_err());
    }

    #[test]
    fn fold_folders_are_named_once() {
        assert_eq!(crate::fold_number(&crate::fold_dir_name(9)), Some(10));
        assert_eq!(crate::fold_number("fold-x"), None);
        assert_eq!(fold_dir(Path::new("out"), 0, 1), Path::new("out"));
        assert_eq!(fold_dir(Path::new("out"), 2, 6), Path::new("out/fold-3"));
    }
}
