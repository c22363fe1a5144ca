//! The token file: written with mode 0600 from the first byte, replaced atomically, never logged.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Signed-in tokens. `Debug` never shows the secrets.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TokenSet {
    /// The bearer token Graph takes.
    pub access_token: String,
    /// The token that gets the next access token.
    pub refresh_token: Option<String>,
    /// When the access token expires.
    pub expires_at: DateTime<Utc>,
    /// The scopes granted, as the identity platform said them.
    pub scope: Option<String>,
    /// Who is signed in, as Graph's /me tells it (`"Name <address>"`).
    pub account: Option<String>,
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_at", &self.expires_at)
            .field("account", &self.account)
            .finish()
    }
}

impl TokenSet {
    /// True when the access token is still good for `margin` seconds.
    pub fn fresh(&self, now: DateTime<Utc>, margin_secs: i64) -> bool {
        self.expires_at - chrono::Duration::seconds(margin_secs) > now
    }
}

/// Why the token file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    /// The file cannot be read or written.
    #[error("token file {path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        cause: String,
    },
    /// The file does not read as tokens.
    #[error("token file {path} is damaged ({cause}); run `deltacal login` again")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        cause: String,
    },
}

/// A token file is a few kilobytes; one larger than this is not one (a device, a mistake).
const MAX_TOKEN_FILE: u64 = 1024 * 1024;

/// How long a process waits for another to finish with the token file (a refresh is one
/// request to the identity platform, bounded by the HTTP client's timeouts).
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Reads the token file; None when nobody is signed in. A file others may read is made
/// private again (0600), with a warning. Needs no lock: the file is only ever replaced whole.
pub fn load(path: &Path) -> Result<Option<TokenSet>, TokenFileError> {
    Ok(load_stamped(path)?.map(|(tokens, _)| tokens))
}

/// What identifies one version of the token file: every write renames a new file into place,
/// so a new version has a new inode even within the clock's resolution.
pub type FileStamp = crate::paths::FileVersion;

/// The token file's current version, without reading it; None when there is none.
pub fn stamp(path: &Path) -> Result<Option<FileStamp>, TokenFileError> {
    crate::paths::FileVersion::of_path(path, false).map_err(io_error(path))
}

/// [`load`], with the version read.
pub fn load_stamped(path: &Path) -> Result<Option<(TokenSet, FileStamp)>, TokenFileError> {
    crate::paths::repair_mode(path, 0o600);
    let (bytes, meta) = match crate::paths::read_regular_file(path, MAX_TOKEN_FILE) {
        Ok(read) => read,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(path)(e)),
    };
    serde_json::from_slice(&bytes)
        .map(|tokens| Some((tokens, FileStamp::of(&meta))))
        .map_err(|e| TokenFileError::Damaged {
            path: path.to_owned(),
            cause: crate::text::bounded(&e.to_string(), 200),
        })
}

/// The lock that every writer of the token file holds (a refresh, a sign-in, a logout), so that
/// writes never interleave and a refresh token is spent by one process only: `tokens.lock`.
pub fn lock_path(path: &Path) -> PathBuf {
    path.with_extension("lock")
}

/// Takes the token file's lock, waiting up to [`LOCK_WAIT`]. Blocks the calling thread.
pub fn lock(path: &Path) -> Result<crate::lockfile::LockFile, TokenFileError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    crate::paths::ensure_private_dir(dir).map_err(io_error(path))?;
    crate::lockfile::LockFile::acquire(&lock_path(path), LOCK_WAIT).map_err(|e| {
        TokenFileError::Io {
            path: path.to_owned(),
            cause: e.to_string(),
        }
    })
}

/// Room kept in a reservation beyond the current tokens: new ones may be a little longer.
const RESERVE_MARGIN: usize = 8 * 1024;

/// A temp file of its own beside the token file (created 0600, a name no other process uses),
/// already holding enough bytes for the tokens to come: made before tokens are asked for, so a
/// full disk is found before the server rotates the refresh token, not after. Removed when
/// dropped unless committed. Made and committed under the token file's [`lock`].
pub struct Reservation {
    path: PathBuf,
    file: Option<tempfile::NamedTempFile>,
}

