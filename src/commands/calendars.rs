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
    /// Whose mailbox it was listed from, when not the main account's own: a colleague's
    /// address (`user`), or another account (`account`).
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<String>,
}

/// Where a list of calendars came from: the main account's mailbox, a colleague's (the
/// calendars they share with the user), or another account's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    /// The colleague's address.
    pub user: Option<String>,
    /// The `[accounts.NAME]`.
    pub account: Option<String>,
}

impl Source {
    fn owner(&self) -> crate::model::Owner {
        match &self.user {
            Some(address) => crate::model::Owner::User(address.clone()),
            None => crate::model::Owner::Me,
        }
    }

    /// Whether a configured calendar is this listed one of this source.
    fn syncs(&self, config: &Config, listed: &CalendarInfo) -> bool {
        let owner = self.owner();
        config
            .calendars
            .iter()
            .any(|c| c.is_in(listed, self.account.as_deref(), &owner))
    }

    /// The `[[calendars]]` lines that sync `c` of this source.
    fn lines(&self, c: &CalendarInfo) -> String {
        if self.user.is_none() && self.account.is_none() {
            return config_lines(c);
        }
        #[derive(Serialize)]
        struct Other {
            #[serde(skip_serializing_if = "Option::is_none")]
            account: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            user: Option<String>,
            id: String,
            name: String,
        }
        #[derive(Serialize)]
        struct File {
            calendars: Vec<Other>,
        }
        let entry = Other {
            account: self.account.clone(),
            user: self.user.clone(),
            id: if c.is_default {
                crate::model::ViewKey::DEFAULT.to_owned()
            } else {
                c.id.clone()
            },
            name: text::line(&c.name).into_owned(),
        };
        toml::to_string(&File {
            calendars: vec![entry],
        })
        .unwrap_or_default()
    }
}

/// Whether a configured calendar is this listed one: by id, or the default one when the
/// config names none.
pub fn syncs(config: &Config, listed: &CalendarInfo) -> bool {
    config.calendars.iter().any(|c| c.is(listed))
}

/// One `[[calendars]]` entry.
#[derive(Serialize)]
struct Entry {
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
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
        account: None,
        user: None,
        group: None,
        id: Some(c.id.clone()),
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
            account: spec.account.clone(),
            user: match &spec.owner {
                crate::model::Owner::User(address) => Some(address.clone()),
                _ => None,
            },
            group: match &spec.owner {
                crate::model::Owner::Group(id) => Some(id.clone()),
                _ => None,
            },
            // A group has one calendar; the others name theirs (`default` for the default).
            id: match &spec.owner {
                crate::model::Owner::Group(_) => None,
                _ => Some(
                    spec.graph_id
                        .clone()
                        .unwrap_or_else(|| crate::model::ViewKey::DEFAULT.to_owned()),
                ),
            },
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
    // Then every colleague the config names (what they share with you) and every account.
    let mut sources: Vec<Source> = Vec::new();
    for cal in &config.calendars {
        let source = Source {
            user: match &cal.owner {
                crate::model::Owner::User(address) => Some(address.clone()),
                _ => None,
            },
            account: cal.account.clone(),
        };
        if source != Source::default() && !sources.contains(&source) {
            sources.push(source);
        }
    }
    for name in config.accounts.keys() {
        let source = Source {
            user: None,
            account: Some(name.clone()),
        };
        if !sources.contains(&source) {
            sources.push(source);
        }
    }
    let mut others = Vec::new();
    for source in sources {
        let listed = engine
            .list_calendars_of(source.account.as_deref(), &source.owner())
            .await
            .map_err(|e| e.to_string());
        others.push((source, listed));
    }
    if json {
        let mut items = items(&config, &Source::default(), &calendars);
        for (source, listed) in &others {
            if let Ok(listed) = listed {
                items.extend(self::items(&config, source, listed));
            }
        }
        serde_json::to_writer_pretty(&mut *out, &items)?;
        writeln!(out)?;
        return Ok(());
    }
    write(&config, &calendars, false, out)?;
    for (source, listed) in others {
        writeln!(out)?;
        let title = match (&source.user, &source.account) {
            (Some(user), None) => format!("Shared with you by {}:", text::line(user)),
            (Some(user), Some(account)) => format!(
                "Shared by {} with account {}:",
                text::line(user),
                text::line(account)
            ),
            (None, Some(account)) => format!("Account {}:", text::line(account)),
            (None, None) => continue,
        };
        writeln!(out, "{title}")?;
        match listed {
            Err(e) => writeln!(out, "  cannot be listed: {}", text::line(&e))?,
            Ok(listed) => {
                for c in &listed {
                    write_line(out, c, source.syncs(&config, c))?;
                    for line in source.lines(c).lines() {
                        writeln!(out, "    {line}")?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// `--json`'s items of one source's calendars.
fn items(config: &Config, source: &Source, calendars: &[CalendarInfo]) -> Vec<CalendarItem> {
    calendars
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
            synced: source.syncs(config, c),
            config: source.lines(c),
            user: source.user.clone(),
            account: source.account.clone(),
        })
        .collect()
}

/// A calendar's line: its name, what it is, and whether the config syncs it.
fn write_line(out: &mut impl Write, c: &CalendarInfo, synced: bool) -> std::io::Result<()> {
    writeln!(
        out,
        "{}  [{}]  {}",
        text::line(&c.name),
        about(c).join(", "),
        if synced { "synced" } else { "not synced" }
    )
}

/// What a calendar's line says of it: default, colour, can edit, owner.
fn about(c: &CalendarInfo) -> Vec<String> {
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
    about
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
        let items = items(config, &Source::default(), calendars);
        serde_json::to_writer_pretty(&mut *out, &items)?;
        return writeln!(out);
    }
    for c in calendars {
        write_line(out, c, syncs(config, c))?;
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
    fn the_complete_list_keeps_others_calendars_as_they_are_configured() {
        let text = "[accounts.personal]\ntenant = \"consumers\"\n\n\
            [[calendars]]\nid = \"default\"\n\n\
            [[calendars]]\nuser = \"alex@contoso.com\"\nname = \"Alex\"\n\n\
            [[calendars]]\ngroup = \"g-1\"\nname = \"Team\"\n\n\
            [[calendars]]\naccount = \"personal\"\nid = \"default\"\nname = \"Home\"\n";
        let config = Config::from_toml(text, None, "/tmp/x".into()).unwrap();
        let listed = CalendarInfo {
            id: "AAMkOther=".into(),
            name: "Other".into(),
            ..CalendarInfo::default()
        };
        let list = complete_list(&config, &[listed]);
        let again = Config::from_toml(
            &format!("[accounts.personal]\ntenant = \"consumers\"\n\n{list}"),
            None,
            "/tmp/x".into(),
        )
        .unwrap();
        let keys = |c: &Config| {
            c.calendars
                .iter()
                .map(|c| c.key.to_string())
                .collect::<Vec<_>>()
        };
        let mut expected = keys(&config);
        expected.push("AAMkOther=".into());
        assert_eq!(keys(&again), expected, "{list}");
    }

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
