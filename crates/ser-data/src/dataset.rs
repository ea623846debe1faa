//! Feature extraction for a whole corpus (parallel, cached) and augmented training copies.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use ser_features::{FeatureConfig, FeatureExtractor, FeatureMatrix};
use serde::{Deserialize, Serialize};

use crate::augment::{AugmentConfig, WaveAugmenter};
use crate::cache::{self, Hash32, PackedFeatures};
use crate::corpus::{Corpus, SkipReason};
use crate::emotion::Emotion;
use crate::error::DataError;
use crate::progress::Progress;
use crate::protocol::{Protocol, Split};

/// Where to cache and whether to report progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOptions {
    /// Cache folder; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// Report progress on stderr (a bar on a terminal, plain lines otherwise).
    pub progress: bool,
}

impl Default for BuildOptions {
    /// Cache in [`default_cache_dir`], with progress.
    fn default() -> Self {
        BuildOptions {
            cache_dir: Some(default_cache_dir()),
            progress: true,
        }
    }
}

/// `data/cache/` of the workspace this crate was built in when that workspace still exists,
/// else `data/cache/` under the current folder.
pub fn default_cache_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    match workspace.canonicalize() {
        Ok(root) if root.join("Cargo.toml").is_file() => root.join("data").join("cache"),
        _ => PathBuf::from("data").join("cache"),
    }
}

/// What a build did: where the features came from and how long it took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildReport {
    /// The cache file used, if caching is on.
    pub cache_file: Option<PathBuf>,
    /// What the cache lookup found ("hit", "no cache file", "not trusted: ...", "disabled").
    pub cache_status: String,
    /// Matrices loaded from the cache.
    pub n_from_cache: usize,
    /// Matrices computed now.
    pub n_extracted: usize,
    /// Files (or copies) that failed to read, decode or extract, now listed as skipped.
    pub n_failed: usize,
    /// Set when writing the cache failed (the features are still returned).
    pub cache_write_error: Option<String>,
    /// Wall time in seconds.
    pub elapsed_s: f64,
}

impl std::fmt::Display for BuildReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} from cache, {} extracted, {} failed in {:.2} s (cache: {})",
            self.n_from_cache, self.n_extracted, self.n_failed, self.elapsed_s, self.cache_status
        )?;
        if let Some(e) = &self.cache_write_error {
            write!(f, "; cache not written: {e}")?;
        }
        Ok(())
    }
}

/// A corpus with one fixed-size feature matrix per utterance.
///
/// Utterances that could not be read, decoded or analysed are moved to
/// `corpus().skipped`; compute splits from [`Dataset::corpus`] (or [`Dataset::splits`]) so
/// that indices match.
#[derive(Debug, Clone)]
pub struct Dataset {
    corpus: Corpus,
    config: FeatureConfig,
    n_rows: usize,
    n_frames: usize,
    data: Vec<f32>,
    content_hashes: Vec<Hash32>,
    report: BuildReport,
}

/// Where an utterance's features come from.
enum Source {
    /// Entry `slot` of the cache file.
    Cached(usize),
    /// Computed now.
    Extracted(FeatureMatrix),
}

/// Reads a file and hashes its content.
fn read_and_hash(path: &Path) -> Result<(Vec<u8>, Hash32), SkipReason> {
    let bytes = std::fs::read(path).map_err(|e| SkipReason::Unreadable {
        message: e.to_string(),
    })?;
    let hash = cache::sha256(&bytes);
    Ok((bytes, hash))
}

/// Decodes audio bytes to mono at the analysis rate of `config`, through its front end's
/// band limit when it has one (see [`ser_audio::band`]).
fn decode_at(bytes: &[u8], path: &Path, config: &FeatureConfig) -> Result<Vec<f32>, SkipReason> {
    let failed = |e: ser_audio::AudioError| SkipReason::DecodeFailed {
        message: e.to_string(),
    };
    let audio = ser_audio::decode(bytes, &path.display().to_string()).map_err(failed)?;
    // A file already at the analysis rate still goes through the band limit when its band
    // is wider than the front end's.
    if audio.sample_rate_hz == config.sample_rate_hz && config.band_hz().is_none() {
        Ok(audio.samples)
    } else {
        ser_audio::resample_band_limited(
            &audio.samples,
            audio.sample_rate_hz,
            config.sample_rate_hz,
            config.band_hz(),
        )
        .map_err(failed)
    }
}

