//! A seeded generator of realistic calendars, and of realistic churn. Same seed, same calendar.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, SecondsFormat, Utc, Weekday};
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};

use super::mailbox::{Mailbox, render_time};
use super::time;

const PEOPLE: &[(&str, &str)] = &[
    ("Samantha Booth", "samanthab@contoso.com"),
    ("Dana Swope", "danas@contoso.com"),
    ("Alex Wilber", "alexw@contoso.com"),
    ("Megan Bowen", "meganb@contoso.com"),
    ("Lee Gu", "leeg@contoso.com"),
    ("Nestor Wilke", "nestorw@contoso.com"),
    ("Zoë Ångström", "zoe.angstrom@contoso.com"),
    ("José Álvarez", "jose.alvarez@fabrikam.com"),
    ("田中 美咲", "misaki.tanaka@contoso.co.jp"),
    ("Олег Петров", "oleg.petrov@contoso.ru"),
    ("Priya Raman", "priya.raman@contoso.in"),
    ("Conference Room Adams", "adams@contoso.com"),
];

const MEETINGS: &[&str] = &[
    "Weekly sync",
    "Design review",
    "1:1",
    "Sprint planning",
    "Customer call: Fabrikam",
    "Budget review Q3",
    "Interview: backend engineer",
    "Lunch & learn",
    "Architecture deep dive",
    "Incident retro",
    "Roadmap brainstorm",
    "Café con el equipo ☕",
    "Überprüfung der Quartalszahlen",
    "プロジェクト定例会議",
    "Обзор релиза",
    "Product demo 🚀",
    "Board prep: go/no-go on the Contoso–Fabrikam integration, pricing model and the rollout plan for EMEA",
    "Pick up car",
    "Dentist",
    "Plan shopping list",
];

const ALL_DAY: &[&str] = &[
    "Public holiday",
    "Out of office",
    "Birthday: Megan 🎂",
    "Release day",
    "Working from Lisbon",
    "Company offsite",
];

/// Weekly all-day series.
const ALL_DAY_SERIES: &[&str] = &[
    "Working from home",
    "On call",
    "No-meeting day",
    "Office day",
    "Bins out",
];

const MULTI_DAY: &[&str] = &[
    "Vacation 🌴",
    "Conference: RustConf",
    "Team offsite",
    "Parental leave",
    "Trip to Tokyo",
];

const ZONES: &[&str] = &[
    "UTC",
    "Pacific Standard Time",
    "Eastern Standard Time",
    "W. Europe Standard Time",
    "GMT Standard Time",
    "Tokyo Standard Time",
    "India Standard Time",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
];

/// The location of an online meeting.
const TEAMS: &str = "Microsoft Teams Meeting";

/// Locations of meetings in person.
const ROOMS: &[&str] = &[
    "Conf Room Adams",
    "Building 4 / 2.101",
    "Café Central, Wien",
    "東京オフィス 5F",
    "Home",
    "",
];

/// What the generator makes at a time: one event, or a recurring series.
enum Batch {
    Single(Value),
    Series {
        master: Value,
        instances: Vec<Value>,
    },
}

/// Fills a calendar with `count` events around `anchor` (30 days back, 150 ahead). A series
/// counts as its instances (its master, which no calendar view lists, does not count).
pub fn fill(mailbox: &mut Mailbox, calendar: &str, count: usize, seed: u64, anchor: NaiveDate) {
    let mut g = Generator::new(seed, anchor);
    let mut made = 0;
    while made < count {
        match g.next_batch(count - made) {
            Batch::Single(event) => {
                mailbox
                    .create(calendar, event)
                    .expect("generated events are valid");
                made += 1;
            }
            Batch::Series { master, instances } => {
                made += instances.len();
                mailbox
                    .create_series(calendar, master, instances)
                    .expect("generated series are valid");
            }
        }
    }
}

