//! Changing the calendar from the TUI: every write key and form through `update` and the UI's
//! effect runner, with the outbox written as the background task writes it; snapshots of the
//! forms, the invitations panel and the marks.

use super::*;
use deltacal::store::{Answer, OutboxEntry, OutboxState, PendingChange, SendOutcome};
use deltacal::ui::app::{FormPurpose, LocalState};

fn shift(code: KeyCode) -> Action {
    Action::Key(KeyEvent::new(code, KeyModifiers::SHIFT))
}

fn typed(a: &mut Harness, text: &str) {
    for c in text.chars() {
        let effects = a.update(ch(c));
        run_effects(a, effects);
    }
}

/// Presses a key and performs what it asks, as the loop does.
fn press(a: &mut Harness, action: Action) -> Vec<Effect> {
    let effects = a.update(action);
    run_effects(a, effects.clone());
    effects
}

/// Does what the background task does with the app's requests: writes changes to the outbox,
/// takes them back, and reports to the app. Returns the requests served.
fn serve(a: &mut Harness) -> Vec<Request> {
    let mut served = Vec::new();
    let mut ids = std::collections::HashMap::new();
    for c in &a.changes {
        if let Some(id) = c.id {
            ids.insert(c.seq, id);
        }
    }
    while let Ok(request) = a.requests.try_recv() {
        served.push(request.clone());
        let action = match request {
            Request::Queue { seq, entry } => {
                let id = a.store.queue(*entry).unwrap();
                ids.insert(seq, id);
                Action::Queued { seq, id }
            }
            Request::Undo { seq } => Action::Undone {
                seq,
                withdrawn: a.store.withdraw(ids[&seq]).unwrap(),
            },
            Request::Retry { id, force } => {
                a.store.retry_change(id, force, now()).unwrap();
                Action::Reload
            }
            Request::Drop { id } => {
                a.store.drop_change(id).unwrap();
                Action::Reload
            }
            _ => continue,
        };
        let effects = a.update(action);
        run_effects(a, effects);
    }
    served
}

/// The screen without its status bar (whose note names the event a change was made to).
fn view(a: &App) -> String {
    let screen = render(a);
    let mut lines: Vec<&str> = screen.lines().collect();
    lines.pop();
    lines.join("\n")
}

fn form(a: &App) -> &deltacal::ui::app::Form {
    match a.overlays.last() {
        Some(Overlay::Form(f)) => f,
        other => panic!("no form on top: {other:?}"),
    }
}

fn queued(effects: &[Effect]) -> (&OutboxEntry, bool) {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::Queue { entry, series, .. } => Some((entry.as_ref(), *series)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("nothing queued: {effects:?}"))
}

/// Selects the event `id` on its day (the fixture's day unless moved).
fn select_event(a: &mut Harness, id: &str) {
    for _ in 0..10 {
        press(a, ch('['));
    }
    for _ in 0..10 {
        if a.selected_event()
            .is_some_and(|c| c.event.id.as_str() == id)
        {
            return;
        }
        press(a, ch(']'));
    }
    panic!("{id} is not on the selected day");
}

fn invitation(id: &str, subject: &str, at: &str) -> CachedEvent {
    event(
        "default",
        json!({"id": id, "subject": subject, "start": t(&format!("2026-11-24T{at}:00")),
               "end": t(&format!("2026-11-24T{at}:30")),
               "organizer": {"emailAddress": {"name": "Megan Bowen", "address": "meganb@contoso.com"}},
               "responseStatus": {"response": "notResponded"}, "isOrganizer": false,
               "changeKey": format!("ck-{id}"), "@odata.etag": format!("W/\"{id}\"")}),
    )
}

/// The fixture with two invitations, a meeting the user organizes with attendees, and an
/// occurrence of a series.
fn with_invitations() -> Vec<CachedEvent> {
    let mut all = events();
    all.push(invitation("inv1", "Budget review", "11:00"));
    all.push(invitation("inv2", "Hiring sync", "16:30"));
    all.push(event(
        "default",
        json!({"id": "mine", "subject": "Roadmap", "isOrganizer": true,
               "responseStatus": {"response": "organizer"},
               "organizer": {"emailAddress": {"name": "Samantha Booth", "address": "samanthab@contoso.com"}},
               "attendees": [
                   {"type": "required", "emailAddress": {"name": "Alex Wilber", "address": "alexw@contoso.com"}},
                   {"type": "required", "emailAddress": {"name": "Lee Gu", "address": "leeg@contoso.com"}}],
               "start": t("2026-11-24T12:00:00"), "end": t("2026-11-24T12:30:00"), "changeKey": "ck-mine"}),
    ));
    all.push(long_event());
    all
}

