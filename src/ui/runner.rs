//! Performs the effects `update` asks for: reads of the cache, fed back through `update` as
//! actions, and requests to the background tasks, sent as messages. One runner serves the event
//! loop, the bench and the tests, so all three exercise the same path.

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::NaiveDate;
use tokio::sync::mpsc::UnboundedSender;

use super::app::{Action, App, Effect, Visible};
use crate::config::Config;
use crate::search::Query;
use crate::store::{Store, StoreError};

/// What the app asks of a background task. Nothing else flows back from the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Run a sync round now.
    SyncNow,
    /// Start a sign-in: in the browser, or with a device code.
    SignIn { browser: bool },
}

/// The cache and the request channel the effects need.
pub struct EffectRunner {
    store: Arc<Store>,
    requests: UnboundedSender<Request>,
}

impl EffectRunner {
    pub fn new(store: Arc<Store>, requests: UnboundedSender<Request>) -> EffectRunner {
        EffectRunner { store, requests }
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
                Effect::Load { first, last } => {
                    match load_days(&self.store, &app.config, first, last) {
                        Ok(visible) => Action::Loaded(visible),
                        Err(e) => Action::LoadFailed(e.to_string()),
                    }
                }
                Effect::LoadDays { first, last } => {
                    match load_days(&self.store, &app.config, first, last) {
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
                Effect::LoadBody { view, id } => match self.store.body(&view, &id) {
                    Ok(body) => Action::BodyLoaded { view, id, body },
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
                Effect::StartBrowserSignIn => {
                    self.send(Request::SignIn { browser: true });
                    continue;
                }
            };
            queue.extend(app.update(action));
        }
    }

    fn send(&self, request: Request) {
        // Nobody listening means the app is shutting down; the request has no one to serve it.
        let _ = self.requests.send(request);
    }
}

/// The events of the configured calendars on `[first, last]` (display-zone days).
fn load_days(
    store: &Store,
    config: &Config,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<Visible, StoreError> {
    let views: Vec<String> = config.calendars.iter().map(|c| c.key.clone()).collect();
    Ok(Visible {
        first: Some(first),
        last: Some(last),
        events: store.events_in_days(&views, &config.zone, first, last)?,
    })
}

fn saved_states(
    store: &Store,
    config: &Config,
) -> Result<Vec<(String, crate::store::SyncState)>, StoreError> {
    let mut states = Vec::new();
    for cal in &config.calendars {
        if let Some(state) = store.sync_state(&cal.key)? {
            states.push((cal.key.clone(), state));
        }
    }
    Ok(states)
}
