//! The emulated mailbox: calendars of events, recurring series among them, and a change log per
//! calendar so a delta link returns exactly what changed since it was issued, within its window,
//! in either of the two ways the emulator answers (see [`Mode`]).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde_json::value::{RawValue, to_raw_value};
use serde_json::{Value, json};

use super::time::{self, Window};

/// How the emulator answers calendarView delta.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// As Microsoft 365 really answers: occurrences as stubs, series masters in the delta, no
    /// `@removed` for a deleted occurrence, out-of-window noise (graph-delta.md section 7).
    #[default]
    Realistic,
    /// As the documentation describes: full occurrences, no masters.
    Documented,
}

/// What an event is to its series (Graph's `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An event on its own.
    Single,
    /// A series master.
    Master,
    /// An unchanged instance of a series.
    Occurrence,
    /// A changed instance of a series.
    Exception,
}

impl Kind {
    fn of(json: &Value) -> Kind {
        match json.get("type").and_then(Value::as_str) {
            Some("seriesMaster") => Kind::Master,
            Some("occurrence") => Kind::Occurrence,
            Some("exception") => Kind::Exception,
            _ => Kind::Single,
        }
    }

    /// An occurrence or an exception: one instance of a series.
    pub fn is_instance(self) -> bool {
        matches!(self, Kind::Occurrence | Kind::Exception)
    }
}

/// One stored event: its Graph JSON (times in UTC) and what the delta logic needs.
#[derive(Debug, Clone)]
pub struct SimEvent {
    /// Its id.
    pub id: String,
    /// What it is to its series.
    pub kind: Kind,
    /// The series master of an occurrence or exception.
    pub master: Option<String>,
    /// The Graph JSON as served in UTC (`start`/`end` in UTC), rendered once per change. The
    /// only copy kept: a parsed tree of every event would cost the emulator several times the
    /// memory (2.4 GB at 100,000 events); [`SimEvent::json`] parses it where one is needed.
    pub rendered: Arc<RawValue>,
    /// Its start.
    pub start: DateTime<Utc>,
    /// Its end.
    pub end: DateTime<Utc>,
    /// Whether it takes whole days.
    pub all_day: bool,
}

impl SimEvent {
    /// The event's Graph JSON, parsed from the rendered copy.
    pub fn json(&self) -> Value {
        serde_json::from_str(self.rendered.get()).expect("rendered from a JSON value")
    }

    fn overlaps(&self, w: &Window) -> bool {
        overlaps(self.start, self.end, w)
    }
}

fn overlaps(start: DateTime<Utc>, end: DateTime<Utc>, w: &Window) -> bool {
    start < w.end && (end > w.start || (end == start && start >= w.start))
}

/// A change to one event, remembering where it was and what it was before, so a delta can tell
/// whether the client's window saw it then and how the real service reports its going.
#[derive(Debug, Clone)]
struct LogEntry {
    seq: u64,
    id: String,
    before: Option<(DateTime<Utc>, DateTime<Utc>)>,
    kind: Kind,
    master: Option<String>,
}

/// What a delta round reports for one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeltaItem {
    /// The event's id.
    pub id: String,
    /// It went (`@removed`).
    pub removed: bool,
    /// The series the item belongs to (a master's own id for a master): pages never split one.
    pub series: Option<String>,
}

impl DeltaItem {
    /// An item that sends the event as it is.
    pub fn upsert(id: &str, series: Option<&str>) -> DeltaItem {
        DeltaItem {
            id: id.to_owned(),
            removed: false,
            series: series.map(str::to_owned),
        }
    }

    /// An item that says the event went.
    pub fn removed(id: &str, series: Option<&str>) -> DeltaItem {
        DeltaItem {
            removed: true,
            ..DeltaItem::upsert(id, series)
        }
    }
}

/// Orders items so that every series is contiguous, at the place of its first item.
fn group_series(items: Vec<DeltaItem>) -> Vec<DeltaItem> {
    let mut by_series: HashMap<String, Vec<DeltaItem>> = HashMap::new();
    let mut order: Vec<Result<DeltaItem, String>> = Vec::new();
    for item in items {
        match item.series.clone() {
            None => order.push(Ok(item)),
            Some(series) => {
                let group = by_series.entry(series.clone()).or_default();
                if group.is_empty() {
                    order.push(Err(series));
                }
                group.push(item);
            }
        }
    }
    let mut out = Vec::new();
    for slot in order {
        match slot {
            Ok(item) => out.push(item),
            Err(series) => out.extend(by_series.remove(&series).unwrap_or_default()),
        }
    }
    out
}

