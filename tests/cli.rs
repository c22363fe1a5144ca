//! The real binary: help, agenda over empty and filled caches, config and cache errors,
//! `sync` output and failure, sign-in flows, secrets, and kill -9 in the middle of a sync.

#![allow(clippy::unwrap_used)]
#![cfg(feature = "emulator")]

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Env, EnvOptions, bin};
use deltacal::model::Change;
use deltacal::model::Window;
use deltacal::store::{Cursor, PageJob, SavedLink, Store};
use rand::{RngExt, SeedableRng, rngs::StdRng};
use reqwest::Method;
use serde_json::{Value, json};

fn run(args: &[&str], config: &std::path::Path, data: &std::path::Path) -> Output {
    Command::new(bin())
        .args(args)
        .env("DELTACAL_CONFIG", config)
        .env("DELTACAL_DATA_DIR", data)
        .env("DELTACAL_LOG", "trace")
        .stdin(Stdio::null())
        .output()
        .expect("binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn help_lists_every_command() {
    let out = Command::new(bin()).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = text(&out.stdout);
    const COMMANDS: [&str; 12] = [
        "demo",
        "login",
        "logout",
        "sync",
        "agenda",
        "status",
        "sim",
        "bench",
        "calendars",
        "next",
        "export",
        "remind",
    ];
    for cmd in COMMANDS.iter().chain(&["--config", "--data-dir"]) {
        assert!(help.contains(cmd), "--help lacks {cmd}:\n{help}");
    }
    for cmd in COMMANDS {
        assert!(
            Command::new(bin())
                .args([cmd, "--help"])
                .output()
                .unwrap()
                .status
                .success()
        );
    }
}

#[test]
fn agenda_on_an_empty_data_dir_prints_an_empty_array() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("none.toml");
    std::fs::write(&config, "").unwrap();
    let data = dir.path().join("data");
    let out = run(&["agenda", "--json"], &config, &data);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "[]\n");
    let out = run(&["status"], &config, &data);
    assert!(text(&out.stdout).contains("not signed in"));
}

const SAMPLE: &str = r##"[
 {"@odata.etag":"W/\"EZ9r3czxY0m2jz8c45czkwAAFXcvIQ==\"","subject":"Plan shopping list","body":{"contentType":"html","content":""},
  "start":{"dateTime":"2016-12-09T20:30:00.0000000","timeZone":"UTC"},"end":{"dateTime":"2016-12-09T22:00:00.0000000","timeZone":"UTC"},
  "attendees":[],"organizer":{"emailAddress":{"name":"Samantha Booth","address":"samanthab@contoso.com"}},"id":"AAMkADNVxRAAA="},
 {"subject":"Rest!","type":"exception","seriesMasterId":"AAMkMaster=",
  "attendees":[{"type":"required","status":{"response":"tentativelyAccepted"},"emailAddress":{"name":"Alex Wilber","address":"alexw@contoso.com"}}],
  "start":{"dateTime":"2016-12-12T02:00:00.0000000","timeZone":"UTC"},"end":{"dateTime":"2016-12-12T07:30:00.0000000","timeZone":"UTC"},
  "location":{"displayName":"Home"},"organizer":{"emailAddress":{"name":"Samantha Booth","address":"samanthab@contoso.com"}},"id":"AAMkADj1HuAAA="},
 {"subject":"Holiday \u001b[31mred\u001b[0m\u0007","isAllDay":true,"showAs":"free","isCancelled":true,
  "start":{"dateTime":"2016-12-10T00:00:00.0000000","timeZone":"UTC"},"end":{"dateTime":"2016-12-12T00:00:00.0000000","timeZone":"UTC"},
  "onlineMeeting":{"joinUrl":"https://teams.example/j/1"},"webLink":"https://outlook.example/x","id":"AAMkAllDay="},
 {"subject":"Next month","start":{"dateTime":"2017-01-05T10:00:00","timeZone":"Pacific Standard Time"},"end":{"dateTime":"2017-01-05T11:00:00","timeZone":"Pacific Standard Time"},"id":"AAMkLater="}
]"##;

/// A temp dir with a config in UTC and the path of a data dir in it (not created).
fn utc_dirs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "[ui]\ntimezone = \"UTC\"\n").unwrap();
    let data = dir.path().join("data");
    (dir, config, data)
}

fn filled_cache(data: &std::path::Path) {
    let store = Store::open(&data.join("cache.redb")).unwrap();
    let items: Vec<Value> = serde_json::from_str(SAMPLE).unwrap();
    let changes: Vec<Change> = items
        .iter()
        .map(|v| Change::from_raw(&v.to_string()).unwrap())
        .collect();
    let window = Window {
        start: "2016-12-01T00:00:00Z".parse().unwrap(),
        end: "2017-02-01T00:00:00Z".parse().unwrap(),
    };
    let mut state = Cursor::new(window);
    state.generation = 1;
    state.link = Some(SavedLink::Delta(
        "https://graph.microsoft.com/v1.0/me/calendarView/delta?$deltatoken=x".into(),
    ));
    store
        .commit_pages("default", &[PageJob::new(&changes, &state)])
        .unwrap();
}

