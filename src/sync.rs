//! The sync engine: delta rounds per calendar view, each page committed with its link; a 410
//! restarts a full round that sweeps at its end; notifications for whoever draws the result.
//!
//! The engine knows nothing of terminals. It sends small [`SyncEvent`]s on a broadcast channel.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tokio::sync::{broadcast, mpsc};

use crate::auth::session::{AuthError, Session};
use crate::config::{CalendarSpec, Config};
use crate::failure::FailureKind;
use crate::graph::client::{GraphClient, GraphError};
use crate::graph::wire::PageLink;
use crate::lockfile::LockFile;
use crate::model::{Change, Event, ViewKey, Window};

mod plan;
pub mod send;
use crate::store::{
    Backlog, CacheSize, Cursor, PageJob, PageOutcome, RoundCounts, SavedLink, SeriesFix, Store,
    StoreError,
};
use plan::{After, Start, Why};

/// A notification from the sync engine.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncEvent {
    /// A round began.
    RoundStarted {
        /// Of this calendar view.
        view: ViewKey,
        /// A full round (else incremental).
        full: bool,
    },
    /// A page is committed; `range` is the time range whose events changed.
    PageApplied {
        /// The calendar view.
        view: ViewKey,
        /// Pages so far this round.
        page: u64,
        /// The time range whose events changed.
        range: Option<(DateTime<Utc>, DateTime<Utc>)>,
        /// Events added.
        added: u64,
        /// Events changed.
        updated: u64,
        /// Events removed.
        removed: u64,
    },
    /// A round reached its delta link.
    RoundFinished(RoundSummary),
    /// A round failed.
    Failed {
        /// The calendar view.
        view: ViewKey,
        /// Why, for people.
        message: String,
        /// What kind of failure it was: sign-in needed, offline, throttled, ...
        kind: FailureKind,
    },
    /// A round failed in a way that may heal (offline, throttled, a server error): the next
    /// one starts at `at`, sooner than the usual interval.
    RetryAt {
        /// When the next round starts.
        at: DateTime<Utc>,
    },
    /// The account's calendars were listed and saved in the cache (names, colours).
    CalendarsListed,
    /// A request failed in a way that may heal and waits until `until` to be tried again:
    /// throttled by the server (`kind` Throttled, honouring its Retry-After) or a server error
    /// backing off. The round goes on after it.
    Waiting {
        /// When the request is tried again.
        until: DateTime<Utc>,
        /// Throttled or a server error.
        kind: FailureKind,
        /// What the server said.
        reason: String,
    },
    /// Another deltacal process committed a change to the cache: `range` is the time range
    /// whose events changed (None: none did, or, with `view` None too, too much to say: read
    /// all that is shown again).
    CacheChanged {
        /// The calendar view, if one.
        view: Option<ViewKey>,
        /// The time range whose events changed.
        range: Option<(DateTime<Utc>, DateTime<Utc>)>,
    },
}

/// What one completed round did.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundSummary {
    /// The calendar view.
    pub view: ViewKey,
    /// Its configured name.
    pub name: String,
    /// What it did.
    pub counts: RoundCounts,
    /// How long it took.
    pub seconds: f64,
    /// A full round (else incremental).
    pub full: bool,
    /// Another deltacal process ran the round while this one waited for it: nothing was
    /// fetched here.
    pub by_another: bool,
    /// The calendar was listed (a group's, or one whose delta is refused), not tracked.
    pub listed: bool,
    /// A listed calendar not due yet (listed at most every `[sync] group_interval_secs`):
    /// nothing was fetched, and this is when it is next listed.
    pub next_listing: Option<DateTime<Utc>>,
}

/// Why a round stopped. The cache and the saved link stay valid.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Graph failed.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// The sign-in failed.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The cache failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A blocking task died.
    #[error("cache task failed: {0}")]
    Task(String),
    /// The lock between processes failed.
    #[error(transparent)]
    Lock(#[from] crate::lockfile::LockError),
    /// Another process syncs this data dir with another config.
    #[error("{0}")]
    ConfigChanged(String),
    /// Another account (`[accounts.NAME]`) cannot sign in: its name and why.
    #[error("account {0}: {1}; sign it in with `deltacal login --account {0}`")]
    Account(String, String),
    /// The round made no progress.
    #[error("{0}; the round was stopped, the cache kept, and the next sync starts afresh")]
    Stalled(Stall),
}

impl SyncError {
    /// What callers match on.
    pub fn kind(&self) -> FailureKind {
        match self {
            SyncError::Graph(e) => e.kind(),
            SyncError::Auth(e) => e.kind(),
            SyncError::Store(e) => e.kind(),
            SyncError::Task(_) => FailureKind::Cache,
            // Busy: another process's round went on for too long; the next try may be free.
            SyncError::Lock(crate::lockfile::LockError::Busy { .. }) => FailureKind::Server,
            SyncError::Lock(_) => FailureKind::Cache,
            // Nothing heals it but a restart: no quick retries.
            SyncError::ConfigChanged(_) | SyncError::Account(..) => FailureKind::Refused,
            SyncError::Stalled(_) => FailureKind::Server,
        }
    }

    /// Whether the user must sign in (again).
    pub fn needs_sign_in(&self) -> bool {
        self.kind() == FailureKind::SignInNeeded
    }
}

/// Pages fetched ahead of the cache writer, at most.
const COMMIT_QUEUE: usize = 8;
/// At most this many queued pages commit in one transaction. The writer is the slowest part of
/// a full round on a large calendar, so pages queue up; committing them together pays the
/// transaction's price (the copied B-tree pages, the fsync) once, where a page apiece paid it
/// for each. A slow network leaves the queue empty, and every page commits as it lands.
const COMMIT_GROUP: usize = 8;

/// Series fixes (masters, instance lists) written in one transaction, at most.
const FIX_GROUP: usize = 256;

/// Requests Outlook serves at once for one mailbox.
const CONCURRENT_REQUESTS: usize = 4;
/// Rounds of different calendars run at once in one sync (each mailbox's requests still four
/// at a time).
const PARALLEL_ROUNDS: usize = 16;

/// Pages in a row that bring nothing but events this round already brought: the round loops.
const LOOPING_PAGES: u32 = 3;
/// Empty pages in a row with a nextLink (a few are normal at a round's start; endless are not).
const EMPTY_PAGES: u32 = 25;
/// Pages a round may take at most, for each day of its window, beyond a first allowance: far
/// more than a real calendar needs even if the server ignores the page size asked.
const PAGES_PER_DAY: u64 = 100;
const PAGES_ALLOWED: u64 = 1000;

/// Why a round was stopped for making no progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stall {
    /// Pages repeating events the round already brought.
    Looping(u32),
    /// Empty pages, one after another.
    Empty(u32),
    /// More pages than any calendar of the window could need.
    TooManyPages(u64),
}

