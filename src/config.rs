//! Configuration: the TOML file, then environment and flags, into one checked `Config`.
//!
//! The file's sections are read as they are written, and each is checked by its own code into
//! the part of [`Config`] it fills, as ripgrep builds its arguments: [`AccountConfig`],
//! [`GraphConfig`], [`SyncConfig`], [`DisplayConfig`], [`UiConfig`], [`RemindersConfig`] and
//! the calendars. The pure layers below the commands take only the part they read (the display
//! settings, mostly).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use reqwest::Url;
use serde::Deserialize;

use crate::model::{ViewKey, Window};
use crate::paths;
use crate::tz::DisplayZone;

mod color;
mod file;
mod window;

pub use color::CalendarColor;
pub use window::{MAX_VIEW_DAYS, ROLL_DAYS, WindowSpec};

/// Microsoft's "Microsoft Graph Command Line Tools" public client: allowed for the device flow
/// with delegated scopes in most tenants, so deltacal works without registering an app.
pub const DEFAULT_CLIENT_ID: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

/// A configuration problem: names the file, the key and what kind of problem it is. Exit
/// code 2.
#[derive(Debug, thiserror::Error)]
#[error(
    "config {}: {}: {}",
    crate::text::bounded(.file, 200),
    crate::text::bounded(.key, 100),
    crate::text::bounded(.message, 300)
)]
pub struct ConfigError {
    /// The file, or `(defaults)` when there is none.
    pub file: String,
    /// The key (`sync.past_days`, `calendars[2].id`), `line N` for a syntax error, or `(file)`
    /// for the file as a whole.
    pub key: String,
    /// What kind of problem it is.
    pub kind: ConfigErrorKind,
    /// What is wrong, for people.
    pub message: String,
}

/// What kind of problem a [`ConfigError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigErrorKind {
    /// The file cannot be read, or is not one deltacal trusts.
    File,
    /// The text is not TOML.
    Syntax,
    /// A section or key deltacal does not know (a typo, most often).
    UnknownKey,
    /// A value of the wrong type: a word where a number goes.
    WrongType,
    /// A value of the right type that is not allowed.
    Invalid,
}

/// Names the file in the errors a section's check makes.
struct Checker<'a> {
    file: &'a str,
}

impl Checker<'_> {
    fn error(&self, key: &str, kind: ConfigErrorKind, message: String) -> ConfigError {
        ConfigError {
            file: self.file.to_owned(),
            key: key.to_owned(),
            kind,
            message,
        }
    }

    /// A value that is not allowed.
    fn invalid(&self, key: &str, message: impl Into<String>) -> ConfigError {
        self.error(key, ConfigErrorKind::Invalid, message.into())
    }

    /// A URL deltacal may send to: https, or plain http to loopback; no credentials in it.
    fn url(&self, key: &str, value: &str) -> Result<Url, ConfigError> {
        let url = Url::parse(value.trim_end_matches('/'))
            .map_err(|e| self.invalid(key, format!("`{value}` is not a URL: {e}")))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(self.invalid(
                key,
                "must not hold a user name or password (user:password@host)",
            ));
        }
        if !url_allowed(&url) {
            return Err(self.invalid(
                key,
                format!("`{value}` must be https (plain http only for loopback hosts)"),
            ));
        }
        Ok(url)
    }
}

/// The file as written: each section checked into its part by its own `check`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FileConfig {
    account: AccountSection,
    accounts: std::collections::BTreeMap<String, AccountSection>,
    graph: GraphSection,
    sync: SyncSection,
    calendars: Vec<CalendarSection>,
    ui: UiSection,
    reminders: RemindersSection,
    writes: WritesSection,
}

/// `[writes]`: how changes are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WritesConfig {
    /// Seconds a change made in the TUI waits before it is sent, so it can be taken back.
    pub undo_secs: u64,
    /// The length of an event whose duration is not given.
    pub default_minutes: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct WritesSection {
    undo_secs: u64,
    default_minutes: u32,
}

impl Default for WritesSection {
    fn default() -> Self {
        WritesSection {
            undo_secs: 5,
            default_minutes: 30,
        }
    }
}

impl WritesSection {
    fn check(self, c: &Checker) -> Result<WritesConfig, ConfigError> {
        if self.undo_secs > 300 {
            return Err(c.invalid("writes.undo_secs", "must be at most 300"));
        }
        if !(1..=24 * 60 * 14).contains(&self.default_minutes) {
            return Err(c.invalid(
                "writes.default_minutes",
                "must be between 1 and 20160 (two weeks)",
            ));
        }
        Ok(WritesConfig {
            undo_secs: self.undo_secs,
            default_minutes: self.default_minutes,
        })
    }
}

/// `[account]`: who signs in, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountConfig {
    /// The app registration deltacal signs in as.
    pub client_id: String,
    /// `common`, `organizations`, `consumers`, or a tenant's name or id.
    pub tenant: String,
    /// The identity platform's origin; tokens go nowhere else.
    pub authority: Url,
    /// Sign in to read only (`Calendars.Read`): every write is refused before it is queued.
    pub read_only: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct AccountSection {
    client_id: String,
    tenant: String,
    authority: String,
    read_only: bool,
}

