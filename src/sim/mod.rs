//! A faithful local emulator of the Microsoft Graph calendarView delta API and the identity
//! platform's device-code flow, with a control API for tests and the demo.

pub mod faults;
pub mod generate;
pub mod identity;
pub mod mailbox;
pub mod tokens;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use self::faults::{Fault, FaultQueue, FaultRequest};
use self::identity::{Identity, IdentitySettings, OAuthError};
use self::mailbox::{DEFAULT_CALENDAR, DeltaItem, Mailbox};
use self::tokens::{TokenError, TokenKind, TokenTable};
use crate::store::Window;

/// How to start an emulator.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Events generated into the default calendar.
    pub events: usize,
    pub seed: u64,
    /// Calendars in the mailbox: the default one plus `calendars - 1` more (each also filled).
    pub calendars: usize,
    pub identity: IdentitySettings,
    /// The day generated calendars are placed around.
    pub anchor: NaiveDate,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            events: 0,
            seed: 1,
            calendars: 1,
            identity: IdentitySettings::default(),
            anchor: generate::today(),
        }
    }
}

/// Everything the emulator knows, behind one lock (held briefly, never across an await).
pub struct SimState {
    pub mailbox: Mailbox,
    pub tokens: TokenTable,
    pub faults: FaultQueue,
    pub identity: Identity,
    pub anchor: NaiveDate,
}

impl SimState {
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
        SimState {
            mailbox,
            tokens: TokenTable::default(),
            faults: FaultQueue::default(),
            identity: Identity::new(options.identity.clone()),
            anchor: options.anchor,
        }
    }
}

pub type Shared = Arc<Mutex<SimState>>;

fn lock(shared: &Shared) -> MutexGuard<'_, SimState> {
    // A panic while holding the lock leaves consistent-enough state for an emulator.
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running emulator.
pub struct SimServer {
    pub addr: SocketAddr,
    pub state: Shared,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl SimServer {
    /// Binds `addr` (loopback only) and serves in the background.
    pub async fn start(addr: &str, options: SimOptions) -> anyhow::Result<SimServer> {
        let addr: SocketAddr = addr
            .parse()
            .map_err(|e| anyhow::anyhow!("--addr {addr}: {e}"))?;
        if !addr.ip().is_loopback() {
            anyhow::bail!("--addr {addr}: the emulator listens on loopback addresses only");
        }
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(SimState::new(&options)));
        let app = router(state.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(SimServer {
            addr,
            state,
            shutdown: Some(tx),
            task,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving and waits for the server task.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The emulator's routes.
pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/devicecode", post(device_code))
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/devicelogin", get(device_login_page))
        .route("/v1.0/me", get(me))
        .route("/v1.0/me/calendars", get(calendars))
        .route("/v1.0/me/calendarView/delta", get(delta_default))
        .route(
            "/v1.0/me/calendars/{id}/calendarView/delta",
            get(delta_calendar),
        )
        .route("/sim/approve", post(approve))
        .route("/sim/decline", post(decline))
        .route("/sim/events", post(create_event).get(truth))
        .route("/sim/events/{id}", patch(update_event).delete(delete_event))
        .route("/sim/churn", post(churn))
        .route("/sim/expire-sync-state", post(expire_sync_state))
        .route("/sim/revoke-access-tokens", post(revoke_access_tokens))
        .route("/sim/faults", post(add_fault).delete(clear_faults))
        .route("/sim/settings", post(settings))
        .route("/sim/device-polls", get(device_polls))
        .with_state(state)
}

// ---------------------------------------------------------------------------------------------
// Identity

fn oauth_error(e: OAuthError) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": e.code, "error_description": e.description, "error_codes": [], "timestamp": Utc::now().to_rfc3339()})),
    )
        .into_response()
}

fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

async fn device_code(
    State(sim): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let client_id = form.get("client_id").map(String::as_str).unwrap_or("");
    let scope = form.get("scope").map(String::as_str).unwrap_or("");
    match lock(&sim)
        .identity
        .start_device(client_id, scope, &origin(&headers))
    {
        Ok(v) => Json(v).into_response(),
        Err(e) => oauth_error(e),
    }
}

async fn token(State(sim): State<Shared>, Form(form): Form<HashMap<String, String>>) -> Response {
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let mut state = lock(&sim);
    let result = match field("grant_type") {
        "urn:ietf:params:oauth:grant-type:device_code" => {
            state.identity.poll_device(field("device_code"))
        }
        "refresh_token" => state.identity.refresh(field("refresh_token")),
        other => Err(OAuthError {
            code: "unsupported_grant_type",
            description: format!("AADSTS70003: grant type `{other}` is not supported"),
        }),
    };
    match result {
        Ok(v) => Json(v).into_response(),
        Err(e) => oauth_error(e),
    }
}

async fn device_login_page() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<html><body><h1>deltacal emulator</h1><p>This stands in for the browser sign-in page. \
         Approve a code with <code>curl -d user_code=CODE http://HOST/sim/approve</code>.</p></body></html>",
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// Graph

/// Graph's error body.
fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"error": {"code": code, "message": message, "innerError": {
        "date": Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
        "request-id": format!("{:08x}-sim", rand::random::<u32>()),
        "client-request-id": format!("{:08x}-sim", rand::random::<u32>()),
    }}});
    (status, Json(body)).into_response()
}

