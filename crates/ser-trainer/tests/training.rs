//! End-to-end training on small synthetic problems.
#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use burn::tensor::Device;

use ser_models::{
    CnnConfig, CnnRecurrentConfig, ConvBlockConfig, ModelConfig, RecurrentCell, RecurrentNetConfig,
    TemporalPooling,
};
use ser_trainer::run::{
    CHECKPOINT_DIR, HISTORY_FILE, RUN_META_FILE, TEST_METRICS_FILE, TRAIN_STATE_FILE,
};
use ser_trainer::{
    Dataset, EarlyStoppingConfig, EpochRecord, Example, InputMasker, Monitor, PlateauConfig,
    Predictor, RunMeta, Splits, StopReason, TrainConfig, TrainError, Trainer,
};

const N_CLASSES: usize = 4;
const N_FEATURES: usize = 6;
const N_FRAMES: usize = 20;

/// Deterministic uniform noise in [-1, 1).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}

/// Class `k` carries a sinusoid in feature row `k` on top of noise in every row.
fn separable(split: &str, n_items: usize, seed: u64) -> Dataset {
    let mut rng = Lcg(seed);
    let examples = (0..n_items)
        .map(|i| {
            let label = i % N_CLASSES;
            let phase = rng.next() * 3.0;
            let mut features = Vec::with_capacity(N_FEATURES * N_FRAMES);
            for row in 0..N_FEATURES {
                for t in 0..N_FRAMES {
                    let signal = if row == label {
                        1.5 * (0.6 * t as f32 + phase).sin()
                    } else {
                        0.0
                    };
                    features.push(signal + 0.5 * rng.next());
                }
            }
            Example { features, label }
        })
        .collect();
    Dataset::new(split, N_FEATURES, N_FRAMES, examples).unwrap()
}

/// Labels unrelated to the features.
fn unlearnable(split: &str, n_items: usize, seed: u64) -> Dataset {
    let mut rng = Lcg(seed);
    let examples = (0..n_items)
        .map(|i| Example {
            features: (0..N_FEATURES * N_FRAMES).map(|_| rng.next()).collect(),
            label: i % N_CLASSES,
        })
        .collect();
    Dataset::new(split, N_FEATURES, N_FRAMES, examples).unwrap()
}

fn small_cnn() -> ModelConfig {
    ModelConfig::Cnn(
        CnnConfig::new(N_FEATURES, N_CLASSES)
            .with_blocks(vec![
                ConvBlockConfig::new(16, 3).with_max_pool(2),
                ConvBlockConfig::new(16, 3),
            ])
            .with_conv_dropout(0.1)
            .with_fc_hidden(16)
            .with_fc_dropout(0.1),
    )
}

fn small_cnn_lstm() -> ModelConfig {
    ModelConfig::CnnRecurrent(
        CnnRecurrentConfig::new(N_FEATURES, N_CLASSES)
            .with_blocks(vec![ConvBlockConfig::new(12, 3)])
            .with_hidden(12)
            .with_layers(1)
            .with_pooling(TemporalPooling::Mean)
            .with_fc_hidden(12)
            .with_conv_dropout(0.1)
            .with_fc_dropout(0.1),
    )
}

/// A small GRU without batch norm: with a negligible learning rate its validation outputs are
/// exactly constant from epoch to epoch.
fn small_gru() -> ModelConfig {
    ModelConfig::Recurrent(
        RecurrentNetConfig::new(N_FEATURES, N_CLASSES, RecurrentCell::Gru)
            .with_hidden(8)
            .with_layers(1)
            .with_fc_hidden(0),
    )
}

fn quiet(config: TrainConfig) -> TrainConfig {
    TrainConfig {
        progress_bar: false,
        log_epochs: false,
        ..config
    }
}

fn recipe(max_epochs: usize) -> TrainConfig {
    quiet(TrainConfig {
        max_epochs,
        batch_size: 16,
        learning_rate: 3e-3,
        seed: 7,
        ..TrainConfig::default()
    })
}

