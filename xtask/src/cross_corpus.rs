//! `cargo xtask cross-corpus`: the cross-corpus table of `results/cross-corpus.md`.
//!
//! Each setting of `xtask/rows/cross-corpus.toml` (which corpora train, which test, by which
//! protocol) is trained with each model recipe of the file into
//! `results/runs/cross-corpus/<setting>/<model>` (finished runs are kept, so an interrupted
//! table continues), evaluated as trained and again with unsupervised adaptation
//! (`ser-eval --adapt`: each test speaker's features standardised with that speaker's own
//! statistics, labels unused), the ensemble row joins its members with `ser-eval --ensemble`,
//! and the figures are collected into `results/cross-corpus.{md,json}`. `--table-only` trains
//! nothing and tabulates what is finished; `--dry-run` prints the commands instead.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::rows::{self, Corpus, CrossCorpus, Recipe, Setting};
use crate::util::{DEFAULT_DATA, DEFAULT_TESS, Runner, path_arg, read_json, write_atomic};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The RAVDESS folder.
    #[arg(long, default_value = DEFAULT_DATA)]
    ravdess: String,
    /// The TESS folder.
    #[arg(long, default_value = DEFAULT_TESS)]
    tess: String,
    /// Train the deep recipes too (hours on a 2-core CPU).
    #[arg(long)]
    deep: bool,
    /// These settings only (comma-separated); no table.
    #[arg(long, value_name = "SETTING,...", value_delimiter = ',')]
    only: Vec<String>,
    /// Train nothing: tabulate what is finished.
    #[arg(long)]
    table_only: bool,
    /// Print the commands (and `# ` the other changes) instead of running them.
    #[arg(long)]
    dry_run: bool,
}

const RUNS: &str = "results/runs/cross-corpus";

pub fn cross_corpus(args: &Args) -> Result<()> {
    for dir in [&args.ravdess, &args.tess] {
        if !Path::new(dir).is_dir() {
            bail!("{dir}: not a folder (give the corpora with --ravdess DIR --tess DIR)");
        }
    }
    run(&Runner::new(args.dry_run), args)
}

