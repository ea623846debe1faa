//! `ser-train`: train speech emotion classifiers speaker-independently, or summarise a corpus.
//!
//! ```text
//! ser-train --data DIR --summary
//! ser-train --data DIR --model cnn-lstm [--protocol default] [--fold 1|all] [--out DIR]
//! ser-train --data DIR --model svm|rf|knn [--features full] [--pooling mean-std] [--fold all]
//! ser-train --data DIR --model mlp --print-config > spec.json; ser-train --config spec.json
//! ```
//!
//! The flags make a `ser_run::train::TrainSpec` (or `--config` reads one) and
//! `ser_run::train::train` does the work: every fold is evaluated on its test side when trained
//! (`ser-eval` writes the same files); `--fold all` also writes the k-fold aggregate into the
//! parent folder.

#[macro_use]
#[path = "../common/stdout.rs"]
mod stdout;
mod args;

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use ser_run::train::{TrainOptions, TrainOutcome, train};

fn main() -> ExitCode {
    match run(args::Args::parse()).and_then(|()| stdout::finish()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: args::Args) -> Result<()> {
    let spec = args.spec()?;
    if args.print_config {
        outln!(
            "{}",
            serde_json::to_string_pretty(&spec).context("cannot print the spec")?
        );
        return Ok(());
    }
    if args.summary {
        let summary = spec.summary()?;
        outln!("{summary}");
        return Ok(());
    }
    let options = TrainOptions {
        progress: true,
        interrupt: Some(ser_cli::interrupt_flag()?),
        command: std::env::args().collect::<Vec<_>>().join(" "),
    };
    let outcome = train(&spec, &options)?;
    print_outcome(&outcome);
    Ok(())
}

fn print_outcome(outcome: &TrainOutcome) {
    for fold in &outcome.folds {
        if fold.already_trained {
            eprintln!("{}: already trained", fold.dir.display());
        }
        if let Some(test) = &fold.deep_test {
            outln!(
                "fold {}: test accuracy {:.4}, UAR {:.4} (best epoch {}, {} epochs, {}) -> {}",
                fold.fold + 1,
                test.accuracy,
                test.uar,
                test.best_epoch,
                test.epochs,
                test.stop,
                fold.dir.display()
            );
        }
    }
    if let Some(warning) = outcome.protocol.leak_warning() {
        eprintln!("WARNING: {warning}");
    }
    match &outcome.evaluation {
        None => outln!(
            "{}: no test side to evaluate (speaker-independent figures come from a k-fold \
             protocol); {}",
            outcome.out.display(),
            if outcome.classic {
                "trained on every speaker"
            } else {
                "trained on every speaker but the validation ones, which chose the best epoch"
            }
        ),
        Some(evaluation) => {
            out!("{}", evaluation.summary_text());
            let target = match outcome.folds.as_slice() {
                [one] => one.dir.clone(),
                _ => outcome.out.clone(),
            };
            outln!("evaluation written to {}", target.display());
        }
    }
}
