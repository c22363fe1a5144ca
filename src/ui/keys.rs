//! Every key binding, in one table that drives both input handling and the help overlay.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Left,
    Right,
    Up,
    Down,
    NextMonth,
    PrevMonth,
    Today,
    ToggleView,
    NextEvent,
    PrevEvent,
    Open,
    Close,
    Refresh,
    Search,
    SignIn,
    Help,
    Quit,
}

/// A key as the table names it.
#[derive(Debug, Clone, Copy)]
pub enum Key {
    Char(char),
    Code(KeyCode),
    Ctrl(char),
}

pub struct Binding {
    pub keys: &'static [Key],
    /// How the help overlay shows the keys.
    pub label: &'static str,
    pub command: Command,
    pub help: &'static str,
}

use Key::{Char, Code, Ctrl};

pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: &[Code(KeyCode::Left), Char('h')],
        label: "← h",
        command: Command::Left,
        help: "previous day",
    },
    Binding {
        keys: &[Code(KeyCode::Right), Char('l')],
        label: "→ l",
        command: Command::Right,
        help: "next day",
    },
    Binding {
        keys: &[Code(KeyCode::Up), Char('k')],
        label: "↑ k",
        command: Command::Up,
        help: "previous week (agenda: day)",
    },
    Binding {
        keys: &[Code(KeyCode::Down), Char('j')],
        label: "↓ j",
        command: Command::Down,
        help: "next week (agenda: day)",
    },
    Binding {
        keys: &[Char('n'), Code(KeyCode::PageDown)],
        label: "n PgDn",
        command: Command::NextMonth,
        help: "next month",
    },
    Binding {
        keys: &[Char('p'), Code(KeyCode::PageUp)],
        label: "p PgUp",
        command: Command::PrevMonth,
        help: "previous month",
    },
    Binding {
        keys: &[Char('t')],
        label: "t",
        command: Command::Today,
        help: "today",
    },
    Binding {
        keys: &[Code(KeyCode::Tab), Char('v')],
        label: "Tab v",
        command: Command::ToggleView,
        help: "month / agenda",
    },
    Binding {
        keys: &[Char(']')],
        label: "]",
        command: Command::NextEvent,
        help: "next event of the day",
    },
    Binding {
        keys: &[Char('[')],
        label: "[",
        command: Command::PrevEvent,
        help: "previous event of the day",
    },
    Binding {
        keys: &[Code(KeyCode::Enter)],
        label: "Enter",
        command: Command::Open,
        help: "event details",
    },
    Binding {
        keys: &[Code(KeyCode::Esc)],
        label: "Esc",
        command: Command::Close,
        help: "close",
    },
    Binding {
        keys: &[Char('r')],
        label: "r",
        command: Command::Refresh,
        help: "sync now",
    },
    Binding {
        keys: &[Char('/')],
        label: "/",
        command: Command::Search,
        help: "search subjects",
    },
    Binding {
        keys: &[Char('s')],
        label: "s",
        command: Command::SignIn,
        help: "sign in",
    },
    Binding {
        keys: &[Char('?')],
        label: "?",
        command: Command::Help,
        help: "this help",
    },
    Binding {
        keys: &[Char('q'), Ctrl('c')],
        label: "q Ctrl-C",
        command: Command::Quit,
        help: "quit",
    },
];

fn matches(key: &Key, event: &KeyEvent) -> bool {
    let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
    match key {
        Key::Char(c) => !ctrl && event.code == KeyCode::Char(*c),
        Key::Code(code) => event.code == *code,
        Key::Ctrl(c) => ctrl && event.code == KeyCode::Char(*c),
    }
}

/// The command a key press stands for.
pub fn command_for(event: &KeyEvent) -> Option<Command> {
    BINDINGS
        .iter()
        .find(|b| b.keys.iter().any(|k| matches(k, event)))
        .map(|b| b.command)
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
            Some(Command::Quit)
        );
        assert_eq!(command_for(&press('c')), None);
    }
}
