//! Unsupervised adaptation: a batch of recordings from one source (a new corpus, microphone or
//! speaker) has the model's inputs standardised with the batch's own statistics, per speaker
//! when the batch names speakers. Labels are never used.
//!
//! Each input of the batch belongs to a *group* (a speaker, or the whole batch). A group with
//! at least [`MIN_ADAPTATION_FILES`] files gets its own statistics; the files of smaller groups
//! are adapted with the statistics of the whole batch (the *pooled* group); a batch of fewer
//! files is refused. Statistics are taken over every input of a group (every speech window of
//! a long file), counts are in files. How an input is adapted depends on the model:
//!
//! - a classical model (utterance statistics, standardised by the model with its training
//!   statistics): the group's mean and standard deviation of each value are mapped onto the
//!   training ones, `x' = (x - mean_g) / sd_g * sd_train + mean_train`, so that the model sees
//!   the group standardised (a value constant in the group becomes the training mean);
//! - a classical model trained with `--speaker-norm`: what it does already, each group
//!   standardised with its own statistics (so no `--speaker-ref` is needed);
//! - a network (rows of the feature set x frames, normalised with the training side's global
//!   statistics, which makes the training side zero mean and unit variance per row): each row
//!   re-standardised to zero mean and unit variance over all frames of the group's inputs;
//! - an ensemble: each member's part of the concatenated input by that member's rule.
//!
//! This is the speaker-level (or corpus-level) feature normalisation of unsupervised domain
//! adaptation (Busso et al., "Iterative feature normalization scheme for automatic emotion
//! detection from speech", IEEE Trans. Affective Computing 4(4), 2013), applied at prediction
//! time to a model trained without it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use crate::Result;
use crate::error::ResultExt as _;
use crate::error::bail;
use ser_classic::Standardizer;
use ser_data::{CorpusKind, NormalizationMode, SpeakerId};
use serde::{Deserialize, Serialize};

use crate::predict::{FilePrediction, MIN_HOP_S, WindowPrediction, rms_dbfs, window_starts};
use crate::{Classifier, Model, RunInfo};

/// Fewest files a group needs for its own statistics, and a batch for any adaptation: the
/// speaker normalisation's minimum ([`ser_classic::MIN_SPEAKER_UTTERANCES`]).
pub const MIN_ADAPTATION_FILES: usize = ser_classic::MIN_SPEAKER_UTTERANCES;

/// The group name of a batch whose files name no speakers: the whole batch is one group.
pub const WHOLE_BATCH: &str = "batch";

/// File name of the adaptation summary `ser-eval --adapt` writes beside its metrics.
pub const ADAPTATION_FILE: &str = "adaptation.json";

/// Sub-folder of an evaluated folder that receives the adapted evaluation (`ser-eval
/// --adapt`), so it never overwrites the plain one.
pub const ADAPTED_DIR: &str = "adapted";

/// Standard deviations of a network's rows below this count as 1 (the row is only centred), as
/// the training side's normalisation does.
const MIN_ROW_STD: f64 = 1e-6;

/// One group of an adapted batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdaptationGroup {
    /// The group (a speaker id, or [`WHOLE_BATCH`]).
    pub name: String,
    /// Its files.
    pub n_files: usize,
    /// Whether it had too few files for its own statistics and was adapted with the whole
    /// batch's.
    pub pooled: bool,
}

/// What an adaptation did: the batch, its groups and which of them were pooled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adaptation {
    /// Files whose inputs were adapted (and gave the statistics).
    pub n_files: usize,
    /// Inputs adapted (analysis windows; one per file for clips up to one window).
    pub n_inputs: usize,
    /// The fewest files of a group with its own statistics ([`MIN_ADAPTATION_FILES`]).
    pub min_files: usize,
    /// The groups, sorted by name.
    pub groups: Vec<AdaptationGroup>,
}

impl Adaptation {
    /// The group named `name`, if the batch had it.
    pub fn group(&self, name: &str) -> Option<&AdaptationGroup> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// Whether the groups are speakers (not the single [`WHOLE_BATCH`] group).
    pub fn by_speaker(&self) -> bool {
        !matches!(self.groups.as_slice(), [g] if g.name == WHOLE_BATCH)
    }

