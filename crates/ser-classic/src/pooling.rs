//! Utterance-level statistics of frame features: the fixed-length vectors the classical models
//! see.
//!
//! A feature matrix (`n_rows x n_frames`, row-major, see [`ser_features::FeatureMatrix`]) is
//! reduced to one vector per utterance: the mean of each chosen row over the frames
//! ([`Pooling::Mean`], the original project's `np.mean(mfcc.T, axis=0)`), or its mean and
//! standard deviation ([`Pooling::MeanStd`]).
//!
//! # Padding
//! The feature layer pads short utterances with zero frames on the right up to a fixed frame
//! count. Those zeros are not speech: they pull every mean towards 0 and inflate every standard
//! deviation, by an amount that depends on the utterance's length. So the statistics are taken
//! over the *valid* frames only:
//! - when the caller knows the count (the frames that came from the signal), it passes it;
//! - otherwise [`Padding::TrimTrailingZeros`] (the default) treats the trailing frames whose
//!   every row is exactly `0.0` as padding. No frame computed from a signal is all zero: its
//!   mel-dB rows are relative to the utterance's loudest band (0 dB there only, down to
//!   -80 dB elsewhere, digital silence included), so the rule is exact for full matrices made
//!   by `ser-features`, whichever rows are then pooled. The data layer (`ser-data`) stores
//!   fixed-size matrices without the count, which is why this rule exists;
//! - [`Padding::Include`] keeps every frame, as a plain mean over a padded matrix would.
//!
//! Utterances longer than the fixed frame count were cropped by the feature layer: their
//! statistics describe the first `n_frames` frames only (3 s with either preset).

use ser_features::{FeatureConfig, FeatureMatrix, FeatureSet};
use serde::{Deserialize, Serialize};

use crate::error::{ClassicError, Result};

impl std::fmt::Display for Pooling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

impl std::str::FromStr for Pooling {
    type Err = ClassicError;

    /// Parses `mean`, `mean-std` and `stats`.
    fn from_str(s: &str) -> Result<Self> {
        Pooling::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| ClassicError::InvalidConfig {
                field: "pooling",
                value: s.to_owned(),
                reason: "must be mean, mean-std or stats",
            })
    }
}

/// How the frames of each row are summarised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pooling {
    /// The mean of each row: one value per row (40 for the MFCC rows, the original's input).
    #[default]
    Mean,
    /// The mean of each row, then the population standard deviation of each row (`ddof = 0`):
    /// two values per row (348 for the 174 rows), all means first.
    MeanStd,
    /// Nine functionals per row, each statistic for every row before the next (1566 values for
    /// the 174 rows): mean, population standard deviation, minimum, maximum, the 10th, 50th and
    /// 90th percentiles (linear interpolation between order statistics, as `numpy.percentile`),
    /// skewness and excess kurtosis (the biased moment estimators `m3 / m2^1.5` and
    /// `m4 / m2^2 - 3`, as `scipy.stats.skew` and `scipy.stats.kurtosis` with their defaults;
    /// 0 for a constant row, where SciPy gives NaN). The contour functionals of openSMILE-style
    /// feature sets, on our frame features.
    Stats,
}

impl Pooling {
    /// Every pooling, in documentation order.
    pub const ALL: [Pooling; 3] = [Pooling::Mean, Pooling::MeanStd, Pooling::Stats];

    /// Statistics per row of [`Pooling::Stats`].
    pub const N_STATS: usize = 9;

