//! Every key binding, in tables that drive input handling, the help overlay and every key hint
//! on screen, so none of them can drift apart.

/// A key as the UI knows it: the UI's state and tables name no terminal library's types (the
/// terminal adapter, `ui::event`, converts crossterm's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyCode {
    /// A printable character.
    Char(char),
    /// Enter (Return).
    Enter,
    /// Escape.
    Esc,
    /// Tab.
    Tab,
    /// Shift-Tab.
    BackTab,
    /// Backspace.
    Backspace,
    /// Delete.
    Delete,
    /// Insert.
    Insert,
    /// The left arrow.
    Left,
    /// The right arrow.
    Right,
    /// The up arrow.
    Up,
    /// The down arrow.
    Down,
    /// Page Up.
    PageUp,
    /// Page Down.
    PageDown,
    /// Home.
    Home,
    /// End.
    End,
    /// A function key, by number.
    F(u8),
    /// A key the UI has no use for (media keys, lone modifiers, ...).
    Other,
}

/// The modifiers held with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct KeyModifiers(u8);

impl KeyModifiers {
    /// No modifier held.
    pub const NONE: KeyModifiers = KeyModifiers(0);
    /// Shift.
    pub const SHIFT: KeyModifiers = KeyModifiers(1);
    /// Control.
    pub const CONTROL: KeyModifiers = KeyModifiers(2);
    /// Alt (Option).
    pub const ALT: KeyModifiers = KeyModifiers(4);

    /// Whether every modifier of `other` is held.
    pub fn contains(self, other: KeyModifiers) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for KeyModifiers {
    type Output = KeyModifiers;
    fn bitor(self, other: KeyModifiers) -> KeyModifiers {
        KeyModifiers(self.0 | other.0)
    }
}

/// A key press: the key and the modifiers held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyEvent {
    /// The key.
    pub code: KeyCode,
    /// The modifiers held with it.
    pub modifiers: KeyModifiers,
}

impl KeyEvent {
    /// A press of `code` with `modifiers` held.
    pub fn new(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent { code, modifiers }
    }
}

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// The previous day.
    Left,
    /// The next day.
    Right,
    /// Up: the previous week (the agenda: day; the time grids: event).
    Up,
    /// Down: the next week (the agenda: day; the time grids: event).
    Down,
    /// The next month (the time grids: week).
    NextMonth,
    /// The previous month (the time grids: week).
    PrevMonth,
    /// Back to today.
    Today,
    /// The next view in the `Tab` cycle.
    ToggleView,
    /// The month view.
    MonthView,
    /// The week view.
    WeekView,
    /// The day view.
    DayView,
    /// The agenda view.
    AgendaView,
    /// The go-to-a-date prompt.
    GoTo,
    /// The selected day's next event.
    NextEvent,
    /// The selected day's previous event.
    PrevEvent,
    /// The time grids: earlier hours.
    EarlierHours,
    /// The time grids: later hours.
    LaterHours,
    /// Open the event's join link (else its web link) in the browser.
    OpenLink,
    /// Copy the event's join link (else its web link) to the clipboard.
    CopyLink,
    /// The calendars panel.
    Calendars,
    /// Snooze the reminder banner's reminder.
    Snooze,
    /// Dismiss the reminder banner's reminder.
    Dismiss,
    /// The selected event's details (in a field: confirm).
    Open,
    /// Close the top overlay.
    Close,
    /// A sync round now.
    Refresh,
    /// The search.
    Search,
    /// Sign in.
    SignIn,
    /// The help.
    Help,
    /// Quit.
    Quit,
    /// Ctrl-C: quits from anywhere, whatever is open or being typed.
    Interrupt,
    /// Ctrl-Z: suspends the app to the shell (`fg` brings it back), from anywhere.
    Suspend,
    /// In a text field: delete the character before the cursor.
    DeleteBack,
    /// In a scrolling overlay (details, help, search hits): a page down or up, the top, the
    /// end.
    PageDown,
    /// A page up.
    PageUp,
    /// To the top.
    Top,
    /// To the end.
    Bottom,
    /// In the calendars panel: show or hide the selected calendar.
    Toggle,
    /// A new event: the quick-add line.
    NewEvent,
    /// Edit the selected event: the form.
    Edit,
    /// Delete the selected event (asks first).
    Delete,
    /// Accept the selected invitation.
    Accept,
    /// Accept the selected invitation tentatively.
    Tentative,
    /// Decline the selected invitation.
    Decline,
    /// Propose a new time for the selected invitation.
    Propose,
    /// The invitations panel.
    Invitations,
    /// The time grids: show others' busy time beside yours (asks whose).
    FreeBusy,
    /// Take back the last change not yet sent.
    Undo,
    /// The time grids: move the selected event 15 minutes earlier.
    MoveEarlier,
    /// The time grids: move the selected event 15 minutes later.
    MoveLater,
    /// Move the selected event a day earlier.
    MoveDayBack,
    /// Move the selected event a day later.
    MoveDayOn,
    /// A failed or conflicting change: send it again (over the server's version).
    KeepMine,
    /// A failed or conflicting change: give it up (the server's version stays).
    KeepTheirs,
    /// In a form: the next field.
    NextField,
    /// In a form: the previous field.
    PrevField,
    /// In a form: the next choice of a choice field, or a flag turned over.
    ChangeChoice,
}