impl Default for AccountSection {
    fn default() -> Self {
        AccountSection {
            client_id: DEFAULT_CLIENT_ID.into(),
            tenant: "common".into(),
            authority: "https://login.microsoftonline.com".into(),
            read_only: false,
        }
    }
}

impl AccountSection {
    /// Checks `[account]`, or `[accounts.NAME]` with `section` naming it in errors.
    fn check(self, c: &Checker, section: &str) -> Result<AccountConfig, ConfigError> {
        let authority = c.url(&format!("{section}.authority"), &self.authority)?;
        if self.client_id.trim().is_empty() {
            return Err(c.invalid(&format!("{section}.client_id"), "must not be empty"));
        }
        let tenant = self.tenant.trim();
        if tenant.is_empty() || tenant.contains(['/', '?', '#']) {
            return Err(c.invalid(
                &format!("{section}.tenant"),
                format!("`{tenant}` is not a tenant name or id"),
            ));
        }
        Ok(AccountConfig {
            client_id: self.client_id.trim().to_owned(),
            tenant: tenant.to_owned(),
            authority,
            read_only: self.read_only,
        })
    }
}

/// `[graph]`: where Graph is and how the client asks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphConfig {
    /// Graph's origin and version; links from elsewhere are refused.
    pub base_url: Url,
    /// The page size asked of Graph (a hint).
    pub page_size: u32,
    /// Tries per request before a round gives up (transient failures only).
    pub max_attempts: u32,
    /// The first backoff delay; it doubles per try, up to 60 s.
    pub retry_base_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct GraphSection {
    base_url: String,
    page_size: u32,
    max_attempts: u32,
    retry_base_ms: u64,
}

impl Default for GraphSection {
    fn default() -> Self {
        GraphSection {
            base_url: "https://graph.microsoft.com/v1.0".into(),
            page_size: DEFAULT_PAGE_SIZE,
            max_attempts: 6,
            retry_base_ms: 1000,
        }
    }
}

impl GraphSection {
    fn check(self, c: &Checker) -> Result<GraphConfig, ConfigError> {
        let base_url = c.url("graph.base_url", &self.base_url)?;
        if !(1..=20).contains(&self.max_attempts) {
            return Err(c.invalid("graph.max_attempts", "must be between 1 and 20"));
        }
        if self.retry_base_ms > 60_000 {
            return Err(c.invalid("graph.retry_base_ms", "must be at most 60000"));
        }
        if !(1..=1000).contains(&self.page_size) {
            return Err(c.invalid("graph.page_size", "must be between 1 and 1000"));
        }
        Ok(GraphConfig {
            base_url,
            page_size: self.page_size,
            max_attempts: self.max_attempts,
            retry_base_ms: self.retry_base_ms,
        })
    }
}

/// `[sync]`: what is synced, and how often.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncConfig {
    /// The window every calendar view is synced over.
    pub window: WindowSpec,
    /// Seconds between background rounds.
    pub interval_secs: u64,
    /// Seconds between listings of a group's calendar (delta is refused there).
    pub group_interval_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct SyncSection {
    past_days: u32,
    future_days: u32,
    start: Option<String>,
    end: Option<String>,
    interval_secs: u64,
    group_interval_secs: u64,
}

impl Default for SyncSection {
    fn default() -> Self {
        SyncSection {
            past_days: 30,
            future_days: 365,
            start: None,
            end: None,
            interval_secs: 300,
            group_interval_secs: 900,
        }
    }
}

impl SyncSection {
    fn check(self, c: &Checker) -> Result<SyncConfig, ConfigError> {
        let instant = |key: &str, value: &str| -> Result<DateTime<Utc>, ConfigError> {
            DateTime::parse_from_rfc3339(value)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| c.invalid(key, format!("`{value}` is not an RFC 3339 time: {e}")))
        };
        let window = match (&self.start, &self.end) {
            (None, None) => WindowSpec::Rolling {
                past_days: self.past_days,
                future_days: self.future_days,
            },
            (Some(s), Some(e)) => {
                let (start, end) = (instant("sync.start", s)?, instant("sync.end", e)?);
                if start >= end {
                    return Err(c.invalid("sync.end", "must be after sync.start"));
                }
                WindowSpec::Fixed(Window { start, end })
            }
            (Some(_), None) => return Err(c.invalid("sync.end", "sync.start needs sync.end")),
            (None, Some(_)) => return Err(c.invalid("sync.start", "sync.end needs sync.start")),
        };
        // Graph lists a calendar view of at most 1825 days, and the rolling window reaches
        // ROLL_DAYS further than it is asked to (it is anchored, see WindowSpec::on).
        match &window {
            WindowSpec::Rolling {
                past_days,
                future_days,
            } if i64::from(*past_days) + i64::from(*future_days) + ROLL_DAYS > MAX_VIEW_DAYS => {
                return Err(c.invalid(
                    "sync.future_days",
                    format!(
                        "past_days + future_days is {}: Graph lists at most {MAX_VIEW_DAYS} days, \
                         {ROLL_DAYS} of them kept for the rolling window, so at most {}",
                        u64::from(*past_days) + u64::from(*future_days),
                        MAX_VIEW_DAYS - ROLL_DAYS
                    ),
                ));
            }
            WindowSpec::Fixed(w) if w.end - w.start > Duration::days(MAX_VIEW_DAYS) => {
                return Err(c.invalid(
                    "sync.end",
                    format!("Graph lists at most {MAX_VIEW_DAYS} days from sync.start"),
                ));
            }
            _ => {}
        }
        if self.interval_secs < 10 {
            return Err(c.invalid("sync.interval_secs", "must be at least 10"));
        }
        Ok(SyncConfig {
            window,
            interval_secs: self.interval_secs,
            group_interval_secs: self.group_interval_secs,
        })
    }
}

