//! Sign-in as a background job: the app asks for it and hears how it goes through events, the
//! way it hears from the sync task. The job stores the tokens in the session it was given.

use super::device;
use super::session::{self, AuthError, Session};
use crate::config::Config;

/// Progress of a sign-in.
#[derive(Debug, Clone, PartialEq)]
pub enum SignInEvent {
    /// The user must open `uri` and enter `code`.
    Code { uri: String, code: String },
    /// Signed in; the tokens are stored.
    Done { account: Option<String> },
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
        let code = device::start(&client, http).await?;
        report(SignInEvent::Code {
            uri: code.verification_uri.clone(),
            code: code.user_code.clone(),
        });
        let tokens = device::finish(&client, http, config, &code).await?;
        let account = tokens.account.clone();
        session.set(tokens).await?;
        Ok::<_, AuthError>(account)
    }
    .await;
    report(match result {
        Ok(account) => {
            tracing::info!("signed in from the app");
            SignInEvent::Done { account }
        }
        Err(e) => SignInEvent::Failed(e.to_string()),
    });
}
