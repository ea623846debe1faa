//! The full evaluation report of one set of predictions.

use serde::{Deserialize, Serialize};

use crate::classification::{
    ClassScores, Prf, REPORT_DIGITS, class_scores, format_report, macro_average,
    unweighted_average_recall, weighted_average,
};
use crate::confusion::ConfusionMatrix;
use crate::error::{MetricsError, Result};
use crate::per_class::PerClass;
use crate::roc::{RocPoints, RocSummary, one_vs_rest_roc};
use crate::scores::Scores;
use crate::validate::class_names as checked_names;

/// Every metric of one evaluation, ready to be written as `metrics.json`.
///
/// Scalars come first in the serialised form, curves last. Per-class
/// tables are JSON objects keyed by class name, in class order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Class names, index `i` naming label `i`.
    pub class_names: Vec<String>,
    /// Number of evaluated samples.
    pub n_samples: u64,
    /// Fraction of correct predictions.
    pub accuracy: f64,
    /// Unweighted average recall over the classes present in `y_true`
    /// (see [`unweighted_average_recall`](crate::unweighted_average_recall)).
    pub uar: f64,
    /// Unweighted means over all classes (sklearn `average="macro"`).
    pub macro_avg: Prf,
    /// Support-weighted means (sklearn `average="weighted"`).
    pub weighted_avg: Prf,
    /// Precision, recall, F1 and support of every class.
    pub per_class: PerClass<ClassScores>,
    /// Counts, `confusion_matrix[true][predicted]`.
    pub confusion_matrix: ConfusionMatrix,
    /// The confusion matrix with every row divided by its sum (zeros for absent classes).
    pub confusion_matrix_normalized: Vec<Vec<f64>>,
    /// One-vs-rest ROC analysis; present when scores were given.
    pub roc: Option<RocSummary>,
}

impl Report {
    /// Evaluates hard predictions only (no ROC analysis).
    ///
    /// `class_names.len()` is the number of classes; labels must be in `0..class_names.len()`.
    ///
    /// # Errors
    /// [`MetricsError::TooFewClasses`], [`MetricsError::DuplicateClassName`],
    /// [`MetricsError::LengthMismatch`], [`MetricsError::Empty`],
    /// [`MetricsError::LabelOutOfRange`].
    pub fn from_labels<S: AsRef<str>>(
        y_true: &[usize],
        y_pred: &[usize],
        class_names: &[S],
    ) -> Result<Self> {
        Self::new(y_true, y_pred, None, class_names, RocPoints::default())
    }

    /// Evaluates hard predictions and scores (ROC curves keep
    /// [`RocPoints::DropIntermediate`], sklearn's default).
    ///
    /// # Errors
    /// As [`Report::new`].
    pub fn with_scores<S: AsRef<str>>(
        y_true: &[usize],
        y_pred: &[usize],
        scores: &Scores,
        class_names: &[S],
    ) -> Result<Self> {
        Self::new(
            y_true,
            y_pred,
            Some(scores),
            class_names,
            RocPoints::default(),
        )
    }

    /// Evaluates hard predictions and, if given, scores with the chosen ROC points.
    ///
    /// # Errors
    /// Those of [`Report::from_labels`], plus [`MetricsError::LengthMismatch`]
    /// when `scores` does not have one row per sample and one column per class.
    pub fn new<S: AsRef<str>>(
        y_true: &[usize],
        y_pred: &[usize],
        scores: Option<&Scores>,
        class_names: &[S],
        roc_points: RocPoints,
    ) -> Result<Self> {
        let names = checked_names(class_names)?;
        let cm = ConfusionMatrix::from_labels(y_true, y_pred, names.len())?;
        let roc = match scores {
            Some(s) => Some(one_vs_rest_roc(y_true, s, &names, roc_points)?),
            None => None,
        };
        let mut report = Self::from_confusion(cm, &names)?;
        report.roc = roc;
        Ok(report)
    }

    /// Label metrics of an existing confusion matrix (no ROC analysis).
    ///
    /// # Errors
    /// [`MetricsError::TooFewClasses`], [`MetricsError::DuplicateClassName`],
    /// [`MetricsError::LengthMismatch`] (names vs matrix size),
    /// [`MetricsError::Empty`] for an all-zero matrix.
    pub fn from_confusion<S: AsRef<str>>(cm: ConfusionMatrix, class_names: &[S]) -> Result<Self> {
        let names = checked_names(class_names)?;
        if names.len() != cm.n_classes() {
            return Err(MetricsError::LengthMismatch {
                left: "class_names",
                left_len: names.len(),
                right: "confusion matrix rows",
                right_len: cm.n_classes(),
            });
        }
        let n_samples = cm.total();
        if n_samples == 0 {
            return Err(MetricsError::Empty {
                input: "confusion matrix",
            });
        }
        let scores = class_scores(&cm);
        Ok(Self {
            n_samples,
            accuracy: cm.correct() as f64 / n_samples as f64,
            uar: unweighted_average_recall(&cm),
            macro_avg: macro_average(&scores),
            weighted_avg: weighted_average(&scores),
            per_class: PerClass::from_parts(&names, scores),
            confusion_matrix_normalized: cm.row_normalized(),
            confusion_matrix: cm,
            roc: None,
            class_names: names,
        })
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.class_names.len()
    }

