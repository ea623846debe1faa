//! Error type of the crate.

/// Everything that can go wrong when computing metrics.
///
/// Every variant carries the numbers needed to locate the problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// Two inputs that must have one element per sample have different lengths.
    #[error("length mismatch: {left} has {left_len} elements but {right} has {right_len}")]
    LengthMismatch {
        /// Name of the first input (e.g. `"y_true"`).
        left: &'static str,
        /// Length of the first input.
        left_len: usize,
        /// Name of the second input (e.g. `"y_pred"`).
        right: &'static str,
        /// Length of the second input.
        right_len: usize,
    },
    /// A class label is not in `0..n_classes`.
    #[error("{input}[{index}] = {label} is out of range for {n_classes} classes")]
    LabelOutOfRange {
        /// Name of the input holding the label (`"y_true"` or `"y_pred"`).
        input: &'static str,
        /// Position of the offending label.
        index: usize,
        /// The offending label.
        label: usize,
        /// Number of classes (valid labels are `0..n_classes`).
        n_classes: usize,
    },
    /// An input that needs at least one element is empty.
    #[error("empty input: {input} has no elements")]
    Empty {
        /// Name of the empty input.
        input: &'static str,
    },
    /// Fewer than two classes were given.
    #[error("at least 2 classes are required, got {n_classes}")]
    TooFewClasses {
        /// Number of classes given.
        n_classes: usize,
    },
    /// Two classes share a name (names are used as JSON keys).
    #[error("duplicate class name {name:?} at indices {first} and {second}")]
    DuplicateClassName {
        /// The repeated name.
        name: String,
        /// Index of its first occurrence.
        first: usize,
        /// Index of its second occurrence.
        second: usize,
    },
    /// A row of a matrix does not have the expected number of columns.
    #[error("{input} row {row} has {len} columns, expected {expected}")]
    RowLength {
        /// Name of the matrix (`"scores"` or `"confusion counts"`).
        input: &'static str,
        /// Index of the offending row.
        row: usize,
        /// Number of columns found.
        len: usize,
        /// Number of columns expected.
        expected: usize,
    },
    /// A flat row-major score buffer is not a whole number of rows.
    #[error("score buffer of {len} values is not a multiple of {n_classes} classes")]
    FlatScoresShape {
        /// Number of values in the buffer.
        len: usize,
        /// Number of columns per row.
        n_classes: usize,
    },
    /// A score is NaN or infinite.
    #[error("non-finite score {value} for sample {sample}, class {class}")]
    NonFiniteScore {
        /// Sample (row) index.
        sample: usize,
        /// Class (column) index.
        class: usize,
        /// The offending value.
        value: f64,
    },
    /// A value of a plain numeric input (binary scores, curve coordinates) is NaN or infinite.
    #[error("non-finite value {value} at {input}[{index}]")]
    NonFiniteValue {
        /// Name of the input.
        input: &'static str,
        /// Index of the offending value.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// A curve needs at least two points to have an area.
    #[error("at least 2 points are needed to compute an area under a curve, got {n_points}")]
    TooFewPoints {
        /// Number of points given.
        n_points: usize,
    },
    /// A ROC curve needs at least one positive and one negative sample.
    #[error("ROC curve is undefined with {positives} positive and {negatives} negative samples")]
    RocUndefined {
        /// Number of positive samples.
        positives: usize,
        /// Number of negative samples.
        negatives: usize,
    },
    /// The x coordinates given to [`auc`](crate::auc) are neither
    /// non-decreasing nor non-increasing.
    #[error("x is not monotonic at index {index}: {previous} then {value}")]
    NotMonotonic {
        /// Index of the first value that breaks monotonicity.
        index: usize,
        /// The value before it.
        previous: f64,
        /// The value itself.
        value: f64,
    },
    /// Per-fold reports to aggregate disagree on the class names.
    #[error("fold {fold} has class names {found:?}, expected {expected:?}")]
    FoldClassNames {
        /// Index of the offending fold.
        fold: usize,
        /// Class names of fold 0.
        expected: Vec<String>,
        /// Class names of the offending fold.
        found: Vec<String>,
    },
    /// Computing the metrics of one fold failed.
    #[error("fold {fold}: {source}")]
    Fold {
        /// Index of the failing fold.
        fold: usize,
        /// The underlying error.
        source: Box<MetricsError>,
    },
}

/// Result alias of the crate.
pub type Result<T, E = MetricsError> = std::result::Result<T, E>;
