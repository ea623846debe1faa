//! Evaluation of trained run folders (`ser-eval`): predictions on each fold's test side,
//! metrics, plots, k-fold aggregates and comparisons of several runs.
//!
//! Files written into an evaluated fold folder:
//!
//! | file | content |
//! |---|---|
//! | `metrics.json` | [`MetricsFile::Fold`]: the `ser-metrics` report plus model, protocol, fold, leak warning |
//! | `report.txt` | the classification report (sklearn layout) |
//! | `predictions.csv` | path, true label, predicted label, one probability column per class; per corpus, a last column `corpus` (`ravdess`, `emodb`, `tess`) |
//! | `confusion_matrix.{png,svg}`, `roc.{png,svg}`, `training_curves.{png,svg}` | plots |
//! | `per-corpus.csv` | per corpus only: `corpus,n_clips,accuracy,uar,macro_f1,n_classes,classes` (`classes`: `;`-separated, those UAR and macro-F1 average over) |
//! | `confusion_matrix-<corpus>.{png,svg}` | per corpus only: the confusion matrix of that corpus's test clips |
//!
//! An evaluation is **per corpus** when the evaluated corpus is [`CorpusKind::Mixed`] (several
//! corpus folders combined, e.g. a cross-corpus run) or its test side spans several corpora:
//! `metrics.json` then also holds `per_corpus` ([`CorpusMetrics`] of each corpus on the test
//! side, see [`per_corpus_metrics`]), `report.txt` and the summary a line per corpus. A
//! single-corpus evaluation has none of these: its files are unchanged.
//!
//! A k-fold parent folder (holding `fold-N/` run folders) additionally gets the aggregate:
//! `metrics.json` ([`MetricsFile::CrossValidation`]: per-fold reports, mean ± population std,
//! pooled report), `report.txt`, and pooled `confusion_matrix` and `roc` plots; per corpus also
//! `per_corpus` in `metrics.json` ([`CorpusAggregate`]: mean ± population std over the folds
//! that test the corpus, and the pooled figures of all its test clips), `per-corpus.csv`
//! (`corpus,n_folds,accuracy_mean,accuracy_std,uar_mean,uar_std,macro_f1_mean,macro_f1_std,`
//! `pooled_n_clips,pooled_accuracy,pooled_uar,pooled_macro_f1,n_classes,classes`) and pooled
//! `confusion_matrix-<corpus>` plots.
//!
//! [`compare`] writes `comparison.md`, `comparison.csv` and `comparison.{png,svg}`; the last
//! column of the tables is the UAR of each corpus (mean over the folds testing it), empty for
//! single-corpus runs.
//! Every file is written atomically.
//!
//! An adapted evaluation (`ser-eval --adapt`, [`EvalOptions::adapt`]: each test speaker's inputs
//! standardised with that speaker's statistics, labels unused, see [`crate::adapt`]) writes the
//! same files into the `adapted/` sub-folder of every evaluated folder instead, and
//! `adaptation.json` ([`crate::adapt::Adaptation`]) beside each fold's; the plain evaluation is
//! left as it is.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::Result;
use crate::error::ResultExt as _;
use crate::error::bail;
use ser_data::{BuildOptions, CorpusKind, Dataset, LabelMap};
use ser_features::FeatureConfig;
use ser_metrics::{
    ClassScores, ConfusionMatrix, CrossValidationReport, FoldPredictions, Report, Scores,
    macro_average,
};
use ser_plot::{MeanStd, ModelComparison, ModelScores, OutputPaths, TrainingHistory};
use ser_trainer::run::HISTORY_FILE;
use serde::{Deserialize, Serialize};

use crate::csv_text::CsvText;
use crate::{Classifier, RUN_INFO_FILE, RunError, RunInfo, write_atomic};

/// Metrics file name (per fold and for the k-fold aggregate).
pub const METRICS_FILE: &str = "metrics.json";
/// Classification report file name.
pub const REPORT_FILE: &str = "report.txt";
/// Per-utterance predictions file name.
pub const PREDICTIONS_FILE: &str = "predictions.csv";
/// Stem of the confusion-matrix plot (`confusion_matrix-<corpus>` per corpus).
pub const CONFUSION_STEM: &str = "confusion_matrix";
/// Per-corpus figures of a multi-corpus evaluation (fold and k-fold parent folders).
pub const PER_CORPUS_FILE: &str = "per-corpus.csv";
/// Stem of the ROC plot.
pub const ROC_STEM: &str = "roc";
/// Stem of the training-curves plot.
pub const TRAINING_CURVES_STEM: &str = "training_curves";
/// Stem of the comparison table and chart (`.md`, `.csv`, `.png`, `.svg`).
pub const COMPARISON_STEM: &str = "comparison";
/// Version of the `metrics.json` layout written here.
pub const METRICS_VERSION: u32 = 1;

/// How to rebuild the test utterances' features.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalOptions {
    /// Feature cache folder; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// Report feature-extraction progress on stderr.
    pub progress: bool,
    /// Adapt the test side to itself, per test speaker and without labels (`ser-eval
    /// --adapt`, see [`crate::adapt`]); the outputs then go to the `adapted/` sub-folder of
    /// each evaluated folder ([`crate::adapt::ADAPTED_DIR`]), beside the plain evaluation.
    pub adapt: bool,
}

impl Default for EvalOptions {
    /// The default feature cache of the workspace, with progress.
    fn default() -> Self {
        let build = BuildOptions::default();
        EvalOptions {
            cache_dir: build.cache_dir,
            progress: build.progress,
            adapt: false,
        }
    }
}

/// What a run description says about a run, for tables and file headers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunLabel {
    /// The model name given to `ser-train --model`.
    pub model: String,
    /// Feature set and preset, e.g. `full/seed`.
    pub features: String,
    /// Protocol name.
    pub protocol: String,
    /// Folds of the protocol.
    pub n_folds: usize,
    /// Set when the protocol leaks speakers.
    pub leak_warning: Option<String>,
}

impl RunLabel {
    /// The label of a run description.
    pub fn of(info: &RunInfo) -> RunLabel {
        RunLabel {
            model: info.model.clone(),
            features: format!("{}/{}", info.feature_set, preset_name(&info.feature_config)),
            protocol: info.protocol.name(),
            n_folds: info.n_folds,
            leak_warning: info.leak_warning.clone(),
        }
    }
}

/// Name of the feature preset a configuration equals, `custom` otherwise.
pub fn preset_name(config: &FeatureConfig) -> &'static str {
    config.preset_name().unwrap_or("custom")
}

/// Content of `metrics.json` of one fold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldMetrics {
    /// Layout version ([`METRICS_VERSION`]).
    pub format_version: u32,
    /// The run folder evaluated.
    pub run_dir: PathBuf,
    /// Model, features, protocol, leak warning.
    #[serde(flatten)]
    pub label: RunLabel,
    /// The fold, 1-based.
    pub fold: usize,
    /// Test speakers.
    pub test_speakers: Vec<String>,
    /// Total training wall-clock time (sum of `history.csv`'s `duration_s`), if known.
    pub training_time_s: Option<f64>,
    /// Epochs trained.
    pub epochs: usize,
    /// Every metric of the test side.
    pub report: Report,
    /// The figures of each corpus on the test side, for an evaluation of several corpora
    /// ([`per_corpus_metrics`]); absent for a single corpus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_corpus: Option<Vec<CorpusMetrics>>,
}

/// Content of `metrics.json` of a k-fold parent folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossValidationMetrics {
    /// Layout version ([`METRICS_VERSION`]).
    pub format_version: u32,
    /// The parent folder evaluated.
    pub run_dir: PathBuf,
    /// Model, features, protocol, leak warning (of the first fold).
    #[serde(flatten)]
    pub label: RunLabel,
    /// The folds evaluated, 1-based.
    pub folds: Vec<usize>,
    /// Training time of each evaluated fold, seconds, if known.
    pub fold_training_time_s: Vec<Option<f64>>,
    /// Per-fold reports, mean ± population std, pooled report.
    pub cross_validation: CrossValidationReport,
    /// Each corpus on the test side of some fold, over its folds and pooled, for an evaluation
    /// of several corpora ([`aggregate_per_corpus`]); absent for a single corpus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_corpus: Option<Vec<CorpusAggregate>>,
}

/// The figures of the test clips of one corpus, in an evaluation of several corpora.
///
/// All of them are the `ser-metrics` implementations applied to the confusion matrix of this
/// corpus's clips alone, over the run's whole label map:
///
/// - `accuracy`: clips predicted correctly / clips of the corpus.
/// - `uar`: [`ser_metrics::unweighted_average_recall`] (the one UAR of the workspace, as in
///   [`Report::uar`]): the mean recall over the classes that occur in **this corpus's ground
///   truth** only. A class of the label map that the corpus lacks (TESS has no `calm`, EmoDB no
///   `surprised`) has no recall and is skipped, not counted as 0; a clip predicted as such a
///   class still counts, as a miss of its true class.
/// - `macro_f1`: [`ser_metrics::macro_average`] of the F1 scores of the same classes (listed in
///   `classes`), for the same reason (sklearn's macro average over the whole label map would
///   count each absent class as an F1 of 0).
///
/// When a corpus has every class of the label map, these equal the [`Report`]'s accuracy, UAR
/// and macro-F1 of its clips.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorpusMetrics {
    /// The corpus.
    pub corpus: CorpusKind,
    /// Test clips of the corpus.
    pub n_clips: u64,
    /// Fraction of them predicted correctly.
    pub accuracy: f64,
    /// Unweighted average recall over the classes in `classes`.
    pub uar: f64,
    /// Mean F1 over the classes in `classes`.
    pub macro_f1: f64,
    /// The classes of the label map that occur in the corpus's ground truth, in label-map
    /// order: those `uar` and `macro_f1` average over.
    pub classes: Vec<String>,
    /// Counts, `confusion_matrix[true][predicted]`, over the run's label map (the rows of the
    /// classes the corpus lacks are zeros).
    pub confusion_matrix: ConfusionMatrix,
}

