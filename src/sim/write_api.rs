//! Graph's write routes, answered as the real service answers them (graph-delta.md section 8):
//! create (`POST /me/events`, `/me/calendars/{cal}/events`) with `transactionId` dedupe, update
//! (`PATCH`) with `If-Match`, delete, the three answers to an invitation and the organizer's
//! cancel, each with the errors Exchange gives; writes need `Calendars.ReadWrite`. A write is a
//! change in the mailbox like any other, so the next delta round brings it back. The write
//! faults of `POST /sim/faults` (a lost answer, a 503 after the change was made, a 412 with no
//! cause) act here.

// A route's early answer is a Response in an Err, as axum's handlers return them; boxing them
// would buy nothing in an emulator.
#![allow(clippy::result_large_err)]

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use super::faults::Fault;
use super::graph_api::graph_error;
use super::mailbox::{DEFAULT_CALENDAR, Echo, MailboxError, Mode};
use super::{Shared, SimState, lock, time};

/// The routes that change the calendar.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/v1.0/me/events", post(create_default))
        .route("/v1.0/me/calendars/{cal}/events", post(create_in))
        .route(
            "/v1.0/me/events/{id}",
            axum::routing::patch(update).delete(delete),
        )
        .route("/v1.0/me/events/{id}/accept", post(accept))
        .route("/v1.0/me/events/{id}/tentativelyAccept", post(tentative))
        .route("/v1.0/me/events/{id}/decline", post(decline))
        .route("/v1.0/me/events/{id}/cancel", post(cancel))
}

/// A write inside a JSON batch (`POST /$batch`): answered as the same request alone would be,
/// with the batch's authorization and the item's own headers (If-Match). None when the item
/// is not one of the write routes.
pub async fn batched(
    sim: &Shared,
    method: &str,
    segments: &[String],
    headers: HeaderMap,
    body: Bytes,
) -> Option<Response> {
    let state = || State(sim.clone());
    let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
    let id = |s: &str| Path(s.to_owned());
    Some(match (method, seg.as_slice()) {
        ("POST", ["me", "events"]) => create_default(state(), headers, body).await,
        ("POST", ["me", "calendars", cal, "events"]) => {
            create_in(state(), id(cal), headers, body).await
        }
        ("PATCH", ["me", "events", e]) => update(state(), id(e), headers, body).await,
        ("DELETE", ["me", "events", e]) => delete(state(), id(e), headers).await,
        ("POST", ["me", "events", e, "accept"]) => accept(state(), id(e), headers, body).await,
        ("POST", ["me", "events", e, "tentativelyAccept"]) => {
            tentative(state(), id(e), headers, body).await
        }
        ("POST", ["me", "events", e, "decline"]) => decline(state(), id(e), headers, body).await,
        ("POST", ["me", "events", e, "cancel"]) => cancel(state(), id(e), headers, body).await,
        _ => return None,
    })
}

/// The most Graph requests `GET /sim/requests` keeps.
const REQUESTS_KEPT: usize = 10_000;

/// Records a Graph request for `GET /sim/requests`: its method, path, JSON body (writes) and
/// `If-Match`.
pub fn log_request(
    state: &mut SimState,
    method: &str,
    path: &str,
    body: Value,
    if_match: Option<&str>,
) {
    if state.requests.len() >= REQUESTS_KEPT {
        state.requests.remove(0);
    }
    state.requests.push(json!({
        "method": method, "path": path, "body": body, "if_match": if_match,
    }));
}

/// The checks every write with a JSON body starts with: the body as an object, then
/// [`begin`]. The request is logged either way.
fn begin_with_body(
    state: &mut SimState,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    body: &Bytes,
) -> Result<(Value, Option<Fault>), Response> {
    let value = match object(body) {
        Ok(value) => value,
        Err(answer) => {
            log_request(state, method, path, Value::Null, if_match(headers));
            return Err(answer);
        }
    };
    let fault = begin(state, headers, method, path, &value)?;
    Ok((value, fault))
}

