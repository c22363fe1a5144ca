//! The emulated Microsoft identity platform: the device-code and authorization-code (PKCE)
//! flows, access, refresh and id tokens, as real identity libraries expect them.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine;
use rand::RngExt;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeviceStatus {
    Pending,
    Approved,
    Declined,
    Redeemed,
}

/// Knobs the tests and the demo turn.
#[derive(Debug, Clone)]
pub struct IdentitySettings {
    /// Device codes are approved at once (no user to approve them).
    pub auto_approve: bool,
    /// The polling interval handed out with device codes.
    pub interval_secs: u64,
    /// How long a device code is good for.
    pub device_code_ttl_secs: u64,
    /// How long an access token is good for.
    pub access_token_ttl_secs: u64,
    /// A used refresh token dies at once (the real platform keeps it valid a while, which the
    /// grace below models); deltacal's own tests turn this on to exercise the strict case.
    pub strict_rotation: bool,
    /// How long a rotated refresh token stays valid when rotation is not strict.
    pub rotation_grace_secs: u64,
    /// Conditional Access blocks the device-code flow: an approved code is refused tokens.
    pub block_device_flow: bool,
}

impl Default for IdentitySettings {
    fn default() -> Self {
        IdentitySettings {
            auto_approve: false,
            interval_secs: 5,
            device_code_ttl_secs: 900,
            access_token_ttl_secs: 3600,
            strict_rotation: false,
            rotation_grace_secs: 300,
            block_device_flow: false,
        }
    }
}

/// An OAuth error answer: status 400 and the body the real platform sends (see `body`).
#[derive(Debug, PartialEq, Eq)]
pub struct OAuthError {
    /// The error code (`invalid_grant`, ...).
    pub code: &'static str,
    /// The `error_description`, with its AADSTS code.
    pub description: String,
}

impl OAuthError {
    /// `error`, `error_description`, numeric `error_codes` (from the AADSTS number),
    /// `timestamp` as the platform writes it, `trace_id`, `correlation_id`.
    pub fn body(&self, correlation_id: Option<&str>) -> Value {
        let codes: Vec<u64> = self
            .description
            .strip_prefix("AADSTS")
            .and_then(|rest| rest.split(':').next())
            .and_then(|n| n.parse().ok())
            .into_iter()
            .collect();
        json!({
            "error": self.code,
            "error_description": self.description,
            "error_codes": codes,
            "timestamp": chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string(),
            "trace_id": uuid_like(),
            "correlation_id": correlation_id.map(str::to_owned).unwrap_or_else(uuid_like),
        })
    }
}

fn oauth(code: &'static str, description: &str) -> OAuthError {
    OAuthError {
        code,
        description: description.to_owned(),
    }
}

/// A random id written like a GUID.
pub fn uuid_like() -> String {
    let b: [u8; 16] = rand::rng().random();
    format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[0],
        b[1],
        b[2],
        b[3],
        b[4],
        b[5],
        b[6],
        b[7],
        b[8],
        b[9],
        b[10],
        b[11],
        b[12],
        b[13],
        b[14],
        b[15]
    )
}

/// The emulated user and tenant.
pub const USER_OID: &str = "00000000-0000-0000-66f3-3332eca7ea81";
/// The tenant id the tokens name.
pub const TENANT_ID: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";
const USER_NAME: &str = "Samantha Booth";
/// The emulated user's address.
pub const USER_MAIL: &str = "samanthab@contoso.com";
/// The query parameter the authorize handler adds: the tenant in its path.
pub const TENANT_PARAM: &str = "sim_tenant";

/// The personal Microsoft account that signs in through the `consumers` tenant.
pub const PERSONAL_MAIL: &str = "sam.booth@outlook.com";
const PERSONAL_NAME: &str = "Sam Booth";
/// The tenant id of personal Microsoft accounts.
const CONSUMERS_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// Graph's resource prefix on scopes.
const GRAPH: &str = "https://graph.microsoft.com/";

/// What a sign-in grants, read from the scopes asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The client the grant is for.
    pub client_id: String,
    /// Graph permissions, short names (`Calendars.Read`).
    pub scopes: Vec<String>,
    /// Whether `openid` was asked for (an id token comes back).
    pub openid: bool,
    /// A refresh token comes only with `offline_access`.
    pub offline: bool,
    /// Signed in through the `consumers` tenant: the personal Microsoft account
    /// ([`PERSONAL_MAIL`]), with opaque access tokens.
    pub personal: bool,
}

