//! Ensembles of trained runs: the weighted mean of the class probabilities of several models
//! that read the same feature extraction (a classical model on utterance statistics beside a
//! network on the frames, say).
//!
//! An ensemble is a run folder like any other, so `ser-eval`, `ser-predict` and the web page use
//! it unchanged: `ser-run.json` (the shared extraction, label map and split) and
//! [`ENSEMBLE_FILE`], the member run folders (relative to the ensemble's folder, so a folder that
//! holds its members can be moved) with their weights. [`create`] writes one per fold of k-fold
//! member runs after checking that every member was trained and tested on the same split.
//!
//! Members must share the feature *extraction* (sample rate, FFT, hop, frame count), not the
//! rows or pooling: each member turns the one extracted matrix into its own input. Members
//! with speaker normalisation and nested ensembles are refused.

use std::path::{Component, Path, PathBuf};

use crate::Result;
use crate::error::ResultExt as _;
use crate::error::bail;
use ser_features::{FeatureMatrix, FeatureSet};
use serde::{Deserialize, Serialize};

use crate::eval::RunFolder;
use crate::{Classifier, RUN_INFO_FILE, RunField, RunInfo, write_atomic};

/// File name of the member list inside an ensemble's run folder.
pub const ENSEMBLE_FILE: &str = "ensemble.json";

/// Version of the [`ENSEMBLE_FILE`] layout.
pub const ENSEMBLE_VERSION: u32 = 1;

/// The model name an ensemble's `ser-run.json` carries.
pub const ENSEMBLE_MODEL_NAME: &str = "ensemble";

/// One member as written in [`ENSEMBLE_FILE`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberSpec {
    /// The member's run folder, relative to the ensemble's folder (or absolute).
    pub run_dir: PathBuf,
    /// Its weight in the mean (> 0; the weights are normalised to sum to 1).
    pub weight: f32,
}

/// The contents of [`ENSEMBLE_FILE`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnsembleSpec {
    /// Layout version ([`ENSEMBLE_VERSION`]).
    pub format_version: u32,
    /// The members, in the order their inputs are laid out.
    pub members: Vec<MemberSpec>,
}

impl EnsembleSpec {
    /// Reads and checks `dir/`[`ENSEMBLE_FILE`].
    pub fn load(dir: &Path) -> Result<EnsembleSpec> {
        let path = dir.join(ENSEMBLE_FILE);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        let spec: EnsembleSpec = serde_json::from_str(&text)
            .with_context(|| format!("{}: not an ensemble description", path.display()))?;
        if spec.format_version != ENSEMBLE_VERSION {
            bail!(
                "{}: format version {} (this build reads {ENSEMBLE_VERSION})",
                path.display(),
                spec.format_version
            );
        }
        if spec.members.is_empty() {
            bail!("{}: an ensemble needs at least one member", path.display());
        }
        if let Some(m) = spec
            .members
            .iter()
            .find(|m| !(m.weight.is_finite() && m.weight > 0.0))
        {
            bail!(
                "{}: member {} has weight {}; weights must be finite and > 0",
                path.display(),
                m.run_dir.display(),
                m.weight
            );
        }
        Ok(spec)
    }
}

/// A loaded member: its description, its classifier, its normalised weight and the length of
/// its input inside the ensemble's concatenated input.
#[derive(Debug)]
struct Member {
    run_dir: PathBuf,
    info: RunInfo,
    classifier: Classifier,
    weight: f32,
    input_len: usize,
}

/// A loaded ensemble (see the module documentation).
#[derive(Debug)]
pub struct Ensemble {
    members: Vec<Member>,
    n_classes: usize,
}

