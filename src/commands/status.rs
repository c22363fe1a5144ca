//! `deltacal status`: account, calendars, window, counts, last round, token state; as text or
//! as JSON (`--json`) for scripts.

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::auth::session::scope_can_write;
use crate::auth::tokens;
use crate::config::Config;
use crate::days::ago;
use crate::store::{OutboxState, RoundCounts, SavedLink, Store};

/// What `status` reports, gathered once and written as text or JSON.
#[derive(Debug, Serialize)]
pub struct Status {
    /// The signed-in account, null when not signed in.
    pub account: Option<String>,
    /// Whether anyone is signed in.
    pub signed_in: bool,
    /// Minutes the access token is still valid (0 when expired), null when not signed in.
    pub token_valid_minutes: Option<i64>,
    /// Whether a refresh token is stored.
    pub refresh_token: bool,
    /// Whether the sign-in may change the calendar (granted `Calendars.ReadWrite`, and
    /// `[account] read_only` not set); false when not signed in.
    pub can_write: bool,
    /// The changes not yet applied by the server, by state.
    pub outbox: OutboxCounts,
    /// The cache file, and its size.
    pub cache: String,
    /// The configured calendars.
    pub calendars: Vec<CalendarStatus>,
    /// `[accounts.NAME]`: each further account's sign-in.
    pub accounts: Vec<AccountStatus>,
}

/// One further account's sign-in.
#[derive(Debug, Serialize)]
pub struct AccountStatus {
    /// Its name in the config (`[accounts.NAME]`).
    pub name: String,
    /// Who is signed in, null when nobody is.
    pub account: Option<String>,
    /// Whether anyone is signed in.
    pub signed_in: bool,
    /// Minutes the access token is still valid (0 when expired), null when not signed in.
    pub token_valid_minutes: Option<i64>,
    /// The tenant it signs in to (`consumers` for a personal Microsoft account).
    pub tenant: String,
}

/// One configured calendar's state in the cache.
#[derive(Debug, Serialize)]
pub struct CalendarStatus {
    /// The cache key: `default` or the calendar id, as `agenda --json` prints it.
    pub calendar: String,
    /// Its name.
    pub name: String,
    /// Whether a round of it ever started; the fields below are null when not.
    pub synced: bool,
    /// The first instant of the window synced.
    pub window_start: Option<DateTime<Utc>>,
    /// The instant after the window synced.
    pub window_end: Option<DateTime<Utc>>,
    /// Events cached.
    pub events: u64,
    /// The last completed round.
    pub last_round: Option<LastRound>,
    /// `up_to_date`, `full_round_in_progress`, `round_in_progress`, `no_link`, `listed`, or
    /// null.
    pub state: Option<&'static str>,
    /// Whose calendar: `me`, another user's address, or `group:ID`.
    pub owner: String,
    /// Why its last sync failed; null when it did not.
    pub failure: Option<String>,
    /// When it failed; null when it did not.
    pub failed_at: Option<DateTime<Utc>>,
}

/// How many changes wait, by state.
#[derive(Debug, Default, Serialize)]
pub struct OutboxCounts {
    /// Waiting to be sent (again).
    pub queued: u64,
    /// Held by a sender now.
    pub sending: u64,
    /// Refused by the server (kept 7 days).
    pub failed: u64,
    /// Not sent over someone else's change.
    pub conflict: u64,
}

impl OutboxCounts {
    fn total(&self) -> u64 {
        self.queued + self.sending + self.failed + self.conflict
    }
}

/// A completed round: when, and what it did.
#[derive(Debug, Serialize)]
pub struct LastRound {
    /// When it completed.
    pub at: DateTime<Utc>,
    /// Events added.
    pub added: u64,
    /// Events changed.
    pub updated: u64,
    /// Events removed.
    pub removed: u64,
    /// Pages fetched.
    pub pages: u64,
}