impl Grant {
    /// Reads scopes as the platform accepts them: short (`Calendars.Read`), with the resource
    /// (`https://graph.microsoft.com/Calendars.Read`), or the resource's `/.default`; OIDC
    /// scopes beside them.
    pub fn parse(client_id: &str, scope: &str) -> Result<Grant, OAuthError> {
        if client_id.is_empty() {
            return Err(oauth(
                "invalid_request",
                "AADSTS900144: The request body must contain the following parameter: 'client_id'.",
            ));
        }
        let mut grant = Grant {
            client_id: client_id.to_owned(),
            scopes: Vec::new(),
            openid: false,
            offline: false,
            personal: false,
        };
        for word in scope.split_whitespace() {
            let lower = word.to_ascii_lowercase();
            match lower.as_str() {
                "openid" => grant.openid = true,
                "profile" | "email" => {}
                "offline_access" => grant.offline = true,
                _ => {
                    let short = if lower.starts_with(GRAPH) {
                        &word[GRAPH.len()..]
                    } else {
                        word
                    };
                    if short == ".default" || short == "/.default" {
                        grant
                            .scopes
                            .extend(["Calendars.Read".to_owned(), "User.Read".to_owned()]);
                    } else if !short.is_empty() {
                        grant.scopes.push(short.to_owned());
                    }
                }
            }
        }
        grant.scopes.dedup();
        if !grant.scopes.iter().any(|s| {
            s.eq_ignore_ascii_case("Calendars.Read")
                || s.eq_ignore_ascii_case("Calendars.ReadWrite")
        }) {
            return Err(oauth(
                "invalid_scope",
                "AADSTS70011: The provided value for the input parameter 'scope' is not valid. The scope must include Calendars.Read.",
            ));
        }
        Ok(grant)
    }

    /// Whether it may change the calendar.
    pub fn can_write(&self) -> bool {
        self.scopes
            .iter()
            .any(|s| s.eq_ignore_ascii_case("Calendars.ReadWrite"))
    }

    fn scope_text(&self) -> String {
        let mut words = self.scopes.clone();
        if self.openid {
            words.extend(["openid", "profile", "email"].map(str::to_owned));
        }
        words.join(" ")
    }
}

#[derive(Debug)]
struct Device {
    user_code: String,
    status: DeviceStatus,
    expires_at: Instant,
    interval: Duration,
    last_poll: Option<Instant>,
    polls: u32,
    grant: Grant,
}

#[derive(Debug)]
struct Refresh {
    grant: Grant,
    /// When it was used (and a new one issued), if it was.
    rotated_at: Option<Instant>,
}

#[derive(Debug)]
struct AuthCode {
    grant: Grant,
    redirect_uri: String,
    challenge: Option<String>,
    expires_at: Instant,
    redeemed: bool,
}

/// What the authorize endpoint answers.
#[derive(Debug, PartialEq, Eq)]
pub enum Authorize {
    /// Redirect the browser here.
    Redirect(String),
    /// Show the consent page, with these request parameters to post back.
    Consent(Vec<(String, String)>),
}

/// The key id_tokens are signed with (ES256), published at `jwks_uri`.
pub struct SigningKey {
    pair: ring::signature::EcdsaKeyPair,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(ES256)")
    }
}

impl SigningKey {
    fn generate() -> SigningKey {
        use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("a P-256 key generates");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("a generated key reads back");
        SigningKey { pair }
    }

    /// The public key as a JWK set.
    pub fn jwks(&self) -> Value {
        use ring::signature::KeyPair;
        let public = self.pair.public_key().as_ref();
        // Uncompressed point: 0x04, then x and y, 32 bytes each.
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        json!({"keys": [{"kty": "EC", "use": "sig", "kid": KEY_ID, "crv": "P-256", "alg": "ES256",
                         "x": b64(&public[1..33]), "y": b64(&public[33..65])}]})
    }