    /// One line for users: `standardised with the statistics of 240 files (4 speakers:
    /// ravdess:01 60, ...)`, naming pooled groups.
    pub fn describe(&self) -> String {
        let mut text = format!("standardised with the statistics of {} files", self.n_files);
        if self.n_inputs != self.n_files {
            let _ = write!(text, " ({} analysis windows)", self.n_inputs);
        }
        if !self.by_speaker() {
            text.push_str(" as one group (the file names name no speakers)");
            return text;
        }
        let list = |pooled: bool| -> Vec<String> {
            self.groups
                .iter()
                .filter(|g| g.pooled == pooled)
                .map(|g| format!("{} {}", g.name, g.n_files))
                .collect()
        };
        let (own, pooled) = (list(false), list(true));
        let n = self.groups.len();
        let _ = write!(text, " ({n} speaker{}", if n == 1 { "" } else { "s" });
        if !own.is_empty() {
            let _ = write!(text, ": {}", own.join(", "));
        }
        if !pooled.is_empty() {
            let _ = write!(
                text,
                "{}with fewer than {} files, so the whole batch's statistics: {}",
                if own.is_empty() { ", each " } else { "; " },
                self.min_files,
                pooled.join(", ")
            );
        }
        text.push(')');
        text
    }

    /// `{"n_files", "n_inputs", "min_files", "group", "group_files", "pooled"}`: the batch and
    /// the group of one file, for JSON output.
    pub fn file_json(&self, group: &str) -> serde_json::Value {
        let g = self.group(group);
        serde_json::json!({
            "n_files": self.n_files,
            "n_inputs": self.n_inputs,
            "min_files": self.min_files,
            "group": group,
            "group_files": g.map(|g| g.n_files),
            "pooled": g.map(|g| g.pooled),
        })
    }
}

/// Which statistics each input of a batch gets (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdaptationPlan {
    /// Per input: the group with its own statistics, or `None` for the whole batch's.
    own: Vec<Option<usize>>,
    /// Groups with their own statistics.
    n_own: usize,
    summary: Adaptation,
}

impl AdaptationPlan {
    /// The plan of a batch of one input per file, `groups[i]` the group of input `i`.
    ///
    /// # Errors
    /// Fewer than [`MIN_ADAPTATION_FILES`] inputs.
    pub fn new<S: AsRef<str>>(groups: &[S]) -> Result<AdaptationPlan> {
        AdaptationPlan::by_file(groups, &vec![1; groups.len()])
    }

    /// The plan of a batch of files, file `f` in group `file_groups[f]` with
    /// `inputs_per_file[f]` inputs (its speech windows, in order; the inputs of the batch are
    /// those of file 0, then file 1, ...). Files without inputs do not count.
    ///
    /// # Errors
    /// Slices of different lengths; fewer than [`MIN_ADAPTATION_FILES`] files with inputs.
    pub fn by_file<S: AsRef<str>>(
        file_groups: &[S],
        inputs_per_file: &[usize],
    ) -> Result<AdaptationPlan> {
        if file_groups.len() != inputs_per_file.len() {
            bail!(
                "{} groups for {} files",
                file_groups.len(),
                inputs_per_file.len()
            );
        }
        let mut files: BTreeMap<&str, usize> = BTreeMap::new();
        for (g, &n) in file_groups.iter().zip(inputs_per_file) {
            if n > 0 {
                *files.entry(g.as_ref()).or_default() += 1;
            }
        }
        let n_files: usize = files.values().sum();
        if n_files < MIN_ADAPTATION_FILES {
            bail!(
                "adaptation standardises with the statistics of a batch of recordings: it needs at \
                 least {MIN_ADAPTATION_FILES} files with speech, the batch has {n_files}"
            );
        }
        let mut index = BTreeMap::new();
        let groups: Vec<AdaptationGroup> = files
            .iter()
            .map(|(&name, &n)| {
                let pooled = n < MIN_ADAPTATION_FILES;
                if !pooled {
                    let k = index.len();
                    index.insert(name, k);
                }
                AdaptationGroup {
                    name: name.to_owned(),
                    n_files: n,
                    pooled,
                }
            })
            .collect();
        let mut own = Vec::with_capacity(inputs_per_file.iter().sum());
        for (g, &n) in file_groups.iter().zip(inputs_per_file) {
            let k = index.get(g.as_ref()).copied();
            own.extend(std::iter::repeat_n(k, n));
        }
        Ok(AdaptationPlan {
            n_own: index.len(),
            summary: Adaptation {
                n_files,
                n_inputs: own.len(),
                min_files: MIN_ADAPTATION_FILES,
                groups,
            },
            own,
        })
    }

    /// What the plan does.
    pub fn summary(&self) -> &Adaptation {
        &self.summary
    }

    /// Number of inputs the plan adapts.
    pub fn n_inputs(&self) -> usize {
        self.own.len()
    }

