//! The commands that run the emulator: `sim`, `demo` and `bench` (only with the `emulator`
//! cargo feature, on by default).

use std::io::Write;
use std::path::Path;

use super::{UsageError, need_terminal, runtime};
use crate::config::Config;

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
    config.account.authority = url.clone();
    config.graph.base_url = url.join("v1.0")?;
    let second = sim
        .handle()
        .calendar_id(1)
        .ok_or_else(|| anyhow::anyhow!("the demo's emulator has one calendar"))?;
    config.calendars = vec![
        crate::config::CalendarSpec {
            key: crate::model::ViewKey::default_calendar(),
            name: "Calendar".into(),
            color: Some(crate::config::CalendarColor::Blue),
            graph_id: None,
            owner: crate::model::Owner::Me,
            account: None,
        },
        crate::config::CalendarSpec {
            key: second.clone().into(),
            name: "Team".into(),
            color: Some(crate::config::CalendarColor::Green),
            graph_id: Some(second),
            owner: crate::model::Owner::Me,
            account: None,
        },
        // A colleague's calendar shared with the user, and a group's: everyone's in one view.
        crate::config::CalendarSpec {
            key: "user:alexw@contoso.com/default".into(),
            name: "Alex".into(),
            color: Some(crate::config::CalendarColor::Magenta),
            graph_id: None,
            owner: crate::model::Owner::User("alexw@contoso.com".into()),
            account: None,
        },
        crate::config::CalendarSpec {
            key: format!("group:{}", crate::sim::people::TEAM_GROUP).into(),
            name: "Contoso Team".into(),
            color: Some(crate::config::CalendarColor::Yellow),
            graph_id: None,
            owner: crate::model::Owner::Group(crate::sim::people::TEAM_GROUP.into()),
            account: None,
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
    let handle = sim.handle();
    runtime.spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3));
        tick.tick().await;
        loop {
            tick.tick().await;
            handle.churn(3, rand::random());
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
    config.account.client_id = "deltacal-demo".into();
    config.account.tenant = "common".into();
    config.sync.window = crate::config::WindowSpec::Rolling {
        past_days: 30,
        future_days: 365,
    };
    // Sync often so the churn shows up within seconds.
    config.sync.interval_secs = 4;
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
        config.account.client_id,
        config.account.authority.as_str().trim_end_matches('/'),
        config.graph.base_url,
        config.ui.view,
        config.display.week_start.to_string().to_lowercase(),
        if config.display.hour12 { "12h" } else { "24h" },
        match config.display.zone {
            crate::tz::DisplayZone::Local => "local".to_owned(),
            crate::tz::DisplayZone::Named(tz) => tz.name().to_owned(),
        },
    );
    for cal in &config.calendars {
        let whose = match &cal.owner {
            crate::model::Owner::Me => format!("id = \"{}\"", cal.key),
            crate::model::Owner::User(address) => format!("user = \"{address}\""),
            crate::model::Owner::Group(id) => format!("group = \"{id}\""),
        };
        text.push_str(&format!(
            "\n[[calendars]]\n{whose}\nname = \"{}\"\n",
            cal.name
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
