//! `deltacal invites`: the invitations in the synced window that wait for the user's answer,
//! soonest first, with who invited and the id `rsvp` takes.

use std::io::Write;

use chrono::{DateTime, Utc};

use super::agenda::{AgendaError, AgendaItem, events_in_days, pending_of};
use super::check_data_dir;
use crate::config::Config;
use crate::store::OutboxEntry;
use crate::text;

pub use crate::change::invites::{Invite, pick};

/// Reads the window's invitations from the cache, with the outbox over them.
pub fn find(
    config: &Config,
    now: DateTime<Utc>,
) -> Result<(Vec<Invite>, std::collections::HashMap<String, OutboxEntry>), AgendaError> {
    let today = config.display.zone.date_of(now);
    let (_, last) = config.synced_days(today);
    let mut events = events_in_days(config, today, last)?;
    let views: Vec<_> = config.calendars.iter().map(|c| c.key.clone()).collect();
    let marks = crate::store::overlay(&mut events, &pending_of(config, &views));
    // Invitations to you: a colleague's in their shared calendar wait for their answer.
    let own = config.own_views();
    events.retain(|c| own.contains(&c.view));
    Ok((pick(&events, now), marks))
}

/// Writes the invitations: JSON (the agenda's fields), or a line each with the day, time,
/// subject, who invited and the id.
pub fn write(
    config: &Config,
    invites: &[Invite],
    marks: &std::collections::HashMap<String, OutboxEntry>,
    json: bool,
    out: &mut impl Write,
) -> std::io::Result<()> {
    if json {
        let items: Vec<AgendaItem> = invites
            .iter()
            .map(|i| {
                let mut item = AgendaItem::new(config, &i.event.view, &i.event.event);
                item.pending = marks
                    .get(i.event.event.id.as_str())
                    .map(crate::store::OutboxEntry::pending_json);
                item
            })
            .collect();
        serde_json::to_writer(&mut *out, &items)?;
        return writeln!(out);
    }
    if invites.is_empty() {
        return writeln!(out, "No invitations wait for an answer.");
    }
    for invite in invites {
        let e = &invite.event.event;
        let Some((start, end)) = e.span() else {
            continue;
        };
        let zone = &config.display.zone;
        let when = if e.all_day {
            format!("{}  all day", zone.date_of(start).format("%a %Y-%m-%d"))
        } else if zone.date_of(end) != zone.date_of(start) {
            // Over midnight: the end's day too.
            format!(
                "{}  {}-{} {}",
                zone.date_of(start).format("%a %Y-%m-%d"),
                crate::days::clock(&config.display, start),
                zone.date_of(end).format("%a %Y-%m-%d"),
                crate::days::clock(&config.display, end)
            )
        } else {
            format!(
                "{}  {}-{}",
                zone.date_of(start).format("%a %Y-%m-%d"),
                crate::days::clock(&config.display, start),
                crate::days::clock(&config.display, end)
            )
        };
        let mut line = format!("{when}  {}", text::line(e.title()));
        if let Some(who) = e.organizer.as_ref().map(|p| p.display())
            && !who.is_empty()
        {
            line.push_str(&format!("  from {}", text::line(&who)));
        }
        if invite.occurrences > 1 {
            line.push_str(&format!(
                "  (series: {} occurrences wait; --series answers them all)",
                invite.occurrences
            ));
        }
        if let Some(entry) = marks.get(e.id.as_str()) {
            line.push_str(&format!(
                "  [{} {}]",
                entry.change.word(),
                entry.state.word()
            ));
        }
        line.push_str(&format!("  id {}", text::line(&e.id)));
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// `deltacal invites`.
pub fn run(config: &Config, json: bool) -> anyhow::Result<()> {
    check_data_dir(config)?;
    let now = Utc::now();
    let (invites, marks) = match find(config, now) {
        Err(e @ AgendaError::NoCache(_)) => {
            eprintln!("deltacal: {e}");
            Default::default()
        }
        other => other?,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    write(config, &invites, &marks, json, &mut out)?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CachedEvent;
    use serde_json::json;

    fn at(id: &str, from: &str, extra: serde_json::Value) -> CachedEvent {
        let mut v = json!({"id": id, "subject": id,
            "start": {"dateTime": from, "timeZone": "UTC"},
            "end": {"dateTime": from.replace("T10", "T11"), "timeZone": "UTC"},
            "responseStatus": {"response": "notResponded"}, "isOrganizer": false});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        CachedEvent {
            view: "default".into(),
            event: crate::model::Event::from_graph(&v).unwrap(),
        }
    }

    #[test]
    fn soonest_first_one_line_a_series_and_only_what_waits() {
        let now = "2026-12-07T12:00:00Z".parse().unwrap();
        let events = [
            at("later", "2026-12-09T10:00:00", json!({})),
            at("past", "2026-12-06T10:00:00", json!({})),
            at(
                "s2",
                "2026-12-10T10:00:00",
                json!({"seriesMasterId": "m", "type": "occurrence"}),
            ),
            at(
                "s1",
                "2026-12-08T10:00:00",
                json!({"seriesMasterId": "m", "type": "occurrence"}),
            ),
            at(
                "mine",
                "2026-12-08T10:00:00",
                json!({"isOrganizer": true, "responseStatus": {"response": "organizer"}}),
            ),
            at(
                "answered",
                "2026-12-08T10:00:00",
                json!({"responseStatus": {"response": "accepted"}}),
            ),
            at("off", "2026-12-08T10:00:00", json!({"isCancelled": true})),
            at(
                "unasked",
                "2026-12-11T10:00:00",
                json!({"responseStatus": {"response": "none"}}),
            ),
        ];
        let got: Vec<(String, usize)> = pick(&events, now)
            .into_iter()
            .map(|i| (i.event.event.id.to_string(), i.occurrences))
            .collect();
        assert_eq!(
            got,
            [("s1".into(), 2), ("later".into(), 1), ("unasked".into(), 1)]
        );
    }
}
