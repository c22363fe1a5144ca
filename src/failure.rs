//! What kind of failure stopped a piece of work. Callers match on the kind (the status bar, the
//! exit code, the retry pace); nobody parses a message.

/// The kind of a failure, decided where the typed error still exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// Nobody is signed in, or the sign-in expired: the user must sign in (again).
    SignInNeeded,
    /// The server could not be reached (connection refused, no route, timed out).
    Offline,
    /// The server asked us to slow down (HTTP 429) and kept asking.
    Throttled,
    /// The server failed or answered with something unusable (5xx, a broken page).
    Server,
    /// The server refused the request (permissions, a wrong calendar id, a foreign link).
    Refused,
    /// The local cache could not be read or written.
    Cache,
    /// The token file could not be read or written.
    Credentials,
}
