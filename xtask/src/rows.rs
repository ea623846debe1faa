//! The rows of the tables xtask makes, read from the data files of `xtask/rows/` (embedded in
//! the binary, so `cargo xtask` needs no path): the shared flag lists (`recipes.toml`), the model
//! comparison (`results.toml`), the cross-corpus settings and recipes (`cross-corpus.toml`) and
//! the members of the default model (`default-model.toml`). Each loader parses its file with
//! serde, resolves the recipes it names and checks the file's invariants (unique names, no
//! empty flag list, every name it refers to defined), so a bad edit fails before anything runs.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result, bail, ensure};
use serde::Deserialize;

const RECIPES: &str = include_str!("../rows/recipes.toml");
const RESULTS: &str = include_str!("../rows/results.toml");
const CROSS_CORPUS: &str = include_str!("../rows/cross-corpus.toml");
const DEFAULT_MODEL: &str = include_str!("../rows/default-model.toml");

/// Flags that xtask itself gives `ser-train`; no row may set them.
const RESERVED_FLAGS: &[&str] = &["--data", "--test-data", "--fold", "--out", "--resume"];

/// The classical models of `ser-train --model` (the rest are deep networks).
const CLASSICAL_MODELS: &[&str] = &["svm", "rf", "knn", "mlp"];

/// Flags written in a data file as one string, separated by spaces.
type FlagText = String;

/// The named flag lists of `recipes.toml`.
fn recipes() -> Result<BTreeMap<String, FlagText>> {
    toml::from_str(RECIPES).context("xtask/rows/recipes.toml")
}

/// A recipe's flags (when it names one) followed by its own, checked.
fn resolve(
    recipes: &BTreeMap<String, FlagText>,
    what: &str,
    recipe: Option<&str>,
    flags: &str,
) -> Result<Vec<String>> {
    let mut all: Vec<String> = Vec::new();
    if let Some(name) = recipe {
        let text = recipes
            .get(name)
            .with_context(|| format!("{what}: no recipe {name:?} in recipes.toml"))?;
        all.extend(text.split_whitespace().map(str::to_owned));
    }
    all.extend(flags.split_whitespace().map(str::to_owned));
    ensure!(!all.is_empty(), "{what}: no flags");
    for reserved in RESERVED_FLAGS {
        ensure!(
            !all.iter().any(|f| f == reserved),
            "{what}: sets {reserved}, which xtask gives itself"
        );
    }
    Ok(all)
}

/// The value of `--model` in a flag list.
pub fn model_of(flags: &[String]) -> Option<&str> {
    flags
        .windows(2)
        .find(|w| w[0] == "--model")
        .map(|w| w[1].as_str())
}

/// Checks that a (resolved) flag list names a model and that `deep` says what kind it is.
fn check_model(what: &str, flags: &[String], deep: bool) -> Result<()> {
    let model = model_of(flags).with_context(|| format!("{what}: no --model"))?;
    ensure!(
        deep != CLASSICAL_MODELS.contains(&model),
        "{what}: --model {model} but deep = {deep}"
    );
    Ok(())
}

/// Fails on the first name given twice.
fn unique<'a>(what: &str, names: impl IntoIterator<Item = &'a str>) -> Result<()> {
    let mut seen = BTreeSet::new();
    for name in names {
        ensure!(!name.is_empty(), "{what}: an empty name");
        ensure!(seen.insert(name), "{what}: {name:?} twice");
    }
    Ok(())
}

/// One row of the model comparison, as written in `results.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RowFile {
    name: String,
    #[serde(default)]
    deep: bool,
    recipe: Option<String>,
    #[serde(default)]
    flags: FlagText,
    #[serde(default)]
    robustness: bool,
}

/// One ensemble of the comparison, as written in `results.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnsembleFile {
    name: String,
    members: Vec<String>,
    #[serde(default)]
    robustness: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultsFile {
    row: Vec<RowFile>,
    ensemble: Vec<EnsembleFile>,
}

