//! The outbox: the user's changes the server has not applied yet, kept in the cache before
//! anything is sent, so that no crash loses one. One sender at a time across processes sends
//! (it holds `outbox.lock`, see `sync::send`); a change is marked `sending` in the transaction
//! that claims it, and leaves the outbox in the transaction that writes what the server
//! answered into the cache, so it is applied once.

use chrono::{DateTime, Utc};
use redb::{ReadableTable, ReadableTableMetadata};
use serde::{Deserialize, Serialize};

use super::tables::{APPLIED, KEEP, OUTBOX};

/// The key in [`KEEP`] of the next outbox id.
const NEXT_ID: &str = "outbox_next_id";
use super::{Fault, Store, StoreError, Writer};
use crate::model::{Event, EventId, ViewKey};

/// An answer to an invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Answer {
    /// Accept.
    Accept,
    /// Accept tentatively.
    Tentative,
    /// Decline.
    Decline,
}

impl Answer {
    /// The word `pending.change` and the commands use.
    pub fn word(self) -> &'static str {
        match self {
            Answer::Accept => "accept",
            Answer::Tentative => "tentative",
            Answer::Decline => "decline",
        }
    }
}

/// What a pending change asks of the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "lowercase")]
pub enum PendingChange {
    /// A new event: its JSON as Graph takes it, `transactionId` included (made once, when it
    /// was queued, so that a retry never makes a second event).
    Create {
        /// The Graph calendar id; none for the default calendar.
        calendar: Option<String>,
        /// The event's JSON.
        #[serde(rename = "new_event")]
        event: serde_json::Value,
    },
    /// Only the fields the user changed.
    Update {
        /// The fields, as Graph takes them.
        fields: serde_json::Value,
    },
    /// Delete the event (an occurrence alone, or a master's whole series).
    Delete,
    /// The organizer's cancellation, with its message.
    Cancel {
        /// The message to the attendees.
        comment: Option<String>,
    },
    /// An answer to an invitation.
    Answer {
        /// Which.
        answer: Answer,
        /// A message to the organizer.
        comment: Option<String>,
        /// Whether the organizer is told.
        send: bool,
        /// A new time proposed to the organizer (tentative or decline), as Graph's
        /// `proposedNewTime` (`{start, end}`, each `{dateTime, timeZone}`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        propose: Option<serde_json::Value>,
    },
}

impl OutboxEntry {
    /// Whether `self`, queued later, depends on `earlier`: both change one event, or one
    /// changes a series and the other an instance of it (applying either changes the other's
    /// version on the server).
    pub fn depends_on(&self, earlier: &OutboxEntry) -> bool {
        let (Some(mine), Some(theirs)) = (&self.event, &earlier.event) else {
            return false;
        };
        mine == theirs
            || self.series.as_ref() == Some(theirs)
            || earlier.series.as_ref() == Some(mine)
    }

    /// The `pending` field of the event it marks, in `agenda --json` and the others:
    /// `{"id", "change", "state", "error"}` (the error sanitised to one line).
    pub fn pending_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "change": self.change.word(),
            "state": self.state.word(),
            "error": self.error.as_deref().map(|e| crate::text::line(e).into_owned()),
        })
    }
}

impl PendingChange {
    /// The word `pending.change` says: `create`, `update`, `delete`, `cancel`, `accept`,
    /// `tentative` or `decline`.
    pub fn word(&self) -> &'static str {
        match self {
            PendingChange::Create { .. } => "create",
            PendingChange::Update { .. } => "update",
            PendingChange::Delete => "delete",
            PendingChange::Cancel { .. } => "cancel",
            PendingChange::Answer { answer, .. } => answer.word(),
        }
    }
}

/// Where a pending change stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxState {
    /// Waiting to be sent (again).
    Queued,
    /// A sender holds it.
    Sending,
    /// The server refused it.
    Failed,
    /// Someone else changed the event since the user saw it: not sent over their change.
    Conflict,
}

impl OutboxState {
    /// The word the JSON says.
    pub fn word(self) -> &'static str {
        match self {
            OutboxState::Queued => "queued",
            OutboxState::Sending => "sending",
            OutboxState::Failed => "failed",
            OutboxState::Conflict => "conflict",
        }
    }
}

