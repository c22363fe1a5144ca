//! Where the week and day views put things: the day columns, the all-day strip's bars, each
//! timed event's box and the hours shown. Plain arithmetic over `timegrid`'s placement, shared
//! by drawing and by mouse clicks.

use chrono::NaiveDate;
use ratatui::layout::Rect;

use crate::config::Config;
use crate::model::CachedEvent;
use crate::timegrid::{DAY_MINUTES, Placed, place_day, strip_events};

/// The hour the grid shows first when nothing selected is earlier: the working day.
const WORK_START_HOUR: u32 = 8;

/// The most rows the all-day strip takes (the last says how many more there are).
const MAX_STRIP_ROWS: usize = 3;

/// Where the parts of a week or day view sit in its area.
pub struct GridLayout {
    /// The days shown, one column each.
    pub days: Vec<NaiveDate>,
    /// The selected event, as an index into the visible events (as the input gave it).
    pub selected_index: Option<usize>,
    /// The x and width of each day's column.
    pub columns: Vec<(u16, u16)>,
    /// The hour labels' width.
    pub label_w: u16,
    /// The all-day strip's bars: (index into the visible events, where it is drawn, whether it
    /// began before the first day shown).
    pub bars: Vec<(usize, Rect, bool)>,
    /// The row saying how many more all-day events there are, and how many.
    pub more: Option<(Rect, usize)>,
    /// The first row of the grid, its height, the first hour shown and how many hours fit.
    pub top: u16,
    /// Rows of the hour grid.
    pub height: u16,
    /// The first hour shown.
    pub first_hour: u32,
    /// How many hours fit.
    pub hours_shown: u32,
    /// The timed events: their day, their place in it, and where they are drawn.
    pub events: Vec<GridEvent>,
    /// For each day, how many of its timed events lie wholly above and below the hours shown.
    pub hidden: Vec<(usize, usize)>,
}

/// A timed event as the grid draws it.
#[derive(Debug, Clone, PartialEq)]
pub struct GridEvent {
    /// The day it is drawn on.
    pub day: NaiveDate,
    /// Its minutes in the day, and its column among the events that share its rows.
    pub placed: Placed,
    /// Where it is drawn.
    pub rect: Rect,
    /// It began above the first hour shown (it is drawn from the top row on).
    pub cut_above: bool,
}

impl GridLayout {
    /// The grid row of a wall-clock minute (negative or past the end when it is not shown).
    pub fn row_of(&self, minute: u32) -> i64 {
        ((i64::from(minute) - i64::from(self.first_hour * 60)) * i64::from(self.height))
            .div_euclid(i64::from(self.hours_shown * 60))
    }

    /// The rows an event's box takes, before they are cut to the hours shown: from the row its
    /// start falls in to the row its end falls in, at least one. Both ends are rounded the same
    /// way, so events that follow one another (10:00–11:00, then 11:00–12:00) never share a
    /// row, whatever the rows per hour; events that do share one stand side by side, and no
    /// box is drawn over another's text.
    /// The row an end minute reaches, to the nearest row: a 13:00–14:30 event at a row an hour
    /// reaches the 14:00 row, while a 01:00–02:00 one stops short of the row 02:00 is
    /// labelled on even where that row begins a few minutes before 02:00.
    fn row_of_end(&self, minute: u32) -> i64 {
        let d = i64::from(self.hours_shown * 60);
        let twice =
            (i64::from(minute) - i64::from(self.first_hour * 60)) * i64::from(self.height) * 2;
        (twice + d).div_euclid(2 * d)
    }

    fn rows_of(&self, start: u32, end: u32) -> (i64, i64) {
        let a = self.row_of(start);
        (a, self.row_of(end).max(a + 1))
    }

    /// The day and wall-clock minute of the grid cell under the pointer, to the quarter hour
    /// before it; none off the hours (the labels, the all-day strip, past the last hour).
    pub fn slot_at(&self, column: u16, row: u16) -> Option<(NaiveDate, u32)> {
        let day = self
            .columns
            .iter()
            .position(|&(x, w)| (x..x + w).contains(&column))
            .map(|i| self.days[i])?;
        if !(self.top..self.top + self.height).contains(&row) || self.height == 0 {
            return None;
        }
        let minute = self.first_hour * 60
            + u32::from(row - self.top) * self.hours_shown * 60 / u32::from(self.height);
        Some((day, minute / 15 * 15))
    }

