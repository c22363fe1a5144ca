//! Drawing the week and day views: a header of days, the all-day strip, and the time grid with
//! hour labels, events where `grid` puts them and the current time marked on today.

use chrono::{DateTime, Timelike, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::app::App;
use super::strings;
use super::view::ViewKind;
use super::width::{cells, fit, wrap_box};
use crate::days::clock;

/// Draws the week or day view in `area`.
pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let Some(grid) = app.time_grid(area) else {
        return;
    };
    let theme = &app.theme;
    // The header: one label per day, and marks for its events above and below the hours shown.
    for ((day, &(x, w)), &(above, below)) in grid.days.iter().zip(&grid.columns).zip(&grid.hidden) {
        let mut style = theme.header();
        if *day == app.today {
            style = theme.today();
        }
        if *day == app.selected {
            style = style.patch(theme.selected());
        }
        let text = if app.view == ViewKind::Day {
            day.format("%A %-d %B").to_string()
        } else {
            day.format("%a %-d").to_string()
        };
        let marks = hidden_marks(above, below, app.view == ViewKind::Day);
        // The column's last cell stays free, as between the events under it.
        let inner = (w as usize).saturating_sub(1).max(1);
        let room = inner.saturating_sub(cells(&marks) + usize::from(!marks.is_empty()));
        let label = fit(&text, if marks.is_empty() { w as usize } else { room });
        let pad = inner.saturating_sub(cells(&label) + cells(&marks));
        let mut spans = vec![Span::styled(label, style)];
        if !marks.is_empty() {
            spans.push(Span::raw(" ".repeat(pad)));
            spans.push(Span::styled(marks, theme.accent()));
        }
        frame.render_widget(
            Paragraph::new(Line::from(spans)),
            Rect::new(x, area.y, w, 1),
        );
    }
    // Over the hour labels, the zones they are in, when a second zone is shown.
    if let Some(second) = app.config.ui.second_zone {
        let at = app.config.display.zone.midnight(app.selected) + chrono::Duration::hours(12);
        let first = app
            .config
            .display
            .zone
            .named()
            .map(|z| at.with_timezone(&z).format("%Z").to_string())
            .unwrap_or_default();
        let second = at.with_timezone(&second).format("%Z").to_string();
        let hour_w = (grid.label_w - super::grid::SECOND_W) as usize;
        let text = format!("{:<hour_w$}{second}", fit(&first, hour_w.saturating_sub(1)));
        frame.render_widget(
            Paragraph::new(Span::styled(fit(&text, grid.label_w as usize), theme.dim())),
            Rect::new(area.x, area.y, grid.label_w, 1),
        );
    }
    let selected_index = grid.selected_index;
    for &(index, rect, continued) in &grid.bars {
        let c = &app.visible.events[index];
        let color = app.calendar_color(&c.view);
        let prefix = if continued { "← " } else { "" };
        let mut style = theme.span(color);
        if c.event.cancelled {
            style = style.patch(theme.cancelled());
        } else if c.event.declined() {
            style = style.patch(theme.dim());
        }
        if Some(index) == selected_index {
            style = style.patch(theme.selected());
        }
        let w = rect.width as usize;
        let text = fit(&format!("{prefix}{}", app.shown_title(c)), w);
        let pad = w.saturating_sub(super::width::cells(&text));
        frame.render_widget(
            Paragraph::new(Span::styled(format!("{text}{}", " ".repeat(pad)), style)),
            rect,
        );
    }
    if let Some((rect, count)) = grid.more {
        frame.render_widget(
            Paragraph::new(Span::styled(format!("+{count} more all-day"), theme.dim())),
            rect,
        );
    }
    let (top, height, label_w) = (grid.top, grid.height, grid.label_w);
    let mut label_rows = Vec::with_capacity(grid.hours_shown as usize);
    for h in 0..grid.hours_shown {
        let hour = grid.first_hour + h;
        let y = top + grid.row_of(hour * 60) as u16;
        if y >= area.bottom() {
            break;
        }
        label_rows.push(y);
        let label = hour_label(hour, app.config.display.hour12);
        frame.render_widget(
            Paragraph::new(Span::styled(label, theme.dim())),
            Rect::new(area.x, y, label_w, 1),
        );
        if let Some(second) = app.config.ui.second_zone {
            // The selected day's: on a day the clocks change, the offset is that day's.
            let local = app
                .selected
                .and_hms_opt(hour.min(23), 0, 0)
                .expect("a valid hour");
            let at = app
                .config
                .display
                .zone
                .instant(local)
                .with_timezone(&second);
            let text = second_label(at.time(), app.config.display.hour12);
            let x = area.x + label_w - super::grid::SECOND_W;
            frame.render_widget(
                Paragraph::new(Span::styled(text, theme.accent())),
                Rect::new(x, y, super::grid::SECOND_W - 1, 1),
            );
        }
    }
    // Now, on today: a line across the day's column under the events, and a mark in the
    // label column; the time itself only where no hour label is (it never hides one).
    if let Some(i) = grid.days.iter().position(|d| *d == app.today) {
        let local = app.config.display.zone.local(app.now);
        let row = grid.row_of(local.hour() * 60 + local.minute());
        if (0..i64::from(height)).contains(&row) {
            let (x, w) = grid.columns[i];
            let y = top + row as u16;
            frame.render_widget(
                Paragraph::new(Span::styled("─".repeat(w as usize), theme.today())),
                Rect::new(x, y, w, 1),
            );
            let (text, at) = if label_rows.contains(&y) {
                (strings::NOW.to_owned(), area.x + label_w - 1)
            } else {
                (
                    fit(
                        &format!("{}{}", clock(&app.config.display, app.now), strings::NOW),
                        label_w as usize,
                    ),
                    area.x,
                )
            };
            let text_w = cells(&text) as u16;
            frame.render_widget(
                Paragraph::new(Span::styled(text, theme.today())),
                Rect::new(at, y, text_w, 1),
            );
        }
    }
    for event in &grid.events {
        let (rect, p) = (event.rect, &event.placed);
        let c = &app.visible.events[p.index];
        let color = app.calendar_color(&c.view);
        let mut style = theme.span(color);
        if c.event.cancelled {
            style = style.patch(theme.cancelled());
        } else if c.event.declined() {
            style = style.patch(theme.dim());
        }
        if event.day == app.selected && Some(p.index) == selected_index {
            style = style.patch(theme.selected()).add_modifier(Modifier::BOLD);
        }
        let time = match c.event.span() {
            Some((start, _))
                if p.start > 0 || app.config.display.zone.date_of(start) == event.day =>
            {
                clock(&app.config.display, start)
            }
            _ => "→".to_owned(),
        };
        let above = if event.cut_above { "↑" } else { "" };
        let (w, h) = (rect.width as usize, rect.height as usize);
        // Too narrow for words (many overlapping events): a bar in the calendar's colour.
        // Else the words wrapped inside the box, never past it; the rows below them show how
        // long it runs, with or without colour.
        let mut lines: Vec<Line> = if w < 4 {
            (0..h).map(|_| Line::from("▌")).collect()
        } else {
            wrap_box(&format!("{above}{time} {}", app.shown_title(c)), w, h)
                .into_iter()
                .map(Line::from)
                .collect()
        };
        lines.resize_with(h, || Line::from("│"));
        frame.render_widget(Clear, rect);
        frame.render_widget(Paragraph::new(lines).style(style), rect);
    }
    draw_busy(frame, app, &grid, area);
}

