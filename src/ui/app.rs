//! The TUI's state, the actions that change it, and `update`: pure, testable without a terminal.
//! Every change of state goes through `update`; it returns effects (loads, searches, requests to
//! the background) that the [`EffectRunner`](super::runner::EffectRunner) performs.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use super::geometry;
use super::grid::{GridInput, GridLayout};
use super::keys::{Command, KeyEvent, command_for};
pub use super::overlay::{
    CalendarsPanel, Detail, Form, FormPurpose, GoTo, Help, InvitationsPanel, Overlay, OverlayKind,
    Search, SignIn,
};
use super::overlay::{EventState, Intent, Scroll};
use super::strings;
use super::theme::Theme;
use super::view::ViewKind;
use crate::auth::signin::SignInEvent;
use crate::change::invites::Invite;
use crate::config::CalendarColor;
use crate::config::Config;
use crate::failure::FailureKind;
use crate::layout::{AgendaRow, MonthGrid, day_entries};
use crate::model::{Body, CachedEvent, CalendarInfo, EventRef, ViewKey};
use crate::remind::schedule::Due;
use crate::search::Query;
use crate::store::{OutboxEntry, OutboxState, RoundCounts, SyncState as SavedState};
use crate::sync::SyncEvent;

/// How many days the agenda loads from the selected day on.
pub const AGENDA_DAYS: i64 = 45;

/// How long `z` snoozes a reminder.
pub const SNOOZE_MINUTES: i64 = 5;

/// The status bar's note when the event open in the detail pane leaves its day.
pub const NOTE_OPEN_EVENT_GONE: &str = "The open event was deleted or moved off this day.";

/// The events of the visible days: all the UI holds in memory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Visible {
    /// The first day read.
    pub first: Option<NaiveDate>,
    /// The last day read.
    pub last: Option<NaiveDate>,
    /// The events of those days, by start then id.
    pub events: Vec<CachedEvent>,
    /// Events the month left unread, by the day they begin on: only counted, for "+N more".
    pub hidden: BTreeMap<NaiveDate, usize>,
    /// The outbox as read with them (the events show its changes over the server's versions).
    pub outbox: Vec<OutboxEntry>,
}

/// What the sync task is doing, as the status bar tells it.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncActivity {
    /// Nothing running, nothing failing.
    Idle,
    /// A round is running.
    Syncing {
        /// Of this calendar view.
        view: ViewKey,
        /// Pages committed so far.
        page: u64,
    },
    /// A request of the round waits to be tried again: throttled by the server, or backing off
    /// from its errors.
    Waiting {
        /// When the next try is due.
        until: DateTime<Utc>,
        /// What kind of failure it waits out.
        kind: FailureKind,
        /// What the server said.
        reason: String,
    },
    /// The last round failed: why, per calendar.
    Error(String),
    /// Graph cannot be reached: why, per calendar.
    Offline(String),
    /// The sign-in is gone or refused.
    SignedOut,
}

/// What the status bar tells of syncing: what runs now, and each calendar's last round and failure.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncStatus {
    /// What runs now, or why nothing does.
    pub state: SyncActivity,
    /// The last completed round of each calendar (by view key): when, and its counts.
    pub rounds: BTreeMap<ViewKey, (DateTime<Utc>, RoundCounts)>,
    /// Calendars whose last round failed, until a round of theirs succeeds.
    pub failures: BTreeMap<ViewKey, (FailureKind, String)>,
    /// When the next round starts, after a failure that may heal.
    pub retry_at: Option<DateTime<Utc>>,
    /// When the last sign-in in the app succeeded: a sign-in the server refuses again right
    /// after it is not started again by itself (each would bring a new code at once).
    pub signed_in_at: Option<DateTime<Utc>>,
}

impl SyncStatus {
    /// The latest completed round of any calendar.
    pub fn last_completed(&self) -> Option<DateTime<Utc>> {
        self.rounds.values().map(|(at, _)| *at).max()
    }

    /// The counts of every calendar's last round, summed; none before the first round.
    pub fn last_counts(&self) -> Option<RoundCounts> {
        (!self.rounds.is_empty()).then(|| self.rounds.values().map(|(_, c)| *c).sum())
    }
}

/// What happens to the app: keys, the mouse, the terminal, time, and what the sync task, the sign-
/// in and the cache report.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A key press.
    Key(KeyEvent),
    /// A left click; `double` when it is the second on the same cell in quick succession.
    Click {
        /// The cell's column.
        column: u16,
        /// The cell's row.
        row: u16,
        /// The second click on the same cell in quick succession.
        double: bool,
    },
    /// The mouse moved with the left button held (after a click): a drag.
    Drag {
        /// The cell's column.
        column: u16,
        /// The cell's row.
        row: u16,
    },
    /// The left button let go.
    Release {
        /// The cell's column.
        column: u16,
        /// The cell's row.
        row: u16,
    },
    /// The mouse wheel: it moves as the arrow keys do wherever it is turned.
    Wheel {
        /// Toward the user (down the page).
        down: bool,
    },
    /// The terminal's new size.
    Resize {
        /// Columns.
        width: u16,
        /// Rows.
        height: u16,
    },
    /// Time passes: the clock the screen shows, and a new day.
    Tick(DateTime<Utc>),
    /// SIGTERM, SIGHUP, SIGINT or SIGQUIT: quit as `q` does, the terminal restored.
    Terminate,
    /// SIGTSTP: suspend as Ctrl-Z does.
    Suspend,
    /// What the sync engine reports.
    Sync(SyncEvent),
    /// Sync notifications were lost: re-read what is on screen.
    Reload,
    /// What a background sign-in reports.
    SignIn(SignInEvent),
    /// Who is signed in, as the token file says.
    Account(Option<String>),
    /// The events of the days on screen, read afresh.
    Loaded(Visible),
    /// Fresh events of some of the visible days (`first..=last` of the value).
    LoadedDays(Visible),
    /// Reading the cache failed.
    LoadFailed(String),
    /// The sync states saved in the cache, by view key, for the configured calendars.
    SavedStates(Vec<(ViewKey, SavedState)>),
    /// The cache's answer to a search for `query`.
    SearchResults {
        /// The query the hits answer.
        query: String,
        /// The hits.
        results: Vec<CachedEvent>,
    },
    /// What became of opening or copying a link: the status bar's note.
    LinkDone(String),
    /// The account's calendars as the cache last saw them listed.
    CalendarList(Vec<CalendarInfo>),
    /// A reminder fell due: a banner until dismissed or snoozed.
    Reminder(Box<Due>),
    /// The calendars hidden from the views, as remembered in the data dir.
    HiddenCalendars(std::collections::BTreeSet<ViewKey>),
    /// The body of an event, read for the detail pane.
    BodyLoaded {
        /// Whose body it is.
        event: EventRef,
        /// The body, if the event has one.
        body: Option<Body>,
    },
    /// A change this app queued is in the outbox, as change `id`.
    Queued {
        /// The app's number for it.
        seq: u64,
        /// Its outbox id.
        id: u64,
    },
    /// A change could not be written to the outbox: nothing was queued.
    QueueFailed {
        /// The app's number for it.
        seq: u64,
        /// Why.
        error: String,
    },
    /// What became of an undo: `withdrawn`, or it had been sent already.
    Undone {
        /// The app's number for the change.
        seq: u64,
        /// Taken back before it was sent.
        withdrawn: bool,
    },
    /// The invitations waiting for an answer, read for the panel.
    Invites(Vec<Invite>),
    /// Others' busy time over some days, as getSchedule answered (when any of them is busy,
    /// and the addresses it could not answer for), or why it did not.
    FreeBusy {
        /// Whose.
        addresses: Vec<String>,
        /// The first day.
        first: NaiveDate,
        /// The last day.
        last: NaiveDate,
        /// The busy intervals and the unknown addresses, or the failure.
        result: busy::BusyAnswer,
    },
}

