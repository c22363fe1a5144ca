//! The Graph client: bearer on every request, retries per the protocol's error table, and
//! links followed only to the configured origin.

use std::sync::Arc;
use std::time::Duration;

use rand::RngExt;
use reqwest::header::{HeaderValue, RETRY_AFTER};
use reqwest::{StatusCode, Url};

use super::wire::{DeltaPage, PageLink, parse_calendars, parse_error, parse_list, parse_page};
use crate::auth::session::{AuthError, Session};
use crate::failure::FailureKind;
use crate::model::Owner;
use crate::model::{CalendarInfo, Change, Event, Window};
use crate::net;

/// How hard to try before a round gives up (keeping its state token).
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Tries per request before giving up (transient failures only).
    pub max_attempts: u32,
    /// The first backoff delay; it doubles per try.
    pub base_delay: Duration,
    /// The longest backoff delay.
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured as given; longer ones are clamped.
    pub max_retry_after: Duration,
    /// The most one request may spend waiting between its tries, all waits together.
    pub max_total_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(300),
            max_total_wait: Duration::from_secs(600),
        }
    }
}

impl RetryPolicy {
    /// Exponential backoff with jitter: half to all of base * 2^(attempt-1), capped.
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let capped = exp.min(self.max_delay);
        capped.mul_f64(rand::rng().random_range(0.5..=1.0))
    }
}

/// Why a request failed for good.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GraphError {
    /// 410: the sync state expired; a full round must follow.
    #[error("sync state expired ({code}): {message}")]
    Gone {
        /// Graph's error code.
        code: String,
        /// What the server said.
        message: String,
    },
    /// The sign-in failed.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// 403: the sign-in may not read the calendar.
    #[error("access denied ({message}): deltacal needs the Calendars.Read permission")]
    Forbidden {
        /// What the server said.
        message: String,
    },
    /// 400: Graph refused the request.
    #[error("bad request ({code}): {message}")]
    BadRequest {
        /// Graph's error code.
        code: String,
        /// What the server said.
        message: String,
    },
    /// A link to another host than the configured Graph.
    #[error("refusing to follow a link to {link}: it is not the configured Graph host {expected}")]
    ForeignLink {
        /// The link refused.
        link: String,
        /// The Graph host configured.
        expected: String,
    },
    /// Someone else's mailbox refused or is not there: not shared with the user, no such
    /// user or group, a mailbox Graph cannot reach, no consent for the group scope.
    #[error("{}", explain_mailbox(.owner, .code, .message))]
    Mailbox {
        /// Whose calendar.
        owner: Owner,
        /// Graph's error code.
        code: String,
        /// What the server said.
        message: String,
    },
    /// 404 on a configured calendar.
    #[error("calendar not found: check calendars[].id (see `deltacal calendars`)")]
    CalendarNotFound,
    /// Graph cannot be reached.
    #[error("offline: {0}")]
    Unreachable(String),
    /// Transient failures used up the tries.
    #[error("gave up after {attempts} attempts: {last}")]
    GaveUp {
        /// How many tries were made.
        attempts: u32,
        /// What the last one failed with.
        last: String,
        /// The kind of the last failure.
        kind: FailureKind,
    },
    /// Another HTTP status.
    #[error("unexpected HTTP {status}: {message}")]
    Http {
        /// The HTTP status.
        status: u16,
        /// What the server said.
        message: String,
    },
}

impl GraphError {
    /// What callers match on.
    pub fn kind(&self) -> FailureKind {
        match self {
            GraphError::Auth(e) => e.kind(),
            GraphError::GaveUp { kind, .. } => *kind,
            GraphError::Unreachable(_) => FailureKind::Offline,
            GraphError::Gone { .. } | GraphError::Http { .. } => FailureKind::Server,
            GraphError::Forbidden { .. }
            | GraphError::Mailbox { .. }
            | GraphError::CalendarNotFound
            | GraphError::BadRequest { .. }
            | GraphError::ForeignLink { .. } => FailureKind::Refused,
        }
    }
}

/// A Graph client bound to one origin (scheme, host and port of `graph.base_url`).
/// The most requests one JSON batch may hold.
pub const BATCH_LIMIT: usize = 20;

/// The most pages of calendars read: 10 a page, far more calendars than anyone keeps.
const MAX_CALENDAR_PAGES: usize = 100;

