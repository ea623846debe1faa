//! The streaming PCM reader: raw PCM and WAV streams from a pipe.

mod common;

use std::io::{Cursor, Read};

use common::*;
use ser_audio::{AudioError, PcmFormat, PcmStreamReader};

/// Collects all chunks (and their sizes) until end of stream.
fn drain<R: Read>(reader: &mut PcmStreamReader<R>, max_frames: usize) -> (Vec<f32>, Vec<usize>) {
    let mut all = Vec::new();
    let mut sizes = Vec::new();
    while let Some(chunk) = reader.next_chunk(max_frames).expect("reads") {
        sizes.push(chunk.len());
        all.extend(chunk);
    }
    (all, sizes)
}

/// A reader that hands out at most `step` bytes per `read`, like a pipe.
struct Trickle {
    data: Vec<u8>,
    pos: usize,
    step: usize,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn raw_s16le_mono_gives_the_expected_chunks() {
    let values: Vec<i16> = (0..10).map(|i| i * 1000 - 4000).collect();
    let mut reader =
        PcmStreamReader::new(Cursor::new(i16_bytes(&values)), PcmFormat::S16Le, 1, 16_000)
            .expect("valid");
    let (all, sizes) = drain(&mut reader, 4);
    assert_eq!(sizes, vec![4, 4, 2]);
    let want: Vec<f32> = values.iter().map(|&v| f32::from(v) / 32768.0).collect();
    assert_eq!(all, want);
    assert_eq!(reader.frames_read(), 10);
    assert_eq!(reader.next_chunk(4).expect("ok"), None);
}

#[test]
fn raw_stereo_is_mixed_even_when_the_pipe_splits_frames() {
    let data = i16_bytes(&[100, 300, -200, -400, 32767, -32768]);
    let pipe = Trickle {
        data,
        pos: 0,
        step: 3,
    };
    let mut reader = PcmStreamReader::new(pipe, PcmFormat::S16Le, 2, 16_000).expect("valid");
    let (all, sizes) = drain(&mut reader, 2);
    assert_eq!(sizes, vec![2, 1]);
    assert_eq!(all, vec![200.0 / 32768.0, -300.0 / 32768.0, -0.5 / 32768.0]);
}

#[test]
fn partial_frame_at_end_of_stream_is_dropped() {
    // 2 whole stereo s16 frames and 3 stray bytes.
    let mut data = i16_bytes(&[1000, 3000, -1000, -3000]);
    data.extend_from_slice(&[1, 2, 3]);
    let mut reader =
        PcmStreamReader::new(Cursor::new(data), PcmFormat::S16Le, 2, 8_000).expect("valid");
    let (all, _) = drain(&mut reader, 100);
    assert_eq!(all, vec![2000.0 / 32768.0, -2000.0 / 32768.0]);
    assert_eq!(reader.dropped_bytes(), 3);
}

#[test]
fn other_raw_formats() {
    let mut reader = PcmStreamReader::new(
        Cursor::new(f32_bytes(&[0.25, -0.5])),
        PcmFormat::F32Le,
        1,
        16_000,
    )
    .expect("valid");
    assert_eq!(drain(&mut reader, 10).0, vec![0.25, -0.5]);
    let mut reader =
        PcmStreamReader::new(Cursor::new(vec![0_u8, 128, 192]), PcmFormat::U8, 1, 16_000)
            .expect("valid");
    assert_eq!(drain(&mut reader, 10).0, vec![-1.0, 0.0, 0.5]);
    let mut reader = PcmStreamReader::new(
        Cursor::new(i24_bytes(&[-8_388_608, 4_194_304])),
        PcmFormat::S24Le,
        1,
        16_000,
    )
    .expect("valid");
    assert_eq!(drain(&mut reader, 10).0, vec![-1.0, 0.5]);
    let mut reader = PcmStreamReader::new(
        Cursor::new(i32_bytes(&[1 << 30])),
        PcmFormat::S32Le,
        1,
        16_000,
    )
    .expect("valid");
    assert_eq!(drain(&mut reader, 10).0, vec![0.5]);
}

#[test]
fn huge_and_zero_chunk_requests_are_safe() {
    let data = i16_bytes(&[1, 2, 3]);
    let mut reader =
        PcmStreamReader::new(Cursor::new(data), PcmFormat::S16Le, 1, 16_000).expect("valid");
    assert_eq!(reader.next_chunk(0).expect("ok").map(|c| c.len()), Some(1));
    assert_eq!(
        reader.next_chunk(usize::MAX).expect("ok").map(|c| c.len()),
        Some(2)
    );
    assert_eq!(reader.next_chunk(usize::MAX).expect("ok"), None);
}

#[test]
fn nan_in_a_float_stream_is_an_error() {
    let mut reader = PcmStreamReader::new(
        Cursor::new(f32_bytes(&[0.0, f32::NAN])),
        PcmFormat::F32Le,
        1,
        16_000,
    )
    .expect("valid")
    .with_name("mic");
    let err = reader.next_chunk(10).expect_err("NaN");
    assert!(
        matches!(err, AudioError::NonFiniteSample { frame: 1, .. }),
        "{err:?}"
    );
    assert!(err.to_string().starts_with("mic:"), "{err}");
    assert_eq!(reader.next_chunk(10).expect("ended"), None);
}

#[test]
fn bad_raw_parameters() {
    let empty = || Cursor::new(Vec::<u8>::new());
    assert!(matches!(
        PcmStreamReader::new(empty(), PcmFormat::S16Le, 0, 16_000),
        Err(AudioError::ZeroChannels { .. })
    ));
    assert!(matches!(
        PcmStreamReader::new(empty(), PcmFormat::S16Le, 1, 0),
        Err(AudioError::BadSampleRate {
            sample_rate_hz: 0,
            ..
        })
    ));
    let mut reader = PcmStreamReader::new(empty(), PcmFormat::S16Le, 1, 16_000).expect("valid");
    assert_eq!(reader.next_chunk(10).expect("ok"), None);
}

/// A WAV stream header as `sox ... -t wav -` writes it: placeholder sizes.
fn wav_stream(fmt: Vec<u8>, data_size: u32, payload: &[u8]) -> Vec<u8> {
    let mut bytes = b"RIFF\xff\xff\xff\xffWAVE".to_vec();
    bytes.extend(chunk(b"fmt ", &fmt));
    bytes.extend(chunk(b"LIST", b"INFOISFT\x05\0\0\0sox\0\0")); // odd body + pad
    bytes.extend(raw_chunk(b"data", data_size, payload));
    bytes
}

#[test]
fn wav_stream_with_size_ffffffff_reads_until_eof() {
    let payload = i16_bytes(&[1000, 3000, 5000, 7000, 9000, 11000]);
    let bytes = wav_stream(fmt_body(PCM, 2, 16_000, 16), u32::MAX, &payload);
    let pipe = Trickle {
        data: bytes,
        pos: 0,
        step: 5,
    };
    let mut reader = PcmStreamReader::from_wav_stream(pipe).expect("header");
    assert_eq!(
        (reader.format(), reader.channels(), reader.sample_rate_hz()),
        (PcmFormat::S16Le, 2, 16_000)
    );
    let (all, sizes) = drain(&mut reader, 2);
    assert_eq!(sizes, vec![2, 1]);
    assert_eq!(
        all,
        vec![2000.0 / 32768.0, 6000.0 / 32768.0, 10000.0 / 32768.0]
    );
}

#[test]
fn wav_stream_with_size_zero_reads_until_eof() {
    let bytes = wav_stream(fmt_body(FLOAT, 1, 48_000, 32), 0, &f32_bytes(&[0.5, -0.25]));
    let mut reader = PcmStreamReader::from_wav_stream(Cursor::new(bytes)).expect("header");
    assert_eq!(drain(&mut reader, 64).0, vec![0.5, -0.25]);
}

#[test]
fn wav_stream_with_a_real_size_stops_there() {
    // Size says 2 samples; what follows (another chunk) is not audio.
    let mut bytes = wav_stream(
        fmt_body(PCM, 1, 16_000, 16),
        4,
        &i16_bytes(&[16384, -16384]),
    );
    bytes.extend(chunk(b"LIST", b"INFO"));
    let mut reader = PcmStreamReader::from_wav_stream(Cursor::new(bytes)).expect("header");
    assert_eq!(drain(&mut reader, 1).0, vec![0.5, -0.5]);
}

#[test]
fn wav_stream_shorter_than_its_real_size_is_truncated() {
    let bytes = wav_stream(fmt_body(PCM, 1, 16_000, 16), 100, &i16_bytes(&[1, 2, 3]));
    let mut reader = PcmStreamReader::from_wav_stream(Cursor::new(bytes)).expect("header");
    let err = loop {
        match reader.next_chunk(2) {
            Ok(Some(_)) => {}
            Ok(None) => panic!("end without error"),
            Err(e) => break e,
        }
    };
    assert!(
        matches!(
            err,
            AudioError::Truncated {
                claimed_bytes: 100,
                available_bytes: 6,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn wav_stream_header_errors() {
    let err =
        PcmStreamReader::from_wav_stream(Cursor::new(b"RIFF\0\0".to_vec())).expect_err("short");
    assert!(matches!(err, AudioError::Truncated { .. }), "{err:?}");
    let err = PcmStreamReader::from_wav_stream(Cursor::new(b"hello, this is text".to_vec()))
        .expect_err("text");
    assert!(
        matches!(err, AudioError::UnrecognisedFormat { .. }),
        "{err:?}"
    );
    let bytes = wav_stream(fmt_body(PCM, 1, 16_000, 12), u32::MAX, &[]);
    let err = PcmStreamReader::from_wav_stream(Cursor::new(bytes)).expect_err("12-bit");
    assert!(
        matches!(
            err,
            AudioError::UnsupportedBitDepth {
                bits_per_sample: 12,
                ..
            }
        ),
        "{err:?}"
    );
    let mut bytes = b"RIFF\xff\xff\xff\xffWAVE".to_vec();
    bytes.extend(raw_chunk(b"data", u32::MAX, &[0, 0]));
    let err = PcmStreamReader::from_wav_stream(Cursor::new(bytes)).expect_err("no fmt");
    assert!(
        matches!(err, AudioError::MissingChunk { chunk: "fmt ", .. }),
        "{err:?}"
    );
    let mut bytes = b"RIFF\xff\xff\xff\xffWAVE".to_vec();
    bytes.extend(raw_chunk(b"LIST", 1_000, b"INFO"));
    let err = PcmStreamReader::from_wav_stream(Cursor::new(bytes)).expect_err("cut LIST");
    assert!(
        matches!(
            err,
            AudioError::Truncated {
                claimed_bytes: 1_000,
                available_bytes: 4,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn stream_and_file_agree() {
    // The same bytes read as a file and as a stream give the same samples.
    let payload = i16_bytes(
        &(0..1000)
            .map(|i| ((i * 37) % 65536 - 32768) as i16)
            .collect::<Vec<_>>(),
    );
    let file = wav(fmt_body(PCM, 2, 16_000, 16), &payload);
    let from_file = ser_audio::decode(&file, "f.wav").expect("file");
    let mut reader = PcmStreamReader::from_wav_stream(Cursor::new(file)).expect("stream");
    assert_eq!(drain(&mut reader, 77).0, from_file.samples);
}
