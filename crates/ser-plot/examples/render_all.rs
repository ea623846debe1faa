//! Renders example plots into a folder (default `/tmp/ser-plot-examples`).
//!
//! `cargo run --release -p ser-plot --example render_all -- [out_dir]`

use std::path::PathBuf;

use ser_metrics::{Report, Scores};
use ser_plot::{
    MeanStd, ModelComparison, ModelScores, OutputPaths, TrainingHistory, plot_confusion_matrix,
    plot_model_comparison, plot_roc_summary, plot_training_curves,
};

const NAMES: [&str; 8] = [
    "neutral",
    "calm",
    "happy",
    "sad",
    "angry",
    "fearful",
    "disgust",
    "surprised",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .map_or_else(|| PathBuf::from("/tmp/ser-plot-examples"), PathBuf::from);
    std::fs::create_dir_all(&dir)?;

    // A plausible 8-class confusion matrix (RAVDESS-like supports).
    let counts: Vec<Vec<u64>> = (0..8)
        .map(|t| {
            (0..8)
                .map(|p| {
                    let support = if t == 0 { 96 } else { 192 };
                    if t == p {
                        support * (45 + 5 * t as u64) / 100
                    } else {
                        (support * (55 - 5 * t as u64) / 100) / 7 + ((t * 3 + p) % 4) as u64
                    }
                })
                .collect()
        })
        .collect();
    plot_confusion_matrix(
        &counts,
        &NAMES,
        "CNN — pooled over 6 folds",
        &OutputPaths::from_stem(dir.join("confusion")),
    )?;

    let long: Vec<String> = (0..8)
        .map(|i| format!("{} (speaker-independent)", NAMES[i]))
        .collect();
    plot_confusion_matrix(
        &counts,
        &long,
        "Long class names",
        &OutputPaths::from_stem(dir.join("confusion_long")),
    )?;

    let big: Vec<Vec<u64>> = (0..16)
        .map(|t| {
            (0..16)
                .map(|p| if t == p { 40 } else { (t + p) as u64 % 5 })
                .collect()
        })
        .collect();
    let big_names: Vec<String> = (0..16).map(|i| format!("class {i}")).collect();
    plot_confusion_matrix(
        &big,
        &big_names,
        "16 classes",
        &OutputPaths::from_stem(dir.join("confusion_16")),
    )?;
    // ROC curves from synthetic scores: class c is easier for larger c.
    let mut seed = 42u64;
    let mut uniform = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f32 / (1u64 << 53) as f32
    };
    let n = 480;
    let y_true: Vec<usize> = (0..n).map(|i| i % 8).collect();
    let rows: Vec<Vec<f32>> = y_true
        .iter()
        .map(|&t| {
            let mut r: Vec<f32> = (0..8).map(|_| uniform()).collect();
            r[t] += 0.25 + 0.12 * t as f32 * uniform();
            let s: f32 = r.iter().sum();
            r.iter().map(|v| v / s).collect()
        })
        .collect();
    let scores = Scores::from_rows(&rows)?;
    let y_pred = scores.argmax();
    let report = Report::with_scores(&y_true, &y_pred, &scores, &NAMES)?;
    if let Some(roc) = &report.roc {
        plot_roc_summary(
            roc,
            "ROC curves (one-vs-rest) — CNN",
            &OutputPaths::from_stem(dir.join("roc")),
        )?;
    }
    // Training curves of a typical run.
    let epochs = 60;
    let mut history = TrainingHistory::default();
    for e in 0..epochs {
        let t = e as f64;
        let noise = f64::from(uniform()) - 0.5;
        history
            .train_loss
            .push(2.08 * (-t / 14.0).exp() + 0.25 + 0.03 * noise);
        history.val_loss.push(
            1.6 * (-t / 10.0).exp()
                + 0.9
                + 0.004 * (t - 25.0).max(0.0).powi(2) / 10.0
                + 0.05 * noise,
        );
        history
            .train_accuracy
            .push((0.125 + 0.83 * (1.0 - (-t / 12.0).exp()) + 0.02 * noise).min(1.0));
        history
            .val_accuracy
            .push(0.125 + 0.5 * (1.0 - (-t / 9.0).exp()) + 0.04 * noise);
        history
            .train_uar
            .push((0.125 + 0.82 * (1.0 - (-t / 12.0).exp()) + 0.02 * noise).min(1.0));
        history
            .val_uar
            .push(0.125 + 0.49 * (1.0 - (-t / 9.0).exp()) + 0.04 * noise);
    }
    plot_training_curves(
        &history,
        "CNN — fold 3 training",
        &OutputPaths::from_stem(dir.join("training")),
    )?;
    let short = TrainingHistory {
        train_loss: vec![2.0, 1.5, 1.2, 1.1],
        val_loss: vec![2.1, 1.8, 1.7, 1.75],
        val_accuracy: vec![0.2, 0.35, 0.41, 0.4],
        ..TrainingHistory::default()
    };
    plot_training_curves(
        &short,
        "Short run",
        &OutputPaths::from_stem(dir.join("training_short")),
    )?;

    // Model comparison.
    let ms = |mean: f64, std: f64| MeanStd { mean, std };
    let models = [
        ("SVM (RBF)", 0.512, 0.041, 0.531, 0.038),
        ("Random forest", 0.468, 0.035, 0.489, 0.031),
        ("k-NN", 0.402, 0.052, 0.421, 0.048),
        ("CNN", 0.633, 0.047, 0.648, 0.044),
        ("LSTM", 0.561, 0.058, 0.577, 0.052),
        ("GRU", 0.574, 0.049, 0.589, 0.047),
        ("CNN+LSTM", 0.652, 0.039, 0.664, 0.036),
    ];
    let comparison = ModelComparison {
        metric_names: vec!["UAR".into(), "Accuracy".into()],
        models: models
            .iter()
            .map(|&(m, u, us, a, as_)| ModelScores {
                model: m.into(),
                values: vec![ms(u, us), ms(a, as_)],
            })
            .collect(),
        chance_level: Some(1.0 / 8.0),
    };
    plot_model_comparison(
        &comparison,
        "Speaker-independent 6-fold CV on RAVDESS",
        &OutputPaths::from_stem(dir.join("comparison")),
    )?;
    let many = ModelComparison {
        metric_names: vec!["UAR".into(), "Accuracy".into(), "Macro F1".into()],
        models: (0..11)
            .map(|i| ModelScores {
                model: format!("model {i} (tuned, augmented)"),
                values: vec![
                    ms(0.3 + 0.04 * f64::from(i), 0.05),
                    ms(0.32 + 0.04 * f64::from(i), 0.04),
                    ms(0.28 + 0.04 * f64::from(i), 0.06),
                ],
            })
            .collect(),
        chance_level: Some(1.0 / 8.0),
    };
    plot_model_comparison(
        &many,
        "Many models",
        &OutputPaths::from_stem(dir.join("comparison_many")),
    )?;
    println!("wrote plots to {}", dir.display());
    Ok(())
}