/// One calendar of the emulated user.
#[derive(Debug, Default)]
pub struct Calendar {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its colour, as Graph names it.
    pub color: String,
    /// Its events, by id.
    pub events: HashMap<String, SimEvent>,
    /// Whether Teams meetings can be made in it (its `allowedOnlineMeetingProviders`); a create
    /// asking for one where it cannot is made without one, silently, as Graph does.
    pub allows_teams: bool,
    log: Vec<LogEntry>,
}

/// Why a control request on the mailbox failed.
#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    /// No such calendar.
    #[error("no calendar {0}")]
    NoCalendar(String),
    /// No such event.
    #[error("no event {0}")]
    NoEvent(String),
    /// An event that does not read.
    #[error("{0}")]
    BadEvent(String),
}

/// All calendars of the emulated user, and the global change counter.
#[derive(Debug)]
pub struct Mailbox {
    /// The calendars, the default one first.
    pub calendars: Vec<Calendar>,
    seq: u64,
    next_id: u64,
    /// Changes whose echo in the delta comes late (held back) or twice (logged again), by
    /// calendar: logged when the next delta round ends.
    echoes: Vec<(String, LogEntry)>,
}

/// How a write comes back in the delta (the real service: "possibly late and possibly twice").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// In the next round.
    Prompt,
    /// Not in the next round, in the one after.
    Late,
    /// In the next round, and again in the one after.
    Twice,
}

/// What the control API and the default-calendar routes call the default calendar, whose own id
/// is as opaque as any other.
pub const DEFAULT_CALENDAR: &str = "default";

impl Mailbox {
    /// A mailbox with `count` empty calendars; the first is the default one.
    pub fn new(count: usize) -> Mailbox {
        let colors = ["auto", "lightBlue", "lightGreen", "lightOrange", "lightRed"];
        let calendars = (0..count.max(1))
            .map(|i| Calendar {
                id: if i == 0 {
                    "AAMkAGVmMDEzMTM4LTZmYWUtNDdkNC1hMDZiLTU1OGY5OTZhYmY4OABGAAAAAAAiQ8W967B7TKBjgx9rVEURBwAiIsqMbYjsT5e-T7KzowPTAAAAAAEGAAA=".to_owned()
                } else {
                    format!("AAMkCal{i:04}AAA=")
                },
                name: if i == 0 {
                    "Calendar".into()
                } else {
                    format!("Calendar {}", i + 1)
                },
                color: colors[i % colors.len()].into(),
                // Some calendars (the third, the fifth, ...) allow no Teams meetings.
                allows_teams: i == 0 || i % 2 == 1,
                ..Calendar::default()
            })
            .collect();
        Mailbox {
            calendars,
            seq: 1,
            next_id: 1,
            echoes: Vec::new(),
        }
    }

    /// How many changes a calendar's log holds: a write's changes are those logged after it.
    pub fn log_len(&self, calendar: &str) -> usize {
        self.calendar(calendar).map_or(0, |c| c.log.len())
    }

    /// Makes the changes `calendar` logged from `from` on come back as `echo` says.
    pub fn echo(&mut self, calendar: &str, from: usize, echo: Echo) {
        let Ok(cal) = self.calendar_mut(calendar) else {
            return;
        };
        let from = from.min(cal.log.len());
        let entries: Vec<LogEntry> = match echo {
            Echo::Prompt => return,
            Echo::Late => cal.log.drain(from..).collect(),
            Echo::Twice => cal.log[from..].to_vec(),
        };
        let id = cal.id.clone();
        self.echoes
            .extend(entries.into_iter().map(|e| (id.clone(), e)));
    }

    /// A delta round ended: the changes held back, or to come again, are logged now, so the
    /// next round brings them.
    pub fn release_echoes(&mut self) {
        for (calendar, mut entry) in std::mem::take(&mut self.echoes) {
            self.seq += 1;
            entry.seq = self.seq;
            if let Ok(cal) = self.calendar_mut(&calendar) {
                cal.log.push(entry);
            }
        }
    }

    /// The last change's number.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// A calendar by id, or the default one by [`DEFAULT_CALENDAR`].
    pub fn calendar(&self, id: &str) -> Result<&Calendar, MailboxError> {
        let index = self.calendar_index(id)?;
        Ok(&self.calendars[index])
    }

