//! The commands that change the calendar: `rsvp`, `edit`, `delete`, `new`, and the outbox's
//! `outbox`, `outbox retry`, `outbox drop`. Each change is written to the outbox before
//! anything is sent, then sent at once; what the server made of it within `--wait` decides the
//! exit code (0 applied, 1 refused, 75 still queued: the next sync of any deltacal process
//! sends it).

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde_json::{Value, json};

use super::UsageError;
use crate::config::Config;
use crate::model::{CachedEvent, Response};
use crate::store::{Answer, OutboxEntry, OutboxState, PendingChange, SendOutcome, Store};
use crate::sync::SyncEngine;
use crate::sync::send::READ_ONLY_SIGN_IN;
use crate::tz::DisplayZone;

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

/// The cached event `id` names, as `agenda --json` prints ids.
fn cached(store: &Store, id: &str) -> anyhow::Result<CachedEvent> {
    store.find_event(id)?.ok_or_else(|| {
        UsageError(format!(
            "no cached event has the id {:?}: `deltacal agenda --json` prints them (run `deltacal sync` first if it is new)",
            crate::text::line(id)
        ))
        .into()
    })
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

/// `--propose WHEN..WHEN` as Graph's `proposedNewTime`.
fn proposal(text: &str, config: &Config, now: DateTime<Utc>) -> Result<Value, UsageError> {
    let bad = |e: String| UsageError(format!("--propose: {e}"));
    let (a, b) = text.split_once("..").ok_or_else(|| {
        bad(format!(
            "{:?} is not a span: give WHEN..WHEN, e.g. `fri 10:00..fri 11:00`",
            crate::text::line(text)
        ))
    })?;
    let start = parse_when(a, config, now).map_err(bad)?;
    // The end may give only a time: on the start's day.
    let end = match super::quick_add::parse_time(b.trim()) {
        Some(time) => {
            let day = config.display.zone.date_of(start);
            parse_when(&format!("{day} {}", time.format("%H:%M")), config, now).map_err(bad)?
        }
        None => parse_when(b, config, now).map_err(bad)?,
    };
    if end <= start {
        return Err(bad("the end is not after the start".into()));
    }
    let zone = &config.display.zone;
    Ok(json!({"start": graph_time(start, zone), "end": graph_time(end, zone)}))
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
    if no_send && comment.is_some() {
        return Err(UsageError(
            "--comment needs the answer sent: Graph refuses a comment with --no-send".into(),
        )
        .into());
    }
    if no_send && propose.is_some() {
        return Err(UsageError(
            "--propose needs the answer sent: Graph refuses a proposal with --no-send".into(),
        )
        .into());
    }
    if answer == Answer::Accept && propose.is_some() {
        return Err(UsageError(
            "--propose goes with tentative or decline: Graph refuses a proposal on accept".into(),
        )
        .into());
    }
    let now = Utc::now();
    let propose = propose
        .as_deref()
        .map(|p| proposal(p, config, now))
        .transpose()?;
    let store = open_cache(config)?;
    let event = target(&store, cached(&store, &id)?, series)?;
    let e = &event.event;
    if e.is_organizer == Some(true) || e.response == Some(Response::Organizer) {
        return Err(Refused(format!(
            "“{}” is your own meeting: the organizer does not answer it",
            crate::text::line(e.title())
        ))
        .into());
    }
    if e.cancelled {
        return Err(Refused(format!(
            "“{}” is cancelled: there is nothing to answer",
            crate::text::line(e.title())
        ))
        .into());
    }
    let what = format!(
        "{} “{}”{}.",
        match answer {
            Answer::Accept => "Accepted",
            Answer::Tentative => "Tentatively accepted",
            Answer::Decline => "Declined",
        },
        crate::text::line(e.title()),
        if propose.is_some() {
            ", with a new time proposed"
        } else {
            ""
        }
    );
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
    drop(store);
    runtime()?.block_on(queue_and_send(config, entry, &what, wait, out))
}

/// What `edit` changes.
#[derive(Debug, Default, Clone)]
pub struct Edit {
    /// A new subject.
    pub subject: Option<String>,
    /// A new start (WHEN).
    pub start: Option<String>,
    /// A new end (WHEN).
    pub end: Option<String>,
    /// Moves start and end by this much (`+30m`, `-1h`, `+1d`).
    pub move_by: Option<String>,
    /// A new location.
    pub location: Option<String>,
    /// Addresses to invite.
    pub add_attendees: Vec<String>,
    /// Addresses to uninvite.
    pub remove_attendees: Vec<String>,
}

/// The event's attendees with `add` invited and `remove` taken off, as Graph takes the whole
/// list (a PATCH replaces it); None when that changes nothing. An address to remove that is
/// not invited is a usage error.
fn attendees_after(
    event: &crate::model::Event,
    add: &[String],
    remove: &[String],
) -> Result<Option<Value>, UsageError> {
    if add.is_empty() && remove.is_empty() {
        return Ok(None);
    }
    let same =
        |a: &Option<String>, b: &str| a.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(b));
    for r in remove {
        if !event.attendees.iter().any(|a| same(&a.person.address, r)) {
            return Err(UsageError(format!(
                "--remove-attendee {}: not invited to this event",
                crate::text::line(r)
            )));
        }
    }
    let mut list: Vec<Value> = event
        .attendees
        .iter()
        .filter(|a| !remove.iter().any(|r| same(&a.person.address, r)))
        .map(|a| {
            json!({"emailAddress": {"address": a.person.address, "name": a.person.name},
                "type": a.kind.as_ref().map_or("required", |k| k.as_graph())})
        })
        .collect();
    for address in add {
        if !address.contains('@') {
            return Err(UsageError(format!(
                "--add-attendee {}: not an e-mail address",
                crate::text::line(address)
            )));
        }
        if !event
            .attendees
            .iter()
            .any(|a| same(&a.person.address, address))
        {
            list.push(json!({"emailAddress": {"address": address}, "type": "required"}));
        }
    }
    Ok(Some(Value::Array(list)))
}

