//! The signed-in session: hands out access tokens, refreshing them before they expire and after
//! a 401, and keeps rotated refresh tokens.

use std::path::PathBuf;

use chrono::Utc;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, ClientId, DeviceAuthorizationUrl, EndpointNotSet, EndpointSet, RefreshToken, Scope,
    TokenResponse, TokenUrl,
};
use tokio::sync::Mutex;

use super::http::{OAuthHttp, OAuthHttpError};
use super::tokens::{self, FileStamp, TokenSet};
use crate::config::Config;
use crate::failure::FailureKind;

/// The scopes deltacal asks for.
pub const SCOPES: &[&str] = &["offline_access", "Calendars.Read", "User.Read"];

/// The scopes of a sign-in that may change the calendar: what `login` asks for unless
/// `[account] read_only` is set.
pub const WRITE_SCOPES: &[&str] = &["offline_access", "Calendars.ReadWrite", "User.Read"];

/// The scopes a sign-in asks for under `config`: reading (or writing) the user's calendars,
/// and, when the config names them, calendars shared with the user (`.Shared`) and group
/// calendars (`Group.Read.All`, which many tenants reserve for an administrator's consent, so
/// it is asked only when a group calendar is configured).
pub fn scopes_for(config: &Config) -> Vec<&'static str> {
    use crate::model::Owner;
    let mut scopes = if config.account.read_only {
        SCOPES.to_vec()
    } else {
        WRITE_SCOPES.to_vec()
    };
    let owners = || config.calendars.iter().map(|c| &c.owner);
    if owners().any(|o| matches!(o, Owner::User(_))) {
        scopes.push(if config.account.read_only {
            "Calendars.Read.Shared"
        } else {
            "Calendars.ReadWrite.Shared"
        });
    }
    if owners().any(|o| matches!(o, Owner::Group(_))) {
        scopes.push("Group.Read.All");
    }
    scopes
}

/// The scopes a refresh asks for: those the sign-in was granted (and `offline_access`), or,
/// where the platform did not say them, the base ones.
fn refresh_scopes(granted: Option<&str>) -> Vec<Scope> {
    let words: Vec<&str> = granted
        .map(|g| g.split_whitespace().collect())
        .unwrap_or_default();
    let mut scopes: Vec<String> = if words.is_empty() {
        if scope_can_write(granted) {
            WRITE_SCOPES
        } else {
            SCOPES
        }
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    } else {
        words.iter().map(|w| (*w).to_owned()).collect()
    };
    if !scopes.iter().any(|s| s == "offline_access") {
        scopes.push("offline_access".into());
    }
    scopes.into_iter().map(Scope::new).collect()
}

/// Whether granted scopes (as the identity platform said them) allow writing.
pub fn scope_can_write(scope: Option<&str>) -> bool {
    scope.is_some_and(|s| {
        s.split_whitespace().any(|w| {
            w.rsplit('/')
                .next()
                .is_some_and(|w| w.eq_ignore_ascii_case("Calendars.ReadWrite"))
        })
    })
}

/// Refresh when the access token has less than this left.
const REFRESH_MARGIN_SECS: i64 = 300;
/// A token another process got is taken up when it has at least this left (it may have been
/// issued for less than [`REFRESH_MARGIN_SECS`]).
const ADOPT_MARGIN_SECS: i64 = 30;

/// The oauth2 client with the device-authorization and token endpoints set.
pub type IdentityClient =
    BasicClient<EndpointNotSet, EndpointSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Why no access token could be had.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    /// No token file: nobody signed in.
    #[error("not signed in: run `deltacal login` (or press `s` in the app)")]
    NotSignedIn,
    /// Signed out by `deltacal logout`.
    #[error("signed out (by `deltacal logout`): run `deltacal login` to sign in again")]
    SignedOut,
    /// The refresh token was refused (expired, revoked): sign in again.
    #[error("sign-in expired ({0}): run `deltacal login` again")]
    SignInAgain(String),
    /// The identity platform refused or failed a request.
    #[error("identity service: {0}")]
    Service(String),
    /// The identity platform cannot be reached.
    #[error("identity service unreachable: {0}")]
    Unreachable(String),
    #[error(
        "your organisation does not allow signing in with a device code (Conditional Access); sign in with `deltacal login --browser`"
    )]
    /// Conditional Access blocks the device code flow.
    DeviceFlowBlocked,
    /// The token file cannot be read or written.
    #[error("{0}")]
    File(String),
}

