//! End to end in headless Chromium, driven over WebDriver by Debian's `chromedriver`: open the
//! page, upload a generated WAV through the file input, wait for the probabilities, and save a
//! screenshot (`$CARGO_TARGET_TMPDIR/ser-serve-page.png`); then record from Chromium's fake
//! microphone and check that the recording is predicted too (`ser-serve-recording.png`).
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's `chromium` and
//! `chromium-driver`), which `cargo xtask test` installs before running this test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Kills chromedriver (and with it the browser) however the test ends.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn call(method: &str, url: &str, body: Option<Value>) -> Value {
    let request = ureq::request(method, url);
    let response = match body {
        Some(b) => request.send_json(b),
        None => request.call(),
    };
    match response {
        Ok(r) => r.into_json::<Value>().unwrap()["value"].take(),
        Err(ureq::Error::Status(code, r)) => {
            panic!(
                "{method} {url}: {code} {}",
                r.into_string().unwrap_or_default()
            )
        }
        Err(e) => panic!("{method} {url}: {e}"),
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("bad base64 byte {c}"),
        }
    };
    let bytes: Vec<u8> = text.bytes().filter(|&c| c != b'=' && c != b'\n').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0_u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c) << (18 - 6 * i);
        }
        let n = chunk.len() * 6 / 8;
        out.extend_from_slice(&acc.to_be_bytes()[1..=n]);
    }
    out
}

#[test]
#[ignore = "needs Debian's chromium and chromium-driver: `cargo xtask test` installs them and runs it"]
fn uploading_a_file_shows_the_probabilities() {
    assert!(
        std::path::Path::new(CHROMIUM).is_file() && std::path::Path::new(CHROMEDRIVER).is_file(),
        "install Debian's chromium and chromium-driver (cargo xtask test does)"
    );
    let server = common::start(ser_serve::ServeOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let wav = tmp.path().join("speech-test.wav");
    std::fs::write(&wav, common::wav_bytes(4.0)).unwrap();

    let port = free_port();
    let _driver = Driver(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while ureq::get(&format!("{base}/status")).call().is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let profile = tmp.path().join("profile");
    let session = call(
        "POST",
        &format!("{base}/session"),
        Some(json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         "--window-size=1100,900",
                         // A fake microphone that needs no permission prompt, playing the
                         // test's speech-like WAV (Chromium's default beep, 20 ms bursts, is
                         // not speech to the voice-activity detector).
                         "--use-fake-device-for-media-stream",
                         "--use-fake-ui-for-media-stream",
                         format!("--use-file-for-fake-audio-capture={}", wav.display()),
                         format!("--user-data-dir={}", profile.display())],
            },
        }}})),
    );
    let id = session["sessionId"]
        .as_str()
        .expect("a session id")
        .to_owned();
    let s = format!("{base}/session/{id}");
    let find = |css: &str| -> Vec<String> {
        call(
            "POST",
            &format!("{s}/elements"),
            Some(json!({"using": "css selector", "value": css})),
        )
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e[ELEMENT_KEY]
                .as_str()
                .unwrap_or_else(|| panic!("not an element: {e}"))
                .to_owned()
        })
        .collect()
    };

    call(
        "POST",
        &format!("{s}/url"),
        Some(json!({"url": format!("http://{server}/")})),
    );
    let input = find("#file").pop().expect("the page has a file input");
    call(
        "POST",
        &format!("{s}/element/{input}/value"),
        Some(json!({"text": wav.to_str().unwrap()})),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let bars = loop {
        let bars = find(".card .bar");
        if !bars.is_empty() {
            break bars;
        }
        assert!(Instant::now() < deadline, "no probabilities appeared");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(bars.len(), 8, "one bar per emotion");
    let results = find("#results").pop().unwrap();
    let text = call("GET", &format!("{s}/element/{results}/text"), None);
    let text = text.as_str().unwrap();
    for emotion in ["neutral", "angry", "surprised"] {
        assert!(text.contains(emotion), "{text}");
    }
    assert!(text.contains('%'), "{text}");
    let status_el = find("#status").pop().unwrap();
    let status = call("GET", &format!("{s}/element/{status_el}/text"), None);
    assert_eq!(status.as_str().unwrap(), "speech-test.wav: done");

    let shot = |name: &str| {
        let png = base64_decode(
            call("GET", &format!("{s}/screenshot"), None)
                .as_str()
                .unwrap(),
        );
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        std::fs::write(&path, png).unwrap();
        eprintln!("screenshot: {}", path.display());
    };
    shot("ser-serve-page.png");

    // Record from the (fake) microphone: the page encodes WAV and gets a prediction.
    let record = find("#record").pop().expect("the page has a record button");
    call(
        "POST",
        &format!("{s}/element/{record}/click"),
        Some(json!({})),
    );
    std::thread::sleep(Duration::from_millis(2500));
    call(
        "POST",
        &format!("{s}/element/{record}/click"),
        Some(json!({})),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = call("GET", &format!("{s}/element/{status_el}/text"), None);
        if status.as_str() == Some("recording.wav: done") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "recording not predicted: {status}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        find(".card .bar").len(),
        8,
        "one bar per emotion for the recording"
    );

    shot("ser-serve-recording.png");
    call("DELETE", &s, None);
}
