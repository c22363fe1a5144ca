//! Logs go to a file in the data dir, never to the terminal the TUI draws on. The file is kept
//! small: past [`MAX_LOG_BYTES`] it is renamed `deltacal.log.1` (replacing the one before) and
//! a new one is started, so a process that stays for weeks at `trace` holds the disk to twice
//! that.

use std::fs::File;
use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Lines queued for the log writer at most.
const LOG_QUEUE_LINES: usize = 4096;

/// The size past which the log is rotated.
pub const MAX_LOG_BYTES: u64 = 8 * 1024 * 1024;

/// Starts logging to `path` (level from `DELTACAL_LOG`, default `info`). Keep the guard alive
/// for the life of the program: dropping it flushes the log.
pub fn init_file(path: &Path) -> Option<WorkerGuard> {
    let dir = path.parent()?;
    crate::paths::ensure_private_dir(dir).ok()?;
    let log = match CappedLog::open(path, MAX_LOG_BYTES) {
        Ok(log) => log,
        Err(_) => {
            eprintln!(
                "deltacal: warning: not logging: {} is not a file of deltacal's (a symlink or another kind of file)",
                path.display()
            );
            return None;
        }
    };
    // The default queue of 128,000 lines is a 4 MB ring that a long run touches whole; a few
    // thousand lines are more than a burst of trace logging fills before the writer drains it
    // (lines past it are dropped, never waited for).
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_QUEUE_LINES)
        .finish(Sanitizing(log));
    let filter = EnvFilter::try_from_env("DELTACAL_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some(guard)
}

/// The log file, rotated when it grows past its cap. Several processes append to one log;
/// each counts from the size it found, so the file stays near the cap whoever writes.
struct CappedLog {
    path: PathBuf,
    file: File,
    len: u64,
    cap: u64,
}

impl CappedLog {
    fn open(path: &Path, cap: u64) -> std::io::Result<CappedLog> {
        let (file, len) = open_log(path)?;
        let mut log = CappedLog {
            path: path.to_owned(),
            file,
            len,
            cap,
        };
        if log.len >= cap {
            log.rotate()?;
        }
        Ok(log)
    }

    /// `deltacal.log` becomes `deltacal.log.1`, and a new one is begun.
    fn rotate(&mut self) -> std::io::Result<()> {
        let mut old = self.path.clone().into_os_string();
        old.push(".1");
        std::fs::rename(&self.path, &old)?;
        let (file, len) = open_log(&self.path)?;
        self.file = file;
        self.len = len;
        Ok(())
    }
}

/// Opens the log to append: never through a symlink someone put in its place (it would append
/// to their target), only a regular file, private from its first byte.
fn open_log(path: &Path) -> std::io::Result<(File, u64)> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    crate::paths::private_no_follow(&mut options);
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    crate::paths::repair_mode(path, 0o600);
    Ok((file, meta.len()))
}

impl std::io::Write for CappedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.len >= self.cap {
            // A failed rotation (the dir went read-only) keeps writing where it was.
            let _ = self.rotate();
        }
        let n = self.file.write(buf)?;
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Writes log lines with every character a terminal would act on dropped (escape sequences,
/// C1 controls, bidirectional overrides), whatever text reached a log field: a log read with
/// `cat` or `tail` must not drive the terminal.
struct Sanitizing<W>(W);

impl<W: std::io::Write> std::io::Write for Sanitizing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(crate::text::block(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn the_log_is_rotated_past_its_cap_and_never_written_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deltacal.log");
        let mut log = CappedLog::open(&path, 100).unwrap();
        for _ in 0..25 {
            log.write_all(b"0123456789\n").unwrap();
        }
        let size = |p: &Path| std::fs::metadata(p).unwrap().len();
        assert!(size(&path) <= 110, "{}", size(&path));
        assert!(size(&dir.path().join("deltacal.log.1")) <= 110);
        let names = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(names, 2, "two files at most");
        // A big log found at start is rotated before it is written to.
        std::fs::write(&path, vec![b'x'; 500]).unwrap();
        let log = CappedLog::open(&path, 100).unwrap();
        assert_eq!(log.len, 0);
        // A symlink in its place is refused, its target untouched.
        let target = dir.path().join("profile");
        std::fs::write(&target, "keep").unwrap();
        let link = dir.path().join("other.log");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&target, &link).unwrap();
            assert!(CappedLog::open(&link, 100).is_err());
            assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        }
    }
}
