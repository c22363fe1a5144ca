//! What the write forms mean: the fields each opens with, and the change its fields make (or
//! why they cannot be sent), with a preview in words. Pure: the app asks this as the user types
//! and queues what [`plan`] returns on Enter. The changes are built by `crate::change`, as the
//! commands build theirs.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Value, json};

use super::overlay::{Field, Form, FormPurpose};
use crate::change::{self, Edit, NewEvent};
use crate::config::Config;
use crate::layout::when;
use crate::model::{CachedEvent, Event, EventKind, EventTime, ViewKey};
use crate::store::{Answer, PendingChange};

/// The field labels, named once.
pub mod label {
    /// Quick add's line.
    pub const WHAT: &str = "What";
    /// Quick add's and the edit's Teams flag.
    pub const TEAMS: &str = "Teams";
    /// The edit's subject.
    pub const SUBJECT: &str = "Subject";
    /// The edit's start.
    pub const START: &str = "Start";
    /// The edit's end.
    pub const END: &str = "End";
    /// The edit's all-day flag.
    pub const ALL_DAY: &str = "All day";
    /// The edit's location.
    pub const LOCATION: &str = "Where";
    /// The edit's attendees.
    pub const ATTENDEES: &str = "Attendees";
    /// An answer's message to the organizer, or a cancellation's to the attendees.
    pub const MESSAGE: &str = "Message";
    /// The proposed time.
    pub const NEW_TIME: &str = "New time";
    /// Tentative or decline, with a proposal.
    pub const ANSWER: &str = "Answer";
    /// This occurrence or the whole series.
    pub const SCOPE: &str = "Change";
    /// Whose busy time to show.
    pub const PEOPLE: &str = "People";
    /// Which account signs in.
    pub const ACCOUNT: &str = "Account";
}

/// The choices of the scope field.
const SCOPES: [&str; 2] = ["this occurrence", "the whole series"];

/// A change the form makes, ready to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The calendar view it goes to.
    pub view: ViewKey,
    /// The event it changes (none: a create).
    pub event: Option<CachedEvent>,
    /// The change.
    pub change: PendingChange,
    /// To the whole series of the occurrence `event` (the runner finds the series).
    pub series: bool,
    /// The status bar's words once queued: `Accepted “Standup”.`
    pub what: String,
}

/// Whether an event is one of a series (an occurrence or a changed one).
fn in_series(event: &Event) -> bool {
    event.series_master_id.is_some()
        && matches!(
            event.kind,
            Some(EventKind::Occurrence | EventKind::Exception)
        )
}

/// The scope field, for an event of a series.
fn scope(event: &Event) -> Option<Field> {
    in_series(event).then(|| Field::choice(label::SCOPE, SCOPES.to_vec()))
}

/// How the edit form shows an event's start and end: `2026-12-05 10:00` (the WHEN forms), or
/// the first and last DATE of an all-day event.
fn times_text(event: &Event, config: &Config) -> (String, String) {
    if let Some((first, last)) = event.all_day_dates() {
        return (first.to_string(), last.to_string());
    }
    let zone = &config.display.zone;
    let show = |t: DateTime<Utc>| zone.local(t).format("%Y-%m-%d %H:%M").to_string();
    match event.span() {
        Some((a, b)) => (show(a), show(b)),
        None => Default::default(),
    }
}

/// The addresses of an event's attendees, as the edit form lists them.
fn attendees_text(event: &Event) -> String {
    let list: Vec<String> = event
        .attendees
        .iter()
        .filter_map(|a| a.person.address.clone())
        .collect();
    list.join(", ")
}

