//! The four views and the order `Tab` cycles through them.

/// A view of the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewKind {
    /// Six weeks of days.
    Month,
    /// Seven days on an hour grid.
    Week,
    /// One day on an hour grid.
    Day,
    /// A list of days and their events.
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

    /// The view a name stands for (`[ui] view`, checked by the config against
    /// [`crate::config::VIEW_NAMES`]); the month for any other.
    pub fn from_name(name: &str) -> ViewKind {
        ViewKind::ALL
            .into_iter()
            .find(|v| v.name() == name)
            .unwrap_or(ViewKind::Month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_the_config_accepts_is_a_view() {
        let names: Vec<&str> = ViewKind::ALL.into_iter().map(ViewKind::name).collect();
        assert_eq!(names, crate::config::VIEW_NAMES);
        for view in ViewKind::ALL {
            assert_eq!(ViewKind::from_name(view.name()), view);
        }
        assert_eq!(ViewKind::Agenda.next(), ViewKind::Month);
    }
}
