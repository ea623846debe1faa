//! Saving and loading models: configuration JSON + burnpack weights, written atomically.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};

use crate::{ModelConfig, ModelError, SerModel};

/// File name of the model configuration JSON inside a model folder.
pub const MODEL_CONFIG_FILE: &str = "model.json";
/// File name of the model weights (burnpack, full precision) inside a model folder.
pub const MODEL_WEIGHTS_FILE: &str = "model.bpk";

/// Writes `bytes` to `path` atomically: a temporary file in the same folder is written, flushed
/// to disk and renamed over `path`, so a reader (or a crash) sees the old or the new content,
/// never a partial file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "no file name"))?;
    let temp = folder.join(format!(
        ".{}.tmp-{}-{}",
        name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if result.is_err() {
        // Best effort: the temporary file is garbage either way.
        let _ = fs::remove_file(&temp);
    }
    result?;
    // Persist the rename itself; not every platform can open a folder, so this is best effort.
    if let Ok(dir) = fs::File::open(&folder) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Encodes a model's weights (and batch-norm running statistics) as burnpack bytes.
pub fn weights_to_bytes(model: &SerModel) -> Result<Vec<u8>, ModelError> {
    // `valid` first: it synchronises the batch-norm running statistics, whose latest update
    // is otherwise invisible to the record (burn keeps it pending per thread). Parameter ids,
    // which the optimizer state is keyed by, are kept.
    let bytes = model
        .valid()
        .into_record()
        .into_bytes()
        .map_err(|err| ModelError::Record {
            path: PathBuf::from("<memory>"),
            message: err.to_string(),
        })?;
    Ok(bytes.to_vec())
}

/// Applies burnpack bytes from [`weights_to_bytes`] to a model of the same configuration.
/// `origin` names the source in errors.
pub fn weights_from_bytes(
    model: SerModel,
    bytes: Vec<u8>,
    origin: &Path,
) -> Result<SerModel, ModelError> {
    let record_error = |message: String| ModelError::Record {
        path: origin.to_path_buf(),
        message,
    };
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes))
        .map_err(|err| record_error(err.to_string()))?;
    model
        .try_load_record(record)
        .map_err(|err| record_error(err.to_string()))
}

/// Saves a model's weights to `path` atomically.
pub fn save_weights(path: &Path, model: &SerModel) -> Result<(), ModelError> {
    let bytes = weights_to_bytes(model).map_err(|err| match err {
        ModelError::Record { message, .. } => ModelError::Record {
            path: path.to_path_buf(),
            message,
        },
        other => other,
    })?;
    write_atomic(path, &bytes).map_err(|source| ModelError::io(path, source))
}

/// Loads weights saved by [`save_weights`] into `model` (built from the same configuration).
pub fn load_weights(path: &Path, model: SerModel) -> Result<SerModel, ModelError> {
    let bytes = fs::read(path).map_err(|source| ModelError::io(path, source))?;
    weights_from_bytes(model, bytes, path)
}

/// Saves `config` as [`MODEL_CONFIG_FILE`] and the weights as [`MODEL_WEIGHTS_FILE`] in
/// `folder` (created if missing), each atomically.
pub fn save_model(folder: &Path, config: &ModelConfig, model: &SerModel) -> Result<(), ModelError> {
    fs::create_dir_all(folder).map_err(|source| ModelError::io(folder, source))?;
    let config_path = folder.join(MODEL_CONFIG_FILE);
    let mut json = config.to_json().map_err(|source| ModelError::ConfigJson {
        path: config_path.clone(),
        source,
    })?;
    json.push('\n');
    write_atomic(&config_path, json.as_bytes())
        .map_err(|source| ModelError::io(&config_path, source))?;
    save_weights(&folder.join(MODEL_WEIGHTS_FILE), model)
}

/// Reads the configuration JSON of a model folder.
pub(crate) fn load_config(folder: &Path) -> Result<ModelConfig, ModelError> {
    let config_path = folder.join(MODEL_CONFIG_FILE);
    let text =
        fs::read_to_string(&config_path).map_err(|source| ModelError::io(&config_path, source))?;
    let config = ModelConfig::from_json(&text).map_err(|source| ModelError::ConfigJson {
        path: config_path,
        source,
    })?;
    config.validate()?;
    Ok(config)
}

/// Loads a model saved by [`save_model`], whatever its architecture, onto `device`.
///
/// The returned model is in training mode; call [`Module::valid`] for inference.
pub fn load_model(folder: &Path, device: &Device) -> Result<(ModelConfig, SerModel), ModelError> {
    let config = load_config(folder)?;
    let model = config.init(device)?;
    let model = load_weights(&folder.join(MODEL_WEIGHTS_FILE), model)?;
    Ok((config, model))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_content_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.txt")]);
    }

    #[test]
    fn write_atomic_into_missing_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("a.txt");
        assert!(write_atomic(&path, b"x").is_err());
    }

    #[test]
    fn loading_a_missing_folder_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_model(&dir.path().join("nothing"), &Device::flex()).unwrap_err();
        match err {
            ModelError::Io { path, .. } => assert!(path.ends_with(MODEL_CONFIG_FILE)),
            other => panic!("unexpected error {other}"),
        }
    }
}
