//! `ser-train`: train speech emotion classifiers speaker-independently, or summarise a corpus.
//!
//! ```text
//! ser-train --data DIR --summary
//! ser-train --data DIR --model cnn-lstm [--protocol default] [--fold 1|all] [--out DIR]
//! ser-train --data DIR --model svm|rf|knn [--features full] [--pooling mean-std] [--fold all]
//! ```
//!
//! Every fold is evaluated on its test side when trained (`ser-eval` writes the same files);
//! `--fold all` also writes the k-fold aggregate into the parent folder.

#[macro_use]
#[path = "common/stdout.rs"]
mod stdout;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use ser_classic::{
    Balance, ClassicConfig, ClassicModel, Classifier as _, FeatureSpec, ModelKind, Pooling,
    SpeakerNormalizer,
};
use ser_cli::RunInfo;
use ser_cli::eval::{EvalOptions, evaluate};
use ser_data::augment::SpecAugmentConfig;
use ser_data::{
    AugmentConfig, AugmentedSet, BuildOptions, CorpusKind, Dataset, LabelMap, NormalizationMode,
    Normalizer, Protocol, SpecAugmenter, Split, Summary,
};
use ser_features::{FeatureConfig, FeatureSet};
use ser_models::{ModelConfig, ModelPreset};
use ser_trainer::{InputMasker, Splits, TrainConfig, Trainer};

