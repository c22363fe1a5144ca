//! Test harness: an emulator on loopback, a temp data dir and a config pointing at it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use deltacal::auth::tokens::{self, TokenSet};
use deltacal::config::Config;
use deltacal::model::Window;
use deltacal::sim::{SimOptions, SimServer};
use deltacal::store::Store;
use deltacal::sync::SyncEngine;
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub struct Env {
    pub sim: SimServer,
    pub dir: tempfile::TempDir,
    pub config: Arc<Config>,
    pub http: reqwest::Client,
}

pub struct EnvOptions {
    pub events: usize,
    pub seed: u64,
    pub calendars: usize,
    pub page_size: u32,
    /// Extra TOML appended to the generated config.
    pub extra: String,
}

impl Default for EnvOptions {
    fn default() -> Self {
        EnvOptions {
            events: 50,
            seed: 1,
            calendars: 1,
            page_size: 10,
            extra: String::new(),
        }
    }
}

impl Env {
    pub async fn start(options: EnvOptions) -> Env {
        let mut sim_options = SimOptions {
            events: options.events,
            seed: options.seed,
            calendars: options.calendars,
            ..SimOptions::default()
        };
        sim_options.identity.interval_secs = 1;
        // The real platform keeps a used refresh token valid a while; deltacal must not count
        // on it.
        sim_options.identity.strict_rotation = true;
        let sim = SimServer::start("127.0.0.1:0", sim_options)
            .await
            .expect("emulator starts");
        let dir = tempfile::tempdir().expect("temp dir");
        let url = sim.url();
        let mut toml = format!(
            "[account]\nauthority = \"{url}\"\nclient_id = \"test-client\"\n\n[graph]\nbase_url = \"{url}/v1.0\"\npage_size = {}\nmax_attempts = 8\nretry_base_ms = 1\n\n[ui]\ntimezone = \"UTC\"\n",
            options.page_size
        );
        if options.calendars > 1 {
            for i in 0..options.calendars {
                // The default calendar by the name users give it in the config.
                let id = match i {
                    0 => "default".to_owned(),
                    _ => sim.handle().calendar_id(i).expect("the emulator has it"),
                };
                let name = if i == 0 {
                    "Calendar".to_owned()
                } else {
                    format!("Cal {i}")
                };
                toml.push_str(&format!(
                    "\n[[calendars]]\nid = \"{id}\"\nname = \"{name}\"\ncolor = \"cyan\"\n"
                ));
            }
        }
        // `{SIM}` in the extra text is the emulator's address.
        toml.push_str(&options.extra.replace("{SIM}", &url));
        let config_path = dir.path().join("config.toml");
        std::fs::write(&config_path, &toml).expect("config written");
        let config = Config::load(Some(&config_path), Some(&dir.path().join("data")))
            .expect("config parses");
        Env {
            sim,
            dir,
            config: Arc::new(config),
            http: reqwest::Client::new(),
        }
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Signs in without the browser step: tokens straight from the emulator.
    pub fn sign_in(&self) {
        self.save_tokens(self.sim.handle().issue_tokens());
    }

    /// Signs in with the scopes `scope` names (`Calendars.Read.Shared`, `Group.Read.All`).
    #[allow(dead_code)]
    pub fn sign_in_scoped(&self, scope: &str) {
        self.save_tokens(self.sim.handle().issue_scoped_tokens(scope));
    }

    /// Signs `[accounts.NAME]` in with the personal account's tokens.
    #[allow(dead_code)]
    pub fn sign_in_personal(&self, name: &str) {
        let t = self
            .sim
            .handle()
            .issue_personal_tokens("offline_access Calendars.Read User.Read");
        let set = TokenSet {
            access_token: t["access_token"].as_str().unwrap().into(),
            refresh_token: t["refresh_token"].as_str().map(str::to_owned),
            expires_at: Utc::now() + chrono::Duration::seconds(t["expires_in"].as_i64().unwrap()),
            scope: t["scope"].as_str().map(str::to_owned),
            account: Some("Sam Booth <sam.booth@outlook.com>".into()),
        };
        let own = self.config.for_account(Some(name)).unwrap();
        tokens::save(&own.token_path(), &set).unwrap();
    }

    /// Signs in as a sign-in that may write (`Calendars.ReadWrite`).
    #[allow(dead_code)]
    pub fn sign_in_writer(&self) {
        self.save_tokens(self.sim.handle().issue_write_tokens());
    }

    fn save_tokens(&self, t: serde_json::Value) {
        let set = TokenSet {
            access_token: t["access_token"].as_str().unwrap().into(),
            refresh_token: t["refresh_token"].as_str().map(str::to_owned),
            expires_at: Utc::now() + chrono::Duration::seconds(t["expires_in"].as_i64().unwrap()),
            scope: t["scope"].as_str().map(str::to_owned),
            account: Some("Samantha Booth <samanthab@contoso.com>".into()),
        };
        tokens::save(&self.config.token_path(), &set).unwrap();
    }

    /// A sync engine with fast retries.
    pub fn engine(&self) -> SyncEngine {
        SyncEngine::from_config(self.config.clone()).expect("engine opens")
    }

    pub async fn control(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, String) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.sim.url()));
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.expect("control request");
        let status = resp.status();
        (status, resp.text().await.unwrap_or_default())
    }

    pub async fn fault(&self, fault: Value) {
        let (status, body) = self.control(Method::POST, "/sim/faults", Some(fault)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }

    pub fn window(&self) -> Window {
        self.config.sync.window.on(Utc::now().date_naive())
    }

    /// The server's truth for a calendar, as `/me/calendarView` lists it (occurrences with
    /// their series' properties, no masters): id -> what a user sees of it.
    pub async fn truth(&self, calendar: &str) -> BTreeMap<String, String> {
        self.truth_in(calendar, self.window()).await
    }

    /// Every event the server holds (as `/sim/events` lists them: occurrences, no masters),
    /// as Graph's JSON.
    pub async fn server_events(&self) -> Vec<Value> {
        let (status, body) = self
            .control(
                Method::GET,
                "/sim/events?start=1900-01-01T00:00:00Z&end=2200-01-01T00:00:00Z",
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// The server's events of a calendar overlapping `w`, as [`Env::cache`] shows them.
    pub async fn truth_in(
        &self,
        calendar: &str,
        w: deltacal::model::Window,
    ) -> BTreeMap<String, String> {
        self.truth_of(None, calendar, w).await
    }

    /// [`Env::truth_in`] of someone else's mailbox (an address or a group id).
    pub async fn truth_of(
        &self,
        mailbox: Option<&str>,
        calendar: &str,
        w: deltacal::model::Window,
    ) -> BTreeMap<String, String> {
        let url = format!(
            "/sim/events?{}calendar={}&start={}&end={}",
            mailbox.map_or(String::new(), |m| format!("mailbox={}&", urlencode(m))),
            urlencode(calendar),
            w.start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            w.end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        let (status, body) = self.control(Method::GET, &url, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let events: Vec<Value> = serde_json::from_str(&body).unwrap();
        events
            .iter()
            .map(|e| {
                let time = |k: &str| e[k]["dateTime"].as_str().unwrap()[..19].to_owned();
                let seen = seen(
                    e["subject"].as_str().unwrap_or(""),
                    &time("start"),
                    &time("end"),
                    e["isCancelled"] == true,
                    e["organizer"]["emailAddress"]["address"].as_str(),
                );
                (e["id"].as_str().unwrap().to_owned(), seen)
            })
            .collect()
    }

    /// The cache's view, as the calendar shows it: id -> what a user sees of it.
    pub fn cache(&self, view: &str) -> BTreeMap<String, String> {
        let store = Store::open(&self.config.cache_path()).unwrap();
        let events = store
            .events_overlapping(
                Some(&[view.into()]),
                DateTime::<Utc>::MIN_UTC,
                DateTime::<Utc>::MAX_UTC,
            )
            .unwrap();
        let count = events.len();
        let cache: BTreeMap<String, String> = events
            .into_iter()
            .map(|c| {
                let e = c.event;
                let (start, end) = e.span().unwrap();
                let time = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S").to_string();
                let seen = seen(
                    e.subject.as_deref().unwrap_or(""),
                    &time(start),
                    &time(end),
                    e.cancelled,
                    e.organizer.as_ref().and_then(|o| o.address.as_deref()),
                );
                (e.id.to_string(), seen)
            })
            .collect();
        assert_eq!(cache.len(), count, "an event is cached twice");
        cache
    }

    pub async fn assert_converged(&self, view: &str) {
        let truth = self.truth(view).await;
        let cache = self.cache(view);
        assert_eq!(cache.len(), truth.len(), "event counts differ");
        assert_eq!(cache, truth, "cache differs from the server's truth");
        // Every record decodes, and the time index matches the rows.
        Store::open(&self.config.cache_path())
            .unwrap()
            .verify()
            .unwrap();
    }
}

/// What a user sees of an event, in one comparable line.
fn seen(subject: &str, start: &str, end: &str, cancelled: bool, organizer: Option<&str>) -> String {
    format!(
        "{subject} | {start} - {end} | {} | {}",
        if cancelled { "cancelled" } else { "" },
        organizer.unwrap_or("")
    )
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The deltacal binary built for the tests.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_deltacal"))
}
