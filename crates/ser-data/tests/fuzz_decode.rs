//! A fuzz target for decoding + feature extraction that runs on stable Rust: random and
//! mutated WAV/FLAC/MP3/Ogg bytes through `ser_audio::decode`, resampling to the analysis
//! rate and the 174-row feature extraction. Every input must give audio and features or a
//! typed error: never a panic, never a hang, never non-finite features.
//!
//! In the test suite it runs for a few seconds (`SER_FUZZ_SECONDS`, default 3, and a fixed
//! seed, so a failure reproduces); `cargo xtask fuzz --minutes N` runs it for longer with a
//! fresh seed and prints the counts. Inputs that panic or hang are written to
//! `target/fuzz-failures/` (or `SER_FUZZ_FAILURES`).

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ser_features::{FeatureConfig, FeatureExtractor};

/// SplitMix64: the test needs no `rand`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// A WAV file: `format` tag, `channels`, `rate`, `bits`, `frames` frames of a tone.
fn wav(format: u16, channels: u16, rate: u32, bits: u16, frames: usize) -> Vec<u8> {
    let width = usize::from(bits / 8);
    let align = usize::from(channels) * width;
    let mut data = Vec::with_capacity(frames * align);
    for i in 0..frames {
        let v = (i as f64 * 0.05).sin() * 0.5;
        for _ in 0..channels {
            match (format, bits) {
                (3, 32) => data.extend_from_slice(&(v as f32).to_le_bytes()),
                (3, 64) => data.extend_from_slice(&v.to_le_bytes()),
                (_, 8) => data.push((128.0 + v * 127.0) as u8),
                (_, 16) => data.extend_from_slice(&((v * 32767.0) as i16).to_le_bytes()),
                (_, 24) => data.extend_from_slice(&((v * 8_388_607.0) as i32).to_le_bytes()[..3]),
                _ => data.extend_from_slice(&((v * 2_147_483_647.0) as i32).to_le_bytes()),
            }
        }
    }
    let mut out = Vec::with_capacity(44 + data.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16_u32.to_le_bytes());
    out.extend_from_slice(&format.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * align as u32).to_le_bytes());
    out.extend_from_slice(&(align as u16).to_le_bytes());
    out.extend_from_slice(&bits.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    out
}

/// Seeds: WAV files of several layouts and the compressed fixtures of ser-audio.
fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut seeds = vec![
        ("pcm16-mono-16k.wav".to_owned(), wav(1, 1, 16_000, 16, 4000)),
        ("pcm8-stereo-8k.wav".to_owned(), wav(1, 2, 8000, 8, 2000)),
        ("pcm24-mono-44k.wav".to_owned(), wav(1, 1, 44_100, 24, 3000)),
        ("pcm32-mono-22k.wav".to_owned(), wav(1, 1, 22_050, 32, 3000)),
        (
            "float32-stereo-48k.wav".to_owned(),
            wav(3, 2, 48_000, 32, 3000),
        ),
        (
            "float64-mono-16k.wav".to_owned(),
            wav(3, 1, 16_000, 64, 2000),
        ),
        // At the analysis rate: no resampling between the decoder and the features.
        (
            "float32-mono-22k.wav".to_owned(),
            wav(3, 1, 22_050, 32, 3000),
        ),
        ("pcm16-6ch-1k.wav".to_owned(), wav(1, 6, 1000, 16, 500)),
    ];
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ser-audio/tests/fixtures");
    if let Ok(entries) = std::fs::read_dir(&fixtures) {
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| ["flac", "mp3", "ogg", "wav"].contains(&e))
            })
            .collect();
        paths.sort();
        for path in paths {
            if let Ok(bytes) = std::fs::read(&path) {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                seeds.push((name.unwrap_or_default(), bytes));
            }
        }
    }
    seeds
}

/// Values that break length and count fields.
const INTERESTING_U32: [u32; 10] = [
    0,
    1,
    2,
    3,
    0x7f,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffe,
    0xffff_ffff,
];

