//! Free/busy and finding a time, apart from the I/O: what getSchedule requests a range of
//! people and days takes (at most 20 people and 62 days each), what its answers say (busy
//! times and working hours per address, or that it could not answer for one), and the slots
//! in which everyone is free within their working hours.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use serde_json::{Value, json};

/// The most addresses one getSchedule request takes.
pub const MAX_PEOPLE: usize = 20;
/// The longest range one getSchedule request covers, in days.
pub const MAX_DAYS: i64 = 62;

/// When someone works, in their zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours {
    /// The days they work.
    pub days: Vec<Weekday>,
    /// When their day starts.
    pub start: NaiveTime,
    /// When it ends.
    pub end: NaiveTime,
    /// Their zone.
    pub zone: Tz,
}

/// One address's schedule as getSchedule answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// The address asked about.
    pub address: String,
    /// When they are not free (tentative, busy, away), in order.
    pub busy: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Their working hours; None when the answer gave none (all hours count).
    pub working: Option<WorkingHours>,
}

/// What getSchedule said of one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Their schedule.
    Known(Schedule),
    /// It could not answer for the address (unknown, say): the address and why.
    Unknown(String, String),
}

/// The request bodies that cover `addresses` over `from..to`: at most [`MAX_PEOPLE`]
/// addresses and [`MAX_DAYS`] days each, times in UTC.
pub fn requests(addresses: &[String], from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Value> {
    let mut bodies = Vec::new();
    let mut start = from;
    while start < to {
        let end = (start + Duration::days(MAX_DAYS)).min(to);
        for people in addresses.chunks(MAX_PEOPLE) {
            let at = |t: DateTime<Utc>| json!({"dateTime": t.format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC"});
            bodies.push(json!({"schedules": people, "startTime": at(start),
                "endTime": at(end), "availabilityViewInterval": 30}));
        }
        start = end;
    }
    bodies
}

/// A `{dateTime, timeZone}` of an answer as an instant.
fn instant(value: &Value) -> Option<DateTime<Utc>> {
    let zone = crate::tz::resolve(value["timeZone"].as_str().unwrap_or("UTC"))?;
    let text = value["dateTime"].as_str()?;
    let local = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    Some(crate::tz::local_to_utc(local, zone))
}

fn working_hours(value: &Value) -> Option<WorkingHours> {
    let time = |key: &str| {
        let text = value[key].as_str()?;
        NaiveTime::parse_from_str(text, "%H:%M:%S%.f").ok()
    };
    let days: Vec<Weekday> = value["daysOfWeek"]
        .as_array()?
        .iter()
        .filter_map(|d| d.as_str()?.parse().ok())
        .collect();
    Some(WorkingHours {
        days,
        start: time("startTime")?,
        end: time("endTime")?,
        zone: crate::tz::resolve(value["timeZone"]["name"].as_str().unwrap_or("UTC"))?,
    })
}

/// Reads one getSchedule answer: per address, the schedule or why there is none. Free and
/// working-elsewhere items do not count as busy.
pub fn parse(answer: &Value) -> Result<Vec<Answer>, String> {
    let list = answer["value"]
        .as_array()
        .ok_or("the getSchedule answer has no `value` list")?;
    Ok(list
        .iter()
        .map(|item| {
            let address = crate::text::line(item["scheduleId"].as_str().unwrap_or("")).into_owned();
            if item["error"].is_object() {
                let why = item["error"]["message"].as_str().unwrap_or("no schedule");
                return Answer::Unknown(address, crate::text::bounded(why, 200));
            }
            let mut busy: Vec<_> = item["scheduleItems"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter(|i| !matches!(i["status"].as_str(), Some("free" | "workingElsewhere")))
                .filter_map(|i| Some((instant(&i["start"])?, instant(&i["end"])?)))
                .filter(|(s, e)| s < e)
                .collect();
            busy.sort();
            Answer::Known(Schedule {
                address,
                busy,
                working: working_hours(&item["workingHours"]),
            })
        })
        .collect())
}

/// Every answer of the requests of one question, by address: a range split in two answers
/// each person twice, and their busy times add up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gathered {
    /// The schedules, in the order the addresses were first answered.
    pub schedules: Vec<Schedule>,
    /// The addresses getSchedule could not answer for, and why.
    pub unknown: Vec<(String, String)>,
}

impl Gathered {
    /// When any of them is busy, in order (what the views draw beside the user's events).
    pub fn busy(&self) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let mut busy: Vec<_> = self
            .schedules
            .iter()
            .flat_map(|s| s.busy.iter().copied())
            .collect();
        busy.sort();
        busy
    }

    /// The addresses it could not answer for.
    pub fn unknown_addresses(&self) -> Vec<String> {
        self.unknown.iter().map(|(u, _)| u.clone()).collect()
    }
}

/// Checks one address asked about: `name@domain`, nothing that would disturb a terminal.
pub fn check_address(address: &str) -> Result<(), String> {
    let fine = address.contains('@')
        && !address.starts_with('@')
        && !address.ends_with('@')
        && !address.chars().any(char::is_control);
    if fine {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not an address (name@domain)",
            crate::text::line(address)
        ))
    }
}