    /// The inputs of each statistics group: groups with their own statistics first (in
    /// order), then the pooled group (every input) when some input uses it.
    fn statistics_groups(&self) -> Vec<Vec<usize>> {
        let mut members = vec![Vec::new(); self.n_own];
        for (i, k) in self.own.iter().enumerate() {
            if let Some(k) = k {
                members[*k].push(i);
            }
        }
        if self.own.iter().any(Option::is_none) {
            members.push((0..self.own.len()).collect());
        }
        members
    }

    /// The statistics group of input `i` (an index into [`AdaptationPlan::statistics_groups`]).
    fn statistics_group_of(&self, i: usize) -> usize {
        self.own[i].unwrap_or(self.n_own)
    }
}

/// How one part of a model input is adapted.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Rule<'a> {
    /// Utterance statistics standardised by the model with `training`: the group's
    /// distribution mapped onto the training one.
    OntoTraining(&'a Standardizer),
    /// `len` utterance statistics of a speaker-normalised model: each group standardised.
    Standardize {
        /// Values.
        len: usize,
    },
    /// `n_rows x n_frames` row-major frames: each row standardised over the group's frames
    /// of speech. Padding frames (the zeros after a clip shorter than the window, i.e. every
    /// row at its `pad` value) are left out of the statistics and left as they are: a corpus
    /// of short clips would otherwise be standardised mostly on its padding (RAVDESS -> TESS:
    /// a GRU fell to chance with it counted).
    Frames {
        /// Rows.
        n_rows: usize,
        /// Frames per row.
        n_frames: usize,
        /// The value of each row in a padding frame (a zero frame after the normaliser).
        pad: Vec<f32>,
    },
}

impl Rule<'_> {
    /// Values of the input part this rule adapts.
    fn len(&self) -> usize {
        match self {
            Rule::OntoTraining(s) => s.n_features(),
            Rule::Standardize { len } => *len,
            Rule::Frames {
                n_rows, n_frames, ..
            } => n_rows * n_frames,
        }
    }
}

/// The adaptation rules of a classifier's input, one per concatenated part (an ensemble's
/// members in order).
pub(crate) fn rules<'a>(classifier: &'a Classifier, info: &RunInfo) -> Result<Vec<Rule<'a>>> {
    Ok(match classifier {
        Classifier::Classic(m) if m.config().speaker_norm => vec![Rule::Standardize {
            len: ser_classic::Classifier::n_features(m.as_ref()),
        }],
        Classifier::Classic(m) => vec![Rule::OntoTraining(m.standardizer())],
        Classifier::Deep(_) => {
            if info.normalizer.mode != NormalizationMode::Global {
                bail!(
                    "adaptation re-standardises a network's inputs, which needs a network trained \
                     on globally normalised features (this one: {:?})",
                    info.normalizer.mode
                );
            }
            let all_rows = info.feature_config.layout().n_rows;
            let mut zero = vec![0.0_f32; all_rows];
            info.normalizer.apply(&mut zero, 1)?;
            let pad = info.rows().iter().map(|&r| zero[r]).collect();
            vec![Rule::Frames {
                n_rows: info.rows().len(),
                n_frames: info.feature_config.n_frames,
                pad,
            }]
        }
        Classifier::Ensemble(e) => {
            let mut all = Vec::new();
            for (member, member_info) in e.member_classifiers() {
                all.extend(rules(member, member_info)?);
            }
            all
        }
    })
}

