//! `deltacal remind`: no UI, the background sync and the reminders, until SIGINT or SIGTERM
//! (for a user service; `assets/deltacal-remind.service` is one for systemd).

use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::remind::{deliver, watch};
use crate::sync::{SyncEngine, SyncEvent, spawn_background};

/// `deltacal remind`: shows reminders as they fall due, until stopped.
pub async fn run(config: Arc<Config>) -> anyhow::Result<()> {
    let engine = Arc::new(SyncEngine::from_config(config.clone())?);
    let mut failures = engine.subscribe();
    let changes = engine.subscribe();
    let _sync = spawn_background(
        engine.clone(),
        Duration::from_secs(config.sync.interval_secs),
    );
    // Events another process brings in (a cron `deltacal sync`, the TUI) are reminded of too.
    crate::sync::spawn_cache_watch(engine.clone(), crate::sync::CACHE_WATCH);
    // Nothing snoozes outside the TUI; the sender lives as long as the loop should.
    let (control, control_rx) = tokio::sync::mpsc::unbounded_channel();
    let how = match &config.reminders.command {
        Some(command) => format!("running `{}`", crate::text::line(command)),
        None => "as desktop notifications".to_owned(),
    };
    println!(
        "deltacal remind: reminding of events in {} calendar(s) {how}; Ctrl-C stops",
        config.calendars.len()
    );
    let shown_config = config.clone();
    let watcher = tokio::spawn(watch::watch(
        engine.store().clone(),
        config.clone(),
        changes,
        control_rx,
        move |due| {
            let config = shown_config.clone();
            async move {
                let now = chrono::Utc::now();
                let shown = tokio::task::spawn_blocking(move || match &config.reminders.command {
                    Some(command) => {
                        let json =
                            serde_json::to_string(&deliver::reminder_json(&config, &due, now))
                                .unwrap_or_default();
                        deliver::run_command(command, &json)
                    }
                    None => {
                        let (title, body) = deliver::words(&config, &due, now);
                        deliver::desktop(&title, &body)
                    }
                })
                .await;
                match shown {
                    Ok(Ok(())) => tracing::info!("reminder shown"),
                    Ok(Err(e)) => eprintln!("deltacal: {e}"),
                    Err(e) => eprintln!("deltacal: reminder: {e}"),
                }
            }
        },
    ));
    // Say why the reminders may be stale: a failing sync, once per kind of failure.
    let report = tokio::spawn(async move {
        let mut last = None;
        while let Ok(event) = failures.recv().await {
            match event {
                SyncEvent::Failed { message, kind, .. } if last != Some(kind) => {
                    eprintln!("deltacal: sync: {}", crate::text::line(&message));
                    last = Some(kind);
                }
                SyncEvent::RoundFinished(_) => last = None,
                _ => {}
            }
        }
    });
    stopped().await?;
    drop(control);
    watcher.abort();
    report.abort();
    Ok(())
}

/// SIGINT or SIGTERM.
async fn stopped() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