impl std::fmt::Display for Stall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stall::Looping(n) => write!(
                f,
                "the server sent the same events again on {n} pages in a row (Graph does this on some calendars with many recurring meetings)"
            ),
            Stall::Empty(n) => write!(f, "the server sent {n} empty pages in a row"),
            Stall::TooManyPages(n) => write!(
                f,
                "the round went past {n} pages, more than the sync window can hold"
            ),
        }
    }
}

/// Tells a round that moves on from one that does not: pages that repeat what it already
/// brought, endless empty pages, or more pages than its window could need.
struct ProgressGuard {
    /// Hashes of the ids this round brought: small, whatever the ids' length.
    seen: std::collections::HashSet<u64>,
    repeating: u32,
    empty: u32,
    pages: u64,
    max_pages: u64,
}

impl ProgressGuard {
    fn new(window: &crate::model::Window) -> ProgressGuard {
        let days = (window.end - window.start).num_days().max(1) as u64;
        ProgressGuard {
            seen: std::collections::HashSet::new(),
            repeating: 0,
            empty: 0,
            pages: 0,
            max_pages: PAGES_ALLOWED + days.saturating_mul(PAGES_PER_DAY),
        }
    }

    /// Takes a page's items; says why the round must stop, if it must.
    fn check(&mut self, changes: &[Change]) -> Option<Stall> {
        use std::hash::{BuildHasher, RandomState};
        static HASHER: std::sync::OnceLock<RandomState> = std::sync::OnceLock::new();
        let hasher = HASHER.get_or_init(RandomState::new);
        self.pages += 1;
        let mut fresh = false;
        for change in changes {
            fresh |= self.seen.insert(hasher.hash_one(change.id()));
        }
        self.empty = if changes.is_empty() {
            self.empty + 1
        } else {
            0
        };
        self.repeating = if fresh || changes.is_empty() {
            0
        } else {
            self.repeating + 1
        };
        if self.repeating >= LOOPING_PAGES {
            Some(Stall::Looping(self.repeating))
        } else if self.empty >= EMPTY_PAGES {
            Some(Stall::Empty(self.empty))
        } else if self.pages > self.max_pages {
            Some(Stall::TooManyPages(self.max_pages))
        } else {
            None
        }
    }
}

/// A page waiting to be committed with the cursor that follows it.
struct CommitJob {
    changes: Vec<Change>,
    cursor: Cursor,
    sweep: bool,
}

impl CommitJob {
    fn page(&self) -> PageJob<'_> {
        PageJob {
            changes: &self.changes,
            cursor: &self.cursor,
            sweep: self.sweep,
        }
    }
}

type CommitResult = Result<PageOutcome, StoreError>;

/// The in-order page committer of one round: pages commit in order on a blocking thread, each
/// with its own link (the pages queued together in one transaction, with the last one's), while
/// the round fetches the next ones.
struct Committer {
    jobs: mpsc::Sender<CommitJob>,
    results: mpsc::UnboundedReceiver<CommitResult>,
    handle: tokio::task::JoinHandle<()>,
}

/// What a committer did after its queue was closed.
struct Finished {
    /// The pages committed since the round last looked, in order.
    outcomes: Vec<PageOutcome>,
    /// The error that stopped the committer, if one did.
    error: Option<SyncError>,
}

impl Committer {
    fn start(store: Arc<Store>, key: &str) -> Committer {
        let (jobs, mut queue) = mpsc::channel::<CommitJob>(COMMIT_QUEUE);
        let (done, results) = mpsc::unbounded_channel();
        let key = key.to_owned();
        let handle = tokio::task::spawn_blocking(move || {
            let mut jobs = Vec::with_capacity(COMMIT_GROUP);
            while let Some(job) = queue.blocking_recv() {
                jobs.push(job);
                while jobs.len() < COMMIT_GROUP
                    && let Ok(job) = queue.try_recv()
                {
                    jobs.push(job);
                }
                let pages: Vec<PageJob<'_>> = jobs.iter().map(CommitJob::page).collect();
                let committed = store.commit_pages(&key, &pages);
                drop(pages);
                jobs.clear();
                match committed {
                    Ok(pages) => {
                        if pages.into_iter().any(|page| done.send(Ok(page)).is_err()) {
                            break;
                        }
                    }
                    Err(e) => {
                        let _ = done.send(Err(e));
                        break;
                    }
                }
            }
        });
        Committer {
            jobs,
            results,
            handle,
        }
    }

    /// Closes the queue, lets every queued page commit, and reports what happened.
    async fn finish(self) -> Finished {
        let Committer {
            jobs,
            mut results,
            handle,
        } = self;
        drop(jobs);
        let mut finished = Finished {
            outcomes: Vec::new(),
            error: handle.await.err().map(|e| SyncError::Task(e.to_string())),
        };
        while let Some(committed) = results.recv().await {
            match committed {
                Ok(outcome) => finished.outcomes.push(outcome),
                Err(e) => {
                    finished.error.get_or_insert(e.into());
                }
            }
        }
        finished
    }
}

/// How long a process waits for another's round of the same view before it gives up (a full
/// round of a large calendar over a slow link takes a minute or two).
const ROUND_WAIT: Duration = Duration::from_secs(600);

/// The lock file of a view's rounds in the data dir: named by a hash of the view's key, since
/// a Graph calendar id is long and may hold characters a file name should not.
fn round_lock_path(data_dir: &std::path::Path, view: &str) -> std::path::PathBuf {
    // FNV-1a: stable across builds and platforms, so every deltacal binary picks the same file.
    let hash = view.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    data_dir.join(format!("round-{hash:016x}.lock"))
}

/// One summary for the rounds one sync of a view took.
fn merge_rounds(mut summaries: Vec<RoundSummary>, seconds: f64) -> RoundSummary {
    if summaries.len() == 1 {
        return summaries.remove(0);
    }
    let last = summaries.last().cloned().expect("at least one round");
    let counts: RoundCounts = summaries.iter().map(|s| s.counts).sum();
    RoundSummary {
        counts,
        seconds,
        full: summaries.iter().any(|s| s.full),
        ..last
    }
}

/// Runs delta rounds and reports them.
pub struct SyncEngine {
    config: Arc<Config>,
    store: Arc<Store>,
    graph: GraphClient,
    /// `[accounts.NAME]`'s clients, each signed in on its own.
    accounts: HashMap<String, GraphClient>,
    events: broadcast::Sender<SyncEvent>,
    /// The day the rolling window is computed for, when not today's (the bench and the tests
    /// move the days without waiting for them).
    today: std::sync::Mutex<Option<chrono::NaiveDate>>,
    /// The version of the config file whose settings this engine syncs with (None: no file).
    config_version: std::sync::Mutex<Option<crate::paths::FileVersion>>,
}

