//! Sign-in as a background job: the app asks for it and hears how it goes through events, the
//! way it hears from the sync task. The job stores the tokens in the session it was given.

use super::session::{self, AuthError, Session};
use super::tokens::TokenSet;
use super::{browser, device};
use crate::config::Config;

/// Progress of a sign-in.
#[derive(Debug, Clone, PartialEq)]
pub enum SignInEvent {
    /// The user must open `uri` and enter `code`.
    Code {
        /// The page to enter the code at.
        uri: String,
        /// The code to enter.
        code: String,
    },
    /// The organisation refuses the device-code flow by policy: sign in in the browser.
    DeviceRefused,
    /// The user signs in at `url`, in the browser (`opened`: deltacal opened it).
    BrowserUrl {
        /// The sign-in page.
        url: String,
        /// Whether deltacal opened the browser on it.
        opened: bool,
    },
    /// Signed in; the tokens are stored.
    Done {
        /// Who signed in, if Graph said.
        account: Option<String>,
    },
    /// The sign-in ended without tokens.
    Failed(String),
}

/// Runs the device-code flow to its end, reporting each step through `report`.
pub async fn device_flow(
    config: &Config,
    session: &Session,
    http: &reqwest::Client,
    report: impl Fn(SignInEvent),
) {
    let result = async {
        let client = session::identity_client(config)?;
        let code = device::start(&client, http, &session::scopes_for(config)).await?;
        report(SignInEvent::Code {
            uri: code.verification_uri.clone(),
            code: code.user_code.clone(),
        });
        device::finish(&client, http, config, &code).await
    }
    .await;
    report(keep(session, result).await);
}

/// Runs the browser flow to its end: opens the sign-in page, waits for the redirect, stores the
/// tokens; reports each step through `report`.
pub async fn browser_flow(
    config: &Config,
    session: &Session,
    http: &reqwest::Client,
    report: impl Fn(SignInEvent),
) {
    let result = async {
        let pending = browser::start(config).await?;
        let opened = browser::open_in_browser(pending.url());
        report(SignInEvent::BrowserUrl {
            url: pending.url().to_owned(),
            opened,
        });
        pending.finish(http, config, browser::BROWSER_TIMEOUT).await
    }
    .await;
    report(keep(session, result).await);
}

/// Stores the tokens a flow ended with; what the app hears of how it ended.
async fn keep(session: &Session, result: Result<TokenSet, AuthError>) -> SignInEvent {
    let stored = match result {
        Ok(tokens) => {
            let account = tokens.account.clone();
            session.set(tokens).await.map(|()| account)
        }
        Err(e) => Err(e),
    };
    match stored {
        Ok(account) => {
            tracing::info!("signed in from the app");
            SignInEvent::Done { account }
        }
        Err(AuthError::DeviceFlowBlocked) => SignInEvent::DeviceRefused,
        Err(e) => SignInEvent::Failed(e.to_string()),
    }
}
