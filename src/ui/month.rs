//! The month view: a grid of week rows, each day with its events.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::app::App;
use super::width::{cells, fit};
use crate::layout::{MonthGrid, Placement, day_buckets, time_label, weekday_names};

/// Where each column and week row sits in `area`.
pub struct Geometry {
    pub columns: [(u16, u16); 7],
    /// (y, height) of each week row; the weekday header is the line above the first.
    pub rows: Vec<(u16, u16)>,
}

pub fn geometry(area: Rect, grid: &MonthGrid) -> Geometry {
    let base = area.width / 7;
    let extra = area.width % 7;
    let mut x = area.x;
    let columns = std::array::from_fn(|i| {
        let w = base + u16::from((i as u16) < extra);
        let col = (x, w);
        x += w;
        col
    });
    let body = area.height.saturating_sub(1);
    let weeks = grid.weeks.max(1) as u16;
    let per = body / weeks;
    let spare = body % weeks;
    let mut y = area.y + 1;
    let rows = (0..weeks)
        .map(|i| {
            let h = per + u16::from(i < spare);
            let row = (y, h);
            y += h;
            row
        })
        .collect();
    Geometry { columns, rows }
}

/// The main area of the screen (between the title and the status bar).
pub fn main_area(app: &App) -> Rect {
    let (w, h) = app.size;
    let main = Rect::new(0, 1, w, h.saturating_sub(2));
    if app.overlay == super::app::Overlay::Detail && w >= super::detail::SIDE_PANE_MIN_WIDTH {
        Rect::new(0, 1, w - super::detail::side_width(w), h.saturating_sub(2))
    } else {
        main
    }
}

/// The day under a mouse click, if the click hit the grid.
pub fn day_at(app: &App, column: u16, row: u16) -> Option<chrono::NaiveDate> {
    let grid = app.grid();
    let g = geometry(main_area(app), &grid);
    let col = g
        .columns
        .iter()
        .position(|&(x, w)| column >= x && column < x + w)?;
    let week = g.rows.iter().position(|&(y, h)| row >= y && row < y + h)?;
    Some(grid.day(week as u32, col as u32))
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let grid = app.grid();
    let g = geometry(area, &grid);
    let theme = &app.theme;
    for (i, name) in weekday_names(app.config.week_start).iter().enumerate() {
        let (x, w) = g.columns[i];
        frame.render_widget(
            Paragraph::new(Span::styled(
                fit(name, w.saturating_sub(1) as usize),
                theme.header(),
            )),
            Rect::new(x, area.y, w, 1),
        );
    }
    let buckets = day_buckets(&app.visible.events, &app.config, grid.start, grid.end());
    let selected_day = app.day_events(app.selected);
    let selected_index = selected_day.get(app.selected_event).copied();
    for (week, &(y, h)) in g.rows.iter().enumerate() {
        for (col, &(x, w)) in g.columns.iter().enumerate() {
            let day = grid.day(week as u32, col as u32);
            let cell = Rect::new(x, y, w, h);
            let inner = w.saturating_sub(1) as usize;
            let mut lines = Vec::with_capacity(h as usize);
            let mut number_style = if grid.in_month(day) {
                Style::new().add_modifier(Modifier::BOLD)
            } else {
                theme.dim()
            };
            if day == app.today {
                number_style = theme.today();
            }
            if day == app.selected {
                number_style = number_style.patch(theme.selected());
            }
            let label = format!("{:>2}", day.format("%-d"));
            let mut head = vec![Span::styled(label, number_style)];
            if day == app.today && inner >= 9 {
                head.push(Span::styled(
                    " today",
                    theme.today().remove_modifier(Modifier::UNDERLINED),
                ));
            }
            lines.push(Line::from(head));
            let entries = buckets.get(&day).map(Vec::as_slice).unwrap_or_default();
            let room = h.saturating_sub(1) as usize;
            let shown = if entries.len() > room {
                room.saturating_sub(1)
            } else {
                entries.len()
            };
            for entry in entries.iter().take(shown) {
                let c = &app.visible.events[entry.index];
                let cal = app.config.calendars.iter().find(|s| s.key == c.view);
                let color = cal.and_then(|s| s.color.as_deref());
                let subject = c.event.subject.as_deref().unwrap_or("(no subject)");
                let mut line = match entry.placement {
                    Placement::SpanStart | Placement::SpanContinues => {
                        let prefix = if entry.placement == Placement::SpanContinues {
                            "→ "
                        } else {
                            ""
                        };
                        let time = time_label(&c.event, entry.placement, &app.config);
                        let text = if time.is_empty() || time == "→" {
                            format!("{prefix}{subject}")
                        } else {
                            format!("{time} {subject}")
                        };
                        let mut text = fit(&text, inner);
                        let pad = inner.saturating_sub(cells(&text));
                        text.push_str(&" ".repeat(pad));
                        Line::from(Span::styled(text, theme.span(color)))
                    }
                    Placement::Timed | Placement::TimedContinues => {
                        let time = time_label(&c.event, entry.placement, &app.config);
                        let tw = cells(&time);
                        let rest = inner.saturating_sub(tw + 1);
                        Line::from(vec![
                            Span::styled(time, theme.calendar(color)),
                            Span::raw(" "),
                            Span::raw(fit(subject, rest)),
                        ])
                    }
                };
                if c.event.cancelled {
                    line = line.patch_style(theme.cancelled());
                }
                if day == app.selected && Some(entry.index) == selected_index {
                    line = line.patch_style(Style::new().add_modifier(Modifier::UNDERLINED));
                }
                lines.push(line);
            }
            if entries.len() > shown {
                lines.push(Line::from(Span::styled(
                    format!("+{} more", entries.len() - shown),
                    theme.dim(),
                )));
            }
            frame.render_widget(Paragraph::new(lines), cell);
        }
    }
}
