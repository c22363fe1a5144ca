//! Drawing the week and day views: a header of days, the all-day strip, and the time grid with
//! hour labels, events where `grid` puts them and the current time marked on today.

use chrono::Timelike;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::app::App;
use super::strings;
use super::width::fit;
use crate::config::ViewKind;
use crate::days::clock;

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let Some(grid) = app.time_grid(area) else {
        return;
    };
    let theme = &app.theme;
    // The header: one label per day.
    for (day, &(x, w)) in grid.days.iter().zip(&grid.columns) {
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
        frame.render_widget(
            Paragraph::new(Span::styled(fit(&text, w as usize), style)),
            Rect::new(x, area.y, w, 1),
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
        }
        if Some(index) == selected_index {
            style = style.patch(theme.selected());
        }
        let w = rect.width as usize;
        let text = fit(&format!("{prefix}{}", c.event.title()), w);
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
    for h in 0..grid.hours_shown {
        let hour = grid.first_hour + h;
        let y = top + grid.row_of(hour * 60) as u16;
        if y >= area.bottom() {
            break;
        }
        let label = hour_label(hour, app.config.hour12);
        frame.render_widget(
            Paragraph::new(Span::styled(label, theme.dim())),
            Rect::new(area.x, y, label_w, 1),
        );
    }
    // Now, on today: a line across the day's column under the events.
    if let Some(i) = grid.days.iter().position(|d| *d == app.today) {
        let local = app.config.zone.local(app.now);
        let row = grid.row_of(local.hour() * 60 + local.minute());
        if (0..i64::from(height)).contains(&row) {
            let (x, w) = grid.columns[i];
            let y = top + row as u16;
            frame.render_widget(
                Paragraph::new(Span::styled("─".repeat(w as usize), theme.today())),
                Rect::new(x, y, w, 1),
            );
            let now = format!("{}{}", clock(&app.config, app.now), strings::NOW);
            frame.render_widget(
                Paragraph::new(Span::styled(now, theme.today())),
                Rect::new(area.x, y, label_w, 1),
            );
        }
    }
    for (day, p, rect) in &grid.events {
        let rect = *rect;
        let c = &app.visible.events[p.index];
        let color = app.calendar_color(&c.view);
        let mut style = theme.span(color);
        if c.event.cancelled {
            style = style.patch(theme.cancelled());
        }
        if *day == app.selected && Some(p.index) == selected_index {
            style = style.patch(theme.selected()).add_modifier(Modifier::BOLD);
        }
        let time = match c.event.span() {
            Some((start, _)) if p.start > 0 || app.config.zone.date_of(start) == *day => {
                clock(&app.config, start)
            }
            _ => "→".to_owned(),
        };
        // Too narrow for words (many overlapping events): a bar in the calendar's colour.
        let text = if rect.width < 4 {
            "▌".repeat(rect.height as usize)
        } else {
            format!("{time} {}", crate::text::line(c.event.title()))
        };
        frame.render_widget(Clear, rect);
        if rect.height == 1 {
            let line = fit(&text, rect.width as usize);
            frame.render_widget(Paragraph::new(line).style(style), rect);
            continue;
        }
        // The rows below the words show how long it runs, with or without colour.
        let mut lines = vec![Line::from(text)];
        lines.extend((1..rect.height).map(|_| Line::from("│")));
        frame.render_widget(
            Paragraph::new(lines).style(style).wrap(Wrap { trim: true }),
            rect,
        );
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
