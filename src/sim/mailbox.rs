//! The emulated mailbox: calendars of events, and a change log per calendar so a delta link
//! returns exactly what changed since it was issued, within its window.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde_json::value::{RawValue, to_raw_value};
use serde_json::{Value, json};

use super::time::{self, Window};

/// One stored event: its Graph JSON (times in UTC) and what the delta logic needs.
#[derive(Debug, Clone)]
pub struct SimEvent {
    pub id: String,
    /// Graph JSON with `start`/`end` in UTC.
    pub json: Value,
    /// The JSON as served in UTC, rendered once per change.
    pub rendered: Arc<RawValue>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub all_day: bool,
}

impl SimEvent {
    fn overlaps(&self, w: &Window) -> bool {
        overlaps(self.start, self.end, w)
    }
}

fn overlaps(start: DateTime<Utc>, end: DateTime<Utc>, w: &Window) -> bool {
    start < w.end && (end > w.start || (end == start && start >= w.start))
}

/// A change to one event, remembering where it was before, so a delta can tell whether the
/// client's window saw it then.
#[derive(Debug, Clone)]
struct LogEntry {
    seq: u64,
    id: String,
    before: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// What a delta round reports for one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeltaItem {
    Upsert(String),
    Removed(String),
}

#[derive(Debug, Default)]
pub struct Calendar {
    pub id: String,
    pub name: String,
    pub color: String,
    pub events: HashMap<String, SimEvent>,
    log: Vec<LogEntry>,
}

/// Why a control request on the mailbox failed.
#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    #[error("no calendar {0}")]
    NoCalendar(String),
    #[error("no event {0}")]
    NoEvent(String),
    #[error("{0}")]
    BadEvent(String),
}

/// All calendars of the emulated user, and the global change counter.
#[derive(Debug)]
pub struct Mailbox {
    pub calendars: Vec<Calendar>,
    seq: u64,
    next_id: u64,
}

/// The key the client-facing API uses for the default calendar.
pub const DEFAULT_CALENDAR: &str = "default";

impl Mailbox {
    /// A mailbox with `count` empty calendars; the first is the default one.
    pub fn new(count: usize) -> Mailbox {
        let colors = ["auto", "lightBlue", "lightGreen", "lightOrange", "lightRed"];
        let calendars = (0..count.max(1))
            .map(|i| Calendar {
                id: if i == 0 {
                    DEFAULT_CALENDAR.to_owned()
                } else {
                    format!("AAMkCal{i:04}AAA=")
                },
                name: if i == 0 {
                    "Calendar".into()
                } else {
                    format!("Calendar {}", i + 1)
                },
                color: colors[i % colors.len()].into(),
                ..Calendar::default()
            })
            .collect();
        Mailbox {
            calendars,
            seq: 1,
            next_id: 1,
        }
    }

    pub fn seq(&self) -> u64 {
        self.seq
    }

    pub fn calendar(&self, id: &str) -> Result<&Calendar, MailboxError> {
        self.calendars
            .iter()
            .find(|c| c.id == id)
            .ok_or_else(|| MailboxError::NoCalendar(id.to_owned()))
    }

    fn calendar_mut(&mut self, id: &str) -> Result<&mut Calendar, MailboxError> {
        self.calendars
            .iter_mut()
            .find(|c| c.id == id)
            .ok_or_else(|| MailboxError::NoCalendar(id.to_owned()))
    }

    /// The calendar holding an event.
    pub fn calendar_of(&self, event_id: &str) -> Option<&str> {
        self.calendars
            .iter()
            .find(|c| c.events.contains_key(event_id))
            .map(|c| c.id.as_str())
    }