/// Extracts one matrix and checks its shape.
fn extract(
    extractor: &mut FeatureExtractor,
    samples: &[f32],
    n_rows: usize,
    n_frames: usize,
) -> Result<FeatureMatrix, SkipReason> {
    let m = extractor
        .extract(samples)
        .map_err(|e| SkipReason::FeatureFailed {
            message: e.to_string(),
        })?;
    if (m.n_rows, m.n_frames, m.data.len()) != (n_rows, n_frames, n_rows * n_frames) {
        return Err(SkipReason::FeatureFailed {
            message: format!(
                "extractor returned {} x {} ({} values), expected {n_rows} x {n_frames}",
                m.n_rows,
                m.n_frames,
                m.data.len()
            ),
        });
    }
    Ok(m)
}

fn config_json(what: &'static str, value: &impl Serialize) -> Result<Vec<u8>, DataError> {
    serde_json::to_vec(value).map_err(|source| DataError::Serialize { what, source })
}

/// The corpus folder as an absolute path (for cache file names).
fn root_key(root: &Path) -> Vec<u8> {
    root.canonicalize()
        .unwrap_or_else(|_| root.to_path_buf())
        .to_string_lossy()
        .into_owned()
        .into_bytes()
}

/// One on-disk feature cache: the hash of everything its matrices depend on, and its file.
struct FeatureCache {
    /// The cache file; `None` when caching is off.
    path: Option<PathBuf>,
    /// SHA-256 of the format, `kind`, the numerics version and the configurations.
    config_hash: Hash32,
    n_rows: usize,
    n_frames: usize,
}

impl FeatureCache {
    /// The cache of `kind` (`features`: the plain matrices, `augment`: waveform copies) for
    /// `corpus` under `options.cache_dir`; `parts` (serialised configurations) key it after
    /// the format, `kind` and [`ser_features::NUMERICS_VERSION`]. The file is
    /// `<kind>-<corpus kind>-<hash of config and corpus folder>.bin`.
    fn new(
        kind: &str,
        parts: &[&[u8]],
        corpus: &Corpus,
        options: &BuildOptions,
        n_rows: usize,
        n_frames: usize,
    ) -> FeatureCache {
        let version = cache::FORMAT_VERSION.to_le_bytes();
        let numerics = ser_features::NUMERICS_VERSION.to_le_bytes();
        let mut all: Vec<&[u8]> = vec![&version, kind.as_bytes(), &numerics];
        all.extend_from_slice(parts);
        let config_hash = cache::sha256_parts(&all);
        let path = options.cache_dir.as_ref().map(|dir| {
            let key = cache::sha256_parts(&[&config_hash, &root_key(&corpus.root)]);
            dir.join(format!(
                "{kind}-{}-{}.bin",
                corpus.kind,
                cache::hex_prefix(&key, 8)
            ))
        });
        FeatureCache {
            path,
            config_hash,
            n_rows,
            n_frames,
        }
    }

    /// Reads the cache file, returning its entries and a status line.
    fn load(&self) -> (Option<PackedFeatures>, String) {
        match &self.path {
            None => (None, "disabled".to_owned()),
            Some(p) => match cache::read_packed(p, &self.config_hash, self.n_rows, self.n_frames) {
                Ok(packed) => (Some(packed), "hit".to_owned()),
                Err(read) => (None, read.to_string()),
            },
        }
    }

    /// Writes `packed` as the cache file, atomically; the error as text when it fails (the
    /// features are still usable).
    fn store(&self, packed: &PackedFeatures) -> Option<String> {
        let path = self.path.as_ref()?;
        cache::write_packed(path, &self.config_hash, packed)
            .err()
            .map(|e| e.to_string())
    }
}

