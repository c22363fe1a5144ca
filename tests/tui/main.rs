//! The TUI without a terminal: `update` for every key, snapshots of every view and overlay at
//! two sizes (fixed clock and data), and the real binary in a pseudo-terminal. One test binary,
//! by subject: the views, the overlays (detail, search, go-to, calendars, banner), the mouse,
//! the sync and sign-in on the status bar, and the pseudo-terminal runs; this file holds the
//! harness they share.

#![allow(clippy::unwrap_used)]

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use deltacal::auth::signin::SignInEvent as SignInUpdate;
use deltacal::config::Config;
use deltacal::failure::FailureKind;
use deltacal::model::{CachedEvent, Change, Event, EventRef, ViewKey};
use deltacal::store::{RoundCounts, Store};
use deltacal::sync::{RoundSummary, SyncEvent};
use deltacal::ui::app::{Action, App, Effect, Overlay, OverlayKind, SignIn, SyncActivity};
use deltacal::ui::keys::{KeyCode, KeyEvent, KeyModifiers};
use deltacal::ui::runner::{EffectRunner, Request};
use deltacal::ui::theme::Theme;
use deltacal::ui::view::ViewKind;
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
    /// The cache the runner reads (the tests write the outbox through it, as the background
    /// task does).
    store: Arc<Store>,
    _dir: tempfile::TempDir,
}

/// How far the help is scrolled (0 when it is not the top overlay).
fn help_scroll(app: &App) -> u16 {
    match app.overlays.last() {
        Some(Overlay::Help(help)) => help.scroll,
        _ => 0,
    }
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
        let state = deltacal::store::Cursor::new(window);
        store
            .commit_pages(view, &[deltacal::store::PageJob::new(&changes, &state)])
            .unwrap();
    }
    Arc::new(store)
}

fn app(size: (u16, u16)) -> Harness {
    app_with(size, events())
}

fn app_with(size: (u16, u16), fixture: Vec<CachedEvent>) -> Harness {
    app_configured(size, fixture, CONFIG)
}

/// [`app_with`] under another config.
fn app_configured(size: (u16, u16), fixture: Vec<CachedEvent>, config: &str) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let config = Arc::new(Config::from_toml(config, None, dir.path().to_owned()).unwrap());
    let (requests_tx, requests) = tokio::sync::mpsc::unbounded_channel();
    let store = fixture_store_with(dir.path(), fixture);
    let runner = EffectRunner::new(store.clone(), requests_tx);
    let app = App::new(config, Theme { color: false }, now(), size);
    let mut app = Harness {
        app,
        runner,
        requests,
        store,
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
    assert_screen(&format!("{name}_{size}"), render(app));
}

/// Checks a screen against its snapshot, `tests/snapshots/tui__NAME.snap`, whichever module
/// of the suite asks.
fn assert_screen(name: &str, screen: String) {
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(format!("tui__{name}"), screen);
    });
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

/// The screen with its styles: each row's text, then under it a letter per cell naming the
/// cell's style (`.` for the default), with a legend of the letters at the end, in order of
/// first use. A snapshot of it fails when a style that carries meaning (the selection, a
/// cancelled event, a calendar's colour, today) changes, which the text alone cannot.
fn styled(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(app.size.0, app.size.1)).unwrap();
    terminal.draw(|f| deltacal::ui::draw::draw(f, app)).unwrap();
    let buffer = terminal.backend().buffer().clone();
    let mut legend: Vec<ratatui::style::Style> = Vec::new();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        let (mut text, mut marks) = (String::new(), String::new());
        let mut skip = 0;
        for x in 0..buffer.area.width {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let cell = &buffer[(x, y)];
            let width = unicode_width::UnicodeWidthStr::width(cell.symbol()).max(1);
            skip = width - 1;
            text.push_str(cell.symbol());
            let style = cell.style();
            let plain = |c: Option<ratatui::style::Color>| {
                c.is_none_or(|c| c == ratatui::style::Color::Reset)
            };
            let mark = if plain(style.fg)
                && plain(style.bg)
                && plain(style.underline_color)
                && style.add_modifier.is_empty()
            {
                '.'
            } else {
                let i = legend.iter().position(|s| *s == style).unwrap_or_else(|| {
                    legend.push(style);
                    legend.len() - 1
                });
                char::from(b'a' + i as u8)
            };
            marks.extend(std::iter::repeat_n(mark, width));
        }
        out.push_str(&format!(
            "{}\n{}\n",
            text.trim_end(),
            marks.trim_end_matches('.')
        ));
    }
    for (i, style) in legend.iter().enumerate() {
        out.push_str(&format!("{} = {style:?}\n", char::from(b'a' + i as u8)));
    }
    out
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

mod mouse;
mod overlays;
/// The demo in a real terminal: needs the emulator.
#[cfg(feature = "emulator")]
mod pty;
mod sync;
mod views;
mod writes;
