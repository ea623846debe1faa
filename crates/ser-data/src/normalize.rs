//! Feature normalisation with statistics from the **training side** of a split only.

use serde::{Deserialize, Serialize};

use crate::dataset::Dataset;
use crate::error::DataError;
use crate::protocol::Split;

/// Standard deviations below this are treated as 1 (constant rows are only centred), as
/// scikit-learn's `StandardScaler` does for zero variance.
const MIN_STD: f64 = 1e-6;

/// How features are normalised.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NormalizationMode {
    /// Features are used as extracted.
    None,
    /// Each utterance's rows are standardised over its own frames (no stored statistics).
    PerUtterance,
    /// Each row is standardised with the mean and standard deviation of that row over all
    /// frames of all training utterances.
    #[default]
    Global,
}

impl std::str::FromStr for NormalizationMode {
    type Err = crate::DataError;

    /// `global`, `utterance` (also `per_utterance`, as serde writes it) or `none`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "global" => Ok(NormalizationMode::Global),
            "utterance" | "per_utterance" | "per-utterance" => Ok(NormalizationMode::PerUtterance),
            "none" => Ok(NormalizationMode::None),
            _ => Err(crate::DataError::UnknownNormalization { name: s.to_owned() }),
        }
    }
}

/// Per-row normalisation; saved with every model so that prediction normalises the same way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalizer {
    /// The mode.
    pub mode: NormalizationMode,
    /// Rows of the matrices it applies to.
    pub n_rows: usize,
    /// Per-row mean (global mode; empty otherwise).
    pub mean: Vec<f32>,
    /// Per-row standard deviation, floored (global mode; empty otherwise).
    pub std: Vec<f32>,
}

/// Mean and floored standard deviation (two-pass, in f64).
fn mean_std<'a>(values: impl Iterator<Item = &'a [f32]> + Clone) -> (f64, f64) {
    let (mut sum, mut n) = (0.0f64, 0usize);
    for chunk in values.clone() {
        sum += chunk.iter().map(|&x| f64::from(x)).sum::<f64>();
        n += chunk.len();
    }
    if n == 0 {
        return (0.0, 1.0);
    }
    let mean = sum / n as f64;
    let var = values
        .flat_map(|c| c.iter())
        .map(|&x| (f64::from(x) - mean).powi(2))
        .sum::<f64>()
        / n as f64;
    let std = var.sqrt();
    (mean, if std < MIN_STD { 1.0 } else { std })
}

impl Normalizer {
    /// Fits the normaliser on the **training utterances of `split`** only (validation and
    /// test utterances never influence the statistics).
    pub fn fit(
        mode: NormalizationMode,
        dataset: &Dataset,
        split: &Split,
    ) -> Result<Normalizer, DataError> {
        let n_rows = dataset.n_rows();
        let n_frames = dataset.n_frames();
        let (mut mean, mut std) = (Vec::new(), Vec::new());
        if mode == NormalizationMode::Global {
            let train: Vec<&[f32]> = split
                .train
                .iter()
                .map(|&i| dataset.features(i))
                .collect::<Result<_, _>>()?;
            for r in 0..n_rows {
                let rows = train.iter().map(|m| &m[r * n_frames..(r + 1) * n_frames]);
                let (m, s) = mean_std(rows);
                mean.push(m as f32);
                std.push(s as f32);
            }
        }
        Ok(Normalizer {
            mode,
            n_rows,
            mean,
            std,
        })
    }

    /// A normaliser that leaves features unchanged.
    pub fn identity(n_rows: usize) -> Normalizer {
        Normalizer {
            mode: NormalizationMode::None,
            n_rows,
            mean: Vec::new(),
            std: Vec::new(),
        }
    }

    /// Normalises one `n_rows x n_frames` row-major matrix in place.
    pub fn apply(&self, data: &mut [f32], n_frames: usize) -> Result<(), DataError> {
        let expected = self.n_rows * n_frames;
        let bad_stats = self.mode == NormalizationMode::Global
            && (self.mean.len() != self.n_rows || self.std.len() != self.n_rows);
        if data.len() != expected || bad_stats {
            return Err(DataError::ShapeMismatch {
                expected_rows: self.n_rows,
                expected_frames: n_frames,
                expected_len: expected,
                found_len: data.len(),
            });
        }
        if n_frames == 0 {
            return Ok(());
        }
        match self.mode {
            NormalizationMode::None => {}
            NormalizationMode::PerUtterance => {
                for row in data.chunks_exact_mut(n_frames) {
                    let (m, s) = mean_std(std::iter::once(&*row));
                    let (m, s) = (m as f32, s as f32);
                    row.iter_mut().for_each(|x| *x = (*x - m) / s);
                }
            }
            NormalizationMode::Global => {
                for (r, row) in data.chunks_exact_mut(n_frames).enumerate() {
                    let (m, s) = (self.mean[r], self.std[r]);
                    row.iter_mut().for_each(|x| *x = (*x - m) / s);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_names_parse() {
        for (name, mode) in [
            ("global", NormalizationMode::Global),
            ("utterance", NormalizationMode::PerUtterance),
            ("per_utterance", NormalizationMode::PerUtterance),
            ("None", NormalizationMode::None),
        ] {
            assert_eq!(name.parse::<NormalizationMode>().unwrap(), mode);
        }
        let e = "zscore".parse::<NormalizationMode>().unwrap_err();
        assert!(e.to_string().contains("`zscore`"), "{e}");
    }

    #[test]
    fn per_utterance_standardises_each_row() {
        let norm = Normalizer {
            mode: NormalizationMode::PerUtterance,
            n_rows: 2,
            mean: Vec::new(),
            std: Vec::new(),
        };
        let mut data = vec![1.0, 2.0, 3.0, 5.0, 5.0, 5.0];
        norm.apply(&mut data, 3).expect("apply");
        let s = (2.0f32 / 3.0).sqrt();
        let expected = [-1.0 / s, 0.0, 1.0 / s, 0.0, 0.0, 0.0];
        for (a, b) in data.iter().zip(expected) {
            assert!((a - b).abs() < 1e-5, "{data:?}");
        }
        assert!(norm.apply(&mut data, 4).is_err());
    }

    #[test]
    fn serde_round_trip() {
        let n = Normalizer {
            mode: NormalizationMode::Global,
            n_rows: 1,
            mean: vec![0.5],
            std: vec![2.0],
        };
        let json = serde_json::to_string(&n).expect("json");
        assert!(json.contains("\"global\""));
        let back: Normalizer = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, n);
        let mut d = vec![2.5, 0.5];
        back.apply(&mut d, 2).expect("apply");
        assert_eq!(d, [1.0, 0.0]);
    }
}
