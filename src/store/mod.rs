//! The redb cache: events per calendar view, a time index, and each view's sync state.
//!
//! Every table is declared in `tables`. A page of changes and the link that follows it commit in one
//! write transaction, so the cache and its sync state never disagree, whatever stops the process.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use redb::{ConcurrencyMode, Database, ReadableDatabase, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use chrono::{Datelike, NaiveDate};

use crate::days::DayTable;
use crate::failure::FailureKind;
use crate::model::{Body, CachedEvent, Change, Event, ViewKey, Window};
use crate::search::Query;
use crate::tz::DisplayZone;
use tables::*;

/// Bumped whenever a table's layout changes. A file of an older schema this version knows is
/// emptied and rebuilt by the next sync (the cache is a mirror); any other is refused with
/// advice to rebuild.
pub const SCHEMA_VERSION: u64 = 15;
/// The schemas of earlier releases: 3 kept raw JSON, 4 had no series tables, 7 no reminders,
/// 8 no time index, 9 bodies in a table of their own, 10 occurrences stored with their
/// series' properties, 11 no series patterns, 12 Graph's codes as text, 13 no `isOrganizer`
/// and no outbox, 14 no event zone.
const OLDER_SCHEMAS: [u64; 12] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];

const NO_SPAN: i64 = i64::MIN;

/// How much of the file redb keeps in memory, for reads and for the pages a write transaction
/// changes, by what the process is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheSize {
    /// 16 MB: a process that stays (the TUI, the reminder daemon) or only reads. A month of a
    /// dense calendar is a few hundred pages.
    Resident,
    /// 64 MB: `deltacal sync`, which exits when its rounds are done. A full round of a large
    /// calendar commits several pages per transaction (see the sync engine's committer), and
    /// the pages each changes must stay here until it commits: an evicted one is written early
    /// and read back. A calendar of a few thousand events never fills either.
    OneShot,
}

impl CacheSize {
    fn bytes(self) -> usize {
        match self {
            CacheSize::Resident => 16 * 1024 * 1024,
            CacheSize::OneShot => 64 * 1024 * 1024,
        }
    }
}

/// An event's times as the time index keeps them.
struct Timing {
    start: i64,
    end: i64,
    /// An all-day event's dates, first and last.
    all_day: Option<(NaiveDate, NaiveDate)>,
}

impl Timing {
    /// The index row of `event` as it shows (completed with its series).
    fn row(event: &Event, end: i64) -> TimesRow {
        let day = |d: NaiveDate| d.num_days_from_ce();
        let shows = !event.is_stub();
        match event.all_day_dates() {
            Some((a, b)) => TimesRow {
                end,
                first_day: day(a),
                last_day: day(b),
                shows,
            },
            None => TimesRow {
                end,
                first_day: NOT_ALL_DAY,
                last_day: NOT_ALL_DAY,
                shows,
            },
        }
    }

    /// The times of an index row; none when its event shows nothing (a stub whose master is not
    /// known yet): a read neither reads nor counts it.
    fn from_row(
        start: i64,
        TimesRow {
            end,
            first_day: first,
            last_day: last,
            shows,
        }: TimesRow,
    ) -> Option<Timing> {
        let date = NaiveDate::from_num_days_from_ce_opt;
        let all_day = match (first, date(first), date(last)) {
            (NOT_ALL_DAY, ..) => None,
            (_, Some(a), Some(b)) => Some((a, b)),
            _ => None,
        };
        shows.then_some(Timing {
            start,
            end,
            all_day,
        })
    }

    /// The days the event occupies, as [`crate::days::event_days`] tells them (a day outside
    /// the table's read as the one next to it).
    fn days(&self, table: &DayTable) -> (NaiveDate, NaiveDate) {
        self.all_day.unwrap_or_else(|| {
            table.span_days((from_ms(self.start), from_ms(self.end.max(self.start))))
        })
    }
}

/// A problem with the cache file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cache {path} was written by another version of deltacal (schema {found}, expected {expected}); delete it to rebuild from the server (your sign-in is kept)"
    )]
    /// The file is of a schema this version does not know.
    Schema {
        /// The cache file.
        path: PathBuf,
        /// The schema it has.
        found: u64,
        /// The schema this version writes.
        expected: u64,
    },
    #[error(
        "cache {path} is damaged ({cause}); `deltacal sync` moves it aside and rebuilds it from the server (your sign-in is kept)"
    )]
    /// The file is damaged, or not a cache.
    Damaged {
        /// The cache file.
        path: PathBuf,
        /// What is wrong with it.
        cause: String,
    },
    #[error("cache {path}: {cause}")]
    /// The file cannot be reached or written.
    Io {
        /// The cache file.
        path: PathBuf,
        /// What the system said.
        cause: String,
    },
    /// redb refused an operation; its error is kept as the source.
    #[error("cache {path}: {source}")]
    Database {
        /// The cache file.
        path: PathBuf,
        /// What redb said.
        #[source]
        source: redb::Error,
    },
    #[error(
        "cache {path} is on a read-only file system or not writable; deltacal can read it but not sync into it"
    )]
    /// The file can be read but not written.
    ReadOnly {
        /// The cache file.
        path: PathBuf,
    },
}

impl StoreError {
    /// What callers match on: always [`FailureKind::Cache`].
    pub fn kind(&self) -> FailureKind {
        FailureKind::Cache
    }

    /// True when the file itself is damaged (not merely unreachable or read-only).
    pub fn is_damaged(&self) -> bool {
        matches!(self, StoreError::Damaged { .. })
    }
}

/// A failure inside the store, before the file is named: [`Store::run`] makes it a
/// [`StoreError`] at the store's public surface, so that inside, `?` is the one conversion.
#[derive(Debug)]
pub(super) enum Fault {
    /// redb refused an operation.
    Db(redb::Error),
    /// A record does not decode: the file is damaged (or from a foreign writer).
    Damaged(String),
    /// A record of ours would not encode (no known record fails to).
    Unwritable(String),
    /// A write on a file opened read-only.
    ReadOnly,
    /// The file's layout is not one this version writes (`found`).
    Schema(u64),
}

