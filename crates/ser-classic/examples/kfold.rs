//! Speaker-independent k-fold evaluation of the classical baselines on a corpus.
//!
//! ```text
//! cargo run --release -p ser-classic --example kfold -- [CORPUS_DIR]
//!     [--preset seed|speech16k|both] [--model svm|rf|knn|all]
//!     [--stats mfcc-mean|full-meanstd|all] [--seed N] [--save DIR]
//! ```
//! Defaults: `/work/shared/data/ravdess-16k`, both presets, every model, both statistics,
//! seed 0. Features are cached in `data/cache/` (`ser-data`'s default).
//!
//! Each fold of the corpus's default speaker-independent protocol (RAVDESS: 6 folds of 4 held
//! out actors) trains on its training **and** validation actors and tests on its test actors.
//! The models keep scikit-learn's default hyper-parameters, as the original project did, so
//! the validation actors are not needed for tuning and add training data instead. Per fold and
//! as mean ± population std over folds: accuracy, UAR and macro AUC, plus the fit + predict time.
//! `--save DIR` writes each fold's model to `DIR/<preset>/<stats>/<model>/fold-<k>/`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use ser_classic::{ClassicConfig, ClassicModel, Classifier, FeatureSpec, ModelKind, Pooling};
use ser_data::{BuildOptions, Corpus, CorpusOptions, Dataset, Protocol, Split};
use ser_features::{FeatureConfig, FeatureSet};
use ser_metrics::{Report, Scores, aggregate_folds};

struct Args {
    corpus: PathBuf,
    presets: Vec<String>,
    models: Vec<ModelKind>,
    stats: Vec<(&'static str, FeatureSet, Pooling)>,
    seed: u64,
    save: Option<PathBuf>,
}

const STATS: [(&str, FeatureSet, Pooling); 2] = [
    ("mfcc-mean", FeatureSet::Mfcc, Pooling::Mean),
    ("full-meanstd", FeatureSet::Full, Pooling::MeanStd),
];

fn parse_args() -> Result<Args, Box<dyn std::error::Error>> {
    let mut args = Args {
        corpus: PathBuf::from("/work/shared/data/ravdess-16k"),
        presets: vec!["seed".to_owned(), "speech16k".to_owned()],
        models: ModelKind::ALL.to_vec(),
        stats: STATS.to_vec(),
        seed: 0,
        save: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--preset" => {
                let v = value()?;
                args.presets = if v == "both" {
                    FeatureConfig::PRESETS
                        .iter()
                        .map(|s| (*s).to_owned())
                        .collect()
                } else {
                    vec![v]
                };
            }
            "--model" => {
                let v = value()?;
                args.models = if v == "all" {
                    ModelKind::ALL.to_vec()
                } else {
                    vec![v.parse()?]
                };
            }
            "--stats" => {
                let v = value()?;
                args.stats = STATS
                    .iter()
                    .filter(|(name, _, _)| v == "all" || *name == v)
                    .copied()
                    .collect();
                if args.stats.is_empty() {
                    return Err(
                        format!("unknown --stats {v} (mfcc-mean, full-meanstd, all)").into(),
                    );
                }
            }
            "--seed" => args.seed = value()?.parse()?,
            "--save" => args.save = Some(value()?.into()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}").into()),
            s => args.corpus = s.into(),
        }
    }
    Ok(args)
}

/// Accuracy, UAR, macro AUC and seconds of one fold.
struct FoldResult {
    report: Report,
    seconds: f64,
}