#[test]
fn quick_add_previews_what_it_understood_and_queues_it_shown_at_once() {
    let mut a = app((120, 40));
    press(&mut a, ch('N'));
    assert_eq!(a.top(), Some(OverlayKind::Form));
    typed(&mut a, "14:00 1h Planning @ Room 4 with bob@contoso.com");
    let f = form(&a);
    assert_eq!(f.error, None);
    // On the selected day (the line names none), in the display zone.
    assert_eq!(
        f.preview[0], "Tue 24 Nov 2026, 14:00–15:00 · Planning",
        "{:?}",
        f.preview
    );
    assert!(
        f.preview.contains(&"at Room 4".to_owned()),
        "{:?}",
        f.preview
    );
    assert!(f.preview.contains(&"with bob@contoso.com".to_owned()));
    // Tab to Teams, Space turns it on: the preview says so.
    press(&mut a, key(KeyCode::Tab));
    press(&mut a, ch(' '));
    assert!(
        form(&a)
            .preview
            .contains(&"with a Teams meeting".to_owned())
    );
    let effects = press(&mut a, key(KeyCode::Enter));
    let (entry, series) = queued(&effects);
    assert!(!series);
    let PendingChange::Create { event, .. } = &entry.change else {
        panic!("{entry:?}");
    };
    assert_eq!(event["subject"], "Planning");
    assert_eq!(event["isOnlineMeeting"], true);
    assert_eq!(event["start"]["dateTime"], "2026-11-24T14:00:00");
    // The undo wait: 5 s by default.
    assert_eq!(entry.not_before, now() + chrono::Duration::seconds(5));
    assert_eq!(a.top(), None);
    // Shown at once, marked, before the background has written anything.
    let screen = render(&a);
    assert!(
        screen.contains("◌ Planning") || screen.contains("◌ Plan"),
        "{screen}"
    );
    assert!(screen.contains("1 to send"), "{screen}");
    assert!(a.note.as_deref().unwrap().contains("u undoes"));
    serve(&mut a);
    let outbox = a.store.outbox().unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].state, OutboxState::Queued);
    // Read back from the cache: still shown, once.
    let screen = view(&a);
    assert_eq!(screen.matches("Planning").count(), 1, "{screen}");
}

#[test]
fn quick_add_says_what_it_cannot_read_and_sends_nothing() {
    let mut a = app((120, 40));
    press(&mut a, ch('N'));
    assert!(form(&a).error.as_deref().unwrap().contains("type e.g."));
    typed(&mut a, "Planning");
    let error = form(&a).error.clone().unwrap();
    assert!(error.contains("when? give a time"), "{error}");
    let effects = press(&mut a, key(KeyCode::Enter));
    assert!(!effects.iter().any(|e| matches!(e, Effect::Queue { .. })));
    assert_eq!(
        a.top(),
        Some(OverlayKind::Form),
        "the form stays, with the error"
    );
    press(&mut a, key(KeyCode::Backspace));
    assert_eq!(form(&a).text("What"), "Plannin");
    press(&mut a, key(KeyCode::Esc));
    assert_eq!(a.top(), None);
    assert!(
        a.requests.try_recv().is_err(),
        "nothing was asked of the background"
    );
}

#[test]
fn answering_sends_the_answer_with_a_message_and_refuses_what_graph_would() {
    let mut a = app_with((120, 40), with_invitations());
    select_event(&mut a, "inv1");
    press(&mut a, ch('A'));
    assert!(matches!(
        &form(&a).purpose,
        FormPurpose::Answer {
            answer: Answer::Accept,
            propose: false,
            ..
        }
    ));
    typed(&mut a, "See you there");
    let effects = press(&mut a, key(KeyCode::Enter));
    let (entry, _) = queued(&effects);
    assert_eq!(
        entry.change,
        PendingChange::Answer {
            answer: Answer::Accept,
            comment: Some("See you there".into()),
            send: true,
            propose: None,
        }
    );
    assert_eq!(entry.event.as_ref().unwrap().as_str(), "inv1");
    assert_eq!(entry.base_change_key.as_deref(), Some("ck-inv1"));
    // The user's own meeting and a cancelled one: said before anything opens.
    select_event(&mut a, "mine");
    press(&mut a, ch('T'));
    assert_eq!(a.top(), None);
    assert!(
        a.note.as_deref().unwrap().contains("your own meeting"),
        "{:?}",
        a.note
    );
    select_event(&mut a, "cancelled");
    press(&mut a, ch('D'));
    assert_eq!(a.top(), None);
    assert!(a.note.as_deref().unwrap().contains("is cancelled"));
}

