//! Project automation: `cargo xtask <command>` (the alias lives in `.cargo/config.toml`).
//!
//! Commands:
//! - `ci`: formatting check, clippy with warnings denied, then the test suite (what `.ci/run` does).
//! - `golden`: regenerate the librosa golden fixtures of `ser-features` (needs Python + librosa;
//!   `cargo xtask python-deps` installs them).
//! - `bench-features [--data DIR] [--preset NAME] [--threads N]`: time feature extraction of a whole
//!   corpus with ser-features and with librosa in the same run, print both and the ratio, and
//!   write `results/benchmarks/features-<preset>.json`.
//! - `python-deps`: `pip install` the pinned Python reference stack (librosa, scikit-learn, torch).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

const DEFAULT_DATA: &str = "../shared/data/ravdess-16k";

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let root = project_root();
    std::env::set_current_dir(&root).with_context(|| format!("cannot enter {}", root.display()))?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        bail!("usage: cargo xtask <ci|golden|bench-features|python-deps> [options]");
    };
    match command.as_str() {
        "ci" => ci(),
        "golden" => golden(),
        "bench-features" => bench_features(rest),
        "python-deps" => python_deps(),
        other => {
            bail!("unknown command {other:?} (known: ci, golden, bench-features, python-deps)")
        }
    }
}

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Runs a command, failing with its command line when it fails.
fn sh(program: &str, args: &[&str]) -> Result<()> {
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
fn capture(program: &str, args: &[&str]) -> Result<String> {
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

fn ci() -> Result<()> {
    sh("cargo", &["fmt", "--all", "--", "--check"])?;
    sh(
        "cargo",
        &[
            "clippy",
            "--release",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    sh("cargo", &["test", "--release", "--workspace"])
}

fn golden() -> Result<()> {
    sh(
        "python3",
        &[
            "crates/ser-features/tests/golden/make_golden.py",
            "crates/ser-features/tests/golden",
        ],
    )
}

fn python_deps() -> Result<()> {
    sh(
        "python3",
        &[
            "-m",
            "pip",
            "install",
            "-r",
            "xtask/scripts/requirements.txt",
        ],
    )
}

/// Reads `--name value` from `args`, with a default.
fn option(args: &[String], name: &str, default: &str) -> String {
    args.windows(2)
        .find(|w| w[0] == name)
        .map_or_else(|| default.to_owned(), |w| w[1].clone())
}

fn json_number(json: &str, key: &str) -> Result<f64> {
    let pattern = format!("\"{key}\": ");
    let start = json
        .find(&pattern)
        .with_context(|| format!("no {key} in {json}"))?
        + pattern.len();
    let end = json[start..]
        .find([',', '}'])
        .map_or(json.len(), |e| start + e);
    json[start..end]
        .trim()
        .parse()
        .with_context(|| format!("bad {key} in {json}"))
}

fn bench_features(args: &[String]) -> Result<()> {
    let data = option(args, "--data", DEFAULT_DATA);
    let preset = option(args, "--preset", "seed");
    let threads = option(args, "--threads", "2");
    if !Path::new(&data).is_dir() {
        bail!("{data}: not a folder (give the corpus with --data DIR)");
    }
    let ours = capture(
        "cargo",
        &[
            "bench",
            "-q",
            "-p",
            "ser-features",
            "--bench",
            "corpus",
            "--",
            &data,
            "--preset",
            &preset,
            "--threads",
            &threads,
        ],
    )?;
    let ours = ours.lines().last().unwrap_or_default().to_owned();
    let theirs = capture(
        "python3",
        &["xtask/scripts/bench_librosa.py", &data, &preset, &threads],
    )?;
    let theirs = theirs.lines().last().unwrap_or_default().to_owned();
    let (a, b) = (
        json_number(&ours, "files_per_s")?,
        json_number(&theirs, "files_per_s")?,
    );
    let ratio = a / b;
    println!(
        "ser-features: {ours}\nlibrosa:      {theirs}\nspeed-up: {ratio:.1}x librosa ({threads} threads each)"
    );
    let out_dir = Path::new("results/benchmarks");
    std::fs::create_dir_all(out_dir)?;
    let report = format!(
        "{{\n  \"command\": \"cargo xtask bench-features --preset {preset} --threads {threads}\",\n  \"ser_features\": {ours},\n  \"librosa\": {theirs},\n  \"speedup\": {ratio:.2}\n}}\n"
    );
    let path = out_dir.join(format!("features-{preset}.json"));
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, report)?;
    std::fs::rename(&tmp, &path)?;
    println!("wrote {}", path.display());
    Ok(())
}
