//! The domain model: events as deltacal understands them, and the changes a delta page carries.
//!
//! Parsing is deliberately lenient: Graph may omit or null any field, add new ones, or send a
//! value of an unexpected type. Only a missing `id` makes an item unusable.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc, Weekday};
use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::tz;

/// The start or end of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "StoredTime", try_from = "StoredTime")]
pub enum EventTime {
    /// A timed event's instant.
    At(DateTime<Utc>),
    /// An all-day event's date (local to the zone the server sent), with the instant of that
    /// local midnight as the server sent it.
    AllDay { date: NaiveDate, utc: DateTime<Utc> },
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

    /// Parses Graph's `{"dateTime": "2016-12-09T20:30:00.0000000", "timeZone": "UTC"}`.
    pub fn from_graph(value: &Value, all_day: bool) -> Option<EventTime> {
        let text = value.get("dateTime")?.as_str()?;
        let zone = value
            .get("timeZone")
            .and_then(Value::as_str)
            .unwrap_or("UTC");
        EventTime::from_parts(text, zone, all_day)
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
    pub name: Option<String>,
    pub address: Option<String>,
}

impl Person {
    fn from_wire(w: &WirePerson<'_>) -> Option<Person> {
        Person::from_email(w.email_address.as_ref()?)
    }

    fn from_email(email: &WireEmail<'_>) -> Option<Person> {
        let person = Person {
            name: email.name.as_deref().map(str::to_owned),
            address: email.address.as_deref().map(str::to_owned),
        };
        (person.name.is_some() || person.address.is_some()).then_some(person)
    }

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
            pub fn new(text: impl Into<String>) -> $name {
                $name(text.into())
            }

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

    pub fn default_calendar() -> ViewKey {
        ViewKey::new(ViewKey::DEFAULT)
    }

    /// Whether this is the account's default calendar.
    pub fn is_default_calendar(&self) -> bool {
        self.0 == ViewKey::DEFAULT
    }
}

/// One event of one calendar view: what a selection, a body read or (soon) a change names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventRef {
    pub view: ViewKey,
    pub id: EventId,
}

impl EventRef {
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
        Organizer = "organizer",
        Accepted = "accepted",
        TentativelyAccepted = "tentativelyAccepted",
        Declined = "declined",
        NotResponded = "notResponded",
    }
}

graph_code! {
    /// How the time shows to others (Graph's `freeBusyStatus`).
    ShowAs {
        Free = "free",
        Tentative = "tentative",
        Busy = "busy",
        /// Out of office.
        Oof = "oof",
        WorkingElsewhere = "workingElsewhere",
        Unknown = "unknown",
    }
}

graph_code! {
    /// How an attendee is invited (Graph's `attendeeType`).
    AttendeeKind {
        Required = "required",
        Optional = "optional",
        /// A room or equipment.
        Resource = "resource",
    }
}

graph_code! {
    /// How a series repeats (Graph's `recurrencePatternType`).
    Pattern {
        Daily = "daily",
        Weekly = "weekly",
        AbsoluteMonthly = "absoluteMonthly",
        RelativeMonthly = "relativeMonthly",
        AbsoluteYearly = "absoluteYearly",
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
    pub id: String,
    pub name: String,
    /// Graph's colour name (`auto`, `lightBlue`, ...).
    pub color: Option<String>,
    /// The colour as `#rrggbb`, when the user picked one (empty for `auto`).
    pub hex_color: Option<String>,
    pub owner: Option<Person>,
    pub can_edit: bool,
    pub is_default: bool,
}

/// An attendee and their answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendee {
    pub person: Person,
    pub kind: Option<AttendeeKind>,
    pub response: Option<Response>,
}

