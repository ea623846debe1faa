//! AIFF/AIFC, FLAC, MP3 and Ogg Vorbis through symphonia (pure Rust).
//!
//! The container was already chosen by [`crate::sniff`] from the magic bytes, so the matching
//! symphonia reader is built directly (no probing that might latch onto a marker in the
//! middle of garbage). The first decodable track is decoded completely; its channels are
//! averaged to mono like the WAV path. Gapless information (MP3 LAME encoder delay and
//! padding, FLAC/Vorbis exact lengths) is honoured.
//!
//! # AIFF and AIFC
//!
//! Big-endian integer PCM (8/16/24/32-bit), and in AIFC also `sowt` (little-endian 16-bit),
//! `fl32`/`fl64` floats, A-law and mu-law, decoded by symphonia's `pcm` codec and scaled like
//! the WAV reader (`i16 / 32768`, `i24 / 8388608`, ...; 8-bit AIFF samples are signed, so
//! `i8 / 128`). Before symphonia sees the file we walk its chunks ourselves (Apple, *Audio
//! Interchange File Format "AIFF"*, version 1.3, 1989, and the AIFF-C draft of 1991: a `FORM`
//! chunk holding even-padded chunks; `COMM` = channels `i16`, `numSampleFrames` `u32`,
//! sample size `i16`, rate as an 80-bit IEEE 754 extended float; `SSND` = offset `u32`,
//! block size `u32`, then the sample frames), because symphonia 0.5
//!
//! * ends the sound data 8 bytes too late (it counts `SSND`'s offset and block-size fields
//!   as sound bytes), so it returns 8 bytes' worth of extra frames read from past the end of
//!   the file or from the next chunk (measured: 5004 frames from a 5000-frame mono 16-bit
//!   file), and
//! * reads a cut-off file without complaint (like its WAV reader).
//!
//! So the walk checks that `COMM` and `SSND` are there and that `SSND` is complete (else
//! [`AudioError::Truncated`], as for WAV); symphonia is given the file up to the end of the
//! sound data plus 8 bytes of zeros (so that what it over-reads is defined), its output is
//! cut to the whole frames `SSND` holds, and then to `numSampleFrames`, the count the format
//! defines; a file holding fewer frames than that is an error.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::Duration;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CODEC_TYPE_NULL, DecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};

use crate::error::AudioError;
use crate::wav::fourcc_text;
use crate::{Audio, check_sample_rate};

/// The containers this crate decodes through symphonia.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compressed {
    /// AIFF or AIFC (`FORM....AIFF` / `FORM....AIFC`).
    Aiff,
    /// Native FLAC (`fLaC`).
    Flac,
    /// MPEG audio (layer I/II/III) frames, any ID3v2 tag already skipped.
    Mp3,
    /// Ogg (`OggS`); the codec inside must be Vorbis or FLAC.
    Ogg,
}

/// Decodes a compressed file held in memory.
///
/// Symphonia is third-party code fed with untrusted bytes: a panic inside it (a decoder
/// bug) is caught and reported as [`AudioError::Decode`] instead of taking the caller down.
///
/// With `limit`, audio longer than it is [`AudioError::TooLong`]: refused before decoding when
/// the header's length is exact (FLAC `STREAMINFO`, AIFF `numSampleFrames`), else as soon as
/// the decoded frames pass the limit by [`crate::LIMIT_SLACK_FRAMES`], so that no more than
/// that is ever held.
pub(crate) fn decode_compressed(
    bytes: &[u8],
    kind: Compressed,
    path: &Path,
    limit: Option<Duration>,
) -> Result<Audio, AudioError> {
    match catch_unwind(AssertUnwindSafe(|| decode_inner(bytes, kind, path, limit))) {
        Ok(result) => result,
        Err(_) => Err(AudioError::Decode {
            path: path.to_path_buf(),
            detail: "the decoder crashed on this input (malformed stream)".to_owned(),
        }),
    }
}

fn map_error(err: SymphoniaError, path: &Path) -> AudioError {
    match err {
        SymphoniaError::Unsupported(what) => AudioError::UnsupportedCodec {
            path: path.to_path_buf(),
            detail: what.to_owned(),
        },
        SymphoniaError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            AudioError::Decode {
                path: path.to_path_buf(),
                detail: "stream ends before its headers are complete".to_owned(),
            }
        }
        other => AudioError::Decode {
            path: path.to_path_buf(),
            detail: other.to_string(),
        },
    }
}