    /// Kebab-case name (`mean`, `mean-std`), as used by serde and [`std::str::FromStr`].
    pub fn name(self) -> &'static str {
        match self {
            Pooling::Mean => "mean",
            Pooling::MeanStd => "mean-std",
            Pooling::Stats => "stats",
        }
    }

    /// Values per utterance for `n_rows` pooled rows.
    pub fn n_outputs(self, n_rows: usize) -> usize {
        match self {
            Pooling::Mean => n_rows,
            Pooling::MeanStd => 2 * n_rows,
            Pooling::Stats => Self::N_STATS * n_rows,
        }
    }

    /// Pools `rows` of a row-major `n_rows x n_frames` matrix over its first `valid_frames`
    /// frames.
    ///
    /// # Errors
    /// [`ClassicError::MatrixShape`] when `data` does not hold `n_rows * n_frames` values,
    /// [`ClassicError::RowOutOfRange`] for a row index `>= n_rows`, and
    /// [`ClassicError::ValidFrames`] unless `1 <= valid_frames <= n_frames`.
    pub fn pool(
        self,
        data: &[f32],
        n_rows: usize,
        n_frames: usize,
        rows: &[usize],
        valid_frames: usize,
    ) -> Result<Vec<f32>> {
        check_shape(data, n_rows, n_frames)?;
        if valid_frames == 0 || valid_frames > n_frames {
            return Err(ClassicError::ValidFrames {
                valid_frames,
                n_frames,
            });
        }
        if let Some(&row) = rows.iter().find(|&&r| r >= n_rows) {
            return Err(ClassicError::RowOutOfRange { row, n_rows });
        }
        let n = valid_frames as f64;
        let n_stats = match self {
            Pooling::Mean => 1,
            Pooling::MeanStd => 2,
            Pooling::Stats => Self::N_STATS,
        };
        // out[k * rows.len() + j]: statistic k of row j.
        let mut out = vec![0.0_f32; n_stats * rows.len()];
        let mut sorted = Vec::new();
        for (j, &r) in rows.iter().enumerate() {
            let frames = &data[r * n_frames..r * n_frames + valid_frames];
            let mean = frames.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
            out[j] = mean as f32;
            if self == Pooling::Mean {
                continue;
            }
            let central = |power: i32| {
                frames
                    .iter()
                    .map(|&v| (f64::from(v) - mean).powi(power))
                    .sum::<f64>()
                    / n
            };
            let m2 = central(2);
            out[rows.len() + j] = m2.sqrt() as f32;
            if self == Pooling::MeanStd {
                continue;
            }
            sorted.clear();
            sorted.extend_from_slice(frames);
            sorted.sort_unstable_by(f32::total_cmp);
            let (skew, kurtosis) = if m2 > 0.0 {
                (central(3) / m2.powf(1.5), central(4) / (m2 * m2) - 3.0)
            } else {
                (0.0, 0.0)
            };
            let stats = [
                sorted[0],
                sorted[sorted.len() - 1],
                percentile(&sorted, 10.0),
                percentile(&sorted, 50.0),
                percentile(&sorted, 90.0),
                skew as f32,
                kurtosis as f32,
            ];
            for (k, value) in stats.into_iter().enumerate() {
                out[(k + 2) * rows.len() + j] = value;
            }
        }
        Ok(out)
    }
}

/// The `q`-th percentile (0..=100) of ascending `sorted` values, interpolating linearly
/// between the two nearest order statistics (`numpy.percentile`'s default `method="linear"`:
/// position `q / 100 * (n - 1)`).
fn percentile(sorted: &[f32], q: f64) -> f32 {
    let position = q / 100.0 * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    let fraction = position - below as f64;
    let low = f64::from(sorted[below]);
    (low + fraction * (f64::from(sorted[above]) - low)) as f32
}

/// Which frames count when the caller does not give the number of valid frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Padding {
    /// Trailing frames whose every row is exactly `0.0` are padding and left out (see the
    /// module documentation for why this is exact for `ser-features` matrices).
    #[default]
    TrimTrailingZeros,
    /// Every frame counts, padding included.
    Include,
}

