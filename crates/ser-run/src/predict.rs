//! Prediction over whole recordings: analysis windows, silence detection and aggregation.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::Result;
use crate::error::ResultExt as _;
use crate::error::bail;

use crate::Model;

/// Audio file extensions looked for in folders.
pub const AUDIO_EXTENSIONS: [&str; 5] = ["wav", "flac", "mp3", "ogg", "oga"];

/// The files to predict for one command-line input: the file itself, or the audio files of a
/// folder (recursively, sorted).
///
/// Symbolic links are followed, but every folder is listed once, by its canonical path: a link
/// loop (`sub/up -> ..`, `self -> .`) neither hangs the walk nor lists a file twice. Inside a
/// folder only regular files count (a FIFO named `x.wav` would block reading); an input that
/// is not a file or folder is an error saying what it is (a FIFO, a link loop, missing).
pub fn collect_audio_files(input: &Path) -> Result<Vec<PathBuf>> {
    /// What a path that is neither a regular file nor a folder is, for messages.
    fn special_file_kind(file_type: &std::fs::FileType) -> &'static str {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt as _;
            if file_type.is_fifo() {
                return "a FIFO (named pipe)";
            }
            if file_type.is_socket() {
                return "a socket";
            }
            if file_type.is_block_device() || file_type.is_char_device() {
                return "a device";
            }
        }
        let _ = file_type;
        "a special file"
    }

    let metadata = match std::fs::metadata(input) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("{}: no such file or folder", input.display())
        }
        Err(e) => return Err(e).with_context(|| format!("cannot open {}", input.display())),
    };
    if metadata.is_file() {
        return Ok(vec![input.to_owned()]);
    }
    if !metadata.is_dir() {
        bail!(
            "{}: {}, not an audio file or folder",
            input.display(),
            special_file_kind(&metadata.file_type())
        );
    }
    let mut visited = std::collections::HashSet::new();
    let mut out = Vec::new();
    let mut stack = vec![input.to_owned()];
    while let Some(dir) = stack.pop() {
        let canonical = dir
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", dir.display()))?;
        if !visited.insert(canonical) {
            // Listed already: a link back to an ancestor, or a second way to the same folder.
            continue;
        }
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?
        {
            let path = entry
                .with_context(|| format!("cannot list {}", dir.display()))?
                .path();
            let is_audio = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
            match std::fs::metadata(&path) {
                Ok(m) if m.is_dir() => stack.push(path),
                Ok(m) if m.is_file() && is_audio => out.push(path),
                // FIFOs, sockets, devices: not audio files, whatever their names.
                Ok(_) => {}
                // A dangling link or a link loop named like audio: kept, so that predicting it
                // reports the reason.
                Err(_) if is_audio => out.push(path),
                Err(_) => {}
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The prediction of one analysis window; `probabilities` is `None` for silence.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowPrediction {
    /// Start in seconds.
    pub start_s: f64,
    /// End in seconds.
    pub end_s: f64,
    /// RMS level in dBFS.
    pub level_dbfs: f64,
    /// Class probabilities (sum to 1), or `None` when the window is silence.
    pub probabilities: Option<Vec<f32>>,
}

impl WindowPrediction {
    /// The most probable class name, or `silence`.
    pub fn label<'a>(&self, names: &[&'a str]) -> &'a str {
        label_of(self.probabilities.as_deref(), names)
    }
}

fn label_of<'a>(probabilities: Option<&[f32]>, names: &[&'a str]) -> &'a str {
    match probabilities {
        None => "silence",
        Some(p) => p
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .and_then(|(i, _)| names.get(i).copied())
            .unwrap_or("unknown"),
    }
}

/// The prediction of a whole file: the mean of its non-silent windows.
#[derive(Debug, Clone, PartialEq)]
pub struct FilePrediction {
    /// Duration in seconds.
    pub duration_s: f64,
    /// Aggregate probabilities, `None` when every window is silence.
    pub probabilities: Option<Vec<f32>>,
    /// Every analysis window.
    pub windows: Vec<WindowPrediction>,
}

