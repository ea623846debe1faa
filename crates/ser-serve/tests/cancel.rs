//! Model work whose request timed out is stopped (issue 23): a long recording with a short
//! `--timeout-s` gets 503, and the server's only worker is free again at once, not when the
//! abandoned prediction would have finished.

mod common;

use std::time::{Duration, Instant};

use ser_serve::ServeOptions;

const TIMEOUT: Duration = Duration::from_secs(2);
/// Ten windows a second: long work from a recording that fits an upload.
const HOP_S: f64 = 0.1;

fn post(addr: std::net::SocketAddr, wav: &[u8]) -> (u16, String) {
    match ureq::post(&format!("http://{addr}/api/predict"))
        .set("Content-Type", "audio/wav")
        .timeout(Duration::from_secs(120))
        .send_bytes(wav)
    {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn a_timed_out_prediction_stops_and_frees_its_worker() {
    // One instance of the model: a prediction left running would hold it.
    let addr = common::start(ServeOptions {
        workers: 1,
        timeout: TIMEOUT,
        max_duration_s: 3600.0,
        hop_s: HOP_S,
        ..ServeOptions::default()
    });
    let short = common::wav_bytes(2.0);
    let (status, body) = post(addr, &short);
    assert_eq!(status, 200, "{body}");

    // How long the long recording's work takes, from the model's speed on a shorter one.
    let dir = ser_run::default_model_dir();
    let mut model = ser_run::Model::load(&dir).expect("model");
    let sample = ser_audio::decode(&common::wav_bytes(20.0), "20s.wav").expect("decodes");
    let start = Instant::now();
    ser_run::predict::predict_audio(&mut model, &sample, HOP_S).expect("predicts");
    let per_audio_second = start.elapsed().as_secs_f64() / 20.0;
    let long_s = 600.0_f32;
    let expected = Duration::from_secs_f64(per_audio_second * f64::from(long_s));
    eprintln!("the {long_s} s recording's prediction would take about {expected:?}");
    assert!(
        expected > TIMEOUT * 3,
        "the long recording is not long enough to time out: {expected:?}"
    );

    let long = common::wav_bytes(long_s);
    let start = Instant::now();
    let (status, body) = post(addr, &long);
    let timed_out = start.elapsed();
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("longer than 2 s"), "{body}");
    assert!(
        timed_out < TIMEOUT + Duration::from_secs(2),
        "{timed_out:?}"
    );

    // The worker is free within a window or so: a short request right after is answered well
    // within its own timeout (it would wait for the whole abandoned work otherwise, and time
    // out too).
    let start = Instant::now();
    let (status, body) = post(addr, &short);
    let freed = start.elapsed();
    eprintln!("a request after the cancelled one was answered in {freed:?}");
    assert_eq!(status, 200, "{body}");
    assert!(freed < expected / 2, "{freed:?} against {expected:?}");
}

#[test]
fn hops_below_the_minimum_are_refused_when_loading() {
    let dir = ser_run::default_model_dir();
    let err = ser_serve::AppState::load(
        &[dir],
        ServeOptions {
            hop_s: 1e-9,
            ..ServeOptions::default()
        },
    )
    .expect_err("a hop of 1e-9 s");
    assert!(err.to_string().contains("at least 0.01 s"), "{err}");
}

#[test]
fn the_binary_refuses_hops_below_the_minimum() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ser-serve"))
        .args(["--hop-s", "0.001"])
        .output()
        .expect("ser-serve runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("--hop-s 0.001") && stderr.contains("at least 0.01"),
        "{stderr}"
    );
}
