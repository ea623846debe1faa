//! Every kind of bad input gives its own error variant, and the message names the file.

mod common;

use std::path::PathBuf;

use common::*;
use ser_audio::{AudioError, load, load_at};

/// Writes `bytes` as `name` in a fresh folder, loads it, and checks that it fails with a
/// message naming the file. Returns the error.
fn load_err(name: &str, bytes: &[u8]) -> AudioError {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_file(dir.path(), name, bytes);
    let err = load(&path).expect_err("must fail");
    let message = err.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "message does not name the file: {message}"
    );
    err
}

fn mono16(rate: u32) -> Vec<u8> {
    fmt_body(PCM, 1, rate, 16)
}

#[test]
fn missing_file() {
    let path = PathBuf::from("/nonexistent/dir/speech.wav");
    let err = load(&path).expect_err("missing");
    assert!(
        matches!(&err, AudioError::NotFound { path: p } if *p == path),
        "{err:?}"
    );
    assert!(err.to_string().contains("/nonexistent/dir/speech.wav"));
}

#[test]
fn directory_instead_of_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = load(dir.path()).expect_err("directory");
    assert!(matches!(err, AudioError::NotAFile { .. }), "{err:?}");
    assert!(err.to_string().contains(&dir.path().display().to_string()));
}

#[test]
fn empty_file() {
    assert!(matches!(
        load_err("empty.wav", b""),
        AudioError::Empty { .. }
    ));
}

