//! Pure calendar layout: which days a month grid shows, which events go in which day and in
//! what order, and what each line says. No terminal types here.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

use crate::config::DisplayConfig;
use crate::days::{clock, event_days};
use crate::model::{CachedEvent, Event};

/// The weeks a month view shows: whole weeks from the one holding the 1st to the one holding
/// the last day of the month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthGrid {
    /// The first day of the first row.
    pub start: NaiveDate,
    /// Week rows (always six).
    pub weeks: u32,
    /// The month being shown.
    pub year: i32,
    /// The month shown (1-12).
    pub month: u32,
}

impl MonthGrid {
    /// The grid of the month of `day`, weeks starting on `week_start`.
    pub fn for_day(day: NaiveDate, week_start: Weekday) -> MonthGrid {
        let first = day.with_day(1).expect("every month has a 1st");
        let next_month = if first.month() == 12 {
            NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
        }
        .expect("valid date");
        let last = next_month.pred_opt().expect("valid date");
        let back =
            (first.weekday().num_days_from_monday() + 7 - week_start.num_days_from_monday()) % 7;
        let start = first - Duration::days(back.into());
        let days = (last - start).num_days() + 1;
        MonthGrid {
            start,
            weeks: (days as u32).div_ceil(7),
            year: first.year(),
            month: first.month(),
        }
    }

    /// The last day the grid shows.
    pub fn end(&self) -> NaiveDate {
        self.start + Duration::days(i64::from(self.weeks) * 7 - 1)
    }

    /// The day at a row and a column.
    pub fn day(&self, week: u32, weekday_index: u32) -> NaiveDate {
        self.start + Duration::days(i64::from(week * 7 + weekday_index))
    }

    /// Whether `day` is of the month shown (else of the weeks around it).
    pub fn in_month(&self, day: NaiveDate) -> bool {
        day.year() == self.year && day.month() == self.month
    }
}

/// Weekday names in display order.
pub fn weekday_names(week_start: Weekday) -> [&'static str; 7] {
    let names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let s = week_start.num_days_from_monday() as usize;
    std::array::from_fn(|i| names[(s + i) % 7])
}

/// How an event shows on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// A timed event that starts and ends on this day.
    Timed,
    /// An all-day or multi-day event, on its first day (or the first day of a grid row).
    SpanStart,
    /// A multi-day event continuing from an earlier day.
    SpanContinues,
    /// A timed event that started on an earlier day and goes on into this one.
    TimedContinues,
}

/// One event on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayEntry {
    /// Index into the visible events.
    pub index: usize,
    /// How it sits on the day.
    pub placement: Placement,
}

/// The events of a day, in display order: all-day events first, then the others by start, ties
/// broken by id so the order is stable.
pub fn day_entries(
    events: &[CachedEvent],
    display: &DisplayConfig,
    day: NaiveDate,
) -> Vec<DayEntry> {
    day_buckets(events, display, day, day)
        .remove(&day)
        .unwrap_or_default()
}

/// How an event shows on `day`: `first` is the event's first day; `row_start` says the day
/// begins a row of the grid (a continuing all-day bar shows its subject again there).
fn placement(spans: bool, all_day: bool, first_day: bool, row_start: bool) -> Placement {
    match (spans, all_day, first_day) {
        (false, _, _) => Placement::Timed,
        (true, _, true) => Placement::SpanStart,
        (true, true, false) if row_start => Placement::SpanStart,
        (true, true, false) => Placement::SpanContinues,
        (true, false, false) => Placement::TimedContinues,
    }
}

/// The entries of every day of `[first, last]`, computed in one pass over the events (a month
/// view asks for 42 days; asking `day_entries` 42 times would look at every event 42 times).
/// A day that starts a grid row is `week_start`'s weekday.
pub fn day_buckets(
    events: &[CachedEvent],
    display: &DisplayConfig,
    first: NaiveDate,
    last: NaiveDate,
) -> std::collections::HashMap<NaiveDate, Vec<DayEntry>> {
    let mut ranked: std::collections::HashMap<NaiveDate, Vec<(u8, i64, usize, DayEntry)>> =
        std::collections::HashMap::new();
    for (index, c) in events.iter().enumerate() {
        let Some((a, b)) = event_days(&c.event, &display.zone) else {
            continue;
        };
        let spans = c.event.all_day || a != b;
        let start = c.event.span().map(|s| s.0.timestamp()).unwrap_or(0);
        let mut day = a.max(first);
        while day <= b.min(last) {
            let row_start = day.weekday() == display.week_start;
            let placement = placement(spans, c.event.all_day, day == a, row_start);
            // All-day events first, then the rest by start (a timed event that crosses
            // midnight among the timed ones, in every zone).
            ranked.entry(day).or_default().push((
                u8::from(!c.event.all_day),
                start,
                index,
                DayEntry { index, placement },
            ));
            day += Duration::days(1);
        }
    }
    ranked
        .into_iter()
        .map(|(day, mut entries)| {
            entries.sort_by(|x, y| {
                (x.0, x.1, &events[x.2].event.id).cmp(&(y.0, y.1, &events[y.2].event.id))
            });
            (day, entries.into_iter().map(|e| e.3).collect())
        })
        .collect()
}

