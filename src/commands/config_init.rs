//! `deltacal config init`: writes a commented config with every default and, when signed in,
//! the account's calendars (the default one synced, the others commented out, ready to turn on).
//! It never overwrites a file that exists.

use std::io::Write;
use std::path::Path;

use super::{UsageError, check_data_dir, runtime};
use crate::commands;
use crate::config::{CalendarColor, Config};
use crate::model::CalendarInfo;
use crate::text;

/// The example config the text is made from: every key with its default, commented.
const EXAMPLE: &str = include_str!("../../assets/config.example.toml");

/// The example's `[[calendars]]` block, replaced by the account's calendars when known.
const CALENDARS_START: &str = "# [[calendars]]          # none: the default calendar";
const CALENDARS_END: &str = "\n\n[ui]";

/// The config text: the example, with the calendars listed when there are any.
pub fn text(calendars: &[CalendarInfo]) -> String {
    if calendars.is_empty() {
        return EXAMPLE.to_owned();
    }
    let (Some(start), Some(end)) = (EXAMPLE.find(CALENDARS_START), EXAMPLE.find(CALENDARS_END))
    else {
        return EXAMPLE.to_owned();
    };
    let mut block = String::from(
        "# The account's calendars when this file was written (`deltacal calendars` lists them\n\
         # again). The list names every calendar to sync: uncomment one to sync it too.\n",
    );
    // The default calendar first, synced; the others after it, commented out.
    let mut ordered: Vec<&CalendarInfo> = calendars.iter().collect();
    ordered.sort_by_key(|c| !c.is_default);
    for c in ordered {
        let comment = if c.is_default { "" } else { "# " };
        let id = if c.is_default {
            crate::model::ViewKey::DEFAULT
        } else {
            c.id.as_str()
        };
        let entry = toml::Table::from_iter([
            ("id".to_owned(), toml::Value::from(id)),
            (
                "name".to_owned(),
                toml::Value::from(text::line(&c.name).into_owned()),
            ),
        ]);
        block.push_str(&format!("{comment}[[calendars]]\n"));
        for line in toml::to_string(&entry).unwrap_or_default().lines() {
            block.push_str(&format!("{comment}{line}\n"));
        }
        if let Some(color) = CalendarColor::from_graph(c.color.as_deref(), c.hex_color.as_deref()) {
            block.push_str(&format!("{comment}color = \"{}\"\n", color.name()));
        }
    }
    format!(
        "{}{}{}",
        &EXAMPLE[..start],
        block.trim_end(),
        &EXAMPLE[end..]
    )
}

/// Writes `text` to `path`, which must not exist (created, never replaced, never through a
/// link), with its parent dirs.
pub fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// The config text checks as deltacal reads it (a test and a guard against a bad example).
pub fn check(text: &str, data_dir: &Path) -> Result<Config, crate::config::ConfigError> {
    Config::from_toml(text, None, data_dir.to_owned())
}

/// `deltacal config init`: a commented config at `path` (or the default place), with the
/// account's calendars when signed in; never over a file that exists.
pub fn run(
    path: Option<&std::path::Path>,
    data_dir: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let path = match path {
        Some(p) => p.to_owned(),
        None => crate::paths::default_config_file().ok_or_else(|| {
            UsageError("no config dir on this platform: name one with --config".into())
        })?,
    };
    if std::fs::symlink_metadata(&path).is_ok() {
        return Err(UsageError(format!(
            "{} exists: config init never overwrites a config (move it aside first)",
            path.display()
        ))
        .into());
    }
    let data_dir = data_dir
        .map(std::path::Path::to_owned)
        .unwrap_or_else(crate::paths::default_data_dir);
    let defaults = Config::from_toml("", None, data_dir.clone())?;
    // Signed in: the account's calendars, listed now; else (or offline) the default alone.
    let calendars = if defaults.token_path().exists() {
        check_data_dir(&defaults)?;
        let _log = crate::logging::init_file(&defaults.log_path());
        let engine = crate::sync::SyncEngine::from_config(std::sync::Arc::new(defaults.clone()))?;
        match runtime()?.block_on(engine.list_calendars()) {
            Ok(calendars) => calendars,
            Err(e) => {
                eprintln!(
                    "deltacal: could not list your calendars ({e}): the config syncs the default one; `deltacal calendars` lists the others later"
                );
                Vec::new()
            }
        }
    } else {
        eprintln!(
            "deltacal: not signed in: the config syncs the default calendar (after `deltacal login`, `deltacal calendars` lists the others)"
        );
        Vec::new()
    };
    let text = commands::config_init::text(&calendars);
    // What is written is a config deltacal reads.
    commands::config_init::check(&text, &data_dir)?;
    commands::config_init::write_new(&path, &text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal(id: &str, name: &str, default: bool) -> CalendarInfo {
        CalendarInfo {
            id: id.into(),
            name: name.into(),
            is_default: default,
            color: Some("lightBlue".into()),
            ..Default::default()
        }
    }

    #[test]
    fn the_text_is_a_config_that_syncs_the_default_calendar_and_offers_the_others() {
        let dir = std::path::PathBuf::from("/nonexistent");
        let plain = check(&text(&[]), &dir).unwrap();
        assert_eq!(plain.calendars.len(), 1);
        let listed = [
            cal("AAMkWork=", "Work \"team\"", false),
            cal("AAMkMine=", "Calendar", true),
        ];
        let written = text(&listed);
        let config = check(&written, &dir).unwrap();
        assert_eq!(config.calendars.len(), 1, "{written}");
        assert_eq!(config.calendars[0].name, "Calendar");
        assert!(
            written.contains("# [[calendars]]\n# id = \"AAMkWork=\"\n# name = 'Work \"team\"'"),
            "{written}"
        );
        // Uncommenting the other calendar's four lines makes it synced too.
        let at = written
            .find("# [[calendars]]\n# id = \"AAMkWork=\"")
            .unwrap();
        let mut lines: Vec<String> = written[at..].lines().map(str::to_owned).collect();
        for line in lines.iter_mut().take(4) {
            *line = line.trim_start_matches("# ").to_owned();
        }
        let on = format!("{}{}", &written[..at], lines.join("\n"));
        assert_eq!(check(&on, &dir).unwrap().calendars.len(), 2, "{on}");
    }
}
