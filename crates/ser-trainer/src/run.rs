//! The run folder: file names, the per-epoch history, the resumable train state and atomic
//! writing of all of them.
//!
//! Layout of a run folder:
//!
//! | file | content | written |
//! |---|---|---|
//! | `run.json` | [`RunMeta`]: train config, model config, caller's `extra_meta` | at start |
//! | `model.json` | the [`ModelConfig`] | at start |
//! | `model.bpk` | best weights by validation UAR (burnpack, f32) | when the best improves |
//! | `model.bpk.sha256` | its SHA-256 (`sha256sum` format), checked at load | with `model.bpk` |
//! | `history.csv` | one row per finished epoch | every epoch |
//! | `train_state.json` | everything `--resume` needs (see below) | every epoch, last |
//! | `checkpoint/epoch-NNNN.{model,optim}.bpk` | weights and Adam state after epoch NNNN | every epoch |
//! | `test_metrics.json` | [`EvalMetrics`] of the best weights on the test set | at the end |
//!
//! Every file is written atomically (temporary file + rename). `train_state.json` is the commit
//! point: it names the checkpoint files of the last finished epoch and is written after them,
//! so a run killed at any moment resumes from a consistent epoch; older checkpoint files are
//! deleted only after the commit.

use std::fs;
use std::path::{Path, PathBuf};

use ser_models::ModelConfig;
use ser_stdx::fs::write_atomic;
use serde::{Deserialize, Serialize};

use crate::data::DataFingerprint;
use crate::metrics::EvalMetrics;
use crate::schedule::{EarlyStopping, ReduceLrOnPlateau};
use crate::{TrainConfig, TrainError};

/// Run metadata file name.
pub const RUN_META_FILE: &str = "run.json";
/// Resumable state file name.
pub const TRAIN_STATE_FILE: &str = "train_state.json";
/// Per-epoch history file name.
pub const HISTORY_FILE: &str = "history.csv";
/// Test-set metrics file name.
pub const TEST_METRICS_FILE: &str = "test_metrics.json";
/// Folder of the per-epoch resume checkpoints.
pub const CHECKPOINT_DIR: &str = "checkpoint";

/// Version of the `train_state.json` layout.
const STATE_FORMAT: u32 = 1;

/// One finished epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean training loss (dropout active).
    pub train_loss: f64,
    /// Training accuracy (dropout active).
    pub train_accuracy: f64,
    /// Validation loss.
    pub val_loss: f64,
    /// Validation accuracy.
    pub val_accuracy: f64,
    /// Validation UAR.
    pub val_uar: f64,
    /// Learning rate used during the epoch.
    pub lr: f64,
    /// Wall-clock duration of the epoch (training, validation and checkpointing), seconds.
    pub duration_s: f64,
    /// Whether this epoch's weights became the best checkpoint.
    pub is_best: bool,
}

impl EpochRecord {
    /// `history.csv` columns.
    pub const CSV_COLUMNS: [&'static str; 9] = [
        "epoch",
        "train_loss",
        "train_accuracy",
        "val_loss",
        "val_accuracy",
        "val_uar",
        "lr",
        "duration_s",
        "is_best",
    ];

    /// `history.csv` header (the [`EpochRecord::CSV_COLUMNS`] joined by commas).
    pub const CSV_HEADER: &'static str =
        "epoch,train_loss,train_accuracy,val_loss,val_accuracy,val_uar,lr,duration_s,is_best";

    /// The fields of one `history.csv` row, in [`EpochRecord::CSV_COLUMNS`] order: shortest
    /// round-trip float formatting, the duration to milliseconds, `is_best` as 0 or 1.
    pub fn csv_fields(&self) -> [String; 9] {
        [
            self.epoch.to_string(),
            self.train_loss.to_string(),
            self.train_accuracy.to_string(),
            self.val_loss.to_string(),
            self.val_accuracy.to_string(),
            self.val_uar.to_string(),
            self.lr.to_string(),
            format!("{:.3}", self.duration_s),
            u8::from(self.is_best).to_string(),
        ]
    }
}

/// Why training ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    /// Early stopping fired.
    EarlyStopped,
    /// `max_epochs` epochs were run.
    MaxEpochs,
    /// The interrupt flag was raised; the run can be resumed.
    Interrupted,
}

/// The best checkpoint so far.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BestEpoch {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Its validation UAR.
    pub val_uar: f64,
    /// Its validation loss.
    pub val_loss: f64,
}