macro_rules! fault_from_redb {
    ($($error:ty),+) => {
        $(impl From<$error> for Fault {
            fn from(e: $error) -> Fault {
                Fault::Db(e.into())
            }
        })+
    };
}

fault_from_redb!(
    redb::Error,
    redb::TableError,
    redb::StorageError,
    redb::TransactionError,
    redb::CommitError
);

impl Fault {
    /// A record that does not decode, or a read the file refused midway.
    fn damaged(what: impl std::fmt::Display) -> Fault {
        Fault::Damaged(what.to_string())
    }

    /// A record of ours that would not encode.
    fn unwritable(what: &str, e: impl std::fmt::Display) -> Fault {
        Fault::Unwritable(format!("cannot encode {what}: {e}"))
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

/// A commit another process made to the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheChange {
    /// The view it changed.
    pub view: ViewKey,
    /// The time range of the events it changed, if it changed any.
    pub range: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// It ended a round of the view.
    pub completed: bool,
}

/// Counts of one round, as shown by `sync`, `status` and the status bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundCounts {
    /// Events new to the view.
    pub added: u64,
    /// Events changed.
    pub updated: u64,
    /// Events that went.
    pub removed: u64,
    /// Pages committed.
    pub pages: u64,
}

impl std::ops::AddAssign for RoundCounts {
    fn add_assign(&mut self, other: RoundCounts) {
        self.added += other.added;
        self.updated += other.updated;
        self.removed += other.removed;
        self.pages += other.pages;
    }
}

/// A committed page counts as one page with its changes.
impl std::ops::AddAssign<&PageOutcome> for RoundCounts {
    fn add_assign(&mut self, page: &PageOutcome) {
        *self += RoundCounts {
            pages: 1,
            ..page.counts()
        };
    }
}

impl std::iter::Sum for RoundCounts {
    fn sum<I: Iterator<Item = RoundCounts>>(counts: I) -> RoundCounts {
        counts.fold(RoundCounts::default(), |mut sum, c| {
            sum += c;
            sum
        })
    }
}

/// Where a view's sync stands, as the sync engine decides it: the window, the link its next
/// request starts from and the round it is in. The engine owns it; the store saves it with
/// each page and never changes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The window the view's rounds list.
    pub window: Window,
    /// Where the next request starts; none before the first round or after a reset.
    pub link: Option<SavedLink>,
    /// Bumped at the start of every full round; the sweep at its end removes older events.
    pub generation: u64,
    /// Bumped at the start of every round, so the store knows which pages belong together.
    pub round: u64,
    /// Whether the round in progress (if `link` is `Next`) is a full round that ends in a sweep.
    pub full_round: bool,
    /// When the view's last round reached its delta link.
    pub last_completed: Option<DateTime<Utc>>,
    /// Series whose cached master is current at the start of this full round (it re-anchors a
    /// window whose incremental rounds, just caught up, delivered every change of them): their
    /// stubs need no fetch of the master. Empty outside such a round.
    #[serde(default)]
    pub current_masters: BTreeSet<String>,
    /// The view is synced by listing (`calendarView` pages, then a sweep), not delta: a group's
    /// calendar, or one whose delta refused its links (a delegated room).
    #[serde(default)]
    pub listed: bool,
}

impl Cursor {
    /// The cursor of a view never synced: no link, so its first round is a full one.
    pub fn new(window: Window) -> Cursor {
        Cursor {
            window,
            link: None,
            generation: 0,
            round: 0,
            full_round: false,
            last_completed: None,
            current_masters: BTreeSet::new(),
            listed: false,
        }
    }
}

/// The series of a view that need work after a round, as the store learns them from the pages
/// it commits (the engine cannot: they depend on what the cache holds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backlog {
    /// Series whose master must be fetched (their stubs are hidden until it is).
    #[serde(default, rename = "pending_masters")]
    pub masters: BTreeSet<String>,
    /// Series that changed in an incremental round and must be reconciled through their
    /// instances (the real service does not report a deleted occurrence).
    #[serde(default, rename = "pending_instances")]
    pub instances: BTreeSet<String>,
}

impl Backlog {
    /// Nothing waits.
    pub fn is_empty(&self) -> bool {
        self.masters.is_empty() && self.instances.is_empty()
    }

    /// Takes a series off both lists.
    fn forget(&mut self, master: &str) {
        self.masters.remove(master);
        self.instances.remove(master);
    }
}

/// What the cache keeps of a view's sync between pages and between runs: the engine's cursor
/// as last committed and what the store learnt (one JSON row of the sync table; the flattened
/// fields keep the row's layout of earlier releases).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    /// The engine's cursor, as saved with the last page.
    #[serde(flatten)]
    pub cursor: Cursor,
    /// Series that need work, kept by the store.
    #[serde(flatten)]
    pub backlog: Backlog,
    /// Counts of the round in progress, kept by the store, so a resumed round reports its
    /// whole work.
    pub progress: RoundCounts,
    /// Counts of the last round that reached its delta link.
    pub last_counts: Option<RoundCounts>,
}

/// A page to commit: its changes, the cursor that follows it, and whether it ends a full round
/// (the sweep).
pub struct PageJob<'a> {
    /// The page's changes, in the server's order.
    pub changes: &'a [Change],
    /// The engine's cursor after the page.
    pub cursor: &'a Cursor,
    /// The page ends a full round: events the round did not write go.
    pub sweep: bool,
}

impl<'a> PageJob<'a> {
    /// A page that does not end a full round.
    pub fn new(changes: &'a [Change], cursor: &'a Cursor) -> PageJob<'a> {
        PageJob {
            changes,
            cursor,
            sweep: false,
        }
    }
}

/// What one committed page did, and what the store learnt with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageOutcome {
    /// Events new to the view.
    pub added: u64,
    /// Events the view had, changed.
    pub updated: u64,
    /// Events that went.
    pub removed: u64,
    /// The time range whose contents changed (old and new spans of every touched event).
    pub range: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// The counts of the page's round so far, this page included (also across a crash and
    /// resume).
    pub progress: RoundCounts,
    /// The series left needing work, on the page that ends a round (its delta link); none on
    /// the others, where nothing reads it.
    pub backlog: Option<Backlog>,
}

