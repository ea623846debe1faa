//! The training loop.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::module::Module;
use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Bytes, Device, Int, Tensor, TensorData};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ser_models::{
    EmotionModel, MODEL_CONFIG_FILE, MODEL_WEIGHTS_FILE, ModelConfig, SerModel, load_weights,
    save_weights,
};
use ser_stdx::fs::write_atomic;

use crate::data::{Dataset, DeviceDataset, SplitMix64, derive_seed};
use crate::metrics::EvalMetrics;
use crate::run::{
    BestEpoch, CheckpointFiles, EpochRecord, RUN_META_FILE, RunMeta, StopReason, TEST_METRICS_FILE,
    TRAIN_STATE_FILE, TrainState, remove_stale_checkpoints, remove_temp_files, write_history,
    write_json,
};
use crate::schedule::{EarlyStopping, Monitor, ReduceLrOnPlateau};
use crate::{TrainConfig, TrainError};

/// Serialises [`Trainer::fit`] calls within a process: burn's CPU backends draw every random
/// number (weight initialisation, dropout masks) from one process-wide generator, so two runs
/// training at the same time would interleave their draws and neither would be repeatable.
static BACKEND_RNG: Mutex<()> = Mutex::new(());

/// Stream of [`derive_seed`] used for weight initialisation.
const INIT_STREAM: u64 = 0;
/// Offset of the shuffling streams (epoch `e` uses `SHUFFLE_STREAM + e`); dropout uses `e`.
const SHUFFLE_STREAM: u64 = 1 << 32;

/// The datasets of one training run.
#[derive(Debug, Clone, Copy)]
pub struct Splits<'a> {
    /// Training items (shuffled every epoch).
    pub train: &'a Dataset,
    /// Validation items: learning-rate schedule, early stopping and best checkpoint.
    pub val: &'a Dataset,
    /// Optional test items, evaluated once with the best weights at the end.
    pub test: Option<&'a Dataset>,
}

/// What a call to [`Trainer::fit`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOutcome {
    /// Every finished epoch of the run, including those before a resume.
    pub history: Vec<EpochRecord>,
    /// The best epoch by validation UAR.
    pub best: Option<BestEpoch>,
    /// Why training ended.
    pub stop: StopReason,
    /// Metrics of the best weights on the test set, when one was given (and the run finished).
    pub test: Option<EvalMetrics>,
    /// The last finished epoch found on disk when resuming (`None` for a fresh start).
    pub resumed_after_epoch: Option<usize>,
    /// The run folder.
    pub run_dir: PathBuf,
}

type EpochCallback = Box<dyn FnMut(&EpochRecord) + Send>;

/// The model after one training pass and the pass's metrics (dropout active).
struct TrainedEpoch {
    model: SerModel,
    loss: f64,
    accuracy: f64,
}

/// Trains a [`SerModel`] on in-memory datasets and writes a resumable run folder
/// (see [`crate::run`] for its layout).
pub struct Trainer {
    model_config: ModelConfig,
    config: TrainConfig,
    device: Device,
    extra_meta: serde_json::Value,
    interrupt: Option<Arc<AtomicBool>>,
    on_epoch: Option<EpochCallback>,
    masker: Option<Arc<dyn InputMasker>>,
}

/// Per-epoch masks of training inputs (SpecAugment-style time and feature masking).
///
/// A mask is a pure function of (training item, epoch), so a resumed run replays the masks of
/// the uninterrupted one. Validation and test inputs are never masked.
pub trait InputMasker: Send + Sync + fmt::Debug {
    /// Fills `mask`, the `n_features x n_frames` row-major multiplicative mask of training item
    /// `item` in `epoch` (1-based). It holds ones on entry; masked cells are set to 0.
    fn mask(&self, item: usize, epoch: usize, n_features: usize, n_frames: usize, mask: &mut [f32]);
}