/// The Graph client: a bearer from the session on every request, retries within the policy, and
/// links checked to stay on the configured host.
#[derive(Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    base: Url,
    page_size: u32,
    session: Arc<Session>,
    retry: RetryPolicy,
    /// Told of every wait before a retry of a second or more, so that whoever shows the sync
    /// can say why nothing moves (throttled until 14:05) instead of "syncing page 1".
    on_wait: Option<Arc<dyn Fn(RetryWait) + Send + Sync>>,
    /// What this process keeps to for the mailbox (shared by every client of it in the
    /// process: rounds, prefetches, sends): Outlook serves four requests at once and answers
    /// `429 MailboxConcurrency` beyond, and 10,000 in ten minutes.
    limits: Arc<MailboxLimits>,
    /// Whose mailbox its paths name (`/me`, `/users/{address}`, `/groups/{id}`).
    owner: Owner,
    /// The `[accounts.NAME]` it signs in as (None: the main account): its `/me` is another
    /// mailbox, with limits of its own.
    account: Option<String>,
}

/// Requests in flight at once to one mailbox, from one process (Outlook's limit).
pub const MAILBOX_CONCURRENCY: usize = 4;

/// Requests one app may send to one mailbox in [`BUDGET_WINDOW`] (Outlook's limit).
pub const MAILBOX_BUDGET: usize = 10_000;
/// The window of [`MAILBOX_BUDGET`].
pub const BUDGET_WINDOW: Duration = Duration::from_secs(600);

/// What one process keeps to for one mailbox: four requests at once, and at most
/// [`MAILBOX_BUDGET`] in [`BUDGET_WINDOW`].
pub struct MailboxLimits {
    at_once: tokio::sync::Semaphore,
    /// When the requests of the last window were sent, oldest first.
    sent: std::sync::Mutex<std::collections::VecDeque<std::time::Instant>>,
}

impl MailboxLimits {
    fn new() -> MailboxLimits {
        MailboxLimits {
            at_once: tokio::sync::Semaphore::new(MAILBOX_CONCURRENCY),
            sent: std::sync::Mutex::new(std::collections::VecDeque::new()),
        }
    }

    /// Waits until a request fits in the budget, and counts it.
    async fn spend(&self) {
        loop {
            let wait = {
                let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
                let now = std::time::Instant::now();
                while sent
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= BUDGET_WINDOW)
                {
                    sent.pop_front();
                }
                if sent.len() < MAILBOX_BUDGET {
                    sent.push_back(now);
                    return;
                }
                sent.front().map_or(Duration::ZERO, |t| {
                    BUDGET_WINDOW.saturating_sub(now.duration_since(*t))
                })
            };
            tracing::warn!(
                wait_s = wait.as_secs(),
                "10,000 requests to this mailbox in 10 minutes: waiting"
            );
            tokio::time::sleep(wait).await;
        }
    }
}

/// The process's limits for `owner`'s mailbox behind `base`.
fn mailbox_limit(base: &Url, account: Option<&str>, owner: &Owner) -> Arc<MailboxLimits> {
    static LIMITS: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<String, Arc<MailboxLimits>>>,
    > = std::sync::OnceLock::new();
    let limits = LIMITS.get_or_init(Default::default);
    let mut limits = limits.lock().unwrap_or_else(|e| e.into_inner());
    limits
        .entry(format!(
            "{base} {} {}",
            account.unwrap_or(""),
            owner.segments().join("/")
        ))
        .or_insert_with(|| Arc::new(MailboxLimits::new()))
        .clone()
}

/// A wait before a request is tried again.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryWait {
    /// When the request is tried again.
    pub until: chrono::DateTime<chrono::Utc>,
    /// Why: throttled (429), or the server failing (5xx, broken answers).
    pub kind: FailureKind,
    /// What the server said, sanitised and short.
    pub reason: String,
}

impl GraphClient {
    /// A client of `base_url` that signs its requests with `session`.
    pub fn new(
        http: reqwest::Client,
        base: Url,
        page_size: u32,
        session: Arc<Session>,
    ) -> GraphClient {
        GraphClient {
            limits: mailbox_limit(&base, None, &Owner::Me),
            owner: Owner::Me,
            account: None,
            http,
            base,
            page_size,
            session,
            retry: RetryPolicy::default(),
            on_wait: None,
        }
    }

    /// The client of `owner`'s mailbox: its paths name it, and its requests count against
    /// that mailbox's four at a time (shared with every client of it in the process).
    pub fn for_owner(&self, owner: &Owner) -> GraphClient {
        GraphClient {
            limits: mailbox_limit(&self.base, self.account.as_deref(), owner),
            owner: owner.clone(),
            ..self.clone()
        }
    }

