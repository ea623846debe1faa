//! Speaker normalisation of utterance vectors.
//!
//! Each speaker's utterance vectors are standardised with that speaker's own mean and
//! population standard deviation per value, computed over unlabelled utterances of the
//! speaker. This removes much of what makes voices differ (pitch range, timbre, loudness,
//! recording channel) before the classifier sees them: the "speaker-level z-normalisation" of
//! speaker-independent emotion recognition (Busso, Mariooryad, Metallinou and Narayanan,
//! "Iterative feature normalization scheme for automatic emotion detection from speech",
//! IEEE Trans. Affective Computing 4(4), 2013; Schuller et al., "Acoustic emotion recognition:
//! a benchmark comparison of performances", ASRU 2009, speaker normalisation).
//!
//! It needs, at test time, several recordings of the test speaker (labels are not used), and
//! it works best when they span the speaker's emotional range: the statistics of a speaker
//! heard only while angry would call anger their neutral. RAVDESS gives every actor the same
//! balanced set of emotions, the most favourable case.

use std::collections::BTreeMap;

use crate::error::{ClassicError, Result};
use crate::standardize::Standardizer;

/// Fewest utterances from which a speaker's statistics are estimated.
pub const MIN_SPEAKER_UTTERANCES: usize = 10;

/// Per-speaker standardisers fitted on each speaker's utterance vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeakerNormalizer {
    by_speaker: BTreeMap<String, Standardizer>,
}

impl SpeakerNormalizer {
    /// Fits one standardiser per speaker on the vectors of that speaker (`speakers[i]` is the
    /// speaker of `vectors[i]`).
    ///
    /// # Errors
    /// [`ClassicError::LabelCountMismatch`] when the slices differ in length,
    /// [`ClassicError::TooFewSpeakerUtterances`] for a speaker with fewer than
    /// [`MIN_SPEAKER_UTTERANCES`] vectors, and the errors of [`Standardizer::fit`].
    pub fn fit<R: AsRef<[f32]>, S: AsRef<str>>(vectors: &[R], speakers: &[S]) -> Result<Self> {
        if vectors.len() != speakers.len() {
            return Err(ClassicError::LabelCountMismatch {
                n_samples: vectors.len(),
                n_labels: speakers.len(),
            });
        }
        let mut groups: BTreeMap<&str, Vec<&[f32]>> = BTreeMap::new();
        for (v, s) in vectors.iter().zip(speakers) {
            groups.entry(s.as_ref()).or_default().push(v.as_ref());
        }
        let mut by_speaker = BTreeMap::new();
        for (speaker, group) in groups {
            if group.len() < MIN_SPEAKER_UTTERANCES {
                return Err(ClassicError::TooFewSpeakerUtterances {
                    speaker: speaker.to_owned(),
                    n_utterances: group.len(),
                    min: MIN_SPEAKER_UTTERANCES,
                });
            }
            by_speaker.insert(speaker.to_owned(), Standardizer::fit(&group)?);
        }
        Ok(SpeakerNormalizer { by_speaker })
    }

    /// The standardiser of one speaker, if fitted.
    pub fn get(&self, speaker: &str) -> Option<&Standardizer> {
        self.by_speaker.get(speaker)
    }

    /// The vector normalised with its speaker's statistics.
    ///
    /// # Errors
    /// [`ClassicError::InvalidConfig`] for a speaker not fitted, and the errors of
    /// [`Standardizer::transform_one`].
    pub fn apply(&self, speaker: &str, vector: &[f32]) -> Result<Vec<f32>> {
        let standardizer = self
            .get(speaker)
            .ok_or_else(|| ClassicError::InvalidConfig {
                field: "speaker",
                value: speaker.to_owned(),
                reason: "no statistics were fitted for this speaker",
            })?;
        standardizer.transform_one(vector)
    }

    /// Fits on `vectors` and normalises them in place, each with its own speaker's statistics.
    ///
    /// # Errors
    /// As [`SpeakerNormalizer::fit`].
    pub fn normalize_in_place<S: AsRef<str>>(
        vectors: &mut [Vec<f32>],
        speakers: &[S],
    ) -> Result<Self> {
        let normalizer = SpeakerNormalizer::fit(vectors, speakers)?;
        for (v, s) in vectors.iter_mut().zip(speakers) {
            *v = normalizer.apply(s.as_ref(), v)?;
        }
        Ok(normalizer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_speaker_gets_zero_mean_unit_variance() {
        // Speaker "a" lives around 100 with spread 10, speaker "b" around -3 with spread 0.5.
        let mut vectors: Vec<Vec<f32>> = Vec::new();
        let mut speakers = Vec::new();
        for i in 0..12 {
            let t = i as f32 - 5.5;
            vectors.push(vec![100.0 + 10.0 * t, 1.0]);
            speakers.push("a");
            vectors.push(vec![-3.0 + 0.5 * t, 2.0]);
            speakers.push("b");
        }
        SpeakerNormalizer::normalize_in_place(&mut vectors, &speakers).unwrap();
        for speaker in ["a", "b"] {
            let own: Vec<&Vec<f32>> = vectors
                .iter()
                .zip(&speakers)
                .filter(|(_, s)| **s == speaker)
                .map(|(v, _)| v)
                .collect();
            let mean = own.iter().map(|v| f64::from(v[0])).sum::<f64>() / own.len() as f64;
            let var = own
                .iter()
                .map(|v| (f64::from(v[0]) - mean).powi(2))
                .sum::<f64>()
                / own.len() as f64;
            assert!(mean.abs() < 1e-5, "{speaker}: mean {mean}");
            assert!((var - 1.0).abs() < 1e-4, "{speaker}: variance {var}");
            // A constant value is centred, not divided by zero.
            assert!(own.iter().all(|v| v[1] == 0.0));
        }
        // The two speakers' utterances at the same relative position now coincide.
        assert!((vectors[0][0] - vectors[1][0]).abs() < 1e-5);
    }

    #[test]
    fn too_few_utterances_name_the_speaker() {
        let vectors = vec![vec![1.0_f32]; 9];
        let speakers = vec!["actor-07"; 9];
        match SpeakerNormalizer::fit(&vectors, &speakers) {
            Err(ClassicError::TooFewSpeakerUtterances {
                speaker,
                n_utterances: 9,
                min: MIN_SPEAKER_UTTERANCES,
            }) => assert_eq!(speaker, "actor-07"),
            other => panic!("{other:?}"),
        }
        let fitted = SpeakerNormalizer::fit(&vec![vec![1.0_f32]; 10], &["x"; 10]).unwrap();
        assert!(fitted.apply("y", &[1.0]).is_err());
        assert!(SpeakerNormalizer::fit(&vectors, &speakers[..3]).is_err());
    }
}