impl LastRound {
    fn new(at: DateTime<Utc>, c: RoundCounts) -> LastRound {
        LastRound {
            at,
            added: c.added,
            updated: c.updated,
            removed: c.removed,
            pages: c.pages,
        }
    }
}

/// Reads the token file and the cache (never the network).
pub fn gather(config: &Config, now: DateTime<Utc>) -> anyhow::Result<Status> {
    let tokens = tokens::load(&config.token_path())?;
    let store = if config.cache_path().exists() {
        Some(Store::open_for_reading(&config.cache_path())?)
    } else {
        None
    };
    let failures = match &store {
        Some(s) => s.view_failures()?,
        None => Default::default(),
    };
    let mut calendars = Vec::with_capacity(config.calendars.len());
    for cal in &config.calendars {
        let failure = failures.get(cal.key.as_str());
        let state = match &store {
            Some(s) => s.sync_state(&cal.key)?,
            None => None,
        };
        let events = match (&store, &state) {
            (Some(s), Some(_)) => s.count(&cal.key)?,
            _ => 0,
        };
        calendars.push(CalendarStatus {
            calendar: cal.key.to_string(),
            name: cal.name.clone(),
            synced: state.is_some(),
            window_start: state.as_ref().map(|s| s.cursor.window.start),
            window_end: state.as_ref().map(|s| s.cursor.window.end),
            events,
            last_round: state
                .as_ref()
                .and_then(|s| Some(LastRound::new(s.cursor.last_completed?, s.last_counts?))),
            owner: match &cal.owner {
                crate::model::Owner::Me => "me".to_owned(),
                crate::model::Owner::User(address) => address.clone(),
                crate::model::Owner::Group(id) => format!("group:{id}"),
            },
            failure: failure.map(|f| f.message.clone()),
            failed_at: failure.map(|f| f.at),
            state: state.as_ref().map(|s| match &s.cursor.link {
                _ if s.cursor.listed && !s.cursor.full_round => "listed",
                Some(SavedLink::Delta(_)) => "up_to_date",
                Some(SavedLink::Next(_)) if s.cursor.full_round => "full_round_in_progress",
                Some(SavedLink::Next(_)) => "round_in_progress",
                None => "no_link",
            }),
        });
    }
    let mut outbox = OutboxCounts::default();
    if let Some(store) = &store {
        for entry in store.outbox()? {
            *match entry.state {
                OutboxState::Queued => &mut outbox.queued,
                OutboxState::Sending => &mut outbox.sending,
                OutboxState::Failed => &mut outbox.failed,
                OutboxState::Conflict => &mut outbox.conflict,
            } += 1;
        }
    }
    let mut accounts = Vec::new();
    for (name, account) in &config.accounts {
        let own = config
            .for_account(Some(name))
            .map_err(|e| anyhow::anyhow!(e))?;
        let tokens = tokens::load(&own.token_path())?;
        accounts.push(AccountStatus {
            name: name.clone(),
            account: tokens.as_ref().and_then(|t| t.account.clone()),
            signed_in: tokens.is_some(),
            token_valid_minutes: tokens
                .as_ref()
                .map(|t| (t.expires_at - now).num_minutes().max(0)),
            tenant: account.tenant.clone(),
        });
    }
    Ok(Status {
        accounts,
        can_write: !config.account.read_only
            && tokens
                .as_ref()
                .is_some_and(|t| scope_can_write(t.scope.as_deref())),
        outbox,
        account: tokens.as_ref().and_then(|t| t.account.clone()),
        signed_in: tokens.is_some(),
        token_valid_minutes: tokens
            .as_ref()
            .map(|t| (t.expires_at - now).num_minutes().max(0)),
        refresh_token: tokens.as_ref().is_some_and(|t| t.refresh_token.is_some()),
        cache: config.cache_path().display().to_string(),
        calendars,
    })
}

