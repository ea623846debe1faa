//! `cargo xtask cross-corpus`: the cross-corpus table of `results/cross-corpus.md`.
//!
//! Each setting (which corpora train, which test, by which protocol) is trained with each
//! model recipe into `results/runs/cross-corpus/<setting>/<model>` (finished runs are kept, so
//! an interrupted table continues), evaluated as trained and again with unsupervised
//! adaptation (`ser-eval --adapt`: each test speaker's features standardised with that
//! speaker's own statistics, labels unused), and the figures are collected into
//! `results/cross-corpus.{md,json}`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::{BALANCED_MLP_FLAGS, ROBUST_MLP_FLAGS, ROBUST_SVM_FLAGS, option, sh};

/// Default RAVDESS folder (16 kHz copy of the speech part).
const RAVDESS: &str = "../shared/data/ravdess-16k";
/// Default TESS folder.
const TESS: &str = "../shared/data/tess";

/// A corpus of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Corpus {
    Ravdess,
    Tess,
}

/// One way of crossing corpora.
struct Setting {
    name: &'static str,
    /// What the row means, for the table.
    description: &'static str,
    /// `--data` folders, in order.
    train: &'static [Corpus],
    /// `--test-data`, for a cross-corpus split.
    test: Option<Corpus>,
    /// `--protocol` and `--fold all`, for the multi-corpus settings.
    protocol: Option<&'static str>,
    /// Extra `ser-train` flags of the SVM: the inner choice of C cannot split two speakers
    /// into five folds, and costs too much on the union.
    svm_c: &'static str,
}

const SETTINGS: &[Setting] = &[
    Setting {
        name: "ravdess-to-tess",
        description: "train RAVDESS (22 actors, 2 validate), test TESS (2 speakers), 7 shared emotions",
        train: &[Corpus::Ravdess],
        test: Some(Corpus::Tess),
        protocol: None,
        svm_c: "auto",
    },
    Setting {
        name: "tess-to-ravdess",
        description: "train TESS (2 speakers), test RAVDESS (24 actors), 7 shared emotions",
        train: &[Corpus::Tess],
        test: Some(Corpus::Ravdess),
        protocol: None,
        svm_c: "2",
    },
    Setting {
        name: "ravdess-6fold-plus-tess",
        description: "RAVDESS's 6 leave-4-actors-out folds, TESS always on the training side, 8 emotions",
        train: &[Corpus::Ravdess, Corpus::Tess],
        test: None,
        protocol: Some("ravdess-6fold"),
        svm_c: "2",
    },
    Setting {
        name: "union-5fold",
        description: "the union in 5 speaker folds stratified by corpus, 8 emotions",
        train: &[Corpus::Ravdess, Corpus::Tess],
        test: None,
        protocol: Some("kfold:5"),
        svm_c: "2",
    },
];

/// One model recipe.
struct Recipe {
    name: &'static str,
    deep: bool,
    /// `ser-train` flags besides the corpus, protocol and output flags (the comparison's
    /// recipes), then `extra`.
    flags: &'static [&'static str],
    /// Flags added to `flags`.
    extra: &'static [&'static str],
    /// Whether the setting's `--svm-c` replaces the recipe's.
    svm: bool,
    /// The settings it is trained in (`None`: every one).
    only: Option<&'static [&'static str]>,
}

const RECIPES: &[Recipe] = &[
    Recipe {
        name: "svm",
        deep: false,
        flags: ROBUST_SVM_FLAGS,
        extra: &[],
        svm: true,
        only: None,
    },
    Recipe {
        name: "svm-spknorm",
        deep: false,
        flags: ROBUST_SVM_FLAGS,
        extra: &["--speaker-norm"],
        svm: true,
        only: Some(&["ravdess-to-tess", "tess-to-ravdess"]),
    },
    Recipe {
        name: "mlp",
        deep: false,
        flags: ROBUST_MLP_FLAGS,
        extra: &[],
        svm: false,
        only: None,
    },
    Recipe {
        name: "mlp-balanced",
        deep: false,
        flags: BALANCED_MLP_FLAGS,
        extra: &[],
        svm: false,
        only: Some(&["ravdess-6fold-plus-tess"]),
    },
    Recipe {
        name: "gru",
        deep: true,
        flags: &["--model", "gru", "--features", "full", "--patience", "8"],
        extra: &[],
        svm: false,
        only: None,
    },
];

