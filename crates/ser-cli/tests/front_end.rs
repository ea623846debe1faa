//! The conditioned front end end to end: a model of the default `robust` preset answers the same
//! for the same sound at another level or sample rate.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{run, s, text, train_tiny, write_corpus};

/// The probabilities `ser-predict --json` gives for each file, in order.
fn probabilities(model: &Path, files: &[PathBuf]) -> Vec<Vec<f64>> {
    let mut args = vec!["--model", s(model), "--json"];
    args.extend(files.iter().map(|f| s(f)));
    let out = run(env!("CARGO_BIN_EXE_ser-predict"), &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let p = v["probabilities"]
                .as_object()
                .unwrap_or_else(|| panic!("{v}"));
            common::EMOTIONS
                .iter()
                .map(|e| p[*e].as_f64().unwrap())
                .collect()
        })
        .collect()
}

/// 3 s of a voice-like sound: harmonics of 180 Hz up to 4 kHz (amplitude 1/k), rising and
/// falling like syllables. Broadband like speech, so that the resamplers' stop-band residue
/// (about -90 dB) stays under the features' 80 dB floor, as it does for real recordings.
fn voice(rate: u32) -> Vec<f32> {
    let tau = std::f32::consts::TAU;
    (0..3 * rate as usize)
        .map(|i| {
            let t = i as f32 / rate as f32;
            let syllables = 0.55 - 0.45 * (tau * 4.0 * t).cos();
            let x: f32 = (1..=22)
                .map(|k| (tau * 180.0 * k as f32 * t).sin() / k as f32)
                .sum();
            0.02 * syllables * x
        })
        .collect()
}

/// Faded in and out over 50 ms, as a recording starts and ends (an abrupt start rings
/// differently through each resampler, which is not what the test is about).
fn faded(mut x: Vec<f32>, rate: u32) -> Vec<f32> {
    let n = x.len();
    let fade = (rate / 20) as usize;
    for i in 0..fade.min(n / 2) {
        let g = i as f32 / fade as f32;
        x[i] *= g;
        x[n - 1 - i] *= g;
    }
    x
}

fn max_change(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn default_models_ignore_level_and_sample_rate() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("corpus");
    let cache = tmp.path().join("cache");
    write_corpus(&data);
    let robust = train_tiny(
        &data,
        &cache,
        &tmp.path().join("robust"),
        "svm",
        // The preset's band, which a speech corpus keeps: the tones of this corpus stop
        // below 1 kHz, and without `--band-hz` the run would take that measured band
        // (ser-run's test `the_front_end_band_is_measured_from_the_training_audio`).
        &["--preset", "robust", "--band-hz", "8000"],
    );
    let info = common::read_json(&robust.join("ser-run.json"));
    assert_eq!(
        info["feature_config"]["front_end"]["band_hz"], 8000,
        "{info}"
    );

    // One clip at 0, -30 and +20 dB (float WAV, nothing clips), and the same sound recorded
    // at 48 kHz with energy above 8 kHz.
    let audio = tmp.path().join("audio");
    std::fs::create_dir_all(&audio).unwrap();
    let clip = faded(voice(16_000), 16_000);
    let mut files = Vec::new();
    for (name, gain_db) in [("0db", 0.0_f32), ("-30db", -30.0), ("+20db", 20.0)] {
        let g = 10f32.powf(gain_db / 20.0);
        let samples: Vec<f32> = clip.iter().map(|x| x * g).collect();
        let path = audio.join(format!("clip{name}.wav"));
        ser_audio::write_wav_f32(&path, &samples, 16_000).unwrap();
        files.push(path);
    }
    let wide: Vec<f32> = voice(48_000)
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let t = i as f32 / 48_000.0;
            x + 0.01 * (2.0 * std::f32::consts::PI * 10_500.0 * t).sin()
                + 0.01 * (2.0 * std::f32::consts::PI * 13_200.0 * t).sin()
        })
        .collect();
    let wide = faded(wide, 48_000);
    let wide_path = audio.join("clip48k.wav");
    ser_audio::write_wav_f32(&wide_path, &wide, 48_000).unwrap();
    files.push(wide_path);

    let p = probabilities(&robust, &files);
    for (k, what) in [(1, "-30 dB"), (2, "+20 dB")] {
        let change = max_change(&p[0], &p[k]);
        assert!(change <= 0.01, "{what}: a probability moved by {change}");
    }
    let change = max_change(&p[0], &p[3]);
    assert!(change <= 0.02, "48 kHz: a probability moved by {change}");
    // (That the original's features move with level and band is tested where they are
    // made: ser-data's tests/front_end.rs.)
}
