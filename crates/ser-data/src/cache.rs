//! The on-disk feature cache: one packed binary file per (corpus, feature config), entries
//! keyed by a SHA-256 of the audio file's **content**.
//!
//! # Why one packed file
//! RAVDESS is 1440 matrices of 174 x 128 f32 (128 MB). One file is one `open` and one
//! sequential read (about 0.1 s from the page cache, checksum included) instead of 1440 opens,
//! and it is written once, atomically. An entry whose audio changed is simply not found and is
//! recomputed; the file is then rewritten.
//!
//! # Why SHA-256
//! `sha2` uses the SHA-NI instructions where the CPU has them (about 1.5 GB/s), so hashing all
//! of RAVDESS at 16 kHz (167 MB) costs about 0.1 s; it is already a workspace dependency, and a
//! cryptographic hash rules out accidental collisions without a second thought.
//!
//! # Layout (little-endian)
//! ```text
//! offset  size        field
//! 0       8           magic "SERFEAT\0"
//! 8       4           format version (FORMAT_VERSION)
//! 12      4           n_rows
//! 16      4           n_frames
//! 20      4           reserved (0)
//! 24      8           n_entries
//! 32      32          config hash: SHA-256(format version, kind tag, ser_features::NUMERICS_VERSION, configuration JSON)
//! 64      32 * n      entry keys (SHA-256 of the audio content, or of an augmentation key)
//! ...     4 * n*r*f   features, entry after entry, row-major f32
//! end-32  32          SHA-256 of everything before
//! ```
//! A file with the wrong magic, version, config hash, length or checksum is not trusted: it is
//! reported as a miss with the reason and rebuilt. Writes go to a temporary file in the same
//! folder, then are renamed over the old one.

use std::fs;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::DataError;

/// Version of the file layout and of what is cached; bump it to invalidate every cache.
pub const FORMAT_VERSION: u32 = 1;

const MAGIC: [u8; 8] = *b"SERFEAT\0";
/// Bytes of the fixed header.
const HEADER_BYTES: usize = 64;
/// Bytes of one key, of the config hash and of the trailing checksum.
const HASH_BYTES: usize = 32;
const F32_BYTES: usize = 4;

/// A SHA-256 digest: content hash, entry key or config hash.
pub type Hash32 = [u8; HASH_BYTES];

/// SHA-256 of a byte slice.
pub fn sha256(bytes: &[u8]) -> Hash32 {
    Sha256::digest(bytes).into()
}

/// SHA-256 over several parts, each prefixed by its length (so part boundaries matter).
pub fn sha256_parts(parts: &[&[u8]]) -> Hash32 {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

/// Lowercase hex of the first `n_bytes` bytes of a hash.
pub fn hex_prefix(hash: &Hash32, n_bytes: usize) -> String {
    hash.iter()
        .take(n_bytes)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Feature matrices of one shape, with their keys.
#[derive(Debug, Clone, PartialEq)]
pub struct PackedFeatures {
    /// Rows per matrix.
    pub n_rows: usize,
    /// Frames per matrix.
    pub n_frames: usize,
    /// One key per matrix.
    pub keys: Vec<Hash32>,
    /// `keys.len() * n_rows * n_frames` values.
    pub data: Vec<f32>,
}

impl PackedFeatures {
    /// Values per matrix.
    pub fn matrix_len(&self) -> usize {
        self.n_rows * self.n_frames
    }

    /// Matrix `i`.
    pub fn matrix(&self, i: usize) -> Option<&[f32]> {
        let m = self.matrix_len();
        self.data.get(i * m..(i + 1) * m)
    }
}

/// What reading a cache file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheRead {
    /// No file yet.
    Missing,
    /// A file that cannot be trusted (the reason says why); it will be rebuilt.
    Invalid {
        /// What is wrong.
        reason: String,
    },
}

impl std::fmt::Display for CacheRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CacheRead::Missing => write!(f, "no cache file"),
            CacheRead::Invalid { reason } => write!(f, "cache file not trusted: {reason}"),
        }
    }
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

fn read_u64(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}

