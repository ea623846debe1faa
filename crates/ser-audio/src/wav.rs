//! A small, strict RIFF/WAVE reader and an atomic WAV writer.
//!
//! Reading walks the RIFF chunks from byte 12 on, skipping unknown chunks (`LIST`, `FLLR`,
//! `fact`, `bext`, ...) including their pad byte when their size is odd, until it has seen
//! `fmt ` and `data`. Chunks after `data` are never looked at. Every size is checked against
//! the bytes that are really there.

use std::path::Path;
use std::time::Duration;

use crate::error::AudioError;
use crate::pcm::{PcmFormat, push_mono_frames};
use crate::{Audio, check_sample_rate};

/// `WAVE_FORMAT_PCM`.
const FORMAT_PCM: u16 = 0x0001;
/// `WAVE_FORMAT_IEEE_FLOAT`.
const FORMAT_IEEE_FLOAT: u16 = 0x0003;
/// `WAVE_FORMAT_EXTENSIBLE`.
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;
/// Size of the `fmt ` body of a plain PCM file (`WAVEFORMAT` + `wBitsPerSample`).
const FMT_MIN_BYTES: u64 = 16;
/// Size of the `fmt ` body of a `WAVEFORMATEXTENSIBLE`.
const FMT_EXTENSIBLE_BYTES: u64 = 40;
/// Bytes 2..16 of every `KSDATAFORMAT_SUBTYPE_*` GUID derived from a format tag.
const GUID_TAIL: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];
/// Size of a RIFF chunk header (id + size).
const CHUNK_HEADER_BYTES: usize = 8;
/// Size of the `RIFF <size> WAVE` preamble.
pub(crate) const RIFF_HEADER_BYTES: usize = 12;
/// A data size of `0xFFFFFFFF` means "unknown length: until the end of the file".
pub(crate) const DATA_SIZE_UNKNOWN: u32 = u32::MAX;

/// What the `fmt ` chunk says, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WavFormat {
    /// Sample encoding (container size decides: valid bits of EXTENSIBLE only narrow it).
    pub format: PcmFormat,
    /// Channels in the file.
    pub channels: u16,
    /// Frames per second.
    pub sample_rate_hz: u32,
}

impl WavFormat {
    /// Bytes per frame (all channels).
    pub fn frame_bytes(&self) -> usize {
        self.format.bytes_per_sample() * usize::from(self.channels)
    }
}

fn le_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// A human name for a few well-known non-PCM format tags, for error messages.
fn format_tag_name(tag: u16) -> &'static str {
    match tag {
        0x0000 => "unknown/invalid (0)",
        0x0002 => "Microsoft ADPCM",
        0x0006 => "A-law",
        0x0007 => "mu-law",
        0x0011 => "IMA ADPCM",
        0x0031 => "GSM 6.10",
        0x0050 => "MPEG",
        0x0055 => "MPEG layer 3",
        0x00FF => "AAC",
        0x1610 => "HE-AAC",
        _ => "unknown",
    }
}

/// Formats a 16-byte GUID as `{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}`.
fn guid_text(g: &[u8]) -> String {
    format!(
        "{{{:08X}-{:04X}-{:04X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}}}",
        le_u32(g, 0),
        le_u16(g, 4),
        le_u16(g, 6),
        g[8],
        g[9],
        g[10],
        g[11],
        g[12],
        g[13],
        g[14],
        g[15]
    )
}

/// Renders a chunk id for messages: printable ASCII as is, anything else escaped.
pub(crate) fn fourcc_text(id: &[u8]) -> String {
    id.iter()
        .flat_map(|b| std::ascii::escape_default(*b))
        .map(char::from)
        .collect()
}

