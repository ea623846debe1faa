//! Prints the classification report and the `metrics.json` layout of a small evaluation.
//!
//! `cargo run --release -p ser-metrics --example report_json`

use ser_metrics::{Report, RocPoints, Scores};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let names = ["neutral", "happy", "sad"];
    let y_true = [0, 1, 2, 2];
    let scores = Scores::from_rows(&[
        [0.7, 0.2, 0.1],
        [0.2, 0.5, 0.3],
        [0.1, 0.3, 0.6],
        [0.3, 0.4, 0.3],
    ])?;
    let report = Report::new(
        &y_true,
        &scores.argmax(),
        Some(&scores),
        &names,
        RocPoints::DropIntermediate,
    )?;
    println!("{}", report.classification_report());
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
