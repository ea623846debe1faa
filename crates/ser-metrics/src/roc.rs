//! ROC curves and areas under them (one-vs-rest for multi-class problems).
//!
//! [`roc_curve`] reproduces `sklearn.metrics.roc_curve`: thresholds are the
//! distinct scores in decreasing order, preceded by `+inf` so that the curve
//! starts at `(0, 0)`; with [`RocPoints::DropIntermediate`] (sklearn's
//! default `drop_intermediate=True`) collinear points are dropped, with
//! [`RocPoints::All`] (`drop_intermediate=False`) every threshold is kept.
//! Both give the same area. AUCs use the trapezoidal rule, like
//! `sklearn.metrics.auc` / `roc_auc_score`.

use serde::{Deserialize, Serialize};

use crate::error::{MetricsError, Result};
use crate::per_class::PerClass;
use crate::scores::Scores;
use crate::validate::check_range;

/// Number of false-positive-rate grid points of the macro-average ROC curve
/// (`np.linspace(0, 1, 1000)`, as in scikit-learn's ROC example).
pub const MACRO_ROC_GRID_POINTS: usize = 1000;

/// Which thresholds a ROC curve keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RocPoints {
    /// Drop thresholds whose point is collinear with its neighbours
    /// (sklearn `drop_intermediate=True`, its default). Much smaller, same AUC.
    #[default]
    DropIntermediate,
    /// Keep one point per distinct score (sklearn `drop_intermediate=False`).
    All,
}

/// A ROC curve with its area.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RocCurve {
    /// False-positive rates, non-decreasing from 0 to 1.
    pub fpr: Vec<f64>,
    /// True-positive rates, non-decreasing from 0 to 1.
    pub tpr: Vec<f64>,
    /// Score thresholds, decreasing; `thresholds[0]` is `+inf` (written as
    /// `null` in JSON, and read back from `null`).
    #[serde(with = "inf_as_null")]
    pub thresholds: Vec<f64>,
    /// Area under the curve (trapezoidal rule).
    pub auc: f64,
}

/// An averaged ROC curve on a fixed false-positive-rate grid (no thresholds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeanRocCurve {
    /// The grid: [`MACRO_ROC_GRID_POINTS`] evenly spaced rates in `[0, 1]`.
    pub fpr: Vec<f64>,
    /// Mean of the linearly interpolated per-class true-positive rates.
    pub tpr: Vec<f64>,
    /// Area under this averaged curve (close to, but not the same as, the mean of the class AUCs).
    pub auc: f64,
    /// Number of classes averaged (those whose ROC curve is defined).
    pub n_classes_averaged: usize,
}

/// One-vs-rest ROC analysis of a multi-class score matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RocSummary {
    /// Which thresholds the curves keep.
    pub points: RocPoints,
    /// AUC of every class against the rest; `null` when the class has no
    /// positive or no negative sample (sklearn raises in that case).
    pub auc: PerClass<Option<f64>>,
    /// Mean of the defined per-class AUCs (`roc_auc_score(average="macro",
    /// multi_class="ovr")` when all are defined); `None` if none is.
    pub macro_auc: Option<f64>,
    /// AUC of the micro-average curve (all class decisions pooled).
    pub micro_auc: f64,
    /// Per-class curves; `None` where undefined (see [`RocSummary::auc`]).
    pub per_class: PerClass<Option<RocCurve>>,
    /// Micro-average curve: `roc_curve(label_binarize(y_true).ravel(), scores.ravel())`.
    pub micro: RocCurve,
    /// Macro-average curve (sklearn docs example: per-class curves
    /// interpolated on a common grid and averaged); `None` if no class curve is defined.
    pub macro_curve: Option<MeanRocCurve>,
}

/// Serde helper: `+inf` <-> `null` (JSON has no infinity).
mod inf_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(values: &[f64], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(values.iter().map(|v| v.is_finite().then_some(*v)))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let raw = Vec::<Option<f64>>::deserialize(d)?;
        Ok(raw
            .into_iter()
            .map(|v| v.unwrap_or(f64::INFINITY))
            .collect())
    }
}

