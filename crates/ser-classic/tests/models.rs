//! End-to-end checks of the three classifiers on synthetic problems: learning, probabilities,
//! determinism, save/load and errors.

use ser_classic::{
    ClassicConfig, ClassicError, ClassicModel, Classifier, FORMAT_VERSION, FeatureSpec,
    FittedModel, ForestConfig, Knn, KnnConfig, MODEL_FILE_NAME, ModelConfig, ModelKind, Pooling,
    RandomForest, SvmConfig, SvmModel, WEIGHTS_FILE_NAME, Weighting,
};
use ser_features::{FeatureConfig, FeatureMatrix, FeatureSet};

const N_CLASSES: usize = 8;
const N_DIMS: usize = 40;

/// SplitMix64 with Box-Muller normals: the tests need no `rand`.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        (-2.0 * self.uniform().ln()).sqrt() * (std::f64::consts::TAU * self.uniform()).cos()
    }
}

/// Gaussian blobs: 8 centres uniform in [-3, 3]^40, unit noise; features get different offsets
/// and scales so that standardisation matters. Returns (train x, train y, test x, test y).
fn blobs(
    seed: u64,
    per_class_train: usize,
    per_class_test: usize,
) -> [(Vec<Vec<f32>>, Vec<usize>); 2] {
    let mut rng = Rng(seed);
    let centres: Vec<Vec<f64>> = (0..N_CLASSES)
        .map(|_| (0..N_DIMS).map(|_| 6.0 * rng.uniform() - 3.0).collect())
        .collect();
    let mut draw = |per_class: usize| {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..per_class * N_CLASSES {
            let class = i % N_CLASSES;
            let row = centres[class]
                .iter()
                .enumerate()
                .map(|(j, c)| ((c + rng.normal()) * (1.0 + j as f64) + 100.0 * j as f64) as f32)
                .collect();
            x.push(row);
            y.push(class);
        }
        (x, y)
    };
    [draw(per_class_train), draw(per_class_test)]
}

fn accuracy(pred: &[usize], truth: &[usize]) -> f64 {
    pred.iter().zip(truth).filter(|(p, t)| p == t).count() as f64 / truth.len() as f64
}

fn spec() -> FeatureSpec {
    FeatureSpec::new(FeatureConfig::seed(), FeatureSet::Mfcc, Pooling::Mean)
}

fn assert_rows_sum_to_one(p: &[Vec<f32>]) {
    for row in p {
        assert_eq!(row.len(), N_CLASSES);
        assert!(row.iter().all(|v| (0.0..=1.0).contains(v)), "{row:?}");
        let sum: f32 = row.iter().sum();
        assert!((sum - 1.0).abs() < 1e-5, "row sums to {sum}");
    }
}

fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

#[test]
fn every_model_learns_separable_blobs_and_round_trips() {
    let [(x, y), (xt, yt)] = blobs(1, 30, 20);
    let dir = tempfile::tempdir().unwrap();
    for kind in ModelKind::ALL {
        let config = ClassicConfig::new(kind.default_config(), spec());
        let model = ClassicModel::fit(&x, &y, &config, 7).unwrap();
        assert_eq!((model.n_features(), model.n_classes()), (N_DIMS, N_CLASSES));
        let proba = model.predict_proba(&xt).unwrap();
        assert_rows_sum_to_one(&proba);
        let pred = model.predict(&xt).unwrap();
        let argmaxes: Vec<usize> = proba.iter().map(|p| argmax(p)).collect();
        assert_eq!(
            pred, argmaxes,
            "{kind}: predict is the argmax of predict_proba"
        );
        let acc = accuracy(&pred, &yt);
        assert!(acc > 0.9, "{kind}: accuracy {acc}");

        // Same seed, same model; save -> load gives the same model and the same numbers.
        assert_eq!(ClassicModel::fit(&x, &y, &config, 7).unwrap(), model);
        let run = dir.path().join(kind.name());
        let path = model.save(&run).unwrap();
        assert_eq!(path, run.join(MODEL_FILE_NAME));
        let loaded = ClassicModel::load(&run).unwrap();
        assert_eq!(loaded, model, "{kind}: loaded model differs");
        assert_eq!(loaded.predict_proba(&xt).unwrap(), proba);
        // Nothing but the model file, its weights and their checksums is left in the run
        // folder (no temporary files).
        let mut names: Vec<_> = std::fs::read_dir(&run)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            vec![
                MODEL_FILE_NAME.to_owned(),
                format!("{MODEL_FILE_NAME}.sha256"),
                WEIGHTS_FILE_NAME.to_owned(),
                format!("{WEIGHTS_FILE_NAME}.sha256"),
            ]
        );
        // A reasonable size for 240 training samples of 40 values; the structure is small.
        let weights = std::fs::metadata(run.join(WEIGHTS_FILE_NAME))
            .unwrap()
            .len();
        assert!(weights < 2_000_000, "{kind}: {weights} bytes of weights");
        let bytes = std::fs::metadata(&path).unwrap().len();
        assert!(bytes < 20_000, "{kind}: {bytes} bytes of JSON");
    }
}

