//! Drawing the detail pane of the selected event: a side pane on wide terminals, a popup
//! otherwise.

use std::num::NonZeroU16;

use ratatui::Frame;
use ratatui::buffer::{Buffer, CellDiffOption};
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::app::App;
use super::width::fit;
use super::{geometry, strings};
use crate::layout::when;
use crate::text;

fn response_mark(response: Option<&str>) -> &'static str {
    match response {
        Some("accepted") | Some("organizer") => "✓",
        Some("tentativelyAccepted") => "?",
        Some("declined") => "✗",
        _ => "·",
    }
}

/// Where the pane goes for these lines.
fn pane_area(app: &App, lines: &[Line]) -> Rect {
    let widths: Vec<usize> = lines.iter().map(Line::width).collect();
    geometry::detail_area(app.size, &widths)
}

/// The pane as drawn: its lines, where it goes, how many rows of it are past the bottom, and
/// the join link's line.
struct Pane {
    lines: Vec<Line<'static>>,
    area: Rect,
    /// Rows of text inside the borders, and how many more rows there are than fit.
    height: u16,
    overflow: u16,
    join_link: Option<(String, url::Url)>,
}

impl Pane {
    fn new(app: &App, lines: Vec<Line<'static>>, join_link: Option<(String, url::Url)>) -> Pane {
        let area = pane_area(app, &lines);
        let inner = area.width.saturating_sub(2).max(1) as usize;
        let rows: usize = lines.iter().map(|l| l.width().div_ceil(inner).max(1)).sum();
        let height = area.height.saturating_sub(2);
        let overflow = rows.saturating_sub(height as usize) as u16;
        Pane {
            lines,
            area,
            height,
            overflow,
            join_link,
        }
    }
}

/// The detail pane's rows of text, and how far it can scroll: what a page of the page keys is
/// and where End goes.
pub fn scroll_room(app: &App) -> (u16, u16) {
    let pane = pane(app);
    (pane.height, pane.overflow)
}

pub fn draw(frame: &mut Frame, app: &App) {
    let theme = &app.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.accent());
    let Pane {
        lines,
        area,
        overflow,
        join_link,
        ..
    } = pane(app);
    // A long event scrolls; the title says so while there is more than fits.
    let scroll = app.detail_scroll.min(overflow);
    let block = if overflow > 0 {
        block.title(strings::detail_scroll_title(scroll, overflow))
    } else {
        block.title(" Event ")
    };
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        area,
    );
    if app.hyperlinks
        && let Some((shown, url)) = join_link
    {
        hyperlink(frame.buffer_mut(), area, &shown, &url);
    }
}

