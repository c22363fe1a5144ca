//! A faithful local emulator of the Microsoft Graph calendarView delta API and the identity
//! platform's device-code flow, with a control API for tests and the demo.
//!
//! It imports nothing of the client: its types, time parsing and zones are its own, so that it
//! stays an independent oracle.

mod control_api;
pub mod faults;
pub mod generate;
mod graph_api;
pub mod identity;
mod identity_api;
pub mod mailbox;
pub mod people;
mod recurrence;
pub mod rounds;
mod schedule;
pub mod time;
pub mod tokens;
mod write_api;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use chrono::NaiveDate;
use tokio::sync::oneshot;

use self::faults::FaultQueue;
use self::identity::{Identity, IdentitySettings};
use self::mailbox::Mailbox;
pub use self::mailbox::Mode;
use self::tokens::TokenTable;

/// Limits on what the emulator is asked to hold: it must keep answering whatever it is asked.
pub const MAX_EVENTS: usize = 1_000_000;
/// The most calendars the emulator serves.
pub const MAX_CALENDARS: usize = 100;
/// The most events a colleague's (or a room's, a group's) calendar gets.
const OTHERS_EVENTS: usize = 300;
/// The most other users the emulator makes (`--users`).
pub const MAX_USERS: usize = 8;
/// The most latency added to a request (requests time out at 30 s).
pub const MAX_LATENCY_MS: u64 = 10_000;

impl SimOptions {
    fn check(&self) -> Result<(), SimError> {
        if self.events > MAX_EVENTS {
            return Err(SimError::BadOption(format!(
                "--events {}: at most {MAX_EVENTS}",
                self.events
            )));
        }
        if self.latency_ms > MAX_LATENCY_MS {
            return Err(SimError::BadOption(format!(
                "--latency-ms {}: at most {MAX_LATENCY_MS}",
                self.latency_ms
            )));
        }
        if self.users > MAX_USERS {
            return Err(SimError::BadOption(format!(
                "--users {}: at most {MAX_USERS}",
                self.users
            )));
        }
        if !(1..=MAX_CALENDARS).contains(&self.calendars) {
            return Err(SimError::BadOption(format!(
                "--calendars {}: from 1 to {MAX_CALENDARS}",
                self.calendars
            )));
        }
        Ok(())
    }
}

/// How long a client may take to send a request's headers, and to have it answered (its body
/// read included): a slow client holds its own connection, never the emulator.
const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A self-signed certificate for `localhost` and `127.0.0.1`, written (PEM) into `dir` for
/// clients to trust, and the TLS acceptor that serves with it.
fn tls_acceptor(
    dir: &std::path::Path,
) -> Result<(tokio_rustls::TlsAcceptor, std::path::PathBuf), SimError> {
    let failed = |e: &dyn std::fmt::Display| SimError::Tls(e.to_string());
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .map_err(|e| failed(&e))?;
    let path = dir.join("sim-cert.pem");
    std::fs::write(&path, certified.cert.pem()).map_err(|e| failed(&e))?;
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| failed(&e))?
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key)
    .map_err(|e| failed(&e))?;
    Ok((tokio_rustls::TlsAcceptor::from(Arc::new(config)), path))
}

/// Serves until `shutdown`: each connection on a task of its own (behind TLS with `tls`), with
/// a header timeout.
async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    mut shutdown: oneshot::Receiver<()>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors, say: try again with the next connection.
                Err(_) => continue,
            },
            _ = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let tls = tls.clone();
        tokio::spawn(async move {
            let mut builder = Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT);
            match tls {
                None => {
                    let _ = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                }
                Some(acceptor) => {
                    let handshake = tokio::time::timeout(HEADER_TIMEOUT, acceptor.accept(stream));
                    if let Ok(Ok(stream)) = handshake.await {
                        let _ = builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    }
                }
            }
        });
    }
}

