//! End-to-end tests of `ser-predict` (the built binary) with tiny models trained by
//! `ser-train` on a synthetic corpus: output formats, bad files among good ones, folders,
//! long recordings, live streams from a pipe, and the errors users meet.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{EMOTIONS, run, run_with_stdin, s, text, tone, train_tiny, write_corpus};

/// Two tiny trained runs (an SVM and a k-NN) shared by every test of this file.
struct Fixture {
    _tmp: tempfile::TempDir,
    svm: PathBuf,
    knn: PathBuf,
    audio: PathBuf,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("corpus");
        let cache = tmp.path().join("cache");
        write_corpus(&data);
        let svm = train_tiny(&data, &cache, &tmp.path().join("svm"), "svm", &[]);
        let knn = train_tiny(&data, &cache, &tmp.path().join("knn"), "knn", &[]);
        let audio = tmp.path().join("audio");
        std::fs::create_dir_all(&audio).unwrap();
        // Short clips at another rate than the models' (22.05 kHz): 16 kHz.
        for emotion in [2_u8, 5, 8] {
            let samples = tone(emotion, 0.3, 1.5, 16_000);
            let path = audio.join(format!("clip-{emotion}.wav"));
            ser_audio::write_wav_i16(&path, &samples, 16_000).unwrap();
        }
        std::fs::write(audio.join("notes.txt"), "not audio, not looked at").unwrap();
        Fixture {
            _tmp: tmp,
            svm,
            knn,
            audio,
        }
    })
}

fn predict(args: &[&str]) -> std::process::Output {
    run(env!("CARGO_BIN_EXE_ser-predict"), args)
}

fn clip(n: u8) -> PathBuf {
    fixture().audio.join(format!("clip-{n}.wav"))
}

fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn assert_probabilities(value: &serde_json::Value) {
    let probs = value["probabilities"].as_object().expect("probabilities");
    assert_eq!(probs.len(), 8, "{value}");
    let sum: f64 = probs.values().map(|v| v.as_f64().unwrap()).sum();
    assert!(
        (sum - 1.0).abs() < 1e-4,
        "probabilities sum to {sum}: {value}"
    );
    let best = probs
        .iter()
        .max_by(|a, b| a.1.as_f64().unwrap().total_cmp(&b.1.as_f64().unwrap()))
        .unwrap()
        .0;
    assert_eq!(value["label"].as_str().unwrap(), best, "{value}");
}

#[test]
fn table_output_names_the_emotion_and_every_probability() {
    let f = fixture();
    let out = predict(&[s(&clip(5)), "--model", s(&f.svm)]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("clip-5.wav"), "{stdout}");
    assert!(stdout.contains("emotion: "), "{stdout}");
    assert!(stdout.contains("(1.5 s of audio)"), "{stdout}");
    for name in EMOTIONS {
        assert!(stdout.contains(name), "{name} missing:\n{stdout}");
    }
}

