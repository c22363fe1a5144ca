//! The domain model: events as deltacal understands them, and the changes a delta page carries.
//!
//! Graph's JSON shapes and their lenient reading live with the Graph client
//! (`graph::event_json`); the model knows nothing of the wire.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc, Weekday};

use serde::{Deserialize, Serialize};

use crate::tz;

/// The start or end of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "StoredTime", try_from = "StoredTime")]
pub enum EventTime {
    /// A timed event's instant.
    At(DateTime<Utc>),
    /// An all-day event's date (local to the zone the server sent), with the instant of that
    /// local midnight as the server sent it.
    AllDay {
        /// The date, as the event's zone has it.
        date: NaiveDate,
        /// Its midnight in that zone, as an instant.
        utc: DateTime<Utc>,
    },
}

/// How the cache stores an [`EventTime`]: integers, cheap to encode and decode.
#[derive(Serialize, Deserialize)]
enum StoredTime {
    /// Milliseconds since the epoch.
    At(i64),
    /// Days since 0001-01-01 (CE), and the instant in milliseconds.
    AllDay(i32, i64),
}

impl From<EventTime> for StoredTime {
    fn from(t: EventTime) -> StoredTime {
        match t {
            EventTime::At(t) => StoredTime::At(t.timestamp_millis()),
            EventTime::AllDay { date, utc } => {
                StoredTime::AllDay(date.num_days_from_ce(), utc.timestamp_millis())
            }
        }
    }
}

impl TryFrom<StoredTime> for EventTime {
    type Error = String;
    fn try_from(t: StoredTime) -> Result<EventTime, String> {
        let instant = |ms| {
            DateTime::from_timestamp_millis(ms).ok_or_else(|| format!("time {ms} out of range"))
        };
        Ok(match t {
            StoredTime::At(ms) => EventTime::At(instant(ms)?),
            StoredTime::AllDay(days, ms) => EventTime::AllDay {
                date: NaiveDate::from_num_days_from_ce_opt(days)
                    .ok_or_else(|| format!("day {days} out of range"))?,
                utc: instant(ms)?,
            },
        })
    }
}

impl EventTime {
    /// The instant this time stands for.
    pub fn instant(&self) -> DateTime<Utc> {
        match self {
            EventTime::At(t) => *t,
            EventTime::AllDay { utc, .. } => *utc,
        }
    }

    /// A wall-clock time in a named zone. Unknown zone names fall back to UTC rather than
    /// losing the event.
    pub fn from_parts(text: &str, zone_name: &str, all_day: bool) -> Option<EventTime> {
        let local = parse_wall_time(text)?;
        let zone = tz::resolve(zone_name).unwrap_or_else(|| {
            tracing::warn!(
                zone = zone_name,
                "unknown time zone, reading the time as UTC"
            );
            chrono_tz::Tz::UTC
        });
        let utc = tz::local_to_utc(local, zone);
        Some(if all_day {
            EventTime::AllDay {
                date: local.date(),
                utc,
            }
        } else {
            EventTime::At(utc)
        })
    }
}

/// Parses a wall-clock time with or without fractional seconds (Graph sends seven digits),
/// tolerating a trailing `Z` or offset, which some producers add.
pub fn parse_wall_time(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.naive_utc());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

/// A person as Graph names them: `emailAddress {name, address}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// The display name, if Graph sent one.
    pub name: Option<String>,
    /// The e-mail address, if Graph sent one.
    pub address: Option<String>,
}

impl Person {
    /// `Name <address>`, or whichever half is known.
    pub fn display(&self) -> String {
        match (&self.name, &self.address) {
            (Some(n), Some(a)) => format!("{n} <{a}>"),
            (Some(n), None) => n.clone(),
            (None, Some(a)) => a.clone(),
            (None, None) => String::new(),
        }
    }
}

