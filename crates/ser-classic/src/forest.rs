//! Random forest (Breiman 2001): bootstrap-sampled CART trees with Gini splits over a random
//! subset of features at every node; class probabilities are the fractions of tree votes.
//!
//! # Why not `linfa-ensemble`
//! Its `RandomForest` (0.8.1) draws one feature subset per *tree* rather than per split, breaks
//! vote ties through a `HashMap` (a different answer from run to run), exposes no vote counts,
//! panics when a tree fails, and cannot be serialised. This module is a small CART with
//! scikit-learn's defaults instead (`RandomForestClassifier()`: 100 trees, `sqrt(n_features)`
//! candidate features per split, fully grown trees, bootstrap samples of the training set's
//! size), seeded per tree so that a forest is a pure function of its seed whatever the thread
//! count. Thresholds are midpoints between consecutive distinct values; `x <= threshold` goes
//! left. As in scikit-learn, when every sampled feature is constant in a node, further features
//! are tried until one can split it.
//!
//! # Sample weights
//! A weight acts as a multiplicity ([`crate::ClassicModel::fit_weighted`]):
//! - with `bootstrap` (the default), each tree's bootstrap sample draws sample `i` with
//!   probability `w_i / sum(w)` (a *weighted bootstrap*, ranger's `case.weights`): a sample of
//!   weight 2 is drawn twice as often, the expected count of sample `i` in a tree being `w_i`
//!   for weights of mean 1, and the trees themselves are grown unweighted on what was drawn;
//! - without `bootstrap`, every tree sees every sample once and the Gini impurity and the leaf
//!   votes count sample `i` with weight `w_i` (held as `f32`; *weighted impurity*,
//!   scikit-learn's `sample_weight`).
//!
//! `min_samples_leaf` counts samples (bootstrap copies included), not weight, as in
//! scikit-learn. Equal weights (all 1, or all the same) draw the bootstrap exactly as without
//! weights, so they grow the same forest.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Classifier;
use crate::error::{ClassicError, Result};
use crate::samples::{Samples, SplitMix64, check_training};
use crate::store::{Dim, TensorReader, TensorWriter};

/// How many features each split considers.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MaxFeatures {
    /// `ceil(sqrt(n_features))`, scikit-learn's classification default.
    #[default]
    Sqrt,
    /// `ceil(log2(n_features))`, at least 1.
    Log2,
    /// Every feature (bagged trees).
    All,
    /// A fixed count (clamped to `1..=n_features`).
    Count(usize),
}

impl MaxFeatures {
    /// Candidate features per split for `n_features` features.
    pub fn resolve(self, n_features: usize) -> usize {
        let n = n_features as f64;
        let k = match self {
            MaxFeatures::Sqrt => n.sqrt().ceil() as usize,
            MaxFeatures::Log2 => n.log2().ceil() as usize,
            MaxFeatures::All => n_features,
            MaxFeatures::Count(k) => k,
        };
        k.clamp(1, n_features.max(1))
    }
}

/// Hyper-parameters of the random forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForestConfig {
    /// Number of trees (>= 1).
    pub n_trees: usize,
    /// Candidate features per split.
    pub max_features: MaxFeatures,
    /// Deepest level a tree may grow to (root = 0); `None` grows until leaves are pure.
    pub max_depth: Option<usize>,
    /// Fewest training samples in a leaf (>= 1).
    pub min_samples_leaf: usize,
    /// Train each tree on a bootstrap sample (with replacement) of the training set's size;
    /// `false` trains every tree on the whole set (only the feature sampling differs).
    pub bootstrap: bool,
}

impl Default for ForestConfig {
    /// scikit-learn's `RandomForestClassifier()`.
    fn default() -> Self {
        ForestConfig {
            n_trees: 100,
            max_features: MaxFeatures::Sqrt,
            max_depth: None,
            min_samples_leaf: 1,
            bootstrap: true,
        }
    }
}

impl ForestConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`ClassicError::InvalidConfig`] naming the field.
    pub fn validate(&self) -> Result<()> {
        let bad = |field, value: usize, reason| {
            Err(ClassicError::InvalidConfig {
                field,
                value: value.to_string(),
                reason,
            })
        };
        if self.n_trees == 0 {
            return bad("forest.n_trees", 0, "must be at least 1");
        }
        if self.min_samples_leaf == 0 {
            return bad("forest.min_samples_leaf", 0, "must be at least 1");
        }
        if self.max_features == MaxFeatures::Count(0) {
            return bad("forest.max_features", 0, "must be at least 1");
        }
        Ok(())
    }
}

