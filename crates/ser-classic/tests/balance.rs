//! Class and corpus balance end to end: weights of 1 change no model, `Class` balance raises
//! the recall of a rare class for every model, the balance is saved with the model, and the
//! choice of the SVM's `C` is made on the weighted problem.

use ser_classic::{
    Balance, ClassicConfig, ClassicError, ClassicModel, Classifier, FeatureSpec, ForestConfig,
    KnnConfig, MlpConfig, ModelConfig, ModelKind, Pooling, SVM_C_GRID, SvmConfig, Weighting,
    select_svm_c, select_svm_c_balanced,
};
use ser_features::{FeatureConfig, FeatureSet};

const N_DIMS: usize = 40;

/// SplitMix64 with Box-Muller normals.
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

/// `counts[c]` samples of each class `c`: unit Gaussian noise in 40 dimensions around a centre
/// `c * shift` on the first 4 (overlapping for small shifts), offsets and scales per feature.
fn classes(rng: &mut Rng, counts: &[usize], shift: f64) -> (Vec<Vec<f32>>, Vec<usize>) {
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for (class, &n) in counts.iter().enumerate() {
        for _ in 0..n {
            let row = (0..N_DIMS)
                .map(|j| {
                    let centre = if j < 4 { class as f64 * shift } else { 0.0 };
                    ((centre + rng.normal()) * (1.0 + 0.1 * j as f64) + j as f64) as f32
                })
                .collect();
            x.push(row);
            y.push(class);
        }
    }
    (x, y)
}

fn config(model: ModelConfig) -> ClassicConfig {
    ClassicConfig::new(
        model,
        FeatureSpec::new(FeatureConfig::seed(), FeatureSet::Mfcc, Pooling::Mean),
    )
}

/// Every model, with small settings where the defaults are slow, and the forest both with
/// and without bootstrap.
fn models() -> Vec<ModelConfig> {
    vec![
        ModelConfig::Svm(SvmConfig::default()),
        ModelConfig::RandomForest(ForestConfig {
            n_trees: 30,
            ..ForestConfig::default()
        }),
        ModelConfig::RandomForest(ForestConfig {
            n_trees: 10,
            bootstrap: false,
            max_depth: Some(4),
            ..ForestConfig::default()
        }),
        ModelConfig::Knn(KnnConfig::default()),
        ModelConfig::Knn(KnnConfig {
            weighting: Weighting::Distance,
            ..KnnConfig::default()
        }),
        ModelConfig::Mlp(MlpConfig {
            hidden: 32,
            members: 2,
            max_epochs: 30,
            ..MlpConfig::default()
        }),
    ]
}

fn recall(pred: &[usize], truth: &[usize], class: usize) -> f64 {
    let of_class: Vec<usize> = (0..truth.len()).filter(|&i| truth[i] == class).collect();
    of_class.iter().filter(|&&i| pred[i] == class).count() as f64 / of_class.len() as f64
}

#[test]
fn weights_of_one_give_the_unweighted_model_for_every_model() {
    let mut rng = Rng(1);
    let (x, y) = classes(&mut rng, &[40, 30, 20], 1.0);
    let ones = vec![1.0; x.len()];
    for model in models() {
        let config = config(model);
        let plain = ClassicModel::fit(&x, &y, &config, 7).unwrap();
        let weighted = ClassicModel::fit_weighted(&x, &y, &ones, &config, 7).unwrap();
        assert_eq!(plain, weighted, "{:?}", config.model);
        // Bit for bit, so the probabilities are too.
        assert_eq!(
            plain.predict_proba(&x).unwrap(),
            weighted.predict_proba(&x).unwrap()
        );
        // A balance on a set it leaves balanced: every weight is exactly 1.
        let (bx, by) = classes(&mut Rng(2), &[24, 24], 1.0);
        let mut class_config = config.clone();
        class_config.balance = Balance::CorpusClass;
        let corpora: Vec<&str> = (0..bx.len())
            .map(|i| if i % 2 == 0 { "a" } else { "b" })
            .collect();
        let balanced = ClassicModel::fit_balanced(&bx, &by, &corpora, &class_config, 3).unwrap();
        let unbalanced = ClassicModel::fit(&bx, &by, &config, 3).unwrap();
        assert_eq!(balanced.fitted(), unbalanced.fitted(), "{:?}", config.model);
        assert_eq!(balanced.config().balance, Balance::CorpusClass);
    }
}

