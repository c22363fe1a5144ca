//! What the TUI remembers between runs, in the data dir rather than the config (it is the
//! user's last choice, not their configuration): the calendars hidden from the views.

use std::collections::BTreeSet;

use crate::model::ViewKey;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The file in the data dir.
pub const HIDDEN_FILE: &str = "hidden-calendars.json";

/// The file that keeps the hidden calendars.
pub fn hidden_path(data_dir: &Path) -> PathBuf {
    data_dir.join(HIDDEN_FILE)
}

/// The hidden calendars' view keys; none when the file is missing or unreadable (a damaged
/// file only costs the user their last choice, so it is not an error).
pub fn load_hidden(data_dir: &Path) -> BTreeSet<ViewKey> {
    let path = hidden_path(data_dir);
    // A list of calendar ids: a few kilobytes; a link or a device in its place is no list.
    match crate::paths::read_regular_file(&path, 1024 * 1024) {
        Ok((bytes, _)) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            tracing::warn!(file = %path.display(), error = %e, "ignoring an unreadable file");
            BTreeSet::new()
        }),
        Err(_) => BTreeSet::new(),
    }
}

/// Saves the hidden calendars: written aside and renamed over the file, so a crash leaves the
/// old choice or the new one.
pub fn save_hidden(data_dir: &Path, hidden: &BTreeSet<ViewKey>) -> std::io::Result<()> {
    crate::paths::ensure_private_dir(data_dir)?;
    let mut file = tempfile::NamedTempFile::new_in(data_dir)?;
    file.write_all(&serde_json::to_vec(hidden).map_err(std::io::Error::other)?)?;
    file.as_file().sync_all()?;
    file.persist(hidden_path(data_dir)).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_calendars_round_trip_and_damage_means_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_hidden(dir.path()).is_empty());
        let hidden: BTreeSet<ViewKey> = [ViewKey::from("AAMkCal0001AAA=")].into();
        save_hidden(dir.path(), &hidden).unwrap();
        assert_eq!(load_hidden(dir.path()), hidden);
        std::fs::write(hidden_path(dir.path()), b"{not json").unwrap();
        assert!(load_hidden(dir.path()).is_empty());
    }
}