/// A tree node.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
enum Node {
    /// `(feature, threshold, left, right)`: `x[feature] <= threshold` goes to node `left`.
    Split(u32, f32, u32, u32),
    /// The class voted for.
    Leaf(u32),
}

/// One tree, nodes in depth-first order (root first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    /// The class this tree votes for (the tree must be valid: see [`RandomForest::validate`]).
    fn vote(&self, sample: &[f32]) -> usize {
        let mut at = 0;
        loop {
            match self.nodes[at] {
                Node::Split(feature, threshold, left, right) => {
                    at = if sample[feature as usize] <= threshold {
                        left as usize
                    } else {
                        right as usize
                    };
                }
                Node::Leaf(class) => return class as usize,
            }
        }
    }
}

/// A fitted random forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomForest {
    n_features: usize,
    n_classes: usize,
    trees: Vec<Tree>,
}

impl RandomForest {
    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.trees.len()
    }

    /// Total nodes over all trees.
    pub fn n_nodes(&self) -> usize {
        self.trees.iter().map(|t| t.nodes.len()).sum()
    }

    pub(crate) fn fit_samples(
        x: &Samples,
        y: &[usize],
        n_classes: Option<usize>,
        config: &ForestConfig,
        seed: u64,
    ) -> Result<RandomForest> {
        RandomForest::fit_samples_weighted(x, y, None, n_classes, config, seed)
    }

    /// Fits with per-sample weights (checked by the caller: one per sample, finite, > 0): a
    /// weighted bootstrap, or weighted impurity without bootstrap (see the module
    /// documentation). `None` is the unweighted fit.
    pub(crate) fn fit_samples_weighted(
        x: &Samples,
        y: &[usize],
        weights: Option<&[f64]>,
        n_classes: Option<usize>,
        config: &ForestConfig,
        seed: u64,
    ) -> Result<RandomForest> {
        config.validate()?;
        let n_classes = check_training(x, y, n_classes)?;
        // Equal weights are no weights (and draw the same bootstrap samples).
        let weights = weights.filter(|w| w.iter().any(|&v| v != w[0]));
        // Cumulative weights for the weighted bootstrap.
        let cumulative: Option<Vec<f64>> = weights.filter(|_| config.bootstrap).map(|w| {
            w.iter()
                .scan(0.0, |sum, &v| {
                    *sum += v;
                    Some(*sum)
                })
                .collect()
        });
        let grower = Grower {
            x,
            y,
            weights: weights
                .filter(|_| !config.bootstrap)
                .map(|w| w.iter().map(|&v| v as f32).collect()),
            n_classes,
            max_features: config.max_features.resolve(x.n_features),
            max_depth: config.max_depth.unwrap_or(usize::MAX),
            min_samples_leaf: config.min_samples_leaf,
        };
        let trees = (0..config.n_trees)
            .into_par_iter()
            .map(|t| {
                let mut rng = SplitMix64::for_stream(seed, t as u64);
                let samples: Vec<usize> = match (&cumulative, config.bootstrap) {
                    (Some(cumulative), _) => (0..x.n_samples)
                        .map(|_| weighted_draw(cumulative, &mut rng))
                        .collect(),
                    (None, true) => (0..x.n_samples).map(|_| rng.below(x.n_samples)).collect(),
                    (None, false) => (0..x.n_samples).collect(),
                };
                grower.grow(samples, &mut rng)
            })
            .collect();
        Ok(RandomForest {
            n_features: x.n_features,
            n_classes,
            trees,
        })
    }

    pub(crate) fn proba_samples(&self, x: &Samples) -> Vec<Vec<f32>> {
        let n_trees = self.trees.len() as f32;
        x.rows()
            .map(|sample| {
                let mut votes = vec![0u32; self.n_classes];
                for tree in &self.trees {
                    votes[tree.vote(sample)] += 1;
                }
                votes.iter().map(|&v| v as f32 / n_trees).collect()
            })
            .collect()
    }

    /// Checks a deserialised forest: every tree non-empty, every feature, class and child index
    /// in range, children after their parent (so traversal ends).
    pub(crate) fn validate(&self) -> Result<()> {
        if self.trees.is_empty() || self.n_features == 0 || self.n_classes < 2 {
            return Err(ClassicError::Corrupt {
                reason: format!(
                    "forest of {} trees, {} features, {} classes",
                    self.trees.len(),
                    self.n_features,
                    self.n_classes
                ),
            });
        }
        for (t, tree) in self.trees.iter().enumerate() {
            let n = tree.nodes.len();
            let bad = tree
                .nodes
                .iter()
                .enumerate()
                .find(|&(i, node)| match *node {
                    Node::Split(f, thr, l, r) => {
                        f as usize >= self.n_features
                            || !thr.is_finite()
                            || l as usize <= i
                            || r as usize <= i
                            || l as usize >= n
                            || r as usize >= n
                    }
                    Node::Leaf(c) => c as usize >= self.n_classes,
                });
            if n == 0 || bad.is_some() {
                return Err(ClassicError::Corrupt {
                    reason: format!("forest tree {t}: bad node {:?} of {n}", bad.map(|b| b.0)),
                });
            }
        }
        Ok(())
    }
}

