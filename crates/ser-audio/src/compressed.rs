//! FLAC, MP3 and Ogg Vorbis through symphonia (pure Rust).
//!
//! The container was already chosen by [`crate::sniff`] from the magic bytes, so the matching
//! symphonia reader is built directly (no probing that might latch onto a marker in the
//! middle of garbage). The first decodable track is decoded completely; its channels are
//! averaged to mono like the WAV path. Gapless information (MP3 LAME encoder delay and
//! padding, FLAC/Vorbis exact lengths) is honoured.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CODEC_TYPE_NULL, DecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};

use crate::error::AudioError;
use crate::{Audio, check_sample_rate};

/// The compressed containers this crate decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compressed {
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
pub(crate) fn decode_compressed(
    bytes: &[u8],
    kind: Compressed,
    path: &Path,
) -> Result<Audio, AudioError> {
    match catch_unwind(AssertUnwindSafe(|| decode_inner(bytes, kind, path))) {
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
        Compressed::Flac => symphonia::default::formats::FlacReader::try_new(stream, &options)
            .map(|r| Box::new(r) as Box<dyn FormatReader>),
        Compressed::Mp3 => symphonia::default::formats::MpaReader::try_new(stream, &options)
            .map(|r| Box::new(r) as Box<dyn FormatReader>),
        Compressed::Ogg => symphonia::default::formats::OggReader::try_new(stream, &options)
            .map(|r| Box::new(r) as Box<dyn FormatReader>),
    };
    reader.map_err(|e| map_error(e, path))
}

fn decode_inner(bytes: &[u8], kind: Compressed, path: &Path) -> Result<Audio, AudioError> {
    let mut reader = open_reader(bytes, kind, path)?;
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
    // Xing/LAME header) when it has one.
    let declared_frames = track.codec_params.n_frames;
    let mut rate_and_channels = track
        .codec_params
        .sample_rate
        .zip(track.codec_params.channels.map(|c| c.count()));

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
    }

    if let Some(declared) = declared_frames.and_then(|n| usize::try_from(n).ok()) {
        if samples.len() > declared {
            // symphonia does not always trim the last Vorbis page to its granule position
            // (e.g. when all audio sits in one page): the container's count is authoritative.
            samples.truncate(declared);
        } else if kind == Compressed::Flac && samples.len() < declared {
            // STREAMINFO's count is exact: fewer frames means the file was cut short.
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