/// Declares an identity: a string newtype that reads as `&str` where text is wanted (a table
/// key, a URL) but is never mixed up with another kind of string in a signature.
macro_rules! identity {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The identity of `text`.
            pub fn new(text: impl Into<String>) -> $name {
                $name(text.into())
            }

            /// The text, as Graph or the cache has it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> $name {
                $name(text.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> $name {
                $name(text)
            }
        }

        impl From<&String> for $name {
            fn from(text: &String) -> $name {
                $name(text.clone())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

identity! {
    /// A calendar view's key: the calendar's Graph id, or `default` for the account's default
    /// calendar ([`ViewKey::default_calendar`]). The cache keys everything by it.
    ViewKey
}

identity! {
    /// An event's Graph id (for an occurrence, its own; for a series, its master's).
    EventId
}

impl ViewKey {
    /// The key of the account's default calendar (`/me/calendarView`), whatever its Graph id.
    pub const DEFAULT: &str = "default";

    /// The key of the default calendar: [`ViewKey::DEFAULT`].
    pub fn default_calendar() -> ViewKey {
        ViewKey::new(ViewKey::DEFAULT)
    }

    /// Whether this is the account's default calendar.
    pub fn is_default_calendar(&self) -> bool {
        self.0 == ViewKey::DEFAULT
    }
}

/// Whose mailbox a calendar is in, as Graph addresses it (graph-delta.md section 9).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Owner {
    /// The signed-in user's own (`/me/…`).
    #[default]
    Me,
    /// Someone who shares or delegated a calendar (`/users/{address}/…`).
    User(String),
    /// A Microsoft 365 group (`/groups/{id}/…`): listed, since delta is refused there.
    Group(String),
}

impl Owner {
    /// The path segments under Graph's version segment that name the mailbox.
    pub fn segments(&self) -> Vec<&str> {
        match self {
            Owner::Me => vec!["me"],
            Owner::User(address) => vec!["users", address],
            Owner::Group(id) => vec!["groups", id],
        }
    }

    /// Whether the calendar is synced by listing rather than delta (a group's).
    pub fn is_listed(&self) -> bool {
        matches!(self, Owner::Group(_))
    }

    /// For people: `your calendar`, `alex@contoso.com's calendar`, `group 02bd…`.
    pub fn describe(&self) -> String {
        match self {
            Owner::Me => "your calendar".into(),
            Owner::User(address) => format!("{}'s calendar", crate::text::line(address)),
            Owner::Group(id) => format!("group {}", crate::text::line(id)),
        }
    }
}

/// One event of one calendar view: what a selection, a body read or (soon) a change names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventRef {
    /// The calendar view it is in.
    pub view: ViewKey,
    /// Its id in that view.
    pub id: EventId,
}

impl EventRef {
    /// The event `id` of `view`.
    pub fn new(view: impl Into<ViewKey>, id: impl Into<EventId>) -> EventRef {
        EventRef {
            view: view.into(),
            id: id.into(),
        }
    }
}

/// Declares one of Graph's code sets: a variant per code this version knows, and `Other` for any
/// it does not (kept as sent), read from and written back as Graph's text. Code compares
/// variants, never text.
macro_rules! graph_code {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A code this version does not know, as Graph sent it.
            Other(String),
        }

        impl $name {
            /// The code Graph sent.
            pub fn from_graph(text: &str) -> $name {
                match text {
                    $($text => $name::$variant,)+
                    other => $name::Other(other.to_owned()),
                }
            }

            /// Graph's text for it (what the JSON output and the exports write).
            pub fn as_graph(&self) -> &str {
                match self {
                    $($name::$variant => $text,)+
                    $name::Other(text) => text,
                }
            }
        }
    };
}

graph_code! {
    /// What an event is to its series (Graph's `type`).
    EventKind {
        /// An event on its own, not part of a series.
        SingleInstance = "singleInstance",
        /// An instance of a series with nothing of its own: it shows its series' properties.
        Occurrence = "occurrence",
        /// An instance changed on its own (moved, renamed, cancelled).
        Exception = "exception",
        /// The series itself: its properties and pattern, never shown.
        SeriesMaster = "seriesMaster",
    }
}

graph_code! {
    /// An answer to an invitation (Graph's `responseType`).
    Response {
        /// No answer is asked for.
        None = "none",
        /// The user organizes it.
        Organizer = "organizer",
        /// Accepted.
        Accepted = "accepted",
        /// Accepted tentatively.
        TentativelyAccepted = "tentativelyAccepted",
        /// Declined.
        Declined = "declined",
        /// Not answered yet.
        NotResponded = "notResponded",
    }
}

graph_code! {
    /// How the time shows to others (Graph's `freeBusyStatus`).
    ShowAs {
        /// Free.
        Free = "free",
        /// Tentatively busy.
        Tentative = "tentative",
        /// Busy.
        Busy = "busy",
        /// Out of office.
        Oof = "oof",
        /// Working elsewhere.
        WorkingElsewhere = "workingElsewhere",
        /// Unknown.
        Unknown = "unknown",
    }
}

graph_code! {
    /// How an attendee is invited (Graph's `attendeeType`).
    AttendeeKind {
        /// Required.
        Required = "required",
        /// Optional.
        Optional = "optional",
        /// A room or equipment.
        Resource = "resource",
    }
}

