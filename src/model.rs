//! The domain model: events as deltacal understands them, and the changes a delta page carries.
//!
//! Parsing is deliberately lenient: Graph may omit or null any field, add new ones, or send a
//! value of an unexpected type. Only a missing `id` makes an item unusable.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::tz;

/// The start or end of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "StoredTime", try_from = "StoredTime")]
pub enum EventTime {
    /// A timed event's instant.
    At(DateTime<Utc>),
    /// An all-day event's date (local to the zone the server sent), with the instant of that
    /// local midnight as the server sent it.
    AllDay { date: NaiveDate, utc: DateTime<Utc> },
}

/// How the cache stores an [`EventTime`]: integers, cheap to encode and decode.
#[derive(Serialize, Deserialize)]
enum StoredTime {
    /// Milliseconds since the epoch.
    At(i64),
    /// Days since 0001-01-01 (CE), and the instant in milliseconds.
    AllDay(i32, i64),
}

impl From<EventTime> for StoredTime {
    fn from(t: EventTime) -> StoredTime {
        match t {
            EventTime::At(t) => StoredTime::At(t.timestamp_millis()),
            EventTime::AllDay { date, utc } => {
                StoredTime::AllDay(date.num_days_from_ce(), utc.timestamp_millis())
            }
        }
    }
}

impl TryFrom<StoredTime> for EventTime {
    type Error = String;
    fn try_from(t: StoredTime) -> Result<EventTime, String> {
        let instant = |ms| {
            DateTime::from_timestamp_millis(ms).ok_or_else(|| format!("time {ms} out of range"))
        };
        Ok(match t {
            StoredTime::At(ms) => EventTime::At(instant(ms)?),
            StoredTime::AllDay(days, ms) => EventTime::AllDay {
                date: NaiveDate::from_num_days_from_ce_opt(days)
                    .ok_or_else(|| format!("day {days} out of range"))?,
                utc: instant(ms)?,
            },
        })
    }
}

impl EventTime {
    /// The instant this time stands for.
    pub fn instant(&self) -> DateTime<Utc> {
        match self {
            EventTime::At(t) => *t,
            EventTime::AllDay { utc, .. } => *utc,
        }
    }

    /// Parses Graph's `{"dateTime": "2016-12-09T20:30:00.0000000", "timeZone": "UTC"}`.
    /// Unknown zone names fall back to UTC rather than losing the event.
    pub fn from_graph(value: &Value, all_day: bool) -> Option<EventTime> {
        let text = value.get("dateTime")?.as_str()?;
        let local = parse_wall_time(text)?;
        let zone_name = value
            .get("timeZone")
            .and_then(Value::as_str)
            .unwrap_or("UTC");
        let zone = tz::resolve(zone_name).unwrap_or_else(|| {
            tracing::warn!(
                zone = zone_name,
                "unknown time zone, reading the time as UTC"
            );
            chrono_tz::Tz::UTC
        });
        let utc = tz::local_to_utc(local, zone);
        Some(if all_day {
            EventTime::AllDay {
                date: local.date(),
                utc,
            }
        } else {
            EventTime::At(utc)
        })
    }
}

/// Parses a wall-clock time with or without fractional seconds (Graph sends seven digits),
/// tolerating a trailing `Z` or offset, which some producers add.
pub fn parse_wall_time(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.naive_utc());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

/// A person as Graph names them: `emailAddress {name, address}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub name: Option<String>,
    pub address: Option<String>,
}

impl Person {
    fn from_graph(value: &Value) -> Option<Person> {
        let email = value.get("emailAddress")?;
        let person = Person {
            name: str_field(email, "name"),
            address: str_field(email, "address"),
        };
        (person.name.is_some() || person.address.is_some()).then_some(person)
    }

    /// `Name <address>`, or whichever half is known.
    pub fn display(&self) -> String {
        match (&self.name, &self.address) {
            (Some(n), Some(a)) => format!("{n} <{a}>"),
            (Some(n), None) => n.clone(),
            (None, Some(a)) => a.clone(),
            (None, None) => String::new(),
        }
    }
}

/// An attendee and their answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendee {
    pub person: Person,
    /// `required`, `optional` or `resource`.
    pub kind: Option<String>,
    /// `none`, `accepted`, `tentativelyAccepted`, `declined`, `notResponded`, `organizer`.
    pub response: Option<String>,
}

