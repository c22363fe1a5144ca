//! Graph's routes: `/me`, `/me/calendars`, and calendarView delta with its state-token links,
//! faults injected per request.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::faults::Fault;
use super::mailbox::Mailbox;
use super::mailbox::{DEFAULT_CALENDAR, DeltaItem, Mode};
use super::people::{self, Who};
use super::time::{self, Window};
use super::tokens::TokenTable;
use super::tokens::{TokenError, TokenKind};
use super::{Shared, SimState, lock, origin};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/v1.0/me", get(me))
        .route("/v1.0/me/calendars", get(calendars))
        .route("/v1.0/me/calendar", get(default_calendar))
        .route("/v1.0/$batch", axum::routing::post(batch))
        .route(
            "/v1.0/me/calendar/getSchedule",
            axum::routing::post(super::schedule::get_schedule),
        )
        .route("/v1.0/me/calendarView/delta", get(delta_default))
        .route(
            "/v1.0/me/calendars/{id}/calendarView/delta",
            get(delta_calendar),
        )
        .route("/v1.0/me/events/{id}", get(event))
        .route("/v1.0/me/calendars/{cal}/events/{id}", get(calendar_event))
        .route("/v1.0/me/events/{id}/instances", get(instances))
        .route(
            "/v1.0/me/calendars/{cal}/events/{id}/instances",
            get(calendar_instances),
        )
}

/// Pages hold this many items unless the client prefers another size.
const DEFAULT_PAGE: usize = 10;
/// The largest page size honoured.
const MAX_PAGE: usize = 1000;

/// Graph's error body.
pub fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"error": {"code": code, "message": message, "innerError": {
        "date": Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
        "request-id": format!("{:08x}-sim", rand::random::<u32>()),
        "client-request-id": format!("{:08x}-sim", rand::random::<u32>()),
    }}});
    (status, Json(body)).into_response()
}

/// A Graph path in another of the forms clients send (`calendarview` in any case, `delta()`,
/// `/me/calendar/…` for the default calendar), or of another mailbox: `/users/{address}/…`
/// (the signed-in user's own address is `/me`), `/groups/{id}/…`.
#[derive(Debug, PartialEq, Eq)]
enum AltRoute {
    /// A calendar's delta (None: the default calendar).
    Delta(Option<String>),
    /// A calendar's plain calendarView listing.
    Listing(Option<String>),
    /// The mailbox's calendars.
    Calendars,
    /// One event, of a calendar or of any.
    Event(Option<String>, String),
    /// A series' instances.
    Instances(Option<String>, String),
}

fn alt_route(path: &str) -> Option<(Who, AltRoute)> {
    let rest = path.strip_prefix("/v1.0/")?;
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let is = |s: &str, name: &str| s.eq_ignore_ascii_case(name);
    let (who, rest) = match segments.as_slice() {
        [me, rest @ ..] if is(me, "me") => (Who::Me, rest),
        [users, who, rest @ ..] if is(users, "users") => {
            (people::who_of_user(&decode(who).to_ascii_lowercase()), rest)
        }
        [groups, id, rest @ ..] if is(groups, "groups") => (Who::Group(decode(id)), rest),
        _ => return None,
    };
    let delta = |s: &str| is(s, "delta") || is(s, "delta()");
    let view = |s: &str| is(s, "calendarview");
    let route = match rest {
        [v, d] if view(v) && delta(d) => AltRoute::Delta(None),
        [c, v, d] if is(c, "calendar") && view(v) && delta(d) => AltRoute::Delta(None),
        [cs, id, v, d] if is(cs, "calendars") && view(v) && delta(d) => {
            AltRoute::Delta(Some(decode(id)))
        }
        [v] if view(v) => AltRoute::Listing(None),
        [c, v] if is(c, "calendar") && view(v) => AltRoute::Listing(None),
        [cs, id, v] if is(cs, "calendars") && view(v) => AltRoute::Listing(Some(decode(id))),
        [cs] if is(cs, "calendars") => AltRoute::Calendars,
        [es, id] if is(es, "events") => AltRoute::Event(None, decode(id)),
        [cs, c, es, id] if is(cs, "calendars") && is(es, "events") => {
            AltRoute::Event(Some(decode(c)), decode(id))
        }
        [es, id, i] if is(es, "events") && is(i, "instances") => {
            AltRoute::Instances(None, decode(id))
        }
        [cs, c, es, id, i] if is(cs, "calendars") && is(es, "events") && is(i, "instances") => {
            AltRoute::Instances(Some(decode(c)), decode(id))
        }
        _ => return None,
    };
    Some((who, route))
}

