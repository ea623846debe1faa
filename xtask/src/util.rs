//! What the commands share: running programs (echoed as `$ program args` on standard error),
//! the [`Runner`] behind `--dry-run`, JSON reading and atomic writes.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Default RAVDESS folder (16 kHz copy of the speech part).
pub const DEFAULT_DATA: &str = "../shared/data/ravdess-16k";
/// Default TESS folder.
pub const DEFAULT_TESS: &str = "../shared/data/tess";

/// Runs a command, failing with its command line when it fails.
pub fn sh(program: &str, args: &[&str]) -> Result<()> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .status()
        .with_context(|| format!("cannot start {program}"))?;
    if !status.success() {
        bail!("`{program} {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Runs a command and returns its standard output.
pub fn capture(program: &str, args: &[&str]) -> Result<String> {
    eprintln!("$ {program} {}", args.join(" "));
    let out = Command::new(program)
        .args(args)
        .output()
        .with_context(|| format!("cannot start {program}"))?;
    if !out.status.success() {
        bail!(
            "`{program} {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs the commands of a table-making command, or with `--dry-run` prints them.
///
/// A dry run prints each command line on standard output (`program args`, as `sh` would run
/// it) and each other change to the tree as a `# ` comment, and changes nothing. It counts the
/// files a printed command would make as made, so what follows is planned as a real run would
/// do it (an ensemble after its members, the comparison after its rows).
#[derive(Debug, Default)]
pub struct Runner {
    dry_run: bool,
    /// Files the printed commands of a dry run would have made.
    made: RefCell<BTreeSet<PathBuf>>,
    /// Where a recording dry run keeps its lines instead of printing them (the tests).
    recorded: Option<RefCell<Vec<String>>>,
}

impl Runner {
    pub fn new(dry_run: bool) -> Self {
        Self {
            dry_run,
            ..Self::default()
        }
    }

    /// A dry run that keeps its lines (see [`Runner::lines`]) instead of printing them.
    #[cfg(test)]
    pub fn recording() -> Self {
        Self {
            dry_run: true,
            recorded: Some(RefCell::default()),
            ..Self::default()
        }
    }

    /// The lines a recording dry run has printed so far.
    #[cfg(test)]
    pub fn lines(&self) -> Vec<String> {
        self.recorded
            .as_ref()
            .map(|r| r.borrow().clone())
            .unwrap_or_default()
    }

    /// Prints a line of a dry run (or records it).
    fn print(&self, line: String) {
        match &self.recorded {
            Some(lines) => lines.borrow_mut().push(line),
            None => println!("{line}"),
        }
    }

    pub fn dry_run(&self) -> bool {
        self.dry_run
    }

    /// Runs a command that makes the files `makes` (with `--dry-run`: prints it).
    pub fn run(&self, program: &str, args: &[&str], makes: &[PathBuf]) -> Result<()> {
        if self.dry_run {
            self.print(format!("{program} {}", args.join(" ")));
            self.made.borrow_mut().extend(makes.iter().cloned());
            Ok(())
        } else {
            sh(program, args)
        }
    }

    /// Whether `path` is a file, or one that a command of this dry run would have made.
    pub fn is_file(&self, path: &Path) -> bool {
        path.is_file() || self.made.borrow().contains(path)
    }

    /// Whether `path` is a file made by a command of this dry run (so there is nothing to read).
    pub fn planned(&self, path: &Path) -> bool {
        !path.is_file() && self.made.borrow().contains(path)
    }

    /// Removes a folder (with `--dry-run`: says it would).
    pub fn remove_dir_all(&self, dir: &Path) -> Result<()> {
        if self.dry_run {
            self.note(format_args!("rm -r {}", dir.display()));
            Ok(())
        } else {
            std::fs::remove_dir_all(dir).with_context(|| format!("cannot remove {}", dir.display()))
        }
    }

    /// Prints a `# ` line in a dry run; nothing otherwise.
    pub fn note(&self, what: impl Display) {
        if self.dry_run {
            self.print(format!("# {what}"));
        }
    }
}

/// Reads a JSON file.
pub fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: bad JSON", path.display()))
}

/// Writes `text` to `dir/name` through a temporary file `dir/.name.tmp` and a rename.
pub fn write_atomic(dir: &Path, name: &str, text: &str) -> Result<()> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot replace {}", path.display()))
}

/// A path as an owned string, for command lines.
pub fn path_arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The command lines HEAD's single-file xtask ran for `cargo xtask <command_line>` in a tree
/// without runs (`xtask/testdata/head-commands.txt`).
#[cfg(test)]
pub fn head_commands(command_line: &str) -> Vec<String> {
    const HEAD: &str = include_str!("../testdata/head-commands.txt");
    let header = format!("## cargo xtask {command_line}");
    let mut lines = HEAD.lines().skip_while(|l| *l != header);
    assert!(lines.next().is_some(), "no section {header:?}");
    lines
        .take_while(|l| !l.starts_with("## "))
        .filter(|l| !l.is_empty() && !l.starts_with("# "))
        .map(str::to_owned)
        .collect()
}

/// The command lines of a recorded dry run (its `# ` notes left out).
#[cfg(test)]
pub fn commands_of(runner: &Runner) -> Vec<String> {
    runner
        .lines()
        .into_iter()
        .filter(|l| !l.starts_with("# "))
        .collect()
}