graph_code! {
    /// How a series repeats (Graph's `recurrencePatternType`).
    Pattern {
        /// Every `interval` days.
        Daily = "daily",
        /// On `days` every `interval` weeks.
        Weekly = "weekly",
        /// On `day_of_month` every `interval` months.
        AbsoluteMonthly = "absoluteMonthly",
        /// On the `index` week's `days` every `interval` months.
        RelativeMonthly = "relativeMonthly",
        /// On `day_of_month` of `month` every `interval` years.
        AbsoluteYearly = "absoluteYearly",
        /// On the `index` week's `days` of `month` every `interval` years.
        RelativeYearly = "relativeYearly",
    }
}

impl Response {
    /// The answer in words, as the detail pane says it.
    pub fn words(&self) -> &str {
        match self {
            Response::None => "no answer asked",
            Response::Organizer => "organizer",
            Response::Accepted => "accepted",
            Response::TentativelyAccepted => "tentative",
            Response::Declined => "declined",
            Response::NotResponded => "not answered",
            Response::Other(text) => text,
        }
    }
}

impl ShowAs {
    /// The status in words, as the detail pane says it.
    pub fn words(&self) -> &str {
        match self {
            ShowAs::Free => "free",
            ShowAs::Tentative => "tentative",
            ShowAs::Busy => "busy",
            ShowAs::Oof => "out of office",
            ShowAs::WorkingElsewhere => "working elsewhere",
            ShowAs::Unknown => "unknown",
            ShowAs::Other(text) => text,
        }
    }
}

/// A calendar of the account, as Graph's `/me/calendars` lists it. Text is as the server sent
/// it: sanitise before showing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarInfo {
    /// Graph's id of the calendar.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Graph's colour name (`auto`, `lightBlue`, ...).
    pub color: Option<String>,
    /// The colour as `#rrggbb`, when the user picked one (empty for `auto`).
    pub hex_color: Option<String>,
    /// Whose it is.
    pub owner: Option<Person>,
    /// Whether the user may change its events.
    pub can_edit: bool,
    /// Whether it is the account's default calendar.
    pub is_default: bool,
}

/// An attendee and their answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendee {
    /// Who.
    pub person: Person,
    /// Required, optional or a resource; none when Graph did not say.
    pub kind: Option<AttendeeKind>,
    /// Their answer as the organizer's copy knows it.
    pub response: Option<Response>,
}

/// One event of a calendar view, as cached.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Graph's id: unique within the calendar view.
    pub id: EventId,
    /// The subject; none on a stub (an occurrence before its series completes it).
    pub subject: Option<String>,
    /// The start of the body as plain text.
    pub body_preview: Option<String>,
    /// The full body as Graph sends it (HTML or text), shown as text in the detail pane. Not
    /// in the serialised record: the cache keeps bodies in a table of their own.
    #[serde(skip)]
    pub body: Option<Body>,
    /// When it starts.
    pub start: Option<EventTime>,
    /// When it ends (exclusive).
    pub end: Option<EventTime>,
    /// Whether it takes whole days.
    pub all_day: bool,
    /// Where, as one line.
    pub location: Option<String>,
    /// Who organizes it.
    pub organizer: Option<Person>,
    /// Who is invited, and their answers.
    pub attendees: Vec<Attendee>,
    /// How the time shows to others.
    pub show_as: Option<ShowAs>,
    /// Whether the organizer cancelled it.
    pub cancelled: bool,
    /// What it is to its series.
    pub kind: Option<EventKind>,
    /// An instance's series.
    pub series_master_id: Option<EventId>,
    /// The Teams (or other) meeting's join link.
    pub online_meeting_url: Option<String>,
    /// The event in Outlook on the web.
    pub web_link: Option<String>,
    /// The user's categories.
    pub categories: Vec<String>,
    /// Graph's `sensitivity` (`normal`, `private`, ...).
    pub sensitivity: Option<String>,
    /// Graph's `importance` (`low`, `normal`, `high`).
    pub importance: Option<String>,
    /// The user's own answer (Graph's `responseStatus`).
    pub response: Option<Response>,
    /// When the server last changed it, as it sent it.
    pub last_modified: Option<String>,
    /// Graph's `changeKey`: the version of the event.
    pub change_key: Option<String>,
    /// Graph's `@odata.etag`: the version, as an HTTP entity tag.
    pub etag: Option<String>,
    /// The iCalendar UID, the same for every instance of a series.
    pub ical_uid: Option<String>,
    /// Graph's `isReminderOn` and `reminderMinutesBeforeStart` (an occurrence has its series').
    pub reminder_on: Option<bool>,
    /// Whether the user organizes it (Graph's `isOrganizer`; an occurrence has its series').
    pub is_organizer: Option<bool>,
    /// How many minutes before the start it reminds.
    pub reminder_minutes: Option<u32>,
    /// A series master's pattern (Graph's `recurrence`); None on any other event.
    pub recurrence: Option<Box<Recurrence>>,
    /// An instance's slot in its series before it was moved (Graph's `originalStart`, sent
    /// with exceptions); an occurrence's is its start.
    pub original_start: Option<DateTime<Utc>>,
    /// The zone the event was made in (Graph's `originalStartTimeZone`, a Windows or IANA
    /// name); its times come in UTC whatever it is.
    pub zone: Option<String>,
}