/// The short time label of an entry: `09:30`, `all day`, `→` for continuations.
pub fn time_label(event: &Event, placement: Placement, display: &DisplayConfig) -> String {
    match placement {
        Placement::Timed => event
            .span()
            .map(|(s, _)| clock(display, s))
            .unwrap_or_default(),
        Placement::SpanStart if event.all_day => String::new(),
        Placement::SpanStart => event
            .span()
            .map(|(s, _)| clock(display, s))
            .unwrap_or_default(),
        Placement::SpanContinues | Placement::TimedContinues => "→".into(),
    }
}

/// The marks a day's time range is written with.
#[derive(Debug, Clone, Copy)]
pub struct Marks {
    /// Between the start and the end.
    pub range: &'static str,
    /// In place of a start before the day or an end after it.
    pub open: &'static str,
}

/// The TUI's typographic marks: `09:00–10:00`, `16:00–…`.
pub const TUI_MARKS: Marks = Marks {
    range: "–",
    open: "…",
};

/// Plain ASCII for text that scripts read: `09:00-10:00`, `16:00-...`.
pub const ASCII_MARKS: Marks = Marks {
    range: "-",
    open: "...",
};

/// How a timed event's time reads on one of its days: the clock times that fall on that day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayTimes {
    /// The start, if the event starts on this day.
    pub start: Option<String>,
    /// The end, if the event ends on this day.
    pub end: Option<String>,
}

impl DayTimes {
    /// `09:00–10:00`, `16:00–…`, `…–12:00`.
    pub fn range(&self, marks: Marks) -> String {
        format!(
            "{}{}{}",
            self.start.as_deref().unwrap_or(marks.open),
            marks.range,
            self.end.as_deref().unwrap_or(marks.open)
        )
    }
}

/// The times of a timed event on `day`, in the display zone; None for all-day events and events
/// without a time. An event ending exactly at midnight ends on the day before.
pub fn day_times(event: &Event, day: NaiveDate, display: &DisplayConfig) -> Option<DayTimes> {
    if event.all_day {
        return None;
    }
    let (start, end) = event.span()?;
    let (first, last) = event_days(event, &display.zone)?;
    Some(DayTimes {
        start: (first == day).then(|| clock(display, start)),
        end: (last == day).then(|| clock(display, end)),
    })
}

