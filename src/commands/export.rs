//! `deltacal export --ics`: cached events as RFC 5545, for khal, calcurse or any iCalendar
//! reader. Written with the `icalendar` crate (it escapes text, quotes parameters and folds
//! lines); server text is stripped of control characters first. A series is written as one
//! event with its pattern (see `export/series.rs`), so importers keep it a series.

mod series;

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use icalendar::{
    Alarm, Attendee, CUType, Calendar, Component, EventLike, EventStatus, PartStat, Property, Role,
    Trigger,
};

use super::{MAX_AGENDA_DAYS, check_data_dir, chosen_views, day_range};
use crate::commands;
use crate::commands::agenda::{AgendaError, read_cache};
use crate::config::Config;
use crate::model::{AttendeeKind, CachedEvent, Event, EventId, Person, Response, ShowAs, ViewKey};
use crate::store::{SavedLink, Store, StoreError};
use crate::text;
use std::io::Write as _;

/// Who made the file (RFC 5545 3.7.3), as importers show it: deltacal and its version.
const PRODID: &str = concat!("-//deltacal//deltacal ", env!("CARGO_PKG_VERSION"), "//EN");

/// What an export writes: the events of its days, and the series among them whose master the
/// cache holds, each with every instance the cache holds of it.
#[derive(Debug, Default)]
pub struct Source {
    /// The events of the window.
    pub events: Vec<CachedEvent>,
    /// The series among them, by their key.
    pub series: HashMap<SeriesKey, SeriesSource>,
}

/// A series: (view, master id).
pub type SeriesKey = (ViewKey, EventId);

