//! Where deltacal keeps its files: the platform's default config file and data dir, the files in
//! the data dir, and creating that dir private to the user.

use std::path::{Path, PathBuf};

/// The cache file in a data dir.
pub const CACHE_FILE: &str = "cache.redb";
/// The token file in a data dir (mode 0600).
pub const TOKEN_FILE: &str = "tokens.json";
/// The log file in a data dir.
pub const LOG_FILE: &str = "deltacal.log";

/// The platform's default config file (`~/.config/deltacal/config.toml` on Linux).
pub fn default_config_file() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "deltacal").map(|d| d.config_dir().join("config.toml"))
}

/// The platform's default data dir (`~/.local/share/deltacal` on Linux).
pub fn default_data_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "deltacal")
        .map(|d| d.data_dir().to_owned())
        .unwrap_or_else(|| PathBuf::from(".deltacal"))
}

/// Creates a data dir private to the user (0700) when it does not exist yet, and makes an
/// existing one private again if others may enter it.
pub fn ensure_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    if dir.exists() {
        repair_mode(dir, 0o700);
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Makes a file or dir of ours private again (`mode`, 0600 or 0700) when group or others have
/// any access to it, and says so. Returns the warning, if there was one to give.
pub fn repair_mode(path: &Path, mode: u32) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).ok()?;
        let found = meta.permissions().mode() & 0o777;
        if found & 0o077 == 0 {
            return None;
        }
        let repaired = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
        let warning = match repaired {
            Ok(()) => format!(
                "{} was open to others (mode {found:o}); it is {mode:o} again",
                path.display()
            ),
            Err(e) => format!(
                "{} is open to others (mode {found:o}) and could not be made private: {e}",
                path.display()
            ),
        };
        tracing::warn!("{warning}");
        Some(warning)
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        None
    }
}

/// Checks the data dir (0700) and the token file (0600), repairing them; the warnings to show.
pub fn check_private(data_dir: &Path) -> Vec<String> {
    [
        (data_dir.to_owned(), 0o700),
        (data_dir.join(TOKEN_FILE), 0o600),
    ]
    .iter()
    .filter_map(|(path, mode)| repair_mode(path, *mode))
    .collect()
}