impl Reservation {
    /// Reserves room for tokens of about `current`'s size.
    pub fn new(path: &Path, current: Option<&TokenSet>) -> Result<Reservation, TokenFileError> {
        let io = io_error(path);
        let dir = path.parent().unwrap_or(Path::new("."));
        crate::paths::ensure_private_dir(dir).map_err(&io)?;
        // tempfile creates the file exclusively, with mode 0600, under a random name.
        let mut file = tempfile::Builder::new()
            .prefix(".tokens.")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(&io)?;
        let size = current
            .map(|t| serde_json::to_vec_pretty(t).map(|j| j.len()).unwrap_or(0))
            .unwrap_or(0)
            + RESERVE_MARGIN;
        // Real bytes, written and synced: a sparse length would not prove the room is there.
        file.write_all(&vec![b' '; size]).map_err(&io)?;
        file.as_file().sync_all().map_err(&io)?;
        Ok(Reservation {
            path: path.to_owned(),
            file: Some(file),
        })
    }

    /// Writes `tokens` into the reserved room and puts the file in place of the old one.
    /// Returns the new file's version.
    pub fn commit(mut self, tokens: &TokenSet) -> Result<FileStamp, TokenFileError> {
        use std::io::{Seek, SeekFrom};
        let io = io_error(&self.path);
        let mut file = self
            .file
            .take()
            .expect("a reservation holds its file until used");
        let json = serde_json::to_vec_pretty(tokens).expect("tokens serialise");
        file.seek(SeekFrom::Start(0)).map_err(&io)?;
        file.write_all(&json).map_err(&io)?;
        file.as_file().set_len(json.len() as u64).map_err(&io)?;
        file.as_file().sync_all().map_err(&io)?;
        let placed = file.persist(&self.path).map_err(|e| io(e.error))?;
        let stamp = FileStamp::of(&placed.metadata().map_err(&io)?);
        // The rename itself is durable only once the dir is synced.
        sync_dir(&self.path);
        Ok(stamp)
    }
}

fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent()
        && let Ok(dir) = std::fs::File::open(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        })
    {
        let _ = dir.sync_all();
    }
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> TokenFileError + '_ {
    move |e| TokenFileError::Io {
        path: path.to_owned(),
        cause: e.to_string(),
    }
}

/// Writes the token file under its lock: a temp file created with mode 0600, then renamed over
/// the old one, so the secrets are never readable by others, not even for a moment. Nothing is
/// left behind when it fails.
pub fn save(path: &Path, tokens: &TokenSet) -> Result<FileStamp, TokenFileError> {
    let _lock = lock(path)?;
    save_locked(path, tokens)
}

/// [`save`] by a caller that holds the lock already.
pub fn save_locked(path: &Path, tokens: &TokenSet) -> Result<FileStamp, TokenFileError> {
    Reservation::new(path, Some(tokens))?.commit(tokens)
}

/// Checks that the token file can be written (before a sign-in asks the user for anything).
pub fn check_writable(path: &Path) -> Result<(), TokenFileError> {
    Reservation::new(path, None).map(drop)
}

/// Deletes the token file under its lock; true if there was one.
pub fn delete(path: &Path) -> Result<bool, TokenFileError> {
    let _lock = lock(path)?;
    match std::fs::remove_file(path) {
        Ok(()) => {
            sync_dir(path);
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(TokenFileError::Io {
            path: path.to_owned(),
            cause: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_tokens_are_private_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/tokens.json");
        let tokens = TokenSet {
            access_token: "secret-access".into(),
            refresh_token: Some("secret-refresh".into()),
            expires_at: Utc::now(),
            scope: None,
            account: Some("A <a@b>".into()),
        };
        save(&path, &tokens).unwrap();
        save(&path, &tokens).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(load(&path).unwrap(), Some(tokens.clone()));
        assert!(!format!("{tokens:?}").contains("secret"));
        assert!(delete(&path).unwrap());
        assert_eq!(load(&path).unwrap(), None);
    }

    /// Two writers at once (two processes refreshing): each has a temp file of its own, so
    /// neither can put the other's half-written reservation in place of the token file.
    #[test]
    fn two_reservations_at_once_do_not_touch_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        let tokens = TokenSet {
            access_token: "a".into(),
            refresh_token: Some("r".into()),
            expires_at: Utc::now(),
            scope: None,
            account: None,
        };
        let first = Reservation::new(&path, Some(&tokens)).unwrap();
        let second = Reservation::new(&path, Some(&tokens)).unwrap();
        first.commit(&tokens).unwrap();
        drop(second);
        assert_eq!(load(&path).unwrap(), Some(tokens));
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["tokens.json"], "nothing else is left behind");
    }

    #[cfg(unix)]
    #[test]
    fn a_token_file_that_is_a_symlink_or_endless_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        let error = load(&path).unwrap_err().to_string();
        assert!(error.contains("symlink"), "{error}");
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, vec![b' '; 2 * 1024 * 1024]).unwrap();
        let error = load(&path).unwrap_err().to_string();
        assert!(error.contains("more than"), "{error}");
    }
}