/// A change the server has not applied yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Its number in the outbox.
    pub id: u64,
    /// The calendar view of the event.
    pub view: ViewKey,
    /// The event it changes; none for a create.
    pub event: Option<EventId>,
    /// The change.
    #[serde(flatten)]
    pub change: PendingChange,
    /// The `changeKey` of the version the user changed: a server's event with another is
    /// someone else's change.
    pub base_change_key: Option<String>,
    /// The `@odata.etag` of that version, sent as `If-Match`.
    pub base_etag: Option<String>,
    /// Where it stands.
    pub state: OutboxState,
    /// Sends tried.
    pub tries: u32,
    /// Why the last try failed, or why it was refused.
    pub error: Option<String>,
    /// When it was queued.
    pub queued_at: DateTime<Utc>,
    /// Not sent before this (the undo wait, or a retry's backoff).
    pub not_before: DateTime<Utc>,
    /// Send it over the server's version (`outbox retry --force`).
    #[serde(default)]
    pub force: bool,
    /// The series its event belongs to, if an instance: a change to the series and one to
    /// its instance depend on each other.
    #[serde(default)]
    pub series: Option<EventId>,
}

impl OutboxEntry {
    /// A change of `view`'s event `event` (none: a create) made now, queued for `not_before`.
    pub fn new(
        view: ViewKey,
        event: Option<&Event>,
        change: PendingChange,
        now: DateTime<Utc>,
        not_before: DateTime<Utc>,
    ) -> OutboxEntry {
        OutboxEntry {
            id: 0,
            view,
            event: event.map(|e| e.id.clone()),
            change,
            base_change_key: event.and_then(|e| e.change_key.clone()),
            base_etag: event.and_then(|e| e.etag.clone()),
            state: OutboxState::Queued,
            tries: 0,
            error: None,
            queued_at: now,
            not_before,
            force: false,
            series: event.and_then(|e| e.series_master_id.clone()),
        }
    }

    /// The id a queued create shows under until the server's replaces it.
    pub fn local_id(&self) -> String {
        format!("local:{}", self.id)
    }
}

/// What became of a send.
#[derive(Debug, Clone, PartialEq)]
pub enum SendOutcome {
    /// The server applied it: the event as it now is (none: it is gone, or not read back).
    Applied(Option<Box<Event>>),
    /// Not applied yet: sent again at `retry_at`.
    Retry {
        /// Why this try failed.
        reason: String,
        /// When to try again.
        retry_at: DateTime<Utc>,
    },
    /// The server refused it.
    Failed(String),
    /// Someone else changed the event first.
    Conflict(String),
}

impl Store {
    /// Writes a change to the outbox before anything is sent; returns its id. Views see it at
    /// once: the commit is noted as a change of its view.
    pub fn queue(&self, mut entry: OutboxEntry) -> Result<u64, StoreError> {
        self.run(|| {
            let txn = self.write()?;
            let id = {
                let mut table = txn.open_table(OUTBOX)?;
                // Never an id used before, even once its change has left: the user names
                // changes by id (`outbox retry ID`), and a later one must not take an earlier
                // one's.
                let mut keep = txn.open_table(KEEP)?;
                let counted = keep
                    .get(NEXT_ID)?
                    .and_then(|v| <[u8; 8]>::try_from(v.value()).ok())
                    .map_or(1, u64::from_le_bytes);
                let id = counted.max(table.last()?.map_or(0, |(k, _)| k.value()) + 1);
                keep.insert(NEXT_ID, (id + 1).to_le_bytes().as_slice())?;
                entry.id = id;
                let bytes =
                    serde_json::to_vec(&entry).map_err(|e| Fault::unwritable("a change", e))?;
                table.insert(id, bytes.as_slice())?;
                id
            };
            self.note_change(&txn, &entry.view, None, false)?;
            txn.commit()?;
            Ok(id)
        })
    }

