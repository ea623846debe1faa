//! AIFF and AIFC decode to the same samples as the WAV file of the same samples.
//!
//! The files are written here byte by byte (Apple, *Audio Interchange File Format "AIFF"*,
//! version 1.3, 1989, and the AIFF-C draft of 1991): `FORM <size> AIFF|AIFC`, a `COMM` chunk
//! (channels, frames, bits, rate as an 80-bit extended float), an optional AIFC `FVER`, and
//! `SSND` (offset 0, block size 0, big-endian sample frames).

mod common;

use common::*;
use ser_audio::{Audio, AudioError, decode, load};

/// `rate` as an 80-bit IEEE 754 extended float, big-endian: sign and 15-bit exponent (bias
/// 16383), then a 64-bit mantissa with an explicit integer bit.
fn extended_80(rate: u32) -> [u8; 10] {
    assert!(rate > 0);
    let e = 31 - rate.leading_zeros();
    let exponent = (16_383 + e) as u16;
    let mantissa = u64::from(rate) << (63 - e);
    let mut out = [0u8; 10];
    out[..2].copy_from_slice(&exponent.to_be_bytes());
    out[2..].copy_from_slice(&mantissa.to_be_bytes());
    out
}

/// An IFF chunk: id, big-endian size, body, pad byte when the size is odd.
fn iff_chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = id.to_vec();
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    if body.len() % 2 == 1 {
        out.push(0);
    }
    out
}

/// How the samples of an AIFF test file are laid out.
#[derive(Clone, Copy)]
enum Layout {
    /// Plain AIFF, big-endian integers.
    Aiff,
    /// AIFC with compression type `NONE` (big-endian integers).
    AifcNone,
    /// AIFC with compression type `sowt` (little-endian 16-bit).
    AifcSowt,
}

/// An AIFF/AIFC file of `frames` interleaved frames of `bits`-bit integers.
fn aiff(layout: Layout, channels: u16, rate: u32, bits: u16, samples: &[i32]) -> Vec<u8> {
    let frames = samples.len() / usize::from(channels);
    let mut comm = Vec::new();
    comm.extend_from_slice(&(channels as i16).to_be_bytes());
    comm.extend_from_slice(&(frames as u32).to_be_bytes());
    comm.extend_from_slice(&(bits as i16).to_be_bytes());
    comm.extend_from_slice(&extended_80(rate));
    let mut sound = vec![0u8; 8]; // offset 0, block size 0
    for &s in samples {
        match (layout, bits) {
            (Layout::AifcSowt, 16) => sound.extend_from_slice(&(s as i16).to_le_bytes()),
            (_, 8) => sound.push(s as i8 as u8),
            (_, 16) => sound.extend_from_slice(&(s as i16).to_be_bytes()),
            (_, 24) => sound.extend_from_slice(&s.to_be_bytes()[1..]),
            (_, 32) => sound.extend_from_slice(&s.to_be_bytes()),
            _ => panic!("no {bits}-bit layout in this test"),
        }
    }
    let mut chunks = Vec::new();
    let form = match layout {
        Layout::Aiff => b"AIFF",
        Layout::AifcNone | Layout::AifcSowt => {
            // FVER: the AIFC version timestamp of the 1991 draft.
            chunks.push(iff_chunk(b"FVER", &0xA280_5140_u32.to_be_bytes()));
            let (tag, name): (&[u8; 4], &[u8]) = match layout {
                // An empty Pascal string: the count byte and a pad byte (even length).
                Layout::AifcSowt => (b"sowt", b"\x00\x00"),
                _ => (b"NONE", b"\x0enot compressed\x00"),
            };
            comm.extend_from_slice(tag);
            comm.extend_from_slice(name);
            b"AIFC"
        }
    };
    chunks.push(iff_chunk(b"COMM", &comm));
    chunks.push(iff_chunk(b"SSND", &sound));
    let body = chunks.concat();
    let mut out = b"FORM".to_vec();
    out.extend_from_slice(&(4 + body.len() as u32).to_be_bytes());
    out.extend_from_slice(form);
    out.extend_from_slice(&body);
    out
}

