//! Prints the feature matrix of one audio file as CSV, for inspection.
//!
//! ```text
//! cargo run --release -p ser-features --example dump_features -- [--preset seed|speech16k] [--all-frames] FILE
//! ```
//!
//! One line per feature row (174 rows: 40 MFCC, 40 delta, 40 delta-delta, 40 mel dB, 12 chroma,
//! ZCR, RMS), one column per frame, after padding or cropping to the preset's frame count
//! (`--all-frames` skips that step). Values are printed at full f32 precision (shortest
//! representation that round-trips). The audio is decoded and resampled to the preset's rate by
//! `ser-audio`.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use ser_features::{FeatureConfig, FeatureExtractor};

fn run() -> Result<(), String> {
    let mut preset = "speech16k".to_owned();
    let mut all_frames = false;
    let mut file: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--preset" => {
                preset = args
                    .next()
                    .ok_or("--preset needs a value (seed or speech16k)")?
            }
            "--all-frames" => all_frames = true,
            "-h" | "--help" => {
                println!("usage: dump_features [--preset seed|speech16k] [--all-frames] FILE");
                return Ok(());
            }
            _ if file.is_none() && !arg.starts_with("--") => file = Some(PathBuf::from(arg)),
            _ => return Err(format!("unexpected argument {arg:?}")),
        }
    }
    let file = file.ok_or("usage: dump_features [--preset seed|speech16k] [--all-frames] FILE")?;
    let config = FeatureConfig::preset(&preset).map_err(|e| e.to_string())?;
    let audio = ser_audio::load_at(&file, config.sample_rate_hz).map_err(|e| e.to_string())?;
    let mut extractor = FeatureExtractor::new(&config).map_err(|e| e.to_string())?;
    let features = if all_frames {
        extractor.extract_all_frames(&audio.samples)
    } else {
        extractor.extract(&audio.samples)
    }
    .map_err(|e| format!("{}: {e}", file.display()))?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    for r in 0..features.n_rows {
        let line: Vec<String> = features.row(r).iter().map(|v| v.to_string()).collect();
        writeln!(out, "{}", line.join(",")).map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
