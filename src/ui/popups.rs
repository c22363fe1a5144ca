//! Drawing the popups over the views: help (from the key table), sign-in, search.

use ratatui::Frame;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::app::{App, CalendarsPanel, Form, FormPurpose, GoTo, InvitationsPanel, Search, SignIn};
use super::geometry::centered;
use super::keys::{Command, help_rows, hint as keys_hint};
use super::overlay::FieldValue;
use super::strings;
use super::width::fit;

/// Draws the help over the view, scrolled as `help` is.
pub fn draw_help(frame: &mut Frame, app: &App, help: &super::overlay::Help) {
    let mut rows = help_rows();
    rows.push((strings::MOUSE.to_owned(), strings::MOUSE_HELP));
    let cells = super::width::cells;
    // Sized to its text: the keys column as wide as its widest keys, the popup as wide as its
    // widest row where the terminal allows, else the descriptions wrap under themselves.
    let keys_w = rows.iter().map(|(k, _)| cells(k)).max().unwrap_or(0) + 2;
    let widest = rows.iter().map(|(_, h)| cells(h)).max().unwrap_or(0);
    let width = (1 + keys_w + widest + 1 + 2) as u16;
    let width = width.min(app.size.0.saturating_sub(2));
    let help_w = (width as usize).saturating_sub(2 + 1 + keys_w + 1).max(8);
    let mut lines: Vec<Line> = Vec::new();
    let last = rows.len() - 1;
    for (i, (keys, help)) in rows.into_iter().enumerate() {
        let style = if i == last {
            app.theme.dim()
        } else {
            app.theme.accent()
        };
        let wrapped = super::width::wrap_box(help, help_w, usize::MAX);
        for (j, part) in wrapped.into_iter().enumerate() {
            let label = if j == 0 { keys.as_str() } else { "" };
            let pad = keys_w.saturating_sub(cells(label));
            lines.push(Line::from(vec![
                Span::styled(format!(" {label}{}", " ".repeat(pad)), style),
                Span::raw(part),
            ]));
        }
    }
    let area = centered(app.size, width, lines.len() as u16 + 2);
    frame.render_widget(Clear, area);
    // A short terminal shows part of it at a time: it scrolls, and says so.
    let visible = area.height.saturating_sub(2);
    let overflow = (lines.len() as u16).saturating_sub(visible);
    let scroll = help.scroll.min(overflow);
    let title = if overflow > 0 {
        format!(
            " Keys ({}{} scroll) ",
            keys_hint(Command::Up),
            keys_hint(Command::Down)
        )
    } else {
        " Keys ".to_owned()
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title)
        .border_style(app.theme.accent());
    frame.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), area);
}

