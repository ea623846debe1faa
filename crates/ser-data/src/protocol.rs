//! Evaluation protocols. Every protocol but one splits **by speaker**: no speaker is ever on two
//! sides (train / validation / test) of a split. The one clip-level protocol has a name that says
//! it leaks speakers and comes with a warning text callers must print and store.
//!
//! # Validation speakers
//!
//! Validation (early stopping, model selection) always uses a held-out **group of speakers**,
//! never clips of training speakers. The rule, for fold `f` of `k` speaker folds: list the
//! speakers of the following folds `f+1, f+2, ...` (cyclically), each fold's speakers
//! interleaved by gender (male, female, male, ...; each gender in sorted id order), and take the
//! first `val_speakers`. For the RAVDESS leave-4-actors-out protocol this is the first male and
//! the first female actor of the next fold: fold 0 (test actors 1-4) validates on actors 5 and
//! 6, ..., fold 5 (test 21-24) on actors 1 and 2.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::corpus::{Corpus, CorpusKind, SpeakerId, ravdess};
use crate::emotion::{Emotion, Gender, LabelMap};
use crate::error::DataError;
use crate::rng::SplitMix64;

/// Actors per RAVDESS leave-out fold.
const RAVDESS_FOLD_ACTORS: u8 = 4;
/// Validation actors per RAVDESS split (one male, one female).
const RAVDESS_VAL_ACTORS: usize = 2;
/// Last training actor of the original single split (train 1-18, test 19-24).
const ORIGINAL_LAST_TRAIN_ACTOR: u8 = 18;

/// The test actors of EmoBox's six RAVDESS folds (Ma et al., "EmoBox: Multilingual
/// Multi-corpus Speech Emotion Recognition Toolkit and Benchmark", Interspeech 2024; the fold
/// files of its `data/ravdess` recipe): 4 actors, 240 speech clips, per fold.
pub const EMOBOX_RAVDESS_FOLDS: [[u8; 4]; 6] = [
    [1, 11, 20, 21],
    [4, 10, 12, 14],
    [8, 9, 19, 23],
    [3, 5, 7, 24],
    [2, 15, 16, 18],
    [6, 13, 17, 22],
];

/// The name of [`Protocol::LeaveOneCorpusOut`].
const LEAVE_ONE_CORPUS_OUT: &str = "leave-one-corpus-out";

/// The warning attached to [`Protocol::RandomClipsLeaksSpeakers`].
pub const LEAK_WARNING: &str = "WARNING: random clip-level split (RandomClipsLeaksSpeakers): the same speakers are in the training and the test set, so the score measures recognition of voices already heard, not of emotion in new speakers. The Python original reported 87.5% on RAVDESS this way and 34-37% with actors held out. Do not report this number as speaker-independent.";

