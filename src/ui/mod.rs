//! The terminal UI: state and update in `app`, drawing in the view modules, and here the loop
//! that feeds it terminal input and sync notifications and performs its effects.

pub mod agenda;
pub mod app;
pub mod detail;
pub mod draw;
pub mod keys;
pub mod month;
pub mod overlays;
pub mod status;
pub mod theme;
pub mod width;

use std::collections::VecDeque;
use std::io::{Stdout, stdout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, Sender};
use std::sync::{Arc, Once};
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event, KeyEventKind, MouseButton, MouseEventKind,
};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use self::app::{Action, App, Effect, SignInUpdate, SyncState, Visible};
use crate::auth::{device, session};
use crate::config::Config;
use crate::store::{Store, StoreError};
use crate::sync::{SyncEngine, SyncEvent, SyncHandle, spawn_background};

/// Reads the events of `[first, last]` (display-zone days) of the configured calendars.
pub fn load_visible(
    store: &Store,
    config: &Config,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<Visible, StoreError> {
    Ok(Visible {
        first: Some(first),
        last: Some(last),
        events: crate::days::cached_days(store, config, first, last)?,
    })
}

/// Fills the status bar's "last round" from the cache.
pub fn last_round_from_store(app: &mut App, store: &Store) {
    for cal in app.config.calendars.clone() {
        if let Ok(Some(state)) = store.sync_state(&cal.key)
            && state.last_completed > app.sync.last_completed
        {
            app.sync.last_completed = state.last_completed;
            app.sync.last_counts = state.last_counts;
        }
    }
}

/// Messages into the UI loop.
enum UiMsg {
    Term(Event),
    Sync(SyncEvent),
    SignIn(SignInUpdate),
    /// Notifications were lost: re-read what is on screen.
    Lagged,
}

/// Raw mode, the alternate screen and mouse capture, undone on drop and on panic.
struct TerminalGuard {
    terminal: Terminal<CrosstermBackend<Stdout>>,
}

fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(
        stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

impl TerminalGuard {
    fn enter() -> std::io::Result<TerminalGuard> {
        static HOOK: Once = Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore_terminal();
                previous(info);
            }));
        });
        enable_raw_mode()?;
        if let Err(e) = execute!(stdout(), EnterAlternateScreen, EnableMouseCapture) {
            restore_terminal();
            return Err(e);
        }
        let terminal = Terminal::new(CrosstermBackend::new(stdout()))?;
        Ok(TerminalGuard { terminal })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Runs the TUI until the user quits. The sync engine runs in the background on `runtime`;
