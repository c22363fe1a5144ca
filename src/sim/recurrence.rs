//! The emulator's expansion of a `recurrence` a client posts (Graph's patternedRecurrence):
//! the wall-clock starts of its occurrences. Its own code, independent of the client's export,
//! so that each checks the other. Patterns: daily, weekly (days of the week, interval),
//! absoluteMonthly (day of month, interval); ranges: numbered, endDate, noEnd.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Weekday};
use serde_json::Value;

/// The most occurrences a posted series gets here (Outlook caps numbered series at 999).
pub const MAX_OCCURRENCES: usize = 999;
/// How far a series without an end is expanded: beyond any window a client syncs.
const NO_END_DAYS: i64 = 5 * 366;

/// The wall-clock starts of `recurrence`'s occurrences, the first of which is `first` (the
/// event's start, whose date must be the range's `startDate`). An error is the message of a 400.
pub fn expand(recurrence: &Value, first: NaiveDateTime) -> Result<Vec<NaiveDateTime>, String> {
    let pattern = &recurrence["pattern"];
    let range = &recurrence["range"];
    let interval = pattern["interval"].as_u64().unwrap_or(1).max(1) as i64;
    let start_date = range["startDate"]
        .as_str()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or("recurrence.range.startDate is missing or not a date")?;
    if start_date != first.date() {
        return Err("recurrence.range.startDate must be the date of the event's start".into());
    }
    let (count, last) = match range["type"].as_str() {
        Some("numbered") => {
            let n = range["numberOfOccurrences"]
                .as_u64()
                .filter(|n| *n >= 1)
                .ok_or("recurrence.range.numberOfOccurrences must be at least 1")?;
            (
                (n as usize).min(MAX_OCCURRENCES),
                start_date + Duration::days(NO_END_DAYS),
            )
        }
        Some("endDate") => {
            let end = range["endDate"]
                .as_str()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .ok_or("recurrence.range.endDate is not a date")?;
            if end < start_date {
                return Err("recurrence.range.endDate is before its startDate".into());
            }
            (MAX_OCCURRENCES, end)
        }
        Some("noEnd") => (MAX_OCCURRENCES, start_date + Duration::days(NO_END_DAYS)),
        other => return Err(format!("recurrence.range.type {other:?} is not supported")),
    };
    let time = first.time();
    let days: Box<dyn Fn(NaiveDate) -> bool> = match pattern["type"].as_str() {
        Some("daily") => Box::new(move |d: NaiveDate| (d - start_date).num_days() % interval == 0),
        Some("weekly") => {
            let wanted: Vec<Weekday> = pattern["daysOfWeek"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|d| d.as_str()?.parse::<Weekday>().ok())
                        .collect()
                })
                .unwrap_or_default();
            if wanted.is_empty() {
                return Err("recurrence.pattern.daysOfWeek is empty".into());
            }
            // Weeks counted from the week of the start (Sunday-first, Graph's default).
            let week_of = |d: NaiveDate| {
                (d - Duration::days(d.weekday().num_days_from_sunday().into())).num_days_from_ce()
                    / 7
            };
            let first_week = week_of(start_date);
            Box::new(move |d: NaiveDate| {
                wanted.contains(&d.weekday()) && i64::from(week_of(d) - first_week) % interval == 0
            })
        }
        Some("absoluteMonthly") => {
            let day = pattern["dayOfMonth"]
                .as_u64()
                .filter(|d| (1..=31).contains(d))
                .ok_or("recurrence.pattern.dayOfMonth must be 1 to 31")?
                as u32;
            Box::new(move |d: NaiveDate| {
                let months = (d.year() - start_date.year()) * 12 + d.month() as i32
                    - start_date.month() as i32;
                d.day() == day && i64::from(months) % interval == 0
            })
        }
        other => {
            return Err(format!(
                "recurrence.pattern.type {other:?} is not supported"
            ));
        }
    };
    let mut starts = Vec::new();
    let mut d = start_date;
    while d <= last && starts.len() < count {
        if days(d) {
            starts.push(d.and_time(time));
        }
        d += Duration::days(1);
    }
    if starts.first().map(NaiveDateTime::date) != Some(start_date) {
        return Err("the event's start is not an occurrence of its recurrence".into());
    }
    Ok(starts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").unwrap()
    }

    #[test]
    fn the_patterns_and_ranges_expand_as_outlook_does() {
        let weekdays = json!({"pattern": {"type": "weekly", "interval": 1,
            "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"]},
            "range": {"type": "numbered", "startDate": "2026-12-04", "numberOfOccurrences": 3}});
        let got = expand(&weekdays, at("2026-12-04T09:00")).unwrap();
        assert_eq!(
            got,
            [
                at("2026-12-04T09:00"),
                at("2026-12-07T09:00"),
                at("2026-12-08T09:00")
            ]
        );
        let monthly = json!({"pattern": {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 31},
            "range": {"type": "endDate", "startDate": "2027-01-31", "endDate": "2027-05-31"}});
        let got = expand(&monthly, at("2027-01-31T10:00")).unwrap();
        assert_eq!(
            got,
            [
                at("2027-01-31T10:00"),
                at("2027-03-31T10:00"),
                at("2027-05-31T10:00")
            ]
        );
        let daily = json!({"pattern": {"type": "daily", "interval": 2},
            "range": {"type": "noEnd", "startDate": "2026-12-04"}});
        let got = expand(&daily, at("2026-12-04T10:00")).unwrap();
        assert_eq!(got[1], at("2026-12-06T10:00"));
        assert!(got.len() <= MAX_OCCURRENCES);
        let wrong_day = json!({"pattern": {"type": "weekly", "daysOfWeek": ["monday"]},
            "range": {"type": "numbered", "startDate": "2026-12-04", "numberOfOccurrences": 2}});
        assert!(expand(&wrong_day, at("2026-12-04T10:00")).is_err());
    }
}