/// Parses and validates a `fmt ` chunk body.
pub(crate) fn parse_fmt(body: &[u8], path: &Path) -> Result<WavFormat, AudioError> {
    let fmt_bytes = body.len() as u64;
    let too_short = |min_bytes: u64, format_tag: u16| AudioError::BadFmtChunk {
        path: path.to_path_buf(),
        fmt_bytes,
        min_bytes,
        format_tag,
    };
    if fmt_bytes < FMT_MIN_BYTES {
        let tag = if body.len() >= 2 { le_u16(body, 0) } else { 0 };
        return Err(too_short(FMT_MIN_BYTES, tag));
    }
    let format_tag = le_u16(body, 0);
    let channels = le_u16(body, 2);
    let sample_rate_hz = le_u32(body, 4);
    let block_align = le_u16(body, 12);
    let bits_per_sample = le_u16(body, 14);

    // Resolve EXTENSIBLE to the plain tag of its sub-format.
    let (tag, valid_bits) = if format_tag == FORMAT_EXTENSIBLE {
        if fmt_bytes < FMT_EXTENSIBLE_BYTES {
            return Err(too_short(FMT_EXTENSIBLE_BYTES, format_tag));
        }
        let guid = &body[24..40];
        if guid[2..] != GUID_TAIL {
            return Err(AudioError::UnsupportedSubFormat {
                path: path.to_path_buf(),
                guid: guid_text(guid),
            });
        }
        let valid_bits = le_u16(body, 18);
        // 0 means "not given"; otherwise it must fit the container.
        let valid_bits = if valid_bits == 0 {
            bits_per_sample
        } else {
            valid_bits
        };
        (le_u16(guid, 0), valid_bits)
    } else {
        (format_tag, bits_per_sample)
    };

    let (encoding, format) = match tag {
        FORMAT_PCM => (
            "integer PCM",
            match bits_per_sample {
                8 => Some(PcmFormat::U8),
                16 => Some(PcmFormat::S16Le),
                24 => Some(PcmFormat::S24Le),
                32 => Some(PcmFormat::S32Le),
                _ => None,
            },
        ),
        FORMAT_IEEE_FLOAT => (
            "IEEE float",
            match bits_per_sample {
                32 => Some(PcmFormat::F32Le),
                64 => Some(PcmFormat::F64Le),
                _ => None,
            },
        ),
        other => {
            return Err(AudioError::UnsupportedFormatTag {
                path: path.to_path_buf(),
                format_tag: other,
                name: format_tag_name(other),
            });
        }
    };
    if channels == 0 {
        return Err(AudioError::ZeroChannels {
            path: path.to_path_buf(),
        });
    }
    check_sample_rate(sample_rate_hz, path)?;
    let Some(format) = format else {
        return Err(AudioError::UnsupportedBitDepth {
            path: path.to_path_buf(),
            encoding,
            bits_per_sample,
        });
    };
    let float_valid_bits_ok = !format.is_float() || valid_bits == bits_per_sample;
    if valid_bits == 0 || valid_bits > bits_per_sample || !float_valid_bits_ok {
        return Err(AudioError::BadValidBits {
            path: path.to_path_buf(),
            valid_bits,
            container_bits: bits_per_sample,
        });
    }
    let expected = u32::from(channels) * u32::from(bits_per_sample / 8);
    if u32::from(block_align) != expected {
        return Err(AudioError::BadBlockAlign {
            path: path.to_path_buf(),
            block_align,
            channels,
            bits_per_sample,
            expected,
        });
    }
    Ok(WavFormat {
        format,
        channels,
        sample_rate_hz,
    })
}