    /// A fresh server-assigned id, shaped like Graph's.
    pub fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("AAMkADsim{:010}AAA=", self.next_id)
    }

    /// Creates an event (the server assigns `id`, `changeKey`, etag and timestamps).
    pub fn create(&mut self, calendar: &str, mut json: Value) -> Result<Value, MailboxError> {
        self.calendar(calendar)?;
        if !json.is_object() {
            return Err(MailboxError::BadEvent(
                "an event must be a JSON object".into(),
            ));
        }
        let id = self.new_id();
        json["id"] = Value::String(id.clone());
        self.write(calendar, &id, json)
    }

    /// Merges `patch` into an event's top-level fields.
    pub fn update(&mut self, id: &str, patch: Value) -> Result<Value, MailboxError> {
        let calendar = self
            .calendar_of(id)
            .ok_or_else(|| MailboxError::NoEvent(id.to_owned()))?
            .to_owned();
        let Value::Object(patch) = patch else {
            return Err(MailboxError::BadEvent(
                "a patch must be a JSON object".into(),
            ));
        };
        let mut json = self.calendar(&calendar)?.events[id].json.clone();
        for (k, v) in patch {
            if k != "id" {
                json[k] = v;
            }
        }
        self.write(&calendar, id, json)
    }

    /// Deletes an event.
    pub fn delete(&mut self, id: &str) -> Result<(), MailboxError> {
        let calendar = self
            .calendar_of(id)
            .ok_or_else(|| MailboxError::NoEvent(id.to_owned()))?
            .to_owned();
        self.seq += 1;
        let seq = self.seq;
        let cal = self.calendar_mut(&calendar)?;
        let old = cal.events.remove(id).expect("calendar_of found it");
        cal.log.push(LogEntry {
            seq,
            id: id.to_owned(),
            before: Some((old.start, old.end)),
        });
        Ok(())
    }

    /// Stores a new version of an event, stamping version fields and logging the change.
    fn write(&mut self, calendar: &str, id: &str, mut json: Value) -> Result<Value, MailboxError> {
        let (start, end, all_day) = times_of(&json)?;
        self.seq += 1;
        let seq = self.seq;
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
        let change_key = format!("EZ9r3czxY0m2jz8c45czkw{seq:012}");
        json["changeKey"] = Value::String(change_key.clone());
        json["@odata.etag"] = Value::String(format!("W/\"{change_key}\""));
        json["lastModifiedDateTime"] = Value::String(now.clone());
        if json
            .get("createdDateTime")
            .and_then(Value::as_str)
            .is_none()
        {
            json["createdDateTime"] = Value::String(now);
        }
        json["@odata.type"] = Value::String("#microsoft.graph.event".into());
        // Times are kept in UTC; other zones are produced when serving.
        json["start"] = render_time(start, all_day, Tz::UTC);
        json["end"] = render_time(end, all_day, Tz::UTC);
        let rendered = Arc::from(to_raw_value(&json).expect("JSON serialises"));
        let cal = self.calendar_mut(calendar)?;
        let before = cal.events.get(id).map(|e| (e.start, e.end));
        cal.events.insert(
            id.to_owned(),
            SimEvent {
                id: id.to_owned(),
                json: json.clone(),
                rendered,
                start,
                end,
                all_day,
            },
        );
        cal.log.push(LogEntry {
            seq,
            id: id.to_owned(),
            before,
        });
        Ok(json)
    }

    /// Every event of a calendar overlapping a window, in a stable order (start, then id).
    pub fn in_window(
        &self,
        calendar: &str,
        window: &Window,
    ) -> Result<Vec<&SimEvent>, MailboxError> {
        let mut events: Vec<&SimEvent> = self
            .calendar(calendar)?
            .events
            .values()
            .filter(|e| e.overlaps(window))
            .collect();
        events.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
        Ok(events)
    }

    /// What changed in a window since `since`: events now in the window are upserts; events that
    /// were in it at `since` and are no longer are removals. Later changes to an event collapse
    /// into one item.
    pub fn changes_since(
        &self,
        calendar: &str,
        window: &Window,
        since: u64,
    ) -> Result<Vec<DeltaItem>, MailboxError> {
        let cal = self.calendar(calendar)?;
        let first = cal.log.partition_point(|e| e.seq <= since);
        let mut seen = std::collections::HashSet::new();
        let mut items = Vec::new();
        for entry in &cal.log[first..] {
            if !seen.insert(entry.id.as_str()) {
                continue;
            }
            let was_in = entry.before.is_some_and(|(s, e)| overlaps(s, e, window));
            let now_in = cal
                .events
                .get(&entry.id)
                .is_some_and(|e| e.overlaps(window));
            if now_in {
                items.push(DeltaItem::Upsert(entry.id.clone()));
            } else if was_in {
                items.push(DeltaItem::Removed(entry.id.clone()));
            }
        }
        Ok(items)
    }

    /// An event's JSON text with times in `zone`, if it still exists and overlaps the window.
    /// `label` is the zone name as the client asked for it (Graph echoes it).
    pub fn render(
        &self,
        calendar: &str,
        id: &str,
        window: &Window,
        zone: Tz,
        label: &str,
    ) -> Option<Arc<RawValue>> {
        let event = self.calendar(calendar).ok()?.events.get(id)?;
        if !event.overlaps(window) {
            return None;
        }
        if zone == Tz::UTC {
            return Some(event.rendered.clone());
        }
        let mut json = event.json.clone();
        json["start"] = render_time(event.start, event.all_day, zone);
        json["end"] = render_time(event.end, event.all_day, zone);
        json["start"]["timeZone"] = Value::String(label.to_owned());
        json["end"]["timeZone"] = Value::String(label.to_owned());
        Some(Arc::from(to_raw_value(&json).expect("JSON serialises")))
    }
}

