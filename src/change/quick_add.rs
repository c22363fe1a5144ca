//! The quick-add grammar of `deltacal new`: `[DATE] (TIME[-TIME] [DURATION] | all day) SUBJECT
//! [@ LOCATION] [with ADDRESS...]`, as `tomorrow 10:00 1h Standup`, `fri 14:30-15:15 Design
//! review @ Room 4 with alex@contoso.com`, `2026-12-24 all day Holiday`. Pure: text in, parts
//! out; the command turns them into an event.

use chrono::{Duration, NaiveDate, NaiveTime};

/// What a quick-add line says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuickAdd {
    /// The day, when the line names one.
    pub day: Option<NaiveDate>,
    /// The start time.
    pub start: Option<NaiveTime>,
    /// The end time (`14:30-15:15`).
    pub end: Option<NaiveTime>,
    /// The length (`1h`, `45m`, `1h30m`).
    pub duration: Option<Duration>,
    /// `all day`.
    pub all_day: bool,
    /// The subject.
    pub subject: Option<String>,
    /// After ` @ `.
    pub location: Option<String>,
    /// After ` with `: the addresses.
    pub attendees: Vec<String>,
}

/// A time of day: `10:00`, `9:30`, `9am`, `2:30pm`, `14h`.
pub fn parse_time(text: &str) -> Option<NaiveTime> {
    let t = text.trim().to_ascii_lowercase();
    let (t, pm) = match (t.strip_suffix("am"), t.strip_suffix("pm")) {
        (Some(t), _) => (t.to_owned(), Some(false)),
        (_, Some(t)) => (t.to_owned(), Some(true)),
        _ => (t.clone(), None),
    };
    let (h, m) = match t.split_once(':') {
        Some((h, m)) => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?),
        None if pm.is_some() => (t.parse::<u32>().ok()?, 0),
        None => return None,
    };
    let h = match pm {
        Some(_) if !(1..=12).contains(&h) => return None,
        Some(true) if h != 12 => h + 12,
        Some(false) if h == 12 => 0,
        _ => h,
    };
    NaiveTime::from_hms_opt(h, m, 0)
}

/// A length: `1h`, `45m`, `1h30m`, `90m`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim().to_ascii_lowercase();
    if t.is_empty() {
        return None;
    }
    let mut total = Duration::zero();
    let mut number = String::new();
    let mut any = false;
    for c in t.chars() {
        match c {
            '0'..='9' => number.push(c),
            'h' | 'm' | 'd' if !number.is_empty() => {
                let n: i64 = number.parse().ok()?;
                total += match c {
                    'h' => Duration::hours(n),
                    'm' => Duration::minutes(n),
                    _ => Duration::days(n),
                };
                number.clear();
                any = true;
            }
            _ => return None,
        }
    }
    (any && number.is_empty() && total > Duration::zero()).then_some(total)
}

/// A shift for `edit --move`: `+30m`, `-1h`, `+1d`, `15m` (forward).
pub fn parse_shift(text: &str) -> Option<Duration> {
    let t = text.trim();
    match t.strip_prefix('-') {
        Some(rest) => parse_duration(rest).map(|d| -d),
        None => parse_duration(t.strip_prefix('+').unwrap_or(t)),
    }
}

