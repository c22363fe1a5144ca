//! Logs go to a file in the data dir, never to the terminal the TUI draws on.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Starts logging to `path` (level from `DELTACAL_LOG`, default `info`). Keep the guard alive
/// for the life of the program: dropping it flushes the log.
pub fn init_file(path: &Path) -> Option<WorkerGuard> {
    let dir = path.parent()?;
    crate::paths::ensure_private_dir(dir).ok()?;
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    // Never through a symlink someone put in its place (it would append to their target),
    // and private from its first byte.
    crate::paths::private_no_follow(&mut options);
    let file = match options.open(path) {
        Ok(file) if file.metadata().is_ok_and(|m| m.is_file()) => file,
        Ok(_) | Err(_) => {
            eprintln!(
                "deltacal: warning: not logging: {} is not a file of deltacal's (a symlink or another kind of file)",
                path.display()
            );
            return None;
        }
    };
    crate::paths::repair_mode(path, 0o600);
    let (writer, guard) = tracing_appender::non_blocking(Sanitizing(file));
    let filter = EnvFilter::try_from_env("DELTACAL_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some(guard)
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