impl Ensemble {
    /// Loads the members named in `run_dir/`[`ENSEMBLE_FILE`] and checks them against the
    /// ensemble's description: the same extraction and label map, no speaker normalisation, no
    /// nested ensemble.
    pub fn load(run_dir: &Path, info: &RunInfo) -> Result<Ensemble> {
        let spec = EnsembleSpec::load(run_dir)?;
        let total: f32 = spec.members.iter().map(|m| m.weight).sum();
        let mut members = Vec::with_capacity(spec.members.len());
        for m in &spec.members {
            let dir = run_dir.join(&m.run_dir);
            let context = || format!("{}: member {}", run_dir.display(), m.run_dir.display());
            if dir.join(ENSEMBLE_FILE).exists() {
                bail!("{}: an ensemble cannot be a member", context());
            }
            let member_info = RunInfo::load(&dir).with_context(context)?;
            if let Err(mismatch) = member_info.compatibility(info, &RunField::ENSEMBLE_MEMBER) {
                bail!(
                    "{}: {mismatch} (the member's first, then the ensemble's)",
                    context()
                );
            }
            let classifier = Classifier::load(&dir, &member_info).with_context(context)?;
            if classifier.speaker_norm() {
                bail!(
                    "{}: normalises per speaker, which an ensemble does not support",
                    context()
                );
            }
            let input_len = match &classifier {
                Classifier::Deep(_) => {
                    member_info.rows().len() * member_info.feature_config.n_frames
                }
                Classifier::Classic(m) => ser_classic::Classifier::n_features(m.as_ref()),
                Classifier::Ensemble(_) => bail!("{}: an ensemble cannot be a member", context()),
            };
            members.push(Member {
                run_dir: dir,
                info: member_info,
                classifier,
                weight: m.weight / total,
                input_len,
            });
        }
        Ok(Ensemble {
            members,
            n_classes: info.label_map.len(),
        })
    }

    /// Number of output classes.
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// The member run folders with their normalised weights.
    pub fn members(&self) -> Vec<(&Path, f32)> {
        self.members
            .iter()
            .map(|m| (m.run_dir.as_path(), m.weight))
            .collect()
    }

    /// Every member's classifier and run description, in input order (for adaptation, which
    /// adapts each member's part of the input by that member's rule).
    pub(crate) fn member_classifiers(&self) -> impl Iterator<Item = (&Classifier, &RunInfo)> {
        self.members.iter().map(|m| (&m.classifier, &m.info))
    }

    /// The concatenated inputs of every member for one extracted matrix.
    pub fn prepare(&self, matrix: &FeatureMatrix) -> Result<Vec<f32>> {
        let mut input = Vec::with_capacity(self.members.iter().map(|m| m.input_len).sum());
        for m in &self.members {
            let part = m.classifier.prepare(&m.info, matrix.clone())?;
            if part.len() != m.input_len {
                bail!(
                    "{}: prepared {} input values, expected {}",
                    m.run_dir.display(),
                    part.len(),
                    m.input_len
                );
            }
            input.extend_from_slice(&part);
        }
        Ok(input)
    }

    /// The weighted mean of the members' probabilities of inputs made by
    /// [`Ensemble::prepare`].
    pub fn predict_proba(&self, inputs: &[Vec<f32>]) -> Result<Vec<Vec<f32>>> {
        let expected: usize = self.members.iter().map(|m| m.input_len).sum();
        if let Some((i, x)) = inputs.iter().enumerate().find(|(_, x)| x.len() != expected) {
            bail!(
                "ensemble input {i} has {} values, expected {expected}",
                x.len()
            );
        }
        let mut mean = vec![vec![0.0f32; self.n_classes]; inputs.len()];
        let mut offset = 0;
        for m in &self.members {
            let part: Vec<Vec<f32>> = inputs
                .iter()
                .map(|x| x[offset..offset + m.input_len].to_vec())
                .collect();
            offset += m.input_len;
            let proba = m
                .classifier
                .predict_proba(&part)
                .with_context(|| format!("{}: prediction failed", m.run_dir.display()))?;
            for (acc, p) in mean.iter_mut().zip(&proba) {
                if p.len() != self.n_classes {
                    bail!(
                        "{}: {} probabilities per input, expected {}",
                        m.run_dir.display(),
                        p.len(),
                        self.n_classes
                    );
                }
                acc.iter_mut().zip(p).for_each(|(a, b)| *a += m.weight * b);
            }
        }
        Ok(mean)
    }
}

