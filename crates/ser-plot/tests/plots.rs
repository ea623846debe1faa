//! Every plot writes a decodable PNG of the documented size, whose outer
//! frame is blank (nothing clipped at the canvas edge), and an SVG that
//! contains the labels.

#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::Path;

use proptest::prelude::*;
use ser_metrics::{CrossValidationReport, FoldPredictions, Report, Scores};
use ser_plot::{
    CONFUSION_MATRIX_SIZE_PX, MODEL_COMPARISON_SIZE_PX, MeanStd, ModelComparison, ModelScores,
    OutputPaths, PlotError, ROC_SIZE_PX, RocLine, RocPlot, TRAINING_CURVES_SIZE_PX,
    TrainingHistory, plot_confusion_matrix, plot_model_comparison, plot_roc_curves,
    plot_roc_summary, plot_training_curves,
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

/// A decoded 8-bit RGB image.
struct Rgb {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

impl Rgb {
    fn at(&self, x: u32, y: u32) -> [u8; 3] {
        let i = (y as usize * self.width as usize + x as usize) * 3;
        [self.pixels[i], self.pixels[i + 1], self.pixels[i + 2]]
    }
}

/// Checks the PNG signature and IHDR by hand, then decodes the image.
fn read_png(path: &Path) -> Rgb {
    let bytes = fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR", "first chunk is IHDR");
    let ihdr_w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let ihdr_h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());

    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((info.width, info.height), (ihdr_w, ihdr_h));
    assert_eq!(info.color_type, png::ColorType::Rgb);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    pixels.truncate(info.buffer_size());
    Rgb {
        width: info.width,
        height: info.height,
        pixels,
    }
}

/// Asserts the expected size, a blank (white) frame `margin` pixels wide
/// all around, and some non-white content.
fn check_png(path: &Path, size: (u32, u32), margin: u32) -> Rgb {
    let img = read_png(path);
    assert_eq!((img.width, img.height), size, "{}", path.display());
    let mut inked = 0usize;
    for y in 0..img.height {
        for x in 0..img.width {
            let px = img.at(x, y);
            let border =
                x < margin || y < margin || x >= img.width - margin || y >= img.height - margin;
            if border {
                assert_eq!(
                    px,
                    [255, 255, 255],
                    "{}: ink at ({x}, {y}) near the edge",
                    path.display()
                );
            } else if px != [255, 255, 255] {
                inked += 1;
            }
        }
    }
    assert!(inked > 1000, "{}: almost blank", path.display());
    img
}

fn read_svg(path: &Path) -> String {
    let svg = fs::read_to_string(path).unwrap();
    assert!(
        svg.starts_with("<svg") || svg.starts_with("<?xml"),
        "{}",
        &svg[..40.min(svg.len())]
    );
    assert!(svg.trim_end().ends_with("</svg>"));
    svg
}

/// The contents of every `<text>` element (plotters writes them on their own lines).
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..];
            Some(body[..body.find("</text>")?].trim().to_owned())
        })
        .collect()
}

fn has_text(svg: &str, wanted: &str) -> bool {
    svg_texts(svg).iter().any(|t| t == wanted)
}

fn no_temp_files(dir: &Path) {
    for entry in fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name();
        assert!(
            !name.to_string_lossy().ends_with(".tmp"),
            "left over {name:?}"
        );
    }
}

fn confusion_counts(n: usize) -> Vec<Vec<u64>> {
    (0..n)
        .map(|t| {
            (0..n)
                .map(|p| {
                    if t == p {
                        30 + t as u64
                    } else {
                        ((t * 7 + p * 3) % 6) as u64
                    }
                })
                .collect()
        })
        .collect()
}

#[test]
fn confusion_matrix_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let out = OutputPaths::from_stem(dir.path().join("cm"));
    plot_confusion_matrix(&confusion_counts(8), &NAMES, "Confusion & <matrix>", &out).unwrap();
    check_png(&out.png, CONFUSION_MATRIX_SIZE_PX, 4);
    let svg = read_svg(&out.svg);
    for name in NAMES {
        // Each name labels both axes.
        let n = svg_texts(&svg).iter().filter(|t| *t == name).count();
        assert!(n >= 2, "{name} found {n} times");
    }
    assert!(
        has_text(&svg, "Confusion &amp; &lt;matrix&gt;"),
        "title escaped"
    );
    assert!(has_text(&svg, "Predicted label") && has_text(&svg, "True label"));
    no_temp_files(dir.path());
}