/// How a series repeats, as Graph's `recurrence` says: a pattern and a range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recurrence {
    /// How it repeats.
    pub pattern: Pattern,
    /// Every `interval` days, weeks, months or years.
    pub interval: u32,
    /// The days of the week of a weekly or relative pattern.
    pub days: Vec<Weekday>,
    /// The day of the month of an absolute monthly or yearly pattern.
    pub day_of_month: u32,
    /// The month (1-12) of a yearly pattern.
    pub month: u32,
    /// Which of the month's `days` a relative pattern takes.
    pub index: WeekIndex,
    /// The first day of a week, for patterns that skip weeks.
    pub first_day_of_week: Weekday,
    /// The first day of the series, in its zone.
    pub start_date: Option<NaiveDate>,
    /// When it ends.
    pub end: RecurrenceEnd,
    /// The zone the pattern is kept in (Windows or IANA name, as Graph sends it).
    pub zone: Option<String>,
}

/// Graph's `weekIndex`: which of a month's matching days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WeekIndex {
    /// The first.
    First,
    /// The second.
    Second,
    /// The third.
    Third,
    /// The fourth.
    Fourth,
    /// The last.
    Last,
}

/// Where a series ends (Graph's `recurrenceRange.type`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecurrenceEnd {
    /// On this date, inclusive, in the series' zone.
    Date(NaiveDate),
    /// After this many occurrences.
    Count(u32),
    /// Never.
    Never,
}

/// An event's body: HTML (Graph's default) or plain text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Body {
    /// HTML; else plain text.
    pub html: bool,
    /// The body as Graph sent it.
    pub content: String,
}

impl Body {
    /// The body as readable text, still unsanitised: HTML through html2text, with links kept
    /// as numbered references listed at the end. Lines are left long for the pane to wrap;
    /// a body past [`BODY_TEXT_LIMIT`] bytes is cut there first (a pasted log, an inline image).
    pub fn text(&self) -> String {
        let mut end = self.content.len().min(BODY_TEXT_LIMIT);
        while !self.content.is_char_boundary(end) {
            end -= 1;
        }
        let content = &self.content[..end];
        if !self.html {
            return content.to_owned();
        }
        html2text::from_read(content.as_bytes(), BODY_TEXT_WIDTH)
            .unwrap_or_else(|_| content.to_owned())
    }
}

/// How much of a body the detail pane converts and shows.
pub const BODY_TEXT_LIMIT: usize = 256 * 1024;

/// The line width html2text lays out at: wide, so that the pane's own wrapping decides.
const BODY_TEXT_WIDTH: usize = 400;

impl Event {
    /// The instants the event covers, `[start, end)`. An event without a start has no span;
    /// a missing or inverted end collapses to the start.
    pub fn span(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let start = self.start.as_ref()?.instant();
        let end = self.end.as_ref().map(EventTime::instant).unwrap_or(start);
        Some((start, end.max(start)))
    }

    /// For all-day events, the dates covered `[first, last]`; None for timed events.
    pub fn all_day_dates(&self) -> Option<(NaiveDate, NaiveDate)> {
        let Some(EventTime::AllDay { date: first, .. }) = self.start else {
            return None;
        };
        let last = match self.end {
            Some(EventTime::AllDay { date, .. }) if date > first => date.pred_opt().unwrap_or(date),
            _ => first,
        };
        Some((first, last))
    }

    /// The subject to show: the event's own, or a placeholder when it has none. Not sanitised.
    pub fn title(&self) -> &str {
        self.subject.as_deref().unwrap_or(crate::text::NO_SUBJECT)
    }

    /// A series master (Graph's `seriesMaster`): the series' properties, never shown itself.
    pub fn is_series_master(&self) -> bool {
        self.kind == Some(EventKind::SeriesMaster)
    }

    /// The user declined it (their own answer, Graph's `responseStatus`): it stays in the
    /// calendar, dimmed and marked, but nothing reminds of it or counts it as next.
    pub fn declined(&self) -> bool {
        self.response == Some(Response::Declined)
    }

