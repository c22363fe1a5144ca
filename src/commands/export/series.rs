//! A recurring series as iCalendar: one VEVENT with its RRULE (Graph's pattern in RFC 5545
//! terms), an override with a RECURRENCE-ID for each changed occurrence, and an EXDATE for each
//! cancelled or deleted one. A series whose cached instances the rule would not reproduce
//! exactly (an unknown pattern, an instance off the pattern, a moved one without its original
//! slot) is not written this way: the caller writes its instances one by one.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Month, NaiveDate, Utc};
use chrono_tz::Tz;
use icalendar::{CalendarDateTime, Component, DatePerhapsTime, EventLike, Frequency, NWeekday};
use icalendar::{RRule, UnvalidatedRRule};

use super::{SeriesSource, describe, vevent};
use crate::model::{Event, EventTime, Pattern, Recurrence, RecurrenceEnd, WeekIndex};

/// Slots the rule is expanded to at most: a daily series over the longest window is 1,825.
const MAX_SLOTS: usize = 20_000;

/// Where the pattern puts an instance: a date for an all-day series, else an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    Date(NaiveDate),
    At(DateTime<Utc>),
}

/// How the series writes its times: dates, or wall times in its zone (the zone, for dates, is
/// the one its original starts are read in).
#[derive(Clone, Copy)]
enum Times {
    Dates(Tz),
    Zoned(Tz),
}

impl Times {
    /// The slot of an instant: the date it falls on in the series' zone, or the instant.
    fn slot(self, t: DateTime<Utc>) -> Slot {
        match self {
            Times::Dates(tz) => Slot::Date(t.with_timezone(&tz).date_naive()),
            Times::Zoned(_) => Slot::At(t),
        }
    }

    fn ical(self, slot: Slot) -> DatePerhapsTime {
        match (self, slot) {
            (_, Slot::Date(d)) => DatePerhapsTime::Date(d),
            (Times::Zoned(Tz::UTC), Slot::At(t)) | (Times::Dates(_), Slot::At(t)) => {
                DatePerhapsTime::DateTime(CalendarDateTime::Utc(t))
            }
            (Times::Zoned(tz), Slot::At(t)) => {
                DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone {
                    date_time: t.with_timezone(&tz).naive_local(),
                    tzid: tz.name().to_owned(),
                })
            }
        }
    }
}

/// The series' VEVENTs: its pattern first, then its overrides. None when the pattern would not
/// reproduce what the cache holds.
pub(super) fn vevents(
    s: &SeriesSource,
    uid: &str,
    now: DateTime<Utc>,
) -> Option<Vec<icalendar::Event>> {
    let master = &s.master;
    let recurrence = master.recurrence.as_ref()?;
    let (from, to) = s.complete_in?;
    let zone = recurrence
        .zone
        .as_deref()
        .and_then(crate::tz::resolve)
        .unwrap_or(Tz::UTC);
    let times = if master.all_day {
        Times::Dates(zone)
    } else {
        Times::Zoned(zone)
    };
    let (first, end) = bounds(master, times)?;
    let mut v = icalendar::Event::new();
    v.uid(uid);
    v.starts(times.ical(first));
    v.ends(times.ical(end));
    v.recurrence(rule(recurrence, times)?).ok()?;
    if let (Times::Dates(_), RecurrenceEnd::Date(_)) = (times, &recurrence.end) {
        // The rrule crate writes UNTIL as a date-time; a series of dates ends on a date.
        let written = v.property_value("RRULE")?.to_owned();
        v.add_property("RRULE", until_as_date(&written));
    }
    describe(&mut v, master, now);

    // Every instance must sit on a slot of the rule; moved ones say which.
    let mut held: BTreeMap<Slot, &Event> = BTreeMap::new();
    for e in &s.instances {
        held.insert(slot_of(e, times)?, e);
    }
    let last_held = held.keys().next_back().copied();
    let set = v.get_recurrence().ok()?;
    let mut slots = BTreeSet::new();
    for t in set.into_iter().take(MAX_SLOTS) {
        // A date's slot is the date the rule gave (midnight where the rule runs).
        let slot = match times {
            Times::Dates(_) => Slot::Date(t.date_naive()),
            Times::Zoned(_) => Slot::At(t.with_timezone(&Utc)),
        };
        if slot >= upper(to, times) && last_held.is_none_or(|l| slot > l) {
            break;
        }
        slots.insert(slot);
    }
    if slots.len() >= MAX_SLOTS || !held.keys().all(|k| slots.contains(k)) {
        return None;
    }
    // A slot of the window with no instance was deleted; a cancelled one is not held either
    // (unless the whole series is cancelled, which its own STATUS says).
    let (lower, upper) = (lower(from, times), upper(to, times));
    let excluded = |e: &Event| e.cancelled && !master.cancelled;
    let mut overrides = Vec::new();
    for slot in slots.range(lower..upper) {
        match held.get(slot) {
            None => {
                v.exdate(times.ical(*slot));
            }
            Some(e) if excluded(e) => {
                v.exdate(times.ical(*slot));
            }
            Some(_) => {}
        }
    }
    for (slot, e) in &held {
        if e.is_exception() && !excluded(e) {
            overrides.push(override_of(e, uid, times, *slot, now)?);
        }
    }
    let mut out = vec![v.done()];
    out.extend(overrides);
    Some(out)
}

