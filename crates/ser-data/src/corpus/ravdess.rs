//! RAVDESS file names: `MM-VV-EE-II-SS-RR-AA.wav`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::NameError;
use crate::emotion::{Emotion, Gender};

/// The naming pattern, for error messages.
pub const PATTERN: &str =
    "RAVDESS `MM-VV-EE-II-SS-RR-AA.wav` (e.g. `03-01-05-02-01-01-12.wav`, in `Actor_NN/` folders)";

/// Number of RAVDESS actors.
pub const N_ACTORS: u8 = 24;

/// RAVDESS modality (field 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    /// 01: full audio-video.
    AudioVideo,
    /// 02: video only.
    VideoOnly,
    /// 03: audio only (the `.wav` release).
    AudioOnly,
}

/// RAVDESS vocal channel (field 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VocalChannel {
    /// 01: speech.
    Speech,
    /// 02: song (skipped unless asked for).
    Song,
}

/// RAVDESS emotional intensity (field 4). Neutral has only `Normal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intensity {
    /// 01.
    Normal,
    /// 02.
    Strong,
}

/// RAVDESS statement (field 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Statement {
    /// 01: "Kids are talking by the door".
    Kids,
    /// 02: "Dogs are sitting by the door".
    Dogs,
}

/// A parsed RAVDESS file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RavdessId {
    /// Field 1.
    pub modality: Modality,
    /// Field 2.
    pub vocal_channel: VocalChannel,
    /// Field 3 (codes 01..=08).
    pub emotion: Emotion,
    /// Field 4.
    pub intensity: Intensity,
    /// Field 5.
    pub statement: Statement,
    /// Field 6: repetition 1 or 2.
    pub repetition: u8,
    /// Field 7: actor 1..=24.
    pub actor: u8,
}

impl RavdessId {
    /// Actor gender: odd actors are male, even actors female.
    pub fn gender(&self) -> Gender {
        actor_gender(self.actor)
    }

    /// Parses a file name (`03-01-05-02-01-01-12.wav`) or a bare stem.
    pub fn parse_file_name(name: &str) -> Result<RavdessId, NameError> {
        let stem = super::strip_wav(name);
        stem.parse()
    }
}

/// Gender of RAVDESS actor `actor` (odd = male, even = female).
pub fn actor_gender(actor: u8) -> Gender {
    if actor % 2 == 1 {
        Gender::Male
    } else {
        Gender::Female
    }
}

/// Reads a two-digit field within `lo..=hi`.
fn two_digits(field: &'static str, value: &str, lo: u8, hi: u8) -> Result<u8, NameError> {
    let bad = || NameError::BadField {
        field,
        value: value.to_owned(),
        expected: format!("two digits {lo:02}..={hi:02}"),
    };
    if value.len() != 2 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u8 = value.parse().map_err(|_| bad())?;
    if (lo..=hi).contains(&n) {
        Ok(n)
    } else {
        Err(bad())
    }
}

impl FromStr for RavdessId {
    type Err = NameError;

    /// Parses a stem `MM-VV-EE-II-SS-RR-AA`.
    fn from_str(stem: &str) -> Result<Self, Self::Err> {
        let fields: Vec<&str> = stem.split('-').collect();
        let [m, v, e, i, s, r, a] = fields.as_slice() else {
            return Err(NameError::FieldCount {
                expected: 7,
                found: fields.len(),
            });
        };
        let modality = match two_digits("modality", m, 1, 3)? {
            1 => Modality::AudioVideo,
            2 => Modality::VideoOnly,
            _ => Modality::AudioOnly,
        };
        let vocal_channel = match two_digits("vocal channel", v, 1, 2)? {
            1 => VocalChannel::Speech,
            _ => VocalChannel::Song,
        };
        let code = two_digits("emotion", e, 1, 8)?;
        let emotion = Emotion::from_ravdess_code(code).ok_or_else(|| NameError::BadField {
            field: "emotion",
            value: (*e).to_owned(),
            expected: "two digits 01..=08".to_owned(),
        })?;
        let intensity = match two_digits("intensity", i, 1, 2)? {
            1 => Intensity::Normal,
            _ => Intensity::Strong,
        };
        let statement = match two_digits("statement", s, 1, 2)? {
            1 => Statement::Kids,
            _ => Statement::Dogs,
        };
        let repetition = two_digits("repetition", r, 1, 2)?;
        let actor = two_digits("actor", a, 1, N_ACTORS)?;
        Ok(RavdessId {
            modality,
            vocal_channel,
            emotion,
            intensity,
            statement,
            repetition,
            actor,
        })
    }
}

