//! A published row (`results/models/<row>/metrics.json`: the aggregate with its ROC curve
//! points removed by `cargo xtask results`) is compared like a run folder, with its figures.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use ser_run::eval::{EvalOptions, compare};

#[test]
fn a_published_row_is_compared_from_its_metrics_alone() {
    let published =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/published/svm-full-stats-seed");
    let text = std::fs::read_to_string(published.join("metrics.json")).unwrap();
    assert!(
        text.contains("removed to keep results/ small"),
        "a stripped file"
    );
    let out = tempfile::tempdir().unwrap();
    let rows = compare(
        std::slice::from_ref(&published),
        out.path(),
        &EvalOptions::default(),
    )
    .unwrap();
    assert_eq!(rows.len(), 1);
    // The figures of results/comparison.md's row svm-full-stats-seed.
    assert_eq!(format!("{:.4}", rows[0].uar.mean), "0.5286");
    assert_eq!(format!("{:.4}", rows[0].uar.std), "0.0772");
    assert_eq!(format!("{:.4}", rows[0].accuracy.mean), "0.5437");
    let md = std::fs::read_to_string(out.path().join("comparison.md")).unwrap();
    assert!(
        md.contains("| svm-full-stats-seed | svm | full/seed |"),
        "{md}"
    );

    // Anything else that does not parse is still called corrupted.
    let broken = out.path().join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(
        broken.join("metrics.json"),
        text.replace("\"uar\"", "\"unweighted\""),
    )
    .unwrap();
    let e = compare(&[broken], &out.path().join("o"), &EvalOptions::default()).unwrap_err();
    assert!(e.to_string().contains("corrupted metrics file"), "{e}");
}
