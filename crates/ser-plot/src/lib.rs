//! PNG and SVG plots for speech emotion recognition experiments.
//!
//! Every plot is written twice, atomically (temporary file + rename): a PNG
//! (drawn by plotters' bitmap backend, encoded with the `png` crate) and an
//! SVG. Text uses DejaVu Sans embedded in the crate, so rendering works on
//! machines without any system font; SVGs name the generic `sans-serif`
//! family.
//!
//! | function | figure | size (px) |
//! |---|---|---|
//! | [`plot_confusion_matrix`] | heat map, count + row % per cell, colour bar | [`CONFUSION_MATRIX_SIZE_PX`] |
//! | [`plot_roc_curves`], [`plot_roc_summary`] | one-vs-rest ROC, AUCs in the legend, micro/macro averages, diagonal | [`ROC_SIZE_PX`] |
//! | [`plot_training_curves`] | loss, accuracy and UAR per epoch (two panels) | [`TRAINING_CURVES_SIZE_PX`] |
//! | [`plot_model_comparison`] | grouped bars, mean ± std error bars, chance line | [`MODEL_COMPARISON_SIZE_PX`] |
//!
//! Inputs are plain data (or `ser-metrics` types) and are validated first:
//! errors ([`PlotError`]) name the output path.
//!
//! ```
//! use ser_plot::{OutputPaths, plot_confusion_matrix};
//!
//! let dir = std::env::temp_dir().join(format!("ser-plot-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let counts = vec![vec![8, 2], vec![1, 9]];
//! let out = OutputPaths::from_stem(dir.join("confusion"));
//! plot_confusion_matrix(&counts, &["neutral", "angry"], "Toy model", &out)?;
//! assert!(out.png.exists() && out.svg.exists());
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod comparison;
mod confusion;
mod error;
mod font;
mod output;
mod raster;
mod roc;
mod style;
mod training;
mod validate;

pub use comparison::{
    MODEL_COMPARISON_SIZE_PX, MeanStd, ModelComparison, ModelScores, plot_model_comparison,
};
pub use confusion::{CONFUSION_MATRIX_SIZE_PX, plot_confusion_matrix};
pub use error::{PlotError, Result};
pub use output::OutputPaths;
pub use roc::{ROC_SIZE_PX, RocLine, RocPlot, plot_roc_curves, plot_roc_summary};
pub use training::{TRAINING_CURVES_SIZE_PX, TrainingHistory, plot_training_curves};
