//! FLAC, Ogg Vorbis and MP3 through symphonia, on committed fixtures made by
//! `tests/fixtures/make_fixtures.py` from synthetic tones.

mod common;

use common::*;
use ser_audio::{decode, load};

/// The integer tone `round(amp * sin(2 pi 440 n / rate))`, as the fixture script makes it.
fn int_tone(n: usize, rate: u32, amp: f64) -> Vec<i64> {
    (0..n)
        .map(|i| {
            (amp * (2.0 * std::f64::consts::PI * 440.0 * i as f64 / f64::from(rate)).sin()).round()
                as i64
        })
        .collect()
}

#[test]
fn flac_16_bit_mono_is_bit_exact() {
    let audio = load(&fixture("tone_440hz_16k_mono.flac")).expect("FLAC decodes");
    assert_eq!((audio.sample_rate_hz, audio.channels), (16_000, 1));
    let want: Vec<f32> = int_tone(4_000, 16_000, 12_000.0)
        .iter()
        .map(|&v| v as f32 / 32_768.0)
        .collect();
    assert_eq!(audio.samples, want);
}

#[test]
fn flac_24_bit_stereo_is_mixed_to_the_exact_mean() {
    let audio = load(&fixture("tone_440hz_8k_stereo24.flac")).expect("FLAC decodes");
    assert_eq!((audio.sample_rate_hz, audio.channels), (8_000, 2));
    let left = int_tone(800, 8_000, 4.0e6);
    let want: Vec<f32> = left
        .iter()
        .map(|&l| {
            let r = (-l).div_euclid(2);
            let (lf, rf) = (l as f32 / 8_388_608.0, r as f32 / 8_388_608.0);
            ((f64::from(lf) + f64::from(rf)) / 2.0) as f32
        })
        .collect();
    assert_eq!(audio.samples, want);
}

/// Checks a lossy 0.5 s, 440 Hz, amplitude 0.5 tone at 16 kHz.
fn assert_lossy_tone(name: &str) {
    let audio = load(&fixture(name)).expect("decodes");
    assert_eq!(
        (audio.sample_rate_hz, audio.channels),
        (16_000, 1),
        "{name}"
    );
    // Gapless trimming (LAME header, Ogg granule position) gives back the encoded length.
    assert_eq!(audio.samples.len(), 8_000, "{name}");
    // Skip the first and last 1000 samples (codec start-up and end effects).
    let middle = &audio.samples[1_000..7_000];
    let (amp, _) = tone_fit(middle, 16_000, 440.0);
    assert!((amp - 0.5).abs() < 0.02, "{name}: 440 Hz amplitude {amp}");
    // Almost all energy is at 440 Hz: residual RMS small compared with the tone's 0.354.
    let residual = (rms(middle).powi(2) - amp * amp / 2.0).max(0.0).sqrt();
    assert!(residual < 0.02, "{name}: residual RMS {residual}");
}

#[test]
fn ogg_vorbis_tone() {
    assert_lossy_tone("tone_440hz_16k_mono.ogg");
}

#[test]
fn mp3_tone() {
    assert_lossy_tone("tone_440hz_16k_mono.mp3");
}

#[test]
fn truncated_flac_is_an_error_not_shorter_audio() {
    let mut bytes = std::fs::read(fixture("tone_440hz_16k_mono.flac")).expect("fixture");
    bytes.truncate(bytes.len() - 200);
    let err = decode(&bytes, "cut.flac").expect_err("truncated");
    assert!(err.to_string().contains("cut.flac"), "{err}");
}

#[test]
fn sniffing_ignores_the_extension() {
    let bytes = std::fs::read(fixture("tone_440hz_16k_mono.flac")).expect("fixture");
    let from_flac = decode(&bytes, "tone.flac").expect("decodes");
    let from_wav_name = decode(&bytes, "misnamed.wav").expect("decodes");
    assert_eq!(from_flac, from_wav_name);
}

#[test]
fn mp3_behind_an_id3v2_tag() {
    let mp3 = std::fs::read(fixture("tone_440hz_16k_mono.mp3")).expect("fixture");
    let mut tagged = b"ID3\x03\x00\x00\x00\x00\x00\x14".to_vec(); // 20-byte tag body
    tagged.extend_from_slice(b"TIT2\x00\x00\x00\x06\x00\x00\x00tone\x00"); // 16 bytes
    tagged.extend_from_slice(&[0; 4]); // padding up to the declared 20 bytes
    assert_eq!(tagged.len(), 30);
    tagged.extend_from_slice(&mp3);
    let plain = decode(&mp3, "plain.mp3").expect("decodes");
    let with_tag = decode(&tagged, "tagged.mp3").expect("decodes");
    assert_eq!(plain, with_tag);
}
