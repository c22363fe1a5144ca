//! The terminal UI. `app` holds the state and `update`; the view modules draw it; the runner
//! performs what `update` asks for; here the loop that ties them to the terminal and to the
//! background tasks.
//!
//! Data flows one way: sync -> store -> notification -> `update` -> runner reads the store ->
//! draw. Only [`Request`]s (sync now, sign in) go back, as messages.

pub mod agenda;
pub mod app;
pub mod changes;
pub mod detail;
pub mod draw;
pub mod event;
pub mod geometry;
pub mod grid;
pub mod keys;
pub mod month;
pub mod overlay;
pub mod popups;
pub mod runner;
pub mod status;
pub mod strings;
pub mod terminal;
pub mod theme;
pub mod view;
pub mod week;
pub mod width;

use std::sync::Arc;
use std::sync::mpsc::{RecvTimeoutError, Sender};
use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc::UnboundedReceiver;

use self::app::{Action, App};
use self::runner::{EffectRunner, Request};
use crate::auth::signin;
use crate::sync::{SyncEngine, spawn_background};

/// How often the loop wakes without input, to move the clock on.
const TICK: Duration = Duration::from_secs(1);

/// Runs the TUI until the user quits, on a terminal (the caller checks there is one). The sync
/// engine runs in the background on `runtime`; the UI thread only reads the cache.
pub fn run(engine: Arc<SyncEngine>, runtime: &tokio::runtime::Runtime) -> anyhow::Result<()> {
    let size = crossterm::terminal::size()?;
    let mut app = App::new(
        engine.config().clone(),
        theme::Theme::from_env(),
        Utc::now(),
        size,
    );
    app.hyperlinks = true;
    let (request_tx, request_rx) = tokio::sync::mpsc::unbounded_channel();
    let runner = EffectRunner::new(engine.store().clone(), request_tx);
    // The first frame comes from the cache and the token file, before any network.
    let account = runtime.block_on(engine.session().account());
    runner.dispatch(&mut app, Action::Account(account));
    runner.start(&mut app);

    let mut tui = terminal::Tui::enter()?;
    tui.draw(&app)?;

    let (action_tx, actions) = std::sync::mpsc::channel::<Action>();
    let _input = event::TerminalInput::start(action_tx.clone());
    runtime.spawn(event::forward_sync_events(
        engine.subscribe(),
        action_tx.clone(),
    ));
    runtime.spawn(forward_signals(action_tx.clone()));
    runtime.spawn(serve_requests(engine, request_rx, action_tx));

    loop {
        let action = match actions.recv_timeout(TICK) {
            Ok(action) => Some(action),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        runner.dispatch(&mut app, Action::Tick(Utc::now()));
        if let Some(action) = action {
            runner.dispatch(&mut app, action);
        }
        if app.quit {
            break;
        }
        if std::mem::take(&mut app.suspend) {
            tui.suspend()?;
        }
        tui.draw(&app)?;
    }
    Ok(())
}

/// Turns the signals a terminal program gets into actions: SIGTERM, SIGHUP (the terminal
/// closed), SIGINT and SIGQUIT quit with the terminal restored; SIGTSTP suspends as Ctrl-Z
/// does (in raw mode the keys send no signal, but `kill -TSTP` and job control do). Without
/// this, each of them left the terminal raw, on the alternate screen, with mouse tracking on.
#[cfg(unix)]
async fn forward_signals(actions: Sender<Action>) {
    use tokio::signal::unix::{SignalKind, signal};
    let kinds = [
        SignalKind::terminate(),
        SignalKind::hangup(),
        SignalKind::interrupt(),
        SignalKind::quit(),
    ];
    let mut quitting = Vec::new();
    for kind in kinds {
        match signal(kind) {
            Ok(s) => quitting.push(s),
            Err(e) => tracing::warn!(error = %e, "cannot watch a signal"),
        }
    }
    let mut stop = signal(SignalKind::from_raw(libc::SIGTSTP)).ok();
    loop {
        let any_quit =
            futures_util::future::select_all(quitting.iter_mut().map(|s| Box::pin(s.recv())));
        let action = tokio::select! {
            _ = any_quit => Action::Terminate,
            Some(()) = async { match stop.as_mut() { Some(s) => s.recv().await, None => std::future::pending().await } } => Action::Suspend,
        };
        if actions.send(action).is_err() {
            return;
        }
    }
}

#[cfg(not(unix))]
async fn forward_signals(_actions: Sender<Action>) {}

/// Sends the outbox once a change's undo wait is over, then has the views read it again (the
/// sent change leaves it, or stays marked with why).
async fn send_when_due(
    engine: Arc<SyncEngine>,
    due: chrono::DateTime<Utc>,
    actions: Sender<Action>,
) {
    let wait = (due - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait).await;
    // A retry the server asked for at once (an unfounded 412) goes at once.
    for _ in 0..3 {
        let done = engine.send_outbox().await;
        let _ = actions.send(Action::Reload);
        let again = done.iter().any(|(_, outcome)| {
            matches!(outcome, crate::store::SendOutcome::Retry { retry_at, .. } if *retry_at <= Utc::now())
        });
        if !again {
            break;
        }
    }
}

/// Serves the app's requests: runs the background sync (a round at start, then every interval
/// and on request) and sign-ins, whose progress comes back as actions. Ends, and with it the
/// background sync, when the app drops its runner.
async fn serve_requests(
    engine: Arc<SyncEngine>,
    mut requests: UnboundedReceiver<Request>,
    actions: Sender<Action>,
) {
    let interval = Duration::from_secs(engine.config().sync.interval_secs);
    let sync = spawn_background(engine.clone(), interval);
    // What other deltacal processes commit reaches the views too.
    crate::sync::spawn_cache_watch(engine.clone(), crate::sync::CACHE_WATCH);
    // Reminders come to the app as banners; snoozes go back to their loop.
    let (reminder_control, control_rx) = tokio::sync::mpsc::unbounded_channel();
    if engine.config().reminders.enabled {
        let reminders = actions.clone();
        tokio::spawn(crate::remind::watch::watch(
            engine.store().clone(),
            engine.config().clone(),
            engine.subscribe(),
            control_rx,
            move |due| {
                let _ = reminders.send(Action::Reminder(Box::new(due)));
                std::future::ready(())
            },
        ));
    }
    let http = crate::net::http_client();
    // The outbox ids of the changes this app queued, by the app's numbers for them.
    let mut queued: std::collections::HashMap<u64, u64> = std::collections::HashMap::new();
    while let Some(request) = requests.recv().await {
        match request {
            Request::Queue { seq, entry } => {
                let store = engine.store().clone();
                let due = entry.not_before;
                // Awaited here, so that an undo that follows finds the change written.
                let written = tokio::task::spawn_blocking(move || store.queue(*entry)).await;
                match written {
                    Ok(Ok(id)) => {
                        queued.insert(seq, id);
                        let _ = actions.send(Action::Queued { seq, id });
                        tokio::spawn(send_when_due(engine.clone(), due, actions.clone()));
                    }
                    Ok(Err(e)) => {
                        let _ = actions.send(Action::QueueFailed {
                            seq,
                            error: e.to_string(),
                        });
                    }
                    Err(e) => {
                        let _ = actions.send(Action::QueueFailed {
                            seq,
                            error: e.to_string(),
                        });
                    }
                }
            }
            Request::Undo { seq } => {
                let Some(&id) = queued.get(&seq) else {
                    // Never written: nothing to take back (its failure was reported).
                    continue;
                };
                let store = engine.store().clone();
                let withdrawn = tokio::task::spawn_blocking(move || store.withdraw(id)).await;
                let withdrawn = matches!(withdrawn, Ok(Ok(true)));
                let _ = actions.send(Action::Undone { seq, withdrawn });
            }
            Request::Retry { id, force } => {
                let store = engine.store().clone();
                let now = chrono::Utc::now();
                let _ =
                    tokio::task::spawn_blocking(move || store.retry_change(id, force, now)).await;
                tokio::spawn(send_when_due(engine.clone(), now, actions.clone()));
            }
            Request::Drop { id } => {
                let store = engine.store().clone();
                let _ = tokio::task::spawn_blocking(move || store.drop_change(id)).await;
                let _ = actions.send(Action::Reload);
            }
            Request::FreeBusy {
                addresses,
                first,
                last,
                from,
                to,
            } => {
                let (engine, actions) = (engine.clone(), actions.clone());
                tokio::spawn(async move {
                    let result = engine
                        .schedules(&addresses, from, to)
                        .await
                        .map(|gathered| (gathered.busy(), gathered.unknown_addresses()))
                        .map_err(|e| e.to_string());
                    let _ = actions.send(Action::FreeBusy {
                        addresses,
                        first,
                        last,
                        result,
                    });
                });
            }
            Request::SyncNow => sync.run_now(),
            Request::Snooze { due, until } => {
                let _ = reminder_control.send(crate::remind::watch::Control::Snooze { due, until });
            }
            Request::SaveHidden(hidden) => {
                let dir = engine.config().data_dir.clone();
                tokio::task::spawn_blocking(move || {
                    if let Err(e) = crate::prefs::save_hidden(&dir, &hidden) {
                        tracing::warn!(error = %e, "could not remember the hidden calendars");
                    }
                });
            }
            Request::SignInAccount(name) => {
                let (engine, http, actions) = (engine.clone(), http.clone(), actions.clone());
                tokio::spawn(async move {
                    let report = |event| {
                        let _ = actions.send(Action::SignIn(event));
                    };
                    let own = engine.config().for_account(Some(&name));
                    match (own, engine.account_session(&name)) {
                        (Ok(own), Some(session)) => {
                            signin::device_flow(&own, session, &http, report).await;
                        }
                        _ => report(signin::SignInEvent::Failed(format!(
                            "account {}: its sign-in cannot start (see the log)",
                            crate::text::line(&name)
                        ))),
                    }
                });
            }
            Request::SignIn { browser } => {
                let (engine, http, actions) = (engine.clone(), http.clone(), actions.clone());
                tokio::spawn(async move {
                    let report = |event| {
                        let _ = actions.send(Action::SignIn(event));
                    };
                    let (config, session) = (engine.config(), engine.session());
                    if browser {
                        signin::browser_flow(config, session, &http, report).await;
                    } else {
                        signin::device_flow(config, session, &http, report).await;
                    }
                });
            }
        }
    }
}