impl CorpusMetrics {
    /// The figures of one corpus from the confusion matrix of its clips over `class_names` (the
    /// run's label map).
    ///
    /// # Errors
    /// Those of [`Report::from_confusion`]: names that do not fit the matrix, an empty matrix.
    pub fn from_confusion<S: AsRef<str>>(
        corpus: CorpusKind,
        confusion_matrix: ConfusionMatrix,
        class_names: &[S],
    ) -> Result<CorpusMetrics> {
        let report = Report::from_confusion(confusion_matrix, class_names)
            .with_context(|| format!("cannot compute the metrics of the {corpus} test clips"))?;
        let (classes, present): (Vec<String>, Vec<ClassScores>) = report
            .per_class
            .iter()
            .filter(|(_, s)| s.support > 0)
            .map(|(name, s)| (name.to_owned(), *s))
            .unzip();
        Ok(CorpusMetrics {
            corpus,
            n_clips: report.n_samples,
            accuracy: report.accuracy,
            uar: report.uar,
            macro_f1: macro_average(&present).f1,
            classes,
            confusion_matrix: report.confusion_matrix,
        })
    }

    /// Accuracy, UAR and macro-F1.
    pub fn scalars(&self) -> CorpusScalars {
        CorpusScalars {
            accuracy: self.accuracy,
            uar: self.uar,
            macro_f1: self.macro_f1,
        }
    }
}

/// Accuracy, UAR and macro-F1 of one corpus (see [`CorpusMetrics`]).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct CorpusScalars {
    /// Accuracy.
    pub accuracy: f64,
    /// UAR over the corpus's classes.
    pub uar: f64,
    /// Macro-F1 over the corpus's classes.
    pub macro_f1: f64,
}

/// One corpus over the folds of a k-fold evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorpusAggregate {
    /// The corpus.
    pub corpus: CorpusKind,
    /// The folds (1-based) whose test side holds clips of the corpus: those behind `mean` and
    /// `std`.
    pub folds: Vec<usize>,
    /// Mean of the per-fold figures over those folds.
    pub mean: CorpusScalars,
    /// Population standard deviation (`ddof = 0`, as the rest of the aggregate) over them.
    pub std: CorpusScalars,
    /// The figures of all the corpus's test clips of those folds together (the sum of their
    /// confusion matrices).
    pub pooled: CorpusMetrics,
}

/// The per-corpus figures of a test side: one [`CorpusMetrics`] per corpus present, in
/// [`CorpusKind`] order. `None` for a single-corpus evaluation: `mixed` (the evaluated corpus is
/// [`CorpusKind::Mixed`]) is false and every clip comes from the same corpus.
///
/// `corpora`, `y_true` and `y_pred` hold one entry per test clip; labels index `class_names`.
///
/// # Errors
/// Lengths that differ, labels out of range.
pub fn per_corpus_metrics<S: AsRef<str>>(
    mixed: bool,
    corpora: &[CorpusKind],
    y_true: &[usize],
    y_pred: &[usize],
    class_names: &[S],
) -> Result<Option<Vec<CorpusMetrics>>> {
    if corpora.len() != y_true.len() || y_true.len() != y_pred.len() {
        bail!(
            "per-corpus metrics of {} corpus names, {} true labels and {} predictions",
            corpora.len(),
            y_true.len(),
            y_pred.len()
        );
    }
    let mut kinds = corpora.to_vec();
    kinds.sort_unstable();
    kinds.dedup();
    if !mixed && kinds.len() < 2 {
        return Ok(None);
    }
    kinds
        .into_iter()
        .map(|kind| {
            let (truth, predicted): (Vec<usize>, Vec<usize>) = corpora
                .iter()
                .zip(y_true.iter().zip(y_pred))
                .filter(|(c, _)| **c == kind)
                .map(|(_, (&t, &p))| (t, p))
                .unzip();
            let cm = ConfusionMatrix::from_labels(&truth, &predicted, class_names.len())
                .with_context(|| format!("cannot count the {kind} test clips"))?;
            CorpusMetrics::from_confusion(kind, cm, class_names)
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// Aggregates per-corpus figures over folds, given `(fold, its per-corpus figures)` for every
/// evaluated fold (1-based): for each corpus, the mean ± population std over the folds that
/// test it and the pooled figures of all its clips, in [`CorpusKind`] order.
///
/// # Errors
/// Confusion matrices or class names of different sizes.
pub fn aggregate_per_corpus<S: AsRef<str>>(
    folds: &[(usize, &[CorpusMetrics])],
    class_names: &[S],
) -> Result<Vec<CorpusAggregate>> {
    let mut by_corpus: BTreeMap<CorpusKind, Vec<(usize, &CorpusMetrics)>> = BTreeMap::new();
    for (fold, metrics) in folds {
        for m in *metrics {
            by_corpus.entry(m.corpus).or_default().push((*fold, m));
        }
    }
    by_corpus
        .into_iter()
        .map(|(corpus, entries)| {
            let mut pooled: Option<ConfusionMatrix> = None;
            for (_, m) in &entries {
                pooled = Some(match pooled {
                    None => m.confusion_matrix.clone(),
                    Some(p) => p.try_add(&m.confusion_matrix).with_context(|| {
                        format!("cannot pool the {corpus} test clips of the folds")
                    })?,
                });
            }
            let pooled = pooled.context("a corpus without folds")?;
            let stat = |get: fn(&CorpusMetrics) -> f64| {
                population_mean_std(&entries.iter().map(|(_, m)| get(m)).collect::<Vec<_>>())
            };
            let (accuracy, uar, macro_f1) =
                (stat(|m| m.accuracy), stat(|m| m.uar), stat(|m| m.macro_f1));
            Ok(CorpusAggregate {
                corpus,
                folds: entries.iter().map(|(f, _)| *f).collect(),
                mean: CorpusScalars {
                    accuracy: accuracy.mean,
                    uar: uar.mean,
                    macro_f1: macro_f1.mean,
                },
                std: CorpusScalars {
                    accuracy: accuracy.std,
                    uar: uar.std,
                    macro_f1: macro_f1.std,
                },
                pooled: CorpusMetrics::from_confusion(corpus, pooled, class_names)?,
            })
        })
        .collect()
}

/// Mean and population standard deviation (`ddof = 0`) of some values (zeros for none).
fn population_mean_std(values: &[f64]) -> MeanStd {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    MeanStd {
        mean,
        std: var.sqrt(),
    }
}

/// A `metrics.json` written by [`evaluate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[allow(clippy::large_enum_variant)]
pub enum MetricsFile {
    /// One fold's test side.
    Fold(FoldMetrics),
    /// The aggregate of a k-fold parent folder.
    CrossValidation(CrossValidationMetrics),
}

/// A published aggregate (`results/models/<row>/metrics.json`) keeps every figure and AUC but
/// not the ROC curve points: `cargo xtask results` removes them and puts a note in place of
/// `points`. Such a file reads back with empty curves (AUCs kept), so that it can be compared.
/// Returns whether anything was restored.
fn restore_published_curves(v: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    let mut restored = false;
    match v {
        Value::Object(map) => {
            let stripped = matches!(
                map.get("points"),
                Some(Value::String(s)) if s != "drop_intermediate" && s != "all"
            );
            if stripped {
                let classes: serde_json::Map<String, Value> = map
                    .get("auc")
                    .and_then(Value::as_object)
                    .map(|m| m.keys().map(|k| (k.clone(), Value::Null)).collect())
                    .unwrap_or_default();
                let micro_auc = map.get("micro_auc").cloned().unwrap_or(Value::Null);
                map.insert("points".to_owned(), "drop_intermediate".into());
                map.entry("per_class").or_insert(Value::Object(classes));
                map.entry("micro").or_insert(serde_json::json!({
                    "fpr": [], "tpr": [], "thresholds": [], "auc": micro_auc
                }));
                map.entry("macro_curve").or_insert(Value::Null);
                restored = true;
            }
            for value in map.values_mut() {
                restored |= restore_published_curves(value);
            }
        }
        Value::Array(items) => {
            for value in items {
                restored |= restore_published_curves(value);
            }
        }
        _ => {}
    }
    restored
}

impl MetricsFile {
    /// Reads `metrics.json` of a folder (a published aggregate too, see
    /// [`restore_published_curves`]).
    pub fn load(dir: &Path) -> Result<MetricsFile> {
        let path = dir.join(METRICS_FILE);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let corrupted = || {
            format!(
                "{}: corrupted metrics file (delete it and run ser-eval again)",
                path.display()
            )
        };
        let file: MetricsFile = match serde_json::from_str(&text) {
            Ok(file) => file,
            Err(e) => {
                // A published aggregate? (Through a JSON value, whose objects come back in
                // name order: per-class entries then follow the names, not `class_names`,
                // which no comparison figure depends on.)
                let mut value: serde_json::Value =
                    serde_json::from_str(&text).with_context(corrupted)?;
                if !restore_published_curves(&mut value) {
                    return Err(RunError::from(e)).with_context(corrupted);
                }
                serde_json::from_value(value).with_context(corrupted)?
            }
        };
        let version = match &file {
            MetricsFile::Fold(m) => m.format_version,
            MetricsFile::CrossValidation(m) => m.format_version,
        };
        if version != METRICS_VERSION {
            bail!(
                "{}: format version {version} (this build reads {METRICS_VERSION})",
                path.display()
            );
        }
        Ok(file)
    }

    /// One row of a comparison table.
    pub fn summary(&self) -> Result<Summary> {
        let mean_std = |values: &[f64]| -> MeanStd {
            let n = values.len().max(1) as f64;
            let mean = values.iter().sum::<f64>() / n;
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            MeanStd {
                mean,
                std: var.sqrt(),
            }
        };
        Ok(match self {
            MetricsFile::Fold(m) => {
                let r = &m.report;
                Summary {
                    run_dir: m.run_dir.clone(),
                    label: m.label.clone(),
                    n_folds_evaluated: 1,
                    n_classes: r.n_classes(),
                    accuracy: MeanStd {
                        mean: r.accuracy,
                        std: 0.0,
                    },
                    uar: MeanStd {
                        mean: r.uar,
                        std: 0.0,
                    },
                    macro_f1: MeanStd {
                        mean: r.macro_avg.f1,
                        std: 0.0,
                    },
                    weighted_f1: MeanStd {
                        mean: r.weighted_avg.f1,
                        std: 0.0,
                    },
                    training_time_s: m.training_time_s.map(|t| MeanStd { mean: t, std: 0.0 }),
                    uar_per_corpus: m
                        .per_corpus
                        .iter()
                        .flatten()
                        .map(|c| {
                            let uar = MeanStd {
                                mean: c.uar,
                                std: 0.0,
                            };
                            (c.corpus, uar)
                        })
                        .collect(),
                }
            }
            MetricsFile::CrossValidation(m) => {
                let agg = &m.cross_validation.aggregate;
                let times: Option<Vec<f64>> = m.fold_training_time_s.iter().copied().collect();
                Summary {
                    run_dir: m.run_dir.clone(),
                    label: m.label.clone(),
                    n_folds_evaluated: agg.n_folds,
                    n_classes: m.cross_validation.class_names.len(),
                    accuracy: MeanStd {
                        mean: agg.mean.accuracy,
                        std: agg.std.accuracy,
                    },
                    uar: MeanStd {
                        mean: agg.mean.uar,
                        std: agg.std.uar,
                    },
                    macro_f1: MeanStd {
                        mean: agg.mean.macro_avg.f1,
                        std: agg.std.macro_avg.f1,
                    },
                    weighted_f1: MeanStd {
                        mean: agg.mean.weighted_avg.f1,
                        std: agg.std.weighted_avg.f1,
                    },
                    training_time_s: times.filter(|t| !t.is_empty()).map(|t| mean_std(&t)),
                    uar_per_corpus: m
                        .per_corpus
                        .iter()
                        .flatten()
                        .map(|c| {
                            let uar = MeanStd {
                                mean: c.mean.uar,
                                std: c.std.uar,
                            };
                            (c.corpus, uar)
                        })
                        .collect(),
                }
            }
        })
    }
}

/// The headline figures of one evaluated run (one row of a comparison).
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The run (fold or parent) folder.
    pub run_dir: PathBuf,
    /// Model, features, protocol.
    pub label: RunLabel,
    /// Folds behind the figures.
    pub n_folds_evaluated: usize,
    /// Number of classes.
    pub n_classes: usize,
    /// Accuracy, mean ± population std over folds.
    pub accuracy: MeanStd,
    /// UAR, mean ± std.
    pub uar: MeanStd,
    /// Macro F1, mean ± std.
    pub macro_f1: MeanStd,
    /// Support-weighted F1, mean ± std.
    pub weighted_f1: MeanStd,
    /// Training time in seconds, mean ± std, when every fold has a history.
    pub training_time_s: Option<MeanStd>,
    /// UAR of each corpus on the test side, mean ± std over the folds that test it, for an
    /// evaluation of several corpora (empty otherwise).
    pub uar_per_corpus: Vec<(CorpusKind, MeanStd)>,
}

/// The predictions of one fold's model on its test side.
#[derive(Debug, Clone, PartialEq)]
pub struct FoldEvaluation {
    /// The fold's run folder.
    pub run_dir: PathBuf,
    /// Its run description.
    pub info: RunInfo,
    /// Audio file of every test utterance.
    pub paths: Vec<PathBuf>,
    /// Corpus of every test utterance.
    pub corpora: Vec<CorpusKind>,
    /// True labels (indices into `info.label_map`).
    pub y_true: Vec<usize>,
    /// Predicted labels.
    pub y_pred: Vec<usize>,
    /// Class probabilities, one row per utterance.
    pub scores: Scores,
    /// The written metrics.
    pub metrics: FoldMetrics,
    /// What the adaptation of the test side did (`ser-eval --adapt`), if it was adapted.
    pub adaptation: Option<crate::adapt::Adaptation>,
}

/// Kind of folder given to [`evaluate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunFolder {
    /// A single run (holds `ser-run.json`).
    Fold(PathBuf),
    /// A k-fold parent: its `fold-N/` run folders in fold order.
    Parent(Vec<PathBuf>),
}

impl RunFolder {
    /// Classifies `dir`: a run folder, a k-fold parent, or an error naming what is missing.
    pub fn detect(dir: &Path) -> Result<RunFolder> {
        if !dir.exists() {
            bail!("{}: no such folder", dir.display());
        }
        if !dir.is_dir() {
            bail!(
                "{}: not a folder (expected a run folder written by ser-train)",
                dir.display()
            );
        }
        if dir.join(RUN_INFO_FILE).exists() {
            return Ok(RunFolder::Fold(dir.to_owned()));
        }
        let mut folds: Vec<(usize, PathBuf)> = Vec::new();
        for entry in
            std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?
        {
            let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
            let name = entry.file_name();
            let number = name.to_str().and_then(crate::fold_number);
            if let Some(n) = number
                && entry.path().is_dir()
            {
                folds.push((n, entry.path()));
            }
        }
        if folds.is_empty() {
            bail!(
                "{}: not a run folder (no {RUN_INFO_FILE} and no fold-N/ run folders)",
                dir.display()
            );
        }
        folds.sort();
        Ok(RunFolder::Parent(
            folds.into_iter().map(|(_, p)| p).collect(),
        ))
    }
}

/// A dataset rebuilt for one (corpus folder, feature configuration), reused across folds; or
/// the dataset the caller already has (training evaluates on the features it trained from).
struct DatasetCache<'a> {
    given: Option<&'a Dataset>,
    key: Option<(Vec<PathBuf>, FeatureConfig)>,
    dataset: Option<Dataset>,
}

