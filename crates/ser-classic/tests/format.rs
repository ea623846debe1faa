//! The saved-model formats: format-1 files (one JSON document, arrays inline as base64),
//! written by the code before format 2 and committed under `tests/fixtures/format-v1/`, still
//! load and predict exactly what they predicted when they were written; re-saved in format 2
//! (structure in `classic-model.json`, arrays in `classic-model.safetensors`) they give the
//! same model and the same probabilities bit for bit; the weights file is a plain safetensors
//! file, and a damaged one is refused with its name.
//!
//! `expected.json` holds the probe inputs (`probe_f32_bits`, 9 rows of 40 values) and each
//! fixture's probabilities for them (`proba_f32_bits`), as `f32` bit patterns, recorded with
//! the format-1 code that wrote the fixtures.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ser_classic::{
    ClassicError, ClassicModel, Classifier, FORMAT_VERSION, LEGACY_FORMAT_VERSION, MODEL_FILE_NAME,
    WEIGHTS_FILE_NAME,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/format-v1")
}

#[derive(serde::Deserialize)]
struct Expected {
    probe_f32_bits: Vec<Vec<u32>>,
    proba_f32_bits: Recorded,
}

/// Probability rows as `f32` bit patterns, per fixture.
type Recorded = BTreeMap<String, Vec<Vec<u32>>>;

fn expected() -> (Vec<Vec<f32>>, Recorded) {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).expect("expected.json");
    let expected: Expected = serde_json::from_str(&text).expect("expected.json parses");
    let probe = expected
        .probe_f32_bits
        .iter()
        .map(|row| row.iter().map(|&b| f32::from_bits(b)).collect())
        .collect();
    (probe, expected.proba_f32_bits)
}

fn bits(proba: &[Vec<f32>]) -> Vec<Vec<u32>> {
    proba
        .iter()
        .map(|row| row.iter().map(|v| v.to_bits()).collect())
        .collect()
}

fn json(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).expect("a model file");
    serde_json::from_slice(&bytes).expect("valid JSON")
}

/// Every string of `value` that names a tensor of `names`.
fn named_tensors(value: &serde_json::Value, names: &[String], found: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) if names.contains(s) => found.push(s.clone()),
        serde_json::Value::Array(items) => {
            items.iter().for_each(|v| named_tensors(v, names, found));
        }
        serde_json::Value::Object(map) => {
            map.values().for_each(|v| named_tensors(v, names, found));
        }
        _ => {}
    }
}

#[test]
fn format_1_fixtures_predict_as_recorded_and_resave_bit_for_bit() {
    let (probe, recorded) = expected();
    assert_eq!(recorded.len(), 6, "{:?}", recorded.keys());
    let tmp = tempfile::tempdir().unwrap();
    for (name, proba_bits) in &recorded {
        let old_dir = fixtures().join(name);
        let old_json = json(&old_dir.join(MODEL_FILE_NAME));
        assert_eq!(old_json["format_version"], LEGACY_FORMAT_VERSION, "{name}");
        assert!(
            old_dir.join(format!("{MODEL_FILE_NAME}.sha256")).is_file(),
            "{name}: the fixture's checksum is verified too"
        );
        let old = ClassicModel::load(&old_dir).unwrap();
        let old_proba = old.predict_proba(&probe).unwrap();
        assert_eq!(
            &bits(&old_proba),
            proba_bits,
            "{name}: format 1 as recorded"
        );

        let new_dir = tmp.path().join(name);
        let path = old.save(&new_dir).unwrap();
        assert_eq!(path, new_dir.join(MODEL_FILE_NAME));
        let new_json = json(&path);
        assert_eq!(new_json["format_version"], FORMAT_VERSION, "{name}");
        assert_eq!(new_json["weights_file"], WEIGHTS_FILE_NAME, "{name}");
        // Everything but the arrays is as it was.
        for key in ["config", "seed", "n_features", "n_classes"] {
            assert_eq!(new_json[key], old_json[key], "{name}: {key}");
        }
        let text = new_json.to_string();
        assert!(!text.contains("base64"), "{name}: arrays left in the JSON");
        let new = ClassicModel::load(&new_dir).unwrap();
        assert_eq!(new, old, "{name}: re-saved model differs");
        assert_eq!(
            bits(&new.predict_proba(&probe).unwrap()),
            *proba_bits,
            "{name}: format 2 predicts other bits"
        );
        // Saving the re-loaded model again writes the same bytes: the layout is deterministic.
        let again = tmp.path().join(format!("{name}-again"));
        new.save(&again).unwrap();
        for file in [MODEL_FILE_NAME, WEIGHTS_FILE_NAME] {
            assert_eq!(
                std::fs::read(new_dir.join(file)).unwrap(),
                std::fs::read(again.join(file)).unwrap(),
                "{name}: {file}"
            );
        }
    }
}

