//! The error of every `ser-run` operation.
//!
//! Each variant says whose fault a failure is, so a caller can react without reading messages:
//! `ser-serve` answers 400 for input it cannot use ([`ErrorKind::BadInput`]), 500 for a run
//! folder that is broken ([`ErrorKind::BrokenModel`]), and the binaries print the whole chain
//! (`error: {e:#}`). Variants carry the paths and numbers involved; [`RunError::Context`] adds
//! what was being done (usually the file) in front of an underlying error without hiding its
//! kind.

use std::path::{Path, PathBuf};

/// Result of `ser-run` operations.
pub type Result<T, E = RunError> = std::result::Result<T, E>;

/// Everything that can go wrong in a run: reading a run folder, training, evaluating, predicting.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A file or folder could not be read, written or listed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done ("read", "write", "list", "create", ...).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// An operating-system error, wrapped in a [`RunError::Context`] naming the file (use
    /// [`RunError::io`] where the path is at hand).
    #[error(transparent)]
    Os(#[from] std::io::Error),
    /// A run folder is missing a file, holds a corrupt one, or contradicts itself (its model
    /// does not match its description): the model is broken, not the caller's input.
    #[error("{}: {problem}", path.display())]
    BrokenRun {
        /// The run folder or the file in it.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// An input (an audio file, a folder of files, a corpus) that cannot be used as it is.
    #[error("{}: {problem}", path.display())]
    BadInput {
        /// The input.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// A setting or a combination of runs that cannot work (a hop below the minimum, runs
    /// with different labels in one ensemble, ...).
    #[error("{0}")]
    Invalid(String),
    /// The work was stopped by its cancellation flag (Ctrl-C, a client that went away).
    #[error(transparent)]
    Cancelled(#[from] crate::predict::Cancelled),
    /// Training stopped at a safe point because its interrupt flag was set (Ctrl-C).
    #[error("{}: interrupted; continue with --resume", dir.display())]
    Interrupted {
        /// The run folder left resumable.
        dir: PathBuf,
    },
    /// Decoding or conditioning audio failed.
    #[error(transparent)]
    Audio(#[from] ser_audio::AudioError),
    /// Feature extraction failed.
    #[error(transparent)]
    Features(#[from] ser_features::FeatureError),
    /// Reading a corpus, splitting it or caching its features failed.
    #[error(transparent)]
    Data(#[from] ser_data::DataError),
    /// A classical model failed to fit, load or predict.
    #[error(transparent)]
    Classic(#[from] ser_classic::ClassicError),
    /// A network failed to train, load or predict.
    #[error(transparent)]
    Train(#[from] ser_trainer::TrainError),
    /// A metric could not be computed.
    #[error(transparent)]
    Metrics(#[from] ser_metrics::MetricsError),
    /// A plot could not be drawn or written.
    #[error(transparent)]
    Plot(#[from] ser_plot::PlotError),
    /// A JSON document could not be written.
    #[error("cannot encode or decode {what} as JSON: {source}")]
    Json {
        /// What was being encoded.
        what: &'static str,
        /// serde_json's error.
        #[source]
        source: serde_json::Error,
    },
    /// `source`, while doing `context` (usually naming the file or run involved).
    #[error("{context}")]
    Context {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: Box<RunError>,
    },
}

impl From<serde_json::Error> for RunError {
    fn from(source: serde_json::Error) -> Self {
        RunError::Json {
            what: "a document",
            source,
        }
    }
}

/// Whose fault an error is, for callers that answer differently (HTTP statuses, exit codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The caller's input or settings cannot be used (HTTP 400).
    BadInput,
    /// The run folder or model is broken or missing (HTTP 500).
    BrokenModel,
    /// The work was cancelled.
    Cancelled,
    /// The machine failed: a file system or resource error (HTTP 500).
    Internal,
}

impl RunError {
    /// An I/O error on `path`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        RunError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// A broken run folder (or file in one).
    pub fn broken(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        RunError::BrokenRun {
            path: path.into(),
            problem: problem.into(),
        }
    }

    /// An input that cannot be used.
    pub fn bad_input(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        RunError::BadInput {
            path: path.into(),
            problem: problem.into(),
        }
    }

    /// An invalid setting.
    pub fn invalid(message: impl Into<String>) -> Self {
        RunError::Invalid(message.into())
    }

    /// Wraps `self` with what was being done.
    pub fn context(self, context: impl Into<String>) -> Self {
        RunError::Context {
            context: context.into(),
            source: Box::new(self),
        }
    }

    /// The error under every [`RunError::Context`].
    pub fn root(&self) -> &RunError {
        match self {
            RunError::Context { source, .. } => source.root(),
            other => other,
        }
    }

    /// Whose fault the error is. Audio, feature and input errors are the caller's; model,
    /// trainer and run-folder errors the model's (a model file that cannot be decoded is
    /// broken whatever the request was).
    pub fn kind(&self) -> ErrorKind {
        match self.root() {
            RunError::BadInput { .. }
            | RunError::Invalid(_)
            | RunError::Audio(_)
            | RunError::Features(_)
            | RunError::Data(_) => ErrorKind::BadInput,
            RunError::Cancelled(_) | RunError::Interrupted { .. } => ErrorKind::Cancelled,
            RunError::BrokenRun { .. }
            | RunError::Classic(_)
            | RunError::Train(_)
            | RunError::Json { .. } => ErrorKind::BrokenModel,
            RunError::Io { .. }
            | RunError::Os(_)
            | RunError::Metrics(_)
            | RunError::Plot(_)
            | RunError::Context { .. } => ErrorKind::Internal,
        }
    }
}

/// `.context(..)` and `.with_context(..)` on results whose error converts into [`RunError`],
/// as anyhow's, but keeping the typed error underneath.
pub trait ResultExt<T> {
    /// Wraps the error with `context`.
    fn context(self, context: impl Into<String>) -> Result<T>;
    /// Wraps the error with the context `f` makes (only called on error).
    fn with_context<C: Into<String>>(self, f: impl FnOnce() -> C) -> Result<T>;
}

impl<T, E: Into<RunError>> ResultExt<T> for std::result::Result<T, E> {
    fn context(self, context: impl Into<String>) -> Result<T> {
        self.map_err(|e| e.into().context(context))
    }

    fn with_context<C: Into<String>>(self, f: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|e| e.into().context(f()))
    }
}

impl<T> ResultExt<T> for Option<T> {
    /// `None` becomes [`RunError::Invalid`] with `context` as its message.
    fn context(self, context: impl Into<String>) -> Result<T> {
        self.ok_or_else(|| RunError::Invalid(context.into()))
    }

    fn with_context<C: Into<String>>(self, f: impl FnOnce() -> C) -> Result<T> {
        self.ok_or_else(|| RunError::Invalid(f().into()))
    }
}

/// `.io_context("read", path)` on `std::io::Result`.
pub(crate) trait IoResultExt<T> {
    fn io_context(self, action: &'static str, path: &Path) -> Result<T>;
}

impl<T> IoResultExt<T> for std::io::Result<T> {
    fn io_context(self, action: &'static str, path: &Path) -> Result<T> {
        self.map_err(|e| RunError::io(action, path, e))
    }
}

/// `return Err(RunError::Invalid(format!(..)))`: anyhow's `bail!` for settings and inputs that
/// cannot work (use [`RunError::broken`] or [`RunError::bad_input`] where a path is at fault).
macro_rules! bail {
    ($($fmt:tt)+) => {
        return Err($crate::RunError::invalid(format!($($fmt)+)))
    };
}
pub(crate) use bail;

/// [`bail!`] unless the condition holds.
macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            $crate::error::bail!($($fmt)+);
        }
    };
}
pub(crate) use ensure;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_keeps_the_kind_of_the_error_underneath() {
        let e = RunError::broken("/runs/a", "weights missing")
            .context("loading /runs/a")
            .context("ensemble");
        assert_eq!(e.kind(), ErrorKind::BrokenModel);
        assert_eq!(e.to_string(), "ensemble");
        let chain: Vec<String> =
            std::iter::successors(Some(&e as &dyn std::error::Error), |e| e.source())
                .map(|e| e.to_string())
                .collect();
        assert_eq!(
            chain,
            ["ensemble", "loading /runs/a", "/runs/a: weights missing"]
        );
        assert_eq!(
            RunError::bad_input("x.wav", "no speech").kind(),
            ErrorKind::BadInput
        );
        assert_eq!(
            RunError::io("read", "x", std::io::Error::other("disk")).kind(),
            ErrorKind::Internal
        );
    }
}
