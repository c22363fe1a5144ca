//! Configuration: the TOML file, then environment and flags, into one checked `Config`.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use reqwest::Url;
use serde::Deserialize;

use crate::model::{ViewKey, Window};
use crate::paths;
use crate::tz::DisplayZone;

/// Microsoft's "Microsoft Graph Command Line Tools" public client: allowed for the device flow
/// with delegated scopes in most tenants, so deltacal works without registering an app.
pub const DEFAULT_CLIENT_ID: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

/// A configuration problem: names the file and the key. Exit code 2.
#[derive(Debug, thiserror::Error)]
#[error(
    "config {}: {}: {}",
    crate::text::bounded(.file, 200),
    crate::text::bounded(.key, 100),
    crate::text::bounded(.message, 300)
)]
pub struct ConfigError {
    pub file: String,
    pub key: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FileConfig {
    account: AccountSection,
    graph: GraphSection,
    sync: SyncSection,
    calendars: Vec<CalendarSection>,
    ui: UiSection,
    reminders: RemindersSection,
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

/// `[reminders]`: whether events remind, the lead for events that name none, and a command to
/// run (the event as JSON on stdin) instead of a desktop notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemindersConfig {
    pub enabled: bool,
    pub default_minutes: u32,
    pub command: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct AccountSection {
    client_id: String,
    tenant: String,
    authority: String,
}

impl Default for AccountSection {
    fn default() -> Self {
        AccountSection {
            client_id: DEFAULT_CLIENT_ID.into(),
            tenant: "common".into(),
            authority: "https://login.microsoftonline.com".into(),
        }
    }
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct SyncSection {
    past_days: u32,
    future_days: u32,
    start: Option<String>,
    end: Option<String>,
    interval_secs: u64,
}

impl Default for SyncSection {
    fn default() -> Self {
        SyncSection {
            past_days: 30,
            future_days: 365,
            start: None,
            end: None,
            interval_secs: 300,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarSection {
    id: String,
    name: Option<String>,
    color: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct UiSection {
    view: String,
    week_start: String,
    time_format: String,
    timezone: String,
}

impl Default for UiSection {
    fn default() -> Self {
        UiSection {
            view: "month".into(),
            week_start: "monday".into(),
            time_format: "24h".into(),
            timezone: "local".into(),
        }
    }
}

/// Which view the TUI opens in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewKind {
    Month,
    Week,
    Day,
    Agenda,
}

impl ViewKind {
    /// The order `Tab` cycles through.
    pub const ALL: [ViewKind; 4] = [
        ViewKind::Month,
        ViewKind::Week,
        ViewKind::Day,
        ViewKind::Agenda,
    ];

    /// The view after this one in the `Tab` cycle.
    pub fn next(self) -> ViewKind {
        let i = ViewKind::ALL.iter().position(|&v| v == self).unwrap_or(0);
        ViewKind::ALL[(i + 1) % ViewKind::ALL.len()]
    }

    /// The name the config and the title use.
    pub fn name(self) -> &'static str {
        match self {
            ViewKind::Month => "month",
            ViewKind::Week => "week",
            ViewKind::Day => "day",
            ViewKind::Agenda => "agenda",
        }
    }
}

/// The window a calendar view is synced over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowSpec {
    /// Moves with the days: at least today - past .. today + future (whole UTC days), anchored
    /// so that it moves every [`ROLL_DAYS`] days, not daily (see [`WindowSpec::on`]).
    Rolling {
        past_days: u32,
        future_days: u32,
    },
    Fixed(Window),
}

impl WindowSpec {
    /// The window synced on a given day. A rolling one is anchored on the last day (counted
    /// from 1970-01-01) that is a multiple of [`ROLL_DAYS`]: it runs from `past_days` before the
    /// anchor to `future_days` + `ROLL_DAYS` after it, which covers `today - past_days ..=
    /// today + future_days` on every day until the next anchor. So the window (and with it a
    /// full round) changes once every `ROLL_DAYS` days; the days between cost nothing.
    pub fn on(&self, today: NaiveDate) -> Window {
        match *self {
            WindowSpec::Fixed(w) => w,
            WindowSpec::Rolling {
                past_days,
                future_days,
            } => {
                let midnight =
                    |d: NaiveDate| d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
                let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date");
                let anchor =
                    today - Duration::days((today - epoch).num_days().rem_euclid(ROLL_DAYS));
                Window {
                    start: midnight(anchor - Duration::days(past_days.into())),
                    end: midnight(anchor + Duration::days(i64::from(future_days) + ROLL_DAYS)),
                }
            }
        }
    }
}

/// One calendar view deltacal tracks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarSpec {
    pub key: ViewKey,
    pub name: String,
    pub color: Option<CalendarColor>,
    /// The Graph calendar id; None for the default calendar.
    pub graph_id: Option<String>,
}

impl CalendarSpec {
    /// Whether this configured calendar is `listed`, one of the account's calendars as Graph
    /// lists them: by id, or the default one when the config names none.
    pub fn is(&self, listed: &crate::model::CalendarInfo) -> bool {
        match &self.graph_id {
            Some(id) => *id == listed.id,
            None => listed.is_default,
        }
    }
}

/// The whole, checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub config_file: Option<PathBuf>,
    pub data_dir: PathBuf,
    pub client_id: String,
    pub tenant: String,
    pub authority: Url,
    pub base_url: Url,
    pub page_size: u32,
    /// Tries per request before a round gives up (transient failures only).
    pub max_attempts: u32,
    /// The first backoff delay; it doubles per try, up to 60 s.
    pub retry_base_ms: u64,
    pub window: WindowSpec,
    pub interval_secs: u64,
    pub calendars: Vec<CalendarSpec>,
    pub view: ViewKind,
    pub week_start: chrono::Weekday,
    pub hour12: bool,
    pub zone: DisplayZone,
    pub reminders: RemindersConfig,
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

/// How many days a rolling window's anchor stays put: the window synced reaches this many days
/// further ahead than `future_days`, and moves (a full round) once in this many days instead
/// of daily.
pub const ROLL_DAYS: i64 = 28;

/// The longest range Graph's calendarView serves, in days.
pub const MAX_VIEW_DAYS: i64 = 1825;

/// The most `[[calendars]]` a config may name: far more than anyone keeps, few enough that
/// every round stays within Graph's request budget.
pub const MAX_CALENDARS: usize = 500;

/// The colours a calendar can be given: the terminal's basic palette, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarColor {
    Black,
    Red,
    Green,
    Yellow,
    Blue,
    Magenta,
    Cyan,
    Gray,
    White,
    LightRed,
    LightGreen,
    LightYellow,
    LightBlue,
    LightMagenta,
    LightCyan,
}

impl CalendarColor {
    /// Every colour, in the order the config error lists them.
    pub const ALL: [CalendarColor; 15] = [
        CalendarColor::Black,
        CalendarColor::Red,
        CalendarColor::Green,
        CalendarColor::Yellow,
        CalendarColor::Blue,
        CalendarColor::Magenta,
        CalendarColor::Cyan,
        CalendarColor::Gray,
        CalendarColor::White,
        CalendarColor::LightRed,
        CalendarColor::LightGreen,
        CalendarColor::LightYellow,
        CalendarColor::LightBlue,
        CalendarColor::LightMagenta,
        CalendarColor::LightCyan,
    ];

    /// The name the config file uses.
    pub fn name(self) -> &'static str {
        match self {
            CalendarColor::Black => "black",
            CalendarColor::Red => "red",
            CalendarColor::Green => "green",
            CalendarColor::Yellow => "yellow",
            CalendarColor::Blue => "blue",
            CalendarColor::Magenta => "magenta",
            CalendarColor::Cyan => "cyan",
            CalendarColor::Gray => "gray",
            CalendarColor::White => "white",
            CalendarColor::LightRed => "lightred",
            CalendarColor::LightGreen => "lightgreen",
            CalendarColor::LightYellow => "lightyellow",
            CalendarColor::LightBlue => "lightblue",
            CalendarColor::LightMagenta => "lightmagenta",
            CalendarColor::LightCyan => "lightcyan",
        }
    }

    /// The colour a config name stands for, ignoring case.
    pub fn from_name(name: &str) -> Option<CalendarColor> {
        Self::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    /// The palette colour of a calendar's colour in Graph: by the hue of its `#rrggbb` when
    /// the user picked one, else by its colour name; None for `auto` (the theme's default).
    pub fn from_graph(color: Option<&str>, hex: Option<&str>) -> Option<CalendarColor> {
        if let Some(rgb) = hex.and_then(parse_hex) {
            return Some(by_hue(rgb));
        }
        Some(match color? {
            "lightBlue" => CalendarColor::LightBlue,
            "lightGreen" => CalendarColor::LightGreen,
            "lightOrange" | "lightBrown" => CalendarColor::Yellow,
            "lightGray" => CalendarColor::Gray,
            "lightYellow" => CalendarColor::LightYellow,
            "lightTeal" => CalendarColor::Cyan,
            "lightPink" => CalendarColor::LightMagenta,
            "lightRed" => CalendarColor::LightRed,
            _ => return None,
        })
    }
}

/// The palette colour of an RGB colour's hue. Outlook's calendar colours are pastels, which by
/// plain distance would all be nearest to gray; by hue they keep their family.
fn by_hue((r, g, b): (u8, u8, u8)) -> CalendarColor {
    let (r, g, b) = (f64::from(r), f64::from(g), f64::from(b));
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    if max == 0.0 || (max - min) / max < 0.15 {
        return CalendarColor::Gray;
    }
    let d = max - min;
    let hue = if max == r {
        60.0 * ((g - b) / d).rem_euclid(6.0)
    } else if max == g {
        60.0 * ((b - r) / d + 2.0)
    } else {
        60.0 * ((r - g) / d + 4.0)
    };
    match hue {
        h if !(15.0..345.0).contains(&h) => CalendarColor::LightRed,
        h if h < 45.0 => CalendarColor::Yellow,
        h if h < 75.0 => CalendarColor::LightYellow,
        h if h < 165.0 => CalendarColor::LightGreen,
        h if h < 200.0 => CalendarColor::Cyan,
        h if h < 260.0 => CalendarColor::LightBlue,
        _ => CalendarColor::LightMagenta,
    }
}

/// `#rrggbb` as numbers.
fn parse_hex(hex: &str) -> Option<(u8, u8, u8)> {
    let h = hex.trim().strip_prefix('#')?;
    if h.len() != 6 || !h.is_ascii() {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok();
    Some((byte(0)?, byte(2)?, byte(4)?))
}

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
            Some(path) => (Some(path.to_owned()), read_file(path)?),
            // A demo's data dir carries the demo's config, calendars and all.
            None if data_dir
                .is_some_and(|d| d.join(DEMO_MARKER).exists() && d.join(DEMO_CONFIG).exists()) =>
            {
                let path = data_dir.expect("checked").join(DEMO_CONFIG);
                let text = read_file(&path)?;
                (Some(path), text)
            }
            None => match paths::default_config_file() {
                Some(path) if path.exists() => {
                    let text = read_file(&path)?;
                    (Some(path), text)
                }
                _ => (None, String::new()),
            },
        };
        let data_dir = data_dir
            .map(Path::to_owned)
            .unwrap_or_else(paths::default_data_dir);
        let config = Config::from_toml(&text, file, data_dir)?;
        check_command_program(&config)?;
        Ok(config)
    }