/// Reads a quick-add line; the error says what it could not read.
pub fn parse(text: &str, today: NaiveDate) -> Result<QuickAdd, String> {
    let mut q = QuickAdd::default();
    let mut words: Vec<&str> = text.split_whitespace().collect();
    // The attendees: ` with ` followed only by addresses, at the end.
    if let Some(at) = words.iter().rposition(|w| w.eq_ignore_ascii_case("with"))
        && at + 1 < words.len()
        && words[at + 1..]
            .iter()
            .all(|w| w.contains('@') && w.len() > 2)
    {
        q.attendees = words[at + 1..]
            .iter()
            .map(|w| w.trim_end_matches(',').to_owned())
            .collect();
        words.truncate(at);
    }
    if let Some(at) = words.iter().position(|w| *w == "@") {
        let place = words[at + 1..].join(" ");
        if place.is_empty() {
            return Err("nothing after `@`: give the place".into());
        }
        q.location = Some(place);
        words.truncate(at);
    }
    let mut i = 0;
    if let Some(w) = words.first()
        && parse_time(w).is_none()
        && let Ok(day) = crate::days::parse_day(w, today)
    {
        q.day = Some(day);
        i = 1;
    }
    if words.get(i).is_some_and(|w| w.eq_ignore_ascii_case("all"))
        && words
            .get(i + 1)
            .is_some_and(|w| w.eq_ignore_ascii_case("day"))
    {
        q.all_day = true;
        i += 2;
    } else if let Some(w) = words.get(i) {
        let (a, b) = match w.split_once('-') {
            Some((a, b)) => (a, Some(b)),
            None => (*w, None),
        };
        if let Some(start) = parse_time(a) {
            q.start = Some(start);
            if let Some(b) = b {
                q.end = Some(parse_time(b).ok_or_else(|| format!("{b:?} is not a time"))?);
            }
            i += 1;
            if let Some(d) = words.get(i).and_then(|w| parse_duration(w)) {
                q.duration = Some(d);
                i += 1;
            }
        }
    }
    let subject = words[i..].join(" ");
    if !subject.is_empty() {
        q.subject = Some(subject);
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn time(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    #[test]
    fn the_forms_of_the_interface_read() {
        let today = day("2026-12-04"); // a Friday
        let q = parse("tomorrow 10:00 1h Standup", today).unwrap();
        assert_eq!(
            q,
            QuickAdd {
                day: Some(day("2026-12-05")),
                start: Some(time("10:00")),
                duration: Some(Duration::hours(1)),
                subject: Some("Standup".into()),
                ..QuickAdd::default()
            }
        );
        let q = parse(
            "fri 14:30-15:15 Design review @ Room 4 with alex@contoso.com",
            today,
        )
        .unwrap();
        // A weekday is the next such day, today included (as `agenda` reads it).
        assert_eq!(q.day, Some(day("2026-12-04")));
        assert_eq!((q.start, q.end), (Some(time("14:30")), Some(time("15:15"))));
        assert_eq!(q.subject.as_deref(), Some("Design review"));
        assert_eq!(q.location.as_deref(), Some("Room 4"));
        assert_eq!(q.attendees, ["alex@contoso.com"]);
        let q = parse("2026-12-24 all day Holiday", today).unwrap();
        assert!(q.all_day);
        assert_eq!(q.subject.as_deref(), Some("Holiday"));
        let q = parse("+2d 9am 45m Call with bob@contoso.com", today).unwrap();
        assert_eq!(q.day, Some(day("2026-12-06")));
        assert_eq!(q.start, Some(time("09:00")));
        assert_eq!(q.duration, Some(Duration::minutes(45)));
        assert_eq!(q.subject.as_deref(), Some("Call"));
        assert_eq!(q.attendees, ["bob@contoso.com"]);
        // `with` that is not followed by addresses is part of the subject.
        let q = parse("10:00 Lunch with the team", today).unwrap();
        assert_eq!(q.subject.as_deref(), Some("Lunch with the team"));
        assert!(parse("10:00 Demo @", today).is_err());
    }

    #[test]
    fn times_and_lengths() {
        assert_eq!(parse_time("9am"), Some(time("09:00")));
        assert_eq!(parse_time("12am"), Some(time("00:00")));
        assert_eq!(parse_time("12:30pm"), Some(time("12:30")));
        assert_eq!(parse_time("2:30pm"), Some(time("14:30")));
        assert_eq!(parse_time("25:00"), None);
        assert_eq!(parse_time("13pm"), None);
        assert_eq!(parse_duration("1h30m"), Some(Duration::minutes(90)));
        assert_eq!(parse_duration("0m"), None);
        assert_eq!(parse_duration("h"), None);
        assert_eq!(parse_shift("-15m"), Some(Duration::minutes(-15)));
        assert_eq!(parse_shift("+1d"), Some(Duration::days(1)));
    }
}