/// How days and times are shown, by the commands and the TUI alike (from `[ui]`): all that
/// the pure layout layers read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayConfig {
    /// The zone times are shown in.
    pub zone: DisplayZone,
    /// 12-hour clock times (`2:30pm`) instead of 24-hour ones.
    pub hour12: bool,
    /// The first day of a week row.
    pub week_start: chrono::Weekday,
}

/// The TUI's own settings (from `[ui]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiConfig {
    /// The view it opens in: one of [`VIEW_NAMES`] (the UI's `ViewKind` names them).
    pub view: String,
    /// A second zone whose hours the week and day views show beside the display zone's.
    pub second_zone: Option<Tz>,
}

/// The views `[ui] view` may name.
pub const VIEW_NAMES: [&str; 4] = ["month", "week", "day", "agenda"];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct UiSection {
    view: String,
    week_start: String,
    time_format: String,
    timezone: String,
    second_timezone: String,
}

impl Default for UiSection {
    fn default() -> Self {
        UiSection {
            view: "month".into(),
            week_start: "monday".into(),
            time_format: "24h".into(),
            timezone: "local".into(),
            second_timezone: String::new(),
        }
    }
}

impl UiSection {
    fn check(self, c: &Checker) -> Result<(DisplayConfig, UiConfig), ConfigError> {
        if !VIEW_NAMES.contains(&self.view.as_str()) {
            return Err(c.invalid(
                "ui.view",
                format!("`{}` is not month, week, day or agenda", self.view),
            ));
        }
        let week_start = self.week_start.parse::<chrono::Weekday>().map_err(|_| {
            c.invalid(
                "ui.week_start",
                format!("`{}` is not a weekday", self.week_start),
            )
        })?;
        let hour12 = match self.time_format.as_str() {
            "24h" => false,
            "12h" => true,
            other => {
                return Err(c.invalid("ui.time_format", format!("`{other}` is not 24h or 12h")));
            }
        };
        let second_zone = match self.second_timezone.trim() {
            "" => None,
            name => Some(name.parse::<Tz>().map_err(|_| {
                c.invalid(
                    "ui.second_timezone",
                    format!("`{name}` is not an IANA zone name"),
                )
            })?),
        };
        let zone = match self.timezone.as_str() {
            "local" => DisplayZone::Local,
            name => DisplayZone::Named(name.parse::<Tz>().map_err(|_| {
                c.invalid("ui.timezone", format!("`{name}` is not an IANA zone name"))
            })?),
        };
        Ok((
            DisplayConfig {
                zone,
                hour12,
                week_start,
            },
            UiConfig {
                view: self.view,
                second_zone,
            },
        ))
    }
}

/// `[reminders]`: whether events remind, the lead for events that name none, and a command to
/// run (the event as JSON on stdin) instead of a desktop notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemindersConfig {
    /// Whether events remind at all.
    pub enabled: bool,
    /// The lead for an event whose reminder names none.
    pub default_minutes: u32,
    /// A command run through `sh -c` for each reminder, the event as JSON on its stdin.
    pub command: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RemindersSection {
    enabled: bool,
    default_minutes: u32,
    command: Option<String>,
}

impl Default for RemindersSection {
    fn default() -> Self {
        RemindersSection {
            enabled: true,
            default_minutes: 15,
            command: None,
        }
    }
}

impl RemindersSection {
    fn check(self, c: &Checker) -> Result<RemindersConfig, ConfigError> {
        if self.default_minutes > 4 * 7 * 24 * 60 {
            return Err(c.invalid(
                "reminders.default_minutes",
                format!("{} is more than four weeks", self.default_minutes),
            ));
        }
        let command = self
            .command
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        Ok(RemindersConfig {
            enabled: self.enabled,
            default_minutes: self.default_minutes,
            command: command.map(str::to_owned),
        })
    }
}

