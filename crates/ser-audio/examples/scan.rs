//! Loads every audio file under a folder and reports what it found and how long it took.
//!
//! ```text
//! cargo run --release -p ser-audio --example scan -- /work/shared/data/ravdess-16k [--rate HZ] [--dump OUT_DIR]
//! ```
//!
//! With `--rate`, every file is loaded with [`ser_audio::load_at`] (resampled to `HZ`).
//! With `--dump`, the mono samples of every multichannel file and of the first three files
//! are written to `OUT_DIR/<name>.f32` (raw little-endian `f32`), for comparison with
//! `librosa.load(path, sr=None)`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

const AUDIO_EXTENSIONS: [&str; 5] = ["wav", "flac", "mp3", "ogg", "oga"];

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(root) = args.first().map(PathBuf::from) else {
        eprintln!("usage: scan DIR [--dump OUT_DIR]");
        return ExitCode::FAILURE;
    };
    let dump = args
        .iter()
        .position(|a| a == "--dump")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);

    let rate = match args
        .iter()
        .position(|a| a == "--rate")
        .map(|i| args.get(i + 1).map(|r| r.parse::<u32>()))
    {
        None => None,
        Some(Some(Ok(hz))) => Some(hz),
        Some(_) => {
            eprintln!("--rate needs a sample rate in Hz");
            return ExitCode::FAILURE;
        }
    };

    let mut files = Vec::new();
    if let Err(e) = collect(&root, &mut files) {
        eprintln!("{}: {e}", root.display());
        return ExitCode::FAILURE;
    }
    files.sort();

    let start = Instant::now();
    let mut failures = 0_usize;
    let mut multichannel = Vec::new();
    let mut total_s = 0.0;
    let (mut min_s, mut max_s) = (f64::INFINITY, 0.0_f64);
    let mut rates = std::collections::BTreeMap::<u32, usize>::new();
    let mut decoded = Vec::new();
    for path in &files {
        let loaded = match rate {
            Some(hz) => ser_audio::load_at(path, hz),
            None => ser_audio::load(path),
        };
        match loaded {
            Ok(audio) => {
                let d = audio.duration_s();
                total_s += d;
                min_s = min_s.min(d);
                max_s = max_s.max(d);
                *rates.entry(audio.sample_rate_hz).or_default() += 1;
                if audio.channels != 1 {
                    multichannel.push((path.clone(), audio.channels));
                }
                if dump.is_some() && (audio.channels != 1 || decoded.len() < 3) {
                    decoded.push((path.clone(), audio.samples));
                }
            }
            Err(e) => {
                failures += 1;
                eprintln!("{e}");
            }
        }
    }
    let elapsed = start.elapsed();

    println!(
        "{} files, {} failed, {:.1} s of audio (min {:.2} s, max {:.2} s), rates {:?}",
        files.len(),
        failures,
        total_s,
        min_s,
        max_s,
        rates
    );
    println!(
        "load time: {:.3} s total, {:.3} ms per file",
        elapsed.as_secs_f64(),
        1e3 * elapsed.as_secs_f64() / files.len().max(1) as f64
    );
    for (path, channels) in &multichannel {
        println!("{channels} channels (mixed to mono): {}", path.display());
    }
    if let Some(out_dir) = dump {
        for (path, samples) in decoded {
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
            let target = out_dir.join(format!("{name}.f32"));
            if let Err(e) = std::fs::write(&target, bytes) {
                eprintln!("{}: {e}", target.display());
                return ExitCode::FAILURE;
            }
            println!("dumped {} -> {}", path.display(), target.display());
        }
    }
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