/// The WAV file of the same samples (8-bit WAV is unsigned, offset by 128).
fn wav_of(channels: u16, rate: u32, bits: u16, samples: &[i32]) -> Vec<u8> {
    let data = match bits {
        8 => samples.iter().map(|&s| (s + 128) as u8).collect(),
        16 => i16_bytes(&samples.iter().map(|&s| s as i16).collect::<Vec<_>>()),
        24 => i24_bytes(samples),
        32 => i32_bytes(samples),
        _ => panic!("no {bits}-bit WAV in this test"),
    };
    wav(fmt_body(PCM, channels, rate, bits), &data)
}

/// `n` frames of a chirp-like pattern covering the full range of `bits`-bit integers.
fn pattern(n: usize, channels: u16, bits: u16) -> Vec<i32> {
    let max = (1_i64 << (bits - 1)) - 1;
    let mut out: Vec<i32> = (0..n * usize::from(channels))
        .map(|i| {
            let x = (i as f64 * 0.013 * (1.0 + i as f64 * 1e-4)).sin();
            (x * max as f64).round() as i32
        })
        .collect();
    // The extremes, so that the scale (and the sign extension) are checked too.
    out[0] = -(max as i32) - 1;
    out[1] = max as i32;
    out
}

fn decoded(bytes: &[u8]) -> Audio {
    decode(bytes, "test.aiff").expect("valid AIFF")
}

#[test]
fn aiff_equals_wav_for_mono_and_stereo_16_and_24_bit() {
    // 5000 frames: several symphonia packets and a partial last one.
    for (channels, rate, bits) in [
        (1, 16_000, 16),
        (2, 44_100, 16),
        (1, 48_000, 24),
        (2, 22_050, 24),
        (1, 8_000, 8),
        (2, 96_000, 32),
    ] {
        let samples = pattern(5_000, channels, bits);
        let from_aiff = decoded(&aiff(Layout::Aiff, channels, rate, bits, &samples));
        let from_wav = decode(&wav_of(channels, rate, bits, &samples), "test.wav").expect("wav");
        assert_eq!(from_aiff.samples.len(), 5_000, "{channels} ch {bits} bit");
        assert_eq!(
            from_aiff, from_wav,
            "{channels} ch, {rate} Hz, {bits} bit: AIFF and WAV differ"
        );
        assert_eq!(from_aiff.sample_rate_hz, rate);
        assert_eq!(from_aiff.channels, channels);
    }
}

#[test]
fn sixteen_bit_scales_by_32768() {
    let values = [-32768, -16384, 0, 1, 32767];
    let audio = decoded(&aiff(Layout::Aiff, 1, 16_000, 16, &values));
    let want: Vec<f32> = values.iter().map(|&v| v as f32 / 32768.0).collect();
    assert_eq!(audio.samples, want);
    // Stereo is the mean of the channels.
    let audio = decoded(&aiff(
        Layout::Aiff,
        2,
        16_000,
        16,
        &[16384, 0, -32768, 32767],
    ));
    assert_eq!(audio.samples, vec![0.25, -0.5 / 32768.0]);
}

#[test]
fn aifc_uncompressed_and_sowt_equal_wav() {
    let samples = pattern(3_001, 2, 16);
    let from_wav = decode(&wav_of(2, 16_000, 16, &samples), "test.wav").expect("wav");
    for layout in [Layout::AifcNone, Layout::AifcSowt] {
        assert_eq!(decoded(&aiff(layout, 2, 16_000, 16, &samples)), from_wav);
    }
}

