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

/// The names of the files deltacal keeps in a data dir: a dir holding one of them is deltacal's.
const OWN_FILES: [&str; 4] = [CACHE_FILE, TOKEN_FILE, LOG_FILE, "tokens.lock"];

/// A data dir deltacal will not use, and why: one line for the user, nothing changed.
fn refused(dir: &Path, why: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::PermissionDenied,
        format!("data dir {}: {why}", dir.display()),
    )
}

/// Makes sure `dir` is a data dir private to the user, and returns a warning when it had to be
/// made private again. A dir that does not exist is created 0700 (its missing parents with the
/// usual mode: creating `~/.local/share/deltacal` leaves `~/.local` as it was). An existing one
/// must be a dir of the user's own, neither sticky nor shared; one open to others is made 0700
/// when it is empty or holds deltacal's files, and refused otherwise (it is someone else's
/// folder), as is one that cannot be made private. A symlink to such a dir is followed.
pub fn ensure_private_dir(dir: &Path) -> std::io::Result<Option<String>> {
    if dir.as_os_str().is_empty() {
        return Ok(None);
    }
    let meta = match std::fs::metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            let mut builder = std::fs::DirBuilder::new();
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                builder.mode(0o700);
            }
            return match builder.create(dir) {
                // Another process made it first: check it as any existing one.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => ensure_private_dir(dir),
                other => other.map(|()| None),
            };
        }
        Err(e) => return Err(e),
    };
    if !meta.is_dir() {
        return Err(refused(dir, "is not a directory"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(refused(
                dir,
                &format!(
                    "belongs to another user (uid {}); use a dir of your own",
                    meta.uid()
                ),
            ));
        }
        // Unreadable is an error, not "no cache yet"; unwritable (read-only media) is for the
        // commands that write to say.
        let path = std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(dir.as_os_str()));
        // SAFETY: access only reads the C string, which lives for the length of the call.
        let readable =
            path.is_ok_and(|c| unsafe { libc::access(c.as_ptr(), libc::R_OK | libc::X_OK) } == 0);
        if !readable {
            return Err(refused(
                dir,
                "cannot be read by you (check who owns it and its mode: 0700)",
            ));
        }
        let found = meta.mode() & 0o7777;
        if found & 0o1000 != 0 {
            return Err(refused(
                dir,
                "is a shared dir (sticky, like /tmp); use a dir of your own",
            ));
        }
        if found & 0o077 == 0 {
            return Ok(None);
        }
        let ours = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .collect::<Vec<_>>();
        let holds_ours = ours.is_empty() || ours.iter().any(|n| OWN_FILES.iter().any(|o| n == *o));
        if !holds_ours {
            return Err(refused(
                dir,
                &format!(
                    "is open to others (mode {found:o}) and holds files that are not deltacal's; use a dir of deltacal's own"
                ),
            ));
        }
        let dir_file = std::fs::File::open(dir)?;
        dir_file
            .set_permissions(std::fs::Permissions::from_mode(0o700))
            .map_err(|e| {
                refused(
                    dir,
                    &format!("is open to others (mode {found:o}) and cannot be made private: {e}"),
                )
            })?;
        let warning = format!(
            "{} was open to others (mode {found:o}); it is 700 again",
            dir.display()
        );
        tracing::warn!("{warning}");
        Ok(Some(warning))
    }
    #[cfg(not(unix))]
    Ok(None)
}

/// Makes a file of ours private again (0600) when group or others have any access to it, and
/// says so. Only a regular file of the user's own is changed: a symlink in its place, a device
/// or someone else's file is left alone (the read that follows refuses it). Returns the
/// warning, if there was one to give.
pub fn repair_mode(path: &Path, mode: u32) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = std::fs::symlink_metadata(path).ok()?;
        // SAFETY: geteuid has no preconditions and cannot fail.
        if !meta.is_file() || meta.uid() != unsafe { libc::geteuid() } {
            return None;
        }
        let found = meta.mode() & 0o777;
        if found & 0o077 == 0 {
            return None;
        }
        // Through a descriptor opened without following links: what is changed is what was
        // checked, even if the name is swapped in between.
        let mut options = std::fs::OpenOptions::new();
        options.read(true);
        no_follow(&mut options);
        let repaired = options.open(path).and_then(|file| {
            if file.metadata()?.is_file() {
                file.set_permissions(std::fs::Permissions::from_mode(mode))
            } else {
                Err(std::io::Error::other("it is not a regular file"))
            }
        });
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

/// Checks the data dir (0700) and the token file (0600), repairing them; the warnings to
/// show. A data dir deltacal must not use is an error.
pub fn check_private(data_dir: &Path) -> std::io::Result<Vec<String>> {
    // Not there yet: nothing to check, and a command that only reads creates nothing.
    if std::fs::symlink_metadata(data_dir).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
    {
        return Ok(Vec::new());
    }
    let mut warnings: Vec<String> = ensure_private_dir(data_dir)?.into_iter().collect();
    warnings.extend(repair_mode(&data_dir.join(TOKEN_FILE), 0o600));
    Ok(warnings)
}

/// Sets `options` not to follow a symlink in the file's place.
fn no_follow(options: &mut std::fs::OpenOptions) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    #[cfg(not(unix))]
    let _ = options;
}