    fn sign_jwt(&self, claims: &Value) -> String {
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let header = json!({"typ": "JWT", "alg": "ES256", "kid": KEY_ID});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let rng = ring::rand::SystemRandom::new();
        let signature = self
            .pair
            .sign(&rng, input.as_bytes())
            .expect("signing with a good key works");
        format!("{input}.{}", b64(signature.as_ref()))
    }
}

const KEY_ID: &str = "sim-key-1";

/// The emulated identity platform: its settings, its signing key and the grants it gave.
#[derive(Debug)]
pub struct Identity {
    /// How it behaves.
    pub settings: IdentitySettings,
    devices: HashMap<String, Device>,
    /// Access tokens: when each expires, and what its sign-in granted.
    access: HashMap<String, (Instant, Grant)>,
    refresh: HashMap<String, Refresh>,
    codes: HashMap<String, AuthCode>,
    /// Answer slow_down to this many polls regardless of timing.
    pub forced_slow_downs: u32,
    /// The key id tokens are signed with.
    pub key: SigningKey,
}

fn random_token(bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rand::rng().random()).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// True for a redirect a public client may ask for: http on a loopback host, any port.
fn loopback_redirect(uri: &str) -> bool {
    url::Url::parse(uri).is_ok_and(|u| {
        u.scheme() == "http" && matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
    })
}

impl Identity {
    /// An identity platform that behaves as `settings` say.
    pub fn new(settings: IdentitySettings) -> Identity {
        Identity {
            settings,
            devices: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            codes: HashMap::new(),
            forced_slow_downs: 0,
            key: SigningKey::generate(),
        }
    }

    /// `POST devicecode`.
    pub fn start_device(
        &mut self,
        client_id: &str,
        scope: &str,
        origin: &str,
        tenant: &str,
    ) -> Result<Value, OAuthError> {
        let mut grant = Grant::parse(client_id, scope)?;
        grant.personal = tenant.eq_ignore_ascii_case("consumers");
        let device_code = random_token(48);
        let letters: String = (0..9)
            .map(|_| {
                let alphabet = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
                alphabet[rand::rng().random_range(0..alphabet.len())] as char
            })
            .collect();
        let ttl = self.settings.device_code_ttl_secs;
        let interval = self.settings.interval_secs;
        self.devices.insert(
            device_code.clone(),
            Device {
                user_code: letters.clone(),
                status: DeviceStatus::Pending,
                expires_at: Instant::now() + Duration::from_secs(ttl),
                interval: Duration::from_secs(interval),
                last_poll: None,
                polls: 0,
                grant,
            },
        );
        let uri = format!("{origin}/devicelogin");
        Ok(json!({
            "device_code": device_code,
            "user_code": letters,
            "verification_uri": uri,
            "expires_in": ttl,
            "interval": interval,
            "message": format!("To sign in, use a web browser to open the page {uri} and enter the code {letters} to authenticate."),
        }))
    }

    fn device_by_user_code(&mut self, user_code: &str) -> Option<&mut Device> {
        let wanted = user_code.trim().replace('-', "").to_ascii_uppercase();
        self.devices.values_mut().find(|d| d.user_code == wanted)
    }

    /// How often a device code was polled (for tests that act after the first poll).
    pub fn polls(&mut self, user_code: &str) -> Option<u32> {
        self.device_by_user_code(user_code).map(|d| d.polls)
    }

    /// The user approves (true) or declines (false) a code in the browser.
    pub fn decide(&mut self, user_code: &str, approve: bool) -> Result<(), String> {
        let device = self
            .device_by_user_code(user_code)
            .ok_or_else(|| format!("no device code with user code {user_code}"))?;
        if device.status != DeviceStatus::Pending {
            return Err(format!("user code {user_code} was already used"));
        }
        device.status = if approve {
            DeviceStatus::Approved
        } else {
            DeviceStatus::Declined
        };
        Ok(())
    }