/// Counts every Graph request and delays it by the configured latency (a round trip over a
/// wide-area network): half before it is served, half after.
async fn graph_latency(
    State(sim): State<Shared>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let graph = request.uri().path().starts_with("/v1.0/");
    let (request, mut mailbox) = mailbox_of_request(request).await;
    let latency = {
        let mut state = lock(&sim);
        // `/me` of the personal account is its own mailbox.
        if mailbox == identity::USER_MAIL
            && graph_api::bearer_user(&state, request.headers()) == Some(identity::PERSONAL_MAIL)
        {
            mailbox = identity::PERSONAL_MAIL.to_owned();
        }
        if graph {
            state.graph_requests += 1;
            // Outlook serves four requests at once per mailbox; the fifth is throttled.
            let in_flight = state.in_flight.entry(mailbox.clone()).or_default();
            if *in_flight >= MAILBOX_CONCURRENCY {
                state.concurrency_refused += 1;
                return mailbox_concurrency();
            }
            *in_flight += 1;
            let now = *in_flight;
            state.max_in_flight = state.max_in_flight.max(now);
            // Reads are logged here; a write logs itself, with its body.
            if request.method() == axum::http::Method::GET {
                let path = request
                    .uri()
                    .path_and_query()
                    .map_or("", |p| p.as_str())
                    .to_owned();
                write_api::log_request(&mut state, "GET", &path, serde_json::Value::Null, None);
            }
        }
        state.latency
    };
    if !graph {
        return next.run(request).await;
    }
    // Counted out however the request ends (served, or dropped with its connection).
    let _flight = InFlight(sim.clone(), mailbox);
    if latency.is_zero() {
        return next.run(request).await;
    }
    // Half the round trip on the way there, half on the way back: a client that gives up (or
    // dies) in the second half has had its request served without hearing so.
    tokio::time::sleep(latency / 2).await;
    let response = next.run(request).await;
    tokio::time::sleep(latency - latency / 2).await;
    response
}

/// Requests one mailbox serves at once.
const MAILBOX_CONCURRENCY: u64 = 4;

/// A Graph request being served, and the mailbox it counts against: counted out when dropped.
struct InFlight(Shared, String);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut state = lock(&self.0);
        if let Some(n) = state.in_flight.get_mut(&self.1) {
            *n = n.saturating_sub(1);
        }
    }
}

/// The mailbox a request counts against: its path's, or for a JSON batch its first request's
/// (the body read here and put back).
async fn mailbox_of_request(request: axum::extract::Request) -> (axum::extract::Request, String) {
    if !request.uri().path().eq_ignore_ascii_case("/v1.0/$batch") {
        let mailbox = mailbox_of_path(request.uri().path());
        return (request, mailbox);
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 4 << 20)
        .await
        .unwrap_or_default();
    let first = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|b| b["requests"][0]["url"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let mailbox = mailbox_of_path(&format!("/v1.0/{}", first.trim_start_matches('/')));
    let request = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
    (request, mailbox)
}

/// The mailbox a Graph path's request counts against: `/users/{address}/…` another user's (or
/// a room's), `/groups/{id}/…` a group's, anything else the signed-in user's.
fn mailbox_of_path(path: &str) -> String {
    let mut segments = path.trim_start_matches("/v1.0/").split('/');
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.to_ascii_lowercase())
            .unwrap_or_default()
    };
    match (segments.next(), segments.next()) {
        (Some(u), Some(who)) if u.eq_ignore_ascii_case("users") => {
            people::who_of_user(&decode(who)).mailbox_key()
        }
        (Some(g), Some(id)) if g.eq_ignore_ascii_case("groups") => {
            people::Who::Group(decode(id)).mailbox_key()
        }
        _ => people::Who::Me.mailbox_key(),
    }
}

/// `429 ApplicationThrottled` as Outlook answers a fifth request at once to a mailbox.
fn mailbox_concurrency() -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        [("retry-after", "0.1")],
        axum::Json(serde_json::json!({"error": {"code": "ApplicationThrottled",
            "message": "Application is over its MailboxConcurrency limit."}})),
    )
        .into_response()
}

