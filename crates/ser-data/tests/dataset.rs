//! Feature extraction, the on-disk cache (hit, miss, corruption), decode failures,
//! training-only normalisation and augmented copies.

mod common;

use std::fs;
use std::path::Path;

use ser_data::augment::{GainConfig, NoiseConfig, TimeStretchConfig};
use ser_data::{
    AugmentConfig, BuildOptions, Corpus, CorpusOptions, Dataset, NormalizationMode, Normalizer,
    Protocol, SkipReason,
};

fn options(cache: &Path) -> BuildOptions {
    BuildOptions {
        cache_dir: Some(cache.to_path_buf()),
        progress: false,
    }
}

fn only_file(dir: &Path, prefix: &str) -> std::path::PathBuf {
    let files: Vec<_> = fs::read_dir(dir)
        .expect("read cache dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

/// EmoDB layout: 10 speakers x 1 text x 6 usable emotions, plus a RIFF file that does not
/// decode.
fn corpus(dir: &Path) -> Corpus {
    let root = common::emodb(dir, &["a01"]);
    let mut bad = b"RIFF\x24\x00\x00\x00WAVEjunkjunkjunk".to_vec();
    bad.extend_from_slice(&[0u8; 32]);
    fs::write(root.join("wav/16a05Wb.wav"), bad).expect("write bad riff");
    Corpus::load(&root, &CorpusOptions::default()).expect("load")
}

#[test]
fn cache_hit_miss_and_corruption() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache_dir = dir.path().join("cache");
    let corpus = corpus(dir.path());
    assert_eq!(
        corpus.len(),
        61,
        "the undecodable RIFF file is only found when decoding"
    );
    let config = common::small_features();

    // Miss: everything extracted, the broken file moved to `skipped`.
    let first = Dataset::build(corpus.clone(), &config, &options(&cache_dir)).expect("build");
    assert_eq!(first.len(), 60);
    assert_eq!(
        (first.report().n_extracted, first.report().n_from_cache),
        (60, 0)
    );
    assert_eq!(first.report().n_failed, 1);
    assert_eq!(first.report().cache_status, "no cache file");
    assert!(
        first
            .corpus()
            .skipped
            .iter()
            .any(|s| s.path.ends_with("16a05Wb.wav")
                && matches!(s.reason, SkipReason::DecodeFailed { .. }))
    );
    assert_eq!((first.n_rows(), first.n_frames()), (174, 20));
    assert_eq!(first.data().len(), 60 * 174 * 20);
    assert!(first.data().iter().all(|x| x.is_finite()));
    assert!(cache_dir.join("CACHEDIR.TAG").is_file());
    let cache_file = only_file(&cache_dir, "features-");

    // Hit: nothing extracted, identical features.
    let second = Dataset::build(corpus.clone(), &config, &options(&cache_dir)).expect("build");
    assert_eq!(second.report().cache_status, "hit");
    assert_eq!(
        (second.report().n_extracted, second.report().n_from_cache),
        (0, 60)
    );
    assert_eq!(second.data(), first.data());
    assert_eq!(second.corpus(), first.corpus());

    // One changed file: only it is recomputed.
    let changed = &corpus.items[5].path;
    ser_audio::write_wav_i16(changed, &common::tone(999, 0.3), common::SR).expect("rewrite");
    let third = Dataset::build(corpus.clone(), &config, &options(&cache_dir)).expect("build");
    assert_eq!(
        (third.report().n_extracted, third.report().n_from_cache),
        (1, 59)
    );
    assert_ne!(third.features(5).expect("5"), first.features(5).expect("5"));
    assert_eq!(third.features(6).expect("6"), first.features(6).expect("6"));

    // Truncated cache file: detected, rebuilt, and the rebuilt file is trusted again.
    let len = fs::metadata(&cache_file).expect("meta").len();
    let bytes = fs::read(&cache_file).expect("read");
    fs::write(&cache_file, &bytes[..(len / 2) as usize]).expect("truncate");
    let fourth = Dataset::build(corpus.clone(), &config, &options(&cache_dir)).expect("build");
    assert!(
        fourth.report().cache_status.contains("truncated"),
        "{}",
        fourth.report().cache_status
    );
    assert_eq!(fourth.report().n_extracted, 60);
    assert_eq!(fourth.data(), third.data());
    assert_eq!(fs::metadata(&cache_file).expect("meta").len(), len);

    // Flipped byte: checksum mismatch, rebuilt.
    let mut bytes = fs::read(&cache_file).expect("read");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    fs::write(&cache_file, &bytes).expect("corrupt");
    let fifth = Dataset::build(corpus.clone(), &config, &options(&cache_dir)).expect("build");
    assert!(
        fifth.report().cache_status.contains("checksum"),
        "{}",
        fifth.report().cache_status
    );
    assert_eq!(fifth.data(), third.data());

    // Another feature config: another cache file, everything recomputed.
    let other = ser_features::FeatureConfig {
        n_frames: 24,
        ..config.clone()
    };
    let sixth = Dataset::build(corpus.clone(), &other, &options(&cache_dir)).expect("build");
    assert_eq!(sixth.report().n_extracted, 60);
    assert_eq!(sixth.n_frames(), 24);
    let n_files = fs::read_dir(&cache_dir)
        .expect("dir")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().starts_with("features-"))
        })
        .count();
    assert_eq!(n_files, 2);

    // No cache at all.
    let uncached = Dataset::build(
        corpus,
        &config,
        &BuildOptions {
            cache_dir: None,
            progress: false,
        },
    )
    .expect("build");
    assert_eq!(uncached.report().cache_status, "disabled");
    assert_eq!(uncached.data(), third.data());
}