/// Runs a store operation off the async threads.
async fn blocking<T: Send + 'static>(
    store: &Arc<Store>,
    f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, SyncError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .map_err(|e| SyncError::Task(e.to_string()))?
        .map_err(SyncError::from)
}

impl SyncEngine {
    /// An engine of `config`, writing to `store`, reading through `graph`.
    pub fn new(config: Arc<Config>, store: Arc<Store>, mut graph: GraphClient) -> SyncEngine {
        let (events, _) = broadcast::channel(1024);
        let config_version = std::sync::Mutex::new(
            config
                .config_file
                .as_deref()
                .and_then(|f| crate::paths::FileVersion::of_path(f, true).ok().flatten()),
        );
        let waits = events.clone();
        graph.report_waits(move |wait| {
            let _ = waits.send(SyncEvent::Waiting {
                until: wait.until,
                kind: wait.kind,
                reason: wait.reason,
            });
        });
        // Each further account: its own token file and session, its own mailbox.
        let http = crate::net::http_client();
        let accounts = config
            .accounts
            .keys()
            .filter_map(|name| {
                let own = config.for_account(Some(name)).ok()?;
                match Session::load(&own, http.clone()) {
                    Ok(session) => Some((
                        name.clone(),
                        graph.for_account(name, Arc::new(session)),
                    )),
                    Err(e) => {
                        tracing::warn!(account = %name, error = %e, "the account's sign-in does not load");
                        None
                    }
                }
            })
            .collect();
        SyncEngine {
            config,
            store,
            graph,
            accounts,
            events,
            today: std::sync::Mutex::new(None),
            config_version,
        }
    }

    /// Opens the cache and the session named by the config, for a process that stays (the TUI):
    /// a small cache. A cache damaged so that it does not open is moved aside and started anew.
    pub fn from_config(config: Arc<Config>) -> Result<SyncEngine, SyncError> {
        SyncEngine::open(config, false, CacheSize::Resident).map(|(engine, _)| engine)
    }

    /// The engine of `deltacal sync`: the cache of a process that syncs and exits, every cached
    /// record read first (any damage is found now, and the cache moved aside and rebuilt).
    /// Returns where a damaged cache went.
    pub fn for_sync_command(
        config: Arc<Config>,
    ) -> Result<(SyncEngine, Option<std::path::PathBuf>), SyncError> {
        SyncEngine::open(config, true, CacheSize::OneShot)
    }

    /// Opens the cache (reading every record first with `verify`) and the session.
    fn open(
        config: Arc<Config>,
        verify: bool,
        cache: CacheSize,
    ) -> Result<(SyncEngine, Option<std::path::PathBuf>), SyncError> {
        let (store, moved) = Store::open_or_rebuild(&config.cache_path(), verify, cache)?;
        let store = Arc::new(store);
        let http = crate::net::http_client();
        let session = Arc::new(Session::load(&config, http.clone())?);
        let retry = crate::graph::client::RetryPolicy {
            max_attempts: config.graph.max_attempts,
            base_delay: Duration::from_millis(config.graph.retry_base_ms),
            ..Default::default()
        };
        let graph = GraphClient::new(
            http,
            config.graph.base_url.clone(),
            config.graph.page_size,
            session,
        )
        .with_retry(retry);
        Ok((SyncEngine::new(config, store, graph), moved))
    }

    /// Sends the changes due in the outbox (this process's and any other's); a failure is
    /// the change's, recorded with it, and stops nothing else.
    pub async fn send_outbox(&self) -> Vec<(u64, crate::store::SendOutcome)> {
        let lock = self.config.data_dir.join("outbox.lock");
        match send::send_due(&self.store, &self.graph, &lock).await {
            Ok(done) => done,
            Err(e) => {
                tracing::warn!(error = %e, "the outbox could not be read");
                Vec::new()
            }
        }
    }

    /// The engine's notifications.
    pub fn subscribe(&self) -> broadcast::Receiver<SyncEvent> {
        self.events.subscribe()
    }

    /// The cache it writes to.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The session its requests are signed with.
    pub fn session(&self) -> &Arc<Session> {
        self.graph.session()
    }

    /// The Graph client of the user's own mailbox.
    pub fn graph(&self) -> &GraphClient {
        &self.graph
    }

    /// The calendars of someone else's mailbox (those they share with the user), or of
    /// `[accounts.NAME]`, as Graph lists them; the cache's list (the main account's) is not
    /// touched.
    pub async fn list_calendars_of(
        &self,
        account: Option<&str>,
        owner: &crate::model::Owner,
    ) -> Result<Vec<crate::model::CalendarInfo>, SyncError> {
        Ok(self
            .account_graph(account)?
            .for_owner(owner)
            .list_calendars()
            .await?)
    }

