//! The delta rounds of each calendar view under way, to count rounds of one view that overlap:
//! Graph keeps only a view's newest few links valid, so two rounds of a view at once make each
//! other's links stale, and each fetches what the other fetches. A client that coordinates its
//! processes never overlaps them; `GET /sim/stats` says whether one did.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A round not continued for this long is taken as abandoned (a client that crashed or gave up
/// mid-round), not as one still under way.
const IDLE: Duration = Duration::from_secs(60);

/// Rounds under way by calendar, and how many began while another of their view was.
#[derive(Debug, Default)]
pub struct RoundWatch {
    next: u64,
    /// calendar -> round -> (the token generation it belongs to, when it was last continued).
    open: HashMap<String, HashMap<u64, (u64, Instant)>>,
    /// Rounds that began while another round of the same view was under way.
    pub overlapping: u64,
}

impl RoundWatch {
    /// A round of `calendar` begins (a first page, or a delta link followed); its id.
    /// `generation`: the state tokens' generation, since expiring them ends every round.
    pub fn begin(&mut self, calendar: &str, generation: u64) -> u64 {
        let now = Instant::now();
        let open = self.open.entry(calendar.to_owned()).or_default();
        open.retain(|_, (g, at)| *g == generation && now.duration_since(*at) < IDLE);
        if !open.is_empty() {
            self.overlapping += 1;
        }
        self.next += 1;
        open.insert(self.next, (generation, now));
        self.next
    }

    /// A round is continued by its next link.
    pub fn touch(&mut self, calendar: &str, round: u64) {
        if let Some((_, at)) = self.open.get_mut(calendar).and_then(|o| o.get_mut(&round)) {
            *at = Instant::now();
        }
    }

    /// A round reached its delta link.
    pub fn end(&mut self, calendar: &str, round: u64) {
        if let Some(open) = self.open.get_mut(calendar) {
            open.remove(&round);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_of_one_view_at_once_are_counted_and_others_are_not() {
        let mut watch = RoundWatch::default();
        let a = watch.begin("cal", 0);
        watch.touch("cal", a);
        let other = watch.begin("other", 0);
        assert_eq!(watch.overlapping, 0, "another view's round is no overlap");
        let b = watch.begin("cal", 0);
        assert_eq!(watch.overlapping, 1);
        watch.end("cal", a);
        watch.end("cal", b);
        watch.end("other", other);
        watch.begin("cal", 0);
        assert_eq!(watch.overlapping, 1, "one after the other is no overlap");
        // Expired state tokens end every round under way.
        watch.begin("cal", 1);
        assert_eq!(watch.overlapping, 1);
    }
}