#[test]
fn agenda_json_over_a_filled_cache() {
    let (_dir, config, data) = utc_dirs();
    filled_cache(&data);
    let out = run(
        &[
            "agenda",
            "--from",
            "2016-12-09",
            "--to",
            "2016-12-12",
            "--json",
        ],
        &config,
        &data,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let items: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        items,
        json!([
            {"id": "AAMkADNVxRAAA=", "calendar": "default", "subject": "Plan shopping list",
             "start": "2016-12-09T20:30:00Z", "end": "2016-12-09T22:00:00Z", "all_day": false,
             "location": null, "organizer": "Samantha Booth <samanthab@contoso.com>",
             "show_as": null, "cancelled": false, "online_meeting_url": null, "web_link": null,
             "calendar_name": "Calendar", "attendees": [], "series_master_id": null, "event_type": null,
             "response": null, "is_organizer": false, "change_key": null, "pending": null},
            {"id": "AAMkAllDay=", "calendar": "default", "subject": "Holiday \u{1b}[31mred\u{1b}[0m\u{7}",
             "start": "2016-12-10T00:00:00Z", "end": "2016-12-12T00:00:00Z", "all_day": true,
             "location": null, "organizer": null, "show_as": "free", "cancelled": true,
             "online_meeting_url": "https://teams.example/j/1", "web_link": "https://outlook.example/x",
             "calendar_name": "Calendar", "attendees": [], "series_master_id": null, "event_type": null,
             "response": null, "is_organizer": false, "change_key": null, "pending": null},
            {"id": "AAMkADj1HuAAA=", "calendar": "default", "subject": "Rest!",
             "start": "2016-12-12T02:00:00Z", "end": "2016-12-12T07:30:00Z", "all_day": false,
             "location": "Home", "organizer": "Samantha Booth <samanthab@contoso.com>",
             "show_as": null, "cancelled": false, "online_meeting_url": null, "web_link": null,
             "calendar_name": "Calendar",
             "attendees": [{"name": "Alex Wilber", "address": "alexw@contoso.com", "response": "tentativelyAccepted"}],
             "series_master_id": "AAMkMaster=", "event_type": "exception",
             "response": null, "is_organizer": false, "change_key": null, "pending": null}
        ])
    );
    // Windows zone names are converted: 10:00 Pacific is 18:00 UTC.
    let out = run(
        &[
            "agenda",
            "--from",
            "2017-01-05",
            "--to",
            "2017-01-05",
            "--json",
        ],
        &config,
        &data,
    );
    let items: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(items[0]["start"], "2017-01-05T18:00:00Z");
    // --calendar by name (any case), id or key; an unknown one is a usage error naming it.
    for name in ["calendar", "default"] {
        let out = run(
            &[
                "agenda",
                "--from",
                "2016-12-09",
                "--to",
                "2016-12-12",
                "--calendar",
                name,
                "--json",
            ],
            &config,
            &data,
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let items: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(items.as_array().unwrap().len(), 3);
    }
    let out = run(&["agenda", "--calendar", "Work"], &config, &data);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("--calendar") && err.contains("\"Work\"") && err.contains("Calendar"),
        "{err}"
    );

    // The text form: grouped by day, control characters stripped.
    let out = run(
        &["agenda", "--from", "2016-12-09", "--to", "2016-12-12"],
        &config,
        &data,
    );
    let shown = text(&out.stdout);
    assert!(
        !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
        "{shown:?}"
    );
    assert!(
        shown.contains("Fri 2016-12-09\n  20:30-22:00  Plan shopping list"),
        "{shown}"
    );
    assert!(shown.contains("Holiday [31mred[0m  [cancelled]"), "{shown}");
    assert!(shown.contains("Rest!  @ Home"), "{shown}");
}

#[test]
fn configuration_and_usage_errors_exit_2_naming_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("c.toml");
    for (toml, key) in [
        ("[graph]\npagesize = 5\n", "pagesize"),
        (
            "[graph]\nbase_url = \"http://graph.example.com/v1.0\"\n",
            "graph.base_url",
        ),
        ("[ui]\nweek_start = \"someday\"\n", "ui.week_start"),
        ("[sync\n", "line"),
    ] {
        std::fs::write(&config, toml).unwrap();
        let out = run(&["agenda", "--json"], &config, &data);
        assert_eq!(out.status.code(), Some(2), "{toml}");
        let err = text(&out.stderr);
        assert!(err.contains(key) && err.contains("c.toml"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
    std::fs::write(&config, "").unwrap();
    let out = run(&["agenda", "--from", "someday"], &config, &data);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--from"));
    let out = run(
        &["--config", "/nonexistent/deltacal.toml", "agenda"],
        &config,
        &data,
    );
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(bin())
        .args(["agenda", "--bogus"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_emulator_address_in_use_is_a_runtime_failure_and_a_bad_one_a_usage_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = Command::new(bin())
        .args(["sim", "--addr", &addr])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("cannot listen on"));
    for bad in ["10.1.2.3:80", "nowhere"] {
        let out = Command::new(bin())
            .args(["sim", "--addr", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("--addr"));
    }
}

#[test]
fn damaged_or_foreign_caches_say_how_to_rebuild() {
    use std::os::unix::fs::DirBuilderExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&data)
        .unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "").unwrap();
    std::fs::write(data.join("cache.redb"), vec![0x42u8; 8192]).unwrap();
    // A damaged cache is moved aside, named so it can be found, for the next sync to rebuild.
    let out = run(&["agenda", "--json"], &config, &data);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("damaged") && err.contains("cache.redb.damaged-") && err.contains("sync"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1);
    assert!(!data.join("cache.redb").exists());
    let aside = std::fs::read_dir(&data)
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("cache.redb.damaged-")
        });
    assert!(aside);
    // Then there is no cache yet: a note, and an empty agenda.
    let out = run(&["agenda", "--json"], &config, &data);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "[]");
    assert!(text(&out.stderr).contains("no cache yet"));

    // A cache written by another schema version (a newer deltacal's): refused, not destroyed.
    {
        let db = redb::Database::create(data.join("cache.redb")).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(redb::TableDefinition::<&str, u64>::new("meta"))
            .unwrap()
            .insert("schema", 0)
            .unwrap();
        txn.commit().unwrap();
    }
    let out = run(&["agenda", "--json"], &config, &data);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("schema 0")
            && err.contains("delete it to rebuild")
            && err.contains("sign-in is kept"),
        "{err}"
    );
}

