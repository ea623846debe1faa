//! `cargo xtask python-deps`: `pip install`s the pinned Python reference stack (librosa,
//! scikit-learn, torch) of `xtask/scripts/requirements.txt`, which `golden` and the benchmarks
//! compare against.

use anyhow::Result;

use crate::util::sh;

pub fn python_deps() -> Result<()> {
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
