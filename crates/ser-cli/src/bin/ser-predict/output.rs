//! How `ser-predict` prints a prediction: text, JSON lines or CSV rows.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use ser_run::{Model, predict};

use crate::args::Args;

/// Prints one file's prediction by one model; `adapted` (the `--adapt` record) goes into the
/// JSON object.
pub fn print_result(
    out: &mut impl Write,
    args: &Args,
    model: &Model,
    file: &Path,
    result: &predict::FilePrediction,
    adapted: Option<serde_json::Value>,
) -> Result<()> {
    let names = model.class_names();
    let path = file.display().to_string();
    if args.json {
        let mut value = result.to_json(&names);
        value["path"] = path.into();
        value["model"] = model.id().into();
        if let Some(adapted) = adapted {
            value["adapted"] = adapted;
        }
        writeln!(out, "{}", serde_json::to_string(&value)?)?;
        return Ok(());
    }
    if args.csv {
        let row = |start: f64, end: f64, label: &str, probs: Option<&[f32]>| {
            csv_row(&path, &model.id(), start, end, label, probs, names.len())
        };
        if args.timeline {
            for w in &result.windows {
                write!(
                    out,
                    "{}",
                    row(
                        w.start_s,
                        w.end_s,
                        w.label(&names),
                        w.probabilities.as_deref()
                    )
                )?;
            }
        }
        write!(
            out,
            "{}",
            row(
                0.0,
                result.duration_s,
                result.label(&names),
                result.probabilities.as_deref()
            )
        )?;
        return Ok(());
    }
    writeln!(out, "{path}  [{}]", model.id())?;
    writeln!(
        out,
        "  emotion: {}  ({:.1} s of audio)",
        result.label(&names),
        result.duration_s
    )?;
    if let Some(p) = &result.probabilities {
        for (name, v) in names.iter().zip(p) {
            let bar = "#".repeat((v * 40.0).round() as usize);
            writeln!(out, "    {name:<10} {:>6.1}%  {bar}", v * 100.0)?;
        }
    }
    if args.timeline {
        writeln!(out, "  timeline:")?;
        for w in &result.windows {
            let top = w
                .probabilities
                .as_ref()
                .map(|p| p.iter().cloned().fold(0.0_f32, f32::max) * 100.0);
            match top {
                Some(t) => writeln!(
                    out,
                    "    {:>7.2}-{:<7.2} s  {:<10} {t:5.1}%",
                    w.start_s,
                    w.end_s,
                    w.label(&names)
                )?,
                None => writeln!(
                    out,
                    "    {:>7.2}-{:<7.2} s  {}",
                    w.start_s,
                    w.end_s,
                    w.label(&names)
                )?,
            }
        }
    }
    Ok(())
}

/// The `--csv` header: the row columns, then one probability column per class.
pub fn csv_header(names: &[&str]) -> String {
    let columns = ["path", "model", "start_s", "end_s", "label"];
    ser_run::csv_text::record(columns.iter().chain(names))
}

/// One `--csv` row (`\n`-terminated): times to 10 ms, probabilities to six decimals, empty
/// probability cells where nothing was predicted (silence).
fn csv_row(
    path: &str,
    model: &str,
    start: f64,
    end: f64,
    label: &str,
    probs: Option<&[f32]>,
    n_classes: usize,
) -> String {
    let mut cells = vec![
        path.to_owned(),
        model.to_owned(),
        format!("{start:.2}"),
        format!("{end:.2}"),
        label.to_owned(),
    ];
    match probs {
        Some(p) => cells.extend(p.iter().map(|v| format!("{v:.6}"))),
        None => cells.extend((0..n_classes).map(|_| String::new())),
    }
    ser_run::csv_text::record(&cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_is_byte_for_byte_the_committed_text() {
        assert_eq!(
            csv_header(&["neutral", "happy"]),
            "path,model,start_s,end_s,label,neutral,happy\n"
        );
        // The text the hand-written writer produced for these rows.
        assert_eq!(
            csv_row(
                "a/x.wav",
                "svm",
                0.0,
                2.345,
                "happy",
                Some(&[0.25, 0.75]),
                2
            ),
            "a/x.wav,svm,0.00,2.35,happy,0.250000,0.750000\n"
        );
        assert_eq!(
            csv_row("a/x.wav", "svm", 1.0, 1.5, "silence", None, 2),
            "a/x.wav,svm,1.00,1.50,silence,,\n"
        );
        // Fields with commas, quotes and line breaks are quoted (ser_run::csv_text reads them back).
        let row = csv_row("a,\"b\"\r\n.wav", "m", 0.0, 1.0, "sad", None, 1);
        assert_eq!(row, "\"a,\"\"b\"\"\r\n.wav\",m,0.00,1.00,sad,\n");
    }
}
