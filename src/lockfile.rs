//! Advisory locks between deltacal processes on one data dir: a small file beside what it
//! guards, locked with the operating system's file lock (`flock` on Unix), so a process that
//! dies drops its lock with it. The lock files are never removed: removing one while another
//! process waits on it would let a third lock a new file under the same name.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// An exclusive lock held until dropped.
#[derive(Debug)]
pub struct LockFile {
    // Dropping the file closes it, and closing releases the lock.
    _file: File,
    path: PathBuf,
}

/// Why a lock could not be had.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// The lock file could not be opened or locked.
    #[error("lock file {path}: {cause}")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// What the system said.
        cause: String,
    },
    /// Another process held it for longer than the wait allowed.
    #[error("{} is held by another deltacal process (waited {} s)", path.display(), waited.as_secs())]
    Busy {
        /// The lock file.
        path: PathBuf,
        /// How long this process waited.
        waited: Duration,
    },
}

impl LockFile {
    /// Takes the lock at `path` if nobody holds it; None when another process does.
    pub fn try_acquire(path: &Path) -> Result<Option<LockFile>, LockError> {
        let file = open(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(LockFile {
                _file: file,
                path: path.to_owned(),
            })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(io(path, e)),
        }
    }

    /// Takes the lock at `path`, waiting up to `wait` for another process to let it go.
    /// Blocks the calling thread: async code calls it through `spawn_blocking`.
    pub fn acquire(path: &Path, wait: Duration) -> Result<LockFile, LockError> {
        let started = Instant::now();
        // Short naps first (a token refresh or a page commit is over in milliseconds), longer
        // ones when the holder takes its time (a whole round).
        let mut nap = Duration::from_millis(5);
        loop {
            if let Some(lock) = LockFile::try_acquire(path)? {
                return Ok(lock);
            }
            let waited = started.elapsed();
            if waited >= wait {
                return Err(LockError::Busy {
                    path: path.to_owned(),
                    waited,
                });
            }
            std::thread::sleep(nap.min(wait - waited));
            nap = (nap * 2).min(Duration::from_millis(100));
        }
    }

    /// The lock file this holds.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Opens (or creates, 0600) a lock file without following a symlink in its place.
fn open(path: &Path) -> Result<File, LockError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    crate::paths::private_no_follow(&mut options);
    options.open(path).map_err(|e| io(path, e))
}

fn io(path: &Path, e: std::io::Error) -> LockError {
    LockError::Io {
        path: path.to_owned(),
        cause: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_refused_to_others_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let held = LockFile::try_acquire(&path).unwrap().expect("free");
        // Another open file description is another holder, as another process would be.
        assert!(LockFile::try_acquire(&path).unwrap().is_none());
        let busy = LockFile::acquire(&path, Duration::from_millis(30)).unwrap_err();
        assert!(matches!(busy, LockError::Busy { .. }), "{busy}");
        drop(held);
        assert!(LockFile::acquire(&path, Duration::from_secs(5)).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_in_the_lock_files_place_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, "keep").unwrap();
        let path = dir.path().join("x.lock");
        std::os::unix::fs::symlink(&target, &path).unwrap();
        assert!(LockFile::try_acquire(&path).is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    }
}