/// Any path the emulator does not serve under its own name: the other forms of the read
/// routes and other people's mailboxes, else Graph's JSON error, as Graph words it for a path
/// under its version segment.
pub async fn unknown_path(
    State(sim): State<Shared>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some((who, route)) = alt_route(uri.path()) {
        let o = origin(&sim, &headers);
        return match route {
            AltRoute::Delta(calendar) => {
                let path = match &calendar {
                    None => format!("{}/calendarView/delta", who.prefix()),
                    Some(id) => format!(
                        "{}/calendars/{}/calendarView/delta",
                        who.prefix(),
                        urlencode(id)
                    ),
                };
                let calendar = calendar.unwrap_or_else(|| DEFAULT_CALENDAR.to_owned());
                let request = PageRequest::new(who, calendar, path, o, &headers, q);
                delta(sim, request, &headers).await
            }
            AltRoute::Listing(calendar) => listing(&sim, who, calendar, o, &headers, q),
            AltRoute::Calendars => list_calendars(&sim, &who, &headers, &q),
            AltRoute::Event(calendar, id) => {
                one_event(&sim, &who, calendar.as_deref(), &id, &headers)
            }
            AltRoute::Instances(calendar, id) => {
                let path = match &calendar {
                    None => format!("{}/events/{}/instances", who.prefix(), urlencode(&id)),
                    Some(c) => format!(
                        "{}/calendars/{}/events/{}/instances",
                        who.prefix(),
                        urlencode(c),
                        urlencode(&id)
                    ),
                };
                series_instances(&sim, &who, calendar.as_deref(), &id, path, &headers, q)
            }
        };
    }
    match uri.path().strip_prefix("/v1.0/") {
        Some(rest) => graph_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("Resource not found for the segment '{rest}'."),
        ),
        None => graph_error(StatusCode::NOT_FOUND, "NotFound", "No such endpoint."),
    }
}

fn not_found() -> Response {
    graph_error(
        StatusCode::NOT_FOUND,
        "ErrorItemNotFound",
        "The specified object was not found in the store.",
    )
}

/// Every time there is: an event's own endpoint shows it wherever it lies.
const ALL_TIME: Window = Window {
    start: chrono::DateTime::<Utc>::MIN_UTC,
    end: chrono::DateTime::<Utc>::MAX_UTC,
};

/// `GET /me/events/{id}`: the full event, a series master among them.
async fn event(State(sim): State<Shared>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    one_event(&sim, &Who::Me, None, &id, &headers)
}

/// `GET /me/calendars/{cal}/events/{id}`.
async fn calendar_event(
    State(sim): State<Shared>,
    Path((cal, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    one_event(&sim, &Who::Me, Some(&cal), &id, &headers)
}

/// The emulator's state and the calendar that holds event `id`, for a request that reads
/// one event or its series: 401 without a valid token, 404 when no (such) calendar holds it.
/// (The error is the response itself, as the emulator's other request checks return it.)
#[allow(clippy::result_large_err)]
fn event_owner<'s>(
    sim: &'s Shared,
    who: &Who,
    calendar: Option<&str>,
    id: &str,
    headers: &HeaderMap,
) -> Result<(std::sync::MutexGuard<'s, SimState>, String, Who), Response> {
    let state = lock(sim);
    let who = resolve_me(&state, headers, who.clone());
    let owner = mailbox_of(&state, &who).and_then(|m| owner_of(m, calendar, id));
    permitted(&state, headers, &who, owner.as_deref())?;
    match owner {
        Some(owner) => Ok((state, owner, who)),
        None => Err(not_found()),
    }
}

fn one_event(
    sim: &Shared,
    who: &Who,
    calendar: Option<&str>,
    id: &str,
    headers: &HeaderMap,
) -> Response {
    let o = origin(sim, headers);
    let (state, owner, who) = match event_owner(sim, who, calendar, id, headers) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let who = &who;
    let request = PageRequest::new(
        who.clone(),
        String::new(),
        String::new(),
        o,
        headers,
        HashMap::new(),
    );
    let zone = (request.zone, request.zone_label.as_str());
    let Some(mailbox) = mailbox_of(&state, who) else {
        return not_found();
    };
    match mailbox.render(&owner, id, &ALL_TIME, zone, Mode::Documented) {
        Some(json) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            json.get().to_owned(),
        )
            .into_response(),
        None => not_found(),
    }
}

/// The most requests a JSON batch may hold.
const BATCH_LIMIT: usize = 20;

