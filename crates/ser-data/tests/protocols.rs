//! Every protocol keeps speakers apart; only the explicitly leaky one mixes them.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use ser_data::{
    Corpus, CorpusKind, CorpusOptions, DataError, Emotion, Gender, LEAK_WARNING, Protocol,
    SpeakerId, Split,
};

/// Checks disjointness on the items themselves and that indices are sorted and unique.
fn assert_speaker_independent(corpus: &Corpus, splits: &[Split]) {
    for s in splits {
        s.check_disjoint(corpus).expect("disjoint");
        let side = |idx: &[usize]| -> BTreeSet<SpeakerId> {
            idx.iter()
                .map(|&i| corpus.items[i].speaker.clone())
                .collect()
        };
        let (tr, va, te) = (side(&s.train), side(&s.val), side(&s.test));
        assert!(
            tr.is_disjoint(&va) && tr.is_disjoint(&te) && va.is_disjoint(&te),
            "fold {}",
            s.fold
        );
        for idx in [&s.train, &s.val, &s.test] {
            assert!(idx.windows(2).all(|w| w[0] < w[1]), "sorted, unique");
        }
        assert!(tr.iter().all(|x| s.train_speakers.contains(x)));
        assert!(te.iter().all(|x| s.test_speakers.contains(x)));
        assert!(va.iter().all(|x| s.val_speakers.contains(x)));
    }
}

fn actors(speakers: &[SpeakerId]) -> Vec<u8> {
    speakers
        .iter()
        .map(|s| {
            s.as_str()
                .trim_start_matches("ravdess:")
                .parse()
                .expect("actor")
        })
        .collect()
}

fn ravdess_corpus(dir: &std::path::Path, emotions: &[u8]) -> Corpus {
    let root = common::ravdess(dir, emotions);
    Corpus::load(&root, &CorpusOptions::default()).expect("load")
}

#[test]
fn ravdess_leave_four_actors_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = ravdess_corpus(dir.path(), &[1, 3]);
    let protocol = Protocol::default_for(CorpusKind::Ravdess);
    assert_eq!(protocol, Protocol::RavdessLeaveFourActorsOut);
    assert_eq!(protocol, Protocol::default());
    assert_eq!(protocol.leak_warning(), None);
    let splits = protocol.splits(&corpus).expect("splits");
    assert_eq!(splits.len(), 6);
    assert_speaker_independent(&corpus, &splits);
    let mut tested = Vec::new();
    for (f, s) in splits.iter().enumerate() {
        let f8 = f as u8;
        assert_eq!(s.fold, f);
        assert_eq!(
            actors(&s.test_speakers),
            (4 * f8 + 1..=4 * f8 + 4).collect::<Vec<_>>()
        );
        let next = (f8 + 1) % 6;
        assert_eq!(
            actors(&s.val_speakers),
            [4 * next + 1, 4 * next + 2],
            "fold {f}"
        );
        assert_eq!(s.train_speakers.len(), 18);
        assert_eq!((s.test.len(), s.val.len(), s.train.len()), (8, 4, 36));
        let genders = |ids: &[usize]| -> BTreeMap<Gender, usize> {
            let set: BTreeSet<(&SpeakerId, Gender)> = ids
                .iter()
                .map(|&i| (&corpus.items[i].speaker, corpus.items[i].gender))
                .collect();
            let mut m = BTreeMap::new();
            for (_, g) in set {
                *m.entry(g).or_default() += 1;
            }
            m
        };
        assert_eq!(
            genders(&s.test),
            BTreeMap::from([(Gender::Male, 2), (Gender::Female, 2)])
        );
        assert_eq!(
            genders(&s.val),
            BTreeMap::from([(Gender::Male, 1), (Gender::Female, 1)])
        );
        tested.extend(s.test.iter().copied());
    }
    tested.sort_unstable();
    assert_eq!(
        tested,
        (0..corpus.len()).collect::<Vec<_>>(),
        "every clip tested once"
    );
}

