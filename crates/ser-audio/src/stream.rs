//! Reading live audio from a pipe: raw interleaved PCM, or a WAV stream.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::check_sample_rate;
use crate::error::AudioError;
use crate::pcm::{PcmFormat, push_mono_frames};
use crate::wav::{DATA_SIZE_UNKNOWN, RIFF_HEADER_BYTES, fourcc_text, parse_fmt};

/// The most bytes one [`PcmStreamReader::next_chunk`] call reads.
const MAX_CHUNK_BYTES: usize = 64 << 20;

/// The largest `fmt ` chunk a stream header may carry (real ones have 16 to 40 bytes).
const MAX_STREAM_FMT_BYTES: u32 = 4096;

/// `data` sizes that writers put in a header when they cannot seek back to fill it in:
/// 0 and `0xFFFFFFFF` (ffmpeg, `sox -t wav -`), `0x7FFFFFFF` (arecord) and `0x7FFFF000`
/// (sox's "unspecified"). With any of these the stream runs to end of file.
const PLACEHOLDER_DATA_SIZES: [u32; 4] = [0, DATA_SIZE_UNKNOWN, 0x7FFF_FFFF, 0x7FFF_F000];

/// Reads raw interleaved little-endian PCM from any [`Read`] (stdin, a socket, a file)
/// and yields mono `f32` chunks, mixed and scaled exactly like [`crate::load`].
///
/// ```no_run
/// use ser_audio::{PcmFormat, PcmStreamReader};
/// let stdin = std::io::stdin().lock();
/// let mut reader = PcmStreamReader::new(stdin, PcmFormat::S16Le, 1, 16_000)?;
/// while let Some(chunk) = reader.next_chunk(1600)? {
///     // 100 ms of mono audio
///     # let _ = chunk;
/// }
/// # Ok::<(), ser_audio::AudioError>(())
/// ```
///
/// A partial frame at the end of the stream (the writer was cut off mid-frame) is dropped;
/// [`dropped_bytes`](Self::dropped_bytes) tells how many bytes that was.
#[derive(Debug)]
pub struct PcmStreamReader<R: Read> {
    reader: R,
    format: PcmFormat,
    channels: u16,
    sample_rate_hz: u32,
    /// Data bytes left according to a WAV header; `None` reads to end of file.
    remaining_bytes: Option<u64>,
    /// Bytes read but not yet converted (an incomplete frame).
    carry: Vec<u8>,
    frames_read: u64,
    /// Byte offset of the first sample in the stream (after any header).
    data_offset: u64,
    dropped_bytes: usize,
    finished: bool,
    name: PathBuf,
}

/// Reads until `buf` is full or the reader reports end of file; returns the bytes read.
fn read_full<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The default name used in error messages.
const STREAM_NAME: &str = "<stream>";

impl<R: Read> PcmStreamReader<R> {
    /// Reads headerless PCM of the given layout.
    ///
    /// Fails if `channels` is 0 or `sample_rate_hz` lies outside `1000..=768000`.
    pub fn new(
        reader: R,
        format: PcmFormat,
        channels: u16,
        sample_rate_hz: u32,
    ) -> Result<Self, AudioError> {
        let name = PathBuf::from(STREAM_NAME);
        if channels == 0 {
            return Err(AudioError::ZeroChannels { path: name });
        }
        check_sample_rate(sample_rate_hz, &name)?;
        Ok(Self {
            reader,
            format,
            channels,
            sample_rate_hz,
            remaining_bytes: None,
            carry: Vec::new(),
            frames_read: 0,
            data_offset: 0,
            dropped_bytes: 0,
            finished: false,
            name,
        })
    }

    /// Reads a WAV header from the start of a stream (e.g. `sox in.mp3 -t wav -`,
    /// `arecord -f S16_LE -r 16000`), then reads its samples as they arrive.
    ///
    /// Chunks before `data` are skipped. A `data` size that is a placeholder (0,
    /// `0xFFFFFFFF`, `0x7FFFFFFF` or `0x7FFFF000`) means "until end of stream"; any other size
    /// is obeyed (reading stops there), and a stream that ends before it is
    /// [`AudioError::Truncated`]. The header is validated like a file's.
    pub fn from_wav_stream(reader: R) -> Result<Self, AudioError> {
        Self::from_wav_stream_named(reader, STREAM_NAME)
    }

