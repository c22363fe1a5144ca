//! The month, week, day and agenda views: keys, layout, snapshots, dimming.

use super::*;

#[test]
fn snapshots_of_every_view_and_overlay() {
    for size in [(80, 24), (160, 48)] {
        let mut a = app(size);
        snapshot("month", &a);

        a.update(key(KeyCode::Enter));
        assert_eq!(a.top(), Some(OverlayKind::Detail));
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
            .filter(|c| deltacal::days::occupies(&c.event, &a.config.display.zone, day, day))
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
            .events_in_days(&a.shown_views(), &a.config.display.zone, first, last)
            .unwrap();
        assert!(whole.len() > read + 50, "at {size:?}");
        show_events(&mut a, whole);
        assert_eq!(capped, render(&a), "at {size:?}");
    }
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
    for _ in 0..120 {
        a.update(ch('j'));
    }
    assert_eq!(
        a.top(),
        Some(OverlayKind::Help),
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
        assert_screen(&format!("crowded_{view}_120x40"), screen);
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
        assert_screen(&format!("crowded_{view}_scrolled_120x40"), screen);
    }
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

/// Styles that carry meaning, in colour: the selected day and event, today, a cancelled event
/// (struck through), each calendar's colour, the status bar. A snapshot of the styles, so a
/// change to any of them is seen.
#[test]
fn styles_that_carry_meaning_are_snapshotted() {
    use ratatui::style::Modifier;
    for (view, name) in [('m', "month"), ('w', "week"), ('a', "agenda")] {
        let mut a = app((80, 24));
        a.theme = Theme { color: true };
        a.update(ch(view));
        let effects = a.update(Action::Reload);
        run_effects(&mut a, effects);
        assert_screen(&format!("styled_{name}_80x24"), styled(&a));
    }
    // And the meaning itself, whatever the snapshot says.
    let mut a = app((160, 48));
    a.theme = Theme { color: true };
    a.update(ch('a'));
    let effects = a.update(Action::Reload);
    run_effects(&mut a, effects);
    let cancelled = style_of(&a, "Canceled: 1:1");
    assert!(
        cancelled.add_modifier.contains(Modifier::CROSSED_OUT),
        "{cancelled:?}"
    );
    let selected = style_of(&a, "Trip to Tokyo");
    assert!(
        selected.add_modifier.contains(Modifier::REVERSED),
        "the selected event: {selected:?}"
    );
}

/// `[ui] second_timezone`: a second hour column in the week and day views, its times those of
/// the selected day (on a day the clocks change there, the labels jump as the clocks do); the
/// detail pane names an event's own zone when its times there differ.
#[test]
fn a_second_zone_beside_the_hours_and_an_events_own_zone() {
    let config = CONFIG.replace("[ui]\n", "[ui]\nsecond_timezone = \"America/New_York\"\n");
    let mut fixture = events();
    for c in &mut fixture {
        if c.event.id.as_str() == "standup" {
            c.event.zone = Some("Pacific Standard Time".into());
        }
    }
    for size in [(80, 24), (160, 48)] {
        let mut a = app_configured(size, fixture.clone(), &config);
        a.update(ch('w'));
        load(&mut a);
        snapshot("week_second_zone", &a);
        a.update(ch('d'));
        load(&mut a);
        snapshot("day_second_zone", &a);
        let screen = render(&a);
        // 24 November: New York is five hours behind UTC.
        assert!(screen.contains("09:00 04:00"), "{screen}");
        assert!(screen.contains("EST"), "{screen}");
    }
    // 8 March 2026: New York moves its clocks at 07:00 UTC.
    let mut a = app_configured((160, 48), fixture.clone(), &config);
    a.update(ch('d'));
    a.selected = d("2026-03-08");
    load(&mut a);
    let screen = render(&a);
    assert!(screen.contains("06:00 01:00"), "{screen}");
    assert!(screen.contains("07:00 03:00"), "{screen}");
    // The standup, made in Pacific time: its times there, in the detail pane.
    let mut a = app_configured((160, 48), fixture, &config);
    a.update(key(KeyCode::Enter));
    for _ in 0..10 {
        if render(&a).contains("Daily standup") {
            break;
        }
        let effects = a.update(key(KeyCode::Down));
        run_effects(&mut a, effects);
    }
    let screen = render(&a);
    assert!(
        screen.contains("01:00–01:15 Pacific Standard Time"),
        "{screen}"
    );
}
