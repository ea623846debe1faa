//! Time of [`ser_features::Pyin`] per second of audio, on one thread: the vowel-like pYIN
//! fixture (22.05 kHz) repeated to 10 s, librosa's defaults (C2..C7, frame 2048, hop 512).
//!
//! ```text
//! cargo run --release -p ser-features --example pyin_speed
//! ```
//!
//! The librosa side of the comparison (same signal, float64):
//! `python3 -c "import numpy as np, librosa, time; y = np.tile(np.fromfile('crates/ser-features/tests/golden/pyin__vowel22k.signal.f32', '<f4'), 10).astype(np.float64); t = time.perf_counter(); librosa.pyin(y, sr=22050, fmin=librosa.note_to_hz('C2'), fmax=librosa.note_to_hz('C7')); print((time.perf_counter() - t) / 10 * 1e3, 'ms per s')"`

use std::time::Instant;

use ser_features::{Pyin, PyinConfig};

fn main() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/pyin__vowel22k.signal.f32"
    );
    let bytes = std::fs::read(path).expect("the pYIN fixture");
    let one: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let samples: Vec<f32> = one.iter().copied().cycle().take(10 * one.len()).collect();
    let seconds = samples.len() as f64 / 22_050.0;
    let mut pyin = Pyin::new(&PyinConfig::new(22_050)).expect("plan");
    let _ = pyin.track(&samples).expect("warm-up");
    let runs = 5;
    let start = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(pyin.track(std::hint::black_box(&samples)).expect("track"));
    }
    let ms_per_second = start.elapsed().as_secs_f64() * 1e3 / runs as f64 / seconds;
    println!(
        "{{\"pyin_ms_per_audio_second\": {ms_per_second:.3}, \"audio_seconds\": {seconds:.1}}}"
    );
}