    /// The event drawn under a screen cell (a timed event or an all-day bar), and its day.
    pub fn event_at(&self, column: u16, row: u16) -> Option<(NaiveDate, usize)> {
        let hit = |r: &Rect| (r.x..r.right()).contains(&column) && (r.y..r.bottom()).contains(&row);
        if let Some(&(index, _, _)) = self.bars.iter().find(|(_, r, _)| hit(r)) {
            // An all-day bar belongs to the day under the pointer.
            let day = self
                .columns
                .iter()
                .position(|&(x, w)| (x..x + w).contains(&column))
                .map(|i| self.days[i])?;
            return Some((day, index));
        }
        // The last drawn is on top where rows overlap.
        self.events
            .iter()
            .rev()
            .find(|e| hit(&e.rect))
            .map(|e| (e.day, e.placed.index))
    }
}

/// What the grid is laid out from.
pub struct GridInput<'a> {
    /// The events read.
    pub events: &'a [CachedEvent],
    /// The configuration.
    pub config: &'a Config,
    /// The first day shown.
    pub first: NaiveDate,
    /// The last day shown.
    pub last: NaiveDate,
    /// The selected day.
    pub selected: NaiveDate,
    /// The selected event, as an index into `events`.
    pub selected_index: Option<usize>,
    /// Where the user scrolled the grid to, if they did.
    pub grid_hour: Option<u32>,
}

/// The width of the second zone's hour labels.
pub const SECOND_W: u16 = 7;

/// Where everything of the week or day view goes in `area`; `None` when it does not fit.
pub fn layout(input: &GridInput, area: Rect) -> Option<GridLayout> {
    let GridInput {
        events,
        config,
        first,
        last,
        selected,
        selected_index,
        grid_hour,
    } = *input;
    let days: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
    // The hour labels, and the second zone's beside them (`14:30 ` or ` 2:30p `).
    let hour_w: u16 = if config.display.hour12 { 5 } else { 6 };
    let label_w = hour_w + config.ui.second_zone.map_or(0, |_| SECOND_W);
    let columns = day_columns(area, label_w, days.len());
    if area.height < 4 || columns.is_empty() {
        return None;
    }
    // The all-day strip: lanes of bars, as many as fit in its rows.
    let strip = strip_events(events, &config.display, first, last);
    let lanes = strip_lanes(&strip);
    let strip_rows = lanes
        .len()
        .min(MAX_STRIP_ROWS)
        .min(area.height as usize / 4);
    let mut bars = Vec::new();
    let mut more = None;
    for (row, lane) in lanes.iter().take(strip_rows).enumerate() {
        let y = area.y + 1 + row as u16;
        let hidden = lanes.len() - strip_rows;
        if row + 1 == strip_rows && hidden > 0 {
            let x = columns[0].0;
            more = Some((Rect::new(x, y, area.right() - x, 1), hidden + 1));
            break;
        }
        for &(index, a, b) in lane {
            let from = days.iter().position(|d| *d >= a).unwrap_or(0);
            let to = days.iter().rposition(|d| *d <= b).unwrap_or(days.len() - 1);
            let x = columns[from].0;
            let w = columns[to].0 + columns[to].1 - x - 1;
            bars.push((index, Rect::new(x, y, w, 1), a < first));
        }
    }
    // The grid: the hours that fit at a row or more each (the whole day when it can), scrolled
    // where the user scrolled it, else to keep the selected event in sight.
    let top = area.y + 1 + strip_rows as u16;
    let height = area.bottom().saturating_sub(top);
    let hours_shown = u32::from(height).clamp(1, 24);
    let placed: Vec<(NaiveDate, Vec<Placed>)> = days
        .iter()
        .map(|d| (*d, place_day(events, &config.display, *d)))
        .collect();
    let focus = placed
        .iter()
        .find(|(d, _)| *d == selected)
        .and_then(|(_, p)| p.iter().find(|p| Some(p.index) == selected_index));
    let first_hour = match grid_hour {
        Some(hour) => hour.min(24 - hours_shown),
        None => first_hour(focus, hours_shown),
    };
    let mut grid = GridLayout {
        days,
        selected_index,
        columns,
        label_w,
        bars,
        more,
        top,
        height,
        first_hour,
        hours_shown,
        events: Vec::new(),
        hidden: Vec::new(),
    };
    let height = i64::from(grid.height);
    for ((day, placed), &(x, w)) in placed.into_iter().zip(&grid.columns) {
        // Columns are shared by the events that share rows on screen, not minutes: at a row an
        // hour, 10:00–11:00 and 11:00–12:00 meet at no row and need no sharing, while
        // 10:00–10:15 and 10:30–11:00 share one and stand side by side.
        let mut rows: Vec<((i64, i64), Placed)> = placed
            .into_iter()
            .map(|p| (grid.rows_of(p.start, p.end), p))
            .collect();
        rows.sort_by_key(|((a, _), _)| *a);
        let columns = crate::timegrid::assign_columns(rows.iter().map(|(r, _)| *r));
        // A box then grows down into the rows its end reaches, as long as no box starts there
        // (a 13:00–14:30 event at a row an hour takes the 14:00 row when it is free).
        let starts: Vec<i64> = rows.iter().map(|((a, _), _)| *a).collect();
        for ((a, b), p) in &mut rows {
            let next_start = starts.iter().copied().filter(|s| *s >= *b).min();
            let reach = grid.row_of_end(p.end);
            *b = (*b)
                .max(reach.min(next_start.unwrap_or(i64::MAX)))
                .max(*a + 1);
        }
        let (mut above, mut below) = (0, 0);
        for (((a, b), mut p), (column, columns)) in rows.into_iter().zip(columns) {
            if b <= 0 {
                above += 1;
                continue;
            }
            if a >= height {
                below += 1;
                continue;
            }
            (p.column, p.columns) = (column, columns);
            let sub = (w.saturating_sub(1) as usize / columns.max(1)).max(1) as u16;
            let ex = x + sub * column as u16;
            let ew = if column + 1 == columns {
                (x + w.saturating_sub(1)).saturating_sub(ex).max(1)
            } else {
                sub.saturating_sub(1).max(1)
            };
            let (top_row, bottom_row) = (a.max(0), b.min(height));
            let rect = Rect::new(ex, top + top_row as u16, ew, (bottom_row - top_row) as u16);
            grid.events.push(GridEvent {
                day,
                placed: p,
                rect,
                cut_above: a < 0,
            });
        }
        grid.hidden.push((above, below));
    }
    Some(grid)
}