/// An evaluation protocol; serialisable so that it is saved in every run folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Protocol {
    /// The default for RAVDESS: 6 folds, each testing on 4 actors (2 male, 2 female):
    /// {1-4}, {5-8}, {9-12}, {13-16}, {17-20}, {21-24}; validation on 2 actors (1 male,
    /// 1 female) of the next fold; training on the other 18 actors.
    RavdessLeaveFourActorsOut,
    /// The Python original's single split, made speaker-independent: test actors 19-24,
    /// validation actors 17 and 18, training actors 1-16.
    RavdessOriginalSplit,
    /// EmoBox's six RAVDESS folds ([`EMOBOX_RAVDESS_FOLDS`]), so that rows sit in one table
    /// with its published ones. Validation: 2 actors by the rule of the module docs (the
    /// following folds, each interleaved by gender; fold 1 validates on actors 4 and 10 because
    /// EmoBox's fold 2 holds only actresses); training on the other 18 actors. EmoBox itself
    /// trains on all 20 non-test actors without early stopping, so deep rows here see two
    /// actors fewer.
    RavdessEmobox,
    /// Group k-fold by speaker for any corpus: speakers are dealt round-robin to `k` folds, males
    /// first then females (each in sorted order), so folds are gender-balanced where possible.
    SpeakerKFold {
        /// Number of folds (2..=number of speakers).
        k: usize,
        /// Validation speakers per split, taken from the following folds (see module docs);
        /// 0 leaves the validation side empty (e.g. TESS, which has two speakers).
        val_speakers: usize,
    },
    /// Train on one corpus, test on another, restricted to their shared emotions. Needs a
    /// corpus made with [`Corpus::combine`].
    CrossCorpus {
        /// Training (and validation) corpus.
        train: CorpusKind,
        /// Test corpus.
        test: CorpusKind,
        /// Validation speakers taken from the training corpus (gender-interleaved, sorted); at
        /// most this many, and never so many that fewer than two training speakers remain.
        val_speakers: usize,
    },
    /// Leave one corpus out, for a corpus combined from several ([`Corpus::combine`]): one
    /// split per corpus (in [`CorpusKind`] order) that tests on it and trains on all the
    /// others, on the emotions both sides share. Validation speakers come from the training
    /// corpora (gender-interleaved, sorted), at most `val_speakers` and never so many that fewer
    /// than two training speakers remain (TESS alone trains with none held out).
    LeaveOneCorpusOut {
        /// Validation speakers per split (an upper bound, see above).
        val_speakers: usize,
    },
    /// No test side: every speaker trains, except `val_speakers` held out for validation
    /// (early stopping of deep models; classical models train on them too). For the final
    /// model shipped after a speaker-independent comparison chose its configuration; it
    /// gives no test figures of its own.
    AllSpeakers {
        /// Validation speakers (gender-interleaved, in sorted order: first male, first
        /// female, ...).
        val_speakers: usize,
    },
    /// **Leaks speakers.** A random clip-level split with the same speakers on every side, as
    /// in the Python original. Only for reproducing its inflated figure; comes with
    /// [`LEAK_WARNING`], which callers must print and store.
    RandomClipsLeaksSpeakers {
        /// Shuffle seed.
        seed: u64,
        /// Percentage of clips for testing.
        test_percent: u8,
        /// Percentage of clips for validation.
        val_percent: u8,
    },
}

impl Protocol {
    /// The default (speaker-independent) protocol for a corpus kind: RAVDESS leave-4-actors-out;
    /// EmoDB 5-fold by speaker (each fold 1 male + 1 female) with 2 validation speakers; TESS
    /// 2-fold by speaker without validation speakers (it has only two); combined corpora
    /// 5-fold by speaker.
    pub fn default_for(kind: CorpusKind) -> Protocol {
        match kind {
            CorpusKind::Ravdess => Protocol::RavdessLeaveFourActorsOut,
            CorpusKind::EmoDb | CorpusKind::Mixed => Protocol::SpeakerKFold {
                k: 5,
                val_speakers: 2,
            },
            CorpusKind::Tess => Protocol::SpeakerKFold {
                k: 2,
                val_speakers: 0,
            },
        }
    }

    /// A short kebab-case name for folders and reports.
    pub fn name(&self) -> String {
        match self {
            Protocol::RavdessLeaveFourActorsOut => "ravdess-leave-4-actors-out".to_owned(),
            Protocol::RavdessOriginalSplit => "ravdess-original-split".to_owned(),
            Protocol::RavdessEmobox => "ravdess-emobox".to_owned(),
            Protocol::SpeakerKFold { k, .. } => format!("speaker-{k}-fold"),
            Protocol::CrossCorpus { train, test, .. } => format!("cross-corpus-{train}-to-{test}"),
            Protocol::LeaveOneCorpusOut { .. } => LEAVE_ONE_CORPUS_OUT.to_owned(),
            Protocol::AllSpeakers { .. } => "all-speakers".to_owned(),
            Protocol::RandomClipsLeaksSpeakers { .. } => "random-clips-LEAKS-SPEAKERS".to_owned(),
        }
    }