/// Train speech emotion classifiers with speaker-independent protocols.
#[derive(Debug, Parser)]
#[command(name = "ser-train", version, about, long_about = None)]
struct Args {
    /// Corpus folder (RAVDESS, EmoDB or TESS layout, any sample rates). Give it more than once
    /// to train on several corpora at once: they are combined into one corpus whose speakers
    /// are namespaced by corpus (`ravdess:01`, `tess:OAF`) and whose label map is the union of
    /// their emotions; see --protocol for how they are split.
    #[arg(long, value_name = "DIR", required = true)]
    data: Vec<PathBuf>,
    /// Test corpus of a cross-corpus run: train and validate on --data, test on this corpus
    /// (another layout), on the emotions both share. Implies --protocol cross-corpus.
    #[arg(long, value_name = "DIR")]
    test_data: Option<PathBuf>,
    /// Corpus layout of a single --data folder: auto, ravdess, emodb or tess.
    #[arg(long, default_value = "auto")]
    corpus: String,
    /// Print counts per emotion, speaker and fold, and the skipped files; train nothing.
    #[arg(long)]
    summary: bool,
    /// Model: cnn, rnn, lstm, gru, cnn-lstm (our default variant), cnn-lstm-original, any
    /// variant name (rnn-mean, lstm-mean, gru-mean, cnn-lstm-mean, cnn-lstm-attention,
    /// cnn-lstm-strided), or a model on utterance statistics: svm, rf, knn, mlp.
    #[arg(long, default_value = "cnn-lstm")]
    model: String,
    /// Evaluation protocol: default (per corpus; RAVDESS: 6-fold leave-4-actors-out; several
    /// corpora: 5-fold by speaker), ravdess-6fold, original-split (test actors 19-24), kfold:K
    /// (by speaker; over several corpora stratified by corpus), leave-one-corpus-out (several
    /// --data: each corpus tested by a model trained on the others), all-speakers (the final
    /// model: every speaker trains but 2 validation speakers, no test side), or
    /// random-clips-leaks-speakers (NOT speaker-independent; prints and stores a warning);
    /// cross-corpus (with --test-data). With several --data, ravdess-6fold and original-split
    /// test RAVDESS's folds and always train on the other corpora. Every name a report prints
    /// (e.g. speaker-5-fold) is accepted too. A protocol of one split writes its run into
    /// --out itself, k folds into --out/fold-N.
    #[arg(long, default_value = "default")]
    protocol: String,
    /// Fold to train (1-based) or "all".
    #[arg(long, default_value = "1")]
    fold: String,
    /// Feature preset: robust (the seed's grid behind the conditioned front end: inputs
    /// band-limited to 8 kHz and levelled to -26 dBFS of active speech), seed (the
    /// original's exact 22.05 kHz features, as librosa computes them) or speech16k (16 kHz,
    /// 25 ms windows, 10 ms hops, 300 frames).
    #[arg(long, default_value = "robust")]
    preset: String,
    /// Band edge of the front end in Hz, replacing the preset's 8000: every input is limited
    /// to it before analysis. Set it to the band of the training audio when that is narrower
    /// (e.g. 4000 for an 8 kHz corpus). Needs a preset with a front end (robust).
    #[arg(long, value_name = "HZ")]
    band_hz: Option<u32>,
    /// Frames of every feature matrix, replacing the preset's (seed: 128 = 2.97 s): longer
    /// clips are cropped to their first N frames, shorter ones padded. Utterance statistics of
    /// classical models leave the padding out, so a length that covers the longest clip
    /// (e.g. 256 = 5.9 s with seed) pools each whole utterance.
    #[arg(long, value_name = "N")]
    frames: Option<usize>,
    /// Rows the model sees: full (174), mfcc (40), mfcc-deltas (120), mel-db (40).
    #[arg(long, default_value = "full")]
    features: FeatureSet,
    /// Utterance statistics a classical model (svm, rf, knn, mlp) reads: mean (the original's, with
    /// --features mfcc), mean-std, or stats (nine functionals per row: mean, std, min, max,
    /// 10/50/90th percentiles, skewness, kurtosis) [default: mean-std].
    #[arg(long)]
    pooling: Option<Pooling>,
    /// Speaker normalisation for classical models: standardise each speaker's utterance
    /// statistics with that speaker's own (unlabelled) utterances, in training and at test
    /// time. Speaker-adaptive: predicting then needs reference recordings of the speaker
    /// (ser-predict --speaker-ref DIR, at least 10 clips).
    #[arg(long)]
    speaker_norm: bool,
    /// Weights of the training samples against imbalance: none; class (each emotion the same
    /// total weight); corpus (each --data corpus the same total weight, however many clips it
    /// has); corpus-class (each (corpus, emotion) cell the same). Classical models weight
    /// every sample (SVM: C per sample; perceptrons: the loss; forest: the bootstrap; k-NN:
    /// the votes); deep models take class (weighted cross-entropy). Stored in the run.
    #[arg(long, default_value = "none")]
    balance: Balance,
    /// Soft-margin penalty C of the SVM: a positive number, or auto (chosen from 0.5, 1, 2, 4,
    /// 8 by 5-fold cross-validation on the training speakers, folds of whole speakers, best
    /// UAR; augmented copies are left out of the choice) [default: 1, scikit-learn's].
    #[arg(long, value_name = "C|auto")]
    svm_c: Option<String>,
    /// Feature normalisation of deep models: global (training-set statistics), utterance, none
    /// [default: global]. Classical models standardise their statistics themselves.
    #[arg(long)]
    normalize: Option<String>,
    /// Training-side augmentation: none; original (the Python project's recipe:
    /// stretch 0.9/1.1, pitch +-2 semitones, 0.1 s shift, 15-30 dB noise, each with p 0.5, in
    /// --augment-copies copies); robust (what recordings do to audio: gain, rooms, babble,
    /// coloured noise, band limits, clipping; see ser_data::AugmentConfig::robust);
    /// original+robust (both in each copy); or a JSON file of `ser_data::AugmentConfig` that switches on
    /// and configures each augmentation (copies, time_stretch, pitch_shift, time_shift, gain,
    /// noise, spec_augment; SpecAugment is for deep models only) [default: none].
    #[arg(long, default_value = "none", value_name = "none|original|FILE.json")]
    augment: String,
    /// Augmented copies per training utterance with --augment original / robust /
    /// original+robust.
    #[arg(long, default_value_t = 2)]
    augment_copies: usize,
    /// SpecAugment-style masking of training inputs every epoch (2 time masks of up to 12
    /// frames, 2 feature masks of up to 8 rows; a --augment JSON file can configure it).
    #[arg(long)]
    spec_augment: bool,
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
    /// Where to train: cpu (burn's flex backend); cuda / cuda:N in builds with the `cuda`
    /// feature; wgpu / wgpu:N / wgpu:cpu (software adapter) in builds with the `wgpu` feature.
    #[arg(long, default_value = "cpu")]
    device: String,
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
    match run(Args::parse()).and_then(|()| stdout::finish()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn parse_protocol(name: &str, kind: CorpusKind) -> Result<Protocol> {
    if name == "default" {
        return Ok(Protocol::default_for(kind));
    }
    name.parse::<Protocol>()
        .map_err(|e| anyhow::anyhow!("--protocol: {e} (or default)"))
}

/// A model name of the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ModelChoice {
    /// A burn network.
    Deep(ModelPreset),
    /// A classical baseline.
    Classic(ModelKind),
}

fn parse_model(name: &str) -> Result<ModelChoice> {
    if let Ok(kind) = name.parse::<ModelKind>() {
        return Ok(ModelChoice::Classic(kind));
    }
    let canonical = match name {
        // The best variant of the fold-1 comparison (README: deep models).
        "cnn-lstm" => "cnn-lstm-strided",
        other => other,
    };
    canonical
        .parse::<ModelPreset>()
        .map(ModelChoice::Deep)
        .map_err(|e| anyhow::anyhow!("unknown model {name:?}: {e}, svm, rf, knn, mlp"))
}

/// `--svm-c`: `None` for auto, `Some(c)` for a fixed value (1 when not given).
fn parse_svm_c(value: Option<&str>) -> Result<Option<f64>> {
    match value {
        None => Ok(Some(1.0)),
        Some("auto") => Ok(None),
        Some(text) => match text.parse::<f64>() {
            Ok(c) if c.is_finite() && c > 0.0 => Ok(Some(c)),
            _ => bail!("--svm-c {text}: must be a positive number or auto"),
        },
    }
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
    let kind = match args.corpus.as_str() {
        "auto" => None,
        name => Some(
            name.parse::<CorpusKind>()
                .map_err(|e| anyhow::anyhow!("--corpus: {e}"))?,
        ),
    };
    if kind.is_some() && args.data.len() > 1 {
        bail!(
            "--corpus {} names the layout of a single --data folder; with several, each is detected",
            args.corpus
        );
    }
    let data: Vec<&Path> = args.data.iter().map(PathBuf::as_path).collect();
    let corpus = ser_cli::load_corpus(&data, kind)?;
    let (corpus, protocol) = match &args.test_data {
        None => {
            if args.protocol == "cross-corpus" {
                bail!("--protocol cross-corpus needs --test-data DIR (the test corpus)");
            }
            let protocol = parse_protocol(&args.protocol, corpus.kind)?;
            (corpus, protocol)
        }
        Some(test_dir) => {
            if !matches!(args.protocol.as_str(), "default" | "cross-corpus") {
                bail!(
                    "--test-data makes a cross-corpus run; it does not go with --protocol {}",
                    args.protocol
                );
            }
            if data.len() > 1 {
                bail!(
                    "--test-data goes with a single --data; to test one corpus with a model \
                     trained on all the others, give them all as --data with --protocol \
                     leave-one-corpus-out (and --fold N)"
                );
            }
            let train = corpus.kind;
            let combined = ser_cli::load_corpus(&[data[0], test_dir.as_path()], kind)?;
            let test = combined
                .items
                .iter()
                .map(|u| u.corpus)
                .find(|&k| k != train)
                .with_context(|| format!("{}: no test utterances", test_dir.display()))?;
            let protocol = Protocol::CrossCorpus {
                train,
                test,
                val_speakers: 2,
            };
            (combined, protocol)
        }
    };
    if let Some(warning) = protocol.leak_warning() {
        eprintln!("WARNING: {warning}");
    }
    if args.summary {
        let summary = Summary::new(&corpus, Some(&protocol))?;
        outln!("{summary}");
        return Ok(());
    }

    // Check everything cheap before any expensive work.
    let choice = parse_model(&args.model)?;
    let (mode, pooling) = match choice {
        ModelChoice::Deep(_) => {
            if args.pooling.is_some() {
                bail!("--pooling applies to the classical models (svm, rf, knn, mlp) only");
            }
            if args.svm_c.is_some() {
                bail!("--svm-c applies to --model svm only");
            }
            if args.speaker_norm {
                bail!(
                    "--speaker-norm applies to the classical models (svm, rf, knn, mlp) only; deep \
                     models normalise with --normalize global|utterance|none"
                );
            }
            if args.epochs == 0 {
                bail!("--epochs 0: a deep model trains for at least 1 epoch");
            }
            if !matches!(args.balance, Balance::None | Balance::Class) {
                bail!(
                    "--balance {}: deep models weight their loss by class only (--balance class)",
                    args.balance
                );
            }
            if args.batch_size == 0 {
                bail!("--batch-size 0: a batch holds at least 1 clip");
            }
            let mode = parse_normalization(args.normalize.as_deref().unwrap_or("global"))?;
            (mode, None)
        }
        ModelChoice::Classic(kind) => {
            if args.svm_c.is_some() && kind != ModelKind::Svm {
                bail!("--svm-c applies to --model svm only");
            }
            parse_svm_c(args.svm_c.as_deref())?;
            if args.normalize.is_some() {
                bail!(
                    "--normalize applies to deep models only: classical models standardise their \
                     utterance statistics with training-side statistics themselves"
                );
            }
            (
                NormalizationMode::None,
                Some(args.pooling.unwrap_or(Pooling::MeanStd)),
            )
        }
    };
    let mut augment = match args.augment.as_str() {
        "none" => AugmentConfig::default(),
        "original" => {
            if args.augment_copies == 0 {
                bail!("--augment-copies must be at least 1 with --augment original");
            }
            AugmentConfig {
                copies: args.augment_copies,
                ..AugmentConfig::original()
            }
        }
        "robust" | "original+robust" => {
            if args.augment_copies == 0 {
                bail!(
                    "--augment-copies must be at least 1 with --augment {}",
                    args.augment
                );
            }
            let channel = AugmentConfig::robust();
            let base = if args.augment == "robust" {
                AugmentConfig::default()
            } else {
                AugmentConfig::original()
            };
            AugmentConfig {
                copies: args.augment_copies,
                gain: channel.gain,
                reverb: channel.reverb,
                babble: channel.babble,
                coloured_noise: channel.coloured_noise,
                band_limit: channel.band_limit,
                clipping: channel.clipping,
                ..base
            }
        }
        file => {
            let text = std::fs::read_to_string(file).with_context(|| {
                format!(
                    "--augment {file}: not none, original, robust, original+robust or a readable                      JSON file"
                )
            })?;
            serde_json::from_str(&text)
                .with_context(|| format!("{file}: not an augmentation configuration"))?
        }
    };
    if args.spec_augment && augment.spec_augment.is_none() {
        augment.spec_augment = Some(SpecAugmentConfig::default());
    }
    augment
        .validate()
        .with_context(|| format!("--augment {}", args.augment))?;
    if matches!(choice, ModelChoice::Classic(_)) && augment.spec_augment.is_some() {
        bail!(
            "--spec-augment applies to deep models only (classical models read utterance statistics)"
        );
    }
    let augment = (augment != AugmentConfig::default()).then_some(augment);
    let device = ser_trainer::parse_device(&args.device).context("--device")?;
    let mut feature_config = FeatureConfig::preset(&args.preset)?;
    if let Some(band_hz) = args.band_hz {
        let Some(front) = feature_config.front_end.as_mut() else {
            bail!(
                "--band-hz needs a preset with a front end (robust); {} analyses samples as given",
                args.preset
            );
        };
        front.band_hz = band_hz;
        feature_config
            .validate()
            .with_context(|| format!("--band-hz {band_hz}"))?;
    }
    if let Some(frames) = args.frames {
        feature_config.n_frames = frames;
        feature_config
            .validate()
            .with_context(|| format!("--frames {frames}"))?;
    }
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
        let features = match pooling {
            Some(p) => format!("{}-{p}", args.features),
            None => args.features.to_string(),
        };
        let augmented = if augment.is_some() { "-augmented" } else { "" };
        let speaker = if args.speaker_norm { "-spknorm" } else { "" };
        let frames = args.frames.map(|f| format!("-f{f}")).unwrap_or_default();
        let corpora = if args.data.len() > 1 {
            let kinds: Vec<&str> = corpus.corpus_kinds().iter().map(|k| k.name()).collect();
            format!("-{}", kinds.join("+"))
        } else {
            String::new()
        };
        let balance = if args.balance == Balance::None {
            String::new()
        } else {
            format!("-balance-{}", args.balance)
        };
        PathBuf::from("results/runs").join(format!(
            "{}-{features}-{}{frames}{corpora}-{}{speaker}{balance}{augmented}",
            args.model,
            args.preset,
            protocol.name()
        ))
    });
    let fold_dirs: Vec<PathBuf> = if splits.len() == 1 {
        vec![out.clone()]
    } else {
        folds
            .iter()
            .map(|f| out.join(format!("fold-{}", f + 1)))
            .collect()
    };
    // One training at a time per run folder: two started into one at the same moment would
    // mix their files. Held until the end of `run`.
    let command_line = std::env::args().collect::<Vec<_>>().join(" ");
    let mut _locks = Vec::with_capacity(fold_dirs.len());
    for dir in &fold_dirs {
        let lock = ser_trainer::RunLock::acquire(dir, &command_line)?;
        if let Some(stale) = lock.stale() {
            eprintln!(
                "note: {}: took over the lock of a training that ended without releasing it \
                 ({})",
                dir.display(),
                stale.describe()
            );
        }
        _locks.push(lock);
    }
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

    let interrupt = ser_cli::interrupt_flag()?;
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
        let label_map = split.label_map()?;
        let normalizer = Normalizer::fit(mode, &dataset, split)?;
        let mut info = run_info(
            &args,
            &dataset,
            split,
            splits.len(),
            &protocol,
            normalizer,
            label_map,
            &command,
        );
        info.augment = augment.clone();
        if args.resume && dir.join(ser_cli::RUN_INFO_FILE).exists() {
            let previous = RunInfo::load(dir)?;
            if previous.model != info.model
                || previous.feature_config != info.feature_config
                || previous.feature_set != info.feature_set
                || previous.protocol != info.protocol
                || previous.fold != info.fold
                || previous.augment != info.augment
            {
                bail!(
                    "{}: holds a different run (model, features, protocol, fold or augmentation \
                     differ); cannot resume",
                    dir.display()
                );
            }
        }
        match (choice, pooling) {
            (ModelChoice::Classic(kind), Some(pooling)) => {
                let augmented = augment_fold(&dataset, split, augment.as_ref(), &args, &options)?;
                train_classic_fold(
                    &args,
                    &dataset,
                    split,
                    augmented.as_ref(),
                    kind,
                    pooling,
                    info,
                    dir,
                )?;
            }
            (ModelChoice::Deep(preset), _) => {
                let augmented = augment_fold(&dataset, split, augment.as_ref(), &args, &options)?;
                let masker = match augment.as_ref().and_then(|a| a.spec_augment.as_ref()) {
                    None => None,
                    Some(config) => Some(Arc::new(SpecMasker::new(
                        config,
                        args.seed,
                        split,
                        augmented.as_ref(),
                    )?) as Arc<dyn InputMasker>),
                };
                train_deep_fold(
                    &args,
                    &dataset,
                    split,
                    augmented.as_ref(),
                    masker,
                    &device,
                    preset,
                    info,
                    dir,
                    &interrupt,
                )?;
                if interrupt.load(Ordering::Relaxed) {
                    bail!("interrupted; continue with --resume");
                }
            }
            (ModelChoice::Classic(_), None) => bail!("a classical model needs a pooling"),
        }
    }

    if splits.iter().all(|s| s.test.is_empty()) {
        outln!(
            "{}: no test side to evaluate (speaker-independent figures come from a k-fold \
             protocol); {}",
            out.display(),
            match choice {
                ModelChoice::Classic(_) => "trained on every speaker",
                ModelChoice::Deep(_) => {
                    "trained on every speaker but the validation ones, which chose the best epoch"
                }
            }
        );
        return Ok(());
    }
    // The test side of what was trained: per-fold files, and the aggregate for --fold all.
    let target = match fold_dirs.as_slice() {
        [one] => one.clone(),
        _ => out.clone(),
    };
    let evaluation = evaluate(
        &target,
        &EvalOptions {
            cache_dir: args.cache.cache_dir(),
            progress: false,
            adapt: false,
        },
    )
    .with_context(|| format!("cannot evaluate {}", target.display()))?;
    out!("{}", evaluation.summary_text());
    outln!("evaluation written to {}", target.display());
    Ok(())
}