/// Gathers the answers of several requests.
pub fn gather(answers: impl IntoIterator<Item = Answer>) -> Gathered {
    let mut out = Gathered::default();
    for answer in answers {
        match answer {
            Answer::Known(s) => match out
                .schedules
                .iter_mut()
                .find(|k| k.address.eq_ignore_ascii_case(&s.address))
            {
                Some(known) => {
                    known.busy.extend(s.busy);
                    known.busy.sort();
                    known.working = known.working.take().or(s.working);
                }
                None => out.schedules.push(s),
            },
            Answer::Unknown(address, why) => {
                if !out
                    .unknown
                    .iter()
                    .any(|(u, _)| u.eq_ignore_ascii_case(&address))
                {
                    out.unknown.push((address, why));
                }
            }
        }
    }
    out
}

/// The intervals of `from..to` inside someone's working hours.
fn working_intervals(
    working: Option<&WorkingHours>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let Some(w) = working else {
        return vec![(from, to)];
    };
    let first: NaiveDate = from.with_timezone(&w.zone).date_naive() - Duration::days(1);
    let last: NaiveDate = to.with_timezone(&w.zone).date_naive() + Duration::days(1);
    let mut out = Vec::new();
    let mut day = first;
    while day <= last {
        if w.days.contains(&day.weekday()) {
            let start = crate::tz::local_to_utc(day.and_time(w.start), w.zone);
            // A day that ends at or before it starts runs past midnight.
            let end_day = if w.end <= w.start {
                day + Duration::days(1)
            } else {
                day
            };
            let end = crate::tz::local_to_utc(end_day.and_time(w.end), w.zone);
            let (start, end) = (start.max(from), end.min(to));
            if start < end {
                out.push((start, end));
            }
        }
        day += Duration::days(1);
    }
    out
}

/// `a` less the sorted `busy` intervals.
fn minus(
    a: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    busy: &[(DateTime<Utc>, DateTime<Utc>)],
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut out = Vec::new();
    for (mut start, end) in a {
        for &(b_start, b_end) in busy {
            if b_end <= start || b_start >= end {
                continue;
            }
            if b_start > start {
                out.push((start, b_start));
            }
            start = start.max(b_end);
            if start >= end {
                break;
            }
        }
        if start < end {
            out.push((start, end));
        }
    }
    out
}