    /// The client as `[accounts.NAME]` signs in (`session` its), of that account's mailbox.
    pub fn for_account(&self, name: &str, session: Arc<Session>) -> GraphClient {
        GraphClient {
            limits: mailbox_limit(&self.base, Some(name), &Owner::Me),
            owner: Owner::Me,
            account: Some(name.to_owned()),
            session,
            ..self.clone()
        }
    }

    /// The client with another retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> GraphClient {
        self.retry = retry;
        self
    }

    /// Calls `report` before every wait of a second or more between tries of a request.
    pub fn report_waits(&mut self, report: impl Fn(RetryWait) + Send + Sync + 'static) {
        self.on_wait = Some(Arc::new(report));
    }

    /// The session that signs its requests.
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// Checks that a link stays on the configured origin, before any token goes near it.
    pub fn check_link(&self, link: &str) -> Result<Url, GraphError> {
        let foreign = || GraphError::ForeignLink {
            link: origin_of(link),
            expected: self.base.origin().ascii_serialization(),
        };
        let url = Url::parse(link).map_err(|_| foreign())?;
        // A link with credentials in it is nobody's link to follow with a token.
        let userinfo = !url.username().is_empty() || url.password().is_some();
        let same = !userinfo
            && url.scheme() == self.base.scheme()
            && url.host_str().map(str::to_ascii_lowercase)
                == self.base.host_str().map(str::to_ascii_lowercase)
            && url.port_or_known_default() == self.base.port_or_known_default();
        if same && crate::config::url_allowed(&url) {
            Ok(url)
        } else {
            Err(foreign())
        }
    }

    /// GETs one delta page, retrying transient failures; checks the link it ends with.
    pub async fn get_page(&self, link: &str) -> Result<DeltaPage, GraphError> {
        let parse = |body: &[u8]| {
            let page = parse_page(body).map_err(|e| e.to_string())?;
            Ok(page)
        };
        match self.fetch(link, parse).await? {
            Fetched::Found(page) => {
                let (PageLink::Next(l) | PageLink::Delta(l)) = &page.link;
                self.check_link(l)?;
                Ok(page)
            }
            Fetched::NotFound => Err(GraphError::CalendarNotFound),
        }
    }

    /// GETs one event (a series master, say) of a calendar (`None`: the default one); None
    /// when the server has no such event.
    pub async fn get_event(
        &self,
        calendar: Option<&str>,
        id: &str,
    ) -> Result<Option<Event>, GraphError> {
        let url = self.event_url(calendar, id, None);
        let parse = |body: &[u8]| match std::str::from_utf8(body).map(Change::from_raw) {
            Ok(Ok(Change::Upsert { event })) => Ok(*event),
            _ => Err("the event is not an event".to_owned()),
        };
        match self.fetch(url.as_str(), parse).await? {
            Fetched::Found(event) => Ok(Some(event)),
            Fetched::NotFound => Ok(None),
        }
    }

    /// One page of a calendar view's plain listing: its events as changes (a listing holds
    /// full occurrences and no masters), and the next page's link, checked.
    pub async fn get_listing(
        &self,
        link: &str,
    ) -> Result<(Vec<Change>, Option<String>), GraphError> {
        let parse = |body: &[u8]| parse_list(body).map_err(|e| e.to_string());
        let (events, next) = match self.fetch(link, parse).await? {
            Fetched::Found(page) => page,
            Fetched::NotFound => return Err(GraphError::CalendarNotFound),
        };
        if let Some(next) = &next {
            self.check_link(next)?;
        }
        let changes = events
            .into_iter()
            .filter(|e| e.span().is_some())
            .map(|event| Change::Upsert {
                event: Box::new(event),
            })
            .collect();
        Ok((changes, next))
    }

    /// Every instance (occurrence and exception, full) of a series in a window, following the
    /// pages; None when the server has no such series.
    pub async fn get_instances(
        &self,
        calendar: Option<&str>,
        master: &str,
        window: &Window,
    ) -> Result<Option<Vec<Event>>, GraphError> {
        let mut link = self.event_url(calendar, master, Some(window)).to_string();
        let mut instances = Vec::new();
        loop {
            let parse = |body: &[u8]| parse_list(body).map_err(|e| e.to_string());
            let (items, next) = match self.fetch(&link, parse).await? {
                Fetched::Found(list) => list,
                Fetched::NotFound => return Ok(None),
            };
            instances.extend(items);
            match next {
                Some(next) => link = self.check_link(&next)?.to_string(),
                None => return Ok(Some(instances)),
            }
        }
    }

    /// The account's calendars (`/me/calendars`, every page: Graph sends 10 at a time). Which
    /// is the default comes from `isDefaultCalendar`, or, where the server leaves it out, from
    /// `/me/calendar`.
    pub async fn list_calendars(&self) -> Result<Vec<CalendarInfo>, GraphError> {
        let mut link = self.mailbox_url(&["calendars"]).to_string();
        let mut calendars: Vec<CalendarInfo> = Vec::new();
        let mut said_default = false;
        for _ in 0..MAX_CALENDAR_PAGES {
            let parse = |body: &[u8]| parse_calendars(body).map_err(|e| e.to_string());
            let (page, next) = match self.fetch(&link, parse).await? {
                Fetched::Found(page) => page,
                Fetched::NotFound => return Err(GraphError::CalendarNotFound),
            };
            for (mut calendar, is_default) in page {
                said_default |= is_default.is_some();
                calendar.is_default = is_default == Some(true);
                if !calendars.iter().any(|c| c.id == calendar.id) {
                    calendars.push(calendar);
                }
            }
            match next {
                Some(next) => link = self.check_link(&next)?.to_string(),
                None => break,
            }
        }
        if !said_default {
            let url = self.mailbox_url(&["calendar"]);
            let parse = |body: &[u8]| {
                #[derive(serde::Deserialize)]
                struct Id {
                    id: String,
                }
                serde_json::from_slice::<Id>(body)
                    .map(|i| i.id)
                    .map_err(|e| e.to_string())
            };
            if let Fetched::Found(id) = self.fetch(url.as_str(), parse).await? {
                for c in &mut calendars {
                    c.is_default = c.id == id;
                }
            }
        }
        Ok(calendars)
    }

    /// Several events of a calendar (`None`: the default one) in one request, by JSON batching
    /// (at most [`BATCH_LIMIT`]; Outlook runs four of them at a time on its side). Each id gets
    /// its own answer: the event, None when the server has no such event, or the failure (a
    /// throttled or failed item is for the caller to fetch again on its own).
    pub async fn get_events_batch(
        &self,
        calendar: Option<&str>,
        ids: &[String],
    ) -> Result<Vec<(String, Result<Option<Event>, GraphError>)>, GraphError> {
        let ids = &ids[..ids.len().min(BATCH_LIMIT)];
        let base_path = self.base.path().trim_end_matches('/').to_owned();
        let requests: Vec<serde_json::Value> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let url = self.event_url(calendar, id, None);
                let relative = url.path().strip_prefix(&base_path).unwrap_or(url.path());
                serde_json::json!({"id": i.to_string(), "method": "GET", "url": relative,
                                   "headers": {"Prefer": "outlook.timezone=\"UTC\""}})
            })
            .collect();
        let Some(answers) = self.batch_raw(requests).await? else {
            return Err(GraphError::CalendarNotFound);
        };
        Ok(ids
            .iter()
            .zip(answers)
            // An id the answer left out is for the caller to fetch again on its own.
            .filter(|(_, (status, _))| *status != 0)
            .map(|(id, (status, body))| {
                let result = match status {
                    200 => match Change::from_raw(&body.to_string()) {
                        Ok(Change::Upsert { event }) => Ok(Some(*event)),
                        _ => Err(GraphError::Http {
                            status: 200,
                            message: "the event is not an event".into(),
                        }),
                    },
                    404 => Ok(None),
                    status => Err(GraphError::Http {
                        status,
                        message: crate::text::line(
                            body["error"]["code"]
                                .as_str()
                                .unwrap_or("batch item failed"),
                        )
                        .into_owned(),
                    }),
                };
                (id.clone(), result)
            })
            .collect())
    }

    /// `path` under the client's mailbox (`/me`, `/users/{address}`, `/groups/{id}`).
    fn mailbox_url(&self, path: &[&str]) -> Url {
        super::mailbox_url(&self.base, &self.owner, path, None)
    }

    /// `/me/events/{id}` (or `/me/calendars/{cal}/events/{id}`), with `/instances` over a window.
    fn event_url(&self, calendar: Option<&str>, id: &str, window: Option<&Window>) -> Url {
        let mut path = Vec::new();
        if let Some(cal) = calendar {
            path.extend(["calendars", cal]);
        }
        path.extend(["events", id]);
        if window.is_some() {
            path.push("instances");
        }
        super::mailbox_url(&self.base, &self.owner, &path, window)
    }

    /// GETs a link on the configured origin and parses the answer, retrying transient failures
    /// (a body `parse` rejects among them); a 404 is an answer, not a failure.
    async fn fetch<T>(
        &self,
        link: &str,
        parse: impl Fn(&[u8]) -> Result<T, String>,
    ) -> Result<Fetched<T>, GraphError> {
        self.send(Request::get(link), parse).await
    }

    /// Sends a request, with the retries and checks every request gets.
    async fn send<T>(
        &self,
        request: Request<'_>,
        parse: impl Fn(&[u8]) -> Result<T, String>,
    ) -> Result<Fetched<T>, GraphError> {
        let Request {
            method,
            link,
            body: json_body,
            if_match,
        } = request;
        let url = self.check_link(link)?;
        let json_body = json_body.map(|v| v.to_string());
        let prefer = HeaderValue::from_str(&format!(
            "odata.maxpagesize={}, outlook.timezone=\"UTC\"",
            self.page_size
        ))
        .expect("header is ASCII");
        let mut attempt = 0;
        let mut waited = Duration::ZERO;
        let mut refreshed = false;
        loop {
            attempt += 1;
            let token = self.session.access_token().await?;
            let mut request = self.http.request(method.clone(), url.clone());
            if let Some(json) = &json_body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(json.clone());
            }
            if let Some(etag) = if_match {
                request = request.header(reqwest::header::IF_MATCH, etag);
            }
            // Held until the answer is read (or fails), never while waiting to retry.
            self.limits.spend().await;
            let permit = self.limits.at_once.acquire().await.ok();
            let sent = request
                .bearer_auth(&token)
                .header("prefer", prefer.clone())
                .send()
                .await;
            let (reason, kind, retry_after) = match sent {
                // Nothing answers there: say so now; the caller tries again later.
                Err(e) if net::unreachable(&e) => {
                    return Err(GraphError::Unreachable(net::describe(&e)));
                }
                Err(e) => (net::describe(&e), net::failure_kind(&e), None),
                Ok(response) => {
                    let status = response.status();
                    let retry_after = response
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| retry_after(v, chrono::Utc::now()));
                    let body = net::read_body(response, net::MAX_PAGE_BYTES).await;
                    match (status, body) {
                        (_, Err(e @ net::BodyError::TooLarge { .. })) => {
                            return Err(GraphError::Http {
                                status: status.as_u16(),
                                message: e.to_string(),
                            });
                        }
                        (_, Err(e)) => (e.to_string(), e.kind(), None),
                        (s, Ok(body)) if s.is_success() => match parse(&body) {
                            Ok(found) => return Ok(Fetched::Found(found)),
                            Err(e) => (e, FailureKind::Server, None),
                        },
                        (s, Ok(body)) => {
                            let (code, message) = parse_error(&body);
                            match s {
                                StatusCode::UNAUTHORIZED if !refreshed => {
                                    refreshed = true;
                                    attempt -= 1;
                                    self.session.refresh_after_rejection(&token).await?;
                                    continue;
                                }
                                StatusCode::UNAUTHORIZED => {
                                    return Err(AuthError::SignInAgain(format!(
                                        "{code}: {message}"
                                    ))
                                    .into());
                                }
                                StatusCode::GONE => return Err(GraphError::Gone { code, message }),
                                StatusCode::FORBIDDEN if self.owner != Owner::Me => {
                                    return Err(GraphError::Mailbox {
                                        owner: self.owner.clone(),
                                        code,
                                        message,
                                    });
                                }
                                StatusCode::FORBIDDEN => {
                                    return Err(GraphError::Forbidden { message });
                                }
                                StatusCode::NOT_FOUND
                                    if MAILBOX_MISSING.contains(&code.as_str()) =>
                                {
                                    return Err(GraphError::Mailbox {
                                        owner: self.owner.clone(),
                                        code,
                                        message,
                                    });
                                }
                                StatusCode::NOT_FOUND => return Ok(Fetched::NotFound),
                                StatusCode::BAD_REQUEST => {
                                    return Err(GraphError::BadRequest { code, message });
                                }
                                StatusCode::TOO_MANY_REQUESTS => (
                                    format!("HTTP 429 {code}: {message}"),
                                    FailureKind::Throttled,
                                    retry_after,
                                ),
                                s if s.is_server_error() => (
                                    format!("HTTP {} {code}: {message}", s.as_u16()),
                                    FailureKind::Server,
                                    retry_after,
                                ),
                                s => {
                                    return Err(GraphError::Http {
                                        status: s.as_u16(),
                                        message: format!("{code}: {message}"),
                                    });
                                }
                            }
                        }
                    }
                }
            };
            if attempt >= self.retry.max_attempts {
                return Err(GraphError::GaveUp {
                    attempts: attempt,
                    last: reason,
                    kind,
                });
            }
            drop(permit);
            let delay = retry_after
                .map(|d| d.min(self.retry.max_retry_after))
                .unwrap_or_else(|| self.retry.backoff(attempt));
            waited += delay;
            if waited > self.retry.max_total_wait {
                return Err(GraphError::GaveUp {
                    attempts: attempt,
                    last: format!(
                        "{reason} (retries would wait over {} s)",
                        self.retry.max_total_wait.as_secs()
                    ),
                    kind,
                });
            }
            tracing::warn!(attempt, delay_ms = delay.as_millis() as u64, %reason, "transient Graph failure, retrying");
            if let Some(report) = &self.on_wait
                && delay >= Duration::from_secs(1)
            {
                report(RetryWait {
                    until: chrono::Utc::now()
                        + chrono::Duration::from_std(delay).unwrap_or_default(),
                    kind,
                    reason: crate::text::bounded(&reason, 120),
                });
            }
            tokio::time::sleep(delay).await;
        }
    }
}

