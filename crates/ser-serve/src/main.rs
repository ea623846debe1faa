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
    /// Largest accepted upload, in MB.
    #[arg(long, default_value_t = 25)]
    max_upload_mb: usize,
    /// Longest time one request may take, in seconds.
    #[arg(long, default_value_t = 30)]
    timeout_s: u64,
    /// Seconds between analysis windows of long recordings.
    #[arg(long, default_value_t = 1.0)]
    hop_s: f64,
}

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
    if !(args.hop_s > 0.0 && args.hop_s.is_finite()) {
        bail!(
            "--hop-s {}: must be a positive number of seconds",
            args.hop_s
        );
    }
    if args.max_upload_mb == 0 || args.timeout_s == 0 {
        bail!("--max-upload-mb and --timeout-s must be positive");
    }
    let dirs = if args.models.is_empty() {
        vec![ser_cli::default_model_dir()]
    } else {
        args.models.clone()
    };
    let options = ServeOptions {
        max_upload_bytes: args.max_upload_mb * 1024 * 1024,
        timeout: Duration::from_secs(args.timeout_s),
        hop_s: args.hop_s,
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
