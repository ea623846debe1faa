//! A slow or hostile client cannot stall the server (issue 23): slow headers and bodies are
//! cut off at their timeouts, a flood of idle connections does not keep `/health` from
//! answering, hours of low-rate audio in a small upload are refused before decoding, and a
//! malformed chunked body is a 400. The server's memory is checked to stay under 700 MB.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ser_serve::ServeOptions;

const HEADER_TIMEOUT: Duration = Duration::from_secs(2);
const BODY_TIMEOUT: Duration = Duration::from_secs(3);
const MAX_CONNECTIONS: usize = 16;
/// The server's memory bound of the issue.
const MAX_RSS_BYTES: u64 = 700 * 1024 * 1024;

/// One server for every test here (each loads the default model): header 2 s, body 3 s,
/// 16 connections, the default 600 s of audio.
fn server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        common::start(ServeOptions {
            workers: 1,
            header_timeout: HEADER_TIMEOUT,
            body_timeout: BODY_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
            ..ServeOptions::default()
        })
    })
}

/// Peak resident memory of this process (the server runs in it), bytes.
fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmHWM")
        * 1024
}

/// Reads what the server sends until it closes the connection (or `limit` passes, which
/// fails). Returns the text and when it ended.
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let start = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let mut got = Vec::new();
    let mut buf = [0_u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::ConnectionReset) => break,
            Err(_) => {}
        }
        assert!(
            start.elapsed() < limit,
            "the connection is still open after {limit:?}; got {:?}",
            String::from_utf8_lossy(&got)
        );
    }
    (String::from_utf8_lossy(&got).into_owned(), start.elapsed())
}

/// Sends `head` and then one byte of `trickle` a second from another thread, until the
/// server closes (the thread ends on a write error).
fn slow_client(addr: SocketAddr, head: &'static str, trickle: u8) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.write_all(head.as_bytes()).expect("head");
    let mut writer = stream.try_clone().expect("clone");
    std::thread::spawn(move || {
        for _ in 0..120 {
            std::thread::sleep(Duration::from_secs(1));
            if writer.write_all(&[trickle]).is_err() {
                break;
            }
        }
    });
    stream
}

#[test]
fn a_body_sent_a_byte_a_second_gets_408_within_the_body_timeout() {
    let addr = server();
    let mut stream = slow_client(
        addr,
        "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: audio/wav\r\n\
         Content-Length: 100000\r\n\r\nRIFF",
        0,
    );
    let (answer, after) = read_until_closed(&mut stream, BODY_TIMEOUT + Duration::from_secs(5));
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("did not arrive within 3 s"), "{answer}");
    assert!(after <= BODY_TIMEOUT + Duration::from_secs(2), "{after:?}");
    assert!(
        peak_rss_bytes() < MAX_RSS_BYTES,
        "{} bytes",
        peak_rss_bytes()
    );
}

#[test]
fn headers_sent_a_byte_a_second_are_cut_off_at_the_header_timeout() {
    let addr = server();
    let mut stream = slow_client(
        addr,
        "POST /api/predict HTTP/1.1\r\nHost: x\r\nX-Slow: ",
        b'a',
    );
    let (_, after) = read_until_closed(&mut stream, HEADER_TIMEOUT + Duration::from_secs(5));
    assert!(
        after <= HEADER_TIMEOUT + Duration::from_secs(2),
        "{after:?}"
    );
    // And a connection that sends nothing at all.
    let mut idle = TcpStream::connect(addr).expect("connect");
    let (_, after) = read_until_closed(&mut idle, HEADER_TIMEOUT + Duration::from_secs(5));
    assert!(
        after <= HEADER_TIMEOUT + Duration::from_secs(2),
        "{after:?}"
    );
}

fn get_health(addr: SocketAddr) -> Result<String, String> {
    ureq::get(&format!("http://{addr}/health"))
        .timeout(Duration::from_secs(5))
        .call()
        .map(|r| r.into_string().unwrap_or_default())
        .map_err(|e| e.to_string())
}

