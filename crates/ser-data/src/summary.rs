//! A printable (and serialisable) summary of a corpus and a protocol's folds.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::corpus::{Corpus, CorpusKind, Skipped, SpeakerId};
use crate::emotion::{Emotion, Gender};
use crate::error::DataError;
use crate::protocol::Protocol;

/// Clips of one speaker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpeakerCount {
    /// The speaker.
    pub speaker: SpeakerId,
    /// Their gender.
    pub gender: Gender,
    /// Usable clips.
    pub n_clips: usize,
}

/// Clips, speakers and emotions of one corpus of a combined corpus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorpusCount {
    /// The corpus.
    pub corpus: CorpusKind,
    /// Usable clips.
    pub n_clips: usize,
    /// Speakers.
    pub n_speakers: usize,
    /// Clips per emotion it has, in class order.
    pub per_emotion: Vec<(Emotion, usize)>,
}

/// Sizes and speakers of one split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoldSummary {
    /// Fold index.
    pub fold: usize,
    /// Training clips.
    pub n_train: usize,
    /// Validation clips.
    pub n_val: usize,
    /// Test clips.
    pub n_test: usize,
    /// Training speakers.
    pub n_train_speakers: usize,
    /// Validation speakers.
    pub val_speakers: Vec<SpeakerId>,
    /// Test speakers.
    pub test_speakers: Vec<SpeakerId>,
}

/// Counts per emotion, per speaker and per fold, and every skipped file with its reason.
/// `Display` prints it as the `ser-train --summary` report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Corpus kind.
    pub kind: CorpusKind,
    /// Corpus folder.
    pub root: PathBuf,
    /// Usable clips.
    pub n_clips: usize,
    /// Clips per emotion, all eight emotions in class order.
    pub per_emotion: Vec<(Emotion, usize)>,
    /// Clips per speaker, sorted by speaker id.
    pub per_speaker: Vec<SpeakerCount>,
    /// Clips per corpus of a combined corpus (empty for one corpus).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub per_corpus: Vec<CorpusCount>,
    /// The protocol, when one was given.
    pub protocol: Option<Protocol>,
    /// One entry per split of the protocol.
    pub folds: Vec<FoldSummary>,
    /// The protocol's leak warning, if it leaks speakers.
    pub leak_warning: Option<String>,
    /// Skipped files per reason category.
    pub skipped_by_reason: Vec<(String, usize)>,
    /// Every skipped file with its reason.
    pub skipped: Vec<Skipped>,
}

