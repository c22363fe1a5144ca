//! The reminder loop, for the TUI and for `deltacal remind`: reads the coming events and the
//! marks from the cache, shows what is due, marks it, and sleeps until the next reminder, a
//! finished sync round, or a snooze asked for.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::{broadcast, mpsc};

use super::schedule::{self, Due};
use crate::config::Config;
use crate::model::{CachedEvent, ViewKey};
use crate::store::{ReminderMark, Store, StoreError};
use crate::sync::SyncEvent;

/// Days after today whose events are read: room for leads of up to a week.
const LOOK_AHEAD_DAYS: i64 = 8;

/// The longest the loop sleeps: the window and the day move even when nothing is due.
const MAX_SLEEP: Duration = Duration::seconds(60);

/// What the UI asks of the loop.
#[derive(Debug, Clone, PartialEq)]
pub enum Control {
    /// Show `due` again at `until`.
    Snooze {
        /// The reminder.
        due: Box<Due>,
        /// When it is due again.
        until: DateTime<Utc>,
    },
}

fn read(
    store: &Store,
    config: &Config,
) -> Result<(Vec<CachedEvent>, Vec<ReminderMark>), StoreError> {
    let today = config.display.zone.date_of(Utc::now());
    // Another's meetings (a colleague's shared calendar, a group's) remind nobody here.
    let views: Vec<ViewKey> = config.own_views();
    let events = store.events_in_days(
        &views,
        &config.display.zone,
        today - Duration::days(1),
        today + Duration::days(LOOK_AHEAD_DAYS),
    )?;
    Ok((events, store.reminded()?))
}

/// Runs until `control` closes. Each due reminder is marked in the cache (so that neither this
/// process nor another shows it again), then `show` is awaited for it.
pub async fn watch<F, Fut>(
    store: Arc<Store>,
    config: Arc<Config>,
    mut changes: broadcast::Receiver<SyncEvent>,
    mut control: mpsc::UnboundedReceiver<Control>,
    mut show: F,
) where
    F: FnMut(Due) -> Fut,
    Fut: Future<Output = ()>,
{
    let default_minutes = config.reminders.default_minutes;
    loop {
        let now = Utc::now();
        let read = {
            let (store, config) = (store.clone(), config.clone());
            tokio::task::spawn_blocking(move || read(&store, &config).map_err(|e| e.to_string()))
                .await
                .map_err(|e| e.to_string())
                .and_then(|read| read)
        };
        let (events, mut marks) = match read {
            Ok(found) => found,
            Err(error) => {
                tracing::warn!(%error, "reminders could not read the cache");
                (Vec::new(), Vec::new())
            }
        };
        let before = marks.len();
        schedule::prune(&mut marks, now);
        let due = schedule::due(&events, now, default_minutes, &marks);
        // Marked in the cache before it is shown: a reminder is shown at most once, even when
        // the process is stopped in between (a second one after a crash would be worse noise
        // than the rare one lost).
        for d in &due {
            schedule::mark_shown(&mut marks, d);
        }
        if before != marks.len() || !due.is_empty() {
            save(&store, marks.clone()).await;
        }
        for d in due {
            show(d).await;
        }
        let next = schedule::next_due_at(&events, now, default_minutes, &marks)
            .map_or(MAX_SLEEP, |at| (at - now).min(MAX_SLEEP))
            .max(Duration::milliseconds(100));
        let sleep = tokio::time::sleep(next.to_std().unwrap_or_default());
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => break,
                event = changes.recv() => match event {
                    Ok(SyncEvent::RoundFinished(_)) | Err(broadcast::error::RecvError::Lagged(_)) => break,
                    Ok(_) => {}
                    // No sync any more: the clock alone wakes the loop.
                    Err(broadcast::error::RecvError::Closed) => {
                        (&mut sleep).await;
                        break;
                    }
                },
                request = control.recv() => match request {
                    Some(Control::Snooze { due, until }) => {
                        schedule::snooze(&mut marks, &due, until);
                        save(&store, marks.clone()).await;
                        break;
                    }
                    None => return,
                },
            }
        }
    }
}

async fn save(store: &Arc<Store>, marks: Vec<ReminderMark>) {
    let store = store.clone();
    let saved = tokio::task::spawn_blocking(move || store.save_reminded(&marks)).await;
    if let Ok(Err(e)) = saved {
        tracing::warn!(error = %e, "could not remember the reminders shown");
    }
}