/// The codes of a 404 that says the mailbox, not an item in it, is missing.
const MAILBOX_MISSING: [&str; 3] = [
    "ErrorInvalidUser",
    "MailboxNotEnabledForRESTAPI",
    "Request_ResourceNotFound",
];

/// Says why someone else's calendar cannot be read, in words, with what to do.
fn explain_mailbox(owner: &Owner, code: &str, message: &str) -> String {
    let whose = owner.describe();
    let what = match (owner, code) {
        (Owner::Group(_), "Authorization_RequestDenied") => {
            "cannot be read: this sign-in has no consent for Group.Read.All (an administrator \
             must consent to it for this app; then run `deltacal login`)"
                .to_owned()
        }
        (Owner::Group(_), "Request_ResourceNotFound") => "does not exist".to_owned(),
        (Owner::Group(_), _) => "cannot be read: you are not a member of the group".to_owned(),
        (_, "ErrorInvalidUser") => "cannot be read: there is no such user".to_owned(),
        (_, "MailboxNotEnabledForRESTAPI") => "cannot be read: the mailbox is inactive or \
             hosted on premises, where Graph does not reach"
            .to_owned(),
        _ => "is not shared with you (ask them to share it; a sign-in from before it was \
              configured lacks Calendars.Read.Shared: run `deltacal login`)"
            .to_owned(),
    };
    format!(
        "{whose} {what} ({}: {})",
        crate::text::bounded(code, 60),
        crate::text::bounded(message, 200)
    )
}