/// One event of a calendar view, as cached.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    pub subject: Option<String>,
    pub body_preview: Option<String>,
    /// The full body as Graph sends it (HTML or text), shown as text in the detail pane. Not
    /// in the serialised record: the cache keeps bodies in a table of their own.
    #[serde(skip)]
    pub body: Option<Body>,
    pub start: Option<EventTime>,
    pub end: Option<EventTime>,
    pub all_day: bool,
    pub location: Option<String>,
    pub organizer: Option<Person>,
    pub attendees: Vec<Attendee>,
    pub show_as: Option<ShowAs>,
    pub cancelled: bool,
    pub kind: Option<EventKind>,
    pub series_master_id: Option<EventId>,
    pub online_meeting_url: Option<String>,
    pub web_link: Option<String>,
    pub categories: Vec<String>,
    pub sensitivity: Option<String>,
    pub importance: Option<String>,
    /// The user's own answer (Graph's `responseStatus`).
    pub response: Option<Response>,
    pub last_modified: Option<String>,
    pub change_key: Option<String>,
    pub etag: Option<String>,
    pub ical_uid: Option<String>,
    /// Graph's `isReminderOn` and `reminderMinutesBeforeStart` (an occurrence has its series').
    pub reminder_on: Option<bool>,
    pub reminder_minutes: Option<u32>,
    /// A series master's pattern (Graph's `recurrence`); None on any other event.
    pub recurrence: Option<Box<Recurrence>>,
    /// An instance's slot in its series before it was moved (Graph's `originalStart`, sent
    /// with exceptions); an occurrence's is its start.
    pub original_start: Option<DateTime<Utc>>,
}

/// How a series repeats, as Graph's `recurrence` says: a pattern and a range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recurrence {
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
    pub first_day_of_week: Weekday,
    /// The first day of the series, in its zone.
    pub start_date: Option<NaiveDate>,
    pub end: RecurrenceEnd,
    /// The zone the pattern is kept in (Windows or IANA name, as Graph sends it).
    pub zone: Option<String>,
}

/// Graph's `weekIndex`: which of a month's matching days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WeekIndex {
    First,
    Second,
    Third,
    Fourth,
    Last,
}

/// Where a series ends (Graph's `recurrenceRange.type`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecurrenceEnd {
    /// On this date, inclusive, in the series' zone.
    Date(NaiveDate),
    /// After this many occurrences.
    Count(u32),
    Never,
}

impl Recurrence {
    fn from_wire(w: &WireRecurrence<'_>) -> Option<Recurrence> {
        let p = &w.pattern;
        let r = &w.range;
        let pattern = Pattern::from_graph(p.kind.as_deref()?);
        let date = |d: &Option<Cow<'_, str>>| {
            d.as_deref()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        };
        let end = match r.kind.as_deref() {
            Some("endDate") => RecurrenceEnd::Date(date(&r.end_date)?),
            Some("numbered") => RecurrenceEnd::Count(
                r.number_of_occurrences
                    .and_then(|n| u32::try_from(n).ok())
                    .filter(|n| *n > 0)?,
            ),
            _ => RecurrenceEnd::Never,
        };
        Some(Recurrence {
            pattern,
            interval: p
                .interval
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| *n > 0)
                .unwrap_or(1),
            days: p
                .days_of_week
                .iter()
                .flatten()
                .filter_map(|d| d.parse().ok())
                .collect(),
            day_of_month: p
                .day_of_month
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0),
            month: p.month.and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
            index: match p.index.as_deref() {
                Some("second") => WeekIndex::Second,
                Some("third") => WeekIndex::Third,
                Some("fourth") => WeekIndex::Fourth,
                Some("last") => WeekIndex::Last,
                _ => WeekIndex::First,
            },
            first_day_of_week: p
                .first_day_of_week
                .as_deref()
                .and_then(|d| d.parse().ok())
                .unwrap_or(Weekday::Sun),
            start_date: date(&r.start_date),
            end,
            zone: owned(&r.recurrence_time_zone).filter(|z| !z.is_empty()),
        })
    }
}

/// An event's body: HTML (Graph's default) or plain text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Body {
    pub html: bool,
    pub content: String,
}

impl Body {
    fn from_wire(w: &WireBody<'_>) -> Option<Body> {
        let content = w.content.as_deref().filter(|c| !c.trim().is_empty())?;
        Some(Body {
            html: !w
                .content_type
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("text")),
            content: content.to_owned(),
        })
    }

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

