//! Training, checkpointing and inference for the [`ser_models`] burn models.
//!
//! - [`Dataset`]: in-memory labelled feature matrices `[n_features x n_frames]`.
//! - [`Trainer`]: Adam + cross-entropy (optional label smoothing and class weights),
//!   [`ReduceLrOnPlateau`] on validation loss, [`EarlyStopping`], best checkpoint by validation
//!   UAR, seeded and resumable; writes a run folder (layout in [`run`]) with atomic writes only.
//! - [`Predictor`]: loads a run and returns softmax probabilities, in inference mode without
//!   autodiff.
//!
//! ```no_run
//! use std::path::Path;
//! use ser_models::{ModelConfig, ModelPreset};
//! use ser_trainer::{Dataset, Predictor, Splits, TrainConfig, Trainer};
//!
//! # fn data() -> (Dataset, Dataset) { unimplemented!() }
//! let (train, val) = data();
//! let model = ModelConfig::preset(ModelPreset::CnnLstmOriginal, train.n_features(), 8);
//! let mut trainer = Trainer::new(model, TrainConfig::default())
//!     .with_extra_meta(serde_json::json!({ "features": "mfcc40" }));
//! let splits = Splits { train: &train, val: &val, test: None };
//! let outcome = trainer.fit(Path::new("runs/a"), &splits, /* resume */ true)?;
//! println!("best epoch {:?}", outcome.best);
//!
//! let predictor = Predictor::load(Path::new("runs/a"))?;
//! let probabilities = predictor.predict_proba(&[val.item(0).unwrap_or_default()])?;
//! # Ok::<(), ser_trainer::TrainError>(())
//! ```

mod config;
mod data;
mod device;
mod error;
mod lock;
mod metrics;
mod predict;
pub mod run;
mod schedule;
mod trainer;

pub use burn::tensor::Device;
pub use config::{EarlyStoppingConfig, TrainConfig};
pub use data::{DataFingerprint, Dataset, Example};
pub use device::parse_device;
pub use error::TrainError;
pub use lock::{LOCK_FILE, LockHolder, RunLock};
pub use metrics::EvalMetrics;
pub use predict::Predictor;
pub use run::{BestEpoch, EpochRecord, RunMeta, StopReason};
pub use schedule::{EarlyStopping, Monitor, PlateauConfig, ReduceLrOnPlateau};
pub use trainer::{InputMasker, Splits, TrainOutcome, Trainer, epoch_line};