/// The one feature pipeline of plain and augmented builds: every job whose cache key is in
/// `index` (key -> slot of the cache file) is taken from the cache; the others are decoded
/// and conditioned by `samples` (which returns the key to store the result under), then
/// extracted, in parallel with one extractor per worker and `progress` counting them. Jobs
/// whose key could not be computed fail with its reason. Results are in job order.
fn look_up_or_extract<J, F>(
    jobs: Vec<(Result<Hash32, SkipReason>, J)>,
    index: &HashMap<Hash32, usize>,
    extractor: &FeatureExtractor,
    (n_rows, n_frames): (usize, usize),
    (label, show_progress): (&str, bool),
    samples: F,
) -> Vec<Result<(Hash32, Source), SkipReason>>
where
    J: Send,
    F: Fn(&J) -> Result<(Hash32, Vec<f32>), SkipReason> + Sync,
{
    let n_to_extract = jobs
        .iter()
        .filter(|(key, _)| key.as_ref().is_ok_and(|k| !index.contains_key(k)))
        .count();
    let progress = Progress::new(label, n_to_extract, show_progress);
    // `map_init` clones the extractor once per rayon work unit, so every worker thread has
    // its own (the extractor reuses internal buffers and is not shared).
    let results = jobs
        .into_par_iter()
        .map_init(
            || extractor.clone(),
            |ex, (key, job)| {
                let key = key?;
                if let Some(&slot) = index.get(&key) {
                    return Ok((key, Source::Cached(slot)));
                }
                let m = samples(&job)
                    .and_then(|(key, s)| Ok((key, extract(ex, &s, n_rows, n_frames)?)));
                progress.inc();
                let (key, m) = m?;
                Ok((key, Source::Extracted(m)))
            },
        )
        .collect();
    progress.finish();
    results
}

/// Cache key -> slot of the entries of a cache file.
fn slots(cached: Option<&PackedFeatures>) -> HashMap<Hash32, usize> {
    cached
        .map(|c| c.keys.iter().enumerate().map(|(i, k)| (*k, i)).collect())
        .unwrap_or_default()
}

impl Dataset {
    /// Extracts (or loads from the cache) the features of every utterance of `corpus`.
    ///
    /// Files are hashed in parallel; matrices whose (content hash, feature config) is in the
    /// cache are loaded, the rest are decoded, resampled to `config.sample_rate_hz` and
    /// extracted in parallel (one extractor per worker), then the cache file is rewritten
    /// atomically. Files that fail are moved to the corpus's skipped list.
    pub fn build(
        mut corpus: Corpus,
        config: &FeatureConfig,
        options: &BuildOptions,
    ) -> Result<Dataset, DataError> {
        let start = Instant::now();
        let extractor =
            FeatureExtractor::new(config).map_err(|source| DataError::FeatureConfig { source })?;
        let n_rows = config.layout().n_rows;
        let n_frames = config.n_frames;
        let cfg_json = config_json("feature config", config)?;
        let feature_cache =
            FeatureCache::new("features", &[&cfg_json], &corpus, options, n_rows, n_frames);
        let cache_path = feature_cache.path.clone();
        // Read the cache file and hash every audio file at the same time.
        let ((cached, cache_status), hashes): (_, Vec<Result<Hash32, SkipReason>>) = rayon::join(
            || feature_cache.load(),
            || {
                corpus
                    .items
                    .par_iter()
                    .map(|u| read_and_hash(&u.path).map(|(_, hash)| hash))
                    .collect()
            },
        );

        // Fast path: the cache holds exactly these files in this order.
        let in_order = cached.as_ref().is_some_and(|c| {
            c.keys.len() == hashes.len()
                && hashes
                    .iter()
                    .zip(&c.keys)
                    .all(|(h, k)| h.as_ref().is_ok_and(|h| h == k))
        });
        if in_order && let Some(packed) = cached {
            let n = packed.keys.len();
            return Ok(Dataset {
                corpus,
                config: config.clone(),
                n_rows,
                n_frames,
                data: packed.data,
                content_hashes: packed.keys,
                report: BuildReport {
                    cache_file: cache_path,
                    cache_status,
                    n_from_cache: n,
                    n_extracted: 0,
                    n_failed: 0,
                    cache_write_error: None,
                    elapsed_s: start.elapsed().as_secs_f64(),
                },
            });
        }

        let index = slots(cached.as_ref());
        let jobs: Vec<_> = hashes.into_iter().zip(&corpus.items).collect();
        let results = look_up_or_extract(
            jobs,
            &index,
            &extractor,
            (n_rows, n_frames),
            ("extracting features", options.progress),
            // Read again (from the page cache); hash what is decoded.
            |u| {
                let (bytes, hash) = read_and_hash(&u.path)?;
                Ok((hash, decode_at(&bytes, &u.path, config)?))
            },
        );

        let matrix_len = n_rows * n_frames;
        let mut data = Vec::with_capacity(corpus.len() * matrix_len);
        let mut content_hashes = Vec::with_capacity(corpus.len());
        let mut failures = Vec::new();
        let (mut n_from_cache, mut n_extracted) = (0, 0);
        for (i, r) in results.into_iter().enumerate() {
            match r {
                Ok((hash, Source::Extracted(m))) => {
                    data.extend_from_slice(&m.data);
                    content_hashes.push(hash);
                    n_extracted += 1;
                }
                Ok((hash, Source::Cached(slot))) => {
                    // The index was built from the cache, so the slot exists.
                    let m = cached.as_ref().and_then(|c| c.matrix(slot)).ok_or(
                        DataError::IndexOutOfRange {
                            index: slot,
                            len: index.len(),
                        },
                    )?;
                    data.extend_from_slice(m);
                    content_hashes.push(hash);
                    n_from_cache += 1;
                }
                Err(reason) => failures.push((i, reason)),
            }
        }
        let n_failed = failures.len();
        corpus.remove_items(failures);
        if corpus.is_empty() {
            return Err(DataError::NoUsableFiles {
                dir: corpus.root.clone(),
                n_wav_files: corpus.skipped.len(),
                n_skipped: corpus.skipped.len(),
                expected: format!("decodable audio ({})", corpus.kind.pattern()),
            });
        }

        // Rewrite the cache when something was computed or the file was not usable; entries
        // follow the corpus order so that the next load takes the fast path.
        let mut cache_write_error = None;
        let (content_hashes, data) = match &cache_path {
            Some(_) if n_extracted > 0 || cached.is_none() => {
                let packed = PackedFeatures {
                    n_rows,
                    n_frames,
                    keys: content_hashes,
                    data,
                };
                cache_write_error = feature_cache.store(&packed);
                (packed.keys, packed.data)
            }
            _ => (content_hashes, data),
        };
        Ok(Dataset {
            corpus,
            config: config.clone(),
            n_rows,
            n_frames,
            data,
            content_hashes,
            report: BuildReport {
                cache_file: cache_path,
                cache_status,
                n_from_cache,
                n_extracted,
                n_failed,
                cache_write_error,
                elapsed_s: start.elapsed().as_secs_f64(),
            },
        })
    }

