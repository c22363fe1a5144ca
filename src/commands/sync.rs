//! `deltacal sync`, `deltacal login` and `deltacal logout`.

use std::io::Write;
use std::sync::Arc;

use crate::auth::{device, session, tokens};
use crate::config::Config;
use crate::sync::SyncEngine;

/// Runs a round per calendar; prints one line each. Fails (after trying every calendar) with the
/// first calendar's error.
pub async fn sync(config: Arc<Config>, out: &mut (impl Write + Send)) -> anyhow::Result<()> {
    let (engine, moved) = SyncEngine::for_sync_command(config)?;
    if let Some(aside) = moved {
        eprintln!(
            "deltacal: the cache was damaged; it is now {} and a new one is filled from the server",
            aside.display()
        );
    }
    let mut first_error = None;
    for (cal, result) in engine.sync_all().await {
        match result {
            Ok(s) if s.by_another => writeln!(
                out,
                "{} [{}]: brought up to date by another deltacal process, {:.2} s",
                crate::text::line(&cal.name),
                cal.key,
                s.seconds
            )?,
            Ok(s) if s.next_listing.is_some() => writeln!(
                out,
                "{} [{}]: listed less than [sync] group_interval_secs ago; next listing at {}",
                crate::text::line(&cal.name),
                cal.key,
                s.next_listing
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                    .unwrap_or_default()
            )?,
            Ok(s) => writeln!(
                out,
                "{} [{}]: {} added, {} updated, {} removed, {} pages, {:.2} s{}",
                crate::text::line(&cal.name),
                cal.key,
                s.counts.added,
                s.counts.updated,
                s.counts.removed,
                s.counts.pages,
                s.seconds,
                if s.listed { " (listed)" } else { "" }
            )?,
            // Each calendar's failure is its own: said here, and the others go on.
            Err(e) => {
                writeln!(
                    out,
                    "{} [{}]: failed: {e}",
                    crate::text::line(&cal.name),
                    cal.key
                )?;
                if first_error.is_none() {
                    first_error = Some(anyhow::anyhow!(
                        "sync {} [{}]: {e}",
                        crate::text::line(&cal.name),
                        cal.key
                    ));
                }
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Device-code sign-in on the terminal.
pub async fn login(config: &Config, out: &mut (impl Write + Send)) -> anyhow::Result<()> {
    // Before the user is asked to do anything: the tokens must have somewhere to go.
    tokens::check_writable(&config.token_path())?;
    let http = crate::net::http_client();
    let client = session::identity_client(config)?;
    let code = device::start(&client, &http, &session::scopes_for(config)).await?;
    writeln!(
        out,
        "To sign in, open {} and enter the code {}",
        crate::text::line(&code.verification_uri),
        crate::text::line(&code.user_code)
    )?;
    writeln!(
        out,
        "Waiting for approval (the code expires in {} min)...",
        code.expires_in_secs / 60
    )?;
    out.flush()?;
    let tokens = device::finish(&client, &http, config, &code).await?;
    save_and_say(config, &tokens, out)?;
    tracing::info!("signed in");
    Ok(())
}

/// Stores new tokens and says who signed in.
fn save_and_say(
    config: &Config,
    tokens: &tokens::TokenSet,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    tokens::save(&config.token_path(), tokens)?;
    writeln!(
        out,
        "Signed in{}.",
        tokens
            .account
            .as_deref()
            .map(|a| format!(" as {}", crate::text::line(a)))
            .unwrap_or_default()
    )?;
    Ok(())
}

/// Browser sign-in on the terminal: prints the URL (and opens it), waits for the redirect.
pub async fn login_browser(config: &Config, out: &mut (impl Write + Send)) -> anyhow::Result<()> {
    use crate::auth::browser;
    tokens::check_writable(&config.token_path())?;
    let http = crate::net::http_client();
    let pending = browser::start(config).await?;
    let opened = browser::open_in_browser(pending.url());
    writeln!(
        out,
        "To sign in, open this page in your browser{}:\n{}",
        if opened {
            " (it should have opened)"
        } else {
            ""
        },
        crate::text::line(pending.url())
    )?;
    writeln!(
        out,
        "Waiting for the browser (up to {} min)...",
        browser::BROWSER_TIMEOUT.as_secs() / 60
    )?;
    out.flush()?;
    let tokens = pending
        .finish(&http, config, browser::BROWSER_TIMEOUT)
        .await?;
    save_and_say(config, &tokens, out)?;
    tracing::info!("signed in in the browser");
    Ok(())
}

/// `deltacal logout`: forgets the tokens, keeps the cache.
pub fn logout(config: &Config, out: &mut impl Write) -> anyhow::Result<()> {
    if tokens::delete(&config.token_path())? {
        writeln!(out, "Signed out: tokens deleted (the cache is kept).")?;
    } else {
        writeln!(out, "Not signed in.")?;
    }
    Ok(())
}