#[test]
fn ravdess_emobox_folds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = ravdess_corpus(dir.path(), &[1, 3]);
    let protocol: Protocol = "emobox".parse().expect("parse");
    assert_eq!(protocol, Protocol::RavdessEmobox);
    let splits = protocol.splits(&corpus).expect("splits");
    assert_eq!(splits.len(), 6);
    assert_speaker_independent(&corpus, &splits);
    let sorted = |speakers: &[SpeakerId]| {
        let mut a = actors(speakers);
        a.sort_unstable();
        a
    };
    // EmoBox's published test actors, fold by fold.
    let expected: [[u8; 4]; 6] = [
        [1, 11, 20, 21],
        [4, 10, 12, 14],
        [8, 9, 19, 23],
        [3, 5, 7, 24],
        [2, 15, 16, 18],
        [6, 13, 17, 22],
    ];
    let mut tested = Vec::new();
    for (s, want) in splits.iter().zip(expected) {
        assert_eq!(sorted(&s.test_speakers), want, "fold {}", s.fold);
        assert_eq!(s.val_speakers.len(), 2, "fold {}", s.fold);
        assert_eq!(s.train_speakers.len(), 18, "fold {}", s.fold);
        // 1 clip per (actor, emotion) in the generated corpus: 4 test actors, 2 emotions.
        assert_eq!(s.test.len(), 8, "fold {}", s.fold);
        tested.extend(s.test.iter().copied());
    }
    // Fold 1 validates on EmoBox fold 2's first two actresses (it holds no actor).
    assert_eq!(sorted(&splits[0].val_speakers), [4, 10]);
    tested.sort_unstable();
    assert_eq!(tested, (0..corpus.len()).collect::<Vec<_>>());
    // Without every RAVDESS actor the protocol refuses to run.
    let other = tempfile::tempdir().expect("tempdir");
    let tess = common::tess(other.path(), &["back"]);
    let tess = Corpus::load(&tess, &CorpusOptions::default()).expect("tess");
    assert!(matches!(
        Protocol::RavdessEmobox.splits(&tess),
        Err(DataError::ProtocolNeedsCorpus { .. })
    ));
}

#[test]
fn ravdess_original_split() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = ravdess_corpus(dir.path(), &[1]);
    let splits = Protocol::RavdessOriginalSplit
        .splits(&corpus)
        .expect("split");
    assert_eq!(splits.len(), 1);
    assert_speaker_independent(&corpus, &splits);
    let s = &splits[0];
    assert_eq!(actors(&s.train_speakers), (1..=16).collect::<Vec<_>>());
    assert_eq!(actors(&s.val_speakers), [17, 18]);
    assert_eq!(actors(&s.test_speakers), (19..=24).collect::<Vec<_>>());
}

#[test]
fn all_speakers_trains_on_everyone_but_the_validation_speakers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = ravdess_corpus(dir.path(), &[1]);
    let protocol = Protocol::AllSpeakers { val_speakers: 2 };
    let splits = protocol.splits(&corpus).expect("split");
    assert_eq!(splits.len(), 1);
    assert_speaker_independent(&corpus, &splits);
    let s = &splits[0];
    // The first male and the first female actor validate; nobody is tested.
    assert_eq!(actors(&s.val_speakers), [1, 2]);
    assert_eq!(actors(&s.train_speakers), (3..=24).collect::<Vec<_>>());
    assert!(s.test.is_empty() && s.test_speakers.is_empty());
    assert_eq!(s.train.len() + s.val.len(), corpus.len());
    assert_eq!(protocol.leak_warning(), None);
    let too_many = Protocol::AllSpeakers { val_speakers: 24 };
    assert!(too_many.splits(&corpus).is_err());
}

