//! Berlin EmoDB file names: `SSTNNEV.wav` (e.g. `03a01Fa.wav`).

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::NameError;
use crate::emotion::{Emotion, Gender};

/// The naming pattern, for error messages.
pub const PATTERN: &str = "EmoDB `SSTNNEV.wav`: speaker 2 digits, text letter + 2 digits, emotion letter W/L/E/A/F/T/N, version letter (e.g. `03a01Fa.wav`, in `wav/`)";

/// The ten EmoDB speakers and their published genders.
pub const SPEAKERS: [(u8, Gender); 10] = [
    (3, Gender::Male),
    (8, Gender::Female),
    (9, Gender::Female),
    (10, Gender::Male),
    (11, Gender::Male),
    (12, Gender::Male),
    (13, Gender::Female),
    (14, Gender::Female),
    (15, Gender::Male),
    (16, Gender::Female),
];

/// An EmoDB emotion label (German initial letters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmoDbLabel {
    /// `W` (Wut): anger.
    Anger,
    /// `L` (Langeweile): boredom; has no counterpart in the shared label space.
    Boredom,
    /// `E` (Ekel): disgust.
    Disgust,
    /// `A` (Angst): fear.
    Fear,
    /// `F` (Freude): happiness.
    Happiness,
    /// `T` (Trauer): sadness.
    Sadness,
    /// `N`: neutral.
    Neutral,
}

impl EmoDbLabel {
    /// The shared-label-space emotion, or `None` for boredom.
    pub fn emotion(self) -> Option<Emotion> {
        match self {
            EmoDbLabel::Anger => Some(Emotion::Angry),
            EmoDbLabel::Boredom => None,
            EmoDbLabel::Disgust => Some(Emotion::Disgust),
            EmoDbLabel::Fear => Some(Emotion::Fearful),
            EmoDbLabel::Happiness => Some(Emotion::Happy),
            EmoDbLabel::Sadness => Some(Emotion::Sad),
            EmoDbLabel::Neutral => Some(Emotion::Neutral),
        }
    }

    /// English name.
    pub fn name(self) -> &'static str {
        match self {
            EmoDbLabel::Anger => "anger",
            EmoDbLabel::Boredom => "boredom",
            EmoDbLabel::Disgust => "disgust",
            EmoDbLabel::Fear => "fear",
            EmoDbLabel::Happiness => "happiness",
            EmoDbLabel::Sadness => "sadness",
            EmoDbLabel::Neutral => "neutral",
        }
    }

    fn from_letter(letter: char) -> Option<EmoDbLabel> {
        Some(match letter {
            'W' => EmoDbLabel::Anger,
            'L' => EmoDbLabel::Boredom,
            'E' => EmoDbLabel::Disgust,
            'A' => EmoDbLabel::Fear,
            'F' => EmoDbLabel::Happiness,
            'T' => EmoDbLabel::Sadness,
            'N' => EmoDbLabel::Neutral,
            _ => return None,
        })
    }
}

/// A parsed EmoDB file name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EmoDbId {
    /// Speaker number (one of [`SPEAKERS`]).
    pub speaker: u8,
    /// Text code, e.g. `a01`.
    pub text: String,
    /// Emotion label.
    pub label: EmoDbLabel,
    /// Version letter, e.g. `a`.
    pub version: char,
    /// Published gender of the speaker.
    pub gender: Gender,
}

impl EmoDbId {
    /// Parses a file name (`03a01Fa.wav`) or a bare stem.
    pub fn parse_file_name(name: &str) -> Result<EmoDbId, NameError> {
        super::strip_wav(name).parse()
    }
}

/// Published gender of EmoDB speaker `speaker`, if it is one of the ten.
pub fn speaker_gender(speaker: u8) -> Option<Gender> {
    SPEAKERS
        .iter()
        .find(|(s, _)| *s == speaker)
        .map(|&(_, g)| g)
}

impl FromStr for EmoDbId {
    type Err = NameError;

    fn from_str(stem: &str) -> Result<Self, Self::Err> {
        let chars: Vec<char> = stem.chars().collect();
        let [s1, s2, t, n1, n2, e, v] = chars.as_slice() else {
            return Err(NameError::Pattern { pattern: PATTERN });
        };
        let bad = |field: &'static str, value: String, expected: &str| NameError::BadField {
            field,
            value,
            expected: expected.to_owned(),
        };
        let speaker_str: String = [*s1, *s2].iter().collect();
        let (speaker, gender) = speaker_str
            .parse::<u8>()
            .ok()
            .filter(|_| s1.is_ascii_digit() && s2.is_ascii_digit())
            .and_then(|s| speaker_gender(s).map(|g| (s, g)))
            .ok_or_else(|| {
                bad(
                    "speaker",
                    speaker_str.clone(),
                    "one of 03 08 09 10 11 12 13 14 15 16",
                )
            })?;
        if !(t.is_ascii_lowercase() && n1.is_ascii_digit() && n2.is_ascii_digit()) {
            return Err(bad(
                "text",
                [*t, *n1, *n2].iter().collect(),
                "a lowercase letter and two digits (e.g. a01)",
            ));
        }
        let label = EmoDbLabel::from_letter(*e)
            .ok_or_else(|| bad("emotion", e.to_string(), "one of W L E A F T N"))?;
        if !v.is_ascii_lowercase() {
            return Err(bad("version", v.to_string(), "a lowercase letter"));
        }
        Ok(EmoDbId {
            speaker,
            text: [*t, *n1, *n2].iter().collect(),
            label,
            version: *v,
            gender,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_genders() {
        let id = EmoDbId::parse_file_name("03a01Fa.wav").expect("valid");
        assert_eq!(id.speaker, 3);
        assert_eq!(id.text, "a01");
        assert_eq!(id.label, EmoDbLabel::Happiness);
        assert_eq!(id.label.emotion(), Some(Emotion::Happy));
        assert_eq!(id.version, 'a');
        assert_eq!(id.gender, Gender::Male);
        let id = EmoDbId::parse_file_name("16b10Lb.wav").expect("valid");
        assert_eq!(id.label, EmoDbLabel::Boredom);
        assert_eq!(id.label.emotion(), None);
        assert_eq!(id.gender, Gender::Female);
        let males = SPEAKERS.iter().filter(|(_, g)| *g == Gender::Male).count();
        assert_eq!(males, 5);
    }

    #[test]
    fn rejects_bad_names() {
        for (name, field) in [
            ("01a01Fa.wav", "speaker"),
            ("03A01Fa.wav", "text"),
            ("03a0xFa.wav", "text"),
            ("03a01Xa.wav", "emotion"),
            ("03a01FA.wav", "version"),
        ] {
            match EmoDbId::parse_file_name(name) {
                Err(NameError::BadField { field: f, .. }) => assert_eq!(f, field, "{name}"),
                other => panic!("{name}: {other:?}"),
            }
        }
        assert!(matches!(
            EmoDbId::parse_file_name("03a01Faa.wav"),
            Err(NameError::Pattern { .. })
        ));
    }
}