/// Who may write, and what fault the write meets: the checks every write starts with (a
/// fault that strikes before the write is made is the answer). The request is logged either
/// way.
fn begin(
    state: &mut SimState,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    body: &Value,
) -> Result<Option<Fault>, Response> {
    log_request(state, method, path, body.clone(), if_match(headers));
    let token = super::graph_api::bearer(headers).unwrap_or_default();
    if !state.identity.access_ok(token) {
        return Err(graph_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Access token is empty or invalid.",
        ));
    }
    if !state.identity.write_ok(token) {
        return Err(graph_error(
            StatusCode::FORBIDDEN,
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again.",
        ));
    }
    let fault = state.faults.take_next();
    match fault_before(&fault) {
        Some(answer) => Err(answer),
        None => Ok(fault),
    }
}

fn if_match(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::IF_MATCH).and_then(|h| h.to_str().ok())
}

/// The answer a fault gives before the write is made, if it gives one there.
fn fault_before(fault: &Option<Fault>) -> Option<Response> {
    match fault {
        Some(Fault::Status {
            status: 412,
            after_apply: false,
            ..
        }) => Some(conflict()),
        Some(Fault::Status {
            status,
            code,
            after_apply: false,
            ..
        }) => Some(status_error(*status, code.as_deref())),
        _ => None,
    }
}

/// The answer in place of `done` when the fault strikes after the write was made.
fn fault_after(fault: Option<Fault>, done: Response) -> Response {
    match fault {
        Some(Fault::Status {
            status,
            code,
            after_apply: true,
            ..
        }) => status_error(status, code.as_deref()),
        Some(Fault::LostResponse | Fault::Drop) => lost(),
        _ => done,
    }
}

fn status_error(status: u16, code: Option<&str>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let (code, message) = match (status.as_u16(), code) {
        (_, Some("ConcurrentItemSave")) => (
            "ConcurrentItemSave",
            "Conflicts occurred during saving data to store. Please try again later.",
        ),
        (_, Some(code)) => (code, "Injected fault from the deltacal emulator."),
        (429, None) => ("TooManyRequests", "Too many requests."),
        (503, None) => ("ServiceNotAvailable", "Service unavailable."),
        _ => (
            "InternalServerError",
            "Injected fault from the deltacal emulator.",
        ),
    };
    graph_error(status, code, message)
}

/// The answer cut off: headers, then the connection dropped before the body.
/// An answer whose connection drops before its body: the client never hears it.
pub fn lost_response() -> Response {
    lost()
}

fn lost() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other(
            "connection dropped by fault injection",
        ))
    });
    (
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(stream),
    )
        .into_response()
}

fn conflict() -> Response {
    graph_error(
        StatusCode::PRECONDITION_FAILED,
        "ErrorIrresolvableConflict",
        "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.",
    )
}

fn not_found() -> Response {
    graph_error(
        StatusCode::NOT_FOUND,
        "ErrorItemNotFound",
        "The specified object was not found in the store.",
    )
}

fn bad_request(code: &str, message: &str) -> Response {
    graph_error(StatusCode::BAD_REQUEST, code, message)
}

/// The body as a JSON object, or Graph's answer to one that is not.
fn object(body: &Bytes) -> Result<Value, Response> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(bad_request(
            "UnableToDeserializePostBody",
            "were unable to deserialize ",
        )),
    }
}

/// `start` and `end` name zones Graph knows: an IANA or a Windows name.
fn check_zones(event: &Value) -> Result<(), Response> {
    for key in ["start", "end"] {
        if let Some(zone) = event[key]["timeZone"].as_str()
            && time::zone(zone).is_none()
        {
            return Err(bad_request(
                "TimeZoneNotSupportedException",
                &format!(
                    "A valid TimeZone value must be specified. The following TimeZone value is not supported: '{zone}'."
                ),
            ));
        }
    }
    Ok(())
}

/// The event's current `@odata.etag` differs from the `If-Match` sent: someone changed it.
fn stale(state: &SimState, id: &str, headers: &HeaderMap) -> bool {
    let Some(sent) = if_match(headers) else {
        return false;
    };
    let current = state
        .mailbox
        .event(id)
        .and_then(|e| e.json()["@odata.etag"].as_str().map(str::to_owned));
    sent.trim() != "*" && current.as_deref() != Some(sent.trim())
}

