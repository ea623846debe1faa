//! Robustness evaluation (`ser-eval --robustness RUN`): a run's test side predicted again
//! under fixed, seeded recording conditions, as a user's recordings would reach the model.
//!
//! Every test clip of every fold is decoded once, then turned into each
//! [`ser_data::Condition`] (a gain, peak normalisation, the telephone band, pink noise,
//! reverberation, the 48 kHz release with high-band noise, ...; a pure function of the seed and
//! the clip's corpus index) and predicted exactly as `ser-predict` predicts a file
//! ([`crate::predict::predict_audio`]: the model's front end, analysis windows, silence).
//! Per condition and fold: UAR, accuracy and **label agreement** (the share of clips whose
//! predicted label is the one predicted for the clean clip). A clip in which no speech is
//! found counts as predicted "silence", which is never right. Written into each fold folder
//! and, aggregated as mean ± population std over the folds, into the run folder:
//! `robustness.json`, `robustness.csv`, `robustness.md` and `robustness.{png,svg}`.

use std::path::{Path, PathBuf};

use crate::Result;
use crate::error::ResultExt as _;
use crate::error::bail;
use ser_data::Condition;
use ser_metrics::{ConfusionMatrix, accuracy, unweighted_average_recall};
use serde::{Deserialize, Serialize};

use crate::eval::{RunFolder, RunLabel};
use crate::predict::predict_audio;
use crate::{Model, RunInfo, write_atomic};

/// File stem of the outputs (`robustness.json`, `.csv`, `.md`, `.png`, `.svg`).
pub const ROBUSTNESS_STEM: &str = "robustness";

/// Version of the `robustness.json` layout.
pub const ROBUSTNESS_VERSION: u32 = 1;

/// How to run a robustness evaluation.
#[derive(Debug, Clone)]
pub struct RobustnessOptions {
    /// The conditions, in the order of the tables (the first should be `clean`: agreement
    /// is measured against the clean prediction, which is always computed).
    pub conditions: Vec<Condition>,
    /// Seed of every random condition (noise, room).
    pub seed: u64,
    /// Hop between analysis windows in seconds, as `ser-predict --hop-s`.
    pub hop_s: f64,
    /// Worker threads (each loads its own copy of the model).
    pub threads: usize,
    /// Report progress on stderr.
    pub progress: bool,
}

impl Default for RobustnessOptions {
    /// The standard conditions, seed 0, the hop of `ser-predict`, two threads.
    fn default() -> Self {
        RobustnessOptions {
            conditions: Condition::standard_set(),
            seed: 0,
            hop_s: DEFAULT_HOP_S,
            threads: 2,
            progress: true,
        }
    }
}

/// The default hop between analysis windows (as `ser-predict`).
pub const DEFAULT_HOP_S: f64 = 1.0;

/// The scores of one condition on one fold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionScores {
    /// The condition's name.
    pub condition: String,
    /// Unweighted average recall.
    pub uar: f64,
    /// Accuracy.
    pub accuracy: f64,
    /// Share of clips whose label is the clean clip's label.
    pub agreement: f64,
    /// Clips in which no speech was found (predicted "silence").
    pub n_silent: usize,
}

/// One fold's robustness.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldRobustness {
    /// The fold's run folder.
    pub run_dir: PathBuf,
    /// The fold, 1-based.
    pub fold: usize,
    /// Its test speakers.
    pub test_speakers: Vec<String>,
    /// Test clips.
    pub n_clips: usize,
    /// Scores per condition, in the order of the options.
    pub conditions: Vec<ConditionScores>,
}

/// Mean and population standard deviation over folds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanStd {
    /// Mean.
    pub mean: f64,
    /// Population standard deviation.
    pub std: f64,
}