#[test]
fn ravdess_protocols_refuse_other_or_partial_corpora() {
    let partial = common::synthetic(&[(1, Gender::Male, 3), (2, Gender::Female, 3)]);
    assert!(matches!(
        Protocol::RavdessLeaveFourActorsOut.splits(&partial),
        Err(DataError::ProtocolNeedsCorpus { .. })
    ));
    let dir = tempfile::tempdir().expect("tempdir");
    let mut corpus = ravdess_corpus(dir.path(), &[1]);
    corpus.items.retain(|u| u.speaker.as_str() != "ravdess:07");
    match Protocol::RavdessOriginalSplit.splits(&corpus) {
        Err(DataError::MissingSpeakers { missing, .. }) => assert_eq!(missing, ["ravdess:07"]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn emodb_default_folds_are_gender_balanced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = common::emodb(dir.path(), &["a01"]);
    let corpus = Corpus::load(&root, &CorpusOptions::default()).expect("load");
    let protocol = Protocol::default_for(CorpusKind::EmoDb);
    let splits = protocol.splits(&corpus).expect("splits");
    assert_eq!(splits.len(), 5);
    assert_speaker_independent(&corpus, &splits);
    let gender_of: BTreeMap<SpeakerId, Gender> = corpus.speakers().into_iter().collect();
    let mut tested = BTreeSet::new();
    for s in &splits {
        let g: Vec<Gender> = s.test_speakers.iter().map(|x| gender_of[x]).collect();
        assert_eq!(
            g.iter().filter(|g| **g == Gender::Male).count(),
            1,
            "{:?}",
            s.test_speakers
        );
        assert_eq!(s.test_speakers.len(), 2);
        let v: Vec<Gender> = s.val_speakers.iter().map(|x| gender_of[x]).collect();
        assert_eq!(v.len(), 2);
        assert!(v.contains(&Gender::Male) && v.contains(&Gender::Female));
        assert_eq!(s.train_speakers.len(), 6);
        for t in &s.test_speakers {
            assert!(tested.insert(t.clone()), "{t} tested twice");
        }
    }
    assert_eq!(tested.len(), 10);
}

#[test]
fn tess_default_two_folds_without_validation_speakers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = common::tess(dir.path(), &["back"]);
    let corpus = Corpus::load(&root, &CorpusOptions::default()).expect("load");
    let splits = Protocol::default_for(CorpusKind::Tess)
        .splits(&corpus)
        .expect("splits");
    assert_eq!(splits.len(), 2);
    assert_speaker_independent(&corpus, &splits);
    for s in &splits {
        assert!(s.val.is_empty() && s.val_speakers.is_empty());
        assert_eq!((s.train_speakers.len(), s.test_speakers.len()), (1, 1));
    }
    // Asking for a validation speaker with two speakers is refused, not silently leaky.
    let err = Protocol::SpeakerKFold {
        k: 2,
        val_speakers: 1,
    }
    .splits(&corpus)
    .expect_err("too few");
    assert!(matches!(err, DataError::TooFewSpeakers { .. }), "{err}");
}

#[test]
fn cross_corpus_uses_shared_emotions_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ravdess = ravdess_corpus(dir.path(), &[1, 2, 5]); // neutral, calm, angry
    let tess = Corpus::load(
        &common::tess(dir.path(), &["back"]),
        &CorpusOptions::default(),
    )
    .expect("tess");
    let combined = Corpus::combine(vec![ravdess, tess]).expect("combine");
    assert_eq!(combined.kind, CorpusKind::Mixed);
    let protocol = Protocol::CrossCorpus {
        train: CorpusKind::Ravdess,
        test: CorpusKind::Tess,
        val_speakers: 2,
    };
    let splits = protocol.splits(&combined).expect("split");
    assert_speaker_independent(&combined, &splits);
    let s = &splits[0];
    assert_eq!(s.emotions, [Emotion::Neutral, Emotion::Angry]);
    assert_eq!(s.label_map().expect("map").len(), 2);
    for &i in s.train.iter().chain(&s.val).chain(&s.test) {
        assert!(s.emotions.contains(&combined.items[i].emotion));
    }
    assert!(
        s.train
            .iter()
            .chain(&s.val)
            .all(|&i| combined.items[i].corpus == CorpusKind::Ravdess)
    );
    assert!(
        s.test
            .iter()
            .all(|&i| combined.items[i].corpus == CorpusKind::Tess)
    );
    assert_eq!(actors(&s.val_speakers), [1, 2]);
    assert_eq!(s.train_speakers.len(), 22);
    assert_eq!(
        s.test.len(),
        2 * 2 + 1,
        "neutral and angry of both TESS speakers + OA_bite"
    );

    let missing = Protocol::CrossCorpus {
        train: CorpusKind::Ravdess,
        test: CorpusKind::EmoDb,
        val_speakers: 0,
    };
    assert!(matches!(
        missing.splits(&combined),
        Err(DataError::MissingCorpus {
            kind: CorpusKind::EmoDb
        })
    ));
}