impl FilePrediction {
    /// The most probable class name, or `silence`.
    pub fn label<'a>(&self, names: &[&'a str]) -> &'a str {
        label_of(self.probabilities.as_deref(), names)
    }

    /// `{label, probabilities: {name: p}, duration_s, windows: [...]}`.
    pub fn to_json(&self, names: &[&str]) -> serde_json::Value {
        let probs = |p: &Option<Vec<f32>>| match p {
            None => serde_json::Value::Null,
            Some(p) => names
                .iter()
                .zip(p)
                .map(|(n, v)| ((*n).to_owned(), serde_json::json!(v)))
                .collect(),
        };
        serde_json::json!({
            "label": self.label(names),
            "probabilities": probs(&self.probabilities),
            "duration_s": self.duration_s,
            "windows": self.windows.iter().map(|w| serde_json::json!({
                "start_s": w.start_s, "end_s": w.end_s, "level_dbfs": w.level_dbfs,
                "label": w.label(names), "probabilities": probs(&w.probabilities),
            })).collect::<Vec<_>>(),
        })
    }
}

/// RMS level of `samples` in dBFS, as every window reports it.
pub(crate) fn rms_dbfs(samples: &[f32]) -> f64 {
    let energy: f64 = samples
        .iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum::<f64>()
        / samples.len().max(1) as f64;
    10.0 * energy.max(1e-20).log10()
}

/// Window start positions (in samples) covering `len` samples with windows of `window` and hops
/// of `hop`: a single window when the audio fits in one, else regular hops plus a last window
/// that ends with the audio.
pub fn window_starts(len: usize, window: usize, hop: usize) -> Vec<usize> {
    if len <= window {
        return vec![0];
    }
    let mut starts: Vec<usize> = (0..)
        .map(|k| k * hop)
        .take_while(|&s| s + window < len)
        .collect();
    starts.push(len - window);
    starts.dedup();
    starts
}

/// Predicts one file with one model: decode, band-limit and resample (the model's front end),
/// analyse in windows (a window without speech, by [`Model::has_speech`], is silence; the
/// others are levelled and analysed), aggregate.
///
/// The decoded file is held at its own rate; the front end's output is streamed through the
/// windows (see [`predict_audio_with`]), never held whole.
pub fn predict_file(model: &mut Model, path: &Path, hop_s: f64) -> Result<FilePrediction> {
    check_hop(hop_s)?;
    // Audio errors name the file themselves; later stages get it as context.
    let audio = ser_audio::load(path)?;
    predict_audio(model, &audio, hop_s).with_context(|| path.display().to_string())
}

/// As [`predict_file`] for decoded audio at any rate (resampled to the model's here).
pub fn predict_audio(
    model: &mut Model,
    audio: &ser_audio::Audio,
    hop_s: f64,
) -> Result<FilePrediction> {
    predict_audio_with(model, audio, hop_s, &AtomicBool::new(false))
}

/// As [`predict_audio`], stopping early when `cancel` is set: the flag is looked at before
/// every analysis window and every batch given to the classifier, so work whose caller gave up
/// (a server request that timed out) ends within one window. A cancelled prediction is an
/// error [`crate::RunError::Cancelled`].
///
/// Memory stays bounded by the window, not the recording: audio that needs the front end's
/// band limit or resampling goes through it a chunk at a time ([`ser_audio::BandLimitedStream`],
/// [`STREAM_CHUNK_FRAMES`] input frames per step), and only the samples from the current
/// window on are kept, never the whole resampled signal. The samples are the same as those of
/// [`ser_audio::resample_band_limited`] over the whole signal (the stream gives the same
/// output however its input is cut), so the prediction is that of [`predict_samples_with`]
/// over them.
pub fn predict_audio_with(
    model: &mut Model,
    audio: &ser_audio::Audio,
    hop_s: f64,
    cancel: &AtomicBool,
) -> Result<FilePrediction> {
    check_hop(hop_s)?;
    let (from_hz, to_hz, band_hz) = (
        audio.sample_rate_hz,
        model.sample_rate_hz(),
        model.band_hz(),
    );
    // Audio at the model's rate still goes through the front end's band limit when its band
    // is wider; within the band it is analysed as it is.
    if from_hz == to_hz && ser_audio::band_rate(from_hz, band_hz).is_none() {
        return predict_samples_with(model, &audio.samples, hop_s, cancel);
    }
    let len = ser_audio::band_limited_len(audio.samples.len(), from_hz, to_hz, band_hz);
    let mut source = Streamed {
        input: &audio.samples,
        stream: Some(ser_audio::BandLimitedStream::new(from_hz, to_hz, band_hz)?),
        buffer: Vec::new(),
        offset: 0,
    };
    predict_windows(model, len, &mut source, hop_s, cancel)
}

