//! `ser-serve`: a local web page and JSON API for speech emotion recognition.
//!
//! ```text
//! ser-serve [--model RUN_DIR]... [--addr 127.0.0.1:8501]
//! ```
//! Then open http://127.0.0.1:8501/ and upload, drop or record audio.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use ser_serve::{AppState, ServeOptions, is_loopback, serve};

/// Serve the ser web page and JSON API.
#[derive(Debug, Parser)]
#[command(name = "ser-serve", version, about, long_about = None)]
struct Args {
    /// Trained run folder(s) to serve; several are compared side by side.
    /// Default: the shipped model in results/default-model.
    #[arg(long = "model", value_name = "RUN_DIR")]
    models: Vec<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8501")]
    addr: SocketAddr,
    /// Allow a non-loopback --addr (the page and API then face the network).
    #[arg(long)]
    public: bool,
    /// Largest accepted upload, in MiB (1 MiB = 1,048,576 bytes).
    #[arg(long, visible_alias = "max-upload-mib", default_value_t = 25)]
    max_upload_mb: usize,
    /// Longest time one request may take, in seconds (503 after it; the work is stopped).
    #[arg(long, default_value_t = 30)]
    timeout_s: u64,
    /// Longest accepted audio, in seconds of sound (WAV, FLAC and AIFF are measured from their
    /// headers before decoding; MP3 and Ogg are decoded only up to the limit).
    #[arg(long, default_value_t = 600.0)]
    max_duration_s: f64,
    /// Longest wait for a request's headers, in seconds; the connection is closed after it.
    #[arg(long, default_value_t = 10)]
    header_timeout_s: u64,
    /// Longest wait for a request's body once its headers arrived, in seconds (408 after it).
    #[arg(long, default_value_t = 30)]
    body_timeout_s: u64,
    /// Most connections open at once (a new one beyond it closes the longest-open idle one).
    #[arg(long, default_value_t = 256)]
    max_connections: usize,
    /// Seconds between analysis windows of long recordings (at least 0.01).
    #[arg(long, default_value_t = 1.0)]
    hop_s: f64,
}

/// Longest accepted timeout (deadlines far beyond it overflow clocks).
const MAX_TIMEOUT_S: u64 = 86_400;

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<()> {
    if !is_loopback(&args.addr) && !args.public {
        bail!(
            "--addr {}: not a loopback address; add --public to serve the network",
            args.addr
        );
    }
    if !(args.hop_s >= ser_run::predict::MIN_HOP_S && args.hop_s.is_finite()) {
        bail!(
            "--hop-s {}: must be a number of seconds of at least {}",
            args.hop_s,
            ser_run::predict::MIN_HOP_S
        );
    }
    if args.max_upload_mb == 0
        || args.timeout_s == 0
        || args.header_timeout_s == 0
        || args.body_timeout_s == 0
        || args.max_connections == 0
    {
        bail!(
            "--max-upload-mb, --timeout-s, --header-timeout-s, --body-timeout-s and \
             --max-connections must be positive"
        );
    }
    for (flag, value) in [
        ("--timeout-s", args.timeout_s),
        ("--header-timeout-s", args.header_timeout_s),
        ("--body-timeout-s", args.body_timeout_s),
    ] {
        if value > MAX_TIMEOUT_S {
            bail!("{flag} {value}: at most {MAX_TIMEOUT_S} s (one day)");
        }
    }
    let Some(max_upload_bytes) = args.max_upload_mb.checked_mul(ser_serve::MIB) else {
        bail!(
            "--max-upload-mb {}: too large (at most {} MiB)",
            args.max_upload_mb,
            usize::MAX / ser_serve::MIB
        );
    };
    if !(args.max_duration_s > 0.0 && args.max_duration_s.is_finite()) {
        bail!(
            "--max-duration-s {}: must be a positive number of seconds",
            args.max_duration_s
        );
    }
    let dirs = if args.models.is_empty() {
        vec![ser_run::default_model_dir()]
    } else {
        args.models.clone()
    };
    let options = ServeOptions {
        max_upload_bytes,
        timeout: Duration::from_secs(args.timeout_s),
        hop_s: args.hop_s,
        max_duration_s: args.max_duration_s,
        header_timeout: Duration::from_secs(args.header_timeout_s),
        body_timeout: Duration::from_secs(args.body_timeout_s),
        max_connections: args.max_connections,
        ..ServeOptions::default()
    };
    let state = Arc::new(AppState::load(&dirs, options)?);
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.addr))?;
        let addr = listener.local_addr()?;
        for m in state.models() {
            eprintln!("model: {}", m["id"].as_str().unwrap_or_default());
        }
        eprintln!("serving http://{addr}/ (Ctrl-C stops)");
        serve(listener, state, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
    })
}