impl DatasetCache<'_> {
    fn get(&mut self, info: &RunInfo, options: &EvalOptions) -> Result<&Dataset> {
        if let Some(given) = self.given {
            if given.config() != &info.feature_config {
                return Err(RunError::invalid(format!(
                    "the dataset given was extracted with other features than the run's \
                     ({RUN_INFO_FILE} of fold {})",
                    info.fold + 1
                )));
            }
            return Ok(given);
        }
        let dirs = info
            .corpus_dirs()
            .into_iter()
            .map(Path::to_path_buf)
            .collect();
        let key = (dirs, info.feature_config.clone());
        if self.key.as_ref() != Some(&key) || self.dataset.is_none() {
            let corpus = info.load_corpus()?;
            let build = BuildOptions {
                cache_dir: options.cache_dir.clone(),
                progress: options.progress,
            };
            let dataset =
                Dataset::build(corpus, &info.feature_config, &build).with_context(|| {
                    format!("cannot compute features of {}", info.data_dir.display())
                })?;
            self.dataset = Some(dataset);
            self.key = Some(key);
        }
        self.dataset
            .as_ref()
            .ok_or_else(|| RunError::invalid("dataset cache is empty"))
    }
}

/// What [`evaluate`] produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Every evaluated fold.
    pub folds: Vec<FoldEvaluation>,
    /// The k-fold aggregate, for a parent folder.
    pub aggregate: Option<CrossValidationMetrics>,
}

impl Evaluation {
    /// The metrics file written at the top of the evaluated folder.
    pub fn metrics_file(&self) -> Option<MetricsFile> {
        match &self.aggregate {
            Some(a) => Some(MetricsFile::CrossValidation(a.clone())),
            None => self
                .folds
                .first()
                .map(|f| MetricsFile::Fold(f.metrics.clone())),
        }
    }

    /// A short human-readable summary: accuracy, UAR and macro-F1 per fold, mean ± std.
    pub fn summary_text(&self) -> String {
        let mut text = String::new();
        let mut warned = false;
        for f in &self.folds {
            if let (Some(w), false) = (&f.info.leak_warning, warned) {
                let _ = writeln!(text, "WARNING: {w}");
                warned = true;
            }
            let r = &f.metrics.report;
            let _ = writeln!(
                text,
                "fold {}/{} ({} test utterances): accuracy {:.4}  UAR {:.4}  macro-F1 {:.4}",
                f.metrics.fold, f.info.n_folds, r.n_samples, r.accuracy, r.uar, r.macro_avg.f1
            );
            for c in f.metrics.per_corpus.iter().flatten() {
                let _ = writeln!(
                    text,
                    "  {} ({} test utterances): accuracy {:.4}  UAR {:.4}  macro-F1 {:.4}{}",
                    c.corpus,
                    c.n_clips,
                    c.accuracy,
                    c.uar,
                    c.macro_f1,
                    classes_note(c, r.n_classes())
                );
            }
        }
        if let Some(a) = &self.aggregate {
            let agg = &a.cross_validation.aggregate;
            let _ = writeln!(
                text,
                "mean ± std over {} folds: accuracy {:.4} ± {:.4}  UAR {:.4} ± {:.4}  macro-F1 {:.4} ± {:.4}",
                agg.n_folds,
                agg.mean.accuracy,
                agg.std.accuracy,
                agg.mean.uar,
                agg.std.uar,
                agg.mean.macro_avg.f1,
                agg.std.macro_avg.f1
            );
            for c in a.per_corpus.iter().flatten() {
                let _ = writeln!(
                    text,
                    "  {} over {} folds: accuracy {:.4} ± {:.4}  UAR {:.4} ± {:.4}  macro-F1 {:.4} ± {:.4}; \
                     pooled ({} test utterances): accuracy {:.4}  UAR {:.4}  macro-F1 {:.4}{}",
                    c.corpus,
                    c.folds.len(),
                    c.mean.accuracy,
                    c.std.accuracy,
                    c.mean.uar,
                    c.std.uar,
                    c.mean.macro_f1,
                    c.std.macro_f1,
                    c.pooled.n_clips,
                    c.pooled.accuracy,
                    c.pooled.uar,
                    c.pooled.macro_f1,
                    classes_note(&c.pooled, a.cross_validation.class_names.len())
                );
            }
        }
        text
    }
}

