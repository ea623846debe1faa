//! Reliability of the binaries against a hostile but fair user (issue 23): closed or full
//! standard output, symbolic-link loops and FIFOs, corrupt or NaN weights, concurrent
//! trainings into one folder, and refused arguments.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{run, s, text, train_tiny, write_corpus};

/// A tiny corpus, its feature cache and a trained SVM run, shared by the tests.
struct Fixture {
    _dir: tempfile::TempDir,
    data: PathBuf,
    cache: PathBuf,
    root: PathBuf,
    run: PathBuf,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("corpus");
        write_corpus(&data);
        let cache = dir.path().join("cache");
        let root = dir.path().to_path_buf();
        let run = train_tiny(&data, &cache, &root.join("svm"), "svm", &[]);
        Fixture {
            data,
            cache,
            run,
            root,
            _dir: dir,
        }
    })
}

/// Runs `bin` with `args`, standard output sent to `stdout`, and waits at most `limit`.
fn run_with_stdout(bin: &str, args: &[&str], stdout: Stdio, limit: Duration) -> Output {
    let child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    wait_at_most(child, limit)
}

/// Waits for `child`, killing it (and failing) after `limit`.
fn wait_at_most(mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let output = child.wait_with_output().expect("output");
            panic!(
                "still running after {limit:?}; stderr:\n{}",
                text(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A pipe whose reading end is already closed: every write gets EPIPE.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    Stdio::from(writer)
}

fn dev_full() -> Stdio {
    Stdio::from(
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full"),
    )
}

/// Exit 1 with `error: cannot write to standard output`, no panic (exit 101).
fn assert_stdout_error(what: &str, output: &Output) {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{what}: {stderr}");
    assert!(
        stderr.contains("error: cannot write to standard output"),
        "{what}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
}

fn file_names(dir: &Path) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("list") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(dir).expect("inside");
                names.insert(relative.to_string_lossy().into_owned());
            }
        }
    }
    names
}

#[test]
fn a_closed_or_full_standard_output_is_an_error_not_a_panic() {
    let f = fixture();
    let limit = Duration::from_secs(300);
    let summary = ["--data", s(&f.data), "--protocol", "kfold:4", "--summary"];
    for (name, stdout) in [("closed pipe", closed_pipe()), ("/dev/full", dev_full())] {
        let output = run_with_stdout(env!("CARGO_BIN_EXE_ser-train"), &summary, stdout, limit);
        assert_stdout_error(&format!("ser-train --summary > {name}"), &output);
        let output = run_with_stdout(
            env!("CARGO_BIN_EXE_ser-eval"),
            &[s(&f.run), "--cache-dir", s(&f.cache)],
            match name {
                "closed pipe" => closed_pipe(),
                _ => dev_full(),
            },
            limit,
        );
        assert_stdout_error(&format!("ser-eval RUN > {name}"), &output);
    }
    let clip = f.data.join("Actor_01").join("03-01-05-01-01-01-01.wav");
    let output = run_with_stdout(
        env!("CARGO_BIN_EXE_ser-predict"),
        &["--model", s(&f.run), s(&clip)],
        dev_full(),
        limit,
    );
    assert_stdout_error("ser-predict > /dev/full", &output);

    // A training whose output cannot be printed still writes every run file.
    let full_out = f.root.join("svm-dev-full");
    let args = [
        "--data",
        s(&f.data),
        "--protocol",
        "kfold:4",
        "--fold",
        "1",
        "--model",
        "svm",
        "--out",
        s(&full_out),
        "--cache-dir",
        s(&f.cache),
    ];
    let output = run_with_stdout(env!("CARGO_BIN_EXE_ser-train"), &args, dev_full(), limit);
    assert_stdout_error("ser-train > /dev/full", &output);
    let expected = file_names(&f.run);
    assert!(expected.contains("metrics.json"), "{expected:?}");
    assert_eq!(file_names(&full_out.join("fold-1")), expected);
}