impl fmt::Debug for Trainer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trainer")
            .field("model_config", &self.model_config)
            .field("config", &self.config)
            .field("device", &self.device)
            .field("extra_meta", &self.extra_meta)
            .field("interrupt", &self.interrupt)
            .field("on_epoch", &self.on_epoch.as_ref().map(|_| "callback"))
            .field("masker", &self.masker)
            .finish()
    }
}

impl Trainer {
    /// A trainer for `model_config` following `config`, on the flex CPU device.
    pub fn new(model_config: ModelConfig, config: TrainConfig) -> Self {
        Self {
            model_config,
            config,
            device: Device::flex(),
            extra_meta: serde_json::Value::Null,
            interrupt: None,
            on_epoch: None,
            masker: None,
        }
    }

    /// Masks training inputs every epoch (see [`InputMasker`]).
    pub fn with_input_masker(mut self, masker: Arc<dyn InputMasker>) -> Self {
        self.masker = Some(masker);
        self
    }

    /// Trains on `device` (autodiff is enabled on it internally).
    pub fn with_device(mut self, device: Device) -> Self {
        self.device = device.without_autodiff();
        self
    }

    /// Caller metadata stored as `"extra"` in `run.json` (features, protocol, label map, ...).
    pub fn with_extra_meta(mut self, extra_meta: serde_json::Value) -> Self {
        self.extra_meta = extra_meta;
        self
    }

    /// A flag checked after every batch: when raised, training stops, dropping the unfinished
    /// epoch; the run folder stays resumable from the last finished epoch.
    pub fn with_interrupt(mut self, flag: Arc<AtomicBool>) -> Self {
        self.interrupt = Some(flag);
        self
    }

    /// Called after every finished (and committed) epoch.
    pub fn with_epoch_callback(
        mut self,
        callback: impl FnMut(&EpochRecord) + Send + 'static,
    ) -> Self {
        self.on_epoch = Some(Box::new(callback));
        self
    }

    /// The model configuration.
    pub fn model_config(&self) -> &ModelConfig {
        &self.model_config
    }