/// The master's first slot and end, as the series writes them.
fn bounds(master: &Event, times: Times) -> Option<(Slot, Slot)> {
    match times {
        Times::Dates(_) => {
            let (first, last) = master.all_day_dates()?;
            Some((Slot::Date(first), Slot::Date(last + Duration::days(1))))
        }
        Times::Zoned(_) => {
            let (start, end) = master.span()?;
            Some((Slot::At(start), Slot::At(end)))
        }
    }
}

/// Where the pattern put an instance: its original start when it was moved, else its start.
/// A moved instance (an exception) that does not say is not placed.
fn slot_of(e: &Event, times: Times) -> Option<Slot> {
    if let Some(at) = e.original_start {
        return Some(times.slot(at));
    }
    if e.is_exception() {
        return None;
    }
    match (times, e.start.as_ref()?) {
        (Times::Dates(_), EventTime::AllDay { date, .. }) => Some(Slot::Date(*date)),
        (_, start) => Some(times.slot(start.instant())),
    }
}

/// The first slot of the span the cache is complete in (for dates: the first whole day).
fn lower(from: DateTime<Utc>, times: Times) -> Slot {
    match times {
        Times::Dates(_) => Slot::Date(from.date_naive() + Duration::days(1)),
        Times::Zoned(_) => Slot::At(from),
    }
}

/// The slot just past that span (for dates: its last whole day is the day before).
fn upper(to: DateTime<Utc>, times: Times) -> Slot {
    match times {
        Times::Dates(_) => Slot::Date(to.date_naive() - Duration::days(1)),
        Times::Zoned(_) => Slot::At(to),
    }
}

/// A changed occurrence: the event as it stands on its own, in place of its slot.
fn override_of(
    e: &Event,
    uid: &str,
    times: Times,
    slot: Slot,
    now: DateTime<Utc>,
) -> Option<icalendar::Event> {
    let mut v = vevent(e, uid, now)?;
    v.recurrence_id(times.ical(slot));
    Some(v.done())
}

/// Graph's pattern as an RRULE; None for a pattern iCalendar has no words for.
fn rule(r: &Recurrence, times: Times) -> Option<UnvalidatedRRule> {
    let days = |nth: Option<i16>| -> Vec<NWeekday> {
        r.days.iter().map(|d| NWeekday::new(nth, *d)).collect()
    };
    let index = match r.index {
        WeekIndex::First => 1,
        WeekIndex::Second => 2,
        WeekIndex::Third => 3,
        WeekIndex::Fourth => 4,
        WeekIndex::Last => -1,
    };
    // "The first Monday or Tuesday" is one day each month: the nth of the set.
    let relative = |rule: UnvalidatedRRule| match r.days.len() {
        0 => None,
        1 => Some(rule.by_weekday(days(Some(index)))),
        _ => Some(
            rule.by_weekday(days(None))
                .by_set_pos(vec![i32::from(index)]),
        ),
    };
    let day_of_month = i8::try_from(r.day_of_month)
        .ok()
        .filter(|d| (1..=31).contains(d));
    let month = u8::try_from(r.month)
        .ok()
        .and_then(|m| Month::try_from(m).ok());
    let rule = match &r.pattern {
        Pattern::Daily => RRule::new(Frequency::Daily),
        Pattern::Weekly if r.days.is_empty() => return None,
        Pattern::Weekly => RRule::new(Frequency::Weekly)
            .by_weekday(days(None))
            .week_start(r.first_day_of_week),
        Pattern::AbsoluteMonthly => {
            RRule::new(Frequency::Monthly).by_month_day(vec![day_of_month?])
        }
        Pattern::RelativeMonthly => relative(RRule::new(Frequency::Monthly))?,
        Pattern::AbsoluteYearly => RRule::new(Frequency::Yearly)
            .by_month(&[month?])
            .by_month_day(vec![day_of_month?]),
        Pattern::RelativeYearly => relative(RRule::new(Frequency::Yearly).by_month(&[month?]))?,
        Pattern::Other(_) => return None,
    };
    let rule = rule.interval(u16::try_from(r.interval).ok()?);
    Some(match (&r.end, times) {
        (RecurrenceEnd::Count(n), _) => rule.count(*n),
        (RecurrenceEnd::Never, _) => rule,
        // The last day counts: the series ends as that day does, in its zone.
        (RecurrenceEnd::Date(last), Times::Zoned(tz)) => {
            let end = crate::tz::local_to_utc(last.succ_opt()?.and_hms_opt(0, 0, 0)?, tz);
            rule.until((end - Duration::seconds(1)).with_timezone(&icalendar::Tz::UTC))
        }
        // Dates run at local midnight in the rrule crate: the last one is one of them.
        (RecurrenceEnd::Date(last), Times::Dates(_)) => {
            use chrono::TimeZone;
            let end = last.and_hms_opt(0, 0, 0)?;
            rule.until(icalendar::Tz::LOCAL.from_local_datetime(&end).earliest()?)
        }
    })
}

/// `UNTIL=20261231T000000Z` as `UNTIL=20261231`, for a series of dates (RFC 5545 3.3.10: the
/// same value type as DTSTART).
fn until_as_date(rule: &str) -> String {
    rule.split(';')
        .map(|part| match part.strip_prefix("UNTIL=") {
            Some(v) if v.len() >= 8 => format!("UNTIL={}", &v[..8]),
            _ => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(";")
}