/// The x and width of each day's column, right of the hour labels.
fn day_columns(area: Rect, label_w: u16, days: usize) -> Vec<(u16, u16)> {
    let left = area.x + label_w;
    let room = area.right().saturating_sub(left);
    if days == 0 || room < days as u16 {
        return Vec::new();
    }
    (0..days as u16)
        .map(|i| {
            let x = left + room * i / days as u16;
            let next = left + room * (i + 1) / days as u16;
            (x, next - x)
        })
        .collect()
}

/// The strip's bars in lanes: each bar in the first lane where it does not overlap another.
fn strip_lanes(strip: &[(usize, NaiveDate, NaiveDate)]) -> Vec<Vec<(usize, NaiveDate, NaiveDate)>> {
    let mut lanes: Vec<Vec<(usize, NaiveDate, NaiveDate)>> = Vec::new();
    for &bar in strip {
        match lanes
            .iter_mut()
            .find(|lane| lane.last().is_none_or(|last| last.2 < bar.1))
        {
            Some(lane) => lane.push(bar),
            None => lanes.push(vec![bar]),
        }
    }
    lanes
}

/// The first hour the grid shows: the working day, moved just enough to show the selected event.
fn first_hour(focus: Option<&Placed>, hours_shown: u32) -> u32 {
    let latest = 24 - hours_shown;
    let mut first = WORK_START_HOUR.min(latest);
    if let Some(p) = focus {
        let start_hour = p.start / 60;
        let end_hour = p.end.min(DAY_MINUTES - 1).div_ceil(60);
        if start_hour < first {
            first = start_hour;
        } else if end_hour > first + hours_shown {
            first = end_hour.saturating_sub(hours_shown).min(start_hour);
        }
    }
    first.min(latest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placed(start: u32, end: u32) -> Placed {
        Placed {
            index: 0,
            start,
            end,
            column: 0,
            columns: 1,
        }
    }

    #[test]
    fn the_grid_starts_at_work_and_moves_to_show_the_selection() {
        assert_eq!(first_hour(None, 10), 8);
        assert_eq!(first_hour(Some(&placed(6 * 60, 7 * 60)), 10), 6);
        assert_eq!(first_hour(Some(&placed(20 * 60, 21 * 60)), 10), 11);
        assert_eq!(first_hour(Some(&placed(23 * 60, DAY_MINUTES)), 10), 14);
        assert_eq!(first_hour(Some(&placed(9 * 60, 10 * 60)), 10), 8);
        assert_eq!(first_hour(None, 24), 0, "a tall grid shows the whole day");
    }

    #[test]
    fn columns_share_the_room_and_lanes_do_not_overlap() {
        let cols = day_columns(Rect::new(0, 0, 76, 10), 6, 7);
        assert_eq!(cols.len(), 7);
        assert_eq!(cols[0].0, 6);
        assert_eq!(cols[6].0 + cols[6].1, 76);
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let lanes = strip_lanes(&[
            (0, d("2026-11-23"), d("2026-11-25")),
            (1, d("2026-11-24"), d("2026-11-24")),
            (2, d("2026-11-26"), d("2026-11-27")),
        ]);
        assert_eq!(lanes.len(), 2);
        assert_eq!(lanes[0].iter().map(|b| b.0).collect::<Vec<_>>(), [0, 2]);
    }
}
