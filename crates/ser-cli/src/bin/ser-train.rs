//! `ser-train`: train speech emotion classifiers speaker-independently, or summarise a corpus.
//!
//! ```text
//! ser-train --data DIR --summary
//! ser-train --data DIR --model cnn-lstm [--protocol default] [--fold 1|all] [--out DIR]
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use clap::Parser;
use ser_cli::RunInfo;
use ser_data::{
    BuildOptions, Corpus, CorpusKind, CorpusOptions, Dataset, NormalizationMode, Normalizer,
    Protocol, Split, Summary,
};
use ser_features::{FeatureConfig, FeatureSet};
use ser_models::{ModelConfig, ModelPreset};
use ser_trainer::{Splits, TrainConfig, Trainer};

/// Train speech emotion classifiers with speaker-independent protocols.
#[derive(Debug, Parser)]
#[command(name = "ser-train", version, about, long_about = None)]
struct Args {
    /// Corpus folder (RAVDESS, EmoDB or TESS layout).
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Corpus layout: auto, ravdess, emodb or tess.
    #[arg(long, default_value = "auto")]
    corpus: String,
    /// Print counts per emotion, speaker and fold, and the skipped files; train nothing.
    #[arg(long)]
    summary: bool,
    /// Model: cnn, rnn, lstm, gru, cnn-lstm (our default variant), cnn-lstm-original, or any
    /// variant name (rnn-mean, lstm-mean, gru-mean, cnn-lstm-mean, cnn-lstm-attention,
    /// cnn-lstm-strided).
    #[arg(long, default_value = "cnn-lstm")]
    model: String,
    /// Evaluation protocol: default (per corpus; RAVDESS: 6-fold leave-4-actors-out),
    /// ravdess-6fold, original-split (test actors 19-24), kfold:K (by speaker), or
    /// random-clips-leaks-speakers (NOT speaker-independent; prints and stores a warning).
    #[arg(long, default_value = "default")]
    protocol: String,
    /// Fold to train (1-based) or "all".
    #[arg(long, default_value = "1")]
    fold: String,
    /// Feature preset: speech16k (default) or seed (the original's 22.05 kHz parameters).
    #[arg(long, default_value = "speech16k")]
    preset: String,
    /// Rows the model sees: full (174), mfcc (40), mfcc-deltas (120), mel-db (40).
    #[arg(long, default_value = "full")]
    features: FeatureSet,
    /// Feature normalisation: global (training-set statistics), utterance, none.
    #[arg(long, default_value = "global")]
    normalize: String,
    /// Maximum epochs.
    #[arg(long, default_value_t = 100)]
    epochs: usize,
    /// Batch size.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Initial learning rate (Adam).
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Label smoothing in [0, 1).
    #[arg(long, default_value_t = 0.0)]
    label_smoothing: f32,
    /// Early-stopping patience in epochs (0 disables early stopping).
    #[arg(long, default_value_t = 10)]
    patience: usize,
    /// Seed of initialisation, shuffling and dropout.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Output folder (default: results/runs/<model>-<features>-<preset>-<protocol>).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Continue an interrupted run in --out.
    #[arg(long)]
    resume: bool,
    #[command(flatten)]
    cache: ser_cli::CacheArgs,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn parse_protocol(name: &str, kind: CorpusKind) -> Result<Protocol> {
    Ok(match name {
        "default" => Protocol::default_for(kind),
        "ravdess-6fold" => Protocol::RavdessLeaveFourActorsOut,
        "original-split" => Protocol::RavdessOriginalSplit,
        "random-clips-leaks-speakers" => Protocol::RandomClipsLeaksSpeakers {
            seed: 42,
            test_percent: 15,
            val_percent: 15,
        },
        other => match other.strip_prefix("kfold:").map(str::parse::<usize>) {
            Some(Ok(k)) => Protocol::SpeakerKFold { k, val_speakers: 2 },
            _ => bail!(
                "unknown protocol {other:?} (known: default, ravdess-6fold, original-split, kfold:K, \
                 random-clips-leaks-speakers)"
            ),
        },
    })
}

fn parse_model(name: &str) -> Result<ModelPreset> {
    let canonical = match name {
        "cnn-lstm" => "cnn-lstm-mean",
        other => other,
    };
    canonical
        .parse::<ModelPreset>()
        .map_err(|e| anyhow::anyhow!("unknown model {name:?}: {e}"))
}

fn parse_normalization(name: &str) -> Result<NormalizationMode> {
    Ok(match name {
        "global" => NormalizationMode::Global,
        "utterance" => NormalizationMode::PerUtterance,
        "none" => NormalizationMode::None,
        other => bail!("unknown normalisation {other:?} (known: global, utterance, none)"),
    })
}

fn run(args: Args) -> Result<()> {
    if !args.data.is_dir() {
        bail!("{}: no such corpus folder", args.data.display());
    }
    let kind = match args.corpus.as_str() {
        "auto" => None,
        name => Some(
            name.parse::<CorpusKind>()
                .map_err(|e| anyhow::anyhow!("--corpus: {e}"))?,
        ),
    };
    let corpus = Corpus::load(
        &args.data,
        &CorpusOptions {
            kind,
            include_song: false,
        },
    )
    .with_context(|| format!("cannot read the corpus in {}", args.data.display()))?;
    let protocol = parse_protocol(&args.protocol, corpus.kind)?;
    if let Some(warning) = protocol.leak_warning() {
        eprintln!("WARNING: {warning}");
    }
    if args.summary {
        let summary = Summary::new(&corpus, Some(&protocol))?;
        println!("{summary}");
        return Ok(());
    }

    // Check everything cheap before any expensive work.
    let preset = parse_model(&args.model)?;
    let mode = parse_normalization(&args.normalize)?;
    let feature_config = FeatureConfig::preset(&args.preset)?;
    let splits = protocol.splits(&corpus)?;
    let folds: Vec<usize> = match args.fold.as_str() {
        "all" => (0..splits.len()).collect(),
        n => match n.parse::<usize>() {
            Ok(f) if (1..=splits.len()).contains(&f) => vec![f - 1],
            _ => bail!(
                "--fold {n}: the protocol {} has folds 1..={} (or \"all\")",
                protocol.name(),
                splits.len()
            ),
        },
    };
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("results/runs").join(format!(
            "{}-{}-{}-{}",
            args.model,
            args.features,
            args.preset,
            protocol.name()
        ))
    });
    let fold_dirs: Vec<PathBuf> = folds
        .iter()
        .map(|f| out.join(format!("fold-{}", f + 1)))
        .collect();
    for dir in &fold_dirs {
        if dir.join(ser_cli::RUN_INFO_FILE).exists() && !args.resume {
            bail!(
                "{}: already holds a run (use --resume to continue it, or another --out)",
                dir.display()
            );
        }
    }

    let options = BuildOptions {
        cache_dir: args.cache.cache_dir(),
        progress: true,
    };
    let dataset = Dataset::build(corpus, &feature_config, &options)?;
    eprintln!("features: {}", dataset.report());
    // Splits are recomputed on the dataset: files that failed to decode are now skipped.
    let splits = dataset.splits(&protocol)?;

    let interrupt = Arc::new(AtomicBool::new(false));
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    for (&fold, dir) in folds.iter().zip(&fold_dirs) {
        let split = splits
            .get(fold)
            .with_context(|| format!("fold {} vanished after decoding", fold + 1))?;
        eprintln!(
            "fold {}/{}: train {} ({} speakers), val {} ({}), test {} ({})",
            fold + 1,
            splits.len(),
            split.train.len(),
            split.train_speakers.len(),
            split.val.len(),
            split.val_speakers.len(),
            split.test.len(),
            split.test_speakers.len()
        );
        train_fold(
            &args,
            &dataset,
            split,
            splits.len(),
            preset,
            mode,
            &protocol,
            dir,
            &command,
            &interrupt,
        )?;
        if interrupt.load(Ordering::Relaxed) {
            bail!("interrupted; continue with --resume");
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn train_fold(
    args: &Args,
    dataset: &Dataset,
    split: &Split,
    n_folds: usize,
    preset: ModelPreset,
    mode: NormalizationMode,
    protocol: &Protocol,
    dir: &Path,
    command: &str,
    interrupt: &Arc<AtomicBool>,
) -> Result<()> {
    let label_map = split.label_map()?;
    let normalizer = Normalizer::fit(mode, dataset, split)?;
    let rows = dataset.config().layout().rows(args.features);
    let n_frames = dataset.n_frames();
    let make = |name: &str, indices: &[usize]| -> Result<ser_trainer::Dataset> {
        let mut values = Vec::with_capacity(indices.len() * rows.len() * n_frames);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            let mut m = dataset.matrix(i)?;
            normalizer.apply(&mut m.data, n_frames)?;
            values.extend_from_slice(&m.select_rows(&rows).data);
            let emotion = dataset.emotion(i)?;
            labels.push(
                label_map
                    .index_of(emotion)
                    .with_context(|| format!("{emotion} is not in the label map"))?,
            );
        }
        Ok(ser_trainer::Dataset::from_parts(
            name,
            rows.len(),
            n_frames,
            values,
            labels,
        )?)
    };
    let train = make("train", &split.train)?;
    let val = make("val", &split.val)?;
    let test = make("test", &split.test)?;

    let info = RunInfo {
        format_version: ser_cli::RUN_INFO_VERSION,
        model: args.model.clone(),
        // Absolute, so that ser-eval finds the corpus from any working folder.
        data_dir: args
            .data
            .canonicalize()
            .unwrap_or_else(|_| args.data.clone()),
        feature_config: dataset.config().clone(),
        feature_set: args.features,
        normalizer,
        label_map: label_map.clone(),
        protocol: protocol.clone(),
        fold: split.fold,
        n_folds,
        train_speakers: split
            .train_speakers
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect(),
        val_speakers: split
            .val_speakers
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect(),
        test_speakers: split
            .test_speakers
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect(),
        seed: args.seed,
        leak_warning: protocol.leak_warning().map(str::to_owned),
        command: command.to_owned(),
    };
    if args.resume && dir.join(ser_cli::RUN_INFO_FILE).exists() {
        let previous = RunInfo::load(dir)?;
        if previous.model != info.model
            || previous.feature_config != info.feature_config
            || previous.feature_set != info.feature_set
            || previous.protocol != info.protocol
            || previous.fold != info.fold
        {
            bail!(
                "{}: holds a different run (model, features, protocol or fold differ); cannot resume",
                dir.display()
            );
        }
    }
    info.save(dir)?;

    let model_config = ModelConfig::preset(preset, rows.len(), label_map.len());
    let config = TrainConfig {
        max_epochs: args.epochs,
        batch_size: args.batch_size,
        learning_rate: args.lr,
        label_smoothing: args.label_smoothing,
        early_stopping: if args.patience == 0 {
            None
        } else {
            TrainConfig::default().early_stopping.map(|mut e| {
                e.patience = args.patience;
                e
            })
        },
        seed: args.seed,
        ..TrainConfig::default()
    };
    let extra = serde_json::to_value(&info)?;
    let mut trainer = Trainer::new(model_config, config)
        .with_extra_meta(extra)
        .with_interrupt(interrupt.clone());
    let val_opt = if val.is_empty() { &test } else { &val };
    let outcome = trainer.fit(
        dir,
        &Splits {
            train: &train,
            val: val_opt,
            test: Some(&test),
        },
        args.resume,
    )?;
    if let Some(test) = &outcome.test {
        println!(
            "fold {}: test accuracy {:.4}, UAR {:.4} (best epoch {}, {} epochs, {:?}) -> {}",
            split.fold + 1,
            test.accuracy,
            test.uar,
            outcome.best.as_ref().map_or(0, |b| b.epoch),
            outcome.history.len(),
            outcome.stop,
            dir.display()
        );
    }
    if let Some(warning) = &info.leak_warning {
        eprintln!("WARNING: {warning}");
    }
    Ok(())
}
