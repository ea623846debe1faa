//! Class and corpus balance: per-sample training weights against imbalanced training sets.
//!
//! A training set pooled from several corpora is unbalanced twice over: by class (a corpus
//! without "calm", emotions recorded more often than others) and by corpus (TESS has 2800 clips
//! of 2 speakers, RAVDESS 1440 of 24). A [`Balance`] turns the labels (and the corpus of each
//! sample) into per-sample weights that every classical model honours when it is fitted (see
//! [`crate::ClassicModel::fit_balanced`]): the SVM bounds each dual coefficient by `C * w_i`,
//! the perceptrons weight the cross-entropy, the forest draws its bootstrap samples in
//! proportion to the weights and k-NN weights the votes.
//!
//! Every rule gives the samples of one *cell* (a class, a corpus or a (corpus, class) pair)
//! the same total weight, `n / n_cells` each, so that the weights have mean 1 and a perfectly
//! balanced set gets weight 1 everywhere (the unweighted fit):
//!
//! `w_i = n / (n_cells * n_cell(i))`
//!
//! where `n` is the number of samples, `n_cells` the number of cells that have samples and
//! `n_cell(i)` the number of samples in sample `i`'s cell. [`Balance::Class`] is
//! scikit-learn's `compute_sample_weight("balanced", y)`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{ClassicError, Result};

/// How the training samples are weighted against class and corpus imbalance.
///
/// Stored in [`crate::ClassicConfig::balance`] (so it is saved with the run); serialised in
/// kebab case (`"none"`, `"class"`, `"corpus"`, `"corpus-class"`), the names that
/// [`FromStr`] reads and [`fmt::Display`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Balance {
    /// Every sample weighs 1 (the default, and every model saved before balancing existed).
    #[default]
    None,
    /// Each class present has the same total weight (`n / (n_classes * n_class)`, scikit-learn's
    /// `class_weight="balanced"`).
    Class,
    /// Each corpus (group) has the same total weight, whatever its size; classes keep their
    /// proportions within each corpus.
    Corpus,
    /// Each (corpus, class) cell that has samples has the same total weight. A class missing
    /// from a corpus (TESS has no "calm") has fewer cells, so it weighs less in total than a
    /// class every corpus has: the rule balances what was recorded, not what is missing.
    CorpusClass,
}

impl Balance {
    /// Every rule, in order of the variants.
    pub const ALL: [Balance; 4] = [
        Balance::None,
        Balance::Class,
        Balance::Corpus,
        Balance::CorpusClass,
    ];

    /// The kebab-case name (`none`, `class`, `corpus`, `corpus-class`), as used by serde,
    /// [`FromStr`] and [`fmt::Display`].
    pub fn name(self) -> &'static str {
        match self {
            Balance::None => "none",
            Balance::Class => "class",
            Balance::Corpus => "corpus",
            Balance::CorpusClass => "corpus-class",
        }
    }

    /// Whether the rule reads the corpus (group) of each sample ([`Balance::Corpus`] and
    /// [`Balance::CorpusClass`]).
    pub fn uses_groups(self) -> bool {
        matches!(self, Balance::Corpus | Balance::CorpusClass)
    }

    /// The per-sample weights of labels `y` and corpus ids `groups` (one per sample, any
    /// ordered type: `&str`, `String`, `u32`, ...), with mean 1 (up to rounding); see the
    /// [module documentation](self) for the formula. `groups` is read only by the rules that
    /// [use groups](Balance::uses_groups) and may be empty for the others. Every weight is
    /// finite and > 0; an empty `y` gives no weights.
    ///
    /// # Errors
    /// [`ClassicError::PerSampleCount`] when the rule uses groups and `groups` does not hold
    /// one per label.
    pub fn sample_weights<G: Ord>(self, y: &[usize], groups: &[G]) -> Result<Vec<f64>> {
        if self.uses_groups() && groups.len() != y.len() {
            return Err(ClassicError::PerSampleCount {
                what: "corpus ids",
                n_samples: y.len(),
                got: groups.len(),
            });
        }
        match self {
            Balance::None => Ok(vec![1.0; y.len()]),
            Balance::Class => Ok(cell_weights(y)),
            Balance::Corpus => Ok(cell_weights(groups)),
            Balance::CorpusClass => {
                let cells: Vec<(&G, usize)> = groups.iter().zip(y.iter().copied()).collect();
                Ok(cell_weights(&cells))
            }
        }
    }
}

/// `n / (n_cells * n_cell(i))` for the cell `keys[i]` of each sample.
fn cell_weights<K: Ord>(keys: &[K]) -> Vec<f64> {
    let mut counts: BTreeMap<&K, usize> = BTreeMap::new();
    for key in keys {
        *counts.entry(key).or_default() += 1;
    }
    let n = keys.len() as f64;
    let n_cells = counts.len() as f64;
    keys.iter()
        .map(|key| n / (n_cells * counts[key] as f64))
        .collect()
}

impl fmt::Display for Balance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for Balance {
    type Err = ClassicError;

    /// Parses `none`, `class`, `corpus` and `corpus-class` (also `corpus_class`); ASCII case
    /// and surrounding spaces are ignored.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(Balance::None),
            "class" => Ok(Balance::Class),
            "corpus" => Ok(Balance::Corpus),
            "corpus-class" | "corpus_class" => Ok(Balance::CorpusClass),
            _ => Err(ClassicError::InvalidConfig {
                field: "balance",
                value: s.to_owned(),
                reason: "must be none, class, corpus or corpus-class",
            }),
        }
    }
}

