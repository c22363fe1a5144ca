//! Sends the outbox: each change due is claimed (one sender per change across processes),
//! checked against the server's version of its event, sent, and what the server answered is
//! written to the cache in the transaction that takes the change out of the outbox.
//!
//! A change is applied once: a create carries the `transactionId` made when it was queued, so
//! a retry after a lost answer returns the event already made; an update, delete or answer is
//! sent with `If-Match` and only when the server's `changeKey` is still the one the user saw,
//! and a 412 after a lost answer is told from someone else's change by reading the event back.

use std::sync::Arc;

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::graph::client::{BATCH_LIMIT, BatchWritten, GraphClient, GraphError, Write, Written};
use crate::model::Event;
use crate::store::{OutboxEntry, PendingChange, SendOutcome, Store, StoreError};

/// What a token without the write scope is told.
pub const READ_ONLY_SIGN_IN: &str =
    "this sign-in can only read your calendar: run `deltacal login` to allow changes";

/// What a conflict is told.
pub const CONFLICT: &str = "changed by someone else since you saw it: `deltacal outbox retry --force ID` sends yours over it, `deltacal outbox drop ID` keeps theirs";

/// The passes of one [`send_due`]: a chain of changes to one event or series longer than
/// this waits for the next sync.
const MAX_PASSES: usize = 8;

/// Runs a blocking store call off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Io {
            path: Default::default(),
            cause: e.to_string(),
        })
}

/// Sends every change due now; returns the ids sent and what became of each. Nothing when
/// another sender (of this process or another) holds the outbox lock at `lock`: it sends
/// them. Holding the lock, a change left `sending` is one whose sender died (kill -9, a
/// dropped future, a crash): its send may have reached the server, and the checks before
/// sending tell (see `try_send`), so it is claimed again at once.
pub async fn send_due(
    store: &Arc<Store>,
    graph: &GraphClient,
    lock: &std::path::Path,
) -> Result<Vec<(u64, SendOutcome)>, StoreError> {
    let path = lock.to_owned();
    let held = tokio::task::spawn_blocking(move || crate::lockfile::LockFile::try_acquire(&path))
        .await
        .map_err(|e| StoreError::Io {
            path: Default::default(),
            cause: e.to_string(),
        })?
        .map_err(|e| StoreError::Io {
            path: lock.to_owned(),
            cause: e.to_string(),
        })?;
    let Some(_held) = held else {
        return Ok(Vec::new());
    };
    let mut done = Vec::new();
    // A change that depends on an earlier one in the same claim waits for the next pass, when
    // that one's answer has rebased it: a few passes at most.
    for _ in 0..MAX_PASSES {
        let claimed = {
            let store = store.clone();
            blocking(move || store.claim_due(Utc::now())).await??
        };
        let (ready, later): (Vec<OutboxEntry>, Vec<OutboxEntry>) =
            claimed.iter().cloned().partition(|entry| {
                !claimed
                    .iter()
                    .any(|earlier| earlier.id < entry.id && entry.depends_on(earlier))
            });
        for entry in &later {
            let (store, id) = (store.clone(), entry.id);
            blocking(move || store.release(id)).await??;
        }
        let mut jobs = Vec::new();
        for entry in ready {
            let series_version = match &entry.series {
                Some(series) => {
                    let (store, series) = (store.clone(), series.to_string());
                    blocking(move || store.applied_version(&series)).await??
                }
                None => None,
            };
            jobs.push(Job {
                entry,
                series_version,
            });
        }
        // One at a time when there is one; a burst in JSON batches.
        let mut sent = Vec::new();
        if jobs.len() == 1 {
            sent.push(send_one(graph, &jobs[0]).await);
        } else {
            for chunk in jobs.chunks(BATCH_LIMIT) {
                sent.extend(send_batch(graph, chunk).await);
            }
        }
        for (entry, outcome) in jobs.into_iter().map(|j| j.entry).zip(sent) {
            let (store, id, recorded) = (store.clone(), entry.id, outcome.clone());
            blocking(move || store.finish_send(id, recorded)).await??;
            done.push((entry.id, outcome));
        }
        if later.is_empty() {
            break;
        }
    }
    Ok(done)
}