/// Bytes read (and hashed, and converted) per step when streaming the feature block.
const READ_CHUNK_BYTES: usize = 1 << 20;

/// Reads and verifies a cache file written for `config_hash` with matrices of
/// `n_rows x n_frames`.
///
/// The file is streamed in 1 MiB chunks, each hashed and converted into the output, so the
/// features are read once and never held twice in memory. The length is checked against the
/// header before anything is read, and the checksum at the end; nothing is returned from a
/// file that fails either.
pub fn read_packed(
    path: &Path,
    config_hash: &Hash32,
    n_rows: usize,
    n_frames: usize,
) -> Result<PackedFeatures, CacheRead> {
    let invalid = |reason: String| CacheRead::Invalid { reason };
    let io = |e: std::io::Error| CacheRead::Invalid {
        reason: format!("cannot read {}: {e}", path.display()),
    };
    let mut file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(CacheRead::Missing),
        Err(e) => return Err(io(e)),
    };
    let file_len = file.metadata().map_err(io)?.len();
    let min_len = (HEADER_BYTES + HASH_BYTES) as u64;
    if file_len < min_len {
        return Err(invalid(format!(
            "{file_len} bytes, shorter than the {min_len}-byte header and checksum"
        )));
    }
    let mut header = [0u8; HEADER_BYTES];
    file.read_exact(&mut header).map_err(io)?;
    if header[..MAGIC.len()] != MAGIC {
        return Err(invalid("bad magic".to_owned()));
    }
    let version = read_u32(&header, 8);
    if version != FORMAT_VERSION {
        return Err(invalid(format!(
            "format version {version}, expected {FORMAT_VERSION}"
        )));
    }
    let (rows, frames) = (
        read_u32(&header, 12) as usize,
        read_u32(&header, 16) as usize,
    );
    if (rows, frames) != (n_rows, n_frames) {
        return Err(invalid(format!(
            "shape {rows} x {frames}, expected {n_rows} x {n_frames}"
        )));
    }
    if header[32..HEADER_BYTES] != config_hash[..] {
        return Err(invalid("written for another configuration".to_owned()));
    }
    let n_entries = usize::try_from(read_u64(&header, 24)).unwrap_or(usize::MAX);
    let matrix_bytes = n_rows * n_frames * F32_BYTES;
    let expected_len = n_entries
        .checked_mul(HASH_BYTES + matrix_bytes)
        .and_then(|b| b.checked_add(HEADER_BYTES + HASH_BYTES));
    if expected_len.map(|l| l as u64) != Some(file_len) {
        return Err(invalid(format!(
            "{file_len} bytes, expected {} for {n_entries} entries (truncated or partial write)",
            expected_len.map_or_else(|| "overflow".to_owned(), |l| l.to_string())
        )));
    }
    let mut hasher = Sha256::new();
    hasher.update(header);
    let mut key_bytes = vec![0u8; n_entries * HASH_BYTES];
    file.read_exact(&mut key_bytes).map_err(io)?;
    hasher.update(&key_bytes);
    let keys = key_bytes
        .chunks_exact(HASH_BYTES)
        .map(|c| {
            let mut k = [0u8; HASH_BYTES];
            k.copy_from_slice(c);
            k
        })
        .collect();
    let mut remaining = n_entries * matrix_bytes;
    let mut data = Vec::with_capacity(remaining / F32_BYTES);
    let mut chunk = vec![0u8; READ_CHUNK_BYTES.min(remaining)];
    while remaining > 0 {
        let n = READ_CHUNK_BYTES.min(remaining);
        let buf = &mut chunk[..n];
        file.read_exact(buf).map_err(io)?;
        hasher.update(&*buf);
        data.extend(
            buf.chunks_exact(F32_BYTES)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        );
        remaining -= n;
    }
    let mut checksum = [0u8; HASH_BYTES];
    file.read_exact(&mut checksum).map_err(io)?;
    let computed: Hash32 = hasher.finalize().into();
    if computed != checksum {
        return Err(invalid("checksum mismatch".to_owned()));
    }
    Ok(PackedFeatures {
        n_rows,
        n_frames,
        keys,
        data,
    })
}

