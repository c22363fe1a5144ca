//! The non-interactive commands, each a function of the config that writes to a stream.

pub mod agenda;
pub mod calendars;
pub mod config_init;
pub mod export;
pub mod format;
pub mod free;
pub mod invites;
pub mod next;
pub mod remind;
pub mod status;
pub mod sync;
pub mod write;

use crate::config::Config;
use crate::days::parse_day;
use chrono::NaiveDate;

/// A usage mistake on the command line (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The longest agenda or export, in days: the longest sync window (Graph's calendar view
/// limit). Nothing outside a window is cached, so a longer range could only add empty days.
pub const MAX_AGENDA_DAYS: i64 = crate::config::MAX_VIEW_DAYS;

/// The calendars a command reads: the one `--calendar` names, else every configured one.
pub fn chosen_views(
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
pub fn day_range(
    config: &Config,
    from: Option<&str>,
    to: Option<&str>,
    default_first: NaiveDate,
    default_days: i64,
) -> Result<(NaiveDate, NaiveDate), UsageError> {
    let today = agenda::today(config);
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

/// The runtime of a command that talks to the network: two worker threads.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}