/// The request a change makes.
pub fn request_of(entry: &OutboxEntry, if_match: Option<String>) -> Write {
    let id = entry
        .event
        .as_ref()
        .map(|e| e.to_string())
        .unwrap_or_default();
    let event_path = |tail: Option<&str>| {
        let mut path = vec!["me".to_owned(), "events".to_owned(), id.clone()];
        path.extend(tail.map(str::to_owned));
        path
    };
    let (method, path, body) = match &entry.change {
        PendingChange::Create { calendar, event } => {
            let path = match calendar {
                Some(cal) => vec![
                    "me".into(),
                    "calendars".into(),
                    cal.clone(),
                    "events".into(),
                ],
                None => vec!["me".into(), "events".into()],
            };
            (reqwest::Method::POST, path, Some(event.clone()))
        }
        PendingChange::Update { fields } => (
            reqwest::Method::PATCH,
            event_path(None),
            Some(fields.clone()),
        ),
        PendingChange::Delete => (reqwest::Method::DELETE, event_path(None), None),
        PendingChange::Cancel { comment } => (
            reqwest::Method::POST,
            event_path(Some("cancel")),
            Some(json!({"comment": comment.clone().unwrap_or_default()})),
        ),
        PendingChange::Answer {
            answer,
            comment,
            send,
            propose,
        } => {
            let tail = match answer {
                crate::store::Answer::Accept => "accept",
                crate::store::Answer::Tentative => "tentativelyAccept",
                crate::store::Answer::Decline => "decline",
            };
            let mut body = json!({"sendResponse": send});
            // Graph refuses a comment, even an empty one, without sending: none is sent then.
            if let Some(c) = comment.as_deref().filter(|_| *send) {
                body["comment"] = json!(c);
            }
            if let Some(p) = propose.as_ref().filter(|_| *send) {
                body["proposedNewTime"] = p.clone();
            }
            (reqwest::Method::POST, event_path(Some(tail)), Some(body))
        }
    };
    let if_match = match &entry.change {
        PendingChange::Create { .. } => None,
        _ => if_match,
    };
    Write {
        method,
        path,
        body,
        if_match,
    }
}

/// Whether the server's event already shows the change (a try whose answer was lost applied
/// it): every field an update sent has the value sent; an answer is the user's response.
fn shows(entry: &OutboxEntry, current: &Value) -> bool {
    match &entry.change {
        PendingChange::Update { fields } => fields
            .as_object()
            .is_some_and(|f| f.iter().all(|(k, v)| same_value(&current[k], v))),
        PendingChange::Answer { answer, .. } => {
            let want = match answer {
                crate::store::Answer::Accept => "accepted",
                crate::store::Answer::Tentative => "tentativelyAccepted",
                crate::store::Answer::Decline => "declined",
            };
            current["responseStatus"]["response"] == want
        }
        _ => false,
    }
}

/// Graph writes times back in its own form (`2026-12-09T10:00:00.0000000`): a time sent is the
/// same as one read back when they name the same instant in the same zone.
fn same_value(server: &Value, sent: &Value) -> bool {
    if server == sent {
        return true;
    }
    let time = |v: &Value| {
        let text = v["dateTime"].as_str()?;
        let zone = v["timeZone"].as_str().unwrap_or("UTC");
        crate::model::EventTime::from_parts(text, zone, false).map(|t| t.instant())
    };
    matches!((time(server), time(sent)), (Some(a), Some(b)) if a == b)
}

/// A change to send, with the version the user's last applied change left on its series.
#[derive(Debug, Clone)]
struct Job {
    entry: OutboxEntry,
    series_version: Option<String>,
}