fn ravdess_and_tess(dir: &std::path::Path) -> Corpus {
    let ravdess = ravdess_corpus(dir, &[1, 2, 5]); // neutral, calm, angry
    let tess =
        Corpus::load(&common::tess(dir, &["back"]), &CorpusOptions::default()).expect("tess");
    Corpus::combine(vec![ravdess, tess]).expect("combine")
}

#[test]
fn leave_one_corpus_out_tests_each_corpus_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let combined = ravdess_and_tess(dir.path());
    assert_eq!(
        combined.corpus_kinds(),
        [CorpusKind::Ravdess, CorpusKind::Tess]
    );
    let protocol = Protocol::LeaveOneCorpusOut { val_speakers: 2 };
    let splits = protocol.splits(&combined).expect("splits");
    assert_speaker_independent(&combined, &splits);
    assert_eq!(splits.len(), 2);
    for (s, test) in splits.iter().zip([CorpusKind::Ravdess, CorpusKind::Tess]) {
        assert!(s.test.iter().all(|&i| combined.items[i].corpus == test));
        assert!(
            s.train
                .iter()
                .chain(&s.val)
                .all(|&i| combined.items[i].corpus != test)
        );
        // Calm is RAVDESS's alone: never in a split that crosses to or from TESS.
        assert_eq!(s.emotions, [Emotion::Neutral, Emotion::Angry]);
    }
    // Testing RAVDESS: TESS's two speakers train, none left for validation.
    assert!(splits[0].val_speakers.is_empty());
    assert_eq!(splits[0].train_speakers.len(), 2);
    // Testing TESS: two RAVDESS actors validate, 22 train.
    assert_eq!(actors(&splits[1].val_speakers), [1, 2]);
    assert_eq!(splits[1].train_speakers.len(), 22);

    let single = ravdess_corpus(dir.path(), &[1]);
    assert!(matches!(
        protocol.splits(&single),
        Err(DataError::InvalidProtocol { .. })
    ));
}

#[test]
fn ravdess_folds_on_a_combined_corpus_train_on_the_others_always() {
    let dir = tempfile::tempdir().expect("tempdir");
    let combined = ravdess_and_tess(dir.path());
    let alone = ravdess_corpus(&dir.path().join("alone"), &[1, 2, 5]);
    let mixed = Protocol::RavdessLeaveFourActorsOut
        .splits(&combined)
        .expect("mixed");
    let plain = Protocol::RavdessLeaveFourActorsOut
        .splits(&alone)
        .expect("plain");
    assert_speaker_independent(&combined, &mixed);
    assert_eq!(mixed.len(), 6);
    for (m, p) in mixed.iter().zip(&plain) {
        assert_eq!(
            m.test_speakers, p.test_speakers,
            "the same RAVDESS test folds"
        );
        assert_eq!(m.val_speakers, p.val_speakers);
        assert_eq!(m.train_speakers.len(), p.train_speakers.len() + 2);
        assert!(
            m.test
                .iter()
                .chain(&m.val)
                .all(|&i| combined.items[i].corpus == CorpusKind::Ravdess)
        );
        assert!(
            combined
                .items
                .iter()
                .enumerate()
                .filter(|(_, u)| u.corpus == CorpusKind::Tess)
                .all(|(i, _)| m.is_train(i)),
            "every TESS clip trains"
        );
        // The union of both corpora's emotions (TESS brings five RAVDESS lacks here).
        assert_eq!(m.emotions, combined.emotions());
        assert_eq!(m.emotions.len(), 8);
    }
    let original = Protocol::RavdessOriginalSplit
        .splits(&combined)
        .expect("original");
    assert_eq!(original[0].train_speakers.len(), 16 + 2);
}