/// The run description of one fold.
#[allow(clippy::too_many_arguments)]
fn run_info(
    args: &Args,
    dataset: &Dataset,
    split: &Split,
    n_folds: usize,
    protocol: &Protocol,
    normalizer: Normalizer,
    label_map: LabelMap,
    command: &str,
) -> RunInfo {
    let names = |speakers: &[ser_data::SpeakerId]| {
        speakers
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    RunInfo {
        format_version: ser_cli::RUN_INFO_VERSION,
        model: args.model.clone(),
        // Absolute, so that ser-eval finds the corpus from any working folder.
        data_dir: absolute(&args.data[0]),
        extra_data_dirs: args.data[1..].iter().map(|d| absolute(d)).collect(),
        test_data_dir: args.test_data.as_ref().map(|d| absolute(d)),
        feature_config: dataset.config().clone(),
        feature_set: args.features,
        normalizer,
        label_map,
        protocol: protocol.clone(),
        fold: split.fold,
        n_folds,
        train_speakers: names(&split.train_speakers),
        val_speakers: names(&split.val_speakers),
        test_speakers: names(&split.test_speakers),
        seed: args.seed,
        leak_warning: protocol.leak_warning().map(str::to_owned),
        command: command.to_owned(),
        augment: None,
        training_time_s: None,
    }
}

/// The loss weight of each class for `--balance class` (every class present the same total
/// weight, as [`Balance::Class`] weights samples; `None` otherwise).
fn class_weights(balance: Balance, labels: &[usize], n_classes: usize) -> Result<Option<Vec<f32>>> {
    if balance != Balance::Class {
        return Ok(None);
    }
    let weights = balance.sample_weights::<u8>(labels, &[])?;
    let mut per_class = vec![1.0_f32; n_classes];
    for (&label, &w) in labels.iter().zip(&weights) {
        if let Some(slot) = per_class.get_mut(label) {
            *slot = w as f32;
        }
    }
    Ok(Some(per_class))
}

/// `dir` made absolute where it can be, so that ser-eval finds it from any working folder.
fn absolute(dir: &Path) -> PathBuf {
    dir.canonicalize().unwrap_or_else(|_| dir.to_owned())
}

/// Waveform-augmented copies of the training side of `split`, when asked for.
fn augment_fold(
    dataset: &Dataset,
    split: &Split,
    augment: Option<&AugmentConfig>,
    args: &Args,
    options: &BuildOptions,
) -> Result<Option<AugmentedSet>> {
    let Some(config) = augment.filter(|c| c.has_waveform()) else {
        return Ok(None);
    };
    let set = dataset.augment_training(split, config, args.seed, options)?;
    eprintln!(
        "augmentation: {} copies of {} training clips ({})",
        set.len(),
        split.train.len(),
        set.report
    );
    Ok(Some(set))
}

/// Fits a classical model on the training and validation actors of `split` (its
/// hyper-parameters are scikit-learn's defaults, so no actors are needed for tuning) and
/// saves it with its run description.
#[allow(clippy::too_many_arguments)]
fn train_classic_fold(
    args: &Args,
    dataset: &Dataset,
    split: &Split,
    augmented: Option<&AugmentedSet>,
    kind: ModelKind,
    pooling: Pooling,
    mut info: RunInfo,
    dir: &Path,
) -> Result<()> {
    if args.resume && dir.join(ser_classic::MODEL_FILE_NAME).is_file() {
        eprintln!("{}: already trained", dir.display());
        return Ok(());
    }
    let start = Instant::now();
    let spec = FeatureSpec::new(dataset.config().clone(), args.features, pooling);
    let mut config = ClassicConfig::new(kind.default_config(), spec.clone());
    config.speaker_norm = args.speaker_norm;
    config.balance = args.balance;
    // Behind the robust front end, bounded standardised statistics (see
    // ser_classic::Standardizer); the original's features keep scikit-learn's scaling.
    if dataset.config().front_end.is_some() {
        config.clip_standardized = Some(ser_classic::STANDARDIZED_CLIP);
    }
    config.class_names = info
        .label_map
        .names()
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let indices: Vec<usize> = split.train.iter().chain(&split.val).copied().collect();
    let speaker_of = |i: usize| -> Result<&str> {
        Ok(dataset
            .corpus()
            .items
            .get(i)
            .with_context(|| format!("utterance {i} is not in the corpus"))?
            .speaker
            .as_str())
    };
    let mut x = Vec::with_capacity(indices.len());
    let mut y = Vec::with_capacity(indices.len());
    for &i in &indices {
        x.push(spec.pool_slice(dataset.features(i)?, None)?);
        let emotion = dataset.emotion(i)?;
        y.push(
            info.label_map
                .index_of(emotion)
                .with_context(|| format!("{emotion} is not in the label map"))?,
        );
    }
    // Each speaker's statistics come from their original utterances; augmented copies are
    // normalised with the statistics of their source's speaker.
    // The speaker of each original utterance, for speaker normalisation and the choice of C.
    let speakers = indices
        .iter()
        .map(|&i| speaker_of(i))
        .collect::<Result<Vec<_>>>()?;
    // The corpus of each sample, for --balance corpus / corpus-class.
    let corpus_of = |i: usize| -> Result<ser_data::CorpusKind> {
        Ok(dataset
            .corpus()
            .items
            .get(i)
            .with_context(|| format!("utterance {i} is not in the corpus"))?
            .corpus)
    };
    let mut corpora = indices
        .iter()
        .map(|&i| corpus_of(i))
        .collect::<Result<Vec<_>>>()?;
    let normalizer = if args.speaker_norm {
        let normalizer = SpeakerNormalizer::normalize_in_place(&mut x, &speakers)
            .with_context(|| format!("fold {}: speaker normalisation", split.fold + 1))?;
        Some(normalizer)
    } else {
        None
    };
    if matches!(config.model, ser_classic::ModelConfig::Svm(_)) {
        let c = match parse_svm_c(args.svm_c.as_deref())? {
            Some(c) => c,
            None => {
                let selection = ser_classic::select_svm_c_balanced(
                    &x,
                    &y,
                    &speakers,
                    &corpora,
                    &config,
                    &ser_classic::SVM_C_GRID,
                    // Fewer folds when there are fewer speakers (tiny corpora).
                    ser_classic::DEFAULT_INNER_FOLDS.min(
                        speakers
                            .iter()
                            .collect::<std::collections::BTreeSet<_>>()
                            .len(),
                    ),
                    args.seed,
                )
                .with_context(|| format!("fold {}: choosing the SVM's C", split.fold + 1))?;
                let scores: Vec<String> = selection
                    .scores
                    .iter()
                    .map(|(c, uar)| format!("C {c}: {uar:.3}"))
                    .collect();
                eprintln!(
                    "fold {}: C = {} by {}-fold cross-validation over the training speakers \
                     (UAR {})",
                    split.fold + 1,
                    selection.best_c,
                    selection.n_folds,
                    scores.join(", ")
                );
                selection.best_c
            }
        };
        if let ser_classic::ModelConfig::Svm(svm) = &mut config.model {
            svm.c = c;
        }
    }
    // Augmented copies of training utterances join the training set.
    if let Some(set) = augmented {
        for (k, &source) in set.source.iter().enumerate() {
            let features = set
                .features(k)
                .with_context(|| format!("augmented copy {k} is missing"))?;
            let pooled = spec.pool_slice(features, None)?;
            x.push(match &normalizer {
                Some(normalizer) => normalizer.apply(speaker_of(source)?, &pooled)?,
                None => pooled,
            });
            let emotion = dataset.emotion(source)?;
            y.push(
                info.label_map
                    .index_of(emotion)
                    .with_context(|| format!("{emotion} is not in the label map"))?,
            );
            corpora.push(corpus_of(source)?);
        }
    }
    let model = ClassicModel::fit_balanced(&x, &y, &corpora, &config, args.seed)
        .with_context(|| format!("cannot fit {kind} on fold {}", split.fold + 1))?;
    let seconds = start.elapsed().as_secs_f64();
    eprintln!(
        "fold {}: {kind} fitted on {} utterances x {} values in {seconds:.1} s",
        split.fold + 1,
        x.len(),
        model.n_features()
    );
    model.save(dir)?;
    info.training_time_s = Some(seconds);
    // The description comes last: a folder with one always holds a complete model.
    info.save(dir)
}

/// Builds the network's datasets (normalised with training statistics, rows selected) and
/// trains it.
#[allow(clippy::too_many_arguments)]
fn train_deep_fold(
    args: &Args,
    dataset: &Dataset,
    split: &Split,
    augmented: Option<&ser_data::AugmentedSet>,
    masker: Option<Arc<dyn InputMasker>>,
    device: &ser_trainer::Device,
    preset: ModelPreset,
    info: RunInfo,
    dir: &Path,
    interrupt: &Arc<AtomicBool>,
) -> Result<()> {
    let label_map = &info.label_map;
    let normalizer = &info.normalizer;
    let rows = dataset.config().layout().rows(args.features);
    let n_frames = dataset.n_frames();
    let label = |i: usize| -> Result<usize> {
        let emotion = dataset.emotion(i)?;
        label_map
            .index_of(emotion)
            .with_context(|| format!("{emotion} is not in the label map"))
    };
    let make = |name: &str, indices: &[usize]| -> Result<ser_trainer::Dataset> {
        let mut values = Vec::with_capacity(indices.len() * rows.len() * n_frames);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            let mut m = dataset.matrix(i)?;
            normalizer.apply(&mut m.data, n_frames)?;
            values.extend_from_slice(&m.select_rows(&rows).data);
            labels.push(label(i)?);
        }
        if let Some(set) = augmented.filter(|_| name == "train") {
            for (k, &source) in set.source.iter().enumerate() {
                let data = set
                    .features(k)
                    .with_context(|| format!("augmented copy {k} is missing"))?;
                let mut m = ser_features::FeatureMatrix {
                    n_rows: set.n_rows,
                    n_frames,
                    data: data.to_vec(),
                };
                normalizer.apply(&mut m.data, n_frames)?;
                values.extend_from_slice(&m.select_rows(&rows).data);
                labels.push(label(source)?);
            }
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
        class_weights: class_weights(args.balance, train.labels(), label_map.len())?,
        ..TrainConfig::default()
    };
    let extra = serde_json::to_value(&info)?;
    let mut trainer = Trainer::new(model_config, config)
        .with_device(device.clone())
        .with_extra_meta(extra)
        .with_interrupt(interrupt.clone());
    if let Some(masker) = masker {
        trainer = trainer.with_input_masker(masker);
    }
    if val.is_empty() && test.is_empty() {
        bail!(
            "fold {}: no validation and no test speakers to select the best epoch on",
            split.fold + 1
        );
    }
    let val_opt = if val.is_empty() { &test } else { &val };
    let outcome = trainer.fit(
        dir,
        &Splits {
            train: &train,
            val: val_opt,
            test: (!test.is_empty()).then_some(&test),
        },
        args.resume,
    )?;
    if let Some(test) = &outcome.test {
        outln!(
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

/// SpecAugment masks for the training items of a fold: its training utterances, then their
/// augmented copies (the order `train_deep_fold` builds them in).
#[derive(Debug)]
struct SpecMasker {
    augmenter: SpecAugmenter,
    split: Split,
    /// Training item -> (utterance, 0 for the original or copy + 1).
    items: Vec<(usize, usize)>,
}

impl SpecMasker {
    fn new(
        config: &SpecAugmentConfig,
        seed: u64,
        split: &Split,
        augmented: Option<&AugmentedSet>,
    ) -> Result<SpecMasker> {
        let mut items: Vec<(usize, usize)> = split.train.iter().map(|&u| (u, 0)).collect();
        if let Some(set) = augmented {
            items.extend(set.source.iter().zip(&set.copy).map(|(&u, &c)| (u, c + 1)));
        }
        Ok(SpecMasker {
            augmenter: SpecAugmenter::new(config, seed)?,
            split: split.clone(),
            items,
        })
    }
}

impl InputMasker for SpecMasker {
    fn mask(
        &self,
        item: usize,
        epoch: usize,
        n_features: usize,
        n_frames: usize,
        mask: &mut [f32],
    ) {
        if let Some(&(utterance, copy)) = self.items.get(item) {
            // Each copy of an utterance draws masks of its own: its epoch key is offset.
            let key = epoch + copy * 1_000_000;
            // Cannot fail: every item is a training utterance and the trainer sizes `mask`.
            let _ = self
                .augmenter
                .apply(&self.split, utterance, key, mask, n_features, n_frames);
        }
    }
}