/// Others' busy time (`f`): a bar in each day column's last cell, free between the events,
/// over the rows when any of them is busy.
fn draw_busy(frame: &mut Frame, app: &App, grid: &super::grid::GridLayout, area: Rect) {
    let Some(busy) = &app.busy else {
        return;
    };
    let zone = &app.config.display.zone;
    let (top, height) = (grid.top, i64::from(grid.height));
    for (day, &(x, w)) in grid.days.iter().zip(&grid.columns) {
        if w < 2 {
            continue;
        }
        let (midnight, next) = zone.days_range(*day, *day);
        let mut rows = vec![false; height.max(0) as usize];
        for &(start, end) in &busy.busy {
            if end <= midnight || start >= next {
                continue;
            }
            let minute = |t: DateTime<Utc>| {
                let local = zone.local(t);
                local.hour() * 60 + local.minute()
            };
            let from = if start <= midnight { 0 } else { minute(start) };
            let to = if end >= next { 24 * 60 } else { minute(end) };
            // Every row the time touches: the one its last minute is in included.
            let a = grid.row_of(from);
            let b = (grid.row_of(to.saturating_sub(1)) + 1).max(a + 1);
            for row in a.max(0)..b.min(height) {
                rows[row as usize] = true;
            }
        }
        for (row, _) in rows.iter().enumerate().filter(|(_, busy)| **busy) {
            let y = top + row as u16;
            if y >= area.bottom() {
                break;
            }
            frame.render_widget(
                Paragraph::new(Span::styled("▐", app.theme.accent())),
                Rect::new(x + w - 1, y, 1, 1),
            );
        }
    }
}

/// The header's marks for a day's events hidden above and below the hours shown.
fn hidden_marks(above: usize, below: usize, wide: bool) -> String {
    let mark = |arrow: &str, n: usize, word: &str| match n {
        0 => String::new(),
        n if wide => format!("{arrow}{n} {word}"),
        n => format!("{arrow}{n}"),
    };
    let marks = [mark("▲", above, "earlier"), mark("▼", below, "later")];
    marks
        .into_iter()
        .filter(|m| !m.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The second zone's time at an hour label: minutes always (zones half an hour apart).
fn second_label(t: chrono::NaiveTime, hour12: bool) -> String {
    if hour12 {
        let h = match t.hour() % 12 {
            0 => 12,
            h => h,
        };
        format!(
            "{h:>2}:{:02}{}",
            t.minute(),
            if t.hour() < 12 { "a" } else { "p" }
        )
    } else {
        format!("{:02}:{:02}", t.hour(), t.minute())
    }
}

fn hour_label(hour: u32, hour12: bool) -> String {
    if hour12 {
        let h = match hour % 12 {
            0 => 12,
            h => h,
        };
        format!("{h:>2}{}", if hour < 12 { "a" } else { "p" })
    } else {
        format!("{hour:02}:00")
    }
}