#[test]
fn proposing_a_time_shows_what_it_understood_and_sends_it() {
    let mut a = app_with((120, 40), with_invitations());
    select_event(&mut a, "inv2");
    press(&mut a, ch('P'));
    assert!(
        form(&a)
            .error
            .as_deref()
            .unwrap()
            .contains("give the new time")
    );
    typed(&mut a, "tue 16:00..17:00");
    assert_eq!(
        form(&a).preview[0],
        "Proposes: Tue 24 Nov 2026, 16:00–17:00"
    );
    // Tab to the answer; → makes it decline.
    press(&mut a, key(KeyCode::Tab));
    press(&mut a, key(KeyCode::Right));
    let effects = press(&mut a, key(KeyCode::Enter));
    let (entry, _) = queued(&effects);
    let PendingChange::Answer {
        answer, propose, ..
    } = &entry.change
    else {
        panic!("{entry:?}");
    };
    assert_eq!(*answer, Answer::Decline);
    let propose = propose.as_ref().unwrap();
    assert_eq!(propose["start"]["dateTime"], "2026-11-24T16:00:00");
    assert_eq!(propose["end"]["dateTime"], "2026-11-24T17:00:00");
}

#[test]
fn an_occurrence_asks_this_one_or_the_whole_series() {
    let mut a = app_with((120, 40), with_invitations());
    select_event(&mut a, "long");
    press(&mut a, ch('X'));
    let f = form(&a);
    assert!(f.fields.iter().any(|f| f.label == "Change"), "{f:?}");
    press(&mut a, key(KeyCode::Right));
    assert!(form(&a).preview[0].starts_with("The whole series"));
    let effects = a.update(key(KeyCode::Enter));
    let (entry, series) = queued(&effects);
    assert!(series);
    assert_eq!(entry.event.as_ref().unwrap().as_str(), "long");
    // The runner names the series' master in what it asks the background to queue.
    run_effects(&mut a, effects);
    let served = serve(&mut a);
    let Some(Request::Queue { entry, .. }) = served.first() else {
        panic!("{served:?}");
    };
    assert_eq!(entry.event.as_ref().unwrap().as_str(), "m1");
    assert_eq!(entry.change, PendingChange::Delete);
}

#[test]
fn the_edit_form_sends_only_what_changed() {
    let mut a = app((120, 40));
    let effects = a.update(ch('l'));
    run_effects(&mut a, effects);
    press(&mut a, key(KeyCode::Left));
    // Monday 30 Nov: the dentist.
    let effects = press(&mut a, ch('g'));
    drop(effects);
    typed(&mut a, "2026-11-30");
    press(&mut a, key(KeyCode::Enter));
    select_event(&mut a, "dentist");
    press(&mut a, ch('E'));
    let f = form(&a);
    assert_eq!(f.text("Subject"), "Dentist");
    assert_eq!(f.text("Start"), "2026-11-30 08:00");
    assert_eq!(f.text("End"), "2026-11-30 09:00");
    assert_eq!(f.error.as_deref(), Some("Nothing changed yet."));
    typed(&mut a, " (Dr Ng)");
    assert_eq!(form(&a).preview[1], "Sends only: subject");
    // To Start: a new start alone keeps the length.
    press(&mut a, key(KeyCode::Tab));
    for _ in 0..5 {
        press(&mut a, key(KeyCode::Backspace));
    }
    typed(&mut a, "10:30");
    assert_eq!(form(&a).preview[0], "Becomes: Mon 30 Nov 2026, 10:30–11:30");
    let effects = press(&mut a, key(KeyCode::Enter));
    let (entry, _) = queued(&effects);
    let PendingChange::Update { fields } = &entry.change else {
        panic!("{entry:?}");
    };
    let mut keys: Vec<&String> = fields.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["end", "start", "subject"]);
    assert_eq!(fields["subject"], "Dentist (Dr Ng)");
    assert_eq!(fields["start"]["dateTime"], "2026-11-30T10:30:00");
    // Shown at its new time at once.
    let shown = a.selected_event().unwrap();
    assert_eq!(shown.event.title(), "Dentist (Dr Ng)");
    assert!(view(&a).contains("10:30 ◌ Dentist"), "{}", view(&a));
}