fn authorized(state: &SimState, headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .is_some_and(|t| state.identity.access_ok(t.trim()))
}

fn unauthorized() -> Response {
    graph_error(
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
        "Access token has expired or is not yet valid.",
    )
}

async fn me(State(sim): State<Shared>, headers: HeaderMap) -> Response {
    if !authorized(&lock(&sim), &headers) {
        return unauthorized();
    }
    Json(
        json!({"displayName": "Samantha Booth", "mail": "samanthab@contoso.com",
                "userPrincipalName": "samanthab@contoso.com", "id": "sim-user-1"}),
    )
    .into_response()
}

async fn calendars(State(sim): State<Shared>, headers: HeaderMap) -> Response {
    let state = lock(&sim);
    if !authorized(&state, &headers) {
        return unauthorized();
    }
    let value: Vec<Value> = state
        .mailbox
        .calendars
        .iter()
        .enumerate()
        .map(|(i, c)| json!({"id": c.id, "name": c.name, "color": c.color, "isDefaultCalendar": i == 0,
                             "canEdit": true, "owner": {"name": "Samantha Booth", "address": "samanthab@contoso.com"}}))
        .collect();
    Json(json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#me/calendars", "value": value}))
        .into_response()
}

/// The preferences of a request's `Prefer` headers: page size and time zone.
fn preferences(headers: &HeaderMap) -> (Option<usize>, Tz, String) {
    let mut page = None;
    let mut zone = Tz::UTC;
    let mut label = "UTC".to_owned();
    for value in headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
    {
        for pref in value.split(',') {
            let Some((k, v)) = pref.trim().split_once('=') else {
                continue;
            };
            let v = v.trim().trim_matches('"');
            match k.trim().to_ascii_lowercase().as_str() {
                "odata.maxpagesize" => page = v.parse().ok(),
                "outlook.timezone" => {
                    if let Some(z) = crate::tz::resolve(v) {
                        zone = z;
                        label = v.to_owned();
                    }
                }
                _ => {}
            }
        }
    }
    (page, zone, label)
}

async fn delta_default(
    State(sim): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    delta(
        sim,
        DEFAULT_CALENDAR.to_owned(),
        "/me/calendarView/delta".into(),
        headers,
        q,
    )
    .await
}

async fn delta_calendar(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let path = format!("/me/calendars/{}/calendarView/delta", urlencode(&id));
    delta(sim, id, path, headers, q).await
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

async fn delta(
    sim: Shared,
    calendar: String,
    path: String,
    headers: HeaderMap,
    q: HashMap<String, String>,
) -> Response {
    let fault = {
        let mut state = lock(&sim);
        if !authorized(&state, &headers) {
            return unauthorized();
        }
        state.faults.take_next()
    };
    match &fault {
        Some(Fault::Status {
            status,
            retry_after,
        }) => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let code = match status.as_u16() {
                429 => "ApplicationThrottled",
                401 => "InvalidAuthenticationToken",
                403 => "ErrorAccessDenied",
                410 => "SyncStateNotFound",
                503 => "ServiceNotAvailable",
                504 => "GatewayTimeout",
                400 => "ErrorInvalidParameter",
                _ => "InternalServerError",
            };
            let mut response =
                graph_error(status, code, "Injected fault from the deltacal emulator.");
            if let Some(secs) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*secs));
            }
            return response;
        }
        Some(Fault::Drop) => {
            let stream = futures_util::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::other(
                    "connection dropped by fault injection",
                ))
            });
            return (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                Body::from_stream(stream),
            )
                .into_response();
        }
        Some(Fault::Malformed) => {
            return (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                "<html><body>Bad gateway</body></html>{\"value\": [",
            )
                .into_response();
        }
        Some(Fault::Slow { delay_ms }) => {
            tokio::time::sleep(Duration::from_millis(*delay_ms)).await
        }
        _ => {}
    }
    let (page_size, zone, label) = preferences(&headers);
    let page = {
        let mut state = lock(&sim);
        serve_page(
            &mut state,
            &calendar,
            &path,
            &q,
            page_size,
            (zone, &label),
            &origin(&headers),
            fault.as_ref(),
        )
    };
    let mut response = match page {
        Ok(body) if fault == Some(Fault::Truncate) => {
            let cut = body.len() / 2;
            let mut bytes = body.into_bytes();
            bytes.truncate(cut);
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                bytes,
            )
                .into_response()
        }
        Ok(body) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "application/json; odata.metadata=minimal",
            )],
            body,
        )
            .into_response(),
        Err(response) => return response,
    };
    if let Some(n) = page_size {
        let applied = format!(
            "odata.maxpagesize={}, odata.track-changes",
            n.clamp(1, MAX_PAGE)
        );
        if let Ok(v) = HeaderValue::from_str(&applied) {
            response.headers_mut().insert("preference-applied", v);
        }
    }
    response
}