/// Draws the sign-in panel as the sign-in stands.
pub fn draw_signin(frame: &mut Frame, app: &App) {
    let area = centered(app.size, 64, 9);
    frame.render_widget(Clear, area);
    let theme = &app.theme;
    let lines = match &app.signin {
        SignIn::Hidden => return,
        SignIn::Requesting => vec![Line::from("Asking Microsoft for a sign-in code…")],
        SignIn::Code { uri, code } => vec![
            Line::from("To sign in, open"),
            Line::from(Span::styled(
                fit(uri, area.width.saturating_sub(4) as usize),
                theme.accent(),
            )),
            Line::from("and enter the code"),
            Line::from(Span::styled(
                fit(code, 20),
                Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
            )),
            Line::from(Span::styled(strings::signin_code_keys(), theme.dim())),
            Line::from(Span::styled(strings::signin_waiting(), theme.dim())),
        ],
        SignIn::Confirm { account } => vec![
            Line::from(format!(
                "You are signed in as {}.",
                crate::text::line(account)
            )),
            Line::default(),
            Line::from("A new sign-in replaces this account's tokens"),
            Line::from("(the cache stays)."),
            Line::default(),
            Line::from(Span::styled(strings::signin_confirm_keys(), theme.dim())),
        ],
        SignIn::Browser { url: None, .. } => vec![
            Line::from("Your organisation does not allow sign-in with a code."),
            Line::from("Starting sign-in in your browser…"),
        ],
        SignIn::Browser {
            url: Some(url),
            opened,
        } => vec![
            Line::from(if *opened {
                "Sign in in your browser (it should have opened):"
            } else {
                "Sign in in your browser: open"
            }),
            Line::from(Span::styled(
                crate::text::line(url).into_owned(),
                theme.accent(),
            )),
            Line::from(Span::styled(strings::signin_url_keys(), theme.dim())),
            Line::from(Span::styled(strings::signin_waiting(), theme.dim())),
        ],
        SignIn::Failed(msg) => vec![
            Line::from(Span::styled("Sign-in failed", theme.error())),
            Line::from(crate::text::line(msg).into_owned()),
            Line::default(),
            Line::from(Span::styled(strings::signin_retry(), theme.dim())),
        ],
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Sign in ")
        .border_style(theme.accent());
    frame.render_widget(
        Paragraph::new(lines).block(block).wrap(Wrap { trim: true }),
        area,
    );
}

/// Draws the search: its query, its hits and the keys.
pub fn draw_search(frame: &mut Frame, app: &App, search: &Search) {
    let area = centered(app.size, 76, 18);
    frame.render_widget(Clear, area);
    let theme = &app.theme;
    let inner = area.width.saturating_sub(2) as usize;
    let cursor = if search.editing { "▏" } else { "" };
    let mut lines = vec![
        Line::from(vec![
            Span::styled("/ ", theme.accent()),
            Span::raw(fit(&search.query, inner.saturating_sub(4))),
            Span::raw(cursor),
        ]),
        Line::default(),
    ];
    // The query line, the gap and the hint line leave this many rows for hits.
    let room = area.height.saturating_sub(5) as usize;
    if search.query.trim().is_empty() {
        for text in strings::SEARCH_EMPTY {
            lines.push(Line::from(Span::styled(fit(text, inner), theme.dim())));
        }
    } else if search.results.is_empty() {
        lines.push(Line::from(Span::styled(
            "Nothing in the cache matches.",
            theme.dim(),
        )));
    } else {
        // The selected hit sits a quarter down the list: a few earlier hits above it, the ones
        // that follow below (the preselected hit is the next one from today).
        let skip = search
            .selected
            .saturating_sub(room / 4)
            .min(search.results.len().saturating_sub(room));
        for (i, c) in search.results.iter().enumerate().skip(skip).take(room) {
            let (day, time) = hit_when(app, &c.event);
            let mut line = Line::from(vec![
                Span::styled(format!("{day:<15} {time:>7}  "), theme.dim()),
                Span::raw(fit(c.event.title(), inner.saturating_sub(25))),
            ]);
            if i == search.selected {
                line = line.patch_style(theme.selected());
            }
            lines.push(line);
        }
    }
    while lines.len() < room + 2 {
        lines.push(Line::default());
    }
    let hint = if search.editing {
        strings::search_typing_hint()
    } else {
        strings::search_results_hint()
    };
    lines.push(Line::from(Span::styled(fit(&hint, inner), theme.dim())));
    let title = if search.results.is_empty() {
        " Search ".to_owned()
    } else {
        format!(
            " Search ({}/{}) ",
            search.selected + 1,
            search.results.len()
        )
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title)
        .border_style(theme.accent());
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// Draws the go-to prompt.
pub fn draw_goto(frame: &mut Frame, app: &App, prompt: &GoTo) {
    let area = centered(app.size, 72, 7);
    frame.render_widget(Clear, area);
    let theme = &app.theme;
    let inner = area.width.saturating_sub(2) as usize;
    let lines = vec![
        Line::from(vec![
            Span::styled("Date: ", theme.accent()),
            Span::raw(fit(&prompt.text, inner.saturating_sub(8))),
            Span::raw("▏"),
        ]),
        Line::from(Span::styled(fit(strings::GOTO_FORMS, inner), theme.dim())),
        match &prompt.error {
            Some(e) => Line::from(Span::styled(fit(e, inner), theme.error())),
            None => Line::default(),
        },
        Line::default(),
        Line::from(Span::styled(fit(&strings::goto_hint(), inner), theme.dim())),
    ];
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Go to ")
        .border_style(theme.accent());
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// The calendars panel: a legend of the configured calendars (colour, name, whose it is) with
/// a mark for each shown one, and how many more the account has.
pub fn draw_calendars(frame: &mut Frame, app: &App, panel: &CalendarsPanel) {
    let theme = &app.theme;
    let cals = &app.config.calendars;
    let more = app
        .calendar_list
        .iter()
        .filter(|l| !cals.iter().any(|c| c.is(l)))
        .count();
    let height = cals.len() as u16 + 4 + u16::from(more > 0);
    let area = centered(app.size, 64, height);
    frame.render_widget(Clear, area);
    let inner = area.width.saturating_sub(2) as usize;
    let mut lines = Vec::new();
    // Scrolled to keep the selected row in sight on a short terminal.
    let rows = area.height.saturating_sub(4 + u16::from(more > 0)).max(1) as usize;
    let first = panel.selected.saturating_sub(rows - 1);
    for (i, cal) in cals.iter().enumerate().skip(first).take(rows) {
        let shown = !app.hidden.contains(&cal.key);
        let listed = app.calendar_list.iter().find(|l| cal.is(l));
        let mut about = Vec::new();
        if listed.is_some_and(|l| l.is_default) {
            about.push("default".to_owned());
        }
        match &cal.owner {
            crate::model::Owner::Me => {}
            owner => about.push(owner.describe()),
        }
        if let Some(account) = &cal.account {
            about.push(format!("account {}", crate::text::line(account)));
        }
        if let Some((_, why)) = app.sync.failures.get(&cal.key) {
            about.push(format!("failing: {}", crate::text::line(why)));
        }
        if let Some(owner) = listed.and_then(|l| l.owner.as_ref())
            && listed.is_some_and(|l| !l.can_edit)
        {
            about.push(format!(
                "{}'s, read-only",
                owner.name.as_deref().unwrap_or("shared")
            ));
        }
        let mark = if shown { "[x]" } else { "[ ]" };
        let name = crate::text::line(&cal.name).into_owned();
        let about = if about.is_empty() {
            String::new()
        } else {
            format!("  ({})", about.join(", "))
        };
        let text = fit(&format!(" {name}{about}"), inner.saturating_sub(7));
        let mut style = Style::new();
        if i == panel.selected {
            style = style.patch(theme.selected());
        }
        if !shown {
            style = style.patch(theme.dim());
        }
        lines.push(Line::from(vec![
            Span::styled(format!("{mark} "), style),
            Span::styled("██", theme.calendar(app.calendar_color(&cal.key))),
            Span::styled(text, style),
        ]));
    }
    lines.push(Line::default());
    if more > 0 {
        lines.push(Line::from(Span::styled(
            fit(
                &format!("{more} more in the account: `deltacal calendars` shows how to add them"),
                inner,
            ),
            theme.dim(),
        )));
    }
    lines.push(Line::from(Span::styled(
        fit(&strings::calendars_hint(), inner),
        theme.dim(),
    )));
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Calendars ")
        .border_style(theme.accent());
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// A hit's first day and start time in the display zone (`all day` for all-day events).
fn hit_when(app: &App, event: &crate::model::Event) -> (String, String) {
    let day = crate::days::event_days(event, &app.config.display.zone)
        .map(|d| d.0.format("%a %-d %b %Y").to_string())
        .unwrap_or_default();
    let time = if event.all_day {
        "all day".to_owned()
    } else {
        event
            .span()
            .map(|(start, _)| crate::days::clock(&app.config.display, start))
            .unwrap_or_default()
    };
    (day, time)
}

/// Draws a form: its title, its fields (the focused one marked, with the cursor), the preview
/// of what it makes or why it cannot be sent, and its keys.
pub fn draw_form(frame: &mut Frame, app: &App, form: &Form) {
    let theme = &app.theme;
    let rows = form.fields.len() as u16 + form.preview.len().max(1) as u16 + 3;
    let area = centered(app.size, 76, rows + 2);
    frame.render_widget(Clear, area);
    let inner = area.width.saturating_sub(2) as usize;
    let label_w = form
        .fields
        .iter()
        .map(|f| super::width::cells(f.label))
        .max()
        .unwrap_or(0)
        + 2;
    let mut lines = Vec::new();
    let mut choices = false;
    for (i, field) in form.fields.iter().enumerate() {
        let focused = i == form.focus;
        let label_style = if focused {
            theme.selected()
        } else {
            theme.accent()
        };
        let room = inner.saturating_sub(label_w + 2);
        let value = match &field.value {
            FieldValue::Text(t) => {
                // The end of a long text shows: that is where one types.
                let text = crate::text::line(t).into_owned();
                let cells = super::width::cells(&text);
                let shown = if cells + 1 > room {
                    let skip = text.chars().count().saturating_sub(room.saturating_sub(2));
                    format!("…{}", text.chars().skip(skip).collect::<String>())
                } else {
                    text
                };
                if focused {
                    format!("{shown}▏")
                } else {
                    shown
                }
            }
            FieldValue::Choice { options, at } => {
                choices = true;
                let words: Vec<String> = options
                    .iter()
                    .enumerate()
                    .map(|(j, o)| {
                        if j == *at {
                            format!("[{o}]")
                        } else {
                            format!(" {o} ")
                        }
                    })
                    .collect();
                fit(&words.join(" "), room)
            }
            FieldValue::Flag(on) => {
                choices = true;
                if *on { "[x]".into() } else { "[ ]".into() }
            }
        };
        lines.push(Line::from(vec![
            Span::styled(format!(" {:<label_w$}", field.label), label_style),
            Span::raw(value),
        ]));
    }
    lines.push(Line::default());
    match &form.error {
        Some(e) => lines.push(Line::from(Span::styled(fit(e, inner), theme.error()))),
        None => {
            for p in &form.preview {
                lines.push(Line::from(Span::styled(fit(p, inner), theme.header())));
            }
        }
    }
    lines.push(Line::default());
    let send = match &form.purpose {
        FormPurpose::QuickAdd { .. } => "add",
        FormPurpose::Edit(_) => "save",
        FormPurpose::Answer { .. } => "send",
        FormPurpose::Delete(_) => "delete",
        FormPurpose::FreeBusy { .. } => "show",
        FormPurpose::SignIn => "sign in",
    };
    lines.push(Line::from(Span::styled(
        fit(&strings::form_hint(send, choices), inner),
        theme.dim(),
    )));
    let title = format!(
        " {} ",
        fit(&super::changes::title(form), inner.saturating_sub(2))
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title)
        .border_style(theme.accent());
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// Draws the invitations panel: each invitation's day and time, subject, who invited, and how
/// many occurrences of its series wait.
pub fn draw_invitations(frame: &mut Frame, app: &App, panel: &InvitationsPanel) {
    let theme = &app.theme;
    let height = (panel.invites.len().max(1) as u16 + 4).min(app.size.1.saturating_sub(4));
    let area = centered(app.size, 96, height);
    frame.render_widget(Clear, area);
    let inner = area.width.saturating_sub(2) as usize;
    let rows = area.height.saturating_sub(4).max(1) as usize;
    let mut lines = Vec::new();
    if panel.invites.is_empty() {
        lines.push(Line::from(Span::styled(
            if panel.loaded {
                "Nothing waits for your answer."
            } else {
                "Reading…"
            },
            theme.dim(),
        )));
    }
    let first = panel.selected.saturating_sub(rows - 1);
    for (i, invite) in panel.invites.iter().enumerate().skip(first).take(rows) {
        let e = &invite.event.event;
        let (day, time) = hit_when(app, e);
        let from = e
            .organizer
            .as_ref()
            .map(|o| crate::text::line(&o.display()).into_owned())
            .unwrap_or_default();
        let more = if invite.occurrences > 1 {
            format!(" (series: {} waiting)", invite.occurrences)
        } else {
            String::new()
        };
        let title = format!(
            "{}{more}",
            crate::text::line(&app.shown_title(&invite.event))
        );
        let from_w = 24.min(inner / 4);
        let title_w = inner.saturating_sub(25 + from_w + 2);
        let mut line = Line::from(vec![
            Span::styled(format!("{day:<15} {time:>7}  "), theme.dim()),
            Span::raw({
                let shown = fit(&title, title_w);
                let pad = title_w.saturating_sub(super::width::cells(&shown));
                format!("{shown}{}", " ".repeat(pad))
            }),
            Span::styled(format!(" {}", fit(&from, from_w)), theme.dim()),
        ]);
        if i == panel.selected {
            line = line.patch_style(theme.selected());
        }
        lines.push(line);
    }
    while lines.len() < rows + 1 {
        lines.push(Line::default());
    }
    lines.push(Line::from(Span::styled(
        fit(&strings::invitations_hint(), inner),
        theme.dim(),
    )));
    let title = if panel.invites.is_empty() {
        " Invitations ".to_owned()
    } else {
        format!(" Invitations ({}) ", panel.invites.len())
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title)
        .border_style(theme.accent());
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