/// One calendar view deltacal tracks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarSpec {
    /// The view's key in the cache.
    pub key: ViewKey,
    /// The name shown for it.
    pub name: String,
    /// Its colour; none for the theme's (or Graph's, where listed).
    pub color: Option<CalendarColor>,
    /// The Graph calendar id; None for the default calendar (of its owner).
    pub graph_id: Option<String>,
    /// Whose calendar it is: the user's own, a colleague's shared with them, a group's.
    pub owner: crate::model::Owner,
    /// The account it is read through (`[accounts.NAME]`); None for the main `[account]`.
    pub account: Option<String>,
}

impl CalendarSpec {
    /// Whether this configured calendar is `listed`, one of the account's calendars as Graph
    /// lists them: by id, or the default one when the config names none.
    pub fn is(&self, listed: &crate::model::CalendarInfo) -> bool {
        self.is_in(listed, None, &crate::model::Owner::Me)
    }

    /// [`is`](Self::is), for a calendar listed from `owner`'s mailbox through `account`.
    pub fn is_in(
        &self,
        listed: &crate::model::CalendarInfo,
        account: Option<&str>,
        owner: &crate::model::Owner,
    ) -> bool {
        if self.owner != *owner || self.account.as_deref() != account {
            return false;
        }
        match &self.graph_id {
            Some(id) => *id == listed.id,
            None => listed.is_default,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarSection {
    account: Option<String>,
    id: Option<String>,
    user: Option<String>,
    group: Option<String>,
    name: Option<String>,
    color: Option<String>,
}

/// `[[calendars]]`, checked in one pass: ids present and distinct, colours known, at most
/// [`MAX_CALENDARS`]; none means the default calendar.
fn check_calendars(
    sections: Vec<CalendarSection>,
    c: &Checker,
    accounts: &std::collections::BTreeMap<String, AccountConfig>,
) -> Result<Vec<CalendarSpec>, ConfigError> {
    if sections.len() > MAX_CALENDARS {
        return Err(c.invalid(
            "calendars",
            format!(
                "{} calendars are configured; at most {MAX_CALENDARS} can be synced",
                sections.len()
            ),
        ));
    }
    let mut calendars = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for (i, cal) in sections.into_iter().enumerate() {
        let key = format!("calendars[{i}]");
        let (owner, id) = calendar_owner(&cal, &key, c)?;
        // The cache's key: the id for the user's own calendars (as before there were others),
        // the owner before it for anyone else's.
        let view = match &owner {
            crate::model::Owner::Me => id.clone(),
            crate::model::Owner::User(address) => format!("user:{address}/{id}"),
            crate::model::Owner::Group(group) => format!("group:{group}"),
        };
        let account = match cal.account.as_deref().map(str::trim) {
            None => None,
            Some(name) if accounts.contains_key(name) => Some(name.to_owned()),
            Some(name) => {
                return Err(c.invalid(
                    &format!("{key}.account"),
                    format!(
                        "there is no [accounts.{}] section",
                        crate::text::bounded(name, 40)
                    ),
                ));
            }
        };
        // Another account's calendars are keyed apart: their ids are another mailbox's.
        let view = match &account {
            None => view,
            Some(name) => format!("account:{name}/{view}"),
        };
        if !ids.insert(view.clone()) {
            let field = match &owner {
                crate::model::Owner::Me => "id",
                crate::model::Owner::User(_) => "user",
                crate::model::Owner::Group(_) => "group",
            };
            return Err(c.invalid(
                &format!("{key}.{field}"),
                format!("`{view}` is listed twice"),
            ));
        }
        let color = match &cal.color {
            None => None,
            Some(name) => Some(CalendarColor::from_name(name).ok_or_else(|| {
                let names: Vec<&str> = CalendarColor::ALL.iter().map(|c| c.name()).collect();
                c.invalid(
                    &format!("{key}.color"),
                    format!("`{name}` is not one of {}", names.join(", ")),
                )
            })?),
        };
        let name = cal.name.unwrap_or_else(|| match &owner {
            crate::model::Owner::Me => id.clone(),
            crate::model::Owner::User(address) if id == ViewKey::DEFAULT => address.clone(),
            crate::model::Owner::User(address) => format!("{address}: {id}"),
            crate::model::Owner::Group(group) => format!("group {group}"),
        });
        calendars.push(CalendarSpec {
            name,
            color,
            // `default` names the default calendar (/me/calendarView) beside others.
            graph_id: (id != ViewKey::DEFAULT).then(|| id.clone()),
            key: view.into(),
            owner,
            account,
        });
    }
    if calendars.is_empty() {
        calendars.push(CalendarSpec {
            key: ViewKey::default_calendar(),
            name: "Calendar".into(),
            color: None,
            graph_id: None,
            owner: crate::model::Owner::Me,
            account: None,
        });
    }
    Ok(calendars)
}

/// Whether an `[accounts.NAME]` name is one deltacal takes (it goes into a file name).
fn account_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
}

/// Whose calendar a `[[calendars]]` entry names, and its id there (`default` for the default
/// one): `id` alone (the user's own), `user` (someone's shared calendar; `id` for another than
/// their default) or `group` (a group's one calendar).
fn calendar_owner(
    cal: &CalendarSection,
    key: &str,
    c: &Checker,
) -> Result<(crate::model::Owner, String), ConfigError> {
    use crate::model::Owner;
    let text = |field: &str, value: &Option<String>| -> Result<Option<String>, ConfigError> {
        match value.as_deref().map(str::trim) {
            None => Ok(None),
            Some("") => Err(c.invalid(&format!("{key}.{field}"), "must not be empty")),
            Some(v) if v.contains(['/', '?', '#']) || v.chars().any(char::is_control) => Err(c
                .invalid(
                    &format!("{key}.{field}"),
                    format!("`{v}` is not a valid {field}"),
                )),
            Some(v) => Ok(Some(v.to_owned())),
        }
    };
    let id = match cal.id.as_deref() {
        Some(id) if id.trim().is_empty() => {
            return Err(c.invalid(&format!("{key}.id"), "must be a calendar id"));
        }
        other => other.map(str::to_owned),
    };
    let user = text("user", &cal.user)?;
    let group = text("group", &cal.group)?;
    match (user, group, id) {
        (Some(_), Some(_), _) => Err(c.invalid(key, "names both `user` and `group`; give one")),
        (None, Some(_), Some(_)) => Err(c.invalid(
            &format!("{key}.id"),
            "a group has one calendar: give `group` alone",
        )),
        (None, Some(group), None) => Ok((Owner::Group(group), ViewKey::DEFAULT.to_owned())),
        (Some(user), None, id) => {
            if !user.contains('@') {
                return Err(c.invalid(
                    &format!("{key}.user"),
                    format!("`{user}` is not an address (name@domain)"),
                ));
            }
            Ok((
                Owner::User(user.to_ascii_lowercase()),
                id.unwrap_or_else(|| ViewKey::DEFAULT.to_owned()),
            ))
        }
        (None, None, Some(id)) => Ok((Owner::Me, id)),
        (None, None, None) => Err(c.invalid(
            &format!("{key}.id"),
            "must be a calendar id (or give `user` or `group`)",
        )),
    }
}

/// The whole, checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from; none when every setting is a default.
    pub config_file: Option<PathBuf>,
    /// Where the cache, the token file and the log live.
    pub data_dir: PathBuf,
    /// `[account]` (or, in a config made by [`Config::for_account`], that account's).
    pub account: AccountConfig,
    /// `[accounts.NAME]`: more accounts, each signed in on its own.
    pub accounts: std::collections::BTreeMap<String, AccountConfig>,
    /// Which account `account` is: None for the main one.
    pub account_name: Option<String>,
    /// `[graph]`.
    pub graph: GraphConfig,
    /// `[sync]`.
    pub sync: SyncConfig,
    /// The calendar views synced, in the config's order.
    pub calendars: Vec<CalendarSpec>,
    /// How days and times are shown (`[ui]`).
    pub display: DisplayConfig,
    /// The TUI's own settings (`[ui]`).
    pub ui: UiConfig,
    /// `[reminders]`.
    pub reminders: RemindersConfig,
    /// `[writes]`.
    pub writes: WritesConfig,
}

/// The file that marks a data dir as a demo's.
pub const DEMO_MARKER: &str = ".deltacal-demo";
/// The config a demo leaves in its data dir, read when no config file is named.
pub const DEMO_CONFIG: &str = "demo-config.toml";

/// The page size asked of Graph (`Prefer: odata.maxpagesize`): the most Outlook's APIs hand out
/// in one page. Graph treats it as a hint (a series is never split), so pages may be larger,
/// and each round trip brings as much as it can: over a wide-area network round trips are what
/// a full sync costs.
pub const DEFAULT_PAGE_SIZE: u32 = 1000;

/// The most `[[calendars]]` a config may name: far more than anyone keeps, few enough that
/// every round stays within Graph's request budget.
pub const MAX_CALENDARS: usize = 500;

/// True when a URL may be used: https anywhere, http only on loopback.
pub fn url_allowed(url: &Url) -> bool {
    match url.scheme() {
        "https" => url.host_str().is_some(),
        "http" => is_loopback(url),
        _ => false,
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

impl Config {
    /// Loads the config file (explicit, or the default if it exists) and applies `data_dir`.
    /// A missing default file means all defaults; a missing explicit file is an error.
    pub fn load(explicit: Option<&Path>, data_dir: Option<&Path>) -> Result<Config, ConfigError> {
        let (file, text) = match explicit {
            Some(path) => (Some(path.to_owned()), file::read(path)?),
            // A demo's data dir carries the demo's config, calendars and all.
            None if data_dir
                .is_some_and(|d| d.join(DEMO_MARKER).exists() && d.join(DEMO_CONFIG).exists()) =>
            {
                let path = data_dir.expect("checked").join(DEMO_CONFIG);
                let text = file::read(&path)?;
                (Some(path), text)
            }
            None => match paths::default_config_file() {
                Some(path) if path.exists() => {
                    let text = file::read(&path)?;
                    (Some(path), text)
                }
                _ => (None, String::new()),
            },
        };
        let data_dir = data_dir
            .map(Path::to_owned)
            .unwrap_or_else(paths::default_data_dir);
        let config = Config::from_toml(&text, file, data_dir)?;
        file::check_command_program(&config)?;
        Ok(config)
    }

    /// Parses and checks config text: the TOML into its sections, then each section by its
    /// own check, in the file's order.
    pub fn from_toml(
        text: &str,
        file: Option<PathBuf>,
        data_dir: PathBuf,
    ) -> Result<Config, ConfigError> {
        let file_name = file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "(defaults)".into());
        let c = Checker { file: &file_name };
        let parsed = read_sections(text, &c)?;
        let account = parsed.account.check(&c, "account")?;
        let mut accounts = std::collections::BTreeMap::new();
        for (name, section) in parsed.accounts {
            if !account_name_ok(&name) {
                return Err(c.invalid(
                    &format!("accounts.{}", crate::text::bounded(&name, 40)),
                    "an account's name is letters, digits, `-` and `_` (at most 32)",
                ));
            }
            let checked = section.check(&c, &format!("accounts.{name}"))?;
            accounts.insert(name, checked);
        }
        let graph = parsed.graph.check(&c)?;
        let sync = parsed.sync.check(&c)?;
        let calendars = check_calendars(parsed.calendars, &c, &accounts)?;
        let (display, ui) = parsed.ui.check(&c)?;
        let reminders = parsed.reminders.check(&c)?;
        let writes = parsed.writes.check(&c)?;
        Ok(Config {
            config_file: file,
            data_dir,
            account,
            accounts,
            account_name: None,
            graph,
            sync,
            calendars,
            display,
            ui,
            reminders,
            writes,
        })
    }

    /// The calendars that are the user's own (of any account), not someone else's shared
    /// with them or a group's: what reminds, what `next` and the invitations look at.
    pub fn own_views(&self) -> Vec<ViewKey> {
        self.calendars
            .iter()
            .filter(|c| c.owner == crate::model::Owner::Me)
            .map(|c| c.key.clone())
            .collect()
    }

    /// The cache file in the data dir.
    pub fn cache_path(&self) -> PathBuf {
        self.data_dir.join(paths::CACHE_FILE)
    }

    /// The token file in the data dir: `tokens.json` for the main account, `tokens-NAME.json`
    /// for `[accounts.NAME]` (a config made by [`Config::for_account`]).
    pub fn token_path(&self) -> PathBuf {
        match &self.account_name {
            None => self.data_dir.join(paths::TOKEN_FILE),
            Some(name) => self.data_dir.join(format!("tokens-{name}.json")),
        }
    }

    /// This config as `[accounts.NAME]` signs in (None: the main `[account]`): its
    /// `account` that one, its token file that one's. Sign-in, sessions and `status` take it.
    pub fn for_account(&self, name: Option<&str>) -> Result<Config, String> {
        let Some(name) = name else {
            return Ok(Config {
                account_name: None,
                ..self.clone()
            });
        };
        let account = self.accounts.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.accounts.keys().map(String::as_str).collect();
            format!(
                "no [accounts.{}] in the config{}",
                crate::text::line(name),
                if known.is_empty() {
                    String::new()
                } else {
                    format!(" (there are: {})", known.join(", "))
                }
            )
        })?;
        Ok(Config {
            account: account.clone(),
            account_name: Some(name.to_owned()),
            ..self.clone()
        })
    }

