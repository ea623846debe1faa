//! End-to-end test of speaker normalisation: `ser-train --speaker-norm` on a generated corpus
//! whose speakers differ in pitch, evaluation by `ser-train`/`ser-eval`, and `ser-predict`,
//! which needs reference recordings of the speaker for such a model.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{read_json, run, s, text};

const RATE_HZ: u32 = 16_000;
const N_ACTORS: u32 = 6;

/// `N_ACTORS` actors x 8 emotions x 2 repetitions (16 clips per actor, above the 10 a speaker
/// needs): 0.5 s tones (rising and falling like syllables) whose pitch is the emotion's times the actor's own register, so that
/// every actor has their own register.
fn write_corpus(root: &Path) {
    for actor in 1..=N_ACTORS {
        let dir = root.join(format!("Actor_{actor:02}"));
        std::fs::create_dir_all(&dir).unwrap();
        let register = 1.0 + 0.03 * (actor - 1) as f32;
        for emotion in 1..=8_u8 {
            for repetition in 1..=2_u32 {
                let f0 = 150.0 * 1.25_f32.powi(i32::from(emotion)) * register;
                let amplitude = 0.2 + 0.05 * repetition as f32;
                let samples: Vec<f32> = (0..RATE_HZ / 2)
                    .map(|i| {
                        let t = i as f32 / RATE_HZ as f32;
                        // Syllable-like loudness, so the voice-activity detector finds speech.
                        let syllables = 0.55 - 0.45 * (2.0 * std::f32::consts::PI * 4.0 * t).cos();
                        amplitude * syllables * (2.0 * std::f32::consts::PI * f0 * t).sin()
                    })
                    .collect();
                let name = format!("03-01-{emotion:02}-01-01-{repetition:02}-{actor:02}.wav");
                ser_audio::write_wav_i16(&dir.join(name), &samples, RATE_HZ).unwrap();
            }
        }
    }
}

