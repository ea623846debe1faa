//! `cargo xtask results`: the model comparison of `results/`.
//!
//! Trains every row of `xtask/rows/results.toml` on the 6-fold leave-4-actors-out protocol
//! with `ser-train` into `results/runs/comparison/<row>` (rows already finished are skipped,
//! interrupted deep rows resumed, interrupted classical ones refitted; deep rows only with
//! `--deep` or `--only`), evaluates the rows marked `robustness` with `ser-eval --robustness`,
//! builds the ensembles of the file from finished rows with `ser-eval --ensemble`, publishes
//! each finished row's aggregate into `results/models/<name>/` and writes
//! `results/comparison.{md,csv,png,svg}` with `ser-eval --compare`. A row not finished here (a
//! deep row without `--deep`, an ensemble of such rows) keeps its published figures in the
//! table: `results/models/<name>/metrics.json` is compared in place of its run, and the run
//! prints so. `--only` an ensemble trains its missing members first; `--table-only` trains
//! nothing and writes the table; `--dry-run` prints the commands instead.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::rows::{self, Comparison};
use crate::util::{DEFAULT_DATA, Runner, path_arg, read_json, write_atomic};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The RAVDESS folder.
    #[arg(long, default_value = DEFAULT_DATA)]
    data: String,
    /// Train the deep rows too (hours on a 2-core CPU).
    #[arg(long)]
    deep: bool,
    /// One row or ensemble (an ensemble with its members); no comparison table.
    #[arg(long, value_name = "NAME")]
    only: Option<String>,
    /// Train nothing: write the comparison from the rows finished in results/runs and the
    /// published figures of the others.
    #[arg(long, conflicts_with_all = ["only", "deep"])]
    table_only: bool,
    /// Print the commands (and `# ` the other changes) instead of running them.
    #[arg(long)]
    dry_run: bool,
}

/// Where a row's published aggregate lies.
const PUBLISHED: &str = "results/models";

const RUNS: &str = "results/runs/comparison";

pub fn results(args: &Args) -> Result<()> {
    let data = args.data.as_str();
    if !Path::new(data).is_dir() {
        bail!("{data}: not a folder (give the corpus with --data DIR)");
    }
    run(&Runner::new(args.dry_run), args)
}