impl PageOutcome {
    /// Its changes as counts (no page: a series' repair adds to the round's last one).
    pub fn counts(&self) -> RoundCounts {
        RoundCounts {
            added: self.added,
            updated: self.updated,
            removed: self.removed,
            pages: 0,
        }
    }

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

/// The redb file, open for writing, or for reading only (read-only media, no write permission).
enum Db {
    Writable(Database),
    ReadOnly(redb::ReadOnlyDatabase),
}

/// The deltacal cache.
pub struct Store {
    db: Db,
    path: PathBuf,
}

/// What an error opening the file says about it.
fn open_error(path: &Path, e: redb::DatabaseError) -> StoreError {
    use redb::{DatabaseError, StorageError};
    let io = |cause: String| StoreError::Io {
        path: path.to_owned(),
        cause,
    };
    match e {
        DatabaseError::Storage(StorageError::Io(e)) => match e.kind() {
            std::io::ErrorKind::PermissionDenied => {
                io("permission denied (check who owns the data dir and its mode, 0700)".into())
            }
            std::io::ErrorKind::ReadOnlyFilesystem => StoreError::ReadOnly {
                path: path.to_owned(),
            },
            // Not a redb file, or one cut short.
            std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof => {
                StoreError::Damaged {
                    path: path.to_owned(),
                    cause: e.to_string(),
                }
            }
            _ => io(e.to_string()),
        },
        DatabaseError::DatabaseAlreadyOpen | DatabaseError::LockProtocolMismatch => {
            io("in use by another program".into())
        }
        other => StoreError::Damaged {
            path: path.to_owned(),
            cause: other.to_string(),
        },
    }
}

/// How long an open waits for a process whose lock refuses it (an older deltacal, or one
/// that is repairing the file after a crash) before it reports the cache in use.
const OPEN_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs `open` until it is not refused for a lock another process holds, for [`OPEN_WAIT`] at
/// most: a lock that will be let go soon is waited for, not reported.
fn wait_while_refused<T>(
    mut open: impl FnMut() -> Result<T, redb::DatabaseError>,
) -> Result<T, redb::DatabaseError> {
    let started = std::time::Instant::now();
    let mut nap = std::time::Duration::from_millis(5);
    loop {
        match open() {
            Err(redb::DatabaseError::DatabaseAlreadyOpen) if started.elapsed() < OPEN_WAIT => {
                std::thread::sleep(nap);
                nap = (nap * 2).min(std::time::Duration::from_millis(200));
            }
            other => return other,
        }
    }
}

/// Makes sure the cache file is a regular file of the user's, never a symlink someone put in
/// its place (redb would follow it): with `create`, one that is missing is created empty with
/// mode 0600 (redb fills an empty file), so the cache is private from its first byte; one open
/// to others is made 0600 again.
fn prepare_file(path: &Path, create: bool) -> Result<(), StoreError> {
    let io = |cause: String| StoreError::Io {
        path: path.to_owned(),
        cause,
    };
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.is_file() => Err(io(
            "is not a regular file (a symlink or another kind of file), which deltacal does not open".into(),
        )),
        Ok(_) => {
            crate::paths::repair_mode(path, 0o600);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            crate::paths::private_no_follow(&mut options);
            match options.open(path) {
                Ok(_) => Ok(()),
                // Another process made it first.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
                Err(e) => Err(io(e.to_string())),
            }
        }
        // Not there to read: opening says so as it always did.
        Err(_) => Ok(()),
    }
}

/// Opens the file read-only in the same multi-process mode as the writers, so a reader (a
/// status bar's `next` every few seconds) shares the file with them: a read-only open in
/// redb's default mode locks the whole file and refuses every writer while it is open.
fn open_read_only(path: &Path) -> Result<redb::ReadOnlyDatabase, redb::DatabaseError> {
    wait_while_refused(|| {
        Database::builder()
            .set_concurrency_mode(ConcurrencyMode::MultiWriter)
            .set_cache_size(CacheSize::Resident.bytes())
            .open_read_only(path)
    })
}