/// `POST /$batch`: JSON batching of event reads (`GET /me/events/{id}`,
/// `/me/calendars/{cal}/events/{id}`) and of the event writes (creates, PATCH, DELETE, the
/// answers, cancel; each with its own headers, If-Match included), each answered in the
/// batch's body with its own status, as Graph answers them; more than twenty requests are
/// refused as Graph does.
async fn batch(State(sim): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if caller(&lock(&sim), &headers).is_none() {
        return unauthorized();
    }
    #[derive(serde::Deserialize)]
    struct Batch {
        requests: Vec<Item>,
    }
    #[derive(serde::Deserialize)]
    struct Item {
        id: String,
        method: String,
        url: String,
        #[serde(default)]
        headers: HashMap<String, String>,
        #[serde(default)]
        body: Option<Value>,
    }
    let Ok(batch) = serde_json::from_slice::<Batch>(&body) else {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Invalid batch payload format.",
        );
    };
    if batch.requests.len() > BATCH_LIMIT {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Number of batch request steps exceeds the maximum of 20.",
        );
    }
    let mut responses = Vec::new();
    for item in batch.requests {
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let path = item.url.split('?').next().unwrap_or("");
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let read = alt_route(&format!("/v1.0/{path}"));
        let answer = match (item.method.as_str(), read) {
            ("GET", Some((who, AltRoute::Event(calendar, id)))) => {
                one_event(&sim, &who, calendar.as_deref(), &id, &headers)
            }
            (method, _) => {
                // A write: the batch's authorization, the item's own headers and body.
                let mut own = HeaderMap::new();
                if let Some(auth) = headers.get(axum::http::header::AUTHORIZATION) {
                    own.insert(axum::http::header::AUTHORIZATION, auth.clone());
                }
                for (name, value) in &item.headers {
                    if let (Ok(name), Ok(value)) = (
                        axum::http::HeaderName::from_bytes(name.as_bytes()),
                        axum::http::HeaderValue::from_str(value),
                    ) {
                        own.insert(name, value);
                    }
                }
                let body = item
                    .body
                    .as_ref()
                    .map(|b| Bytes::from(b.to_string()))
                    .unwrap_or_default();
                let segments: Vec<String> = segments.iter().map(|s| decode(s)).collect();
                match super::write_api::batched(&sim, method, &segments, own, body).await {
                    Some(answer) => answer,
                    None => graph_error(
                        StatusCode::BAD_REQUEST,
                        "BadRequest",
                        "The emulator batches event reads and the event writes only.",
                    ),
                }
            }
        };
        let status = answer.status().as_u16();
        let Ok(bytes) = axum::body::to_bytes(answer.into_body(), usize::MAX).await else {
            // A write's answer lost (a fault): the whole batch's answer is lost with it.
            return super::write_api::lost_response();
        };
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        responses.push(json!({"id": item.id, "status": status,
            "headers": {"Content-Type": "application/json"}, "body": body}));
    }
    Json(json!({"responses": responses})).into_response()
}

/// The calendar holding an event, if it is the one the path names (any, for `/me/events`).
fn owner_of(mailbox: &Mailbox, calendar: Option<&str>, id: &str) -> Option<String> {
    let owner = mailbox.calendar_of(id)?;
    match calendar {
        Some(cal) if mailbox.calendar(cal).ok()?.id != owner => None,
        _ => Some(owner.to_owned()),
    }
}

/// The mailbox `who` names: the signed-in user's, or someone else's.
fn mailbox_of<'s>(state: &'s SimState, who: &Who) -> Option<&'s Mailbox> {
    match who {
        Who::Me => Some(&state.mailbox),
        other => state.people.mailbox(other),
    }
}

/// Whether the request's bearer may read `who`'s `calendar` (None: their calendars at large):
/// the answer to send when not (401 without a valid token; section 9's errors otherwise).
#[allow(clippy::result_large_err)]
fn permitted(
    state: &SimState,
    headers: &HeaderMap,
    who: &Who,
    calendar: Option<&str>,
) -> Result<(), Response> {
    let Some(scopes) = caller(state, headers) else {
        return Err(unauthorized());
    };
    let me = bearer_user(state, headers).unwrap_or(people::ME);
    state.people.may_read(who, calendar, me, &scopes)
}

/// Who the request's bearer token signs in: the work user, or the personal account.
pub fn bearer_user(state: &SimState, headers: &HeaderMap) -> Option<&'static str> {
    bearer(headers).and_then(|t| state.identity.user_of(t))
}

/// The request's bearer token, if it has one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
}

/// `/me` as the bearer means it: the personal account's own mailbox for its tokens.
fn resolve_me(state: &SimState, headers: &HeaderMap, who: Who) -> Who {
    match (who, bearer_user(state, headers)) {
        (Who::Me, Some(user)) if user != people::ME => Who::User(user.to_owned()),
        (who, _) => who,
    }
}

/// `GET /me/events/{id}/instances?startDateTime=…&endDateTime=…`: a series' occurrences and
/// exceptions in a window, full, paged.
async fn instances(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let path = format!("/me/events/{}/instances", urlencode(&id));
    series_instances(&sim, &Who::Me, None, &id, path, &headers, q)
}

