//! Corpora: scanning a folder, parsing file names into typed ids, mapping labels onto
//! [`Emotion`], and listing every file that was left out with its reason.

pub mod emodb;
pub mod ravdess;
pub mod tess;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::emotion::{Emotion, Gender};
use crate::error::DataError;
pub use emodb::{EmoDbId, EmoDbLabel};
pub use ravdess::{Intensity, Modality, RavdessId, Statement, VocalChannel};
pub use tess::{TessId, TessSpeaker};

/// Deepest folder nesting the scanner descends into (a bound on real nesting; symlink cycles
/// are cut by visiting each canonical folder once).
const MAX_SCAN_DEPTH: usize = 32;

/// Why a file name does not match a corpus's naming pattern.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    /// Wrong number of `-`-separated fields (RAVDESS).
    #[error("expected {expected} dash-separated fields, found {found}")]
    FieldCount {
        /// Fields expected.
        expected: usize,
        /// Fields found.
        found: usize,
    },
    /// A field with an invalid value.
    #[error("{field} field is `{value}`, expected {expected}")]
    BadField {
        /// Field name.
        field: &'static str,
        /// The value found.
        value: String,
        /// What was expected.
        expected: String,
    },
    /// The name does not have the pattern's shape at all.
    #[error("does not match {pattern}")]
    Pattern {
        /// The expected pattern.
        pattern: &'static str,
    },
}

/// Extensions of the audio files a corpus scan lists (any case): corpora are published as
/// WAV, and copies of them as FLAC (the shared TESS), AIFF, MP3 or Ogg.
pub const AUDIO_EXTENSIONS: [&str; 7] = ["wav", "flac", "aiff", "aif", "mp3", "ogg", "oga"];

/// Whether `path` ends in one of [`AUDIO_EXTENSIONS`].
fn is_audio(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.iter().any(|a| e.eq_ignore_ascii_case(a)))
}

/// Removes a trailing audio extension (`.wav`, `.flac`, ...; any case) from a file name.
fn strip_wav(name: &str) -> &str {
    match name.rsplit_once('.') {
        Some((stem, ext)) if AUDIO_EXTENSIONS.iter().any(|a| ext.eq_ignore_ascii_case(a)) => stem,
        _ => name,
    }
}

/// The corpus a file (or a whole [`Corpus`]) comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CorpusKind {
    /// RAVDESS speech (and optionally song), 24 actors.
    Ravdess,
    /// Berlin Database of Emotional Speech, 10 speakers.
    #[serde(rename = "emodb")]
    EmoDb,
    /// Toronto Emotional Speech Set, 2 speakers.
    Tess,
    /// Several corpora in one (only from [`Corpus::combine`], for cross-corpus protocols).
    Mixed,
}

impl CorpusKind {
    /// The corpora that can be read from a folder.
    pub const READABLE: [CorpusKind; 3] =
        [CorpusKind::Ravdess, CorpusKind::EmoDb, CorpusKind::Tess];

    /// Lowercase name (`ravdess`, `emodb`, `tess`, `mixed`).
    pub fn name(self) -> &'static str {
        match self {
            CorpusKind::Ravdess => "ravdess",
            CorpusKind::EmoDb => "emodb",
            CorpusKind::Tess => "tess",
            CorpusKind::Mixed => "mixed",
        }
    }

    /// The file naming pattern, for messages.
    pub fn pattern(self) -> &'static str {
        match self {
            CorpusKind::Ravdess => ravdess::PATTERN,
            CorpusKind::EmoDb => emodb::PATTERN,
            CorpusKind::Tess => tess::PATTERN,
            CorpusKind::Mixed => "several corpora combined with Corpus::combine",
        }
    }

    /// Detects the corpus kind of a folder by parsing the names of its `.wav` files
    /// (recursively) with every pattern and taking the pattern most names match.
    pub fn detect(dir: &Path) -> Result<CorpusKind, DataError> {
        let files = scan_wav_files(dir)?;
        detect_from_files(dir, &files)
    }
}

