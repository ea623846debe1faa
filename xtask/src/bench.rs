//! The comparison benchmarks, each against the original Python stack in the same run:
//!
//! - `bench-features`: feature extraction of a whole corpus with ser-features
//!   (`cargo bench --bench corpus`) and with librosa (`xtask/scripts/bench_librosa.py`); prints
//!   both and the ratio, writes `results/benchmarks/features-<preset>.json`.
//! - `bench-predict`: one prediction of a 4-second file, end to end (process start to printed
//!   result), by `ser-predict` with the default model (and with each `--model`) and by a fresh
//!   Python process (librosa features, torch CNN+BiLSTM, `xtask/scripts/predict_torch.py`);
//!   prints the medians and ratios, writes `results/benchmarks/predict.json`.
//! - `bench-train`: a training step (batch 32) and inference (batch 1 and 32) of the original's
//!   deep models with burn-flex (`cargo bench --workspace --bench steps`) and with PyTorch
//!   (`xtask/scripts/bench_torch.py`, 2 threads); prints the ratios, writes
//!   `results/benchmarks/train.json`.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::util::{DEFAULT_DATA, capture, sh};

#[derive(Debug, clap::Args)]
pub struct FeaturesArgs {
    /// The corpus folder.
    #[arg(long, default_value = DEFAULT_DATA)]
    data: String,
    /// The feature preset (`ser-train --preset`).
    #[arg(long, default_value = "seed")]
    preset: String,
    /// Threads of each side.
    #[arg(long, default_value_t = 2)]
    threads: usize,
}

/// The last line of a corpus benchmark (ours or librosa's): one JSON object.
#[derive(Debug, Deserialize)]
struct CorpusLine {
    files_per_s: f64,
}

/// The last line of `text`, parsed as a [`CorpusLine`]; the line itself is returned too, to be
/// quoted in the report as it came.
fn corpus_line(text: &str, who: &str) -> Result<(String, CorpusLine)> {
    let line = text.lines().last().unwrap_or_default().to_owned();
    let parsed = serde_json::from_str(&line)
        .with_context(|| format!("bad {who} benchmark line {line:?}"))?;
    Ok((line, parsed))
}