/// The `feature` entry of a leaf in the format-2 node arrays.
const LEAF: u32 = u32::MAX;

/// Format 2 of a saved [`RandomForest`] (see [`crate::store`]): the nodes of every tree
/// concatenated (trees in order, each depth-first) in four `U32`/`F32` tensors of one entry per
/// node: `forest.feature` (the split feature, or `u32::MAX` for a leaf), `forest.threshold`,
/// `forest.left` (the left child within its tree, or a leaf's class) and `forest.right`; and
/// `forest.tree_nodes` (`U32`, nodes per tree).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ForestStored {
    n_features: usize,
    n_classes: usize,
    tree_nodes: String,
    feature: String,
    threshold: String,
    left: String,
    right: String,
}

impl RandomForest {
    /// The format-2 description, its arrays pushed to `tensors`.
    pub(crate) fn to_stored(&self, tensors: &mut TensorWriter) -> ForestStored {
        let n = self.n_nodes();
        let (mut feature, mut threshold) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let (mut left, mut right) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for node in self.trees.iter().flat_map(|t| &t.nodes) {
            let (f, t, l, r) = match *node {
                Node::Split(f, t, l, r) => (f, t, l, r),
                Node::Leaf(class) => (LEAF, 0.0, class, 0),
            };
            feature.push(f);
            threshold.push(t);
            left.push(l);
            right.push(r);
        }
        let sizes: Vec<u32> = self.trees.iter().map(|t| t.nodes.len() as u32).collect();
        ForestStored {
            n_features: self.n_features,
            n_classes: self.n_classes,
            tree_nodes: tensors.u32("forest.tree_nodes".to_owned(), vec![sizes.len()], &sizes),
            feature: tensors.u32("forest.feature".to_owned(), vec![n], &feature),
            threshold: tensors.f32("forest.threshold".to_owned(), vec![n], &threshold),
            left: tensors.u32("forest.left".to_owned(), vec![n], &left),
            right: tensors.u32("forest.right".to_owned(), vec![n], &right),
        }
    }

    /// The forest a format-2 description and its tensors describe (checked by
    /// [`RandomForest::validate`] afterwards).
    ///
    /// # Errors
    /// [`ClassicError::Tensor`] for a missing or ill-shaped tensor, or tree sizes that do not
    /// add up to the nodes stored.
    pub(crate) fn from_stored(
        stored: ForestStored,
        tensors: &TensorReader<'_>,
    ) -> Result<RandomForest> {
        let (sizes, _) = tensors.u32(&stored.tree_nodes, &[Dim::Any])?;
        let (feature, _) = tensors.u32(&stored.feature, &[Dim::Any])?;
        let n = Dim::Is(feature.len());
        let (threshold, _) = tensors.f32(&stored.threshold, &[n])?;
        let (left, _) = tensors.u32(&stored.left, &[n])?;
        let (right, _) = tensors.u32(&stored.right, &[n])?;
        let total: u64 = sizes.iter().map(|&s| u64::from(s)).sum();
        if total != feature.len() as u64 {
            return Err(tensors.error(
                &stored.tree_nodes,
                format!(
                    "tree sizes add up to {total} nodes, {} are stored",
                    feature.len()
                ),
            ));
        }
        let mut nodes = (0..feature.len()).map(|i| match feature[i] {
            LEAF => Node::Leaf(left[i]),
            f => Node::Split(f, threshold[i], left[i], right[i]),
        });
        let trees = sizes
            .iter()
            .map(|&size| Tree {
                nodes: nodes.by_ref().take(size as usize).collect(),
            })
            .collect();
        Ok(RandomForest {
            n_features: stored.n_features,
            n_classes: stored.n_classes,
            trees,
        })
    }
}