#[test]
fn the_edit_form_turns_an_event_all_day_and_checks_as_you_type() {
    let mut a = app((120, 40));
    select_event(&mut a, "standup");
    press(&mut a, ch('E'));
    // To "All day" (the fourth field).
    for _ in 0..3 {
        press(&mut a, key(KeyCode::Tab));
    }
    press(&mut a, ch(' '));
    let effects = a.update(key(KeyCode::Enter));
    let (entry, _) = queued(&effects);
    let PendingChange::Update { fields } = &entry.change else {
        panic!("{entry:?}");
    };
    assert_eq!(fields["isAllDay"], true);
    assert_eq!(fields["start"]["dateTime"], "2026-11-24T00:00:00");
    assert_eq!(fields["end"]["dateTime"], "2026-11-25T00:00:00");
    // A bad time is named as it is typed.
    let mut b = app((120, 40));
    select_event(&mut b, "standup");
    press(&mut b, ch('E'));
    press(&mut b, key(KeyCode::Tab));
    typed(&mut b, "x");
    let error = form(&b).error.clone().unwrap();
    assert!(error.starts_with("start:"), "{error}");
}

#[test]
fn shift_arrows_move_the_selected_event_and_the_selection_follows() {
    let mut a = app((120, 40));
    press(&mut a, ch('w'));
    select_event(&mut a, "standup");
    let effects = press(&mut a, shift(KeyCode::Down));
    let (entry, _) = queued(&effects);
    let PendingChange::Update { fields } = &entry.change else {
        panic!("{entry:?}");
    };
    assert_eq!(fields["start"]["dateTime"], "2026-11-24T09:15:00");
    assert_eq!(fields["end"]["dateTime"], "2026-11-24T09:30:00");
    assert_eq!(fields.as_object().unwrap().len(), 2);
    assert_eq!(a.selected_event().unwrap().event.id.as_str(), "standup");
    assert!(render(&a).contains("◌"));
    let effects = press(&mut a, shift(KeyCode::Right));
    let (entry, _) = queued(&effects);
    let PendingChange::Update { fields } = &entry.change else {
        panic!("{entry:?}");
    };
    // From the version the first move shows.
    assert_eq!(fields["start"]["dateTime"], "2026-11-25T09:15:00");
    assert_eq!(a.selected, d("2026-11-25"));
    assert_eq!(a.selected_event().unwrap().event.id.as_str(), "standup");
    // In the month, Shift+↓ does not move by minutes: it says where it does.
    let mut m = app((120, 40));
    select_event(&mut m, "standup");
    let effects = press(&mut m, shift(KeyCode::Down));
    assert!(effects.is_empty());
    assert!(m.note.as_deref().unwrap().contains("week and day views"));
}

#[test]
fn deleting_names_the_event_and_a_meeting_with_attendees_is_cancelled_with_a_message() {
    let mut a = app_with((120, 40), with_invitations());
    select_event(&mut a, "mine");
    press(&mut a, ch('X'));
    let f = form(&a);
    assert_eq!(
        deltacal::ui::changes::title(f),
        "Cancel “Roadmap” for 2 attendee(s)?"
    );
    typed(&mut a, "Moved to next week");
    let effects = press(&mut a, key(KeyCode::Enter));
    let (entry, _) = queued(&effects);
    assert_eq!(
        entry.change,
        PendingChange::Cancel {
            comment: Some("Moved to next week".into())
        }
    );
    assert!(!view(&a).contains("Roadmap"), "gone from the view at once");
    // A plain event: a delete, and Esc keeps it.
    select_event(&mut a, "standup");
    press(&mut a, ch('X'));
    assert_eq!(
        deltacal::ui::changes::title(form(&a)),
        "Delete “Daily standup”?"
    );
    press(&mut a, key(KeyCode::Esc));
    assert!(view(&a).contains("Daily sta"), "{}", view(&a));
}