/// A key as the tables name it.
#[derive(Debug, Clone, Copy)]
pub enum Key {
    /// A printable character, without Control.
    Char(char),
    /// A named key.
    Code(KeyCode),
    /// A character with Control held.
    Ctrl(char),
    /// A named key with Shift held.
    Shift(KeyCode),
}

impl Key {
    /// How the key is written on screen: `h`, `←`, `PgDn`, `Ctrl-C`.
    pub fn name(&self) -> String {
        match self {
            Key::Char(' ') => "Space".into(),
            Key::Char(c) => c.to_string(),
            Key::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
            Key::Shift(code) => format!("Shift-{}", Key::Code(*code).name()),
            Key::Code(code) => match code {
                KeyCode::Left => "←".into(),
                KeyCode::Right => "→".into(),
                KeyCode::Up => "↑".into(),
                KeyCode::Down => "↓".into(),
                KeyCode::PageUp => "PgUp".into(),
                KeyCode::PageDown => "PgDn".into(),
                KeyCode::Enter => "Enter".into(),
                KeyCode::Esc => "Esc".into(),
                KeyCode::Tab => "Tab".into(),
                KeyCode::Backspace => "Backspace".into(),
                KeyCode::Home => "Home".into(),
                KeyCode::End => "End".into(),
                other => format!("{other:?}"),
            },
        }
    }

    fn matches(&self, event: &KeyEvent) -> bool {
        let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
        match self {
            Key::Char(c) => !ctrl && event.code == KeyCode::Char(*c),
            // An arrow with Shift held is a key of its own (it moves the event).
            Key::Code(code) => {
                event.code == *code
                    && !(event.modifiers.contains(KeyModifiers::SHIFT)
                        && matches!(
                            code,
                            KeyCode::Left | KeyCode::Right | KeyCode::Up | KeyCode::Down
                        ))
            }
            Key::Ctrl(c) => ctrl && event.code == KeyCode::Char(*c),
            Key::Shift(code) => {
                event.modifiers.contains(KeyModifiers::SHIFT) && event.code == *code
            }
        }
    }
}

/// Keys and the command they stand for, with the help's words for it.
pub struct Binding {
    /// The keys, the first of them the one hints show.
    pub keys: &'static [Key],
    /// What they ask for.
    pub command: Command,
    /// What the help overlay says the keys do; bindings with the same text share a row.
    pub help: &'static str,
}

use Key::{Char, Code, Ctrl, Shift};