/// Answers 408 when a request is not answered in time (a body that trickles in, say).
async fn request_timeout(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => (
            axum::http::StatusCode::REQUEST_TIMEOUT,
            axum::Json(serde_json::json!({"error": {"code": "RequestTimeout", "message": "The request took too long."}})),
        )
            .into_response(),
    }
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// An option that does not read.
    #[error("{0}")]
    BadOption(String),
    #[error("--addr {addr}: {reason}")]
    /// `--addr` does not read as an address.
    BadAddress {
        /// What was given.
        addr: String,
        /// Why it does not read.
        reason: String,
    },
    /// An address that is not loopback.
    #[error("--addr {0}: the emulator listens on loopback addresses only")]
    NotLoopback(SocketAddr),
    #[error("cannot listen on {addr}: {cause}")]
    /// The address cannot be listened on.
    Listen {
        /// The address.
        addr: SocketAddr,
        /// What the system said.
        cause: String,
    },
    /// The TLS set-up failed.
    #[error("cannot set up TLS: {0}")]
    Tls(String),
}

impl SimError {
    /// True when the address given was wrong (a usage error), not the machine.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            SimError::BadAddress { .. } | SimError::NotLoopback(_) | SimError::BadOption(_)
        )
    }
}

/// How to start an emulator.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Events generated into the default calendar.
    pub events: usize,
    /// The seed of the generated calendar: the same seed, the same events.
    pub seed: u64,
    /// Calendars in the mailbox: the default one plus `calendars - 1` more (each also filled).
    pub calendars: usize,
    /// How the identity platform behaves.
    pub identity: IdentitySettings,
    /// The day generated calendars are placed around.
    pub anchor: NaiveDate,
    /// How calendarView delta answers.
    pub mode: Mode,
    /// Serve https with a self-signed certificate made at start.
    pub tls: bool,
    /// Added to every Graph request, as a wide-area network adds it.
    pub latency_ms: u64,
    /// Colleagues besides the signed-in user (`--users`); the room, the mailbox on premises
    /// and the groups are always there.
    pub users: usize,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            events: 0,
            seed: 1,
            calendars: 1,
            identity: IdentitySettings::default(),
            anchor: generate::today(),
            mode: Mode::default(),
            tls: false,
            latency_ms: 0,
            users: 1,
        }
    }
}

/// Everything the emulator knows, behind one lock (held briefly, never across an await).
pub struct SimState {
    /// The user's calendars and their events.
    pub mailbox: Mailbox,
    /// Everyone else: colleagues, a room, groups, and what they share.
    pub people: people::People,
    /// The sync states handed out.
    pub tokens: TokenTable,
    /// The faults queued.
    pub faults: FaultQueue,
    /// The identity platform.
    pub identity: Identity,
    /// The day the generated calendar is built around.
    pub anchor: NaiveDate,
    /// Exact or realistic answers.
    pub mode: Mode,
    /// `http`, or `https` with `--tls`.
    pub scheme: &'static str,
    /// Added to every Graph request.
    pub latency: std::time::Duration,
    /// Graph requests served so far (`GET /sim/stats`).
    pub graph_requests: u64,
    /// The delta rounds under way, and how many overlapped another of their view.
    pub rounds: rounds::RoundWatch,
    /// Creates by `transactionId`: the body first sent with it, and the event it made.
    pub transactions: std::collections::HashMap<String, (serde_json::Value, String)>,
    /// The Graph requests served, oldest first (`GET /sim/requests`): method, path, a write's
    /// JSON body, `If-Match`.
    pub requests: Vec<serde_json::Value>,
    /// Writes applied so far: in the realistic mode every third one's echo comes late and every
    /// fourth one's twice.
    pub writes: u64,
    /// Graph requests being served now, by mailbox.
    pub in_flight: std::collections::HashMap<String, u64>,
    /// The most Graph requests served at once to one mailbox so far (`GET /sim/stats`).
    pub max_in_flight: u64,
    /// Requests refused for being a fifth at once (`429 ApplicationThrottled`).
    pub concurrency_refused: u64,
}

