//! The week and day views' time grid as pure layout: which events go in the all-day strip, and
//! where each timed event sits in its day — the wall-clock minutes it covers and its column
//! among the events it overlaps (interval partitioning: each event takes the first column free
//! at its start, and a group of overlapping events shares the width equally).

use chrono::{Duration, NaiveDate, Timelike};

use crate::config::DisplayConfig;
use crate::days::event_days;
use crate::model::{CachedEvent, Event};

/// Minutes in a wall-clock day: the grid is drawn by the clock, so a DST day keeps 24 rows of
/// hours (the skipped or repeated hour is where the clock puts it).
pub const DAY_MINUTES: u32 = 24 * 60;

/// The shortest an event is drawn, so that a zero-length one still shows.
const MIN_MINUTES: u32 = 15;

/// A timed event on one day of the grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    /// Index into the visible events.
    pub index: usize,
    /// Wall-clock minutes of the day it covers: from 0 if it began on an earlier day, to
    /// [`DAY_MINUTES`] if it goes on into the next.
    pub start: u32,
    /// The end, in minutes from midnight (exclusive).
    pub end: u32,
    /// Its column, and how many columns its group of overlapping events has.
    pub column: usize,
    /// How many columns its cluster needs.
    pub columns: usize,
}

/// Whether an event belongs in the all-day strip rather than the grid: all-day events, and
/// timed ones of a day or more (as Outlook and Google show them).
pub fn in_strip(event: &Event) -> bool {
    event.all_day
        || event
            .span()
            .is_some_and(|(start, end)| end - start >= Duration::days(1))
}

/// The timed events of `day`, placed; ordered by start, then by id.
pub fn place_day(events: &[CachedEvent], display: &DisplayConfig, day: NaiveDate) -> Vec<Placed> {
    let zone = &display.zone;
    let mut spans: Vec<(u32, u32, usize)> = Vec::new();
    for (index, c) in events.iter().enumerate() {
        let e = &c.event;
        if in_strip(e) {
            continue;
        }
        let (Some((first, last)), Some((start, end))) = (event_days(e, zone), e.span()) else {
            continue;
        };
        if day < first || day > last {
            continue;
        }
        let minute = |t| {
            let local = zone.local(t);
            local.hour() * 60 + local.minute()
        };
        let from = if first == day { minute(start) } else { 0 };
        let to = if last == day && zone.date_of(end) == day {
            minute(end)
        } else {
            DAY_MINUTES
        };
        // A DST fall-back hour can put the wall-clock end before the start.
        let to = to.max(from + MIN_MINUTES).min(DAY_MINUTES);
        spans.push((from.min(DAY_MINUTES - MIN_MINUTES), to, index));
    }
    spans.sort_by(|a, b| {
        (a.0, std::cmp::Reverse(a.1), &events[a.2].event.id).cmp(&(
            b.0,
            std::cmp::Reverse(b.1),
            &events[b.2].event.id,
        ))
    });
    let columns = assign_columns(spans.iter().map(|s| (s.0, s.1)));
    spans
        .into_iter()
        .zip(columns)
        .map(|((start, end, index), (column, columns))| Placed {
            index,
            start,
            end,
            column,
            columns,
        })
        .collect()
}

/// Interval partitioning of spans given in order of their starts (in any unit: minutes here,
/// screen rows in the grid): each takes the first column free at its start, and a group of
/// spans that overlap one another shares its column count. Returns (column, columns) for each.
pub fn assign_columns<T: Ord + Copy + Default>(
    spans: impl IntoIterator<Item = (T, T)>,
) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    // The current group of overlapping spans: where it starts in `out`, where it ends, and the
    // end of the last span in each of its columns.
    let mut group_start = 0;
    let mut group_end = T::default();
    let mut column_ends: Vec<T> = Vec::new();
    for (start, end) in spans {
        if start >= group_end && !column_ends.is_empty() {
            close_group(&mut out[group_start..], column_ends.len());
            group_start = out.len();
            column_ends.clear();
        }
        if column_ends.is_empty() {
            group_end = end;
        }
        let column = match column_ends.iter().position(|&e| e <= start) {
            Some(free) => {
                column_ends[free] = end;
                free
            }
            None => {
                column_ends.push(end);
                column_ends.len() - 1
            }
        };
        group_end = group_end.max(end);
        out.push((column, 0));
    }
    let columns = column_ends.len();
    close_group(&mut out[group_start..], columns);
    out
}

