//! The sync engine against the emulator over loopback: convergence under faults (property
//! test), 410 resync with sweep, window changes, several calendars, notifications, link checks.

#![allow(clippy::unwrap_used)]
#![cfg(feature = "emulator")]

mod common;

use common::{Env, EnvOptions};
use deltacal::failure::FailureKind;
use deltacal::graph::client::GraphError;
use deltacal::store::{SavedLink, Store};
use deltacal::sync::{Stall, SyncError, SyncEvent};
use proptest::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
enum Op {
    Churn {
        count: usize,
        seed: u64,
    },
    /// Changes aimed at recurring series: renames, moves in and out of the window, a deleted
    /// occurrence, a deleted series, an edited occurrence, new series.
    SeriesChurn {
        count: usize,
        seed: u64,
    },
    Fault(Value),
    ExpireSyncState,
    RevokeAccessTokens,
    ShortLivedAccessTokens,
    Round,
}

fn fault() -> impl Strategy<Value = Value> {
    let count = 1u32..4;
    let skip = 0u32..4;
    (
        prop_oneof![
            Just(json!({"status": 429, "retry_after": 0})),
            Just(json!({"status": 503})),
            Just(json!({"status": 502})),
            Just(json!({"status": 401})),
            Just(json!({"status": 410})),
            Just(json!({"kind": "drop"})),
            Just(json!({"kind": "truncate"})),
            Just(json!({"kind": "malformed"})),
            Just(json!({"kind": "slow", "delay_ms": 20})),
            Just(json!({"kind": "empty"})),
            Just(json!({"kind": "loop"})),
        ],
        count,
        skip,
    )
        .prop_map(|(mut f, count, skip)| {
            // A loop only shows as one after a few repeated pages.
            let count = if f["kind"] == "loop" {
                count * 4
            } else {
                count
            };
            f["count"] = json!(count);
            f["skip"] = json!(skip);
            f
        })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1usize..25, any::<u64>()).prop_map(|(count, seed)| Op::Churn { count, seed }),
        3 => (1usize..10, any::<u64>()).prop_map(|(count, seed)| Op::SeriesChurn { count, seed }),
        3 => fault().prop_map(Op::Fault),
        1 => Just(Op::ExpireSyncState),
        1 => Just(Op::RevokeAccessTokens),
        1 => Just(Op::ShortLivedAccessTokens),
        3 => Just(Op::Round),
    ]
}

