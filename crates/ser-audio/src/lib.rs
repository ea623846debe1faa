//! Audio input for ser: read the audio a user has, hand mono `f32` samples at the analysis
//! rate to the feature extractor.
//!
//! # Formats
//!
//! The container is recognised from the first bytes, never from the file name:
//!
//! | content | reader |
//! |---|---|
//! | `RIFF....WAVE` | our own strict parser ([`load`], [`decode`]) |
//! | `fLaC` | FLAC via symphonia |
//! | `OggS` | Ogg Vorbis (or Ogg FLAC) via symphonia |
//! | `ID3` tag or MPEG frame sync | MP3 (MPEG-1/2 layer III, and I/II) via symphonia |
//! | `FORM....AIFF`, `FORM....AIFC` | AIFF/AIFC (big-endian PCM; AIFC `sowt`, `fl32`/`fl64`, A-law, mu-law) via symphonia |
//! | `RF64`, `RIFX`, MP4, Matroska, ADTS, CAF, AU | clear "... is not supported" error |
//! | anything else (text, ...) | [`AudioError::UnrecognisedFormat`], showing the first bytes |
//!
//! WAV is parsed by hand because the common readers are either too lenient or too strict:
//! hound rejects odd-sized chunks, symphonia silently decodes a truncated file. This reader
//! decodes 8-bit unsigned, 16/24/32-bit signed integer and 32/64-bit float samples,
//! `WAVE_FORMAT_EXTENSIBLE` with the PCM or IEEE-float sub-format (a narrower
//! `wValidBitsPerSample` is fine: the samples sit in the top bits), any number of channels,
//! and skips any chunk it does not need (`LIST`, `FLLR`, `fact`, `bext`, ...), honouring the
//! pad byte after odd-sized chunks. It is strict about everything else:
//!
//! * a chunk or `data` that claims more bytes than the file holds is
//!   [`AudioError::Truncated`]: we do not guess what the missing part was, even when only
//!   a partial last frame is missing (a truncated file is a damaged file, and silently
//!   shorter audio would skew durations and features without anyone noticing);
//! * a `data` chunk that is not a whole number of frames is [`AudioError::PartialFrame`];
//! * the only exception is a `data` size of `0xFFFFFFFF`, the "length unknown" marker of
//!   writers that cannot seek (`ffmpeg ... -f wav pipe:`): the data then runs to the end of
//!   the file and an incomplete last frame is dropped;
//! * the RIFF size field is not trusted (streaming writers leave placeholders in it); the
//!   chunk sizes are, and chunks after `data` are never read;
//! * `block_align` must equal `channels * bits / 8`, the rate must lie in
//!   [`MIN_SAMPLE_RATE_HZ`]`..=`[`MAX_SAMPLE_RATE_HZ`], float samples must be finite.
//!
//! # Scaling and mixing
//!
//! Integers are scaled like libsndfile/soundfile (and therefore `librosa.load`):
//! `u8` as `(x - 128) / 128`, `i16` as `x / 32768`, `i24` as `x / 8388608`,
//! `i32` as `x / 2147483648`; floats are taken as they are. Several channels are mixed to
//! mono by their mean (librosa's `to_mono`): each channel is converted to `f32`, the mean is
//! taken in `f64` and rounded once. [`Audio::channels`] still tells how many channels the
//! source had. On the RAVDESS corpus this gives the same samples as
//! `librosa.load(path, sr=None)`.
//!
//! # Resampling
//!
//! [`resample()`], [`load_at`] and [`StreamResampler`] use rubato's synchronous FFT
//! resampler (exact rational ratio, Blackman-Harris² windowed sinc with at least 1024 taps,
//! cutoff just below the lower Nyquist frequency), return `ceil(n * to / from)` samples like
//! `librosa.resample`, and compensate the filter delay so the output is time-aligned with
//! the input. See [`mod@resample`] for the parameters and the reasons.
//!
//! # Streaming
//!
//! [`PcmStreamReader`] turns raw interleaved PCM (or a WAV stream from `sox ... -t wav -` /
//! `arecord`) arriving on a pipe into mono chunks, converted exactly like files;
//! [`StreamResampler`] brings them to the analysis rate incrementally.
//!
//! # Writing
//!
//! [`write_wav_f32`] and [`write_wav_i16`] write mono WAV atomically (temporary file in the
//! same folder, then rename).
//!
//! # Bounded decoding
//!
//! [`decode_limited`] refuses audio longer than a given duration ([`AudioError::TooLong`])
//! without holding more of it than that: WAV, AIFF and FLAC lengths are read from their
//! headers before anything is decoded, MP3 and Ogg (and FLAC without a length) are decoded
//! only until they pass the limit. A small upload of low-rate or low-bitrate audio can be
//! hours of sound, gigabytes once decoded.
//!
//! # Errors
//!
//! Nothing here panics on bad input: every problem is an [`AudioError`] that names the file
//! (or stream) and carries the numbers involved.