/// Why a delta item could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("delta item is not a JSON object")]
    NotAnObject,
    #[error("delta item has no `id`")]
    MissingId,
}

/// Graph's event JSON, borrowed from the page text; unknown fields are skipped unread.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WireEvent<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(rename = "@removed")]
    removed: Option<serde::de::IgnoredAny>,
    #[serde(borrow)]
    subject: Option<Cow<'a, str>>,
    #[serde(borrow)]
    body_preview: Option<Cow<'a, str>>,
    #[serde(borrow)]
    body: Option<WireBody<'a>>,
    #[serde(borrow)]
    start: Option<WireTime<'a>>,
    #[serde(borrow)]
    end: Option<WireTime<'a>>,
    is_all_day: Option<bool>,
    #[serde(borrow)]
    location: Option<WireLocation<'a>>,
    #[serde(borrow)]
    locations: Option<Vec<WireLocation<'a>>>,
    #[serde(borrow)]
    organizer: Option<WirePerson<'a>>,
    #[serde(borrow)]
    attendees: Option<Vec<WireAttendee<'a>>>,
    #[serde(borrow)]
    show_as: Option<Cow<'a, str>>,
    is_cancelled: Option<bool>,
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    series_master_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    online_meeting: Option<WireOnlineMeeting<'a>>,
    #[serde(borrow)]
    online_meeting_url: Option<Cow<'a, str>>,
    #[serde(borrow)]
    web_link: Option<Cow<'a, str>>,
    #[serde(borrow)]
    categories: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow)]
    sensitivity: Option<Cow<'a, str>>,
    #[serde(borrow)]
    importance: Option<Cow<'a, str>>,
    #[serde(borrow)]
    response_status: Option<WireStatus<'a>>,
    #[serde(borrow)]
    last_modified_date_time: Option<Cow<'a, str>>,
    #[serde(borrow)]
    change_key: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "@odata.etag")]
    etag: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "iCalUId")]
    ical_uid: Option<Cow<'a, str>>,
    is_reminder_on: Option<bool>,
    reminder_minutes_before_start: Option<i64>,
    #[serde(borrow)]
    recurrence: Option<WireRecurrence<'a>>,
    #[serde(borrow)]
    original_start: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireRecurrence<'a> {
    #[serde(borrow)]
    pattern: WirePattern<'a>,
    #[serde(borrow)]
    range: WireRange<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WirePattern<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
    interval: Option<i64>,
    #[serde(borrow)]
    days_of_week: Option<Vec<Cow<'a, str>>>,
    day_of_month: Option<i64>,
    month: Option<i64>,
    #[serde(borrow)]
    index: Option<Cow<'a, str>>,
    #[serde(borrow)]
    first_day_of_week: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WireRange<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    start_date: Option<Cow<'a, str>>,
    #[serde(borrow)]
    end_date: Option<Cow<'a, str>>,
    number_of_occurrences: Option<i64>,
    #[serde(borrow)]
    recurrence_time_zone: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WireBody<'a> {
    #[serde(borrow)]
    content_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    content: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WireTime<'a> {
    #[serde(borrow)]
    date_time: Option<Cow<'a, str>>,
    #[serde(borrow)]
    time_zone: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WireLocation<'a> {
    #[serde(borrow)]
    display_name: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WirePerson<'a> {
    #[serde(borrow)]
    email_address: Option<WireEmail<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireEmail<'a> {
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    address: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WireAttendee<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    status: Option<WireStatus<'a>>,
    #[serde(borrow)]
    email_address: Option<WireEmail<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireStatus<'a> {
    #[serde(borrow)]
    response: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct WireOnlineMeeting<'a> {
    #[serde(borrow)]
    join_url: Option<Cow<'a, str>>,
}