/// The form `purpose` opens with.
pub fn open(purpose: FormPurpose, config: &Config) -> Form {
    let fields = match &purpose {
        FormPurpose::QuickAdd { .. } => vec![
            Field::text(label::WHAT, ""),
            Field::flag(label::TEAMS, false),
        ],
        FormPurpose::Edit(c) => {
            let e = &c.event;
            let (start, end) = times_text(e, config);
            let mut fields = vec![
                Field::text(label::SUBJECT, e.title()),
                Field::text(label::START, start),
                Field::text(label::END, end),
                Field::flag(label::ALL_DAY, e.all_day),
                Field::text(label::LOCATION, e.location.clone().unwrap_or_default()),
                Field::text(label::ATTENDEES, attendees_text(e)),
                Field::flag(label::TEAMS, e.online_meeting_url.is_some()),
            ];
            fields.extend(scope(e));
            fields
        }
        FormPurpose::Answer { event, propose, .. } => {
            let mut fields = Vec::new();
            if *propose {
                fields.push(Field::text(label::NEW_TIME, ""));
                fields.push(Field::choice(label::ANSWER, vec!["tentative", "decline"]));
            }
            fields.push(Field::text(label::MESSAGE, ""));
            fields.extend(scope(&event.event));
            fields
        }
        FormPurpose::Delete(c) => {
            let mut fields = Vec::new();
            if change::cancels_for_others(&c.event) {
                fields.push(Field::text(label::MESSAGE, ""));
            }
            fields.extend(scope(&c.event));
            fields
        }
        FormPurpose::FreeBusy { .. } => vec![Field::text(label::PEOPLE, "")],
        FormPurpose::SignIn => {
            let mut names = vec!["the main account".to_owned()];
            names.extend(config.accounts.keys().cloned());
            vec![Field::choice_owned(label::ACCOUNT, names)]
        }
    };
    Form::new(purpose, fields)
}

/// The form's title: what it does, to which event.
pub fn title(form: &Form) -> String {
    let name = |c: &CachedEvent| crate::text::line(c.event.title()).into_owned();
    match &form.purpose {
        FormPurpose::QuickAdd { .. } => "New event".into(),
        FormPurpose::Edit(c) => format!("Edit “{}”", name(c)),
        FormPurpose::Answer {
            event,
            propose: true,
            ..
        } => format!("Propose a new time for “{}”", name(event)),
        FormPurpose::Answer { event, answer, .. } => format!(
            "{} “{}”",
            match answer {
                Answer::Accept => "Accept",
                Answer::Tentative => "Tentatively accept",
                Answer::Decline => "Decline",
            },
            name(event)
        ),
        FormPurpose::Delete(c) if change::cancels_for_others(&c.event) => format!(
            "Cancel “{}” for {} attendee(s)?",
            name(c),
            change::other_attendees(&c.event)
        ),
        FormPurpose::Delete(c) => format!("Delete “{}”?", name(c)),
        FormPurpose::FreeBusy { .. } => "Show whose busy time? (addresses)".into(),
        FormPurpose::SignIn => "Sign in which account?".into(),
    }
}

/// The CLI's messages name flags (`--start: ...`); the form names its fields.
fn unflag(message: String) -> String {
    if message.starts_with("nothing to change") {
        return "Nothing changed yet.".into();
    }
    message
        .replace("--start", "start")
        .replace("--end", "end")
        .replace("--propose", "new time")
        .replace("--comment", "message")
        .replace("--add-attendee", "attendees")
        .replace("--remove-attendee", "attendees")
}

