//! Reading RAVDESS, EmoDB and TESS layouts: parsing, label mapping and skipped files.

mod common;

use std::collections::BTreeSet;

use ser_data::corpus::{Intensity, VocalChannel};
use ser_data::{
    Corpus, CorpusKind, CorpusOptions, DataError, Emotion, Gender, Protocol, SkipReason, Summary,
    UtteranceMeta,
};

fn reasons(corpus: &Corpus) -> Vec<(String, SkipReason)> {
    corpus
        .skipped
        .iter()
        .map(|s| {
            let name = s
                .path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            (name, s.reason.clone())
        })
        .collect()
}

#[test]
fn ravdess_layout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = common::ravdess(dir.path(), &[1, 5]);
    assert_eq!(
        CorpusKind::detect(&root).expect("detect"),
        CorpusKind::Ravdess
    );
    let corpus = Corpus::load(&root, &CorpusOptions::default()).expect("load");
    assert_eq!(corpus.kind, CorpusKind::Ravdess);
    assert_eq!(corpus.len(), 48);
    assert_eq!(corpus.speakers().len(), 24);
    // Sorted, deterministic order.
    let paths: Vec<_> = corpus.items.iter().map(|u| u.path.clone()).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    let first = &corpus.items[0];
    assert_eq!(first.speaker.as_str(), "ravdess:01");
    assert_eq!(first.gender, Gender::Male);
    assert_eq!(first.emotion, Emotion::Neutral);
    let UtteranceMeta::Ravdess(id) = &first.meta else {
        panic!("not a RAVDESS id: {:?}", first.meta);
    };
    assert_eq!((id.actor, id.intensity), (1, Intensity::Normal));
    assert_eq!(corpus.items[2].gender, Gender::Female);
    let emotions: BTreeSet<Emotion> = corpus.items.iter().map(|u| u.emotion).collect();
    assert_eq!(emotions, BTreeSet::from([Emotion::Neutral, Emotion::Angry]));

    let skipped = reasons(&corpus);
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert!(
        skipped
            .iter()
            .any(|(n, r)| n == "03-02-03-01-01-01-01.wav" && *r == SkipReason::Song)
    );
    assert!(skipped.iter().any(|(n, r)| n == "03-01-09-01-01-01-01.wav"
        && matches!(r, SkipReason::BadName { message } if message.contains("emotion"))));
    assert!(skipped.iter().any(|(n, r)| n == "03-01-03-02-01-01-02.wav"
        && matches!(r, SkipReason::NotWav { .. })));

    // Song files on request.
    let with_song = Corpus::load(
        &root,
        &CorpusOptions {
            include_song: true,
            ..CorpusOptions::default()
        },
    )
    .expect("load");
    assert_eq!(with_song.len(), 49);
    assert!(with_song.items.iter().any(|u| matches!(
        &u.meta,
        UtteranceMeta::Ravdess(id) if id.vocal_channel == VocalChannel::Song
    )));

    let summary = Summary::new(&corpus, Some(&Protocol::default())).expect("summary");
    let text = summary.to_string();
    assert!(
        text.contains("48 usable files, 24 speakers (12 male, 12 female), 3 skipped"),
        "{text}"
    );
    assert!(text.contains("song file (vocal channel 02)"), "{text}");
    assert!(text.contains("03-01-09-01-01-01-01.wav"), "{text}");
    assert_eq!(summary.folds.len(), 6);
    assert!(
        summary
            .folds
            .iter()
            .all(|f| f.n_test == 8 && f.n_val == 4 && f.n_train == 36)
    );
}

#[test]
fn duplicate_copies_are_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("r");
    common::write_wav(&root.join("Actor_01/03-01-01-01-01-01-01.wav"), 1);
    common::write_wav(&root.join("speech/Actor_01/03-01-01-01-01-01-01.wav"), 1);
    common::write_wav(&root.join("speech/Actor_01/03-01-02-01-01-01-01.wav"), 2);
    let corpus = Corpus::load(&root, &CorpusOptions::default()).expect("load");
    assert_eq!(corpus.len(), 2);
    assert!(matches!(
        &corpus.skipped[..],
        [s] if s.path.starts_with(root.join("speech"))
            && matches!(&s.reason, SkipReason::Duplicate { first } if first.starts_with(root.join("Actor_01")))
    ));
}

#[test]
fn ravdess_actor_folder_must_agree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("r");
    common::write_wav(&root.join("Actor_01/03-01-01-01-01-01-01.wav"), 1);
    common::write_wav(&root.join("Actor_01/03-01-01-01-01-01-02.wav"), 2);
    let corpus = Corpus::load(&root, &CorpusOptions::default()).expect("load");
    assert_eq!(corpus.len(), 1);
    assert!(matches!(
        &corpus.skipped[0].reason,
        SkipReason::FolderConflict { field, .. } if field == "actor"
    ));
}