/// The path of `target` relative to the folder `base` (both made absolute first); `target`
/// itself when they share no root.
fn relative_path(target: &Path, base: &Path) -> Result<PathBuf> {
    let target = std::path::absolute(target)
        .with_context(|| format!("{}: cannot resolve", target.display()))?;
    let base =
        std::path::absolute(base).with_context(|| format!("{}: cannot resolve", base.display()))?;
    fn normal(p: &Path) -> Vec<Component<'_>> {
        let mut out: Vec<Component<'_>> = Vec::new();
        for c in p.components() {
            match c {
                Component::CurDir => {}
                Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                    out.pop();
                }
                other => out.push(other),
            }
        }
        out
    }
    let (t, b) = (normal(&target), normal(&base));
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return Ok(target);
    }
    let mut rel = PathBuf::new();
    for _ in common..b.len() {
        rel.push("..");
    }
    for c in &t[common..] {
        rel.push(c.as_os_str());
    }
    Ok(rel)
}

/// Writes an ensemble of `members` (each a run folder or a k-fold parent, all of the same
/// protocol and number of folds) into `out`: one ensemble run folder per fold (`out/fold-N/`
/// for k folds, `out` itself for one), fold `N` averaging fold `N` of every member. `weights`
/// (one per member, > 0) default to equal. Returns the ensemble run folders written.
///
/// Every fold is checked before anything is written: the same protocol, fold, test speakers,
/// label map and feature extraction in every member.
pub fn create(
    members: &[PathBuf],
    weights: Option<&[f32]>,
    out: &Path,
    command: &str,
) -> Result<Vec<PathBuf>> {
    if members.is_empty() {
        bail!("an ensemble needs at least one member run");
    }
    let weights: Vec<f32> = match weights {
        Some(w) if w.len() != members.len() => {
            bail!("{} weights for {} member runs", w.len(), members.len())
        }
        Some(w) => w.to_vec(),
        None => vec![1.0; members.len()],
    };
    if let Some(w) = weights.iter().find(|w| !(w.is_finite() && **w > 0.0)) {
        bail!("weight {w}: weights must be finite and > 0");
    }
    let mut fold_lists = Vec::with_capacity(members.len());
    for m in members {
        if m.join(ENSEMBLE_FILE).exists() {
            bail!("{}: an ensemble cannot be a member", m.display());
        }
        let folds = match RunFolder::detect(m)? {
            RunFolder::Fold(d) => vec![d],
            RunFolder::Parent(ds) => ds,
        };
        fold_lists.push(folds);
    }
    let n_folds = fold_lists[0].len();
    if let Some((m, f)) = members
        .iter()
        .zip(&fold_lists)
        .find(|(_, f)| f.len() != n_folds)
    {
        bail!(
            "{}: {} fold folders, but {} has {n_folds}",
            m.display(),
            f.len(),
            members[0].display()
        );
    }
    let mut plans = Vec::with_capacity(n_folds);
    for k in 0..n_folds {
        let infos = fold_lists
            .iter()
            .map(|folds| RunInfo::load(&folds[k]))
            .collect::<Result<Vec<_>>>()?;
        let first = &infos[0];
        for (folds, info) in fold_lists.iter().zip(&infos).skip(1) {
            if let Err(mismatch) = info.compatibility(first, &RunField::ENSEMBLE) {
                bail!(
                    "{} and {}: {mismatch}; ensemble members must share the split, labels and \
                     feature extraction",
                    folds[k].display(),
                    fold_lists[0][k].display()
                );
            }
        }
        let dir = crate::fold_dir(out, k, n_folds);
        plans.push((dir, infos, k));
    }
    let mut written = Vec::with_capacity(n_folds);
    for (dir, infos, k) in plans {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let spec = EnsembleSpec {
            format_version: ENSEMBLE_VERSION,
            members: fold_lists
                .iter()
                .zip(&weights)
                .map(|(folds, &weight)| {
                    Ok(MemberSpec {
                        run_dir: relative_path(&folds[k], &dir)?,
                        weight,
                    })
                })
                .collect::<Result<_>>()?,
        };
        let mut info = infos[0].clone();
        info.model = ENSEMBLE_MODEL_NAME.to_owned();
        // The ensemble's own rows: all of them (each member selects its own).
        info.feature_set = FeatureSet::Full;
        info.normalizer = ser_data::Normalizer::identity(info.rows().len());
        info.augment = None;
        info.leak_warning = infos.iter().find_map(|i| i.leak_warning.clone());
        info.command = command.to_owned();
        info.training_time_s = Some(
            infos
                .iter()
                .zip(&fold_lists)
                .map(|(i, folds)| member_training_time(&folds[k], i))
                .sum(),
        );
        let text = serde_json::to_string_pretty(&spec)?;
        write_atomic(&dir.join(ENSEMBLE_FILE), text.as_bytes())?;
        info.save(&dir)?;
        // Check at once that the folder loads.
        Ensemble::load(&dir, &info)?;
        written.push(dir);
    }
    Ok(written)
}

