//! Showing a reminder outside the TUI: running the configured command with the event as JSON
//! on stdin, else a desktop notification (notify-rust: D-Bus on Linux, the native path
//! elsewhere), else, when no notification service answers, OSC 9 and OSC 777 to the terminal.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::schedule::Due;
use crate::config::Config;
use crate::json::AgendaItem;
use crate::text;

/// How long a reminder command may run before it is left behind.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// What a reminder command reads on stdin: the event as `agenda --json` has it, plus when it
/// starts relative to now, how long before it was meant to remind, and its join link.
#[derive(Debug, Serialize)]
pub struct ReminderJson<'a> {
    /// The event, as `agenda --json` prints it.
    #[serde(flatten)]
    pub event: AgendaItem<'a>,
    /// Minutes until it starts (negative once it has).
    pub minutes_to_start: i64,
    /// The lead it reminds with.
    pub reminder_minutes: i64,
    /// The join link, if it is a web address.
    pub join_url: Option<String>,
}

/// The JSON a reminder command reads on its stdin.
pub fn reminder_json<'a>(config: &'a Config, due: &'a Due, now: DateTime<Utc>) -> ReminderJson<'a> {
    ReminderJson {
        event: AgendaItem::new(config, &due.event.view, &due.event.event),
        minutes_to_start: due.minutes_to_start(now),
        reminder_minutes: due.lead.num_minutes(),
        join_url: crate::links::event_link(&due.event.event)
            .ok()
            .map(|(_, u)| u.to_string()),
    }
}

/// The title and the text of a reminder, sanitised: `Design review in 15 min` and
/// `10:00-10:30 · Room 2 · https://teams…`.
pub fn words(config: &Config, due: &Due, now: DateTime<Utc>) -> (String, String) {
    let minutes = due.minutes_to_start(now);
    let when = match minutes {
        m if m > 0 => format!("in {m} min"),
        0 => "now".to_owned(),
        m => format!("began {} min ago", -m),
    };
    let e = &due.event.event;
    let title = format!("{} {when}", text::line(e.title()));
    let clock = |t| crate::days::clock(&config.display, t);
    let mut body = if e.all_day {
        "all day".to_owned()
    } else {
        format!("{}-{}", clock(due.start), clock(due.end))
    };
    if let Some(l) = e.location.as_deref().filter(|l| !l.trim().is_empty()) {
        body.push_str(&format!(" · {}", text::line(l)));
    }
    if let Ok((_, url)) = crate::links::event_link(e) {
        body.push_str(&format!(" · {url}"));
    }
    (title, body)
}

/// Runs `command` through the shell with `json` on its stdin; an error says how it failed.
pub fn run_command(command: &str, json: &str) -> Result<(), String> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("could not start the reminder command: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its input is its own business.
        let _ = stdin.write_all(json.as_bytes());
    }
    let started = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(format!("the reminder command failed ({status})")),
            Ok(None) if started.elapsed() > COMMAND_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("the reminder command ran for 30 s and was stopped".into());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for the reminder command: {e}")),
        }
    }
}

/// A desktop notification; when none can be shown, the terminal's own (OSC 9 for iTerm2,
/// kitty, WezTerm, Windows Terminal; OSC 777 for VTE terminals and foot).
pub fn desktop(title: &str, body: &str) -> Result<(), String> {
    let shown = notify_rust::Notification::new()
        .appname("deltacal")
        .summary(title)
        .body(body)
        .show();
    match shown {
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::info!(error = %e, "no desktop notification service; telling the terminal");
            terminal_notification(title, body, &mut std::io::stdout().lock())
                .map_err(|e| format!("could not notify: {e}"))
        }
    }
}

/// OSC 9 and OSC 777 for `title` and `body`; the text is already free of control characters,
/// and `;` is kept out of OSC 777's fields, which it separates.
pub fn terminal_notification(title: &str, body: &str, out: &mut impl Write) -> std::io::Result<()> {
    let clean = |s: &str| text::line(s).replace(';', ",");
    write!(out, "\x1b]9;{}: {}\x07", clean(title), clean(body))?;
    write!(out, "\x1b]777;notify;{};{}\x07", clean(title), clean(body))?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_notifications_carry_no_control_characters() {
        let mut out = Vec::new();
        terminal_notification("Call \x07now", "a;b\x1b]0;x", &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert_eq!(s.matches('\x07').count(), 2, "{s:?}");
        assert_eq!(s.matches('\x1b').count(), 2, "{s:?}");
        assert!(s.contains("\x1b]777;notify;Call now;a,b]0,x\x07"), "{s:?}");
    }

    #[test]
    fn a_command_gets_the_json_and_failures_say_so() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("got.json");
        run_command(&format!("cat > '{}'", out.display()), "{\"id\":1}").unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "{\"id\":1}");
        let err = run_command("exit 3", "{}").unwrap_err();
        assert!(err.contains("failed"), "{err}");
    }
}