/// A request to Graph: its method, link, JSON body and `If-Match`.
struct Request<'a> {
    method: reqwest::Method,
    link: &'a str,
    body: Option<&'a serde_json::Value>,
    if_match: Option<&'a str>,
}

impl<'a> Request<'a> {
    fn get(link: &'a str) -> Request<'a> {
        Request {
            method: reqwest::Method::GET,
            link,
            body: None,
            if_match: None,
        }
    }

    fn post(link: &'a str, body: &'a serde_json::Value) -> Request<'a> {
        Request {
            method: reqwest::Method::POST,
            link,
            body: Some(body),
            if_match: None,
        }
    }
}

/// A write to send: what, where, with which `If-Match`.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    /// POST, PATCH or DELETE.
    pub method: reqwest::Method,
    /// The path under the Graph base, as `me/events/{id}/accept`.
    pub path: Vec<String>,
    /// The JSON body, if the write has one.
    pub body: Option<serde_json::Value>,
    /// The `@odata.etag` the change is based on.
    pub if_match: Option<String>,
}

/// What the server answered a write.
#[derive(Debug, Clone, PartialEq)]
pub enum Written {
    /// Applied; the event as the answer gives it (none for 202 and 204).
    Done(Option<Box<Event>>),
    /// 404: no such event (a second delete, an event deleted meanwhile).
    NotFound,
}