/// One row of the model comparison: a name (its folder under `results/models/`), whether it is
/// a deep model (hours on a 2-core CPU) and the `ser-train` flags besides `--data`, `--fold all`
/// and `--out`.
#[derive(Debug, Clone)]
pub struct Row {
    pub name: String,
    pub deep: bool,
    pub flags: Vec<String>,
    /// Also evaluated with `ser-eval --robustness`.
    pub robustness: bool,
}

/// A row that averages the class probabilities of finished rows, fold by fold
/// (`ser-eval --ensemble`).
#[derive(Debug, Clone)]
pub struct EnsembleRow {
    pub name: String,
    /// Names of rows, in order.
    pub members: Vec<String>,
    /// Also evaluated with `ser-eval --robustness`.
    pub robustness: bool,
}

/// The model comparison of `results.toml`, in the file's order.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub rows: Vec<Row>,
    pub ensembles: Vec<EnsembleRow>,
}

/// Reads and checks `results.toml`.
pub fn comparison() -> Result<Comparison> {
    let recipes = recipes()?;
    let file: ResultsFile = toml::from_str(RESULTS).context("xtask/rows/results.toml")?;
    let mut rows = Vec::new();
    for r in file.row {
        let what = format!("results.toml: row {}", r.name);
        let flags = resolve(&recipes, &what, r.recipe.as_deref(), &r.flags)?;
        check_model(&what, &flags, r.deep)?;
        rows.push(Row {
            name: r.name,
            deep: r.deep,
            flags,
            robustness: r.robustness,
        });
    }
    let ensembles: Vec<EnsembleRow> = file
        .ensemble
        .into_iter()
        .map(|e| EnsembleRow {
            name: e.name,
            members: e.members,
            robustness: e.robustness,
        })
        .collect();
    unique(
        "results.toml",
        rows.iter()
            .map(|r| r.name.as_str())
            .chain(ensembles.iter().map(|e| e.name.as_str())),
    )?;
    for e in &ensembles {
        ensure!(
            e.members.len() >= 2,
            "results.toml: ensemble {} has fewer than two members",
            e.name
        );
        unique(
            &format!("results.toml: ensemble {}", e.name),
            e.members.iter().map(String::as_str),
        )?;
        for m in &e.members {
            ensure!(
                rows.iter().any(|r| &r.name == m),
                "results.toml: ensemble {}: no row {m}",
                e.name
            );
        }
    }
    Ok(Comparison { rows, ensembles })
}

/// A corpus of the cross-corpus table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Corpus {
    Ravdess,
    Tess,
}

/// One way of crossing corpora.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setting {
    pub name: String,
    /// What the row means, for the table.
    pub description: String,
    /// `--data` folders, in order.
    pub train: Vec<Corpus>,
    /// `--test-data`, for a cross-corpus split.
    pub test: Option<Corpus>,
    /// `--protocol` and `--fold all`, for the multi-corpus settings.
    pub protocol: Option<String>,
    /// `--svm-c` of the SVM recipes: the inner choice of C cannot split two speakers into five
    /// folds, and costs too much on the union.
    pub svm_c: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecipeFile {
    name: String,
    #[serde(default)]
    deep: bool,
    recipe: Option<String>,
    #[serde(default)]
    flags: FlagText,
    #[serde(default)]
    setting_svm_c: bool,
    only: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CrossCorpusFile {
    ensemble: Vec<String>,
    notes: String,
    setting: Vec<Setting>,
    recipe: Vec<RecipeFile>,
}

/// One model recipe of the cross-corpus table.
#[derive(Debug, Clone)]
pub struct Recipe {
    pub name: String,
    pub deep: bool,
    /// `ser-train` flags besides the corpus, protocol and output flags.
    pub flags: Vec<String>,
    /// Whether the setting's `--svm-c` replaces the recipe's.
    pub setting_svm_c: bool,
    /// The settings it is trained in (`None`: every one).
    pub only: Option<Vec<String>>,
}

impl Recipe {
    /// Whether the recipe is trained in a setting.
    pub fn trained_in(&self, setting: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|s| s == setting))
    }
}