    /// The training configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    fn check_inputs(&self, splits: &Splits<'_>) -> Result<(), TrainError> {
        self.model_config.validate()?;
        let n_classes = self.model_config.n_classes();
        self.config.validate(n_classes)?;
        let named = [
            ("train", Some(splits.train)),
            ("val", Some(splits.val)),
            ("test", splits.test),
        ];
        for (split, data) in named {
            let Some(data) = data else { continue };
            if data.is_empty() {
                return Err(TrainError::EmptyDataset {
                    split: split.to_owned(),
                });
            }
            if data.n_features() != self.model_config.n_features()
                || data.n_frames() < self.model_config.min_frames()
            {
                return Err(TrainError::DatasetModelMismatch {
                    split: split.to_owned(),
                    n_features: data.n_features(),
                    n_frames: data.n_frames(),
                    model_features: self.model_config.n_features(),
                    model_min_frames: self.model_config.min_frames(),
                });
            }
            data.check_labels(split, n_classes)?;
        }
        Ok(())
    }

    /// Reads the state of a run to resume and checks that it belongs to this trainer and data.
    fn resume_state(
        &self,
        run_dir: &Path,
        splits: &Splits<'_>,
    ) -> Result<Option<TrainState>, TrainError> {
        let Some(state) = TrainState::read(run_dir)? else {
            return Ok(None);
        };
        let path = run_dir.join(TRAIN_STATE_FILE);
        let mismatch = |reason: &str| TrainError::ResumeMismatch {
            path: path.clone(),
            reason: reason.to_owned(),
        };
        if state.model_config != self.model_config {
            return Err(mismatch("the model configuration differs"));
        }
        if !state.train_config.same_recipe(&self.config) {
            return Err(mismatch(
                "the training configuration differs (only max_epochs and display may change)",
            ));
        }
        if state.train_data != splits.train.fingerprint() {
            return Err(mismatch("the training data differ"));
        }
        if state.val_data != splits.val.fingerprint() {
            return Err(mismatch("the validation data differ"));
        }
        Ok(Some(state))
    }

    fn new_state(&self, splits: &Splits<'_>) -> Result<TrainState, TrainError> {
        let scheduler = self
            .config
            .plateau
            .clone()
            .map(|plateau| ReduceLrOnPlateau::new(plateau, self.config.learning_rate))
            .transpose()?;
        let early_stopping = self
            .config
            .early_stopping
            .as_ref()
            .map(|early| EarlyStopping::new(early.monitor, early.patience))
            .transpose()?;
        Ok(TrainState::new(
            self.config.clone(),
            self.model_config.clone(),
            splits.train.fingerprint(),
            splits.val.fingerprint(),
            scheduler,
            early_stopping,
        ))
    }

    fn optimizer(&self) -> ModuleOptimizer {
        let weight_decay = (self.config.weight_decay > 0.0)
            .then(|| WeightDecayConfig::new(self.config.weight_decay));
        AdamConfig::new()
            .with_beta_1(self.config.adam_beta1)
            .with_beta_2(self.config.adam_beta2)
            .with_epsilon(self.config.adam_epsilon)
            .with_weight_decay(weight_decay)
            .init()
    }

    fn loss(&self, device: &Device) -> CrossEntropyLoss {
        let smoothing = (self.config.label_smoothing > 0.0).then_some(self.config.label_smoothing);
        CrossEntropyLossConfig::new()
            .with_smoothing(smoothing)
            .with_weights(self.config.class_weights.clone())
            .init(device)
    }

    /// Trains in `run_dir` (created if missing).
    ///
    /// With `resume == false` the folder must not hold a run yet. With `resume == true` a run
    /// found there continues after its last finished epoch (with the same model, recipe and
    /// data; `max_epochs` may be raised), and training starts afresh when there is none.
    ///
    /// A run is repeatable: the same seed, data and configuration give the same history and
    /// weights, and an interrupted run resumed gives what the uninterrupted run gives. Calls
    /// to `fit` in one process therefore run one at a time (the backend's random generator is
    /// process-wide); other code drawing random tensors concurrently breaks repeatability.
    pub fn fit(
        &mut self,
        run_dir: &Path,
        splits: &Splits<'_>,
        resume: bool,
    ) -> Result<TrainOutcome, TrainError> {
        self.check_inputs(splits)?;
        let _rng_guard = BACKEND_RNG
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        fs::create_dir_all(run_dir.join(crate::run::CHECKPOINT_DIR))
            .map_err(|source| TrainError::io(run_dir, source))?;
        remove_temp_files(run_dir);
        remove_temp_files(&run_dir.join(crate::run::CHECKPOINT_DIR));
        let state_path = run_dir.join(TRAIN_STATE_FILE);
        let resumed = if resume {
            self.resume_state(run_dir, splits)?
        } else if state_path.exists() {
            return Err(TrainError::RunExists { path: state_path });
        } else {
            None
        };
        let resumed_after_epoch = resumed.as_ref().map(|state| state.epochs_done);
        let mut state = match resumed {
            Some(mut state) => {
                state.train_config = self.config.clone();
                state
            }
            None => self.new_state(splits)?,
        };
        if state.finished == Some(StopReason::MaxEpochs)
            && state.epochs_done < self.config.max_epochs
        {
            state.finished = None;
        }

        write_json(
            &run_dir.join(RUN_META_FILE),
            &RunMeta {
                trainer_version: env!("CARGO_PKG_VERSION").to_owned(),
                train: self.config.clone(),
                model: self.model_config.clone(),
                extra: self.extra_meta.clone(),
            },
        )?;
        let model_json_path = run_dir.join(MODEL_CONFIG_FILE);
        let mut model_json = self
            .model_config
            .to_json()
            .map_err(|source| TrainError::json(&model_json_path, source))?;
        model_json.push('\n');
        write_atomic(&model_json_path, model_json.as_bytes())
            .map_err(|source| TrainError::io(&model_json_path, source))?;

        let inner = self.device.clone();
        let autodiff = inner.clone().autodiff();
        let seed = self.config.seed;
        inner.seed(derive_seed(seed, INIT_STREAM));
        let mut model = self.model_config.init(&autodiff)?;
        let mut optimizer = self.optimizer();
        if let Some(files) = &state.checkpoint {
            model = load_weights(&run_dir.join(&files.model), model)?;
            let path = run_dir.join(&files.optimizer);
            let bytes = fs::read(&path).map_err(|source| TrainError::io(&path, source))?;
            optimizer = optimizer
                .from_bytes(Bytes::from_bytes_vec(bytes))
                .map_err(|err| TrainError::OptimizerRecord {
                    path: path.clone(),
                    message: err.to_string(),
                })?;
        }

        let train_loss = self.loss(&autodiff);
        let eval_loss = self.loss(&inner);
        let train_data = splits.train.to_device(&inner);
        let val_data = splits.val.to_device(&inner);
        let n_classes = self.model_config.n_classes();

        while state.finished.is_none() && state.epochs_done < self.config.max_epochs {
            let epoch = state.epochs_done + 1;
            let started = Instant::now();
            let lr = state
                .scheduler
                .as_ref()
                .map_or(state.lr, ReduceLrOnPlateau::lr);

            inner.seed(derive_seed(seed, epoch as u64));
            let mut order: Vec<usize> = (0..splits.train.len()).collect();
            SplitMix64::new(derive_seed(seed, SHUFFLE_STREAM + epoch as u64))
                .shuffle_multiply_shift(&mut order);

            let Some(trained) = self.train_epoch(
                model,
                &mut optimizer,
                &train_data,
                &order,
                lr,
                &train_loss,
                epoch,
            )?
            else {
                return Ok(TrainOutcome {
                    history: state.history,
                    best: state.best,
                    stop: StopReason::Interrupted,
                    test: None,
                    resumed_after_epoch,
                    run_dir: run_dir.to_path_buf(),
                });
            };
            model = trained.model;
            let (train_loss_mean, train_accuracy) = (trained.loss, trained.accuracy);

            let val = evaluate(
                &model.valid(),
                &val_data,
                splits.val.labels(),
                &eval_loss,
                self.config.batch_size,
                n_classes,
            )?;
            if !train_loss_mean.is_finite() || !val.loss.is_finite() {
                return Err(TrainError::Diverged {
                    epoch,
                    train_loss: train_loss_mean,
                    val_loss: val.loss,
                });
            }

            if let Some(scheduler) = state.scheduler.as_mut() {
                scheduler.step(val.loss);
            }
            let is_best = state.best.is_none_or(|best| val.uar > best.val_uar);
            if is_best {
                save_weights(&run_dir.join(MODEL_WEIGHTS_FILE), &model)?;
                state.best = Some(BestEpoch {
                    epoch,
                    val_uar: val.uar,
                    val_loss: val.loss,
                });
            }
            let stop = state.early_stopping.as_mut().is_some_and(|early| {
                let monitored = match early.monitor() {
                    Monitor::ValUar => val.uar,
                    Monitor::ValLoss => val.loss,
                };
                early.step(epoch, monitored)
            });

            let files = CheckpointFiles::for_epoch(epoch);
            save_weights(&run_dir.join(&files.model), &model)?;
            let optim_path = run_dir.join(&files.optimizer);
            let optim_bytes =
                optimizer
                    .into_bytes()
                    .map_err(|err| TrainError::OptimizerRecord {
                        path: optim_path.clone(),
                        message: err.to_string(),
                    })?;
            write_atomic(&optim_path, &optim_bytes)
                .map_err(|source| TrainError::io(&optim_path, source))?;

            let record = EpochRecord {
                epoch,
                train_loss: train_loss_mean,
                train_accuracy,
                val_loss: val.loss,
                val_accuracy: val.accuracy,
                val_uar: val.uar,
                lr,
                duration_s: started.elapsed().as_secs_f64(),
                is_best,
            };
            state.history.push(record.clone());
            state.epochs_done = epoch;
            state.lr = state
                .scheduler
                .as_ref()
                .map_or(state.lr, ReduceLrOnPlateau::lr);
            state.checkpoint = Some(files.clone());
            state.finished = if stop {
                Some(StopReason::EarlyStopped)
            } else if epoch >= self.config.max_epochs {
                Some(StopReason::MaxEpochs)
            } else {
                None
            };
            write_history(run_dir, &state.history)?;
            state.write(run_dir)?;
            remove_stale_checkpoints(run_dir, &files);

            if self.config.log_epochs {
                eprintln!("{}", epoch_line(&record, self.config.max_epochs));
            }
            if let Some(callback) = self.on_epoch.as_mut() {
                callback(&record);
            }
        }

        let stop = state.finished.unwrap_or(StopReason::MaxEpochs);
        let test = match splits.test {
            Some(test) => {
                let metrics =
                    evaluate_best(run_dir, &inner, test, &eval_loss, self.config.batch_size)?;
                write_json(&run_dir.join(TEST_METRICS_FILE), &metrics)?;
                Some(metrics)
            }
            None => None,
        };
        Ok(TrainOutcome {
            history: state.history,
            best: state.best,
            stop,
            test,
            resumed_after_epoch,
            run_dir: run_dir.to_path_buf(),
        })
    }

    /// One pass over the training data; `None` when interrupted.
    #[allow(clippy::too_many_arguments)]
    fn train_epoch(
        &self,
        mut model: SerModel,
        optimizer: &mut ModuleOptimizer,
        data: &DeviceDataset,
        order: &[usize],
        lr: f64,
        loss_fn: &CrossEntropyLoss,
        epoch: usize,
    ) -> Result<Option<TrainedEpoch>, TrainError> {
        let batch_size = self.config.batch_size;
        let n_batches = order.len().div_ceil(batch_size);
        let bar = progress_bar(
            self.config.progress_bar,
            n_batches,
            epoch,
            self.config.max_epochs,
        );
        let mut loss_sum: Option<Tensor<1>> = None;
        let mut correct_sum: Option<Tensor<1, Int>> = None;
        for batch in order.chunks(batch_size) {
            if self
                .interrupt
                .as_ref()
                .is_some_and(|flag| flag.load(Ordering::Relaxed))
            {
                bar.finish_and_clear();
                return Ok(None);
            }
            let (mut x, y) = data.batch(batch);
            if let Some(masker) = &self.masker {
                let [b, f, t] = x.dims();
                let mut mask = vec![1.0_f32; b * f * t];
                for (cells, &item) in mask.chunks_mut(f * t).zip(batch) {
                    masker.mask(item, epoch, f, t, cells);
                }
                let mask = Tensor::<3>::from_data(TensorData::new(mask, [b, f, t]), &x.device());
                x = x.mul(mask);
            }
            let logits = model.forward(x.autodiff());
            let loss = loss_fn.forward(logits.clone(), y.clone());

            // Running sums stay on the device; they are read once per epoch.
            let batch_loss = loss
                .clone()
                .detach()
                .without_autodiff()
                .mul_scalar(batch.len() as f64);
            let batch_correct = logits
                .detach()
                .without_autodiff()
                .argmax(1)
                .reshape([batch.len()])
                .equal(y)
                .int()
                .sum();
            loss_sum = Some(match loss_sum {
                Some(sum) => sum.add(batch_loss),
                None => batch_loss,
            });
            correct_sum = Some(match correct_sum {
                Some(sum) => sum.add(batch_correct),
                None => batch_correct,
            });

            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(lr, model, grads);
            bar.inc(1);
        }
        bar.finish_and_clear();
        let n = order.len() as f64;
        let loss_sum = loss_sum.map_or(Ok(0.0), |sum| read_f64(sum, "training loss"))?;
        let correct =
            correct_sum.map_or(Ok(0.0), |sum| read_f64(sum.float(), "training accuracy"))?;
        Ok(Some(TrainedEpoch {
            model,
            loss: loss_sum / n,
            accuracy: correct / n,
        }))
    }
}

