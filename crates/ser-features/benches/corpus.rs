//! Feature extraction over a whole corpus: decode, resample to the preset's rate, extract.
//!
//! ```text
//! cargo bench --workspace --bench corpus -- DIR [--preset seed|speech16k] [--threads N]
//! ```
//!
//! Prints one JSON object: files, seconds, files per second, threads. `cargo xtask bench-features`
//! runs it beside librosa doing the same work on the same files and prints the ratio.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use ser_features::{FeatureConfig, FeatureExtractor};

fn audio_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            audio_files(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("wav"))
        {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> Result<(), String> {
    let mut dir = None;
    let mut preset = "seed".to_owned();
    let mut threads = 0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--preset" => preset = args.next().ok_or("--preset needs a value")?,
            "--threads" => {
                threads = args
                    .next()
                    .and_then(|t| t.parse().ok())
                    .ok_or("--threads needs a number")?
            }
            "--bench" => {}
            _ => dir = Some(PathBuf::from(arg)),
        }
    }
    let dir = dir.ok_or("usage: corpus DIR [--preset NAME] [--threads N]")?;
    let config = FeatureConfig::preset(&preset).map_err(|e| e.to_string())?;
    let mut files = Vec::new();
    audio_files(&dir, &mut files).map_err(|e| format!("{}: {e}", dir.display()))?;
    files.sort();
    if files.is_empty() {
        return Err(format!("{}: no .wav files", dir.display()));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| e.to_string())?;
    let extractor = FeatureExtractor::new(&config).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let frames: Result<usize, String> = pool.install(|| {
        files
            .par_iter()
            .map_init(
                || extractor.clone(),
                |ex, path| {
                    let audio = ser_audio::load_at(path, config.sample_rate_hz)
                        .map_err(|e| e.to_string())?;
                    let m = ex
                        .extract(&audio.samples)
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    Ok(m.n_frames)
                },
            )
            .sum()
    });
    frames?;
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{{\"tool\": \"ser-features\", \"preset\": \"{preset}\", \"files\": {}, \"seconds\": {seconds:.4}, \"files_per_s\": {:.2}, \"threads\": {}}}",
        files.len(),
        files.len() as f64 / seconds,
        pool.current_num_threads()
    );
    Ok(())
}