async fn send_one(graph: &GraphClient, job: &Job) -> SendOutcome {
    match try_send(graph, &job.entry, job.series_version.as_deref()).await {
        Ok(outcome) => outcome,
        Err(e) => retry_or_fail(&job.entry, e),
    }
}

/// A failure that may pass is tried again later, with a growing wait; one the server meant is
/// a refusal.
fn retry_or_fail(entry: &OutboxEntry, e: GraphError) -> SendOutcome {
    let line = crate::text::bounded(&e.to_string(), 300);
    match e {
        GraphError::BadRequest { code, message } => {
            SendOutcome::Failed(crate::text::bounded(&format!("{code}: {message}"), 300))
        }
        GraphError::Forbidden { .. } => SendOutcome::Retry {
            reason: READ_ONLY_SIGN_IN.into(),
            retry_at: Utc::now() + Duration::minutes(5),
        },
        GraphError::Http { status, .. } if (400..500).contains(&status) => {
            SendOutcome::Failed(line)
        }
        _ => SendOutcome::Retry {
            reason: line,
            retry_at: backoff(entry),
        },
    }
}

/// When a change that failed for a passing reason is tried again: 30 s after its first try,
/// doubling, at most 30 minutes.
fn backoff(entry: &OutboxEntry) -> chrono::DateTime<Utc> {
    let wait = Duration::seconds(30 * 2_i64.pow(entry.tries.min(6)));
    Utc::now() + wait.min(Duration::minutes(30))
}

/// An unfounded 412 (the event unchanged, or a create): tried again at once the first time,
/// then as any passing failure; never a conflict nor a refusal.
fn unfounded_412(entry: &OutboxEntry) -> SendOutcome {
    SendOutcome::Retry {
        reason: "the server refused the change with a conflict nobody made (412)".into(),
        retry_at: if entry.tries <= 1 {
            Utc::now()
        } else {
            backoff(entry)
        },
    }
}

