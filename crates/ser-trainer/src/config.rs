//! The training recipe.

use serde::{Deserialize, Serialize};

use crate::TrainError;
use crate::schedule::{Monitor, PlateauConfig};

/// Early-stopping settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlyStoppingConfig {
    /// The value followed.
    pub monitor: Monitor,
    /// Stop after this many consecutive epochs without improvement (positive).
    pub patience: usize,
}

/// How to train: optimiser, loss, schedules, batching and seed. Saved with every run.
///
/// In JSON, missing fields take their [`Default`] values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    /// Maximum number of epochs.
    pub max_epochs: usize,
    /// Items per batch (the last batch of an epoch may be smaller).
    pub batch_size: usize,
    /// Initial Adam learning rate.
    pub learning_rate: f64,
    /// Adam's first-moment decay.
    pub adam_beta1: f32,
    /// Adam's second-moment decay.
    pub adam_beta2: f32,
    /// Adam's epsilon (PyTorch's default 1e-8; burn's is 1e-5).
    pub adam_epsilon: f32,
    /// L2 penalty added to the gradient (Adam's `weight_decay`, 0 = off).
    pub weight_decay: f32,
    /// Label smoothing in `[0, 1)` (0 = off).
    pub label_smoothing: f32,
    /// Per-class loss weights (`None` = all 1).
    pub class_weights: Option<Vec<f32>>,
    /// Learning-rate reduction on validation-loss plateaus (`None` = constant rate).
    pub plateau: Option<PlateauConfig>,
    /// Early stopping (`None` = always run `max_epochs`).
    pub early_stopping: Option<EarlyStoppingConfig>,
    /// Seed of weight initialisation, shuffling and dropout.
    pub seed: u64,
    /// Show a progress bar over batches when stderr is a terminal.
    pub progress_bar: bool,
    /// Print one line per epoch to stderr.
    pub log_epochs: bool,
}

impl Default for TrainConfig {
    /// The recipe of the original: Adam 1e-3, batch 32, ReduceLROnPlateau(0.5, patience 3) on
    /// validation loss, early stopping with patience 10 on validation UAR, at most 100 epochs.
    fn default() -> Self {
        Self {
            max_epochs: 100,
            batch_size: 32,
            learning_rate: 1e-3,
            adam_beta1: 0.9,
            adam_beta2: 0.999,
            adam_epsilon: 1e-8,
            weight_decay: 0.0,
            label_smoothing: 0.0,
            class_weights: None,
            plateau: Some(PlateauConfig::default()),
            early_stopping: Some(EarlyStoppingConfig {
                monitor: Monitor::ValUar,
                patience: 10,
            }),
            seed: 42,
            progress_bar: true,
            log_epochs: true,
        }
    }
}

impl TrainConfig {
    /// Checks every value against `n_classes` classes.
    pub fn validate(&self, n_classes: usize) -> Result<(), TrainError> {
        if self.max_epochs == 0 {
            return Err(TrainError::config("max_epochs must be positive, got 0"));
        }
        if self.batch_size == 0 {
            return Err(TrainError::config("batch_size must be positive, got 0"));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(TrainError::config(format!(
                "learning_rate must be finite and > 0, got {}",
                self.learning_rate
            )));
        }
        for (name, beta) in [
            ("adam_beta1", self.adam_beta1),
            ("adam_beta2", self.adam_beta2),
        ] {
            if !(0.0..1.0).contains(&beta) {
                return Err(TrainError::config(format!(
                    "{name} must be in [0, 1), got {beta}"
                )));
            }
        }
        if !(self.adam_epsilon > 0.0 && self.adam_epsilon.is_finite()) {
            return Err(TrainError::config(format!(
                "adam_epsilon must be finite and > 0, got {}",
                self.adam_epsilon
            )));
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return Err(TrainError::config(format!(
                "weight_decay must be finite and >= 0, got {}",
                self.weight_decay
            )));
        }
        if !(0.0..1.0).contains(&self.label_smoothing) {
            return Err(TrainError::config(format!(
                "label_smoothing must be in [0, 1), got {}",
                self.label_smoothing
            )));
        }
        if let Some(weights) = &self.class_weights {
            if weights.len() != n_classes {
                return Err(TrainError::config(format!(
                    "{} class weights for {n_classes} classes",
                    weights.len()
                )));
            }
            if let Some(bad) = weights.iter().find(|w| !(**w > 0.0 && w.is_finite())) {
                return Err(TrainError::config(format!(
                    "class weights must be finite and > 0, got {bad}"
                )));
            }
        }
        if let Some(early) = &self.early_stopping
            && early.patience == 0
        {
            return Err(TrainError::config(
                "early-stopping patience must be positive, got 0",
            ));
        }
        Ok(())
    }

    /// Whether `other` describes the same training except for `max_epochs` and the display
    /// switches (a resumed run may change those).
    pub(crate) fn same_recipe(&self, other: &Self) -> bool {
        let normalise = |config: &Self| Self {
            max_epochs: 0,
            progress_bar: false,
            log_epochs: false,
            ..config.clone()
        };
        normalise(self) == normalise(other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_matches_the_original_recipe() {
        let config = TrainConfig::default();
        config.validate(8).unwrap();
        assert_eq!(config.learning_rate, 1e-3);
        let plateau = config.plateau.clone().unwrap();
        assert_eq!((plateau.factor, plateau.patience), (0.5, 3));
        assert_eq!(config.early_stopping.unwrap().patience, 10);
    }

    #[test]
    fn out_of_range_values_are_rejected() {
        let bad = [
            TrainConfig {
                batch_size: 0,
                ..TrainConfig::default()
            },
            TrainConfig {
                learning_rate: -1.0,
                ..TrainConfig::default()
            },
            TrainConfig {
                label_smoothing: 1.0,
                ..TrainConfig::default()
            },
            TrainConfig {
                class_weights: Some(vec![1.0; 7]),
                ..TrainConfig::default()
            },
            TrainConfig {
                class_weights: Some(vec![0.0; 8]),
                ..TrainConfig::default()
            },
        ];
        for config in bad {
            assert!(config.validate(8).is_err(), "{config:?}");
        }
    }

    #[test]
    fn same_recipe_ignores_epochs_and_display() {
        let a = TrainConfig::default();
        let b = TrainConfig {
            max_epochs: 7,
            progress_bar: false,
            ..TrainConfig::default()
        };
        let c = TrainConfig {
            seed: 1,
            ..TrainConfig::default()
        };
        assert!(a.same_recipe(&b));
        assert!(!a.same_recipe(&c));
    }

    #[test]
    fn missing_json_fields_take_defaults() {
        let config: TrainConfig = serde_json::from_str(r#"{"batch_size": 8}"#).unwrap();
        assert_eq!(
            config,
            TrainConfig {
                batch_size: 8,
                ..TrainConfig::default()
            }
        );
    }

    #[test]
    fn round_trips_through_json() {
        let config = TrainConfig {
            class_weights: Some(vec![0.5, 2.0]),
            ..TrainConfig::default()
        };
        let json = serde_json::to_string(&config).unwrap();
        assert_eq!(serde_json::from_str::<TrainConfig>(&json).unwrap(), config);
    }
}