impl MeanStd {
    fn of(values: &[f64]) -> MeanStd {
        if values.is_empty() {
            return MeanStd {
                mean: 0.0,
                std: 0.0,
            };
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        MeanStd {
            mean,
            std: var.sqrt(),
        }
    }
}

/// One condition over all folds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionSummary {
    /// The condition's name.
    pub condition: String,
    /// UAR over folds.
    pub uar: MeanStd,
    /// UAR minus the clean UAR, fold by fold.
    pub uar_change: MeanStd,
    /// Accuracy over folds.
    pub accuracy: MeanStd,
    /// Label agreement with the clean clips over folds.
    pub agreement: MeanStd,
}

/// Content of `robustness.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RobustnessReport {
    /// Layout version ([`ROBUSTNESS_VERSION`]).
    pub format_version: u32,
    /// The folder evaluated.
    pub run_dir: PathBuf,
    /// What the run is.
    pub label: RunLabel,
    /// Seed of the conditions.
    pub seed: u64,
    /// Hop between analysis windows.
    pub hop_s: f64,
    /// The command that reproduces it.
    pub reproduce: String,
    /// Every fold.
    pub folds: Vec<FoldRobustness>,
    /// Every condition over the folds.
    pub summary: Vec<ConditionSummary>,
}

/// The test clips of a fold: (corpus index, path, class index).
fn test_clips(dir: &Path, info: &RunInfo) -> Result<Vec<(usize, PathBuf, usize)>> {
    let corpus = info
        .load_corpus()
        .with_context(|| format!("{}: cannot read the run's corpus", dir.display()))?;
    let splits = info
        .protocol
        .splits(&corpus)
        .with_context(|| format!("{}: cannot rebuild the split", dir.display()))?;
    let split = splits.get(info.fold).with_context(|| {
        format!(
            "{}: fold {} does not exist in protocol {}",
            dir.display(),
            info.fold + 1,
            info.protocol.name()
        )
    })?;
    let speakers: Vec<String> = split
        .test_speakers
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    if speakers != info.test_speakers {
        bail!(
            "{}: the corpus changed since training: fold {} now tests speakers {speakers:?}, the \
             run was tested on {:?}",
            dir.display(),
            info.fold + 1,
            info.test_speakers
        );
    }
    if split.test.is_empty() {
        bail!(
            "{}: fold {} has no test clips",
            dir.display(),
            info.fold + 1
        );
    }
    split
        .test
        .iter()
        .map(|&i| {
            let u = corpus
                .items
                .get(i)
                .with_context(|| format!("{}: test index {i} outside the corpus", dir.display()))?;
            let class = info.label_map.index_of(u.emotion).with_context(|| {
                format!(
                    "{}: {} is not in the run's label map",
                    dir.display(),
                    u.emotion
                )
            })?;
            Ok((i, u.path.clone(), class))
        })
        .collect()
}

/// One worker's share: (clip position, predicted class under each condition).
type WorkerLabels = Vec<(usize, Vec<usize>)>;

/// The predicted class of every clip under every condition (`n_classes` for silence).
fn predict_conditions(
    dir: &Path,
    clips: &[(usize, PathBuf, usize)],
    options: &RobustnessOptions,
    n_classes: usize,
    progress: &ser_data::Progress,
) -> Result<Vec<Vec<usize>>> {
    let threads = options.threads.clamp(1, clips.len().max(1));
    let work = |worker: usize| -> Result<WorkerLabels> {
        let mut model = Model::load(dir)?;
        let mut out = Vec::new();
        for (k, (index, path, _)) in clips.iter().enumerate().skip(worker).step_by(threads) {
            let audio = ser_audio::load(path)?;
            let mut labels = Vec::with_capacity(options.conditions.len());
            for condition in &options.conditions {
                let changed = condition
                    .apply(&audio, options.seed, *index as u64)
                    .with_context(|| format!("{}: condition {condition}", path.display()))?;
                let prediction = predict_audio(&mut model, &changed, options.hop_s)
                    .with_context(|| format!("{} under {condition}", path.display()))?;
                labels.push(
                    prediction
                        .probabilities
                        .as_deref()
                        .map_or(n_classes, argmax),
                );
            }
            out.push((k, labels));
            progress.inc();
        }
        Ok(out)
    };
    let parts: Vec<Result<WorkerLabels>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads).map(|w| s.spawn(move || work(w))).collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(crate::RunError::invalid("a robustness worker panicked"))
                })
            })
            .collect()
    });
    let mut labels = vec![Vec::new(); clips.len()];
    for part in parts {
        for (k, l) in part? {
            labels[k] = l;
        }
    }
    Ok(labels)
}