fn close_group(group: &mut [(usize, usize)], columns: usize) {
    for p in group {
        p.1 = columns;
    }
}

/// The events of the all-day strip over `[first, last]`: indices, ordered by first day, then
/// longest first, then id.
pub fn strip_events(
    events: &[CachedEvent],
    display: &DisplayConfig,
    first: NaiveDate,
    last: NaiveDate,
) -> Vec<(usize, NaiveDate, NaiveDate)> {
    let mut strip: Vec<(usize, NaiveDate, NaiveDate)> = events
        .iter()
        .enumerate()
        .filter(|(_, c)| in_strip(&c.event))
        .filter_map(|(i, c)| {
            let (a, b) = event_days(&c.event, &display.zone)?;
            (a <= last && b >= first).then_some((i, a, b))
        })
        .collect();
    strip.sort_by(|x, y| {
        (x.1, std::cmp::Reverse(x.2), &events[x.0].event.id).cmp(&(
            y.1,
            std::cmp::Reverse(y.2),
            &events[y.0].event.id,
        ))
    });
    strip
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::json;

    use super::*;
    use crate::config::Config;
    use crate::model::EventId;

    fn config(zone: &str) -> Config {
        let toml = format!("[ui]\ntimezone = \"{zone}\"\n");
        Config::from_toml(&toml, None, PathBuf::from("/nonexistent")).unwrap()
    }

    fn timed(id: &str, start: &str, end: &str) -> CachedEvent {
        let t = |s: &str| json!({"dateTime": s, "timeZone": "UTC"});
        CachedEvent {
            view: "default".into(),
            event: Event::from_graph(
                &json!({"id": id, "subject": id, "start": t(start), "end": t(end)}),
            )
            .unwrap(),
        }
    }

    fn all_day(id: &str, start: &str, end: &str) -> CachedEvent {
        let t = |s: &str| json!({"dateTime": format!("{s}T00:00:00"), "timeZone": "UTC"});
        CachedEvent {
            view: "default".into(),
            event: Event::from_graph(
                &json!({"id": id, "subject": id, "isAllDay": true, "start": t(start), "end": t(end)}),
            )
            .unwrap(),
        }
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// (id, start, end, column, columns) of each placed event.
    fn summary(
        events: &[CachedEvent],
        placed: &[Placed],
    ) -> Vec<(EventId, u32, u32, usize, usize)> {
        placed
            .iter()
            .map(|p| {
                (
                    events[p.index].event.id.clone(),
                    p.start,
                    p.end,
                    p.column,
                    p.columns,
                )
            })
            .collect()
    }

    #[test]
    fn overlapping_events_go_side_by_side_and_a_free_column_is_reused() {
        let events = vec![
            timed("a", "2026-11-24T09:00:00", "2026-11-24T10:00:00"),
            timed("b", "2026-11-24T09:30:00", "2026-11-24T11:00:00"),
            timed("c", "2026-11-24T10:00:00", "2026-11-24T10:30:00"),
            timed("d", "2026-11-24T13:00:00", "2026-11-24T14:00:00"),
            timed("e", "2026-11-24T13:00:00", "2026-11-24T13:00:00"),
        ];
        let placed = place_day(&events, &config("UTC").display, d("2026-11-24"));
        let h = |h: u32, m: u32| h * 60 + m;
        assert_eq!(
            summary(&events, &placed),
            vec![
                ("a".into(), h(9, 0), h(10, 0), 0, 2),
                ("b".into(), h(9, 30), h(11, 0), 1, 2),
                // `a` has ended by 10:00: `c` takes its column.
                ("c".into(), h(10, 0), h(10, 30), 0, 2),
                // A new group: the zero-length `e` still gets a quarter hour.
                ("d".into(), h(13, 0), h(14, 0), 0, 2),
                ("e".into(), h(13, 0), h(13, 15), 1, 2),
            ]
        );
    }

    #[test]
    fn separate_events_keep_the_whole_width() {
        let events = vec![
            timed("a", "2026-11-24T09:00:00", "2026-11-24T10:00:00"),
            timed("b", "2026-11-24T10:00:00", "2026-11-24T11:00:00"),
        ];
        let placed = place_day(&events, &config("UTC").display, d("2026-11-24"));
        assert!(placed.iter().all(|p| p.column == 0 && p.columns == 1));
    }

    #[test]
    fn an_event_crossing_midnight_is_on_both_days() {
        let events = vec![timed("late", "2026-11-24T22:00:00", "2026-11-25T01:30:00")];
        let c = config("UTC");
        let first = place_day(&events, &c.display, d("2026-11-24"));
        let second = place_day(&events, &c.display, d("2026-11-25"));
        assert_eq!((first[0].start, first[0].end), (22 * 60, DAY_MINUTES));
        assert_eq!((second[0].start, second[0].end), (0, 90));
        // Ending exactly at midnight, it does not reach into the next day.
        let events = vec![timed("eve", "2026-11-24T23:00:00", "2026-11-25T00:00:00")];
        assert_eq!(
            place_day(&events, &c.display, d("2026-11-24"))[0].end,
            DAY_MINUTES
        );
        assert!(place_day(&events, &c.display, d("2026-11-25")).is_empty());
    }

    #[test]
    fn times_are_wall_clock_in_the_display_zone_on_dst_days() {
        // Europe/Berlin springs forward on 2026-03-29 at 02:00 (01:00 UTC).
        let c = config("Europe/Berlin");
        let events = vec![
            timed("before", "2026-03-29T00:00:00", "2026-03-29T00:30:00"),
            timed("after", "2026-03-29T01:00:00", "2026-03-29T02:00:00"),
        ];
        let placed = place_day(&events, &c.display, d("2026-03-29"));
        assert_eq!(
            summary(&events, &placed),
            vec![
                ("before".into(), 60, 90, 0, 1),
                ("after".into(), 3 * 60, 4 * 60, 0, 1),
            ]
        );
        // Falling back on 2026-10-25: 02:30 CEST to 02:15 CET ends "before" it starts.
        let events = vec![timed("fold", "2026-10-25T00:30:00", "2026-10-25T01:15:00")];
        let placed = place_day(&events, &c.display, d("2026-10-25"));
        assert_eq!((placed[0].start, placed[0].end), (150, 165));
    }

    #[test]
    fn all_day_and_long_events_go_to_the_strip() {
        let events = vec![
            all_day("trip", "2026-11-23", "2026-11-27"),
            timed("conf", "2026-11-24T08:00:00", "2026-11-26T17:00:00"),
            timed("mtg", "2026-11-24T08:00:00", "2026-11-24T09:00:00"),
        ];
        let c = config("UTC");
        let placed = place_day(&events, &c.display, d("2026-11-24"));
        assert_eq!(summary(&events, &placed)[0].0, "mtg");
        assert_eq!(placed.len(), 1);
        let strip = strip_events(&events, &c.display, d("2026-11-23"), d("2026-11-29"));
        assert_eq!(
            strip,
            vec![
                (0, d("2026-11-23"), d("2026-11-26")),
                (1, d("2026-11-24"), d("2026-11-26")),
            ]
        );
        assert!(strip_events(&events, &c.display, d("2026-11-30"), d("2026-12-06")).is_empty());
    }
}