const DEFAULT_PAGE: usize = 10;
const MAX_PAGE: usize = 1000;

fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| crate::model::parse_wall_time(text).map(|t| t.and_utc()))
}

/// One page of a delta round, as JSON text; an error is the response to send instead.
#[allow(clippy::too_many_arguments, clippy::result_large_err)]
fn serve_page(
    state: &mut SimState,
    calendar: &str,
    path: &str,
    q: &HashMap<String, String>,
    page_size: Option<usize>,
    (zone, label): (Tz, &str),
    origin: &str,
    fault: Option<&Fault>,
) -> Result<String, Response> {
    let q: HashMap<String, &str> = q
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str()))
        .collect();
    if state.mailbox.calendar(calendar).is_err() {
        return Err(graph_error(
            StatusCode::NOT_FOUND,
            "ErrorItemNotFound",
            "The specified object was not found in the store.",
        ));
    }
    let gone = |generation: u64| {
        graph_error(
            StatusCode::GONE,
            "SyncStateNotFound",
            &format!("The sync state generation is not found; generation={generation};"),
        )
    };
    let token_of = |name: &str| {
        q.get(name)
            .or_else(|| q.get(name.trim_start_matches('$')))
            .copied()
    };
    let (window, items, pos, full, seq) = if let Some(t) =
        token_of("$skiptoken").or(token_of("$deltatoken"))
    {
        let token = match state.tokens.get(t) {
            Ok(token) => token,
            Err(TokenError::Malformed) => {
                return Err(graph_error(
                    StatusCode::BAD_REQUEST,
                    "ErrorInvalidParameter",
                    "The state token is malformed.",
                ));
            }
            Err(TokenError::Gone) => return Err(gone(state.tokens.generation())),
        };
        if token.calendar != calendar {
            return Err(graph_error(
                StatusCode::BAD_REQUEST,
                "ErrorInvalidParameter",
                "The state token belongs to another calendar view.",
            ));
        }
        match token.kind {
            TokenKind::Skip { items, pos, full } => (token.window, items, pos, full, token.seq),
            TokenKind::Delta => {
                let items = state
                    .mailbox
                    .changes_since(calendar, &token.window, token.seq)
                    .expect("calendar exists");
                (token.window, Arc::new(items), 0, false, state.mailbox.seq())
            }
        }
    } else {
        let (Some(start), Some(end)) = (q.get("startdatetime"), q.get("enddatetime")) else {
            return Err(graph_error(
                StatusCode::BAD_REQUEST,
                "ErrorInvalidParameter",
                "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.",
            ));
        };
        let (Some(start), Some(end)) = (parse_instant(start), parse_instant(end)) else {
            return Err(graph_error(
                StatusCode::BAD_REQUEST,
                "ErrorInvalidParameter",
                "StartDateTime or EndDateTime is not a valid date and time.",
            ));
        };
        if end <= start {
            return Err(graph_error(
                StatusCode::BAD_REQUEST,
                "ErrorInvalidParameter",
                "EndDateTime must be after StartDateTime.",
            ));
        }
        let window = Window { start, end };
        let items: Vec<DeltaItem> = state
            .mailbox
            .in_window(calendar, &window)
            .expect("calendar exists")
            .into_iter()
            .map(|e| DeltaItem::Upsert(e.id.clone()))
            .collect();
        (window, Arc::new(items), 0, true, state.mailbox.seq())
    };
    let size = page_size.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let end = if fault == Some(&Fault::Empty) {
        pos
    } else {
        (pos + size).min(items.len())
    };
    let mut body = String::with_capacity(256 + (end - pos) * 1600);
    body.push_str(&format!(
        r#"{{"@odata.context":"{origin}/v1.0/$metadata#Collection(event)","value":["#
    ));
    let mut first = true;
    for item in &items[pos..end] {
        let text: Option<Arc<str>> = match item {
            DeltaItem::Upsert(id) => match state.mailbox.render(calendar, id, &window, zone, label)
            {
                Some(text) => Some(text),
                // Gone since the round's list was made: a full round skips it (the sweep
                // handles it), an incremental one reports it removed.
                None if full => None,
                None => Some(removed(id).into()),
            },
            DeltaItem::Removed(id) => Some(removed(id).into()),
        };
        if let Some(text) = text {
            if !first {
                body.push(',');
            }
            first = false;
            body.push_str(&text);
        }
    }
    body.push_str("],");
    let (key, param, token) = if end < items.len() || fault == Some(&Fault::Empty) {
        let kind = TokenKind::Skip {
            items: items.clone(),
            pos: end,
            full,
        };
        (
            "@odata.nextLink",
            "$skiptoken",
            state.tokens.issue(calendar, window, kind, seq),
        )
    } else {
        (
            "@odata.deltaLink",
            "$deltatoken",
            state.tokens.issue(calendar, window, TokenKind::Delta, seq),
        )
    };
    let link_origin = match fault {
        Some(Fault::ForeignLink { origin }) => origin.as_str(),
        _ => origin,
    };
    body.push_str(&format!(
        r#""{key}":"{link_origin}/v1.0{path}?{param}={token}"}}"#
    ));
    Ok(body)
}

