//! Atomic file writes: the content goes to a temporary file in the target's folder, which is
//! synced to disk and renamed over the target, and the folder is synced where the platform
//! allows it. A reader (or a crash, or `kill -9`) sees the old content or the new one, never a
//! partial file; on any error the temporary file is removed and the target is untouched.
//!
//! Temporary files are named `.<file name>.tmp-<pid>-<n>` (see [`is_temp_name`]), or
//! `<prefix><n>` with [`AtomicFile::with_prefix`] for writers that clean up after killed
//! processes by pid. Only a process killed between creating and renaming one leaves it behind.
//!
//! # Errors
//!
//! Every function returns [`std::io::Error`] with the [`ErrorKind`](io::ErrorKind) of the
//! failing operation and a message naming the operation and the file it failed on, e.g.
//! `cannot create a temporary file in out/missing: No such file or directory (os error 2)`.
//! (The underlying OS error is kept in the text, not as a source.) Callers usually wrap it in
//! their own error type together with the target path.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `bytes` to `path` atomically (see the [module documentation](self)).
///
/// # Errors
/// A path without a file name, a missing or unwritable folder, or a failed write, sync or
/// rename; see the [module documentation](self#errors).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::new(path)?;
    file.write_all(bytes)
        .map_err(|e| context(e, "cannot write", &file.temp))?;
    file.commit()
}

/// Whether `name` is the name of a temporary file of [`AtomicFile::new`] (`.<name>.tmp-<...>`),
/// for callers that remove the leftovers of killed writes.
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.contains(".tmp-")
}

/// A file being written atomically: write to it (it is a [`Write`], unbuffered: wrap it in a
/// [`std::io::BufWriter`] for many small writes), then [`commit`](AtomicFile::commit). Dropped
/// without a commit (an error, a panic), it removes its temporary file and leaves the target as
/// it was.
#[derive(Debug)]
pub struct AtomicFile {
    /// The open temporary file; `None` once committed.
    file: Option<File>,
    /// Its path.
    temp: PathBuf,
    /// The file it replaces on commit.
    target: PathBuf,
    /// The folder of both.
    folder: PathBuf,
}

impl AtomicFile {
    /// Starts writing `path`: creates `.<file name>.tmp-<pid>-<n>` in its folder (`.` for a
    /// bare file name). The folder must exist.
    ///
    /// # Errors
    /// A path without a file name ([`io::ErrorKind::InvalidInput`]) or a temporary file that
    /// cannot be created.
    pub fn new(path: &Path) -> io::Result<AtomicFile> {
        let name = file_name(path)?;
        let prefix = format!(".{}.tmp-{}-", name.to_string_lossy(), std::process::id());
        Self::with_prefix(path, &prefix)
    }

    /// Like [`AtomicFile::new`] with the temporary file named `<prefix><n>` (`n` a counter).
    ///
    /// # Errors
    /// As [`AtomicFile::new`].
    pub fn with_prefix(path: &Path, prefix: &str) -> io::Result<AtomicFile> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        file_name(path)?;
        let folder = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        loop {
            let temp = folder.join(format!(
                "{prefix}{}",
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            // `create_new`: never truncate another writer's file (a pid reused in a container).
            match File::options().write(true).create_new(true).open(&temp) {
                Ok(file) => {
                    return Ok(AtomicFile {
                        file: Some(file),
                        temp,
                        target: path.to_path_buf(),
                        folder,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(context(e, "cannot create a temporary file in", &folder)),
            }
        }
    }

    /// The temporary file's path.
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// The open temporary file (to sync it, read its metadata, ...).
    ///
    /// # Panics
    /// Never: the file is open until [`AtomicFile::commit`], which consumes `self`.
    pub fn as_file(&self) -> &File {
        self.file.as_ref().expect("open until committed")
    }

    /// Syncs the temporary file, renames it over the target and syncs the folder (best effort:
    /// not every platform can open a folder).
    ///
    /// # Errors
    /// A failed sync or rename; the temporary file is then removed and the target untouched.
    pub fn commit(mut self) -> io::Result<()> {
        let file = self.file.take().expect("open until committed");
        file.sync_all()
            .map_err(|e| context(e, "cannot sync", &self.temp))?;
        drop(file);
        fs::rename(&self.temp, &self.target).map_err(|e| {
            let message = format!("cannot rename {} to", self.temp.display());
            context(e, &message, &self.target)
        })?;
        // Renamed: nothing left to remove.
        self.temp = PathBuf::new();
        if let Ok(dir) = File::open(&self.folder) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.as_mut().expect("open until committed").write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().expect("open until committed").flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.temp.as_os_str().is_empty() {
            // Close first (needed to delete an open file on Windows); best effort.
            self.file = None;
            let _ = fs::remove_file(&self.temp);
        }
    }
}

fn file_name(path: &Path) -> io::Result<&std::ffi::OsStr> {
    path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cannot write {}: the path has no file name", path.display()),
        )
    })
}

/// `error` with `"{what} {path}: "` in front of its message, its kind kept.
fn context(error: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(error.kind(), format!("{what} {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn write_atomic_replaces_content_and_leaves_no_temp_file() {
        let dir = tempfile_dir("replace");
        let path = dir.join("a.txt");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        assert_eq!(names(&dir), ["a.txt"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_folder_is_an_error_naming_it_and_leaves_nothing() {
        let dir = tempfile_dir("missing");
        let path = dir.join("missing").join("a.txt");
        let err = write_atomic(&path, b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("missing"), "{err}");
        assert!(names(&dir).is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failed_write_leaves_the_target_untouched_and_no_temp_file() {
        let dir = tempfile_dir("failed");
        let path = dir.join("a.txt");
        write_atomic(&path, b"old").unwrap();
        {
            let mut file = AtomicFile::new(&path).unwrap();
            file.write_all(b"partial new content").unwrap();
            assert!(is_temp_name(
                &file.temp_path().file_name().unwrap().to_string_lossy()
            ));
            assert_eq!(names(&dir).len(), 2);
            // Dropped without commit, as on an error.
        }
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(names(&dir), ["a.txt"]);
        // A rename that fails (the target is a non-empty folder) removes the temporary file.
        let blocked = dir.join("blocked");
        fs::create_dir_all(blocked.join("inside")).unwrap();
        assert!(write_atomic(&blocked, b"x").is_err());
        assert!(blocked.join("inside").is_dir());
        assert_eq!(names(&dir), ["a.txt", "blocked"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn prefixes_and_bare_names() {
        let dir = tempfile_dir("prefix");
        let path = dir.join("b.bin");
        let mut file = AtomicFile::with_prefix(&path, ".custom-7-").unwrap();
        assert!(
            file.temp_path()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".custom-7-")
        );
        file.write_all(b"data").unwrap();
        file.commit().unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"data");
        assert_eq!(names(&dir), ["b.bin"]);
        let err = write_atomic(Path::new("/"), b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(!is_temp_name("a.txt"));
        assert!(!is_temp_name(".gitignore"));
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A fresh folder under the system's temporary folder (the crate has no dependencies).
    fn tempfile_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ser-stdx-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }
}