    /// The log file in the data dir.
    pub fn log_path(&self) -> PathBuf {
        self.data_dir.join(paths::LOG_FILE)
    }

    /// Whether `other` syncs the same way: the same window, calendars, Graph host and account.
    /// Two processes whose configs differ here would undo each other's rounds (each
    /// re-anchoring the cache to its own window); colours, names and display settings may
    /// differ.
    pub fn syncs_like(&self, other: &Config) -> bool {
        let synced = |c: &Config| {
            c.calendars
                .iter()
                .map(|cal| (cal.key.clone(), cal.graph_id.clone()))
                .collect::<Vec<_>>()
        };
        self.sync.window == other.sync.window
            && synced(self) == synced(other)
            && self.graph.base_url == other.graph.base_url
            && self.account.authority == other.account.authority
            && self.account.tenant == other.account.tenant
            && self.account.client_id == other.account.client_id
            && self.accounts == other.accounts
            && self.data_dir == other.data_dir
    }

    /// The configured calendar view with this key.
    pub fn calendar(&self, key: &str) -> Option<&CalendarSpec> {
        self.calendars.iter().find(|c| c.key == key)
    }

    /// The configured calendar a command line names: by its name (ignoring case), its Graph
    /// id or its key; the error lists what the config has.
    pub fn find_calendar(&self, name_or_id: &str) -> Result<&CalendarSpec, String> {
        let wanted = name_or_id.trim();
        self.calendars
            .iter()
            // Graph ids are case-sensitive; `default` is ours, in any case.
            .find(|c| {
                c.key == wanted
                    || c.graph_id.as_deref() == Some(wanted)
                    || (c.graph_id.is_none() && wanted.eq_ignore_ascii_case(&c.key))
            })
            .or_else(|| {
                self.calendars
                    .iter()
                    .find(|c| c.name.to_lowercase() == wanted.to_lowercase())
            })
            .ok_or_else(|| {
                let names: Vec<&str> = self.calendars.iter().map(|c| c.name.as_str()).collect();
                format!(
                    "no configured calendar is named or has the id {:?} (configured: {}); `deltacal calendars` lists the account's",
                    crate::text::line(wanted),
                    names.join(", ")
                )
            })
    }

