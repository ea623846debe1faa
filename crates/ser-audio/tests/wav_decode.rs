//! Every WAV layout we support decodes to known sample values.

mod common;

use common::*;
use ser_audio::{Audio, decode, load};

fn decoded(bytes: &[u8]) -> Audio {
    decode(bytes, "test.wav").expect("valid WAV")
}

#[test]
fn u8_is_offset_by_128_and_scaled_by_128() {
    let audio = decoded(&wav(fmt_body(PCM, 1, 8_000, 8), &[0, 64, 128, 192, 255]));
    assert_eq!(audio.samples, vec![-1.0, -0.5, 0.0, 0.5, 127.0 / 128.0]);
    assert_eq!((audio.sample_rate_hz, audio.channels), (8_000, 1));
}

#[test]
fn u8_odd_data_chunk_has_its_pad_byte_skipped() {
    // 3 data bytes + pad, then a chunk after data that must not be read as audio.
    let bytes = riff(&[
        chunk(b"fmt ", &fmt_body(PCM, 1, 8_000, 8)),
        chunk(b"data", &[128, 0, 255]),
        chunk(b"LIST", b"INFOjunk"),
    ]);
    assert_eq!(decoded(&bytes).samples, vec![0.0, -1.0, 127.0 / 128.0]);
}

#[test]
fn s16_scales_by_32768() {
    let values = [-32768_i16, -16384, 0, 1, 32767];
    let audio = decoded(&wav(fmt_body(PCM, 1, 16_000, 16), &i16_bytes(&values)));
    let want: Vec<f32> = values.iter().map(|&v| f32::from(v) / 32768.0).collect();
    assert_eq!(audio.samples, want);
    assert_eq!(audio.samples[0], -1.0);
}

#[test]
fn s24_scales_by_8388608_and_sign_extends() {
    let values = [-8_388_608_i32, -1, 0, 4_194_304, 8_388_607];
    let audio = decoded(&wav(fmt_body(PCM, 1, 48_000, 24), &i24_bytes(&values)));
    let want: Vec<f32> = values.iter().map(|&v| v as f32 / 8_388_608.0).collect();
    assert_eq!(audio.samples, want);
    assert_eq!(audio.samples[1], -1.0 / 8_388_608.0);
}

#[test]
fn s32_scales_by_2147483648() {
    let values = [i32::MIN, -65_536, 0, 1 << 30, i32::MAX];
    let audio = decoded(&wav(fmt_body(PCM, 1, 44_100, 32), &i32_bytes(&values)));
    assert_eq!(
        audio.samples,
        vec![-1.0, -65_536.0 / 2_147_483_648.0, 0.0, 0.5, 1.0]
    );
}

#[test]
fn f32_is_taken_as_is_even_beyond_full_scale() {
    let values = [0.25_f32, -0.5, 1.5, 0.0, -1e-30];
    let bytes = riff(&[
        chunk(b"fmt ", &fmt_body(FLOAT, 1, 22_050, 32)),
        chunk(b"fact", &5_u32.to_le_bytes()),
        chunk(b"data", &f32_bytes(&values)),
    ]);
    assert_eq!(decoded(&bytes).samples, values.to_vec());
}

#[test]
fn f64_is_rounded_to_f32() {
    let values = [0.1_f64, -0.2, 1.0 / 3.0];
    let audio = decoded(&wav(fmt_body(FLOAT, 1, 16_000, 64), &f64_bytes(&values)));
    let want: Vec<f32> = values.iter().map(|&v| v as f32).collect();
    assert_eq!(audio.samples, want);
}

#[test]
fn stereo_is_mixed_to_the_channel_mean() {
    // Frames: (100, 300), (-32768, 32767), (1, 2).
    let data = i16_bytes(&[100, 300, -32768, 32767, 1, 2]);
    let audio = decoded(&wav(fmt_body(PCM, 2, 16_000, 16), &data));
    assert_eq!(audio.channels, 2);
    assert_eq!(
        audio.samples,
        vec![200.0 / 32768.0, -0.5 / 32768.0, 1.5 / 32768.0]
    );
}

#[test]
fn six_channels_are_averaged() {
    let frame = [0.6_f32, 0.0, -0.3, 0.3, 0.9, 0.0];
    let audio = decoded(&wav(fmt_body(FLOAT, 6, 48_000, 32), &f32_bytes(&frame)));
    let mean = frame.iter().map(|&v| f64::from(v)).sum::<f64>() / 6.0;
    assert_eq!(audio.samples, vec![mean as f32]);
    assert_eq!(audio.channels, 6);
}