#[test]
fn speaker_kfold_over_corpora_is_stratified_by_corpus() {
    let dir = tempfile::tempdir().expect("tempdir");
    let combined = ravdess_and_tess(dir.path());
    let splits = Protocol::SpeakerKFold {
        k: 5,
        val_speakers: 2,
    }
    .splits(&combined)
    .expect("splits");
    assert_speaker_independent(&combined, &splits);
    let per_fold: Vec<(usize, usize)> = splits
        .iter()
        .map(|s| {
            let n = |kind: CorpusKind| {
                s.test_speakers
                    .iter()
                    .filter(|x| x.as_str().starts_with(kind.name()))
                    .count()
            };
            (n(CorpusKind::Ravdess), n(CorpusKind::Tess))
        })
        .collect();
    // 24 actors dealt 5, 5, 5, 5, 4; TESS's two speakers continue the deal: folds 5 and 1.
    assert_eq!(per_fold, [(5, 1), (5, 0), (5, 0), (5, 0), (4, 1)]);
}

#[test]
fn protocol_names_parse_back() {
    for p in [
        Protocol::RavdessLeaveFourActorsOut,
        Protocol::RavdessOriginalSplit,
        Protocol::RavdessEmobox,
        Protocol::SpeakerKFold {
            k: 7,
            val_speakers: 2,
        },
        Protocol::CrossCorpus {
            train: CorpusKind::Ravdess,
            test: CorpusKind::Tess,
            val_speakers: 2,
        },
        Protocol::LeaveOneCorpusOut { val_speakers: 2 },
        Protocol::AllSpeakers { val_speakers: 2 },
        Protocol::RandomClipsLeaksSpeakers {
            seed: 42,
            test_percent: 15,
            val_percent: 15,
        },
    ] {
        assert_eq!(
            p.name().parse::<Protocol>().expect("parse"),
            p,
            "{}",
            p.name()
        );
    }
    for (short, long) in [
        ("ravdess-6fold", "ravdess-leave-4-actors-out"),
        ("original-split", "ravdess-original-split"),
        ("emobox", "ravdess-emobox"),
        ("kfold:5", "speaker-5-fold"),
        ("loco", "leave-one-corpus-out"),
    ] {
        assert_eq!(
            short.parse::<Protocol>().expect("short"),
            long.parse::<Protocol>().expect("long")
        );
    }
    for bad in [
        "",
        "kfold:x",
        "speaker-fold",
        "cross-corpus-ravdess",
        "nope",
    ] {
        let err = bad.parse::<Protocol>().expect_err(bad);
        assert!(
            err.to_string().contains("protocol") || err.to_string().contains("corpus"),
            "{err}"
        );
    }
}

#[test]
fn only_the_random_clip_split_leaks_and_it_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = ravdess_corpus(dir.path(), &[1, 3, 5, 7]);
    let leaky = Protocol::RandomClipsLeaksSpeakers {
        seed: 7,
        test_percent: 20,
        val_percent: 10,
    };
    assert_eq!(leaky.leak_warning(), Some(LEAK_WARNING));
    assert!(leaky.name().contains("LEAKS-SPEAKERS"));
    let splits = leaky.splits(&corpus).expect("split");
    let s = &splits[0];
    let mut all: Vec<usize> = s
        .train
        .iter()
        .chain(&s.val)
        .chain(&s.test)
        .copied()
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..corpus.len()).collect::<Vec<_>>());
    assert_eq!(s.test.len(), 20);
    assert!(matches!(
        s.check_disjoint(&corpus),
        Err(DataError::SpeakerOverlap { .. })
    ));
    assert_eq!(
        leaky.splits(&corpus).expect("again"),
        splits,
        "deterministic"
    );
    let summary = ser_data::Summary::new(&corpus, Some(&leaky)).expect("summary");
    assert!(summary.to_string().starts_with("WARNING"));

    for p in [
        Protocol::RavdessLeaveFourActorsOut,
        Protocol::RavdessOriginalSplit,
        Protocol::SpeakerKFold {
            k: 3,
            val_speakers: 1,
        },
        Protocol::CrossCorpus {
            train: CorpusKind::Ravdess,
            test: CorpusKind::Tess,
            val_speakers: 1,
        },
    ] {
        assert_eq!(p.leak_warning(), None, "{p}");
    }
}

