//! Learning-rate reduction on plateaus and early stopping. Both are plain state machines fed one
//! value per epoch; their state is serialisable so an interrupted run resumes exactly.

use serde::{Deserialize, Serialize};

use crate::TrainError;

/// Settings of [`ReduceLrOnPlateau`] (PyTorch semantics, `mode="min"`, `threshold_mode="rel"`).
/// In JSON, missing fields take their [`Default`] values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PlateauConfig {
    /// Factor the learning rate is multiplied by on a plateau, in `(0, 1)`.
    pub factor: f64,
    /// Number of non-improving epochs tolerated: the rate is reduced at the end of the
    /// `patience + 1`-th consecutive non-improving epoch.
    pub patience: usize,
    /// Relative improvement needed to count as better: `value < best * (1 - threshold)`.
    pub threshold: f64,
    /// Epochs after a reduction during which non-improving epochs are not counted.
    pub cooldown: usize,
    /// Lower bound of the learning rate.
    pub min_lr: f64,
}

impl Default for PlateauConfig {
    fn default() -> Self {
        Self {
            factor: 0.5,
            patience: 3,
            threshold: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
        }
    }
}

/// Reduces the learning rate when a monitored loss stops improving.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReduceLrOnPlateau {
    config: PlateauConfig,
    lr: f64,
    best: Option<f64>,
    bad_epochs: usize,
    cooldown_left: usize,
}

impl ReduceLrOnPlateau {
    /// Starts at `initial_lr`; fails if the settings are out of range.
    pub fn new(config: PlateauConfig, initial_lr: f64) -> Result<Self, TrainError> {
        if !(config.factor > 0.0 && config.factor < 1.0) {
            return Err(TrainError::config(format!(
                "plateau factor must be in (0, 1), got {}",
                config.factor
            )));
        }
        if !(config.threshold >= 0.0 && config.threshold.is_finite()) {
            return Err(TrainError::config(format!(
                "plateau threshold must be finite and >= 0, got {}",
                config.threshold
            )));
        }
        if !(config.min_lr >= 0.0 && config.min_lr.is_finite()) {
            return Err(TrainError::config(format!(
                "min_lr must be finite and >= 0, got {}",
                config.min_lr
            )));
        }
        if !(initial_lr > 0.0 && initial_lr.is_finite()) {
            return Err(TrainError::config(format!(
                "learning rate must be finite and > 0, got {initial_lr}"
            )));
        }
        Ok(Self {
            config,
            lr: initial_lr,
            best: None,
            bad_epochs: 0,
            cooldown_left: 0,
        })
    }

    /// The current learning rate.
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// The best value seen so far.
    pub fn best(&self) -> Option<f64> {
        self.best
    }

    /// Feeds one epoch's value (lower is better; NaN never improves). Returns `true` when the
    /// learning rate was reduced.
    pub fn step(&mut self, value: f64) -> bool {
        let improved = match self.best {
            None => !value.is_nan(),
            Some(best) => value < best * (1.0 - self.config.threshold),
        };
        if improved {
            self.best = Some(value);
            self.bad_epochs = 0;
        } else {
            self.bad_epochs += 1;
        }
        if self.cooldown_left > 0 {
            self.cooldown_left -= 1;
            self.bad_epochs = 0;
        }
        if self.bad_epochs > self.config.patience {
            self.bad_epochs = 0;
            self.cooldown_left = self.config.cooldown;
            let reduced = (self.lr * self.config.factor).max(self.config.min_lr);
            // Ignore negligible reductions (at `min_lr`). PyTorch's bound is an absolute 1e-8,
            // which would freeze any rate below 2e-8; a relative bound does not.
            if self.lr - reduced > self.lr * 1e-8 {
                self.lr = reduced;
                return true;
            }
        }
        false
    }
}

/// The validation value early stopping (and [`EarlyStopping::best_epoch`]) follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Monitor {
    /// Validation UAR, higher is better.
    ValUar,
    /// Validation loss, lower is better.
    ValLoss,
}

impl Monitor {
    /// Whether `value` is strictly better than `best`.
    pub fn is_better(self, value: f64, best: f64) -> bool {
        match self {
            Self::ValUar => value > best,
            Self::ValLoss => value < best,
        }
    }
}

/// Stops training after `patience` consecutive epochs without improvement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopping {
    monitor: Monitor,
    patience: usize,
    best: Option<f64>,
    best_epoch: usize,
    bad_epochs: usize,
}

impl EarlyStopping {
    /// Follows `monitor`; `patience` must be positive.
    pub fn new(monitor: Monitor, patience: usize) -> Result<Self, TrainError> {
        if patience == 0 {
            return Err(TrainError::config(
                "early-stopping patience must be positive (disable early stopping instead)",
            ));
        }
        Ok(Self {
            monitor,
            patience,
            best: None,
            best_epoch: 0,
            bad_epochs: 0,
        })
    }

    /// Feeds the value of epoch `epoch`; returns `true` when training should stop now.
    pub fn step(&mut self, epoch: usize, value: f64) -> bool {
        let improved = match self.best {
            None => !value.is_nan(),
            Some(best) => self.monitor.is_better(value, best),
        };
        if improved {
            self.best = Some(value);
            self.best_epoch = epoch;
            self.bad_epochs = 0;
        } else {
            self.bad_epochs += 1;
        }
        self.bad_epochs >= self.patience
    }

    /// The value followed.
    pub fn monitor(&self) -> Monitor {
        self.monitor
    }