#[test]
fn undo_takes_back_the_last_change_until_it_is_sent() {
    let mut a = app((120, 40));
    select_event(&mut a, "standup");
    press(&mut a, ch('X'));
    press(&mut a, key(KeyCode::Enter));
    serve(&mut a);
    assert_eq!(a.store.outbox().unwrap().len(), 1);
    assert!(!view(&a).contains("Daily standup"));
    let effects = press(&mut a, ch('u'));
    assert!(matches!(effects[..], [Effect::Undo { .. }]));
    serve(&mut a);
    assert!(a.store.outbox().unwrap().is_empty());
    assert_eq!(a.note.as_deref(), Some("Undone: Deleted “Daily standup”."));
    assert!(render(&a).contains("Daily standup"), "back in the view");
    // Nothing left to undo.
    press(&mut a, ch('u'));
    assert_eq!(a.note.as_deref(), Some("Nothing to undo."));

    // Once a sender has claimed it, it can no longer be undone: the status bar says so.
    select_event(&mut a, "standup");
    press(&mut a, ch('X'));
    press(&mut a, key(KeyCode::Enter));
    serve(&mut a);
    let claimed = a
        .store
        .claim_due(now() + chrono::Duration::seconds(10))
        .unwrap();
    assert_eq!(claimed.len(), 1);
    press(&mut a, ch('u'));
    serve(&mut a);
    assert_eq!(
        a.note.as_deref(),
        Some("Sent already: Deleted “Daily standup”. can no longer be undone.")
    );
    assert_eq!(a.store.outbox().unwrap().len(), 1, "the sender has it");
    // The server applied it: the note says it was sent.
    a.store
        .finish_send(claimed[0].id, SendOutcome::Applied(None))
        .unwrap();
    load(&mut a);
    assert!(a.changes.iter().all(|c| c.state != LocalState::Waiting));
}

#[test]
fn the_invitations_panel_lists_what_waits_and_answering_moves_to_the_next() {
    let mut a = app_with((120, 40), with_invitations());
    press(&mut a, ch('i'));
    let panel = a.invitations().unwrap();
    let subjects: Vec<&str> = panel
        .invites
        .iter()
        .map(|i| i.event.event.title())
        .collect();
    assert_eq!(subjects, ["Budget review", "Hiring sync"], "soonest first");
    assert!(render(&a).contains("Megan Bowen"), "who invited");
    press(&mut a, ch('D'));
    assert_eq!(a.top(), Some(OverlayKind::Form));
    let effects = press(&mut a, key(KeyCode::Enter));
    let (entry, _) = queued(&effects);
    assert_eq!(entry.event.as_ref().unwrap().as_str(), "inv1");
    assert_eq!(a.top(), Some(OverlayKind::Invitations));
    let panel = a.invitations().unwrap();
    assert_eq!(panel.current().unwrap().event.event.title(), "Hiring sync");
    // Read again once written: the answered one stays off the list.
    serve(&mut a);
    let panel = a.invitations().unwrap();
    assert_eq!(panel.invites.len(), 1, "{:?}", panel.invites);
    // Enter shows the invitation in the day view, its details open.
    press(&mut a, key(KeyCode::Enter));
    assert_eq!(a.top(), Some(OverlayKind::Detail));
    assert_eq!(a.selected_event().unwrap().event.id.as_str(), "inv2");
}

/// A failed and a conflicting change in the outbox, as a sender leaves them.
fn failed_and_conflict(a: &mut Harness) {
    for (id, outcome) in [
        (
            "dentist",
            SendOutcome::Failed("ErrorAccessDenied: not allowed".into()),
        ),
        (
            "standup",
            SendOutcome::Conflict("changed by someone else since you saw it".into()),
        ),
    ] {
        let c = a.store.find_event(id).unwrap().unwrap();
        let entry = OutboxEntry::new(
            c.view.clone(),
            Some(&c.event),
            PendingChange::Update {
                fields: json!({"subject": format!("{} (mine)", c.event.title())}),
            },
            now(),
            now(),
        );
        let n = a.store.queue(entry).unwrap();
        a.store.claim_due(now()).unwrap();
        a.store.finish_send(n, outcome).unwrap();
    }
    // And one still waiting.
    let c = a.store.find_event("review").unwrap().unwrap();
    a.store
        .queue(OutboxEntry::new(
            c.view.clone(),
            Some(&c.event),
            PendingChange::Update {
                fields: json!({"location": {"displayName": "Room 9"}}),
            },
            now(),
            now() + chrono::Duration::seconds(60),
        ))
        .unwrap();
    load(a);
}

