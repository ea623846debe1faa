//! Classification metrics for speech emotion recognition (SER).
//!
//! Everything takes plain labels `0..n_classes` (`&[usize]`), optional
//! class scores ([`Scores`], rows need not sum to one), and class names
//! (`&[&str]` or `&[String]`), and is generic over the number of classes.
//!
//! * [`Report`]: accuracy, UAR, per-class precision/recall/F1/support with
//!   macro and weighted averages, confusion matrix (counts and
//!   row-normalised), one-vs-rest ROC curves and AUCs with micro and macro
//!   averages, and sklearn's `classification_report` text. It is
//!   `serde`-serialisable for `metrics.json`.
//! * [`CrossValidationReport`] / [`aggregate_folds`]: k-fold mean ±
//!   population std (`ddof = 0`) and pooled predictions.
//! * [`confusion_counts`], [`uar_of_counts`], [`accuracy_of_counts`], [`recall_per_class`]:
//!   the same figures on plain count rows, for any input and without errors (training-time
//!   monitoring, model selection).
//!
//! Semantics are those of scikit-learn with `labels=range(n_classes)` and
//! `zero_division=0` (a 0/0 ratio is 0); golden values from scikit-learn are
//! checked in the tests. The differences are documented where they occur:
//! [`Report::uar`] skips classes absent from `y_true` (sklearn's
//! `balanced_accuracy_score`), and per-class AUCs are `None` instead of an
//! exception when a class has no positive or no negative sample.
//!
//! ```
//! use ser_metrics::{Report, Scores};
//!
//! let names = ["neutral", "happy", "sad"];
//! let y_true = [0, 1, 2, 2];
//! let y_pred = [0, 1, 2, 1];
//! let scores = Scores::from_rows(&[
//!     [0.8, 0.1, 0.1],
//!     [0.2, 0.7, 0.1],
//!     [0.1, 0.2, 0.7],
//!     [0.1, 0.5, 0.4],
//! ])?;
//! let report = Report::with_scores(&y_true, &y_pred, &scores, &names)?;
//! assert_eq!(report.accuracy, 0.75);
//! assert!((report.uar - (1.0 + 1.0 + 0.5) / 3.0).abs() < 1e-12);
//! println!("{}", report.classification_report());
//! # Ok::<(), ser_metrics::MetricsError>(())
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod classification;
mod confusion;
mod counts;
mod error;
mod kfold;
mod per_class;
mod report;
mod roc;
mod scores;
mod validate;

pub use classification::{
    ClassScores, Prf, REPORT_DIGITS, accuracy, class_scores, classification_report, macro_average,
    unweighted_average_recall, weighted_average,
};
pub use confusion::ConfusionMatrix;
pub use counts::{accuracy_of_counts, confusion_counts, recall_per_class, uar_of_counts};
pub use error::{MetricsError, Result};
pub use kfold::{
    CrossValidationReport, FoldAggregate, FoldPredictions, STD_DDOF, ScalarMetrics,
    aggregate_folds, pooled_report,
};
pub use per_class::PerClass;
pub use report::Report;
pub use roc::{
    MACRO_ROC_GRID_POINTS, MeanRocCurve, RocCurve, RocPoints, RocSummary, auc, one_vs_rest_roc,
    roc_auc, roc_curve,
};
pub use scores::Scores;