/// `09:30–10:00`, `all day`, or a multi-day range, in the display zone.
pub fn when(event: &Event, display: &DisplayConfig) -> String {
    if let Some((first, last)) = event.all_day_dates() {
        return if first == last {
            format!("{}, all day", first.format("%a %-d %b %Y"))
        } else {
            format!(
                "{} – {}, all day",
                first.format("%a %-d %b"),
                last.format("%a %-d %b %Y")
            )
        };
    }
    let Some((start, end)) = event.span() else {
        return "time unknown".into();
    };
    let (a, b) = (display.zone.date_of(start), display.zone.date_of(end));
    if a == b || end == start {
        format!(
            "{}, {}–{}",
            a.format("%a %-d %b %Y"),
            clock(display, start),
            clock(display, end)
        )
    } else {
        format!(
            "{} {} – {} {}",
            a.format("%a %-d %b"),
            clock(display, start),
            b.format("%a %-d %b %Y"),
            clock(display, end)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use serde_json::json;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn month_grid_covers_whole_weeks() {
        let g = MonthGrid::for_day(d("2026-11-24"), Weekday::Mon);
        assert_eq!(g.start, d("2026-10-26"));
        assert_eq!(g.weeks, 6);
        assert_eq!(g.end(), d("2026-12-06"));
        let g = MonthGrid::for_day(d("2026-02-10"), Weekday::Sun);
        assert_eq!(g.start, d("2026-02-01"));
        assert_eq!(g.weeks, 4);
        assert_eq!(weekday_names(Weekday::Sun)[0], "Sun");
        let g = MonthGrid::for_day(d("2026-12-31"), Weekday::Mon);
        assert_eq!((g.year, g.month), (2026, 12));
    }

    fn cached(v: serde_json::Value) -> CachedEvent {
        CachedEvent {
            view: "default".into(),
            event: Event::from_graph(&v).unwrap(),
        }
    }

    #[test]
    fn spans_first_then_timed_by_start() {
        let config = Config::from_toml("[ui]\ntimezone = \"UTC\"\n", None, "/tmp".into()).unwrap();
        let t = |s: &str| json!({"dateTime": s, "timeZone": "UTC"});
        let events = vec![
            cached(
                json!({"id": "late", "start": t("2026-11-24T15:00:00"), "end": t("2026-11-24T16:00:00")}),
            ),
            cached(
                json!({"id": "early", "start": t("2026-11-24T09:00:00"), "end": t("2026-11-24T10:00:00")}),
            ),
            cached(
                json!({"id": "trip", "isAllDay": true, "start": t("2026-11-23T00:00:00"), "end": t("2026-11-26T00:00:00")}),
            ),
            cached(
                json!({"id": "night", "start": t("2026-11-23T22:00:00"), "end": t("2026-11-24T02:00:00")}),
            ),
            cached(
                json!({"id": "other-day", "start": t("2026-11-25T09:00:00"), "end": t("2026-11-25T10:00:00")}),
            ),
        ];
        let entries = day_entries(&events, &config.display, d("2026-11-24"));
        let ids: Vec<&str> = entries
            .iter()
            .map(|e| events[e.index].event.id.as_str())
            .collect();
        assert_eq!(ids, ["trip", "night", "early", "late"]);
        assert_eq!(entries[0].placement, Placement::SpanContinues);
        assert_eq!(entries[1].placement, Placement::TimedContinues);
        assert_eq!(
            day_entries(&events, &config.display, d("2026-11-23"))[0].placement,
            Placement::SpanStart
        );
        assert_eq!(
            time_label(&events[1].event, Placement::Timed, &config.display),
            "09:00"
        );
        assert_eq!(
            when(&events[2].event, &config.display),
            "Mon 23 Nov – Wed 25 Nov 2026, all day"
        );
        assert_eq!(
            when(&events[1].event, &config.display),
            "Tue 24 Nov 2026, 09:00–10:00"
        );
    }
}

/// One row of the agenda view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgendaRow {
    /// A day's heading.
    Day(NaiveDate),
    /// Under a heading, a day without events.
    Empty(NaiveDate),
    /// The `pos`-th event of `day`.
    Event {
        /// Its day.
        day: NaiveDate,
        /// Its place among the day's events.
        pos: usize,
        /// The event.
        entry: DayEntry,
    },
}

/// What the agenda shows in `height` rows: from `selected` on, over `days` days, the days that
/// have events (and the selected day and today even without), each a heading and its events.
/// When the selected day's events overflow, the rows scroll to keep event `selected_event`
/// in sight. Drawing and clicks both go by these rows.
pub fn agenda_rows(
    events: &[CachedEvent],
    display: &DisplayConfig,
    selected: NaiveDate,
    selected_event: usize,
    today: NaiveDate,
    days: i64,
    height: usize,
) -> Vec<AgendaRow> {
    let mut rows = Vec::new();
    let mut skip = 0;
    let end = selected + Duration::days(days);
    let buckets = day_buckets(events, display, selected, end);
    let mut day = selected;
    while day < end && rows.len() < skip + height {
        let entries = buckets.get(&day).map(Vec::as_slice).unwrap_or_default();
        if !entries.is_empty() || day == selected || day == today {
            rows.push(AgendaRow::Day(day));
            if entries.is_empty() {
                rows.push(AgendaRow::Empty(day));
            }
            for (pos, entry) in entries.iter().enumerate() {
                if day == selected && pos == selected_event {
                    skip = (rows.len() + 1).saturating_sub(height);
                }
                rows.push(AgendaRow::Event {
                    day,
                    pos,
                    entry: entry.clone(),
                });
            }
        }
        day += Duration::days(1);
    }
    rows.drain(..skip.min(rows.len()));
    rows.truncate(height);
    rows
}
