//! `cargo xtask golden`: regenerates the librosa golden fixtures of `ser-features`
//! (`crates/ser-features/tests/golden/make_golden.py`; needs Python + librosa, which
//! `cargo xtask python-deps` installs).

use anyhow::Result;

use crate::util::sh;

pub fn golden() -> Result<()> {
    sh(
        "python3",
        &[
            "crates/ser-features/tests/golden/make_golden.py",
            "crates/ser-features/tests/golden",
        ],
    )
}
