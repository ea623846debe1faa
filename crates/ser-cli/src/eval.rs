//! Evaluation of trained run folders (`ser-eval`): predictions on each fold's test side,
//! metrics, plots, k-fold aggregates and comparisons of several runs.
//!
//! Files written into an evaluated fold folder:
//!
//! | file | content |
//! |---|---|
//! | `metrics.json` | [`MetricsFile::Fold`]: the `ser-metrics` report plus model, protocol, fold, leak warning |
//! | `report.txt` | the classification report (sklearn layout) |
//! | `predictions.csv` | path, true label, predicted label, one probability column per class |
//! | `confusion_matrix.{png,svg}`, `roc.{png,svg}`, `training_curves.{png,svg}` | plots |
//!
//! A k-fold parent folder (holding `fold-N/` run folders) additionally gets the aggregate:
//! `metrics.json` ([`MetricsFile::CrossValidation`]: per-fold reports, mean ± population std,
//! pooled report), `report.txt`, and pooled `confusion_matrix` and `roc` plots.
//!
//! [`compare`] writes `comparison.md`, `comparison.csv` and `comparison.{png,svg}`.
//! Every file is written atomically.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use ser_data::{BuildOptions, Dataset, LabelMap};
use ser_features::FeatureConfig;
use ser_metrics::{CrossValidationReport, FoldPredictions, Report, Scores};
use ser_plot::{MeanStd, ModelComparison, ModelScores, OutputPaths, TrainingHistory};
use ser_trainer::run::HISTORY_FILE;
use serde::{Deserialize, Serialize};

use crate::{Classifier, RUN_INFO_FILE, RunInfo, write_atomic};

/// Metrics file name (per fold and for the k-fold aggregate).
pub const METRICS_FILE: &str = "metrics.json";
/// Classification report file name.
pub const REPORT_FILE: &str = "report.txt";
/// Per-utterance predictions file name.
pub const PREDICTIONS_FILE: &str = "predictions.csv";
/// Stem of the confusion-matrix plot.
pub const CONFUSION_STEM: &str = "confusion_matrix";
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
}

