//! `ser-train`'s flags, and the training spec they make.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Parser;
use ser_classic::{Balance, Pooling};
use ser_data::{CorpusKind, NormalizationMode};
use ser_features::FeatureSet;
use ser_run::train::{TrainSpec, augment_config};

/// Train speech emotion classifiers with speaker-independent protocols.
#[derive(Debug, Parser)]
#[command(name = "ser-train", version, about, long_about = None)]
pub struct Args {
    /// Corpus folder (RAVDESS, EmoDB or TESS layout, any sample rates). Give it more than once
    /// to train on several corpora at once: they are combined into one corpus whose speakers
    /// are namespaced by corpus (`ravdess:01`, `tess:OAF`) and whose label map is the union of
    /// their emotions; see --protocol for how they are split.
    #[arg(long, value_name = "DIR", required_unless_present = "config")]
    pub data: Vec<PathBuf>,
    /// Test corpus of a cross-corpus run: train and validate on --data, test on this corpus
    /// (another layout), on the emotions both share. Implies --protocol cross-corpus.
    #[arg(long, value_name = "DIR")]
    pub test_data: Option<PathBuf>,
    /// Corpus layout of a single --data folder: auto, ravdess, emodb or tess.
    #[arg(long, default_value = "auto")]
    pub corpus: String,
    /// Print counts per emotion, speaker and fold, and the skipped files; train nothing.
    #[arg(long)]
    pub summary: bool,
    /// Model: cnn, rnn, lstm, gru, cnn-lstm (our default variant), cnn-lstm-original, any
    /// variant name (rnn-mean, lstm-mean, gru-mean, cnn-lstm-mean, cnn-lstm-attention,
    /// cnn-lstm-strided), or a model on utterance statistics: svm, rf, knn, mlp.
    #[arg(long, default_value = "cnn-lstm")]
    pub model: String,
    /// Evaluation protocol: default (RAVDESS: 6-fold leave-4-actors-out; several corpora:
    /// 5-fold by speaker), ravdess-6fold, original-split (test actors 19-24), emobox (EmoBox's
    /// 6 RAVDESS folds), kfold:K (by speaker, stratified by corpus), leave-one-corpus-out,
    /// all-speakers (every speaker trains but 2 validate; no test side), cross-corpus (with
    /// --test-data) or random-clips-leaks-speakers (NOT speaker-independent; warns). With
    /// several --data, the RAVDESS protocols test RAVDESS's folds and train on the others too.
    /// Every name a report prints (e.g. speaker-5-fold) is accepted. One split writes its run
    /// into --out, k folds into --out/fold-N.
    #[arg(long, default_value = "default")]
    pub protocol: String,
    /// Fold to train (1-based) or "all".
    #[arg(long, default_value = "1")]
    pub fold: String,
    /// Feature preset: robust (the seed's grid behind the conditioned front end: inputs
    /// band-limited to 8 kHz and levelled to -26 dBFS of active speech), seed (the
    /// original's exact 22.05 kHz features, as librosa computes them) or speech16k (16 kHz,
    /// 25 ms windows, 10 ms hops, 300 frames).
    #[arg(long, default_value = "robust")]
    pub preset: String,
    /// Band edge of the front end in Hz: every input is limited to it before analysis.
    /// Without it, the preset's 8000, or the measured band of a training corpus that clearly
    /// occupies less (a telephone corpus, say). Needs a preset with a front end (robust).
    #[arg(long, value_name = "HZ")]
    pub band_hz: Option<u32>,
    /// Frames of every feature matrix, replacing the preset's (seed: 128 = 2.97 s): longer
    /// clips are cropped to their first N frames, shorter ones padded. Utterance statistics of
    /// classical models leave the padding out, so a length that covers the longest clip
    /// (e.g. 256 = 5.9 s with seed) pools each whole utterance.
    #[arg(long, value_name = "N")]
    pub frames: Option<usize>,
    /// Rows the model sees: full (174), mfcc (40), mfcc-deltas (120), mel-db (40); with pYIN
    /// pitch (log-F0, voiced flag and probability, ΔF0): full-pitch (178), mfcc-pitch (44),
    /// pitch (4); with pitch and eGeMAPS voice rows (loudness, alpha ratio, Hammarberg index,
    /// spectral slopes, HNR, jitter, shimmer): full-egemaps (186), egemaps (12); and formants
    /// F1-F3 with bandwidths: full-egemaps-formants (192), egemaps-formants (18).
    #[arg(long, default_value = "full")]
    pub features: FeatureSet,
    /// Utterance statistics a classical model (svm, rf, knn, mlp) reads: mean (the original's, with
    /// --features mfcc), mean-std, or stats (nine functionals per row: mean, std, min, max,
    /// 10/50/90th percentiles, skewness, kurtosis) [default: mean-std].
    #[arg(long)]
    pub pooling: Option<Pooling>,
    /// Speaker normalisation for classical models: standardise each speaker's utterance
    /// statistics with that speaker's own (unlabelled) utterances, in training and at test
    /// time. Speaker-adaptive: predicting then needs reference recordings of the speaker
    /// (ser-predict --speaker-ref DIR, at least 10 clips).
    #[arg(long)]
    pub speaker_norm: bool,
    /// Weights of the training samples against imbalance: none; class (each emotion the same
    /// total weight); corpus (each --data corpus the same total weight, however many clips it
    /// has); corpus-class (each (corpus, emotion) cell the same). Classical models weight
    /// every sample (SVM: C per sample; perceptrons: the loss; forest: the bootstrap; k-NN:
    /// the votes); deep models take class (weighted cross-entropy). Stored in the run.
    #[arg(long, default_value = "none")]
    pub balance: Balance,
    /// Soft-margin penalty C of the SVM: a positive number, or auto (chosen from 0.5, 1, 2, 4,
    /// 8 by 5-fold cross-validation on the training speakers, folds of whole speakers, best
    /// UAR; augmented copies are left out of the choice) [default: 1, scikit-learn's].
    #[arg(long, value_name = "C|auto")]
    pub svm_c: Option<String>,
    /// Feature normalisation of deep models: global (training-set statistics), utterance, none
    /// [default: global]. Classical models standardise their statistics themselves.
    #[arg(long)]
    pub normalize: Option<NormalizationMode>,
    /// Training-side augmentation: none; original (the Python project's recipe:
    /// stretch 0.9/1.1, pitch +-2 semitones, 0.1 s shift, 15-30 dB noise, each with p 0.5, in
    /// --augment-copies copies); robust (what recordings do to audio: gain, rooms, babble,
    /// coloured noise, band limits, clipping; see ser_data::AugmentConfig::robust);
    /// original+robust (both in each copy); or a JSON file of `ser_data::AugmentConfig` that switches on
    /// and configures each augmentation (copies, time_stretch, pitch_shift, time_shift, gain,
    /// noise, spec_augment; SpecAugment is for deep models only) [default: none].
    #[arg(long, default_value = "none", value_name = "none|original|FILE.json")]
    pub augment: String,
    /// Augmented copies per training utterance with --augment original / robust /
    /// original+robust.
    #[arg(long, default_value_t = 2)]
    pub augment_copies: usize,
    /// SpecAugment-style masking of training inputs every epoch (2 time masks of up to 12
    /// frames, 2 feature masks of up to 8 rows; a --augment JSON file can configure it).
    #[arg(long)]
    pub spec_augment: bool,
    /// Maximum epochs.
    #[arg(long, default_value_t = 100)]
    pub epochs: usize,
    /// Batch size.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Initial learning rate (Adam).
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Label smoothing in [0, 1).
    #[arg(long, default_value_t = 0.0)]
    pub label_smoothing: f32,
    /// Early-stopping patience in epochs (0 disables early stopping).
    #[arg(long, default_value_t = 10)]
    pub patience: usize,
    /// Where to train: cpu (burn's flex backend); cuda / cuda:N in builds with the `cuda`
    /// feature; wgpu / wgpu:N / wgpu:cpu (software adapter) in builds with the `wgpu` feature.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Seed of initialisation, shuffling and dropout.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Output folder (default: results/runs/<model>-<features>-<preset>-<protocol>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Continue an interrupted run in --out.
    #[arg(long)]
    pub resume: bool,
    #[command(flatten)]
    pub cache: ser_cli::CacheArgs,
    /// Read the whole training spec from a JSON file (`ser_run::train::TrainSpec`: the fields
    /// are these flags' names with underscores; fields left out take the defaults), instead
    /// of the flags above; --resume, --summary and the cache flags still apply.
    #[arg(long, value_name = "FILE.json", conflicts_with_all = SPEC_FLAGS)]
    pub config: Option<PathBuf>,
    /// Print the training spec these flags make, as JSON for --config, and train nothing.
    #[arg(long)]
    pub print_config: bool,
}

