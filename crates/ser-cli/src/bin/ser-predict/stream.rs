//! `ser-predict --stream`: PCM from standard input, a rolling prediction every hop
//! (`ser_run::predict::StreamPredictor`).

use std::io::{BufRead, Read, Write};

use anyhow::{Context, Result, bail};
use ser_audio::{PcmFormat, PcmStreamReader};
use ser_run::{Model, predict};

use crate::args::Args;

/// Reads PCM (raw or a WAV stream) from standard input and prints a prediction every hop over
/// the most recent analysis window.
pub fn stream(args: &Args, models: &mut [Model]) -> Result<()> {
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
    let mut predictor = predict::StreamPredictor::new(model, reader.sample_rate_hz(), args.hop_s)?;
    let names = model.class_names();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let chunk_frames = (reader.sample_rate_hz() as usize / 20).max(1);
    // Ctrl-C ends the stream after the current chunk (the recorder upstream, in the same
    // process group, usually ends it first by closing the pipe).
    let interrupt = ser_cli::interrupt_flag()?;
    loop {
        let chunk = if interrupt.load(std::sync::atomic::Ordering::Relaxed) {
            None
        } else {
            reader.next_chunk(chunk_frames)?
        };
        let (windows, ended) = match chunk {
            Some(chunk) => (predictor.push(model, &chunk)?, false),
            None => (predictor.finish(model)?, true),
        };
        for window in &windows {
            writeln!(out, "{}", predict::window_line(window, &names, args.json))?;
            out.flush()?;
        }
        if ended {
            break;
        }
    }
    if predictor.is_empty() {
        bail!("standard input ended before any audio arrived");
    }
    let hops = predictor.windows_emitted();
    eprintln!("stream ended: {hops} predictions");
    Ok(())
}