#[test]
fn json_gives_one_object_per_file_and_model() {
    let f = fixture();
    let out = predict(&[
        s(&clip(2)),
        s(&clip(8)),
        "--model",
        s(&f.svm),
        "--model",
        s(&f.knn),
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let values = json_lines(&text(&out.stdout));
    assert_eq!(values.len(), 4, "2 files x 2 models");
    for v in &values {
        assert_probabilities(v);
        assert!(v["path"].as_str().unwrap().ends_with(".wav"));
        let model = v["model"].as_str().unwrap();
        assert!(model == s(&f.svm) || model == s(&f.knn), "{model}");
    }
    // Models side by side: both models' answers for the first file come first.
    assert_eq!(values[0]["path"], values[1]["path"]);
    assert_ne!(values[0]["model"], values[1]["model"]);
}

#[test]
fn csv_has_a_header_and_one_row_per_file() {
    let f = fixture();
    let out = predict(&[s(&clip(2)), s(&clip(5)), "--model", s(&f.svm), "--csv"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let mut lines = stdout.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[..5], ["path", "model", "start_s", "end_s", "label"]);
    assert_eq!(header[5..], EMOTIONS);
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    for row in rows {
        assert_eq!(row.len(), 13);
        assert!(EMOTIONS.contains(&row[4]), "{row:?}");
        let sum: f64 = row[5..].iter().map(|v| v.parse::<f64>().unwrap()).sum();
        assert!((sum - 1.0).abs() < 1e-4, "{row:?}");
    }
}

#[test]
fn a_bad_file_among_good_ones_is_reported_and_the_others_predicted() {
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("broken.wav");
    std::fs::write(&bad, "this is text, not a WAV file").unwrap();
    let missing = tmp.path().join("missing.wav");
    let out = predict(&[
        s(&clip(2)),
        s(&bad),
        s(&missing),
        s(&clip(8)),
        "--model",
        s(&f.svm),
        "--json",
    ]);
    assert!(!out.status.success(), "a failed file must fail the run");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("broken.wav"), "{stderr}");
    assert!(stderr.contains("missing.wav"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let values = json_lines(&text(&out.stdout));
    assert_eq!(values.len(), 2, "the two good files are still predicted");
    assert!(values[0]["path"].as_str().unwrap().ends_with("clip-2.wav"));
    assert!(values[1]["path"].as_str().unwrap().ends_with("clip-8.wav"));
}

#[test]
fn a_folder_predicts_every_audio_file_in_it() {
    let f = fixture();
    let out = predict(&[s(&f.audio), "--model", s(&f.svm), "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let values = json_lines(&text(&out.stdout));
    let paths: Vec<&str> = values.iter().map(|v| v["path"].as_str().unwrap()).collect();
    assert_eq!(paths.len(), 3, "{paths:?}");
    assert!(paths.iter().all(|p| p.ends_with(".wav")), "{paths:?}");

    let empty = tempfile::tempdir().unwrap();
    let out = predict(&[s(empty.path()), "--model", s(&f.svm)]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no audio files"),
        "{}",
        text(&out.stderr)
    );
}

/// 10 s at 16 kHz: 3 s of tone, 4 s of digital silence, 3 s of tone.
fn long_recording(dir: &Path) -> PathBuf {
    let mut samples = tone(5, 0.3, 3.0, 16_000);
    samples.extend(std::iter::repeat_n(0.0, 4 * 16_000));
    samples.extend(tone(5, 0.3, 3.0, 16_000));
    let path = dir.join("long.wav");
    ser_audio::write_wav_i16(&path, &samples, 16_000).unwrap();
    path
}

#[test]
fn long_recordings_get_a_timeline_with_silence_marked() {
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let long = long_recording(tmp.path());
    let out = predict(&[s(&long), "--model", s(&f.svm), "--json", "--timeline"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let values = json_lines(&text(&out.stdout));
    assert_eq!(values.len(), 1);
    let file = &values[0];
    assert_probabilities(file);
    assert!((file["duration_s"].as_f64().unwrap() - 10.0).abs() < 1e-3);
    // Windows of 127 hops x 512 samples at 22.05 kHz (2.95 s), one per second, and a last one
    // that ends with the audio: starts 0..=7 s and 7.05 s.
    let windows = file["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 9, "{file}");
    assert_eq!(windows[0]["start_s"].as_f64().unwrap(), 0.0);
    let last_end = windows[8]["end_s"].as_f64().unwrap();
    assert!((last_end - 10.0).abs() < 1e-3, "{last_end}");
    let labels: Vec<&str> = windows
        .iter()
        .map(|w| w["label"].as_str().unwrap())
        .collect();
    // The windows starting at 3 s and 4 s hold nothing but the silence.
    assert_eq!(labels[3], "silence", "{labels:?}");
    assert_eq!(labels[4], "silence", "{labels:?}");
    assert!(windows[3]["probabilities"].is_null());
    assert_ne!(labels[0], "silence");
    assert_ne!(file["label"], "silence");

    // The table form prints the timeline too.
    let out = predict(&[s(&long), "--model", s(&f.svm), "--timeline"]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("timeline:"), "{stdout}");
    assert_eq!(stdout.matches("silence").count(), 2, "{stdout}");
}

fn s16le(samples: &[f32]) -> Vec<u8> {
    samples
        .iter()
        .flat_map(|&x| ((x * 32767.0).round() as i16).to_le_bytes())
        .collect()
}

#[test]
fn stream_of_raw_pcm_predicts_every_hop_and_ends_at_end_of_input() {
    let f = fixture();
    // 5.5 s at 16 kHz: one prediction per second of audio.
    let pcm = s16le(&tone(4, 0.3, 5.5, 16_000));
    let args = [
        "--stream",
        "-",
        "--rate",
        "16000",
        "--format",
        "s16le",
        "--model",
        s(&f.svm),
        "--json",
    ];
    let out = run_with_stdin(env!("CARGO_BIN_EXE_ser-predict"), &args, &pcm);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let values = json_lines(&text(&out.stdout));
    assert_eq!(values.len(), 5, "{}", text(&out.stdout));
    for (k, v) in values.iter().enumerate() {
        assert_probabilities(v);
        let end_s = v["end_s"].as_f64().unwrap();
        assert!(
            (end_s - (k + 1) as f64).abs() < 1e-3,
            "hop {k} ends at {end_s}"
        );
    }
    assert!(text(&out.stderr).contains("stream ended: 5 predictions"));

    // The same audio as a WAV stream (no --rate): the header gives the format.
    let tmp = tempfile::tempdir().unwrap();
    let wav = tmp.path().join("s.wav");
    ser_audio::write_wav_i16(&wav, &tone(4, 0.3, 5.5, 16_000), 16_000).unwrap();
    let bytes = std::fs::read(&wav).unwrap();
    let out = run_with_stdin(
        env!("CARGO_BIN_EXE_ser-predict"),
        &["--stream", "-", "--model", s(&f.svm), "--hop-s", "0.5"],
        &bytes,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).lines().count(),
        11,
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn bad_streams_and_bad_models_are_clear_errors() {
    let f = fixture();
    let bin = env!("CARGO_BIN_EXE_ser-predict");
    let check = |out: std::process::Output, message: &str| {
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "accepted; expected {message:?}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(message),
            "expected {message:?} in:\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    };
    let svm = s(&f.svm);
    check(
        run_with_stdin(
            bin,
            &["--stream", "-", "--rate", "16000", "--model", svm],
            b"",
        ),
        "ended before any audio",
    );
    check(
        run_with_stdin(bin, &["--stream", "-", "--model", svm], b""),
        "standard input is empty",
    );
    check(
        run_with_stdin(
            bin,
            &["--stream", "-", "--model", svm],
            b"hello, this is text",
        ),
        "not a WAV stream",
    );
    for rate in ["0", "10", "99999999"] {
        check(
            run_with_stdin(
                bin,
                &["--stream", "-", "--rate", rate, "--model", svm],
                &[0; 64],
            ),
            "rate",
        );
    }
    check(
        run_with_stdin(
            bin,
            &[
                "--stream", "-", "--rate", "16000", "--format", "s12le", "--model", svm,
            ],
            &[0; 64],
        ),
        "--format",
    );
    let not_a_run = tempfile::tempdir().unwrap();
    check(
        predict(&[s(&clip(2)), "--model", s(not_a_run.path())]),
        "not a run folder",
    );
    check(predict(&["--model", svm]), "no input");
    check(
        predict(&[s(&clip(2)), "--model", svm, "--hop-s", "0"]),
        "--hop-s",
    );
}

/// Ten seconds of speech-like tones at the model's rate, decoded as the server holds them.
fn ten_seconds(model: &ser_run::Model) -> ser_audio::Audio {
    let rate = model.sample_rate_hz();
    let samples: Vec<f32> = (0..5_u8)
        .flat_map(|e| tone(e + 1, 0.3, 2.0, rate))
        .collect();
    ser_audio::Audio {
        samples,
        sample_rate_hz: rate,
        channels: 1,
    }
}

#[test]
fn the_library_refuses_hops_below_10_ms() {
    let mut model = ser_run::Model::load(&fixture().svm).unwrap();
    let audio = ten_seconds(&model);
    for hop_s in [1e-9, 0.009, 0.0, -1.0, f64::NAN, f64::INFINITY] {
        let err = ser_run::predict::predict_audio(&mut model, &audio, hop_s)
            .expect_err("a hop below 10 ms");
        assert!(
            err.to_string().contains("at least 0.01 s"),
            "{hop_s}: {err}"
        );
        let err = ser_run::predict::predict_samples(&mut model, &audio.samples, hop_s)
            .expect_err("a hop below 10 ms");
        assert!(
            err.to_string().contains("at least 0.01 s"),
            "{hop_s}: {err}"
        );
    }
    let windows = ser_run::predict::predict_audio(&mut model, &audio, 0.01)
        .unwrap()
        .windows
        .len();
    assert!(windows > 500, "{windows}");
}

#[test]
fn a_set_cancel_flag_stops_a_prediction_and_a_clear_one_changes_nothing() {
    use ser_run::predict::{predict_audio, predict_audio_with};
    use std::sync::atomic::{AtomicBool, Ordering};
    let mut model = ser_run::Model::load(&fixture().svm).unwrap();
    let audio = ten_seconds(&model);
    let plain = predict_audio(&mut model, &audio, 0.5).unwrap();
    let flag = AtomicBool::new(false);
    assert_eq!(
        predict_audio_with(&mut model, &audio, 0.5, &flag).unwrap(),
        plain
    );
    flag.store(true, Ordering::SeqCst);
    let err = predict_audio_with(&mut model, &audio, 0.5, &flag).expect_err("cancelled");
    let ser_run::RunError::Cancelled(cancelled) = &err else {
        panic!("not a Cancelled error: {err}")
    };
    assert_eq!(cancelled.windows_done, 0);
    assert_eq!(cancelled.windows, Some(plain.windows.len()));
    assert_eq!(
        err.to_string(),
        format!(
            "prediction cancelled after 0 of {} analysis windows",
            plain.windows.len()
        )
    );
    // Set from another thread while the work runs: it stops before the end.
    let flag = std::sync::Arc::new(AtomicBool::new(false));
    let long = ser_audio::Audio {
        samples: audio.samples.repeat(30),
        ..audio.clone()
    };
    let setter = {
        let flag = flag.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            flag.store(true, Ordering::SeqCst);
        })
    };
    let start = std::time::Instant::now();
    let err = predict_audio_with(&mut model, &long, 0.01, &flag).expect_err("cancelled");
    setter.join().unwrap();
    let ser_run::RunError::Cancelled(cancelled) = err else {
        panic!("not a Cancelled error: {err}")
    };
    eprintln!("{cancelled} after {:?}", start.elapsed());
    let total = cancelled.windows.unwrap();
    assert!(
        cancelled.windows_done > 0 && cancelled.windows_done < total,
        "{cancelled}"
    );
}

/// Audio at another rate than the model's goes through the front end a chunk at a time, each
/// window's samples taken as they come out (bounded memory); the windows, levels and
/// probabilities are those of the whole signal resampled at once and then windowed.
#[test]
fn streamed_windows_give_the_probabilities_of_the_whole_resampled_signal() {
    use ser_run::predict::{STREAM_CHUNK_FRAMES, predict_audio, predict_samples};
    /// Largest accepted difference of a probability (the two paths give the same samples,
    /// so in practice they agree to the bit).
    const TOLERANCE: f32 = 1e-4;
    // The tiny SVM (no band limit: one resampling stage) and the shipped default model (band
    // limit at 8 kHz: 48 kHz audio takes two stages, 48 -> 16 -> 22.05 kHz).
    let models = [fixture().svm.clone(), ser_run::default_model_dir()];
    for dir in &models {
        let mut model = ser_run::Model::load(dir).unwrap();
        for rate in [48_000_u32, 16_000, 8_000] {
            // 14 s of syllable-like tones with a second of digital silence: many windows,
            // many resampler chunks.
            let mut samples: Vec<f32> = (1..=3_u8).flat_map(|e| tone(e, 0.3, 3.0, rate)).collect();
            samples.extend(std::iter::repeat_n(0.0, rate as usize));
            samples.extend((4..=5_u8).flat_map(|e| tone(e, 0.2, 2.0, rate)));
            assert!(samples.len() > 4 * STREAM_CHUNK_FRAMES);
            let audio = ser_audio::Audio {
                samples,
                sample_rate_hz: rate,
                channels: 1,
            };
            let whole = ser_audio::resample_band_limited(
                &audio.samples,
                rate,
                model.sample_rate_hz(),
                model.band_hz(),
            )
            .unwrap();
            let expected = predict_samples(&mut model, &whole, 0.5).unwrap();
            let streamed = predict_audio(&mut model, &audio, 0.5).unwrap();
            let what = format!("{} at {rate} Hz", dir.display());
            assert_eq!(streamed.windows.len(), expected.windows.len(), "{what}");
            assert!(expected.windows.len() > 20, "{what}");
            assert_eq!(streamed.duration_s, expected.duration_s, "{what}");
            let mut max_diff = 0.0_f32;
            let mut voiced = 0;
            for (s, e) in streamed.windows.iter().zip(&expected.windows) {
                assert_eq!((s.start_s, s.end_s), (e.start_s, e.end_s), "{what}");
                assert!((s.level_dbfs - e.level_dbfs).abs() < 1e-6, "{what}");
                match (&s.probabilities, &e.probabilities) {
                    (Some(a), Some(b)) => {
                        voiced += 1;
                        for (x, y) in a.iter().zip(b) {
                            max_diff = max_diff.max((x - y).abs());
                        }
                    }
                    (None, None) => {}
                    other => panic!("{what}: silence differs at {}: {other:?}", s.start_s),
                }
            }
            assert!(voiced > 0, "{what}");
            let (a, b) = (
                streamed.probabilities.unwrap(),
                expected.probabilities.unwrap(),
            );
            for (x, y) in a.iter().zip(&b) {
                max_diff = max_diff.max((x - y).abs());
            }
            assert!(
                max_diff <= TOLERANCE,
                "{what}: probabilities differ by {max_diff}"
            );
            eprintln!(
                "{what}: {} windows, largest difference {max_diff}",
                expected.windows.len()
            );
        }
    }
}

/// A WAV file of 8-bit mono at `rate_hz` lasting `seconds` (a quiet syllable-like tone).
fn low_rate_wav(path: &Path, rate_hz: u32, seconds: u32) {
    let frames = rate_hz * seconds;
    let mut bytes = Vec::with_capacity(44 + frames as usize);
    bytes.extend_from_slice(b"RIFF");
    bytes.extend_from_slice(&(36 + frames).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16_u32.to_le_bytes());
    bytes.extend_from_slice(&1_u16.to_le_bytes()); // PCM
    bytes.extend_from_slice(&1_u16.to_le_bytes()); // mono
    bytes.extend_from_slice(&rate_hz.to_le_bytes());
    bytes.extend_from_slice(&rate_hz.to_le_bytes()); // bytes per second
    bytes.extend_from_slice(&1_u16.to_le_bytes()); // block align
    bytes.extend_from_slice(&8_u16.to_le_bytes()); // bits
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&frames.to_le_bytes());
    let one_second = tone(1, 0.3, 1.0, rate_hz);
    bytes.extend(
        one_second
            .iter()
            .cycle()
            .take(frames as usize)
            .map(|&x| (128.0 + 127.0 * x).round() as u8),
    );
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn files_longer_than_max_duration_are_refused_before_decoding() {
    let f = fixture();
    let svm = s(&f.svm);
    let tmp = tempfile::tempdir().unwrap();
    // 700 s of 1 kHz 8-bit audio: a 700 kB file, above the default limit of 600 s.
    let long = tmp.path().join("hours-at-1khz.wav");
    low_rate_wav(&long, 1_000, 700);
    let started = std::time::Instant::now();
    let out = predict(&[s(&clip(2)), s(&long), s(&clip(8)), "--model", svm, "--json"]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "a refused file must fail the run");
    assert!(
        stderr.contains("hours-at-1khz.wav")
            && stderr.contains("700.0 s")
            && stderr.contains("600 s")
            && stderr.contains("--max-duration-s"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The others are still predicted, and the refusal took no decoding time.
    let values = json_lines(&text(&out.stdout));
    assert_eq!(values.len(), 2, "{stderr}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );

    // A higher limit accepts it (hops of 20 s keep the test short).
    let out = predict(&[
        s(&long),
        "--model",
        svm,
        "--json",
        "--max-duration-s",
        "700",
        "--hop-s",
        "20",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let values = json_lines(&text(&out.stdout));
    assert!((values[0]["duration_s"].as_f64().unwrap() - 700.0).abs() < 1e-3);

    // The limit itself must be a positive number of seconds.
    for bad in ["0", "-1", "NaN", "inf"] {
        let flag = format!("--max-duration-s={bad}");
        let out = predict(&[s(&clip(2)), "--model", svm, &flag]);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "--max-duration-s {bad} accepted");
        assert!(
            stderr.starts_with("error: ") && stderr.contains("--max-duration-s"),
            "{bad}: {stderr}"
        );
    }
}
