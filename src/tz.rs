//! Time zones: names as Graph sends them (`UTC`, IANA or Windows names), and the zone times are
//! shown in.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, Duration, Local, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The zone times are shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayZone {
    /// The system's zone.
    Local,
    /// A named IANA zone.
    Named(Tz),
}

impl DisplayZone {
    /// The zone as a named IANA zone: the system's is `TZ` when that names one, else the
    /// system setting (`/etc/localtime`); None when neither names a zone deltacal knows.
    pub fn named(&self) -> Option<Tz> {
        match self {
            DisplayZone::Named(z) => Some(*z),
            DisplayZone::Local => {
                let from_env = std::env::var("TZ")
                    .ok()
                    .and_then(|v| v.trim_start_matches(':').parse::<Tz>().ok());
                from_env.or_else(|| iana_time_zone::get_timezone().ok()?.parse::<Tz>().ok())
            }
        }
    }

    /// The wall-clock time of an instant in this zone.
    pub fn local(&self, t: DateTime<Utc>) -> NaiveDateTime {
        match self {
            DisplayZone::Local => t.with_timezone(&Local).naive_local(),
            DisplayZone::Named(z) => t.with_timezone(z).naive_local(),
        }
    }

    /// The date of an instant in this zone.
    pub fn date_of(&self, t: DateTime<Utc>) -> NaiveDate {
        self.local(t).date()
    }

    /// The instant a day starts in this zone (where a clock change skips midnight, the first
    /// instant of the day).
    pub fn midnight(&self, d: NaiveDate) -> DateTime<Utc> {
        let local = d.and_hms_opt(0, 0, 0).expect("midnight exists");
        match self {
            DisplayZone::Local => first_instant_from(local, &Local),
            DisplayZone::Named(z) => local_to_utc(local, *z),
        }
    }

    /// The instant a wall-clock time names in this zone: in a gap (spring forward) the end of
    /// the gap, in a fold the earlier one.
    pub fn instant(&self, local: NaiveDateTime) -> DateTime<Utc> {
        match self {
            DisplayZone::Local => first_instant_from(local, &Local),
            DisplayZone::Named(z) => local_to_utc(local, *z),
        }
    }

    /// `[midnight(first), midnight(last + 1))`: the instants of a run of days.
    pub fn days_range(&self, first: NaiveDate, last: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            self.midnight(first),
            self.midnight(last + Duration::days(1)),
        )
    }
}

/// The CLDR table that maps Windows zone names to IANA zones.
const WINDOWS_ZONES: &str = include_str!("../assets/windows-zones.csv");

fn windows_table() -> &'static HashMap<String, Tz> {
    static TABLE: OnceLock<HashMap<String, Tz>> = OnceLock::new();
    TABLE.get_or_init(|| {
        WINDOWS_ZONES
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .filter_map(|line| {
                let (windows, iana) = line.split_once(',')?;
                Some((
                    windows.to_ascii_lowercase(),
                    iana.trim().parse::<Tz>().ok()?,
                ))
            })
            .collect()
    })
}

/// Resolves a zone name (UTC, IANA or Windows, case-insensitive for Windows) to a zone.
pub fn resolve(name: &str) -> Option<Tz> {
    let name = name.trim();
    if name.is_empty() || name.eq_ignore_ascii_case("utc") || name.eq_ignore_ascii_case("z") {
        return Some(Tz::UTC);
    }
    if let Ok(tz) = name.parse::<Tz>() {
        return Some(tz);
    }
    windows_table().get(&name.to_ascii_lowercase()).copied()
}

/// Interprets a wall-clock time in a zone. Gaps (spring forward) move to the first valid
/// instant after the gap; folds (fall back) take the earlier instant, as Outlook does.
pub fn local_to_utc(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    first_instant_from(local, &tz)
}

/// The first instant at or after the wall-clock time `local` in `tz`: the earlier of two when
/// the clock went back, the end of the gap when it went forward.
fn first_instant_from<Z: TimeZone>(local: NaiveDateTime, tz: &Z) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(early, _) => early.with_timezone(&Utc),
        LocalResult::None => {
            // Inside a DST gap: step forward a minute at a time (gaps are at most a few hours).
            let mut probe = local;
            for _ in 0..(24 * 60) {
                probe += chrono::Duration::minutes(1);
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    return t.with_timezone(&Utc);
                }
            }
            Utc.from_utc_datetime(&local)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_windows_zone_in_the_table_resolves() {
        let lines = WINDOWS_ZONES
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .count();
        assert_eq!(
            windows_table().len(),
            lines,
            "an IANA name in the table is unknown to chrono-tz"
        );
    }

    #[test]
    fn resolves_utc_iana_and_windows_names() {
        assert_eq!(resolve("UTC"), Some(Tz::UTC));
        assert_eq!(resolve("Europe/Berlin"), Some(Tz::Europe__Berlin));
        assert_eq!(
            resolve("Pacific Standard Time"),
            Some(Tz::America__Los_Angeles)
        );
        assert_eq!(
            resolve("pacific standard time"),
            Some(Tz::America__Los_Angeles)
        );
        assert_eq!(resolve("W. Europe Standard Time"), Some(Tz::Europe__Berlin));
        assert_eq!(resolve("Tokyo Standard Time"), Some(Tz::Asia__Tokyo));
        assert_eq!(resolve("Not A Zone"), None);
    }

    #[test]
    fn gaps_and_folds_are_resolved_deterministically() {
        let tz = Tz::Europe__Berlin;
        let gap = "2026-03-29T02:30:00".parse::<NaiveDateTime>().unwrap();
        assert_eq!(
            local_to_utc(gap, tz).to_rfc3339(),
            "2026-03-29T01:00:00+00:00"
        );
        let fold = "2026-10-25T02:30:00".parse::<NaiveDateTime>().unwrap();
        assert_eq!(
            local_to_utc(fold, tz).to_rfc3339(),
            "2026-10-25T00:30:00+00:00"
        );
    }
}