#[test]
fn confusion_matrix_colours_follow_row_shares() {
    // A perfect classifier: dark diagonal, white-ish off-diagonal cells.
    let dir = tempfile::tempdir().unwrap();
    let out = OutputPaths::from_stem(dir.path().join("perfect"));
    let counts: Vec<Vec<u64>> = (0..4)
        .map(|t| (0..4).map(|p| u64::from(t == p) * 10).collect())
        .collect();
    plot_confusion_matrix(&counts, &NAMES[..4], "Perfect", &out).unwrap();
    let img = check_png(&out.png, CONFUSION_MATRIX_SIZE_PX, 4);
    // Count dark-blue pixels (the colour-map end) and light ones: both must occur.
    let (mut dark, mut light) = (0, 0);
    for y in 0..img.height {
        for x in 0..img.width {
            match img.at(x, y) {
                [r, g, b] if b > 90 && r < 20 && g < 60 => dark += 1,
                [r, g, b] if r > 240 && g > 245 && b == 255 && r < 255 => light += 1,
                _ => {}
            }
        }
    }
    assert!(
        dark > 4 * 1000,
        "four dark diagonal cells, got {dark} dark pixels"
    );
    assert!(
        light > 12 * 1000,
        "twelve light cells, got {light} light pixels"
    );
}

#[test]
fn long_names_and_many_classes_are_not_clipped() {
    let dir = tempfile::tempdir().unwrap();
    let long: Vec<String> = NAMES
        .iter()
        .map(|n| format!("{n} — a very long descriptive class name"))
        .collect();
    let out = OutputPaths::from_stem(dir.path().join("long"));
    plot_confusion_matrix(&confusion_counts(8), &long, "Long names", &out).unwrap();
    check_png(&out.png, CONFUSION_MATRIX_SIZE_PX, 4);
    assert!(
        read_svg(&out.svg).contains('…'),
        "long names are abbreviated"
    );

    let names: Vec<String> = (0..20).map(|i| format!("class {i}")).collect();
    let out = OutputPaths::from_stem(dir.path().join("many"));
    plot_confusion_matrix(&confusion_counts(20), &names, "20 classes", &out).unwrap();
    check_png(&out.png, CONFUSION_MATRIX_SIZE_PX, 4);
    assert!(has_text(&read_svg(&out.svg), "class 19"));
}

fn sample_report() -> Report {
    let n = 160;
    let y_true: Vec<usize> = (0..n).map(|i| i % 8).collect();
    let rows: Vec<Vec<f32>> = y_true
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            (0..8)
                .map(|c| {
                    let noise = ((i * 31 + c * 17) % 23) as f32 / 23.0;
                    if c == t { 0.5 + noise } else { noise }
                })
                .collect()
        })
        .collect();
    let scores = Scores::from_rows(&rows).unwrap();
    Report::with_scores(&y_true, &scores.argmax(), &scores, &NAMES).unwrap()
}

#[test]
fn roc_summary_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let out = OutputPaths::from_stem(dir.path().join("roc"));
    let report = sample_report();
    plot_roc_summary(report.roc.as_ref().unwrap(), "ROC", &out).unwrap();
    check_png(&out.png, ROC_SIZE_PX, 4);
    let svg = read_svg(&out.svg);
    for name in NAMES {
        let prefix = format!("{name} (AUC = ");
        assert!(
            svg_texts(&svg).iter().any(|t| t.starts_with(&prefix)),
            "{name} missing from legend"
        );
    }
    let texts = svg_texts(&svg);
    for prefix in ["micro-average (AUC = 0.", "macro-average (AUC = 0."] {
        assert!(
            texts.iter().any(|t| t.starts_with(prefix)),
            "{prefix} missing"
        );
    }
    assert!(has_text(&svg, "chance (AUC = 0.500)"));
}

#[test]
fn roc_curves_reject_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = OutputPaths::from_stem(dir.path().join("bad"));
    let line = RocLine {
        label: "a",
        fpr: &[0.0, 1.0],
        tpr: &[0.0],
        auc: 0.5,
    };
    let plot = RocPlot {
        classes: vec![line],
        ..RocPlot::default()
    };
    assert!(matches!(
        plot_roc_curves(&plot, "t", &out),
        Err(PlotError::LengthMismatch { expected: 2, actual: 1, ref path, .. }) if path == &out.png
    ));
    let line = RocLine {
        label: "a",
        fpr: &[0.0, f64::NAN],
        tpr: &[0.0, 1.0],
        auc: 0.5,
    };
    let plot = RocPlot {
        classes: vec![line],
        ..RocPlot::default()
    };
    assert!(matches!(
        plot_roc_curves(&plot, "t", &out),
        Err(PlotError::NonFinite { index: 1, .. })
    ));
    assert!(matches!(
        plot_roc_curves(&RocPlot::default(), "t", &out),
        Err(PlotError::Empty {
            what: "ROC curves",
            ..
        })
    ));
    assert!(!out.png.exists() && !out.svg.exists());
}

