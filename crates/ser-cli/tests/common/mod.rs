//! Helpers shared by the end-to-end CLI tests: a tiny synthetic RAVDESS-layout corpus and
//! running the built binaries.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Sample rate of the generated corpus.
pub const SAMPLE_RATE_HZ: u32 = 22_050;
/// Actors of the generated corpus.
pub const N_ACTORS: usize = 8;
/// Emotions of the generated corpus (all of RAVDESS's).
pub const N_EMOTIONS: u8 = 8;
/// The RAVDESS label names in label-map order, as the tools print them.
pub const EMOTIONS: [&str; 8] = [
    "neutral",
    "calm",
    "happy",
    "sad",
    "angry",
    "fearful",
    "disgust",
    "surprised",
];
pub const DURATION_S: f32 = 0.5;

/// A tone whose pitch depends on the emotion (1..=8), `amplitude` peak, `duration_s` long,
/// rising and falling 4 times a second by 20 dB like syllables, so that the voice-activity
/// detector takes it for speech (a steady tone is not).
pub fn tone(emotion: u8, amplitude: f32, duration_s: f32, rate_hz: u32) -> Vec<f32> {
    let f0_hz = 150.0 * 1.25_f32.powi(i32::from(emotion));
    let n = (duration_s * rate_hz as f32) as usize;
    (0..n)
        .map(|i| {
            let t = i as f32 / rate_hz as f32;
            let syllables = 0.55 - 0.45 * (2.0 * std::f32::consts::PI * 4.0 * t).cos();
            amplitude * syllables * (2.0 * std::f32::consts::PI * f0_hz * t).sin()
        })
        .collect()
}

/// 8 actors x 8 emotions, one 0.5 s tone each; the pitch depends on the emotion, the
/// amplitude a little on the actor.
pub fn write_corpus(root: &Path) {
    for actor in 1..=N_ACTORS {
        let dir = root.join(format!("Actor_{actor:02}"));
        std::fs::create_dir_all(&dir).unwrap();
        for emotion in 1..=N_EMOTIONS {
            let samples = tone(
                emotion,
                0.2 + 0.02 * actor as f32,
                DURATION_S,
                SAMPLE_RATE_HZ,
            );
            let name = format!("03-01-{emotion:02}-01-01-01-{actor:02}.wav");
            ser_audio::write_wav_i16(&dir.join(name), &samples, SAMPLE_RATE_HZ).unwrap();
        }
    }
}

/// Runs a binary with `args`, stdin closed.
pub fn run(bin: &str, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

/// Runs a binary with `args`, feeding `input` on its standard input.
pub fn run_with_stdin(bin: &str, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // Write from another thread so a child that stops reading cannot deadlock the test.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().expect("the binary ends");
    writer.join().unwrap();
    output
}

/// Lossy UTF-8.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A JSON file's content; panics naming the file when it is missing or not JSON.
pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A path as `&str`.
pub fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Trains a tiny run of `model` with `ser-train` (fold 1 of a 4-fold speaker split, the seed
/// preset unless `extra` names another) into `out` and returns the fold folder.
pub fn train_tiny(
    data: &Path,
    cache: &Path,
    out: &Path,
    model: &str,
    extra: &[&str],
) -> std::path::PathBuf {
    let mut args = vec![
        "--data",
        s(data),
        "--protocol",
        "kfold:4",
        "--fold",
        "1",
        "--model",
        model,
        "--out",
        s(out),
        "--cache-dir",
        s(cache),
    ];
    if !extra.contains(&"--preset") {
        args.extend(["--preset", "seed"]);
    }
    args.extend_from_slice(extra);
    let train = run(env!("CARGO_BIN_EXE_ser-train"), &args);
    assert!(
        train.status.success(),
        "ser-train {model} failed:\n{}",
        text(&train.stderr)
    );
    out.join("fold-1")
}

/// A tiny Berlin EmoDB layout: `wav/SSTnnEv.wav` for speakers 03, 08, 09, 10 and every
/// emotion letter (boredom `L` included), tones at 16 kHz pitched like the RAVDESS corpus's
/// tone of the same emotion.
pub fn write_emodb(root: &Path) {
    let dir = root.join("wav");
    std::fs::create_dir_all(&dir).unwrap();
    // EmoDB letter -> the RAVDESS emotion code whose tone it gets (boredom: calm's).
    let emotions = [
        ('W', 5_u8),
        ('L', 2),
        ('E', 7),
        ('A', 6),
        ('F', 3),
        ('T', 4),
        ('N', 1),
    ];
    for speaker in ["03", "08", "09", "10"] {
        for (letter, code) in emotions {
            let samples = tone(code, 0.25, DURATION_S, 16_000);
            let name = format!("{speaker}a01{letter}a.wav");
            ser_audio::write_wav_i16(&dir.join(name), &samples, 16_000).unwrap();
        }
    }
}
