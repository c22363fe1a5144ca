//! The commands behind the binary, as library functions so tests and the bench can call them.

use std::io::Write;
use std::path::Path;

use crate::commands;
use crate::config::Config;
use crate::days::parse_day;

/// A usage mistake on the command line (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// `deltacal agenda`.
pub fn run_agenda(
    config: &Config,
    from: Option<&str>,
    to: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    let today = commands::agenda::today(config);
    let first = match from {
        Some(f) => parse_day(f, today).map_err(|e| UsageError(format!("--from: {e}")))?,
        None => today,
    };
    let last = match to {
        Some(t) => parse_day(t, today).map_err(|e| UsageError(format!("--to: {e}")))?,
        None => first + chrono::Duration::days(6),
    };
    if last < first {
        return Err(UsageError(format!("--to {last} is before --from {first}")).into());
    }
    let events = commands::agenda::events_in_days(config, first, last)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    commands::agenda::write(config, &events, first, last, json, &mut out)?;
    out.flush()?;
    Ok(())
}

/// `deltacal sim`: the emulator alone, until Ctrl-C.
pub fn run_sim(
    addr: &str,
    events: usize,
    seed: u64,
    calendars: usize,
    auto_approve: bool,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let options = crate::sim::SimOptions {
            events,
            seed,
            calendars,
            identity: crate::sim::identity::IdentitySettings {
                auto_approve,
                ..Default::default()
            },
            ..Default::default()
        };
        let server = crate::sim::SimServer::start(addr, options)
            .await
            .map_err(|e| UsageError(e.to_string()))?;
        println!("listening on {}", server.url());
        std::io::stdout().flush()?;
        tokio::signal::ctrl_c().await?;
        server.stop().await;
        Ok(())
    })
}

/// `deltacal login`.
pub fn run_login(config: &Config) -> anyhow::Result<()> {
    let _log = crate::logging::init_file(&config.log_path());
    runtime()?.block_on(commands::sync::login(config, &mut std::io::stdout()))
}

/// `deltacal logout`.
pub fn run_logout(config: &Config) -> anyhow::Result<()> {
    commands::sync::logout(config, &mut std::io::stdout())
}

/// `deltacal sync`.
pub fn run_sync(config: &Config) -> anyhow::Result<()> {
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

pub fn run_demo(
    _data_dir: Option<&Path>,
    _config: Option<&Path>,
    _events: usize,
    _seed: u64,
) -> anyhow::Result<()> {
    anyhow::bail!("demo: not built yet")
}

pub fn run_bench(_events: usize, _json: bool) -> anyhow::Result<()> {
    anyhow::bail!("bench: not built yet")
}

pub fn run_tui(_config: &Config) -> anyhow::Result<()> {
    anyhow::bail!("tui: not built yet")
}
