//! Sign-in in the browser: the authorization-code flow with PKCE (RFC 7636, S256) on a loopback
//! redirect (RFC 8252), for organisations that block the device-code flow.

use std::time::Duration;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenUrl,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::http::OAuthHttp;
use super::session::{AuthError, identity_url, request_failure, token_set};
use super::tokens::TokenSet;
use crate::config::Config;

/// How long the browser has to come back with an answer.
pub const BROWSER_TIMEOUT: Duration = Duration::from_secs(300);
/// The most a request to the loopback listener may hold before its blank line.
const MAX_REQUEST_BYTES: usize = 16 * 1024;

type AuthCodeClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// A browser sign-in under way: the URL to open, and the loopback listener the browser comes
/// back to.
pub struct BrowserSignIn {
    url: String,
    listener: TcpListener,
    client: AuthCodeClient,
    verifier: PkceCodeVerifier,
    state: CsrfToken,
}

/// Starts a browser sign-in: a listener on a free loopback port, and the authorize URL.
pub async fn start(config: &Config) -> Result<BrowserSignIn, AuthError> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| AuthError::Service(format!("cannot listen for the browser: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| AuthError::Service(format!("cannot listen for the browser: {e}")))?
        .port();
    let bad_url = |e: oauth2::url::ParseError| AuthError::Service(format!("identity URL: {e}"));
    // Microsoft allows any port on http://localhost for public clients.
    let redirect = RedirectUrl::new(format!("http://localhost:{port}/")).map_err(bad_url)?;
    let client = BasicClient::new(ClientId::new(config.account.client_id.clone()))
        .set_auth_type(AuthType::RequestBody)
        .set_auth_uri(AuthUrl::new(identity_url(config, "authorize")).map_err(bad_url)?)
        .set_token_uri(TokenUrl::new(identity_url(config, "token")).map_err(bad_url)?)
        .set_redirect_uri(redirect);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(
            super::session::scopes_for(config)
                .iter()
                .map(|s| Scope::new((*s).to_owned())),
        )
        .set_pkce_challenge(challenge)
        .url();
    Ok(BrowserSignIn {
        url: url.to_string(),
        listener,
        client,
        verifier,
        state,
    })
}

/// What came back to the listener.
enum Answer {
    Code(String),
    Refused(String),
}

impl BrowserSignIn {
    /// The URL the user opens to sign in.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Waits for the browser's answer (at most `timeout`), then redeems the code with the PKCE
    /// verifier and asks Graph who signed in.
    pub async fn finish(
        self,
        http: &reqwest::Client,
        config: &Config,
        timeout: Duration,
    ) -> Result<TokenSet, AuthError> {
        let answer = tokio::time::timeout(timeout, self.wait_for_answer())
            .await
            .map_err(|_| {
                AuthError::Service(format!(
                    "no answer from the browser within {} minutes; run `deltacal login --browser` again",
                    timeout.as_secs() / 60
                ))
            })??;
        let code = match answer {
            Answer::Code(code) => code,
            Answer::Refused(why) => return Err(AuthError::Service(why)),
        };
        let response = self
            .client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(self.verifier)
            .request_async(&OAuthHttp(http))
            .await
            .map_err(|e| request_failure(&e))?;
        let mut tokens = token_set(&response, None, None);
        tokens.account =
            super::device::who_am_i(http, config.graph.base_url.as_str(), &tokens.access_token)
                .await;
        Ok(tokens)
    }

    /// Serves the loopback listener until one redirect carries this sign-in's `state`; any
    /// other request is answered and ignored.
    async fn wait_for_answer(&self) -> Result<Answer, AuthError> {
        loop {
            let Ok((stream, _)) = self.listener.accept().await else {
                continue;
            };
            if let Some(answer) = self.answer(stream).await {
                return Ok(answer);
            }
        }
    }

    /// Reads one request; the answer it carries, if it carries this sign-in's.
    async fn answer(&self, mut stream: TcpStream) -> Option<Answer> {
        let head = tokio::time::timeout(Duration::from_secs(10), read_head(&mut stream))
            .await
            .ok()??;
        let target = head.lines().next()?.split_whitespace().nth(1)?.to_owned();
        let url = reqwest::Url::parse(&format!("http://localhost{target}")).ok()?;
        let query: std::collections::HashMap<String, String> =
            url.query_pairs().into_owned().collect();
        if url.path() != "/" || query.is_empty() {
            respond(&mut stream, "404 Not Found", "Nothing here.").await;
            return None;
        }
        if query.get("state").map(String::as_str) != Some(self.state.secret().as_str()) {
            respond(
                &mut stream,
                "400 Bad Request",
                "This answer does not belong to the sign-in deltacal started, so it was ignored.",
            )
            .await;
            return None;
        }
        if let Some(code) = query.get("code") {
            respond(
                &mut stream,
                "200 OK",
                "Signed in to deltacal. You can close this tab.",
            )
            .await;
            return Some(Answer::Code(code.clone()));
        }
        let error = query.get("error").map(String::as_str).unwrap_or("no code");
        let why = match error {
            "access_denied" => "sign-in was declined in the browser".to_owned(),
            other => format!(
                "sign-in failed: {}",
                crate::text::bounded(
                    query.get("error_description").map_or(other, String::as_str),
                    200
                )
            ),
        };
        respond(
            &mut stream,
            "200 OK",
            "deltacal was not signed in. You can close this tab.",
        )
        .await;
        Some(Answer::Refused(why))
    }
}

/// A request's head, up to its blank line.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 || head.len() + n > MAX_REQUEST_BYTES {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(head).ok()
}

async fn respond(stream: &mut TcpStream, status: &str, message: &str) {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>deltacal</title></head><body><p>{message}</p></body></html>"
    );
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Opens a URL in the user's browser: `$BROWSER` if set, else the platform's opener. False when
/// nothing could be started (the URL is printed anyway).
pub fn open_in_browser(url: &str) -> bool {
    // Only web links are ever handed to a program.
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return false;
    }
    let browser = std::env::var("BROWSER")
        .ok()
        .and_then(|b| b.split(':').next().map(str::to_owned))
        .filter(|b| !b.trim().is_empty());
    let (program, args): (String, Vec<&str>) = match &browser {
        Some(b) => (b.clone(), vec![url]),
        None if cfg!(target_os = "macos") => ("open".into(), vec![url]),
        None if cfg!(windows) => ("cmd".into(), vec!["/c", "start", "", url]),
        None => ("xdg-open".into(), vec![url]),
    };
    std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .is_ok()
}
