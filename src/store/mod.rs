//! The redb cache: events per calendar view, a time index, and each view's sync state.
//!
//! Every table is declared here. A page of changes and the link that follows it commit in one
//! write transaction, so the cache and its sync state never disagree, whatever stops the process.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use redb::{
    ConcurrencyMode, Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction,
};
use serde::{Deserialize, Serialize};

use chrono::NaiveDate;

use crate::failure::FailureKind;
use crate::model::{CachedEvent, Change, Event, Window};
use crate::tz::DisplayZone;

/// Bumped whenever a table's layout changes. A file of the previous schema is brought up to date
/// in place; any other is refused with advice to rebuild.
pub const SCHEMA_VERSION: u64 = 4;
/// Schema 3 also kept each event's JSON as the server sent it, in a table nothing read.
const SCHEMA_WITH_RAW: u64 = 3;

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// An event row: (end ms, generation that last wrote it, event record in postcard).
type EventRow = (i64, u64, &'static [u8]);
/// (view, start ms, id) -> [`EventRow`]. Keyed by start so that "events overlapping [a, b)" is
/// one range scan from `a - longest` to `b` that yields the records themselves, `longest` being
/// the view's longest event. Events without a start sit at `NO_SPAN` and are never in range.
const EVENTS: TableDefinition<(&str, i64, &str), EventRow> = TableDefinition::new("events");
/// (view, id) -> start ms: finds an event's row when it changes or goes.
const IDS: TableDefinition<(&str, &str), i64> = TableDefinition::new("ids");
/// Schema 3's table of raw JSON, deleted on migration.
const RAW_V3: &str = "raw";
/// view -> the longest event duration ever stored, in ms (only grows until a sweep).
const LONGEST: TableDefinition<&str, i64> = TableDefinition::new("longest");
/// view -> SyncState as JSON.
const SYNC: TableDefinition<&str, &[u8]> = TableDefinition::new("sync_state");

const NO_SPAN: i64 = i64::MIN;

/// A problem with the cache file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cache {path} was written by another version of deltacal (schema {found}, expected {expected}); delete it to rebuild from the server (your sign-in is kept)"
    )]
    Schema {
        path: PathBuf,
        found: u64,
        expected: u64,
    },
    #[error(
        "cache {path} is unreadable ({cause}); delete it to rebuild from the server (your sign-in is kept)"
    )]
    Damaged { path: PathBuf, cause: String },
    #[error("cache {path}: {cause}")]
    Io { path: PathBuf, cause: String },
}

impl StoreError {
    pub fn kind(&self) -> FailureKind {
        FailureKind::Cache
    }
}

/// The link a view's next request starts from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SavedLink {
    /// Mid-round: the next page of the current round.
    Next(String),
    /// Between rounds: the start of the next incremental round.
    Delta(String),
}

/// Counts of one round, as shown by `sync`, `status` and the status bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundCounts {
    pub added: u64,
    pub updated: u64,
    pub removed: u64,
    pub pages: u64,
}

impl RoundCounts {
    pub fn add(&mut self, page: &PageOutcome) {
        self.added += page.added;
        self.updated += page.updated;
        self.removed += page.removed;
        self.pages += 1;
    }
}

/// What the sync engine remembers about a calendar view between pages and between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    pub window: Window,
    pub link: Option<SavedLink>,
    /// Bumped at the start of every full round; the sweep at its end removes older events.
    pub generation: u64,
    /// Bumped at the start of every round, so the store knows which pages belong together.
    pub round: u64,
    /// Whether the round in progress (if `link` is `Next`) is a full round that ends in a sweep.
    pub full_round: bool,
    /// Counts of the round in progress, kept by the store, so a resumed round reports its
    /// whole work.
    pub progress: RoundCounts,
    pub last_completed: Option<DateTime<Utc>>,
    pub last_counts: Option<RoundCounts>,
}

impl SyncState {
    pub fn new(window: Window) -> SyncState {
        SyncState {
            window,
            link: None,
            generation: 0,
            round: 0,
            full_round: false,
            progress: RoundCounts::default(),
            last_completed: None,
            last_counts: None,
        }
    }
}

/// What one committed page did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageOutcome {
    pub added: u64,
    pub updated: u64,
    pub removed: u64,
    /// The time range whose contents changed (old and new spans of every touched event).
    pub range: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

impl PageOutcome {
    fn touch(&mut self, start_ms: i64, end_ms: i64) {
        if start_ms == NO_SPAN {
            return;
        }
        let (a, b) = (from_ms(start_ms), from_ms(end_ms.max(start_ms)));
        self.range = Some(match self.range {
            None => (a, b),
            Some((x, y)) => (x.min(a), y.max(b)),
        });
    }
}

fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The deltacal cache.
pub struct Store {
    db: Database,
    path: PathBuf,
}

impl Store {
    /// Opens (or creates) the cache. Several deltacal processes may have it open at once.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let damaged = |e: &dyn std::fmt::Display| StoreError::Damaged {
            path: path.to_owned(),
            cause: e.to_string(),
        };
        if let Some(parent) = path.parent() {
            crate::paths::ensure_private_dir(parent).map_err(|e| StoreError::Io {
                path: path.to_owned(),
                cause: e.to_string(),
            })?;
        }
        let db = Database::builder()
            .set_concurrency_mode(ConcurrencyMode::MultiWriter)
            .set_cache_size(16 * 1024 * 1024)
            .create(path)
            .map_err(|e| damaged(&e))?;
        let store = Store {
            db,
            path: path.to_owned(),
        };
        store.check_schema()?;
        Ok(store)
    }

    fn err(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Io {
            path: self.path.clone(),
            cause: e.to_string(),
        }
    }

    /// A record that does not decode: the file is damaged (or from a foreign writer).
    fn damaged(&self, what: impl std::fmt::Display) -> StoreError {
        StoreError::Damaged {
            path: self.path.clone(),
            cause: what.to_string(),
        }
    }

    fn check_schema(&self) -> Result<(), StoreError> {
        let read = self.db.begin_read().map_err(|e| self.err(e))?;
        let found = match read.open_table(META) {
            Ok(meta) => meta
                .get("schema")
                .map_err(|e| self.err(e))?
                .map(|v| v.value()),
            Err(redb::TableError::TableDoesNotExist(_)) => None,
            Err(e) => return Err(self.err(e)),
        };
        drop(read);
        match found {
            Some(v) if v == SCHEMA_VERSION => Ok(()),
            Some(SCHEMA_WITH_RAW) => self.migrate(),
            Some(found) => Err(StoreError::Schema {
                path: self.path.clone(),
                found,
                expected: SCHEMA_VERSION,
            }),
            None => self.initialise(),
        }
    }

    /// Brings a schema 3 file up to date: its events are kept, the unread raw table goes.
    fn migrate(&self) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut meta = txn.open_table(META).map_err(|e| self.err(e))?;
            // Another process may have migrated the file meanwhile.
            let found = meta
                .get("schema")
                .map_err(|e| self.err(e))?
                .map(|v| v.value());
            if found == Some(SCHEMA_WITH_RAW) {
                let raw: TableDefinition<(&str, i64, &str), &str> = TableDefinition::new(RAW_V3);
                txn.delete_table(raw).map_err(|e| self.err(e))?;
                meta.insert("schema", SCHEMA_VERSION)
                    .map_err(|e| self.err(e))?;
            }
        }
        txn.commit().map_err(|e| self.err(e))?;
        tracing::info!("cache migrated to schema {SCHEMA_VERSION}");
        Ok(())
    }

    fn initialise(&self) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut meta = txn.open_table(META).map_err(|e| self.err(e))?;
            // Another process may have initialised the file meanwhile; a foreign schema wins.
            if meta.get("schema").map_err(|e| self.err(e))?.is_none() {
                meta.insert("schema", SCHEMA_VERSION)
                    .map_err(|e| self.err(e))?;
            }
            txn.open_table(EVENTS).map_err(|e| self.err(e))?;
            txn.open_table(IDS).map_err(|e| self.err(e))?;
            txn.open_table(LONGEST).map_err(|e| self.err(e))?;
            txn.open_table(SYNC).map_err(|e| self.err(e))?;
        }
        txn.commit().map_err(|e| self.err(e))?;
        let read = self.db.begin_read().map_err(|e| self.err(e))?;
        let meta = read.open_table(META).map_err(|e| self.err(e))?;
        match meta
            .get("schema")
            .map_err(|e| self.err(e))?
            .map(|v| v.value())
        {
            Some(SCHEMA_VERSION) => Ok(()),
            found => Err(StoreError::Schema {
                path: self.path.clone(),
                found: found.unwrap_or(0),
                expected: SCHEMA_VERSION,
            }),
        }
    }

    /// Commits a page of changes together with the state that follows it, in one transaction.
    /// Upserts are stamped with `next.generation`. Re-applying a page is harmless; removing an
    /// unknown id does nothing; for an id that appears twice, the later change wins.
    ///
    /// Returns what the page did and the state as saved: the page's counts are added to the
    /// round's progress, and a page that ends the round (a delta link) records them as the
    /// last round's counts.
    pub fn apply_page(
        &self,
        view: &str,
        changes: &[Change],
        next: &SyncState,
    ) -> Result<(PageOutcome, SyncState), StoreError> {
        self.commit_page(view, changes, next, false)
    }

    /// Like [`Store::apply_page`], and in the same transaction removes every event of the view
    /// that the current generation did not write: the end of a full round.
    pub fn apply_page_and_sweep(
        &self,
        view: &str,
        changes: &[Change],
        next: &SyncState,
    ) -> Result<(PageOutcome, SyncState), StoreError> {
        self.commit_page(view, changes, next, true)
    }

    fn commit_page(
        &self,
        view: &str,
        changes: &[Change],
        next: &SyncState,
        sweep: bool,
    ) -> Result<(PageOutcome, SyncState), StoreError> {
        // Every commit is durable: the cache is shared with other deltacal processes, where
        // redb allows no other kind, and a page that survives a crash need not be fetched again.
        let txn = self.db.begin_write().map_err(|e| self.err(e))?;
        let mut outcome = self.write_changes(&txn, view, changes, next.generation)?;
        if sweep {
            let swept = self.sweep_in(&txn, view, next.generation)?;
            outcome.removed += swept.removed;
            if let Some((a, b)) = swept.range {
                outcome.touch(to_ms(a), to_ms(b));
            }
        }
        let mut state = next.clone();
        {
            let mut sync = txn.open_table(SYNC).map_err(|e| self.err(e))?;
            let previous: Option<SyncState> = sync
                .get(view)
                .map_err(|e| self.err(e))?
                .and_then(|v| serde_json::from_slice(v.value()).ok());
            // Pages of the same round add up, also across a crash and resume.
            state.progress = previous
                .filter(|p| p.round == state.round)
                .map(|p| p.progress)
                .unwrap_or_default();
            state.progress.add(&outcome);
            if matches!(state.link, Some(SavedLink::Delta(_))) {
                state.last_counts = Some(state.progress);
            }
            let bytes = serde_json::to_vec(&state).map_err(|e| self.err(e))?;
            sync.insert(view, bytes.as_slice())
                .map_err(|e| self.err(e))?;
        }
        txn.commit().map_err(|e| self.err(e))?;
        Ok((outcome, state))
    }

    fn write_changes(
        &self,
        txn: &WriteTransaction,
        view: &str,
        changes: &[Change],
        generation: u64,
    ) -> Result<PageOutcome, StoreError> {
        let mut events = txn.open_table(EVENTS).map_err(|e| self.err(e))?;
        let mut ids = txn.open_table(IDS).map_err(|e| self.err(e))?;
        let mut longest_table = txn.open_table(LONGEST).map_err(|e| self.err(e))?;
        let mut longest = longest_table
            .get(view)
            .map_err(|e| self.err(e))?
            .map(|v| v.value())
            .unwrap_or(0);
        let longest_before = longest;
        let mut outcome = PageOutcome::default();
        for change in changes {
            let id = change.id();
            let old_start = ids
                .remove((view, id))
                .map_err(|e| self.err(e))?
                .map(|v| v.value());
            if let Some(start) = old_start {
                let old_end = events
                    .remove((view, start, id))
                    .map_err(|e| self.err(e))?
                    .map(|v| v.value().0)
                    .unwrap_or(start);
                outcome.touch(start, old_end);
            }
            match change {
                Change::Remove { .. } => {
                    if old_start.is_some() {
                        outcome.removed += 1;
                    }
                }
                Change::Upsert { event } => {
                    let (start, end) = event
                        .span()
                        .map(|(a, b)| (to_ms(a), to_ms(b)))
                        .unwrap_or((NO_SPAN, NO_SPAN));
                    let record = postcard::to_allocvec(event.as_ref()).map_err(|e| self.err(e))?;
                    events
                        .insert((view, start, id), (end, generation, record.as_slice()))
                        .map_err(|e| self.err(e))?;
                    ids.insert((view, id), start).map_err(|e| self.err(e))?;
                    if start != NO_SPAN {
                        longest = longest.max(end - start);
                    }
                    outcome.touch(start, end);
                    if old_start.is_some() {
                        outcome.updated += 1;
                    } else {
                        outcome.added += 1;
                    }
                }
            }
        }
        if longest != longest_before {
            longest_table
                .insert(view, longest)
                .map_err(|e| self.err(e))?;
        }
        Ok(outcome)
    }

    fn decode(&self, id: &str, bytes: &[u8]) -> Result<Event, StoreError> {
        postcard::from_bytes(bytes).map_err(|e| self.damaged(format!("event {id}: {e}")))
    }

    /// Removes every event of `view` written by a generation older than `generation`.
    #[cfg(test)]
    fn sweep(&self, view: &str, generation: u64) -> Result<PageOutcome, StoreError> {
        let txn = self.db.begin_write().map_err(|e| self.err(e))?;
        let outcome = self.sweep_in(&txn, view, generation)?;
        txn.commit().map_err(|e| self.err(e))?;
        Ok(outcome)
    }

    fn sweep_in(
        &self,
        txn: &WriteTransaction,
        view: &str,
        generation: u64,
    ) -> Result<PageOutcome, StoreError> {
        let mut events = txn.open_table(EVENTS).map_err(|e| self.err(e))?;
        let mut ids = txn.open_table(IDS).map_err(|e| self.err(e))?;
        let mut stale = Vec::new();
        let mut longest = 0;
        for entry in events
            .range((view, i64::MIN, "")..)
            .map_err(|e| self.err(e))?
        {
            let (key, value) = entry.map_err(|e| self.err(e))?;
            let (key_view, start, id) = key.value();
            if key_view != view {
                break;
            }
            let (end, written, _) = value.value();
            if written < generation {
                stale.push((start, id.to_owned(), end));
            } else if start != NO_SPAN {
                longest = longest.max(end - start);
            }
        }
        let mut outcome = PageOutcome::default();
        for (start, id, end) in &stale {
            events
                .remove((view, *start, id.as_str()))
                .map_err(|e| self.err(e))?;
            ids.remove((view, id.as_str())).map_err(|e| self.err(e))?;
            outcome.touch(*start, *end);
            outcome.removed += 1;
        }
        // A sweep is the one moment the longest duration can be recomputed exactly.
        txn.open_table(LONGEST)
            .map_err(|e| self.err(e))?
            .insert(view, longest)
            .map_err(|e| self.err(e))?;
        Ok(outcome)
    }

    pub fn sync_state(&self, view: &str) -> Result<Option<SyncState>, StoreError> {
        let read = self.db.begin_read().map_err(|e| self.err(e))?;
        let sync = read.open_table(SYNC).map_err(|e| self.err(e))?;
        let Some(bytes) = sync.get(view).map_err(|e| self.err(e))? else {
            return Ok(None);
        };
        serde_json::from_slice(bytes.value())
            .map(Some)
            .map_err(|e| self.damaged(format!("sync state of {view}: {e}")))
    }

    /// Every view the cache has state for, in name order.
    fn views(&self) -> Result<Vec<String>, StoreError> {
        let read = self.db.begin_read().map_err(|e| self.err(e))?;
        let sync = read.open_table(SYNC).map_err(|e| self.err(e))?;
        let mut views = Vec::new();
        for entry in sync.iter().map_err(|e| self.err(e))? {
            let (key, _) = entry.map_err(|e| self.err(e))?;
            views.push(key.value().to_owned());
        }
        Ok(views)
    }

    /// Events of the given views (all views when `views` is None) that overlap `[from, to)`,
    /// sorted by start then id. An event that has no duration overlaps when it starts in range.
    pub fn events_overlapping(
        &self,
        views: Option<&[String]>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<CachedEvent>, StoreError> {
        let all_views;
        let views = match views {
            Some(v) => v,
            None => {
                all_views = self.views()?;
                &all_views
            }
        };
        let read = self.db.begin_read().map_err(|e| self.err(e))?;
        let events = read.open_table(EVENTS).map_err(|e| self.err(e))?;
        let longest = read.open_table(LONGEST).map_err(|e| self.err(e))?;
        let (from_ms, to_ms) = (to_ms(from), to_ms(to));
        let mut found = Vec::new();
        for view in views {
            let span = longest
                .get(view.as_str())
                .map_err(|e| self.err(e))?
                .map(|v| v.value())
                .unwrap_or(0);
            let lower = (
                view.as_str(),
                from_ms.saturating_sub(span).max(NO_SPAN + 1),
                "",
            );
            let upper = (view.as_str(), to_ms, "");
            for entry in events.range(lower..upper).map_err(|e| self.err(e))? {
                let (key, value) = entry.map_err(|e| self.err(e))?;
                let (_, start, id) = key.value();
                let (end, _, bytes) = value.value();
                if end > from_ms || (end == start && start >= from_ms) {
                    found.push((start, id.to_owned(), view.clone(), self.decode(id, bytes)?));
                }
            }
        }
        found.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        Ok(found
            .into_iter()
            .map(|(_, _, view, event)| CachedEvent { view, event })
            .collect())
    }

    /// Where an event's rows are: its start, from the id table.
    #[cfg(test)]
    fn start_of(
        &self,
        read: &redb::ReadTransaction,
        view: &str,
        id: &str,
    ) -> Result<Option<i64>, StoreError> {
        let ids = read.open_table(IDS).map_err(|e| self.err(e))?;
        Ok(ids
            .get((view, id))
            .map_err(|e| self.err(e))?
            .map(|v| v.value()))
    }

    /// One cached event.
    #[cfg(test)]
    fn event(&self, view: &str, id: &str) -> Result<Option<Event>, StoreError> {
        let read = self.db.begin_read().map_err(|e| self.err(e))?;
        let Some(start) = self.start_of(&read, view, id)? else {
            return Ok(None);
        };
        let events = read.open_table(EVENTS).map_err(|e| self.err(e))?;
        let Some(row) = events.get((view, start, id)).map_err(|e| self.err(e))? else {
            return Err(self.damaged(format!("event {id} is indexed but missing")));
        };
        self.decode(id, row.value().2).map(Some)
    }

    /// Every event of a view as (id, version, generation), in id order.
    #[cfg(test)]
    fn versions(&self, view: &str) -> Result<Vec<(String, Option<String>, u64)>, StoreError> {
        let read = self.db.begin_read().map_err(|e| self.err(e))?;
        let events = read.open_table(EVENTS).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for entry in events
            .range((view, i64::MIN, "")..)
            .map_err(|e| self.err(e))?
        {
            let (key, value) = entry.map_err(|e| self.err(e))?;
            let (key_view, _, id) = key.value();
            if key_view != view {
                break;
            }
            let (_, generation, bytes) = value.value();
            let event = self.decode(id, bytes)?;
            out.push((
                id.to_owned(),
                event.version().map(str::to_owned),
                generation,
            ));
        }
        out.sort();
        Ok(out)
    }

    /// How many events a view holds.
    pub fn count(&self, view: &str) -> Result<u64, StoreError> {
        let read = self.db.begin_read().map_err(|e| self.err(e))?;
        let ids = read.open_table(IDS).map_err(|e| self.err(e))?;
        let mut n = 0;
        for entry in ids.range((view, "")..).map_err(|e| self.err(e))? {
            let (key, _) = entry.map_err(|e| self.err(e))?;
            if key.value().0 != view {
                break;
            }
            n += 1;
        }
        Ok(n)
    }

    /// Cached events of `views` that occupy any day of `[first, last]` in `zone`, sorted by start
    /// then id: what the agenda prints and the TUI shows.
    pub fn events_in_days(
        &self,
        views: &[String],
        zone: &DisplayZone,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<Vec<CachedEvent>, StoreError> {
        let (from, to) = zone.days_range(first, last);
        let (from, to) = widen_for_all_day(from, to);
        let mut events = self.events_overlapping(Some(views), from, to)?;
        events.retain(|c| crate::days::occupies(&c.event, zone, first, last));
        Ok(events)
    }

    /// Cached events whose subject contains `needle` (case-insensitive), soonest first.
    pub fn search(&self, needle: &str, limit: usize) -> Result<Vec<CachedEvent>, StoreError> {
        let needle = needle.to_lowercase();
        let read = self.db.begin_read().map_err(|e| self.err(e))?;
        let events = read.open_table(EVENTS).map_err(|e| self.err(e))?;
        let mut found = Vec::new();
        for entry in events.iter().map_err(|e| self.err(e))? {
            let (key, value) = entry.map_err(|e| self.err(e))?;
            let (view, start, id) = key.value();
            let event = self.decode(id, value.value().2)?;
            let hit = event
                .subject
                .as_deref()
                .is_some_and(|s| s.to_lowercase().contains(&needle));
            if hit {
                found.push((
                    start,
                    CachedEvent {
                        view: view.to_owned(),
                        event,
                    },
                ));
            }
        }
        found.sort_by(|a, b| (a.0, &a.1.event.id).cmp(&(b.0, &b.1.event.id)));
        found.truncate(limit);
        Ok(found.into_iter().map(|(_, e)| e).collect())
    }
}

/// Widens a range by a day on each side: all-day events are stored at the midnights of the
/// zone the server used, which may differ from the display zone.
fn widen_for_all_day(from: DateTime<Utc>, to: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (from - Duration::days(1), to + Duration::days(1))
}

#[cfg(test)]
mod tests;
