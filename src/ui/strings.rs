//! The UI's words that more than one place uses or that name a key. Key names come from the
//! key table, so a hint can never name a key that does something else.

use super::keys::{Command, hint, hints};
use crate::failure::FailureKind;

/// The help overlay's row about the mouse (no key table row can say it).
pub const MOUSE: &str = "mouse";
/// The help overlay's words about the mouse.
pub const MOUSE_HELP: &str = "click: day, event, tab · double: open · wheel";

/// The detail pane's last line.
pub fn detail_hint() -> String {
    format!(
        "{} close · {}{} other events of the day",
        hint(Command::Close),
        hint(Command::Up),
        hint(Command::Down)
    )
}

/// The detail pane's title while it has more than fits: where it is, and the keys that scroll.
pub fn detail_scroll_title(scroll: u16, overflow: u16) -> String {
    let keys = format!("{} {}", hint(Command::PageUp), hint(Command::PageDown));
    match (scroll, scroll >= overflow) {
        (0, _) => format!(" Event (more below: {keys}) "),
        (_, true) => format!(" Event (end: {keys}) "),
        _ => format!(" Event (line {}: {keys}) ", scroll + 1),
    }
}

/// Under the search results while typing: the keys that do not type.
pub fn search_typing_hint() -> String {
    format!(
        "{}{} {} {} move · {} to the results · {} close",
        hint(Command::Up),
        hint(Command::Down),
        hint(Command::PageUp),
        hint(Command::PageDown),
        hint(Command::Open),
        hint(Command::Close)
    )
}

/// Under the search results while moving through them.
pub fn search_results_hint() -> String {
    format!(
        "{} open · {} edit · {} close",
        hint(Command::Open),
        hint(Command::Search),
        hint(Command::Close)
    )
}

/// In the search popup before anything is typed.
pub const SEARCH_EMPTY: [&str; 2] = [
    "Type to search subjects, places, people and notes.",
    "Case and accents do not matter: cafe finds Café.",
];

/// Under the `g` prompt.
pub fn goto_hint() -> String {
    format!(
        "{} go · {} close",
        hint(Command::Open),
        hint(Command::Close)
    )
}

/// The keys of the reminder banner.
pub fn reminder_hint() -> String {
    format!(
        "{} join · {} snooze · {} dismiss",
        hint(Command::OpenLink),
        hint(Command::Snooze),
        hint(Command::Dismiss)
    )
}

/// The key hint of the calendars panel.
pub fn calendars_hint() -> String {
    format!(
        "{} show or hide · {} close",
        hints(Command::Toggle),
        hint(Command::Close)
    )
}

/// The forms the `g` prompt takes, as the CLI's DATE.
pub const GOTO_FORMS: &str = "2026-12-24, today, tomorrow, fri, +3d, -2w";

/// Under a device code while the sign-in waits.
pub fn signin_waiting() -> String {
    format!(
        "Waiting for approval… ({} hides this)",
        hint(Command::Close)
    )
}

/// Under the sign-in code: the keys that act on it.
pub fn signin_code_keys() -> String {
    format!(
        "{} opens the page · {} copies the code",
        hint(Command::OpenLink),
        hint(Command::CopyLink)
    )
}

/// Under the browser sign-in's address.
pub fn signin_url_keys() -> String {
    format!(
        "{} opens it · {} copies it",
        hint(Command::OpenLink),
        hint(Command::CopyLink)
    )
}

/// Under the question before a new sign-in.
pub fn signin_confirm_keys() -> String {
    format!(
        "{} signs in again · {} keeps this sign-in",
        hint(Command::SignIn),
        hint(Command::Close)
    )
}

/// Under a failed sign-in.
pub fn signin_retry() -> String {
    format!(
        "Press {} to try again, {} to close.",
        hint(Command::SignIn),
        hint(Command::Close)
    )
}

/// The status bar when a sign-in is needed.
pub fn sign_in_needed() -> String {
    format!("⚠ sign-in needed ({})", hint(Command::SignIn))
}

/// The status bar while a request waits to be tried again at `at` (a clock time).
pub fn waiting(kind: FailureKind, at: &str) -> String {
    match kind {
        FailureKind::Throttled => format!("⏳ throttled by the server, retry at {at}"),
        _ => format!("⚠ server trouble, retry at {at}"),
    }
}

/// Why `r` does not start a round now.
pub fn waiting_why(kind: FailureKind, at: &str) -> String {
    match kind {
        FailureKind::Throttled => format!(
            "the server asked deltacal to wait until {at} (throttled); the sync goes on then"
        ),
        _ => format!("the server is failing; deltacal tries again at {at}"),
    }
}

/// Why `r` during a round does not start another.
pub fn syncing_already() -> String {
    "a sync is running; its pages show as they come".to_owned()
}

/// A new sign-in the server refused at once: not started again by itself.
pub fn sign_in_refused_again() -> String {
    format!(
        "Graph refuses the new sign-in too; {} signs in again when you are ready",
        hint(Command::SignIn)
    )
}

/// The status bar's right end.
pub fn help_hint() -> String {
    format!(" {} help ", hint(Command::Help))
}

/// In a day outside the sync window, where events would be.
pub const NOT_SYNCED: &str = "not synced";

/// After the heading when the view shows days outside the sync window.
pub fn outside_window(first: chrono::NaiveDate, last: chrono::NaiveDate) -> String {
    format!(
        "synced {} – {}",
        first.format("%-d %b %Y"),
        last.format("%-d %b %Y")
    )
}

/// After the time beside the line that marks the current time on today's column.
pub const NOW: &str = "▸";

/// Under a form: its keys. `send` names what Enter does (`add`, `send`, `delete`).
pub fn form_hint(send: &str, choices: bool) -> String {
    let choice = if choices {
        format!(" · {}/Space choose", hints(Command::ChangeChoice))
    } else {
        String::new()
    };
    format!(
        "{} {send} · {}/{} fields{choice} · {} cancel",
        hint(Command::Open),
        hint(Command::NextField),
        hint(Command::PrevField),
        hint(Command::Close)
    )
}

/// Under the invitations panel: its keys.
pub fn invitations_hint() -> String {
    format!(
        "{} accept · {} tentative · {} decline · {} propose · {} show · {} undo · {} close",
        hint(Command::Accept),
        hint(Command::Tentative),
        hint(Command::Decline),
        hint(Command::Propose),
        hint(Command::Open),
        hint(Command::Undo),
        hint(Command::Close)
    )
}