    fn calendar_mut(&mut self, id: &str) -> Result<&mut Calendar, MailboxError> {
        let index = self.calendar_index(id)?;
        Ok(&mut self.calendars[index])
    }

    fn calendar_index(&self, id: &str) -> Result<usize, MailboxError> {
        if id == DEFAULT_CALENDAR {
            return Ok(0);
        }
        self.calendars
            .iter()
            .position(|c| c.id == id)
            .ok_or_else(|| MailboxError::NoCalendar(id.to_owned()))
    }

    /// An event of any calendar.
    pub fn event(&self, id: &str) -> Option<&SimEvent> {
        self.calendars.iter().find_map(|c| c.events.get(id))
    }

    /// The instances of a series overlapping a window, in start order.
    pub fn instances(&self, master: &str, window: &Window) -> Vec<&SimEvent> {
        let mut found: Vec<&SimEvent> = self
            .calendars
            .iter()
            .flat_map(|c| c.events.values())
            .filter(|e| e.master.as_deref() == Some(master) && e.overlaps(window))
            .collect();
        found.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
        found
    }

    /// Every instance id of a series.
    fn instance_ids(&self, calendar: &str, master: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .calendar(calendar)
            .map(|c| {
                c.events
                    .values()
                    .filter(|e| e.master.as_deref() == Some(master))
                    .map(|e| e.id.clone())
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids
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

    /// Creates an event (the server assigns `id`, `changeKey`, etag and timestamps). Properties
    /// the JSON leaves out get the values a real event has for them.
    pub fn create(&mut self, calendar: &str, json: Value) -> Result<Value, MailboxError> {
        self.calendar(calendar)?;
        let Value::Object(given) = json else {
            return Err(MailboxError::BadEvent(
                "an event must be a JSON object".into(),
            ));
        };
        let mut json = event_template();
        for (k, v) in given {
            json[k] = v;
        }
        let id = self.new_id();
        json["id"] = Value::String(id.clone());
        if json["iCalUId"].is_null() {
            json["iCalUId"] = Value::String(format!("040000008200E00074C5B7101A82E0080000000{id}"));
        }
        self.write(calendar, &id, json)
    }

    /// Creates a recurring series: its master and its instances, each an `occurrence` unless
    /// its `type` says `exception`. Returns the master's id. The master keeps the times it is
    /// given (the pattern's first slot), else the first instance's; without a `recurrence` it
    /// gets a weekly one from its start, numbered by the instances. An instance without an
    /// `originalStart` (its slot in the pattern, in UTC) gets its start.
    pub fn create_series(
        &mut self,
        calendar: &str,
        mut master: Value,
        instances: Vec<Value>,
    ) -> Result<String, MailboxError> {
        let first = instances
            .first()
            .ok_or_else(|| MailboxError::BadEvent("a series needs instances".into()))?;
        master["type"] = json!("seriesMaster");
        if master.get("start").is_none_or(Value::is_null) {
            master["start"] = first["start"].clone();
            master["end"] = first["end"].clone();
        }
        if master.get("recurrence").is_none_or(Value::is_null) {
            master["recurrence"] = weekly_recurrence(&master, instances.len())?;
        }
        let id = self.create(calendar, master)?["id"]
            .as_str()
            .expect("created events have ids")
            .to_owned();
        for mut instance in instances {
            if instance["type"] != "exception" {
                instance["type"] = json!("occurrence");
            }
            instance["seriesMasterId"] = json!(id);
            if instance.get("originalStart").is_none_or(Value::is_null) {
                let (start, _, _) = times_of(&instance)?;
                instance["originalStart"] = json!(original_start(start));
            }
            self.create(calendar, instance)?;
        }
        Ok(id)
    }

    /// Merges `patch` into an event's top-level fields. A patch to a series master applies to
    /// its instances too (a new start moves the whole series); a patched occurrence becomes an
    /// exception. A change to an instance changes its master's changeKey, as on the real service.
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
        let old = self.calendar(&calendar)?.events[id].clone();
        let mut json = old.json();
        for (k, v) in &patch {
            if k != "id" {
                json[k] = v.clone();
            }
        }
        match old.kind {
            Kind::Single => self.write(&calendar, id, json),
            Kind::Occurrence | Kind::Exception => {
                json["type"] = json!("exception");
                let written = self.write(&calendar, id, json)?;
                if let Some(master) = &old.master {
                    self.touch(&calendar, master)?;
                }
                Ok(written)
            }
            Kind::Master => {
                let (start, _, all_day) = times_of(&json)?;
                let shift = start - old.start;
                // A series moved keeps its instances at one wall-clock time in its zone, as
                // Outlook's do, on both sides of a change of clocks.
                let label = json["recurrence"]["range"]["recurrenceTimeZone"]
                    .as_str()
                    .map(str::to_owned);
                let zone = label.as_deref().and_then(time::zone).unwrap_or(Tz::UTC);
                let local = |t: DateTime<Utc>| t.with_timezone(&zone).naive_local();
                let wall_shift = local(start) - local(old.start);
                let moved = |t: DateTime<Utc>| match all_day {
                    true => t + shift,
                    false => time::instant(local(t) + wall_shift, zone),
                };
                if !shift.is_zero()
                    && !patch.contains_key("recurrence")
                    && let Some(count) = json["recurrence"]["range"]["numberOfOccurrences"]
                        .as_u64()
                        .filter(|n| *n > 0)
                {
                    let first = if all_day {
                        start.naive_utc()
                    } else {
                        local(start)
                    };
                    json["recurrence"] =
                        weekly_from(first, label.as_deref().unwrap_or("UTC"), count as usize);
                }
                let written = self.write(&calendar, id, json)?;
                for instance in self.instance_ids(&calendar, id) {
                    let event = &self.calendar(&calendar)?.events[&instance];
                    let mut json = event.json();
                    for (k, v) in &patch {
                        if !matches!(
                            k.as_str(),
                            "id" | "start" | "end" | "type" | "originalStart"
                        ) {
                            json[k] = v.clone();
                        }
                    }
                    let start = moved(event.start);
                    json["start"] = render_time(start, event.all_day, Tz::UTC);
                    json["end"] =
                        render_time(start + (event.end - event.start), event.all_day, Tz::UTC);
                    if let Some(slot) = json["originalStart"]
                        .as_str()
                        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    {
                        json["originalStart"] = json!(original_start(moved(slot.to_utc())));
                    }
                    self.write(&calendar, &instance, json)?;
                }
                Ok(written)
            }
        }
    }

    /// Deletes an event. A master takes its instances with it; a deleted instance changes its
    /// master's changeKey.
    pub fn delete(&mut self, id: &str) -> Result<(), MailboxError> {
        let calendar = self
            .calendar_of(id)
            .ok_or_else(|| MailboxError::NoEvent(id.to_owned()))?
            .to_owned();
        let old = self.calendar(&calendar)?.events[id].clone();
        if old.kind == Kind::Master {
            for instance in self.instance_ids(&calendar, id) {
                self.remove(&calendar, &instance)?;
            }
        }
        self.remove(&calendar, id)?;
        if let Some(master) = &old.master {
            self.touch(&calendar, master)?;
        }
        Ok(())
    }

    fn remove(&mut self, calendar: &str, id: &str) -> Result<(), MailboxError> {
        self.seq += 1;
        let seq = self.seq;
        let cal = self.calendar_mut(calendar)?;
        let old = cal
            .events
            .remove(id)
            .ok_or_else(|| MailboxError::NoEvent(id.to_owned()))?;
        cal.log.push(LogEntry {
            seq,
            id: id.to_owned(),
            before: Some((old.start, old.end)),
            kind: old.kind,
            master: old.master,
        });
        Ok(())
    }

    /// Writes an event again as it is: a new changeKey, and a change in the log.
    fn touch(&mut self, calendar: &str, id: &str) -> Result<(), MailboxError> {
        let Some(event) = self.calendar(calendar)?.events.get(id) else {
            return Ok(());
        };
        let json = event.json();
        self.write(calendar, id, json).map(drop)
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
        let kind = Kind::of(&json);
        let master = kind
            .is_instance()
            .then(|| json.get("seriesMasterId").and_then(Value::as_str))
            .flatten()
            .map(str::to_owned);
        let rendered = Arc::from(to_raw_value(&json).expect("JSON serialises"));
        let cal = self.calendar_mut(calendar)?;
        let before = cal.events.get(id).map(|e| (e.start, e.end));
        cal.log.push(LogEntry {
            seq,
            id: id.to_owned(),
            before,
            kind,
            master: master.clone(),
        });
        cal.events.insert(
            id.to_owned(),
            SimEvent {
                id: id.to_owned(),
                kind,
                master,
                rendered,
                start,
                end,
                all_day,
            },
        );
        Ok(json)
    }

    /// Every event of a calendar overlapping a window, series masters among them (by the times of
    /// their first instance), in a stable order (start, then id).
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

    /// What `/me/calendarView` lists for a window: every event but the masters.
    pub fn calendar_view(
        &self,
        calendar: &str,
        window: &Window,
    ) -> Result<Vec<&SimEvent>, MailboxError> {
        let mut events = self.in_window(calendar, window)?;
        events.retain(|e| e.kind != Kind::Master);
        Ok(events)
    }

    /// The items of a full round over a window.
    pub fn full_round(
        &self,
        calendar: &str,
        window: &Window,
        mode: Mode,
    ) -> Result<Vec<DeltaItem>, MailboxError> {
        let items = self
            .in_window(calendar, window)?
            .into_iter()
            .filter(|e| mode == Mode::Realistic || e.kind != Kind::Master)
            .map(|e| DeltaItem::upsert(&e.id, e.series()))
            .collect();
        Ok(match mode {
            Mode::Realistic => group_series(items),
            Mode::Documented => items,
        })
    }

    /// What changed in a window since `since`, later changes to an event collapsed into one item.
    ///
    /// Documented: events now in the window are upserts; events that were in it at `since` and
    /// are no longer are removals. Realistic, as the real service: a changed series' master comes
    /// again wherever it is; an instance that left the window or was deleted leaves no trace;
    /// a deleted series gives `@removed` for its master; any other event not in the window now
    /// comes as `@removed`, whether the client ever saw it or not.
    pub fn changes_since(
        &self,
        calendar: &str,
        window: &Window,
        since: u64,
        mode: Mode,
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
            let now = cal.events.get(&entry.id);
            let now_in = now.is_some_and(|e| e.overlaps(window));
            let kind = now.map_or(entry.kind, |e| e.kind);
            let series = match kind {
                Kind::Master => Some(entry.id.as_str()),
                _ => now.map_or(entry.master.as_deref(), |e| e.master.as_deref()),
            };
            let item = match (mode, kind) {
                (Mode::Documented, Kind::Master) => None,
                (Mode::Documented, _) if now_in => Some(DeltaItem::upsert(&entry.id, series)),
                (Mode::Documented, _) if was_in => Some(DeltaItem::removed(&entry.id, series)),
                (Mode::Documented, _) => None,
                (Mode::Realistic, Kind::Master) if now.is_some() => {
                    Some(DeltaItem::upsert(&entry.id, series))
                }
                (Mode::Realistic, Kind::Master) => Some(DeltaItem::removed(&entry.id, series)),
                (Mode::Realistic, _) if now_in => Some(DeltaItem::upsert(&entry.id, series)),
                (Mode::Realistic, Kind::Occurrence | Kind::Exception) => None,
                (Mode::Realistic, Kind::Single) => Some(DeltaItem::removed(&entry.id, series)),
            };
            items.extend(item);
        }
        if mode == Mode::Realistic {
            // A master comes again with the series' remaining instances in the window.
            let reported: std::collections::HashSet<String> =
                items.iter().map(|i| i.id.clone()).collect();
            let masters: Vec<String> = items
                .iter()
                .filter(|i| !i.removed && i.series.as_deref() == Some(i.id.as_str()))
                .map(|i| i.id.clone())
                .collect();
            for master in masters {
                for instance in self.instances(&master, window) {
                    if !reported.contains(&instance.id) {
                        items.push(DeltaItem::upsert(&instance.id, Some(&master)));
                    }
                }
            }
        }
        Ok(match mode {
            Mode::Realistic => group_series(items),
            Mode::Documented => items,
        })
    }

    /// An event's JSON with times in `zone`, if it still exists and (masters aside) overlaps the
    /// window. In the realistic mode an occurrence is the stub the real delta sends. `label` is
    /// the zone name as the client asked for it (Graph echoes it).
    pub fn render(
        &self,
        calendar: &str,
        id: &str,
        window: &Window,
        (zone, label): (Tz, &str),
        mode: Mode,
    ) -> Option<Arc<RawValue>> {
        let event = self.calendar(calendar).ok()?.events.get(id)?;
        if event.kind != Kind::Master && !event.overlaps(window) {
            return None;
        }
        let stub = mode == Mode::Realistic && event.kind == Kind::Occurrence;
        if zone == Tz::UTC && !stub {
            return Some(event.rendered.clone());
        }
        let mut json = if stub {
            // Only the stub's keys are read out of the rendered event: a full round of a large
            // calendar is mostly stubs, and parsing each whole event took most of the round.
            let keys: StubKeys<'_> =
                serde_json::from_str(event.rendered.get()).expect("rendered from a JSON value");
            let mut stub = json!({});
            for (key, raw) in [
                ("@odata.type", keys.odata_type),
                ("@odata.etag", keys.etag),
                ("id", keys.id),
                ("seriesMasterId", keys.series_master_id),
                ("type", keys.kind),
            ] {
                stub[key] = raw
                    .and_then(|raw| serde_json::from_str(raw.get()).ok())
                    .unwrap_or(Value::Null);
            }
            stub
        } else {
            event.json()
        };
        json["start"] = render_time(event.start, event.all_day, zone);
        json["end"] = render_time(event.end, event.all_day, zone);
        if zone != Tz::UTC {
            json["start"]["timeZone"] = Value::String(label.to_owned());
            json["end"]["timeZone"] = Value::String(label.to_owned());
        }
        Some(Arc::from(to_raw_value(&json).expect("JSON serialises")))
    }
}

/// The keys of an event that its stub keeps, borrowed from its rendered JSON.
#[derive(serde::Deserialize)]
struct StubKeys<'a> {
    #[serde(rename = "@odata.type", borrow)]
    odata_type: Option<&'a RawValue>,
    #[serde(rename = "@odata.etag", borrow)]
    etag: Option<&'a RawValue>,
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(rename = "seriesMasterId", borrow)]
    series_master_id: Option<&'a RawValue>,
    #[serde(rename = "type", borrow)]
    kind: Option<&'a RawValue>,
}