#[test]
fn protocols_serialise() {
    for p in [
        Protocol::RavdessLeaveFourActorsOut,
        Protocol::RavdessOriginalSplit,
        Protocol::SpeakerKFold {
            k: 5,
            val_speakers: 2,
        },
        Protocol::CrossCorpus {
            train: CorpusKind::EmoDb,
            test: CorpusKind::Ravdess,
            val_speakers: 2,
        },
        Protocol::RandomClipsLeaksSpeakers {
            seed: 1,
            test_percent: 20,
            val_percent: 0,
        },
        Protocol::AllSpeakers { val_speakers: 2 },
        Protocol::LeaveOneCorpusOut { val_speakers: 2 },
    ] {
        let json = serde_json::to_string(&p).expect("json");
        assert_eq!(
            serde_json::from_str::<Protocol>(&json).expect("parse"),
            p,
            "{json}"
        );
    }
    let json = serde_json::to_string(&Protocol::default()).expect("json");
    assert_eq!(json, r#"{"kind":"ravdess_leave_four_actors_out"}"#);
    assert!(
        serde_json::from_str::<Protocol>(
            r#"{"kind":"speaker_k_fold","k":5,"val_speakers":2,"x":1}"#
        )
        .is_err()
    );
}

fn speakers_strategy() -> impl Strategy<Value = Vec<(u8, Gender, usize)>> {
    prop::collection::btree_map(1u8..200, (any::<bool>(), 1usize..6), 2..30).prop_map(|m| {
        m.into_iter()
            .map(|(s, (male, n))| (s, if male { Gender::Male } else { Gender::Female }, n))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn speaker_kfold_never_shares_speakers(
        speakers in speakers_strategy(),
        k in 2usize..9,
        val in 0usize..4,
    ) {
        let corpus = common::synthetic(&speakers);
        let n = speakers.len();
        match (Protocol::SpeakerKFold { k, val_speakers: val }).splits(&corpus) {
            Ok(splits) => {
                prop_assert_eq!(splits.len(), k);
                assert_speaker_independent(&corpus, &splits);
                let mut tested = Vec::new();
                for s in &splits {
                    prop_assert_eq!(s.val_speakers.len(), val);
                    prop_assert_eq!(
                        s.train_speakers.len() + s.val_speakers.len() + s.test_speakers.len(),
                        n
                    );
                    prop_assert_eq!(s.train.len() + s.val.len() + s.test.len(), corpus.len());
                    tested.extend(s.test_speakers.iter().cloned());
                    // Fold sizes differ by at most one speaker.
                    prop_assert!(s.test_speakers.len() <= n.div_ceil(k));
                }
                tested.sort();
                let all: Vec<SpeakerId> = corpus.speakers().into_iter().map(|(s, _)| s).collect();
                prop_assert_eq!(tested, all);
            }
            Err(DataError::TooFewSpeakers { .. }) => {
                prop_assert!(n < k || n < n.div_ceil(k) + val + 1);
            }
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }

    #[test]
    fn cross_corpus_never_shares_speakers(
        a in speakers_strategy(),
        b in speakers_strategy(),
        val in 0usize..3,
    ) {
        let ca = common::synthetic(&a);
        let mut cb = common::synthetic(&b);
        for u in &mut cb.items {
            u.corpus = CorpusKind::Tess;
            u.speaker = SpeakerId::new(CorpusKind::Tess, u.speaker.as_str());
        }
        cb.kind = CorpusKind::Tess;
        let combined = Corpus::combine(vec![ca, cb]).expect("combine");
        let p = Protocol::CrossCorpus { train: CorpusKind::EmoDb, test: CorpusKind::Tess, val_speakers: val };
        match p.splits(&combined) {
            Ok(splits) => assert_speaker_independent(&combined, &splits),
            Err(DataError::TooFewSpeakers { .. } | DataError::NoSharedEmotions { .. }) => {}
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }

    #[test]
    fn random_clip_split_partitions_clips(
        speakers in speakers_strategy(),
        seed in any::<u64>(),
        test_percent in 1u8..60,
        val_percent in 0u8..30,
    ) {
        let corpus = common::synthetic(&speakers);
        let p = Protocol::RandomClipsLeaksSpeakers { seed, test_percent, val_percent };
        if let Ok(splits) = p.splits(&corpus) {
            let s = &splits[0];
            let mut all: Vec<usize> = s.train.iter().chain(&s.val).chain(&s.test).copied().collect();
            all.sort_unstable();
            prop_assert_eq!(all, (0..corpus.len()).collect::<Vec<_>>());
        }
    }
}
