//! The JSON shapes scripts read (`agenda --json`, `next --json`, the reminder command's input):
//! every field present, `null` when unknown, times in RFC 3339 UTC.

use chrono::{SecondsFormat, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::model::Event;

/// One event of `agenda --json`: every field present, `null` when unknown.
#[derive(Debug, Serialize, PartialEq)]
pub struct AgendaItem {
    pub id: String,
    pub calendar: String,
    pub subject: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub all_day: bool,
    pub location: Option<String>,
    pub organizer: Option<String>,
    pub show_as: Option<String>,
    pub cancelled: bool,
    pub online_meeting_url: Option<String>,
    pub web_link: Option<String>,
    /// The calendar's name in the config (its key when it has none).
    pub calendar_name: String,
    pub attendees: Vec<AgendaAttendee>,
    pub series_master_id: Option<String>,
    /// `singleInstance`, `occurrence`, `exception` (Graph's `type`).
    pub event_type: Option<String>,
}

/// An attendee in `agenda --json`.
#[derive(Debug, Serialize, PartialEq)]
pub struct AgendaAttendee {
    pub name: Option<String>,
    pub address: Option<String>,
    /// Graph's response: `none`, `accepted`, `tentativelyAccepted`, `declined`, ...
    pub response: Option<String>,
}

impl AgendaItem {
    pub fn new(config: &Config, view: &str, e: &Event) -> AgendaItem {
        // The span, as the text agenda and the TUI show it: an end before the start is the start.
        let span = e.span();
        let rfc = |t: Option<chrono::DateTime<Utc>>| {
            t.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        };
        AgendaItem {
            id: e.id.clone(),
            calendar: view.to_owned(),
            subject: e.subject.clone(),
            start: rfc(span.map(|s| s.0)),
            end: rfc(span.map(|s| s.1)),
            all_day: e.all_day,
            location: e.location.clone(),
            organizer: e
                .organizer
                .as_ref()
                .map(|p| p.display())
                .filter(|s| !s.is_empty()),
            show_as: e.show_as.clone(),
            cancelled: e.cancelled,
            online_meeting_url: e.online_meeting_url.clone(),
            web_link: e.web_link.clone(),
            calendar_name: config.calendar_name(view).to_owned(),
            attendees: e
                .attendees
                .iter()
                .map(|a| AgendaAttendee {
                    name: a.person.name.clone(),
                    address: a.person.address.clone(),
                    response: a.response.clone(),
                })
                .collect(),
            series_master_id: e.series_master_id.clone(),
            event_type: e.kind.clone(),
        }
    }
}