#[test]
fn text_named_wav() {
    let err = load_err("notes.wav", b"these are my notes, not audio\n");
    assert!(
        matches!(err, AudioError::UnrecognisedFormat { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("\"these ar\""), "{err}");
}

#[test]
fn broken_aiff_named_wav() {
    // AIFF is decoded now (tests/aiff.rs); a COMM chunk without any SSND is an error.
    let mut aiff = b"FORM\0\0\0\x1eAIFFCOMM\0\0\0\x12".to_vec();
    aiff.extend_from_slice(&[0; 18]);
    let err = load_err("apple.wav", &aiff);
    assert!(matches!(err, AudioError::Decode { .. }), "{err:?}");
    assert!(
        err.to_string().contains("AIFF has no `SSND` chunk"),
        "{err}"
    );
}

#[test]
fn rf64_and_big_endian_riff() {
    for magic in [&b"RF64"[..], b"RIFX"] {
        let mut bytes = magic.to_vec();
        bytes.extend_from_slice(b"\xff\xff\xff\xffWAVE");
        let err = load_err("odd.wav", &bytes);
        assert!(
            matches!(err, AudioError::UnsupportedContainer { .. }),
            "{err:?}"
        );
    }
}

#[test]
fn riff_header_cut_short() {
    let err = load_err("short.wav", b"RIFF\x04\0\0");
    assert!(
        matches!(
            err,
            AudioError::Truncated {
                claimed_bytes: 12,
                available_bytes: 7,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn data_claims_more_than_the_file_holds() {
    let mut bytes = riff(&[chunk(b"fmt ", &mono16(16_000))]);
    bytes.extend(raw_chunk(b"data", 100, &[0; 10]));
    let err = load_err("cut.wav", &bytes);
    assert!(
        matches!(
            &err,
            AudioError::Truncated { chunk, claimed_bytes: 100, available_bytes: 10, offset: 44, .. }
                if chunk == "data"
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("claims 100 bytes but only 10"),
        "{err}"
    );
}

#[test]
fn data_short_by_only_part_of_a_frame_is_still_truncated() {
    // Documented choice: no guessing, even when only the last frame is incomplete.
    let mut bytes = riff(&[chunk(b"fmt ", &mono16(16_000))]);
    bytes.extend(raw_chunk(b"data", 4, &[0; 3]));
    let err = load_err("cut.wav", &bytes);
    assert!(matches!(
        err,
        AudioError::Truncated {
            claimed_bytes: 4,
            available_bytes: 3,
            ..
        }
    ));
}

#[test]
fn other_chunk_claims_more_than_the_file_holds() {
    let mut bytes = riff(&[chunk(b"fmt ", &mono16(16_000))]);
    bytes.extend(raw_chunk(b"LIST", 1_000, b"INFO"));
    let err = load_err("cut.wav", &bytes);
    assert!(
        matches!(&err, AudioError::Truncated { chunk, claimed_bytes: 1_000, .. } if chunk == "LIST"),
        "{err:?}"
    );
}

#[test]
fn data_not_a_whole_number_of_frames() {
    let err = load_err("odd.wav", &wav(fmt_body(PCM, 2, 16_000, 16), &[0; 6]));
    assert!(
        matches!(
            err,
            AudioError::PartialFrame {
                data_bytes: 6,
                block_align: 4,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn zero_samples() {
    let err = load_err("silent.wav", &wav(mono16(16_000), &[]));
    assert!(matches!(err, AudioError::ZeroSamples { .. }), "{err:?}");
}

#[test]
fn missing_fmt_and_missing_data() {
    let err = load_err("nofmt.wav", &riff(&[chunk(b"data", &[0, 0])]));
    assert!(
        matches!(err, AudioError::MissingChunk { chunk: "fmt ", .. }),
        "{err:?}"
    );
    let err = load_err("nodata.wav", &riff(&[chunk(b"fmt ", &mono16(16_000))]));
    assert!(
        matches!(err, AudioError::MissingChunk { chunk: "data", .. }),
        "{err:?}"
    );
    let err = load_err("bare.wav", &riff(&[]));
    assert!(
        matches!(err, AudioError::MissingChunk { chunk: "fmt ", .. }),
        "{err:?}"
    );
}

#[test]
fn second_fmt_chunk() {
    let bytes = riff(&[
        chunk(b"fmt ", &mono16(16_000)),
        chunk(b"fmt ", &mono16(8_000)),
        chunk(b"data", &[0, 0]),
    ]);
    let err = load_err("twice.wav", &bytes);
    assert!(
        matches!(err, AudioError::DuplicateChunk { offset: 36, .. }),
        "{err:?}"
    );
}

#[test]
fn fmt_chunk_too_short() {
    let err = load_err("tiny.wav", &wav(mono16(16_000)[..14].to_vec(), &[0, 0]));
    assert!(
        matches!(
            err,
            AudioError::BadFmtChunk {
                fmt_bytes: 14,
                min_bytes: 16,
                ..
            }
        ),
        "{err:?}"
    );
    let err = load_err(
        "ext.wav",
        &wav(fmt_body(EXTENSIBLE, 1, 16_000, 16), &[0, 0]),
    );
    assert!(
        matches!(
            err,
            AudioError::BadFmtChunk {
                fmt_bytes: 16,
                min_bytes: 40,
                format_tag: 0xFFFE,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn twelve_bit_pcm_is_unsupported() {
    let err = load_err(
        "12bit.wav",
        &wav(fmt_body_raw(PCM, 1, 16_000, 2, 12), &[0, 0]),
    );
    assert!(
        matches!(
            err,
            AudioError::UnsupportedBitDepth {
                bits_per_sample: 12,
                encoding: "integer PCM",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn sixteen_bit_float_is_unsupported() {
    let err = load_err("half.wav", &wav(fmt_body(FLOAT, 1, 16_000, 16), &[0, 0]));
    assert!(
        matches!(
            err,
            AudioError::UnsupportedBitDepth {
                bits_per_sample: 16,
                encoding: "IEEE float",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_law_and_adpcm_are_unsupported() {
    let err = load_err("alaw.wav", &wav(fmt_body(6, 1, 8_000, 8), &[0xD5]));
    assert!(
        matches!(
            err,
            AudioError::UnsupportedFormatTag {
                format_tag: 6,
                name: "A-law",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("A-law"));
    let err = load_err(
        "adpcm.wav",
        &wav(fmt_body_raw(2, 1, 8_000, 256, 4), &[0; 256]),
    );
    assert!(matches!(
        err,
        AudioError::UnsupportedFormatTag { format_tag: 2, .. }
    ));
}

#[test]
fn extensible_with_unknown_sub_format() {
    let mut fmt = fmt_extensible(1, 16_000, 16, 16, PCM);
    fmt[24 + 15] = 0x00; // corrupt the GUID tail
    let err = load_err("guid.wav", &wav(fmt, &[0, 0]));
    assert!(
        matches!(err, AudioError::UnsupportedSubFormat { .. }),
        "{err:?}"
    );
    // A-law inside EXTENSIBLE is an unsupported format, too.
    let err = load_err("xalaw.wav", &wav(fmt_extensible(1, 8_000, 8, 8, 6), &[0]));
    assert!(
        matches!(err, AudioError::UnsupportedFormatTag { format_tag: 6, .. }),
        "{err:?}"
    );
}

#[test]
fn extensible_valid_bits_larger_than_container() {
    let err = load_err(
        "bits.wav",
        &wav(fmt_extensible(1, 16_000, 16, 20, PCM), &[0, 0]),
    );
    assert!(
        matches!(
            err,
            AudioError::BadValidBits {
                valid_bits: 20,
                container_bits: 16,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn nan_and_infinite_float_samples() {
    let err = load_err(
        "nan.wav",
        &wav(
            fmt_body(FLOAT, 2, 16_000, 32),
            &f32_bytes(&[0.0, 0.1, 0.2, f32::NAN]),
        ),
    );
    assert!(
        matches!(
            err,
            AudioError::NonFiniteSample {
                frame: 1,
                channel: 1,
                ..
            }
        ),
        "{err:?}"
    );
    let err = load_err(
        "inf.wav",
        &wav(
            fmt_body(FLOAT, 1, 16_000, 32),
            &f32_bytes(&[f32::NEG_INFINITY]),
        ),
    );
    assert!(
        matches!(err, AudioError::NonFiniteSample { frame: 0, .. }),
        "{err:?}"
    );
    // Finite in f64 but not representable as f32.
    let err = load_err(
        "huge.wav",
        &wav(fmt_body(FLOAT, 1, 16_000, 64), &f64_bytes(&[0.5, 1e300])),
    );
    assert!(
        matches!(err, AudioError::NonFiniteSample { frame: 1, .. }),
        "{err:?}"
    );
}

#[test]
fn absurd_sample_rates() {
    for rate in [0_u32, 999, 768_001, 5_000_000] {
        let err = load_err("rate.wav", &wav(mono16(rate), &[0, 0]));
        assert!(
            matches!(err, AudioError::BadSampleRate { sample_rate_hz, .. } if sample_rate_hz == rate),
            "{err:?}"
        );
        assert!(err.to_string().contains(&format!("{rate} Hz")), "{err}");
    }
    for rate in [1_000_u32, 768_000] {
        assert!(ser_audio::decode(&wav(mono16(rate), &[0, 0]), "ok.wav").is_ok());
    }
}

#[test]
fn zero_channels() {
    let err = load_err(
        "nochan.wav",
        &wav(fmt_body_raw(PCM, 0, 16_000, 0, 16), &[0, 0]),
    );
    assert!(matches!(err, AudioError::ZeroChannels { .. }), "{err:?}");
}

#[test]
fn block_align_inconsistent_with_channels_and_bits() {
    let err = load_err(
        "align.wav",
        &wav(fmt_body_raw(PCM, 2, 16_000, 2, 16), &[0; 4]),
    );
    assert!(
        matches!(
            err,
            AudioError::BadBlockAlign {
                block_align: 2,
                channels: 2,
                bits_per_sample: 16,
                expected: 4,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn unsupported_codec_in_a_known_container() {
    // Opus in Ogg: symphonia has no Opus decoder.
    let bytes = std::fs::read(fixture("tone_440hz_16k_mono.opus.ogg")).expect("fixture");
    let err = load_err("voice.ogg", &bytes);
    assert!(
        matches!(err, AudioError::UnsupportedCodec { .. }),
        "{err:?}"
    );
}

#[test]
fn corrupt_compressed_streams_are_errors() {
    let mut flac = std::fs::read(fixture("tone_440hz_16k_mono.flac")).expect("fixture");
    flac.truncate(60); // inside the STREAMINFO / first frame
    let err = load_err("cut.flac", &flac);
    assert!(
        matches!(
            err,
            AudioError::Decode { .. } | AudioError::ZeroSamples { .. }
        ),
        "{err:?}"
    );

    let err = load_err("junk.mp3", &[0xFF, 0xFB, 0x90, 0x64, 1, 2, 3]);
    assert!(
        matches!(
            err,
            AudioError::Decode { .. } | AudioError::ZeroSamples { .. }
        ),
        "{err:?}"
    );
}

#[test]
fn load_at_names_the_file_for_a_bad_target_rate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_file(dir.path(), "ok.wav", &wav(mono16(16_000), &[0, 0]));
    let err = load_at(&path, 10).expect_err("10 Hz");
    assert!(
        matches!(
            err,
            AudioError::BadSampleRate {
                sample_rate_hz: 10,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains(&path.display().to_string()));
}