#[test]
fn training_curves_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let epochs = 25;
    let decay = |scale: f64, floor: f64| -> Vec<f64> {
        (0..epochs)
            .map(|e| floor + scale * (-(e as f64) / 6.0).exp())
            .collect()
    };
    let rise = |top: f64| -> Vec<f64> {
        (0..epochs)
            .map(|e| 0.125 + (top - 0.125) * (1.0 - (-(e as f64) / 5.0).exp()))
            .collect()
    };
    let history = TrainingHistory {
        train_loss: decay(1.8, 0.3),
        val_loss: decay(1.4, 0.8),
        train_accuracy: rise(0.95),
        val_accuracy: rise(0.6),
        train_uar: rise(0.94),
        val_uar: rise(0.58),
    };
    let out = OutputPaths::from_stem(dir.path().join("training"));
    plot_training_curves(&history, "Training", &out).unwrap();
    check_png(&out.png, TRAINING_CURVES_SIZE_PX, 4);
    let svg = read_svg(&out.svg);
    for label in [
        "train accuracy",
        "val accuracy",
        "train UAR",
        "val UAR",
        "validation",
        "Epoch",
    ] {
        assert!(has_text(&svg, label), "{label} missing");
    }
    let best = svg_texts(&svg)
        .into_iter()
        .find(|t| t.starts_with("best val UAR"));
    assert_eq!(
        best.as_deref(),
        Some("best val UAR 57.6% (epoch 25)"),
        "best epoch marked"
    );

    // A single epoch and partly missing series still render.
    let one = TrainingHistory {
        val_accuracy: vec![0.3],
        ..TrainingHistory::default()
    };
    let out = OutputPaths::from_stem(dir.path().join("one"));
    plot_training_curves(&one, "One epoch", &out).unwrap();
    check_png(&out.png, TRAINING_CURVES_SIZE_PX, 4);
}

#[test]
fn training_curves_reject_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = OutputPaths::from_stem(dir.path().join("bad"));
    assert!(matches!(
        plot_training_curves(&TrainingHistory::default(), "t", &out),
        Err(PlotError::Empty { .. })
    ));
    let pct = TrainingHistory {
        val_uar: vec![0.5, 62.0],
        ..TrainingHistory::default()
    };
    assert!(matches!(
        plot_training_curves(&pct, "t", &out),
        Err(PlotError::OutOfRange {
            what: "val_uar",
            index: 1,
            ..
        })
    ));
    let nan = TrainingHistory {
        train_loss: vec![1.0, f64::NAN],
        ..TrainingHistory::default()
    };
    assert!(matches!(
        plot_training_curves(&nan, "t", &out),
        Err(PlotError::NonFinite {
            what: "train_loss",
            index: 1,
            ..
        })
    ));
}

#[test]
fn model_comparison_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let ms = |mean, std| MeanStd { mean, std };
    let chart = ModelComparison {
        metric_names: vec!["UAR".into(), "Accuracy".into()],
        models: ["SVM", "Random forest", "CNN", "CNN+LSTM"]
            .iter()
            .enumerate()
            .map(|(i, m)| ModelScores {
                model: (*m).into(),
                values: vec![
                    ms(0.4 + 0.08 * i as f64, 0.05),
                    ms(0.42 + 0.08 * i as f64, 0.04),
                ],
            })
            .collect(),
        chance_level: Some(0.125),
    };
    let out = OutputPaths::from_stem(dir.path().join("cmp"));
    plot_model_comparison(&chart, "Models", &out).unwrap();
    check_png(&out.png, MODEL_COMPARISON_SIZE_PX, 4);
    let svg = read_svg(&out.svg);
    for label in [
        "SVM",
        "Random forest",
        "CNN+LSTM",
        "UAR",
        "Accuracy",
        "chance (12.5%)",
        "64.0",
    ] {
        assert!(has_text(&svg, label), "{label} missing");
    }

    // Many models with long names: labels turn vertical, still inside the canvas.
    let many = ModelComparison {
        metric_names: vec!["UAR".into()],
        models: (0..12)
            .map(|i| ModelScores {
                model: format!("model number {i} (tuned)"),
                values: vec![ms(0.5, 0.1)],
            })
            .collect(),
        chance_level: None,
    };
    let out = OutputPaths::from_stem(dir.path().join("many"));
    plot_model_comparison(&many, "Many", &out).unwrap();
    check_png(&out.png, MODEL_COMPARISON_SIZE_PX, 4);
}

