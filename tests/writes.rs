//! The write commands against the emulator, as a user runs them: each change applied once and
//! back in the cache, what Graph would refuse refused before any request, someone else's change
//! never written over, and a change that cannot be sent now kept and sent by the next sync.

#![allow(clippy::unwrap_used)]
#![cfg(feature = "emulator")]

mod common;

use std::process::{Command, Output, Stdio};

use common::{Env, EnvOptions, bin};
use reqwest::Method;
use serde_json::{Value, json};

fn run(env: &Env, args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env("DELTACAL_CONFIG", env.config_path())
        .env("DELTACAL_DATA_DIR", env.data_dir())
        .stdin(Stdio::null())
        .output()
        .expect("binary runs")
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

async fn started() -> Env {
    let env = Env::start(EnvOptions {
        events: 300,
        ..Default::default()
    })
    .await;
    env.sign_in_writer();
    let out = run(&env, &["sync"]);
    assert_eq!(code(&out), 0, "{}", said(&out));
    env
}

/// The agenda's events over the whole generated calendar.
fn agenda(env: &Env) -> Vec<Value> {
    let out = run(
        env,
        &["agenda", "--json", "--from", "-60d", "--to", "+120d"],
    );
    assert_eq!(code(&out), 0, "{}", said(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn requests(env: &Env) -> Vec<Value> {
    let (_, body) = env.control(Method::GET, "/sim/requests", None).await;
    serde_json::from_str::<Value>(&body).unwrap()["requests"]
        .as_array()
        .unwrap()
        .clone()
}

fn writes(requests: &[Value]) -> Vec<&Value> {
    requests.iter().filter(|r| r["method"] != "GET").collect()
}

fn find(events: &[Value], f: impl Fn(&Value) -> bool) -> &Value {
    events.iter().find(|e| f(e)).expect("such an event")
}

fn own_single(e: &Value) -> bool {
    e["is_organizer"] == json!(true)
        && e["event_type"] == "singleInstance"
        && e["attendees"].as_array().is_none_or(|a| a.is_empty())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_change_is_applied_once_and_comes_back() {
    let env = started().await;
    let events = agenda(&env);
    // Answer an invitation, with a comment: one `invites` lists.
    let out = run(&env, &["invites", "--json"]);
    assert_eq!(code(&out), 0, "{}", said(&out));
    let invites: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(invites.iter().all(|e| e["is_organizer"] == json!(false)
        && e["cancelled"] == json!(false)
        && (e["response"] == "notResponded" || e["response"] == "none")));
    let invite = find(&invites, |e| e["event_type"] == "singleInstance");
    let id = invite["id"].as_str().unwrap();
    let out = run(&env, &["rsvp", id, "accept", "--comment", "See you there"]);
    assert_eq!(code(&out), 0, "{}", said(&out));
    assert!(said(&out).contains("Accepted"), "{}", said(&out));
    let out = run(&env, &["invites", "--json"]);
    let invites: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(invites.iter().all(|e| e["id"] != json!(id)), "answered");
    let shown = find(&agenda(&env), |e| e["id"] == json!(id)).clone();
    assert_eq!(shown["response"], "accepted");
    assert_eq!(shown["pending"], Value::Null);
    let server = find(&env.server_events().await, |e| e["id"] == json!(id)).clone();
    assert_eq!(server["responseStatus"]["response"], "accepted");
    assert_eq!(
        shown["change_key"], server["changeKey"],
        "the cache has the server's version"
    );
    // Decline another, proposing a new time: the proposal goes in the display zone's name.
    let other = find(&events, |e| {
        e["response"] == "notResponded"
            && e["is_organizer"] == json!(false)
            && e["id"] != json!(id)
            && e["cancelled"] != json!(true)
    });
    let other_id = other["id"].as_str().unwrap();
    let out = run(
        &env,
        &[
            "rsvp",
            other_id,
            "decline",
            "--propose",
            "2030-01-07 10:00..11:30",
        ],
    );
    assert_eq!(code(&out), 0, "{}", said(&out));
    let decline = requests(&env)
        .await
        .into_iter()
        .find(|r| r["path"].as_str().unwrap_or("").ends_with("/decline"))
        .unwrap();
    assert_eq!(
        decline["body"]["proposedNewTime"],
        json!({
            "start": {"dateTime": "2030-01-07T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2030-01-07T11:30:00", "timeZone": "UTC"},
        }),
        "{decline}"
    );
    // Add one.
    let out = run(
        &env,
        &[
            "new",
            "tomorrow",
            "10:00",
            "45m",
            "Standup",
            "@",
            "Room 4",
            "with",
            "alex@contoso.com",
        ],
    );
    assert_eq!(code(&out), 0, "{}", said(&out));
    let made: Vec<Value> = env
        .server_events()
        .await
        .into_iter()
        .filter(|e| e["subject"] == "Standup")
        .collect();
    assert_eq!(made.len(), 1, "one event");
    assert_eq!(made[0]["location"]["displayName"], "Room 4");
    assert_eq!(
        made[0]["attendees"][0]["emailAddress"]["address"],
        "alex@contoso.com"
    );
    let standup = find(&agenda(&env), |e| e["subject"] == "Standup").clone();
    assert_eq!(
        standup["id"], made[0]["id"],
        "the cache has the server's id at once"
    );
    // Move it, and only the times go.
    let sid = standup["id"].as_str().unwrap();
    let out = run(&env, &["edit", sid, "--move", "+30m"]);
    assert_eq!(code(&out), 0, "{}", said(&out));
    let moved = find(&agenda(&env), |e| e["id"] == json!(sid)).clone();
    let start =
        |v: &Value| chrono::DateTime::parse_from_rfc3339(v["start"].as_str().unwrap()).unwrap();
    assert_eq!(
        start(&moved) - start(&standup),
        chrono::Duration::minutes(30)
    );
    let patch = requests(&env)
        .await
        .into_iter()
        .find(|r| r["method"] == "PATCH")
        .unwrap();
    let sent: Vec<&String> = patch["body"].as_object().unwrap().keys().collect();
    assert_eq!(sent, ["end", "start"], "only the fields changed");
    assert!(
        patch["if_match"].as_str().is_some(),
        "based on the version seen: {patch}"
    );
    // Invite Bob, uninvite Alex: the whole list goes, as Graph takes it.
    let out = run(
        &env,
        &[
            "edit",
            sid,
            "--add-attendee",
            "bob@contoso.com",
            "--remove-attendee",
            "alex@contoso.com",
        ],
    );
    assert_eq!(code(&out), 0, "{}", said(&out));
    let server = find(&env.server_events().await, |e| e["id"] == json!(sid)).clone();
    let invited: Vec<&str> = server["attendees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["emailAddress"]["address"].as_str().unwrap())
        .collect();
    assert_eq!(invited, ["bob@contoso.com"]);
    let out = run(
        &env,
        &["edit", sid, "--remove-attendee", "carol@contoso.com"],
    );
    assert_eq!(code(&out), 2, "not invited: {}", said(&out));
    // Delete one of the user's own.
    let own = find(&agenda(&env), own_single)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = run(&env, &["delete", &own]);
    assert_eq!(code(&out), 0, "{}", said(&out));
    assert!(
        env.server_events()
            .await
            .iter()
            .all(|e| e["id"] != json!(own))
    );
    assert!(agenda(&env).iter().all(|e| e["id"] != json!(own)));
    // Nothing waits.
    let out = run(&env, &["outbox", "--json"]);
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        json!([])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_graph_would_refuse_is_refused_before_any_request() {
    let env = started().await;
    let events = agenda(&env);
    let _ = env.control(Method::DELETE, "/sim/requests", None).await;
    let own = find(&events, |e| e["is_organizer"] == json!(true))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = run(&env, &["rsvp", &own, "accept"]);
    assert_eq!(code(&out), 1, "{}", said(&out));
    assert!(said(&out).contains("your own meeting"), "{}", said(&out));
    let invite = find(&events, |e| e["is_organizer"] == json!(false))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = run(
        &env,
        &["rsvp", &invite, "decline", "--comment", "no", "--no-send"],
    );
    assert_eq!(code(&out), 2, "{}", said(&out));
    let out = run(&env, &["edit", &own]);
    assert_eq!(code(&out), 2, "nothing to change: {}", said(&out));
    let out = run(
        &env,
        &[
            "rsvp",
            &invite,
            "accept",
            "--propose",
            "tomorrow 10:00..11:00",
        ],
    );
    assert_eq!(code(&out), 2, "a proposal on accept: {}", said(&out));
    let out = run(
        &env,
        &[
            "rsvp",
            &invite,
            "tentative",
            "--propose",
            "tomorrow 10:00..9:00",
        ],
    );
    assert_eq!(code(&out), 2, "a proposal ending first: {}", said(&out));
    let out = run(
        &env,
        &[
            "rsvp",
            &invite,
            "decline",
            "--no-send",
            "--propose",
            "tomorrow 10:00..11:00",
        ],
    );
    assert_eq!(code(&out), 2, "a proposal not sent: {}", said(&out));
    let cancelled = find(&events, |e| {
        e["cancelled"] == json!(true) && e["is_organizer"] == json!(false)
    });
    let out = run(&env, &["rsvp", cancelled["id"].as_str().unwrap(), "accept"]);
    assert_eq!(code(&out), 1, "a cancelled meeting: {}", said(&out));
    assert!(said(&out).contains("cancelled"), "{}", said(&out));
    let out = run(
        &env,
        &[
            "edit",
            &own,
            "--start",
            "tomorrow 10:00",
            "--end",
            "tomorrow 9:00",
        ],
    );
    assert_eq!(code(&out), 2, "an end before the start: {}", said(&out));
    let out = run(&env, &["new", "tomorrow", "Lunch"]);
    assert_eq!(code(&out), 2, "no time: {}", said(&out));
    let out = run(&env, &["edit", "no-such-id", "--subject", "x"]);
    assert_eq!(code(&out), 2, "{}", said(&out));
    // A meeting with attendees is cancelled for them only with --yes.
    if let Some(meeting) = events.iter().find(|e| {
        e["is_organizer"] == json!(true) && e["attendees"].as_array().is_some_and(|a| a.len() > 1)
    }) {
        let out = run(&env, &["delete", meeting["id"].as_str().unwrap()]);
        assert_eq!(code(&out), 2, "{}", said(&out));
        assert!(said(&out).contains("--yes"), "{}", said(&out));
    }
    assert!(
        writes(&requests(&env).await).is_empty(),
        "no write was sent"
    );
    let out = run(&env, &["outbox", "--json"]);
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        json!([]),
        "nothing queued"
    );
    // A sign-in that can only read: refused with the way out, the change kept.
    env.sign_in();
    let out = run(&env, &["edit", &own, "--subject", "Renamed"]);
    assert_eq!(code(&out), 1, "{}", said(&out));
    assert!(said(&out).contains("deltacal login"), "{}", said(&out));
    let out = run(&env, &["outbox", "--json"]);
    let queued: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(queued[0]["state"], "queued", "{queued}");
    let out = run(&env, &["status", "--json"]);
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["can_write"], json!(false), "{status}");
    assert_eq!(status["outbox"]["queued"], json!(1), "{status}");
    assert!(
        writes(&requests(&env).await).is_empty(),
        "still nothing sent"
    );
    // read_only in the config: a usage error, nothing queued.
    let text = std::fs::read_to_string(env.config_path()).unwrap();
    std::fs::write(
        env.config_path(),
        text.replace("[account]", "[account]\nread_only = true"),
    )
    .unwrap();
    let out = run(&env, &["delete", &own]);
    assert_eq!(code(&out), 2, "{}", said(&out));
    assert!(said(&out).contains("read_only"), "{}", said(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_else_s_change_is_never_written_over() {
    let env = started().await;
    let own = find(&agenda(&env), own_single)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Alex renames it after this cache saw it.
    let (status, _) = env
        .control(
            Method::PATCH,
            &format!("/sim/events/{own}"),
            Some(json!({"subject": "Changed by Alex"})),
        )
        .await;
    assert!(status.is_success());
    let out = run(&env, &["edit", &own, "--location", "Room 9"]);
    assert_eq!(code(&out), 1, "{}", said(&out));
    assert!(
        said(&out).contains("changed by someone else"),
        "{}",
        said(&out)
    );
    let server = find(&env.server_events().await, |e| e["id"] == json!(own)).clone();
    assert_ne!(
        server["location"]["displayName"], "Room 9",
        "not written over"
    );
    let out = run(&env, &["outbox", "--json"]);
    let entries: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(entries[0]["state"], "conflict");
    // The user decides to send theirs over it: only the location goes.
    let id = entries[0]["id"].to_string();
    let out = run(&env, &["outbox", "retry", &id, "--force"]);
    assert_eq!(code(&out), 0, "{}", said(&out));
    let server = find(&env.server_events().await, |e| e["id"] == json!(own)).clone();
    assert_eq!(server["location"]["displayName"], "Room 9");
    assert_eq!(server["subject"], "Changed by Alex", "Alex's subject kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_cannot_go_now_is_queued_and_the_next_sync_sends_it_once() {
    let env = started().await;
    env.sim
        .handle()
        .set_latency(std::time::Duration::from_millis(2500));
    let out = run(&env, &["new", "--wait", "1", "tomorrow", "15:00", "Retro"]);
    assert_eq!(code(&out), 75, "{}", said(&out));
    assert!(said(&out).contains("queued"), "{}", said(&out));
    // Shown at once, marked.
    let shown = find(&agenda(&env), |e| e["subject"] == "Retro").clone();
    assert_eq!(shown["pending"]["change"], "create", "{shown}");
    assert!(shown["id"].as_str().unwrap().starts_with("local:"));
    let out = run(&env, &["status", "--json"]);
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["can_write"], json!(true), "{status}");
    assert_eq!(status["outbox"]["queued"], json!(1), "{status}");
    env.sim.handle().set_latency(std::time::Duration::ZERO);
    let out = run(&env, &["sync"]);
    assert_eq!(code(&out), 0, "{}", said(&out));
    let made = env
        .server_events()
        .await
        .into_iter()
        .filter(|e| e["subject"] == "Retro")
        .count();
    assert_eq!(made, 1, "one event, whatever reached the server before");
    let shown = find(&agenda(&env), |e| e["subject"] == "Retro").clone();
    assert_eq!(shown["pending"], Value::Null);
    assert!(!shown["id"].as_str().unwrap().starts_with("local:"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_counts_what_waits_to_be_sent() {
    let env = started().await;
    // A meeting put in between now and the next one is next at once, marked, before any
    // server has it.
    let now = chrono::Utc::now();
    let after = agenda(&env)
        .iter()
        .filter_map(|e| chrono::DateTime::parse_from_rfc3339(e["start"].as_str()?).ok())
        .map(|t| t.to_utc())
        .filter(|t| *t > now + chrono::Duration::seconds(4))
        .min()
        .unwrap();
    let at = now + (after - now) / 2;
    let start = at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let end = (at + chrono::Duration::minutes(10))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    env.sim
        .handle()
        .set_latency(std::time::Duration::from_millis(2500));
    let out = run(
        &env,
        &[
            "new",
            "--wait",
            "1",
            "--start",
            &start,
            "--end",
            &end,
            "Squeezed in",
        ],
    );
    assert_eq!(code(&out), 75, "{}", said(&out));
    let out = run(&env, &["next", "--json"]);
    let next: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(next["next"]["subject"], "Squeezed in", "{next}");
    assert_eq!(next["next"]["pending"]["change"], "create", "{next}");
    assert_eq!(next["next"]["is_organizer"], json!(true), "{next}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_before_the_first_sync_is_a_usage_error_that_makes_no_cache() {
    let env = Env::start(EnvOptions::default()).await;
    env.sign_in_writer();
    let out = run(&env, &["rsvp", "AAMk=", "accept"]);
    assert_eq!(code(&out), 2, "{}", said(&out));
    assert!(said(&out).contains("deltacal sync"), "{}", said(&out));
    assert!(!env.data_dir().join("cache.redb").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeating_event_is_made_once_with_its_occurrences() {
    let env = started().await;
    let out = run(
        &env,
        &[
            "new",
            "--repeat",
            "daily,count=5",
            "tomorrow",
            "08:15",
            "20m",
            "Check-in",
        ],
    );
    assert_eq!(code(&out), 0, "{}", said(&out));
    let server: Vec<Value> = env
        .server_events()
        .await
        .into_iter()
        .filter(|e| e["subject"] == "Check-in")
        .collect();
    assert_eq!(server.len(), 5, "five occurrences: {server:?}");
    assert!(server.iter().all(|e| e["type"] == "occurrence"));
    let master = server[0]["seriesMasterId"].clone();
    assert!(server.iter().all(|e| e["seriesMasterId"] == master));
    let shown: Vec<Value> = agenda(&env)
        .into_iter()
        .filter(|e| e["subject"] == "Check-in")
        .collect();
    assert_eq!(shown.len(), 5, "the cache shows them at once");
    assert!(shown.iter().all(|e| e["pending"].is_null()));
    let post = requests(&env)
        .await
        .into_iter()
        .find(|r| r["method"] == "POST")
        .unwrap();
    assert_eq!(post["body"]["recurrence"]["pattern"]["type"], "daily");
    assert_eq!(
        post["body"]["recurrence"]["range"],
        json!({"type": "numbered", "numberOfOccurrences": 5, "recurrenceTimeZone": "UTC",
            "startDate": post["body"]["start"]["dateTime"].as_str().unwrap()[..10]})
    );
    for bad in [
        "fortnightly",
        "daily,count=0",
        "weekly,until=2000-01-01",
        "daily,every=2",
    ] {
        let out = run(&env, &["new", "--repeat", bad, "tomorrow", "9:00", "Nope"]);
        assert_eq!(code(&out), 2, "{bad}: {}", said(&out));
        assert!(said(&out).contains("--repeat"), "{}", said(&out));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_changes_goes_out_in_one_batch() {
    let env = started().await;
    // Made while the sign-in could only read: each kept in the outbox.
    env.sign_in();
    let own = find(&agenda(&env), own_single)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for n in 1..=4 {
        let out = run(&env, &["new", "tomorrow", "11:00", &format!("Burst {n}")]);
        assert_eq!(code(&out), 1, "{}", said(&out));
    }
    let out = run(&env, &["edit", &own, "--subject", "Burst edit"]);
    assert_eq!(code(&out), 1, "{}", said(&out));
    env.sign_in_writer();
    let stats = |body: String| {
        serde_json::from_str::<Value>(&body).unwrap()["graph_requests"]
            .as_u64()
            .unwrap()
    };
    let before = stats(env.control(Method::GET, "/sim/stats", None).await.1);
    let out = run(&env, &["sync"]);
    assert_eq!(code(&out), 0, "{}", said(&out));
    let after = stats(env.control(Method::GET, "/sim/stats", None).await.1);
    // The event read, the five writes, the round: three requests.
    assert!(after - before <= 3, "{} requests", after - before);
    let server = env.server_events().await;
    for n in 1..=4 {
        let subject = format!("Burst {n}");
        assert_eq!(
            server
                .iter()
                .filter(|e| e["subject"] == subject.as_str())
                .count(),
            1
        );
    }
    assert_eq!(
        find(&server, |e| e["id"] == json!(own))["subject"],
        "Burst edit"
    );
    let out = run(&env, &["outbox", "--json"]);
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        json!([])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn syncs_and_sends_at_once_keep_within_four_requests_to_the_mailbox() {
    let env = Env::start(EnvOptions {
        events: 400,
        page_size: 20,
        ..Default::default()
    })
    .await;
    env.sign_in_writer();
    // The TUI, `remind` and a `sync` from cron, in one process here, all at once: full rounds
    // (with their series fetched alongside) and a burst of changes to send.
    let (a, b, c) = (env.engine(), env.engine(), env.engine());
    for (cal, result) in a.sync_all().await {
        assert!(result.is_ok(), "{}: {result:?}", cal.name);
    }
    // Changes to many series: the next round fetches them, four at a time.
    env.control(Method::POST, "/sim/churn?count=60&seed=7&series=true", None)
        .await;
    let now = chrono::Utc::now();
    for n in 0..30 {
        let t = |h: i64| json!({"dateTime": (now + chrono::Duration::hours(24 + h)).format("%Y-%m-%dT%H:00:00").to_string(), "timeZone": "UTC"});
        let change = deltacal::store::PendingChange::Create {
            calendar: None,
            event: json!({"subject": format!("Burst {n}"), "transactionId": format!("t{n}"),
                "start": t(n), "end": t(n + 1)}),
        };
        a.store()
            .queue(deltacal::store::OutboxEntry::new(
                "default".into(),
                None,
                change,
                now,
                now,
            ))
            .unwrap();
    }
    env.sim
        .handle()
        .set_latency(std::time::Duration::from_millis(20));
    let (ra, rb, _) = tokio::join!(a.sync_all(), b.sync_all(), c.send_outbox());
    for (cal, result) in ra.into_iter().chain(rb) {
        assert!(result.is_ok(), "{}: {result:?}", cal.name);
    }
    let (_, body) = env.control(Method::GET, "/sim/stats", None).await;
    let stats: Value = serde_json::from_str(&body).unwrap();
    assert!(stats["max_in_flight"].as_u64().unwrap() <= 4, "{stats}");
    assert_eq!(stats["concurrency_refused"], json!(0), "{stats}");
    let made = env
        .server_events()
        .await
        .iter()
        .filter(|e| {
            e["subject"]
                .as_str()
                .is_some_and(|s| s.starts_with("Burst "))
        })
        .count();
    assert_eq!(made, 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_process_never_has_more_than_four_requests_in_flight_to_the_mailbox() {
    let env = Env::start(EnvOptions::default()).await;
    env.sign_in_writer();
    let engine = env.engine();
    // Two clients of the mailbox in one process (the rounds' and another's), twelve reads
    // at once over a slow network.
    let client = |engine: &deltacal::sync::SyncEngine| {
        deltacal::graph::client::GraphClient::new(
            reqwest::Client::new(),
            env.config.graph.base_url.clone(),
            10,
            engine.session().clone(),
        )
    };
    let (one, two) = (client(&engine), client(&engine));
    env.sim
        .handle()
        .set_latency(std::time::Duration::from_millis(60));
    let reads = (0..12).map(|i| {
        let graph = if i % 2 == 0 { one.clone() } else { two.clone() };
        async move { graph.get_event_json(&format!("no-such-{i}")).await }
    });
    for read in futures_util::future::join_all(reads).await {
        assert_eq!(read.unwrap(), None);
    }
    let (_, body) = env.control(Method::GET, "/sim/stats", None).await;
    let stats: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(stats["max_in_flight"], json!(4), "{stats}");
    assert_eq!(stats["concurrency_refused"], json!(0), "{stats}");
}
