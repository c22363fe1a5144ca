//! Everyone's calendars through the client: a colleague's shared calendar, a delegated room
//! whose delta refuses its links, a group's calendar by listing, and each refusal of section 9
//! named on its own calendar while the others sync.

#![allow(clippy::unwrap_used)]
#![cfg(feature = "emulator")]

mod common;

use common::{Env, EnvOptions};
use deltacal::sim::people::{ON_PREMISES, OTHER_GROUP, ROOM, TEAM_GROUP};
use reqwest::Method;

const SHARED: &str = "offline_access Calendars.Read Calendars.Read.Shared Group.Read.All User.Read";

fn extra() -> String {
    format!(
        "[sync]\ngroup_interval_secs = 0\n\n\
         [[calendars]]\nid = \"default\"\nname = \"Mine\"\n\n\
         [[calendars]]\nuser = \"alexw@contoso.com\"\nname = \"Alex\"\n\n\
         [[calendars]]\nuser = \"{ROOM}\"\nname = \"Room\"\n\n\
         [[calendars]]\ngroup = \"{TEAM_GROUP}\"\nname = \"Team\"\n\n\
         [[calendars]]\ngroup = \"{OTHER_GROUP}\"\nname = \"Finance\"\n\n\
         [[calendars]]\nuser = \"nobody@contoso.com\"\nname = \"Nobody\"\n\n\
         [[calendars]]\nuser = \"{ON_PREMISES}\"\nname = \"Legacy\"\n"
    )
}