/// ` (UAR and macro-F1 over its 6 of 8 classes)` when a corpus lacks classes of the label map.
fn classes_note(c: &CorpusMetrics, n_classes: usize) -> String {
    if c.classes.len() < n_classes {
        format!(
            " (UAR and macro-F1 over its {} of {n_classes} classes)",
            c.classes.len()
        )
    } else {
        String::new()
    }
}

/// The per-corpus table of a fold's `report.txt`.
fn per_corpus_fold_text(per_corpus: &[CorpusMetrics], n_classes: usize) -> String {
    let mut text = format!(
        "\nPer corpus (UAR and macro-F1 over the classes of each corpus's ground truth):\n\n\
         {:>8} {:>6} {:>9} {:>9} {:>9} {:>8}\n",
        "corpus", "clips", "accuracy", "UAR", "macro-F1", "classes"
    );
    for c in per_corpus {
        let _ = writeln!(
            text,
            "{:>8} {:>6} {:>9.4} {:>9.4} {:>9.4} {:>8}",
            c.corpus.name(),
            c.n_clips,
            c.accuracy,
            c.uar,
            c.macro_f1,
            format!("{}/{n_classes}", c.classes.len())
        );
    }
    text
}

/// `per-corpus.csv` of a fold.
fn per_corpus_fold_csv(per_corpus: &[CorpusMetrics]) -> Vec<u8> {
    let mut csv = CsvText::new();
    csv.record([
        "corpus",
        "n_clips",
        "accuracy",
        "uar",
        "macro_f1",
        "n_classes",
        "classes",
    ]);
    for c in per_corpus {
        csv.record([
            c.corpus.name().to_owned(),
            c.n_clips.to_string(),
            c.accuracy.to_string(),
            c.uar.to_string(),
            c.macro_f1.to_string(),
            c.classes.len().to_string(),
            c.classes.join(";"),
        ]);
    }
    csv.into_bytes()
}

/// The per-corpus table of a k-fold parent's `report.txt`.
fn per_corpus_aggregate_text(per_corpus: &[CorpusAggregate], n_classes: usize) -> String {
    let mut text = format!(
        "\nPer corpus (UAR and macro-F1 over the classes of each corpus's ground truth; mean ± std \
         over the folds that test the corpus, and pooled over all its test utterances):\n\n\
         {:>8} {:>5} {:>17} {:>17} {:>17} {:>6} {:>9} {:>9} {:>9} {:>8}\n",
        "corpus",
        "folds",
        "accuracy",
        "UAR",
        "macro-F1",
        "clips",
        "pooled-acc",
        "pooled-UAR",
        "pooled-F1",
        "classes"
    );
    let pm = |m: f64, s: f64| format!("{m:.4} ± {s:.4}");
    for c in per_corpus {
        let _ = writeln!(
            text,
            "{:>8} {:>5} {:>17} {:>17} {:>17} {:>6} {:>10.4} {:>10.4} {:>9.4} {:>8}",
            c.corpus.name(),
            c.folds.len(),
            pm(c.mean.accuracy, c.std.accuracy),
            pm(c.mean.uar, c.std.uar),
            pm(c.mean.macro_f1, c.std.macro_f1),
            c.pooled.n_clips,
            c.pooled.accuracy,
            c.pooled.uar,
            c.pooled.macro_f1,
            format!("{}/{n_classes}", c.pooled.classes.len())
        );
    }
    text
}

/// `per-corpus.csv` of a k-fold parent.
fn per_corpus_aggregate_csv(per_corpus: &[CorpusAggregate]) -> Vec<u8> {
    let mut csv = CsvText::new();
    csv.record([
        "corpus",
        "n_folds",
        "accuracy_mean",
        "accuracy_std",
        "uar_mean",
        "uar_std",
        "macro_f1_mean",
        "macro_f1_std",
        "pooled_n_clips",
        "pooled_accuracy",
        "pooled_uar",
        "pooled_macro_f1",
        "n_classes",
        "classes",
    ]);
    for c in per_corpus {
        csv.record([
            c.corpus.name().to_owned(),
            c.folds.len().to_string(),
            c.mean.accuracy.to_string(),
            c.std.accuracy.to_string(),
            c.mean.uar.to_string(),
            c.std.uar.to_string(),
            c.mean.macro_f1.to_string(),
            c.std.macro_f1.to_string(),
            c.pooled.n_clips.to_string(),
            c.pooled.accuracy.to_string(),
            c.pooled.uar.to_string(),
            c.pooled.macro_f1.to_string(),
            c.pooled.classes.len().to_string(),
            c.pooled.classes.join(";"),
        ]);
    }
    csv.into_bytes()
}

/// Draws `confusion_matrix-<corpus>.{png,svg}` for each corpus into `dir`.
fn write_per_corpus_plots(
    dir: &Path,
    per_corpus: &[&CorpusMetrics],
    class_names: &[String],
    title: &dyn Fn(&str) -> String,
) -> Result<()> {
    for c in per_corpus {
        ser_plot::plot_confusion_matrix(
            c.confusion_matrix.counts(),
            class_names,
            &title(&format!("{} confusion matrix", c.corpus)),
            &OutputPaths::from_stem(dir.join(format!("{CONFUSION_STEM}-{}", c.corpus.name()))),
        )?;
    }
    Ok(())
}

/// Evaluates a run folder or a k-fold parent folder and writes every output file
/// (see the module documentation).
pub fn evaluate(dir: &Path, options: &EvalOptions) -> Result<Evaluation> {
    evaluate_inner(dir, options, None)
}

/// As [`evaluate`], on the features of `dataset` (the run's corpus, extracted with the run's
/// feature configuration: what training just held) instead of reading the corpus again.
///
/// # Errors
/// As [`evaluate`]; a dataset extracted with another feature configuration than a fold's.
pub fn evaluate_on(dir: &Path, options: &EvalOptions, dataset: &Dataset) -> Result<Evaluation> {
    evaluate_inner(dir, options, Some(dataset))
}

fn evaluate_inner(
    dir: &Path,
    options: &EvalOptions,
    given: Option<&Dataset>,
) -> Result<Evaluation> {
    let folder = RunFolder::detect(dir)?;
    let fold_dirs = match &folder {
        RunFolder::Fold(d) => vec![d.clone()],
        RunFolder::Parent(ds) => ds.clone(),
    };
    // Read every description and load every model before the (slower) feature work, so a
    // broken fold fails fast.
    let mut runs = Vec::with_capacity(fold_dirs.len());
    for d in &fold_dirs {
        let info = RunInfo::load(d)?;
        let classifier = Classifier::load(d, &info)?;
        runs.push((d.clone(), info, classifier));
    }

    let mut cache = DatasetCache {
        given,
        key: None,
        dataset: None,
    };
    let mut folds = Vec::with_capacity(runs.len());
    for (d, info, classifier) in runs {
        let dataset = cache.get(&info, options)?;
        let fold = evaluate_fold_with(&d, info, &classifier, dataset, options.adapt)?;
        let out = output_dir(&d, options);
        write_fold_outputs_in(&fold, &out)?;
        if let Some(a) = &fold.adaptation {
            write_json(&out.join(crate::adapt::ADAPTATION_FILE), a)?;
        }
        folds.push(fold);
    }

    let aggregate = match folder {
        RunFolder::Fold(_) => None,
        RunFolder::Parent(_) => {
            let a = aggregate_folds(dir, &folds)?;
            write_aggregate_outputs(&output_dir(dir, options), &a)?;
            Some(a)
        }
    };
    Ok(Evaluation { folds, aggregate })
}

/// Where [`evaluate`] writes the outputs of the evaluated folder `dir`: `dir` itself, or its
/// [`crate::adapt::ADAPTED_DIR`] sub-folder for an adapted evaluation.
pub fn output_dir(dir: &Path, options: &EvalOptions) -> PathBuf {
    if options.adapt {
        dir.join(crate::adapt::ADAPTED_DIR)
    } else {
        dir.to_owned()
    }
}

/// Predicts the test side of one fold and computes its metrics (writes nothing).
pub fn evaluate_fold(
    run_dir: &Path,
    info: RunInfo,
    classifier: &Classifier,
    dataset: &Dataset,
) -> Result<FoldEvaluation> {
    evaluate_fold_with(run_dir, info, classifier, dataset, false)
}