impl GraphClient {
    /// GETs an event of the user's mailbox as Graph's JSON (`/me/events/{id}`, whatever its
    /// calendar); none when the server has no such event.
    pub async fn get_event_json(&self, id: &str) -> Result<Option<serde_json::Value>, GraphError> {
        let url = self.event_url(None, id, None);
        let parse = |body: &[u8]| {
            serde_json::from_slice::<serde_json::Value>(body).map_err(|e| e.to_string())
        };
        match self.fetch(url.as_str(), parse).await? {
            Fetched::Found(event) => Ok(Some(event)),
            Fetched::NotFound => Ok(None),
        }
    }

    /// `POST /me/calendar/getSchedule` with `body` (at most 20 addresses and 62 days): the
    /// answer's JSON, each address's schedule or error in it.
    pub async fn get_schedule(
        &self,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, GraphError> {
        let url = self.mailbox_url(&["calendar", "getSchedule"]);
        let parse = |body: &[u8]| {
            serde_json::from_slice::<serde_json::Value>(body).map_err(|e| e.to_string())
        };
        match self.send(Request::post(url.as_str(), body), parse).await? {
            Fetched::Found(answer) => Ok(answer),
            Fetched::NotFound => Err(GraphError::Http {
                status: 404,
                message: "getSchedule is not there".into(),
            }),
        }
    }

    /// Sends a write, with the retries every request gets (Retry-After, backoff, the budget);
    /// 412 and 409 come back as [`GraphError::Http`] for the caller to tell a conflict.
    pub async fn write(&self, write: &Write) -> Result<Written, GraphError> {
        let mut url = self.base.clone();
        {
            let mut segments = url.path_segments_mut().expect("base_url is http(s)");
            segments.pop_if_empty();
            for part in &write.path {
                segments.push(part);
            }
        }
        let parse = |body: &[u8]| {
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(None);
            }
            match std::str::from_utf8(body).map(Change::from_raw) {
                Ok(Ok(Change::Upsert { event })) => Ok(Some(event)),
                _ => Err("the answer is not an event".to_owned()),
            }
        };
        let request = Request {
            method: write.method.clone(),
            link: url.as_str(),
            body: write.body.as_ref(),
            if_match: write.if_match.as_deref(),
        };
        match self.send(request, parse).await? {
            Fetched::Found(event) => Ok(Written::Done(event)),
            Fetched::NotFound => Ok(Written::NotFound),
        }
    }
}