#[test]
fn emodb_layout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = common::emodb(dir.path(), &["a01", "b02"]);
    let corpus = Corpus::load(&root, &CorpusOptions::default()).expect("load");
    assert_eq!(corpus.kind, CorpusKind::EmoDb);
    assert!(corpus.root.ends_with("wav"));
    // 10 speakers x 2 texts x 6 mapped emotions.
    assert_eq!(corpus.len(), 120);
    let speakers = corpus.speakers();
    assert_eq!(speakers.len(), 10);
    assert_eq!(
        speakers.iter().filter(|(_, g)| *g == Gender::Male).count(),
        5
    );
    assert!(speakers.contains(&(
        ser_data::SpeakerId::new(CorpusKind::EmoDb, "08"),
        Gender::Female
    )));
    let emotions: BTreeSet<Emotion> = corpus.items.iter().map(|u| u.emotion).collect();
    assert_eq!(
        emotions,
        BTreeSet::from([
            Emotion::Neutral,
            Emotion::Happy,
            Emotion::Sad,
            Emotion::Angry,
            Emotion::Fearful,
            Emotion::Disgust
        ])
    );
    let w = corpus
        .items
        .iter()
        .find(|u| u.path.ends_with("03a01Wa.wav"))
        .expect("anger file");
    assert_eq!(w.emotion, Emotion::Angry);

    let skipped = reasons(&corpus);
    let boredom = skipped
        .iter()
        .filter(|(_, r)| matches!(r, SkipReason::NoMatchingEmotion { label } if label == "boredom"))
        .count();
    assert_eq!(boredom, 20, "boredom files are counted, not mislabelled");
    assert!(
        skipped
            .iter()
            .any(|(n, r)| n == "01a01Fa.wav" && matches!(r, SkipReason::BadName { .. }))
    );
    assert!(
        skipped
            .iter()
            .any(|(n, r)| n == "03b09Nc.wav" && matches!(r, SkipReason::NotWav { .. }))
    );
    assert!(
        !skipped.iter().any(|(n, _)| n == "whatever.wav"),
        "outside wav/"
    );
    assert_eq!(skipped.len(), 22);

    let summary = Summary::new(&corpus, None).expect("summary").to_string();
    assert!(
        summary.contains("20  label with no matching emotion"),
        "{summary}"
    );
}

#[test]
fn tess_layout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = common::tess(dir.path(), &["back", "dog"]);
    let corpus = Corpus::load(&root, &CorpusOptions::default()).expect("load");
    assert_eq!(corpus.kind, CorpusKind::Tess);
    // 2 speakers x 7 emotions x 2 words, + OA_bite.
    assert_eq!(corpus.len(), 29);
    let speakers = corpus.speakers();
    assert_eq!(
        speakers.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>(),
        ["tess:OAF", "tess:YAF"]
    );
    assert!(speakers.iter().all(|(_, g)| *g == Gender::Female));
    let surprised = corpus
        .items
        .iter()
        .filter(|u| u.emotion == Emotion::Surprised)
        .count();
    assert_eq!(
        surprised, 4,
        "both pleasant-surprise spellings map to surprised"
    );
    let oa = corpus
        .items
        .iter()
        .find(|u| u.path.ends_with("OA_bite_neutral.wav"))
        .expect("OA_ file");
    assert_eq!(oa.speaker.as_str(), "tess:OAF");
    assert_eq!(
        corpus
            .items
            .iter()
            .filter(|u| u.emotion == Emotion::Fearful)
            .count(),
        4,
        "OAF_Fear folder"
    );
    let skipped = reasons(&corpus);
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(
        skipped
            .iter()
            .any(|(n, r)| n == "OAF_back.wav" && matches!(r, SkipReason::BadName { .. }))
    );
    assert!(
        skipped
            .iter()
            .any(|(n, r)| n == "YAF_fake_sad.wav" && matches!(r, SkipReason::NotWav { .. }))
    );
}

#[test]
fn tess_folder_and_name_must_agree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("t");
    common::write_wav(&root.join("OAF_Fear/OAF_back_fear.wav"), 1);
    common::write_wav(&root.join("OAF_Fear/OAF_back_sad.wav"), 2);
    let corpus = Corpus::load(&root, &CorpusOptions::default()).expect("load");
    assert_eq!(corpus.len(), 1);
    assert!(matches!(
        &corpus.skipped[0].reason,
        SkipReason::FolderConflict { field, .. } if field == "emotion"
    ));
}