    /// A one-line description including the validation rule, for summaries and reports.
    pub fn description(&self) -> String {
        match self {
            Protocol::RavdessLeaveFourActorsOut => "6-fold leave-4-actors-out: test actors {1-4},{5-8},{9-12},{13-16},{17-20},{21-24}; validation = first male + first female actor of the next fold; train = other 18 actors".to_owned(),
            Protocol::RavdessOriginalSplit => "single split: train actors 1-16, validation actors 17-18, test actors 19-24".to_owned(),
            Protocol::RavdessEmobox => "EmoBox's 6 folds: test actors {1,11,20,21},{4,10,12,14},{8,9,19,23},{3,5,7,24},{2,15,16,18},{6,13,17,22}; validation = 2 actors of the next fold(s), gender-interleaved; train = other 18 actors".to_owned(),
            Protocol::SpeakerKFold { k, val_speakers } => format!("{k}-fold by speaker (round-robin, gender-balanced, stratified by corpus); validation = {val_speakers} speaker(s) from the next fold(s), gender-interleaved"),
            Protocol::CrossCorpus { train, test, val_speakers } => format!("train on {train} ({val_speakers} validation speaker(s), gender-interleaved), test on {test}; shared emotions only"),
            Protocol::LeaveOneCorpusOut { val_speakers } => format!("leave one corpus out: each corpus tested once by a model trained on all the others (up to {val_speakers} validation speaker(s) from them, gender-interleaved); shared emotions only"),
            Protocol::AllSpeakers { val_speakers } => format!("every speaker trains; validation = {val_speakers} speaker(s), gender-interleaved; no test side (final model)"),
            Protocol::RandomClipsLeaksSpeakers { seed, test_percent, val_percent } => format!("random clip split (seed {seed}, test {test_percent}%, validation {val_percent}%) -- LEAKS SPEAKERS"),
        }
    }