/// Checks that every value of `values` is finite.
fn check_finite(input: &'static str, values: &[f64]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(MetricsError::NonFiniteValue {
            input,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// Trapezoidal area of a polyline; callers guarantee equal lengths.
fn trapezoid(x: &[f64], y: &[f64]) -> f64 {
    x.windows(2)
        .zip(y.windows(2))
        .map(|(xw, yw)| (xw[1] - xw[0]) * (yw[1] + yw[0]) / 2.0)
        .sum()
}

/// Area under the curve `(x, y)` by the trapezoidal rule (`sklearn.metrics.auc`).
///
/// `x` must be monotonic; if it is non-increasing the area is still positive.
///
/// # Errors
/// [`MetricsError::LengthMismatch`], [`MetricsError::TooFewPoints`] (< 2),
/// [`MetricsError::NonFiniteValue`] or [`MetricsError::NotMonotonic`].
pub fn auc(x: &[f64], y: &[f64]) -> Result<f64> {
    if x.len() != y.len() {
        return Err(MetricsError::LengthMismatch {
            left: "x",
            left_len: x.len(),
            right: "y",
            right_len: y.len(),
        });
    }
    if x.len() < 2 {
        return Err(MetricsError::TooFewPoints { n_points: x.len() });
    }
    check_finite("x", x)?;
    check_finite("y", y)?;
    let increasing = x.windows(2).all(|w| w[1] >= w[0]);
    let decreasing = x.windows(2).all(|w| w[1] <= w[0]);
    if !increasing && !decreasing {
        // The first step against the overall direction of the first non-flat step.
        let first_dir = x
            .windows(2)
            .map(|w| w[1] - w[0])
            .find(|d| *d != 0.0)
            .unwrap_or(0.0);
        let index = x
            .windows(2)
            .position(|w| (w[1] - w[0]) * first_dir < 0.0)
            .map_or(1, |i| i + 1);
        return Err(MetricsError::NotMonotonic {
            index,
            previous: x[index - 1],
            value: x[index],
        });
    }
    let area = trapezoid(x, y);
    Ok(if increasing { area } else { -area })
}

/// ROC curve of a binary problem (`sklearn.metrics.roc_curve`).
///
/// `is_positive[i]` tells whether sample `i` belongs to the positive class;
/// a higher `scores[i]` means "more positive". Tied scores form one threshold.
///
/// # Errors
/// [`MetricsError::LengthMismatch`], [`MetricsError::Empty`],
/// [`MetricsError::NonFiniteValue`], or [`MetricsError::RocUndefined`]
/// when there is no positive or no negative sample.
pub fn roc_curve(is_positive: &[bool], scores: &[f64], points: RocPoints) -> Result<RocCurve> {
    if is_positive.len() != scores.len() {
        return Err(MetricsError::LengthMismatch {
            left: "is_positive",
            left_len: is_positive.len(),
            right: "scores",
            right_len: scores.len(),
        });
    }
    if scores.is_empty() {
        return Err(MetricsError::Empty { input: "scores" });
    }
    check_finite("scores", scores)?;
    let positives = is_positive.iter().filter(|&&p| p).count();
    let negatives = is_positive.len() - positives;
    if positives == 0 || negatives == 0 {
        return Err(MetricsError::RocUndefined {
            positives,
            negatives,
        });
    }

    // Decreasing scores; `partial_cmp` is total here (all finite) and treats -0 == +0.
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| {
        scores[b]
            .partial_cmp(&scores[a])
            .unwrap_or(std::cmp::Ordering::Equal)
    });

    // Cumulative (tp, fp) at the last sample of every group of tied scores.
    let mut tps: Vec<u64> = Vec::new();
    let mut fps: Vec<u64> = Vec::new();
    let mut thresholds: Vec<f64> = Vec::new();
    let (mut tp, mut fp) = (0u64, 0u64);
    for (i, &idx) in order.iter().enumerate() {
        if is_positive[idx] {
            tp += 1;
        } else {
            fp += 1;
        }
        let group_ends = order
            .get(i + 1)
            .is_none_or(|&next| scores[next] != scores[idx]);
        if group_ends {
            tps.push(tp);
            fps.push(fp);
            thresholds.push(scores[idx]);
        }
    }

    if points == RocPoints::DropIntermediate && fps.len() > 2 {
        // Keep the ends and every "corner" (non-zero second difference).
        let second_diff = |v: &[u64], j: usize| v[j + 1] + v[j - 1] != 2 * v[j];
        let keep: Vec<usize> = (0..fps.len())
            .filter(|&j| {
                j == 0 || j + 1 == fps.len() || second_diff(&fps, j) || second_diff(&tps, j)
            })
            .collect();
        tps = keep.iter().map(|&j| tps[j]).collect();
        fps = keep.iter().map(|&j| fps[j]).collect();
        thresholds = keep.iter().map(|&j| thresholds[j]).collect();
    }

    let (tp_total, fp_total) = (positives as f64, negatives as f64);
    let fpr: Vec<f64> = std::iter::once(0.0)
        .chain(fps.iter().map(|&f| f as f64 / fp_total))
        .collect();
    let tpr: Vec<f64> = std::iter::once(0.0)
        .chain(tps.iter().map(|&t| t as f64 / tp_total))
        .collect();
    let thresholds: Vec<f64> = std::iter::once(f64::INFINITY).chain(thresholds).collect();
    let auc = trapezoid(&fpr, &tpr);
    Ok(RocCurve {
        fpr,
        tpr,
        thresholds,
        auc,
    })
}