#[test]
fn speaker_normalised_models_train_evaluate_and_predict_with_a_reference() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("corpus");
    let cache = tmp.path().join("cache");
    let runs = tmp.path().join("svm-spknorm");
    write_corpus(&data);
    let train = run(
        env!("CARGO_BIN_EXE_ser-train"),
        &[
            "--data",
            s(&data),
            "--protocol",
            "kfold:3",
            "--fold",
            "all",
            "--model",
            "svm",
            "--pooling",
            "stats",
            "--speaker-norm",
            "--svm-c",
            "auto",
            "--out",
            s(&runs),
            "--cache-dir",
            s(&cache),
        ],
    );
    assert!(train.status.success(), "{}", text(&train.stderr));
    assert!(text(&train.stdout).contains("mean ± std over 3 folds"));
    // C was chosen per fold by cross-validation over the 4 speakers of the training side.
    let stderr = text(&train.stderr);
    assert!(
        stderr.contains("fold 1: C = ") && stderr.contains("by 4-fold cross-validation"),
        "{stderr}"
    );
    let fold = runs.join("fold-1");
    let model = read_json(&fold.join("classic-model.json"));
    assert_eq!(model["config"]["speaker_norm"], true);
    let c = model["config"]["model"]["params"]["c"].as_f64().unwrap();
    assert!(ser_classic::SVM_C_GRID.contains(&c), "C {c}");
    assert_eq!(model["config"]["features"]["pooling"], "stats");
    let aggregate = read_json(&runs.join("metrics.json"));
    let pooled = aggregate["cross_validation"]["pooled"]["accuracy"]
        .as_f64()
        .unwrap();
    assert!(pooled > 0.5, "pooled accuracy {pooled}");

    // ser-eval normalises each test speaker with their own clips, as ser-train did: the same
    // figures.
    let trained = read_json(&fold.join("metrics.json"));
    std::fs::remove_file(fold.join("metrics.json")).unwrap();
    let eval = run(
        env!("CARGO_BIN_EXE_ser-eval"),
        &[s(&fold), "--cache-dir", s(&cache)],
    );
    assert!(eval.status.success(), "{}", text(&eval.stderr));
    let fold_metrics = read_json(&fold.join("metrics.json"));
    assert_eq!(fold_metrics["report"], trained["report"]);

    // Prediction needs the speaker's reference clips.
    let test_speaker = fold_metrics["test_speakers"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let actor: u32 = test_speaker
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .unwrap_or_else(|_| panic!("speaker id {test_speaker}"));
    let actor_dir = data.join(format!("Actor_{actor:02}"));
    let clip = actor_dir.join(format!("03-01-05-01-01-01-{actor:02}.wav"));
    let without = run(
        env!("CARGO_BIN_EXE_ser-predict"),
        &["--model", s(&fold), s(&clip)],
    );
    assert!(!without.status.success());
    let stderr = text(&without.stderr);
    assert!(stderr.contains("--speaker-ref"), "{stderr}");

    let with = run(
        env!("CARGO_BIN_EXE_ser-predict"),
        &[
            "--model",
            s(&fold),
            "--speaker-ref",
            s(&actor_dir),
            "--json",
            s(&clip),
        ],
    );
    assert!(with.status.success(), "{}", text(&with.stderr));
    assert!(
        text(&with.stderr).contains("speaker statistics from 16 reference clips"),
        "{}",
        text(&with.stderr)
    );
    let line = text(&with.stdout);
    let prediction: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    let probabilities = prediction["probabilities"].as_object().unwrap();
    assert_eq!(probabilities.len(), 8);
    let sum: f64 = probabilities.values().map(|v| v.as_f64().unwrap()).sum();
    assert!((sum - 1.0).abs() < 1e-3, "{sum}");

    // --adapt takes the speaker's statistics from the batch itself: no --speaker-ref, and the
    // same probabilities as with the speaker's clips as the reference (from the same files).
    let adapted = run(
        env!("CARGO_BIN_EXE_ser-predict"),
        &["--model", s(&fold), "--adapt", "--json", s(&actor_dir)],
    );
    assert!(adapted.status.success(), "{}", text(&adapted.stderr));
    let stderr = text(&adapted.stderr);
    assert!(
        stderr.contains(&format!(
            "adaptation: standardised with the statistics of 16 files (1 speaker: {test_speaker} 16)"
        )),
        "{stderr}"
    );
    let same = text(&adapted.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| {
            v["path"]
                .as_str()
                .unwrap()
                .ends_with(clip.file_name().unwrap().to_str().unwrap())
        })
        .unwrap();
    for (name, p) in probabilities {
        let q = same["probabilities"][name].as_f64().unwrap();
        assert!((p.as_f64().unwrap() - q).abs() < 1e-4, "{name}: {p} vs {q}");
    }
    // ser-eval --adapt: the speaker normalisation of the plain evaluation, the same figures.
    let eval = run(
        env!("CARGO_BIN_EXE_ser-eval"),
        &["--adapt", s(&fold), "--cache-dir", s(&cache)],
    );
    assert!(eval.status.success(), "{}", text(&eval.stderr));
    let adapted_metrics = read_json(&fold.join("adapted").join("metrics.json"));
    assert_eq!(adapted_metrics["report"], fold_metrics["report"]);

    // Too few reference clips: the minimum is named.
    let few = tmp.path().join("few");
    std::fs::create_dir_all(&few).unwrap();
    for emotion in 1..=3 {
        let name = format!("03-01-{emotion:02}-01-01-01-{actor:02}.wav");
        std::fs::copy(actor_dir.join(&name), few.join(&name)).unwrap();
    }
    let short = run(
        env!("CARGO_BIN_EXE_ser-predict"),
        &["--model", s(&fold), "--speaker-ref", s(&few), s(&clip)],
    );
    assert!(!short.status.success());
    let stderr = text(&short.stderr);
    assert!(
        stderr.contains("3 utterances") && stderr.contains("at least 10"),
        "{stderr}"
    );

    // Deep models refuse the flag with the reason.
    let deep = run(
        env!("CARGO_BIN_EXE_ser-train"),
        &["--data", s(&data), "--model", "cnn", "--speaker-norm"],
    );
    assert!(!deep.status.success());
    assert!(text(&deep.stderr).contains("--speaker-norm applies to the classical models"));
}
