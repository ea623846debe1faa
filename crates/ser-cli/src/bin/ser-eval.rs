//! `ser-eval`: evaluate trained runs on their test side, or compare several runs.
//!
//! ```text
//! ser-eval RUN_DIR...                       # a fold folder or a k-fold parent (fold-N/ inside)
//! ser-eval --compare RUN_DIR... [--out DIR] # comparison.{md,csv,png,svg}
//! ser-eval --ensemble RUN_DIR... --out DIR   # the mean of several runs' probabilities
//! ser-eval --robustness RUN_DIR...          # the test side under recording conditions
//! ser-eval --adapt RUN_DIR...               # the test side adapted per speaker -> adapted/
//! ```

#[macro_use]
#[path = "common/stdout.rs"]
mod stdout;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;
use ser_run::eval::{self, EvalOptions};

/// Evaluate trained speech emotion classifiers: metrics, reports, plots, comparisons.
#[derive(Debug, Parser)]
#[command(name = "ser-eval", version, about, long_about = None)]
struct Args {
    /// Run folders written by ser-train: one fold (holds ser-run.json) or a k-fold parent
    /// (holds fold-N/ run folders).
    #[arg(value_name = "RUN_DIR", required = true)]
    runs: Vec<PathBuf>,
    /// Compare the runs (evaluating those without metrics.json first) instead of only
    /// evaluating them.
    #[arg(long, conflicts_with = "ensemble")]
    compare: bool,
    /// Make an ensemble of the runs (each a run folder or a k-fold parent, all on the same
    /// split and feature extraction): --out gets one ensemble run folder per fold, averaging
    /// the members' class probabilities, evaluated on the folds' test sides when they have
    /// one. Usable like any run folder (ser-predict --model, --compare).
    #[arg(long)]
    ensemble: bool,
    /// Weights of the --ensemble members, in order, comma-separated [default: equal].
    #[arg(
        long,
        value_name = "W,W,...",
        value_delimiter = ',',
        requires = "ensemble"
    )]
    weights: Option<Vec<f32>>,
    /// Predict each run's test side again under fixed, seeded recording conditions (gain,
    /// peak normalisation, telephone band, pink noise, reverberation, 48 kHz with high-band
    /// noise) as ser-predict would, and write UAR and label agreement per condition
    /// (robustness.{json,csv,md,png,svg} in every fold folder and, over the folds, in the run).
    #[arg(long, conflicts_with_all = ["compare", "ensemble"])]
    robustness: bool,
    /// Conditions of --robustness, comma-separated [default: all of them: clean,
    /// gain-20db, peak-normalised, telephone, pink-noise-20db, pink-noise-10db,
    /// reverb-0.4s, upsampled-48k].
    #[arg(
        long,
        value_name = "C,C,...",
        value_delimiter = ',',
        requires = "robustness"
    )]
    conditions: Option<Vec<ser_data::Condition>>,
    /// Seed of the random conditions of --robustness (noise, rooms).
    #[arg(long, default_value_t = 0, requires = "robustness")]
    seed: u64,
    /// Worker threads of --robustness (each holds a copy of the model).
    #[arg(long, default_value_t = 2, requires = "robustness")]
    threads: usize,
    /// Evaluate with unsupervised adaptation: each test speaker's inputs standardised with that
    /// speaker's own statistics (labels unused; speakers with fewer than 10 clips get those of
    /// the whole test side), as `ser-predict --adapt` does for a batch. Written to the adapted/
    /// sub-folder of every evaluated folder (with adaptation.json), beside the plain evaluation.
    #[arg(long, conflicts_with_all = ["compare", "ensemble", "robustness"])]
    adapt: bool,
    /// Output folder of --compare and --ensemble.
    #[arg(long, value_name = "DIR", default_value = ".")]
    out: PathBuf,
    #[command(flatten)]
    cache: ser_cli::CacheArgs,
}

fn main() -> ExitCode {
    match run(Args::parse()).and_then(|()| stdout::finish()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<()> {
    let options = EvalOptions {
        cache_dir: args.cache.cache_dir(),
        progress: true,
        adapt: args.adapt,
    };
    if args.ensemble {
        let command = std::env::args().collect::<Vec<_>>().join(" ");
        let written =
            ser_run::ensemble::create(&args.runs, args.weights.as_deref(), &args.out, &command)?;
        outln!(
            "ensemble of {} runs, {} fold(s) -> {}",
            args.runs.len(),
            written.len(),
            args.out.display()
        );
        let info = ser_run::RunInfo::load(&written[0])?;
        if info.test_speakers.is_empty() {
            outln!(
                "no test side (protocol {}): not evaluated",
                info.protocol.name()
            );
            return Ok(());
        }
        let evaluation = eval::evaluate(&args.out, &options)?;
        out!("{}", evaluation.summary_text());
        return Ok(());
    }
    if args.robustness {
        let options = ser_run::robustness::RobustnessOptions {
            conditions: args
                .conditions
                .clone()
                .unwrap_or_else(ser_data::Condition::standard_set),
            seed: args.seed,
            threads: args.threads,
            ..ser_run::robustness::RobustnessOptions::default()
        };
        for dir in &args.runs {
            let report = ser_run::robustness::evaluate_robustness(dir, &options)?;
            out!("{}", ser_run::robustness::markdown(&report));
            outln!(
                "robustness -> {}",
                dir.join(format!(
                    "{}.{{json,csv,md,png,svg}}",
                    ser_run::robustness::ROBUSTNESS_STEM
                ))
                .display()
            );
        }
        return Ok(());
    }
    if args.compare {
        let rows = eval::compare(&args.runs, &args.out, &options)?;
        for r in &rows {
            outln!(
                "{}: accuracy {:.4} ± {:.4}  UAR {:.4} ± {:.4}  macro-F1 {:.4} ± {:.4} ({} folds)",
                r.run_dir.display(),
                r.accuracy.mean,
                r.accuracy.std,
                r.uar.mean,
                r.uar.std,
                r.macro_f1.mean,
                r.macro_f1.std,
                r.n_folds_evaluated
            );
        }
        outln!(
            "comparison -> {}",
            args.out
                .join(format!("{}.{{md,csv,png,svg}}", eval::COMPARISON_STEM))
                .display()
        );
        return Ok(());
    }
    for dir in &args.runs {
        let evaluation = eval::evaluate(dir, &options)?;
        for f in &evaluation.folds {
            if let Some(a) = &f.adaptation {
                eprintln!("fold {}: adaptation: {}", f.metrics.fold, a.describe());
            }
        }
        outln!("{}:", dir.display());
        out!("{}", evaluation.summary_text());
        if options.adapt {
            outln!(
                "adapted evaluation -> {}",
                eval::output_dir(dir, &options).display()
            );
        }
        if let Some(w) = evaluation
            .folds
            .iter()
            .find_map(|f| f.info.leak_warning.as_ref())
        {
            eprintln!("WARNING: {w}");
        }
    }
    Ok(())
}
