//! Performs the effects `update` asks for: reads of the cache, fed back through `update` as
//! actions, and requests to the background tasks, sent as messages. One runner serves the event
//! loop, the bench and the tests, so all three exercise the same path.

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::NaiveDate;
use tokio::sync::mpsc::UnboundedSender;

use super::app::{Action, App, Effect, Visible};
use crate::config::Config;
use crate::model::ViewKey;
use crate::search::Query;
use crate::store::{Store, StoreError};

/// What the app asks of a background task. Nothing else flows back from the UI.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Run a sync round now.
    SyncNow,
    /// Start a sign-in: in the browser, or with a device code.
    SignIn {
        /// In the browser (else with a device code).
        browser: bool,
    },
    /// Start the device-code sign-in of `[accounts.NAME]`.
    SignInAccount(String),
    /// Remember these calendars as hidden (a file in the data dir).
    SaveHidden(std::collections::BTreeSet<ViewKey>),
    /// Write this change to the outbox; send it once its wait is over.
    Queue {
        /// The app's number for it.
        seq: u64,
        /// The change.
        entry: Box<crate::store::OutboxEntry>,
    },
    /// Take back the change `seq` if it was not sent.
    Undo {
        /// The app's number for it.
        seq: u64,
    },
    /// Send a failed or conflicting change again (`force`: over the server's version).
    Retry {
        /// Its outbox id.
        id: u64,
        /// Over the server's version.
        force: bool,
    },
    /// Give a failed or conflicting change up.
    Drop {
        /// Its outbox id.
        id: u64,
    },
    /// Ask getSchedule for these people's busy time; the answer comes back as
    /// `Action::FreeBusy`.
    FreeBusy {
        /// Whose.
        addresses: Vec<String>,
        /// The first day (said back with the answer).
        first: chrono::NaiveDate,
        /// The last day (said back with the answer).
        last: chrono::NaiveDate,
        /// The first instant of the first day.
        from: chrono::DateTime<chrono::Utc>,
        /// The instant after the last day.
        to: chrono::DateTime<chrono::Utc>,
    },
    /// Show this reminder again at `until`.
    Snooze {
        /// The reminder.
        due: Box<crate::remind::schedule::Due>,
        /// When it is due again.
        until: chrono::DateTime<chrono::Utc>,
    },
}

/// What the app hands to the world outside the terminal: a browser for links, and the
/// clipboard. Tests replace it to see what would have been opened or copied.
pub trait Desktop {
    /// Opens a checked web link; false when no browser could be started.
    fn open(&self, url: &str) -> bool;
    /// Puts text on the clipboard; false when it could not be sent.
    fn copy(&self, text: &str) -> bool;
}

/// The user's desktop: `$BROWSER` or the platform's opener, and the terminal's clipboard
/// through OSC 52 (which works over ssh too; terminals that do not support it ignore it).
pub struct SystemDesktop;

impl Desktop for SystemDesktop {
    fn open(&self, url: &str) -> bool {
        crate::auth::browser::open_in_browser(url)
    }

    fn copy(&self, text: &str) -> bool {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        out.write_all(crate::links::osc52(text).as_bytes()).is_ok() && out.flush().is_ok()
    }
}

/// The cache and the request channel the effects need.
pub struct EffectRunner {
    store: Arc<Store>,
    requests: UnboundedSender<Request>,
    desktop: Box<dyn Desktop>,
}

impl EffectRunner {
    /// A runner on `store` that sends requests on `requests`.
    pub fn new(store: Arc<Store>, requests: UnboundedSender<Request>) -> EffectRunner {
        EffectRunner {
            store,
            requests,
            desktop: Box::new(SystemDesktop),
        }
    }

    /// The same runner with links and the clipboard going to `desktop`.
    pub fn with_desktop(mut self, desktop: Box<dyn Desktop>) -> EffectRunner {
        self.desktop = desktop;
        self
    }

    /// Reads what the first frame shows.
    pub fn start(&self, app: &mut App) {
        let effects = app.start();
        self.run(app, effects);
    }

    /// Updates the app with `action`, then performs the effects that follow until none are left.
    pub fn dispatch(&self, app: &mut App, action: Action) {
        let effects = app.update(action);
        self.run(app, effects);
    }