impl fmt::Display for CorpusKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for CorpusKind {
    type Err = DataError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ravdess" => Ok(CorpusKind::Ravdess),
            "emodb" | "emo-db" | "berlin" => Ok(CorpusKind::EmoDb),
            "tess" => Ok(CorpusKind::Tess),
            "mixed" => Ok(CorpusKind::Mixed),
            _ => Err(DataError::UnknownCorpusKind { name: s.to_owned() }),
        }
    }
}

/// A speaker, namespaced by corpus: `ravdess:01`, `emodb:03`, `tess:OAF`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SpeakerId(String);

impl SpeakerId {
    /// `<corpus>:<local id>`.
    pub fn new(corpus: CorpusKind, local: &str) -> SpeakerId {
        SpeakerId(format!("{}:{local}", corpus.name()))
    }

    /// A RAVDESS actor, `ravdess:NN`.
    pub fn ravdess(actor: u8) -> SpeakerId {
        SpeakerId::new(CorpusKind::Ravdess, &format!("{actor:02}"))
    }

    /// The full id string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SpeakerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

/// The typed name of an utterance, per corpus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UtteranceMeta {
    /// A RAVDESS file.
    Ravdess(RavdessId),
    /// An EmoDB file.
    #[serde(rename = "emodb")]
    EmoDb(EmoDbId),
    /// A TESS file.
    Tess(TessId),
}

/// One usable audio file with its labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Utterance {
    /// Path of the audio file.
    pub path: PathBuf,
    /// Corpus of origin.
    pub corpus: CorpusKind,
    /// Speaker, namespaced by corpus.
    pub speaker: SpeakerId,
    /// Speaker gender.
    pub gender: Gender,
    /// Label in the shared label space.
    pub emotion: Emotion,
    /// The parsed file name.
    pub meta: UtteranceMeta,
}

/// Why a file was left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum SkipReason {
    /// The name does not match the corpus's pattern.
    BadName {
        /// The parse error.
        message: String,
    },
    /// The label has no counterpart in the shared label space (EmoDB boredom).
    NoMatchingEmotion {
        /// The corpus's label.
        label: String,
    },
    /// A RAVDESS song file (vocal channel 02), skipped unless asked for.
    Song,
    /// The file name and its folder disagree (e.g. TESS `OAF_Fear/OAF_back_sad.wav`).
    FolderConflict {
        /// The field concerned.
        field: String,
        /// The value in the file name.
        file_value: String,
        /// The value in the folder name.
        folder_value: String,
    },
    /// The file does not start with the header of an audio container (RIFF/WAVE, FLAC, ...).
    NotWav {
        /// What was found.
        detail: String,
    },
    /// A second file with the same name as an earlier one (names identify recordings in every
    /// supported corpus; some downloads ship the corpus twice in nested folders).
    Duplicate {
        /// The file that was kept.
        first: PathBuf,
    },
    /// The file could not be read.
    Unreadable {
        /// The I/O error.
        message: String,
    },
    /// The decoder rejected the file.
    DecodeFailed {
        /// The decoder's error.
        message: String,
    },
    /// Feature extraction failed.
    FeatureFailed {
        /// The extractor's error.
        message: String,
    },
}