/// Work `update` asks the effect runner to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Read the events of these days from the cache (everything on screen).
    Load {
        /// The first day.
        first: NaiveDate,
        /// The last day.
        last: NaiveDate,
    },
    /// Re-read just these days (a change touched them) and merge them into what is loaded.
    LoadDays {
        /// The first day.
        first: NaiveDate,
        /// The last day.
        last: NaiveDate,
    },
    /// Read the calendars' saved sync states (the last completed rounds).
    LoadSavedStates,
    /// Ask the sync task for a round now.
    RefreshNow,
    /// Start a sign-in in the background (device code).
    StartSignIn,
    /// Start a sign-in in the browser, in the background.
    StartBrowserSignIn,
    /// Search the cache for this query.
    Search(String),
    /// Read the body of the event the detail pane shows.
    LoadBody(EventRef),
    /// Read the account's calendars as the cache keeps them.
    LoadCalendarList,
    /// Show this reminder again in a while.
    Snooze(Box<Due>),
    /// Read which calendars the user hid.
    LoadHidden,
    /// Remember which calendars are hidden (in the background: the UI writes nothing).
    SaveHidden(std::collections::BTreeSet<ViewKey>),
    /// Open a checked web link in the browser; `what` names it for the status bar.
    OpenLink {
        /// The link.
        url: String,
        /// Its name, for the status bar.
        what: String,
    },
    /// Put a checked web link, or a sign-in code, on the clipboard (OSC 52).
    CopyLink {
        /// The link or code.
        url: String,
        /// Its name, for the status bar.
        what: String,
    },
    /// Start the sign-in of `[accounts.NAME]` in the background (device code).
    StartAccountSignIn(String),
    /// Ask getSchedule for these people's busy time over these days (in the background).
    LoadFreeBusy {
        /// Whose.
        addresses: Vec<String>,
        /// The first day.
        first: NaiveDate,
        /// The last day.
        last: NaiveDate,
    },
    /// Write a change to the outbox (in the background), to be sent once its undo wait is
    /// over. `series`: it is for the whole series of its event, which the runner finds.
    Queue {
        /// The app's number for it.
        seq: u64,
        /// The change.
        entry: Box<OutboxEntry>,
        /// For the whole series of the occurrence it names.
        series: bool,
    },
    /// Take back the change `seq` if it has not been sent.
    Undo {
        /// The app's number for it.
        seq: u64,
    },
    /// Send a failed or conflicting change again; `force`: over the server's version.
    RetryChange {
        /// Its outbox id.
        id: u64,
        /// Over the server's version.
        force: bool,
    },
    /// Give a failed or conflicting change up.
    DropChange {
        /// Its outbox id.
        id: u64,
    },
    /// Read the invitations waiting for an answer.
    LoadInvites,
}

/// Where a change this app made stands, for undo and the status bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalState {
    /// Being written to the outbox.
    Queueing,
    /// In the outbox, waiting to be sent.
    Waiting,
    /// Sent (or being sent): it can no longer be undone.
    Sent,
    /// Taken back.
    Undone,
}

/// A change this app made.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalChange {
    /// The app's number for it.
    pub seq: u64,
    /// Its outbox id, once written.
    pub id: Option<u64>,
    /// The change (its id is a stand-in until written).
    pub entry: OutboxEntry,
    /// The words for it: `Accepted “Standup”.`
    pub what: String,
    /// Where it stands.
    pub state: LocalState,
}

/// A pending change's mark on its event, in every view.
pub fn mark_symbol(state: OutboxState) -> &'static str {
    match state {
        OutboxState::Queued | OutboxState::Sending => "◌ ",
        OutboxState::Failed => "✗ ",
        OutboxState::Conflict => "⚠ ",
    }
}

/// The TUI's state: the view and the selection, the overlays, the sync indicator and what the cache
/// last gave. Pure: `update` turns an [`Action`] into [`Effect`]s for the runner.
pub struct App {
    /// The configuration.
    pub config: Arc<Config>,
    /// The styles, with or without colour.
    pub theme: Theme,
    /// The time as the last tick said.
    pub now: DateTime<Utc>,
    /// Today in the display zone.
    pub today: NaiveDate,
    /// The selected day.
    pub selected: NaiveDate,
    /// The view shown.
    pub view: ViewKind,
    /// The open overlays, the top one last: it is offered keys first and drawn over the rest.
    pub overlays: Vec<Overlay>,
    /// The events read for the days on screen.
    pub visible: Visible,
    /// Which of the selected day's events is selected.
    pub selected_event: usize,
    /// What the status bar says of syncing.
    pub sync: SyncStatus,
    /// The account signed in, as the token file says.
    pub account: Option<String>,
    /// The sign-in panel.
    pub signin: SignIn,
    /// The first hour the week and day grids show, once the user scrolls them; `None` follows
    /// the selected event. Moving the selection returns to following.
    pub grid_hour: Option<u32>,
    /// A one-line note on the status bar until the next key.
    pub note: Option<String>,
    /// The terminal's size, columns and rows.
    pub size: (u16, u16),
    /// The account's calendars as Graph listed them: names and colours.
    pub calendar_list: Vec<CalendarInfo>,
    /// Reminders shown as a banner, oldest first, until dismissed or snoozed.
    pub reminders: Vec<Due>,
    /// The view keys of the calendars hidden from the views and the search.
    pub hidden: std::collections::BTreeSet<ViewKey>,
    /// Whether links are drawn as OSC 8 hyperlinks (on a real terminal; off in snapshots).
    pub hyperlinks: bool,
    /// `q`, Ctrl-C or a signal: the loop ends.
    pub quit: bool,
    /// Ctrl-Z (or SIGTSTP): the loop gives the terminal back and stops until `fg`.
    pub suspend: bool,
    /// The outbox as last read.
    pub outbox: Vec<OutboxEntry>,
    /// The state of the pending change on each event, by event id (a create's `local:ID`).
    pub marks: std::collections::HashMap<String, OutboxState>,
    /// The changes this app made, oldest first (the last few).
    pub changes: Vec<LocalChange>,
    /// The number of the next change.
    pub next_seq: u64,
    /// An event being dragged in a time grid.
    pub drag: Option<GridDrag>,
    /// The grid slot last clicked (a day and a wall-clock minute): `N` starts there.
    pub slot: Option<(NaiveDate, u32)>,
    /// Others' busy time shown in the week and day views (`f`).
    pub busy: Option<busy::OthersBusy>,
    /// The `[accounts.NAME]` a sign-in under way is for (None: the main account's).
    pub signing: Option<String>,
}

/// An event dragged in the week or day grid: where it was taken, and how far it has moved.
#[derive(Debug, Clone, PartialEq)]
pub struct GridDrag {
    /// The event.
    pub event: EventRef,
    /// The slot it was taken at: a day and a wall-clock minute.
    pub from: (NaiveDate, u32),
    /// How far it has moved, in minutes (a multiple of 15); none while off the grid.
    pub shift: Option<i64>,
}

pub mod busy;
mod writes;

/// How soon after a sign-in a refusal of the new tokens stops the app starting another.
const SIGN_IN_REFUSED_AGAIN: Duration = Duration::minutes(5);

impl App {
    /// The app on `now`, in a terminal of `size`, before anything is read.
    pub fn new(config: Arc<Config>, theme: Theme, now: DateTime<Utc>, size: (u16, u16)) -> App {
        let today = config.display.zone.date_of(now);
        App {
            view: ViewKind::from_name(&config.ui.view),
            config,
            theme,
            now,
            today,
            selected: today,
            overlays: Vec::new(),
            visible: Visible::default(),
            selected_event: 0,
            sync: SyncStatus {
                state: SyncActivity::Idle,
                rounds: BTreeMap::new(),
                failures: BTreeMap::new(),
                retry_at: None,
                signed_in_at: None,
            },
            account: None,
            signin: SignIn::Hidden,
            grid_hour: None,
            note: None,
            size,
            calendar_list: Vec::new(),
            reminders: Vec::new(),
            hidden: std::collections::BTreeSet::new(),
            hyperlinks: false,
            suspend: false,
            quit: false,
            outbox: Vec::new(),
            marks: std::collections::HashMap::new(),
            changes: Vec::new(),
            next_seq: 1,
            drag: None,
            slot: None,
            busy: None,
            signing: None,
        }
    }

    /// What to read before the first frame: the hidden calendars (whose answer loads the days
    /// on screen), the last rounds and the calendars' names and colours.
    pub fn start(&self) -> Vec<Effect> {
        vec![
            Effect::LoadHidden,
            Effect::LoadSavedStates,
            Effect::LoadCalendarList,
        ]
    }

    /// A calendar's colour: the config's, else the one it has in Outlook.
    pub fn calendar_color(&self, view: &str) -> Option<CalendarColor> {
        let spec = self.config.calendar(view)?;
        spec.color.or_else(|| {
            let listed = self.calendar_list.iter().find(|c| spec.is(c))?;
            CalendarColor::from_graph(listed.color.as_deref(), listed.hex_color.as_deref())
        })
    }