    /// Free/busy of `addresses` over `from..to` (getSchedule, in requests of at most 20
    /// people and 62 days), through the main account.
    pub async fn schedules(
        &self,
        addresses: &[String],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<crate::free::Gathered, SyncError> {
        let mut answers = Vec::new();
        for body in crate::free::requests(addresses, from, to) {
            let answer = self.graph.get_schedule(&body).await?;
            answers.extend(crate::free::parse(&answer).map_err(SyncError::Task)?);
        }
        Ok(crate::free::gather(answers))
    }

    /// The session of `[accounts.NAME]`, for its sign-in.
    pub fn account_session(&self, name: &str) -> Option<&Arc<Session>> {
        self.account_graph(Some(name))
            .ok()
            .map(GraphClient::session)
    }

    /// The client a calendar is read through: its account's.
    fn graph_of(&self, cal: &CalendarSpec) -> Result<&GraphClient, SyncError> {
        self.account_graph(cal.account.as_deref())
    }

    /// The client of `[accounts.NAME]` (None: the main account's).
    fn account_graph(&self, account: Option<&str>) -> Result<&GraphClient, SyncError> {
        match account {
            None => Ok(&self.graph),
            Some(name) => self.accounts.get(name).ok_or_else(|| {
                SyncError::Account(
                    name.to_owned(),
                    "its token file does not load (see the log)".into(),
                )
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// Lists the account's calendars from Graph and keeps the list in the cache, where the
    /// views find Graph's names and colours.
    pub async fn list_calendars(&self) -> Result<Vec<crate::model::CalendarInfo>, SyncError> {
        let calendars = self.graph.list_calendars().await?;
        self.store.save_calendar_list(&calendars)?;
        self.emit(SyncEvent::CalendarsListed);
        Ok(calendars)
    }

    /// Runs the next rounds as if today were `day` (None: the real today), for measuring and
    /// testing how the rolling window moves.
    pub fn set_today(&self, day: Option<chrono::NaiveDate>) {
        *self.today.lock().unwrap_or_else(|e| e.into_inner()) = day;
    }

    fn today(&self) -> chrono::NaiveDate {
        self.today
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .unwrap_or_else(|| Utc::now().date_naive())
    }

    fn emit(&self, event: SyncEvent) {
        // Nobody listening is fine: `deltacal sync` has no UI.
        let _ = self.events.send(event);
    }

    /// A round for every configured calendar, one after the other.
    pub async fn sync_all(&self) -> Vec<(CalendarSpec, Result<RoundSummary, SyncError>)> {
        // Asked now, before sending: a round another process completes while this one sends
        // brought the views up to date for this sync too.
        let asked = Utc::now();
        // The user's changes first: the rounds then bring back what the server made of them.
        self.send_outbox().await;
        // Nobody signed in: every calendar says so now, together, rather than each round
        // finding out on its own while a sign-in it set off completes.
        let signed_out = self.session().check_signed_in().await.err();
        let mut failed = Vec::new();
        if let Some(e) = &signed_out {
            for cal in self.config.calendars.iter().filter(|c| c.account.is_none()) {
                let e = SyncError::Auth(e.clone());
                self.emit(SyncEvent::Failed {
                    view: cal.key.clone(),
                    message: e.to_string(),
                    kind: e.kind(),
                });
                failed.push((cal.clone(), Err(e)));
            }
        }
        // Side by side: each mailbox's client keeps to Outlook's four requests at a time, and a
        // view's round lock to one round of it at a time.
        let rounds = self
            .config
            .calendars
            .clone()
            .into_iter()
            .filter(|c| signed_out.is_none() || c.account.is_some())
            .map(|cal| async move {
                let result = match self.listing_not_due(&cal).await {
                    Some(summary) => Ok(summary),
                    None => self.sync_view_asked(&cal, asked).await,
                };
                (cal, result)
            });
        let mut done: Vec<(CalendarSpec, Result<RoundSummary, SyncError>)> =
            futures_util::stream::iter(rounds)
                .buffered(PARALLEL_ROUNDS)
                .collect()
                .await;
        done.extend(failed);
        // In the config's order.
        let order = |cal: &CalendarSpec| self.config.calendars.iter().position(|c| c == cal);
        done.sort_by_key(|(cal, _)| order(cal));
        done
    }

    /// For a group's calendar listed less than `[sync] group_interval_secs` ago: a summary
    /// that says when it is next listed, and nothing fetched.
    async fn listing_not_due(&self, cal: &CalendarSpec) -> Option<RoundSummary> {
        if !cal.owner.is_listed() {
            return None;
        }
        let key = cal.key.clone();
        let state = blocking(&self.store, move |s| s.sync_state(&key))
            .await
            .ok()??;
        let every = chrono::Duration::seconds(
            i64::try_from(self.config.sync.group_interval_secs).unwrap_or(i64::MAX),
        );
        let next = state.cursor.last_completed? + every;
        let window = self.config.sync.window.on(self.today());
        (next > Utc::now() && state.cursor.window == window).then(|| RoundSummary {
            view: cal.key.clone(),
            name: cal.name.clone(),
            counts: RoundCounts::default(),
            seconds: 0.0,
            full: false,
            by_another: false,
            listed: true,
            next_listing: Some(next),
        })
    }

    /// Prepares `state` for a new round (or the resumption of one) and returns its first URL.
    fn begin_round(&self, cal: &CalendarSpec, state: &mut Cursor) -> String {
        match &state.link {
            // Resume the round a crash or a failure interrupted.
            Some(SavedLink::Next(url)) => url.clone(),
            Some(SavedLink::Delta(url)) => {
                state.round += 1;
                state.full_round = false;
                url.clone()
            }
            None => {
                state.round += 1;
                state.generation += 1;
                state.full_round = true;
                crate::graph::delta_url(
                    &self.config.graph.base_url,
                    &cal.owner,
                    cal.graph_id.as_deref(),
                    &state.window,
                )
                .to_string()
            }
        }
    }

    /// Runs one calendar view until it reaches a delta link.
    ///
    /// A round resumed from a saved next link completes the server's snapshot from when that
    /// round began; an incremental round follows at once so the cache ends up current.
    pub async fn sync_view(&self, cal: &CalendarSpec) -> Result<RoundSummary, SyncError> {
        self.sync_view_asked(cal, Utc::now()).await
    }

    /// [`sync_view`](Self::sync_view), asked for at `asked`: a round of another process that
    /// completed since serves.
    async fn sync_view_asked(
        &self,
        cal: &CalendarSpec,
        asked: DateTime<Utc>,
    ) -> Result<RoundSummary, SyncError> {
        let started = Instant::now();
        let result = match self.check_config() {
            Ok(()) => self.take_round(cal, asked).await,
            Err(e) => Err(e),
        };
        let result = match result {
            Ok(Some(lock)) => {
                let result = self
                    .rounds(cal)
                    .await
                    .map(|summaries| merge_rounds(summaries, started.elapsed().as_secs_f64()));
                drop(lock);
                result
            }
            Ok(None) => {
                tracing::info!(view = %cal.key, "brought up to date by another deltacal process");
                let summary = RoundSummary {
                    view: cal.key.clone(),
                    name: cal.name.clone(),
                    counts: RoundCounts::default(),
                    seconds: started.elapsed().as_secs_f64(),
                    full: false,
                    by_another: true,
                    listed: false,
                    next_listing: None,
                };
                self.emit(SyncEvent::RoundFinished(summary.clone()));
                Ok(summary)
            }
            Err(e) => Err(e),
        };
        // Another account's sign-in is its own: the app's sign-in (the main account's) is no
        // answer to it, so it is said as a refusal with the command that signs it in.
        let result = match (result, &cal.account) {
            (Err(e), Some(name)) if e.needs_sign_in() => {
                Err(SyncError::Account(name.clone(), e.to_string()))
            }
            (result, _) => result,
        };
        self.note_outcome(cal, &result).await;
        if let Err(e) = &result {
            tracing::warn!(view = %cal.key, error = %e, "round failed");
            self.emit(SyncEvent::Failed {
                view: cal.key.clone(),
                message: e.to_string(),
                kind: e.kind(),
            });
        }
        result
    }

    /// Keeps why a view's sync failed (or that it did not) in the cache, where `status` and
    /// the other processes read it. A success writes only when a failure was kept.
    async fn note_outcome(&self, cal: &CalendarSpec, result: &Result<RoundSummary, SyncError>) {
        let view = cal.key.to_string();
        let failure = result.as_ref().err().map(|e| crate::store::ViewFailure {
            at: Utc::now(),
            message: crate::text::bounded(&e.to_string(), 400),
        });
        let noted = blocking(&self.store, move |s| {
            if failure.is_none() && !s.view_failures()?.contains_key(&view) {
                return Ok(());
            }
            s.note_view_failure(&view, failure)
        })
        .await;
        if let Err(e) = noted {
            tracing::warn!(error = %e, "could not keep how the sync of a calendar ended");
        }
    }

    /// Checks that the config file still says what this engine syncs with. When the user
    /// edited it while this process runs (the TUI, `remind`) so that it syncs another window,
    /// calendars or account, this process stops syncing and says why: the processes started
    /// since use the new file, and an older one going on with the old settings would undo
    /// their rounds and they its (every round re-anchoring the cache). An edit that changes
    /// nothing synced (a colour, the time format) is taken as it is.
    fn check_config(&self) -> Result<(), SyncError> {
        let Some(file) = self.config.config_file.as_deref() else {
            return Ok(());
        };
        let now = crate::paths::FileVersion::of_path(file, true)
            .ok()
            .flatten();
        let mut seen = self
            .config_version
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if now == *seen {
            return Ok(());
        }
        let newer = Config::load(Some(file), Some(&self.config.data_dir));
        match newer {
            Ok(newer) if newer.syncs_like(&self.config) => {
                *seen = now;
                Ok(())
            }
            Ok(_) => Err(SyncError::ConfigChanged(format!(
                "{} changed what is synced since this deltacal started; restart it to sync with the new settings",
                crate::text::bounded(&file.display().to_string(), 200)
            ))),
            Err(e) => Err(SyncError::ConfigChanged(format!(
                "the config file changed since this deltacal started and does not load ({e}); fix it, then restart deltacal"
            ))),
        }
    }

    /// Takes the view's round lock, which one process at a time holds for a round of that view
    /// (only the newest few links of a view stay valid, so two rounds at once make each
    /// other's links stale, and each would fetch what the other fetches). When another process
    /// holds it, waits for its round to end. None when a round of another process ended since
    /// `asked` (when this sync was asked for): it brought the view up to date, and there is
    /// nothing left to do; else the lock, to run a round here.
    async fn take_round(
        &self,
        cal: &CalendarSpec,
        asked: DateTime<Utc>,
    ) -> Result<Option<LockFile>, SyncError> {
        let path = round_lock_path(&self.config.data_dir, &cal.key);
        let taken = path.clone();
        let lock = tokio::task::spawn_blocking(move || LockFile::try_acquire(&taken))
            .await
            .map_err(|e| SyncError::Task(e.to_string()))??;
        let lock = match lock {
            Some(lock) => lock,
            None => {
                tracing::info!(view = %cal.key, "a round of this view is running in another deltacal process; waiting for it");
                tokio::task::spawn_blocking(move || LockFile::acquire(&path, ROUND_WAIT))
                    .await
                    .map_err(|e| SyncError::Task(e.to_string()))??
            }
        };
        let key = cal.key.clone();
        let state = blocking(&self.store, move |s| s.sync_state(&key)).await?;
        let done_meanwhile = state.is_some_and(|s| {
            (matches!(s.cursor.link, Some(SavedLink::Delta(_))) || s.cursor.listed)
                && s.cursor.last_completed.is_some_and(|at| at >= asked)
        });
        Ok((!done_meanwhile).then_some(lock))
    }

    /// The rounds one sync of a view takes: one, or a resumed round and the incremental round
    /// after it, or, when the rolling window moved, an incremental round of the old window
    /// (which brings every tracked series current) and the full round of the new one.
    async fn rounds(&self, cal: &CalendarSpec) -> Result<Vec<RoundSummary>, SyncError> {
        let mut summaries = Vec::new();
        let mut caught_up = false;
        loop {
            let (summary, after) = self.round(cal, caught_up).await?;
            summaries.push(summary);
            if !plan::another(after, summaries.len(), caught_up) {
                return Ok(summaries);
            }
            caught_up |= after == After::CaughtUp;
        }
    }

    /// One round to a delta link; also says what must follow it. `caught_up`: the round before
    /// it, in this sync, brought the old window current.
    async fn round(
        &self,
        cal: &CalendarSpec,
        caught_up: bool,
    ) -> Result<(RoundSummary, After), SyncError> {
        let started = Instant::now();
        let key = cal.key.clone();
        let window = self.config.sync.window.on(self.today());
        let k = key.clone();
        let saved = blocking(&self.store, move |s| s.sync_state(&k))
            .await?
            .map(|s| s.cursor);
        let graph = self.graph_of(cal)?.for_owner(&cal.owner);
        if cal.owner.is_listed() || saved.as_ref().is_some_and(|c| c.listed) {
            let state = saved.unwrap_or_else(|| Cursor::new(window));
            return self.listing_round(cal, &graph, state, started).await;
        }
        let start = plan::start(
            saved.as_ref().map(|c| (&c.window, c.link.as_ref())),
            &window,
            caught_up,
            |link| graph.check_link(link).is_ok(),
        );
        let mut state = saved.unwrap_or_else(|| Cursor::new(window));
        if let Start::Full(why) = start {
            match why {
                Why::NoLink => {}
                // Re-anchor through a full round whose sweep drops what fell out; the old
                // cache stays visible meanwhile.
                Why::WindowMoved { keep_masters } => {
                    tracing::info!(view = %key, "window changed, running a full round");
                    state.current_masters = if keep_masters {
                        let k = key.clone();
                        blocking(&self.store, move |s| s.tracked_masters(&k)).await?
                    } else {
                        Default::default()
                    };
                }
                Why::ForeignHost => {
                    tracing::info!(view = %key, "saved link is for another Graph host, running a full round");
                }
            }
            state.window = window;
            state.link = None;
        }
        // A room delegated to the user answers the first page of its delta and refuses every
        // link after it: such a request is on a link when the round resumes one or a page came.
        let mut on_link = state.link.is_some();
        let mut url = self.begin_round(cal, &mut state);
        let mut full = state.full_round;
        self.emit(SyncEvent::RoundStarted {
            view: key.clone(),
            full,
        });
        let mut resets = 0;
        let mut page_no = 0;
        let mut guard = ProgressGuard::new(&state.window);
        // Pages commit in order on one blocking thread, each with its own link, while the next
        // pages are fetched and parsed: a small queue lets fetching run ahead of the disk.
        let mut committer = Committer::start(self.store.clone(), &key);
        let mut prefetch = MasterPrefetch::new(&graph, cal.graph_id.as_deref());
        loop {
            while let Ok(committed) = committer.results.try_recv() {
                let outcome = committed?;
                self.pages_applied(&key, &mut page_no, &[outcome]);
            }
            let page = match graph.get_page(&url).await {
                Ok(page) => {
                    on_link = true;
                    page
                }
                Err(GraphError::Mailbox { code, message, .. })
                    if on_link && matches!(cal.owner, crate::model::Owner::User(_)) =>
                {
                    let done = committer.finish().await;
                    self.pages_applied(&key, &mut page_no, &done.outcomes);
                    tracing::warn!(view = %key, %code, message = %crate::text::bounded(&message, 200),
                        "delta refused on its next link (a delegated room does this); listing this calendar from now on");
                    self.emit(SyncEvent::Failed {
                        view: key.clone(),
                        message: format!(
                            "{}: delta refused on its next link ({code}); listed instead from now on",
                            cal.owner.describe()
                        ),
                        kind: FailureKind::Refused,
                    });
                    return self.listing_round(cal, &graph, state, started).await;
                }
                Err(GraphError::Gone { code, message }) if resets < 2 => {
                    tracing::info!(view = %key, %code, %message, "sync state gone, running a full round");
                    resets += 1;
                    guard = ProgressGuard::new(&state.window);
                    state.link = None;
                    // Starting over: every series' master is fetched again.
                    state.current_masters.clear();
                    url = self.begin_round(cal, &mut state);
                    full = true;
                    self.emit(SyncEvent::RoundStarted {
                        view: key.clone(),
                        full,
                    });
                    continue;
                }
                Err(e) => {
                    // Let the pages already fetched commit: they and their links are valid.
                    let done = committer.finish().await;
                    self.pages_applied(&key, &mut page_no, &done.outcomes);
                    return Err(e.into());
                }
            };
            if let Some(stall) = guard.check(&page.changes) {
                let done = committer.finish().await;
                self.pages_applied(&key, &mut page_no, &done.outcomes);
                if let Some(e) = done.error {
                    return Err(e);
                }
                // The saved link leads back into the loop: the next sync starts a full round.
                let k = key.clone();
                blocking(&self.store, move |s| s.forget_link(&k)).await?;
                tracing::warn!(view = %key, %stall, "round made no progress, stopped");
                return Err(SyncError::Stalled(stall));
            }
            if state.full_round {
                prefetch.page(&page.changes, &state.current_masters);
            }
            let last = matches!(page.link, PageLink::Delta(_));
            let sweep = last && state.full_round;
            let mut next = state.clone();
            next.link = Some(match page.link {
                PageLink::Next(u) => SavedLink::Next(u),
                PageLink::Delta(u) => SavedLink::Delta(u),
            });
            if last {
                next.last_completed = Some(Utc::now());
                next.full_round = false;
                next.current_masters.clear();
            }
            let job = CommitJob {
                changes: page.changes,
                cursor: next.clone(),
                sweep,
            };
            if committer.jobs.send(job).await.is_err() {
                return Err(self.writer_stopped(committer, &key, &mut page_no).await);
            }
            state = next;
            if last {
                let (mut counts, backlog) = self.last_commit(committer, &key, &mut page_no).await?;
                // The round ends here: what was fetched during it serves the series.
                let prefetched = prefetch.finish().await;
                let fixed = self
                    .complete_series(cal, &backlog, state.window, &mut page_no, prefetched)
                    .await?;
                counts += fixed;
                let summary = RoundSummary {
                    view: key.clone(),
                    name: cal.name.clone(),
                    counts,
                    seconds: started.elapsed().as_secs_f64(),
                    full,
                    by_another: false,
                    listed: false,
                    next_listing: None,
                };
                tracing::info!(view = %key, ?summary.counts, seconds = summary.seconds, "round finished");
                self.emit(SyncEvent::RoundFinished(summary.clone()));
                return Ok((summary, plan::after(start)));
            }
            url = match &state.link {
                Some(SavedLink::Next(u)) => u.clone(),
                _ => unreachable!("a page that is not the last has a next link"),
            };
        }
    }

    /// The committer stopped on an error: the pages it committed are announced, and the error
    /// is what the round reports.
    async fn writer_stopped(
        &self,
        committer: Committer,
        key: &str,
        page_no: &mut u64,
    ) -> SyncError {
        let done = committer.finish().await;
        self.pages_applied(key, page_no, &done.outcomes);
        done.error
            .unwrap_or_else(|| SyncError::Task("the cache writer stopped".into()))
    }

    /// Lets a round's last pages commit: what the round did, and the series it left to
    /// complete.
    async fn last_commit(
        &self,
        committer: Committer,
        key: &str,
        page_no: &mut u64,
    ) -> Result<(RoundCounts, Backlog), SyncError> {
        let done = committer.finish().await;
        self.pages_applied(key, page_no, &done.outcomes);
        if let Some(e) = done.error {
            return Err(e);
        }
        done.outcomes
            .last()
            .and_then(|last| Some((last.progress, last.backlog.clone()?)))
            .ok_or_else(|| SyncError::Task("the last page was not committed".into()))
    }

    /// A listing round: the calendar view's `calendarView` pages over today's window, each
    /// committed as it comes, then a sweep of what was not listed (mark and sweep: a listing
    /// says nothing of what went). A group's calendar is synced so, and a calendar whose delta
    /// refuses its links. Nothing resumes: a listing interrupted starts over.
    async fn listing_round(
        &self,
        cal: &CalendarSpec,
        graph: &GraphClient,
        mut state: Cursor,
        started: Instant,
    ) -> Result<(RoundSummary, After), SyncError> {
        let key = cal.key.clone();
        state.window = self.config.sync.window.on(self.today());
        state.link = None;
        state.round += 1;
        state.generation += 1;
        state.full_round = true;
        state.listed = true;
        state.current_masters.clear();
        self.emit(SyncEvent::RoundStarted {
            view: key.clone(),
            full: true,
        });
        let mut url = crate::graph::list_url(
            &self.config.graph.base_url,
            &cal.owner,
            cal.graph_id.as_deref(),
            &state.window,
        )
        .to_string();
        let mut page_no = 0;
        let mut guard = ProgressGuard::new(&state.window);
        let mut committer = Committer::start(self.store.clone(), &key);
        loop {
            while let Ok(committed) = committer.results.try_recv() {
                let outcome = committed?;
                self.pages_applied(&key, &mut page_no, &[outcome]);
            }
            let (changes, next) = match graph.get_listing(&url).await {
                Ok(page) => page,
                Err(e) => {
                    let done = committer.finish().await;
                    self.pages_applied(&key, &mut page_no, &done.outcomes);
                    return Err(e.into());
                }
            };
            if let Some(stall) = guard.check(&changes) {
                let done = committer.finish().await;
                self.pages_applied(&key, &mut page_no, &done.outcomes);
                return Err(SyncError::Stalled(stall));
            }
            let last = next.is_none();
            let mut cursor = state.clone();
            if last {
                cursor.last_completed = Some(Utc::now());
                cursor.full_round = false;
            }
            let job = CommitJob {
                changes,
                cursor: cursor.clone(),
                sweep: last,
            };
            if committer.jobs.send(job).await.is_err() {
                return Err(self.writer_stopped(committer, &key, &mut page_no).await);
            }
            state = cursor;
            match next {
                Some(next) => url = next,
                None => break,
            }
        }
        let (mut counts, backlog) = self.last_commit(committer, &key, &mut page_no).await?;
        counts += self
            .complete_series(cal, &backlog, state.window, &mut page_no, HashMap::new())
            .await?;
        let summary = RoundSummary {
            view: key.clone(),
            name: cal.name.clone(),
            counts,
            seconds: started.elapsed().as_secs_f64(),
            full: true,
            by_another: false,
            listed: true,
            next_listing: None,
        };
        tracing::info!(view = %key, ?summary.counts, seconds = summary.seconds, "listing finished");
        self.emit(SyncEvent::RoundFinished(summary.clone()));
        Ok((summary, After::Done))
    }

    /// After a round: fetches the masters its stubs need and reconciles the series that changed
    /// through their instances (the real service sends no `@removed` for a deleted occurrence).
    /// A fetch that fails leaves the series pending for the next round, and fails nothing: a
    /// stub shows once its master is known.
    async fn complete_series(
        &self,
        cal: &CalendarSpec,
        backlog: &Backlog,
        window: Window,
        page_no: &mut u64,
        mut prefetched: HashMap<String, Option<Event>>,
    ) -> Result<RoundCounts, SyncError> {
        let mut total = RoundCounts::default();
        if backlog.is_empty() {
            return Ok(total);
        }
        let calendar = cal.graph_id.as_deref();
        let view = cal.key.clone();
        let graph = self.graph_of(cal)?.for_owner(&cal.owner);
        let mut commit = async |fixes: Vec<SeriesFix>| -> Result<(), SyncError> {
            if fixes.is_empty() {
                return Ok(());
            }
            let v = view.clone();
            let outcome = blocking(&self.store, move |s| s.fix_series(&v, &fixes)).await?;
            total += outcome.counts();
            self.pages_applied(&view, page_no, &[outcome]);
            Ok(())
        };
        // Outlook serves at most four requests of a mailbox at once.
        let jobs: Vec<(String, bool)> = backlog
            .masters
            .iter()
            .map(|m| (m.clone(), true))
            .chain(backlog.instances.iter().map(|m| (m.clone(), false)))
            .collect();
        // Masters fetched during the round serve as they are; the others are fetched now.
        let mut ready = Vec::new();
        let jobs: Vec<(String, bool)> = jobs
            .into_iter()
            .filter(|(master, master_only)| match prefetched.remove(master) {
                Some(found) if *master_only => {
                    ready.push(match found {
                        Some(event) => SeriesFix::Master(Box::new(event)),
                        None => SeriesFix::Gone(master.clone()),
                    });
                    false
                }
                _ => true,
            })
            .collect();
        // A transaction for a few hundred series at a time: fewer commits, and the views
        // still fill in as they go.
        let mut ready = ready.into_iter().peekable();
        while ready.peek().is_some() {
            commit(ready.by_ref().take(FIX_GROUP).collect()).await?;
        }
        let fetches = jobs.into_iter().map(|(master, master_only)| {
            Self::fetch_series(&graph, calendar, master, master_only, window)
        });
        // What has arrived while the last fixes were written is written together.
        let mut fetched = futures_util::stream::iter(fetches)
            .buffer_unordered(CONCURRENT_REQUESTS)
            .ready_chunks(FIX_GROUP);
        while let Some(arrived) = fetched.next().await {
            let mut fixes = Vec::with_capacity(arrived.len());
            for (master, fix) in arrived {
                match fix {
                    Ok(fix) => fixes.push(fix),
                    // The series stays pending: its stubs show once its master is known.
                    Err(e) => {
                        tracing::warn!(view = %cal.key, %master, error = %e, "series not completed; tried again next round");
                    }
                }
            }
            commit(fixes).await?;
        }
        Ok(total)
    }

    /// Fetches what a pending series needs: its master, or its instances in the window.
    async fn fetch_series(
        graph: &GraphClient,
        calendar: Option<&str>,
        master: String,
        master_only: bool,
        window: Window,
    ) -> (String, Result<SeriesFix, GraphError>) {
        let fix = if master_only {
            graph
                .get_event(calendar, &master)
                .await
                .map(|found| match found {
                    Some(event) => SeriesFix::Master(Box::new(event)),
                    None => SeriesFix::Gone(master.clone()),
                })
        } else {
            graph
                .get_instances(calendar, &master, &window)
                .await
                .map(|found| match found {
                    Some(list) => SeriesFix::Instances(master.clone(), list),
                    None => SeriesFix::Gone(master.clone()),
                })
        };
        (master, fix)
    }

    /// Announces committed pages, numbering them on from `page_no`.
    fn pages_applied(&self, view: &str, page_no: &mut u64, outcomes: &[PageOutcome]) {
        for outcome in outcomes {
            *page_no += 1;
            self.emit(SyncEvent::PageApplied {
                view: ViewKey::from(view),
                page: *page_no,
                range: outcome.range,
                added: outcome.added,
                updated: outcome.updated,
                removed: outcome.removed,
            });
        }
    }
}

/// Masters of a full round's stubs, fetched while the round's pages are still coming: over a
/// wide-area network their round trips then overlap the pages' instead of following them.
/// They go twenty to a JSON batch, one batch at a time (Outlook runs four of a batch's requests
/// at once; one batch thread and the pages stay within its limits). What a batch could not
/// bring (a throttled item, a failed batch) is left to `complete_series`.
struct MasterPrefetch {
    asked: std::collections::HashSet<String>,
    queue: Option<mpsc::UnboundedSender<String>>,
    worker: tokio::task::JoinHandle<HashMap<String, Option<Event>>>,
}

impl MasterPrefetch {
    fn new(graph: &GraphClient, calendar: Option<&str>) -> MasterPrefetch {
        let (queue, mut ids) = mpsc::unbounded_channel::<String>();
        let (graph, calendar) = (graph.clone(), calendar.map(str::to_owned));
        let worker = tokio::spawn(async move {
            let mut fetched = HashMap::new();
            while let Some(first) = ids.recv().await {
                let mut batch = vec![first];
                while batch.len() < crate::graph::client::BATCH_LIMIT {
                    match ids.try_recv() {
                        Ok(id) => batch.push(id),
                        Err(_) => break,
                    }
                }
                match graph.get_events_batch(calendar.as_deref(), &batch).await {
                    Ok(answers) => {
                        for (id, answer) in answers {
                            match answer {
                                Ok(found) => {
                                    fetched.insert(id, found);
                                }
                                Err(e) => {
                                    tracing::debug!(%id, error = %e, "batched master not fetched")
                                }
                            }
                        }
                    }
                    Err(e) => {
                        tracing::info!(error = %e, "a batch of masters failed; fetched one by one")
                    }
                }
            }
            fetched
        });
        MasterPrefetch {
            asked: Default::default(),
            queue: Some(queue),
            worker,
        }
    }

    /// Queues the masters a page's stubs need that the page itself does not carry (`known`:
    /// masters the cache already holds current).
    fn page(&mut self, changes: &[Change], known: &std::collections::BTreeSet<String>) {
        let carried: std::collections::HashSet<&str> = changes
            .iter()
            .filter_map(|c| match c {
                Change::Upsert { event } if event.is_series_master() => Some(event.id.as_str()),
                _ => None,
            })
            .collect();
        for change in changes {
            let Change::Upsert { event } = change else {
                continue;
            };
            let Some(master) = event.series_master_id.as_deref() else {
                continue;
            };
            if event.is_stub()
                && !carried.contains(master)
                && !known.contains(master)
                && self.asked.insert(master.to_owned())
                && let Some(queue) = &self.queue
            {
                let _ = queue.send(master.to_owned());
            }
        }
    }

    /// Everything fetched (a master's id to the master, or None when the server has none),
    /// once the round is over.
    async fn finish(mut self) -> HashMap<String, Option<Event>> {
        self.queue = None;
        (&mut self.worker).await.unwrap_or_default()
    }
}

impl Drop for MasterPrefetch {
    fn drop(&mut self) {
        // A round that stops early stops its fetches too.
        self.worker.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_that_may_heal_are_retried_sooner_and_back_off() {
        let hour = Duration::from_secs(300);
        assert_eq!(next_round_in(&[], 0, hour), hour);
        assert_eq!(next_round_in(&[FailureKind::SignInNeeded], 3, hour), hour);
        assert_eq!(next_round_in(&[FailureKind::Refused], 0, hour), hour);
        let offline = [FailureKind::Offline];
        assert_eq!(next_round_in(&offline, 0, hour), Duration::from_secs(15));
        assert_eq!(next_round_in(&offline, 1, hour), Duration::from_secs(30));
        assert_eq!(
            next_round_in(&offline, 10, hour),
            hour,
            "never past the interval"
        );
        assert_eq!(
            next_round_in(&[FailureKind::Throttled], 2, hour),
            Duration::from_secs(60)
        );
    }
}

/// How often a process that shows the cache looks for other processes' commits: a read of
/// the last change number, a few microseconds.
pub const CACHE_WATCH: Duration = Duration::from_millis(500);

/// Follows the cache for commits of other deltacal processes (a `deltacal sync` from cron, the
/// reminder service, another TUI) and passes them on as notifications: what they changed as
/// [`SyncEvent::CacheChanged`], and each round they completed as [`SyncEvent::RoundFinished`]
/// with that round's counts, so the views follow the cache whoever wrote it. Stops with the
/// engine's last subscriber.
pub fn spawn_cache_watch(engine: Arc<SyncEngine>, every: Duration) {
    tokio::spawn(async move {
        let Ok(mut seen) = blocking(&engine.store, |s| s.last_change()).await else {
            return;
        };
        loop {
            tokio::time::sleep(every).await;
            if engine.events.receiver_count() == 0 {
                return;
            }
            let found = blocking(&engine.store, move |s| s.changes_after(seen)).await;
            let (last, changes) = match found {
                Ok(found) => found,
                Err(e) => {
                    tracing::debug!(error = %e, "reading the cache's changes failed");
                    continue;
                }
            };
            seen = last;
            let Some(changes) = changes else {
                engine.emit(SyncEvent::CacheChanged {
                    view: None,
                    range: None,
                });
                continue;
            };
            for change in changes {
                engine.emit(SyncEvent::CacheChanged {
                    view: Some(change.view.clone()),
                    range: change.range,
                });
                if change.completed {
                    engine.announce_round_by_another(&change.view).await;
                }
            }
        }
    });
}

impl SyncEngine {
    /// Passes on a round another process completed, with the counts it saved.
    async fn announce_round_by_another(&self, view: &str) {
        let Some(cal) = self.config.calendars.iter().find(|c| c.key == view) else {
            return;
        };
        let key = view.to_owned();
        let Ok(Some(state)) = blocking(&self.store, move |s| s.sync_state(&key)).await else {
            return;
        };
        self.emit(SyncEvent::RoundFinished(RoundSummary {
            view: cal.key.clone(),
            name: cal.name.clone(),
            counts: state.last_counts.unwrap_or_default(),
            seconds: 0.0,
            full: false,
            by_another: true,
            listed: state.cursor.listed,
            next_listing: None,
        }));
    }
}

/// Asks the background sync task for a round now.
#[derive(Clone)]
pub struct SyncHandle {
    tx: mpsc::Sender<()>,
}

impl SyncHandle {
    /// Requests a round; a request while one is queued is merged into it.
    pub fn run_now(&self) {
        let _ = self.tx.try_send(());
    }
}

/// The first wait before a round that failed in a way that may heal is tried again; it doubles
/// with each failure in a row, up to the usual interval.
const RETRY_FIRST: Duration = Duration::from_secs(15);

/// When to run the next round after one that ended with `failures`: the usual interval, or
/// sooner while a failure may heal (offline, throttled, a server error), backing off as it
/// goes on. A sign-in that is needed waits for the sign-in, not for time.
pub fn next_round_in(failures: &[FailureKind], failed_before: u32, interval: Duration) -> Duration {
    // A refusal (a calendar not shared with you, no such user) does not heal by asking again
    // soon: the calendars that work are not synced again for its sake.
    let heals = failures.iter().any(|k| {
        !matches!(
            k,
            FailureKind::SignInNeeded | FailureKind::Credentials | FailureKind::Refused
        )
    });
    if !heals {
        return interval;
    }
    RETRY_FIRST
        .saturating_mul(1 << failed_before.min(16))
        .min(interval)
}

/// Runs rounds in the background: one at start, then every `interval`, sooner after a failure
/// that may heal, and on request. Stops when every `SyncHandle` is dropped.
pub fn spawn_background(engine: Arc<SyncEngine>, interval: Duration) -> SyncHandle {
    let (tx, mut rx) = mpsc::channel::<()>(1);
    tokio::spawn(async move {
        let mut failed_before = 0;
        let mut listed = false;
        loop {
            let failures: Vec<FailureKind> = engine
                .sync_all()
                .await
                .into_iter()
                .filter_map(|(_, result)| result.err().map(|e| e.kind()))
                .collect();
            // Once a session, after a round that worked: the calendars' names and colours.
            if failures.is_empty() && !listed {
                match engine.list_calendars().await {
                    Ok(_) => listed = true,
                    Err(e) => tracing::warn!(error = %e, "listing the calendars failed"),
                }
            }
            // A round allocates and frees its pages by the thousand.
            crate::memory::give_back();
            let wait = next_round_in(&failures, failed_before, interval);
            failed_before = if failures.is_empty() {
                0
            } else {
                failed_before + 1
            };
            if wait < interval {
                let at = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
                engine.emit(SyncEvent::RetryAt { at });
            }
            tokio::select! {
                request = rx.recv() => if request.is_none() { break },
                _ = tokio::time::sleep(wait) => {}
            }
        }
    });
    SyncHandle { tx }
}
