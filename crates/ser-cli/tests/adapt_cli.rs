//! End-to-end tests of unsupervised adaptation: `ser-predict --adapt` on batches of generated
//! recordings (named like a corpus, so per speaker, or not, so as one group) with a classical
//! model, a network and an ensemble of both; `ser-eval --adapt`, which writes beside the plain
//! evaluation; and the errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{
    EMOTIONS, SAMPLE_RATE_HZ, read_json, run, run_with_stdin, s, text, tone, train_tiny,
    write_corpus,
};

/// Tiny runs on fold 1 of the generated corpus and batches to adapt to.
struct Fixture {
    tmp: tempfile::TempDir,
    cache: PathBuf,
    svm: PathBuf,
    cnn: PathBuf,
    ensemble: PathBuf,
    /// 27 RAVDESS-named clips: actors 21 and 22 with 12 each, actor 23 with 3.
    speakers: PathBuf,
    /// The same clips 12 dB quieter.
    quieter: PathBuf,
}

/// Writes the clips of `actor` (RAVDESS names): the 8 emotions, then emotions 1.. again with
/// the second statement, `n` in all, at `amplitude`.
fn write_actor(dir: &Path, actor: u32, n: u8, amplitude: f32) {
    std::fs::create_dir_all(dir).unwrap();
    for k in 0..n {
        let (emotion, statement) = (k % 8 + 1, k / 8 + 1);
        let name = format!("03-01-{emotion:02}-01-{statement:02}-01-{actor:02}.wav");
        let samples = tone(emotion, amplitude, 0.5, SAMPLE_RATE_HZ);
        ser_audio::write_wav_i16(&dir.join(name), &samples, SAMPLE_RATE_HZ).unwrap();
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("corpus");
        let cache = tmp.path().join("cache");
        write_corpus(&data);
        let svm = train_tiny(&data, &cache, &tmp.path().join("svm"), "svm", &[]);
        let cnn = train_tiny(
            &data,
            &cache,
            &tmp.path().join("cnn"),
            "cnn",
            &["--features", "mfcc", "--epochs", "1"],
        );
        let ensemble = tmp.path().join("ensemble");
        let made = run(
            env!("CARGO_BIN_EXE_ser-eval"),
            &[
                "--ensemble",
                s(&svm),
                s(&cnn),
                "--out",
                s(&ensemble),
                "--cache-dir",
                s(&cache),
            ],
        );
        assert!(made.status.success(), "{}", text(&made.stderr));
        let speakers = tmp.path().join("speakers");
        let quieter = tmp.path().join("quieter");
        for (dir, gain) in [(&speakers, 1.0), (&quieter, 0.25)] {
            write_actor(dir, 21, 12, 0.15 * gain);
            write_actor(dir, 22, 12, 0.35 * gain);
            write_actor(dir, 23, 3, 0.25 * gain);
        }
        Fixture {
            tmp,
            cache,
            svm,
            cnn,
            ensemble,
            speakers,
            quieter,
        }
    })
}

fn predict(args: &[&str]) -> std::process::Output {
    run(env!("CARGO_BIN_EXE_ser-predict"), args)
}

fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn probabilities(value: &serde_json::Value) -> Vec<f64> {
    let p: Vec<f64> = EMOTIONS
        .iter()
        .map(|e| value["probabilities"][e].as_f64().unwrap())
        .collect();
    let sum: f64 = p.iter().sum();
    assert!((sum - 1.0).abs() < 1e-4, "{value}");
    p
}

