//! The commands that change the calendar: `rsvp`, `edit`, `delete`, `new`, and the outbox's
//! `outbox`, `outbox retry`, `outbox drop`. Each change is written to the outbox before
//! anything is sent, then sent at once; what the server made of it within `--wait` decides the
//! exit code (0 applied, 1 refused, 75 still queued: the next sync of any deltacal process
//! sends it).

use std::sync::Arc;

use chrono::Utc;
use serde_json::{Value, json};

use super::UsageError;
use crate::change;
pub use crate::change::{Edit, NewEvent};
use crate::config::Config;
use crate::model::CachedEvent;
use crate::store::{Answer, OutboxEntry, OutboxState, PendingChange, SendOutcome, Store};
use crate::sync::SyncEngine;
use crate::sync::send::READ_ONLY_SIGN_IN;

/// Exit code 75: the change is queued, not yet applied (the server could not be reached in
/// time); the next sync sends it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Queued(pub String);

/// Exit code 1: the change was refused (by the server, or before any request for what the
/// server would refuse).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// `--wait`'s default, in seconds.
pub const DEFAULT_WAIT_SECS: u64 = 10;

/// The checks every write makes before anything is queued.
fn writable(config: &Config) -> Result<(), UsageError> {
    if config.account.read_only {
        return Err(UsageError(
            "[account] read_only is set in the config: deltacal does not change the calendar (remove it and run `deltacal login` to allow changes)".into(),
        ));
    }
    Ok(())
}

/// The cache, which must exist: the events a change names are in it (none is made here).
fn open_cache(config: &Config) -> anyhow::Result<Store> {
    super::check_data_dir(config)?;
    let path = config.cache_path();
    if !path.exists() {
        return Err(UsageError(format!(
            "no cache yet at {}: run `deltacal sync` first",
            path.display()
        ))
        .into());
    }
    Ok(Store::open(&path)?)
}

/// The cached event `id` names, as `agenda --json` prints ids; one of the user's own
/// calendars (changes to others' are refused).
fn cached(config: &Config, store: &Store, id: &str) -> anyhow::Result<CachedEvent> {
    let found = store.find_event(id)?.ok_or_else(|| {
        UsageError(format!(
            "no cached event has the id {:?}: `deltacal agenda --json` prints them (run `deltacal sync` first if it is new)",
            crate::text::line(id)
        ))
    })?;
    change::own_calendar(config, &found.view).map_err(Refused)?;
    Ok(found)
}

/// The series' master for `--series`, else the event itself.
fn target(store: &Store, event: CachedEvent, series: bool) -> anyhow::Result<CachedEvent> {
    if !series {
        return Ok(event);
    }
    let Some(master) = event.event.series_master_id.clone() else {
        return Err(UsageError("--series: the event is not part of a series".into()).into());
    };
    match store.find_event(&master)? {
        Some(master) => Ok(master),
        // Masters are kept apart from the rows (they never show): a bare reference serves.
        None => {
            let mut whole = event;
            whole.event.id = master;
            whole.event.change_key = None;
            whole.event.etag = None;
            Ok(whole)
        }
    }
}