/// Input frames given to the front end's resampler at a time when windows are streamed from
/// audio at another rate ([`predict_audio_with`]): at 1 kHz to 22.05 kHz, 1.4 MB of output.
pub const STREAM_CHUNK_FRAMES: usize = 1 << 14;

/// The samples of analysis windows at the model's rate, asked for in order: the starts of
/// successive calls never decrease.
trait WindowSource {
    /// Samples `start..end` of the signal.
    fn window(&mut self, start: usize, end: usize) -> Result<&[f32]>;
}

/// A signal held whole.
struct Whole<'a>(&'a [f32]);

impl WindowSource for Whole<'_> {
    fn window(&mut self, start: usize, end: usize) -> Result<&[f32]> {
        self.0.get(start..end).with_context(|| {
            format!(
                "window {start}..{end} is outside the {} samples",
                self.0.len()
            )
        })
    }
}

/// Audio at its own rate brought through the front end's band limit and resampling a chunk
/// at a time, keeping only the output from the current window's start on.
struct Streamed<'a> {
    /// Input not yet given to the stream.
    input: &'a [f32],
    /// `None` once its tail is flushed.
    stream: Option<ser_audio::BandLimitedStream>,
    /// Output samples from `offset` on.
    buffer: Vec<f32>,
    /// Position of `buffer[0]` in the output.
    offset: usize,
}

impl WindowSource for Streamed<'_> {
    fn window(&mut self, start: usize, end: usize) -> Result<&[f32]> {
        crate::error::ensure!(
            start >= self.offset && start <= end,
            "window {start}..{end} asked for after output {} was dropped",
            self.offset
        );
        while self.offset + self.buffer.len() < end {
            // Before more output arrives, drop what no later window needs (once per chunk,
            // not per window: the copy is then of at most one window's samples).
            let dead = (start - self.offset).min(self.buffer.len());
            self.buffer.drain(..dead);
            self.offset += dead;
            if !self.input.is_empty() {
                let (chunk, rest) = self
                    .input
                    .split_at(STREAM_CHUNK_FRAMES.min(self.input.len()));
                self.input = rest;
                if let Some(stream) = &mut self.stream {
                    stream.process_into(chunk, &mut self.buffer)?;
                }
            } else if let Some(stream) = self.stream.take() {
                self.buffer.extend(stream.finish()?);
            } else {
                bail!(
                    "the resampled audio ended after {} samples, before the window {start}..{end}",
                    self.offset + self.buffer.len()
                );
            }
        }
        Ok(&self.buffer[start - self.offset..end - self.offset])
    }
}

/// As [`predict_file`] for samples already at the model's rate.
///
/// # Errors
/// A hop below [`MIN_HOP_S`] (or not finite); feature or model errors.
pub fn predict_samples(model: &mut Model, samples: &[f32], hop_s: f64) -> Result<FilePrediction> {
    predict_samples_with(model, samples, hop_s, &AtomicBool::new(false))
}

/// Smallest hop between analysis windows, seconds: below it a long recording becomes millions
/// of windows (a hop of 1e-9 s is one window per sample).
pub const MIN_HOP_S: f64 = 0.01;

/// Windows given to the classifier at once: bounds the prepared inputs held at a time and the
/// work between two looks at the cancellation flag. The deep predictor's own batch, so that
/// its batches (and so its results, to the bit) are those of a single call.
const PREDICT_BATCH: usize = ser_trainer::Predictor::DEFAULT_BATCH_SIZE;

/// A prediction stopped because its cancellation flag was set (see [`predict_audio_with`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled {
    /// Analysis windows finished when it stopped.
    pub windows_done: usize,
    /// Analysis windows of the whole recording (`None` when it stopped before they were
    /// counted).
    pub windows: Option<usize>,
}

impl std::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.windows {
            Some(total) => write!(
                f,
                "prediction cancelled after {} of {total} analysis windows",
                self.windows_done
            ),
            None => f.write_str("prediction cancelled before the first analysis window"),
        }
    }
}

impl std::error::Error for Cancelled {}

/// Refuses hops below [`MIN_HOP_S`] (and NaN or infinite ones).
fn check_hop(hop_s: f64) -> Result<()> {
    if !(hop_s.is_finite() && hop_s >= MIN_HOP_S) {
        bail!("hop of {hop_s} s between analysis windows: must be at least {MIN_HOP_S} s");
    }
    Ok(())
}

