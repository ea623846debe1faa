//! Golden tests: the whole feature stack against librosa 0.11 on signals the project makes.
//!
//! The fixtures in `tests/golden/` come from `make_golden.py` (`cargo xtask golden`).
//! Tolerances (absolute): MFCC, deltas and mel dB within 1e-2; chroma, ZCR and RMS within 1e-3.

mod common;

use common::{golden_dir, read_f32};

use ser_features::{FeatureConfig, FeatureExtractor};

#[derive(serde::Deserialize)]
struct Manifest {
    librosa_version: String,
    cases: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    preset: String,
    signal: String,
    n_samples: usize,
    n_rows: usize,
    n_frames: usize,
}

/// Largest absolute difference per feature block, and the tolerance of each block.
fn block_errors(
    config: &FeatureConfig,
    ours: &[f32],
    theirs: &[f32],
    n_frames: usize,
) -> Vec<(&'static str, f32, f32)> {
    let l = config.layout();
    let blocks = [
        ("mfcc", l.mfcc.clone(), 1e-2),
        ("delta", l.delta.clone(), 1e-2),
        ("delta2", l.delta2.clone(), 1e-2),
        ("mel_db", l.mel_db.clone(), 1e-2),
        ("chroma", l.chroma.clone(), 1e-3),
        ("zcr", l.zcr..l.zcr + 1, 1e-3),
        ("rms", l.rms..l.rms + 1, 1e-3),
    ];
    blocks
        .into_iter()
        .map(|(name, rows, tol)| {
            let range = rows.start * n_frames..rows.end * n_frames;
            let err = ours[range.clone()]
                .iter()
                .zip(&theirs[range])
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            (name, err, tol)
        })
        .collect()
}

#[test]
fn every_golden_case_matches_librosa() {
    let dir = golden_dir();
    let manifest: Manifest = serde_json::from_str(
        &std::fs::read_to_string(dir.join("manifest.json")).expect("manifest"),
    )
    .expect("json");
    assert!(
        manifest.librosa_version.starts_with("0.11"),
        "fixtures from librosa {}",
        manifest.librosa_version
    );
    assert!(
        manifest.cases.len() >= 14,
        "expected every signal for both presets"
    );
    let mut failures = Vec::new();
    for case in &manifest.cases {
        let config = FeatureConfig::preset(&case.preset).expect("preset");
        let mut extractor = FeatureExtractor::new(&config).expect("plan");
        let stem = format!("{}__{}", case.preset, case.signal);
        let signal = read_f32(&dir.join(format!("{stem}.signal.f32")));
        let expected = read_f32(&dir.join(format!("{stem}.features.f32")));
        assert_eq!(signal.len(), case.n_samples, "{stem}");
        assert_eq!(expected.len(), case.n_rows * case.n_frames, "{stem}");
        let ours = extractor.extract_all_frames(&signal).expect("extract");
        assert_eq!(
            (ours.n_rows, ours.n_frames),
            (case.n_rows, case.n_frames),
            "{stem}: shape"
        );
        for (block, err, tol) in block_errors(&config, &ours.data, &expected, case.n_frames) {
            eprintln!("{stem:28} {block:7} max |diff| = {err:.2e} (tolerance {tol:.0e})");
            if err.is_nan() || err > tol {
                failures.push(format!("{stem} {block}: {err:e} > {tol:e}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "blocks off librosa:\n{}",
        failures.join("\n")
    );
}

#[test]
fn fixed_size_output_is_the_padded_golden_matrix() {
    let dir = golden_dir();
    let config = FeatureConfig::seed();
    let mut extractor = FeatureExtractor::new(&config).expect("plan");
    let signal = read_f32(&dir.join("seed__speechlike.signal.f32"));
    let full = extractor.extract_all_frames(&signal).expect("extract");
    let fixed = extractor.extract(&signal).expect("extract");
    assert_eq!((fixed.n_rows, fixed.n_frames), (174, 128));
    for r in 0..174 {
        assert_eq!(&fixed.row(r)[..full.n_frames], full.row(r));
        assert!(fixed.row(r)[full.n_frames..].iter().all(|&v| v == 0.0));
    }
}
