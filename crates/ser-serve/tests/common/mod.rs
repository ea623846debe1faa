//! A server on a free loopback port with the shipped default model, and test audio.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ser_serve::{AppState, ServeOptions};

/// Starts a server in a background thread; it lives as long as the test process.
pub fn start(options: ServeOptions) -> SocketAddr {
    let dir = ser_run::default_model_dir();
    let state = Arc::new(AppState::load(&[dir], options).expect("the default model loads"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            ser_serve::serve(listener, state, std::future::pending())
                .await
                .unwrap();
        });
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("server started")
}

/// A WAV file's bytes: `seconds` of a 220 Hz tone with a vibrato, 16-bit mono at 16 kHz.
pub fn wav_bytes(seconds: f32) -> Vec<u8> {
    let rate = 16_000_u32;
    let n = (seconds * rate as f32) as usize;
    let samples: Vec<f32> = (0..n)
        .map(|i| {
            let t = i as f32 / rate as f32;
            let f = 220.0 + 30.0 * (2.0 * std::f32::consts::PI * 5.0 * t).sin();
            // Syllable-like loudness (4 Hz, 20 dB) so the voice-activity detector finds speech.
            let syllables = 0.55 - 0.45 * (2.0 * std::f32::consts::PI * 4.0 * t).cos();
            0.3 * syllables * (2.0 * std::f32::consts::PI * f * t).sin()
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tone.wav");
    ser_audio::write_wav_i16(&path, &samples, rate).unwrap();
    std::fs::read(path).unwrap()
}