    /// The configured calendars that are shown, by view key.
    pub fn shown_views(&self) -> Vec<ViewKey> {
        self.config
            .calendars
            .iter()
            .filter(|c| !self.hidden.contains(&c.key))
            .map(|c| c.key.clone())
            .collect()
    }

    /// The days the current view shows.
    pub fn wanted_range(&self) -> (NaiveDate, NaiveDate) {
        match self.view {
            ViewKind::Month => {
                let g = self.grid();
                (g.start, g.end())
            }
            ViewKind::Week => {
                let first = self.week_start();
                (first, first + Duration::days(6))
            }
            ViewKind::Day => (self.selected, self.selected),
            ViewKind::Agenda => (
                self.selected,
                self.selected + Duration::days(AGENDA_DAYS - 1),
            ),
        }
    }

    /// The agenda's rows in `height` lines of screen.
    pub fn agenda_rows(&self, height: usize) -> Vec<AgendaRow> {
        crate::layout::agenda_rows(
            &self.visible.events,
            &self.config.display,
            self.selected,
            self.selected_event,
            self.today,
            AGENDA_DAYS,
            height,
        )
    }

    /// What the month view reads of each day: at most as many short events as the tallest cell
    /// could show (the rest are counted), and every event of the selected day. None for the
    /// other views, which show every event they load.
    pub fn month_cap(&self) -> Option<(usize, NaiveDate)> {
        if self.view != ViewKind::Month {
            return None;
        }
        // The tallest week row's height: a cell shows its day number and at most one line less
        // of events, so more than this no cell can show (the side pane narrows the month, it
        // does not make rows taller).
        let cells = geometry::month_cells(self.main_area(), &self.grid());
        let tallest = cells
            .rows
            .iter()
            .map(|&(_, h)| usize::from(h))
            .max()
            .unwrap_or(1);
        Some((tallest.max(1), self.selected))
    }

    /// The first day of the selected day's week.
    pub fn week_start(&self) -> NaiveDate {
        let back = (self.selected.weekday().num_days_from_monday() + 7
            - self.config.display.week_start.num_days_from_monday())
            % 7;
        self.selected - Duration::days(back.into())
    }

    /// The month grid around the selected day.
    pub fn grid(&self) -> MonthGrid {
        MonthGrid::for_day(self.selected, self.config.display.week_start)
    }

    /// The first and last display-zone days the sync window covers today: days outside it have
    /// no events because nothing is synced there, not because the calendar is free.
    pub fn synced_days(&self) -> (NaiveDate, NaiveDate) {
        self.config.synced_days(self.today)
    }

    /// Whether `day` is within the synced window.
    pub fn is_synced(&self, day: NaiveDate) -> bool {
        let (first, last) = self.synced_days();
        (first..=last).contains(&day)
    }

    /// The area the view draws in (less the side pane when the detail pane is beside it).
    pub fn main_area(&self) -> ratatui::layout::Rect {
        geometry::main_area(
            self.size,
            self.detail().is_some(),
            !self.reminders.is_empty(),
        )
    }

    /// Indices (into `visible.events`) of a day's events, in display order.
    pub fn day_events(&self, day: NaiveDate) -> Vec<usize> {
        day_entries(&self.visible.events, &self.config.display, day)
            .into_iter()
            .map(|e| e.index)
            .collect()
    }

    /// The event the detail pane shows.
    pub fn selected_event(&self) -> Option<&CachedEvent> {
        if let Some(Overlay::Search(s)) = self.overlays.last()
            && !s.editing
        {
            return s.results.get(s.selected);
        }
        let day = self.day_events(self.selected);
        day.get(self.selected_event.min(day.len().saturating_sub(1)))
            .map(|&i| &self.visible.events[i])
    }

    /// The top overlay's kind; none when the view has the keys.
    pub fn top(&self) -> Option<OverlayKind> {
        self.overlays.last().map(Overlay::kind)
    }

    /// The detail pane, if it is open (on top or under another overlay).
    pub fn detail(&self) -> Option<&Detail> {
        self.overlays.iter().find_map(|o| match o {
            Overlay::Detail(d) => Some(d),
            _ => None,
        })
    }

    fn detail_mut(&mut self) -> Option<&mut Detail> {
        self.overlays.iter_mut().find_map(|o| match o {
            Overlay::Detail(d) => Some(d),
            _ => None,
        })
    }

    /// The search, if it is open.
    pub fn search(&self) -> Option<&Search> {
        self.overlays.iter().find_map(|o| match o {
            Overlay::Search(s) => Some(s),
            _ => None,
        })
    }

    fn search_mut(&mut self) -> Option<&mut Search> {
        self.overlays.iter_mut().find_map(|o| match o {
            Overlay::Search(s) => Some(s),
            _ => None,
        })
    }

    /// Opens an overlay on top; one of its kind already open gives way to it.
    fn open(&mut self, overlay: Overlay) {
        self.close(overlay.kind());
        self.overlays.push(overlay);
    }

    /// Closes the overlay of this kind, wherever it is in the stack.
    fn close(&mut self, kind: OverlayKind) {
        self.overlays.retain(|o| o.kind() != kind);
    }

    /// The wheel scrolls or moves the top overlay; over the week and day grids it scrolls the
    /// hours, elsewhere it moves as the arrow keys do.
    fn on_wheel(&mut self, down: bool) -> Vec<Effect> {
        let calendars = self.config.calendars.len();
        if let Some(top) = self.overlays.last_mut() {
            return match top.on_wheel(down, calendars) {
                EventState::Consumed(Some(intent)) => self.on_intent(intent),
                _ => Vec::new(),
            };
        }
        if self.is_time_grid() {
            self.scroll_grid(if down { 1 } else { -1 });
            return Vec::new();
        }
        self.on_command(if down { Command::Down } else { Command::Up })
    }

    fn load_if_needed(&self) -> Vec<Effect> {
        let (first, last) = self.wanted_range();
        if self.visible.first == Some(first) && self.visible.last == Some(last) {
            Vec::new()
        } else {
            vec![Effect::Load { first, last }]
        }
    }

    /// A load of what is on screen now, whatever is loaded.
    pub fn reload(&self) -> Effect {
        let (first, last) = self.wanted_range();
        Effect::Load { first, last }
    }

    fn select(&mut self, day: NaiveDate) -> Vec<Effect> {
        if day != self.selected {
            self.selected = day;
            self.selected_event = 0;
            self.slot = None;
            self.grid_hour = None;
            // An open pane follows the selection to the new day.
            if let Some(detail) = self.detail_mut() {
                *detail = Detail::on(None);
            }
        }
        let mut effects = self.load_if_needed();
        // The month read only some of a busy day's events: the selected day needs them all.
        if effects.is_empty() && self.visible.hidden.get(&day).is_some_and(|n| *n > 0) {
            effects.push(Effect::LoadDays {
                first: day,
                last: day,
            });
        }
        effects
    }

    /// Moves the selection among the selected day's events, staying within them.
    fn step_event(&mut self, step: i64) {
        let n = self.day_events(self.selected).len();
        let moved = self.selected_event.saturating_add_signed(step as isize);
        self.selected_event = moved.min(n.saturating_sub(1));
        if step != 0 {
            self.grid_hour = None;
            self.slot = None;
        }
        if step != 0 && self.top() == Some(OverlayKind::Detail) {
            self.show_detail();
        }
    }

    /// Opens (or points) the detail pane at the selected event, scrolled to its top.
    fn show_detail(&mut self) {
        let of = self.selected_event().map(CachedEvent::event_ref);
        match self.detail_mut() {
            Some(detail) => {
                detail.of = of;
                detail.scroll = 0;
            }
            None => self.overlays.push(Overlay::Detail(Detail::on(of))),
        }
    }

    /// After a load: the open pane stays on its event wherever the day's order moved it; an
    /// event no longer on the day closes the pane with a note. A pane with no event yet (the
    /// day changed under it) takes the day's selected event.
    fn keep_open_event(&mut self) {
        let Some(detail) = self.detail() else {
            return;
        };
        let Some(open) = detail.of.clone() else {
            if self.selected_event().is_some() {
                self.show_detail();
            }
            return;
        };
        let found = self
            .day_events(self.selected)
            .iter()
            .position(|&i| self.visible.events[i].is(&open));
        match found {
            Some(pos) => self.selected_event = pos,
            None => {
                self.close(OverlayKind::Detail);
                self.note = Some(NOTE_OPEN_EVENT_GONE.into());
            }
        }
    }