/// One to eight mutations of `input` (or, one time in 16, random bytes).
fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    if rng.below(16) == 0 {
        let n = rng.below(512);
        let mut bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        // Half of them start like a known container, to get past the sniffer.
        if rng.below(2) == 0 {
            let magic: &[u8] = match rng.below(4) {
                0 => b"RIFF\x00\x00\x00\x00WAVEfmt ",
                1 => b"fLaC",
                2 => b"OggS",
                _ => b"ID3\x03",
            };
            bytes.splice(0..0, magic.iter().copied());
        }
        return bytes;
    }
    let mut bytes = input.to_vec();
    for _ in 0..=rng.below(8) {
        let len = bytes.len();
        match rng.below(8) {
            // Flip a bit, mostly in the header.
            0 | 1 => {
                if len > 0 {
                    let at = if rng.below(2) == 0 {
                        rng.below(len.min(64))
                    } else {
                        rng.below(len)
                    };
                    bytes[at] ^= 1 << rng.below(8);
                }
            }
            // A byte set to an extreme.
            2 => {
                if len > 0 {
                    let at = rng.below(len.min(128));
                    bytes[at] = [0, 0xff, 0x7f, 0x80][rng.below(4)];
                }
            }
            // A 32-bit field (sizes, rates, counts) set to a breaking value.
            3 | 4 => {
                if len >= 4 {
                    let at = rng.below((len - 3).min(96));
                    let value = match rng.below(3) {
                        0 => INTERESTING_U32[rng.below(INTERESTING_U32.len())],
                        1 => len as u32 + rng.below(3) as u32 - 1,
                        _ => rng.next() as u32,
                    };
                    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
                }
            }
            // Truncate.
            5 => bytes.truncate(rng.below(len + 1)),
            // Insert random bytes.
            6 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let noise: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                bytes.splice(at..at, noise);
            }
            // Duplicate a range (repeated chunks).
            _ => {
                if len > 0 {
                    let from = rng.below(len);
                    let to = (from + 1 + rng.below(64)).min(len);
                    let copy = bytes[from..to].to_vec();
                    let at = rng.below(len + 1);
                    bytes.splice(at..at, copy);
                }
            }
        }
    }
    bytes
}

/// What one input did.
enum Outcome {
    /// Decoded and gave finite features.
    Features,
    /// A typed error from decoding, resampling or extraction.
    Error,
    /// Features with a NaN or infinity.
    NonFinite(String),
}

/// Decoding + resampling + feature extraction of one input, as the tools do it.
fn run_one(bytes: &[u8], extractor: &mut FeatureExtractor, rate: u32) -> Outcome {
    let Ok(audio) = ser_audio::decode(bytes, "fuzz-input") else {
        return Outcome::Error;
    };
    // At most 10 s of audio: the work per input stays bounded (long inputs are legitimate).
    let keep = (audio.sample_rate_hz as usize).saturating_mul(10);
    let samples = &audio.samples[..audio.samples.len().min(keep)];
    if samples.iter().any(|v| !v.is_finite()) {
        return Outcome::NonFinite("decoded samples".to_owned());
    }
    let Ok(resampled) = ser_audio::resample(samples, audio.sample_rate_hz, rate) else {
        return Outcome::Error;
    };
    match extractor.extract(&resampled) {
        Ok(m) if m.data.iter().all(|v| v.is_finite()) => Outcome::Features,
        Ok(_) => Outcome::NonFinite("features".to_owned()),
        Err(_) => Outcome::Error,
    }
}

/// Counts of a fuzz run.
#[derive(Debug, Default)]
struct Report {
    files: usize,
    decoded: usize,
    errors: usize,
    panics: Vec<PathBuf>,
    hangs: Vec<PathBuf>,
    non_finite: Vec<PathBuf>,
}

/// Longest time one input may take before it counts as a hang.
const HANG_AFTER: Duration = Duration::from_secs(20);