/// Size of an IFF chunk header (id + big-endian size).
const IFF_CHUNK_HEADER_BYTES: usize = 8;
/// Size of the `FORM <size> AIFF` preamble.
const FORM_HEADER_BYTES: usize = 12;
/// Size of the `COMM` body of plain AIFF (AIFC adds the compression type and name).
const COMM_MIN_BYTES: usize = 18;
/// `SSND`'s offset and block-size fields, before the sample frames.
const SSND_HEADER_BYTES: usize = 8;

/// What our own walk over an AIFF/AIFC file found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AiffLayout {
    /// Byte offset just past the last sample byte of `SSND`.
    sound_end: usize,
    /// `numSampleFrames` of `COMM`: the exact length.
    frames: u64,
    /// Whole frames that `SSND` holds, when the encoding is one we know the frame size of.
    held_frames: Option<u64>,
}

/// What `COMM` says about the frame size.
#[derive(Debug, Clone, Copy)]
struct AiffComm {
    /// `numSampleFrames`.
    frames: u64,
    /// Bytes per frame (all channels), `None` for an encoding we do not know.
    frame_bytes: Option<u64>,
}

/// Reads `numSampleFrames` and the frame size from a `COMM` body of at least
/// [`COMM_MIN_BYTES`] bytes (`aifc`: the form is AIFC, so a compression type may follow).
fn parse_comm(body: &[u8], aifc: bool) -> AiffComm {
    let channels = i16::from_be_bytes([body[0], body[1]]);
    let frames = u64::from(be_u32(body, 2));
    let bits = i16::from_be_bytes([body[6], body[7]]);
    let compression = if aifc { body.get(18..22) } else { None };
    let bytes_per_sample = match compression {
        None | Some(b"NONE" | b"none" | b"twos" | b"TWOS" | b"sowt" | b"SOWT") => {
            u64::try_from(bits).ok().map(|b| b.div_ceil(8))
        }
        Some(b"fl32" | b"FL32" | b"fl64" | b"FL64") => u64::try_from(bits).ok().map(|b| b / 8),
        // One byte per sample, decoded to 16 bits (ITU-T G.711).
        Some(b"alaw" | b"ALAW" | b"ulaw" | b"ULAW") => Some(1),
        Some(_) => None,
    };
    let frame_bytes = u64::try_from(channels)
        .ok()
        .zip(bytes_per_sample)
        .map(|(c, b)| c * b)
        .filter(|&n| n > 0);
    AiffComm {
        frames,
        frame_bytes,
    }
}

fn be_u32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Walks the chunks of an AIFF/AIFC file (see the module docs): `COMM` must come before
/// `SSND` (symphonia stops at `SSND`), and both must be complete.
fn aiff_layout(bytes: &[u8], path: &Path) -> Result<AiffLayout, AudioError> {
    let truncated =
        |chunk: &str, offset: usize, claimed: usize, available: usize| AudioError::Truncated {
            path: path.to_path_buf(),
            chunk: chunk.to_owned(),
            offset: offset as u64,
            claimed_bytes: claimed as u64,
            available_bytes: available as u64,
        };
    if bytes.len() < FORM_HEADER_BYTES {
        return Err(truncated("FORM header", 0, FORM_HEADER_BYTES, bytes.len()));
    }
    let aifc = &bytes[8..12] == b"AIFC";
    let mut comm: Option<AiffComm> = None;
    let mut pos = FORM_HEADER_BYTES;
    loop {
        if bytes.len().saturating_sub(pos) < IFF_CHUNK_HEADER_BYTES {
            return Err(AudioError::Decode {
                path: path.to_path_buf(),
                detail: format!(
                    "AIFF has no `{}` chunk",
                    if comm.is_none() { "COMM" } else { "SSND" }
                ),
            });
        }
        let id = &bytes[pos..pos + 4];
        let size = be_u32(bytes, pos + 4) as usize;
        let body = pos + IFF_CHUNK_HEADER_BYTES;
        let available = bytes.len() - body;
        let name = fourcc_text(id);
        if id == b"SSND" && comm.is_none() {
            return Err(AudioError::Decode {
                path: path.to_path_buf(),
                detail: "AIFF with its `SSND` chunk before `COMM` is not supported".to_owned(),
            });
        }
        if size > available {
            return Err(truncated(&name, body, size, available));
        }
        if id == b"COMM" {
            if size < COMM_MIN_BYTES {
                return Err(AudioError::Decode {
                    path: path.to_path_buf(),
                    detail: format!(
                        "AIFF `COMM` chunk has {size} bytes, at least {COMM_MIN_BYTES} are needed"
                    ),
                });
            }
            comm = Some(parse_comm(&bytes[body..body + size], aifc));
        } else if id == b"SSND"
            && let Some(comm) = comm
        {
            if size < SSND_HEADER_BYTES {
                return Err(AudioError::Decode {
                    path: path.to_path_buf(),
                    detail: format!(
                        "AIFF `SSND` chunk has {size} bytes, at least {SSND_HEADER_BYTES} are needed"
                    ),
                });
            }
            let offset = u64::from(be_u32(bytes, body));
            let sound_bytes = (size - SSND_HEADER_BYTES) as u64;
            return Ok(AiffLayout {
                sound_end: body + size,
                frames: comm.frames,
                held_frames: comm
                    .frame_bytes
                    .map(|n| sound_bytes.saturating_sub(offset) / n),
            });
        }
        // Chunks are padded to an even length; the pad byte is not counted in the size.
        pos = body + size + (size & 1);
    }
}