/// The comparison once the corpus is known to be there, through `runner`.
fn run(runner: &Runner, args: &Args) -> Result<()> {
    let Comparison { rows, ensembles } = rows::comparison()?;
    let data = args.data.as_str();
    let only = args.only.as_deref().unwrap_or("");
    let deep = args.deep;
    let only_ensemble = ensembles.iter().find(|e| e.name == only);
    if !only.is_empty() && only_ensemble.is_none() && !rows.iter().any(|r| r.name == only) {
        bail!(
            "--only {only}: no such row (rows: {})",
            rows.iter()
                .map(|r| r.name.as_str())
                .chain(ensembles.iter().map(|e| e.name.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    // `--only` an ensemble: its members (trained if needed), then the ensemble.
    let wanted = |name: &str| match only_ensemble {
        Some(e) => e.members.iter().any(|m| m == name),
        None => only.is_empty() || name == only,
    };
    // The whole workspace, as the tests build it: one set of features, no rebuild of burn.
    runner.run("cargo", &["build", "--release", "--workspace"], &[])?;
    let bin = |name: &str| format!("target/release/{name}");
    let runs = Path::new(RUNS);
    let mut finished: Vec<PathBuf> = Vec::new();
    let robustness_rows: BTreeSet<&str> = rows
        .iter()
        .filter(|r| r.robustness)
        .map(|r| r.name.as_str())
        .chain(
            ensembles
                .iter()
                .filter(|e| e.robustness)
                .map(|e| e.name.as_str()),
        )
        .collect();
    let robustness = |name: &str, run_dir: &Path| -> Result<()> {
        if robustness_rows.contains(name) {
            robustness(runner, run_dir)
        } else {
            Ok(())
        }
    };
    for row in &rows {
        if !wanted(&row.name) {
            continue;
        }
        let run_dir = runs.join(&row.name);
        let aggregate = run_dir.join("metrics.json");
        if !runner.is_file(&aggregate)
            && !args.table_only
            && (deep || !row.deep || !only.is_empty())
        {
            let out = path_arg(&run_dir);
            let mut flags = vec!["--data", data, "--fold", "all", "--out", out.as_str()];
            flags.extend(row.flags.iter().map(String::as_str));
            // Interrupted deep runs continue where they stopped; classical ones refit.
            // k-fold runs keep their folds in fold-N; single-split runs are the folder itself.
            if run_dir.join("fold-1").exists() || run_dir.join("ser-run.json").exists() {
                if row.deep {
                    flags.push("--resume");
                } else {
                    runner.remove_dir_all(&run_dir)?;
                }
            }
            runner.run(&bin("ser-train"), &flags, std::slice::from_ref(&aggregate))?;
        }
        if runner.is_file(&aggregate) {
            if !args.table_only {
                robustness(&row.name, &run_dir)?;
            }
            let command = format!("ser-train --data DIR --fold all {}", row.flags.join(" "));
            publish(runner, &row.name, &command, &run_dir)?;
            finished.push(run_dir);
        } else {
            keep_published(runner, &row.name, "not trained here", &mut finished);
        }
    }
    for ensemble in &ensembles {
        if !only.is_empty() && ensemble.name != only {
            continue;
        }
        let run_dir = runs.join(&ensemble.name);
        let members: Vec<String> = ensemble
            .members
            .iter()
            .map(|m| path_arg(&runs.join(m)))
            .collect();
        let missing: Vec<&str> = ensemble
            .members
            .iter()
            .zip(&members)
            .filter(|(_, dir)| !runner.is_file(&Path::new(dir).join("metrics.json")))
            .map(|(name, _)| name.as_str())
            .collect();
        let aggregate = run_dir.join("metrics.json");
        if !missing.is_empty() && !runner.is_file(&aggregate) {
            let why = format!("members not trained here: {}", missing.join(", "));
            keep_published(runner, &ensemble.name, &why, &mut finished);
            continue;
        }
        if !runner.is_file(&aggregate) && !args.table_only {
            let out = path_arg(&run_dir);
            let mut flags: Vec<&str> = vec!["--ensemble"];
            flags.extend(members.iter().map(String::as_str));
            flags.extend(["--out", out.as_str()]);
            runner.run(&bin("ser-eval"), &flags, std::slice::from_ref(&aggregate))?;
        }
        if !runner.is_file(&aggregate) {
            keep_published(runner, &ensemble.name, "not built here", &mut finished);
            continue;
        }
        if !args.table_only {
            robustness(&ensemble.name, &run_dir)?;
        }
        let command = format!(
            "ser-eval --ensemble {} --out DIR (the member rows' run folders)",
            ensemble.members.join(" ")
        );
        publish(runner, &ensemble.name, &command, &run_dir)?;
        finished.push(run_dir);
    }
    if finished.len() > 1 && only.is_empty() {
        let mut flags: Vec<String> = vec!["--compare".to_owned()];
        flags.extend(finished.iter().map(|d| path_arg(d)));
        flags.extend(["--out".to_owned(), "results".to_owned()]);
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        runner.run(&bin("ser-eval"), &flags, &[])?;
    }
    Ok(())
}

/// Puts a row that was not finished here into the table with its published figures
/// (`results/models/<name>/metrics.json`), saying so; a row never published is left out.
fn keep_published(runner: &Runner, name: &str, why: &str, finished: &mut Vec<PathBuf>) {
    let published = Path::new(PUBLISHED).join(name);
    if runner.is_file(&published.join("metrics.json")) {
        eprintln!("{name}: {why}; the table keeps its published figures");
        finished.push(published);
    } else {
        eprintln!("{name}: {why}, and never published; left out of the table");
    }
}

/// `ser-eval --robustness` of a finished row (once: its tables stay in the run folder).
fn robustness(runner: &Runner, run_dir: &Path) -> Result<()> {
    let tables = run_dir.join("robustness.json");
    if runner.is_file(&tables) {
        return Ok(());
    }
    let dir = path_arg(run_dir);
    runner.run(
        "target/release/ser-eval",
        &["--robustness", dir.as_str()],
        &[tables],
    )
}

/// Copies what `results/models/<name>/` keeps of a finished k-fold run: the classification
/// report, the aggregate metrics without the ROC curve points (the AUCs stay), the pooled
/// confusion-matrix and ROC plots, and the training curves of fold 1 for deep models.
fn publish(runner: &Runner, name: &str, command: &str, run_dir: &Path) -> Result<()> {
    let dest = Path::new("results/models").join(name);
    if runner.dry_run() {
        runner.note(format_args!(
            "publish {} into {}",
            run_dir.display(),
            dest.display()
        ));
        return Ok(());
    }
    std::fs::create_dir_all(&dest).with_context(|| format!("cannot create {}", dest.display()))?;
    let copy = |from: &Path, to: &str| -> Result<()> {
        let target = dest.join(to);
        let tmp = dest.join(format!(".{to}.tmp"));
        std::fs::copy(from, &tmp)
            .with_context(|| format!("cannot copy {} to {}", from.display(), tmp.display()))?;
        std::fs::rename(&tmp, &target)
            .with_context(|| format!("cannot replace {}", target.display()))?;
        Ok(())
    };
    copy(&run_dir.join("report.txt"), "report.txt")?;
    for plot in ["confusion_matrix.png", "roc.png"] {
        copy(&run_dir.join(plot), plot)?;
    }
    for table in [
        "robustness.md",
        "robustness.json",
        "robustness.csv",
        "robustness.png",
    ] {
        if run_dir.join(table).is_file() {
            copy(&run_dir.join(table), table)?;
        }
    }
    let curves = run_dir.join("fold-1").join("training_curves.png");
    if curves.is_file() {
        copy(&curves, "training_curves_fold1.png")?;
    }
    let single_split_curves = run_dir.join("training_curves.png");
    if single_split_curves.is_file() {
        copy(&single_split_curves, "training_curves.png")?;
    }
    let mut metrics = read_json(&run_dir.join("metrics.json"))?;
    strip_curve_points(&mut metrics);
    metrics["reproduce"] = serde_json::Value::String(format!(
        "cargo xtask results --only {name} (runs: {command})"
    ));
    write_atomic(
        &dest,
        "metrics.json",
        &serde_json::to_string_pretty(&metrics)?,
    )?;
    eprintln!("published {}", dest.display());
    Ok(())
}

/// Removes the curves of ROC objects (`per_class`, `micro`, `macro_curve`: thousands of
/// points), keeping their AUCs.
fn strip_curve_points(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            if map.contains_key("macro_curve") {
                for key in ["per_class", "micro", "macro_curve"] {
                    map.remove(key);
                }
                map.insert(
                    "points".to_owned(),
                    "removed to keep results/ small; ser-eval on the run folder rewrites them"
                        .into(),
                );
            }
            map.values_mut().for_each(strip_curve_points);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_curve_points),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::{commands_of, head_commands};

    /// `--dry-run` of `cargo xtask results <flags>` in a tree without runs (the unit tests run
    /// in `xtask/`, which has no `results/`), with the corpus at its default place.
    fn dry_run(deep: bool, only: Option<&str>) -> Result<Vec<String>> {
        run_args(Args {
            data: DEFAULT_DATA.to_owned(),
            deep,
            only: only.map(str::to_owned),
            table_only: false,
            dry_run: true,
        })
    }

    fn run_args(args: Args) -> Result<Vec<String>> {
        let runner = Runner::recording();
        run(&runner, &args)?;
        Ok(commands_of(&runner))
    }

    #[test]
    fn the_commands_are_those_of_head() -> Result<()> {
        assert_eq!(dry_run(false, None)?, head_commands("results"));
        assert_eq!(dry_run(true, None)?, head_commands("results --deep"));
        assert_eq!(
            dry_run(false, Some("ensemble-svm-mlp-gru"))?,
            head_commands("results --only ensemble-svm-mlp-gru")
        );
        Ok(())
    }

    #[test]
    fn table_only_trains_and_evaluates_nothing() -> Result<()> {
        let commands = run_args(Args {
            data: DEFAULT_DATA.to_owned(),
            deep: false,
            only: None,
            table_only: true,
            dry_run: true,
        })?;
        // Nothing finished or published under xtask/: only the build is left.
        assert_eq!(commands, ["cargo build --release --workspace"]);
        Ok(())
    }

    #[test]
    fn every_row_is_trained_with_deep() -> Result<()> {
        let trained = dry_run(true, None)?
            .iter()
            .filter(|l| l.starts_with("target/release/ser-train "))
            .count();
        assert_eq!(trained, rows::comparison()?.rows.len());
        Ok(())
    }

    #[test]
    fn curve_points_are_stripped_and_aucs_kept() {
        let mut v = serde_json::json!({
            "roc": {"macro_auc": 0.9, "per_class": [1], "micro": {}, "macro_curve": {}},
            "folds": [{"roc": {"macro_curve": [], "macro_auc": 0.8}}],
        });
        strip_curve_points(&mut v);
        assert_eq!(v["roc"]["macro_auc"], 0.9);
        assert!(v["roc"].get("per_class").is_none());
        assert!(v["roc"].get("micro").is_none());
        assert!(v["folds"][0]["roc"]["points"].is_string());
        assert_eq!(v["folds"][0]["roc"]["macro_auc"], 0.8);
    }
}