/// A WHEN: a DATE form and a time (`tomorrow 10:00`, `fri 9am`), or RFC 3339; a time given
/// without a zone is in the display zone.
pub fn parse_when(
    text: &str,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.to_utc());
    }
    let today = config.display.zone.date_of(now);
    let (day, time) = match text.rsplit_once(' ') {
        Some((day, time)) => (crate::days::parse_day(day, today)?, time),
        None => (today, text),
    };
    let time = super::quick_add::parse_time(time).ok_or_else(|| {
        format!("{text:?} is not a time: give e.g. `tomorrow 10:00`, `fri 9am` or RFC 3339")
    })?;
    let local = NaiveDateTime::new(day, time);
    Ok(match config.display.zone {
        DisplayZone::Local => chrono::Local
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.to_utc())
            .unwrap_or_else(|| local.and_utc()),
        DisplayZone::Named(tz) => crate::tz::local_to_utc(local, tz),
    })
}

use chrono::TimeZone as _;

/// Graph's `{dateTime, timeZone}` of an instant, in the display zone's IANA name (so that
/// Outlook shows the event in the zone it was made in); UTC when the system's zone has no name
/// deltacal knows. The instant is the same either way.
pub fn graph_time(t: DateTime<Utc>, zone: &DisplayZone) -> Value {
    match zone.named() {
        Some(tz) => json!({
            "dateTime": t.with_timezone(&tz).naive_local().format("%Y-%m-%dT%H:%M:%S").to_string(),
            "timeZone": tz.name(),
        }),
        None => json!({
            "dateTime": t.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string(),
            "timeZone": "UTC",
        }),
    }
}

