//! An advisory lock on a run folder for the duration of a training, so that two trainings
//! started into one folder at the same moment cannot mix their files.
//!
//! The lock is an operating-system file lock (`flock` on Unix, `LockFileEx` on Windows) on
//! [`LOCK_FILE`] inside the folder, which also records its holder (pid, host, start time,
//! command) for the error a second writer gets. The system releases the lock when its process
//! ends in any way, `kill -9` included, so the lock of a dead process is taken over by the
//! next training; the file itself is removed when the lock is dropped.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::TrainError;

/// File name of the lock inside a run folder.
pub const LOCK_FILE: &str = ".ser-train.lock";

/// Who holds (or held) a run-folder lock: the content of [`LOCK_FILE`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    /// Process id.
    pub pid: u32,
    /// Host name.
    pub host: String,
    /// Start of the training, seconds since the Unix epoch.
    pub started_unix_s: u64,
    /// The command line.
    pub command: String,
}

impl LockHolder {
    fn current(command: &str) -> Self {
        Self {
            pid: std::process::id(),
            host: host_name(),
            started_unix_s: unix_now(),
            command: command.to_owned(),
        }
    }

    /// "pid 123 on host h, started 5 s ago (ser-train ...)".
    pub fn describe(&self) -> String {
        let ago = unix_now().saturating_sub(self.started_unix_s);
        format!(
            "pid {} on host {}, started {ago} s ago ({})",
            self.pid, self.host, self.command
        )
    }
}

/// An exclusive lock on a run folder, held until dropped.
#[derive(Debug)]
pub struct RunLock {
    file: File,
    path: PathBuf,
    /// The holder of a lock left by a process that ended without releasing it (killed), now
    /// taken over.
    stale: Option<LockHolder>,
    /// The folder, when this lock created it: removed on drop if nothing else was written.
    created_dir: Option<PathBuf>,
}

impl RunLock {
    /// Locks `dir` (created if missing) for a training described by `command`.
    ///
    /// # Errors
    /// [`TrainError::RunLocked`] naming the holder when another process holds the lock;
    /// [`TrainError::Io`] when the folder or the lock file cannot be made.
    pub fn acquire(dir: &Path, command: &str) -> Result<RunLock, TrainError> {
        let created_dir = (!dir.exists()).then(|| dir.to_path_buf());
        let path = dir.join(LOCK_FILE);
        // A few rounds: the file (or the empty folder) may be removed by its releasing holder
        // between our open and our lock (then the locked file is no longer the one at `path`).
        for _ in 0..20 {
            fs::create_dir_all(dir).map_err(|e| TrainError::io(dir, e))?;
            let mut file = match OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
            {
                Ok(file) => file,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(TrainError::io(&path, e)),
            };
            match file.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(TrainError::RunLocked {
                        dir: dir.to_path_buf(),
                        lock_file: path.clone(),
                        holder: read_holder_of_locked(&mut file),
                    });
                }
                Err(fs::TryLockError::Error(e)) => return Err(TrainError::io(&path, e)),
            }
            if !still_at(&file, &path) {
                continue;
            }
            let stale = read_holder(&mut file).filter(|h| h.pid != std::process::id());
            let mut text = serde_json::to_string(&LockHolder::current(command))
                .map_err(|e| TrainError::json(&path, e))?;
            text.push('\n');
            let write = |file: &mut File| -> std::io::Result<()> {
                file.set_len(0)?;
                file.seek(SeekFrom::Start(0))?;
                file.write_all(text.as_bytes())?;
                file.sync_all()
            };
            write(&mut file).map_err(|e| TrainError::io(&path, e))?;
            return Ok(RunLock {
                file,
                path,
                stale,
                created_dir,
            });
        }
        Err(TrainError::io(
            &path,
            std::io::Error::other("the lock file kept being replaced while locking it"),
        ))
    }

    /// The holder of a lock left behind by a process that ended without releasing it, which
    /// this lock took over.
    pub fn stale(&self) -> Option<&LockHolder> {
        self.stale.as_ref()
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Removed while still locked, so a process that opens the path later makes a new file;
        // one that opened the old file before cannot lock it until we unlock, and then sees
        // it is no longer at the path (`still_at`). Best effort: a leftover file is harmless.
        let _ = fs::remove_file(&self.path);
        let _ = self.file.unlock();
        if let Some(dir) = &self.created_dir {
            // Fails, as it should, unless the folder is empty.
            let _ = fs::remove_dir(dir);
        }
    }
}

/// Whether `file` is still the file at `path`.
fn still_at(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        match (file.metadata(), fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        path.exists()
    }
}

fn read_holder(file: &mut File) -> Option<LockHolder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(text.trim()).ok()
}

/// The holder of a lock another process holds; it may not have written itself yet, so wait a
/// little for it.
fn read_holder_of_locked(file: &mut File) -> String {
    for _ in 0..20 {
        if let Some(holder) = read_holder(file) {
            return holder.describe();
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    "another process (it has not recorded itself yet)".to_owned()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn host_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| fs::read_to_string(p).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_naming_the_holder_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let first = RunLock::acquire(dir.path(), "ser-train --first").unwrap();
        assert!(first.stale().is_none());
        // Another open file description of the same file: flock conflicts within a process too.
        let err = RunLock::acquire(dir.path(), "ser-train --second").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
        assert!(text.contains("ser-train --first"), "{text}");
        drop(first);
        assert!(!dir.path().join(LOCK_FILE).exists());
        let again = RunLock::acquire(dir.path(), "ser-train --third").unwrap();
        drop(again);
    }

    #[test]
    fn a_folder_made_for_the_lock_is_removed_with_it_when_left_empty() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("out").join("fold-1");
        drop(RunLock::acquire(&run, "ser-train").unwrap());
        assert!(!run.exists());
        let lock = RunLock::acquire(&run, "ser-train").unwrap();
        fs::write(run.join("ser-run.json"), "{}").unwrap();
        drop(lock);
        assert!(run.join("ser-run.json").exists());
        assert!(!run.join(LOCK_FILE).exists());
    }

    #[test]
    fn the_lock_file_of_a_killed_process_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        // What a `kill -9`ed training leaves: the file, without the (released) lock.
        let dead = LockHolder {
            pid: u32::MAX - 1,
            host: host_name(),
            started_unix_s: 1,
            command: "ser-train --killed".to_owned(),
        };
        fs::write(
            dir.path().join(LOCK_FILE),
            serde_json::to_string(&dead).unwrap(),
        )
        .unwrap();
        let lock = RunLock::acquire(dir.path(), "ser-train --next").unwrap();
        assert_eq!(lock.stale(), Some(&dead));
        let now: LockHolder =
            serde_json::from_str(&fs::read_to_string(lock.path()).unwrap()).unwrap();
        assert_eq!(now.pid, std::process::id());
    }
}
