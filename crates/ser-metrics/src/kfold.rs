//! Aggregation of k-fold cross-validation results.
//!
//! Two views are provided: the **mean ± standard deviation** of every scalar
//! metric over the per-fold reports, and a **pooled** report computed on all
//! folds' predictions concatenated. The standard deviation is the
//! **population** one (divisor `k`, `ddof = 0`, numpy's `np.std` default);
//! multiply by `sqrt(k / (k - 1))` for the sample standard deviation.
//! Pooled AUCs rank scores of different fold models against each other,
//! so they can differ from the mean of the per-fold AUCs.

use serde::{Deserialize, Serialize};

use crate::classification::Prf;
use crate::error::{MetricsError, Result};
use crate::per_class::PerClass;
use crate::report::Report;
use crate::roc::RocPoints;
use crate::scores::Scores;

/// Delta degrees of freedom of [`FoldAggregate::std`] (population standard deviation).
pub const STD_DDOF: u32 = 0;

/// The scalar metrics of a [`Report`] (what is averaged over folds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalarMetrics {
    /// Accuracy.
    pub accuracy: f64,
    /// Unweighted average recall.
    pub uar: f64,
    /// Macro-averaged precision, recall and F1.
    pub macro_avg: Prf,
    /// Support-weighted precision, recall and F1.
    pub weighted_avg: Prf,
    /// Precision, recall and F1 of every class.
    pub per_class: PerClass<Prf>,
    /// Macro AUC; `None` unless defined in every report.
    pub macro_auc: Option<f64>,
    /// Micro AUC; `None` unless defined in every report.
    pub micro_auc: Option<f64>,
}

impl Report {
    /// The scalar metrics of this report.
    pub fn scalars(&self) -> ScalarMetrics {
        ScalarMetrics {
            accuracy: self.accuracy,
            uar: self.uar,
            macro_avg: self.macro_avg,
            weighted_avg: self.weighted_avg,
            per_class: self.per_class.map(|c| c.prf()),
            macro_auc: self.macro_auc(),
            micro_auc: self.micro_auc(),
        }
    }
}

/// Mean and population standard deviation of every scalar metric over folds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldAggregate {
    /// Number of folds aggregated.
    pub n_folds: usize,
    /// Always [`STD_DDOF`] (0): `std` divides by `n_folds`.
    pub std_ddof: u32,
    /// Mean over folds.
    pub mean: ScalarMetrics,
    /// Population standard deviation over folds.
    pub std: ScalarMetrics,
}

/// Combines the same field of every fold with `f`.
fn combine(folds: &[ScalarMetrics], f: &dyn Fn(&[f64]) -> f64) -> ScalarMetrics {
    let scalar =
        |get: &dyn Fn(&ScalarMetrics) -> f64| f(&folds.iter().map(get).collect::<Vec<_>>());
    let optional = |get: &dyn Fn(&ScalarMetrics) -> Option<f64>| {
        folds
            .iter()
            .map(get)
            .collect::<Option<Vec<f64>>>()
            .map(|v| f(&v))
    };
    let prf = |get: &dyn Fn(&ScalarMetrics) -> Prf| Prf {
        precision: scalar(&|m| get(m).precision),
        recall: scalar(&|m| get(m).recall),
        f1: scalar(&|m| get(m).f1),
    };
    let first = &folds[0];
    let per_class_values: Vec<Prf> = (0..first.per_class.len())
        .map(|c| prf(&|m| m.per_class.get_index(c).copied().unwrap_or_default()))
        .collect();
    let names: Vec<String> = first.per_class.names().map(str::to_owned).collect();
    ScalarMetrics {
        accuracy: scalar(&|m| m.accuracy),
        uar: scalar(&|m| m.uar),
        macro_avg: prf(&|m| m.macro_avg),
        weighted_avg: prf(&|m| m.weighted_avg),
        per_class: PerClass::from_parts(&names, per_class_values),
        macro_auc: optional(&|m| m.macro_auc),
        micro_auc: optional(&|m| m.micro_auc),
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn population_std(v: &[f64]) -> f64 {
    let m = mean(v);
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64).sqrt()
}

/// Mean and population standard deviation of the scalar metrics of per-fold reports.
///
/// # Errors
/// [`MetricsError::Empty`] for no reports, [`MetricsError::FoldClassNames`]
/// if the reports do not share the same class names.
pub fn aggregate_folds(reports: &[Report]) -> Result<FoldAggregate> {
    let first = reports
        .first()
        .ok_or(MetricsError::Empty { input: "folds" })?;
    if let Some((fold, r)) = reports
        .iter()
        .enumerate()
        .find(|(_, r)| r.class_names != first.class_names)
    {
        return Err(MetricsError::FoldClassNames {
            fold,
            expected: first.class_names.clone(),
            found: r.class_names.clone(),
        });
    }
    let scalars: Vec<ScalarMetrics> = reports.iter().map(Report::scalars).collect();
    Ok(FoldAggregate {
        n_folds: reports.len(),
        std_ddof: STD_DDOF,
        mean: combine(&scalars, &mean),
        std: combine(&scalars, &population_std),
    })
}

/// The held-out predictions of one fold.
#[derive(Debug, Clone, PartialEq)]
pub struct FoldPredictions {
    /// True labels.
    pub y_true: Vec<usize>,
    /// Predicted labels.
    pub y_pred: Vec<usize>,
    /// Class scores, one row per sample (optional).
    pub scores: Option<Scores>,
}

/// Per-fold reports, their mean ± std, and the pooled report of a cross-validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossValidationReport {
    /// Class names.
    pub class_names: Vec<String>,
    /// Mean and population std of the per-fold scalar metrics.
    pub aggregate: FoldAggregate,
    /// Report on all folds' predictions concatenated (with ROC analysis
    /// only if every fold has scores).
    pub pooled: Report,
    /// One report per fold, in order.
    pub folds: Vec<Report>,
}