    /// The warning text for protocols that leak speakers between sides, which callers must
    /// print and store with their results. `Some` only for
    /// [`Protocol::RandomClipsLeaksSpeakers`].
    pub fn leak_warning(&self) -> Option<&'static str> {
        match self {
            Protocol::RandomClipsLeaksSpeakers { .. } => Some(LEAK_WARNING),
            _ => None,
        }
    }

    /// The splits of `corpus` under this protocol. Every speaker-level protocol checks that the
    /// train, validation and test speakers of each split are pairwise disjoint.
    pub fn splits(&self, corpus: &Corpus) -> Result<Vec<Split>, DataError> {
        let splits = match self {
            Protocol::RavdessLeaveFourActorsOut => self.ravdess_leave_out(corpus)?,
            Protocol::RavdessOriginalSplit => self.ravdess_original(corpus)?,
            Protocol::RavdessEmobox => self.ravdess_emobox(corpus)?,
            Protocol::SpeakerKFold { k, val_speakers } => {
                self.speaker_kfold(corpus, *k, *val_speakers)?
            }
            Protocol::CrossCorpus {
                train,
                test,
                val_speakers,
            } => vec![self.held_out_corpus(corpus, 0, &[*train], *test, *val_speakers)?],
            Protocol::LeaveOneCorpusOut { val_speakers } => {
                self.leave_one_corpus_out(corpus, *val_speakers)?
            }
            Protocol::AllSpeakers { val_speakers } => {
                vec![self.all_speakers(corpus, *val_speakers)?]
            }
            Protocol::RandomClipsLeaksSpeakers {
                seed,
                test_percent,
                val_percent,
            } => {
                return Ok(vec![self.random_clips(
                    corpus,
                    *seed,
                    *test_percent,
                    *val_percent,
                )?]);
            }
        };
        for split in &splits {
            split.check_disjoint(corpus)?;
        }
        Ok(splits)
    }

    /// RAVDESS protocols run on RAVDESS, or on a combined corpus holding it: the speakers of
    /// the other corpora are then always on the training side (extra training data), so the
    /// test folds, and their figures, are those of RAVDESS alone.
    fn require_ravdess(&self, corpus: &Corpus) -> Result<(), DataError> {
        let holds_ravdess = corpus.kind == CorpusKind::Ravdess
            || (corpus.kind == CorpusKind::Mixed
                && corpus.corpus_kinds().contains(&CorpusKind::Ravdess));
        if !holds_ravdess {
            return Err(DataError::ProtocolNeedsCorpus {
                protocol: self.name(),
                expected: CorpusKind::Ravdess,
                found: corpus.kind,
            });
        }
        let present: BTreeSet<SpeakerId> = corpus.speakers().into_iter().map(|(s, _)| s).collect();
        let missing: Vec<String> = (1..=ravdess::N_ACTORS)
            .map(SpeakerId::ravdess)
            .filter(|s| !present.contains(s))
            .map(|s| s.to_string())
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(DataError::MissingSpeakers {
                protocol: self.name(),
                missing,
            })
        }
    }

    fn ravdess_leave_out(&self, corpus: &Corpus) -> Result<Vec<Split>, DataError> {
        let folds: Vec<Vec<u8>> = (0..ravdess::N_ACTORS / RAVDESS_FOLD_ACTORS)
            .map(|f| {
                (1..=RAVDESS_FOLD_ACTORS)
                    .map(|j| f * RAVDESS_FOLD_ACTORS + j)
                    .collect()
            })
            .collect();
        self.ravdess_folds(corpus, &folds)
    }

    fn ravdess_emobox(&self, corpus: &Corpus) -> Result<Vec<Split>, DataError> {
        let folds: Vec<Vec<u8>> = EMOBOX_RAVDESS_FOLDS.iter().map(|f| f.to_vec()).collect();
        self.ravdess_folds(corpus, &folds)
    }

    /// The splits of RAVDESS test folds given by actor numbers (the other corpora of a
    /// combined corpus always train), with the RAVDESS validation rule.
    fn ravdess_folds(&self, corpus: &Corpus, folds: &[Vec<u8>]) -> Result<Vec<Split>, DataError> {
        self.require_ravdess(corpus)?;
        let folds: Vec<Vec<(SpeakerId, Gender)>> = folds
            .iter()
            .map(|actors| {
                actors
                    .iter()
                    .map(|&a| (SpeakerId::ravdess(a), ravdess::actor_gender(a)))
                    .collect()
            })
            .collect();
        group_folds(
            self,
            corpus,
            &folds,
            RAVDESS_VAL_ACTORS,
            &non_ravdess_speakers(corpus),
        )
    }

    fn ravdess_original(&self, corpus: &Corpus) -> Result<Vec<Split>, DataError> {
        self.require_ravdess(corpus)?;
        let actors = |r: std::ops::RangeInclusive<u8>| -> BTreeSet<SpeakerId> {
            r.map(SpeakerId::ravdess).collect()
        };
        let val_first = ORIGINAL_LAST_TRAIN_ACTOR - 1;
        let mut train = actors(1..=val_first - 1);
        train.extend(non_ravdess_speakers(corpus));
        let split = assign(
            self,
            corpus,
            0,
            &train,
            &actors(val_first..=ORIGINAL_LAST_TRAIN_ACTOR),
            &actors(ORIGINAL_LAST_TRAIN_ACTOR + 1..=ravdess::N_ACTORS),
            &corpus.emotions(),
        )?;
        Ok(vec![split])
    }

    fn speaker_kfold(
        &self,
        corpus: &Corpus,
        k: usize,
        val_speakers: usize,
    ) -> Result<Vec<Split>, DataError> {
        let speakers = corpus.speakers();
        if k < 2 {
            return Err(DataError::InvalidProtocol {
                protocol: self.name(),
                reason: format!("k = {k}, need at least 2 folds"),
            });
        }
        if speakers.len() < k {
            return Err(DataError::TooFewSpeakers {
                protocol: self.name(),
                needed: k,
                found: speakers.len(),
            });
        }
        // Dealt round-robin per corpus (males, then females, each in sorted order), the
        // counter running on from one corpus to the next: every corpus is spread over the
        // folds as evenly as its speakers allow (stratified by corpus).
        let mut folds: Vec<Vec<(SpeakerId, Gender)>> = vec![Vec::new(); k];
        let mut next = 0;
        for kind in corpus.corpus_kinds() {
            let of_kind = speakers_of_kind(corpus, &speakers, kind);
            let by_gender = of_kind
                .iter()
                .filter(|(_, g)| *g == Gender::Male)
                .chain(of_kind.iter().filter(|(_, g)| *g == Gender::Female));
            for s in by_gender {
                folds[next % k].push(s.clone());
                next += 1;
            }
        }
        group_folds(self, corpus, &folds, val_speakers, &BTreeSet::new())
    }

    fn all_speakers(&self, corpus: &Corpus, val_speakers: usize) -> Result<Split, DataError> {
        let speakers = corpus.speakers();
        if speakers.len() <= val_speakers {
            return Err(DataError::TooFewSpeakers {
                protocol: self.name(),
                needed: val_speakers + 1,
                found: speakers.len(),
            });
        }
        let val: BTreeSet<SpeakerId> = interleave_by_gender(&speakers)
            .into_iter()
            .take(val_speakers)
            .collect();
        let train: BTreeSet<SpeakerId> = speakers
            .into_iter()
            .map(|(s, _)| s)
            .filter(|s| !val.contains(s))
            .collect();
        assign(
            self,
            corpus,
            0,
            &train,
            &val,
            &BTreeSet::new(),
            &corpus.emotions(),
        )
    }

    fn leave_one_corpus_out(
        &self,
        corpus: &Corpus,
        val_speakers: usize,
    ) -> Result<Vec<Split>, DataError> {
        let kinds = corpus.corpus_kinds();
        if kinds.len() < 2 {
            return Err(DataError::InvalidProtocol {
                protocol: self.name(),
                reason: format!(
                    "needs at least 2 corpora (give --data more than once), found {}",
                    kinds.len()
                ),
            });
        }
        kinds
            .iter()
            .enumerate()
            .map(|(fold, &test)| {
                let train: Vec<CorpusKind> = kinds.iter().copied().filter(|&k| k != test).collect();
                self.held_out_corpus(corpus, fold, &train, test, val_speakers)
            })
            .collect()
    }

    /// The split that trains on the `train` corpora and tests on `test`, on the emotions both
    /// sides share. Fewer than `val_speakers` validation speakers are taken when the training
    /// corpora have too few: two always stay for training (TESS trains with none held out).
    fn held_out_corpus(
        &self,
        corpus: &Corpus,
        fold: usize,
        train: &[CorpusKind],
        test: CorpusKind,
        val_speakers: usize,
    ) -> Result<Split, DataError> {
        if train.contains(&test) {
            return Err(DataError::InvalidProtocol {
                protocol: self.name(),
                reason: "training and test corpus are the same".to_owned(),
            });
        }
        let emotions_of = |kind: CorpusKind| -> Result<Vec<Emotion>, DataError> {
            let found: Vec<Emotion> = Emotion::ALL
                .into_iter()
                .filter(|e| {
                    corpus
                        .items
                        .iter()
                        .any(|u| u.corpus == kind && u.emotion == *e)
                })
                .collect();
            if found.is_empty() {
                Err(DataError::MissingCorpus { kind })
            } else {
                Ok(found)
            }
        };
        let mut train_emotions = BTreeSet::new();
        for &kind in train {
            train_emotions.extend(emotions_of(kind)?);
        }
        let test_emotions = emotions_of(test)?;
        let shared: Vec<Emotion> = test_emotions
            .into_iter()
            .filter(|e| train_emotions.contains(e))
            .collect();
        if shared.is_empty() {
            return Err(DataError::NoSharedEmotions {
                train: train.first().copied().unwrap_or(CorpusKind::Mixed),
                test,
            });
        }
        let speakers = corpus.speakers();
        let train_pool: Vec<(SpeakerId, Gender)> = train
            .iter()
            .flat_map(|&kind| speakers_of_kind(corpus, &speakers, kind))
            .collect();
        let n_val = val_speakers.min(train_pool.len().saturating_sub(2));
        if train_pool.is_empty() {
            return Err(DataError::TooFewSpeakers {
                protocol: self.name(),
                needed: n_val + 1,
                found: train_pool.len(),
            });
        }
        let val: BTreeSet<SpeakerId> = interleave_by_gender(&train_pool)
            .into_iter()
            .take(n_val)
            .collect();
        let train_set: BTreeSet<SpeakerId> = train_pool
            .into_iter()
            .map(|(s, _)| s)
            .filter(|s| !val.contains(s))
            .collect();
        let test_set: BTreeSet<SpeakerId> = speakers_of_kind(corpus, &speakers, test)
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assign(self, corpus, fold, &train_set, &val, &test_set, &shared)
    }

    fn random_clips(
        &self,
        corpus: &Corpus,
        seed: u64,
        test_percent: u8,
        val_percent: u8,
    ) -> Result<Split, DataError> {
        const PERCENT: usize = 100;
        let (test_pct, val_pct) = (usize::from(test_percent), usize::from(val_percent));
        if test_pct == 0 || test_pct + val_pct >= PERCENT {
            return Err(DataError::InvalidProtocol {
                protocol: self.name(),
                reason: format!(
                    "test {test_pct}% + validation {val_pct}% must leave a training share, with test > 0"
                ),
            });
        }
        let n = corpus.len();
        let mut order: Vec<usize> = (0..n).collect();
        SplitMix64::for_key(seed, &[]).shuffle(&mut order);
        let n_test = (n * test_pct).div_ceil(PERCENT);
        let n_val = n * val_pct / PERCENT;
        let mut test = order[..n_test.min(n)].to_vec();
        let mut val = order[n_test.min(n)..(n_test + n_val).min(n)].to_vec();
        let mut train = order[(n_test + n_val).min(n)..].to_vec();
        test.sort_unstable();
        val.sort_unstable();
        train.sort_unstable();
        let speakers_of = |idx: &[usize]| -> Vec<SpeakerId> {
            let set: BTreeSet<&SpeakerId> = idx.iter().map(|&i| &corpus.items[i].speaker).collect();
            set.into_iter().cloned().collect()
        };
        if train.is_empty() || test.is_empty() {
            return Err(DataError::EmptySide {
                protocol: self.name(),
                fold: 0,
                side: if train.is_empty() { "train" } else { "test" },
                speakers: Vec::new(),
            });
        }
        Ok(Split {
            fold: 0,
            train_speakers: speakers_of(&train),
            val_speakers: speakers_of(&val),
            test_speakers: speakers_of(&test),
            train,
            val,
            test,
            emotions: corpus.emotions(),
        })
    }
}