pub mod band;
mod compressed;
mod error;
mod pcm;
pub mod resample;
mod sniff;
mod stream;
mod wav;

use std::path::Path;

pub use band::{BandLimitedStream, band_limit, band_limited_len, band_rate, resample_band_limited};
pub use error::{AudioError, ParsePcmFormatError};
pub use pcm::PcmFormat;
pub use resample::{StreamResampler, resample, resampled_len};
pub use stream::PcmStreamReader;
pub use wav::{write_wav_f32, write_wav_i16};

/// The lowest sample rate accepted anywhere (files, streams, resampling).
pub const MIN_SAMPLE_RATE_HZ: u32 = 1_000;
/// The highest sample rate accepted anywhere (files, streams, resampling).
pub const MAX_SAMPLE_RATE_HZ: u32 = 768_000;

/// Decoded audio: mono samples at the source's sample rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    /// Mono samples, nominally in `[-1, 1]` (the mean of the source channels).
    pub samples: Vec<f32>,
    /// Samples per second.
    pub sample_rate_hz: u32,
    /// Number of channels in the source (before mixing to mono).
    pub channels: u16,
}

impl Audio {
    /// Length in seconds.
    pub fn duration_s(&self) -> f64 {
        if self.sample_rate_hz == 0 {
            return 0.0;
        }
        self.samples.len() as f64 / f64::from(self.sample_rate_hz)
    }

    /// This audio at another sample rate (a clone when the rate is already `sample_rate_hz`).
    pub fn resampled(&self, sample_rate_hz: u32) -> Result<Audio, AudioError> {
        Ok(Audio {
            samples: resample(&self.samples, self.sample_rate_hz, sample_rate_hz)?,
            sample_rate_hz,
            channels: self.channels,
        })
    }
}

/// Rejects sample rates outside [`MIN_SAMPLE_RATE_HZ`]`..=`[`MAX_SAMPLE_RATE_HZ`].
pub(crate) fn check_sample_rate(sample_rate_hz: u32, path: &Path) -> Result<(), AudioError> {
    if (MIN_SAMPLE_RATE_HZ..=MAX_SAMPLE_RATE_HZ).contains(&sample_rate_hz) {
        Ok(())
    } else {
        Err(AudioError::BadSampleRate {
            path: path.to_path_buf(),
            sample_rate_hz,
        })
    }
}

/// Reads an audio file (WAV, FLAC, MP3, Ogg Vorbis, AIFF/AIFC) as mono at its own sample rate.
pub fn load(path: &Path) -> Result<Audio, AudioError> {
    decode_from(&read_file(path)?, path)
}

/// As [`load`], refusing audio longer than `max_duration` with [`AudioError::TooLong`] as
/// [`decode_limited`] does (WAV, FLAC and AIFF by their headers, before anything is decoded):
/// a small file of low-rate audio can be hours of sound. The file's bytes are read whole
/// first.
pub fn load_limited(path: &Path, max_duration: std::time::Duration) -> Result<Audio, AudioError> {
    decode_from_limited(&read_file(path)?, path, Some(max_duration))
}