/// The keys of the calendar and its overlays.
pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: &[Code(KeyCode::Left), Char('h')],
        command: Command::Left,
        help: "previous day",
    },
    Binding {
        keys: &[Code(KeyCode::Right), Char('l')],
        command: Command::Right,
        help: "next day",
    },
    Binding {
        keys: &[Code(KeyCode::Up), Char('k')],
        command: Command::Up,
        help: "previous week (agenda: day; week, day: event)",
    },
    Binding {
        keys: &[Code(KeyCode::Down), Char('j')],
        command: Command::Down,
        help: "next week (agenda: day; week, day: event)",
    },
    Binding {
        keys: &[Char('n'), Code(KeyCode::PageDown)],
        command: Command::NextMonth,
        help: "next month (week, day: week)",
    },
    Binding {
        keys: &[Char('p'), Code(KeyCode::PageUp)],
        command: Command::PrevMonth,
        help: "previous month (week, day: week)",
    },
    Binding {
        keys: &[Char('t')],
        command: Command::Today,
        help: "today",
    },
    Binding {
        keys: &[Code(KeyCode::Tab), Char('v')],
        command: Command::ToggleView,
        help: "next view: month, week, day, agenda",
    },
    Binding {
        keys: &[Char('m')],
        command: Command::MonthView,
        help: "month view",
    },
    Binding {
        keys: &[Char('w')],
        command: Command::WeekView,
        help: "week view",
    },
    Binding {
        keys: &[Char('d')],
        command: Command::DayView,
        help: "day view",
    },
    Binding {
        keys: &[Char('a')],
        command: Command::AgendaView,
        help: "agenda view",
    },
    Binding {
        keys: &[Char('g')],
        command: Command::GoTo,
        help: "go to a date",
    },
    Binding {
        keys: &[Char(']')],
        command: Command::NextEvent,
        help: "next event of the day",
    },
    Binding {
        keys: &[Char('[')],
        command: Command::PrevEvent,
        help: "previous event of the day",
    },
    Binding {
        keys: &[Char('K')],
        command: Command::EarlierHours,
        help: "week, day: earlier hours",
    },
    Binding {
        keys: &[Char('J')],
        command: Command::LaterHours,
        help: "week, day: later hours",
    },
    Binding {
        keys: &[Code(KeyCode::Enter)],
        command: Command::Open,
        help: "event details",
    },
    Binding {
        keys: &[Char('o')],
        command: Command::OpenLink,
        help: "open the join link (else the web link; of the reminder when one shows)",
    },
    Binding {
        keys: &[Char('y')],
        command: Command::CopyLink,
        help: "copy the join link (else the web link; of the reminder when one shows)",
    },
    Binding {
        keys: &[Code(KeyCode::Esc)],
        command: Command::Close,
        help: "close",
    },
    Binding {
        keys: &[Char('z')],
        command: Command::Snooze,
        help: "reminder: snooze 5 min",
    },
    Binding {
        keys: &[Char('x')],
        command: Command::Dismiss,
        help: "reminder: dismiss",
    },
    Binding {
        keys: &[Char('c')],
        command: Command::Calendars,
        help: "calendars: colours, show or hide",
    },
    Binding {
        keys: &[Char('r')],
        command: Command::Refresh,
        help: "sync now",
    },
    Binding {
        keys: &[Char('/')],
        command: Command::Search,
        help: "search events",
    },
    Binding {
        keys: &[Char('s')],
        command: Command::SignIn,
        help: "sign in",
    },
    Binding {
        keys: &[Char('N')],
        command: Command::NewEvent,
        help: "new event (quick add, on the selected day)",
    },
    Binding {
        keys: &[Char('E')],
        command: Command::Edit,
        help: "edit the event",
    },
    Binding {
        keys: &[Char('X')],
        command: Command::Delete,
        help: "delete the event (asks first)",
    },
    Binding {
        keys: &[Char('A')],
        command: Command::Accept,
        help: "accept the invitation",
    },
    Binding {
        keys: &[Char('T')],
        command: Command::Tentative,
        help: "accept tentatively",
    },
    Binding {
        keys: &[Char('D')],
        command: Command::Decline,
        help: "decline",
    },
    Binding {
        keys: &[Char('P')],
        command: Command::Propose,
        help: "propose a new time",
    },
    Binding {
        keys: &[Char('i')],
        command: Command::Invitations,
        help: "invitations waiting for an answer",
    },
    Binding {
        keys: &[Char('f')],
        command: Command::FreeBusy,
        help: "week, day: others' busy time beside yours",
    },
    Binding {
        keys: &[Shift(KeyCode::Up)],
        command: Command::MoveEarlier,
        help: "week, day: move the event 15 min earlier",
    },
    Binding {
        keys: &[Shift(KeyCode::Down)],
        command: Command::MoveLater,
        help: "week, day: move the event 15 min later",
    },
    Binding {
        keys: &[Shift(KeyCode::Left)],
        command: Command::MoveDayBack,
        help: "move the event a day earlier",
    },
    Binding {
        keys: &[Shift(KeyCode::Right)],
        command: Command::MoveDayOn,
        help: "move the event a day later",
    },
    Binding {
        keys: &[Char('u')],
        command: Command::Undo,
        help: "undo the last change not yet sent",
    },
    Binding {
        keys: &[Char('M')],
        command: Command::KeepMine,
        help: "failed or conflict: send mine again (over theirs)",
    },
    Binding {
        keys: &[Char('G')],
        command: Command::KeepTheirs,
        help: "failed or conflict: give mine up (keep theirs)",
    },
    Binding {
        keys: &[Char('?')],
        command: Command::Help,
        help: "this help",
    },
    Binding {
        keys: &[Ctrl('z')],
        command: Command::Suspend,
        help: "suspend to the shell (fg comes back)",
    },
    Binding {
        keys: &[Char('q')],
        command: Command::Quit,
        help: "quit",
    },
    Binding {
        keys: &[Ctrl('c')],
        command: Command::Interrupt,
        help: "quit",
    },
];

