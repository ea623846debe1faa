//! Fixture readers shared by the golden tests (librosa, pYIN, openSMILE references).

use std::path::{Path, PathBuf};

/// `tests/golden/`, where the reference fixtures and their manifests lie.
pub fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// A fixture of little-endian `f32` values.
pub fn read_f32(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}
