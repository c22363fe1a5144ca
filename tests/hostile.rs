//! Hostile servers and hostile machines. A small server in this file plays whatever a broken or
//! malicious Graph and identity platform could send; the real binary runs against it. Each case
//! asserts the outcome: the exit code, one line of message, no raw escape byte in any output or
//! log, bounded memory, and the cache right afterwards.

#![allow(clippy::unwrap_used)]
#![cfg(feature = "emulator")]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use common::{Env, EnvOptions, bin};
use deltacal::auth::tokens::{self, TokenSet};
use reqwest::Method;
use serde_json::{Value, json};

/// Text no terminal may receive raw: ESC, BEL, a C1 CSI, a bidi override, as a server sends
/// them inside strings.
const NASTY: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\u{202e}gnp.exe";

/// What the hostile server does, set per test.
#[derive(Clone, Copy, PartialEq)]
enum Play {
    /// Error bodies, OAuth errors and the /me name full of escapes.
    Escapes,
    /// A 200 page whose body never ends (no Content-Length).
    EndlessBody,
    /// Empty pages, each with a new nextLink, forever.
    EndlessLinks,
    /// The same nextLink again and again, empty pages.
    SameLink,
    /// One item of a page holds invalid UTF-8; the others are fine.
    BadUtf8,
    /// The nextLink carries user:password@.
    UserinfoLink,
    /// A plain page: the refresh test needs a server that answers.
    Plain,
}

struct Hostile {
    play: Play,
    origin: Mutex<String>,
    token_requests: AtomicUsize,
    delta_requests: AtomicUsize,
}

fn page(origin: &str, value: Value, next: Option<String>) -> Response {
    let mut body = json!({"value": value});
    match next {
        Some(n) => body["@odata.nextLink"] = json!(n),
        None => {
            body["@odata.deltaLink"] = json!(format!(
                "{origin}/v1.0/me/calendarView/delta?$deltatoken=done"
            ))
        }
    }
    axum::Json(body).into_response()
}

fn event(id: &str, subject: &str, day: u32) -> Value {
    json!({"id": id, "subject": subject,
           "start": {"dateTime": format!("2026-12-{day:02}T10:00:00.0000000"), "timeZone": "UTC"},
           "end": {"dateTime": format!("2026-12-{day:02}T11:00:00.0000000"), "timeZone": "UTC"}})
}

async fn delta(State(h): State<Arc<Hostile>>, uri: Uri) -> Response {
    let n = h.delta_requests.fetch_add(1, Ordering::SeqCst);
    let origin = h.origin.lock().unwrap().clone();
    match h.play {
        Play::Escapes => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": {"code": format!("Bad{NASTY}Code"), "message": format!("no {NASTY} way")}})),
        )
            .into_response(),
        Play::EndlessBody => {
            let chunk = Bytes::from(vec![b' '; 1 << 20]);
            let stream = futures_util::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
            (StatusCode::OK, [("content-type", "application/json")], Body::from_stream(stream)).into_response()
        }
        Play::EndlessLinks => page(&origin, json!([]), Some(format!("{origin}/v1.0/me/calendarView/delta?$skiptoken=t{n}"))),
        Play::SameLink => page(&origin, json!([]), Some(format!("{origin}/v1.0/me/calendarView/delta?$skiptoken=same"))),
        Play::UserinfoLink => {
            let host = origin.trim_start_matches("http://");
            page(&origin, json!([event("a", "First", 2)]), Some(format!("http://user:secret@{host}/v1.0/me/calendarView/delta?$skiptoken=x")))
        }
        Play::BadUtf8 => {
            if uri.query().is_some_and(|q| q.contains("deltatoken")) {
                return page(&origin, json!([]), None);
            }
            let text = json!({"value": [event("good-1", "Fine", 2), event("bad", "BADBYTES", 3), event("good-2", "Also fine", 4)],
                              "@odata.deltaLink": format!("{origin}/v1.0/me/calendarView/delta?$deltatoken=done")})
                .to_string();
            let mut bytes = text.into_bytes();
            let at = bytes.windows(8).position(|w| w == b"BADBYTES").unwrap();
            bytes.splice(at..at + 8, [b'x', 0xff, 0xfe, 0xc3, b'y']);
            (StatusCode::OK, [("content-type", "application/json")], bytes).into_response()
        }
        Play::Plain => page(&origin, json!([event("p", "Plain", 2)]), None),
    }
}