fn progress_bar(enabled: bool, n_batches: usize, epoch: usize, max_epochs: usize) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(n_batches as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "epoch {msg} [{bar:30}] {pos}/{len} batches, {elapsed} (eta {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(format!("{epoch}/{max_epochs}"));
    bar
}

/// The one-line epoch summary printed to stderr.
pub fn epoch_line(record: &EpochRecord, max_epochs: usize) -> String {
    format!(
        "epoch {:>3}/{max_epochs} | train loss {:.4} acc {:.3} | val loss {:.4} acc {:.3} uar {:.3}{} | lr {:.2e} | {:.1} s",
        record.epoch,
        record.train_loss,
        record.train_accuracy,
        record.val_loss,
        record.val_accuracy,
        record.val_uar,
        if record.is_best { " *" } else { "  " },
        record.lr,
        record.duration_s,
    )
}

/// Reads a one-element tensor as `f64`.
pub(crate) fn read_f64(tensor: Tensor<1>, what: &'static str) -> Result<f64, TrainError> {
    let readback = |message: String| TrainError::Readback { what, message };
    let values = tensor
        .try_into_data()
        .map_err(|err| readback(err.to_string()))?
        .try_into_vec_as::<f64>()
        .map_err(|err| readback(format!("{err:?}")))?;
    values
        .first()
        .copied()
        .ok_or_else(|| readback("empty tensor".to_owned()))
}

