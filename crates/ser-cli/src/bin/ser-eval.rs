//! `ser-eval`: evaluate trained runs on their test side, or compare several runs.
//!
//! ```text
//! ser-eval RUN_DIR...                       # a fold folder or a k-fold parent (fold-N/ inside)
//! ser-eval --compare RUN_DIR... [--out DIR] # comparison.{md,csv,png,svg}
//! ser-eval --ensemble RUN_DIR... --out DIR   # the mean of several runs' probabilities
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;
use ser_cli::eval::{self, EvalOptions};

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
    /// Output folder of --compare and --ensemble.
    #[arg(long, value_name = "DIR", default_value = ".")]
    out: PathBuf,
    #[command(flatten)]
    cache: ser_cli::CacheArgs,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
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
    };
    if args.ensemble {
        let command = std::env::args().collect::<Vec<_>>().join(" ");
        let written =
            ser_cli::ensemble::create(&args.runs, args.weights.as_deref(), &args.out, &command)?;
        println!(
            "ensemble of {} runs, {} fold(s) -> {}",
            args.runs.len(),
            written.len(),
            args.out.display()
        );
        let info = ser_cli::RunInfo::load(&written[0])?;
        if info.test_speakers.is_empty() {
            println!(
                "no test side (protocol {}): not evaluated",
                info.protocol.name()
            );
            return Ok(());
        }
        let evaluation = eval::evaluate(&args.out, &options)?;
        print!("{}", evaluation.summary_text());
        return Ok(());
    }
    if args.compare {
        let rows = eval::compare(&args.runs, &args.out, &options)?;
        for r in &rows {
            println!(
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
        println!(
            "comparison -> {}",
            args.out
                .join(format!("{}.{{md,csv,png,svg}}", eval::COMPARISON_STEM))
                .display()
        );
        return Ok(());
    }
    for dir in &args.runs {
        let evaluation = eval::evaluate(dir, &options)?;
        println!("{}:", dir.display());
        print!("{}", evaluation.summary_text());
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
