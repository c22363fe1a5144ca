//! Graph's event JSON, read into the domain model: the wire shapes of a delta item, borrowed
//! from the page text, and the lenient reading of them.
//!
//! Parsing is deliberately lenient: Graph may omit or null any field, add new ones, or send a
//! value of an unexpected type. Only a missing `id` makes an item unusable. `Event::from_graph`,
//! `EventTime::from_graph` and `Change::from_raw` are defined here, beside the shapes they read,
//! so that the model knows nothing of Graph's JSON.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Utc, Weekday};
use serde::Deserialize;
use serde_json::Value;

use crate::model::{
    Attendee, AttendeeKind, Body, Change, Event, EventId, EventKind, EventTime, Pattern, Person,
    Recurrence, RecurrenceEnd, Response, ShowAs, WeekIndex,
};

impl EventTime {
    /// Parses Graph's `{"dateTime": "2016-12-09T20:30:00.0000000", "timeZone": "UTC"}`.
    pub fn from_graph(value: &Value, all_day: bool) -> Option<EventTime> {
        let text = value.get("dateTime")?.as_str()?;
        let zone = value
            .get("timeZone")
            .and_then(Value::as_str)
            .unwrap_or("UTC");
        EventTime::from_parts(text, zone, all_day)
    }
}

fn person(w: &WirePerson<'_>) -> Option<Person> {
    person_of(w.email_address.as_ref()?)
}

fn person_of(email: &WireEmail<'_>) -> Option<Person> {
    let person = Person {
        name: email.name.as_deref().map(str::to_owned),
        address: email.address.as_deref().map(str::to_owned),
    };
    (person.name.is_some() || person.address.is_some()).then_some(person)
}

fn recurrence(w: &WireRecurrence<'_>) -> Option<Recurrence> {
    let p = &w.pattern;
    let r = &w.range;
    let pattern = Pattern::from_graph(p.kind.as_deref()?);
    let date = |d: &Option<Cow<'_, str>>| {
        d.as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    };
    let end = match r.kind.as_deref() {
        Some("endDate") => RecurrenceEnd::Date(date(&r.end_date)?),
        Some("numbered") => RecurrenceEnd::Count(
            r.number_of_occurrences
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| *n > 0)?,
        ),
        _ => RecurrenceEnd::Never,
    };
    Some(Recurrence {
        pattern,
        interval: p
            .interval
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0)
            .unwrap_or(1),
        days: p
            .days_of_week
            .iter()
            .flatten()
            .filter_map(|d| d.parse().ok())
            .collect(),
        day_of_month: p
            .day_of_month
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
        month: p.month.and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
        index: match p.index.as_deref() {
            Some("second") => WeekIndex::Second,
            Some("third") => WeekIndex::Third,
            Some("fourth") => WeekIndex::Fourth,
            Some("last") => WeekIndex::Last,
            _ => WeekIndex::First,
        },
        first_day_of_week: p
            .first_day_of_week
            .as_deref()
            .and_then(|d| d.parse().ok())
            .unwrap_or(Weekday::Sun),
        start_date: date(&r.start_date),
        end,
        zone: owned(&r.recurrence_time_zone).filter(|z| !z.is_empty()),
    })
}

fn body(w: &WireBody<'_>) -> Option<Body> {
    let content = w.content.as_deref().filter(|c| !c.trim().is_empty())?;
    Some(Body {
        html: !w
            .content_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("text")),
        content: content.to_owned(),
    })
}

/// Why a delta item could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    /// Not a JSON object.
    #[error("delta item is not a JSON object")]
    NotAnObject,
    /// No `id`.
    #[error("delta item has no `id`")]
    MissingId,
}