#[test]
fn class_balance_raises_the_recall_of_a_rare_class() {
    // 300 samples of class 0, 30 of class 1, overlapping; tested on 300 of each.
    let mut rng = Rng(3);
    let (x, y) = classes(&mut rng, &[300, 30], 1.0);
    let (test_x, test_y) = classes(&mut rng, &[300, 300], 1.0);
    for model in models() {
        let plain_config = config(model);
        let mut class_config = plain_config.clone();
        class_config.balance = Balance::Class;
        let plain = ClassicModel::fit(&x, &y, &plain_config, 5).unwrap();
        // `fit` applies a balance that needs no corpora.
        let balanced = ClassicModel::fit(&x, &y, &class_config, 5).unwrap();
        let (p, b) = (
            plain.predict(&test_x).unwrap(),
            balanced.predict(&test_x).unwrap(),
        );
        let (rare_plain, rare_balanced) = (recall(&p, &test_y, 1), recall(&b, &test_y, 1));
        let uar = |pred: &[usize]| (recall(pred, &test_y, 0) + recall(pred, &test_y, 1)) / 2.0;
        eprintln!(
            "{:?}: rare-class recall {rare_plain:.3} -> {rare_balanced:.3}, UAR {:.3} -> {:.3}",
            plain_config.model,
            uar(&p),
            uar(&b)
        );
        assert!(
            rare_balanced > rare_plain + 0.05,
            "{:?}: rare-class recall {rare_plain} -> {rare_balanced}",
            plain_config.model
        );
        // fit_balanced (no corpora needed) and the explicit weights give the same model.
        let weights = Balance::Class.sample_weights::<u32>(&y, &[]).unwrap();
        let mut none_config = class_config.clone();
        none_config.balance = Balance::None;
        let explicit = ClassicModel::fit_weighted(&x, &y, &weights, &none_config, 5).unwrap();
        assert_eq!(explicit.fitted(), balanced.fitted());
    }
}

