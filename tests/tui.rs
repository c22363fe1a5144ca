//! The TUI without a terminal: `update` for every key, snapshots of every view and overlay at
//! two sizes (fixed clock and data), and the real binary in a pseudo-terminal.

#![allow(clippy::unwrap_used)]

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use deltacal::auth::signin::SignInEvent as SignInUpdate;
use deltacal::config::{Config, ViewKind};
use deltacal::failure::FailureKind;
use deltacal::model::{CachedEvent, Change, Event, EventRef, ViewKey};
use deltacal::store::{RoundCounts, Store};
use deltacal::sync::{RoundSummary, SyncEvent};
use deltacal::ui::app::{Action, App, Effect, Overlay, SignIn, SyncActivity};
use deltacal::ui::runner::{EffectRunner, Request};
use deltacal::ui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::{Value, json};

const CONFIG: &str = "[ui]\ntimezone = \"UTC\"\nweek_start = \"monday\"\n\n[[calendars]]\nid = \"default\"\nname = \"Calendar\"\ncolor = \"blue\"\n\n[[calendars]]\nid = \"AAMkTeam=\"\nname = \"Team\"\ncolor = \"green\"\n";

fn now() -> DateTime<Utc> {
    "2026-11-24T10:00:00Z".parse().unwrap()
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn event(view: &str, v: Value) -> CachedEvent {
    CachedEvent {
        view: view.into(),
        event: Event::from_graph(&v).unwrap(),
    }
}

fn t(s: &str) -> Value {
    json!({"dateTime": s, "timeZone": "UTC"})
}

fn events() -> Vec<CachedEvent> {
    let person = |n: &str, a: &str| json!({"emailAddress": {"name": n, "address": a}});
    vec![
        event(
            "default",
            json!({"id": "standup", "subject": "Daily standup", "start": t("2026-11-24T09:00:00"), "end": t("2026-11-24T09:15:00"),
            "location": {"displayName": "Teams"}, "organizer": person("Dana Swope", "danas@contoso.com"),
            "attendees": [
                {"type": "required", "status": {"response": "accepted"}, "emailAddress": {"name": "Alex Wilber", "address": "alexw@contoso.com"}},
                {"type": "optional", "status": {"response": "declined"}, "emailAddress": {"name": "Zoë Ångström", "address": "zoe@contoso.com"}},
                {"type": "required", "status": {"response": "tentativelyAccepted"}, "emailAddress": {"name": "田中 美咲", "address": "misaki@contoso.co.jp"}}],
            "onlineMeeting": {"joinUrl": "https://teams.microsoft.com/l/meetup-join/abc"}, "showAs": "busy",
            "responseStatus": {"response": "accepted"}, "bodyPreview": "Yesterday, today, blockers.\r\nKeep it short."}),
        ),
        event(
            "AAMkTeam=",
            json!({"id": "review", "subject": "Design review: the new \u{1b}[31mcalendar\u{1b}[0m grid", "start": t("2026-11-24T13:00:00"), "end": t("2026-11-24T14:30:00"), "location": {"displayName": "Room 2.101"},
            "body": {"contentType": "html", "content": "<html><head><style>.mock { x: 1 }</style></head><body><p>Bring the <b>Z&uuml;rich</b> Zürich mock-ups</p></body></html>"}}),
        ),
        event(
            "default",
            json!({"id": "cancelled", "subject": "Canceled: 1:1", "isCancelled": true, "start": t("2026-11-24T15:00:00"), "end": t("2026-11-24T15:30:00")}),
        ),
        event(
            "default",
            json!({"id": "trip", "subject": "Trip to Tokyo ✈ 東京出張", "isAllDay": true, "start": t("2026-11-23T00:00:00"), "end": t("2026-11-27T00:00:00")}),
        ),
        event(
            "AAMkTeam=",
            json!({"id": "offsite", "subject": "Team offsite", "start": t("2026-11-26T16:00:00"), "end": t("2026-11-27T12:00:00")}),
        ),
        event(
            "default",
            json!({"id": "dentist", "subject": "Dentist", "start": t("2026-11-30T08:00:00"), "end": t("2026-11-30T09:00:00")}),
        ),
        event(
            "default",
            json!({"id": "dec", "subject": "Café con el equipo ☕", "start": t("2026-12-02T11:00:00"), "end": t("2026-12-02T12:00:00")}),
        ),
    ]
}

/// The app with the UI's own effect runner over a cache holding the fixture events.
struct Harness {
    app: App,
    runner: EffectRunner,
    requests: tokio::sync::mpsc::UnboundedReceiver<Request>,
    _dir: tempfile::TempDir,
}

impl Deref for Harness {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

impl DerefMut for Harness {
    fn deref_mut(&mut self) -> &mut App {
        &mut self.app
    }
}

/// A cache holding `events()`, each in its calendar view.
fn fixture_store(dir: &std::path::Path) -> Arc<Store> {
    fixture_store_with(dir, events())
}

fn fixture_store_with(dir: &std::path::Path, fixture: Vec<CachedEvent>) -> Arc<Store> {
    let store = Store::open(&dir.join("cache.redb")).unwrap();
    let window = deltacal::model::Window {
        start: "2026-01-01T00:00:00Z".parse().unwrap(),
        end: "2028-01-01T00:00:00Z".parse().unwrap(),
    };
    for view in ["default", "AAMkTeam="] {
        let changes: Vec<Change> = fixture
            .clone()
            .into_iter()
            .filter(|c| c.view == view)
            .map(|c| Change::Upsert {
                event: Box::new(c.event),
            })
            .collect();
        let state = deltacal::store::SyncState::new(window);
        store.apply_page(view, &changes, &state).unwrap();
    }
    Arc::new(store)
}

fn app(size: (u16, u16)) -> Harness {
    app_with(size, events())
}

fn app_with(size: (u16, u16), fixture: Vec<CachedEvent>) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let config = Arc::new(Config::from_toml(CONFIG, None, dir.path().to_owned()).unwrap());
    let (requests_tx, requests) = tokio::sync::mpsc::unbounded_channel();
    let runner = EffectRunner::new(fixture_store_with(dir.path(), fixture), requests_tx);
    let app = App::new(config, Theme { color: false }, now(), size);
    let mut app = Harness {
        app,
        runner,
        requests,
        _dir: dir,
    };
    app.account = Some("Samantha Booth <samanthab@contoso.com>".into());
    app.sync.rounds.insert(
        ViewKey::default_calendar(),
        (
            now() - chrono::Duration::minutes(2),
            RoundCounts {
                added: 3,
                updated: 1,
                removed: 0,
                pages: 1,
            },
        ),
    );
    load(&mut app);
    app
}

/// What the loop does for a load: read the days on screen from the cache.
fn load(app: &mut Harness) {
    let reload = app.reload();
    run_effects(app, vec![reload]);
}

/// Performs effects as the event loop does, through the UI's effect runner.
fn run_effects(app: &mut Harness, effects: Vec<Effect>) {
    let Harness { app, runner, .. } = app;
    runner.run(app, effects);
}

fn key(code: KeyCode) -> Action {
    Action::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ch(c: char) -> Action {
    key(KeyCode::Char(c))
}

fn render(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(app.size.0, app.size.1)).unwrap();
    terminal.draw(|f| deltacal::ui::draw::draw(f, app)).unwrap();
    let buffer = terminal.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        let mut line = String::new();
        let mut skip = 0;
        for x in 0..buffer.area.width {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let symbol = buffer[(x, y)].symbol();
            skip = unicode_width::UnicodeWidthStr::width(symbol).saturating_sub(1);
            line.push_str(symbol);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    assert!(
        !out.contains('\u{1b}'),
        "an escape character reached the screen"
    );
    out
}

fn snapshot(name: &str, app: &App) {
    let size = format!("{}x{}", app.size.0, app.size.1);
    insta::assert_snapshot!(format!("{name}_{size}"), render(app));
}

#[test]
fn snapshots_of_every_view_and_overlay() {
    for size in [(80, 24), (160, 48)] {
        let mut a = app(size);
        snapshot("month", &a);

        a.update(key(KeyCode::Enter));
        assert_eq!(a.overlay, Overlay::Detail);
        snapshot("detail", &a);
        a.update(key(KeyCode::Esc));

        a.update(ch('?'));
        snapshot("help", &a);
        a.update(key(KeyCode::Esc));

        a.update(ch('c'));
        snapshot("calendars", &a);
        a.update(key(KeyCode::Esc));

        let mut s = app(size);
        s.update(ch('/'));
        snapshot("search_empty", &s);
        for c in "re".chars() {
            let effects = s.update(ch(c));
            run_effects(&mut s, effects);
        }
        snapshot("search_typing", &s);
        s.update(key(KeyCode::Enter));
        snapshot("search_results", &s);

        let mut w = app(size);
        w.update(ch('w'));
        let effects = w.update(key(KeyCode::Down));
        run_effects(&mut w, effects);
        snapshot("week", &w);
        let effects = w.update(ch('d'));
        run_effects(&mut w, effects);
        snapshot("day", &w);
        // The offsite runs from Thursday 16:00 into Friday: on both days of the grid.
        let effects = w.update(ch('l'));
        run_effects(&mut w, effects);
        let effects = w.update(ch('l'));
        run_effects(&mut w, effects);
        snapshot("day_crossing_midnight", &w);
        let mut v = app(size);
        v.update(ch('w'));
        show_events(&mut v, overlapping());
        snapshot("week_overlapping", &v);
        if size == (80, 24) {
            v.update(Action::Resize {
                width: 36,
                height: 10,
            });
            snapshot("week_minimum", &v);
        }

        // October 2026 starts before the window (30 days back from 24 Nov).
        let mut o = app(size);
        let effects = o.update(ch('p'));
        run_effects(&mut o, effects);
        snapshot("month_partly_outside_window", &o);

        let mut p = app(size);
        p.update(ch('g'));
        for c in "friday!".chars() {
            p.update(ch(c));
        }
        p.update(key(KeyCode::Enter));
        snapshot("goto_error", &p);

        let mut g = app(size);
        g.update(Action::Sync(SyncEvent::Failed {
            view: "default".into(),
            message: "not signed in".into(),
            kind: FailureKind::SignInNeeded,
        }));
        g.update(Action::SignIn(SignInUpdate::Code {
            uri: "https://microsoft.com/devicelogin".into(),
            code: "GQ8KSDNFK".into(),
        }));
        snapshot("signin", &g);

        let mut v = app(size);
        let effects = v.update(ch('a'));
        run_effects(&mut v, effects);
        assert_eq!(v.view, ViewKind::Agenda);
        snapshot("agenda", &v);

        v.update(Action::Sync(SyncEvent::RoundStarted {
            view: "AAMkTeam=".into(),
            full: false,
        }));
        v.update(Action::Sync(SyncEvent::PageApplied {
            view: "AAMkTeam=".into(),
            page: 2,
            range: None,
            added: 0,
            updated: 0,
            removed: 0,
        }));
        snapshot("agenda_syncing", &v);
        v.update(Action::Sync(SyncEvent::Failed {
            view: "default".into(),
            message: "gave up after 6 attempts: could not connect (graph.microsoft.com)".into(),
            kind: FailureKind::Offline,
        }));
        snapshot("agenda_offline", &v);
    }
}

#[test]
fn no_color_keeps_emphasis_and_colour_mode_renders_too() {
    let mut a = app((80, 24));
    a.theme = Theme { color: true };
    let coloured = render(&a);
    a.theme = Theme { color: false };
    assert_eq!(coloured, render(&a), "colour changes styles, never text");
}

#[test]
fn arrow_keys_and_vim_keys_move_the_selected_day() {
    let mut a = app((80, 24));
    for (k, days) in [
        (key(KeyCode::Right), 1),
        (ch('l'), 1),
        (key(KeyCode::Left), -1),
        (ch('h'), -1),
        (key(KeyCode::Down), 7),
        (ch('j'), 7),
        (key(KeyCode::Up), -7),
        (ch('k'), -7),
    ] {
        let before = a.selected;
        a.update(k.clone());
        assert_eq!((a.selected - before).num_days(), days, "{k:?}");
    }
    // In the agenda, up and down move a day.
    a.update(ch('a'));
    let before = a.selected;
    a.update(ch('j'));
    assert_eq!((a.selected - before).num_days(), 1);
}

#[test]
fn month_keys_today_and_view_toggle() {
    let mut a = app((80, 24));
    let effects = a.update(ch('n'));
    assert_eq!(a.selected, d("2026-12-24"));
    assert_eq!(
        effects,
        vec![Effect::Load {
            first: d("2026-11-30"),
            last: d("2027-01-03")
        }]
    );
    a.update(key(KeyCode::PageDown));
    assert_eq!(a.selected, d("2027-01-24"));
    a.update(ch('p'));
    a.update(key(KeyCode::PageUp));
    assert_eq!(a.selected, d("2026-11-24"));
    a.selected = d("2027-01-31");
    a.update(ch('n'));
    assert_eq!(
        a.selected,
        d("2027-02-28"),
        "clamped to the month's last day"
    );
    a.update(ch('t'));
    assert_eq!(a.selected, d("2026-11-24"));
    a.update(key(KeyCode::Tab));
    assert_eq!(a.view, ViewKind::Week);
    a.update(ch('v'));
    assert_eq!(a.view, ViewKind::Day);
}

#[test]
fn event_selection_detail_and_close() {
    let mut a = app((80, 24));
    assert_eq!(
        a.selected_event().unwrap().event.id,
        "trip",
        "spans come first"
    );
    a.update(ch(']'));
    assert_eq!(a.selected_event().unwrap().event.id, "standup");
    a.update(ch('['));
    a.update(ch('['));
    assert_eq!(a.selected_event().unwrap().event.id, "trip");
    a.update(key(KeyCode::Enter));
    assert_eq!(a.overlay, Overlay::Detail);
    a.update(key(KeyCode::Down));
    assert_eq!(
        a.selected_event().unwrap().event.id,
        "standup",
        "arrows move between the day's events in the detail pane"
    );
    a.update(key(KeyCode::Esc));
    assert_eq!(a.overlay, Overlay::None);
    // A day without events opens nothing.
    a.update(ch('l'));
    a.update(ch('l'));
    a.update(ch('l'));
    a.update(ch('l'));
    a.update(key(KeyCode::Enter));
    assert_eq!(a.overlay, Overlay::None);
}

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
    assert_eq!(a.overlay, Overlay::Help);
    a.update(ch('j'));
    assert_eq!(a.overlay, Overlay::Help, "help swallows other keys");
    a.update(ch('?'));
    assert_eq!(a.overlay, Overlay::None);
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

/// Types `text` into the open search, performing what each key asks.
fn type_text(a: &mut Harness, text: &str) -> Vec<Vec<Effect>> {
    let mut asked = Vec::new();
    for c in text.chars() {
        let effects = a.update(ch(c));
        asked.push(effects.clone());
        run_effects(a, effects);
    }
    asked
}

fn hit_ids(a: &App) -> Vec<String> {
    let Overlay::Search(s) = &a.overlay else {
        panic!("search open")
    };
    s.results.iter().map(|c| c.event.id.to_string()).collect()
}

#[test]
fn search_filters_as_one_types_and_jumps() {
    let mut a = app((80, 24));
    a.update(ch('/'));
    // The first letter reads the cache; the letters after it only narrow those hits.
    let asked = type_text(&mut a, "de");
    assert_eq!(asked[0], vec![Effect::Search("d".into())]);
    assert!(asked[1].is_empty(), "narrowing needs no read: {asked:?}");
    assert_eq!(hit_ids(&a), ["review", "dentist"]);
    type_text(&mut a, "ntist q");
    assert!(hit_ids(&a).is_empty());
    // Deleting widens the query again, which reads the cache.
    a.update(key(KeyCode::Backspace));
    let effects = a.update(key(KeyCode::Backspace));
    assert_eq!(effects, vec![Effect::Search("dentist".into())]);
    run_effects(&mut a, effects);
    assert_eq!(hit_ids(&a), ["dentist"]);
    // Enter moves into the results; Enter again opens the hit on its day.
    assert!(a.update(key(KeyCode::Enter)).is_empty());
    let effects = a.update(key(KeyCode::Enter));
    run_effects(&mut a, effects);
    assert_eq!(a.selected, d("2026-11-30"));
    assert_eq!(a.overlay, Overlay::Detail);
    assert_eq!(a.selected_event().unwrap().event.id, "dentist");
    a.update(key(KeyCode::Esc));
    a.update(ch('/'));
    a.update(key(KeyCode::Esc));
    assert_eq!(a.overlay, Overlay::None);
}

#[test]
fn search_ignores_case_and_accents_and_looks_past_the_subject() {
    let mut a = app((80, 24));
    a.update(ch('/'));
    type_text(&mut a, "CAFE");
    assert_eq!(hit_ids(&a), ["dec"], "cafe finds Café");
    for _ in 0..4 {
        let effects = a.update(key(KeyCode::Backspace));
        run_effects(&mut a, effects);
    }
    assert!(hit_ids(&a).is_empty(), "a blank query has no hits");
    type_text(&mut a, "room 2.101");
    assert_eq!(hit_ids(&a), ["review"], "the location is searched");
    // The full body is searched by its words (not its markup), also while narrowing.
    for _ in 0..10 {
        let effects = a.update(key(KeyCode::Backspace));
        run_effects(&mut a, effects);
    }
    type_text(&mut a, "zurich mo");
    assert_eq!(hit_ids(&a), ["review"], "the body is searched");
    type_text(&mut a, "ck-ups");
    assert_eq!(hit_ids(&a), ["review"], "and narrowed in memory");
    for _ in 0..15 {
        let effects = a.update(key(KeyCode::Backspace));
        run_effects(&mut a, effects);
    }
    type_text(&mut a, "mock {");
    assert!(hit_ids(&a).is_empty(), "styles are no words");
}

#[test]
fn search_preselects_the_next_hit_and_moves_while_typing() {
    let mut a = app((80, 24));
    a.update(ch('/'));
    type_text(&mut a, "e");
    let Overlay::Search(s) = &a.overlay else {
        panic!("search open")
    };
    let upcoming = s.selected;
    let first_day = deltacal::days::event_days(&s.results[upcoming].event, &a.config.zone)
        .unwrap()
        .1;
    assert!(
        first_day >= a.today,
        "the first hit from today on is selected"
    );
    assert!(s.results[..upcoming].iter().all(|c| {
        deltacal::days::event_days(&c.event, &a.config.zone)
            .unwrap()
            .1
            < a.today
    }));
    // Arrows and page keys move through the hits without leaving the query.
    a.update(key(KeyCode::Down));
    a.update(key(KeyCode::PageUp));
    let Overlay::Search(s) = &a.overlay else {
        panic!("search open")
    };
    assert!(s.editing);
    assert_eq!(
        s.selected, 0,
        "a page up from near the top goes to the first hit"
    );
    a.update(key(KeyCode::PageDown));
    let Overlay::Search(s) = &a.overlay else {
        panic!("search open")
    };
    assert_eq!(s.selected, (s.results.len() - 1).min(10));
}

#[test]
fn g_goes_to_a_typed_date_and_says_what_it_cannot_read() {
    let mut a = app((80, 24));
    a.update(ch('g'));
    assert!(matches!(a.overlay, Overlay::GoTo(_)));
    // Letters type into the prompt; none of them acts as a command.
    for c in "2027-02-30".chars() {
        assert!(a.update(ch(c)).is_empty());
    }
    assert!(!a.quit);
    assert!(a.update(key(KeyCode::Enter)).is_empty());
    let Overlay::GoTo(prompt) = &a.overlay else {
        panic!("prompt stays open on a bad date")
    };
    assert!(
        prompt.error.as_deref().unwrap().contains("2027-02-30"),
        "{prompt:?}"
    );
    for _ in 0..2 {
        a.update(key(KeyCode::Backspace));
    }
    a.update(ch('2'));
    a.update(ch('8'));
    let effects = a.update(key(KeyCode::Enter));
    assert_eq!(a.overlay, Overlay::None);
    assert_eq!(a.selected, d("2027-02-28"));
    assert!(
        matches!(effects.as_slice(), [Effect::Load { .. }]),
        "{effects:?}"
    );
    // The CLI's relative forms work too, from today.
    a.update(ch('g'));
    for c in "+2w".chars() {
        a.update(ch(c));
    }
    a.update(key(KeyCode::Enter));
    assert_eq!(a.selected, a.today + chrono::Duration::weeks(2));
    // Esc leaves without moving.
    a.update(ch('g'));
    a.update(ch('t'));
    a.update(key(KeyCode::Esc));
    assert_eq!(a.overlay, Overlay::None);
    assert_eq!(a.selected, a.today + chrono::Duration::weeks(2));
}

#[test]
fn the_agenda_scrolls_to_keep_the_selected_event_in_sight() {
    let mut a = app((80, 10));
    a.update(ch('a'));
    let day = a.selected;
    let busy: Vec<CachedEvent> = (0..20)
        .map(|i| {
            let start = format!("{day}T{:02}:{:02}:00", 2 + i / 2, (i % 2) * 30);
            let end = format!("{day}T{:02}:{:02}:00", 2 + i / 2, (i % 2) * 30 + 15);
            event(
                "default",
                json!({"id": format!("busy{i}"), "subject": format!("Meeting number {i}"),
                       "start": t(&start), "end": t(&end)}),
            )
        })
        .collect();
    let (first, last) = (a.visible.first, a.visible.last);
    a.update(Action::Loaded(deltacal::ui::app::Visible {
        first,
        last,
        events: busy,
        ..Default::default()
    }));
    assert!(render(&a).contains("Meeting number 0"));
    for _ in 0..15 {
        a.update(ch(']'));
    }
    let screen = render(&a);
    assert!(screen.contains("Meeting number 15"), "{screen}");
    assert!(
        !screen.contains("Meeting number 0 "),
        "scrolled past the first: {screen}"
    );
    for _ in 0..15 {
        a.update(ch('['));
    }
    assert!(render(&a).contains("Meeting number 0"));
}

#[test]
fn days_outside_the_sync_window_say_so() {
    let mut a = app((100, 30));
    assert_eq!(a.synced_days(), (d("2026-10-20"), d("2027-12-16")));
    assert!(!render(&a).contains("not synced"), "November is all synced");
    a.update(ch('g'));
    for c in "2028-01-10".chars() {
        a.update(ch(c));
    }
    let effects = a.update(key(KeyCode::Enter));
    run_effects(&mut a, effects);
    let screen = render(&a);
    assert!(screen.contains("not synced"), "{screen}");
    assert!(
        screen.contains("synced 20 Oct 2026 – 16 Dec 2027"),
        "{screen}"
    );
    a.update(ch('a'));
    let screen = render(&a);
    assert!(screen.contains("  not synced"), "{screen}");
    assert!(!screen.contains("no events"), "{screen}");
}

/// The visible days with `events` in place of what the cache holds.
fn show_events(a: &mut Harness, events: Vec<CachedEvent>) {
    let (first, last) = (a.visible.first, a.visible.last);
    a.update(Action::Loaded(deltacal::ui::app::Visible {
        first,
        last,
        events,
        ..Default::default()
    }));
}

fn long_event() -> CachedEvent {
    let attendees: Vec<Value> = (0..60)
        .map(|i| {
            json!({"emailAddress": {"name": format!("Person {i}"), "address": format!("p{i}@contoso.com")},
                   "type": "required", "status": {"response": if i % 3 == 0 { "accepted" } else { "none" }}})
        })
        .collect();
    event(
        "default",
        json!({"id": "long", "subject": "All hands", "type": "occurrence", "seriesMasterId": "m1",
               "start": t("2026-11-24T16:00:00"), "end": t("2026-11-24T17:00:00"),
               "onlineMeeting": {"joinUrl": "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0"},
               "attendees": attendees, "bodyPreview": "Last line of the notes."}),
    )
}

/// What a real terminal is sent for a frame of `app` (two frames: the second shows what the
/// buffer diff sends when nothing changed).
fn terminal_bytes(app: &App) -> (String, String) {
    use ratatui::backend::CrosstermBackend;
    use ratatui::layout::Rect;
    use ratatui::{TerminalOptions, Viewport};
    #[derive(Clone, Default)]
    struct Sink(Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let take = || String::from_utf8(std::mem::take(&mut *sink.0.lock().unwrap())).unwrap();
    let area = Rect::new(0, 0, app.size.0, app.size.1);
    let backend = CrosstermBackend::new(sink.clone());
    let mut terminal = Terminal::with_options(
        backend,
        TerminalOptions {
            viewport: Viewport::Fixed(area),
        },
    )
    .unwrap();
    terminal.draw(|f| deltacal::ui::draw::draw(f, app)).unwrap();
    let first = take();
    terminal.draw(|f| deltacal::ui::draw::draw(f, app)).unwrap();
    let second = take();
    (first, second)
}

#[test]
fn a_long_join_link_stays_on_one_line_as_a_hyperlink() {
    let link = format!(
        "https://teams.microsoft.com/l/meetup-join/19%3ameeting_{}%40thread.v2/0?context=%7b%22Tid%22%3a%22{}%22%7d",
        "a".repeat(60),
        "b".repeat(36)
    );
    for size in [(80, 24), (160, 48)] {
        let mut a = app(size);
        let e = event(
            "default",
            json!({"id": "call", "subject": "Call", "start": t("2026-11-24T09:00:00"), "end": t("2026-11-24T10:00:00"),
                   "onlineMeeting": {"joinUrl": link}}),
        );
        show_events(&mut a, vec![e]);
        a.update(key(KeyCode::Enter));
        // On screen: one line, cut with a mark, and nothing of the link on the line after it.
        let screen = render(&a);
        let lines: Vec<&str> = screen.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.contains("https://teams.microsoft.com/l/meetup-join/"))
            .unwrap_or_else(|| panic!("{screen}"));
        assert!(lines[at].contains('…'), "{screen}");
        assert!(!lines[at + 1].contains("bbbb"), "not wrapped: {screen}");
        // To the terminal: the whole link behind the cut text, once, and not resent unchanged.
        a.hyperlinks = true;
        let (first, second) = terminal_bytes(&a);
        let osc = format!("\x1b]8;;{link}\x1b\\https://teams.microsoft.com/l/meetup-join/");
        assert_eq!(first.matches(&osc).count(), 1, "{first:?}");
        assert!(first.contains("…\x1b]8;;\x1b\\"), "{first:?}");
        assert!(!second.contains("\x1b]8;;"), "{second:?}");
        // A link that is not a web address is shown, never made a hyperlink.
        let e = event(
            "default",
            json!({"id": "call", "subject": "Call", "start": t("2026-11-24T09:00:00"), "end": t("2026-11-24T10:00:00"),
                   "onlineMeeting": {"joinUrl": "javascript:alert(1)"}}),
        );
        show_events(&mut a, vec![e]);
        let (first, _) = terminal_bytes(&a);
        assert!(!first.contains("\x1b]8;;"), "{first:?}");
    }
}

/// A desktop that records what it was asked to open and copy.
#[derive(Clone, Default)]
struct FakeDesktop {
    opened: Arc<std::sync::Mutex<Vec<String>>>,
    copied: Arc<std::sync::Mutex<Vec<String>>>,
    broken: bool,
}

impl deltacal::ui::runner::Desktop for FakeDesktop {
    fn open(&self, url: &str) -> bool {
        self.opened.lock().unwrap().push(url.to_owned());
        !self.broken
    }
    fn copy(&self, text: &str) -> bool {
        self.copied.lock().unwrap().push(text.to_owned());
        !self.broken
    }
}

#[test]
fn o_opens_and_y_copies_the_join_link_else_the_web_link_through_the_runner() {
    let mut a = app((100, 30));
    let desktop = FakeDesktop::default();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let dir = tempfile::tempdir().unwrap();
    a.runner =
        EffectRunner::new(fixture_store(dir.path()), tx).with_desktop(Box::new(desktop.clone()));
    let press = |a: &mut Harness, c: char| {
        let effects = a.update(ch(c));
        run_effects(a, effects);
    };
    // The standup (selected first on its day) has a Teams link.
    let effects = a.update(Action::Key(KeyEvent::new(
        KeyCode::Char('t'),
        KeyModifiers::NONE,
    )));
    run_effects(&mut a, effects);
    let mut events = vec![event(
        "default",
        json!({"id": "standup", "subject": "Daily standup", "start": t("2026-11-24T09:00:00"), "end": t("2026-11-24T09:15:00"),
               "onlineMeeting": {"joinUrl": "https://teams.microsoft.com/l/meetup-join/abc"},
               "webLink": "https://outlook.office365.com/owa/?itemid=1"}),
    )];
    events.push(event(
        "default",
        json!({"id": "web", "subject": "Web only", "start": t("2026-11-24T10:00:00"), "end": t("2026-11-24T11:00:00"),
               "webLink": "https://outlook.office365.com/owa/?itemid=2"}),
    ));
    events.push(event(
        "default",
        json!({"id": "bad", "subject": "Odd link", "start": t("2026-11-24T12:00:00"), "end": t("2026-11-24T13:00:00"),
               "onlineMeeting": {"joinUrl": "javascript:alert(1)"}}),
    ));
    events.push(event(
        "default",
        json!({"id": "none", "subject": "No link", "start": t("2026-11-24T14:00:00"), "end": t("2026-11-24T15:00:00")}),
    ));
    show_events(&mut a, events);
    press(&mut a, 'o');
    assert_eq!(
        *desktop.opened.lock().unwrap(),
        ["https://teams.microsoft.com/l/meetup-join/abc"]
    );
    assert!(
        render(&a).contains("Opening the join link of “Daily standup” in the browser."),
        "{}",
        render(&a)
    );
    press(&mut a, 'y');
    assert_eq!(
        *desktop.copied.lock().unwrap(),
        ["https://teams.microsoft.com/l/meetup-join/abc"]
    );
    assert!(render(&a).contains("Copied the join link"));
    // The next event has only a web link; then one whose link is no web address; then none.
    press(&mut a, ']');
    press(&mut a, 'o');
    assert_eq!(
        desktop.opened.lock().unwrap()[1],
        "https://outlook.office365.com/owa/?itemid=2"
    );
    assert!(render(&a).contains("Opening the web link"));
    press(&mut a, ']');
    press(&mut a, 'o');
    press(&mut a, 'y');
    assert_eq!(desktop.opened.lock().unwrap().len(), 2, "never opened");
    assert_eq!(desktop.copied.lock().unwrap().len(), 1, "never copied");
    assert!(render(&a).contains("only http and https"), "{}", render(&a));
    press(&mut a, ']');
    press(&mut a, 'o');
    assert!(
        render(&a).contains("no join link and no web link"),
        "{}",
        render(&a)
    );
    // From the detail pane too; a failing opener says so.
    let broken = FakeDesktop {
        broken: true,
        ..FakeDesktop::default()
    };
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    a.runner = EffectRunner::new(fixture_store(dir.path()), tx).with_desktop(Box::new(broken));
    press(&mut a, '[');
    press(&mut a, '[');
    press(&mut a, '[');
    a.update(key(KeyCode::Enter));
    press(&mut a, 'o');
    assert_eq!(a.overlay, Overlay::Detail);
    assert!(
        render(&a).contains("Could not start a browser"),
        "{}",
        render(&a)
    );
}

#[test]
fn the_calendars_panel_shows_hides_and_remembers_and_graph_colours_fill_in() {
    use deltacal::config::CalendarColor;
    use deltacal::model::CalendarInfo;
    let mut a = app((100, 30));
    let effects = a.update(ch('a'));
    run_effects(&mut a, effects);
    assert!(render(&a).contains("Design review"));
    a.update(ch('c'));
    let screen = render(&a);
    assert!(
        screen.contains("[x] ██ Calendar") && screen.contains("[x] ██ Team"),
        "{screen}"
    );
    // Space hides the selected calendar (the second): the views and the search leave it out,
    // and the choice goes to the background to be written down.
    a.update(key(KeyCode::Down));
    let effects = a.update(ch(' '));
    assert!(matches!(effects[0], Effect::SaveHidden(ref h) if h.contains("AAMkTeam=")));
    run_effects(&mut a, effects);
    assert_eq!(
        a.requests.try_recv().unwrap(),
        Request::SaveHidden([ViewKey::from("AAMkTeam=")].into())
    );
    let screen = render(&a);
    assert!(screen.contains("[ ] ██ Team"), "{screen}");
    a.update(key(KeyCode::Esc));
    assert!(!render(&a).contains("Design review"), "{}", render(&a));
    a.update(ch('/'));
    type_text(&mut a, "design");
    assert!(hit_ids(&a).is_empty(), "a hidden calendar is not searched");
    a.update(key(KeyCode::Esc));
    // Enter shows it again.
    a.update(ch('c'));
    a.update(key(KeyCode::Down));
    let effects = a.update(key(KeyCode::Enter));
    run_effects(&mut a, effects);
    a.update(ch('c'));
    assert!(render(&a).contains("Design review"));
    // What the data dir remembers is read at start.
    let dir = tempfile::tempdir().unwrap();
    deltacal::prefs::save_hidden(dir.path(), &[ViewKey::from("AAMkTeam=")].into()).unwrap();
    let mut config = Config::from_toml(CONFIG, None, dir.path().to_owned()).unwrap();
    let mut b = app((100, 30));
    b.config = Arc::new(config.clone());
    let effects = b.start();
    run_effects(&mut b, effects);
    assert!(b.hidden.contains("AAMkTeam="));
    assert!(b.visible.events.iter().all(|c| c.view != "AAMkTeam="));
    // Colours: the config's, else the calendar's colour in Outlook.
    for cal in &mut config.calendars {
        cal.color = None;
    }
    b.config = Arc::new(config);
    assert_eq!(b.calendar_color("AAMkTeam="), None);
    b.update(Action::CalendarList(vec![
        CalendarInfo {
            id: "AAMkDefault=".into(),
            name: "Calendar".into(),
            color: Some("auto".into()),
            is_default: true,
            ..CalendarInfo::default()
        },
        CalendarInfo {
            id: "AAMkTeam=".into(),
            name: "Team".into(),
            color: Some("lightGreen".into()),
            hex_color: Some("#fcab73".into()),
            ..CalendarInfo::default()
        },
        CalendarInfo {
            id: "AAMkOther=".into(),
            name: "Other".into(),
            ..CalendarInfo::default()
        },
    ]));
    assert_eq!(b.calendar_color("default"), None, "auto is the theme's");
    assert_eq!(
        b.calendar_color("AAMkTeam="),
        Some(CalendarColor::Yellow),
        "the hex colour wins, nearest in the palette"
    );
    b.update(ch('c'));
    assert!(
        render(&b).contains("1 more in the account"),
        "{}",
        render(&b)
    );
}

#[test]
fn a_reminder_banner_stays_until_dismissed_joins_with_o_and_snoozes_with_z() {
    use deltacal::remind::schedule::Due;
    let mut a = app((100, 30));
    let desktop = FakeDesktop::default();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let dir = tempfile::tempdir().unwrap();
    a.runner =
        EffectRunner::new(fixture_store(dir.path()), tx).with_desktop(Box::new(desktop.clone()));
    let due = |id: &str| {
        let c = events().into_iter().find(|c| c.event.id == id).unwrap();
        let (start, end) = c.event.span().unwrap();
        Due {
            event: c,
            start,
            end,
            lead: chrono::Duration::minutes(15),
        }
    };
    // The clock is 10:00; the review starts at 13:00, the standup began at 09:00.
    a.update(Action::Reminder(Box::new(due("review"))));
    a.update(Action::Reminder(Box::new(due("standup"))));
    let screen = render(&a);
    let banner = screen.lines().rev().nth(1).unwrap();
    assert!(
        banner.contains("⏰ Design review: the new [31mcalendar[0m grid in 180 min (+1 more)"),
        "{screen}"
    );
    assert!(banner.contains("o join · z snooze · x dismiss"), "{banner}");
    // Keys pass through it: moving the selection leaves it up.
    a.update(ch('l'));
    assert_eq!(a.reminders.len(), 2);
    // z snoozes the first: it goes back to the reminder loop, and the next shows.
    let effects = a.update(ch('z'));
    run_effects(&mut a, effects);
    match rx.try_recv().unwrap() {
        Request::Snooze { due, until } => {
            assert_eq!(due.event.event.id, "review");
            assert!(until > chrono::Utc::now() + chrono::Duration::minutes(4));
        }
        other => panic!("{other:?}"),
    }
    let screen = render(&a);
    assert!(
        screen.contains("⏰ Daily standup began 60 min ago"),
        "{screen}"
    );
    assert!(
        screen.contains("09:00-09:15 · Teams · https://te"),
        "{screen}"
    );
    // o joins the meeting the banner is about, whatever is selected.
    let effects = a.update(ch('o'));
    run_effects(&mut a, effects);
    assert_eq!(
        *desktop.opened.lock().unwrap(),
        ["https://teams.microsoft.com/l/meetup-join/abc"]
    );
    assert_eq!(a.reminders.len(), 1, "joining does not dismiss");
    assert!(
        render(&a).contains("Opening the join link of the reminder's “Daily standup”"),
        "the status bar says which event: {}",
        render(&a)
    );
    // The banner takes a row of its own: the month's last week keeps its rows.
    let rows_with = a.main_area().height;
    a.update(ch('x'));
    assert_eq!(a.main_area().height, rows_with + 1);
    assert!(a.reminders.is_empty());
    assert!(!render(&a).contains('⏰'));
}

#[test]
fn the_month_reads_only_what_its_cells_show_and_all_of_the_selected_day() {
    // Sixty short meetings on Wednesday the 25th, a two-day event across it, and one on the
    // 26th; the selection starts on the 24th.
    let mut fixture = events();
    for i in 0..60 {
        let (h, m) = (8 + i / 6, (i % 6) * 10);
        fixture.push(event(
            "default",
            json!({"id": format!("busy{i:02}"), "subject": format!("Busy {i:02}"),
                   "start": t(&format!("2026-11-25T{h:02}:{m:02}:00")), "end": t(&format!("2026-11-25T{h:02}:{:02}:00", m + 5))}),
        ));
    }
    fixture.push(event(
        "default",
        json!({"id": "conf", "subject": "Conference", "start": t("2026-11-25T09:00:00"), "end": t("2026-11-26T17:00:00")}),
    ));
    let mut a = app_with((80, 24), fixture);
    let on = |a: &Harness, day: &str| {
        let day = d(day);
        a.visible
            .events
            .iter()
            .filter(|c| deltacal::days::occupies(&c.event, &a.config.zone, day, day))
            .count()
    };
    let read = on(&a, "2026-11-25");
    assert!(
        read < 40,
        "the 25th is read up to its cap, not wholly: {read}"
    );
    assert_eq!(
        read + a.visible.hidden[&d("2026-11-25")],
        62,
        "the rest is counted (with the trip)"
    );
    // The cell says how many more there are, counting those not read.
    let screen = render(&a);
    let more: usize = screen
        .lines()
        .flat_map(|l| l.split("+").skip(1))
        .filter_map(|rest| rest.split(' ').next()?.parse().ok())
        .max()
        .unwrap();
    assert!(more > 55, "{screen}");
    // Selecting the day reads it whole; ] steps through all of its events.
    let effects = a.update(ch('l'));
    assert_eq!(
        effects,
        vec![Effect::LoadDays {
            first: d("2026-11-25"),
            last: d("2026-11-25")
        }]
    );
    run_effects(&mut a, effects);
    assert_eq!(on(&a, "2026-11-25"), 62);
    assert!(
        a.visible
            .hidden
            .get(&d("2026-11-25"))
            .is_none_or(|n| *n == 0)
    );
    for _ in 0..70 {
        a.update(ch(']'));
    }
    assert_eq!(
        a.selected_event().unwrap().event.id,
        "busy59",
        "the last of all 62"
    );
    // The week view reads everything it shows.
    let effects = a.update(ch('w'));
    run_effects(&mut a, effects);
    assert!(a.visible.hidden.is_empty());
    assert_eq!(on(&a, "2026-11-25"), 62);
}

#[test]
fn a_capped_month_draws_what_reading_every_event_would() {
    // A dense month: all-day events of one to nine days, timed events across midnight and
    // across days, and short meetings, far more than a cell holds, on the selected day and
    // away from it, in both calendars.
    let mut fixture = events();
    let day = |n: i64| d("2026-11-01") + chrono::Duration::days(n);
    let at = |n: i64, hm: &str| t(&format!("{}T{hm}:00", day(n)));
    for i in 0..40i64 {
        let (first, len) = (5 + (i * 7) % 24, 1 + i % 9);
        let view = if i % 3 == 0 { "AAMkTeam=" } else { "default" };
        fixture.push(event(
            view,
            json!({"id": format!("away{i:02}"), "subject": format!("Away {i:02}"), "isAllDay": true,
                   "start": at(first, "00:00"), "end": at(first + len, "00:00")}),
        ));
    }
    for i in 0..30i64 {
        let first = 5 + (i * 5) % 26;
        fixture.push(event(
            "default",
            json!({"id": format!("late{i:02}"), "subject": format!("Late {i:02}"),
                   "start": at(first, "22:30"), "end": at(first + 1 + i % 3, "01:00")}),
        ));
    }
    for i in 0..400i64 {
        let (n, h, m) = (3 + i % 30, 7 + (i / 30) % 10, (i % 4) * 15);
        fixture.push(event(
            "default",
            json!({"id": format!("meet{i:03}"), "subject": format!("Meet {i:03}"),
                   "start": at(n, &format!("{h:02}:{m:02}")), "end": at(n, &format!("{:02}:{m:02}", h + 1))}),
        ));
    }
    for size in [(80, 24), (120, 40), (160, 48)] {
        let mut a = app_with(size, fixture.clone());
        let capped = render(&a);
        let (first, last) = (a.visible.first.unwrap(), a.visible.last.unwrap());
        let read = a.visible.events.len();
        assert!(
            a.visible.hidden.values().sum::<usize>() > 50,
            "at {size:?} the month read {read} events and counted the rest"
        );
        let dir = tempfile::tempdir().unwrap();
        let whole = fixture_store_with(dir.path(), fixture.clone())
            .events_in_days(&a.shown_views(), &a.config.zone, first, last)
            .unwrap();
        assert!(whole.len() > read + 50, "at {size:?}");
        show_events(&mut a, whole);
        assert_eq!(capped, render(&a), "at {size:?}");
    }
}

#[test]
fn the_detail_pane_scrolls_with_the_page_keys_and_the_wheel() {
    for size in [(80, 24), (160, 48)] {
        let mut a = app(size);
        show_events(&mut a, vec![long_event()]);
        a.update(key(KeyCode::Enter));
        assert_eq!(a.overlay, Overlay::Detail);
        let top = render(&a);
        assert!(top.contains("more below"), "{top}");
        assert!(top.contains("Repeats"), "the series is named: {top}");
        assert!(!top.contains("Last line of the notes."));
        for _ in 0..12 {
            a.update(key(KeyCode::PageDown));
        }
        let screen = render(&a);
        assert!(screen.contains("Last line of the notes."), "{screen}");
        let name = format!("detail_scrolled_{}x{}", size.0, size.1);
        insta::assert_snapshot!(name, screen);
        // Scrolling up past the top stops there; the wheel scrolls too.
        for _ in 0..60 {
            a.update(key(KeyCode::PageUp));
        }
        assert_eq!(a.detail_scroll, 0);
        a.update(Action::Wheel { down: true });
        assert_eq!(a.detail_scroll, 3);
        assert_eq!(
            a.overlay,
            Overlay::Detail,
            "the wheel scrolls, it does not close"
        );
        // A page is the pane's rows less one: the last line of a page is the first of the
        // next. Space pages too; End goes to the end and Home back to the top.
        let (rows, end) = deltacal::ui::app::pane::scroll_room(&a);
        let page = rows - 1;
        assert!(rows >= 10 && end > 0, "{rows} rows, {end} past them");
        a.update(key(KeyCode::Home));
        assert_eq!(a.detail_scroll, 0);
        a.update(key(KeyCode::PageDown));
        assert_eq!(a.detail_scroll, page.min(end));
        a.update(ch(' '));
        assert_eq!(a.detail_scroll, (2 * page).min(end));
        a.update(key(KeyCode::End));
        assert_eq!(a.detail_scroll, end);
        assert!(render(&a).contains("Last line of the notes."));
        assert!(render(&a).contains("(end: PgUp PgDn)"), "{}", render(&a));
        a.update(ch(' '));
        assert_eq!(a.detail_scroll, end, "no further than the end");
        a.update(key(KeyCode::PageUp));
        assert_eq!(
            a.detail_scroll,
            end.saturating_sub(page),
            "a page up from the end"
        );
        a.update(key(KeyCode::Home));
        assert_eq!(a.detail_scroll, 0);
    }
}

#[test]
fn the_open_event_stays_open_through_reloads_and_a_deleted_one_closes_with_a_note() {
    let mut a = app((80, 24));
    let day = a.selected;
    let at = |id: &str, h: u32| {
        event(
            "default",
            json!({"id": id, "subject": format!("Meeting {id}"),
                   "start": t(&format!("{day}T{h:02}:00:00")), "end": t(&format!("{day}T{h:02}:30:00"))}),
        )
    };
    show_events(&mut a, vec![at("b", 10), at("c", 11)]);
    a.update(ch(']'));
    a.update(key(KeyCode::Enter));
    assert_eq!(a.selected_event().unwrap().event.id, "c");
    // An event added before it moves it down the day; the pane stays on it.
    show_events(&mut a, vec![at("a", 9), at("b", 10), at("c", 11)]);
    assert_eq!(a.overlay, Overlay::Detail);
    assert_eq!(a.selected_event().unwrap().event.id, "c");
    // Deleted: the pane closes and says so, instead of showing its neighbour.
    show_events(&mut a, vec![at("a", 9), at("b", 10)]);
    assert_eq!(a.overlay, Overlay::None);
    let screen = render(&a);
    assert!(screen.contains("deleted or moved"), "{screen}");
    a.update(ch('l'));
    assert!(
        !render(&a).contains("deleted or moved"),
        "the note goes with the next key"
    );
}

/// Four events on the selected day that overlap in pairs and threes, and one alone.
fn overlapping() -> Vec<CachedEvent> {
    let at = |id: &str, from: &str, to: &str| {
        event(
            "default",
            json!({"id": id, "subject": format!("Meeting {id}"),
                   "start": t(&format!("2026-11-24T{from}:00")), "end": t(&format!("2026-11-24T{to}:00"))}),
        )
    };
    vec![
        at("a", "09:00", "10:30"),
        at("b", "09:30", "11:00"),
        at("c", "10:30", "12:00"),
        at("d", "10:45", "11:30"),
        at("e", "14:00", "15:00"),
    ]
}

#[test]
fn week_and_day_keys() {
    let mut a = app((100, 30));
    // Tab cycles through the four views; w and d pick one.
    let mut seen = Vec::new();
    for _ in 0..4 {
        a.update(key(KeyCode::Tab));
        seen.push(a.view);
    }
    assert_eq!(
        seen,
        [
            ViewKind::Week,
            ViewKind::Day,
            ViewKind::Agenda,
            ViewKind::Month
        ]
    );
    let effects = a.update(ch('w'));
    assert_eq!(a.view, ViewKind::Week);
    assert_eq!(
        effects,
        vec![Effect::Load {
            first: d("2026-11-23"),
            last: d("2026-11-29")
        }],
        "the week from the configured week start"
    );
    run_effects(&mut a, effects);
    // Up and down move through the day's events; ] and [ too; PgDn is a week on.
    show_events(&mut a, overlapping());
    a.update(key(KeyCode::Down));
    a.update(key(KeyCode::Down));
    assert_eq!(a.selected_event().unwrap().event.id, "c");
    a.update(ch('['));
    assert_eq!(a.selected_event().unwrap().event.id, "b");
    a.update(key(KeyCode::Up));
    assert_eq!(a.selected_event().unwrap().event.id, "a");
    assert_eq!(a.selected, d("2026-11-24"));
    a.update(key(KeyCode::PageDown));
    assert_eq!(a.selected, d("2026-12-01"));
    let effects = a.update(ch('d'));
    assert_eq!(
        effects,
        vec![Effect::Load {
            first: d("2026-12-01"),
            last: d("2026-12-01")
        }]
    );
    a.update(key(KeyCode::Right));
    assert_eq!(a.selected, d("2026-12-02"));
    assert!(render(&a).contains("Wednesday 2 December 2026"));
}

#[test]
fn the_week_grid_places_overlaps_side_by_side_and_follows_the_selection() {
    let mut a = app((100, 14));
    a.update(ch('d'));
    show_events(&mut a, overlapping());
    let screen = render(&a);
    // a and b overlap: side by side on the 09:00 and 09:30 rows.
    let row = screen
        .lines()
        .find(|l| l.contains("09:00 Meeting a"))
        .unwrap();
    assert!(
        row.contains("09:30 Meeting b") || screen.contains("09:30 Meeting b"),
        "{screen}"
    );
    let a_col = row.find("09:00 Meeting a").unwrap();
    let b_line = screen
        .lines()
        .find(|l| l.contains("09:30 Meeting b"))
        .unwrap();
    assert!(
        b_line.find("09:30 Meeting b").unwrap() > a_col + 10,
        "{screen}"
    );
    // A late event scrolls the grid to it when selected.
    let mut late = overlapping();
    late.push(event(
        "default",
        json!({"id": "z", "subject": "Late call", "start": t("2026-11-24T22:00:00"), "end": t("2026-11-24T23:00:00")}),
    ));
    show_events(&mut a, late);
    assert!(!render(&a).contains("Late call"));
    for _ in 0..5 {
        a.update(key(KeyCode::Down));
    }
    let screen = render(&a);
    assert!(screen.contains("Late call"), "{screen}");
    assert!(
        !screen.contains("08:00"),
        "scrolled to the evening: {screen}"
    );
}

#[test]
fn grid_clicks_select_events_and_the_grid_scrolls_by_hours() {
    let mut a = app((160, 14));
    let effects = a.update(ch('w'));
    run_effects(&mut a, effects);
    let mut events = overlapping();
    events.push(event(
        "default",
        json!({"id": "trip", "subject": "Offsite", "all_day": true, "isAllDay": true,
               "start": t("2026-11-25T00:00:00"), "end": t("2026-11-27T00:00:00")}),
    ));
    show_events(&mut a, events);
    let screen = render(&a);
    // A click on a timed event selects it and its day; the pane stays closed.
    let (row, line) = screen
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("Meeting e"))
        .unwrap();
    let col = line.find("Meeting e").unwrap() as u16;
    a.update(click(col, row as u16));
    assert_eq!(a.selected, d("2026-11-24"));
    assert_eq!(a.selected_event().unwrap().event.id, "e");
    assert_eq!(a.overlay, Overlay::None);
    // A click on an all-day bar selects that event on the day under the pointer.
    let (row, line) = screen
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("Offsite"))
        .unwrap();
    let col = line.find("Offsite").unwrap() as u16;
    a.update(click(col + 25, row as u16));
    assert_eq!(a.selected_event().unwrap().event.id, "trip");
    assert_eq!(a.selected, d("2026-11-26"), "{screen}");
    // A click on empty grid does nothing; a double click on an event opens it.
    assert!(a.update(click(155, 12)).is_empty());
    assert_eq!(a.selected_event().unwrap().event.id, "trip");
    let screen = render(&a);
    let (row, line) = screen
        .lines()
        .enumerate()
        .find(|(_, l)| l.starts_with("09:00"))
        .unwrap();
    let col = line.rfind("09:00").unwrap() as u16;
    assert!(col > 20, "Meeting a starts there: {screen}");
    let effects = a.update(Action::Click {
        column: col,
        row: row as u16,
        double: true,
    });
    run_effects(&mut a, effects);
    assert_eq!(a.selected_event().unwrap().event.id, "a");
    assert_eq!(a.overlay, Overlay::Detail);
    a.update(key(KeyCode::Esc));
    // J and the wheel show later hours, K earlier; moving the selection follows it again.
    let before = render(&a);
    assert!(before.contains("08:00"), "{before}");
    a.update(ch('J'));
    let later = render(&a);
    assert!(
        !later.contains("08:00") && later.contains("09:00"),
        "{later}"
    );
    a.update(Action::Wheel { down: true });
    a.update(Action::Wheel { down: true });
    assert!(!render(&a).contains("10:00 "), "{}", render(&a));
    for _ in 0..30 {
        a.update(Action::Wheel { down: true });
    }
    let bottom = render(&a);
    assert!(
        bottom.contains("23:00"),
        "scrolls to the day's end: {bottom}"
    );
    for _ in 0..30 {
        a.update(ch('K'));
    }
    assert!(render(&a).contains("00:00"), "{}", render(&a));
    a.update(ch(']'));
    assert!(
        render(&a).contains("08:00") && render(&a).contains("09:30"),
        "the selection brings the grid back to it: {}",
        render(&a)
    );
}