#[cfg(unix)]
#[test]
fn symlink_loops_predict_each_file_once_and_fifos_are_named() {
    let f = fixture();
    let dir = tempfile::tempdir().expect("tempdir");
    let clips = dir.path().join("clips");
    std::fs::create_dir_all(clips.join("sub")).expect("mkdir");
    for (n, target) in [
        (1, clips.join("a.wav")),
        (2, clips.join("sub").join("b.wav")),
    ] {
        std::fs::copy(
            f.data
                .join("Actor_01")
                .join(format!("03-01-{n:02}-01-01-01-01.wav")),
            target,
        )
        .expect("copy");
    }
    std::os::unix::fs::symlink("..", clips.join("sub").join("up")).expect("symlink");
    std::os::unix::fs::symlink(".", clips.join("self")).expect("symlink");
    let output = run_with_stdout(
        env!("CARGO_BIN_EXE_ser-predict"),
        &["--model", s(&f.run), "--json", s(&clips)],
        Stdio::piped(),
        Duration::from_secs(120),
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "each file once:\n{stdout}");

    // A FIFO is said to be one (reading it would block for ever), and a link loop too.
    let fifo = dir.path().join("pipe.wav");
    let status = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(status.success());
    let looped = dir.path().join("loop.wav");
    std::os::unix::fs::symlink("loop.wav", &looped).expect("symlink");
    for (input, expected) in [(&fifo, "FIFO"), (&looped, "symbolic links")] {
        let output = run_with_stdout(
            env!("CARGO_BIN_EXE_ser-predict"),
            &["--model", s(&f.run), s(input)],
            Stdio::piped(),
            Duration::from_secs(60),
        );
        let stderr = text(&output.stderr);
        assert!(!output.status.success(), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
        assert!(!stderr.contains("no such file"), "{stderr}");
    }
}

/// Overwrites the last `n` 4-byte values of a burnpack file with NaN (the data section, at the
/// end of the file, holds f32 tensors).
fn nan_tail(path: &Path, n: usize) {
    let mut bytes = std::fs::read(path).expect("read weights");
    let len = bytes.len();
    for chunk in bytes[len - 4 * n..].chunks_exact_mut(4) {
        chunk.copy_from_slice(&f32::NAN.to_le_bytes());
    }
    std::fs::write(path, bytes).expect("write weights");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("list") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

#[test]
fn nan_or_changed_weights_make_prediction_fail_naming_the_file() {
    let f = fixture();
    let dir = tempfile::tempdir().expect("tempdir");
    let clip = f.data.join("Actor_02").join("03-01-03-01-01-01-02.wav");
    let predict = |model: &Path| {
        run(
            env!("CARGO_BIN_EXE_ser-predict"),
            &["--model", s(model), s(&clip)],
        )
    };

    // A small CNN run (its weights are saved with a checksum).
    let cnn = train_tiny(
        &f.data,
        &f.cache,
        &dir.path().join("cnn-run"),
        "cnn",
        &["--features", "mfcc", "--epochs", "2"],
    );
    let weights = cnn.join(ser_models::MODEL_WEIGHTS_FILE);
    let checksum = ser_models::checksum_path(&weights);
    assert!(checksum.is_file());
    let output = predict(&cnn);
    assert!(output.status.success(), "{}", text(&output.stderr));

    // One changed byte: the checksum names the file.
    let mut bytes = std::fs::read(&weights).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&weights, &bytes).expect("write");
    let output = predict(&cnn);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(s(&weights)) && stderr.contains("SHA-256"),
        "{stderr}"
    );

    // NaN weights in a run without a checksum (as the shipped model's): refused, not a label.
    bytes[middle] ^= 0x01;
    std::fs::write(&weights, &bytes).expect("write");
    std::fs::remove_file(&checksum).expect("rm checksum");
    nan_tail(&weights, 16);
    let output = predict(&cnn);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(s(&weights)) && stderr.contains("not a finite number"),
        "{stderr}"
    );
    assert!(text(&output.stdout).is_empty());

    // An ensemble with such a member is refused the same way.
    let member = dir.path().join("member");
    copy_dir(&cnn, &member);
    std::fs::write(member.join(ser_models::MODEL_WEIGHTS_FILE), &bytes).expect("restore");
    let ensemble = dir.path().join("ensemble");
    let made = run(
        env!("CARGO_BIN_EXE_ser-eval"),
        &["--ensemble", s(&member), s(&f.run), "--out", s(&ensemble)],
    );
    assert!(made.status.success(), "{}", text(&made.stderr));
    nan_tail(&member.join(ser_models::MODEL_WEIGHTS_FILE), 16);
    let output = predict(&ensemble);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("not a finite number"), "{stderr}");
}