    /// The corpus (after moving failed files to its skipped list).
    pub fn corpus(&self) -> &Corpus {
        &self.corpus
    }

    /// The feature configuration.
    pub fn config(&self) -> &FeatureConfig {
        &self.config
    }

    /// Rows per matrix.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Frames per matrix.
    pub fn n_frames(&self) -> usize {
        self.n_frames
    }

    /// Number of utterances.
    pub fn len(&self) -> usize {
        self.corpus.len()
    }

    /// True when there is no utterance (never for a built dataset).
    pub fn is_empty(&self) -> bool {
        self.corpus.is_empty()
    }

    /// What the build did.
    pub fn report(&self) -> &BuildReport {
        &self.report
    }

    /// All matrices, packed utterance after utterance (`len * n_rows * n_frames`, row-major).
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// The `n_rows x n_frames` row-major features of utterance `index`.
    pub fn features(&self, index: usize) -> Result<&[f32], DataError> {
        let m = self.n_rows * self.n_frames;
        self.data
            .get(index * m..(index + 1) * m)
            .ok_or(DataError::IndexOutOfRange {
                index,
                len: self.len(),
            })
    }

    /// Utterance `index` as a [`FeatureMatrix`] (a copy).
    pub fn matrix(&self, index: usize) -> Result<FeatureMatrix, DataError> {
        Ok(FeatureMatrix {
            n_rows: self.n_rows,
            n_frames: self.n_frames,
            data: self.features(index)?.to_vec(),
        })
    }

    /// The emotion of utterance `index`.
    pub fn emotion(&self, index: usize) -> Result<Emotion, DataError> {
        self.corpus
            .items
            .get(index)
            .map(|u| u.emotion)
            .ok_or(DataError::IndexOutOfRange {
                index,
                len: self.len(),
            })
    }

    /// SHA-256 of the audio file of utterance `index`.
    pub fn content_hash(&self, index: usize) -> Option<&Hash32> {
        self.content_hashes.get(index)
    }