/// Content of `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    /// Version of the crate that wrote the run.
    pub trainer_version: String,
    /// The training recipe.
    pub train: TrainConfig,
    /// The model.
    pub model: ModelConfig,
    /// Whatever the caller attached (features, protocol, normaliser, label map, ...).
    pub extra: serde_json::Value,
}

/// Files of one resume checkpoint, relative to the run folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CheckpointFiles {
    pub(crate) model: String,
    pub(crate) optimizer: String,
}

impl CheckpointFiles {
    pub(crate) fn for_epoch(epoch: usize) -> Self {
        Self {
            model: format!("{CHECKPOINT_DIR}/epoch-{epoch:04}.model.bpk"),
            optimizer: format!("{CHECKPOINT_DIR}/epoch-{epoch:04}.optim.bpk"),
        }
    }
}

/// Content of `train_state.json`: everything needed to continue after the last finished epoch.
///
/// Randomness needs no stored generator position: epoch `e` reseeds the backend (dropout) and
/// the shuffler from `(seed, e)`, so resuming at epoch `e + 1` replays exactly what an
/// uninterrupted run would do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TrainState {
    pub(crate) format: u32,
    pub(crate) epochs_done: usize,
    pub(crate) finished: Option<StopReason>,
    pub(crate) lr: f64,
    pub(crate) scheduler: Option<ReduceLrOnPlateau>,
    pub(crate) early_stopping: Option<EarlyStopping>,
    pub(crate) best: Option<BestEpoch>,
    pub(crate) history: Vec<EpochRecord>,
    pub(crate) checkpoint: Option<CheckpointFiles>,
    pub(crate) train_data: DataFingerprint,
    pub(crate) val_data: DataFingerprint,
    pub(crate) train_config: TrainConfig,
    pub(crate) model_config: ModelConfig,
}

impl TrainState {
    pub(crate) fn new(
        train_config: TrainConfig,
        model_config: ModelConfig,
        train_data: DataFingerprint,
        val_data: DataFingerprint,
        scheduler: Option<ReduceLrOnPlateau>,
        early_stopping: Option<EarlyStopping>,
    ) -> Self {
        Self {
            format: STATE_FORMAT,
            epochs_done: 0,
            finished: None,
            lr: train_config.learning_rate,
            scheduler,
            early_stopping,
            best: None,
            history: Vec::new(),
            checkpoint: None,
            train_data,
            val_data,
            train_config,
            model_config,
        }
    }

    /// Reads the state of `run_dir`, `None` when there is none.
    pub(crate) fn read(run_dir: &Path) -> Result<Option<Self>, TrainError> {
        let path = run_dir.join(TRAIN_STATE_FILE);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(TrainError::io(path, err)),
        };
        let state: Self =
            serde_json::from_str(&text).map_err(|source| TrainError::json(&path, source))?;
        if state.format != STATE_FORMAT {
            return Err(TrainError::ResumeMismatch {
                path,
                reason: format!(
                    "train-state format {} is not the supported {STATE_FORMAT}",
                    state.format
                ),
            });
        }
        Ok(Some(state))
    }

    /// Writes the state atomically (the commit point of an epoch).
    pub(crate) fn write(&self, run_dir: &Path) -> Result<(), TrainError> {
        write_json(&run_dir.join(TRAIN_STATE_FILE), self)
    }
}

/// Serialises `value` as pretty JSON into `path`, atomically.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), TrainError> {
    let mut text =
        serde_json::to_string_pretty(value).map_err(|source| TrainError::json(path, source))?;
    text.push('\n');
    write_atomic(path, text.as_bytes()).map_err(|source| TrainError::io(path, source))
}

/// The text of `history.csv` for `history` (header line, one row per epoch, `\n` line ends).
pub(crate) fn history_csv(history: &[EpochRecord]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    // Writing to memory cannot fail, and every field is valid UTF-8.
    let _ = writer.write_record(EpochRecord::CSV_COLUMNS);
    for record in history {
        let _ = writer.write_record(record.csv_fields());
    }
    writer
        .into_inner()
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default()
}

/// Writes `history.csv` for `history`, atomically.
pub(crate) fn write_history(run_dir: &Path, history: &[EpochRecord]) -> Result<(), TrainError> {
    let path = run_dir.join(HISTORY_FILE);
    write_atomic(&path, history_csv(history).as_bytes())
        .map_err(|source| TrainError::io(path, source))
}