/// `GET /me/calendars/{cal}/events/{id}/instances`.
async fn calendar_instances(
    State(sim): State<Shared>,
    Path((cal, id)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let path = format!(
        "/me/calendars/{}/events/{}/instances",
        urlencode(&cal),
        urlencode(&id)
    );
    series_instances(&sim, &Who::Me, Some(&cal), &id, path, &headers, q)
}

fn series_instances(
    sim: &Shared,
    who: &Who,
    calendar: Option<&str>,
    id: &str,
    path: String,
    headers: &HeaderMap,
    q: HashMap<String, String>,
) -> Response {
    let o = origin(sim, headers);
    let (state, owner, who) = match event_owner(sim, who, calendar, id, headers) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let who = &who;
    let Some(mailbox) = mailbox_of(&state, who) else {
        return not_found();
    };
    let request = PageRequest::new(who.clone(), owner.clone(), path, o, headers, q);
    let window = match request.window() {
        Ok(window) => window,
        Err(response) => return response,
    };
    let skip: usize = request
        .query
        .get("$skip")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let size = request.page_size.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let all = mailbox.instances(id, &window);
    let zone = (request.zone, request.zone_label.as_str());
    let items: Vec<Arc<RawValue>> = all
        .iter()
        .skip(skip)
        .take(size)
        .filter_map(|e| mailbox.render(&owner, &e.id, &window, zone, Mode::Documented))
        .collect();
    let more = skip + size < all.len();
    paged(&request, &window, items, more.then_some(skip + size), None)
}

/// A page of a plain list (instances, a calendarView listing) as Graph writes it: the items,
/// and, when more follow, a next link over the same window with `$skip` (and `$top`).
fn paged(
    request: &PageRequest,
    window: &Window,
    items: Vec<Arc<RawValue>>,
    next_skip: Option<usize>,
    top: Option<usize>,
) -> Response {
    let fmt = |t: chrono::DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let next_link = next_skip.map(|skip| {
        format!(
            "{}/v1.0{}?startDateTime={}&endDateTime={}{}&$skip={skip}",
            request.origin,
            request.path,
            fmt(window.start),
            fmt(window.end),
            top.map_or(String::new(), |top| format!("&$top={top}")),
        )
    });
    #[derive(Serialize)]
    struct Page<'a> {
        #[serde(rename = "@odata.context")]
        context: String,
        value: Vec<&'a RawValue>,
        #[serde(rename = "@odata.nextLink", skip_serializing_if = "Option::is_none")]
        next_link: Option<String>,
    }
    let body = Page {
        context: format!("{}/v1.0/$metadata#Collection(event)", request.origin),
        value: items.iter().map(|i| &**i).collect(),
        next_link,
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string(&body).expect("a page serialises"),
    )
        .into_response()
}

fn bad_request(message: &str) -> Response {
    graph_error(StatusCode::BAD_REQUEST, "ErrorInvalidParameter", message)
}

/// The scopes of the request's bearer token; None without a valid one.
pub fn caller(state: &SimState, headers: &HeaderMap) -> Option<Vec<String>> {
    bearer(headers)
        .and_then(|t| state.identity.scopes_of(t))
        .map(<[String]>::to_vec)
}

fn unauthorized() -> Response {
    graph_error(
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
        "Access token has expired or is not yet valid.",
    )
}

async fn me(State(sim): State<Shared>, headers: HeaderMap) -> Response {
    let state = lock(&sim);
    if caller(&state, &headers).is_none() {
        return unauthorized();
    }
    if let Who::User(address) = resolve_me(&state, &headers, Who::Me) {
        let name = state.people.users.get(&address).map(|p| p.name.clone());
        return Json(json!({"displayName": name, "mail": address,
            "userPrincipalName": address, "id": "sim-personal-1"}))
        .into_response();
    }
    Json(
        json!({"displayName": "Samantha Booth", "mail": "samanthab@contoso.com",
                "userPrincipalName": "samanthab@contoso.com", "id": "sim-user-1"}),
    )
    .into_response()
}

/// Graph's calendar resource for the mailbox's `i`th calendar. Every third one after the
/// default is shared by a colleague and read-only, as shared calendars are.
fn calendar_json(state: &SimState, i: usize) -> Value {
    let c = &state.mailbox.calendars[i];
    let shared = i > 0 && i.is_multiple_of(3);
    let owner = if shared {
        json!({"name": "Dana Swope", "address": "danas@contoso.com"})
    } else {
        json!({"name": "Samantha Booth", "address": "samanthab@contoso.com"})
    };
    let hex = match c.color.as_str() {
        "lightBlue" => "#a6d1f5",
        "lightGreen" => "#87d28e",
        "lightOrange" => "#fcab73",
        "lightRed" => "#f88c9b",
        _ => "",
    };
    let mut v = json!({"id": c.id, "name": c.name, "color": c.color, "hexColor": hex,
        "changeKey": format!("ck{i}"), "canShare": !shared, "canViewPrivateItems": !shared,
        "canEdit": !shared, "isRemovable": i > 0, "owner": owner,
        "allowedOnlineMeetingProviders": if c.allows_teams { json!(["teamsForBusiness"]) } else { json!([]) },
        "defaultOnlineMeetingProvider": if c.allows_teams { "teamsForBusiness" } else { "none" }});
    // Documented v1.0 says `isDefaultCalendar`; accounts have been seen without it (the
    // default calendar is then what `/me/calendar` answers).
    if state.mode == Mode::Documented {
        v["isDefaultCalendar"] = json!(i == 0);
    }
    v
}

