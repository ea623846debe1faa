//! The speech-emotion feature stack of the original project, numerically equal to librosa 0.11.
//!
//! For each frame: 40 MFCC, their delta and delta-delta, 40 mel bands in dB, 12 chroma, the
//! zero-crossing rate and the RMS energy: 174 rows, then padded or cropped to a fixed number of
//! frames. The librosa calls reproduced (with each preset's `n_fft`, `hop_length`, `win_length`):
//!
//! ```python
//! mfcc   = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=40, n_mels=mfcc_n_mels)
//! d1, d2 = librosa.feature.delta(mfcc), librosa.feature.delta(mfcc, order=2)
//! mel_db = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr, n_mels=40), ref=np.max)
//! chroma = librosa.feature.chroma_stft(y=y, sr=sr)
//! zcr    = librosa.feature.zero_crossing_rate(y, frame_length=n_fft, hop_length=hop)
//! rms    = librosa.feature.rms(y=y, frame_length=n_fft, hop_length=hop)
//! ```
//!
//! including librosa's defaults that bite: periodic Hann window, centred frames with zero
//! padding, Slaney mel scale with area normalisation, DCT-II ortho, `power_to_db` with
//! `amin=1e-10` and `top_db=80`, Savitzky-Golay deltas (width 9, `interp` edges), chroma with
//! tuning estimation, ZCR with edge padding and RMS with zero padding. Each module cites the
//! function it follows; `tests/golden.rs` checks the whole stack against fixtures made by
//! librosa (`cargo xtask golden` regenerates them).
//!
//! One STFT feeds the MFCC, mel and chroma stages (librosa computes it three times).
//!
//! Opt-in pitch rows ([`FeatureConfig::pitch`], the feature sets `full-pitch`, `mfcc-pitch`,
//! `pitch`) add log-F0, voicing and ΔF0 by pYIN ([`Pyin`], equal to `librosa.pyin`).
//! Opt-in voice rows ([`FeatureConfig::voice`], the feature sets `full-egemaps`, `egemaps`)
//! add eGeMAPS v02 descriptors ([`VoiceAnalyzer`]: loudness, alpha ratio, Hammarberg index,
//! spectral slopes, HNR, jitter, shimmer; formants F1-F3 with bandwidths by linear prediction,
//! [`FormantEstimator`]), checked against openSMILE in `tests/egemaps.rs`.
//!
//! The crate does no I/O and does not depend on any deep-learning framework: it takes samples
//! at the analysis rate (see `ser-audio` for decoding and resampling) and returns a matrix.
//!
//! ```
//! use ser_features::{FeatureConfig, FeatureExtractor};
//! let config = FeatureConfig::seed();
//! let mut extractor = FeatureExtractor::new(&config)?;
//! let tone: Vec<f32> = (0..22_050).map(|i| (i as f32 * 0.1).sin() * 0.5).collect();
//! let features = extractor.extract(&tone)?;
//! assert_eq!((features.n_rows, features.n_frames), (174, 128));
//! # Ok::<(), ser_features::FeatureError>(())
//! ```

mod chroma;
mod condition;
mod config;
mod delta;
mod error;
mod extractor;
mod formant;
mod frame;
mod mel;
mod pitch;
mod simd;
mod stft;
mod voice;

pub use chroma::{Chroma, chroma_filterbank};
pub use condition::{
    Activity, DEFAULT_BAND_HZ, DEFAULT_LEVEL_DBFS, FrontEndConfig, Vad, VadConfig, level_gain,
};
pub use config::{
    DELTA_WIDTH, FeatureConfig, FeatureLayout, FeatureSet, N_CHROMA, N_PITCH_ROWS, PitchRowsConfig,
};
pub use delta::SavGol;
pub use error::FeatureError;
pub use extractor::FeatureExtractor;
pub use formant::{
    FORMANT_ROW_NAMES, FormantEstimator, Formants, N_FORMANT_ROWS, levinson, polynomial_roots,
};
pub use frame::{rms, zero_crossing_rate};
pub use mel::{DctII, MelFilterbank, hz_to_mel, mel_to_hz, power_to_db_in_place};
pub use pitch::{C2_HZ, C7_HZ, PitchTrack, Pyin, PyinConfig};
pub use stft::{StftPlan, hann_periodic_padded};
pub use voice::{N_VOICE_ROWS, VOICE_ROW_NAMES, VoiceAnalyzer, VoiceFrame, VoiceRowsConfig};

use serde::{Deserialize, Serialize};

/// The version of the extraction's numerics: bumped by any change that moves an output value
/// (not by speed-ups that keep every bit). Feature caches key on it, so a cache written by an
/// earlier extractor is recomputed rather than trusted.
pub const NUMERICS_VERSION: u32 = 1;

/// A feature matrix.
///
/// # Shapes
/// `n_rows x n_frames`, row-major: `data[row * n_frames + frame]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureMatrix {
    /// Number of feature rows (174 with the presets).
    pub n_rows: usize,
    /// Number of frames.
    pub n_frames: usize,
    /// The values, row-major.
    pub data: Vec<f32>,
}

impl FeatureMatrix {
    /// A matrix of zeros.
    pub fn zeros(n_rows: usize, n_frames: usize) -> Self {
        Self {
            n_rows,
            n_frames,
            data: vec![0.0; n_rows * n_frames],
        }
    }

    /// One row.
    pub fn row(&self, row: usize) -> &[f32] {
        &self.data[row * self.n_frames..(row + 1) * self.n_frames]
    }

    /// The matrix with exactly `n_frames` frames: extra frames cropped from the end, missing ones
    /// padded with zeros on the right (`np.pad(..., mode="constant")` / `x[:, :n_frames]`).
    pub fn fit_frames(self, n_frames: usize) -> Self {
        if n_frames == self.n_frames {
            return self;
        }
        let mut out = Self::zeros(self.n_rows, n_frames);
        let keep = n_frames.min(self.n_frames);
        for r in 0..self.n_rows {
            out.data[r * n_frames..r * n_frames + keep].copy_from_slice(&self.row(r)[..keep]);
        }
        out
    }

    /// A new matrix with only the given rows, in that order.
    pub fn select_rows(&self, rows: &[usize]) -> Self {
        let mut data = Vec::with_capacity(rows.len() * self.n_frames);
        for &r in rows {
            data.extend_from_slice(self.row(r));
        }
        Self {
            n_rows: rows.len(),
            n_frames: self.n_frames,
            data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_frames_pads_and_crops() {
        let m = FeatureMatrix {
            n_rows: 2,
            n_frames: 3,
            data: vec![1., 2., 3., 4., 5., 6.],
        };
        assert_eq!(m.clone().fit_frames(2).data, vec![1., 2., 4., 5.]);
        assert_eq!(
            m.clone().fit_frames(4).data,
            vec![1., 2., 3., 0., 4., 5., 6., 0.]
        );
        assert_eq!(m.select_rows(&[1]).data, vec![4., 5., 6.]);
    }
}