/// History without the wall-clock durations.
fn without_durations(history: &[EpochRecord]) -> Vec<EpochRecord> {
    history
        .iter()
        .map(|record| EpochRecord {
            duration_s: 0.0,
            ..record.clone()
        })
        .collect()
}

/// Inference outputs of the weights `weights_file` (relative to `run_dir`) on every item of
/// `data`: weight files embed random parameter ids, so runs are compared by what they compute.
fn outputs(run_dir: &Path, weights_file: &str, data: &Dataset) -> Vec<Vec<f32>> {
    let device = Device::flex();
    let config =
        ModelConfig::from_json(&fs::read_to_string(run_dir.join("model.json")).unwrap()).unwrap();
    let model =
        ser_models::load_weights(&run_dir.join(weights_file), config.init(&device).unwrap())
            .unwrap();
    let predictor = Predictor::from_model(config, model, device);
    let items: Vec<&[f32]> = (0..data.len()).map(|i| data.item(i).unwrap()).collect();
    predictor.predict_proba(&items).unwrap()
}

fn fit(
    model: ModelConfig,
    config: TrainConfig,
    dir: &Path,
    splits: &Splits<'_>,
) -> ser_trainer::TrainOutcome {
    Trainer::new(model, config).fit(dir, splits, false).unwrap()
}

#[test]
fn learns_a_separable_problem_with_cnn_and_cnn_lstm() {
    let train = separable("train", 160, 1);
    let val = separable("val", 80, 2);
    let test = separable("test", 80, 3);
    let splits = Splits {
        train: &train,
        val: &val,
        test: Some(&test),
    };
    for (name, model, epochs) in [("cnn", small_cnn(), 12), ("cnn-lstm", small_cnn_lstm(), 15)] {
        let dir = tempfile::tempdir().unwrap();
        let outcome = fit(model, recipe(epochs), dir.path(), &splits);
        let best = outcome.best.unwrap();
        assert!(best.val_uar > 0.9, "{name}: best val UAR {}", best.val_uar);
        let test = outcome.test.unwrap();
        assert!(
            test.accuracy > 0.9,
            "{name}: test accuracy {}",
            test.accuracy
        );
        let first = &outcome.history[0];
        let last = outcome.history.last().unwrap();
        assert!(
            last.train_loss < first.train_loss,
            "{name}: loss did not fall"
        );
    }
}

#[test]
fn run_folder_holds_every_artifact_and_nothing_else() {
    let train = separable("train", 64, 1);
    let val = separable("val", 32, 2);
    let test = separable("test", 32, 3);
    let splits = Splits {
        train: &train,
        val: &val,
        test: Some(&test),
    };
    let dir = tempfile::tempdir().unwrap();
    let meta = serde_json::json!({ "features": "synthetic", "labels": ["a", "b", "c", "d"] });
    let outcome = Trainer::new(small_cnn(), recipe(3))
        .with_extra_meta(meta.clone())
        .fit(dir.path(), &splits, false)
        .unwrap();
    assert_eq!(outcome.stop, StopReason::MaxEpochs);
    assert_eq!(outcome.history.len(), 3);

    let mut names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            CHECKPOINT_DIR,
            HISTORY_FILE,
            "model.bpk",
            "model.bpk.sha256",
            "model.json",
            RUN_META_FILE,
            TEST_METRICS_FILE,
            TRAIN_STATE_FILE
        ]
    );
    let mut checkpoints: Vec<String> = fs::read_dir(dir.path().join(CHECKPOINT_DIR))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    checkpoints.sort();
    assert_eq!(
        checkpoints,
        vec![
            "epoch-0003.model.bpk",
            "epoch-0003.model.bpk.sha256",
            "epoch-0003.optim.bpk"
        ]
    );

    let run: RunMeta =
        serde_json::from_str(&fs::read_to_string(dir.path().join(RUN_META_FILE)).unwrap()).unwrap();
    assert_eq!(run.extra, meta);
    assert_eq!(run.model, small_cnn());

    let csv = fs::read_to_string(dir.path().join(HISTORY_FILE)).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0], EpochRecord::CSV_HEADER);
    assert!(lines[1].starts_with("1,"));
    assert_eq!(
        ser_trainer::run::read_history(dir.path()).unwrap(),
        outcome.history
    );
    assert_eq!(
        ser_trainer::run::read_test_metrics(dir.path()).unwrap(),
        outcome.test.unwrap()
    );
}