impl CrossValidationReport {
    /// Evaluates every fold, aggregates them and pools their predictions
    /// (ROC curves keep [`RocPoints::DropIntermediate`]).
    ///
    /// # Errors
    /// [`MetricsError::Empty`] for no folds, [`MetricsError::Fold`] wrapping
    /// the error of a fold that cannot be evaluated.
    pub fn from_folds<S: AsRef<str>>(folds: &[FoldPredictions], class_names: &[S]) -> Result<Self> {
        if folds.is_empty() {
            return Err(MetricsError::Empty { input: "folds" });
        }
        let reports = folds
            .iter()
            .enumerate()
            .map(|(fold, f)| {
                Report::new(
                    &f.y_true,
                    &f.y_pred,
                    f.scores.as_ref(),
                    class_names,
                    RocPoints::default(),
                )
                .map_err(|e| MetricsError::Fold {
                    fold,
                    source: Box::new(e),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let aggregate = aggregate_folds(&reports)?;
        let pooled = pooled_report(folds, class_names, RocPoints::default())?;
        Ok(Self {
            class_names: pooled.class_names.clone(),
            aggregate,
            pooled,
            folds: reports,
        })
    }
}

/// One report on the concatenation of all folds' predictions; ROC analysis
/// is included only if every fold has scores.
///
/// # Errors
/// [`MetricsError::Empty`] for no folds, [`MetricsError::RowLength`] if
/// folds' scores differ in width, and the errors of [`Report::new`].
pub fn pooled_report<S: AsRef<str>>(
    folds: &[FoldPredictions],
    class_names: &[S],
    roc_points: RocPoints,
) -> Result<Report> {
    if folds.is_empty() {
        return Err(MetricsError::Empty { input: "folds" });
    }
    let y_true: Vec<usize> = folds
        .iter()
        .flat_map(|f| f.y_true.iter().copied())
        .collect();
    let y_pred: Vec<usize> = folds
        .iter()
        .flat_map(|f| f.y_pred.iter().copied())
        .collect();
    let scores = folds
        .iter()
        .map(|f| f.scores.as_ref())
        .collect::<Option<Vec<&Scores>>>()
        .map(|parts| Scores::concat(&parts))
        .transpose()?;
    Report::new(&y_true, &y_pred, scores.as_ref(), class_names, roc_points)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: [&str; 2] = ["a", "b"];

    #[test]
    fn mean_and_population_std() {
        // Fold accuracies 1.0 and 0.5 -> mean 0.75, population std 0.25.
        let f1 = Report::from_labels(&[0, 1], &[0, 1], &NAMES).unwrap();
        let f2 = Report::from_labels(&[0, 1], &[0, 0], &NAMES).unwrap();
        let agg = aggregate_folds(&[f1, f2]).unwrap();
        assert_eq!(agg.n_folds, 2);
        assert_eq!(agg.std_ddof, 0);
        assert_eq!(agg.mean.accuracy, 0.75);
        assert_eq!(agg.std.accuracy, 0.25);
        assert_eq!(agg.mean.per_class.get("b").map(|p| p.recall), Some(0.5));
        assert_eq!(agg.std.per_class.get("b").map(|p| p.recall), Some(0.5));
        assert_eq!(agg.mean.macro_auc, None);
    }

    #[test]
    fn aggregation_errors() {
        assert_eq!(
            aggregate_folds(&[]),
            Err(MetricsError::Empty { input: "folds" })
        );
        let f1 = Report::from_labels(&[0, 1], &[0, 1], &NAMES).unwrap();
        let f2 = Report::from_labels(&[0, 1], &[0, 1], &["a", "c"]).unwrap();
        assert!(matches!(
            aggregate_folds(&[f1, f2]),
            Err(MetricsError::FoldClassNames { fold: 1, .. })
        ));
        let bad = FoldPredictions {
            y_true: vec![0, 1],
            y_pred: vec![0],
            scores: None,
        };
        assert!(matches!(
            CrossValidationReport::from_folds(&[bad], &NAMES),
            Err(MetricsError::Fold { fold: 0, .. })
        ));
    }

    #[test]
    fn pooled_concatenates_and_keeps_roc_only_if_all_folds_have_scores() {
        let s1 = Scores::from_rows(&[vec![0.9f32, 0.1], vec![0.2, 0.8]]).unwrap();
        let with = FoldPredictions {
            y_true: vec![0, 1],
            y_pred: vec![0, 1],
            scores: Some(s1),
        };
        let without = FoldPredictions {
            y_true: vec![1, 1],
            y_pred: vec![0, 1],
            scores: None,
        };
        let cv =
            CrossValidationReport::from_folds(&[with.clone(), without.clone()], &NAMES).unwrap();
        assert_eq!(cv.pooled.n_samples, 4);
        assert_eq!(cv.pooled.accuracy, 0.75);
        assert!(cv.pooled.roc.is_none());
        assert_eq!(cv.folds.len(), 2);
        let cv = CrossValidationReport::from_folds(&[with.clone(), with], &NAMES).unwrap();
        assert_eq!(cv.pooled.micro_auc(), Some(1.0));
        assert_eq!(cv.aggregate.mean.macro_auc, Some(1.0));
    }
}
