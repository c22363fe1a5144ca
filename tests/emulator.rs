//! The emulator over real HTTP on loopback: the documented exchange, control API, faults, tokens.

#![allow(clippy::unwrap_used)]
#![cfg(feature = "emulator")]

mod common;

use std::collections::HashSet;
use std::time::Instant;

use common::{Env, EnvOptions};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn sample_event(subject: &str, start: &str, end: &str) -> Value {
    json!({
        "subject": subject,
        "body": {"contentType": "html", "content": ""},
        "start": {"dateTime": start, "timeZone": "UTC"},
        "end": {"dateTime": end, "timeZone": "UTC"},
        "attendees": [],
        "organizer": {"emailAddress": {"name": "Samantha Booth", "address": "samanthab@contoso.com"}}
    })
}

fn access_token(env: &Env) -> String {
    let t = env.sim.handle().issue_tokens();
    t["access_token"].as_str().unwrap().to_owned()
}

struct Page {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Page {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    fn subjects(&self) -> Vec<String> {
        self.json()["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["subject"].as_str().unwrap_or("<removed>").to_owned())
            .collect()
    }
    fn link(&self, key: &str) -> Option<String> {
        self.json()[key].as_str().map(str::to_owned)
    }
}

async fn get(env: &Env, url: &str, token: &str, prefer: &str) -> Page {
    let resp = env
        .http
        .get(url)
        .bearer_auth(token)
        .header("Prefer", prefer)
        .send()
        .await
        .expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.text().await.unwrap_or_default();
    Page {
        status,
        headers,
        body,
    }
}

fn initial(env: &Env) -> String {
    format!(
        "{}/v1.0/me/calendarView/delta?startdatetime=2016-12-01T00:00:00Z&enddatetime=2016-12-30T00:00:00Z",
        env.sim.url()
    )
}

async fn create(env: &Env, event: Value) -> String {
    let (status, body) = env.control(Method::POST, "/sim/events", Some(event)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn sample_calendar(env: &Env) -> Vec<String> {
    let mut ids = Vec::new();
    for (s, a, b) in [
        (
            "Plan shopping list",
            "2016-12-09T20:30:00.0000000",
            "2016-12-09T22:00:00.0000000",
        ),
        (
            "Pick up car",
            "2016-12-10T01:00:00.0000000",
            "2016-12-10T02:00:00.0000000",
        ),
        (
            "Get food",
            "2016-12-10T19:30:00.0000000",
            "2016-12-10T21:30:00.0000000",
        ),
        (
            "Prepare food",
            "2016-12-10T22:00:00.0000000",
            "2016-12-11T00:00:00.0000000",
        ),
        (
            "Rest!",
            "2016-12-12T02:00:00.0000000",
            "2016-12-12T07:30:00.0000000",
        ),
    ] {
        ids.push(create(env, sample_event(s, a, b)).await);
    }
    ids
}

#[tokio::test]
async fn reproduces_the_documented_exchange() {
    let env = Env::start(EnvOptions {
        events: 0,
        ..Default::default()
    })
    .await;
    env.control(
        Method::POST,
        "/sim/settings",
        Some(json!({"mode": "documented"})),
    )
    .await;
    let ids = sample_calendar(&env).await;
    let token = access_token(&env);
    let prefer = "odata.maxpagesize=2";

    let p1 = get(&env, &initial(&env), &token, prefer).await;
    assert_eq!(p1.status, StatusCode::OK);
    assert_eq!(
        p1.headers["preference-applied"].to_str().unwrap(),
        "odata.maxpagesize=2, odata.track-changes"
    );
    assert_eq!(p1.subjects(), ["Plan shopping list", "Pick up car"]);
    assert!(p1.link("@odata.deltaLink").is_none());
    let next = p1.link("@odata.nextLink").unwrap();
    assert!(
        next.contains("/v1.0/me/calendarView/delta?$skiptoken="),
        "{next}"
    );

    let p2 = get(&env, &next, &token, prefer).await;
    assert_eq!(p2.subjects(), ["Get food", "Prepare food"]);
    let p3 = get(&env, &p2.link("@odata.nextLink").unwrap(), &token, prefer).await;
    assert_eq!(p3.subjects(), ["Rest!"]);
    assert!(p3.link("@odata.nextLink").is_none());
    let delta = p3.link("@odata.deltaLink").unwrap();
    assert!(delta.contains("$deltatoken="), "{delta}");
    let first = &p1.json()["value"][0];
    assert_eq!(
        first["start"],
        json!({"dateTime": "2016-12-09T20:30:00.0000000", "timeZone": "UTC"})
    );
    assert!(first["@odata.etag"].as_str().unwrap().starts_with("W/\""));
    assert_eq!(first["organizer"]["emailAddress"]["name"], "Samantha Booth");

    // The next round returns only what changed: a removal and an addition.
    let (status, _) = env
        .control(Method::DELETE, &format!("/sim/events/{}", ids[1]), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let added = create(
        &env,
        sample_event(
            "Attend service",
            "2016-12-25T06:00:00.0000000",
            "2016-12-25T07:30:00.0000000",
        ),
    )
    .await;
    // Outside the window: not reported.
    create(
        &env,
        sample_event("Next year", "2017-06-01T06:00:00", "2017-06-01T07:00:00"),
    )
    .await;
    let round2 = get(&env, &delta, &token, prefer).await;
    let v = round2.json();
    let items = v["value"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", round2.body);
    assert_eq!(
        items[0],
        json!({"@odata.type": "#microsoft.graph.event", "id": ids[1], "@removed": {"reason": "deleted"}})
    );
    assert_eq!(items[1]["id"], added.as_str());
    assert_eq!(items[1]["subject"], "Attend service");
    assert!(round2.link("@odata.deltaLink").is_some());

    // Nothing changed since: an empty page with a delta link.
    let round3 = get(
        &env,
        &round2.link("@odata.deltaLink").unwrap(),
        &token,
        prefer,
    )
    .await;
    assert_eq!(round3.json()["value"], json!([]));
}

#[tokio::test]
async fn time_zone_preference_is_honoured() {
    let env = Env::start(EnvOptions {
        events: 0,
        ..Default::default()
    })
    .await;
    sample_calendar(&env).await;
    let token = access_token(&env);
    let page = get(
        &env,
        &initial(&env),
        &token,
        "odata.maxpagesize=1, outlook.timezone=\"Pacific Standard Time\"",
    )
    .await;
    assert_eq!(
        page.json()["value"][0]["start"],
        json!({"dateTime": "2016-12-09T12:30:00.0000000", "timeZone": "Pacific Standard Time"})
    );
    let default = get(&env, &initial(&env), &token, "").await;
    assert_eq!(
        default.json()["value"].as_array().unwrap().len(),
        5,
        "default page size is 10"
    );
}

#[tokio::test]
async fn state_tokens_are_opaque_and_checked() {
    let env = Env::start(EnvOptions {
        events: 0,
        ..Default::default()
    })
    .await;
    sample_calendar(&env).await;
    let token = access_token(&env);
    let p1 = get(&env, &initial(&env), &token, "odata.maxpagesize=2").await;
    let next = p1.link("@odata.nextLink").unwrap();
    let skip = next.split("$skiptoken=").nth(1).unwrap().to_owned();
    assert_eq!(skip.len(), 43);
    assert!(
        skip.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    for leak in ["2016", "default", "12-01", "skip", "pos"] {
        assert!(!skip.contains(leak), "token reveals {leak}: {skip}");
    }
    // Tampered: one character changed -> unknown sync state (410).
    let last = skip.chars().last().unwrap();
    let tampered = format!("{}{}", &skip[..42], if last == 'A' { 'B' } else { 'A' });
    let r = get(&env, &next.replace(&skip, &tampered), &token, "").await;
    assert_eq!(r.status, StatusCode::GONE);
    assert_eq!(r.json()["error"]["code"], "SyncStateNotFound");
    assert!(r.json()["error"]["innerError"]["request-id"].is_string());
    // Garbage -> 400.
    let r = get(&env, &next.replace(&skip, "not-a-token"), &token, "").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["code"], "ErrorInvalidParameter");
    // A token is bound to its calendar view.
    let other = next.replace("/me/calendarView/", "/me/calendars/AAMkOther/calendarView/");
    assert_eq!(
        get(&env, &other, &token, "").await.status,
        StatusCode::NOT_FOUND
    );
    // No window on an initial request -> 400.
    let bare = format!("{}/v1.0/me/calendarView/delta", env.sim.url());
    assert_eq!(
        get(&env, &bare, &token, "").await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn every_fault_kind() {
    let env = Env::start(EnvOptions {
        events: 0,
        ..Default::default()
    })
    .await;
    sample_calendar(&env).await;
    let token = access_token(&env);
    let url = initial(&env);
    let ok = |p: &Page| p.status == StatusCode::OK && p.json()["value"].is_array();

    env.fault(json!({"status": 429, "retry_after": 7, "count": 2}))
        .await;
    for _ in 0..2 {
        let p = get(&env, &url, &token, "").await;
        assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(p.headers["retry-after"], "7");
        assert_eq!(p.json()["error"]["code"], "TooManyRequests");
    }
    assert!(ok(&get(&env, &url, &token, "").await));
    // Graph's Retry-After can be fractional.
    env.fault(json!({"status": 429, "retry_after": 2.128}))
        .await;
    let p = get(&env, &url, &token, "").await;
    assert_eq!(p.headers["retry-after"], "2.128");
    // Unknown paths answer with Graph's JSON error body too.
    for (path, status) in [("/v1.0/me/calendarViewz/delta", 400), ("/nowhere", 404)] {
        let p = get(&env, &format!("{}{path}", env.sim.url()), &token, "").await;
        assert_eq!(p.status.as_u16(), status, "{path}");
        assert!(p.json()["error"]["code"].is_string(), "{path}");
    }

    for (status, code) in [
        (503, "ServiceNotAvailable"),
        (401, "InvalidAuthenticationToken"),
        (504, "GatewayTimeout"),
    ] {
        env.fault(json!({"status": status})).await;
        let p = get(&env, &url, &token, "").await;
        assert_eq!(p.status.as_u16(), status);
        assert_eq!(p.json()["error"]["code"], code);
    }

    env.fault(json!({"kind": "drop"})).await;
    let resp = env.http.get(&url).bearer_auth(&token).send().await;
    let broke = match resp {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(broke, "a dropped connection must not deliver a body");

    env.fault(json!({"kind": "truncate"})).await;
    let p = get(&env, &url, &token, "").await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(
        serde_json::from_str::<Value>(&p.body).is_err(),
        "truncated body parsed: {}",
        p.body
    );
    assert!(p.body.starts_with("{\"@odata.context\""));

    env.fault(json!({"kind": "malformed"})).await;
    let p = get(&env, &url, &token, "").await;
    assert!(serde_json::from_str::<Value>(&p.body).is_err());

    env.fault(json!({"kind": "slow", "delay_ms": 300})).await;
    let t = Instant::now();
    assert!(ok(&get(&env, &url, &token, "").await));
    assert!(t.elapsed().as_millis() >= 300);

    env.fault(json!({"kind": "empty"})).await;
    let p = get(&env, &url, &token, "odata.maxpagesize=2").await;
    assert_eq!(p.json()["value"], json!([]));
    let p = get(
        &env,
        &p.link("@odata.nextLink").unwrap(),
        &token,
        "odata.maxpagesize=2",
    )
    .await;
    assert_eq!(p.subjects(), ["Plan shopping list", "Pick up car"]);

    env.fault(json!({"kind": "foreign_link", "target": "http://127.0.0.1:9"}))
        .await;
    let p = get(&env, &url, &token, "odata.maxpagesize=2").await;
    assert!(
        p.link("@odata.nextLink")
            .unwrap()
            .starts_with("http://127.0.0.1:9/v1.0/")
    );

    let (status, _) = env
        .control(
            Method::POST,
            "/sim/faults",
            Some(json!({"kind": "gremlins"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    env.fault(json!({"status": 503, "count": 5})).await;
    let (status, _) = env.control(Method::DELETE, "/sim/faults", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(ok(&get(&env, &url, &token, "").await));
}

#[tokio::test]
async fn control_endpoints() {
    let env = Env::start(EnvOptions {
        events: 0,
        calendars: 2,
        ..Default::default()
    })
    .await;
    let ids = sample_calendar(&env).await;
    let token = access_token(&env);

    // Calendars and the signed-in user.
    let p = get(
        &env,
        &format!("{}/v1.0/me/calendars", env.sim.url()),
        &token,
        "",
    )
    .await;
    assert_eq!(p.json()["value"].as_array().unwrap().len(), 2);
    let p = get(&env, &format!("{}/v1.0/me", env.sim.url()), &token, "").await;
    assert_eq!(p.json()["displayName"], "Samantha Booth");

    // Update and truth.
    let (status, body) = env
        .control(
            Method::PATCH,
            &format!("/sim/events/{}", ids[0]),
            Some(json!({"subject": "Renamed"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let truth: Vec<Value> = serde_json::from_str(
        &env.control(
            Method::GET,
            "/sim/events?start=2016-12-01T00:00:00Z&end=2016-12-30T00:00:00Z",
            None,
        )
        .await
        .1,
    )
    .unwrap();
    assert_eq!(truth.len(), 5);
    assert!(truth.iter().any(|e| e["subject"] == "Renamed"));
    assert_eq!(
        env.control(Method::PATCH, "/sim/events/nope", Some(json!({})))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        env.control(Method::DELETE, "/sim/events/nope", None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        env.control(
            Method::POST,
            "/sim/events",
            Some(json!({"subject": "no times"}))
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    // Events go into the calendar asked for.
    let second = env.sim.handle().calendar_id(1).unwrap();
    let (status, _) = env
        .control(
            Method::POST,
            &format!("/sim/events?calendar={}", common::urlencode(&second)),
            Some(sample_event(
                "Other",
                "2016-12-05T10:00:00",
                "2016-12-05T11:00:00",
            )),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    // Churn changes the calendar.
    let before = env.sim.handle().seq();
    let (status, body) = env
        .control(Method::POST, "/sim/churn?count=20&seed=4", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["applied"], 20);
    assert!(env.sim.handle().seq() >= before + 20);

    // Expired sync state: every outstanding token answers 410.
    let p = get(&env, &initial(&env), &token, "odata.maxpagesize=2").await;
    let next = p.link("@odata.nextLink").unwrap();
    assert_eq!(
        env.control(Method::POST, "/sim/expire-sync-state", None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let gone = get(&env, &next, &token, "").await;
    assert_eq!(gone.status, StatusCode::GONE);
    assert!(
        gone.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("generation=")
    );

    // Revoked access tokens answer 401; refresh tokens still work.
    assert_eq!(
        env.control(Method::POST, "/sim/revoke-access-tokens", None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        get(&env, &initial(&env), &token, "").await.status,
        StatusCode::UNAUTHORIZED
    );

    // Device flow through the control API: approve and decline.
    let form = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", common::urlencode(v)))
            .collect::<Vec<_>>()
            .join("&")
    };
    let post_form = |path: String, body: String| {
        let http = env.http.clone();
        async move {
            let r = http
                .post(path)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let base = env.sim.url();
    for approve in [true, false] {
        let (_, body) = post_form(
            format!("{base}/common/oauth2/v2.0/devicecode"),
            form(&[
                ("client_id", "c"),
                ("scope", "offline_access Calendars.Read"),
            ]),
        )
        .await;
        let dc: Value = serde_json::from_str(&body).unwrap();
        let poll = form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", "c"),
            ("device_code", dc["device_code"].as_str().unwrap()),
        ]);
        let (status, body) =
            post_form(format!("{base}/common/oauth2/v2.0/token"), poll.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap()["error"],
            "authorization_pending"
        );
        let action = if approve { "approve" } else { "decline" };
        let (status, _) = post_form(
            format!("{base}/sim/{action}"),
            form(&[("user_code", dc["user_code"].as_str().unwrap())]),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        // Respect the 1 s interval so the answer is not slow_down.
        tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
        let (status, body) = post_form(format!("{base}/common/oauth2/v2.0/token"), poll).await;
        let answer: Value = serde_json::from_str(&body).unwrap();
        if approve {
            assert_eq!(status, StatusCode::OK, "{body}");
            let refresh = answer["refresh_token"].as_str().unwrap();
            let (status, body) = post_form(
                format!("{base}/common/oauth2/v2.0/token"),
                form(&[
                    ("grant_type", "refresh_token"),
                    ("client_id", "c"),
                    ("refresh_token", refresh),
                ]),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let fresh: Value = serde_json::from_str(&body).unwrap();
            assert_ne!(
                fresh["refresh_token"].as_str().unwrap(),
                refresh,
                "refresh tokens rotate"
            );
            let p = get(
                &env,
                &initial(&env),
                fresh["access_token"].as_str().unwrap(),
                "",
            )
            .await;
            assert_eq!(p.status, StatusCode::OK);
        } else {
            assert_eq!(answer["error"], "authorization_declined");
        }
    }
    assert_eq!(
        post_form(
            format!("{base}/sim/approve"),
            form(&[("user_code", "NOPE")])
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_full_round_over_ten_thousand_events_returns_each_id_once() {
    let env = Env::start(EnvOptions {
        events: 10_000,
        ..Default::default()
    })
    .await;
    let token = access_token(&env);
    let w = env.window();
    let fmt =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut url = format!(
        "{}/v1.0/me/calendarView/delta?startDateTime={}&endDateTime={}",
        env.sim.url(),
        fmt(w.start),
        fmt(w.end)
    );
    let mut seen = HashSet::new();
    let mut masters = 0;
    let mut pages = 0;
    let started = Instant::now();
    loop {
        let p = get(&env, &url, &token, "odata.maxpagesize=100").await;
        assert_eq!(p.status, StatusCode::OK);
        pages += 1;
        for item in p.json()["value"].as_array().unwrap() {
            // Series masters come too; calendarView does not list them.
            if item["type"] == "seriesMaster" {
                masters += 1;
                continue;
            }
            assert!(
                seen.insert(item["id"].as_str().unwrap().to_owned()),
                "id served twice"
            );
        }
        match p.link("@odata.nextLink") {
            Some(next) => url = next,
            None => break,
        }
    }
    eprintln!(
        "emulator served {} events in {pages} pages in {:?}",
        seen.len(),
        started.elapsed()
    );
    let truth = env.truth("default").await;
    assert!(masters > 100, "{masters} series masters");
    assert_eq!(seen.len(), truth.len());
    assert!(truth.keys().all(|id| seen.contains(id)));
    assert!(
        truth.len() > 9_000,
        "most generated events fall in the window"
    );
}

/// The exchange as Microsoft 365 really answers it (the default mode): series masters in the
/// delta, occurrence stubs, series never split across pages, no trace of a deleted occurrence,
/// `@removed` noise for events outside the window, the URL forms clients send, and the event
/// and instances endpoints a client completes stubs with.
#[tokio::test]
async fn answers_as_microsoft_365_does() {
    let env = Env::start(EnvOptions {
        events: 0,
        ..Default::default()
    })
    .await;
    let token = access_token(&env);
    let weekly: Vec<Value> = (0..6)
        .map(|w| {
            let day =
                chrono::NaiveDate::from_ymd_opt(2016, 12, 1).unwrap() + chrono::Duration::weeks(w);
            sample_event(
                "Weekly sync",
                &format!("{day}T09:00:00"),
                &format!("{day}T09:30:00"),
            )
        })
        .collect();
    // Six weeks from 1 Dec: five instances fall in the window (1 Dec .. 30 Dec).
    let master = env
        .sim
        .handle()
        .with_mailbox(|m| {
            m.create_series(
                "default",
                sample_event("Weekly sync", "2016-12-01T09:00:00", "2016-12-01T09:30:00"),
                weekly,
            )
        })
        .unwrap();
    create(
        &env,
        sample_event("Dentist", "2016-12-02T15:00:00", "2016-12-02T16:00:00"),
    )
    .await;
    let prefer = "odata.maxpagesize=2";

    // The page size is a hint: the first page holds the whole series.
    let p1 = get(&env, &initial(&env), &token, prefer).await;
    let items = p1.json()["value"].as_array().unwrap().clone();
    assert_eq!(items.len(), 6, "{}", p1.body);
    assert_eq!(items[0]["id"], master.as_str());
    assert_eq!(items[0]["type"], "seriesMaster");
    assert_eq!(items[0]["subject"], "Weekly sync");
    for stub in &items[1..] {
        assert_eq!(stub["type"], "occurrence");
        assert_eq!(stub["seriesMasterId"], master.as_str());
        let keys: Vec<&str> = stub
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(
            keys.len(),
            7,
            "only @odata.type, @odata.etag, id, seriesMasterId, type, start, end: {keys:?}"
        );
    }
    let p2 = get(&env, &p1.link("@odata.nextLink").unwrap(), &token, prefer).await;
    assert_eq!(p2.subjects(), ["Dentist"]);
    let delta = p2.link("@odata.deltaLink").unwrap();

    // The master and the instances, full, from their own endpoints.
    let m = get(
        &env,
        &format!("{}/v1.0/me/events/{master}", env.sim.url()),
        &token,
        "",
    )
    .await;
    assert_eq!(m.json()["subject"], "Weekly sync");
    let instances_url = format!(
        "{}/v1.0/me/events/{master}/instances?startDateTime=2016-12-01T00:00:00Z&endDateTime=2016-12-30T00:00:00Z",
        env.sim.url()
    );
    let i1 = get(&env, &instances_url, &token, prefer).await;
    assert_eq!(i1.subjects(), ["Weekly sync", "Weekly sync"]);
    let i2 = get(&env, &i1.link("@odata.nextLink").unwrap(), &token, prefer).await;
    let i3 = get(&env, &i2.link("@odata.nextLink").unwrap(), &token, prefer).await;
    assert_eq!(i3.subjects().len(), 1);
    assert!(i3.link("@odata.nextLink").is_none());
    let missing = get(
        &env,
        &format!("{}/v1.0/me/events/AAMkNone=", env.sim.url()),
        &token,
        "",
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // JSON batching: each read with its own status; more than twenty are refused.
    let batch = |n: usize| {
        let mut requests = vec![
            json!({"id": "1", "method": "GET", "url": format!("/me/events/{master}")}),
            json!({"id": "2", "method": "GET", "url": "/me/events/AAMkNone%3D"}),
        ];
        requests.extend((3..=n).map(|i| json!({"id": i.to_string(), "method": "GET", "url": format!("/me/events/{master}")})));
        json!({ "requests": requests })
    };
    let post_batch = |n: usize| {
        env.http
            .post(format!("{}/v1.0/$batch", env.sim.url()))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(batch(n).to_string())
            .send()
    };
    let answer = post_batch(2).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let answer: Value = serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap();
    assert_eq!(answer["responses"][0]["status"], 200);
    assert_eq!(answer["responses"][0]["body"]["subject"], "Weekly sync");
    assert_eq!(answer["responses"][1]["id"], "2");
    assert_eq!(answer["responses"][1]["status"], 404);
    let too_many = post_batch(21).await.unwrap();
    assert_eq!(too_many.status(), StatusCode::BAD_REQUEST);

    // An occurrence deleted: no @removed for it; the master comes again. An event added far
    // outside the window comes as @removed, though the client never saw it.
    let occurrence = items[2]["id"].as_str().unwrap().to_owned();
    let (status, _) = env
        .control(Method::DELETE, &format!("/sim/events/{occurrence}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let far = create(
        &env,
        sample_event("Next year", "2017-06-01T06:00:00", "2017-06-01T07:00:00"),
    )
    .await;
    let mut round2 = get(&env, &delta, &token, prefer).await;
    let mut items2: Vec<Value> = Vec::new();
    loop {
        items2.extend(round2.json()["value"].as_array().unwrap().iter().cloned());
        match round2.link("@odata.nextLink") {
            Some(next) => round2 = get(&env, &next, &token, prefer).await,
            None => break,
        }
    }
    let ids: Vec<&str> = items2.iter().map(|i| i["id"].as_str().unwrap()).collect();
    // The master with the four instances left in the window, then the noise.
    assert_eq!(ids.len(), 6, "{ids:?}");
    assert_eq!(ids[0], master.as_str());
    assert!(
        !ids.contains(&occurrence.as_str()),
        "no trace of the deleted one"
    );
    assert!(items2[1..5].iter().all(|i| i["type"] == "occurrence"));
    assert_eq!(ids[5], far.as_str());
    assert!(items2[5]["@removed"].is_object());

    // A deleted series: @removed for its master.
    env.control(Method::DELETE, &format!("/sim/events/{master}"), None)
        .await;
    let round3 = get(
        &env,
        &round2.link("@odata.deltaLink").unwrap(),
        &token,
        prefer,
    )
    .await;
    let v = round3.json();
    assert_eq!(v["value"].as_array().unwrap().len(), 1, "{}", round3.body);
    assert_eq!(v["value"][0]["id"], master.as_str());
    assert!(v["value"][0]["@removed"].is_object());

    // The URL forms clients send.
    let window = "startDateTime=2016-12-01T00:00:00Z&endDateTime=2016-12-30T00:00:00Z";
    for path in [
        "/v1.0/me/calendarview/delta",
        "/v1.0/me/calendarView/delta()",
        "/v1.0/me/calendar/calendarView/delta",
        "/v1.0/users/sim-user-1/calendarView/delta",
    ] {
        let p = get(
            &env,
            &format!("{}{path}?{window}", env.sim.url()),
            &token,
            "",
        )
        .await;
        assert_eq!(p.status, StatusCode::OK, "{path}: {}", p.body);
        assert_eq!(p.subjects(), ["Dentist"], "{path}");
    }
}