#[test]
fn normalizer_uses_training_side_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = corpus(dir.path());
    let dataset = Dataset::build(
        corpus,
        &common::small_features(),
        &options(&dir.path().join("c")),
    )
    .expect("build");
    let splits = dataset
        .splits(&Protocol::default_for(dataset.corpus().kind))
        .expect("splits");
    let split = &splits[0];
    let norm = Normalizer::fit(NormalizationMode::Global, &dataset, split).expect("fit");
    assert_eq!((norm.mean.len(), norm.std.len()), (174, 174));

    // The statistics equal those of the training matrices alone.
    let frames = dataset.n_frames();
    let mut train = Vec::new();
    for &i in &split.train {
        let mut m = dataset.features(i).expect("features").to_vec();
        norm.apply(&mut m, frames).expect("apply");
        train.push(m);
    }
    for r in [0usize, 80, 173] {
        let vals: Vec<f64> = train
            .iter()
            .flat_map(|m| {
                m[r * frames..(r + 1) * frames]
                    .iter()
                    .map(|&x| f64::from(x))
            })
            .collect();
        let mean = vals.iter().sum::<f64>() / vals.len() as f64;
        let var = vals.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / vals.len() as f64;
        assert!(mean.abs() < 1e-3, "row {r}: mean {mean}");
        assert!(var < 1.0 + 1e-3, "row {r}: var {var}");
    }
    // Only the training side matters: other validation / test sides give the same
    // statistics, another training side gives other statistics.
    let mut no_eval = split.clone();
    no_eval.val.clear();
    no_eval.test.clear();
    assert_eq!(
        Normalizer::fit(NormalizationMode::Global, &dataset, &no_eval).expect("fit"),
        norm
    );
    let mut other_train = split.clone();
    other_train.train.truncate(split.train.len() / 2);
    assert_ne!(
        Normalizer::fit(NormalizationMode::Global, &dataset, &other_train).expect("fit"),
        norm
    );

    let per_utt = Normalizer::fit(NormalizationMode::PerUtterance, &dataset, split).expect("fit");
    assert!(per_utt.mean.is_empty());
    let json = serde_json::to_string(&norm).expect("json");
    assert_eq!(
        serde_json::from_str::<Normalizer>(&json).expect("parse"),
        norm
    );
}

