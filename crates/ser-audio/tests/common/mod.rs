//! Helpers shared by the integration tests: build RIFF/WAVE files byte by byte.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `WAVE_FORMAT_PCM`.
pub const PCM: u16 = 1;
/// `WAVE_FORMAT_IEEE_FLOAT`.
pub const FLOAT: u16 = 3;
/// `WAVE_FORMAT_EXTENSIBLE`.
pub const EXTENSIBLE: u16 = 0xFFFE;

/// One RIFF chunk: id and body (the pad byte is added by [`riff`]).
pub fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(id);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    if body.len() % 2 == 1 {
        out.push(0);
    }
    out
}

/// A chunk whose header claims `claimed` bytes whatever the body holds (no padding).
pub fn raw_chunk(id: &[u8; 4], claimed: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(id);
    out.extend_from_slice(&claimed.to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// `RIFF <size> WAVE` followed by the given (already encoded) chunks.
pub fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = chunks.concat();
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(4 + body.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(&body);
    out
}

/// A 16-byte `fmt ` body.
pub fn fmt_body(tag: u16, channels: u16, rate: u32, bits: u16) -> Vec<u8> {
    let block_align = channels * (bits / 8);
    fmt_body_raw(tag, channels, rate, block_align, bits)
}

/// A 16-byte `fmt ` body with an explicit (possibly wrong) block_align.
pub fn fmt_body_raw(tag: u16, channels: u16, rate: u32, block_align: u16, bits: u16) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&tag.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate.wrapping_mul(u32::from(block_align))).to_le_bytes());
    b.extend_from_slice(&block_align.to_le_bytes());
    b.extend_from_slice(&bits.to_le_bytes());
    b
}

/// A 40-byte `WAVEFORMATEXTENSIBLE` body with sub-format `sub_tag` (1 = PCM, 3 = float).
pub fn fmt_extensible(
    channels: u16,
    rate: u32,
    bits: u16,
    valid_bits: u16,
    sub_tag: u16,
) -> Vec<u8> {
    let mut b = fmt_body(EXTENSIBLE, channels, rate, bits);
    b.extend_from_slice(&22_u16.to_le_bytes()); // cbSize
    b.extend_from_slice(&valid_bits.to_le_bytes());
    b.extend_from_slice(&0x3_u32.to_le_bytes()); // channel mask: FL | FR
    b.extend_from_slice(&sub_tag.to_le_bytes());
    b.extend_from_slice(&[
        0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
    ]);
    b
}

/// A complete WAV file: `fmt ` then `data`.
pub fn wav(fmt: Vec<u8>, data: &[u8]) -> Vec<u8> {
    riff(&[chunk(b"fmt ", &fmt), chunk(b"data", data)])
}

/// Little-endian bytes of i16 samples.
pub fn i16_bytes(v: &[i16]) -> Vec<u8> {
    v.iter().flat_map(|s| s.to_le_bytes()).collect()
}

/// Little-endian packed 3-byte samples.
pub fn i24_bytes(v: &[i32]) -> Vec<u8> {
    v.iter()
        .flat_map(|s| s.to_le_bytes()[..3].to_vec())
        .collect()
}

/// Little-endian bytes of i32 samples.
pub fn i32_bytes(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|s| s.to_le_bytes()).collect()
}

/// Little-endian bytes of f32 samples.
pub fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|s| s.to_le_bytes()).collect()
}

/// Little-endian bytes of f64 samples.
pub fn f64_bytes(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|s| s.to_le_bytes()).collect()
}

/// Writes `bytes` to `name` inside `dir` and returns the path.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write test file");
    path
}

/// Path of a committed fixture.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join(name)
}

/// A sine of `freq_hz` at `rate_hz`, `n` samples, amplitude `amp`.
pub fn sine(freq_hz: f64, rate_hz: u32, n: usize, amp: f64) -> Vec<f32> {
    (0..n)
        .map(|i| {
            (amp * (2.0 * std::f64::consts::PI * freq_hz * i as f64 / f64::from(rate_hz)).sin())
                as f32
        })
        .collect()
}

/// Root mean square.
pub fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len() as f64).sqrt()
}

/// Amplitude and phase (radians) of the `freq_hz` component of `x`, by least squares
/// against a sine and a cosine.
pub fn tone_fit(x: &[f32], rate_hz: u32, freq_hz: f64) -> (f64, f64) {
    let w = 2.0 * std::f64::consts::PI * freq_hz / f64::from(rate_hz);
    let (mut ss, mut sc, mut cc, mut xs, mut xc) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (i, &v) in x.iter().enumerate() {
        let (s, c) = (w * i as f64).sin_cos();
        ss += s * s;
        sc += s * c;
        cc += c * c;
        xs += f64::from(v) * s;
        xc += f64::from(v) * c;
    }
    let det = ss * cc - sc * sc;
    let a = (xs * cc - xc * sc) / det; // sine coefficient
    let b = (xc * ss - xs * sc) / det; // cosine coefficient
    ((a * a + b * b).sqrt(), b.atan2(a))
}
