//! `ser-predict`: the emotion of audio files, long recordings or a live stream.
//!
//! ```text
//! ser-predict FILE_OR_DIR... [--model RUN_DIR]... [--json|--csv] [--timeline]
//! arecord -f S16_LE -r 16000 -c 1 | ser-predict --stream - --rate 16000 --format s16le
//! sox -d -t wav - | ser-predict --stream -
//! ser-predict --adapt DIR [--json]          # the model adapted to the recordings of DIR
//! ```

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use ser_audio::{BandLimitedStream, PcmFormat, PcmStreamReader};
use ser_cli::{Model, adapt, default_model_dir, predict};

/// Predict the emotion of speech in audio files, long recordings or a live stream.
#[derive(Debug, Parser)]
#[command(name = "ser-predict", version, about, long_about = None)]
struct Args {
    /// Audio files or folders (searched recursively for .wav, .flac, .mp3, .ogg).
    #[arg(value_name = "FILE")]
    inputs: Vec<PathBuf>,
    /// Trained run folder(s); several compare their predictions side by side.
    /// Default: the shipped model in results/default-model.
    #[arg(long = "model", value_name = "RUN_DIR")]
    models: Vec<PathBuf>,
    /// Reference recordings of the speaker (a folder or files, at least 10 clips, labels not
    /// needed) for models trained with speaker normalisation (`ser-train --speaker-norm`).
    #[arg(long, value_name = "DIR|FILE")]
    speaker_ref: Vec<PathBuf>,
    /// Adapt the model to the recordings given (a folder or several files, at least 10 with
    /// speech): its inputs are standardised with the batch's own statistics, per speaker when
    /// the file names follow a corpus layout (RAVDESS, EmoDB, TESS; speakers with fewer than
    /// 10 files get the whole batch's), else over the whole batch. Labels are never used.
    /// Says on stderr what was done; --json adds "adapted". Replaces --speaker-ref for models
    /// trained with --speaker-norm.
    #[arg(long, conflicts_with_all = ["stream", "speaker_ref"])]
    adapt: bool,
    /// One JSON object per file and model (path, model, label, probabilities).
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// CSV with a header row.
    #[arg(long)]
    csv: bool,
    /// Print the emotion over time (one row per analysis window).
    #[arg(long)]
    timeline: bool,
    /// Seconds between analysis windows of long recordings and streams.
    #[arg(long, default_value_t = 1.0)]
    hop_s: f64,
    /// Longest accepted audio file, in seconds of sound; a longer file is an error (WAV, FLAC
    /// and AIFF are measured from their headers before decoding, MP3 and Ogg are decoded only
    /// up to the limit): a small file of low-rate audio can be hours of sound. --stream is
    /// exempt: it holds one analysis window at a time, however long it runs.
    #[arg(long, default_value_t = 600.0)]
    max_duration_s: f64,
    /// Read audio from standard input ("-") and print a rolling prediction every hop.
    #[arg(long, value_name = "-")]
    stream: Option<String>,
    /// Raw PCM sample rate for --stream (omit to read a WAV stream header).
    #[arg(long)]
    rate: Option<u32>,
    /// Raw PCM channels for --stream.
    #[arg(long, default_value_t = 1)]
    channels: u16,
    /// Raw PCM sample format for --stream: s16le, s24le, s32le, f32le, f64le, u8.
    #[arg(long, default_value = "s16le")]
    format: String,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Smallest accepted `--hop-s`, seconds (the library refuses smaller hops too).
const MIN_HOP_S: f64 = predict::MIN_HOP_S;

/// Context of a failed write to standard output (a closed pipe, a full disk).
const STDOUT: &str = "cannot write to standard output";

/// Returns whether every input was predicted.
fn run(args: Args) -> Result<bool> {
    let model_dirs = if args.models.is_empty() {
        vec![default_model_dir()]
    } else {
        args.models.clone()
    };
    // Below 10 ms a long recording becomes millions of windows (1e-9: one per sample).
    if !(args.hop_s >= MIN_HOP_S && args.hop_s.is_finite()) {
        bail!(
            "--hop-s {}: must be a number of seconds of at least {MIN_HOP_S}",
            args.hop_s
        );
    }
    if !(args.max_duration_s > 0.0 && args.max_duration_s.is_finite()) {
        bail!(
            "--max-duration-s {}: must be a positive number of seconds",
            args.max_duration_s
        );
    }
    // Beyond Duration's range (about 585 years) is no limit.
    let max_duration = Duration::try_from_secs_f64(args.max_duration_s).unwrap_or(Duration::MAX);
    if args.stream.is_none() && args.inputs.is_empty() {
        bail!("no input: give audio files or folders, or --stream -");
    }
    let mut models = Vec::new();
    for dir in &model_dirs {
        models.push(Model::load(dir)?);
    }
    let mut reference = Vec::new();
    for input in &args.speaker_ref {
        reference.extend(predict::collect_audio_files(input).context("--speaker-ref")?);
    }
    for model in &mut models {
        // --adapt gives a speaker-normalised model its speakers' statistics from the batch.
        if model.needs_speaker_reference() && !args.adapt {
            if reference.is_empty() {
                bail!(
                    "{}: this model normalises per speaker: give recordings of the speaker with \
                     --speaker-ref DIR (at least {} clips)",
                    model.id(),
                    ser_classic::MIN_SPEAKER_UTTERANCES
                );
            }
            let n = model.set_speaker_reference(&reference)?;
            eprintln!(
                "{}: speaker statistics from {n} reference clips",
                model.id()
            );
        } else if !reference.is_empty() {
            eprintln!(
                "note: {} does not normalise per speaker; --speaker-ref is not used for it",
                model.id()
            );
        }
    }
    if let Some(source) = &args.stream {
        if source != "-" {
            bail!("--stream {source}: only \"-\" (standard input) is supported");
        }
        stream(&args, &mut models)?;
        return Ok(true);
    }
    let mut files = Vec::new();
    let mut ok = true;
    for input in &args.inputs {
        match predict::collect_audio_files(input) {
            Ok(found) if found.is_empty() => {
                eprintln!("error: {}: no audio files in this folder", input.display());
                ok = false;
            }
            Ok(found) => files.extend(found),
            Err(e) => {
                eprintln!("error: {e:#}");
                ok = false;
            }
        }
    }
    if args.adapt && files.len() == 1 {
        bail!(
            "--adapt standardises with the statistics of a batch of recordings: give a folder or \
             several files (at least {}), not a single file",
            ser_cli::adapt::MIN_ADAPTATION_FILES
        );
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let names = models[0].class_names();
    if args.csv {
        let mut header = vec!["path", "model", "start_s", "end_s", "label"];
        header.extend(names.iter().copied());
        writeln!(out, "{}", header.join(",")).context(STDOUT)?;
    }
    if args.adapt {
        let adapted = predict_adapted(&mut out, &args, &mut models, &files, max_duration)?;
        out.flush().context(STDOUT)?;
        return Ok(ok && adapted);
    }
    for file in &files {
        // Decoded once for every model; the front end's output is streamed window by window.
        let audio = match load_file(file, max_duration) {
            Ok(audio) => audio,
            Err(e) => {
                eprintln!("error: {e:#}");
                ok = false;
                continue;
            }
        };
        for model in &mut models {
            let result = predict::predict_audio(model, &audio, args.hop_s)
                .with_context(|| file.display().to_string());
            match result {
                Ok(result) => {
                    print_result(&mut out, &args, model, file, &result, None).context(STDOUT)?;
                }
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ok = false;
                }
            }
        }
    }
    out.flush().context(STDOUT)?;
    Ok(ok)
}

/// Decodes `path` (mono, at its own rate), refusing audio longer than `max_duration`
/// (`--max-duration-s`) before decoding it where its header tells the length.
fn load_file(path: &Path, max_duration: Duration) -> Result<ser_audio::Audio> {
    ser_audio::load_limited(path, max_duration).map_err(|e| match e {
        // The message names the file, its duration and the limit; add the flag that sets it.
        ser_audio::AudioError::TooLong { .. } => {
            anyhow::anyhow!("{e}; give a larger --max-duration-s to predict it")
        }
        e => e.into(),
    })
}

/// `--adapt`: analyses every file with every model, adapts each model's inputs to the batch
/// (see `ser_cli::adapt`), says so on stderr, then prints the predictions in file order.
/// Returns whether every file was predicted.
fn predict_adapted(
    out: &mut impl Write,
    args: &Args,
    models: &mut [Model],
    files: &[PathBuf],
    max_duration: Duration,
) -> Result<bool> {
    let mut ok = true;
    let groups = adapt::speaker_groups(files);
    // Per model: (file index, its analysis).
    let mut analysed: Vec<Vec<(usize, adapt::AnalysedRecording)>> =
        models.iter().map(|_| Vec::new()).collect();
    for (i, file) in files.iter().enumerate() {
        let audio = match load_file(file, max_duration) {
            Ok(audio) => audio,
            Err(e) => {
                eprintln!("error: {e:#}");
                ok = false;
                continue;
            }
        };
        for (model, done) in models.iter_mut().zip(&mut analysed) {
            match adapt::analyse_recording(model, &audio, args.hop_s)
                .with_context(|| file.display().to_string())
            {
                Ok(recording) => done.push((i, recording)),
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ok = false;
                }
            }
        }
    }
    // Per file, per model: the prediction and its "adapted" record.
    let mut results = vec![vec![None; models.len()]; files.len()];
    for (m, (model, done)) in models.iter().zip(analysed).enumerate() {
        let (index, recordings): (Vec<usize>, Vec<_>) = done.into_iter().unzip();
        let own_groups: Vec<&str> = index.iter().map(|&i| groups[i].as_str()).collect();
        let (predictions, adaptation) = adapt::predict_adapted(model, recordings, &own_groups)?;
        eprintln!("{}: adaptation: {}", model.id(), adaptation.describe());
        for ((i, prediction), group) in index.into_iter().zip(predictions).zip(&own_groups) {
            results[i][m] = Some((prediction, adaptation.file_json(group)));
        }
    }
    for (file, row) in files.iter().zip(results) {
        for (model, result) in models.iter().zip(row) {
            if let Some((prediction, adapted)) = result {
                print_result(out, args, model, file, &prediction, Some(adapted)).context(STDOUT)?;
            }
        }
    }
    Ok(ok)
}

