//! The token file: written with mode 0600 from the first byte, replaced atomically, never logged.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Signed-in tokens. `Debug` never shows the secrets.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TokenSet {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub scope: Option<String>,
    /// Who is signed in, as Graph's /me tells it ("Name <address>").
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

#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    #[error("token file {path}: {cause}")]
    Io { path: PathBuf, cause: String },
    #[error("token file {path} is damaged ({cause}); run `deltacal login` again")]
    Damaged { path: PathBuf, cause: String },
}

/// Reads the token file; None when nobody is signed in. A file others may read is made
/// private again (0600), with a warning.
pub fn load(path: &Path) -> Result<Option<TokenSet>, TokenFileError> {
    crate::paths::repair_mode(path, 0o600);
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(TokenFileError::Io {
                path: path.to_owned(),
                cause: e.to_string(),
            });
        }
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| TokenFileError::Damaged {
            path: path.to_owned(),
            cause: e.to_string(),
        })
}

/// Room kept in a reservation beyond the current tokens: new ones may be a little longer.
const RESERVE_MARGIN: usize = 8 * 1024;

/// A temp file beside the token file, already holding enough bytes for the tokens to come:
/// made before tokens are asked for, so a full disk is found before the server rotates the
/// refresh token, not after. Removed when dropped unless committed.
pub struct Reservation {
    path: PathBuf,
    tmp: PathBuf,
    file: Option<std::fs::File>,
    committed: bool,
}

impl Reservation {
    /// Reserves room for tokens of about `current`'s size.
    pub fn new(path: &Path, current: Option<&TokenSet>) -> Result<Reservation, TokenFileError> {
        let io = io_error(path);
        let dir = path.parent().unwrap_or(Path::new("."));
        crate::paths::ensure_private_dir(dir).map_err(&io)?;
        let tmp = path.with_extension("json.tmp");
        let _ = std::fs::remove_file(&tmp);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut reservation = Reservation {
            path: path.to_owned(),
            tmp: tmp.clone(),
            file: None,
            committed: false,
        };
        let mut file = options.open(&tmp).map_err(&io)?;
        let size = current
            .map(|t| serde_json::to_vec_pretty(t).map(|j| j.len()).unwrap_or(0))
            .unwrap_or(0)
            + RESERVE_MARGIN;
        // Real bytes, written and synced: a sparse length would not prove the room is there.
        file.write_all(&vec![b' '; size]).map_err(&io)?;
        file.sync_all().map_err(&io)?;
        reservation.file = Some(file);
        Ok(reservation)
    }

    /// Writes `tokens` into the reserved room and puts the file in place of the old one.
    pub fn commit(mut self, tokens: &TokenSet) -> Result<(), TokenFileError> {
        use std::io::{Seek, SeekFrom};
        let io = io_error(&self.path);
        let mut file = self
            .file
            .take()
            .expect("a reservation holds its file until used");
        let json = serde_json::to_vec_pretty(tokens).expect("tokens serialise");
        file.seek(SeekFrom::Start(0)).map_err(&io)?;
        file.write_all(&json).map_err(&io)?;
        file.set_len(json.len() as u64).map_err(&io)?;
        file.sync_all().map_err(&io)?;
        std::fs::rename(&self.tmp, &self.path).map_err(&io)?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        // Not committed, or committing failed: no temp file is left behind.
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> TokenFileError + '_ {
    move |e| TokenFileError::Io {
        path: path.to_owned(),
        cause: e.to_string(),
    }
}

/// Writes the token file: a temp file created with mode 0600, then renamed over the old one,
/// so the secrets are never readable by others, not even for a moment. Nothing is left behind
/// when it fails.
pub fn save(path: &Path, tokens: &TokenSet) -> Result<(), TokenFileError> {
    Reservation::new(path, Some(tokens))?.commit(tokens)
}

/// Checks that the token file can be written (before a sign-in asks the user for anything).
pub fn check_writable(path: &Path) -> Result<(), TokenFileError> {
    Reservation::new(path, None).map(drop)
}

/// Deletes the token file; true if there was one.
pub fn delete(path: &Path) -> Result<bool, TokenFileError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
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
}
