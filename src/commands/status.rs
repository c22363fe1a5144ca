//! `deltacal status`: account, calendars, window, counts, last round, token state.

use std::io::Write;

use chrono::Utc;

use crate::auth::tokens;
use crate::config::Config;
use crate::days::ago;
use crate::store::{SavedLink, Store};

pub fn write(config: &Config, out: &mut impl Write) -> anyhow::Result<()> {
    let now = Utc::now();
    let tokens = tokens::load(&config.token_path())?;
    match &tokens {
        None => writeln!(out, "account:   not signed in (run `deltacal login`)")?,
        Some(t) => {
            writeln!(
                out,
                "account:   {}",
                crate::text::line(t.account.as_deref().unwrap_or("signed in"))
            )?;
            let left = (t.expires_at - now).num_minutes();
            let refresh = if t.refresh_token.is_some() {
                "refresh token stored"
            } else {
                "no refresh token"
            };
            if left > 0 {
                writeln!(
                    out,
                    "token:     access token valid for {left} min, {refresh}"
                )?;
            } else {
                writeln!(out, "token:     access token expired, {refresh}")?;
            }
        }
    }
    writeln!(out, "cache:     {}", config.cache_path().display())?;
    let store = if config.cache_path().exists() {
        Some(Store::open_for_reading(&config.cache_path())?)
    } else {
        None
    };
    for cal in &config.calendars {
        writeln!(
            out,
            "calendar:  {} [{}]",
            crate::text::line(&cal.name),
            cal.key
        )?;
        let state = match &store {
            Some(s) => s.sync_state(&cal.key)?,
            None => None,
        };
        let Some(state) = state else {
            writeln!(out, "  never synced (run `deltacal sync`)")?;
            continue;
        };
        let count = store
            .as_ref()
            .map(|s| s.count(&cal.key))
            .transpose()?
            .unwrap_or(0);
        let fmt = "%Y-%m-%d %H:%M UTC";
        writeln!(
            out,
            "  window:  {} .. {}",
            state.window.start.format(fmt),
            state.window.end.format(fmt)
        )?;
        writeln!(out, "  events:  {count}")?;
        match (state.last_completed, state.last_counts) {
            (Some(at), Some(c)) => writeln!(
                out,
                "  last round: {} ({}): {} added, {} updated, {} removed, {} pages",
                at.format(fmt),
                ago(at, now),
                c.added,
                c.updated,
                c.removed,
                c.pages
            )?,
            _ => writeln!(out, "  last round: none completed")?,
        }
        let sync = match &state.link {
            Some(SavedLink::Delta(_)) => "up to date as of the last round (delta link saved)",
            Some(SavedLink::Next(_)) if state.full_round => {
                "full round in progress (resumes on next sync)"
            }
            Some(SavedLink::Next(_)) => "round in progress (resumes on next sync)",
            None => "no link saved (next sync is a full round)",
        };
        writeln!(out, "  state:   {sync}")?;
    }
    Ok(())
}
