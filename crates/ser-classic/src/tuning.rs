//! Choosing the SVM's penalty `C` by cross-validation grouped by speaker.
//!
//! The held-out side of every inner fold is a group of whole speakers, as in the outer
//! speaker-independent protocol, so the choice is made without the test speakers and rewards
//! what the outer evaluation rewards: unweighted average recall (UAR) on unseen voices
//! (grid search with `GroupKFold`, as `sklearn.model_selection.GridSearchCV(SVC(),
//! {"C": grid}, cv=GroupKFold(k), scoring="balanced_accuracy")`).
//!
//! With a [`ClassicConfig::balance`], every inner fit is weighted by the same rule, its weights
//! made afresh from the inner training side (labels and corpora) by
//! [`ClassicModel::fit_balanced`], just as the final fit makes them from the whole training
//! set, so the chosen `C` is chosen for the weighted problem. The score stays the plain UAR of
//! the held-out speakers (every class counts the same, whatever the weights).

use std::collections::BTreeSet;

use crate::Classifier;
use crate::error::{ClassicError, Result};
use crate::model::{ClassicConfig, ClassicModel, ModelConfig};

/// The default grid of `C`, ascending (ties go to the smaller, more regularised value).
pub const SVM_C_GRID: [f64; 5] = [0.5, 1.0, 2.0, 4.0, 8.0];

/// Inner folds of [`select_svm_c`] by default.
pub const DEFAULT_INNER_FOLDS: usize = 5;

/// The outcome of [`select_svm_c`].
#[derive(Debug, Clone, PartialEq)]
pub struct CSelection {
    /// The chosen `C`.
    pub best_c: f64,
    /// `(C, mean inner-fold UAR)` for every grid value, in grid order.
    pub scores: Vec<(f64, f64)>,
    /// Inner folds used.
    pub n_folds: usize,
}

/// Chooses the SVM's `C` from `grid` by `n_folds`-fold cross-validation on `x`, `y` with the
/// folds made of whole groups (`groups[i]` is the speaker of sample `i`; sorted speakers are
/// dealt to the folds in turn). `config` must hold an SVM; its other settings are kept, and
/// probability calibration is skipped (it does not change the predicted class).
///
/// A [`ClassicConfig::balance`] that needs no corpora ([`crate::Balance::Class`]) weights
/// every inner fit; one that does is refused: use [`select_svm_c_balanced`].
///
/// # Errors
/// [`ClassicError::InvalidConfig`] for a non-SVM model, an empty or non-positive grid, fewer
/// than 2 folds or fewer groups than folds; [`ClassicError::LabelCountMismatch`] when `y` or
/// `groups` do not match `x`; and the errors of fitting.
pub fn select_svm_c<R: AsRef<[f32]>, S: AsRef<str>>(
    x: &[R],
    y: &[usize],
    groups: &[S],
    config: &ClassicConfig,
    grid: &[f64],
    n_folds: usize,
    seed: u64,
) -> Result<CSelection> {
    select_svm_c_balanced::<R, S, u32>(x, y, groups, &[], config, grid, n_folds, seed)
}

