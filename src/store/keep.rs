//! What the cache keeps besides events: the account's calendars as Graph last listed them
//! (names and colours for the views), and which reminders were shown (so that none is shown
//! twice across restarts). Small JSON values in a table of their own; a cache without the
//! table (older, or not yet written) simply has none.

use redb::ReadableTable as _;
use serde::{Deserialize, Serialize};

use super::tables::KEEP;
use super::{Fault, Store, StoreError};
use crate::model::{CalendarInfo, EventId, ViewKey};

/// A reminder that was shown: of which event, for which start (a moved event reminds again),
/// until when it lasts (after its end the mark is dropped), and when a snoozed one is due again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderMark {
    /// The calendar view of the event.
    pub view: ViewKey,
    /// The event.
    pub id: EventId,
    /// The start it reminded of, in ms.
    pub start_ms: i64,
    /// The event's end, in ms: the mark goes after it.
    pub end_ms: i64,
    /// When a snoozed reminder is due again, in ms.
    pub snoozed_until_ms: Option<i64>,
}

const CALENDARS: &str = "calendars";
const REMINDED: &str = "reminded";
const FAILURES: &str = "failures";

/// Why a calendar view's last sync failed, for `status` and every process that shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ViewFailure {
    /// When.
    pub at: chrono::DateTime<chrono::Utc>,
    /// Why, for people (sanitised when it was saved).
    pub message: String,
}

impl Store {
    fn keep_get<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Fault> {
        let read = self.read()?;
        let table = match read.open_table(KEEP) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Some(bytes) = table.get(key)? else {
            return Ok(None);
        };
        serde_json::from_slice(bytes.value())
            .map(Some)
            .map_err(|e| Fault::damaged(format!("{key}: {e}")))
    }

    fn keep_put<T: serde::Serialize>(&self, key: &str, value: &T) -> Result<(), Fault> {
        let bytes = serde_json::to_vec(value).map_err(|e| Fault::unwritable(key, e))?;
        let txn = self.write()?;
        {
            let mut table = txn.open_table(KEEP)?;
            table.insert(key, bytes.as_slice())?;
        }
        Ok(txn.commit()?)
    }

    /// The account's calendars as last listed (empty before the first listing).
    pub fn calendar_list(&self) -> Result<Vec<CalendarInfo>, StoreError> {
        self.run(|| Ok(self.keep_get(CALENDARS)?.unwrap_or_default()))
    }

    /// Saves the account's calendars as Graph listed them.
    pub fn save_calendar_list(&self, calendars: &[CalendarInfo]) -> Result<(), StoreError> {
        self.run(|| self.keep_put(CALENDARS, &calendars))
    }

    /// Why each calendar view's last sync failed, for the views whose last sync did.
    pub fn view_failures(
        &self,
    ) -> Result<std::collections::BTreeMap<String, ViewFailure>, StoreError> {
        self.run(|| Ok(self.keep_get(FAILURES)?.unwrap_or_default()))
    }

    /// Records how a view's sync ended: why it failed, or (None) that it did not. Read and
    /// written in one transaction, so processes noting other views keep each other's.
    pub fn note_view_failure(
        &self,
        view: &str,
        failure: Option<ViewFailure>,
    ) -> Result<(), StoreError> {
        self.run(|| {
            let txn = self.write()?;
            {
                let mut table = txn.open_table(KEEP)?;
                let mut all: std::collections::BTreeMap<String, ViewFailure> =
                    match table.get(FAILURES)? {
                        Some(bytes) => serde_json::from_slice(bytes.value())
                            .map_err(|e| Fault::damaged(format!("{FAILURES}: {e}")))?,
                        None => Default::default(),
                    };
                let changed = match failure {
                    Some(f) => all.insert(view.to_owned(), f.clone()) != Some(f),
                    None => all.remove(view).is_some(),
                };
                if !changed {
                    return Ok(());
                }
                let bytes = serde_json::to_vec(&all).map_err(|e| Fault::unwritable(FAILURES, e))?;
                table.insert(FAILURES, bytes.as_slice())?;
            }
            Ok(txn.commit()?)
        })
    }

    /// The reminders already shown.
    pub fn reminded(&self) -> Result<Vec<ReminderMark>, StoreError> {
        self.run(|| Ok(self.keep_get(REMINDED)?.unwrap_or_default()))
    }

    /// Saves which reminders were shown.
    pub fn save_reminded(&self, shown: &[ReminderMark]) -> Result<(), StoreError> {
        self.run(|| self.keep_put(REMINDED, &shown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_values_round_trip_and_start_empty() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("c.redb")).unwrap();
        assert!(store.calendar_list().unwrap().is_empty());
        assert!(store.reminded().unwrap().is_empty());
        let cal = CalendarInfo {
            id: "AAMk=".into(),
            name: "Work".into(),
            color: Some("lightBlue".into()),
            is_default: true,
            ..CalendarInfo::default()
        };
        store
            .save_calendar_list(std::slice::from_ref(&cal))
            .unwrap();
        assert_eq!(store.calendar_list().unwrap(), [cal]);
        let mark = ReminderMark {
            view: "default".into(),
            id: "e1".into(),
            start_ms: 1_700_000_000_000,
            end_ms: 1_700_000_360_000,
            snoozed_until_ms: None,
        };
        store.save_reminded(std::slice::from_ref(&mark)).unwrap();
        assert_eq!(store.reminded().unwrap().len(), 1);
    }
}