/// Peak resident memory of process `pid`, bytes.
fn peak_rss_of(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmHWM")
        * 1024
}

/// The case: more idle connections than the server has file descriptors (here a
/// `ser-serve` process limited to 128) made `/health` time out.
#[cfg(unix)]
#[test]
fn a_flood_of_idle_connections_does_not_keep_health_from_answering() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let command = format!(
        "ulimit -n 128 && exec '{}' --addr {addr} --max-connections 16 --header-timeout-s 2",
        env!("CARGO_BIN_EXE_ser-serve")
    );
    let mut server = std::process::Command::new("sh")
        .args(["-c", &command])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("ser-serve starts");
    let ready = Instant::now();
    while get_health(addr).is_err() {
        assert!(
            ready.elapsed() < Duration::from_secs(60),
            "ser-serve did not start"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let flood: Vec<TcpStream> = (0..200)
        .filter_map(|_| TcpStream::connect(addr).ok())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let result = (|| {
        for _ in 0..5 {
            let start = Instant::now();
            let health = get_health(addr)?;
            if !health.contains("\"ok\"") || start.elapsed() > Duration::from_secs(3) {
                return Err(format!("{health} after {:?}", start.elapsed()));
            }
        }
        Ok(peak_rss_of(server.id()))
    })();
    let _ = server.kill();
    let _ = server.wait();
    drop(flood);
    let peak = result.expect("/health answers during a flood of idle connections");
    eprintln!(
        "ser-serve peak RSS during the flood: {} MB",
        peak / 1_000_000
    );
    assert!(peak < MAX_RSS_BYTES, "{peak} bytes");
}

/// A WAV file of 8-bit mono PCM at 1 kHz: `data_bytes` seconds per 1000 bytes.
fn low_rate_wav(data_bytes: usize) -> Vec<u8> {
    let mut wav = Vec::with_capacity(44 + data_bytes);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_bytes as u32).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16_u32.to_le_bytes());
    wav.extend_from_slice(&1_u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1_u16.to_le_bytes()); // mono
    wav.extend_from_slice(&1000_u32.to_le_bytes()); // 1 kHz
    wav.extend_from_slice(&1000_u32.to_le_bytes()); // bytes per second
    wav.extend_from_slice(&1_u16.to_le_bytes()); // block align
    wav.extend_from_slice(&8_u16.to_le_bytes()); // bits
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&(data_bytes as u32).to_le_bytes());
    wav.extend((0..data_bytes).map(|i| (128.0 + 60.0 * (i as f32 * 0.7).sin()) as u8));
    wav
}

#[test]
fn hours_of_low_rate_audio_are_refused_before_decoding() {
    let addr = server();
    // 24 MiB of 8-bit 1 kHz audio: 7 hours of sound in an upload under the 25 MiB limit.
    let wav = low_rate_wav(24 * 1024 * 1024);
    let start = Instant::now();
    let response = ureq::post(&format!("http://{addr}/api/predict"))
        .set("Content-Type", "audio/wav")
        .timeout(Duration::from_secs(60))
        .send_bytes(&wav);
    let elapsed = start.elapsed();
    let (status, body) = match response {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(e) => panic!("{e}"),
    };
    assert_eq!(status, 413, "{body}");
    assert!(
        body.contains("--max-duration-s") && body.contains("600 s"),
        "{body}"
    );
    assert!(body.contains("25165.8 s"), "{body}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    let peak = peak_rss_bytes();
    eprintln!("peak RSS after a 7-hour upload: {} MB", peak / 1_000_000);
    assert!(peak < MAX_RSS_BYTES, "{peak} bytes");
}

/// An MP3 stream of about `seconds` of sound: the audio frames of ser-audio's 0.5 s MPEG-2
/// layer III fixture (16 kHz mono, 576 samples a frame; its first frame, the Xing header,
/// left out) repeated, so that no header says how long it is.
fn long_mp3(seconds: f64) -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../ser-audio/tests/fixtures/tone_440hz_16k_mono.mp3"
    );
    let fixture = std::fs::read(path).expect("the MP3 fixture");
    assert_eq!(&fixture[13..17], b"Xing");
    // MPEG-2 layer III at 16 kHz: 72 * bitrate / rate bytes (+ 1 when padded).
    let frame_len = |at: usize| {
        let h = &fixture[at..at + 4];
        assert!(
            h[0] == 0xFF && h[1] == 0xF3,
            "MPEG-2 layer III frame at {at}"
        );
        const KBPS: [usize; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
        72 * KBPS[usize::from(h[2] >> 4)] * 1000 / 16_000 + usize::from((h[2] >> 1) & 1)
    };
    let first = frame_len(0);
    let (mut at, mut frames) = (first, 0_usize);
    while at < fixture.len() {
        at += frame_len(at);
        frames += 1;
    }
    let copy_s = frames as f64 * 576.0 / 16_000.0;
    fixture[first..].repeat((seconds / copy_s).ceil() as usize)
}