/// How many calendars a page of `/me/calendars` holds, whatever the client prefers.
const CALENDARS_PAGE: usize = 10;

/// `GET /me/calendars`: ten to a page, `$skip` in the next link, as Graph pages it.
async fn calendars(
    State(sim): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    list_calendars(&sim, &Who::Me, &headers, &query)
}

/// Another mailbox's calendar as Graph lists it to the signed-in user: the owner's, whether
/// the share lets them edit it.
fn others_calendar_json(
    state: &SimState,
    who: &Who,
    i: usize,
    caller: Option<&str>,
) -> Option<Value> {
    let mailbox = mailbox_of(state, who)?;
    let c = mailbox.calendars.get(i)?;
    let (owner, can_edit) = match who {
        Who::Me => return Some(calendar_json(state, i)),
        Who::User(address) if Some(address.as_str()) == caller => {
            let person = state.people.users.get(address)?;
            (json!({"name": person.name, "address": address}), true)
        }
        Who::User(address) => {
            let person = state.people.users.get(address)?;
            let role = person.shares.get(&c.id).and_then(|s| s.get(people::ME));
            role?;
            (
                json!({"name": person.name, "address": address}),
                role == Some(&people::Role::Write),
            )
        }
        Who::Group(id) => {
            let group = state.people.groups.get(id)?;
            (
                json!({"name": group.name, "address": format!("{id}@groups")}),
                true,
            )
        }
    };
    Some(
        json!({"id": c.id, "name": c.name, "color": c.color, "hexColor": "",
        "changeKey": format!("ck{i}"), "canShare": false, "canViewPrivateItems": false,
        "canEdit": can_edit, "isRemovable": false, "owner": owner, "isDefaultCalendar": i == 0,
        "allowedOnlineMeetingProviders": [], "defaultOnlineMeetingProvider": "none"}),
    )
}

/// A mailbox's calendars (those shared with the signed-in user, for another user's): ten to a
/// page, `$skip` in the next link, as Graph pages it.
fn list_calendars(
    sim: &Shared,
    who: &Who,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Response {
    let base = origin(sim, headers);
    let state = lock(sim);
    let who = &resolve_me(&state, headers, who.clone());
    if let Err(response) = permitted(&state, headers, who, None) {
        return response;
    }
    let skip: usize = match query.get("$skip").map(|s| s.parse()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            return graph_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "Invalid $skip value.",
            );
        }
    };
    let total = mailbox_of(&state, who).map_or(0, |m| m.calendars.len());
    let all: Vec<Value> = (0..total)
        .filter_map(|i| others_calendar_json(&state, who, i, bearer_user(&state, headers)))
        .collect();
    let value: Vec<&Value> = all.iter().skip(skip).take(CALENDARS_PAGE).collect();
    let mut body = json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('sim-user-1')/calendars", "value": value});
    if skip + CALENDARS_PAGE < all.len() {
        body["@odata.nextLink"] = json!(format!(
            "{base}/v1.0{}/calendars?$skip={}",
            who.prefix(),
            skip + CALENDARS_PAGE
        ));
    }
    Json(body).into_response()
}

/// `GET /me/calendar`: the default calendar.
async fn default_calendar(State(sim): State<Shared>, headers: HeaderMap) -> Response {
    let state = lock(&sim);
    if caller(&state, &headers).is_none() {
        return unauthorized();
    }
    let who = resolve_me(&state, &headers, Who::Me);
    if who != Who::Me {
        return others_calendar_json(&state, &who, 0, bearer_user(&state, &headers))
            .map_or_else(not_found, |c| Json(c).into_response());
    }
    Json(calendar_json(&state, 0)).into_response()
}

/// One delta request, as the route and its headers describe it.
struct PageRequest {
    /// Whose mailbox.
    who: Who,
    calendar: String,
    /// The route's path under `/v1.0`, for the links the page ends with.
    path: String,
    /// Query parameters, names lowercased.
    query: HashMap<String, String>,
    /// `Prefer: odata.maxpagesize`.
    page_size: Option<usize>,
    /// `Prefer: outlook.timezone`, and the name the client used for it (Graph echoes it).
    zone: Tz,
    zone_label: String,
    /// `scheme://host` the client reached us at.
    origin: String,
}