/// Graph's `{"dateTime", "timeZone"}` for an instant in a zone. All-day events are dates at
/// midnight in whatever zone is asked for.
pub fn render_time(t: DateTime<Utc>, all_day: bool, zone: Tz) -> Value {
    let local = if all_day {
        t.date_naive()
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
    } else {
        t.with_timezone(&zone).naive_local()
    };
    let name = if zone == Tz::UTC { "UTC" } else { zone.name() };
    json!({"dateTime": local.format("%Y-%m-%dT%H:%M:%S.0000000").to_string(), "timeZone": name})
}

/// Reads an event's instants. All-day events are kept as UTC midnights of their dates.
fn times_of(json: &Value) -> Result<(DateTime<Utc>, DateTime<Utc>, bool), MailboxError> {
    let all_day = json
        .get("isAllDay")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let read = |key: &str| -> Result<DateTime<Utc>, MailboxError> {
        let v = json
            .get(key)
            .ok_or_else(|| MailboxError::BadEvent(format!("`{key}` is missing")))?;
        let text = v
            .get("dateTime")
            .and_then(Value::as_str)
            .ok_or_else(|| MailboxError::BadEvent(format!("`{key}.dateTime` is missing")))?;
        let local = time::wall_time(text)
            .ok_or_else(|| MailboxError::BadEvent(format!("`{key}.dateTime` is not a time")))?;
        if all_day {
            return Ok(local
                .date()
                .and_hms_opt(0, 0, 0)
                .expect("midnight")
                .and_utc());
        }
        let zone_name = v.get("timeZone").and_then(Value::as_str).unwrap_or("UTC");
        let zone = time::zone(zone_name)
            .ok_or_else(|| MailboxError::BadEvent(format!("unknown time zone `{zone_name}`")))?;
        Ok(time::instant(local, zone))
    };
    let (start, end) = (read("start")?, read("end")?);
    if end < start {
        return Err(MailboxError::BadEvent("`end` is before `start`".into()));
    }
    Ok((start, end, all_day))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(start: &str, end: &str) -> Value {
        json!({"subject": "s", "start": {"dateTime": start, "timeZone": "UTC"},
               "end": {"dateTime": end, "timeZone": "UTC"}})
    }

    fn window(a: &str, b: &str) -> Window {
        Window {
            start: a.parse().unwrap(),
            end: b.parse().unwrap(),
        }
    }

    #[test]
    fn delta_reports_moves_in_and_out_and_collapses_changes() {
        let mut m = Mailbox::new(1);
        let w = window("2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z");
        let inside = m
            .create("default", ev("2026-01-05T10:00:00", "2026-01-05T11:00:00"))
            .unwrap();
        let outside = m
            .create("default", ev("2026-03-05T10:00:00", "2026-03-05T11:00:00"))
            .unwrap();
        let id_in = inside["id"].as_str().unwrap().to_owned();
        let id_out = outside["id"].as_str().unwrap().to_owned();
        let since = m.seq();
        // Move the inside event out, and the outside one in (twice: collapses to one item).
        m.update(
            &id_in,
            json!({"start": {"dateTime": "2026-05-01T10:00:00", "timeZone": "UTC"},
                                "end": {"dateTime": "2026-05-01T11:00:00", "timeZone": "UTC"}}),
        )
        .unwrap();
        m.update(
            &id_out,
            json!({"start": {"dateTime": "2026-01-07T10:00:00", "timeZone": "UTC"},
                                 "end": {"dateTime": "2026-01-07T11:00:00", "timeZone": "UTC"}}),
        )
        .unwrap();
        m.update(&id_out, json!({"subject": "again"})).unwrap();
        let far = m
            .create("default", ev("2027-03-05T10:00:00", "2027-03-05T11:00:00"))
            .unwrap();
        m.delete(far["id"].as_str().unwrap()).unwrap();
        let items = m.changes_since("default", &w, since).unwrap();
        assert_eq!(
            items,
            vec![DeltaItem::Removed(id_in), DeltaItem::Upsert(id_out)]
        );
    }

    #[test]
    fn renders_in_the_requested_zone() {
        let mut m = Mailbox::new(1);
        let e = m
            .create("default", ev("2026-07-01T16:00:00", "2026-07-01T17:00:00"))
            .unwrap();
        let w = window("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z");
        let text = m
            .render(
                "default",
                e["id"].as_str().unwrap(),
                &w,
                Tz::America__Los_Angeles,
                "Pacific Standard Time",
            )
            .unwrap();
        let v: Value = serde_json::from_str(text.get()).unwrap();
        assert_eq!(v["start"]["dateTime"], "2026-07-01T09:00:00.0000000");
        assert_eq!(v["start"]["timeZone"], "Pacific Standard Time");
    }
}
