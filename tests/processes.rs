//! Several deltacal processes on one data dir, as people run them: the TUI, `remind` as a
//! service, `sync` from cron and `next` from a status bar, sharing one cache and one token
//! file. None may damage what another wrote, refuse another, or spend another's refresh token.

#![allow(clippy::unwrap_used)]
#![cfg(feature = "emulator")]

mod common;

use std::process::{Child, Command, Output, Stdio};

use chrono::Utc;
use common::{Env, EnvOptions, bin};
use deltacal::auth::session::{AuthError, Session};
use deltacal::auth::tokens::{self, TokenSet};
use reqwest::Method;
use serde_json::json;

fn spawn(env: &Env, args: &[&str]) -> Child {
    Command::new(bin())
        .args(args)
        .env("DELTACAL_CONFIG", env.config_path())
        .env("DELTACAL_DATA_DIR", env.data_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Access tokens that live a minute, so that every process refreshes as it starts; the
/// emulator's rotation is strict (a spent refresh token is refused at once).
async fn short_lived_tokens(env: &Env) {
    let (status, body) = env
        .control(
            Method::POST,
            "/sim/settings",
            Some(json!({"access_token_ttl_secs": 60, "strict_rotation": true})),
        )
        .await;
    assert!(status.is_success(), "{body}");
}

/// Tokens as the emulator issues them, already expired here, so the next use refreshes.
fn expired_tokens(env: &Env) -> TokenSet {
    env.sign_in();
    let mut set = tokens::load(&env.config.token_path()).unwrap().unwrap();
    set.expires_at = Utc::now() - chrono::Duration::seconds(1);
    tokens::save(&env.config.token_path(), &set).unwrap();
    set
}

/// Six `deltacal sync` at once, each refreshing an expired token, batch after batch: every one
/// succeeds (the refresh token is spent once, under the token file's lock, and the others take
/// up what it got), and the token file is whole after each batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refreshes_leave_one_good_token_file() {
    let env = Env::start(EnvOptions::default()).await;
    short_lived_tokens(&env).await;
    for batch in 0..4 {
        expired_tokens(&env);
        let children: Vec<Child> = (0..6).map(|_| spawn(&env, &["sync"])).collect();
        for child in children {
            let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
                .await
                .unwrap();
            assert!(out.status.success(), "batch {batch}: {}", text(&out));
        }
        let after = tokens::load(&env.config.token_path());
        assert!(
            matches!(after, Ok(Some(_))),
            "batch {batch}: token file {after:?}"
        );
        // No temp file is left behind.
        let leftovers: Vec<_> = std::fs::read_dir(env.data_dir())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "batch {batch}: {leftovers:?}");
    }
    env.assert_converged("default").await;
}

/// Two processes' sessions on one token file (each its own `Session`, as each process has):
/// after one refreshes, the other takes up the new tokens from the file instead of spending
/// the refresh token the first already spent (strict rotation would refuse it).
#[tokio::test]
async fn a_session_takes_up_tokens_another_process_refreshed() {
    let env = Env::start(EnvOptions::default()).await;
    expired_tokens(&env);
    let first = Session::load(&env.config, reqwest::Client::new()).unwrap();
    let second = Session::load(&env.config, reqwest::Client::new()).unwrap();
    let got = first.access_token().await.expect("first refreshes");
    let taken = second
        .access_token()
        .await
        .expect("second takes up the refreshed tokens");
    assert_eq!(got, taken);
    // A 401 on the first's token in the second: it refreshes once more, and the first then
    // takes that up too.
    let again = second.refresh_after_rejection(&taken).await.unwrap();
    assert_ne!(again, taken);
    assert_eq!(first.refresh_after_rejection(&got).await.unwrap(), again);
    assert_eq!(
        tokens::load(&env.config.token_path())
            .unwrap()
            .unwrap()
            .access_token,
        again
    );
}