fn open_reader(
    bytes: &[u8],
    kind: Compressed,
    path: &Path,
) -> Result<Box<dyn FormatReader>, AudioError> {
    // symphonia wants an owned 'static source; the copy is small next to decoding.
    let source = Box::new(Cursor::new(bytes.to_vec()));
    let stream = MediaSourceStream::new(source, MediaSourceStreamOptions::default());
    let options = FormatOptions {
        enable_gapless: true,
        ..FormatOptions::default()
    };
    let reader: Result<Box<dyn FormatReader>, SymphoniaError> = match kind {
        Compressed::Aiff => symphonia::default::formats::AiffReader::try_new(stream, &options)
            .map(|r| Box::new(r) as Box<dyn FormatReader>),
        Compressed::Flac => symphonia::default::formats::FlacReader::try_new(stream, &options)
            .map(|r| Box::new(r) as Box<dyn FormatReader>),
        Compressed::Mp3 => symphonia::default::formats::MpaReader::try_new(stream, &options)
            .map(|r| Box::new(r) as Box<dyn FormatReader>),
        Compressed::Ogg => symphonia::default::formats::OggReader::try_new(stream, &options)
            .map(|r| Box::new(r) as Box<dyn FormatReader>),
    };
    reader.map_err(|e| map_error(e, path))
}