    /// `POST token` with the device-code grant.
    pub fn poll_device(
        &mut self,
        device_code: &str,
        request: &TokenRequest,
    ) -> Result<Value, OAuthError> {
        let auto_approve = self.settings.auto_approve;
        let blocked = self.settings.block_device_flow;
        let forced_slow_down = self.forced_slow_downs > 0;
        let now = Instant::now();
        let device = self.devices.get_mut(device_code).ok_or_else(|| {
            oauth(
                "bad_verification_code",
                "AADSTS70019: The device code is not recognised.",
            )
        })?;
        if now >= device.expires_at {
            return Err(oauth(
                "expired_token",
                "AADSTS70020: The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
            ));
        }
        let too_soon = device.last_poll.is_some_and(|last| {
            now.duration_since(last) + Duration::from_millis(100) < device.interval
        });
        device.last_poll = Some(now);
        device.polls += 1;
        if too_soon || (forced_slow_down && device.status == DeviceStatus::Pending) {
            // RFC 8628: the client must add 5 s to its interval from now on.
            device.interval += Duration::from_secs(5);
            self.forced_slow_downs = self.forced_slow_downs.saturating_sub(1);
            return Err(oauth(
                "slow_down",
                "Polling too fast: add 5 seconds to the interval.",
            ));
        }
        if auto_approve && device.status == DeviceStatus::Pending {
            device.status = DeviceStatus::Approved;
        }
        match device.status {
            DeviceStatus::Pending => Err(oauth(
                "authorization_pending",
                "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
            )),
            DeviceStatus::Declined => Err(oauth(
                "authorization_declined",
                "AADSTS70000: The user declined the sign-in request.",
            )),
            DeviceStatus::Redeemed => Err(oauth(
                "bad_verification_code",
                "AADSTS70019: The device code was already redeemed.",
            )),
            // As the real platform answers when a policy blocks the device-code flow.
            DeviceStatus::Approved if blocked => Err(oauth(
                "invalid_grant",
                "AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
            )),
            DeviceStatus::Approved => {
                device.status = DeviceStatus::Redeemed;
                let grant = device.grant.clone();
                Ok(self.issue(&grant, request))
            }
        }
    }

    /// `GET authorize`: a code for the redirect (auto-approve), or the consent page.
    pub fn authorize(&mut self, params: &HashMap<String, String>) -> Result<Authorize, OAuthError> {
        let get = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
        if get("response_type") != "code" {
            return Err(oauth(
                "unsupported_response_type",
                "AADSTS70005: response_type must be 'code'.",
            ));
        }
        if !loopback_redirect(get("redirect_uri")) {
            return Err(oauth(
                "invalid_request",
                "AADSTS50011: The redirect URI must be http://localhost (any port) for this public client.",
            ));
        }
        if params.contains_key("code_challenge") && get("code_challenge_method") != "S256" {
            return Err(oauth(
                "invalid_request",
                "AADSTS501491: code_challenge_method must be S256.",
            ));
        }
        Grant::parse(get("client_id"), get("scope"))?;
        if self.settings.auto_approve {
            return self.consent(params, true).map(Authorize::Redirect);
        }
        let mut fields: Vec<(String, String)> =
            params.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        fields.sort();
        Ok(Authorize::Consent(fields))
    }

    /// The user's answer on the consent page: where the browser goes next.
    pub fn consent(
        &mut self,
        params: &HashMap<String, String>,
        approve: bool,
    ) -> Result<String, OAuthError> {
        let get = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
        let redirect = get("redirect_uri");
        if !loopback_redirect(redirect) {
            return Err(oauth(
                "invalid_request",
                "AADSTS50011: The redirect URI must be http://localhost (any port) for this public client.",
            ));
        }
        let mut url = url::Url::parse(redirect).expect("checked above");
        if approve {
            let mut grant = Grant::parse(get("client_id"), get("scope"))?;
            // The authorize handler passes the tenant of its path along with the query.
            grant.personal = get(TENANT_PARAM).eq_ignore_ascii_case("consumers");
            let code = format!("0.AQsim{}", random_token(48));
            self.codes.insert(
                code.clone(),
                AuthCode {
                    grant,
                    redirect_uri: redirect.to_owned(),
                    challenge: params.get("code_challenge").cloned(),
                    expires_at: Instant::now() + Duration::from_secs(600),
                    redeemed: false,
                },
            );
            url.query_pairs_mut().append_pair("code", &code);
        } else {
            url.query_pairs_mut()
                .append_pair("error", "access_denied")
                .append_pair(
                    "error_description",
                    "AADSTS65004: User declined to consent to access the app.",
                );
        }
        if let Some(state) = params.get("state") {
            url.query_pairs_mut().append_pair("state", state);
        }
        Ok(url.to_string())
    }

