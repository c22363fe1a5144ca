//! kill -9 at every step of a send: a write command killed at any moment (before its change is
//! queued, while it is queued, while its request travels, after the server applied it but
//! before the answer arrived, after it wrote the answer) leaves the change applied once by the
//! next sync, or not at all when it died before queueing; never twice.

#![allow(clippy::unwrap_used)]
#![cfg(feature = "emulator")]

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Env, EnvOptions, bin};
use reqwest::Method;
use serde_json::Value;

fn deltacal(env: &Env, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .env("DELTACAL_CONFIG", env.config_path())
        .env("DELTACAL_DATA_DIR", env.data_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// Runs `args`, kills it (SIGKILL) after `after`, then syncs with the network fast again.
async fn killed_then_synced(env: &Env, args: &[&str], after: Duration) {
    env.sim.handle().set_latency(Duration::from_millis(400));
    let mut child = deltacal(env, args).spawn().unwrap();
    // The point of the test is the moment: it is a time, not a condition to wait for.
    tokio::time::sleep(after).await;
    let _ = child.kill();
    let _ = child.wait();
    if std::env::var_os("KILL_DEBUG").is_some() {
        let out = deltacal(env, &["outbox", "--json"])
            .stdout(Stdio::piped())
            .output()
            .unwrap();
        eprintln!("after {after:?}: {}", String::from_utf8_lossy(&out.stdout));
    }
    env.sim.handle().set_latency(Duration::ZERO);
    let status = deltacal(env, &["sync"]).status().unwrap();
    assert!(status.success());
    if std::env::var_os("KILL_DEBUG").is_some() {
        let out = deltacal(env, &["outbox", "--json"])
            .stdout(Stdio::piped())
            .output()
            .unwrap();
        eprintln!(
            "synced: {}",
            String::from_utf8_lossy(&out.stdout).replace('\n', " ")
        );
        let (_, body) = env.control(Method::GET, "/sim/requests", None).await;
        eprintln!("requests: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_killed_at_any_moment_makes_one_event_or_none() {
    // From before the process has read its config to well after the answer came back.
    for (i, ms) in [0u64, 20, 60, 120, 200, 260, 330, 420, 520, 700, 1000]
        .into_iter()
        .enumerate()
    {
        let env = Env::start(EnvOptions {
            events: 20,
            ..Default::default()
        })
        .await;
        env.sign_in_writer();
        assert!(deltacal(&env, &["sync"]).status().unwrap().success());
        let subject = format!("Killed {i}");
        killed_then_synced(
            &env,
            &["new", "tomorrow", "10:00", "30m", &subject],
            Duration::from_millis(ms),
        )
        .await;
        let made = env
            .server_events()
            .await
            .iter()
            .filter(|e| e["subject"] == subject.as_str())
            .count();
        let out = deltacal(&env, &["outbox", "--json"])
            .stdout(Stdio::piped())
            .output()
            .unwrap();
        let left: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        assert!(made <= 1, "killed at {ms} ms: {made} events");
        assert!(
            left.is_empty(),
            "killed at {ms} ms: still waiting: {left:?}"
        );
        // Made, or never queued (the process died before its change reached the cache).
        if made == 0 {
            assert!(ms <= 200, "killed at {ms} ms: the change was lost");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_killed_at_any_moment_is_applied_once() {
    for ms in [0u64, 60, 150, 250, 350, 450, 600, 800, 1000, 1300] {
        let env = Env::start(EnvOptions {
            events: 120,
            ..Default::default()
        })
        .await;
        env.sign_in_writer();
        assert!(deltacal(&env, &["sync"]).status().unwrap().success());
        // One of the user's own meetings, made here.
        assert!(
            deltacal(&env, &["new", "tomorrow", "10:00", "30m", "Mine"])
                .status()
                .unwrap()
                .success()
        );
        let out = deltacal(&env, &["agenda", "--json", "--from", "-1d", "--to", "+2d"])
            .stdout(Stdio::piped())
            .output()
            .unwrap();
        let events: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        let own = events.iter().find(|e| e["subject"] == "Mine").unwrap();
        let id = own["id"].as_str().unwrap();
        let before: chrono::DateTime<chrono::Utc> = own["start"].as_str().unwrap().parse().unwrap();
        killed_then_synced(
            &env,
            &["edit", id, "--move", "+1h"],
            Duration::from_millis(ms),
        )
        .await;
        let server = env.server_events().await;
        let now = server.iter().find(|e| e["id"] == id).unwrap();
        let text = now["start"]["dateTime"].as_str().unwrap();
        let start = chrono::NaiveDateTime::parse_from_str(&text[..19], "%Y-%m-%dT%H:%M:%S")
            .unwrap()
            .and_utc();
        let moved = start - before;
        assert!(
            moved == chrono::Duration::zero() || moved == chrono::Duration::hours(1),
            "killed at {ms} ms: moved by {moved}"
        );
        if ms >= 300 {
            assert_eq!(moved, chrono::Duration::hours(1), "killed at {ms} ms: lost");
        }
    }
}