fn argmax(p: &[f32]) -> usize {
    p.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i)
}

/// Evaluates one fold folder (writes nothing).
pub fn fold_robustness(dir: &Path, options: &RobustnessOptions) -> Result<FoldRobustness> {
    let info = RunInfo::load(dir)?;
    let probe = Model::load(dir)?;
    if probe.needs_speaker_reference() {
        bail!(
            "{}: a speaker-normalised model needs reference recordings of each speaker; the \
             robustness evaluation predicts clips one by one, as ser-predict does",
            dir.display()
        );
    }
    drop(probe);
    if options.conditions.is_empty() {
        bail!("no condition to evaluate");
    }
    let clips = test_clips(dir, &info)?;
    let n_classes = info.label_map.len();
    let mut conditions = options.conditions.clone();
    // Agreement needs the clean labels: predict them too when they were not asked for.
    let clean_at = match conditions.iter().position(|c| *c == Condition::Clean) {
        Some(i) => i,
        None => {
            conditions.insert(0, Condition::Clean);
            0
        }
    };
    let all = RobustnessOptions {
        conditions: conditions.clone(),
        ..options.clone()
    };
    let progress = ser_data::Progress::new(
        &format!("robustness of fold {}", info.fold + 1),
        clips.len(),
        options.progress,
    );
    let labels = predict_conditions(dir, &clips, &all, n_classes, &progress)?;
    progress.finish();
    let y_true: Vec<usize> = clips.iter().map(|c| c.2).collect();
    let mut scores = Vec::with_capacity(options.conditions.len());
    for (j, condition) in conditions.iter().enumerate() {
        if !options.conditions.contains(condition) {
            continue;
        }
        let y_pred: Vec<usize> = labels.iter().map(|l| l[j]).collect();
        // Silence is an extra column that no clip is labelled with: always wrong.
        let cm = ConfusionMatrix::from_labels(&y_true, &y_pred, n_classes + 1)?;
        let same = labels.iter().filter(|l| l[j] == l[clean_at]).count();
        scores.push(ConditionScores {
            condition: condition.to_string(),
            uar: unweighted_average_recall(&cm),
            accuracy: accuracy(&y_true, &y_pred)?,
            agreement: same as f64 / labels.len() as f64,
            n_silent: y_pred.iter().filter(|&&p| p == n_classes).count(),
        });
    }
    Ok(FoldRobustness {
        run_dir: dir.to_owned(),
        fold: info.fold + 1,
        test_speakers: info.test_speakers.clone(),
        n_clips: clips.len(),
        conditions: scores,
    })
}

/// Evaluates a run folder or a k-fold parent and writes the outputs (see the module docs).
pub fn evaluate_robustness(dir: &Path, options: &RobustnessOptions) -> Result<RobustnessReport> {
    let fold_dirs = match RunFolder::detect(dir)? {
        RunFolder::Fold(d) => vec![d],
        RunFolder::Parent(ds) => ds,
    };
    // Check every fold before the long work.
    let mut infos = Vec::with_capacity(fold_dirs.len());
    for d in &fold_dirs {
        infos.push(RunInfo::load(d)?);
    }
    let label = RunLabel::of(&infos[0]);
    let mut folds = Vec::with_capacity(fold_dirs.len());
    for d in &fold_dirs {
        let fold = fold_robustness(d, options)?;
        if fold_dirs.len() > 1 {
            write_outputs(d, &report_of(d, &label, options, vec![fold.clone()]))?;
        }
        folds.push(fold);
    }
    let report = report_of(dir, &label, options, folds);
    write_outputs(dir, &report)?;
    Ok(report)
}