#[test]
fn extensible_pcm_16_bit_stereo() {
    let data = i16_bytes(&[1000, -1000, 16384, 0]);
    let audio = decoded(&wav(fmt_extensible(2, 48_000, 16, 16, PCM), &data));
    assert_eq!(audio.samples, vec![0.0, 8192.0 / 32768.0]);
    assert_eq!(audio.channels, 2);
}

#[test]
fn extensible_pcm_20_valid_bits_in_24_bit_containers() {
    // 20-bit samples sit in the top bits of 24-bit containers (low 4 bits zero).
    let values = [0x007F_FFF0_i32, -0x80_0000, 0x10];
    let audio = decoded(&wav(
        fmt_extensible(1, 96_000, 24, 20, PCM),
        &i24_bytes(&values),
    ));
    let want: Vec<f32> = values.iter().map(|&v| v as f32 / 8_388_608.0).collect();
    assert_eq!(audio.samples, want);
}

#[test]
fn extensible_float() {
    let values = [0.125_f32, -0.75];
    let audio = decoded(&wav(
        fmt_extensible(1, 16_000, 32, 32, FLOAT),
        &f32_bytes(&values),
    ));
    assert_eq!(audio.samples, values.to_vec());
}

#[test]
fn fllr_chunk_before_data_like_original_ravdess() {
    // The 48 kHz RAVDESS originals carry a large `FLLR` filler chunk between fmt and data.
    let filler = vec![0_u8; 4_040];
    let bytes = riff(&[
        chunk(b"fmt ", &fmt_body(PCM, 1, 48_000, 16)),
        chunk(b"FLLR", &filler),
        chunk(b"data", &i16_bytes(&[4096, -4096])),
    ]);
    let audio = decoded(&bytes);
    assert_eq!(audio.samples, vec![0.125, -0.125]);
    assert_eq!(audio.sample_rate_hz, 48_000);
}

#[test]
fn odd_sized_list_chunk_is_followed_by_a_pad_byte() {
    // 5-byte LIST + pad: if the pad were not skipped, `data` would be misread.
    let bytes = riff(&[
        chunk(b"LIST", b"INFOx"),
        chunk(b"fmt ", &fmt_body(PCM, 1, 16_000, 16)),
        chunk(b"LIST", b"abc"),
        chunk(b"data", &i16_bytes(&[16384])),
    ]);
    assert_eq!(bytes.len(), 12 + (8 + 6) + (8 + 16) + (8 + 4) + (8 + 2));
    assert_eq!(decoded(&bytes).samples, vec![0.5]);
}

#[test]
fn chunks_and_junk_after_data_are_ignored() {
    let mut bytes = riff(&[
        chunk(b"fmt ", &fmt_body(PCM, 1, 16_000, 16)),
        chunk(b"data", &i16_bytes(&[-16384])),
        chunk(b"id3 ", &[1, 2, 3]),
    ]);
    bytes.extend_from_slice(&[0xde, 0xad, 0xbe]);
    assert_eq!(decoded(&bytes).samples, vec![-0.5]);
}

#[test]
fn fmt_chunk_with_cb_size_18_bytes() {
    let mut fmt = fmt_body(PCM, 1, 16_000, 16);
    fmt.extend_from_slice(&0_u16.to_le_bytes());
    assert_eq!(decoded(&wav(fmt, &i16_bytes(&[8192]))).samples, vec![0.25]);
}

#[test]
fn unknown_length_data_runs_to_end_of_file_dropping_a_partial_frame() {
    // Written by a tool that could not seek back: data size 0xFFFFFFFF, 2.5 frames follow.
    let mut bytes = riff(&[chunk(b"fmt ", &fmt_body(PCM, 1, 16_000, 16))]);
    bytes.extend(raw_chunk(
        b"data",
        u32::MAX,
        &[0x00, 0x40, 0x00, 0xC0, 0x7F],
    ));
    assert_eq!(decoded(&bytes).samples, vec![0.5, -0.5]);
}

#[test]
fn load_reads_from_disk_like_decode() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = wav(fmt_body(PCM, 2, 16_000, 16), &i16_bytes(&[2, 4, 6, 8]));
    let path = write_file(dir.path(), "stereo.wav", &bytes);
    let audio = load(&path).expect("loads");
    assert_eq!(audio, decoded(&bytes));
    assert_eq!(audio.samples, vec![3.0 / 32768.0, 7.0 / 32768.0]);
    assert_eq!(audio.duration_s(), 2.0 / 16_000.0);
}

#[test]
fn content_decides_not_the_extension() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = wav(fmt_body(PCM, 1, 16_000, 16), &i16_bytes(&[16384]));
    let path = write_file(dir.path(), "actually_wav.flac", &bytes);
    assert_eq!(load(&path).expect("WAV content").samples, vec![0.5]);
}