impl SimState {
    /// The state `options` describe.
    pub fn new(options: &SimOptions) -> SimState {
        let mut mailbox = Mailbox::new(options.calendars);
        let ids: Vec<String> = mailbox.calendars.iter().map(|c| c.id.clone()).collect();
        for (i, id) in ids.iter().enumerate() {
            let count = if i == 0 {
                options.events
            } else {
                options.events / 4
            };
            generate::fill(
                &mut mailbox,
                id,
                count,
                options.seed.wrapping_add(i as u64),
                options.anchor,
            );
        }
        // Colleagues' calendars are small beside the user's: a large bench calendar does not
        // grow everyone else's (and the emulator's memory with them).
        let others = (options.events / 4).min(OTHERS_EVENTS);
        SimState {
            people: people::People::new(options.users, others, options.seed, options.anchor),
            mailbox,
            tokens: TokenTable::default(),
            faults: FaultQueue::default(),
            identity: Identity::new(options.identity.clone()),
            anchor: options.anchor,
            mode: options.mode,
            scheme: if options.tls { "https" } else { "http" },
            latency: std::time::Duration::from_millis(options.latency_ms),
            graph_requests: 0,
            rounds: rounds::RoundWatch::default(),
            transactions: std::collections::HashMap::new(),
            requests: Vec::new(),
            writes: 0,
            in_flight: std::collections::HashMap::new(),
            max_in_flight: 0,
            concurrency_refused: 0,
        }
    }
}

/// The state the routes share.
pub type Shared = Arc<Mutex<SimState>>;

fn lock(shared: &Shared) -> MutexGuard<'_, SimState> {
    // A panic while holding the lock leaves consistent-enough state for an emulator.
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running emulator, and the handle its callers (the demo, the bench, the tests) act on it
/// through: its state is its own.
pub struct SimServer {
    /// Where it listens.
    pub addr: SocketAddr,
    state: Shared,
    /// With TLS: the self-signed certificate (PEM) clients should trust.
    pub cert_path: Option<std::path::PathBuf>,
    _cert_dir: Option<tempfile::TempDir>,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl SimServer {
    /// Binds `addr` (loopback only) and serves in the background.
    pub async fn start(addr: &str, options: SimOptions) -> Result<SimServer, SimError> {
        options.check()?;
        let addr: SocketAddr = addr.parse().map_err(|e| SimError::BadAddress {
            addr: addr.to_owned(),
            reason: format!("{e}"),
        })?;
        if !addr.ip().is_loopback() {
            return Err(SimError::NotLoopback(addr));
        }
        let listen_error = |e: std::io::Error| SimError::Listen {
            addr,
            cause: e.to_string(),
        };
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(listen_error)?;
        let addr = listener.local_addr().map_err(listen_error)?;
        let (tls, cert_dir, cert_path) = if options.tls {
            let dir = tempfile::Builder::new()
                .prefix("deltacal-sim-")
                .tempdir()
                .map_err(|e| SimError::Tls(e.to_string()))?;
            let (acceptor, path) = tls_acceptor(dir.path())?;
            (Some(acceptor), Some(dir), Some(path))
        } else {
            (None, None, None)
        };
        let state = Arc::new(Mutex::new(SimState::new(&options)));
        let app = router(state.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, app, rx, tls));
        Ok(SimServer {
            addr,
            state,
            cert_path,
            _cert_dir: cert_dir,
            shutdown: Some(tx),
            task,
        })
    }