impl Default for Protocol {
    /// [`Protocol::RavdessLeaveFourActorsOut`].
    fn default() -> Self {
        Protocol::RavdessLeaveFourActorsOut
    }
}

impl std::str::FromStr for Protocol {
    type Err = DataError;

    /// Parses a protocol's [`Protocol::name`] (so a name printed in a report can be given
    /// back), with the command line's short forms: `ravdess-6fold`, `original-split`, `emobox`,
    /// `kfold:K`, `loco`. Parameters a name does not carry take their defaults: 2 validation
    /// speakers (`speaker-K-fold`, `cross-corpus-A-to-B`, `leave-one-corpus-out`,
    /// `all-speakers`), seed 42 with 15% test and 15% validation clips for the leaking random
    /// split. `default` depends on the corpus, see [`Protocol::default_for`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || DataError::UnknownProtocol {
            name: s.to_owned(),
            known: "ravdess-leave-4-actors-out (ravdess-6fold), ravdess-original-split \
                    (original-split), ravdess-emobox (emobox), speaker-K-fold (kfold:K), leave-one-corpus-out (loco), \
                    cross-corpus-A-to-B, all-speakers, random-clips-leaks-speakers",
        };
        let name = s.trim();
        let lower = name.to_ascii_lowercase();
        Ok(match lower.as_str() {
            "ravdess-leave-4-actors-out" | "ravdess-6fold" => Protocol::RavdessLeaveFourActorsOut,
            "ravdess-original-split" | "original-split" => Protocol::RavdessOriginalSplit,
            "ravdess-emobox" | "emobox" => Protocol::RavdessEmobox,
            LEAVE_ONE_CORPUS_OUT | "loco" => Protocol::LeaveOneCorpusOut { val_speakers: 2 },
            "all-speakers" => Protocol::AllSpeakers { val_speakers: 2 },
            "random-clips-leaks-speakers" => Protocol::RandomClipsLeaksSpeakers {
                seed: 42,
                test_percent: 15,
                val_percent: 15,
            },
            other => {
                let k = other.strip_prefix("kfold:").or_else(|| {
                    other
                        .strip_prefix("speaker-")
                        .and_then(|r| r.strip_suffix("-fold"))
                });
                if let Some(k) = k {
                    let k = k.parse::<usize>().map_err(|_| unknown())?;
                    return Ok(Protocol::SpeakerKFold { k, val_speakers: 2 });
                }
                let (train, test) = other
                    .strip_prefix("cross-corpus-")
                    .and_then(|r| r.split_once("-to-"))
                    .ok_or_else(unknown)?;
                Protocol::CrossCorpus {
                    train: train.parse()?,
                    test: test.parse()?,
                    val_speakers: 2,
                }
            }
        })
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.description())
    }
}