/// The keys of a text field (the search query), tried before [`BINDINGS`] while typing.
/// Printable characters are text, not commands.
pub const TEXT_INPUT: &[Binding] = &[Binding {
    keys: &[Code(KeyCode::Backspace)],
    command: Command::DeleteBack,
    help: "delete a character",
}];

/// The keys of an overlay that scrolls (the details, the help, the search hits), tried before
/// [`BINDINGS`] while one is on top: scrolling has commands of its own, never the month's.
pub const SCROLL_KEYS: &[Binding] = &[
    Binding {
        keys: &[Code(KeyCode::PageDown), Char(' ')],
        command: Command::PageDown,
        help: "details, help, search: a page down",
    },
    Binding {
        keys: &[Code(KeyCode::PageUp)],
        command: Command::PageUp,
        help: "details, help, search: a page up",
    },
    Binding {
        keys: &[Code(KeyCode::Home)],
        command: Command::Top,
        help: "details, help, search: the top",
    },
    Binding {
        keys: &[Code(KeyCode::End)],
        command: Command::Bottom,
        help: "details, help, search: the end",
    },
];

/// The keys of the calendars panel, tried before [`BINDINGS`] while it is open.
pub const CALENDAR_KEYS: &[Binding] = &[Binding {
    keys: &[Char(' '), Code(KeyCode::Enter)],
    command: Command::Toggle,
    help: "calendars: show or hide",
}];

/// The keys of a form (quick add, edit, answer, delete), tried before a text field's and the
/// calendar's while one is open. Enter sends, Esc closes.
pub const FORM_KEYS: &[Binding] = &[
    Binding {
        keys: &[Code(KeyCode::Tab), Code(KeyCode::Down)],
        command: Command::NextField,
        help: "form: next field",
    },
    Binding {
        keys: &[Code(KeyCode::BackTab), Code(KeyCode::Up)],
        command: Command::PrevField,
        help: "form: previous field",
    },
    Binding {
        keys: &[Code(KeyCode::Left), Code(KeyCode::Right)],
        command: Command::ChangeChoice,
        help: "form: change a choice",
    },
];

/// The command a key press stands for in a form (whose typed characters are text, asked of
/// [`typed_char`] first; Space changes a choice field).
pub fn form_command_for(event: &KeyEvent) -> Option<Command> {
    find(FORM_KEYS, event)
        .or_else(|| find(TEXT_INPUT, event))
        .or_else(|| find(BINDINGS, event))
}

/// The command a key press stands for while a scrolling overlay is on top.
pub fn scroll_command_for(event: &KeyEvent) -> Option<Command> {
    find(SCROLL_KEYS, event).or_else(|| find(BINDINGS, event))
}

/// The command a key press stands for while the calendars panel is open.
pub fn calendar_command_for(event: &KeyEvent) -> Option<Command> {
    find(CALENDAR_KEYS, event).or_else(|| find(BINDINGS, event))
}

/// The command a key press stands for.
pub fn command_for(event: &KeyEvent) -> Option<Command> {
    find(BINDINGS, event)
}

