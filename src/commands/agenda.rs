//! `deltacal agenda`: cached events in a range of days, from the cache only.

use std::io::Write;

use chrono::{NaiveDate, Utc};

use super::{UsageError, check_data_dir, chosen_views, day_range};
use crate::commands;
use crate::config::Config;
use crate::layout::{ASCII_MARKS, day_times};
use crate::model::{CachedEvent, Event, ViewKey};
use crate::store::Store;
use crate::text;

pub use crate::json::{AgendaAttendee, AgendaItem};

/// Why the agenda has nothing to show, or cannot show it.
#[derive(Debug, thiserror::Error)]
pub enum AgendaError {
    /// No cache file yet.
    #[error("no cache yet at {0}: run `deltacal sync`")]
    NoCache(std::path::PathBuf),
    #[error(
        "the cache was damaged ({cause}); it is now {aside} and the next `deltacal sync` rebuilds it from the server"
    )]
    /// The cache was damaged and moved aside.
    MovedAside {
        /// What was wrong with it.
        cause: String,
        /// Where it is now.
        aside: std::path::PathBuf,
    },
    /// The cache failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Writing the output failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Cached events of the configured calendars that occupy any day of `[first, last]` in the
/// display zone, sorted by start then id. The cache is only read (it may be on read-only
/// media); a damaged one is moved aside for the next sync to rebuild.
pub fn events_in_days(
    config: &Config,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<Vec<CachedEvent>, AgendaError> {
    let views: Vec<ViewKey> = config.calendars.iter().map(|c| c.key.clone()).collect();
    events_of_views(config, &views, first, last)
}

/// The same, for some of the configured calendars (by view key).
pub fn events_of_views(
    config: &Config,
    views: &[ViewKey],
    first: NaiveDate,
    last: NaiveDate,
) -> Result<Vec<CachedEvent>, AgendaError> {
    read_cache(config, |store| {
        store.events_in_days(views, &config.display.zone, first, last)
    })
}

/// Reads the cache: no cache is [`AgendaError::NoCache`], and a damaged one is moved aside for
/// the next sync to rebuild.
pub fn read_cache<T>(
    config: &Config,
    read: impl FnOnce(&Store) -> Result<T, crate::store::StoreError>,
) -> Result<T, AgendaError> {
    let path = config.cache_path();
    if !path.exists() {
        return Err(AgendaError::NoCache(path));
    }
    match Store::open_for_reading(&path).and_then(|store| read(&store)) {
        Err(e) if e.is_damaged() => Err(AgendaError::MovedAside {
            cause: e.to_string(),
            aside: Store::move_aside(&path)?,
        }),
        other => Ok(other?),
    }
}

/// Writes one calendar's JSON agenda straight from the cache, one event at a time (a year of a
/// busy calendar never sits in memory); the same bytes as [`write()`](fn@write) for its events.
pub fn write_json_streamed(
    config: &Config,
    view: &str,
    first: NaiveDate,
    last: NaiveDate,
    out: &mut impl Write,
) -> Result<(), AgendaError> {
    let path = config.cache_path();
    if !path.exists() {
        return Err(AgendaError::NoCache(path));
    }
    let store = match Store::open_for_reading(&path) {
        Err(e) if e.is_damaged() => {
            return Err(AgendaError::MovedAside {
                cause: e.to_string(),
                aside: Store::move_aside(&path)?,
            });
        }
        other => other?,
    };
    let mut count = 0usize;
    out.write_all(b"[")?;
    store.visit_days(
        &[ViewKey::from(view)],
        &config.display.zone,
        first,
        last,
        |view, event| {
            out.write_all(if count == 0 { b"\n" } else { b",\n" })?;
            serde_json::to_writer(&mut *out, &AgendaItem::new(config, view, &event))
                .map_err(std::io::Error::from)?;
            count += 1;
            Ok::<(), AgendaError>(())
        },
    )?;
    out.write_all(if count == 0 { b"]\n" } else { b"\n]\n" })?;
    Ok(())
}

/// Writes the agenda as JSON or as text grouped under day headings.
pub fn write(
    config: &Config,
    events: &[CachedEvent],
    first: NaiveDate,
    last: NaiveDate,
    json: bool,
    out: &mut impl Write,
) -> std::io::Result<()> {
    write_marked(config, events, &Default::default(), first, last, json, out)
}

/// [`write()`](fn@write), with the changes waiting in the outbox marked (by event id).
pub fn write_marked(
    config: &Config,
    events: &[CachedEvent],
    marks: &std::collections::HashMap<String, crate::store::OutboxEntry>,
    first: NaiveDate,
    last: NaiveDate,
    json: bool,
    out: &mut impl Write,
) -> std::io::Result<()> {
    if json {
        // One event per line: as valid as pretty JSON for any reader, a third of the bytes,
        // and still greppable and diffable line by line.
        out.write_all(b"[")?;
        for (i, c) in events.iter().enumerate() {
            out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
            let mut item = AgendaItem::new(config, &c.view, &c.event);
            item.pending = marks
                .get(c.event.id.as_str())
                .map(crate::store::OutboxEntry::pending_json);
            serde_json::to_writer(&mut *out, &item)?;
        }
        return out.write_all(if events.is_empty() { b"]\n" } else { b"\n]\n" });
    }
    if events.is_empty() {
        return writeln!(out, "No events from {first} to {last}.");
    }
    // Each event into the days it occupies, in one pass (not one pass a day).
    let mut days: std::collections::BTreeMap<NaiveDate, Vec<&CachedEvent>> = Default::default();
    for c in events {
        let Some((a, b)) = crate::days::event_days(&c.event, &config.display.zone) else {
            continue;
        };
        for day in a.max(first).iter_days().take_while(|d| *d <= b.min(last)) {
            days.entry(day).or_default().push(c);
        }
    }
    for (day, mut todays) in days {
        // All-day events first, then by start, in every zone.
        todays.sort_by_key(|c| (!c.event.all_day, c.event.span().map(|s| s.0)));
        writeln!(out, "{}", day.format("%a %Y-%m-%d"))?;
        for c in todays {
            let mut text = line(config, &c.event, day);
            if let Some(entry) = marks.get(c.event.id.as_str()) {
                text.push_str(&format!(
                    "  [{} {}]",
                    entry.change.word(),
                    entry.state.word()
                ));
            }
            // With more than one calendar, whose event it is.
            if config.calendars.len() > 1 {
                text.push_str(&format!(
                    "  ({})",
                    text::line(config.calendar_name(&c.view))
                ));
            }
            writeln!(out, "  {text}")?;
        }
    }
    Ok(())
}

/// `  09:00-10:00  Subject  @ Location` for one event on one day.
fn line(config: &Config, e: &Event, day: NaiveDate) -> String {
    let when = match day_times(e, day, &config.display) {
        Some(times) => times.range(ASCII_MARKS),
        None => "all day".to_owned(),
    };
    // Room for the longest time range: `10:30am-11:30am` in 12-hour time.
    let width = if config.display.hour12 { 15 } else { 11 };
    let subject = text::line(e.title()).into_owned();
    let mut out = format!("{when:<width$}  {subject}");
    if e.cancelled {
        out.push_str("  [cancelled]");
    } else if e.declined() {
        out.push_str("  [declined]");
    }
    if let Some(loc) = &e.location {
        out.push_str("  @ ");
        out.push_str(&text::line(loc));
    }
    out
}

/// The note for a range that reaches past the synced window (its days are unknown, not free),
/// or None when it lies inside.
pub fn unsynced_note(
    config: &Config,
    first: NaiveDate,
    last: NaiveDate,
    today: NaiveDate,
) -> Option<String> {
    let (from, to) = config.synced_days(today);
    if first >= from && last <= to {
        return None;
    }
    let outside = if last < from || first > to {
        format!("{first} to {last} are")
    } else if first < from && last > to {
        format!("the days before {from} and after {to} are")
    } else if first < from {
        format!("the days before {from} are")
    } else {
        format!("the days after {to} are")
    };
    Some(format!(
        "{outside} outside the synced window ({from} to {to}): their events are not known here \
         (widen [sync] past_days or future_days to sync them)"
    ))
}

/// The changes waiting to be sent for `views`, to mark over their events (an outbox that cannot
/// be read marks nothing: the events are still the server's).
pub fn pending_of(config: &Config, views: &[ViewKey]) -> Vec<crate::store::OutboxEntry> {
    let path = config.cache_path();
    // No cache, no changes: and none is made here (the agenda then says there is no cache).
    if !path.exists() {
        return Vec::new();
    }
    Store::open_for_reading(&path)
        .and_then(|store| store.outbox())
        .unwrap_or_default()
        .into_iter()
        .filter(|p| views.contains(&p.view))
        .collect()
}

/// Today in the display zone.
pub fn today(config: &Config) -> NaiveDate {
    config.display.zone.date_of(Utc::now())
}

/// `deltacal agenda`.
pub fn run(
    config: &Config,
    from: Option<&str>,
    to: Option<&str>,
    calendar: Option<&str>,
    json: bool,
    format: Option<&str>,
) -> anyhow::Result<()> {
    check_data_dir(config)?;
    let views = chosen_views(config, calendar)?;
    let today = commands::agenda::today(config);
    let (first, last) = day_range(config, from, to, today, 6)?;
    let template = format
        .map(commands::format::Template::parse)
        .transpose()
        .map_err(|e| UsageError(format!("--format: {e}")))?;
    // Days outside the window are unknown, not free: said on stderr, the output unchanged.
    if let Some(note) = commands::agenda::unsynced_note(config, first, last, today) {
        eprintln!("deltacal: {note}");
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let pending = pending_of(config, &views);
    if json && views.len() == 1 && pending.is_empty() {
        // One calendar: its events stream from the cache in order, none held.
        match commands::agenda::write_json_streamed(config, &views[0], first, last, &mut out) {
            Err(e @ commands::agenda::AgendaError::NoCache(_)) => {
                eprintln!("deltacal: {e}");
                writeln!(out, "[]")?;
            }
            other => other?,
        }
        out.flush()?;
        return Ok(());
    }
    let mut events = match commands::agenda::events_of_views(config, &views, first, last) {
        // Nothing synced yet is no failure: a note, and an empty agenda.
        Err(e @ commands::agenda::AgendaError::NoCache(_)) => {
            eprintln!("deltacal: {e}");
            if !json {
                return Ok(());
            }
            Vec::new()
        }
        other => other?,
    };
    match &template {
        Some(template) => commands::format::write(config, template, &events, &mut out)?,
        None => {
            let marks = crate::store::overlay(&mut events, &pending);
            events.retain(|c| crate::days::occupies(&c.event, &config.display.zone, first, last));
            commands::agenda::write_marked(config, &events, &marks, first, last, json, &mut out)?
        }
    }
    out.flush()?;
    Ok(())
}