/// Number of trailing frames of a row-major `n_rows x n_frames` matrix whose every row is
/// exactly zero (the right-hand zero padding of a fixed-size matrix).
///
/// # Errors
/// [`ClassicError::MatrixShape`] when `data` does not hold `n_rows * n_frames` values.
pub fn trailing_zero_frames(data: &[f32], n_rows: usize, n_frames: usize) -> Result<usize> {
    check_shape(data, n_rows, n_frames)?;
    let is_zero = |frame: usize| (0..n_rows).all(|r| data[r * n_frames + frame] == 0.0);
    Ok((0..n_frames).rev().take_while(|&f| is_zero(f)).count())
}

fn check_shape(data: &[f32], n_rows: usize, n_frames: usize) -> Result<()> {
    let expected = n_rows.saturating_mul(n_frames);
    if data.len() != expected {
        return Err(ClassicError::MatrixShape {
            n_rows,
            n_frames,
            len: data.len(),
            expected,
        });
    }
    Ok(())
}

/// Everything that turns an utterance's feature matrix into the model's input vector: how the
/// matrix was extracted, which rows are used, how they are pooled and what counts as padding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureSpec {
    /// The extraction parameters of the matrices (a model must be fed matrices made with
    /// these).
    pub extraction: FeatureConfig,
    /// The rows pooled.
    pub feature_set: FeatureSet,
    /// The statistics taken.
    pub pooling: Pooling,
    /// What counts as padding when the number of valid frames is not given.
    pub padding: Padding,
}

impl FeatureSpec {
    /// The original project's classical input: the mean of the 40 MFCCs with the seed preset.
    pub fn original() -> FeatureSpec {
        FeatureSpec {
            extraction: FeatureConfig::seed(),
            feature_set: FeatureSet::Mfcc,
            pooling: Pooling::Mean,
            padding: Padding::default(),
        }
    }

    /// A specification with the default padding rule.
    pub fn new(extraction: FeatureConfig, feature_set: FeatureSet, pooling: Pooling) -> Self {
        FeatureSpec {
            extraction,
            feature_set,
            pooling,
            padding: Padding::default(),
        }
    }

    /// Rows of a full matrix.
    pub fn n_matrix_rows(&self) -> usize {
        self.extraction.layout().n_rows
    }

    /// The row indices pooled.
    pub fn rows(&self) -> Vec<usize> {
        self.extraction.layout().rows(self.feature_set)
    }

    /// Length of the utterance vector.
    pub fn n_features(&self) -> usize {
        self.pooling.n_outputs(self.rows().len())
    }

    /// The utterance vector of a full feature matrix (all [`FeatureSpec::n_matrix_rows`] rows,
    /// any number of frames), row-major in `data`.
    ///
    /// `valid_frames` is the number of leading frames that came from the signal, when known;
    /// otherwise [`FeatureSpec::padding`] decides.
    ///
    /// # Errors
    /// [`ClassicError::MatrixShape`] when `data.len()` is not a multiple of the row count,
    /// [`ClassicError::ValidFrames`] for a count outside `1..=n_frames`, an empty matrix or one
    /// that is padding only.
    pub fn pool_slice(&self, data: &[f32], valid_frames: Option<usize>) -> Result<Vec<f32>> {
        let n_rows = self.n_matrix_rows();
        let n_frames = data.len() / n_rows.max(1);
        check_shape(data, n_rows, n_frames)?;
        let valid = match (valid_frames, self.padding) {
            (Some(v), _) => v,
            (None, Padding::Include) => n_frames,
            (None, Padding::TrimTrailingZeros) => {
                n_frames - trailing_zero_frames(data, n_rows, n_frames)?
            }
        };
        self.pooling
            .pool(data, n_rows, n_frames, &self.rows(), valid)
    }

