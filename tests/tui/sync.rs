//! The sync and the sign-in as the status bar tells them, and notifications from the cache.

use super::*;

#[test]
fn refresh_sign_in_help_and_quit() {
    let mut a = app((80, 24));
    assert_eq!(a.update(ch('r')), vec![Effect::RefreshNow]);
    // Signed in already: `s` asks before a new sign-in replaces the account; Esc keeps it.
    assert_eq!(a.update(ch('s')), vec![]);
    let screen = render(&a);
    assert!(
        screen.contains("You are signed in as Samantha Booth")
            && screen.contains("s signs in again"),
        "{screen}"
    );
    a.update(key(KeyCode::Esc));
    assert_eq!(a.signin, SignIn::Hidden);
    a.update(ch('s'));
    assert_eq!(a.update(ch('s')), vec![Effect::StartSignIn]);
    assert_eq!(a.signin, SignIn::Requesting);
    a.update(key(KeyCode::Esc));
    assert_eq!(a.signin, SignIn::Hidden);
    a.update(ch('?'));
    assert_eq!(a.top(), Some(OverlayKind::Help));
    a.update(ch('j'));
    assert_eq!(a.top(), Some(OverlayKind::Help), "help swallows other keys");
    a.update(ch('?'));
    assert_eq!(a.top(), None);
    assert!(a.update(ch('q')).is_empty());
    assert!(a.quit);
    let mut b = app((80, 24));
    b.update(ch('?'));
    b.update(Action::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    )));
    assert!(b.quit, "Ctrl-C quits, even from an overlay");
    // Requests reach the background as messages.
    let effects = a.update(ch('r'));
    run_effects(&mut a, effects);
    assert_eq!(a.requests.try_recv(), Ok(Request::SyncNow));
}

/// Another process's commit reloads the days it changed that are on screen, and leaves the
/// status bar's sync state (this process's own) as it was; one too far behind reloads all.
#[test]
fn another_processs_commits_reload_what_they_changed() {
    let mut a = app((80, 24));
    let changed = |range| {
        Action::Sync(SyncEvent::CacheChanged {
            view: Some("default".into()),
            range,
        })
    };
    let before = a.sync.state.clone();
    let inside = (Utc::now().min(now()), now() + chrono::Duration::hours(1));
    let effects = a.update(changed(Some(inside)));
    assert!(
        effects.iter().any(|e| matches!(e, Effect::LoadDays { .. })),
        "{effects:?}"
    );
    assert_eq!(a.sync.state, before);
    let far = (
        "2027-06-01T00:00:00Z".parse().unwrap(),
        "2027-06-02T00:00:00Z".parse().unwrap(),
    );
    assert!(a.update(changed(Some(far))).is_empty());
    assert!(a.update(changed(None)).is_empty(), "nothing shown changed");
    let everything = a.update(Action::Sync(SyncEvent::CacheChanged {
        view: None,
        range: None,
    }));
    assert_eq!(everything.len(), 1, "{everything:?}");
}