/// Runs a write on the mailbox. In the realistic mode its echo in the delta comes as the real
/// service's may: late (every third write) or twice (every fourth).
fn echoed<T>(
    state: &mut SimState,
    calendar: Option<String>,
    write: impl FnOnce(&mut super::mailbox::Mailbox) -> T,
) -> T {
    let Some(calendar) = calendar else {
        return write(&mut state.mailbox);
    };
    let from = state.mailbox.log_len(&calendar);
    let result = write(&mut state.mailbox);
    if state.mode == Mode::Realistic {
        state.writes += 1;
        let echo = match state.writes {
            n if n % 3 == 0 => Echo::Late,
            n if n % 4 == 0 => Echo::Twice,
            _ => Echo::Prompt,
        };
        state.mailbox.echo(&calendar, from, echo);
    }
    result
}

/// An update of an event, echoed as [`echoed`] says.
fn update_echoed(state: &mut SimState, id: &str, patch: Value) -> Result<Value, MailboxError> {
    let calendar = state.mailbox.calendar_of(id).map(str::to_owned);
    echoed(state, calendar, |m| m.update(id, patch))
}

/// A delete of an event, echoed as [`echoed`] says.
fn delete_echoed(state: &mut SimState, id: &str) -> Result<(), MailboxError> {
    let calendar = state.mailbox.calendar_of(id).map(str::to_owned);
    echoed(state, calendar, |m| m.delete(id))
}

fn created(event: Value) -> Response {
    (StatusCode::CREATED, axum::Json(event)).into_response()
}

fn mailbox_error(e: MailboxError) -> Response {
    match e {
        MailboxError::NoEvent(_) => not_found(),
        MailboxError::NoCalendar(_) => graph_error(
            StatusCode::NOT_FOUND,
            "ErrorItemNotFound",
            "The specified object was not found in the store.",
        ),
        MailboxError::BadEvent(why) => bad_request("ErrorInvalidRequest", &why),
    }
}

async fn create_default(State(sim): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    create(
        sim,
        DEFAULT_CALENDAR.to_owned(),
        "/v1.0/me/events".into(),
        headers,
        body,
    )
}

async fn create_in(
    State(sim): State<Shared>,
    Path(cal): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/v1.0/me/calendars/{cal}/events");
    create(sim, cal, path, headers, body)
}

/// `POST …/events`: 201 with the whole event. The same `transactionId` with the same body
/// answers with the event made the first time; with another body, 400
/// `ErrorDuplicateTransactionId`.
fn create(
    sim: Shared,
    calendar: String,
    path: String,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = lock(&sim);
    let (event, fault) = match begin_with_body(&mut state, &headers, "POST", &path, &body) {
        Ok(begun) => begun,
        Err(answer) => return answer,
    };
    if let Err(answer) = check_zones(&event) {
        return answer;
    }
    let calendar = match state.mailbox.calendar(&calendar) {
        Ok(c) => c.id.clone(),
        Err(e) => return mailbox_error(e),
    };
    let transaction = event["transactionId"].as_str().map(str::to_owned);
    if let Some(tid) = &transaction
        && let Some((first_body, id)) = state.transactions.get(tid).cloned()
    {
        if first_body != event {
            return bad_request(
                "ErrorDuplicateTransactionId",
                "Your request can't be completed. The transactionId has already been used to create a different event.",
            );
        }
        let made = state
            .mailbox
            .event(&id)
            .map(|e| e.json())
            .unwrap_or_else(|| json!({"id": id, "transactionId": tid}));
        return fault_after(fault, created(made));
    }
    let mut new = event.clone();
    if new["isOnlineMeeting"] == json!(true) {
        let teams = state
            .mailbox
            .calendar(&calendar)
            .is_ok_and(|c| c.allows_teams);
        if teams {
            let n: u64 = rand::random();
            new["onlineMeetingProvider"] = json!("teamsForBusiness");
            new["onlineMeeting"] = json!({"joinUrl": format!(
                "https://teams.microsoft.com/l/meetup-join/19%3ameeting_sim{n:016x}%40thread.v2/0"
            )});
        } else {
            // Dropped silently, as Graph does where the calendar allows no Teams meetings.
            new["isOnlineMeeting"] = json!(false);
            new["onlineMeetingProvider"] = json!("unknown");
            new["onlineMeeting"] = Value::Null;
        }
    }
    let made = if new["recurrence"].is_object() {
        match create_series(&mut state, &calendar, new) {
            Ok(made) => made,
            Err(answer) => return answer,
        }
    } else {
        match echoed(&mut state, Some(calendar.clone()), |m| {
            m.create(&calendar, new)
        }) {
            Ok(made) => made,
            Err(e) => return mailbox_error(e),
        }
    };
    if let (Some(tid), Some(id)) = (transaction, made["id"].as_str()) {
        state
            .transactions
            .insert(tid, (event.clone(), id.to_owned()));
    }
    fault_after(fault, created(made))
}

