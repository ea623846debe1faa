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
            let mut cells = vec![
                csv_cell(&path),
                csv_cell(&model.id()),
                format!("{start:.2}"),
                format!("{end:.2}"),
                label.to_owned(),
            ];
            match probs {
                Some(p) => cells.extend(p.iter().map(|v| format!("{v:.6}"))),
                None => cells.extend(names.iter().map(|_| String::new())),
            }
            cells.join(",")
        };
        if args.timeline {
            for w in &result.windows {
                writeln!(
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
        writeln!(
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

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}