impl AuthError {
    /// What callers match on.
    pub fn kind(&self) -> FailureKind {
        match self {
            AuthError::NotSignedIn | AuthError::SignedOut | AuthError::SignInAgain(_) => {
                FailureKind::SignInNeeded
            }
            AuthError::Service(_) => FailureKind::Server,
            AuthError::DeviceFlowBlocked => FailureKind::Refused,
            AuthError::Unreachable(_) => FailureKind::Offline,
            AuthError::File(_) => FailureKind::Credentials,
        }
    }
}

/// `{authority}/{tenant}/oauth2/v2.0/{endpoint}`.
pub fn identity_url(config: &Config, endpoint: &str) -> String {
    format!(
        "{}/{}/oauth2/v2.0/{endpoint}",
        config.account.authority.as_str().trim_end_matches('/'),
        config.account.tenant
    )
}

/// Builds the oauth2 client from the config.
pub fn identity_client(config: &Config) -> Result<IdentityClient, AuthError> {
    let device = DeviceAuthorizationUrl::new(identity_url(config, "devicecode"))
        .map_err(|e| AuthError::Service(format!("device code URL: {e}")))?;
    let token = TokenUrl::new(identity_url(config, "token"))
        .map_err(|e| AuthError::Service(format!("token URL: {e}")))?;
    Ok(
        BasicClient::new(ClientId::new(config.account.client_id.clone()))
            .set_auth_type(AuthType::RequestBody)
            .set_device_authorization_url(device)
            .set_token_uri(token),
    )
}

/// Turns an oauth2 token response into what we store.
pub fn token_set(
    response: &oauth2::basic::BasicTokenResponse,
    previous_refresh: Option<String>,
    account: Option<String>,
) -> TokenSet {
    let expires_in = response
        .expires_in()
        .map(|d| chrono::Duration::seconds(d.as_secs() as i64))
        .unwrap_or_else(|| chrono::Duration::hours(1));
    TokenSet {
        access_token: response.access_token().secret().clone(),
        // Rotation: keep the new refresh token when one comes, else the one we had.
        refresh_token: response
            .refresh_token()
            .map(|r| r.secret().clone())
            .or(previous_refresh),
        expires_at: Utc::now() + expires_in,
        scope: response.scopes().map(|s| {
            s.iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        }),
        account,
    }
}

/// What a session holds: the tokens and the version of the token file they came from.
struct Held {
    tokens: Option<TokenSet>,
    /// The token file's version these tokens match (None: there was no file).
    seen: Option<FileStamp>,
    /// The file was there and is gone: someone ran `deltacal logout`.
    signed_out: bool,
    /// Tokens in memory that the token file does not hold yet (saving them failed).
    unsaved: bool,
}

impl Held {
    /// What a version of the token file holds, taken up whole.
    fn of_file(tokens: TokenSet, stamp: FileStamp) -> Held {
        Held {
            tokens: Some(tokens),
            seen: Some(stamp),
            signed_out: false,
            unsaved: false,
        }
    }
}

/// Tokens in memory and on disk, refreshed as needed, following the token file: several
/// deltacal processes share one. One refresh at a time in a process (a mutex) and across
/// processes (the token file's lock, under which the file is read again first, so a refresh
/// token another process just spent is never spent twice).
pub struct Session {
    client: IdentityClient,
    http: reqwest::Client,
    path: PathBuf,
    held: Mutex<Held>,
}

impl Session {
    /// The session of the token file the config names (signed out when there is none).
    pub fn load(config: &Config, http: reqwest::Client) -> Result<Session, AuthError> {
        let path = config.token_path();
        let (tokens, seen) = match tokens::load_stamped(&path).map_err(file_error)? {
            Some((tokens, stamp)) => (Some(tokens), Some(stamp)),
            None => (None, None),
        };
        Ok(Session {
            client: identity_client(config)?,
            http,
            path,
            held: Mutex::new(Held {
                tokens,
                seen,
                signed_out: false,
                unsaved: false,
            }),
        })
    }

    /// Whether the sign-in may change the calendar (it was granted `Calendars.ReadWrite`);
    /// false when nobody is signed in.
    pub async fn can_write(&self) -> bool {
        let mut held = self.held.lock().await;
        if self.follow(&mut held).is_err() {
            return false;
        }
        held.tokens
            .as_ref()
            .is_some_and(|t| scope_can_write(t.scope.as_deref()))
    }