/// An all-day event's bound: midnight of `day`, in the display zone's name (Graph ignores the
/// time part and keeps the zone).
fn graph_midnight(day: chrono::NaiveDate, zone: &DisplayZone) -> Value {
    let name = zone.named().map_or("UTC", |tz| tz.name());
    json!({"dateTime": format!("{day}T00:00:00"), "timeZone": name})
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
    let event = target(&store, cached(&store, id)?, series)?;
    let now = Utc::now();
    let mut fields = serde_json::Map::new();
    if let Some(s) = &edit.subject {
        fields.insert("subject".into(), json!(s));
    }
    if let Some(l) = &edit.location {
        fields.insert("location".into(), json!({"displayName": l}));
    }
    if let Some(list) = attendees_after(&event.event, &edit.add_attendees, &edit.remove_attendees)?
    {
        fields.insert("attendees".into(), list);
    }
    let (start, end) = if event.event.all_day {
        all_day_times(config, &event.event, &edit)?
    } else {
        timed_times(config, &event.event, &edit, now)?
    };
    if let Some(s) = start {
        fields.insert("start".into(), s);
    }
    if let Some(e) = end {
        fields.insert("end".into(), e);
    }
    if fields.is_empty() {
        return Err(UsageError(
            "nothing to change: give --subject, --start, --end, --move, --location, --add-attendee or --remove-attendee".into(),
        )
        .into());
    }
    let fields = Value::Object(fields);
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

/// The new `start` and `end` (Graph's JSON) of a timed event that `edit` asks for: WHENs, a
/// shift, a new start alone keeping the length.
fn timed_times(
    config: &Config,
    event: &crate::model::Event,
    edit: &Edit,
    now: DateTime<Utc>,
) -> Result<(Option<Value>, Option<Value>), UsageError> {
    let span = event.span();
    let when = |t: &str, flag: &str| {
        parse_when(t, config, now).map_err(|e| UsageError(format!("{flag}: {e}")))
    };
    let mut start = edit
        .start
        .as_deref()
        .map(|t| when(t, "--start"))
        .transpose()?;
    let mut end = edit.end.as_deref().map(|t| when(t, "--end")).transpose()?;
    if let Some(by) = &edit.move_by {
        let shift = super::quick_add::parse_shift(by).ok_or_else(|| {
            UsageError(format!(
                "--move: {by:?} is not a shift: give e.g. +30m, -1h, +1d"
            ))
        })?;
        let (a, b) = span.ok_or_else(|| UsageError("--move: the event has no times".into()))?;
        start = Some(start.unwrap_or(a) + shift);
        end = Some(end.unwrap_or(b) + shift);
    }
    // A new start alone keeps the length.
    if let (Some(s), None, Some((a, b))) = (start, end, span) {
        end = Some(s + (b - a));
    }
    if let (Some(s), Some(e)) = (start.or(span.map(|x| x.0)), end.or(span.map(|x| x.1)))
        && e < s
    {
        return Err(UsageError("the end would be before the start".into()));
    }
    let zone = &config.display.zone;
    Ok((
        start.map(|s| graph_time(s, zone)),
        end.map(|e| graph_time(e, zone)),
    ))
}

/// The new `start` and `end` of an all-day event that `edit` asks for: its days move by whole
/// days (`--move +1d`), or to the DATEs `--start` and `--end` name (the end inclusive, as the
/// agenda shows it); a time of day is refused, since Graph would ignore it.
fn all_day_times(
    config: &Config,
    event: &crate::model::Event,
    edit: &Edit,
) -> Result<(Option<Value>, Option<Value>), UsageError> {
    use crate::model::EventTime;
    let date = |t: &Option<EventTime>| match t {
        Some(EventTime::AllDay { date, .. }) => Some(*date),
        _ => None,
    };
    let (Some(first), Some(after)) = (date(&event.start), date(&event.end)) else {
        return Err(UsageError("the all-day event has no dates".into()));
    };
    let today = config.display.zone.date_of(Utc::now());
    let day = |t: &str, flag: &str| {
        crate::days::parse_day(t, today).map_err(|e| {
            UsageError(format!(
                "{flag}: {e} (an all-day event takes a DATE, without a time)"
            ))
        })
    };
    let mut new_first = edit
        .start
        .as_deref()
        .map(|t| day(t, "--start"))
        .transpose()?;
    let mut new_after = edit
        .end
        .as_deref()
        .map(|t| day(t, "--end").map(|d| d + Duration::days(1)))
        .transpose()?;
    if let Some(by) = &edit.move_by {
        let shift = super::quick_add::parse_shift(by)
            .filter(|s| s.num_seconds() % 86_400 == 0)
            .ok_or_else(|| {
                UsageError(format!(
                    "--move: {by:?}: an all-day event moves by whole days (+1d, -2d, +1w)"
                ))
            })?;
        let days = Duration::days(shift.num_days());
        new_first = Some(new_first.unwrap_or(first) + days);
        new_after = Some(new_after.unwrap_or(after) + days);
    }
    // A new first day alone keeps the length.
    if let (Some(f), None) = (new_first, new_after) {
        new_after = Some(f + (after - first));
    }
    if new_after.unwrap_or(after) <= new_first.unwrap_or(first) {
        return Err(UsageError("the end would be before the start".into()));
    }
    let zone = &config.display.zone;
    Ok((
        new_first.map(|d| graph_midnight(d, zone)),
        new_after.map(|d| graph_midnight(d, zone)),
    ))
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
    let event = target(&store, cached(&store, id)?, series)?;
    let e = &event.event;
    let others = e
        .attendees
        .iter()
        .filter(|a| {
            e.organizer
                .as_ref()
                .is_none_or(|o| o.address != a.person.address)
        })
        .count();
    let organizer = e.is_organizer == Some(true);
    let change = if organizer && others > 0 {
        if !yes {
            return Err(UsageError(format!(
                "“{}” has {others} other attendee(s): deleting it cancels it for them; add --yes (and --comment to tell them why)",
                crate::text::line(e.title())
            ))
            .into());
        }
        PendingChange::Cancel { comment }
    } else {
        PendingChange::Delete
    };
    let what = match change {
        PendingChange::Cancel { .. } => format!(
            "Cancelled “{}” for {others} attendee(s).",
            crate::text::line(e.title())
        ),
        _ => format!("Deleted “{}”.", crate::text::line(e.title())),
    };
    let now = Utc::now();
    let entry = OutboxEntry::new(event.view.clone(), Some(e), change, now, now);
    drop(store);
    runtime()?.block_on(queue_and_send(config, entry, &what, wait, out))
}

/// What `new` makes, from the quick-add text and the flags.
#[derive(Debug, Default, Clone)]
pub struct NewEvent {
    /// The quick-add text.
    pub text: Vec<String>,
    /// `--start`.
    pub start: Option<String>,
    /// `--end`.
    pub end: Option<String>,
    /// `--all-day`.
    pub all_day: bool,
    /// `--location`.
    pub location: Option<String>,
    /// `--attendee`, repeated.
    pub attendees: Vec<String>,
    /// `--teams`.
    pub teams: bool,
    /// `--body`.
    pub body: Option<String>,
    /// `--calendar`.
    pub calendar: Option<String>,
    /// `--repeat daily|weekdays|weekly|monthly[,count=N|,until=DATE]`.
    pub repeat: Option<String>,
}

/// Graph's `recurrence` for `--repeat KIND[,count=N|,until=DATE]`, from the event's `start`
/// (`{dateTime, timeZone}`: the pattern's day and the range's start are its wall-clock date).
pub fn repeat_json(spec: &str, start: &Value, today: chrono::NaiveDate) -> Result<Value, String> {
    use chrono::Datelike;
    let bad = || {
        format!(
            "{:?} is not a repeat: give daily, weekdays, weekly or monthly, optionally with ,count=N or ,until=DATE",
            crate::text::line(spec)
        )
    };
    let first = start["dateTime"]
        .as_str()
        .and_then(|t| chrono::NaiveDate::parse_from_str(t.get(..10)?, "%Y-%m-%d").ok())
        .ok_or_else(bad)?;
    let mut parts = spec.split(',').map(str::trim);
    let kind = parts.next().unwrap_or_default().to_ascii_lowercase();
    let day_name = |d: chrono::Weekday| {
        [
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
        ][d.num_days_from_monday() as usize]
    };
    let pattern = match kind.as_str() {
        "daily" => json!({"type": "daily", "interval": 1}),
        "weekdays" => {
            if first.weekday().num_days_from_monday() > 4 {
                return Err("--repeat weekdays: the event starts on a weekend".into());
            }
            json!({"type": "weekly", "interval": 1, "firstDayOfWeek": "sunday",
                "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"]})
        }
        "weekly" => json!({"type": "weekly", "interval": 1, "firstDayOfWeek": "sunday",
            "daysOfWeek": [day_name(first.weekday())]}),
        "monthly" => json!({"type": "absoluteMonthly", "interval": 1, "dayOfMonth": first.day()}),
        _ => return Err(bad()),
    };
    let zone = start["timeZone"].clone();
    let mut range =
        json!({"type": "noEnd", "startDate": first.to_string(), "recurrenceTimeZone": zone});
    for part in parts {
        match part.split_once('=') {
            Some(("count", n)) => {
                let n: u32 = n
                    .parse()
                    .ok()
                    .filter(|n| (1..=999).contains(n))
                    .ok_or_else(|| format!("--repeat: count={n}: give 1 to 999"))?;
                range["type"] = json!("numbered");
                range["numberOfOccurrences"] = json!(n);
            }
            Some(("until", d)) => {
                let until = crate::days::parse_day(d, today)
                    .map_err(|e| format!("--repeat: until: {e}"))?;
                if until < first {
                    return Err(format!(
                        "--repeat: until={until} is before the first day, {first}"
                    ));
                }
                range["type"] = json!("endDate");
                range["endDate"] = json!(until.to_string());
            }
            _ => return Err(bad()),
        }
    }
    Ok(json!({"pattern": pattern, "range": range}))
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
    let today = config.display.zone.date_of(now);
    let text = new.text.join(" ");
    let mut parsed = if text.trim().is_empty() {
        super::quick_add::QuickAdd::default()
    } else {
        super::quick_add::parse(&text, today).map_err(UsageError)?
    };
    let subject = parsed.subject.take().unwrap_or_default();
    if subject.trim().is_empty() {
        return Err(UsageError("the event needs a subject".into()).into());
    }
    let cal = match &new.calendar {
        Some(name) => config
            .find_calendar(name)
            .map_err(|e| UsageError(format!("--calendar: {e}")))?
            .clone(),
        None => config.calendars[0].clone(),
    };
    let zone = &config.display.zone;
    let at = |t: &str, flag: &str| {
        parse_when(t, config, now).map_err(|e| UsageError(format!("{flag}: {e}")))
    };
    let all_day = new.all_day || parsed.all_day;
    let mut event = json!({"subject": subject, "transactionId": uuid(), "isAllDay": all_day});
    if all_day {
        let day = match &new.start {
            Some(t) => {
                crate::days::parse_day(t, today).map_err(|e| UsageError(format!("--start: {e}")))?
            }
            None => parsed.day.unwrap_or(today),
        };
        event["start"] = graph_midnight(day, zone);
        event["end"] = graph_midnight(day + Duration::days(1), zone);
    } else {
        let start = match (&new.start, parsed.start) {
            (Some(t), _) => at(t, "--start")?,
            (None, Some(time)) => {
                let day = parsed.day.unwrap_or(today);
                parse_when(&format!("{day} {}", time.format("%H:%M")), config, now)
                    .map_err(UsageError)?
            }
            (None, None) => {
                return Err(UsageError(
                    "when? give a time (`tomorrow 10:00 Standup`), `all day`, or --start".into(),
                )
                .into());
            }
        };
        let end = match (&new.end, parsed.end, parsed.duration) {
            (Some(t), _, _) => at(t, "--end")?,
            (None, Some(time), _) => {
                let day = zone.date_of(start);
                parse_when(&format!("{day} {}", time.format("%H:%M")), config, now)
                    .map_err(UsageError)?
            }
            (None, None, Some(d)) => start + d,
            (None, None, None) => start + Duration::minutes(config.writes.default_minutes.into()),
        };
        if end < start {
            return Err(UsageError("the end is before the start".into()).into());
        }
        event["start"] = graph_time(start, zone);
        event["end"] = graph_time(end, zone);
    }
    if let Some(l) = new.location.or(parsed.location) {
        event["location"] = json!({"displayName": l});
    }
    let attendees: Vec<Value> = parsed
        .attendees
        .iter()
        .chain(&new.attendees)
        .map(|a| json!({"emailAddress": {"address": a}, "type": "required"}))
        .collect();
    if !attendees.is_empty() {
        event["attendees"] = json!(attendees);
    }
    if new.teams {
        event["isOnlineMeeting"] = json!(true);
        event["onlineMeetingProvider"] = json!("teamsForBusiness");
    }
    if let Some(body) = new.body {
        event["body"] = json!({"contentType": "text", "content": body});
    }
    if let Some(spec) = &new.repeat {
        event["recurrence"] = repeat_json(spec, &event["start"], today).map_err(|e| {
            UsageError(format!("--repeat: {e}").replace("--repeat: --repeat", "--repeat"))
        })?;
    }
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

/// A random UUID (version 4) for a create's `transactionId`.
fn uuid() -> String {
    let b: [u8; 16] = rand::random();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        u16::from_be_bytes([b[4], b[5]]),
        u16::from_be_bytes([b[6], b[7]]) & 0x0fff,
        (u16::from_be_bytes([b[8], b[9]]) & 0x3fff) | 0x8000,
        u64::from_be_bytes([0, 0, b[10], b[11], b[12], b[13], b[14], b[15]])
    )
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