/// One write's answer inside a JSON batch.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchWritten {
    /// Applied (2xx), or no such event (404): as [`GraphClient::write`] reads them.
    Written(Written),
    /// Any other status: the write is for the caller to send again alone, where the retry
    /// policy and the errors' meanings apply (it may have been applied: the sender checks).
    Failed(u16),
}

impl GraphClient {
    /// A JSON batch of up to [`BATCH_LIMIT`] requests (`{"id", "method", "url", ...}`, ids
    /// their positions): each one's status and JSON body, in order; one the answer leaves out
    /// has status 0. None when the batch itself answers 404; a failure of it is the error.
    async fn batch_raw(
        &self,
        requests: Vec<serde_json::Value>,
    ) -> Result<Option<Vec<(u16, serde_json::Value)>>, GraphError> {
        let count = requests.len();
        let body = serde_json::json!({ "requests": requests });
        let mut link = self.base.clone();
        link.path_segments_mut()
            .expect("base_url is http(s)")
            .pop_if_empty()
            .push("$batch");
        let parse = |bytes: &[u8]| {
            #[derive(serde::Deserialize)]
            struct Answers {
                responses: Vec<Answer>,
            }
            #[derive(serde::Deserialize)]
            struct Answer {
                id: String,
                status: u16,
                #[serde(default)]
                body: serde_json::Value,
            }
            let answers: Answers = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
            let mut out = vec![(0, serde_json::Value::Null); count];
            for a in answers.responses {
                if let Some(slot) = a.id.parse::<usize>().ok().and_then(|i| out.get_mut(i)) {
                    *slot = (a.status, a.body);
                }
            }
            Ok(out)
        };
        match self
            .send(Request::post(link.as_str(), &body), parse)
            .await?
        {
            Fetched::Found(answers) => Ok(Some(answers)),
            Fetched::NotFound => Ok(None),
        }
    }

    /// A batch that must exist: its 404 is an error like any other.
    async fn batch_found(
        &self,
        requests: Vec<serde_json::Value>,
    ) -> Result<Vec<(u16, serde_json::Value)>, GraphError> {
        self.batch_raw(requests)
            .await?
            .ok_or_else(|| GraphError::Http {
                status: 404,
                message: "the server has no $batch".into(),
            })
    }