impl Default for EvalOptions {
    /// The default feature cache of the workspace, with progress.
    fn default() -> Self {
        let build = BuildOptions::default();
        EvalOptions {
            cache_dir: build.cache_dir,
            progress: build.progress,
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

impl MetricsFile {
    /// Reads `metrics.json` of a folder.
    pub fn load(dir: &Path) -> Result<MetricsFile> {
        let path = dir.join(METRICS_FILE);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let file: MetricsFile = serde_json::from_str(&text).with_context(|| {
            format!(
                "{}: corrupted metrics file (delete it and run ser-eval again)",
                path.display()
            )
        })?;
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
    /// True labels (indices into `info.label_map`).
    pub y_true: Vec<usize>,
    /// Predicted labels.
    pub y_pred: Vec<usize>,
    /// Class probabilities, one row per utterance.
    pub scores: Scores,
    /// The written metrics.
    pub metrics: FoldMetrics,
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
            let number = name
                .to_str()
                .and_then(|n| n.strip_prefix("fold-"))
                .and_then(|n| n.parse::<usize>().ok());
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

/// A dataset rebuilt for one (corpus folder, feature configuration), reused across folds.
struct DatasetCache {
    key: Option<(PathBuf, Option<PathBuf>, FeatureConfig)>,
    dataset: Option<Dataset>,
}

impl DatasetCache {
    fn get(&mut self, info: &RunInfo, options: &EvalOptions) -> Result<&Dataset> {
        let key = (
            info.data_dir.clone(),
            info.test_data_dir.clone(),
            info.feature_config.clone(),
        );
        if self.key.as_ref() != Some(&key) || self.dataset.is_none() {
            if !info.data_dir.is_dir() {
                bail!(
                    "{}: the run's corpus folder is missing (paths in {RUN_INFO_FILE} are relative to where \
                     ser-train ran)",
                    info.data_dir.display()
                );
            }
            let corpus = crate::load_corpus(&info.data_dir, info.test_data_dir.as_deref(), None)?;
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
        self.dataset.as_ref().context("dataset cache is empty")
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
        }
        text
    }
}

/// Evaluates a run folder or a k-fold parent folder and writes every output file
/// (see the module documentation).
pub fn evaluate(dir: &Path, options: &EvalOptions) -> Result<Evaluation> {
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
        key: None,
        dataset: None,
    };
    let mut folds = Vec::with_capacity(runs.len());
    for (d, info, classifier) in runs {
        let dataset = cache.get(&info, options)?;
        let fold = evaluate_fold(&d, info, &classifier, dataset)?;
        write_fold_outputs(&fold)?;
        folds.push(fold);
    }

    let aggregate = match folder {
        RunFolder::Fold(_) => None,
        RunFolder::Parent(_) => {
            let a = aggregate_folds(dir, &folds)?;
            write_aggregate_outputs(dir, &a)?;
            Some(a)
        }
    };
    Ok(Evaluation { folds, aggregate })
}

/// Predicts the test side of one fold and computes its metrics (writes nothing).
pub fn evaluate_fold(
    run_dir: &Path,
    info: RunInfo,
    classifier: &Classifier,
    dataset: &Dataset,
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
    for &i in &split.test {
        inputs.push(classifier.prepare(&info, dataset.matrix(i)?)?);
        let emotion = dataset.emotion(i)?;
        y_true.push(info.label_map.index_of(emotion).with_context(|| {
            format!(
                "{}: {emotion} is not in the run's label map",
                run_dir.display()
            )
        })?);
        paths.push(
            dataset
                .corpus()
                .items
                .get(i)
                .map(|u| u.path.clone())
                .unwrap_or_default(),
        );
    }
    if classifier.speaker_norm() {
        // Each test speaker is normalised with their own test utterances (labels unused).
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
    };
    Ok(FoldEvaluation {
        run_dir: run_dir.to_owned(),
        info,
        paths,
        y_true,
        y_pred,
        scores,
        metrics,
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
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines
        .next()
        .map(|h| h.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let column = |name: &str| header.iter().position(|h| *h == name);
    let mut history = History::default();
    let targets: [(Option<usize>, ColumnTarget); 6] = [
        (column("train_loss"), |h| &mut h.curves.train_loss),
        (column("val_loss"), |h| &mut h.curves.val_loss),
        (column("train_accuracy"), |h| &mut h.curves.train_accuracy),
        (column("val_accuracy"), |h| &mut h.curves.val_accuracy),
        (column("val_uar"), |h| &mut h.curves.val_uar),
        (column("duration_s"), |h| &mut h.duration_s),
    ];
    for (line_no, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != header.len() {
            bail!(
                "{}: line {} has {} fields, the header {}",
                path.display(),
                line_no + 2,
                fields.len(),
                header.len()
            );
        }
        for (col, target) in &targets {
            if let Some(c) = *col {
                let value: f64 = fields[c].parse().with_context(|| {
                    format!(
                        "{}: line {}: {:?} is not a number",
                        path.display(),
                        line_no + 2,
                        fields[c]
                    )
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

/// Quotes a CSV field when it needs it (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
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

/// Writes `metrics.json`, `report.txt`, `predictions.csv` and the plots of one fold.
pub fn write_fold_outputs(fold: &FoldEvaluation) -> Result<()> {
    let dir = &fold.run_dir;
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
    write_atomic(&dir.join(REPORT_FILE), text.as_bytes())?;

    let names = fold.info.label_map.names();
    let mut csv = String::from("path,true_label,predicted_label");
    for n in &names {
        let _ = write!(csv, ",p_{n}");
    }
    csv.push('\n');
    for (k, path) in fold.paths.iter().enumerate() {
        let label = |i: usize| names.get(i).copied().unwrap_or("?");
        let _ = write!(
            csv,
            "{},{},{}",
            csv_field(&path.display().to_string()),
            label(fold.y_true[k]),
            label(fold.y_pred[k])
        );
        for p in fold.scores.row(k).unwrap_or_default() {
            let _ = write!(csv, ",{p}");
        }
        csv.push('\n');
    }
    write_atomic(&dir.join(PREDICTIONS_FILE), csv.as_bytes())?;

    write_report_plots(dir, report, &|what| title_of(&fold.info, what))?;
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
    Ok(CrossValidationMetrics {
        format_version: METRICS_VERSION,
        run_dir: dir.to_owned(),
        label: RunLabel::of(&first.info),
        folds: folds.iter().map(|f| f.metrics.fold).collect(),
        fold_training_time_s: folds.iter().map(|f| f.metrics.training_time_s).collect(),
        cross_validation,
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
    write_atomic(&dir.join(REPORT_FILE), text.as_bytes())?;
    write_report_plots(dir, &cv.pooled, &|what| {
        format!("{header}, pooled folds: {what}")
    })
}

/// Reads the metrics of each run folder (evaluating those without `metrics.json` first) and
/// writes `comparison.md`, `comparison.csv` and `comparison.{png,svg}` into `out_dir`.
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
        RunFolder::detect(dir)?;
        let file = if dir.join(METRICS_FILE).exists() {
            MetricsFile::load(dir)?
        } else {
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
        "| run | model | features | protocol | folds | accuracy | UAR | macro-F1 | weighted-F1 | training time (s) |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    let mut csv = String::from(
        "run,model,features,protocol,folds,accuracy_mean,accuracy_std,uar_mean,uar_std,macro_f1_mean,macro_f1_std,\
         weighted_f1_mean,weighted_f1_std,training_time_s_mean,training_time_s_std\n",
    );
    for (name, r) in names.iter().zip(&rows) {
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.label.model,
            r.label.features,
            r.label.protocol,
            r.n_folds_evaluated,
            pm(r.accuracy),
            pm(r.uar),
            pm(r.macro_f1),
            pm(r.weighted_f1),
            time(r.training_time_s)
        );
        let (t_mean, t_std) = r
            .training_time_s
            .map_or((String::new(), String::new()), |t| {
                (format!("{:.3}", t.mean), format!("{:.3}", t.std))
            });
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{t_mean},{t_std}",
            csv_field(name),
            csv_field(&r.label.model),
            csv_field(&r.label.features),
            csv_field(&r.label.protocol),
            r.n_folds_evaluated,
            r.accuracy.mean,
            r.accuracy.std,
            r.uar.mean,
            r.uar.std,
            r.macro_f1.mean,
            r.macro_f1.std,
            r.weighted_f1.mean,
            r.weighted_f1.std
        );
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
        csv.as_bytes(),
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
            Some(parent) if name.starts_with("fold-") => {
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
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("a/b.wav"), "a/b.wav");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
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

    #[test]
    fn presets_are_named() {
        assert_eq!(preset_name(&FeatureConfig::seed()), "seed");
        assert_eq!(preset_name(&FeatureConfig::speech16k()), "speech16k");
    }
}
