//! `agenda --format TEMPLATE`: one line per event from a template of named fields, as khal's
//! `--format` and gcalcli's `--tsv` give scripts. Parsed once (an unknown field is a usage
//! error that lists the known ones), then filled in for each event; every value is sanitised to
//! one line, so a subject cannot break the line or reach the terminal as a control sequence.

use chrono::NaiveDate;

use crate::config::Config;
use crate::model::{CachedEvent, Event, Response, ShowAs};

/// The fields a template may name, with what each gives (shown by the usage error).
pub const FIELDS: &[(&str, &str)] = &[
    ("id", "the event's id, as agenda --json prints it"),
    ("calendar", "the calendar's key (default, or its id)"),
    ("calendar_name", "the calendar's configured name"),
    ("subject", "the subject"),
    ("start", "start, RFC 3339 in UTC"),
    ("end", "end, RFC 3339 in UTC"),
    ("start_date", "start date in the display zone (YYYY-MM-DD)"),
    (
        "start_time",
        "start time in the display zone (empty when all day)",
    ),
    (
        "end_date",
        "end date in the display zone (the last day, for all-day events)",
    ),
    (
        "end_time",
        "end time in the display zone (empty when all day)",
    ),
    ("all_day", "true or false"),
    ("location", "the location"),
    ("organizer", "Name <address>"),
    (
        "show_as",
        "Graph's showAs: busy, tentative, free, oof, workingElsewhere",
    ),
    (
        "response",
        "your answer: accepted, declined, notResponded...",
    ),
    ("cancelled", "true or false"),
    ("join_url", "the online meeting's join link"),
    ("web_link", "the Outlook web link"),
];

/// A parsed template: text and fields, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(Vec<Piece>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Field(&'static str),
}

impl Template {
    /// `{field}` names a field, `{{` and `}}` are braces, `\t` and `\n` a tab and a newline.
    pub fn parse(template: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut chars = template.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    text.push('}');
                }
                '\\' if chars.peek() == Some(&'t') => {
                    chars.next();
                    text.push('\t');
                }
                '\\' if chars.peek() == Some(&'n') => {
                    chars.next();
                    text.push('\n');
                }
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => return Err(format!("`{{{name}` is not closed with `}}`")),
                        }
                    }
                    let Some(&(field, _)) = FIELDS.iter().find(|(f, _)| *f == name.trim()) else {
                        let known: Vec<&str> = FIELDS.iter().map(|(f, _)| *f).collect();
                        return Err(format!(
                            "no field `{}`; the fields are {}",
                            crate::text::line(&name),
                            known.join(", ")
                        ));
                    };
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Field(field));
                }
                '}' => return Err("a lone `}` (write `}}` for a brace)".into()),
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Template(pieces))
    }

    /// The template filled in for one event.
    pub fn render(&self, config: &Config, c: &CachedEvent) -> String {
        let mut out = String::new();
        for piece in &self.0 {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Field(f) => out.push_str(&crate::text::line(&value(config, c, f))),
            }
        }
        out
    }
}

/// One field's value for an event (empty when unknown).
fn value(config: &Config, c: &CachedEvent, field: &str) -> String {
    let e: &Event = &c.event;
    let span = e.span();
    let clock = |t| {
        if e.all_day {
            String::new()
        } else {
            crate::days::clock(&config.display, t)
        }
    };
    let rfc3339 = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let text = |v: Option<&str>| v.unwrap_or_default().to_owned();
    let date = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    match field {
        "id" => e.id.to_string(),
        "calendar" => c.view.to_string(),
        "calendar_name" => config.calendar_name(&c.view).to_owned(),
        "subject" => e.title().to_owned(),
        "start" => span.map(|s| rfc3339(s.0)).unwrap_or_default(),
        "end" => span.map(|s| rfc3339(s.1)).unwrap_or_default(),
        "start_date" => crate::days::event_days(e, &config.display.zone)
            .map(|(a, _)| date(a))
            .unwrap_or_default(),
        "end_date" => crate::days::event_days(e, &config.display.zone)
            .map(|(_, b)| date(b))
            .unwrap_or_default(),
        "start_time" => span.map(|s| clock(s.0)).unwrap_or_default(),
        "end_time" => span.map(|s| clock(s.1)).unwrap_or_default(),
        "all_day" => e.all_day.to_string(),
        "location" => text(e.location.as_deref()),
        "organizer" => e
            .organizer
            .as_ref()
            .map(|o| o.display())
            .unwrap_or_default(),
        "show_as" => text(e.show_as.as_ref().map(ShowAs::as_graph)),
        "response" => text(e.response.as_ref().map(Response::as_graph)),
        "cancelled" => e.cancelled.to_string(),
        "join_url" => crate::links::join_link(e)
            .map(|url| url.to_string())
            .unwrap_or_default(),
        "web_link" => text(e.web_link.as_deref()),
        // Template::parse admits only the fields above.
        _ => String::new(),
    }
}

/// Writes one line per event.
pub fn write(
    config: &Config,
    template: &Template,
    events: &[CachedEvent],
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    for c in events {
        writeln!(out, "{}", template.render(config, c))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::json;

    use super::*;

    fn config() -> Config {
        Config::from_toml(
            "[ui]\ntimezone = \"Europe/Berlin\"\n",
            None,
            PathBuf::from("/nonexistent"),
        )
        .unwrap()
    }

    fn event() -> CachedEvent {
        let t = |s: &str| json!({"dateTime": s, "timeZone": "UTC"});
        CachedEvent {
            view: "default".into(),
            event: Event::from_graph(&json!({
                "id": "AAMk1", "subject": "Design\treview \u{1b}[31m", "start": t("2026-12-09T13:00:00"),
                "end": t("2026-12-09T14:30:00"), "location": {"displayName": "Room 4"},
                "responseStatus": {"response": "accepted"},
                "onlineMeeting": {"joinUrl": "https://teams.microsoft.com/l/meetup-join/1"}}))
            .unwrap(),
        }
    }

    #[test]
    fn fields_fill_in_sanitised_in_the_display_zone() {
        let template =
            Template::parse("{start_date} {start_time}-{end_time}\\t{subject}\\t{location}")
                .unwrap();
        assert_eq!(
            template.render(&config(), &event()),
            "2026-12-09 14:00-15:30\tDesign review [31m\tRoom 4"
        );
        let template = Template::parse("{{{id}}} {response} {join_url} {start}").unwrap();
        assert_eq!(
            template.render(&config(), &event()),
            "{AAMk1} accepted https://teams.microsoft.com/l/meetup-join/1 2026-12-09T13:00:00Z"
        );
    }

    #[test]
    fn a_bad_template_says_what_is_wrong() {
        let e = Template::parse("{title}").unwrap_err();
        assert!(
            e.starts_with("no field `title`; the fields are id, calendar"),
            "{e}"
        );
        assert!(
            Template::parse("{subject")
                .unwrap_err()
                .contains("not closed")
        );
        assert!(Template::parse("a } b").unwrap_err().contains("lone `}`"));
        assert_eq!(Template::parse("").unwrap(), Template(Vec::new()));
    }
}