/// Seconds a member fold spent training: its epochs (deep) or its fit (classical).
fn member_training_time(dir: &Path, info: &RunInfo) -> f64 {
    match crate::eval::read_history_csv(dir) {
        Ok(Some(h)) => h.duration_s.iter().sum(),
        _ => info.training_time_s.unwrap_or(0.0),
    }
}

/// Whether `dir` holds an ensemble (its [`ENSEMBLE_FILE`] beside [`RUN_INFO_FILE`]).
pub fn is_ensemble(dir: &Path) -> bool {
    dir.join(ENSEMBLE_FILE).is_file() && dir.join(RUN_INFO_FILE).is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_walk_up_and_down() {
        let rel = relative_path(
            Path::new("/a/b/runs/svm/fold-1"),
            Path::new("/a/b/ens/fold-1"),
        )
        .unwrap();
        assert_eq!(rel, PathBuf::from("../../runs/svm/fold-1"));
        let inside =
            relative_path(Path::new("/m/default/members/svm"), Path::new("/m/default")).unwrap();
        assert_eq!(inside, PathBuf::from("members/svm"));
        let dotted = relative_path(Path::new("/x/./y/../z"), Path::new("/x")).unwrap();
        assert_eq!(dotted, PathBuf::from("z"));
    }

    #[test]
    fn members_of_different_runs_are_refused_naming_both_and_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        crate::tests::info().save(&a).unwrap();
        let mut other = crate::tests::info();
        other.test_speakers = vec!["5".to_owned()];
        other.save(&b).unwrap();
        let out = dir.path().join("ens");
        let err = create(&[a.clone(), b.clone()], None, &out, "test").unwrap_err();
        let err = format!("{err:#}");
        assert!(
            err.contains(&format!(
                "{} and {}: different test speakers: [5] vs [3, 4]; ensemble members",
                b.display(),
                a.display()
            )),
            "{err}"
        );
        assert!(!out.exists(), "nothing is written");
    }

    #[test]
    fn loading_refuses_a_member_with_other_labels() {
        let dir = tempfile::tempdir().unwrap();
        let member = dir.path().join("a");
        std::fs::create_dir_all(&member).unwrap();
        let mut info = crate::tests::info();
        info.label_map =
            ser_data::LabelMap::new(vec![ser_data::Emotion::Neutral, ser_data::Emotion::Sad])
                .unwrap();
        info.save(&member).unwrap();
        std::fs::write(
            dir.path().join(ENSEMBLE_FILE),
            r#"{"format_version":1,"members":[{"run_dir":"a","weight":1.0}]}"#,
        )
        .unwrap();
        let err = format!(
            "{:#}",
            Ensemble::load(dir.path(), &crate::tests::info()).unwrap_err()
        );
        assert!(
            err.contains("member a: different label map: [neutral, sad] vs [neutral, calm,"),
            "{err}"
        );
    }

    #[test]
    fn specs_with_bad_weights_or_versions_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let write = |text: &str| std::fs::write(dir.path().join(ENSEMBLE_FILE), text).unwrap();
        write(r#"{"format_version":1,"members":[{"run_dir":"a","weight":0.0}]}"#);
        let err = format!("{:#}", EnsembleSpec::load(dir.path()).unwrap_err());
        assert!(err.contains("member a has weight 0"), "{err}");
        write(r#"{"format_version":1,"members":[]}"#);
        let err = format!("{:#}", EnsembleSpec::load(dir.path()).unwrap_err());
        assert!(err.contains("at least one member"), "{err}");
        write(r#"{"format_version":9,"members":[{"run_dir":"a","weight":1.0}]}"#);
        let err = format!("{:#}", EnsembleSpec::load(dir.path()).unwrap_err());
        assert!(err.contains("format version 9"), "{err}");
        write(r#"{"format_version":1,"members":[{"run_dir":"a","weight":1.0}]}"#);
        assert_eq!(EnsembleSpec::load(dir.path()).unwrap().members.len(), 1);
    }
}