#[test]
fn predictor_reproduces_the_best_validation_metrics() {
    let train = separable("train", 96, 4);
    let val = separable("val", 40, 5);
    let splits = Splits {
        train: &train,
        val: &val,
        test: None,
    };
    let dir = tempfile::tempdir().unwrap();
    let outcome = fit(small_cnn(), recipe(4), dir.path(), &splits);
    let best = outcome.best.unwrap();
    let best_record = &outcome.history[best.epoch - 1];
    assert!(best_record.is_best);

    let predictor = Predictor::load(dir.path()).unwrap();
    let items: Vec<&[f32]> = (0..val.len()).map(|i| val.item(i).unwrap()).collect();
    let probabilities = predictor.predict_proba(&items).unwrap();
    let predictions = predictor.predict(&items).unwrap();
    assert_eq!(probabilities.len(), val.len());
    let correct = predictions
        .iter()
        .zip(val.labels())
        .filter(|(p, l)| p == l)
        .count();
    let accuracy = correct as f64 / val.len() as f64;
    assert!((accuracy - best_record.val_accuracy).abs() < 1e-9);
    let metrics =
        ser_trainer::EvalMetrics::from_predictions(val.labels(), &predictions, N_CLASSES, 0.0);
    assert!((metrics.uar - best.val_uar).abs() < 1e-9);
}

#[test]
fn same_seed_gives_identical_history_and_weights() {
    let train = separable("train", 64, 6);
    let val = separable("val", 32, 7);
    let splits = Splits {
        train: &train,
        val: &val,
        test: None,
    };
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let dir = tempfile::tempdir().unwrap();
            let outcome = fit(small_cnn_lstm(), recipe(3), dir.path(), &splits);
            (
                without_durations(&outcome.history),
                outputs(dir.path(), "model.bpk", &val),
            )
        })
        .collect();
    assert_eq!(runs[0], runs[1]);

    let dir = tempfile::tempdir().unwrap();
    let other_seed = TrainConfig {
        seed: 8,
        ..recipe(3)
    };
    let outcome = fit(small_cnn_lstm(), other_seed, dir.path(), &splits);
    assert_ne!(without_durations(&outcome.history), runs[0].0);
}

#[test]
fn resuming_an_interrupted_run_matches_an_uninterrupted_one() {
    let train = separable("train", 64, 8);
    let val = separable("val", 32, 9);
    let test = separable("test", 32, 10);
    let splits = Splits {
        train: &train,
        val: &val,
        test: Some(&test),
    };
    let epochs = 5;

    let straight_dir = tempfile::tempdir().unwrap();
    let straight = fit(small_cnn(), recipe(epochs), straight_dir.path(), &splits);

    let resumed_dir = tempfile::tempdir().unwrap();
    let flag = Arc::new(AtomicBool::new(false));
    let raise = Arc::clone(&flag);
    let interrupted = Trainer::new(small_cnn(), recipe(epochs))
        .with_interrupt(Arc::clone(&flag))
        .with_epoch_callback(move |record| {
            if record.epoch == 2 {
                raise.store(true, Ordering::Relaxed);
            }
        })
        .fit(resumed_dir.path(), &splits, false)
        .unwrap();
    assert_eq!(interrupted.stop, StopReason::Interrupted);
    assert_eq!(interrupted.history.len(), 2);
    assert!(interrupted.test.is_none());

    // Without `resume` the folder is refused.
    let err = Trainer::new(small_cnn(), recipe(epochs))
        .fit(resumed_dir.path(), &splits, false)
        .unwrap_err();
    assert!(matches!(err, TrainError::RunExists { .. }), "{err}");

    let resumed = Trainer::new(small_cnn(), recipe(epochs))
        .fit(resumed_dir.path(), &splits, true)
        .unwrap();
    assert_eq!(resumed.resumed_after_epoch, Some(2));
    assert_eq!(
        without_durations(&resumed.history),
        without_durations(&straight.history)
    );
    assert_eq!(resumed.best, straight.best);
    assert_eq!(resumed.test, straight.test);
    for file in ["model.bpk", "checkpoint/epoch-0005.model.bpk"] {
        assert_eq!(
            outputs(straight_dir.path(), file, &val),
            outputs(resumed_dir.path(), file, &val),
            "{file} differs"
        );
    }

    // A finished run resumes to the same outcome without training, and can be extended.
    let again = Trainer::new(small_cnn(), recipe(epochs))
        .fit(resumed_dir.path(), &splits, true)
        .unwrap();
    assert_eq!(again.history, resumed.history);
    let extended = Trainer::new(small_cnn(), recipe(epochs + 1))
        .fit(resumed_dir.path(), &splits, true)
        .unwrap();
    assert_eq!(extended.history.len(), epochs + 1);
}

