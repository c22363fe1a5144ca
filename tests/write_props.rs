//! The outbox against the emulator in its realistic mode: random sequences of writes (creates,
//! renames, answers, deletes; on singles, occurrences and exceptions) interleaved with someone
//! else's edits, churn, the write faults, 410s, dropped connections, senders killed mid-send
//! and restarts. At the end the server holds exactly the intended changes (none doubled, none
//! missing, none over someone else's), and the cache equals the server.

#![allow(clippy::unwrap_used)]
#![cfg(feature = "emulator")]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use common::{Env, EnvOptions};
use deltacal::model::{CachedEvent, EventKind, Response};
use deltacal::store::{Answer, OutboxEntry, OutboxState, PendingChange, Store};
use deltacal::sync::SyncEngine;
use proptest::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
enum Op {
    /// One of the user's changes, queued (`kind` picks which, `pick` the event).
    Write {
        kind: u8,
        pick: u16,
    },
    /// Someone else (the organizer, a delegate) renames an event.
    OtherEdit {
        pick: u16,
    },
    /// Server-side churn in the second calendar of the same mailbox.
    Churn {
        count: usize,
        seed: u64,
    },
    Fault(Value),
    ExpireSyncState,
    /// What a sync does: send, then rounds.
    Round,
    /// A sender that dies after `ms` (its future dropped where it stands), and a new process.
    Killed {
        ms: u64,
    },
    Restart,
}

fn fault() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            Just(json!({"kind": "lost_response"})),
            Just(json!({"status": 503, "code": "ConcurrentItemSave", "after_apply": true})),
            Just(json!({"status": 412})),
            Just(json!({"status": 503})),
            Just(json!({"status": 429, "retry_after": 0})),
            Just(json!({"kind": "drop"})),
            Just(json!({"kind": "slow", "delay_ms": 30})),
        ],
        1u32..3,
    )
        .prop_map(|(mut f, count)| {
            f["count"] = json!(count);
            f
        })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..7, any::<u16>()).prop_map(|(kind, pick)| Op::Write { kind, pick }),
        2 => any::<u16>().prop_map(|pick| Op::OtherEdit { pick }),
        1 => (1usize..10, any::<u64>()).prop_map(|(count, seed)| Op::Churn { count, seed }),
        3 => fault().prop_map(Op::Fault),
        1 => Just(Op::ExpireSyncState),
        3 => Just(Op::Round),
        2 => (0u64..40).prop_map(|ms| Op::Killed { ms }),
        1 => Just(Op::Restart),
    ]
}

/// What the user meant by a change.
#[derive(Debug, Clone)]
enum Want {
    Created {
        subject: String,
    },
    Subject {
        id: String,
        subject: String,
        /// The series of the event, if an instance.
        series: Option<String>,
    },
    Response {
        id: String,
        response: &'static str,
    },
    Deleted {
        id: String,
    },
    /// The whole series renamed (through its master).
    Series {
        master: String,
        subject: String,
    },
}

#[derive(Debug)]
struct Intent {
    outbox_id: u64,
    want: Want,
    /// The step it was queued at.
    step: usize,
}

struct Case {
    env: Env,
    engine: SyncEngine,
    intents: Vec<Intent>,
    /// Someone else's last rename of each event: the step, and the subject.
    others: HashMap<String, (usize, String)>,
    /// Series one of whose instances someone else, or the user, changed: a change to the
    /// whole series based on an older version of it may conflict.
    series_touched: std::collections::HashSet<String>,
    step: usize,
    made: usize,
}

impl Case {
    fn store(&self) -> &Arc<Store> {
        self.engine.store()
    }

    /// The default calendar's events as the cache has them (the server's versions), none a
    /// change of the user's waits on.
    fn targets(&self) -> Vec<CachedEvent> {
        let waiting: Vec<String> = self
            .store()
            .outbox()
            .unwrap()
            .into_iter()
            .filter_map(|e| e.event.map(|id| id.to_string()))
            .collect();
        self.store()
            .events_overlapping(
                Some(&["default".into()]),
                DateTime::<Utc>::MIN_UTC,
                DateTime::<Utc>::MAX_UTC,
            )
            .unwrap()
            .into_iter()
            .filter(|c| !waiting.contains(&c.event.id.to_string()))
            .filter(|c| c.event.kind != Some(EventKind::SeriesMaster) && !c.event.is_stub())
            // The events made here are checked by their subject: left alone.
            .filter(|c| !c.event.title().starts_with("Made "))
            .collect()
    }