#[test]
fn failed_and_conflicting_changes_are_marked_explained_and_settled() {
    let mut a = app((160, 48));
    failed_and_conflict(&mut a);
    let screen = render(&a);
    assert!(screen.contains("⚠ Daily standup"), "{screen}");
    assert!(screen.contains("◌ Design review"), "{screen}");
    assert!(
        screen.contains("1 to send · ✗ 1 failed · ⚠ 1 conflict"),
        "{screen}"
    );
    // The conflict: both versions and the keys.
    select_event(&mut a, "standup");
    press(&mut a, key(KeyCode::Enter));
    let pane = render(&a);
    assert!(pane.contains("conflicts"), "{pane}");
    assert!(
        pane.contains("Yours: subject “Daily standup (mine)”"),
        "{pane}"
    );
    assert!(pane.contains("M keep mine"), "{pane}");
    let effects = press(&mut a, ch('M'));
    assert!(effects.contains(&Effect::RetryChange { id: 2, force: true }));
    serve(&mut a);
    assert_eq!(a.store.outbox().unwrap()[1].state, OutboxState::Queued);
    // The failed one: its reason; G gives it up.
    press(&mut a, key(KeyCode::Esc));
    let effects = a.update(ch('l'));
    run_effects(&mut a, effects);
    let effects = press(&mut a, ch('g'));
    drop(effects);
    typed(&mut a, "2026-11-30");
    press(&mut a, key(KeyCode::Enter));
    select_event(&mut a, "dentist");
    press(&mut a, key(KeyCode::Enter));
    let pane = render(&a);
    assert!(pane.contains("was refused"), "{pane}");
    assert!(
        pane.contains("Why: ErrorAccessDenied: not allowed"),
        "{pane}"
    );
    let effects = press(&mut a, ch('G'));
    assert!(effects.contains(&Effect::DropChange { id: 1 }));
    serve(&mut a);
    assert!(!render(&a).contains("✗"));
}

#[test]
fn a_read_only_config_refuses_every_write_key_and_says_why() {
    let mut a = app((120, 40));
    let dir = a._dir.path().to_owned();
    let text = format!("{CONFIG}\n[account]\nread_only = true\n");
    a.config = Arc::new(Config::from_toml(&text, None, dir).unwrap());
    for c in ['N', 'E', 'X', 'A'] {
        let effects = press(&mut a, ch(c));
        assert!(effects.is_empty(), "{c}");
        assert_eq!(a.top(), None);
        assert!(a.note.as_deref().unwrap().contains("read_only"), "{c}");
    }
}

#[test]
fn snapshots_of_the_forms_the_panel_and_the_marks() {
    for size in [(80, 24), (160, 48)] {
        let mut a = app_with(size, with_invitations());
        press(&mut a, ch('N'));
        typed(
            &mut a,
            "fri 14:30-15:15 Design review @ Room 4 with alex@contoso.com",
        );
        snapshot("write_quick_add", &a);
        press(&mut a, key(KeyCode::Esc));
        press(&mut a, ch('N'));
        typed(&mut a, "someday Lunch");
        snapshot("write_quick_add_error", &a);
        press(&mut a, key(KeyCode::Esc));

        select_event(&mut a, "mine");
        press(&mut a, ch('E'));
        snapshot("write_edit_form", &a);
        press(&mut a, key(KeyCode::Esc));
        press(&mut a, ch('X'));
        snapshot("write_delete_confirm", &a);
        press(&mut a, key(KeyCode::Esc));
        select_event(&mut a, "inv1");
        press(&mut a, ch('P'));
        typed(&mut a, "tue 17:00..17:30");
        snapshot("write_propose", &a);
        press(&mut a, key(KeyCode::Esc));

        press(&mut a, ch('i'));
        snapshot("write_invitations", &a);
        press(&mut a, key(KeyCode::Esc));

        let mut m = app(size);
        failed_and_conflict(&mut m);
        snapshot("write_marks_month", &m);
        press(&mut m, ch('w'));
        snapshot("write_marks_week", &m);
        press(&mut m, ch('d'));
        snapshot("write_marks_day", &m);
        press(&mut m, ch('a'));
        snapshot("write_marks_agenda", &m);
    }
}