#[test]
fn folders_without_usable_files_say_what_was_expected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("empty");
    std::fs::create_dir_all(&root).expect("mkdir");
    std::fs::write(root.join("notes.wav"), "x").expect("write");
    let err = Corpus::load(&root, &CorpusOptions::default()).expect_err("no corpus");
    let msg = err.to_string();
    assert!(
        matches!(err, DataError::NoUsableFiles { n_wav_files: 1, .. }),
        "{msg}"
    );
    assert!(
        msg.contains("03-01-05-02-01-01-12.wav")
            && msg.contains("03a01Fa.wav")
            && msg.contains("OAF_"),
        "{msg}"
    );

    // Explicit kind, only unusable files (boredom).
    common::write_wav(&root.join("03a01La.wav"), 1);
    let err = Corpus::load(
        &root,
        &CorpusOptions {
            kind: Some(CorpusKind::EmoDb),
            ..CorpusOptions::default()
        },
    )
    .expect_err("only boredom");
    assert!(
        matches!(err, DataError::NoUsableFiles { n_skipped: 2, .. }),
        "{err}"
    );

    let err = Corpus::load(&root.join("missing"), &CorpusOptions::default()).expect_err("missing");
    assert!(matches!(err, DataError::NotADirectory { .. }));
}

#[test]
fn explicit_kind_overrides_detection() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = common::tess(dir.path(), &["back"]);
    let as_ravdess = Corpus::load(
        &root,
        &CorpusOptions {
            kind: Some(CorpusKind::Ravdess),
            ..CorpusOptions::default()
        },
    );
    assert!(matches!(as_ravdess, Err(DataError::NoUsableFiles { .. })));
}

/// `sub/up -> ..` and `self -> .` made an exponential walk (2^32 paths under the depth bound);
/// each folder is now listed once, by its canonical path, and no file twice.
#[cfg(unix)]
#[test]
fn symlink_loops_neither_hang_the_scan_nor_list_a_file_twice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = common::ravdess(dir.path(), &[1, 5]);
    let actor = root.join("Actor_01");
    std::fs::create_dir_all(actor.join("sub")).expect("mkdir");
    std::os::unix::fs::symlink("..", actor.join("sub").join("up")).expect("symlink");
    std::os::unix::fs::symlink(".", root.join("self")).expect("symlink");
    std::os::unix::fs::symlink(".", actor.join("self")).expect("symlink");
    let plain = Corpus::load(
        &common::ravdess(&dir.path().join("plain"), &[1, 5]),
        &CorpusOptions::default(),
    )
    .expect("load the same corpus without links");
    let (tx, rx) = std::sync::mpsc::channel();
    let scan_root = root.clone();
    std::thread::spawn(move || {
        let _ = tx.send(Corpus::load(&scan_root, &CorpusOptions::default()));
    });
    let corpus = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the scan ends within 60 s")
        .expect("load");
    assert_eq!(corpus.len(), plain.len());
    assert_eq!(corpus.skipped.len(), plain.skipped.len());
    let unique: BTreeSet<_> = corpus.items.iter().map(|u| u.path.clone()).collect();
    assert_eq!(unique.len(), corpus.len(), "a file was listed twice");
}

/// A FIFO named like a WAV file is not listed: opening it would block for ever.
#[cfg(unix)]
#[test]
fn fifos_named_wav_are_not_listed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = common::ravdess(dir.path(), &[1]);
    let fifo = root.join("Actor_01").join("03-01-01-01-01-02-01.wav");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    let files = ser_data::corpus::scan_wav_files(&root).expect("scan");
    assert!(!files.contains(&fifo), "{files:?}");
    assert!(!files.is_empty());
}

#[test]
fn corpora_stored_as_flac_or_aiff_are_read() {
    // Copies of corpora are often re-encoded (the shared TESS is FLAC); the name is parsed
    // without its extension, and decoding recognises the content, not the name.
    let dir = tempfile::tempdir().expect("tempdir");
    let root = common::tess(dir.path(), &["back", "dog"]);
    let wav = root.join("OAF_angry/OAF_dog_angry.wav");
    std::fs::rename(&wav, wav.with_extension("flac")).expect("rename");
    let aiff = root.join("YAF_happy/YAF_dog_happy.wav");
    std::fs::rename(&aiff, aiff.with_extension("AIFF")).expect("rename");
    let corpus = Corpus::load(&root, &CorpusOptions::default()).expect("load");
    assert_eq!(corpus.kind, CorpusKind::Tess);
    assert_eq!(corpus.len(), 29);
    for ext in ["flac", "AIFF"] {
        assert!(
            corpus
                .items
                .iter()
                .any(|u| u.path.extension().is_some_and(|e| e == ext)),
            "{ext}"
        );
    }
}