    /// Parses and checks config text.
    pub fn from_toml(
        text: &str,
        file: Option<PathBuf>,
        data_dir: PathBuf,
    ) -> Result<Config, ConfigError> {
        let file_name = file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "(defaults)".into());
        let fail = |key: &str, message: String| ConfigError {
            file: file_name.clone(),
            key: key.to_owned(),
            message,
        };
        // A value of the wrong type is named by its key (`sync.past_days`), which the TOML
        // parser's own error leaves out; a syntax error by its line.
        let toml_error = |e: &toml::de::Error, path: Option<String>| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let key = unknown_key(e.message())
                .map(str::to_owned)
                .or(path)
                .unwrap_or_else(|| line.map(|l| format!("line {l}")).unwrap_or_default());
            let message = e.message().trim().replace('\n', " ");
            let message = match line {
                Some(l) => format!("{message} (line {l})"),
                None => message,
            };
            fail(&key, message)
        };
        let document = toml::de::Deserializer::parse(text).map_err(|e| toml_error(&e, None))?;
        let parsed: FileConfig = serde_path_to_error::deserialize(document).map_err(|e| {
            let path = e.path().to_string();
            let path = (!path.is_empty() && path != ".").then_some(path);
            toml_error(e.inner(), path)
        })?;

        let url = |key: &str, value: &str| -> Result<Url, ConfigError> {
            let url = Url::parse(value.trim_end_matches('/'))
                .map_err(|e| fail(key, format!("`{value}` is not a URL: {e}")))?;
            if !url.username().is_empty() || url.password().is_some() {
                return Err(fail(
                    key,
                    "must not hold a user name or password (user:password@host)".into(),
                ));
            }
            if !url_allowed(&url) {
                return Err(fail(
                    key,
                    format!("`{value}` must be https (plain http only for loopback hosts)"),
                ));
            }
            Ok(url)
        };
        let authority = url("account.authority", &parsed.account.authority)?;
        let base_url = url("graph.base_url", &parsed.graph.base_url)?;
        if parsed.account.client_id.trim().is_empty() {
            return Err(fail("account.client_id", "must not be empty".into()));
        }
        let tenant = parsed.account.tenant.trim();
        if tenant.is_empty() || tenant.contains(['/', '?', '#']) {
            return Err(fail(
                "account.tenant",
                format!("`{tenant}` is not a tenant name or id"),
            ));
        }
        if !(1..=20).contains(&parsed.graph.max_attempts) {
            return Err(fail(
                "graph.max_attempts",
                "must be between 1 and 20".into(),
            ));
        }
        if parsed.graph.retry_base_ms > 60_000 {
            return Err(fail("graph.retry_base_ms", "must be at most 60000".into()));
        }
        if !(1..=1000).contains(&parsed.graph.page_size) {
            return Err(fail("graph.page_size", "must be between 1 and 1000".into()));
        }
        let instant = |key: &str, value: &str| -> Result<DateTime<Utc>, ConfigError> {
            DateTime::parse_from_rfc3339(value)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| fail(key, format!("`{value}` is not an RFC 3339 time: {e}")))
        };
        let window = match (&parsed.sync.start, &parsed.sync.end) {
            (None, None) => WindowSpec::Rolling {
                past_days: parsed.sync.past_days,
                future_days: parsed.sync.future_days,
            },
            (Some(s), Some(e)) => {
                let (start, end) = (instant("sync.start", s)?, instant("sync.end", e)?);
                if start >= end {
                    return Err(fail("sync.end", "must be after sync.start".into()));
                }
                WindowSpec::Fixed(Window { start, end })
            }
            (Some(_), None) => return Err(fail("sync.end", "sync.start needs sync.end".into())),
            (None, Some(_)) => return Err(fail("sync.start", "sync.end needs sync.start".into())),
        };
        // Graph lists a calendar view of at most 1825 days, and the rolling window reaches
        // ROLL_DAYS further than it is asked to (it is anchored, see WindowSpec::on).
        match &window {
            WindowSpec::Rolling {
                past_days,
                future_days,
            } if i64::from(*past_days) + i64::from(*future_days) + ROLL_DAYS > MAX_VIEW_DAYS => {
                return Err(fail(
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
                return Err(fail(
                    "sync.end",
                    format!("Graph lists at most {MAX_VIEW_DAYS} days from sync.start"),
                ));
            }
            _ => {}
        }
        if parsed.sync.interval_secs < 10 {
            return Err(fail("sync.interval_secs", "must be at least 10".into()));
        }
        if parsed.calendars.len() > MAX_CALENDARS {
            return Err(fail(
                "calendars",
                format!(
                    "{} calendars are configured; at most {MAX_CALENDARS} can be synced",
                    parsed.calendars.len()
                ),
            ));
        }
        let mut calendars = Vec::new();
        let mut ids = std::collections::HashSet::new();
        for (i, c) in parsed.calendars.iter().enumerate() {
            let key = format!("calendars[{i}]");
            if c.id.trim().is_empty() {
                return Err(fail(&format!("{key}.id"), "must be a calendar id".into()));
            }
            if !ids.insert(c.id.as_str()) {
                return Err(fail(
                    &format!("{key}.id"),
                    format!("`{}` is listed twice", c.id),
                ));
            }
            let color = match &c.color {
                None => None,
                Some(name) => Some(CalendarColor::from_name(name).ok_or_else(|| {
                    let names: Vec<&str> = CalendarColor::ALL.iter().map(|c| c.name()).collect();
                    fail(
                        &format!("{key}.color"),
                        format!("`{name}` is not one of {}", names.join(", ")),
                    )
                })?),
            };
            calendars.push(CalendarSpec {
                key: c.id.clone().into(),
                name: c.name.clone().unwrap_or_else(|| c.id.clone()),
                color,
                // `default` names the default calendar (/me/calendarView) beside others.
                graph_id: (c.id != ViewKey::DEFAULT).then(|| c.id.clone()),
            });
        }
        if calendars.is_empty() {
            calendars.push(CalendarSpec {
                key: ViewKey::default_calendar(),
                name: "Calendar".into(),
                color: None,
                graph_id: None,
            });
        }
        let view = match ViewKind::ALL
            .into_iter()
            .find(|v| v.name() == parsed.ui.view.as_str())
        {
            Some(view) => view,
            None => {
                let other = &parsed.ui.view;
                return Err(fail(
                    "ui.view",
                    format!("`{other}` is not month, week, day or agenda"),
                ));
            }
        };
        let week_start = parsed
            .ui
            .week_start
            .parse::<chrono::Weekday>()
            .map_err(|_| {
                fail(
                    "ui.week_start",
                    format!("`{}` is not a weekday", parsed.ui.week_start),
                )
            })?;
        let hour12 = match parsed.ui.time_format.as_str() {
            "24h" => false,
            "12h" => true,
            other => {
                return Err(fail(
                    "ui.time_format",
                    format!("`{other}` is not 24h or 12h"),
                ));
            }
        };
        let zone =
            match parsed.ui.timezone.as_str() {
                "local" => DisplayZone::Local,
                name => DisplayZone::Named(name.parse::<Tz>().map_err(|_| {
                    fail("ui.timezone", format!("`{name}` is not an IANA zone name"))
                })?),
            };
        let r = &parsed.reminders;
        if r.default_minutes > 4 * 7 * 24 * 60 {
            return Err(fail(
                "reminders.default_minutes",
                format!("{} is more than four weeks", r.default_minutes),
            ));
        }
        let command = r
            .command
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        let reminders = RemindersConfig {
            enabled: r.enabled,
            default_minutes: r.default_minutes,
            command: command.map(str::to_owned),
        };
        Ok(Config {
            config_file: file,
            data_dir,
            client_id: parsed.account.client_id.trim().to_owned(),
            tenant: tenant.to_owned(),
            authority,
            base_url,
            page_size: parsed.graph.page_size,
            max_attempts: parsed.graph.max_attempts,
            retry_base_ms: parsed.graph.retry_base_ms,
            window,
            interval_secs: parsed.sync.interval_secs,
            calendars,
            view,
            week_start,
            hour12,
            zone,
            reminders,
        })
    }

    pub fn cache_path(&self) -> PathBuf {
        self.data_dir.join(paths::CACHE_FILE)
    }

    pub fn token_path(&self) -> PathBuf {
        self.data_dir.join(paths::TOKEN_FILE)
    }

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
        self.window == other.window
            && synced(self) == synced(other)
            && self.base_url == other.base_url
            && self.authority == other.authority
            && self.tenant == other.tenant
            && self.client_id == other.client_id
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
        let window = self.window.on(today);
        (
            self.zone.date_of(window.start),
            self.zone.date_of(window.end - Duration::seconds(1)),
        )
    }

    /// The name to show for a calendar view: its configured name, else its key.
    pub fn calendar_name<'a>(&'a self, key: &'a str) -> &'a str {
        self.calendar(key).map_or(key, |c| c.name.as_str())
    }
}