/// One event of a calendar view, as cached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub subject: Option<String>,
    pub body_preview: Option<String>,
    pub start: Option<EventTime>,
    pub end: Option<EventTime>,
    pub all_day: bool,
    pub location: Option<String>,
    pub organizer: Option<Person>,
    pub attendees: Vec<Attendee>,
    pub show_as: Option<String>,
    pub cancelled: bool,
    /// `singleInstance`, `occurrence` or `exception`.
    pub kind: Option<String>,
    pub series_master_id: Option<String>,
    pub online_meeting_url: Option<String>,
    pub web_link: Option<String>,
    pub categories: Vec<String>,
    pub sensitivity: Option<String>,
    pub importance: Option<String>,
    pub response: Option<String>,
    pub last_modified: Option<String>,
    pub change_key: Option<String>,
    pub etag: Option<String>,
    pub ical_uid: Option<String>,
}

/// Why a delta item could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("delta item is not a JSON object")]
    NotAnObject,
    #[error("delta item has no `id`")]
    MissingId,
}

fn str_field(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn bool_field(value: &Value, key: &str) -> bool {
    value.get(key).and_then(Value::as_bool).unwrap_or(false)
}

impl Event {
    /// Builds an event from Graph JSON. Only a missing `id` is an error.
    pub fn from_graph(value: &Value) -> Result<Event, ParseError> {
        if !value.is_object() {
            return Err(ParseError::NotAnObject);
        }
        let id = str_field(value, "id")
            .filter(|id| !id.is_empty())
            .ok_or(ParseError::MissingId)?;
        let all_day = bool_field(value, "isAllDay");
        let time = |key| {
            value
                .get(key)
                .and_then(|v| EventTime::from_graph(v, all_day))
        };
        let location = value
            .get("location")
            .and_then(|l| str_field(l, "displayName"))
            .filter(|s| !s.is_empty())
            .or_else(|| {
                value
                    .get("locations")?
                    .as_array()?
                    .iter()
                    .find_map(|l| str_field(l, "displayName").filter(|s| !s.is_empty()))
            });
        let attendees = value
            .get("attendees")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|a| {
                        Some(Attendee {
                            person: Person::from_graph(a)?,
                            kind: str_field(a, "type"),
                            response: a.get("status").and_then(|s| str_field(s, "response")),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let categories = value
            .get("categories")
            .and_then(Value::as_array)
            .map(|c| {
                c.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let online_meeting_url = value
            .get("onlineMeeting")
            .and_then(|m| str_field(m, "joinUrl"))
            .or_else(|| str_field(value, "onlineMeetingUrl"))
            .filter(|s| !s.is_empty());
        Ok(Event {
            id,
            subject: str_field(value, "subject"),
            body_preview: str_field(value, "bodyPreview"),
            start: time("start"),
            end: time("end"),
            all_day,
            location,
            organizer: value.get("organizer").and_then(Person::from_graph),
            attendees,
            show_as: str_field(value, "showAs"),
            cancelled: bool_field(value, "isCancelled"),
            kind: str_field(value, "type"),
            series_master_id: str_field(value, "seriesMasterId"),
            online_meeting_url,
            web_link: str_field(value, "webLink"),
            categories,
            sensitivity: str_field(value, "sensitivity"),
            importance: str_field(value, "importance"),
            response: value
                .get("responseStatus")
                .and_then(|r| str_field(r, "response")),
            last_modified: str_field(value, "lastModifiedDateTime"),
            change_key: str_field(value, "changeKey"),
            etag: str_field(value, "@odata.etag"),
            ical_uid: str_field(value, "iCalUId"),
        })
    }

    /// The instants the event covers, `[start, end)`. An event without a start has no span;
    /// a missing or inverted end collapses to the start.
    pub fn span(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let start = self.start.as_ref()?.instant();
        let end = self.end.as_ref().map(EventTime::instant).unwrap_or(start);
        Some((start, end.max(start)))
    }

    /// For all-day events, the dates covered `[first, last]`; None for timed events.
    pub fn all_day_dates(&self) -> Option<(NaiveDate, NaiveDate)> {
        let Some(EventTime::AllDay { date: first, .. }) = self.start else {
            return None;
        };
        let last = match self.end {
            Some(EventTime::AllDay { date, .. }) if date > first => date.pred_opt().unwrap_or(date),
            _ => first,
        };
        Some((first, last))
    }

    /// The version marker to compare with the server: changeKey, else the etag.
    pub fn version(&self) -> Option<&str> {
        self.change_key.as_deref().or(self.etag.as_deref())
    }
}

/// One change carried by a delta page.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Added or updated: the full event and its raw JSON.
    Upsert { event: Box<Event>, raw: String },
    /// `@removed`: no longer in this view.
    Remove { id: String },
}

impl Change {
    pub fn id(&self) -> &str {
        match self {
            Change::Upsert { event, .. } => &event.id,
            Change::Remove { id } => id,
        }
    }

    /// Reads one item of a delta page's `value` array, given its raw JSON text.
    pub fn from_raw(raw: &str) -> Result<Change, ParseError> {
        let value: Value = serde_json::from_str(raw).map_err(|_| ParseError::NotAnObject)?;
        Change::from_value(&value, raw)
    }

    fn from_value(value: &Value, raw: &str) -> Result<Change, ParseError> {
        if value.get("@removed").is_some() {
            let id = str_field(value, "id")
                .filter(|id| !id.is_empty())
                .ok_or(ParseError::MissingId)?;
            return Ok(Change::Remove { id });
        }
        let event = Event::from_graph(value)?;
        Ok(Change::Upsert {
            event: Box::new(event),
            raw: raw.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn parses_seven_digit_fractions_in_utc() {
        let t = EventTime::from_graph(
            &json!({"dateTime": "2016-12-09T20:30:00.0000000", "timeZone": "UTC"}),
            false,
        );
        assert_eq!(t, Some(EventTime::At(at("2016-12-09T20:30:00Z"))));
        let t = EventTime::from_graph(
            &json!({"dateTime": "2016-12-09T20:30:00.1234567", "timeZone": "UTC"}),
            false,
        )
        .unwrap();
        assert_eq!(t.instant().timestamp_subsec_nanos(), 123_456_700);
    }

    #[test]
    fn parses_windows_and_iana_zones() {
        let windows = EventTime::from_graph(
            &json!({"dateTime": "2026-07-01T09:00:00.0000000", "timeZone": "Pacific Standard Time"}),
            false,
        );
        assert_eq!(windows, Some(EventTime::At(at("2026-07-01T16:00:00Z"))));
        let iana = EventTime::from_graph(
            &json!({"dateTime": "2026-01-15T09:00:00", "timeZone": "Europe/Berlin"}),
            false,
        );
        assert_eq!(iana, Some(EventTime::At(at("2026-01-15T08:00:00Z"))));
        let unknown = EventTime::from_graph(
            &json!({"dateTime": "2026-01-15T09:00:00", "timeZone": "Mars/Olympus"}),
            false,
        );
        assert_eq!(unknown, Some(EventTime::At(at("2026-01-15T09:00:00Z"))));
    }

    #[test]
    fn all_day_events_keep_their_dates() {
        let e = Event::from_graph(&json!({
            "id": "x", "isAllDay": true,
            "start": {"dateTime": "2026-12-24T00:00:00.0000000", "timeZone": "Tokyo Standard Time"},
            "end": {"dateTime": "2026-12-27T00:00:00.0000000", "timeZone": "Tokyo Standard Time"}
        }))
        .unwrap();
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(e.all_day_dates(), Some((d("2026-12-24"), d("2026-12-26"))));
        assert_eq!(e.span().unwrap().0, at("2026-12-23T15:00:00Z"));
    }

    #[test]
    fn tolerates_missing_null_and_mistyped_fields() {
        let e = Event::from_graph(&json!({
            "id": "x", "subject": null, "start": 5, "attendees": "nope",
            "organizer": {"emailAddress": null}, "isCancelled": "yes", "brandNew": {"a": 1}
        }))
        .unwrap();
        assert_eq!(e.subject, None);
        assert_eq!(e.start, None);
        assert!(e.attendees.is_empty());
        assert!(!e.cancelled);
        assert_eq!(e.span(), None);
    }

    #[test]
    fn rejects_only_a_missing_id() {
        assert_eq!(
            Event::from_graph(&json!({"subject": "s"})),
            Err(ParseError::MissingId)
        );
        assert_eq!(Change::from_raw("[1]"), Err(ParseError::NotAnObject));
        assert_eq!(Change::from_raw("{"), Err(ParseError::NotAnObject));
        let removed = Change::from_raw(r#"{"id": "a", "@removed": {"reason": "changed"}}"#);
        assert_eq!(removed, Ok(Change::Remove { id: "a".into() }));
    }
}