#[test]
fn a_chunk_after_ssnd_and_odd_chunks_are_skipped_correctly() {
    // An odd-sized chunk before COMM (pad byte) and a chunk after SSND that is not audio.
    let samples = pattern(777, 1, 16);
    let mut file = aiff(Layout::Aiff, 1, 16_000, 16, &samples);
    let comm_at = 12;
    let mut extra = iff_chunk(b"NAME", b"odd");
    assert_eq!(extra.len(), 12);
    file.splice(comm_at..comm_at, extra.drain(..));
    file.extend(iff_chunk(b"ANNO", b"written by a test, not audio"));
    let size = (file.len() - 8) as u32;
    file[4..8].copy_from_slice(&size.to_be_bytes());
    let from_wav = decode(&wav_of(1, 16_000, 16, &samples), "test.wav").expect("wav");
    assert_eq!(decoded(&file), from_wav);
}

#[test]
fn an_aiff_named_wav_loads_from_disk() {
    let dir = tempfile::tempdir().expect("tempdir");
    let samples = pattern(1_000, 1, 16);
    let path = write_file(
        dir.path(),
        "tess.wav",
        &aiff(Layout::Aiff, 1, 24_414, 16, &samples),
    );
    let audio = load(&path).expect("load");
    assert_eq!((audio.sample_rate_hz, audio.samples.len()), (24_414, 1_000));
}

#[test]
fn truncated_aiff_is_an_error_not_a_panic() {
    let file = aiff(Layout::Aiff, 2, 16_000, 24, &pattern(2_000, 2, 24));
    // Every cut, from inside the header to one byte short of the end.
    for cut in (0..file.len())
        .step_by(97)
        .chain([file.len() - 1, file.len() - 3])
    {
        let err = decode(&file[..cut], "cut.aiff").expect_err("a cut file must not decode");
        assert!(err.to_string().contains("cut.aiff"), "{err}");
    }
    let err = decode(&file[..file.len() - 6], "cut.aiff").expect_err("cut");
    assert!(
        matches!(
            &err,
            AudioError::Truncated { chunk, claimed_bytes, available_bytes, .. }
                if chunk == "SSND" && claimed_bytes - available_bytes == 6
        ),
        "{err:?}"
    );
}

#[test]
fn comm_announcing_more_frames_than_ssnd_holds_is_an_error() {
    let mut file = aiff(Layout::Aiff, 1, 16_000, 16, &pattern(100, 1, 16));
    // COMM body starts at byte 20: channels (2 bytes), then numSampleFrames.
    file[22..26].copy_from_slice(&101_u32.to_be_bytes());
    let err = decode(&file, "short.aiff").expect_err("fewer frames than announced");
    assert!(err.to_string().contains("100 of the 101"), "{err}");
    // Fewer announced than held: the announced count wins.
    file[22..26].copy_from_slice(&60_u32.to_be_bytes());
    assert_eq!(decoded(&file).samples.len(), 60);
}

#[test]
fn missing_or_misplaced_chunks_are_errors() {
    let file = aiff(Layout::Aiff, 1, 16_000, 16, &pattern(10, 1, 16));
    // Only the FORM header and COMM.
    let comm_end = 12 + 8 + 18;
    let mut no_ssnd = file[..comm_end].to_vec();
    let size = (no_ssnd.len() - 8) as u32;
    no_ssnd[4..8].copy_from_slice(&size.to_be_bytes());
    let err = decode(&no_ssnd, "x.aiff").expect_err("no SSND");
    assert!(err.to_string().contains("no `SSND`"), "{err}");
    // SSND before COMM.
    let mut swapped = file[..12].to_vec();
    swapped.extend_from_slice(&file[comm_end..]);
    swapped.extend_from_slice(&file[12..comm_end]);
    let err = decode(&swapped, "x.aiff").expect_err("SSND first");
    assert!(err.to_string().contains("before `COMM`"), "{err}");
    // Zero channels.
    let mut zero = file.clone();
    zero[20..22].copy_from_slice(&0_u16.to_be_bytes());
    assert!(decode(&zero, "x.aiff").is_err());
}