/// The slow, forgiving path for an item whose typed reading failed: keep every top-level field
/// that reads on its own, drop the ones of an unexpected type, and read what is left.
fn forgiving<R>(
    value: &Value,
    read: impl FnOnce(&WireEvent<'_>) -> Result<R, ParseError>,
) -> Result<R, ParseError> {
    let Value::Object(map) = value else {
        return Err(ParseError::NotAnObject);
    };
    let mut clean = serde_json::Map::new();
    for (key, field) in map {
        let probe = Value::Object(std::iter::once((key.clone(), field.clone())).collect());
        if WireEvent::deserialize(&probe).is_ok() {
            clean.insert(key.clone(), field.clone());
        }
    }
    let clean = Value::Object(clean);
    let wire = WireEvent::deserialize(&clean).map_err(|_| ParseError::NotAnObject)?;
    read(&wire)
}

fn owned(s: &Option<Cow<'_, str>>) -> Option<String> {
    s.as_deref().map(str::to_owned)
}

fn wire_time(t: &Option<WireTime<'_>>, all_day: bool) -> Option<EventTime> {
    let t = t.as_ref()?;
    let text = t.date_time.as_deref()?;
    EventTime::from_parts(text, t.time_zone.as_deref().unwrap_or("UTC"), all_day)
}

impl Event {
    /// Builds an event from Graph JSON. Only a missing `id` is an error.
    pub fn from_graph(value: &Value) -> Result<Event, ParseError> {
        match WireEvent::deserialize(value) {
            Ok(wire) => Event::from_wire(&wire),
            Err(_) => forgiving(value, Event::from_wire),
        }
    }

    fn from_wire(w: &WireEvent<'_>) -> Result<Event, ParseError> {
        let id = owned(&w.id)
            .filter(|id| !id.is_empty())
            .ok_or(ParseError::MissingId)?;
        let all_day = w.is_all_day.unwrap_or(false);
        let location = w
            .location
            .as_ref()
            .and_then(|l| owned(&l.display_name))
            .filter(|s| !s.is_empty())
            .or_else(|| {
                w.locations
                    .as_ref()?
                    .iter()
                    .find_map(|l| owned(&l.display_name).filter(|s| !s.is_empty()))
            });
        let attendees = w
            .attendees
            .iter()
            .flatten()
            .filter_map(|a| {
                Some(Attendee {
                    person: Person::from_email(a.email_address.as_ref()?)?,
                    kind: a.kind.as_deref().map(AttendeeKind::from_graph),
                    response: a
                        .status
                        .as_ref()
                        .and_then(|s| s.response.as_deref())
                        .map(Response::from_graph),
                })
            })
            .collect();
        let online_meeting_url = w
            .online_meeting
            .as_ref()
            .and_then(|m| owned(&m.join_url))
            .or_else(|| owned(&w.online_meeting_url))
            .filter(|s| !s.is_empty());
        Ok(Event {
            id: EventId::from(id),
            subject: owned(&w.subject),
            body_preview: owned(&w.body_preview),
            body: w.body.as_ref().and_then(Body::from_wire),
            start: wire_time(&w.start, all_day),
            end: wire_time(&w.end, all_day),
            all_day,
            location,
            organizer: w.organizer.as_ref().and_then(Person::from_wire),
            attendees,
            show_as: w.show_as.as_deref().map(ShowAs::from_graph),
            cancelled: w.is_cancelled.unwrap_or(false),
            kind: w.kind.as_deref().map(EventKind::from_graph),
            series_master_id: owned(&w.series_master_id).map(EventId::from),
            online_meeting_url,
            web_link: owned(&w.web_link),
            categories: w
                .categories
                .iter()
                .flatten()
                .map(|c| c.to_string())
                .collect(),
            sensitivity: owned(&w.sensitivity),
            importance: owned(&w.importance),
            response: w
                .response_status
                .as_ref()
                .and_then(|r| r.response.as_deref())
                .map(Response::from_graph),
            last_modified: owned(&w.last_modified_date_time),
            change_key: owned(&w.change_key),
            etag: owned(&w.etag),
            ical_uid: owned(&w.ical_uid),
            reminder_on: w.is_reminder_on,
            // A negative or absurd lead (over four weeks) is none at all.
            reminder_minutes: w
                .reminder_minutes_before_start
                .and_then(|m| u32::try_from(m).ok())
                .filter(|m| *m <= 4 * 7 * 24 * 60),
            recurrence: w
                .recurrence
                .as_ref()
                .and_then(Recurrence::from_wire)
                .map(Box::new),
            original_start: w
                .original_start
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc)),
        })
    }

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
            reminder_minutes: master.reminder_minutes,
            // The pattern is the series'; an occurrence's slot is its own.
            recurrence: None,
            original_start: self.original_start,
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
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// An event with the calendar view it belongs to, as the cache hands it out.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedEvent {
    pub view: ViewKey,
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
    Upsert { event: Box<Event> },
    /// `@removed`: no longer in this view.
    Remove { id: EventId },
}

