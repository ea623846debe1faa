//! `cargo xtask test` and `cargo xtask ci`.
//!
//! `test` is the test suite, browser test included: it installs Debian's `chromium` and
//! `chromium-driver` when missing (apt-get, as root or through sudo), then runs
//! `cargo test --release --workspace -- --include-ignored` (the only ignored test is the
//! headless-Chromium test of `ser-serve`). It is what `.ci/run` runs after the format check.
//! `ci` checks formatting, runs clippy with warnings denied, then `test`.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::util::{capture, sh};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// `cargo xtask ci`: formatting check, clippy with warnings denied, then [`test`].
pub fn ci() -> Result<()> {
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
    test()
}

/// `cargo xtask test`: the whole test suite, the browser test included.
pub fn test() -> Result<()> {
    ensure_chromium()?;
    sh(
        "cargo",
        &[
            "test",
            "--release",
            "--workspace",
            "--",
            "--include-ignored",
        ],
    )
}

/// Installs Debian's chromium and chromium-driver for the browser test of `ser-serve`.
fn ensure_chromium() -> Result<()> {
    if Path::new(CHROMIUM).is_file() && Path::new(CHROMEDRIVER).is_file() {
        return Ok(());
    }
    let root = capture("id", &["-u"])?.trim() == "0";
    let apt = |args: &[&str]| -> Result<()> {
        let mut full = vec!["env", "DEBIAN_FRONTEND=noninteractive", "apt-get"];
        full.extend_from_slice(args);
        if root {
            sh(full[0], &full[1..])
        } else {
            sh("sudo", &full)
        }
    };
    apt(&["update", "-qq"]).context("cannot update Debian's package lists")?;
    apt(&["install", "-y", "-qq", "chromium", "chromium-driver"])
        .context("cannot install chromium and chromium-driver (needed by the browser test)")?;
    if !(Path::new(CHROMIUM).is_file() && Path::new(CHROMEDRIVER).is_file()) {
        bail!("{CHROMIUM} or {CHROMEDRIVER} still missing after apt-get install");
    }
    Ok(())
}
