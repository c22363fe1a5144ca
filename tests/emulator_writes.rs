//! The emulator's write routes over real HTTP on loopback, against graph-delta.md section 8:
//! every error of the section as fixed JSON (status, code, message), transactionId dedupe, the
//! write faults, If-Match, and writes echoed in the next delta round.

#![allow(clippy::unwrap_used)]
#![cfg(feature = "emulator")]

mod common;

use common::{Env, EnvOptions};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A Graph request with the bearer `token`: its status and its body (JSON, or null).
async fn call(
    env: &Env,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    if_match: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = env
        .http
        .request(method, format!("{}/v1.0{path}", env.sim.url()))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request
            .header("Content-Type", "application/json")
            .body(body.to_string());
    }
    if let Some(etag) = if_match {
        request = request.header("If-Match", etag);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn get_json(env: &Env, url: &str, token: &str) -> Value {
    let text = env
        .http
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn writer(env: &Env) -> String {
    env.sim.handle().issue_write_tokens()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn reader(env: &Env) -> String {
    env.sim.handle().issue_tokens()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn event(subject: &str) -> Value {
    json!({
        "subject": subject,
        "start": {"dateTime": "2016-12-09T10:00:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2016-12-09T11:00:00", "timeZone": "Europe/Berlin"},
    })
}

/// The error's status, code and message, as a test compares them.
fn error(status: StatusCode, body: &Value) -> (u16, String, String) {
    (
        status.as_u16(),
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

fn fixed(status: u16, code: &str, message: &str) -> (u16, String, String) {
    (status, code.to_owned(), message.to_owned())
}

/// An invitation of the generated calendar that waits for the user's answer.
async fn invitation(env: &Env) -> Value {
    env.server_events()
        .await
        .into_iter()
        .find(|e| {
            e["isOrganizer"] == json!(false)
                && e["responseStatus"]["response"] == json!("notResponded")
                && e["type"] == json!("singleInstance")
        })
        .expect("the generated calendar has invitations waiting for an answer")
}

async fn mine(env: &Env, token: &str) -> Value {
    let (status, made) = call(
        env,
        token,
        Method::POST,
        "/me/events",
        Some(event("Mine")),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    made
}

#[tokio::test]
async fn section_8_errors_answer_as_graph_does() {
    let env = Env::start(EnvOptions {
        events: 300,
        calendars: 3,
        ..Default::default()
    })
    .await;
    let token = writer(&env);
    // No write scope.
    let (status, body) = call(
        &env,
        &reader(&env),
        Method::POST,
        "/me/events",
        Some(event("x")),
        None,
    )
    .await;
    assert_eq!(
        error(status, &body),
        fixed(
            403,
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again."
        )
    );
    // An unknown zone.
    let mut bad = event("x");
    bad["start"]["timeZone"] = json!("Mars/Olympus");
    let (status, body) = call(&env, &token, Method::POST, "/me/events", Some(bad), None).await;
    assert_eq!(
        error(status, &body),
        fixed(
            400,
            "TimeZoneNotSupportedException",
            "A valid TimeZone value must be specified. The following TimeZone value is not supported: 'Mars/Olympus'."
        )
    );
    // A transactionId used for another event.
    let mut first = event("Standup");
    first["transactionId"] = json!("6d3f7c2a-0d3e-4f00-9a3e-1b2c3d4e5f60");
    let (status, _) = call(
        &env,
        &token,
        Method::POST,
        "/me/events",
        Some(first.clone()),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let mut other = first.clone();
    other["subject"] = json!("Another");
    let (status, body) = call(&env, &token, Method::POST, "/me/events", Some(other), None).await;
    assert_eq!(
        error(status, &body),
        fixed(
            400,
            "ErrorDuplicateTransactionId",
            "Your request can't be completed. The transactionId has already been used to create a different event."
        )
    );
    // The organizer answering their own meeting; a comment or a proposal without sending.
    let own = mine(&env, &token).await;
    let own_id = own["id"].as_str().unwrap();
    let (status, body) = call(
        &env,
        &token,
        Method::POST,
        &format!("/me/events/{own_id}/accept"),
        Some(json!({"sendResponse": true})),
        None,
    )
    .await;
    assert_eq!(
        error(status, &body),
        fixed(
            400,
            "ErrorInvalidRequest",
            "Your request can't be completed. You can't respond to this meeting because you're the meeting organizer."
        )
    );
    let invite = invitation(&env).await;
    let invite_id = invite["id"].as_str().unwrap();
    let (status, body) = call(
        &env,
        &token,
        Method::POST,
        &format!("/me/events/{invite_id}/decline"),
        Some(json!({"comment": "", "sendResponse": false})),
        None,
    )
    .await;
    assert_eq!(
        error(status, &body),
        fixed(
            400,
            "ErrorInvalidParameter",
            "'SendResponse' must be true when 'Comment' is not null"
        )
    );
    let proposal = json!({"start": {"dateTime": "2016-12-09T12:00:00", "timeZone": "UTC"}, "end": {"dateTime": "2016-12-09T13:00:00", "timeZone": "UTC"}});
    let (status, body) = call(
        &env,
        &token,
        Method::POST,
        &format!("/me/events/{invite_id}/tentativelyAccept"),
        Some(json!({"proposedNewTime": proposal, "sendResponse": false})),
        None,
    )
    .await;
    assert_eq!(
        error(status, &body),
        fixed(
            400,
            "ErrorInvalidParameter",
            "'SendResponse' must be true when 'ProposedNewTime' is not null"
        )
    );
    // Cancel is the organizer's.
    let (status, body) = call(
        &env,
        &token,
        Method::POST,
        &format!("/me/events/{invite_id}/cancel"),
        Some(json!({"comment": "no"})),
        None,
    )
    .await;
    assert_eq!(
        error(status, &body),
        fixed(
            400,
            "ErrorInvalidRequest",
            "Your request can't be completed. You need to be an organizer to cancel a meeting."
        )
    );
    // A stale If-Match.
    let etag = own["@odata.etag"].as_str().unwrap().to_owned();
    let (status, _) = call(
        &env,
        &token,
        Method::PATCH,
        &format!("/me/events/{own_id}"),
        Some(json!({"subject": "Renamed"})),
        Some(&etag),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(
        &env,
        &token,
        Method::PATCH,
        &format!("/me/events/{own_id}"),
        Some(json!({"subject": "Over it"})),
        Some(&etag),
    )
    .await;
    assert_eq!(
        error(status, &body),
        fixed(
            412,
            "ErrorIrresolvableConflict",
            "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item."
        )
    );
    // Delete: 204, then 404.
    let (status, _) = call(
        &env,
        &token,
        Method::DELETE,
        &format!("/me/events/{own_id}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = call(
        &env,
        &token,
        Method::DELETE,
        &format!("/me/events/{own_id}"),
        None,
        None,
    )
    .await;
    assert_eq!(
        error(status, &body),
        fixed(
            404,
            "ErrorItemNotFound",
            "The specified object was not found in the store."
        )
    );
}

#[tokio::test]
async fn a_retried_create_never_makes_a_second_event() {
    let env = Env::start(EnvOptions::default()).await;
    let token = writer(&env);
    let mut body = event("Design review");
    body["transactionId"] = json!("5e0b0c56-1111-4222-8333-944455556666");
    // The answer is lost after the event was made; then a 503 after it was made again.
    env.control(
        Method::POST,
        "/sim/faults",
        Some(json!({"kind": "lost_response"})),
    )
    .await;
    let lost = env
        .http
        .post(format!("{}/v1.0/me/events", env.sim.url()))
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await;
    let read = match lost {
        Ok(response) => response.text().await.is_ok(),
        Err(_) => false,
    };
    assert!(!read, "the answer was cut off");
    env.control(
        Method::POST,
        "/sim/faults",
        Some(json!({"status": 503, "code": "ConcurrentItemSave", "after_apply": true})),
    )
    .await;
    let (status, answer) = call(
        &env,
        &token,
        Method::POST,
        "/me/events",
        Some(body.clone()),
        None,
    )
    .await;
    assert_eq!(
        error(status, &answer),
        fixed(
            503,
            "ConcurrentItemSave",
            "Conflicts occurred during saving data to store. Please try again later."
        )
    );
    let (status, made) = call(
        &env,
        &token,
        Method::POST,
        "/me/events",
        Some(body.clone()),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["transactionId"], body["transactionId"]);
    let copies = env
        .server_events()
        .await
        .iter()
        .filter(|e| e["subject"] == json!("Design review"))
        .count();
    assert_eq!(copies, 1, "three tries, one event");
    // The emulator saw every try.
    let (_, requests) = env.control(Method::GET, "/sim/requests", None).await;
    let requests: Value = serde_json::from_str(&requests).unwrap();
    let posts = requests["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == "POST" && r["path"] == "/v1.0/me/events")
        .count();
    assert_eq!(posts, 3);
}

#[tokio::test]
async fn answers_and_changes_come_back_in_the_next_round() {
    let env = Env::start(EnvOptions {
        events: 300,
        calendars: 3,
        ..Default::default()
    })
    .await;
    let token = writer(&env);
    let url = format!(
        "{}/v1.0/me/calendarView/delta?startdatetime=2000-01-01T00:00:00Z&enddatetime=2100-01-01T00:00:00Z",
        env.sim.url()
    );
    // A full round, to its delta link.
    let (_, delta) = round(&env, &url, &token).await;
    let invite = invitation(&env).await;
    let id = invite["id"].as_str().unwrap();
    let (status, body) = call(
        &env,
        &token,
        Method::POST,
        &format!("/me/events/{id}/accept"),
        Some(json!({"comment": "See you there", "sendResponse": true})),
        Some(invite["@odata.etag"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body, Value::Null, "202 has no body");
    let page = get_json(&env, &delta, &token).await;
    let echoed = page["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == json!(id))
        .expect("the answer comes back in the next round")
        .clone();
    assert_eq!(echoed["responseStatus"]["response"], "accepted");
    assert_ne!(echoed["changeKey"], invite["changeKey"]);
    // A Teams meeting where the calendar allows none is made without one, silently.
    let third = env.sim.handle().calendar_id(2).unwrap();
    let mut teams = event("Sync");
    teams["isOnlineMeeting"] = json!(true);
    teams["onlineMeetingProvider"] = json!("teamsForBusiness");
    let (status, made) = call(
        &env,
        &token,
        Method::POST,
        &format!("/me/calendars/{third}/events"),
        Some(teams.clone()),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(made["onlineMeeting"], Value::Null);
    assert_eq!(made["isOnlineMeeting"], json!(false));
    let (_, made) = call(&env, &token, Method::POST, "/me/events", Some(teams), None).await;
    assert!(
        made["onlineMeeting"]["joinUrl"]
            .as_str()
            .unwrap()
            .starts_with("https://teams.microsoft.com/")
    );
    // A PATCH on an occurrence makes it an exception; only the fields sent change.
    let occurrence = env
        .server_events()
        .await
        .into_iter()
        .find(|e| e["type"] == json!("occurrence"))
        .expect("the generated calendar has series");
    let oid = occurrence["id"].as_str().unwrap();
    let (status, changed) = call(
        &env,
        &token,
        Method::PATCH,
        &format!("/me/events/{oid}"),
        Some(json!({"subject": "Moved to the lab"})),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(changed["type"], "exception");
    assert_eq!(changed["id"], occurrence["id"], "the id is kept");
    assert_eq!(changed["start"], occurrence["start"]);
    // A 412 with no cause changes nothing.
    env.control(Method::POST, "/sim/faults", Some(json!({"status": 412})))
        .await;
    let (status, _) = call(
        &env,
        &token,
        Method::PATCH,
        &format!("/me/events/{oid}"),
        Some(json!({"subject": "Not this"})),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    assert!(
        env.server_events()
            .await
            .iter()
            .all(|e| e["subject"] != json!("Not this"))
    );
}

/// Follows a delta link to the end of its round: the ids it brought, and the next delta link.
async fn round(env: &Env, link: &str, token: &str) -> (Vec<String>, String) {
    let mut ids = Vec::new();
    let mut next = link.to_owned();
    loop {
        let page = get_json(env, &next, token).await;
        ids.extend(
            page["value"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|e| e["id"].as_str().map(str::to_owned)),
        );
        match page["@odata.nextLink"].as_str() {
            Some(link) => next = link.to_owned(),
            None => return (ids, page["@odata.deltaLink"].as_str().unwrap().to_owned()),
        }
    }
}

#[tokio::test]
async fn in_the_realistic_mode_an_echo_comes_late_or_twice() {
    let env = Env::start(EnvOptions {
        events: 20,
        ..Default::default()
    })
    .await;
    let token = writer(&env);
    let start = format!(
        "{}/v1.0/me/calendarView/delta?startdatetime=2000-01-01T00:00:00Z&enddatetime=2100-01-01T00:00:00Z",
        env.sim.url()
    );
    let (_, mut link) = round(&env, &start, &token).await;
    // Writes one at a time, each followed by two rounds: the third's echo comes only in the
    // second round, the fourth's in both; the others in the first alone.
    for n in 1..=4 {
        let (status, made) = call(
            &env,
            &token,
            Method::POST,
            "/me/events",
            Some(event(&format!("Echo {n}"))),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        let id = made["id"].as_str().unwrap().to_owned();
        let (first, next) = round(&env, &link, &token).await;
        let (second, next) = round(&env, &next, &token).await;
        link = next;
        let seen = (first.contains(&id), second.contains(&id));
        let expected = match n {
            3 => (false, true),
            4 => (true, true),
            _ => (true, false),
        };
        assert_eq!(seen, expected, "write {n}");
    }
}