/// The table once the corpora are known to be there, through `runner`.
fn run(runner: &Runner, args: &Args) -> Result<()> {
    let table = rows::cross_corpus()?;
    let (ravdess, tess) = (args.ravdess.as_str(), args.tess.as_str());
    let only = &args.only;
    for o in only {
        if !table.settings.iter().any(|s| &s.name == o) {
            bail!(
                "--only {o}: no such setting (settings: {})",
                table
                    .settings
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    let folder = |c: Corpus| match c {
        Corpus::Ravdess => ravdess,
        Corpus::Tess => tess,
    };
    runner.run("cargo", &["build", "--release", "--workspace"], &[])?;
    let runs = Path::new(RUNS);
    let mut rows = Vec::new();
    let mut planned = 0;
    for setting in &table.settings {
        if !only.is_empty() && !only.contains(&setting.name) {
            continue;
        }
        for recipe in &table.recipes {
            if !recipe.trained_in(&setting.name) {
                continue;
            }
            let run_dir = runs.join(&setting.name).join(&recipe.name);
            if recipe.deep && !args.deep && !runner.is_file(&metrics_path(&run_dir)) {
                eprintln!(
                    "{}/{}: not trained (deep rows need --deep)",
                    setting.name, recipe.name
                );
                continue;
            }
            if args.table_only && !runner.is_file(&metrics_path(&run_dir)) {
                eprintln!(
                    "{}/{}: not trained (--table-only)",
                    setting.name, recipe.name
                );
                continue;
            }
            train(runner, setting, recipe, &run_dir, &folder)?;
            if !recipe.name.contains("spknorm") {
                adapt(runner, &run_dir)?;
            }
            if runner.planned(&metrics_path(&run_dir)) {
                planned += 1;
            } else {
                rows.push(row(setting, &recipe.name, &run_dir)?);
            }
        }
        let dir = runs.join(&setting.name).join("ensemble");
        let members: Vec<PathBuf> = table
            .ensemble
            .iter()
            .map(|m| runs.join(&setting.name).join(m))
            .collect();
        if members.iter().all(|m| runner.is_file(&metrics_path(m))) {
            if !runner.is_file(&metrics_path(&dir)) {
                let out = path_arg(&dir);
                let members: Vec<String> = members.iter().map(|m| path_arg(m)).collect();
                let mut flags = vec!["--ensemble"];
                flags.extend(members.iter().map(String::as_str));
                flags.extend(["--out", out.as_str()]);
                runner.run("target/release/ser-eval", &flags, &[metrics_path(&dir)])?;
            }
            adapt(runner, &dir)?;
            if runner.planned(&metrics_path(&dir)) {
                planned += 1;
            } else {
                rows.push(row(setting, "ensemble", &dir)?);
            }
        }
    }
    if only.is_empty() {
        if runner.dry_run() {
            runner.note(format_args!(
                "write results/cross-corpus.md and results/cross-corpus.json: {} rows finished, \
                 {planned} made by the commands above",
                rows.len()
            ));
        } else {
            write_table(&table, &rows)?;
        }
    }
    Ok(())
}

/// `metrics.json` of a finished run (its own for one split, the aggregate for k folds).
fn metrics_path(run_dir: &Path) -> PathBuf {
    run_dir.join("metrics.json")
}

/// The `ser-train` flags of one cell besides `--out` and `--resume`: the corpora, the protocol,
/// the recipe's flags, and the setting's `--svm-c` in place of the recipe's.
fn train_flags<'a>(
    setting: &'a Setting,
    recipe: &'a Recipe,
    folder: &dyn Fn(Corpus) -> &'a str,
) -> Vec<&'a str> {
    let mut flags: Vec<&str> = Vec::new();
    for &c in &setting.train {
        flags.extend(["--data", folder(c)]);
    }
    if let Some(test) = setting.test {
        flags.extend(["--test-data", folder(test)]);
    }
    if let Some(protocol) = &setting.protocol {
        flags.extend(["--protocol", protocol.as_str(), "--fold", "all"]);
    }
    let mut recipe_flags = recipe.flags.iter();
    while let Some(flag) = recipe_flags.next() {
        if recipe.setting_svm_c && flag == "--svm-c" {
            recipe_flags.next();
        } else {
            flags.push(flag);
        }
    }
    if recipe.setting_svm_c {
        flags.extend(["--svm-c", setting.svm_c.as_str()]);
    }
    flags
}

/// Trains (and evaluates) one cell unless it is finished.
fn train<'a>(
    runner: &Runner,
    setting: &'a Setting,
    recipe: &'a Recipe,
    run_dir: &Path,
    folder: &dyn Fn(Corpus) -> &'a str,
) -> Result<()> {
    if runner.is_file(&metrics_path(run_dir)) {
        return Ok(());
    }
    let out = path_arg(run_dir);
    let mut flags = train_flags(setting, recipe, folder);
    flags.extend(["--out", out.as_str()]);
    if run_dir.exists() {
        if recipe.deep {
            flags.push("--resume");
        } else {
            runner.remove_dir_all(run_dir)?;
        }
    }
    runner.run("target/release/ser-train", &flags, &[metrics_path(run_dir)])
}

/// The adapted evaluation of a finished run, once.
fn adapt(runner: &Runner, run_dir: &Path) -> Result<()> {
    let adapted = metrics_path(&run_dir.join("adapted"));
    if runner.is_file(&adapted) {
        return Ok(());
    }
    let dir = path_arg(run_dir);
    runner.run(
        "target/release/ser-eval",
        &[dir.as_str(), "--adapt"],
        &[adapted],
    )
}

/// What this table reads of a run's `metrics.json`: one split's or a k-fold aggregate's.
#[derive(Debug, Deserialize)]
struct Metrics {
    /// The k-fold aggregate (absent for one split).
    cross_validation: Option<CrossValidation>,
    /// The report of one split (k folds have one per fold, in `folds`).
    report: Option<Report>,
    /// Per-corpus figures of a mixed test side.
    per_corpus: Option<Vec<CorpusFigures>>,
}

#[derive(Debug, Deserialize)]
struct CrossValidation {
    aggregate: Aggregate,
}

#[derive(Debug, Deserialize)]
struct Aggregate {
    mean: Report,
    std: Report,
}

#[derive(Debug, Deserialize)]
struct Report {
    uar: f64,
}

/// One corpus's entry of `per_corpus`: `uar` for one split, `pooled.uar` for k folds.
#[derive(Debug, Deserialize)]
struct CorpusFigures {
    corpus: Option<String>,
    uar: Option<f64>,
    pooled: Option<Report>,
}