impl PageRequest {
    fn new(
        who: Who,
        calendar: String,
        path: String,
        origin: String,
        headers: &HeaderMap,
        query: HashMap<String, String>,
    ) -> Self {
        let mut request = PageRequest {
            who,
            calendar,
            path,
            query: query
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
            page_size: None,
            zone: Tz::UTC,
            zone_label: "UTC".into(),
            origin,
        };
        let preferences = headers
            .get_all("prefer")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','));
        for pref in preferences {
            let Some((k, v)) = pref.trim().split_once('=') else {
                continue;
            };
            let v = v.trim().trim_matches('"');
            match k.trim().to_ascii_lowercase().as_str() {
                "odata.maxpagesize" => request.page_size = v.parse().ok(),
                "outlook.timezone" => {
                    if let Some(z) = time::zone(v) {
                        request.zone = z;
                        request.zone_label = v.to_owned();
                    }
                }
                _ => {}
            }
        }
        request
    }

    /// The window of `startDateTime` and `endDateTime`; an error is the response to send.
    #[allow(clippy::result_large_err)]
    fn window(&self) -> Result<Window, Response> {
        let (Some(start), Some(end)) = (
            self.query.get("startdatetime"),
            self.query.get("enddatetime"),
        ) else {
            return Err(bad_request(
                "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.",
            ));
        };
        let (Some(start), Some(end)) = (time::query_instant(start), time::query_instant(end))
        else {
            return Err(bad_request(
                "StartDateTime or EndDateTime is not a valid date and time.",
            ));
        };
        if end <= start {
            return Err(bad_request("EndDateTime must be after StartDateTime."));
        }
        Ok(Window { start, end })
    }

    /// A state token parameter, with or without its `$`.
    fn token(&self) -> Option<&str> {
        ["$skiptoken", "skiptoken", "$deltatoken", "deltatoken"]
            .iter()
            .find_map(|name| self.query.get(*name))
            .map(String::as_str)
    }
}

/// Where a round stands: the window, the items it reports and how far it got.
struct Cursor {
    window: Window,
    items: Arc<Vec<DeltaItem>>,
    pos: usize,
    /// A full round (initial, or a delta of everything): gone items are skipped, not removed.
    full: bool,
    /// The change counter the round's delta link starts from.
    seq: u64,
    /// The round a next link continues; None for a round that begins here.
    round: Option<u64>,
}

/// Where a request continues from: a state token, or a new full round over the window in the
/// query. An error is the response to send instead.
#[allow(clippy::result_large_err)]
fn resolve_cursor(
    mailbox: &Mailbox,
    tokens: &TokenTable,
    mode: Mode,
    request: &PageRequest,
    calendar: &str,
) -> Result<Cursor, Response> {
    let view = request.who.view(calendar);
    if let Some(t) = request.token() {
        let token = match tokens.get(t) {
            Ok(token) => token,
            Err(TokenError::Malformed) => return Err(bad_request("The state token is malformed.")),
            Err(TokenError::Gone) => {
                return Err(graph_error(
                    StatusCode::GONE,
                    "SyncStateNotFound",
                    &format!(
                        "The sync state generation is not found; generation={};{}",
                        tokens.generation(),
                        tokens.newest(&view)
                    ),
                ));
            }
        };
        if token.calendar != view {
            return Err(bad_request(
                "The state token belongs to another calendar view.",
            ));
        }
        return Ok(match token.kind {
            TokenKind::Skip {
                items,
                pos,
                full,
                round,
            } => Cursor {
                window: token.window,
                items,
                pos,
                full,
                seq: token.seq,
                round: Some(round),
            },
            TokenKind::Delta => {
                let items = mailbox
                    .changes_since(calendar, &token.window, token.seq, mode)
                    .expect("calendar exists");
                Cursor {
                    window: token.window,
                    items: Arc::new(items),
                    pos: 0,
                    full: false,
                    seq: mailbox.seq(),
                    round: None,
                }
            }
        });
    }
    let window = request.window()?;
    let items = mailbox
        .full_round(calendar, &window, mode)
        .expect("calendar exists");
    Ok(Cursor {
        window,
        items: Arc::new(items),
        pos: 0,
        full: true,
        seq: mailbox.seq(),
        round: None,
    })
}

/// A delta page as Graph writes it.
#[derive(Serialize)]
struct PageBody<'a> {
    #[serde(rename = "@odata.context")]
    context: String,
    value: Vec<&'a RawValue>,
    #[serde(rename = "@odata.nextLink", skip_serializing_if = "Option::is_none")]
    next_link: Option<String>,
    #[serde(rename = "@odata.deltaLink", skip_serializing_if = "Option::is_none")]
    delta_link: Option<String>,
}

