//! Label-based metrics: accuracy, precision/recall/F1, UAR and the text report.
//!
//! Semantics follow scikit-learn with explicit `labels=range(n_classes)` and
//! `zero_division=0`: a ratio whose denominator is zero is `0.0`. Concretely,
//! precision of a class that is never predicted is 0, recall of a class
//! absent from `y_true` is 0, and F1 (`2·tp / (2·tp + fp + fn)`) of a class
//! neither present nor predicted is 0. Such classes still count in macro
//! averages (as in sklearn), which is why [`unweighted_average_recall`]
//! exists separately.

use serde::{Deserialize, Serialize};

use crate::confusion::ConfusionMatrix;
use crate::error::{MetricsError, Result};

/// Default number of decimals of [`classification_report`] (as used by the project).
pub const REPORT_DIGITS: usize = 4;

/// Precision, recall and F1 (of one class or an average over classes).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Prf {
    /// Precision `tp / (tp + fp)`.
    pub precision: f64,
    /// Recall `tp / (tp + fn)`.
    pub recall: f64,
    /// F1 score `2·tp / (2·tp + fp + fn)`.
    pub f1: f64,
}

/// Precision, recall, F1 and support of one class.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ClassScores {
    /// Precision `tp / (tp + fp)`; 0 if the class is never predicted.
    pub precision: f64,
    /// Recall `tp / (tp + fn)`; 0 if the class is absent from `y_true`.
    pub recall: f64,
    /// F1 score `2·tp / (2·tp + fp + fn)`; 0 if the denominator is 0.
    pub f1: f64,
    /// Number of samples of this class in `y_true`.
    pub support: u64,
}

impl ClassScores {
    /// Precision, recall and F1 without the support.
    pub fn prf(&self) -> Prf {
        Prf {
            precision: self.precision,
            recall: self.recall,
            f1: self.f1,
        }
    }
}

/// `num / den`, or 0 when `den == 0` (sklearn's `zero_division=0`).
fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Fraction of samples with `y_pred[i] == y_true[i]`.
///
/// # Errors
/// [`MetricsError::LengthMismatch`] or [`MetricsError::Empty`].
pub fn accuracy(y_true: &[usize], y_pred: &[usize]) -> Result<f64> {
    if y_true.len() != y_pred.len() {
        return Err(MetricsError::LengthMismatch {
            left: "y_true",
            left_len: y_true.len(),
            right: "y_pred",
            right_len: y_pred.len(),
        });
    }
    if y_true.is_empty() {
        return Err(MetricsError::Empty { input: "y_true" });
    }
    let correct = y_true.iter().zip(y_pred).filter(|(t, p)| t == p).count();
    Ok(correct as f64 / y_true.len() as f64)
}

/// Per-class precision, recall, F1 and support (zero-division rule: 0).
pub fn class_scores(cm: &ConfusionMatrix) -> Vec<ClassScores> {
    let support = cm.support();
    let predicted = cm.predicted();
    (0..cm.n_classes())
        .map(|c| {
            let tp = cm.counts()[c][c];
            ClassScores {
                precision: ratio(tp, predicted[c]),
                recall: ratio(tp, support[c]),
                f1: ratio(2 * tp, support[c] + predicted[c]),
                support: support[c],
            }
        })
        .collect()
}

/// Unweighted mean over **all** classes (sklearn `average="macro"`;
/// classes absent from both truth and predictions count as 0).
pub fn macro_average(scores: &[ClassScores]) -> Prf {
    let n = scores.len().max(1) as f64;
    Prf {
        precision: scores.iter().map(|s| s.precision).sum::<f64>() / n,
        recall: scores.iter().map(|s| s.recall).sum::<f64>() / n,
        f1: scores.iter().map(|s| s.f1).sum::<f64>() / n,
    }
}

/// Support-weighted mean (sklearn `average="weighted"`); zeros if the total support is 0.
pub fn weighted_average(scores: &[ClassScores]) -> Prf {
    let total: u64 = scores.iter().map(|s| s.support).sum();
    if total == 0 {
        return Prf::default();
    }
    let w = |f: fn(&ClassScores) -> f64| {
        scores.iter().map(|s| f(s) * s.support as f64).sum::<f64>() / total as f64
    };
    Prf {
        precision: w(|s| s.precision),
        recall: w(|s| s.recall),
        f1: w(|s| s.f1),
    }
}

/// Unweighted average recall (UAR), the headline figure of speech emotion
/// recognition: the mean of the per-class recalls over the classes that
/// occur in `y_true`.
///
/// This is `sklearn.metrics.balanced_accuracy_score`. When every class
/// occurs in `y_true` it equals the macro recall; when a class is absent
/// its undefined recall is skipped here, whereas sklearn's macro recall
/// (and [`macro_average`]) counts it as 0. Returns 0 for an empty matrix.
///
/// The same function on unvalidated counts is [`uar_of_counts`](crate::uar_of_counts).
pub fn unweighted_average_recall(cm: &ConfusionMatrix) -> f64 {
    crate::counts::uar_of_counts(cm.counts())
}

/// The text of `sklearn.metrics.classification_report(y_true, y_pred,
/// labels=range(n), target_names=class_names, digits=digits, zero_division=0)`,
/// byte for byte (including the `accuracy`, `macro avg` and `weighted avg` lines).
///
/// # Errors
/// [`MetricsError::LengthMismatch`] if `class_names` does not have one name per class.
pub fn classification_report<S: AsRef<str>>(
    cm: &ConfusionMatrix,
    class_names: &[S],
    digits: usize,
) -> Result<String> {
    if class_names.len() != cm.n_classes() {
        return Err(MetricsError::LengthMismatch {
            left: "class_names",
            left_len: class_names.len(),
            right: "confusion matrix rows",
            right_len: cm.n_classes(),
        });
    }
    let scores = class_scores(cm);
    let accuracy = ratio(cm.correct(), cm.total());
    Ok(format_report(
        class_names,
        &scores,
        accuracy,
        &macro_average(&scores),
        &weighted_average(&scores),
        digits,
    ))
}