fn decode_inner(
    bytes: &[u8],
    kind: Compressed,
    path: &Path,
    limit: Option<Duration>,
) -> Result<Audio, AudioError> {
    let aiff = if kind == Compressed::Aiff {
        Some(aiff_layout(bytes, path)?)
    } else {
        None
    };
    let mut reader = match aiff {
        Some(layout) => {
            // Up to the end of the sound data, plus the 8 bytes symphonia reads past it.
            let mut padded = Vec::with_capacity(layout.sound_end + SSND_HEADER_BYTES);
            padded.extend_from_slice(&bytes[..layout.sound_end]);
            padded.resize(layout.sound_end + SSND_HEADER_BYTES, 0);
            open_reader(&padded, kind, path)?
        }
        None => open_reader(bytes, kind, path)?,
    };
    let track = reader
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| AudioError::UnsupportedCodec {
            path: path.to_path_buf(),
            detail: "no audio track with a known codec".to_owned(),
        })?;
    let track_id = track.id;
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| map_error(e, path))?;
    // Exact length from the container (FLAC STREAMINFO, Ogg final granule position, MP3
    // Xing/LAME header, AIFF `numSampleFrames`) when it has one.
    let declared_frames = match aiff {
        Some(layout) => Some(layout.frames),
        None => track.codec_params.n_frames,
    };
    // symphonia reads 8 bytes past the sound data (the zeros we padded with) as audio: only
    // the frames `SSND` holds are real.
    let held_frames = aiff.and_then(|layout| layout.held_frames);
    // The formats whose declared length is exact, so that fewer frames mean a damaged file.
    let exact_length = matches!(kind, Compressed::Flac | Compressed::Aiff);
    let mut rate_and_channels = track
        .codec_params
        .sample_rate
        .zip(track.codec_params.channels.map(|c| c.count()));
    if let (Some(limit), Some(declared), Some(rate), true) = (
        limit,
        declared_frames,
        track.codec_params.sample_rate,
        exact_length,
    ) && declared > crate::max_frames(limit, rate)
    {
        // The length is exact: no need to decode anything to refuse it.
        check_sample_rate(rate, path)?;
        return Err(crate::too_long(path, limit, rate, declared, true));
    }

    let mut samples: Vec<f32> = Vec::new();
    let mut buffer: Option<SampleBuffer<f32>> = None;
    loop {
        let packet = match reader.next_packet() {
            Ok(packet) => packet,
            // The normal end of a symphonia stream.
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break;
            }
            Err(e) => return Err(map_error(e, path)),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = decoder.decode(&packet).map_err(|e| map_error(e, path))?;
        let spec = *decoded.spec();
        let channels = spec.channels.count();
        match rate_and_channels {
            None => rate_and_channels = Some((spec.rate, channels)),
            Some(expected) if expected != (spec.rate, channels) => {
                return Err(AudioError::Decode {
                    path: path.to_path_buf(),
                    detail: format!(
                        "stream changes from {} Hz x {} channels to {} Hz x {} channels",
                        expected.0, expected.1, spec.rate, channels
                    ),
                });
            }
            Some(_) => {}
        }
        if decoded.frames() == 0 || channels == 0 {
            continue;
        }
        let needed = decoded.capacity() as u64;
        let sample_buffer = match &mut buffer {
            Some(b) if b.capacity() as u64 >= needed * channels as u64 => b,
            slot => slot.insert(SampleBuffer::new(needed, spec)),
        };
        sample_buffer.copy_interleaved_ref(decoded);
        let interleaved = sample_buffer.samples();
        if channels == 1 {
            samples.extend_from_slice(interleaved);
        } else {
            let divisor = channels as f64;
            samples.extend(
                interleaved.chunks_exact(channels).map(|frame| {
                    (frame.iter().map(|&s| f64::from(s)).sum::<f64>() / divisor) as f32
                }),
            );
        }
        if let Some(limit) = limit {
            // Before the limit is worked out from it, the rate must be one we accept.
            check_sample_rate(spec.rate, path)?;
            let max = crate::max_frames(limit, spec.rate);
            if samples.len() as u64 > max.saturating_add(crate::LIMIT_SLACK_FRAMES) {
                if declared_frames.is_some_and(|d| d <= max) {
                    // Cut to the declared length below anyway: the rest is not audio.
                    break;
                }
                return Err(crate::too_long(
                    path,
                    limit,
                    spec.rate,
                    samples.len() as u64,
                    false,
                ));
            }
        }
    }

    if let Some(held) = held_frames.and_then(|n| usize::try_from(n).ok()) {
        samples.truncate(held);
    }
    if let Some(declared) = declared_frames.and_then(|n| usize::try_from(n).ok()) {
        if samples.len() > declared {
            // symphonia does not always trim the last Vorbis page to its granule position
            // (e.g. when all audio sits in one page): the container's count is authoritative.
            samples.truncate(declared);
        } else if exact_length && samples.len() < declared {
            // STREAMINFO's and COMM's counts are exact: fewer frames means the file was cut
            // short (or, for AIFF, that `SSND` holds fewer frames than `COMM` announces).
            return Err(AudioError::Decode {
                path: path.to_path_buf(),
                detail: format!(
                    "truncated: the stream ends after {} of the {declared} samples its header announces",
                    samples.len()
                ),
            });
        }
    }
    let (sample_rate_hz, channels) = rate_and_channels.ok_or_else(|| AudioError::Decode {
        path: path.to_path_buf(),
        detail: "no sample rate or channel count in the stream".to_owned(),
    })?;
    check_sample_rate(sample_rate_hz, path)?;
    if let Some(limit) = limit
        && samples.len() as u64 > crate::max_frames(limit, sample_rate_hz)
    {
        return Err(crate::too_long(
            path,
            limit,
            sample_rate_hz,
            samples.len() as u64,
            true,
        ));
    }
    let channels = u16::try_from(channels).unwrap_or(u16::MAX);
    if channels == 0 {
        return Err(AudioError::ZeroChannels {
            path: path.to_path_buf(),
        });
    }
    if samples.is_empty() {
        return Err(AudioError::ZeroSamples {
            path: path.to_path_buf(),
        });
    }
    if let Some((frame, value)) = (0_u64..).zip(&samples).find(|(_, v)| !v.is_finite()) {
        return Err(AudioError::NonFiniteSample {
            path: path.to_path_buf(),
            frame,
            channel: 0,
            value: f64::from(*value),
        });
    }
    Ok(Audio {
        samples,
        sample_rate_hz,
        channels,
    })
}