/// Checks per-sample weights: one per sample, each finite and > 0.
pub(crate) fn check_weights(weights: &[f64], n_samples: usize) -> Result<()> {
    if weights.len() != n_samples {
        return Err(ClassicError::PerSampleCount {
            what: "weights",
            n_samples,
            got: weights.len(),
        });
    }
    if let Some((sample, &weight)) = weights
        .iter()
        .enumerate()
        .find(|(_, w)| !(w.is_finite() && **w > 0.0))
    {
        return Err(ClassicError::InvalidWeight { sample, weight });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_from_str_display_and_serde() {
        for balance in Balance::ALL {
            let name = balance.to_string();
            assert_eq!(name, balance.name());
            assert_eq!(name.parse::<Balance>().unwrap(), balance);
            let json = serde_json::to_string(&balance).unwrap();
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(serde_json::from_str::<Balance>(&json).unwrap(), balance);
        }
        assert_eq!(
            " Corpus_Class ".parse::<Balance>().unwrap(),
            Balance::CorpusClass
        );
        assert_eq!(Balance::default(), Balance::None);
        let err = "speaker".parse::<Balance>().unwrap_err().to_string();
        assert!(err.contains("corpus-class"), "{err}");
        assert!(serde_json::from_str::<Balance>("\"corpus_class\"").is_err());
    }

    #[test]
    fn none_and_balanced_sets_weigh_one() {
        let y = [0, 1, 2, 0, 1, 2];
        let g = ["a", "a", "a", "b", "b", "b"];
        for balance in Balance::ALL {
            assert_eq!(balance.sample_weights(&y, &g).unwrap(), vec![1.0; 6]);
        }
        assert_eq!(
            Balance::Class.sample_weights::<u32>(&[], &[]).unwrap(),
            Vec::<f64>::new()
        );
    }

    #[test]
    fn class_weights_are_sklearns_balanced_weights() {
        // compute_sample_weight("balanced", [0, 0, 0, 1]) = [2/3, 2/3, 2/3, 2].
        let w = Balance::Class
            .sample_weights::<u32>(&[0, 0, 0, 1], &[])
            .unwrap();
        assert_eq!(w, vec![4.0 / 6.0, 4.0 / 6.0, 4.0 / 6.0, 2.0]);
    }

    #[test]
    fn corpus_class_weights_by_hand() {
        // Corpus "big": 4 x class 0, 2 x class 1 (no class 2); corpus "small": 1 x class 0,
        // 1 x class 2. n = 8 samples in 4 cells, each cell weighs 8 / 4 = 2 in total:
        // (big, 0): 2/4 each; (big, 1): 2/2; (small, 0): 2/1; (small, 2): 2/1.
        let y = [0, 0, 1, 0, 1, 0, 0, 2];
        let g = ["big", "big", "big", "big", "big", "big", "small", "small"];
        let w = Balance::CorpusClass.sample_weights(&y, &g).unwrap();
        assert_eq!(w, vec![0.5, 0.5, 1.0, 0.5, 1.0, 0.5, 2.0, 2.0]);
        assert!((w.iter().sum::<f64>() / 8.0 - 1.0).abs() < 1e-15);
        // Corpus only: 6 and 2 samples, 4 in total each.
        let w = Balance::Corpus.sample_weights(&y, &g).unwrap();
        assert_eq!(
            w,
            vec![
                4.0 / 6.0,
                4.0 / 6.0,
                4.0 / 6.0,
                4.0 / 6.0,
                4.0 / 6.0,
                4.0 / 6.0,
                2.0,
                2.0
            ]
        );
        // Class only: 5, 2 and 1 samples, 8/3 in total each.
        let w = Balance::Class.sample_weights(&y, &g).unwrap();
        assert_eq!(
            w,
            vec![
                8.0 / 15.0,
                8.0 / 15.0,
                8.0 / 6.0,
                8.0 / 15.0,
                8.0 / 6.0,
                8.0 / 15.0,
                8.0 / 15.0,
                8.0 / 3.0
            ]
        );
        // Integer corpus ids work the same.
        let ids: Vec<u32> = g.iter().map(|s| u32::from(*s == "small")).collect();
        assert_eq!(
            Balance::CorpusClass.sample_weights(&y, &ids).unwrap(),
            vec![0.5, 0.5, 1.0, 0.5, 1.0, 0.5, 2.0, 2.0]
        );
    }

    #[test]
    fn groups_are_required_only_by_the_rules_that_use_them() {
        let y = [0, 1, 1];
        assert!(Balance::Class.sample_weights::<&str>(&y, &[]).is_ok());
        assert!(Balance::None.sample_weights::<&str>(&y, &[]).is_ok());
        for balance in [Balance::Corpus, Balance::CorpusClass] {
            let err = balance.sample_weights(&y, &["a"]).unwrap_err();
            assert!(
                matches!(
                    err,
                    ClassicError::PerSampleCount {
                        what: "corpus ids",
                        n_samples: 3,
                        got: 1
                    }
                ),
                "{err}"
            );
        }
    }

    #[test]
    fn weights_are_checked() {
        assert!(check_weights(&[1.0, 0.5], 2).is_ok());
        assert!(matches!(
            check_weights(&[1.0], 2),
            Err(ClassicError::PerSampleCount {
                what: "weights",
                n_samples: 2,
                got: 1
            })
        ));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                check_weights(&[1.0, bad], 2),
                Err(ClassicError::InvalidWeight { sample: 1, .. })
            ));
        }
    }
}