    /// Why nobody is signed in (not signed in, or signed out); Ok when someone is.
    pub async fn check_signed_in(&self) -> Result<(), AuthError> {
        let mut held = self.held.lock().await;
        self.follow(&mut held)?;
        self.current(&held).map(|_| ())
    }

    /// Who is signed in, as the tokens say.
    pub async fn account(&self) -> Option<String> {
        let mut held = self.held.lock().await;
        let _ = self.follow(&mut held);
        held.tokens.as_ref().and_then(|t| t.account.clone())
    }

    /// Stores new tokens (after a sign-in).
    pub async fn set(&self, new: TokenSet) -> Result<(), AuthError> {
        let mut held = self.held.lock().await;
        let (new, stamp) = self
            .under_lock(move |path| tokens::save_locked(path, &new).map(|stamp| (new, stamp)))
            .await?;
        *held = Held::of_file(new, stamp);
        Ok(())
    }

    /// Re-reads the token file (another process may have signed in or refreshed).
    pub async fn reload(&self) -> Result<(), AuthError> {
        let mut held = self.held.lock().await;
        held.seen = None;
        held.unsaved = false;
        self.follow(&mut held)
    }

    /// A usable access token, refreshed first if it is about to expire.
    pub async fn access_token(&self) -> Result<String, AuthError> {
        let mut held = self.held.lock().await;
        self.follow(&mut held)?;
        let current = self.current(&held)?;
        if current.fresh(Utc::now(), REFRESH_MARGIN_SECS) {
            return Ok(current.access_token.clone());
        }
        let stale = current.access_token.clone();
        self.refresh(&mut held, &stale).await
    }

    /// After a 401 with `rejected`: refresh, unless another task or process already did.
    pub async fn refresh_after_rejection(&self, rejected: &str) -> Result<String, AuthError> {
        let mut held = self.held.lock().await;
        self.follow(&mut held)?;
        let current = self.current(&held)?;
        if current.access_token != rejected {
            return Ok(current.access_token.clone());
        }
        self.refresh(&mut held, rejected).await
    }

