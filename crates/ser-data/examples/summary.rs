//! Prints a corpus summary with the default protocol's folds, then builds the feature dataset
//! twice (extracting, then from the cache) and reports both times.
//!
//! ```text
//! cargo run --release -p ser-data --example summary -- [CORPUS_DIR] [--preset seed|speech16k]
//!     [--cache DIR] [--no-build]
//! ```
//! Defaults: `/work/shared/data/ravdess-16k`, preset `seed`, cache `data/cache/`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use ser_data::{
    BuildOptions, Corpus, CorpusOptions, Dataset, Protocol, Summary, default_cache_dir,
};
use ser_features::FeatureConfig;

struct Args {
    corpus: PathBuf,
    preset: String,
    cache: PathBuf,
    build: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        corpus: PathBuf::from("/work/shared/data/ravdess-16k"),
        preset: "seed".to_owned(),
        cache: default_cache_dir(),
        build: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--preset" => args.preset = it.next().ok_or("--preset needs a value")?,
            "--cache" => args.cache = it.next().ok_or("--cache needs a value")?.into(),
            "--no-build" => args.build = false,
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            s => args.corpus = s.into(),
        }
    }
    Ok(args)
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let t = Instant::now();
    let corpus = Corpus::load(&args.corpus, &CorpusOptions::default())?;
    let protocol = Protocol::default_for(corpus.kind);
    let summary = Summary::new(&corpus, Some(&protocol))?;
    println!("{summary}");
    println!(
        "(scanned and summarised in {:.2} s)\n",
        t.elapsed().as_secs_f64()
    );
    if !args.build {
        return Ok(());
    }
    let config = FeatureConfig::preset(&args.preset)?;
    let options = BuildOptions {
        cache_dir: Some(args.cache),
        progress: true,
    };
    for pass in ["first", "second"] {
        let t = Instant::now();
        let dataset = Dataset::build(corpus.clone(), &config, &options)?;
        println!(
            "{pass} load: {:.2} s; {} matrices of {} x {}; {}",
            t.elapsed().as_secs_f64(),
            dataset.len(),
            dataset.n_rows(),
            dataset.n_frames(),
            dataset.report()
        );
        if let Some(f) = &dataset.report().cache_file {
            println!("  cache file: {}", f.display());
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