#[test]
fn two_trainings_started_together_into_one_folder_cannot_mix() {
    let f = fixture();
    let out = f.root.join("race");
    let spawn = |seed: &str| {
        Command::new(env!("CARGO_BIN_EXE_ser-train"))
            .args([
                "--data",
                s(&f.data),
                "--protocol",
                "kfold:4",
                "--model",
                "knn",
                "--seed",
                seed,
                "--out",
                s(&out),
                "--cache-dir",
                s(&f.cache),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ser-train runs")
    };
    let (a, b) = (spawn("1"), spawn("2"));
    let outputs = [
        ("1", wait_at_most(a, Duration::from_secs(300))),
        ("2", wait_at_most(b, Duration::from_secs(300))),
    ];
    let winners: Vec<_> = outputs.iter().filter(|(_, o)| o.status.success()).collect();
    let losers: Vec<_> = outputs
        .iter()
        .filter(|(_, o)| !o.status.success())
        .collect();
    let all = || {
        outputs
            .iter()
            .map(|(seed, o)| format!("seed {seed}: {:?}\n{}", o.status, text(&o.stderr)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!((winners.len(), losers.len()), (1, 1), "{}", all());
    let stderr = text(&losers[0].1.stderr);
    assert!(
        stderr.contains("another training is writing this run folder") && stderr.contains("pid "),
        "{stderr}"
    );
    // The folder is the winner's alone, and no lock is left.
    let info = common::read_json(&out.join("fold-1").join("ser-run.json"));
    assert_eq!(info["seed"].to_string(), winners[0].0, "{info}");
    assert!(!out.join("fold-1").join(ser_trainer::LOCK_FILE).exists());
}

#[test]
fn a_lock_left_by_a_killed_training_is_taken_over() {
    let f = fixture();
    let out = f.root.join("stale");
    let fold = out.join("fold-1");
    std::fs::create_dir_all(&fold).expect("mkdir");
    let dead = ser_trainer::LockHolder {
        pid: u32::MAX - 1,
        host: "elsewhere".to_owned(),
        started_unix_s: 1,
        command: "ser-train --killed".to_owned(),
    };
    std::fs::write(
        fold.join(ser_trainer::LOCK_FILE),
        serde_json::to_string(&dead).expect("json"),
    )
    .expect("write lock");
    let output = run(
        env!("CARGO_BIN_EXE_ser-train"),
        &[
            "--data",
            s(&f.data),
            "--protocol",
            "kfold:4",
            "--model",
            "knn",
            "--out",
            s(&out),
            "--cache-dir",
            s(&f.cache),
        ],
    );
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("took over the lock"), "{stderr}");
    assert!(fold.join("ser-run.json").is_file());
    assert!(!fold.join(ser_trainer::LOCK_FILE).exists());
}

#[test]
fn epochs_zero_is_refused_before_any_work_and_writes_nothing() {
    let f = fixture();
    let out = f.root.join("zero-epochs");
    let cache = f.root.join("zero-epochs-cache");
    let output = run(
        env!("CARGO_BIN_EXE_ser-train"),
        &[
            "--data",
            s(&f.data),
            "--model",
            "cnn",
            "--epochs",
            "0",
            "--out",
            s(&out),
            "--cache-dir",
            s(&cache),
        ],
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--epochs 0"), "{stderr}");
    assert!(
        !stderr.contains("features:"),
        "features were extracted:\n{stderr}"
    );
    assert!(!out.exists(), "{:?}", file_names(&out));
    assert!(!cache.exists());
}

#[test]
fn a_hop_below_the_minimum_is_refused() {
    let f = fixture();
    let clip = f.data.join("Actor_01").join("03-01-05-01-01-01-01.wav");
    let output = run_with_stdout(
        env!("CARGO_BIN_EXE_ser-predict"),
        &[
            "--model",
            s(&f.run),
            "--timeline",
            "--hop-s",
            "1e-9",
            s(&clip),
        ],
        Stdio::piped(),
        // Accepted, this hop made one window per sample: hours for this clip.
        Duration::from_secs(60),
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("--hop-s") && stderr.contains("0.01"),
        "{stderr}"
    );
}

#[test]
fn the_shipped_default_model_has_checksums_and_a_changed_byte_is_refused() {
    let shipped = ser_run::default_model_dir();
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = dir.path().join("default-model");
    copy_dir(&shipped, &copy);
    // Every weights file (of the run, or of every member of an ensemble) has its checksum
    // beside it, in sha256sum's format.
    let runs: Vec<PathBuf> = if copy.join("ensemble.json").is_file() {
        let ensemble = common::read_json(&copy.join("ensemble.json"));
        let members = ensemble["members"].as_array().expect("members");
        assert!(!members.is_empty());
        members
            .iter()
            .map(|m| copy.join(m["run_dir"].as_str().expect("run_dir")))
            .collect()
    } else {
        vec![copy.clone()]
    };
    let mut weights = Vec::new();
    for run in runs {
        let found: Vec<PathBuf> = [
            "classic-model.json",
            "classic-model.safetensors",
            ser_models::MODEL_WEIGHTS_FILE,
        ]
        .iter()
        .map(|name| run.join(name))
        .filter(|path| path.is_file())
        .collect();
        assert!(!found.is_empty(), "{}: no weights", run.display());
        for path in found {
            let checksum = ser_models::checksum_path(&path);
            let line = std::fs::read_to_string(&checksum)
                .unwrap_or_else(|e| panic!("{}: {e}", checksum.display()));
            let name = path.file_name().expect("name").to_string_lossy();
            let (digest, rest) = line.split_at(64.min(line.len()));
            assert!(
                digest.bytes().all(|b| b.is_ascii_hexdigit()) && rest == format!("  {name}\n"),
                "{}: {line:?}",
                checksum.display()
            );
            weights.push(path);
        }
    }
    // The copy predicts (the loader checks every checksum) ...
    let clip = fixture()
        .data
        .join("Actor_02")
        .join("03-01-03-01-01-01-02.wav");
    let predict = || {
        run(
            env!("CARGO_BIN_EXE_ser-predict"),
            &["--model", s(&copy), s(&clip)],
        )
    };
    let output = predict();
    assert!(output.status.success(), "{}", text(&output.stderr));
    // ... and one changed byte in a member's weights is refused naming the file.
    let target = weights.last().expect("weights");
    let mut bytes = std::fs::read(target).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(target, &bytes).expect("write");
    let output = predict();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(s(target)) && stderr.contains("SHA-256"),
        "{stderr}"
    );
    assert!(text(&output.stdout).is_empty());
}
