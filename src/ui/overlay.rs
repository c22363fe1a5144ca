//! The overlays over the views (help, search, the detail pane) and the sign-in panel: their
//! state, and the keys each one owns. An open overlay is offered a key first and says whether it
//! consumed it; what it cannot do alone it asks of the app as an [`Intent`].

use super::keys::{Command, KeyEvent, command_for, text_command_for, typed_char};
use crate::model::CachedEvent;
use crate::search::Query;

#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    None,
    Detail,
    Help,
    Search(Search),
    GoTo(GoTo),
    Calendars(CalendarsPanel),
}

/// The `c` panel: the configured calendars with their colours, each shown or hidden.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CalendarsPanel {
    /// The selected row: an index into the configured calendars.
    pub selected: usize,
}

impl CalendarsPanel {
    /// Takes every key but Ctrl-C: the moving keys move, Space and Enter show or hide the
    /// selected calendar, the closing keys (and `c` again) close.
    pub fn on_key(&mut self, key: &KeyEvent, rows: usize) -> EventState {
        if typed_char(key) == Some(' ') {
            return Consumed(Some(Intent::ToggleCalendar(self.selected)));
        }
        match command_for(key) {
            Some(Command::Interrupt) => NotConsumed,
            Some(Command::Close | Command::Quit | Command::Calendars) => {
                Consumed(Some(Intent::CloseOverlay))
            }
            Some(Command::Open) => Consumed(Some(Intent::ToggleCalendar(self.selected))),
            Some(Command::Down | Command::NextEvent) => {
                self.selected = (self.selected + 1).min(rows.saturating_sub(1));
                Consumed(None)
            }
            Some(Command::Up | Command::PrevEvent) => {
                self.selected = self.selected.saturating_sub(1);
                Consumed(None)
            }
            _ => Consumed(None),
        }
    }
}

/// The `g` prompt: a date in the CLI's forms (`2026-12-24`, `tomorrow`, `fri`, `+2w`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GoTo {
    pub text: String,
    /// Why the last Enter could not go anywhere.
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub query: String,
    /// Typing into the query; the results follow as one types, and Enter moves into them.
    pub editing: bool,
    pub results: Vec<CachedEvent>,
    /// The query `results` answer; a longer query is answered by filtering them.
    pub results_for: Option<Query>,
    pub selected: usize,
}

/// The in-app sign-in panel.
#[derive(Debug, Clone, PartialEq)]
pub enum SignIn {
    Hidden,
    Requesting,
    Code {
        uri: String,
        code: String,
    },
    /// The browser flow: starting (no URL yet), or waiting at `url`.
    Browser {
        url: Option<String>,
        opened: bool,
    },
    Failed(String),
    /// `s` while signed in: a new sign-in would replace this account, so it asks first.
    Confirm {
        account: String,
    },
}

/// What a consumed key asks of the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    CloseOverlay,
    HideSignIn,
    StartSignIn,
    /// Open (`OpenLink`) or copy (`CopyLink`) a link or code, named by `what`.
    Link {
        command: Command,
        url: String,
        what: String,
    },
    RunSearch(String),
    /// Go to the selected search hit and show its details.
    OpenHit,
    /// Scroll the detail pane.
    ScrollDetail(Scroll),
    /// Go to the date typed into the `g` prompt.
    GoTo(String),
    /// Select the day's next (1) or previous (-1) event.
    StepEvent(i64),
    /// Show or hide the configured calendar at this index.
    ToggleCalendar(usize),
}

/// How a scrolling pane moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scroll {
    Lines(i16),
    /// Pages of the pane's height less one line, so a line of context stays in view.
    Pages(i16),
    Top,
    Bottom,
}

/// Whether a key was used, as gitui's components report it.
#[derive(Debug, Clone, PartialEq)]
pub enum EventState {
    Consumed(Option<Intent>),
    NotConsumed,
}

use EventState::{Consumed, NotConsumed};

/// How far the page keys move through search results.
const SEARCH_PAGE: i64 = 10;

impl Search {
    pub fn new() -> Search {
        Search {
            query: String::new(),
            editing: true,
            results: Vec::new(),
            results_for: None,
            selected: 0,
        }
    }

    /// How far a moving key moves the selection through the hits, if it is one.
    fn step_for(command: Option<Command>) -> Option<i64> {
        match command? {
            Command::Up | Command::PrevEvent => Some(-1),
            Command::Down | Command::NextEvent => Some(1),
            Command::PrevMonth => Some(-SEARCH_PAGE),
            Command::NextMonth => Some(SEARCH_PAGE),
            _ => None,
        }
    }

    fn step(&mut self, by: i64) -> EventState {
        let last = self.results.len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(by as isize).min(last);
        Consumed(None)
    }