fn report_of(
    dir: &Path,
    label: &RunLabel,
    options: &RobustnessOptions,
    folds: Vec<FoldRobustness>,
) -> RobustnessReport {
    let names: Vec<String> = options.conditions.iter().map(|c| c.to_string()).collect();
    let clean = Condition::Clean.to_string();
    let summary = names
        .iter()
        .map(|name| {
            let pick = |f: &FoldRobustness, what: fn(&ConditionScores) -> f64| {
                f.conditions.iter().find(|c| &c.condition == name).map(what)
            };
            let uar: Vec<f64> = folds.iter().filter_map(|f| pick(f, |c| c.uar)).collect();
            let change: Vec<f64> = folds
                .iter()
                .filter_map(|f| {
                    let base = f.conditions.iter().find(|c| c.condition == clean)?;
                    Some(pick(f, |c| c.uar)? - base.uar)
                })
                .collect();
            ConditionSummary {
                condition: name.clone(),
                uar: MeanStd::of(&uar),
                uar_change: MeanStd::of(&change),
                accuracy: MeanStd::of(
                    &folds
                        .iter()
                        .filter_map(|f| pick(f, |c| c.accuracy))
                        .collect::<Vec<_>>(),
                ),
                agreement: MeanStd::of(
                    &folds
                        .iter()
                        .filter_map(|f| pick(f, |c| c.agreement))
                        .collect::<Vec<_>>(),
                ),
            }
        })
        .collect();
    let conditions = names.join(",");
    RobustnessReport {
        format_version: ROBUSTNESS_VERSION,
        run_dir: dir.to_owned(),
        label: label.clone(),
        seed: options.seed,
        hop_s: options.hop_s,
        reproduce: format!(
            "ser-eval --robustness {} --conditions {conditions} --seed {}",
            dir.display(),
            options.seed
        ),
        folds,
        summary,
    }
}

/// The Markdown table of a report.
pub fn markdown(report: &RobustnessReport) -> String {
    let n = report.folds.len();
    let mut md = format!(
        "# Robustness of {} ({}, {})\n\n{} fold{} of {} test clips each on average; mean ± \
         population std over folds. Reproduce: `{}`\n\n",
        report.label.model,
        report.label.features,
        report.label.protocol,
        n,
        if n == 1 { "" } else { "s" },
        report.folds.iter().map(|f| f.n_clips).sum::<usize>() / n.max(1),
        report.reproduce
    );
    md.push_str("| condition | UAR | change vs clean | accuracy | labels unchanged |\n");
    md.push_str("|---|---|---|---|---|\n");
    for s in &report.summary {
        md.push_str(&format!(
            "| {} | {:.3} ± {:.3} | {:+.3} | {:.3} ± {:.3} | {:.1}% |\n",
            s.condition,
            s.uar.mean,
            s.uar.std,
            s.uar_change.mean,
            s.accuracy.mean,
            s.accuracy.std,
            100.0 * s.agreement.mean
        ));
    }
    md
}

/// `robustness.csv`: one row per condition, figures to six decimals.
fn csv(report: &RobustnessReport) -> Vec<u8> {
    let mut csv = crate::csv_text::CsvText::new();
    csv.record([
        "condition",
        "uar_mean",
        "uar_std",
        "uar_change_mean",
        "accuracy_mean",
        "accuracy_std",
        "agreement_mean",
        "agreement_std",
    ]);
    let six = |v: f64| format!("{v:.6}");
    for s in &report.summary {
        csv.record([
            s.condition.clone(),
            six(s.uar.mean),
            six(s.uar.std),
            six(s.uar_change.mean),
            six(s.accuracy.mean),
            six(s.accuracy.std),
            six(s.agreement.mean),
            six(s.agreement.std),
        ]);
    }
    csv.into_bytes()
}