/// the UI thread only reads the cache.
pub fn run(engine: Arc<SyncEngine>, runtime: &tokio::runtime::Runtime) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "the calendar view needs a terminal; for scripts use `deltacal agenda --json` or `deltacal status`"
        );
    }
    let config = engine.config().clone();
    let store = engine.store().clone();
    let size = crossterm::terminal::size()?;
    let mut app = App::new(config.clone(), theme::Theme::from_env(), Utc::now(), size);
    app.account = runtime.block_on(engine.session().account());
    // The first frame comes from the cache, before any network.
    let (first, last) = app.wanted_range();
    let visible = load_visible(&store, &config, first, last)?;
    app.update(Action::Loaded(visible));
    last_round_from_store(&mut app, &store);

    let mut guard = TerminalGuard::enter()?;
    guard.terminal.draw(|f| draw::draw(f, &app))?;

    let (tx, rx) = std::sync::mpsc::channel::<UiMsg>();
    let stop = Arc::new(AtomicBool::new(false));
    let input = {
        let tx = tx.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match event::poll(Duration::from_millis(100)) {
                    Ok(true) => match event::read() {
                        Ok(ev) => {
                            if tx.send(UiMsg::Term(ev)).is_err() {
                                break;
                            }
                        }
                        Err(_) => break,
                    },
                    Ok(false) => {}
                    Err(_) => break,
                }
            }
        })
    };
    {
        let tx = tx.clone();
        let mut notifications = engine.subscribe();
        runtime.spawn(async move {
            loop {
                let msg = match notifications.recv().await {
                    Ok(event) => UiMsg::Sync(event),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => UiMsg::Lagged,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                };
                if tx.send(msg).is_err() {
                    break;
                }
            }
        });
    }
    let handle = {
        let _entered = runtime.enter();
        spawn_background(engine.clone(), Duration::from_secs(config.interval_secs))
    };

    let result = (|| -> anyhow::Result<()> {
        loop {
            let action = match rx.recv_timeout(Duration::from_secs(1)) {
                Ok(UiMsg::Term(Event::Key(key))) if key.kind != KeyEventKind::Release => {
                    Action::Key(key)
                }
                Ok(UiMsg::Term(Event::Mouse(m)))
                    if m.kind == MouseEventKind::Down(MouseButton::Left) =>
                {
                    Action::Click {
                        column: m.column,
                        row: m.row,
                    }
                }
                Ok(UiMsg::Term(Event::Resize(width, height))) => Action::Resize { width, height },
                Ok(UiMsg::Term(_)) => continue,
                Ok(UiMsg::Sync(event)) => Action::Sync(event),
                Ok(UiMsg::SignIn(update)) => Action::SignIn(update),
                Ok(UiMsg::Lagged) => {
                    let effect = app.reload();
                    perform(
                        &mut app,
                        vec![effect],
                        &store,
                        &handle,
                        runtime,
                        &engine,
                        &tx,
                    );
                    guard.terminal.draw(|f| draw::draw(f, &app))?;
                    continue;
                }
                Err(RecvTimeoutError::Timeout) => Action::Tick(Utc::now()),
                Err(RecvTimeoutError::Disconnected) => break,
            };
            app.now = Utc::now();
            let effects = app.update(action);
            perform(&mut app, effects, &store, &handle, runtime, &engine, &tx);
            if app.quit {
                break;
            }
            guard.terminal.draw(|f| draw::draw(f, &app))?;
        }
        Ok(())
    })();
    stop.store(true, Ordering::Relaxed);
    drop(guard);
    let _ = input.join();
    result
}

/// Performs effects; loads and searches feed their results back through `update`.
fn perform(
    app: &mut App,
    effects: Vec<Effect>,
    store: &Arc<Store>,
    handle: &SyncHandle,
    runtime: &tokio::runtime::Runtime,
    engine: &Arc<SyncEngine>,
    tx: &Sender<UiMsg>,
) {
    let mut queue: VecDeque<Effect> = effects.into();
    while let Some(effect) = queue.pop_front() {
        match effect {
            Effect::Load { first, last } => match load_visible(store, &app.config, first, last) {
                Ok(visible) => queue.extend(app.update(Action::Loaded(visible))),
                Err(e) => app.sync.state = SyncState::Error(e.to_string()),
            },
            Effect::LoadDays { first, last } => match load_visible(store, &app.config, first, last)
            {
                Ok(fresh) => queue.extend(app.update(Action::LoadedDays(fresh))),
                Err(e) => app.sync.state = SyncState::Error(e.to_string()),
            },
            Effect::Search(query) => match store.search(&query, 200) {
                Ok(results) => queue.extend(app.update(Action::SearchResults(results))),
                Err(e) => app.sync.state = SyncState::Error(e.to_string()),
            },
            Effect::RefreshNow => handle.run_now(),
            Effect::StartSignIn => {
                let engine = engine.clone();
                let tx = tx.clone();
                runtime.spawn(async move {
                    let update = sign_in(&engine, &tx).await;
                    let _ = tx.send(UiMsg::SignIn(update));
                });
            }
            Effect::Quit => {}
        }
    }
}

/// The device-code flow from inside the app: shows the code, waits, stores the tokens.
async fn sign_in(engine: &SyncEngine, tx: &Sender<UiMsg>) -> SignInUpdate {
    let config = engine.config();
    let http = crate::graph::http_client();
    let result = async {
        let client = session::identity_client(config)?;
        let code = device::start(&client, &http).await?;
        let _ = tx.send(UiMsg::SignIn(SignInUpdate::Code {
            uri: code.verification_uri.clone(),
            code: code.user_code.clone(),
        }));
        let tokens = device::finish(&client, &http, config, &code).await?;
        let account = tokens.account.clone();
        engine.session().set(tokens).await?;
        Ok::<_, session::AuthError>(account)
    }
    .await;
    match result {
        Ok(account) => SignInUpdate::Done { account },
        Err(e) => SignInUpdate::Failed(e.to_string()),
    }
}
