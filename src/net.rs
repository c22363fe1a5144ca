//! The one HTTP client deltacal uses, below both sign-in and Graph, and how its failures read.

use std::time::Duration;

use crate::failure::FailureKind;

/// The HTTP client: rustls, no redirects (a redirect could carry a token elsewhere), bounded
/// timeouts.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("deltacal/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the TLS backend initialises")
}

/// The kind of a transport failure: unreachable (refused, no route, timed out) is offline,
/// anything else went wrong on the way back from a server that answered.
pub fn failure_kind(e: &reqwest::Error) -> FailureKind {
    if e.is_timeout() || e.is_connect() {
        FailureKind::Offline
    } else {
        FailureKind::Server
    }
}

/// One line for a transport failure, without the URL's query (which holds state tokens).
pub fn describe(e: &reqwest::Error) -> String {
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
