//! Which invitations wait for the user's answer: what `deltacal invites` lists and the TUI's
//! invitations panel shows. Pure.

use chrono::{DateTime, Utc};

use crate::model::CachedEvent;

/// One invitation, with the occurrences of its series that also wait.
#[derive(Debug, Clone, PartialEq)]
pub struct Invite {
    /// The soonest of them.
    pub event: CachedEvent,
    /// How many occurrences of its series wait, this one included (1 for a single event).
    pub occurrences: usize,
}

/// The invitations among `events` that have not ended by `now`, soonest first; a series
/// shows once, at its next occurrence (answering it with `--series` answers them all).
/// `events` come with the pending changes over them: one already answered here is not listed.
pub fn pick(events: &[CachedEvent], now: DateTime<Utc>) -> Vec<Invite> {
    let mut waiting: Vec<&CachedEvent> = events
        .iter()
        .filter(|c| c.event.awaits_answer())
        .filter(|c| c.event.span().is_some_and(|(_, end)| end > now))
        .collect();
    waiting.sort_by_key(|c| (c.event.span().map(|s| s.0), c.event.id.clone()));
    let mut invites: Vec<Invite> = Vec::new();
    let mut series_at = std::collections::HashMap::new();
    for c in waiting {
        let series = c.event.series_master_id.as_ref();
        match series.and_then(|s| series_at.get(s).copied()) {
            Some(i) => {
                let invite: &mut Invite = &mut invites[i];
                invite.occurrences += 1;
            }
            None => {
                if let Some(s) = series {
                    series_at.insert(s.clone(), invites.len());
                }
                invites.push(Invite {
                    event: c.clone(),
                    occurrences: 1,
                });
            }
        }
    }
    invites
}