/// As [`evaluate_fold`], the test side adapted to itself per test speaker when `adapt` (see
/// [`EvalOptions::adapt`]).
pub fn evaluate_fold_with(
    run_dir: &Path,
    info: RunInfo,
    classifier: &Classifier,
    dataset: &Dataset,
    adapt: bool,
) -> Result<FoldEvaluation> {
    let splits = dataset
        .splits(&info.protocol)
        .with_context(|| format!("{}: cannot rebuild the split", run_dir.display()))?;
    let split = splits.get(info.fold).with_context(|| {
        format!(
            "{}: fold {} does not exist in protocol {} ({} folds)",
            run_dir.display(),
            info.fold + 1,
            info.protocol.name(),
            splits.len()
        )
    })?;
    let test_speakers: Vec<String> = split
        .test_speakers
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    if test_speakers != info.test_speakers {
        bail!(
            "{}: the corpus changed since training: fold {} now tests speakers {:?}, the run was tested on {:?}",
            run_dir.display(),
            info.fold + 1,
            test_speakers,
            info.test_speakers
        );
    }
    if split.test.is_empty() {
        bail!(
            "{}: fold {} has no test utterances",
            run_dir.display(),
            info.fold + 1
        );
    }
    let mut inputs = Vec::with_capacity(split.test.len());
    let mut y_true = Vec::with_capacity(split.test.len());
    let mut paths = Vec::with_capacity(split.test.len());
    let mut corpora = Vec::with_capacity(split.test.len());
    for &i in &split.test {
        inputs.push(classifier.prepare(&info, dataset.matrix(i)?)?);
        let emotion = dataset.emotion(i)?;
        y_true.push(info.label_map.index_of(emotion).with_context(|| {
            format!(
                "{}: {emotion} is not in the run's label map",
                run_dir.display()
            )
        })?);
        let item = dataset.corpus().items.get(i);
        paths.push(item.map(|u| u.path.clone()).unwrap_or_default());
        corpora.push(item.map_or(dataset.corpus().kind, |u| u.corpus));
    }
    // Unsupervised adaptation (`--adapt`, crate::adapt): each test speaker's inputs standardised
    // with that speaker's statistics, labels unused. For a speaker-normalised model it is the
    // speaker normalisation below (small speakers pooled instead of refused), so it replaces it.
    let speakers: Vec<&str> = split
        .test
        .iter()
        .map(|&i| {
            dataset
                .corpus()
                .items
                .get(i)
                .map_or("", |u| u.speaker.as_str())
        })
        .collect();
    let adaptation = if adapt {
        Some(
            classifier
                .adapt(&info, &mut inputs, &speakers)
                .with_context(|| format!("{}: adaptation of the test side", run_dir.display()))?,
        )
    } else {
        None
    };
    if adaptation.is_none() && classifier.speaker_norm() {
        // Each test speaker is normalised with their own test utterances (labels unused).
        ser_classic::SpeakerNormalizer::normalize_in_place(&mut inputs, &speakers).with_context(
            || {
                format!(
                    "{}: speaker normalisation of the test side",
                    run_dir.display()
                )
            },
        )?;
    }
    let proba = classifier
        .predict_proba(&inputs)
        .with_context(|| format!("{}: prediction failed", run_dir.display()))?;
    let scores = Scores::from_rows(&proba)?;
    let y_pred = scores.argmax();
    let names = info.label_map.names();
    let report = Report::with_scores(&y_true, &y_pred, &scores, &names)
        .with_context(|| format!("{}: cannot compute metrics", run_dir.display()))?;
    let per_corpus = per_corpus_metrics(
        dataset.corpus().kind == CorpusKind::Mixed,
        &corpora,
        &y_true,
        &y_pred,
        &names,
    )
    .with_context(|| format!("{}: cannot compute per-corpus metrics", run_dir.display()))?;
    let history = read_history_csv(run_dir)?;
    let metrics = FoldMetrics {
        format_version: METRICS_VERSION,
        run_dir: run_dir.to_owned(),
        label: RunLabel::of(&info),
        fold: info.fold + 1,
        test_speakers,
        training_time_s: history
            .as_ref()
            .map(|h| h.duration_s.iter().sum())
            .or(info.training_time_s),
        epochs: history.as_ref().map_or(0, |h| h.duration_s.len()),
        report,
        per_corpus,
    };
    Ok(FoldEvaluation {
        run_dir: run_dir.to_owned(),
        info,
        paths,
        corpora,
        y_true,
        y_pred,
        scores,
        metrics,
        adaptation,
    })
}

/// The columns of `history.csv` that ser-eval uses.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct History {
    /// Curves for plotting.
    pub curves: TrainingHistory,
    /// Wall-clock seconds of every epoch.
    pub duration_s: Vec<f64>,
}

/// Where a `history.csv` column goes.
type ColumnTarget = fn(&mut History) -> &mut Vec<f64>;