/// The cross-corpus table of `cross-corpus.toml`, in the file's order.
#[derive(Debug, Clone)]
pub struct CrossCorpus {
    pub settings: Vec<Setting>,
    pub recipes: Vec<Recipe>,
    /// Recipes whose runs the ensemble row joins.
    pub ensemble: Vec<String>,
    /// The paragraph under the table that says what the recipes are.
    pub notes: String,
}

/// Reads and checks `cross-corpus.toml`.
pub fn cross_corpus() -> Result<CrossCorpus> {
    let shared = recipes()?;
    let file: CrossCorpusFile =
        toml::from_str(CROSS_CORPUS).context("xtask/rows/cross-corpus.toml")?;
    unique(
        "cross-corpus.toml: settings",
        file.setting.iter().map(|s| s.name.as_str()),
    )?;
    for s in &file.setting {
        ensure!(
            !s.train.is_empty(),
            "cross-corpus.toml: setting {}: no training corpus",
            s.name
        );
        ensure!(
            s.test.is_some() != s.protocol.is_some(),
            "cross-corpus.toml: setting {}: give either test or protocol",
            s.name
        );
        ensure!(
            !s.svm_c.is_empty() && !s.svm_c.contains(char::is_whitespace),
            "cross-corpus.toml: setting {}: bad svm_c {:?}",
            s.name,
            s.svm_c
        );
    }
    let mut recipes = Vec::new();
    for r in file.recipe {
        let what = format!("cross-corpus.toml: recipe {}", r.name);
        ensure!(r.name != "ensemble", "{what}: the name of the ensemble row");
        ensure!(
            !(r.setting_svm_c && r.flags.split_whitespace().any(|f| f == "--svm-c")),
            "{what}: --svm-c in its own flags, but the setting's replaces it"
        );
        let flags = resolve(&shared, &what, r.recipe.as_deref(), &r.flags)?;
        check_model(&what, &flags, r.deep)?;
        if r.setting_svm_c {
            ensure!(
                model_of(&flags) == Some("svm"),
                "{what}: setting_svm_c for a model that is not an SVM"
            );
        }
        if let Some(only) = &r.only {
            ensure!(!only.is_empty(), "{what}: an empty only list");
            for s in only {
                ensure!(
                    file.setting.iter().any(|x| &x.name == s),
                    "{what}: only names no setting {s}"
                );
            }
        }
        recipes.push(Recipe {
            name: r.name,
            deep: r.deep,
            flags,
            setting_svm_c: r.setting_svm_c,
            only: r.only,
        });
    }
    unique(
        "cross-corpus.toml: recipes",
        recipes.iter().map(|r| r.name.as_str()),
    )?;
    ensure!(
        file.ensemble.len() >= 2,
        "cross-corpus.toml: the ensemble needs two members"
    );
    unique(
        "cross-corpus.toml: ensemble",
        file.ensemble.iter().map(String::as_str),
    )?;
    for m in &file.ensemble {
        let Some(r) = recipes.iter().find(|r| &r.name == m) else {
            bail!("cross-corpus.toml: ensemble: no recipe {m}");
        };
        ensure!(
            r.only.is_none(),
            "cross-corpus.toml: ensemble member {m} is not trained in every setting"
        );
    }
    Ok(CrossCorpus {
        settings: file.setting,
        recipes,
        ensemble: file.ensemble,
        notes: file.notes,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberFile {
    name: String,
    recipe: Option<String>,
    #[serde(default)]
    flags: FlagText,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DefaultModelFile {
    member: Vec<MemberFile>,
}

/// A member of the shipped default model: its folder name and its `ser-train` flags besides
/// `--data`, `--protocol` and `--out`.
#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub flags: Vec<String>,
}

/// Reads and checks `default-model.toml`.
pub fn default_model_members() -> Result<Vec<Member>> {
    let shared = recipes()?;
    let file: DefaultModelFile =
        toml::from_str(DEFAULT_MODEL).context("xtask/rows/default-model.toml")?;
    ensure!(!file.member.is_empty(), "default-model.toml: no member");
    unique(
        "default-model.toml",
        file.member.iter().map(|m| m.name.as_str()),
    )?;
    file.member
        .into_iter()
        .map(|m| {
            let what = format!("default-model.toml: member {}", m.name);
            let flags = resolve(&shared, &what, m.recipe.as_deref(), &m.flags)?;
            ensure!(
                !flags.iter().any(|f| f == "--protocol"),
                "{what}: sets --protocol, which xtask gives itself"
            );
            model_of(&flags).with_context(|| format!("{what}: no --model"))?;
            Ok(Member {
                name: m.name,
                flags,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_data_file_parses_and_keeps_its_invariants() -> Result<()> {
        let c = comparison()?;
        assert_eq!(c.rows.len(), 48);
        assert_eq!(c.ensembles.len(), 9);
        let x = cross_corpus()?;
        assert_eq!(x.settings.len(), 4);
        assert_eq!(x.recipes.len(), 5);
        let members = default_model_members()?;
        assert_eq!(members.len(), 1);
        Ok(())
    }

    #[test]
    fn every_shared_recipe_is_used_and_well_formed() -> Result<()> {
        let shared = recipes()?;
        let used: BTreeSet<String> = [RESULTS, CROSS_CORPUS, DEFAULT_MODEL]
            .iter()
            .flat_map(|text| text.lines())
            .filter_map(|l| l.strip_prefix("recipe = \""))
            .filter_map(|l| l.strip_suffix('"'))
            .map(str::to_owned)
            .collect();
        for name in shared.keys() {
            assert!(used.contains(name), "recipes.toml: {name} is used nowhere");
            let flags = resolve(&shared, name, Some(name), "")?;
            assert!(model_of(&flags).is_some(), "{name}: no --model");
            assert!(!flags.is_empty());
        }
        Ok(())
    }

    #[test]
    fn rows_flags_are_flag_value_pairs_or_switches() -> Result<()> {
        let c = comparison()?;
        let x = cross_corpus()?;
        let lists = c
            .rows
            .iter()
            .map(|r| (&r.name, &r.flags))
            .chain(x.recipes.iter().map(|r| (&r.name, &r.flags)));
        for (name, flags) in lists {
            assert!(flags[0].starts_with("--"), "{name}: starts with a value");
            let mut seen = BTreeSet::new();
            for f in flags.iter().filter(|f| f.starts_with("--")) {
                assert!(seen.insert(f), "{name}: {f} twice");
            }
        }
        Ok(())
    }

    #[test]
    fn robustness_rows_are_the_published_ones() -> Result<()> {
        let c = comparison()?;
        let marked: Vec<&str> = c
            .rows
            .iter()
            .filter(|r| r.robustness)
            .map(|r| r.name.as_str())
            .chain(
                c.ensembles
                    .iter()
                    .filter(|e| e.robustness)
                    .map(|e| e.name.as_str()),
            )
            .collect();
        assert_eq!(
            marked,
            [
                "svm-full-stats-seed-augmented-cauto",
                "svm-full-stats-robust-augmented-cauto",
                "mlp-full-stats-robust-augmented",
                "ensemble-svm-mlp-robust",
                "ensemble-svm-mlp-egemaps-robust",
            ]
        );
        Ok(())
    }

    #[test]
    fn bad_files_are_refused() {
        let shared: BTreeMap<String, FlagText> =
            [("a".to_owned(), "--model svm".to_owned())].into();
        assert!(resolve(&shared, "x", Some("missing"), "").is_err());
        assert!(resolve(&shared, "x", None, "  ").is_err());
        assert!(resolve(&shared, "x", Some("a"), "--out here").is_err());
        assert!(check_model("x", &["--model".to_owned(), "svm".to_owned()], true).is_err());
        assert!(check_model("x", &["--model".to_owned(), "gru".to_owned()], false).is_err());
        assert!(unique("x", ["a", "b", "a"]).is_err());
        let bad_field = "[[row]]\nname = \"a\"\nflag = \"--model svm\"\n";
        assert!(toml::from_str::<ResultsFile>(bad_field).is_err());
    }
}