#[test]
fn augmented_copies_come_from_training_side_and_are_cached() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache_dir = dir.path().join("cache");
    let corpus = corpus(dir.path());
    let dataset =
        Dataset::build(corpus, &common::small_features(), &options(&cache_dir)).expect("build");
    let splits = dataset
        .splits(&Protocol::SpeakerKFold {
            k: 5,
            val_speakers: 2,
        })
        .expect("splits");
    let augment = AugmentConfig {
        copies: 2,
        time_stretch: Some(TimeStretchConfig::default()),
        noise: Some(NoiseConfig::default()),
        ..AugmentConfig::default()
    };
    let set = dataset
        .augment_training(&splits[0], &augment, 7, &options(&cache_dir))
        .expect("augment");
    assert_eq!(set.len(), splits[0].train.len() * 2);
    assert!(set.source.iter().all(|&i| splits[0].is_train(i)));
    assert_eq!(set.report.n_extracted, set.len());
    assert_eq!(set.data.len(), set.len() * 174 * 20);
    assert_ne!(
        set.features(0).expect("copy"),
        dataset.features(set.source[0]).expect("orig")
    );

    // Same request again: all from the cache, identical.
    let again = dataset
        .augment_training(&splits[0], &augment, 7, &options(&cache_dir))
        .expect("augment");
    assert_eq!(again.report.n_extracted, 0);
    assert_eq!(again.data, set.data);
    assert_eq!(again.source, set.source);

    // Another fold reuses the copies of the training speakers the folds share.
    let other = dataset
        .augment_training(&splits[1], &augment, 7, &options(&cache_dir))
        .expect("augment");
    let shared = splits[1]
        .train
        .iter()
        .filter(|i| splits[0].is_train(**i))
        .count();
    assert_eq!(other.report.n_from_cache, shared * 2);

    // Another seed: other copies.
    let reseeded = dataset
        .augment_training(&splits[0], &augment, 8, &options(&cache_dir))
        .expect("augment");
    assert_ne!(reseeded.data, set.data);

    // Nothing to do when augmentation is off.
    let none = dataset
        .augment_training(
            &splits[0],
            &AugmentConfig::default(),
            7,
            &options(&cache_dir),
        )
        .expect("augment");
    assert!(none.is_empty());
}

#[test]
fn a_no_op_augmentation_gives_the_plain_features() {
    // Plain and augmented builds share one pipeline (decode, condition, extract, cache): a copy
    // whose only augmentation never fires is the clip itself, from an empty cache and from a
    // full one.
    let dir = tempfile::tempdir().expect("tempdir");
    let cache_dir = dir.path().join("cache");
    let dataset = Dataset::build(
        corpus(dir.path()),
        &common::small_features(),
        &options(&cache_dir),
    )
    .expect("build");
    let splits = dataset
        .splits(&Protocol::SpeakerKFold {
            k: 5,
            val_speakers: 2,
        })
        .expect("splits");
    let augment = AugmentConfig {
        copies: 1,
        gain: Some(GainConfig {
            probability: 0.0,
            ..GainConfig::default()
        }),
        ..AugmentConfig::default()
    };
    for n_extracted in [splits[0].train.len(), 0] {
        let set = dataset
            .augment_training(&splits[0], &augment, 7, &options(&cache_dir))
            .expect("augment");
        assert_eq!(set.report.n_extracted, n_extracted);
        assert_eq!(set.len(), splits[0].train.len());
        for (k, &i) in set.source.iter().enumerate() {
            assert_eq!(
                set.features(k).expect("copy"),
                dataset.features(i).expect("clip"),
                "copy {k} of clip {i}"
            );
        }
    }
    // The same with the cache off.
    let uncached = BuildOptions {
        cache_dir: None,
        progress: false,
    };
    let set = dataset
        .augment_training(&splits[0], &augment, 7, &uncached)
        .expect("augment");
    assert_eq!(set.report.cache_status, "disabled");
    assert_eq!(set.features(0), dataset.features(set.source[0]).ok());
}

#[test]
fn unchanged_corpus_loads_from_cache_and_subsets_reuse_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache_dir = dir.path().join("cache");
    let root = common::tess(dir.path(), &["back", "dog"]);
    let corpus = Corpus::load(&root, &CorpusOptions::default()).expect("load");
    let config = common::small_features();
    let first = Dataset::build(corpus.clone(), &config, &options(&cache_dir)).expect("build");
    assert_eq!(first.report().n_extracted, corpus.len());
    let second = Dataset::build(corpus.clone(), &config, &options(&cache_dir)).expect("build");
    assert_eq!(second.report().cache_status, "hit");
    assert_eq!(second.report().n_from_cache, corpus.len());
    assert_eq!(second.data(), first.data());
    for i in 0..corpus.len() {
        assert_eq!(second.content_hash(i), first.content_hash(i));
        assert_eq!(second.emotion(i).expect("emotion"), corpus.items[i].emotion);
    }
    assert_eq!(
        second.matrix(3).expect("matrix").data,
        first.features(3).expect("f")
    );
    assert!(second.features(corpus.len()).is_err());

    // A subset of the corpus: everything from the cache, nothing extracted.
    let mut subset = corpus.clone();
    subset.items.remove(0);
    let third = Dataset::build(subset, &config, &options(&cache_dir)).expect("build");
    assert_eq!(
        (third.report().n_extracted, third.report().n_from_cache),
        (0, corpus.len() - 1)
    );
    assert_eq!(third.features(0).expect("f"), first.features(1).expect("f"));
}