/// A config file is a few kilobytes; one larger than this is not one (`/dev/zero`, a mistake).
const MAX_CONFIG_FILE: u64 = 1024 * 1024;

/// A config file's text; an error names the file. The file decides what runs (`reminders.
/// command`, through `sh -c`) and where the refresh token goes (`account.authority`), so one
/// that another user owns or anyone may write is refused, as is anything but a regular file of
/// reasonable size. A symlink is followed (dotfile managers link config files) and its target
/// checked.
fn read_file(path: &Path) -> Result<String, ConfigError> {
    let error = |message: String| ConfigError {
        file: crate::text::bounded(&path.display().to_string(), 200),
        key: "(file)".into(),
        message,
    };
    let (bytes, meta) = crate::paths::read_file_capped(path, MAX_CONFIG_FILE, true)
        .map_err(|e| error(e.to_string()))?;
    untrusted(&meta, "it decides what deltacal runs and where it signs in").map_err(error)?;
    String::from_utf8(bytes).map_err(|e| error(format!("not UTF-8 text: {e}")))
}

/// Why a file that decides what deltacal runs cannot be trusted: another user (not root) owns
/// it, or anyone may write it. `why`: what it decides.
fn untrusted(meta: &std::fs::Metadata, why: &str) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me && meta.uid() != 0 {
            return Err(format!(
                "belongs to another user (uid {}), and {why}; use a file of your own",
                meta.uid()
            ));
        }
        if meta.mode() & 0o002 != 0 {
            return Err(format!(
                "anyone may write it (mode {:o}), and {why}; run `chmod o-w` on it",
                meta.mode() & 0o777
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = (meta, why);
    Ok(())
}

/// The program `reminders.command` starts, where it names one by path: it runs at every
/// reminder, so one that another user owns or anyone may write is refused, as such a config
/// file is. A name found through `PATH` is the shell's to find.
fn check_command_program(config: &Config) -> Result<(), ConfigError> {
    let Some(program) = config
        .reminders
        .command
        .as_deref()
        .and_then(|c| c.split_whitespace().next())
        .filter(|p| p.contains('/'))
    else {
        return Ok(());
    };
    let Ok(meta) = std::fs::metadata(program) else {
        // Missing: the command fails when it runs, and says so then.
        return Ok(());
    };
    untrusted(&meta, "it runs at every reminder").map_err(|message| ConfigError {
        file: config
            .config_file
            .as_deref()
            .map(|f| f.display().to_string())
            .unwrap_or_default(),
        key: "reminders.command".into(),
        message: format!("{}: {message}", crate::text::bounded(program, 200)),
    })
}

/// Pulls the key out of serde's "unknown field `x`" message.
fn unknown_key(message: &str) -> Option<&str> {
    let rest = message.split("unknown field `").nth(1)?;
    rest.split('`').next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml(text, Some("c.toml".into()), "/tmp/d".into())
    }

    #[test]
    fn empty_file_means_defaults() {
        let c = parse("").unwrap();
        assert_eq!(c.client_id, DEFAULT_CLIENT_ID);
        assert_eq!(c.page_size, DEFAULT_PAGE_SIZE);
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
            assert_eq!(config.view.name(), view);
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
        // Syntax is said by its line; an unknown key by its name.
        assert_eq!(parse("x = [\n").unwrap_err().key, "line 1");
        assert_eq!(parse("[window]\n").unwrap_err().key, "window");
    }

    #[test]
    fn windows_fit_what_graph_lists_rolling_days_included() {
        // 1825 days at most; the rolling window reaches 28 days further than asked.
        assert!(parse("[sync]\npast_days = 365\nfuture_days = 1432\n").is_ok());
        let e = parse("[sync]\npast_days = 365\nfuture_days = 1433\n").unwrap_err();
        assert_eq!(e.key, "sync.future_days");
        assert!(e.message.contains("at most 1797"), "{}", e.message);
        let fixed = |end: &str| {
            parse(&format!(
                "[sync]\nstart = \"2020-01-01T00:00:00Z\"\nend = \"{end}\"\n"
            ))
        };
        assert!(fixed("2024-12-30T00:00:00Z").is_ok());
        assert_eq!(fixed("2024-12-31T00:00:00Z").unwrap_err().key, "sync.end");
    }

    #[test]
    fn windows_roll_or_stay_fixed() {
        let c = parse("[sync]\npast_days = 1\nfuture_days = 2\n").unwrap();
        // Anchored on 2026-11-19 (day 20,776 since 1970, a multiple of 28).
        let w = c.window.on("2026-11-24".parse().unwrap());
        assert_eq!(w.start.to_rfc3339(), "2026-11-18T00:00:00+00:00");
        assert_eq!(w.end.to_rfc3339(), "2026-12-19T00:00:00+00:00");
        // Every day it covers what the config asks, and it moves once in ROLL_DAYS days.
        let first: NaiveDate = "2026-10-01".parse().unwrap();
        let mut moves = 0;
        let mut last = None;
        for d in first.iter_days().take(112) {
            let w = c.window.on(d);
            let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap().and_utc();
            assert!(w.start <= midnight(d - Duration::days(1)), "{d}");
            assert!(w.end >= midnight(d + Duration::days(3)), "{d}");
            if last.is_some_and(|l| l != w) {
                moves += 1;
            }
            last = Some(w);
        }
        assert_eq!(moves, 4, "112 days, one move every 28");
        let c = parse("[sync]\nstart = \"2016-12-01T00:00:00Z\"\nend = \"2016-12-30T00:00:00Z\"\n")
            .unwrap();
        let w = c.window.on("2026-11-24".parse().unwrap());
        assert_eq!(w.start.to_rfc3339(), "2016-12-01T00:00:00+00:00");
    }

    #[test]
    fn graph_colours_map_to_the_palette_by_name_and_by_hue() {
        let c = |name: Option<&str>, hex: Option<&str>| CalendarColor::from_graph(name, hex);
        assert_eq!(c(Some("lightBlue"), None), Some(CalendarColor::LightBlue));
        assert_eq!(c(Some("auto"), None), None);
        assert_eq!(c(None, Some("#a6d1f5")), Some(CalendarColor::LightBlue));
        assert_eq!(c(None, Some("#87d28e")), Some(CalendarColor::LightGreen));
        assert_eq!(c(None, Some("#fcab73")), Some(CalendarColor::Yellow));
        assert_eq!(c(None, Some("#f88c9b")), Some(CalendarColor::LightRed));
        assert_eq!(c(None, Some("#c0c0c0")), Some(CalendarColor::Gray));
        assert_eq!(
            c(Some("lightGreen"), Some("#zzz")),
            Some(CalendarColor::LightGreen)
        );
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
