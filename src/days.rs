//! Calendar days in the display zone: which days an event occupies, where a day starts.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use crate::model::Event;
use crate::tz::DisplayZone;

/// The first and last day (inclusive) an event occupies in the display zone. All-day events keep
/// their own dates whatever the zone; a timed event ending exactly at midnight does not spill
/// into the next day.
pub fn event_days(event: &Event, zone: &DisplayZone) -> Option<(NaiveDate, NaiveDate)> {
    if let Some(dates) = event.all_day_dates() {
        return Some(dates);
    }
    Some(span_days(event.span()?, zone))
}

/// [`event_days`] of a timed event from its span alone.
pub fn span_days(
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    zone: &DisplayZone,
) -> (NaiveDate, NaiveDate) {
    days_by(start, end, |t| zone.date_of(t))
}

/// The first and last day of `[start, end)`, each instant's day told by `date_of`.
fn days_by(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    date_of: impl Fn(DateTime<Utc>) -> NaiveDate,
) -> (NaiveDate, NaiveDate) {
    let first = date_of(start);
    let last = if end > start {
        date_of(end - Duration::milliseconds(1))
    } else {
        first
    };
    (first, last.max(first))
}

/// The days of `[first, last]` in a zone, for telling the days of many spans: one zone
/// conversion a day instead of two a span (the month asks for tens of thousands).
pub struct DayTable {
    first: NaiveDate,
    /// The instants the days `first ..= last + 1` start, in order.
    midnights: Vec<DateTime<Utc>>,
}

impl DayTable {
    /// The days `first..=last` in `zone`.
    pub fn new(zone: &DisplayZone, first: NaiveDate, last: NaiveDate) -> DayTable {
        let midnights = first
            .iter_days()
            .take_while(|d| *d <= last.succ_opt().unwrap_or(last))
            .map(|d| zone.midnight(d))
            .collect();
        DayTable { first, midnights }
    }

    /// The day of `t`: a day before `first` reads as the day before it, one after `last` as
    /// the day after it.
    fn date_of(&self, t: DateTime<Utc>) -> NaiveDate {
        let after = self.midnights.partition_point(|m| *m <= t);
        match after.checked_sub(1) {
            None => self.first.pred_opt().unwrap_or(self.first),
            Some(i) => self.first + Duration::days(i as i64),
        }
    }

    /// [`span_days`], each day outside `[first, last]` read as the one next to it.
    pub fn span_days(
        &self,
        (start, end): (DateTime<Utc>, DateTime<Utc>),
    ) -> (NaiveDate, NaiveDate) {
        days_by(start, end, |t| self.date_of(t))
    }
}

/// True when the event occupies any day of `[first, last]`.
pub fn occupies(event: &Event, zone: &DisplayZone, first: NaiveDate, last: NaiveDate) -> bool {
    event_days(event, zone).is_some_and(|(a, b)| a <= last && b >= first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(v: serde_json::Value) -> Event {
        Event::from_graph(&v).unwrap()
    }

    #[test]
    fn timed_events_use_display_zone_days() {
        let e = event(json!({"id": "a",
            "start": {"dateTime": "2026-11-24T23:30:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-11-25T00:00:00", "timeZone": "UTC"}}));
        let utc = DisplayZone::Named(chrono_tz::Tz::UTC);
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            event_days(&e, &utc),
            Some((d("2026-11-24"), d("2026-11-24")))
        );
        let tokyo = DisplayZone::Named(chrono_tz::Tz::Asia__Tokyo);
        assert_eq!(
            event_days(&e, &tokyo),
            Some((d("2026-11-25"), d("2026-11-25")))
        );
    }

    #[test]
    fn a_day_table_tells_days_as_the_zone_does_where_midnight_is_skipped() {
        // Santiago's clocks go from 00:00 to 01:00 on 6 September 2026.
        let zone = DisplayZone::Named(chrono_tz::Tz::America__Santiago);
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let table = DayTable::new(&zone, d("2026-09-05"), d("2026-09-07"));
        let from: DateTime<Utc> = "2026-09-05T00:00:00Z".parse().unwrap();
        for quarter in 0..4 * 24 * 4 {
            let start = from + Duration::minutes(15 * quarter);
            for minutes in [15, 60, 300] {
                let span = (start, start + Duration::minutes(minutes));
                let (a, b) = span_days(span, &zone);
                if a >= d("2026-09-05") && b <= d("2026-09-07") {
                    assert_eq!(table.span_days(span), (a, b), "{span:?}");
                }
            }
        }
    }

    #[test]
    fn all_day_events_keep_dates_in_any_zone() {
        let e = event(json!({"id": "a", "isAllDay": true,
            "start": {"dateTime": "2026-11-24T00:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-11-26T00:00:00", "timeZone": "UTC"}}));
        let la = DisplayZone::Named(chrono_tz::Tz::America__Los_Angeles);
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            event_days(&e, &la),
            Some((d("2026-11-24"), d("2026-11-25")))
        );
        assert!(occupies(&e, &la, d("2026-11-25"), d("2026-11-30")));
        assert!(!occupies(&e, &la, d("2026-11-26"), d("2026-11-30")));
    }
}