impl SkipReason {
    /// A short category, for counting reasons in a summary.
    pub fn category(&self) -> &'static str {
        match self {
            SkipReason::BadName { .. } => "file name does not match the pattern",
            SkipReason::NoMatchingEmotion { .. } => "label with no matching emotion",
            SkipReason::Song => "song file (vocal channel 02)",
            SkipReason::FolderConflict { .. } => "file name and folder disagree",
            SkipReason::NotWav { .. } => "not an audio file",
            SkipReason::Duplicate { .. } => "duplicate file name",
            SkipReason::Unreadable { .. } => "unreadable",
            SkipReason::DecodeFailed { .. } => "decode failed",
            SkipReason::FeatureFailed { .. } => "feature extraction failed",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::BadName { message } => write!(f, "bad file name: {message}"),
            SkipReason::NoMatchingEmotion { label } => {
                write!(f, "label `{label}` has no matching emotion")
            }
            SkipReason::Song => write!(f, "song file (vocal channel 02)"),
            SkipReason::FolderConflict {
                field,
                file_value,
                folder_value,
            } => write!(
                f,
                "{field} `{file_value}` in the file name, `{folder_value}` in the folder name"
            ),
            SkipReason::NotWav { detail } => write!(
                f,
                "not an audio file (WAV, FLAC, AIFF, Ogg or MP3): {detail}"
            ),
            SkipReason::Duplicate { first } => {
                write!(f, "same file name as {} (kept)", first.display())
            }
            SkipReason::Unreadable { message } => write!(f, "unreadable: {message}"),
            SkipReason::DecodeFailed { message } => write!(f, "decode failed: {message}"),
            SkipReason::FeatureFailed { message } => {
                write!(f, "feature extraction failed: {message}")
            }
        }
    }
}

/// A file that was left out, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// Why it was left out.
    pub reason: SkipReason,
}

/// How to read a corpus folder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorpusOptions {
    /// The corpus kind; `None` detects it from the file names.
    pub kind: Option<CorpusKind>,
    /// Keep RAVDESS song files (vocal channel 02); off by default.
    pub include_song: bool,
}

/// A corpus: its usable utterances (in sorted path order) and every file left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Corpus {
    /// The corpus kind ([`CorpusKind::Mixed`] for combined corpora).
    pub kind: CorpusKind,
    /// The folder it was read from (for combined corpora, the first one).
    pub root: PathBuf,
    /// Usable utterances, sorted by path. Indices into this list are the utterance indices used
    /// by splits, augmentation and the feature store.
    pub items: Vec<Utterance>,
    /// Files left out, sorted by path.
    pub skipped: Vec<Skipped>,
}

impl Corpus {
    /// Reads a corpus folder: scans it recursively for `.wav` files (sorted paths), detects the
    /// kind unless given, parses every name, and sorts files into items and skipped files.
    ///
    /// For EmoDB, a `wav/` subfolder is used when present. A folder with no usable file is an
    /// error naming the expected patterns.
    pub fn load(dir: &Path, options: &CorpusOptions) -> Result<Corpus, DataError> {
        let mut files = scan_wav_files(dir)?;
        let kind = match options.kind {
            Some(CorpusKind::Mixed) => {
                return Err(DataError::UnknownCorpusKind {
                    name: "mixed (only from Corpus::combine)".to_owned(),
                });
            }
            Some(kind) => kind,
            None => detect_from_files(dir, &files)?,
        };
        let mut root = dir.to_path_buf();
        if kind == CorpusKind::EmoDb {
            let wav_dir = dir.join("wav");
            if wav_dir.is_dir() {
                files.retain(|f| f.starts_with(&wav_dir));
                root = wav_dir;
            }
        }
        let n_wav_files = files.len();
        let mut items: Vec<Utterance> = Vec::new();
        let mut skipped = Vec::new();
        let mut by_name: HashMap<String, PathBuf> = HashMap::new();
        for path in files {
            let name = file_name(&path).to_ascii_lowercase();
            if let Some(first) = by_name.get(&name) {
                let reason = SkipReason::Duplicate {
                    first: first.clone(),
                };
                skipped.push(Skipped { path, reason });
                continue;
            }
            match classify(kind, &path, options.include_song) {
                Ok(u) => {
                    by_name.insert(name, path);
                    items.push(u);
                }
                Err(reason) => skipped.push(Skipped { path, reason }),
            }
        }
        if items.is_empty() {
            return Err(DataError::NoUsableFiles {
                dir: dir.to_path_buf(),
                n_wav_files,
                n_skipped: skipped.len(),
                expected: kind.pattern().to_owned(),
            });
        }
        Ok(Corpus {
            kind,
            root,
            items,
            skipped,
        })
    }