#[test]
fn the_bare_classifiers_learn_too() {
    let [(x, y), (xt, yt)] = blobs(2, 25, 20);
    let svm = SvmModel::fit(&x, &y, &SvmConfig::default(), 1).unwrap();
    let forest = RandomForest::fit(&x, &y, &ForestConfig::default(), 1).unwrap();
    let knn_config = KnnConfig {
        weighting: Weighting::Distance,
        ..KnnConfig::default()
    };
    let knn = Knn::fit(&x, &y, &knn_config, 1).unwrap();
    // The SVM without standardisation sees features scaled 1..40x: gamma "scale" copes.
    for (name, pred, proba) in [
        (
            "svm",
            svm.predict(&xt).unwrap(),
            svm.predict_proba(&xt).unwrap(),
        ),
        (
            "forest",
            forest.predict(&xt).unwrap(),
            forest.predict_proba(&xt).unwrap(),
        ),
        (
            "knn",
            knn.predict(&xt).unwrap(),
            knn.predict_proba(&xt).unwrap(),
        ),
    ] {
        assert_rows_sum_to_one(&proba);
        let acc = accuracy(&pred, &yt);
        assert!(acc > 0.9, "{name}: accuracy {acc}");
    }
    assert!(svm.temperature() > 0.0 && svm.temperature().is_finite());
    assert!(svm.n_support_vectors() <= x.len());
    assert_eq!(forest.n_trees(), 100);
}

#[test]
fn seeds_matter_only_where_there_is_randomness() {
    let [(x, y), (xt, _)] = blobs(3, 10, 5);
    let forest = |seed| RandomForest::fit(&x, &y, &ForestConfig::default(), seed).unwrap();
    assert_eq!(forest(1), forest(1));
    assert_ne!(forest(1), forest(2));
    let knn = |seed| Knn::fit(&x, &y, &KnnConfig::default(), seed).unwrap();
    assert_eq!(
        knn(1).predict_proba(&xt).unwrap(),
        knn(2).predict_proba(&xt).unwrap()
    );
}

#[test]
fn the_standardizer_sees_training_data_only() {
    let [(x, y), (xt, _)] = blobs(4, 10, 10);
    let config = ClassicConfig::new(ModelKind::Knn.default_config(), spec());
    let model = ClassicModel::fit(&x, &y, &config, 0).unwrap();
    let s = model.standardizer();
    for j in [0, 17, 39] {
        let column: Vec<f64> = x.iter().map(|r| f64::from(r[j])).collect();
        let mean = column.iter().sum::<f64>() / column.len() as f64;
        let var = column.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / column.len() as f64;
        assert!((s.mean()[j] - mean).abs() < 1e-9 * mean.abs().max(1.0));
        assert!((s.scale()[j] - var.sqrt()).abs() < 1e-9 * var.sqrt());
    }
    // Predicting does not refit it: shifted test data leave the model as it was.
    let shifted: Vec<Vec<f32>> = xt
        .iter()
        .map(|r| r.iter().map(|v| v + 1000.0).collect())
        .collect();
    let before = model.clone();
    model.predict_proba(&shifted).unwrap();
    assert_eq!(model, before);
    // And each test sample is scaled alone: a batch gives the same rows as one sample at a time.
    let batch = model.predict_proba(&xt).unwrap();
    let one_by_one: Vec<Vec<f32>> = xt
        .iter()
        .map(|r| model.predict_proba(&[r]).unwrap().remove(0))
        .collect();
    assert_eq!(batch, one_by_one);
}