/// Area under the ROC curve of a binary problem (`sklearn.metrics.roc_auc_score`).
///
/// # Errors
/// As [`roc_curve`].
pub fn roc_auc(is_positive: &[bool], scores: &[f64]) -> Result<f64> {
    roc_curve(is_positive, scores, RocPoints::DropIntermediate).map(|c| c.auc)
}

/// `np.interp(x, xp, fp)` for non-decreasing `xp` (may repeat): at a repeated
/// abscissa the value of its **last** occurrence is used, like numpy.
fn interp(x: f64, xp: &[f64], fp: &[f64]) -> f64 {
    let (Some(&first_x), Some(&last_x)) = (xp.first(), xp.last()) else {
        return f64::NAN;
    };
    if x < first_x {
        return fp[0];
    }
    if x >= last_x {
        return fp[fp.len() - 1];
    }
    // Last index j with xp[j] <= x; j + 1 exists because x < last_x.
    let j = xp.partition_point(|&v| v <= x) - 1;
    if xp[j] == x {
        return fp[j];
    }
    let slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
    slope * (x - xp[j]) + fp[j]
}

/// `np.linspace(0, 1, n)` bit for bit.
fn unit_grid(n: usize) -> Vec<f64> {
    let step = 1.0 / (n - 1) as f64;
    (0..n)
        .map(|i| if i + 1 == n { 1.0 } else { i as f64 * step })
        .collect()
}

/// Averages curves on the [`MACRO_ROC_GRID_POINTS`] grid; `None` for no curves.
fn mean_curve(curves: &[&RocCurve]) -> Option<MeanRocCurve> {
    if curves.is_empty() {
        return None;
    }
    let fpr = unit_grid(MACRO_ROC_GRID_POINTS);
    let mut tpr = vec![0.0; fpr.len()];
    for c in curves {
        for (t, &x) in tpr.iter_mut().zip(&fpr) {
            *t += interp(x, &c.fpr, &c.tpr);
        }
    }
    let n = curves.len() as f64;
    tpr.iter_mut().for_each(|t| *t /= n);
    let auc = trapezoid(&fpr, &tpr);
    Some(MeanRocCurve {
        fpr,
        tpr,
        auc,
        n_classes_averaged: curves.len(),
    })
}

