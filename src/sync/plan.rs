//! A round's decisions, apart from its I/O: from the view's saved state, the window the config
//! gives today and what this sync has done so far, how the next round starts and whether
//! another follows it. Pure; the engine carries the plan out.

use crate::model::Window;
use crate::store::SavedLink;

/// How a round starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Finish the round a crash or a failure interrupted, from its saved next link.
    Resume,
    /// An incremental round from the saved delta link.
    Incremental,
    /// An incremental round of the old window, which has moved: it brings every series the
    /// cache tracks current, so the full round of the new window after it keeps their masters.
    CatchUp,
    /// A full round of today's window.
    Full(Why),
}

/// Why a round is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// There is no saved link: the first sync, or the link was forgotten (a stalled round).
    NoLink,
    /// The window moved (a new day, or a new config). `keep_masters`: the round before it
    /// brought the old window current, so the cached masters of tracked series are the
    /// server's.
    WindowMoved { keep_masters: bool },
    /// The saved link is for another Graph host than the one configured now.
    ForeignHost,
}

/// What a round leaves to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// The view is current.
    Done,
    /// It finished an interrupted round: that completes the server's snapshot from when the
    /// round began, so an incremental round follows to make the cache current.
    Resumed,
    /// It brought the old window current: the full round of the new window follows.
    CaughtUp,
}

/// How the next round starts. `saved`: the view's saved window and link (None before its first
/// sync); `caught_up`: a round of this sync already brought the old window current; `ours`:
/// whether a link is for the configured Graph host.
pub fn start(
    saved: Option<(&Window, Option<&SavedLink>)>,
    window: &Window,
    caught_up: bool,
    ours: impl Fn(&str) -> bool,
) -> Start {
    let Some((saved_window, link)) = saved else {
        return Start::Full(Why::NoLink);
    };
    let url = match link {
        Some(SavedLink::Next(url) | SavedLink::Delta(url)) => Some(url.as_str()),
        None => None,
    };
    if url.is_some_and(|u| !ours(u)) {
        return Start::Full(Why::ForeignHost);
    }
    if saved_window != window {
        return match link {
            Some(SavedLink::Delta(_)) if !caught_up => Start::CatchUp,
            _ => Start::Full(Why::WindowMoved {
                keep_masters: caught_up,
            }),
        };
    }
    match link {
        Some(SavedLink::Next(_)) => Start::Resume,
        Some(SavedLink::Delta(_)) => Start::Incremental,
        None => Start::Full(Why::NoLink),
    }
}

/// What follows a round that started as `start`.
pub fn after(start: Start) -> After {
    match start {
        Start::CatchUp => After::CaughtUp,
        Start::Resume => After::Resumed,
        Start::Incremental | Start::Full(_) => After::Done,
    }
}

/// Whether another round follows, given what the last one left and the rounds run so far: a
/// resumed round is followed by an incremental one (at most three rounds in all), a catch-up by
/// the full round of the new window (once).
pub fn another(after: After, rounds: usize, caught_up: bool) -> bool {
    match after {
        After::Done => false,
        After::Resumed => rounds < 3,
        After::CaughtUp => !caught_up,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(day: u32) -> Window {
        let start = chrono::NaiveDate::from_ymd_opt(2026, 12, day)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
            .expect("a date");
        Window {
            start,
            end: start + chrono::Duration::days(30),
        }
    }

    #[test]
    fn how_a_round_starts() {
        let ours = "https://graph.microsoft.com/v1.0/me/calendarView/delta?x";
        let theirs = "https://graph.example.net/v1.0/me/calendarView/delta?x";
        let next = |u: &str| Some(SavedLink::Next(u.to_owned()));
        let delta = |u: &str| Some(SavedLink::Delta(u.to_owned()));
        let (today, before) = (window(4), window(1));
        let moved = |keep_masters| Start::Full(Why::WindowMoved { keep_masters });
        // (saved window and link, caught up in this sync) -> start
        type Saved = Option<(Window, Option<SavedLink>)>;
        let cases: Vec<(Saved, bool, Start)> = vec![
            (None, false, Start::Full(Why::NoLink)),
            (Some((today, None)), false, Start::Full(Why::NoLink)),
            (Some((today, next(ours))), false, Start::Resume),
            (Some((today, delta(ours))), false, Start::Incremental),
            (
                Some((today, delta(theirs))),
                false,
                Start::Full(Why::ForeignHost),
            ),
            (
                Some((today, next(theirs))),
                false,
                Start::Full(Why::ForeignHost),
            ),
            (Some((before, delta(ours))), false, Start::CatchUp),
            (Some((before, delta(ours))), true, moved(true)),
            (Some((before, next(ours))), false, moved(false)),
            (Some((before, None)), false, moved(false)),
            (Some((before, None)), true, moved(true)),
            // Another host first: the old window's link cannot be followed to catch up.
            (
                Some((before, delta(theirs))),
                false,
                Start::Full(Why::ForeignHost),
            ),
        ];
        for (saved, caught_up, want) in cases {
            let got = start(
                saved.as_ref().map(|(w, l)| (w, l.as_ref())),
                &today,
                caught_up,
                |u| u.starts_with("https://graph.microsoft.com/"),
            );
            assert_eq!(got, want, "{saved:?}, caught up {caught_up}");
        }
    }

    #[test]
    fn what_follows_a_round() {
        let cases = [
            (Start::Incremental, 1, false, After::Done, false),
            (Start::Full(Why::NoLink), 1, false, After::Done, false),
            (Start::Resume, 1, false, After::Resumed, true),
            (Start::Resume, 3, false, After::Resumed, false),
            (Start::CatchUp, 1, false, After::CaughtUp, true),
            (Start::CatchUp, 2, true, After::CaughtUp, false),
        ];
        for (s, rounds, caught_up, want_after, want_another) in cases {
            assert_eq!(after(s), want_after, "{s:?}");
            assert_eq!(another(after(s), rounds, caught_up), want_another, "{s:?}");
        }
    }
}