#[test]
fn the_weights_are_a_plain_safetensors_file_named_by_the_json() {
    let tmp = tempfile::tempdir().unwrap();
    let expected_dtypes = [
        ("svm", "svm.pool", safetensors::Dtype::F16),
        ("svm-f32", "svm.pool", safetensors::Dtype::F32),
        ("mlp", "mlp.member.0.w1", safetensors::Dtype::F16),
        ("mlp-f32", "mlp.member.0.w1", safetensors::Dtype::F32),
        ("knn", "knn.points", safetensors::Dtype::F32),
        ("random-forest", "forest.threshold", safetensors::Dtype::F32),
    ];
    for (name, tensor, dtype) in expected_dtypes {
        let model = ClassicModel::load(&fixtures().join(name)).unwrap();
        let dir = tmp.path().join(name);
        model.save(&dir).unwrap();
        let bytes = std::fs::read(dir.join(WEIGHTS_FILE_NAME)).unwrap();
        let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let mut names: Vec<String> = file.names().into_iter().map(str::to_owned).collect();
        names.sort();
        let mut named = Vec::new();
        named_tensors(&json(&dir.join(MODEL_FILE_NAME)), &names, &mut named);
        named.sort();
        assert_eq!(named, names, "{name}: the JSON names every tensor once");
        for standard in ["standardizer.mean", "standardizer.scale"] {
            let view = file.tensor(standard).unwrap();
            assert_eq!(view.dtype(), safetensors::Dtype::F64, "{name}");
            assert_eq!(view.shape(), [model.n_features()], "{name}");
        }
        assert_eq!(file.tensor(tensor).unwrap().dtype(), dtype, "{name}");
        let (_, metadata) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let metadata = metadata.metadata().clone().unwrap();
        assert_eq!(metadata.len(), 1);
        assert_eq!(metadata["format"], format!("ser-classic/{FORMAT_VERSION}"));
    }
    // The support vectors of a half-precision SVM are exactly the fixture's values.
    let dir = tmp.path().join("svm");
    let bytes = std::fs::read(dir.join(WEIGHTS_FILE_NAME)).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let pool = file.tensor("svm.pool").unwrap();
    let n = ClassicModel::load(&dir).unwrap().n_features();
    assert_eq!(pool.shape()[1], n);
    assert_eq!(pool.data().len(), pool.shape()[0] * n * 2);
}