/// After `deltacal logout` a running process stops with "signed out" and never writes the
/// token file back; after a new `deltacal login` it signs in with the new tokens, also when
/// its own refresh token was refused.
#[tokio::test]
async fn running_processes_follow_logout_and_login() {
    let env = Env::start(EnvOptions::default()).await;
    expired_tokens(&env);
    let running = Session::load(&env.config, reqwest::Client::new()).unwrap();
    running.access_token().await.unwrap();
    let logout = spawn(&env, &["logout"]).wait_with_output().unwrap();
    assert!(logout.status.success(), "{}", text(&logout));
    assert_eq!(running.access_token().await, Err(AuthError::SignedOut));
    assert!(
        !env.config.token_path().exists(),
        "a logout is not undone by a running process"
    );
    // Signed in again elsewhere: taken up at once.
    env.sign_in();
    let fresh = tokens::load(&env.config.token_path()).unwrap().unwrap();
    assert_eq!(running.access_token().await.unwrap(), fresh.access_token);

    // A refresh token the server refuses: the sign-in must be renewed; once another process
    // has (a new login), the refused session works again.
    expired_tokens(&env);
    let mut stale = tokens::load(&env.config.token_path()).unwrap().unwrap();
    stale.refresh_token = Some("refused".into());
    tokens::save(&env.config.token_path(), &stale).unwrap();
    let refused = Session::load(&env.config, reqwest::Client::new()).unwrap();
    assert!(matches!(
        refused.access_token().await,
        Err(AuthError::SignInAgain(_))
    ));
    env.sign_in();
    let renewed = tokens::load(&env.config.token_path()).unwrap().unwrap();
    assert_eq!(refused.access_token().await.unwrap(), renewed.access_token);
}

fn graph_requests(env: &Env) -> u64 {
    env.sim.handle().graph_requests()
}

async fn sync_at_once(env: &Env, processes: usize) -> Vec<String> {
    let children: Vec<Child> = (0..processes).map(|_| spawn(env, &["sync"])).collect();
    let mut outputs = Vec::new();
    for child in children {
        let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
            .await
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        outputs.push(text(&out));
    }
    outputs
}

/// After a 410, three `deltacal sync` at once run one full round between them, not three:
/// a process that finds a round of the view running waits for it and says the view was
/// brought up to date by another; their requests stay within 1.2 times one process's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_round_per_view_at_a_time_across_processes() {
    let env = Env::start(EnvOptions {
        events: 400,
        ..Default::default()
    })
    .await;
    env.sign_in();
    sync_at_once(&env, 1).await;
    env.control(Method::POST, "/sim/expire-sync-state", None)
        .await;
    let before = graph_requests(&env);
    sync_at_once(&env, 1).await;
    let alone = graph_requests(&env) - before;
    env.control(Method::POST, "/sim/expire-sync-state", None)
        .await;
    let before = graph_requests(&env);
    let outputs = sync_at_once(&env, 3).await;
    let together = graph_requests(&env) - before;
    assert!(
        together as f64 <= alone as f64 * 1.2,
        "three at once made {together} requests, one alone {alone}: {outputs:?}"
    );
    // Each says what it really did: one full round's counts, the others none of their own.
    let full: Vec<_> = outputs.iter().filter(|o| o.contains(" added")).collect();
    assert!(!full.is_empty(), "{outputs:?}");
    assert_eq!(env.sim.handle().overlapping_rounds(), 0);
    env.assert_converged("default").await;
}