/// The version a send is based on: a field of the event and its value.
type Version = Option<(&'static str, String)>;

/// What the check before sending decided.
#[derive(Debug, Clone, PartialEq)]
enum Checked {
    /// Nothing to send: this is what became of the change.
    Done(SendOutcome),
    /// Send this, based on that version.
    Send(Write, Version),
}

fn event_id(entry: &OutboxEntry) -> String {
    entry
        .event
        .as_ref()
        .map(|e| e.to_string())
        .unwrap_or_default()
}

fn is_create(entry: &OutboxEntry) -> bool {
    matches!(entry.change, PendingChange::Create { .. })
}

fn removes(entry: &OutboxEntry) -> bool {
    matches!(
        entry.change,
        PendingChange::Delete | PendingChange::Cancel { .. }
    )
}

/// Whether the server's event has moved on from `based_on`.
fn moved(current: &Value, based_on: &Version) -> bool {
    based_on
        .as_ref()
        .is_some_and(|(field, version)| current[*field].as_str() != Some(version.as_str()))
}

/// The check before sending, on the server's current version of the event (`None`: a create,
/// which has none to read; `Some(None)`: the event is gone). Pure: the I/O is the caller's.
/// `ours`: the event moved on only through the user's own applied changes (its series is at
/// the version the user's change left), so it is based on the current version.
fn check(entry: &OutboxEntry, current: Option<Option<&Value>>, ours: bool) -> Checked {
    let mut if_match = entry.base_etag.clone();
    // The version this send is based on: the one the user saw, or with --force the server's;
    // by its changeKey, or where the cache had none (an occurrence filled in from its series)
    // by its etag, which carries the changeKey.
    let mut based_on: Version = match (&entry.base_change_key, &entry.base_etag) {
        (Some(key), _) => Some(("changeKey", key.clone())),
        (None, Some(etag)) => Some(("@odata.etag", etag.clone())),
        (None, None) => None,
    };
    match current {
        None => {}
        Some(None) if removes(entry) => return Checked::Done(SendOutcome::Applied(None)),
        Some(None) => {
            return Checked::Done(SendOutcome::Failed(
                "the event is no longer on the server".into(),
            ));
        }
        Some(Some(current)) => {
            let moved_on = moved(current, &based_on);
            if moved_on && shows(entry, current) {
                return Checked::Done(SendOutcome::Applied(event_of(current).map(Box::new)));
            }
            if moved_on && !entry.force && !ours {
                return Checked::Done(SendOutcome::Conflict(CONFLICT.into()));
            }
            if entry.force || ours {
                if_match = current["@odata.etag"].as_str().map(str::to_owned);
                based_on = if_match.clone().map(|etag| ("@odata.etag", etag));
            }
        }
    }
    Checked::Send(request_of(entry, if_match), based_on)
}

/// One change, alone: read the event, check, send, and read what the answer leaves out.
async fn try_send(
    graph: &GraphClient,
    entry: &OutboxEntry,
    series_version: Option<&str>,
) -> Result<SendOutcome, GraphError> {
    let current = if is_create(entry) {
        None
    } else {
        Some(graph.get_event_json(&event_id(entry)).await?)
    };
    let ours = match &current {
        Some(Some(now)) => moved_by_us(graph, entry, now, series_version).await?,
        _ => false,
    };
    match check(entry, current.as_ref().map(Option::as_ref), ours) {
        Checked::Done(outcome) => Ok(outcome),
        Checked::Send(write, based_on) => {
            let written = graph.write(&write).await;
            after_write(graph, entry, &based_on, written).await
        }
    }
}

/// Whether an instance moved on from the version the user saw only through the user's own
/// change to its series: the series is still at the version that change left. (A change by
/// anyone to any instance changes its series' version, so nobody else's can hide here.)
async fn moved_by_us(
    graph: &GraphClient,
    entry: &OutboxEntry,
    current: &Value,
    series_version: Option<&str>,
) -> Result<bool, GraphError> {
    let (Some(series), Some(version)) = (&entry.series, series_version) else {
        return Ok(false);
    };
    if entry.base_etag.as_deref() == current["@odata.etag"].as_str() {
        return Ok(false);
    }
    let master = graph.get_event_json(series.as_str()).await?;
    Ok(master.is_some_and(|m| m["changeKey"].as_str() == Some(version)))
}

/// What a write's answer makes of the change (an answer's event read back; a 412 told apart:
/// ours whose answer was lost, an unfounded one, or someone else's change).
async fn after_write(
    graph: &GraphClient,
    entry: &OutboxEntry,
    based_on: &Version,
    written: Result<Written, GraphError>,
) -> Result<SendOutcome, GraphError> {
    match written {
        Ok(Written::Done(event)) => {
            let event = match (&entry.change, event) {
                (_, Some(event)) => Some(event),
                // 202 and 204 have no body: an answer's event is read back.
                (PendingChange::Answer { .. }, None) => graph
                    .get_event_json(&event_id(entry))
                    .await
                    .ok()
                    .flatten()
                    .and_then(|v| event_of(&v))
                    .map(Box::new),
                _ => None,
            };
            Ok(SendOutcome::Applied(event))
        }
        Ok(Written::NotFound) if removes(entry) => Ok(SendOutcome::Applied(None)),
        Ok(Written::NotFound) => Ok(SendOutcome::Failed(
            "the event is no longer on the server".into(),
        )),
        Err(GraphError::Http {
            status: 412 | 409, ..
        }) if is_create(entry) => Ok(unfounded_412(entry)),
        Err(GraphError::Http {
            status: 412 | 409, ..
        }) => {
            // Ours, whose answer was lost before, or someone else's: the event tells.
            match graph.get_event_json(&event_id(entry)).await? {
                // Gone: a delete of ours whose answer was lost did it.
                None if removes(entry) => Ok(SendOutcome::Applied(None)),
                Some(current) if shows(entry, &current) => {
                    Ok(SendOutcome::Applied(event_of(&current).map(Box::new)))
                }
                // Exchange now and then answers 412 with the event unchanged.
                Some(current) if based_on.is_some() && !moved(&current, based_on) => {
                    Ok(unfounded_412(entry))
                }
                _ => Ok(SendOutcome::Conflict(CONFLICT.into())),
            }
        }
        Err(e) => Err(e),
    }
}

/// Up to [`BATCH_LIMIT`] changes in two requests (JSON batching): the events read, then the
/// writes. A change whose read or write the batch does not answer cleanly is sent alone,
/// where the retry policy applies and the checks tell whether the batch applied it.
async fn send_batch(graph: &GraphClient, jobs: &[Job]) -> Vec<SendOutcome> {
    let reads: Vec<String> = jobs
        .iter()
        .map(|j| &j.entry)
        .filter(|e| !is_create(e))
        .map(event_id)
        .collect();
    let mut current = match graph.get_events_json_batch(&reads).await {
        Ok(found) => found.into_iter(),
        // The batch failed: each alone.
        Err(_) => {
            let mut outcomes = Vec::new();
            for job in jobs {
                outcomes.push(send_one(graph, job).await);
            }
            return outcomes;
        }
    };
    // Per change: its outcome now, or its write (with the version it is based on).
    let mut outcomes: Vec<Option<SendOutcome>> = vec![None; jobs.len()];
    let mut writes = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let entry = &job.entry;
        let read = if is_create(entry) {
            None
        } else {
            match current.next() {
                Some(Ok(found)) => Some(found),
                _ => {
                    outcomes[i] = Some(send_one(graph, job).await);
                    continue;
                }
            }
        };
        let ours = match &read {
            Some(Some(now)) => {
                match moved_by_us(graph, entry, now, job.series_version.as_deref()).await {
                    Ok(ours) => ours,
                    Err(_) => {
                        outcomes[i] = Some(send_one(graph, job).await);
                        continue;
                    }
                }
            }
            _ => false,
        };
        match check(entry, read.as_ref().map(Option::as_ref), ours) {
            Checked::Done(outcome) => outcomes[i] = Some(outcome),
            Checked::Send(write, based_on) => writes.push((i, write, based_on)),
        }
    }
    let batch: Vec<Write> = writes.iter().map(|(_, w, _)| w.clone()).collect();
    let answers = if batch.is_empty() {
        Ok(Vec::new())
    } else {
        graph.write_batch(&batch).await
    };
    for (n, (i, _, based_on)) in writes.iter().enumerate() {
        let job = &jobs[*i];
        let entry = &job.entry;
        let outcome = match answers.as_ref().map(|a| a.get(n)) {
            Ok(Some(BatchWritten::Written(w))) => {
                match after_write(graph, entry, based_on, Ok(w.clone())).await {
                    Ok(outcome) => outcome,
                    Err(e) => retry_or_fail(entry, e),
                }
            }
            // Not answered cleanly (or the batch failed, perhaps after applying it): alone.
            _ => send_one(graph, job).await,
        };
        outcomes[*i] = Some(outcome);
    }
    outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|| SendOutcome::Failed("not sent".into())))
        .collect()
}

