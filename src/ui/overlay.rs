//! The overlays over the views (the detail pane, help, search, go-to, the calendars panel) and
//! the sign-in panel: each one's state, and the keys and the wheel it owns. The app keeps the
//! open overlays in a stack; the top one is offered a key first and says whether it consumed
//! it; what it cannot do alone it asks of the app as an [`Intent`].

use super::keys::{
    Command, KeyEvent, calendar_command_for, command_for, form_command_for, scroll_command_for,
    text_command_for, typed_char,
};
use crate::change::invites::Invite;
use crate::model::{Body, CachedEvent, EventRef};
use crate::search::Query;
use crate::store::Answer;

/// An open overlay, with its state.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    /// The selected event's details, beside the view.
    Detail(Detail),
    /// The keys.
    Help(Help),
    /// `/`: the search and its hits.
    Search(Search),
    /// `g`: the date prompt.
    GoTo(GoTo),
    /// `c`: the calendars, shown or hidden.
    Calendars(CalendarsPanel),
    /// A change being written: quick add, edit, answer, delete.
    Form(Form),
    /// `i`: the invitations waiting for an answer.
    Invitations(InvitationsPanel),
}

/// Which overlay one is, without its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverlayKind {
    /// The detail pane.
    Detail,
    /// The help.
    Help,
    /// The search.
    Search,
    /// The go-to prompt.
    GoTo,
    /// The calendars panel.
    Calendars,
    /// A form.
    Form,
    /// The invitations panel.
    Invitations,
}

impl Overlay {
    /// Which overlay it is.
    pub fn kind(&self) -> OverlayKind {
        match self {
            Overlay::Detail(_) => OverlayKind::Detail,
            Overlay::Help(_) => OverlayKind::Help,
            Overlay::Search(_) => OverlayKind::Search,
            Overlay::GoTo(_) => OverlayKind::GoTo,
            Overlay::Calendars(_) => OverlayKind::Calendars,
            Overlay::Form(_) => OverlayKind::Form,
            Overlay::Invitations(_) => OverlayKind::Invitations,
        }
    }

    /// Offers the overlay a key. `calendars`: how many rows the calendars panel has.
    pub fn on_key(&mut self, key: &KeyEvent, calendars: usize) -> EventState {
        match self {
            Overlay::Detail(detail) => detail.on_key(key),
            Overlay::Help(help) => help.on_key(key),
            Overlay::Search(search) => search.on_key(key),
            Overlay::GoTo(prompt) => prompt.on_key(key),
            Overlay::Calendars(panel) => panel.on_key(key, calendars),
            Overlay::Form(form) => form.on_key(key),
            Overlay::Invitations(panel) => panel.on_key(key),
        }
    }

    /// Offers the overlay a turn of the mouse wheel: what scrolls or moves, does.
    pub fn on_wheel(&mut self, down: bool, calendars: usize) -> EventState {
        let by: i16 = if down { 1 } else { -1 };
        match self {
            Overlay::Detail(_) => Consumed(Some(Intent::ScrollDetail(Scroll::Lines(3 * by)))),
            Overlay::Help(help) => {
                help.scroll_by(by);
                Consumed(None)
            }
            Overlay::Search(search) => search.step(by.into()),
            Overlay::Calendars(panel) => {
                panel.step(by.into(), calendars);
                Consumed(None)
            }
            Overlay::Invitations(panel) => {
                panel.step(by.into());
                Consumed(None)
            }
            Overlay::GoTo(_) | Overlay::Form(_) => Consumed(None),
        }
    }
}

/// The detail pane: which event it shows, how far it is scrolled, and the body read for it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Detail {
    /// The event the pane shows: reloads keep it selected, and if it is gone the pane closes
    /// with a note rather than showing another event. None until the day's events are read.
    pub of: Option<EventRef>,
    /// How far the pane is scrolled.
    pub scroll: u16,
    /// The body read for the pane: whose it is, and the body if it has one.
    pub body: Option<(EventRef, Option<Body>)>,
}

impl Detail {
    /// A pane on `of`, at its top.
    pub fn on(of: Option<EventRef>) -> Detail {
        Detail {
            of,
            ..Detail::default()
        }
    }

    /// The pane scrolls and moves between the day's events, and closes; other keys go to the
    /// view.
    pub fn on_key(&self, key: &KeyEvent) -> EventState {
        match scroll_command_for(key) {
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
}

/// The help overlay: how far it is scrolled (a short terminal cannot show all of it).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Help {
    /// Rows scrolled past; drawing clamps it to what is there.
    pub scroll: u16,
}

impl Help {
    fn scroll_by(&mut self, rows: i16) {
        self.scroll = self.scroll.saturating_add_signed(rows).min(MAX_HELP_SCROLL);
    }

