//! `ser-predict`'s flags.

use std::path::PathBuf;

use clap::Parser;

/// Predict the emotion of speech in audio files, long recordings or a live stream.
#[derive(Debug, Parser)]
#[command(name = "ser-predict", version, about, long_about = None)]
pub struct Args {
    /// Audio files or folders (searched recursively for .wav, .flac, .mp3, .ogg).
    #[arg(value_name = "FILE")]
    pub inputs: Vec<PathBuf>,
    /// Trained run folder(s); several compare their predictions side by side.
    /// Default: the shipped model in results/default-model.
    #[arg(long = "model", value_name = "RUN_DIR")]
    pub models: Vec<PathBuf>,
    /// Reference recordings of the speaker (a folder or files, at least 10 clips, labels not
    /// needed) for models trained with speaker normalisation (`ser-train --speaker-norm`).
    #[arg(long, value_name = "DIR|FILE")]
    pub speaker_ref: Vec<PathBuf>,
    /// Adapt the model to the recordings given (a folder or several files, at least 10 with
    /// speech): its inputs are standardised with the batch's own statistics, per speaker when
    /// the file names follow a corpus layout (RAVDESS, EmoDB, TESS; speakers with fewer than
    /// 10 files get the whole batch's), else over the whole batch. Labels are never used.
    /// Says on stderr what was done; --json adds "adapted". Replaces --speaker-ref for models
    /// trained with --speaker-norm.
    #[arg(long, conflicts_with_all = ["stream", "speaker_ref"])]
    pub adapt: bool,
    /// One JSON object per file and model (path, model, label, probabilities).
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// CSV with a header row.
    #[arg(long)]
    pub csv: bool,
    /// Print the emotion over time (one row per analysis window).
    #[arg(long)]
    pub timeline: bool,
    /// Seconds between analysis windows of long recordings and streams.
    #[arg(long, default_value_t = 1.0)]
    pub hop_s: f64,
    /// Longest accepted audio file, in seconds of sound; a longer file is an error (WAV, FLAC
    /// and AIFF are measured from their headers before decoding, MP3 and Ogg are decoded only
    /// up to the limit): a small file of low-rate audio can be hours of sound. --stream is
    /// exempt: it holds one analysis window at a time, however long it runs.
    #[arg(long, default_value_t = 600.0)]
    pub max_duration_s: f64,
    /// Read audio from standard input ("-") and print a rolling prediction every hop.
    #[arg(long, value_name = "-")]
    pub stream: Option<String>,
    /// Raw PCM sample rate for --stream (omit to read a WAV stream header).
    #[arg(long)]
    pub rate: Option<u32>,
    /// Raw PCM channels for --stream.
    #[arg(long, default_value_t = 1)]
    pub channels: u16,
    /// Raw PCM sample format for --stream: s16le, s24le, s32le, f32le, f64le, u8.
    #[arg(long, default_value = "s16le")]
    pub format: String,
}