#[test]
fn dragging_an_event_in_the_grid_moves_it_where_it_is_dropped() {
    let mut a = app((160, 48));
    press(&mut a, ch('w'));
    let grid = a.time_grid(a.main_area()).unwrap();
    let placed = grid
        .events
        .iter()
        .find(|e| a.visible.events[e.placed.index].event.id.as_str() == "review")
        .unwrap();
    let (x, y) = (placed.rect.x + 1, placed.rect.y);
    let from = grid.slot_at(x, y).unwrap();
    assert_eq!(from.0, d("2026-11-24"));
    assert_eq!(from.1 % 15, 0, "quarter hours");
    // Four rows down, into the next day's column, through the cells between.
    let (to_x, to_y) = (grid.columns[2].0 + 1, y + 4);
    let to = grid.slot_at(to_x, to_y).unwrap();
    assert_eq!(to.0, d("2026-11-25"));
    let shift = 24 * 60 + i64::from(to.1) - i64::from(from.1);
    assert!(shift > 24 * 60, "later the next day");
    press(
        &mut a,
        Action::Click {
            column: x,
            row: y,
            double: false,
        },
    );
    press(
        &mut a,
        Action::Drag {
            column: x,
            row: y + 1,
        },
    );
    press(
        &mut a,
        Action::Drag {
            column: to_x,
            row: to_y,
        },
    );
    assert_eq!(a.drag.as_ref().unwrap().shift, Some(shift));
    // Drawn where it will land: in Wednesday's column, lower down.
    let ghost = a.time_grid(a.main_area()).unwrap();
    let moved = ghost
        .events
        .iter()
        .find(|e| a.visible.events[e.placed.index].event.id.as_str() == "review")
        .unwrap();
    assert_eq!(moved.day, d("2026-11-25"));
    assert!(moved.rect.y > y, "{:?}", moved.rect);
    let effects = press(
        &mut a,
        Action::Release {
            column: to_x,
            row: to_y,
        },
    );
    let (entry, _) = queued(&effects);
    let PendingChange::Update { fields } = &entry.change else {
        panic!("{entry:?}");
    };
    let start: chrono::NaiveDateTime = "2026-11-24T13:00:00".parse().unwrap();
    let moved_to = start + chrono::Duration::minutes(shift);
    assert_eq!(
        fields["start"]["dateTime"],
        moved_to.format("%Y-%m-%dT%H:%M:%S").to_string()
    );
    assert_eq!(
        fields["end"]["dateTime"],
        (moved_to + chrono::Duration::minutes(90))
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string()
    );
    assert_eq!(a.selected, d("2026-11-25"), "the selection follows it");
    assert_eq!(a.selected_event().unwrap().event.id.as_str(), "review");
    assert_eq!(a.drag, None);

    // Dropped off the grid (on the title line): nothing moves.
    let mut b = app((160, 48));
    press(&mut b, ch('w'));
    press(
        &mut b,
        Action::Click {
            column: x,
            row: y,
            double: false,
        },
    );
    press(
        &mut b,
        Action::Drag {
            column: x,
            row: to_y,
        },
    );
    let effects = press(&mut b, Action::Release { column: x, row: 0 });
    assert!(effects.is_empty());
    assert_eq!(
        b.note.as_deref(),
        Some("Dropped off the grid: nothing moved.")
    );
    assert!(b.changes.is_empty());
}

#[test]
fn n_on_a_clicked_grid_slot_starts_there() {
    let mut a = app((160, 48));
    press(&mut a, ch('w'));
    let grid = a.time_grid(a.main_area()).unwrap();
    let x = grid.columns[4].0 + 2;
    let row = grid.top + grid.height / 2;
    let (day, minute) = grid.slot_at(x, row).unwrap();
    assert_eq!(day, d("2026-11-27"));
    press(
        &mut a,
        Action::Click {
            column: x,
            row,
            double: false,
        },
    );
    assert_eq!(a.selected, d("2026-11-27"));
    press(&mut a, ch('N'));
    let at = format!("{:02}:{:02}", minute / 60, minute % 60);
    assert_eq!(form(&a).text("What"), format!("{at} "));
    typed(&mut a, "Focus");
    assert!(
        form(&a).preview[0].starts_with(&format!("Fri 27 Nov 2026, {at}–")),
        "{:?}",
        form(&a).preview
    );
}