/// A posted event with a `recurrence`: the series' master (answered, as Graph answers it) and
/// its occurrences, expanded from the pattern in the start's zone.
fn create_series(state: &mut SimState, calendar: &str, master: Value) -> Result<Value, Response> {
    let bad = |why: String| bad_request("ErrorInvalidRequest", &why);
    let wall = |key: &str| {
        master[key]["dateTime"]
            .as_str()
            .and_then(time::wall_time)
            .ok_or_else(|| bad(format!("`{key}.dateTime` is missing or not a time")))
    };
    let (first, end) = (wall("start")?, wall("end")?);
    let starts = super::recurrence::expand(&master["recurrence"], first).map_err(bad)?;
    let length = end - first;
    let instance_of = |start: chrono::NaiveDateTime| {
        let mut instance = master.clone();
        if let Value::Object(map) = &mut instance {
            map.remove("recurrence");
            map.remove("transactionId");
        }
        let at = |t: chrono::NaiveDateTime, key: &str| {
            json!({"dateTime": t.format("%Y-%m-%dT%H:%M:%S.0000000").to_string(),
                "timeZone": master[key]["timeZone"].clone()})
        };
        instance["start"] = at(start, "start");
        instance["end"] = at(start + length, "end");
        instance
    };
    let instances = starts.into_iter().map(instance_of).collect();
    let id = echoed(state, Some(calendar.to_owned()), |m| {
        m.create_series(calendar, master, instances)
    })
    .map_err(mailbox_error)?;
    Ok(state
        .mailbox
        .event(&id)
        .map(|e| e.json())
        .unwrap_or_else(|| json!({"id": id})))
}

/// `PATCH /me/events/{id}`: 200 with the whole event; the fields sent replace the event's. A
/// stale `If-Match`: 412 `ErrorIrresolvableConflict`, nothing changed.
async fn update(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/v1.0/me/events/{id}");
    let mut state = lock(&sim);
    let (patch, fault) = match begin_with_body(&mut state, &headers, "PATCH", &path, &body) {
        Ok(begun) => begun,
        Err(answer) => return answer,
    };
    if state.mailbox.event(&id).is_none() {
        return not_found();
    }
    if stale(&state, &id, &headers) {
        return conflict();
    }
    if let Err(answer) = check_zones(&patch) {
        return answer;
    }
    match update_echoed(&mut state, &id, patch) {
        Ok(event) => fault_after(fault, (StatusCode::OK, axum::Json(event)).into_response()),
        Err(e) => mailbox_error(e),
    }
}

/// `DELETE /me/events/{id}`: 204, then 404 for the same id.
async fn delete(State(sim): State<Shared>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("/v1.0/me/events/{id}");
    let mut state = lock(&sim);
    let fault = match begin(&mut state, &headers, "DELETE", &path, &Value::Null) {
        Ok(fault) => fault,
        Err(answer) => return answer,
    };
    if state.mailbox.event(&id).is_none() {
        return not_found();
    }
    if stale(&state, &id, &headers) {
        return conflict();
    }
    match delete_echoed(&mut state, &id) {
        Ok(()) => fault_after(fault, StatusCode::NO_CONTENT.into_response()),
        Err(e) => mailbox_error(e),
    }
}

/// An answer to an invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Accept,
    Tentative,
    Decline,
}