impl fmt::Display for RavdessId {
    /// Formats the stem back, e.g. `03-01-05-02-01-01-12`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = match self.modality {
            Modality::AudioVideo => 1,
            Modality::VideoOnly => 2,
            Modality::AudioOnly => 3,
        };
        let v = match self.vocal_channel {
            VocalChannel::Speech => 1,
            VocalChannel::Song => 2,
        };
        let i = match self.intensity {
            Intensity::Normal => 1,
            Intensity::Strong => 2,
        };
        let s = match self.statement {
            Statement::Kids => 1,
            Statement::Dogs => 2,
        };
        write!(
            f,
            "{m:02}-{v:02}-{:02}-{i:02}-{s:02}-{:02}-{:02}",
            self.emotion.ravdess_code(),
            self.repetition,
            self.actor
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_field() {
        let id = RavdessId::parse_file_name("03-01-05-02-01-02-12.wav").expect("valid");
        assert_eq!(id.modality, Modality::AudioOnly);
        assert_eq!(id.vocal_channel, VocalChannel::Speech);
        assert_eq!(id.emotion, Emotion::Angry);
        assert_eq!(id.intensity, Intensity::Strong);
        assert_eq!(id.statement, Statement::Kids);
        assert_eq!(id.repetition, 2);
        assert_eq!(id.actor, 12);
        assert_eq!(id.gender(), Gender::Female);
        assert_eq!(id.to_string(), "03-01-05-02-01-02-12");
        let song = RavdessId::parse_file_name("03-02-01-01-01-01-01.WAV").expect("valid");
        assert_eq!(song.vocal_channel, VocalChannel::Song);
        assert_eq!(song.gender(), Gender::Male);
    }

    #[test]
    fn rejects_bad_fields_with_typed_errors() {
        assert_eq!(
            RavdessId::parse_file_name("03-01-05-02-01-02.wav"),
            Err(NameError::FieldCount {
                expected: 7,
                found: 6
            })
        );
        let err = RavdessId::parse_file_name("03-01-09-01-01-01-01.wav").expect_err("emotion 09");
        assert!(
            matches!(
                err,
                NameError::BadField {
                    field: "emotion",
                    ..
                }
            ),
            "{err}"
        );
        let err = RavdessId::parse_file_name("03-01-01-01-01-01-25.wav").expect_err("actor 25");
        assert!(
            matches!(err, NameError::BadField { field: "actor", .. }),
            "{err}"
        );
        let err = RavdessId::parse_file_name("03-01-01-01-01-01-00.wav").expect_err("actor 0");
        assert!(
            matches!(err, NameError::BadField { field: "actor", .. }),
            "{err}"
        );
        let err = RavdessId::parse_file_name("03-01-01-03-01-01-01.wav").expect_err("intensity");
        assert!(
            matches!(
                err,
                NameError::BadField {
                    field: "intensity",
                    ..
                }
            ),
            "{err}"
        );
        let err = RavdessId::parse_file_name("3-01-01-01-01-01-01.wav").expect_err("one digit");
        assert!(
            matches!(
                err,
                NameError::BadField {
                    field: "modality",
                    ..
                }
            ),
            "{err}"
        );
        let err = RavdessId::parse_file_name("03-01-01-01-01-+1-01.wav").expect_err("sign");
        assert!(
            matches!(
                err,
                NameError::BadField {
                    field: "repetition",
                    ..
                }
            ),
            "{err}"
        );
    }
}
