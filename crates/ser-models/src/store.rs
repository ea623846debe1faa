//! Saving and loading models: configuration JSON + burnpack weights, written atomically.

use std::fs;
use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleVisitor, Param};
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device, Tensor};
use ser_stdx::fs::write_atomic;
use sha2::{Digest, Sha256};

use crate::{ModelConfig, ModelError, SerModel};

/// File name of the model configuration JSON inside a model folder.
pub const MODEL_CONFIG_FILE: &str = "model.json";
/// File name of the model weights (burnpack, full precision) inside a model folder.
pub const MODEL_WEIGHTS_FILE: &str = "model.bpk";
/// Suffix of the checksum file [`save_weights`] writes beside a weight file
/// (`model.bpk.sha256`, in `sha256sum`'s format) and [`load_weights`] verifies.
pub const CHECKSUM_SUFFIX: &str = ".sha256";

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

/// Saves a model's weights to `path` atomically, then their SHA-256 beside them
/// ([`checksum_path`]).
pub fn save_weights(path: &Path, model: &SerModel) -> Result<(), ModelError> {
    let bytes = weights_to_bytes(model).map_err(|err| match err {
        ModelError::Record { message, .. } => ModelError::Record {
            path: path.to_path_buf(),
            message,
        },
        other => other,
    })?;
    write_atomic(path, &bytes).map_err(|source| ModelError::io(path, source))?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let line = format!("{}  {name}\n", sha256_hex(&bytes));
    let checksum = checksum_path(path);
    write_atomic(&checksum, line.as_bytes()).map_err(|source| ModelError::io(&checksum, source))
}

/// Loads weights saved by [`save_weights`] into `model` (built from the same configuration).
///
/// The file's SHA-256 must match the checksum file beside it when there is one (weights saved
/// before checksums were written load without), and every weight must be finite.
pub fn load_weights(path: &Path, model: SerModel) -> Result<SerModel, ModelError> {
    let bytes = fs::read(path).map_err(|source| ModelError::io(path, source))?;
    verify_checksum(path, &bytes)?;
    let model = weights_from_bytes(model, bytes, path)?;
    check_finite(&model, path)?;
    Ok(model)
}

/// The checksum file of a weight file: its name with [`CHECKSUM_SUFFIX`] appended.
pub fn checksum_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(CHECKSUM_SUFFIX);
    path.with_file_name(name)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks `bytes` (the content of `path`) against the checksum file beside it, if any.
fn verify_checksum(path: &Path, bytes: &[u8]) -> Result<(), ModelError> {
    let checksum_file = checksum_path(path);
    let text = match fs::read_to_string(&checksum_file) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(ModelError::io(checksum_file, err)),
    };
    let expected = text.split_whitespace().next().unwrap_or_default();
    if expected.len() != 64 || !expected.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ModelError::Record {
            path: checksum_file,
            message: "not a SHA-256 checksum (64 hexadecimal digits, then the file name)"
                .to_owned(),
        });
    }
    let actual = sha256_hex(bytes);
    if !actual.eq_ignore_ascii_case(expected) {
        return Err(ModelError::Checksum {
            path: path.to_path_buf(),
            checksum_file,
            expected: expected.to_owned(),
            actual,
        });
    }
    Ok(())
}

/// The first non-finite float of a module: (tensor path, index, value).
#[derive(Default)]
struct FiniteCheck {
    path: Vec<String>,
    found: Option<(String, usize, f32)>,
}

impl ModuleVisitor for FiniteCheck {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_owned());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if self.found.is_some() {
            return;
        }
        let data = param.val().into_data();
        if let Some((index, value)) = data.iter::<f32>().enumerate().find(|(_, v)| !v.is_finite()) {
            self.found = Some((self.path.join("."), index, value));
        }
    }
}

/// Refuses a model with a NaN or infinite weight (or batch-norm statistic); `origin` names the
/// weight file in the error.
pub fn check_finite(model: &SerModel, origin: &Path) -> Result<(), ModelError> {
    let mut check = FiniteCheck::default();
    model.visit(&mut check);
    match check.found {
        None => Ok(()),
        Some((tensor, index, value)) => Err(ModelError::NonFiniteWeight {
            path: origin.to_path_buf(),
            tensor,
            index,
            value,
        }),
    }
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

    fn tiny_model() -> (ModelConfig, SerModel) {
        let device = Device::flex();
        device.seed(1);
        let config = ModelConfig::preset(crate::ModelPreset::Cnn, 4, 3);
        let model = config.init(&device).unwrap();
        (config, model)
    }

    /// Sets one float tensor (the first met) to NaN.
    struct Poison {
        done: bool,
    }

    impl burn::module::ModuleMapper for Poison {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            if std::mem::replace(&mut self.done, true) {
                return param;
            }
            param.map(|t| t.add_scalar(f32::NAN))
        }
    }

    #[test]
    fn weights_carry_a_checksum_that_a_flipped_byte_fails() {
        let dir = tempfile::tempdir().unwrap();
        let (config, model) = tiny_model();
        save_model(dir.path(), &config, &model).unwrap();
        let weights = dir.path().join(MODEL_WEIGHTS_FILE);
        let sidecar = checksum_path(&weights);
        assert!(sidecar.is_file());
        assert!(load_model(dir.path(), &Device::flex()).is_ok());
        let mut bytes = fs::read(&weights).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x40;
        fs::write(&weights, &bytes).unwrap();
        match load_model(dir.path(), &Device::flex()).unwrap_err() {
            ModelError::Checksum { path, .. } => assert_eq!(path, weights),
            other => panic!("unexpected error {other}"),
        }
        // Runs saved before checksums existed still load (this byte flip is in a value).
        fs::remove_file(&sidecar).unwrap();
        assert!(load_model(dir.path(), &Device::flex()).is_ok());
    }

    #[test]
    fn non_finite_weights_are_refused_naming_the_file_and_tensor() {
        let dir = tempfile::tempdir().unwrap();
        let (config, model) = tiny_model();
        let model = model.map(&mut Poison { done: false });
        // Saved with a matching checksum: the check is on the values themselves.
        save_model(dir.path(), &config, &model).unwrap();
        let err = load_model(dir.path(), &Device::flex()).unwrap_err();
        match &err {
            ModelError::NonFiniteWeight {
                path,
                value,
                tensor,
                ..
            } => {
                assert!(path.ends_with(MODEL_WEIGHTS_FILE));
                assert!(value.is_nan());
                assert!(!tensor.is_empty());
            }
            other => panic!("unexpected error {other}"),
        }
        assert!(err.to_string().contains("not a finite number"), "{err}");
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
