//! `cargo xtask default-model`: the shipped model of `results/default-model/`.
//!
//! Trains each member of `xtask/rows/default-model.toml` on every speaker of every corpus given
//! (`--protocol all-speakers`; default: RAVDESS and TESS of `../shared/data`) into
//! `<work>/<member>` (default `results/runs/default-model/`, resumed when present), then
//! rebuilds `results/default-model/` from what prediction needs of them: one member is the
//! model itself, several are copied into `members/` and joined with `ser-eval --ensemble`. The
//! folder's README.md is kept, and the old folder is restored when the rebuild fails.
//! `--dry-run` prints the commands instead.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::rows::{self, Member};
use crate::util::{DEFAULT_DATA, DEFAULT_TESS, Runner, path_arg};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A corpus folder (repeatable; all are trained on together).
    #[arg(long, value_name = "DIR", default_values_t = [DEFAULT_DATA.to_owned(), DEFAULT_TESS.to_owned()])]
    data: Vec<String>,
    /// Where the member runs are trained (and resumed).
    #[arg(long, value_name = "DIR", default_value = "results/runs/default-model")]
    work: PathBuf,
    /// Print the commands (and `# ` the other changes) instead of running them.
    #[arg(long)]
    dry_run: bool,
}

/// Files of a member run that prediction reads (the rest, checkpoints and reports, stay in
/// the work folder).
const MEMBER_FILES: &[&str] = &[
    "ser-run.json",
    "classic-model.json",
    "classic-model.json.sha256",
    "classic-model.safetensors",
    "classic-model.safetensors.sha256",
    "model.json",
    "model.bpk",
    "model.bpk.sha256",
];

pub fn default_model(args: &Args) -> Result<()> {
    for dir in &args.data {
        if !Path::new(dir).is_dir() {
            bail!("{dir}: not a folder (give the corpora with --data DIR, repeated)");
        }
    }
    run(&Runner::new(args.dry_run), args)
}

/// The default model once the corpora are known to be there, through `runner`.
fn run(runner: &Runner, args: &Args) -> Result<()> {
    let members = rows::default_model_members()?;
    let (data, work) = (&args.data, &args.work);
    runner.run("cargo", &["build", "--release", "--workspace"], &[])?;
    for member in &members {
        let dir = work.join(&member.name);
        let out = path_arg(&dir);
        let mut flags = Vec::new();
        for d in data {
            flags.extend(["--data", d.as_str()]);
        }
        flags.extend(["--protocol", "all-speakers", "--out", out.as_str()]);
        flags.extend(member.flags.iter().map(String::as_str));
        if dir.join("ser-run.json").is_file() {
            // Finished runs return at once; interrupted ones continue.
            flags.push("--resume");
        }
        runner.run("target/release/ser-train", &flags, &[])?;
    }
    let target = Path::new("results/default-model");
    if runner.dry_run() {
        let destinations = destinations(&members, target);
        for (member, to) in members.iter().zip(&destinations) {
            runner.note(format_args!(
                "copy {} of {} into {}",
                MEMBER_FILES.join(" "),
                work.join(&member.name).display(),
                to.display()
            ));
        }
        if let Some(flags) = ensemble_flags(&destinations) {
            let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
            runner.run("target/release/ser-eval", &flags, &[])?;
        }
        runner.note(format_args!("keep {}/README.md", target.display()));
        return Ok(());
    }
    rebuild(&members, work, target)
}

/// Where each member goes: one member is the model itself; several are joined as an ensemble.
fn destinations(members: &[Member], target: &Path) -> Vec<PathBuf> {
    members
        .iter()
        .map(|m| {
            if members.len() == 1 {
                target.to_path_buf()
            } else {
                target.join("members").join(&m.name)
            }
        })
        .collect()
}

/// The `ser-eval` flags that join several members (none for one).
fn ensemble_flags(destinations: &[PathBuf]) -> Option<Vec<String>> {
    if destinations.len() == 1 {
        return None;
    }
    let mut flags = vec!["--ensemble".to_owned()];
    flags.extend(destinations.iter().map(|d| path_arg(d)));
    flags.extend(["--out".to_owned(), "results/default-model".to_owned()]);
    Some(flags)
}

/// Builds the new folder in place of the old one, restoring the old one on failure.
fn rebuild(members: &[Member], work: &Path, target: &Path) -> Result<()> {
    let old = Path::new("results/.default-model.old");
    if old.exists() {
        std::fs::remove_dir_all(old).with_context(|| format!("cannot remove {}", old.display()))?;
    }
    if target.exists() {
        std::fs::rename(target, old)
            .with_context(|| format!("cannot move {} aside", target.display()))?;
    }
    let build = || -> Result<()> {
        let destinations = destinations(members, target);
        for (member, to) in members.iter().zip(&destinations) {
            let from = work.join(&member.name);
            std::fs::create_dir_all(to)
                .with_context(|| format!("cannot create {}", to.display()))?;
            for file in MEMBER_FILES {
                if from.join(file).is_file() {
                    std::fs::copy(from.join(file), to.join(file)).with_context(|| {
                        format!(
                            "cannot copy {} to {}",
                            from.join(file).display(),
                            to.display()
                        )
                    })?;
                }
            }
            // The shipped weights must carry their checksums (ser-predict verifies them); a
            // run saved before checksums existed has none.
            for weights in [
                "classic-model.json",
                "classic-model.safetensors",
                "model.bpk",
            ] {
                if to.join(weights).is_file() && !to.join(format!("{weights}.sha256")).is_file() {
                    bail!(
                        "{}: {weights} has no {weights}.sha256 beside it (saved before checksums \
                         were written): retrain it, or write it with `sha256sum {weights} > \
                         {weights}.sha256` in that folder",
                        from.display()
                    );
                }
            }
        }
        let readme = old.join("README.md");
        if readme.is_file() {
            std::fs::copy(&readme, target.join("README.md"))
                .context("cannot keep the default model's README.md")?;
        }
        match ensemble_flags(&destinations) {
            None => Ok(()),
            Some(flags) => {
                let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
                crate::util::sh("target/release/ser-eval", &flags)
            }
        }
    };
    match build() {
        Ok(()) => {
            if old.exists() {
                std::fs::remove_dir_all(old)
                    .with_context(|| format!("cannot remove {}", old.display()))?;
            }
            eprintln!("wrote {}", target.display());
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(target);
            if old.exists() {
                std::fs::rename(old, target).with_context(|| {
                    format!(
                        "{e:#}; and cannot restore {} from {}",
                        target.display(),
                        old.display()
                    )
                })?;
            }
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::{commands_of, head_commands};

    /// `--dry-run` of `cargo xtask default-model` in a tree without runs.
    fn dry_run(data: &[&str], work: &str) -> Result<Vec<String>> {
        let args = Args {
            data: data.iter().map(|s| (*s).to_owned()).collect(),
            work: PathBuf::from(work),
            dry_run: true,
        };
        let runner = Runner::recording();
        run(&runner, &args)?;
        Ok(commands_of(&runner))
    }

    #[test]
    fn the_commands_are_those_of_head() -> Result<()> {
        assert_eq!(
            dry_run(&[DEFAULT_DATA, DEFAULT_TESS], "results/runs/default-model")?,
            head_commands("default-model")
        );
        assert_eq!(
            dry_run(&["A", "B"], "W")?,
            head_commands("default-model --data A --data B --work W")
        );
        Ok(())
    }
}
