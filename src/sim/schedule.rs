//! `POST /me/calendar/getSchedule`: free/busy of up to 20 people over up to 62 days, with
//! their working hours, as the real service answers (graph-delta.md section 9).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::graph_api::{bearer_user, caller, graph_error};
use super::identity::USER_MAIL;
use super::mailbox::{DEFAULT_CALENDAR, Mailbox, render_time};
use super::people::WorkingHours;
use super::time::{self, Window};
use super::{Shared, SimState, lock};

/// The most addresses one request may ask about.
const MAX_SCHEDULES: usize = 20;
/// The longest range one request may cover.
const MAX_DAYS: i64 = 62;

/// One `{dateTime, timeZone}` of the request.
fn instant(value: &Value) -> Option<(DateTime<Utc>, chrono_tz::Tz)> {
    let zone = time::zone(value["timeZone"].as_str()?)?;
    let local = time::wall_time(value["dateTime"].as_str()?)?;
    Some((time::instant(local, zone), zone))
}

fn invalid(message: &str) -> Response {
    graph_error(StatusCode::BAD_REQUEST, "ErrorInvalidParameter", message)
}

/// `POST /v1.0/me/calendar/getSchedule`.
pub async fn get_schedule(State(sim): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let mut state = lock(&sim);
    if caller(&state, &headers).is_none() {
        return graph_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Access token has expired or is not yet valid.",
        );
    }
    // Personal accounts have no free/busy service; Graph refuses work-only endpoints of a
    // personal mailbox with 403 ErrorAccessDenied (as for its mail rules).
    if bearer_user(&state, &headers) == Some(super::identity::PERSONAL_MAIL) {
        return graph_error(
            StatusCode::FORBIDDEN,
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again.",
        );
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return invalid("The request body is not JSON.");
    };
    super::write_api::log_request(
        &mut state,
        "POST",
        "/v1.0/me/calendar/getSchedule",
        request.clone(),
        None,
    );
    let Some(schedules) = request["schedules"].as_array() else {
        return invalid("Schedules is required.");
    };
    if schedules.is_empty() || schedules.len() > MAX_SCHEDULES {
        return invalid("The number of schedules must be between 1 and 20.");
    }
    let (Some((start, zone)), Some((end, _))) =
        (instant(&request["startTime"]), instant(&request["endTime"]))
    else {
        return invalid("StartTime and EndTime must be dates and times with a time zone.");
    };
    if end <= start {
        return invalid("EndTime must be after StartTime.");
    }
    if end - start > Duration::days(MAX_DAYS) {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "ErrorTimeIntervalTooBig",
            "The requested time duration specified is too long.",
        );
    }
    let interval = request["availabilityViewInterval"].as_i64().unwrap_or(30);
    if !(5..=1440).contains(&interval) {
        return invalid("AvailabilityViewInterval must be between 5 and 1440.");
    }
    let window = Window { start, end };
    let value: Vec<Value> = schedules
        .iter()
        .map(|address| {
            let address = address.as_str().unwrap_or_default();
            schedule(&state, address, &window, zone, interval)
        })
        .collect();
    Json(json!({"value": value})).into_response()
}

/// What `status` is worth in the availability view (working elsewhere shows as free, as the
/// documentation says, for older clients).
fn level(status: &str) -> u8 {
    match status {
        "tentative" => 1,
        "busy" => 2,
        "oof" => 3,
        _ => 0,
    }
}

/// One address's schedule, or its error.
fn schedule(
    state: &SimState,
    address: &str,
    window: &Window,
    zone: chrono_tz::Tz,
    interval: i64,
) -> Value {
    let lower = address.to_ascii_lowercase();
    let found: Option<(&Mailbox, WorkingHours, bool)> = if lower == USER_MAIL {
        Some((&state.mailbox, WorkingHours::default(), true))
    } else {
        state
            .people
            .users
            .get(&lower)
            .filter(|p| p.reachable)
            .map(|p| (&p.mailbox, p.working.clone(), false))
    };
    let Some((mailbox, working, own)) = found else {
        return json!({"scheduleId": address, "availabilityView": "", "scheduleItems": [],
            "error": {"message": format!("The requested user '{address}' is invalid."),
                      "responseCode": "5016"}});
    };
    let events = mailbox
        .calendar_view(DEFAULT_CALENDAR, window)
        .unwrap_or_default();
    let mut items = Vec::new();
    let slots = ((window.end - window.start).num_minutes() + interval - 1) / interval;
    let mut view = vec![0u8; slots.max(0) as usize];
    for event in events {
        let json = event.json();
        if json["isCancelled"].as_bool() == Some(true) {
            continue;
        }
        let status = json["showAs"].as_str().unwrap_or("busy").to_owned();
        let mut item = json!({"isPrivate": json["sensitivity"] == "private", "status": status,
            "start": render_time(event.start, false, zone),
            "end": render_time(event.end, false, zone)});
        // Others see when, not what.
        if own {
            item["subject"] = json["subject"].clone();
            item["location"] = json["location"]["displayName"].clone();
        }
        items.push(item);
        for (i, slot) in view.iter_mut().enumerate() {
            let from = window.start + Duration::minutes(interval * i as i64);
            let to = from + Duration::minutes(interval);
            if event.start < to && event.end > from {
                *slot = (*slot).max(level(&status));
            }
        }
    }
    let view: String = view.iter().map(|d| char::from(b'0' + d)).collect();
    json!({"scheduleId": address, "availabilityView": view, "scheduleItems": items,
        "workingHours": {"daysOfWeek": working.days, "startTime": format!("{}:00.0000000", working.start),
            "endTime": format!("{}:00.0000000", working.end), "timeZone": {"name": working.zone}}})
}