    /// `POST token` with the authorization-code grant, PKCE checked.
    pub fn redeem_code(&mut self, request: &TokenRequest) -> Result<Value, OAuthError> {
        let invalid = |d: &str| oauth("invalid_grant", d);
        let code = self
            .codes
            .get_mut(&request.code)
            .ok_or_else(|| invalid("AADSTS70000: The provided authorization code is not valid."))?;
        if code.redeemed {
            return Err(invalid(
                "AADSTS54005: OAuth2 Authorization code was already redeemed, please retry with a new valid code.",
            ));
        }
        if Instant::now() >= code.expires_at {
            return Err(invalid(
                "AADSTS70008: The provided authorization code has expired.",
            ));
        }
        if code.grant.client_id != request.client_id || code.redirect_uri != request.redirect_uri {
            return Err(invalid(
                "AADSTS50148: The client or redirect URI does not match the authorization request.",
            ));
        }
        if let Some(challenge) = &code.challenge {
            let digest =
                ring::digest::digest(&ring::digest::SHA256, request.code_verifier.as_bytes());
            let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref());
            if &computed != challenge {
                return Err(invalid(
                    "AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request.",
                ));
            }
        }
        code.redeemed = true;
        let grant = code.grant.clone();
        Ok(self.issue(&grant, request))
    }

    /// `POST token` with the refresh-token grant: rotates the refresh token. The used one stays
    /// valid for a grace period, as on the real platform, unless rotation is strict.
    pub fn refresh(&mut self, request: &TokenRequest) -> Result<Value, OAuthError> {
        let now = Instant::now();
        let strict = self.settings.strict_rotation;
        let grace = Duration::from_secs(self.settings.rotation_grace_secs);
        let expired = || {
            oauth(
                "invalid_grant",
                "AADSTS700082: The refresh token has expired or is invalid. Sign in again.",
            )
        };
        let entry = self
            .refresh
            .get_mut(&request.refresh_token)
            .ok_or_else(expired)?;
        if entry
            .rotated_at
            .is_some_and(|at| strict || now.duration_since(at) > grace)
        {
            self.refresh.remove(&request.refresh_token);
            return Err(expired());
        }
        entry.rotated_at.get_or_insert(now);
        let grant = entry.grant.clone();
        if strict {
            self.refresh.remove(&request.refresh_token);
        }
        Ok(self.issue(&grant, request))
    }

    fn issue(&mut self, grant: &Grant, request: &TokenRequest) -> Value {
        // Work and school accounts get JWTs; personal accounts opaque tokens.
        let access = if grant.personal {
            format!("EwBwA8l6BAAU{}", random_token(48))
        } else {
            format!("eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.{}", random_token(32))
        };
        let ttl = self.settings.access_token_ttl_secs;
        self.access.insert(
            access.clone(),
            (Instant::now() + Duration::from_secs(ttl), grant.clone()),
        );
        let mut answer = json!({
            "token_type": "Bearer",
            "scope": grant.scope_text(),
            "expires_in": ttl,
            "ext_expires_in": ttl,
            "access_token": access,
        });
        if grant.offline {
            let refresh = format!("0.AAAAsim{}", random_token(48));
            self.refresh.insert(
                refresh.clone(),
                Refresh {
                    grant: grant.clone(),
                    rotated_at: None,
                },
            );
            answer["refresh_token"] = json!(refresh);
        }
        if grant.openid {
            let now = chrono::Utc::now().timestamp();
            let claims = json!({
                "aud": grant.client_id,
                "iss": format!("{}/{TENANT_ID}/v2.0", request.origin),
                "iat": now, "nbf": now, "exp": now + 3600,
                "name": if grant.personal { PERSONAL_NAME } else { USER_NAME },
                "preferred_username": if grant.personal { PERSONAL_MAIL } else { USER_MAIL },
                "oid": USER_OID, "sub": "sim-subject-9f3c",
                "tid": if grant.personal { CONSUMERS_TENANT } else { TENANT_ID },
                "ver": "2.0",
            });
            answer["id_token"] = json!(self.key.sign_jwt(&claims));
        }
        if request.client_info {
            let info = json!({"uid": USER_OID, "utid": TENANT_ID}).to_string();
            answer["client_info"] =
                json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(info));
        }
        answer
    }

    /// Whether a bearer token may call Graph now.
    pub fn access_ok(&self, token: &str) -> bool {
        self.access
            .get(token)
            .is_some_and(|(exp, _)| Instant::now() < *exp)
    }

    /// Whether a bearer token may change the calendar (its sign-in asked for
    /// `Calendars.ReadWrite`).
    pub fn write_ok(&self, token: &str) -> bool {
        self.access.get(token).is_some_and(|(exp, grant)| {
            grant.can_write() && !grant.personal && Instant::now() < *exp
        })
    }

    /// Who a valid bearer token signs in: the work user or the personal account.
    pub fn user_of(&self, token: &str) -> Option<&'static str> {
        self.access
            .get(token)
            .filter(|(exp, _)| Instant::now() < *exp)
            .map(|(_, grant)| {
                if grant.personal {
                    PERSONAL_MAIL
                } else {
                    USER_MAIL
                }
            })
    }

    /// The scopes a valid bearer token was granted (None: not a valid token).
    pub fn scopes_of(&self, token: &str) -> Option<&[String]> {
        self.access
            .get(token)
            .filter(|(exp, _)| Instant::now() < *exp)
            .map(|(_, grant)| grant.scopes.as_slice())
    }

    /// Every access token now answers 401; refresh tokens stay valid.
    pub fn revoke_access_tokens(&mut self) {
        self.access.clear();
    }

    /// Issues tokens directly, for tests and the demo that skip the browser step.
    pub fn issue_for_tests(&mut self) -> Value {
        self.issue_scopes_for_tests("offline_access Calendars.Read User.Read")
    }

    /// Issues tokens of the personal account (`consumers`) directly.
    pub fn issue_personal_for_tests(&mut self, scope: &str) -> Value {
        let mut grant = Grant::parse("tests", scope).expect("the scopes are fine");
        grant.personal = true;
        self.issue(&grant, &TokenRequest::default())
    }

    /// Issues tokens of `scope` directly (`Calendars.ReadWrite` for a sign-in that writes).
    pub fn issue_scopes_for_tests(&mut self, scope: &str) -> Value {
        let grant = Grant::parse("tests", scope).expect("the scopes are fine");
        self.issue(&grant, &TokenRequest::default())
    }
}