/// Prefix of the temporary files of [`write_packed`]: `.ser-cache-tmp-<pid>-<n>`.
const TEMP_PREFIX: &str = ".ser-cache-tmp-";

/// Age after which a temporary file is removed when the liveness of its writer cannot be
/// checked (no `/proc`), and after which nameless ones of older versions are removed.
const STALE_TEMP_AGE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Removes temporary files in `dir` left by writes whose process is gone (best effort).
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let old = |entry: &fs::DirEntry| {
        entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_TEMP_AGE)
    };
    let have_proc = Path::new("/proc/self").exists();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let stale = match name.strip_prefix(TEMP_PREFIX) {
            Some(rest) => match rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) {
                Some(pid) if pid == std::process::id() => false,
                Some(pid) if have_proc => !Path::new("/proc").join(pid.to_string()).exists(),
                _ => old(&entry),
            },
            // tempfile's default names, written by versions before the pid prefix.
            None => name.starts_with(".tmp") && old(&entry),
        };
        if stale {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Writes a cache file atomically (temporary file in the same folder, then rename).
pub fn write_packed(
    path: &Path,
    config_hash: &Hash32,
    packed: &PackedFeatures,
) -> Result<(), DataError> {
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    ensure_cache_dir(&dir)?;
    let expected = packed.keys.len() * packed.matrix_len();
    if packed.data.len() != expected {
        return Err(DataError::ShapeMismatch {
            expected_rows: packed.n_rows,
            expected_frames: packed.n_frames,
            expected_len: expected,
            found_len: packed.data.len(),
        });
    }
    let too_big = |found_len: usize| DataError::ShapeMismatch {
        expected_rows: packed.n_rows,
        expected_frames: packed.n_frames,
        expected_len: u32::MAX as usize,
        found_len,
    };
    let rows = u32::try_from(packed.n_rows).map_err(|_| too_big(packed.n_rows))?;
    let frames = u32::try_from(packed.n_frames).map_err(|_| too_big(packed.n_frames))?;
    // A write killed with `kill -9` leaves its temporary file behind; the next write removes
    // those of processes that are gone, so they cannot accumulate.
    remove_stale_temporaries(&dir);
    let mut tmp = ser_stdx::fs::AtomicFile::with_prefix(
        path,
        &format!("{TEMP_PREFIX}{}-", std::process::id()),
    )
    .map_err(|e| DataError::io(&dir, e))?;
    let tmp_path = tmp.temp_path().to_path_buf();
    let io_err = |e: std::io::Error| DataError::io(&tmp_path, e);
    let mut hasher = Sha256::new();
    {
        let mut w = HashingWriter {
            inner: BufWriter::with_capacity(1 << 20, &mut tmp),
            hasher: &mut hasher,
        };
        let mut header = Vec::with_capacity(HEADER_BYTES);
        header.extend_from_slice(&MAGIC);
        header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        header.extend_from_slice(&rows.to_le_bytes());
        header.extend_from_slice(&frames.to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes());
        header.extend_from_slice(&(packed.keys.len() as u64).to_le_bytes());
        header.extend_from_slice(config_hash);
        w.write_all(&header).map_err(io_err)?;
        for k in &packed.keys {
            w.write_all(k).map_err(io_err)?;
        }
        let mut buf = Vec::with_capacity(1 << 16);
        for chunk in packed.data.chunks(1 << 14) {
            buf.clear();
            buf.extend(chunk.iter().flat_map(|x| x.to_le_bytes()));
            w.write_all(&buf).map_err(io_err)?;
        }
        w.inner.flush().map_err(io_err)?;
    }
    let checksum: Hash32 = hasher.finalize().into();
    tmp.write_all(&checksum).map_err(io_err)?;
    tmp.commit().map_err(|e| DataError::io(path, e))
}

/// Creates the cache folder, with a `CACHEDIR.TAG` and a `.gitignore` (`*`) so that backups
/// and git leave it alone.
pub fn ensure_cache_dir(dir: &Path) -> Result<(), DataError> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    let tag = "Signature: 8a477f597d28d172789f06886806bc55\n# ser feature cache; safe to delete.\n";
    fs::write(dir.join("CACHEDIR.TAG"), tag).map_err(|e| DataError::io(dir, e))?;
    fs::write(dir.join(".gitignore"), "*\n").map_err(|e| DataError::io(dir, e))?;
    Ok(())
}