    /// Every change in the outbox, oldest first.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        self.run(|| {
            let read = self.read()?;
            let table = match read.open_table(OUTBOX) {
                Ok(table) => table,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
                Err(e) => return Err(e.into()),
            };
            let mut entries = Vec::new();
            for row in table.iter()? {
                let (_, value) = row?;
                entries.push(decode(value.value())?);
            }
            Ok(entries)
        })
    }

    /// Claims the changes due to be sent: queued ones whose time has come, and ones left
    /// `sending` by a sender that died. Only the holder of the outbox lock calls it (so a
    /// `sending` one has no live sender). Each is `Sending`, with one more try, in the
    /// transaction that reads it.
    pub fn claim_due(&self, now: DateTime<Utc>) -> Result<Vec<OutboxEntry>, StoreError> {
        let ready = |entry: &OutboxEntry| match entry.state {
            OutboxState::Queued => entry.not_before <= now,
            OutboxState::Sending => true,
            OutboxState::Failed | OutboxState::Conflict => false,
        };
        // Mostly nothing is due: a read says so without a write transaction (and its sync to
        // disk) on every round of every process.
        if !self.outbox()?.iter().any(ready) {
            return Ok(Vec::new());
        }
        self.run(|| {
            let txn = self.write()?;
            let mut claimed = Vec::new();
            {
                let mut table = txn.open_table(OUTBOX)?;
                let mut due = Vec::new();
                for row in table.iter()? {
                    let (_, value) = row?;
                    let entry = decode(value.value())?;
                    if ready(&entry) {
                        due.push(entry);
                    }
                }
                for mut entry in due {
                    entry.state = OutboxState::Sending;
                    entry.tries += 1;
                    put(&mut table, &entry)?;
                    claimed.push(entry);
                }
            }
            txn.commit()?;
            Ok(claimed)
        })
    }

    /// Records what became of a send. Applied: the change leaves the outbox, and the event as
    /// the server now has it goes into the cache (or out of it, when it is gone), in one
    /// transaction. A change no longer in the outbox (dropped meanwhile) is left alone.
    pub fn finish_send(&self, id: u64, outcome: SendOutcome) -> Result<(), StoreError> {
        self.run(|| {
            let txn = self.write()?;
            let Some(mut entry) = ({
                let table = txn.open_table(OUTBOX)?;
                let found = table.get(id)?;
                found.map(|v| decode(v.value())).transpose()?
            }) else {
                return Ok(());
            };
            let view = entry.view.clone();
            match outcome {
                SendOutcome::Applied(event) => {
                    if let (Some(id), Some(key)) = (
                        &entry.event,
                        event.as_ref().and_then(|e| e.change_key.as_deref()),
                    ) {
                        let mut applied = txn.open_table(APPLIED)?;
                        // A few hundred ids at most: the oldest go (any will do; they are
                        // only a hint against false conflicts).
                        let oldest = if applied.len()? >= 512 {
                            applied.first()?.map(|(k, _)| k.value().to_owned())
                        } else {
                            None
                        };
                        if let Some(oldest) = oldest {
                            applied.remove(oldest.as_str())?;
                        }
                        applied.insert(id.as_str(), key)?;
                    }
                    let mut table = txn.open_table(OUTBOX)?;
                    table.remove(id)?;
                    // The user's later changes to the same event are based on the version this
                    // one made (the server's answer names it), not on the one it replaced.
                    if let (Some(target), Some(made)) = (&entry.event, &event) {
                        let mut rebased = Vec::new();
                        for row in table.iter()? {
                            let (_, value) = row?;
                            let other = decode(value.value())?;
                            if other.id > id && other.event.as_ref() == Some(target) {
                                rebased.push(other);
                            }
                        }
                        for mut other in rebased {
                            other.base_change_key = made.change_key.clone();
                            other.base_etag = made.etag.clone();
                            put(&mut table, &other)?;
                        }
                    }
                    drop(table);
                    let generation = self
                        .state_in(&txn, &view)?
                        .map_or(0, |s| s.cursor.generation);
                    let mut writer = Writer::open(self, &txn, &view, generation)?;
                    match (&entry.change, event, &entry.event) {
                        (PendingChange::Delete | PendingChange::Cancel { .. }, _, Some(gone)) => {
                            if writer.is_series(gone)? {
                                writer.remove_series(gone)?;
                            } else {
                                writer.remove(gone)?;
                            }
                        }
                        (_, Some(event), _) if event.is_series_master() => {
                            writer.put_master(&event)?;
                        }
                        (_, Some(event), _) => writer.upsert(&event)?,
                        _ => {}
                    }
                    let outcome = writer.finish()?;
                    self.note_change(&txn, &view, outcome.range, false)?;
                }
                SendOutcome::Retry { reason, retry_at } => {
                    entry.state = OutboxState::Queued;
                    entry.error = Some(reason);
                    entry.not_before = retry_at;
                    put(&mut txn.open_table(OUTBOX)?, &entry)?;
                    self.note_change(&txn, &view, None, false)?;
                }
                SendOutcome::Failed(reason) => {
                    entry.state = OutboxState::Failed;
                    entry.error = Some(reason);
                    put(&mut txn.open_table(OUTBOX)?, &entry)?;
                    self.note_change(&txn, &view, None, false)?;
                }
                SendOutcome::Conflict(reason) => {
                    entry.state = OutboxState::Conflict;
                    entry.error = Some(reason);
                    put(&mut txn.open_table(OUTBOX)?, &entry)?;
                    self.note_change(&txn, &view, None, false)?;
                }
            }
            txn.commit()?;
            Ok(())
        })
    }

    /// The `changeKey` the user's last applied change left on event `id`, if any is known.
    pub fn applied_version(&self, id: &str) -> Result<Option<String>, StoreError> {
        self.run(|| {
            let read = self.read()?;
            let table = match read.open_table(APPLIED) {
                Ok(table) => table,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            Ok(table.get(id)?.map(|v| v.value().to_owned()))
        })
    }

    /// Lets go of a change this process claimed and will not finish (it gives up waiting):
    /// queued again at once, so that the outbox says so (the next sender would claim it
    /// anyway). Its send may have reached the server: the next one tells (see the sender),
    /// so it is still applied once.
    pub fn release(&self, id: u64) -> Result<(), StoreError> {
        self.run(|| {
            let txn = self.write()?;
            {
                let mut table = txn.open_table(OUTBOX)?;
                let found = table.get(id)?.map(|v| decode(v.value())).transpose()?;
                if let Some(mut entry) = found.filter(|e| e.state == OutboxState::Sending) {
                    entry.state = OutboxState::Queued;
                    put(&mut table, &entry)?;
                }
            }
            txn.commit()?;
            Ok(())
        })
    }

    /// Gives a change up: it leaves the outbox, and the views show the server's version.
    /// False when there is no such change.
    pub fn drop_change(&self, id: u64) -> Result<bool, StoreError> {
        self.run(|| {
            let txn = self.write()?;
            let view = {
                let mut table = txn.open_table(OUTBOX)?;
                let removed = table.remove(id)?;
                removed
                    .map(|v| decode(v.value()))
                    .transpose()?
                    .map(|e| e.view)
            };
            if let Some(view) = &view {
                self.note_change(&txn, view, None, false)?;
            }
            txn.commit()?;
            Ok(view.is_some())
        })
    }

    /// Takes back a change that was never sent (the TUI's undo): it leaves the outbox only if
    /// it is still queued and no send of it was tried, in one transaction with that check, so
    /// a sender claiming it at the same moment either gets it or finds it gone. False when it
    /// was sent (or tried) already, or is not there.
    pub fn withdraw(&self, id: u64) -> Result<bool, StoreError> {
        self.run(|| {
            let txn = self.write()?;
            let view = {
                let mut table = txn.open_table(OUTBOX)?;
                let found = table.get(id)?.map(|v| decode(v.value())).transpose()?;
                match found.filter(|e| e.state == OutboxState::Queued && e.tries == 0) {
                    Some(entry) => {
                        table.remove(id)?;
                        Some(entry.view)
                    }
                    None => None,
                }
            };
            if let Some(view) = &view {
                self.note_change(&txn, view, None, false)?;
            }
            txn.commit()?;
            Ok(view.is_some())
        })
    }

    /// Queues a failed or conflicting change again, now; `force` sends it over the server's
    /// version. False when there is no such change.
    pub fn retry_change(
        &self,
        id: u64,
        force: bool,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.run(|| {
            let txn = self.write()?;
            let found = {
                let mut table = txn.open_table(OUTBOX)?;
                let found = table.get(id)?.map(|v| decode(v.value())).transpose()?;
                // One being sent now is left to its sender.
                if let Some(mut entry) = found.clone().filter(|e| e.state != OutboxState::Sending) {
                    entry.state = OutboxState::Queued;
                    entry.not_before = now;
                    entry.force |= force;
                    put(&mut table, &entry)?;
                }
                found
            };
            if let Some(entry) = &found {
                self.note_change(&txn, &entry.view, None, false)?;
            }
            txn.commit()?;
            Ok(found.is_some())
        })
    }
}