/// What the form's fields make: the change to queue and its preview, or why it cannot be sent.
pub fn plan(
    form: &Form,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<(Planned, Vec<String>), String> {
    let series = form.chosen(label::SCOPE) == 1;
    match &form.purpose {
        // Not a change: the app asks getSchedule (see `app::busy`).
        FormPurpose::FreeBusy { .. } | FormPurpose::SignIn => {
            Err("not a change to the calendar".into())
        }
        FormPurpose::QuickAdd { day } => quick_add(form, config, *day, now),
        FormPurpose::Edit(c) => {
            let fields = edit_fields(form, c, config, now).map_err(unflag)?;
            let mut shown = c.as_ref().clone();
            let mut events = vec![shown.clone()];
            let entry = crate::store::OutboxEntry::new(
                c.view.clone(),
                Some(&c.event),
                PendingChange::Update {
                    fields: fields.clone(),
                },
                now,
                now,
            );
            crate::store::overlay(&mut events, &[entry]);
            if let Some(after) = events.pop() {
                shown = after;
            }
            let names: Vec<&str> = fields
                .as_object()
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            let preview = vec![
                format!("Becomes: {}", when(&shown.event, &config.display)),
                format!("Sends only: {}", names.join(", ")),
            ];
            let change = PendingChange::Update { fields };
            Ok((
                Planned {
                    view: c.view.clone(),
                    what: change::done_words(&change, c.event.title()),
                    event: Some(c.as_ref().clone()),
                    change,
                    series,
                },
                preview,
            ))
        }
        FormPurpose::Answer {
            event,
            answer,
            propose,
        } => {
            if let Some(why) = change::answer_refusal(&event.event) {
                return Err(why);
            }
            let message = form.text(label::MESSAGE).trim();
            let comment = (!message.is_empty()).then(|| message.to_owned());
            let (answer, proposed, mut preview) = if *propose {
                let text = form.text(label::NEW_TIME);
                if text.trim().is_empty() {
                    return Err("give the new time: e.g. `fri 10:00..11:00`".into());
                }
                let span = change::proposal(text, config, now).map_err(unflag)?;
                let answer = if form.chosen(label::ANSWER) == 1 {
                    Answer::Decline
                } else {
                    Answer::Tentative
                };
                let shown = proposal_words(&span, config);
                (answer, Some(span), vec![format!("Proposes: {shown}")])
            } else {
                (*answer, None, Vec::new())
            };
            preview.push(match &comment {
                Some(_) => "The organizer is told, with your message.".into(),
                None => "The organizer is told.".into(),
            });
            let change = PendingChange::Answer {
                answer,
                comment,
                send: true,
                propose: proposed,
            };
            Ok((
                Planned {
                    view: event.view.clone(),
                    what: change::done_words(&change, event.event.title()),
                    event: Some(event.as_ref().clone()),
                    change,
                    series,
                },
                preview,
            ))
        }
        FormPurpose::Delete(c) => {
            let message = form.text(label::MESSAGE).trim();
            let comment = (!message.is_empty()).then(|| message.to_owned());
            let change = change::removal(&c.event, comment);
            let whole = if series { "The whole series" } else { "It" };
            let preview = vec![match &change {
                PendingChange::Cancel { .. } => format!(
                    "{whole} is cancelled for {} attendee(s), who are told.",
                    change::other_attendees(&c.event)
                ),
                _ => format!("{whole} is deleted from your calendar."),
            }];
            Ok((
                Planned {
                    view: c.view.clone(),
                    what: change::done_words(&change, c.event.title()),
                    event: Some(c.as_ref().clone()),
                    change,
                    series,
                },
                preview,
            ))
        }
    }
}

/// A proposal's span in words.
fn proposal_words(span: &Value, config: &Config) -> String {
    let (Some(a), Some(b)) = (
        EventTime::from_graph(&span["start"], false),
        EventTime::from_graph(&span["end"], false),
    ) else {
        return String::new();
    };
    let event = Event {
        start: Some(a),
        end: Some(b),
        ..Event::default()
    };
    when(&event, &config.display)
}

/// Quick add: the line read as `deltacal new` reads it, on the form's day unless it names one.
fn quick_add(
    form: &Form,
    config: &Config,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(Planned, Vec<String>), String> {
    let text = form.text(label::WHAT);
    if text.trim().is_empty() {
        return Err("type e.g. `10:00 1h Standup @ Room 4 with alex@contoso.com`".into());
    }
    let new = NewEvent {
        text: vec![text.to_owned()],
        day: Some(day),
        teams: form.flag(label::TEAMS),
        // `N` while others' busy time shows: they are invited (a field of its own).
        attendees: form
            .text(label::ATTENDEES)
            .split([' ', ',', ';'])
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect(),
        ..NewEvent::default()
    };
    let (cal, json) = change::new_event(config, &new, now).map_err(unflag)?;
    let mut preview = Vec::new();
    // Read back as the views will show it (an event needs an id to read).
    let mut shown = json.clone();
    shown["id"] = json!("preview");
    if let Ok(event) = Event::from_graph(&shown) {
        preview.push(format!(
            "{} · {}",
            when(&event, &config.display),
            crate::text::line(event.title())
        ));
        if let Some(l) = &event.location {
            preview.push(format!("at {}", crate::text::line(l)));
        }
        if !event.attendees.is_empty() {
            let who: Vec<String> = event
                .attendees
                .iter()
                .map(|a| crate::text::line(&a.person.display()).into_owned())
                .collect();
            preview.push(format!("with {}", who.join(", ")));
        }
    }
    if new.teams {
        preview.push("with a Teams meeting".into());
    }
    if config.calendars.len() > 1 {
        preview.push(format!("in {}", crate::text::line(&cal.name)));
    }
    let change = PendingChange::Create {
        calendar: cal.graph_id.clone(),
        event: json,
    };
    let what = change::done_words(&change, new_subject(&change));
    Ok((
        Planned {
            view: cal.key.clone(),
            event: None,
            change,
            series: false,
            what,
        },
        preview,
    ))
}

fn new_subject(change: &PendingChange) -> &str {
    match change {
        PendingChange::Create { event, .. } => event["subject"].as_str().unwrap_or_default(),
        _ => "",
    }
}

/// The fields an edit form sends: only those that differ from what it opened with.
fn edit_fields(
    form: &Form,
    c: &CachedEvent,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<Value, String> {
    let e = &c.event;
    let (start0, end0) = times_text(e, config);
    let changed = |label: &str, was: &str| {
        let now = form.text(label);
        (now.trim() != was.trim()).then(|| now.trim().to_owned())
    };
    let mut edit = Edit {
        subject: changed(label::SUBJECT, e.title()),
        location: changed(label::LOCATION, e.location.as_deref().unwrap_or_default()),
        ..Edit::default()
    };
    // The attendees: who was added and who taken off the list.
    let listed = |text: &str| -> Vec<String> {
        text.split([',', ';', ' '])
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let (before, after) = (
        listed(&attendees_text(e)),
        listed(form.text(label::ATTENDEES)),
    );
    let has = |list: &[String], a: &str| list.iter().any(|b| b.eq_ignore_ascii_case(a));
    edit.add_attendees = after.iter().filter(|a| !has(&before, a)).cloned().collect();
    edit.remove_attendees = before.iter().filter(|a| !has(&after, a)).cloned().collect();
    let all_day = form.flag(label::ALL_DAY);
    let mut extra = serde_json::Map::new();
    if all_day != e.all_day {
        // The kind changes: both times are sent, as the new kind takes them.
        let (start, end) = (form.text(label::START), form.text(label::END));
        let zone = &config.display.zone;
        if all_day {
            let today = zone.date_of(now);
            let day = |t: &str| {
                let date = t.split_whitespace().next().unwrap_or_default();
                crate::days::parse_day(date, today)
            };
            let (first, last) = (day(start)?, day(end)?);
            if last < first {
                return Err("the end would be before the start".into());
            }
            extra.insert("isAllDay".into(), json!(true));
            extra.insert("start".into(), change::graph_midnight(first, zone));
            extra.insert(
                "end".into(),
                change::graph_midnight(last + Duration::days(1), zone),
            );
        } else {
            let (a, b) = (
                change::parse_when(start, config, now).map_err(|e| format!("start: {e}"))?,
                change::parse_when(end, config, now).map_err(|e| format!("end: {e}"))?,
            );
            if b <= a {
                return Err("the end would be before the start".into());
            }
            extra.insert("isAllDay".into(), json!(false));
            extra.insert("start".into(), change::graph_time(a, zone));
            extra.insert("end".into(), change::graph_time(b, zone));
        }
    } else {
        edit.start = changed(label::START, &start0);
        edit.end = changed(label::END, &end0);
    }
    let teams = form.flag(label::TEAMS);
    if teams != e.online_meeting_url.is_some() {
        extra.insert("isOnlineMeeting".into(), json!(teams));
        if teams {
            extra.insert("onlineMeetingProvider".into(), json!("teamsForBusiness"));
        }
    }
    let mut fields = match change::edit_fields(config, e, &edit, now) {
        Ok(Value::Object(fields)) => fields,
        Ok(_) => serde_json::Map::new(),
        Err(e) if e.starts_with("nothing to change") && !extra.is_empty() => serde_json::Map::new(),
        Err(e) => return Err(e),
    };
    fields.extend(extra);
    Ok(Value::Object(fields))
}