#[test]
fn class_names_fix_the_number_of_classes() {
    let [(x, y), _] = blobs(5, 5, 1);
    let mut config = ClassicConfig::new(ModelKind::RandomForest.default_config(), spec());
    config.class_names = (0..N_CLASSES + 1).map(|c| format!("c{c}")).collect();
    // Class 8 has no sample.
    assert!(matches!(
        ClassicModel::fit(&x, &y, &config, 0),
        Err(ClassicError::EmptyClass {
            class: 8,
            n_classes: 9
        })
    ));
    config.class_names.truncate(N_CLASSES - 1);
    assert!(matches!(
        ClassicModel::fit(&x, &y, &config, 0),
        Err(ClassicError::LabelOutOfRange {
            label: 7,
            n_classes: 7,
            ..
        })
    ));
    config.class_names.push("c7".to_owned());
    let model = ClassicModel::fit(&x, &y, &config, 0).unwrap();
    assert_eq!(model.config().class_names.len(), N_CLASSES);
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let [(x, y), _] = blobs(6, 4, 1);
    for kind in ModelKind::ALL {
        let config = ClassicConfig::new(kind.default_config(), spec());
        let empty: Vec<Vec<f32>> = Vec::new();
        assert!(matches!(
            ClassicModel::fit(&empty, &[], &config, 0),
            Err(ClassicError::EmptyTrainingSet)
        ));
        let same = vec![3; x.len()];
        assert!(matches!(
            ClassicModel::fit(&x, &same, &config, 0),
            Err(ClassicError::OneClass { class: 3 })
        ));
        assert!(matches!(
            ClassicModel::fit(&x, &y[1..], &config, 0),
            Err(ClassicError::LabelCountMismatch { .. })
        ));
        let short: Vec<Vec<f32>> = x.iter().map(|r| r[..10].to_vec()).collect();
        assert!(matches!(
            ClassicModel::fit(&short, &y, &config, 0),
            Err(ClassicError::DimensionMismatch {
                sample: 0,
                expected: 40,
                got: 10
            })
        ));
        let mut with_nan = x.clone();
        with_nan[5][3] = f32::NAN;
        assert!(matches!(
            ClassicModel::fit(&with_nan, &y, &config, 0),
            Err(ClassicError::NonFinite {
                sample: 5,
                feature: 3,
                ..
            })
        ));
        let model = ClassicModel::fit(&x, &y, &config, 0).unwrap();
        assert!(matches!(
            model.predict(&[vec![0.0f32; 39]]),
            Err(ClassicError::DimensionMismatch {
                expected: 40,
                got: 39,
                ..
            })
        ));
        assert!(model.predict(&empty).unwrap().is_empty());
    }
    let bad_c = ClassicConfig::new(
        ModelConfig::Svm(SvmConfig {
            c: -1.0,
            ..SvmConfig::default()
        }),
        spec(),
    );
    assert!(matches!(
        ClassicModel::fit(&x, &y, &bad_c, 0),
        Err(ClassicError::InvalidConfig { field: "svm.c", .. })
    ));
}