/// As [`predict_samples`], stopping early when `cancel` is set (see [`predict_audio_with`]).
pub fn predict_samples_with(
    model: &mut Model,
    samples: &[f32],
    hop_s: f64,
    cancel: &AtomicBool,
) -> Result<FilePrediction> {
    predict_windows(model, samples.len(), &mut Whole(samples), hop_s, cancel)
}

/// The windowed prediction of a signal of `len` samples at the model's rate whose windows
/// come from `source`.
fn predict_windows(
    model: &mut Model,
    len: usize,
    source: &mut dyn WindowSource,
    hop_s: f64,
    cancel: &AtomicBool,
) -> Result<FilePrediction> {
    check_hop(hop_s)?;
    let rate = f64::from(model.sample_rate_hz());
    let window = model.window_samples().max(1);
    let hop = ((hop_s * rate).round() as usize).max(1);
    let starts = window_starts(len, window, hop);
    let cancelled = |windows_done: usize| Cancelled {
        windows_done,
        windows: Some(starts.len()),
    };
    let mut windows = Vec::with_capacity(starts.len());
    let mut probabilities: Vec<Vec<f32>> = Vec::new();
    let mut inputs = Vec::with_capacity(PREDICT_BATCH.min(starts.len()));
    for (i, &start) in starts.iter().enumerate() {
        if cancel.load(Ordering::Relaxed) {
            return Err(cancelled(i).into());
        }
        let end = (start + window).min(len);
        let samples = source.window(start, end)?;
        let level = rms_dbfs(samples);
        let silent = !model.has_speech(samples);
        if !silent {
            inputs.push(model.features(samples)?);
        }
        windows.push(WindowPrediction {
            start_s: start as f64 / rate,
            end_s: end as f64 / rate,
            level_dbfs: level,
            probabilities: (!silent).then(Vec::new),
        });
        if inputs.len() == PREDICT_BATCH || (i + 1 == starts.len() && !inputs.is_empty()) {
            if cancel.load(Ordering::Relaxed) {
                return Err(cancelled(i).into());
            }
            probabilities.extend(model.predict_features(&inputs)?);
            inputs.clear();
        }
    }
    let mut probs = probabilities.into_iter();
    let mut sum: Option<Vec<f32>> = None;
    let mut n = 0_usize;
    for w in &mut windows {
        if w.probabilities.is_some() {
            let p = probs
                .next()
                .context("the model returned fewer predictions than windows")?;
            let acc = sum.get_or_insert_with(|| vec![0.0; p.len()]);
            acc.iter_mut().zip(&p).for_each(|(a, b)| *a += b);
            n += 1;
            w.probabilities = Some(p);
        }
    }
    let probabilities = sum.map(|mut s| {
        s.iter_mut().for_each(|v| *v /= n as f32);
        s
    });
    Ok(FilePrediction {
        duration_s: len as f64 / rate,
        probabilities,
        windows,
    })
}

/// Live prediction over audio that arrives in chunks (`ser-predict --stream`): every hop, the
/// most recent analysis window is predicted, with the silence rule of files and timelines
/// (a window without speech by [`Model::has_speech`] is silence). Chunks are band-limited and
/// resampled to the model's rate as they come ([`ser_audio::BandLimitedStream`]), and only
/// the samples the next window needs are kept, so a stream of any length runs in constant
/// memory.
#[derive(Debug)]
pub struct StreamPredictor {
    resampler: Option<ser_audio::BandLimitedStream>,
    rate_hz: u32,
    window: usize,
    hop: usize,
    buffer: Vec<f32>,
    resampled: Vec<f32>,
    /// Seconds of audio dropped from the front of `buffer`.
    consumed_s: f64,
    /// Buffer length at which the next window ends.
    next_emit: usize,
    emitted: usize,
}