#[test]
fn notifications_reload_only_what_is_visible() {
    let mut a = app((80, 24));
    let inside = (Utc::now().min(now()), now() + chrono::Duration::hours(1));
    let far = (
        "2027-06-01T00:00:00Z".parse().unwrap(),
        "2027-06-02T00:00:00Z".parse().unwrap(),
    );
    let page = |range| {
        Action::Sync(SyncEvent::PageApplied {
            view: "default".into(),
            page: 0,
            range: Some(range),
            added: 1,
            updated: 0,
            removed: 0,
        })
    };
    assert_eq!(
        a.update(page(inside)).len(),
        1,
        "a change on screen reloads"
    );
    assert!(
        a.update(page(far)).is_empty(),
        "a change elsewhere does not"
    );
    assert_eq!(
        a.sync.state,
        SyncActivity::Syncing {
            view: "default".into(),
            page: 0
        }
    );
    let summary = RoundSummary {
        view: "default".into(),
        name: "Calendar".into(),
        counts: RoundCounts {
            added: 1,
            ..Default::default()
        },
        seconds: 0.1,
        full: false,
        by_another: false,
        listed: false,
        next_listing: None,
    };
    a.update(Action::Sync(SyncEvent::RoundFinished(summary)));
    assert_eq!(a.sync.state, SyncActivity::Idle);
    // Sign-in needed starts the in-app sign-in once.
    let needs = Action::Sync(SyncEvent::Failed {
        view: "default".into(),
        message: "x".into(),
        kind: FailureKind::SignInNeeded,
    });
    assert_eq!(a.update(needs.clone()), vec![Effect::StartSignIn]);
    assert!(a.update(needs).is_empty());
    assert_eq!(
        a.update(Action::SignIn(SignInUpdate::Done {
            account: Some("A".into())
        })),
        vec![Effect::RefreshNow]
    );
    assert_eq!(a.signin, SignIn::Hidden);
    a.update(Action::SignIn(SignInUpdate::Failed("declined".into())));
    assert_eq!(a.signin, SignIn::Failed("declined".into()));
    // A device flow refused by policy: the browser flow starts, and the panel says so.
    assert_eq!(
        a.update(Action::SignIn(SignInUpdate::DeviceRefused)),
        vec![Effect::StartBrowserSignIn]
    );
    a.update(Action::SignIn(SignInUpdate::BrowserUrl {
        url: "https://login.example/authorize?x=1".into(),
        opened: true,
    }));
    assert!(
        render(&a).contains("Sign in in your browser"),
        "{}",
        render(&a)
    );
}

#[test]
fn a_failing_calendar_stays_on_the_status_bar_and_rounds_add_up() {
    let mut a = app((120, 24));
    let summary = |view: &str, added| RoundSummary {
        view: view.into(),
        name: view.into(),
        counts: RoundCounts {
            added,
            ..Default::default()
        },
        seconds: 0.1,
        full: false,
        by_another: false,
        listed: false,
        next_listing: None,
    };
    a.update(Action::Sync(SyncEvent::Failed {
        view: "AAMkTeam=".into(),
        message: "calendar not found".into(),
        kind: FailureKind::Refused,
    }));
    // Another calendar's success does not hide it.
    a.update(Action::Sync(SyncEvent::RoundFinished(summary(
        "default", 3,
    ))));
    assert_eq!(
        a.sync.state,
        SyncActivity::Error("Team: calendar not found".into())
    );
    a.update(Action::Sync(SyncEvent::Failed {
        view: "default".into(),
        message: "could not connect".into(),
        kind: FailureKind::Offline,
    }));
    assert_eq!(
        a.sync.state,
        SyncActivity::Error(
            "2 calendars failing: Calendar: could not connect · Team: calendar not found".into()
        )
    );
    // A retry waiting shows with its time.
    a.update(Action::Sync(SyncEvent::RetryAt {
        at: now() + chrono::Duration::seconds(30),
    }));
    assert!(render(&a).contains("retry in 30 s"), "{}", render(&a));
    // Each calendar's success clears its own failure; the counts of every last round add up.
    a.update(Action::Sync(SyncEvent::RoundFinished(summary(
        "AAMkTeam=",
        4,
    ))));
    a.update(Action::Sync(SyncEvent::RoundFinished(summary(
        "default", 5,
    ))));
    assert_eq!(a.sync.state, SyncActivity::Idle);
    assert_eq!(a.sync.last_counts().unwrap().added, 9);
    assert!(render(&a).contains("(+9 ~0 −0)"));
}