fn write_outputs(dir: &Path, report: &RobustnessReport) -> Result<()> {
    let mut json = serde_json::to_string_pretty(report)?;
    json.push('\n');
    write_atomic(
        &dir.join(format!("{ROBUSTNESS_STEM}.json")),
        json.as_bytes(),
    )?;
    write_atomic(&dir.join(format!("{ROBUSTNESS_STEM}.csv")), &csv(report))?;
    write_atomic(
        &dir.join(format!("{ROBUSTNESS_STEM}.md")),
        markdown(report).as_bytes(),
    )?;
    let chart = ser_plot::ModelComparison {
        metric_names: vec!["UAR".to_owned(), "labels unchanged".to_owned()],
        models: report
            .summary
            .iter()
            .map(|s| ser_plot::ModelScores {
                model: s.condition.clone(),
                values: vec![
                    ser_plot::MeanStd {
                        mean: s.uar.mean,
                        std: s.uar.std,
                    },
                    ser_plot::MeanStd {
                        mean: s.agreement.mean,
                        std: s.agreement.std,
                    },
                ],
            })
            .collect(),
        chance_level: None,
    };
    let title = format!(
        "Robustness: {} ({}, {})",
        report.label.model, report.label.features, report.label.protocol
    );
    ser_plot::plot_model_comparison(
        &chart,
        &title,
        &ser_plot::OutputPaths::from_stem(dir.join(ROBUSTNESS_STEM)),
    )
    .with_context(|| format!("cannot plot {}", dir.join(ROBUSTNESS_STEM).display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_population_std() {
        let m = MeanStd::of(&[0.5, 0.7]);
        assert!((m.mean - 0.6).abs() < 1e-12 && (m.std - 0.1).abs() < 1e-12);
        assert_eq!(
            MeanStd::of(&[]),
            MeanStd {
                mean: 0.0,
                std: 0.0
            }
        );
    }

    #[test]
    fn csv_is_byte_for_byte_the_committed_text() {
        let m = |mean, std| MeanStd { mean, std };
        let row = |condition: &str| ConditionSummary {
            condition: condition.to_owned(),
            uar: m(0.5, 0.125),
            uar_change: m(-0.1, 0.0),
            accuracy: m(2.0 / 3.0, 0.01),
            agreement: m(1.0, 0.0),
        };
        let report = RobustnessReport {
            format_version: ROBUSTNESS_VERSION,
            run_dir: PathBuf::from("runs/svm"),
            label: RunLabel {
                model: "svm".to_owned(),
                features: "full/robust".to_owned(),
                protocol: "kfold:2".to_owned(),
                n_folds: 2,
                leak_warning: None,
            },
            seed: 1,
            hop_s: 0.5,
            reproduce: String::new(),
            folds: Vec::new(),
            summary: vec![row("clean"), row("noise, 10 dB")],
        };
        // The text the hand-written writer produced for the first row; the second is quoted.
        assert_eq!(
            String::from_utf8(csv(&report)).unwrap(),
            "condition,uar_mean,uar_std,uar_change_mean,accuracy_mean,accuracy_std,\
             agreement_mean,agreement_std\n\
             clean,0.500000,0.125000,-0.100000,0.666667,0.010000,1.000000,0.000000\n\
             \"noise, 10 dB\",0.500000,0.125000,-0.100000,0.666667,0.010000,1.000000,0.000000\n"
        );
    }

    #[test]
    fn argmax_takes_the_largest() {
        assert_eq!(argmax(&[0.1, 0.7, 0.2]), 1);
        assert_eq!(argmax(&[]), 0);
    }
}
