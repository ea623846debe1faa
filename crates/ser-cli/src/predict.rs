//! Prediction over whole recordings: analysis windows, silence detection and aggregation.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::Model;

/// Audio file extensions looked for in folders.
pub const AUDIO_EXTENSIONS: [&str; 5] = ["wav", "flac", "mp3", "ogg", "oga"];

/// A window is silence when its RMS is below this level (dB relative to full scale)...
pub const SILENCE_FLOOR_DBFS: f64 = -75.0;
/// ...or, in a recording of several windows, this many dB below its loudest window.
pub const SILENCE_RELATIVE_DB: f64 = 35.0;

/// The files to predict for one command-line input: the file itself, or the audio files of a
/// folder (recursively, sorted).
pub fn collect_audio_files(input: &Path) -> Result<Vec<PathBuf>> {
    if input.is_file() {
        return Ok(vec![input.to_owned()]);
    }
    if !input.is_dir() {
        bail!("{}: no such file or folder", input.display());
    }
    let mut out = Vec::new();
    let mut stack = vec![input.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
            {
                out.push(path);
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

fn rms_dbfs(samples: &[f32]) -> f64 {
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

/// Predicts one file with one model: decode, resample, analyse in windows, aggregate.
pub fn predict_file(model: &mut Model, path: &Path, hop_s: f64) -> Result<FilePrediction> {
    // Audio errors name the file themselves; later stages get it as context.
    let audio = ser_audio::load_at(path, model.sample_rate_hz())?;
    predict_samples(model, &audio.samples, hop_s).with_context(|| path.display().to_string())
}

/// As [`predict_file`] for decoded audio at any rate (resampled to the model's here).
pub fn predict_audio(
    model: &mut Model,
    audio: &ser_audio::Audio,
    hop_s: f64,
) -> Result<FilePrediction> {
    if audio.sample_rate_hz == model.sample_rate_hz() {
        return predict_samples(model, &audio.samples, hop_s);
    }
    let samples =
        ser_audio::resample(&audio.samples, audio.sample_rate_hz, model.sample_rate_hz())?;
    predict_samples(model, &samples, hop_s)
}

/// As [`predict_file`] for samples already at the model's rate.
pub fn predict_samples(model: &mut Model, samples: &[f32], hop_s: f64) -> Result<FilePrediction> {
    let rate = f64::from(model.sample_rate_hz());
    let window = model.window_samples().max(1);
    let hop = ((hop_s * rate).round() as usize).max(1);
    let starts = window_starts(samples.len(), window, hop);
    let levels: Vec<f64> = starts
        .iter()
        .map(|&s| rms_dbfs(&samples[s..(s + window).min(samples.len())]))
        .collect();
    let loudest = levels.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let mut windows = Vec::with_capacity(starts.len());
    let mut inputs = Vec::new();
    for (&start, &level) in starts.iter().zip(&levels) {
        let end = (start + window).min(samples.len());
        let silent = level < SILENCE_FLOOR_DBFS
            || (starts.len() > 1 && level < loudest - SILENCE_RELATIVE_DB);
        if !silent {
            inputs.push(model.features(&samples[start..end])?);
        }
        windows.push(WindowPrediction {
            start_s: start as f64 / rate,
            end_s: end as f64 / rate,
            level_dbfs: level,
            probabilities: (!silent).then(Vec::new),
        });
    }
    let mut probs = model.predict_features(&inputs)?.into_iter();
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
        duration_s: samples.len() as f64 / rate,
        probabilities,
        windows,
    })
}

/// One line of the live stream output for the window ending at `end_s`.
pub fn window_line(
    model: &mut Model,
    samples: &[f32],
    end_s: f64,
    names: &[&str],
    json: bool,
) -> Result<String> {
    let level = rms_dbfs(samples);
    let probabilities = if level < SILENCE_FLOOR_DBFS {
        None
    } else {
        Some(model.predict_samples(samples)?)
    };
    let label = label_of(probabilities.as_deref(), names);
    let start_s = end_s - samples.len() as f64 / f64::from(model.sample_rate_hz());
    if json {
        let probs = match &probabilities {
            None => serde_json::Value::Null,
            Some(p) => names
                .iter()
                .zip(p)
                .map(|(n, v)| ((*n).to_owned(), serde_json::json!(v)))
                .collect(),
        };
        return Ok(serde_json::json!({"start_s": start_s, "end_s": end_s, "label": label, "probabilities": probs}).to_string());
    }
    let detail = match &probabilities {
        None => String::new(),
        Some(p) => names
            .iter()
            .zip(p)
            .map(|(n, v)| format!("{n} {:.0}%", v * 100.0))
            .collect::<Vec<_>>()
            .join("  "),
    };
    Ok(format!(
        "{start_s:7.2}-{end_s:<7.2} s  {label:<10} {detail}"
    ))
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