/// Lays out the report text exactly like sklearn's `classification_report`.
pub(crate) fn format_report<S: AsRef<str>>(
    class_names: &[S],
    scores: &[ClassScores],
    accuracy: f64,
    macro_avg: &Prf,
    weighted_avg: &Prf,
    digits: usize,
) -> String {
    const LAST_HEADING: &str = "weighted avg";
    let name_width = class_names
        .iter()
        .map(|n| n.as_ref().chars().count())
        .max()
        .unwrap_or(0);
    let width = name_width.max(LAST_HEADING.len()).max(digits);
    let total: u64 = scores.iter().map(|s| s.support).sum();

    let mut out = format!(
        "{:>width$}  {:>9} {:>9} {:>9} {:>9}\n\n",
        "", "precision", "recall", "f1-score", "support"
    );
    let row = |out: &mut String, name: &str, p: f64, r: f64, f: f64, s: u64| {
        out.push_str(&format!(
            "{name:>width$}  {p:>9.digits$} {r:>9.digits$} {f:>9.digits$} {s:>9}\n"
        ));
    };
    for (name, s) in class_names.iter().zip(scores) {
        row(
            &mut out,
            name.as_ref(),
            s.precision,
            s.recall,
            s.f1,
            s.support,
        );
    }
    out.push('\n');
    out.push_str(&format!(
        "{:>width$}  {:>9} {:>9} {accuracy:>9.digits$} {total:>9}\n",
        "accuracy", "", ""
    ));
    row(
        &mut out,
        "macro avg",
        macro_avg.precision,
        macro_avg.recall,
        macro_avg.f1,
        total,
    );
    row(
        &mut out,
        "weighted avg",
        weighted_avg.precision,
        weighted_avg.recall,
        weighted_avg.f1,
        total,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn accuracy_hand_computed() {
        assert_eq!(accuracy(&[0, 1, 2, 2], &[0, 2, 2, 1]).unwrap(), 0.5);
        assert_eq!(accuracy(&[1], &[1]).unwrap(), 1.0);
        assert!(matches!(
            accuracy(&[0, 1], &[0]),
            Err(MetricsError::LengthMismatch {
                left_len: 2,
                right_len: 1,
                ..
            })
        ));
        assert_eq!(
            accuracy(&[], &[]),
            Err(MetricsError::Empty { input: "y_true" })
        );
    }

    #[test]
    fn prf_hand_computed_with_zero_division() {
        // truth: 0 0 1 1 1 ; pred: 0 1 1 1 0 ; class 2 absent and never predicted.
        let cm = ConfusionMatrix::from_labels(&[0, 0, 1, 1, 1], &[0, 1, 1, 1, 0], 3).unwrap();
        let s = class_scores(&cm);
        // class 0: tp=1 fp=1 fn=1 -> p=r=f=1/2
        assert!(close(s[0].precision, 0.5) && close(s[0].recall, 0.5) && close(s[0].f1, 0.5));
        // class 1: tp=2 fp=1 fn=1 -> p=r=f=2/3
        assert!(close(s[1].precision, 2.0 / 3.0) && close(s[1].f1, 2.0 / 3.0));
        assert_eq!(s[2], ClassScores::default());
        assert_eq!(s.iter().map(|c| c.support).collect::<Vec<_>>(), [2, 3, 0]);
        let m = macro_average(&s);
        assert!(close(m.recall, (0.5 + 2.0 / 3.0) / 3.0));
        let w = weighted_average(&s);
        assert!(close(w.recall, 3.0 / 5.0)); // weighted recall == accuracy
        // UAR skips the absent class 2.
        assert!(close(
            unweighted_average_recall(&cm),
            (0.5 + 2.0 / 3.0) / 2.0
        ));
    }

    #[test]
    fn never_predicted_class_has_zero_precision_and_f1() {
        let cm = ConfusionMatrix::from_labels(&[0, 1, 1], &[0, 0, 0], 2).unwrap();
        let s = class_scores(&cm);
        assert_eq!((s[1].precision, s[1].recall, s[1].f1), (0.0, 0.0, 0.0));
        assert!(close(s[0].precision, 1.0 / 3.0));
        assert!(close(s[0].f1, 0.5));
    }

    #[test]
    fn report_layout_matches_sklearn() {
        // sklearn.metrics.classification_report([0,0,1,1,1], [0,1,1,1,0],
        //     labels=[0,1,2], target_names=["neutral","calm","x"], digits=4, zero_division=0)
        let cm = ConfusionMatrix::from_labels(&[0, 0, 1, 1, 1], &[0, 1, 1, 1, 0], 3).unwrap();
        let text = classification_report(&cm, &["neutral", "calm", "x"], 4).unwrap();
        let expected = "              precision    recall  f1-score   support

     neutral     0.5000    0.5000    0.5000         2
        calm     0.6667    0.6667    0.6667         3
           x     0.0000    0.0000    0.0000         0

    accuracy                         0.6000         5
   macro avg     0.3889    0.3889    0.3889         5
weighted avg     0.6000    0.6000    0.6000         5
";
        assert_eq!(text, expected);
        assert!(matches!(
            classification_report(&cm, &["a"], 4),
            Err(MetricsError::LengthMismatch {
                left_len: 1,
                right_len: 3,
                ..
            })
        ));
    }
}
