//! Recurring series exactly as Microsoft 365 sends them, served as fixed JSON: occurrence stubs
//! with no subject, a master among the items, a stub whose master began before the window and
//! must be fetched, a master fetch that fails first. The agenda shows each occurrence with its
//! series' properties and never the master.

#![allow(clippy::unwrap_used)]
#![cfg(feature = "emulator")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use deltacal::auth::tokens::{self, TokenSet};
use deltacal::config::Config;
use deltacal::sync::SyncEngine;
use serde_json::{Value, json};

struct Server {
    origin: String,
    master_fetches: AtomicUsize,
    delta_calls: AtomicUsize,
}

fn time(t: &str) -> Value {
    json!({"dateTime": format!("{t}.0000000"), "timeZone": "UTC"})
}

fn stub(id: &str, master: &str, start: &str, end: &str) -> Value {
    json!({"@odata.type": "#microsoft.graph.event", "@odata.etag": format!("W/\"{id}-1\""),
           "id": id, "seriesMasterId": master, "type": "occurrence",
           "start": time(start), "end": time(end)})
}

/// A master as Graph sends it: the series' properties, the first occurrence's times.
fn master(id: &str, subject: &str, start: &str, end: &str) -> Value {
    json!({"@odata.type": "#microsoft.graph.event", "@odata.etag": format!("W/\"{id}-1\""),
           "id": id, "type": "seriesMaster", "seriesMasterId": null, "subject": subject,
           "bodyPreview": "Agenda in the doc.", "isAllDay": false, "isCancelled": false,
           "showAs": "busy", "start": time(start), "end": time(end),
           "location": {"displayName": "Microsoft Teams Meeting"},
           "organizer": {"emailAddress": {"name": "Dana Swope", "address": "danas@contoso.com"}},
           "attendees": [{"type": "required", "status": {"response": "accepted"},
                          "emailAddress": {"name": "Alex Wilber", "address": "alexw@contoso.com"}}],
           "isOnlineMeeting": true,
           "onlineMeeting": {"joinUrl": format!("https://teams.microsoft.com/l/meetup-join/{id}")},
           "recurrence": {"pattern": {"type": "weekly", "interval": 1}}})
}

async fn delta(State(server): State<Arc<Server>>) -> Response {
    let call = server.delta_calls.fetch_add(1, Ordering::SeqCst);
    let link = |kind: &str, token: &str| {
        format!(
            "{}/v1.0/me/calendarView/delta?${kind}={token}",
            server.origin
        )
    };
    let body = match call {
        // The first page: a series whose master is in the window, with its stubs; a stub of a
        // series that began before the window; a plain event.
        0 => json!({"value": [
                master("MASTER-A", "Weekly design sync", "2026-12-01T10:00:00", "2026-12-01T11:00:00"),
                stub("OCC-A1", "MASTER-A", "2026-12-01T10:00:00", "2026-12-01T11:00:00"),
                stub("OCC-A2", "MASTER-A", "2026-12-08T10:00:00", "2026-12-08T11:00:00"),
                stub("OCC-B1", "MASTER-B", "2026-12-02T08:00:00", "2026-12-02T08:15:00"),
                {"@odata.type": "#microsoft.graph.event", "id": "SINGLE", "type": "singleInstance",
                 "subject": "Dentist", "start": time("2026-12-03T15:00:00"), "end": time("2026-12-03T16:00:00")},
            ], "@odata.nextLink": link("skiptoken", "page2")}),
        1 => json!({"value": [], "@odata.deltaLink": link("deltatoken", "round1")}),
        // Later rounds: nothing changed.
        _ => json!({"value": [], "@odata.deltaLink": link("deltatoken", "round2")}),
    };
    axum::Json(body).into_response()
}

