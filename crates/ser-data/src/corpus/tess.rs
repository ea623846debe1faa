//! TESS (Toronto Emotional Speech Set) names: folders `OAF_<emotion>` / `YAF_<emotion>` of
//! files `OAF_<word>_<emotion>.wav`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::NameError;
use crate::emotion::Emotion;

/// The naming pattern, for error messages.
pub const PATTERN: &str = "TESS `OAF_<word>_<emotion>.wav` / `YAF_<word>_<emotion>.wav` with emotion angry, disgust, fear, happy, neutral, ps / pleasant_surprise(d), sad (in `OAF_<Emotion>/` and `YAF_<Emotion>/` folders)";

/// The two TESS speakers (both female).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TessSpeaker {
    /// `OAF`: the older speaker (aged 64). One release file is spelt `OA_`.
    #[serde(rename = "OAF")]
    Older,
    /// `YAF`: the younger speaker (aged 26).
    #[serde(rename = "YAF")]
    Younger,
}

impl TessSpeaker {
    /// `OAF` or `YAF`.
    pub fn code(self) -> &'static str {
        match self {
            TessSpeaker::Older => "OAF",
            TessSpeaker::Younger => "YAF",
        }
    }

    fn parse(token: &str) -> Option<TessSpeaker> {
        match token.to_ascii_uppercase().as_str() {
            // One file of the release is named `OA_bite_neutral.wav`.
            "OAF" | "OA" => Some(TessSpeaker::Older),
            "YAF" => Some(TessSpeaker::Younger),
            _ => None,
        }
    }
}

impl fmt::Display for TessSpeaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.code())
    }
}

/// A parsed TESS file name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TessId {
    /// Speaker.
    pub speaker: TessSpeaker,
    /// The carrier word ("Say the word ...").
    pub word: String,
    /// Emotion (pleasant surprise maps to [`Emotion::Surprised`]).
    pub emotion: Emotion,
}

impl TessId {
    /// Parses a file name (`OAF_back_angry.wav`) or a bare stem.
    pub fn parse_file_name(name: &str) -> Result<TessId, NameError> {
        super::strip_wav(name).parse()
    }
}

/// Maps a TESS emotion token (any case) onto the shared label space.
fn emotion_token(token: &str) -> Option<Emotion> {
    Some(match token.to_ascii_lowercase().as_str() {
        "angry" => Emotion::Angry,
        "disgust" => Emotion::Disgust,
        "fear" => Emotion::Fearful,
        "happy" => Emotion::Happy,
        "neutral" => Emotion::Neutral,
        "ps" | "pleasant_surprise" | "pleasant_surprised" => Emotion::Surprised,
        "sad" => Emotion::Sad,
        _ => return None,
    })
}

/// Splits `<prefix>_<rest>` where `rest` ends in an emotion token (which may itself contain an
/// underscore: `pleasant_surprise`). Returns (everything before the emotion, emotion).
fn split_emotion(stem: &str) -> Option<(&str, Emotion)> {
    let lower = stem.to_ascii_lowercase();
    for long in ["_pleasant_surprised", "_pleasant_surprise"] {
        if lower.ends_with(long) {
            let cut = stem.len() - long.len();
            return Some((&stem[..cut], Emotion::Surprised));
        }
    }
    let (head, tail) = stem.rsplit_once('_')?;
    emotion_token(tail).map(|e| (head, e))
}

/// Parses a TESS folder name such as `OAF_Fear` or `YAF_pleasant_surprised`.
pub fn parse_folder_name(name: &str) -> Option<(TessSpeaker, Emotion)> {
    let (speaker, emotion) = name.split_once('_')?;
    Some((TessSpeaker::parse(speaker)?, emotion_token(emotion)?))
}

impl FromStr for TessId {
    type Err = NameError;

    fn from_str(stem: &str) -> Result<Self, Self::Err> {
        let (speaker_token, rest) = stem
            .split_once('_')
            .ok_or(NameError::Pattern { pattern: PATTERN })?;
        let speaker = TessSpeaker::parse(speaker_token).ok_or_else(|| NameError::BadField {
            field: "speaker",
            value: speaker_token.to_owned(),
            expected: "OAF or YAF".to_owned(),
        })?;
        // `rest` without `_` (a bare emotion, no word) is rejected here too.
        let (word, emotion) = split_emotion(rest).ok_or_else(|| NameError::BadField {
            field: "emotion",
            value: rest.rsplit('_').next().unwrap_or(rest).to_owned(),
            expected: "angry, disgust, fear, happy, neutral, ps, pleasant_surprise(d) or sad"
                .to_owned(),
        })?;
        if word.is_empty() {
            return Err(NameError::BadField {
                field: "word",
                value: String::new(),
                expected: "a carrier word".to_owned(),
            });
        }
        Ok(TessId {
            speaker,
            word: word.to_owned(),
            emotion,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_speakers_and_spellings() {
        let id = TessId::parse_file_name("OAF_back_angry.wav").expect("valid");
        assert_eq!(
            id,
            TessId {
                speaker: TessSpeaker::Older,
                word: "back".into(),
                emotion: Emotion::Angry
            }
        );
        let id = TessId::parse_file_name("YAF_youth_ps.wav").expect("valid");
        assert_eq!(id.speaker, TessSpeaker::Younger);
        assert_eq!(id.emotion, Emotion::Surprised);
        let id = TessId::parse_file_name("YAF_youth_pleasant_surprised.wav").expect("valid");
        assert_eq!(id.word, "youth");
        assert_eq!(id.emotion, Emotion::Surprised);
        let id = TessId::parse_file_name("OAF_bar_Pleasant_Surprise.wav").expect("valid");
        assert_eq!(id.emotion, Emotion::Surprised);
        let id = TessId::parse_file_name("OA_bite_neutral.wav").expect("OA_ typo");
        assert_eq!(id.speaker, TessSpeaker::Older);
        assert_eq!(id.emotion, Emotion::Neutral);
        let id = TessId::parse_file_name("YAF_dog_Fear.wav").expect("valid");
        assert_eq!(id.emotion, Emotion::Fearful);
    }

    #[test]
    fn parses_folder_names() {
        assert_eq!(
            parse_folder_name("OAF_Fear"),
            Some((TessSpeaker::Older, Emotion::Fearful))
        );
        assert_eq!(
            parse_folder_name("YAF_pleasant_surprised"),
            Some((TessSpeaker::Younger, Emotion::Surprised))
        );
        assert_eq!(
            parse_folder_name("OAF_Pleasant_surprise"),
            Some((TessSpeaker::Older, Emotion::Surprised))
        );
        assert_eq!(parse_folder_name("Actor_01"), None);
    }

    #[test]
    fn rejects_bad_names() {
        assert!(matches!(
            TessId::parse_file_name("MAF_back_angry.wav"),
            Err(NameError::BadField {
                field: "speaker",
                ..
            })
        ));
        assert!(matches!(
            TessId::parse_file_name("OAF_back_bored.wav"),
            Err(NameError::BadField {
                field: "emotion",
                ..
            })
        ));
        assert!(matches!(
            TessId::parse_file_name("OAF_angry.wav"),
            Err(NameError::BadField { .. })
        ));
        assert!(matches!(
            TessId::parse_file_name("OAFbackangry.wav"),
            Err(NameError::Pattern { .. })
        ));
    }
}
