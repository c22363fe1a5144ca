//! Drawing the agenda view: days with their events in order, from the selected day on.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::app::App;
use super::strings;
use super::width::fit;
use crate::layout::{AgendaRow, Placement, TUI_MARKS, day_times};

/// Draws the agenda in `area`.
pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let theme = &app.theme;
    let width = area.width as usize;
    let mut lines: Vec<Line> = Vec::new();
    for row in app.agenda_rows(area.height as usize) {
        match row {
            AgendaRow::Day(day) => {
                let mut head = Style::new().add_modifier(Modifier::BOLD);
                if day == app.today {
                    head = theme.today();
                }
                if day == app.selected {
                    head = head.patch(theme.selected());
                }
                let mut spans = vec![Span::styled(day.format("%a %-d %b %Y").to_string(), head)];
                if day == app.today {
                    spans.push(Span::styled(
                        "  today",
                        theme.today().remove_modifier(Modifier::UNDERLINED),
                    ));
                }
                lines.push(Line::from(spans));
            }
            AgendaRow::Empty(day) => {
                let text = if app.is_synced(day) {
                    "no events"
                } else {
                    strings::NOT_SYNCED
                };
                lines.push(Line::from(Span::styled(format!("  {text}"), theme.dim())));
            }
            AgendaRow::Event { day, pos, entry } => {
                let c = &app.visible.events[entry.index];
                let color = app.calendar_color(&c.view);
                let when = match (
                    entry.placement,
                    day_times(&c.event, day, &app.config.display),
                ) {
                    _ if c.event.all_day => "all day".to_owned(),
                    (Placement::SpanContinues | Placement::TimedContinues, _) => {
                        format!("{} cont.", TUI_MARKS.open)
                    }
                    (_, Some(times)) => times.range(TUI_MARKS),
                    (_, None) => String::new(),
                };
                let subject = &*app.shown_title(c);
                let location = c
                    .event
                    .location
                    .as_deref()
                    .map(|l| format!("  @ {}", fit(l, 40)))
                    .unwrap_or_default();
                // Room for the longest time range: `10:30am–11:30am` in 12-hour time.
                let when_width = if app.config.display.hour12 { 15 } else { 13 };
                let rest = width.saturating_sub(when_width + 3);
                let mut line = Line::from(vec![
                    Span::styled("▌", theme.calendar(color)),
                    Span::raw(format!(" {when:<when_width$} ")),
                    Span::raw(fit(
                        &format!("{}{location}", crate::text::line(subject)),
                        rest,
                    )),
                ]);
                if c.event.cancelled {
                    line = line.patch_style(theme.cancelled());
                } else if c.event.declined() || (ends_before(&c.event, app.now)) {
                    line = line.patch_style(theme.dim());
                }
                if day == app.selected && pos == app.selected_event {
                    line = line.patch_style(theme.selected());
                }
                lines.push(line);
            }
        }
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// Whether an event is over: the agenda dims what is past.
fn ends_before(e: &crate::model::Event, now: chrono::DateTime<chrono::Utc>) -> bool {
    e.span().is_some_and(|(_, end)| end <= now)
}