async fn converged(env: &Env, view: &str, mailbox: Option<&str>) {
    let truth = env.truth_of(mailbox, "default", env.window()).await;
    let cache = env.cache(view);
    assert!(!truth.is_empty(), "{view}: the server has events");
    assert_eq!(
        cache, truth,
        "{view}: cache differs from the server's truth"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shared_room_and_group_calendars_sync_and_each_failure_is_its_own() {
    let env = Env::start(EnvOptions {
        page_size: 2,
        extra: extra(),
        ..EnvOptions::default()
    })
    .await;
    env.sign_in_scoped(SHARED);
    let engine = env.engine();
    let alex = "user:alexw@contoso.com/default";
    let room = format!("user:{ROOM}/default");
    let team = format!("group:{TEAM_GROUP}");
    for round in 0..2 {
        let results = engine.sync_all().await;
        let outcome = |name: &str| {
            results
                .iter()
                .find(|(c, _)| c.name == name)
                .map(|(_, r)| r.as_ref().map_err(ToString::to_string))
                .unwrap()
        };
        for name in ["Mine", "Alex", "Room", "Team"] {
            assert!(
                outcome(name).is_ok(),
                "round {round}: {name}: {:?}",
                outcome(name)
            );
        }
        assert!(outcome("Team").unwrap().listed);
        // The room answers its first page and refuses the link after it: listed from then on.
        assert!(outcome("Room").unwrap().listed, "round {round}");
        let failure = |name: &str| outcome(name).unwrap_err();
        assert!(
            failure("Finance").contains("not a member"),
            "{}",
            failure("Finance")
        );
        assert!(
            failure("Nobody").contains("no such user")
                && failure("Nobody").contains("ErrorInvalidUser"),
            "{}",
            failure("Nobody")
        );
        assert!(
            failure("Legacy").contains("on premises"),
            "{}",
            failure("Legacy")
        );
        converged(&env, "default", None).await;
        converged(&env, alex, Some("alexw@contoso.com")).await;
        converged(&env, &room, Some(ROOM)).await;
        converged(&env, &team, Some(TEAM_GROUP)).await;
        // Changes on every side; deletions in the group's calendar go by the sweep.
        for mailbox in ["alexw@contoso.com", ROOM, TEAM_GROUP] {
            let (status, body) = env
                .control(
                    Method::POST,
                    &format!("/sim/churn?count=15&seed={round}&mailbox={mailbox}"),
                    None,
                )
                .await;
            assert!(status.is_success(), "{body}");
        }
    }
    engine.sync_all().await;
    // `status` names each failure on its calendar, and whose each calendar is.
    let status = deltacal::commands::status::gather(&env.config, chrono::Utc::now()).unwrap();
    let of = |name: &str| status.calendars.iter().find(|c| c.name == name).unwrap();
    assert!(
        of("Finance")
            .failure
            .as_deref()
            .unwrap()
            .contains("not a member")
    );
    assert_eq!(of("Finance").owner, format!("group:{OTHER_GROUP}"));
    assert_eq!(of("Alex").owner, "alexw@contoso.com");
    assert_eq!(of("Alex").failure, None);
    assert_eq!(of("Room").state, Some("listed"));
    let mut text = Vec::new();
    deltacal::commands::status::write(&env.config, false, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("failed:") && text.contains("no such user"),
        "{text}"
    );
    // Alex's meetings are his: not your invitations, not your next meeting, no reminders.
    let now = chrono::Utc::now();
    assert!(!env.cache(alex).is_empty());
    let (invites, _) = deltacal::commands::invites::find(&env.config, now).unwrap();
    assert!(
        invites.iter().all(|i| i.event.view.as_str() == "default"),
        "only your own invitations"
    );
    let next = deltacal::commands::next::find(&env.config, now).unwrap();
    for c in [next.current, next.next].into_iter().flatten() {
        assert_eq!(c.view.as_str(), "default", "{c:?}");
    }
    assert_eq!(
        env.config.own_views(),
        vec![deltacal::model::ViewKey::from("default")]
    );
    converged(&env, alex, Some("alexw@contoso.com")).await;
    converged(&env, &room, Some(ROOM)).await;
    converged(&env, &team, Some(TEAM_GROUP)).await;

    // `calendars` lists what each colleague shares, with the lines that sync it.
    let out = std::process::Command::new(common::bin())
        .arg("calendars")
        .env("DELTACAL_CONFIG", env.config_path())
        .env("DELTACAL_DATA_DIR", env.data_dir())
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.contains("Shared with you by alexw@contoso.com:"),
        "{shown}"
    );
    assert!(shown.contains("user = \"alexw@contoso.com\""), "{shown}");
    assert!(
        shown.contains("owner Alex Wilber <alexw@contoso.com>"),
        "{shown}"
    );
    assert!(
        shown.contains("Shared with you by nobody@contoso.com:\n  cannot be listed"),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sign_in_without_the_shared_scope_is_told_to_sign_in_again() {
    let env = Env::start(EnvOptions {
        extra: extra(),
        ..EnvOptions::default()
    })
    .await;
    env.sign_in();
    let results = env.engine().sync_all().await;
    let (_, alex) = results.iter().find(|(c, _)| c.name == "Alex").unwrap();
    let message = alex.as_ref().unwrap_err().to_string();
    assert!(
        message.contains("not shared with you") && message.contains("deltacal login"),
        "{message}"
    );
    let (_, mine) = results.iter().find(|(c, _)| c.name == "Mine").unwrap();
    assert!(mine.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn free_finds_when_everyone_is_free_within_working_hours() {
    let env = Env::start(EnvOptions::default()).await;
    env.sign_in();
    // Monday 3 March 2031, far from the generated events: you are busy 10-11, Alex 13-14,
    // both work 08-17 UTC.
    for (mailbox, start, end) in [
        ("samanthab@contoso.com", "10:00", "11:00"),
        ("alexw@contoso.com", "13:00", "14:00"),
    ] {
        let event = serde_json::json!({"subject": "Busy",
            "start": {"dateTime": format!("2031-03-03T{start}:00"), "timeZone": "UTC"},
            "end": {"dateTime": format!("2031-03-03T{end}:00"), "timeZone": "UTC"}});
        let (status, body) = env
            .control(
                Method::POST,
                &format!("/sim/events?mailbox={mailbox}"),
                Some(event),
            )
            .await;
        assert!(status.is_success(), "{body}");
    }
    let config = env.config_path();
    let data = env.data_dir();
    let run = |args: &[&str]| {
        std::process::Command::new(common::bin())
            .args(args)
            .env("DELTACAL_CONFIG", &config)
            .env("DELTACAL_DATA_DIR", &data)
            .output()
            .unwrap()
    };
    let out = run(&[
        "free",
        "alexw@contoso.com",
        "--from",
        "2031-03-03",
        "--to",
        "2031-03-03",
        "--json",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let slots: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        slots,
        serde_json::json!([
            {"start": "2031-03-03T08:00:00Z", "end": "2031-03-03T10:00:00Z"},
            {"start": "2031-03-03T11:00:00Z", "end": "2031-03-03T13:00:00Z"},
            {"start": "2031-03-03T14:00:00Z", "end": "2031-03-03T17:00:00Z"}
        ])
    );
    // An unknown address is named; the others still count. A long range takes two requests.
    env.control(Method::DELETE, "/sim/requests", None).await;
    let out = run(&[
        "free",
        "alexw@contoso.com",
        "nobody@contoso.com",
        "--from",
        "2031-03-03",
        "--to",
        "2031-05-20",
        "--duration",
        "150m",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("Mon 3 Mar  14:00–17:00  (3 h)"), "{stdout}");
    assert!(!stdout.contains("Mon 3 Mar  08:00"), "{stdout}");
    assert!(!stdout.contains("11:00–13:00"), "{stdout}");
    assert!(stdout.contains("Tue 20 May  08:00–17:00"), "{stdout}");
    assert!(
        stdout.contains("not counted: nobody@contoso.com"),
        "{stdout}"
    );
    let (_, requests) = env.control(Method::GET, "/sim/requests", None).await;
    assert_eq!(requests.matches("getSchedule").count(), 2, "{requests}");
    // Personal accounts have no getSchedule: said before anything is sent.
    let personal = env.config_path().with_file_name("personal.toml");
    std::fs::write(
        &personal,
        std::fs::read_to_string(&config)
            .unwrap()
            .replace("[account]\n", "[account]\ntenant = \"consumers\"\n"),
    )
    .unwrap();
    let out = std::process::Command::new(common::bin())
        .args(["free", "alexw@contoso.com"])
        .env("DELTACAL_CONFIG", &personal)
        .env("DELTACAL_DATA_DIR", &data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not available for personal accounts"));
}

/// Rounds of different calendars run side by side, and never more than four requests at once
/// reach one mailbox: the emulator counts them in flight per mailbox and throttles a fifth,
/// so one refused request would fail this.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn side_by_side_rounds_never_send_a_mailbox_five_requests_at_once() {
    let env = Env::start(EnvOptions {
        calendars: 6,
        events: 200,
        page_size: 5,
        extra: "[[calendars]]\nuser = \"alexw@contoso.com\"\nname = \"Alex\"\n".into(),
        ..EnvOptions::default()
    })
    .await;
    env.sign_in_scoped(SHARED);
    env.sim
        .handle()
        .set_latency(std::time::Duration::from_millis(20));
    for (cal, result) in env.engine().sync_all().await {
        assert!(result.is_ok(), "{}: {result:?}", cal.name);
    }
    let (_, stats) = env.control(Method::GET, "/sim/stats", None).await;
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(stats["concurrency_refused"], 0, "{stats}");
    let most = stats["max_in_flight"].as_u64().unwrap();
    assert!((2..=4).contains(&most), "{stats}");
}

mod converge {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[derive(Debug, Clone)]
    enum Op {
        /// Changes in the user's, Alex's or the group's calendar.
        Churn {
            whose: usize,
            count: usize,
            seed: u64,
        },
        Fault(serde_json::Value),
        ExpireSyncState,
        /// Every access token refused: each account refreshes its own.
        RevokeAccessTokens,
        Round,
    }

    const WHOSE: [Option<&str>; 4] = [
        None,
        Some("alexw@contoso.com"),
        Some(TEAM_GROUP),
        Some(deltacal::sim::identity::PERSONAL_MAIL),
    ];

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0usize..4, 1usize..20, any::<u64>())
                .prop_map(|(whose, count, seed)| Op::Churn { whose, count, seed }),
            2 => (prop_oneof![
                    Just(json!({"status": 503})),
                    Just(json!({"status": 429, "retry_after": 0})),
                    Just(json!({"kind": "drop"})),
                    Just(json!({"kind": "malformed"})),
                    Just(json!({"status": 410})),
                ], 1u32..3, 0u32..4)
                .prop_map(|(mut f, count, skip)| {
                    f["count"] = json!(count);
                    f["skip"] = json!(skip);
                    Op::Fault(f)
                }),
            1 => Just(Op::ExpireSyncState),
            1 => Just(Op::RevokeAccessTokens),
            3 => Just(Op::Round),
        ]
    }

    async fn run_case(ops: Vec<Op>, seed: u64) {
        let env = Env::start(EnvOptions {
            events: 40,
            seed,
            page_size: 5,
            extra: format!(
                "[sync]\ngroup_interval_secs = 0\n\n\
                 [accounts.personal]\ntenant = \"consumers\"\nauthority = \"{{SIM}}\"\nclient_id = \"test-client\"\n\n\
                 [[calendars]]\nid = \"default\"\n\n\
                 [[calendars]]\nuser = \"alexw@contoso.com\"\n\n\
                 [[calendars]]\ngroup = \"{TEAM_GROUP}\"\n\n\
                 [[calendars]]\naccount = \"personal\"\nid = \"default\"\n"
            ),
            ..EnvOptions::default()
        })
        .await;
        env.sign_in_scoped(SHARED);
        env.sign_in_personal("personal");
        let engine = env.engine();
        let _ = engine.sync_all().await;
        for op in ops {
            match op {
                Op::Churn { whose, count, seed } => {
                    let mailbox = WHOSE[whose].map_or(String::new(), |m| format!("&mailbox={m}"));
                    env.control(
                        Method::POST,
                        &format!("/sim/churn?count={count}&seed={seed}{mailbox}"),
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
                Op::Round => {
                    let _ = engine.sync_all().await;
                }
            }
        }
        env.control(Method::DELETE, "/sim/faults", None).await;
        for (cal, result) in engine.sync_all().await {
            assert!(
                result.is_ok(),
                "{}: final round failed: {result:?}",
                cal.key
            );
        }
        for (view, mailbox) in [
            ("default".to_owned(), None),
            (
                "user:alexw@contoso.com/default".to_owned(),
                Some("alexw@contoso.com"),
            ),
            (format!("group:{TEAM_GROUP}"), Some(TEAM_GROUP)),
            (
                "account:personal/default".to_owned(),
                Some(deltacal::sim::identity::PERSONAL_MAIL),
            ),
        ] {
            let truth = env.truth_of(mailbox, "default", env.window()).await;
            assert_eq!(
                env.cache(&view),
                truth,
                "{view}: cache differs from the server"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 20, ..ProptestConfig::default() })]

        /// Your calendar, a colleague's shared with you and a group's, under churn on every
        /// side and faults: after the final round each cache equals that server's truth.
        #[test]
        fn everyone_s_calendars_converge_whatever_happens(ops in proptest::collection::vec(op(), 1..10), seed in 0u64..1000) {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(run_case(ops, seed));
        }
    }
}

/// A second account (`[accounts.personal]`, a personal Microsoft account through the
/// `consumers` tenant) signs in on its own with `login --account`, keeps its own token file,
/// and its calendar syncs beside the main account's; until it is signed in, its calendar
/// alone says so, with the command.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_account_signs_in_on_its_own_and_syncs_beside_the_first() {
    use std::io::BufRead;
    let env = Env::start(EnvOptions::default()).await;
    let url = env.sim.url();
    let text = std::fs::read_to_string(env.config_path()).unwrap()
        + &format!(
            "\n[accounts.personal]\ntenant = \"consumers\"\nauthority = \"{url}\"\nclient_id = \"test-client\"\n\n\
             [[calendars]]\nid = \"default\"\nname = \"Work\"\n\n\
             [[calendars]]\naccount = \"personal\"\nid = \"default\"\nname = \"Personal\"\n"
        );
    std::fs::write(env.config_path(), &text).unwrap();
    let config = std::sync::Arc::new(
        deltacal::config::Config::load(Some(&env.config_path()), Some(&env.data_dir())).unwrap(),
    );
    env.sign_in();
    let engine = deltacal::sync::SyncEngine::from_config(config.clone()).unwrap();
    let results = engine.sync_all().await;
    assert!(results[0].1.is_ok(), "{:?}", results[0].1);
    let personal = results[1].1.as_ref().unwrap_err().to_string();
    assert!(
        personal.contains("deltacal login --account personal"),
        "{personal}"
    );
    drop(engine);

    // `login --account personal`: the device code, approved at the emulator.
    let mut child = std::process::Command::new(common::bin())
        .args(["login", "--account", "personal"])
        .env("DELTACAL_CONFIG", env.config_path())
        .env("DELTACAL_DATA_DIR", env.data_dir())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let code = line.trim().rsplit(' ').next().unwrap().to_owned();
    let approve = env
        .http
        .post(format!("{url}/sim/approve"))
        .form(&[("user_code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert!(approve.status().is_success());
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let own = env.data_dir().join("tokens-personal.json");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&own).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let saved = std::fs::read_to_string(&own).unwrap();
    assert!(
        saved.contains("sam.booth@outlook.com"),
        "the personal account"
    );
    assert!(
        !saved.contains("\"eyJ"),
        "a personal account's access token is opaque"
    );
    assert!(
        std::fs::read_to_string(env.data_dir().join("tokens.json"))
            .unwrap()
            .contains("samanthab"),
        "the main account's tokens are its own"
    );

    // Both sync, each from its own mailbox.
    let engine = deltacal::sync::SyncEngine::from_config(config.clone()).unwrap();
    for (cal, result) in engine.sync_all().await {
        assert!(result.is_ok(), "{}: {result:?}", cal.key);
    }
    let truth = env
        .truth_of(
            Some(deltacal::sim::identity::PERSONAL_MAIL),
            "default",
            env.window(),
        )
        .await;
    assert!(!truth.is_empty());
    assert_eq!(env.cache("account:personal/default"), truth);
    assert_eq!(env.cache("default"), env.truth("default").await);
    let status = deltacal::commands::status::gather(&config, chrono::Utc::now()).unwrap();
    assert_eq!(status.accounts.len(), 1);
    assert!(status.accounts[0].signed_in);
    assert_eq!(status.accounts[0].tenant, "consumers");
    // A change to the personal calendar is refused with why (the main account's only, so far).
    let cached = env.cache("account:personal/default");
    let id = cached.keys().next().unwrap();
    let out = std::process::Command::new(common::bin())
        .args(["delete", id])
        .env("DELTACAL_CONFIG", env.config_path())
        .env("DELTACAL_DATA_DIR", env.data_dir())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("[accounts.personal]"));

    // `logout --account personal` signs out that account alone.
    let out = std::process::Command::new(common::bin())
        .args(["logout", "--account", "personal"])
        .env("DELTACAL_CONFIG", env.config_path())
        .env("DELTACAL_DATA_DIR", env.data_dir())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!own.exists());
    assert!(env.data_dir().join("tokens.json").exists());
}
