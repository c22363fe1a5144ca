//! When reminders are due: pure, over a given clock, so every rule is tested without waiting.
//!
//! An event reminds `reminderMinutesBeforeStart` before it starts (the configured default when
//! it names none) unless its reminder is off, it is cancelled, or you declined it. A reminder
//! is shown once: the marks remember which (event, start) were shown, so a restart does not
//! show them again, a moved event (a new start) reminds again, and one missed while nothing ran
//! is shown once as long as the event has not ended. A snoozed one is due again at its time.

use chrono::{DateTime, Duration, Utc};

use crate::model::{CachedEvent, Event};
use crate::store::ReminderMark;

/// A reminder to show now.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    /// The event.
    pub event: CachedEvent,
    /// The start it reminds of.
    pub start: DateTime<Utc>,
    /// Its end.
    pub end: DateTime<Utc>,
    /// How long before the start it was meant to be shown.
    pub lead: Duration,
}

impl Due {
    /// Whole minutes until the start (negative once it has begun), rounded towards the start.
    pub fn minutes_to_start(&self, now: DateTime<Utc>) -> i64 {
        let secs = (self.start - now).num_seconds();
        if secs >= 0 {
            (secs + 59) / 60
        } else {
            secs / 60
        }
    }
}

/// How long before its start an event reminds, or None when it does not.
pub fn lead(event: &Event, default_minutes: u32) -> Option<Duration> {
    if !event.attending() || event.is_stub() || event.reminder_on == Some(false) {
        return None;
    }
    let minutes = event.reminder_minutes.unwrap_or(default_minutes);
    Some(Duration::minutes(i64::from(minutes)))
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn mark_of<'m>(
    marks: &'m [ReminderMark],
    c: &CachedEvent,
    start: DateTime<Utc>,
) -> Option<&'m ReminderMark> {
    marks
        .iter()
        .find(|m| m.view == c.view && m.id == c.event.id && m.start_ms == ms(start))
}

/// The reminders due at `now` that have not been shown (or whose snooze ran out), soonest
/// start first.
pub fn due(
    events: &[CachedEvent],
    now: DateTime<Utc>,
    default_minutes: u32,
    marks: &[ReminderMark],
) -> Vec<Due> {
    let mut due: Vec<Due> = events
        .iter()
        .filter_map(|c| {
            let lead = lead(&c.event, default_minutes)?;
            let (start, end) = c.event.span()?;
            // Over once it has ended (a zero-length event: once it has begun).
            let over = if end > start { now >= end } else { now > start };
            if now < start - lead || over {
                return None;
            }
            match mark_of(marks, c, start) {
                Some(ReminderMark {
                    snoozed_until_ms: Some(until),
                    ..
                }) if *until <= ms(now) => {}
                Some(_) => return None,
                None => {}
            }
            Some(Due {
                event: c.clone(),
                start,
                end,
                lead,
            })
        })
        .collect();
    due.sort_by(|a, b| (a.start, &a.event.event.id).cmp(&(b.start, &b.event.event.id)));
    due
}

/// The next instant after `now` at which a reminder falls due (a lead reached, a snooze over).
pub fn next_due_at(
    events: &[CachedEvent],
    now: DateTime<Utc>,
    default_minutes: u32,
    marks: &[ReminderMark],
) -> Option<DateTime<Utc>> {
    let leads = events.iter().filter_map(|c| {
        let lead = lead(&c.event, default_minutes)?;
        let (start, _) = c.event.span()?;
        let at = start - lead;
        (at > now && mark_of(marks, c, start).is_none()).then_some(at)
    });
    let snoozes = marks
        .iter()
        .filter_map(|m| m.snoozed_until_ms)
        .filter_map(DateTime::from_timestamp_millis)
        .filter(|at| *at > now);
    leads.chain(snoozes).min()
}

/// Records that `due` was shown (ending any snooze of it).
pub fn mark_shown(marks: &mut Vec<ReminderMark>, due: &Due) {
    set_mark(marks, due, None);
}

/// Records that `due` was snoozed until `until`.
pub fn snooze(marks: &mut Vec<ReminderMark>, due: &Due, until: DateTime<Utc>) {
    set_mark(marks, due, Some(ms(until)));
}

fn set_mark(marks: &mut Vec<ReminderMark>, due: &Due, snoozed_until_ms: Option<i64>) {
    marks.retain(|m| {
        !(m.view == due.event.view && m.id == due.event.event.id && m.start_ms == ms(due.start))
    });
    marks.push(ReminderMark {
        view: due.event.view.clone(),
        id: due.event.event.id.clone(),
        start_ms: ms(due.start),
        end_ms: ms(due.end),
        snoozed_until_ms,
    });
}