/// "just now", "2 min ago", "3 h ago", "5 d ago".
pub fn ago(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - then).num_seconds().max(0);
    match secs {
        0..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=86_399 => format!("{} h ago", secs / 3600),
        _ => format!("{} d ago", secs / 86_400),
    }
}

/// The first and last day a date argument may name: far beyond any calendar, far inside what
/// date arithmetic can take.
pub const FIRST_DAY: NaiveDate = NaiveDate::from_ymd_opt(1900, 1, 1).expect("a date");
/// The last day a date argument may name.
pub const LAST_DAY: NaiveDate = NaiveDate::from_ymd_opt(9000, 12, 31).expect("a date");

/// Parses a day argument, between [`FIRST_DAY`] and [`LAST_DAY`]: `YYYY-MM-DD`, `today`,
/// `tomorrow`, `yesterday`, a weekday name (`monday` or `mon`: the next such day from today on,
/// today included), `+Nd`/`-Nd` (days) or `+Nw`/`-Nw` (weeks).
pub fn parse_day(text: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    let offset = |unit: char, days_per: i64| {
        lower
            .strip_suffix(unit)
            .filter(|t| t.starts_with(['+', '-']))
            .and_then(|t| t.parse::<i64>().ok())
            .map(|n| n.checked_mul(days_per))
    };
    let day = match lower.as_str() {
        "today" => Some(today),
        "tomorrow" => today.succ_opt(),
        "yesterday" => today.pred_opt(),
        _ => {
            if let Some(days) = offset('d', 1).or_else(|| offset('w', 7)) {
                days.and_then(Duration::try_days)
                    .and_then(|d| today.checked_add_signed(d))
            } else if let Ok(weekday) = lower.parse::<chrono::Weekday>() {
                let ahead = (weekday.num_days_from_monday() + 7
                    - today.weekday().num_days_from_monday())
                    % 7;
                today.checked_add_signed(Duration::days(ahead.into()))
            } else {
                let not_a_date = || {
                    format!(
                        "`{text}` is not a date (use YYYY-MM-DD, today, tomorrow, yesterday, a weekday, +Nd or +Nw)"
                    )
                };
                // chrono reads `26-12-01` as the year 26; the form is YYYY-MM-DD.
                let year = text.split('-').next().unwrap_or("");
                if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(not_a_date());
                }
                Some(NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| not_a_date())?)
            }
        }
    };
    day.filter(|d| (FIRST_DAY..=LAST_DAY).contains(d))
        .ok_or_else(|| format!("`{text}` is out of range ({FIRST_DAY} to {LAST_DAY})"))
}

#[cfg(test)]
mod parse_tests {
    use super::*;

    #[test]
    fn day_arguments() {
        let today: NaiveDate = "2026-11-24".parse().unwrap();
        assert_eq!(parse_day("today", today), Ok(today));
        assert_eq!(parse_day("+7d", today), Ok("2026-12-01".parse().unwrap()));
        assert_eq!(parse_day("-1d", today), Ok("2026-11-23".parse().unwrap()));
        assert_eq!(
            parse_day("2016-12-09", today),
            Ok("2016-12-09".parse().unwrap())
        );
        assert!(parse_day("7d", today).is_err());
        assert!(parse_day("someday", today).is_err());
        // 2026-11-24 is a Tuesday.
        let day = |s: &str| parse_day(s, today).unwrap().to_string();
        assert_eq!(day("tomorrow"), "2026-11-25");
        assert_eq!(day("Yesterday"), "2026-11-23");
        assert_eq!(day("+2w"), "2026-12-08");
        assert_eq!(day("-1w"), "2026-11-17");
        assert_eq!(day("friday"), "2026-11-27");
        assert_eq!(day("mon"), "2026-11-30");
        assert_eq!(day("tuesday"), "2026-11-24", "today counts");
        for far in [
            "+106751991167300d",
            "-9999999999d",
            "+3000000d",
            "0001-01-01",
        ] {
            let e = parse_day(far, today).unwrap_err();
            assert!(e.contains("out of range"), "{far}: {e}");
        }
        for short in ["26-12-01", "226-12-01", "+2026-12-01"] {
            let e = parse_day(short, today).unwrap_err();
            assert!(e.contains("is not a date"), "{short}: {e}");
        }
    }
}

/// An instant's time of day in the display zone: `09:30` or `9:30am`.
pub fn clock(display: &crate::config::DisplayConfig, t: DateTime<Utc>) -> String {
    let local = display.zone.local(t);
    if display.hour12 {
        local.format("%-I:%M%P").to_string()
    } else {
        local.format("%H:%M").to_string()
    }
}