    /// The splits of this dataset's corpus under `protocol`.
    pub fn splits(&self, protocol: &Protocol) -> Result<Vec<Split>, DataError> {
        protocol.splits(&self.corpus)
    }

    /// Augmented waveform copies of the **training side** of `split`: for every training
    /// utterance `i` and copy `c < augment.copies`, the features of
    /// [`WaveAugmenter::augment`]`(i, c)`. Cached like the plain features, keyed by the audio
    /// content, the feature config, the waveform augmentation settings, the seed, `i` and `c`;
    /// the cache file accumulates entries across folds.
    pub fn augment_training(
        &self,
        split: &Split,
        augment: &AugmentConfig,
        seed: u64,
        options: &BuildOptions,
    ) -> Result<AugmentedSet, DataError> {
        let start = Instant::now();
        if let Some(&bad) = split.train.iter().find(|&&i| i >= self.len()) {
            return Err(DataError::IndexOutOfRange {
                index: bad,
                len: self.len(),
            });
        }
        let mut out = AugmentedSet {
            fold: split.fold,
            n_rows: self.n_rows,
            n_frames: self.n_frames,
            source: Vec::new(),
            copy: Vec::new(),
            data: Vec::new(),
            failed: Vec::new(),
            report: BuildReport {
                cache_file: None,
                cache_status: "nothing to augment".to_owned(),
                n_from_cache: 0,
                n_extracted: 0,
                n_failed: 0,
                cache_write_error: None,
                elapsed_s: 0.0,
            },
        };
        if !augment.has_waveform() || split.train.is_empty() {
            return Ok(out);
        }
        let augmenter = WaveAugmenter::new(augment, seed)?;
        let extractor = FeatureExtractor::new(&self.config)
            .map_err(|source| DataError::FeatureConfig { source })?;
        // Feature-level settings do not change the waveform copies.
        let wave_only = AugmentConfig {
            spec_augment: None,
            ..augment.clone()
        };
        let cfg_json = config_json("feature config", &self.config)?;
        let augment_json = config_json("augment config", &wave_only)?;
        let feature_cache = FeatureCache::new(
            "augment",
            &[&cfg_json, &augment_json, &seed.to_le_bytes()],
            &self.corpus,
            options,
            self.n_rows,
            self.n_frames,
        );
        let (cached, cache_status) = feature_cache.load();
        let index = slots(cached.as_ref());

        // Each job: (utterance, copy, cache key, babble talkers). Talkers are other speakers
        // of this split's training side, so they differ between folds: their content is part
        // of the key, or one fold's copy would be reused for another.
        let mut jobs = Vec::with_capacity(split.train.len() * augment.copies);
        for &i in &split.train {
            let hash = self.content_hash(i).ok_or(DataError::IndexOutOfRange {
                index: i,
                len: self.len(),
            })?;
            let others: Vec<usize> = if augment.babble.is_some() {
                let speaker = &self.corpus.items[i].speaker;
                split
                    .train
                    .iter()
                    .copied()
                    .filter(|&k| {
                        self.corpus
                            .items
                            .get(k)
                            .is_some_and(|u| u.speaker != *speaker)
                    })
                    .collect()
            } else {
                Vec::new()
            };
            for c in 0..augment.copies {
                let talkers = augmenter.babble_sources(i, c, &others);
                let mut parts: Vec<&[u8]> = Vec::with_capacity(3 + talkers.len());
                let (index_bytes, copy_bytes) =
                    ((i as u64).to_le_bytes(), (c as u64).to_le_bytes());
                parts.extend([hash.as_slice(), &index_bytes, &copy_bytes]);
                for &k in &talkers {
                    let talker = self.content_hash(k).ok_or(DataError::IndexOutOfRange {
                        index: k,
                        len: self.len(),
                    })?;
                    parts.push(talker.as_slice());
                }
                let key = cache::sha256_parts(&parts);
                jobs.push((i, c, key, talkers));
            }
        }
        let (n_rows, n_frames, sr) = (self.n_rows, self.n_frames, self.config.sample_rate_hz);
        let band_hz = self.config.band_hz();
        let results = look_up_or_extract(
            jobs.iter().map(|job| (Ok(job.2), job)).collect(),
            &index,
            &extractor,
            (n_rows, n_frames),
            (&format!("augmenting fold {}", split.fold), options.progress),
            |&&(i, c, key, ref sources)| {
                let path = &self.corpus.items[i].path;
                let (bytes, _) = read_and_hash(path)?;
                let s = decode_at(&bytes, path, &self.config)?;
                let failed = |e: String| SkipReason::FeatureFailed {
                    message: format!("augmentation failed: {e}"),
                };
                // Babble talkers, decoded exactly as the clip itself.
                let talkers = sources
                    .iter()
                    .map(|&k| {
                        let p = &self.corpus.items[k].path;
                        read_and_hash(p).and_then(|(bytes, _)| decode_at(&bytes, p, &self.config))
                    })
                    .collect::<Result<Vec<Vec<f32>>, SkipReason>>()?;
                let talkers: Vec<&[f32]> = talkers.iter().map(Vec::as_slice).collect();
                let y = augmenter
                    .augment_training(i, c, &s, sr, &talkers)
                    .map_err(|e| failed(e.to_string()))?;
                // What augmentation added above the front end's band is removed, as the band
                // limit removes it from every input.
                let y = match band_hz {
                    Some(band) => {
                        ser_audio::band_limit(&y, sr, band).map_err(|e| failed(e.to_string()))?
                    }
                    None => y,
                };
                Ok((key, y))
            },
        );

        // The copies in job order; the new ones are added to the cache file's entries (other
        // folds' copies stay valid).
        let mut new = PackedFeatures {
            n_rows,
            n_frames,
            keys: Vec::new(),
            data: Vec::new(),
        };
        for (&(i, c, _, _), r) in jobs.iter().zip(results) {
            match r {
                Ok((key, Source::Extracted(m))) => {
                    new.keys.push(key);
                    new.data.extend_from_slice(&m.data);
                    out.data.extend_from_slice(&m.data);
                }
                Ok((_, Source::Cached(slot))) => {
                    let Some(m) = cached.as_ref().and_then(|p| p.matrix(slot)) else {
                        continue;
                    };
                    out.data.extend_from_slice(m);
                }
                Err(reason) => {
                    out.failed.push((i, c, reason));
                    continue;
                }
            }
            out.source.push(i);
            out.copy.push(c);
        }
        let n_extracted = new.keys.len();

        let mut cache_write_error = None;
        if feature_cache.path.is_some() && (n_extracted > 0 || cached.is_none()) {
            let mut packed = cached.unwrap_or(PackedFeatures {
                n_rows,
                n_frames,
                keys: Vec::new(),
                data: Vec::new(),
            });
            packed.keys.extend(new.keys);
            packed.data.extend(new.data);
            cache_write_error = feature_cache.store(&packed);
        }
        out.report = BuildReport {
            cache_file: feature_cache.path,
            cache_status,
            n_from_cache: out.len() - n_extracted,
            n_extracted,
            n_failed: out.failed.len(),
            cache_write_error,
            elapsed_s: start.elapsed().as_secs_f64(),
        };
        Ok(out)
    }
}

/// Augmented copies of a split's training utterances, with their sources.
#[derive(Debug, Clone)]
pub struct AugmentedSet {
    /// The fold of the split they were made for.
    pub fold: usize,
    /// Rows per matrix.
    pub n_rows: usize,
    /// Frames per matrix.
    pub n_frames: usize,
    /// For each copy, the training utterance it was made from (an index into the corpus;
    /// its label is that utterance's emotion).
    pub source: Vec<usize>,
    /// For each copy, its copy index.
    pub copy: Vec<usize>,
    /// The matrices, packed copy after copy.
    pub data: Vec<f32>,
    /// Copies that failed: (utterance, copy, reason).
    pub failed: Vec<(usize, usize, SkipReason)>,
    /// What the build did.
    pub report: BuildReport,
}

impl AugmentedSet {
    /// Number of copies.
    pub fn len(&self) -> usize {
        self.source.len()
    }

    /// True when there is no copy.
    pub fn is_empty(&self) -> bool {
        self.source.is_empty()
    }

    /// The features of copy `k`.
    pub fn features(&self, k: usize) -> Option<&[f32]> {
        let m = self.n_rows * self.n_frames;
        self.data.get(k * m..(k + 1) * m)
    }
}