impl StreamPredictor {
    /// A stream of mono samples at `input_rate_hz` for `model`, one prediction every `hop_s`.
    ///
    /// # Errors
    /// A hop below [`MIN_HOP_S`]; a rate the resampler cannot take.
    pub fn new(model: &Model, input_rate_hz: u32, hop_s: f64) -> Result<StreamPredictor> {
        check_hop(hop_s)?;
        let rate_hz = model.sample_rate_hz();
        let window = model.window_samples().max(1);
        let hop = ((hop_s * f64::from(rate_hz)).round() as usize).max(1);
        Ok(StreamPredictor {
            resampler: Some(ser_audio::BandLimitedStream::new(
                input_rate_hz,
                rate_hz,
                model.band_hz(),
            )?),
            rate_hz,
            window,
            hop,
            buffer: Vec::new(),
            resampled: Vec::new(),
            consumed_s: 0.0,
            // The first window waits for enough audio to analyse, however short the hop.
            next_emit: hop.max(model.min_samples()).min(window),
            emitted: 0,
        })
    }

    /// Feeds one chunk of mono samples; returns the windows it completed, in order.
    pub fn push(&mut self, model: &mut Model, chunk: &[f32]) -> Result<Vec<WindowPrediction>> {
        self.resampled.clear();
        if let Some(r) = self.resampler.as_mut() {
            r.process_into(chunk, &mut self.resampled)?;
        }
        self.emit(model)
    }

    /// Ends the stream: the resampler's tail completes the audio; returns the windows it
    /// completed. Later pushes add nothing.
    pub fn finish(&mut self, model: &mut Model) -> Result<Vec<WindowPrediction>> {
        self.resampled.clear();
        if let Some(r) = self.resampler.take() {
            self.resampled = r.finish()?;
        }
        self.emit(model)
    }

    /// Windows predicted so far.
    pub fn windows_emitted(&self) -> usize {
        self.emitted
    }

    /// Whether no audio at all has arrived (nothing predicted, nothing buffered).
    pub fn is_empty(&self) -> bool {
        self.emitted == 0 && self.buffer.is_empty()
    }

    fn emit(&mut self, model: &mut Model) -> Result<Vec<WindowPrediction>> {
        self.buffer.extend_from_slice(&self.resampled);
        let rate = f64::from(self.rate_hz);
        let mut windows = Vec::new();
        while self.buffer.len() >= self.next_emit {
            let end = self.next_emit;
            let start = end.saturating_sub(self.window);
            let samples = &self.buffer[start..end];
            let probabilities = if model.has_speech(samples) {
                Some(model.predict_samples(samples)?)
            } else {
                None
            };
            let end_s = self.consumed_s + end as f64 / rate;
            windows.push(WindowPrediction {
                start_s: end_s - samples.len() as f64 / rate,
                end_s,
                level_dbfs: rms_dbfs(samples),
                probabilities,
            });
            self.emitted += 1;
            self.next_emit += self.hop;
        }
        // Keep only what the next window needs.
        let keep_from = self
            .next_emit
            .saturating_sub(self.window)
            .min(self.buffer.len());
        if keep_from > 0 {
            self.buffer.drain(..keep_from);
            self.next_emit -= keep_from;
            self.consumed_s += keep_from as f64 / rate;
        }
        Ok(windows)
    }
}

/// One line of the live stream output (`ser-predict --stream`) for a window: JSON, or
/// "start-end s  label  class p%  ...".
pub fn window_line(window: &WindowPrediction, names: &[&str], json: bool) -> String {
    let probabilities = &window.probabilities;
    let label = label_of(probabilities.as_deref(), names);
    let (start_s, end_s) = (window.start_s, window.end_s);
    if json {
        let probs = match probabilities {
            None => serde_json::Value::Null,
            Some(p) => names
                .iter()
                .zip(p)
                .map(|(n, v)| ((*n).to_owned(), serde_json::json!(v)))
                .collect(),
        };
        return serde_json::json!({"start_s": start_s, "end_s": end_s, "label": label, "probabilities": probs}).to_string();
    }
    let detail = match probabilities {
        None => String::new(),
        Some(p) => names
            .iter()
            .zip(p)
            .map(|(n, v)| format!("{n} {:.0}%", v * 100.0))
            .collect::<Vec<_>>()
            .join("  "),
    };
    format!("{start_s:7.2}-{end_s:<7.2} s  {label:<10} {detail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_the_audio() {
        assert_eq!(window_starts(100, 300, 50), vec![0]);
        assert_eq!(window_starts(300, 300, 50), vec![0]);
        assert_eq!(window_starts(400, 300, 50), vec![0, 50, 100]);
        assert_eq!(window_starts(420, 300, 100), vec![0, 100, 120]);
    }
}
