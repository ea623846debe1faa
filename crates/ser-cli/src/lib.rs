//! The argument and output pieces the `ser-*` binaries share: the feature-cache flags and the
//! interrupt flag. Everything else (run folders, models, training, evaluation, prediction)
//! is the `ser-run` library; the binaries parse flags, build its values and print.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};

/// The feature-cache flags shared by `ser-train` and `ser-eval`.
#[derive(Debug, Clone, clap::Args)]
pub struct CacheArgs {
    /// Feature cache folder (default: data/cache of the workspace).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Do not read or write the feature cache.
    #[arg(long)]
    pub no_cache: bool,
}

impl CacheArgs {
    /// The cache folder to use, `None` when caching is off.
    pub fn cache_dir(&self) -> Option<PathBuf> {
        (!self.no_cache).then(|| {
            self.cache_dir
                .clone()
                .unwrap_or_else(ser_data::default_cache_dir)
        })
    }
}

/// A flag set by the first Ctrl-C (SIGINT) or SIGTERM, so long work can stop at a safe point;
/// a second Ctrl-C while the flag is set exits at once with status 130.
pub fn interrupt_flag() -> Result<Arc<AtomicBool>> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        // Order matters: the conditional exit sees the flag as it was before this signal.
        signal_hook::flag::register_conditional_shutdown(signal, 130, flag.clone())
            .context("cannot install the signal handler")?;
        signal_hook::flag::register(signal, flag.clone())
            .context("cannot install the signal handler")?;
    }
    Ok(flag)
}