    fn current<'a>(&self, held: &'a Held) -> Result<&'a TokenSet, AuthError> {
        match &held.tokens {
            Some(tokens) => Ok(tokens),
            None if held.signed_out => Err(AuthError::SignedOut),
            None => Err(AuthError::NotSignedIn),
        }
    }

    /// Takes up what another process wrote to the token file since this one last read it: a
    /// refresh, a new sign-in, or a logout (which this process then keeps to: it never writes
    /// the file back). Saves tokens an earlier save could not, if the file is as it was.
    fn follow(&self, held: &mut Held) -> Result<(), AuthError> {
        let now = tokens::stamp(&self.path).map_err(file_error)?;
        if now == held.seen {
            if held.unsaved
                && let Some(current) = &held.tokens
                && let Ok(stamp) = tokens::save(&self.path, current)
            {
                held.seen = Some(stamp);
                held.unsaved = false;
                tracing::info!("tokens kept in memory are saved now");
            }
            return Ok(());
        }
        let Some((tokens, stamp)) = tokens::load_stamped(&self.path).map_err(file_error)? else {
            if held.tokens.is_some() || held.seen.is_some() {
                tracing::info!("the token file is gone (signed out by another process)");
                held.signed_out = true;
            }
            held.tokens = None;
            held.seen = None;
            held.unsaved = false;
            return Ok(());
        };
        if held.tokens.as_ref() != Some(&tokens) {
            tracing::info!("tokens taken from the token file (another process wrote it)");
        }
        *held = Held::of_file(tokens, stamp);
        Ok(())
    }

    /// Runs `f` on the token file's path with the file's lock held, off the async threads.
    async fn under_lock<T: Send + 'static>(
        &self,
        f: impl FnOnce(&std::path::Path) -> Result<T, tokens::TokenFileError> + Send + 'static,
    ) -> Result<T, AuthError> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let _lock = tokens::lock(&path)?;
            f(&path)
        })
        .await
        .map_err(|e| AuthError::File(format!("token file task failed: {e}")))?
        .map_err(file_error)
    }

    /// Refreshes to replace the access token `stale`, with the token file's lock held across
    /// the request: first the file is read again, and where another process has already
    /// replaced `stale` with a token still good for a while, that one is taken instead of
    /// spending the refresh token again (a rotated one may be refused the second time). The sign-in survives a full disk: room for the new tokens is
    /// reserved before the server is asked (it may rotate the refresh token, and the old one
    /// then dies), and new tokens that still cannot be written are kept in memory and saved
    /// later.
    async fn refresh(&self, held: &mut Held, stale: &str) -> Result<String, AuthError> {
        let path = self.path.clone();
        let lock = tokio::task::spawn_blocking(move || tokens::lock(&path))
            .await
            .map_err(|e| AuthError::File(format!("token file task failed: {e}")))?
            .map_err(file_error)?;
        // Whatever another process wrote while this one waited for the lock.
        if !held.unsaved {
            self.follow(held)?;
        }
        let current = self.current(held)?.clone();
        if current.access_token != stale && current.fresh(Utc::now(), ADOPT_MARGIN_SECS) {
            return Ok(current.access_token);
        }
        let Some(refresh) = &current.refresh_token else {
            return Err(AuthError::SignInAgain("no refresh token stored".into()));
        };
        let reservation = tokens::Reservation::new(&self.path, Some(&current)).map_err(|e| {
            AuthError::File(format!(
                "{e}; the sign-in is kept, refreshed once it can be saved"
            ))
        })?;
        let response = self
            .client
            .exchange_refresh_token(&RefreshToken::new(refresh.clone()))
            // The scopes the sign-in granted: a refresh cannot widen them, and one that asked
            // for fewer would narrow the new token (the shared calendars' scope lost).
            .add_scopes(refresh_scopes(current.scope.as_deref()))
            .request_async(&OAuthHttp(&self.http))
            .await
            .map_err(|e| match e {
                oauth2::RequestTokenError::ServerResponse(r) => {
                    AuthError::SignInAgain(crate::text::bounded(r.error().as_ref(), 100))
                }
                other => request_failure(&other),
            })?;
        let next = token_set(
            &response,
            current.refresh_token.clone(),
            current.account.clone(),
        );
        match reservation.commit(&next) {
            Ok(stamp) => {
                tracing::info!("access token refreshed");
                held.seen = Some(stamp);
                held.unsaved = false;
            }
            Err(e) => {
                held.unsaved = true;
                tracing::warn!(error = %e, "refreshed tokens kept in memory; saved once the disk lets us");
            }
        }
        drop(lock);
        let token = next.access_token.clone();
        held.tokens = Some(next);
        Ok(token)
    }
}

fn file_error(e: tokens::TokenFileError) -> AuthError {
    AuthError::File(e.to_string())
}

/// The AADSTS codes with which the platform refuses the device-code flow by policy: 53003
/// (blocked by Conditional Access, as an authentication-flows policy that blocks the device
/// code answers), 530033 and 530035 (remote device flow blocked by device-based policies).
const DEVICE_FLOW_BLOCKED: [&str; 3] = ["AADSTS53003", "AADSTS530033", "AADSTS530035"];

/// True when an error description is the platform refusing the device-code flow by policy.
pub fn device_flow_blocked(description: &str) -> bool {
    DEVICE_FLOW_BLOCKED.iter().any(|code| {
        description.starts_with(code)
            && !description[code.len()..].starts_with(|c: char| c.is_ascii_digit())
    })
}

/// An oauth2 request that got no usable answer: unreachable, or a reply that was not one.
/// Never includes a token.
pub fn request_failure<T: oauth2::ErrorResponse>(
    e: &oauth2::RequestTokenError<OAuthHttpError, T>,
) -> AuthError {
    match e {
        oauth2::RequestTokenError::Request(r) if r.kind == FailureKind::Offline => {
            AuthError::Unreachable(r.to_string())
        }
        // Whatever the server said is bounded and sanitised here, where it comes in.
        oauth2::RequestTokenError::ServerResponse(r) => AuthError::Service(format!(
            "server answered {}",
            crate::text::bounded(&r.to_string(), 300)
        )),
        oauth2::RequestTokenError::Request(r) => AuthError::Service(format!(
            "request failed: {}",
            crate::text::bounded(&r.to_string(), 300)
        )),
        oauth2::RequestTokenError::Parse(p, _) => AuthError::Service(format!(
            "unreadable answer: {}",
            crate::text::bounded(&p.to_string(), 300)
        )),
        oauth2::RequestTokenError::Other(o) => AuthError::Service(crate::text::bounded(o, 300)),
    }
}