    /// Whether it waits for the user's answer: an invitation from someone else (Graph's
    /// `notResponded`, or `none`), not cancelled. What `invites` lists and the TUI's panel.
    pub fn awaits_answer(&self) -> bool {
        !self.cancelled
            && self.is_organizer != Some(true)
            && matches!(self.response, Some(Response::NotResponded | Response::None))
            && !self.is_stub()
    }

    /// Whether the user means to be there: the one rule that reminders, `next` and the detail
    /// pane ask. A cancelled event or one the user declined is not attended; one not answered
    /// yet, or accepted tentatively, is.
    pub fn attending(&self) -> bool {
        !self.cancelled && !self.declined()
    }

    /// Whether this is an instance changed on its own (moved, renamed, cancelled).
    pub fn is_exception(&self) -> bool {
        self.kind == Some(EventKind::Exception)
    }

    /// An occurrence as the real delta sends it: its series, its times, and nothing to show
    /// (a full event always has a subject, if an empty one).
    pub fn is_stub(&self) -> bool {
        self.series_master_id.is_some() && self.subject.is_none()
    }

    /// An occurrence: an instance of a series with no properties of its own (an exception has
    /// its own), so it shows its series' properties.
    pub fn is_occurrence(&self) -> bool {
        self.series_master_id.is_some() && self.kind == Some(EventKind::Occurrence)
    }

    /// A stub completed with its series' properties; its own id, times and version stay.
    pub fn with_series(&self, master: &Event) -> Event {
        self.clone().completed_by(master)
    }

    /// [`Event::with_series`], taking the stub: what is its own moves, only the series'
    /// properties are copied (every read of an occurrence does this).
    pub fn completed_by(self, master: &Event) -> Event {
        // A stub does not say it is all-day: its series does, and its times are those dates.
        let date = |t: EventTime| match (t, master.all_day) {
            (EventTime::At(at), true) => EventTime::AllDay {
                date: at.date_naive(),
                utc: at,
            },
            (t, _) => t,
        };
        // Every field named, so that a new one must be placed on one side or the other.
        Event {
            id: self.id,
            kind: self.kind,
            series_master_id: self.series_master_id,
            change_key: self.change_key,
            etag: self.etag,
            last_modified: self.last_modified,
            cancelled: master.cancelled || self.cancelled,
            start: self.start.map(date),
            end: self.end.map(date),
            subject: master.subject.clone(),
            body_preview: master.body_preview.clone(),
            body: master.body.clone(),
            all_day: master.all_day,
            location: master.location.clone(),
            organizer: master.organizer.clone(),
            attendees: master.attendees.clone(),
            show_as: master.show_as.clone(),
            online_meeting_url: master.online_meeting_url.clone(),
            web_link: master.web_link.clone(),
            categories: master.categories.clone(),
            sensitivity: master.sensitivity.clone(),
            importance: master.importance.clone(),
            response: master.response.clone(),
            ical_uid: master.ical_uid.clone(),
            reminder_on: master.reminder_on,
            is_organizer: master.is_organizer,
            reminder_minutes: master.reminder_minutes,
            // The pattern is the series'; an occurrence's slot is its own.
            recurrence: None,
            original_start: self.original_start,
            zone: master.zone.clone(),
        }
    }

    /// The version marker to compare with the server: changeKey, else the etag.
    pub fn version(&self) -> Option<&str> {
        self.change_key.as_deref().or(self.etag.as_deref())
    }
}

/// The window of a calendar view, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// The first instant.
    pub start: DateTime<Utc>,
    /// The instant after the last.
    pub end: DateTime<Utc>,
}

/// An event with the calendar view it belongs to, as the cache hands it out.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedEvent {
    /// The calendar view it is cached for.
    pub view: ViewKey,
    /// The event, completed with its series.
    pub event: Event,
}

impl CachedEvent {
    /// Which event this is: its view and id.
    pub fn event_ref(&self) -> EventRef {
        EventRef::new(self.view.clone(), self.event.id.clone())
    }

    /// Whether this is the event `r` names.
    pub fn is(&self, r: &EventRef) -> bool {
        self.view == r.view && self.event.id == r.id
    }
}

/// One change carried by a delta page.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Added or updated: the full event.
    Upsert {
        /// The event as the server has it now.
        event: Box<Event>,
    },
    /// `@removed`: no longer in this view.
    Remove {
        /// The event that went.
        id: EventId,
    },
}

impl Change {
    /// The id of the event it changes.
    pub fn id(&self) -> &str {
        match self {
            Change::Upsert { event, .. } => &event.id,
            Change::Remove { id } => id,
        }
    }
}