impl Classifier for RandomForest {
    type Config = ForestConfig;

    fn fit<R: AsRef<[f32]>>(
        x: &[R],
        y: &[usize],
        config: &ForestConfig,
        seed: u64,
    ) -> Result<Self> {
        RandomForest::fit_samples(&Samples::from_rows(x, None)?, y, None, config, seed)
    }

    fn n_features(&self) -> usize {
        self.n_features
    }

    fn n_classes(&self) -> usize {
        self.n_classes
    }

    fn predict_proba<R: AsRef<[f32]>>(&self, x: &[R]) -> Result<Vec<Vec<f32>>> {
        Ok(self.proba_samples(&Samples::from_rows(x, Some(self.n_features))?))
    }
}

/// Index `i` with probability `w_i / sum(w)`, from the cumulative weights (inverse transform
/// of 53 random bits; the last index when rounding lands on the total).
fn weighted_draw(cumulative: &[f64], rng: &mut SplitMix64) -> usize {
    let total = cumulative.last().copied().unwrap_or(0.0);
    let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * total;
    cumulative
        .partition_point(|&c| c <= u)
        .min(cumulative.len().saturating_sub(1))
}

/// What every tree of one forest shares.
struct Grower<'a> {
    x: &'a Samples,
    y: &'a [usize],
    /// Per-sample weights of the impurity and the leaf votes, as `f32` (which keeps the
    /// sort column of [`Grower::best_split`] small; `None`: every sample counts 1).
    weights: Option<Vec<f32>>,
    n_classes: usize,
    max_features: usize,
    max_depth: usize,
    min_samples_leaf: usize,
}

/// A node still to grow: its samples, its depth, and its parent's index with whether it is the
/// left child.
type PendingNode = (Vec<usize>, usize, Option<(usize, bool)>);

/// The best split found in a node.
struct BestSplit {
    feature: usize,
    threshold: f32,
    /// Weighted Gini impurity of the children (lower is better).
    impurity: f64,
}

impl Grower<'_> {
    /// Grows one tree on `samples` (indices, repeated for bootstrap duplicates).
    fn grow(&self, samples: Vec<usize>, rng: &mut SplitMix64) -> Tree {
        let mut nodes = Vec::new();
        // Depth-first with an explicit stack.
        let mut stack: Vec<PendingNode> = vec![(samples, 0, None)];
        let mut features: Vec<usize> = (0..self.x.n_features).collect();
        while let Some((node_samples, depth, parent)) = stack.pop() {
            let id = nodes.len();
            if let Some((p, is_left)) = parent
                && let Node::Split(_, _, l, r) = &mut nodes[p]
            {
                *(if is_left { l } else { r }) = id as u32;
            }
            let counts = self.counts(&node_samples);
            let split = if depth < self.max_depth
                && node_samples.len() >= 2 * self.min_samples_leaf
                && counts.iter().filter(|&&c| c > 0.0).count() > 1
            {
                self.best_split(&node_samples, &mut features, rng)
            } else {
                None
            };
            match split {
                None => nodes.push(Node::Leaf(argmax_counts(&counts) as u32)),
                Some(s) => {
                    let (left, right): (Vec<usize>, Vec<usize>) = node_samples
                        .iter()
                        .partition(|&&i| self.value(i, s.feature) <= s.threshold);
                    nodes.push(Node::Split(s.feature as u32, s.threshold, 0, 0));
                    // Right pushed first so that the left child is numbered first.
                    stack.push((right, depth + 1, Some((id, false))));
                    stack.push((left, depth + 1, Some((id, true))));
                }
            }
        }
        Tree { nodes }
    }

    fn value(&self, sample: usize, feature: usize) -> f32 {
        self.x.data[sample * self.x.n_features + feature]
    }

    /// The weight of sample `i` (1 without weights).
    fn weight(&self, i: usize) -> f64 {
        self.weights.as_ref().map_or(1.0, |w| f64::from(w[i]))
    }

    /// Total weight per class (sample counts without weights: exact integers in `f64`).
    fn counts(&self, samples: &[usize]) -> Vec<f64> {
        let mut counts = vec![0.0; self.n_classes];
        for &i in samples {
            counts[self.y[i]] += self.weight(i);
        }
        counts
    }

    /// Examines features in a random order until `max_features` non-constant ones have been
    /// tried (or none is left); returns the split with the lowest child impurity, if any split
    /// leaves `min_samples_leaf` samples on both sides.
    fn best_split(
        &self,
        samples: &[usize],
        features: &mut [usize],
        rng: &mut SplitMix64,
    ) -> Option<BestSplit> {
        let n = samples.len();
        let mut best: Option<BestSplit> = None;
        let mut tried = 0;
        // (value, class, weight): 12 bytes, for the sort.
        let mut column: Vec<(f32, u32, f32)> = Vec::with_capacity(n);
        let total = self.counts(samples);
        let total_weight: f64 = total.iter().sum();
        for k in 0..features.len() {
            if tried >= self.max_features {
                break;
            }
            // Partial Fisher-Yates: the next random feature not drawn yet in this node.
            let j = k + rng.below(features.len() - k);
            features.swap(k, j);
            let feature = features[k];
            column.clear();
            column.extend(samples.iter().map(|&i| {
                (
                    self.value(i, feature),
                    self.y[i] as u32,
                    self.weight(i) as f32,
                )
            }));
            column.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
            if column[0].0 == column[n - 1].0 {
                continue;
            }
            tried += 1;
            let mut left = vec![0.0f64; self.n_classes];
            let mut left_weight = 0.0f64;
            for pos in 1..n {
                let (_, class, weight) = column[pos - 1];
                left[class as usize] += f64::from(weight);
                left_weight += f64::from(weight);
                let (lo, hi) = (column[pos - 1].0, column[pos].0);
                if lo == hi || pos < self.min_samples_leaf || n - pos < self.min_samples_leaf {
                    continue;
                }
                let impurity = children_gini(&left, &total, left_weight, total_weight);
                if best.as_ref().is_none_or(|b| impurity < b.impurity) {
                    let mid = lo + (hi - lo) / 2.0;
                    // Adjacent floats: the midpoint may round up to `hi`.
                    let threshold = if mid < hi { mid } else { lo };
                    best = Some(BestSplit {
                        feature,
                        threshold,
                        impurity,
                    });
                }
            }
        }
        best
    }
}

