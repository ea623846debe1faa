//! `decode_limited` refuses audio longer than its limit without decoding (much) more than
//! the limit (issue 23: a small upload of low-rate or compressed audio can be hours of
//! sound). WAV and AIFF lengths come from the header; an MP3 made of repeated frames of the
//! fixture, and a FLAC without a length in `STREAMINFO`, are decoded only up to the limit.

mod common;

use std::time::Duration;

use common::*;
use ser_audio::{AudioError, LIMIT_SLACK_FRAMES, decode, decode_limited};

/// `seconds` of 8-bit mono PCM at 1 kHz (the 26 MB file was this, for 7 hours).
fn low_rate_wav(seconds: usize) -> Vec<u8> {
    let data: Vec<u8> = (0..seconds * 1000)
        .map(|i| (128.0 + 60.0 * (i as f32 * 0.7).sin()) as u8)
        .collect();
    wav(fmt_body(PCM, 1, 1000, 8), &data)
}

/// The fields of a [`AudioError::TooLong`], or a panic naming what came instead.
fn too_long(result: Result<ser_audio::Audio, AudioError>) -> (u64, u64, u32, bool, String) {
    match result {
        Err(
            ref e @ AudioError::TooLong {
                max_frames,
                frames,
                sample_rate_hz,
                whole,
                ..
            },
        ) => (max_frames, frames, sample_rate_hz, whole, e.to_string()),
        Err(e) => panic!("not TooLong: {e}"),
        Ok(a) => panic!("decoded {} s", a.duration_s()),
    }
}

#[test]
fn a_wav_longer_than_the_limit_is_refused_from_its_header() {
    let bytes = low_rate_wav(700);
    let (max, frames, rate, whole, message) =
        too_long(decode_limited(&bytes, "long.wav", Duration::from_secs(600)));
    assert_eq!((max, frames, rate, whole), (600_000, 700_000, 1000, true));
    assert_eq!(
        message,
        "long.wav: the audio lasts 700.0 s, longer than the limit of 600 s \
         (600000 frames at 1000 Hz)"
    );
    // Exactly the limit is fine, and gives what `decode` gives.
    let audio = decode_limited(&bytes, "long.wav", Duration::from_secs(700)).expect("at the limit");
    assert_eq!(audio, decode(&bytes, "long.wav").expect("decodes"));
    // One frame over is not.
    let (_, frames, _, _, _) = too_long(decode_limited(
        &bytes,
        "long.wav",
        Duration::from_millis(699_999),
    ));
    assert_eq!(frames, 700_000);
}

