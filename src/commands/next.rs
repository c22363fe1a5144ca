//! `deltacal next`: the event in progress and the next one, from the cache only, for status
//! bars that run it every few seconds.

use std::io::Write;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::agenda::{AgendaError, AgendaItem, events_in_days};
use super::check_data_dir;
use crate::commands;
use crate::config::Config;
use crate::model::{CachedEvent, Event};
use crate::text;

/// How far ahead `next` looks, in days, before it gives up: a calendar with nothing for a
/// month has no "next" worth a status bar.
const LOOK_AHEAD_DAYS: [i64; 2] = [7, 31];

/// The event in progress and the next one.
#[derive(Debug, Default, PartialEq)]
pub struct Next {
    /// The event in progress, if any.
    pub current: Option<CachedEvent>,
    /// The next event, if any.
    pub next: Option<CachedEvent>,
    /// The changes waiting to be sent that mark them, by event id.
    pub marks: std::collections::HashMap<String, crate::store::OutboxEntry>,
}

/// Whether an event is one to be at: timed, not cancelled, not declined.
fn counts(e: &Event) -> bool {
    !e.all_day && e.attending() && !e.is_stub()
}

/// Picks from `events`: in progress, the one that began last (a meeting one joined late
/// matters more than the all-morning block under it); next, the first to start after `now`.
pub fn pick(events: &[CachedEvent], now: DateTime<Utc>) -> Next {
    let mut result = Next::default();
    let mut current_key = None;
    let mut next_key = None;
    for c in events.iter().filter(|c| counts(&c.event)) {
        let Some((start, end)) = c.event.span() else {
            continue;
        };
        if start <= now && now < end {
            let key = (std::cmp::Reverse(start), end, c.event.id.clone());
            if current_key.as_ref().is_none_or(|k| key < *k) {
                current_key = Some(key);
                result.current = Some(c.clone());
            }
        } else if start > now {
            let key = (start, c.event.id.clone());
            if next_key.as_ref().is_none_or(|k| key < *k) {
                next_key = Some(key);
                result.next = Some(c.clone());
            }
        }
    }
    result
}

/// Reads the cache around `now` and picks.
pub fn find(config: &Config, now: DateTime<Utc>) -> Result<Next, AgendaError> {
    let today = config.display.zone.date_of(now);
    let views: Vec<_> = config.calendars.iter().map(|c| c.key.clone()).collect();
    let pending = super::agenda::pending_of(config, &views);
    let mut found = Next::default();
    for days in LOOK_AHEAD_DAYS {
        // From yesterday: an event in progress may have begun before midnight.
        let mut events = events_in_days(
            config,
            today - Duration::days(1),
            today + Duration::days(days),
        )?;
        // What the user has changed and not yet sent counts: a decline drops a meeting, a new
        // one is next.
        let marks = crate::store::overlay(&mut events, &pending);
        // Your next meeting: not a colleague's in their shared calendar, nor a group's.
        let own = config.own_views();
        events.retain(|c| own.contains(&c.view));
        found = pick(&events, now);
        found.marks = marks;
        if found.next.is_some() {
            break;
        }
    }
    Ok(found)
}

/// One event of `next --json`: the agenda's fields, the minutes until it ends or starts, and
/// the link to join it.
#[derive(Debug, Serialize)]
struct NextItem<'a> {
    #[serde(flatten)]
    event: AgendaItem<'a>,
    /// Whole minutes until it ends (in progress) or starts (next), rounded up.
    minutes: i64,
    /// The online meeting's join link, when it is a web address; never the web link (that is
    /// `web_link`, among the agenda's fields).
    join_url: Option<String>,
    /// What the text line shows: the join link, else the web link.
    #[serde(skip)]
    link: Option<String>,
}

#[derive(Serialize)]
struct NextJson<'a> {
    now: Option<NextItem<'a>>,
    next: Option<NextItem<'a>>,
}

fn minutes_until(now: DateTime<Utc>, then: DateTime<Utc>) -> i64 {
    (then - now).num_seconds().max(0).div_euclid(60)
        + i64::from((then - now).num_seconds().rem_euclid(60) > 0)
}

/// "1 h 05 min", "12 min".
fn left(minutes: i64) -> String {
    if minutes >= 60 {
        format!("{} h {:02} min", minutes / 60, minutes % 60)
    } else {
        format!("{minutes} min")
    }
}