/// Graph's event JSON, borrowed from the page text; unknown fields are skipped unread.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WireEvent<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(rename = "@removed")]
    removed: Option<serde::de::IgnoredAny>,
    #[serde(borrow)]
    subject: Option<Cow<'a, str>>,
    #[serde(borrow)]
    body_preview: Option<Cow<'a, str>>,
    #[serde(borrow)]
    body: Option<WireBody<'a>>,
    #[serde(borrow)]
    start: Option<WireTime<'a>>,
    #[serde(borrow)]
    end: Option<WireTime<'a>>,
    is_all_day: Option<bool>,
    #[serde(borrow)]
    location: Option<WireLocation<'a>>,
    #[serde(borrow)]
    locations: Option<Vec<WireLocation<'a>>>,
    #[serde(borrow)]
    organizer: Option<WirePerson<'a>>,
    #[serde(borrow)]
    attendees: Option<Vec<WireAttendee<'a>>>,
    #[serde(borrow)]
    show_as: Option<Cow<'a, str>>,
    is_cancelled: Option<bool>,
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    series_master_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    online_meeting: Option<WireOnlineMeeting<'a>>,
    #[serde(borrow)]
    online_meeting_url: Option<Cow<'a, str>>,
    #[serde(borrow)]
    web_link: Option<Cow<'a, str>>,
    #[serde(borrow)]
    categories: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow)]
    sensitivity: Option<Cow<'a, str>>,
    #[serde(borrow)]
    importance: Option<Cow<'a, str>>,
    #[serde(borrow)]
    response_status: Option<WireStatus<'a>>,
    #[serde(borrow)]
    last_modified_date_time: Option<Cow<'a, str>>,
    #[serde(borrow)]
    change_key: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "@odata.etag")]
    etag: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "iCalUId")]
    ical_uid: Option<Cow<'a, str>>,
    is_reminder_on: Option<bool>,
    is_organizer: Option<bool>,
    reminder_minutes_before_start: Option<i64>,
    #[serde(borrow)]
    recurrence: Option<WireRecurrence<'a>>,
    #[serde(borrow)]
    original_start: Option<Cow<'a, str>>,
    #[serde(borrow)]
    original_start_time_zone: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireRecurrence<'a> {
    #[serde(borrow)]
    pattern: WirePattern<'a>,
    #[serde(borrow)]
    range: WireRange<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WirePattern<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
    interval: Option<i64>,
    #[serde(borrow)]
    days_of_week: Option<Vec<Cow<'a, str>>>,
    day_of_month: Option<i64>,
    month: Option<i64>,
    #[serde(borrow)]
    index: Option<Cow<'a, str>>,
    #[serde(borrow)]
    first_day_of_week: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WireRange<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    start_date: Option<Cow<'a, str>>,
    #[serde(borrow)]
    end_date: Option<Cow<'a, str>>,
    number_of_occurrences: Option<i64>,
    #[serde(borrow)]
    recurrence_time_zone: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WireBody<'a> {
    #[serde(borrow)]
    content_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    content: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WireTime<'a> {
    #[serde(borrow)]
    date_time: Option<Cow<'a, str>>,
    #[serde(borrow)]
    time_zone: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WireLocation<'a> {
    #[serde(borrow)]
    display_name: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WirePerson<'a> {
    #[serde(borrow)]
    email_address: Option<WireEmail<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireEmail<'a> {
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    address: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WireAttendee<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    status: Option<WireStatus<'a>>,
    #[serde(borrow)]
    email_address: Option<WireEmail<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireStatus<'a> {
    #[serde(borrow)]
    response: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WireOnlineMeeting<'a> {
    #[serde(borrow)]
    join_url: Option<Cow<'a, str>>,
}