/// `cargo xtask bench-features`.
pub fn bench_features(args: &FeaturesArgs) -> Result<()> {
    let (data, preset, threads) = (&args.data, &args.preset, args.threads.to_string());
    if !Path::new(data).is_dir() {
        bail!("{data}: not a folder (give the corpus with --data DIR)");
    }
    // Absolute: `cargo bench` runs the benchmark in its package's folder.
    let data = std::fs::canonicalize(data)
        .with_context(|| format!("cannot resolve {data}"))?
        .to_string_lossy()
        .into_owned();
    let (ours, a) = corpus_line(
        &capture(
            "cargo",
            &[
                "bench",
                "-q",
                // The workspace's feature set, as every other build here: no rebuild of shared deps.
                "--workspace",
                "--bench",
                "corpus",
                "--",
                &data,
                "--preset",
                preset,
                "--threads",
                &threads,
            ],
        )?,
        "ser-features",
    )?;
    let (theirs, b) = corpus_line(
        &capture(
            "python3",
            &["xtask/scripts/bench_librosa.py", &data, preset, &threads],
        )?,
        "librosa",
    )?;
    let ratio = a.files_per_s / b.files_per_s;
    println!(
        "ser-features: {ours}\nlibrosa:      {theirs}\nspeed-up: {ratio:.1}x librosa ({threads} threads each)"
    );
    let out_dir = Path::new("results/benchmarks");
    std::fs::create_dir_all(out_dir)?;
    // The two lines are quoted as the benchmarks printed them (one line each).
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

#[derive(Debug, clap::Args)]
pub struct PredictArgs {
    /// Timed runs of each command (after one untimed warm-up run).
    #[arg(long, default_value_t = 10)]
    runs: usize,
    /// A run folder to time as well (repeatable).
    #[arg(long = "model", value_name = "RUN_DIR")]
    models: Vec<String>,
    /// Time ser-predict only, on data/samples/speech-espeak.wav as it is (4.7 s), without the
    /// Python reference (which needs `cargo xtask python-deps`); writes predict-rust.json.
    #[arg(long)]
    no_python: bool,
}

/// Wall-clock seconds of `runs` executions of a command (after one untimed warm-up run that
/// fills the page cache and, for Python, numba's and torch's caches).
fn time_command(program: &str, args: &[&str], runs: usize) -> Result<Vec<f64>> {
    let once = || -> Result<f64> {
        let start = std::time::Instant::now();
        let out = Command::new(program)
            .args(args)
            .output()
            .with_context(|| format!("cannot start {program}"))?;
        let seconds = start.elapsed().as_secs_f64();
        if !out.status.success() {
            bail!(
                "`{program} {}` failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(seconds)
    };
    once()?;
    (0..runs).map(|_| once()).collect()
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// `cargo xtask bench-predict`.
pub fn bench_predict(args: &PredictArgs) -> Result<()> {
    let (runs, models) = (args.runs, &args.models);
    // The whole workspace, as the tests build it: one set of features, no rebuild of burn.
    sh("cargo", &["build", "--release", "--workspace"])?;
    if args.no_python {
        return bench_predict_rust(runs, models);
    }
    let work = Path::new("target/bench-predict");
    std::fs::create_dir_all(work)?;
    let clip = work.join("clip-4s.wav");
    let checkpoint = work.join("cnn-lstm-original.pt");
    let (clip_s, checkpoint_s) = (clip.to_string_lossy(), checkpoint.to_string_lossy());
    let script = "xtask/scripts/predict_torch.py";
    sh(
        "python3",
        &[
            script,
            "--clip",
            "data/samples/speech-espeak.wav",
            "4.0",
            &clip_s,
        ],
    )?;
    sh("python3", &[script, "--init", &checkpoint_s])?;

    let mut rows: Vec<(String, f64)> = Vec::new();
    let ours = time_command("target/release/ser-predict", &["--json", &clip_s], runs)?;
    rows.push(("ser-predict, default model".to_owned(), median(&ours)));
    for model in models {
        let t = time_command(
            "target/release/ser-predict",
            &["--json", "--model", model, &clip_s],
            runs,
        )?;
        rows.push((format!("ser-predict --model {model}"), median(&t)));
    }
    let python = time_command("python3", &[script, &checkpoint_s, &clip_s], runs)?;
    let python_median = median(&python);
    rows.push((
        "Python: librosa + torch CNN+BiLSTM".to_owned(),
        python_median,
    ));
    println!("one prediction of a 4.0 s WAV, process start to printed result, median of {runs}:");
    for (name, seconds) in &rows {
        println!(
            "  {name:<60} {:>8.1} ms  ({:.3}x Python)",
            seconds * 1e3,
            seconds / python_median
        );
    }
    let entries: Vec<serde_json::Value> = rows
        .iter()
        .map(|(name, seconds)| {
            serde_json::json!({
                "what": name,
                "median_ms": (seconds * 1e4).round() / 10.0,
                "ratio_to_python": (seconds / python_median * 1e4).round() / 1e4,
            })
        })
        .collect();
    let report = serde_json::json!({
        "command": format!("cargo xtask bench-predict --runs {runs}{}",
            models.iter().map(|m| format!(" --model {m}")).collect::<String>()),
        "clip": "first 4.0 s of data/samples/speech-espeak.wav (22.05 kHz)",
        "runs": runs,
        "results": entries,
    });
    write_benchmark("predict.json", &report)
}

/// `cargo xtask bench-predict --no-python`: ser-predict's medians alone.
fn bench_predict_rust(runs: usize, models: &[String]) -> Result<()> {
    let clip = "data/samples/speech-espeak.wav";
    let mut rows: Vec<(String, f64)> = Vec::new();
    let ours = time_command("target/release/ser-predict", &["--json", clip], runs)?;
    rows.push(("ser-predict, default model".to_owned(), median(&ours)));
    for model in models {
        let t = time_command(
            "target/release/ser-predict",
            &["--json", "--model", model, clip],
            runs,
        )?;
        rows.push((format!("ser-predict --model {model}"), median(&t)));
    }
    println!("one prediction of {clip}, process start to printed result, median of {runs}:");
    for (name, seconds) in &rows {
        println!("  {name:<60} {:>8.1} ms", seconds * 1e3);
    }
    let entries: Vec<serde_json::Value> = rows
        .iter()
        .map(|(name, seconds)| {
            serde_json::json!({"what": name, "median_ms": (seconds * 1e4).round() / 10.0})
        })
        .collect();
    let report = serde_json::json!({
        "command": format!("cargo xtask bench-predict --no-python --runs {runs}{}",
            models.iter().map(|m| format!(" --model {m}")).collect::<String>()),
        "clip": format!("{clip} (4.7 s, 22.05 kHz)"),
        "runs": runs,
        "results": entries,
    });
    write_benchmark("predict-rust.json", &report)
}

#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Timed steps of each measurement.
    #[arg(long, default_value_t = 8)]
    steps: usize,
}

fn json_lines(text: &str) -> Result<Vec<serde_json::Value>> {
    text.lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .map(|l| serde_json::from_str(l).with_context(|| format!("bad benchmark line {l}")))
        .collect()
}

/// `cargo xtask bench-train`.
pub fn bench_train(args: &TrainArgs) -> Result<()> {
    let steps = args.steps.to_string();
    let ours = json_lines(&capture(
        "cargo",
        &[
            "bench",
            "-q",
            "--workspace",
            "--bench",
            "steps",
            "--",
            "--steps",
            &steps,
        ],
    )?)?;
    let theirs = json_lines(&capture(
        "python3",
        &["xtask/scripts/bench_torch.py", &steps, "2"],
    )?)?;
    const METRICS: [&str; 3] = ["train_step_b32_ms", "infer_b1_ms", "infer_b32_ms"];
    println!(
        "{:<20} {:>28} {:>28} {:>28}",
        "model (ours / torch)", METRICS[0], METRICS[1], METRICS[2]
    );
    let mut rows = Vec::new();
    for a in &ours {
        let model = a["model"].as_str().unwrap_or_default();
        let b = theirs
            .iter()
            .find(|b| b["model"] == a["model"])
            .with_context(|| format!("no PyTorch figure for {model}"))?;
        let mut row = serde_json::json!({ "model": model });
        let mut line = format!("{model:<20}");
        for m in METRICS {
            let (x, y) = (
                a[m].as_f64().unwrap_or(f64::NAN),
                b[m].as_f64().unwrap_or(f64::NAN),
            );
            let ratio = x / y;
            line.push_str(&format!(
                " {:>28}",
                format!("{x:.1} / {y:.1} = {ratio:.2}x")
            ));
            row[m] = serde_json::json!({ "burn_flex": x, "torch": y, "ratio": (ratio * 100.0).round() / 100.0 });
        }
        println!("{line}");
        rows.push(row);
    }
    let report = serde_json::json!({
        "command": format!("cargo xtask bench-train --steps {steps}"),
        "note": "median milliseconds; ratio = ours / PyTorch (2 threads each run, same machine, same run)",
        "torch": theirs.first().map(|t| t["tool"].clone()),
        "results": rows,
    });
    write_benchmark("train.json", &report)
}

/// Writes a benchmark report to `results/benchmarks/<name>` atomically.
fn write_benchmark(name: &str, report: &serde_json::Value) -> Result<()> {
    let out_dir = Path::new("results/benchmarks");
    std::fs::create_dir_all(out_dir)?;
    let path = out_dir.join(name);
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_string_pretty(report)?)?;
    std::fs::rename(&tmp, &path)?;
    println!("wrote {}", path.display());
    Ok(())
}
