//! The window a calendar view is synced over: rolling with the days, or fixed.

use chrono::{Duration, NaiveDate};

use crate::model::Window;

/// How many days a rolling window's anchor stays put: the window synced reaches this many days
/// further ahead than `future_days`, and moves (a full round) once in this many days instead
/// of daily.
pub const ROLL_DAYS: i64 = 28;

/// The longest range Graph's calendarView serves, in days.
pub const MAX_VIEW_DAYS: i64 = 1825;

/// The window a calendar view is synced over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowSpec {
    /// Moves with the days: at least today - past .. today + future (whole UTC days), anchored
    /// so that it moves every [`ROLL_DAYS`] days, not daily (see [`WindowSpec::on`]).
    Rolling {
        /// Days before today.
        past_days: u32,
        /// Days after today.
        future_days: u32,
    },
    /// The same window every day.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::parse;

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
        let w = c.sync.window.on("2026-11-24".parse().unwrap());
        assert_eq!(w.start.to_rfc3339(), "2026-11-18T00:00:00+00:00");
        assert_eq!(w.end.to_rfc3339(), "2026-12-19T00:00:00+00:00");
        // Every day it covers what the config asks, and it moves once in ROLL_DAYS days.
        let first: NaiveDate = "2026-10-01".parse().unwrap();
        let mut moves = 0;
        let mut last = None;
        for d in first.iter_days().take(112) {
            let w = c.sync.window.on(d);
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
        let w = c.sync.window.on("2026-11-24".parse().unwrap());
        assert_eq!(w.start.to_rfc3339(), "2016-12-01T00:00:00+00:00");
    }
}