impl Store {
    /// Opens (or creates) the cache. Several deltacal processes may have it open at once.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with(path, CacheSize::Resident)
    }

    /// [`Store::open`] with a cache of the size given.
    pub fn open_with(path: &Path, cache: CacheSize) -> Result<Store, StoreError> {
        if let Some(parent) = path.parent() {
            crate::paths::ensure_private_dir(parent).map_err(|e| StoreError::Io {
                path: path.to_owned(),
                cause: e.to_string(),
            })?;
        }
        prepare_file(path, true)?;
        let db = wait_while_refused(|| {
            Database::builder()
                .set_concurrency_mode(ConcurrencyMode::MultiWriter)
                .set_cache_size(cache.bytes())
                .create(path)
        })
        .map_err(|e| open_error(path, e))?;
        let store = Store {
            db: Db::Writable(db),
            path: path.to_owned(),
        };
        store.run(|| store.check_schema())?;
        Ok(store)
    }

    /// Opens an existing cache to read it, also where it cannot be written (read-only media, a
    /// file or dir without write permission).
    pub fn open_for_reading(path: &Path) -> Result<Store, StoreError> {
        prepare_file(path, false)?;
        // Read-only first: no write lock, nothing written or synced (the scripts that only
        // read start faster). A file that needs repair or a schema rebuild is opened to write.
        if let Ok(db) = open_read_only(path) {
            let store = Store {
                db: Db::ReadOnly(db),
                path: path.to_owned(),
            };
            match store.run(|| store.check_schema()) {
                Err(StoreError::ReadOnly { .. }) => {}
                checked => return checked.map(|()| store),
            }
        }
        match Store::open(path) {
            Err(StoreError::ReadOnly { .. })
            | Err(StoreError::Io { .. })
            | Err(StoreError::Database { .. }) => {
                let db = open_read_only(path).map_err(|e| open_error(path, e))?;
                let store = Store {
                    db: Db::ReadOnly(db),
                    path: path.to_owned(),
                };
                store.run(|| store.check_schema())?;
                Ok(store)
            }
            other => other,
        }
    }

    /// Opens the cache for syncing. A damaged one is moved aside, named so the user can find it,
    /// and a new one is started: the server is the source of truth. Returns where the damaged
    /// one went, if it was moved.
    /// With `verify`, every record is read first (a damaged record is found before a round
    /// trips on it); without, only what opening the file finds counts.
    pub fn open_or_rebuild(
        path: &Path,
        verify: bool,
        cache: CacheSize,
    ) -> Result<(Store, Option<PathBuf>), StoreError> {
        let opened = Store::open_with(path, cache).and_then(|store| {
            if verify {
                store.verify()?;
            }
            Ok(store)
        });
        match opened {
            Err(StoreError::Damaged { cause, .. }) => {
                let aside = Store::move_aside(path)?;
                tracing::warn!(cause = %cause, aside = %aside.display(), "damaged cache moved aside");
                Ok((Store::open_with(path, cache)?, Some(aside)))
            }
            other => other.map(|store| (store, None)),
        }
    }

    /// Moves a damaged cache out of the way: `cache.redb.damaged-YYYYMMDD-HHMMSS`.
    /// The user's changes still waiting in it are carried into a new cache at its place (the
    /// events are the server's, and come back with the next round; the changes are nowhere
    /// else), when its outbox can still be read.
    pub fn move_aside(path: &Path) -> Result<PathBuf, StoreError> {
        let waiting = outbox::salvage(path);
        let stamp = Utc::now().format("%Y%m%d-%H%M%S");
        let aside = path.with_extension(format!("redb.damaged-{stamp}"));
        std::fs::rename(path, &aside).map_err(|e| StoreError::Io {
            path: path.to_owned(),
            cause: format!("cannot move the damaged cache aside: {e}"),
        })?;
        if !waiting.is_empty() {
            let count = waiting.len();
            Store::open(path)?.restore_outbox(waiting)?;
            tracing::warn!(
                count,
                "changes not yet sent carried over from the damaged cache"
            );
        }
        Ok(aside)
    }

    /// Reads every record once: decoding fails on a damaged one.
    pub fn verify(&self) -> Result<(), StoreError> {
        self.run(|| {
            let read = self.read()?;
            let events = read.open_table(EVENTS)?;
            let times = read.open_table(TIMES)?;
            let masters = read.open_table(MASTERS)?;
            let mut series = Masters::default();
            let mut indexed = times.iter().map_err(Fault::damaged)?;
            for entry in events.iter().map_err(Fault::damaged)? {
                let (key, value) = entry.map_err(Fault::damaged)?;
                let (view, start, id) = key.value();
                let EventRow {
                    end, record: bytes, ..
                } = value.value();
                let event = series.complete(self, &masters, view, self.decode(id, bytes)?)?;
                // The time index has the same keys in the same order, with the times the row shows.
                let index = indexed.next().transpose().map_err(Fault::damaged)?;
                if !index.is_some_and(|(k, v)| {
                    k.value() == (view, start, id) && v.value() == Timing::row(&event, end)
                }) {
                    return Err(Fault::damaged(format!(
                        "event {id}: its time index row differs"
                    )));
                }
            }
            if indexed.next().is_some() {
                return Err(Fault::damaged(
                    "the time index has rows of events not stored",
                ));
            }
            for entry in masters.iter().map_err(Fault::damaged)? {
                let (key, value) = entry.map_err(Fault::damaged)?;
                self.decode(key.value().1, value.value().record)?;
            }
            let bodies = read.open_table(MASTER_BODIES)?;
            for entry in bodies.iter().map_err(Fault::damaged)? {
                let (key, value) = entry.map_err(Fault::damaged)?;
                let (view, id) = key.value();
                if masters.get((view, id))?.is_none() {
                    return Err(Fault::damaged(format!(
                        "the body of series {id} has no master"
                    )));
                }
                self.decode_body(id, value.value())?;
            }
            let ids = read.open_table(IDS)?;
            for entry in ids.iter().map_err(Fault::damaged)? {
                let (key, value) = entry.map_err(Fault::damaged)?;
                self.decode_body(key.value().1, value.value().body)?;
            }
            for view in self.views()? {
                self.saved_state(&view)?;
            }
            Ok(())
        })
    }

    fn read(&self) -> Result<redb::ReadTransaction, Fault> {
        match &self.db {
            Db::Writable(db) => Ok(db.begin_read()?),
            Db::ReadOnly(db) => Ok(db.begin_read()?),
        }
    }

    fn write(&self) -> Result<WriteTransaction, Fault> {
        match &self.db {
            Db::Writable(db) => Ok(db.begin_write()?),
            Db::ReadOnly(_) => Err(Fault::ReadOnly),
        }
    }

    /// Runs `body` and names the file in what it fails with.
    fn run<T>(&self, body: impl FnOnce() -> Result<T, Fault>) -> Result<T, StoreError> {
        body().map_err(|fault| self.located(fault))
    }

    /// The error a fault is in this file.
    fn located(&self, fault: Fault) -> StoreError {
        let path = self.path.clone();
        match fault {
            Fault::Db(source) => StoreError::Database { path, source },
            Fault::Damaged(cause) => StoreError::Damaged { path, cause },
            Fault::Unwritable(cause) => StoreError::Io { path, cause },
            Fault::ReadOnly => StoreError::ReadOnly { path },
            Fault::Schema(found) => StoreError::Schema {
                path,
                found,
                expected: SCHEMA_VERSION,
            },
        }
    }

    fn check_schema(&self) -> Result<(), Fault> {
        let read = self.read()?;
        let found = match read.open_table(META) {
            Ok(meta) => meta.get("schema")?.map(|v| v.value()),
            Err(redb::TableError::TableDoesNotExist(_)) => None,
            Err(e) => return Err(e.into()),
        };
        drop(read);
        match found {
            Some(v) if v == SCHEMA_VERSION => Ok(()),
            Some(v) if OLDER_SCHEMAS.contains(&v) => self.rebuild(v),
            Some(found) => Err(Fault::Schema(found)),
            None => self.initialise(),
        }
    }

    /// Empties a file of an older schema, tables and sync state alike: the next sync fills it
    /// with a full round. Tokens live elsewhere and are kept.
    fn rebuild(&self, found: u64) -> Result<(), Fault> {
        let txn = self.write()?;
        {
            let meta = txn.open_table(META)?;
            // Another process may have rebuilt the file meanwhile.
            let now = meta.get("schema")?.map(|v| v.value());
            drop(meta);
            if now == Some(found) {
                for table in txn.list_tables()? {
                    // The outbox holds the user's changes not yet sent: never emptied.
                    let name = redb::TableHandle::name(&table);
                    if name != "meta" && name != "outbox" {
                        txn.delete_table(table)?;
                    }
                }
                txn.open_table(META)?.remove("schema")?;
            }
        }
        txn.commit()?;
        tracing::info!(
            "cache of schema {found} emptied for schema {SCHEMA_VERSION}; the next sync refills it"
        );
        self.initialise()
    }

    fn initialise(&self) -> Result<(), Fault> {
        let txn = self.write()?;
        {
            let mut meta = txn.open_table(META)?;
            // Another process may have initialised the file meanwhile; a foreign schema wins.
            if meta.get("schema")?.is_none() {
                meta.insert("schema", SCHEMA_VERSION)?;
            }
            txn.open_table(EVENTS)?;
            txn.open_table(TIMES)?;
            txn.open_table(IDS)?;
            txn.open_table(LONGEST)?;
            txn.open_table(SYNC)?;
            txn.open_table(MASTERS)?;
            txn.open_table(MASTER_BODIES)?;
            txn.open_table(SERIES)?;
        }
        txn.commit()?;
        let read = self.read()?;
        let meta = read.open_table(META)?;
        match meta.get("schema")?.map(|v| v.value()) {
            Some(SCHEMA_VERSION) => Ok(()),
            found => Err(Fault::Schema(found.unwrap_or(0))),
        }
    }

    /// Commits pages in order, in one transaction: each with the cursor that follows it, as if
    /// each had committed alone. Upserts are stamped with the cursor's generation. Re-applying
    /// a page is harmless; removing an unknown id does nothing; for an id that appears twice,
    /// the later change wins. Returns what each page did.
    pub fn commit_pages(
        &self,
        view: &str,
        pages: &[PageJob<'_>],
    ) -> Result<Vec<PageOutcome>, StoreError> {
        self.run(|| {
            // Every commit is durable: the cache is shared with other deltacal processes, where
            // redb allows no other kind, and a page that survives a crash need not be fetched again.
            let txn = self.write()?;
            let mut done = Vec::with_capacity(pages.len());
            for page in pages {
                done.push(self.apply_in(&txn, view, page)?);
            }
            txn.commit()?;
            Ok(done)
        })
    }

    fn apply_in(
        &self,
        txn: &WriteTransaction,
        view: &str,
        &PageJob {
            changes,
            cursor,
            sweep,
        }: &PageJob<'_>,
    ) -> Result<PageOutcome, Fault> {
        let previous = self.state_in(txn, view)?;
        let last_counts = previous.as_ref().and_then(|p| p.last_counts);
        let (mut backlog, mut progress) = match previous {
            // Pages of the same round add up, also across a crash and resume.
            Some(p) if p.cursor.round == cursor.round => (p.backlog, p.progress),
            Some(p) => (p.backlog, RoundCounts::default()),
            None => Default::default(),
        };
        let full = cursor.full_round || sweep;
        let mut writer = Writer::open(self, txn, view, cursor.generation)?;
        writer.apply(changes, full, &mut backlog, &cursor.current_masters)?;
        if sweep {
            writer.sweep()?;
        }
        let mut outcome = writer.finish()?;
        progress += &outcome;
        // A round ends at its delta link; a listing (no links to keep) at its last page.
        let completed = matches!(cursor.link, Some(SavedLink::Delta(_)))
            || (cursor.listed && !cursor.full_round);
        let state = SyncState {
            cursor: cursor.clone(),
            progress,
            last_counts: if completed {
                Some(progress)
            } else {
                last_counts
            },
            backlog,
        };
        self.save_state_in(txn, view, &state)?;
        self.note_change(txn, view, outcome.range, completed)?;
        outcome.progress = progress;
        outcome.backlog = completed.then_some(state.backlog);
        Ok(outcome)
    }

    /// A view's saved state, read inside a write transaction.
    fn state_in(&self, txn: &WriteTransaction, view: &str) -> Result<Option<SyncState>, Fault> {
        let sync = txn.open_table(SYNC)?;
        let state = sync
            .get(view)?
            .map(|v| serde_json::from_slice(v.value()))
            .transpose()
            .map_err(|e| Fault::damaged(format!("sync state of {view}: {e}")))?;
        Ok(state)
    }

    fn save_state_in(
        &self,
        txn: &WriteTransaction,
        view: &str,
        state: &SyncState,
    ) -> Result<(), Fault> {
        let bytes = serde_json::to_vec(state).map_err(|e| Fault::unwritable(view, e))?;
        txn.open_table(SYNC)?.insert(view, bytes.as_slice())?;
        Ok(())
    }

    /// Numbers a commit's change of `view` in [`CHANGES`], in the commit's transaction.
    pub(crate) fn note_change(
        &self,
        txn: &WriteTransaction,
        view: &str,
        range: Option<(DateTime<Utc>, DateTime<Utc>)>,
        completed: bool,
    ) -> Result<(), Fault> {
        let mut changes = txn.open_table(CHANGES)?;
        let last = changes.last()?.map_or(0, |(k, _)| k.value());
        let (from, to) = range.map_or((NO_SPAN, NO_SPAN), |(a, b)| (to_ms(a), to_ms(b)));
        let number = last + 1;
        changes.insert(
            number,
            ChangeRow {
                process: std::process::id(),
                view,
                from,
                to,
                completed,
            },
        )?;
        if number > CHANGES_KEPT {
            changes.remove(number - CHANGES_KEPT)?;
        }
        Ok(())
    }

    /// The number of the last commit that changed a view (0 before any).
    pub fn last_change(&self) -> Result<u64, StoreError> {
        self.run(|| {
            let read = self.read()?;
            let changes = match read.open_table(CHANGES) {
                Ok(table) => table,
                // A cache no process has written to since it was made.
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(0),
                Err(e) => return Err(e.into()),
            };
            Ok(changes.last()?.map_or(0, |(k, _)| k.value()))
        })
    }

    /// The commits after number `seen` made by other processes than this one, and the last
    /// number; None for the commits when `seen` is so far behind that some are no longer
    /// kept (the reader then re-reads all it shows).
    pub fn changes_after(&self, seen: u64) -> Result<(u64, Option<Vec<CacheChange>>), StoreError> {
        self.run(|| {
            let read = self.read()?;
            let changes = match read.open_table(CHANGES) {
                Ok(table) => table,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok((0, Some(Vec::new()))),
                Err(e) => return Err(e.into()),
            };
            let first = changes.first()?;
            let Some((first, _)) = first else {
                return Ok((seen, Some(Vec::new())));
            };
            let mut last = seen;
            let lost = first.value() > seen + 1;
            let mut found = Vec::new();
            let me = std::process::id();
            for entry in changes.range(seen + 1..)? {
                let (key, value) = entry?;
                last = key.value();
                let ChangeRow {
                    process: pid,
                    view,
                    from,
                    to,
                    completed,
                } = value.value();
                if pid == me {
                    continue;
                }
                found.push(CacheChange {
                    view: ViewKey::from(view),
                    range: (from != NO_SPAN).then(|| (from_ms(from), from_ms(to))),
                    completed,
                });
            }
            Ok((last, (!lost).then_some(found)))
        })
    }

    fn decode(&self, id: &str, bytes: &[u8]) -> Result<Event, Fault> {
        postcard::from_bytes(bytes).map_err(|e| Fault::damaged(format!("event {id}: {e}")))
    }

    /// A body as an id or master row keeps it: empty when the event has none.
    fn decode_body(&self, id: &str, bytes: &[u8]) -> Result<Option<Body>, Fault> {
        if bytes.is_empty() {
            return Ok(None);
        }
        postcard::from_bytes(bytes)
            .map(Some)
            .map_err(|e| Fault::damaged(format!("body of event {id}: {e}")))
    }

    /// Drops a view's saved link, so its next round is a full one; the cache stays as it is.
    pub fn forget_link(&self, view: &str) -> Result<(), StoreError> {
        self.run(|| {
            let txn = self.write()?;
            if let Some(mut state) = self.state_in(&txn, view)? {
                state.cursor.link = None;
                self.save_state_in(&txn, view, &state)?;
            }
            txn.commit()?;
            Ok(())
        })
    }

    /// The cached event with this id, in whichever view holds it, completed with its series,
    /// or a series' master by its id; none when the cache has no such event (or only its stub).
    pub fn find_event(&self, id: &str) -> Result<Option<CachedEvent>, StoreError> {
        self.run(|| {
            let read = self.read()?;
            let ids = read.open_table(IDS)?;
            let events = read.open_table(EVENTS)?;
            let masters = read.open_table(MASTERS)?;
            for view in self.views()? {
                let Some(row) = ids.get((view.as_str(), id))? else {
                    continue;
                };
                let start = row.value().start;
                let Some(row) = events.get((view.as_str(), start, id))? else {
                    continue;
                };
                let event = self.decode(id, row.value().record)?;
                if let Some(event) = Masters::default().shown(self, &masters, &view, event)? {
                    return Ok(Some(CachedEvent { view, event }));
                }
            }
            // A series' master (never shown, but a change to the whole series is based on its
            // version).
            for view in self.views()? {
                if let Some(row) = masters.get((view.as_str(), id))? {
                    let event = self.decode(id, row.value().record)?;
                    return Ok(Some(CachedEvent { view, event }));
                }
            }
            Ok(None)
        })
    }

    /// A view's saved sync state; none before its first page.
    pub fn sync_state(&self, view: &str) -> Result<Option<SyncState>, StoreError> {
        self.run(|| self.saved_state(view))
    }

    fn saved_state(&self, view: &str) -> Result<Option<SyncState>, Fault> {
        let read = self.read()?;
        let sync = read.open_table(SYNC)?;
        let Some(bytes) = sync.get(view)? else {
            return Ok(None);
        };
        serde_json::from_slice(bytes.value())
            .map(Some)
            .map_err(|e| Fault::damaged(format!("sync state of {view}: {e}")))
    }

    /// The series of a view that have an instance in the cache (their changes reach the view's
    /// incremental rounds).
    pub fn tracked_masters(&self, view: &str) -> Result<BTreeSet<String>, StoreError> {
        self.run(|| {
            let read = self.read()?;
            let series = read.open_table(SERIES)?;
            let ids = read.open_table(IDS)?;
            let mut masters = BTreeSet::new();
            for entry in series.range((view, "", "")..)? {
                let (key, _) = entry?;
                let (v, master, instance) = key.value();
                if v != view {
                    break;
                }
                if !masters.contains(master) && ids.get((view, instance))?.is_some() {
                    masters.insert(master.to_owned());
                }
            }
            Ok(masters)
        })
    }

    /// The masters of `ids`, the series of `view` that the cache holds (an export writes each
    /// series as its pattern); an id whose master is not cached is left out.
    pub fn series_masters<'a>(
        &self,
        view: &str,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<Event>, StoreError> {
        self.run(|| {
            let read = self.read()?;
            let masters = read.open_table(MASTERS)?;
            let mut found = Vec::new();
            for id in ids {
                if let Some(row) = masters.get((view, id))? {
                    found.push(self.decode(id, row.value().record)?);
                }
            }
            Ok(found)
        })
    }

    /// Every view the cache has state for, in name order.
    fn views(&self) -> Result<Vec<ViewKey>, Fault> {
        let read = self.read()?;
        let sync = read.open_table(SYNC)?;
        let mut views = Vec::new();
        for entry in sync.iter()? {
            let (key, _) = entry?;
            views.push(ViewKey::from(key.value()));
        }
        Ok(views)
    }

    /// Events of the given views (all views when `views` is None) that overlap `[from, to)`,
    /// sorted by start then id. An event that has no duration overlaps when it starts in range.
    pub fn events_overlapping(
        &self,
        views: Option<&[ViewKey]>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<CachedEvent>, StoreError> {
        self.run(|| {
            let all_views;
            let views = match views {
                Some(v) => v,
                None => {
                    all_views = self.views()?;
                    &all_views
                }
            };
            let mut found = Vec::new();
            let Ok(()) = self.scan(views, (from, to), None, push_to(&mut found))?;
            Ok(by_start(found))
        })
    }

    /// The keys of a view's events table to scan for events overlapping `[from_ms, to_ms)`:
    /// from `from_ms` less the view's longest event (one that began earlier may still last).
    fn scan_bounds<'v>(
        &self,
        longest: &redb::ReadOnlyTable<&'static str, i64>,
        view: &'v str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<(EventKey<'v>, EventKey<'v>), Fault> {
        let span = longest.get(view)?.map(|v| v.value()).unwrap_or(0);
        Ok((
            (view, from_ms.saturating_sub(span).max(NO_SPAN + 1), ""),
            (view, to_ms, ""),
        ))
    }

    /// Calls `f` with each shown event of `views` overlapping `[from, to)`, view by view, each
    /// view's in order of start then id, without holding them: a year of events streams
    /// through in the memory of one.
    pub fn visit_overlapping<E: From<StoreError>>(
        &self,
        views: &[ViewKey],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        f: impl FnMut(&str, i64, Event) -> Result<(), E>,
    ) -> Result<(), E> {
        self.run(|| self.scan(views, (from, to), None, f))?
    }

    /// The scan behind the reads by time: each event of `views` overlapping `[from, to)` is
    /// decoded, completed with its series, and handed to `f`, unless it is a stub (which shows
    /// once its master is known).
    /// With a `filter`, the scan steps through the time index instead of the rows, and reads
    /// only the rows whose times the filter wants: for reads that pass most rows by.
    /// An error of `f` stops the scan and is handed back as it is, inside.
    fn scan<E>(
        &self,
        views: &[ViewKey],
        (from, to): (DateTime<Utc>, DateTime<Utc>),
        mut filter: Option<&mut dyn FnMut(&Timing) -> bool>,
        mut f: impl FnMut(&str, i64, Event) -> Result<(), E>,
    ) -> Result<Result<(), E>, Fault> {
        let read = self.read()?;
        let events = read.open_table(EVENTS)?;
        let times = read.open_table(TIMES)?;
        let longest = read.open_table(LONGEST)?;
        let masters = read.open_table(MASTERS)?;
        let mut series = Masters::default();
        let (from_ms, to_ms) = (to_ms(from), to_ms(to));
        let overlaps = |start: i64, end: i64| end > from_ms || (end == start && start >= from_ms);
        let mut emit =
            |view: &str, start: i64, id: &str, bytes: &[u8]| -> Result<Result<(), E>, Fault> {
                let event = self.decode(id, bytes)?;
                Ok(match series.shown(self, &masters, view, event)? {
                    Some(event) => f(view, start, event),
                    None => Ok(()),
                })
            };
        for view in views {
            let (lower, upper) = self.scan_bounds(&longest, view, from_ms, to_ms)?;
            let Some(filter) = filter.as_mut() else {
                for entry in events.range(lower..upper)? {
                    let (key, value) = entry?;
                    let (_, start, id) = key.value();
                    let EventRow {
                        end, record: bytes, ..
                    } = value.value();
                    if overlaps(start, end)
                        && let Err(e) = emit(view, start, id, bytes)?
                    {
                        return Ok(Err(e));
                    }
                }
                continue;
            };
            for entry in times.range(lower..upper)? {
                let (key, value) = entry?;
                let (_, start, id) = key.value();
                let Some(timing) = Timing::from_row(start, value.value()) else {
                    continue;
                };
                if !overlaps(start, timing.end) || !filter(&timing) {
                    continue;
                }
                let row = events
                    .get((view.as_str(), start, id))?
                    .ok_or_else(|| Fault::damaged(format!("event {id}: indexed, not stored")))?;
                if let Err(e) = emit(view, start, id, row.value().record)? {
                    return Ok(Err(e));
                }
            }
        }
        Ok(Ok(()))
    }

    /// [`Store::scan`] over the events that occupy a day of `[first, last]` in `zone`.
    fn scan_days<E>(
        &self,
        views: &[ViewKey],
        zone: &DisplayZone,
        (first, last): (NaiveDate, NaiveDate),
        filter: Option<&mut dyn FnMut(&Timing) -> bool>,
        mut f: impl FnMut(&str, i64, Event) -> Result<(), E>,
    ) -> Result<Result<(), E>, Fault> {
        let (from, to) = zone.days_range(first, last);
        let (from, to) = widen_for_all_day(from, to);
        self.scan(views, (from, to), filter, |view, start, event| {
            if crate::days::occupies(&event, zone, first, last) {
                f(view, start, event)?;
            }
            Ok(())
        })
    }

    /// Like [`Store::events_in_days`], for a view that can show only a few events a day (the
    /// month): a day lists its all-day events and then the others, each by start, so of each
    /// kind only the first `cap` that occupy a day are read, and the rest of each day only
    /// counted (the count is returned by day). An event that spans days is read if a day it
    /// occupies has room for it. Every event of `full` (the selected day, whose events the keys
    /// step through) is read. Which events to read is decided from the time index before any
    /// row is read: that is what a month of a dense calendar costs.
    pub fn events_in_days_capped(
        &self,
        views: &[ViewKey],
        zone: &DisplayZone,
        first: NaiveDate,
        last: NaiveDate,
        cap: usize,
        full: NaiveDate,
    ) -> Result<(Vec<CachedEvent>, BTreeMap<NaiveDate, usize>), StoreError> {
        self.run(|| {
            // Per day and kind (all-day or not): the events read that occupy it.
            let mut read_per_day: HashMap<(NaiveDate, bool), usize> = HashMap::new();
            let mut hidden: BTreeMap<NaiveDate, usize> = BTreeMap::new();
            let table = DayTable::new(zone, first, last);
            let mut keep = |timing: &Timing| {
                let (a, b) = timing.days(&table);
                if a <= full && full <= b {
                    return true;
                }
                let (a, b) = (a.max(first), b.min(last));
                if a > b {
                    // Outside the grid: nothing to show or count.
                    return false;
                }
                let kind = timing.all_day.is_some();
                let days = || a.iter_days().take_while(move |d| *d <= b);
                let room = days().any(|d| read_per_day.get(&(d, kind)).copied().unwrap_or(0) < cap);
                for d in days() {
                    if room {
                        *read_per_day.entry((d, kind)).or_default() += 1;
                    } else {
                        *hidden.entry(d).or_default() += 1;
                    }
                }
                room
            };
            let mut found = Vec::new();
            // The month passes over most of a dense calendar's rows: it steps through the index.
            let Ok(()) = self.scan_days(
                views,
                zone,
                (first, last),
                Some(&mut keep),
                push_to(&mut found),
            )?;
            Ok((by_start(found), hidden))
        })
    }

    /// [`Store::visit_overlapping`] for the events that occupy a day of `[first, last]` in
    /// `zone`.
    pub fn visit_days<E: From<StoreError>>(
        &self,
        views: &[ViewKey],
        zone: &DisplayZone,
        first: NaiveDate,
        last: NaiveDate,
        mut f: impl FnMut(&str, Event) -> Result<(), E>,
    ) -> Result<(), E> {
        self.run(|| {
            self.scan_days(views, zone, (first, last), None, |view, _, event| {
                f(view, event)
            })
        })?
    }

    /// How many events a view holds.
    pub fn count(&self, view: &str) -> Result<u64, StoreError> {
        self.run(|| {
            let read = self.read()?;
            let ids = read.open_table(IDS)?;
            let mut n = 0;
            for entry in ids.range((view, "")..)? {
                let (key, _) = entry?;
                if key.value().0 != view {
                    break;
                }
                n += 1;
            }
            Ok(n)
        })
    }

    /// Cached events of `views` that occupy any day of `[first, last]` in `zone`, sorted by start
    /// then id: what the agenda prints and the TUI shows.
    pub fn events_in_days(
        &self,
        views: &[ViewKey],
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

    /// Every cached event `query` matches (stubs have nothing to match yet), soonest first.
    /// The body of one event, if the server sent one.
    pub fn body(&self, view: &str, id: &str) -> Result<Option<Body>, StoreError> {
        self.run(|| {
            let read = self.read()?;
            let ids = read.open_table(IDS)?;
            let Some(row) = ids.get((view, id))? else {
                return Ok(None);
            };
            let IdRow { start, body: own } = row.value();
            // Whether the event shows its series' body is in its record.
            let events = read.open_table(EVENTS)?;
            let Some(event) = events.get((view, start, id))? else {
                return Err(Fault::damaged(format!("event {id} is indexed but missing")));
            };
            let event = self.decode(id, event.value().record)?;
            let masters = read.open_table(MASTERS)?;
            let bodies = read.open_table(MASTER_BODIES)?;
            Masters::default().body(self, (&masters, &bodies), view, &event, own)
        })
    }

    /// Every cached event the query matches, by its fields or by its body's words; an event
    /// found by its body carries the body, so that narrowing the search can test it again.
    pub fn search(&self, query: &Query) -> Result<Vec<CachedEvent>, StoreError> {
        self.run(|| {
            let read = self.read()?;
            let events = read.open_table(EVENTS)?;
            let ids = read.open_table(IDS)?;
            let masters = read.open_table(MASTERS)?;
            let bodies = read.open_table(MASTER_BODIES)?;
            let mut series = Masters::default();
            let mut found = Vec::new();
            for entry in events.iter()? {
                let (key, value) = entry?;
                let (view, start, id) = key.value();
                let event = self.decode(id, value.value().record)?;
                let Some(mut event) = series.shown(self, &masters, view, event)? else {
                    continue;
                };
                let hit = query.matches(&event) || {
                    let own = ids.get((view, id))?;
                    let own = own.as_ref().map(|row| row.value().body).unwrap_or_default();
                    match series.body(self, (&masters, &bodies), view, &event, own)? {
                        Some(body) if query.matches_body(&body) => {
                            event.body = Some(body);
                            true
                        }
                        _ => false,
                    }
                };
                if hit {
                    found.push((
                        start,
                        CachedEvent {
                            view: ViewKey::from(view),
                            event,
                        },
                    ));
                }
            }
            Ok(by_start(found))
        })
    }
}

/// A visitor of a scan that keeps what it is handed, for [`by_start`].
fn push_to(
    found: &mut Vec<(i64, CachedEvent)>,
) -> impl FnMut(&str, i64, Event) -> Result<(), std::convert::Infallible> + '_ {
    |view, start, event| {
        found.push((
            start,
            CachedEvent {
                view: ViewKey::from(view),
                event,
            },
        ));
        Ok(())
    }
}

/// Events read with their start in ms, in the order every list shows them: by start, then id,
/// the calendars interleaved.
fn by_start(mut found: Vec<(i64, CachedEvent)>) -> Vec<CachedEvent> {
    found.sort_by(|a, b| (a.0, &a.1.event.id).cmp(&(b.0, &b.1.event.id)));
    found.into_iter().map(|(_, e)| e).collect()
}

/// Widens a range by a day on each side: all-day events are stored at the midnights of the
/// zone the server used, which may differ from the display zone.
fn widen_for_all_day(from: DateTime<Utc>, to: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (from - Duration::days(1), to + Duration::days(1))
}

mod keep;
pub use keep::{ReminderMark, ViewFailure};
mod outbox;
pub use outbox::{Answer, OutboxEntry, OutboxState, PendingChange, SendOutcome, overlay};
mod series;
pub use series::SeriesFix;
mod shown;
mod tables;
use shown::Masters;
#[cfg(test)]
mod tests;
mod write;

use write::Writer;