/// Reads class indices back from the device.
pub(crate) fn read_indices(
    tensor: Tensor<1, Int>,
    what: &'static str,
) -> Result<Vec<usize>, TrainError> {
    let readback = |message: String| TrainError::Readback { what, message };
    let values = tensor
        .try_into_data()
        .map_err(|err| readback(err.to_string()))?
        .try_into_vec_as::<i64>()
        .map_err(|err| readback(format!("{err:?}")))?;
    Ok(values
        .into_iter()
        .map(|value| usize::try_from(value).unwrap_or(usize::MAX))
        .collect())
}

/// Loss, accuracy, UAR and confusion matrix of an inference-mode model on a device dataset.
pub(crate) fn evaluate(
    model: &SerModel,
    data: &DeviceDataset,
    labels: &[usize],
    loss_fn: &CrossEntropyLoss,
    batch_size: usize,
    n_classes: usize,
) -> Result<EvalMetrics, TrainError> {
    let indices: Vec<usize> = (0..labels.len()).collect();
    let mut loss_sum: Option<Tensor<1>> = None;
    let mut predictions = Vec::with_capacity(indices.len().div_ceil(batch_size));
    for batch in indices.chunks(batch_size) {
        let (x, y) = data.batch(batch);
        let logits = model.forward(x);
        let batch_loss = loss_fn
            .forward(logits.clone(), y)
            .mul_scalar(batch.len() as f64);
        loss_sum = Some(match loss_sum {
            Some(sum) => sum.add(batch_loss),
            None => batch_loss,
        });
        predictions.push(logits.argmax(1).reshape([batch.len()]));
    }
    let loss_sum = loss_sum.map_or(Ok(0.0), |sum| read_f64(sum, "validation loss"))?;
    let predictions = if predictions.is_empty() {
        Vec::new()
    } else {
        read_indices(Tensor::cat(predictions, 0), "predictions")?
    };
    Ok(EvalMetrics::from_predictions(
        labels,
        &predictions,
        n_classes,
        loss_sum,
    ))
}

/// Evaluates the best weights of `run_dir` on `data`.
fn evaluate_best(
    run_dir: &Path,
    device: &Device,
    data: &Dataset,
    loss_fn: &CrossEntropyLoss,
    batch_size: usize,
) -> Result<EvalMetrics, TrainError> {
    let (_, model) = ser_models::load_model(run_dir, device)?;
    let model = model.valid();
    let n_classes = model.n_classes();
    evaluate(
        &model,
        &data.to_device(device),
        data.labels(),
        loss_fn,
        batch_size,
        n_classes,
    )
}