#[test]
fn resuming_with_other_data_or_recipe_is_refused() {
    let train = separable("train", 32, 11);
    let val = separable("val", 16, 12);
    let splits = Splits {
        train: &train,
        val: &val,
        test: None,
    };
    let dir = tempfile::tempdir().unwrap();
    fit(small_cnn(), recipe(1), dir.path(), &splits);

    let other_train = separable("train", 32, 13);
    let other = Splits {
        train: &other_train,
        ..splits
    };
    let err = Trainer::new(small_cnn(), recipe(2))
        .fit(dir.path(), &other, true)
        .unwrap_err();
    assert!(matches!(err, TrainError::ResumeMismatch { .. }), "{err}");

    let other_recipe = TrainConfig {
        learning_rate: 1e-2,
        ..recipe(2)
    };
    let err = Trainer::new(small_cnn(), other_recipe)
        .fit(dir.path(), &splits, true)
        .unwrap_err();
    assert!(matches!(err, TrainError::ResumeMismatch { .. }), "{err}");

    let err = Trainer::new(small_cnn_lstm(), recipe(2))
        .fit(dir.path(), &splits, true)
        .unwrap_err();
    assert!(matches!(err, TrainError::ResumeMismatch { .. }), "{err}");
}

#[test]
fn scheduler_and_early_stopping_act_at_the_right_epochs() {
    // A negligible learning rate leaves the weights (and, without batch norm, the validation
    // metrics) unchanged: every epoch after the first is a non-improving one.
    let train = unlearnable("train", 32, 14);
    let val = unlearnable("val", 16, 15);
    let splits = Splits {
        train: &train,
        val: &val,
        test: None,
    };
    let config = quiet(TrainConfig {
        max_epochs: 20,
        batch_size: 8,
        learning_rate: 1e-12,
        plateau: Some(PlateauConfig {
            patience: 1,
            ..PlateauConfig::default()
        }),
        early_stopping: Some(EarlyStoppingConfig {
            monitor: Monitor::ValUar,
            patience: 5,
        }),
        ..TrainConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let outcome = fit(small_gru(), config, dir.path(), &splits);

    let val_losses: Vec<f64> = outcome.history.iter().map(|r| r.val_loss).collect();
    assert!(
        val_losses.windows(2).all(|w| w[0] == w[1]),
        "{val_losses:?}"
    );
    // Best at epoch 1, then 5 non-improving epochs: stops after epoch 6.
    assert_eq!(outcome.stop, StopReason::EarlyStopped);
    assert_eq!(outcome.history.len(), 6);
    assert_eq!(outcome.best.unwrap().epoch, 1);
    // Plateau patience 1: epochs 2 and 3 do not improve, the rate halves after epoch 3, and
    // again after every second epoch.
    let lrs: Vec<f64> = outcome.history.iter().map(|r| r.lr).collect();
    assert_eq!(lrs, vec![1e-12, 1e-12, 1e-12, 5e-13, 5e-13, 2.5e-13]);
}

#[test]
fn bad_inputs_are_reported_before_training() {
    let train = separable("train", 16, 16);
    let val = separable("val", 8, 17);
    let dir = tempfile::tempdir().unwrap();
    let empty = Dataset::new("val", N_FEATURES, N_FRAMES, Vec::new()).unwrap();
    let err = Trainer::new(small_cnn(), recipe(1))
        .fit(
            dir.path(),
            &Splits {
                train: &train,
                val: &empty,
                test: None,
            },
            false,
        )
        .unwrap_err();
    assert!(matches!(err, TrainError::EmptyDataset { .. }), "{err}");

    let wrong_model = ModelConfig::Cnn(CnnConfig::new(N_FEATURES + 1, N_CLASSES));
    let err = Trainer::new(wrong_model, recipe(1))
        .fit(
            dir.path(),
            &Splits {
                train: &train,
                val: &val,
                test: None,
            },
            false,
        )
        .unwrap_err();
    assert!(
        matches!(err, TrainError::DatasetModelMismatch { .. }),
        "{err}"
    );

    let few_classes = ModelConfig::Cnn(CnnConfig::new(N_FEATURES, 2));
    let err = Trainer::new(few_classes, recipe(1))
        .fit(
            dir.path(),
            &Splits {
                train: &train,
                val: &val,
                test: None,
            },
            false,
        )
        .unwrap_err();
    assert!(matches!(err, TrainError::LabelOutOfRange { .. }), "{err}");
    assert!(!dir.path().join(TRAIN_STATE_FILE).exists());
}

/// Records every (item, epoch) it masks; optionally masks everything.
#[derive(Debug, Default)]
struct RecordingMasker {
    calls: std::sync::Mutex<Vec<(usize, usize)>>,
    mask_everything: bool,
}

impl InputMasker for RecordingMasker {
    fn mask(
        &self,
        item: usize,
        epoch: usize,
        n_features: usize,
        n_frames: usize,
        mask: &mut [f32],
    ) {
        assert_eq!((n_features, n_frames), (N_FEATURES, N_FRAMES));
        assert_eq!(mask.len(), N_FEATURES * N_FRAMES);
        assert!(mask.iter().all(|&m| m == 1.0), "masks start as ones");
        self.calls.lock().unwrap().push((item, epoch));
        if self.mask_everything {
            mask.fill(0.0);
        }
    }
}

#[test]
fn input_masks_cover_each_training_item_once_per_epoch_and_reach_the_model() {
    let train = separable("train", 48, 1);
    let val = separable("val", 16, 2);
    let splits = Splits {
        train: &train,
        val: &val,
        test: None,
    };
    let config = TrainConfig {
        early_stopping: None,
        ..recipe(3)
    };
    let recorder = Arc::new(RecordingMasker::default());
    let dir = tempfile::tempdir().unwrap();
    Trainer::new(small_cnn(), config.clone())
        .with_input_masker(recorder.clone())
        .fit(dir.path(), &splits, false)
        .unwrap();
    let mut calls = recorder.calls.lock().unwrap().clone();
    calls.sort_unstable();
    let expected: Vec<(usize, usize)> = (0..48)
        .flat_map(|item| (1..=3).map(move |epoch| (item, epoch)))
        .collect();
    assert_eq!(calls, expected, "training items only, once per epoch");

    // Masking every cell leaves nothing to learn from: training accuracy stays near chance
    // (1/4) while the unmasked run learns.
    let blind = Arc::new(RecordingMasker {
        mask_everything: true,
        ..RecordingMasker::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let masked = Trainer::new(small_cnn(), config.clone())
        .with_input_masker(blind)
        .fit(dir.path(), &splits, false)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plain = fit(small_cnn(), config, dir.path(), &splits);
    let last = |o: &ser_trainer::TrainOutcome| o.history.last().unwrap().train_accuracy;
    assert!(last(&masked) < 0.5, "masked: {}", last(&masked));
    assert!(
        last(&plain) > last(&masked) + 0.2,
        "plain {} vs masked {}",
        last(&plain),
        last(&masked)
    );
}