/// `deltacal status`, as text or JSON.
pub fn write(config: &Config, json: bool, out: &mut impl Write) -> anyhow::Result<()> {
    let now = Utc::now();
    let status = gather(config, now)?;
    if json {
        serde_json::to_writer_pretty(&mut *out, &status)?;
        writeln!(out)?;
        return Ok(());
    }
    if !status.signed_in {
        writeln!(out, "account:   not signed in (run `deltacal login`)")?;
    } else {
        writeln!(
            out,
            "account:   {}",
            crate::text::line(status.account.as_deref().unwrap_or("signed in"))
        )?;
        let refresh = if status.refresh_token {
            "refresh token stored"
        } else {
            "no refresh token"
        };
        match status.token_valid_minutes {
            Some(left) if left > 0 => writeln!(
                out,
                "token:     access token valid for {left} min, {refresh}"
            )?,
            _ => writeln!(out, "token:     access token expired, {refresh}")?,
        }
        let writes = if status.can_write {
            "can change the calendar"
        } else if config.account.read_only {
            "read only ([account] read_only is set)"
        } else {
            "can only read (run `deltacal login` to allow changes)"
        };
        writeln!(out, "writes:    {writes}")?;
    }
    let o = &status.outbox;
    if o.total() > 0 {
        let mut parts = Vec::new();
        for (n, word) in [
            (o.queued, "queued"),
            (o.sending, "sending"),
            (o.failed, "failed"),
            (o.conflict, "conflict"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {word}"));
            }
        }
        writeln!(
            out,
            "outbox:    {} (`deltacal outbox` lists them)",
            parts.join(", ")
        )?;
    } else {
        writeln!(out, "outbox:    nothing waits to be sent")?;
    }
    for a in &status.accounts {
        let name = crate::text::line(&a.name);
        match (&a.account, a.token_valid_minutes) {
            (_, None) => writeln!(
                out,
                "account {name}: not signed in (run `deltacal login --account {name}`)"
            )?,
            (who, Some(left)) => writeln!(
                out,
                "account {name}: {}, access token {}",
                crate::text::line(who.as_deref().unwrap_or("signed in")),
                if left > 0 {
                    format!("valid for {left} min")
                } else {
                    "expired (refreshed when needed)".into()
                }
            )?,
        }
    }
    writeln!(out, "cache:     {}", status.cache)?;
    let fmt = "%Y-%m-%d %H:%M UTC";
    for cal in &status.calendars {
        writeln!(
            out,
            "calendar:  {} [{}]",
            crate::text::line(&cal.name),
            cal.calendar
        )?;
        if cal.owner != "me" {
            writeln!(out, "  owner:   {}", crate::text::line(&cal.owner))?;
        }
        if let (Some(failure), Some(at)) = (&cal.failure, cal.failed_at) {
            writeln!(
                out,
                "  failed:  {} ({}): {}",
                at.format(fmt),
                ago(at, now),
                crate::text::line(failure)
            )?;
        }
        let (Some(start), Some(end), Some(state)) = (cal.window_start, cal.window_end, cal.state)
        else {
            writeln!(out, "  never synced (run `deltacal sync`)")?;
            continue;
        };
        writeln!(
            out,
            "  window:  {} .. {}",
            start.format(fmt),
            end.format(fmt)
        )?;
        writeln!(out, "  events:  {}", cal.events)?;
        match &cal.last_round {
            Some(r) => writeln!(
                out,
                "  last round: {} ({}): {} added, {} updated, {} removed, {} pages",
                r.at.format(fmt),
                ago(r.at, now),
                r.added,
                r.updated,
                r.removed,
                r.pages
            )?,
            None => writeln!(out, "  last round: none completed")?,
        }
        let sync = match state {
            "up_to_date" => "up to date as of the last round (delta link saved)",
            "full_round_in_progress" => "full round in progress (resumes on next sync)",
            "round_in_progress" => "round in progress (resumes on next sync)",
            "listed" => "listed as of the last round (delta refused for this calendar)",
            _ => "no link saved (next sync is a full round)",
        };
        writeln!(out, "  state:   {sync}")?;
    }
    Ok(())
}