    fn shift_months(&self, months: i32) -> NaiveDate {
        let d = self.selected;
        let total = d.year() * 12 + d.month0() as i32 + months;
        let (year, month0) = (total.div_euclid(12), total.rem_euclid(12) as u32);
        (1..=d.day())
            .rev()
            .find_map(|day| NaiveDate::from_ymd_opt(year, month0 + 1, day))
            .unwrap_or(d)
    }

    /// Applies an action; returns the work it asks of the runner.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        let mut effects = self.on_action(action);
        effects.extend(self.follow_busy());
        // The detail pane reads its event's body once, whatever opened or moved it.
        if let Some(c) = self.selected_event()
            && let Some(detail) = self.detail()
            && detail.body.as_ref().is_none_or(|(open, _)| !c.is(open))
        {
            let event = c.event_ref();
            if let Some(detail) = self.detail_mut() {
                detail.body = Some((event.clone(), None));
            }
            effects.push(Effect::LoadBody(event));
        }
        effects
    }

    fn on_action(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Key(key) => self.on_key(key),
            Action::Terminate => {
                self.quit = true;
                Vec::new()
            }
            Action::Suspend => {
                self.suspend = true;
                Vec::new()
            }
            Action::Click {
                column,
                row,
                double,
            } => self.on_click(column, row, double),
            Action::Wheel { down } => self.on_wheel(down),
            Action::Drag { column, row } => self.on_drag(column, row),
            Action::Release { column, row } => self.on_release(column, row),
            Action::Resize { width, height } => self.on_resize(width, height),
            Action::Tick(now) => self.on_tick(now),
            Action::Sync(event) => self.on_sync(event),
            Action::Reload => vec![self.reload()],
            Action::SignIn(event) => self.on_signin(event),
            Action::Account(account) => {
                self.account = account;
                Vec::new()
            }
            Action::Loaded(visible) => {
                self.visible = visible;
                self.after_load();
                self.step_event(0);
                self.keep_open_event();
                self.invites_effect()
            }
            Action::LoadedDays(fresh) => self.merge_days(fresh),
            Action::LoadFailed(message) => {
                self.sync.state = SyncActivity::Error(message);
                Vec::new()
            }
            Action::SavedStates(states) => {
                for (view, state) in states {
                    if let Some(at) = state.cursor.last_completed {
                        let counts = state.last_counts.unwrap_or_default();
                        self.sync.rounds.insert(view, (at, counts));
                    }
                }
                Vec::new()
            }
            Action::Reminder(due) => {
                let same = |d: &Due| {
                    d.event.view == due.event.view && d.event.event.id == due.event.event.id
                };
                self.reminders.retain(|d| !same(d));
                self.reminders.push(*due);
                Vec::new()
            }
            Action::CalendarList(list) => {
                self.calendar_list = list;
                Vec::new()
            }
            Action::HiddenCalendars(hidden) => {
                self.hidden = hidden;
                vec![self.reload()]
            }
            Action::LinkDone(note) => {
                self.note = Some(note);
                Vec::new()
            }
            Action::BodyLoaded { event, body } => {
                if let Some(detail) = self.detail_mut()
                    && detail.body.as_ref().is_some_and(|(open, _)| *open == event)
                {
                    detail.body = Some((event, body));
                }
                Vec::new()
            }
            Action::Queued { seq, id } => {
                if let Some(c) = self.changes.iter_mut().find(|c| c.seq == seq) {
                    c.id = Some(id);
                    c.entry.id = id;
                    if c.state == LocalState::Queueing {
                        c.state = LocalState::Waiting;
                    }
                }
                vec![self.reload()]
            }
            Action::QueueFailed { seq, error } => {
                if let Some(c) = self.changes.iter_mut().find(|c| c.seq == seq) {
                    c.state = LocalState::Undone;
                    self.note = Some(format!(
                        "Not queued: {} ({})",
                        c.what,
                        crate::text::line(&error)
                    ));
                }
                vec![self.reload()]
            }
            Action::Undone { seq, withdrawn } => self.on_undone(seq, withdrawn),
            Action::FreeBusy {
                addresses,
                first,
                last,
                result,
            } => self.on_busy(addresses, first, last, result),
            Action::Invites(invites) => {
                if let Some(Overlay::Invitations(panel)) = self
                    .overlays
                    .iter_mut()
                    .find(|o| o.kind() == OverlayKind::Invitations)
                {
                    panel.invites = invites;
                    panel.loaded = true;
                    panel.selected = panel.selected.min(panel.invites.len().saturating_sub(1));
                }
                Vec::new()
            }
            Action::SearchResults { query, mut results } => {
                results.retain(|c| !self.hidden.contains(&c.view));
                if let Some(s) = self.search_mut()
                    && s.query.trim() == query
                {
                    s.results = results;
                    s.results_for = Some(Query::new(&query));
                    self.preselect_hit();
                }
                Vec::new()
            }
        }
    }

    /// What a background sign-in reports: the panel follows it; a sign-in that is done asks
    /// for a round at once.
    fn on_signin(&mut self, event: SignInEvent) -> Vec<Effect> {
        match event {
            SignInEvent::Code { uri, code } => {
                self.signin = SignIn::Code { uri, code };
                Vec::new()
            }
            // The organisation blocks the device code: the browser flow is what is left.
            SignInEvent::DeviceRefused => {
                self.signin = SignIn::Browser {
                    url: None,
                    opened: false,
                };
                vec![Effect::StartBrowserSignIn]
            }
            SignInEvent::BrowserUrl { url, opened } => {
                self.signin = SignIn::Browser {
                    url: Some(url),
                    opened,
                };
                Vec::new()
            }
            SignInEvent::Done { account } if self.signing.is_some() => {
                let name = self.signing.take().unwrap_or_default();
                self.signin = SignIn::Hidden;
                self.note = Some(format!(
                    "Signed in account {}{}.",
                    crate::text::line(&name),
                    account
                        .map(|a| format!(" as {}", crate::text::line(&a)))
                        .unwrap_or_default()
                ));
                vec![Effect::RefreshNow]
            }
            SignInEvent::Done { account } => {
                self.signin = SignIn::Hidden;
                self.account = account;
                self.sync.state = SyncActivity::Idle;
                self.sync.signed_in_at = Some(self.now);
                vec![Effect::RefreshNow]
            }
            SignInEvent::Failed(message) => {
                self.signin = SignIn::Failed(message);
                Vec::new()
            }
        }
    }

    /// Merges fresh events of some days into what is loaded: the days' old events give way.
    fn merge_days(&mut self, fresh: Visible) -> Vec<Effect> {
        let (Some(first), Some(last)) = (fresh.first, fresh.last) else {
            return Vec::new();
        };
        let zone = self.config.display.zone;
        self.visible
            .events
            .retain(|c| !crate::days::occupies(&c.event, &zone, first, last));
        self.visible.events.extend(fresh.events);
        self.visible.outbox = fresh.outbox;
        self.visible
            .hidden
            .retain(|day, _| !(first..=last).contains(day));
        self.visible.hidden.extend(fresh.hidden);
        let key = |c: &CachedEvent| (c.event.span().map(|s| s.0), c.event.id.clone());
        self.visible.events.sort_by_key(key);
        self.visible
            .events
            .dedup_by(|a, b| a.event.id == b.event.id && a.view == b.view);
        self.after_load();
        self.step_event(0);
        self.keep_open_event();
        self.invites_effect()
    }

    fn on_resize(&mut self, width: u16, height: u16) -> Vec<Effect> {
        let taller = height > self.size.1 || width != self.size.0;
        self.size = (width, height);
        // Taller month cells can show events the month did not read.
        if self.view == ViewKind::Month && taller && !self.visible.hidden.is_empty() {
            return vec![self.reload()];
        }
        Vec::new()
    }

    /// Time passes: the clock moves, and a new day reads the days on screen again.
    fn on_tick(&mut self, now: DateTime<Utc>) -> Vec<Effect> {
        self.now = now;
        let today = self.config.display.zone.date_of(now);
        if today != self.today {
            self.today = today;
            return vec![self.reload()];
        }
        Vec::new()
    }

    /// Selects the first hit from today on: the next occurrence is what one wants.
    fn preselect_hit(&mut self) {
        let zone = self.config.display.zone;
        let today = self.today;
        if let Some(s) = self.search_mut() {
            s.selected = s
                .results
                .iter()
                .position(|c| {
                    crate::days::event_days(&c.event, &zone).is_some_and(|(_, last)| last >= today)
                })
                .unwrap_or(0);
        }
    }

    /// Answers a search as it is typed: a blank query has no hits; one that only adds to the
    /// last answered query filters its hits; any other reads the cache.
    fn run_search(&mut self, text: String) -> Vec<Effect> {
        let Some(s) = self.search_mut() else {
            return Vec::new();
        };
        let query = Query::new(&text);
        if query.is_blank() {
            s.results.clear();
            s.results_for = None;
            s.selected = 0;
            return Vec::new();
        }
        if s.results_for
            .as_ref()
            .is_some_and(|last| query.narrows(last))
        {
            s.results.retain(|c| query.matches(&c.event));
            s.results_for = Some(query);
            self.preselect_hit();
            return Vec::new();
        }
        vec![Effect::Search(text)]
    }

    fn on_sync(&mut self, event: SyncEvent) -> Vec<Effect> {
        match event {
            SyncEvent::RoundStarted { view, .. } => {
                self.sync.state = SyncActivity::Syncing { view, page: 0 };
                self.sync.retry_at = None;
                Vec::new()
            }
            SyncEvent::PageApplied {
                view, page, range, ..
            } => {
                self.sync.state = SyncActivity::Syncing { view, page };
                self.reload_changed(range)
            }
            // Another process's commit: what it changed is read again; the sync state here is
            // this process's own.
            SyncEvent::CacheChanged { view: None, .. } => vec![self.reload()],
            SyncEvent::CacheChanged { range, .. } => self.reload_changed(range),
            SyncEvent::RoundFinished(summary) => {
                self.sync.failures.remove(&summary.view);
                self.sync
                    .rounds
                    .insert(summary.view, (self.now, summary.counts));
                self.sync.state = self.failure_state();
                Vec::new()
            }
            SyncEvent::Failed {
                view,
                message,
                kind,
            } => {
                // The bar says "offline" itself (with when it retries); the error's own
                // "offline: " would say it twice.
                let message = match message.strip_prefix("offline: ") {
                    Some(rest) if kind == FailureKind::Offline => rest.to_owned(),
                    _ => message,
                };
                self.sync.failures.insert(view, (kind, message));
                self.sync.state = self.failure_state();
                if kind == FailureKind::SignInNeeded && self.signin == SignIn::Hidden {
                    // Refused again right after a sign-in: starting another at once would
                    // loop, a new code a second; the user decides.
                    if self
                        .sync
                        .signed_in_at
                        .is_some_and(|at| self.now - at < SIGN_IN_REFUSED_AGAIN)
                    {
                        self.note = Some(strings::sign_in_refused_again());
                        return Vec::new();
                    }
                    self.signin = SignIn::Requesting;
                    return vec![Effect::StartSignIn];
                }
                Vec::new()
            }
            SyncEvent::Waiting {
                until,
                kind,
                reason,
            } => {
                self.sync.state = SyncActivity::Waiting {
                    until,
                    kind,
                    reason,
                };
                Vec::new()
            }
            SyncEvent::RetryAt { at } => {
                self.sync.retry_at = Some(at);
                Vec::new()
            }
            SyncEvent::CalendarsListed => vec![Effect::LoadCalendarList],
        }
    }

    /// Re-reads only the changed days that are on screen (a day of slack on each side:
    /// all-day events sit at the midnights of the server's zone), and an open search.
    fn reload_changed(&mut self, range: Option<(DateTime<Utc>, DateTime<Utc>)>) -> Vec<Effect> {
        let (Some(first), Some(last)) = (self.visible.first, self.visible.last) else {
            return vec![self.reload()];
        };
        let Some((a, b)) = range else {
            return Vec::new();
        };
        // An open search answers from the cache as it now is.
        let mut effects = match self.search() {
            Some(s) if !s.query.trim().is_empty() => {
                vec![Effect::Search(s.query.trim().to_owned())]
            }
            _ => Vec::new(),
        };
        let zone = self.config.display.zone;
        let changed_first = zone.date_of(a) - Duration::days(1);
        let changed_last = zone.date_of(b) + Duration::days(1);
        if changed_last >= first && changed_first <= last {
            effects.push(Effect::LoadDays {
                first: changed_first.max(first),
                last: changed_last.min(last),
            });
        }
        effects
    }

    /// What the status bar tells of the calendars whose last round failed (idle when none):
    /// a failure stays until that calendar's next round succeeds, whatever the others do.
    fn failure_state(&self) -> SyncActivity {
        let failures = &self.sync.failures;
        if failures.is_empty() {
            return SyncActivity::Idle;
        }
        if failures
            .values()
            .any(|(k, _)| *k == FailureKind::SignInNeeded)
        {
            return SyncActivity::SignedOut;
        }
        let named = self.config.calendars.len() > 1;
        let mut parts: Vec<String> = Vec::new();
        // In the config's order.
        for cal in &self.config.calendars {
            if let Some((_, message)) = failures.get(&cal.key) {
                parts.push(if named {
                    format!("{}: {message}", cal.name)
                } else {
                    message.clone()
                });
            }
        }
        let text = if parts.len() > 1 {
            format!("{} calendars failing: {}", parts.len(), parts.join(" · "))
        } else {
            parts.concat()
        };
        if failures.values().all(|(k, _)| *k == FailureKind::Offline) {
            SyncActivity::Offline(text)
        } else {
            SyncActivity::Error(text)
        }
    }

    /// A click on a view tab switches to it; one on a day of the month selects it, and a
    /// double click there opens its event.
    fn on_click(&mut self, column: u16, row: u16, double: bool) -> Vec<Effect> {
        if self.top().is_some_and(|top| top != OverlayKind::Detail) {
            return Vec::new();
        }
        if row == 0 {
            return match geometry::tab_at(self.size.0, self.view, column) {
                Some(view) => self.show_view(view),
                None => Vec::new(),
            };
        }
        if self.view == ViewKind::Agenda {
            // A click on an event selects it; a double click opens it too.
            let area = self.main_area();
            if !(area.y..area.bottom()).contains(&row) || column >= area.right() {
                return Vec::new();
            }
            let rows = self.agenda_rows(area.height as usize);
            let Some(AgendaRow::Event { day, pos, .. }) = rows.get(usize::from(row - area.y))
            else {
                return Vec::new();
            };
            let (day, pos) = (*day, *pos);
            let effects = self.select(day);
            self.selected_event = pos;
            if self.detail().is_some() || double {
                self.on_command(Command::Open);
            }
            return effects;
        }
        if self.is_time_grid() {
            // A click on an event (timed or all-day) selects it; a double click opens it.
            let Some(grid) = self.time_grid(self.main_area()) else {
                return Vec::new();
            };
            let slot = grid.slot_at(column, row);
            let Some((day, index)) = grid.event_at(column, row) else {
                // An empty slot: `N` starts there.
                if let Some((day, minute)) = slot {
                    let effects = self.select(day);
                    self.slot = Some((day, minute));
                    return effects;
                }
                return Vec::new();
            };
            // A timed event may be dragged from here.
            if let (Some(from), Some(c)) = (slot, self.visible.events.get(index))
                && !c.event.all_day
            {
                self.drag = Some(GridDrag {
                    event: c.event_ref(),
                    from,
                    shift: None,
                });
            }
            let effects = self.select(day);
            if let Some(pos) = self.day_events(day).iter().position(|&i| i == index) {
                self.selected_event = pos;
                if self.detail().is_some() || double {
                    self.on_command(Command::Open);
                }
            }
            return effects;
        }
        let Some(day) = geometry::day_at(self.main_area(), &self.grid(), column, row) else {
            return Vec::new();
        };
        let effects = self.select(day);
        if double {
            self.on_command(Command::Open);
        }
        effects
    }

    /// Where the week or day view puts everything in `area`.
    pub fn time_grid(&self, area: ratatui::layout::Rect) -> Option<GridLayout> {
        let (first, last) = self.wanted_range();
        // A dragged event is drawn where it would land.
        let dragged;
        let events = match &self.drag {
            Some(GridDrag {
                event,
                shift: Some(shift),
                ..
            }) if *shift != 0 => {
                let by = Duration::minutes(*shift);
                let mut moved = self.visible.events.clone();
                for c in moved.iter_mut().filter(|c| c.is(event)) {
                    for t in [&mut c.event.start, &mut c.event.end] {
                        if let Some(crate::model::EventTime::At(at)) = t {
                            *at += by;
                        }
                    }
                }
                dragged = moved;
                &dragged
            }
            _ => &self.visible.events,
        };
        let input = GridInput {
            events,
            config: &self.config,
            first,
            last,
            selected: self.selected,
            selected_index: self
                .day_events(self.selected)
                .get(self.selected_event)
                .copied(),
            grid_hour: self.grid_hour,
        };
        super::grid::layout(&input, area)
    }

    /// `o` and `y`: the selected event's join link (else its web link), checked to be a web
    /// address, handed to the effect runner; the status bar says what is missing otherwise.
    fn act_on_link(&mut self, command: Command) -> Vec<Effect> {
        // The reminder banner's event first: `o` joins the meeting it is about. The status bar
        // names the event either way, so it is never a guess which one it was.
        let banner = self.reminders.first().map(|d| d.event.clone());
        let Some(c) = banner.as_ref().or(self.selected_event()) else {
            self.note = Some("No event selected.".into());
            return Vec::new();
        };
        match crate::links::event_link(&c.event) {
            Ok((kind, url)) => {
                let title = super::width::fit(c.event.title(), 40);
                let whose = if banner.is_some() {
                    "the reminder's "
                } else {
                    ""
                };
                let url = url.to_string();
                let what = format!("{} of {whose}“{title}”", kind.name());
                vec![link_effect(command, url, what)]
            }
            Err(no_link) => {
                self.note = Some(no_link.to_string());
                Vec::new()
            }
        }
    }

    /// Whether the view is a time grid (week or day).
    fn is_time_grid(&self) -> bool {
        matches!(self.view, ViewKind::Week | ViewKind::Day)
    }

    /// Scrolls the week or day grid by `hours`, from wherever it shows now.
    fn scroll_grid(&mut self, hours: i32) {
        if let Some(grid) = self.time_grid(self.main_area()) {
            let latest = 24 - grid.hours_shown;
            let hour = grid.first_hour.saturating_add_signed(hours).min(latest);
            self.grid_hour = Some(hour);
        }
    }

    /// The open overlay is offered the key first, then the sign-in panel, then the key table.
    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        self.note = None;
        // Like Ctrl-C, whatever is open or being typed.
        if command_for(&key) == Some(Command::Suspend) {
            self.suspend = true;
            return Vec::new();
        }
        let calendars = self.config.calendars.len();
        let state = match self.overlays.last_mut() {
            None => EventState::NotConsumed,
            Some(top) => top.on_key(&key, calendars),
        };
        let state = match state {
            EventState::NotConsumed => self.signin.on_key(&key),
            consumed => consumed,
        };
        match state {
            EventState::Consumed(None) => Vec::new(),
            EventState::Consumed(Some(intent)) => self.on_intent(intent),
            EventState::NotConsumed => match command_for(&key) {
                Some(command) => self.on_command(command),
                None => Vec::new(),
            },
        }
    }

    fn on_intent(&mut self, intent: Intent) -> Vec<Effect> {
        match intent {
            Intent::CloseOverlay => {
                self.overlays.pop();
                Vec::new()
            }
            Intent::HideSignIn => {
                self.signin = SignIn::Hidden;
                Vec::new()
            }
            Intent::StartSignIn => {
                self.signin = SignIn::Requesting;
                vec![Effect::StartSignIn]
            }
            Intent::Link { command, url, what } => vec![link_effect(command, url, what)],
            Intent::RunSearch(query) => self.run_search(query),
            Intent::ScrollDetail(scroll) => {
                let (page, end) = pane::scroll_room(self);
                let page = page.saturating_sub(1).max(1) as i16;
                let Some(detail) = self.detail_mut() else {
                    return Vec::new();
                };
                let at = detail.scroll.min(end);
                detail.scroll = match scroll {
                    Scroll::Lines(by) => at.saturating_add_signed(by),
                    Scroll::Pages(by) => at.saturating_add_signed(by.saturating_mul(page)),
                    Scroll::Top => 0,
                    Scroll::Bottom => end,
                }
                .min(end);
                Vec::new()
            }
            Intent::StepEvent(step) => {
                self.step_event(step);
                Vec::new()
            }
            Intent::OpenHit => self.open_search_hit(),
            Intent::ToggleCalendar(index) => {
                let Some(cal) = self.config.calendars.get(index) else {
                    return Vec::new();
                };
                if !self.hidden.remove(&cal.key) {
                    self.hidden.insert(cal.key.clone());
                }
                vec![Effect::SaveHidden(self.hidden.clone()), self.reload()]
            }
            Intent::FormChanged => {
                self.check_form();
                Vec::new()
            }
            Intent::SubmitForm => self.submit_form(),
            Intent::AnswerInvite(command) => {
                let invite = self.invitations().and_then(|p| p.current()).cloned();
                match invite {
                    Some(invite) => self.ask_answer(invite.event, command),
                    None => Vec::new(),
                }
            }
            Intent::OpenInvite => self.open_invite(),
            Intent::GoTo(text) => match crate::days::parse_day(&text, self.today) {
                Ok(day) => {
                    self.close(OverlayKind::GoTo);
                    self.select(day)
                }
                Err(e) => {
                    if let Some(Overlay::GoTo(prompt)) = self.overlays.last_mut() {
                        prompt.error = Some(e);
                    }
                    Vec::new()
                }
            },
        }
    }

    /// Goes to the selected search hit's day and opens its details.
    fn open_search_hit(&mut self) -> Vec<Effect> {
        let Some(search) = self.search() else {
            return Vec::new();
        };
        let Some(hit) = search.results.get(search.selected).cloned() else {
            return Vec::new();
        };
        let day = crate::days::event_days(&hit.event, &self.config.display.zone).map(|d| d.0);
        // The search, and any pane under it, give way to the hit's pane.
        self.close(OverlayKind::Search);
        self.close(OverlayKind::Detail);
        let mut effects = day.map(|d| self.select(d)).unwrap_or_default();
        self.overlays
            .push(Overlay::Detail(Detail::on(Some(hit.event_ref()))));
        // Select the hit among its day's events now if they are loaded, else once they are.
        if effects.is_empty() {
            self.keep_open_event();
            if self.detail().is_none() {
                // Loaded, but from before the hit's latest change: read the day again.
                self.overlays
                    .push(Overlay::Detail(Detail::on(Some(hit.event_ref()))));
                self.note = None;
                effects.push(self.reload());
            }
        }
        effects
    }

    fn show_view(&mut self, view: ViewKind) -> Vec<Effect> {
        self.view = view;
        self.load_if_needed()
    }

    /// The commands that move the selection, switch the view or open an overlay; none for
    /// the others.
    fn on_move(&mut self, command: Command) -> Option<Vec<Effect>> {
        let time_grid = self.is_time_grid();
        let day_step = match self.view {
            ViewKind::Month => 7,
            _ => 1,
        };
        Some(match command {
            Command::Left => self.select(self.selected - Duration::days(1)),
            Command::Right => self.select(self.selected + Duration::days(1)),
            // The time grids move through the day's events; the others through days.
            Command::Up if time_grid => {
                self.step_event(-1);
                Vec::new()
            }
            Command::Down if time_grid => {
                self.step_event(1);
                Vec::new()
            }
            Command::Up => self.select(self.selected - Duration::days(day_step)),
            Command::Down => self.select(self.selected + Duration::days(day_step)),
            Command::NextMonth if time_grid => self.select(self.selected + Duration::days(7)),
            Command::PrevMonth if time_grid => self.select(self.selected - Duration::days(7)),
            Command::NextMonth => self.select(self.shift_months(1)),
            Command::PrevMonth => self.select(self.shift_months(-1)),
            Command::Today => self.select(self.today),
            Command::ToggleView => self.show_view(self.view.next()),
            Command::MonthView => self.show_view(ViewKind::Month),
            Command::WeekView => self.show_view(ViewKind::Week),
            Command::DayView => self.show_view(ViewKind::Day),
            Command::AgendaView => self.show_view(ViewKind::Agenda),
            Command::GoTo => {
                self.open(Overlay::GoTo(GoTo::default()));
                Vec::new()
            }
            Command::NextEvent => {
                self.step_event(1);
                Vec::new()
            }
            Command::PrevEvent => {
                self.step_event(-1);
                Vec::new()
            }
            Command::EarlierHours => {
                self.scroll_grid(-1);
                Vec::new()
            }
            Command::LaterHours => {
                self.scroll_grid(1);
                Vec::new()
            }
            Command::Calendars => {
                self.open(Overlay::Calendars(CalendarsPanel::default()));
                Vec::new()
            }
            Command::Open => {
                if self.selected_event().is_some() {
                    self.show_detail();
                }
                Vec::new()
            }
            Command::Search => {
                self.open(Overlay::Search(Search::new()));
                Vec::new()
            }
            Command::Help => {
                self.open(Overlay::Help(Help::default()));
                Vec::new()
            }
            _ => return None,
        })
    }

    fn on_command(&mut self, command: Command) -> Vec<Effect> {
        if let Some(effects) = self.on_move(command) {
            return effects;
        }
        match command {
            // `on_move`'s.
            Command::Left
            | Command::Right
            | Command::Up
            | Command::Down
            | Command::NextMonth
            | Command::PrevMonth
            | Command::Today
            | Command::ToggleView
            | Command::MonthView
            | Command::WeekView
            | Command::DayView
            | Command::AgendaView
            | Command::GoTo
            | Command::NextEvent
            | Command::PrevEvent
            | Command::EarlierHours
            | Command::LaterHours
            | Command::Calendars
            | Command::Open
            | Command::Search
            | Command::Help => Vec::new(),
            Command::OpenLink | Command::CopyLink => self.act_on_link(command),
            Command::NewEvent
            | Command::Edit
            | Command::Delete
            | Command::Accept
            | Command::Tentative
            | Command::Decline
            | Command::Propose
            | Command::Invitations
            | Command::Undo
            | Command::MoveEarlier
            | Command::MoveLater
            | Command::MoveDayBack
            | Command::MoveDayOn
            | Command::KeepMine
            | Command::KeepTheirs => self.on_write_command(command),
            Command::Snooze => self.snooze(),
            Command::FreeBusy => self.ask_whose_busy(),
            Command::Dismiss => {
                if !self.reminders.is_empty() {
                    self.reminders.remove(0);
                }
                Vec::new()
            }
            Command::Refresh => self.refresh(),
            Command::SignIn => self.ask_sign_in(),
            Command::Close => {
                self.overlays.pop();
                Vec::new()
            }
            // Only a text field and the detail pane bind these, and they consume them there.
            Command::DeleteBack
            | Command::Toggle
            | Command::PageDown
            | Command::PageUp
            | Command::Top
            | Command::Bottom
            | Command::NextField
            | Command::PrevField
            | Command::ChangeChoice => Vec::new(),
            Command::Quit | Command::Interrupt => {
                self.quit = true;
                Vec::new()
            }
            Command::Suspend => {
                self.suspend = true;
                Vec::new()
            }
        }
    }

    /// `z`: the reminder banner's first reminder goes, to come back in a while.
    fn snooze(&mut self) -> Vec<Effect> {
        if self.reminders.is_empty() {
            return Vec::new();
        }
        let due = self.reminders.remove(0);
        self.note = Some(format!(
            "Snoozed: {} will remind again in {SNOOZE_MINUTES} min.",
            crate::text::line(due.event.event.title())
        ));
        vec![Effect::Snooze(Box::new(due))]
    }

    /// `r`: a round now. One waiting out the server's Retry-After cannot go sooner: say so,
    /// rather than seem to do nothing.
    fn refresh(&mut self) -> Vec<Effect> {
        match &self.sync.state {
            SyncActivity::Waiting { until, kind, .. } => {
                self.note = Some(strings::waiting_why(
                    *kind,
                    &crate::days::clock(&self.config.display, *until),
                ));
                Vec::new()
            }
            SyncActivity::Syncing { .. } => {
                self.note = Some(strings::syncing_already());
                Vec::new()
            }
            _ => vec![Effect::RefreshNow],
        }
    }

    /// `s`: a sign-in. Signed in already, a new one replaces the account, so it asks first.
    fn ask_sign_in(&mut self) -> Vec<Effect> {
        // More than one account: which one first.
        if !self.config.accounts.is_empty() && self.signin == SignIn::Hidden {
            self.open_form(FormPurpose::SignIn);
            return Vec::new();
        }
        self.ask_main_sign_in()
    }

    /// Enter in the account choice: the main account's sign-in, or the chosen account's.
    fn sign_in_chosen(&mut self) -> Vec<Effect> {
        let Some(Overlay::Form(form)) = self.overlays.last() else {
            return Vec::new();
        };
        let at = form.chosen(crate::ui::changes::label::ACCOUNT);
        self.overlays.pop();
        let Some(name) = at
            .checked_sub(1)
            .and_then(|i| self.config.accounts.keys().nth(i))
            .cloned()
        else {
            return self.ask_main_sign_in();
        };
        self.signing = Some(name.clone());
        self.signin = SignIn::Requesting;
        vec![Effect::StartAccountSignIn(name)]
    }

    /// `s` for the main account: asks first when someone is signed in.
    fn ask_main_sign_in(&mut self) -> Vec<Effect> {
        match &self.account {
            Some(account)
                if self.signin == SignIn::Hidden && self.sync.state != SyncActivity::SignedOut =>
            {
                self.signin = SignIn::Confirm {
                    account: account.clone(),
                };
                Vec::new()
            }
            _ => self.on_intent(Intent::StartSignIn),
        }
    }
}