/// Where two sorted interval lists overlap.
fn intersect(
    a: &[(DateTime<Utc>, DateTime<Utc>)],
    b: &[(DateTime<Utc>, DateTime<Utc>)],
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        let start = a[i].0.max(b[j].0);
        let end = a[i].1.min(b[j].1);
        if start < end {
            out.push((start, end));
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// The slots of `from..to` in which everyone of `schedules` is free within their working
/// hours, each as long as it is free and at least `duration`, soonest first.
pub fn common_free(
    schedules: &[Schedule],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    duration: Duration,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut free = vec![(from, to)];
    for s in schedules {
        let theirs = minus(working_intervals(s.working.as_ref(), from, to), &s.busy);
        free = intersect(&free, &theirs);
    }
    // Adjacent pieces (two working days that meet at midnight) make one slot.
    let mut merged: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for (start, end) in free {
        match merged.last_mut() {
            Some(last) if last.1 == start => last.1 = end,
            _ => merged.push((start, end)),
        }
    }
    merged.retain(|(s, e)| *e - *s >= duration);
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn nine_to_five(zone: Tz) -> Option<WorkingHours> {
        Some(WorkingHours {
            days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            start: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
            zone,
        })
    }

    #[test]
    fn everyone_free_within_their_working_hours() {
        // Monday 7 December 2026; one in UTC, one in Berlin (UTC+1).
        let a = Schedule {
            address: "a@x".into(),
            busy: vec![(t("2026-12-07T10:00:00Z"), t("2026-12-07T11:00:00Z"))],
            working: nine_to_five(Tz::UTC),
        };
        let b = Schedule {
            address: "b@x".into(),
            busy: vec![(t("2026-12-07T13:00:00Z"), t("2026-12-07T13:20:00Z"))],
            working: nine_to_five(chrono_tz::Europe::Berlin),
        };
        let from = t("2026-12-07T00:00:00Z");
        let to = t("2026-12-08T00:00:00Z");
        let slots = common_free(&[a, b], from, to, Duration::minutes(30));
        assert_eq!(
            slots,
            vec![
                (t("2026-12-07T09:00:00Z"), t("2026-12-07T10:00:00Z")),
                (t("2026-12-07T11:00:00Z"), t("2026-12-07T13:00:00Z")),
                (t("2026-12-07T13:20:00Z"), t("2026-12-07T16:00:00Z")),
            ]
        );
        // A longer meeting fits only the longest.
        let slots = common_free(
            &[Schedule {
                address: "c".into(),
                busy: vec![],
                working: nine_to_five(Tz::UTC),
            }],
            t("2026-12-12T00:00:00Z"),
            t("2026-12-14T00:00:00Z"),
            Duration::minutes(30),
        );
        assert!(slots.is_empty(), "a weekend: {slots:?}");
    }

    #[test]
    fn requests_keep_to_twenty_people_and_sixty_two_days() {
        let people: Vec<String> = (0..45).map(|i| format!("p{i}@x")).collect();
        let bodies = requests(
            &people,
            t("2026-01-01T00:00:00Z"),
            t("2026-04-15T00:00:00Z"),
        );
        // 104 days: two ranges; 45 people: three groups.
        assert_eq!(bodies.len(), 6);
        assert!(
            bodies
                .iter()
                .all(|b| b["schedules"].as_array().unwrap().len() <= MAX_PEOPLE)
        );
        assert_eq!(bodies[0]["endTime"]["dateTime"], "2026-03-04T00:00:00");
        assert_eq!(bodies[3]["startTime"]["dateTime"], "2026-03-04T00:00:00");
    }

    #[test]
    fn answers_read_busy_times_working_hours_and_unknown_addresses() {
        let answer = json!({"value": [
            {"scheduleId": "a@x", "availabilityView": "0220",
             "scheduleItems": [
                {"status": "busy", "start": {"dateTime": "2026-12-07T10:00:00.0000000", "timeZone": "UTC"},
                 "end": {"dateTime": "2026-12-07T11:00:00.0000000", "timeZone": "UTC"}},
                {"status": "free", "start": {"dateTime": "2026-12-07T12:00:00.0000000", "timeZone": "UTC"},
                 "end": {"dateTime": "2026-12-07T13:00:00.0000000", "timeZone": "UTC"}}],
             "workingHours": {"daysOfWeek": ["monday", "friday"], "startTime": "08:00:00.0000000",
                "endTime": "17:00:00.0000000", "timeZone": {"name": "Pacific Standard Time"}}},
            {"scheduleId": "nobody@x", "error": {"message": "The requested user 'nobody@x' is invalid.", "responseCode": "5016"}}
        ]});
        let answers = parse(&answer).unwrap();
        let Answer::Known(a) = &answers[0] else {
            panic!("{answers:?}")
        };
        assert_eq!(a.busy.len(), 1);
        let w = a.working.as_ref().unwrap();
        assert_eq!(w.days, vec![Weekday::Mon, Weekday::Fri]);
        assert_eq!(w.zone, chrono_tz::America::Los_Angeles);
        assert!(
            matches!(&answers[1], Answer::Unknown(addr, why) if addr == "nobody@x" && why.contains("invalid"))
        );
    }
}