impl Answer {
    fn path(self) -> &'static str {
        match self {
            Answer::Accept => "accept",
            Answer::Tentative => "tentativelyAccept",
            Answer::Decline => "decline",
        }
    }

    fn response(self) -> &'static str {
        match self {
            Answer::Accept => "accepted",
            Answer::Tentative => "tentativelyAccepted",
            Answer::Decline => "declined",
        }
    }
}

async fn accept(sim: State<Shared>, id: Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    answer(sim, id, headers, body, Answer::Accept)
}

async fn tentative(
    sim: State<Shared>,
    id: Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(sim, id, headers, body, Answer::Tentative)
}

async fn decline(
    sim: State<Shared>,
    id: Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(sim, id, headers, body, Answer::Decline)
}

/// `POST /me/events/{id}/accept` (`tentativelyAccept`, `decline`): 202, empty; the event's
/// `responseStatus` (and the user's own attendee line) changes, and with it its `changeKey`.
/// On a series master, every instance answers with it.
fn answer(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
    answer: Answer,
) -> Response {
    let path = format!("/v1.0/me/events/{id}/{}", answer.path());
    let mut state = lock(&sim);
    let (request, fault) = match begin_with_body(&mut state, &headers, "POST", &path, &body) {
        Ok(begun) => begun,
        Err(answer) => return answer,
    };
    let Some(event) = state.mailbox.event(&id).map(|e| e.json()) else {
        return not_found();
    };
    let send = request["sendResponse"].as_bool().unwrap_or(true);
    if answer == Answer::Accept && request.get("proposedNewTime").is_some() {
        return bad_request(
            "RequestBodyRead",
            "The property 'proposedNewTime' does not exist on type 'microsoft.graph.accept'. Make sure to only use property names that are defined by the type.",
        );
    }
    if !send && request.get("comment").is_some_and(|c| !c.is_null()) {
        return bad_request(
            "ErrorInvalidParameter",
            "'SendResponse' must be true when 'Comment' is not null",
        );
    }
    if !send && request.get("proposedNewTime").is_some_and(|c| !c.is_null()) {
        return bad_request(
            "ErrorInvalidParameter",
            "'SendResponse' must be true when 'ProposedNewTime' is not null",
        );
    }
    if event["isOrganizer"] == json!(true) {
        return bad_request(
            "ErrorInvalidRequest",
            "Your request can't be completed. You can't respond to this meeting because you're the meeting organizer.",
        );
    }
    if stale(&state, &id, &headers) {
        return conflict();
    }
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let status = json!({"response": answer.response(), "time": now});
    let mut patch = json!({"responseStatus": status});
    // The user's own line among the attendees says the same.
    if let Some(attendees) = event["attendees"].as_array() {
        let mine = |a: &Value| {
            a["emailAddress"]["address"]
                .as_str()
                .is_some_and(|m| m.eq_ignore_ascii_case(super::identity::USER_MAIL))
        };
        let updated: Vec<Value> = attendees
            .iter()
            .map(|a| {
                let mut a = a.clone();
                if mine(&a) {
                    a["status"] = status.clone();
                }
                a
            })
            .collect();
        patch["attendees"] = json!(updated);
    }
    match update_echoed(&mut state, &id, patch) {
        Ok(_) => fault_after(fault, StatusCode::ACCEPTED.into_response()),
        Err(e) => mailbox_error(e),
    }
}

/// `POST /me/events/{id}/cancel`: the organizer's cancellation, with its message: 202, and the
/// event goes. Anyone else: 400.
async fn cancel(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/v1.0/me/events/{id}/cancel");
    let mut state = lock(&sim);
    let (_, fault) = match begin_with_body(&mut state, &headers, "POST", &path, &body) {
        Ok(begun) => begun,
        Err(answer) => return answer,
    };
    let Some(event) = state.mailbox.event(&id).map(|e| e.json()) else {
        return not_found();
    };
    if event["isOrganizer"] != json!(true) {
        return bad_request(
            "ErrorInvalidRequest",
            "Your request can't be completed. You need to be an organizer to cancel a meeting.",
        );
    }
    if stale(&state, &id, &headers) {
        return conflict();
    }
    match delete_echoed(&mut state, &id) {
        Ok(()) => fault_after(fault, StatusCode::ACCEPTED.into_response()),
        Err(e) => mailbox_error(e),
    }
}