fn removed(id: &str) -> String {
    json!({"@odata.type": "#microsoft.graph.event", "id": id, "@removed": {"reason": "deleted"}})
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// Control

#[derive(Deserialize)]
struct UserCode {
    user_code: String,
}

fn control_error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, Json(json!({"error": message.to_string()}))).into_response()
}

async fn approve(State(sim): State<Shared>, Form(f): Form<UserCode>) -> Response {
    match lock(&sim).identity.decide(&f.user_code, true) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => control_error(StatusCode::NOT_FOUND, e),
    }
}

async fn decline(State(sim): State<Shared>, Form(f): Form<UserCode>) -> Response {
    match lock(&sim).identity.decide(&f.user_code, false) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => control_error(StatusCode::NOT_FOUND, e),
    }
}

async fn device_polls(State(sim): State<Shared>, Query(f): Query<UserCode>) -> Response {
    match lock(&sim).identity.polls(&f.user_code) {
        Some(polls) => Json(json!({"polls": polls})).into_response(),
        None => control_error(
            StatusCode::NOT_FOUND,
            format!("no device code with user code {}", f.user_code),
        ),
    }
}

#[derive(Deserialize)]
struct CalendarQuery {
    calendar: Option<String>,
}

fn mailbox_error(e: mailbox::MailboxError) -> Response {
    let status = match e {
        mailbox::MailboxError::BadEvent(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::NOT_FOUND,
    };
    control_error(status, e)
}

async fn create_event(
    State(sim): State<Shared>,
    Query(q): Query<CalendarQuery>,
    Json(event): Json<Value>,
) -> Response {
    let calendar = q.calendar.unwrap_or_else(|| DEFAULT_CALENDAR.into());
    match lock(&sim).mailbox.create(&calendar, event) {
        Ok(v) => (StatusCode::CREATED, Json(v)).into_response(),
        Err(e) => mailbox_error(e),
    }
}

async fn update_event(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    Json(patch): Json<Value>,
) -> Response {
    match lock(&sim).mailbox.update(&id, patch) {
        Ok(v) => Json(v).into_response(),
        Err(e) => mailbox_error(e),
    }
}

async fn delete_event(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    match lock(&sim).mailbox.delete(&id) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => mailbox_error(e),
    }
}