/// The members of the ensemble row (`ser-eval --ensemble`, the mean of their probabilities).
const ENSEMBLE: &[&str] = &["svm", "mlp"];

pub fn cross_corpus(args: &[String]) -> Result<()> {
    let ravdess = option(args, "--ravdess", RAVDESS);
    let tess = option(args, "--tess", TESS);
    let only = option(args, "--only", "");
    let deep = args.iter().any(|a| a == "--deep");
    // Collect what is finished, train nothing (the table of a partial run).
    let table_only = args.iter().any(|a| a == "--table-only");
    for dir in [&ravdess, &tess] {
        if !Path::new(dir).is_dir() {
            bail!("{dir}: not a folder (give the corpora with --ravdess DIR --tess DIR)");
        }
    }
    let folder = |c: Corpus| match c {
        Corpus::Ravdess => ravdess.as_str(),
        Corpus::Tess => tess.as_str(),
    };
    sh("cargo", &["build", "--release", "--workspace"])?;
    let runs = Path::new("results/runs/cross-corpus");
    let mut rows = Vec::new();
    for setting in SETTINGS {
        if !only.is_empty() && !only.split(',').any(|o| o == setting.name) {
            continue;
        }
        for recipe in RECIPES {
            if recipe.only.is_some_and(|o| !o.contains(&setting.name)) {
                continue;
            }
            let run_dir = runs.join(setting.name).join(recipe.name);
            if recipe.deep && !deep && !metrics_path(&run_dir).is_file() {
                eprintln!(
                    "{}/{}: not trained (deep rows need --deep)",
                    setting.name, recipe.name
                );
                continue;
            }
            if table_only && !metrics_path(&run_dir).is_file() {
                eprintln!(
                    "{}/{}: not trained (--table-only)",
                    setting.name, recipe.name
                );
                continue;
            }
            train(setting, recipe, &run_dir, &folder)?;
            if !recipe.name.contains("spknorm") {
                adapt(&run_dir)?;
            }
            rows.push(row(setting, recipe.name, &run_dir)?);
        }
        let dir = runs.join(setting.name).join("ensemble");
        let members: Vec<PathBuf> = ENSEMBLE
            .iter()
            .map(|m| runs.join(setting.name).join(m))
            .collect();
        if members.iter().all(|m| metrics_path(m).is_file()) {
            if !metrics_path(&dir).is_file() {
                let out = dir.to_string_lossy().into_owned();
                let members: Vec<String> = members
                    .iter()
                    .map(|m| m.to_string_lossy().into_owned())
                    .collect();
                let mut flags = vec!["--ensemble"];
                flags.extend(members.iter().map(String::as_str));
                flags.extend(["--out", out.as_str()]);
                sh("target/release/ser-eval", &flags)?;
            }
            adapt(&dir)?;
            rows.push(row(setting, "ensemble", &dir)?);
        }
    }
    if only.is_empty() {
        write_table(&rows)?;
    }
    Ok(())
}

/// `metrics.json` of a finished run (its own for one split, the aggregate for k folds).
fn metrics_path(run_dir: &Path) -> PathBuf {
    run_dir.join("metrics.json")
}