/// The command a key press stands for while typing into a text field (whose typed characters
/// are text, asked of [`typed_char`] first): its editing keys, then the scrolling ones.
pub fn text_command_for(event: &KeyEvent) -> Option<Command> {
    find(TEXT_INPUT, event)
        .or_else(|| find(SCROLL_KEYS, event))
        .or_else(|| find(BINDINGS, event))
}

/// The character a key press types into a text field, if it types one.
pub fn typed_char(event: &KeyEvent) -> Option<char> {
    match event.code {
        KeyCode::Char(c) if !event.modifiers.contains(KeyModifiers::CONTROL) => Some(c),
        _ => None,
    }
}

fn find(table: &[Binding], event: &KeyEvent) -> Option<Command> {
    table
        .iter()
        .find(|b| b.keys.iter().any(|k| k.matches(event)))
        .map(|b| b.command)
}

/// Every table, in the order a hint looks for a command's keys.
fn tables() -> impl Iterator<Item = &'static Binding> {
    BINDINGS
        .iter()
        .chain(TEXT_INPUT)
        .chain(SCROLL_KEYS)
        .chain(CALENDAR_KEYS)
        .chain(FORM_KEYS)
}

/// The first key bound to `command`, as a hint on screen shows it (`Esc`, `s`, `↑`).
pub fn hint(command: Command) -> String {
    tables()
        .find(|b| b.command == command)
        .and_then(|b| b.keys.first())
        .map(Key::name)
        .expect("every command has a key")
}

/// Every key bound to `command`, as a hint shows a choice: `Space/Enter`.
pub fn hints(command: Command) -> String {
    let keys: Vec<String> = tables()
        .filter(|b| b.command == command)
        .flat_map(|b| b.keys.iter().map(Key::name))
        .collect();
    keys.join("/")
}

/// The help overlay's rows: the keys of each action and what they do, in table order.
pub fn help_rows() -> Vec<(String, &'static str)> {
    let mut rows: Vec<(String, &'static str)> = Vec::new();
    for b in BINDINGS.iter().chain(SCROLL_KEYS).chain(FORM_KEYS) {
        let keys: Vec<String> = b.keys.iter().map(Key::name).collect();
        match rows.iter_mut().find(|(_, help)| *help == b.help) {
            Some((label, _)) => {
                label.push(' ');
                label.push_str(&keys.join(" "));
            }
            None => rows.push((keys.join(" "), b.help)),
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_a_binding_and_keys_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for b in BINDINGS {
            for k in b.keys {
                assert!(seen.insert(format!("{k:?}")), "{k:?} bound twice");
            }
        }
        let press = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(command_for(&press('q')), Some(Command::Quit));
        assert_eq!(
            command_for(&KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Command::Interrupt)
        );
        assert_eq!(command_for(&press('c')), Some(Command::Calendars));
        assert_eq!(command_for(&press('x')), Some(Command::Dismiss));
        assert_eq!(command_for(&press('u')), Some(Command::Undo));
        let shift_down = KeyEvent::new(KeyCode::Down, KeyModifiers::SHIFT);
        assert_eq!(command_for(&shift_down), Some(Command::MoveLater));
        let down = KeyEvent::new(KeyCode::Down, KeyModifiers::NONE);
        assert_eq!(command_for(&down), Some(Command::Down));
        assert_eq!(form_command_for(&down), Some(Command::NextField));
        let backspace = KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE);
        assert_eq!(command_for(&backspace), None);
        assert_eq!(text_command_for(&backspace), Some(Command::DeleteBack));
        assert_eq!(typed_char(&press('q')), Some('q'));
    }

    #[test]
    fn labels_and_hints_come_from_the_keys() {
        let rows = help_rows();
        assert_eq!(rows[0], ("← h".to_owned(), "previous day"));
        assert_eq!(
            rows[4],
            ("n PgDn".to_owned(), "next month (week, day: week)")
        );
        assert_eq!(
            rows.last().unwrap(),
            &("← →".to_owned(), "form: change a choice")
        );
        assert_eq!(hints(Command::Toggle), "Space/Enter");
        assert_eq!(hint(Command::PageDown), "PgDn");
        assert_eq!(hint(Command::Close), "Esc");
        assert_eq!(hint(Command::Up), "↑");
        assert_eq!(hint(Command::SignIn), "s");
    }
}