    /// [`from_wav_stream`](Self::from_wav_stream) with a name for error messages.
    pub fn from_wav_stream_named(
        mut reader: R,
        name: impl Into<PathBuf>,
    ) -> Result<Self, AudioError> {
        let name: PathBuf = name.into();
        let mut offset: u64 = 0;
        let mut header = [0_u8; RIFF_HEADER_BYTES];
        read_exact_at(&mut reader, &mut header, "RIFF header", &mut offset, &name)?;
        if &header[0..4] != b"RIFF" || &header[8..12] != b"WAVE" {
            return Err(match crate::sniff::sniff(&header, &name) {
                Err(
                    e @ (AudioError::UnsupportedContainer { .. }
                    | AudioError::UnrecognisedFormat { .. }),
                ) => e,
                _ => AudioError::UnsupportedContainer {
                    path: name,
                    container: "a stream that is not WAV (only WAV streams have a header we read)",
                },
            });
        }
        let mut fmt: Option<crate::wav::WavFormat> = None;
        loop {
            let mut chunk = [0_u8; 8];
            let got = read_full(&mut reader, &mut chunk).map_err(|source| AudioError::Io {
                path: name.clone(),
                source,
            })?;
            if got < chunk.len() {
                return Err(AudioError::MissingChunk {
                    path: name,
                    chunk: if fmt.is_none() { "fmt " } else { "data" },
                });
            }
            offset += 8;
            let id = &chunk[0..4];
            let size = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
            if id == b"data" {
                let Some(fmt) = fmt else {
                    return Err(AudioError::MissingChunk {
                        path: name,
                        chunk: "fmt ",
                    });
                };
                let mut stream = Self::new(reader, fmt.format, fmt.channels, fmt.sample_rate_hz)?;
                stream.data_offset = offset;
                stream.name = name;
                stream.remaining_bytes =
                    (!PLACEHOLDER_DATA_SIZES.contains(&size)).then_some(u64::from(size));
                return Ok(stream);
            }
            if id == b"fmt " {
                if fmt.is_some() {
                    return Err(AudioError::DuplicateChunk {
                        path: name,
                        chunk: "fmt ",
                        offset: offset - 8,
                    });
                }
                if size > MAX_STREAM_FMT_BYTES {
                    return Err(AudioError::BadFmtChunk {
                        path: name,
                        fmt_bytes: u64::from(size),
                        min_bytes: 16,
                        format_tag: 0,
                    });
                }
                let mut body = vec![0_u8; size as usize];
                read_exact_at(&mut reader, &mut body, "fmt ", &mut offset, &name)?;
                fmt = Some(parse_fmt(&body, &name)?);
                skip_bytes(
                    &mut reader,
                    u64::from(size & 1),
                    "fmt ",
                    &mut offset,
                    &name,
                    true,
                )?;
            } else {
                // Unknown chunk (LIST, FLLR, fact, ...) and its pad byte.
                let text = fourcc_text(id);
                skip_bytes(
                    &mut reader,
                    u64::from(size),
                    &text,
                    &mut offset,
                    &name,
                    false,
                )?;
                skip_bytes(
                    &mut reader,
                    u64::from(size & 1),
                    &text,
                    &mut offset,
                    &name,
                    true,
                )?;
            }
        }
    }

    /// Sets the name used in error messages (default `<stream>`).
    pub fn with_name(mut self, name: impl Into<PathBuf>) -> Self {
        self.name = name.into();
        self
    }

    /// The sample format of the stream.
    pub fn format(&self) -> PcmFormat {
        self.format
    }

    /// Channels in the stream (the chunks are mono mixes of them).
    pub fn channels(&self) -> u16 {
        self.channels
    }

    /// Frames per second of the stream.
    pub fn sample_rate_hz(&self) -> u32 {
        self.sample_rate_hz
    }

    /// Frames handed out so far.
    pub fn frames_read(&self) -> u64 {
        self.frames_read
    }

    /// Bytes of an incomplete final frame that were dropped at end of stream.
    pub fn dropped_bytes(&self) -> usize {
        self.dropped_bytes
    }

    /// The name used in error messages.
    pub fn name(&self) -> &Path {
        &self.name
    }

