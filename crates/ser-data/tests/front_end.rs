//! The conditioned front end on generated signals: a 48 kHz recording with energy above
//! 8 kHz and its 16 kHz copy give the same features; a gain gives the same features.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ser_audio::resample_band_limited;
use ser_features::{FeatureConfig, FeatureExtractor, FeatureMatrix};

/// Speech-like: harmonics of 140 Hz up to 7 kHz (amplitude 1/k), syllables at 4 Hz, fades
/// at both ends; with
/// `high`, three components above 8 kHz as a 48 kHz microphone would record them.
fn voice(rate: u32, seconds: f64, high: bool) -> Vec<f32> {
    let n = (seconds * f64::from(rate)) as usize;
    let tau = std::f64::consts::TAU;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            let syllables = 0.55 - 0.45 * (tau * 4.0 * t).cos();
            let mut x = 0.0;
            let mut k = 1.0;
            while 140.0 * k <= 7_000.0 {
                x += (tau * 140.0 * k * t + k).sin() / k;
                k += 1.0;
            }
            if high {
                x += 0.3 * ((tau * 9_100.0 * t).sin() + (tau * 11_300.0 * t).sin())
                    + 0.3 * (tau * 14_700.0 * t).sin();
            }
            // Faded in and out over 50 ms, as a recording starts and ends in silence.
            let fade = (t / 0.05).min((seconds - t) / 0.05).clamp(0.0, 1.0);
            (0.05 * fade * syllables * x) as f32
        })
        .collect()
}

fn features(config: &FeatureConfig, samples: &[f32], rate: u32) -> FeatureMatrix {
    let analysis = resample_band_limited(samples, rate, config.sample_rate_hz, config.band_hz())
        .expect("resample");
    FeatureExtractor::new(config)
        .expect("plan")
        .extract(&analysis)
        .expect("extract")
}

/// The largest absolute difference over the MFCC and mel-dB rows.
fn max_diff(config: &FeatureConfig, a: &FeatureMatrix, b: &FeatureMatrix) -> f32 {
    let layout = config.layout();
    let rows: Vec<usize> = layout.mfcc.clone().chain(layout.mel_db.clone()).collect();
    let n = a.n_frames;
    rows.iter()
        .flat_map(|&r| {
            let (ra, rb) = (&a.data[r * n..(r + 1) * n], &b.data[r * n..(r + 1) * n]);
            ra.iter()
                .zip(rb)
                .map(|(x, y)| (x - y).abs())
                .collect::<Vec<_>>()
        })
        .fold(0.0, f32::max)
}

#[test]
fn a_48k_recording_and_its_16k_copy_give_the_same_features() {
    let wide = voice(48_000, 2.5, true);
    let narrow = voice(16_000, 2.5, false);
    let robust = FeatureConfig::robust();
    let d = max_diff(
        &robust,
        &features(&robust, &wide, 48_000),
        &features(&robust, &narrow, 16_000),
    );
    // Resampler precision (measured 0.0015 dB-units; rubato's pass band is flat to 0.05 dB
    // below 7.2 kHz).
    assert!(
        d < 0.05,
        "robust front end: features differ by {d} dB-units"
    );
    // Without the band limit the top mel bands see the 9-15 kHz energy.
    let seed = FeatureConfig::seed();
    let d_seed = max_diff(
        &seed,
        &features(&seed, &wide, 48_000),
        &features(&seed, &narrow, 16_000),
    );
    // (measured 59.5)
    assert!(d_seed > 10.0, "without the front end: {d_seed}");
}

#[test]
fn a_gain_gives_the_same_features() {
    let robust = FeatureConfig::robust();
    let x = voice(16_000, 2.5, false);
    let reference = features(&robust, &x, 16_000);
    for gain_db in [-30.0_f32, 20.0] {
        let g = 10f32.powf(gain_db / 20.0);
        let y: Vec<f32> = x.iter().map(|v| v * g).collect();
        let m = features(&robust, &y, 16_000);
        let d = reference
            .data
            .iter()
            .zip(&m.data)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(d < 1e-2, "{gain_db} dB: features moved by {d}");
    }
    // The original's features move with the level (MFCC 0 and RMS are absolute).
    let seed = FeatureConfig::seed();
    let quiet: Vec<f32> = x.iter().map(|v| v * 0.1).collect();
    assert!(
        max_diff(
            &seed,
            &features(&seed, &x, 16_000),
            &features(&seed, &quiet, 16_000)
        ) > 10.0
    );
}