fn run_fold(
    split: &Split,
    vectors: &[Vec<f32>],
    labels: &[usize],
    config: &ClassicConfig,
    seed: u64,
    save: Option<&PathBuf>,
) -> Result<FoldResult, Box<dyn std::error::Error>> {
    let start = Instant::now();
    let train: Vec<usize> = split.train.iter().chain(&split.val).copied().collect();
    let x: Vec<&[f32]> = train.iter().map(|&i| vectors[i].as_slice()).collect();
    let y: Vec<usize> = train.iter().map(|&i| labels[i]).collect();
    let model = ClassicModel::fit(&x, &y, config, seed)?;
    let xt: Vec<&[f32]> = split.test.iter().map(|&i| vectors[i].as_slice()).collect();
    let yt: Vec<usize> = split.test.iter().map(|&i| labels[i]).collect();
    let proba = model.predict_proba(&xt)?;
    let pred = model.predict(&xt)?;
    let seconds = start.elapsed().as_secs_f64();
    if let Some(dir) = save {
        model.save(&dir.join(format!("fold-{}", split.fold)))?;
    }
    let report = Report::with_scores(&yt, &pred, &Scores::from_rows(&proba)?, &config.class_names)?;
    Ok(FoldResult { report, seconds })
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let corpus = Corpus::load(&args.corpus, &CorpusOptions::default())?;
    let protocol = Protocol::default_for(corpus.kind);
    println!(
        "corpus: {} ({} utterances)",
        args.corpus.display(),
        corpus.len()
    );
    println!("protocol: {protocol}");
    for preset in &args.presets {
        let extraction = FeatureConfig::preset(preset)?;
        let dataset = Dataset::build(corpus.clone(), &extraction, &BuildOptions::default())?;
        println!("\n== preset {preset}: {}", dataset.report());
        let splits = dataset.splits(&protocol)?;
        let label_map = splits
            .first()
            .ok_or("the protocol gave no split")?
            .label_map()?;
        let labels: Vec<usize> = (0..dataset.len())
            .map(|i| {
                let e = dataset.emotion(i)?;
                label_map
                    .index_of(e)
                    .ok_or_else(|| format!("emotion {e} not in the label map").into())
            })
            .collect::<Result<_, Box<dyn std::error::Error>>>()?;
        for &(stats_name, feature_set, pooling) in &args.stats {
            let spec = FeatureSpec::new(extraction.clone(), feature_set, pooling);
            let vectors: Vec<Vec<f32>> = (0..dataset.len())
                .map(|i| Ok(spec.pool_slice(dataset.features(i)?, None)?))
                .collect::<Result<_, Box<dyn std::error::Error>>>()?;
            for &kind in &args.models {
                let mut config = ClassicConfig::new(kind.default_config(), spec.clone());
                config.class_names = label_map.names().iter().map(|s| (*s).to_owned()).collect();
                let save = args
                    .save
                    .as_ref()
                    .map(|d| d.join(preset).join(stats_name).join(kind.name()));
                println!(
                    "\n{preset} / {stats_name} ({} values) / {kind}",
                    spec.n_features()
                );
                let mut reports = Vec::new();
                let mut total_s = 0.0;
                for split in &splits {
                    let r = run_fold(split, &vectors, &labels, &config, args.seed, save.as_ref())?;
                    println!(
                        "  fold {}: test {:?}  acc {:.4}  UAR {:.4}  AUC {:.4}  ({:.2} s)",
                        split.fold,
                        split
                            .test_speakers
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>(),
                        r.report.accuracy,
                        r.report.uar,
                        r.report.macro_auc().unwrap_or(f64::NAN),
                        r.seconds
                    );
                    total_s += r.seconds;
                    reports.push(r.report);
                }
                let agg = aggregate_folds(&reports)?;
                println!(
                    "  mean over {} folds: acc {:.4} ± {:.4}  UAR {:.4} ± {:.4}  AUC {:.4} ± {:.4}  ({:.1} s total)",
                    agg.n_folds,
                    agg.mean.accuracy,
                    agg.std.accuracy,
                    agg.mean.uar,
                    agg.std.uar,
                    agg.mean.macro_auc.unwrap_or(f64::NAN),
                    agg.std.macro_auc.unwrap_or(f64::NAN),
                    total_s
                );
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