    /// Returns the next chunk of up to `max_frames` mono samples, or `None` at end of
    /// stream.
    ///
    /// Blocks until `max_frames` frames have arrived or the stream ends, so a chunk is
    /// shorter than `max_frames` only at the end. `max_frames` is raised to 1 if it is 0 and
    /// capped so that one chunk reads at most 64 MiB (over 30 minutes of 16 kHz stereo
    /// `s16le`).
    ///
    /// After an error (I/O, truncation, a NaN sample) the stream counts as ended: later
    /// calls return `None`.
    pub fn next_chunk(&mut self, max_frames: usize) -> Result<Option<Vec<f32>>, AudioError> {
        let result = self.read_chunk(max_frames);
        if result.is_err() {
            self.finished = true;
        }
        result
    }

    fn read_chunk(&mut self, max_frames: usize) -> Result<Option<Vec<f32>>, AudioError> {
        if self.finished {
            return Ok(None);
        }
        let frame_bytes = self.format.bytes_per_sample() * usize::from(self.channels);
        let max_frames = max_frames.clamp(1, (MAX_CHUNK_BYTES / frame_bytes).max(1));
        let mut want = max_frames * frame_bytes;
        if let Some(remaining) = self.remaining_bytes {
            let remaining = usize::try_from(remaining).unwrap_or(usize::MAX);
            want = want.min(remaining.saturating_add(self.carry.len()));
        }
        let mut buf = std::mem::take(&mut self.carry);
        let start = buf.len();
        buf.resize(want.max(start), 0);
        let got =
            read_full(&mut self.reader, &mut buf[start..]).map_err(|source| AudioError::Io {
                path: self.name.clone(),
                source,
            })?;
        let filled = start + got;
        let at_end = filled < want || self.remaining_bytes.is_some_and(|r| r == got as u64);
        if let Some(remaining) = &mut self.remaining_bytes {
            *remaining -= got as u64;
            if filled < want && *remaining > 0 {
                let consumed = self.frames_read * frame_bytes as u64 + filled as u64;
                return Err(AudioError::Truncated {
                    path: self.name.clone(),
                    chunk: "data".to_owned(),
                    offset: self.data_offset,
                    claimed_bytes: consumed + *remaining,
                    available_bytes: consumed,
                });
            }
        }
        let whole = filled - filled % frame_bytes;
        let mut out = Vec::with_capacity(whole / frame_bytes);
        push_mono_frames(
            &buf[..whole],
            self.format,
            self.channels,
            self.frames_read,
            &self.name,
            &mut out,
        )?;
        self.frames_read += out.len() as u64;
        if at_end {
            self.finished = true;
            self.dropped_bytes = filled - whole;
        } else {
            buf.copy_within(whole..filled, 0);
            buf.truncate(filled - whole);
            self.carry = buf;
        }
        Ok(if out.is_empty() { None } else { Some(out) })
    }
}

/// `read_exact` that reports a short read as [`AudioError::Truncated`].
fn read_exact_at<R: Read>(
    reader: &mut R,
    buf: &mut [u8],
    what: &str,
    offset: &mut u64,
    name: &Path,
) -> Result<(), AudioError> {
    let got = read_full(reader, buf).map_err(|source| AudioError::Io {
        path: name.to_path_buf(),
        source,
    })?;
    if got < buf.len() {
        return Err(AudioError::Truncated {
            path: name.to_path_buf(),
            chunk: what.to_owned(),
            offset: *offset,
            claimed_bytes: buf.len() as u64,
            available_bytes: got as u64,
        });
    }
    *offset += got as u64;
    Ok(())
}

/// Discards `count` bytes; a short stream is [`AudioError::Truncated`] unless
/// `may_end` (a missing pad byte at end of stream is harmless).
fn skip_bytes<R: Read>(
    reader: &mut R,
    count: u64,
    what: &str,
    offset: &mut u64,
    name: &Path,
    may_end: bool,
) -> Result<(), AudioError> {
    let skipped =
        io::copy(&mut reader.take(count), &mut io::sink()).map_err(|source| AudioError::Io {
            path: name.to_path_buf(),
            source,
        })?;
    if skipped < count && !may_end {
        return Err(AudioError::Truncated {
            path: name.to_path_buf(),
            chunk: what.to_owned(),
            offset: *offset,
            claimed_bytes: count,
            available_bytes: skipped,
        });
    }
    *offset += skipped;
    Ok(())
}