    /// `http://127.0.0.1:PORT` (https with TLS).
    pub fn url(&self) -> String {
        let scheme = if self.cert_path.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// The handle to act on this emulator with.
    pub fn handle(&self) -> SimHandle {
        SimHandle(self.state.clone())
    }

    /// Stops serving and waits for the server task.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// What the demo, the bench and the tests do to a running emulator, as methods: its state
/// stays behind them. Cheap to clone (a churn task of the demo keeps one).
#[derive(Clone)]
pub struct SimHandle(Shared);

impl SimHandle {
    /// Tokens for the emulated user, as a finished sign-in would give (the browser step
    /// skipped): Graph's token response JSON.
    pub fn issue_tokens(&self) -> serde_json::Value {
        lock(&self.0).identity.issue_for_tests()
    }

    /// Tokens as a sign-in that may write (`Calendars.ReadWrite`) gets them.
    pub fn issue_write_tokens(&self) -> serde_json::Value {
        lock(&self.0)
            .identity
            .issue_scopes_for_tests("offline_access Calendars.ReadWrite User.Read")
    }

    /// Tokens of the sign-in `scope` names (`Calendars.Read.Shared`, `Group.Read.All`).
    pub fn issue_scoped_tokens(&self, scope: &str) -> serde_json::Value {
        lock(&self.0).identity.issue_scopes_for_tests(scope)
    }

    /// Tokens of the personal Microsoft account (the `consumers` tenant's sign-in).
    pub fn issue_personal_tokens(&self, scope: &str) -> serde_json::Value {
        lock(&self.0).identity.issue_personal_for_tests(scope)
    }

    /// The id of `owner`'s (an address or a group id) `index`th calendar.
    pub fn calendar_of(&self, owner: &str, index: usize) -> Option<String> {
        let state = lock(&self.0);
        let who = if state.people.groups.contains_key(owner) {
            people::Who::Group(owner.to_owned())
        } else {
            people::who_of_user(owner)
        };
        let mailbox = match who {
            people::Who::Me => &state.mailbox,
            who => state.people.mailbox(&who)?,
        };
        mailbox.calendars.get(index).map(|c| c.id.clone())
    }

    /// The Graph id of the `index`th calendar (0 is the default one).
    pub fn calendar_id(&self, index: usize) -> Option<String> {
        lock(&self.0)
            .mailbox
            .calendars
            .get(index)
            .map(|c| c.id.clone())
    }

    /// What the emulator adds to every Graph request.
    pub fn set_latency(&self, latency: std::time::Duration) {
        lock(&self.0).latency = latency;
    }

    /// Makes every outstanding sync state answer 410, as `POST /sim/expire-sync-state` does.
    pub fn expire_sync_state(&self) {
        lock(&self.0).tokens.expire_all();
    }

    /// Graph requests served so far.
    pub fn graph_requests(&self) -> u64 {
        lock(&self.0).graph_requests
    }

    /// How often two rounds of one calendar view ran at once.
    pub fn overlapping_rounds(&self) -> u64 {
        lock(&self.0).rounds.overlapping
    }

    /// The mailbox's change counter.
    pub fn seq(&self) -> u64 {
        lock(&self.0).mailbox.seq()
    }

    /// `count` random realistic changes, as `POST /sim/churn` makes; how many were applied.
    pub fn churn(&self, count: usize, seed: u64) -> usize {
        let mut state = lock(&self.0);
        let anchor = state.anchor;
        generate::churn(&mut state.mailbox, count, seed, anchor, false, None)
    }

    /// Shares `owner`'s `calendar` (`default` or an id) with `with`, as `POST /sim/share` does.
    pub fn share(
        &self,
        owner: &str,
        calendar: &str,
        with: &str,
        write: bool,
    ) -> Result<(), String> {
        let role = if write {
            people::Role::Write
        } else {
            people::Role::Read
        };
        lock(&self.0).people.share(owner, calendar, with, role)
    }

    /// Acts on someone else's mailbox (an address or a group id); None when there is none.
    pub fn with_mailbox_of<R>(
        &self,
        owner: &str,
        act: impl FnOnce(&mut mailbox::Mailbox) -> R,
    ) -> Option<R> {
        let mut state = lock(&self.0);
        let who = if state.people.groups.contains_key(owner) {
            people::Who::Group(owner.to_owned())
        } else {
            people::who_of_user(owner)
        };
        match who {
            people::Who::Me => Some(act(&mut state.mailbox)),
            who => state.people.mailbox_mut(&who).map(act),
        }
    }

    /// Acts on the mailbox directly: events shaped as a test or the bench needs them.
    pub fn with_mailbox<R>(&self, act: impl FnOnce(&mut mailbox::Mailbox) -> R) -> R {
        act(&mut lock(&self.0).mailbox)
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The emulator's routes: the identity platform, Graph, and the control API.
pub fn router(state: Shared) -> Router {
    Router::new()
        .merge(identity_api::routes())
        .merge(graph_api::routes())
        .merge(write_api::routes())
        .merge(control_api::routes())
        .fallback(graph_api::unknown_path)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            graph_latency,
        ))
        .layer(axum::middleware::from_fn(request_timeout))
        .with_state(state)
}

/// `http(s)://host:port` as the client reached us (links and codes point back there). Takes
/// the lock for a moment: never call it holding the lock.
fn origin(sim: &Shared, headers: &HeaderMap) -> String {
    let scheme = lock(sim).scheme;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("{scheme}://{host}")
}