#[test]
fn the_detail_pane_shows_the_html_body_as_text_with_its_links() {
    let mut a = app((100, 30));
    let html = "<html><head><style>p { color: red }</style></head><body><p>Agenda: <b>budget</b> \
                review</p><ul><li>Q3 numbers</li><li>Hiring \u{1b}[2J plan</li></ul>\
                <p>See <a href=\"https://contoso.sharepoint.com/doc\">the deck</a>.</p></body></html>";
    let e = event(
        "default",
        json!({"id": "html", "subject": "Budget", "start": t("2026-11-24T09:00:00"), "end": t("2026-11-24T10:00:00"),
               "bodyPreview": "Agenda: budget review", "body": {"contentType": "html", "content": html}}),
    );
    show_events(&mut a, vec![e]);
    // Opening the pane asks for the body once (the rows the views read carry none); this
    // event is not in the cache, so the body it came with stands.
    let effects = a.update(key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::LoadBody(EventRef::new("default", "html"))]
    );
    run_effects(&mut a, effects);
    assert!(a.update(key(KeyCode::Down)).is_empty(), "read once");
    let screen = render(&a);
    for want in [
        "budget review",
        "Q3 numbers",
        "the deck",
        "https://contoso.sharepoint.com/doc",
    ] {
        assert!(screen.contains(want), "{want}: {screen}");
    }
    assert!(
        !screen.contains("<p>") && !screen.contains("color: red"),
        "{screen}"
    );
    assert!(
        !screen.contains('\u{1b}'),
        "server text is sanitised: {screen}"
    );
}