/// Speakers ordered male, female, male, ... (each gender in the given order), the rest appended.
fn interleave_by_gender(speakers: &[(SpeakerId, Gender)]) -> Vec<SpeakerId> {
    let males: Vec<&SpeakerId> = speakers
        .iter()
        .filter(|(_, g)| *g == Gender::Male)
        .map(|(s, _)| s)
        .collect();
    let females: Vec<&SpeakerId> = speakers
        .iter()
        .filter(|(_, g)| *g == Gender::Female)
        .map(|(s, _)| s)
        .collect();
    let mut out = Vec::with_capacity(speakers.len());
    for i in 0..males.len().max(females.len()) {
        if let Some(m) = males.get(i) {
            out.push((*m).clone());
        }
        if let Some(f) = females.get(i) {
            out.push((*f).clone());
        }
    }
    out
}

/// The speakers (of `speakers`, sorted with genders) whose utterances come from corpus `kind`.
fn speakers_of_kind(
    corpus: &Corpus,
    speakers: &[(SpeakerId, Gender)],
    kind: CorpusKind,
) -> Vec<(SpeakerId, Gender)> {
    let of_kind: BTreeSet<&SpeakerId> = corpus
        .items
        .iter()
        .filter(|u| u.corpus == kind)
        .map(|u| &u.speaker)
        .collect();
    speakers
        .iter()
        .filter(|(s, _)| of_kind.contains(s))
        .cloned()
        .collect()
}