/// Drops the marks of events that have ended: they can never be due again.
pub fn prune(marks: &mut Vec<ReminderMark>, now: DateTime<Utc>) {
    marks.retain(|m| m.end_ms > ms(now) || m.snoozed_until_ms.is_some_and(|u| u > ms(now)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> DateTime<Utc> {
        format!("2026-11-24T{s}:00Z").parse().unwrap()
    }

    fn event(id: &str, from: &str, to: &str, extra: serde_json::Value) -> CachedEvent {
        let mut v = json!({"id": id, "subject": id,
            "start": {"dateTime": format!("2026-11-24T{from}:00"), "timeZone": "UTC"},
            "end": {"dateTime": format!("2026-11-24T{to}:00"), "timeZone": "UTC"},
            "isReminderOn": true, "reminderMinutesBeforeStart": 15});
        if let (Some(o), Some(x)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(x.clone());
        }
        CachedEvent {
            view: "default".into(),
            event: Event::from_graph(&v).unwrap(),
        }
    }

    fn ids(due: &[Due]) -> Vec<&str> {
        due.iter().map(|d| d.event.event.id.as_str()).collect()
    }

    #[test]
    fn due_at_the_lead_and_once() {
        let events = vec![event("call", "10:00", "10:30", json!({}))];
        let mut marks = Vec::new();
        assert!(due(&events, at("09:44"), 5, &marks).is_empty());
        assert_eq!(
            next_due_at(&events, at("09:44"), 5, &marks),
            Some(at("09:45"))
        );
        let now = due(&events, at("09:45"), 5, &marks);
        assert_eq!(ids(&now), ["call"]);
        assert_eq!(now[0].minutes_to_start(at("09:45")), 15);
        mark_shown(&mut marks, &now[0]);
        assert!(
            due(&events, at("09:50"), 5, &marks).is_empty(),
            "shown once"
        );
        assert_eq!(next_due_at(&events, at("09:50"), 5, &marks), None);
    }

    #[test]
    fn the_default_lead_serves_events_without_one_and_off_means_off() {
        let events = vec![
            event(
                "plain",
                "10:00",
                "10:30",
                json!({"reminderMinutesBeforeStart": null}),
            ),
            event("off", "10:00", "10:30", json!({"isReminderOn": false})),
        ];
        assert!(due(&events, at("09:54"), 5, &[]).is_empty());
        assert_eq!(ids(&due(&events, at("09:55"), 5, &[])), ["plain"]);
    }

    #[test]
    fn snoozed_reminders_come_back_at_their_time_also_after_a_restart() {
        let events = vec![event("call", "10:00", "10:30", json!({}))];
        let mut marks = Vec::new();
        let now = due(&events, at("09:45"), 15, &marks);
        snooze(&mut marks, &now[0], at("09:55"));
        // A restart reads the marks back from the cache: the same values.
        let restored: Vec<ReminderMark> =
            serde_json::from_value(serde_json::to_value(&marks).unwrap()).unwrap();
        assert!(due(&events, at("09:50"), 15, &restored).is_empty());
        assert_eq!(
            next_due_at(&events, at("09:50"), 15, &restored),
            Some(at("09:55"))
        );
        assert_eq!(ids(&due(&events, at("09:55"), 15, &restored)), ["call"]);
        let mut marks = restored;
        let d = due(&events, at("09:55"), 15, &marks).remove(0);
        mark_shown(&mut marks, &d);
        assert!(due(&events, at("09:56"), 15, &marks).is_empty());
        assert_eq!(marks.len(), 1);
    }

    #[test]
    fn a_missed_reminder_shows_once_while_the_event_lasts() {
        let events = vec![event("call", "10:00", "10:30", json!({}))];
        assert_eq!(
            ids(&due(&events, at("10:20"), 15, &[])),
            ["call"],
            "missed, still on"
        );
        assert!(due(&events, at("10:30"), 15, &[]).is_empty(), "over");
        let mut marks = Vec::new();
        let d = due(&events, at("10:20"), 15, &marks).remove(0);
        mark_shown(&mut marks, &d);
        prune(&mut marks, at("10:29"));
        assert_eq!(marks.len(), 1);
        prune(&mut marks, at("10:31"));
        assert!(marks.is_empty(), "an ended event's mark goes");
    }

    #[test]
    fn a_moved_event_reminds_again() {
        let mut marks = Vec::new();
        let before = vec![event("call", "10:00", "10:30", json!({}))];
        let d = due(&before, at("09:45"), 15, &marks).remove(0);
        mark_shown(&mut marks, &d);
        let moved = vec![event("call", "11:00", "11:30", json!({}))];
        assert!(
            due(&moved, at("09:50"), 15, &marks).is_empty(),
            "not yet at the new time"
        );
        assert_eq!(
            next_due_at(&moved, at("09:50"), 15, &marks),
            Some(at("10:45"))
        );
        assert_eq!(ids(&due(&moved, at("10:45"), 15, &marks)), ["call"]);
    }

    #[test]
    fn cancelled_and_declined_events_do_not_remind() {
        let events = vec![
            event("cancelled", "10:00", "10:30", json!({"isCancelled": true})),
            event(
                "declined",
                "10:00",
                "10:30",
                json!({"responseStatus": {"response": "declined"}}),
            ),
            event(
                "tentative",
                "10:00",
                "10:30",
                json!({"responseStatus": {"response": "tentativelyAccepted"}}),
            ),
        ];
        assert_eq!(ids(&due(&events, at("09:50"), 15, &[])), ["tentative"]);
        assert_eq!(
            next_due_at(&events, at("09:00"), 15, &[]),
            Some(at("09:45"))
        );
    }
}