/// [`select_svm_c`] with the corpus of each sample (`corpora[i]`, any ordered id), so that
/// every inner fit is weighted by [`ClassicConfig::balance`] as
/// [`ClassicModel::fit_balanced`] weights the final one, the weights made from the inner
/// training side's labels and corpora. `corpora` may be empty when the balance does not use
/// them ([`crate::Balance::uses_groups`]). The folds are still made of whole speakers
/// (`groups`).
///
/// # Errors
/// As [`select_svm_c`], and [`ClassicError::PerSampleCount`] when the balance uses corpora
/// and `corpora` does not hold one per sample.
#[allow(clippy::too_many_arguments)]
pub fn select_svm_c_balanced<R: AsRef<[f32]>, S: AsRef<str>, G: Ord>(
    x: &[R],
    y: &[usize],
    groups: &[S],
    corpora: &[G],
    config: &ClassicConfig,
    grid: &[f64],
    n_folds: usize,
    seed: u64,
) -> Result<CSelection> {
    let ModelConfig::Svm(svm) = &config.model else {
        return Err(ClassicError::InvalidConfig {
            field: "model.kind",
            value: config.model.kind().to_string(),
            reason: "C is selected for the SVM only",
        });
    };
    if grid.is_empty() || grid.iter().any(|c| !(c.is_finite() && *c > 0.0)) {
        return Err(ClassicError::InvalidConfig {
            field: "grid",
            value: format!("{grid:?}"),
            reason: "must hold positive, finite values",
        });
    }
    for n in [y.len(), groups.len()] {
        if n != x.len() {
            return Err(ClassicError::LabelCountMismatch {
                n_samples: x.len(),
                n_labels: n,
            });
        }
    }
    let use_corpora = config.balance.uses_groups();
    if use_corpora && corpora.len() != x.len() {
        return Err(ClassicError::PerSampleCount {
            what: "corpus ids",
            n_samples: x.len(),
            got: corpora.len(),
        });
    }
    let speakers: Vec<&str> = groups
        .iter()
        .map(AsRef::as_ref)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if n_folds < 2 || speakers.len() < n_folds {
        return Err(ClassicError::InvalidConfig {
            field: "inner folds",
            value: n_folds.to_string(),
            reason: "need at least 2 folds and at least one speaker per fold",
        });
    }
    let fold_of = |g: &str| speakers.iter().position(|s| *s == g).unwrap_or(0) % n_folds;
    let folds: Vec<usize> = groups.iter().map(|g| fold_of(g.as_ref())).collect();
    let n_classes = if config.class_names.is_empty() {
        y.iter().max().map_or(0, |m| m + 1)
    } else {
        config.class_names.len()
    };
    let mut scores = Vec::with_capacity(grid.len());
    for &c in grid {
        let mut candidate = config.clone();
        let mut svm = svm.clone();
        svm.c = c;
        svm.calibration_folds = 0;
        candidate.model = ModelConfig::Svm(svm);
        let mut total = 0.0;
        for fold in 0..n_folds {
            let (mut train_x, mut train_y, mut val_x, mut val_y) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let mut train_corpora: Vec<&G> = Vec::new();
            for (i, ((row, &label), &f)) in x.iter().zip(y).zip(&folds).enumerate() {
                if f == fold {
                    val_x.push(row.as_ref());
                    val_y.push(label);
                } else {
                    train_x.push(row.as_ref());
                    train_y.push(label);
                    if use_corpora {
                        train_corpora.push(&corpora[i]);
                    }
                }
            }
            let model =
                ClassicModel::fit_balanced(&train_x, &train_y, &train_corpora, &candidate, seed)?;
            let predicted = model.predict(&val_x)?;
            total += ser_metrics::uar_of_counts(&ser_metrics::confusion_counts(
                &val_y, &predicted, n_classes,
            ));
        }
        scores.push((c, total / n_folds as f64));
    }
    // Strictly better only: ties keep the earlier (smaller) C.
    let best_c = scores
        .iter()
        .fold(None::<(f64, f64)>, |best, &(c, s)| match best {
            Some((_, b)) if s <= b => best,
            _ => Some((c, s)),
        })
        .map_or(grid[0], |(c, _)| c);
    Ok(CSelection {
        best_c,
        scores,
        n_folds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pooling::{FeatureSpec, Pooling};
    use crate::svm::SvmConfig;
    use ser_features::{FeatureConfig, FeatureSet};

    fn config() -> ClassicConfig {
        ClassicConfig::new(
            ModelConfig::Svm(SvmConfig::default()),
            FeatureSpec::new(FeatureConfig::seed(), FeatureSet::Mfcc, Pooling::Mean),
        )
    }

    /// 6 speakers x 2 classes x 5 samples of 40 values; class 1 is shifted on every value.
    fn data(shift: f32) -> (Vec<Vec<f32>>, Vec<usize>, Vec<String>) {
        let (mut x, mut y, mut g) = (Vec::new(), Vec::new(), Vec::new());
        for speaker in 0..6 {
            for class in 0..2 {
                for i in 0..5 {
                    let v: Vec<f32> = (0..40)
                        .map(|j| {
                            let noise = (((speaker * 31 + i * 7 + j * 13) % 17) as f32) / 17.0;
                            noise + shift * class as f32
                        })
                        .collect();
                    x.push(v);
                    y.push(class);
                    g.push(format!("s{speaker}"));
                }
            }
        }
        (x, y, g)
    }

    #[test]
    fn a_separable_problem_scores_one_and_keeps_the_smallest_c_on_ties() {
        let (x, y, g) = data(5.0);
        let selection = select_svm_c(&x, &y, &g, &config(), &SVM_C_GRID, 3, 0).unwrap();
        assert_eq!(selection.n_folds, 3);
        assert_eq!(selection.scores.len(), SVM_C_GRID.len());
        assert!(
            selection.scores.iter().all(|&(_, s)| s == 1.0),
            "{selection:?}"
        );
        assert_eq!(selection.best_c, 0.5);
    }

    #[test]
    fn bad_requests_are_errors() {
        let (x, y, g) = data(1.0);
        let c = config();
        assert!(select_svm_c(&x, &y, &g, &c, &[], 3, 0).is_err());
        assert!(select_svm_c(&x, &y, &g, &c, &[1.0, -1.0], 3, 0).is_err());
        assert!(select_svm_c(&x, &y, &g, &c, &SVM_C_GRID, 1, 0).is_err());
        assert!(select_svm_c(&x, &y, &g, &c, &SVM_C_GRID, 7, 0).is_err());
        assert!(select_svm_c(&x, &y[1..], &g, &c, &SVM_C_GRID, 3, 0).is_err());
        let mut knn = c.clone();
        knn.model = crate::ModelKind::Knn.default_config();
        assert!(select_svm_c(&x, &y, &g, &knn, &SVM_C_GRID, 3, 0).is_err());
    }
}