/// One version of a file: what a process that keeps a file's contents compares to tell that
/// another process replaced or changed it (a rename puts a new inode in place).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileVersion {
    inode: u64,
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl FileVersion {
    /// The version `meta` describes.
    pub fn of(meta: &std::fs::Metadata) -> FileVersion {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0;
        FileVersion {
            inode,
            len: meta.len(),
            modified: meta.modified().ok(),
        }
    }

    /// The current version of the file at `path` (through a symlink with `follow`), without
    /// reading it; None when there is none.
    pub fn of_path(path: &Path, follow: bool) -> std::io::Result<Option<FileVersion>> {
        let meta = if follow {
            std::fs::metadata(path)
        } else {
            std::fs::symlink_metadata(path)
        };
        match meta {
            Ok(meta) => Ok(Some(FileVersion::of(&meta))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Sets `options` to create a file private to the user (0600) and to refuse a symlink in the
/// file's place (`O_NOFOLLOW`): a file of ours is never another file someone linked there.
pub fn private_no_follow(options: &mut std::fs::OpenOptions) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    #[cfg(not(unix))]
    let _ = options;
}

/// Reads a local file of at most `max` bytes that must be a regular file (not a device, a pipe
/// or a dir, which could be endless or block), with its metadata. `follow`: whether a symlink
/// in its place is followed (a config file may be a dotfile manager's link; a token file may
/// not). Too large, or not a regular file, is an `InvalidData` error that says so.
pub fn read_file_capped(
    path: &Path,
    max: u64,
    follow: bool,
) -> std::io::Result<(Vec<u8>, std::fs::Metadata)> {
    use std::io::Read;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Non-blocking: opening a FIFO must not wait for a writer. Regular files ignore it.
        let nofollow = if follow { 0 } else { libc::O_NOFOLLOW };
        options.custom_flags(libc::O_NONBLOCK | nofollow);
    }
    let file = options.open(path).map_err(|e| {
        #[cfg(unix)]
        if !follow && e.raw_os_error() == Some(libc::ELOOP) {
            return std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "is a symlink, which deltacal does not follow here",
            );
        }
        e
    })?;
    let meta = file.metadata()?;
    let invalid = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    if !meta.is_file() {
        return Err(invalid("is not a regular file".into()));
    }
    if meta.len() > max {
        return Err(invalid(format!(
            "is {} bytes, more than the {max} a file of this kind can be",
            meta.len()
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // Bounded even if the file grows while it is read.
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(invalid(format!(
            "grew past the {max} bytes a file of this kind can be"
        )));
    }
    Ok((bytes, meta))
}

/// [`read_file_capped`] for a file of deltacal's own in the data dir: never through a symlink.
pub fn read_regular_file(path: &Path, max: u64) -> std::io::Result<(Vec<u8>, std::fs::Metadata)> {
    read_file_capped(path, max, false)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path).unwrap().mode() & 0o7777
    }

    #[test]
    fn a_new_data_dir_is_private_and_its_parents_are_left_as_they_would_be() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join(".local/share/deltacal");
        assert_eq!(ensure_private_dir(&dir).unwrap(), None);
        assert_eq!(mode(&dir), 0o700);
        assert_ne!(
            mode(&root.path().join(".local")),
            0o700,
            "the parents keep the usual mode"
        );
    }

    #[test]
    fn what_is_not_a_private_dir_of_ours_is_refused_and_left_unchanged() {
        let root = tempfile::tempdir().unwrap();
        // Not a dir.
        let error = ensure_private_dir(Path::new("/dev/null")).unwrap_err();
        assert!(error.to_string().contains("is not a directory"), "{error}");
        // Sticky and shared, like /tmp.
        let shared = root.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let error = ensure_private_dir(&shared).unwrap_err();
        assert!(error.to_string().contains("sticky"), "{error}");
        assert_eq!(mode(&shared), 0o1777, "its sticky bit is kept");
        // Someone's folder with their files in it, open to others.
        let folder = root.path().join("Documents");
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(folder.join("letter.txt"), "x").unwrap();
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
        let error = ensure_private_dir(&folder).unwrap_err();
        assert!(error.to_string().contains("not deltacal's"), "{error}");
        assert_eq!(mode(&folder), 0o755);
        // Another user's dir (where the tests run as root, as in CI).
        if unsafe { libc::geteuid() } == 0 {
            let theirs = root.path().join("theirs");
            std::fs::create_dir(&theirs).unwrap();
            std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
            let error = ensure_private_dir(&theirs).unwrap_err();
            assert!(error.to_string().contains("another user"), "{error}");
        }
        // A data dir of ours, open to others, is made private again with a warning.
        let ours = root.path().join("ours");
        std::fs::create_dir(&ours).unwrap();
        std::fs::write(ours.join(CACHE_FILE), "").unwrap();
        std::fs::set_permissions(&ours, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(ensure_private_dir(&ours).unwrap().is_some());
        assert_eq!(mode(&ours), 0o700);
    }

    #[test]
    fn repair_never_follows_a_symlink() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("elsewhere");
        std::fs::write(&target, "not ours").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        let link = root.path().join(TOKEN_FILE);
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(repair_mode(&link, 0o600), None);
        assert_eq!(mode(&target), 0o644, "the link's target is untouched");
        // A real file of ours is repaired.
        let own = root.path().join("own");
        std::fs::write(&own, "").unwrap();
        std::fs::set_permissions(&own, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(repair_mode(&own, 0o600).is_some());
        assert_eq!(mode(&own), 0o600);
    }

    #[test]
    fn local_files_are_read_with_a_cap_and_only_when_regular() {
        let error = read_file_capped(Path::new("/dev/zero"), 1024, true).unwrap_err();
        assert!(error.to_string().contains("not a regular file"), "{error}");
        let root = tempfile::tempdir().unwrap();
        let big = root.path().join("big");
        std::fs::write(&big, vec![b'x'; 2048]).unwrap();
        let error = read_file_capped(&big, 1024, true).unwrap_err();
        assert!(error.to_string().contains("more than the 1024"), "{error}");
        assert_eq!(read_file_capped(&big, 4096, true).unwrap().0.len(), 2048);
    }
}
