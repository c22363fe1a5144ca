//! The control API: what a test or the demo uses to play the user (approve a code) and the
//! server side (create, change and delete events, expire state, inject faults). No auth.

use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::mailbox::{self, DEFAULT_CALENDAR};
use super::time::{Window, query_instant};
use super::{Shared, generate, lock};

pub fn routes() -> Router<Shared> {
    Router::new()
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
        .route("/sim/stats", get(stats))
        .route("/sim/requests", get(requests).delete(forget_requests))
        .route("/sim/share", post(share))
}

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
    /// Another user's address or a group's id (extension): their mailbox, not the user's.
    mailbox: Option<String>,
}

/// The mailbox a control request names: the signed-in user's, another user's by address, or
/// a group's by id.
#[allow(clippy::result_large_err)]
fn mailbox_named<'s>(
    state: &'s mut super::SimState,
    name: Option<&str>,
) -> Result<&'s mut mailbox::Mailbox, Response> {
    let Some(name) = name else {
        return Ok(&mut state.mailbox);
    };
    let who = if state.people.groups.contains_key(name) {
        super::people::Who::Group(name.to_owned())
    } else {
        super::people::who_of_user(name)
    };
    match who {
        super::people::Who::Me => Ok(&mut state.mailbox),
        who => state
            .people
            .mailbox_mut(&who)
            .ok_or_else(|| control_error(StatusCode::NOT_FOUND, format!("no mailbox {name}"))),
    }
}

/// `POST /sim/share`: `{"owner": ADDRESS, "calendar": ID_OR_DEFAULT, "with": ADDRESS,
/// "role": "read"|"write"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Share {
    owner: String,
    #[serde(default = "default_calendar")]
    calendar: String,
    with: String,
    #[serde(default = "read_role")]
    role: String,
}

fn default_calendar() -> String {
    DEFAULT_CALENDAR.into()
}

fn read_role() -> String {
    "read".into()
}

async fn share(State(sim): State<Shared>, Json(s): Json<Share>) -> Response {
    let role = match s.role.as_str() {
        "read" => super::people::Role::Read,
        "write" => super::people::Role::Write,
        other => {
            return control_error(
                StatusCode::BAD_REQUEST,
                format!("role `{other}` is not read or write"),
            );
        }
    };
    match lock(&sim)
        .people
        .share(&s.owner, &s.calendar, &s.with, role)
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => control_error(StatusCode::NOT_FOUND, e),
    }
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
    let mut state = lock(&sim);
    let mailbox = match mailbox_named(&mut state, q.mailbox.as_deref()) {
        Ok(mailbox) => mailbox,
        Err(response) => return response,
    };
    match mailbox.create(&calendar, event) {
        Ok(v) => (StatusCode::CREATED, Json(v)).into_response(),
        Err(e) => mailbox_error(e),
    }
}

async fn update_event(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<CalendarQuery>,
    Json(patch): Json<Value>,
) -> Response {
    let mut state = lock(&sim);
    let mailbox = match mailbox_named(&mut state, q.mailbox.as_deref()) {
        Ok(mailbox) => mailbox,
        Err(response) => return response,
    };
    match mailbox.update(&id, patch) {
        Ok(v) => Json(v).into_response(),
        Err(e) => mailbox_error(e),
    }
}

async fn delete_event(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<CalendarQuery>,
) -> Response {
    let mut state = lock(&sim);
    let mailbox = match mailbox_named(&mut state, q.mailbox.as_deref()) {
        Ok(mailbox) => mailbox,
        Err(response) => return response,
    };
    match mailbox.delete(&id) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => mailbox_error(e),
    }
}

#[derive(Deserialize)]
struct ChurnQuery {
    count: Option<usize>,
    seed: Option<u64>,
    /// Aim every change at recurring series (extension).
    series: Option<bool>,
    /// Aim every change at this calendar (its id; extension).
    calendar: Option<String>,
    /// Another user's or a group's mailbox (extension).
    mailbox: Option<String>,
}

/// The most changes one churn request makes (each is quick; a billion would hold the lock).
const MAX_CHURN: usize = 10_000;