/// The speakers of every corpus but RAVDESS in a combined corpus (empty for RAVDESS alone).
fn non_ravdess_speakers(corpus: &Corpus) -> BTreeSet<SpeakerId> {
    corpus
        .items
        .iter()
        .filter(|u| u.corpus != CorpusKind::Ravdess)
        .map(|u| u.speaker.clone())
        .collect()
}

/// One split per fold: test = the fold, validation per the module-level rule, train = the
/// rest plus `always_train` (speakers of extra training corpora, in no fold).
fn group_folds(
    protocol: &Protocol,
    corpus: &Corpus,
    folds: &[Vec<(SpeakerId, Gender)>],
    val_speakers: usize,
    always_train: &BTreeSet<SpeakerId>,
) -> Result<Vec<Split>, DataError> {
    let k = folds.len();
    let n_speakers: usize = folds.iter().map(Vec::len).sum();
    let largest_fold = folds.iter().map(Vec::len).max().unwrap_or(0);
    if n_speakers < largest_fold + val_speakers + 1 {
        return Err(DataError::TooFewSpeakers {
            protocol: protocol.name(),
            needed: largest_fold + val_speakers + 1,
            found: n_speakers,
        });
    }
    let emotions = corpus.emotions();
    (0..k)
        .map(|f| {
            let test: BTreeSet<SpeakerId> = folds[f].iter().map(|(s, _)| s.clone()).collect();
            let val: BTreeSet<SpeakerId> = (1..k)
                .flat_map(|j| interleave_by_gender(&folds[(f + j) % k]))
                .take(val_speakers)
                .collect();
            let train: BTreeSet<SpeakerId> = folds
                .iter()
                .flatten()
                .map(|(s, _)| s.clone())
                .filter(|s| !test.contains(s) && !val.contains(s))
                .chain(always_train.iter().cloned())
                .collect();
            assign(protocol, corpus, f, &train, &val, &test, &emotions)
        })
        .collect()
}