/// A process that shows the cache (the TUI, `remind`) follows what another process commits:
/// an event a cron `deltacal sync` brings in reaches it as a change of the days it is on, and
/// that round as a round finished by another process, with its counts, without a key pressed
/// or a round of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_follows_what_another_process_commits() {
    let env = Env::start(EnvOptions::default()).await;
    env.sign_in();
    sync_at_once(&env, 1).await;
    let engine = std::sync::Arc::new(env.engine());
    let mut events = engine.subscribe();
    deltacal::sync::spawn_cache_watch(engine.clone(), std::time::Duration::from_millis(20));
    let at = Utc::now() + chrono::Duration::hours(2);
    let time = |t: chrono::DateTime<Utc>| json!({"dateTime": t.format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC"});
    let (status, body) = env
        .control(
            Method::POST,
            "/sim/events",
            Some(json!({"subject": "Brought by cron", "start": time(at),
                        "end": time(at + chrono::Duration::minutes(30))})),
        )
        .await;
    assert!(status.is_success(), "{body}");
    sync_at_once(&env, 1).await;
    let mut changed = None;
    let finished = loop {
        let event = tokio::time::timeout(std::time::Duration::from_secs(20), events.recv())
            .await
            .expect("the change is noticed")
            .unwrap();
        match event {
            deltacal::sync::SyncEvent::CacheChanged {
                range: Some(range), ..
            } => changed = Some(range),
            deltacal::sync::SyncEvent::RoundFinished(summary) => break summary,
            _ => {}
        }
    };
    let (from, to) = changed.expect("the days changed are named");
    assert!(from <= at && at <= to, "{from} .. {to} covers {at}");
    assert!(finished.by_another);
    assert_eq!(finished.counts.added, 1);
    let shown = engine
        .store()
        .events_overlapping(None, at, at + chrono::Duration::minutes(1))
        .unwrap();
    assert!(
        shown
            .iter()
            .any(|e| e.event.subject.as_deref() == Some("Brought by cron"))
    );
}

/// The user edits the config while `remind` or the TUI runs: an edit that changes what is
/// synced (here the window) makes the older process stop syncing and say why, instead of
/// re-anchoring the cache to its old window on every round against the newer processes; an
/// edit that syncs the same (a colour) goes on unnoticed.
#[tokio::test]
async fn an_older_process_stops_syncing_when_the_config_changes_what_is_synced() {
    let env = Env::start(EnvOptions::default()).await;
    env.sign_in();
    let engine = env.engine();
    let calendar = env.config.calendars[0].clone();
    engine.sync_view(&calendar).await.unwrap();
    let original = std::fs::read_to_string(env.config_path()).unwrap();
    // A colour: nothing synced changes.
    std::fs::write(
        env.config_path(),
        format!("{original}\n[[calendars]]\nid = \"default\"\ncolor = \"red\"\n"),
    )
    .unwrap();
    engine
        .sync_view(&calendar)
        .await
        .expect("a colour changes nothing synced");
    // The window: the older process stops, and says why.
    std::fs::write(
        env.config_path(),
        format!("{original}\n[sync]\npast_days = 7\n"),
    )
    .unwrap();
    let requests = graph_requests(&env);
    let error = engine.sync_view(&calendar).await.unwrap_err();
    assert!(
        matches!(error, deltacal::sync::SyncError::ConfigChanged(_)),
        "{error}"
    );
    assert!(error.to_string().contains("restart"), "{error}");
    assert_eq!(
        graph_requests(&env),
        requests,
        "no request with the old settings"
    );
}

/// Everything at once, as a user runs it: the TUI's engine (in this process: background
/// rounds and the cache watch), `deltacal remind` as a service, a cron `deltacal sync` between
/// bursts of churn (a 410 among them) and a status bar running `deltacal next --json` in a
/// loop, on one data dir, with access tokens that expire every minute and strict rotation.
/// No command is refused, the token file is whole, no two rounds of the view overlap (the
/// emulator counts them), and the cache ends equal to the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tui_remind_cron_and_a_status_bar_share_one_data_dir() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let env = Env::start(EnvOptions {
        events: 200,
        extra: "\n[sync]\ninterval_secs = 10\n\n[reminders]\ncommand = \"cat > /dev/null\"\n"
            .into(),
        ..Default::default()
    })
    .await;
    short_lived_tokens(&env).await;
    expired_tokens(&env);
    let tui = Arc::new(env.engine());
    let _tui_sync =
        deltacal::sync::spawn_background(tui.clone(), std::time::Duration::from_secs(10));
    deltacal::sync::spawn_cache_watch(tui.clone(), deltacal::sync::CACHE_WATCH);
    let remind = spawn(&env, &["remind"]);
    let stop = Arc::new(AtomicBool::new(false));
    let status_bar = {
        let stop = stop.clone();
        let (config, data) = (env.config_path(), env.data_dir());
        std::thread::spawn(move || {
            let mut runs = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let out = Command::new(bin())
                    .args(["next", "--json"])
                    .env("DELTACAL_CONFIG", &config)
                    .env("DELTACAL_DATA_DIR", &data)
                    .stdin(Stdio::null())
                    .output()
                    .unwrap();
                runs.push(out);
            }
            runs
        })
    };
    for burst in 0..6 {
        let (status, body) = env
            .control(
                Method::POST,
                &format!("/sim/churn?count=15&seed={burst}"),
                None,
            )
            .await;
        assert!(status.is_success(), "{body}");
        if burst == 3 {
            env.control(Method::POST, "/sim/expire-sync-state", None)
                .await;
        }
        sync_at_once(&env, 1).await;
    }
    stop.store(true, Ordering::Relaxed);
    let runs = tokio::task::spawn_blocking(move || status_bar.join().unwrap())
        .await
        .unwrap();
    assert!(!runs.is_empty());
    for out in &runs {
        assert!(out.status.success(), "next --json: {}", text(out));
    }
    // SAFETY: the pid is our own child's.
    assert_eq!(unsafe { libc::kill(remind.id() as i32, libc::SIGTERM) }, 0);
    let remind = tokio::task::spawn_blocking(move || remind.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(remind.status.success(), "remind: {}", text(&remind));
    assert!(
        !text(&remind).contains("in use") && !text(&remind).contains("damaged"),
        "remind: {}",
        text(&remind)
    );
    assert!(matches!(
        tokens::load(&env.config.token_path()),
        Ok(Some(_))
    ));
    sync_at_once(&env, 1).await;
    env.assert_converged("default").await;
    let overlapping = env.sim.handle().overlapping_rounds();
    assert_eq!(overlapping, 0, "rounds of the view overlapped");
}