/// Adapts `inputs` in place by `rules` (each applied to its part of every input) and `plan`.
pub(crate) fn apply(
    rules: &[Rule<'_>],
    inputs: &mut [Vec<f32>],
    plan: &AdaptationPlan,
) -> Result<()> {
    if inputs.len() != plan.n_inputs() {
        bail!(
            "{} inputs to adapt, the adaptation plan has {}",
            inputs.len(),
            plan.n_inputs()
        );
    }
    let expected = rules.iter().map(Rule::len).sum::<usize>();
    if let Some((i, x)) = inputs.iter().enumerate().find(|(_, x)| x.len() != expected) {
        bail!(
            "input {i} has {} values, the model's adaptation expects {expected}",
            x.len()
        );
    }
    let groups = plan.statistics_groups();
    let mut offset = 0;
    for rule in rules {
        let len = rule.len();
        let range = offset..offset + len;
        offset += len;
        match rule {
            Rule::OntoTraining(training) => {
                // Per statistics group: the factor and offset of each value.
                let maps = groups
                    .iter()
                    .map(|members| {
                        let own = Standardizer::fit(
                            &members
                                .iter()
                                .map(|&i| &inputs[i][range.clone()])
                                .collect::<Vec<_>>(),
                        )?;
                        Ok(own
                            .mean()
                            .iter()
                            .zip(own.scale())
                            .zip(training.mean().iter().zip(training.scale()))
                            .map(|((m, s), (mt, st))| (st / s, mt - m * st / s))
                            .collect::<Vec<_>>())
                    })
                    .collect::<std::result::Result<Vec<_>, ser_classic::ClassicError>>()
                    .context("adaptation statistics")?;
                for (i, x) in inputs.iter_mut().enumerate() {
                    let map = &maps[plan.statistics_group_of(i)];
                    for (v, (a, b)) in x[range.clone()].iter_mut().zip(map) {
                        *v = (f64::from(*v) * a + b) as f32;
                    }
                }
            }
            Rule::Standardize { .. } => {
                let fitted = groups
                    .iter()
                    .map(|members| {
                        Standardizer::fit(
                            &members
                                .iter()
                                .map(|&i| &inputs[i][range.clone()])
                                .collect::<Vec<_>>(),
                        )
                    })
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .context("adaptation statistics")?;
                for (i, x) in inputs.iter_mut().enumerate() {
                    let z = fitted[plan.statistics_group_of(i)].transform_one(&x[range.clone()])?;
                    x[range.clone()].copy_from_slice(&z);
                }
            }
            Rule::Frames {
                n_rows,
                n_frames,
                pad,
            } => {
                let (n_rows, n_frames) = (*n_rows, *n_frames);
                // Which frames of each input hold speech rather than padding.
                let speech: Vec<Vec<bool>> = inputs
                    .iter()
                    .map(|x| {
                        let part = &x[range.clone()];
                        (0..n_frames)
                            .map(|f| (0..n_rows).any(|r| part[r * n_frames + f] != pad[r]))
                            .collect()
                    })
                    .collect();
                let stats: Vec<Vec<(f64, f64)>> = groups
                    .iter()
                    .map(|members| {
                        (0..n_rows)
                            .map(|r| {
                                let values = members.iter().flat_map(|&i| {
                                    let start = range.start + r * n_frames;
                                    inputs[i][start..start + n_frames]
                                        .iter()
                                        .zip(&speech[i])
                                        .filter(|(_, s)| **s)
                                        .map(|(v, _)| *v)
                                });
                                values_mean_std(values)
                            })
                            .collect()
                    })
                    .collect();
                for (i, x) in inputs.iter_mut().enumerate() {
                    let stats = &stats[plan.statistics_group_of(i)];
                    for (row, &(m, s)) in x[range.clone()].chunks_exact_mut(n_frames).zip(stats) {
                        row.iter_mut()
                            .zip(&speech[i])
                            .filter(|(_, s)| **s)
                            .for_each(|(v, _)| *v = ((f64::from(*v) - m) / s) as f32);
                    }
                }
            }
        }
    }
    if let Some((i, _)) = inputs
        .iter()
        .enumerate()
        .find(|(_, x)| x.iter().any(|v| !v.is_finite()))
    {
        bail!("adapted input {i} is not finite");
    }
    Ok(())
}

/// Mean and population standard deviation of `values` (1 when below [`MIN_ROW_STD`], so a
/// constant row is centred, not divided by zero; (0, 1) for none).
fn values_mean_std(values: impl Iterator<Item = f32> + Clone) -> (f64, f64) {
    let (mut sum, mut n) = (0.0f64, 0usize);
    for v in values.clone() {
        sum += f64::from(v);
        n += 1;
    }
    if n == 0 {
        return (0.0, 1.0);
    }
    let mean = sum / n as f64;
    let var = values.map(|v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n as f64;
    let std = var.sqrt();
    (mean, if std < MIN_ROW_STD { 1.0 } else { std })
}

/// The speaker of every file when all their names follow one known corpus layout (RAVDESS,
/// EmoDB, TESS: the first that parses every name), as namespaced speaker ids (`ravdess:01`);
/// otherwise [`WHOLE_BATCH`] for every file.
pub fn speaker_groups(files: &[PathBuf]) -> Vec<String> {
    let name = |p: &PathBuf| {
        p.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_owned()
    };
    let speaker = |kind: CorpusKind, file: &str| -> Option<SpeakerId> {
        use ser_data::corpus::{EmoDbId, RavdessId, TessId};
        match kind {
            CorpusKind::Ravdess => RavdessId::parse_file_name(file)
                .ok()
                .map(|id| SpeakerId::ravdess(id.actor)),
            CorpusKind::EmoDb => EmoDbId::parse_file_name(file)
                .ok()
                .map(|id| SpeakerId::new(kind, &format!("{:02}", id.speaker))),
            CorpusKind::Tess => TessId::parse_file_name(file)
                .ok()
                .map(|id| SpeakerId::new(kind, id.speaker.code())),
            CorpusKind::Mixed => None,
        }
    };
    if !files.is_empty() {
        for kind in CorpusKind::READABLE {
            let speakers: Option<Vec<String>> = files
                .iter()
                .map(|f| speaker(kind, &name(f)).map(|s| s.as_str().to_owned()))
                .collect();
            if let Some(speakers) = speakers {
                return speakers;
            }
        }
    }
    vec![WHOLE_BATCH.to_owned(); files.len()]
}

/// A recording analysed for an adapted prediction: its analysis windows (speech windows with
/// empty probabilities, silence with none) and the unadapted inputs of its speech windows.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysedRecording {
    /// Duration in seconds.
    pub duration_s: f64,
    /// Every analysis window, as [`crate::predict::predict_file`] makes them.
    pub windows: Vec<WindowPrediction>,
    /// The input of each speech window, in order ([`Model::unadapted_features`]).
    pub inputs: Vec<Vec<f32>>,
}

/// Analyses decoded audio for [`predict_adapted`]: the front end (band limit, resampling to
/// the model's rate), the windows of [`crate::predict::predict_audio`] with their silence
/// rule, and the unadapted input of every speech window.
///
/// # Errors
/// A hop below [`MIN_HOP_S`]; resampling and feature errors.
pub fn analyse_recording(
    model: &mut Model,
    audio: &ser_audio::Audio,
    hop_s: f64,
) -> Result<AnalysedRecording> {
    if !(hop_s.is_finite() && hop_s >= MIN_HOP_S) {
        bail!("hop of {hop_s} s between analysis windows: must be at least {MIN_HOP_S} s");
    }
    let (from_hz, to_hz, band_hz) = (
        audio.sample_rate_hz,
        model.sample_rate_hz(),
        model.band_hz(),
    );
    let samples = if from_hz == to_hz && ser_audio::band_rate(from_hz, band_hz).is_none() {
        Cow::Borrowed(audio.samples.as_slice())
    } else {
        Cow::Owned(ser_audio::resample_band_limited(
            &audio.samples,
            from_hz,
            to_hz,
            band_hz,
        )?)
    };
    let rate = f64::from(to_hz);
    let window = model.window_samples().max(1);
    let hop = ((hop_s * rate).round() as usize).max(1);
    let starts = window_starts(samples.len(), window, hop);
    let mut windows = Vec::with_capacity(starts.len());
    let mut inputs = Vec::new();
    for start in starts {
        let end = (start + window).min(samples.len());
        let part = &samples[start..end];
        let speech = model.has_speech(part);
        if speech {
            inputs.push(model.unadapted_features(part)?);
        }
        windows.push(WindowPrediction {
            start_s: start as f64 / rate,
            end_s: end as f64 / rate,
            level_dbfs: rms_dbfs(part),
            probabilities: speech.then(Vec::new),
        });
    }
    Ok(AnalysedRecording {
        duration_s: samples.len() as f64 / rate,
        windows,
        inputs,
    })
}

/// Windows given to the classifier at once (the deep predictor's own batch, as in
/// [`crate::predict`]).
const PREDICT_BATCH: usize = ser_trainer::Predictor::DEFAULT_BATCH_SIZE;

/// Predicts a batch of analysed recordings adapted to the batch: recording `i` is in group
/// `groups[i]` (see [`speaker_groups`]); every speech window is adapted with its group's
/// statistics (see the module documentation), then predicted, and each recording's windows
/// aggregated as [`crate::predict::predict_file`] does. Returns the predictions in order and
/// what the adaptation did.
///
/// # Errors
/// Fewer than [`MIN_ADAPTATION_FILES`] recordings with speech; a model whose inputs cannot be
/// adapted; prediction errors.
pub fn predict_adapted<S: AsRef<str>>(
    model: &Model,
    recordings: Vec<AnalysedRecording>,
    groups: &[S],
) -> Result<(Vec<FilePrediction>, Adaptation)> {
    let counts: Vec<usize> = recordings.iter().map(|r| r.inputs.len()).collect();
    let plan = AdaptationPlan::by_file(groups, &counts)?;
    let mut parts = Vec::with_capacity(recordings.len());
    let mut inputs = Vec::with_capacity(plan.n_inputs());
    for r in recordings {
        inputs.extend(r.inputs);
        parts.push((r.duration_s, r.windows));
    }
    model
        .adapt(&mut inputs, &plan)
        .with_context(|| format!("{}: adaptation", model.id()))?;
    let mut inputs = inputs.into_iter();
    let mut predictions = Vec::with_capacity(parts.len());
    for ((duration_s, mut windows), n) in parts.into_iter().zip(counts) {
        let own: Vec<Vec<f32>> = inputs.by_ref().take(n).collect();
        let mut probabilities = Vec::with_capacity(n);
        for chunk in own.chunks(PREDICT_BATCH) {
            probabilities.extend(model.predict_features(chunk)?);
        }
        if probabilities.len() != n {
            bail!(
                "the model returned {} predictions for {n} windows",
                probabilities.len()
            );
        }
        let mut sum: Option<Vec<f32>> = None;
        let mut probabilities = probabilities.into_iter();
        for w in windows.iter_mut().filter(|w| w.probabilities.is_some()) {
            let p = probabilities
                .next()
                .context("the model returned fewer predictions than windows")?;
            let acc = sum.get_or_insert_with(|| vec![0.0; p.len()]);
            acc.iter_mut().zip(&p).for_each(|(a, b)| *a += b);
            w.probabilities = Some(p);
        }
        predictions.push(FilePrediction {
            duration_s,
            probabilities: sum.map(|mut s| {
                s.iter_mut().for_each(|v| *v /= n as f32);
                s
            }),
            windows,
        });
    }
    Ok((predictions, plan.summary().clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch of `n` vectors of `width` values, different per input and value.
    fn batch(n: usize, width: usize, seed: usize) -> Vec<Vec<f32>> {
        (0..n)
            .map(|i| {
                (0..width)
                    .map(|j| {
                        let k = (i * 31 + j * 17 + seed * 7) % 23;
                        k as f32 * 0.37 - 2.0 + j as f32
                    })
                    .collect()
            })
            .collect()
    }

    /// `a * x + b`, `b` depending on the block of `block` values a value is in (a feature for
    /// utterance statistics, a row for frames).
    fn shifted(x: &[Vec<f32>], a: f32, block: usize) -> Vec<Vec<f32>> {
        x.iter()
            .map(|v| {
                v.iter()
                    .enumerate()
                    .map(|(j, &u)| a * u + 5.0 - 0.5 * (j / block) as f32)
                    .collect()
            })
            .collect()
    }

    fn assert_close(a: &[Vec<f32>], b: &[Vec<f32>], tol: f32) {
        for (x, y) in a.iter().zip(b) {
            for (u, v) in x.iter().zip(y) {
                assert!((u - v).abs() <= tol, "{u} vs {v}");
            }
        }
    }

    #[test]
    fn a_scaled_and_shifted_batch_adapts_to_the_same_inputs_without_labels() {
        // Groups a and b of 12 inputs each; the API takes no labels at all.
        let groups: Vec<&str> = (0..24)
            .map(|i| if i % 2 == 0 { "a" } else { "b" })
            .collect();
        let plan = AdaptationPlan::new(&groups).unwrap();
        let training = Standardizer::fit(&batch(40, 3, 9)).unwrap();
        let cases = [
            (Rule::OntoTraining(&training), 3, 1),
            (Rule::Standardize { len: 4 }, 4, 1),
            (
                Rule::Frames {
                    n_rows: 2,
                    n_frames: 3,
                    // No padding value: every frame counts.
                    pad: vec![f32::NAN; 2],
                },
                6,
                3,
            ),
        ];
        for (rule, width, block) in cases {
            let rules = [rule];
            let original = batch(24, width, 1);
            let mut a = original.clone();
            apply(&rules, &mut a, &plan).unwrap();
            let mut b = shifted(&original, 3.0, block);
            apply(&rules, &mut b, &plan).unwrap();
            assert_close(&a, &b, 1e-4);
            assert_ne!(a, original, "{:?} changed nothing", rules[0]);
        }
    }

    #[test]
    fn an_ensemble_input_is_adapted_part_by_part() {
        let training = Standardizer::fit(&batch(40, 3, 9)).unwrap();
        let rules = [
            Rule::OntoTraining(&training),
            Rule::Frames {
                n_rows: 2,
                n_frames: 2,
                // No padding value: every frame counts.
                pad: vec![f32::NAN; 2],
            },
        ];
        let plan = AdaptationPlan::new(&["x"; 12]).unwrap();
        let (classic, frames) = (batch(12, 3, 2), batch(12, 4, 3));
        let mut joined: Vec<Vec<f32>> = classic
            .iter()
            .zip(&frames)
            .map(|(a, b)| [a.as_slice(), b.as_slice()].concat())
            .collect();
        apply(&rules, &mut joined, &plan).unwrap();
        let (mut a, mut b) = (classic.clone(), frames.clone());
        apply(&rules[..1], &mut a, &plan).unwrap();
        apply(&rules[1..], &mut b, &plan).unwrap();
        for ((j, a), b) in joined.iter().zip(&a).zip(&b) {
            assert_eq!(j[..3], a[..]);
            assert_eq!(j[3..], b[..]);
        }
    }

    #[test]
    fn classical_inputs_map_onto_the_training_distribution() {
        let training = Standardizer::fit(&batch(40, 3, 9)).unwrap();
        let plan = AdaptationPlan::new(&["x"; 15]).unwrap();
        let mut inputs = shifted(&batch(15, 3, 4), 10.0, 1);
        apply(&[Rule::OntoTraining(&training)], &mut inputs, &plan).unwrap();
        // Standardised by the model's own statistics, the batch is zero mean, unit variance.
        let z = training.transform(&inputs).unwrap();
        for j in 0..3 {
            let mean = z.iter().map(|v| f64::from(v[j])).sum::<f64>() / 15.0;
            let var = z
                .iter()
                .map(|v| (f64::from(v[j]) - mean).powi(2))
                .sum::<f64>()
                / 15.0;
            assert!(
                mean.abs() < 1e-4 && (var - 1.0).abs() < 1e-3,
                "{mean} {var}"
            );
        }
    }

    #[test]
    fn padding_frames_neither_count_nor_change() {
        // 2 rows x 4 frames, one or two speech frames each, the rest padding at (-1, 2).
        let pad = vec![-1.0_f32, 2.0];
        let rule = || Rule::Frames {
            n_rows: 2,
            n_frames: 4,
            pad: pad.clone(),
        };
        let make = |speech: usize, k: usize| -> Vec<f32> {
            let mut x = vec![0.0_f32; 8];
            for f in 0..4 {
                let (a, b) = if f < speech {
                    (k as f32 + f as f32, 10.0 - k as f32 * f as f32)
                } else {
                    (pad[0], pad[1])
                };
                x[f] = a;
                x[4 + f] = b;
            }
            x
        };
        let plan = AdaptationPlan::new(&["s"; 10]).unwrap();
        let mut short: Vec<Vec<f32>> = (0..10).map(|k| make(1 + k % 2, k)).collect();
        apply(&[rule()], &mut short, &plan).unwrap();
        for (x, k) in short.iter().zip(0..) {
            let speech = 1 + k % 2;
            for f in speech..4 {
                assert_eq!((x[f], x[4 + f]), (pad[0], pad[1]), "padding left as it was");
            }
        }
        // The speech frames are standardised over speech frames only: row 0 has mean 0 and
        // variance 1 there (counting the padding at -1 would move both).
        let values: Vec<f64> = short
            .iter()
            .zip(0..)
            .flat_map(|(x, k)| {
                x[..1 + k % 2]
                    .iter()
                    .map(|&v| f64::from(v))
                    .collect::<Vec<_>>()
            })
            .collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
        assert!(
            mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4,
            "{mean} {var}"
        );
    }

    #[test]
    fn network_rows_are_standardised_over_the_frames_of_the_group() {
        let plan = AdaptationPlan::new(&["s"; 10]).unwrap();
        let rule = Rule::Frames {
            n_rows: 2,
            n_frames: 4,
            // No padding value: every frame counts.
            pad: vec![f32::NAN; 2],
        };
        let mut inputs = shifted(&batch(10, 8, 2), -4.0, 4);
        // A row constant in the batch is centred, not divided by zero.
        inputs.iter_mut().for_each(|x| x[4..].fill(7.0));
        apply(&[rule], &mut inputs, &plan).unwrap();
        let row = |r: usize| -> Vec<f64> {
            inputs
                .iter()
                .flat_map(|x| x[r * 4..(r + 1) * 4].iter().map(|&v| f64::from(v)))
                .collect()
        };
        let values = row(0);
        let mean = values.iter().sum::<f64>() / 40.0;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 40.0;
        assert!(
            mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4,
            "{mean} {var}"
        );
        assert!(row(1).iter().all(|&v| v == 0.0));
    }

    #[test]
    fn small_groups_are_pooled_with_the_whole_batch() {
        // a: 12 files, b: 10, c: 3 (pooled).
        let mut groups = vec!["a"; 12];
        groups.extend(vec!["b"; 10]);
        groups.extend(vec!["c"; 3]);
        let plan = AdaptationPlan::new(&groups).unwrap();
        let summary = plan.summary();
        assert_eq!(summary.n_files, 25);
        let pooled: Vec<(&str, usize, bool)> = summary
            .groups
            .iter()
            .map(|g| (g.name.as_str(), g.n_files, g.pooled))
            .collect();
        assert_eq!(pooled, [("a", 12, false), ("b", 10, false), ("c", 3, true)]);
        assert!(summary.by_speaker());
        assert_eq!(
            summary.describe(),
            "standardised with the statistics of 25 files (3 speakers: a 12, b 10; with fewer \
             than 10 files, so the whole batch's statistics: c 3)"
        );
        let json = summary.file_json("c");
        assert_eq!(json["pooled"], true);
        assert_eq!(json["group_files"], 3);
        // c's inputs get the statistics of all 25: the same as adapting the batch as one group.
        let mut inputs = batch(25, 3, 5);
        let mut whole = inputs.clone();
        apply(&[Rule::Standardize { len: 3 }], &mut inputs, &plan).unwrap();
        let one = AdaptationPlan::new(&["all"; 25]).unwrap();
        apply(&[Rule::Standardize { len: 3 }], &mut whole, &one).unwrap();
        assert_close(&inputs[22..], &whole[22..], 1e-6);
        assert!(inputs[..12].iter().zip(&whole).any(|(a, b)| a != b));

        // Every group small: all pooled, still adapted.
        let all_small: Vec<String> = (0..12).map(|i| format!("s{}", i % 4)).collect();
        let plan = AdaptationPlan::new(&all_small).unwrap();
        assert!(plan.summary().groups.iter().all(|g| g.pooled));
        let line = plan.summary().describe();
        assert!(
            line.contains("(4 speakers, each with fewer than 10 files"),
            "{line}"
        );
    }

    #[test]
    fn a_batch_below_the_minimum_is_an_error_counting_files_not_windows() {
        let err = AdaptationPlan::new(&["a"; 9]).unwrap_err().to_string();
        assert!(
            err.contains("at least 10 files") && err.contains("has 9"),
            "{err}"
        );
        // 9 files of many windows (and one silent file) are still 9 files.
        let mut windows = vec![30; 9];
        windows.push(0);
        let err = AdaptationPlan::by_file(&["a"; 10], &windows).unwrap_err();
        assert!(err.to_string().contains("has 9"), "{err}");
        let plan = AdaptationPlan::by_file(&[WHOLE_BATCH; 10], &[3; 10]).unwrap();
        assert_eq!((plan.summary().n_files, plan.n_inputs()), (10, 30));
        assert!(!plan.summary().by_speaker());
        assert_eq!(
            plan.summary().describe(),
            "standardised with the statistics of 10 files (30 analysis windows) as one group \
             (the file names name no speakers)"
        );
        // Inputs that do not match the model or the plan are refused.
        let mut inputs = batch(10, 4, 0);
        let plan = AdaptationPlan::new(&["a"; 10]).unwrap();
        let frames = Rule::Frames {
            n_rows: 2,
            n_frames: 3,
            // No padding value: every frame counts.
            pad: vec![f32::NAN; 2],
        };
        assert!(apply(&[frames], &mut inputs, &plan).is_err());
        assert!(apply(&[Rule::Standardize { len: 4 }], &mut inputs[..5], &plan).is_err());
    }

    #[test]
    fn speakers_come_from_a_known_corpus_layout_only() {
        let paths = |names: &[&str]| -> Vec<PathBuf> {
            names.iter().map(|n| PathBuf::from("x").join(n)).collect()
        };
        assert_eq!(
            speaker_groups(&paths(&[
                "03-01-05-01-01-01-12.wav",
                "03-01-02-01-01-02-03.wav"
            ])),
            ["ravdess:12", "ravdess:03"]
        );
        assert_eq!(
            speaker_groups(&paths(&["03a01Wa.wav", "16b10Fb.wav"])),
            ["emodb:03", "emodb:16"]
        );
        assert_eq!(
            speaker_groups(&paths(&["OAF_back_angry.wav", "YAF_dog_neutral.wav"])),
            ["tess:OAF", "tess:YAF"]
        );
        // One name outside the layout: the whole batch is one group.
        assert_eq!(
            speaker_groups(&paths(&["03-01-05-01-01-01-12.wav", "my-recording.wav"])),
            [WHOLE_BATCH, WHOLE_BATCH]
        );
    }
}
