//! The commands behind the binary, as library functions so tests and the bench can call them.

use std::io::Write;
use std::path::Path;

use crate::commands;
use crate::config::Config;
use crate::days::parse_day;
use chrono::NaiveDate;

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

/// `deltacal sim`: the emulator alone, until Ctrl-C.
pub fn run_sim(addr: &str, options: crate::sim::SimOptions) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let server = match crate::sim::SimServer::start(addr, options).await {
            Ok(server) => server,
            Err(e) if e.is_usage() => return Err(UsageError(e.to_string()).into()),
            Err(e) => return Err(e.into()),
        };
        println!("listening on {}", server.url());
        if let Some(cert) = &server.cert_path {
            println!("certificate: {}", cert.display());
        }
        std::io::stdout().flush()?;
        tokio::signal::ctrl_c().await?;
        server.stop().await;
        Ok(())
    })
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

/// `deltacal demo`: the emulator in-process with a generated calendar that keeps changing,
/// auto-approved sign-in, and the TUI on it.
pub fn run_demo(
    data_dir: Option<&Path>,
    config_file: Option<&Path>,
    events: usize,
    seed: u64,
) -> anyhow::Result<()> {
    crate::memory::for_long_running();
    let temp;
    // Held while the demo runs: a second demo on the same dir is refused, not let in to
    // delete this one's files.
    let mut _lock = None;
    let data_dir = match data_dir {
        Some(dir) => {
            _lock = Some(prepare_demo_dir(dir)?);
            dir.to_owned()
        }
        None => {
            temp = tempfile::Builder::new()
                .prefix("deltacal-demo-")
                .tempdir()?;
            temp.path().to_owned()
        }
    };
    let config = demo_config(config_file, &data_dir)?;
    let _log = crate::logging::init_file(&config.log_path());
    let runtime = runtime()?;
    let result = runtime.block_on(async {
        let options = crate::sim::SimOptions {
            events,
            seed,
            calendars: 2,
            identity: crate::sim::identity::IdentitySettings {
                auto_approve: true,
                interval_secs: 1,
                ..Default::default()
            },
            ..Default::default()
        };
        crate::sim::SimServer::start("127.0.0.1:0", options).await
    });
    let sim = result?;
    let mut config = config;
    let url = reqwest::Url::parse(&sim.url())?;
    config.authority = url.clone();
    config.base_url = url.join("v1.0")?;
    let second = sim
        .state
        .lock()
        .map_err(|_| anyhow::anyhow!("emulator state poisoned"))?
        .mailbox
        .calendars[1]
        .id
        .clone();
    config.calendars = vec![
        crate::config::CalendarSpec {
            key: "default".into(),
            name: "Calendar".into(),
            color: Some(crate::config::CalendarColor::Blue),
            graph_id: None,
        },
        crate::config::CalendarSpec {
            key: second.clone().into(),
            name: "Team".into(),
            color: Some(crate::config::CalendarColor::Green),
            graph_id: Some(second),
        },
    ];
    if _lock.is_some() {
        // So that `status` and `agenda` on this dir show every demo calendar.
        std::fs::write(
            data_dir.join(crate::config::DEMO_CONFIG),
            demo_config_text(&config),
        )?;
    }
    // Live churn: the user sees events appear, move and vanish.
    let state = sim.state.clone();
    runtime.spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3));
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Ok(mut s) = state.lock() {
                let anchor = s.anchor;
                crate::sim::generate::churn(&mut s.mailbox, 3, rand::random(), anchor, false);
            }
        }
    });
    // After the data dir is checked and locked: a second demo on it is refused as such.
    need_terminal()?;
    let engine = std::sync::Arc::new(crate::sync::SyncEngine::from_config(std::sync::Arc::new(
        config,
    ))?);
    let result = crate::ui::run(engine, &runtime);
    drop(sim);
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    result
}

/// The demo's config: the user's UI preferences, everything else pointing at the emulator.
fn demo_config(config_file: Option<&Path>, data_dir: &Path) -> anyhow::Result<Config> {
    let mut config = Config::load(config_file, Some(data_dir))?;
    config.client_id = "deltacal-demo".into();
    config.tenant = "common".into();
    config.window = crate::config::WindowSpec::Rolling {
        past_days: 30,
        future_days: 365,
    };
    // Sync often so the churn shows up within seconds.
    config.interval_secs = 4;
    Ok(config)
}

/// A demo data dir must be new, empty, or one a demo used before (then it starts afresh).
/// Locks the dir for this demo (refusing one another demo holds), then clears its cache and
/// tokens. Returns the lock, held until dropped.
fn prepare_demo_dir(dir: &Path) -> anyhow::Result<std::fs::File> {
    let marker = dir.join(crate::config::DEMO_MARKER);
    let empty = !dir.exists() || std::fs::read_dir(dir)?.next().is_none();
    if !empty && !marker.exists() {
        return Err(UsageError(format!(
            "--data-dir {}: the demo only uses an empty dir or one a demo used before (it replaces the cache and tokens there)",
            dir.display()
        ))
        .into());
    }
    crate::paths::ensure_private_dir(dir)?;
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(false).write(true);
    crate::paths::private_no_follow(&mut options);
    let lock = options.open(dir.join(".deltacal-demo.lock"))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(UsageError(format!(
                "--data-dir {}: another deltacal demo is using it; quit that one or choose another dir",
                dir.display()
            ))
            .into());
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
    }
    for file in ["cache.redb", "tokens.json"] {
        let _ = std::fs::remove_file(dir.join(file));
    }
    std::fs::write(marker, "deltacal demo data dir\n")?;
    Ok(lock)
}

/// The demo's config as a file: its calendars and emulator, and the user's display settings.
fn demo_config_text(config: &Config) -> String {
    let mut text = format!(
        "# Written by `deltacal demo`: `status` and `agenda` on this dir read it.\n[account]\nclient_id = \"{}\"\nauthority = \"{}\"\n\n[graph]\nbase_url = \"{}\"\n\n[ui]\nview = \"{}\"\nweek_start = \"{}\"\ntime_format = \"{}\"\ntimezone = \"{}\"\n",
        config.client_id,
        config.authority.as_str().trim_end_matches('/'),
        config.base_url,
        config.view.name(),
        config.week_start.to_string().to_lowercase(),
        if config.hour12 { "12h" } else { "24h" },
        match config.zone {
            crate::tz::DisplayZone::Local => "local".to_owned(),
            crate::tz::DisplayZone::Named(tz) => tz.name().to_owned(),
        },
    );
    for cal in &config.calendars {
        text.push_str(&format!(
            "\n[[calendars]]\nid = \"{}\"\nname = \"{}\"\n",
            cal.key, cal.name
        ));
        if let Some(color) = cal.color {
            text.push_str(&format!("color = \"{}\"\n", color.name()));
        }
    }
    text
}

/// `deltacal bench`.
pub fn run_bench(events: usize, large_events: usize, json: bool) -> anyhow::Result<()> {
    if events == 0 || large_events == 0 {
        return Err(UsageError("--events and --large-events must be at least 1".into()).into());
    }
    let figures = crate::bench::run(events, large_events, |what| {
        if !json {
            eprintln!("measuring {what}...");
        }
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&figures)?);
    } else {
        print!("{}", crate::bench::table(&figures));
    }
    Ok(())
}

/// The hidden `bench-frame` command (see `bench::frame_workload`).
pub fn run_bench_frame(config: &Config) -> anyhow::Result<()> {
    crate::bench::frame_workload(config)
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
