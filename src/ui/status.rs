//! The title line and the status bar.

use chrono::Datelike;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::app::{AGENDA_DAYS, App, SyncActivity};
use super::geometry;
use super::strings;
use super::view::ViewKind;
use super::width::fit;
use crate::days::ago;

/// Draws the title line: the period shown and the view tabs.
pub fn draw_title(frame: &mut Frame, app: &App, area: Rect) {
    let theme = &app.theme;
    let heading = match app.view {
        ViewKind::Month => app.selected.format("%B %Y").to_string(),
        ViewKind::Week => {
            let first = app.week_start();
            format!(
                "{} – {}",
                first.format("%-d %b"),
                (first + chrono::Duration::days(6)).format("%-d %b %Y")
            )
        }
        ViewKind::Day => app.selected.format("%A %-d %B %Y").to_string(),
        ViewKind::Agenda => format!("from {}", app.selected.format("%a %-d %b %Y")),
    };
    let mut spans = Vec::new();
    // On a narrow terminal the heading matters more than the name.
    if geometry::title_shows_name(area.width) {
        spans.extend([
            Span::styled(geometry::TITLE_NAME, theme.title()),
            Span::raw(" "),
        ]);
    }
    for (kind, label, _) in geometry::title_tabs(area.width, app.view) {
        let style = if kind == app.view {
            theme.selected()
        } else {
            theme.dim()
        };
        spans.extend([Span::styled(label, style), Span::raw(" ")]);
    }
    spans.extend([Span::raw(" "), Span::styled(heading, theme.header())]);
    // Empty days outside the window are unknown, not free: the title says where it ends.
    let (first, last) = match app.view {
        ViewKind::Month => {
            let first = app.selected.with_day(1).unwrap_or(app.selected);
            let next = first.checked_add_months(chrono::Months::new(1));
            (first, next.map_or(first, |d| d - chrono::Duration::days(1)))
        }
        ViewKind::Week | ViewKind::Day => app.wanted_range(),
        ViewKind::Agenda => (
            app.selected,
            app.selected + chrono::Duration::days(AGENDA_DAYS - 1),
        ),
    };
    if !app.is_synced(first) || !app.is_synced(last) {
        let (from, to) = app.synced_days();
        spans.push(Span::styled(
            format!("  {}", strings::outside_window(from, to)),
            theme.dim(),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// `retry in 25 s` while a retry after a failure is waiting.
fn retry(app: &App) -> Option<String> {
    let at = app.sync.retry_at.filter(|at| *at > app.now)?;
    Some(format!(
        "retry in {} s",
        (at - app.now).num_seconds().max(1)
    ))
}

/// The reminder banner, above the status bar: the first reminder due, how many more wait, and
/// the keys that act on it.
pub fn draw_reminder(frame: &mut Frame, app: &App, area: Rect) {
    let Some(due) = app.reminders.first() else {
        return;
    };
    let (title, body) = crate::remind::deliver::words(&app.config, due, app.now);
    let more = match app.reminders.len() {
        1 => String::new(),
        n => format!(" (+{} more)", n - 1),
    };
    let keys = strings::reminder_hint();
    let room = (area.width as usize).saturating_sub(super::width::cells(&keys) + 1);
    let text = fit(&format!(" ⏰ {title}{more} · {body}"), room);
    let pad = room.saturating_sub(super::width::cells(&text));
    let line = Line::from(vec![
        Span::styled(format!("{text}{} ", " ".repeat(pad)), app.theme.today()),
        Span::styled(keys, app.theme.today()),
    ]);
    frame.render_widget(ratatui::widgets::Clear, area);
    frame.render_widget(Paragraph::new(line), area);
}

/// Draws the status bar: sync state, last round, a note, the account and the help key.
pub fn draw_status(frame: &mut Frame, app: &App, area: Rect) {
    let theme = &app.theme;
    let account = app
        .account
        .as_deref()
        .map(crate::text::line)
        .map(|s| s.into_owned())
        .unwrap_or_else(|| "not signed in".into());
    let (state, style) = match &app.sync.state {
        SyncActivity::Idle => ("● idle".to_owned(), theme.status_bar()),
        SyncActivity::Syncing { view, page } => {
            let name = app.config.calendar_name(view);
            (
                format!("⟳ syncing {} page {}", crate::text::line(name), page + 1),
                theme.status_bar(),
            )
        }
        SyncActivity::Waiting {
            until,
            kind,
            reason,
        } => (
            format!(
                "{} ({})",
                strings::waiting(*kind, &crate::days::clock(&app.config.display, *until)),
                crate::text::line(reason)
            ),
            theme.status_bar().patch(theme.error()),
        ),
        // The retry comes first: the message may be cut to fit.
        SyncActivity::Error(e) => (
            match retry(app) {
                Some(retry) => format!("⚠ {retry}: {}", crate::text::line(e)),
                None => format!("⚠ {}", crate::text::line(e)),
            },
            theme.status_bar().patch(theme.error()),
        ),
        SyncActivity::Offline(e) => (
            match retry(app) {
                Some(retry) => format!("⚠ offline, {retry}: {}", crate::text::line(e)),
                None => format!("⚠ offline: {}", crate::text::line(e)),
            },
            theme.status_bar().patch(theme.error()),
        ),
        SyncActivity::SignedOut => (
            strings::sign_in_needed(),
            theme.status_bar().patch(theme.error()),
        ),
    };
    let last = match (app.sync.last_completed(), app.sync.last_counts()) {
        _ if app.note.is_some() => app.note.clone().unwrap_or_default(),
        (Some(t), Some(c)) => format!(
            "synced {} (+{} ~{} −{})",
            ago(t, app.now),
            c.added,
            c.updated,
            c.removed
        ),
        (Some(t), None) => format!("synced {}", ago(t, app.now)),
        _ => "not synced yet".into(),
    };
    // What waits to be sent comes before the last round: it is the user's own work.
    let last = match waiting_words(app) {
        Some(waits) => format!("{waits} │ {last}"),
        None => last,
    };
    let hint = strings::help_hint();
    let hint = hint.as_str();
    let width = area.width as usize;
    let cells = super::width::cells;
    // The sync state matters most; then the last round; the account gets what is left.
    // The state (and an error) may take up to 3/5 of a wide bar.
    let state = fit(
        &state,
        width
            .saturating_sub(hint.len() + 4)
            .clamp(8, (width * 3 / 5).max(48)),
    );
    let middle = fit(
        &format!(" │ {last}"),
        width.saturating_sub(cells(&state) + hint.len() + 4),
    );
    let account_room = width.saturating_sub(cells(&state) + cells(&middle) + hint.len() + 4);
    let left = if account_room >= 6 {
        format!(" {} │ ", fit(&account, account_room))
    } else {
        " ".to_owned()
    };
    let used = cells(&left) + cells(&state) + cells(&middle);
    let pad = width.saturating_sub(used + hint.len());
    let line = Line::from(vec![
        Span::styled(left, theme.status_bar()),
        Span::styled(state, style),
        Span::styled(middle, theme.status_bar()),
        Span::styled(" ".repeat(pad), theme.status_bar()),
        Span::styled(hint, theme.status_bar()),
    ]);
    frame.render_widget(Paragraph::new(line).style(theme.status_bar()), area);
}

/// `◌ 2 to send (offline) · ⚠ 1 conflict`: what waits in the outbox and why it is not sent.
fn waiting_words(app: &App) -> Option<String> {
    use crate::store::OutboxState;
    let w = app.waiting();
    let mut parts = Vec::new();
    if w.to_send > 0 {
        let why = if w.read_only {
            " (signed in read-only)"
        } else if matches!(app.sync.state, SyncActivity::Offline(_)) {
            " (offline)"
        } else if app.sync.state == SyncActivity::SignedOut {
            " (signed out)"
        } else {
            ""
        };
        parts.push(format!(
            "{}{} to send{why}",
            super::app::mark_symbol(OutboxState::Queued),
            w.to_send
        ));
    }
    if w.failed > 0 {
        parts.push(format!(
            "{}{} failed",
            super::app::mark_symbol(OutboxState::Failed),
            w.failed
        ));
    }
    if w.conflicts > 0 {
        parts.push(format!(
            "{}{} conflict{}",
            super::app::mark_symbol(OutboxState::Conflict),
            w.conflicts,
            if w.conflicts == 1 { "" } else { "s" }
        ));
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}