/// `f` in the week and day views: a prompt for whose busy time, asked of getSchedule in the
/// background; their busy time shows beside the user's events, follows the days shown, and
/// `N` then invites them.
#[test]
fn others_busy_time_shows_beside_yours_and_new_events_invite_them() {
    for size in [(80, 24), (160, 48)] {
        let mut a = app(size);
        // Not in the month view.
        press(&mut a, ch('f'));
        assert!(
            a.note
                .as_deref()
                .unwrap_or("")
                .contains("week and day views")
        );
        press(&mut a, ch('w'));
        press(&mut a, ch('f'));
        assert!(render(&a).contains("Show whose busy time?"));
        typed(&mut a, "alex");
        assert!(render(&a).contains("`alex` is not an address"));
        typed(&mut a, "w@contoso.com");
        let effects = press(&mut a, key(KeyCode::Enter));
        let (first, last) = (d("2026-11-23"), d("2026-11-29"));
        assert_eq!(
            effects,
            vec![Effect::LoadFreeBusy {
                addresses: vec!["alexw@contoso.com".into()],
                first,
                last,
            }]
        );
        let asked: Vec<Request> = std::iter::from_fn(|| a.requests.try_recv().ok()).collect();
        assert!(
            asked.iter().any(|r| matches!(r, Request::FreeBusy { addresses, from, .. }
                if addresses == &["alexw@contoso.com"] && *from == "2026-11-23T00:00:00Z".parse::<DateTime<Utc>>().unwrap())),
            "{asked:?}"
        );
        let busy = vec![
            (
                "2026-11-24T13:00:00Z".parse().unwrap(),
                "2026-11-24T15:00:00Z".parse().unwrap(),
            ),
            (
                "2026-11-26T16:00:00Z".parse().unwrap(),
                "2026-11-26T17:30:00Z".parse().unwrap(),
            ),
        ];
        press(
            &mut a,
            Action::FreeBusy {
                addresses: vec!["alexw@contoso.com".into()],
                first,
                last,
                result: Ok((busy, vec![])),
            },
        );
        assert!(
            a.note
                .as_deref()
                .unwrap()
                .contains("Busy time of alexw@contoso.com")
        );
        snapshot("week_others_busy", &a);
        assert!(render(&a).contains('▐'));

        // N invites them.
        press(&mut a, shift(KeyCode::Char('N')));
        let screen = render(&a);
        assert!(screen.contains("Attendees"), "{screen}");
        typed(&mut a, "16:00 30m Planning");
        let screen = render(&a);
        assert!(screen.contains("with alexw@contoso.com"), "{screen}");
        let effects = press(&mut a, key(KeyCode::Enter));
        let queued = effects.iter().find_map(|e| match e {
            Effect::Queue { entry, .. } => Some(entry.clone()),
            _ => None,
        });
        let Some(entry) = queued else {
            panic!("{effects:?}")
        };
        let PendingChange::Create { event, .. } = &entry.change else {
            panic!("{entry:?}")
        };
        assert_eq!(
            event["attendees"][0]["emailAddress"]["address"],
            "alexw@contoso.com"
        );

        // The next week: asked again for its days.
        let effects = press(&mut a, key(KeyCode::Char('L')));
        let effects: Vec<Effect> = if effects
            .iter()
            .any(|e| matches!(e, Effect::LoadFreeBusy { .. }))
        {
            effects
        } else {
            let mut all = effects;
            for _ in 0..7 {
                all.extend(press(&mut a, key(KeyCode::Right)));
            }
            all
        };
        assert!(
            effects.iter().any(
                |e| matches!(e, Effect::LoadFreeBusy { first, .. } if *first > d("2026-11-29"))
            ),
            "{effects:?}"
        );
        // f with nobody hides it.
        press(&mut a, ch('f'));
        for _ in 0..40 {
            press(&mut a, key(KeyCode::Backspace));
        }
        press(&mut a, key(KeyCode::Enter));
        assert!(a.busy.is_none());
    }
}

/// With `[accounts.NAME]` in the config, `s` asks which account signs in; another account's
/// sign-in runs with its own session and leaves the main account as it is.
#[test]
fn sign_in_asks_which_account() {
    let config = format!("[accounts.personal]\ntenant = \"consumers\"\n\n{CONFIG}");
    let mut a = app_configured((100, 30), events(), &config);
    press(&mut a, ch('s'));
    let screen = render(&a);
    assert!(screen.contains("Sign in which account?"), "{screen}");
    assert!(
        screen.contains("[the main account]") && screen.contains("personal"),
        "{screen}"
    );
    press(&mut a, key(KeyCode::Right));
    let effects = press(&mut a, key(KeyCode::Enter));
    assert!(
        effects.contains(&Effect::StartAccountSignIn("personal".into())),
        "{effects:?}"
    );
    let asked: Vec<Request> = std::iter::from_fn(|| a.requests.try_recv().ok()).collect();
    assert!(
        asked.contains(&Request::SignInAccount("personal".into())),
        "{asked:?}"
    );
    press(
        &mut a,
        Action::SignIn(deltacal::auth::signin::SignInEvent::Done {
            account: Some("Sam Booth <sam.booth@outlook.com>".into()),
        }),
    );
    assert_eq!(
        a.note.as_deref(),
        Some("Signed in account personal as Sam Booth <sam.booth@outlook.com>.")
    );
    assert_eq!(
        a.account.as_deref(),
        Some("Samantha Booth <samanthab@contoso.com>"),
        "the main account stays"
    );
    // The main account: as before (someone is signed in, so it asks first).
    press(&mut a, ch('s'));
    press(&mut a, key(KeyCode::Enter));
    assert!(render(&a).contains("Samantha Booth"));
}