/// A writer that hashes what it writes.
struct HashingWriter<'a, W: Write> {
    inner: W,
    hasher: &'a mut Sha256,
}

impl<W: Write> Write for HashingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> PackedFeatures {
        PackedFeatures {
            n_rows: 3,
            n_frames: 4,
            keys: vec![sha256(b"a"), sha256(b"b")],
            data: (0..24).map(|i| i as f32 * 0.5 - 3.0).collect(),
        }
    }

    #[test]
    fn round_trip_and_corruption_detection() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("cache").join("x.bin");
        let cfg = sha256(b"config");
        assert_eq!(read_packed(&path, &cfg, 3, 4), Err(CacheRead::Missing));
        let packed = sample();
        write_packed(&path, &cfg, &packed).expect("write");
        assert!(dir.path().join("cache/CACHEDIR.TAG").is_file());
        assert_eq!(read_packed(&path, &cfg, 3, 4).expect("read"), packed);
        // Other config or shape: not trusted.
        assert!(matches!(
            read_packed(&path, &sha256(b"other"), 3, 4),
            Err(CacheRead::Invalid { .. })
        ));
        assert!(matches!(
            read_packed(&path, &cfg, 4, 3),
            Err(CacheRead::Invalid { .. })
        ));
        // Flip one data byte: checksum mismatch.
        let mut bytes = fs::read(&path).expect("read bytes");
        let len = bytes.len();
        bytes[len - HASH_BYTES - 1] ^= 0x40;
        fs::write(&path, &bytes).expect("write bytes");
        match read_packed(&path, &cfg, 3, 4) {
            Err(CacheRead::Invalid { reason }) => assert!(reason.contains("checksum"), "{reason}"),
            other => panic!("{other:?}"),
        }
        // Truncate: length mismatch.
        fs::write(&path, &bytes[..len - 7]).expect("truncate");
        match read_packed(&path, &cfg, 3, 4) {
            Err(CacheRead::Invalid { reason }) => assert!(reason.contains("truncated"), "{reason}"),
            other => panic!("{other:?}"),
        }
        fs::write(&path, b"short").expect("tiny");
        assert!(matches!(
            read_packed(&path, &cfg, 3, 4),
            Err(CacheRead::Invalid { .. })
        ));
    }

    #[test]
    fn temporaries_of_killed_writers_are_removed_by_the_next_write() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.bin");
        let cfg = sha256(b"config");
        write_packed(&path, &cfg, &sample()).expect("write");
        // What `kill -9` during a write leaves: a temporary of a process that is gone (no
        // pid is this large), next to one of a live writer (this process).
        let dead = dir
            .path()
            .join(format!("{TEMP_PREFIX}{}-abc123", u32::MAX - 1));
        let live = dir
            .path()
            .join(format!("{TEMP_PREFIX}{}-def456", std::process::id()));
        fs::write(&dead, b"partial").expect("dead temp");
        fs::write(&live, b"in progress").expect("live temp");
        write_packed(&path, &cfg, &sample()).expect("write again");
        if Path::new("/proc/self").exists() {
            assert!(!dead.exists(), "the dead writer's temporary is left");
        }
        assert!(live.exists(), "a live writer's temporary was removed");
        let temporaries = fs::read_dir(dir.path())
            .expect("list")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(TEMP_PREFIX))
            .count();
        assert_eq!(
            temporaries,
            usize::from(live.exists()) + usize::from(dead.exists())
        );
    }

    #[test]
    fn hashes_respect_part_boundaries() {
        assert_ne!(sha256_parts(&[b"ab", b"c"]), sha256_parts(&[b"a", b"bc"]));
        assert_eq!(hex_prefix(&sha256(b""), 4), "e3b0c442");
    }
}