/// A file's bytes; a folder or a missing file is an error naming it.
fn read_file(path: &Path) -> Result<Vec<u8>, AudioError> {
    let metadata = std::fs::metadata(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            AudioError::NotFound {
                path: path.to_path_buf(),
            }
        } else {
            AudioError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    if metadata.is_dir() {
        return Err(AudioError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    std::fs::read(path).map_err(|source| AudioError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads an audio file as mono at `sample_rate_hz`, resampling when the file's rate differs.
pub fn load_at(path: &Path, sample_rate_hz: u32) -> Result<Audio, AudioError> {
    load_band_limited(path, sample_rate_hz, None)
}

/// Reads an audio file as mono at `sample_rate_hz` through the band `band_hz` (see
/// [`mod@band`]; `None`: no band limit): what every entry point of a model with a conditioned
/// front end reads.
pub fn load_band_limited(
    path: &Path,
    sample_rate_hz: u32,
    band_hz: Option<u32>,
) -> Result<Audio, AudioError> {
    let audio = load(path)?;
    if audio.sample_rate_hz == sample_rate_hz && band_rate(sample_rate_hz, band_hz).is_none() {
        return Ok(audio);
    }
    let samples = resample_band_limited(
        &audio.samples,
        audio.sample_rate_hz,
        sample_rate_hz,
        band_hz,
    )
    .map_err(|e| match e {
        // Name the file, not just the rates, when the target rate is the problem.
        AudioError::BadResampleRate { .. } => AudioError::BadSampleRate {
            path: path.to_path_buf(),
            sample_rate_hz,
        },
        other => other,
    })?;
    Ok(Audio {
        samples,
        sample_rate_hz,
        channels: audio.channels,
    })
}

/// Whether the first bytes of a file (a few dozen suffice) start a container this crate
/// decodes (WAV, FLAC, AIFF/AIFC, Ogg, MP3): a cheap check before the full decode.
pub fn is_decodable_header(head: &[u8]) -> bool {
    sniff::sniff(head, Path::new("")).is_ok()
}

/// Decodes a complete audio file held in memory; `source` names it in error messages.
pub fn decode(bytes: &[u8], source: &str) -> Result<Audio, AudioError> {
    decode_from(bytes, Path::new(source))
}

/// As [`decode`], refusing audio longer than `max_duration` with [`AudioError::TooLong`]
/// without holding more of it than the limit: a WAV file's length is known from its `data`
/// chunk and a FLAC or AIFF file's from its header (refused before anything is decoded);
/// MP3, Ogg, and FLAC without a length in `STREAMINFO` are decoded only until they pass the
/// limit (by at most [`LIMIT_SLACK_FRAMES`] frames and one packet). A file of exactly the
/// limit is accepted.
///
/// This is what a server wants: a small upload of compressed or low-rate audio can be hours
/// of sound, gigabytes once decoded.
pub fn decode_limited(
    bytes: &[u8],
    source: &str,
    max_duration: std::time::Duration,
) -> Result<Audio, AudioError> {
    decode_from_limited(bytes, Path::new(source), Some(max_duration))
}

/// Frames past the limit that [`decode_limited`] decodes before refusing a stream whose
/// length it learns only by decoding (the last packets of a stream can be trimmed to its
/// declared length, so the limit is checked exactly on the result, not on the way).
pub const LIMIT_SLACK_FRAMES: u64 = 1 << 16;

/// `max_duration` in whole frames at `sample_rate_hz` (rounded down: `frames > limit` is
/// exactly `frames / rate > max_duration`).
pub(crate) fn max_frames(max_duration: std::time::Duration, sample_rate_hz: u32) -> u64 {
    let frames = max_duration.as_nanos() * u128::from(sample_rate_hz) / 1_000_000_000;
    u64::try_from(frames).unwrap_or(u64::MAX)
}

/// The [`AudioError::TooLong`] of `frames` at `sample_rate_hz` against `max_duration`.
pub(crate) fn too_long(
    path: &Path,
    max_duration: std::time::Duration,
    sample_rate_hz: u32,
    frames: u64,
    whole: bool,
) -> AudioError {
    AudioError::TooLong {
        path: path.to_path_buf(),
        max_duration_s: max_duration.as_secs_f64(),
        max_frames: max_frames(max_duration, sample_rate_hz),
        sample_rate_hz,
        frames,
        whole,
    }
}

fn decode_from(bytes: &[u8], path: &Path) -> Result<Audio, AudioError> {
    decode_from_limited(bytes, path, None)
}

fn decode_from_limited(
    bytes: &[u8],
    path: &Path,
    limit: Option<std::time::Duration>,
) -> Result<Audio, AudioError> {
    match sniff::sniff(bytes, path)? {
        sniff::Container::Wav => wav::decode_wav(bytes, path, limit),
        sniff::Container::Compressed(kind, offset) => {
            compressed::decode_compressed(&bytes[offset..], kind, path, limit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_is_samples_over_rate() {
        let audio = Audio {
            samples: vec![0.0; 24_000],
            sample_rate_hz: 16_000,
            channels: 2,
        };
        assert_eq!(audio.duration_s(), 1.5);
    }

    #[test]
    fn sample_rate_bounds_are_inclusive() {
        let p = Path::new("x");
        assert!(check_sample_rate(MIN_SAMPLE_RATE_HZ, p).is_ok());
        assert!(check_sample_rate(MAX_SAMPLE_RATE_HZ, p).is_ok());
        assert!(check_sample_rate(MIN_SAMPLE_RATE_HZ - 1, p).is_err());
        assert!(check_sample_rate(MAX_SAMPLE_RATE_HZ + 1, p).is_err());
    }
}