async fn token(State(h): State<Arc<Hostile>>) -> Response {
    h.token_requests.fetch_add(1, Ordering::SeqCst);
    match h.play {
        Play::Escapes => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": format!("invalid_grant{NASTY}"), "error_description": format!("AADSTS{NASTY}")})),
        )
            .into_response(),
        _ => axum::Json(json!({"access_token": "new-access", "token_type": "Bearer", "expires_in": 3600,
                               "refresh_token": "rotated-refresh", "scope": "Calendars.Read"}))
        .into_response(),
    }
}

async fn devicecode(State(h): State<Arc<Hostile>>) -> Response {
    let _ = &h;
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": format!("invalid_client{NASTY}"), "error_description": format!("nope {NASTY}")})),
    )
        .into_response()
}

async fn me(headers: HeaderMap) -> Response {
    let _ = headers;
    axum::Json(json!({"displayName": format!("Mallory {NASTY}{}", "x".repeat(5000)), "mail": "m@evil.example"})).into_response()
}

async fn start(play: Play) -> Arc<Hostile> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hostile = Arc::new(Hostile {
        play,
        origin: Mutex::new(format!("http://{}", listener.local_addr().unwrap())),
        token_requests: AtomicUsize::new(0),
        delta_requests: AtomicUsize::new(0),
    });
    let app = Router::new()
        .route("/v1.0/me/calendarView/delta", get(delta))
        .route("/v1.0/me", get(me))
        .route("/common/oauth2/v2.0/token", post(token))
        .route("/common/oauth2/v2.0/devicecode", post(devicecode))
        .with_state(hostile.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    hostile
}

/// A data dir with a config pointing at `origin` and tokens in it (expired ones: a refresh).
fn setup(dir: &Path, origin: &str, expired: bool) -> (PathBuf, PathBuf) {
    let data = dir.join("data");
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!("[account]\nauthority = \"{origin}\"\n[graph]\nbase_url = \"{origin}/v1.0\"\nmax_attempts = 2\nretry_base_ms = 1\n[sync]\nstart = \"2026-12-01T00:00:00Z\"\nend = \"2027-01-01T00:00:00Z\"\n[ui]\ntimezone = \"UTC\"\n"),
    )
    .unwrap();
    let set = TokenSet {
        access_token: "old-access".into(),
        refresh_token: Some("old-refresh".into()),
        expires_at: if expired {
            Utc::now() - chrono::Duration::hours(1)
        } else {
            Utc::now() + chrono::Duration::hours(1)
        },
        scope: None,
        account: None,
    };
    tokens::save(&data.join("tokens.json"), &set).unwrap();
    (config, data)
}

fn deltacal(config: &Path, data: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("DELTACAL_LOG", "debug")
        .env("DELTACAL_REPORT_PEAK_RSS", "1")
        .output()
        .unwrap()
}

/// No byte a terminal would act on: ESC, BEL, C1 (UTF-8 C2 80..9F), bidi overrides.
fn assert_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for c in text.chars() {
        let bad = c == '\u{1b}'
            || c == '\u{7}'
            || ('\u{80}'..='\u{9f}').contains(&c)
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c);
        assert!(!bad, "{what} holds {:?}: {text}", c);
    }
}

/// Standard error without the peak-memory line the bench hook adds.
fn stderr_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| !l.starts_with("peak_rss_kb="))
        .map(str::to_owned)
        .collect()
}

/// The one line a failed command says: it must have exited 1 and said nothing else.
fn the_one_error(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{:?}", stderr_lines(out));
    let err = stderr_lines(out);
    assert_eq!(err.len(), 1, "{err:?}");
    err.into_iter().next().unwrap_or_default()
}

fn peak_mb(out: &Output) -> f64 {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("peak_rss_kb="))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .expect("the child reports its peak memory")
}

