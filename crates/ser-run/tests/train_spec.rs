//! The seams of the run library without any binary: a fold trained from a typed spec (and from
//! the same spec read back from JSON), the evaluation that reuses the training's dataset, and
//! the model it wrote predicting audio.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use ser_run::eval::{EvalOptions, evaluate};
use ser_run::train::{TrainOptions, TrainSpec, train};
use ser_run::{ErrorKind, Model, RunError};

const RATE_HZ: u32 = 16_000;

/// A tone whose pitch depends on the emotion, rising and falling like syllables (so the
/// voice-activity detector takes it for speech).
fn tone(emotion: u8, amplitude: f32) -> Vec<f32> {
    let f0_hz = 150.0 * 1.25_f32.powi(i32::from(emotion));
    (0..RATE_HZ as usize / 2)
        .map(|i| {
            let t = i as f32 / RATE_HZ as f32;
            let syllables = 0.55 - 0.45 * (2.0 * std::f32::consts::PI * 4.0 * t).cos();
            amplitude * syllables * (2.0 * std::f32::consts::PI * f0_hz * t).sin()
        })
        .collect()
}

/// 8 actors x 8 emotions in the RAVDESS layout.
fn write_corpus(root: &Path) {
    for actor in 1..=8_u8 {
        let dir = root.join(format!("Actor_{actor:02}"));
        std::fs::create_dir_all(&dir).unwrap();
        for emotion in 1..=8_u8 {
            let name = format!("03-01-{emotion:02}-01-01-01-{actor:02}.wav");
            let samples = tone(emotion, 0.2 + 0.02 * f32::from(actor));
            ser_audio::write_wav_i16(&dir.join(name), &samples, RATE_HZ).unwrap();
        }
    }
}

fn spec(data: &Path, out: &Path, cache: &Path) -> TrainSpec {
    TrainSpec {
        protocol: "kfold:4".to_owned(),
        fold: Some(1),
        preset: "seed".to_owned(),
        out: Some(out.to_owned()),
        cache_dir: Some(cache.to_owned()),
        ..TrainSpec::new(vec![data.to_owned()], "svm")
    }
}

#[test]
fn a_fold_trains_from_a_spec_and_its_evaluation_reuses_the_dataset() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, cache) = (tmp.path().join("corpus"), tmp.path().join("cache"));
    write_corpus(&data);
    let spec = spec(&data, &tmp.path().join("a"), &cache);
    let outcome = train(&spec, &TrainOptions::default()).unwrap();
    assert_eq!(outcome.folds.len(), 1);
    let fold_dir = tmp.path().join("a").join("fold-2");
    assert_eq!(outcome.folds[0].dir, fold_dir);
    assert!(fold_dir.join(ser_run::RUN_INFO_FILE).is_file());
    let in_memory = outcome.evaluation.expect("kfold:4 has a test side");
    assert_eq!(in_memory.folds.len(), 1);
    assert_eq!(in_memory.folds[0].info.test_speakers.len(), 2);
    assert_eq!(in_memory.folds[0].y_true.len(), 16);

    // The evaluation on the training's own dataset is the one ser-eval makes from disk.
    let from_disk = evaluate(
        &fold_dir,
        &EvalOptions {
            cache_dir: Some(cache.clone()),
            progress: false,
            adapt: false,
        },
    )
    .unwrap();
    assert_eq!(from_disk, in_memory);

    // The same spec through JSON (a --config file) trains the same model.
    let mut again: TrainSpec =
        serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
    again.out = Some(tmp.path().join("b"));
    train(&again, &TrainOptions::default()).unwrap();
    let clip = tone(3, 0.25);
    let mut a = Model::load(&fold_dir).unwrap();
    let mut b = Model::load(&tmp.path().join("b").join("fold-2")).unwrap();
    assert_eq!(
        a.predict_samples(&clip).unwrap(),
        b.predict_samples(&clip).unwrap()
    );

    // Training into a folder that holds a run is refused, naming it.
    let e = train(&spec, &TrainOptions::default()).unwrap_err();
    assert!(e.to_string().contains("already holds a run"), "{e}");
}

#[test]
fn the_front_end_band_is_measured_from_the_training_audio() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, cache) = (tmp.path().join("corpus"), tmp.path().join("cache"));
    write_corpus(&data);
    // The robust preset's band is 8 kHz; these tones stop below 1 kHz, so the run takes the
    // band its training audio had, and records the measurement.
    let robust = TrainSpec {
        preset: "robust".to_owned(),
        ..spec(&data, &tmp.path().join("measured"), &cache)
    };
    train(&robust, &TrainOptions::default()).unwrap();
    let info = ser_run::RunInfo::load(&tmp.path().join("measured").join("fold-2")).unwrap();
    assert_eq!(info.measured_band.len(), 1);
    assert_eq!(info.measured_band[0].files, 32);
    let band = info.feature_config.band_hz().unwrap();
    assert!(band < 1_000, "{band}");
    assert_eq!(
        band,
        ser_data::bandwidth::training_band_hz(8_000, &info.measured_band)
    );
    // --band-hz is taken as given and nothing is measured.
    let given = TrainSpec {
        band_hz: Some(8_000),
        ..robust.clone()
    };
    let given = TrainSpec {
        out: Some(tmp.path().join("given")),
        ..given
    };
    train(&given, &TrainOptions::default()).unwrap();
    let info = ser_run::RunInfo::load(&tmp.path().join("given").join("fold-2")).unwrap();
    assert!(info.measured_band.is_empty());
    assert_eq!(info.feature_config.band_hz(), Some(8_000));
}

#[test]
fn pitch_rows_are_extracted_when_the_feature_set_asks_for_them() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, cache) = (tmp.path().join("corpus"), tmp.path().join("cache"));
    write_corpus(&data);
    let pitched = TrainSpec {
        features: "full-pitch".parse().unwrap(),
        ..spec(&data, &tmp.path().join("pitch"), &cache)
    };
    train(&pitched, &TrainOptions::default()).unwrap();
    let dir = tmp.path().join("pitch").join("fold-2");
    let info = ser_run::RunInfo::load(&dir).unwrap();
    assert!(info.feature_config.pitch.is_some());
    assert_eq!(info.rows().len(), 178);
    let probabilities = Model::load(&dir)
        .unwrap()
        .predict_samples(&tone(5, 0.25))
        .unwrap();
    assert_eq!(probabilities.len(), 8);

    // A run description that names pitch rows its extraction lacks is refused on loading.
    let path = dir.join(ser_run::RUN_INFO_FILE);
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    json["feature_config"]
        .as_object_mut()
        .unwrap()
        .remove("pitch");
    std::fs::write(&path, json.to_string()).unwrap();
    let e = ser_run::RunInfo::load(&dir).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BrokenModel, "{e}");
    assert!(e.to_string().contains("full-pitch"), "{e}");
}

#[test]
fn errors_say_whose_fault_they_are() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = Model::load(&tmp.path().join("nothing")).unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::BrokenModel, "{missing}");
    let bad_spec = TrainSpec {
        fold: Some(9),
        ..spec(&tmp.path().join("none"), &tmp.path().join("o"), tmp.path())
    };
    let e = train(&bad_spec, &TrainOptions::default()).unwrap_err();
    assert!(matches!(e.root(), RunError::BadInput { .. }), "{e:?}");
    assert_eq!(e.kind(), ErrorKind::BadInput);
}