/// The changes a damaged cache still holds, as stored (id and JSON), so that they outlive it:
/// whatever of its outbox can be read. Nothing when the file does not open.
pub(super) fn salvage(path: &std::path::Path) -> Vec<(u64, Vec<u8>)> {
    use redb::ReadableDatabase;
    let Ok(db) = super::open_read_only(path) else {
        return Vec::new();
    };
    let Ok(read) = db.begin_read() else {
        return Vec::new();
    };
    let Ok(table) = read.open_table(OUTBOX) else {
        return Vec::new();
    };
    let Ok(rows) = table.iter() else {
        return Vec::new();
    };
    rows.map_while(Result::ok)
        .filter(|(_, v)| decode(v.value()).is_ok())
        .map(|(k, v)| (k.value(), v.value().to_vec()))
        .collect()
}

impl Store {
    /// Puts changes carried over from a damaged cache into this (new) one, with their ids,
    /// and shows them in their views.
    pub(super) fn restore_outbox(&self, entries: Vec<(u64, Vec<u8>)>) -> Result<(), StoreError> {
        self.run(|| {
            let txn = self.write()?;
            {
                let mut table = txn.open_table(OUTBOX)?;
                let mut keep = txn.open_table(KEEP)?;
                let mut next = 1;
                for (id, bytes) in &entries {
                    let mut entry = decode(bytes)?;
                    // Whoever was sending it died with the cache: queued again.
                    if entry.state == OutboxState::Sending {
                        entry.state = OutboxState::Queued;
                    }
                    put(&mut table, &entry)?;
                    next = next.max(id + 1);
                    self.note_change(&txn, &entry.view, None, false)?;
                }
                keep.insert(NEXT_ID, next.to_le_bytes().as_slice())?;
            }
            txn.commit()?;
            Ok(())
        })
    }
}

