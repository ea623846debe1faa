//! Raw little-endian PCM sample formats and their conversion to mono `f32`.
//!
//! Shared by the WAV file reader and the streaming reader, so that a file and a pipe carrying
//! the same bytes give bit-identical samples.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::error::{AudioError, ParsePcmFormatError};

/// A raw interleaved little-endian sample format.
///
/// Integer formats are scaled to `[-1, 1)` exactly as libsndfile / soundfile (and so
/// librosa) do: `u8` as `(x - 128) / 128`, `s16` as `x / 32768`, `s24` as `x / 8388608`,
/// `s32` as `x / 2147483648`. Float formats are taken as they are (`f64` rounded to `f32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PcmFormat {
    /// Unsigned 8-bit, offset 128 (the WAV 8-bit convention).
    U8,
    /// Signed 16-bit little-endian.
    S16Le,
    /// Signed 24-bit little-endian, packed in 3 bytes (ALSA `S24_3LE`, WAV 24-bit).
    S24Le,
    /// Signed 32-bit little-endian.
    S32Le,
    /// IEEE 754 32-bit float little-endian.
    F32Le,
    /// IEEE 754 64-bit float little-endian.
    F64Le,
}

impl PcmFormat {
    /// Bytes one sample of one channel occupies.
    pub const fn bytes_per_sample(self) -> usize {
        match self {
            Self::U8 => 1,
            Self::S16Le => 2,
            Self::S24Le => 3,
            Self::S32Le | Self::F32Le => 4,
            Self::F64Le => 8,
        }
    }

    /// Bits per sample, as a WAV header states them.
    pub const fn bits_per_sample(self) -> u16 {
        // At most 8 bytes, so the cast cannot truncate.
        (self.bytes_per_sample() * 8) as u16
    }

    /// Whether the samples are IEEE floats (and so can be NaN or infinite).
    pub const fn is_float(self) -> bool {
        matches!(self, Self::F32Le | Self::F64Le)
    }

    /// The canonical lower-case name (`"s16le"`, ...), as accepted by [`FromStr`].
    pub const fn name(self) -> &'static str {
        match self {
            Self::U8 => "u8",
            Self::S16Le => "s16le",
            Self::S24Le => "s24le",
            Self::S32Le => "s32le",
            Self::F32Le => "f32le",
            Self::F64Le => "f64le",
        }
    }

    /// Converts one sample (exactly [`Self::bytes_per_sample`] bytes) to `f64`.
    ///
    /// Integer formats give exactly the `f32` value libsndfile gives (widened to `f64`).
    fn sample(self, b: &[u8]) -> f64 {
        match self {
            Self::U8 => (f64::from(b[0]) - 128.0) / 128.0,
            Self::S16Le => f64::from(i16::from_le_bytes([b[0], b[1]])) / 32_768.0,
            Self::S24Le => {
                // Place the 3 bytes in the top of an i32 and shift back to sign-extend.
                let v = i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8;
                f64::from(v) / 8_388_608.0
            }
            // i32 -> f32 must round once, like libsndfile's `(float) x / 2^31`.
            Self::S32Le => f64::from(
                (f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])) / 2_147_483_648.0) as f32,
            ),
            Self::F32Le => f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            Self::F64Le => f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        }
    }
}

impl fmt::Display for PcmFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PcmFormat {
    type Err = ParsePcmFormatError;

