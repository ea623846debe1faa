//! Compares every metric with golden values computed by scikit-learn
//! (`tests/fixtures/make_golden.py` writes `tests/fixtures/golden.json`).

#![allow(clippy::unwrap_used)]

use ser_metrics::{CrossValidationReport, FoldPredictions, Report, RocCurve, RocPoints, Scores};
use serde_json::Value;

const TOL: f64 = 1e-6;

fn golden() -> Value {
    let text = include_str!("fixtures/golden.json");
    serde_json::from_str(text).expect("golden.json parses")
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(f).collect()
}

fn labels(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| usize::try_from(x.as_u64().expect("label")).expect("fits"))
        .collect()
}

fn names(g: &Value) -> Vec<String> {
    g["class_names"]
        .as_array()
        .expect("names")
        .iter()
        .map(|n| n.as_str().expect("name").to_owned())
        .collect()
}

fn scores(v: &Value) -> Scores {
    let rows: Vec<Vec<f32>> = v
        .as_array()
        .expect("rows")
        .iter()
        // Every value is the exact f64 of an f32, so the cast is lossless.
        .map(|r| floats(r).into_iter().map(|x| x as f32).collect())
        .collect();
    Scores::from_rows(&rows).expect("valid scores")
}

#[track_caller]
fn close(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= TOL,
        "{what}: got {got}, sklearn {want} (diff {})",
        (got - want).abs()
    );
}

#[track_caller]
fn close_all(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        close(&format!("{what}[{i}]"), *g, *w);
    }
}

fn check_curve(what: &str, got: &RocCurve, want: &Value) {
    close_all(&format!("{what}.fpr"), &got.fpr, &floats(&want["fpr"]));
    close_all(&format!("{what}.tpr"), &got.tpr, &floats(&want["tpr"]));
    let thresholds: Vec<f64> = want["thresholds"]
        .as_array()
        .expect("thresholds")
        .iter()
        .map(|t| t.as_f64().unwrap_or(f64::INFINITY))
        .collect();
    // Thresholds are scores themselves: they must match exactly.
    assert_eq!(got.thresholds, thresholds, "{what}.thresholds");
}

/// Checks the label metrics and ROC analysis of `report`; returns how many
/// curves were compared point by point (the fixture stores curves only for
/// the smaller cases).
fn check_report(case: &str, report: &Report, want: &Value) -> usize {
    close(
        &format!("{case} accuracy"),
        report.accuracy,
        f(&want["accuracy"]),
    );
    close(&format!("{case} uar"), report.uar, f(&want["uar"]));
    for (key, prf) in [
        ("macro", report.macro_avg),
        ("weighted", report.weighted_avg),
    ] {
        close(
            &format!("{case} {key} precision"),
            prf.precision,
            f(&want[key]["precision"]),
        );
        close(
            &format!("{case} {key} recall"),
            prf.recall,
            f(&want[key]["recall"]),
        );
        close(&format!("{case} {key} f1"), prf.f1, f(&want[key]["f1"]));
    }
    let per: Vec<_> = report.per_class.values().copied().collect();
    close_all(
        &format!("{case} precision"),
        &per.iter().map(|c| c.precision).collect::<Vec<_>>(),
        &floats(&want["precision"]),
    );
    close_all(
        &format!("{case} recall"),
        &per.iter().map(|c| c.recall).collect::<Vec<_>>(),
        &floats(&want["recall"]),
    );
    close_all(
        &format!("{case} f1"),
        &per.iter().map(|c| c.f1).collect::<Vec<_>>(),
        &floats(&want["f1"]),
    );
    let support: Vec<u64> = per.iter().map(|c| c.support).collect();
    let want_support: Vec<u64> = labels(&want["support"]).iter().map(|&s| s as u64).collect();
    assert_eq!(support, want_support, "{case} support");

    let want_cm: Vec<Vec<u64>> = want["confusion"]
        .as_array()
        .expect("cm")
        .iter()
        .map(|r| labels(r).iter().map(|&c| c as u64).collect())
        .collect();
    assert_eq!(
        report.confusion_matrix.counts(),
        want_cm.as_slice(),
        "{case} confusion"
    );
    for (i, row) in want["confusion_normalized"]
        .as_array()
        .expect("cmn")
        .iter()
        .enumerate()
    {
        close_all(
            &format!("{case} normalized row {i}"),
            &report.confusion_matrix_normalized[i],
            &floats(row),
        );
    }
    if let Some(text) = want["report"].as_str() {
        assert_eq!(
            report.classification_report(),
            text,
            "{case} classification report"
        );
    }

    let (Some(roc), Some(want_roc)) = (&report.roc, want.get("roc")) else {
        panic!("{case}: ROC analysis expected");
    };
    close(
        &format!("{case} macro_auc"),
        roc.macro_auc.expect("macro auc"),
        f(&want_roc["macro_auc"]),
    );
    close(
        &format!("{case} micro_auc"),
        roc.micro_auc,
        f(&want_roc["micro"]["auc"]),
    );
    for (class, (name, auc)) in roc.auc.iter().enumerate() {
        let want_auc = &want_roc["auc"][class];
        match auc {
            Some(a) => close(&format!("{case} auc {name}"), *a, f(want_auc)),
            None => assert!(
                want_auc.is_null(),
                "{case} auc {name}: undefined but sklearn has {want_auc}"
            ),
        }
    }
    let key = match roc.points {
        RocPoints::All => "all",
        RocPoints::DropIntermediate => "dropped",
    };
    let mut curves_checked = 0;
    for (class, (name, curve)) in roc.per_class.iter().enumerate() {
        let want_curve = &want_roc["per_class"][class];
        match curve {
            Some(c) => {
                close(
                    &format!("{case} {name} curve auc"),
                    c.auc,
                    f(&want_curve["auc"]),
                );
                if let Some(points) = want_curve.get(key) {
                    check_curve(&format!("{case} {name} {key}"), c, points);
                    curves_checked += 1;
                }
            }
            None => assert!(want_curve.is_null(), "{case} {name}: curve expected"),
        }
    }
    if let Some(micro) = want_roc["micro"].get(key) {
        check_curve(&format!("{case} micro {key}"), &roc.micro, micro);
        curves_checked += 1;
    }
    let macro_curve = roc.macro_curve.as_ref().expect("macro curve");
    close(
        &format!("{case} macro curve auc"),
        macro_curve.auc,
        f(&want_roc["macro_curve"]["auc"]),
    );
    let idx = labels(&want_roc["macro_curve"]["indices"]);
    let got: Vec<f64> = idx.iter().map(|&i| macro_curve.tpr[i]).collect();
    close_all(
        &format!("{case} macro curve tpr"),
        &got,
        &floats(&want_roc["macro_curve"]["tpr"]),
    );
    curves_checked
}