impl Change {
    pub fn id(&self) -> &str {
        match self {
            Change::Upsert { event, .. } => &event.id,
            Change::Remove { id } => id,
        }
    }

    /// Reads one item of a delta page's `value` array, given its raw JSON text: a typed reading
    /// straight from the text, or the forgiving one when a field has an unexpected type.
    pub fn from_raw(raw: &str) -> Result<Change, ParseError> {
        let change = |wire: &WireEvent<'_>| {
            if wire.removed.is_some() {
                let id = owned(&wire.id)
                    .filter(|id| !id.is_empty())
                    .ok_or(ParseError::MissingId)?;
                return Ok(Change::Remove { id: id.into() });
            }
            Ok(Change::Upsert {
                event: Box::new(Event::from_wire(wire)?),
            })
        };
        match serde_json::from_str::<WireEvent<'_>>(raw) {
            Ok(wire) => change(&wire),
            Err(_) => {
                let value: Value =
                    serde_json::from_str(raw).map_err(|_| ParseError::NotAnObject)?;
                forgiving(&value, change)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_keep_their_kind_and_html_reads_as_text() {
        let html = Event::from_graph(
            &serde_json::json!({"id": "1", "body": {"contentType": "html",
            "content": "<p>Hello <a href=\"https://example.com/x\">there</a></p>"}}),
        )
        .unwrap();
        let body = html.body.as_ref().unwrap();
        assert!(body.html);
        let text = body.text();
        assert!(
            text.contains("Hello") && text.contains("https://example.com/x"),
            "{text}"
        );
        assert!(!text.contains("<p>"));
        let plain = Event::from_graph(
            &serde_json::json!({"id": "2", "body": {"contentType": "text",
            "content": "line one\n<not a tag>"}}),
        )
        .unwrap();
        assert_eq!(plain.body.unwrap().text(), "line one\n<not a tag>");
        let empty = Event::from_graph(
            &serde_json::json!({"id": "3", "body": {"contentType": "html",
            "content": "  "}}),
        )
        .unwrap();
        assert_eq!(empty.body, None);
        // A huge body is cut at the limit, on a character boundary.
        let long = Body {
            html: false,
            content: "é".repeat(BODY_TEXT_LIMIT),
        };
        assert!(long.text().len() <= BODY_TEXT_LIMIT);
    }
    use serde_json::json;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn parses_seven_digit_fractions_in_utc() {
        let t = EventTime::from_graph(
            &json!({"dateTime": "2016-12-09T20:30:00.0000000", "timeZone": "UTC"}),
            false,
        );
        assert_eq!(t, Some(EventTime::At(at("2016-12-09T20:30:00Z"))));
        let t = EventTime::from_graph(
            &json!({"dateTime": "2016-12-09T20:30:00.1234567", "timeZone": "UTC"}),
            false,
        )
        .unwrap();
        assert_eq!(t.instant().timestamp_subsec_nanos(), 123_456_700);
    }

    #[test]
    fn parses_windows_and_iana_zones() {
        let windows = EventTime::from_graph(
            &json!({"dateTime": "2026-07-01T09:00:00.0000000", "timeZone": "Pacific Standard Time"}),
            false,
        );
        assert_eq!(windows, Some(EventTime::At(at("2026-07-01T16:00:00Z"))));
        let iana = EventTime::from_graph(
            &json!({"dateTime": "2026-01-15T09:00:00", "timeZone": "Europe/Berlin"}),
            false,
        );
        assert_eq!(iana, Some(EventTime::At(at("2026-01-15T08:00:00Z"))));
        let unknown = EventTime::from_graph(
            &json!({"dateTime": "2026-01-15T09:00:00", "timeZone": "Mars/Olympus"}),
            false,
        );
        assert_eq!(unknown, Some(EventTime::At(at("2026-01-15T09:00:00Z"))));
    }

    #[test]
    fn all_day_events_keep_their_dates() {
        let e = Event::from_graph(&json!({
            "id": "x", "isAllDay": true,
            "start": {"dateTime": "2026-12-24T00:00:00.0000000", "timeZone": "Tokyo Standard Time"},
            "end": {"dateTime": "2026-12-27T00:00:00.0000000", "timeZone": "Tokyo Standard Time"}
        }))
        .unwrap();
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(e.all_day_dates(), Some((d("2026-12-24"), d("2026-12-26"))));
        assert_eq!(e.span().unwrap().0, at("2026-12-23T15:00:00Z"));
    }

    #[test]
    fn tolerates_missing_null_and_mistyped_fields() {
        let e = Event::from_graph(&json!({
            "id": "x", "subject": null, "start": 5, "attendees": "nope",
            "organizer": {"emailAddress": null}, "isCancelled": "yes", "brandNew": {"a": 1}
        }))
        .unwrap();
        assert_eq!(e.subject, None);
        assert_eq!(e.start, None);
        assert!(e.attendees.is_empty());
        assert!(!e.cancelled);
        assert_eq!(e.span(), None);
    }

    #[test]
    fn rejects_only_a_missing_id() {
        assert_eq!(
            Event::from_graph(&json!({"subject": "s"})),
            Err(ParseError::MissingId)
        );
        assert_eq!(Change::from_raw("[1]"), Err(ParseError::NotAnObject));
        assert_eq!(Change::from_raw("{"), Err(ParseError::NotAnObject));
        let removed = Change::from_raw(r#"{"id": "a", "@removed": {"reason": "changed"}}"#);
        assert_eq!(removed, Ok(Change::Remove { id: "a".into() }));
    }

    #[test]
    fn graph_codes_are_variants_and_unknown_ones_are_kept_as_sent() {
        let e = Event::from_graph(
            &json!({"id": "x", "type": "occurrence", "seriesMasterId": "m",
            "showAs": "somethingNew", "responseStatus": {"response": "declined"},
            "attendees": [{"type": "resource", "status": {"response": "organizer"},
                           "emailAddress": {"address": "room@contoso.com"}}]}),
        )
        .unwrap();
        assert_eq!(e.kind, Some(EventKind::Occurrence));
        assert!(e.is_occurrence() && !e.is_exception());
        assert_eq!(e.response, Some(Response::Declined));
        assert!(e.declined() && !e.attending());
        assert_eq!(e.show_as, Some(ShowAs::Other("somethingNew".into())));
        assert_eq!(
            e.show_as.as_ref().map(ShowAs::as_graph),
            Some("somethingNew")
        );
        assert_eq!(e.attendees[0].kind, Some(AttendeeKind::Resource));
        assert_eq!(e.attendees[0].response, Some(Response::Organizer));
        for code in [
            "none",
            "organizer",
            "accepted",
            "tentativelyAccepted",
            "declined",
            "notResponded",
        ] {
            assert_eq!(Response::from_graph(code).as_graph(), code);
        }
        assert_eq!(ShowAs::WorkingElsewhere.words(), "working elsewhere");
        assert_eq!(Response::NotResponded.words(), "not answered");
        let cancelled = Event {
            cancelled: true,
            ..Event::default()
        };
        assert!(!cancelled.attending());
        assert!(Event::default().attending(), "not answered yet is attended");
    }
}