    /// Accepts the names used by sox/ffmpeg (`s16le`, `f32le`, `pcm_s16le`), ALSA (`S16_LE`,
    /// `S24_3LE`, `FLOAT_LE`) and plain ones (`int16`, `float`, `double`), case-insensitively.
    ///
    /// ALSA's `S24_LE` is rejected on purpose: it means 24 bits in a 4-byte container, which
    /// is not the packed 3-byte layout of [`PcmFormat::S24Le`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        let format = match lower.as_str() {
            "u8" | "pcm_u8" | "uint8" | "unsigned8" => Self::U8,
            "s16le" | "s16_le" | "s16" | "pcm_s16le" | "int16" | "i16" => Self::S16Le,
            "s24le" | "s24_3le" | "s24" | "pcm_s24le" | "int24" | "i24" => Self::S24Le,
            "s32le" | "s32_le" | "s32" | "pcm_s32le" | "int32" | "i32" => Self::S32Le,
            "f32le" | "f32_le" | "f32" | "pcm_f32le" | "float" | "float_le" | "float32"
            | "float32le" => Self::F32Le,
            "f64le" | "f64_le" | "f64" | "pcm_f64le" | "double" | "float64" | "float64_le"
            | "float64le" => Self::F64Le,
            _ => {
                let hint = if lower == "s24_le" {
                    " (ALSA S24_LE is 24 bits in 4-byte containers: use S24_3LE for packed 24-bit, or S32_LE)"
                } else if lower.ends_with("be") {
                    " (big-endian formats are not supported)"
                } else {
                    ""
                };
                return Err(ParsePcmFormatError {
                    input: s.to_owned(),
                    hint,
                });
            }
        };
        Ok(format)
    }
}

/// Decodes whole interleaved frames and appends their channel mean to `out`.
///
/// `bytes.len()` must be a multiple of `channels * format.bytes_per_sample()` (callers
/// guarantee it); `first_frame` is the index of the first frame in the whole stream, for
/// error messages. Channels are converted to `f32` first and then averaged in `f64`, which
/// equals librosa's `to_mono` (mean over channels of the `f32` samples) up to its own
/// `f32` rounding.
pub(crate) fn push_mono_frames(
    bytes: &[u8],
    format: PcmFormat,
    channels: u16,
    first_frame: u64,
    path: &Path,
    out: &mut Vec<f32>,
) -> Result<(), AudioError> {
    if channels == 1 && format == PcmFormat::S16Le {
        // The common case (16-bit mono) as one vectorisable pass; the same values as the
        // general path below, since i16 / 2^15 is exact in f32.
        out.extend(
            bytes
                .chunks_exact(2)
                .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32_768.0),
        );
        return Ok(());
    }
    push_mono_frames_general(bytes, format, channels, first_frame, path, out)
}