/// A series as the cache holds it.
#[derive(Debug)]
pub struct SeriesSource {
    /// The series' master.
    pub master: Event,
    /// Its instances in the view's window, as shown (occurrences completed with the master).
    pub instances: Vec<Event>,
    /// The span in which the cache holds every instance of the view (the window of its last
    /// completed round); None while a full round is under way or none has completed.
    pub complete_in: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// Reads what an export of `first..=last` writes from the cache: the events of those days, and
/// for each series among them its master and its instances in the whole window.
pub fn gather(
    config: &Config,
    views: &[ViewKey],
    first: NaiveDate,
    last: NaiveDate,
) -> Result<Source, AgendaError> {
    read_cache(config, |store| {
        let events = store.events_in_days(views, &config.display.zone, first, last)?;
        let mut wanted: HashMap<&str, BTreeSet<&str>> = HashMap::new();
        for c in &events {
            if let Some(master) = c.event.series_master_id.as_deref() {
                wanted.entry(c.view.as_str()).or_default().insert(master);
            }
        }
        let mut series = HashMap::new();
        for (view, ids) in wanted {
            series.extend(view_series(store, view, ids)?);
        }
        Ok(Source { events, series })
    })
}

/// The series `ids` of `view` whose master the cache holds.
fn view_series(
    store: &Store,
    view: &str,
    ids: BTreeSet<&str>,
) -> Result<Vec<(SeriesKey, SeriesSource)>, StoreError> {
    let masters = store.series_masters(view, ids.iter().copied())?;
    if masters.is_empty() {
        return Ok(Vec::new());
    }
    let state = store.sync_state(view)?;
    let window = state.as_ref().map(|s| s.cursor.window);
    let complete_in = state
        .filter(|s| {
            s.cursor.last_completed.is_some()
                && !(s.cursor.full_round && matches!(s.cursor.link, Some(SavedLink::Next(_))))
        })
        .map(|s| (s.cursor.window.start, s.cursor.window.end));
    let mut instances: HashMap<&str, Vec<Event>> = HashMap::new();
    if let Some(w) = window {
        for c in store.events_overlapping(Some(&[ViewKey::from(view)]), w.start, w.end)? {
            if let Some(master) = c.event.series_master_id.as_deref()
                && let Some(id) = ids.get(master)
            {
                instances.entry(id).or_default().push(c.event);
            }
        }
    }
    Ok(masters
        .into_iter()
        .map(|master| {
            let found = instances.remove(master.id.as_str()).unwrap_or_default();
            (
                (ViewKey::from(view), master.id.clone()),
                SeriesSource {
                    master,
                    instances: found,
                    complete_in,
                },
            )
        })
        .collect())
}

/// The calendar as iCalendar text: one VEVENT per event of no series, one per series (its
/// pattern, with overrides and exclusions) that the cache can say as a pattern, and the
/// instances of any other one by one; stubs left out.
pub fn ics(config: &Config, source: &Source, now: DateTime<Utc>) -> String {
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
    // Each series once, where its first instance of the range comes.
    let mut written: HashMap<(&str, &str), bool> = HashMap::new();
    for c in source.events.iter().filter(|c| !c.event.is_stub()) {
        if let Some(master) = c.event.series_master_id.as_deref()
            && let Some(s) = source.series.get(&(c.view.clone(), EventId::from(master)))
        {
            let as_series = *written.entry((&c.view, master)).or_insert_with(|| {
                let uid = uid_of(&s.master, &c.view, &mut uids);
                match series::vevents(s, &uid, now) {
                    Some(vevents) => {
                        for v in vevents {
                            calendar.push(v);
                        }
                        true
                    }
                    None => false,
                }
            });
            if as_series {
                continue;
            }
        }
        let uid = uid_of(&c.event, &c.view, &mut uids);
        if let Some(event) = vevent(&c.event, &uid, now) {
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

/// UID: the iCalendar id Graph keeps across calendars; the Graph id where it has none or it
/// was already used (the same event in two calendars, or each occurrence of a series written
/// one by one, which share their series' id).
fn uid_of(e: &Event, view: &str, uids: &mut HashSet<String>) -> String {
    let uid = e
        .ical_uid
        .as_deref()
        .map(clean)
        .filter(|u| !u.is_empty() && !uids.contains(u))
        .unwrap_or_else(|| clean(&format!("{}@{}", e.id, view)));
    uids.insert(uid.clone());
    uid
}

/// An event on its own: its times in UTC (dates when all-day) and what it says.
fn vevent(e: &Event, uid: &str, now: DateTime<Utc>) -> Option<icalendar::Event> {
    let mut v = icalendar::Event::new();
    v.uid(uid);
    if let Some((first, last)) = e.all_day_dates() {
        v.starts(first);
        v.ends(last + Duration::days(1));
    } else {
        let (start, end) = e.span()?;
        v.starts(start);
        v.ends(end);
    }
    describe(&mut v, e, now);
    Some(v.done())
}

/// What an event says, beside its UID and times: stamp, text, status, people and reminder.
fn describe(v: &mut icalendar::Event, e: &Event, now: DateTime<Utc>) {
    let stamp = e
        .last_modified
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or(now, |t| t.with_timezone(&Utc));
    v.timestamp(stamp);
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
    if e.show_as == Some(ShowAs::Free) {
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
        attendee = match a.kind {
            Some(AttendeeKind::Optional) => attendee.role(Role::OptParticipant),
            Some(AttendeeKind::Resource) => {
                attendee.role(Role::NonParticipant).cutype(CUType::Resource)
            }
            _ => attendee.role(Role::ReqParticipant),
        };
        attendee = attendee.partstat(match a.response {
            Some(Response::Accepted | Response::Organizer) => PartStat::Accepted,
            Some(Response::TentativelyAccepted) => PartStat::Tentative,
            Some(Response::Declined) => PartStat::Declined,
            _ => PartStat::NeedsAction,
        });
        v.attendee(attendee);
    }
    // The reminder Outlook would give, as an alarm the importer gives (khal, calcurse).
    if e.reminder_on == Some(true)
        && let Some(minutes) = e.reminder_minutes
    {
        let mut alarm = Alarm::display(
            &clean(e.title()),
            Trigger::before_start(Duration::minutes(i64::from(minutes))),
        );
        // The crate writes a UID and a stamp in every component, random and the time of the
        // export if not given: these keep the same cache exporting the same bytes.
        alarm.uid(&format!("{}-alarm", v.get_uid().unwrap_or_default()));
        alarm.timestamp(stamp);
        v.alarm(alarm);
    }
}

/// `deltacal export --ics`: the cached events of the range (default: the whole sync window) as
/// an iCalendar file on stdout.
pub fn run(
    config: &Config,
    from: Option<&str>,
    to: Option<&str>,
    calendar: Option<&str>,
) -> anyhow::Result<()> {
    check_data_dir(config)?;
    let views = chosen_views(config, calendar)?;
    let today = commands::agenda::today(config);
    let (synced_first, synced_last) = config.synced_days(today);
    let default_days = (synced_last - synced_first).num_days().min(MAX_AGENDA_DAYS);
    let (first, last) = day_range(config, from, to, synced_first, default_days)?;
    let source = match commands::export::gather(config, &views, first, last) {
        Err(e @ commands::agenda::AgendaError::NoCache(_)) => {
            eprintln!("deltacal: {e}");
            commands::export::Source::default()
        }
        other => other?,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    out.write_all(commands::export::ics(config, &source, chrono::Utc::now()).as_bytes())?;
    out.flush()?;
    Ok(())
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
        let source = Source {
            events,
            series: HashMap::new(),
        };
        let text = ics(&config(), &source, "2026-11-29T00:00:00Z".parse().unwrap());
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

    /// A weekly series in Berlin across the end of summer time: one occurrence moved, one
    /// cancelled, one deleted, a reminder.
    fn series_source() -> SeriesSource {
        let berlin = |s: &str| json!({"dateTime": s, "timeZone": "W. Europe Standard Time"});
        let master = Event::from_graph(
            &json!({"id": "m", "type": "seriesMaster", "iCalUId": "series-1",
            "subject": "Weekly sync", "isReminderOn": true, "reminderMinutesBeforeStart": 15,
            "start": berlin("2026-10-13T10:00:00"), "end": berlin("2026-10-13T10:30:00"),
            "recurrence": {
                "pattern": {"type": "weekly", "interval": 1, "month": 0, "dayOfMonth": 0,
                    "daysOfWeek": ["tuesday"], "firstDayOfWeek": "sunday", "index": "first"},
                "range": {"type": "numbered", "startDate": "2026-10-13", "endDate": "0001-01-01",
                    "recurrenceTimeZone": "W. Europe Standard Time", "numberOfOccurrences": 6}}}),
        )
        .unwrap();
        let stub = |id: &str, day: &str| {
            Event::from_graph(&json!({"id": id, "type": "occurrence", "seriesMasterId": "m",
                "start": berlin(&format!("{day}T10:00:00")), "end": berlin(&format!("{day}T10:30:00"))}))
            .unwrap()
            .completed_by(&master)
        };
        let moved = Event::from_graph(
            &json!({"id": "o2", "type": "exception", "seriesMasterId": "m",
            "subject": "Weekly sync (moved)", "originalStart": "2026-10-20T08:00:00Z",
            "start": berlin("2026-10-20T11:00:00"), "end": berlin("2026-10-20T11:30:00")}),
        )
        .unwrap();
        let cancelled = Event::from_graph(&json!({"id": "o3", "type": "exception", "seriesMasterId": "m",
            "subject": "Canceled: Weekly sync", "isCancelled": true, "originalStart": "2026-10-27T09:00:00Z",
            "start": berlin("2026-10-27T10:00:00"), "end": berlin("2026-10-27T10:30:00")}))
        .unwrap();
        SeriesSource {
            // The fourth, 3 November, was deleted: no instance.
            instances: vec![
                stub("o1", "2026-10-13"),
                moved,
                cancelled,
                stub("o5", "2026-11-10"),
                stub("o6", "2026-11-17"),
            ],
            master,
            complete_in: Some((
                "2026-10-01T00:00:00Z".parse().unwrap(),
                "2027-01-01T00:00:00Z".parse().unwrap(),
            )),
        }
    }

    fn series_export(series: SeriesSource) -> String {
        let events = series
            .instances
            .iter()
            .map(|e| CachedEvent {
                view: "default".into(),
                event: e.clone(),
            })
            .collect();
        let source = Source {
            events,
            series: [((ViewKey::default_calendar(), EventId::from("m")), series)].into(),
        };
        ics(&config(), &source, "2026-11-29T00:00:00Z".parse().unwrap())
    }

    #[test]
    fn a_series_is_one_event_with_its_rule_overrides_exclusions_and_alarm() {
        let text = series_export(series_source());
        let parsed = icalendar::Calendar::from_str(&text).expect("parses back");
        let vevents: Vec<&icalendar::Event> = parsed.events().collect();
        assert_eq!(
            vevents.len(),
            2,
            "the series and its moved occurrence: {text}"
        );
        let (series, moved) = (vevents[0], vevents[1]);
        assert_eq!(series.get_uid(), Some("series-1"));
        assert_eq!(moved.get_uid(), Some("series-1"));
        assert!(
            text.contains("DTSTART;TZID=Europe/Berlin:20261013T100000"),
            "{text}"
        );
        let rule = series.property_value("RRULE").unwrap();
        assert!(
            rule.contains("FREQ=WEEKLY") && rule.contains("COUNT=6") && rule.contains("BYDAY=TU"),
            "{rule}"
        );
        // What the rule gives, less the exclusions, is the occurrences that stand, at 10:00
        // Berlin on both sides of the change of clocks.
        let dates: Vec<String> = series
            .get_recurrence()
            .unwrap()
            .all(100)
            .dates
            .iter()
            .map(|d| d.with_timezone(&Utc).to_rfc3339())
            .collect();
        assert_eq!(
            dates,
            [
                "2026-10-13T08:00:00+00:00",
                "2026-10-20T08:00:00+00:00",
                "2026-11-10T09:00:00+00:00",
                "2026-11-17T09:00:00+00:00",
            ]
        );
        assert_eq!(
            text.matches("EXDATE").count(),
            2,
            "cancelled and deleted: {text}"
        );
        assert_eq!(
            moved.get_recurrence_id().map(|r| format!("{r:?}")),
            Some(format!(
                "{:?}",
                icalendar::DatePerhapsTime::DateTime(icalendar::CalendarDateTime::WithTimezone {
                    date_time: "2026-10-20T10:00:00".parse().unwrap(),
                    tzid: "Europe/Berlin".into(),
                })
            ))
        );
        assert_eq!(moved.get_summary(), Some("Weekly sync (moved)"));
        assert_eq!(moved.property_value("DTSTART"), Some("20261020T090000Z"));
        assert!(
            text.contains("BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Weekly sync\r\nDTSTAMP:20261129T000000Z\r\nTRIGGER;RELATED=START:-PT900S\r\nUID:series-1-alarm\r\nEND:VALARM"),
            "{text}"
        );
    }

    #[test]
    fn a_series_the_rule_would_not_reproduce_is_written_instance_by_instance() {
        // A moved occurrence that does not say where it was: its slot is unknown.
        let mut series = series_source();
        series.instances[1].original_start = None;
        let text = series_export(series);
        let parsed = icalendar::Calendar::from_str(&text).unwrap();
        assert_eq!(parsed.events().count(), 5, "{text}");
        assert!(!text.contains("RRULE"), "{text}");
        // An occurrence off the pattern (a Wednesday in a Tuesday series).
        let mut series = series_source();
        series.instances[3].original_start = Some("2026-11-11T09:00:00Z".parse().unwrap());
        let text = series_export(series);
        assert!(!text.contains("RRULE"), "{text}");
        // Before a round has completed the cache may lack instances: none is excluded.
        let mut series = series_source();
        series.complete_in = None;
        assert!(!series_export(series).contains("RRULE"));
    }
}
