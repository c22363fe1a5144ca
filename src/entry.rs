//! The commands behind the binary, as library functions so tests and the bench can call them.

use crate::commands::{self, runtime};
use crate::config::Config;

pub use crate::commands::UsageError;
pub use crate::commands::agenda::run as run_agenda;
pub use crate::commands::check_data_dir;
pub use crate::commands::config_init::run as run_config_init;
pub use crate::commands::export::run as run_export;
pub use crate::commands::next::run as run_next;

#[cfg(feature = "emulator")]
mod emulated;
#[cfg(feature = "emulator")]
pub use emulated::*;

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

/// `deltacal sync`.
pub fn run_sync(config: &Config) -> anyhow::Result<()> {
    check_data_dir(config)?;
    let _log = crate::logging::init_file(&config.log_path());
    let config = std::sync::Arc::new(config.clone());
    runtime()?.block_on(commands::sync::sync(config, &mut std::io::stdout()))
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