    fn queue(&mut self, kind: u8, pick: u16) {
        let now = Utc::now();
        let targets = self.targets();
        let choose = |f: &dyn Fn(&CachedEvent) -> bool| {
            let fit: Vec<&CachedEvent> = targets.iter().filter(|c| f(c)).collect();
            (!fit.is_empty()).then(|| fit[pick as usize % fit.len()].clone())
        };
        self.made += 1;
        let n = self.made;
        let (entry, want) = match kind {
            0 => {
                let subject = format!("Made {n}");
                let start = now + Duration::days(1) + Duration::hours(n as i64);
                let t = |t: DateTime<Utc>| json!({"dateTime": t.format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC"});
                let event = json!({
                    "subject": subject, "transactionId": format!("txn-{n}-{}", rand::random::<u64>()),
                    "start": t(start), "end": t(start + Duration::minutes(30)), "isAllDay": false,
                });
                let change = PendingChange::Create {
                    calendar: None,
                    event,
                };
                (
                    OutboxEntry::new("default".into(), None, change, now, now),
                    Want::Created { subject },
                )
            }
            1 | 2 => {
                let Some(c) = choose(&|c| !c.event.cancelled) else {
                    return;
                };
                let subject = format!("Renamed {n}");
                let change = PendingChange::Update {
                    fields: json!({"subject": subject}),
                };
                let id = c.event.id.to_string();
                let series = c.event.series_master_id.as_ref().map(|m| m.to_string());
                (
                    OutboxEntry::new(c.view.clone(), Some(&c.event), change, now, now),
                    Want::Subject {
                        id,
                        subject,
                        series,
                    },
                )
            }
            3 | 4 => {
                let Some(c) = choose(&|c| {
                    !c.event.cancelled
                        && c.event.is_organizer != Some(true)
                        && c.event.response != Some(Response::Organizer)
                }) else {
                    return;
                };
                let (answer, response) = match n % 3 {
                    0 => (Answer::Accept, "accepted"),
                    1 => (Answer::Tentative, "tentativelyAccepted"),
                    _ => (Answer::Decline, "declined"),
                };
                let change = PendingChange::Answer {
                    answer,
                    comment: n.is_multiple_of(2).then(|| format!("note {n}")),
                    send: true,
                    propose: None,
                };
                let id = c.event.id.to_string();
                (
                    OutboxEntry::new(c.view.clone(), Some(&c.event), change, now, now),
                    Want::Response { id, response },
                )
            }
            6 => {
                // The whole series of an occurrence: its master, as the cache keeps it.
                let Some(c) = choose(&|c| c.event.series_master_id.is_some() && !c.event.cancelled)
                else {
                    return;
                };
                let master = c.event.series_master_id.clone().unwrap().to_string();
                let Some(m) = self.store().find_event(&master).unwrap() else {
                    return;
                };
                let waiting = self.store().outbox().unwrap();
                if waiting
                    .iter()
                    .any(|e| e.event.as_ref().is_some_and(|id| id.to_string() == master))
                {
                    return;
                }
                let subject = format!("Series {n}");
                let change = PendingChange::Update {
                    fields: json!({"subject": subject}),
                };
                (
                    OutboxEntry::new(m.view.clone(), Some(&m.event), change, now, now),
                    Want::Series { master, subject },
                )
            }
            _ => {
                let Some(c) = choose(&|c| c.event.is_organizer == Some(true)) else {
                    return;
                };
                let id = c.event.id.to_string();
                (
                    OutboxEntry::new(
                        c.view.clone(),
                        Some(&c.event),
                        PendingChange::Delete,
                        now,
                        now,
                    ),
                    Want::Deleted { id },
                )
            }
        };
        if let Some(id) = &entry.event
            && let Some(c) = targets.iter().find(|c| c.event.id == *id)
            && let Some(master) = &c.event.series_master_id
        {
            self.series_touched.insert(master.to_string());
        }
        let outbox_id = self.store().queue(entry).unwrap();
        self.intents.push(Intent {
            outbox_id,
            want,
            step: self.step,
        });
    }

    async fn other_edit(&mut self, pick: u16) {
        let targets = self.targets();
        if targets.is_empty() {
            return;
        }
        let target = &targets[pick as usize % targets.len()].event;
        let id = target.id.to_string();
        // A change to an occurrence changes its series' version too.
        let master = target.series_master_id.as_ref().map(|m| m.to_string());
        self.made += 1;
        let subject = format!("Alex's {}", self.made);
        let (status, body) = self
            .env
            .control(
                Method::PATCH,
                &format!("/sim/events/{}", common::urlencode(&id)),
                Some(json!({"subject": subject})),
            )
            .await;
        assert!(status.is_success(), "{body}");
        if let Some(master) = master {
            self.series_touched.insert(master);
        }
        self.others.insert(id, (self.step, subject));
    }
}

/// A series' master as Graph serves it (None when the series is gone).
async fn master_json(case: &Case, id: &str) -> Option<Value> {
    let token = case.env.sim.handle().issue_tokens()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = case
        .env
        .http
        .get(format!(
            "{}/v1.0/me/events/{}",
            case.env.sim.url(),
            common::urlencode(id)
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return None;
    }
    Some(serde_json::from_str(&response.text().await.unwrap()).unwrap())
}

async fn run_case(ops: Vec<Op>, seed: u64) {
    let env = Env::start(EnvOptions {
        events: 40,
        seed,
        calendars: 2,
        page_size: 7,
        ..Default::default()
    })
    .await;
    env.control(
        Method::POST,
        "/sim/settings",
        Some(json!({"mode": "realistic"})),
    )
    .await;
    env.sign_in_writer();
    let second = env.sim.handle().calendar_id(1).unwrap();
    let engine = env.engine();
    let _ = engine.sync_all().await;
    let mut case = Case {
        env,
        engine,
        intents: Vec::new(),
        others: HashMap::new(),
        series_touched: Default::default(),
        step: 0,
        made: 0,
    };
    for op in ops {
        case.step += 1;
        match op {
            Op::Write { kind, pick } => case.queue(kind, pick),
            Op::OtherEdit { pick } => case.other_edit(pick).await,
            Op::Churn { count, seed } => {
                case.env
                    .control(
                        Method::POST,
                        &format!(
                            "/sim/churn?count={count}&seed={seed}&calendar={}",
                            common::urlencode(&second)
                        ),
                        None,
                    )
                    .await;
            }
            Op::Fault(f) => case.env.fault(f).await,
            Op::ExpireSyncState => {
                case.env
                    .control(Method::POST, "/sim/expire-sync-state", None)
                    .await;
            }
            Op::Round => {
                let _ = case.engine.sync_all().await;
            }
            Op::Killed { ms } => {
                let _ = tokio::time::timeout(
                    std::time::Duration::from_millis(ms),
                    case.engine.send_outbox(),
                )
                .await;
                case.engine = case.env.engine();
            }
            Op::Restart => case.engine = case.env.engine(),
        }
    }
    // The network heals; the user asks for what waits to be sent now (`outbox retry`), and
    // syncs until nothing waits.
    case.env.control(Method::DELETE, "/sim/faults", None).await;
    case.engine = case.env.engine();
    for _ in 0..10 {
        let waiting: Vec<OutboxEntry> = case
            .store()
            .outbox()
            .unwrap()
            .into_iter()
            .filter(|e| matches!(e.state, OutboxState::Queued | OutboxState::Sending))
            .collect();
        if waiting.is_empty() {
            break;
        }
        for e in &waiting {
            case.store().retry_change(e.id, false, Utc::now()).unwrap();
        }
        let _ = case.engine.sync_all().await;
    }
    // Two rounds: a write's echo may come one round late (the realistic mode does that), and
    // until it comes the cache may hold the server's answer but not all it changed (a series'
    // exceptions renamed with it).
    for _ in 0..2 {
        for (cal, result) in case.engine.sync_all().await {
            assert!(result.is_ok(), "{}: {result:?}", cal.name);
        }
    }
    check(&case).await;
}

async fn check(case: &Case) {
    let left: BTreeMap<u64, OutboxEntry> = case
        .store()
        .outbox()
        .unwrap()
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let server = case.env.server_events().await;
    let by_id: HashMap<&str, &Value> = server
        .iter()
        .map(|e| (e["id"].as_str().unwrap(), e))
        .collect();
    if std::env::var_os("PROPS_DEBUG").is_some() {
        let (_, body) = case.env.control(Method::GET, "/sim/requests", None).await;
        let requests: Value = serde_json::from_str(&body).unwrap();
        for r in requests["requests"].as_array().unwrap() {
            if !r["path"].as_str().unwrap().contains("delta") {
                eprintln!(
                    "{} {} {} {}",
                    r["method"], r["path"], r["if_match"], r["body"]
                );
            }
        }
        for i in &case.intents {
            eprintln!("intent {i:?}");
        }
        for e in left.values() {
            if let Some(id) = &e.event {
                eprintln!("server {}: {:?}", id, master_json(case, id.as_str()).await);
            }
        }
    }
    for entry in left.values() {
        assert!(
            matches!(entry.state, OutboxState::Failed | OutboxState::Conflict),
            "still waiting after the network healed: {entry:?}"
        );
        // Only someone else's change stops one of ours.
        let id = entry
            .event
            .as_ref()
            .map(|e| e.to_string())
            .unwrap_or_default();
        // Known, and safe: after a change of the user's to a whole series, a change to one of
        // its occurrences made before the echo may be taken for a conflict (never the reverse).
        let after_series_change = entry.series.as_ref().is_some_and(|s| {
            case.intents
                .iter()
                .any(|i| matches!(&i.want, Want::Series { master, .. } if master == s.as_str()))
        });
        let others_series = entry
            .series
            .as_ref()
            .is_some_and(|s| case.series_touched.contains(s.as_str()));
        assert!(
            case.others.contains_key(&id)
                || case.series_touched.contains(&id)
                || (after_series_change && others_series),
            "refused without anyone else's change: {entry:?}"
        );
    }
    // The last applied intent for each event and kind is what the server shows.
    let applied: Vec<&Intent> = case
        .intents
        .iter()
        .filter(|i| !left.contains_key(&i.outbox_id))
        .collect();
    let deleted: Vec<&str> = applied
        .iter()
        .filter_map(|i| match &i.want {
            Want::Deleted { id } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    let mut last_subject: HashMap<&str, &Intent> = HashMap::new();
    let mut last_response: HashMap<&str, (&Intent, &str)> = HashMap::new();
    for intent in &applied {
        match &intent.want {
            Want::Created { subject } => {
                let made = server
                    .iter()
                    .filter(|e| e["subject"] == json!(subject))
                    .count();
                assert_eq!(made, 1, "{subject:?} made {made} times");
            }
            Want::Deleted { id } => {
                assert!(!by_id.contains_key(id.as_str()), "{id} still on the server");
            }
            Want::Subject { id, .. } => {
                last_subject.insert(id, intent);
            }
            Want::Response { id, response } => {
                last_response.insert(id, (intent, response));
            }
            Want::Series { master, subject } => {
                // The series' master has it, unless a later change of the series replaced it.
                let later = applied.iter().any(|i| {
                    i.step > intent.step
                        && matches!(&i.want, Want::Series { master: m, .. } if m == master)
                });
                if !later
                    && !deleted.contains(&master.as_str())
                    && let Some(event) = master_json(case, master).await
                {
                    assert_eq!(event["subject"], json!(subject), "series {master}");
                }
            }
        }
    }
    for (id, intent) in last_subject {
        let Want::Subject {
            subject, series, ..
        } = &intent.want
        else {
            unreachable!()
        };
        if deleted.contains(&id) {
            continue;
        }
        // A later change of the whole series renamed it too.
        let renamed_with_series = applied.iter().any(|i| {
            i.step > intent.step
                && matches!(&i.want, Want::Series { master, .. } if Some(master) == series.as_ref())
        });
        if renamed_with_series {
            continue;
        }
        let shown = &by_id.get(id).unwrap_or_else(|| panic!("{id} gone"))["subject"];
        match case.others.get(id) {
            // Someone renamed it after ours was queued: ours was applied before theirs, or
            // not over it; theirs stands either way.
            Some((step, theirs)) if *step > intent.step => {
                assert_eq!(shown, &json!(theirs), "{id}");
            }
            _ => assert_eq!(shown, &json!(subject), "{id}"),
        }
    }
    for (id, (_, response)) in last_response {
        if deleted.contains(&id) {
            continue;
        }
        let shown =
            &by_id.get(id).unwrap_or_else(|| panic!("{id} gone"))["responseStatus"]["response"];
        assert_eq!(shown, &json!(response), "{id}");
    }
    // Nothing of someone else's written over: where their rename is not on the server, a
    // change of ours queued after it (so based on it) is.
    for (id, (step, theirs)) in &case.others {
        let Some(event) = by_id.get(id.as_str()) else {
            continue;
        };
        if event["subject"] != json!(theirs) {
            let ours_after = applied.iter().any(|i| {
                matches!(&i.want, Want::Subject { id: t, subject, .. } if t == id && event["subject"] == json!(subject))
                    || matches!(&i.want, Want::Series { subject, .. } if event["subject"] == json!(subject))
                    && i.step > *step
            });
            assert!(
                ours_after,
                "{id}: someone's {theirs:?} was written over with {}",
                event["subject"]
            );
        }
    }
    // Every write that reached the server was based on a version: If-Match.
    let (_, body) = case.env.control(Method::GET, "/sim/requests", None).await;
    let requests: Value = serde_json::from_str(&body).unwrap();
    for r in requests["requests"].as_array().unwrap() {
        let create = r["method"] == "POST" && r["path"].as_str().unwrap().ends_with("/events");
        if r["method"] != "GET" && !create {
            assert!(r["if_match"].is_string(), "a write without If-Match: {r}");
        }
    }
    case.env.assert_converged("default").await;
    let second = case.engine.config().calendars[1].key.to_string();
    case.env.assert_converged(&second).await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, max_shrink_iters: 30, ..ProptestConfig::default() })]

    #[test]
    fn every_change_is_applied_once_or_visibly_refused(ops in proptest::collection::vec(op(), 1..14), seed in 0u64..1000) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(run_case(ops, seed));
    }
}