#[test]
fn damaged_or_misnamed_weights_are_refused_with_the_file_named() {
    let tmp = tempfile::tempdir().unwrap();
    let model = ClassicModel::load(&fixtures().join("svm")).unwrap();
    let dir = tmp.path().join("run");
    let path = model.save(&dir).unwrap();
    let weights = dir.join(WEIGHTS_FILE_NAME);
    let weights_checksum = dir.join(format!("{WEIGHTS_FILE_NAME}.sha256"));
    let original = std::fs::read(&weights).unwrap();
    let line = std::fs::read_to_string(&weights_checksum).unwrap();
    assert!(
        line.ends_with(&format!("  {WEIGHTS_FILE_NAME}\n")),
        "{line}"
    );

    // One changed byte of a weight: the checksum names the weights file.
    let mut changed = original.clone();
    let last = changed.len() - 1;
    changed[last] ^= 1;
    std::fs::write(&weights, &changed).unwrap();
    match ClassicModel::load(&dir) {
        Err(ClassicError::Checksum {
            path: p,
            checksum_file,
            ..
        }) => {
            assert_eq!(p, weights);
            assert_eq!(checksum_file, weights_checksum);
        }
        other => panic!("expected a checksum error, got {other:?}"),
    }
    let message = ClassicModel::load(&dir).unwrap_err().to_string();
    assert!(message.contains(WEIGHTS_FILE_NAME), "{message}");

    // Without the checksum, a broken header or a truncated file is still refused.
    std::fs::remove_file(&weights_checksum).unwrap();
    let mut broken = original.clone();
    broken[8] = b'x';
    std::fs::write(&weights, &broken).unwrap();
    assert!(matches!(
        ClassicModel::load(&dir),
        Err(ClassicError::Weights { path: p, .. }) if p == weights
    ));
    std::fs::write(&weights, &original[..original.len() - 3]).unwrap();
    assert!(matches!(
        ClassicModel::load(&dir),
        Err(ClassicError::Weights { path: p, .. }) if p == weights
    ));
    std::fs::remove_file(&weights).unwrap();
    assert!(matches!(
        ClassicModel::load(&dir),
        Err(ClassicError::Io { path: p, .. }) if p == weights
    ));
    std::fs::write(&weights, &original).unwrap();
    assert_eq!(ClassicModel::load(&dir).unwrap(), model);

    // Edits of the JSON (its checksum removed) that name other files or tensors.
    std::fs::remove_file(dir.join(format!("{MODEL_FILE_NAME}.sha256"))).unwrap();
    let value = json(&path);
    let edit = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v = value.clone();
        edit(&mut v);
        std::fs::write(&path, v.to_string()).unwrap();
        ClassicModel::load(&dir)
    };
    for name in ["../classic-model.safetensors", "/tmp/w.safetensors", ""] {
        assert!(
            matches!(
                edit(&|v| v["weights_file"] = serde_json::json!(name)),
                Err(ClassicError::WeightsFileName { .. })
            ),
            "{name:?}"
        );
    }
    match edit(&|v| v["fitted"]["svm"]["pool"] = serde_json::json!("nope")) {
        Err(ClassicError::Tensor { path: p, name, .. }) => {
            assert_eq!(p, weights);
            assert_eq!(name, "nope");
        }
        other => panic!("expected a tensor error, got {other:?}"),
    }
    // A tensor of another dtype (the F64 means where the F16 pool belongs).
    let err = edit(&|v| v["fitted"]["svm"]["pool"] = serde_json::json!("standardizer.mean"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("tensor `standardizer.mean`: dtype F64"),
        "{err}"
    );
    // The means of another width.
    let err = edit(&|v| v["n_features"] = serde_json::json!(41))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("tensor `standardizer.mean`: shape [40]"),
        "{err}"
    );
    assert_eq!(edit(&|_| {}).unwrap(), model);
}

#[test]
fn the_shipped_default_model_is_in_format_2() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results/default-model");
    assert_eq!(
        json(&dir.join(MODEL_FILE_NAME))["format_version"],
        FORMAT_VERSION
    );
    for file in [MODEL_FILE_NAME, WEIGHTS_FILE_NAME] {
        assert!(dir.join(format!("{file}.sha256")).is_file(), "{file}");
    }
    let model = ClassicModel::load(&dir).unwrap();
    assert_eq!((model.n_features(), model.n_classes()), (1566, 8));
}