    /// [`FeatureSpec::pool_slice`] of a [`FeatureMatrix`], after checking its row count.
    ///
    /// # Errors
    /// As [`FeatureSpec::pool_slice`]; [`ClassicError::MatrixShape`] also when the matrix does
    /// not have [`FeatureSpec::n_matrix_rows`] rows.
    pub fn pool_matrix(
        &self,
        matrix: &FeatureMatrix,
        valid_frames: Option<usize>,
    ) -> Result<Vec<f32>> {
        let expected_rows = self.n_matrix_rows();
        if matrix.n_rows != expected_rows || matrix.data.len() != matrix.n_rows * matrix.n_frames {
            return Err(ClassicError::MatrixShape {
                n_rows: matrix.n_rows,
                n_frames: matrix.n_frames,
                len: matrix.data.len(),
                expected: expected_rows * matrix.n_frames,
            });
        }
        self.pool_slice(&matrix.data, valid_frames)
    }
}

impl Default for FeatureSpec {
    /// The project default extraction ([`FeatureConfig::speech16k`]), MFCC rows, mean.
    fn default() -> Self {
        FeatureSpec::new(
            FeatureConfig::project_default(),
            FeatureSet::Mfcc,
            Pooling::Mean,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2 rows x 4 frames: row 0 = 1, 2, 3, 0; row 1 = 4, 4, 4, 0 (last frame is padding).
    const M: [f32; 8] = [1.0, 2.0, 3.0, 0.0, 4.0, 4.0, 4.0, 0.0];

    #[test]
    fn poolings_parse_and_print() {
        for p in Pooling::ALL {
            assert_eq!(p.to_string().parse::<Pooling>().unwrap(), p);
        }
        assert!("median".parse::<Pooling>().is_err());
    }

    #[test]
    fn mean_and_std_over_valid_frames() {
        let mean = Pooling::Mean.pool(&M, 2, 4, &[0, 1], 3).unwrap();
        assert_eq!(mean, vec![2.0, 4.0]);
        let ms = Pooling::MeanStd.pool(&M, 2, 4, &[1, 0], 3).unwrap();
        let std0 = (2.0f64 / 3.0).sqrt() as f32;
        assert_eq!(ms, vec![4.0, 2.0, 0.0, std0]);
        let all = Pooling::Mean.pool(&M, 2, 4, &[0], 4).unwrap();
        assert_eq!(all, vec![1.5]);
    }

    /// Reference values from NumPy / SciPy for the row
    /// `[3, -1, 4, 1, -5, 9, 2, 6, 5, 3]`:
    /// `np.mean, np.std, np.min, np.max, np.percentile(x, [10, 50, 90]), scipy.stats.skew(x),
    /// scipy.stats.kurtosis(x)`.
    #[test]
    fn stats_match_numpy_and_scipy() {
        let row = [3.0_f32, -1.0, 4.0, 1.0, -5.0, 9.0, 2.0, 6.0, 5.0, 3.0];
        // A second, constant row (skewness and kurtosis 0) and two padding frames.
        let mut data = row.to_vec();
        data.extend([0.0, 0.0]);
        data.extend([7.0_f32; 10]);
        data.extend([0.0, 0.0]);
        let v = Pooling::Stats.pool(&data, 2, 12, &[0, 1], 10).unwrap();
        assert_eq!(v.len(), 18);
        let expected_row0 = [
            2.7,
            3.661966684720111,
            -5.0,
            9.0,
            -1.4,
            3.0,
            6.3,
            -0.4317920368552261,
            0.0229185538856278,
        ];
        for (k, want) in expected_row0.iter().enumerate() {
            let got = f64::from(v[2 * k]);
            assert!((got - want).abs() < 1e-5, "statistic {k}: {got} vs {want}");
        }
        let row1: Vec<f32> = (0..9).map(|k| v[2 * k + 1]).collect();
        assert_eq!(row1, vec![7.0, 0.0, 7.0, 7.0, 7.0, 7.0, 7.0, 0.0, 0.0]);
        // The first two statistics are exactly mean-std's.
        let ms = Pooling::MeanStd.pool(&data, 2, 12, &[0, 1], 10).unwrap();
        assert_eq!(&v[..4], ms.as_slice());
    }

    #[test]
    fn percentiles_interpolate_like_numpy() {
        assert_eq!(percentile(&[5.0], 90.0), 5.0);
        assert_eq!(percentile(&[1.0, 2.0], 50.0), 1.5);
        assert!((percentile(&[0.0, 10.0, 20.0, 30.0], 10.0) - 3.0).abs() < 1e-6);
        assert_eq!(percentile(&[0.0, 10.0, 20.0, 30.0], 100.0), 30.0);
    }

    #[test]
    fn shapes_and_errors() {
        assert_eq!(Pooling::Stats.n_outputs(174), 1566);
        assert_eq!(Pooling::Mean.n_outputs(174), 174);
        assert_eq!(Pooling::MeanStd.n_outputs(174), 348);
        assert!(matches!(
            Pooling::Mean.pool(&M, 2, 3, &[0], 1),
            Err(ClassicError::MatrixShape {
                len: 8,
                expected: 6,
                ..
            })
        ));
        assert!(matches!(
            Pooling::Mean.pool(&M, 2, 4, &[2], 1),
            Err(ClassicError::RowOutOfRange { row: 2, n_rows: 2 })
        ));
        for bad in [0, 5] {
            assert!(matches!(
                Pooling::Mean.pool(&M, 2, 4, &[0], bad),
                Err(ClassicError::ValidFrames { n_frames: 4, .. })
            ));
        }
    }

    #[test]
    fn trailing_zeros_are_detected() {
        assert_eq!(trailing_zero_frames(&M, 2, 4).unwrap(), 1);
        // A zero inside the signal is not padding: only trailing all-zero frames count.
        let inner = [0.0, 1.0, 0.0, 0.0, 2.0, 0.0];
        assert_eq!(trailing_zero_frames(&inner, 2, 3).unwrap(), 1);
        assert_eq!(trailing_zero_frames(&[0.0; 6], 2, 3).unwrap(), 3);
        assert_eq!(trailing_zero_frames(&[1.0; 6], 2, 3).unwrap(), 0);
    }

    #[test]
    fn spec_pools_a_full_matrix() {
        let spec = FeatureSpec::original();
        let layout = spec.extraction.layout();
        assert_eq!(spec.n_features(), 40);
        let n_frames = 10;
        let mut m = FeatureMatrix::zeros(layout.n_rows, n_frames);
        for r in 0..layout.n_rows {
            for f in 0..7 {
                m.data[r * n_frames + f] = r as f32 + 1.0;
            }
        }
        // Trailing 3 zero frames are trimmed: every mean is exactly r + 1.
        let v = spec.pool_matrix(&m, None).unwrap();
        assert_eq!(v, (1..=40).map(|r| r as f32).collect::<Vec<_>>());
        // Explicit count wins over the rule.
        let v = spec.pool_matrix(&m, Some(10)).unwrap();
        assert!((v[0] - 0.7).abs() < 1e-6);
        let include = FeatureSpec {
            padding: Padding::Include,
            ..spec.clone()
        };
        assert!((include.pool_matrix(&m, None).unwrap()[0] - 0.7).abs() < 1e-6);
        let full = FeatureSpec::new(FeatureConfig::seed(), FeatureSet::Full, Pooling::MeanStd);
        assert_eq!(full.n_features(), 348);
        assert_eq!(full.pool_matrix(&m, None).unwrap().len(), 348);
        // Padding only: no valid frame.
        let zeros = FeatureMatrix::zeros(layout.n_rows, n_frames);
        assert!(matches!(
            spec.pool_matrix(&zeros, None),
            Err(ClassicError::ValidFrames {
                valid_frames: 0,
                n_frames: 10
            })
        ));
        // Wrong row count.
        let small = FeatureMatrix::zeros(40, n_frames);
        assert!(matches!(
            spec.pool_matrix(&small, None),
            Err(ClassicError::MatrixShape { n_rows: 40, .. })
        ));
    }
}