#[derive(Deserialize)]
struct ChurnQuery {
    count: Option<usize>,
    seed: Option<u64>,
}

async fn churn(State(sim): State<Shared>, Query(q): Query<ChurnQuery>) -> Response {
    let mut state = lock(&sim);
    let anchor = state.anchor;
    let seed = q.seed.unwrap_or_else(rand::random);
    let applied = generate::churn(&mut state.mailbox, q.count.unwrap_or(10), seed, anchor);
    Json(json!({"applied": applied})).into_response()
}

async fn expire_sync_state(State(sim): State<Shared>) -> Response {
    lock(&sim).tokens.expire_all();
    StatusCode::NO_CONTENT.into_response()
}

async fn revoke_access_tokens(State(sim): State<Shared>) -> Response {
    lock(&sim).identity.revoke_access_tokens();
    StatusCode::NO_CONTENT.into_response()
}

async fn add_fault(State(sim): State<Shared>, Json(request): Json<FaultRequest>) -> Response {
    match request.into_fault() {
        Ok((fault, count, skip)) => {
            lock(&sim).faults.push(fault, count, skip);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => control_error(StatusCode::BAD_REQUEST, e),
    }
}

async fn clear_faults(State(sim): State<Shared>) -> Response {
    lock(&sim).faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /sim/settings`: identity knobs (an extension of the control API for tests).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    access_token_ttl_secs: Option<u64>,
    interval_secs: Option<u64>,
    device_code_ttl_secs: Option<u64>,
    auto_approve: Option<bool>,
    slow_down_next: Option<u32>,
}

async fn settings(State(sim): State<Shared>, Json(s): Json<Settings>) -> Response {
    let mut state = lock(&sim);
    let id = &mut state.identity;
    if let Some(v) = s.access_token_ttl_secs {
        id.settings.access_token_ttl_secs = v;
    }
    if let Some(v) = s.interval_secs {
        id.settings.interval_secs = v;
    }
    if let Some(v) = s.device_code_ttl_secs {
        id.settings.device_code_ttl_secs = v;
    }
    if let Some(v) = s.auto_approve {
        id.settings.auto_approve = v;
    }
    if let Some(v) = s.slow_down_next {
        id.forced_slow_downs = v;
    }
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct TruthQuery {
    calendar: Option<String>,
    start: String,
    end: String,
}

async fn truth(State(sim): State<Shared>, Query(q): Query<TruthQuery>) -> Response {
    let (Some(start), Some(end)) = (parse_instant(&q.start), parse_instant(&q.end)) else {
        return control_error(
            StatusCode::BAD_REQUEST,
            "start and end must be RFC 3339 times",
        );
    };
    let calendar = q.calendar.unwrap_or_else(|| DEFAULT_CALENDAR.into());
    let state = lock(&sim);
    match state.mailbox.in_window(&calendar, &Window { start, end }) {
        Ok(events) => {
            let body = format!(
                "[{}]",
                events
                    .iter()
                    .map(|e| &*e.rendered)
                    .collect::<Vec<_>>()
                    .join(",")
            );
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response()
        }
        Err(e) => mailbox_error(e),
    }
}