#[test]
fn corpus_balance_needs_corpora_and_is_saved_with_the_model() {
    let mut rng = Rng(4);
    let (x, y) = classes(&mut rng, &[30, 30], 2.0);
    // A big corpus and a small one.
    let corpora: Vec<u32> = (0..x.len()).map(|i| u32::from(i % 6 == 0)).collect();
    let mut config = config(ModelKind::Knn.default_config());
    config.balance = Balance::Corpus;
    let err = ClassicModel::fit(&x, &y, &config, 0).unwrap_err();
    assert!(
        matches!(
            err,
            ClassicError::PerSampleCount {
                what: "corpus ids",
                n_samples: 60,
                got: 0
            }
        ),
        "{err}"
    );
    assert!(ClassicModel::fit_balanced(&x, &y, &corpora[1..], &config, 0).is_err());
    let model = ClassicModel::fit_balanced(&x, &y, &corpora, &config, 0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    model.save(dir.path()).unwrap();
    let text = std::fs::read_to_string(dir.path().join(ser_classic::MODEL_FILE_NAME)).unwrap();
    assert!(text.contains(r#""balance":"corpus""#), "{}", &text[..300]);
    let back = ClassicModel::load(dir.path()).unwrap();
    assert_eq!(back, model);
    assert_eq!(back.config().balance, Balance::Corpus);
    // The weighted votes differ from the unweighted ones somewhere.
    let mut plain_config = config.clone();
    plain_config.balance = Balance::None;
    let plain = ClassicModel::fit(&x, &y, &plain_config, 0).unwrap();
    assert_ne!(plain.fitted(), model.fitted());
}

#[test]
fn configurations_without_balance_serialise_as_before() {
    let config = config(ModelKind::Svm.default_config());
    let json = serde_json::to_string(&config).unwrap();
    assert!(!json.contains("balance"), "{json}");
    // An older configuration (no field) loads as no balance.
    let back: ClassicConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back.balance, Balance::None);
    for balance in Balance::ALL {
        let mut with = config.clone();
        with.balance = balance;
        let json = serde_json::to_string(&with).unwrap();
        assert_eq!(
            json.contains(&format!(r#""balance":"{balance}""#)),
            balance != Balance::None,
            "{json}"
        );
        assert_eq!(serde_json::from_str::<ClassicConfig>(&json).unwrap(), with);
        assert_eq!(balance.to_string().parse::<Balance>().unwrap(), balance);
    }
    let mut with = config.clone();
    with.balance = Balance::Class;
    let bad = serde_json::to_string(&with)
        .unwrap()
        .replace(r#""balance":"class""#, r#""balance":"speaker""#);
    assert!(
        serde_json::from_str::<ClassicConfig>(&bad).is_err(),
        "{bad}"
    );
}

#[test]
fn bad_weights_are_refused() {
    let mut rng = Rng(5);
    let (x, y) = classes(&mut rng, &[10, 10], 2.0);
    let config = config(ModelKind::Knn.default_config());
    let short = vec![1.0; 19];
    assert!(matches!(
        ClassicModel::fit_weighted(&x, &y, &short, &config, 0),
        Err(ClassicError::PerSampleCount {
            what: "weights",
            n_samples: 20,
            got: 19
        })
    ));
    let mut zero = vec![1.0; 20];
    zero[4] = 0.0;
    assert!(matches!(
        ClassicModel::fit_weighted(&x, &y, &zero, &config, 0),
        Err(ClassicError::InvalidWeight { sample: 4, .. })
    ));
}

/// 6 speakers (4 of corpus "big", 2 of corpus "small") x 2 classes, class 1 rare in "big".
#[allow(clippy::type_complexity)]
fn speakers_and_corpora() -> (Vec<Vec<f32>>, Vec<usize>, Vec<String>, Vec<&'static str>) {
    let mut rng = Rng(6);
    let (mut x, mut y, mut speakers, mut corpora) = (Vec::new(), Vec::new(), vec![], vec![]);
    for speaker in 0..6 {
        let corpus = if speaker < 4 { "big" } else { "small" };
        let counts = if speaker < 4 { [12, 3] } else { [4, 4] };
        let (sx, sy) = classes(&mut rng, &counts, 1.2);
        for (row, label) in sx.into_iter().zip(sy) {
            x.push(row);
            y.push(label);
            speakers.push(format!("s{speaker}"));
            corpora.push(corpus);
        }
    }
    (x, y, speakers, corpora)
}

#[test]
fn c_is_chosen_on_the_weighted_problem() {
    let (x, y, speakers, corpora) = speakers_and_corpora();
    let plain = config(ModelKind::Svm.default_config());
    // Without a balance, the balanced selection is the plain one.
    let a = select_svm_c(&x, &y, &speakers, &plain, &SVM_C_GRID, 3, 0).unwrap();
    let b = select_svm_c_balanced(&x, &y, &speakers, &corpora, &plain, &SVM_C_GRID, 3, 0).unwrap();
    assert_eq!(a, b);
    // With one, the inner fits are weighted (other scores).
    let mut balanced = plain.clone();
    balanced.balance = Balance::CorpusClass;
    let c =
        select_svm_c_balanced(&x, &y, &speakers, &corpora, &balanced, &SVM_C_GRID, 3, 0).unwrap();
    assert_ne!(a.scores, c.scores);
    assert!(c.scores.iter().all(|&(_, s)| (0.0..=1.0).contains(&s)));
    // Class balance needs no corpora, even through select_svm_c.
    balanced.balance = Balance::Class;
    let d = select_svm_c(&x, &y, &speakers, &balanced, &SVM_C_GRID, 3, 0).unwrap();
    let e =
        select_svm_c_balanced::<_, _, u32>(&x, &y, &speakers, &[], &balanced, &SVM_C_GRID, 3, 0)
            .unwrap();
    assert_eq!(d, e);
    // A corpus balance without corpora is refused up front.
    balanced.balance = Balance::Corpus;
    assert!(matches!(
        select_svm_c(&x, &y, &speakers, &balanced, &SVM_C_GRID, 3, 0),
        Err(ClassicError::PerSampleCount { .. })
    ));
}