impl SimEvent {
    /// The series an event belongs to: a master's own id, an instance's master.
    pub fn series(&self) -> Option<&str> {
        match self.kind {
            Kind::Master => Some(&self.id),
            _ => self.master.as_deref(),
        }
    }
}

/// Every property a Graph event has, at the values a new event gets.
fn event_template() -> Value {
    json!({
        "@odata.type": "#microsoft.graph.event",
        "categories": [], "originalStartTimeZone": "UTC", "originalEndTimeZone": "UTC",
        "iCalUId": null, "reminderMinutesBeforeStart": 15, "isReminderOn": true,
        "hasAttachments": false, "subject": "", "bodyPreview": "", "importance": "normal",
        "sensitivity": "normal", "isAllDay": false, "isCancelled": false, "isOrganizer": true,
        "responseRequested": true, "seriesMasterId": null, "showAs": "busy", "type": "singleInstance",
        "webLink": null, "onlineMeetingUrl": null, "isOnlineMeeting": false,
        "onlineMeetingProvider": "unknown", "allowNewTimeProposals": true, "isDraft": false,
        "hideAttendees": false,
        "responseStatus": {"response": "organizer", "time": "0001-01-01T00:00:00Z"},
        "body": {"contentType": "html", "content": ""},
        "location": {"displayName": "", "locationType": "default", "uniqueIdType": "unknown"},
        "locations": [], "recurrence": null, "attendees": [],
        "organizer": {"emailAddress": {"name": "Samantha Booth", "address": "samanthab@contoso.com"}},
        "onlineMeeting": null,
    })
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

/// Graph's `originalStart`: an instant in UTC, to the second.
fn original_start(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Graph's `recurrence` of a weekly series whose first slot is `master`'s start, with `count`
/// instances: the weekday and date of that start in the zone the master is written in.
fn weekly_recurrence(master: &Value, count: usize) -> Result<Value, MailboxError> {
    let start = &master["start"];
    let local = start["dateTime"]
        .as_str()
        .and_then(time::wall_time)
        .ok_or_else(|| MailboxError::BadEvent("`start.dateTime` is not a time".into()))?;
    Ok(weekly_from(
        local,
        start["timeZone"].as_str().unwrap_or("UTC"),
        count,
    ))
}

/// Graph's `recurrence` of a weekly series from `first` (wall time in `zone`), `count` long.
fn weekly_from(first: NaiveDateTime, zone: &str, count: usize) -> Value {
    json!({
        "pattern": {"type": "weekly", "interval": 1, "month": 0, "dayOfMonth": 0,
            "daysOfWeek": [first.format("%A").to_string().to_lowercase()],
            "firstDayOfWeek": "sunday", "index": "first"},
        "range": {"type": "numbered", "startDate": first.date().to_string(),
            "endDate": "0001-01-01", "recurrenceTimeZone": zone, "numberOfOccurrences": count},
    })
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
        let items = m
            .changes_since("default", &w, since, Mode::Documented)
            .unwrap();
        assert_eq!(
            items,
            vec![
                DeltaItem::removed(&id_in, None),
                DeltaItem::upsert(&id_out, None)
            ]
        );
        // The real service also reports the far event it never showed, as removed.
        let items = m
            .changes_since("default", &w, since, Mode::Realistic)
            .unwrap();
        assert_eq!(items.len(), 3);
        assert!(items[2].removed);
    }

    fn series(m: &mut Mailbox, weeks: i64) -> (String, Vec<String>) {
        let instances = (0..weeks)
            .map(|i| {
                let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()
                    + chrono::Duration::weeks(i);
                ev(&format!("{day}T10:00:00"), &format!("{day}T11:00:00"))
            })
            .collect();
        let master = m
            .create_series("default", json!({"subject": "Weekly"}), instances)
            .unwrap();
        let ids = m.instance_ids("default", &master);
        (master, ids)
    }

    #[test]
    fn series_change_as_the_real_service_reports_them() {
        let mut m = Mailbox::new(1);
        let w = window("2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z");
        let (master, instances) = series(&mut m, 6);
        assert_eq!(instances.len(), 6);
        let full = m.full_round("default", &w, Mode::Realistic).unwrap();
        // The master and the four instances in January, one series, together.
        assert_eq!(full.len(), 5);
        assert!(
            full.iter()
                .all(|i| i.series.as_deref() == Some(master.as_str()))
        );
        assert_eq!(
            m.full_round("default", &w, Mode::Documented).unwrap().len(),
            4
        );
        let in_window = m.instances(&master, &w);
        let stub = m
            .render(
                "default",
                &in_window[0].id,
                &w,
                (Tz::UTC, "UTC"),
                Mode::Realistic,
            )
            .unwrap();
        let stub: Value = serde_json::from_str(stub.get()).unwrap();
        assert_eq!(stub["type"], "occurrence");
        assert!(stub.get("subject").is_none(), "{stub}");

        // One occurrence deleted: no trace of it, the master comes again with the rest.
        let since = m.seq();
        let gone = in_window[1].id.clone();
        let ids_in_window: Vec<String> = in_window.iter().map(|e| e.id.clone()).collect();
        m.delete(&gone).unwrap();
        let items = m
            .changes_since("default", &w, since, Mode::Realistic)
            .unwrap();
        assert_eq!(items[0], DeltaItem::upsert(&master, Some(&master)));
        let rest: Vec<&str> = items[1..].iter().map(|i| i.id.as_str()).collect();
        let want: Vec<&str> = ids_in_window
            .iter()
            .map(String::as_str)
            .filter(|id| *id != gone)
            .collect();
        assert_eq!(rest, want, "the remaining instances come with it");
        let items = m
            .changes_since("default", &w, since, Mode::Documented)
            .unwrap();
        assert_eq!(items, vec![DeltaItem::removed(&gone, Some(&master))]);

        // Renaming the series renames its instances.
        m.update(&master, json!({"subject": "Renamed"})).unwrap();
        assert!(
            m.instances(&master, &w)
                .iter()
                .all(|e| e.json()["subject"] == "Renamed")
        );

        // A deleted series: @removed for its master alone.
        let since = m.seq();
        m.delete(&master).unwrap();
        let items = m
            .changes_since("default", &w, since, Mode::Realistic)
            .unwrap();
        assert_eq!(items, vec![DeltaItem::removed(&master, Some(&master))]);
        assert!(m.instances(&master, &w).is_empty());
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
                (Tz::America__Los_Angeles, "Pacific Standard Time"),
                Mode::Realistic,
            )
            .unwrap();
        let v: Value = serde_json::from_str(text.get()).unwrap();
        assert_eq!(v["start"]["dateTime"], "2026-07-01T09:00:00.0000000");
        assert_eq!(v["start"]["timeZone"], "Pacific Standard Time");
    }
}
