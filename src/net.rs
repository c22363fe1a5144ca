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

/// The most a Graph page, an instances page or an event may weigh. Real pages are well under a
/// megabyte even at 1,000 items of long bodies; a body past this is a broken or hostile server.
pub const MAX_PAGE_BYTES: usize = 64 * 1024 * 1024;
/// The most a token, device-code or `/me` answer may weigh (real ones are a few KB).
pub const MAX_SMALL_BYTES: usize = 1024 * 1024;

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The transport failed: what it said, and its kind.
    #[error("{0}")]
    Transport(String, FailureKind),
    /// A response past the size deltacal reads.
    #[error("the response from {host} is larger than {limit} bytes; refusing it")]
    TooLarge {
        /// The host it came from.
        host: String,
        /// The most deltacal reads, in bytes.
        limit: usize,
    },
}

impl BodyError {
    /// What callers match on.
    pub fn kind(&self) -> FailureKind {
        match self {
            BodyError::Transport(_, kind) => *kind,
            BodyError::TooLarge { .. } => FailureKind::Server,
        }
    }
}

/// Reads a response body of at most `limit` bytes, chunk by chunk: a body with no end (or no
/// Content-Length) fails at the limit instead of filling memory.
pub async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    let host = response.url().host_str().unwrap_or("the server").to_owned();
    let too_large = || BodyError::TooLarge {
        host: host.clone(),
        limit,
    };
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(BodyError::Transport(describe(&e), failure_kind(&e))),
        }
    }
}

/// True for a failure to reach the server at all (refused, no route, no such host): known at
/// once, and not worth the long backoff that a busy server gets.
pub fn unreachable(e: &reqwest::Error) -> bool {
    e.is_connect()
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