/// The figures of one metrics file.
#[derive(Debug)]
struct Figures {
    /// UAR, mean over folds (the one split's for a single split).
    uar: f64,
    /// Its population sd over folds (0 for one split).
    std: f64,
    /// UAR of each corpus (pooled over folds).
    per_corpus: Vec<(String, f64)>,
}

/// The [`Figures`] of a metrics file.
fn figures(metrics: &Metrics) -> Result<Figures> {
    let kfold = metrics.cross_validation.is_some();
    let per_corpus = metrics
        .per_corpus
        .iter()
        .flatten()
        .map(|c| {
            let uar = if kfold {
                c.pooled.as_ref().map(|p| p.uar)
            } else {
                c.uar
            };
            Ok((
                c.corpus.clone().unwrap_or_else(|| "?".to_owned()),
                uar.context("per_corpus: no uar")?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    if let Some(cv) = &metrics.cross_validation {
        Ok(Figures {
            uar: cv.aggregate.mean.uar,
            std: cv.aggregate.std.uar,
            per_corpus,
        })
    } else {
        Ok(Figures {
            uar: metrics.report.as_ref().context("no report")?.uar,
            std: 0.0,
            per_corpus,
        })
    }
}

/// The [`Figures`] of a metrics file on disk.
fn read_figures(path: &Path) -> Result<Figures> {
    let metrics: Metrics = serde_json::from_value(read_json(path)?)
        .with_context(|| format!("{}: not a metrics file", path.display()))?;
    figures(&metrics).with_context(|| path.display().to_string())
}

fn row(setting: &Setting, model: &str, run_dir: &Path) -> Result<Value> {
    let plain = read_figures(&metrics_path(run_dir))?;
    let adapted_path = metrics_path(&run_dir.join("adapted"));
    let adapted = if adapted_path.is_file() {
        Some(read_figures(&adapted_path)?)
    } else {
        None
    };
    let corpus_map = |list: &[(String, f64)]| -> Value {
        list.iter()
            .map(|(c, u)| (c.clone(), json!(u)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    Ok(json!({
        "setting": setting.name,
        "description": setting.description,
        "model": model,
        "run_dir": run_dir,
        "uar": plain.uar,
        "uar_std": plain.std,
        "per_corpus_uar": corpus_map(&plain.per_corpus),
        "adapted_uar": adapted.as_ref().map(|a| a.uar),
        "adapted_uar_std": adapted.as_ref().map(|a| a.std),
        "adapted_per_corpus_uar": adapted.as_ref().map(|a| corpus_map(&a.per_corpus)),
    }))
}

fn write_table(table: &CrossCorpus, rows: &[Value]) -> Result<()> {
    let mut md = String::from(
        "# Cross-corpus results\n\n\
         Speaker-independent throughout: no speaker is on two sides of a split. UAR = unweighted \
         average recall over the classes of the test side (chance = 1 / classes). \"adapted\" = \
         the same model evaluated with `ser-eval --adapt`: each test speaker's features \
         standardised with that speaker's own statistics (no labels); `svm-spknorm` is \
         speaker-normalised in training and at test time by design, so it has one column. \
         k-fold settings give mean ± sd over folds, and per corpus the pooled UAR of all its test \
         clips.\n\n\
         Reproduce: `cargo xtask cross-corpus [--deep]` (runs in `results/runs/cross-corpus/`).\n\n\
         | setting | model | UAR | UAR adapted | per corpus | per corpus adapted |\n\
         |---|---|---|---|---|---|\n",
    );
    let fmt = |mean: &Value, std: &Value| match (mean.as_f64(), std.as_f64()) {
        (Some(m), Some(s)) if s > 0.0 => format!("{m:.3} ± {s:.3}"),
        (Some(m), _) => format!("{m:.3}"),
        _ => "—".to_owned(),
    };
    let corpora = |v: &Value| -> String {
        v.as_object()
            .map(|m| {
                m.iter()
                    .map(|(c, u)| format!("{c} {:.3}", u.as_f64().unwrap_or(f64::NAN)))
                    .collect::<Vec<_>>()
                    .join(" · ")
            })
            .unwrap_or_default()
    };
    for r in rows {
        let name = r["setting"].as_str().unwrap_or("");
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {} | {} | {} |",
            r["model"].as_str().unwrap_or(""),
            fmt(&r["uar"], &r["uar_std"]),
            fmt(&r["adapted_uar"], &r["adapted_uar_std"]),
            corpora(&r["per_corpus_uar"]),
            corpora(&r["adapted_per_corpus_uar"]),
        );
    }
    md.push_str("\nSettings:\n\n");
    for s in &table.settings {
        let _ = writeln!(md, "- `{}`: {}", s.name, s.description);
    }
    let _ = writeln!(md, "\n{}", table.notes.trim_end());
    let dir = Path::new("results");
    for (name, text) in [
        ("cross-corpus.md", md),
        (
            "cross-corpus.json",
            serde_json::to_string_pretty(&json!({
                "reproduce": "cargo xtask cross-corpus",
                "rows": rows,
            }))?,
        ),
    ] {
        write_atomic(dir, name, &text)?;
        eprintln!("wrote {}", dir.join(name).display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::{commands_of, head_commands};

    /// `--dry-run` of `cargo xtask cross-corpus <flags>` in a tree without runs (the unit tests
    /// run in `xtask/`, which has no `results/`), with the corpora at their default places.
    fn dry_run(deep: bool, only: &[&str]) -> Result<Vec<String>> {
        let args = Args {
            ravdess: DEFAULT_DATA.to_owned(),
            tess: DEFAULT_TESS.to_owned(),
            deep,
            only: only.iter().map(|s| (*s).to_owned()).collect(),
            table_only: false,
            dry_run: true,
        };
        let runner = Runner::recording();
        run(&runner, &args)?;
        Ok(commands_of(&runner))
    }

    #[test]
    fn the_commands_are_those_of_head() -> Result<()> {
        assert_eq!(dry_run(false, &[])?, head_commands("cross-corpus"));
        assert_eq!(dry_run(true, &[])?, head_commands("cross-corpus --deep"));
        assert_eq!(
            dry_run(false, &["tess-to-ravdess", "union-5fold"])?,
            head_commands("cross-corpus --only tess-to-ravdess,union-5fold")
        );
        Ok(())
    }

    #[test]
    fn the_setting_svm_c_replaces_the_recipe_one() -> Result<()> {
        let table = rows::cross_corpus()?;
        let (r, t) = ("R".to_owned(), "T".to_owned());
        let folder = |c: Corpus| match c {
            Corpus::Ravdess => r.as_str(),
            Corpus::Tess => t.as_str(),
        };
        let setting = &table.settings[1];
        let recipe = &table.recipes[1];
        assert_eq!(
            (setting.name.as_str(), recipe.name.as_str()),
            ("tess-to-ravdess", "svm-spknorm")
        );
        assert_eq!(
            train_flags(setting, recipe, &folder).join(" "),
            "--data T --test-data R --model svm --features full --pooling stats --augment \
             original+robust --augment-copies 2 --speaker-norm --svm-c 2"
        );
        let union = &table.settings[3];
        let gru = &table.recipes[4];
        assert_eq!(
            train_flags(union, gru, &folder).join(" "),
            "--data R --data T --protocol kfold:5 --fold all --model gru --features full \
             --patience 8"
        );
        Ok(())
    }

    #[test]
    fn figures_of_one_split_and_of_k_folds() -> Result<()> {
        let one: Metrics = serde_json::from_value(json!({
            "report": {"uar": 0.5, "accuracy": 0.6},
            "per_corpus": [{"corpus": "tess", "uar": 0.25}],
        }))?;
        let f = figures(&one)?;
        assert_eq!((f.uar, f.std), (0.5, 0.0));
        assert_eq!(f.per_corpus, [("tess".to_owned(), 0.25)]);
        let k: Metrics = serde_json::from_value(json!({
            "cross_validation": {"aggregate": {"mean": {"uar": 0.4}, "std": {"uar": 0.1}}},
            "per_corpus": [{"corpus": "ravdess", "pooled": {"uar": 0.3}}],
        }))?;
        let f = figures(&k)?;
        assert_eq!((f.uar, f.std), (0.4, 0.1));
        assert_eq!(f.per_corpus, [("ravdess".to_owned(), 0.3)]);
        let bad: Metrics = serde_json::from_value(json!({"per_corpus": []}))?;
        assert!(figures(&bad).is_err());
        Ok(())
    }
}