#[test]
fn a_wav_of_unknown_length_is_measured_by_its_bytes() {
    let mut bytes = low_rate_wav(30);
    let data_size_at = bytes.len() - 30_000 - 4;
    bytes[data_size_at..data_size_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    let (max, frames, _, whole, _) =
        too_long(decode_limited(&bytes, "pipe.wav", Duration::from_secs(10)));
    assert_eq!((max, frames, whole), (10_000, 30_000, true));
}

/// An AIFF file of 8-bit mono frames at `rate` (see tests/aiff.rs for the layout).
fn aiff_8bit(rate: u32, frames: usize) -> Vec<u8> {
    let e = 31 - rate.leading_zeros();
    let mut comm = Vec::new();
    comm.extend_from_slice(&1_i16.to_be_bytes());
    comm.extend_from_slice(&(frames as u32).to_be_bytes());
    comm.extend_from_slice(&8_i16.to_be_bytes());
    comm.extend_from_slice(&((16_383 + e) as u16).to_be_bytes());
    comm.extend_from_slice(&(u64::from(rate) << (63 - e)).to_be_bytes());
    let mut ssnd = vec![0_u8; 8];
    ssnd.extend((0..frames).map(|i| ((i as f32 * 0.3).sin() * 90.0) as i8 as u8));
    let mut body = b"AIFF".to_vec();
    for (id, chunk) in [(b"COMM", comm), (b"SSND", ssnd)] {
        body.extend_from_slice(id);
        body.extend_from_slice(&(chunk.len() as u32).to_be_bytes());
        body.extend_from_slice(&chunk);
        if chunk.len() % 2 == 1 {
            body.push(0);
        }
    }
    let mut out = b"FORM".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
    out
}

#[test]
fn an_aiff_longer_than_the_limit_is_refused_from_its_header() {
    let bytes = aiff_8bit(2000, 120_000);
    assert_eq!(
        decode(&bytes, "long.aiff").expect("decodes").duration_s(),
        60.0
    );
    let (max, frames, rate, whole, message) =
        too_long(decode_limited(&bytes, "long.aiff", Duration::from_secs(10)));
    assert_eq!((max, frames, rate, whole), (20_000, 120_000, 2000, true));
    assert!(message.contains("lasts 60.0 s"), "{message}");
    let audio = decode_limited(&bytes, "long.aiff", Duration::from_secs(60)).expect("fits");
    assert_eq!(audio.samples.len(), 120_000);
}

/// Bytes of one MPEG-2/2.5 layer III frame starting at `bytes[at..]`, from its header.
fn mpeg2_layer3_frame_len(bytes: &[u8], at: usize) -> usize {
    let h = &bytes[at..at + 4];
    assert!(h[0] == 0xFF && h[1] & 0xE0 == 0xE0, "frame sync at {at}");
    assert_eq!((h[1] >> 1) & 0b11, 0b01, "layer III");
    assert_ne!((h[1] >> 3) & 0b11, 0b11, "MPEG-2 or 2.5");
    const KBPS: [usize; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
    let rates: [usize; 3] = match (h[1] >> 3) & 0b11 {
        0b10 => [22_050, 24_000, 16_000],
        _ => [11_025, 12_000, 8_000],
    };
    let kbps = KBPS[usize::from(h[2] >> 4)];
    let rate = rates[usize::from((h[2] >> 2) & 0b11)];
    72 * kbps * 1000 / rate + usize::from((h[2] >> 1) & 1)
}

/// The fixture's audio frames (its first frame, the Xing header after the 4-byte header and
/// 9 bytes of MPEG-2 mono side information, left out) `copies` times:
/// a valid MP3 stream `copies` times as long, with no header that says how long.
fn long_mp3(copies: usize) -> Vec<u8> {
    let fixture = std::fs::read(fixture("tone_440hz_16k_mono.mp3")).expect("fixture");
    let first = mpeg2_layer3_frame_len(&fixture, 0);
    assert_eq!(
        &fixture[13..17],
        b"Xing",
        "the first frame is the Xing header"
    );
    let mut at = first;
    while at < fixture.len() {
        at += mpeg2_layer3_frame_len(&fixture, at);
    }
    assert_eq!(at, fixture.len(), "whole frames");
    fixture[first..].repeat(copies)
}

#[test]
fn an_mp3_longer_than_the_limit_stops_decoding_at_the_limit() {
    let bytes = long_mp3(200);
    let full = decode(&bytes, "long.mp3").expect("the repeated frames decode");
    assert_eq!(full.sample_rate_hz, 16_000);
    assert!(full.duration_s() > 90.0, "{} s", full.duration_s());
    let (max, frames, rate, whole, message) =
        too_long(decode_limited(&bytes, "long.mp3", Duration::from_secs(10)));
    assert_eq!((max, rate, whole), (160_000, 16_000, false));
    // Stopped within the slack and one frame of the limit, long before the end.
    assert!(frames > max, "{frames}");
    assert!(frames <= max + LIMIT_SLACK_FRAMES + 1152, "{frames}");
    assert!(message.contains("lasts more than"), "{message}");
    // Under the limit it is what `decode` gives.
    let audio = decode_limited(&bytes, "long.mp3", Duration::from_secs(600)).expect("fits");
    assert_eq!(audio, full);
}

#[test]
fn a_flac_without_a_length_is_checked_after_decoding() {
    let mut bytes = std::fs::read(fixture("tone_440hz_16k_mono.flac")).expect("fixture");
    // STREAMINFO's 36-bit total sample count (bytes 8 + 13..18) set to 0, "unknown".
    bytes[8 + 13] &= 0xF0;
    bytes[8 + 14..8 + 18].fill(0);
    let full = decode(&bytes, "open.flac").expect("decodes without a length");
    assert_eq!(full.samples.len(), 4_000);
    let (max, frames, _, whole, _) = too_long(decode_limited(
        &bytes,
        "open.flac",
        Duration::from_millis(100),
    ));
    assert_eq!((max, frames, whole), (1_600, 4_000, true));
    // With its length, the same file is refused before decoding.
    let bytes = std::fs::read(fixture("tone_440hz_16k_mono.flac")).expect("fixture");
    let (_, frames, _, whole, _) = too_long(decode_limited(
        &bytes,
        "tone.flac",
        Duration::from_millis(100),
    ));
    assert_eq!((frames, whole), (4_000, true));
}