/// One page of a delta round, as JSON text; an error is the response to send instead.
#[allow(clippy::result_large_err)]
fn serve_page(
    state: &mut SimState,
    request: &PageRequest,
    fault: Option<&Fault>,
) -> Result<String, Response> {
    let SimState {
        mailbox: mine,
        people,
        tokens,
        rounds,
        mode,
        ..
    } = state;
    let mode = *mode;
    let mailbox = match &request.who {
        Who::Me => mine,
        who => people.mailbox_mut(who).ok_or_else(not_found)?,
    };
    let Ok(calendar) = mailbox.calendar(&request.calendar) else {
        return Err(not_found());
    };
    let calendar = calendar.id.clone();
    let view = request.who.view(&calendar);
    let cursor = resolve_cursor(mailbox, tokens, mode, request, &calendar)?;
    let round = match cursor.round {
        Some(round) => {
            rounds.touch(&view, round);
            round
        }
        None => rounds.begin(&view, tokens.generation()),
    };
    // A page the client cannot read leaves it where it was: a round begun here has not begun
    // for it, and its retry begins it again.
    if fault == Some(&Fault::Truncate) && cursor.round.is_none() {
        rounds.end(&view, round);
    }
    let size = request.page_size.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let empty = fault == Some(&Fault::Empty);
    let mut end = if empty {
        cursor.pos
    } else {
        (cursor.pos + size).min(cursor.items.len())
    };
    // The page size is a hint to the real service: a series is never split across pages. The
    // documentation promises no more than the size asked for, and the documented mode keeps
    // to that.
    while mode == Mode::Realistic
        && end > cursor.pos
        && end < cursor.items.len()
        && cursor.items[end].series.is_some()
        && cursor.items[end].series == cursor.items[end - 1].series
    {
        end += 1;
    }
    let mut items: Vec<Arc<RawValue>> = Vec::with_capacity(end - cursor.pos);
    for item in &cursor.items[cursor.pos..end] {
        if item.removed {
            items.push(removed(&item.id));
            continue;
        }
        let zone = (request.zone, request.zone_label.as_str());
        match mailbox.render(&calendar, &item.id, &cursor.window, zone, mode) {
            Some(text) => items.push(text),
            // Gone since the round's list was made: a full round skips it (the sweep
            // handles it), an incremental one reports it removed.
            None if cursor.full => {}
            None => items.push(removed(&item.id)),
        }
    }
    let value = items.iter().map(|item| &**item).collect();
    let looping = fault == Some(&Fault::Loop);
    let more = end < cursor.items.len() || empty || looping;
    let (param, kind) = if more {
        let kind = TokenKind::Skip {
            items: cursor.items.clone(),
            // A looping round serves this page again behind a new link.
            pos: if looping { cursor.pos } else { end },
            full: cursor.full,
            round,
        };
        ("$skiptoken", kind)
    } else {
        rounds.end(&view, round);
        // Writes whose echo comes late, or twice, come in the next round.
        mailbox.release_echoes();
        ("$deltatoken", TokenKind::Delta)
    };
    let token = tokens.issue(&view, cursor.window, kind, cursor.seq);
    let link_origin = match fault {
        Some(Fault::ForeignLink { origin }) => origin.as_str(),
        _ => request.origin.as_str(),
    };
    let link = format!("{link_origin}/v1.0{}?{param}={token}", request.path);
    let body = PageBody {
        context: format!("{}/v1.0/$metadata#Collection(event)", request.origin),
        value,
        next_link: more.then(|| link.clone()),
        delta_link: (!more).then_some(link),
    };
    Ok(serde_json::to_string(&body).expect("a page serialises"))
}

fn removed(id: &str) -> Arc<RawValue> {
    let item = json!({"@odata.type": "#microsoft.graph.event", "id": id, "@removed": {"reason": "deleted"}});
    Arc::from(serde_json::value::to_raw_value(&item).expect("JSON serialises"))
}

async fn delta_default(
    State(sim): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let path = "/me/calendarView/delta".to_owned();
    let o = origin(&sim, &headers);
    let request = PageRequest::new(Who::Me, DEFAULT_CALENDAR.to_owned(), path, o, &headers, q);
    delta(sim, request, &headers).await
}

async fn delta_calendar(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let path = format!("/me/calendars/{}/calendarView/delta", urlencode(&id));
    let o = origin(&sim, &headers);
    let request = PageRequest::new(Who::Me, id, path, o, &headers, q);
    delta(sim, request, &headers).await
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// A fault that answers instead of the page, if the next fault is one.
fn fault_response(fault: &Fault) -> Option<Response> {
    match fault {
        Fault::Status {
            status,
            retry_after_ms,
            code,
            ..
        } => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let code = code.as_deref().unwrap_or(match status.as_u16() {
                429 => "TooManyRequests",
                401 => "InvalidAuthenticationToken",
                403 => "ErrorAccessDenied",
                410 => "SyncStateNotFound",
                503 => "ServiceNotAvailable",
                504 => "GatewayTimeout",
                400 => "ErrorInvalidParameter",
                412 => "ErrorIrresolvableConflict",
                _ => "InternalServerError",
            });
            let mut response =
                graph_error(status, code, "Injected fault from the deltacal emulator.");
            if let Some(ms) = retry_after_ms {
                // Whole seconds as an integer; otherwise as Graph writes it, e.g. `2.128`.
                let secs = if ms % 1000 == 0 {
                    (ms / 1000).to_string()
                } else {
                    format!("{}.{:03}", ms / 1000, ms % 1000)
                        .trim_end_matches('0')
                        .to_owned()
                };
                if let Ok(value) = HeaderValue::from_str(&secs) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
            }
            Some(response)
        }
        Fault::Drop | Fault::LostResponse => {
            let stream = futures_util::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::other(
                    "connection dropped by fault injection",
                ))
            });
            Some(
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/json")],
                    Body::from_stream(stream),
                )
                    .into_response(),
            )
        }
        Fault::Malformed => Some(
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                "<html><body>Bad gateway</body></html>{\"value\": [",
            )
                .into_response(),
        ),
        _ => None,
    }
}