fn save_failure(dir: &Path, kind: &str, index: usize, bytes: &[u8]) -> PathBuf {
    let _ = std::fs::create_dir_all(dir);
    let path = dir.join(format!("{kind}-{index:08}.bin"));
    let _ = std::fs::write(&path, bytes);
    path
}

/// Fuzzes for `duration` from `seed`. Inputs run in a worker thread; one that takes longer
/// than [`HANG_AFTER`] is a hang: its worker is abandoned and a new one started.
fn fuzz(duration: Duration, seed: u64, failures: &Path) -> Report {
    let seeds = seeds();
    assert!(!seeds.is_empty());
    let config = FeatureConfig::seed();
    let rate = config.sample_rate_hz;
    let mut rng = Rng(seed);
    let mut report = Report::default();
    let start = Instant::now();
    let spawn = || {
        let (job_tx, job_rx) = mpsc::channel::<Vec<u8>>();
        let (done_tx, done_rx) = mpsc::channel::<std::thread::Result<Outcome>>();
        let config = config.clone();
        std::thread::spawn(move || {
            let Ok(mut extractor) = FeatureExtractor::new(&config) else {
                return;
            };
            for bytes in job_rx {
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run_one(&bytes, &mut extractor, rate)
                }));
                if outcome.is_err() {
                    // The extractor may be mid-way through a plan: start afresh.
                    match FeatureExtractor::new(&config) {
                        Ok(fresh) => extractor = fresh,
                        Err(_) => return,
                    }
                }
                if done_tx.send(outcome).is_err() {
                    return;
                }
            }
        });
        (job_tx, done_rx)
    };
    let (mut jobs, mut done) = spawn();
    while start.elapsed() < duration {
        let (_, seed_bytes) = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, seed_bytes);
        report.files += 1;
        if jobs.send(input.clone()).is_err() {
            (jobs, done) = spawn();
            continue;
        }
        match done.recv_timeout(HANG_AFTER) {
            Ok(Ok(Outcome::Features)) => report.decoded += 1,
            Ok(Ok(Outcome::Error)) => report.errors += 1,
            Ok(Ok(Outcome::NonFinite(what))) => {
                let path =
                    save_failure(failures, &format!("nonfinite-{what}"), report.files, &input);
                report.non_finite.push(path);
            }
            Ok(Err(_)) => {
                let path = save_failure(failures, "panic", report.files, &input);
                report.panics.push(path);
            }
            Err(_) => {
                let path = save_failure(failures, "hang", report.files, &input);
                report.hangs.push(path);
                (jobs, done) = spawn();
            }
        }
    }
    report
}

#[test]
fn random_and_mutated_audio_files_never_panic_hang_or_give_non_finite_features() {
    let seconds: f64 = std::env::var("SER_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let seed: u64 = std::env::var("SER_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(23);
    let failures = std::env::var_os("SER_FUZZ_FAILURES").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/fuzz-failures"),
        PathBuf::from,
    );
    // Panics are caught and counted; keep their messages out of the output.
    let quiet = std::env::var_os("SER_FUZZ_VERBOSE").is_none();
    if quiet {
        std::panic::set_hook(Box::new(|_| {}));
    }
    let start = Instant::now();
    let report = fuzz(Duration::from_secs_f64(seconds), seed, &failures);
    if quiet {
        let _ = std::panic::take_hook();
    }
    println!(
        "fuzz: {:.1} min, seed {seed}: {} files tried, {} decoded to features, {} errors, {} \
         panics, {} hangs, {} non-finite",
        start.elapsed().as_secs_f64() / 60.0,
        report.files,
        report.decoded,
        report.errors,
        report.panics.len(),
        report.hangs.len(),
        report.non_finite.len()
    );
    assert!(
        report.files > 10,
        "only {} inputs in {seconds} s",
        report.files
    );
    assert!(
        report.panics.is_empty() && report.hangs.is_empty() && report.non_finite.is_empty(),
        "panics {:?}, hangs {:?}, non-finite {:?}",
        report.panics,
        report.hangs,
        report.non_finite
    );
}