fn event_of(json: &Value) -> Option<Event> {
    match crate::model::Change::from_raw(&json.to_string()) {
        Ok(crate::model::Change::Upsert { event }) => Some(*event),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Answer;

    fn seen() -> Event {
        Event::from_graph(&json!({"id": "E", "subject": "Plan",
            "start": {"dateTime": "2026-12-09T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-12-09T11:00:00", "timeZone": "UTC"},
            "changeKey": "K1", "@odata.etag": "W/\"K1\""}))
        .unwrap()
    }

    fn entry(change: PendingChange, force: bool) -> OutboxEntry {
        let now = Utc::now();
        let mut e = OutboxEntry::new("default".into(), Some(&seen()), change, now, now);
        e.force = force;
        e
    }

    fn server(key: &str, subject: &str) -> Value {
        json!({"id": "E", "subject": subject, "changeKey": key, "@odata.etag": format!("W/\"{key}\""),
            "responseStatus": {"response": "notResponded"}})
    }

    /// What `check` decides, in a word.
    fn decided(c: Checked) -> String {
        match c {
            Checked::Done(SendOutcome::Applied(_)) => "applied".into(),
            Checked::Done(SendOutcome::Failed(_)) => "failed".into(),
            Checked::Done(SendOutcome::Conflict(_)) => "conflict".into(),
            Checked::Done(SendOutcome::Retry { .. }) => "retry".into(),
            Checked::Send(w, _) => format!("send {}", w.if_match.unwrap_or_default()),
        }
    }

    #[test]
    fn the_check_before_sending_decides_as_the_table_says() {
        let rename = || PendingChange::Update {
            fields: json!({"subject": "Mine"}),
        };
        let accept = PendingChange::Answer {
            answer: Answer::Accept,
            comment: None,
            send: true,
            propose: None,
        };
        let unchanged = server("K1", "Plan");
        let theirs = server("K2", "Theirs");
        let mine_applied = server("K2", "Mine");
        let create = {
            let now = Utc::now();
            OutboxEntry::new(
                "default".into(),
                None,
                PendingChange::Create {
                    calendar: None,
                    event: json!({"subject": "New", "transactionId": "t"}),
                },
                now,
                now,
            )
        };
        type Case<'a> = (
            &'a str,
            OutboxEntry,
            Option<Option<&'a Value>>,
            bool,
            &'a str,
        );
        let cases: Vec<Case> = vec![
            ("a create reads nothing", create, None, false, "send "),
            (
                "unchanged: sent on the version seen",
                entry(rename(), false),
                Some(Some(&unchanged)),
                false,
                "send W/\"K1\"",
            ),
            (
                "changed by someone else",
                entry(rename(), false),
                Some(Some(&theirs)),
                false,
                "conflict",
            ),
            (
                "a lost answer applied it",
                entry(rename(), false),
                Some(Some(&mine_applied)),
                false,
                "applied",
            ),
            (
                "--force: over the server's version",
                entry(rename(), true),
                Some(Some(&theirs)),
                false,
                "send W/\"K2\"",
            ),
            (
                "moved by the user's own series change",
                entry(rename(), false),
                Some(Some(&theirs)),
                true,
                "send W/\"K2\"",
            ),
            (
                "a delete of an event gone",
                entry(PendingChange::Delete, false),
                Some(None),
                false,
                "applied",
            ),
            (
                "an edit of an event gone",
                entry(rename(), false),
                Some(None),
                false,
                "failed",
            ),
            (
                "an answer someone else's change moved",
                entry(accept, false),
                Some(Some(&theirs)),
                false,
                "conflict",
            ),
        ];
        for (what, e, current, ours, expected) in cases {
            assert_eq!(decided(check(&e, current, ours)), expected, "{what}");
        }
    }

    #[test]
    fn changes_to_one_event_or_its_series_depend_on_each_other() {
        let now = Utc::now();
        let mut occurrence = seen();
        occurrence.series_master_id = Some("M".into());
        let on = |e: Option<&Event>| {
            OutboxEntry::new("default".into(), e, PendingChange::Delete, now, now)
        };
        let mut master = seen();
        master.id = "M".into();
        let mut other = seen();
        other.id = "F".into();
        assert!(on(Some(&occurrence)).depends_on(&on(Some(&occurrence))));
        assert!(on(Some(&occurrence)).depends_on(&on(Some(&master))));
        assert!(on(Some(&master)).depends_on(&on(Some(&occurrence))));
        assert!(!on(Some(&other)).depends_on(&on(Some(&master))));
        assert!(!on(None).depends_on(&on(Some(&master))));
    }
}
