//! The cost of the two stages every file of the `seed` preset needs whatever the rest of the
//! pipeline does, for a clip of RAVDESS's mean length (3.70 s at 16 kHz, 160 frames at
//! 22 050 Hz): resampling 16 -> 22.05 kHz and the 2048-point real FFTs, in f64 (what
//! ser-features uses, for librosa's numerics) and in f32 (for comparison).
//!
//! ```text
//! cargo bench --workspace --bench stages
//! ```
//!
//! Prints one JSON object with milliseconds per file on one thread. It bounds what any
//! speed-up of the rest can reach (README, "Speed of feature extraction").

use std::hint::black_box;
use std::time::Instant;

use realfft::RealFftPlanner;
use realfft::num_traits::Float;

/// RAVDESS's mean clip: 59 210 samples at 16 kHz, 160 centred frames at 22 050 Hz, hop 512.
const CLIP_SAMPLES_16K: usize = 59_210;
const FRAMES: usize = 160;
const N_FFT: usize = 2048;

/// Milliseconds per file of `FRAMES` real FFTs of `N_FFT` points.
fn fft_ms<T: realfft::FftNum + Float>(files: usize) -> f64 {
    let fft = RealFftPlanner::<T>::new().plan_fft_forward(N_FFT);
    let mut input = fft.make_input_vec();
    for (i, x) in input.iter_mut().enumerate() {
        *x = T::from(i as f64 * 0.1).expect("a float type").sin();
    }
    let mut output = fft.make_output_vec();
    let mut scratch = fft.make_scratch_vec();
    let start = Instant::now();
    for _ in 0..files * FRAMES {
        fft.process_with_scratch(black_box(&mut input), &mut output, &mut scratch)
            .expect("planned lengths");
        black_box(&output);
    }
    start.elapsed().as_secs_f64() * 1e3 / files as f64
}

fn main() -> Result<(), String> {
    // A deterministic noise-like clip (the resampler's cost does not depend on the values).
    let clip: Vec<f32> = (0..CLIP_SAMPLES_16K)
        .map(|i| ((i as f32 * 0.013).sin() + (i as f32 * 0.37).cos()) * 0.25)
        .collect();
    let files = 300;
    let resample = |_| ser_audio::resample(black_box(&clip), 16_000, 22_050);
    resample(()).map_err(|e| e.to_string())?;
    let start = Instant::now();
    for _ in 0..files {
        black_box(resample(()).map_err(|e| e.to_string())?);
    }
    let resample_ms = start.elapsed().as_secs_f64() * 1e3 / files as f64;
    let (f64_ms, f32_ms) = (fft_ms::<f64>(files), fft_ms::<f32>(files));
    println!(
        "{{\"clip_s\": {:.2}, \"frames\": {FRAMES}, \"resample_ms\": {resample_ms:.3}, \"fft_f64_ms\": {f64_ms:.3}, \"fft_f32_ms\": {f32_ms:.3}}}",
        CLIP_SAMPLES_16K as f64 / 16_000.0
    );
    Ok(())
}