/// A change as the outbox keeps it. One that does not read is reported, never taken for a
/// damaged cache: that would move the file aside, and the user's changes with it.
fn decode(bytes: &[u8]) -> Result<OutboxEntry, Fault> {
    serde_json::from_slice(bytes)
        .map_err(|e| Fault::Unwritable(format!("a change in the outbox does not read: {e}")))
}

fn put(table: &mut redb::Table<'_, u64, &'static [u8]>, entry: &OutboxEntry) -> Result<(), Fault> {
    let bytes = serde_json::to_vec(entry).map_err(|e| Fault::unwritable("a change", e))?;
    table.insert(entry.id, bytes.as_slice())?;
    Ok(())
}

/// The views' events with the pending changes over them, each marked: an update's fields, an
/// answer's response, a delete's or cancel's event gone, a create's event added (as
/// `local:ID`, in its view). A refused or conflicting change is not shown over the server's
/// version (it is only marked). Returns, by event id, the change that marks each.
pub fn overlay(
    events: &mut Vec<crate::model::CachedEvent>,
    entries: &[OutboxEntry],
) -> std::collections::HashMap<String, OutboxEntry> {
    use crate::model::{CachedEvent, Response};
    let mut marks = std::collections::HashMap::new();
    for entry in entries {
        let shown = matches!(entry.state, OutboxState::Queued | OutboxState::Sending);
        match (&entry.change, &entry.event) {
            (PendingChange::Create { event, .. }, _) => {
                if !shown {
                    continue;
                }
                let mut json = event.clone();
                json["id"] = serde_json::Value::String(entry.local_id());
                if let Ok(mut made) = Event::from_graph(&json) {
                    made.is_organizer = Some(true);
                    made.response = Some(Response::Organizer);
                    events.push(CachedEvent {
                        view: entry.view.clone(),
                        event: made,
                    });
                    marks.insert(entry.local_id(), entry.clone());
                }
            }
            (change, Some(id)) => {
                let Some(pos) = events
                    .iter()
                    .position(|c| c.view == entry.view && c.event.id == *id)
                else {
                    continue;
                };
                marks.insert(id.to_string(), entry.clone());
                if !shown {
                    continue;
                }
                match change {
                    PendingChange::Delete | PendingChange::Cancel { .. } => {
                        events.remove(pos);
                    }
                    PendingChange::Answer { answer, .. } => {
                        events[pos].event.response = Some(match answer {
                            Answer::Accept => Response::Accepted,
                            Answer::Tentative => Response::TentativelyAccepted,
                            Answer::Decline => Response::Declined,
                        });
                    }
                    PendingChange::Update { fields } => {
                        let e = &mut events[pos].event;
                        if let Some(s) = fields["subject"].as_str() {
                            e.subject = Some(s.to_owned());
                        }
                        if let Some(l) = fields["location"]["displayName"].as_str() {
                            e.location = Some(l.to_owned());
                        }
                        let all_day = e.all_day;
                        if let Some(t) =
                            crate::model::EventTime::from_graph(&fields["start"], all_day)
                        {
                            e.start = Some(t);
                        }
                        if let Some(t) =
                            crate::model::EventTime::from_graph(&fields["end"], all_day)
                        {
                            e.end = Some(t);
                        }
                    }
                    PendingChange::Create { .. } => {}
                }
            }
            _ => {}
        }
    }
    events.sort_by_key(|c| (c.event.span().map(|s| s.0), c.event.id.clone()));
    marks
}
