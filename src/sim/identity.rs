//! The emulated Microsoft identity platform: device codes, access and refresh tokens.

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

#[derive(Debug)]
struct Device {
    user_code: String,
    status: DeviceStatus,
    expires_at: Instant,
    interval: Duration,
    last_poll: Option<Instant>,
    polls: u32,
    scope: String,
}

/// Knobs the tests and the demo turn.
#[derive(Debug, Clone)]
pub struct IdentitySettings {
    pub auto_approve: bool,
    /// The polling interval handed out with device codes.
    pub interval_secs: u64,
    pub device_code_ttl_secs: u64,
    pub access_token_ttl_secs: u64,
}

impl Default for IdentitySettings {
    fn default() -> Self {
        IdentitySettings {
            auto_approve: false,
            interval_secs: 5,
            device_code_ttl_secs: 900,
            access_token_ttl_secs: 3600,
        }
    }
}

/// An OAuth error answer: status 400 and `{"error": code, "error_description": ...}`.
#[derive(Debug, PartialEq, Eq)]
pub struct OAuthError {
    pub code: &'static str,
    pub description: String,
}

fn oauth(code: &'static str, description: &str) -> OAuthError {
    OAuthError {
        code,
        description: description.to_owned(),
    }
}

#[derive(Debug, Default)]
pub struct Identity {
    pub settings: IdentitySettings,
    devices: HashMap<String, Device>,
    access: HashMap<String, Instant>,
    refresh: HashMap<String, String>,
    /// Answer slow_down to this many polls regardless of timing.
    pub forced_slow_downs: u32,
}

fn random_token(bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rand::rng().random()).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

impl Identity {
    pub fn new(settings: IdentitySettings) -> Identity {
        Identity {
            settings,
            ..Identity::default()
        }
    }

    /// `POST devicecode`.
    pub fn start_device(
        &mut self,
        client_id: &str,
        scope: &str,
        origin: &str,
    ) -> Result<Value, OAuthError> {
        if client_id.is_empty() {
            return Err(oauth(
                "invalid_request",
                "AADSTS900144: The request body must contain the following parameter: 'client_id'.",
            ));
        }
        if !scope
            .split_whitespace()
            .any(|s| s.eq_ignore_ascii_case("Calendars.Read"))
        {
            return Err(oauth(
                "invalid_scope",
                "AADSTS70011: The scope must include Calendars.Read.",
            ));
        }
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
                scope: scope.to_owned(),
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
    pub fn poll_device(&mut self, device_code: &str) -> Result<Value, OAuthError> {
        let auto_approve = self.settings.auto_approve;
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
            DeviceStatus::Approved => {
                device.status = DeviceStatus::Redeemed;
                let scope = device.scope.clone();
                Ok(self.issue(&scope))
            }
        }
    }

    /// `POST token` with the refresh-token grant: rotates the refresh token.
    pub fn refresh(&mut self, refresh_token: &str) -> Result<Value, OAuthError> {
        let scope = self.refresh.remove(refresh_token).ok_or_else(|| {
            oauth(
                "invalid_grant",
                "AADSTS700082: The refresh token has expired or is invalid. Sign in again.",
            )
        })?;
        Ok(self.issue(&scope))
    }

    fn issue(&mut self, scope: &str) -> Value {
        let access = format!("eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.{}", random_token(32));
        let refresh = format!("0.AAAAsim{}", random_token(48));
        let ttl = self.settings.access_token_ttl_secs;
        self.access
            .insert(access.clone(), Instant::now() + Duration::from_secs(ttl));
        self.refresh.insert(refresh.clone(), scope.to_owned());
        json!({
            "token_type": "Bearer",
            "scope": scope,
            "expires_in": ttl,
            "ext_expires_in": ttl,
            "access_token": access,
            "refresh_token": refresh,
        })
    }

    /// Whether a bearer token may call Graph now.
    pub fn access_ok(&self, token: &str) -> bool {
        self.access
            .get(token)
            .is_some_and(|exp| Instant::now() < *exp)
    }

    /// Every access token now answers 401; refresh tokens stay valid.
    pub fn revoke_access_tokens(&mut self) {
        self.access.clear();
    }

    /// Issues tokens directly, for tests and the demo that skip the browser step.
    pub fn issue_for_tests(&mut self) -> Value {
        self.issue("offline_access Calendars.Read User.Read")
    }
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
            .start_device("c", "offline_access Calendars.Read", "http://x")
            .unwrap();
        let code = start["device_code"].as_str().unwrap().to_owned();
        let user = start["user_code"].as_str().unwrap().to_owned();
        assert_eq!(
            id.poll_device(&code).unwrap_err().code,
            "authorization_pending"
        );
        id.decide(&user, true).unwrap();
        let tokens = id.poll_device(&code).unwrap();
        assert!(id.access_ok(tokens["access_token"].as_str().unwrap()));
        assert_eq!(
            id.poll_device(&code).unwrap_err().code,
            "bad_verification_code"
        );
        let refresh = tokens["refresh_token"].as_str().unwrap();
        let rotated = id.refresh(refresh).unwrap();
        assert_ne!(rotated["refresh_token"], tokens["refresh_token"]);
        assert_eq!(id.refresh(refresh).unwrap_err().code, "invalid_grant");
        id.revoke_access_tokens();
        assert!(!id.access_ok(rotated["access_token"].as_str().unwrap()));
    }

    #[test]
    fn polling_too_fast_gets_slow_down() {
        let mut id = Identity::new(IdentitySettings {
            interval_secs: 5,
            ..IdentitySettings::default()
        });
        let start = id.start_device("c", "Calendars.Read", "http://x").unwrap();
        let code = start["device_code"].as_str().unwrap();
        assert_eq!(
            id.poll_device(code).unwrap_err().code,
            "authorization_pending"
        );
        assert_eq!(id.poll_device(code).unwrap_err().code, "slow_down");
    }
}
