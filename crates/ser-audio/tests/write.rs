//! WAV writing: exact round trips, clipping, atomic replacement, refused input.

mod common;

use common::*;
use ser_audio::{AudioError, load, write_wav_f32, write_wav_i16};

#[test]
fn f32_round_trips_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("out.wav");
    let samples = sine(440.0, 16_000, 1_001, 0.7);
    write_wav_f32(&path, &samples, 16_000).expect("writes");
    let audio = load(&path).expect("reads");
    assert_eq!(
        (audio.samples, audio.sample_rate_hz, audio.channels),
        (samples, 16_000, 1)
    );
}

#[test]
fn i16_round_trips_16_bit_values_and_clips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("out.wav");
    let exact: Vec<f32> = [-32768_i16, -1, 0, 1, 12345, 32767]
        .iter()
        .map(|&v| f32::from(v) / 32768.0)
        .collect();
    write_wav_i16(&path, &exact, 8_000).expect("writes");
    assert_eq!(load(&path).expect("reads").samples, exact);

    write_wav_i16(
        &path,
        &[1.5, -2.0, 1.0, 0.5 / 32768.0, -0.49 / 32768.0],
        8_000,
    )
    .expect("writes");
    let back = load(&path).expect("reads").samples;
    assert_eq!(
        back,
        vec![
            32767.0 / 32768.0,
            -1.0,
            32767.0 / 32768.0,
            1.0 / 32768.0,
            0.0
        ]
    );
    let bytes = std::fs::read(&path).expect("file");
    assert_eq!(bytes.len(), 44 + 10, "canonical 44-byte header");
}

#[test]
fn odd_length_i16_data_is_padded_and_rereads() {
    // One 16-bit sample is 2 bytes (even); a float file with 1 sample has a `fact` chunk.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("one.wav");
    write_wav_f32(&path, &[0.5], 16_000).expect("writes");
    assert_eq!(load(&path).expect("reads").samples, vec![0.5]);
}

#[test]
fn writing_replaces_atomically_and_leaves_no_temp_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("out.wav");
    write_wav_i16(&path, &[0.5; 10], 16_000).expect("first");
    write_wav_i16(&path, &[0.25; 3], 16_000).expect("second");
    assert_eq!(load(&path).expect("reads").samples, vec![0.25; 3]);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("out.wav")]);
}

#[test]
fn refuses_non_finite_samples_and_bad_rates_without_touching_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("out.wav");
    let err = write_wav_f32(&path, &[0.0, f32::NAN], 16_000).expect_err("NaN");
    assert!(
        matches!(err, AudioError::NonFiniteSample { frame: 1, .. }),
        "{err:?}"
    );
    let err = write_wav_i16(&path, &[f32::INFINITY], 16_000).expect_err("inf");
    assert!(
        matches!(err, AudioError::NonFiniteSample { frame: 0, .. }),
        "{err:?}"
    );
    let err = write_wav_i16(&path, &[0.0], 0).expect_err("0 Hz");
    assert!(
        matches!(
            err,
            AudioError::BadSampleRate {
                sample_rate_hz: 0,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!path.exists());
}

#[test]
fn missing_folder_is_an_io_error_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("no/such/folder/out.wav");
    let err = write_wav_f32(&path, &[0.0], 16_000).expect_err("no folder");
    assert!(matches!(err, AudioError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("out.wav"), "{err}");
}