#[test]
fn broken_model_files_are_refused() {
    let [(x, y), _] = blobs(7, 4, 1);
    let config = ClassicConfig::new(ModelKind::Knn.default_config(), spec());
    let model = ClassicModel::fit(&x, &y, &config, 0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = model.save(dir.path()).unwrap();
    let json = std::fs::read_to_string(&path).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();

    // A changed byte that still parses (a digit of a number) is caught by the checksum.
    let checksum = dir.path().join(format!("{MODEL_FILE_NAME}.sha256"));
    assert!(checksum.is_file());
    let digit = json.find(|c: char| c.is_ascii_digit() && c != '9').unwrap();
    let mut changed = json.clone().into_bytes();
    changed[digit] += 1;
    std::fs::write(&path, &changed).unwrap();
    match ClassicModel::load(dir.path()) {
        Err(ClassicError::Checksum {
            path: p,
            checksum_file,
            ..
        }) => {
            assert_eq!(p, path);
            assert_eq!(checksum_file, checksum);
        }
        other => panic!("expected a checksum error, got {other:?}"),
    }
    // Models saved before checksums existed load without one; the edits below test the
    // other checks.
    std::fs::remove_file(&checksum).unwrap();

    assert!(matches!(
        ClassicModel::load(&dir.path().join("missing")),
        Err(ClassicError::Io { .. })
    ));
    std::fs::write(&path, "{not json").unwrap();
    assert!(matches!(
        ClassicModel::load(dir.path()),
        Err(ClassicError::Json { .. })
    ));

    value["format_version"] = serde_json::json!(FORMAT_VERSION + 1);
    std::fs::write(&path, value.to_string()).unwrap();
    assert!(matches!(
        ClassicModel::load(dir.path()),
        Err(ClassicError::FormatVersion { found, .. }) if found == FORMAT_VERSION + 1
    ));
    value["format_version"] = serde_json::json!(FORMAT_VERSION);

    // The feature specification no longer matches the fitted model's width.
    let mut wider = value.clone();
    wider["config"]["features"]["feature_set"] = serde_json::json!("full");
    std::fs::write(&path, wider.to_string()).unwrap();
    assert!(matches!(
        ClassicModel::load(dir.path()),
        Err(ClassicError::Corrupt { .. })
    ));

    // The configured kind differs from the fitted one.
    let mut other = value.clone();
    other["config"]["model"] = serde_json::json!({"kind": "svm", "params": {}});
    std::fs::write(&path, other.to_string()).unwrap();
    assert!(matches!(
        ClassicModel::load(dir.path()),
        Err(ClassicError::Corrupt { .. })
    ));

    std::fs::write(&path, value.to_string()).unwrap();
    assert_eq!(ClassicModel::load(dir.path()).unwrap(), model);
}

#[test]
fn a_loaded_model_reads_feature_matrices() {
    // Utterances whose MFCC rows sit at class-dependent levels, then 5 frames of padding.
    let config = FeatureConfig::seed();
    let n_rows = config.layout().n_rows;
    let n_frames = 20;
    let matrix = |class: usize, jitter: f32| {
        let mut m = FeatureMatrix::zeros(n_rows, n_frames);
        for r in 0..n_rows {
            for f in 0..n_frames - 5 {
                m.data[r * n_frames + f] =
                    1.0 + (class * (r % 3 + 1)) as f32 + jitter * (f % 3) as f32;
            }
        }
        m
    };
    let spec = FeatureSpec::new(config, FeatureSet::Full, Pooling::MeanStd);
    let train: Vec<(FeatureMatrix, usize)> = (0..30)
        .map(|i| (matrix(i % 3, 0.1 * (i / 3) as f32), i % 3))
        .collect();
    let x: Vec<Vec<f32>> = train
        .iter()
        .map(|(m, _)| spec.pool_matrix(m, None).unwrap())
        .collect();
    let y: Vec<usize> = train.iter().map(|(_, c)| *c).collect();
    assert!(x.iter().all(|v| v.len() == 2 * n_rows));
    let model = ClassicModel::fit(
        &x,
        &y,
        &ClassicConfig::new(ModelKind::Svm.default_config(), spec),
        0,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    model.save(dir.path()).unwrap();
    let loaded = ClassicModel::load(dir.path()).unwrap();
    for class in 0..3 {
        let p = loaded
            .predict_proba_matrix(&matrix(class, 0.05), None)
            .unwrap();
        assert_eq!(argmax(&p), class, "{p:?}");
    }
    assert!(matches!(loaded.fitted(), FittedModel::Svm(_)));
}