/// The fields of a token request the grants read.
#[derive(Debug, Default)]
pub struct TokenRequest {
    /// The client asking.
    pub client_id: String,
    /// The authorization code.
    pub code: String,
    /// Where the code was sent.
    pub redirect_uri: String,
    /// The PKCE verifier.
    pub code_verifier: String,
    /// The refresh token.
    pub refresh_token: String,
    /// `client_info=1`: answer with `client_info` (what MSAL asks for).
    pub client_info: bool,
    /// Where the request came in (the issuer of id_tokens).
    pub origin: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_flow_states() {
        let mut id = Identity::new(IdentitySettings {
            interval_secs: 0,
            ..IdentitySettings::default()
        });
        let start = id
            .start_device("c", "offline_access Calendars.Read", "http://x", "common")
            .unwrap();
        let code = start["device_code"].as_str().unwrap().to_owned();
        let user = start["user_code"].as_str().unwrap().to_owned();
        assert_eq!(
            id.poll_device(&code, &TokenRequest::default())
                .unwrap_err()
                .code,
            "authorization_pending"
        );
        id.decide(&user, true).unwrap();
        let req = TokenRequest::default();
        let tokens = id.poll_device(&code, &req).unwrap();
        assert!(id.access_ok(tokens["access_token"].as_str().unwrap()));
        assert_eq!(
            id.poll_device(&code, &req).unwrap_err().code,
            "bad_verification_code"
        );
        let refresh = TokenRequest {
            refresh_token: tokens["refresh_token"].as_str().unwrap().to_owned(),
            ..TokenRequest::default()
        };
        let rotated = id.refresh(&refresh).unwrap();
        assert_ne!(rotated["refresh_token"], tokens["refresh_token"]);
        // Not strict: the used token lives on a while, as on the real platform.
        assert!(id.refresh(&refresh).is_ok());
        id.settings.strict_rotation = true;
        assert_eq!(id.refresh(&refresh).unwrap_err().code, "invalid_grant");
        id.revoke_access_tokens();
        assert!(!id.access_ok(rotated["access_token"].as_str().unwrap()));
    }

