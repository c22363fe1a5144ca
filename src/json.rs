//! The JSON shapes scripts read (`agenda --json`, `next --json`, the reminder command's input):
//! every field present, `null` when unknown, times in RFC 3339 UTC. They borrow from the events
//! they describe: a year's agenda serialises without copying its text.

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use crate::config::Config;
use crate::model::{Event, EventKind, Response, ShowAs};

/// One event of `agenda --json`: every field present, `null` when unknown.
#[derive(Debug, Serialize, PartialEq)]
pub struct AgendaItem<'a> {
    /// The event's id.
    pub id: &'a str,
    /// Its calendar view's key.
    pub calendar: &'a str,
    /// The subject, sanitised; null when it has none.
    pub subject: Option<&'a str>,
    /// The start.
    #[serde(serialize_with = "rfc3339")]
    pub start: Option<DateTime<Utc>>,
    /// The end.
    #[serde(serialize_with = "rfc3339")]
    pub end: Option<DateTime<Utc>>,
    /// Whether it takes whole days.
    pub all_day: bool,
    /// Where.
    pub location: Option<&'a str>,
    /// Who organizes it.
    pub organizer: Option<String>,
    /// How the time shows to others, as Graph says it.
    pub show_as: Option<&'a str>,
    /// Whether it is cancelled.
    pub cancelled: bool,
    /// The meeting's join link.
    pub online_meeting_url: Option<&'a str>,
    /// The event in Outlook on the web.
    pub web_link: Option<&'a str>,
    /// The calendar's name in the config (its key when it has none).
    pub calendar_name: &'a str,
    /// Who is invited.
    pub attendees: Vec<AgendaAttendee<'a>>,
    /// An instance's series.
    pub series_master_id: Option<&'a str>,
    /// `singleInstance`, `occurrence`, `exception` (Graph's `type`).
    pub event_type: Option<&'a str>,
    /// The user's own answer (Graph's `responseStatus.response`).
    pub response: Option<&'a str>,
    /// Whether the user organizes it.
    pub is_organizer: bool,
    /// Graph's `changeKey`: the version of the event.
    pub change_key: Option<&'a str>,
    /// The change waiting in the outbox for it: `{"id", "change", "state", "error"}`, or null.
    pub pending: Option<serde_json::Value>,
}

/// An attendee in `agenda --json`.
#[derive(Debug, Serialize, PartialEq)]
pub struct AgendaAttendee<'a> {
    /// The name.
    pub name: Option<&'a str>,
    /// The address.
    pub address: Option<&'a str>,
    /// Graph's response: `none`, `accepted`, `tentativelyAccepted`, `declined`, ...
    pub response: Option<&'a str>,
}

/// `2016-12-09T20:30:00Z`, written straight into the output (the format parsed once).
fn rfc3339<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    use chrono::format::{Fixed, Item, Numeric, Pad};
    const RFC3339_Z: &[Item<'static>] = &[
        Item::Numeric(Numeric::Year, Pad::Zero),
        Item::Literal("-"),
        Item::Numeric(Numeric::Month, Pad::Zero),
        Item::Literal("-"),
        Item::Numeric(Numeric::Day, Pad::Zero),
        Item::Literal("T"),
        Item::Numeric(Numeric::Hour, Pad::Zero),
        Item::Literal(":"),
        Item::Numeric(Numeric::Minute, Pad::Zero),
        Item::Literal(":"),
        Item::Numeric(Numeric::Second, Pad::Zero),
        Item::Fixed(Fixed::TimezoneOffsetZ),
    ];
    match t {
        Some(t) => s.collect_str(&t.format_with_items(RFC3339_Z.iter())),
        None => s.serialize_none(),
    }
}

impl<'a> AgendaItem<'a> {
    /// The JSON of event `e` of `view`.
    pub fn new(config: &'a Config, view: &'a str, e: &'a Event) -> AgendaItem<'a> {
        // The span, as the text agenda and the TUI show it: an end before the start is the start.
        let span = e.span();
        AgendaItem {
            id: &e.id,
            calendar: view,
            subject: e.subject.as_deref(),
            start: span.map(|s| s.0),
            end: span.map(|s| s.1),
            all_day: e.all_day,
            location: e.location.as_deref(),
            organizer: e
                .organizer
                .as_ref()
                .map(|p| p.display())
                .filter(|s| !s.is_empty()),
            show_as: e.show_as.as_ref().map(ShowAs::as_graph),
            cancelled: e.cancelled,
            online_meeting_url: e.online_meeting_url.as_deref(),
            web_link: e.web_link.as_deref(),
            calendar_name: config.calendar_name(view),
            attendees: e
                .attendees
                .iter()
                .map(|a| AgendaAttendee {
                    name: a.person.name.as_deref(),
                    address: a.person.address.as_deref(),
                    response: a.response.as_ref().map(Response::as_graph),
                })
                .collect(),
            series_master_id: e.series_master_id.as_deref(),
            event_type: e.kind.as_ref().map(EventKind::as_graph),
            response: e.response.as_ref().map(Response::as_graph),
            is_organizer: e.is_organizer == Some(true) || e.response == Some(Response::Organizer),
            change_key: e.change_key.as_deref(),
            pending: None,
        }
    }
}
