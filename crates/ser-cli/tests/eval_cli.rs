//! End-to-end test of `ser-eval`: train a tiny k-fold run with `ser-train` on a synthetic
//! RAVDESS-layout corpus, evaluate it, compare it, and check the error paths.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{N_ACTORS, N_EMOTIONS, read_json, run, text, write_corpus};

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fn assert_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        bytes.starts_with(PNG_SIGNATURE),
        "{} is not a PNG",
        path.display()
    );
    let svg = path.with_extension("svg");
    let svg_text =
        std::fs::read_to_string(&svg).unwrap_or_else(|e| panic!("{}: {e}", svg.display()));
    assert!(svg_text.contains("<svg"), "{} is not an SVG", svg.display());
}

#[test]
fn ser_eval_evaluates_a_kfold_run_and_compares_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("corpus");
    let runs = tmp.path().join("runs");
    let cache = tmp.path().join("cache");
    write_corpus(&data);
    let p = |p: &PathBuf| p.to_str().unwrap().to_owned();

    let train = run(
        env!("CARGO_BIN_EXE_ser-train"),
        &[
            "--data",
            &p(&data),
            "--protocol",
            "kfold:4",
            "--fold",
            "all",
            "--model",
            "cnn",
            "--epochs",
            "2",
            "--preset",
            "seed",
            "--out",
            &p(&runs),
            "--cache-dir",
            &p(&cache),
        ],
    );
    assert!(
        train.status.success(),
        "ser-train failed:\n{}",
        text(&train.stderr)
    );

    let eval = run(
        env!("CARGO_BIN_EXE_ser-eval"),
        &[&p(&runs), "--cache-dir", &p(&cache)],
    );
    let stdout = text(&eval.stdout);
    assert!(
        eval.status.success(),
        "ser-eval failed:\n{}",
        text(&eval.stderr)
    );
    assert!(stdout.contains("fold 4/4"), "{stdout}");
    assert!(stdout.contains("mean ± std over 4 folds"), "{stdout}");

    for fold in 1..=4 {
        let dir = runs.join(format!("fold-{fold}"));
        let metrics = read_json(&dir.join("metrics.json"));
        assert_eq!(metrics["kind"], "fold");
        assert_eq!(metrics["fold"], fold);
        assert_eq!(metrics["model"], "cnn");
        assert_eq!(metrics["features"], "full/seed");
        let report = &metrics["report"];
        assert_eq!(
            report["n_samples"],
            2 * u64::from(N_EMOTIONS),
            "two test actors per fold"
        );
        let accuracy = report["accuracy"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&accuracy));
        assert!(metrics["training_time_s"].as_f64().unwrap() > 0.0);
        assert!(
            std::fs::read_to_string(dir.join("report.txt"))
                .unwrap()
                .contains("macro avg")
        );
        let predictions = std::fs::read_to_string(dir.join("predictions.csv")).unwrap();
        let mut lines = predictions.lines();
        let header = lines.next().unwrap();
        assert!(
            header.starts_with("path,true_label,predicted_label,p_"),
            "{header}"
        );
        assert_eq!(header.split(',').count(), 3 + usize::from(N_EMOTIONS));
        assert_eq!(lines.count(), 2 * usize::from(N_EMOTIONS));
        // One corpus: no per-corpus figures anywhere.
        assert!(metrics.get("per_corpus").is_none(), "{metrics}");
        assert!(!dir.join("per-corpus.csv").exists());
        assert!(!dir.join("confusion_matrix-ravdess.png").exists());
        for stem in ["confusion_matrix", "roc", "training_curves"] {
            assert_png(&dir.join(format!("{stem}.png")));
        }
    }
    let aggregate = read_json(&runs.join("metrics.json"));
    assert_eq!(aggregate["kind"], "cross-validation");
    assert_eq!(aggregate["folds"], serde_json::json!([1, 2, 3, 4]));
    assert_eq!(aggregate["cross_validation"]["aggregate"]["n_folds"], 4);
    assert_eq!(
        aggregate["cross_validation"]["pooled"]["n_samples"],
        N_ACTORS as u64 * u64::from(N_EMOTIONS)
    );
    assert!(
        std::fs::read_to_string(runs.join("report.txt"))
            .unwrap()
            .contains("mean")
    );
    assert_png(&runs.join("confusion_matrix.png"));
    assert_png(&runs.join("roc.png"));
    assert!(aggregate.get("per_corpus").is_none(), "{aggregate}");
    assert!(!runs.join("per-corpus.csv").exists());
    assert!(!stdout.contains("  ravdess"), "{stdout}");

    // Compare the k-fold parent with one of its folds.
    let out = tmp.path().join("cmp");
    let cmp = run(
        env!("CARGO_BIN_EXE_ser-eval"),
        &[
            "--compare",
            &p(&runs),
            &p(&runs.join("fold-2")),
            "--out",
            &p(&out),
            "--cache-dir",
            &p(&cache),
        ],
    );
    assert!(
        cmp.status.success(),
        "ser-eval --compare failed:\n{}",
        text(&cmp.stderr)
    );
    let md = std::fs::read_to_string(out.join("comparison.md")).unwrap();
    assert!(
        md.contains("| runs | cnn | full/seed | speaker-4-fold"),
        "{md}"
    );
    assert!(md.contains("runs/fold-2"), "{md}");
    // The per-corpus column comes last, empty for single-corpus runs.
    let md_lines: Vec<&str> = md.lines().collect();
    assert!(md_lines[0].ends_with("| UAR per corpus |"), "{md}");
    assert!(md_lines[2..4].iter().all(|l| l.ends_with(" |  |")), "{md}");
    let csv = std::fs::read_to_string(out.join("comparison.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert_png(&out.join("comparison.png"));

    // A corrupted metrics file is reported, not re-evaluated silently.
    std::fs::write(runs.join("fold-3").join("metrics.json"), "{ broken").unwrap();
    let bad = run(
        env!("CARGO_BIN_EXE_ser-eval"),
        &["--compare", &p(&runs.join("fold-3")), "--out", &p(&out)],
    );
    assert!(!bad.status.success());
    let stderr = text(&bad.stderr);
    assert!(
        stderr.starts_with("error: ") && stderr.contains("corrupted metrics file"),
        "{stderr}"
    );

    // A run with missing weights.
    std::fs::remove_file(runs.join("fold-4").join("model.bpk")).unwrap();
    let bad = run(
        env!("CARGO_BIN_EXE_ser-eval"),
        &[&p(&runs.join("fold-4")), "--cache-dir", &p(&cache)],
    );
    assert!(!bad.status.success());
    let stderr = text(&bad.stderr);
    assert!(stderr.contains("cannot load the model weights"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn ser_eval_rejects_folders_that_are_not_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let not_a_run = tmp.path().join("empty");
    std::fs::create_dir_all(&not_a_run).unwrap();
    let out = run(
        env!("CARGO_BIN_EXE_ser-eval"),
        &[not_a_run.to_str().unwrap()],
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: ") && stderr.contains("not a run folder"),
        "{stderr}"
    );

    let missing = tmp.path().join("missing");
    let out = run(env!("CARGO_BIN_EXE_ser-eval"), &[missing.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no such folder"),
        "{}",
        text(&out.stderr)
    );

    // A run folder whose description is garbage.
    std::fs::write(not_a_run.join("ser-run.json"), "[]").unwrap();
    let out = run(
        env!("CARGO_BIN_EXE_ser-eval"),
        &[not_a_run.to_str().unwrap()],
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("corrupted run description") && !stderr.contains("panicked"),
        "{stderr}"
    );
}

#[test]
fn classical_models_train_and_evaluate_like_deep_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("corpus");
    let cache = tmp.path().join("cache");
    write_corpus(&data);
    let p = |p: &PathBuf| p.to_str().unwrap().to_owned();
    for (model, pooling) in [("svm", "mean-std"), ("rf", "mean"), ("knn", "mean-std")] {
        let runs = tmp.path().join(model);
        let args = [
            "--data",
            &p(&data),
            "--protocol",
            "kfold:4",
            "--fold",
            "all",
            "--model",
            model,
            "--pooling",
            pooling,
            "--preset",
            "seed",
            "--out",
            &p(&runs),
            "--cache-dir",
            &p(&cache),
        ];
        let train = run(env!("CARGO_BIN_EXE_ser-train"), &args);
        let stdout = text(&train.stdout);
        assert!(
            train.status.success(),
            "ser-train {model} failed:\n{}",
            text(&train.stderr)
        );
        // ser-train evaluates what it trained and writes the k-fold aggregate.
        assert!(stdout.contains("mean ± std over 4 folds"), "{stdout}");
        let aggregate = read_json(&runs.join("metrics.json"));
        assert_eq!(aggregate["kind"], "cross-validation");
        for fold in 1..=4 {
            let dir = runs.join(format!("fold-{fold}"));
            assert!(dir.join("classic-model.json").is_file());
            let metrics = read_json(&dir.join("metrics.json"));
            assert_eq!(metrics["model"], model);
            assert!(metrics["training_time_s"].as_f64().unwrap() > 0.0);
            assert_png(&dir.join("confusion_matrix.png"));
        }
        // The pitch of the tones separates the emotions: the pooled accuracy is far above
        // chance (1/8).
        let pooled = aggregate["cross_validation"]["pooled"]["accuracy"]
            .as_f64()
            .unwrap();
        assert!(pooled > 0.5, "{model}: pooled accuracy {pooled}");

        // ser-eval reads the classical run folders too.
        let eval = run(
            env!("CARGO_BIN_EXE_ser-eval"),
            &[&p(&runs), "--cache-dir", &p(&cache)],
        );
        assert!(eval.status.success(), "{}", text(&eval.stderr));

        // The same command again would overwrite a finished run.
        let again = run(env!("CARGO_BIN_EXE_ser-train"), &args);
        assert!(!again.status.success());
        assert!(
            text(&again.stderr).contains("already holds a run"),
            "{}",
            text(&again.stderr)
        );
    }

    // Waveform augmentation adds copies of the training actors' clips to a classical model's
    // training set: 4 training actors x 8 clips, plus the 2 validation actors' 16 clips.
    let augmented = run(
        env!("CARGO_BIN_EXE_ser-train"),
        &[
            "--data",
            &p(&data),
            "--protocol",
            "kfold:4",
            "--model",
            "svm",
            "--preset",
            "seed",
            "--augment",
            "original",
            "--augment-copies",
            "1",
            "--out",
            &p(&tmp.path().join("svm-augmented")),
            "--cache-dir",
            &p(&cache),
        ],
    );
    let stderr = text(&augmented.stderr);
    assert!(augmented.status.success(), "{stderr}");
    assert!(stderr.contains("augmentation: 32 copies of 32"), "{stderr}");
    assert!(stderr.contains("fitted on 80 utterances"), "{stderr}");

    // Options of the other model family are refused before any work.
    for (model, flag, value, message) in [
        (
            "svm",
            "--normalize",
            "utterance",
            "--normalize applies to deep models",
        ),
        (
            "cnn",
            "--pooling",
            "mean",
            "--pooling applies to the classical models",
        ),
        (
            "knn",
            "--spec-augment",
            "--no-cache",
            "--spec-augment applies to deep models only",
        ),
        ("tree", "--fold", "1", "unknown model \"tree\""),
        ("cnn", "--device", "cuda", "no CUDA support"),
        ("cnn", "--device", "tpu", "unknown device"),
        ("svm", "--fold", "9", "--fold 9: the protocol"),
        (
            "svm",
            "--svm-c",
            "0",
            "--svm-c 0: must be a positive number or auto",
        ),
        (
            "svm",
            "--svm-c",
            "often",
            "--svm-c often: must be a positive number",
        ),
        ("rf", "--svm-c", "2", "--svm-c applies to --model svm only"),
        (
            "cnn",
            "--svm-c",
            "auto",
            "--svm-c applies to --model svm only",
        ),
    ] {
        let out = run(
            env!("CARGO_BIN_EXE_ser-train"),
            &[
                "--data",
                &p(&data),
                "--protocol",
                "kfold:4",
                "--model",
                model,
                flag,
                value,
                "--out",
                &p(&tmp.path().join("refused")),
            ],
        );
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{model} {flag} {value} was accepted");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(message),
            "{stderr}"
        );
        assert!(!tmp.path().join("refused").exists());
    }
}

#[test]
fn deep_models_train_on_augmented_copies() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("corpus");
    let cache = tmp.path().join("cache");
    write_corpus(&data);
    let p = |p: &PathBuf| p.to_str().unwrap().to_owned();
    let runs = tmp.path().join("runs");
    let train = run(
        env!("CARGO_BIN_EXE_ser-train"),
        &[
            "--data",
            &p(&data),
            "--protocol",
            "kfold:4",
            "--model",
            "cnn",
            "--epochs",
            "1",
            "--preset",
            "seed",
            "--augment",
            "original",
            "--augment-copies",
            "1",
            "--spec-augment",
            "--out",
            &p(&runs),
            "--cache-dir",
            &p(&cache),
        ],
    );
    let stderr = text(&train.stderr);
    assert!(train.status.success(), "ser-train failed:\n{stderr}");
    // Fold 1 of 4 trains on 4 actors x 8 emotions (2 test, 2 validation actors), plus one
    // augmented copy of each.
    assert!(
        stderr.contains("augmentation: 32 copies of 32 training clips"),
        "{stderr}"
    );
    let history = std::fs::read_to_string(runs.join("fold-1").join("history.csv")).unwrap();
    assert_eq!(history.lines().count(), 2, "{history}");
    // The run records its augmentation.
    let info = read_json(&runs.join("fold-1").join("ser-run.json"));
    assert_eq!(info["augment"]["copies"], 1);
    assert!(
        info["augment"]["spec_augment"]["n_time_masks"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(info["augment"]["noise"].is_object());

    // Each augmentation is switched on and configured by a JSON file.
    let config = tmp.path().join("augment.json");
    std::fs::write(
        &config,
        r#"{"copies": 2, "gain": {"probability": 1.0, "min_db": -6.0, "max_db": 6.0},
            "spec_augment": {"n_time_masks": 1, "max_time_mask_frames": 5}}"#,
    )
    .unwrap();
    let base = |out: &PathBuf, augment: &str| {
        run(
            env!("CARGO_BIN_EXE_ser-train"),
            &[
                "--data",
                &p(&data),
                "--protocol",
                "kfold:4",
                "--model",
                "cnn",
                "--epochs",
                "1",
                "--preset",
                "seed",
                "--augment",
                augment,
                "--out",
                &p(out),
                "--cache-dir",
                &p(&cache),
            ],
        )
    };
    let out = tmp.path().join("json");
    let train = base(&out, &p(&config));
    let stderr = text(&train.stderr);
    assert!(train.status.success(), "{stderr}");
    assert!(stderr.contains("augmentation: 64 copies of 32"), "{stderr}");
    let info = read_json(&out.join("fold-1").join("ser-run.json"));
    assert_eq!(info["augment"]["spec_augment"]["max_time_mask_frames"], 5);
    assert!(info["augment"]["time_stretch"].is_null());

    // A misspelt setting or an impossible value is refused before any work.
    std::fs::write(&config, r#"{"copies": 1, "gian": {}}"#).unwrap();
    let bad = base(&tmp.path().join("bad"), &p(&config));
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("not an augmentation configuration"),
        "{}",
        text(&bad.stderr)
    );
    std::fs::write(&config, r#"{"copies": 1, "noise": {"probability": 2.0}}"#).unwrap();
    let bad = base(&tmp.path().join("bad"), &p(&config));
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("error: --augment"),
        "{}",
        text(&bad.stderr)
    );
    assert!(!tmp.path().join("bad").exists());
}

/// Figures of one corpus's rows of a `predictions.csv`, computed here from the labels.
struct HandFigures {
    n_clips: usize,
    accuracy: f64,
    uar: f64,
    macro_f1: f64,
}

/// Accuracy, and recall and F1 averaged over the classes in the corpus's true labels.
fn hand_figures(predictions: &str, corpus: &str) -> HandFigures {
    let mut lines = predictions.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (t, pr, c) = (col("true_label"), col("predicted_label"), col("corpus"));
    let pairs: Vec<(String, String)> = lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[c] == corpus)
        .map(|f| (f[t].to_owned(), f[pr].to_owned()))
        .collect();
    let mut classes: Vec<&str> = pairs.iter().map(|(t, _)| t.as_str()).collect();
    classes.sort_unstable();
    classes.dedup();
    let count = |f: &dyn Fn(&(String, String)) -> bool| pairs.iter().filter(|p| f(p)).count();
    let (mut recall, mut f1) = (0.0, 0.0);
    for class in &classes {
        let tp = count(&|(t, p)| t == class && p == class) as f64;
        let support = count(&|(t, _)| t == class) as f64;
        let predicted = count(&|(_, p)| p == class) as f64;
        recall += tp / support;
        f1 += 2.0 * tp / (support + predicted);
    }
    HandFigures {
        n_clips: pairs.len(),
        accuracy: count(&|(t, p)| t == p) as f64 / pairs.len() as f64,
        uar: recall / classes.len() as f64,
        macro_f1: f1 / classes.len() as f64,
    }
}

/// Copies a folder's files (recursively).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn cross_corpus_runs_train_on_one_corpus_and_test_on_another() {
    let tmp = tempfile::tempdir().unwrap();
    let ravdess = tmp.path().join("ravdess");
    let emodb = tmp.path().join("emodb");
    let cache = tmp.path().join("cache");
    write_corpus(&ravdess);
    common::write_emodb(&emodb);
    let p = |p: &PathBuf| p.to_str().unwrap().to_owned();
    let out = tmp.path().join("cross");
    let train = run(
        env!("CARGO_BIN_EXE_ser-train"),
        &[
            "--data",
            &p(&ravdess),
            "--test-data",
            &p(&emodb),
            "--model",
            "svm",
            "--preset",
            "seed",
            "--out",
            &p(&out),
            "--cache-dir",
            &p(&cache),
        ],
    );
    let stdout = text(&train.stdout);
    assert!(train.status.success(), "{}", text(&train.stderr));
    assert!(stdout.contains("fold 1/1"), "{stdout}");
    let metrics = read_json(&out.join("metrics.json"));
    assert_eq!(metrics["protocol"], "cross-corpus-ravdess-to-emodb");
    // Shared emotions only: EmoDB has no calm or surprised, RAVDESS no boredom.
    let names: Vec<&str> = metrics["report"]["class_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["neutral", "happy", "sad", "angry", "fearful", "disgust"]
    );
    assert_eq!(
        metrics["report"]["n_samples"],
        4 * 6,
        "4 EmoDB speakers x 6 emotions"
    );
    let info = read_json(&out.join("ser-run.json"));
    assert!(info["test_data_dir"].as_str().unwrap().ends_with("emodb"));
    let tested: Vec<&str> = info["test_speakers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(tested.len(), 4, "{tested:?}");
    assert!(
        info["train_speakers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| !tested.contains(&s.as_str().unwrap()))
    );

    // ser-eval rebuilds the combined corpus from the run description.
    let eval = run(
        env!("CARGO_BIN_EXE_ser-eval"),
        &[&p(&out), "--cache-dir", &p(&cache)],
    );
    assert!(eval.status.success(), "{}", text(&eval.stderr));

    // The corpus is a mixed one, so the test side (EmoDB) gets per-corpus figures, equal to
    // those computed here from predictions.csv.
    let stdout = text(&eval.stdout);
    assert!(
        stdout.contains("  emodb (24 test utterances): accuracy"),
        "{stdout}"
    );
    let metrics = read_json(&out.join("metrics.json"));
    let per_corpus = metrics["per_corpus"].as_array().expect("per_corpus");
    assert_eq!(per_corpus.len(), 1, "{metrics}");
    let emodb_figures = &per_corpus[0];
    assert_eq!(emodb_figures["corpus"], "emodb");
    assert_eq!(emodb_figures["n_clips"], 24);
    assert_eq!(emodb_figures["classes"].as_array().unwrap().len(), 6);
    let predictions = std::fs::read_to_string(out.join("predictions.csv")).unwrap();
    assert!(
        predictions.lines().next().unwrap().ends_with(",corpus"),
        "{predictions}"
    );
    assert!(predictions.lines().skip(1).all(|l| l.ends_with(",emodb")));
    let by_hand = hand_figures(&predictions, "emodb");
    assert_eq!(by_hand.n_clips, 24);
    let close = |key: &str, value: f64| {
        let stored = emodb_figures[key].as_f64().unwrap();
        assert!((stored - value).abs() < 1e-12, "{key}: {stored} vs {value}");
    };
    close("accuracy", by_hand.accuracy);
    close("uar", by_hand.uar);
    close("macro_f1", by_hand.macro_f1);
    // EmoDB has every class of the shared label map: the figures are those of the report.
    close("uar", metrics["report"]["uar"].as_f64().unwrap());
    let confusion: u64 = emodb_figures["confusion_matrix"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()))
        .sum();
    assert_eq!(confusion, 24);
    let csv = std::fs::read_to_string(out.join("per-corpus.csv")).unwrap();
    let csv_lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        csv_lines[0],
        "corpus,n_clips,accuracy,uar,macro_f1,n_classes,classes"
    );
    assert!(csv_lines[1].starts_with("emodb,24,"), "{csv}");
    assert_eq!(csv_lines.len(), 2, "{csv}");
    assert_png(&out.join("confusion_matrix-emodb.png"));
    assert!(
        std::fs::read_to_string(out.join("report.txt"))
            .unwrap()
            .contains("Per corpus")
    );

    // Two copies of the run as the folds of a parent: the aggregate per corpus.
    let parent = tmp.path().join("two-folds");
    for k in 1..=2 {
        copy_dir(&out, &parent.join(format!("fold-{k}")));
    }
    let eval = run(
        env!("CARGO_BIN_EXE_ser-eval"),
        &[&p(&parent), "--cache-dir", &p(&cache)],
    );
    assert!(eval.status.success(), "{}", text(&eval.stderr));
    let stdout = text(&eval.stdout);
    assert!(
        stdout.contains("  emodb over 2 folds: accuracy"),
        "{stdout}"
    );
    let aggregate = read_json(&parent.join("metrics.json"));
    let emodb_aggregate = &aggregate["per_corpus"][0];
    assert_eq!(emodb_aggregate["corpus"], "emodb", "{aggregate}");
    assert_eq!(emodb_aggregate["folds"], serde_json::json!([1, 1]));
    assert_eq!(emodb_aggregate["pooled"]["n_clips"], 48);
    for (value, expected) in [
        (&emodb_aggregate["mean"]["uar"], by_hand.uar),
        (&emodb_aggregate["std"]["uar"], 0.0),
        (&emodb_aggregate["pooled"]["uar"], by_hand.uar),
        (&emodb_aggregate["pooled"]["accuracy"], by_hand.accuracy),
        (&emodb_aggregate["pooled"]["macro_f1"], by_hand.macro_f1),
    ] {
        assert!(
            (value.as_f64().unwrap() - expected).abs() < 1e-12,
            "{value} vs {expected}"
        );
    }
    let csv = std::fs::read_to_string(parent.join("per-corpus.csv")).unwrap();
    assert!(
        csv.starts_with("corpus,n_folds,accuracy_mean,accuracy_std,uar_mean,uar_std,"),
        "{csv}"
    );
    assert!(csv.lines().nth(1).unwrap().starts_with("emodb,2,"), "{csv}");
    assert_png(&parent.join("confusion_matrix-emodb.png"));

    // The comparison's last column.
    let cmp_dir = tmp.path().join("cmp");
    let cmp = run(
        env!("CARGO_BIN_EXE_ser-eval"),
        &["--compare", &p(&parent), "--out", &p(&cmp_dir)],
    );
    assert!(cmp.status.success(), "{}", text(&cmp.stderr));
    let md = std::fs::read_to_string(cmp_dir.join("comparison.md")).unwrap();
    assert!(
        md.lines()
            .nth(2)
            .unwrap()
            .ends_with(&format!("| emodb {:.4} |", by_hand.uar)),
        "{md}"
    );

    let bad = run(
        env!("CARGO_BIN_EXE_ser-train"),
        &[
            "--data",
            &p(&ravdess),
            "--protocol",
            "cross-corpus",
            "--model",
            "svm",
        ],
    );
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("needs --test-data"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn several_corpora_train_together_and_leave_one_corpus_out() {
    let tmp = tempfile::tempdir().unwrap();
    let ravdess = tmp.path().join("ravdess");
    let emodb = tmp.path().join("emodb");
    let cache = tmp.path().join("cache");
    write_corpus(&ravdess);
    common::write_emodb(&emodb);
    let p = |p: &PathBuf| p.to_str().unwrap().to_owned();

    // The summary names both corpora and their namespaced speakers.
    let summary = run(
        env!("CARGO_BIN_EXE_ser-train"),
        &["--data", &p(&ravdess), "--data", &p(&emodb), "--summary"],
    );
    assert!(summary.status.success(), "{}", text(&summary.stderr));
    let stdout = text(&summary.stdout);
    assert!(stdout.contains("Per corpus:"), "{stdout}");
    assert!(
        stdout.contains("ravdess:01") && stdout.contains("emodb:03"),
        "{stdout}"
    );

    let out = tmp.path().join("loco");
    let train = run(
        env!("CARGO_BIN_EXE_ser-train"),
        &[
            "--data",
            &p(&ravdess),
            "--data",
            &p(&emodb),
            "--protocol",
            "leave-one-corpus-out",
            "--fold",
            "all",
            "--model",
            "svm",
            "--preset",
            "seed",
            "--balance",
            "corpus-class",
            "--out",
            &p(&out),
            "--cache-dir",
            &p(&cache),
        ],
    );
    assert!(train.status.success(), "{}", text(&train.stderr));
    // Fold 1 tests RAVDESS (trained on EmoDB), fold 2 tests EmoDB (trained on RAVDESS); no
    // speaker on two sides, the corpus of every test clip is the held-out one.
    for (fold, held_out, other) in [(1, "ravdess", "emodb"), (2, "emodb", "ravdess")] {
        let dir = out.join(format!("fold-{fold}"));
        let info = read_json(&dir.join("ser-run.json"));
        assert_eq!(info["protocol"]["kind"], "leave_one_corpus_out");
        assert!(
            info["extra_data_dirs"][0]
                .as_str()
                .unwrap()
                .ends_with("emodb")
        );
        let side = |name: &str| -> Vec<String> {
            info[name]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect()
        };
        let (tr, va, te) = (
            side("train_speakers"),
            side("val_speakers"),
            side("test_speakers"),
        );
        assert!(te.iter().all(|s| s.starts_with(held_out)), "{te:?}");
        assert!(
            tr.iter().chain(&va).all(|s| s.starts_with(other)),
            "{tr:?} {va:?}"
        );
        let model = read_json(&dir.join("classic-model.json"));
        assert_eq!(model["config"]["balance"], "corpus-class");
        let metrics = read_json(&dir.join("metrics.json"));
        let per_corpus = metrics["per_corpus"].as_array().unwrap();
        assert_eq!(per_corpus.len(), 1);
        assert_eq!(per_corpus[0]["corpus"], held_out);
        // Shared emotions only (EmoDB lacks calm and surprised).
        assert_eq!(
            metrics["report"]["class_names"].as_array().unwrap().len(),
            6
        );
        let predictions = std::fs::read_to_string(dir.join("predictions.csv")).unwrap();
        assert!(predictions.lines().next().unwrap().ends_with(",corpus"));
        assert!(predictions.lines().skip(1).all(|l| l.ends_with(held_out)));
    }
    let aggregate = read_json(&out.join("metrics.json"));
    let corpora: Vec<&str> = aggregate["per_corpus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["corpus"].as_str().unwrap())
        .collect();
    assert_eq!(corpora, ["ravdess", "emodb"]);

    // The protocol name a report prints is accepted back; the union in 2 speaker folds mixes
    // both corpora on each test side, with a union label map of all 8 emotions.
    let union = tmp.path().join("union");
    let train = run(
        env!("CARGO_BIN_EXE_ser-train"),
        &[
            "--data",
            &p(&ravdess),
            "--data",
            &p(&emodb),
            "--protocol",
            "speaker-2-fold",
            "--model",
            "svm",
            "--preset",
            "seed",
            "--out",
            &p(&union),
            "--cache-dir",
            &p(&cache),
        ],
    );
    assert!(train.status.success(), "{}", text(&train.stderr));
    let metrics = read_json(&union.join("fold-1").join("metrics.json"));
    assert_eq!(
        metrics["report"]["class_names"].as_array().unwrap().len(),
        8
    );
    assert_eq!(metrics["per_corpus"].as_array().unwrap().len(), 2);

    // Wrong combinations are refused with the reason.
    let bad = run(
        env!("CARGO_BIN_EXE_ser-train"),
        &[
            "--data",
            &p(&ravdess),
            "--data",
            &p(&emodb),
            "--test-data",
            &p(&emodb),
            "--model",
            "svm",
        ],
    );
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("leave-one-corpus-out"),
        "{}",
        text(&bad.stderr)
    );
    let bad = run(
        env!("CARGO_BIN_EXE_ser-train"),
        &[
            "--data",
            &p(&ravdess),
            "--protocol",
            "leave-one-corpus-out",
            "--model",
            "svm",
        ],
    );
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("at least 2 corpora"),
        "{}",
        text(&bad.stderr)
    );
}