/// The flags a --config file replaces.
const SPEC_FLAGS: [&str; 24] = [
    "data",
    "test_data",
    "corpus",
    "model",
    "protocol",
    "fold",
    "preset",
    "band_hz",
    "frames",
    "features",
    "pooling",
    "speaker_norm",
    "balance",
    "svm_c",
    "normalize",
    "augment",
    "augment_copies",
    "spec_augment",
    "epochs",
    "batch_size",
    "lr",
    "label_smoothing",
    "patience",
    "device",
];

impl Args {
    /// The training spec: the --config file's, or the one these flags make.
    pub fn spec(&self) -> Result<TrainSpec> {
        let mut spec = match &self.config {
            Some(path) => TrainSpec::load(path)?,
            None => self.spec_from_flags()?,
        };
        spec.resume |= self.resume;
        if self.cache.no_cache || self.cache.cache_dir.is_some() || self.config.is_none() {
            spec.cache_dir = self.cache.cache_dir();
        }
        if self.out.is_some() {
            spec.out.clone_from(&self.out);
        }
        Ok(spec)
    }

    fn spec_from_flags(&self) -> Result<TrainSpec> {
        let corpus = match self.corpus.as_str() {
            "auto" => None,
            name => Some(
                name.parse::<CorpusKind>()
                    .map_err(|e| anyhow::anyhow!("--corpus: {e}"))?,
            ),
        };
        let fold = match self.fold.as_str() {
            "all" => None,
            n => match n.parse::<usize>() {
                Ok(f) if f >= 1 => Some(f - 1),
                _ => bail!("--fold {n}: a fold number from 1, or \"all\""),
            },
        };
        let svm_c = self.svm_c.as_deref().map(str::parse).transpose()?;
        let augment = augment_config(&self.augment, self.augment_copies, self.spec_augment)?;
        Ok(TrainSpec {
            data: self.data.clone(),
            test_data: self.test_data.clone(),
            corpus,
            model: self.model.clone(),
            protocol: self.protocol.clone(),
            fold,
            preset: self.preset.clone(),
            band_hz: self.band_hz,
            frames: self.frames,
            features: self.features,
            pooling: self.pooling,
            speaker_norm: self.speaker_norm,
            balance: self.balance,
            svm_c,
            normalize: self.normalize,
            augment,
            epochs: self.epochs,
            batch_size: self.batch_size,
            lr: self.lr,
            label_smoothing: self.label_smoothing,
            patience: self.patience,
            device: self.device.clone(),
            seed: self.seed,
            out: self.out.clone(),
            resume: self.resume,
            cache_dir: self.cache.cache_dir(),
        })
    }
}