/// Assigns every utterance to the side its speaker is on (utterances of other speakers or
/// emotions are left out).
fn assign(
    protocol: &Protocol,
    corpus: &Corpus,
    fold: usize,
    train_speakers: &BTreeSet<SpeakerId>,
    val_speakers: &BTreeSet<SpeakerId>,
    test_speakers: &BTreeSet<SpeakerId>,
    emotions: &[Emotion],
) -> Result<Split, DataError> {
    let mut split = Split {
        fold,
        train: Vec::new(),
        val: Vec::new(),
        test: Vec::new(),
        train_speakers: train_speakers.iter().cloned().collect(),
        val_speakers: val_speakers.iter().cloned().collect(),
        test_speakers: test_speakers.iter().cloned().collect(),
        emotions: emotions.to_vec(),
    };
    for (i, u) in corpus.items.iter().enumerate() {
        if !emotions.contains(&u.emotion) {
            continue;
        }
        if test_speakers.contains(&u.speaker) {
            split.test.push(i);
        } else if val_speakers.contains(&u.speaker) {
            split.val.push(i);
        } else if train_speakers.contains(&u.speaker) {
            split.train.push(i);
        }
    }
    // Only the final-model protocol has no test side by design.
    let test_required = !matches!(protocol, Protocol::AllSpeakers { .. });
    for (side, idx, speakers, required) in [
        ("train", &split.train, &split.train_speakers, true),
        ("test", &split.test, &split.test_speakers, test_required),
    ] {
        if required && idx.is_empty() {
            return Err(DataError::EmptySide {
                protocol: protocol.name(),
                fold,
                side,
                speakers: speakers.iter().map(|s| s.to_string()).collect(),
            });
        }
    }
    Ok(split)
}

/// One train / validation / test split: utterance indices into [`Corpus::items`] (sorted
/// ascending) and the speakers of each side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    /// Fold index (0 for single-split protocols).
    pub fold: usize,
    /// Training utterances.
    pub train: Vec<usize>,
    /// Validation utterances (from held-out speakers; may be empty).
    pub val: Vec<usize>,
    /// Test utterances.
    pub test: Vec<usize>,
    /// Speakers of the training side, sorted.
    pub train_speakers: Vec<SpeakerId>,
    /// Speakers of the validation side, sorted.
    pub val_speakers: Vec<SpeakerId>,
    /// Speakers of the test side, sorted.
    pub test_speakers: Vec<SpeakerId>,
    /// The emotions this split uses (all of the corpus's, or the shared ones cross-corpus).
    pub emotions: Vec<Emotion>,
}

impl Split {
    /// The label map for a model trained on this split.
    pub fn label_map(&self) -> Result<LabelMap, DataError> {
        LabelMap::new(self.emotions.clone())
    }

    /// True when utterance `index` is on the training side.
    pub fn is_train(&self, index: usize) -> bool {
        self.train.binary_search(&index).is_ok()
    }

    /// Checks that no speaker is on two sides: the speakers of the utterances on each side, and
    /// the declared speaker lists, are pairwise disjoint between train, validation and test.
    pub fn check_disjoint(&self, corpus: &Corpus) -> Result<(), DataError> {
        fn side_speakers<'a>(
            corpus: &'a Corpus,
            idx: &[usize],
            declared: &'a [SpeakerId],
        ) -> Result<BTreeSet<&'a SpeakerId>, DataError> {
            let mut set: BTreeSet<&SpeakerId> = declared.iter().collect();
            for &i in idx {
                let u = corpus.items.get(i).ok_or(DataError::IndexOutOfRange {
                    index: i,
                    len: corpus.len(),
                })?;
                set.insert(&u.speaker);
            }
            Ok(set)
        }
        let sides = [
            (
                "train",
                side_speakers(corpus, &self.train, &self.train_speakers)?,
            ),
            (
                "validation",
                side_speakers(corpus, &self.val, &self.val_speakers)?,
            ),
            (
                "test",
                side_speakers(corpus, &self.test, &self.test_speakers)?,
            ),
        ];
        for (a, (name_a, speakers_a)) in sides.iter().enumerate() {
            for (name_b, speakers_b) in &sides[a + 1..] {
                if let Some(s) = speakers_a.intersection(speakers_b).next() {
                    return Err(DataError::SpeakerOverlap {
                        fold: self.fold,
                        speaker: s.to_string(),
                        first: name_a,
                        second: name_b,
                    });
                }
            }
        }
        Ok(())
    }
}