    /// The first and last display-zone days the sync window covers on `today`: days outside
    /// it have no events because nothing is synced there, not because the calendar is free.
    pub fn synced_days(&self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        let window = self.sync.window.on(today);
        (
            self.display.zone.date_of(window.start),
            self.display.zone.date_of(window.end - Duration::seconds(1)),
        )
    }

    /// The name to show for a calendar view: its configured name, else its key.
    pub fn calendar_name<'a>(&'a self, key: &'a str) -> &'a str {
        self.calendar(key).map_or(key, |c| c.name.as_str())
    }
}

/// The file's sections, or the error that names where the text is wrong: a value of the wrong
/// type by its key (`sync.past_days`, which the TOML parser's own error leaves out), an
/// unknown key by its name, a syntax error by its line.
fn read_sections(text: &str, c: &Checker) -> Result<FileConfig, ConfigError> {
    let toml_error = |e: &toml::de::Error, path: Option<String>| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        let (key, kind) = match (unknown_key(e.message()), path) {
            (Some(key), _) => (key.to_owned(), ConfigErrorKind::UnknownKey),
            (None, Some(path)) => (path, ConfigErrorKind::WrongType),
            (None, None) => (
                line.map(|l| format!("line {l}")).unwrap_or_default(),
                ConfigErrorKind::Syntax,
            ),
        };
        let message = e.message().trim().replace('\n', " ");
        let message = match line {
            Some(l) => format!("{message} (line {l})"),
            None => message,
        };
        c.error(&key, kind, message)
    };
    let document = toml::de::Deserializer::parse(text).map_err(|e| toml_error(&e, None))?;
    serde_path_to_error::deserialize(document).map_err(|e| {
        let path = e.path().to_string();
        let path = (!path.is_empty() && path != ".").then_some(path);
        toml_error(e.inner(), path)
    })
}