fn log_of(data: &Path) -> Vec<u8> {
    std::fs::read(data.join("deltacal.log")).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escapes_in_every_server_string_never_reach_a_terminal_or_the_log() {
    let h = start(Play::Escapes).await;
    let origin = h.origin.lock().unwrap().clone();
    let dir = tempfile::tempdir().unwrap();

    // A Graph error code and message.
    let (config, data) = setup(dir.path(), &origin, false);
    let out = deltacal(&config, &data, &["sync"]);
    the_one_error(&out);
    assert_clean("sync stderr", &out.stderr);
    assert_clean("sync stdout", &out.stdout);

    // An OAuth error from the refresh.
    std::fs::create_dir_all(dir.path().join("refresh")).unwrap();
    let (config, data) = setup(&dir.path().join("refresh"), &origin, true);
    let out = deltacal(&config, &data, &["sync"]);
    the_one_error(&out);
    assert_clean("refresh stderr", &out.stderr);

    // An OAuth error from the device-code request.
    let out = deltacal(&config, &data, &["login"]);
    assert_eq!(out.status.code(), Some(1));
    assert_clean("login stderr", &out.stderr);
    assert_clean("login stdout", &out.stdout);
    assert_clean("the log", &log_of(&data));
    assert!(!log_of(&data).is_empty(), "the log was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_name_is_stored_sanitised_and_bounded() {
    // What sign-in stores as the account: the hostile server's /me, 5,000 characters of it.
    let h = start(Play::Plain).await;
    let origin = h.origin.lock().unwrap().clone();
    let http = reqwest::Client::new();
    let name = deltacal::auth::device::who_am_i(&http, &format!("{origin}/v1.0"), "t")
        .await
        .expect("a name");
    assert_clean("the account", name.as_bytes());
    assert!(name.starts_with("Mallory"), "{name}");
    assert!(name.chars().count() <= 200, "{}", name.chars().count());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_body_fails_that_request_with_memory_bounded() {
    let h = start(Play::EndlessBody).await;
    let origin = h.origin.lock().unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let (config, data) = setup(dir.path(), &origin, false);
    let out = deltacal(&config, &data, &["sync"]);
    let err = the_one_error(&out);
    assert!(err.contains("larger than"), "{}", err);
    let peak = peak_mb(&out);
    assert!(peak < 200.0, "peak memory {peak} MB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rounds_that_never_end_stop_with_one_line_and_start_afresh() {
    for play in [Play::EndlessLinks, Play::SameLink] {
        let h = start(play).await;
        let origin = h.origin.lock().unwrap().clone();
        let dir = tempfile::tempdir().unwrap();
        let (config, data) = setup(dir.path(), &origin, false);
        let out = deltacal(&config, &data, &["sync"]);
        let err = the_one_error(&out);
        assert!(
            err.contains("empty pages") && err.contains("starts afresh"),
            "{}",
            err
        );
        assert!(h.delta_requests.load(Ordering::SeqCst) < 100);
        let store = deltacal::store::Store::open(&data.join("cache.redb")).unwrap();
        assert_eq!(
            store.sync_state("default").unwrap().unwrap().cursor.link,
            None
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_bad_item_does_not_block_the_page() {
    let h = start(Play::BadUtf8).await;
    let origin = h.origin.lock().unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let (config, data) = setup(dir.path(), &origin, false);
    let out = deltacal(&config, &data, &["sync"]);
    assert!(out.status.success(), "{:?}", stderr_lines(&out));
    let out = deltacal(
        &config,
        &data,
        &[
            "agenda",
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-31",
            "--json",
        ],
    );
    let items: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let subjects: Vec<&str> = items
        .iter()
        .map(|e| e["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        subjects,
        ["Fine", "x\u{fffd}\u{fffd}\u{fffd}y", "Also fine"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_with_userinfo_is_refused() {
    let h = start(Play::UserinfoLink).await;
    let origin = h.origin.lock().unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let (config, data) = setup(dir.path(), &origin, false);
    let out = deltacal(&config, &data, &["sync"]);
    let err = the_one_error(&out);
    assert!(err.contains("refusing to follow a link"), "{}", err);
    assert!(!err.contains("secret"), "{}", err);
    assert_eq!(
        h.delta_requests.load(Ordering::SeqCst),
        1,
        "the link was not followed"
    );
    // And a base_url with userinfo is a config error.
    std::fs::write(
        &config,
        format!(
            "[graph]\nbase_url = \"http://me:pw@{}/v1.0\"\n",
            origin.trim_start_matches("http://")
        ),
    )
    .unwrap();
    let out = deltacal(&config, &data, &["sync"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("pw@"));
}

/// Mounts a small tmpfs at `dir` where this machine lets the test (root, as in CI); false where
/// it does not.
fn mount_small_tmpfs(dir: &Path) -> bool {
    std::fs::create_dir_all(dir).unwrap();
    Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs"])
        .arg(dir)
        .output()
        .is_ok_and(|o| o.status.success())
}

struct Unmount(PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_during_a_refresh_keeps_the_sign_in() {
    let h = start(Play::Plain).await;
    let origin = h.origin.lock().unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mounted = mount_small_tmpfs(&data);
    let _unmount = mounted.then(|| Unmount(data.clone()));
    // A cache from an earlier sync, then tokens that need a refresh.
    let (config, data) = setup(dir.path(), &origin, false);
    let out = deltacal(&config, &data, &["sync"]);
    assert!(out.status.success(), "{:?}", stderr_lines(&out));
    let mut expired = tokens::load(&data.join("tokens.json")).unwrap().unwrap();
    expired.expires_at = Utc::now() - chrono::Duration::hours(1);
    tokens::save(&data.join("tokens.json"), &expired).unwrap();
    let before = std::fs::read(data.join("tokens.json")).unwrap();
    let filler = data.join("filler");
    if mounted {
        // Fill the disk to the last byte.
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 4096];
        while std::io::Write::write_all(&mut f, &block).is_ok() {}
    } else {
        // Where no tmpfs can be mounted: the token file's temp path cannot be written.
        std::fs::create_dir(data.join("tokens.json.tmp")).unwrap();
    }
    let out = deltacal(&config, &data, &["sync"]);
    let err = the_one_error(&out);
    assert!(
        err.contains("token file") && err.contains("sign-in is kept"),
        "{}",
        err
    );
    assert_eq!(
        h.token_requests.load(Ordering::SeqCst),
        0,
        "the server was not asked"
    );
    assert_eq!(std::fs::read(data.join("tokens.json")).unwrap(), before);
    if mounted {
        assert!(!data.join("tokens.json.tmp").exists(), "no temp file left");
        std::fs::remove_file(&filler).unwrap();
    } else {
        std::fs::remove_dir(data.join("tokens.json.tmp")).unwrap();
    }
    // With room again, the refresh goes through and keeps the rotated token.
    let out = deltacal(&config, &data, &["sync"]);
    assert!(out.status.success(), "{:?}", stderr_lines(&out));
    let saved = tokens::load(&data.join("tokens.json")).unwrap().unwrap();
    assert_eq!(saved.refresh_token.as_deref(), Some("rotated-refresh"));
    assert!(!data.join("tokens.json.tmp").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loose_modes_are_repaired_with_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let h = start(Play::Plain).await;
    let origin = h.origin.lock().unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let (config, data) = setup(dir.path(), &origin, false);
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(
        data.join("tokens.json"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let out = deltacal(&config, &data, &["status"]);
    assert!(out.status.success());
    let err = stderr_lines(&out).join("\n");
    assert!(err.contains("open to others"), "{err}");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("tokens.json")), 0o600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_cache_is_moved_aside_and_rebuilt_by_sync() {
    let env = Env::start(EnvOptions {
        events: 30,
        ..Default::default()
    })
    .await;
    env.sign_in();
    let data = env.data_dir();
    std::fs::write(data.join("cache.redb"), vec![0x5au8; 16384]).unwrap();
    let out = Command::new(bin())
        .arg("--config")
        .arg(env.config_path())
        .arg("--data-dir")
        .arg(&data)
        .arg("sync")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("damaged") && err.contains("cache.redb.damaged-"),
        "{err}"
    );
    assert!(data.join("tokens.json").exists(), "the sign-in is kept");
    env.assert_converged("default").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulator_refuses_what_it_cannot_hold_and_keeps_answering() {
    let env = Env::start(EnvOptions {
        events: 10,
        ..Default::default()
    })
    .await;
    let (status, body) = env
        .control(Method::POST, "/sim/churn?count=18446744073709551615", None)
        .await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = env.control(Method::POST, "/sim/churn?count=5", None).await;
    assert_eq!(status, reqwest::StatusCode::OK, "it still answers");
    let (status, _) = env
        .control(
            Method::POST,
            "/sim/faults",
            Some(json!({"kind": "slow", "delay_ms": 9_999_999})),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST);
    let out = Command::new(bin())
        .args(["sim", "--addr", "127.0.0.1:0", "--calendars", "1000000000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--calendars"));
    // A client that never finishes its headers holds its own connection, not the emulator.
    let mut slow = std::net::TcpStream::connect(env.sim.addr).unwrap();
    std::io::Write::write_all(&mut slow, b"GET /v1.0/me HTTP/1.1\r\nHost: x\r\n").unwrap();
    let (status, _) = env.control(Method::POST, "/sim/churn?count=1", None).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    drop(slow);
}