async fn event(State(server): State<Arc<Server>>, Path(id): Path<String>) -> Response {
    let fetch = server.master_fetches.fetch_add(1, Ordering::SeqCst);
    match id.as_str() {
        // The first fetch fails: the round must not, and the stub must wait, not vanish.
        "MASTER-B" if fetch == 0 => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"error": {"code": "ServiceNotAvailable", "message": "try later"}})),
        )
            .into_response(),
        "MASTER-B" => axum::Json(master(
            "MASTER-B",
            "Daily standup",
            "2026-10-01T08:00:00",
            "2026-10-01T08:15:00",
        ))
        .into_response(),
        _ => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": {"code": "ErrorItemNotFound", "message": "not found"}})),
        )
            .into_response(),
    }
}

async fn start_server() -> Arc<Server> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = Arc::new(Server {
        origin: format!("http://{}", listener.local_addr().unwrap()),
        master_fetches: AtomicUsize::new(0),
        delta_calls: AtomicUsize::new(0),
    });
    let app = Router::new()
        .route("/v1.0/me/calendarView/delta", get(delta))
        .route("/v1.0/me/events/{id}", get(event))
        .with_state(server.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stubs_take_their_series_and_masters_never_show() {
    let server = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[account]\nauthority = \"{o}\"\n[graph]\nbase_url = \"{o}/v1.0\"\nmax_attempts = 1\n[sync]\nstart = \"2026-11-01T00:00:00Z\"\nend = \"2027-01-01T00:00:00Z\"\n[ui]\ntimezone = \"UTC\"\n",
        o = server.origin
    );
    let config = Arc::new(Config::from_toml(&text, None, dir.path().to_owned()).unwrap());
    let tokens = TokenSet {
        access_token: "test-access".into(),
        refresh_token: None,
        expires_at: Utc::now() + chrono::Duration::hours(1),
        scope: None,
        account: None,
    };
    tokens::save(&config.token_path(), &tokens).unwrap();
    let engine = SyncEngine::from_config(config.clone()).unwrap();
    let cal = config.calendars[0].clone();
    let agenda = || {
        let first = "2026-11-01".parse().unwrap();
        let last = "2026-12-31".parse().unwrap();
        let events = deltacal::commands::agenda::events_in_days(&config, first, last).unwrap();
        let mut out = Vec::new();
        deltacal::commands::agenda::write(&config, &events, first, last, true, &mut out).unwrap();
        serde_json::from_slice::<Vec<Value>>(&out).unwrap()
    };

    // The first round: master B cannot be fetched. The round succeeds anyway.
    engine.sync_view(&cal).await.unwrap();
    let items = agenda();
    let ids: Vec<&str> = items.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        ["OCC-A1", "SINGLE", "OCC-A2"],
        "no master, B waits for its master"
    );
    let a1 = &items[0];
    assert_eq!(a1["subject"], "Weekly design sync");
    assert_eq!(a1["organizer"], "Dana Swope <danas@contoso.com>");
    assert_eq!(a1["location"], "Microsoft Teams Meeting");
    assert_eq!(
        a1["online_meeting_url"],
        "https://teams.microsoft.com/l/meetup-join/MASTER-A"
    );
    assert_eq!(a1["start"], "2026-12-01T10:00:00Z", "the stub's own times");
    assert_eq!(items[2]["start"], "2026-12-08T10:00:00Z");

    // The next round fetches the master that was missing; the occurrence shows.
    engine.sync_view(&cal).await.unwrap();
    let items = agenda();
    let b1 = items.iter().find(|e| e["id"] == "OCC-B1").expect("B shows");
    assert_eq!(b1["subject"], "Daily standup");
    assert_eq!(b1["start"], "2026-12-02T08:00:00Z");
    assert!(
        items
            .iter()
            .all(|e| e["id"] != "MASTER-A" && e["id"] != "MASTER-B")
    );
    assert_eq!(server.master_fetches.load(Ordering::SeqCst), 2);

    // A round in which nothing changed fetches nothing again.
    engine.sync_view(&cal).await.unwrap();
    assert_eq!(server.master_fetches.load(Ordering::SeqCst), 2);
}