/// `(n_left * gini(left) + n_right * gini(right)) / n` from the class totals (weights, or
/// counts as exact integers in `f64`) of the left child and of the node, and their sums
/// `n_left` and `n`.
fn children_gini(left: &[f64], total: &[f64], n_left: f64, n: f64) -> f64 {
    let n_right = n - n_left;
    let (mut sq_left, mut sq_right) = (0.0f64, 0.0f64);
    for (&l, &t) in left.iter().zip(total) {
        sq_left += l * l;
        sq_right += (t - l) * (t - l);
    }
    // n_l * (1 - sum (l/n_l)^2) = n_l - sum l^2 / n_l.
    let g_left = n_left - sq_left / n_left;
    let g_right = n_right - sq_right / n_right;
    (g_left + g_right) / n
}

/// The majority class (by weight); the lowest index wins ties.
fn argmax_counts(counts: &[f64]) -> usize {
    let mut best = 0;
    for (i, &c) in counts.iter().enumerate() {
        if c > counts[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_features_resolution() {
        assert_eq!(MaxFeatures::Sqrt.resolve(348), 19);
        assert_eq!(MaxFeatures::Sqrt.resolve(40), 7);
        assert_eq!(MaxFeatures::Log2.resolve(40), 6);
        assert_eq!(MaxFeatures::All.resolve(40), 40);
        assert_eq!(MaxFeatures::Count(100).resolve(40), 40);
        assert_eq!(MaxFeatures::Log2.resolve(1), 1);
    }

    #[test]
    fn gini_of_children() {
        // Perfect split of 2 + 2.
        assert_eq!(children_gini(&[2.0, 0.0], &[2.0, 2.0], 2.0, 4.0), 0.0);
        // No information: both children 50/50.
        assert!((children_gini(&[1.0, 1.0], &[2.0, 2.0], 2.0, 4.0) - 0.5).abs() < 1e-12);
        // Weights: a left child of weight 3 (class 0) is pure.
        assert_eq!(children_gini(&[3.0, 0.0], &[3.0, 1.5], 3.0, 4.5), 0.0);
    }

    #[test]
    fn a_stump_splits_at_the_midpoint() {
        let x = Samples::from_rows(&[[0.0f32], [1.0], [2.0], [3.0]], None).unwrap();
        let config = ForestConfig {
            n_trees: 1,
            bootstrap: false,
            ..ForestConfig::default()
        };
        let forest = RandomForest::fit_samples(&x, &[0, 0, 1, 1], None, &config, 0).unwrap();
        assert_eq!(
            forest.trees[0].nodes,
            vec![Node::Split(0, 1.5, 1, 2), Node::Leaf(0), Node::Leaf(1)]
        );
        assert!(forest.validate().is_ok());
        let p = forest.proba_samples(&Samples::from_rows(&[[1.4f32], [1.6]], None).unwrap());
        assert_eq!(p, vec![vec![1.0, 0.0], vec![0.0, 1.0]]);
    }

    #[test]
    fn weighted_draws_follow_the_weights() {
        let cumulative = [1.0, 4.0, 4.5];
        let mut rng = SplitMix64::for_stream(2, 0);
        let mut counts = [0usize; 3];
        for _ in 0..90_000 {
            counts[weighted_draw(&cumulative, &mut rng)] += 1;
        }
        // Expected 20 000, 60 000 and 10 000.
        for (got, expected) in counts.iter().zip([20_000.0, 60_000.0, 10_000.0]) {
            assert!((*got as f64 - expected).abs() < 1000.0, "{counts:?}");
        }
    }

    #[test]
    fn weights_set_the_leaf_vote_and_equal_weights_change_nothing() {
        // A leaf of three samples (min_samples_leaf 3): two of class 0, one of class 1 that
        // weighs 3.
        let x = Samples::from_rows(&[[0.0f32], [1.0], [2.0]], None).unwrap();
        let y = [0, 0, 1];
        let config = ForestConfig {
            n_trees: 1,
            bootstrap: false,
            min_samples_leaf: 3,
            ..ForestConfig::default()
        };
        let plain = RandomForest::fit_samples(&x, &y, None, &config, 0).unwrap();
        assert_eq!(plain.trees[0].nodes, vec![Node::Leaf(0)]);
        let weights = [1.0, 1.0, 3.0];
        let weighted =
            RandomForest::fit_samples_weighted(&x, &y, Some(&weights), None, &config, 0).unwrap();
        assert_eq!(weighted.trees[0].nodes, vec![Node::Leaf(1)]);
        for bootstrap in [true, false] {
            let config = ForestConfig {
                n_trees: 5,
                bootstrap,
                ..ForestConfig::default()
            };
            let plain = RandomForest::fit_samples(&x, &y, None, &config, 4).unwrap();
            for w in [1.0, 0.25] {
                let same =
                    RandomForest::fit_samples_weighted(&x, &y, Some(&[w; 3]), None, &config, 4)
                        .unwrap();
                assert_eq!(same, plain);
            }
        }
    }

    #[test]
    fn depth_and_leaf_limits_hold() {
        let rows: Vec<[f32; 1]> = (0..16).map(|i| [i as f32]).collect();
        let y: Vec<usize> = (0..16).map(|i| i % 2).collect();
        let x = Samples::from_rows(&rows, None).unwrap();
        let config = ForestConfig {
            n_trees: 1,
            bootstrap: false,
            max_depth: Some(2),
            ..ForestConfig::default()
        };
        let forest = RandomForest::fit_samples(&x, &y, None, &config, 0).unwrap();
        // At most 1 + 2 + 4 nodes at depth <= 2.
        assert!(forest.n_nodes() <= 7);
        let config = ForestConfig {
            n_trees: 1,
            bootstrap: false,
            min_samples_leaf: 8,
            ..ForestConfig::default()
        };
        let forest = RandomForest::fit_samples(&x, &y, None, &config, 0).unwrap();
        assert_eq!(forest.n_nodes(), 3);
    }

    #[test]
    fn corrupt_trees_are_refused() {
        let forest = RandomForest {
            n_features: 1,
            n_classes: 2,
            trees: vec![Tree {
                nodes: vec![Node::Split(0, 0.5, 0, 1), Node::Leaf(0)],
            }],
        };
        assert!(matches!(
            forest.validate(),
            Err(ClassicError::Corrupt { .. })
        ));
        let forest = RandomForest {
            n_features: 1,
            n_classes: 2,
            trees: vec![Tree {
                nodes: vec![Node::Leaf(2)],
            }],
        };
        assert!(matches!(
            forest.validate(),
            Err(ClassicError::Corrupt { .. })
        ));
    }
}