/// One-vs-rest ROC curves and AUCs of every class, plus micro and macro averages.
///
/// `scores` has one column per class (higher = more likely). A class whose
/// curve is undefined (absent from `y_true`, or the only class present) gets
/// `None` and is left out of the macro averages.
///
/// # Errors
/// [`MetricsError::TooFewClasses`], [`MetricsError::DuplicateClassName`],
/// [`MetricsError::LengthMismatch`] (labels vs score rows, or names vs
/// score columns), [`MetricsError::LabelOutOfRange`].
pub fn one_vs_rest_roc<S: AsRef<str>>(
    y_true: &[usize],
    scores: &Scores,
    class_names: &[S],
    points: RocPoints,
) -> Result<RocSummary> {
    let names = crate::validate::class_names(class_names)?;
    let n_classes = scores.n_classes();
    if names.len() != n_classes {
        return Err(MetricsError::LengthMismatch {
            left: "class_names",
            left_len: names.len(),
            right: "score columns",
            right_len: n_classes,
        });
    }
    if y_true.len() != scores.n_samples() {
        return Err(MetricsError::LengthMismatch {
            left: "y_true",
            left_len: y_true.len(),
            right: "score rows",
            right_len: scores.n_samples(),
        });
    }
    check_range("y_true", y_true, n_classes)?;

    let mut curves = Vec::with_capacity(n_classes);
    for class in 0..n_classes {
        let is_positive: Vec<bool> = y_true.iter().map(|&t| t == class).collect();
        let column: Vec<f64> = scores.rows().map(|r| f64::from(r[class])).collect();
        curves.push(match roc_curve(&is_positive, &column, points) {
            Ok(curve) => Some(curve),
            Err(MetricsError::RocUndefined { .. }) => None,
            Err(e) => return Err(e),
        });
    }

    let micro_positive: Vec<bool> = y_true
        .iter()
        .flat_map(|&t| (0..n_classes).map(move |c| c == t))
        .collect();
    let micro_scores: Vec<f64> = scores.as_flat().iter().map(|&v| f64::from(v)).collect();
    let micro = roc_curve(&micro_positive, &micro_scores, points)?;

    let defined: Vec<&RocCurve> = curves.iter().flatten().collect();
    let macro_auc = (!defined.is_empty())
        .then(|| defined.iter().map(|c| c.auc).sum::<f64>() / defined.len() as f64);
    let macro_curve = mean_curve(&defined);
    let aucs: Vec<Option<f64>> = curves.iter().map(|c| c.as_ref().map(|c| c.auc)).collect();
    Ok(RocSummary {
        points,
        auc: PerClass::from_parts(&names, aucs),
        macro_auc,
        micro_auc: micro.auc,
        per_class: PerClass::from_parts(&names, curves),
        micro,
        macro_curve,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sklearn_docstring_example() {
        // y = [1, 1, 2, 2], scores = [0.1, 0.4, 0.35, 0.8], pos_label=2
        let pos = [false, false, true, true];
        let s = [0.1, 0.4, 0.35, 0.8];
        let c = roc_curve(&pos, &s, RocPoints::DropIntermediate).unwrap();
        assert_eq!(c.fpr, [0.0, 0.0, 0.5, 0.5, 1.0]);
        assert_eq!(c.tpr, [0.0, 0.5, 0.5, 1.0, 1.0]);
        assert_eq!(c.thresholds, [f64::INFINITY, 0.8, 0.4, 0.35, 0.1]);
        assert_eq!(c.auc, 0.75);
        assert_eq!(roc_auc(&pos, &s).unwrap(), 0.75);
    }

    #[test]
    fn ties_form_one_threshold_and_intermediate_points_drop() {
        let pos = [true, false, true, false, true, false];
        let s = [0.9, 0.9, 0.5, 0.5, 0.1, 0.1];
        let all = roc_curve(&pos, &s, RocPoints::All).unwrap();
        assert_eq!(all.thresholds, [f64::INFINITY, 0.9, 0.5, 0.1]);
        // Points are collinear on the diagonal: only the ends remain.
        let dropped = roc_curve(&pos, &s, RocPoints::DropIntermediate).unwrap();
        assert_eq!(dropped.fpr, [0.0, 1.0 / 3.0, 1.0]);
        assert_eq!(dropped.thresholds, [f64::INFINITY, 0.9, 0.1]);
        assert!((all.auc - 0.5).abs() < 1e-15 && (dropped.auc - 0.5).abs() < 1e-15);
    }

    #[test]
    fn roc_errors() {
        assert_eq!(
            roc_curve(&[true, true], &[0.1, 0.2], RocPoints::All),
            Err(MetricsError::RocUndefined {
                positives: 2,
                negatives: 0
            })
        );
        assert!(matches!(
            roc_curve(&[true, false], &[0.1, f64::NAN], RocPoints::All),
            Err(MetricsError::NonFiniteValue {
                input: "scores",
                index: 1,
                ..
            })
        ));
        assert!(matches!(
            roc_curve(&[true], &[0.1, 0.2], RocPoints::All),
            Err(MetricsError::LengthMismatch {
                left_len: 1,
                right_len: 2,
                ..
            })
        ));
        assert_eq!(
            roc_curve(&[], &[], RocPoints::All),
            Err(MetricsError::Empty { input: "scores" })
        );
    }

    #[test]
    fn auc_trapezoid_and_direction() {
        assert_eq!(auc(&[0.0, 1.0], &[1.0, 1.0]).unwrap(), 1.0);
        assert_eq!(auc(&[0.0, 0.5, 1.0], &[0.0, 1.0, 0.0]).unwrap(), 0.5);
        assert_eq!(auc(&[1.0, 0.5, 0.0], &[0.0, 1.0, 0.0]).unwrap(), 0.5);
        assert_eq!(
            auc(&[0.0, 1.0, 0.5], &[0.0, 1.0, 1.0]),
            Err(MetricsError::NotMonotonic {
                index: 2,
                previous: 1.0,
                value: 0.5
            })
        );
        assert_eq!(
            auc(&[0.0], &[0.0]),
            Err(MetricsError::TooFewPoints { n_points: 1 })
        );
    }

    #[test]
    fn interp_matches_numpy_on_repeated_abscissae() {
        let xp = [0.0, 0.0, 0.5, 0.5, 1.0];
        let fp = [0.0, 0.4, 0.6, 0.8, 1.0];
        // np.interp([0, .25, .5, .75, 1, -1, 2], xp, fp) == [.4, .5, .8, .9, 1, 0, 1]
        let got: Vec<f64> = [0.0, 0.25, 0.5, 0.75, 1.0, -1.0, 2.0]
            .iter()
            .map(|&x| interp(x, &xp, &fp))
            .collect();
        let want = [0.4, 0.5, 0.8, 0.9, 1.0, 0.0, 1.0];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-15, "{got:?}");
        }
    }

    #[test]
    fn grid_is_linspace() {
        let g = unit_grid(MACRO_ROC_GRID_POINTS);
        assert_eq!(g.len(), 1000);
        assert_eq!(g[0], 0.0);
        assert_eq!(g[999], 1.0);
        assert_eq!(g[1], 1.0 / 999.0);
    }

    #[test]
    fn thresholds_round_trip_through_json() {
        let c = roc_curve(&[true, false], &[0.7, 0.2], RocPoints::All).unwrap();
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains(r#""thresholds":[null,0.7,0.2]"#), "{json}");
        let back: RocCurve = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn one_vs_rest_marks_absent_class_undefined() {
        let scores = Scores::from_rows(&[
            vec![0.8f32, 0.1, 0.1],
            vec![0.3, 0.6, 0.1],
            vec![0.6, 0.3, 0.1],
            vec![0.2, 0.7, 0.1],
        ])
        .unwrap();
        let r = one_vs_rest_roc(&[0, 1, 0, 1], &scores, &["a", "b", "c"], RocPoints::All).unwrap();
        assert_eq!(r.auc.get("a"), Some(&Some(1.0)));
        assert_eq!(r.auc.get("c"), Some(&None));
        assert!(r.per_class.get("c").is_some_and(Option::is_none));
        assert_eq!(r.macro_auc, Some(1.0));
        assert_eq!(
            r.macro_curve.as_ref().map(|m| m.n_classes_averaged),
            Some(2)
        );
        assert!(matches!(
            one_vs_rest_roc(&[0, 1, 0], &scores, &["a", "b", "c"], RocPoints::All),
            Err(MetricsError::LengthMismatch {
                left_len: 3,
                right_len: 4,
                ..
            })
        ));
        assert!(matches!(
            one_vs_rest_roc(&[0, 1, 0, 1], &scores, &["a", "b"], RocPoints::All),
            Err(MetricsError::LengthMismatch {
                left: "class_names",
                ..
            })
        ));
    }
}
