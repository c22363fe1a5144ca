//! Talking to Microsoft Graph: the HTTP client with retries and link checks, and the wire format.

pub mod client;
pub mod wire;

use std::time::Duration;

/// The one HTTP client deltacal uses: rustls, no redirects (a redirect could carry a token
/// elsewhere), bounded timeouts.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("deltacal/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the TLS backend initialises")
}

/// One line for a reqwest error, without the URL's query (which holds state tokens).
pub fn describe_reqwest(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "connection broke while reading the response"
    } else if e.is_request() {
        "request failed"
    } else {
        "network error"
    };
    let host = e
        .url()
        .and_then(|u| u.host_str().map(|h| format!(" ({h})")))
        .unwrap_or_default();
    format!("{kind}{host}")
}