#[test]
fn an_hour_of_mp3_is_refused_while_decoding() {
    let addr = server();
    // An hour of sound (230 MB once decoded) in a 12 MB upload, with no length in a header.
    let mp3 = long_mp3(3600.0);
    eprintln!("{} bytes of MP3", mp3.len());
    assert!(ser_serve::header_duration_s(&mp3).is_none());
    let start = Instant::now();
    let response = ureq::post(&format!("http://{addr}/api/predict"))
        .set("Content-Type", "audio/mpeg")
        .timeout(Duration::from_secs(60))
        .send_bytes(&mp3);
    let elapsed = start.elapsed();
    let (status, body) = match response {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(e) => panic!("{e}"),
    };
    assert_eq!(status, 413, "{body}");
    assert!(
        body.contains("lasts more than 60") && body.contains("limit of 600 s (--max-duration-s)"),
        "{body}"
    );
    let peak = peak_rss_bytes();
    eprintln!(
        "an hour of MP3 refused in {elapsed:?}; peak RSS {} MB",
        peak / 1_000_000
    );
    assert!(peak < MAX_RSS_BYTES, "{peak} bytes");
}

#[test]
fn a_malformed_chunked_body_is_a_400() {
    let addr = server();
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .write_all(
            b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: audio/wav\r\n\
              Transfer-Encoding: chunked\r\n\r\nzz-not-a-size\r\nRIFF\r\n0\r\n\r\n",
        )
        .expect("write");
    let (answer, _) = read_until_closed(&mut stream, Duration::from_secs(10));
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("malformed request body"), "{answer}");
}

#[test]
fn header_durations_are_read_from_wav_and_flac_headers() {
    let wav = low_rate_wav(5000);
    assert_eq!(ser_serve::header_duration_s(&wav), Some(5.0));
    // A data chunk that claims more than the bytes hold counts only the bytes.
    let mut lying = wav.clone();
    lying[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(ser_serve::header_duration_s(&lying), Some(5.0));
    let mut flac = b"fLaC\x00\x00\x00\x22".to_vec();
    let mut info = [0_u8; 18];
    // 16 kHz, 48000 samples: rate in bits 80..100, total in bits 108..144.
    let rate = 16_000_u32;
    info[10] = (rate >> 12) as u8;
    info[11] = (rate >> 4) as u8;
    info[12] = ((rate & 0xf) << 4) as u8;
    info[14..18].copy_from_slice(&48_000_u32.to_be_bytes());
    flac.extend_from_slice(&info);
    assert_eq!(ser_serve::header_duration_s(&flac), Some(3.0));
    assert_eq!(ser_serve::header_duration_s(b"ID3 not measured"), None);
}

#[test]
fn an_upload_limit_that_overflows_is_refused() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ser-serve"))
        .args(["--max-upload-mb", &usize::MAX.to_string()])
        .output()
        .expect("ser-serve runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("too large") && stderr.contains("MiB"),
        "{stderr}"
    );
}
