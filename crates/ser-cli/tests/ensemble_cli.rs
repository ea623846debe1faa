//! End-to-end test of ensembles: three k-fold runs of different families (an SVM and a
//! perceptron ensemble on utterance statistics, a CNN on the frames) trained by `ser-train` on
//! a generated corpus, combined by `ser-eval --ensemble`, evaluated and used by `ser-predict`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::{EMOTIONS, read_json, run, s, text, write_corpus};

/// `path -> probabilities` of a fold's `predictions.csv`.
fn predictions(dir: &Path) -> HashMap<String, Vec<f64>> {
    let text = std::fs::read_to_string(dir.join("predictions.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[3], "p_neutral", "{header:?}");
    lines
        .map(|l| {
            let fields: Vec<&str> = l.split(',').collect();
            let probs = fields[3..].iter().map(|v| v.parse().unwrap()).collect();
            (fields[0].to_owned(), probs)
        })
        .collect()
}

fn train(data: &Path, cache: &Path, out: &Path, protocol: &str, extra: &[&str]) {
    let mut args = vec![
        "--data",
        s(data),
        "--protocol",
        protocol,
        "--fold",
        "all",
        "--out",
        s(out),
        "--cache-dir",
        s(cache),
    ];
    args.extend_from_slice(extra);
    if !extra.contains(&"--preset") {
        args.extend(["--preset", "seed"]);
    }
    let out = run(env!("CARGO_BIN_EXE_ser-train"), &args);
    assert!(
        out.status.success(),
        "ser-train {extra:?} failed:\n{}",
        text(&out.stderr)
    );
}

fn predict_json(model: &Path, clip: &Path) -> Vec<f64> {
    let out = run(
        env!("CARGO_BIN_EXE_ser-predict"),
        &[s(clip), "--model", s(model), "--json"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let value: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    EMOTIONS
        .iter()
        .map(|e| value["probabilities"][e].as_f64().unwrap())
        .collect()
}

#[test]
fn ensembles_average_their_members_in_evaluation_and_prediction() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("corpus");
    let cache = tmp.path().join("cache");
    write_corpus(&data);
    let svm = tmp.path().join("svm");
    let mlp = tmp.path().join("mlp");
    let cnn = tmp.path().join("cnn");
    train(
        &data,
        &cache,
        &svm,
        "kfold:4",
        &["--model", "svm", "--pooling", "mean-std"],
    );
    train(
        &data,
        &cache,
        &mlp,
        "kfold:4",
        &["--model", "mlp", "--pooling", "stats"],
    );
    train(
        &data,
        &cache,
        &cnn,
        "kfold:4",
        &["--model", "cnn", "--features", "mfcc", "--epochs", "2"],
    );
    // The perceptrons separate the tones like the other classical models.
    let mlp_metrics = read_json(&mlp.join("metrics.json"));
    let pooled = mlp_metrics["cross_validation"]["pooled"]["accuracy"]
        .as_f64()
        .unwrap();
    assert!(pooled > 0.5, "mlp pooled accuracy {pooled}");

    let ens = tmp.path().join("ensemble");
    let out = run(
        env!("CARGO_BIN_EXE_ser-eval"),
        &[
            "--ensemble",
            s(&svm),
            s(&mlp),
            s(&cnn),
            "--weights",
            "2,1,1",
            "--out",
            s(&ens),
            "--cache-dir",
            s(&cache),
        ],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("ensemble of 3 runs, 4 fold(s)"), "{stdout}");
    assert!(stdout.contains("mean ± std over 4 folds"), "{stdout}");
    let aggregate = read_json(&ens.join("metrics.json"));
    assert_eq!(aggregate["kind"], "cross-validation");

    // Each fold's probabilities are the weighted mean of its members' (weights 1/2, 1/4, 1/4).
    for fold in 1..=4 {
        let name = format!("fold-{fold}");
        let spec = read_json(&ens.join(&name).join("ensemble.json"));
        assert_eq!(spec["members"][0]["run_dir"], format!("../../svm/{name}"));
        let info = read_json(&ens.join(&name).join("ser-run.json"));
        assert_eq!(info["model"], "ensemble");
        let mean = predictions(&ens.join(&name));
        let members: Vec<_> = [&svm, &mlp, &cnn]
            .iter()
            .map(|m| predictions(&m.join(&name)))
            .collect();
        assert_eq!(mean.len(), members[0].len());
        for (path, p) in &mean {
            for (c, &value) in p.iter().enumerate() {
                let expected = 0.5 * members[0][path][c]
                    + 0.25 * members[1][path][c]
                    + 0.25 * members[2][path][c];
                assert!(
                    (value - expected).abs() < 1e-5,
                    "{path} class {c}: {value} vs {expected}"
                );
            }
        }
    }

    // ser-predict reads an ensemble fold like any run folder, with the same weighted mean.
    let clip = data.join("Actor_01/03-01-05-01-01-01-01.wav");
    let fold = ens.join("fold-1");
    let got = predict_json(&fold, &clip);
    let parts: Vec<Vec<f64>> = [&svm, &mlp, &cnn]
        .iter()
        .map(|m| predict_json(&m.join("fold-1"), &clip))
        .collect();
    for c in 0..8 {
        let expected = 0.5 * parts[0][c] + 0.25 * parts[1][c] + 0.25 * parts[2][c];
        assert!(
            (got[c] - expected).abs() < 1e-5,
            "class {c}: {} vs {expected}",
            got[c]
        );
    }

    // A moved ensemble folder still finds members named relative to it only if they moved
    // with it: here they did not, so the error names the missing member.
    let moved = tmp.path().join("elsewhere/deeper/ensemble-fold");
    std::fs::create_dir_all(moved.parent().unwrap()).unwrap();
    std::fs::rename(&fold, &moved).unwrap();
    let out = run(
        env!("CARGO_BIN_EXE_ser-predict"),
        &[s(&clip), "--model", s(&moved)],
    );
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.starts_with("error: ") && stderr.contains("member ../../svm/fold-1"),
        "{stderr}"
    );
}

#[test]
fn ensembles_of_mismatched_runs_are_refused_before_writing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("corpus");
    let cache = tmp.path().join("cache");
    write_corpus(&data);
    let four = tmp.path().join("svm-4");
    let two = tmp.path().join("knn-2");
    let other_split = tmp.path().join("knn-2-speech16k");
    train(&data, &cache, &four, "kfold:4", &["--model", "svm"]);
    train(&data, &cache, &two, "kfold:2", &["--model", "knn"]);
    train(
        &data,
        &cache,
        &other_split,
        "kfold:2",
        &["--model", "knn", "--preset", "speech16k"],
    );
    let out_dir = tmp.path().join("ens");
    let cases: Vec<(Vec<PathBuf>, Vec<&str>, &str)> = vec![
        (
            vec![four.clone(), two.clone()],
            vec![],
            "2 fold folders, but",
        ),
        (
            vec![two.clone(), four.clone()],
            vec![],
            "4 fold folders, but",
        ),
        (
            vec![two.clone(), other_split.clone()],
            vec![],
            "different feature extraction",
        ),
        (
            vec![four.clone(), four.clone()],
            vec!["--weights", "1,2,3"],
            "3 weights for 2 member runs",
        ),
        (
            vec![four.clone()],
            vec!["--weights", "0"],
            "weights must be finite and > 0",
        ),
        (vec![tmp.path().join("nothing")], vec![], "no such folder"),
    ];
    for (members, extra, message) in cases {
        let mut args: Vec<&str> = vec!["--ensemble"];
        args.extend(members.iter().map(|m| s(m)));
        args.extend(extra);
        args.extend(["--out", s(&out_dir), "--cache-dir", s(&cache)]);
        let out = run(env!("CARGO_BIN_EXE_ser-eval"), &args);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(message),
            "{args:?}: {stderr}"
        );
        assert!(!out_dir.exists(), "{args:?} wrote {}", out_dir.display());
    }
}