    /// Combines corpora of different kinds into one [`CorpusKind::Mixed`] corpus (for
    /// [`Protocol::CrossCorpus`](crate::Protocol::CrossCorpus)). Items keep their corpus of
    /// origin; speakers are namespaced so they never collide.
    pub fn combine(corpora: Vec<Corpus>) -> Result<Corpus, DataError> {
        if corpora.len() < 2 {
            return Err(DataError::Combine {
                reason: format!("need at least 2 corpora, got {}", corpora.len()),
            });
        }
        let mut seen = Vec::new();
        for c in &corpora {
            if c.kind == CorpusKind::Mixed || seen.contains(&c.kind) {
                return Err(DataError::Combine {
                    reason: format!("corpus kind {} given twice or already mixed", c.kind),
                });
            }
            seen.push(c.kind);
        }
        let root = corpora.first().map(|c| c.root.clone()).unwrap_or_default();
        let mut items = Vec::new();
        let mut skipped = Vec::new();
        for c in corpora {
            items.extend(c.items);
            skipped.extend(c.skipped);
        }
        Ok(Corpus {
            kind: CorpusKind::Mixed,
            root,
            items,
            skipped,
        })
    }

    /// Number of usable utterances.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when there is no usable utterance (never for a loaded corpus).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The distinct speakers with their genders, sorted by id.
    pub fn speakers(&self) -> Vec<(SpeakerId, Gender)> {
        let map: BTreeMap<&SpeakerId, Gender> =
            self.items.iter().map(|u| (&u.speaker, u.gender)).collect();
        map.into_iter().map(|(s, g)| (s.clone(), g)).collect()
    }

    /// The corpora its utterances come from, in [`CorpusKind`] order (one for a corpus read
    /// from one folder).
    pub fn corpus_kinds(&self) -> Vec<CorpusKind> {
        let kinds: std::collections::BTreeSet<CorpusKind> =
            self.items.iter().map(|u| u.corpus).collect();
        kinds.into_iter().collect()
    }

    /// The emotions present, in class order.
    pub fn emotions(&self) -> Vec<Emotion> {
        Emotion::ALL
            .into_iter()
            .filter(|e| self.items.iter().any(|u| u.emotion == *e))
            .collect()
    }

    /// Moves the utterances at `indices` (with their reasons) to the skipped list, e.g. after a
    /// decode failure. Returns the old index of every remaining item, in order.
    pub(crate) fn remove_items(&mut self, mut removed: Vec<(usize, SkipReason)>) -> Vec<usize> {
        removed.sort_by_key(|(i, _)| *i);
        let mut kept_old_indices = Vec::with_capacity(self.items.len());
        let mut next_removed = removed.into_iter().peekable();
        let items = std::mem::take(&mut self.items);
        for (i, item) in items.into_iter().enumerate() {
            if next_removed.peek().is_some_and(|(r, _)| *r == i) {
                if let Some((_, reason)) = next_removed.next() {
                    self.skipped.push(Skipped {
                        path: item.path,
                        reason,
                    });
                }
                // Drop duplicate indices, if any.
                while next_removed.peek().is_some_and(|(r, _)| *r == i) {
                    next_removed.next();
                }
            } else {
                kept_old_indices.push(i);
                self.items.push(item);
            }
        }
        self.skipped.sort_by(|a, b| a.path.cmp(&b.path));
        kept_old_indices
    }
}

/// Recursively lists the audio files ([`AUDIO_EXTENSIONS`], any case) under `dir`, sorted.
///
/// Symbolic links are followed, but each folder is listed once (by its canonical path), so a
/// link loop (`sub/up -> ..`, `self -> .`) neither hangs the scan nor lists a file twice.
/// Only regular files are listed (a FIFO named `x.wav` would block the decoder); a link
/// that cannot be resolved but is named `.wav` is listed, so decoding reports why.
pub fn scan_wav_files(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    if !dir.is_dir() {
        return Err(DataError::NotADirectory {
            path: dir.to_path_buf(),
        });
    }
    let mut out = Vec::new();
    let mut visited = std::collections::HashSet::new();
    scan_into(dir, 0, &mut visited, &mut out)?;
    out.sort();
    Ok(out)
}