    /// While typing, the search takes every key but Ctrl-C; over its results it takes the keys
    /// that move, open and close, and lets the rest through. The keys that do not type move
    /// through the results in both.
    pub fn on_key(&mut self, key: &KeyEvent) -> EventState {
        if self.editing {
            if let Some(c) = typed_char(key) {
                self.query.push(c);
                return Consumed(Some(Intent::RunSearch(self.query.trim().to_owned())));
            }
            let command = text_command_for(key);
            if let Some(by) = Search::step_for(command) {
                return self.step(by);
            }
            return match command {
                Some(Command::Interrupt) => NotConsumed,
                Some(Command::DeleteBack) => {
                    self.query.pop();
                    Consumed(Some(Intent::RunSearch(self.query.trim().to_owned())))
                }
                Some(Command::Close) => Consumed(Some(Intent::CloseOverlay)),
                Some(Command::Open) if !self.query.trim().is_empty() => {
                    self.editing = false;
                    Consumed(None)
                }
                _ => Consumed(None),
            };
        }
        let command = command_for(key);
        if let Some(by) = Search::step_for(command) {
            return self.step(by);
        }
        match command {
            Some(Command::Open) => Consumed(Some(Intent::OpenHit)),
            Some(Command::Close | Command::Quit) => Consumed(Some(Intent::CloseOverlay)),
            Some(Command::Search) => {
                self.editing = true;
                Consumed(None)
            }
            _ => NotConsumed,
        }
    }
}

impl GoTo {
    /// Takes every key but Ctrl-C while the date is typed.
    pub fn on_key(&mut self, key: &KeyEvent) -> EventState {
        if let Some(c) = typed_char(key) {
            self.text.push(c);
            self.error = None;
            return Consumed(None);
        }
        match text_command_for(key) {
            Some(Command::Interrupt) => NotConsumed,
            Some(Command::DeleteBack) => {
                self.text.pop();
                self.error = None;
                Consumed(None)
            }
            Some(Command::Close) => Consumed(Some(Intent::CloseOverlay)),
            Some(Command::Open) if !self.text.trim().is_empty() => {
                Consumed(Some(Intent::GoTo(self.text.trim().to_owned())))
            }
            _ => Consumed(None),
        }
    }
}

impl Default for Search {
    fn default() -> Self {
        Search::new()
    }
}

/// The help overlay takes every key but Ctrl-C: the ones that close things close it, the ones
/// that move scroll it (a short terminal cannot show all of it).
pub fn help_on_key(key: &KeyEvent, scroll: &mut u16) -> EventState {
    match command_for(key) {
        Some(Command::Interrupt) => NotConsumed,
        Some(Command::Close | Command::Help | Command::Quit) => {
            Consumed(Some(Intent::CloseOverlay))
        }
        Some(Command::Down | Command::NextEvent) => {
            *scroll = scroll.saturating_add(1).min(MAX_HELP_SCROLL);
            Consumed(None)
        }
        Some(Command::Up | Command::PrevEvent) => {
            *scroll = scroll.saturating_sub(1);
            Consumed(None)
        }
        Some(Command::NextMonth) => {
            *scroll = scroll.saturating_add(10).min(MAX_HELP_SCROLL);
            Consumed(None)
        }
        Some(Command::PrevMonth) => {
            *scroll = scroll.saturating_sub(10);
            Consumed(None)
        }
        _ => Consumed(None),
    }
}

/// Past the help's length; drawing clamps to what is there.
const MAX_HELP_SCROLL: u16 = 64;

/// The detail pane moves between the day's events and closes; other keys go to the view.
pub fn detail_on_key(key: &KeyEvent) -> EventState {
    match super::keys::pane_command_for(key) {
        Some(Command::Close | Command::Open) => Consumed(Some(Intent::CloseOverlay)),
        Some(Command::Down | Command::NextEvent) => Consumed(Some(Intent::StepEvent(1))),
        Some(Command::Up | Command::PrevEvent) => Consumed(Some(Intent::StepEvent(-1))),
        Some(Command::PageDown) => Consumed(Some(Intent::ScrollDetail(Scroll::Pages(1)))),
        Some(Command::PageUp) => Consumed(Some(Intent::ScrollDetail(Scroll::Pages(-1)))),
        Some(Command::Top) => Consumed(Some(Intent::ScrollDetail(Scroll::Top))),
        Some(Command::Bottom) => Consumed(Some(Intent::ScrollDetail(Scroll::Bottom))),
        _ => NotConsumed,
    }
}

impl SignIn {
    /// A shown panel closes on Esc (the sign-in goes on in the background); `o` opens its
    /// page and `y` copies its code or address; the question before a new sign-in takes `s`.
    pub fn on_key(&self, key: &KeyEvent) -> EventState {
        let command = command_for(key);
        match (self, command) {
            (SignIn::Hidden, _) => NotConsumed,
            (_, Some(Command::Close)) => Consumed(Some(Intent::HideSignIn)),
            (SignIn::Confirm { .. }, Some(Command::SignIn)) => Consumed(Some(Intent::StartSignIn)),
            (
                SignIn::Code { uri, code },
                Some(command @ (Command::OpenLink | Command::CopyLink)),
            ) => {
                let (url, what) = if command == Command::OpenLink {
                    (uri, "sign-in page")
                } else {
                    (code, "sign-in code")
                };
                Consumed(Some(Intent::Link {
                    command,
                    url: url.clone(),
                    what: what.into(),
                }))
            }
            (
                SignIn::Browser { url: Some(url), .. },
                Some(command @ (Command::OpenLink | Command::CopyLink)),
            ) => Consumed(Some(Intent::Link {
                command,
                url: url.clone(),
                what: "sign-in page".into(),
            })),
            // The question is answered by `s` or Esc; other keys leave it be.
            (SignIn::Confirm { .. }, _) => Consumed(None),
            _ => NotConsumed,
        }
    }
}