/// [`push_mono_frames`] for every format and channel count.
fn push_mono_frames_general(
    bytes: &[u8],
    format: PcmFormat,
    channels: u16,
    first_frame: u64,
    path: &Path,
    out: &mut Vec<f32>,
) -> Result<(), AudioError> {
    let sample_bytes = format.bytes_per_sample();
    let frame_bytes = sample_bytes * usize::from(channels);
    debug_assert!(frame_bytes > 0 && bytes.len().is_multiple_of(frame_bytes));
    out.reserve(bytes.len() / frame_bytes);
    let check = format.is_float();
    for (frame_index, frame) in (first_frame..).zip(bytes.chunks_exact(frame_bytes)) {
        let mut sum = 0.0_f64;
        for (channel, raw) in (0_u16..).zip(frame.chunks_exact(sample_bytes)) {
            let value = format.sample(raw);
            // f64 samples that overflow f32 count as non-finite too: we hand out f32.
            let as_f32 = value as f32;
            if check && !as_f32.is_finite() {
                return Err(AudioError::NonFiniteSample {
                    path: path.to_path_buf(),
                    frame: frame_index,
                    channel,
                    value,
                });
            }
            sum += f64::from(as_f32);
        }
        let mono = if channels == 1 {
            sum
        } else {
            sum / f64::from(channels)
        };
        out.push(mono as f32);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn mono_16_bit_fast_path_equals_the_general_path() {
        let bytes: Vec<u8> = (0..=u16::MAX)
            .step_by(7)
            .chain([0x8000, 0x7fff, 0xffff])
            .flat_map(u16::to_le_bytes)
            .collect();
        let path = std::path::Path::new("x.wav");
        let (mut fast, mut general) = (Vec::new(), Vec::new());
        super::push_mono_frames(&bytes, super::PcmFormat::S16Le, 1, 0, path, &mut fast).unwrap();
        super::push_mono_frames_general(&bytes, super::PcmFormat::S16Le, 1, 0, path, &mut general)
            .unwrap();
        assert_eq!(fast.len(), bytes.len() / 2);
        assert!(
            fast.iter()
                .zip(&general)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
        assert!(fast.contains(&-1.0));
    }

    use super::*;

    #[test]
    fn parses_common_names() {
        for (text, want) in [
            ("s16le", PcmFormat::S16Le),
            ("S16_LE", PcmFormat::S16Le),
            ("pcm_s16le", PcmFormat::S16Le),
            ("S24_3LE", PcmFormat::S24Le),
            ("s32le", PcmFormat::S32Le),
            ("f32le", PcmFormat::F32Le),
            ("FLOAT_LE", PcmFormat::F32Le),
            ("float", PcmFormat::F32Le),
            ("double", PcmFormat::F64Le),
            ("U8", PcmFormat::U8),
        ] {
            assert_eq!(text.parse::<PcmFormat>(), Ok(want), "{text}");
        }
    }

    #[test]
    fn rejects_alsa_s24_le_and_big_endian_with_hints() {
        let err = "S24_LE".parse::<PcmFormat>().expect_err("S24_LE is 4-byte");
        assert!(err.to_string().contains("S24_3LE"), "{err}");
        let err = "s16be".parse::<PcmFormat>().expect_err("big endian");
        assert!(err.to_string().contains("big-endian"), "{err}");
        assert!("wav".parse::<PcmFormat>().is_err());
    }

    #[test]
    fn display_round_trips() {
        for f in [
            PcmFormat::U8,
            PcmFormat::S16Le,
            PcmFormat::S24Le,
            PcmFormat::S32Le,
            PcmFormat::F32Le,
            PcmFormat::F64Le,
        ] {
            assert_eq!(f.to_string().parse::<PcmFormat>(), Ok(f));
            assert_eq!(usize::from(f.bits_per_sample()), 8 * f.bytes_per_sample());
        }
    }

    #[test]
    fn integer_extremes_scale_like_libsndfile() {
        assert_eq!(PcmFormat::U8.sample(&[0]), -1.0);
        assert_eq!(PcmFormat::U8.sample(&[255]), 127.0 / 128.0);
        assert_eq!(PcmFormat::S16Le.sample(&[0x00, 0x80]), -1.0);
        assert_eq!(PcmFormat::S24Le.sample(&[0x00, 0x00, 0x80]), -1.0);
        assert_eq!(
            PcmFormat::S24Le.sample(&[0xff, 0xff, 0xff]),
            -1.0 / 8_388_608.0
        );
        assert_eq!(PcmFormat::S32Le.sample(&[0, 0, 0, 0x80]), -1.0);
        // i32::MAX / 2^31 rounds to exactly 1.0 in f32, as libsndfile gives.
        assert_eq!(PcmFormat::S32Le.sample(&[0xff, 0xff, 0xff, 0x7f]), 1.0);
    }

    #[test]
    fn mixes_channels_to_their_mean() {
        let bytes: Vec<u8> = [1000_i16, 3000, -2000, 0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let mut out = Vec::new();
        push_mono_frames(&bytes, PcmFormat::S16Le, 2, 0, Path::new("x"), &mut out).expect("ok");
        assert_eq!(out, vec![2000.0 / 32768.0, -1000.0 / 32768.0]);
    }

    #[test]
    fn reports_first_non_finite_sample() {
        let bytes: Vec<u8> = [0.5_f32, 0.25, f32::NAN, 0.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let mut out = Vec::new();
        let err = push_mono_frames(&bytes, PcmFormat::F32Le, 2, 10, Path::new("x"), &mut out)
            .expect_err("NaN");
        assert!(
            matches!(
                err,
                AudioError::NonFiniteSample {
                    frame: 11,
                    channel: 0,
                    ..
                }
            ),
            "{err:?}"
        );
    }
}