/// Trains (and evaluates) one cell unless it is finished.
fn train<'a>(
    setting: &Setting,
    recipe: &Recipe,
    run_dir: &Path,
    folder: &dyn Fn(Corpus) -> &'a str,
) -> Result<()> {
    if metrics_path(run_dir).is_file() {
        return Ok(());
    }
    let out = run_dir.to_string_lossy().into_owned();
    let mut flags: Vec<&str> = Vec::new();
    for &c in setting.train {
        flags.extend(["--data", folder(c)]);
    }
    if let Some(test) = setting.test {
        flags.extend(["--test-data", folder(test)]);
    }
    if let Some(protocol) = setting.protocol {
        flags.extend(["--protocol", protocol, "--fold", "all"]);
    }
    let mut recipe_flags = recipe.flags.iter();
    while let Some(&flag) = recipe_flags.next() {
        if recipe.svm && flag == "--svm-c" {
            recipe_flags.next();
        } else {
            flags.push(flag);
        }
    }
    flags.extend_from_slice(recipe.extra);
    if recipe.svm {
        flags.extend(["--svm-c", setting.svm_c]);
    }
    flags.extend(["--out", out.as_str()]);
    if run_dir.exists() {
        if recipe.deep {
            flags.push("--resume");
        } else {
            std::fs::remove_dir_all(run_dir)
                .with_context(|| format!("cannot remove {}", run_dir.display()))?;
        }
    }
    sh("target/release/ser-train", &flags)
}

/// The adapted evaluation of a finished run, once.
fn adapt(run_dir: &Path) -> Result<()> {
    if metrics_path(&run_dir.join("adapted")).is_file() {
        return Ok(());
    }
    let dir = run_dir.to_string_lossy().into_owned();
    sh("target/release/ser-eval", &[dir.as_str(), "--adapt"])
}

fn read_json(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: bad JSON", path.display()))
}

/// The figures of one metrics file.
struct Figures {
    /// UAR, mean over folds (the one split's for a single split).
    uar: f64,
    /// Its population sd over folds (0 for one split).
    std: f64,
    /// UAR of each corpus (pooled over folds).
    per_corpus: Vec<(String, f64)>,
}

/// The [`Figures`] of a metrics file.
fn figures(metrics: &Value) -> Result<Figures> {
    let number = |v: &Value| v.as_f64().context("not a number");
    if let Some(cv) = metrics.get("cross_validation") {
        let agg = &cv["aggregate"];
        let per_corpus = metrics["per_corpus"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|c| {
                        Ok((
                            c["corpus"].as_str().unwrap_or("?").to_owned(),
                            number(&c["pooled"]["uar"])?,
                        ))
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .transpose()?
            .unwrap_or_default();
        Ok(Figures {
            uar: number(&agg["mean"]["uar"])?,
            std: number(&agg["std"]["uar"])?,
            per_corpus,
        })
    } else {
        let per_corpus = metrics["per_corpus"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|c| {
                        Ok((
                            c["corpus"].as_str().unwrap_or("?").to_owned(),
                            number(&c["uar"])?,
                        ))
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .transpose()?
            .unwrap_or_default();
        Ok(Figures {
            uar: number(&metrics["report"]["uar"])?,
            std: 0.0,
            per_corpus,
        })
    }
}

fn row(setting: &Setting, model: &str, run_dir: &Path) -> Result<Value> {
    let plain = figures(&read_json(&metrics_path(run_dir))?)?;
    let adapted_path = metrics_path(&run_dir.join("adapted"));
    let adapted = if adapted_path.is_file() {
        Some(figures(&read_json(&adapted_path)?)?)
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

fn write_table(rows: &[Value]) -> Result<()> {
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
    for s in SETTINGS {
        let _ = writeln!(md, "- `{}`: {}", s.name, s.description);
    }
    md.push_str(
        "\nRecipes (robust front end throughout): `svm` = SVM on `stats` of the 174 rows with the \
         original's plus channel augmentation in 2 copies (C by inner cross-validation over the \
         training speakers for RAVDESS -> TESS, where it chose 2; C = 2 elsewhere: two TESS \
         speakers cannot make five inner folds, and on the union the choice costs too much here); `svm-spknorm` = the same with \
         `--speaker-norm`; `mlp` = the perceptron ensemble on the same inputs; `mlp-balanced` = the same with `--balance corpus-class`; `ensemble` = the \
         mean of `svm` and `mlp`; `gru` = the GRU on the 174 rows (with `--deep`).\n",
    );
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
        let path = dir.join(name);
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, &path)
            .with_context(|| format!("cannot replace {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