/// Queues `entry`, sends what is due within `wait`, and says what became of it.
async fn queue_and_send(
    config: &Arc<Config>,
    entry: OutboxEntry,
    what: &str,
    wait: u64,
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    let engine = SyncEngine::from_config(config.clone())?;
    let store = engine.store().clone();
    let series = matches!(&entry.change, PendingChange::Create { event, .. } if event["recurrence"].is_object());
    let view = entry.view.clone();
    let id = store.queue(entry)?;
    if !engine.session().can_write().await {
        return Err(Refused(format!(
            "{READ_ONLY_SIGN_IN}; the change is kept in the outbox (id {id}) and sent once you have"
        ))
        .into());
    }
    // Sent again at once while the server asks for that (an unfounded 412), within `wait`.
    let send = async {
        loop {
            let done = engine.send_outbox().await;
            let again = done.iter().any(|(sent, outcome)| {
                *sent == id
                    && matches!(outcome, SendOutcome::Retry { retry_at, .. } if *retry_at <= Utc::now())
            });
            if !again {
                return done;
            }
        }
    };
    let sent = tokio::time::timeout(std::time::Duration::from_secs(wait), send).await;
    let Ok(done) = sent else {
        store.release(id)?;
        return Err(Queued(format!(
            "queued (id {id}): Graph did not answer within {wait} s; the next `deltacal sync` (or the app) sends it"
        ))
        .into());
    };
    let outcome = done
        .into_iter()
        .find(|(sent, _)| *sent == id)
        .map(|(_, outcome)| outcome);
    match outcome {
        Some(SendOutcome::Applied(_)) => {
            // A new series: the server made its occurrences, which a round brings in (the
            // answer holds only the master).
            if series {
                let cal = config.calendars.iter().find(|c| c.key == view).cloned();
                if let Some(cal) = cal
                    && let Err(e) = engine.sync_view(&cal).await
                {
                    eprintln!(
                        "deltacal: made; its occurrences show after the next sync ({e})"
                    );
                }
            }
            writeln!(out, "{what}")?;
            Ok(())
        }
        Some(SendOutcome::Failed(reason)) => Err(Refused(format!(
            "refused: {reason} (kept in the outbox as failed, id {id})"
        ))
        .into()),
        Some(SendOutcome::Conflict(reason)) => {
            Err(Refused(format!("not sent: the event was {reason}").replace(" ID", &format!(" {id}"))).into())
        }
        Some(SendOutcome::Retry { reason, .. }) if reason == READ_ONLY_SIGN_IN => Err(Refused(
            format!("{reason}; the change is kept in the outbox (id {id})"),
        )
        .into()),
        Some(SendOutcome::Retry { reason, .. }) => Err(Queued(format!(
            "queued (id {id}): {reason}; the next `deltacal sync` (or the app) sends it"
        ))
        .into()),
        None => Err(Queued(format!(
            "queued (id {id}): not sent now (another deltacal process may be sending it; `deltacal outbox` shows it)"
        ))
        .into()),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// What `rsvp` says.
#[derive(Debug, Clone)]
pub struct Rsvp {
    /// The event's id, as `agenda --json` prints it.
    pub event: String,
    /// Accept, tentative or decline.
    pub answer: Answer,
    /// A message to the organizer.
    pub comment: Option<String>,
    /// Do not tell the organizer.
    pub no_send: bool,
    /// A new time to propose: `WHEN..WHEN`.
    pub propose: Option<String>,
    /// The whole series of an occurrence.
    pub series: bool,
}

/// `deltacal rsvp EVENT accept|tentative|decline`.
pub fn rsvp(
    config: &Arc<Config>,
    rsvp: Rsvp,
    wait: u64,
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    writable(config)?;
    let Rsvp {
        event: id,
        answer,
        comment,
        no_send,
        propose,
        series,
    } = rsvp;
    if let Some(why) = change::answer_misuse(answer, comment.is_some(), !no_send, propose.is_some())
    {
        return Err(UsageError(why.into()).into());
    }
    let now = Utc::now();
    let propose = propose
        .as_deref()
        .map(|p| change::proposal(p, config, now).map_err(UsageError))
        .transpose()?;
    let store = open_cache(config)?;
    let event = target(&store, cached(config, &store, &id)?, series)?;
    let e = &event.event;
    if let Some(why) = change::answer_refusal(e) {
        return Err(Refused(why).into());
    }
    let entry = OutboxEntry::new(
        event.view.clone(),
        Some(e),
        PendingChange::Answer {
            answer,
            comment,
            send: !no_send,
            propose,
        },
        now,
        now,
    );
    let what = change::done_words(&entry.change, e.title());
    drop(store);
    runtime()?.block_on(queue_and_send(config, entry, &what, wait, out))
}

/// `deltacal edit EVENT`: only the fields given are sent.
pub fn edit(
    config: &Arc<Config>,
    id: &str,
    edit: Edit,
    series: bool,
    dry_run: bool,
    wait: u64,
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    writable(config)?;
    let store = open_cache(config)?;
    let event = target(&store, cached(config, &store, id)?, series)?;
    let now = Utc::now();
    let fields = change::edit_fields(config, &event.event, &edit, now).map_err(UsageError)?;
    if dry_run {
        writeln!(out, "{}", serde_json::to_string_pretty(&fields)?)?;
        return Ok(());
    }
    let what = format!("Changed “{}”.", crate::text::line(event.event.title()));
    let entry = OutboxEntry::new(
        event.view.clone(),
        Some(&event.event),
        PendingChange::Update { fields },
        now,
        now,
    );
    drop(store);
    runtime()?.block_on(queue_and_send(config, entry, &what, wait, out))
}

/// `deltacal delete EVENT`: a meeting the user organizes with other attendees is cancelled
/// for them (with the comment), and only with `--yes`.
pub fn delete(
    config: &Arc<Config>,
    id: &str,
    series: bool,
    comment: Option<String>,
    yes: bool,
    wait: u64,
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    writable(config)?;
    let store = open_cache(config)?;
    let event = target(&store, cached(config, &store, id)?, series)?;
    let e = &event.event;
    let others = change::other_attendees(e);
    if change::cancels_for_others(e) && !yes {
        return Err(UsageError(format!(
            "“{}” has {others} other attendee(s): deleting it cancels it for them; add --yes (and --comment to tell them why)",
            crate::text::line(e.title())
        ))
        .into());
    }
    let change = change::removal(e, comment);
    let what = match change {
        PendingChange::Cancel { .. } => format!(
            "Cancelled “{}” for {others} attendee(s).",
            crate::text::line(e.title())
        ),
        _ => change::done_words(&change, e.title()),
    };
    let now = Utc::now();
    let entry = OutboxEntry::new(event.view.clone(), Some(e), change, now, now);
    drop(store);
    runtime()?.block_on(queue_and_send(config, entry, &what, wait, out))
}

/// `deltacal new TEXT...`: the event the text and flags describe.
pub fn new(
    config: &Arc<Config>,
    new: NewEvent,
    dry_run: bool,
    json_out: bool,
    wait: u64,
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    writable(config)?;
    let now = Utc::now();
    let (cal, event) = change::new_event(config, &new, now).map_err(UsageError)?;
    let subject = event["subject"].as_str().unwrap_or_default().to_owned();
    if dry_run {
        writeln!(out, "{}", serde_json::to_string_pretty(&event)?)?;
        return Ok(());
    }
    let what = if json_out {
        String::new()
    } else {
        match &new.repeat {
            Some(spec) => format!(
                "Added “{}”, repeating {}.",
                crate::text::line(&subject),
                crate::text::line(spec)
            ),
            None => format!("Added “{}”.", crate::text::line(&subject)),
        }
    };
    let entry = OutboxEntry::new(
        cal.key.clone(),
        None,
        PendingChange::Create {
            calendar: cal.graph_id.clone(),
            event,
        },
        now,
        now,
    );
    runtime()?.block_on(queue_and_send(config, entry, &what, wait, out))
}

/// `deltacal outbox`: the changes not yet applied.
pub fn list(config: &Config, json_out: bool, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    super::check_data_dir(config)?;
    let entries = match Store::open_for_reading(&config.cache_path()) {
        Ok(store) => store.outbox()?,
        Err(_) => Vec::new(),
    };
    if json_out {
        let items: Vec<Value> = entries.iter().map(entry_json).collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&items)?)?;
        return Ok(());
    }
    if entries.is_empty() {
        writeln!(out, "Nothing waits to be sent.")?;
    }
    for e in &entries {
        writeln!(
            out,
            "{:>4}  {:<9} {:<8} {}{}",
            e.id,
            e.change.word(),
            e.state.word(),
            e.event
                .as_ref()
                .map_or_else(|| e.local_id(), |id| id.to_string()),
            e.error
                .as_deref()
                .map(|r| format!("  ({})", crate::text::line(r)))
                .unwrap_or_default()
        )?;
    }
    Ok(())
}