#[test]
fn golden_values_were_generated_with_sklearn() {
    let g = golden();
    assert!(g["sklearn_version"].as_str().is_some_and(|v| !v.is_empty()));
    assert_eq!(names(&g).len(), 8);
}

#[test]
fn single_evaluations_match_sklearn() {
    let g = golden();
    let names = names(&g);
    let cases = g["cases"].as_array().expect("cases");
    assert!(cases.len() >= 6);
    let mut curves_checked = 0;
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let y_true = labels(&case["y_true"]);
        let y_pred = labels(&case["y_pred"]);
        let s = scores(&case["scores"]);
        for points in [RocPoints::All, RocPoints::DropIntermediate] {
            let report = Report::new(&y_true, &y_pred, Some(&s), &names, points)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            curves_checked += check_report(name, &report, &case["expected"]);
        }
    }
    // Both point sets, per class and micro, of several cases.
    assert!(
        curves_checked >= 60,
        "only {curves_checked} curves compared"
    );
}

#[test]
fn golden_cases_cover_the_edge_cases() {
    let g = golden();
    let cases = g["cases"].as_array().expect("cases");
    let mut never_predicted = false;
    let mut absent = false;
    for case in cases {
        let exp = &case["expected"];
        let support = labels(&exp["support"]);
        let cm = &exp["confusion"];
        let predicted: Vec<u64> = (0..8)
            .map(|p| (0..8).map(|t| cm[t][p].as_u64().expect("count")).sum())
            .collect();
        absent |= support.contains(&0);
        never_predicted |= support
            .iter()
            .zip(&predicted)
            .any(|(&s, &p)| s > 0 && p == 0);
    }
    assert!(never_predicted && absent);
}

#[test]
fn cross_validation_matches_numpy_mean_and_std() {
    let g = golden();
    let names = names(&g);
    let kfold = &g["kfold"];
    let fold_cases = kfold["folds"].as_array().expect("folds");
    let folds: Vec<FoldPredictions> = fold_cases
        .iter()
        .map(|c| FoldPredictions {
            y_true: labels(&c["y_true"]),
            y_pred: labels(&c["y_pred"]),
            scores: Some(scores(&c["scores"])),
        })
        .collect();
    let cv = CrossValidationReport::from_folds(&folds, &names).expect("cv");
    assert_eq!(cv.folds.len(), 6);
    for (i, (report, case)) in cv.folds.iter().zip(fold_cases).enumerate() {
        check_report(&format!("fold {i}"), report, &case["expected"]);
    }
    check_report("pooled", &cv.pooled, &kfold["pooled"]);

    let agg = &cv.aggregate;
    assert_eq!((agg.n_folds, agg.std_ddof), (6, 0));
    for (stat, m) in [("mean", &agg.mean), ("std", &agg.std)] {
        let want = &kfold[stat];
        close(
            &format!("{stat} accuracy"),
            m.accuracy,
            f(&want["accuracy"]),
        );
        close(&format!("{stat} uar"), m.uar, f(&want["uar"]));
        close(
            &format!("{stat} macro f1"),
            m.macro_avg.f1,
            f(&want["macro_f1"]),
        );
        close(
            &format!("{stat} weighted f1"),
            m.weighted_avg.f1,
            f(&want["weighted_f1"]),
        );
        close(
            &format!("{stat} macro auc"),
            m.macro_auc.expect("auc"),
            f(&want["macro_auc"]),
        );
        close(
            &format!("{stat} micro auc"),
            m.micro_auc.expect("auc"),
            f(&want["micro_auc"]),
        );
        let angry = m.per_class.get("angry").expect("angry");
        close(
            &format!("{stat} recall angry"),
            angry.recall,
            f(&want["recall_angry"]),
        );
    }
}