/// Starts `deltacal login`, returns the child and the user code it printed.
fn spawn_login(env: &Env) -> (Reaped, String, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(bin())
        .arg("login")
        .env("DELTACAL_CONFIG", env.config_path())
        .env("DELTACAL_DATA_DIR", env.data_dir())
        .env("DELTACAL_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let code = line.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(line.contains("/devicelogin") && code.len() == 9, "{line}");
    (Reaped(Some(child)), code, out)
}

/// A child process that is killed when dropped unless it was waited for.
struct Reaped(Option<std::process::Child>);

impl Drop for Reaped {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

async fn wait_for_first_poll(env: &Env, code: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, body) = env
            .control(
                Method::GET,
                &format!("/sim/device-polls?user_code={code}"),
                None,
            )
            .await;
        let polls = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v["polls"].as_u64())
            .unwrap_or(0);
        if polls >= 1 {
            return;
        }
        assert!(Instant::now() < deadline, "login never polled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn finish(
    mut child: Reaped,
    mut out: BufReader<std::process::ChildStdout>,
) -> (bool, String, String) {
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    let output = child
        .0
        .take()
        .expect("not yet waited for")
        .wait_with_output()
        .unwrap();
    (output.status.success(), rest, text(&output.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_pending_then_approved_and_secrets_stay_secret() {
    let env = Env::start(EnvOptions::default()).await;
    let (child, code, out) = spawn_login(&env);
    wait_for_first_poll(&env, &code).await;
    let form = format!("user_code={code}");
    let r = env
        .http
        .post(format!("{}/sim/approve", env.sim.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (ok, stdout, stderr) = tokio::task::spawn_blocking(move || finish(child, out))
        .await
        .unwrap();
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("Signed in as Samantha Booth"), "{stdout}");

    let token_file = env.config.token_path();
    let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let dir_mode = std::fs::metadata(env.data_dir())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(dir_mode & 0o077, 0, "data dir is private");

    // Use the tokens, force a refresh (rotation), and collect every secret ever stored.
    let mut secrets = Vec::new();
    let mut collect = || {
        let t = deltacal::auth::tokens::load(&token_file).unwrap().unwrap();
        secrets.push(t.access_token.clone());
        secrets.push(t.refresh_token.clone().unwrap());
    };
    collect();
    let mut outputs = vec![stdout, stderr];
    for args in [&["sync"][..], &["status"], &["agenda", "--json"]] {
        let o = run(args, &env.config_path(), &env.data_dir());
        assert!(o.status.success(), "{args:?}: {}", text(&o.stderr));
        outputs.push(text(&o.stdout));
        outputs.push(text(&o.stderr));
    }
    env.control(Method::POST, "/sim/revoke-access-tokens", None)
        .await;
    let o = run(&["sync"], &env.config_path(), &env.data_dir());
    assert!(o.status.success(), "{}", text(&o.stderr));
    outputs.push(text(&o.stdout));
    collect();
    assert_ne!(secrets[1], secrets[3], "the refresh token rotated");
    let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "rewritten token file is still private");
    let log = std::fs::read_to_string(env.config.log_path()).unwrap();
    assert!(log.contains("access token refreshed"), "the log is written");
    outputs.push(log);
    for secret in &secrets {
        for o in &outputs {
            assert!(
                !o.contains(secret.as_str()),
                "a token leaked into output or log"
            );
        }
    }
    let o = run(&["logout"], &env.config_path(), &env.data_dir());
    assert!(text(&o.stdout).contains("Signed out"));
    assert!(!token_file.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_declined_expired_and_slow_down() {
    let env = Env::start(EnvOptions::default()).await;
    // Declined.
    let (child, code, out) = spawn_login(&env);
    wait_for_first_poll(&env, &code).await;
    let r = env
        .http
        .post(format!("{}/sim/decline", env.sim.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("user_code={code}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (ok, _, stderr) = tokio::task::spawn_blocking(move || finish(child, out))
        .await
        .unwrap();
    assert!(!ok);
    assert!(stderr.contains("declined"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1);

    // Expired before approval.
    env.control(
        Method::POST,
        "/sim/settings",
        Some(json!({"device_code_ttl_secs": 1})),
    )
    .await;
    let (child, _, out) = spawn_login(&env);
    let (ok, _, stderr) = tokio::task::spawn_blocking(move || finish(child, out))
        .await
        .unwrap();
    assert!(!ok);
    assert!(stderr.contains("expired"), "{stderr}");

    // slow_down: the client adds 5 s to its interval and still signs in.
    env.control(
        Method::POST,
        "/sim/settings",
        Some(json!({"device_code_ttl_secs": 900, "slow_down_next": 1, "auto_approve": true})),
    )
    .await;
    let started = Instant::now();
    let (child, code, out) = spawn_login(&env);
    let (ok, stdout, stderr) = tokio::task::spawn_blocking(move || finish(child, out))
        .await
        .unwrap();
    assert!(ok, "{stdout}{stderr}");
    assert!(
        started.elapsed() >= Duration::from_secs(6),
        "the interval grew by 5 s after slow_down"
    );
    let (_, body) = env
        .control(
            Method::GET,
            &format!("/sim/device-polls?user_code={code}"),
            None,
        )
        .await;
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["polls"],
        2,
        "no poll came too soon after slow_down"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_prints_a_line_per_calendar_and_fails_with_one_line() {
    let env = Env::start(EnvOptions {
        events: 40,
        calendars: 2,
        ..Default::default()
    })
    .await;
    env.sign_in();
    let o = run(&["sync"], &env.config_path(), &env.data_dir());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let lines: Vec<String> = text(&o.stdout).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with("Calendar [default]: ")
            && lines[0].contains(" added, 0 updated, 0 removed, ")
            && lines[0].ends_with(" s"),
        "{}",
        lines[0]
    );
    let before = env.cache("default");
    env.control(Method::POST, "/sim/churn?count=10&seed=2", None)
        .await;
    env.fault(json!({"status": 503, "count": 100})).await;
    let o = run(&["sync"], &env.config_path(), &env.data_dir());
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("gave up after 8 attempts") && err.contains("503"),
        "{err}"
    );
    assert_eq!(
        env.cache("default"),
        before,
        "a failed round leaves the cache as it was"
    );
    env.control(Method::DELETE, "/sim/faults", None).await;
    assert!(
        run(&["sync"], &env.config_path(), &env.data_dir())
            .status
            .success()
    );
    env.assert_converged("default").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_dash_nine_at_random_points_never_corrupts_the_cache() {
    let env = Env::start(EnvOptions {
        events: 10_000,
        page_size: 100,
        ..Default::default()
    })
    .await;
    env.sign_in();
    let mut rng = StdRng::seed_from_u64(0xdead);
    let mut resumed_mid_round = 0;
    for i in 0..20 {
        if i % 4 == 3 {
            env.control(Method::POST, "/sim/churn?count=200", None)
                .await;
            env.control(Method::POST, "/sim/expire-sync-state", None)
                .await;
        }
        let mut child = Command::new(bin())
            .arg("sync")
            .env("DELTACAL_CONFIG", env.config_path())
            .env("DELTACAL_DATA_DIR", env.data_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let delay = Duration::from_millis(rng.random_range(20..900));
        // The point of the test: stop the process at an arbitrary moment.
        tokio::time::sleep(delay).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let store = Store::open(&env.config.cache_path()).expect("the cache opens after kill -9");
        if let Some(state) = store.sync_state("default").unwrap()
            && matches!(state.cursor.link, Some(SavedLink::Next(_)))
        {
            resumed_mid_round += 1;
        }
        store
            .events_overlapping(None, env.window().start, env.window().end)
            .expect("the cache reads");
    }
    assert!(
        resumed_mid_round >= 3,
        "kills must land mid-round ({resumed_mid_round} did)"
    );
    let o = run(&["sync"], &env.config_path(), &env.data_dir());
    assert!(o.status.success(), "{}", text(&o.stderr));
    env.assert_converged("default").await;
}

#[test]
fn edges_are_usage_errors_or_quiet_never_panics() {
    let (_dir, config, data) = utc_dirs();
    filled_cache(&data);
    for args in [
        ["agenda", "--from", "+106751991167300d"],
        ["agenda", "--to", "-99999999999d"],
        ["agenda", "--from", "0001-01-01"],
    ] {
        let out = run(&args, &config, &data);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains("out of range"),
            "{}",
            text(&out.stderr)
        );
    }
    // `agenda | head`: a reader that stops reading ends the agenda quietly.
    let mut child = Command::new(bin())
        .args(["--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(&data)
        .args(["agenda", "--from", "2016-12-01", "--to", "2017-01-31"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Nothing about the closed pipe: only the note that those days are not synced.
    assert!(
        text(&out.stderr)
            .lines()
            .all(|l| l.contains("outside the synced window")),
        "{}",
        text(&out.stderr)
    );
    // A key out of range is named as itself.
    std::fs::write(&config, "[sync]\nfuture_days = 99999\n").unwrap();
    let out = run(&["agenda"], &config, &data);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("sync.future_days"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_and_a_wrong_calendar_say_so_at_once() {
    // Nothing listens where Graph should be: one attempt, not six with backoff.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        format!("[account]\nauthority = \"http://127.0.0.1:{port}\"\n[graph]\nbase_url = \"http://127.0.0.1:{port}/v1.0\"\n"),
    )
    .unwrap();
    let data = dir.path().join("data");
    let tokens = deltacal::auth::tokens::TokenSet {
        access_token: "a".into(),
        refresh_token: None,
        expires_at: chrono::Utc::now() + chrono::Duration::hours(1),
        scope: None,
        account: None,
    };
    deltacal::auth::tokens::save(&data.join("tokens.json"), &tokens).unwrap();
    let out = run(&["sync"], &config, &data);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("offline: could not connect"), "{err}");
    assert!(!err.contains("attempts"), "{err}");

    // A calendar id the account does not have.
    let env = Env::start(EnvOptions {
        events: 5,
        extra: "\n[[calendars]]\nid = \"AAMkNoSuchCalendar=\"\n".into(),
        ..Default::default()
    })
    .await;
    env.sign_in();
    let out = run(&["sync"], &env.config_path(), &env.data_dir());
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("calendar not found: check calendars[].id (see `deltacal calendars`)"),
        "{err}"
    );
}

#[test]
fn agenda_reads_a_cache_on_read_only_media() {
    let (_dir, config, data) = utc_dirs();
    std::fs::create_dir(&data).unwrap();
    // A small tmpfs remounted read-only where this machine lets the test mount (root, as in
    // CI). Elsewhere the same read goes through a cache opened read-only in-process.
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs"])
        .arg(&data)
        .output()
        .is_ok_and(|o| o.status.success());
    filled_cache(&data);
    if !mounted {
        let store = Store::open_for_reading(&data.join("cache.redb")).unwrap();
        assert!(
            !store
                .events_overlapping(
                    None,
                    chrono::DateTime::<chrono::Utc>::MIN_UTC,
                    chrono::DateTime::<chrono::Utc>::MAX_UTC
                )
                .unwrap()
                .is_empty()
        );
        return;
    }
    let remount = Command::new("mount")
        .args(["-o", "remount,ro"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(remount.status.success());
    let out = run(
        &[
            "agenda",
            "--from",
            "2016-12-01",
            "--to",
            "2016-12-31",
            "--json",
        ],
        &config,
        &data,
    );
    let _ = Command::new("umount").arg(&data).output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let items: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(items.len(), 3);
}

/// A config and a cache holding `items` (each in its view) in a December 2026 window: the
/// directory (kept alive by the caller), the config file and the data dir.
fn december_cache(
    config_text: &str,
    items: &[(&str, Value)],
) -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(&config, config_text).unwrap();
    let data = dir.path().join("data");
    let store = Store::open(&data.join("cache.redb")).unwrap();
    let window = Window {
        start: "2026-12-01T00:00:00Z".parse().unwrap(),
        end: "2027-01-01T00:00:00Z".parse().unwrap(),
    };
    for view in ["default", "AAMkTeam="] {
        let changes: Vec<Change> = items
            .iter()
            .filter(|(v, _)| *v == view)
            .map(|(_, item)| Change::from_raw(&item.to_string()).unwrap())
            .collect();
        if !changes.is_empty() {
            store
                .commit_pages(view, &[PageJob::new(&changes, &Cursor::new(window))])
                .unwrap();
        }
    }
    (dir, config, data)
}

#[test]
fn the_agenda_puts_all_day_first_and_aligns_12_hour_times() {
    let t = |s: &str| json!({"dateTime": s, "timeZone": "UTC"});
    let items = [
        json!({"id": "early", "subject": "Early", "start": t("2026-12-09T15:30:00"), "end": t("2026-12-09T16:00:00")}),
        json!({"id": "night", "subject": "Night", "start": t("2026-12-09T14:00:00"), "end": t("2026-12-09T16:30:00")}),
        json!({"id": "late", "subject": "Late", "start": t("2026-12-10T01:30:00"), "end": t("2026-12-10T02:30:00")}),
        json!({"id": "holiday", "subject": "Holiday", "isAllDay": true, "start": t("2026-12-10T00:00:00"), "end": t("2026-12-11T00:00:00")}),
    ]
    .map(|item| ("default", item));
    let (_dir, config, data) = december_cache(
        "[ui]\ntimezone = \"Asia/Tokyo\"\ntime_format = \"12h\"\n",
        &items,
    );
    let out = run(
        &["agenda", "--from", "2026-12-10", "--to", "2026-12-10"],
        &config,
        &data,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<String> = text(&out.stdout)
        .lines()
        .skip(1)
        .map(str::to_owned)
        .collect();
    let subjects: Vec<&str> = lines
        .iter()
        .map(|l| l.split_whitespace().last().unwrap())
        .collect();
    // In Tokyo: the holiday, then Night (23:00 the day before, until 01:30), Early (00:30),
    // Late (10:30).
    assert_eq!(subjects, ["Holiday", "Night", "Early", "Late"], "{lines:?}");
    let column = |l: &str| l.find(l.split_whitespace().last().unwrap()).unwrap();
    let first = column(&lines[0]);
    assert!(
        lines.iter().all(|l| column(l) == first),
        "aligned: {lines:?}"
    );
}

/// A cache holding `items` (Graph JSON) in the default calendar, with a window around now.
fn cache_with(data: &std::path::Path, items: &[Value]) {
    let store = Store::open(&data.join("cache.redb")).unwrap();
    let changes: Vec<Change> = items
        .iter()
        .map(|v| Change::from_raw(&v.to_string()).unwrap())
        .collect();
    let now = chrono::Utc::now();
    let window = Window {
        start: now - chrono::Duration::days(30),
        end: now + chrono::Duration::days(60),
    };
    let mut state = Cursor::new(window);
    state.generation = 1;
    store
        .commit_pages("default", &[PageJob::new(&changes, &state)])
        .unwrap();
}

#[test]
fn next_names_the_event_in_progress_and_the_next_with_time_left_and_link() {
    let (_dir, config, data) = utc_dirs();
    // Before any sync: nothing, and success.
    let out = run(&["next", "--json"], &config, &data);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        json!({"now": null, "next": null})
    );
    let now = chrono::Utc::now();
    let at = |minutes: i64| {
        let t = now + chrono::Duration::minutes(minutes);
        json!({"dateTime": t.format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC"})
    };
    cache_with(
        &data,
        &[
            json!({"id": "call", "subject": "Call with \u{1b}[2JAda", "start": at(-10), "end": at(20),
                   "onlineMeeting": {"joinUrl": "https://teams.microsoft.com/l/meetup-join/1"}}),
            json!({"id": "declined", "subject": "Skipped", "start": at(30), "end": at(40),
                   "responseStatus": {"response": "declined"}}),
            json!({"id": "review", "subject": "Review", "start": at(90), "end": at(120),
                   "webLink": "https://outlook.office365.com/owa/?itemid=r"}),
        ],
    );
    let out = run(&["next", "--json"], &config, &data);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let found: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(found["now"]["id"], "call");
    assert_eq!(
        found["now"]["join_url"],
        "https://teams.microsoft.com/l/meetup-join/1"
    );
    let left = found["now"]["minutes"].as_i64().unwrap();
    assert!((19..=21).contains(&left), "{found}");
    assert_eq!(found["next"]["id"], "review", "the declined one is skipped");
    // join_url is only ever a join link; the web link has its own field.
    assert_eq!(found["next"]["join_url"], Value::Null);
    assert_eq!(
        found["next"]["web_link"],
        "https://outlook.office365.com/owa/?itemid=r"
    );
    assert!((89..=91).contains(&found["next"]["minutes"].as_i64().unwrap()));
    assert_eq!(found["next"]["calendar_name"], "Calendar");
    // The text form: a line each, sanitised.
    let out = run(&["next"], &config, &data);
    let shown = text(&out.stdout);
    assert_eq!(shown.lines().count(), 2, "{shown}");
    assert!(shown.starts_with("now: "), "{shown}");
    assert!(shown.contains("Call with [2JAda  (ends in "), "{shown:?}");
    assert!(
        shown.contains("next: ") && shown.contains("(starts in 1 h 3"),
        "{shown}"
    );
    assert!(!shown.contains('\u{1b}'));
}

#[test]
fn export_writes_the_cache_as_icalendar_that_parses_back() {
    use icalendar::Component;
    use std::str::FromStr;
    let (_dir, config, data) = utc_dirs();
    filled_cache(&data);
    let out = run(
        &[
            "export",
            "--ics",
            "--from",
            "2016-12-09",
            "--to",
            "2016-12-12",
        ],
        &config,
        &data,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ics = text(&out.stdout);
    let calendar = icalendar::Calendar::from_str(&ics).expect("the export parses");
    let events: Vec<&icalendar::Event> = calendar.events().collect();
    let summaries: Vec<&str> = events.iter().filter_map(|e| e.get_summary()).collect();
    assert_eq!(
        summaries,
        ["Plan shopping list", "Holiday [31mred[0m", "Rest!"]
    );
    assert_eq!(events[1].property_value("DTSTART"), Some("20161210"));
    assert_eq!(events[1].property_value("STATUS"), Some("CANCELLED"));
    assert!(!ics.contains('\u{1b}'));
    // The default range is the whole window; `--ics` is required; a bad range is a usage error.
    let out = run(
        &[
            "export",
            "--ics",
            "--from",
            "2016-12-01",
            "--to",
            "2017-02-01",
        ],
        &config,
        &data,
    );
    let all = icalendar::Calendar::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(all.events().count(), 4);
    assert_eq!(run(&["export"], &config, &data).status.code(), Some(2));
    let out = run(
        &[
            "export",
            "--ics",
            "--from",
            "2017-01-01",
            "--to",
            "2016-01-01",
        ],
        &config,
        &data,
    );
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calendars_lists_every_page_marks_what_is_synced_and_says_how_to_add_the_rest() {
    let env = Env::start(EnvOptions {
        events: 5,
        calendars: 12,
        ..Default::default()
    })
    .await;
    env.sign_in();
    // The config syncs only the default calendar.
    let toml = std::fs::read_to_string(env.config_path()).unwrap();
    let cut = toml.find("\n[[calendars]]").unwrap();
    std::fs::write(env.config_path(), &toml[..cut]).unwrap();
    let out = run(
        &["calendars", "--json"],
        &env.config_path(),
        &env.data_dir(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let items: Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = items.as_array().unwrap();
    assert_eq!(items.len(), 12, "both pages of ten");
    // The realistic emulator leaves isDefaultCalendar out; /me/calendar says which it is.
    let defaults: Vec<&Value> = items.iter().filter(|c| c["is_default"] == true).collect();
    assert_eq!(defaults.len(), 1);
    assert_eq!(defaults[0]["name"], "Calendar");
    assert_eq!(defaults[0]["synced"], true);
    assert_eq!(items.iter().filter(|c| c["synced"] == true).count(), 1);
    let shared = &items[3];
    assert_eq!(shared["can_edit"], false);
    assert_eq!(shared["owner"], "Dana Swope <danas@contoso.com>");
    assert_eq!(items[1]["color"], "lightBlue");
    assert!(
        items[1]["config"].as_str().unwrap().contains(
            "[[calendars]]\nid = \"AAMkCal0001AAA=\"\nname = \"Calendar 2\"\ncolor = \"lightblue\""
        ),
        "{}",
        items[1]["config"]
    );
    // The text form says how to add one; pasting those lines makes it synced.
    let out = run(&["calendars"], &env.config_path(), &env.data_dir());
    let shown = text(&out.stdout);
    assert!(
        shown.contains(
            "Calendar  [default, can edit, owner Samantha Booth <samanthab@contoso.com>]  synced"
        ),
        "{shown}"
    );
    assert!(
        shown.contains("Calendar 4  [yellow, read-only, owner Dana Swope"),
        "{shown}"
    );
    // One complete list to paste, the default calendar first: pasting a calendar's entry
    // alone would stop syncing the default one.
    assert!(
        shown.contains("put this list in the config in place of any [[calendars]] entries"),
        "{shown}"
    );
    let list_at = shown.find("  [[calendars]]").expect("a list to paste");
    let pasted: String = shown[list_at..]
        .lines()
        .map(|l| l.strip_prefix("  ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let pasted_config = format!("{}\n{pasted}\n", &toml[..cut]);
    std::fs::write(env.config_path(), &pasted_config).unwrap();
    let out = run(
        &["calendars", "--json"],
        &env.config_path(),
        &env.data_dir(),
    );
    let all: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        all.as_array().unwrap().iter().all(|c| c["synced"] == true),
        "every calendar, the default one too, is synced after pasting: {pasted_config}"
    );
    let shown = text(&run(&["calendars"], &env.config_path(), &env.data_dir()).stdout);
    assert!(!shown.contains("To sync every calendar"), "{shown}");
    let mut toml = toml[..cut].to_owned();
    toml.push_str("\n[[calendars]]\nid = \"default\"\nname = \"Calendar\"\n\n");
    toml.push_str(items[1]["config"].as_str().unwrap());
    std::fs::write(env.config_path(), &toml).unwrap();
    let out = run(
        &["calendars", "--json"],
        &env.config_path(),
        &env.data_dir(),
    );
    let items: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(items[1]["synced"], true, "{toml}");
    // The list is kept in the cache for the views' colours.
    let store = Store::open_for_reading(&env.data_dir().join("cache.redb")).unwrap();
    assert_eq!(store.calendar_list().unwrap().len(), 12);
}

/// Sends SIGTERM (or SIGINT) and waits: the exit status.
fn stop(mut child: Reaped, signal: &str) -> std::process::ExitStatus {
    let mut c = child.0.take().unwrap();
    Command::new("kill")
        .args([signal, &c.id().to_string()])
        .status()
        .unwrap();
    c.wait().unwrap()
}

/// Waits until `file` has `n` lines (the reminder command appends one per reminder).
async fn wait_for_lines(file: &std::path::Path, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let lines: Vec<Value> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        if lines.len() >= n {
            return lines;
        }
        assert!(
            Instant::now() < deadline,
            "{n} reminders never came: {text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remind_runs_the_command_once_per_reminder_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let got = dir.path().join("reminders.jsonl");
    let env = Env::start(EnvOptions {
        events: 5,
        extra: format!(
            "\n[reminders]\ncommand = \"cat >> '{}'; echo >> '{}'\"\n",
            got.display(),
            got.display()
        ),
        ..Default::default()
    })
    .await;
    env.sign_in();
    let soon = |minutes: i64| {
        let t = chrono::Utc::now() + chrono::Duration::minutes(minutes);
        json!({"dateTime": t.format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC"})
    };
    let post = |subject: &str, lead: i64| {
        json!({"subject": subject, "start": soon(3), "end": soon(33), "isReminderOn": true,
               "reminderMinutesBeforeStart": lead,
               "onlineMeeting": {"joinUrl": "https://teams.microsoft.com/l/meetup-join/r"}})
    };
    let (status, _) = env
        .control(Method::POST, "/sim/events", Some(post("Standup soon", 5)))
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED);
    // Not yet due (a 1-minute lead, 3 minutes ahead): it must not come.
    env.control(Method::POST, "/sim/events", Some(post("Later", 1)))
        .await;
    let spawn = || {
        Reaped(Some(
            Command::new(bin())
                .arg("remind")
                .env("DELTACAL_CONFIG", env.config_path())
                .env("DELTACAL_DATA_DIR", env.data_dir())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        ))
    };
    let child = spawn();
    let lines = wait_for_lines(&got, 1).await;
    assert_eq!(lines[0]["subject"], "Standup soon");
    assert_eq!(lines[0]["reminder_minutes"], 5);
    assert!((2..=3).contains(&lines[0]["minutes_to_start"].as_i64().unwrap()));
    assert_eq!(
        lines[0]["join_url"],
        "https://teams.microsoft.com/l/meetup-join/r"
    );
    assert_eq!(
        stop(child, "-TERM").code(),
        Some(0),
        "SIGTERM ends it cleanly"
    );
    // A restart does not repeat it; a new event due now comes once.
    env.control(Method::POST, "/sim/events", Some(post("Review soon", 10)))
        .await;
    let child = spawn();
    let lines = wait_for_lines(&got, 2).await;
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[1]["subject"], "Review soon");
    assert_eq!(stop(child, "-INT").code(), Some(0), "so does SIGINT");
    // Off in the config: a usage error.
    let toml = std::fs::read_to_string(env.config_path()).unwrap();
    std::fs::write(
        env.config_path(),
        toml.replace("[reminders]\n", "[reminders]\nenabled = false\n"),
    )
    .unwrap();
    let out = run(&["remind"], &env.config_path(), &env.data_dir());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("reminders are off"));
}

/// Files that are not deltacal's to use are refused with one short line and exit 2, nothing
/// changed: a device as the data dir or the config, an endless config, a config anyone may
/// write; a huge argument is quoted short.
#[test]
fn local_files_and_arguments_deltacal_must_not_use_are_refused_in_one_short_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "").unwrap();
    let null_mode = std::fs::metadata("/dev/null").unwrap().permissions().mode();
    let out = run(&["status"], &config, std::path::Path::new("/dev/null"));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("is not a directory"));
    assert_eq!(
        std::fs::metadata("/dev/null").unwrap().permissions().mode(),
        null_mode,
        "/dev/null is left as it was"
    );
    let data = dir.path().join("data");
    let out = run(&["agenda"], std::path::Path::new("/dev/zero"), &data);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("not a regular file"));
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = run(&["agenda"], &config, &data);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("anyone may write it"));
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let huge = "x".repeat(100_000);
    let out = run(&["agenda", "--calendar", &huge], &config, &data);
    assert_eq!(out.status.code(), Some(2));
    let line = text(&out.stderr);
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(line.chars().count() < 600, "{} chars", line.chars().count());
}

/// An agenda range longer than the longest sync window (1,825 days) is a usage error that
/// says the rule.
#[test]
fn an_agenda_longer_than_any_window_is_refused_with_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "").unwrap();
    let data = dir.path().join("data");
    let out = run(
        &["agenda", "--from", "2020-01-01", "--to", "2025-01-01"],
        &config,
        &data,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("1825 days"),
        "{}",
        text(&out.stderr)
    );
    let out = run(
        &["agenda", "--from", "2020-01-01", "--to", "2024-12-30"],
        &config,
        &data,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// Small traps of the command line: an empty `DELTACAL_CONFIG=` means unset; `26-12-01` is
/// not a date (chrono read it as the year 26, "out of range"); `--calendar DEFAULT` names
/// the default calendar as `default` does; the calendar view without a terminal is a usage
/// error; the ICS names deltacal as its maker.
#[test]
fn small_traps_of_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let empty = Command::new(bin())
        .args(["agenda", "--json"])
        .env("DELTACAL_CONFIG", "")
        .env("DELTACAL_DATA_DIR", &data)
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("xdg"))
        .output()
        .unwrap();
    assert_eq!(empty.status.code(), Some(0), "{}", text(&empty.stderr));
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "").unwrap();
    let short = run(&["agenda", "--from", "26-12-01"], &config, &data);
    assert_eq!(short.status.code(), Some(2));
    assert!(
        text(&short.stderr).contains("is not a date"),
        "{}",
        text(&short.stderr)
    );
    let upper = run(&["agenda", "--calendar", "DEFAULT"], &config, &data);
    assert_eq!(upper.status.code(), Some(0), "{}", text(&upper.stderr));
    let no_terminal = run(&["demo"], &config, &data);
    assert_eq!(
        no_terminal.status.code(),
        Some(2),
        "{}",
        text(&no_terminal.stderr)
    );
    assert!(
        text(&no_terminal.stderr).contains("needs a terminal"),
        "{}",
        text(&no_terminal.stderr)
    );
    let ics = run(&["export", "--ics"], &config, &data);
    assert!(ics.status.success(), "{}", text(&ics.stderr));
    assert!(
        text(&ics.stdout).contains("PRODID:-//deltacal//deltacal "),
        "{}",
        text(&ics.stdout)
    );
}

/// A data dir the user cannot read is an error, not "no cache yet" with exit 0. Root reads
/// any dir, so as root (in CI) the binary runs as `nobody` on a dir of nobody's.
#[test]
fn an_unreadable_data_dir_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "").unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let root = unsafe { libc::geteuid() } == 0;
    let mut command = if root {
        std::os::unix::fs::chown(&data, Some(65534), Some(65534)).unwrap();
        // A copy nobody may run: the build's own dir may be closed to other users.
        let exe = dir.path().join("deltacal");
        std::fs::copy(bin(), &exe).unwrap();
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&exe);
        c
    } else {
        Command::new(bin())
    };
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o000)).unwrap();
    let out = command
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(&data)
        .arg("agenda")
        .output()
        .expect("runs (setpriv is util-linux's, on every Debian)");
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("cannot be read by you"),
        "{}",
        text(&out.stderr)
    );
}

/// Days outside the synced window are unknown, not free: the agenda says so on stderr and
/// still exits 0 with its usual output; days inside get no note.
#[test]
fn agenda_says_when_its_days_are_not_synced() {
    let (_dir, config, data) = utc_dirs();
    filled_cache(&data);
    let out = run(
        &["agenda", "--from", "2016-12-09", "--to", "2016-12-12"],
        &config,
        &data,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("2016-12-09 to 2016-12-12 are outside the synced window")
            && err.contains("past_days"),
        "{err}"
    );
    let out = run(
        &["agenda", "--from=-80d", "--to", "+2d", "--json"],
        &config,
        &data,
    );
    assert!(out.status.success());
    assert!(
        text(&out.stderr).contains("the days before"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        serde_json::from_slice::<Value>(&out.stdout)
            .unwrap()
            .is_array()
    );
    let out = run(&["agenda"], &config, &data);
    assert!(
        !text(&out.stderr).contains("outside the synced window"),
        "{}",
        text(&out.stderr)
    );
}

/// Completions for bash, zsh and fish and the manual page come from the clap definitions:
/// every command is in them, and the bash script is valid bash.
#[test]
fn completions_and_the_manual_page_are_generated() {
    let (_dir, config, data) = utc_dirs();
    for shell in ["bash", "zsh", "fish"] {
        let out = run(&["completions", shell], &config, &data);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let script = text(&out.stdout);
        for command in ["agenda", "export", "calendars", "next", "login"] {
            assert!(script.contains(command), "{shell}: {command} missing");
        }
        if shell == "bash" {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("deltacal.bash");
            std::fs::write(&path, &script).unwrap();
            let check = Command::new("bash").arg("-n").arg(&path).output().unwrap();
            assert!(check.status.success(), "{}", text(&check.stderr));
        }
    }
    let out = run(&["completions", "tcsh"], &config, &data);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
    let out = run(&["man"], &config, &data);
    assert!(out.status.success());
    let page = text(&out.stdout);
    assert!(page.contains(".TH deltacal 1"), "{page}");
    assert!(
        page.contains("agenda") && page.contains("DELTACAL_CONFIG"),
        "{page}"
    );
}

/// `status --json` says what the text says, for scripts: sign-in, and each calendar's window,
/// events, last round and link.
#[test]
fn status_json_reports_the_account_and_each_calendar() {
    let (_dir, config, data) = utc_dirs();
    let out = run(&["status", "--json"], &config, &data);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let empty: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(empty["signed_in"], false);
    assert_eq!(empty["account"], Value::Null);
    assert_eq!(empty["calendars"][0]["calendar"], "default");
    assert_eq!(empty["calendars"][0]["synced"], false);
    assert_eq!(empty["calendars"][0]["state"], Value::Null);
    filled_cache(&data);
    let out = run(&["status", "--json"], &config, &data);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    let cal = &status["calendars"][0];
    assert_eq!(cal["synced"], true, "{status}");
    assert!(cal["events"].as_u64().unwrap() > 0, "{status}");
    assert!(
        cal["window_start"].is_string() && cal["state"].is_string(),
        "{status}"
    );
    let shown = text(&run(&["status"], &config, &data).stdout);
    assert!(
        shown.contains(&format!("  events:  {}", cal["events"])),
        "{shown}"
    );
}

/// The text agenda marks declined events and, with more than one calendar, names each
/// event's calendar.
#[test]
fn the_text_agenda_marks_declined_events_and_names_calendars() {
    let t = |s: &str| json!({"dateTime": s, "timeZone": "UTC"});
    let (_dir, config, data) = december_cache(
        "[ui]\ntimezone = \"UTC\"\n[[calendars]]\nid = \"default\"\nname = \"Work\"\n[[calendars]]\nid = \"AAMkTeam=\"\nname = \"Team\"\n",
        &[
            (
                "default",
                json!({"id": "no", "subject": "Skipped", "responseStatus": {"response": "declined"},
                               "start": t("2026-12-10T09:00:00"), "end": t("2026-12-10T10:00:00")}),
            ),
            (
                "AAMkTeam=",
                json!({"id": "yes", "subject": "Planning", "responseStatus": {"response": "accepted"},
                                 "start": t("2026-12-10T11:00:00"), "end": t("2026-12-10T12:00:00")}),
            ),
        ],
    );
    let out = run(
        &["agenda", "--from", "2026-12-10", "--to", "2026-12-10"],
        &config,
        &data,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("09:00-10:00  Skipped  [declined]  (Work)"),
        "{shown}"
    );
    assert!(shown.contains("11:00-12:00  Planning  (Team)"), "{shown}");
}

/// `agenda --format`: one line per event from named fields, a tab where `\t` says; an unknown
/// field is a usage error naming it; --format and --json do not go together.
#[test]
fn agenda_format_prints_named_fields() {
    let (_dir, config, data) = utc_dirs();
    filled_cache(&data);
    let args = [
        "agenda",
        "--from",
        "2016-12-09",
        "--to",
        "2016-12-12",
        "--format",
        "{start_date} {start_time}\\t{subject}\\t{calendar_name}",
    ];
    let out = run(&args, &config, &data);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(
        lines[0], "2016-12-09 20:30\tPlan shopping list\tCalendar",
        "{shown}"
    );
    // Server text is sanitised: the all-day event's subject carries escape codes.
    assert!(
        lines[1].starts_with("2016-12-10 \tHoliday [31mred[0m"),
        "{shown}"
    );
    assert!(!shown.contains('\u{1b}'));
    let out = run(&["agenda", "--format", "{title}"], &config, &data);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--format: no field `title`; the fields are id"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&["agenda", "--json", "--format", "{id}"], &config, &data);
    assert_eq!(out.status.code(), Some(2));
}

/// `config init` writes a commented config that deltacal reads, and never overwrites one.
#[test]
fn config_init_writes_a_config_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("conf/deltacal/config.toml");
    let data = dir.path().join("data");
    let out = run(&["config", "init"], &config, &data);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("wrote"), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("not signed in"));
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(written.contains("past_days = 30") && written.contains("# [[calendars]]"));
    let out = run(&["status"], &config, &data);
    assert!(
        out.status.success(),
        "the written config reads: {}",
        text(&out.stderr)
    );
    std::fs::write(&config, "# mine\n").unwrap();
    let out = run(&["config", "init"], &config, &data);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("never overwrites"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), "# mine\n");
}

/// An export read back as khal or calcurse would: every series expanded by its rule, less its
/// exclusions, with its overrides in place, gives exactly the events the server lists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_keeps_series_whole_and_expands_to_what_the_server_lists() {
    use icalendar::{Component, EventLike};
    use std::collections::BTreeMap;
    use std::str::FromStr;
    let env = Env::start(EnvOptions {
        events: 400,
        page_size: 100,
        ..Default::default()
    })
    .await;
    env.sign_in();
    let o = run(&["sync"], &env.config_path(), &env.data_dir());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let window = env.window();
    let list = format!(
        "/sim/events?calendar=default&start={}&end={}",
        window
            .start
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        window
            .end
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    // Between two rounds: an occurrence deleted, one moved two hours, the usual churn.
    let (_, body) = env.control(Method::GET, &list, None).await;
    let listed: Vec<Value> = serde_json::from_str(&body).unwrap();
    let mut occurrences = listed
        .iter()
        .filter(|e| e["type"] == "occurrence" && e["isAllDay"] != true);
    let deleted = occurrences.next().unwrap()["id"].as_str().unwrap();
    let (status, body) = env
        .control(Method::DELETE, &format!("/sim/events/{deleted}"), None)
        .await;
    assert!(status.is_success(), "{body}");
    let moved = occurrences.nth(3).unwrap();
    let later = |k: &str| {
        let t: chrono::NaiveDateTime = moved[k]["dateTime"].as_str().unwrap()[..19]
            .parse()
            .unwrap();
        json!({"dateTime": (t + chrono::Duration::hours(2)).format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": moved[k]["timeZone"]})
    };
    let patch = json!({"start": later("start"), "end": later("end"), "subject": "Moved"});
    let (status, body) = env
        .control(
            Method::PATCH,
            &format!("/sim/events/{}", moved["id"].as_str().unwrap()),
            Some(patch),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let (status, body) = env
        .control(Method::POST, "/sim/churn?count=30&seed=7", None)
        .await;
    assert!(status.is_success(), "{body}");
    let o = run(&["sync"], &env.config_path(), &env.data_dir());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = run(&["export", "--ics"], &env.config_path(), &env.data_dir());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ics = text(&out.stdout);
    assert!(
        ics.contains("\r\nEXDATE") && ics.contains("\r\nRECURRENCE-ID"),
        "{ics}"
    );
    assert!(ics.contains("SUMMARY:Moved\r\n"), "{ics}");
    let calendar = icalendar::Calendar::from_str(&ics).expect("the export parses");
    let minute = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M").to_string();
    // DTSTART of an event written in UTC or as a date.
    let start_of = |e: &icalendar::Event| {
        let v = e.property_value("DTSTART").unwrap();
        match v.len() {
            8 => format!("{}-{}-{}T00:00", &v[..4], &v[4..6], &v[6..8]),
            _ => format!(
                "{}-{}-{}T{}:{}",
                &v[..4],
                &v[4..6],
                &v[6..8],
                &v[9..11],
                &v[11..13]
            ),
        }
    };
    let in_window = |s: &str| s >= minute(window.start).as_str() && s < minute(window.end).as_str();
    let mut exported: BTreeMap<String, usize> = BTreeMap::new();
    let mut overrides: BTreeMap<(String, String), &icalendar::Event> = BTreeMap::new();
    let mut series = 0;
    for e in calendar.events() {
        if let Some(id) = e.get_recurrence_id() {
            let at = match id {
                icalendar::DatePerhapsTime::Date(d) => format!("{d}T00:00"),
                icalendar::DatePerhapsTime::DateTime(t) => {
                    minute(t.try_into_utc().expect("a zone the export names"))
                }
            };
            overrides.insert((e.get_uid().unwrap().to_owned(), at), e);
        }
    }
    let mut count = |start: String, e: &icalendar::Event| {
        if in_window(&start) && e.property_value("STATUS") != Some("CANCELLED") {
            *exported
                .entry(format!("{start} {}", e.get_summary().unwrap_or("")))
                .or_default() += 1;
        }
    };
    for e in calendar.events() {
        if e.get_recurrence_id().is_some() {
            continue;
        }
        if e.property_value("RRULE").is_none() {
            count(start_of(e), e);
            continue;
        }
        series += 1;
        let dates = e
            .get_recurrence()
            .expect("the rule reads back")
            .all(5000)
            .dates;
        for d in dates {
            let slot = if e.property_value("DTSTART").is_some_and(|v| v.len() == 8) {
                format!("{}T00:00", d.date_naive())
            } else {
                minute(d.with_timezone(&chrono::Utc))
            };
            match overrides.get(&(e.get_uid().unwrap().to_owned(), slot.clone())) {
                Some(o) => count(start_of(o), o),
                None => count(slot, e),
            }
        }
    }
    // Every series with an occurrence in the window is written as one. (One whose instances
    // there are all exceptions shows without its master, which the cache then does not hold:
    // those are written one by one.)
    let (_, body) = env.control(Method::GET, &list, None).await;
    let listed: Vec<Value> = serde_json::from_str(&body).unwrap();
    let with_occurrences: std::collections::BTreeSet<&str> = listed
        .iter()
        .filter(|e| e["type"] == "occurrence")
        .filter_map(|e| e["seriesMasterId"].as_str())
        .collect();
    assert!(series > 5, "the generated calendar has series: {ics}");
    assert!(
        series >= with_occurrences.len(),
        "{series} of {}",
        with_occurrences.len()
    );
    let mut truth: BTreeMap<String, usize> = BTreeMap::new();
    for e in listed {
        let start = e["start"]["dateTime"].as_str().unwrap()[..16].to_owned();
        if in_window(&start) && e["isCancelled"] != true {
            let subject = deltacal::text::line(e["subject"].as_str().unwrap_or("")).into_owned();
            *truth.entry(format!("{start} {subject}")).or_default() += 1;
        }
    }
    assert_eq!(exported, truth);
}
