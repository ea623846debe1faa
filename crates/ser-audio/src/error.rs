//! The error type of this crate.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while reading, resampling or writing audio.
///
/// Every variant that concerns a file carries its `path` (for [`crate::decode`] and the
/// streaming reader this is the source name the caller gave) and the numbers involved, so
/// that the message alone tells the user what is wrong with which file.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The file does not exist.
    #[error("{}: no such file", .path.display())]
    NotFound {
        /// The path that was asked for.
        path: PathBuf,
    },

    /// The path names a directory, not a file.
    #[error("{}: is a directory, not an audio file", .path.display())]
    NotAFile {
        /// The directory.
        path: PathBuf,
    },

    /// Reading or writing failed at the operating-system level.
    #[error("{}: I/O error: {source}", .path.display())]
    Io {
        /// The file or stream.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// The file has zero bytes.
    #[error("{}: file is empty (0 bytes)", .path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },

    /// The content matches no known audio signature (e.g. a text file named `.wav`).
    #[error(
        "{}: not a recognised audio file (starts with {magic}); supported: WAV, AIFF/AIFC, FLAC, MP3, Ogg Vorbis",
        .path.display()
    )]
    UnrecognisedFormat {
        /// The file.
        path: PathBuf,
        /// The first bytes, in hex and as text, for the message.
        magic: String,
    },

    /// A known audio container that this crate does not read (RF64, MP4, ...).
    #[error(
        "{}: {container} is not supported (supported: WAV, AIFF/AIFC, FLAC, MP3, Ogg Vorbis)",
        .path.display()
    )]
    UnsupportedContainer {
        /// The file.
        path: PathBuf,
        /// What the content was recognised as.
        container: &'static str,
    },

    /// A required RIFF chunk is absent.
    #[error("{}: WAV has no `{chunk}` chunk", .path.display())]
    MissingChunk {
        /// The file.
        path: PathBuf,
        /// The four-character chunk id.
        chunk: &'static str,
    },

    /// A chunk that must appear once appears again.
    #[error("{}: WAV has a second `{chunk}` chunk at byte {offset}", .path.display())]
    DuplicateChunk {
        /// The file.
        path: PathBuf,
        /// The four-character chunk id.
        chunk: &'static str,
        /// Byte offset of the second chunk header.
        offset: u64,
    },

    /// The `fmt ` chunk is too short for the format it declares.
    #[error(
        "{}: `fmt ` chunk has {fmt_bytes} bytes, format tag {format_tag:#06x} needs at least {min_bytes}",
        .path.display()
    )]
    BadFmtChunk {
        /// The file.
        path: PathBuf,
        /// Size of the `fmt ` chunk body.
        fmt_bytes: u64,
        /// Minimum size for the declared format.
        min_bytes: u64,
        /// The declared format tag (0 when the chunk is too short to hold one).
        format_tag: u16,
    },

    /// A header or chunk claims more bytes than the file (or stream) holds.
    #[error(
        "{}: truncated: `{chunk}` at byte {offset} claims {claimed_bytes} bytes but only {available_bytes} are there",
        .path.display()
    )]
    Truncated {
        /// The file or stream.
        path: PathBuf,
        /// The chunk (or header) that is cut short.
        chunk: String,
        /// Byte offset where that chunk's body starts.
        offset: u64,
        /// Bytes the header claims.
        claimed_bytes: u64,
        /// Bytes actually present.
        available_bytes: u64,
    },

    /// The data chunk does not hold a whole number of sample frames.
    #[error(
        "{}: `data` chunk has {data_bytes} bytes, not a multiple of the {block_align}-byte frame",
        .path.display()
    )]
    PartialFrame {
        /// The file.
        path: PathBuf,
        /// Size of the data chunk.
        data_bytes: u64,
        /// Bytes per frame (all channels).
        block_align: u16,
    },

    /// The WAV format tag is not PCM, IEEE float or EXTENSIBLE (e.g. A-law, ADPCM).
    #[error(
        "{}: unsupported WAV encoding {name} (format tag {format_tag:#06x}); supported: integer PCM and IEEE float",
        .path.display()
    )]
    UnsupportedFormatTag {
        /// The file.
        path: PathBuf,
        /// The `wFormatTag` value (or the sub-format code of an EXTENSIBLE file).
        format_tag: u16,
        /// A human name for the tag, `"unknown"` if we have none.
        name: &'static str,
    },

    /// A WAVE_FORMAT_EXTENSIBLE sub-format GUID that is neither PCM nor IEEE float.
    #[error(
        "{}: unsupported WAVE_FORMAT_EXTENSIBLE sub-format {guid}; supported: PCM and IEEE float",
        .path.display()
    )]
    UnsupportedSubFormat {
        /// The file.
        path: PathBuf,
        /// The GUID in its usual text form.
        guid: String,
    },

    /// The sample width is not one we decode (e.g. 12-bit PCM, 16-bit float).
    #[error(
        "{}: unsupported bit depth: {bits_per_sample}-bit {encoding}; supported: 8/16/24/32-bit integer, 32/64-bit float",
        .path.display()
    )]
    UnsupportedBitDepth {
        /// The file or stream.
        path: PathBuf,
        /// `"integer PCM"` or `"IEEE float"`.
        encoding: &'static str,
        /// The declared bits per sample.
        bits_per_sample: u16,
    },

    /// EXTENSIBLE declares more valid bits than its containers hold, or none.
    #[error(
        "{}: {valid_bits} valid bits per sample do not fit {container_bits}-bit containers",
        .path.display()
    )]
    BadValidBits {
        /// The file.
        path: PathBuf,
        /// `wValidBitsPerSample`.
        valid_bits: u16,
        /// `wBitsPerSample`.
        container_bits: u16,
    },

    /// `block_align` disagrees with `channels * bits_per_sample / 8`.
    #[error(
        "{}: block_align is {block_align} but {channels} channels of {bits_per_sample}-bit samples need {expected}",
        .path.display()
    )]
    BadBlockAlign {
        /// The file.
        path: PathBuf,
        /// The declared `nBlockAlign`.
        block_align: u16,
        /// The declared channel count.
        channels: u16,
        /// The declared bits per sample.
        bits_per_sample: u16,
        /// What `block_align` should be.
        expected: u32,
    },

    /// The header declares zero channels.
    #[error("{}: zero channels", .path.display())]
    ZeroChannels {
        /// The file or stream.
        path: PathBuf,
    },

    /// The sample rate is outside [`crate::MIN_SAMPLE_RATE_HZ`]`..=`[`crate::MAX_SAMPLE_RATE_HZ`].
    #[error(
        "{}: sample rate {sample_rate_hz} Hz is outside the accepted {min_hz}..={max_hz} Hz",
        .path.display(),
        min_hz = crate::MIN_SAMPLE_RATE_HZ,
        max_hz = crate::MAX_SAMPLE_RATE_HZ
    )]
    BadSampleRate {
        /// The file or stream.
        path: PathBuf,
        /// The declared rate.
        sample_rate_hz: u32,
    },

    /// The file is well formed but holds no samples.
    #[error("{}: the audio has zero samples", .path.display())]
    ZeroSamples {
        /// The file.
        path: PathBuf,
    },

    /// A float sample is NaN or infinite (in a file being read, or in samples being written).
    #[error(
        "{}: sample {value} at frame {frame}, channel {channel} is not finite",
        .path.display()
    )]
    NonFiniteSample {
        /// The file or stream.
        path: PathBuf,
        /// Frame index (0-based).
        frame: u64,
        /// Channel index (0-based).
        channel: u16,
        /// The offending value.
        value: f64,
    },

    /// The compressed stream uses a codec this build cannot decode (e.g. Opus, AAC).
    #[error("{}: unsupported codec: {detail}", .path.display())]
    UnsupportedCodec {
        /// The file.
        path: PathBuf,
        /// What the decoder reported.
        detail: String,
    },

    /// The compressed stream is malformed.
    #[error("{}: cannot decode: {detail}", .path.display())]
    Decode {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },

    /// A resampling rate is outside the accepted range.
    #[error(
        "cannot resample {from_hz} Hz -> {to_hz} Hz: rates must lie in {min_hz}..={max_hz} Hz",
        min_hz = crate::MIN_SAMPLE_RATE_HZ,
        max_hz = crate::MAX_SAMPLE_RATE_HZ
    )]
    BadResampleRate {
        /// Input rate.
        from_hz: u32,
        /// Output rate.
        to_hz: u32,
    },

    /// The resampling engine failed (should not happen with the sizes this crate uses).
    #[error("resampling {from_hz} Hz -> {to_hz} Hz failed: {detail}")]
    Resampler {
        /// Input rate.
        from_hz: u32,
        /// Output rate.
        to_hz: u32,
        /// What the engine reported.
        detail: String,
    },

    /// The audio lasts longer than the limit given to [`crate::decode_limited`]; decoding
    /// stopped there (or did not start, when the header declares the length).
    #[error(
        "{}: the audio lasts {} s, longer than the limit of {} s ({max_frames} frames at {sample_rate_hz} Hz)",
        .path.display(),
        too_long_seconds(*.frames, *.sample_rate_hz, *.whole),
        .max_duration_s
    )]
    TooLong {
        /// The file or stream.
        path: PathBuf,
        /// The limit, in seconds.
        max_duration_s: f64,
        /// The limit in frames at the audio's rate.
        max_frames: u64,
        /// The audio's sample rate.
        sample_rate_hz: u32,
        /// The whole length (`whole`: as the header declares it, or decoded to the end), or
        /// else the frames decoded when decoding stopped (a lower bound); above `max_frames`
        /// either way.
        frames: u64,
        /// Whether `frames` is the whole length rather than a lower bound.
        whole: bool,
    },

    /// The samples do not fit a RIFF file (data over 4 GiB).
    #[error("{}: {samples} samples do not fit a WAV file (data over 4 GiB)", .path.display())]
    TooLongForWav {
        /// The file that was to be written.
        path: PathBuf,
        /// The number of samples given.
        samples: usize,
    },
}

/// The text is not a PCM sample format that [`crate::PcmFormat`] knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown PCM format `{input}`{hint}; expected one of u8, s16le, s24le, s32le, f32le, f64le"
)]
pub struct ParsePcmFormatError {
    /// The text that was given.
    pub input: String,
    /// An extra explanation for near misses (may be empty).
    pub hint: &'static str,
}

/// `frames` at `sample_rate_hz` in seconds for [`AudioError::TooLong`]: the length (one
/// decimal) when `whole`, else "more than" the frames decoded so far.
fn too_long_seconds(frames: u64, sample_rate_hz: u32, whole: bool) -> String {
    let seconds = frames as f64 / f64::from(sample_rate_hz.max(1));
    if whole {
        format!("{seconds:.1}")
    } else {
        format!("more than {seconds:.1}")
    }
}
