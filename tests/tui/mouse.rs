//! Clicks, double clicks and the wheel.

use super::*;

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
    assert_eq!(a.top(), None);
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
    // A click on empty grid selects its day and remembers the slot (`N` starts there); a
    // double click on an event opens it.
    a.update(click(155, 12));
    assert_eq!(a.selected, d("2026-11-29"));
    assert_eq!(a.slot.map(|s| s.0), Some(d("2026-11-29")));
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
    assert_eq!(a.top(), Some(OverlayKind::Detail));
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
    assert_eq!(help_scroll(&a), 1);
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
    assert_eq!(a.top(), Some(OverlayKind::Detail));
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
    assert_eq!(a.top(), None);
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
    assert_eq!(a.top(), Some(OverlayKind::Detail));
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
