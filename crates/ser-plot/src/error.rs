//! Error type of the crate.

use std::path::PathBuf;

/// Everything that can go wrong when drawing or writing a plot.
///
/// Every variant names the output file concerned (for input validation
/// errors, the PNG path of the plot being made).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// An input needed to draw the plot is empty.
    #[error("{path}: cannot plot, {what} is empty")]
    Empty {
        /// Output file of the plot.
        path: PathBuf,
        /// What is empty (e.g. `"class_names"`).
        what: &'static str,
    },
    /// Two inputs that must correspond have different lengths.
    #[error("{path}: {what} has {actual} entries, expected {expected}")]
    LengthMismatch {
        /// Output file of the plot.
        path: PathBuf,
        /// The input with the wrong length.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Actual length.
        actual: usize,
    },
    /// A value to plot is NaN or infinite.
    #[error("{path}: {what}[{index}] = {value} is not finite")]
    NonFinite {
        /// Output file of the plot.
        path: PathBuf,
        /// The input holding the value.
        what: &'static str,
        /// Index of the value.
        index: usize,
        /// The value.
        value: f64,
    },
    /// A value is outside the range the plot expects (e.g. a fraction above 1,
    /// often a percentage passed by mistake).
    #[error("{path}: {what}[{index}] = {value} is outside [{min}, {max}]")]
    OutOfRange {
        /// Output file of the plot.
        path: PathBuf,
        /// The input holding the value.
        what: &'static str,
        /// Index of the value.
        index: usize,
        /// The value.
        value: f64,
        /// Smallest accepted value.
        min: f64,
        /// Largest accepted value.
        max: f64,
    },
    /// The embedded font could not be loaded (a corrupt build).
    #[error("{path}: the embedded font could not be registered")]
    Font {
        /// Output file of the plot.
        path: PathBuf,
    },
    /// Plotters failed to draw.
    #[error("{path}: drawing failed: {message}")]
    Draw {
        /// Output file being drawn.
        path: PathBuf,
        /// Plotters' error message.
        message: String,
    },
    /// PNG encoding failed.
    #[error("{path}: PNG encoding failed: {source}")]
    Encode {
        /// Output file being encoded.
        path: PathBuf,
        /// The encoder's error.
        source: png::EncodingError,
    },
    /// Writing or renaming the output file failed.
    #[error("{path}: {source}")]
    Io {
        /// Output file being written.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Result alias of the crate.
pub type Result<T, E = PlotError> = std::result::Result<T, E>;