    /// Takes every key but Ctrl-C: the ones that close things close it, the ones that move or
    /// scroll scroll it.
    pub fn on_key(&mut self, key: &KeyEvent) -> EventState {
        match scroll_command_for(key) {
            Some(Command::Interrupt) => NotConsumed,
            Some(Command::Close | Command::Help | Command::Quit) => {
                Consumed(Some(Intent::CloseOverlay))
            }
            Some(Command::Down | Command::NextEvent) => {
                self.scroll_by(1);
                Consumed(None)
            }
            Some(Command::Up | Command::PrevEvent) => {
                self.scroll_by(-1);
                Consumed(None)
            }
            Some(Command::PageDown) => {
                self.scroll_by(HELP_PAGE);
                Consumed(None)
            }
            Some(Command::PageUp) => {
                self.scroll_by(-HELP_PAGE);
                Consumed(None)
            }
            Some(Command::Top) => {
                self.scroll = 0;
                Consumed(None)
            }
            Some(Command::Bottom) => {
                self.scroll = MAX_HELP_SCROLL;
                Consumed(None)
            }
            _ => Consumed(None),
        }
    }
}

/// How far a page key scrolls the help.
const HELP_PAGE: i16 = 10;

/// Past the help's length; drawing clamps to what is there.
const MAX_HELP_SCROLL: u16 = 200;

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
        match calendar_command_for(key) {
            Some(Command::Interrupt) => NotConsumed,
            Some(Command::Close | Command::Quit | Command::Calendars) => {
                Consumed(Some(Intent::CloseOverlay))
            }
            Some(Command::Toggle) => Consumed(Some(Intent::ToggleCalendar(self.selected))),
            Some(Command::Down | Command::NextEvent) => {
                self.step(1, rows);
                Consumed(None)
            }
            Some(Command::Up | Command::PrevEvent) => {
                self.step(-1, rows);
                Consumed(None)
            }
            _ => Consumed(None),
        }
    }

    /// Moves the selection `by` rows of `rows`, staying on them.
    fn step(&mut self, by: i64, rows: usize) {
        self.selected = self
            .selected
            .saturating_add_signed(by as isize)
            .min(rows.saturating_sub(1));
    }
}

/// The `g` prompt: a date in the CLI's forms (`2026-12-24`, `tomorrow`, `fri`, `+2w`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GoTo {
    /// What is typed so far.
    pub text: String,
    /// Why the last Enter could not go anywhere.
    pub error: Option<String>,
}

/// The `/` search: its query, its hits and the selected one.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    /// What is typed.
    pub query: String,
    /// Typing into the query; the results follow as one types, and Enter moves into them.
    pub editing: bool,
    /// The hits, soonest first.
    pub results: Vec<CachedEvent>,
    /// The query `results` answer; a longer query is answered by filtering them.
    pub results_for: Option<Query>,
    /// The selected hit: an index into `results`.
    pub selected: usize,
}

/// The in-app sign-in panel.
#[derive(Debug, Clone, PartialEq)]
pub enum SignIn {
    /// Not shown.
    Hidden,
    /// Asking the identity platform for a code.
    Requesting,
    /// A device code to enter at a page.
    Code {
        /// The page to enter it at.
        uri: String,
        /// The code.
        code: String,
    },
    /// The browser flow: starting (no URL yet), or waiting at `url`.
    Browser {
        /// The sign-in page, once the local listener is up.
        url: Option<String>,
        /// Whether the browser was opened on it.
        opened: bool,
    },
    /// Why the sign-in failed.
    Failed(String),
    /// `s` while signed in: a new sign-in would replace this account, so it asks first.
    Confirm {
        /// The account signed in now.
        account: String,
    },
}

/// What a consumed key asks of the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    /// Close the top overlay.
    CloseOverlay,
    /// Hide the sign-in panel (the sign-in goes on).
    HideSignIn,
    /// Start a sign-in.
    StartSignIn,
    /// Open (`OpenLink`) or copy (`CopyLink`) a link or code, named by `what`.
    Link {
        /// Open or copy.
        command: Command,
        /// What to open or copy.
        url: String,
        /// Its name, for the status bar.
        what: String,
    },
    /// Answer this query.
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
    /// The open form's fields changed: check them again and show what they make.
    FormChanged,
    /// Send what the open form says.
    SubmitForm,
    /// Answer (or propose a time for) the invitation selected in the panel.
    AnswerInvite(Command),
    /// Show the day and details of the invitation selected in the panel.
    OpenInvite,
}