#[test]
fn a_folder_of_speakers_is_adapted_per_speaker_and_says_so() {
    let f = fixture();
    let out = predict(&["--adapt", s(&f.speakers), "--model", s(&f.svm), "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "adaptation: standardised with the statistics of 27 files (3 speakers: ravdess:21 \
             12, ravdess:22 12; with fewer than 10 files, so the whole batch's statistics: \
             ravdess:23 3)"
        ),
        "{stderr}"
    );
    let values = json_lines(&text(&out.stdout));
    assert_eq!(values.len(), 27);
    for v in &values {
        probabilities(v);
        let adapted = &v["adapted"];
        assert_eq!(adapted["n_files"], 27, "{v}");
        let path = v["path"].as_str().unwrap();
        let actor = &path[path.len() - 6..path.len() - 4];
        assert_eq!(adapted["group"], format!("ravdess:{actor}"), "{v}");
        assert_eq!(adapted["pooled"], actor == "23", "{v}");
    }

    // A level change of the whole batch is what adaptation takes out: the same answers.
    let quieter = predict(&["--adapt", s(&f.quieter), "--model", s(&f.svm), "--json"]);
    assert!(quieter.status.success(), "{}", text(&quieter.stderr));
    let quieter = json_lines(&text(&quieter.stdout));
    assert_eq!(quieter.len(), 27);
    for (a, b) in values.iter().zip(&quieter) {
        assert_eq!(a["label"], b["label"], "{a}\n{b}");
        for (p, q) in probabilities(a).iter().zip(probabilities(b)) {
            assert!((p - q).abs() < 0.02, "{a}\n{b}");
        }
    }

    // The table form: the same line on stderr, every file predicted.
    let table = predict(&["--adapt", s(&f.speakers), "--model", s(&f.svm)]);
    assert!(table.status.success(), "{}", text(&table.stderr));
    assert!(text(&table.stderr).contains("adaptation: standardised"));
    assert_eq!(text(&table.stdout).matches("emotion: ").count(), 27);
}

#[test]
fn networks_and_ensembles_are_adapted_too() {
    let f = fixture();
    for model in [&f.cnn, &f.ensemble] {
        let out = predict(&["--adapt", s(&f.speakers), "--model", s(model), "--json"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("adaptation: standardised with the statistics of 27 files"),
            "{}",
            text(&out.stderr)
        );
        let values = json_lines(&text(&out.stdout));
        assert_eq!(values.len(), 27);
        values.iter().for_each(|v| {
            probabilities(v);
        });
    }
}

#[test]
fn files_named_otherwise_are_one_group_and_long_ones_adapt_every_window() {
    let f = fixture();
    let dir = f.tmp.path().join("unnamed");
    std::fs::create_dir_all(&dir).unwrap();
    for k in 0..11_u8 {
        let samples = tone(k % 8 + 1, 0.2, 0.5, 16_000);
        let path = dir.join(format!("clip-{k:02}.wav"));
        ser_audio::write_wav_i16(&path, &samples, 16_000).unwrap();
    }
    // 10 s: 3 s of tone, 4 s of silence, 3 s of tone (several analysis windows).
    let mut long = tone(5, 0.3, 3.0, 16_000);
    long.extend(std::iter::repeat_n(0.0, 4 * 16_000));
    long.extend(tone(5, 0.3, 3.0, 16_000));
    ser_audio::write_wav_i16(&dir.join("long.wav"), &long, 16_000).unwrap();
    let out = predict(&["--adapt", s(&dir), "--model", s(&f.svm), "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("standardised with the statistics of 12 files (")
            && stderr.contains("analysis windows) as one group (the file names name no speakers)"),
        "{stderr}"
    );
    let values = json_lines(&text(&out.stdout));
    assert_eq!(values.len(), 12);
    let long = values
        .iter()
        .find(|v| v["path"].as_str().unwrap().ends_with("long.wav"))
        .unwrap();
    probabilities(long);
    assert_eq!(long["adapted"]["group"], "batch");
    let windows = long["windows"].as_array().unwrap();
    assert!(windows.len() > 2, "{long}");
    assert!(
        windows.iter().any(|w| w["probabilities"].is_null()),
        "{long}"
    );
    assert!(
        windows
            .iter()
            .filter(|w| w["probabilities"].is_object())
            .count()
            > 1
    );
}

#[test]
fn adaptation_needs_a_batch() {
    let f = fixture();
    let svm = s(&f.svm);
    let one = f.speakers.join("03-01-05-01-01-01-21.wav");
    let single = predict(&["--adapt", s(&one), "--model", svm]);
    assert!(!single.status.success());
    let stderr = text(&single.stderr);
    assert!(
        stderr.contains("--adapt") && stderr.contains("not a single file"),
        "{stderr}"
    );

    let few = f.tmp.path().join("few");
    write_actor(&few, 21, 5, 0.2);
    let short = predict(&["--adapt", s(&few), "--model", svm]);
    assert!(!short.status.success());
    let stderr = text(&short.stderr);
    assert!(
        stderr.contains("at least 10 files with speech, the batch has 5"),
        "{stderr}"
    );

    let stream = run_with_stdin(
        env!("CARGO_BIN_EXE_ser-predict"),
        &["--adapt", "--stream", "-", "--model", svm],
        b"",
    );
    assert!(!stream.status.success());
    let stderr = text(&stream.stderr);
    assert!(
        stderr.contains("--adapt") && stderr.contains("cannot be used with"),
        "{stderr}"
    );
    let with_reference = predict(&[
        "--adapt",
        s(&f.speakers),
        "--speaker-ref",
        s(&f.speakers),
        "--model",
        svm,
    ]);
    assert!(!with_reference.status.success());
    assert!(text(&with_reference.stderr).contains("cannot be used with"));
}

#[test]
fn ser_eval_adapt_writes_beside_the_plain_evaluation() {
    let f = fixture();
    for run_dir in [&f.svm, &f.ensemble] {
        let plain = std::fs::read(run_dir.join("metrics.json")).unwrap();
        let out = run(
            env!("CARGO_BIN_EXE_ser-eval"),
            &["--adapt", s(run_dir), "--cache-dir", s(&f.cache)],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        // Fold 1 of 4 tests 2 actors of 8 clips: too few each, so the whole test side's.
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(
                "fold 1: adaptation: standardised with the statistics of 16 files (2 speakers, \
                 each with fewer than 10 files"
            ),
            "{stderr}"
        );
        let adapted = run_dir.join("adapted");
        assert!(
            text(&out.stdout).contains(&format!("adapted evaluation -> {}", adapted.display())),
            "{}",
            text(&out.stdout)
        );
        assert_eq!(
            std::fs::read(run_dir.join("metrics.json")).unwrap(),
            plain,
            "the plain evaluation is left as it is"
        );
        let metrics = read_json(&adapted.join("metrics.json"));
        assert_eq!(metrics["report"]["n_samples"], 16, "{metrics}");
        for file in ["report.txt", "predictions.csv", "confusion_matrix.png"] {
            assert!(adapted.join(file).is_file(), "{file}");
        }
        let adaptation = read_json(&adapted.join("adaptation.json"));
        assert_eq!(adaptation["n_files"], 16);
        let groups = adaptation["groups"].as_array().unwrap();
        assert_eq!(groups.len(), 2);
        assert!(groups.iter().all(|g| g["pooled"] == true), "{adaptation}");
    }
}
