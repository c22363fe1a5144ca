//! `deltacal export --ics`: cached events as RFC 5545, for khal, calcurse or any iCalendar
//! reader. Written with the `icalendar` crate (it escapes text, quotes parameters and folds
//! lines); server text is stripped of control characters first.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use icalendar::{
    Attendee, CUType, Calendar, Component, EventLike, EventStatus, PartStat, Property, Role,
};

use crate::config::Config;
use crate::model::{CachedEvent, Event, Person};
use crate::text;

/// Who made the file (RFC 5545 3.7.3), as importers show it: deltacal and its version.
const PRODID: &str = concat!("-//deltacal//deltacal ", env!("CARGO_PKG_VERSION"), "//EN");

/// The calendar as iCalendar text: one VEVENT per cached event (occurrences of a series each
/// as their own event, as Graph lists them), stubs left out.
pub fn ics(config: &Config, events: &[CachedEvent], now: DateTime<Utc>) -> String {
    let mut calendar = Calendar::empty();
    calendar
        .append_property(("VERSION", "2.0"))
        .append_property(("PRODID", PRODID))
        .append_property(("CALSCALE", "GREGORIAN"));
    calendar.name(&clean(
        &config
            .calendars
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    ));
    let mut uids = HashSet::new();
    for c in events.iter().filter(|c| !c.event.is_stub()) {
        if let Some(event) = vevent(c, now, &mut uids) {
            calendar.push(event);
        }
    }
    calendar.done().to_string()
}

/// Server text for a property value: one line, no control characters.
fn clean(s: &str) -> String {
    text::line(s).into_owned()
}

/// A parameter value may not hold a double quote (RFC 5545 §3.2).
fn param(s: &str) -> String {
    clean(s).replace('"', "'")
}

fn mailto(p: &Person) -> Option<String> {
    let address = p.address.as_deref()?.trim();
    (!address.is_empty()).then(|| format!("mailto:{}", clean(address).replace(' ', "")))
}