async fn run_case(ops: Vec<Op>, seed: u64, mode: &str) {
    let env = Env::start(EnvOptions {
        events: 40,
        seed,
        page_size: 7,
        ..Default::default()
    })
    .await;
    env.control(Method::POST, "/sim/settings", Some(json!({"mode": mode})))
        .await;
    env.sign_in();
    let engine = env.engine();
    let cal = env.config.calendars[0].clone();
    // Rounds may fail under faults; the cache must stay consistent whatever happens.
    let _ = engine.sync_view(&cal).await;
    for op in ops {
        match op {
            Op::Churn { count, seed } => {
                env.control(
                    Method::POST,
                    &format!("/sim/churn?count={count}&seed={seed}"),
                    None,
                )
                .await;
            }
            Op::SeriesChurn { count, seed } => {
                env.control(
                    Method::POST,
                    &format!("/sim/churn?count={count}&seed={seed}&series=true"),
                    None,
                )
                .await;
            }
            Op::Fault(f) => env.fault(f).await,
            Op::ExpireSyncState => {
                env.control(Method::POST, "/sim/expire-sync-state", None)
                    .await;
            }
            Op::RevokeAccessTokens => {
                env.control(Method::POST, "/sim/revoke-access-tokens", None)
                    .await;
            }
            Op::ShortLivedAccessTokens => {
                env.control(
                    Method::POST,
                    "/sim/settings",
                    Some(json!({"access_token_ttl_secs": 1})),
                )
                .await;
            }
            Op::Round => {
                let _ = engine.sync_view(&cal).await;
            }
        }
    }
    env.control(Method::DELETE, "/sim/faults", None).await;
    env.control(
        Method::POST,
        "/sim/settings",
        Some(json!({"access_token_ttl_secs": 3600})),
    )
    .await;
    let result = engine.sync_view(&cal).await;
    assert!(result.is_ok(), "final round failed: {result:?}");
    env.assert_converged("default").await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100, max_shrink_iters: 50, ..ProptestConfig::default() })]

    /// Against the emulator as Microsoft 365 really answers: stubs, masters, silent deletions,
    /// unsplit series, out-of-window noise, looping rounds.
    #[test]
    fn cache_converges_to_the_server_whatever_happens(ops in proptest::collection::vec(op(), 1..10), seed in 0u64..1000) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(run_case(ops, seed, "realistic"));
    }

    /// Against the emulator as the documentation describes the service.
    #[test]
    fn cache_converges_against_the_documented_service(ops in proptest::collection::vec(op(), 1..10), seed in 0u64..1000) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(run_case(ops, seed, "documented"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resync_keeps_the_old_cache_until_its_sweep() {
    let env = Env::start(EnvOptions {
        events: 60,
        page_size: 10,
        ..Default::default()
    })
    .await;
    env.sign_in();
    let engine = env.engine();
    let cal = env.config.calendars[0].clone();
    engine.sync_view(&cal).await.unwrap();
    let before = env.cache("default");
    let victim = before.keys().next().unwrap().clone();

    env.control(Method::POST, "/sim/expire-sync-state", None)
        .await;
    env.control(Method::DELETE, &format!("/sim/events/{victim}"), None)
        .await;
    // The full round fails after two pages: the old cache must still be there.
    env.fault(json!({"status": 503, "count": 50, "skip": 3}))
        .await;
    let failed = engine.sync_view(&cal).await;
    assert!(
        matches!(failed, Err(SyncError::Graph(GraphError::GaveUp { .. }))),
        "{failed:?}"
    );
    let during = env.cache("default");
    assert!(
        during.contains_key(&victim),
        "old cache dropped before the sweep"
    );
    assert!(during.len() >= before.len());
    let state = Store::open(&env.config.cache_path())
        .unwrap()
        .sync_state("default")
        .unwrap()
        .unwrap();
    assert!(matches!(state.cursor.link, Some(SavedLink::Next(_))) && state.cursor.full_round);

    env.control(Method::DELETE, "/sim/faults", None).await;
    let summary = engine.sync_view(&cal).await.unwrap();
    assert!(summary.full);
    assert!(!env.cache("default").contains_key(&victim));
    env.assert_converged("default").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_window_resyncs_and_sweeps() {
    let env = Env::start(EnvOptions {
        events: 0,
        ..Default::default()
    })
    .await;
    for (subject, day) in [("early", "2016-12-03"), ("late", "2016-12-20")] {
        let e = json!({"subject": subject, "start": {"dateTime": format!("{day}T10:00:00"), "timeZone": "UTC"},
                       "end": {"dateTime": format!("{day}T11:00:00"), "timeZone": "UTC"}});
        env.control(Method::POST, "/sim/events", Some(e)).await;
    }
    env.sign_in();
    let toml = std::fs::read_to_string(env.config_path()).unwrap();
    let with_window = |a: &str, b: &str| {
        let text = format!("{toml}\n[sync]\nstart = \"{a}\"\nend = \"{b}\"\n");
        std::sync::Arc::new(
            deltacal::config::Config::from_toml(&text, None, env.data_dir()).unwrap(),
        )
    };
    let wide = deltacal::sync::SyncEngine::from_config(with_window(
        "2016-12-01T00:00:00Z",
        "2016-12-30T00:00:00Z",
    ))
    .unwrap();
    let cal = env.config.calendars[0].clone();
    wide.sync_view(&cal).await.unwrap();
    assert_eq!(env.cache("default").len(), 2);
    drop(wide);
    let narrow = deltacal::sync::SyncEngine::from_config(with_window(
        "2016-12-01T00:00:00Z",
        "2016-12-10T00:00:00Z",
    ))
    .unwrap();
    let summary = narrow.sync_view(&cal).await.unwrap();
    assert!(summary.full, "a new window starts with a full round");
    assert_eq!(summary.counts.removed, 1);
    let left: Vec<String> = Store::open(&env.config.cache_path())
        .unwrap()
        .events_overlapping(
            None,
            "2016-01-01T00:00:00Z".parse().unwrap(),
            "2017-01-01T00:00:00Z".parse().unwrap(),
        )
        .unwrap()
        .into_iter()
        .map(|c| c.event.subject.unwrap())
        .collect();
    assert_eq!(left, ["early"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_calendars_are_tracked_independently() {
    let env = Env::start(EnvOptions {
        events: 80,
        calendars: 3,
        ..Default::default()
    })
    .await;
    env.sign_in();
    let engine = env.engine();
    assert_eq!(
        env.config.calendars.len(),
        3,
        "the default calendar and two more"
    );
    for (cal, result) in engine.sync_all().await {
        result.unwrap_or_else(|e| panic!("{}: {e}", cal.key));
    }
    env.control(Method::POST, "/sim/churn?count=30&seed=9", None)
        .await;
    for (_, result) in engine.sync_all().await {
        result.unwrap();
    }
    for cal in env.config.calendars.iter() {
        env.assert_converged(&cal.key).await;
        assert!(!env.cache(&cal.key).is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_describe_each_round() {
    let env = Env::start(EnvOptions {
        events: 25,
        page_size: 10,
        ..Default::default()
    })
    .await;
    env.sign_in();
    let engine = env.engine();
    let mut rx = engine.subscribe();
    let cal = env.config.calendars[0].clone();
    let summary = engine.sync_view(&cal).await.unwrap();
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    assert_eq!(
        events.first(),
        Some(&SyncEvent::RoundStarted {
            view: "default".into(),
            full: true
        })
    );
    let pages: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, SyncEvent::PageApplied { .. }))
        .collect();
    assert_eq!(pages.len() as u64, summary.counts.pages);
    let added: u64 = events
        .iter()
        .map(|e| match e {
            SyncEvent::PageApplied { added, range, .. } => {
                if *added > 0 {
                    assert!(range.is_some());
                }
                *added
            }
            _ => 0,
        })
        .sum();
    assert_eq!(added, summary.counts.added);
    assert_eq!(events.last(), Some(&SyncEvent::RoundFinished(summary)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_to_another_origin_fails_without_sending_the_token() {
    let env = Env::start(EnvOptions {
        events: 30,
        page_size: 5,
        ..Default::default()
    })
    .await;
    env.sign_in();
    let engine = env.engine();
    let cal = env.config.calendars[0].clone();
    let trap = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    trap.set_nonblocking(true).unwrap();
    let port = trap.local_addr().unwrap().port();
    for target in [
        format!("http://127.0.0.1:{port}"),
        "http://evil.example.com".into(),
        format!("https://127.0.0.1:{port}"),
    ] {
        env.fault(json!({"kind": "foreign_link", "target": target, "skip": 1}))
            .await;
        let result = engine.sync_view(&cal).await;
        assert!(
            matches!(
                result,
                Err(SyncError::Graph(GraphError::ForeignLink { .. }))
            ),
            "{result:?}"
        );
        assert!(
            result
                .unwrap_err()
                .to_string()
                .contains("refusing to follow")
        );
        // Any connection attempt would be waiting in the trap's backlog by now.
        assert!(trap.accept().is_err(), "the client connected to {target}");
        env.control(Method::DELETE, "/sim/faults", None).await;
    }
    // The cache and the saved link stayed valid: the next round completes.
    engine.sync_view(&cal).await.unwrap();
    env.assert_converged("default").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_out_rounds_fail_asking_for_sign_in() {
    let env = Env::start(EnvOptions::default()).await;
    let engine = env.engine();
    let err = engine
        .sync_view(&env.config.calendars[0])
        .await
        .unwrap_err();
    assert!(err.needs_sign_in());
    assert!(err.to_string().contains("deltacal login"));
    // A refresh token the server no longer knows: sign in again.
    env.sign_in();
    let engine = env.engine();
    env.control(Method::POST, "/sim/revoke-access-tokens", None)
        .await;
    let mut tokens = deltacal::auth::tokens::load(&env.config.token_path())
        .unwrap()
        .unwrap();
    tokens.refresh_token = Some("0.AAAAsimunknown".into());
    deltacal::auth::tokens::save(&env.config.token_path(), &tokens).unwrap();
    engine.session().reload().await.unwrap();
    let err = engine
        .sync_view(&env.config.calendars[0])
        .await
        .unwrap_err();
    assert!(err.needs_sign_in(), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looping_round_stops_with_one_line_and_the_next_starts_afresh() {
    let env = Env::start(EnvOptions {
        events: 60,
        page_size: 5,
        ..Default::default()
    })
    .await;
    env.sign_in();
    let engine = env.engine();
    let cal = env.config.calendars[0].clone();
    engine.sync_view(&cal).await.unwrap();
    let before = env.cache("default");
    env.control(Method::POST, "/sim/expire-sync-state", None)
        .await;
    // Far more repeated pages than the guard lets through: the round must not run forever.
    env.fault(json!({"kind": "loop", "count": 1000, "skip": 2}))
        .await;
    let err = engine.sync_view(&cal).await.unwrap_err();
    assert!(
        matches!(err, SyncError::Stalled(Stall::Looping(_))),
        "{err}"
    );
    assert_eq!(err.to_string().lines().count(), 1);
    assert_eq!(env.cache("default"), before, "the cache is kept");
    let state = Store::open(&env.config.cache_path())
        .unwrap()
        .sync_state("default")
        .unwrap()
        .unwrap();
    assert_eq!(state.cursor.link, None, "the next round starts afresh");
    env.control(Method::DELETE, "/sim/faults", None).await;
    let summary = engine.sync_view(&cal).await.unwrap();
    assert!(summary.full);
    env.assert_converged("default").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_carry_their_kind_to_the_notification() {
    let env = Env::start(EnvOptions {
        events: 20,
        ..Default::default()
    })
    .await;
    env.sign_in();
    let toml = std::fs::read_to_string(env.config_path()).unwrap();
    let cal = env.config.calendars[0].clone();

    // Throttled: the emulator keeps answering 429.
    let engine = env.engine();
    let mut events = engine.subscribe();
    env.fault(json!({"status": 429, "retry_after": 0, "count": 50}))
        .await;
    let err = engine.sync_view(&cal).await.unwrap_err();
    assert_eq!(err.kind(), FailureKind::Throttled, "{err}");
    env.control(Method::DELETE, "/sim/faults", None).await;
    let failed = loop {
        if let SyncEvent::Failed { kind, .. } = events.recv().await.unwrap() {
            break kind;
        }
    };
    assert_eq!(failed, FailureKind::Throttled);
    drop(engine);

    // Offline: nothing listens where Graph should be.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let text = toml.replace(
        &env.config.graph.base_url.origin().ascii_serialization(),
        &format!("http://127.0.0.1:{port}"),
    );
    let text = text.replace("max_attempts = 8", "max_attempts = 1");
    let config = deltacal::config::Config::from_toml(&text, None, env.data_dir()).unwrap();
    let err = deltacal::sync::SyncEngine::from_config(std::sync::Arc::new(config))
        .unwrap()
        .sync_view(&cal)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), FailureKind::Offline, "{err}");
}

/// Graph requests the emulator has served.
async fn graph_requests(env: &Env) -> u64 {
    let (_, body) = env.control(Method::GET, "/sim/stats", None).await;
    serde_json::from_str::<Value>(&body).unwrap()["graph_requests"]
        .as_u64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rolling_window_moves_once_in_four_weeks_not_daily() {
    let env = Env::start(EnvOptions {
        events: 300,
        page_size: 20,
        ..Default::default()
    })
    .await;
    env.sign_in();
    let engine = env.engine();
    let cal = env.config.calendars[0].clone();
    let today = chrono::Utc::now().date_naive();
    // The anchor day falls inside the days below, and series churn before it: the masters the
    // re-anchoring round keeps must be the server's.
    engine.set_today(Some(today));
    let before = graph_requests(&env).await;
    assert!(engine.sync_view(&cal).await.unwrap().full);
    let full = graph_requests(&env).await - before;
    let before = graph_requests(&env).await;
    engine.sync_view(&cal).await.unwrap();
    let quiet = graph_requests(&env).await - before;
    let mut per_day = Vec::new();
    let mut full_rounds = 0;
    for day in 1..=56 {
        env.control(
            Method::POST,
            &format!("/sim/churn?count=3&seed={day}&series={}", day % 2 == 0),
            None,
        )
        .await;
        engine.set_today(Some(today + chrono::Duration::days(day)));
        let before = graph_requests(&env).await;
        let summary = engine.sync_view(&cal).await.unwrap();
        full_rounds += usize::from(summary.full);
        per_day.push(graph_requests(&env).await - before);
    }
    assert_eq!(full_rounds, 2, "one re-anchoring in 28 days: {per_day:?}");
    let extra: u64 = per_day.iter().map(|r| r - quiet).sum();
    let churn_rounds: u64 = 56; // each day's round carries its churn: a page or a few
    assert!(
        extra.saturating_sub(churn_rounds * 2) * 100 <= full * 56 * 5,
        "the window's moving cost {extra} requests over 56 days; a full round is {full}: {per_day:?}"
    );
    // The cache holds what the server lists for the window it was last synced for.
    drop(engine);
    let window = env
        .config
        .sync
        .window
        .on(today + chrono::Duration::days(56));
    assert_eq!(
        env.cache("default"),
        env.truth_in("default", window).await,
        "after re-anchoring twice, the cache is the server's window"
    );
}

/// A 429 with Retry-After, and a 503 backing off, are announced with when the request goes on,
/// so the status bar can say "throttled by the server, retry at …" instead of "syncing page 1".
#[tokio::test]
async fn waits_before_retries_are_announced() {
    let env = Env::start(EnvOptions::default()).await;
    env.sign_in();
    let engine = env.engine();
    let mut events = engine.subscribe();
    env.fault(json!({"status": 429, "retry_after": 1, "count": 1}))
        .await;
    let asked = chrono::Utc::now();
    engine.sync_view(&env.config.calendars[0]).await.unwrap();
    let mut waits = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let SyncEvent::Waiting { until, kind, .. } = event {
            waits.push((until, kind));
        }
    }
    assert_eq!(waits.len(), 1, "{waits:?}");
    let (until, kind) = waits[0];
    assert_eq!(kind, FailureKind::Throttled);
    assert!(
        until >= asked + chrono::Duration::milliseconds(900),
        "{until} after {asked}"
    );
    env.assert_converged("default").await;
}