/// The slow, forgiving path for an item whose typed reading failed: keep every top-level field
/// that reads on its own, drop the ones of an unexpected type, and read what is left.
fn forgiving<R>(
    value: &Value,
    read: impl FnOnce(&WireEvent<'_>) -> Result<R, ParseError>,
) -> Result<R, ParseError> {
    let Value::Object(map) = value else {
        return Err(ParseError::NotAnObject);
    };
    let mut clean = serde_json::Map::new();
    for (key, field) in map {
        let probe = Value::Object(std::iter::once((key.clone(), field.clone())).collect());
        if WireEvent::deserialize(&probe).is_ok() {
            clean.insert(key.clone(), field.clone());
        }
    }
    let clean = Value::Object(clean);
    let wire = WireEvent::deserialize(&clean).map_err(|_| ParseError::NotAnObject)?;
    read(&wire)
}

fn owned(s: &Option<Cow<'_, str>>) -> Option<String> {
    s.as_deref().map(str::to_owned)
}

fn wire_time(t: &Option<WireTime<'_>>, all_day: bool) -> Option<EventTime> {
    let t = t.as_ref()?;
    let text = t.date_time.as_deref()?;
    EventTime::from_parts(text, t.time_zone.as_deref().unwrap_or("UTC"), all_day)
}

impl Event {
    /// Builds an event from Graph JSON. Only a missing `id` is an error.
    pub fn from_graph(value: &Value) -> Result<Event, ParseError> {
        match WireEvent::deserialize(value) {
            Ok(wire) => Event::from_wire(&wire),
            Err(_) => forgiving(value, Event::from_wire),
        }
    }

    fn from_wire(w: &WireEvent<'_>) -> Result<Event, ParseError> {
        let id = owned(&w.id)
            .filter(|id| !id.is_empty())
            .ok_or(ParseError::MissingId)?;
        let all_day = w.is_all_day.unwrap_or(false);
        let location = w
            .location
            .as_ref()
            .and_then(|l| owned(&l.display_name))
            .filter(|s| !s.is_empty())
            .or_else(|| {
                w.locations
                    .as_ref()?
                    .iter()
                    .find_map(|l| owned(&l.display_name).filter(|s| !s.is_empty()))
            });
        let attendees = w
            .attendees
            .iter()
            .flatten()
            .filter_map(|a| {
                Some(Attendee {
                    person: person_of(a.email_address.as_ref()?)?,
                    kind: a.kind.as_deref().map(AttendeeKind::from_graph),
                    response: a
                        .status
                        .as_ref()
                        .and_then(|s| s.response.as_deref())
                        .map(Response::from_graph),
                })
            })
            .collect();
        let online_meeting_url = w
            .online_meeting
            .as_ref()
            .and_then(|m| owned(&m.join_url))
            .or_else(|| owned(&w.online_meeting_url))
            .filter(|s| !s.is_empty());
        Ok(Event {
            id: EventId::from(id),
            subject: owned(&w.subject),
            body_preview: owned(&w.body_preview),
            body: w.body.as_ref().and_then(body),
            start: wire_time(&w.start, all_day),
            end: wire_time(&w.end, all_day),
            all_day,
            location,
            organizer: w.organizer.as_ref().and_then(person),
            attendees,
            show_as: w.show_as.as_deref().map(ShowAs::from_graph),
            cancelled: w.is_cancelled.unwrap_or(false),
            kind: w.kind.as_deref().map(EventKind::from_graph),
            series_master_id: owned(&w.series_master_id).map(EventId::from),
            online_meeting_url,
            web_link: owned(&w.web_link),
            categories: w
                .categories
                .iter()
                .flatten()
                .map(|c| c.to_string())
                .collect(),
            sensitivity: owned(&w.sensitivity),
            importance: owned(&w.importance),
            response: w
                .response_status
                .as_ref()
                .and_then(|r| r.response.as_deref())
                .map(Response::from_graph),
            last_modified: owned(&w.last_modified_date_time),
            change_key: owned(&w.change_key),
            etag: owned(&w.etag),
            ical_uid: owned(&w.ical_uid),
            reminder_on: w.is_reminder_on,
            is_organizer: w.is_organizer,
            // A negative or absurd lead (over four weeks) is none at all.
            reminder_minutes: w
                .reminder_minutes_before_start
                .and_then(|m| u32::try_from(m).ok())
                .filter(|m| *m <= 4 * 7 * 24 * 60),
            recurrence: w.recurrence.as_ref().and_then(recurrence).map(Box::new),
            original_start: w
                .original_start
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc)),
            zone: owned(&w.original_start_time_zone).filter(|z| {
                !z.is_empty() && z.len() <= 100 && !z.eq_ignore_ascii_case("tzone://Microsoft/Utc")
            }),
        })
    }
}

