//! Converts a saved classical model to the current format and checks the conversion.
//!
//! ```sh
//! # Re-save a model (any format this build reads) in the current one, into DIR:
//! cargo run --release -p ser-classic --example formats -- resave OLD/classic-model.json DIR
//! # Compare two saved models: equal parameters, the same probabilities bit for bit on
//! # random inputs of the model's width, and the median of 10 loads of each:
//! cargo run --release -p ser-classic --example formats -- compare OLD/classic-model.json DIR
//! ```
//!
//! `compare` draws `ROWS` (default 256) inputs around the model's training means (seeded, so
//! every run draws the same ones): most within 3 standard deviations, one in eight far outside
//! (beyond the standardiser's clip, when it has one).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ser_classic::{ClassicModel, Classifier, MODEL_FILE_NAME, WEIGHTS_FILE_NAME};
use ser_stdx::rng::SplitMix64;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["resave", from, to] => resave(Path::new(from), Path::new(to)),
        ["compare", old, new] => compare(Path::new(old), Path::new(new), 256),
        ["compare", old, new, rows] => match rows.parse() {
            Ok(rows) => compare(Path::new(old), Path::new(new), rows),
            Err(e) => Err(format!("ROWS {rows:?}: {e}")),
        },
        _ => Err(
            "usage: formats resave MODEL_FILE DIR | compare OLD_MODEL_FILE NEW_DIR [ROWS]"
                .to_owned(),
        ),
    };
    if let Err(message) = result {
        eprintln!("formats: {message}");
        std::process::exit(1);
    }
}

fn resave(from: &Path, to: &Path) -> Result<(), String> {
    let model = ClassicModel::load_file(from).map_err(|e| e.to_string())?;
    let path = model.save(to).map_err(|e| e.to_string())?;
    let back = ClassicModel::load(to).map_err(|e| e.to_string())?;
    if back != model {
        return Err(format!("{}: re-loaded model differs", path.display()));
    }
    for file in [path, to.join(WEIGHTS_FILE_NAME)] {
        println!("{}: {} bytes", file.display(), size(&file));
    }
    Ok(())
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Median of 10 loads of `path`.
fn median_load(path: &Path) -> Result<Duration, String> {
    let mut times = Vec::new();
    for _ in 0..10 {
        let start = Instant::now();
        let model = ClassicModel::load_file(path).map_err(|e| e.to_string())?;
        times.push(start.elapsed());
        drop(model);
    }
    times.sort();
    Ok((times[4] + times[5]) / 2)
}

fn compare(old_file: &Path, new_dir: &Path, rows: usize) -> Result<(), String> {
    let new_file: PathBuf = new_dir.join(MODEL_FILE_NAME);
    let old = ClassicModel::load_file(old_file).map_err(|e| e.to_string())?;
    let new = ClassicModel::load_file(&new_file).map_err(|e| e.to_string())?;
    if old != new {
        return Err("the two files hold different models".to_owned());
    }
    let standardizer = new.standardizer();
    let far = standardizer.clip().unwrap_or(5.0) * 2.0;
    let mut rng = SplitMix64::new(19);
    let x: Vec<Vec<f32>> = (0..rows)
        .map(|i| {
            let spread = if i % 8 == 7 { far } else { 1.0 };
            standardizer
                .mean()
                .iter()
                .zip(standardizer.scale())
                .map(|(&m, &s)| (m + s * spread * rng.normal()) as f32)
                .collect()
        })
        .collect();
    let (p_old, p_new) = (
        old.predict_proba(&x).map_err(|e| e.to_string())?,
        new.predict_proba(&x).map_err(|e| e.to_string())?,
    );
    let differing = p_old
        .iter()
        .zip(&p_new)
        .filter(|(a, b)| a.iter().zip(*b).any(|(u, v)| u.to_bits() != v.to_bits()))
        .count();
    let labels_old = old.predict(&x).map_err(|e| e.to_string())?;
    let spread: Vec<usize> = (0..new.n_classes())
        .map(|c| labels_old.iter().filter(|&&l| l == c).count())
        .collect();
    println!(
        "{rows} inputs of {} values, {} classes (argmax counts {spread:?}): {differing} rows \
         differ in any bit",
        new.n_features(),
        new.n_classes()
    );
    let weights = new_dir.join(WEIGHTS_FILE_NAME);
    println!(
        "old: {} ({} bytes): median load of 10 {:.1} ms",
        old_file.display(),
        size(old_file),
        median_load(old_file)?.as_secs_f64() * 1e3
    );
    println!(
        "new: {} ({} bytes) + {} ({} bytes): median load of 10 {:.1} ms",
        new_file.display(),
        size(&new_file),
        weights.display(),
        size(&weights),
        median_load(&new_file)?.as_secs_f64() * 1e3
    );
    if differing != 0 {
        return Err(format!("{differing} of {rows} probability rows differ"));
    }
    Ok(())
}
