//! Project automation: `cargo xtask <command>` (the alias lives in `.cargo/config.toml`);
//! `cargo xtask <command> --help` lists each command's flags. This file only parses the
//! arguments (clap) and dispatches; each command lives in its module:
//!
//! - `test` ([`ci`]): the test suite, browser test included: installs Debian's `chromium` and
//!   `chromium-driver` when missing, then `cargo test --release --workspace --
//!   --include-ignored`. What `.ci/run` runs after the format check.
//! - `ci` ([`ci`]): formatting check, clippy with warnings denied, then `test`.
//! - `golden` ([`golden`]): regenerate the librosa golden fixtures of `ser-features` (needs
//!   Python + librosa; `cargo xtask python-deps` installs them).
//! - `python-deps` ([`python`]): `pip install` the pinned Python reference stack (librosa,
//!   scikit-learn, torch).
//! - `bench-features [--data DIR] [--preset NAME] [--threads N]`, `bench-predict [--runs N]
//!   [--model RUN_DIR]...`, `bench-train [--steps N]` ([`bench`]): feature extraction of a
//!   corpus, one prediction end to end, and training / inference steps, each against the
//!   original Python stack in the same run; write `results/benchmarks/*.json`.
//! - `results [--data DIR] [--deep] [--only NAME] [--dry-run]` ([`results`]): the model
//!   comparison of `results/`: the rows and ensembles of `xtask/rows/results.toml`, trained
//!   (resumably) with `ser-train`, published into `results/models/` and compared into
//!   `results/comparison.{md,csv,png,svg}`.
//! - `cross-corpus [--ravdess DIR] [--tess DIR] [--deep] [--only SETTING,...] [--table-only]
//!   [--dry-run]` ([`cross_corpus`]): the cross-corpus table `results/cross-corpus.{md,json}`
//!   (the settings and recipes of `xtask/rows/cross-corpus.toml`, each plain and with
//!   `ser-eval --adapt`).
//! - `default-model [--data DIR]... [--work DIR] [--dry-run]` ([`default_model`]): the shipped
//!   model of `results/default-model/` (the members of `xtask/rows/default-model.toml`,
//!   trained on every speaker of every corpus given).
//! - `fuzz [--minutes N] [--seed S]` ([`fuzz`]): the decoding + feature-extraction fuzz target
//!   of `ser-data` for N minutes; fails on any panic, hang or non-finite feature.
//!
//! The rows of the tables are data (`xtask/rows/*.toml`, embedded; [`rows`] reads and checks
//! them); [`util`] runs programs and holds what the commands share.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

mod bench;
mod ci;
mod cross_corpus;
mod default_model;
mod fuzz;
mod golden;
mod python;
mod results;
mod rows;
mod util;

/// Project automation of ser.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Formatting check, clippy with warnings denied, then `test`.
    Ci,
    /// The test suite, browser test included (installs chromium when missing); what CI runs.
    Test,
    /// Regenerate the librosa golden fixtures of ser-features (needs Python + librosa).
    Golden,
    /// Time feature extraction of a corpus with ser-features and with librosa.
    BenchFeatures(bench::FeaturesArgs),
    /// Time one prediction of a 4-second file end to end, ours and the Python original's.
    BenchPredict(bench::PredictArgs),
    /// Time training and inference steps of the deep models with burn-flex and PyTorch.
    BenchTrain(bench::TrainArgs),
    /// Install the pinned Python reference stack (librosa, scikit-learn, torch) with pip.
    PythonDeps,
    /// The model comparison of results/ (rows of xtask/rows/results.toml).
    Results(results::Args),
    /// The cross-corpus table results/cross-corpus.{md,json}.
    CrossCorpus(cross_corpus::Args),
    /// The shipped model of results/default-model/.
    DefaultModel(default_model::Args),
    /// Fuzz decoding and feature extraction for N minutes.
    Fuzz(fuzz::Args),
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(&cli.command) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(command: &Cmd) -> Result<()> {
    let root = project_root();
    std::env::set_current_dir(&root).with_context(|| format!("cannot enter {}", root.display()))?;
    match command {
        Cmd::Ci => ci::ci(),
        Cmd::Test => ci::test(),
        Cmd::Golden => golden::golden(),
        Cmd::BenchFeatures(args) => bench::bench_features(args),
        Cmd::BenchPredict(args) => bench::bench_predict(args),
        Cmd::BenchTrain(args) => bench::bench_train(args),
        Cmd::PythonDeps => python::python_deps(),
        Cmd::Results(args) => results::results(args),
        Cmd::CrossCorpus(args) => cross_corpus::cross_corpus(args),
        Cmd::DefaultModel(args) => default_model::default_model(args),
        Cmd::Fuzz(args) => fuzz::fuzz(args),
    }
}

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    /// The parsed arguments of a command line, as `Debug` prints them.
    fn parsed(args: &[&str]) -> Result<String> {
        let cli = Cli::try_parse_from(std::iter::once("xtask").chain(args.iter().copied()))?;
        Ok(format!("{:?}", cli.command))
    }

    #[test]
    fn flags_keep_their_names_and_defaults() -> Result<()> {
        assert_eq!(parsed(&["test"])?, "Test");
        assert_eq!(
            parsed(&["results"])?,
            r#"Results(Args { data: "../shared/data/ravdess-16k", deep: false, only: None, table_only: false, dry_run: false })"#
        );
        assert_eq!(
            parsed(&["cross-corpus", "--only", "a,b", "--table-only"])?,
            r#"CrossCorpus(Args { ravdess: "../shared/data/ravdess-16k", tess: "../shared/data/tess", deep: false, only: ["a", "b"], table_only: true, dry_run: false })"#
        );
        assert_eq!(
            parsed(&["default-model"])?,
            r#"DefaultModel(Args { data: ["../shared/data/ravdess-16k", "../shared/data/tess"], work: "results/runs/default-model", dry_run: false })"#
        );
        assert_eq!(
            parsed(&["default-model", "--data", "a", "--data", "b"])?,
            r#"DefaultModel(Args { data: ["a", "b"], work: "results/runs/default-model", dry_run: false })"#
        );
        assert_eq!(
            parsed(&["bench-features"])?,
            r#"BenchFeatures(FeaturesArgs { data: "../shared/data/ravdess-16k", preset: "seed", threads: 2 })"#
        );
        assert_eq!(
            parsed(&["bench-predict", "--model", "a", "--model", "b"])?,
            r#"BenchPredict(PredictArgs { runs: 10, models: ["a", "b"], no_python: false })"#
        );
        assert_eq!(
            parsed(&["bench-train"])?,
            "BenchTrain(TrainArgs { steps: 8 })"
        );
        assert_eq!(
            parsed(&["fuzz", "--minutes", "-1"])?,
            "Fuzz(Args { minutes: -1.0, seed: None })"
        );
        assert_eq!(
            parsed(&["fuzz"])?,
            "Fuzz(Args { minutes: 10.0, seed: None })"
        );
        assert!(parsed(&["test", "--bogus"]).is_err());
        assert!(parsed(&["results", "--onyl", "x"]).is_err());
        assert!(parsed(&["frobnicate"]).is_err());
        Ok(())
    }
}
