//! What the user's changes ask of Graph, built from what they typed: the WHEN and quick-add
//! forms, the fields an edit sends, the JSON of a new event, a proposal, and what Graph would
//! refuse before anything is sent. Pure: no I/O; the commands and the TUI both build their
//! changes here, so the two say and send the same things.

pub mod invites;
pub mod quick_add;

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone as _, Utc};
use serde_json::{Value, json};

use crate::config::Config;
use crate::model::{Event, Response};
use crate::store::{Answer, PendingChange};
use crate::tz::DisplayZone;

/// `--propose WHEN..WHEN` as Graph's `proposedNewTime`.
pub fn proposal(text: &str, config: &Config, now: DateTime<Utc>) -> Result<Value, String> {
    let bad = |e: String| format!("--propose: {e}");
    let (a, b) = text.split_once("..").ok_or_else(|| {
        bad(format!(
            "{:?} is not a span: give WHEN..WHEN, e.g. `fri 10:00..fri 11:00`",
            crate::text::line(text)
        ))
    })?;
    let start = parse_when(a, config, now).map_err(bad)?;
    // The end may give only a time: on the start's day.
    let end = match quick_add::parse_time(b.trim()) {
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
pub fn attendees_after(
    event: &crate::model::Event,
    add: &[String],
    remove: &[String],
) -> Result<Option<Value>, String> {
    if add.is_empty() && remove.is_empty() {
        return Ok(None);
    }
    let same =
        |a: &Option<String>, b: &str| a.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(b));
    for r in remove {
        if !event.attendees.iter().any(|a| same(&a.person.address, r)) {
            return Err(format!(
                "--remove-attendee {}: not invited to this event",
                crate::text::line(r)
            ));
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
            return Err(format!(
                "--add-attendee {}: not an e-mail address",
                crate::text::line(address)
            ));
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
    let time = quick_add::parse_time(time).ok_or_else(|| {
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
pub fn graph_midnight(day: chrono::NaiveDate, zone: &DisplayZone) -> Value {
    let name = zone.named().map_or("UTC", |tz| tz.name());
    json!({"dateTime": format!("{day}T00:00:00"), "timeZone": name})
}

/// The new `start` and `end` (Graph's JSON) of a timed event that `edit` asks for: WHENs, a
/// shift, a new start alone keeping the length.
fn timed_times(
    config: &Config,
    event: &crate::model::Event,
    edit: &Edit,
    now: DateTime<Utc>,
) -> Result<(Option<Value>, Option<Value>), String> {
    let span = event.span();
    let when = |t: &str, flag: &str| parse_when(t, config, now).map_err(|e| format!("{flag}: {e}"));
    let mut start = edit
        .start
        .as_deref()
        .map(|t| when(t, "--start"))
        .transpose()?;
    let mut end = edit.end.as_deref().map(|t| when(t, "--end")).transpose()?;
    if let Some(by) = &edit.move_by {
        let shift = quick_add::parse_shift(by)
            .ok_or_else(|| format!("--move: {by:?} is not a shift: give e.g. +30m, -1h, +1d"))?;
        let (a, b) = span.ok_or_else(|| String::from("--move: the event has no times"))?;
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
        return Err("the end would be before the start".into());
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
) -> Result<(Option<Value>, Option<Value>), String> {
    use crate::model::EventTime;
    let date = |t: &Option<EventTime>| match t {
        Some(EventTime::AllDay { date, .. }) => Some(*date),
        _ => None,
    };
    let (Some(first), Some(after)) = (date(&event.start), date(&event.end)) else {
        return Err("the all-day event has no dates".into());
    };
    let today = config.display.zone.date_of(Utc::now());
    let day = |t: &str, flag: &str| {
        crate::days::parse_day(t, today)
            .map_err(|e| format!("{flag}: {e} (an all-day event takes a DATE, without a time)"))
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
        let shift = quick_add::parse_shift(by)
            .filter(|s| s.num_seconds() % 86_400 == 0)
            .ok_or_else(|| {
                format!("--move: {by:?}: an all-day event moves by whole days (+1d, -2d, +1w)")
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
        return Err("the end would be before the start".into());
    }
    let zone = &config.display.zone;
    Ok((
        new_first.map(|d| graph_midnight(d, zone)),
        new_after.map(|d| graph_midnight(d, zone)),
    ))
}

/// What `new` makes, from the quick-add text and the flags.
#[derive(Debug, Default, Clone)]
pub struct NewEvent {
    /// The quick-add text.
    pub text: Vec<String>,
    /// The day it is on when the text names none (today when none is given here either).
    pub day: Option<chrono::NaiveDate>,
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

/// A random UUID (version 4) for a create's `transactionId`.
pub fn uuid() -> String {
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

/// The fields an edit sends (only those it changes), as Graph takes them; an error says which
/// part is wrong, or that nothing changes.
pub fn edit_fields(
    config: &Config,
    event: &Event,
    edit: &Edit,
    now: DateTime<Utc>,
) -> Result<Value, String> {
    let mut fields = serde_json::Map::new();
    if let Some(s) = &edit.subject {
        if s.trim().is_empty() {
            return Err("the subject is empty".into());
        }
        fields.insert("subject".into(), json!(s));
    }
    if let Some(l) = &edit.location {
        fields.insert("location".into(), json!({"displayName": l}));
    }
    if let Some(list) = attendees_after(event, &edit.add_attendees, &edit.remove_attendees)? {
        fields.insert("attendees".into(), list);
    }
    let (start, end) = if event.all_day {
        all_day_times(config, event, edit)?
    } else {
        timed_times(config, event, edit, now)?
    };
    if let Some(s) = start {
        fields.insert("start".into(), s);
    }
    if let Some(e) = end {
        fields.insert("end".into(), e);
    }
    if fields.is_empty() {
        return Err(
            "nothing to change: give --subject, --start, --end, --move, --location, --add-attendee or --remove-attendee".into(),
        );
    }
    Ok(Value::Object(fields))
}

/// Refuses a change to a calendar that is not the user's own (a colleague's shared one, a
/// group's): deltacal sends changes to the user's own mailbox only, so far.
pub fn own_calendar(config: &Config, view: &str) -> Result<(), String> {
    match config.calendars.iter().find(|c| c.key == view) {
        Some(cal) if cal.account.is_some() => Err(format!(
            "“{}” is read through [accounts.{}]: deltacal sends changes to the main account's calendars only so far (change it in Outlook)",
            crate::text::line(&cal.name),
            cal.account.as_deref().unwrap_or_default()
        )),
        Some(cal) if cal.owner != crate::model::Owner::Me => Err(format!(
            "“{}” is {}: deltacal changes only your own calendars so far (change it in Outlook)",
            crate::text::line(&cal.name),
            cal.owner.describe()
        )),
        _ => Ok(()),
    }
}

/// A new event as Graph takes it (with a fresh `transactionId`), from the quick-add text and
/// the flags, and the calendar it goes in.
pub fn new_event(
    config: &Config,
    new: &NewEvent,
    now: DateTime<Utc>,
) -> Result<(crate::config::CalendarSpec, Value), String> {
    let today = config.display.zone.date_of(now);
    let text = new.text.join(" ");
    let mut parsed = if text.trim().is_empty() {
        quick_add::QuickAdd::default()
    } else {
        quick_add::parse(&text, today)?
    };
    let subject = parsed.subject.take().unwrap_or_default();
    if subject.trim().is_empty() {
        return Err("the event needs a subject".into());
    }
    let cal = match &new.calendar {
        Some(name) => config
            .find_calendar(name)
            .map_err(|e| format!("--calendar: {e}"))?
            .clone(),
        None => config
            .calendars
            .iter()
            .find(|c| c.owner == crate::model::Owner::Me && c.account.is_none())
            .ok_or("no calendar of your own is configured")?
            .clone(),
    };
    own_calendar(config, &cal.key)?;
    let zone = &config.display.zone;
    let at = |t: &str, flag: &str| parse_when(t, config, now).map_err(|e| format!("{flag}: {e}"));
    let all_day = new.all_day || parsed.all_day;
    let mut event = json!({"subject": subject, "transactionId": uuid(), "isAllDay": all_day});
    if all_day {
        let day = match &new.start {
            Some(t) => crate::days::parse_day(t, today).map_err(|e| format!("--start: {e}"))?,
            None => parsed.day.or(new.day).unwrap_or(today),
        };
        event["start"] = graph_midnight(day, zone);
        event["end"] = graph_midnight(day + Duration::days(1), zone);
    } else {
        let start = match (&new.start, parsed.start) {
            (Some(t), _) => at(t, "--start")?,
            (None, Some(time)) => {
                let day = parsed.day.or(new.day).unwrap_or(today);
                parse_when(&format!("{day} {}", time.format("%H:%M")), config, now)?
            }
            (None, None) => {
                return Err(
                    "when? give a time (`tomorrow 10:00 Standup`), `all day`, or --start".into(),
                );
            }
        };
        let end = match (&new.end, parsed.end, parsed.duration) {
            (Some(t), _, _) => at(t, "--end")?,
            (None, Some(time), _) => {
                let day = zone.date_of(start);
                parse_when(&format!("{day} {}", time.format("%H:%M")), config, now)?
            }
            (None, None, Some(d)) => start + d,
            (None, None, None) => start + Duration::minutes(config.writes.default_minutes.into()),
        };
        if end < start {
            return Err("the end is before the start".into());
        }
        event["start"] = graph_time(start, zone);
        event["end"] = graph_time(end, zone);
    }
    if let Some(l) = new.location.clone().or(parsed.location) {
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
    if let Some(body) = &new.body {
        event["body"] = json!({"contentType": "text", "content": body});
    }
    if let Some(spec) = &new.repeat {
        event["recurrence"] = repeat_json(spec, &event["start"], today)
            .map_err(|e| format!("--repeat: {e}").replace("--repeat: --repeat", "--repeat"))?;
    }
    Ok((cal, event))
}

/// Why Graph would refuse an answer to `event`, before anything is sent: the user's own
/// meeting, or a cancelled one.
pub fn answer_refusal(event: &Event) -> Option<String> {
    if event.is_organizer == Some(true) || event.response == Some(Response::Organizer) {
        return Some(format!(
            "“{}” is your own meeting: the organizer does not answer it",
            crate::text::line(event.title())
        ));
    }
    if event.cancelled {
        return Some(format!(
            "“{}” is cancelled: there is nothing to answer",
            crate::text::line(event.title())
        ));
    }
    None
}

/// Why Graph would refuse an answer as asked: a comment or a proposal not sent, a proposal
/// with accept.
pub fn answer_misuse(
    answer: Answer,
    comment: bool,
    send: bool,
    propose: bool,
) -> Option<&'static str> {
    if !send && comment {
        return Some("--comment needs the answer sent: Graph refuses a comment with --no-send");
    }
    if !send && propose {
        return Some("--propose needs the answer sent: Graph refuses a proposal with --no-send");
    }
    if answer == Answer::Accept && propose {
        return Some(
            "--propose goes with tentative or decline: Graph refuses a proposal on accept",
        );
    }
    None
}

/// How many attendees other than the organizer a meeting has: the people a cancellation tells.
pub fn other_attendees(event: &Event) -> usize {
    event
        .attendees
        .iter()
        .filter(|a| {
            event
                .organizer
                .as_ref()
                .is_none_or(|o| o.address != a.person.address)
        })
        .count()
}

/// Whether deleting `event` cancels it for others: a meeting the user organizes with other
/// attendees (Graph's `/cancel`, which tells them).
pub fn cancels_for_others(event: &Event) -> bool {
    event.is_organizer == Some(true) && other_attendees(event) > 0
}

/// The change that deletes `event`: a cancellation with its message when it tells others, else
/// a delete.
pub fn removal(event: &Event, comment: Option<String>) -> PendingChange {
    if cancels_for_others(event) {
        PendingChange::Cancel { comment }
    } else {
        PendingChange::Delete
    }
}

/// The user's words for what a change did: `Accepted “Standup”.`, `Deleted “Lunch”.`
pub fn done_words(change: &PendingChange, title: &str) -> String {
    let title = crate::text::line(title);
    match change {
        PendingChange::Create { .. } => format!("Added “{title}”."),
        PendingChange::Update { .. } => format!("Changed “{title}”."),
        PendingChange::Delete => format!("Deleted “{title}”."),
        PendingChange::Cancel { .. } => format!("Cancelled “{title}”."),
        PendingChange::Answer {
            answer, propose, ..
        } => format!(
            "{} “{title}”{}.",
            match answer {
                Answer::Accept => "Accepted",
                Answer::Tentative => "Tentatively accepted",
                Answer::Decline => "Declined",
            },
            if propose.is_some() {
                ", with a new time proposed"
            } else {
                ""
            }
        ),
    }
}