fn scan_into(
    dir: &Path,
    depth: usize,
    visited: &mut std::collections::HashSet<PathBuf>,
    out: &mut Vec<PathBuf>,
) -> Result<(), DataError> {
    if depth > MAX_SCAN_DEPTH {
        return Ok(());
    }
    let canonical = dir.canonicalize().map_err(|e| DataError::io(dir, e))?;
    if !visited.insert(canonical) {
        // Listed already: a link back to an ancestor, or a second way to the same folder.
        return Ok(());
    }
    let entries = fs::read_dir(dir).map_err(|e| DataError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| DataError::io(dir, e))?;
        let path = entry.path();
        let is_wav = is_audio(&path);
        match fs::metadata(&path) {
            Ok(m) if m.is_dir() => scan_into(&path, depth + 1, visited, out)?,
            Ok(m) if m.is_file() && is_wav => out.push(path),
            Ok(_) => {}
            Err(_) if is_wav => out.push(path),
            Err(_) => {}
        }
    }
    Ok(())
}

fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

fn parent_name(path: &Path) -> &str {
    path.parent().map(file_name).unwrap_or("")
}

fn detect_from_files(dir: &Path, files: &[PathBuf]) -> Result<CorpusKind, DataError> {
    let votes: Vec<(CorpusKind, usize)> = CorpusKind::READABLE
        .into_iter()
        .map(|kind| {
            let n = files
                .iter()
                .filter(|p| parse_name(kind, file_name(p)).is_ok())
                .count();
            (kind, n)
        })
        .collect();
    let best = votes.iter().map(|&(_, n)| n).max().unwrap_or(0);
    if best == 0 {
        let expected = CorpusKind::READABLE
            .iter()
            .map(|k| k.pattern())
            .collect::<Vec<_>>()
            .join("; or ");
        return Err(DataError::NoUsableFiles {
            dir: dir.to_path_buf(),
            n_wav_files: files.len(),
            n_skipped: files.len(),
            expected,
        });
    }
    let winners: Vec<CorpusKind> = votes
        .iter()
        .filter(|&&(_, n)| n == best)
        .map(|&(k, _)| k)
        .collect();
    match winners.as_slice() {
        [kind] => Ok(*kind),
        _ => Err(DataError::AmbiguousCorpus {
            dir: dir.to_path_buf(),
            votes: votes
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// A name parsed by one corpus's pattern.
enum Parsed {
    Ravdess(RavdessId),
    EmoDb(EmoDbId),
    Tess(TessId),
}

fn parse_name(kind: CorpusKind, name: &str) -> Result<Parsed, NameError> {
    match kind {
        CorpusKind::Ravdess => RavdessId::parse_file_name(name).map(Parsed::Ravdess),
        CorpusKind::EmoDb => EmoDbId::parse_file_name(name).map(Parsed::EmoDb),
        CorpusKind::Tess => TessId::parse_file_name(name).map(Parsed::Tess),
        CorpusKind::Mixed => Err(NameError::Pattern {
            pattern: "a single corpus kind",
        }),
    }
}

/// Checks the first bytes for a RIFF/RF64/RIFX ... WAVE header or another container that
/// `ser-audio` decodes (FLAC, AIFF, Ogg, MP3).
fn sniff_wav(path: &Path) -> Result<(), SkipReason> {
    let mut header = [0u8; 64];
    let mut file = fs::File::open(path).map_err(|e| SkipReason::Unreadable {
        message: e.to_string(),
    })?;
    let mut n = 0;
    while n < header.len() {
        match file.read(&mut header[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(SkipReason::Unreadable {
                    message: e.to_string(),
                });
            }
        }
    }
    let riff = n >= 12 && matches!(&header[..4], b"RIFF" | b"RF64" | b"RIFX");
    if (riff && &header[8..12] == b"WAVE") || ser_audio::is_decodable_header(&header[..n]) {
        Ok(())
    } else {
        Err(SkipReason::NotWav {
            detail: format!(
                "{n} header bytes, starts with {:?}",
                String::from_utf8_lossy(&header[..n.min(4)])
            ),
        })
    }
}

/// Turns one file into an utterance, or says why it is skipped.
fn classify(kind: CorpusKind, path: &Path, include_song: bool) -> Result<Utterance, SkipReason> {
    let parsed = parse_name(kind, file_name(path)).map_err(|e| SkipReason::BadName {
        message: e.to_string(),
    })?;
    let (speaker, gender, emotion, meta) = match parsed {
        Parsed::Ravdess(id) => {
            if id.vocal_channel == VocalChannel::Song && !include_song {
                return Err(SkipReason::Song);
            }
            // `Actor_NN` folders must agree with the actor field.
            if let Some(folder_actor) = parent_name(path).strip_prefix("Actor_")
                && folder_actor.parse::<u8>().ok() != Some(id.actor)
            {
                return Err(SkipReason::FolderConflict {
                    field: "actor".to_owned(),
                    file_value: format!("{:02}", id.actor),
                    folder_value: folder_actor.to_owned(),
                });
            }
            (
                SpeakerId::ravdess(id.actor),
                id.gender(),
                id.emotion,
                UtteranceMeta::Ravdess(id),
            )
        }
        Parsed::EmoDb(id) => {
            let emotion = id
                .label
                .emotion()
                .ok_or_else(|| SkipReason::NoMatchingEmotion {
                    label: id.label.name().to_owned(),
                })?;
            let speaker = SpeakerId::new(CorpusKind::EmoDb, &format!("{:02}", id.speaker));
            (speaker, id.gender, emotion, UtteranceMeta::EmoDb(id))
        }
        Parsed::Tess(id) => {
            // `OAF_Fear/` folders must agree with the emotion in the file name.
            if let Some((_, folder_emotion)) = tess::parse_folder_name(parent_name(path))
                && folder_emotion != id.emotion
            {
                return Err(SkipReason::FolderConflict {
                    field: "emotion".to_owned(),
                    file_value: id.emotion.to_string(),
                    folder_value: folder_emotion.to_string(),
                });
            }
            let speaker = SpeakerId::new(CorpusKind::Tess, id.speaker.code());
            (speaker, Gender::Female, id.emotion, UtteranceMeta::Tess(id))
        }
    };
    sniff_wav(path)?;
    Ok(Utterance {
        path: path.to_path_buf(),
        corpus: kind,
        speaker,
        gender,
        emotion,
        meta,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_wav_any_case() {
        assert_eq!(strip_wav("a.wav"), "a");
        assert_eq!(strip_wav("a.WAV"), "a");
        assert_eq!(strip_wav("a.flac"), "a");
        assert_eq!(strip_wav("a.txt"), "a.txt");
        assert_eq!(strip_wav("é"), "é");
    }

    #[test]
    fn corpus_kind_round_trips() {
        for k in CorpusKind::READABLE {
            assert_eq!(k.name().parse::<CorpusKind>().expect("parse"), k);
            let json = serde_json::to_string(&k).expect("json");
            assert_eq!(json, format!("\"{}\"", k.name()));
        }
        assert!("timit".parse::<CorpusKind>().is_err());
    }

    #[test]
    fn speaker_ids_are_namespaced() {
        assert_eq!(SpeakerId::ravdess(1).as_str(), "ravdess:01");
        assert_eq!(SpeakerId::new(CorpusKind::Tess, "OAF").as_str(), "tess:OAF");
    }
}
