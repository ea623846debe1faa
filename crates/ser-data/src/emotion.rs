//! The shared label space: eight emotions in RAVDESS code order, speaker gender, and the
//! [`LabelMap`] saved with every model.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::DataError;

/// One of the eight RAVDESS emotions, in RAVDESS code order (neutral = code 01 = class 0, ...,
/// surprised = code 08 = class 7).
///
/// Every corpus maps its own labels onto this enum; labels without a counterpart (EmoDB's
/// boredom) are left out of the corpus and counted as skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Emotion {
    /// RAVDESS code 01.
    Neutral,
    /// RAVDESS code 02.
    Calm,
    /// RAVDESS code 03.
    Happy,
    /// RAVDESS code 04.
    Sad,
    /// RAVDESS code 05.
    Angry,
    /// RAVDESS code 06.
    Fearful,
    /// RAVDESS code 07.
    Disgust,
    /// RAVDESS code 08.
    Surprised,
}

impl Emotion {
    /// Number of emotions (classes) in the shared label space.
    pub const COUNT: usize = 8;

    /// All emotions in class-index (RAVDESS code) order.
    pub const ALL: [Emotion; Emotion::COUNT] = [
        Emotion::Neutral,
        Emotion::Calm,
        Emotion::Happy,
        Emotion::Sad,
        Emotion::Angry,
        Emotion::Fearful,
        Emotion::Disgust,
        Emotion::Surprised,
    ];

    /// Lowercase name, as used by `Display`, `FromStr` and serde.
    pub fn name(self) -> &'static str {
        match self {
            Emotion::Neutral => "neutral",
            Emotion::Calm => "calm",
            Emotion::Happy => "happy",
            Emotion::Sad => "sad",
            Emotion::Angry => "angry",
            Emotion::Fearful => "fearful",
            Emotion::Disgust => "disgust",
            Emotion::Surprised => "surprised",
        }
    }

    /// Class index 0..8 (RAVDESS code minus one).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The emotion with class index `index`, if `index < 8`.
    pub fn from_index(index: usize) -> Option<Emotion> {
        Emotion::ALL.get(index).copied()
    }

    /// The emotion with RAVDESS code `code` (1..=8).
    pub fn from_ravdess_code(code: u8) -> Option<Emotion> {
        usize::from(code)
            .checked_sub(1)
            .and_then(Emotion::from_index)
    }

    /// RAVDESS code 1..=8.
    pub fn ravdess_code(self) -> u8 {
        // At most 8: the enum has eight variants.
        self as u8 + 1
    }
}

impl fmt::Display for Emotion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for Emotion {
    type Err = DataError;

    /// Parses a lowercase name (`"angry"`); ASCII case is ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Emotion::ALL
            .into_iter()
            .find(|e| e.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| DataError::UnknownEmotion { name: s.to_owned() })
    }
}

/// Speaker gender as published with each corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    /// Male speaker.
    Male,
    /// Female speaker.
    Female,
}

impl Gender {
    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Gender::Male => "male",
            Gender::Female => "female",
        }
    }
}

impl fmt::Display for Gender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// The mapping between a model's output indices and emotions; saved with every model so that
/// a model trained on a subset of emotions (cross-corpus) still names its outputs correctly.
///
/// Serialises as the ordered list of emotion names, e.g. `["neutral","calm",...]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Emotion>", into = "Vec<Emotion>")]
pub struct LabelMap {
    classes: Vec<Emotion>,
}

impl LabelMap {
    /// All eight emotions, output index = [`Emotion::index`].
    pub fn all() -> LabelMap {
        LabelMap {
            classes: Emotion::ALL.to_vec(),
        }
    }

    /// A map over `classes` in the given order; duplicates and an empty list are rejected.
    pub fn new(classes: Vec<Emotion>) -> Result<LabelMap, DataError> {
        if classes.is_empty() {
            return Err(DataError::InvalidLabelMap {
                reason: "no classes".to_owned(),
            });
        }
        for (i, e) in classes.iter().enumerate() {
            if classes[..i].contains(e) {
                return Err(DataError::InvalidLabelMap {
                    reason: format!("emotion `{e}` listed twice"),
                });
            }
        }
        Ok(LabelMap { classes })
    }

    /// Number of output classes.
    pub fn len(&self) -> usize {
        self.classes.len()
    }

    /// Always false: a label map has at least one class.
    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    /// The emotions in output-index order.
    pub fn classes(&self) -> &[Emotion] {
        &self.classes
    }

    /// Output index of `emotion`, if the map contains it.
    pub fn index_of(&self, emotion: Emotion) -> Option<usize> {
        self.classes.iter().position(|&e| e == emotion)
    }

    /// Emotion at output index `index`.
    pub fn emotion_at(&self, index: usize) -> Option<Emotion> {
        self.classes.get(index).copied()
    }

    /// Lowercase class names in output-index order (for reports and plots).
    pub fn names(&self) -> Vec<&'static str> {
        self.classes.iter().map(|e| e.name()).collect()
    }
}

impl Default for LabelMap {
    fn default() -> Self {
        LabelMap::all()
    }
}

impl TryFrom<Vec<Emotion>> for LabelMap {
    type Error = DataError;

    fn try_from(classes: Vec<Emotion>) -> Result<Self, Self::Error> {
        LabelMap::new(classes)
    }
}

impl From<LabelMap> for Vec<Emotion> {
    fn from(map: LabelMap) -> Self {
        map.classes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ravdess_code_order_and_names_round_trip() {
        for (i, e) in Emotion::ALL.into_iter().enumerate() {
            assert_eq!(e.index(), i);
            assert_eq!(usize::from(e.ravdess_code()), i + 1);
            assert_eq!(Emotion::from_ravdess_code(e.ravdess_code()), Some(e));
            assert_eq!(e.to_string().parse::<Emotion>().expect("parse"), e);
        }
        assert_eq!(Emotion::from_ravdess_code(0), None);
        assert_eq!(Emotion::from_ravdess_code(9), None);
        assert_eq!(Emotion::Neutral.index(), 0);
        assert_eq!(Emotion::Surprised.index(), 7);
        assert_eq!("Angry".parse::<Emotion>().expect("parse"), Emotion::Angry);
        assert!("boredom".parse::<Emotion>().is_err());
    }

    #[test]
    fn label_map_serde_and_validation() {
        let map = LabelMap::all();
        let json = serde_json::to_string(&map).expect("serialise");
        assert_eq!(
            json,
            r#"["neutral","calm","happy","sad","angry","fearful","disgust","surprised"]"#
        );
        let back: LabelMap = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, map);
        assert!(serde_json::from_str::<LabelMap>(r#"["sad","sad"]"#).is_err());
        assert!(serde_json::from_str::<LabelMap>("[]").is_err());
        let sub = LabelMap::new(vec![Emotion::Sad, Emotion::Angry]).expect("valid");
        assert_eq!(sub.index_of(Emotion::Angry), Some(1));
        assert_eq!(sub.index_of(Emotion::Calm), None);
        assert_eq!(sub.emotion_at(0), Some(Emotion::Sad));
    }
}