    /// Epoch of the best value so far (0 before the first improvement).
    pub fn best_epoch(&self) -> usize {
        self.best_epoch
    }

    /// Consecutive epochs without improvement.
    pub fn bad_epochs(&self) -> usize {
        self.bad_epochs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plateau(patience: usize) -> ReduceLrOnPlateau {
        ReduceLrOnPlateau::new(
            PlateauConfig {
                patience,
                ..PlateauConfig::default()
            },
            1e-3,
        )
        .unwrap()
    }

    #[test]
    fn halves_after_patience_bad_epochs_and_not_before() {
        let mut scheduler = plateau(3);
        assert!(!scheduler.step(1.0)); // best
        for _ in 0..3 {
            assert!(!scheduler.step(1.0)); // 3 tolerated bad epochs
            assert_eq!(scheduler.lr(), 1e-3);
        }
        assert!(scheduler.step(1.0)); // the 4th bad epoch reduces
        assert_eq!(scheduler.lr(), 5e-4);
        // The counter restarts: again 3 tolerated epochs.
        for _ in 0..3 {
            assert!(!scheduler.step(1.0));
        }
        assert!(scheduler.step(1.0));
        assert_eq!(scheduler.lr(), 2.5e-4);
    }

    #[test]
    fn improvements_reset_the_count() {
        let mut scheduler = plateau(2);
        let values = [1.0, 1.1, 1.2, 0.9, 0.95, 0.95, 0.8, 0.81, 0.82];
        for value in values {
            assert!(!scheduler.step(value), "{value}");
        }
        assert_eq!(scheduler.lr(), 1e-3);
        assert_eq!(scheduler.best(), Some(0.8));
        assert!(scheduler.step(0.83));
    }

    #[test]
    fn tiny_relative_improvements_do_not_count() {
        let mut scheduler = plateau(0);
        assert!(!scheduler.step(1.0));
        // 1e-5 relative is below the 1e-4 threshold: a bad epoch, reduced at once (patience 0).
        assert!(scheduler.step(1.0 - 1e-5));
    }

    #[test]
    fn min_lr_and_cooldown_are_respected() {
        let mut scheduler = ReduceLrOnPlateau::new(
            PlateauConfig {
                patience: 0,
                cooldown: 1,
                min_lr: 4e-4,
                ..PlateauConfig::default()
            },
            1e-3,
        )
        .unwrap();
        scheduler.step(1.0);
        assert!(scheduler.step(2.0));
        assert_eq!(scheduler.lr(), 5e-4);
        assert!(!scheduler.step(2.0)); // cooldown epoch
        assert!(scheduler.step(2.0));
        assert_eq!(scheduler.lr(), 4e-4); // clamped
        scheduler.step(2.0); // cooldown
        assert!(!scheduler.step(2.0)); // already at min_lr
        assert_eq!(scheduler.lr(), 4e-4);
    }

    #[test]
    fn nan_never_improves() {
        let mut scheduler = plateau(1);
        assert!(!scheduler.step(f64::NAN));
        assert_eq!(scheduler.best(), None);
        assert!(scheduler.step(f64::NAN)); // a second bad epoch exceeds patience 1
        let mut stopper = EarlyStopping::new(Monitor::ValLoss, 1).unwrap();
        assert!(stopper.step(1, f64::NAN));
    }

    #[test]
    fn bad_settings_are_rejected() {
        for factor in [0.0, 1.0, -0.5, f64::NAN] {
            let config = PlateauConfig {
                factor,
                ..PlateauConfig::default()
            };
            assert!(ReduceLrOnPlateau::new(config, 1e-3).is_err());
        }
        assert!(ReduceLrOnPlateau::new(PlateauConfig::default(), 0.0).is_err());
        assert!(EarlyStopping::new(Monitor::ValUar, 0).is_err());
    }

    #[test]
    fn early_stopping_stops_after_patience_bad_epochs() {
        let mut stopper = EarlyStopping::new(Monitor::ValUar, 3).unwrap();
        let uars = [0.2, 0.3, 0.3, 0.25, 0.35, 0.1, 0.2, 0.35];
        let stops: Vec<bool> = uars
            .iter()
            .enumerate()
            .map(|(i, &uar)| stopper.step(i + 1, uar))
            .collect();
        // Best at epoch 5 (0.35); epochs 6, 7, 8 do not improve (ties do not count).
        assert_eq!(
            stops,
            vec![false, false, false, false, false, false, false, true]
        );
        assert_eq!(stopper.best_epoch(), 5);
    }

    #[test]
    fn early_stopping_on_loss_prefers_lower_values() {
        let mut stopper = EarlyStopping::new(Monitor::ValLoss, 1).unwrap();
        assert!(!stopper.step(1, 1.0));
        assert!(!stopper.step(2, 0.5));
        assert!(stopper.step(3, 0.6));
        assert_eq!(stopper.best_epoch(), 2);
    }

    #[test]
    fn state_round_trips_through_json() {
        let mut scheduler = plateau(1);
        scheduler.step(1.0);
        scheduler.step(1.5);
        let json = serde_json::to_string(&scheduler).unwrap();
        assert_eq!(
            serde_json::from_str::<ReduceLrOnPlateau>(&json).unwrap(),
            scheduler
        );
        let mut stopper = EarlyStopping::new(Monitor::ValUar, 2).unwrap();
        stopper.step(1, 0.5);
        let json = serde_json::to_string(&stopper).unwrap();
        assert_eq!(
            serde_json::from_str::<EarlyStopping>(&json).unwrap(),
            stopper
        );
    }
}