/// What the real service answers instead of a delta page that the others' mailboxes do not
/// serve: a group's calendar has no delta; a room's delegate gets the first page and a 403 on
/// every link after it (graph-delta.md section 9).
fn refused_delta(state: &SimState, request: &PageRequest) -> Option<Response> {
    match &request.who {
        Who::Group(_) => Some(graph_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Unsupported request: Change tracking is not supported against 'microsoft.graph.event'.",
        )),
        Who::User(address)
            if request.token().is_some()
                && state.people.users.get(address).is_some_and(|p| p.room) =>
        {
            Some(graph_error(
                StatusCode::FORBIDDEN,
                "ErrorAccessDenied",
                "Access is denied. Check credentials and try again.",
            ))
        }
        _ => None,
    }
}

async fn delta(sim: Shared, mut request: PageRequest, headers: &HeaderMap) -> Response {
    let fault = {
        let mut state = lock(&sim);
        request.who = resolve_me(&state, headers, request.who.clone());
        if let Err(response) = permitted(&state, headers, &request.who, Some(&request.calendar)) {
            return response;
        }
        if let Some(response) = refused_delta(&state, &request) {
            return response;
        }
        state.faults.take_next()
    };
    if let Some(response) = fault.as_ref().and_then(fault_response) {
        return response;
    }
    if let Some(Fault::Slow { delay_ms }) = &fault {
        tokio::time::sleep(Duration::from_millis(*delay_ms)).await;
    }
    let page = serve_page(&mut lock(&sim), &request, fault.as_ref());
    let body = match page {
        Ok(body) => body,
        Err(response) => return response,
    };
    let mut response = if fault == Some(Fault::Truncate) {
        let mut bytes = body.into_bytes();
        bytes.truncate(bytes.len() / 2);
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            bytes,
        )
            .into_response()
    } else {
        (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "application/json; odata.metadata=minimal",
            )],
            body,
        )
            .into_response()
    };
    if let Some(n) = request.page_size {
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

/// `GET …/calendarView?startDateTime=…&endDateTime=…`: every event but the masters in the
/// window, full, by start; `$top` (or `Prefer: odata.maxpagesize`) to a page, `$skip` in the
/// next link. What a group calendar is synced by, and a room whose delta refuses its links.
fn listing(
    sim: &Shared,
    who: Who,
    calendar: Option<String>,
    origin: String,
    headers: &HeaderMap,
    q: HashMap<String, String>,
) -> Response {
    let calendar = calendar.unwrap_or_else(|| DEFAULT_CALENDAR.to_owned());
    let path = match calendar.as_str() {
        DEFAULT_CALENDAR => format!("{}/calendarView", who.prefix()),
        id => format!("{}/calendars/{}/calendarView", who.prefix(), urlencode(id)),
    };
    let mut request = PageRequest::new(who, calendar, path, origin, headers, q);
    let mut state = lock(sim);
    request.who = resolve_me(&state, headers, request.who.clone());
    if let Err(response) = permitted(&state, headers, &request.who, Some(&request.calendar)) {
        return response;
    }
    // The faults a listing can meet: a status, a dropped connection, a broken body.
    if let Some(response) = state.faults.take_next().as_ref().and_then(fault_response) {
        return response;
    }
    let window = match request.window() {
        Ok(window) => window,
        Err(response) => return response,
    };
    let Some(mailbox) = mailbox_of(&state, &request.who) else {
        return not_found();
    };
    let Ok(events) = mailbox.calendar_view(&request.calendar, &window) else {
        return not_found();
    };
    let skip: usize = match request.query.get("$skip").map(|v| v.parse()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return bad_request("Invalid $skip value."),
    };
    let size = request
        .query
        .get("$top")
        .and_then(|v| v.parse().ok())
        .or(request.page_size)
        .unwrap_or(DEFAULT_PAGE)
        .clamp(1, MAX_PAGE);
    let calendar_id = mailbox
        .calendar(&request.calendar)
        .map(|c| c.id.clone())
        .unwrap_or_default();
    let zone = (request.zone, request.zone_label.as_str());
    let items: Vec<Arc<RawValue>> = events
        .iter()
        .skip(skip)
        .take(size)
        .filter_map(|e| mailbox.render(&calendar_id, &e.id, &window, zone, Mode::Documented))
        .collect();
    let more = skip + size < events.len();
    paged(
        &request,
        &window,
        items,
        more.then_some(skip + size),
        Some(size),
    )
}