/// Prints one file's prediction by one model; `adapted` (the `--adapt` record) goes into the
/// JSON object.
fn print_result(
    out: &mut impl Write,
    args: &Args,
    model: &Model,
    file: &Path,
    result: &predict::FilePrediction,
    adapted: Option<serde_json::Value>,
) -> Result<()> {
    let names = model.class_names();
    let path = file.display().to_string();
    if args.json {
        let mut value = result.to_json(&names);
        value["path"] = path.into();
        value["model"] = model.id().into();
        if let Some(adapted) = adapted {
            value["adapted"] = adapted;
        }
        writeln!(out, "{}", serde_json::to_string(&value)?)?;
        return Ok(());
    }
    if args.csv {
        let row = |start: f64, end: f64, label: &str, probs: Option<&[f32]>| {
            let mut cells = vec![
                csv_cell(&path),
                csv_cell(&model.id()),
                format!("{start:.2}"),
                format!("{end:.2}"),
                label.to_owned(),
            ];
            match probs {
                Some(p) => cells.extend(p.iter().map(|v| format!("{v:.6}"))),
                None => cells.extend(names.iter().map(|_| String::new())),
            }
            cells.join(",")
        };
        if args.timeline {
            for w in &result.windows {
                writeln!(
                    out,
                    "{}",
                    row(
                        w.start_s,
                        w.end_s,
                        w.label(&names),
                        w.probabilities.as_deref()
                    )
                )?;
            }
        }
        writeln!(
            out,
            "{}",
            row(
                0.0,
                result.duration_s,
                result.label(&names),
                result.probabilities.as_deref()
            )
        )?;
        return Ok(());
    }
    writeln!(out, "{path}  [{}]", model.id())?;
    writeln!(
        out,
        "  emotion: {}  ({:.1} s of audio)",
        result.label(&names),
        result.duration_s
    )?;
    if let Some(p) = &result.probabilities {
        for (name, v) in names.iter().zip(p) {
            let bar = "#".repeat((v * 40.0).round() as usize);
            writeln!(out, "    {name:<10} {:>6.1}%  {bar}", v * 100.0)?;
        }
    }
    if args.timeline {
        writeln!(out, "  timeline:")?;
        for w in &result.windows {
            let top = w
                .probabilities
                .as_ref()
                .map(|p| p.iter().cloned().fold(0.0_f32, f32::max) * 100.0);
            match top {
                Some(t) => writeln!(
                    out,
                    "    {:>7.2}-{:<7.2} s  {:<10} {t:5.1}%",
                    w.start_s,
                    w.end_s,
                    w.label(&names)
                )?,
                None => writeln!(
                    out,
                    "    {:>7.2}-{:<7.2} s  {}",
                    w.start_s,
                    w.end_s,
                    w.label(&names)
                )?,
            }
        }
    }
    Ok(())
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Reads PCM (raw or a WAV stream) from standard input and prints a prediction every hop over
/// the most recent analysis window.
fn stream(args: &Args, models: &mut [Model]) -> Result<()> {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut reader: PcmStreamReader<Box<dyn Read + '_>> = match args.rate {
        Some(rate) => {
            let format: PcmFormat = args
                .format
                .parse()
                .map_err(|e| anyhow::anyhow!("--format: {e}"))?;
            PcmStreamReader::new(
                Box::new(input) as Box<dyn Read>,
                format,
                args.channels,
                rate,
            )?
        }
        None => {
            let head = input.fill_buf().context("cannot read standard input")?;
            if head.is_empty() {
                bail!("standard input is empty: no audio arrived");
            }
            if !head.starts_with(b"RIFF") {
                bail!(
                    "standard input is not a WAV stream; for raw PCM give --rate (and --channels, --format)"
                );
            }
            PcmStreamReader::from_wav_stream_named(Box::new(input) as Box<dyn Read>, "<stdin>")?
        }
    };
    let model = &mut models[0];
    let rate = model.sample_rate_hz();
    let mut resampler = Some(BandLimitedStream::new(
        reader.sample_rate_hz(),
        rate,
        model.band_hz(),
    )?);
    let window = model.window_samples().max(1);
    let hop = ((args.hop_s * f64::from(rate)).round() as usize).max(1);
    let names = model.class_names();
    let mut buffer: Vec<f32> = Vec::new();
    let mut consumed_s = 0.0;
    // The first window waits for enough audio to analyse, however short the hop.
    let mut next_emit = hop.max(model.min_samples()).min(window);
    let mut hops = 0_usize;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let chunk_frames = (reader.sample_rate_hz() as usize / 20).max(1);
    let mut resampled = Vec::new();
    // Ctrl-C ends the stream after the current chunk (the recorder upstream, in the same
    // process group, usually ends it first by closing the pipe).
    let interrupt = ser_cli::interrupt_flag()?;
    loop {
        resampled.clear();
        let chunk = if interrupt.load(std::sync::atomic::Ordering::Relaxed) {
            None
        } else {
            reader.next_chunk(chunk_frames)?
        };
        let ended = match (chunk, resampler.as_mut()) {
            (Some(chunk), Some(r)) => {
                r.process_into(&chunk, &mut resampled)?;
                false
            }
            // End of input: the resampler's tail completes the audio.
            _ => {
                if let Some(r) = resampler.take() {
                    resampled = r.finish()?;
                }
                true
            }
        };
        buffer.extend_from_slice(&resampled);
        while buffer.len() >= next_emit {
            let end = next_emit;
            let start = end.saturating_sub(window);
            let end_s = consumed_s + end as f64 / f64::from(rate);
            let line = predict::window_line(model, &buffer[start..end], end_s, &names, args.json)?;
            writeln!(out, "{line}")?;
            out.flush()?;
            hops += 1;
            next_emit += hop;
        }
        // Keep only what the next window needs.
        let keep_from = (next_emit.saturating_sub(window)).min(buffer.len());
        if keep_from > 0 {
            buffer.drain(..keep_from);
            next_emit -= keep_from;
            consumed_s += keep_from as f64 / f64::from(rate);
        }
        if ended {
            break;
        }
    }
    if hops == 0 && buffer.is_empty() {
        bail!("standard input ended before any audio arrived");
    }
    eprintln!("stream ended: {hops} predictions");
    Ok(())
}