    /// The text of sklearn's `classification_report` with 4 digits.
    pub fn classification_report(&self) -> String {
        self.classification_report_with_digits(REPORT_DIGITS)
    }

    /// The text of sklearn's `classification_report` with `digits` decimals.
    pub fn classification_report_with_digits(&self, digits: usize) -> String {
        let scores: Vec<ClassScores> = self.per_class.values().copied().collect();
        format_report(
            &self.class_names,
            &scores,
            self.accuracy,
            &self.macro_avg,
            &self.weighted_avg,
            digits,
        )
    }

    /// Macro AUC, if scores were given and at least one class curve is defined.
    pub fn macro_auc(&self) -> Option<f64> {
        self.roc.as_ref().and_then(|r| r.macro_auc)
    }

    /// Micro AUC, if scores were given.
    pub fn micro_auc(&self) -> Option<f64> {
        self.roc.as_ref().map(|r| r.micro_auc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: [&str; 3] = ["neutral", "happy", "sad"];

    #[test]
    fn hand_computed_report() {
        let r = Report::from_labels(&[0, 0, 1, 1, 2, 2], &[0, 1, 1, 1, 2, 0], &NAMES).unwrap();
        assert_eq!(r.n_samples, 6);
        assert_eq!(r.n_classes(), 3);
        assert!((r.accuracy - 4.0 / 6.0).abs() < 1e-15);
        assert!((r.uar - (0.5 + 1.0 + 0.5) / 3.0).abs() < 1e-15);
        assert!((r.macro_avg.recall - r.uar).abs() < 1e-15);
        assert_eq!(r.per_class.get("happy").map(|c| c.support), Some(2));
        assert!((r.per_class.get("happy").unwrap().precision - 2.0 / 3.0).abs() < 1e-15);
        assert_eq!(r.confusion_matrix.counts()[2], vec![1, 0, 1]);
        assert_eq!(r.confusion_matrix_normalized[2], vec![0.5, 0.0, 0.5]);
        assert!(r.roc.is_none() && r.macro_auc().is_none() && r.micro_auc().is_none());
        assert!(
            r.classification_report()
                .contains("accuracy                         0.6667         6")
        );
    }

    #[test]
    fn scores_must_match_labels_and_names() {
        let s = Scores::from_rows(&[vec![0.6f32, 0.4], vec![0.1, 0.9]]).unwrap();
        assert!(matches!(
            Report::with_scores(&[0, 1], &[0, 1], &s, &NAMES),
            Err(MetricsError::LengthMismatch {
                left: "class_names",
                left_len: 3,
                right_len: 2,
                ..
            })
        ));
        assert!(matches!(
            Report::with_scores(&[0, 1, 1], &[0, 1, 1], &s, &NAMES[..2]),
            Err(MetricsError::LengthMismatch {
                left: "y_true",
                left_len: 3,
                right_len: 2,
                ..
            })
        ));
        let r = Report::with_scores(&[0, 1], &[0, 1], &s, &NAMES[..2]).unwrap();
        assert_eq!(r.macro_auc(), Some(1.0));
        assert_eq!(r.micro_auc(), Some(1.0));
    }

    #[test]
    fn from_confusion_validates() {
        let cm = ConfusionMatrix::from_counts(vec![vec![0; 3]; 3]).unwrap();
        assert_eq!(
            Report::from_confusion(cm.clone(), &NAMES),
            Err(MetricsError::Empty {
                input: "confusion matrix"
            })
        );
        assert!(matches!(
            Report::from_confusion(cm, &NAMES[..2]),
            Err(MetricsError::LengthMismatch {
                left_len: 2,
                right_len: 3,
                ..
            })
        ));
    }

    #[test]
    fn json_round_trip_and_layout() {
        let s = Scores::from_rows(&[
            vec![0.7f32, 0.2, 0.1],
            vec![0.2, 0.5, 0.3],
            vec![0.1, 0.3, 0.6],
        ])
        .unwrap();
        let r = Report::with_scores(&[0, 1, 2], &[0, 1, 1], &s, &NAMES).unwrap();
        let json = serde_json::to_string_pretty(&r).unwrap();
        assert!(
            json.contains("\"per_class\": {\n    \"neutral\": {"),
            "{json}"
        );
        let back: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
    }
}