/// An outbox entry as `outbox --json` prints it.
pub fn entry_json(e: &OutboxEntry) -> Value {
    json!({
        "id": e.id,
        "change": e.change.word(),
        "event": e.event.as_ref().map(|id| id.to_string()).unwrap_or_else(|| e.local_id()),
        "calendar": e.view.to_string(),
        "state": e.state.word(),
        "tries": e.tries,
        "error": e.error.as_deref().map(|r| crate::text::line(r).into_owned()),
        "queued_at": e.queued_at,
    })
}

/// `deltacal outbox retry [ID] [--force]`: sends again (every failed or conflicting change
/// without an id).
pub fn retry(
    config: &Arc<Config>,
    id: Option<u64>,
    force: bool,
    wait: u64,
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    writable(config)?;
    let store = open_cache(config)?;
    let now = Utc::now();
    let ids: Vec<u64> = match id {
        Some(id) => vec![id],
        None => store
            .outbox()?
            .into_iter()
            .filter(|e| matches!(e.state, OutboxState::Failed | OutboxState::Conflict))
            .map(|e| e.id)
            .collect(),
    };
    for id in &ids {
        if !store.retry_change(*id, force, now)? {
            return Err(UsageError(format!("the outbox has no change {id}")).into());
        }
    }
    drop(store);
    let engine = SyncEngine::from_config(config.clone())?;
    let done = runtime()?.block_on(async {
        tokio::time::timeout(std::time::Duration::from_secs(wait), engine.send_outbox()).await
    });
    let done = done.unwrap_or_default();
    let mut left = 0;
    for id in &ids {
        match done.iter().find(|(sent, _)| sent == id).map(|(_, o)| o) {
            Some(SendOutcome::Applied(_)) => writeln!(out, "{id}: applied")?,
            Some(SendOutcome::Failed(r) | SendOutcome::Conflict(r)) => {
                left += 1;
                writeln!(out, "{id}: {}", crate::text::line(r))?;
            }
            _ => {
                left += 1;
                writeln!(out, "{id}: still queued")?;
            }
        }
    }
    if left > 0 {
        return Err(Queued(format!("{left} change(s) not applied")).into());
    }
    Ok(())
}

/// `deltacal outbox drop ID`: gives a change up; the cache shows the server's version.
pub fn drop_change(config: &Config, id: u64, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    let store = open_cache(config)?;
    if !store.drop_change(id)? {
        return Err(UsageError(format!("the outbox has no change {id}")).into());
    }
    writeln!(out, "Dropped change {id}.")?;
    Ok(())
}
