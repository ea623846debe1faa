//! Golden tests of pYIN against `librosa.pyin` (librosa 0.11) on the fixtures of
//! `tests/golden/pyin.json` (made by `make_golden.py`, `cargo xtask golden`).
//!
//! librosa was given the f32 signals widened to float64 (what this implementation computes
//! in). Agreement required: the voiced flags on at least 99 % of the frames of each case, f0
//! within 1 cent where both are voiced (both sides pick a bin of a 10-cent grid, so in
//! practice the bins are equal or the paths differ), voiced probabilities within 1e-6.

mod common;

use common::{golden_dir, read_f32};

use ser_features::{Pyin, PyinConfig};

#[derive(serde::Deserialize)]
struct Manifest {
    librosa_version: String,
    fmin: f64,
    fmax: f64,
    input_dtype: String,
    cases: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    name: String,
    signal: String,
    sample_rate_hz: u32,
    n_samples: usize,
    frame_length: usize,
    hop_length: usize,
    n_frames: usize,
}

#[test]
fn pyin_matches_librosa() {
    let dir = golden_dir();
    let manifest: Manifest =
        serde_json::from_str(&std::fs::read_to_string(dir.join("pyin.json")).expect("pyin.json"))
            .expect("json");
    assert!(manifest.librosa_version.starts_with("0.11"));
    assert_eq!(manifest.input_dtype, "float64");
    assert!(manifest.cases.len() >= 5, "{} cases", manifest.cases.len());
    let (mut total, mut agree) = (0, 0);
    let mut cents = Vec::new();
    let mut max_prob_err = 0.0_f32;
    let mut failures = Vec::new();
    for case in &manifest.cases {
        let signal = read_f32(&dir.join(&case.signal));
        assert_eq!(signal.len(), case.n_samples, "{}", case.name);
        let expected = read_f32(&dir.join(format!("pyin__{}.pyin.f32", case.name)));
        assert_eq!(expected.len(), 3 * case.n_frames, "{}", case.name);
        let (f0, voiced, prob) = (
            &expected[..case.n_frames],
            &expected[case.n_frames..2 * case.n_frames],
            &expected[2 * case.n_frames..],
        );
        let config = PyinConfig {
            fmin_hz: manifest.fmin,
            fmax_hz: manifest.fmax,
            frame_length: case.frame_length,
            hop_length: case.hop_length,
            ..PyinConfig::new(case.sample_rate_hz)
        };
        let track = Pyin::new(&config)
            .expect("plan")
            .track(&signal)
            .expect("track");
        assert_eq!(track.len(), case.n_frames, "{}: frames", case.name);
        let mut case_agree = 0;
        let mut case_cents = 0.0_f64;
        let mut case_prob = 0.0_f32;
        for t in 0..case.n_frames {
            let theirs = voiced[t] == 1.0;
            assert_eq!(theirs, !f0[t].is_nan(), "{} frame {t}", case.name);
            if theirs == track.voiced[t] {
                case_agree += 1;
            }
            if theirs && track.voiced[t] {
                let c = 1200.0 * (f64::from(track.f0_hz[t]) / f64::from(f0[t])).log2().abs();
                case_cents = case_cents.max(c);
                cents.push(c);
            }
            if (track.voiced_prob[t] - prob[t]).abs() > 1e-6 {
                eprintln!(
                    "  {} frame {t}: voiced_prob {} vs librosa {}",
                    case.name, track.voiced_prob[t], prob[t]
                );
            }
            case_prob = case_prob.max((track.voiced_prob[t] - prob[t]).abs());
        }
        eprintln!(
            "{:24} {:4} frames, voiced flags agree on {:4} ({:.2} %), f0 max {:.4} cents, voiced_prob max |diff| {:.2e}",
            case.name,
            case.n_frames,
            case_agree,
            100.0 * case_agree as f64 / case.n_frames as f64,
            case_cents,
            case_prob
        );
        if (case_agree as f64) < 0.99 * case.n_frames as f64 || case_cents > 1.0 || case_prob > 1e-6
        {
            failures.push(case.name.clone());
        }
        total += case.n_frames;
        agree += case_agree;
        max_prob_err = max_prob_err.max(case_prob);
    }
    cents.sort_by(f64::total_cmp);
    let median = cents.get(cents.len() / 2).copied().unwrap_or(0.0);
    eprintln!(
        "all: {agree} of {total} frames agree ({:.2} %), {} voiced in both, f0 max {:.4} / median {:.4} cents, voiced_prob max |diff| {max_prob_err:.2e}",
        100.0 * agree as f64 / total as f64,
        cents.len(),
        cents.last().copied().unwrap_or(0.0),
        median
    );
    assert!(failures.is_empty(), "cases off librosa: {failures:?}");
}

/// The opt-in pitch rows of the extractor are librosa's pYIN on the feature grid; the other
/// rows are bit for bit those of the configuration without pitch, and the fixed-size output
/// is the full one cropped.
#[test]
fn pitch_rows_are_librosa_pyin_on_the_feature_grid() {
    use ser_features::{FeatureConfig, FeatureExtractor, FeatureSet};
    let dir = golden_dir();
    for (preset, signal) in [
        ("seed", "seed__espeak"),
        ("speech16k", "speech16k__speechlike"),
    ] {
        let path = dir.join(format!("{signal}.signal.f32"));
        let expected_path = dir.join(format!("pyin__{signal}.pyin.f32"));
        if !path.exists() || !expected_path.exists() {
            eprintln!("{signal}: no fixture (espeak-ng was missing when they were made)");
            continue;
        }
        let samples = read_f32(&path);
        let plain = FeatureConfig::preset(preset).unwrap();
        let config = plain.clone().for_feature_set(FeatureSet::FullPitch);
        let mut with = FeatureExtractor::new(&config).unwrap();
        let full = with.extract_all_frames(&samples).unwrap();
        let base = FeatureExtractor::new(&plain)
            .unwrap()
            .extract_all_frames(&samples)
            .unwrap();
        assert_eq!((full.n_rows, base.n_rows), (178, 174));
        assert_eq!(
            &full.data[..174 * full.n_frames],
            &base.data[..],
            "{signal}"
        );

        let n = full.n_frames;
        let expected = read_f32(&expected_path);
        assert_eq!(expected.len(), 3 * n, "{signal}: frames");
        let pitch = config.layout().pitch;
        let rows: Vec<&[f32]> = pitch.clone().map(|r| full.row(r)).collect();
        for t in 0..n {
            let (f0, voiced, prob) = (expected[t], expected[n + t], expected[2 * n + t]);
            assert_eq!(rows[1][t], voiced, "{signal} frame {t}: voiced");
            assert!(
                (rows[2][t] - prob).abs() <= 1e-6,
                "{signal} frame {t}: prob"
            );
            if voiced == 1.0 {
                let st = 12.0 * (f64::from(f0) / 55.0).log2();
                assert!(
                    (f64::from(rows[0][t]) - st).abs() < 1e-4,
                    "{signal} frame {t}"
                );
            } else {
                assert_eq!((rows[0][t], rows[3][t]), (0.0, 0.0), "{signal} frame {t}");
            }
            if t > 0 && voiced == 1.0 && expected[n + t - 1] == 1.0 {
                assert_eq!(rows[3][t], rows[0][t] - rows[0][t - 1]);
            }
        }
        let fixed = with.extract(&samples).unwrap();
        assert_eq!(fixed, full.clone().fit_frames(config.n_frames), "{signal}");
        let set = config.layout().rows(FeatureSet::Pitch);
        assert_eq!(full.select_rows(&set).n_rows, 4);
    }
}