#[test]
fn model_comparison_from_fold_aggregates() {
    let fold = |shift: usize| FoldPredictions {
        y_true: (0..16).map(|i| i % 8).collect(),
        y_pred: (0..16)
            .map(|i| if i % 3 == 0 { (i + shift) % 8 } else { i % 8 })
            .collect(),
        scores: None,
    };
    let cv = CrossValidationReport::from_folds(&[fold(1), fold(2), fold(3)], &NAMES).unwrap();
    let chart =
        ModelComparison::uar_and_accuracy(&[("CNN", &cv.aggregate), ("LSTM", &cv.aggregate)]);
    assert_eq!(chart.metric_names, ["UAR", "Accuracy"]);
    assert_eq!(chart.chance_level, Some(0.125));
    assert_eq!(chart.models[1].values[0].mean, cv.aggregate.mean.uar);
    let dir = tempfile::tempdir().unwrap();
    let out = OutputPaths::new(dir.path().join("a.png"), dir.path().join("b.svg"));
    plot_model_comparison(&chart, "From folds", &out).unwrap();
    check_png(&out.png, MODEL_COMPARISON_SIZE_PX, 4);
    assert!(has_text(&read_svg(&out.svg), "LSTM"));
}

#[test]
fn model_comparison_rejects_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = OutputPaths::from_stem(dir.path().join("bad"));
    let chart = |values: Vec<MeanStd>| ModelComparison {
        metric_names: vec!["UAR".into(), "Accuracy".into()],
        models: vec![ModelScores {
            model: "m".into(),
            values,
        }],
        chance_level: None,
    };
    let ms = |mean, std| MeanStd { mean, std };
    assert!(matches!(
        plot_model_comparison(&chart(vec![ms(0.5, 0.1)]), "t", &out),
        Err(PlotError::LengthMismatch {
            expected: 2,
            actual: 1,
            ..
        })
    ));
    assert!(matches!(
        plot_model_comparison(&chart(vec![ms(0.5, 0.1), ms(55.0, 1.0)]), "t", &out),
        Err(PlotError::OutOfRange {
            what: "mean",
            index: 1,
            ..
        })
    ));
    assert!(matches!(
        plot_model_comparison(&chart(vec![ms(0.5, -0.1), ms(0.5, 0.1)]), "t", &out),
        Err(PlotError::OutOfRange {
            what: "std",
            index: 0,
            ..
        })
    ));
}

#[test]
fn unwritable_output_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let out = OutputPaths::from_stem(dir.path().join("missing/dir/cm"));
    let err = plot_confusion_matrix(&confusion_counts(2), &NAMES[..2], "t", &out).unwrap_err();
    assert!(
        matches!(&err, PlotError::Io { path, .. } if path == &out.png),
        "{err}"
    );
    assert!(err.to_string().contains("missing/dir/cm.png"));
}

#[test]
fn confusion_matrix_rejects_bad_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let out = OutputPaths::from_stem(dir.path().join("bad"));
    let no_names: [&str; 0] = [];
    assert!(matches!(
        plot_confusion_matrix(&[], &no_names, "t", &out),
        Err(PlotError::Empty {
            what: "class_names",
            ..
        })
    ));
    assert!(matches!(
        plot_confusion_matrix(&confusion_counts(3), &NAMES[..2], "t", &out),
        Err(PlotError::LengthMismatch {
            expected: 2,
            actual: 3,
            ..
        })
    ));
    assert!(matches!(
        plot_confusion_matrix(&[vec![1, 2], vec![3]], &NAMES[..2], "t", &out),
        Err(PlotError::LengthMismatch {
            expected: 2,
            actual: 1,
            ..
        })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn any_confusion_matrix_renders_inside_the_canvas(
        n in 1usize..14,
        seed in any::<u64>(),
        name_len in 1usize..40,
    ) {
        let mut state = seed | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let counts: Vec<Vec<u64>> = (0..n).map(|_| (0..n).map(|_| next() % 1000).collect()).collect();
        let names: Vec<String> = (0..n).map(|i| format!("{i}{}", "w".repeat(name_len))).collect();
        let dir = tempfile::tempdir().unwrap();
        let out = OutputPaths::from_stem(dir.path().join("cm"));
        plot_confusion_matrix(&counts, &names, "Random", &out).unwrap();
        check_png(&out.png, CONFUSION_MATRIX_SIZE_PX, 3);
        prop_assert!(has_text(&read_svg(&out.svg), "Random"));
    }
}