impl Change {
    /// Reads one item of a delta page's `value` array, given its raw JSON text: a typed reading
    /// straight from the text, or the forgiving one when a field has an unexpected type.
    pub fn from_raw(raw: &str) -> Result<Change, ParseError> {
        let change = |wire: &WireEvent<'_>| {
            if wire.removed.is_some() {
                let id = owned(&wire.id)
                    .filter(|id| !id.is_empty())
                    .ok_or(ParseError::MissingId)?;
                return Ok(Change::Remove { id: id.into() });
            }
            Ok(Change::Upsert {
                event: Box::new(Event::from_wire(wire)?),
            })
        };
        match serde_json::from_str::<WireEvent<'_>>(raw) {
            Ok(wire) => change(&wire),
            Err(_) => {
                let value: Value =
                    serde_json::from_str(raw).map_err(|_| ParseError::NotAnObject)?;
                forgiving(&value, change)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BODY_TEXT_LIMIT;

    #[test]
    fn bodies_keep_their_kind_and_html_reads_as_text() {
        let html = Event::from_graph(
            &serde_json::json!({"id": "1", "body": {"contentType": "html",
            "content": "<p>Hello <a href=\"https://example.com/x\">there</a></p>"}}),
        )
        .unwrap();
        let body = html.body.as_ref().unwrap();
        assert!(body.html);
        let text = body.text();
        assert!(
            text.contains("Hello") && text.contains("https://example.com/x"),
            "{text}"
        );
        assert!(!text.contains("<p>"));
        let plain = Event::from_graph(
            &serde_json::json!({"id": "2", "body": {"contentType": "text",
            "content": "line one\n<not a tag>"}}),
        )
        .unwrap();
        assert_eq!(plain.body.unwrap().text(), "line one\n<not a tag>");
        let empty = Event::from_graph(
            &serde_json::json!({"id": "3", "body": {"contentType": "html",
            "content": "  "}}),
        )
        .unwrap();
        assert_eq!(empty.body, None);
        // A huge body is cut at the limit, on a character boundary.
        let long = Body {
            html: false,
            content: "é".repeat(BODY_TEXT_LIMIT),
        };
        assert!(long.text().len() <= BODY_TEXT_LIMIT);
    }
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

    #[test]
    fn graph_codes_are_variants_and_unknown_ones_are_kept_as_sent() {
        let e = Event::from_graph(
            &json!({"id": "x", "type": "occurrence", "seriesMasterId": "m",
            "showAs": "somethingNew", "responseStatus": {"response": "declined"},
            "attendees": [{"type": "resource", "status": {"response": "organizer"},
                           "emailAddress": {"address": "room@contoso.com"}}]}),
        )
        .unwrap();
        assert_eq!(e.kind, Some(EventKind::Occurrence));
        assert!(e.is_occurrence() && !e.is_exception());
        assert_eq!(e.response, Some(Response::Declined));
        assert!(e.declined() && !e.attending());
        assert_eq!(e.show_as, Some(ShowAs::Other("somethingNew".into())));
        assert_eq!(
            e.show_as.as_ref().map(ShowAs::as_graph),
            Some("somethingNew")
        );
        assert_eq!(e.attendees[0].kind, Some(AttendeeKind::Resource));
        assert_eq!(e.attendees[0].response, Some(Response::Organizer));
        for code in [
            "none",
            "organizer",
            "accepted",
            "tentativelyAccepted",
            "declined",
            "notResponded",
        ] {
            assert_eq!(Response::from_graph(code).as_graph(), code);
        }
        assert_eq!(ShowAs::WorkingElsewhere.words(), "working elsewhere");
        assert_eq!(Response::NotResponded.words(), "not answered");
        let cancelled = Event {
            cancelled: true,
            ..Event::default()
        };
        assert!(!cancelled.attending());
        assert!(Event::default().attending(), "not answered yet is attended");
    }
}