#[test]
fn m_and_a_pick_a_view() {
    let mut a = app((80, 24));
    a.update(ch('a'));
    assert_eq!(a.view, ViewKind::Agenda);
    a.update(ch('a'));
    assert_eq!(a.view, ViewKind::Agenda, "picking, not toggling");
    a.update(ch('m'));
    assert_eq!(a.view, ViewKind::Month);
}

#[test]
fn an_open_search_follows_the_cache() {
    let mut a = app((80, 24));
    a.update(ch('/'));
    type_text(&mut a, "dentist");
    let effects = a.update(Action::Sync(SyncEvent::PageApplied {
        view: "default".into(),
        page: 1,
        range: Some((now(), now() + chrono::Duration::hours(1))),
        added: 0,
        updated: 1,
        removed: 0,
    }));
    assert!(effects.contains(&Effect::Search("dentist".into())));
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

fn click(column: u16, row: u16) -> Action {
    Action::Click {
        column,
        row,
        double: false,
    }
}

#[test]
fn tab_clicks_switch_views_the_wheel_moves_and_a_double_click_opens() {
    let mut a = app((80, 24));
    let screen = render(&a);
    let title = screen.lines().next().unwrap();
    let agenda_col = title.find("Agenda").unwrap() as u16;
    let month_col = title.find("Month").unwrap() as u16;
    a.update(click(agenda_col, 0));
    assert_eq!(a.view, ViewKind::Agenda);
    let week_col = title.find("Week").unwrap() as u16;
    a.update(click(week_col, 0));
    assert_eq!(a.view, ViewKind::Week);
    a.update(click(month_col, 0));
    assert_eq!(a.view, ViewKind::Month);
    // A narrow title shows only the current view's tab, and clicks go by what it shows.
    a.update(click(agenda_col, 0));
    a.update(Action::Resize {
        width: 50,
        height: 20,
    });
    let title = render(&a).lines().next().unwrap().to_owned();
    assert!(!title.contains("Month"), "{title}");
    a.update(click(title.find("Agenda").unwrap() as u16, 0));
    assert_eq!(a.view, ViewKind::Agenda);
    a.update(click(month_col, 0));
    assert_eq!(a.view, ViewKind::Agenda, "no tab there at this width");
    a.update(ch('m'));
    a.update(Action::Resize {
        width: 80,
        height: 24,
    });
    assert!(
        a.update(click(month_col + 30, 0)).is_empty(),
        "the heading is no tab"
    );
    // The wheel moves as the arrows do: a week in the month, a day in the agenda.
    let start = a.selected;
    a.update(Action::Wheel { down: true });
    assert_eq!(a.selected, start + chrono::Duration::days(7));
    a.update(Action::Wheel { down: false });
    a.update(ch('a'));
    a.update(Action::Wheel { down: true });
    assert_eq!(a.selected, start + chrono::Duration::days(1));
    // In the help it scrolls the help.
    a.update(Action::Resize {
        width: 80,
        height: 12,
    });
    a.update(ch('?'));
    a.update(Action::Wheel { down: true });
    assert_eq!(a.help_scroll, 1);
    a.update(key(KeyCode::Esc));
    // A double click on a day of the month selects it and opens its first event.
    a.update(Action::Resize {
        width: 80,
        height: 24,
    });
    a.update(ch('m'));
    a.update(ch('t'));
    let load = a.reload();
    run_effects(&mut a, vec![load]);
    let screen = render(&a);
    let row = screen.lines().position(|l| l.contains("24 today")).unwrap() as u16;
    let effects = a.update(Action::Click {
        column: 14,
        row: row + 1,
        double: true,
    });
    run_effects(&mut a, effects);
    assert_eq!(a.selected, d("2026-11-24"));
    assert_eq!(a.overlay, Overlay::Detail);
}

#[test]
fn agenda_clicks_select_events_and_a_double_click_opens_one() {
    let mut a = app((80, 24));
    let effects = a.update(ch('a'));
    run_effects(&mut a, effects);
    let screen = render(&a);
    let row = screen
        .lines()
        .position(|l| l.contains("Design review"))
        .unwrap() as u16;
    a.update(click(20, row));
    assert_eq!(a.selected_event().unwrap().event.id, "review");
    assert_eq!(a.overlay, Overlay::None);
    // A heading is no event; a double click on an event opens it.
    let head = screen
        .lines()
        .position(|l| l.contains("Tue 24 Nov"))
        .unwrap() as u16;
    assert!(a.update(click(5, head)).is_empty());
    let standup = screen
        .lines()
        .position(|l| l.contains("Daily standup"))
        .unwrap() as u16;
    let effects = a.update(Action::Click {
        column: 20,
        row: standup,
        double: true,
    });
    run_effects(&mut a, effects);
    assert_eq!(a.overlay, Overlay::Detail);
    assert_eq!(a.selected_event().unwrap().event.id, "standup");
}

#[test]
fn clicks_select_days_and_resizes_relayout() {
    let mut a = app((80, 24));
    // The grid starts on line 2 (title, weekday header); 80 columns make 7 columns of 11-12.
    let effects = a.update(click(1, 3));
    assert_eq!(a.selected, d("2026-10-26"), "top-left cell");
    assert_eq!(
        effects,
        vec![Effect::Load {
            first: d("2026-09-28"),
            last: d("2026-11-01")
        }],
        "October's grid"
    );
    a.update(ch('t'));
    let reload = a.reload();
    run_effects(&mut a, vec![reload]);
    a.update(click(79, 22));
    assert_eq!(a.selected, d("2026-12-06"), "bottom-right cell");
    a.update(Action::Resize {
        width: 160,
        height: 48,
    });
    a.update(click(70, 20));
    assert_eq!(
        a.selected.format("%Y-%m").to_string(),
        "2026-12",
        "a cell of December's grid"
    );
    render(&a);
    a.update(Action::Resize {
        width: 10,
        height: 4,
    });
    assert!(render(&a).contains("too small"));
}

#[test]
fn a_new_day_reloads() {
    let mut a = app((80, 24));
    assert!(
        a.update(Action::Tick(now() + chrono::Duration::minutes(1)))
            .is_empty()
    );
    assert_eq!(
        a.update(Action::Tick(now() + chrono::Duration::days(1)))
            .len(),
        1
    );
    assert_eq!(a.today, d("2026-11-25"));
}

/// The demo in a real terminal: needs the emulator.
#[cfg(feature = "emulator")]
mod pty {
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use portable_pty::{CommandBuilder, PtySize, native_pty_system};

    /// Kills the child if the test fails half-way.
    struct KillOnDrop(Box<dyn portable_pty::Child + Send + Sync>);

    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            if self.0.try_wait().ok().flatten().is_none() {
                let _ = self.0.kill();
                let _ = self.0.wait();
            }
        }
    }

    fn wait_for(
        parser: &Arc<Mutex<vt100::Parser>>,
        what: &str,
        ok: impl Fn(&vt100::Screen) -> bool,
    ) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            {
                let p = parser.lock().unwrap();
                if ok(p.screen()) {
                    return;
                }
                if Instant::now() > deadline {
                    panic!(
                        "timed out waiting for {what}; screen:\n{}",
                        p.screen().contents()
                    );
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn the_demo_runs_in_a_real_terminal_and_quits_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(&config, "[ui]\ntimezone = \"UTC\"\n").unwrap();
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 36,
                cols: 120,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let data = dir.path().join("demo-data");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_deltacal"));
        cmd.args(["demo", "--events", "400", "--seed", "3", "--data-dir"]);
        cmd.arg(&data);
        cmd.env("DELTACAL_CONFIG", &config);
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("DELTACAL_DATA_DIR");
        let child = pty.slave.spawn_command(cmd).unwrap();
        drop(pty.slave);
        let mut child = KillOnDrop(child);
        let mut reader = pty.master.try_clone_reader().unwrap();
        let mut writer = pty.master.take_writer().unwrap();
        let parser = Arc::new(Mutex::new(vt100::Parser::new(
            36.try_into().unwrap(),
            120.try_into().unwrap(),
            0,
        )));
        let feed = parser.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                feed.lock().unwrap().process(&buf[..n]);
            }
        });

        // Signed in automatically, synced, and events on screen.
        wait_for(&parser, "a completed sync", |s| {
            s.contents().contains("synced just now") && s.contents().contains("Samantha Booth")
        });
        wait_for(&parser, "an event subject", |s| {
            [
                "standup",
                "Weekly",
                "Office hours",
                "Sync with design",
                "Gym",
            ]
            .iter()
            .any(|w| s.contents().contains(w))
        });
        assert!(
            parser.lock().unwrap().screen().alternate_screen(),
            "the TUI draws on the alternate screen"
        );
        // A second demo on the same dir is refused while this one runs; scripts on the dir see
        // every demo calendar.
        let second = std::process::Command::new(env!("CARGO_BIN_EXE_deltacal"))
            .args(["demo", "--data-dir"])
            .arg(&data)
            .env("DELTACAL_CONFIG", &config)
            .output()
            .unwrap();
        assert_eq!(second.status.code(), Some(2));
        let err = String::from_utf8_lossy(&second.stderr);
        assert!(err.contains("another deltacal demo"), "{err}");
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_deltacal"))
            .arg("--data-dir")
            .arg(&data)
            .arg("status")
            .env_remove("DELTACAL_CONFIG")
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&status.stdout);
        assert!(
            out.contains("calendar:  Calendar [default]") && out.contains("calendar:  Team ["),
            "{out}"
        );

        let mut press = |keys: &[u8]| {
            writer.write_all(keys).unwrap();
            writer.flush().unwrap();
        };
        // Tab and v cycle month -> week -> day -> agenda -> month.
        press(b"v");
        wait_for(&parser, "the week view", |s| {
            s.contents().contains("12:00") && s.contents().contains(" – ")
        });
        let today = chrono::Utc::now().format("%A %-d %B").to_string();
        press(b"\t");
        wait_for(&parser, "the day view", |s| s.contents().contains(&today));
        press(b"v");
        wait_for(&parser, "the agenda", |s| s.contents().contains("from "));
        press(b"v");
        let month = chrono::Utc::now().format("%B %Y").to_string();
        wait_for(&parser, "the month", |s| {
            let title = s.contents().lines().next().unwrap_or("").to_owned();
            title.contains(&month) && !title.contains("from ")
        });
        press(b"a");
        wait_for(&parser, "the agenda again", |s| {
            s.contents().contains("from ")
        });
        press(b"?");
        wait_for(&parser, "the help overlay", |s| {
            s.contents().contains("this help")
        });
        press(b"\x1b");
        wait_for(&parser, "help to close", |s| {
            !s.contents().contains("this help")
        });
        press(b"t");
        press(b"q");
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = child.0.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "deltacal did not quit");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "exit status {status:?}");
        // The terminal is handed back: main screen, cursor shown.
        wait_for(&parser, "the main screen", |s| {
            !s.alternate_screen() && !s.hide_cursor()
        });
    }

    /// `deltacal demo` in a new pseudo-terminal of `size` (rows, columns), on a data dir of
    /// its own under `dir`, with `events` events.
    fn spawn_demo(
        dir: &std::path::Path,
        (rows, cols): (u16, u16),
        events: usize,
    ) -> (portable_pty::PtyPair, KillOnDrop) {
        let config = dir.join("config.toml");
        std::fs::write(&config, "[ui]\ntimezone = \"UTC\"\n").unwrap();
        let pty = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_deltacal"));
        cmd.args(["demo", "--events", &events.to_string(), "--data-dir"]);
        cmd.arg(dir.join("demo-data"));
        cmd.env("DELTACAL_CONFIG", &config);
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("DELTACAL_DATA_DIR");
        let child = KillOnDrop(pty.slave.spawn_command(cmd).unwrap());
        (pty, child)
    }

    /// A demo in a pseudo-terminal, its first sync on screen.
    struct Demo {
        _dir: tempfile::TempDir,
        pty: Box<dyn portable_pty::MasterPty + Send>,
        child: KillOnDrop,
        parser: Arc<Mutex<vt100::Parser>>,
        writer: Box<dyn Write + Send>,
    }

    impl Demo {
        fn start() -> Demo {
            let dir = tempfile::tempdir().unwrap();
            let (pty, child) = spawn_demo(dir.path(), (30, 100), 50);
            drop(pty.slave);
            let mut reader = pty.master.try_clone_reader().unwrap();
            let writer = pty.master.take_writer().unwrap();
            let parser = Arc::new(Mutex::new(vt100::Parser::new(
                30.try_into().unwrap(),
                100.try_into().unwrap(),
                0,
            )));
            let feed = parser.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while let Ok(n) = reader.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    feed.lock().unwrap().process(&buf[..n]);
                }
            });
            wait_for(&parser, "a completed sync", |s| {
                s.alternate_screen() && s.contents().contains("synced just now")
            });
            Demo {
                _dir: dir,
                pty: pty.master,
                child,
                parser,
                writer,
            }
        }

        fn pid(&self) -> i32 {
            self.child.0.process_id().expect("a child process") as i32
        }

        /// The terminal's line discipline as the program left it: echo and line editing on
        /// (cooked, as a shell expects), or off (raw).
        fn cooked(&self) -> bool {
            let fd = self.pty.as_raw_fd().expect("a unix pty");
            let mut termios: libc::termios = unsafe { std::mem::zeroed() };
            // SAFETY: fd is the open master of the pty; termios is a valid out-pointer.
            assert_eq!(unsafe { libc::tcgetattr(fd, &mut termios) }, 0);
            let local = termios.c_lflag;
            local & libc::ECHO != 0 && local & libc::ICANON != 0 && local & libc::ISIG != 0
        }

        fn signal(&self, signal: i32) {
            // SAFETY: the pid is our own child's.
            assert_eq!(unsafe { libc::kill(self.pid(), signal) }, 0);
        }

        /// The process state letter in /proc (`T` stopped, `S`/`R` running).
        fn state(&self) -> char {
            let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap();
            let after = stat
                .rsplit_once(')')
                .expect("stat has the command in parens")
                .1;
            after.trim_start().chars().next().unwrap()
        }

        fn wait_exit(&mut self) -> portable_pty::ExitStatus {
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if let Some(status) = self.child.0.try_wait().unwrap() {
                    return status;
                }
                assert!(Instant::now() < deadline, "deltacal did not exit");
                std::thread::sleep(Duration::from_millis(20));
            }
        }

        /// The terminal is the shell's again: main screen, cursor shown, mouse tracking off,
        /// and cooked.
        fn assert_handed_back(&self, what: &str) {
            wait_for(&self.parser, what, |s| {
                !s.alternate_screen()
                    && !s.hide_cursor()
                    && s.mouse_protocol_mode() == vt100::MouseProtocolMode::None
            });
            assert!(self.cooked(), "{what}: the terminal is left raw");
        }
    }

    /// The terminal window closes: every end of the pty goes, the app gets SIGHUP and reads
    /// end-of-file. It exits, rather than waiting forever on a thread that reads a terminal
    /// no longer there (it did, spinning a core).
    #[test]
    fn the_app_ends_when_its_terminal_hangs_up() {
        let dir = tempfile::tempdir().unwrap();
        let (pty, mut child) = spawn_demo(dir.path(), (24, 80), 20);
        drop(pty.slave);
        // Read here, without a thread of its own, so that dropping the handles closes every
        // end of the pty: non-blocking, which the reader's descriptor shares.
        let fd = pty.master.as_raw_fd().unwrap();
        // SAFETY: fd is the pty master's, open for the length of this test.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
        let mut reader = pty.master.try_clone_reader().unwrap();
        let mut parser = vt100::Parser::new(24.try_into().unwrap(), 80.try_into().unwrap(), 0);
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut buf = [0u8; 8192];
        while !parser.screen().contents().contains("synced just now") {
            assert!(Instant::now() < deadline, "no first sync");
            match reader.read(&mut buf) {
                Ok(0) => panic!("the app ended early"),
                Ok(n) => parser.process(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(e) => panic!("{e}"),
            }
        }
        drop(reader);
        drop(pty.master);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if child.0.try_wait().unwrap().is_some() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "deltacal kept running after its terminal hung up"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, SIGHUP, SIGINT and SIGQUIT each end the app with the terminal restored.
    #[test]
    fn every_quitting_signal_restores_the_terminal() {
        for (signal, name) in [
            (libc::SIGTERM, "SIGTERM"),
            (libc::SIGHUP, "SIGHUP"),
            (libc::SIGINT, "SIGINT"),
            (libc::SIGQUIT, "SIGQUIT"),
        ] {
            let mut demo = Demo::start();
            assert!(!demo.cooked(), "the app runs raw");
            demo.signal(signal);
            demo.assert_handed_back(name);
            let status = demo.wait_exit();
            assert!(status.success(), "{name}: exit status {status:?}");
        }
    }

    /// Ctrl-Z and SIGTSTP suspend like any full-screen program: the terminal is handed back
    /// and the process stops; continued (`fg`), it takes the terminal again and redraws.
    #[test]
    fn ctrl_z_and_sigtstp_suspend_and_fg_comes_back() {
        let mut demo = Demo::start();
        for how in ["Ctrl-Z", "SIGTSTP"] {
            if how == "Ctrl-Z" {
                demo.writer.write_all(b"\x1a").unwrap();
                demo.writer.flush().unwrap();
            } else {
                demo.signal(libc::SIGTSTP);
            }
            demo.assert_handed_back(how);
            let deadline = Instant::now() + Duration::from_secs(20);
            while demo.state() != 'T' {
                assert!(Instant::now() < deadline, "{how}: the process did not stop");
                std::thread::sleep(Duration::from_millis(20));
            }
            demo.signal(libc::SIGCONT);
            wait_for(&demo.parser, "the app again", |s| {
                s.alternate_screen() && s.contents().contains("synced")
            });
            assert!(!demo.cooked(), "{how}: raw again after fg");
        }
        demo.writer.write_all(b"q").unwrap();
        demo.writer.flush().unwrap();
        assert!(demo.wait_exit().success());
        demo.assert_handed_back("quit");
    }
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

#[test]
fn small_and_narrow_terminals_stay_readable() {
    let mut a = app((40, 14));
    let screen = render(&a);
    assert!(
        screen.lines().next().unwrap().contains("November 2026"),
        "{screen}"
    );
    // The help scrolls on a short terminal, so its last row (quit) can be reached.
    a.update(ch('?'));
    let help = render(&a);
    assert!(!help.contains("quit") && help.contains("scroll"), "{help}");
    for _ in 0..60 {
        a.update(ch('j'));
    }
    assert_eq!(
        a.overlay,
        Overlay::Help,
        "moving keys scroll, they do not close"
    );
    assert!(render(&a).contains("wheel"), "{}", render(&a));
    a.update(key(KeyCode::Esc));
    // Below the minimum size: a clear note instead of garbled cells.
    a.update(Action::Resize {
        width: 30,
        height: 8,
    });
    assert!(render(&a).contains("terminal too small (30×8)"));
    // At 130 columns the month would be squeezed beside the pane: the detail is a popup.
    a.update(Action::Resize {
        width: 130,
        height: 30,
    });
    a.update(key(KeyCode::Enter));
    assert_eq!(a.main_area().width, 130);
    a.update(Action::Resize {
        width: 160,
        height: 48,
    });
    assert!(
        a.main_area().width < 160,
        "beside the month from 140 columns on"
    );
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
    let at = deltacal::days::clock(&a.config, until);
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

/// Six events 10:00–11:00 and two 11:00–12:00 on one day: every box keeps to itself, its
/// words inside it, and after scrolling the hours above are counted in the header.
#[test]
fn a_crowded_day_keeps_every_event_in_its_box() {
    let at = |id: &str, from: &str, to: &str, subject: &str| {
        event(
            "default",
            json!({"id": id, "subject": subject,
                   "start": t(&format!("2026-11-24T{from}:00")), "end": t(&format!("2026-11-24T{to}:00"))}),
        )
    };
    let mut crowd: Vec<CachedEvent> = (1..=6)
        .map(|i| {
            at(
                &format!("t{i}"),
                "10:00",
                "11:00",
                &format!("test {i} with a long subject"),
            )
        })
        .collect();
    crowd.push(at("n1", "11:00", "12:00", "Next hour A"));
    crowd.push(at("n2", "11:00", "12:00", "Next hour B"));
    crowd.push(at("early", "01:00", "02:00", "Office hours"));
    crowd.push(at("late", "23:00", "23:30", "Late call"));
    for view in ['w', 'd'] {
        let mut a = app((120, 40));
        a.update(ch(view));
        show_events(&mut a, crowd.clone());
        let grid = a.time_grid(a.main_area()).unwrap();
        for (i, x) in grid.events.iter().enumerate() {
            for y in &grid.events[i + 1..] {
                assert!(
                    x.rect.intersection(y.rect).is_empty(),
                    "{:?} and {:?} overlap",
                    x.rect,
                    y.rect
                );
            }
        }
        let screen = render(&a);
        assert!(!screen.contains("test 3 with a  "), "{screen}");
        insta::assert_snapshot!(format!("crowded_{view}_120x40"), screen);
        // Shorter, and scrolled down past 01:00 while 23:00 is below: counted, not drawn on
        // the edge rows.
        a.update(Action::Resize {
            width: 120,
            height: 20,
        });
        for _ in 0..3 {
            a.update(ch('J'));
        }
        let grid = a.time_grid(a.main_area()).unwrap();
        assert!(grid.first_hour >= 2, "{}", grid.first_hour);
        let screen = render(&a);
        assert!(!screen.contains("Office hours"), "{screen}");
        assert!(screen.contains('▲') && screen.contains('▼'), "{screen}");
        insta::assert_snapshot!(format!("crowded_{view}_scrolled_120x40"), screen);
    }
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

/// The style of the first cell of `needle` on the screen.
fn style_of(app: &App, needle: &str) -> ratatui::style::Style {
    let mut terminal = Terminal::new(TestBackend::new(app.size.0, app.size.1)).unwrap();
    terminal.draw(|f| deltacal::ui::draw::draw(f, app)).unwrap();
    let buffer = terminal.backend().buffer().clone();
    for y in 0..buffer.area.height {
        let row: String = (0..buffer.area.width)
            .map(|x| buffer[(x, y)].symbol().to_owned())
            .collect();
        if let Some(at) = row.find(needle) {
            let x = row[..at].chars().count() as u16;
            return buffer[(x, y)].style();
        }
    }
    panic!("{needle} not on screen:\n{}", render(app));
}

/// Declined events are dimmed in every view; in the agenda, so is what is over.
#[test]
fn declined_and_past_events_are_dimmed() {
    use ratatui::style::Modifier;
    let mut fixture = events();
    fixture.push(event(
        "default",
        json!({"id": "nope", "subject": "Declined sync", "responseStatus": {"response": "declined"},
               "start": t("2026-11-24T11:00:00"), "end": t("2026-11-24T12:00:00")}),
    ));
    for view in ['m', 'w', 'a'] {
        let mut a = app_with((160, 48), fixture.clone());
        a.update(ch(view));
        let effects = a.update(Action::Reload);
        run_effects(&mut a, effects);
        let declined = style_of(&a, "Declined");
        assert!(
            declined.add_modifier.contains(Modifier::DIM),
            "{view}: {declined:?}"
        );
    }
    let mut a = app_with((160, 48), fixture);
    a.update(ch('a'));
    let effects = a.update(Action::Reload);
    run_effects(&mut a, effects);
    // The standup (09:00-09:15) is over at 10:00; the review at 13:00 is not.
    assert!(
        style_of(&a, "Daily standup")
            .add_modifier
            .contains(Modifier::DIM)
    );
    assert!(
        !style_of(&a, "Design review")
            .add_modifier
            .contains(Modifier::DIM)
    );
}

#[test]
fn the_detail_pane_says_graphs_codes_in_words() {
    let mut a = app((100, 30));
    let e = event(
        "default",
        json!({"id": "w", "subject": "Offsite", "start": t("2026-11-24T09:00:00"), "end": t("2026-11-24T10:00:00"),
               "showAs": "workingElsewhere", "responseStatus": {"response": "notResponded"},
               "type": "exception", "seriesMasterId": "m",
               "attendees": [{"type": "resource", "status": {"response": "tentativelyAccepted"},
                              "emailAddress": {"name": "Room 2", "address": "room2@contoso.com"}}]}),
    );
    show_events(&mut a, vec![e]);
    let effects = a.update(key(KeyCode::Enter));
    run_effects(&mut a, effects);
    let screen = render(&a);
    for want in [
        "working elsewhere, you: not answered",
        "a changed occurrence of a recurring series",
        "? Room 2 <room2@contoso.com> (room)",
    ] {
        assert!(screen.contains(want), "{want}: {screen}");
    }
    assert!(
        !screen.contains("workingElsewhere") && !screen.contains("notResponded"),
        "{screen}"
    );
}