/// Writes what `pick` found: JSON (`{"now": …, "next": …}`, nulls when there is none), or a
/// line for each (nothing at all when there is none).
pub fn write<'a>(
    config: &'a Config,
    found: &'a Next,
    now: DateTime<Utc>,
    json: bool,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let item = |c: &'a CachedEvent, at: DateTime<Utc>| -> NextItem<'a> {
        let mut event = AgendaItem::new(config, &c.view, &c.event);
        event.pending = found
            .marks
            .get(c.event.id.as_str())
            .map(crate::store::OutboxEntry::pending_json);
        NextItem {
            event,
            minutes: minutes_until(now, at),
            join_url: crate::links::join_link(&c.event).map(|url| url.to_string()),
            link: crate::links::event_link(&c.event)
                .ok()
                .map(|(_, url)| url.to_string()),
        }
    };
    let current = found
        .current
        .as_ref()
        .and_then(|c| Some(item(c, c.event.span()?.1)));
    let next = found
        .next
        .as_ref()
        .and_then(|c| Some(item(c, c.event.span()?.0)));
    if json {
        serde_json::to_writer(&mut *out, &NextJson { now: current, next })?;
        return writeln!(out);
    }
    let lines = [
        ("now", &found.current, current, "ends"),
        ("next", &found.next, next, "starts"),
    ];
    for (label, event, item, verb) in lines {
        let (Some(c), Some(item)) = (event, item) else {
            continue;
        };
        let Some((start, end)) = c.event.span() else {
            continue;
        };
        let clock = |t| crate::days::clock(&config.display, t);
        let times = format!("{}-{}", clock(start), clock(end));
        let mut line = format!(
            "{label}: {times}  {}  ({verb} in {})",
            text::line(c.event.title()),
            left(item.minutes)
        );
        if let Some(url) = &item.link {
            line.push_str(&format!("  {url}"));
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// `deltacal next`: the event in progress and the next one, from the cache; nothing (or nulls)
/// when there is none, and before the first sync.
pub fn run(config: &Config, json: bool) -> anyhow::Result<()> {
    check_data_dir(config)?;
    let now = chrono::Utc::now();
    let found = match commands::next::find(config, now) {
        Err(commands::agenda::AgendaError::NoCache(_)) => Default::default(),
        other => other?,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    commands::next::write(config, &found, now, json, &mut out)?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(id: &str, from: &str, to: &str, extra: serde_json::Value) -> CachedEvent {
        let mut v = json!({"id": id, "subject": id,
            "start": {"dateTime": from, "timeZone": "UTC"}, "end": {"dateTime": to, "timeZone": "UTC"}});
        if let (Some(o), Some(x)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(x.clone());
        }
        CachedEvent {
            view: "default".into(),
            event: Event::from_graph(&v).unwrap(),
        }
    }

    #[test]
    fn picks_the_latest_begun_and_the_first_to_come() {
        let now: DateTime<Utc> = "2026-11-24T10:10:00Z".parse().unwrap();
        let events = vec![
            at(
                "block",
                "2026-11-24T08:00:00",
                "2026-11-24T12:00:00",
                json!({}),
            ),
            at(
                "call",
                "2026-11-24T10:00:00",
                "2026-11-24T10:30:00",
                json!({}),
            ),
            at(
                "done",
                "2026-11-24T09:00:00",
                "2026-11-24T10:10:00",
                json!({}),
            ),
            at(
                "holiday",
                "2026-11-24T00:00:00",
                "2026-11-25T00:00:00",
                json!({"isAllDay": true}),
            ),
            at(
                "gone",
                "2026-11-24T10:20:00",
                "2026-11-24T10:40:00",
                json!({"isCancelled": true}),
            ),
            at(
                "nope",
                "2026-11-24T10:25:00",
                "2026-11-24T10:40:00",
                json!({"responseStatus": {"response": "declined"}}),
            ),
            at(
                "lunch",
                "2026-11-24T12:00:00",
                "2026-11-24T13:00:00",
                json!({}),
            ),
            at(
                "later",
                "2026-11-24T15:00:00",
                "2026-11-24T16:00:00",
                json!({}),
            ),
        ];
        let found = pick(&events, now);
        assert_eq!(found.current.unwrap().event.id, "call");
        assert_eq!(found.next.unwrap().event.id, "lunch");
        let empty = pick(&events[..1], "2026-11-25T00:00:00Z".parse().unwrap());
        assert_eq!(empty, Next::default());
    }

    #[test]
    fn minutes_round_up_and_read_as_hours() {
        let now: DateTime<Utc> = "2026-11-24T10:10:30Z".parse().unwrap();
        assert_eq!(
            minutes_until(now, "2026-11-24T10:30:00Z".parse().unwrap()),
            20
        );
        assert_eq!(
            minutes_until(now, "2026-11-24T10:10:30Z".parse().unwrap()),
            0
        );
        assert_eq!(left(65), "1 h 05 min");
        assert_eq!(left(7), "7 min");
    }
}