/// Pulls the key out of serde's "unknown field `x`" message.
fn unknown_key(message: &str) -> Option<&str> {
    let rest = message.split("unknown field `").nth(1)?;
    rest.split('`').next()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(super) fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml(text, Some("c.toml".into()), "/tmp/d".into())
    }

    #[test]
    fn empty_file_means_defaults() {
        let c = parse("").unwrap();
        assert_eq!(c.account.client_id, DEFAULT_CLIENT_ID);
        assert_eq!(c.graph.page_size, DEFAULT_PAGE_SIZE);
        assert_eq!(c.calendars[0].key, "default");
    }

    #[test]
    fn unknown_keys_name_the_key() {
        let e = parse("[graph]\npagesize = 5\n").unwrap_err();
        assert_eq!(e.key, "pagesize");
        assert!(e.to_string().contains("c.toml"), "{e}");
        let e = parse("[nope]\n").unwrap_err();
        assert_eq!(e.key, "nope");
    }

    #[test]
    fn plain_http_only_on_loopback() {
        assert!(parse("[graph]\nbase_url = \"http://127.0.0.1:9/v1.0\"\n").is_ok());
        assert!(parse("[graph]\nbase_url = \"http://localhost:9/v1.0\"\n").is_ok());
        let e = parse("[graph]\nbase_url = \"http://example.com/v1.0\"\n").unwrap_err();
        assert_eq!(e.key, "graph.base_url");
    }

    #[test]
    fn bad_values_name_the_key() {
        assert_eq!(
            parse("[graph]\npage_size = 0\n").unwrap_err().key,
            "graph.page_size"
        );
        assert_eq!(parse("[ui]\nview = \"year\"\n").unwrap_err().key, "ui.view");
        for view in ["month", "week", "day", "agenda"] {
            let config = parse(&format!("[ui]\nview = \"{view}\"\n")).unwrap();
            assert_eq!(config.ui.view, view);
        }
        assert_eq!(
            parse("[ui]\ntimezone = \"Mars/Base\"\n").unwrap_err().key,
            "ui.timezone"
        );
        assert_eq!(
            parse("[sync]\nstart = \"2016-12-01T00:00:00Z\"\n")
                .unwrap_err()
                .key,
            "sync.end"
        );
        assert_eq!(
            parse("[[calendars]]\nid = \"a\"\ncolor = \"plaid\"\n")
                .unwrap_err()
                .key,
            "calendars[0].color"
        );
        // A value of the wrong type, too, is named by its key, with its line.
        let e = parse("[sync]\npast_days = \"thirty\"\n").unwrap_err();
        assert_eq!(e.key, "sync.past_days");
        assert!(e.message.contains("(line 2)"), "{}", e.message);
        assert_eq!(
            parse("[[calendars]]\nid = 5\n").unwrap_err().key,
            "calendars[0].id"
        );
        assert_eq!(e.kind, ConfigErrorKind::WrongType);
        // Syntax is said by its line; an unknown key by its name.
        let e = parse("x = [\n").unwrap_err();
        assert_eq!(
            (e.key.as_str(), e.kind),
            ("line 1", ConfigErrorKind::Syntax)
        );
        let e = parse("[window]\n").unwrap_err();
        assert_eq!(
            (e.key.as_str(), e.kind),
            ("window", ConfigErrorKind::UnknownKey)
        );
        let e = parse("[graph]\npage_size = 0\n").unwrap_err();
        assert_eq!(e.kind, ConfigErrorKind::Invalid);
    }

    #[test]
    fn calendars_are_checked_in_one_pass_and_capped() {
        let many = |n: usize| {
            (0..n)
                .map(|i| format!("[[calendars]]\nid = \"cal{i}\"\n"))
                .collect::<String>()
        };
        assert_eq!(
            parse(&many(MAX_CALENDARS)).unwrap().calendars.len(),
            MAX_CALENDARS
        );
        let e = parse(&many(MAX_CALENDARS + 1)).unwrap_err();
        assert_eq!(e.key, "calendars");
        assert!(e.message.contains("at most 500"), "{}", e.message);
        let e = parse(
            "[[calendars]]\nid = \"a\"\n[[calendars]]\nid = \"b\"\n[[calendars]]\nid = \"a\"\n",
        )
        .unwrap_err();
        assert_eq!(e.key, "calendars[2].id");
    }

    #[test]
    fn calendars_of_others_name_whose_they_are() {
        use crate::model::Owner;
        let config = parse(
            "[[calendars]]\nid = \"default\"\n\
             [[calendars]]\nuser = \"Alex@Contoso.com\"\n\
             [[calendars]]\nuser = \"alex@contoso.com\"\nid = \"AAMk2\"\nname = \"Alex 2\"\n\
             [[calendars]]\ngroup = \"g-1\"\n",
        )
        .unwrap();
        let c = &config.calendars;
        assert_eq!(c[0].owner, Owner::Me);
        assert_eq!(c[1].owner, Owner::User("alex@contoso.com".into()));
        assert_eq!(c[1].key.as_str(), "user:alex@contoso.com/default");
        assert_eq!(c[1].graph_id, None);
        assert_eq!(c[1].name, "alex@contoso.com");
        assert_eq!(c[2].graph_id.as_deref(), Some("AAMk2"));
        assert_eq!(c[3].owner, Owner::Group("g-1".into()));
        assert_eq!(c[3].key.as_str(), "group:g-1");
        let refused = |text: &str| parse(text).unwrap_err();
        let e = refused("[[calendars]]\nuser = \"a@b\"\ngroup = \"g\"\n");
        assert_eq!(e.key, "calendars[0]");
        let e = refused("[[calendars]]\ngroup = \"g\"\nid = \"x\"\n");
        assert_eq!(e.key, "calendars[0].id");
        let e = refused("[[calendars]]\nuser = \"alex\"\n");
        assert_eq!(e.key, "calendars[0].user");
        let e = refused("[[calendars]]\nuser = \"a/b@c\"\n");
        assert_eq!(e.key, "calendars[0].user");
        let e = refused("[[calendars]]\nname = \"x\"\n");
        assert_eq!(e.key, "calendars[0].id");
        let e = refused("[[calendars]]\ngroup = \"g\"\n[[calendars]]\ngroup = \"g\"\n");
        assert_eq!(e.key, "calendars[1].group");
    }

    #[test]
    fn errors_quote_a_short_prefix_of_what_they_refuse() {
        let huge = "x".repeat(100_000);
        let e = parse(&format!("[ui]\ntimezone = \"{huge}\"\n")).unwrap_err();
        assert!(
            e.to_string().chars().count() < 700,
            "{} chars",
            e.to_string().len()
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_reminder_program_anyone_may_write_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let program = dir.path().join("notify.sh");
        std::fs::write(&program, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o777)).unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                "[reminders]\ncommand = \"{} --urgent\"\n",
                program.display()
            ),
        )
        .unwrap();
        let e = Config::load(Some(&config), Some(dir.path())).unwrap_err();
        assert_eq!(e.key, "reminders.command");
        assert!(e.message.contains("anyone may write it"), "{}", e.message);
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(Config::load(Some(&config), Some(dir.path())).is_ok());
    }
}