impl Summary {
    /// Summarises `corpus`, and the folds of `protocol` when given (an error if the protocol
    /// does not apply to the corpus).
    pub fn new(corpus: &Corpus, protocol: Option<&Protocol>) -> Result<Summary, DataError> {
        let per_emotion = Emotion::ALL
            .into_iter()
            .map(|e| (e, corpus.items.iter().filter(|u| u.emotion == e).count()))
            .collect();
        let mut by_speaker: BTreeMap<&SpeakerId, (Gender, usize)> = BTreeMap::new();
        for u in &corpus.items {
            by_speaker.entry(&u.speaker).or_insert((u.gender, 0)).1 += 1;
        }
        let per_speaker = by_speaker
            .into_iter()
            .map(|(s, (gender, n_clips))| SpeakerCount {
                speaker: s.clone(),
                gender,
                n_clips,
            })
            .collect();
        let kinds = corpus.corpus_kinds();
        let per_corpus = if kinds.len() > 1 {
            kinds
                .into_iter()
                .map(|kind| {
                    let items: Vec<_> = corpus.items.iter().filter(|u| u.corpus == kind).collect();
                    let speakers: std::collections::BTreeSet<&SpeakerId> =
                        items.iter().map(|u| &u.speaker).collect();
                    CorpusCount {
                        corpus: kind,
                        n_clips: items.len(),
                        n_speakers: speakers.len(),
                        per_emotion: Emotion::ALL
                            .into_iter()
                            .map(|e| (e, items.iter().filter(|u| u.emotion == e).count()))
                            .filter(|(_, n)| *n > 0)
                            .collect(),
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        let folds = match protocol {
            Some(p) => p
                .splits(corpus)?
                .into_iter()
                .map(|s| FoldSummary {
                    fold: s.fold,
                    n_train: s.train.len(),
                    n_val: s.val.len(),
                    n_test: s.test.len(),
                    n_train_speakers: s.train_speakers.len(),
                    val_speakers: s.val_speakers,
                    test_speakers: s.test_speakers,
                })
                .collect(),
            None => Vec::new(),
        };
        let mut by_reason: BTreeMap<&'static str, usize> = BTreeMap::new();
        for s in &corpus.skipped {
            *by_reason.entry(s.reason.category()).or_default() += 1;
        }
        Ok(Summary {
            kind: corpus.kind,
            root: corpus.root.clone(),
            n_clips: corpus.len(),
            per_emotion,
            per_speaker,
            per_corpus,
            protocol: protocol.cloned(),
            folds,
            leak_warning: protocol.and_then(Protocol::leak_warning).map(str::to_owned),
            skipped_by_reason: by_reason
                .into_iter()
                .map(|(r, n)| (r.to_owned(), n))
                .collect(),
            skipped: corpus.skipped.clone(),
        })
    }

    /// Number of skipped files.
    pub fn n_skipped(&self) -> usize {
        self.skipped.len()
    }
}

fn join(speakers: &[SpeakerId]) -> String {
    speakers
        .iter()
        .map(SpeakerId::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(w) = &self.leak_warning {
            writeln!(f, "{w}\n")?;
        }
        let n_male = self
            .per_speaker
            .iter()
            .filter(|s| s.gender == Gender::Male)
            .count();
        writeln!(f, "Corpus: {} at {}", self.kind, self.root.display())?;
        writeln!(
            f,
            "  {} usable files, {} speakers ({} male, {} female), {} skipped",
            self.n_clips,
            self.per_speaker.len(),
            n_male,
            self.per_speaker.len() - n_male,
            self.skipped.len()
        )?;
        if !self.per_corpus.is_empty() {
            writeln!(f, "\nPer corpus:")?;
            for c in &self.per_corpus {
                let emotions: Vec<String> = c
                    .per_emotion
                    .iter()
                    .map(|(e, n)| format!("{e} {n}"))
                    .collect();
                writeln!(
                    f,
                    "  {:<8} {:>6} clips, {:>3} speakers: {}",
                    c.corpus,
                    c.n_clips,
                    c.n_speakers,
                    emotions.join(", ")
                )?;
            }
        }
        writeln!(f, "\nPer emotion:")?;
        for (e, n) in &self.per_emotion {
            writeln!(f, "  {e:<10} {n:>6}")?;
        }
        writeln!(f, "\nPer speaker:")?;
        for s in &self.per_speaker {
            writeln!(f, "  {:<14} {:<6} {:>6}", s.speaker, s.gender, s.n_clips)?;
        }
        if let Some(p) = &self.protocol {
            writeln!(f, "\nProtocol: {}", p.name())?;
            writeln!(f, "  {}", p.description())?;
            let width = self
                .folds
                .iter()
                .map(|fold| join(&fold.test_speakers).len())
                .max()
                .unwrap_or(0)
                .max("test speakers".len());
            writeln!(
                f,
                "  {:>4} {:>6} {:>5} {:>5} {:>9}  {:<width$}  validation speakers",
                "fold", "train", "val", "test", "train spk", "test speakers"
            )?;
            for fold in &self.folds {
                writeln!(
                    f,
                    "  {:>4} {:>6} {:>5} {:>5} {:>9}  {:<width$}  {}",
                    fold.fold,
                    fold.n_train,
                    fold.n_val,
                    fold.n_test,
                    fold.n_train_speakers,
                    join(&fold.test_speakers),
                    join(&fold.val_speakers)
                )?;
            }
        }
        if !self.skipped.is_empty() {
            writeln!(f, "\nSkipped files: {}", self.skipped.len())?;
            for (reason, n) in &self.skipped_by_reason {
                writeln!(f, "  {n:>6}  {reason}")?;
            }
            for s in &self.skipped {
                writeln!(f, "  {}: {}", s.path.display(), s.reason)?;
            }
        }
        Ok(())
    }
}