async fn churn(State(sim): State<Shared>, Query(q): Query<ChurnQuery>) -> Response {
    let count = q.count.unwrap_or(10);
    if count > MAX_CHURN {
        return control_error(
            StatusCode::BAD_REQUEST,
            format!("count {count}: at most {MAX_CHURN} changes a request"),
        );
    }
    let mut state = lock(&sim);
    let anchor = state.anchor;
    let seed = q.seed.unwrap_or_else(rand::random);
    let series_only = q.series.unwrap_or(false);
    let mailbox = match mailbox_named(&mut state, q.mailbox.as_deref()) {
        Ok(mailbox) => mailbox,
        Err(response) => return response,
    };
    if let Some(cal) = &q.calendar
        && mailbox.calendar(cal).is_err()
    {
        return control_error(StatusCode::NOT_FOUND, format!("no calendar {cal:?}"));
    }
    let applied = generate::churn(
        mailbox,
        count,
        seed,
        anchor,
        series_only,
        q.calendar.as_deref(),
    );
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

async fn add_fault(
    State(sim): State<Shared>,
    Json(request): Json<super::faults::FaultRequest>,
) -> Response {
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
    /// `realistic` or `documented`.
    mode: Option<String>,
    strict_rotation: Option<bool>,
    /// Added to every Graph request, in ms.
    latency_ms: Option<u64>,
    rotation_grace_secs: Option<u64>,
    block_device_flow: Option<bool>,
}

async fn settings(State(sim): State<Shared>, Json(s): Json<Settings>) -> Response {
    let day = 86_400;
    for (name, value, max) in [
        ("access_token_ttl_secs", s.access_token_ttl_secs, day),
        ("interval_secs", s.interval_secs, 3600),
        ("device_code_ttl_secs", s.device_code_ttl_secs, day),
        ("slow_down_next", s.slow_down_next.map(u64::from), 1000),
        ("rotation_grace_secs", s.rotation_grace_secs, day),
        ("latency_ms", s.latency_ms, super::MAX_LATENCY_MS),
    ] {
        if value.is_some_and(|v| v > max) {
            return control_error(StatusCode::BAD_REQUEST, format!("{name}: at most {max}"));
        }
    }
    let mut state = lock(&sim);
    if let Some(ms) = s.latency_ms {
        state.latency = std::time::Duration::from_millis(ms);
    }
    match s.mode.as_deref() {
        None => {}
        Some("realistic") => state.mode = super::Mode::Realistic,
        Some("documented") => state.mode = super::Mode::Documented,
        Some(other) => {
            return control_error(
                StatusCode::BAD_REQUEST,
                format!("mode `{other}` is not realistic or documented"),
            );
        }
    }
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
    if let Some(v) = s.strict_rotation {
        id.settings.strict_rotation = v;
    }
    if let Some(v) = s.rotation_grace_secs {
        id.settings.rotation_grace_secs = v;
    }
    if let Some(v) = s.block_device_flow {
        id.settings.block_device_flow = v;
    }
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct TruthQuery {
    calendar: Option<String>,
    mailbox: Option<String>,
    start: String,
    end: String,
}

async fn truth(State(sim): State<Shared>, Query(q): Query<TruthQuery>) -> Response {
    let (Some(start), Some(end)) = (query_instant(&q.start), query_instant(&q.end)) else {
        return control_error(
            StatusCode::BAD_REQUEST,
            "start and end must be RFC 3339 times",
        );
    };
    let calendar = q.calendar.unwrap_or_else(|| DEFAULT_CALENDAR.into());
    let mut state = lock(&sim);
    let mailbox = match mailbox_named(&mut state, q.mailbox.as_deref()) {
        Ok(mailbox) => mailbox,
        Err(response) => return response,
    };
    match mailbox.calendar_view(&calendar, &Window { start, end }) {
        Ok(events) => {
            let body = format!(
                "[{}]",
                events
                    .iter()
                    .map(|e| e.rendered.get())
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

/// `GET /sim/stats`: how many Graph requests the emulator has served, and how many delta
/// rounds began while another round of the same view was under way.
async fn stats(State(sim): State<Shared>) -> Response {
    let state = lock(&sim);
    Json(json!({
        "graph_requests": state.graph_requests,
        "max_in_flight": state.max_in_flight,
        "concurrency_refused": state.concurrency_refused,
        "overlapping_rounds": state.rounds.overlapping,
    }))
    .into_response()
}

/// `GET /sim/requests`: the Graph requests served, oldest first: method, path, a write's JSON
/// body and its `If-Match`.
async fn requests(State(sim): State<Shared>) -> Response {
    Json(serde_json::json!({"requests": lock(&sim).requests})).into_response()
}

/// `DELETE /sim/requests`: forgets them.
async fn forget_requests(State(sim): State<Shared>) -> Response {
    lock(&sim).requests.clear();
    StatusCode::NO_CONTENT.into_response()
}
