//! What opens over the views: the detail pane, search, go-to, the calendars panel, the reminder
//! banner, links.

use super::*;

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
    assert_eq!(a.top(), Some(OverlayKind::Detail));
    a.update(key(KeyCode::Down));
    assert_eq!(
        a.selected_event().unwrap().event.id,
        "standup",
        "arrows move between the day's events in the detail pane"
    );
    a.update(key(KeyCode::Esc));
    assert_eq!(a.top(), None);
    // A day without events opens nothing.
    a.update(ch('l'));
    a.update(ch('l'));
    a.update(ch('l'));
    a.update(ch('l'));
    a.update(key(KeyCode::Enter));
    assert_eq!(a.top(), None);
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
    let Some(Overlay::Search(s)) = a.overlays.last() else {
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
    assert_eq!(a.top(), Some(OverlayKind::Detail));
    assert_eq!(a.selected_event().unwrap().event.id, "dentist");
    a.update(key(KeyCode::Esc));
    a.update(ch('/'));
    a.update(key(KeyCode::Esc));
    assert_eq!(a.top(), None);
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
    let Some(Overlay::Search(s)) = a.overlays.last() else {
        panic!("search open")
    };
    let upcoming = s.selected;
    let first_day = deltacal::days::event_days(&s.results[upcoming].event, &a.config.display.zone)
        .unwrap()
        .1;
    assert!(
        first_day >= a.today,
        "the first hit from today on is selected"
    );
    assert!(s.results[..upcoming].iter().all(|c| {
        deltacal::days::event_days(&c.event, &a.config.display.zone)
            .unwrap()
            .1
            < a.today
    }));
    // Arrows and page keys move through the hits without leaving the query.
    a.update(key(KeyCode::Down));
    a.update(key(KeyCode::PageUp));
    let Some(Overlay::Search(s)) = a.overlays.last() else {
        panic!("search open")
    };
    assert!(s.editing);
    assert_eq!(
        s.selected, 0,
        "a page up from near the top goes to the first hit"
    );
    a.update(key(KeyCode::PageDown));
    let Some(Overlay::Search(s)) = a.overlays.last() else {
        panic!("search open")
    };
    assert_eq!(s.selected, (s.results.len() - 1).min(10));
}