/// Decodes a complete RIFF/WAVE file held in memory.
///
/// The caller has checked that `bytes` starts with `RIFF....WAVE`.
/// With `limit`, audio longer than it is [`AudioError::TooLong`], found from the `data` size
/// before any sample is converted.
pub(crate) fn decode_wav(
    bytes: &[u8],
    path: &Path,
    limit: Option<Duration>,
) -> Result<Audio, AudioError> {
    if bytes.len() < RIFF_HEADER_BYTES {
        return Err(AudioError::Truncated {
            path: path.to_path_buf(),
            chunk: "RIFF header".to_owned(),
            offset: 0,
            claimed_bytes: RIFF_HEADER_BYTES as u64,
            available_bytes: bytes.len() as u64,
        });
    }
    let mut pos = RIFF_HEADER_BYTES;
    let mut fmt: Option<WavFormat> = None;
    loop {
        if bytes.len().saturating_sub(pos) < CHUNK_HEADER_BYTES {
            return Err(AudioError::MissingChunk {
                path: path.to_path_buf(),
                chunk: if fmt.is_none() { "fmt " } else { "data" },
            });
        }
        let id = &bytes[pos..pos + 4];
        let size = le_u32(bytes, pos + 4);
        let body_start = pos + CHUNK_HEADER_BYTES;
        let available = bytes.len() - body_start;

        if id == b"data" {
            let Some(fmt) = fmt else {
                return Err(AudioError::MissingChunk {
                    path: path.to_path_buf(),
                    chunk: "fmt ",
                });
            };
            let frame_bytes = fmt.frame_bytes();
            let data = if size == DATA_SIZE_UNKNOWN {
                // Written to a pipe: the data runs to the end of the file; a partial
                // frame at the very end (a cut-off write) is dropped.
                let whole = available - available % frame_bytes;
                &bytes[body_start..body_start + whole]
            } else {
                let size = size as usize;
                if size > available {
                    return Err(AudioError::Truncated {
                        path: path.to_path_buf(),
                        chunk: "data".to_owned(),
                        offset: body_start as u64,
                        claimed_bytes: size as u64,
                        available_bytes: available as u64,
                    });
                }
                if !size.is_multiple_of(frame_bytes) {
                    return Err(AudioError::PartialFrame {
                        path: path.to_path_buf(),
                        data_bytes: size as u64,
                        // frame_bytes == block_align, checked in parse_fmt.
                        block_align: u16::try_from(frame_bytes).unwrap_or(u16::MAX),
                    });
                }
                &bytes[body_start..body_start + size]
            };
            if data.is_empty() {
                return Err(AudioError::ZeroSamples {
                    path: path.to_path_buf(),
                });
            }
            let frames = (data.len() / frame_bytes) as u64;
            if let Some(limit) = limit
                && frames > crate::max_frames(limit, fmt.sample_rate_hz)
            {
                return Err(crate::too_long(
                    path,
                    limit,
                    fmt.sample_rate_hz,
                    frames,
                    true,
                ));
            }
            let mut samples = Vec::new();
            push_mono_frames(data, fmt.format, fmt.channels, 0, path, &mut samples)?;
            return Ok(Audio {
                samples,
                sample_rate_hz: fmt.sample_rate_hz,
                channels: fmt.channels,
            });
        }

        let size = size as usize;
        if size > available {
            return Err(AudioError::Truncated {
                path: path.to_path_buf(),
                chunk: fourcc_text(id),
                offset: body_start as u64,
                claimed_bytes: size as u64,
                available_bytes: available as u64,
            });
        }
        if id == b"fmt " {
            if fmt.is_some() {
                return Err(AudioError::DuplicateChunk {
                    path: path.to_path_buf(),
                    chunk: "fmt ",
                    offset: pos as u64,
                });
            }
            fmt = Some(parse_fmt(&bytes[body_start..body_start + size], path)?);
        }
        // Odd-sized chunks are followed by one pad byte (which may be missing at the end).
        pos = body_start + size + (size & 1);
    }
}

/// Builds the bytes of a mono WAV file from already-encoded sample bytes.
fn wav_bytes(format: PcmFormat, sample_rate_hz: u32, frames: u32, data: &[u8]) -> Vec<u8> {
    let float = format.is_float();
    let bytes_per_sample = format.bytes_per_sample() as u32;
    // Non-PCM formats carry cbSize (fmt size 18) and a `fact` chunk, as the spec asks.
    let fmt_size: u32 = if float { 18 } else { 16 };
    let fact_bytes: u32 = if float { 12 } else { 0 };
    let data_len = data.len() as u32;
    let riff_size = 4 + (8 + fmt_size) + fact_bytes + 8 + data_len + (data_len & 1);
    let mut out = Vec::with_capacity(riff_size as usize + 8);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&riff_size.to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&fmt_size.to_le_bytes());
    let tag = if float { FORMAT_IEEE_FLOAT } else { FORMAT_PCM };
    out.extend_from_slice(&tag.to_le_bytes());
    out.extend_from_slice(&1_u16.to_le_bytes());
    out.extend_from_slice(&sample_rate_hz.to_le_bytes());
    out.extend_from_slice(&(sample_rate_hz.saturating_mul(bytes_per_sample)).to_le_bytes());
    out.extend_from_slice(&(bytes_per_sample as u16).to_le_bytes());
    out.extend_from_slice(&format.bits_per_sample().to_le_bytes());
    if float {
        out.extend_from_slice(&0_u16.to_le_bytes());
        out.extend_from_slice(b"fact");
        out.extend_from_slice(&4_u32.to_le_bytes());
        out.extend_from_slice(&frames.to_le_bytes());
    }
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    out.extend_from_slice(data);
    if data_len & 1 == 1 {
        out.push(0);
    }
    out
}

