//! Reading a config file, and refusing one (or a reminder program) that deltacal cannot trust.

use std::path::Path;

use super::{Config, ConfigError, ConfigErrorKind};

/// A config file is a few kilobytes; one larger than this is not one (`/dev/zero`, a mistake).
const MAX_CONFIG_FILE: u64 = 1024 * 1024;

/// A config file's text; an error names the file. The file decides what runs (`reminders.
/// command`, through `sh -c`) and where the refresh token goes (`account.authority`), so one
/// that another user owns or anyone may write is refused, as is anything but a regular file of
/// reasonable size. A symlink is followed (dotfile managers link config files) and its target
/// checked.
pub(super) fn read(path: &Path) -> Result<String, ConfigError> {
    let error = |message: String| ConfigError {
        file: crate::text::bounded(&path.display().to_string(), 200),
        key: "(file)".into(),
        kind: ConfigErrorKind::File,
        message,
    };
    let (bytes, meta) = crate::paths::read_file_capped(path, MAX_CONFIG_FILE, true)
        .map_err(|e| error(e.to_string()))?;
    untrusted(&meta, "it decides what deltacal runs and where it signs in").map_err(error)?;
    String::from_utf8(bytes).map_err(|e| error(format!("not UTF-8 text: {e}")))
}

/// Why a file that decides what deltacal runs cannot be trusted: another user (not root) owns
/// it, or anyone may write it. `why`: what it decides.
fn untrusted(meta: &std::fs::Metadata, why: &str) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me && meta.uid() != 0 {
            return Err(format!(
                "belongs to another user (uid {}), and {why}; use a file of your own",
                meta.uid()
            ));
        }
        if meta.mode() & 0o002 != 0 {
            return Err(format!(
                "anyone may write it (mode {:o}), and {why}; run `chmod o-w` on it",
                meta.mode() & 0o777
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = (meta, why);
    Ok(())
}

/// The program `reminders.command` starts, where it names one by path: it runs at every
/// reminder, so one that another user owns or anyone may write is refused, as such a config
/// file is. A name found through `PATH` is the shell's to find.
pub(super) fn check_command_program(config: &Config) -> Result<(), ConfigError> {
    let Some(program) = config
        .reminders
        .command
        .as_deref()
        .and_then(|c| c.split_whitespace().next())
        .filter(|p| p.contains('/'))
    else {
        return Ok(());
    };
    let Ok(meta) = std::fs::metadata(program) else {
        // Missing: the command fails when it runs, and says so then.
        return Ok(());
    };
    untrusted(&meta, "it runs at every reminder").map_err(|message| ConfigError {
        file: config
            .config_file
            .as_deref()
            .map(|f| f.display().to_string())
            .unwrap_or_default(),
        key: "reminders.command".into(),
        kind: ConfigErrorKind::Invalid,
        message: format!("{}: {message}", crate::text::bounded(program, 200)),
    })
}
