//! Input checks shared by the plots.

use std::path::Path;

use crate::error::{PlotError, Result};

/// Fails with [`PlotError::Empty`] if `len == 0`.
pub(crate) fn non_empty(path: &Path, what: &'static str, len: usize) -> Result<()> {
    if len == 0 {
        return Err(PlotError::Empty {
            path: path.to_path_buf(),
            what,
        });
    }
    Ok(())
}

/// Fails with [`PlotError::LengthMismatch`] if `actual != expected`.
pub(crate) fn same_len(
    path: &Path,
    what: &'static str,
    expected: usize,
    actual: usize,
) -> Result<()> {
    if actual != expected {
        return Err(PlotError::LengthMismatch {
            path: path.to_path_buf(),
            what,
            expected,
            actual,
        });
    }
    Ok(())
}

/// Fails with [`PlotError::NonFinite`] at the first NaN or infinite value.
pub(crate) fn finite(path: &Path, what: &'static str, values: &[f64]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(PlotError::NonFinite {
            path: path.to_path_buf(),
            what,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// Fails with [`PlotError::OutOfRange`] at the first value outside `[min, max]`
/// (after checking finiteness).
pub(crate) fn in_range(
    path: &Path,
    what: &'static str,
    values: &[f64],
    min: f64,
    max: f64,
) -> Result<()> {
    finite(path, what, values)?;
    match values.iter().position(|v| *v < min || *v > max) {
        Some(index) => Err(PlotError::OutOfRange {
            path: path.to_path_buf(),
            what,
            index,
            value: values[index],
            min,
            max,
        }),
        None => Ok(()),
    }
}
