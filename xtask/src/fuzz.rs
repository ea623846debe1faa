//! `cargo xtask fuzz`: the decoding + feature-extraction fuzz target of
//! `crates/ser-data/tests/fuzz_decode.rs` (random and mutated WAV/FLAC/MP3/Ogg bytes) for N
//! minutes from a seed; prints the files tried, errors, panics and hangs (inputs that panic or
//! hang are kept in `target/fuzz-failures/`) and fails on any panic, hang or non-finite feature.

use std::process::Command;

use anyhow::{Context, Result, bail};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Minutes to fuzz for.
    #[arg(long, default_value_t = 10.0, allow_negative_numbers = true)]
    minutes: f64,
    /// Seed of the random inputs [default: the clock, in seconds].
    #[arg(long)]
    seed: Option<u64>,
}

pub fn fuzz(args: &Args) -> Result<()> {
    let minutes = args.minutes;
    if !(minutes > 0.0 && minutes.is_finite()) {
        bail!("--minutes {minutes}: must be a positive number");
    }
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    let cargo_args = [
        "test",
        "--release",
        "-p",
        "ser-data",
        "--test",
        "fuzz_decode",
        "--",
        "--nocapture",
    ];
    eprintln!(
        "$ SER_FUZZ_SECONDS={} SER_FUZZ_SEED={seed} cargo {}",
        minutes * 60.0,
        cargo_args.join(" ")
    );
    let status = Command::new("cargo")
        .args(cargo_args)
        .env("SER_FUZZ_SECONDS", (minutes * 60.0).to_string())
        .env("SER_FUZZ_SEED", seed.to_string())
        .status()
        .context("cannot start cargo")?;
    if !status.success() {
        bail!("the fuzz run failed ({status}): see target/fuzz-failures/ and the output above");
    }
    Ok(())
}