/// How a scrolling pane moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scroll {
    /// This many lines (up when negative).
    Lines(i16),
    /// Pages of the pane's height less one line, so a line of context stays in view.
    Pages(i16),
    /// To the top.
    Top,
    /// To the end.
    Bottom,
}

/// Whether a key was used, as gitui's components report it.
#[derive(Debug, Clone, PartialEq)]
pub enum EventState {
    /// Used; the app does what it asks, if anything.
    Consumed(Option<Intent>),
    /// Not used: the next in line may have it.
    NotConsumed,
}

use EventState::{Consumed, NotConsumed};

/// How far the page keys move through search results.
const SEARCH_PAGE: i64 = 10;

impl Search {
    /// An empty search, typing.
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
            Command::PageUp => Some(-SEARCH_PAGE),
            Command::PageDown => Some(SEARCH_PAGE),
            Command::Top => Some(i64::MIN / 2),
            Command::Bottom => Some(i64::MAX / 2),
            _ => None,
        }
    }

    /// Moves the selection `by` hits, staying on them.
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
        let command = scroll_command_for(key);
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

/// What a form's field holds.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// Text typed.
    Text(String),
    /// One of some choices (←→ or Space change it).
    Choice {
        /// The choices' words.
        options: Vec<std::borrow::Cow<'static, str>>,
        /// The chosen one.
        at: usize,
    },
    /// On or off (Space changes it).
    Flag(bool),
}

/// One field of a form.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// What the field is, as the form shows it.
    pub label: &'static str,
    /// What it holds.
    pub value: FieldValue,
}

impl Field {
    /// A text field holding `text`.
    pub fn text(label: &'static str, text: impl Into<String>) -> Field {
        Field {
            label,
            value: FieldValue::Text(text.into()),
        }
    }

    /// A choice among `options`, the first chosen.
    pub fn choice(label: &'static str, options: Vec<&'static str>) -> Field {
        Field {
            label,
            value: FieldValue::Choice {
                options: options
                    .into_iter()
                    .map(std::borrow::Cow::Borrowed)
                    .collect(),
                at: 0,
            },
        }
    }

    /// A choice among words made at run time (the config's account names).
    pub fn choice_owned(label: &'static str, options: Vec<String>) -> Field {
        Field {
            label,
            value: FieldValue::Choice {
                options: options.into_iter().map(std::borrow::Cow::Owned).collect(),
                at: 0,
            },
        }
    }

    /// A flag.
    pub fn flag(label: &'static str, on: bool) -> Field {
        Field {
            label,
            value: FieldValue::Flag(on),
        }
    }
}

/// What a form is for, and the event it acts on.
#[derive(Debug, Clone, PartialEq)]
pub enum FormPurpose {
    /// `N`: one quick-add line (and a Teams flag); the day it starts on unless it names one.
    QuickAdd {
        /// The selected day when it opened.
        day: chrono::NaiveDate,
    },
    /// `E`: the event's fields, prefilled.
    Edit(Box<CachedEvent>),
    /// `A` `T` `D` `P`: an answer, with a comment (and a proposed time).
    Answer {
        /// The invitation.
        event: Box<CachedEvent>,
        /// The answer (`P`: tentative unless changed).
        answer: Answer,
        /// `P`: with a proposed time.
        propose: bool,
    },
    /// `X`: the confirmation that names the event.
    Delete(Box<CachedEvent>),
    /// `s` with more than one account: which one signs in.
    SignIn,
    /// `f`: whose busy time to show over the days shown.
    FreeBusy {
        /// The first day shown.
        first: chrono::NaiveDate,
        /// The last day shown.
        last: chrono::NaiveDate,
    },
}

/// A form over the view: its fields, the focused one, and what the app made of them as they
/// were typed (a preview of the change, or why it cannot be sent).
#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    /// What it is for.
    pub purpose: FormPurpose,
    /// Its fields, in order.
    pub fields: Vec<Field>,
    /// The focused field.
    pub focus: usize,
    /// What the fields make, in words: the preview.
    pub preview: Vec<String>,
    /// Why what is typed cannot be sent.
    pub error: Option<String>,
}

impl Form {
    /// A form for `purpose` with `fields`, the first focused.
    pub fn new(purpose: FormPurpose, fields: Vec<Field>) -> Form {
        Form {
            purpose,
            fields,
            focus: 0,
            preview: Vec::new(),
            error: None,
        }
    }