fn vevent(
    c: &CachedEvent,
    now: DateTime<Utc>,
    uids: &mut HashSet<String>,
) -> Option<icalendar::Event> {
    let e: &Event = &c.event;
    let mut v = icalendar::Event::new();
    // UID: the iCalendar id Graph keeps across calendars (different for each occurrence);
    // the Graph id where it has none or it was already used (the same event in two calendars).
    let uid = e
        .ical_uid
        .as_deref()
        .map(clean)
        .filter(|u| !u.is_empty() && !uids.contains(u))
        .unwrap_or_else(|| clean(&format!("{}@{}", e.id, c.view)));
    uids.insert(uid.clone());
    v.uid(&uid);
    v.timestamp(
        e.last_modified
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map_or(now, |t| t.with_timezone(&Utc)),
    );
    if let Some((first, last)) = e.all_day_dates() {
        v.starts(first);
        v.ends(last + Duration::days(1));
    } else {
        let (start, end) = e.span()?;
        v.starts(start);
        v.ends(end);
    }
    v.summary(&clean(e.title()));
    if let Some(l) = e.location.as_deref().filter(|l| !l.trim().is_empty()) {
        v.location(&clean(l));
    }
    if let Some(notes) = e.body_preview.as_deref().filter(|n| !n.trim().is_empty()) {
        v.description(&text::block(notes));
    }
    if e.cancelled {
        v.status(EventStatus::Cancelled);
    } else {
        v.status(EventStatus::Confirmed);
    }
    if let Ok((_, url)) = crate::links::event_link(e) {
        v.url(url.as_str());
    }
    if e.show_as.as_deref() == Some("free") {
        v.add_property("TRANSP", "TRANSPARENT");
    }
    if matches!(e.sensitivity.as_deref(), Some("private" | "confidential")) {
        v.class(icalendar::Class::Private);
    }
    if !e.categories.is_empty() {
        v.categories(e.categories.iter().map(|c| clean(c)));
    }
    if let Some(o) = &e.organizer
        && let Some(address) = mailto(o)
    {
        let mut organizer = Property::new("ORGANIZER", address);
        if let Some(name) = &o.name {
            organizer.add_parameter("CN", &param(name));
        }
        v.append_property(organizer);
    }
    for a in &e.attendees {
        let Some(address) = mailto(&a.person) else {
            continue;
        };
        let mut attendee = Attendee::new(address);
        attendee.cn = a.person.name.as_deref().map(param);
        attendee = match a.kind.as_deref() {
            Some("optional") => attendee.role(Role::OptParticipant),
            Some("resource") => attendee.role(Role::NonParticipant).cutype(CUType::Resource),
            _ => attendee.role(Role::ReqParticipant),
        };
        attendee = attendee.partstat(match a.response.as_deref() {
            Some("accepted" | "organizer") => PartStat::Accepted,
            Some("tentativelyAccepted") => PartStat::Tentative,
            Some("declined") => PartStat::Declined,
            _ => PartStat::NeedsAction,
        });
        v.attendee(attendee);
    }
    Some(v.done())
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use serde_json::json;

    fn config() -> Config {
        Config::from_toml("[ui]\ntimezone = \"UTC\"\n", None, "/tmp/x".into()).unwrap()
    }

    fn event(v: serde_json::Value) -> CachedEvent {
        CachedEvent {
            view: "default".into(),
            event: Event::from_graph(&v).unwrap(),
        }
    }

    fn t(s: &str) -> serde_json::Value {
        json!({"dateTime": s, "timeZone": "UTC"})
    }

    #[test]
    fn events_become_vevents_that_a_parser_reads_back() {
        let events = vec![
            event(
                json!({"id": "a", "iCalUId": "040000008200E00074C5B7101A82E008", "subject": "Plan; review, \u{1b}[31mnow",
                "start": t("2026-11-24T09:00:00"), "end": t("2026-11-24T10:30:00"),
                "location": {"displayName": "Room 2"}, "bodyPreview": "line one\nline two",
                "organizer": {"emailAddress": {"name": "Dana \"D\" Swope", "address": "dana@contoso.com"}},
                "attendees": [
                    {"type": "required", "status": {"response": "accepted"}, "emailAddress": {"name": "Alex, W", "address": "alex@contoso.com"}},
                    {"type": "optional", "status": {"response": "declined"}, "emailAddress": {"name": "Zoë", "address": "zoe@contoso.com"}},
                    {"type": "resource", "status": {"response": "none"}, "emailAddress": {"name": "Room 2", "address": "room2@contoso.com"}}],
                "onlineMeeting": {"joinUrl": "https://teams.microsoft.com/l/meetup-join/1"}}),
            ),
            event(
                json!({"id": "b", "subject": "Holiday", "isAllDay": true, "isCancelled": true, "showAs": "free",
                "start": t("2026-12-24T00:00:00"), "end": t("2026-12-26T00:00:00")}),
            ),
            // The same UID again (the event in a second calendar): the Graph id stands in.
            event(
                json!({"id": "c", "iCalUId": "040000008200E00074C5B7101A82E008", "subject": "Copy",
                "start": t("2026-11-25T09:00:00"), "end": t("2026-11-25T10:00:00")}),
            ),
        ];
        let text = ics(&config(), &events, "2026-11-29T00:00:00Z".parse().unwrap());
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n"), "{text}");
        assert!(
            text.contains("VERSION:2.0") && text.contains("PRODID:-//deltacal//deltacal "),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'), "{text:?}");
        assert!(text.lines().all(|l| l.len() <= 75), "folded: {text}");
        let parsed = icalendar::Calendar::from_str(&text).expect("parses back");
        let vevents: Vec<&icalendar::Event> = parsed.events().collect();
        assert_eq!(vevents.len(), 3);
        let a = vevents[0];
        assert_eq!(a.get_uid(), Some("040000008200E00074C5B7101A82E008"));
        assert_eq!(a.get_summary(), Some("Plan; review, [31mnow"));
        assert_eq!(a.get_description(), Some("line one\nline two"));
        assert_eq!(a.property_value("DTSTART"), Some("20261124T090000Z"));
        assert_eq!(a.property_value("DTEND"), Some("20261124T103000Z"));
        assert_eq!(
            a.get_url(),
            Some("https://teams.microsoft.com/l/meetup-join/1")
        );
        assert_eq!(a.get_status(), Some(EventStatus::Confirmed));
        let attendees = a.get_attendees();
        assert_eq!(attendees.len(), 3);
        assert_eq!(attendees[0].cn.as_deref(), Some("Alex, W"));
        assert_eq!(attendees[0].part_stat, Some(PartStat::Accepted));
        assert_eq!(attendees[1].role, Some(Role::OptParticipant));
        assert_eq!(attendees[1].part_stat, Some(PartStat::Declined));
        assert_eq!(attendees[2].cutype, Some(CUType::Resource));
        assert!(
            text.contains("ORGANIZER;CN=Dana 'D' Swope:mailto:dana@contoso.com"),
            "{text}"
        );
        let b = vevents[1];
        assert_eq!(b.get_status(), Some(EventStatus::Cancelled));
        assert_eq!(b.property_value("DTSTART"), Some("20261224"));
        assert_eq!(b.property_value("DTEND"), Some("20261226"));
        assert_eq!(b.property_value("TRANSP"), Some("TRANSPARENT"));
        assert_eq!(vevents[2].get_uid(), Some("c@default"));
    }
}