/// Applies `count` random realistic changes to the calendars: adds (of series too), edits, moves
/// (some out of and into sync windows), cancellations and deletions. A change aimed at a series
/// master changes the whole series (rename, move, cancel, delete); one aimed at an instance
/// changes that occurrence alone.
/// With `series_only`, every change is aimed at a recurring series or one of its instances.
pub fn churn(
    mailbox: &mut Mailbox,
    count: usize,
    seed: u64,
    anchor: NaiveDate,
    series_only: bool,
    only: Option<&str>,
) -> usize {
    let mut g = Generator::new(seed ^ 0x5eed_c4a2, anchor);
    let mut applied = 0;
    for _ in 0..count {
        let picked = mailbox.calendars[g.rng.random_range(0..mailbox.calendars.len())]
            .id
            .clone();
        let calendar = only.map_or(picked, str::to_owned);
        let mut ids: Vec<&String> = mailbox
            .calendars
            .iter()
            .find(|c| c.id == calendar)
            .map(|c| {
                c.events
                    .values()
                    .filter(|e| !series_only || e.series().is_some())
                    .map(|e| &e.id)
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        let target = ids.choose(&mut g.rng).map(|s| (*s).clone());
        let roll = if series_only && target.is_some() {
            g.rng.random_range(30..100)
        } else {
            g.rng.random_range(0..100)
        };
        let ok = match (roll, target) {
            (0..5, _) => match g.series(8) {
                Batch::Series { master, instances } => {
                    mailbox.create_series(&calendar, master, instances).is_ok()
                }
                Batch::Single(event) => mailbox.create(&calendar, event).is_ok(),
            },
            (5..30, _) | (_, None) => {
                let event = g.single_meeting();
                mailbox.create(&calendar, event).is_ok()
            }
            (30..55, Some(id)) => {
                let subject = format!(
                    "{} (updated)",
                    MEETINGS.choose(&mut g.rng).expect("non-empty")
                );
                let location = ROOMS.choose(&mut g.rng).expect("non-empty");
                mailbox
                    .update(
                        &id,
                        json!({"subject": subject, "location": {"displayName": location}}),
                    )
                    .is_ok()
            }
            (55..75, Some(id)) => {
                let event = &mailbox.calendar(&calendar).expect("exists").events[&id];
                // Mostly small moves; some far enough to leave (or re-enter) a window.
                let shift = match g.rng.random_range(0..10) {
                    0 => Duration::days(g.rng.random_range(200..500)),
                    1 => -Duration::days(g.rng.random_range(60..200)),
                    _ => Duration::hours(g.rng.random_range(-72..72)),
                };
                let all_day = event.all_day;
                let (start, end) = (event.start + shift, event.end + shift);
                mailbox
                    .update(
                        &id,
                        json!({"start": render_time(start, all_day, chrono_tz::Tz::UTC),
                                        "end": render_time(end, all_day, chrono_tz::Tz::UTC)}),
                    )
                    .is_ok()
            }
            (75..85, Some(id)) => {
                let subject =
                    mailbox.calendar(&calendar).expect("exists").events[&id].json()["subject"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned();
                mailbox
                    .update(
                        &id,
                        json!({"isCancelled": true, "subject": format!("Canceled: {subject}")}),
                    )
                    .is_ok()
            }
            (_, Some(id)) => mailbox.delete(&id).is_ok(),
        };
        applied += usize::from(ok);
    }
    applied
}

struct Generator {
    rng: StdRng,
    anchor: NaiveDate,
    series: u64,
}

impl Generator {
    fn new(seed: u64, anchor: NaiveDate) -> Generator {
        Generator {
            rng: StdRng::seed_from_u64(seed),
            anchor,
            series: 0,
        }
    }

    /// One event, or a recurring series of a few to a dozen.
    fn next_batch(&mut self, room: usize) -> Batch {
        match self.rng.random_range(0..100) {
            0..55 => Batch::Single(self.single_meeting()),
            55..65 => Batch::Single(self.all_day(1, ALL_DAY)),
            65..70 => {
                let days = self.rng.random_range(2..10);
                Batch::Single(self.all_day(days, MULTI_DAY))
            }
            70..73 => Batch::Single(self.multi_day_timed()),
            _ => self.series(room),
        }
    }

    fn day(&mut self) -> NaiveDate {
        self.anchor + Duration::days(self.rng.random_range(-30..150))
    }

    fn workday(&mut self) -> NaiveDate {
        let mut d = self.day();
        while matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            d += Duration::days(1);
        }
        d
    }

    fn single_meeting(&mut self) -> Value {
        let day = self.workday();
        let hour = self.rng.random_range(8..18);
        let minute = *[0, 0, 0, 30, 15, 45]
            .choose(&mut self.rng)
            .expect("non-empty");
        let start = day.and_hms_opt(hour, minute, 0).expect("valid time");
        let minutes = *[15, 30, 30, 45, 60, 60, 60, 90, 120]
            .choose(&mut self.rng)
            .expect("non-empty");
        let subject = MEETINGS
            .choose(&mut self.rng)
            .expect("non-empty")
            .to_string();
        let zone = ZONES.choose(&mut self.rng).expect("non-empty");
        let mut e = self.base(
            &subject,
            zone,
            start,
            start + Duration::minutes(minutes),
            false,
        );
        if self.rng.random_bool(0.03) {
            e["isCancelled"] = json!(true);
            e["subject"] = json!(format!("Canceled: {subject}"));
        }
        e
    }

    fn all_day(&mut self, days: i64, subjects: &[&str]) -> Value {
        let day = self.day();
        let subject = subjects
            .choose(&mut self.rng)
            .expect("non-empty")
            .to_string();
        let start = day.and_hms_opt(0, 0, 0).expect("midnight");
        let mut e = self.base(&subject, "UTC", start, start + Duration::days(days), true);
        e["showAs"] = json!(if subject.contains("Vacation") || subject.contains("Out") {
            "oof"
        } else {
            "free"
        });
        e
    }

    fn multi_day_timed(&mut self) -> Value {
        let day = self.day();
        let start = day
            .and_hms_opt(self.rng.random_range(6..22), 0, 0)
            .expect("valid");
        let hours = self.rng.random_range(14..60);
        let subject = ["Flight LH 716 FRA → HND", "Hackathon", "On call"]
            .choose(&mut self.rng)
            .expect("non-empty")
            .to_string();
        self.base(
            &subject,
            "UTC",
            start,
            start + Duration::hours(hours),
            false,
        )
    }

    /// A weekly series: a master and its instances, which share its properties, with an
    /// exception (moved an hour) or a cancelled one now and then.
    fn series(&mut self, room: usize) -> Batch {
        self.series += 1;
        let count = self.rng.random_range(4..13).min(room.max(1));
        let first = self.workday() - Duration::days(21);
        let hour = self.rng.random_range(9..17);
        let subject = [
            "Daily standup",
            "Weekly team meeting",
            "Office hours",
            "Sync with design",
            "Gym 🏋️",
        ]
        .choose(&mut self.rng)
        .expect("non-empty")
        .to_string();
        let zone = ZONES.choose(&mut self.rng).expect("non-empty");
        let minutes = if subject.contains("standup") { 15 } else { 60 };
        let start = first.and_hms_opt(hour, 0, 0).expect("valid");
        // Some series are all-day (a weekly day at home): their stubs say nothing of being
        // all-day, as the real service's do not, until their master is known.
        let all_day = self.rng.random_bool(0.1);
        let (subject, zone, start, minutes) = if all_day {
            let midnight = first.and_hms_opt(0, 0, 0).expect("midnight");
            let subject = ALL_DAY_SERIES.choose(&mut self.rng).expect("non-empty");
            (subject.to_string(), "UTC", midnight, 24 * 60)
        } else {
            (subject, *zone, start, minutes)
        };
        let master = self.base(
            &subject,
            zone,
            start,
            start + Duration::minutes(minutes),
            all_day,
        );
        let instances = (0..count)
            .map(|i| {
                let mut start = start + Duration::weeks(i as i64);
                let slot = start;
                let exception = self.rng.random_bool(0.1);
                if exception {
                    // Moved: by an hour, or an all-day one to the next day.
                    start += if all_day {
                        Duration::days(1)
                    } else {
                        Duration::hours(1)
                    };
                }
                let mut e = master.clone();
                e["start"] = self.time(start, zone);
                e["end"] = self.time(start + Duration::minutes(minutes), zone);
                e["type"] = json!(if exception { "exception" } else { "occurrence" });
                // Where the pattern put it, in UTC, as Graph's `originalStart` says.
                let slot = time::instant(slot, time::zone(zone).unwrap_or(chrono_tz::UTC));
                e["originalStart"] = json!(slot.to_rfc3339_opts(SecondsFormat::Secs, true));
                if self.rng.random_bool(0.08) {
                    e["type"] = json!("exception");
                    e["isCancelled"] = json!(true);
                    e["subject"] = json!(format!("Canceled: {subject}"));
                }
                e
            })
            .collect();
        Batch::Series { master, instances }
    }

    fn time(&self, t: NaiveDateTime, zone: &str) -> Value {
        json!({"dateTime": t.format("%Y-%m-%dT%H:%M:%S.0000000").to_string(), "timeZone": zone})
    }

    /// A person who can organise a meeting: anyone but a room.
    fn person(&mut self) -> (&'static str, &'static str) {
        loop {
            let person = *PEOPLE.choose(&mut self.rng).expect("non-empty");
            if !is_room(person.1) {
                return person;
            }
        }
    }

    /// The full Graph event shape, times in `zone` (Windows or IANA name).
    fn base(
        &mut self,
        subject: &str,
        zone: &str,
        start: NaiveDateTime,
        end: NaiveDateTime,
        all_day: bool,
    ) -> Value {
        let (org_name, org_mail) = self.person();
        let attendee_count = if all_day {
            0
        } else {
            self.rng.random_range(0..7)
        };
        // Distinct people, the organizer not among them.
        let invited: Vec<(&str, &str)> = PEOPLE
            .iter()
            .filter(|(_, mail)| *mail != org_mail)
            .copied()
            .collect::<Vec<_>>()
            .sample(&mut self.rng, attendee_count)
            .copied()
            .collect();
        let mut attendees: Vec<Value> = invited
            .into_iter()
            .map(|(name, mail)| {
                let response = *["accepted", "tentativelyAccepted", "declined", "none", "notResponded"]
                    .choose(&mut self.rng)
                    .expect("non-empty");
                json!({"type": if is_room(mail) { "resource" } else if self.rng.random_bool(0.2) { "optional" } else { "required" },
                       "status": {"response": response, "time": "0001-01-01T00:00:00Z"},
                       "emailAddress": {"name": name, "address": mail}})
            })
            .collect();
        let online = !all_day && self.rng.random_bool(0.5);
        // A Teams location is an online meeting with a join link, never anything else.
        let room = if online {
            TEAMS
        } else {
            ROOMS.choose(&mut self.rng).expect("non-empty")
        };
        let me = "samanthab@contoso.com";
        let my_response = if org_mail == me {
            "organizer"
        } else {
            *[
                "accepted",
                "accepted",
                "tentativelyAccepted",
                "declined",
                "notResponded",
                "none",
            ]
            .choose(&mut self.rng)
            .expect("non-empty")
        };
        // The user's own line in the attendee list says what their responseStatus says, as
        // Outlook keeps the two (drawn after the others, so the generated calendars stay the same).
        for a in &mut attendees {
            if a["emailAddress"]["address"] == me {
                a["status"]["response"] = json!(my_response);
            }
        }
        let body_text = format!(
            "Agenda: {subject}. Please review the notes beforehand and bring questions. Dial-in details below."
        );
        let uid = format!(
            "040000008200E00074C5B7101A82E00800000000{:016X}",
            self.rng.random::<u64>()
        );
        let category = *[
            None,
            Some("Red category"),
            Some("Blue category"),
            Some("Green category"),
        ]
        .choose(&mut self.rng)
        .expect("non-empty");
        let zone_json = if all_day { "UTC" } else { zone };
        let time = |t: NaiveDateTime| json!({"dateTime": t.format("%Y-%m-%dT%H:%M:%S.0000000").to_string(), "timeZone": zone_json});
        json!({
            "@odata.type": "#microsoft.graph.event",
            "categories": category.map(|c| vec![c]).unwrap_or_default(),
            "originalStartTimeZone": zone,
            "originalEndTimeZone": zone,
            "iCalUId": uid,
            "reminderMinutesBeforeStart": 15,
            "isReminderOn": !all_day,
            "hasAttachments": false,
            "subject": subject,
            "bodyPreview": body_text,
            "importance": if self.rng.random_bool(0.1) { "high" } else { "normal" },
            "sensitivity": if self.rng.random_bool(0.05) { "private" } else { "normal" },
            "isAllDay": all_day,
            "isCancelled": false,
            "isOrganizer": org_mail == "samanthab@contoso.com",
            "responseRequested": true,
            "seriesMasterId": null,
            "showAs": *["busy", "busy", "busy", "tentative", "free", "workingElsewhere"].choose(&mut self.rng).expect("non-empty"),
            "type": "singleInstance",
            "webLink": format!("https://outlook.office365.com/owa/?itemid={uid}&exvsurl=1&path=/calendar/item"),
            "onlineMeetingUrl": null,
            "isOnlineMeeting": online,
            "onlineMeetingProvider": if online { "teamsForBusiness" } else { "unknown" },
            "allowNewTimeProposals": true,
            "isDraft": false,
            "hideAttendees": false,
            "responseStatus": {"response": my_response, "time": "0001-01-01T00:00:00Z"},
            "body": {"contentType": "html", "content": format!("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head><body><p>{body_text}</p></body></html>")},
            "start": time(start),
            "end": time(end),
            "location": {"displayName": room, "locationType": "default", "uniqueIdType": "unknown"},
            "locations": if room.is_empty() { json!([]) } else { json!([{"displayName": room, "locationType": "default"}]) },
            "recurrence": null,
            "attendees": attendees,
            "organizer": {"emailAddress": {"name": org_name, "address": org_mail}},
            "onlineMeeting": if online { json!({"joinUrl": format!("https://teams.microsoft.com/l/meetup-join/19%3ameeting_{:X}%40thread.v2/0", self.rng.random::<u32>())}) } else { Value::Null },
        })
    }
}

/// Rooms are attendees (resources), never organisers.
fn is_room(address: &str) -> bool {
    address.starts_with("adams@")
}

/// Today's date, the anchor generated calendars are placed around.
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_calendar() {
        let anchor: NaiveDate = "2026-11-24".parse().unwrap();
        let render = |seed| {
            let mut m = Mailbox::new(1);
            fill(&mut m, "default", 300, seed, anchor);
            let mut v: Vec<String> = m.calendars[0]
                .events
                .values()
                .filter(|e| e.json()["type"] != "seriesMaster")
                .map(|e| {
                    let mut j = e.json();
                    for k in ["lastModifiedDateTime", "createdDateTime"] {
                        j[k] = Value::Null;
                    }
                    j.to_string()
                })
                .collect();
            v.sort();
            v
        };
        assert_eq!(render(3), render(3));
        assert_ne!(render(3), render(4));
        assert_eq!(render(3).len(), 300);
    }

    #[test]
    fn calendars_are_realistic() {
        let mut m = Mailbox::new(1);
        fill(&mut m, "default", 2000, 9, "2026-11-24".parse().unwrap());
        let events: Vec<Value> = m.calendars[0].events.values().map(|e| e.json()).collect();
        let count = |f: &dyn Fn(&Value) -> bool| events.iter().filter(|e| f(e)).count();
        assert!(count(&|e| e["isAllDay"] == true) > 50);
        assert!(count(&|e| e["type"] == "occurrence") > 100);
        assert!(count(&|e| e["type"] == "exception") > 5);
        assert!(count(&|e| e["isCancelled"] == true) > 5);
        assert!(count(&|e| !e["subject"].as_str().unwrap().is_ascii()) > 50);
        assert!(count(&|e| e["originalStartTimeZone"] == "Pacific Standard Time") > 20);
        assert!(count(&|e| e["type"] == "seriesMaster") > 20);
        // Rooms never organise; a Teams location is an online meeting with a join link.
        assert_eq!(
            count(&|e| e["organizer"]["emailAddress"]["address"] == "adams@contoso.com"),
            0
        );
        assert!(
            events
                .iter()
                .all(|e| (e["location"]["displayName"] == TEAMS)
                    == (e["isOnlineMeeting"] == true && e["onlineMeeting"]["joinUrl"].is_string()))
        );
        assert!(count(&|e| e["responseStatus"]["response"] == "declined") > 10);
        // The user's own attendee line agrees with their responseStatus.
        let mine = |e: &Value| {
            e["attendees"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|a| a["emailAddress"]["address"] == "samanthab@contoso.com")
                .map(|a| a["status"]["response"].clone())
        };
        assert!(count(&|e| mine(e).is_some()) > 20);
        assert!(
            events
                .iter()
                .filter_map(|e| mine(e).map(|r| (r, &e["responseStatus"]["response"])))
                .all(|(r, own)| r == *own)
        );
        // Instances carry their series' subject (or a cancelled form of it).
        for e in events.iter().filter(|e| e["type"] == "occurrence") {
            let master = m.event(e["seriesMasterId"].as_str().unwrap()).unwrap();
            assert_eq!(e["subject"], master.json()["subject"]);
        }
    }
}