#[test]
fn g_goes_to_a_typed_date_and_says_what_it_cannot_read() {
    let mut a = app((80, 24));
    a.update(ch('g'));
    assert_eq!(a.top(), Some(OverlayKind::GoTo));
    // Letters type into the prompt; none of them acts as a command.
    for c in "2027-02-30".chars() {
        assert!(a.update(ch(c)).is_empty());
    }
    assert!(!a.quit);
    assert!(a.update(key(KeyCode::Enter)).is_empty());
    let Some(Overlay::GoTo(prompt)) = a.overlays.last() else {
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
    assert_eq!(a.top(), None);
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
    assert_eq!(a.top(), None);
    assert_eq!(a.selected, a.today + chrono::Duration::weeks(2));
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
    assert_eq!(a.top(), Some(OverlayKind::Detail));
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
fn the_detail_pane_scrolls_with_the_page_keys_and_the_wheel() {
    for size in [(80, 24), (160, 48)] {
        let mut a = app(size);
        show_events(&mut a, vec![long_event()]);
        a.update(key(KeyCode::Enter));
        assert_eq!(a.top(), Some(OverlayKind::Detail));
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
        assert_screen(&name, screen);
        // Scrolling up past the top stops there; the wheel scrolls too.
        for _ in 0..60 {
            a.update(key(KeyCode::PageUp));
        }
        assert_eq!(a.detail().map_or(0, |d| d.scroll), 0);
        a.update(Action::Wheel { down: true });
        assert_eq!(a.detail().map_or(0, |d| d.scroll), 3);
        assert_eq!(
            a.top(),
            Some(OverlayKind::Detail),
            "the wheel scrolls, it does not close"
        );
        // A page is the pane's rows less one: the last line of a page is the first of the
        // next. Space pages too; End goes to the end and Home back to the top.
        let (rows, end) = deltacal::ui::app::pane::scroll_room(&a);
        let page = rows - 1;
        assert!(rows >= 10 && end > 0, "{rows} rows, {end} past them");
        a.update(key(KeyCode::Home));
        assert_eq!(a.detail().map_or(0, |d| d.scroll), 0);
        a.update(key(KeyCode::PageDown));
        assert_eq!(a.detail().map_or(0, |d| d.scroll), page.min(end));
        a.update(ch(' '));
        assert_eq!(a.detail().map_or(0, |d| d.scroll), (2 * page).min(end));
        a.update(key(KeyCode::End));
        assert_eq!(a.detail().map_or(0, |d| d.scroll), end);
        assert!(render(&a).contains("Last line of the notes."));
        assert!(render(&a).contains("(end: PgUp PgDn)"), "{}", render(&a));
        a.update(ch(' '));
        assert_eq!(
            a.detail().map_or(0, |d| d.scroll),
            end,
            "no further than the end"
        );
        a.update(key(KeyCode::PageUp));
        assert_eq!(
            a.detail().map_or(0, |d| d.scroll),
            end.saturating_sub(page),
            "a page up from the end"
        );
        a.update(key(KeyCode::Home));
        assert_eq!(a.detail().map_or(0, |d| d.scroll), 0);
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
    assert_eq!(a.top(), Some(OverlayKind::Detail));
    assert_eq!(a.selected_event().unwrap().event.id, "c");
    // Deleted: the pane closes and says so, instead of showing its neighbour.
    show_events(&mut a, vec![at("a", 9), at("b", 10)]);
    assert_eq!(a.top(), None);
    let screen = render(&a);
    assert!(screen.contains("deleted or moved"), "{screen}");
    a.update(ch('l'));
    assert!(
        !render(&a).contains("deleted or moved"),
        "the note goes with the next key"
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

#[test]
fn overlays_stack_and_each_keeps_its_own_state() {
    let mut a = app((80, 24));
    a.update(key(KeyCode::Enter));
    a.update(ch('?'));
    assert_eq!(a.top(), Some(OverlayKind::Help), "help opens over the pane");
    assert!(a.detail().is_some(), "the pane stays under it");
    // The help scrolls by its own keys: a page, not the next month.
    a.update(key(KeyCode::PageDown));
    assert_eq!(help_scroll(&a), 10);
    a.update(key(KeyCode::Home));
    assert_eq!(help_scroll(&a), 0);
    let selected = a.selected;
    a.update(ch('n'));
    assert_eq!(
        (help_scroll(&a), a.selected),
        (0, selected),
        "`n` is the month's key, and the help swallows it"
    );
    a.update(key(KeyCode::Esc));
    assert_eq!(
        a.top(),
        Some(OverlayKind::Detail),
        "closing the help uncovers the pane"
    );
    a.update(key(KeyCode::Esc));
    assert_eq!(a.top(), None);
    // Open again, each is on the stack once.
    a.update(key(KeyCode::Enter));
    a.update(ch('?'));
    a.update(key(KeyCode::Esc));
    a.update(ch('?'));
    assert_eq!(a.overlays.len(), 2, "{:?}", a.overlays);
}

#[test]
fn the_wheel_is_the_top_overlay_s_to_scroll_and_never_a_key() {
    let mut a = app((80, 24));
    a.update(ch('c'));
    let panel_row = |a: &Harness| match a.overlays.last() {
        Some(Overlay::Calendars(panel)) => panel.selected,
        other => panic!("{other:?}"),
    };
    let last = a.config.calendars.len() - 1;
    for _ in 0..=last {
        a.update(Action::Wheel { down: true });
    }
    assert_eq!(panel_row(&a), last, "down the rows, and no further");
    a.update(Action::Wheel { down: false });
    assert_eq!(panel_row(&a), last.saturating_sub(1));
    a.update(key(KeyCode::Esc));
    a.update(ch('?'));
    a.update(Action::Wheel { down: true });
    a.update(Action::Wheel { down: true });
    assert_eq!(help_scroll(&a), 2);
    a.update(Action::Wheel { down: false });
    assert_eq!(help_scroll(&a), 1);
    a.update(key(KeyCode::Esc));
    // Over the month, it moves as the arrows do: a week.
    let before = a.selected;
    a.update(Action::Wheel { down: true });
    assert_eq!(a.selected, before + chrono::Duration::days(7));
}