    /// The text of the field labelled `label` (empty when there is none).
    pub fn text(&self, label: &str) -> &str {
        match self
            .fields
            .iter()
            .find(|f| f.label == label)
            .map(|f| &f.value)
        {
            Some(FieldValue::Text(t)) => t,
            _ => "",
        }
    }

    /// Whether the flag labelled `label` is on.
    pub fn flag(&self, label: &str) -> bool {
        matches!(
            self.fields
                .iter()
                .find(|f| f.label == label)
                .map(|f| &f.value),
            Some(FieldValue::Flag(true))
        )
    }

    /// The chosen index of the choice labelled `label` (0 when there is none).
    pub fn chosen(&self, label: &str) -> usize {
        match self
            .fields
            .iter()
            .find(|f| f.label == label)
            .map(|f| &f.value)
        {
            Some(FieldValue::Choice { at, .. }) => *at,
            _ => 0,
        }
    }

    /// Typed characters go into the focused text field (Space changes a choice or flag);
    /// Tab and the arrows move between fields and change choices; Enter sends; Esc closes.
    /// Takes every key but Ctrl-C.
    pub fn on_key(&mut self, key: &KeyEvent) -> EventState {
        let n = self.fields.len().max(1);
        let focused = self.fields.get_mut(self.focus).map(|f| &mut f.value);
        if let Some(c) = typed_char(key) {
            return match focused {
                Some(FieldValue::Text(t)) => {
                    t.push(c);
                    Consumed(Some(Intent::FormChanged))
                }
                Some(value) if c == ' ' => {
                    value.change();
                    Consumed(Some(Intent::FormChanged))
                }
                _ => Consumed(None),
            };
        }
        match form_command_for(key) {
            Some(Command::Interrupt) => NotConsumed,
            Some(Command::Close) => Consumed(Some(Intent::CloseOverlay)),
            Some(Command::Open) => Consumed(Some(Intent::SubmitForm)),
            Some(Command::NextField) => {
                self.focus = (self.focus + 1) % n;
                Consumed(None)
            }
            Some(Command::PrevField) => {
                self.focus = (self.focus + n - 1) % n;
                Consumed(None)
            }
            Some(Command::ChangeChoice) => match focused {
                Some(FieldValue::Text(_)) | None => Consumed(None),
                Some(value) => {
                    value.change();
                    Consumed(Some(Intent::FormChanged))
                }
            },
            Some(Command::DeleteBack) => match focused {
                Some(FieldValue::Text(t)) => {
                    t.pop();
                    Consumed(Some(Intent::FormChanged))
                }
                _ => Consumed(None),
            },
            _ => Consumed(None),
        }
    }
}

impl FieldValue {
    /// The next choice, or the flag turned over; text stays.
    fn change(&mut self) {
        match self {
            FieldValue::Choice { options, at } => *at = (*at + 1) % options.len().max(1),
            FieldValue::Flag(on) => *on = !*on,
            FieldValue::Text(_) => {}
        }
    }
}

/// The `i` panel: the invitations waiting for an answer, soonest first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InvitationsPanel {
    /// The invitations, as last read (with the outbox over them: one answered here goes).
    pub invites: Vec<Invite>,
    /// The selected row.
    pub selected: usize,
    /// Read at least once.
    pub loaded: bool,
}

impl InvitationsPanel {
    /// The selected invitation.
    pub fn current(&self) -> Option<&Invite> {
        self.invites.get(self.selected)
    }

    fn step(&mut self, by: i64) {
        self.selected = self
            .selected
            .saturating_add_signed(by as isize)
            .min(self.invites.len().saturating_sub(1));
    }

    /// Takes every key but Ctrl-C: the moving keys move, the answering keys answer the
    /// selected invitation, Enter shows it, the closing keys (and `i` again) close.
    pub fn on_key(&mut self, key: &KeyEvent) -> EventState {
        match scroll_command_for(key) {
            Some(Command::Interrupt) => NotConsumed,
            Some(Command::Close | Command::Quit | Command::Invitations) => {
                Consumed(Some(Intent::CloseOverlay))
            }
            Some(Command::Down | Command::NextEvent) => {
                self.step(1);
                Consumed(None)
            }
            Some(Command::Up | Command::PrevEvent) => {
                self.step(-1);
                Consumed(None)
            }
            Some(
                command @ (Command::Accept
                | Command::Tentative
                | Command::Decline
                | Command::Propose),
            ) => Consumed(Some(Intent::AnswerInvite(command))),
            Some(Command::Open) => Consumed(Some(Intent::OpenInvite)),
            // Undo works from here too.
            Some(Command::Undo | Command::Help) => NotConsumed,
            _ => Consumed(None),
        }
    }
}