/// `o` opens what a link key acts on, `y` copies it.
fn link_effect(command: Command, url: String, what: String) -> Effect {
    if command == Command::OpenLink {
        Effect::OpenLink { url, what }
    } else {
        Effect::CopyLink { url, what }
    }
}

/// The detail pane's content and size, as the pane draws it and as its scroll keys need it (a
/// page is its height less one line; End goes to its last page).
pub mod pane {
    use ratatui::layout::Rect;
    use ratatui::style::{Modifier, Style};
    use ratatui::text::{Line, Span};

    use crate::layout::when;
    use crate::model::{AttendeeKind, EventKind, Response};
    use crate::text;
    use crate::ui::app::App;
    use crate::ui::width::fit;
    use crate::ui::{geometry, strings};

    fn response_mark(response: Option<&Response>) -> &'static str {
        match response {
            Some(Response::Accepted | Response::Organizer) => "✓",
            Some(Response::TentativelyAccepted) => "?",
            Some(Response::Declined) => "✗",
            _ => "·",
        }
    }

    /// Where the pane goes for these lines.
    fn pane_area(app: &App, lines: &[Line]) -> Rect {
        let widths: Vec<usize> = lines.iter().map(Line::width).collect();
        geometry::detail_area(app.size, &widths)
    }

    /// The pane as drawn: its lines, where it goes, how many rows of it are past the bottom, and
    /// the join link's line.
    pub struct Pane {
        /// Its lines, unwrapped.
        pub lines: Vec<Line<'static>>,
        /// Where it goes, borders included.
        pub area: Rect,
        /// Rows of text inside the borders, and how many more rows there are than fit.
        pub height: u16,
        /// Rows of text past the bottom.
        pub overflow: u16,
        /// The join link's shown text and the link behind it.
        pub join_link: Option<(String, url::Url)>,
    }

    impl Pane {
        fn new(
            app: &App,
            lines: Vec<Line<'static>>,
            join_link: Option<(String, url::Url)>,
        ) -> Pane {
            let area = pane_area(app, &lines);
            let inner = area.width.saturating_sub(2).max(1) as usize;
            let rows: usize = lines.iter().map(|l| l.width().div_ceil(inner).max(1)).sum();
            let height = area.height.saturating_sub(2);
            let overflow = rows.saturating_sub(height as usize) as u16;
            Pane {
                lines,
                area,
                height,
                overflow,
                join_link,
            }
        }
    }

    /// The pending change on the event, after its fields: queued, failed with the reason, or a
    /// conflict with both versions and the keys that settle it.
    fn pending_lines(app: &App, c: &crate::model::CachedEvent, lines: &mut Vec<Line<'static>>) {
        use crate::store::{OutboxState, PendingChange};
        use crate::ui::keys::{Command, hint};
        let Some(entry) = app.pending_of(c) else {
            return;
        };
        let theme = &app.theme;
        lines.push(Line::default());
        let what = entry.change.word();
        let (head, style) = match entry.state {
            OutboxState::Queued | OutboxState::Sending => (
                format!(
                    "Your change ({what}) waits to be sent; {} takes it back until it goes.",
                    hint(Command::Undo)
                ),
                theme.header(),
            ),
            OutboxState::Failed => (format!("Your change ({what}) was refused."), theme.error()),
            OutboxState::Conflict => (
                format!("Your change ({what}) conflicts: the event changed on the server."),
                theme.error(),
            ),
        };
        lines.push(Line::from(Span::styled(head, style)));
        if let Some(error) = &entry.error {
            lines.push(Line::from(format!("Why: {}", text::line(error))));
        }
        if entry.state == OutboxState::Conflict {
            // Both versions: the server's is what the pane shows above; the user's is the
            // change's fields.
            lines.push(Line::from("Theirs: as shown above (the server's version)."));
            let mine = match &entry.change {
                PendingChange::Update { fields } => {
                    let mut parts = Vec::new();
                    if let Some(s) = fields["subject"].as_str() {
                        parts.push(format!("subject “{}”", text::line(s)));
                    }
                    if let Some(l) = fields["location"]["displayName"].as_str() {
                        parts.push(format!("where “{}”", text::line(l)));
                    }
                    let mut moved = c.clone();
                    let mut events = vec![moved.clone()];
                    let mut shown = entry.clone();
                    shown.state = OutboxState::Queued;
                    crate::store::overlay(&mut events, &[shown]);
                    if let Some(after) = events.pop() {
                        moved = after;
                    }
                    if fields.get("start").is_some() || fields.get("end").is_some() {
                        parts.push(when(&moved.event, &app.config.display));
                    }
                    if fields.get("attendees").is_some() {
                        parts.push("the attendee list".into());
                    }
                    parts.join(", ")
                }
                other => other.word().to_owned(),
            };
            lines.push(Line::from(format!("Yours: {mine}.")));
        }
        if matches!(entry.state, OutboxState::Failed | OutboxState::Conflict) {
            lines.push(Line::from(Span::styled(
                format!(
                    "{} keep mine (send again{}) · {} keep theirs (give mine up)",
                    hint(Command::KeepMine),
                    if entry.state == OutboxState::Conflict {
                        ", over theirs"
                    } else {
                        ""
                    },
                    hint(Command::KeepTheirs)
                ),
                theme.accent(),
            )));
        }
    }

    /// The detail pane's rows of text, and how far it can scroll: what a page of the page keys is
    /// and where End goes.
    pub fn scroll_room(app: &App) -> (u16, u16) {
        let pane = detail_pane(app);
        (pane.height, pane.overflow)
    }

    /// An event's times in the zone it was made in (`01:00–01:15 Pacific Standard Time`),
    /// when they differ from the display zone's; None for all-day events and the same times.
    fn own_zone_times(
        e: &crate::model::Event,
        display: &crate::config::DisplayConfig,
    ) -> Option<String> {
        if e.all_day {
            return None;
        }
        let name = e.zone.as_deref()?;
        let zone = crate::tz::resolve(name)?;
        let (start, end) = e.span()?;
        if display.zone.local(start) == start.with_timezone(&zone).naive_local() {
            return None;
        }
        let clock = |t: chrono::DateTime<chrono::Utc>| {
            let local = t.with_timezone(&zone);
            if display.hour12 {
                local.format("%-I:%M%P").to_string()
            } else {
                local.format("%H:%M").to_string()
            }
        };
        let day = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&zone).date_naive();
        let other_day = if day(start) == display.zone.date_of(start) {
            String::new()
        } else {
            format!(" ({})", day(start).format("%a %-d %b"))
        };
        Some(format!(
            "{}–{} {}{other_day}",
            clock(start),
            clock(end),
            text::line(name)
        ))
    }

    /// What the pane shows for the selected event.
    pub fn detail_pane(app: &App) -> Pane {
        let theme = &app.theme;
        let Some(c) = app.selected_event() else {
            return Pane::new(app, vec![Line::from("No event selected.")], None);
        };
        let e = &c.event;
        let label = |s: &'static str| Span::styled(format!("{s:<10}"), theme.dim());
        let mut lines = vec![
            Line::from(Span::styled(
                text::line(e.title()).into_owned(),
                Style::new().add_modifier(Modifier::BOLD),
            )),
            Line::default(),
            Line::from(vec![label("When"), Span::raw(when(e, &app.config.display))]),
        ];
        if let Some(theirs) = own_zone_times(e, &app.config.display) {
            lines.push(Line::from(vec![label("Its zone"), Span::raw(theirs)]));
        }
        if e.cancelled {
            lines.push(Line::from(vec![
                label("Status"),
                Span::styled("cancelled", theme.error()),
            ]));
        }
        let calendar = app.config.calendar_name(&c.view);
        lines.push(Line::from(vec![
            label("Calendar"),
            Span::raw(text::line(calendar).into_owned()),
        ]));
        if let Some(show) = &e.show_as {
            let mut s = text::line(show.words()).into_owned();
            if let Some(r) = &e.response {
                s.push_str(&format!(", you: {}", text::line(r.words())));
            }
            lines.push(Line::from(vec![label("Show as"), Span::raw(s)]));
        }
        if let Some(l) = &e.location {
            lines.push(Line::from(vec![
                label("Where"),
                Span::raw(text::line(l).into_owned()),
            ]));
        }
        if let Some(o) = &e.organizer {
            lines.push(Line::from(vec![
                label("Organizer"),
                Span::raw(text::line(&o.display()).into_owned()),
            ]));
        }
        match e.kind {
            Some(EventKind::Occurrence) => lines.push(Line::from(vec![
                label("Repeats"),
                Span::raw("an occurrence of a recurring series"),
            ])),
            Some(EventKind::Exception) => lines.push(Line::from(vec![
                label("Repeats"),
                Span::raw("a changed occurrence of a recurring series"),
            ])),
            _ => {}
        }
        // The join link on one line of its own, never wrapped: cut to the pane's width if it must
        // be, with the whole link behind it as a hyperlink (`o` opens it, `y` copies it).
        let join = e
            .online_meeting_url
            .as_deref()
            .map(|raw| (raw, crate::links::web_url(raw)));
        let mut join_link = None;
        if let Some((raw, url)) = join {
            let inner = geometry::detail_area(app.size, &[]).width.saturating_sub(2) as usize;
            lines.push(Line::from(label("Join")));
            let shown = fit(url.as_ref().map_or(raw, |u| u.as_str()), inner);
            lines.push(Line::from(Span::styled(shown.clone(), theme.accent())));
            join_link = url.ok().map(|u| (shown, u));
        }
        if !e.categories.is_empty() {
            let cats: Vec<String> = e
                .categories
                .iter()
                .map(|c| text::line(c).into_owned())
                .collect();
            lines.push(Line::from(vec![label("Tags"), Span::raw(cats.join(", "))]));
        }
        if !e.attendees.is_empty() {
            lines.push(Line::default());
            lines.push(Line::from(Span::styled(
                format!("Attendees ({})", e.attendees.len()),
                theme.header(),
            )));
            for a in &e.attendees {
                let kind = match a.kind {
                    Some(AttendeeKind::Optional) => " (optional)",
                    Some(AttendeeKind::Resource) => " (room)",
                    _ => "",
                };
                lines.push(Line::from(format!(
                    " {} {}{kind}",
                    response_mark(a.response.as_ref()),
                    text::line(&a.person.display())
                )));
            }
        }
        // The full body when Graph sent one (read when the pane opened), else the preview.
        let body = match app.detail().and_then(|d| d.body.as_ref()) {
            Some((open, body)) if c.is(open) => body.as_ref(),
            _ => None,
        };
        let notes = match body.or(e.body.as_ref()) {
            Some(body) => Some(body.text()),
            None => e.body_preview.clone(),
        };
        if let Some(notes) = notes.filter(|n| !n.trim().is_empty()) {
            lines.push(Line::default());
            for l in text::block(notes.trim_end()).lines() {
                lines.push(Line::from(l.to_owned()));
            }
        }
        pending_lines(app, c, &mut lines);
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(
            strings::detail_hint(),
            theme.dim(),
        )));
        Pane::new(app, lines, join_link)
    }
}
