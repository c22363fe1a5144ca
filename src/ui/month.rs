//! Drawing the month view: a grid of week rows, each day with its events.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::app::App;
use super::geometry::month_cells;
use super::strings;
use super::width::{cells, fit};
use crate::layout::{Placement, day_buckets, time_label, weekday_names};

/// Draws the month grid in `area`.
pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let grid = app.grid();
    let g = month_cells(area, &grid);
    let theme = &app.theme;
    for (i, name) in weekday_names(app.config.display.week_start)
        .iter()
        .enumerate()
    {
        let (x, w) = g.columns[i];
        frame.render_widget(
            Paragraph::new(Span::styled(
                fit(name, w.saturating_sub(1) as usize),
                theme.header(),
            )),
            Rect::new(x, area.y, w, 1),
        );
    }
    let buckets = day_buckets(
        &app.visible.events,
        &app.config.display,
        grid.start,
        grid.end(),
    );
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
            if !app.is_synced(day) {
                lines.push(Line::from(Span::styled(
                    fit(strings::NOT_SYNCED, inner),
                    theme.dim(),
                )));
            }
            let entries = buckets.get(&day).map(Vec::as_slice).unwrap_or_default();
            // Events the month did not read count too.
            let total = entries.len() + app.visible.hidden.get(&day).copied().unwrap_or(0);
            let room = h.saturating_sub(1) as usize;
            let shown = if total > room {
                room.saturating_sub(1).min(entries.len())
            } else {
                entries.len()
            };
            for entry in entries.iter().take(shown) {
                let c = &app.visible.events[entry.index];
                let color = app.calendar_color(&c.view);
                let subject = &*app.shown_title(c);
                let mut line = match entry.placement {
                    Placement::SpanStart | Placement::SpanContinues => {
                        let prefix = if entry.placement == Placement::SpanContinues {
                            "→ "
                        } else {
                            ""
                        };
                        let time = time_label(&c.event, entry.placement, &app.config.display);
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
                        let time = time_label(&c.event, entry.placement, &app.config.display);
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
                } else if c.event.declined() {
                    line = line.patch_style(theme.dim());
                }
                if day == app.selected && Some(entry.index) == selected_index {
                    // The agenda's emphasis: seen on a coloured bar too, and without colour.
                    line = line.patch_style(theme.selected());
                }
                lines.push(line);
            }
            if total > shown {
                lines.push(Line::from(Span::styled(
                    more_label(total - shown, inner),
                    theme.dim(),
                )));
            }
            frame.render_widget(Paragraph::new(lines), cell);
        }
    }
}

/// `+3 more`, or `+3` where a cell is too narrow for it: never past the cell.
fn more_label(count: usize, width: usize) -> String {
    let long = format!("+{count} more");
    if cells(&long) <= width {
        long
    } else {
        fit(&format!("+{count}"), width)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_labels_never_leave_their_cell() {
        assert_eq!(more_label(3, 10), "+3 more");
        assert_eq!(more_label(24, 6), "+24");
        assert_eq!(more_label(1234, 3), "+1…");
    }
}
