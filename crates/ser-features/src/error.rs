//! Errors of the feature extractor.

/// Why a feature configuration or an input signal was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FeatureError {
    /// A configuration field is out of its valid range.
    #[error("invalid feature configuration: {field} = {value}: {reason}")]
    InvalidConfig {
        /// The offending field, as named in [`crate::FeatureConfig`].
        field: &'static str,
        /// Its value, formatted.
        value: String,
        /// What the valid range is.
        reason: &'static str,
    },
    /// The preset name is not one of [`crate::FeatureConfig::PRESETS`].
    #[error("unknown feature preset {name:?} (known presets: {known})")]
    UnknownPreset {
        /// The name asked for.
        name: String,
        /// The known names, comma separated.
        known: String,
    },
    /// The signal has no samples.
    #[error("the signal is empty (0 samples)")]
    Empty,
    /// The signal is too short for the Savitzky-Golay delta window.
    #[error(
        "the signal is too short: {n_samples} samples ({duration_ms:.1} ms at {sample_rate_hz} Hz); \
         at least {min_samples} samples are needed for {min_frames} analysis frames"
    )]
    TooShort {
        /// Samples given.
        n_samples: usize,
        /// Samples needed.
        min_samples: usize,
        /// Frames needed (the delta window width).
        min_frames: usize,
        /// The analysis rate.
        sample_rate_hz: u32,
        /// The given duration in milliseconds.
        duration_ms: f64,
    },
    /// A sample is NaN or infinite.
    #[error("sample {index} is not finite ({value})")]
    NonFinite {
        /// Index of the first non-finite sample.
        index: usize,
        /// Its value.
        value: f32,
    },
}

impl FeatureError {
    /// [`FeatureError::InvalidConfig`] of `field` with its value formatted.
    pub(crate) fn invalid(field: &'static str, value: impl ToString, reason: &'static str) -> Self {
        FeatureError::InvalidConfig {
            field,
            value: value.to_string(),
            reason,
        }
    }
}