    /// Performs `effects`; their results go through `update`, whose effects are performed too.
    pub fn run(&self, app: &mut App, effects: Vec<Effect>) {
        let mut queue: VecDeque<Effect> = effects.into();
        while let Some(effect) = queue.pop_front() {
            let action = match effect {
                Effect::Load { first, last } => match load_days(&self.store, app, first, last) {
                    Ok(visible) => Action::Loaded(visible),
                    Err(e) => Action::LoadFailed(e.to_string()),
                },
                Effect::LoadDays { first, last } => {
                    match load_days(&self.store, app, first, last) {
                        Ok(fresh) => Action::LoadedDays(fresh),
                        Err(e) => Action::LoadFailed(e.to_string()),
                    }
                }
                Effect::LoadSavedStates => match saved_states(&self.store, &app.config) {
                    Ok(states) => Action::SavedStates(states),
                    Err(e) => Action::LoadFailed(e.to_string()),
                },
                Effect::Search(query) => match self.store.search(&Query::new(&query)) {
                    Ok(results) => Action::SearchResults { query, results },
                    Err(e) => Action::LoadFailed(e.to_string()),
                },
                Effect::LoadBody(event) => match self.store.body(&event.view, &event.id) {
                    Ok(body) => Action::BodyLoaded { event, body },
                    Err(e) => Action::LoadFailed(e.to_string()),
                },
                Effect::RefreshNow => {
                    self.send(Request::SyncNow);
                    continue;
                }
                Effect::StartSignIn => {
                    self.send(Request::SignIn { browser: false });
                    continue;
                }
                Effect::LoadCalendarList => match self.store.calendar_list() {
                    Ok(list) => Action::CalendarList(list),
                    Err(e) => Action::LoadFailed(e.to_string()),
                },
                Effect::LoadHidden => {
                    Action::HiddenCalendars(crate::prefs::load_hidden(&app.config.data_dir))
                }
                Effect::Snooze(due) => {
                    let until =
                        chrono::Utc::now() + chrono::Duration::minutes(super::app::SNOOZE_MINUTES);
                    self.send(Request::Snooze { due, until });
                    continue;
                }
                Effect::SaveHidden(hidden) => {
                    self.send(Request::SaveHidden(hidden));
                    continue;
                }
                Effect::OpenLink { url, what } => Action::LinkDone(if self.desktop.open(&url) {
                    format!("Opening the {what} in the browser.")
                } else {
                    format!(
                        "Could not start a browser for the {what}; set $BROWSER, or copy it with y."
                    )
                }),
                Effect::CopyLink { url, what } => Action::LinkDone(if self.desktop.copy(&url) {
                    format!("Copied the {what} to the clipboard (OSC 52).")
                } else {
                    format!("Could not copy the {what}.")
                }),
                Effect::StartAccountSignIn(name) => {
                    self.send(Request::SignInAccount(name));
                    continue;
                }
                Effect::StartBrowserSignIn => {
                    self.send(Request::SignIn { browser: true });
                    continue;
                }
                Effect::Queue { seq, entry, series } => {
                    match whole_series(&self.store, *entry, series) {
                        Ok(entry) => {
                            self.send(Request::Queue {
                                seq,
                                entry: Box::new(entry),
                            });
                            continue;
                        }
                        Err(error) => Action::QueueFailed { seq, error },
                    }
                }
                Effect::Undo { seq } => {
                    self.send(Request::Undo { seq });
                    continue;
                }
                Effect::RetryChange { id, force } => {
                    self.send(Request::Retry { id, force });
                    continue;
                }
                Effect::DropChange { id } => {
                    self.send(Request::Drop { id });
                    continue;
                }
                Effect::LoadFreeBusy {
                    addresses,
                    first,
                    last,
                } => {
                    let (from, to) = app.config.display.zone.days_range(first, last);
                    self.send(Request::FreeBusy {
                        addresses,
                        first,
                        last,
                        from,
                        to,
                    });
                    continue;
                }
                Effect::LoadInvites => match load_invites(&self.store, app) {
                    Ok(invites) => Action::Invites(invites),
                    Err(e) => Action::LoadFailed(e.to_string()),
                },
            };
            queue.extend(app.update(action));
        }
    }

    fn send(&self, request: Request) {
        // Nobody listening means the app is shutting down; the request has no one to serve it.
        let _ = self.requests.send(request);
    }
}

/// The events of the shown calendars on `[first, last]` (display-zone days), as much of them
/// as the view can show.
fn load_days(
    store: &Store,
    app: &App,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<Visible, StoreError> {
    let (views, zone) = (app.shown_views(), &app.config.display.zone);
    let (events, hidden) = match app.month_cap() {
        Some((cap, full)) => store.events_in_days_capped(&views, zone, first, last, cap, full)?,
        None => (
            store.events_in_days(&views, zone, first, last)?,
            Default::default(),
        ),
    };
    let mut events = events;
    // The changes not yet applied show over the server's versions, marked.
    let outbox = store.outbox()?;
    if !outbox.is_empty() {
        crate::store::overlay(&mut events, &outbox);
        events.retain(|c| crate::days::occupies(&c.event, zone, first, last));
    }
    Ok(Visible {
        first: Some(first),
        last: Some(last),
        events,
        hidden,
        outbox,
    })
}

/// A change for the whole series of the occurrence it names: based on the series' master as
/// cached (its own version), else on a bare reference to it.
fn whole_series(
    store: &Store,
    mut entry: crate::store::OutboxEntry,
    series: bool,
) -> Result<crate::store::OutboxEntry, String> {
    if !series {
        return Ok(entry);
    }
    let Some(master) = entry.series.take() else {
        return Err("the event is not part of a series".into());
    };
    let found = store
        .find_event(master.as_str())
        .map_err(|e| e.to_string())?;
    entry.base_change_key = found.as_ref().and_then(|m| m.event.change_key.clone());
    entry.base_etag = found.as_ref().and_then(|m| m.event.etag.clone());
    entry.event = Some(master);
    Ok(entry)
}

/// The invitations waiting for an answer from today to the end of the synced window, in the
/// shown calendars, with the outbox over them (one answered here is not listed).
fn load_invites(
    store: &Store,
    app: &App,
) -> Result<Vec<crate::change::invites::Invite>, StoreError> {
    let (_, last) = app.synced_days();
    let zone = &app.config.display.zone;
    let mut events = store.events_in_days(&app.shown_views(), zone, app.today, last)?;
    crate::store::overlay(&mut events, &store.outbox()?);
    // Invitations to you: a colleague's in their shared calendar wait for their answer.
    let own = app.config.own_views();
    events.retain(|c| own.contains(&c.view));
    Ok(crate::change::invites::pick(&events, app.now))
}

fn saved_states(
    store: &Store,
    config: &Config,
) -> Result<Vec<(ViewKey, crate::store::SyncState)>, StoreError> {
    let mut states = Vec::new();
    for cal in &config.calendars {
        if let Some(state) = store.sync_state(&cal.key)? {
            states.push((cal.key.clone(), state));
        }
    }
    Ok(states)
}