/// What the pane shows for the selected event.
fn pane(app: &App) -> Pane {
    let theme = &app.theme;
    let Some(c) = app.selected_event() else {
        return Pane::new(app, vec![Line::from("No event selected.")], None);
    };
    let e = &c.event;
    let label = |s: &'static str| Span::styled(format!("{s:<10}"), theme.dim());
    let mut lines = vec![
        Line::from(Span::styled(
            text::line(e.title()).into_owned(),
            Style::new().add_modifier(Modifier::BOLD),
        )),
        Line::default(),
        Line::from(vec![label("When"), Span::raw(when(e, &app.config))]),
    ];
    if e.cancelled {
        lines.push(Line::from(vec![
            label("Status"),
            Span::styled("cancelled", theme.error()),
        ]));
    }
    let calendar = app.config.calendar_name(&c.view);
    lines.push(Line::from(vec![
        label("Calendar"),
        Span::raw(text::line(calendar).into_owned()),
    ]));
    if let Some(show) = &e.show_as {
        let mut s = text::line(show).into_owned();
        if let Some(r) = &e.response {
            s.push_str(&format!(", you: {}", text::line(r)));
        }
        lines.push(Line::from(vec![label("Show as"), Span::raw(s)]));
    }
    if let Some(l) = &e.location {
        lines.push(Line::from(vec![
            label("Where"),
            Span::raw(text::line(l).into_owned()),
        ]));
    }
    if let Some(o) = &e.organizer {
        lines.push(Line::from(vec![
            label("Organizer"),
            Span::raw(text::line(&o.display()).into_owned()),
        ]));
    }
    match e.kind.as_deref() {
        Some("occurrence") => lines.push(Line::from(vec![
            label("Repeats"),
            Span::raw("an occurrence of a recurring series"),
        ])),
        Some("exception") => lines.push(Line::from(vec![
            label("Repeats"),
            Span::raw("a changed occurrence of a recurring series"),
        ])),
        _ => {}
    }
    // The join link on one line of its own, never wrapped: cut to the pane's width if it must
    // be, with the whole link behind it as a hyperlink (`o` opens it, `y` copies it).
    let join = e
        .online_meeting_url
        .as_deref()
        .map(|raw| (raw, crate::links::web_url(raw)));
    let mut join_link = None;
    if let Some((raw, url)) = join {
        let inner = geometry::detail_area(app.size, &[]).width.saturating_sub(2) as usize;
        lines.push(Line::from(label("Join")));
        let shown = fit(url.as_ref().map_or(raw, |u| u.as_str()), inner);
        lines.push(Line::from(Span::styled(shown.clone(), theme.accent())));
        join_link = url.ok().map(|u| (shown, u));
    }
    if !e.categories.is_empty() {
        let cats: Vec<String> = e
            .categories
            .iter()
            .map(|c| text::line(c).into_owned())
            .collect();
        lines.push(Line::from(vec![label("Tags"), Span::raw(cats.join(", "))]));
    }
    if !e.attendees.is_empty() {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(
            format!("Attendees ({})", e.attendees.len()),
            theme.header(),
        )));
        for a in &e.attendees {
            let kind = match a.kind.as_deref() {
                Some("optional") => " (optional)",
                Some("resource") => " (room)",
                _ => "",
            };
            lines.push(Line::from(format!(
                " {} {}{kind}",
                response_mark(a.response.as_deref()),
                text::line(&a.person.display())
            )));
        }
    }
    // The full body when Graph sent one (read when the pane opened), else the preview.
    let body = match &app.detail_body {
        Some(((view, id), body)) if *view == c.view && *id == e.id => body.as_ref(),
        _ => None,
    };
    let notes = match body.or(e.body.as_ref()) {
        Some(body) => Some(body.text()),
        None => e.body_preview.clone(),
    };
    if let Some(notes) = notes.filter(|n| !n.trim().is_empty()) {
        lines.push(Line::default());
        for l in text::block(notes.trim_end()).lines() {
            lines.push(Line::from(l.to_owned()));
        }
    }
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        strings::detail_hint(),
        theme.dim(),
    )));
    Pane::new(app, lines, join_link)
}

/// Makes the row of `area` that shows `shown` a hyperlink to `url` (OSC 8): the first cell
/// carries the whole sequence and covers the text's width, which the other cells keep as plain
/// characters for the buffer's diff. Terminals without OSC 8 show the text alone.
pub fn hyperlink(buf: &mut Buffer, area: Rect, shown: &str, url: &url::Url) {
    // One cell per character (a URL is ASCII, the cut mark one cell), so cells spell it.
    let width = shown.chars().count() as u16;
    let Some(forced) = NonZeroU16::new(width) else {
        return;
    };
    if super::width::cells(shown) != usize::from(width) {
        return;
    }
    let x = area.x + 1;
    if x + width > area.right() {
        return;
    }
    for y in area.top()..area.bottom() {
        let row: String = (x..x + width).map(|cx| buf[(cx, y)].symbol()).collect();
        if row == shown {
            buf[(x, y)]
                .set_symbol(&crate::links::osc8(url, shown))
                .set_diff_option(CellDiffOption::ForcedWidth(forced));
            return;
        }
    }
}
