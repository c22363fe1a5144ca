//! The commands behind the binary, as library functions so tests and the bench can call them.

use std::io::Write;

use crate::commands;
use crate::config::Config;
use crate::days::parse_day;
use chrono::NaiveDate;

#[cfg(feature = "emulator")]
mod emulated;
#[cfg(feature = "emulator")]
pub use emulated::*;

/// A usage mistake on the command line (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The longest agenda or export, in days: the longest sync window (Graph's calendar view
/// limit). Nothing outside a window is cached, so a longer range could only add empty days.
const MAX_AGENDA_DAYS: i64 = crate::config::MAX_VIEW_DAYS;

/// The calendars a command reads: the one `--calendar` names, else every configured one.
fn chosen_views(
    config: &Config,
    calendar: Option<&str>,
) -> Result<Vec<crate::model::ViewKey>, UsageError> {
    Ok(match calendar {
        Some(wanted) => vec![
            config
                .find_calendar(wanted)
                .map_err(|e| UsageError(format!("--calendar: {e}")))?
                .key
                .clone(),
        ],
        None => config.calendars.iter().map(|c| c.key.clone()).collect(),
    })
}

/// `--from` and `--to` as days, with the command's defaults, checked.
fn day_range(
    config: &Config,
    from: Option<&str>,
    to: Option<&str>,
    default_first: NaiveDate,
    default_days: i64,
) -> Result<(NaiveDate, NaiveDate), UsageError> {
    let today = commands::agenda::today(config);
    let first = match from {
        Some(f) => parse_day(f, today).map_err(|e| UsageError(format!("--from: {e}")))?,
        None => default_first,
    };
    let last = match to {
        Some(t) => parse_day(t, today).map_err(|e| UsageError(format!("--to: {e}")))?,
        None => first + chrono::Duration::days(default_days),
    };
    if last < first {
        return Err(UsageError(format!("--to {last} is before --from {first}")));
    }
    if (last - first).num_days() > MAX_AGENDA_DAYS {
        return Err(UsageError(format!(
            "--to {last} is more than {MAX_AGENDA_DAYS} days after --from {first}"
        )));
    }
    Ok((first, last))
}

/// The calendar view draws on a terminal: without one (a pipe, cron) it is a usage error.
fn need_terminal() -> Result<(), UsageError> {
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() {
        return Ok(());
    }
    Err(UsageError(
        "the calendar view needs a terminal; for scripts use `deltacal agenda --json` or `deltacal status`".into(),
    ))
}

/// `deltacal agenda`.
pub fn run_agenda(
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
    if json && views.len() == 1 {
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
    let events = match commands::agenda::events_of_views(config, &views, first, last) {
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
        None => commands::agenda::write(config, &events, first, last, json, &mut out)?,
    }
    out.flush()?;
    Ok(())
}

/// `deltacal export --ics`: the cached events of the range (default: the whole sync window) as
/// an iCalendar file on stdout.
pub fn run_export(
    config: &Config,
    from: Option<&str>,
    to: Option<&str>,
    calendar: Option<&str>,
) -> anyhow::Result<()> {
    check_data_dir(config)?;
    let views = chosen_views(config, calendar)?;
    let today = commands::agenda::today(config);
    let (synced_first, synced_last) = config.synced_days(today);
    let default_days = (synced_last - synced_first).num_days().min(MAX_AGENDA_DAYS);
    let (first, last) = day_range(config, from, to, synced_first, default_days)?;
    let source = match commands::export::gather(config, &views, first, last) {
        Err(e @ commands::agenda::AgendaError::NoCache(_)) => {
            eprintln!("deltacal: {e}");
            commands::export::Source::default()
        }
        other => other?,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    out.write_all(commands::export::ics(config, &source, chrono::Utc::now()).as_bytes())?;
    out.flush()?;
    Ok(())
}

/// `deltacal next`: the event in progress and the next one, from the cache; nothing (or nulls)
/// when there is none, and before the first sync.
pub fn run_next(config: &Config, json: bool) -> anyhow::Result<()> {
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

/// Checks the data dir and the token file, repairing loose modes and saying so on stderr; a
/// data dir deltacal must not use (not a dir, another user's, shared, not private) is a usage
/// error, with nothing changed.
pub fn check_data_dir(config: &Config) -> anyhow::Result<()> {
    let warnings =
        crate::paths::check_private(&config.data_dir).map_err(|e| UsageError(e.to_string()))?;
    for warning in warnings {
        eprintln!("deltacal: warning: {warning}");
    }
    Ok(())
}

/// `deltacal login` (`--browser`: in the browser).
pub fn run_login(config: &Config, browser: bool) -> anyhow::Result<()> {
    check_data_dir(config)?;
    let _log = crate::logging::init_file(&config.log_path());
    let mut out = std::io::stdout();
    if browser {
        runtime()?.block_on(commands::sync::login_browser(config, &mut out))
    } else {
        runtime()?.block_on(commands::sync::login(config, &mut out))
    }
}

/// `deltacal logout`.
pub fn run_logout(config: &Config) -> anyhow::Result<()> {
    check_data_dir(config)?;
    commands::sync::logout(config, &mut std::io::stdout())
}

/// `deltacal sync`.
/// `deltacal calendars`: the account's calendars from Graph.
pub fn run_calendars(config: &Config, json: bool) -> anyhow::Result<()> {
    check_data_dir(config)?;
    let _log = crate::logging::init_file(&config.log_path());
    let config = std::sync::Arc::new(config.clone());
    runtime()?.block_on(commands::calendars::list(
        config,
        json,
        &mut std::io::stdout(),
    ))
}

/// `deltacal config init`: a commented config at `path` (or the default place), with the
/// account's calendars when signed in; never over a file that exists.
pub fn run_config_init(
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

/// `deltacal remind`: background sync and reminders, no UI, until SIGINT or SIGTERM.
pub fn run_remind(config: &Config) -> anyhow::Result<()> {
    if !config.reminders.enabled {
        return Err(UsageError(
            "reminders are off in the config ([reminders] enabled = false)".into(),
        )
        .into());
    }
    crate::memory::for_long_running();
    check_data_dir(config)?;
    let _log = crate::logging::init_file(&config.log_path());
    let config = std::sync::Arc::new(config.clone());
    runtime()?.block_on(commands::remind::run(config))
}

pub fn run_sync(config: &Config) -> anyhow::Result<()> {
    check_data_dir(config)?;
    let _log = crate::logging::init_file(&config.log_path());
    let config = std::sync::Arc::new(config.clone());
    runtime()?.block_on(commands::sync::sync(config, &mut std::io::stdout()))
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

/// `deltacal`: the TUI on the configured account.
pub fn run_tui(config: &Config) -> anyhow::Result<()> {
    need_terminal()?;
    crate::memory::for_long_running();
    check_data_dir(config)?;
    let _log = crate::logging::init_file(&config.log_path());
    let runtime = runtime()?;
    let engine = std::sync::Arc::new(crate::sync::SyncEngine::from_config(std::sync::Arc::new(
        config.clone(),
    ))?);
    let result = crate::ui::run(engine, &runtime);
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    result
}
