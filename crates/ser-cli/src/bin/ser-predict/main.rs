//! `ser-predict`: the emotion of audio files, long recordings or a live stream.
//!
//! ```text
//! ser-predict FILE_OR_DIR... [--model RUN_DIR]... [--json|--csv] [--timeline]
//! arecord -f S16_LE -r 16000 -c 1 | ser-predict --stream - --rate 16000 --format s16le
//! sox -d -t wav - | ser-predict --stream -
//! ser-predict --adapt DIR [--json]          # the model adapted to the recordings of DIR
//! ```

mod args;
mod output;
mod stream;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use args::Args;
use clap::Parser;
use output::print_result;
use ser_run::{Model, adapt, default_model_dir, predict};

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
        stream::stream(&args, &mut models)?;
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
                eprintln!("error: {:#}", anyhow::Error::from(e));
                ok = false;
            }
        }
    }
    if args.adapt && files.len() == 1 {
        bail!(
            "--adapt standardises with the statistics of a batch of recordings: give a folder or \
             several files (at least {}), not a single file",
            ser_run::adapt::MIN_ADAPTATION_FILES
        );
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let names = models[0].class_names();
    if args.csv {
        write!(out, "{}", output::csv_header(&names)).context(STDOUT)?;
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
/// (see `ser_run::adapt`), says so on stderr, then prints the predictions in file order.
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