/// A round waiting out the server's Retry-After says so on the status bar, with when it goes
/// on, and `r` explains why it does not sync now instead of seeming to do nothing.
#[test]
fn a_throttled_round_says_until_when_and_r_says_why() {
    let mut a = app((120, 24));
    let until = now() + chrono::Duration::minutes(5);
    a.update(Action::Sync(SyncEvent::Waiting {
        until,
        kind: FailureKind::Throttled,
        reason: "HTTP 429 ApplicationThrottled: slow down".into(),
    }));
    let at = deltacal::days::clock(&a.config.display, until);
    let screen = render(&a);
    assert!(
        screen.contains(&format!("throttled by the server, retry at {at}")),
        "{screen}"
    );
    assert!(a.update(ch('r')).is_empty(), "no round can go sooner");
    assert!(
        a.note.as_deref().is_some_and(|n| n.contains(&at)),
        "{:?}",
        a.note
    );
    // A server error backing off is said the same way.
    a.update(Action::Sync(SyncEvent::Waiting {
        until,
        kind: FailureKind::Server,
        reason: "HTTP 503".into(),
    }));
    assert!(render(&a).contains(&format!("server trouble, retry at {at}")));
    // The next page ends the wait.
    a.update(Action::Sync(SyncEvent::PageApplied {
        view: "default".into(),
        page: 1,
        range: None,
        added: 0,
        updated: 0,
        removed: 0,
    }));
    assert!(matches!(a.sync.state, SyncActivity::Syncing { .. }));
}

/// When Graph refuses the tokens of a sign-in that just succeeded, the app does not start
/// another at once (each would bring a new code, over and over): it says so and waits for `s`.
#[test]
fn a_sign_in_refused_right_after_it_is_not_started_again_by_itself() {
    let mut a = app((80, 24));
    let refused = Action::Sync(SyncEvent::Failed {
        view: "default".into(),
        message: "sign-in expired".into(),
        kind: FailureKind::SignInNeeded,
    });
    assert_eq!(a.update(refused.clone()), vec![Effect::StartSignIn]);
    assert_eq!(
        a.update(Action::SignIn(SignInUpdate::Done { account: None })),
        vec![Effect::RefreshNow]
    );
    assert!(a.update(refused).is_empty(), "no new sign-in by itself");
    assert!(a.note.as_deref().is_some_and(|n| n.contains("refuses")));
    assert_eq!(a.update(ch('s')), vec![Effect::StartSignIn]);
}

/// Offline, the bar says so once, with the reason after it (it said "offline: offline: …").
#[test]
fn offline_is_said_once() {
    let mut a = app((120, 24));
    a.update(Action::Sync(SyncEvent::Failed {
        view: "default".into(),
        message: "offline: could not connect (graph.microsoft.com)".into(),
        kind: FailureKind::Offline,
    }));
    let screen = render(&a);
    let bar = screen.lines().last().unwrap_or("").to_owned();
    assert_eq!(bar.matches("offline").count(), 1, "{bar}");
    assert!(bar.contains("could not connect"), "{bar}");
}

/// The sign-in panel's `o` opens the page and `y` copies the code; in the browser flow both
/// act on its address.
#[test]
fn the_sign_in_panel_opens_its_page_and_copies_its_code() {
    let mut a = app((80, 24));
    a.update(Action::SignIn(SignInUpdate::Code {
        uri: "https://microsoft.com/devicelogin".into(),
        code: "ABCD-EFGH".into(),
    }));
    assert!(render(&a).contains("o opens the page · y copies the code"));
    assert_eq!(
        a.update(ch('o')),
        vec![Effect::OpenLink {
            url: "https://microsoft.com/devicelogin".into(),
            what: "sign-in page".into()
        }]
    );
    assert_eq!(
        a.update(ch('y')),
        vec![Effect::CopyLink {
            url: "ABCD-EFGH".into(),
            what: "sign-in code".into()
        }]
    );
    a.update(Action::SignIn(SignInUpdate::BrowserUrl {
        url: "https://login.example/authorize?x=1".into(),
        opened: false,
    }));
    assert_eq!(
        a.update(ch('o')),
        vec![Effect::OpenLink {
            url: "https://login.example/authorize?x=1".into(),
            what: "sign-in page".into()
        }]
    );
}