/// Deletes checkpoint files other than `keep` (best effort: a leftover file is harmless).
pub(crate) fn remove_stale_checkpoints(run_dir: &Path, keep: &CheckpointFiles) {
    let Ok(entries) = fs::read_dir(run_dir.join(CHECKPOINT_DIR)) else {
        return;
    };
    let model = run_dir.join(&keep.model);
    let keep: [PathBuf; 3] = [
        ser_models::checksum_path(&model),
        model,
        run_dir.join(&keep.optimizer),
    ];
    for entry in entries.flatten() {
        let path = entry.path();
        if !keep.contains(&path) {
            let _ = fs::remove_file(path);
        }
    }
}

/// Deletes temporary files a killed atomic write may have left in `folder` (best effort).
pub(crate) fn remove_temp_files(folder: &Path) {
    let Ok(entries) = fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if ser_stdx::fs::is_temp_name(&name) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Reads the history of a run folder from its train state (empty when the run has none).
pub fn read_history(run_dir: &Path) -> Result<Vec<EpochRecord>, TrainError> {
    Ok(TrainState::read(run_dir)?.map_or_else(Vec::new, |state| state.history))
}

/// Reads `test_metrics.json` of a run folder.
pub fn read_test_metrics(run_dir: &Path) -> Result<EvalMetrics, TrainError> {
    let path = run_dir.join(TEST_METRICS_FILE);
    let text = fs::read_to_string(&path).map_err(|source| TrainError::io(&path, source))?;
    serde_json::from_str(&text).map_err(|source| TrainError::json(path, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_csv_is_byte_for_byte_the_committed_text() {
        let record = |epoch, is_best| EpochRecord {
            epoch,
            train_loss: 1.25,
            train_accuracy: 0.5,
            val_loss: 1.5,
            val_accuracy: 0.25,
            val_uar: 0.2,
            lr: 0.0005,
            duration_s: 1.23456,
            is_best,
        };
        let mut second = record(4, false);
        second.train_loss = 0.1 + 0.2;
        second.lr = 1e-20;
        second.duration_s = 12.0;
        // The text the hand-written writer produced for these records.
        assert_eq!(
            history_csv(&[record(3, true), second]),
            "epoch,train_loss,train_accuracy,val_loss,val_accuracy,val_uar,lr,duration_s,is_best\n\
             3,1.25,0.5,1.5,0.25,0.2,0.0005,1.235,1\n\
             4,0.30000000000000004,0.5,1.5,0.25,0.2,0.00000000000000000001,12.000,0\n"
        );
        assert_eq!(history_csv(&[]), format!("{}\n", EpochRecord::CSV_HEADER));
        assert_eq!(EpochRecord::CSV_COLUMNS.join(","), EpochRecord::CSV_HEADER);
    }

    #[test]
    fn stale_checkpoints_are_removed_and_the_kept_ones_stay() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(CHECKPOINT_DIR)).unwrap();
        for epoch in [1, 2] {
            let files = CheckpointFiles::for_epoch(epoch);
            fs::write(dir.path().join(files.model), b"m").unwrap();
            fs::write(dir.path().join(files.optimizer), b"o").unwrap();
        }
        let keep = CheckpointFiles::for_epoch(2);
        remove_stale_checkpoints(dir.path(), &keep);
        let mut names: Vec<_> = fs::read_dir(dir.path().join(CHECKPOINT_DIR))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, vec!["epoch-0002.model.bpk", "epoch-0002.optim.bpk"]);
    }

    #[test]
    fn the_checksum_of_the_kept_checkpoint_stays() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(CHECKPOINT_DIR)).unwrap();
        for epoch in [1, 2] {
            let files = CheckpointFiles::for_epoch(epoch);
            let model = dir.path().join(&files.model);
            fs::write(&model, b"m").unwrap();
            fs::write(ser_models::checksum_path(&model), b"c").unwrap();
        }
        remove_stale_checkpoints(dir.path(), &CheckpointFiles::for_epoch(2));
        let mut names: Vec<_> = fs::read_dir(dir.path().join(CHECKPOINT_DIR))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            vec!["epoch-0002.model.bpk", "epoch-0002.model.bpk.sha256"]
        );
    }

    #[test]
    fn leftover_temp_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".model.bpk.tmp-123-0"), b"partial").unwrap();
        fs::write(dir.path().join("model.bpk"), b"whole").unwrap();
        remove_temp_files(dir.path());
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("model.bpk")]);
    }

    #[test]
    fn missing_state_reads_as_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(TrainState::read(dir.path()).unwrap().is_none());
        assert!(read_history(dir.path()).unwrap().is_empty());
    }
}