    /// A path under the base URL, relative to it, as a batch item names it.
    fn relative(&self, path: &[String]) -> String {
        let base_path = self.base.path().trim_end_matches('/').to_owned();
        let mut url = self.base.clone();
        {
            let mut segments = url.path_segments_mut().expect("base_url is http(s)");
            segments.pop_if_empty();
            for part in path {
                segments.push(part);
            }
        }
        url.path()
            .strip_prefix(&base_path)
            .unwrap_or(url.path())
            .to_owned()
    }

    /// Up to [`BATCH_LIMIT`] events of the user's mailbox as Graph's JSON, in one request:
    /// each the event, None (404), or the status of a failure (for the caller to read alone).
    pub async fn get_events_json_batch(
        &self,
        ids: &[String],
    ) -> Result<Vec<Result<Option<serde_json::Value>, u16>>, GraphError> {
        let ids = &ids[..ids.len().min(BATCH_LIMIT)];
        let requests = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let url = self.relative(&["me".into(), "events".into(), id.clone()]);
                serde_json::json!({"id": i.to_string(), "method": "GET", "url": url,
                    "headers": {"Prefer": "outlook.timezone=\"UTC\""}})
            })
            .collect();
        Ok(self
            .batch_found(requests)
            .await?
            .into_iter()
            .map(|(status, body)| match status {
                200 if body.is_object() => Ok(Some(body)),
                404 => Ok(None),
                status => Err(status),
            })
            .collect())
    }

    /// Up to [`BATCH_LIMIT`] writes in one request (JSON batching): each answered on its own.
    /// A failure of the batch itself is the error (its writes may have been applied).
    pub async fn write_batch(&self, writes: &[Write]) -> Result<Vec<BatchWritten>, GraphError> {
        let writes = &writes[..writes.len().min(BATCH_LIMIT)];
        let requests = writes
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let mut headers = serde_json::json!({"Content-Type": "application/json"});
                if let Some(etag) = &w.if_match {
                    headers["If-Match"] = serde_json::json!(etag);
                }
                let mut item = serde_json::json!({"id": i.to_string(), "method": w.method.as_str(),
                    "url": self.relative(&w.path), "headers": headers});
                if let Some(body) = &w.body {
                    item["body"] = body.clone();
                }
                item
            })
            .collect();
        Ok(self
            .batch_found(requests)
            .await?
            .into_iter()
            .map(|(status, body)| match status {
                404 => BatchWritten::Written(Written::NotFound),
                200..=299 if body.is_null() => BatchWritten::Written(Written::Done(None)),
                200..=299 => match Change::from_raw(&body.to_string()) {
                    Ok(Change::Upsert { event }) => {
                        BatchWritten::Written(Written::Done(Some(event)))
                    }
                    _ => BatchWritten::Failed(status),
                },
                status => BatchWritten::Failed(status),
            })
            .collect())
    }
}

/// What a GET found.
enum Fetched<T> {
    Found(T),
    NotFound,
}

/// A `Retry-After` value as a wait: whole seconds, fractional seconds as Graph sends them
/// (`2.128`, rounded up to the millisecond), or an HTTP date. None when it is none of these.
pub fn retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if value.starts_with(|c: char| c.is_ascii_digit()) {
        // Digits are seconds, never a date ("120" is not the year 120).
        let secs: f64 = value.parse().ok()?;
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::from_millis((secs * 1000.0).ceil().min(u64::MAX as f64) as u64));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (at.with_timezone(&chrono::Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

/// `scheme://host:port` of a link, for messages (never the query, which holds state tokens).
fn origin_of(link: &str) -> String {
    Url::parse(link)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| "an unparsable URL".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_fractions_and_dates() {
        let now = "2026-08-26T10:00:00Z".parse().unwrap();
        assert_eq!(retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(retry_after("2.128", now), Some(Duration::from_millis(2128)));
        assert_eq!(retry_after(" 0.0001 ", now), Some(Duration::from_millis(1)));
        assert_eq!(
            retry_after("Wed, 26 Aug 2026 10:02:00 GMT", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            retry_after("Wed, 26 Aug 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("-5", now), None);
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default();
        assert!(p.backoff(1) <= Duration::from_secs(1));
        assert!(p.backoff(3) >= Duration::from_secs(2));
        assert!(p.backoff(30) <= Duration::from_secs(60));
    }
}