    fn authorize_params(challenge: &str) -> HashMap<String, String> {
        [
            ("client_id", "app"),
            ("response_type", "code"),
            ("redirect_uri", "http://localhost:4242/"),
            (
                "scope",
                "https://graph.microsoft.com/Calendars.Read openid offline_access",
            ),
            ("state", "s1"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn code_of(redirect: &str) -> String {
        url::Url::parse(redirect)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "code")
            .unwrap()
            .1
            .into_owned()
    }

    #[test]
    fn authorization_code_with_pkce_and_id_tokens() {
        let mut id = Identity::new(IdentitySettings::default());
        let verifier = "a-verifier-of-enough-length-0123456789-abcdefghij";
        let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref());
        let params = authorize_params(&challenge);
        // No auto-approve: the consent page; declining goes back with access_denied.
        assert!(matches!(
            id.authorize(&params).unwrap(),
            Authorize::Consent(_)
        ));
        let declined = id.consent(&params, false).unwrap();
        assert!(declined.contains("error=access_denied") && declined.contains("state=s1"));
        let approved = id.consent(&params, true).unwrap();
        let mut request = TokenRequest {
            client_id: "app".into(),
            code: code_of(&approved),
            redirect_uri: "http://localhost:4242/".into(),
            code_verifier: "the-wrong-verifier".into(),
            client_info: true,
            origin: "https://127.0.0.1:1".into(),
            ..TokenRequest::default()
        };
        assert!(
            id.redeem_code(&request)
                .unwrap_err()
                .description
                .starts_with("AADSTS501481")
        );
        request.code_verifier = verifier.into();
        let tokens = id.redeem_code(&request).unwrap();
        assert!(tokens["refresh_token"].is_string(), "offline_access asked");
        assert!(
            id.redeem_code(&request)
                .unwrap_err()
                .description
                .starts_with("AADSTS54005")
        );
        // The id_token is a JWT signed with the key published at jwks_uri.
        let jwt = tokens["id_token"].as_str().unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        let claims: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(parts[1])
                .unwrap(),
        )
        .unwrap();
        assert_eq!(claims["aud"], "app");
        assert_eq!(claims["preferred_username"], USER_MAIL);
        let jwk = &id.key.jwks()["keys"][0];
        let coord = |k: &str| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(jwk[k].as_str().unwrap())
                .unwrap()
        };
        let mut public = vec![4u8];
        public.extend(coord("x"));
        public.extend(coord("y"));
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[2])
            .unwrap();
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, public)
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .expect("the id_token verifies with the published key");
        let info: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(tokens["client_info"].as_str().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(info["uid"], USER_OID);
    }

    #[test]
    fn scopes_as_the_platform_takes_them() {
        let grant = |s: &str| Grant::parse("app", s);
        assert!(grant("Calendars.Read").is_ok());
        assert!(grant("https://graph.microsoft.com/Calendars.Read").is_ok());
        let default = grant("https://graph.microsoft.com/.default openid").unwrap();
        assert_eq!(default.scopes, ["Calendars.Read", "User.Read"]);
        assert!(!default.offline, "no refresh token without offline_access");
        assert_eq!(grant("User.Read").unwrap_err().code, "invalid_scope");
        // Error bodies carry what the real platform's do.
        let body = grant("User.Read").unwrap_err().body(Some("c-1"));
        assert_eq!(body["error_codes"], json!([70011]));
        assert_eq!(body["correlation_id"], "c-1");
        assert!(body["trace_id"].is_string());
        let stamp = body["timestamp"].as_str().unwrap();
        assert!(
            chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%SZ").is_ok(),
            "{stamp}"
        );
    }

    #[test]
    fn polling_too_fast_gets_slow_down() {
        let mut id = Identity::new(IdentitySettings {
            interval_secs: 5,
            ..IdentitySettings::default()
        });
        let start = id
            .start_device("c", "Calendars.Read", "http://x", "common")
            .unwrap();
        let code = start["device_code"].as_str().unwrap();
        let req = TokenRequest::default();
        assert_eq!(
            id.poll_device(code, &req).unwrap_err().code,
            "authorization_pending"
        );
        assert_eq!(id.poll_device(code, &req).unwrap_err().code, "slow_down");
    }
}