/// Reads `history.csv` of a run folder by column name; `None` when the file is missing.
pub fn read_history_csv(run_dir: &Path) -> Result<Option<History>> {
    let path = run_dir.join(HISTORY_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let not_csv =
        |e: csv::Error| RunError::invalid(format!("{}: not a CSV table: {e}", path.display()));
    let header = reader.headers().map_err(not_csv)?.clone();
    let column = |name: &str| header.iter().position(|h| h == name);
    let mut history = History::default();
    let targets: [(Option<usize>, ColumnTarget); 6] = [
        (column("train_loss"), |h| &mut h.curves.train_loss),
        (column("val_loss"), |h| &mut h.curves.val_loss),
        (column("train_accuracy"), |h| &mut h.curves.train_accuracy),
        (column("val_accuracy"), |h| &mut h.curves.val_accuracy),
        (column("val_uar"), |h| &mut h.curves.val_uar),
        (column("duration_s"), |h| &mut h.duration_s),
    ];
    for record in reader.records() {
        let fields = record.map_err(not_csv)?;
        // A line of blanks is no record.
        if fields.len() == 1 && fields[0].is_empty() {
            continue;
        }
        let line = fields.position().map_or(0, csv::Position::line);
        if fields.len() != header.len() {
            bail!(
                "{}: line {line} has {} fields, the header {}",
                path.display(),
                fields.len(),
                header.len()
            );
        }
        for (col, target) in &targets {
            if let Some(c) = *col {
                let value: f64 = fields[c].parse().map_err(|_| {
                    RunError::invalid(format!(
                        "{}: line {line}: {:?} is not a number",
                        path.display(),
                        &fields[c]
                    ))
                })?;
                target(&mut history).push(value);
            }
        }
    }
    Ok(Some(history))
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

fn title_of(info: &RunInfo, what: &str) -> String {
    format!(
        "{} ({}), fold {}/{}: {what}",
        info.model,
        RunLabel::of(info).features,
        info.fold + 1,
        info.n_folds
    )
}

/// `predictions.csv` of a fold: path, true and predicted label, one probability column per
/// class (`p_<name>`) and, per corpus (`corpora` given), the corpus of every clip.
fn predictions_csv(
    names: &[&str],
    paths: &[PathBuf],
    y_true: &[usize],
    y_pred: &[usize],
    scores: &Scores,
    corpora: Option<&[CorpusKind]>,
) -> Vec<u8> {
    let mut csv = CsvText::new();
    let mut header: Vec<String> = ["path", "true_label", "predicted_label"]
        .map(str::to_owned)
        .to_vec();
    header.extend(names.iter().map(|n| format!("p_{n}")));
    if corpora.is_some() {
        header.push("corpus".to_owned());
    }
    csv.record(&header);
    let label = |i: Option<&usize>| {
        i.and_then(|&i| names.get(i).copied())
            .unwrap_or("?")
            .to_owned()
    };
    for (k, path) in paths.iter().enumerate() {
        let mut row = vec![
            path.display().to_string(),
            label(y_true.get(k)),
            label(y_pred.get(k)),
        ];
        row.extend(
            scores
                .row(k)
                .unwrap_or_default()
                .iter()
                .map(ToString::to_string),
        );
        if let Some(corpora) = corpora {
            row.push(corpora.get(k).map_or("", |c| c.name()).to_owned());
        }
        csv.record(&row);
    }
    csv.into_bytes()
}

/// Writes `metrics.json`, `report.txt`, `predictions.csv` and the plots of one fold.
pub fn write_fold_outputs(fold: &FoldEvaluation) -> Result<()> {
    write_fold_outputs_in(fold, &fold.run_dir)
}

/// As [`write_fold_outputs`], into `dir` (the fold's `adapted/` folder for an adapted
/// evaluation; training curves only where the run's `history.csv` is).
pub fn write_fold_outputs_in(fold: &FoldEvaluation, dir: &Path) -> Result<()> {
    write_json(
        &dir.join(METRICS_FILE),
        &MetricsFile::Fold(fold.metrics.clone()),
    )?;
    let report = &fold.metrics.report;
    let mut text = format!(
        "{} — test speakers {}\n",
        title_of(&fold.info, "test set"),
        fold.metrics.test_speakers.join(", ")
    );
    if let Some(w) = &fold.info.leak_warning {
        let _ = writeln!(text, "WARNING: {w}");
    }
    let _ = writeln!(
        text,
        "accuracy {:.4}  UAR {:.4}\n",
        report.accuracy, report.uar
    );
    text.push_str(&report.classification_report());
    if let Some(per_corpus) = &fold.metrics.per_corpus {
        text.push_str(&per_corpus_fold_text(per_corpus, report.n_classes()));
    }
    write_atomic(&dir.join(REPORT_FILE), text.as_bytes())?;

    let names = fold.info.label_map.names();
    let corpora = fold
        .metrics
        .per_corpus
        .is_some()
        .then_some(fold.corpora.as_slice());
    let csv = predictions_csv(
        &names,
        &fold.paths,
        &fold.y_true,
        &fold.y_pred,
        &fold.scores,
        corpora,
    );
    write_atomic(&dir.join(PREDICTIONS_FILE), &csv)?;

    write_report_plots(dir, report, &|what| title_of(&fold.info, what))?;
    if let Some(per_corpus) = &fold.metrics.per_corpus {
        write_atomic(&dir.join(PER_CORPUS_FILE), &per_corpus_fold_csv(per_corpus))?;
        let corpora: Vec<&CorpusMetrics> = per_corpus.iter().collect();
        write_per_corpus_plots(dir, &corpora, &report.class_names, &|what| {
            title_of(&fold.info, what)
        })?;
    }
    if let Some(history) = read_history_csv(dir)?
        && history.curves.n_epochs() > 0
    {
        ser_plot::plot_training_curves(
            &history.curves,
            &title_of(&fold.info, "training"),
            &OutputPaths::from_stem(dir.join(TRAINING_CURVES_STEM)),
        )?;
    }
    Ok(())
}

fn write_report_plots(dir: &Path, report: &Report, title: &dyn Fn(&str) -> String) -> Result<()> {
    ser_plot::plot_confusion_matrix(
        report.confusion_matrix.counts(),
        &report.class_names,
        &title("confusion matrix"),
        &OutputPaths::from_stem(dir.join(CONFUSION_STEM)),
    )?;
    if let Some(roc) = &report.roc {
        ser_plot::plot_roc_summary(
            roc,
            &title("ROC"),
            &OutputPaths::from_stem(dir.join(ROC_STEM)),
        )?;
    }
    Ok(())
}

/// Aggregates evaluated folds of a k-fold parent folder (writes nothing).
pub fn aggregate_folds(dir: &Path, folds: &[FoldEvaluation]) -> Result<CrossValidationMetrics> {
    let first = folds
        .first()
        .with_context(|| format!("{}: no folds to aggregate", dir.display()))?;
    let label_map: &LabelMap = &first.info.label_map;
    for f in folds {
        if f.info.label_map != *label_map {
            bail!(
                "{}: fold {} uses the classes {:?}, fold {} {:?}; cannot aggregate",
                dir.display(),
                f.metrics.fold,
                f.info.label_map.names(),
                first.metrics.fold,
                label_map.names()
            );
        }
    }
    let predictions: Vec<FoldPredictions> = folds
        .iter()
        .map(|f| FoldPredictions {
            y_true: f.y_true.clone(),
            y_pred: f.y_pred.clone(),
            scores: Some(f.scores.clone()),
        })
        .collect();
    let cross_validation = CrossValidationReport::from_folds(&predictions, &label_map.names())
        .with_context(|| format!("{}: cannot aggregate the folds", dir.display()))?;
    let per_corpus =
        if folds.iter().any(|f| f.metrics.per_corpus.is_some()) {
            let names = label_map.names();
            let mut of_folds = Vec::with_capacity(folds.len());
            for f in folds {
                let metrics = match &f.metrics.per_corpus {
                    Some(m) => m.clone(),
                    None => per_corpus_metrics(true, &f.corpora, &f.y_true, &f.y_pred, &names)?
                        .unwrap_or_default(),
                };
                of_folds.push((f.metrics.fold, metrics));
            }
            let of_folds: Vec<(usize, &[CorpusMetrics])> =
                of_folds.iter().map(|(f, m)| (*f, m.as_slice())).collect();
            Some(aggregate_per_corpus(&of_folds, &names).with_context(|| {
                format!("{}: cannot aggregate the folds per corpus", dir.display())
            })?)
        } else {
            None
        };
    Ok(CrossValidationMetrics {
        format_version: METRICS_VERSION,
        run_dir: dir.to_owned(),
        label: RunLabel::of(&first.info),
        folds: folds.iter().map(|f| f.metrics.fold).collect(),
        fold_training_time_s: folds.iter().map(|f| f.metrics.training_time_s).collect(),
        cross_validation,
        per_corpus,
    })
}

/// Writes the aggregate `metrics.json`, `report.txt` and pooled plots into a parent folder.
pub fn write_aggregate_outputs(dir: &Path, a: &CrossValidationMetrics) -> Result<()> {
    write_json(
        &dir.join(METRICS_FILE),
        &MetricsFile::CrossValidation(a.clone()),
    )?;
    let cv = &a.cross_validation;
    let agg = &cv.aggregate;
    let header = format!(
        "{} ({}), protocol {}",
        a.label.model, a.label.features, a.label.protocol
    );
    let mut text = format!("{header}: folds {:?} of {}\n", a.folds, a.label.n_folds);
    if let Some(w) = &a.label.leak_warning {
        let _ = writeln!(text, "WARNING: {w}");
    }
    text.push('\n');
    let _ = writeln!(
        text,
        "{:>6} {:>9} {:>9} {:>9} {:>11}",
        "fold", "accuracy", "UAR", "macro-F1", "weighted-F1"
    );
    for (fold, r) in a.folds.iter().zip(&cv.folds) {
        let _ = writeln!(
            text,
            "{fold:>6} {:>9.4} {:>9.4} {:>9.4} {:>11.4}",
            r.accuracy, r.uar, r.macro_avg.f1, r.weighted_avg.f1
        );
    }
    let _ = writeln!(
        text,
        "{:>6} {:>9.4} {:>9.4} {:>9.4} {:>11.4}\n{:>6} {:>9.4} {:>9.4} {:>9.4} {:>11.4}\n",
        "mean",
        agg.mean.accuracy,
        agg.mean.uar,
        agg.mean.macro_avg.f1,
        agg.mean.weighted_avg.f1,
        "std",
        agg.std.accuracy,
        agg.std.uar,
        agg.std.macro_avg.f1,
        agg.std.weighted_avg.f1
    );
    let _ = writeln!(text, "Pooled predictions of all folds:\n");
    text.push_str(&cv.pooled.classification_report());
    if let Some(per_corpus) = &a.per_corpus {
        text.push_str(&per_corpus_aggregate_text(per_corpus, cv.class_names.len()));
    }
    write_atomic(&dir.join(REPORT_FILE), text.as_bytes())?;
    let title = |what: &str| format!("{header}, pooled folds: {what}");
    write_report_plots(dir, &cv.pooled, &title)?;
    if let Some(per_corpus) = &a.per_corpus {
        write_atomic(
            &dir.join(PER_CORPUS_FILE),
            &per_corpus_aggregate_csv(per_corpus),
        )?;
        let pooled: Vec<&CorpusMetrics> = per_corpus.iter().map(|c| &c.pooled).collect();
        // Without the protocol: the corpus name makes the title longer.
        let short = format!("{} ({})", a.label.model, a.label.features);
        write_per_corpus_plots(dir, &pooled, &cv.class_names, &|what| {
            format!("{short}, pooled folds: {what}")
        })?;
    }
    Ok(())
}

/// Reads the metrics of each run folder (evaluating those without `metrics.json` first) and
/// writes `comparison.md`, `comparison.csv` and `comparison.{png,svg}` into `out_dir`. A folder
/// that holds a `metrics.json` is compared from it alone, so a published row
/// (`results/models/<row>/`, the aggregate without the weights) sits beside run folders.
pub fn compare(
    run_dirs: &[PathBuf],
    out_dir: &Path,
    options: &EvalOptions,
) -> Result<Vec<Summary>> {
    if run_dirs.is_empty() {
        bail!("--compare needs at least one run folder");
    }
    let mut rows = Vec::with_capacity(run_dirs.len());
    for dir in run_dirs {
        let file = if dir.join(METRICS_FILE).is_file() {
            MetricsFile::load(dir)?
        } else {
            RunFolder::detect(dir)?;
            eprintln!("{}: no {METRICS_FILE}; evaluating it first", dir.display());
            evaluate(dir, options)?
                .metrics_file()
                .with_context(|| format!("{}: nothing was evaluated", dir.display()))?
        };
        rows.push(file.summary()?);
    }
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let names = run_names(&rows);

    let pm = |m: MeanStd| format!("{:.4} ± {:.4}", m.mean, m.std);
    let time = |t: Option<MeanStd>| {
        t.map_or_else(
            || "n/a".to_owned(),
            |t| format!("{:.1} ± {:.1}", t.mean, t.std),
        )
    };
    let mut md = String::from(
        "| run | model | features | protocol | folds | accuracy | UAR | macro-F1 | weighted-F1 | training time (s) | UAR per corpus |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let mut csv = CsvText::new();
    csv.record([
        "run",
        "model",
        "features",
        "protocol",
        "folds",
        "accuracy_mean",
        "accuracy_std",
        "uar_mean",
        "uar_std",
        "macro_f1_mean",
        "macro_f1_std",
        "weighted_f1_mean",
        "weighted_f1_std",
        "training_time_s_mean",
        "training_time_s_std",
        "uar_per_corpus",
    ]);
    for (name, r) in names.iter().zip(&rows) {
        let per_corpus_md: Vec<String> = r
            .uar_per_corpus
            .iter()
            .map(|(c, uar)| format!("{c} {:.4}", uar.mean))
            .collect();
        let per_corpus_csv: Vec<String> = r
            .uar_per_corpus
            .iter()
            .map(|(c, uar)| format!("{c}={}", uar.mean))
            .collect();
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.label.model,
            r.label.features,
            r.label.protocol,
            r.n_folds_evaluated,
            pm(r.accuracy),
            pm(r.uar),
            pm(r.macro_f1),
            pm(r.weighted_f1),
            time(r.training_time_s),
            per_corpus_md.join(" · ")
        );
        let (t_mean, t_std) = r
            .training_time_s
            .map_or((String::new(), String::new()), |t| {
                (format!("{:.3}", t.mean), format!("{:.3}", t.std))
            });
        csv.record([
            name.clone(),
            r.label.model.clone(),
            r.label.features.clone(),
            r.label.protocol.clone(),
            r.n_folds_evaluated.to_string(),
            r.accuracy.mean.to_string(),
            r.accuracy.std.to_string(),
            r.uar.mean.to_string(),
            r.uar.std.to_string(),
            r.macro_f1.mean.to_string(),
            r.macro_f1.std.to_string(),
            r.weighted_f1.mean.to_string(),
            r.weighted_f1.std.to_string(),
            t_mean,
            t_std,
            per_corpus_csv.join(";"),
        ]);
    }
    let warnings: Vec<String> = names
        .iter()
        .zip(&rows)
        .filter_map(|(n, r)| {
            r.label
                .leak_warning
                .as_ref()
                .map(|w| format!("- {n}: WARNING: {w}"))
        })
        .collect();
    if !warnings.is_empty() {
        md.push('\n');
        md.push_str(&warnings.join("\n"));
        md.push('\n');
    }
    md.push_str("\nMean ± population standard deviation over the evaluated folds.\n");
    if rows.iter().any(|r| !r.uar_per_corpus.is_empty()) {
        md.push_str(
            "UAR per corpus (runs of several corpora): the mean over the folds that test the \
             corpus, averaged over the classes of that corpus's ground truth.\n",
        );
    }
    // An ensemble's time is its members' (other rows here), so it would count them twice.
    let total_s: f64 = rows
        .iter()
        .filter(|r| r.label.model != crate::ensemble::ENSEMBLE_MODEL_NAME)
        .filter_map(|r| {
            r.training_time_s
                .map(|t| t.mean * r.n_folds_evaluated as f64)
        })
        .sum();
    let _ = writeln!(
        md,
        "Training time of all rows together: {} (every evaluated fold; fitting and training \
         epochs only, feature extraction and evaluation excluded; an ensemble's time is the sum \
         of its members', which are rows themselves, so ensembles are not counted again).",
        format_duration(total_s)
    );
    write_atomic(
        &out_dir.join(format!("{COMPARISON_STEM}.md")),
        md.as_bytes(),
    )?;
    write_atomic(
        &out_dir.join(format!("{COMPARISON_STEM}.csv")),
        &csv.into_bytes(),
    )?;

    let n_classes = rows.first().map_or(0, |r| r.n_classes);
    let chart = ModelComparison {
        metric_names: ["Accuracy", "UAR", "Macro-F1", "Weighted-F1"]
            .map(str::to_owned)
            .to_vec(),
        models: names
            .iter()
            .zip(&rows)
            .map(|(name, r)| ModelScores {
                model: name.clone(),
                values: vec![r.accuracy, r.uar, r.macro_f1, r.weighted_f1],
            })
            .collect(),
        chance_level: (n_classes > 0 && rows.iter().all(|r| r.n_classes == n_classes))
            .then(|| 1.0 / n_classes as f64),
    };
    ser_plot::plot_model_comparison(
        &chart,
        "Model comparison (mean ± std over folds)",
        &OutputPaths::from_stem(out_dir.join(COMPARISON_STEM)),
    )?;
    Ok(rows)
}

/// Display names of compared runs: the folder name, with the parent's name prepended for
/// `fold-N` folders, made unique by a numeric suffix.
fn run_names(rows: &[Summary]) -> Vec<String> {
    let base = |p: &Path| -> String {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| p.display().to_string());
        match p.parent().and_then(Path::file_name) {
            Some(parent) if crate::fold_number(&name).is_some() => {
                format!("{}/{name}", parent.to_string_lossy())
            }
            _ => name,
        }
    };
    let mut names: Vec<String> = Vec::with_capacity(rows.len());
    for r in rows {
        let b = base(&r.run_dir);
        let mut name = b.clone();
        let mut k = 2;
        while names.contains(&name) {
            name = format!("{b} ({k})");
            k += 1;
        }
        names.push(name);
    }
    names
}

/// `1 h 05 min` or `42 s`-style text for a number of seconds.
fn format_duration(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    let (hours, minutes, secs) = (total / 3600, total % 3600 / 60, total % 60);
    if hours > 0 {
        format!("{hours} h {minutes:02} min")
    } else if minutes > 0 {
        format!("{minutes} min {secs:02} s")
    } else {
        format!("{secs} s")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_as_hours_minutes_seconds() {
        assert_eq!(super::format_duration(42.4), "42 s");
        assert_eq!(super::format_duration(125.0), "2 min 05 s");
        assert_eq!(super::format_duration(3.0 * 3600.0 + 65.0), "3 h 01 min");
        assert_eq!(super::format_duration(-1.0), "0 s");
    }

    use super::*;

    #[test]
    fn predictions_csv_is_byte_for_byte_the_committed_text() {
        let names = ["neutral", "happy"];
        let paths = [PathBuf::from("a/x.wav"), PathBuf::from("b/y,z \"q\".wav")];
        let scores = Scores::from_rows(&[vec![0.25f32, 0.75], vec![0.1, 0.9]]).unwrap();
        let corpora = [CorpusKind::Ravdess, CorpusKind::EmoDb];
        let text = |corpora| {
            String::from_utf8(predictions_csv(
                &names,
                &paths,
                &[0, 1],
                &[1, 1],
                &scores,
                corpora,
            ))
            .unwrap()
        };
        // The text the hand-written writer produced for these rows.
        assert_eq!(
            text(Some(&corpora)),
            "path,true_label,predicted_label,p_neutral,p_happy,corpus\n\
             a/x.wav,neutral,happy,0.25,0.75,ravdess\n\
             \"b/y,z \"\"q\"\".wav\",happy,happy,0.1,0.9,emodb\n"
        );
        assert_eq!(
            text(None),
            "path,true_label,predicted_label,p_neutral,p_happy\n\
             a/x.wav,neutral,happy,0.25,0.75\n\
             \"b/y,z \"\"q\"\".wav\",happy,happy,0.1,0.9\n"
        );
        // The csv crate reads the quoted path back.
        let written = text(None);
        let mut reader = csv::Reader::from_reader(written.as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(&rows[1][0], "b/y,z \"q\".wav");
        assert_eq!(rows[1].len(), 5);
    }

    #[test]
    fn per_corpus_csv_is_byte_for_byte_the_committed_text() {
        let metrics = CorpusMetrics {
            corpus: CorpusKind::EmoDb,
            n_clips: 24,
            accuracy: 0.5,
            uar: 0.375,
            macro_f1: 1.0 / 3.0,
            classes: vec!["neutral".to_owned(), "happy".to_owned()],
            confusion_matrix: ConfusionMatrix::from_counts(vec![vec![1, 1], vec![0, 2]]).unwrap(),
        };
        assert_eq!(
            String::from_utf8(per_corpus_fold_csv(std::slice::from_ref(&metrics))).unwrap(),
            "corpus,n_clips,accuracy,uar,macro_f1,n_classes,classes\n\
             emodb,24,0.5,0.375,0.3333333333333333,2,neutral;happy\n"
        );
        let scalars = |v: f64| CorpusScalars {
            accuracy: v,
            uar: v / 2.0,
            macro_f1: v / 4.0,
        };
        let aggregate = CorpusAggregate {
            corpus: CorpusKind::EmoDb,
            folds: vec![1, 2],
            mean: scalars(0.5),
            std: scalars(0.1),
            pooled: metrics,
        };
        assert_eq!(
            String::from_utf8(per_corpus_aggregate_csv(&[aggregate])).unwrap(),
            "corpus,n_folds,accuracy_mean,accuracy_std,uar_mean,uar_std,macro_f1_mean,\
             macro_f1_std,pooled_n_clips,pooled_accuracy,pooled_uar,pooled_macro_f1,n_classes,\
             classes\n\
             emodb,2,0.5,0.1,0.25,0.05,0.125,0.025,24,0.5,0.375,0.3333333333333333,2,\
             neutral;happy\n"
        );
    }

    #[test]
    fn history_with_quoted_fields_and_blank_lines_is_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(HISTORY_FILE),
            "epoch,train_loss,note\n\n1,2.0,\"a, b\"\n2, 1.5 ,\"say \"\"hi\"\"\"\n",
        )
        .unwrap();
        let h = read_history_csv(dir.path()).unwrap().unwrap();
        assert_eq!(h.curves.train_loss, vec![2.0, 1.5]);
        std::fs::write(
            dir.path().join(HISTORY_FILE),
            "epoch,train_loss\n1,2.0\n2\n",
        )
        .unwrap();
        let err = format!("{:#}", read_history_csv(dir.path()).unwrap_err());
        assert!(err.contains("line 3 has 1 fields, the header 2"), "{err}");
    }

    #[test]
    fn history_is_read_by_column_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(HISTORY_FILE),
            "epoch,train_loss,train_accuracy,val_loss,val_accuracy,val_uar,lr,duration_s,is_best\n\
             1,2.0,0.1,2.1,0.2,0.15,0.001,1.5,1\n2,1.5,0.3,1.9,0.25,0.2,0.001,2.5,1\n",
        )
        .unwrap();
        let h = read_history_csv(dir.path()).unwrap().unwrap();
        assert_eq!(h.curves.train_loss, vec![2.0, 1.5]);
        assert_eq!(h.curves.val_uar, vec![0.15, 0.2]);
        assert_eq!(h.duration_s, vec![1.5, 2.5]);
        assert!(h.curves.train_uar.is_empty());
    }

    #[test]
    fn history_with_a_bad_number_is_an_error_naming_the_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(HISTORY_FILE), "epoch,train_loss\n1,abc\n").unwrap();
        let err = format!("{:#}", read_history_csv(dir.path()).unwrap_err());
        assert!(err.contains("line 2"), "{err}");
        assert!(
            read_history_csv(&dir.path().join("missing"))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn folders_are_classified() {
        let dir = tempfile::tempdir().unwrap();
        let err = format!("{:#}", RunFolder::detect(dir.path()).unwrap_err());
        assert!(err.contains("not a run folder"), "{err}");
        let missing = dir.path().join("nope");
        assert!(
            format!("{:#}", RunFolder::detect(&missing).unwrap_err()).contains("no such folder")
        );
        for n in [10, 2, 1] {
            std::fs::create_dir_all(dir.path().join(format!("fold-{n}"))).unwrap();
        }
        let RunFolder::Parent(folds) = RunFolder::detect(dir.path()).unwrap() else {
            panic!("not a parent")
        };
        let names: Vec<_> = folds
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["fold-1", "fold-2", "fold-10"]);
        std::fs::write(dir.path().join("fold-1").join(RUN_INFO_FILE), "{}").unwrap();
        assert_eq!(
            RunFolder::detect(&dir.path().join("fold-1")).unwrap(),
            RunFolder::Fold(dir.path().join("fold-1"))
        );
    }

    #[test]
    fn corrupted_metrics_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(METRICS_FILE), "{not json").unwrap();
        let err = format!("{:#}", MetricsFile::load(dir.path()).unwrap_err());
        assert!(err.contains("corrupted metrics file"), "{err}");
    }

    /// 4 classes; RAVDESS clips have them all, TESS clips no `calm` (one TESS clip is predicted
    /// `calm` all the same). The TESS clips come first, interleaved with RAVDESS ones.
    const PC_NAMES: [&str; 4] = ["neutral", "calm", "happy", "sad"];

    fn mixed_test_side() -> (Vec<CorpusKind>, Vec<usize>, Vec<usize>) {
        let tess = (vec![0, 0, 2, 2, 3, 3], vec![0, 1, 2, 2, 3, 0]);
        let ravdess = (vec![0, 1, 2, 3, 0, 1, 2, 3], vec![0, 1, 2, 3, 0, 0, 3, 3]);
        let (mut corpora, mut y_true, mut y_pred) = (Vec::new(), Vec::new(), Vec::new());
        for k in 0..8 {
            if k < 6 {
                corpora.push(CorpusKind::Tess);
                y_true.push(tess.0[k]);
                y_pred.push(tess.1[k]);
            }
            corpora.push(CorpusKind::Ravdess);
            y_true.push(ravdess.0[k]);
            y_pred.push(ravdess.1[k]);
        }
        (corpora, y_true, y_pred)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn per_corpus_uar_averages_only_over_the_classes_a_corpus_has() {
        let (corpora, y_true, y_pred) = mixed_test_side();
        let per_corpus = per_corpus_metrics(false, &corpora, &y_true, &y_pred, &PC_NAMES)
            .unwrap()
            .expect("two corpora on the test side");
        assert_eq!(per_corpus.len(), 2);
        let (ravdess, tess) = (&per_corpus[0], &per_corpus[1]);
        assert_eq!(
            (ravdess.corpus, tess.corpus),
            (CorpusKind::Ravdess, CorpusKind::Tess)
        );

        // RAVDESS: 6 of 8 right; recalls 1, 1/2, 1/2, 1; F1 4/5, 2/3, 2/3, 4/5.
        assert_eq!(ravdess.n_clips, 8);
        assert!(close(ravdess.accuracy, 0.75));
        assert!(close(ravdess.uar, 0.75));
        assert!(close(
            ravdess.macro_f1,
            (0.8 + 0.8 + 2.0 / 3.0 + 2.0 / 3.0) / 4.0
        ));
        assert_eq!(ravdess.classes, PC_NAMES);

        // TESS: 4 of 6 right; recalls neutral 1/2, happy 1, sad 1/2 over its 3 classes (not
        // 2/4 with calm's missing recall as 0); F1 neutral 1/2, happy 1, sad 2/3 (calm, absent
        // but predicted once, is left out: that clip is a miss of neutral).
        assert_eq!(tess.n_clips, 6);
        assert!(close(tess.accuracy, 4.0 / 6.0));
        assert!(close(tess.uar, 2.0 / 3.0), "{}", tess.uar);
        assert!(close(tess.macro_f1, (0.5 + 1.0 + 2.0 / 3.0) / 3.0));
        assert_eq!(tess.classes, ["neutral", "happy", "sad"]);
        assert_eq!(
            tess.confusion_matrix.counts(),
            &[
                vec![1, 1, 0, 0],
                vec![0; 4],
                vec![0, 0, 2, 0],
                vec![1, 0, 0, 1]
            ]
        );
        // The one UAR implementation: the same as the report of the TESS clips alone, whose
        // macro averages (sklearn's, over all 4 classes) would count calm as 0.
        let report =
            Report::from_labels(&[0, 0, 2, 2, 3, 3], &[0, 1, 2, 2, 3, 0], &PC_NAMES).unwrap();
        assert!(close(report.uar, tess.uar));
        assert!(close(
            report.macro_avg.f1,
            (0.5 + 0.0 + 1.0 + 2.0 / 3.0) / 4.0
        ));
        assert!(close(report.accuracy, tess.accuracy));

        // A single corpus: no per-corpus figures, unless the corpus is a mixed one.
        let ravdess_only = vec![CorpusKind::Ravdess; 8];
        let (t, p) = (&y_true[..8], &y_pred[..8]);
        assert_eq!(
            per_corpus_metrics(false, &ravdess_only, t, p, &PC_NAMES).unwrap(),
            None
        );
        let one = per_corpus_metrics(true, &ravdess_only, t, p, &PC_NAMES)
            .unwrap()
            .unwrap();
        assert_eq!(one.len(), 1);
        assert!(per_corpus_metrics(true, &ravdess_only[..2], t, p, &PC_NAMES).is_err());
    }

    #[test]
    fn per_corpus_aggregate_is_mean_std_over_the_folds_testing_it_and_pooled() {
        let (corpora, y_true, y_pred) = mixed_test_side();
        let fold1 = per_corpus_metrics(false, &corpora, &y_true, &y_pred, &PC_NAMES)
            .unwrap()
            .unwrap();
        // Fold 2 tests RAVDESS only, all 4 clips right.
        let fold2 = per_corpus_metrics(
            true,
            &[CorpusKind::Ravdess; 4],
            &[0, 1, 2, 3],
            &[0, 1, 2, 3],
            &PC_NAMES,
        )
        .unwrap()
        .unwrap();
        let agg = aggregate_per_corpus(&[(1, fold1.as_slice()), (2, fold2.as_slice())], &PC_NAMES)
            .unwrap();
        assert_eq!(agg.len(), 2);
        let (ravdess, tess) = (&agg[0], &agg[1]);
        assert_eq!(ravdess.corpus, CorpusKind::Ravdess);
        assert_eq!(ravdess.folds, [1, 2]);
        // Folds: accuracy and UAR 0.75 and 1.
        assert!(close(ravdess.mean.uar, 0.875) && close(ravdess.std.uar, 0.125));
        assert!(close(ravdess.mean.accuracy, 0.875) && close(ravdess.std.accuracy, 0.125));
        let f1_fold1 = (0.8 + 0.8 + 2.0 / 3.0 + 2.0 / 3.0) / 4.0;
        assert!(close(ravdess.mean.macro_f1, (f1_fold1 + 1.0) / 2.0));
        assert!(close(ravdess.std.macro_f1, (1.0 - f1_fold1) / 2.0));
        // Pooled: 12 clips, 10 right; recalls 3/3, 2/3, 2/3, 3/3.
        assert_eq!(ravdess.pooled.n_clips, 12);
        assert!(close(ravdess.pooled.accuracy, 10.0 / 12.0));
        assert!(close(ravdess.pooled.uar, 5.0 / 6.0));
        assert_eq!(
            ravdess.pooled.confusion_matrix.counts()[1],
            vec![1, 2, 0, 0]
        );
        // TESS is tested by fold 1 only.
        assert_eq!(tess.folds, [1]);
        assert_eq!(tess.mean, fold1[1].scalars());
        assert_eq!(tess.std, CorpusScalars::default());
        assert_eq!(tess.pooled, fold1[1]);
    }

    fn fold_metrics(run_dir: &Path, per_corpus: Option<Vec<CorpusMetrics>>) -> FoldMetrics {
        let (_, y_true, y_pred) = mixed_test_side();
        FoldMetrics {
            format_version: METRICS_VERSION,
            run_dir: run_dir.to_owned(),
            label: RunLabel {
                model: "svm".to_owned(),
                features: "full/seed".to_owned(),
                protocol: "speaker-4-fold".to_owned(),
                n_folds: 1,
                leak_warning: None,
            },
            fold: 1,
            test_speakers: vec!["ravdess:01".to_owned()],
            training_time_s: Some(1.0),
            epochs: 0,
            report: Report::from_labels(&y_true, &y_pred, &PC_NAMES).unwrap(),
            per_corpus,
        }
    }

    #[test]
    fn per_corpus_field_is_optional_in_metrics_json() {
        let (corpora, y_true, y_pred) = mixed_test_side();
        let per_corpus = per_corpus_metrics(false, &corpora, &y_true, &y_pred, &PC_NAMES).unwrap();
        let dir = tempfile::tempdir().unwrap();
        // A single-corpus file has no per_corpus key: what older builds wrote, and read back.
        let single = MetricsFile::Fold(fold_metrics(dir.path(), None));
        let json = serde_json::to_string_pretty(&single).unwrap();
        assert!(!json.contains("per_corpus"), "{json}");
        write_json(&dir.path().join(METRICS_FILE), &single).unwrap();
        assert_eq!(MetricsFile::load(dir.path()).unwrap(), single);
        assert!(single.summary().unwrap().uar_per_corpus.is_empty());

        let mixed = MetricsFile::Fold(fold_metrics(dir.path(), per_corpus));
        let json = serde_json::to_string_pretty(&mixed).unwrap();
        assert!(json.contains("\"corpus\": \"tess\""), "{json}");
        assert_eq!(serde_json::from_str::<MetricsFile>(&json).unwrap(), mixed);
        let summary = mixed.summary().unwrap();
        assert_eq!(summary.uar_per_corpus.len(), 2);
        assert_eq!(summary.uar_per_corpus[1].0, CorpusKind::Tess);
        assert!(close(summary.uar_per_corpus[1].1.mean, 2.0 / 3.0));
    }

    #[test]
    fn comparison_ends_with_the_uar_per_corpus() {
        let (corpora, y_true, y_pred) = mixed_test_side();
        let per_corpus = per_corpus_metrics(false, &corpora, &y_true, &y_pred, &PC_NAMES).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let (single, mixed) = (tmp.path().join("single"), tmp.path().join("mixed"));
        for (dir, pc) in [(&single, None), (&mixed, per_corpus)] {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join(RUN_INFO_FILE), "{}").unwrap();
            let file = MetricsFile::Fold(fold_metrics(dir, pc));
            write_json(&dir.join(METRICS_FILE), &file).unwrap();
        }
        let out = tmp.path().join("cmp");
        compare(&[single, mixed], &out, &EvalOptions::default()).unwrap();
        let md = std::fs::read_to_string(out.join("comparison.md")).unwrap();
        let lines: Vec<&str> = md.lines().collect();
        assert!(
            lines[0].ends_with("| training time (s) | UAR per corpus |"),
            "{md}"
        );
        assert!(lines[2].starts_with("| single |") && lines[2].ends_with("| 1.0 ± 0.0 |  |"));
        assert!(
            lines[3].ends_with("| 1.0 ± 0.0 | ravdess 0.7500 · tess 0.6667 |"),
            "{md}"
        );
        assert!(
            md.contains("UAR per corpus (runs of several corpora)"),
            "{md}"
        );
        let csv = std::fs::read_to_string(out.join("comparison.csv")).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert!(lines[0].ends_with(",training_time_s_std,uar_per_corpus"));
        assert!(lines[1].ends_with(",1.000,0.000,"), "{csv}");
        assert!(
            lines[2].ends_with(&format!(",1.000,0.000,ravdess=0.75;tess={}", 2.0 / 3.0)),
            "{csv}"
        );
    }

    #[test]
    fn presets_are_named() {
        assert_eq!(preset_name(&FeatureConfig::seed()), "seed");
        assert_eq!(preset_name(&FeatureConfig::speech16k()), "speech16k");
    }
}