/// Checks what every writer needs: a valid rate, finite samples, a size that fits RIFF.
fn check_writable(
    path: &Path,
    samples: &[f32],
    sample_rate_hz: u32,
    format: PcmFormat,
) -> Result<u32, AudioError> {
    check_sample_rate(sample_rate_hz, path)?;
    if let Some((frame, value)) = (0_u64..).zip(samples).find(|(_, v)| !v.is_finite()) {
        return Err(AudioError::NonFiniteSample {
            path: path.to_path_buf(),
            frame,
            channel: 0,
            value: f64::from(*value),
        });
    }
    // Leave room for the headers inside the 32-bit RIFF size.
    let max_data = u64::from(u32::MAX) - 64;
    let data_len = samples.len() as u64 * format.bytes_per_sample() as u64;
    match u32::try_from(samples.len()) {
        Ok(frames) if data_len <= max_data => Ok(frames),
        _ => Err(AudioError::TooLongForWav {
            path: path.to_path_buf(),
            samples: samples.len(),
        }),
    }
}

/// Writes `bytes` to `path` atomically ([`ser_stdx::fs::write_atomic`]: a temporary file in
/// the same folder, synced, then renamed over `path`). A reader never sees a half-written file.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), AudioError> {
    ser_stdx::fs::write_atomic(path, bytes).map_err(|source| AudioError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes mono 32-bit IEEE float WAV (`WAVE_FORMAT_IEEE_FLOAT`), atomically.
///
/// Samples are stored exactly; NaN or infinite samples are refused
/// ([`AudioError::NonFiniteSample`]) because no reader should have to meet them.
pub fn write_wav_f32(path: &Path, samples: &[f32], sample_rate_hz: u32) -> Result<(), AudioError> {
    let frames = check_writable(path, samples, sample_rate_hz, PcmFormat::F32Le)?;
    let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    write_atomically(
        path,
        &wav_bytes(PcmFormat::F32Le, sample_rate_hz, frames, &data),
    )
}

/// Writes mono 16-bit PCM WAV, atomically.
///
/// Each sample is scaled by 32768, rounded to nearest and clipped to `[-32768, 32767]`,
/// the exact inverse of the reader's `x / 32768`: reading a 16-bit file and writing it back
/// gives the same sample values. Values outside `[-1, 1)` clip.
pub fn write_wav_i16(path: &Path, samples: &[f32], sample_rate_hz: u32) -> Result<(), AudioError> {
    let frames = check_writable(path, samples, sample_rate_hz, PcmFormat::S16Le)?;
    let data: Vec<u8> = samples
        .iter()
        .flat_map(|s| {
            let scaled = (f64::from(*s) * 32_768.0).round();
            // Clamped first, so the cast is exact.
            (scaled.clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16).to_le_bytes()
        })
        .collect();
    write_atomically(
        path,
        &wav_bytes(PcmFormat::S16Le, sample_rate_hz, frames, &data),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt_body(tag: u16, channels: u16, rate: u32, block_align: u16, bits: u16) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&tag.to_le_bytes());
        b.extend_from_slice(&channels.to_le_bytes());
        b.extend_from_slice(&rate.to_le_bytes());
        b.extend_from_slice(&(rate * u32::from(block_align)).to_le_bytes());
        b.extend_from_slice(&block_align.to_le_bytes());
        b.extend_from_slice(&bits.to_le_bytes());
        b
    }

    #[test]
    fn parses_plain_pcm_fmt() {
        let f = parse_fmt(&fmt_body(1, 2, 16_000, 4, 16), Path::new("x")).expect("valid");
        assert_eq!(
            f,
            WavFormat {
                format: PcmFormat::S16Le,
                channels: 2,
                sample_rate_hz: 16_000
            }
        );
        assert_eq!(f.frame_bytes(), 4);
    }

    #[test]
    fn guid_text_matches_the_usual_spelling() {
        let mut g = [0_u8; 16];
        g[0] = 1;
        g[2..].copy_from_slice(&GUID_TAIL);
        assert_eq!(guid_text(&g), "{00000001-0000-0010-8000-00AA00389B71}");
    }

    #[test]
    fn fourcc_text_escapes_binary() {
        assert_eq!(fourcc_text(b"LIST"), "LIST");
        assert_eq!(fourcc_text(&[0, b'a', 0xff, b' ']), "\\x00a\\xff ");
    }

    #[test]
    fn written_header_is_consistent() {
        let bytes = wav_bytes(PcmFormat::S16Le, 8_000, 1, &[1, 2]);
        assert_eq!(bytes.len(), 44 + 2);
        assert_eq!(le_u32(&bytes, 4) as usize, bytes.len() - 8);
        let bytes = wav_bytes(PcmFormat::F32Le, 8_000, 1, &[0; 4]);
        assert_eq!(le_u32(&bytes, 4) as usize, bytes.len() - 8);
        assert_eq!(&bytes[38..42], b"fact");
    }
}
