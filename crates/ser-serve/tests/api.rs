//! The JSON API over loopback, with the shipped default model.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::OnceLock;

use common::{start, wav_bytes};
use ser_serve::ServeOptions;
use serde_json::Value;

const EMOTIONS: [&str; 8] = [
    "neutral",
    "calm",
    "happy",
    "sad",
    "angry",
    "fearful",
    "disgust",
    "surprised",
];
const LIMIT_BYTES: usize = 1024 * 1024;

fn server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        start(ServeOptions {
            max_upload_bytes: LIMIT_BYTES,
            ..ServeOptions::default()
        })
    })
}

fn url(path: &str) -> String {
    format!("http://{}{path}", server())
}

/// Status and JSON body of a POST; error statuses are answers too.
fn post(path: &str, content_type: &str, body: &[u8]) -> (u16, Value) {
    let response = match ureq::post(&url(path))
        .set("Content-Type", content_type)
        .send_bytes(body)
    {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{path}: {e}"),
    };
    let status = response.status();
    (status, response.into_json().unwrap())
}

/// Sends `head` (a request without its body) and returns the status and JSON body.
fn raw_headers_only(head: &str) -> (u16, Value) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(server()).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {response:?}"));
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    (
        status,
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {response:?}")),
    )
}

fn check_prediction(value: &Value, name: &str) {
    assert_eq!(value["path"], name);
    assert!(value["model"].as_str().unwrap().contains("default-model"));
    let probs = value["probabilities"].as_object().unwrap();
    assert_eq!(probs.keys().collect::<Vec<_>>().len(), 8);
    for e in EMOTIONS {
        assert!(probs.contains_key(e), "{value}");
    }
    let sum: f64 = probs.values().map(|v| v.as_f64().unwrap()).sum();
    assert!((sum - 1.0).abs() < 1e-4, "{sum}");
    assert!(EMOTIONS.contains(&value["label"].as_str().unwrap()));
}

#[test]
fn page_health_and_models() {
    let page = ureq::get(&url("/")).call().unwrap().into_string().unwrap();
    assert!(page.contains("<title>ser"), "{page}");
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "the page must not load anything from the network"
    );
    let health: Value = ureq::get(&url("/health"))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["models"], 1);
    let models: Value = ureq::get(&url("/api/models"))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    let models = models.as_array().unwrap();
    assert_eq!(models.len(), 1);
    assert_eq!(models[0]["name"], "default-model");
    assert_eq!(models[0]["classes"].as_array().unwrap().len(), 8);
}

#[test]
fn predicts_a_generated_wav_like_ser_predict_json() {
    let (status, body) = post("/api/predict?name=tone.wav", "audio/wav", &wav_bytes(2.0));
    assert_eq!(status, 200, "{body}");
    let results = body.as_array().unwrap();
    assert_eq!(results.len(), 1);
    check_prediction(&results[0], "tone.wav");
    assert!((results[0]["duration_s"].as_f64().unwrap() - 2.0).abs() < 1e-3);

    // A long recording is analysed in windows.
    let (status, body) = post("/api/predict", "application/octet-stream", &wav_bytes(8.0));
    assert_eq!(status, 200, "{body}");
    check_prediction(&body[0], "upload");
    assert!(body[0]["windows"].as_array().unwrap().len() > 1, "{body}");
}

#[test]
fn rejects_oversized_and_non_audio_uploads_with_reasons() {
    // An oversized upload is refused from its declared length, before its body is read (a
    // raw request: HTTP clients that keep sending after the answer see a broken pipe).
    let (status, body) = raw_headers_only(&format!(
        "POST /api/predict HTTP/1.1\r\nHost: test\r\nContent-Type: audio/wav\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        LIMIT_BYTES + 1
    ));
    assert_eq!(status, 413, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("exceeds the limit"),
        "{body}"
    );

    let (status, body) = post("/api/predict", "text/plain", b"hello");
    assert_eq!(status, 415, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("not audio"),
        "{body}"
    );

    let (status, body) = post(
        "/api/predict?name=notes.wav",
        "audio/wav",
        b"this is text pretending to be a WAV file",
    );
    assert_eq!(status, 415, "{body}");
    let message = body["error"].as_str().unwrap();
    assert!(
        message.contains("notes.wav") && message.contains("not a recognised audio"),
        "{message}"
    );

    // A WAV header that promises more than it holds: audio, but broken.
    let mut truncated = wav_bytes(1.0);
    truncated.truncate(100);
    let (status, body) = post("/api/predict", "audio/wav", &truncated);
    assert_eq!(status, 400, "{body}");

    let (status, body) = post("/api/predict", "audio/wav", b"");
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("empty"), "{body}");

    let (status, body) = post("/api/predict?model=nope", "audio/wav", &wav_bytes(1.0));
    assert_eq!(status, 404, "{body}");
}

#[test]
fn twenty_concurrent_requests_are_all_answered() {
    let wav = std::sync::Arc::new(wav_bytes(3.0));
    let handles: Vec<_> = (0..20)
        .map(|i| {
            let wav = wav.clone();
            std::thread::spawn(move || {
                let name = format!("clip-{i}.wav");
                let (status, body) = post(&format!("/api/predict?name={name}"), "audio/wav", &wav);
                assert_eq!(status, 200, "{body}");
                check_prediction(&body[0], &name);
                body[0]["label"].as_str().unwrap().to_owned()
            })
        })
        .collect();
    let labels: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(labels.len(), 20);
    // The same audio gets the same answer whichever pooled instance served it.
    assert!(labels.iter().all(|l| l == &labels[0]), "{labels:?}");
}
