//! The device-code sign-in: ask for a code, show it, poll until the user approves.

use oauth2::{Scope, StandardDeviceAuthorizationResponse};
use serde::Deserialize;

use super::http::OAuthHttp;
use super::session::{AuthError, IdentityClient, device_flow_blocked, request_failure, token_set};
use super::tokens::TokenSet;
use crate::config::Config;

/// What the user must do: open `verification_uri` and enter `user_code`.
#[derive(Debug, Clone)]
pub struct DeviceCode {
    /// The page where the user enters the code.
    pub verification_uri: String,
    /// The code to enter.
    pub user_code: String,
    /// How long the code is good for.
    pub expires_in_secs: u64,
    details: StandardDeviceAuthorizationResponse,
}

/// Step 1: ask the identity platform for a device code.
pub async fn start(
    client: &IdentityClient,
    http: &reqwest::Client,
    scopes: &[&str],
) -> Result<DeviceCode, AuthError> {
    let details: StandardDeviceAuthorizationResponse = client
        .exchange_device_code()
        .add_scopes(scopes.iter().map(|s| Scope::new((*s).to_owned())))
        .request_async(&OAuthHttp(http))
        .await
        .map_err(|e| match &e {
            oauth2::RequestTokenError::ServerResponse(r)
                if r.error_description()
                    .is_some_and(|d| device_flow_blocked(d)) =>
            {
                AuthError::DeviceFlowBlocked
            }
            _ => match request_failure(&e) {
                AuthError::Service(why) => {
                    AuthError::Service(format!("device code request: {why}"))
                }
                other => other,
            },
        })?;
    Ok(DeviceCode {
        verification_uri: details.verification_uri().to_string(),
        user_code: details.user_code().secret().clone(),
        expires_in_secs: details.expires_in().as_secs(),
        details,
    })
}

/// Step 2: poll at the server's interval (adding 5 s on each `slow_down`) until the user
/// approves, declines, or the code expires. Then ask Graph who signed in.
pub async fn finish(
    client: &IdentityClient,
    http: &reqwest::Client,
    config: &Config,
    code: &DeviceCode,
) -> Result<TokenSet, AuthError> {
    let response = client
        .exchange_device_access_token(&code.details)
        .request_async(&OAuthHttp(http), tokio::time::sleep, None)
        .await
        .map_err(|e| match &e {
            oauth2::RequestTokenError::ServerResponse(r)
                if r.error_description()
                    .is_some_and(|d| device_flow_blocked(d)) =>
            {
                AuthError::DeviceFlowBlocked
            }
            oauth2::RequestTokenError::ServerResponse(r) => match r.error().as_ref() {
                "authorization_declined" | "access_denied" => {
                    AuthError::Service("sign-in was declined in the browser".into())
                }
                "expired_token" => AuthError::Service(
                    "the code expired before it was approved; run `deltacal login` again".into(),
                ),
                "bad_verification_code" => AuthError::Service(
                    "the identity service did not recognise the device code".into(),
                ),
                other => AuthError::Service(format!(
                    "sign-in failed: {}",
                    crate::text::bounded(other, 100)
                )),
            },
            other => request_failure(other),
        })?;
    let mut tokens = token_set(&response, None, None);
    tokens.account = who_am_i(http, config.graph.base_url.as_str(), &tokens.access_token).await;
    Ok(tokens)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Me {
    display_name: Option<String>,
    mail: Option<String>,
    user_principal_name: Option<String>,
}

/// `"Name <address>"` from Graph's /me (under `base_url`), if it answers: sanitised and bounded.
pub async fn who_am_i(
    http: &reqwest::Client,
    base_url: &str,
    access_token: &str,
) -> Option<String> {
    let url = format!("{}/me", base_url.trim_end_matches('/'));
    let response = http
        .get(url)
        .bearer_auth(access_token)
        .send()
        .await
        .ok()?
        .error_for_status()
        .ok()?;
    let body = crate::net::read_body(response, crate::net::MAX_SMALL_BYTES)
        .await
        .ok()?;
    let me: Me = serde_json::from_slice(&body).ok()?;
    let address = me.mail.or(me.user_principal_name);
    let account = match (me.display_name, address) {
        (Some(n), Some(a)) => format!("{n} <{a}>"),
        (Some(n), None) => n,
        (None, Some(a)) => a,
        (None, None) => return None,
    };
    // Stored and shown as it is here: sanitised and bounded once, where it comes in.
    Some(crate::text::bounded(&account, 200))
}
