//! The emulator's own reading of times and zones. It shares no code with the client's model, so
//! that the client is tested against an independent oracle.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// A calendar view's window, `[start, end)`, as the emulator tracks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The first instant.
    pub start: DateTime<Utc>,
    /// The instant after the last.
    pub end: DateTime<Utc>,
}

/// The CLDR mapping of Windows zone names to IANA names (the same data Graph uses).
const WINDOWS_ZONES: &str = include_str!("../../assets/windows-zones.csv");

/// A zone by any name Graph accepts: `UTC`, an IANA name, or a Windows name (any case).
pub fn zone(name: &str) -> Option<Tz> {
    let name = name.trim();
    if name.is_empty() || name.eq_ignore_ascii_case("utc") {
        return Some(Tz::UTC);
    }
    name.parse::<Tz>().ok().or_else(|| {
        WINDOWS_ZONES
            .lines()
            .filter_map(|line| line.split_once(','))
            .find(|(windows, _)| windows.eq_ignore_ascii_case(name))
            .and_then(|(_, iana)| iana.trim().parse().ok())
    })
}

/// The instant of a wall-clock time in a zone. In a fold the earlier instant counts; a time in a
/// gap is read with the offset in force before the gap (02:30 becomes 03:30 summer time).
pub fn instant(local: NaiveDateTime, zone: Tz) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        LocalResult::None => {
            let before = zone
                .from_local_datetime(&(local - Duration::hours(3)))
                .earliest()
                .map(|t| t.offset().fix())
                .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("zero offset"));
            (local - before).and_utc()
        }
    }
}

/// A wall-clock time as Graph writes it (`2016-12-09T20:30:00.0000000`), or a date.
pub fn wall_time(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .or_else(|| {
            DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|t| t.naive_utc())
        })
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
}

/// A query parameter's instant: RFC 3339, or a wall time taken as UTC.
pub fn query_instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| wall_time(text).map(|t| t.and_utc()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_by_every_name_and_gaps() {
        assert_eq!(zone("UTC"), Some(Tz::UTC));
        assert_eq!(zone("Europe/Berlin"), Some(Tz::Europe__Berlin));
        assert_eq!(
            zone("pacific standard time"),
            Some(Tz::America__Los_Angeles)
        );
        assert_eq!(zone("Nowhere Standard Time"), None);
        let gap = wall_time("2026-03-29T02:30:00").unwrap();
        assert_eq!(
            instant(gap, Tz::Europe__Berlin).to_rfc3339(),
            "2026-03-29T01:30:00+00:00"
        );
        let fold = wall_time("2026-10-25T02:30:00.0000000").unwrap();
        assert_eq!(
            instant(fold, Tz::Europe__Berlin).to_rfc3339(),
            "2026-10-25T00:30:00+00:00"
        );
    }
}
