//! `deltacal calendars`: the account's calendars from Graph, which of them the config syncs,
//! and the lines to paste into the config for the others.

use std::io::Write;
use std::sync::Arc;

use serde::Serialize;

use crate::config::{CalendarColor, Config};
use crate::model::CalendarInfo;
use crate::sync::SyncEngine;
use crate::text;

/// One calendar of `calendars --json`.
#[derive(Debug, Serialize)]
struct CalendarItem {
    id: String,
    name: String,
    /// Graph's colour name, and its `#rrggbb` when the user picked one.
    color: Option<String>,
    hex_color: Option<String>,
    owner: Option<String>,
    can_edit: bool,
    is_default: bool,
    /// Whether the config syncs it.
    synced: bool,
    /// The config lines that sync it.
    config: String,
}

/// Whether a configured calendar is this listed one: by id, or the default one when the
/// config names none.
pub fn syncs(config: &Config, listed: &CalendarInfo) -> bool {
    config.calendars.iter().any(|c| c.is(listed))
}

/// One `[[calendars]]` entry.
#[derive(Serialize)]
struct Entry {
    id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    color: Option<&'static str>,
}

/// `[[calendars]]` entries in TOML (quoted by the toml crate).
fn entries_toml(calendars: Vec<Entry>) -> String {
    #[derive(Serialize)]
    struct File {
        calendars: Vec<Entry>,
    }
    toml::to_string(&File { calendars }).unwrap_or_default()
}

/// The entry that syncs a listed calendar, named and coloured as Graph lists it.
fn listed_entry(c: &CalendarInfo) -> Entry {
    Entry {
        id: c.id.clone(),
        name: text::line(&c.name).into_owned(),
        color: CalendarColor::from_graph(c.color.as_deref(), c.hex_color.as_deref())
            .map(CalendarColor::name),
    }
}

/// The `[[calendars]]` entry that syncs a calendar, in TOML.
fn config_lines(c: &CalendarInfo) -> String {
    entries_toml(vec![listed_entry(c)])
}

/// The whole `[[calendars]]` list that syncs what the config syncs now and every calendar
/// listed besides: a list names every calendar synced, so one that added a calendar alone
/// would stop the default one.
fn complete_list(config: &Config, calendars: &[CalendarInfo]) -> String {
    let mut entries: Vec<Entry> = config
        .calendars
        .iter()
        .map(|spec| Entry {
            id: spec
                .graph_id
                .clone()
                .unwrap_or_else(|| spec.key.to_string()),
            name: text::line(&spec.name).into_owned(),
            color: spec.color.map(CalendarColor::name),
        })
        .collect();
    entries.extend(
        calendars
            .iter()
            .filter(|c| !syncs(config, c))
            .map(listed_entry),
    );
    entries_toml(entries)
}

/// Lists the account's calendars (and keeps the list in the cache for the views' colours).
pub async fn list(
    config: Arc<Config>,
    json: bool,
    out: &mut (impl Write + Send),
) -> anyhow::Result<()> {
    let engine = SyncEngine::from_config(config.clone())?;
    let calendars = engine.list_calendars().await?;
    write(&config, &calendars, json, out)?;
    Ok(())
}

/// Writes the account's calendars (as the cache last listed them) with the config lines that would
/// sync them.
pub fn write(
    config: &Config,
    calendars: &[CalendarInfo],
    json: bool,
    out: &mut impl Write,
) -> std::io::Result<()> {
    if json {
        let items: Vec<CalendarItem> = calendars
            .iter()
            .map(|c| CalendarItem {
                id: c.id.clone(),
                name: c.name.clone(),
                color: c.color.clone(),
                hex_color: c.hex_color.clone(),
                owner: c
                    .owner
                    .as_ref()
                    .map(|o| o.display())
                    .filter(|o| !o.is_empty()),
                can_edit: c.can_edit,
                is_default: c.is_default,
                synced: syncs(config, c),
                config: config_lines(c),
            })
            .collect();
        serde_json::to_writer_pretty(&mut *out, &items)?;
        return writeln!(out);
    }
    for c in calendars {
        let mut about = Vec::new();
        if c.is_default {
            about.push("default".to_owned());
        }
        if let Some(color) = CalendarColor::from_graph(c.color.as_deref(), c.hex_color.as_deref()) {
            about.push(color.name().to_owned());
        }
        about.push(if c.can_edit { "can edit" } else { "read-only" }.to_owned());
        if let Some(owner) = c
            .owner
            .as_ref()
            .map(|o| o.display())
            .filter(|o| !o.is_empty())
        {
            about.push(format!("owner {}", text::line(&owner)));
        }
        let synced = if syncs(config, c) {
            "synced"
        } else {
            "not synced"
        };
        writeln!(
            out,
            "{}  [{}]  {synced}",
            text::line(&c.name),
            about.join(", ")
        )?;
        writeln!(out, "    id: {}", text::line(&c.id))?;
    }
    if calendars.iter().any(|c| !syncs(config, c)) {
        writeln!(out)?;
        writeln!(
            out,
            "To sync every calendar above, put this list in the config in place of any \
             [[calendars]] entries it has\n(the list names every calendar to sync: one without \
             the default calendar stops syncing it; delete the entries you do not want):"
        )?;
        for line in complete_list(config, calendars).lines() {
            writeln!(out, "  {line}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Person;

    #[test]
    fn the_config_lines_are_toml_that_the_config_reads() {
        let c = CalendarInfo {
            id: "AAMk\"odd\"=".into(),
            name: "Team \u{1b}[31m\"A\"".into(),
            color: Some("lightGreen".into()),
            owner: Some(Person {
                name: Some("Dana".into()),
                address: None,
            }),
            ..CalendarInfo::default()
        };
        let lines = config_lines(&c);
        assert!(!lines.contains('\u{1b}'), "{lines}");
        let config = Config::from_toml(&lines, None, "/tmp/x".into()).unwrap();
        assert_eq!(
            config.calendars[0].graph_id.as_deref(),
            Some("AAMk\"odd\"=")
        );
        assert_eq!(config.calendars[0].color, Some(CalendarColor::LightGreen));
        assert!(syncs(&config, &c));
        let mut out = Vec::new();
        write(&config, std::slice::from_ref(&c), false, &mut out).unwrap();
        let shown = String::from_utf8(out).unwrap();
        assert!(
            shown.contains("[lightgreen, read-only, owner Dana]  synced"),
            "{shown}"
        );
    }
}
